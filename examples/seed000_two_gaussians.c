/* seed000_two_gaussians.c - seed 000's experiment: a ScoreNet (3 -> 128 -> 128 -> 128 -> 2, SiLU,
   sigma concatenated to x) trained by sigma^2-weighted DSM on two Gaussians, full batch 5000,
   2000 Adam steps (lr 1e-3), L = 10 levels 10 -> 0.01, then 500 samples by the seed's annealed
   Langevin (x + a s + sqrt(2a) z, a = eps sigma_i^2/sigma_L^2, eps = 5e-5, 100 steps per level,
   start N(0, I)). Prints what it measured.
   usage: seed000_two_gaussians [steps] [out.csv]   (out.csv: the samples, for the plots) */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "../tools/common.h"   /* now(): wall-clock seconds */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>

#define N_DATA 5000
#define N_SAMPLES 500
#define L 10

static void mode_stats(const float *x, int n)
{
    int k, i, d;
    for (k = 0; k < 2; k++) {
        double s[2] = { 0, 0 }, q[2] = { 0, 0 };
        int c = 0;
        for (i = 0; i < n; i++)
            if ((x[2 * i] < 0.0f) == (k == 0)) {
                c++;
                for (d = 0; d < 2; d++) { s[d] += x[2 * i + d]; q[d] += (double)x[2 * i + d] * x[2 * i + d]; }
            }
        if (!c) { printf("  mode %s: empty\n", k ? "(+3,0)" : "(-3,0)"); continue; }
        printf("  mode %s: weight %.3f, mean (%+.3f, %+.3f), std (%.3f, %.3f)   [true: 0.500, (%+.1f, 0), (0.5, 0.5)]\n",
               k ? "(+3,0)" : "(-3,0)", (double)c / n, s[0] / c, s[1] / c,
               sqrt(q[0] / c - (s[0] / c) * (s[0] / c)), sqrt(q[1] / c - (s[1] / c) * (s[1] / c)), k ? 3.0 : -3.0);
    }
}

static ncsn_status print_loss(void *user, const ncsn_trainer *t)
{
    (void)user;
    if (t->step % 500 == 0) printf("  step %ld, loss %.4f\n", t->step, (double)t->loss);
    return NCSN_OK;
}

/* N_SAMPLES chains by the seed's annealed Langevin at eps, started from N(0, I): what diverged,
   the modes and the energy distance to fresh data (floor: fresh against fresh2) printed; csv
   non-NULL: the finite samples written there with the first training points. 0 on failure */
static int sample_and_report(ncsn_model *m, const float *sig, float eps, ncsn_rng *rng, const float *fresh, const float *fresh2,
                             const float *data, const char *csv)
{
    static float x[N_SAMPLES * 2];
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    int i, n_ok, bad;
    ncsn_status st;
    double t0, t_sample;
    o.form = NCSN_LANGEVIN_SONG;
    o.eps = eps;
    o.steps_per_level = 100;
    o.init = NCSN_INIT_NORMAL;
    t0 = now();
    st = ncsn_sample_annealed(ncsn_model_score, m, 2, sig, L, &o, rng, x, N_SAMPLES);
    t_sample = now() - t0;
    if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) { fprintf(stderr, "sampling: %s\n", ncsn_last_error()); return 0; }
    n_ok = keep_finite(x, N_SAMPLES, 2);
    bad = N_SAMPLES - n_ok;
    printf("  %d samples, annealed Langevin, %d levels x 100 steps, eps %g: %d chains diverged%s\n", N_SAMPLES, L,
           (double)eps, bad, bad ? " (statistics over the rest)" : "");
    mode_stats(x, n_ok);
    printf("  energy distance samples vs data %.5f; data vs data (floor) %.5f; sampling %.2f s\n",
           ncsn_energy_distance(x, n_ok, fresh, N_SAMPLES, 2), ncsn_energy_distance(fresh2, N_SAMPLES, fresh, N_SAMPLES, 2), t_sample);
    if (csv) {
        FILE *fp = fopen(csv, "w");
        if (!fp) { perror(csv); return 0; }
        for (i = 0; i < n_ok; i++) fprintf(fp, "%.6g,%.6g,%.6g,%.6g\n", x[2 * i], x[2 * i + 1], data[2 * i], data[2 * i + 1]);
        fclose(fp);
    }
    return 1;
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 2000, i, l, e;
    const char *csv = argc > 2 ? argv[2] : NULL;
    ncsn_train_opts to = ncsn_train_preset_seed000();   /* ScoreNet 128x3, 10 levels 10 -> 0.01, full batch, lr 1e-3 */
    ncsn_trainer *tr = NULL;
    ncsn_model *m;
    ncsn_rng rng;
    const float *sig;
    static float data[N_DATA * 2], fresh[N_SAMPLES * 2], fresh2[N_SAMPLES * 2];
    double t0, t_train;

    ncsn_rng_seed(&rng, 2019, 0);
    ncsn_data_two_gaussians(&rng, data, N_DATA);
    to.threads = getenv("NCSN_THREADS") ? atoi(getenv("NCSN_THREADS")) : 2;
    if (ncsn_trainer_create(&tr, &to, data, N_DATA, 2, &rng) != NCSN_OK) {   /* the model's init continues rng */
        fprintf(stderr, "setup failed: %s\n", ncsn_last_error());
        return 1;
    }
    m = tr->model;
    sig = tr->sigmas;
    printf("seed 000: two Gaussians, ScoreNet 3-128-128-128-2 (%lu parameters), kernels %s, %s threads (same bits for any count)\n",
           (unsigned long)m->n_params, ncsn_simd_name(), getenv("NCSN_THREADS") ? getenv("NCSN_THREADS") : "2");
    t0 = now();
    if (ncsn_trainer_run(tr, steps, 500, print_loss, NULL) != NCSN_OK) {
        fprintf(stderr, "step %ld: %s\n", tr->step, ncsn_last_error());
        return 1;
    }
    t_train = now() - t0;
    rng = tr->rng;   /* evaluation and sampling continue the training stream */

    /* the learned score against the exact score of q_sigma, per level, at noisy data points */
    printf("  score error per level: mean ||s_theta - grad log q_sigma|| / mean ||grad log q_sigma|| over 2000 noisy points\n");
    for (l = 0; l < L; l++) {
        static float xt[2000 * 2], se[2000 * 2], sn[2000 * 2];
        double num = 0, den = 0;
        ncsn_rng_normals(&rng, xt, 4000);
        for (i = 0; i < 4000; i++) xt[i] = fmaf(sig[l], xt[i], data[i]);
        ncsn_gmm_score(ncsn_gmm_two_gaussians(), se, xt, sig[l], 2000);
        ncsn_model_score(m, sn, xt, sig[l], 2000);
        for (i = 0; i < 2000; i++) {
            num += hypot(sn[2 * i] - se[2 * i], sn[2 * i + 1] - se[2 * i + 1]);
            den += hypot(se[2 * i], se[2 * i + 1]);
        }
        printf("    sigma %-8.4g relative error %.4f\n", (double)sig[l], num / den);
    }

    ncsn_data_two_gaussians(&rng, fresh, N_SAMPLES);
    ncsn_data_two_gaussians(&rng, fresh2, N_SAMPLES);
    /* the seed's eps 5e-5 (first step a = 50 = sigma_1^2/2, at the edge of stability), then 2e-5 */
    for (e = 0; e < 2; e++)
        if (!sample_and_report(m, sig, e == 0 ? 5e-5f : 2e-5f, &rng, fresh, fresh2, data, e == 0 ? csv : NULL)) return 1;
    printf("  time: training %.2f s (%.2f ms/step)\n", t_train, 1e3 * t_train / (steps ? steps : 1));
    ncsn_trainer_free(tr);
    return 0;
}
