/* test_rng.c - PCG32 against its published reference output, jump-ahead, bounded integers,
   uniforms and normals (documented properties exactly, distributions statistically).

   References, never outputs of this library:
   - check-pcg32.out (imneme/pcg-c, test-high/expected/): the published output of the reference
     check program for pcg32 seeded with (42, 54), five rounds. Its rounds are also the output of
     pcg-c-basic's pcg32-demo.c (same calls; check-pcg32 additionally re-draws the six numbers
     after pcg32_advance_r(rng, -6), the "Again" line, which leaves the state where it was).
     Each round: 6 x pcg32_random_r, ("Again": advance -6, 6 more), 65 coins pcg32_boundedrand_r(2)
     ('H' for 1), 33 dice pcg32_boundedrand_r(6) + 1, then a Fisher-Yates deal of 52 cards with
     pcg32_boundedrand_r(i) for i = 52..2.
   - a transcription of pcg-c-basic's algorithms written here (ref_*), used for the rejection
     threshold of bounded() and for jump-ahead by repeated squaring of the affine map.
   - moments and CDFs of U[0,1) and N(0,1) (libm erfc in double), with standard errors derived
     below; the C++ test (test_cpp.cpp) compares 10^6 outputs with pcg-cpp's pcg32. */
#include "test.h"
#include <stdlib.h>

/* ---- reference transcriptions (pcg-c-basic, written from its description) ------------------- */
typedef struct { uint64_t state, inc; } ref_rng;
static uint32_t ref_u32(ref_rng *r)
{
    uint64_t old = r->state;
    uint32_t xs = (uint32_t)(((old >> 18) ^ old) >> 27), rot = (uint32_t)(old >> 59);
    r->state = old * 6364136223846793005ULL + r->inc;
    return rot ? (xs >> rot) | (xs << (32 - rot)) : xs;
}
static void ref_seed(ref_rng *r, uint64_t initstate, uint64_t initseq)
{
    r->state = 0;
    r->inc = (initseq << 1) | 1;
    ref_u32(r);
    r->state += initstate;
    ref_u32(r);
}
/* threshold = 2^32 mod bound computed in 64 bits (the "naive" form of pcg32_boundedrand_r) */
static uint32_t ref_bounded(ref_rng *r, uint32_t bound)
{
    uint32_t threshold = (uint32_t)(((uint64_t)1 << 32) % bound), v;
    do v = ref_u32(r); while (v < threshold);
    return v % bound;
}
/* delta steps of s -> a s + c: the affine map raised to the power delta by squaring, bit by bit
   from the top (a different order from the library's Brown loop). */
static uint64_t ref_jump(uint64_t state, uint64_t inc, uint64_t delta)
{
    uint64_t A = 1, C = 0;  /* accumulated map s -> A s + C */
    int bit;
    for (bit = 63; bit >= 0; bit--) {
        C = A * C + C;       /* square: (A, C) o (A, C) = (A^2, A C + C) */
        A = A * A;
        if ((delta >> bit) & 1u) {  /* then one more step after: (M A, M C + inc) */
            A = 6364136223846793005ULL * A;
            C = 6364136223846793005ULL * C + inc;
        }
    }
    return A * state + C;
}

static int same_rng(const ncsn_rng *a, const ncsn_rng *b) { return a->state == b->state && a->inc == b->inc; }

/* ---- the published reference output ---------------------------------------------------------- */
static const struct {
    uint32_t u32[6];
    const char *coins, *rolls, *cards;
} pcg32_rounds[5] = {
    { { 0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e },
      "HHTTTHTHHHTHTTTHHHHHTTTHHHTHTHTHTTHTTTHHHHHHTTTTHHTTTTTHTTTTTTTHT",
      "3 4 1 1 2 2 3 2 4 3 2 4 3 3 5 2 3 1 3 1 5 1 4 1 5 6 4 6 6 2 6 3 3",
      "Qd Ks 6d 3s 3d 4c 3h Td Kc 5c Jh Kd Jd As 4s 4h Ad Th Ac Jc 7s Qs "
      "2s 7h Kh 2d 6c Ah 4d Qh 9h 6s 5s 2c 9c Ts 8d 9s 3c 8c Js 5d 2h 6h "
      "7d 8s 9d 5h 8h Qc 7c Tc" },
    { { 0x74ab93ad, 0x1c1da000, 0x494ff896, 0x34462f2f, 0xd308a3e5, 0x0fa83bab },
      "HHHHHHHHHHTHHHTHTHTHTHTTTTHHTTTHHTHHTHTTHHTTTHHHHHHTHTTHTHTTTTTTT",
      "5 1 1 3 3 2 4 5 3 2 2 6 4 3 2 4 2 4 3 2 3 6 3 2 3 4 2 4 1 1 5 4 4",
      "7d 2s 7h Td 8s 3c 3d Js 2d Tc 4h Qs 5c 9c Th 2c Jc Qd 9d Qc 7s 3s "
      "5s 6h 4d Jh 4c Ac 4s 5h 5d Kc 8h 8d Jd 9s Ad 6s 6c Kd 2h 3h Kh Ts "
      "Qh 9h 6d As 7c Ks Ah 8c" },
    { { 0x39af5f9f, 0x04196b18, 0xc3c3eb28, 0xc076c60c, 0xc693e135, 0xf8f63932 },
      "HTTHHTTTTTHTTHHHTHTTHHTTHTHHTHTHTTTTHHTTTHHTHHTTHTTHHHTHHHTHTTTHT",
      "5 1 5 3 2 2 4 5 3 3 1 3 4 6 3 2 3 4 2 2 3 1 5 2 4 6 6 4 2 4 3 3 6",
      "Kd Jh Kc Qh 4d Qc 4h 9d 3c Kh Qs 8h 5c Jd 7d 8d 3h 7c 8s 3s 2h Ks "
      "9c 9h 2c 8c Ad 7s 4s 2s 5h 6s 4c Ah 7h 5s Ac 3d 5d Qd As Tc 6h 9s "
      "2d 6c 6d Td Jc Ts Th Js" },
    { { 0x55ce6851, 0x97a7726d, 0x17e10815, 0x58007d43, 0x962fb148, 0xb9bb55bd },
      "HHTHHTTTTHTHHHHHTTHHHTTTHHTHTHTHTHHTTHTHHHHHHTHHTHHTHHTTTTHHTHHTT",
      "6 6 3 2 3 4 2 6 4 2 6 3 2 3 5 5 3 4 4 6 6 2 6 5 4 4 6 1 6 1 3 6 5",
      "Qd 8h 5d 8s 8d Ts 7h Th Qs Js 7s Kc 6h 5s 4d Ac Jd 7d 7c Td 2c 6s "
      "5h 6d 3s Kd 9s Jh Kh As Ah 9h 3c Qh 9c 2d Tc 9d 2s 3d Ks 4h Qc Ad "
      "Jc 8c 2h 3h 4s 4c 5c 6c" },
    { { 0xfcef7cd6, 0x1b488b5a, 0xd0daf7ea, 0x1d9a70f7, 0x241a37cf, 0x9a3857b7 },
      "HHHHTHHTTHTTHHHTTTHHTHTHTTTTHTTHTHTTTHHHTHTHTTHTTHTHHTHTHHHTHTHTT",
      "5 4 1 2 6 1 3 1 5 6 3 6 2 1 4 4 5 2 1 5 6 5 6 4 4 4 5 2 6 4 3 5 6",
      "4d 9s Qc 9h As Qs 7s 4c Kd 6h 6s 2c 8c 5d 7h 5h Jc 3s 7c Jh Js Ks "
      "Tc Jd Kc Th 3h Ts Qh Ad Td 3c Ah 2d 3d 5c Ac 8s 5s 9c 2h 6c 6d Kh "
      "Qd 8d 7d 2s 8h 4h 9d 4s" },
};

static void check_published_vector(void)
{
    static const char number[] = "A23456789TJQK", suit[] = "hcds";
    ncsn_rng rng;
    int round, i;
    ncsn_rng_seed(&rng, 42u, 54u);
    for (round = 0; round < 5; round++) {
        char coins[66], rolls[128], cards[160];
        char deck[52];
        int pos = 0, bad = -1;
        ncsn_rng before = rng;
        for (i = 0; i < 6; i++) {
            uint32_t v = ncsn_rng_u32(&rng);
            if (v != pcg32_rounds[round].u32[i] && bad < 0) bad = i;
        }
        CHECK(bad < 0, "pcg32(42, 54) round %d 32bit: output %d differs from check-pcg32.out", round + 1, bad);
        /* "Again": advance by -6 (2^64 - 6) goes back to the start of the round */
        ncsn_rng_advance(&rng, (uint64_t)0 - 6u);
        CHECK(same_rng(&rng, &before), "round %d: advance(-6) does not return to the round's start", round + 1);
        for (i = 0, bad = -1; i < 6; i++)
            if (ncsn_rng_u32(&rng) != pcg32_rounds[round].u32[i] && bad < 0) bad = i;
        CHECK(bad < 0, "round %d Again: output %d after advance(-6) differs", round + 1, bad);
        for (i = 0; i < 65; i++) coins[i] = ncsn_rng_bounded(&rng, 2) ? 'H' : 'T';
        coins[65] = '\0';
        CHECK(strcmp(coins, pcg32_rounds[round].coins) == 0, "round %d coins:\n  got  %s\n  want %s",
              round + 1, coins, pcg32_rounds[round].coins);
        for (i = 0; i < 33; i++)
            pos += sprintf(rolls + pos, i ? " %d" : "%d", (int)ncsn_rng_bounded(&rng, 6) + 1);
        CHECK(strcmp(rolls, pcg32_rounds[round].rolls) == 0, "round %d rolls:\n  got  %s\n  want %s",
              round + 1, rolls, pcg32_rounds[round].rolls);
        for (i = 0; i < 52; i++) deck[i] = (char)i;
        for (i = 52; i > 1; i--) {
            int chosen = (int)ncsn_rng_bounded(&rng, (uint32_t)i);
            char c = deck[chosen];
            deck[chosen] = deck[i - 1];
            deck[i - 1] = c;
        }
        for (i = 0, pos = 0; i < 52; i++)
            pos += sprintf(cards + pos, i ? " %c%c" : "%c%c", number[deck[i] / 4], suit[deck[i] % 4]);
        CHECK(strcmp(cards, pcg32_rounds[round].cards) == 0, "round %d cards:\n  got  %s\n  want %s",
              round + 1, cards, pcg32_rounds[round].cards);
    }
}

/* seeding and raw outputs against the transcription, several (seed, stream) pairs */
static void check_against_transcription(void)
{
    static const uint64_t seeds[][2] = {
        { 42u, 54u }, { 0u, 0u }, { ~0ULL, ~0ULL }, { 0x853c49e6748fea9bULL, 0xda3e39cb94b95bdbULL },
        { 1u, 1ULL << 63 }, { 0xdeadbeefULL, 0x0123456789abcdefULL } };
    size_t k;
    int i, n = t_quick ? 1000 : 100000;
    for (k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        ncsn_rng r;
        ref_rng q;
        int bad = -1;
        ncsn_rng_seed(&r, seeds[k][0], seeds[k][1]);
        ref_seed(&q, seeds[k][0], seeds[k][1]);
        CHECK(r.state == q.state && r.inc == q.inc, "seed (%llx, %llx): state after seeding differs",
              (unsigned long long)seeds[k][0], (unsigned long long)seeds[k][1]);
        for (i = 0; i < n; i++)
            if (ncsn_rng_u32(&r) != ref_u32(&q) && bad < 0) bad = i;
        CHECK(bad < 0, "seed (%llx, %llx): output %d differs from the transcription",
              (unsigned long long)seeds[k][0], (unsigned long long)seeds[k][1], bad);
    }
    {   /* different streams of one seed give different sequences */
        ncsn_rng a, b;
        int same = 0;
        ncsn_rng_seed(&a, 42u, 54u);
        ncsn_rng_seed(&b, 42u, 55u);
        for (i = 0; i < 64; i++) same += ncsn_rng_u32(&a) == ncsn_rng_u32(&b);
        CHECK(same < 4, "streams 54 and 55 agree on %d of 64 outputs", same);
    }
}

static void check_advance(void)
{
    static const uint64_t small[] = { 0, 1, 2, 3, 6, 7, 64, 1000, 12345 };
    static const uint64_t big[] = { 1ULL << 40, (1ULL << 40) + 12345, 1ULL << 63, (1ULL << 63) + 5,
                                    0x123456789abcdef1ULL, ~0ULL, 0ULL - 6 };
    size_t k;
    uint64_t i;
    ncsn_rng start;
    ncsn_rng_seed(&start, 42u, 54u);
    for (k = 0; k < sizeof small / sizeof small[0]; k++) {
        ncsn_rng a = start, b = start;
        ncsn_rng_advance(&a, small[k]);
        for (i = 0; i < small[k]; i++) ncsn_rng_u32(&b);
        CHECK(same_rng(&a, &b), "advance(%llu) differs from %llu discarded outputs",
              (unsigned long long)small[k], (unsigned long long)small[k]);
        CHECK(ncsn_rng_u32(&a) == ncsn_rng_u32(&b), "advance(%llu): next output differs", (unsigned long long)small[k]);
    }
    {   /* a long walk: 2^20 (quick) or 2^24 + 3 outputs discarded one by one */
        uint64_t d = t_quick ? (1u << 20) : (1u << 24) + 3u;
        ncsn_rng a = start, b = start;
        ncsn_rng_advance(&a, d);
        for (i = 0; i < d; i++) ncsn_rng_u32(&b);
        CHECK(same_rng(&a, &b), "advance(%llu) differs from discarding one by one", (unsigned long long)d);
    }
    for (k = 0; k < sizeof big / sizeof big[0]; k++) {
        ncsn_rng a = start, c;
        uint64_t want = ref_jump(start.state, start.inc, big[k]);
        ncsn_rng_advance(&a, big[k]);
        CHECK(a.state == want && a.inc == start.inc, "advance(0x%llx): state %016llx, reference jump %016llx",
              (unsigned long long)big[k], (unsigned long long)a.state, (unsigned long long)want);
        /* inverse: advancing by 2^64 - delta more comes back */
        c = a;
        ncsn_rng_advance(&c, (uint64_t)0 - big[k]);
        CHECK(same_rng(&c, &start), "advance(0x%llx) then advance(-0x%llx) is not the identity",
              (unsigned long long)big[k], (unsigned long long)big[k]);
    }
    {   /* the reference jump itself agrees with stepping (so it can be trusted above) */
        ncsn_rng b = start;
        for (i = 0; i < 1000; i++) ncsn_rng_u32(&b);
        CHECK(ref_jump(start.state, start.inc, 1000) == b.state, "test's reference jump disagrees with stepping");
    }
    {   /* composition: advance(a) advance(b) = advance(a + b) */
        ncsn_rng a = start, b = start;
        ncsn_rng_advance(&a, 0x8000000000000123ULL);
        ncsn_rng_advance(&a, 0x7ffffffffffff000ULL);
        ncsn_rng_advance(&b, 0x8000000000000123ULL + 0x7ffffffffffff000ULL);
        CHECK(same_rng(&a, &b), "advance(a) then advance(b) differs from advance(a + b)");
    }
}

/* A state whose next output is exactly `out` (rotation 0): solve out = bits 27..58 of s ^ (s >> 18)
   from the top down, bits 59..63 = 0. The low 27 bits are free: `low`. */
static uint64_t state_for_output(uint32_t out, uint64_t low)
{
    uint64_t s = low & ((1ULL << 27) - 1);
    int j;
    for (j = 58; j >= 27; j--) {
        uint64_t bit = ((uint64_t)out >> (j - 27)) & 1u;
        if (j + 18 <= 58) bit ^= (s >> (j + 18)) & 1u;
        s |= bit << j;
    }
    return s;
}
/* an rng whose next two outputs are a then b */
static ncsn_rng rng_with_outputs(uint32_t a, uint32_t b)
{
    ncsn_rng r;
    uint64_t s1 = state_for_output(a, 0x1234567u), s2 = state_for_output(b, 0x0abcdefu);
    if (!((s2 - s1 * 6364136223846793005ULL) & 1u)) s2 ^= 1u;  /* keep the increment odd */
    r.state = s1;
    r.inc = s2 - s1 * 6364136223846793005ULL;
    return r;
}

static void check_bounded(void)
{
    static const uint32_t bounds[] = { 1, 2, 3, 6, 7, 52, 100, 1000003, 0x7fffffffu, 0x80000000u,
                                       0x80000001u, 0xaaaaaaabu, 0xfffffffeu, 0xffffffffu };
    size_t k;
    int i, n = t_quick ? 2000 : 100000;
    for (k = 0; k < sizeof bounds / sizeof bounds[0]; k++) {
        ncsn_rng r;
        ref_rng q;
        int out = -1, bad = -1;
        ncsn_rng_seed(&r, 7u + k, 11u);
        ref_seed(&q, 7u + k, 11u);
        for (i = 0; i < n; i++) {
            uint32_t v = ncsn_rng_bounded(&r, bounds[k]), w = ref_bounded(&q, bounds[k]);
            if (v >= bounds[k] && out < 0) out = i;
            if (v != w && bad < 0) bad = i;
        }
        CHECK(out < 0, "bounded(%u): draw %d is out of range", bounds[k], out);
        CHECK(bad < 0, "bounded(%u): draw %d differs from the reference rejection", bounds[k], bad);
        /* same number of rejected outputs: the states agree */
        CHECK(r.state == q.state, "bounded(%u): %d draws consumed a different number of outputs", bounds[k], n);
    }
    {   /* the threshold exactly (crafted outputs): 2^32 mod bound is accepted, one less is rejected */
        static const uint32_t tb[] = { 3, 6, 7, 1000003u, 0x80000001u, 0xc0000001u };
        for (k = 0; k < sizeof tb / sizeof tb[0]; k++) {
            uint32_t thr = (uint32_t)(((uint64_t)1 << 32) % tb[k]), next = 0x9e3779b9u, v;
            ncsn_rng r = rng_with_outputs(thr, next), c = r;
            v = ncsn_rng_bounded(&r, tb[k]);
            ncsn_rng_u32(&c);
            CHECK(v == thr % tb[k] && same_rng(&r, &c), "bounded(%u): output %u = 2^32 mod bound must be accepted (got %u)", tb[k], thr, v);
            r = rng_with_outputs(thr - 1, next);
            c = r;
            v = ncsn_rng_bounded(&r, tb[k]);
            ncsn_rng_u32(&c);
            ncsn_rng_u32(&c);
            CHECK(v == next % tb[k] && same_rng(&r, &c), "bounded(%u): output %u < 2^32 mod bound must be rejected (got %u)", tb[k], thr - 1, v);
        }
    }
    {   /* 2^31 + 1 rejects almost half of all outputs: count them against the binomial (p = (2^31 - 1)/2^32) */
        ncsn_rng r, c;
        uint64_t used = 0, draws = t_quick ? 20000 : 200000;
        double p = 2147483647.0 / 4294967296.0, mean, sd;
        ncsn_rng_seed(&r, 3u, 4u);
        c = r;
        for (i = 0; i < (int)draws; i++) ncsn_rng_bounded(&r, 0x80000001u);
        while (!same_rng(&c, &r) && used < 4 * draws) { ncsn_rng_u32(&c); used++; }
        /* rejections ~ NegBin: mean draws p/(1-p), variance draws p/(1-p)^2 */
        mean = (double)draws * p / (1 - p);
        sd = sqrt((double)draws * p / ((1 - p) * (1 - p)));
        CHECK(fabs((double)(used - draws) - mean) < 5 * sd, "bounded(2^31+1): %llu rejections in %llu draws, expected %.0f +- %.0f",
              (unsigned long long)(used - draws), (unsigned long long)draws, mean, sd);
    }
    if (!t_quick) {  /* chi-square of 7 faces (6 degrees of freedom; 0.999 quantile 22.46) */
        ncsn_rng r;
        long cnt[7] = { 0 };
        int n7 = 700000, f;
        double chi = 0, e = n7 / 7.0;
        ncsn_rng_seed(&r, 2019u, 3u);
        for (i = 0; i < n7; i++) cnt[ncsn_rng_bounded(&r, 7)]++;
        for (f = 0; f < 7; f++) chi += (cnt[f] - e) * (cnt[f] - e) / e;
        CHECK(chi < 22.46, "bounded(7): chi-square %.2f over 7 faces >= 22.46 (alpha 0.001)", chi);
    }
}

/* ---- distributions ----------------------------------------------------------------------------
   For i.i.d. draws with central moments mu2..mu8 of a symmetric law (mu3 = mu5 = 0), the delta
   method gives the large-n standard errors
     mean:     sqrt(mu2 / n)
     variance: sqrt((mu4 - mu2^2) / n)
     skewness  m3/m2^1.5:  Var = (mu6 - 6 mu4 mu2 + 9 mu2^3) / (mu2^3 n)
     kurtosis  m4/m2^2:    Var = [(mu8 - mu4^2) - 4 (mu4/mu2)(mu6 - mu2 mu4) + 4 (mu4/mu2)^2 (mu4 - mu2^2)] / (mu2^4 n)
   N(0,1): mu = 1, 3, 15, 105 gives the familiar sqrt(6/n) and sqrt(24/n).
   U[0,1): mu_2k = 2^-2k / (2k+1): 1/12, 1/80, 1/448, 1/2304 (skew SE sqrt(2.06/n), kurt sqrt(1.32/n)).
   The 24-bit grid shifts the uniform's mean by 2^-25 and its variance by 2^-48/12: far below the
   errors. Every statistic must be within 5 standard errors. */
typedef struct { double mean, var, skew, kurt; } moments;

static moments sample_moments(const double *x, size_t n)
{
    moments m;
    double s = 0, m2 = 0, m3 = 0, m4 = 0;
    size_t i;
    for (i = 0; i < n; i++) s += x[i];
    m.mean = s / (double)n;
    for (i = 0; i < n; i++) {
        double d = x[i] - m.mean, d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= (double)n;
    m3 /= (double)n;
    m4 /= (double)n;
    m.var = m2;
    m.skew = m3 / (m2 * sqrt(m2));
    m.kurt = m4 / (m2 * m2) - 3.0;
    return m;
}

static void check_moments(const char *what, const double *x, size_t n, double mean, double mu2,
                          double mu4, double mu6, double mu8)
{
    moments m = sample_moments(x, n);
    double dn = (double)n, k = mu4 / mu2;
    double se_mean = sqrt(mu2 / dn), se_var = sqrt((mu4 - mu2 * mu2) / dn);
    double se_skew = sqrt((mu6 - 6 * mu4 * mu2 + 9 * mu2 * mu2 * mu2) / (mu2 * mu2 * mu2 * dn));
    double se_kurt = sqrt(((mu8 - mu4 * mu4) - 4 * k * (mu6 - mu2 * mu4) + 4 * k * k * (mu4 - mu2 * mu2)) / (mu2 * mu2 * mu2 * mu2 * dn));
    double kurt = mu4 / (mu2 * mu2) - 3.0;
    CHECK(fabs(m.mean - mean) < 5 * se_mean, "%s: mean %.6f, expected %.6f (5 SE = %.2g)", what, m.mean, mean, 5 * se_mean);
    CHECK(fabs(m.var - mu2) < 5 * se_var, "%s: variance %.6f, expected %.6f (5 SE = %.2g)", what, m.var, mu2, 5 * se_var);
    CHECK(fabs(m.skew) < 5 * se_skew, "%s: skewness %.5f, expected 0 (5 SE = %.2g)", what, m.skew, 5 * se_skew);
    CHECK(fabs(m.kurt - kurt) < 5 * se_kurt, "%s: excess kurtosis %.5f, expected %.4f (5 SE = %.2g)", what, m.kurt, kurt, 5 * se_kurt);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Kolmogorov-Smirnov distance of the sample (sorted here) from a continuous CDF */
static double ks_distance(double *x, size_t n, double (*cdf)(double))
{
    size_t i;
    double d = 0;
    qsort(x, n, sizeof *x, cmp_double);
    for (i = 0; i < n; i++) {
        double f = cdf(x[i]);
        double lo = f - (double)i / (double)n, hi = (double)(i + 1) / (double)n - f;
        if (lo > d) d = lo;
        if (hi > d) d = hi;
    }
    return d;
}
static double cdf_uniform(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }
static double cdf_normal(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

static void check_uniform(void)
{
    size_t n = t_quick ? (1u << 17) : 1000000u, i;
    double *x = (double *)malloc(n * sizeof *x);
    ncsn_rng r, c;
    int bad_grid = -1, bad_formula = -1;
    if (!x) { CHECK(0, "out of memory"); return; }
    ncsn_rng_seed(&r, 12345u, 678u);
    c = r;
    for (i = 0; i < n; i++) {
        float u = ncsn_rng_uniform(&r);
        uint32_t top = ncsn_rng_u32(&c) >> 8;
        double g = (double)u * 16777216.0;
        if (!(u >= 0.0f && u < 1.0f && g == floor(g)) && bad_grid < 0) bad_grid = (int)i;
        if (g != (double)top && bad_formula < 0) bad_formula = (int)i;
        x[i] = u;
    }
    CHECK(bad_grid < 0, "uniform %d is not a multiple of 2^-24 in [0, 1)", bad_grid);
    CHECK(bad_formula < 0, "uniform %d is not (top 24 bits of the output) * 2^-24", bad_formula);
    CHECK(same_rng(&r, &c), "n uniforms did not consume exactly n outputs");
    check_moments("uniform", x, n, 0.5, 1.0 / 12, 1.0 / 80, 1.0 / 448, 1.0 / 2304);
    {
        double d = ks_distance(x, n, cdf_uniform), crit = 1.95 / sqrt((double)n);
        CHECK(d < crit, "uniform: Kolmogorov-Smirnov D = %.3g >= %.3g (alpha 0.001, n = %lu)", d, crit, (unsigned long)n);
        CHECK(x[0] >= 0.0 && x[n - 1] < 1.0, "uniform: sample range [%g, %g]", x[0], x[n - 1]);
    }
    free(x);
}

static double ulp_of_float(double r)
{
    int e;
    r = fabs(r);
    if (r < 0x1p-126) return 0x1p-149;
    frexp(r, &e);
    return ldexp(1.0, e - 24);
}

static void check_normals(void)
{
    size_t n = t_quick ? (1u << 17) : 1000000u, i;
    float *z = (float *)malloc(n * sizeof *z);
    double *x = (double *)malloc(n * sizeof *x), zmax = 0, worst = 0;
    ncsn_rng r, c;
    int bad = -1;
    if (!z || !x) { free(z); free(x); CHECK(0, "out of memory"); return; }
    {   /* the crafted-state helper works */
        ncsn_rng t = rng_with_outputs(0xdeadbeefu, 0x01234567u);
        uint32_t a = ncsn_rng_u32(&t), b = ncsn_rng_u32(&t);
        CHECK(a == 0xdeadbeefu && b == 0x01234567u, "crafted state gives %08x %08x", a, b);
    }
    ncsn_rng_seed(&r, 2024u, 9u);
    c = r;
    ncsn_rng_normals(&r, z, n);
    ncsn_rng_advance(&c, 2 * ((n + 1) / 2));
    CHECK(same_rng(&r, &c), "%lu normals did not consume 2 ceil(n/2) outputs", (unsigned long)n);
    ncsn_rng_seed(&c, 2024u, 9u);
    for (i = 0; i < n; i++) {
        double a = fabs((double)z[i]);
        if (!(a <= 5.7686) && bad < 0) bad = (int)i;  /* also catches NaN and inf */
        if (a > zmax) zmax = a;
        x[i] = z[i];
        if (i % 2 == 0) {
            /* Box-Muller in double from the same two outputs: z = sqrt(-2 ln u1) (cos, sin)(2 pi u2) */
            uint32_t oa = ncsn_rng_u32(&c), ob = ncsn_rng_u32(&c);
            double u1 = 1.0 - (double)(oa >> 8) * 0x1p-24, u2 = (double)(ob >> 8) * 0x1p-24;
            double rad = sqrt(-2.0 * log(u1)), ang = 6.283185307179586 * u2;
            double e0 = fabs(z[i] - rad * cos(ang)) / ulp_of_float(rad);
            double e1 = i + 1 < n ? fabs(z[i + 1] - rad * sin(ang)) / ulp_of_float(rad) : 0;
            if (e0 > worst) worst = e0;
            if (e1 > worst) worst = e1;
        }
    }
    CHECK(bad < 0, "normal %d = %g is not finite with |z| <= 5.7686", bad, bad < 0 ? 0.0 : (double)z[bad]);
    /* each normal is Box-Muller of its own two outputs, to a few ulps of the radius */
    CHECK(worst <= 3.0, "normals: max error %.2f ulp(r) against Box-Muller in double from the same outputs", worst);
    printf("    normals: max |z| %.4f in %lu draws, max error vs double Box-Muller %.2f ulp(r)\n", zmax, (unsigned long)n, worst);
    check_moments("normal", x, n, 0.0, 1.0, 3.0, 15.0, 105.0);
    {
        double d = ks_distance(x, n, cdf_normal), crit = 1.95 / sqrt((double)n);
        CHECK(d < crit, "normal: Kolmogorov-Smirnov D = %.3g >= %.3g (alpha 0.001, n = %lu)", d, crit, (unsigned long)n);
    }
    free(z);
    free(x);

    {   /* n normals consume 2 ceil(n/2) outputs; an odd tail is the cosine normal of its pair */
        size_t m;
        for (m = 0; m <= 9; m++) {
            float a[10], b[10];
            ncsn_rng p, q, s;
            ncsn_rng_seed(&p, 5u, 6u);
            q = s = p;
            ncsn_rng_normals(&p, a, m);
            ncsn_rng_advance(&q, 2 * ((m + 1) / 2));
            CHECK(same_rng(&p, &q), "normals(n = %lu) consumed the wrong number of outputs", (unsigned long)m);
            ncsn_rng_normals(&s, b, 10);
            CHECK(m == 0 || memcmp(a, b, m * sizeof(float)) == 0, "normals(n = %lu) is not a prefix of normals(10)", (unsigned long)m);
        }
        {
            ncsn_rng p, q;
            float one, two[2];
            ncsn_rng_seed(&p, 5u, 6u);
            q = p;
            one = ncsn_rng_normal(&p);
            ncsn_rng_normals(&q, two, 2);
            CHECK(t_f2u(one) == t_f2u(two[0]) && same_rng(&p, &q), "ncsn_rng_normal is not the first of a pair (2 outputs)");
        }
    }
    {   /* the extremes of Box-Muller through crafted outputs */
        float zz[2];
        double rmax = sqrt(-2.0 * log(0x1p-24));   /* u1 = 2^-24: the largest radius */
        ncsn_rng t = rng_with_outputs(0xffffffffu, 0x00000000u);
        ncsn_rng_normals(&t, zz, 2);
        CHECK(fabs(zz[0] - rmax) <= 2 * ulp_of_float(rmax) && zz[1] == 0.0f,
              "u1 = 2^-24, u2 = 0: got (%.9g, %g), want (%.9g, 0)", zz[0], zz[1], rmax);
        CHECK(zz[0] <= 5.7686f, "largest radius %.9g > 5.7686 (documented bound)", zz[0]);
        t = rng_with_outputs(0xffffff00u, 0x40000000u);  /* u2 = 1/4: all of it in the sine */
        ncsn_rng_normals(&t, zz, 2);
        CHECK(zz[0] == 0.0f && fabs(zz[1] - rmax) <= 2 * ulp_of_float(rmax),
              "u1 = 2^-24, u2 = 1/4: got (%g, %.9g), want (0, %.9g)", zz[0], zz[1], rmax);
        t = rng_with_outputs(0xffu, 0x80000000u);         /* u1 = 1: radius exactly 0 */
        ncsn_rng_normals(&t, zz, 2);
        CHECK(zz[0] == 0.0f && zz[1] == 0.0f, "u1 = 1: got (%g, %g), want (0, 0)", zz[0], zz[1]);
        t = rng_with_outputs(0xffffffffu, 0xffffffffu);   /* u2 = 1 - 2^-24: just below a full turn */
        ncsn_rng_normals(&t, zz, 2);
        {
            double ang = 6.283185307179586 * (1.0 - 0x1p-24);
            CHECK(fabs(zz[0] - rmax * cos(ang)) <= 2 * ulp_of_float(rmax) && fabs(zz[1] - rmax * sin(ang)) <= 2 * ulp_of_float(rmax) && zz[1] < 0.0f,
                  "u1 = 2^-24, u2 = 1 - 2^-24: got (%.9g, %.9g), want (%.9g, %.9g)", zz[0], zz[1], rmax * cos(ang), rmax * sin(ang));
        }
    }
}

void test_rng(void)
{
    check_published_vector();
    check_against_transcription();
    check_advance();
    check_bounded();
    check_uniform();
    check_normals();
}
