// test_cpp.cpp - the implementation compiled as C++ (static copy), checked against the reference
// C++ PCG (pcg-cpp's pcg_random.hpp, Debian libpcg-cpp-dev) and against the C build, bit for bit.
//  - pcg32 rng(initstate, initseq) seeds like pcg32_srandom_r; rng() is pcg32_random_r, rng(bound)
//    pcg32_boundedrand_r, rng.advance / discard / backstep jump, and "a - b" is pcg-cpp's own
//    distance algorithm between two states; operator<< prints "multiplier increment state".
//  - c_side_values (tests/test_cpp_side.c, the C build) and cpp_side_values (the same source
//    included below, compiled here as C++) must agree in every bit.
#define NCSN_STATIC
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "test.h"
#include <pcg_random.hpp>
#include <sstream>
#include <string>
#include <vector>

#define SIDE_VALUES_FN cpp_side_values
#define SIDE_STORAGE static
#include "test_cpp_side.c"

extern "C" void c_side_values(float *out, int n);

namespace {

std::string dump(const ncsn_rng &r)
{
    std::ostringstream os;
    os << 6364136223846793005ULL << ' ' << r.inc << ' ' << r.state;
    return os.str();
}
std::string dump(const pcg32 &r)
{
    std::ostringstream os;
    os << r;
    return os.str();
}
// a pcg32 holding exactly the state of r (through pcg-cpp's own stream input)
pcg32 as_pcg(const ncsn_rng &r)
{
    pcg32 p;
    std::istringstream is(dump(r));
    is >> p;
    return p;
}

const struct { uint64_t state, seq; } seeds[] = {
    { 42u, 54u }, { 0u, 0u }, { ~0ULL, ~0ULL }, { 0x853c49e6748fea9bULL, 0xda3e39cb94b95bdbULL },
    { 1u, 1ULL << 63 }, { 0xfedcba9876543210ULL, 0x0123456789abcdefULL } };
const int n_seeds = sizeof seeds / sizeof seeds[0];

void check_outputs()
{
    const int per = 200000;  // 6 pairs: 1.2 million outputs
    long total = 0;
    for (int k = 0; k < n_seeds; k++) {
        ncsn_rng r;
        pcg32 p(seeds[k].state, seeds[k].seq);
        ncsn_rng_seed(&r, seeds[k].state, seeds[k].seq);
        CHECK(dump(r) == dump(p), "seed (%llx, %llx): state after seeding %s, pcg-cpp %s", (unsigned long long)seeds[k].state,
              (unsigned long long)seeds[k].seq, dump(r).c_str(), dump(p).c_str());
        int bad = -1;
        for (int i = 0; i < per; i++) {
            uint32_t a = ncsn_rng_u32(&r), b = p();
            if (a != b && bad < 0) bad = i;
        }
        total += per;
        CHECK(bad < 0, "seed (%llx, %llx): output %d differs from pcg-cpp", (unsigned long long)seeds[k].state,
              (unsigned long long)seeds[k].seq, bad);
        CHECK(dump(r) == dump(p), "seed (%llx, %llx): state after %d outputs differs", (unsigned long long)seeds[k].state,
              (unsigned long long)seeds[k].seq, per);
    }
    CHECK(total >= 1000000, "compared only %ld outputs", total);
    {   // the published first outputs through pcg-cpp itself (so the reference is the reference)
        pcg32 p(42u, 54u);
        const uint32_t want[6] = { 0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e };
        int ok = 1;
        for (int i = 0; i < 6; i++) ok &= p() == want[i];
        CHECK(ok, "pcg-cpp's pcg32(42, 54) does not give the published vector: the reference is not what we think");
    }
}

void check_bounded()
{
    const uint32_t bounds[] = { 1, 2, 3, 6, 7, 52, 1000003u, 0x7fffffffu, 0x80000000u, 0x80000001u, 0xc0000001u,
                                0xfffffffeu, 0xffffffffu };
    const int per = t_quick ? 5000 : 40000;
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
        for (int k = 0; k < n_seeds; k += 2) {
            ncsn_rng r;
            pcg32 p(seeds[k].state, seeds[k].seq);
            ncsn_rng_seed(&r, seeds[k].state, seeds[k].seq);
            int bad = -1;
            for (int i = 0; i < per; i++) {
                uint32_t x = ncsn_rng_bounded(&r, bounds[b]), y = p(bounds[b]);
                if (x != y && bad < 0) bad = i;
            }
            CHECK(bad < 0, "bounded(%u), seed %d: draw %d differs from pcg-cpp's rng(bound)", bounds[b], k, bad);
            CHECK(dump(r) == dump(p), "bounded(%u), seed %d: a different number of outputs was rejected", bounds[b], k);
        }
    }
}

void check_advance()
{
    const uint64_t deltas[] = { 0, 1, 2, 6, 1000, 1ULL << 40, (1ULL << 40) + 12345, 1ULL << 63, (1ULL << 63) + 5,
                                0x123456789abcdef1ULL, ~0ULL, 0ULL - 6 };
    for (int k = 0; k < n_seeds; k++) {
        for (size_t d = 0; d < sizeof deltas / sizeof deltas[0]; d++) {
            ncsn_rng r, start;
            pcg32 p(seeds[k].state, seeds[k].seq), q(seeds[k].state, seeds[k].seq);
            ncsn_rng_seed(&r, seeds[k].state, seeds[k].seq);
            start = r;
            ncsn_rng_advance(&r, deltas[d]);
            p.advance(deltas[d]);
            q.discard(deltas[d]);
            CHECK(dump(r) == dump(p) && dump(q) == dump(p), "seed %d, advance(0x%llx): %s, pcg-cpp advance %s, discard %s",
                  k, (unsigned long long)deltas[d], dump(r).c_str(), dump(p).c_str(), dump(q).c_str());
            // pcg-cpp's distance algorithm (bit by bit, not Brown's jump) from the start to where we landed
            pcg32 a = as_pcg(start), b = as_pcg(r);
            uint64_t dist = b - a;
            CHECK(dist == deltas[d], "seed %d: pcg-cpp distance from the start to advance(0x%llx) is 0x%llx",
                  k, (unsigned long long)deltas[d], (unsigned long long)dist);
            int same = 1;
            for (int i = 0; i < 8; i++) same &= ncsn_rng_u32(&r) == p();
            CHECK(same, "seed %d: outputs after advance(0x%llx) differ from pcg-cpp", k, (unsigned long long)deltas[d]);
        }
    }
    {   // back by six, as check-pcg32's "Again" line: pcg-cpp's backstep(6)
        ncsn_rng r;
        pcg32 p(42u, 54u);
        ncsn_rng_seed(&r, 42u, 54u);
        for (int i = 0; i < 6; i++) { ncsn_rng_u32(&r); p(); }
        ncsn_rng_advance(&r, 0ULL - 6);
        p.backstep(6);
        CHECK(dump(r) == dump(p), "advance(-6) %s, pcg-cpp backstep(6) %s", dump(r).c_str(), dump(p).c_str());
    }
}

// the C build (c_side_values) and this C++ copy give the same bits; the C build's random
// numbers are also checked directly against pcg-cpp
void check_c_vs_cpp()
{
    const int n = 2048;
    std::vector<float> a(n), b(n);
    c_side_values(&a[0], n);
    cpp_side_values(&b[0], n);
    int count = (int)a[7], diff = 0, first = -1, live = 0;
    CHECK(count > 1000 && count <= n, "side values: %d values for a buffer of %d", count, n);
    for (int i = 0; i < 7; i++)
        CHECK(a[i] == 0.0f && b[i] == 0.0f, "side values: status %d is C %g, C++ %g (want 0 = NCSN_OK)", i, a[i], b[i]);
    for (int i = 0; i < n; i++) {
        if (t_f2u(a[i]) != t_f2u(b[i])) { diff++; if (first < 0) first = i; }
        if (i >= 8 && i < count && a[i] == a[i] && a[i] != 0.0f && fabsf(a[i]) != HUGE_VALF) live++;
    }
    CHECK(diff == 0, "C and C++ builds differ in %d of %d values; first at %d: C %a, C++ %a", diff, count, first,
          first < 0 ? 0.0 : (double)a[first], first < 0 ? 0.0 : (double)b[first]);
    CHECK(live > (count - 8) * 9 / 10, "side values: only %d of %d are finite and non-zero", live, count - 8);
    {   // in the layout: 63 normals (64 outputs) then 32 uniforms, 16 bounded(1000003), seed (7, 9)
        pcg32 p(7u, 9u);
        p.discard(64);
        int bad = -1;
        for (int i = 0; i < 32; i++)
            if (a[8 + 63 + i] != (float)(p() >> 8) * 5.9604644775390625e-08f && bad < 0) bad = i;
        for (int i = 0; i < 16; i++)
            if (a[8 + 95 + i] != (float)p(1000003u) && bad < 0) bad = 32 + i;
        CHECK(bad < 0, "C build: uniform/bounded value %d differs from pcg-cpp", bad);
    }
}

}  // namespace

extern "C" void test_cpp(void)
{
    check_outputs();
    check_bounded();
    check_advance();
    check_c_vs_cpp();
}
