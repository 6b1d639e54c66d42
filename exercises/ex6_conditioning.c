/* ex6_conditioning.c - how the score network should see sigma (the measurement behind
   ncsn_config_default): the learned score's error at every noise level, against the exact score
   of Gaussian mixtures, for the ways to condition on sigma: {sigma raw, ln sigma} x
   {concatenated to x, sinusoidal embedding} x {s = net, s = net/sigma}. docs/conditioning.md has
   the results and the choice they led to.

   Every variant gets the same budget: an MLP with 3 hidden layers of 128 (SiLU), embedding size
   64 for the embedded variants, the output layer zero-initialised, sigma^2-weighted DSM, Adam
   lr 1e-3, batches of 512 drawn without replacement from 10000 training points, 2000 steps,
   evaluated with an EMA of the weights (rate 0.999 with a warm-up, so that the short run keeps
   little of the initial weights). The data are standardised per column, as the data-driven
   recipe does; the levels are geometric with a ratio of at most 2.13 (technique 2's rule below
   16 dimensions) from sigma_max = the training set's largest pairwise distance down to 0.01.
   Per seed, every variant has its own initial weights but sees the same batches and noise.

   Error at level sigma: sqrt(E|s_theta(x~, sigma) - grad log q_sigma(x~)|^2 /
   E|grad log q_sigma(x~)|^2) in %, x~ = x + sigma z over 4000 fresh points x of the mixture (the
   same points for every variant), in the standardised units the network works in; the mean
   over the seeds is printed, and the seeds' range at sigma_min.

   Data: the seeds' two Gaussians (2-D), Song & Ermon's 1/5 : 4/5 toy (2-D), a ring of 8
   Gaussians (2-D), an anisotropic 3-mode mixture in 4-D (axis stds from 0.05 to 1.5).
   --capacity instead trains the recommended network (ncsn_config_default's form) at several
   widths and depths on 4-mode anisotropic mixtures in 2 to 64 dimensions.

   Runtime on one idle core of the 2-core test machine: about 6 minutes (96 trainings of 3-4 s;
   21 minutes measured while the machine was shared); --quick (1 seed, 300 steps) under a
   minute; --capacity about 10 minutes (32 measured while shared).
   usage: ex6_conditioning OUTDIR [--quick] [--capacity] [--seeds N] [--steps N] [--sets MASK] [--part P]
   (--part P: the files are named ex6_conditioning.P.dat and ex6_conditioning_meta.P.dat; make plots
   runs sets 0-1 and 2-3 as two parts on two cores and joins them)
   writes OUTDIR/ex6_conditioning.dat (or ex6_capacity.dat): data set, level, sigma, then per
   column the mean error (%) over the seeds, its minimum and maximum, one block per data set;
   OUTDIR/ex6_conditioning_meta.dat (ex6_capacity_meta.dat): steps seeds batch sigma_min.
   Prints the tables. */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../tools/common.h"

#define N_TRAIN 10000
#define N_EVAL 4000
#define BATCH 512
#define MAX_L 24
#define SIGMA_MIN 0.01f
#define GAMMA 2.13     /* level ratio: technique 2's rule, taken at D = 16 below 16 dimensions */
#define MAX_D 64
#define MAX_K 8
#define MAX_SEEDS 8
#define MAX_COLS 8

typedef struct column { char name[16]; ncsn_config cfg; } column;
static int steps = 2000, seeds = 3;
static float ema_rate = 0.999f;

/* ---- data sets: diagonal Gaussian mixtures, written into one static table each ---- */
typedef struct mixture { ncsn_gmm g; float w[MAX_K], mu[MAX_K * MAX_D], var[MAX_K * MAX_D]; char name[32]; } mixture;

static void mixture_set(mixture *x, const char *name, int K, int D)
{
    snprintf(x->name, sizeof x->name, "%s", name);
    x->g.K = K;
    x->g.dim = D;
    x->g.weights = x->w;
    x->g.means = x->mu;
    x->g.vars = x->var;
}

/* 0: two Gaussians, 1: the toy, 2: the ring (8 of std 0.25 at radius 4), 3: anisotropic 4-D */
static void mixture_named(mixture *x, int k)
{
    static const float an_w[3] = { 0.5f, 0.3f, 0.2f };
    static const float an_mu[12] = { -3.0f, 0.0f, 0.0f, 1.0f, 2.5f, 2.0f, -1.0f, 0.0f, 1.0f, -3.0f, 1.0f, -1.0f };
    static const float an_sd[12] = { 1.0f, 0.1f, 0.3f, 0.05f, 0.08f, 1.5f, 0.5f, 0.2f, 0.4f, 0.4f, 0.05f, 1.0f };
    const ncsn_gmm *lib = k == 0 ? ncsn_gmm_two_gaussians() : ncsn_gmm_toy();
    int i;
    if (k < 2) {
        mixture_set(x, k ? "toy 1/5:4/5" : "two Gaussians", 2, 2);
        memcpy(x->w, lib->weights, 2 * sizeof(float));
        memcpy(x->mu, lib->means, 4 * sizeof(float));
        memcpy(x->var, lib->vars, 4 * sizeof(float));
    } else if (k == 2) {
        mixture_set(x, "ring of 8", 8, 2);
        for (i = 0; i < 8; i++) {
            x->w[i] = 0.125f;
            x->mu[2 * i] = (float)(4.0 * cos(0.25 * 3.14159265358979 * i));
            x->mu[2 * i + 1] = (float)(4.0 * sin(0.25 * 3.14159265358979 * i));
            x->var[2 * i] = x->var[2 * i + 1] = 0.0625f;
        }
    } else {
        mixture_set(x, "anisotropic 4-D", 3, 4);
        memcpy(x->w, an_w, sizeof an_w);
        memcpy(x->mu, an_mu, sizeof an_mu);
        for (i = 0; i < 12; i++) x->var[i] = an_sd[i] * an_sd[i];
    }
}

/* 4 modes in D dimensions: means uniform in [-3, 3]^D, axis stds log-uniform in [0.05, 1] */
static void mixture_random(mixture *x, int D)
{
    ncsn_rng r;
    char name[32];
    int i;
    snprintf(name, sizeof name, "anisotropic %d-D", D);
    mixture_set(x, name, 4, D);
    ncsn_rng_seed(&r, 2019, 700 + (uint64_t)D);
    for (i = 0; i < 4; i++) x->w[i] = 0.25f;
    for (i = 0; i < 4 * D; i++) {
        double sd = 0.05 * exp(ncsn_rng_uniform(&r) * log(20.0));
        x->mu[i] = 6.0f * ncsn_rng_uniform(&r) - 3.0f;
        x->var[i] = (float)(sd * sd);
    }
}

/* Standardise the training data per column (as the data-driven recipe does) and the mixture
   with them: means (mu - loc)/scale, variances var/scale^2, so that its exact score is the
   score the network learns. */
static void standardise(mixture *x, float *data, int n)
{
    int D = x->g.dim, d, i, k;
    for (d = 0; d < D; d++) {
        double s = 0.0, q = 0.0, loc, scale;
        for (i = 0; i < n; i++) s += data[(size_t)i * D + d];
        loc = s / n;
        for (i = 0; i < n; i++) q += (data[(size_t)i * D + d] - loc) * (data[(size_t)i * D + d] - loc);
        scale = sqrt(q / (n - 1));
        for (i = 0; i < n; i++) data[(size_t)i * D + d] = (float)((data[(size_t)i * D + d] - loc) / scale);
        for (k = 0; k < x->g.K; k++) {
            x->mu[k * D + d] = (float)((x->mu[k * D + d] - loc) / scale);
            x->var[k * D + d] = (float)(x->var[k * D + d] / (scale * scale));
        }
    }
}

/* the largest distance between two training points (exact, O(n^2)) */
static float max_pairwise(const float *x, int n, int D)
{
    double best = 0.0;
    int i, j, d;
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++) {
            double s = 0.0;
            for (d = 0; d < D; d++) { double t = (double)x[(size_t)i * D + d] - x[(size_t)j * D + d]; s += t * t; }
            if (s > best) best = s;
        }
    return (float)sqrt(best);
}

/* ---- training and measuring ---- */
/* `steps` Adam steps of sigma^2-weighted DSM, then the EMA weights swapped in; NULL (message
   printed) on failure. One thread: on a loaded machine extra threads mostly wait. */
static ncsn_model *train(const ncsn_config *cfg, const float *data, const float *sig, int L, uint64_t seed)
{
    static int perm[N_TRAIN];
    static float xb[BATCH * MAX_D];
    ncsn_model *m = NULL;
    ncsn_adam opt;
    ncsn_dsm_batch bt;
    ncsn_rng r_init, r_train;
    float loss, *ema = NULL;
    size_t k;
    int i, ok;
    ncsn_rng_seed(&r_init, seed, 1);
    ncsn_rng_seed(&r_train, seed, 2);
    for (i = 0; i < N_TRAIN; i++) perm[i] = i;
    if (ncsn_model_create(&m, cfg) != NCSN_OK) { fprintf(stderr, "create: %s\n", ncsn_last_error()); return NULL; }
    ok = ncsn_model_init(m, &r_init) == NCSN_OK && ncsn_adam_create(&opt, m->n_params, 1e-3f) == NCSN_OK;
    if (!ok) { fprintf(stderr, "setup: %s\n", ncsn_last_error()); ncsn_model_free(m); return NULL; }
    ok = ncsn_dsm_batch_alloc(&bt, BATCH, cfg->dim) == NCSN_OK && (ema = malloc(m->n_params * sizeof *ema)) != NULL;
    if (ok) memcpy(ema, m->params, m->n_params * sizeof *ema);
    for (i = 0; i < steps && ok; i++) {
        float r = (1.0f + i) / (10.0f + i) < ema_rate ? (1.0f + i) / (10.0f + i) : ema_rate;   /* TensorFlow's warm-up */
        ncsn_minibatch(&r_train, perm, N_TRAIN, data, cfg->dim, xb, BATCH);
        ncsn_model_zero_grad(m);
        ok = ncsn_dsm_loss(m, &bt, xb, BATCH, sig, L, NCSN_WEIGHT_SIGMA2, &r_train, &loss) == NCSN_OK &&
             ncsn_model_adam_step(m, &opt) == NCSN_OK;
        for (k = 0; ok && k < m->n_params; k++) ema[k] = fmaf(r, ema[k] - m->params[k], m->params[k]);
    }
    if (!ok) fprintf(stderr, "training: %s\n", ncsn_last_error());
    else if (ema_rate > 0.0f) memcpy(m->params, ema, m->n_params * sizeof *ema);
    free(ema);
    ncsn_dsm_batch_free(&bt);   /* zeroed by a failed alloc: safe either way */
    ncsn_adam_free(&opt);
    if (!ok) { ncsn_model_free(m); return NULL; }
    return m;
}

/* rel[l] = sqrt(sum |s_theta - s|^2 / sum |s|^2) in % at each level, over the points xt[l] */
static int score_errors(ncsn_model *m, const ncsn_gmm *g, const float *xt, const float *sig, int L, double *rel)
{
    static float sn[N_EVAL * MAX_D], se[N_EVAL * MAX_D];
    int l, i, D = g->dim;
    for (l = 0; l < L; l++) {
        const float *x = xt + (size_t)l * N_EVAL * D;
        double num = 0.0, den = 0.0;
        if (ncsn_model_score(m, sn, x, sig[l], N_EVAL) != NCSN_OK || ncsn_gmm_score(g, se, x, sig[l], N_EVAL) != NCSN_OK) {
            fprintf(stderr, "score: %s\n", ncsn_last_error());
            return 0;
        }
        for (i = 0; i < N_EVAL * D; i++) {
            double e = (double)sn[i] - se[i];
            num += e * e;
            den += (double)se[i] * se[i];
        }
        rel[l] = 100.0 * sqrt(num / den);
    }
    return 1;
}

typedef struct summary { double worst, at_min, mean; } summary;   /* worst over sigma >= 0.05, at sigma_min, over the levels */

static void print_table(const mixture *x, const column *col, int nc, const float *sig, int L, double mean[][MAX_L],
                        double lo[][MAX_L], double hi[][MAX_L])
{
    int c, l;
    printf("\n%s (%d-D, standardised), sigma_max %.3g: error %% per level, mean of %d seed%s\n  %8s", x->name, x->g.dim,
           (double)sig[0], seeds, seeds > 1 ? "s" : "", "sigma");
    for (c = 0; c < nc; c++) printf(" %9s", col[c].name);
    printf("\n");
    for (l = 0; l < L; l++) {
        printf("  %8.4g", (double)sig[l]);
        for (c = 0; c < nc; c++) printf(" %9.1f", mean[c][l]);
        printf("\n");
    }
    printf("  %8s", "seeds");
    for (c = 0; c < nc; c++) printf(" %4.0f-%-4.0f", lo[c][L - 1], hi[c][L - 1]);
    printf("   (min-max over the seeds at sigma_min)\n");
}

/* one data set: train every column on every seed, print and write the table, fill sum[nc] */
static int run_set(mixture *x, int tag, const column *col, int nc, FILE *fp, summary *sum)
{
    static float data[N_TRAIN * MAX_D], sig[MAX_L];
    static double rel[MAX_L], mean[MAX_COLS][MAX_L], lo[MAX_COLS][MAX_L], hi[MAX_COLS][MAX_L];
    ncsn_rng rd;
    int D = x->g.dim, L, c, s, l;
    size_t i;
    float *xt;
    ncsn_rng_seed(&rd, 2019, 600 + (uint64_t)tag);
    ncsn_gmm_sample(&x->g, &rd, data, NULL, N_TRAIN);
    standardise(x, data, N_TRAIN);
    sig[0] = max_pairwise(data, N_TRAIN, D);
    L = 1 + (int)ceil(log(sig[0] / SIGMA_MIN) / log(GAMMA));
    if (L > MAX_L || ncsn_schedule(sig, L, sig[0], SIGMA_MIN, NCSN_SCHEDULE_GEOMETRIC) != NCSN_OK) return 0;
    if (!(xt = malloc(sizeof(float) * L * N_EVAL * D))) return 0;
    for (l = 0; l < L; l++) {   /* fresh points of the mixture, x~ = x + sigma_l z */
        float *p = xt + (size_t)l * N_EVAL * D;
        ncsn_gmm_sample(&x->g, &rd, p, NULL, N_EVAL);
        for (i = 0; i < (size_t)N_EVAL * D; i++) p[i] = fmaf(sig[l], ncsn_rng_normal(&rd), p[i]);
    }
    for (c = 0; c < nc; c++) {
        ncsn_config cfg = col[c].cfg;
        cfg.dim = D;
        for (l = 0; l < L; l++) { mean[c][l] = 0.0; lo[c][l] = INFINITY; hi[c][l] = 0.0; }
        for (s = 0; s < seeds; s++) {
            ncsn_model *m = train(&cfg, data, sig, L, 1000 + (uint64_t)s);
            if (!m || !score_errors(m, &x->g, xt, sig, L, rel)) { ncsn_model_free(m); free(xt); return 0; }
            ncsn_model_free(m);
            for (l = 0; l < L; l++) {
                mean[c][l] += rel[l] / seeds;
                lo[c][l] = rel[l] < lo[c][l] ? rel[l] : lo[c][l];
                hi[c][l] = rel[l] > hi[c][l] ? rel[l] : hi[c][l];
            }
        }
        sum[c].worst = sum[c].mean = 0.0;
        for (l = 0; l < L; l++) {
            if (sig[l] >= 0.05f && mean[c][l] > sum[c].worst) sum[c].worst = mean[c][l];
            sum[c].mean += mean[c][l] / L;
        }
        sum[c].at_min = mean[c][L - 1];
    }
    free(xt);
    print_table(x, col, nc, sig, L, mean, lo, hi);
    for (l = 0; l < L; l++) {
        fprintf(fp, "%d %d %.6g", tag, l, (double)sig[l]);
        for (c = 0; c < nc; c++) fprintf(fp, " %.4g %.4g %.4g", mean[c][l], lo[c][l], hi[c][l]);
        fprintf(fp, "\n");
    }
    fprintf(fp, "\n\n");
    fflush(stdout);
    return 1;
}

/* the eight variants, or (capacity) the recommended form at several widths and depths */
static int columns(column *col, int capacity)
{
    static const int width[5] = { 64, 128, 256, 512, 256 }, depth[5] = { 3, 3, 3, 3, 4 };
    int v;
    if (capacity) {
        for (v = 0; v < 5; v++) {
            col[v].cfg = ncsn_config_default(1);
            col[v].cfg.n_hidden = depth[v];
            col[v].cfg.hidden[0] = col[v].cfg.hidden[1] = col[v].cfg.hidden[2] = col[v].cfg.hidden[3] = width[v];
            snprintf(col[v].name, sizeof col[v].name, "%dx%d", width[v], depth[v]);
        }
        return 5;
    }
    for (v = 0; v < 8; v++) {   /* bit 0: ln sigma, bit 1: embedding, bit 2: s = net/sigma */
        col[v].cfg = v & 2 ? ncsn_config_embed(1, 64, 128, 3) : ncsn_config_concat(1, 128, 3);
        col[v].cfg.sigma_input = v & 1 ? NCSN_SIGMA_LOG : NCSN_SIGMA_RAW;
        col[v].cfg.scale_by_sigma = v >> 2 & 1;
        col[v].cfg.zero_init_output = 1;
        snprintf(col[v].name, sizeof col[v].name, "%s-%s%s", v & 1 ? "log" : "raw", v & 2 ? "emb" : "cat", v & 4 ? "/s" : "");
    }
    return 8;
}

int main(int argc, char **argv)
{
    static const int cap_dims[5] = { 2, 8, 16, 32, 64 };
    const char *dir = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    int quick = 0, capacity = 0, seeds_given = 0, n_sets, nc, a, k, c;
    unsigned set_mask = ~0u;
    const char *part = NULL;   /* --part P: files named ...P.dat, so that two runs of other sets can share OUTDIR */
    char name[96];
    static summary sum[5][MAX_COLS];
    static mixture mix[5];
    column col[MAX_COLS];
    double t0 = now();
    FILE *fp;
    for (a = 2; a < argc; a++) {
        if (strcmp(argv[a], "--quick") == 0) quick = 1;
        else if (strcmp(argv[a], "--capacity") == 0) capacity = 1;
        else if (strcmp(argv[a], "--seeds") == 0 && a + 1 < argc) seeds = atoi(argv[++a]), seeds_given = 1;
        else if (strcmp(argv[a], "--steps") == 0 && a + 1 < argc) steps = atoi(argv[++a]);
        else if (strcmp(argv[a], "--sets") == 0 && a + 1 < argc) set_mask = (unsigned)strtoul(argv[++a], NULL, 0);
        else if (strcmp(argv[a], "--part") == 0 && a + 1 < argc && strlen(argv[a + 1]) < 16) part = argv[++a];
        else dir = NULL;
    }
    if (quick) { seeds = 1; steps = 300; ema_rate = 0.99f; }
    if (capacity && !seeds_given) seeds = 1;   /* the widths differ by more than the seeds do */
    if (!dir || seeds < 1 || seeds > MAX_SEEDS || steps < 1) {
        fprintf(stderr, "usage: %s OUTDIR [--quick] [--capacity] [--seeds N (1..%d)] [--steps N] [--sets MASK] [--part P]\n", argv[0], MAX_SEEDS);
        return 2;
    }
    nc = columns(col, capacity);
    n_sets = capacity ? 5 : 4;
    snprintf(name, sizeof name, "%s%s%s.dat", capacity ? "ex6_capacity" : "ex6_conditioning", part ? "." : "", part ? part : "");
    fp = open_out(dir, name);
    fprintf(fp, "# set level sigma, then per column (");
    for (c = 0; c < nc; c++) fprintf(fp, "%s%s", c ? " " : "", col[c].name);
    fprintf(fp, "): mean min max error %% over %d seeds; %d steps\n", seeds, steps);
    printf("exercise 6: %s; learned-score error sqrt(E|s_theta - grad log q_sigma|^2 / E|grad log q_sigma|^2)\n"
           "MLP%s SiLU, zero-initialised output, Adam 1e-3, batch %d of %d points, %d steps, EMA %g (warm-up);\n"
           "geometric levels, ratio <= %g, from sigma_max (largest pairwise distance) to %g; %d seed%s%s.\n",
           capacity ? "capacity of ln sigma concatenated, s = net/sigma" : "conditioning on sigma", capacity ? " widths x depths" : " 128 x 3 (embedding 64)",
           BATCH, N_TRAIN, steps, (double)ema_rate, GAMMA, (double)SIGMA_MIN, seeds, seeds > 1 ? "s" : "", quick ? " (quick)" : "");
    if (!capacity) printf("raw/log: sigma or ln sigma; cat/emb: concatenated or sinusoidal embedding; /s: s = net/sigma\n");
    for (k = 0; k < n_sets; k++) {
        if (!(set_mask >> k & 1u)) continue;
        if (capacity) mixture_random(&mix[k], cap_dims[k]);
        else mixture_named(&mix[k], k);
        if (!run_set(&mix[k], k, col, nc, fp, sum[k])) return 1;
    }
    fclose(fp);
    snprintf(name, sizeof name, "%s%s%s.dat", capacity ? "ex6_capacity_meta" : "ex6_conditioning_meta", part ? "." : "", part ? part : "");
    fp = open_out(dir, name);
    fprintf(fp, "# steps seeds batch sigma_min\n%d %d %d %g\n", steps, seeds, BATCH, (double)SIGMA_MIN);
    fclose(fp);
    printf("\nsummary, error %% (mean of seeds): worst level with sigma >= 0.05 / at sigma_min / mean over the levels\n  %-16s", "");
    for (c = 0; c < nc; c++) printf(" %15s", col[c].name);
    printf("\n");
    for (k = 0; k < n_sets; k++) {
        if (!(set_mask >> k & 1u)) continue;
        printf("  %-16s", mix[k].name);
        for (c = 0; c < nc; c++) printf(" %4.0f/%4.0f/%4.0f", sum[k][c].worst, sum[k][c].at_min, sum[k][c].mean);
        printf("\n");
    }
    printf("time: %.0f s\n", now() - t0);
    return 0;
}
