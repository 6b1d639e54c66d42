/* test_plots.c - the computations behind `make plots` (tools/common.h), at reduced size:
   - grids, the geometric schedule against the VE SDE it discretises, DDPM's equivalent sigma;
   - perturbed 1-D densities integrate to 1 and match the seed's worked number;
   - the point-mass log-density agrees with ncsn_gmm_logpdf;
   - score fields at a large sigma point toward the data mean;
   - the trajectory callback records every step and the chains end on the data;
   - the denoising field sigma^2 grad log q_sigma equals E[x | x~] - x~ and points to the curve;
   - a net trained at one small sigma is much worse far from the data than near it (figure 1);
   - the sigma ||s|| diagnostic: ~E||z|| for a point mass, ~0 for wide data at small sigma. */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime, for now() in the shared header */
#include "test.h"
#include "../tools/common.h"

static void grid_schedule_sde(void)
{
    float xy[2 * 12], sig[10];
    double ddpm[1000], ab[1000], prod = 1.0;
    int i, mono = 1, ratio_ok = 1, ve_ok = 1;
    fig_grid(xy, -1.0f, 2.0f, 4, 5.0f, 7.0f, 3);
    CHECK(xy[0] == -1.0f && xy[1] == 5.0f && xy[6] == 2.0f && xy[22] == 2.0f && xy[23] == 7.0f, "grid corners");
    fig_grid(xy, -1.0f, 1.0f, 3, 0.5f, 0.5f, 1);
    CHECK(xy[1] == 0.5f && xy[3] == 0.5f && xy[5] == 0.5f, "a one-row grid sits at y0 (got %g)", (double)xy[1]);

    ncsn_schedule(sig, 10, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    for (i = 0; i + 1 < 10; i++) {
        mono &= sig[i + 1] < sig[i];
        ratio_ok &= t_close((double)sig[i] / sig[i + 1], pow(1000.0, 1.0 / 9.0), 1e-5);
    }
    for (i = 0; i < 10; i++) ve_ok &= t_close(fig_ve_sigma(0.01, 10.0, (9.0 - i) / 9.0), sig[i], 1e-6);
    CHECK(mono, "geometric schedule decreasing");
    CHECK(ratio_ok, "geometric schedule: constant ratio 1000^(1/9)");
    CHECK(ve_ok, "NCSN level i lies on the VE SDE's sigma(t) at t = (L-1-i)/(L-1)");
    CHECK_CLOSE(fig_ve_sigma(0.01, 10.0, 0.0), 0.01, 1e-12, "sigma(0) = sigma_min");
    CHECK_CLOSE(fig_ve_sigma(0.01, 10.0, 1.0), 10.0, 1e-12, "sigma(1) = sigma_max");

    fig_ddpm_sigma(1000, 1e-4, 0.02, ddpm, ab);
    for (i = 0, mono = 1; i + 1 < 1000; i++) mono &= ddpm[i + 1] > ddpm[i];
    CHECK(mono, "DDPM equivalent sigma increasing in t");
    CHECK_CLOSE(ddpm[0], sqrt(1e-4 / (1.0 - 1e-4)), 1e-12, "DDPM sigma_1 = sqrt(beta_1/(1-beta_1))");
    for (i = 1; i <= 1000; i++) prod *= 1.0 - (1e-4 + (0.02 - 1e-4) * (i - 1) / 999.0);
    CHECK_CLOSE(ab[999], prod, 1e-9, "alphabar_T");
    CHECK(ab[999] > 3e-5 && ab[999] < 5e-5, "alphabar_T = %g (Ho et al.: about 4e-5)", ab[999]);
    CHECK_CLOSE(ddpm[999], sqrt((1.0 - prod) / prod), 1e-9, "DDPM sigma_T");
}

static void densities(void)
{
    static const float w[2] = { 0.5f, 0.5f }, mu[2] = { -3.0f, 3.0f }, v[2] = { 0.25f, 0.0f };
    static const float sigmas[5] = { 0.01f, 0.1f, 1.0f, 4.0f, 10.0f };
    static float x[16001];
    static double q[16001];
    ncsn_gmm g;
    float pm = 3.0f, four = 4.0f, pts[50 * 2], wp[50], vp[100], at[2] = { 0.3f, -0.2f };
    double worst = 0.0, d;
    ncsn_rng r;
    int i, k;
    g.K = 2; g.dim = 1; g.weights = w; g.means = mu; g.vars = v;   /* a Gaussian and a point mass */
    for (i = 0; i < 16001; i++) x[i] = -100.0f + 0.0125f * (float)i;
    for (k = 0; k < 5; k++) {
        double mass;
        fig_density_1d(&g, sigmas[k], x, 16001, q);
        mass = fig_trapezoid(q, 16001, 0.0125);
        if (fabs(mass - 1.0) > worst) worst = fabs(mass - 1.0);
    }
    CHECK(worst < 1e-4, "perturbed densities integrate to 1 (worst |mass - 1| = %g)", worst);
    /* seed 000's worked number (corrected in docs/errata.md): point mass at 3, sigma 0.5, q(4) */
    g.K = 1; g.means = &pm; g.vars = v + 1; g.weights = w;
    {
        static const float one = 1.0f;
        g.weights = &one;
        fig_density_1d(&g, 0.5f, &four, 1, &d);
    }
    CHECK_CLOSE(d, 0.107982, 1e-5, "q_0.5(4) for a point mass at 3");
    /* the double log-density of point masses agrees with the library's (which takes K <= 64) */
    ncsn_rng_seed(&r, 7, 7);
    for (i = 0; i < 100; i++) pts[i] = 4.0f * ncsn_rng_uniform(&r) - 2.0f;
    g = fig_point_masses(pts, 50, 2, wp, vp);
    worst = 0.0;
    for (k = 0; k < 4; k++) {
        float s = k == 0 ? 0.05f : k == 1 ? 0.3f : k == 2 ? 1.0f : 5.0f;
        d = fabs(fig_logpdf_points(pts, 50, 2, s, at) - ncsn_gmm_logpdf(&g, at, s));
        if (d > worst) worst = d;
    }
    CHECK(worst < 1e-3, "fig_logpdf_points vs ncsn_gmm_logpdf: worst difference %g", worst);
}

static void fields(void)
{
    enum { NX = 9, NY = 7 };
    float xy[NX * NY * 2], f[NX * NY * 4], lm[NX * NY];
    int i, bad = 0, unit_bad = 0;
    const ncsn_gmm *toy = ncsn_gmm_toy();
    fig_grid(xy, -8.0f, 8.0f, NX, -6.0f, 6.0f, NY);
    /* two Gaussians, sigma = 10: q_sigma is nearly one wide Gaussian around the mean (0, 0) */
    CHECK(fig_field(ncsn_gmm_score_fn, (void *)ncsn_gmm_two_gaussians(), 10.0f, xy, NX * NY, f, lm) == NCSN_OK, "field");
    for (i = 0; i < NX * NY; i++) {
        double r = hypot(xy[2 * i], xy[2 * i + 1]);
        if (r > 0.5 && -(xy[2 * i] * f[4 * i + 2] + xy[2 * i + 1] * f[4 * i + 3]) / r < 0.9) bad++;
        if (r > 0.0) unit_bad += fabs(hypot(f[4 * i + 2], f[4 * i + 3]) - 1.0) > 1e-5;
    }
    CHECK(bad == 0, "two Gaussians, sigma 10: %d of %d arrows not toward the mean", bad, NX * NY);
    CHECK(unit_bad == 0, "directions are unit vectors (%d are not)", unit_bad);
    {   /* |s| at the corner (-8, -6): s = -(x - E[mu | x]) / (sigma^2 + 0.25), posterior over the centres +-3 */
        double a = exp(-25.0 / 200.5), b = exp(-121.0 / 200.5), m = (-3.0 * a + 3.0 * b) / (a + b);
        CHECK_CLOSE(pow(10.0, lm[0]), hypot(-8.0 - m, -6.0) / 100.25, 1e-5, "|s| at a corner, sigma 10");
    }
    /* the toy, sigma = 20: toward its mean (3, 3) */
    CHECK(fig_field(ncsn_gmm_score_fn, (void *)toy, 20.0f, xy, NX * NY, f, lm) == NCSN_OK, "toy field");
    for (i = 0, bad = 0; i < NX * NY; i++) {
        double dx = 3.0 - xy[2 * i], dy = 3.0 - xy[2 * i + 1], r = hypot(dx, dy);
        if (r > 0.5 && (dx * f[4 * i + 2] + dy * f[4 * i + 3]) / r < 0.9) bad++;
    }
    CHECK(bad == 0, "toy, sigma 20: %d arrows not toward the mean (3, 3)", bad);
}

static void trajectories(void)
{
    enum { N = 60, KEEP = 4, L = 10, T = 20 };
    float sig[L], x[N * 2], buf[L * T * KEEP * 2], ts[L * T];
    int lev[L * T], i, near = 0, mono = 1;
    fig_traj tr;
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    ncsn_rng r;
    ncsn_status st;
    ncsn_schedule(sig, L, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_rng_seed(&r, 11, 3);
    fig_traj_record(&o, &tr, KEEP, L * T, buf, lev, ts);
    o.form = NCSN_LANGEVIN_SONG;
    o.eps = 2e-5f;
    o.steps_per_level = T;
    o.init = NCSN_INIT_NORMAL;
    st = ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_two_gaussians(), 2, sig, L, &o, &r, x, N);
    CHECK(st == NCSN_OK, "sampling with the recording callback: %s", ncsn_last_error());
    CHECK(tr.count == L * T, "recorded %d steps, want %d", tr.count, L * T);
    for (i = 1; i < tr.count; i++) mono &= lev[i] >= lev[i - 1] && ts[i] <= ts[i - 1];
    CHECK(mono && lev[0] == 0 && lev[L * T - 1] == L - 1, "levels recorded coarse to fine");
    CHECK(memcmp(buf + (size_t)(L * T - 1) * KEEP * 2, x, sizeof(float) * KEEP * 2) == 0, "last record = final positions");
    for (i = 0; i < N; i++) near += hypot(fabs(x[2 * i]) - 3.0, x[2 * i + 1]) < 2.0;
    CHECK(near >= N - 2, "chains end near the data: %d of %d within 2 of a mode centre", near, N);
    /* a full recorder stops the sampler instead of overflowing */
    tr.count = 0; tr.cap = 5;
    st = ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_two_gaussians(), 2, sig, L, &o, &r, x, N);
    CHECK(st == NCSN_ERR_CALLBACK && tr.count == 5, "recorder full: status %d, %d records", (int)st, tr.count);
}

static void dae_field(void)
{
    enum { K = 200, N = 100 };
    float curve[K * 2], w[K], v[K * 2], xt[N * 2], fld[N * 2], sigma = 0.3f;
    double worst = 0.0;
    int i, toward = 0;
    ncsn_gmm g;
    ncsn_rng r;
    for (i = 0; i < K; i++) fig_wave(-4.0 + 8.0 * i / (K - 1), curve + 2 * i);
    g = fig_point_masses(curve, K, 2, w, v);
    ncsn_rng_seed(&r, 5, 5);
    for (i = 0; i < N; i++) {
        float c[2], z[2];
        fig_wave(-3.5 + 7.0 * ncsn_rng_uniform(&r), c);
        ncsn_rng_normals(&r, z, 2);
        xt[2 * i] = c[0] + sigma * z[0];
        xt[2 * i + 1] = c[1] + sigma * z[1];
    }
    CHECK(fig_dae_field(&g, sigma, xt, N, fld) == NCSN_OK, "dae field");
    for (i = 0; i < N; i++) {
        double rm[2];
        int n = fig_nearest(curve, K, xt + 2 * i);
        fig_posterior_mean(curve, K, sigma, xt + 2 * i, rm);
        worst = fmax(worst, hypot(rm[0] - xt[2 * i] - fld[2 * i], rm[1] - xt[2 * i + 1] - fld[2 * i + 1]));
        toward += (curve[2 * n] - xt[2 * i]) * fld[2 * i] + (curve[2 * n + 1] - xt[2 * i + 1]) * fld[2 * i + 1] > 0.0f;
    }
    CHECK(worst < 1e-5, "sigma^2 grad log q_sigma = E[x | x~] - x~ (Tweedie): worst difference %g", worst);
    CHECK(toward >= 90, "the field points toward the nearest curve point at %d of %d samples", toward, N);
}

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void one_level_net(void)
{
    /* figure 1 (fig_score_error.c: the same data and noise level) with a narrower, deeper net
       (32 x 4 instead of 64 x 3, batches of 256 instead of 512: a quarter of the cost) on a coarser
       grid; skipped in quick runs (most matrix cells, make asan, make valgrind) */
    enum { ND = 5000, NX = 33, NY = 25 };
    static float data[ND * 2], xy[NX * NY * 2], err[NX * NY], mag[NX * NY], near[NX * NY], far[NX * NY];
    float sig[1] = { 0.1f };
    ncsn_config cfg = ncsn_config_concat(2, 32, 4);
    ncsn_model *m;
    ncsn_rng r;
    int i, nn = 0, nf = 0;
    if (t_quick) return;
    ncsn_rng_seed(&r, 2019, 100);
    ncsn_data_two_gaussians(&r, data, ND);
    m = fig_train(&cfg, data, ND, 256, sig, 1, 2000, 1e-3f, &r, NULL);
    CHECK(m != NULL, "fig_train: %s", ncsn_last_error());
    if (!m) return;
    fig_grid(xy, -8.0f, 8.0f, NX, -6.0f, 6.0f, NY);
    CHECK(fig_score_error(ncsn_model_score, m, ncsn_gmm_two_gaussians(), sig[0], xy, NX * NY, err, mag) == NCSN_OK, "error map");
    for (i = 0; i < NX * NY; i++) {
        double dc = hypot(fabs(xy[2 * i]) - 3.0, xy[2 * i + 1]);
        if (dc < 1.0) near[nn++] = err[i] / mag[i];
        else if (dc > 3.0) far[nf++] = err[i] / mag[i];
    }
    qsort(near, (size_t)nn, sizeof(float), cmp_f);
    qsort(far, (size_t)nf, sizeof(float), cmp_f);
    CHECK(nn > 5 && nf > 100, "regions: %d near, %d far", nn, nf);
    CHECK(near[nn / 2] < 0.16f, "trained: median relative error near the data %.3f", (double)near[nn / 2]);
    CHECK(far[nf / 2] > 1.8f * near[nn / 2], "median relative error far from the data %.3f vs near %.3f", (double)far[nf / 2],
          (double)near[nn / 2]);
    /* the exact score against itself: no error */
    CHECK(fig_score_error(ncsn_gmm_score_fn, (void *)ncsn_gmm_two_gaussians(), ncsn_gmm_two_gaussians(), 0.5f, xy, NX * NY, err, mag) == NCSN_OK &&
          err[0] == 0.0f && err[NX * NY / 2] == 0.0f, "exact vs exact: zero error");
    ncsn_model_free(m);
}

static void sigma_norms(void)
{
    enum { N = 2000 };
    static float pts[N * 2];
    float sig[5], out[5], zero2[2] = { 0.0f, 0.0f }, one = 1.0f, data2[N * 2];
    ncsn_gmm pm;
    ncsn_rng r;
    int i, ok = 1;
    pm.K = 1; pm.dim = 2; pm.weights = &one; pm.means = zero2; pm.vars = zero2;
    memset(pts, 0, sizeof pts);
    ncsn_schedule(sig, 5, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_rng_seed(&r, 3, 9);
    CHECK(ncsn_sigma_score_norms(ncsn_gmm_score_fn, &pm, 2, sig, 5, pts, N, &r, out) == NCSN_OK, "norms");
    for (i = 0; i < 5; i++) ok &= t_close(out[i], sqrt(FIG_PI / 2.0), 0.04);
    CHECK(ok, "point mass: mean ||sigma s|| = E||z|| = sqrt(pi/2) at every level (%.3f ... %.3f)", (double)out[0], (double)out[4]);
    ncsn_data_two_gaussians(&r, data2, N);
    CHECK(ncsn_sigma_score_norms(ncsn_gmm_score_fn, (void *)ncsn_gmm_two_gaussians(), 2, sig, 5, data2, N, &r, out) == NCSN_OK, "norms 2");
    CHECK(out[4] < 0.05 && out[0] > 1.1, "two Gaussians: %.3f at sigma 0.01 (-> 0), %.3f at sigma 10 (-> E||z||)", (double)out[4], (double)out[0]);
}

void test_plots(void)
{
    grid_schedule_sde();
    densities();
    fields();
    trajectories();
    dae_field();
    one_level_net();
    sigma_norms();
}
