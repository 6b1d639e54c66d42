/* ex3_conditional.c - seed 001, exercise 3: a class-conditional NCSN on a 2-D mixture of 4
   Gaussians, one class per component.

   Design. The library's score network has no class input, so the class rides along as data:
   the model is an ordinary ncsn_config_embed network of dimension D = 2 + 4, whose input is
   [x, onehot(c)]. Training uses ncsn_dsm_loss unchanged, with the noise supplied (eps_given):
   normal noise on the two data coordinates and exactly 0 on the four class coordinates, so the
   class input is never perturbed and the DSM target there is 0 (the zero-initialised output
   layer starts at that optimum; those outputs are trained to 0 and otherwise ignored). The
   library's loss is then the mean over all 6 outputs; it is printed as the mean over the two
   data coordinates (x 6/2), which is what the seed's loss would be. Sampling wraps the model in
   an ncsn_score_fn of dimension 2 that appends the fixed one-hot to each chain and returns the
   first two outputs, so ncsn_sample_annealed runs unchanged in 2-D.
   Everything else is exercise 1's: embedding 64, hidden 128 x 3, s = net/sigma, sigma^2-weighted
   DSM, Adam 1e-3, batch 256 (drawn with replacement from 5000 points), 5000 steps (800 with
   --quick), L = 10 geometric levels 6 -> 0.01, seed 001's sampler (x + (a/2) s + sqrt(a) z,
   a_i = 1e-4 (sigma_i/sigma_L)^2, start N(0, sigma_1^2 I)).

   The mixture (weights 0.1 0.2 0.3 0.4, so class 0 is rare; diagonal covariances, two of them
   elongated, and classes 2 and 3 overlapping) - see mix_* below.

   Measured per class, from 500 conditional samples of each source - the network with seed 001's
   100 steps per level, the network with 10 steps per level (exercises 1, 2 and 5 find the long
   chains drifting on the learned score's errors), the exact score of the class's Gaussian with
   100 steps (the sampler's own error), and fresh data (the floor): accuracy = the fraction of
   the samples nearest to their own class mean; the energy distance to fresh samples of the
   class; the mean and std per coordinate against the true ones.

   usage: ex3_conditional OUTDIR [--quick]
   writes OUTDIR/ex3_data.dat, ex3_samples_<source 0-2>.dat (x y class), ex3_loss.dat,
   ex3_summary.dat (one row per class and source). */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime: wall-clock timing */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../tools/common.h"

#define NC 4                /* classes */
#define DX 2                /* data dimension */
#define DM (DX + NC)        /* model dimension: x and the one-hot class */
#define L 10
#define N_DATA 5000
#define BATCH 256
#define N_PER 500           /* samples per class */
#define MAX_STEPS 5000

static const float mix_w[NC] = { 0.1f, 0.2f, 0.3f, 0.4f };
static const float mix_mu[NC * DX] = { -2.5f, 2.0f, 2.5f, 2.5f, -1.0f, -2.0f, 1.5f, -2.5f };
static const float mix_var[NC * DX] = { 0.64f, 0.04f, 0.09f, 0.09f, 0.25f, 0.25f, 1.0f, 0.36f };

/* where the samples of a class come from */
enum { SRC_NET = 0, SRC_NET_SHORT = 1, SRC_EXACT = 2, N_SRC = 3 };
static const int src_T[N_SRC] = { 100, 10, 100 };   /* sampler steps per level */
static const char *const src_name[N_SRC + 1] = { "network, T = 100", "network, T = 10", "exact score, T = 100", "fresh data (floor)" };

static const float one_weight = 1.0f;

/* class c alone: its Gaussian as a one-component mixture */
static ncsn_gmm class_gmm(int c)
{
    ncsn_gmm g;
    g.K = 1;
    g.dim = DX;
    g.weights = &one_weight;
    g.means = mix_mu + DX * c;
    g.vars = mix_var + DX * c;
    return g;
}

/* the conditional score s(x, sigma | c) in 2-D: the model at [x, onehot(c)], first two outputs */
typedef struct cond_ctx {
    ncsn_model *m;
    int cls;
    float *in, *out;   /* [n][DM] scratch */
} cond_ctx;

static ncsn_status cond_score(void *user, float *out, const float *x, float sigma, int n)
{
    cond_ctx *c = (cond_ctx *)user;
    ncsn_status st;
    int i, k;
    for (i = 0; i < n; i++) {
        c->in[DM * i] = x[DX * i];
        c->in[DM * i + 1] = x[DX * i + 1];
        for (k = 0; k < NC; k++) c->in[DM * i + DX + k] = k == c->cls ? 1.0f : 0.0f;
    }
    if ((st = ncsn_model_score(c->m, c->out, c->in, sigma, n)) != NCSN_OK) return st;
    for (i = 0; i < n; i++) { out[DX * i] = c->out[DM * i]; out[DX * i + 1] = c->out[DM * i + 1]; }
    return NCSN_OK;
}

/* fraction of the n points nearest (Euclidean) to the mean of class c */
static double accuracy(const float *x, int n, int c)
{
    int i, k, hit = 0;
    for (i = 0; i < n; i++) {
        int best = 0;
        float bd = INFINITY;
        for (k = 0; k < NC; k++) {
            float u = x[DX * i] - mix_mu[DX * k], v = x[DX * i + 1] - mix_mu[DX * k + 1];
            if (u * u + v * v < bd) { bd = u * u + v * v; best = k; }
        }
        hit += best == c;
    }
    return n ? (double)hit / n : NAN;
}

static void moments(const float *x, int n, double mean[DX], double sd[DX])
{
    int i, d;
    for (d = 0; d < DX; d++) {
        double s = 0.0, q = 0.0;
        for (i = 0; i < n; i++) s += x[DX * i + d];
        s /= n;
        for (i = 0; i < n; i++) q += (x[DX * i + d] - s) * (x[DX * i + d] - s);
        mean[d] = s;
        sd[d] = sqrt(q / n);
    }
}

/* trains m on [x, onehot(label)] by sigma^2-weighted DSM, batches drawn with replacement, the
   noise of the class coordinates 0; the loss per data coordinate of each step in loss_hist */
static int train_conditional(ncsn_model *m, const float *data, const int *label, const float *sig, int steps, ncsn_rng *rng,
                             float *loss_hist)
{
    static float xin[BATCH * DM], eps[BATCH * DM];
    float z[BATCH * DX], loss = 0.0f;
    ncsn_dsm_opts noise;   /* the noise given: its class coordinates stay 0 */
    ncsn_adam opt;
    ncsn_dsm_batch bt;
    int step, i, k, ok = 1;
    memset(&opt, 0, sizeof opt);
    memset(&bt, 0, sizeof bt);
    if (ncsn_adam_create(&opt, m->n_params, 1e-3f) != NCSN_OK || ncsn_dsm_batch_alloc(&bt, BATCH, DM) != NCSN_OK) {
        fprintf(stderr, "setup: %s\n", ncsn_last_error());
        ncsn_adam_free(&opt);
        return 0;
    }
    memset(eps, 0, sizeof eps);
    memset(&noise, 0, sizeof noise);
    noise.eps = eps;
    for (step = 0; step < steps && ok; step++) {
        for (i = 0; i < BATCH; i++) {   /* a batch with replacement; [x, onehot(label)] */
            int j = (int)ncsn_rng_bounded(rng, N_DATA);
            xin[DM * i] = data[DX * j];
            xin[DM * i + 1] = data[DX * j + 1];
            for (k = 0; k < NC; k++) xin[DM * i + DX + k] = k == label[j] ? 1.0f : 0.0f;
        }
        ncsn_rng_normals(rng, z, BATCH * DX);
        for (i = 0; i < BATCH; i++) { eps[DM * i] = z[DX * i]; eps[DM * i + 1] = z[DX * i + 1]; }
        ncsn_model_zero_grad(m);
        if (ncsn_dsm_loss_ex(m, &bt, xin, BATCH, sig, L, NCSN_WEIGHT_SIGMA2, rng, &noise, &loss) != NCSN_OK ||
            ncsn_model_adam_step(m, &opt) != NCSN_OK || !isfinite(loss)) {
            fprintf(stderr, "step %d: %s\n", step, ncsn_last_error());
            ok = 0;
        }
        loss_hist[step] = loss * (float)DM / DX;   /* per data coordinate (the class terms are ~0) */
    }
    ncsn_dsm_batch_free(&bt);
    ncsn_adam_free(&opt);
    return ok;
}

/* three sources of class-c samples: the network with seed 001's 100 steps per level, the
   network with 10 steps per level, and the exact score of class c's Gaussian (100 steps);
   the finite chains first, n_ok of them */
static int sample_classes(ncsn_model *m, const float *sig, ncsn_rng *rng, float (*smp)[NC][N_PER * DX], int (*n_ok)[NC])
{
    static float in_buf[N_PER * DM], out_buf[N_PER * DM];
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    int c, k;
    o.form = NCSN_LANGEVIN_HALF;
    o.eps = 1e-4f;
    o.init = NCSN_INIT_NORMAL_SIGMA1;
    for (c = 0; c < NC; c++) {
        cond_ctx ctx;
        ncsn_gmm one = class_gmm(c);
        ctx.m = m; ctx.cls = c; ctx.in = in_buf; ctx.out = out_buf;
        for (k = 0; k < N_SRC; k++) {
            ncsn_status st;
            o.steps_per_level = src_T[k];
            st = k == SRC_EXACT ? ncsn_sample_annealed(ncsn_gmm_score_fn, &one, DX, sig, L, &o, rng, smp[k][c], N_PER)
                                : ncsn_sample_annealed(cond_score, &ctx, DX, sig, L, &o, rng, smp[k][c], N_PER);
            if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) { fprintf(stderr, "sampling: %s\n", ncsn_last_error()); return 0; }
            n_ok[k][c] = keep_finite(smp[k][c], N_PER, DX);
        }
    }
    return 1;
}

/* the table per class and source, and ex3_summary.dat; 1 if the network missed a class */
static int summarise(const char *dir, float (*smp)[NC][N_PER * DX], int (*n_ok)[NC], float (*fresh)[2][N_PER * DX], int steps)
{
    int c, k, failed = 0;
    FILE *fp;
    printf("  %-26s | %8s | %-17s | %-16s | %-14s | %s\n", "class / source of samples", "accuracy", "energy (floor)",
           "mean (x1, x2)", "std (x1, x2)", "diverged");
    fp = open_out(dir, "ex3_summary.dat");
    fprintf(fp, "# class source(0 net T=100, 1 net T=10, 2 exact score T=100, 3 fresh data) T weight accuracy energy energy_floor"
                " mean1 mean2 sd1 sd2 true_mean1 true_mean2 true_sd1 true_sd2 diverged n_per steps\n");
    for (c = 0; c < NC; c++) {
        double ed_fl = ncsn_energy_distance(fresh[c][1], N_PER, fresh[c][0], N_PER, DX);
        printf("  class %d (weight %.2f)\n", c, (double)mix_w[c]);
        for (k = 0; k <= N_SRC; k++) {   /* k = N_SRC: the second fresh set, as if it were samples */
            const float *x = k < N_SRC ? smp[k][c] : fresh[c][1];
            int n = k < N_SRC ? n_ok[k][c] : N_PER;
            double acc = accuracy(x, n, c), ed = ncsn_energy_distance(x, n, fresh[c][0], N_PER, DX), mu[DX], sd[DX];
            moments(x, n, mu, sd);
            printf("    %-24s | %8.3f | %7.4f (%7.4f) | (%+6.2f, %+6.2f) | (%5.2f, %5.2f) | %d\n", src_name[k], acc, ed, ed_fl,
                   mu[0], mu[1], sd[0], sd[1], N_PER - n);
            fprintf(fp, "%d %d %d %g %.6g %.6g %.6g %.6g %.6g %.6g %.6g %g %g %.6g %.6g %d %d %d\n", c, k, k < N_SRC ? src_T[k] : 0,
                    (double)mix_w[c], acc, ed, ed_fl, mu[0], mu[1], sd[0], sd[1], (double)mix_mu[DX * c], (double)mix_mu[DX * c + 1],
                    sqrt(mix_var[DX * c]), sqrt(mix_var[DX * c + 1]), N_PER - n, N_PER, steps);
            if (k < SRC_EXACT && (n < N_PER / 2 || !(acc > 0.5))) failed = 1;   /* the network must at least pick its class */
        }
        printf("    %-24s | %8s | %-17s | (%+6.2f, %+6.2f) | (%5.2f, %5.2f) |\n", "true", "", "", (double)mix_mu[DX * c],
               (double)mix_mu[DX * c + 1], sqrt(mix_var[DX * c]), sqrt(mix_var[DX * c + 1]));
    }
    fclose(fp);
    printf("  (accuracy: fraction of the class's samples nearest to its own mean; energy: energy distance to fresh samples\n"
           "   of the class, floor: a second fresh set; T: sampler steps per level)\n");
    return failed;
}

/* the labelled data, each source's samples (with their class) and the loss curve */
static void write_files(const char *dir, const float *data, const int *label, float (*smp)[NC][N_PER * DX], int (*n_ok)[NC],
                        const float *loss_hist, int steps)
{
    int i, c, k;
    FILE *fp = open_out(dir, "ex3_data.dat");
    for (i = 0; i < N_DATA; i++) fprintf(fp, "%.6g %.6g %d\n", data[DX * i], data[DX * i + 1], label[i]);
    fclose(fp);
    for (k = 0; k < N_SRC; k++) {
        char name[64];
        snprintf(name, sizeof name, "ex3_samples_%d.dat", k);
        fp = open_out(dir, name);
        for (c = 0; c < NC; c++)
            for (i = 0; i < n_ok[k][c]; i++) fprintf(fp, "%.6g %.6g %d\n", smp[k][c][DX * i], smp[k][c][DX * i + 1], c);
        fclose(fp);
    }
    fig_loss_avg(dir, "ex3_loss.dat", "step  loss per data coordinate, 100-step moving average", loss_hist, 1, MAX_STEPS, steps);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    int steps = quick ? 800 : MAX_STEPS, i, c, k, failed;
    const ncsn_gmm mix = { NC, DX, mix_w, mix_mu, mix_var };
    static float data[N_DATA * DX], loss_hist[MAX_STEPS];
    static float smp[N_SRC][NC][N_PER * DX], fresh[NC][2][N_PER * DX];
    static int label[N_DATA], n_ok[N_SRC][NC];
    float sig[L];
    ncsn_config cfg = ncsn_config_embed(DM, 64, 128, 3);
    ncsn_model *m = NULL;
    ncsn_rng rng;
    double t0, t_train, t_sample, lm = 0.0;

    if (!dir) { fprintf(stderr, "usage: %s OUTDIR [--quick]\n", argv[0]); return 2; }
    ncsn_rng_seed(&rng, 2019, 301);
    ncsn_gmm_sample(&mix, &rng, data, label, N_DATA);
    for (c = 0; c < NC; c++) {   /* two fresh sample sets of each class */
        ncsn_gmm one = class_gmm(c);
        for (k = 0; k < 2; k++) ncsn_gmm_sample(&one, &rng, fresh[c][k], NULL, N_PER);
    }
    cfg.scale_by_sigma = 1;
    if (ncsn_schedule(sig, L, 6.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC) != NCSN_OK || ncsn_model_create(&m, &cfg) != NCSN_OK ||
        ncsn_model_init(m, &rng) != NCSN_OK) {
        fprintf(stderr, "setup: %s\n", ncsn_last_error());
        return 1;
    }
    printf("exercise 3: class-conditional NCSN on a 4-class 2-D Gaussian mixture, input [x, onehot(class)] (D = %d, %lu parameters), "
           "%d Adam steps%s\n", DM, (unsigned long)m->n_params, steps, quick ? " (quick)" : "");
    t0 = now();
    if (!train_conditional(m, data, label, sig, steps, &rng, loss_hist)) return 1;
    t_train = now() - t0;
    t0 = now();
    if (!sample_classes(m, sig, &rng, smp, n_ok)) return 1;
    t_sample = now() - t0;
    for (i = steps - steps / 4; i < steps; i++) lm += loss_hist[i];
    printf("  training %.2f s, mean loss of the last %d steps %.4f (per data coordinate); sampling %.2f s\n",
           t_train, steps / 4, lm / (steps / 4), t_sample);
    failed = summarise(dir, smp, n_ok, fresh, steps);
    write_files(dir, data, label, smp, n_ok, loss_hist, steps);
    ncsn_model_free(m);
    if (failed) fprintf(stderr, "ex3: a class's samples failed the sanity check (accuracy > 0.5, most chains finite)\n");
    return failed;
}
