/* test_worked.c - every worked number of the three seeds (the documents docs/method.md describes),
   computed by the library. Where a seed is wrong the check asserts the correct value; the table of
   docs/errata.md lists each such slip. The seed's printed precision sets each tolerance. */
#include "test.h"
#include <stdlib.h>

static const float zero1[1] = { 0.0f }, one1[1] = { 1.0f }, w1[1] = { 1.0f };

/* a one-component "mixture" in 1-D: mean mu, variance var (0 = a point mass) */
static ncsn_gmm gauss1(const float *mu, const float *var) { ncsn_gmm g = { 1, 1, w1, mu, var }; return g; }

static ncsn_status count_steps(void *user, int level, int step, float sigma, const float *x, int n, int dim)
{
    (void)level; (void)step; (void)sigma; (void)x; (void)n; (void)dim;
    ++*(int *)user;
    return NCSN_OK;
}

/* seed 000, "The Problem with Score Matching": N(0,1) has s(x) = -x; s(0)=0, s(2)=-2, s(100)=-100 */
static void seed000_gaussian_scores(void)
{
    ncsn_gmm g = gauss1(zero1, one1);
    float x[3] = { 0.0f, 2.0f, 100.0f }, s[3];
    CHECK(ncsn_gmm_score(&g, s, x, 0.0f, 3) == NCSN_OK, "gmm score");
    CHECK(s[0] == 0.0f, "seed 000: s(0) = %g, want 0", (double)s[0]);
    CHECK_CLOSE(s[1], -2.0, 1e-6, "seed 000: s(2)");
    CHECK_CLOSE(s[2], -100.0, 1e-6, "seed 000: s(100)");
}

/* seed 000, "Fill the Empty Space with Noise": point mass at 3, sigma = 0.5.
   The seed writes q_0.5(4) = 1/0.7979 exp(-2) = 1.2533 x 0.1353 = 0.1695. The normaliser is
   1/sqrt(2 pi 0.25) = 1/1.2533 = 0.7979, not 1/0.7979: q_0.5(4) = 0.7979 x 0.1353 = 0.1080 (errata). */
static void seed000_point_mass(void)
{
    static const float mu[1] = { 3.0f }, var0[1] = { 0.0f };
    ncsn_gmm g = gauss1(mu, var0);
    float x = 4.0f, s, q, norm, gauss;
    ncsn_gmm_score(&g, &s, &x, 0.5f, 1);
    CHECK_CLOSE(s, -4.0, 1e-6, "seed 000: s(4) for the point mass at 3, sigma 0.5");
    q = ncsn_expf(ncsn_gmm_logpdf(&g, &x, 0.5f));
    CHECK_CLOSE(q, 0.10798193, 1e-5, "seed 000 (errata): q_0.5(4) = 0.1080, the seed says 0.1695");
    CHECK(fabs(q - 0.1695) > 0.05, "the seed's 0.1695 must not be reproduced (got %g)", (double)q);
    /* the seed's intermediate factors, from the library's exp and the model density */
    gauss = ncsn_expf(-2.0f);
    CHECK_CLOSE(gauss, 0.1353, 5e-4, "seed 000: exp(-2) = 0.1353");
    norm = q / gauss;
    CHECK_CLOSE(norm, 0.7979, 1e-4, "seed 000: 1/sqrt(2 pi 0.25) = 0.7979 (the density's normaliser)");
    CHECK_CLOSE(1.0f / norm, 1.2533, 1e-4, "seed 000: sqrt(2 pi 0.25) = 1.2533");
    /* what the seed multiplied: 1.2533 x 0.1353 = 0.16957 is the inverse normaliser times exp(-2) */
    CHECK_CLOSE(gauss / norm, 0.1696, 1e-3, "seed 000: 1.2533 x 0.1353 = 0.1696 (the seed's wrong product)");
}

/* seed 000, "Noise Conditioned Score Network": x = [1,2], eps = [0.3,-0.1], sigma_2 = 1,
   x~ = [1.3, 1.9], target = [-0.3, 0.1], prediction [-0.25, 0.15], loss 0.005, weighted 0.005 */
static void seed000_dsm_example(void)
{
    float x[2] = { 1.0f, 2.0f }, eps[2] = { 0.3f, -0.1f }, pred[2] = { -0.25f, 0.15f }, xt[2], tg[2];
    float l1, l2, sig[3];
    ncsn_dsm_perturb(xt, tg, x, eps, 1.0f, 2);
    CHECK_CLOSE(xt[0], 1.3, 1e-6, "seed 000: x~[0]");
    CHECK_CLOSE(xt[1], 1.9, 1e-6, "seed 000: x~[1]");
    CHECK_CLOSE(tg[0], -0.3, 1e-6, "seed 000: target[0]");
    CHECK_CLOSE(tg[1], 0.1, 1e-6, "seed 000: target[1]");
    l1 = ncsn_dsm_sample_loss(pred, eps, 1.0f, 2, NCSN_WEIGHT_ONE);
    l2 = ncsn_dsm_sample_loss(pred, eps, 1.0f, 2, NCSN_WEIGHT_SIGMA2);
    CHECK_CLOSE(l1, 0.005, 1e-6, "seed 000: unweighted loss");
    CHECK_CLOSE(l2, 0.005, 1e-6, "seed 000: sigma^2-weighted loss at sigma 1");
    /* the same sample at the other two levels of the example (sigma 2.0 and 0.5): weights 4 and 0.25 */
    CHECK_CLOSE(ncsn_weight(NCSN_WEIGHT_SIGMA2, 2.0f), 4.0, 0, "lambda(2) = 4");
    CHECK_CLOSE(ncsn_weight(NCSN_WEIGHT_SIGMA2, 0.5f), 0.25, 0, "lambda(0.5) = 0.25");
    CHECK_CLOSE(ncsn_weight(NCSN_WEIGHT_INV_SIGMA2, 0.5f), 4.0, 0, "1/sigma^2 weighting at 0.5");
    /* seed 001 sec. 2.4: sigma^2 |s + eps/sigma|^2 = |sigma s + eps|^2 */
    ncsn_schedule(sig, 3, 2.0f, 0.5f, NCSN_SCHEDULE_GEOMETRIC);
    CHECK(sig[1] == 1.0f, "seed 000: L = 3 example levels 2, 1, 0.5 (middle = %g)", (double)sig[1]);
    {
        ncsn_rng r;
        int i, bad = 0;
        ncsn_rng_seed(&r, 1, 1);
        for (i = 0; i < 1000; i++) {
            float p[3], e[3], sg = 0.01f + 10.0f * ncsn_rng_uniform(&r), lhs, rhs = 0.0f;
            int d;
            ncsn_rng_normals(&r, p, 3);
            ncsn_rng_normals(&r, e, 3);
            lhs = ncsn_dsm_sample_loss(p, e, sg, 3, NCSN_WEIGHT_SIGMA2);
            for (d = 0; d < 3; d++) { float v = fmaf(sg, p[d], e[d]); rhs = fmaf(v, v, rhs); }
            if (!t_close(lhs, rhs, 1e-4)) bad++;
        }
        CHECK(bad == 0, "seed 001: sigma^2 |s + eps/sigma|^2 = |sigma s + eps|^2 failed %d of 1000 times", bad);
    }
}

/* seed 000, "The Geometric Sequence": sigma_1 = 10, sigma_L = 0.01, L = 10.
   The seed says sigma_5 = 10 (0.001)^(4/9) = 10 x 0.01778 = 0.1778; (0.001)^(4/9) = 0.046416,
   so sigma_5 = 0.46416, which is also the 5th entry of the seed's own list (errata). */
static void seed000_geometric(void)
{
    static const double listed[10] = { 10, 4.64, 2.15, 1.0, 0.464, 0.215, 0.1, 0.0464, 0.0215, 0.01 };
    static const double half_last_digit[10] = { 0.5, 0.005, 0.005, 0.05, 0.0005, 0.0005, 0.05, 0.00005, 0.00005, 0.005 };
    float s[10];
    int i;
    CHECK(ncsn_schedule(s, 10, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC) == NCSN_OK, "schedule");
    CHECK_CLOSE(s[4], 0.46416, 2e-5, "seed 000 (errata): sigma_5 = 0.46416, the seed says 0.1778");
    CHECK(fabs(s[4] - 0.1778) > 0.1, "the seed's sigma_5 = 0.1778 must not be reproduced");
    CHECK_CLOSE(s[4] / 10.0f, 0.046416, 2e-6, "seed 000 (errata): (0.001)^(4/9) = 0.046416, the seed says 0.01778");
    for (i = 0; i < 10; i++) {
        /* each listed value is the computed one rounded to the digits printed */
        CHECK(fabs(s[i] - listed[i]) <= half_last_digit[i], "seed 000: listed sigma_%d = %g, computed %.6g", i + 1, listed[i], (double)s[i]);
    }
    CHECK_CLOSE(s[0] / s[9], 1000.0, 1e-5, "seed 000: the levels span three orders of magnitude");
    /* seed 002 sec. 8.1: sigma_1/sigma_2 = ... = sigma_{L-1}/sigma_L > 1 */
    for (i = 0; i + 1 < 10; i++) CHECK_CLOSE(s[i] / s[i + 1], 2.15443469, 1e-6, "seed 002: constant ratio sigma_i/sigma_{i+1}");
}

/* seed 000, "Annealed Langevin Dynamics": eps = 5e-5, sigma_i = 1, sigma_L = 0.01 -> alpha = 0.5;
   x = [0.5,0.5], s = [1.2,-0.8], z = [0.3,-0.2] -> [1.4, -0.1] */
static void seed000_langevin(void)
{
    float a, b, x[2] = { 0.5f, 0.5f }, s[2] = { 1.2f, -0.8f }, z[2] = { 0.3f, -0.2f };
    CHECK(ncsn_langevin_coeffs(NCSN_LANGEVIN_SONG, 5e-5f, 1.0f, 0.01f, &a, &b) == NCSN_OK, "coeffs");
    CHECK_CLOSE(a, 0.5, 1e-6, "seed 000: alpha = 0.5");
    CHECK_CLOSE(b, 1.0, 1e-6, "seed 000: sqrt(2 alpha) = 1.0");
    ncsn_langevin_update(x, s, z, 2, a, b);
    CHECK_CLOSE(x[0], 1.4, 1e-6, "seed 000: x_{t+1}[0]");
    CHECK_CLOSE(x[1], -0.1, 1e-6, "seed 000: x_{t+1}[1]");
    /* seeds 001/002 write the same step as x + (a/2) s + sqrt(a) z with a = 2 alpha */
    CHECK(ncsn_langevin_coeffs(NCSN_LANGEVIN_HALF, 1e-4f, 1.0f, 0.01f, &a, &b) == NCSN_OK, "coeffs");
    CHECK_CLOSE(a, 0.5, 1e-6, "seeds 001/002 form: alpha/2 with eps 1e-4");
    CHECK_CLOSE(b, 1.0, 1e-6, "seeds 001/002 form: sqrt(alpha)");
}

/* seed 001 sec. 3.4: T = 100 steps at 10 levels = 1000 Langevin steps in all */
static void seed001_step_count(void)
{
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    float sig[10], x[2];
    int count = 0;
    ncsn_rng r;
    ncsn_rng_seed(&r, 3, 3);
    ncsn_schedule(sig, 10, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    o.steps_per_level = 100;
    o.callback = count_steps;
    o.callback_user = &count;
    o.eps = 1e-9f;
    CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_two_gaussians(), 2, sig, 10, &o, &r, x, 1) == NCSN_OK, "sampler");
    CHECK(count == 1000, "seed 001: 10 levels x 100 steps = %d steps, want 1000", count);
}

/* seed 001 sec. 3.3 says larger noise levels have larger score magnitudes, "||s|| ~ 1/sigma"; the
   second half is right and contradicts the first: measured with the exact score, E||s|| falls as
   sigma grows (errata). Seed 002 sec. 5.3: ||sigma s|| stays constant across levels; for data at
   one point sigma s(x~) = -eps exactly, so its mean is E||z|| = sqrt(pi/2) in 2-D at every level. */
static void seed001_score_magnitude(void)
{
    static const float w[1] = { 1.0f }, mu[2] = { 1.0f, -2.0f }, v0[2] = { 0, 0 };
    ncsn_gmm g = { 1, 2, w, mu, v0 };
    float sig[6], norms[6], data[2000 * 2];
    int i, comp[2000];
    ncsn_rng r;
    ncsn_rng_seed(&r, 5, 5);
    ncsn_schedule(sig, 6, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_gmm_sample(&g, &r, data, comp, 2000);
    CHECK(ncsn_sigma_score_norms(ncsn_gmm_score_fn, &g, 2, sig, 6, data, 2000, &r, norms) == NCSN_OK, "norms");
    for (i = 0; i < 6; i++) {
        double mean_s = norms[i] / sig[i];
        CHECK_CLOSE(norms[i], 1.25331414, 0.03, "seed 002: mean ||sigma s|| at a level = sqrt(pi/2)");
        if (i > 0) CHECK(mean_s > norms[i - 1] / sig[i - 1], "seed 001 (errata): E||s|| must grow as sigma falls (level %d)", i);
    }
}

/* seed 002 sec. 3.2: J_DSM = L_DAE / (2 sigma^4) for psi(x) = (W^T sig(Wx + b) + c - x)/sigma^2,
   checked per sample on random parameters. And the energy the seed writes,
   E = -<c,x> - |x|^2/2 + sum softplus(W_j x + b_j), does not have psi as its score: its score is
   c + x - W^T sig(Wx + b). The energy that does is E = -(<c,x> - |x|^2/2 + sum softplus)/sigma^2
   (Vincent 2011, eq. 11); checked by central differences (errata). */
#define DAE_D 3
#define DAE_H 4
static float dae_W[DAE_H][DAE_D], dae_b[DAE_H], dae_c[DAE_D];

static void dae_recon(const float *x, float *r)
{
    int i, j;
    for (i = 0; i < DAE_D; i++) r[i] = dae_c[i];
    for (j = 0; j < DAE_H; j++) {
        float a = dae_b[j], h;
        for (i = 0; i < DAE_D; i++) a = fmaf(dae_W[j][i], x[i], a);
        h = ncsn_sigmoidf(a);
        for (i = 0; i < DAE_D; i++) r[i] = fmaf(dae_W[j][i], h, r[i]);
    }
}

static double dae_energy(const double *x, double s2, int corrected)
{
    double e = 0.0, cx = 0.0, xx = 0.0;
    int i, j;
    for (i = 0; i < DAE_D; i++) { cx += dae_c[i] * x[i]; xx += x[i] * x[i]; }
    for (j = 0; j < DAE_H; j++) {
        double a = dae_b[j];
        for (i = 0; i < DAE_D; i++) a += dae_W[j][i] * x[i];
        e += a > 30 ? a : log1p(exp(a));
    }
    if (corrected) return -(cx - 0.5 * xx + e) / s2;
    return -cx - 0.5 * xx + e;   /* as seed 002 writes it */
}

static void seed002_dae_dsm(void)
{
    ncsn_rng r;
    int i, j, t, bad_ratio = 0, bad_corr = 0, seed_matches = 0;
    float sigma = 0.3f, s2 = sigma * sigma;
    ncsn_rng_seed(&r, 2011, 0);
    for (j = 0; j < DAE_H; j++) {
        for (i = 0; i < DAE_D; i++) dae_W[j][i] = ncsn_rng_normal(&r);
        dae_b[j] = ncsn_rng_normal(&r);
    }
    for (i = 0; i < DAE_D; i++) dae_c[i] = ncsn_rng_normal(&r);
    for (t = 0; t < 200; t++) {
        float x[DAE_D], eps[DAE_D], xt[DAE_D], rec[DAE_D];
        double ldae = 0.0, jdsm = 0.0, xd[DAE_D];
        ncsn_rng_normals(&r, x, DAE_D);
        ncsn_rng_normals(&r, eps, DAE_D);
        ncsn_dsm_perturb(xt, NULL, x, eps, sigma, DAE_D);
        dae_recon(xt, rec);
        for (i = 0; i < DAE_D; i++) {
            double psi = ((double)rec[i] - xt[i]) / s2, target = ((double)x[i] - xt[i]) / s2;   /* grad log q(x~|x) */
            ldae += ((double)rec[i] - x[i]) * ((double)rec[i] - x[i]);
            jdsm += 0.5 * (psi - target) * (psi - target);
        }
        if (!t_close(jdsm, ldae / (2.0 * (double)s2 * s2), 1e-9)) bad_ratio++;
        /* scores of the two energies at x~ by central differences */
        for (i = 0; i < DAE_D; i++) xd[i] = xt[i];
        for (i = 0; i < DAE_D; i++) {
            double h = 1e-5, ep, em, psi = ((double)rec[i] - xt[i]) / s2, g_seed, g_corr;
            xd[i] = xt[i] + h; ep = dae_energy(xd, s2, 1); xd[i] = xt[i] - h; em = dae_energy(xd, s2, 1);
            g_corr = -(ep - em) / (2 * h);
            xd[i] = xt[i] + h; ep = dae_energy(xd, s2, 0); xd[i] = xt[i] - h; em = dae_energy(xd, s2, 0);
            g_seed = -(ep - em) / (2 * h);
            xd[i] = xt[i];
            if (!t_close(g_corr, psi, 1e-4)) bad_corr++;
            if (t_close(g_seed, psi, 1e-3)) seed_matches++;
        }
    }
    CHECK(bad_ratio == 0, "seed 002: J_DSM = L_DAE/(2 sigma^4) failed for %d of 200 samples", bad_ratio);
    CHECK(bad_corr == 0, "seed 002 (errata): -grad of the corrected energy = psi failed %d of 600 times", bad_corr);
    CHECK(seed_matches < 10, "seed 002 (errata): the energy as printed gives psi in %d of 600 cases (should not)", seed_matches);
}

/* seed 001 sec. 3.2 / seed 002 Algorithm 1 start: x0 ~ N(0, sigma_1^2 I); seed 000 starts at N(0, I) */
static void seed_inits(void)
{
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    float sig[2] = { 5.0f, 1.0f }, *x = (float *)malloc(20000 * 2 * sizeof(float));
    double v = 0.0;
    int i;
    ncsn_rng r;
    ncsn_rng_seed(&r, 8, 8);
    o.steps_per_level = 0;
    o.init = NCSN_INIT_NORMAL_SIGMA1;
    ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 2, &o, &r, x, 20000);
    for (i = 0; i < 40000; i++) v += (double)x[i] * x[i];
    CHECK_CLOSE(v / 40000.0, 25.0, 0.03, "seeds 001/002: start variance sigma_1^2");
    free(x);
}

void test_worked(void)
{
    seed000_gaussian_scores();
    seed000_point_mass();
    seed000_dsm_example();
    seed000_geometric();
    seed000_langevin();
    seed001_step_count();
    seed001_score_magnitude();
    seed002_dae_dsm();
    seed_inits();
}
