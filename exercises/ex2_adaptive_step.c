/* ex2_adaptive_step.c - seed 001, exercise 2: annealed Langevin with a step size set by the score
   magnitude, alpha ~ 1/||s||^2, against the seed's fixed schedule alpha_i = eps (sigma_i/sigma_L)^2.

   All samplers take the seed-001 step x <- x + (alpha/2) s + sqrt(alpha) z (ncsn_langevin_update),
   L = 10 geometric levels, T steps per level, start N(0, sigma_1^2 I). One constant kappa sets
   the size of every rule, so they can be compared at equal kappa:
     fixed           alpha_i = kappa sigma_i^2   (the seed's eps (sigma_i/sigma_L)^2 with eps =
                     kappa sigma_L^2: seed 001's eps = 1e-4 at sigma_L = 0.01 is kappa = 1)
     adaptive/level  alpha = kappa D / mean_j ||s(x_j)||^2, one step for all chains, recomputed
                     every step (D = 2). For a Gaussian of variance V, E||s||^2 = D/V, so alpha =
                     kappa V: the step follows the width of q_sigma (sigma^2 + data variance),
                     where the fixed rule follows sigma^2 alone. For a mixture the mean is a
                     weighted harmonic one, alpha = kappa / sum_k (w_k / V_k): one step for all
                     modes, relatively largest in the narrowest.
     adaptive/chain  alpha_j = kappa D / ||s(x_j)||^2 per chain, capped at 10x the level value
                     (||s|| vanishes at modes and saddles, where 1/||s||^2 would be unbounded).
                     A step that depends on the chain's own position breaks the detailed balance
                     of Langevin dynamics, so this one is biased even for small kappa; and its
                     drift (alpha/2)||s|| = kappa D/(2||s||) is shortest where the score is
                     largest, i.e. far from the data, where long moves are needed.
   kappa is alpha/V at the first level for all three; the Langevin step on a Gaussian is stable
   for alpha < 4V, so kappa ~ 4 is the edge for the fixed and the per-level rules.

   Part A - exact score (ncsn_gmm_score_fn) of a 2-D mixture with modes of different widths:
     weights 0.2 / 0.5 / 0.3, means (-4,-4) / (4,-2) / (-1,4), std 0.2 / 1 / 0.5; sigma 10 -> 0.01.
     1000 chains for kappa in {0.1, 0.3, 1, 3, 10} and T in {10, 100}: energy distance to fresh
     mixture samples (floor: fresh vs fresh), the largest error of the recovered mode weights, the
     std of the narrow and the wide mode over their true std, diverged chains, score evaluations.
   Part B - a trained network: the Swiss-roll net of exercise 1 (embedding 64, hidden 128 x 3,
     s = net/sigma, sigma 5 -> 0.01; 6000 Adam steps, 800 with --quick), the three rules at
     kappa = 1 and 0.25, T = 100 (30 with --quick):
     energy distance, precision (sample -> nearest training point), coverage (fresh data point ->
     nearest sample), diverged chains.

   usage: ex2_adaptive_step OUTDIR [--quick]
   writes OUTDIR/ex2_grid.dat, ex2_alpha.dat, ex2_mix.dat, ex2_mixture.dat, ex2_samples_<rule>.dat,
   ex2_net.dat, ex2_net_data.dat, ex2_net_samples_<rule>_<0: kappa 1, 1: kappa 0.25>.dat. */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime: wall-clock timing */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../tools/common.h"

#define D 2
#define L 10
#define N_CHAINS 1000
#define N_KAPPA 5
#define N_DATA 5000

enum { FIXED = 0, ADAPT_LEVEL = 1, ADAPT_CHAIN = 2 };
static const char *const rule_name[3] = { "fixed", "adaptive/level", "adaptive/chain" };
static const char *const rule_file[3] = { "fixed", "level", "chain" };

static const float mix_w[3] = { 0.2f, 0.5f, 0.3f };
static const float mix_mu[6] = { -4.0f, -4.0f, 4.0f, -2.0f, -1.0f, 4.0f };
static const float mix_var[6] = { 0.04f, 0.04f, 1.0f, 1.0f, 0.25f, 0.25f };

/* Annealed Langevin with one of the three step rules, from N(0, sigma_1^2 I). alpha_mean[i] (may
   be NULL) receives the mean step of level i over its steps (and chains). A chain that diverges
   does not spoil the others: the mean ||s||^2 is taken over the finite chains only. */
static ncsn_status anneal(int rule, float kappa, int T, ncsn_score_fn score, void *user, const float *sig,
                          ncsn_rng *rng, float *x, int n, double *alpha_mean)
{
    float *s = malloc(sizeof(float) * D * n), *z = malloc(sizeof(float) * D * n), *g = malloc(sizeof(float) * n);
    ncsn_status st = NCSN_OK;
    int i, t, j;
    if (!s || !z || !g) { free(s); free(z); free(g); return NCSN_ERR_NOMEM; }
    ncsn_rng_normals(rng, x, (size_t)D * n);
    for (j = 0; j < D * n; j++) x[j] *= sig[0];
    for (i = 0; i < L && st == NCSN_OK; i++) {
        double a_tot = 0.0;
        long a_cnt = 0;
        for (t = 0; t < T; t++) {
            double gsum = 0.0;
            int n_fin = 0;
            float a_level;
            if ((st = score(user, s, x, sig[i], n)) != NCSN_OK) break;
            ncsn_rng_normals(rng, z, (size_t)D * n);
            for (j = 0; j < n; j++) {
                g[j] = s[D * j] * s[D * j] + s[D * j + 1] * s[D * j + 1];
                if (isfinite(g[j])) { gsum += g[j]; n_fin++; }
            }
            a_level = rule == FIXED ? kappa * sig[i] * sig[i] : (float)(kappa * D * n_fin / gsum);
            if (rule != ADAPT_CHAIN) {
                ncsn_langevin_update(x, s, z, (size_t)D * n, 0.5f * a_level, sqrtf(a_level));
                a_tot += a_level;
                a_cnt++;
                continue;
            }
            for (j = 0; j < n; j++) {   /* alpha_j = kappa D / ||s_j||^2, at most 10 x the level's value */
                float a = g[j] * 10.0f > (float)(gsum / n_fin) ? kappa * D / g[j] : 10.0f * a_level;
                if (!isfinite(g[j])) continue;
                ncsn_langevin_update(x + D * j, s + D * j, z + D * j, D, 0.5f * a, sqrtf(a));
                a_tot += a;
                a_cnt++;
            }
        }
        if (alpha_mean) alpha_mean[i] = a_cnt ? a_tot / a_cnt : NAN;
    }
    free(s);
    free(z);
    free(g);
    return st;
}

/* mixture statistics of the samples: each sample goes to its most probable component; out:
   largest |weight - true weight|, and std of components 0 (narrow) and 1 (wide) / true std */
static void mix_stats(const float *x, int n, double *werr, double *sd_narrow, double *sd_wide)
{
    double cnt[3] = { 0, 0, 0 }, s1[3][D], s2[3][D];
    int i, k, d;
    memset(s1, 0, sizeof s1);
    memset(s2, 0, sizeof s2);
    for (i = 0; i < n; i++) {
        int best = 0;
        double bl = -INFINITY;
        for (k = 0; k < 3; k++) {
            double l = log(mix_w[k]);
            for (d = 0; d < D; d++) {
                double u = x[D * i + d] - mix_mu[D * k + d];
                l -= 0.5 * (u * u / mix_var[D * k + d] + log(mix_var[D * k + d]));
            }
            if (l > bl) { bl = l; best = k; }
        }
        cnt[best] += 1;
        for (d = 0; d < D; d++) { s1[best][d] += x[D * i + d]; s2[best][d] += (double)x[D * i + d] * x[D * i + d]; }
    }
    *werr = 0.0;
    for (k = 0; k < 3; k++) if (fabs(cnt[k] / n - mix_w[k]) > *werr) *werr = fabs(cnt[k] / n - mix_w[k]);
    for (k = 0; k < 2; k++) {
        double v = 0.0;
        for (d = 0; d < D; d++) v += cnt[k] > 1 ? (s2[k][d] - s1[k][d] * s1[k][d] / cnt[k]) / cnt[k] : NAN;
        *(k == 0 ? sd_narrow : sd_wide) = sqrt(v / D / mix_var[D * k]);
    }
}

static const float kappas[N_KAPPA] = { 0.1f, 0.3f, 1.0f, 3.0f, 10.0f };
static const int Ts[2] = { 10, 100 };

/* OUTDIR/NAME: the n points x[n][D], one "x y" line each */
static void write_points(const char *dir, const char *name, const float *x, int n)
{
    FILE *fp = open_out(dir, name);
    int i;
    for (i = 0; i < n; i++) fprintf(fp, "%.6g %.6g\n", x[D * i], x[D * i + 1]);
    fclose(fp);
}

/* one row of part A: `rule` at kappas[ki] and Ts[ti] steps per level on the mixture's exact score,
   printed and written to fg (alpha non-NULL: the mean step per level into it). 1: the seed's
   setting (fixed, kappa = 1) failed with the exact score, -1: an error */
static int part_a_row(const char *dir, FILE *fg, int rule, int ki, int ti, const ncsn_gmm *mix, const float *sig,
                      float (*fresh)[N_CHAINS * D], double floor_ed, double *alpha)
{
    static float x[N_CHAINS * D];
    double ed = NAN, werr = NAN, sdn = NAN, sdw = NAN;
    ncsn_rng rng;
    int n_ok;
    ncsn_rng_seed(&rng, 2019, 202);   /* same start and noise for every rule and kappa */
    if (anneal(rule, kappas[ki], Ts[ti], ncsn_gmm_score_fn, (void *)mix, sig, &rng, x, N_CHAINS, alpha) != NCSN_OK) {
        fprintf(stderr, "part A: %s\n", ncsn_last_error());
        return -1;
    }
    n_ok = keep_finite(x, N_CHAINS, D);
    if (n_ok > 1) {
        ed = 0.5 * (ncsn_energy_distance(x, n_ok, fresh[0], N_CHAINS, D) + ncsn_energy_distance(x, n_ok, fresh[1], N_CHAINS, D));
        mix_stats(x, n_ok, &werr, &sdn, &sdw);
    }
    printf("  %-14s %5.2g %4d %6d | %8.4g %7.3g | %9.3g %9.3g %9.3g | %8d\n", rule_name[rule], (double)kappas[ki], Ts[ti],
           L * Ts[ti], ed, ed / floor_ed, werr, sdn, sdw, N_CHAINS - n_ok);
    fprintf(fg, "%d %g %d %d %.6g %.6g %.6g %.6g %.6g %d\n", rule, (double)kappas[ki], Ts[ti], L * Ts[ti], ed, floor_ed,
            werr, sdn, sdw, N_CHAINS - n_ok);
    if (ti == 0 && ki == 2) {   /* kappa = 1, T = 10: the samples for the figure */
        char name[64];
        snprintf(name, sizeof name, "ex2_samples_%s.dat", rule_file[rule]);
        write_points(dir, name, x, n_ok);
    }
    return rule == FIXED && ki == 2 && !(n_ok == N_CHAINS && ed < 10.0 * floor_ed);
}

/* part A's other files: the mean steps per level, fresh mixture samples, the mixture itself */
static void part_a_files(const char *dir, const float *sig, double (*alpha)[L], const float *fresh)
{
    int i;
    FILE *fp;
    printf("  mean step per level at kappa = %g, T = %d:\n    %-8s %12s %12s %12s\n", (double)kappas[2], Ts[1], "sigma",
           rule_name[0], rule_name[1], rule_name[2]);
    fp = open_out(dir, "ex2_alpha.dat");
    fprintf(fp, "# sigma  mean alpha: fixed adaptive/level adaptive/chain  kappa T\n");
    for (i = 0; i < L; i++) {
        printf("    %-8.4g %12.4g %12.4g %12.4g\n", (double)sig[i], alpha[0][i], alpha[1][i], alpha[2][i]);
        fprintf(fp, "%.6g %.6g %.6g %.6g %g %d\n", (double)sig[i], alpha[0][i], alpha[1][i], alpha[2][i], (double)kappas[2], Ts[1]);
    }
    fclose(fp);
    write_points(dir, "ex2_mix.dat", fresh, N_CHAINS);
    fp = open_out(dir, "ex2_mixture.dat");
    fprintf(fp, "# component weight mean_1 mean_2 std_1 std_2\n");
    for (i = 0; i < 3; i++)
        fprintf(fp, "%d %g %g %g %g %g\n", i, (double)mix_w[i], (double)mix_mu[D * i], (double)mix_mu[D * i + 1],
                sqrt(mix_var[D * i]), sqrt(mix_var[D * i + 1]));
    fclose(fp);
}

/* part A: the exact score of the mixture. 1: the sanity check failed, -1: an error */
static int part_a(const char *dir, int quick)
{
    static float fresh[3][N_CHAINS * D];
    const ncsn_gmm mix = { 3, D, mix_w, mix_mu, mix_var };
    float sig[L];
    double floor_ed, alpha[3][L];
    int rule, ki, ti, i, failed = 0;
    ncsn_rng rng;
    FILE *fg;
    ncsn_rng_seed(&rng, 2019, 201);
    ncsn_schedule(sig, L, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    for (i = 0; i < 3; i++) ncsn_gmm_sample(&mix, &rng, fresh[i], NULL, N_CHAINS);
    floor_ed = 0.5 * (ncsn_energy_distance(fresh[2], N_CHAINS, fresh[0], N_CHAINS, D) +
                      ncsn_energy_distance(fresh[2], N_CHAINS, fresh[1], N_CHAINS, D));
    printf("exercise 2: step size alpha ~ 1/||s||^2 vs the fixed alpha_i = kappa sigma_i^2%s\n", quick ? " (quick)" : "");
    printf("part A: exact score of 0.2 N((-4,-4), 0.2^2) + 0.5 N((4,-2), 1) + 0.3 N((-1,4), 0.5^2), sigma 10 -> 0.01, L = %d, %d chains\n",
           L, N_CHAINS);
    printf("  %-14s %5s %4s %6s | %8s %7s | %9s %9s %9s | %8s\n", "rule", "kappa", "T", "evals", "energy", "/floor",
           "w error", "sd narrow", "sd wide", "diverged");
    fg = open_out(dir, "ex2_grid.dat");
    fprintf(fg, "# rule(0 fixed 1 adaptive/level 2 adaptive/chain) kappa T evals energy floor weight_err sd_narrow_ratio sd_wide_ratio diverged\n");
    for (ti = 0; ti < 2; ti++) {
        for (rule = 0; rule < 3; rule++) {
            for (ki = 0; ki < N_KAPPA; ki++) {
                int row = part_a_row(dir, fg, rule, ki, ti, &mix, sig, fresh, floor_ed, ti == 1 && ki == 2 ? alpha[rule] : NULL);
                if (row < 0) { fclose(fg); return -1; }
                failed |= row;
            }
            fprintf(fg, "\n\n");   /* one gnuplot block per (T, rule) */
        }
    }
    fclose(fg);
    printf("  (energy: energy distance to fresh mixture samples, floor %.5f; w error: largest |weight - true|;\n"
           "   sd narrow/wide: std of the samples of the std-0.2 / std-1 mode over the true std; evals: score calls per chain)\n", floor_ed);
    part_a_files(dir, sig, alpha, fresh[0]);
    return failed;
}

/* part B's points: the training data, then three fresh sets of N_CHAINS (one draw, split: see exercise 1) */
#define FRESH(all, i) ((all) + D * (N_DATA + (i) * N_CHAINS))

/* one row of part B: `rule` at kappa with the trained network m, printed and written to fg with
   the floors; its samples to OUTDIR. 1: the fixed rule at kappa = 1 lost half its chains, -1: an error */
static int part_b_row(const char *dir, FILE *fg, int rule, int k, float kappa, int T, ncsn_model *m, const float *sig,
                      const float *all, const double *floor, int steps)
{
    static float x[N_CHAINS * D];
    double ed, prec, cover;
    char name[64];
    ncsn_rng rng;
    int n_ok;
    ncsn_rng_seed(&rng, 2019, 204);
    if (anneal(rule, kappa, T, ncsn_model_score, m, sig, &rng, x, N_CHAINS, NULL) != NCSN_OK) {
        fprintf(stderr, "part B: %s\n", ncsn_last_error());
        return -1;
    }
    n_ok = keep_finite(x, N_CHAINS, D);
    ed = 0.5 * (ncsn_energy_distance(x, n_ok, FRESH(all, 0), N_CHAINS, D) + ncsn_energy_distance(x, n_ok, FRESH(all, 1), N_CHAINS, D));
    prec = nn_dist(x, n_ok, all, N_DATA);
    cover = nn_dist(FRESH(all, 1), N_CHAINS, x, n_ok);
    printf("  %-14s %5.2g | %8.5f %9.4f %9.4f | %8d\n", rule_name[rule], (double)kappa, ed, prec, cover, N_CHAINS - n_ok);
    fprintf(fg, "%d %g %d %.6g %.6g %.6g %.6g %.6g %.6g %d %d %d\n", rule, (double)kappa, T, ed, floor[0], prec, floor[1],
            cover, floor[2], N_CHAINS - n_ok, N_CHAINS, steps);
    snprintf(name, sizeof name, "ex2_net_samples_%s_%d.dat", rule_file[rule], k);
    write_points(dir, name, x, n_ok);
    return rule == FIXED && k == 0 && n_ok < N_CHAINS / 2;
}

/* part B: a trained network on the Swiss roll. 1: the sanity check failed, -1: an error */
static int part_b(const char *dir, int quick)
{
    static const float kap_b[2] = { 1.0f, 0.25f };
    static float all[(N_DATA + 3 * N_CHAINS) * D];
    ncsn_config cfg = ncsn_config_embed(D, 64, 128, 3);
    ncsn_trainer *tr;
    ncsn_rng rng;
    float sig[L], loss;
    int steps = quick ? 800 : 6000, T = quick ? 30 : 100, k, rule, failed = 0;
    double floor[3];   /* energy, precision and coverage of fresh data */
    FILE *fg;

    cfg.scale_by_sigma = 1;
    ncsn_rng_seed(&rng, 2019, 203);
    ncsn_data_swiss_roll(&rng, all, N_DATA + 3 * N_CHAINS);
    ncsn_schedule(sig, L, 5.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    tr = ex_trainer(&cfg, all, N_DATA, sig, L, &rng, steps);   /* batches of 256, as torch.randperm()[:256] */
    loss = tr->loss;
    floor[0] = ncsn_energy_distance(FRESH(all, 2), N_CHAINS, FRESH(all, 0), N_CHAINS, D);
    floor[1] = nn_dist(FRESH(all, 2), N_CHAINS, all, N_DATA);
    floor[2] = nn_dist(FRESH(all, 1), N_CHAINS, FRESH(all, 2), N_CHAINS);
    printf("part B: trained net on the Swiss roll (%d Adam steps, final minibatch loss %.4f), sigma 5 -> 0.01, L = %d, T = %d, %d chains\n",
           steps, (double)loss, L, T, N_CHAINS);
    printf("  %-14s %5s | %8s %9s %9s | %8s\n", "rule", "kappa", "energy", "precision", "coverage", "diverged");
    printf("  %-14s %5s | %8.5f %9.4f %9.4f |\n", "floor", "", floor[0], floor[1], floor[2]);
    fg = open_out(dir, "ex2_net.dat");
    fprintf(fg, "# rule kappa T energy energy_floor precision precision_floor coverage coverage_floor diverged n_chains steps\n");
    for (k = 0; k < 2 && failed >= 0; k++)
        for (rule = 0; rule < 3 && failed >= 0; rule++) {
            int row = part_b_row(dir, fg, rule, k, kap_b[k], T, tr->model, sig, all, floor, steps);
            failed = row < 0 ? -1 : failed | row;
        }
    fclose(fg);
    write_points(dir, "ex2_net_data.dat", all, N_DATA);
    ncsn_trainer_free(tr);
    return failed;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    int failed_a, failed_b;
    double t0;

    if (!dir) { fprintf(stderr, "usage: %s OUTDIR [--quick]\n", argv[0]); return 2; }
    t0 = now();
    if ((failed_a = part_a(dir, quick)) < 0 || (failed_b = part_b(dir, quick)) < 0) return 1;
    printf("  (precision: mean distance sample -> nearest training point; coverage: fresh data point -> nearest sample)\n");
    printf("time %.1f s\n", now() - t0);
    if (failed_a | failed_b) fprintf(stderr, "ex2: the fixed schedule at kappa = 1 failed its sanity check\n");
    return failed_a | failed_b;
}
