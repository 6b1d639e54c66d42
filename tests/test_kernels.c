/* test_kernels.c - the fast kernels (SIMD where the build has it) against plain references,
   bit for bit. The kernels are static, so this file compiles a private copy of the
   implementation (NCSN_STATIC) and calls them directly.

   Independent references: each kernel is also compared with a plain loop written here (one
   fmaf per term, in the documented order), so a wrong *_ref would not go unnoticed either.
   Shapes: every B, K, N tail of the 4-row blocking and of the 1x/2x vector blocks (widths 4, 8,
   16, 32, 64), leading dimensions larger than the row, zero sizes; inputs of mixed magnitudes
   (2^-30 .. 2^30, zeros, subnormals, both signs) so that any change of operation order or any
   extra rounding changes bits. Padding around every matrix must stay untouched. */
#define NCSN_STATIC
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "test.h"
#include <stdlib.h>
#include <float.h>
#include <fenv.h>

/* the chosen path's kernels, as the library calls them */
static void tk_gemm_acc(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N)
{
    ncsn__gemm_ep_acc(Y, ldy, X, ldx, W, ldw, B, K, N, NULL);
}
#define tk_act_fwd ncsn__kt()->act_fwd
#define tk_act_bwd ncsn__kt()->act_bwd

/* xorshift64*: the test's own generator, independent of the library's PCG32 */
static uint64_t tk_state = 0x9e3779b97f4a7c15ULL;
static uint32_t tk_u32(void)
{
    tk_state ^= tk_state >> 12;
    tk_state ^= tk_state << 25;
    tk_state ^= tk_state >> 27;
    return (uint32_t)((tk_state * 2685821657736338717ULL) >> 32);
}

/* a float of mixed magnitude: mostly |v| in [2^-8, 2^8], some tiny, some huge, some 0 / subnormal */
static float tk_val(void)
{
    uint32_t r = tk_u32(), sign = (r & 1u) << 31, kind = (r >> 1) & 31u;
    uint32_t mant = tk_u32() & 0x7fffffu;
    int e;
    if (kind == 0) return 0.0f;
    if (kind == 1) return t_u2f(sign | (mant | 1u));                 /* subnormal */
    if (kind < 6) e = (int)(tk_u32() % 61u) - 30;                     /* 2^-30 .. 2^30 */
    else e = (int)(tk_u32() % 17u) - 8;                               /* 2^-8 .. 2^8 */
    return t_u2f(sign | ((uint32_t)(e + 127) << 23) | mant);
}

static void tk_fill(float *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) p[i] = tk_val();
}

static int tk_first_diff(const float *a, const float *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (t_f2u(a[i]) != t_f2u(b[i])) return (int)i;
    return -1;
}

/* plain references written here */
static void plain_gemm(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N)
{
    int b, k, o;
    for (b = 0; b < B; b++)
        for (o = 0; o < N; o++)
            for (k = 0; k < K; k++)
                Y[(size_t)b * ldy + o] = fmaf(X[(size_t)b * ldx + k], W[(size_t)k * ldw + o], Y[(size_t)b * ldy + o]);
}
/* batch sums in blocks of 64 samples, each from zero, blocks added in order (ncsn.h's contract) */
static void plain_gemm_tn(float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, int B, int K, int N)
{
    int b, b0, k, o;
    for (k = 0; k < K; k++)
        for (o = 0; o < N; o++)
            for (b0 = 0; b0 < B; b0 += 64) {
                float part = 0.0f;
                for (b = b0; b < B && b < b0 + 64; b++) part = fmaf(X[(size_t)b * ldx + k], dY[(size_t)b * ldy + o], part);
                dW[(size_t)k * ldw + o] = dW[(size_t)k * ldw + o] + part;
            }
}
static void plain_colsum(float *db, const float *dY, int ldy, int B, int N)
{
    int b, b0, o;
    for (o = 0; o < N; o++)
        for (b0 = 0; b0 < B; b0 += 64) {
            float part = 0.0f;
            for (b = b0; b < B && b < b0 + 64; b++) part = part + dY[(size_t)b * ldy + o];
            db[o] = db[o] + part;
        }
}

typedef struct tk_stats { int calls, fails_fast, fails_ref, fails_pad; char first[160]; } tk_stats;

static void tk_note(tk_stats *s, int *counter, const char *what, int B, int K, int N, int ld, int idx)
{
    if (!s->fails_fast && !s->fails_ref && !s->fails_pad)
        snprintf(s->first, sizeof s->first, "%s at B=%d K=%d N=%d pad=%d, element %d", what, B, K, N, ld, idx);
    (*counter)++;
}

#define TK_GUARD 8  /* floats of canary before and after every buffer */

/* Y (B x N, ld ldy) += X (B x K, ld ldx) W (K x N, ld ldw) */
static void tk_one_gemm(tk_stats *s, int B, int K, int N, int pad)
{
    int ldy = N + pad, ldx = K + (pad % 5), ldw = N + (pad % 3) * 7;
    size_t ny = (size_t)B * ldy + 2 * TK_GUARD, nx = (size_t)B * ldx + 1, nw = (size_t)K * ldw + 1;
    float *y0 = (float *)malloc(ny * sizeof(float)), *y1 = (float *)malloc(ny * sizeof(float));
    float *y2 = (float *)malloc(ny * sizeof(float)), *y3 = (float *)malloc(ny * sizeof(float));
    float *x = (float *)malloc(nx * sizeof(float)), *w = (float *)malloc(nw * sizeof(float));
    int d;
    if (!y0 || !y1 || !y2 || !y3 || !x || !w) { CHECK(0, "out of memory"); goto out; }
    tk_fill(y0, ny); tk_fill(x, nx); tk_fill(w, nw);
    memcpy(y1, y0, ny * sizeof(float)); memcpy(y2, y0, ny * sizeof(float)); memcpy(y3, y0, ny * sizeof(float));
    tk_gemm_acc(y1 + TK_GUARD, ldy, x, ldx, w, ldw, B, K, N);
    ncsn__gemm_acc_ref(y2 + TK_GUARD, ldy, x, ldx, w, ldw, B, K, N);
    plain_gemm(y3 + TK_GUARD, ldy, x, ldx, w, ldw, B, K, N);
    s->calls++;
    if ((d = tk_first_diff(y1, y3, ny)) >= 0) tk_note(s, &s->fails_fast, "gemm_acc != plain", B, K, N, pad, d);
    if ((d = tk_first_diff(y2, y3, ny)) >= 0) tk_note(s, &s->fails_ref, "gemm_acc_ref != plain", B, K, N, pad, d);
    { /* padding and canaries: only Y[b][0..N) may change */
        int b, o, bad = -1;
        for (d = 0; d < TK_GUARD && bad < 0; d++)
            if (t_f2u(y1[d]) != t_f2u(y0[d]) || t_f2u(y1[ny - 1 - d]) != t_f2u(y0[ny - 1 - d])) bad = d;
        for (b = 0; b < B && bad < 0; b++)
            for (o = N; o < ldy; o++)
                if (t_f2u(y1[TK_GUARD + (size_t)b * ldy + o]) != t_f2u(y0[TK_GUARD + (size_t)b * ldy + o])) { bad = b * ldy + o; break; }
        if (bad >= 0) tk_note(s, &s->fails_pad, "gemm_acc wrote outside Y", B, K, N, pad, bad);
    }
out:
    free(y0); free(y1); free(y2); free(y3); free(x); free(w);
}

/* dW (K x N, ld ldw) += X^T (B x K, ld ldx) dY (B x N, ld ldy), and in the same call (the bias
   gradient fused into the dW kernel) db += the column sums of dY; threads > 1: on a pool */
static void tk_one_gemm_tn_t(tk_stats *s, int B, int K, int N, int pad, int threads)
{
    int ldw = N + pad, ldx = K + (pad % 5), ldy = N + (pad % 3) * 7;
    size_t nw = (size_t)K * ldw + 2 * TK_GUARD, nx = (size_t)B * ldx + 1, ny = (size_t)B * ldy + 1, nb = (size_t)N + 2 * TK_GUARD;
    float *w0 = (float *)malloc(nw * sizeof(float)), *w1 = (float *)malloc(nw * sizeof(float));
    float *w2 = (float *)malloc(nw * sizeof(float)), *w3 = (float *)malloc(nw * sizeof(float));
    float *x = (float *)malloc(nx * sizeof(float)), *g = (float *)malloc(ny * sizeof(float));
    float *db1 = (float *)malloc(nb * sizeof(float)), *db2 = (float *)malloc(nb * sizeof(float));
    ncsn__pool *pool = NULL;
    int d;
    if (!w0 || !w1 || !w2 || !w3 || !x || !g || !db1 || !db2) { CHECK(0, "out of memory"); goto out; }
    tk_fill(w0, nw); tk_fill(x, nx); tk_fill(g, ny); tk_fill(db1, nb);
    memcpy(w1, w0, nw * sizeof(float)); memcpy(w2, w0, nw * sizeof(float)); memcpy(w3, w0, nw * sizeof(float));
    memcpy(db2, db1, nb * sizeof(float));
#ifndef NCSN_NO_THREADS
    if (threads > 1 && ncsn__pool_create(&pool, threads) != NCSN_OK) { CHECK(0, "pool: %s", ncsn_last_error()); goto out; }
#endif
    ncsn__pgemm_tn_acc(pool, w1 + TK_GUARD, ldw, x, ldx, g, ldy, B, K, N, db1 + TK_GUARD);
    ncsn__gemm_tn_acc_ref(w2 + TK_GUARD, ldw, x, ldx, g, ldy, B, K, N);
    plain_gemm_tn(w3 + TK_GUARD, ldw, x, ldx, g, ldy, B, K, N);
    plain_colsum(db2 + TK_GUARD, g, ldy, B, N);
    s->calls++;
    if ((d = tk_first_diff(db1, db2, nb)) >= 0) tk_note(s, &s->fails_fast, "the column sums fused into gemm_tn_acc != plain", B, K, N, pad, d);
    if ((d = tk_first_diff(w1, w3, nw)) >= 0) tk_note(s, &s->fails_fast, "gemm_tn_acc != plain", B, K, N, pad, d);
    if ((d = tk_first_diff(w2, w3, nw)) >= 0) tk_note(s, &s->fails_ref, "gemm_tn_acc_ref != plain", B, K, N, pad, d);
    {
        int k, o, bad = -1;
        for (d = 0; d < TK_GUARD && bad < 0; d++)
            if (t_f2u(w1[d]) != t_f2u(w0[d]) || t_f2u(w1[nw - 1 - d]) != t_f2u(w0[nw - 1 - d])) bad = d;
        for (k = 0; k < K && bad < 0; k++)
            for (o = N; o < ldw; o++)
                if (t_f2u(w1[TK_GUARD + (size_t)k * ldw + o]) != t_f2u(w0[TK_GUARD + (size_t)k * ldw + o])) { bad = k * ldw + o; break; }
        if (bad >= 0) tk_note(s, &s->fails_pad, "gemm_tn_acc wrote outside dW", B, K, N, pad, bad);
    }
out:
    ncsn__pool_free(pool);
    free(w0); free(w1); free(w2); free(w3); free(x); free(g); free(db1); free(db2);
}
static void tk_one_gemm_tn(tk_stats *s, int B, int K, int N, int pad) { tk_one_gemm_tn_t(s, B, K, N, pad, 1); }

/* equal bits, or both NaN (a NaN's payload may differ between the scalar and vector units) */
static int tk_first_diff_nan(const float *a, const float *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (t_f2u(a[i]) != t_f2u(b[i]) && !(a[i] != a[i] && b[i] != b[i])) return (int)i;
    return -1;
}

/* The fused product (ncsn__gemm_ep) against the unfused steps it replaces, on the scalar
   references: Y = bias row (or 0), plain_gemm, then the activation (mode 0: SiLU, 1: softplus,
   2: none) or its derivative in place (3: SiLU, 4: softplus) row by row. threads > 1: the pool's
   split (rows or columns of Y) must give the same bits. nt: the product reads W stored [N][K]
   (ncsn__pgemm_nt: dX from the weights as stored) and the reference its transposed copy. */
static void tk_one_gemm_ep(tk_stats *s, int B, int K, int N, int pad, int mode, int threads, int nt)
{
    int ldy = N + pad, ldx = K + (pad % 5), ldw = N + (pad % 3) * 7, bwd = mode >= 3, b, d = -1;
    size_t ny = (size_t)B * ldy + 2 * TK_GUARD, nx = (size_t)B * ldx + 1, nw = (size_t)K * ldw + 1;
    float *y1 = (float *)malloc(ny * sizeof(float)), *y2 = (float *)malloc(ny * sizeof(float));
    float *a1 = (float *)malloc(ny * sizeof(float)), *a2 = (float *)malloc(ny * sizeof(float));
    float *g1 = (float *)malloc(ny * sizeof(float)), *g2 = (float *)malloc(ny * sizeof(float));
    float *z = (float *)malloc(ny * sizeof(float)), *bias = (float *)malloc((size_t)(N + 1) * sizeof(float));
    float *x = (float *)malloc(nx * sizeof(float)), *w = (float *)malloc(nw * sizeof(float));
    int ldwn = K + (pad % 3) * 5, k, o;
    float *wn = (float *)malloc(((size_t)N * ldwn + 1) * sizeof(float));
    float *rows = (float *)malloc((size_t)3 * (N + 1) * sizeof(float));
    int *row_of = (int *)malloc((size_t)(B + 1) * sizeof(int));
    ncsn_act act = mode == 1 || mode == 4 ? NCSN_ACT_SOFTPLUS : NCSN_ACT_SILU;
    ncsn__gemm_ep ep;
    ncsn__pool *pool = NULL;
    if (!y1 || !y2 || !a1 || !a2 || !g1 || !g2 || !z || !bias || !x || !w || !wn || !rows || !row_of) { CHECK(0, "out of memory"); goto out; }
    tk_fill(rows, (size_t)3 * (N + 1));
    for (b = 0; b < B; b++) row_of[b] = (int)(tk_u32() % 3u);
    tk_fill(y1, ny); tk_fill(a1, ny); tk_fill(g1, ny); tk_fill(z, ny); tk_fill(bias, (size_t)N + 1); tk_fill(x, nx); tk_fill(w, nw);
    tk_fill(wn, (size_t)N * ldwn + 1);
    if (nt)   /* the reference's W [K][N] is the transpose of the stored [N][K] */
        for (k = 0; k < K; k++)
            for (o = 0; o < N; o++) w[(size_t)k * ldw + o] = wn[(size_t)o * ldwn + k];
    memcpy(y2, y1, ny * sizeof(float)); memcpy(a2, a1, ny * sizeof(float)); memcpy(g2, g1, ny * sizeof(float));
    memset(&ep, 0, sizeof ep);
    ep.act = act;
    if (bwd) { ep.zero = 1; ep.z = z + TK_GUARD; ep.sg = g1 + TK_GUARD; }
    else {   /* odd pad: each row starts at one of 3 rows (the first layer's slots), else at the bias */
        if (pad % 2) { ep.rows = rows; ep.row_of = row_of; ep.ld_rows = N + 1; }
        else ep.bias = bias;
        if (mode < 2) { ep.a = a1 + TK_GUARD; ep.sg = g1 + TK_GUARD; }
    }
#ifndef NCSN_NO_THREADS
    if (threads > 1 && ncsn__pool_create(&pool, threads) != NCSN_OK) { CHECK(0, "pool: %s", ncsn_last_error()); goto out; }
#endif
    if (nt) ncsn__pgemm_nt(pool, y1 + TK_GUARD, ldy, x, ldx, wn, ldwn, B, K, N, &ep);
    else ncsn__pgemm_ep(pool, y1 + TK_GUARD, ldy, x, ldx, w, ldw, B, K, N, &ep);
    for (b = 0; b < B; b++) {
        float *y = y2 + TK_GUARD + (size_t)b * ldy;
        size_t r = TK_GUARD + (size_t)b * ldy;
        if (bwd) memset(y, 0, (size_t)N * sizeof(float));
        else memcpy(y, pad % 2 ? rows + (size_t)row_of[b] * (N + 1) : bias, (size_t)N * sizeof(float));
        plain_gemm(y, ldy, x + (size_t)b * ldx, ldx, w, ldw, 1, K, N);
        if (bwd) ncsn__scalar_act_bwd(y, y, z + r, g2 + r, (size_t)N, act);
        else if (mode < 2) ncsn__scalar_act_fwd(a2 + r, g2 + r, y, (size_t)N, act);
    }
    s->calls++;
    if ((d = tk_first_diff_nan(y1, y2, ny)) >= 0) tk_note(s, &s->fails_fast, "fused Y != unfused", B, K, N, pad, d);
    else if ((d = tk_first_diff_nan(a1, a2, ny)) >= 0) tk_note(s, &s->fails_fast, "fused activation != unfused", B, K, N, pad, d);
    else if ((d = tk_first_diff_nan(g1, g2, ny)) >= 0) tk_note(s, &s->fails_fast, "fused sigmoid != unfused", B, K, N, pad, d);
out:
    ncsn__pool_free(pool);
    free(y1); free(y2); free(a1); free(a2); free(g1); free(g2); free(z); free(bias); free(x); free(w); free(wn); free(rows); free(row_of);
}

static void tk_one_colsum(tk_stats *s, int B, int N, int pad)
{
    int ldy = N + pad;
    size_t nb = (size_t)N + 2 * TK_GUARD, ny = (size_t)B * ldy + 1;
    float *b0 = (float *)malloc(nb * sizeof(float)), *b1 = (float *)malloc(nb * sizeof(float));
    float *b2 = (float *)malloc(nb * sizeof(float)), *g = (float *)malloc(ny * sizeof(float));
    int d;
    if (!b0 || !b1 || !b2 || !g) { CHECK(0, "out of memory"); goto out; }
    tk_fill(b0, nb); tk_fill(g, ny);
    memcpy(b1, b0, nb * sizeof(float)); memcpy(b2, b0, nb * sizeof(float));
    ncsn__kt()->colsum_acc(b1 + TK_GUARD, g, ldy, B, N);
    plain_colsum(b2 + TK_GUARD, g, ldy, B, N);
    s->calls++;
    if ((d = tk_first_diff(b1, b2, nb)) >= 0) tk_note(s, &s->fails_fast, "colsum_acc != plain", B, 0, N, pad, d);
out:
    free(b0); free(b1); free(b2); free(g);
}

static void tk_one_langevin(tk_stats *s, size_t n, int misalign)
{
    size_t tot = n + 2 * TK_GUARD + 3;
    float *x0 = (float *)malloc(tot * sizeof(float)), *x1 = (float *)malloc(tot * sizeof(float));
    float *x2 = (float *)malloc(tot * sizeof(float)), *sc = (float *)malloc(tot * sizeof(float));
    float *z = (float *)malloc(tot * sizeof(float));
    float cs = tk_val(), cn = tk_val();
    size_t i;
    int d;
    if (!x0 || !x1 || !x2 || !sc || !z) { CHECK(0, "out of memory"); goto out; }
    tk_fill(x0, tot); tk_fill(sc, tot); tk_fill(z, tot);
    memcpy(x1, x0, tot * sizeof(float)); memcpy(x2, x0, tot * sizeof(float));
    /* x, score and z misaligned differently */
    ncsn_langevin_update(x1 + TK_GUARD + misalign, sc + (misalign + 1) % 3, z + (misalign + 2) % 3, n, cs, cn);
    for (i = 0; i < n; i++) {
        float *xi = &x2[TK_GUARD + misalign + i];
        *xi = fmaf(cn, z[(misalign + 2) % 3 + i], fmaf(cs, sc[(misalign + 1) % 3 + i], *xi));
    }
    s->calls++;
    if ((d = tk_first_diff(x1, x2, tot)) >= 0) tk_note(s, &s->fails_fast, "langevin_update != plain fmaf loop", (int)n, misalign, 0, 0, d);
out:
    free(x0); free(x1); free(x2); free(sc); free(z);
}

static void tk_report(const char *name, const tk_stats *s)
{
    CHECK(s->calls > 0, "%s: no calls", name);
    CHECK(s->fails_fast == 0, "%s: %d of %d shapes differ from the plain loop; first: %s", name, s->fails_fast, s->calls, s->first);
    CHECK(s->fails_ref == 0, "%s: reference differs from the plain loop in %d of %d shapes; first: %s", name, s->fails_ref, s->calls, s->first);
    CHECK(s->fails_pad == 0, "%s: wrote outside its matrix in %d of %d shapes; first: %s", name, s->fails_pad, s->calls, s->first);
}

/* the sizes that hit every tail: 1..9 (and all below the vector widths in the full run), around
   the multiples of 4, 8, 16, 32 and 64 */
static const int tk_edges[] = { 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 24, 31, 32, 33, 40, 47, 48, 49, 63, 64, 65, 70 };
#define TK_NEDGE ((int)(sizeof tk_edges / sizeof tk_edges[0]))

#if defined(NCSN__SSE2)
/* the emulated FMA of the SSE2 path against fmaf: random operands, and c chosen so that a*b + c
   lands next to a halfway point between floats, where rounding twice (double, then float) fails */
static void sse2_fma_exact(void)
{
    ncsn_rng r;
    long i, bad = 0, naive_bad = 0;
    ncsn_rng_seed(&r, 12, 34);
    for (i = 0; i < 2000000; i++) {
        float a[4], b[4], c[4], out[4];
        int l;
        for (l = 0; l < 4; l++) {
            a[l] = t_u2f((ncsn_rng_u32(&r) & 0x807fffffu) | ((100u + ncsn_rng_bounded(&r, 56)) << 23));
            b[l] = t_u2f((ncsn_rng_u32(&r) & 0x807fffffu) | ((100u + ncsn_rng_bounded(&r, 56)) << 23));
            if (i % 4 == 3) {   /* a*b an exact float midpoint (two odd 13-bit mantissas), c tiny: the double sum
                                   rounds onto the midpoint, then ties-to-even goes the wrong way */
                int ea = (int)ncsn_rng_bounded(&r, 41) - 20, eb = (int)ncsn_rng_bounded(&r, 41) - 20;
                a[l] = ldexpf((float)(4097 + 2 * (int)ncsn_rng_bounded(&r, 2047)), ea);
                b[l] = ldexpf((float)(4097 + 2 * (int)ncsn_rng_bounded(&r, 2047)), eb);
                c[l] = ldexpf((ncsn_rng_u32(&r) & 1) ? 1.0f : -1.0f, ea + eb - 40 - (int)ncsn_rng_bounded(&r, 20));
            } else if (i & 1) {   /* c = -(a*b rounded) + a sliver: the exact sum sits near a half-ulp */
                double prod = (double)a[l] * b[l];
                c[l] = (float)-prod;
                c[l] = t_u2f(t_f2u(c[l]) + (ncsn_rng_u32(&r) % 3) - 1);
            } else {
                c[l] = t_u2f(ncsn_rng_u32(&r) & 0xbfffffffu);
            }
        }
        _mm_storeu_ps(out, ncsn__sse2_fma(_mm_loadu_ps(a), _mm_loadu_ps(b), _mm_loadu_ps(c)));
        for (l = 0; l < 4; l++) {
            float want = fmaf(a[l], b[l], c[l]), naive = (float)((double)a[l] * b[l] + c[l]);
            if (t_f2u(out[l]) != t_f2u(want) && !(out[l] != out[l] && want != want)) bad++;
            if (t_f2u(naive) != t_f2u(want)) naive_bad++;
        }
    }
    printf("  sse2 emulated fma: 8e6 cases, %ld differ from fmaf (the naive double sum differs in %ld)\n", bad, naive_bad);
    CHECK(bad == 0, "emulated fma differs from fmaf in %ld cases", bad);
    CHECK(naive_bad > 0, "the cases never reach double rounding (the naive double sum matched fmaf everywhere), so they prove nothing");
}
#endif

/* the vector SiLU (sigmoid kept for backward, 0 below the cut) equals the scalar functions lane by
   lane, edges included */
static void act_edges(void)
{
    enum { N = 4099 };
    static float z[N], a[N], sg[N], dz[N], da[N];
    int i, bad = 0;
    ncsn_rng r;
    ncsn_rng_seed(&r, 9, 9);
    for (i = 0; i < N; i++) {
        z[i] = -130.0f + 260.0f * ncsn_rng_uniform(&r);
        da[i] = ncsn_rng_normal(&r);
    }
    z[0] = HUGE_VALF; z[1] = -HUGE_VALF; z[2] = NAN; z[3] = -88.7228394f; z[4] = 88.7228394f; z[5] = -103.972084f;
    z[6] = -0.0f; z[7] = 1e-30f; z[8] = -89.0f; z[9] = 104.0f; z[17] = -200.0f; z[33] = 0.5f;
    z[10] = NCSN__SILU_CUT; z[11] = nextafterf(NCSN__SILU_CUT, -HUGE_VALF); z[12] = nextafterf(NCSN__SILU_CUT, 0.0f);
    tk_act_fwd(a, sg, z, N, NCSN_ACT_SILU);
    tk_act_bwd(dz, da, z, sg, N, NCSN_ACT_SILU);
    for (i = 0; i < N; i++) {
        float s = z[i] < NCSN__SILU_CUT ? 0.0f : ncsn_sigmoidf(z[i]), want_a = ncsn_siluf(z[i]), want_dz = da[i] * fmaf(z[i] * s, 1.0f - s, s);
        if (t_f2u(sg[i]) != t_f2u(s) && !(s != s && sg[i] != sg[i])) bad++;
        if (t_f2u(a[i]) != t_f2u(want_a) && !(want_a != want_a && a[i] != a[i])) bad++;
        if (t_f2u(dz[i]) != t_f2u(want_dz) && !(want_dz != want_dz && dz[i] != dz[i])) bad++;
    }
    CHECK(bad == 0, "vector SiLU/sigmoid differ from the scalar functions in %d lanes", bad);
}

/* One SiLU: the network's activation (vector lanes and scalar tail) gives ncsn_siluf's bits.
   Floats of one sign with magnitude bit patterns m0..m1 (every stride-th) are fed through
   ncsn__act_fwd in blocks of a prime length: vector lanes take most, the scalar tail the last
   (length mod lanes) of each block; a NCSN_NO_SIMD build (test-matrix) runs all of them through
   the scalar path. Returns the disagreements; *count the floats checked. */
static long silu_sweep(uint32_t sign, uint32_t m0, uint32_t m1, uint32_t stride, long *count, float *first_bad)
{
    enum { BLK = 4093 };
    static float z[BLK], a[BLK], sg[BLK];
    uint64_t m = m0;
    long bad = 0;
    while (m <= m1) {
        int n = 0, i;
        for (; n < BLK && m <= m1; n++, m += stride) z[n] = t_u2f(sign | (uint32_t)m);
        tk_act_fwd(a, sg, z, (size_t)n, NCSN_ACT_SILU);
        for (i = 0; i < n; i++) {
            float want = ncsn_siluf(z[i]);
            if (t_f2u(a[i]) != t_f2u(want) && !(want != want && a[i] != a[i])) {
                if (!bad) *first_bad = z[i];
                bad++;
            }
        }
        *count += n;
    }
    return bad;
}

/* Around the cut (-0 below -40) every float in [-200, -30] is checked in every mode. The full suite adds every float with |x| in [2^-4, 200] and every 64th
   pattern below 2^-4 (2.3e8 floats in all, about 6 s); NCSN_TEST_SILU=all checks every float
   of both signs, infinities included (4.3e9, about a minute: measured once, see docs/reliability.md). */
static void silu_one_definition(void)
{
    const uint32_t neg = 0x80000000u, m30 = t_f2u(30.0f), m200 = t_f2u(200.0f), small = t_f2u(0x1p-4f), inf = 0x7f800000u;
    const char *env = getenv("NCSN_TEST_SILU");
    int all = env && strcmp(env, "all") == 0;
    long n = 0, bad = 0;
    float first = 0.0f;
    const char *what;
    if (all) {
        bad += silu_sweep(neg, 0, inf, 1, &n, &first);
        bad += silu_sweep(0, 0, inf, 1, &n, &first);
        what = "every float (both signs, +-inf)";
    } else {
        bad += silu_sweep(neg, m30, m200, 1, &n, &first);
        what = "every float in [-200, -30]";
        if (!t_quick) {
            bad += silu_sweep(neg, small, m30 - 1, 1, &n, &first);
            bad += silu_sweep(0, small, m200, 1, &n, &first);
            bad += silu_sweep(neg, 0, small - 1, 64, &n, &first);
            bad += silu_sweep(0, 0, small - 1, 64, &n, &first);
            what = "every float in [-200, -30], every float with |x| in [2^-4, 200], every 64th below 2^-4";
        }
    }
    CHECK(bad == 0, "SiLU: the network's activation differs from ncsn_siluf for %ld of %ld floats (%s), first at x = %a", bad, n, what,
          (double)first);
    CHECK(n > 10000000L, "SiLU sweep covered only %ld floats", n);
    printf("  kernels: SiLU, %s: network activation %s ncsn_siluf for %ld floats: %s\n", ncsn_simd_name(), bad ? "!=" : "==", n, what);
    {   /* NaN and the largest floats */
        static const float sp[4] = { NAN, -NAN, -FLT_MAX, FLT_MAX };
        float a[4], sg[4];
        int i, ok = 1;
        tk_act_fwd(a, sg, sp, 4, NCSN_ACT_SILU);
        for (i = 0; i < 4; i++) {
            float want = ncsn_siluf(sp[i]);
            if (t_f2u(a[i]) != t_f2u(want) && !(want != want && a[i] != a[i])) ok = 0;
        }
        CHECK(ok, "SiLU: NaN or +-FLT_MAX differ between the network and ncsn_siluf");
    }
}

#ifndef NCSN_NO_THREADS
/* The pool hands out parts as threads arrive: every part of every job must run exactly once and
   be finished when ncsn__pool_run returns, whoever ran it, late workers included (jobs of
   different lengths so that workers arrive at different points). */
typedef struct { int hits[8], bad_nt; volatile float sink; } tk_pool_job;
static void tk_pool_part(void *ap, int t, int nt)
{
    tk_pool_job *j = (tk_pool_job *)ap;
    int i, spin = (t * 7 + 3) % 5 * 200;
    float x = 1.0f;
    if (nt != 3) j->bad_nt++;
    for (i = 0; i < spin; i++) x = x * 1.0000001f;   /* parts of unequal length */
    j->sink = x;
    __atomic_add_fetch(&j->hits[t], 1, __ATOMIC_RELAXED);
}
static void pool_parts_once(void)
{
    ncsn__pool *p = NULL;
    tk_pool_job j[2];   /* jobs alternate between two arguments: a part run with the previous job's shows */
    int r, t, wrong = 0;
    if (ncsn__pool_create(&p, 3) != NCSN_OK) { CHECK(0, "pool of 3: %s", ncsn_last_error()); return; }
    memset(j, 0, sizeof j);
    for (r = 0; r < (t_quick ? 4000 : 40000); r++) {
        tk_pool_job *cur = &j[r & 1], *prev = &j[~r & 1];
        ncsn__pool_run(p, tk_pool_part, cur, 1e6);
        for (t = 0; t < 3; t++)
            wrong += __atomic_load_n(&cur->hits[t], __ATOMIC_RELAXED) != 1 || __atomic_load_n(&prev->hits[t], __ATOMIC_RELAXED) != 0;
        memset(cur->hits, 0, sizeof cur->hits);
    }
    ncsn__pool_free(p);
    CHECK(wrong == 0 && j[0].bad_nt + j[1].bad_nt == 0, "pool: %d parts not run exactly once, by then, with their own job's argument; "
          "%d saw nt != 3", wrong, j[0].bad_nt + j[1].bad_nt);
}
#endif

/* ncsn_rng_normals on this path (a dispatching build runs a copy compiled with FMA on the avx2 and
   avx512 paths) against ncsn__normals_loop, the reference compiled with this file's flags: the same
   bits and the same stream position, for a long stream and for every count 0..9 (odd tails) */
static void normals_same_bits(void)
{
    size_t n = t_quick ? ((size_t)1 << 16) + 1 : ((size_t)1 << 20) + 1, i, m, bad = 0, first = 0;
    float *a = (float *)malloc(n * sizeof *a), *b = (float *)malloc(n * sizeof *b);
    ncsn_rng r, q;
    int tails_ok = 1;
    if (!a || !b) { free(a); free(b); CHECK(0, "out of memory"); return; }
    ncsn_rng_seed(&r, 77u, 5u);
    q = r;
    ncsn_rng_normals(&r, a, n);
    ncsn__normals_loop(&q, b, n);
    for (i = 0; i < n; i++)
        if (t_f2u(a[i]) != t_f2u(b[i]) && bad++ == 0) first = i;
    CHECK(bad == 0 && r.state == q.state, "normals on path %s: %lu of %lu differ from the reference (first: #%lu, %a against %a)%s",
          ncsn_simd_name(), (unsigned long)bad, (unsigned long)n, (unsigned long)first, (double)a[first], (double)b[first],
          r.state == q.state ? "" : "; the stream ends elsewhere");
    for (m = 0; m <= 9; m++) {
        ncsn_rng_seed(&r, 78u + m, 5u);
        q = r;
        ncsn_rng_normals(&r, a, m);
        ncsn__normals_loop(&q, b, m);
        tails_ok &= (m == 0 || memcmp(a, b, m * sizeof *a) == 0) && r.state == q.state;
    }
    CHECK(tails_ok, "normals on path %s: a count of 0..9 differs from the reference", ncsn_simd_name());
    free(a);
    free(b);
}

/* the σ embedding's sinusoid on this path (a dispatching build runs a copy compiled with FMA on the
   avx2 and avx512 paths) against ncsn__sinusoid compiled with this file's flags, over arguments
   from 0 to about 1e5 in magnitude (the argument reduction's ranges) */
static void sinusoid_same_bits(void)
{
    enum { S = 64, E = 128 };
    static float cond[S], freq[E / 2], a[S * E], b[S * E];
    ncsn_rng r;
    int i, bad = 0, first = 0;
    ncsn_rng_seed(&r, 91u, 3u);
    for (i = 0; i < S; i++) cond[i] = (ncsn_rng_uniform(&r) - 0.5f) * 20.0f;
    for (i = 0; i < E / 2; i++) freq[i] = ncsn_rng_uniform(&r) * (float)(1 << (i % 14));
    ncsn__embed_sinusoid(a, cond, freq, S, E);
    ncsn__sinusoid(b, cond, freq, S, E);
    for (i = 0; i < S * E; i++)
        if (t_f2u(a[i]) != t_f2u(b[i]) && bad++ == 0) first = i;
    CHECK(bad == 0, "sinusoid on path %s: %d of %d differ from the reference (first: #%d, %a against %a)",
          ncsn_simd_name(), bad, S * E, first, (double)a[first], (double)b[first]);
}

/* this copy's kernel path (test_dispatch.c forces each in turn) */
ncsn_status tk_simd_force(const char *path) { return ncsn_simd_force(path); }

/* every N and K up to nmax against the edge list's row tails, and random triples */
static void tk_random_shapes(tk_stats *sg, tk_stats *st, tk_stats *sc, tk_stats *se, int nmax)
{
    int B, K, N, i, pad;
    /* every N in 1..nmax against every row-tail B (and K) of the edge list; pads vary */
    for (N = 1; N <= nmax; N++)
        for (i = 0; i < TK_NEDGE; i++) {
            int e = tk_edges[i];
            if (e > nmax) continue;
            B = e;
            K = tk_edges[(i * 7 + N) % TK_NEDGE];
            if (B * K * N > (t_quick ? 3000 : 12000)) K = 1 + K % 9;   /* bound the cost; K's tails are covered below */
            pad = (N + i) % 4 == 0 ? 0 : (int)(tk_u32() % 19u);
            tk_one_gemm(sg, B, K, N, pad);
            tk_one_gemm_tn(st, K, B, N, pad);     /* tn: the blocked dimension is K (rows of dW) */
            tk_one_gemm_tn(st, B, e, N, pad % 3);
            tk_one_colsum(sc, B, N, pad);
            if (i % 3 == 0) tk_one_gemm_ep(se, B, K, N, pad, (N + i) % 5, 1, 0);
            if (i % 3 == 1) tk_one_gemm_ep(se, B, K, N, pad, (N + i) % 5, 1, 1);
        }
    /* every K in 1..nmax for the gemm reduction, and random triples */
    for (K = 1; K <= nmax; K++) {
        tk_one_gemm(sg, 1 + (int)(tk_u32() % 9u), K, 1 + (int)(tk_u32() % (unsigned)nmax), (int)(tk_u32() % 5u));
        tk_one_gemm_tn(st, K, 1 + (int)(tk_u32() % 9u), 1 + (int)(tk_u32() % (unsigned)nmax), (int)(tk_u32() % 5u));
    }
    for (i = 0; i < (t_quick ? 40 : 150); i++) {
        B = 1 + (int)(tk_u32() % (unsigned)nmax);
        K = 1 + (int)(tk_u32() % (unsigned)nmax);
        N = 1 + (int)(tk_u32() % (unsigned)nmax);
        pad = (int)(tk_u32() % 33u);
        tk_one_gemm(sg, B, K, N, pad);
        tk_one_gemm_tn(st, B, K, N, pad);
        tk_one_colsum(sc, B, N, pad);
    }
}

/* the model's own shapes, the wide and packed paths, the fused products and zero sizes */
static void tk_model_shapes(tk_stats *sg, tk_stats *st, tk_stats *sc, tk_stats *se)
{
    int i;
    /* shapes of the model's own calls: a submatrix (ld > N) and a one-column conditioning */
    tk_one_gemm(sg, 13, 1, 37, 0);
    tk_one_gemm(sg, 6, 64, 64, 3);
    tk_one_gemm_tn(st, 64, 3, 128, 0);
    tk_one_gemm_tn(st, 300, 9, 70, 1);   /* several 64-sample blocks and a partial one */
    {   /* wide rows: the 8- and 4-vector single-row blocks and the 4x4 block (N up to 8 x 16 lanes and beyond) */
        static const int wide[] = { 127, 128, 129, 192, 257, 300 };
        int w, bb;
        for (w = 0; w < 6; w++)
            for (bb = 1; bb <= 6; bb++) tk_one_gemm(sg, bb, 1 + (w * 37) % 40, wide[w], w % 3);
    }
    {   /* wide weights and long rows: the packed paths (64 x 128 weight panels; 64 x 128 dY and
           64 x 48 X blocks, rows over 256), with a tail in every dimension */
        static const int pk[][4] = { { 16, 64, 129, 0 }, { 20, 70, 131, 3 }, { 64, 130, 300, 1 }, { 129, 200, 257, 7 },
                                     { 17, 47, 20, 4 }, { 70, 97, 140, 2 }, { 65, 49, 17, 40 }, { 66, 270, 40, 3 } };
        for (i = 0; i < 8; i++) {
            tk_one_gemm(sg, pk[i][0], pk[i][1], pk[i][2], pk[i][3]);
            tk_one_gemm_tn(st, pk[i][0], pk[i][1], pk[i][2], pk[i][3]);
#ifndef NCSN_NO_THREADS
            tk_one_gemm_tn_t(st, pk[i][0], pk[i][1], pk[i][2], pk[i][3], 3);   /* rows of dW (db with row 0), or columns */
#endif
        }
    }
    {   /* the fused products on every path of gemm_acc (narrow, one block, tiles, packed weight
           panels with several k panels: the bias at the first, the activation after the last) and
           of gemm_nt (K <= 128 in one panel, or panels of 64),
           K = 0 (the bias and activation alone), and on the pool (rows, and columns for a short
           batch of wide rows) */
        static const int ep[][4] = { { 9, 5, 3, 0 }, { 5, 64, 64, 1 }, { 70, 65, 257, 0 }, { 16, 130, 129, 3 }, { 20, 70, 300, 0 },
                                     { 66, 200, 131, 5 }, { 7, 0, 40, 2 }, { 100, 9, 130, 0 }, { 20, 30, 400, 1 }, { 130, 129, 3, 2 }, { 70, 128, 130, 1 }, { 12, 101, 9, 0 } };
        int mode;
        for (i = 0; i < 12; i++)
            for (mode = 0; mode < 5; mode++) {
                tk_one_gemm_ep(se, ep[i][0], ep[i][1], ep[i][2], ep[i][3], mode, 1, 0);
                tk_one_gemm_ep(se, ep[i][0], ep[i][1], ep[i][2], ep[i][3], mode, 1, 1);
#ifndef NCSN_NO_THREADS
                if (i >= 7 && i <= 10) tk_one_gemm_ep(se, ep[i][0], ep[i][1], ep[i][2], ep[i][3], mode, 3, 0);
                if (i >= 7 && i <= 10) tk_one_gemm_ep(se, ep[i][0], ep[i][1], ep[i][2], ep[i][3], mode, 3, 1);
#endif
            }
    }
#ifndef NCSN_NO_THREADS
    tk_one_gemm_tn_t(st, 100, 9, 130, 2, 3);   /* few rows of dW: columns of dW and db per thread */
    tk_one_gemm_tn_t(st, 300, 5, 70, 1, 3);
#endif
    tk_one_colsum(sc, 300, 70, 2);
    /* zero sizes leave everything unchanged (the plain loops do nothing) */
    tk_one_gemm(sg, 5, 0, 17, 2);
    tk_one_gemm_tn(st, 0, 6, 17, 2);
    tk_one_colsum(sc, 0, 33, 1);
}

/* Adam: the path's kernel against the scalar one, bit for bit, and its report of a non-finite
   weight or moment it wrote (in the vector body and in the tail) */
static void adam_reports(void)
{
    enum { NMAX = 70 };
    float g[NMAX], p[2][NMAX], m[2][NMAX], v[2][NMAX];
    ncsn__adam_job a;
    int n, q, which, bad = 0, missed = 0, diff = 0, virtual_cpu = getenv("NCSN_TEST_VIRTUAL_CPU") != NULL;
    memset(&a, 0, sizeof a);
    a.step_size = 1e-3f; a.bc2_sqrt = 0.03f; a.omb1 = 0.1f; a.omb2 = 0.001f; a.beta2 = 0.999f; a.eps = 1e-8f; a.decay = 1.0f;
    for (n = 1; n <= NMAX; n += 3)
        for (q = 0; q < 4; q++)
            for (which = 0; which < 3; which++) {
                int r[2], s, pos = q == 0 ? -1 : q == 1 ? 0 : q == 2 ? n / 2 : n - 1;
                tk_fill(g, (size_t)n);
                tk_fill(p[0], (size_t)n); tk_fill(m[0], (size_t)n); tk_fill(v[0], (size_t)n);
                for (s = 0; s < n; s++) v[0][s] = fabsf(v[0][s]);
                if (pos >= 0) {   /* an infinite weight or v, or a NaN m: what Adam writes there is not finite */
                    if (which == 0) p[0][pos] = INFINITY; else if (which == 1) m[0][pos] = NAN; else v[0][pos] = INFINITY;
                }
                memcpy(p[1], p[0], sizeof p[0]); memcpy(m[1], m[0], sizeof m[0]); memcpy(v[1], v[0], sizeof v[0]);
                for (s = 0; s < 2; s++) {
                    a.grads = g; a.params = p[s]; a.m = m[s]; a.v = v[s];
                    r[s] = s ? ncsn__kt()->adam(&a, 0, (size_t)n) : ncsn__scalar_adam(&a, 0, (size_t)n);
                }
                /* under valgrind (NCSN_TEST_VIRTUAL_CPU) the vector ops' results on infinities and
                   NaN differ from the CPU's in 3 of the non-finite cases: only the finite ones
                   are compared there (their bits, and every report, are still checked) */
                if (pos < 0 || !virtual_cpu)
                    diff += tk_first_diff_nan(p[0], p[1], (size_t)n) >= 0 || tk_first_diff_nan(m[0], m[1], (size_t)n) >= 0 ||
                            tk_first_diff_nan(v[0], v[1], (size_t)n) >= 0;
                if (pos < 0) bad += r[0] || r[1];
                else missed += !r[0] || !r[1];
                if (pos < 0) break;
            }
    CHECK(diff == 0, "adam (%s): %d cases differ from the scalar kernel", ncsn_simd_name(), diff);
    CHECK(bad == 0 && missed == 0, "adam (%s): %d finite cases reported non-finite, %d non-finite ones missed", ncsn_simd_name(), bad, missed);
}

/* The stable target's shift (ncsn__stf_row_ref's definition), written again here */
static void plain_stf_row(const float *x, const float *xt, float sg, int B, int D, int b, float *out)
{
    double qmin = HUGE_VAL, inv = 0.5 / ((double)sg * (double)sg);
    float tot = 0.0f;
    int j, d;
    for (d = 0; d < D; d++) out[d] = 0.0f;
    for (j = 0; j < B; j++) {
        double q = 0.0;
        for (d = 0; d < D; d++) q = fma((double)xt[b * D + d] - x[j * D + d], (double)xt[b * D + d] - x[j * D + d], q);
        if (q < qmin) qmin = q;
    }
    for (j = 0; j < B; j++) {
        double q = 0.0, a;
        for (d = 0; d < D; d++) q = fma((double)xt[b * D + d] - x[j * D + d], (double)xt[b * D + d] - x[j * D + d], q);
        a = (q - qmin) * inv;
        if (a < 104.0) {
            float r = ncsn_expf((float)-a);
            tot += r;
            for (d = 0; d < D; d++) out[d] = fmaf(r, x[j * D + d] - x[b * D + d], out[d]);
        }
    }
    for (d = 0; d < D; d++) out[d] = tot > 0.0f ? out[d] / tot : 0.0f;
}

/* clustered points (so that weights span 1 .. 0), each row's sigma from 1e-3 to 1e3 (so that some
   rows keep every weight and some only the nearest point's), ties, and in some shapes an infinite
   coordinate (NaN distances, skipped) */
static void stf_data(float *x, float *xt, float *sg, int B, int D, int nasty)
{
    static const float sigmas[] = { 1e-3f, 0.01f, 0.1f, 0.5f, 1.0f, 3.0f, 10.0f, 1e3f };
    int b, d;
    for (b = 0; b < B; b++) {
        float c = (float)(tk_u32() % 4u) * 2.0f;
        sg[b] = sigmas[tk_u32() % 8u];
        for (d = 0; d < D; d++) {
            x[b * D + d] = b > 0 && tk_u32() % 8u == 0 ? x[(b - 1) * D + d]
                         : c + (float)((int)(tk_u32() % 2001u) - 1000) * 1e-3f;
            xt[b * D + d] = x[b * D + d] + sg[b] * (float)((int)(tk_u32() % 2001u) - 1000) * 1e-3f;
        }
    }
    if (nasty == 1 && B > 2) x[(B / 2) * D] = (tk_u32() & 1u) ? INFINITY : -INFINITY;
    if (nasty == 2 && B > 3) {   /* row 0's second point at a = 103.99: weight e^-a = 0 in float, not skipped */
        sg[0] = 1.0f;
        xt[0] = x[0];
        x[D] = x[0] + 14.4215f;
        for (d = 1; d < D; d++) xt[d] = x[d] = x[D + d] = 0.0f;
    }
}

static void stf_kernels_same_bits(void)
{
    static const int dims[] = { 1, 2, 3, 4, 7, 16, 17 };
    int calls = 0, fails = 0, fails_plain = 0, fails_out = 0, invalid = 0, paths = 0, ip, id, ib;
    char first[160] = "";
    unsigned have = ncsn__cpu_features();
    for (ip = 0; ip < NCSN__NKTAB; ip++) paths += !(ncsn__ktab[ip].need & ~have);
    for (id = 0; id < (int)(sizeof dims / sizeof dims[0]); id++)
        for (ib = 0; ib < TK_NEDGE + 2; ib++) {
            int B = ib < TK_NEDGE ? tk_edges[ib] : ib == TK_NEDGE ? 100 : 131, D = dims[id], b, lo, hi;
            size_t n = (size_t)B * (size_t)D;
            float *x = malloc(n * sizeof *x), *xt = malloc(n * sizeof *xt), *sg = malloc((size_t)B * sizeof *sg);
            float *want = malloc(n * sizeof *want), *plain = malloc((size_t)D * sizeof *plain), *got = malloc(n * sizeof *got);
            double *scratch = malloc(((size_t)B + (size_t)D) * (NCSN__STF_LANES + NCSN__STF_LANES / 2) * sizeof *scratch);
            ncsn__stf_args a;
            if (!x || !xt || !sg || !want || !plain || !got || !scratch) { CHECK(0, "stf kernels: out of memory"); return; }
            stf_data(x, xt, sg, B, D, ib % 5 == 4 ? 1 : ib % 5 == 3 ? 2 : 0);
            a.x = x; a.xt = xt; a.sigma = sg; a.B = B; a.D = D; a.delta = want;
            for (b = 0; b < B; b++) {
                ncsn__stf_row_ref(&a, b);
                plain_stf_row(x, xt, sg[b], B, D, b, plain);
                if (tk_first_diff(want + (size_t)b * D, plain, (size_t)D) >= 0 && !fails_plain++)
                    snprintf(first, sizeof first, "the reference differs from the plain loop: B %d, D %d, row %d", B, D, b);
            }
            lo = B > 3 ? (int)(tk_u32() % 3u) : 0;
            hi = B > 3 && ib % 2 ? B - (int)(tk_u32() % 3u) : B;
            for (ip = 0; ip < NCSN__NKTAB; ip++) {
                size_t i;
                if (ncsn__ktab[ip].need & ~have) continue;
                for (i = 0; i < n; i++) got[i] = t_u2f(0x7fc0beefu);
                a.delta = got;
                feclearexcept(FE_INVALID);
                ncsn__ktab[ip].stf_rows(&a, lo, hi, scratch);
                if (ib % 5 != 4 && fetestexcept(FE_INVALID)) invalid++;   /* finite data: no NaN made inside */
                calls++;
                if (tk_first_diff(got + (size_t)lo * D, want + (size_t)lo * D, (size_t)(hi - lo) * D) >= 0 && !fails++)
                    snprintf(first, sizeof first, "%s: B %d, D %d, rows %d..%d, element %d", ncsn__ktab[ip].key, B, D, lo, hi,
                             lo * D + tk_first_diff(got + (size_t)lo * D, want + (size_t)lo * D, (size_t)(hi - lo) * D));
                for (i = 0; i < n; i++)
                    if ((i < (size_t)lo * D || i >= (size_t)hi * D) && t_f2u(got[i]) != 0x7fc0beefu) { fails_out++; break; }
            }
            free(x); free(xt); free(sg); free(want); free(plain); free(got); free(scratch);
        }
    CHECK(calls > 0 && fails == 0, "stable target kernels: %d of %d shapes differ from ncsn__stf_row_ref; first: %s", fails, calls, first);
    CHECK(fails_plain == 0, "stable target: %d rows of the reference differ from the plain loop; first: %s", fails_plain, first);
    CHECK(fails_out == 0, "stable target kernels: %d shapes wrote outside their rows", fails_out);
    CHECK(invalid == 0, "stable target kernels: %d shapes of finite data raised the invalid-operation flag", invalid);
    printf("  stable target: %d paths x %d shapes, bit for bit with the reference\n", paths, calls / (paths > 0 ? paths : 1));
}

void test_kernels(void)
{
#ifndef NCSN_NO_THREADS
    pool_parts_once();
#endif
    act_edges();
    silu_one_definition();
    normals_same_bits();
    sinusoid_same_bits();
    adam_reports();
    stf_kernels_same_bits();
#if defined(NCSN__SSE2)
    sse2_fma_exact();
#endif
    tk_stats sg, st, sc, sl, se;
    int N, nmax = t_quick ? 40 : 70;
    memset(&sg, 0, sizeof sg); memset(&st, 0, sizeof st); memset(&sc, 0, sizeof sc); memset(&sl, 0, sizeof sl);
    memset(&se, 0, sizeof se);
    tk_state = 0x9e3779b97f4a7c15ULL;

    tk_random_shapes(&sg, &st, &sc, &se, nmax);
    tk_model_shapes(&sg, &st, &sc, &se);
    for (N = 0; N <= 200; N++) tk_one_langevin(&sl, (size_t)N, N % 3);
    tk_one_langevin(&sl, 4099, 1);

    tk_report("gemm_acc", &sg);
    tk_report("gemm_tn_acc", &st);
    tk_report("colsum_acc", &sc);
    tk_report("langevin_update", &sl);
    tk_report("gemm with bias and activation (fused)", &se);

    /* the comparison can fail: one changed operation order changes bits on these inputs */
    {
        float y0[8], y1[8], x[3] = { 1.0f, 1e-8f, -1.0f }, w[3] = { 1.0f, 1.0f, 1.0f };
        memset(y0, 0, sizeof y0); memset(y1, 0, sizeof y1);
        tk_gemm_acc(y0, 1, x, 3, w, 1, 1, 3, 1);          /* ((0 + 1) + 1e-8) - 1 = 0 in float */
        y1[0] = fmaf(x[1], w[1], fmaf(x[2], w[2], fmaf(x[0], w[0], 0.0f)));  /* k = 0, 2, 1: 1e-8 */
        CHECK(t_f2u(y0[0]) != t_f2u(y1[0]), "order-sensitivity probe: both orders gave %g", (double)y0[0]);
        CHECK(y0[0] == 0.0f, "gemm_acc order: got %g, want 0 (bias, then k = 0, 1, 2 in order)", (double)y0[0]);
    }
    printf("  kernels: %s, %d gemm / %d gemm_tn / %d colsum / %d langevin / %d fused gemm shapes\n", ncsn_simd_name(),
           sg.calls, st.calls, sc.calls, sl.calls, se.calls);
}
