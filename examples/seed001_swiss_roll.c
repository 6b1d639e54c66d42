/* seed001_swiss_roll.c - seed 001's experiment: NCSNScoreNetwork (sinusoidal sigma embedding 64 ->
   Linear-SiLU-Linear, concatenated to x; hidden 128 x 3; output layer zero-initialised) trained by
   sigma^2-weighted DSM on a standardised Swiss roll (5000 points), batches of 256 (a random
   permutation's first 256, as torch.randperm(...)[:256]), 10000 Adam steps (lr 1e-3), L = 10 levels
   5 -> 0.01; then 1000 samples by annealed Langevin x + (a/2) s + sqrt(a) z, a = 1e-4 (sigma_i/sigma_L)^2,
   100 steps per level, from N(0, sigma_1^2 I). The "exact" score is that of the 5000 training points
   smoothed by N(0, sigma^2 I) (a mixture of point masses), the optimum DSM approaches.
   usage: seed001_swiss_roll [steps] [out_prefix]   (writes <prefix>_samples.csv, <prefix>_data.csv) */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "../tools/common.h"   /* now(): wall-clock seconds */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>

#define N_DATA 5000
#define N_SAMPLES 1000
#define L 10

static ncsn_status print_loss(void *user, const ncsn_trainer *t)
{
    (void)user;
    if (t->step % 1000 == 0) printf("  step %ld, loss %.4f\n", t->step, (double)t->loss);
    return NCSN_OK;
}

/* the score error per level: the exact score of the training points' empirical distribution
   smoothed by sigma (a mixture of point masses) against the network's, at 1000 noisy data points */
static void print_score_errors(ncsn_model *m, const float *data, const float *sig, ncsn_rng *rng)
{
    static float w_pts[N_DATA], v0[N_DATA * 2], xt[1000 * 2], se[1000 * 2], sn[1000 * 2];
    ncsn_gmm emp;
    int i, l;
    for (i = 0; i < N_DATA; i++) w_pts[i] = 1.0f / N_DATA;
    memset(v0, 0, sizeof v0);
    emp.K = N_DATA; emp.dim = 2; emp.weights = w_pts; emp.means = data; emp.vars = v0;
    printf("  score error per level: mean ||s_theta - grad log q_sigma|| / mean ||grad log q_sigma|| at 1000 noisy data points\n");
    for (l = 0; l < L; l++) {
        double num = 0, den = 0;
        ncsn_rng_normals(rng, xt, 2000);
        for (i = 0; i < 2000; i++) xt[i] = fmaf(sig[l], xt[i], data[i]);
        ncsn_gmm_score(&emp, se, xt, sig[l], 1000);
        ncsn_model_score(m, sn, xt, sig[l], 1000);
        for (i = 0; i < 1000; i++) {
            num += hypot(sn[2 * i] - se[2 * i], sn[2 * i + 1] - se[2 * i + 1]);
            den += hypot(se[2 * i], se[2 * i + 1]);
        }
        printf("    sigma %-8.4g relative error %.4f\n", (double)sig[l], num / den);
    }
}

/* how far samples are from the data: mean distance to the nearest training point, of the n
   samples x and of as many fresh data points */
static void print_nearest(const float *x, const float *fresh, int n, const float *data)
{
    double dsum = 0, dd = 0;
    int i, j;
    for (i = 0; i < n; i++) {
        float best = 1e30f, best2 = 1e30f;
        for (j = 0; j < N_DATA; j++) {
            float a = x[2 * i] - data[2 * j], b = x[2 * i + 1] - data[2 * j + 1], q = a * a + b * b;
            float a2 = fresh[2 * i] - data[2 * j], b2 = fresh[2 * i + 1] - data[2 * j + 1], q2 = a2 * a2 + b2 * b2;
            if (q < best) best = q;
            if (q2 < best2) best2 = q2;
        }
        dsum += sqrt(best);
        dd += sqrt(best2);
    }
    printf("  mean distance to the nearest training point: samples %.4f, fresh data %.4f\n", dsum / n, dd / n);
}

/* PREFIX_NAME.csv: n points, one "x,y" line each; 0 if it cannot be written */
static int write_points(const char *prefix, const char *name, const float *x, int n)
{
    char path[512];
    FILE *fp;
    int i;
    snprintf(path, sizeof path, "%s_%s.csv", prefix, name);
    if (!(fp = fopen(path, "w"))) { perror(path); return 0; }
    for (i = 0; i < n; i++) fprintf(fp, "%.6g,%.6g\n", x[2 * i], x[2 * i + 1]);
    fclose(fp);
    return 1;
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 10000, k, n_ok;
    const char *prefix = argc > 2 ? argv[2] : NULL;
    ncsn_train_opts to = ncsn_train_preset_seed001();   /* embedding 64, 128x3, 10 levels 5 -> 0.01, batch 256 */
    ncsn_trainer *tr = NULL;
    ncsn_model *m;
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    ncsn_rng rng;
    const float *sig;
    static float data[N_DATA * 2], x[N_SAMPLES * 2], ref[5][N_SAMPLES * 2];
    double t0, t_train, t_sample, ed = 0.0, floor_ed = 0.0;
    ncsn_status st;

    ncsn_rng_seed(&rng, 2019, 1);
    ncsn_data_swiss_roll(&rng, data, N_DATA);
    to.threads = getenv("NCSN_THREADS") ? atoi(getenv("NCSN_THREADS")) : 2;
    if (ncsn_trainer_create(&tr, &to, data, N_DATA, 2, &rng) != NCSN_OK) {   /* the model's init continues rng */
        fprintf(stderr, "setup failed: %s\n", ncsn_last_error());
        return 1;
    }
    m = tr->model;
    sig = tr->sigmas;
    printf("seed 001: Swiss roll, NCSNScoreNetwork (embedding 64, hidden 128x3, %lu parameters), kernels %s, %s threads (same bits for any count)\n",
           (unsigned long)m->n_params, ncsn_simd_name(), getenv("NCSN_THREADS") ? getenv("NCSN_THREADS") : "2");
    t0 = now();
    if (ncsn_trainer_run(tr, steps, 1000, print_loss, NULL) != NCSN_OK) {   /* minibatches as torch.randperm(5000)[:256] */
        fprintf(stderr, "step %ld: %s\n", tr->step, ncsn_last_error());
        return 1;
    }
    t_train = now() - t0;
    rng = tr->rng;   /* evaluation and sampling continue the training stream */

    print_score_errors(m, data, sig, &rng);

    o.form = NCSN_LANGEVIN_HALF;
    o.eps = 1e-4f;
    o.steps_per_level = 100;
    o.init = NCSN_INIT_NORMAL_SIGMA1;
    t0 = now();
    st = ncsn_sample_annealed(ncsn_model_score, m, 2, sig, L, &o, &rng, x, N_SAMPLES);
    t_sample = now() - t0;
    if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) { fprintf(stderr, "sampling: %s\n", ncsn_last_error()); return 1; }
    n_ok = keep_finite(x, N_SAMPLES, 2);   /* the others diverged: reported below */
    for (k = 0; k < 5; k++) ncsn_data_swiss_roll(&rng, ref[k], N_SAMPLES);
    for (k = 0; k < 2; k++) {
        ed += ncsn_energy_distance(x, n_ok, ref[k], N_SAMPLES, 2) / 2;
        floor_ed += ncsn_energy_distance(ref[2 + k], N_SAMPLES, ref[3 + k], N_SAMPLES, 2) / 2;
    }
    printf("  %d samples (annealed Langevin, eps 1e-4, 100 steps x %d levels, start N(0, 25 I)): %d chains diverged%s\n",
           N_SAMPLES, L, N_SAMPLES - n_ok, n_ok < N_SAMPLES ? " (statistics over the rest)" : "");
    printf("  energy distance samples vs fresh Swiss-roll data %.5f; data vs data (floor) %.5f\n", ed, floor_ed);
    print_nearest(x, ref[4], n_ok, data);
    printf("  time: training %.2f s (%.2f ms/step), sampling %.2f s\n", t_train, 1e3 * t_train / (steps ? steps : 1), t_sample);
    if (prefix && (!write_points(prefix, "samples", x, n_ok) || !write_points(prefix, "data", data, N_DATA))) return 1;
    ncsn_trainer_free(tr);
    return 0;
}
