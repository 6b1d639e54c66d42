/* fig_seed000.c - data for seed 000's figures (all but the first, see fig_score_error.c, and the
   samples, which come from seed000_two_gaussians).

   A ScoreNet narrower than the seed's (3 -> 64 -> 64 -> 64 -> 2, SiLU, sigma concatenated to x) is
   trained by sigma^2-weighted DSM on the seed's two Gaussians (5000 points, minibatches of 512,
   3000 Adam steps at lr 1e-3, L = 10 levels 10 -> 0.01; --quick: 600 steps). It drives the
   figures where a learned score is the point (network input/output, score fields, Langevin
   trajectories, the sigma ||s|| diagnostic); the others use exact scores and formulas.

   usage: fig_seed000 OUTDIR [--quick]
   writes, in OUTDIR (plain whitespace-separated text; *.key files are "name = value" lines):
     f0_data.dat              1000 training points
     f0_manifold_pts.dat      points on a curve (figure 2) and
     f0_manifold_density.dat  x y log10 q_sigma of those points smoothed by sigma = 0.05
     f0_density.dat           x, then q_sigma(x) of the data's 1-D marginal at 6 levels (figure 3)
     f0_line.dat              x, then (learned, exact) s_1(x, 0; sigma) at 4 levels (figure 4)
     f0_schedule.dat          i, geometric, linear and cosine sigma_i (figure 5)
     f0_traj.dat              8 annealed Langevin chains, one block each: step x y level sigma (figure 6)
     f0_traj_end.dat          the final positions of all 200 chains (the finite ones)
     f0_field<k>.dat          x y, learned (ux uy log10|s|), exact (ux uy log10|s|), k = 0..3 (figure 7)
     f0_sde_curve.dat, f0_sde_ncsn.dat, f0_sde_ddpm.dat   t sigma (figure 9)
     f0_norms.dat             sigma, mean ||sigma s|| learned, exact (the seed-002 diagnostic)
     f0.key                   every number the titles print */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime, for now() in tools/common.h */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "../tools/common.h"

#define N_DATA 5000
#define L 10
#define N_TRAJ 200      /* chains sampled; the first KEEP are recorded at every step */
#define KEEP 8
#define T_STEPS 100
#define DDPM_T 1000
#define N_SPIRAL 1000
#define MG 241          /* manifold density grid */
#define NL 321          /* points on the line of figure 4 */
#define FX 21           /* score-field grid */
#define FY 15
#define ND 1201         /* 1-D density grid on [-15, 15] */
#define L_CENTRE 3.0    /* figure 4's error is taken where |x_1 -+ L_CENTRE| < L_RADIUS (the data) */
#define L_RADIUS 1.0
#define MAN_THRESH 0.01 /* figure 2: the share of the square where q_sigma exceeds this fraction of its peak */

static const int line_levels[4] = { 0, 3, 6, 9 };            /* 10, 1, 0.1, 0.01 */
static const int dens_levels[6] = { 9, 4, 3, 2, 1, 0 };      /* 0.01 ... 10 */

static int fail(const char *what)
{
    fprintf(stderr, "fig_seed000: %s: %s\n", what, ncsn_last_error());
    return 1;
}

/* figure 2: a curve (the Swiss roll's ridge) and its density smoothed by a small sigma */
static void fig2_manifold(const char *dir, FILE *key, ncsn_rng *rng)
{
    static float spiral[N_SPIRAL * 2], mxy[MG * MG * 2], mlog[MG * MG];
    const float s_m = 0.05f;
    double mx = -1e300;
    int i, big = 0;
    FILE *fp;
    for (i = 0; i < N_SPIRAL; i++) fig_spiral(ncsn_rng_uniform(rng), spiral + 2 * i);
    fig_grid(mxy, -3.2f, 3.2f, MG, -3.2f, 3.2f, MG);
    for (i = 0; i < MG * MG; i++) {
        mlog[i] = (float)fig_logpdf_points(spiral, N_SPIRAL, 2, s_m, mxy + 2 * i);
        if (mlog[i] > mx) mx = mlog[i];
    }
    for (i = 0; i < MG * MG; i++) big += mlog[i] > mx + log(MAN_THRESH);
    fprintf(key, "man_thresh = %g\n", 100.0 * MAN_THRESH);   /* in per cent */
    fp = open_out(dir, "f0_manifold_density.dat");
    fprintf(fp, "# x y log10 q_sigma (sigma %g, %d point masses on the curve)\n", (double)s_m, N_SPIRAL);
    for (i = 0; i < MG * MG; i++) {
        fprintf(fp, "%.4f %.4f %.4f\n", mxy[2 * i], mxy[2 * i + 1], mlog[i] / 2.302585093);
        if (i % MG == MG - 1) fprintf(fp, "\n");
    }
    fclose(fp);
    fp = open_out(dir, "f0_manifold_pts.dat");
    for (i = 0; i < N_SPIRAL; i++) fprintf(fp, "%.5f %.5f\n", spiral[2 * i], spiral[2 * i + 1]);
    fclose(fp);
    fprintf(key, "man_n = %d\nman_sigma = %g\nman_frac = %.4f\nman_log10max = %.3f\n", N_SPIRAL, (double)s_m,
            (double)big / (MG * MG), mx / log(10.0));
}

/* figure 3: the data's 1-D marginal, 1/2 N(-3, 0.5^2) + 1/2 N(3, 0.5^2), smoothed at 6 levels */
static void fig3_density(const char *dir, FILE *key, const float *sig)
{
    static const float w1[2] = { 0.5f, 0.5f }, mu1[2] = { -3.0f, 3.0f }, v1[2] = { 0.25f, 0.25f };
    static double dens[6][ND], wide[16001];
    ncsn_gmm g1;
    float xs[ND], xw[16001];
    int i, k;
    FILE *fp;
    g1.K = 2; g1.dim = 1; g1.weights = w1; g1.means = mu1; g1.vars = v1;
    for (i = 0; i < ND; i++) xs[i] = -15.0f + 0.025f * (float)i;
    for (i = 0; i < 16001; i++) xw[i] = -80.0f + 0.01f * (float)i;
    for (k = 0; k < 6; k++) {
        float s = sig[dens_levels[k]], zero = 0.0f;
        fig_density_1d(&g1, s, xs, ND, dens[k]);
        fig_density_1d(&g1, s, xw, 16001, wide);
        if (k == 0) fprintf(key, "d_gapx = %g\n", (double)zero);
        fprintf(key, "d_sigma%d = %g\nd_gap%d = %.4g\nd_mass%d = %.12f\n", k, (double)s, k,
                exp((double)ncsn_gmm_logpdf(&g1, &zero, s)), k, fig_trapezoid(wide, 16001, 0.01));
    }
    fp = open_out(dir, "f0_density.dat");
    fprintf(fp, "# x q_sigma(x) for sigma =");
    for (k = 0; k < 6; k++) fprintf(fp, " %g", (double)sig[dens_levels[k]]);
    fprintf(fp, "\n");
    for (i = 0; i < ND; i++) {
        fprintf(fp, "%.3f", xs[i]);
        for (k = 0; k < 6; k++) fprintf(fp, " %.6g", dens[k][i]);
        fprintf(fp, "\n");
    }
    fclose(fp);
}

/* figure 4: the network's input (x, sigma) and output s, along the line x_2 = 0 */
static int fig4_line(const char *dir, FILE *key, ncsn_model *m, const float *sig)
{
    static float lxy[NL * 2], out[4][NL * 2], ex[4][NL * 2];
    int i, k;
    FILE *fp;
    fig_grid(lxy, -8.0f, 8.0f, NL, 0.0f, 0.0f, 1);
    for (k = 0; k < 4; k++) {
        double num = 0.0, den = 0.0;
        float s = sig[line_levels[k]];
        if (ncsn_model_score(m, out[k], lxy, s, NL) != NCSN_OK ||
            ncsn_gmm_score(ncsn_gmm_two_gaussians(), ex[k], lxy, s, NL) != NCSN_OK) return fail("line scores");
        for (i = 0; i < NL; i++)
            if (fabs(fabs(lxy[2 * i]) - L_CENTRE) < L_RADIUS) {   /* within 2 data stds of a mode centre */
                num += fabs((double)out[k][2 * i] - ex[k][2 * i]);
                den += fabs((double)ex[k][2 * i]);
            }
        fprintf(key, "l_sigma%d = %g\nl_err%d = %.4f\n", k, (double)s, k, num / den);
    }
    fp = open_out(dir, "f0_line.dat");
    fprintf(fp, "# x1 (x2 = 0), then learned and exact s_1 at sigma =");
    for (k = 0; k < 4; k++) fprintf(fp, " %g", (double)sig[line_levels[k]]);
    fprintf(fp, "\n");
    for (i = 0; i < NL; i++) {
        fprintf(fp, "%.4f", lxy[2 * i]);
        for (k = 0; k < 4; k++) fprintf(fp, " %.6g %.6g", out[k][2 * i], ex[k][2 * i]);
        fprintf(fp, "\n");
    }
    fclose(fp);
    return 0;
}

/* figure 5: the schedule */
static void fig5_schedule(const char *dir, FILE *key, const float *sig, const float *lin, const float *cosv)
{
    int i;
    FILE *fp = open_out(dir, "f0_schedule.dat");
    fprintf(fp, "# i sigma_i: geometric linear cosine (sigma_max 10, sigma_min 0.01, L %d)\n", L);
    for (i = 0; i < L; i++) fprintf(fp, "%d %.6g %.6g %.6g\n", i + 1, sig[i], lin[i], cosv[i]);
    fclose(fp);
    fprintf(key, "sch_max = %g\nsch_min = %g\nsch_L = %d\nsch_ratio = %.4f\nsch_i5 = %d\nsch_s5 = %.4f\n", (double)sig[0],
            (double)sig[L - 1], L, (double)sig[0] / sig[1], 5, (double)sig[4]);
}

/* figure 6: annealed Langevin trajectories (the seed's sampler: x + a s + sqrt(2a) z,
   a = eps sigma_i^2 / sigma_L^2, eps = 5e-5, 100 steps per level, start N(0, I)) */
static int fig6_trajectories(const char *dir, FILE *key, ncsn_model *m, const float *sig, ncsn_rng *rng)
{
    static float chains[N_TRAJ * 2], tx[L * T_STEPS * KEEP * 2], tsig[L * T_STEPS];
    static int tlev[L * T_STEPS];
    float x0[KEEP * 2];
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    fig_traj tr;
    ncsn_status st;
    int i, c, n_left = 0, n_right = 0, n_bad = 0;
    FILE *fp;
    ncsn_rng_normals(rng, chains, N_TRAJ * 2);
    memcpy(x0, chains, sizeof x0);
    fig_traj_record(&o, &tr, KEEP, L * T_STEPS, tx, tlev, tsig);
    o.form = NCSN_LANGEVIN_SONG;
    o.eps = 5e-5f;
    o.steps_per_level = T_STEPS;
    o.init = NCSN_INIT_GIVEN;
    st = ncsn_sample_annealed(ncsn_model_score, m, 2, sig, L, &o, rng, chains, N_TRAJ);
    if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) return fail("sampling");
    for (i = 0; i < N_TRAJ; i++) {
        float a = chains[2 * i], b = chains[2 * i + 1];
        if (!isfinite(a) || !isfinite(b)) n_bad++;
        else if (hypot(a + 3.0, b) < 2.0) n_left++;
        else if (hypot(a - 3.0, b) < 2.0) n_right++;
    }
    fp = open_out(dir, "f0_traj_end.dat");
    for (i = 0; i < N_TRAJ; i++)
        if (isfinite(chains[2 * i]) && isfinite(chains[2 * i + 1])) fprintf(fp, "%.5g %.5g\n", chains[2 * i], chains[2 * i + 1]);
    fclose(fp);
    fp = open_out(dir, "f0_traj.dat");
    for (c = 0; c < KEEP; c++) {
        fprintf(fp, "# chain %d: step x y level sigma\n0 %.5g %.5g 0 %g\n", c, x0[2 * c], x0[2 * c + 1], (double)sig[0]);
        for (i = 0; i < tr.count; i++)
            fprintf(fp, "%d %.5g %.5g %d %g\n", i + 1, tx[(i * KEEP + c) * 2], tx[(i * KEEP + c) * 2 + 1], tlev[i] + 1, (double)tsig[i]);
        fprintf(fp, "\n\n");
    }
    fclose(fp);
    fprintf(key, "tr_eps = %g\ntr_T = %d\ntr_L = %d\ntr_keep = %d\ntr_n = %d\ntr_left = %d\ntr_right = %d\ntr_bad = %d\n",
            (double)o.eps, T_STEPS, L, KEEP, N_TRAJ, n_left, n_right, n_bad);
    fprintf(key, "tr_a1 = %g\n", (double)(o.eps * sig[0] * sig[0] / (sig[L - 1] * sig[L - 1])));
    return 0;
}

/* figure 7: score fields at 4 levels, learned against exact */
static int fig7_fields(const char *dir, FILE *key, ncsn_model *m, const float *sig)
{
    static float fxy[FX * FY * 2], fl[FX * FY * 4], fe[FX * FY * 4], fll[FX * FY], fel[FX * FY], ang[FX * FY];
    int k;
    fig_grid(fxy, -8.0f, 8.0f, FX, -6.0f, 6.0f, FY);
    for (k = 0; k < 4; k++) {
        char name[32];
        float s = sig[line_levels[k]];
        double med;
        FILE *fp;
        if (fig_field(ncsn_model_score, m, s, fxy, FX * FY, fl, fll) != NCSN_OK ||
            fig_field(ncsn_gmm_score_fn, (void *)ncsn_gmm_two_gaussians(), s, fxy, FX * FY, fe, fel) != NCSN_OK)
            return fail("fields");
        snprintf(name, sizeof name, "f0_field%d.dat", k);
        fp = open_out(dir, name);
        fprintf(fp, "# x y learned: ux uy log10|s|, exact: ux uy log10|s| (sigma %g)\n", (double)s);
        med = fig_write_fields(fp, fxy, FX * FY, fl, fll, fe, fel, ang);   /* median angle between the directions */
        fclose(fp);
        fprintf(key, "f_sigma%d = %g\nf_angle%d = %.1f\n", k, (double)s, k, med);
    }
    return 0;
}

/* figure 9: NCSN levels on the VE SDE's sigma(t), and DDPM's schedule as a noise level */
static void fig9_sde(const char *dir, FILE *key, const float *sig)
{
    static double ddpm[DDPM_T];
    int i;
    FILE *fp;
    fig_ddpm_sigma(DDPM_T, 1e-4, 0.02, ddpm, NULL);
    fp = open_out(dir, "f0_sde_curve.dat");
    for (i = 0; i <= 200; i++) fprintf(fp, "%.4f %.6g\n", i / 200.0, fig_ve_sigma(sig[L - 1], sig[0], i / 200.0));
    fclose(fp);
    fp = open_out(dir, "f0_sde_ncsn.dat");
    for (i = 0; i < L; i++) fprintf(fp, "%.6f %.6g %d\n", (double)(L - 1 - i) / (L - 1), (double)sig[i], i + 1);
    fclose(fp);
    fp = open_out(dir, "f0_sde_ddpm.dat");
    fprintf(fp, "# t = k/T, sqrt((1 - alphabar_k)/alphabar_k), beta linear 1e-4 -> 0.02, T = %d\n", DDPM_T);
    for (i = 0; i < DDPM_T; i++) fprintf(fp, "%.4f %.6g\n", (i + 1.0) / DDPM_T, ddpm[i]);
    fclose(fp);
    fprintf(key, "ddpm_T = %d\nddpm_b1 = %g\nddpm_bT = %g\nddpm_smin = %.5f\nddpm_smax = %.1f\n", DDPM_T, 1e-4, 0.02,
            ddpm[0], ddpm[DDPM_T - 1]);
}

/* the sigma ||s|| diagnostic (seed 002 sec. 5.3), learned and exact, same noise */
static int sigma_norms(const char *dir, ncsn_model *m, const float *sig, const float *data, ncsn_rng *rng)
{
    float norms_net[L], norms_ex[L];
    ncsn_rng r2 = *rng;
    int i;
    FILE *fp;
    if (ncsn_sigma_score_norms(ncsn_model_score, m, 2, sig, L, data, 2000, rng, norms_net) != NCSN_OK ||
        ncsn_sigma_score_norms(ncsn_gmm_score_fn, (void *)ncsn_gmm_two_gaussians(), 2, sig, L, data, 2000, &r2, norms_ex) != NCSN_OK)
        return fail("sigma norms");
    fp = open_out(dir, "f0_norms.dat");
    fprintf(fp, "# sigma, mean ||sigma s(x~, sigma)|| over 2000 noisy data points: learned, exact\n");
    for (i = 0; i < L; i++) fprintf(fp, "%.6g %.5f %.5f\n", (double)sig[i], (double)norms_net[i], (double)norms_ex[i]);
    fclose(fp);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir;
    int quick, steps, i;
    static float data[N_DATA * 2];
    float sig[L], lin[L], cosv[L], loss[3000];
    ncsn_config cfg = ncsn_config_concat(2, 64, 3);
    ncsn_model *m;
    ncsn_rng rng;
    FILE *fp, *key;
    double lossavg = 0.0;

    if (!fig_args(argc, argv, &dir, &quick)) return 2;
    steps = quick ? 600 : 3000;
    ncsn_rng_seed(&rng, 2019, 200);
    ncsn_data_two_gaussians(&rng, data, N_DATA);
    if (ncsn_schedule(sig, L, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC) != NCSN_OK ||
        ncsn_schedule(lin, L, 10.0f, 0.01f, NCSN_SCHEDULE_LINEAR) != NCSN_OK ||
        ncsn_schedule(cosv, L, 10.0f, 0.01f, NCSN_SCHEDULE_COSINE) != NCSN_OK) return fail("schedule");
    if (!(m = fig_train(&cfg, data, N_DATA, 512, sig, L, steps, 1e-3f, &rng, loss))) return fail("training");
    for (i = steps - 100; i < steps; i++) lossavg += loss[i] / 100.0;
    key = open_out(dir, "f0.key");
    fprintf(key, "steps = %d\nloss = %.4f\narch = \"%d", steps, lossavg, cfg.dim + 1);
    for (i = 0; i < cfg.n_hidden; i++) fprintf(key, "-%d", cfg.hidden[i]);
    fprintf(key, "-%d\"\nl_centre = %g\nl_radius = %g\n", cfg.dim, L_CENTRE, L_RADIUS);

    fp = open_out(dir, "f0_data.dat");
    for (i = 0; i < 1000; i++) fprintf(fp, "%.5f %.5f\n", data[2 * i], data[2 * i + 1]);
    fclose(fp);

    fig2_manifold(dir, key, &rng);
    fig3_density(dir, key, sig);
    if (fig4_line(dir, key, m, sig)) return 1;
    fig5_schedule(dir, key, sig, lin, cosv);
    if (fig6_trajectories(dir, key, m, sig, &rng) || fig7_fields(dir, key, m, sig)) return 1;
    fig9_sde(dir, key, sig);
    if (sigma_norms(dir, m, sig, data, &rng)) return 1;
    fclose(key);
    printf("fig_seed000: %d steps (loss %.4f over the last 100), kernels %s\n", steps, lossavg, ncsn_simd_name());
    ncsn_model_free(m);
    return 0;
}
