/* ex5_ncsn_vs_ddpm.c - seed 001, exercise 5: NCSN vs DDPM on the same 2-D data (the Swiss roll)
   with the same network (ncsn_config_embed: sinusoidal embedding 64 -> Linear-SiLU-Linear,
   concatenated to x, hidden 128 x 3), the same Adam (lr 1e-3), batch (256 of 5000 points),
   number of steps and initial weights.

   Three models:
   - NCSN, seed 001 as written: s(x, sigma) = net(x, sigma), sigma 5 -> 0.01 (L = 10, geometric),
     sigma^2-weighted DSM (ncsn_dsm_loss);
   - NCSN, s = net/sigma (cfg.scale_by_sigma, NCSNv2's parameterisation), otherwise the same;
   - DDPM (Ho et al. 2020): the same MLP is an epsilon-predictor eps(x_t, t), the embedding fed
     with the integer timestep t in place of sigma; T = 1000, beta linear 1e-4 -> 0.02,
     x_t = sqrt(abar_t) x + sqrt(1 - abar_t) eps, loss = mean over batch and coordinates of
     (eps(x_t, t) - eps)^2, its gradient 2 (eps_theta - eps)/(B D) passed to ncsn_model_backward.
   With sigma^2 weighting the NCSN losses are the same kind of number, mean (sigma s + eps)^2, a
   noise-prediction error per coordinate, so the three loss curves share one axis (each still
   averages over its own noise levels).

   Samplers, at two budgets of network evaluations per sample:
   - NCSN: seed 001's annealed Langevin (x + (a/2) s + sqrt(a) z, a_i = 1e-4 (sigma_i/sigma_L)^2,
     start N(0, sigma_1^2 I)) with 100 steps per level (1000 evaluations) or 10 (100);
   - DDPM: ancestral sampling x_{t-1} = (x_t - beta_t/sqrt(1 - abar_t) eps)/sqrt(alpha_t) + sqrt(beta_t) z
     over all 1000 steps, or over 100 evenly spaced steps with the betas recomputed from abar on
     that subsequence (the respacing of Nichol & Dhariwal 2021), start N(0, I).
   Measured: energy distance to fresh data (floor: fresh vs fresh), precision (mean distance from
   a sample to its nearest training point), coverage (from a fresh data point to its nearest
   sample), diverged chains; training time for the same number of steps (wall clock, and CPU
   time, which other load on the machine disturbs less); sampling time and evaluations for 1000
   samples. A cost to expect: the library computes the sigma embedding once per distinct value
   in a batch - 10 for NCSN, ~230 of the 1000 timesteps in a DDPM batch of 256.

   usage: ex5_ncsn_vs_ddpm OUTDIR [--quick]
   writes OUTDIR/ex5_loss.dat, ex5_data.dat, ex5_samples_<model>.dat (the 1000-evaluation
   samplers), ex5_summary.dat (one row per model and budget). */
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
#define N_DATA 5000
#define BATCH 256
#define N_SAMPLES 1000
#define L 10
#define T_DDPM 1000
#define MAX_STEPS 6000
#define N_ALL (N_DATA + 3 * N_SAMPLES)

enum { NCSN_SEED = 0, NCSN_SCALED = 1, DDPM = 2 };
static const char *const model_name[3] = { "NCSN (s = net)", "NCSN (s = net/sigma)", "DDPM (eps-prediction)" };
static const char *const model_file[3] = { "ncsn", "ncsn_scaled", "ddpm" };

static float beta[T_DDPM], abar[T_DDPM];   /* DDPM schedule: beta_t and abar_t = prod_{s<=t} (1 - beta_s) */

static double cpu(void) { return (double)clock() / CLOCKS_PER_SEC; }   /* this process's CPU time */

/* one DDPM training step on a batch: t ~ U{0..T-1}, eps ~ N(0, I), loss = mean (eps_theta - eps)^2 */
static ncsn_status ddpm_loss(ncsn_model *m, const float *x, int B, ncsn_rng *rng, float *loss)
{
    static float t[BATCH], eps[BATCH * D], xt[BATCH * D], pred[BATCH * D], dpred[BATCH * D];
    double acc = 0.0;
    ncsn_status st;
    int b, d;
    for (b = 0; b < B; b++) t[b] = (float)ncsn_rng_bounded(rng, T_DDPM);   /* all timesteps, then all noise */
    ncsn_rng_normals(rng, eps, (size_t)B * D);
    for (b = 0; b < B; b++) {
        float a = sqrtf(abar[(int)t[b]]), s = sqrtf(1.0f - abar[(int)t[b]]);
        for (d = 0; d < D; d++) xt[D * b + d] = a * x[D * b + d] + s * eps[D * b + d];
    }
    if ((st = ncsn_model_forward(m, pred, xt, t, B)) != NCSN_OK) return st;
    for (b = 0; b < B * D; b++) {
        float diff = pred[b] - eps[b];
        acc += (double)diff * diff;
        dpred[b] = 2.0f * diff / (float)(B * D);
    }
    *loss = (float)(acc / (B * D));
    return ncsn_model_backward(m, NULL, dpred);
}

/* DDPM ancestral sampling over S evenly spaced timesteps of 0..T-1 (S = T: the original) */
static ncsn_status ddpm_sample(ncsn_model *m, int S, ncsn_rng *rng, float *x, int n)
{
    float *e = malloc(sizeof(float) * D * n), *z = malloc(sizeof(float) * D * n);
    ncsn_status st = NCSN_OK;
    int k, i;
    if (!e || !z) { free(e); free(z); return NCSN_ERR_NOMEM; }
    ncsn_rng_normals(rng, x, (size_t)D * n);
    for (k = S - 1; k >= 0 && st == NCSN_OK; k--) {
        int t = (int)((double)k * (T_DDPM - 1) / (S - 1) + 0.5), tp = k ? (int)((double)(k - 1) * (T_DDPM - 1) / (S - 1) + 0.5) : -1;
        float ab = abar[t], ab_prev = tp >= 0 ? abar[tp] : 1.0f;
        float b = 1.0f - ab / ab_prev;   /* the beta of this (possibly skipped) step */
        float c_eps = b / sqrtf(1.0f - ab), inv_sqrt_a = 1.0f / sqrtf(1.0f - b), c_z = k ? sqrtf(b) : 0.0f;
        if ((st = ncsn_model_score(m, e, x, (float)t, n)) != NCSN_OK) break;   /* the net's output: eps(x_t, t) */
        ncsn_rng_normals(rng, z, (size_t)D * n);
        for (i = 0; i < D * n; i++) x[i] = (x[i] - c_eps * e[i]) * inv_sqrt_a + c_z * z[i];
    }
    free(e);
    free(z);
    return st;
}

/* DDPM's schedule: beta linear 1e-4 -> 0.02, abar accumulated in double */
static void ddpm_schedule(void)
{
    double ab = 1.0;
    int i;
    for (i = 0; i < T_DDPM; i++) {
        beta[i] = (float)(1e-4 + (0.02 - 1e-4) * i / (T_DDPM - 1));
        ab *= 1.0 - beta[i];
        abar[i] = (float)ab;
    }
}

/* how much of each training budget goes to fine scales: noise std < 0.1 relative to the data,
   for DDPM the std of x_t / sqrt(abar_t) = x + sqrt((1 - abar_t)/abar_t) eps */
static void print_fine_share(const float *sig)
{
    int i, n_ncsn = 0, n_ddpm = 0;
    for (i = 0; i < L; i++) n_ncsn += sig[i] < 0.1f;
    for (i = 0; i < T_DDPM; i++) n_ddpm += (1.0f - abar[i]) / abar[i] < 0.01f;
    printf("  share of training draws at noise std < 0.1 (data std 1): NCSN %.1f%%, DDPM %.1f%%\n",
           100.0 * n_ncsn / L, 100.0 * n_ddpm / T_DDPM);
}

/* the three models: the two NCSN ones train with the library's trainer, DDPM with its own loss
   and Adam; each has its own generator, and the wall and CPU seconds of its training */
typedef struct ex5_models {
    ncsn_model *m[3];
    ncsn_trainer *tr[2];
    ncsn_adam opt;
    int perm[N_DATA];   /* DDPM's minibatch permutation; the trainers keep their own */
    ncsn_rng rngs[3];
    double t_train[3], c_train[3];
} ex5_models;

/* each generator seeded alike: the same initial weights and batches for all three; 0 on failure */
static int models_create(ex5_models *M, const float *data, const float *sig)
{
    int k, i;
    for (k = 0; k < 3; k++) {
        ncsn_config cfg = ncsn_config_embed(D, 64, 128, 3);
        cfg.scale_by_sigma = k == NCSN_SCALED;
        ncsn_rng_seed(&M->rngs[k], 2019, 502);
        M->t_train[k] = M->c_train[k] = 0.0;
        if (k != DDPM) {
            M->tr[k] = ex_trainer(&cfg, data, N_DATA, sig, L, &M->rngs[k], 0);
            M->m[k] = M->tr[k]->model;
            continue;
        }
        if (ncsn_model_create(&M->m[k], &cfg) != NCSN_OK || ncsn_adam_create(&M->opt, M->m[k]->n_params, 1e-3f) != NCSN_OK) {
            fprintf(stderr, "setup: %s\n", ncsn_last_error());
            return 0;
        }
        ncsn_model_init(M->m[k], &M->rngs[k]);
        for (i = 0; i < N_DATA; i++) M->perm[i] = i;
    }
    return 1;
}

/* the three models train in lock-step, one Adam step each in turn, so that other load on the
   machine slows them alike; 0 on failure */
static int models_train(ex5_models *M, const float *data, int steps, float (*loss_hist)[MAX_STEPS])
{
    static float batch[BATCH * D];
    int step, k;
    for (step = 0; step < steps; step++)
        for (k = 0; k < 3; k++) {
            double t0 = now(), c0 = cpu();
            float loss = 0.0f;
            ncsn_status st;
            if (k != DDPM) {
                st = ncsn_trainer_step(M->tr[k]);
                loss = M->tr[k]->loss;
            } else {
                ncsn_minibatch(&M->rngs[k], M->perm, N_DATA, data, D, batch, BATCH);
                ncsn_model_zero_grad(M->m[k]);
                st = ddpm_loss(M->m[k], batch, BATCH, &M->rngs[k], &loss);
                if (st == NCSN_OK) st = ncsn_model_adam_step(M->m[k], &M->opt);
            }
            if (st != NCSN_OK || !isfinite(loss)) {
                fprintf(stderr, "%s, step %d: %s\n", model_name[k], step, ncsn_last_error());
                return 0;
            }
            loss_hist[k][step] = loss;
            M->t_train[k] += now() - t0;
            M->c_train[k] += cpu() - c0;
        }
    M->rngs[0] = M->tr[0]->rng;   /* sampling continues each model's stream */
    M->rngs[1] = M->tr[1]->rng;
    return 1;
}

/* model k sampled at a budget of `evals` network evaluations per sample, measured against the
   fresh sets ref[3] (floor: theirs), printed and written to fs; the first budget's samples to
   OUTDIR. 1: mostly non-finite samples, -1: an error */
static int sample_row(ex5_models *M, int k, int evals, int first, const float *sig, const float *data, const float *const *ref,
                      const double *floor, int steps, FILE *fs, const char *dir)
{
    static float x[N_SAMPLES * D];
    double ed, prec, cover, t0 = now(), t_sample;
    int i, n_ok;
    ncsn_status st;
    if (k == DDPM) {
        st = ddpm_sample(M->m[k], evals, &M->rngs[k], x, N_SAMPLES);
    } else {
        ncsn_sampler_opts o = ncsn_sampler_defaults();
        o.form = NCSN_LANGEVIN_HALF;
        o.eps = 1e-4f;
        o.steps_per_level = evals / L;
        o.init = NCSN_INIT_NORMAL_SIGMA1;
        st = ncsn_sample_annealed(ncsn_model_score, M->m[k], D, sig, L, &o, &M->rngs[k], x, N_SAMPLES);
    }
    t_sample = now() - t0;
    if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) { fprintf(stderr, "sampling: %s\n", ncsn_last_error()); return -1; }
    n_ok = keep_finite(x, N_SAMPLES, D);
    ed = 0.5 * (ncsn_energy_distance(x, n_ok, ref[0], N_SAMPLES, D) + ncsn_energy_distance(x, n_ok, ref[1], N_SAMPLES, D));
    prec = nn_dist(x, n_ok, data, N_DATA);
    cover = nn_dist(ref[2], N_SAMPLES, x, n_ok);
    printf("  %-22s %6d | %8.5f %9.4f %9.4f %8d | %8.2f %8.2f %8.3f | %8.2f\n", model_name[k], evals, ed, prec, cover,
           N_SAMPLES - n_ok, M->t_train[k], M->c_train[k], 1e3 * M->t_train[k] / steps, t_sample);
    fprintf(fs, "%d %d %.6g %.6g %.6g %.6g %.6g %.6g %d %d %.4g %.4g %.4g %d %.4g\n", k, evals, ed, floor[0], prec, floor[1],
            cover, floor[2], N_SAMPLES - n_ok, N_SAMPLES, M->t_train[k], 1e3 * M->t_train[k] / steps, t_sample, steps, M->c_train[k]);
    if (first) {
        char name[64];
        FILE *fp;
        snprintf(name, sizeof name, "ex5_samples_%s.dat", model_file[k]);
        fp = open_out(dir, name);
        for (i = 0; i < n_ok; i++) fprintf(fp, "%.6g %.6g\n", x[D * i], x[D * i + 1]);
        fclose(fp);
    }
    return n_ok < N_SAMPLES / 2 || !isfinite(ed);
}

/* the loss curves and the training data */
static void write_curves(const char *dir, float (*loss_hist)[MAX_STEPS], int steps, const float *data)
{
    int i;
    FILE *fp;
    fig_loss_avg(dir, "ex5_loss.dat", "step  noise-prediction loss per coordinate, 100-step moving average: ncsn ncsn_scaled ddpm",
                 loss_hist[0], 3, MAX_STEPS, steps);
    fp = open_out(dir, "ex5_data.dat");
    for (i = 0; i < N_DATA; i++) fprintf(fp, "%.6g %.6g\n", data[D * i], data[D * i + 1]);
    fclose(fp);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    int steps = quick ? 1000 : MAX_STEPS, k, b, failed = 0;
    static const int budget[2] = { 1000, 100 };   /* network evaluations per sample */
    static float all[N_ALL * D];
    static float loss_hist[3][MAX_STEPS];
    static ex5_models M;
    const float *ref[3];
    float sig[L];
    double floor[3];   /* energy, precision and coverage of fresh data */
    ncsn_rng rng;
    FILE *fs;

    if (!dir) { fprintf(stderr, "usage: %s OUTDIR [--quick]\n", argv[0]); return 2; }
    ncsn_rng_seed(&rng, 2019, 501);
    ncsn_data_swiss_roll(&rng, all, N_ALL);   /* training data and fresh sets in one draw (see exercise 1) */
    for (k = 0; k < 3; k++) ref[k] = all + D * (N_DATA + k * N_SAMPLES);
    floor[0] = ncsn_energy_distance(ref[2], N_SAMPLES, ref[0], N_SAMPLES, D);
    floor[1] = nn_dist(ref[2], N_SAMPLES, all, N_DATA);
    floor[2] = nn_dist(ref[1], N_SAMPLES, ref[2], N_SAMPLES);
    ncsn_schedule(sig, L, 5.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    ddpm_schedule();
    printf("exercise 5: NCSN vs DDPM on the Swiss roll, same network (embedding 64, hidden 128 x 3), %d Adam steps each%s\n",
           steps, quick ? " (quick)" : "");
    print_fine_share(sig);
    printf("  %-22s %6s | %8s %9s %9s %8s | %8s %8s %8s | %8s\n", "model", "evals", "energy", "precision", "coverage", "diverged",
           "train s", "cpu s", "ms/step", "sample s");
    printf("  %-22s %6s | %8.5f %9.4f %9.4f %8s |\n", "floor (fresh data)", "", floor[0], floor[1], floor[2], "");
    fs = open_out(dir, "ex5_summary.dat");
    fprintf(fs, "# model(0 ncsn, 1 ncsn s=net/sigma, 2 ddpm) evals energy energy_floor precision precision_floor coverage coverage_floor"
                " diverged n_samples train_s ms_per_step sample_s steps train_cpu_s\n");
    if (!models_create(&M, all, sig) || !models_train(&M, all, steps, loss_hist)) return 1;
    for (k = 0; k < 3; k++)
        for (b = 0; b < 2; b++) {
            int row = sample_row(&M, k, budget[b], b == 0, sig, all, ref, floor, steps, fs, dir);
            if (row < 0) return 1;
            failed |= row;
        }
    ncsn_trainer_free(M.tr[0]);
    ncsn_trainer_free(M.tr[1]);
    ncsn_adam_free(&M.opt);
    ncsn_model_free(M.m[DDPM]);
    fclose(fs);
    printf("  (evals: network evaluations per sample; energy: energy distance to fresh data; precision: mean distance\n"
           "   sample -> nearest training point; coverage: fresh data point -> nearest sample; times are wall clock, ms/step\n"
           "   too; cpu s: this process's CPU time, which other load on the machine disturbs less)\n");
    write_curves(dir, loss_hist, steps, all);
    if (failed) fprintf(stderr, "ex5: a model produced mostly non-finite samples\n");
    return failed;
}
