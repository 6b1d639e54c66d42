/* test_images.c - the image layer: IDX files (valid, truncated, lying, hostile) and inpainting. */
#include "test.h"
#include <stdlib.h>

/* an IDX file of unsigned bytes: magic 00 00 08 ndim, the sizes big-endian, then data_len bytes */
static size_t idx_make(unsigned char *out, int ndim, const uint32_t *dims, const unsigned char *data, size_t data_len)
{
    size_t k = 0;
    int d;
    out[k++] = 0; out[k++] = 0; out[k++] = 0x08; out[k++] = (unsigned char)ndim;
    for (d = 0; d < ndim; d++) {
        out[k++] = (unsigned char)(dims[d] >> 24); out[k++] = (unsigned char)(dims[d] >> 16);
        out[k++] = (unsigned char)(dims[d] >> 8); out[k++] = (unsigned char)dims[d];
    }
    if (data_len) memcpy(out + k, data, data_len);
    return k + data_len;
}

/* refused with NCSN_ERR_FORMAT, outputs cleared, and the message holds want (the field) and the source */
static int idx_refused(const unsigned char *buf, size_t len, const char *want)
{
    float *d = (float *)&d;
    int n = -1, r = -1, c = -1;
    ncsn_status st = ncsn_idx_images_mem(buf, len, "bad.idx", &d, &n, &r, &c);
    return st == NCSN_ERR_FORMAT && d == NULL && n == 0 && r == 0 && c == 0 && strstr(ncsn_last_error(), "bad.idx") &&
           strstr(ncsn_last_error(), want);
}

static void test_idx_valid(void)
{
    static const unsigned char px[12] = { 0, 255, 51, 1, 2, 3, 128, 127, 254, 10, 20, 30 };
    static const unsigned char lab[3] = { 9, 0, 255 };
    uint32_t dims[3] = { 2, 2, 3 }, nl = 3;
    unsigned char buf[64];
    size_t len = idx_make(buf, 3, dims, px, sizeof px);
    float *d = NULL;
    int *l = NULL, n = 0, r = 0, c = 0, k, ok = 1;
    CHECK(ncsn_idx_images_mem(buf, len, "ok.idx", &d, &n, &r, &c) == NCSN_OK && n == 2 && r == 2 && c == 3,
          "a valid images file: %s (n %d, rows %d, cols %d)", ncsn_last_error(), n, r, c);
    for (k = 0; d && k < 12; k++) ok &= t_f2u(d[k]) == t_f2u((float)px[k] / 255.0f) && d[k] >= 0.0f && d[k] <= 1.0f;
    CHECK(d && ok && d[1] == 1.0f && d[0] == 0.0f, "pixels are byte / 255 in [0, 1]");
    ncsn_free(d);
    len = idx_make(buf, 1, &nl, lab, sizeof lab);
    CHECK(ncsn_idx_labels_mem(buf, len, NULL, &l, &n) == NCSN_OK && n == 3 && l[0] == 9 && l[1] == 0 && l[2] == 255,
          "a valid labels file: %s", ncsn_last_error());
    ncsn_free(l);
}

static void test_idx_hostile(void)
{
    static unsigned char px[24];
    unsigned char buf[64], b2[64];
    uint32_t dims[3] = { 2, 3, 4 };
    size_t len = idx_make(buf, 3, dims, px, sizeof px), k;
    int all = 1;
    /* every proper prefix is truncated */
    for (k = 0; k < len; k++) all &= idx_refused(buf, k, "truncated");
    CHECK(all, "a truncated images file is refused, naming the source and the field (%s)", ncsn_last_error());
    memcpy(b2, buf, len);
    b2[len] = 7;
    CHECK(idx_refused(b2, len + 1, "trailing bytes"), "one byte more than the header announces: %s", ncsn_last_error());
    /* lying sizes: more images than bytes, an empty dimension, sizes whose product overflows 64 bits */
    dims[0] = 3;
    CHECK(idx_refused(b2, idx_make(b2, 3, dims, px, sizeof px), "(count = 3, rows = 3, cols = 4) announces more"), "count 3 with 2 images' bytes: %s",
          ncsn_last_error());
    dims[0] = 2; dims[1] = 0;
    CHECK(idx_refused(b2, idx_make(b2, 3, dims, px, 0), "rows = 0 must be in [1, "), "empty images (rows = 0): %s",
          ncsn_last_error());
    dims[0] = 0x7fffffffu; dims[1] = 28; dims[2] = 28;
    CHECK(idx_refused(b2, idx_make(b2, 3, dims, px, sizeof px), "count = 2147483647, rows = 28, cols = 28) announces more"),
          "2^31 - 1 images of 28 x 28 in 24 bytes: %s", ncsn_last_error());
    dims[1] = 0x7fffffffu; dims[2] = 0x7fffffffu;
    CHECK(idx_refused(b2, idx_make(b2, 3, dims, px, sizeof px), "rows x cols = 2147483647 x 2147483647"), "2^31-1 cubed: %s",
          ncsn_last_error());
    dims[0] = 0xffffffffu;
    CHECK(idx_refused(b2, idx_make(b2, 3, dims, px, sizeof px), "count = 4294967295 must be in [1, "), "count 2^32-1: %s",
          ncsn_last_error());
    dims[0] = 1; dims[1] = 65536; dims[2] = 65536;   /* rows x cols = 2^32: more than an int holds */
    CHECK(idx_refused(b2, idx_make(b2, 3, dims, px, sizeof px), "rows x cols = 65536 x 65536 is over"), "rows x cols = 2^32: %s", ncsn_last_error());
    /* wrong magic: gzip (not decompressed), another type, another number of sizes, not IDX at all */
    b2[0] = 0x1f; b2[1] = 0x8b; b2[2] = 8; b2[3] = 0;
    CHECK(idx_refused(b2, 20, "gzip"), "a gzip file: %s", ncsn_last_error());
    memcpy(b2, buf, len);
    b2[2] = 0x0d;
    CHECK(idx_refused(b2, len, "element type 0x0d"), "float elements: %s", ncsn_last_error());
    b2[2] = 0x08; b2[3] = 1;
    CHECK(idx_refused(b2, len, "ndim = 1, expected 3"), "a labels file read as images: %s", ncsn_last_error());
    b2[3] = 3; b2[0] = 'P';
    CHECK(idx_refused(b2, len, "magic 50 00 08 03"), "not an IDX file: %s", ncsn_last_error());
}

/* a 4-D mixture as the score (any score does: the rule for the known elements ignores it) */
static const float in_w[2] = { 0.5f, 0.5f }, in_mu[8] = { -1, 0, 1, 2, 1, 0.5f, -1, 0 }, in_var[8] = { 0.1f, 0.2f, 0.1f, 0.3f, 0.2f, 0.1f, 0.1f, 0.1f };
static const ncsn_gmm in_gmm = { 2, 4, in_w, in_mu, in_var };

static void test_inpaint(void)
{
    enum { D = 4, NC = 3, N = D * NC, L = 3, T = 4 };
    static const float sig[L] = { 2.0f, 0.5f, 0.1f };
    float known[N], x[N], x2[N], y[N], z[N], xa[N];
    unsigned char mask[N], none[N];
    ncsn_sampler_opts o = ncsn_sampler_recipe(sig, L, T);
    ncsn_rng r, r2, rr;
    int k, i, exact = 1, same = 1, kept = 1, lm;
    o.form = NCSN_LANGEVIN_SONG;   /* the stream below is SONG's; SONG_LM's is checked after it */
    for (k = 0; k < N; k++) { known[k] = 0.25f * (float)k - 1.0f; mask[k] = (unsigned char)(k % D < 2); none[k] = 0; }
    ncsn_rng_seed(&r, 11, 3);
    r2 = r;
    rr = r;
    CHECK(ncsn_sample_inpaint(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, &r, known, mask, x, NC) == NCSN_OK,
          "inpainting a mixture: %s", ncsn_last_error());
    /* the stream: N init normals, then per level N normals for z~ and T x N for the steps */
    ncsn_rng_normals(&rr, z, N);
    for (i = 0; i < L; i++) {
        ncsn_rng_normals(&rr, y, N);
        if (i < L - 1) ncsn_rng_advance(&rr, (uint64_t)T * N);
    }
    for (k = 0; k < N; k++)
        if (mask[k]) exact &= t_f2u(x[k]) == t_f2u(fmaf(sig[L - 1], y[k], known[k]));
        else kept &= x[k] != fmaf(sig[L - 1], y[k], known[k]) && x[k] == x[k];
    CHECK(exact, "the known elements end as known + sigma_L z~ of the last level, bit for bit");
    CHECK(kept, "the unknown elements are sampled, not replaced");
    ncsn_rng_advance(&rr, (uint64_t)T * N);
    CHECK(r.state == rr.state, "the run consumes init + L (1 + T) blocks of normals");
    CHECK(ncsn_sample_inpaint(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, &r2, known, mask, x2, NC) == NCSN_OK, "again");
    for (k = 0; k < N; k++) same &= t_f2u(x[k]) == t_f2u(x2[k]);
    CHECK(same, "the same seed gives the same bits");
    o.form = NCSN_LANGEVIN_SONG_LM;   /* one block more, its first draw */
    ncsn_rng_seed(&r, 11, 3);
    rr = r;
    CHECK(ncsn_sample_inpaint(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, &r, known, mask, x, NC) == NCSN_OK, "SONG_LM inpainting");
    ncsn_rng_advance(&rr, (uint64_t)(1 + L * (1 + T) + 1) * N);
    CHECK(r.state == rr.state, "SONG_LM: the run consumes init + L (1 + T) + 1 blocks of normals");
    /* no mask, one level, given start: ncsn_sample_annealed after the N normals of z~, in both forms */
    o.init = NCSN_INIT_GIVEN;
    o.denoise_final = 1;
    for (lm = 0; lm < 2; lm++) {
        o.form = lm ? NCSN_LANGEVIN_SONG_LM : NCSN_LANGEVIN_SONG;
        for (k = 0; k < N; k++) x[k] = xa[k] = known[k];
        ncsn_rng_seed(&r, 5, 1);
        r2 = r;
        ncsn_rng_advance(&r2, N);
        CHECK(ncsn_sample_inpaint(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, 1, &o, &r, known, none, x, NC) == NCSN_OK &&
              ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, 1, &o, &r2, xa, NC) == NCSN_OK, "one level");
        for (k = 0, same = 1; k < N; k++) same &= t_f2u(x[k]) == t_f2u(xa[k]);
        CHECK(same && r.state == r2.state, "with nothing known, inpainting is annealed Langevin (final denoising included; form %d)", lm);
    }
    CHECK(ncsn_sample_inpaint(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, &r, known, NULL, x, NC) == NCSN_ERR_ARG &&
          strstr(ncsn_last_error(), "mask"), "mask NULL is refused: %s", ncsn_last_error());
    CHECK(ncsn_sample_inpaint(ncsn_gmm_score_fn, (void *)&in_gmm, 3, sig, L, &o, &r, known, mask, x, NC) == NCSN_ERR_ARG,
          "a dimension other than the mixture's is refused");
}

/* the level of each level's first step, in the order the sampler runs them */
typedef struct rs_trace { int level[32], n; } rs_trace;
static ncsn_status rs_record(void *user, int level, int step, float sigma, const float *x, int n, int dim)
{
    rs_trace *t = (rs_trace *)user;
    (void)sigma; (void)x; (void)n; (void)dim;
    if (step == 0 && t->n < 32) t->level[t->n++] = level;
    return NCSN_OK;
}

/* a refusal of ncsn_sample_inpaint_resample whose message holds want */
static int rs_refused(const ncsn_sampler_opts *o, const ncsn_inpaint_opts *p, const float *sig, int L, const char *want)
{
    enum { D = 4, NC = 3, N = D * NC };
    float known[N], x[N];
    unsigned char mask[N];
    ncsn_rng r;
    int k;
    for (k = 0; k < N; k++) { known[k] = 0.0f; mask[k] = (unsigned char)(k % D < 2); }
    ncsn_rng_seed(&r, 1, 1);
    return ncsn_sample_inpaint_resample(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, o, p, &r, known, mask, x, NC) == NCSN_ERR_ARG &&
           strstr(ncsn_last_error(), want) != NULL;
}

/* resampling (jump back): off keeps ncsn_sample_inpaint's bits, on is deterministic, runs the
   levels in the documented order and draws the documented normals; bad settings are refused */
static void test_inpaint_resample(void)
{
    enum { D = 4, NC = 3, N = D * NC, L = 3, T = 2 };
    static const float sig[L] = { 2.0f, 0.5f, 0.1f }, flat[L] = { 2.0f, 2.0f, 0.1f };
    float known[N], x[N], x2[N], xr[N];
    unsigned char mask[N];
    ncsn_sampler_opts o = ncsn_sampler_recipe(sig, L, T);
    ncsn_inpaint_opts p = ncsn_inpaint_defaults();
    ncsn_rng r, r2, rr;
    rs_trace tr;
    int k, lm, same, differ;
    for (k = 0; k < N; k++) { known[k] = 0.25f * (float)k - 1.0f; mask[k] = (unsigned char)(k % D < 2); }
    for (lm = 0; lm < 2; lm++) {   /* off: NULL, all zero, or a window without a jump level */
        int w;
        o.form = lm ? NCSN_LANGEVIN_SONG_LM : NCSN_LANGEVIN_SONG;
        ncsn_rng_seed(&r, 11, 3);
        CHECK(ncsn_sample_inpaint(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, &r, known, mask, x, NC) == NCSN_OK, "inpainting");
        for (w = 0; w < 3; w++) {
            p = ncsn_inpaint_defaults();
            if (w == 2) { p.jump = 1; p.repeats = 3; p.sigma_hi = 0.4f; p.sigma_lo = 0.2f; }   /* no level in [0.2, 0.4] */
            ncsn_rng_seed(&r2, 11, 3);
            CHECK(ncsn_sample_inpaint_resample(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, w == 0 ? NULL : &p, &r2, known, mask, x2, NC)
                  == NCSN_OK, "resample off (%d): %s", w, ncsn_last_error());
            for (k = 0, same = 1; k < N; k++) same &= t_f2u(x[k]) == t_f2u(x2[k]);
            CHECK(same && r.state == r2.state, "resampling off (%s, form %d) keeps ncsn_sample_inpaint's bits and stream",
                  w == 0 ? "NULL" : w == 1 ? "all zero" : "no jump level in the window", lm);
        }
    }
    /* on: jump 1, repeats 2 after every level >= 1 (levels 1 and 2): each repeat draws N normals for
       the noise back up and runs two levels (N for z~, T x N for the steps) */
    o.form = NCSN_LANGEVIN_SONG;
    p = ncsn_inpaint_defaults();
    p.jump = 1; p.repeats = 2;
    ncsn_rng_seed(&r, 11, 3);
    r2 = rr = r;
    CHECK(ncsn_sample_inpaint_resample(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, &p, &r, known, mask, xr, NC) == NCSN_OK,
          "resampling on: %s", ncsn_last_error());
    ncsn_rng_advance(&rr, (uint64_t)(1 + L * (1 + T) + 2 * 2 * (1 + 2 * (1 + T))) * N);
    CHECK(r.state == rr.state, "resampling consumes init + L (1 + T) + jumps x repeats x (1 + (jump + 1)(1 + T)) blocks of normals");
    CHECK(ncsn_sample_inpaint_resample(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, &p, &r2, known, mask, x2, NC) == NCSN_OK, "again");
    for (k = 0, same = 1, differ = 0; k < N; k++) { same &= t_f2u(xr[k]) == t_f2u(x2[k]); differ |= !mask[k] && xr[k] != x[k]; }
    CHECK(same, "resampling on: the same seed gives the same bits");
    CHECK(differ, "resampling on moves the unknown elements");
    /* the order: a window [0.4, 1] holds level 1 only, jump 1, repeats 1: levels 0 1 (0 1) 2 */
    p.repeats = 1; p.sigma_hi = 1.0f; p.sigma_lo = 0.4f;
    memset(&tr, 0, sizeof tr);
    o.callback = rs_record; o.callback_user = &tr;
    ncsn_rng_seed(&r, 11, 3);
    CHECK(ncsn_sample_inpaint_resample(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, &p, &r, known, mask, xr, NC) == NCSN_OK &&
          tr.n == 5 && tr.level[0] == 0 && tr.level[1] == 1 && tr.level[2] == 0 && tr.level[3] == 1 && tr.level[4] == 2,
          "the levels run 0 1, back to 0 1, then 2 (%d runs)", tr.n);
    p.sigma_hi = 0.0f; p.sigma_lo = 0.0f;   /* every level a window: jump levels 1 and 2; period 2: level 1 only */
    memset(&tr, 0, sizeof tr);
    ncsn_rng_seed(&r, 11, 3);
    CHECK(ncsn_sample_inpaint_resample(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, &p, &r, known, mask, xr, NC) == NCSN_OK &&
          tr.n == 7 && tr.level[4] == 2 && tr.level[5] == 1 && tr.level[6] == 2, "no window, period 0: 0 1 0 1 2 1 2 (%d runs)", tr.n);
    p.period = 2;
    memset(&tr, 0, sizeof tr);
    ncsn_rng_seed(&r, 11, 3);
    CHECK(ncsn_sample_inpaint_resample(ncsn_gmm_score_fn, (void *)&in_gmm, D, sig, L, &o, &p, &r, known, mask, xr, NC) == NCSN_OK &&
          tr.n == 5 && tr.level[2] == 0 && tr.level[4] == 2, "period 2: a jump level every second level, 0 1 0 1 2 (%d runs)", tr.n);
    o.callback = NULL;
    /* refusals name the field */
    p = ncsn_inpaint_defaults(); p.jump = -1;
    CHECK(rs_refused(&o, &p, sig, L, "jump = -1 must be >= 0"), "jump -1: %s", ncsn_last_error());
    p = ncsn_inpaint_defaults(); p.repeats = -2;
    CHECK(rs_refused(&o, &p, sig, L, "repeats = -2 must be >= 0"), "repeats -2: %s", ncsn_last_error());
    p = ncsn_inpaint_defaults(); p.jump = 1; p.repeats = 1; p.period = -1;
    CHECK(rs_refused(&o, &p, sig, L, "period = -1 must be >= 0"), "period -1: %s", ncsn_last_error());
    p.period = 0; p.sigma_hi = NAN;
    CHECK(rs_refused(&o, &p, sig, L, "sigma_hi = nan"), "sigma_hi NaN: %s", ncsn_last_error());
    p.sigma_hi = 0.0f; p.sigma_lo = -1.0f;
    CHECK(rs_refused(&o, &p, sig, L, "sigma_lo = -1 must be >= 0"), "sigma_lo -1: %s", ncsn_last_error());
    p.sigma_hi = 0.5f; p.sigma_lo = 1.0f;
    CHECK(rs_refused(&o, &p, sig, L, "sigma_lo = 1 must be <= sigma_hi = 0.5"), "sigma_lo > sigma_hi: %s", ncsn_last_error());
    p = ncsn_inpaint_defaults(); p.jump = 2;
    CHECK(rs_refused(&o, &p, sig, L, "jump = 2, repeats = 0"), "jump without repeats: %s", ncsn_last_error());
    p = ncsn_inpaint_defaults(); p.repeats = 2;
    CHECK(rs_refused(&o, &p, sig, L, "jump = 0, repeats = 2"), "repeats without jump: %s", ncsn_last_error());
    p = ncsn_inpaint_defaults(); p.sigma_lo = 1.0f;
    CHECK(rs_refused(&o, &p, sig, L, "with jump = 0"), "a window without jump: %s", ncsn_last_error());
    p.sigma_lo = 0.0f; p.jump = 3; p.repeats = 1;
    CHECK(rs_refused(&o, &p, sig, L, "jump = 3 must be < L = 3"), "jump >= L: %s", ncsn_last_error());
    p.jump = 1;
    CHECK(rs_refused(&o, &p, flat, L, "decreasing sigmas; sigmas[0] = 2, sigmas[1] = 2"), "equal sigmas: %s", ncsn_last_error());
}

static void test_xent(void)
{
    static const float lg[6] = { 1.0f, 2.0f, 3.0f, 0.0f, 0.0f, 0.0f };
    static const int lab[2] = { 2, 0 };
    int bad[2] = { 2, 3 }, k;
    float d[6], loss = -1.0f;
    double z = exp(1.0) + exp(2.0) + exp(3.0), want = ((log(z) - 3.0) + log(3.0)) / 2.0;
    double dw[6];
    for (k = 0; k < 3; k++) dw[k] = (exp((double)lg[k]) / z - (k == 2)) / 2.0;
    for (k = 3; k < 6; k++) dw[k] = (1.0 / 3.0 - (k == 3)) / 2.0;
    CHECK(ncsn_softmax_xent(lg, lab, 2, 3, d, &loss) == NCSN_OK, "softmax cross-entropy: %s", ncsn_last_error());
    CHECK_CLOSE(loss, want, 1e-6, "mean of ln(e + e^2 + e^3) - 3 and ln 3");
    for (k = 0; k < 6; k++) CHECK_CLOSE(d[k], dw[k], 1e-6, "(softmax - onehot) / B");
    CHECK(ncsn_softmax_xent(lg, bad, 2, 3, d, &loss) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "labels[1] = 3"),
          "a label outside [0, K): %s", ncsn_last_error());
}

static void test_eigen_fd(void)
{
    double a[9] = { 2, 1, 0, 1, 2, 0, 0, 0, 5 }, a0[9], ev[3], v[9], fd = -1.0;
    float x[4 * 2], y[4 * 2];
    int i, j, k, ok = 1;
    ncsn_status st;
    memcpy(a0, a, sizeof a);
    st = ncsn_sym_eigen(a, 3, ev, v);
    CHECK(st == NCSN_OK && t_close(ev[0], 1, 1e-14) && t_close(ev[1], 3, 1e-14) && t_close(ev[2], 5, 1e-14),
          "eigenvalues of [[2,1,0],[1,2,0],[0,0,5]]: %g %g %g", ev[0], ev[1], ev[2]);
    for (i = 0; i < 3; i++)   /* A v_j = l_j v_j */
        for (j = 0; j < 3; j++) {
            double acc = 0.0;
            for (k = 0; k < 3; k++) acc += a0[i * 3 + k] * v[k * 3 + j];
            ok &= fabs(acc - ev[j] * v[i * 3 + j]) < 1e-13;
        }
    CHECK(ok, "the eigenvectors satisfy A v = l v");
    /* x: the four points (+-1, 0), (0, +-2): mean 0, C = diag(2/3, 8/3); y = 3x + (1, -1): C_y = 9 C_x,
       FD = |(1, -1)|^2 + tr(C + 9C - 2 (C^(1/2) 9C C^(1/2))^(1/2)) = 2 + tr(C) (10 - 6) = 2 + 4 (10/3) */
    { static const float p[8] = { 1, 0, -1, 0, 0, 2, 0, -2 };
      for (k = 0; k < 8; k++) { x[k] = p[k]; y[k] = 3.0f * p[k] + (k % 2 ? -1.0f : 1.0f); } }
    st = ncsn_frechet_distance(x, 4, y, 4, 2, &fd);
    CHECK(st == NCSN_OK && t_close(fd, 2.0 + 40.0 / 3.0, 1e-12),
          "FD of a set and its affine image: %.17g, want %.17g", fd, 2.0 + 40.0 / 3.0);
    CHECK(ncsn_frechet_distance(x, 4, x, 4, 2, &fd) == NCSN_OK && fabs(fd) < 1e-12, "FD of a set with itself: %g", fd);
    /* a correlated pair: x rotated by 45 degrees has the same eigenvalues, so FD = tr(C + R C R^T - 2 (..)^(1/2)) */
    { float r[8]; double c = sqrt(0.5), want;
      for (k = 0; k < 4; k++) { r[2 * k] = (float)(c * x[2 * k] - c * x[2 * k + 1]); r[2 * k + 1] = (float)(c * x[2 * k] + c * x[2 * k + 1]); }
      /* C = diag(a, b), R C R^T = [[s, d], [d, s]] with s = (a + b)/2, d = (a - b)/2; C^(1/2) M C^(1/2) has
         trace a s + b s and determinant a b (s^2 - d^2) = (a b)^2: its square root's trace is
         sqrt(tr + 2 sqrt(det)) */
      { double ea = 2.0 / 3.0, eb = 8.0 / 3.0, sm = (ea + eb) / 2.0, tr = ea * sm + eb * sm;
        want = 2.0 * (ea + eb) - 2.0 * sqrt(tr + 2.0 * ea * eb); }
      st = ncsn_frechet_distance(x, 4, r, 4, 2, &fd);
      CHECK(st == NCSN_OK && t_close(fd, want, 1e-6), "FD of a set and its rotation: %.17g, want %.17g", fd, want); }
    CHECK(ncsn_frechet_distance(x, 1, y, 4, 2, &fd) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "na = 1"), "one point: %s", ncsn_last_error());
    /* entries near 1e200: the squared norm overflows; the stopping test then passed at once and
       the diagonal (0, 0) came back as the eigenvalues of [[0, 1e200], [1e200, 0]] */
    { double big[4] = { 0.0, 1e200, 1e200, 0.0 }, bev[2] = { 0.0, 0.0 };
      st = ncsn_sym_eigen(big, 2, bev, NULL);
      CHECK(st == NCSN_ERR_NONFINITE && strstr(ncsn_last_error(), "overflows"),
            "an overflowing matrix is refused: status %d, eigenvalues %g %g", (int)st, bev[0], bev[1]); }
}

#if !defined(_WIN32)
static void put_file(const char *path, const unsigned char *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (fp) { fwrite(b, 1, n, fp); fclose(fp); }
}

static void test_idx_files(void)
{
    static unsigned char px[2 * 4 * 4], lab[3];
    unsigned char buf[64];
    uint32_t dims[3] = { 2, 4, 4 }, nl = 3;
    const char *im = "build/test_images_im.idx", *lb = "build/test_images_lb.idx";
    float *d = (float *)&d;
    int *l = (int *)&l, n = -1, r = -1, c = -1;
    put_file(im, buf, idx_make(buf, 3, dims, px, sizeof px));
    put_file(lb, buf, idx_make(buf, 1, &nl, lab, 2));   /* 3 announced, 2 present */
    CHECK(ncsn_idx_load(im, lb, &d, &l, &n, &r, &c) == NCSN_ERR_FORMAT && !d && !l && n == 0 &&
          strstr(ncsn_last_error(), lb) && strstr(ncsn_last_error(), "truncated"), "a truncated labels file: %s", ncsn_last_error());
    put_file(lb, buf, idx_make(buf, 1, &nl, lab, 3));   /* 3 labels for 2 images */
    CHECK(ncsn_idx_load(im, lb, &d, &l, &n, &r, &c) == NCSN_ERR_FORMAT && !d && !l && n == 0 &&
          strstr(ncsn_last_error(), "count = 3 labels") && strstr(ncsn_last_error(), "count = 2 images"),
          "labels and images counts differ: %s", ncsn_last_error());
    nl = 2;
    put_file(lb, buf, idx_make(buf, 1, &nl, lab, 2));
    CHECK(ncsn_idx_load(im, lb, &d, &l, &n, &r, &c) == NCSN_OK && n == 2 && r == 4 && c == 4 && d && l,
          "matching files load: %s", ncsn_last_error());
    ncsn_free(d);
    ncsn_free(l);
    CHECK(ncsn_idx_load_images("build/no_such.idx", &d, &n, &r, &c) == NCSN_ERR_IO && strstr(ncsn_last_error(), "no_such"),
          "a missing file: %s", ncsn_last_error());
    remove(im);
    remove(lb);
}
#endif

/* f(x) = -||mask (known - D(x))||^2 / (2 sigma^2), D(x) = x + sigma^2 s(x), in double from float scores */
static double guide_objective(ncsn_model *m, const float *x, const float *known, const unsigned char *mask, float sigma, int n)
{
    float s[64];
    double f = 0.0, v = (double)sigma * sigma;
    int k;
    if (ncsn_model_score(m, s, x, sigma, n) != NCSN_OK) return NAN;
    for (k = 0; k < n * m->cfg.dim; k++) {
        double e = (double)known[k] - ((double)x[k] + v * s[k]);
        if (mask[k]) f -= e * e / (2.0 * v);
    }
    return f;
}

/* the guided score minus the model's, against w times the central difference of guide_objective
   (relative error of the whole vector): the guidance is the gradient it claims to be */
static double guide_fd_error(ncsn_model *m, float w, float sigma)
{
    enum { GD = 5, GN = 3, GK = GD * GN };
    float x[GK], known[GK], s0[GK], sg[GK];
    unsigned char mask[GK];
    ncsn_guide g;
    double num = 0.0, den = 0.0;
    int k;
    for (k = 0; k < GK; k++) {
        x[k] = 0.3f * (float)((k * 7) % 11) - 1.2f;
        known[k] = 0.2f * (float)((k * 5) % 9) - 0.7f;
        mask[k] = (unsigned char)((k % GD) < 3);
    }
    if (ncsn_guide_init(&g, m, known, mask, w, GN) != NCSN_OK) return 1e9;
    k = ncsn_score_guided(&g, sg, x, sigma, GN) == NCSN_OK && ncsn_model_score(m, s0, x, sigma, GN) == NCSN_OK;
    ncsn_guide_free(&g);
    if (!k) return 1e9;
    for (k = 0; k < GK; k++) {
        const float h = 1e-2f, keep = x[k];
        double fp, fm, want;
        x[k] = keep + h; fp = guide_objective(m, x, known, mask, sigma, GN);
        x[k] = keep - h; fm = guide_objective(m, x, known, mask, sigma, GN);
        x[k] = keep;
        want = (double)w * (fp - fm) / (2.0 * (double)h);
        num += ((double)sg[k] - s0[k] - want) * ((double)sg[k] - s0[k] - want);
        den += want * want;
    }
    return den > 0.0 ? sqrt(num / den) : 1e9;
}

/* a guide on a network wide enough, and a batch large enough, for the pool to split the work:
   the same bits at 1 and 2 threads; the model's gradients as they were (a trainer's, mid-step) */
static void guided_threads_and_grads(void)
{
    enum { TD = 5, TN = 64, TK = TD * TN };
    ncsn_config cfg = ncsn_config_default(TD);
    ncsn_model *m = NULL;
    ncsn_guide g;
    ncsn_rng r;
    static float x[TK], known[TK], a[TK], b[TK];
    static unsigned char mask[TK];
    size_t k;
    int same = 1;
    cfg.zero_init_output = 0;
    ncsn_rng_seed(&r, 21, 6);
    if (ncsn_model_create(&m, &cfg) != NCSN_OK || ncsn_model_init(m, &r) != NCSN_OK ||
        ncsn_guide_init(&g, m, known, mask, 3.0f, TN) != NCSN_OK) { CHECK(0, "guided threads: setup %s", ncsn_last_error()); ncsn_model_free(m); return; }
    for (k = 0; k < TK; k++) { x[k] = 0.01f * (float)(k % 97) - 0.4f; known[k] = 0.02f * (float)(k % 31); mask[k] = (unsigned char)(k % TD < 2); }
    for (k = 0; k < m->n_params; k++) m->grads[k] = (float)(k % 7) - 3.0f;
    CHECK(ncsn_score_guided(&g, a, x, 0.2f, TN) == NCSN_OK, "guided: %s", ncsn_last_error());
    for (k = 0; k < m->n_params; k++) same &= m->grads[k] == (float)(k % 7) - 3.0f;
    CHECK(same, "a guided score leaves the model's gradients as they were");
#if !defined(NCSN_NO_THREADS)
    CHECK(ncsn_model_set_threads(m, 2) == NCSN_OK && ncsn_score_guided(&g, b, x, 0.2f, TN) == NCSN_OK && memcmp(a, b, sizeof a) == 0,
          "a guided score has the same bits at 2 threads (%d x %d hidden, %d chains)", cfg.hidden[0], cfg.n_hidden, TN);
#endif
    ncsn_guide_free(&g);
    ncsn_model_free(m);
}

/* the inpainting samplers with a guide: deterministic, moved by the guidance, a wrong dim refused
   before any buffer is touched; then the guide's own refusals */
static void guided_sampling(ncsn_model *m, const float *known, const unsigned char *mask, const float *x)
{
    enum { GD = 5, GN = 3, GK = GD * GN, L = 3 };
    static const float sig[L] = { 1.0f, 0.4f, 0.15f };
    ncsn_sampler_opts o = ncsn_sampler_recipe(sig, L, 3);
    ncsn_guide g, g0;
    ncsn_rng r, r2, r3;
    float a[GK], b[GK], c[GK];
    int k, moved = 0;
    if (ncsn_guide_init(&g, m, known, mask, 3.0f, GN) != NCSN_OK || ncsn_guide_init(&g0, m, known, mask, 0.0f, GN) != NCSN_OK) {
        CHECK(0, "guided sampling: setup %s", ncsn_last_error());
        return;
    }
    CHECK(ncsn_score_guided(&g, a, x, 0.2f, GN + 1) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "n = 4"), "more chains than the guide holds: %s", ncsn_last_error());
    CHECK(ncsn_score_guided(&g, a, x, 0.0f, GN) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "sigma") && strstr(ncsn_last_error(), "= 0"),
          "sigma 0 (the model's refusal): %s", ncsn_last_error());
    CHECK(ncsn_score_guided(&g, a, x, 1e-30f, GN) == NCSN_ERR_ARG, "sigma whose square underflows: %s", ncsn_last_error());
    CHECK(ncsn_score_guided(&g0, a, x, 1e-30f, GN) == NCSN_OK && ncsn_model_score(m, b, x, 1e-30f, GN) == NCSN_OK && memcmp(a, b, sizeof a) == 0,
          "weight 0 is the model's score at any sigma the model takes: %s", ncsn_last_error());
    g.sigma_min = NAN;
    CHECK(ncsn_score_guided(&g, a, x, 0.2f, GN) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "sigma_min = nan"), "a NaN sigma_min: %s", ncsn_last_error());
    g.sigma_min = 0.0f;
    ncsn_rng_seed(&r, 4, 4);
    r2 = r3 = r;
    o.denoise_final = 0;
    CHECK(ncsn_sample_inpaint(ncsn_score_guided, &g, GD, sig, L, &o, &r, known, mask, a, GN) == NCSN_OK &&
          ncsn_sample_inpaint(ncsn_score_guided, &g, GD, sig, L, &o, &r2, known, mask, b, GN) == NCSN_OK && memcmp(a, b, sizeof a) == 0,
          "guided inpainting runs and repeats its bits: %s", ncsn_last_error());
    CHECK(ncsn_sample_inpaint(ncsn_model_score, m, GD, sig, L, &o, &r3, known, mask, c, GN) == NCSN_OK, "unguided: %s", ncsn_last_error());
    for (k = 0; k < GK; k++) moved += !mask[k] && a[k] != c[k];
    CHECK(moved == GK - (int)(GK * 2 / 3), "guidance moves every unknown element of the unguided run (%d moved)", moved);
    CHECK(ncsn_sample_inpaint(ncsn_score_guided, &g, GD - 1, sig, L, &o, &r, known, mask, a, GN) == NCSN_ERR_ARG &&
          strstr(ncsn_last_error(), "dim = 4") && strstr(ncsn_last_error(), "guide's model"), "a dim other than the guide's model's: %s", ncsn_last_error());
    ncsn_guide_free(&g);
    ncsn_guide_free(&g);   /* twice is harmless */
    ncsn_guide_free(&g0);
    CHECK(ncsn_score_guided(&g, a, x, 0.2f, GN) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "not initialised"), "a freed guide: %s", ncsn_last_error());
    CHECK(ncsn_guide_init(&g, m, known, mask, -1.0f, GN) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "weight = -1"), "negative weight: %s", ncsn_last_error());
    CHECK(ncsn_guide_init(&g, m, known, mask, NAN, GN) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "weight = nan"), "NaN weight: %s", ncsn_last_error());
    CHECK(ncsn_guide_init(&g, m, NULL, mask, 1.0f, GN) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "known = NULL"), "no known: %s", ncsn_last_error());
    CHECK(ncsn_guide_init(&g, m, known, mask, 1.0f, 0) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "n = 0"), "0 chains: %s", ncsn_last_error());
    CHECK(ncsn_guide_init(NULL, m, known, mask, 1.0f, GN) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "guide = NULL"), "no guide: %s", ncsn_last_error());
}

/* reconstruction guidance: weight 0 is the model's score bit for bit; the added term is the
   gradient of w f (plain and preconditioned output); the same bits at 1 and 2 threads; the model's
   gradients are left zero; refusals name the parameter; inpainting with it keeps the known pixels */
static void test_inpaint_guided(void)
{
    enum { GD = 5, GN = 3, GK = GD * GN };
    ncsn_config cfg = ncsn_config_default(GD);
    ncsn_model *m = NULL, *pc = NULL, *em = NULL;
    ncsn_config ecfg = ncsn_config_embed(GD, 8, 16, 2);
    ncsn_rng r;
    ncsn_guide g;
    float x[GK], known[GK], a[GK], b[GK];
    unsigned char mask[GK];
    size_t k;
    double e1, e2, e3, e4;
    cfg.hidden[0] = cfg.hidden[1] = cfg.hidden[2] = 16;
    cfg.zero_init_output = 0;   /* a zero last layer makes J = 0 and the test blind */
    ncsn_rng_seed(&r, 21, 5);
    if (ncsn_model_create(&m, &cfg) != NCSN_OK || ncsn_model_init(m, &r) != NCSN_OK) { CHECK(0, "guided: setup %s", ncsn_last_error()); ncsn_model_free(m); return; }
    cfg.scale_by_sigma = 0; cfg.precond = 1; cfg.sigma_data = 0.5f;
    if (ncsn_model_create(&pc, &cfg) != NCSN_OK || ncsn_model_init(pc, &r) != NCSN_OK) { CHECK(0, "guided: setup %s", ncsn_last_error()); ncsn_model_free(m); ncsn_model_free(pc); return; }
    for (k = 0; k < m->n_params; k++) m->params[k] *= 3.0f;   /* a Jacobian as large as the identity part: J^T r counts */
    for (k = 0; k < GK; k++) { x[k] = 0.1f * (float)k - 0.5f; known[k] = 0.05f * (float)k; mask[k] = (unsigned char)(k % 3 != 1); }
    CHECK(ncsn_guide_init(&g, m, known, mask, 0.0f, GN) == NCSN_OK && ncsn_score_guided(&g, a, x, 0.4f, GN) == NCSN_OK &&
          ncsn_model_score(m, b, x, 0.4f, GN) == NCSN_OK && memcmp(a, b, sizeof a) == 0, "guidance weight 0 is the model's score, bit for bit");
    ncsn_guide_free(&g);
    CHECK(ncsn_guide_init(&g, m, known, mask, 4.0f, GN) == NCSN_OK && g.sigma_min == 0.0f && (g.sigma_min = 0.41f) > 0.0f &&
          ncsn_score_guided(&g, a, x, 0.4f, GN) == NCSN_OK && memcmp(a, b, sizeof a) == 0 &&
          ncsn_score_guided(&g, a, x, 0.41f, GN) == NCSN_OK && ncsn_model_score(m, b, x, 0.41f, GN) == NCSN_OK && memcmp(a, b, sizeof a) != 0,
          "below sigma_min the guided score is the model's, bit for bit; at sigma_min it is guided");
    ncsn_guide_free(&g);
    e1 = guide_fd_error(m, 1.0f, 0.4f);
    e2 = guide_fd_error(m, 2.5f, 1.3f);
    e3 = guide_fd_error(pc, 1.0f, 0.4f);
    ecfg.zero_init_output = 0;
    if (ncsn_model_create(&em, &ecfg) == NCSN_OK && ncsn_model_init(em, &r) == NCSN_OK)
        for (k = 0; k < em->n_params; k++) em->params[k] *= 3.0f;
    e4 = em ? guide_fd_error(em, 1.0f, 0.4f) : 1e9;
    ncsn_model_free(em);
    CHECK(e1 < 1e-3 && e2 < 1e-3 && e3 < 1e-3 && e4 < 1e-3, "guidance is w times the gradient of -|mask (known - D(x))|^2 / (2 sigma^2): "
          "relative errors %.2g, %.2g (w 2.5, sigma 1.3), %.2g (preconditioned output), %.2g (sigma embedding)", e1, e2, e3, e4);
    guided_sampling(m, known, mask, x);
    ncsn_model_free(m);
    ncsn_model_free(pc);
}

void test_images(void)
{
    test_idx_valid();
    test_idx_hostile();
    test_inpaint();
    test_inpaint_resample();
    test_inpaint_guided();
    guided_threads_and_grads();
    test_xent();
    test_eigen_fd();
#if !defined(_WIN32)
    test_idx_files();
#endif
}
