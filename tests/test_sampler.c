/* test_sampler.c - Langevin samplers against exact properties of Gaussian targets. */
#include "test.h"
#include <stdlib.h>

/* plain Langevin on N(m, s^2) is an AR(1) chain: x' = x + c (m - x)/s^2 + k z. Its stationary
   law is N(m, k^2 / (1 - (1 - c/s^2)^2)); SONG and HALF are checked against that. SONG_LM's noise
   (z_t + z_{t+1})/2 makes it an ARMA(1,1) chain whose stationary variance is s^2 itself for any
   step c < 2 s^2: checked at a small step and at c = s^2/2, where SONG's is 4/3 s^2. */
static void stationary_gaussian(void)
{
    static const float mu[2] = { 1.5f, -2.0f }, var[2] = { 0.49f, 0.49f }, w[1] = { 1.0f }, steps[2] = { 0.05f, 0.245f };
    ncsn_gmm g = { 1, 2, w, mu, var };
    enum { N = 20000 };
    float *x = (float *)malloc(sizeof(float) * 2 * N);
    int f, i, j;
    ncsn_rng r;
    ncsn_rng_seed(&r, 77, 0);
    for (j = 0; j < 2; j++)
        for (f = 0; f < 3; f++) {
            ncsn_sampler_opts o = ncsn_sampler_defaults();
            float c, k, step = steps[j];
            double rho, want_var, mean = 0, m2 = 0;
            o.form = (ncsn_langevin_form)f;
            o.init = NCSN_INIT_NORMAL;
            CHECK(ncsn_sample_langevin(ncsn_gmm_score_fn, &g, 2, 0.0f, step, t_quick ? 100 : 300, &o, &r, x, N) == NCSN_OK, "langevin");
            ncsn_langevin_coeffs(o.form, step, 1.0f, 1.0f, &c, &k);
            rho = 1.0 - c / 0.49;
            want_var = o.form == NCSN_LANGEVIN_SONG_LM ? 0.49 : (double)k * k / (1.0 - rho * rho);
            for (i = 0; i < N; i++) { mean += x[2 * i]; m2 += (x[2 * i] - 1.5) * (x[2 * i] - 1.5); }
            mean /= N;
            m2 /= N;
            CHECK(fabs(mean - 1.5) < 5.0 * sqrt(want_var / N), "form %d, step %g: stationary mean %g, want 1.5", f, (double)step, mean);
            CHECK(fabs(m2 / want_var - 1.0) < 5.0 * sqrt(2.0 / N), "form %d, step %g: stationary variance %g, want %g", f, (double)step, m2,
                  want_var);
        }
    free(x);
}

/* the final denoising step x + sigma_L^2 s(x, sigma_L) is Tweedie's formula: for data at one
   point it returns that point exactly (up to rounding) */
static void denoise_final(void)
{
    static const float mu[2] = { 0.25f, -4.0f }, v0[2] = { 0.0f, 0.0f }, w[1] = { 1.0f };
    ncsn_gmm g = { 1, 2, w, mu, v0 };
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    float sig[4], x[64 * 2];
    int i, bad = 0;
    ncsn_rng r;
    ncsn_rng_seed(&r, 3, 9);
    ncsn_schedule(sig, 4, 2.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC);
    o.eps = 1e-3f;
    o.steps_per_level = 20;
    o.denoise_final = 1;
    CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, &g, 2, sig, 4, &o, &r, x, 64) == NCSN_OK, "sample");
    for (i = 0; i < 64; i++) bad += fabsf(x[2 * i] - 0.25f) > 1e-5f || fabsf(x[2 * i + 1] + 4.0f) > 1e-5f;
    CHECK(bad == 0, "denoising step: %d of 64 samples not at the point mass", bad);
}

static int calls;
static ncsn_status stop_at_7(void *u, int level, int step, float sigma, const float *x, int n, int dim)
{
    (void)u; (void)level; (void)step; (void)sigma; (void)x; (void)n; (void)dim;
    return ++calls == 7 ? NCSN_ERR_CALLBACK : NCSN_OK;
}

static void api_checks(void)
{
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    float sig[3] = { 4.0f, 2.0f, 1.0f }, x[20 * 2], y[20 * 2];
    ncsn_rng r, r2;
    int i, inbox = 1;
    /* reproducible: same seed, same bits; uniform start inside the box */
    o.init = NCSN_INIT_UNIFORM;
    o.init_lo = -3.0f;
    o.init_hi = 2.0f;
    o.steps_per_level = 0;
    ncsn_rng_seed(&r, 1, 2);
    ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, &o, &r, x, 20);
    for (i = 0; i < 40; i++) inbox &= x[i] >= -3.0f && x[i] < 2.0f;
    CHECK(inbox, "uniform start inside [init_lo, init_hi)");
    o.steps_per_level = 10;
    ncsn_rng_seed(&r, 1, 2);
    ncsn_rng_seed(&r2, 1, 2);
    ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, &o, &r, x, 20);
    ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, &o, &r2, y, 20);
    CHECK(memcmp(x, y, sizeof x) == 0, "same seed, same samples");
    /* a callback can stop the sampler */
    calls = 0;
    o.callback = stop_at_7;
    CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, &o, &r, x, 20) == NCSN_ERR_CALLBACK && calls == 7,
          "callback stop after %d calls: %s", calls, ncsn_last_error());
    o.callback = NULL;
    /* a step far too large: chains diverge; the sampler says how many */
    o.eps = 1e4f;
    CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, &o, &r, x, 20) == NCSN_ERR_NONFINITE &&
          strstr(ncsn_last_error(), "of 20 chains diverged"), "divergence reported: %s", ncsn_last_error());
    /* arguments */
    o = ncsn_sampler_defaults();
    sig[1] = -1.0f;
    CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, &o, &r, x, 20) == NCSN_ERR_ARG &&
          strstr(ncsn_last_error(), "sigmas[1]") && strstr(ncsn_last_error(), "-1"), "bad sigma: %s", ncsn_last_error());
    sig[1] = 2.0f;
    CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, &o, &r, x, 0) == NCSN_ERR_ARG &&
          strstr(ncsn_last_error(), "n = 0"), "n = 0: %s", ncsn_last_error());
    o.eps = -1.0f;
    CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, &o, &r, x, 20) == NCSN_ERR_ARG &&
          strstr(ncsn_last_error(), "eps"), "eps < 0: %s", ncsn_last_error());
    o = ncsn_sampler_defaults();
    CHECK(ncsn_sample_langevin(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, 0.0f, 0.0f, 5, &o, &r, x, 20) == NCSN_ERR_ARG &&
          strstr(ncsn_last_error(), "step"), "step 0: %s", ncsn_last_error());
    o.init = NCSN_INIT_UNIFORM;
    o.init_lo = 1.0f;
    o.init_hi = 1.0f;
    CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, &o, &r, x, 20) == NCSN_ERR_ARG &&
          strstr(ncsn_last_error(), "init_lo"), "empty box: %s", ncsn_last_error());
}

/* the exact mixture score against central differences of the exact log density */
static void gmm_score_checks(void)
{
    static const float w[3] = { 0.2f, 0.5f, 0.3f }, mu[6] = { -1, 2, 3, 0.5f, 0, -3 }, var[6] = { 0.3f, 1.0f, 2.0f, 0.1f, 0.0f, 0.0f };
    ncsn_gmm g = { 3, 2, w, mu, var };
    ncsn_rng r;
    int i, d, bad = 0;
    ncsn_rng_seed(&r, 4, 4);
    for (i = 0; i < 200; i++) {
        float x[2], s[2], sigma = 0.3f + 2.0f * ncsn_rng_uniform(&r);
        ncsn_rng_normals(&r, x, 2);
        x[0] *= 3.0f; x[1] *= 3.0f;
        ncsn_gmm_score(&g, s, x, sigma, 1);
        for (d = 0; d < 2; d++) {
            float xp[2] = { x[0], x[1] }, xm[2] = { x[0], x[1] }, h = 1e-2f;
            double num;
            xp[d] += h; xm[d] -= h;
            num = ((double)ncsn_gmm_logpdf(&g, xp, sigma) - ncsn_gmm_logpdf(&g, xm, sigma)) / (xp[d] - xm[d]);
            if (!t_close(s[d], num, 2e-3)) bad++;
        }
    }
    CHECK(bad == 0, "exact mixture score differs from d/dx log q_sigma in %d of 400 cases", bad);
    {   /* sampling the mixture: component frequencies */
        int comp[30000], cnt[3] = { 0, 0, 0 };
        float *x = (float *)malloc(sizeof(float) * 60000);
        ncsn_gmm_sample(&g, &r, x, comp, 30000);
        for (i = 0; i < 30000; i++) cnt[comp[i]]++;
        for (i = 0; i < 3; i++)
            CHECK(fabs(cnt[i] / 30000.0 - w[i]) < 5 * sqrt(w[i] * (1 - w[i]) / 30000), "component %d frequency %g", i, cnt[i] / 30000.0);
        free(x);
    }
}

/* the samplers know the dimension of the library's own score functions: a model or mixture of another
   dimension than dim would write its scores past the sampler's buffers (each case in a child) */
static ncsn_model *sd_m;
static int sd_which;
static int sd_run(void)
{
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    float sig[2] = { 1.0f, 0.5f }, x[16 * 3], out[2];
    ncsn_rng r;
    ncsn_rng_seed(&r, 2, 2);
    ncsn_rng_normals(&r, x, 16 * 3);
    o.steps_per_level = 2;
    switch (sd_which) {
    case 0: return (int)ncsn_sample_annealed(ncsn_model_score, sd_m, 2, sig, 2, &o, &r, x, 16);
    case 1: return (int)ncsn_sample_langevin(ncsn_model_score, sd_m, 2, 0.5f, 0.01f, 2, &o, &r, x, 16);
    case 2: return (int)ncsn_sigma_score_norms(ncsn_model_score, sd_m, 2, sig, 2, x, 16, &r, out);
    case 3: return (int)ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 3, sig, 2, &o, &r, x, 16);
    default: return (int)ncsn_sample_annealed(ncsn_model_score, sd_m, 3, sig, 2, &o, &r, x, 16);   /* the right dim */
    }
}

static void score_dim_checks(void)
{
    static const char *const what[5] = { "annealed, a dim-3 model as dim 2", "plain Langevin, a dim-3 model as dim 2",
                                         "score norms, a dim-3 model as dim 2", "annealed, the 2-d toy mixture as dim 3", "the model's own dim" };
    ncsn_config c = ncsn_config_concat(3, 64, 2);
    ncsn_rng r;
    int k;
    ncsn_rng_seed(&r, 3, 3);
    if (ncsn_model_create(&sd_m, &c) != NCSN_OK) { CHECK(0, "score dims: setup"); return; }
    ncsn_model_init(sd_m, &r);
    for (k = 0; k < 5; k++) {
        int rc;
        sd_which = k;
        rc = t_in_child(sd_run);
        CHECK(rc == (k == 4 ? (int)NCSN_OK : (int)NCSN_ERR_ARG) || rc == -2, "%s: %s", what[k], rc == -1 ? "crashed" : "wrong status");
        if (rc == (int)NCSN_ERR_ARG)
            CHECK(sd_run() == NCSN_ERR_ARG && strstr(ncsn_last_error(), "dim = ") && strstr(ncsn_last_error(), "dimension"), "%s: message '%s'",
                  what[k], ncsn_last_error());
    }
    ncsn_model_free(sd_m);
}

/* Sampling in pieces gives the bits of one batch: chains [first, first + count) for piece sizes
   1, 7 and n (n = 23, prime: pieces end at every residue), an odd dimension (a piece's noise can
   start with the sine half of a pair), every start (normal, sigma_1, uniform, given), the final
   denoising step, a network (dim 3) and a mixture (dim 2), divergent chains; the rng ends where one
   batch ends it, and the callback sees every chain once per step. */
static int pc_calls;
static ncsn_status pc_count(void *u, int level, int step, float sigma, const float *x, int n, int dim)
{
    (void)u; (void)level; (void)step; (void)sigma; (void)x; (void)dim;
    pc_calls += n;
    return NCSN_OK;
}

static void pieces_same_bits(void)
{
    enum { N = 23, D = 3 };
    static const int sizes[3] = { 1, 7, N };
    ncsn_config cfg = ncsn_config_embed(D, 8, 16, 2);
    ncsn_model *m = NULL;
    float sig[3] = { 3.0f, 1.0f, 0.2f }, start[N * D], one[N * D], part[N * D];
    ncsn_rng r;
    int v, k, bad_bits = 0, bad_rng = 0, bad_status = 0, cases = 0;
    cfg.zero_init_output = 0;
    ncsn_rng_seed(&r, 11, 12);
    if (ncsn_model_create(&m, &cfg) != NCSN_OK || ncsn_model_init(m, &r) != NCSN_OK) { CHECK(0, "pieces: setup"); ncsn_model_free(m); return; }
    ncsn_rng_normals(&r, start, N * D);
    for (v = 0; v < 6; v++) {
        ncsn_sampler_opts o = ncsn_sampler_defaults();
        ncsn_score_fn fn = v >= 4 ? ncsn_gmm_score_fn : ncsn_model_score;
        void *user = v >= 4 ? (void *)ncsn_gmm_toy() : (void *)m;
        int dim = v >= 4 ? 2 : D, calls_one;
        ncsn_rng r_one, r0;
        ncsn_status st_one;
        o.steps_per_level = 4;
        o.eps = v == 5 ? 1e4f : 0.05f;   /* 5: a step so large that chains diverge */
        o.init = v == 0 || v == 5 ? NCSN_INIT_NORMAL : v == 1 ? NCSN_INIT_NORMAL_SIGMA1 : v == 2 ? NCSN_INIT_UNIFORM : v == 3 ? NCSN_INIT_GIVEN
                                                                                                                       : NCSN_INIT_NORMAL;
        o.denoise_final = v == 1 || v == 3;
        if (v == 1 || v == 4) o.form = NCSN_LANGEVIN_SONG_LM;   /* its first draw is a piece's too */
        if (v == 1 || v == 2) { o.fine_factor = 3; o.fine_sigma = 1.0f; }   /* fine steps at the first two levels */
        o.predictor = v == 2 || v == 4 || v == 5 ? NCSN_PREDICT_ANCESTRAL : v == 3 ? NCSN_PREDICT_ODE : NCSN_PREDICT_NONE;   /* its normals are a piece's too */
        o.callback = pc_count;
        ncsn_rng_seed(&r0, 40 + (uint64_t)v, 7);
        r_one = r0;
        memcpy(one, start, sizeof one);
        pc_calls = 0;
        st_one = ncsn_sample_annealed(fn, user, dim, sig, 3, &o, &r_one, one, N);
        calls_one = pc_calls;
        for (k = 0; k < 3; k++) {
            int first, st_any = NCSN_OK;
            ncsn_rng rr = r0;
            memcpy(part, start, sizeof part);
            pc_calls = 0;
            for (first = 0; first < N; first += sizes[k]) {
                int c = N - first < sizes[k] ? N - first : sizes[k];
                ncsn_status st;
                rr = r0;
                st = ncsn_sample_annealed_chains(fn, user, dim, sig, 3, &o, &rr, part + (size_t)first * dim, N, first, c);
                if (st != NCSN_OK) st_any = (int)st;
                if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) bad_status++;
            }
            cases++;
            if (memcmp(one, part, sizeof(float) * (size_t)N * dim) != 0) bad_bits++;
            if (rr.state != r_one.state || rr.inc != r_one.inc) bad_rng++;
            if ((st_any == NCSN_OK) != (st_one == NCSN_OK) || pc_calls != calls_one) bad_status++;
        }
        if (v == 5) CHECK(st_one == NCSN_ERR_NONFINITE, "pieces: the divergent case did not diverge (%s)", ncsn_last_error());
    }
    CHECK(bad_bits == 0, "pieces: %d of %d runs in pieces differ from one batch", bad_bits, cases);
    CHECK(bad_rng == 0, "pieces: %d of %d runs leave the rng elsewhere than one batch", bad_rng, cases);
    CHECK(bad_status == 0, "pieces: %d statuses or callback counts differ from one batch", bad_status);
    {   /* the piece must lie in [0, n) */
        ncsn_sampler_opts o = ncsn_sampler_defaults();
        CHECK(ncsn_sample_annealed_chains(ncsn_model_score, m, D, sig, 3, &o, &r, part, N, 20, 4) == NCSN_ERR_ARG &&
              strstr(ncsn_last_error(), "[20, 20 + 4)"), "a piece past n: %s", ncsn_last_error());
        CHECK(ncsn_sample_annealed_chains(ncsn_model_score, m, D, sig, 3, &o, &r, part, N, -1, 2) == NCSN_ERR_ARG, "a piece before 0");
        CHECK(ncsn_sample_annealed_chains(ncsn_model_score, m, D, sig, 3, &o, &r, part, N, 0, 0) == NCSN_ERR_ARG, "an empty piece");
    }
    ncsn_model_free(m);
}

/* steps per level seen by the callback */
static int fs_steps[3];
static ncsn_status fs_count(void *u, int level, int step, float sigma, const float *x, int n, int dim)
{
    (void)u; (void)step; (void)sigma; (void)x; (void)n; (void)dim;
    if (level >= 0 && level < 3) fs_steps[level]++;
    return NCSN_OK;
}

/* o and p run from one rng state give the same bits and leave the rng at one place (1), both OK */
static int fs_same_run(const ncsn_sampler_opts *o, const ncsn_sampler_opts *p, uint64_t seed, const float *sig, float *a, float *b, int n)
{
    ncsn_rng ra, rb;
    ncsn_rng_seed(&ra, seed, 6);
    rb = ra;
    return ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, o, &ra, a, n) == NCSN_OK &&
           ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 3, p, &rb, b, n) == NCSN_OK &&
           memcmp(a, b, sizeof(float) * 2 * (size_t)n) == 0 && ra.state == rb.state;
}

/* fine_factor f: the levels with sigma >= fine_sigma take f x T steps at eps / f. On every level it
   is the plain run with f T steps at eps / f, bit for bit; on none (or f = 0, 1) the plain run */
static void fine_steps(void)
{
    enum { N = 9 };
    const ncsn_gmm *g = ncsn_gmm_toy();
    float sig[3] = { 4.0f, 1.0f, 0.25f }, a[N * 2], b[N * 2], known[N * 2];
    unsigned char mask[N * 2];
    int form, k, same = 1, plain = 1;
    for (form = 0; form < 3; form++) {
        ncsn_sampler_opts o = ncsn_sampler_defaults(), p;
        o.form = (ncsn_langevin_form)form;
        o.steps_per_level = 5;
        o.eps = 0.01f;
        o.fine_factor = 3;
        o.fine_sigma = 0.0f;
        p = o;
        p.fine_factor = 0;
        p.steps_per_level = 15;
        p.eps = o.eps / 3.0f;
        same &= fs_same_run(&o, &p, 5, sig, a, b, N);
        for (k = 0; k < 3; k++) {   /* no level at or above fine_sigma, or factor 0 or 1: the plain run */
            o.fine_sigma = k == 0 ? 5.0f : 0.0f;
            o.fine_factor = k == 0 ? 3 : k - 1;
            p = o;
            p.fine_factor = 0;
            plain &= fs_same_run(&o, &p, 7, sig, a, b, N);
        }
    }
    CHECK(same, "fine steps on every level: not the plain run with 3 T steps at eps / 3");
    CHECK(plain, "fine steps on no level: not the plain run");
    {   /* the levels at or above fine_sigma take f x T steps, in annealed runs and in inpainting */
        ncsn_sampler_opts o = ncsn_sampler_defaults();
        ncsn_rng r;
        o.steps_per_level = 2; o.eps = 0.01f; o.fine_factor = 4; o.fine_sigma = 1.0f; o.callback = fs_count;
        ncsn_rng_seed(&r, 8, 1);
        memset(fs_steps, 0, sizeof fs_steps);
        CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)g, 2, sig, 3, &o, &r, a, N) == NCSN_OK &&
              fs_steps[0] == 8 && fs_steps[1] == 8 && fs_steps[2] == 2, "fine steps per level %d %d %d (want 8 8 2)", fs_steps[0], fs_steps[1], fs_steps[2]);
        for (k = 0; k < N * 2; k++) { known[k] = 0.5f; mask[k] = (unsigned char)(k % 2); }
        memset(fs_steps, 0, sizeof fs_steps);
        CHECK(ncsn_sample_inpaint(ncsn_gmm_score_fn, (void *)g, 2, sig, 3, &o, &r, known, mask, a, N) == NCSN_OK &&
              fs_steps[0] == 8 && fs_steps[1] == 8 && fs_steps[2] == 2, "inpainting: fine steps per level %d %d %d (want 8 8 2)", fs_steps[0], fs_steps[1], fs_steps[2]);
        o.callback = NULL;
        o.fine_factor = -1;
        CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)g, 2, sig, 3, &o, &r, a, N) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "fine_factor = -1"),
              "fine_factor -1: %s", ncsn_last_error());
        o.fine_factor = 4; o.steps_per_level = 1 << 30;
        CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)g, 2, sig, 3, &o, &r, a, N) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "4 x 1073741824"),
              "4 x 2^30 steps: %s", ncsn_last_error());
        o.steps_per_level = 2; o.fine_sigma = NAN;
        CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)g, 2, sig, 3, &o, &r, a, N) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "fine_sigma = nan"),
              "fine_sigma nan: %s", ncsn_last_error());
        o.fine_sigma = 1.0f; o.eps = 1e-45f;   /* the smallest subnormal: a quarter of it is 0 */
        CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)g, 2, sig, 3, &o, &r, a, N) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "underflows"),
              "eps / 4 underflowing: %s", ncsn_last_error());
    }
}

/* the score of a point mass at pm_mu[] noised by sigma: -(x - mu) / sigma^2, in dimension 2 */
static const float pm_mu[2] = { 1.0f, -2.0f };
static int pm_calls;
static ncsn_status pm_score(void *u, float *out, const float *x, float sigma, int n)
{
    int k;
    (void)u;
    pm_calls++;
    for (k = 0; k < 2 * n; k++) out[k] = -(x[k] - pm_mu[k % 2]) / (sigma * sigma);
    return NCSN_OK;
}

/* The predictors alone (no Langevin step) on a point mass started at its noised density at sigma_1:
   both carry it to exactly its density at sigma_L (the ODE chain by chain, as (x - mu) / sigma is
   kept; the ancestral one in distribution), with one score per transition; without a predictor
   nothing moves; a predictor outside 0..2, or one in inpainting, is refused */
static void predictors(void)
{
    enum { N = 20000, L = 5 };
    static float x0[N * 2], x[N * 2];
    float sig[L] = { 4.0f, 2.0f, 1.0f, 0.5f, 0.25f }, known[4] = { 0 };
    unsigned char mask[4] = { 1, 0, 1, 0 };
    double worst = 0.0, m[2] = { 0, 0 }, v[2] = { 0, 0 };
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    ncsn_rng r;
    int k;
    ncsn_rng_seed(&r, 31, 4);
    ncsn_rng_normals(&r, x0, N * 2);
    for (k = 0; k < N * 2; k++) x0[k] = pm_mu[k % 2] + sig[0] * x0[k];
    o.steps_per_level = 0; o.init = NCSN_INIT_GIVEN; o.denoise_final = 0; o.eps = 0.01f;
    o.predictor = NCSN_PREDICT_ODE;
    memcpy(x, x0, sizeof x);
    pm_calls = 0;
    CHECK(ncsn_sample_annealed(pm_score, NULL, 2, sig, L, &o, &r, x, N) == NCSN_OK && pm_calls == L - 1, "ode predictor: %s, %d scores (want %d)",
          ncsn_last_error(), pm_calls, L - 1);
    for (k = 0; k < N * 2; k++) {
        double want = pm_mu[k % 2] + (x0[k] - pm_mu[k % 2]) * (sig[L - 1] / sig[0]), e = fabs(x[k] - want) / (fabs(want) + 1.0);
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-5, "ode predictor: a point mass's chain moved off mu + (x - mu) sigma_L / sigma_1 by %g", worst);
    o.predictor = NCSN_PREDICT_ANCESTRAL;
    memcpy(x, x0, sizeof x);
    CHECK(ncsn_sample_annealed(pm_score, NULL, 2, sig, L, &o, &r, x, N) == NCSN_OK, "ancestral predictor: %s", ncsn_last_error());
    for (k = 0; k < N * 2; k++) m[k % 2] += x[k] / N;
    for (k = 0; k < N * 2; k++) v[k % 2] += (x[k] - m[k % 2]) * (x[k] - m[k % 2]) / (N - 1);
    /* 20 000 chains: each mean to 0.0018 (1 sd), each variance (0.0625) to 1 % (1 sd); from sigma_1 it
       would be 16 */
    CHECK(fabs(m[0] - 1.0) < 0.01 && fabs(m[1] + 2.0) < 0.01 && fabs(v[0] / 0.0625 - 1.0) < 0.05 && fabs(v[1] / 0.0625 - 1.0) < 0.05,
          "ancestral predictor: mean %g %g (want 1 -2), variance %g %g (want 0.0625)", m[0], m[1], v[0], v[1]);
    o.predictor = NCSN_PREDICT_NONE;
    memcpy(x, x0, sizeof x);
    CHECK(ncsn_sample_annealed(pm_score, NULL, 2, sig, L, &o, &r, x, N) == NCSN_OK && memcmp(x, x0, sizeof x) == 0, "no predictor, no steps: x moved");
    {   /* a level equal to the next takes no predictor step: levels 2, 2, 1 run as 2, 1 (bits, rng, scores) */
        float eq[3] = { 2.0f, 2.0f, 1.0f };
        ncsn_rng ra, rb;
        o.predictor = NCSN_PREDICT_ANCESTRAL;
        ncsn_rng_seed(&ra, 9, 9);
        rb = ra;
        memcpy(x, x0, sizeof(float) * 64);
        pm_calls = 0;
        k = ncsn_sample_annealed(pm_score, NULL, 2, eq, 3, &o, &ra, x, 32) == NCSN_OK && pm_calls == 1;
        memcpy(x + 64, x0, sizeof(float) * 64);
        k = k && ncsn_sample_annealed(pm_score, NULL, 2, eq + 1, 2, &o, &rb, x + 64, 32) == NCSN_OK;
        CHECK(k && memcmp(x, x + 64, sizeof(float) * 64) == 0 && ra.state == rb.state, "levels 2, 2, 1: not the run on 2, 1 (%d scores, want 1)", pm_calls);
    }
    o.predictor = 3;
    CHECK(ncsn_sample_annealed(pm_score, NULL, 2, sig, L, &o, &r, x, N) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "predictor = 3"),
          "predictor 3: %s", ncsn_last_error());
    o.predictor = NCSN_PREDICT_ODE;
    CHECK(ncsn_sample_inpaint(pm_score, NULL, 2, sig, L, &o, &r, known, mask, x, 2) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "predictor = 2"),
          "inpainting with a predictor: %s", ncsn_last_error());
    {
        ncsn_inpaint_opts ip = ncsn_inpaint_defaults();
        CHECK(ncsn_sample_inpaint_resample(pm_score, NULL, 2, sig, L, &o, &ip, &r, known, mask, x, 2) == NCSN_ERR_ARG &&
              strstr(ncsn_last_error(), "predictor = 2"), "inpainting with resampling and a predictor: %s", ncsn_last_error());
    }
    o.predictor = 7;   /* plain Langevin has one level: the field is not used, whatever it holds */
    CHECK(ncsn_sample_langevin(pm_score, NULL, 2, 1.0f, 0.01f, 2, &o, &r, x, 4) == NCSN_OK, "plain Langevin with predictor 7: %s", ncsn_last_error());
}

void test_sampler(void)
{
    predictors();
    fine_steps();
    score_dim_checks();
    pieces_same_bits();
    stationary_gaussian();
    denoise_final();
    api_checks();
    gmm_score_checks();
}
