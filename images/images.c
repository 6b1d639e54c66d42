/* images.c - an MLP NCSN on Fashion-MNIST: `make images` (mk/images.mk).
     images train DATA MODEL [--quick|--medium]   train the preconditioned network (ncsn_config.precond)
                                         through ncsn_trainer on DATA's training images (all but the
                                         last HOLD) and write the model file MODEL (EMA weights, levels)
     images train DATA MODEL steps=N width=W decay=1 [--quick|--medium]   a variant of the recipe
                                         (docs/images.md)
     images eval DATA MODEL OUT [--quick|--medium]   sample, inpaint and measure; text files for
                                         gnuplot in OUT (width, depth and steps read from MODEL)
     images train-trainer DATA MODEL [--quick|--medium]   the same network with the default's
                                         s = net/sigma (the comparison of docs/images.md); the
                                         recipe's size only, no variant arguments
     images sweep DATA MODEL [clf_epochs=N clf_width=W1 clf_width2=W2 clf_decay=0|1 threads=N] VARIANT...
                                         [--quick|--medium]   sampler and inpainting variants on one
                                         model (docs/images.md's sampler tables; see cmd_sweep),
                                         judged by config()'s classifier or the one set here
   DATA holds the four IDX files, decompressed. --quick: the reduced run of `make plots` (see
   config()); --medium: the full network and data, a quarter of the steps. Only these two may end
   an argument list. docs/images.md has the numbers. */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "../tools/common.h"   /* now(), keep_finite() */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIDE 28
#define PIX (SIDE * SIDE)

typedef struct run_cfg {
    int n_train;      /* images the score network trains on (the first of the file) */
    int hold;         /* the held-out slice: the last `hold` training images (FD's floor) */
    long steps;       /* training steps */
    int lr_decay;     /* 1: the rate falls linearly to lr/100 over the steps (ncsn_train_opts.lr_decay_steps); 0: constant */
    int width, depth; /* the MLP */
    int T;            /* Langevin steps per level (inpainting; sampling above split) */
    float guide;      /* inpainting's reconstruction guidance weight w (ncsn_score_guided; 0: the replacement alone) */
    float guide_lo;   /* ... at the levels sigma >= guide_lo only (ncsn_guide.sigma_min) */
    int T_inp;        /* inpainting's Langevin steps per level */
    float eps_inp;    /* inpainting's step: the recipe's eps times this */
    int T_low;        /* sampling: steps per level below split (0: T everywhere) */
    float split;      /* the sigma below which sampling takes T_low steps per level */
    float sigma_data; /* precond's sigma_data (see cmd_train); 0: the data's standard deviation */
    float sigma_end;  /* sampling and inpainting stop at the last level >= sigma_end and denoise there */
    int n_samples;    /* samples for the metric */
    int clf_epochs;   /* the classifier's epochs */
    int clf_w1, clf_w2; /* its hidden widths */
    int clf_decay;    /* 1: its rate falls linearly to lr/100 over all its steps (ncsn_lr_at); 0: constant */
    int threads;      /* the score network's and the classifier's threads outside training (the same bits at any count) */
} run_cfg;

/* quick 1: the reduced run of `make plots` (the full recipe at a tenth of the cost: 3000 steps of
   256 x 3 on 10 000 images, 200 samples; about 50 s on 2 cores, docs/images.md); 2: a medium run (the full network and data, a quarter of
   the steps, half the samples), as measured in docs/images.md */
static run_cfg config(int quick)
{
    run_cfg c;
    c.n_train = quick == 1 ? 10000 : 50000;
    c.hold = quick == 1 ? 500 : 10000;
    c.steps = quick == 1 ? 3000 : quick == 2 ? 2500 : 10000;
    c.width = quick == 1 ? 256 : 512;
    c.depth = 3;
    c.lr_decay = 0;
    c.T = 5;
    /* sampling: one step per level below sigma 3 (T above) gave every class 5.9-12.6 % of the
       samples and FD 4.93 on the full model, against 0.1-18.1 % and 29.70 with T at every level:
       the extra steps at small sigma move the chains along the learned score's errors and drain
       thin classes (sandals). The reduced run too (FD 7.05 against 23.66 with 2 steps at every
       level); the medium run keeps T everywhere (the medium tables of docs/images.md were measured
       with it). */
    c.T_low = quick == 2 ? 0 : 1;
    /* inpainting: reconstruction guidance w 4 at the levels sigma >= 0.15, 10 steps per level at
       half the step, took lower-half agreement from 73.0 to 83.5 % on the first 200 test images
       (80.5-83.5 % on four noise streams) and from 73.5 to 79.0-80.7 % on two slices of 1000,
       about 6 s per 200 against 2-4 s; 5 steps at the full step gave 79.0-81.0 % and 77.9-80.0 %.
       Guidance at every level scored up to 1.8 points more on some slices (none on the first
       200's mean) but wrote pixel noise into the completions (seen in the figure; docs/images.md).
       The medium run keeps the replacement alone (weight 0: its tables were measured so) */
    c.guide = quick == 2 ? 0.0f : 4.0f;
    c.guide_lo = 0.15f;
    c.T_inp = quick == 2 ? c.T : 10;
    c.eps_inp = quick == 2 ? 1.0f : 0.5f;
    c.split = 3.0f;
    c.sigma_data = 0.05f;
    c.sigma_end = 0.1f;
    c.n_samples = quick == 1 ? 200 : quick == 2 ? 500 : 1000;
    /* the classifier (the judge of FD, classes and inpainting): 784-512-256 for 20 epochs with the
       rate decayed, 89.5 % test accuracy at full size against 86.6 % for 256-128 x 3 epochs (about
       30-50 s), 86.1 % on the reduced run's 10 000 images against 76.7 % for 1 epoch (about 6 s);
       the medium run keeps its 2 epochs of 256-128 (its tables were measured with them) */
    c.clf_epochs = quick == 2 ? 2 : 20;
    c.clf_w1 = quick == 2 ? 256 : 512;
    c.clf_w2 = quick == 2 ? 128 : 256;
    c.clf_decay = quick != 2;
    c.threads = 2;
    return c;
}

static void die(const char *what)
{
    fprintf(stderr, "images: %s: %s\n", what, ncsn_last_error());
    exit(1);
}

/* every buffer here is needed: out of memory ends the run with a message, not a NULL dereference */
static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) { fprintf(stderr, "images: out of memory (%lu bytes)\n", (unsigned long)n); exit(1); }
    return p;
}

typedef struct fmnist { float *x; int *y; int n; } fmnist;

static void load_set(fmnist *s, const char *dir, const char *prefix)
{
    char ip[1024], lp[1024];
    int r, c;
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte", dir, prefix);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte", dir, prefix);
    if (ncsn_idx_load(ip, lp, &s->x, &s->y, &s->n, &r, &c) != NCSN_OK) die("loading the data");
    if (r != SIDE || c != SIDE) { fprintf(stderr, "images: %s holds %d x %d images, not 28 x 28\n", ip, r, c); exit(1); }
}

static ncsn_status progress(void *user, const ncsn_trainer *t)
{
    double *t0 = (double *)user;
    printf("  step %6ld  loss %.4f  %.0f s\n", t->step, (double)t->loss, now() - *t0);
    fflush(stdout);
    return NCSN_OK;
}

/* the network through ncsn_trainer: ncsn_config_default's MLP at width x depth, levels from the
   data (techniques 1 and 2), batch 128, lr 1e-3, EMA 0.999. precond: the preconditioned output
   (ncsn_config.precond, EDM's unit-weight loss on F) with sigma_data c->sigma_data, not the data's
   0.35: c_skip = sd^2/(sigma^2 + sd^2) then leaves the MLP a near-identity of rank ~784 to learn at
   every sigma below ~sd, which a 512-wide MLP cannot represent (its denoiser was no better than the
   identity below sigma = 0.5 and Langevin's noise piled up); with sd = 0.05 the fixed skip part pulls
   every direction back and F predicts the image (docs/images.md). Else the default's s = net/sigma,
   which does not sample at 784-D */
static int cmd_train(const char *dir, const char *model, const run_cfg *c, int precond)
{
    fmnist tr;
    ncsn_train_opts o = ncsn_train_defaults();
    ncsn_trainer *t;
    double t0;
    int i;
    char stv[32];
    const char *meta[] = { "images.steps", stv, NULL };
    load_set(&tr, dir, "train");
    if (c->n_train + c->hold > tr.n) { fprintf(stderr, "images: %d training images, need %d\n", tr.n, c->n_train + c->hold); return 1; }
    o.net = ncsn_config_default(PIX);
    o.stable_target = 0;   /* the stable target is measured up to 16 dimensions only (as ncsn_train_defaults_for) */
    o.net.n_hidden = c->depth;
    for (i = 0; i < c->depth; i++) o.net.hidden[i] = c->width;
    if (precond) {
        o.net.scale_by_sigma = 0;
        o.net.precond = 1;
        o.net.sigma_data = c->sigma_data;
        o.weighting = NCSN_WEIGHT_ONE;
        o.seed = 15;
        o.stream = 15;
    }
    o.standardize = 0;   /* pixels are already in [0, 1]; a border pixel's tiny std would blow it up */
    o.batch = 128;
    o.steps = c->steps;
    o.lr_decay_steps = c->lr_decay ? c->steps : 0;
    o.threads = 2;
    if (ncsn_trainer_create(&t, &o, tr.x, c->n_train, PIX, NULL) != NCSN_OK) die("trainer");
    printf("images: training the %s %dx%d MLP on %d images: sigma_1 %.4g (%s), %d levels to %.3g, sigma_data %.4f, batch %d, lr %g%s, EMA %g, %ld steps\n",
           precond ? "preconditioned" : "s = net/sigma", c->width, c->depth, c->n_train, (double)t->sigmas[0],
           t->sigma_max_exact ? "exact" : "farthest-point sweeps", t->L, (double)t->sigmas[t->L - 1], (double)t->model->cfg.sigma_data,
           o.batch, (double)o.lr, o.lr_decay_steps ? " falling linearly to lr/100" : "", (double)o.ema_rate, o.steps);
    t0 = now();
    if (ncsn_trainer_run(t, o.steps, o.steps / 10 > 0 ? o.steps / 10 : 1, progress, &t0) != NCSN_OK) die("training");
    printf("images: trained in %.0f s (%.0f images/s)\n", now() - t0, (double)o.steps * o.batch / (now() - t0));
    snprintf(stv, sizeof stv, "%ld", c->steps);
    if (ncsn_trainer_save_model(t, model, meta) != NCSN_OK) die("saving the model");
    ncsn_trainer_free(t);
    ncsn_free(tr.x);
    ncsn_free(tr.y);
    return 0;
}

/* ---- the classifier: the library's MLP (784 -> clf_w1 -> clf_w2 -> 784 outputs, of which the
   first FEAT are the features) and a linear head FEAT -> 10, trained with ncsn_softmax_xent ---- */
#define FEAT 64
#define CLASSES 10
typedef struct clf { ncsn_model *m; float head[FEAT * CLASSES + CLASSES], grad[FEAT * CLASSES + CLASSES]; ncsn_adam am, ah; } clf;

/* features [n][FEAT] and logits [n][CLASSES] (either may be NULL) of x [n][PIX], B at a time */
static void clf_forward(clf *c, const float *x, int n, float *feat, float *logits, float *work)
{
    static float one[512];
    int i, j, k, b, B;
    for (i = 0; i < 512; i++) one[i] = 1.0f;
    for (i = 0; i < n; i += B) {
        B = n - i < 512 ? n - i : 512;
        if (ncsn_model_forward(c->m, work, x + (size_t)i * PIX, one, B) != NCSN_OK) die("classifier forward");
        for (b = 0; b < B; b++) {
            const float *f = work + (size_t)b * PIX;
            if (feat) memcpy(feat + (size_t)(i + b) * FEAT, f, sizeof(float) * FEAT);
            if (logits)
                for (k = 0; k < CLASSES; k++) {
                    float acc = c->head[FEAT * CLASSES + k];
                    for (j = 0; j < FEAT; j++) acc = fmaf(f[j], c->head[j * CLASSES + k], acc);
                    logits[(size_t)(i + b) * CLASSES + k] = acc;
                }
        }
    }
}

/* one step on the minibatch xb [B][PIX], yb [B] */
static float clf_step(clf *c, const float *xb, const int *yb, int B, float *work, float *dout)
{
    float logits[128 * CLASSES], dl[128 * CLASSES], loss;
    int b, j, k;
    clf_forward(c, xb, B, NULL, logits, work);
    if (ncsn_softmax_xent(logits, yb, B, CLASSES, dl, &loss) != NCSN_OK) die("cross-entropy");
    memset(c->grad, 0, sizeof c->grad);
    memset(dout, 0, sizeof(float) * (size_t)B * PIX);
    for (b = 0; b < B; b++) {
        const float *f = work + (size_t)b * PIX;
        for (k = 0; k < CLASSES; k++) {
            float g = dl[b * CLASSES + k];
            c->grad[FEAT * CLASSES + k] += g;
            for (j = 0; j < FEAT; j++) c->grad[j * CLASSES + k] = fmaf(f[j], g, c->grad[j * CLASSES + k]);
        }
        for (j = 0; j < FEAT; j++) {
            float acc = 0.0f;
            for (k = 0; k < CLASSES; k++) acc = fmaf(dl[b * CLASSES + k], c->head[j * CLASSES + k], acc);
            dout[(size_t)b * PIX + j] = acc;
        }
    }
    ncsn_model_zero_grad(c->m);
    if (ncsn_model_backward(c->m, NULL, dout) != NCSN_OK || ncsn_model_adam_step(c->m, &c->am) != NCSN_OK ||
        ncsn_adam_step(&c->ah, c->head, c->grad) != NCSN_OK)
        die("classifier step");
    return loss;
}

static int argmax10(const float *l)
{
    int k, best = 0;
    for (k = 1; k < CLASSES; k++) if (l[k] > l[best]) best = k;
    return best;
}

/* the share of x's images classified as their label y */
static double clf_accuracy(clf *c, const float *x, const int *y, int n, float *work)
{
    float *lg = (float *)xmalloc(sizeof(float) * (size_t)n * CLASSES);
    int i, right = 0;
    clf_forward(c, x, n, NULL, lg, work);
    for (i = 0; i < n; i++) right += argmax10(lg + (size_t)i * CLASSES) == y[i];
    free(lg);
    return (double)right / n;
}

static void clf_train(clf *c, const float *x, const int *y, int n, const run_cfg *rc, float *work)
{
    ncsn_config cfg = ncsn_config_concat(PIX, rc->clf_w1, 2);
    ncsn_rng rng;
    float xb[128 * PIX], *dout = (float *)xmalloc(sizeof(float) * 128 * PIX), loss = 0.0f;
    int *perm = (int *)xmalloc(sizeof(int) * (size_t)n), yb[128], i, b, e;
    long step = 0, total = (long)rc->clf_epochs * (n / 128);
    double t0 = now();
    cfg.hidden[1] = rc->clf_w2;
    ncsn_rng_seed(&rng, 2026, 15);
    if (ncsn_model_create(&c->m, &cfg) != NCSN_OK || ncsn_model_init(c->m, &rng) != NCSN_OK) die("classifier");
    if (ncsn_model_set_threads(c->m, rc->threads) != NCSN_OK) die("threads");
    for (i = 0; i < FEAT * CLASSES; i++) c->head[i] = (ncsn_rng_uniform(&rng) - 0.5f) * 0.25f;   /* U(-1/8, 1/8) = U(+-1/sqrt(FEAT)) */
    for (i = 0; i < CLASSES; i++) c->head[FEAT * CLASSES + i] = 0.0f;
    if (ncsn_adam_create(&c->am, c->m->n_params, 1e-3f) != NCSN_OK || ncsn_adam_create(&c->ah, FEAT * CLASSES + CLASSES, 1e-3f) != NCSN_OK)
        die("classifier Adam");
    for (i = 0; i < n; i++) perm[i] = i;
    for (e = 0; e < rc->clf_epochs; e++)
        for (b = 0; b + 128 <= n; b += 128, step++) {
            if (rc->clf_decay) c->am.lr = c->ah.lr = ncsn_lr_at(1e-3f, step, total);
            if (ncsn_minibatch(&rng, perm, n, x, PIX, xb, 128) != NCSN_OK) die("minibatch");
            for (i = 0; i < 128; i++) yb[i] = y[perm[i]];
            loss = clf_step(c, xb, yb, 128, work, dout);
        }
    printf("images: classifier 784-%d-%d-%d features-10 trained %d epochs on %d images%s, last loss %.4f, %.0f s\n", rc->clf_w1, rc->clf_w2,
           FEAT, rc->clf_epochs, n, rc->clf_decay ? " (rate falling linearly to lr/100)" : "", (double)loss, now() - t0);
    free(dout);
    free(perm);
}

/* ---- output: image grids as text matrices for gnuplot (row 0 at the top), gaps of 0.5 gray ---- */
static void put_grid(const char *dir, const char *name, const float *img, int n, int cols)
{
    char path[1024];
    FILE *fp;
    int rows = (n + cols - 1) / cols, R = rows * (SIDE + 1) - 1, C = cols * (SIDE + 1) - 1, r, c;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(fp = fopen(path, "w"))) { perror(path); exit(1); }
    for (r = 0; r < R; r++) {
        for (c = 0; c < C; c++) {
            int i = (r / (SIDE + 1)) * cols + c / (SIDE + 1), y = r % (SIDE + 1), x = c % (SIDE + 1);
            float v = i < n && y < SIDE && x < SIDE ? img[(size_t)i * PIX + y * SIDE + x] : 0.5f;
            fprintf(fp, c ? " %.3f" : "%.3f", (double)(v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v));
        }
        fputc('\n', fp);
    }
    fclose(fp);
}

static void clamp01(float *x, size_t n)
{
    size_t k;
    for (k = 0; k < n; k++) x[k] = x[k] < 0.0f ? 0.0f : x[k] > 1.0f ? 1.0f : x[k];
}

/* squared distance, 8 partial sums in a fixed order */
static float sqdist(const float *a, const float *b)
{
    float s[8] = { 0 }, t;
    int k, j;
    for (k = 0; k < PIX; k += 8)
        for (j = 0; j < 8; j++) { t = a[k + j] - b[k + j]; s[j] = fmaf(t, t, s[j]); }
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* the nearest of the n training images to each of q [m][PIX]: distance and index */
static void nearest(const float *q, int m, const float *train, int n, float *dist, int *idx)
{
    int i, j;
    for (i = 0; i < m; i++) {
        float best = sqdist(q + (size_t)i * PIX, train);
        int bi = 0;
        for (j = 1; j < n; j++) {
            float d = sqdist(q + (size_t)i * PIX, train + (size_t)j * PIX);
            if (d < best) { best = d; bi = j; }
        }
        dist[i] = sqrtf(best);
        if (idx) idx[i] = bi;
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* m samples of the Gaussian with train's mean and full covariance (Cholesky in double, a 1e-6
   ridge: the border pixels are constant), clamped to [0, 1] like the model's samples */
static void gaussian_samples(const float *x, int n, float *out, int m, ncsn_rng *rng)
{
    double *mu = (double *)calloc(PIX, sizeof(double)), *C = (double *)calloc((size_t)PIX * PIX, sizeof(double));
    float z[PIX];
    int i, j, k;
    for (i = 0; i < n; i++) for (j = 0; j < PIX; j++) mu[j] += x[(size_t)i * PIX + j];
    for (j = 0; j < PIX; j++) mu[j] /= n;
    for (i = 0; i < n; i++) {
        const float *p = x + (size_t)i * PIX;
        for (j = 0; j < PIX; j++) {
            double dj = p[j] - mu[j];
            if (dj != 0.0) for (k = 0; k <= j; k++) C[(size_t)j * PIX + k] += dj * (p[k] - mu[k]);
        }
    }
    for (j = 0; j < PIX; j++) { for (k = 0; k <= j; k++) C[(size_t)j * PIX + k] /= (n - 1); C[(size_t)j * PIX + j] += 1e-6; }
    for (j = 0; j < PIX; j++) {   /* lower Cholesky factor in place */
        double d = C[(size_t)j * PIX + j];
        for (k = 0; k < j; k++) d -= C[(size_t)j * PIX + k] * C[(size_t)j * PIX + k];
        d = sqrt(d > 1e-12 ? d : 1e-12);
        C[(size_t)j * PIX + j] = d;
        for (i = j + 1; i < PIX; i++) {
            double v = C[(size_t)i * PIX + j];
            for (k = 0; k < j; k++) v -= C[(size_t)i * PIX + k] * C[(size_t)j * PIX + k];
            C[(size_t)i * PIX + j] = v / d;
        }
    }
    for (i = 0; i < m; i++) {
        ncsn_rng_normals(rng, z, PIX);
        for (j = 0; j < PIX; j++) {
            double v = mu[j];
            for (k = 0; k <= j; k++) v += C[(size_t)j * PIX + k] * z[k];
            out[(size_t)i * PIX + j] = (float)v;
        }
    }
    clamp01(out, (size_t)m * PIX);
    free(mu);
    free(C);
}

/* ---- snapshots of a few chains at a few levels (the callback sees every step) ---- */
#define SNAPS 9
typedef struct snaps { float *buf; int levels[SNAPS], T, n; } snaps;
static ncsn_status snap_cb(void *user, int level, int step, float sigma, const float *x, int n, int dim)
{
    snaps *s = (snaps *)user;
    int k;
    (void)sigma;
    if (step != s->T - 1) return NCSN_OK;
    for (k = 0; k < SNAPS; k++)
        if (s->levels[k] == level) {
            int c;
            for (c = 0; c < n; c++) memcpy(s->buf + ((size_t)c * (SNAPS + 1) + k) * PIX, x + (size_t)c * dim, sizeof(float) * PIX);
        }
    return NCSN_OK;
}

typedef struct model_set { ncsn_model *m; ncsn_stdz sd; float sig[4096]; int L; ncsn_score_fn score; void *user; } model_set;

/* the recipe's sampler in SONG's form, with which every image run was measured (docs/images.md);
   the recipe's SONG_LM is its form up to 16 dimensions */
static ncsn_sampler_opts img_recipe(const float *sig, int L, int T)
{
    ncsn_sampler_opts o = ncsn_sampler_recipe(sig, L, T);
    o.form = NCSN_LANGEVIN_SONG;
    return o;
}

static void draw_snapshots(const model_set *ms, const run_cfg *c, const char *out)
{
    enum { CH = 6 };
    snaps s;
    ncsn_sampler_opts o = img_recipe(ms->sig, ms->L, c->T);
    float x[CH * PIX];
    ncsn_rng rng;
    int k, ch;
    s.buf = (float *)calloc((size_t)CH * (SNAPS + 1) * PIX, sizeof(float));
    s.T = c->T;
    s.n = CH;
    for (k = 0; k < SNAPS; k++) s.levels[k] = (int)((double)k * (ms->L - 1) / (SNAPS - 1) + 0.5);
    o.callback = snap_cb;
    o.callback_user = &s;
    ncsn_rng_seed(&rng, 15, 3);
    if (ncsn_sample_annealed(ms->score, ms->user, PIX, ms->sig, ms->L, &o, &rng, x, CH) != NCSN_OK) die("snapshots");
    for (ch = 0; ch < CH; ch++) memcpy(s.buf + ((size_t)ch * (SNAPS + 1) + SNAPS) * PIX, x + (size_t)ch * PIX, sizeof(float) * PIX);
    put_grid(out, "images_langevin.dat", s.buf, CH * (SNAPS + 1), SNAPS + 1);
    {   /* the levels shown, for the figure's labels */
        char p[1024];
        FILE *fp;
        snprintf(p, sizeof p, "%s/images_langevin_levels.dat", out);
        if ((fp = fopen(p, "w")) != NULL) {
            for (k = 0; k < SNAPS; k++) fprintf(fp, "%d %.4g\n", s.levels[k], (double)ms->sig[s.levels[k]]);
            fclose(fp);
        }
    }
    free(s.buf);
}

/* the sampler leaves the known pixels at known + sigma_L z~, a visible speckle with the levels
   stopped at sigma_L = 0.1; a completion keeps the pixels it was given (lower-half agreement on
   the medium model: 72.5 % against 71.0 %, docs/images.md) */
static void restore_known(float *x, const float *known, const unsigned char *mask, size_t n)
{
    size_t k;
    for (k = 0; k < n; k++) if (mask[k]) x[k] = known[k];
}

/* inpaint n test images with mask kind 0 (lower half hidden) or 1 (centre 14 x 14 hidden) */
static void inpaint(const model_set *ms, const run_cfg *c, const float *img, int n, int kind, float *x, float *shown)
{
    ncsn_sampler_opts o = img_recipe(ms->sig, ms->L, c->T_inp);
    unsigned char *mask = (unsigned char *)xmalloc((size_t)n * PIX);
    ncsn_rng rng;
    ncsn_guide g;
    int i, p;
    for (i = 0; i < n; i++)
        for (p = 0; p < PIX; p++) {
            int y = p / SIDE, xx = p % SIDE, hidden = kind == 0 ? y >= SIDE / 2 : (y >= 7 && y < 21 && xx >= 7 && xx < 21);
            mask[(size_t)i * PIX + p] = (unsigned char)!hidden;
            if (shown) shown[(size_t)i * PIX + p] = hidden ? 0.3f : img[(size_t)i * PIX + p];
        }
    o.eps *= c->eps_inp;
    ncsn_rng_seed(&rng, 15, 4 + (uint64_t)kind);
    if (ncsn_guide_init(&g, ms->m, img, mask, c->guide, n) != NCSN_OK) die("inpainting's guide");   /* weight 0: the model's score */
    g.sigma_min = c->guide_lo;
    if (ncsn_sample_inpaint(ncsn_score_guided, &g, PIX, ms->sig, ms->L, &o, &rng, img, mask, x, n) != NCSN_OK) die("inpainting");
    ncsn_guide_free(&g);
    restore_known(x, img, mask, (size_t)n * PIX);
    clamp01(x, (size_t)n * PIX);
    free(mask);
}

/* a model written by `train` (preconditioned: ncsn_model_forward applies it) or `train-trainer`;
   its levels down to sigma_end only: below it the learned denoiser removes little, and Langevin's
   noise outgrows what the score pulls back (the recipe's final step denoises at the last level) */
static void load_model(model_set *ms, const char *path, float sigma_end, int threads)
{
    if (ncsn_checkpoint_load(&ms->m, path, NULL, NULL, ms->sig, 4096, &ms->L, NULL) != NCSN_OK) die("loading the model");
    while (ms->L > 1 && ms->sig[ms->L - 1] < sigma_end) ms->L--;
    if (ncsn_stdz_load(&ms->sd, path, PIX) != NCSN_OK) die("loading the model's standardisation");
    if (ncsn_model_set_threads(ms->m, threads) != NCSN_OK) die("threads");
    ms->score = ncsn_model_score;
    ms->user = ms->m;
}

typedef struct metrics { double acc, fd, floor, gauss, share_min, share_max, med_test, min_sample, inpaint_agree; int close, diverged; } metrics;

/* FD of each set's features against the test set's; the class shares of the samples */
static void measure_fd(clf *cl, const float *smp, const float *held, const float *gauss, int m, const float *test, int nt,
                       float *work, metrics *r)
{
    float *ft = (float *)xmalloc(sizeof(float) * (size_t)nt * FEAT), *fs = (float *)xmalloc(sizeof(float) * (size_t)m * FEAT);
    float *lg = (float *)xmalloc(sizeof(float) * (size_t)m * CLASSES);
    int count[CLASSES] = { 0 }, i;
    clf_forward(cl, test, nt, ft, NULL, work);
    clf_forward(cl, held, m, fs, NULL, work);
    if (ncsn_frechet_distance(fs, m, ft, nt, FEAT, &r->floor) != NCSN_OK) die("FD");
    clf_forward(cl, gauss, m, fs, NULL, work);
    if (ncsn_frechet_distance(fs, m, ft, nt, FEAT, &r->gauss) != NCSN_OK) die("FD");
    clf_forward(cl, smp, m, fs, lg, work);
    if (ncsn_frechet_distance(fs, m, ft, nt, FEAT, &r->fd) != NCSN_OK) die("FD");
    for (i = 0; i < m; i++) count[argmax10(lg + (size_t)i * CLASSES)]++;
    r->share_min = 1.0; r->share_max = 0.0;
    printf("images: classes of the samples:");
    for (i = 0; i < CLASSES; i++) {
        double sh = (double)count[i] / m;
        printf(" %d", count[i]);
        if (sh < r->share_min) r->share_min = sh;
        if (sh > r->share_max) r->share_max = sh;
    }
    printf(" (of %d)\n", m);
    free(ft); free(fs); free(lg);
}

/* the median nearest-training distance of the first mt test images */
static double test_nn_median(const float *test, int mt, const fmnist *tr, int n_train)
{
    float *dt = (float *)xmalloc(sizeof(float) * (size_t)mt);
    double med;
    nearest(test, mt, tr->x, n_train, dt, NULL);
    qsort(dt, (size_t)mt, sizeof(float), cmp_float);
    med = dt[mt / 2];
    free(dt);
    return med;
}

/* the samples' nearest training images against r->med_test (test_nn_median's, of mt test images);
   out: a directory for the grid of the first 16 beside theirs, or NULL */
static void measure_nn(const float *smp, int m, const fmnist *tr, int n_train, int mt, const char *out, metrics *r)
{
    int i, *idx = (int *)xmalloc(sizeof(int) * (size_t)m);
    float *ds = (float *)xmalloc(sizeof(float) * (size_t)m), *pair;
    nearest(smp, m, tr->x, n_train, ds, idx);
    pair = (float *)xmalloc(sizeof(float) * 32 * PIX);
    for (i = 0; i < 16 && i < m; i++) {
        memcpy(pair + (size_t)i * PIX, smp + (size_t)i * PIX, sizeof(float) * PIX);
        memcpy(pair + (size_t)(16 + i) * PIX, tr->x + (size_t)idx[i] * PIX, sizeof(float) * PIX);
    }
    if (out) put_grid(out, "images_nearest.dat", pair, 32, 16);
    r->min_sample = ds[0];
    for (i = 0, r->close = 0; i < m; i++) {
        if (ds[i] < r->min_sample) r->min_sample = ds[i];
        r->close += ds[i] < r->med_test / 2.0;
    }
    qsort(ds, (size_t)m, sizeof(float), cmp_float);
    printf("images: nearest training image: samples median %.3f, min %.3f; test images median %.3f (%d of them); %d samples closer than %.3f\n",
           (double)ds[m / 2], r->min_sample, r->med_test, mt, r->close, r->med_test / 2.0);
    free(idx); free(ds); free(pair);
}

/* annealed Langevin, or inpainting when mask is not NULL, over ms's first L levels with o's settings,
   but T_hi steps at the levels sigma >= split (T_hi <= 0: o's T everywhere); every level keeps o's
   step a_i = eps sigma_i^2 / sigma_L^2 (the first part runs with eps rescaled to its own last level) */
static ncsn_status sample_split(const model_set *ms, int L, const ncsn_sampler_opts *o, int T_hi, float split, ncsn_rng *rng,
                                const float *known, const unsigned char *mask, float *x, int n)
{
    ncsn_sampler_opts a = *o, b = *o;
    ncsn_status st, st2;
    int K = 0;
    while (K < L && ms->sig[K] >= split) K++;
    if (T_hi <= 0 || T_hi == o->steps_per_level || K == 0) K = 0;
    else if (K == L) { a.steps_per_level = T_hi; K = 0; }
    if (K == 0)
        return mask ? ncsn_sample_inpaint(ms->score, ms->user, PIX, ms->sig, L, &a, rng, known, mask, x, n)
                    : ncsn_sample_annealed(ms->score, ms->user, PIX, ms->sig, L, &a, rng, x, n);
    a.steps_per_level = T_hi;
    a.denoise_final = 0;
    a.eps = o->eps * ((ms->sig[K - 1] / ms->sig[L - 1]) * (ms->sig[K - 1] / ms->sig[L - 1]));
    b.init = NCSN_INIT_GIVEN;
    st = mask ? ncsn_sample_inpaint(ms->score, ms->user, PIX, ms->sig, K, &a, rng, known, mask, x, n)
              : ncsn_sample_annealed(ms->score, ms->user, PIX, ms->sig, K, &a, rng, x, n);
    /* a chain that left the finite numbers stays so; the others still need the small levels */
    if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) return st;
    st2 = mask ? ncsn_sample_inpaint(ms->score, ms->user, PIX, ms->sig + K, L - K, &b, rng, known, mask, x, n)
               : ncsn_sample_annealed(ms->score, ms->user, PIX, ms->sig + K, L - K, &b, rng, x, n);
    return st2 != NCSN_OK ? st2 : st;
}

static int cmd_eval(const char *dir, const char *model, const char *out, const run_cfg *c)
{
    fmnist tr, te;
    model_set ms;
    clf cl;
    metrics r;
    ncsn_rng rng;
    int m = c->n_samples, n_inp = c->n_samples < 200 ? c->n_samples : 200, i, agree = 0, width, depth;
    long n_steps;
    float *work = (float *)xmalloc(sizeof(float) * 512 * PIX), *smp = (float *)xmalloc(sizeof(float) * (size_t)m * PIX);
    float *gs = (float *)xmalloc(sizeof(float) * (size_t)m * PIX), *inp = (float *)xmalloc(sizeof(float) * (size_t)n_inp * PIX);
    float *lg = (float *)xmalloc(sizeof(float) * (size_t)n_inp * CLASSES), fig[40 * PIX], shown[8 * PIX];
    char steps[64];
    const float *held;
    double t0;
    ncsn_sampler_opts o;
    ncsn_status st;
    memset(&r, 0, sizeof r);
    load_set(&tr, dir, "train");
    load_set(&te, dir, "t10k");
    held = tr.x + (size_t)(tr.n - c->hold) * PIX;
    load_model(&ms, model, c->sigma_end, c->threads);
    /* the summary and the figure's title describe the model (a variant's width and steps), not
       config()'s recipe; a model without images.steps (not written by train) keeps the recipe's */
    width = ms.m->cfg.hidden[0];
    depth = ms.m->cfg.n_hidden;
    if (ncsn_file_meta(model, "images.steps", steps, sizeof steps) != NCSN_OK || sscanf(steps, "%ld", &n_steps) != 1) n_steps = c->steps;
    clf_train(&cl, tr.x, tr.y, c->n_train, c, work);
    r.acc = clf_accuracy(&cl, te.x, te.y, te.n, work);
    printf("images: classifier test accuracy %.4f (%d test images)\n", r.acc, te.n);
    o = img_recipe(ms.sig, ms.L, c->T_low ? c->T_low : c->T);
    ncsn_rng_seed(&rng, 15, 1);
    t0 = now();
    st = sample_split(&ms, ms.L, &o, c->T, c->split, &rng, NULL, NULL, smp, m);   /* T_low 0: one call, T everywhere */
    if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) die("sampling");
    r.diverged = ncsn_diverged(&ms.sd, ms.sig[0], smp, m, NULL);
    if (c->T_low) snprintf(steps, sizeof steps, "%d steps above sigma %g, %d below", c->T, (double)c->split, c->T_low);
    else snprintf(steps, sizeof steps, "%d steps", c->T);
    printf("images: %d samples, %d levels (to %.3g) x %s + denoising, in %.0f s; %d beyond the data's radius + sigma_1 (ncsn_diverged; non-finite ones are left out of the metric)\n", m, ms.L, (double)ms.sig[ms.L - 1], steps,
           now() - t0, r.diverged);
    m = keep_finite(smp, m, PIX);
    clamp01(smp, (size_t)m * PIX);
    put_grid(out, "images_samples.dat", smp, 64 < m ? 64 : m, 8);
    ncsn_rng_seed(&rng, 15, 2);
    gaussian_samples(tr.x, c->n_train, gs, m, &rng);
    put_grid(out, "images_gaussian.dat", gs, 16 < m ? 16 : m, 8);
    measure_fd(&cl, smp, held, gs, m, te.x, te.n, work, &r);
    r.med_test = test_nn_median(te.x, m < 500 ? m : 500, &tr, c->n_train);
    measure_nn(smp, m, &tr, c->n_train, m < 500 ? m : 500, out, &r);
    draw_snapshots(&ms, c, out);
    inpaint(&ms, c, te.x, n_inp, 0, inp, NULL);
    clf_forward(&cl, inp, n_inp, NULL, lg, work);
    for (i = 0; i < n_inp; i++) agree += argmax10(lg + (size_t)i * CLASSES) == te.y[i];
    r.inpaint_agree = (double)agree / n_inp;
    printf("images: lower-half inpainting of %d test images (%d steps per level at %g x the step, guidance w %g at sigma >= %g): "
           "the classifier gives the hidden image's label to %.3f\n", n_inp, c->T_inp, (double)c->eps_inp, (double)c->guide, (double)c->guide_lo,
           r.inpaint_agree);
    memcpy(fig, te.x, sizeof(float) * 8 * PIX);
    inpaint(&ms, c, te.x, 8, 0, fig + 16 * PIX, fig + 8 * PIX);
    inpaint(&ms, c, te.x, 8, 1, fig + 32 * PIX, shown);
    memcpy(fig + 24 * PIX, shown, sizeof shown);
    put_grid(out, "images_inpaint.dat", fig, 40, 8);
    {
        char p[1024];
        FILE *fp;
        snprintf(p, sizeof p, "%s/images_summary.dat", out);
        if ((fp = fopen(p, "w")) != NULL) {
            fprintf(fp, "# fd floor gauss share_min share_max acc med_test min_sample close inpaint_agree n_samples n_train steps width depth T L diverged T_low split\n");
            fprintf(fp, "%.4f %.4f %.4f %.4f %.4f %.4f %.4f %.4f %d %.4f %d %d %ld %d %d %d %d %d %d %g\n", r.fd, r.floor, r.gauss, r.share_min,
                    r.share_max, r.acc, r.med_test, r.min_sample, r.close, r.inpaint_agree, m, c->n_train, n_steps, width,
                    depth, c->T, ms.L, r.diverged, c->T_low, (double)c->split);
            fclose(fp);
        }
    }
    printf("images: FD %.2f (floor %.2f, gaussian %.2f), classes %.3f..%.3f\n", r.fd, r.floor, r.gauss, r.share_min, r.share_max);
    return 0;
}

/* ---- `images sweep DATA MODEL VARIANT... [--medium|--quick]`: sampler variants on one trained model, one
   classifier for all (docs/images.md's sampler tables). VARIANT is kind:T:eps_factor:sigma_end:n
   [:T_hi:split[:stream[:first]]] with kind s (n samples: FD, classes, nearest training images), i
   (lower-half inpainting of n test images from test image `first`, 0 unless given: agreement), k (i,
   then the known pixels set back to the exact known values) or f (k with one noise draw for the known
   pixels at all levels); T_hi steps at the levels sigma >= split (sample_split); stream > 0 another
   noise stream than eval's (first: a test slice other than eval's, to confirm what 200 images found);
   n and m: references without the network (sweep_nn_completion, sweep_real_close);
   r:T:eps_factor:sigma_end:n:jump:repeats:sigma_hi:sigma_lo[:stream[:first]] is k with resampling
   (ncsn_sample_inpaint_resample: jump levels every `jump` levels of [sigma_lo, sigma_hi]),
   g:T:eps_factor:sigma_end:n:weight[:stream[:first]] k with reconstruction guidance (ncsn_score_guided),
   h:T:eps_factor:sigma_end:n:jump:repeats:sigma_hi:sigma_lo:weight[:stream[:first]] both;
   d:0:0:0:n prints the learned denoiser's RMS error per level on n held-out training images, c:0:0:0:n
   the share of each class the classifier still labels so after the denoiser (every 4th level) ---- */
static int levels_to(const model_set *ms, float sigma_end)
{
    int L = ms->L;
    while (L > 1 && ms->sig[L - 1] < sigma_end) L--;
    return L;
}

/* the learned denoiser's RMS error over sigma, x~ + sigma^2 s(x~) against the clean image, at each of
   the model's levels on n held-out training images (one noise draw per level) into ratio[L]: below 1
   a denoising step at that level removes noise, at 1 it is no better than the identity */
static void denoiser_ratios(const model_set *ms, const float *held, int n, float *ratio)
{
    float *xt = (float *)xmalloc(sizeof(float) * (size_t)n * PIX), *s = (float *)xmalloc(sizeof(float) * (size_t)n * PIX);
    ncsn_rng rng;
    size_t N = (size_t)n * PIX, k;
    int i;
    ncsn_rng_seed(&rng, 15, 9);
    for (i = 0; i < ms->L; i++) {
        double e = 0.0;
        float sg = ms->sig[i];
        ncsn_rng_normals(&rng, xt, N);
        for (k = 0; k < N; k++) xt[k] = fmaf(sg, xt[k], held[k]);
        if (ncsn_model_score(ms->user, s, xt, sg, n) != NCSN_OK) die("denoiser");
        for (k = 0; k < N; k++) { double d = (double)fmaf(sg * sg, s[k], xt[k]) - held[k]; e = fma(d, d, e); }
        ratio[i] = (float)(sqrt(e / (double)N) / sg);
    }
    free(xt); free(s);
}

static void sweep_denoiser(const model_set *ms, const float *held, int n)
{
    float ratio[4096];
    int i;
    denoiser_ratios(ms, held, n, ratio);
    for (i = 0; i < ms->L; i++) printf("sweep: denoiser level %2d sigma %.4f rmse/sigma %.3f\n", i, (double)ms->sig[i], (double)ratio[i]);
}

/* inpainting as ncsn_sample_inpaint, but the known pixels at level i are known + sigma_i z~ with ONE
   z~ for all levels (a single forward-noised trajectory of the known image) instead of a fresh z~
   per level (Song & Ermon's appendix); a variant for the sweep */
static void inpaint_fixed_noise(const model_set *ms, int L, const ncsn_sampler_opts *o, ncsn_rng *rng, const float *known,
                                const unsigned char *mask, float *x, int n)
{
    size_t N = (size_t)n * PIX, k;
    float *zt = (float *)xmalloc(sizeof(float) * N), *z = (float *)xmalloc(sizeof(float) * N), *sc = (float *)xmalloc(sizeof(float) * N);
    float cs, cn, sl = ms->sig[L - 1];
    int i, t;
    ncsn_rng_normals(rng, x, N);
    for (k = 0; k < N; k++) x[k] *= ms->sig[0];
    ncsn_rng_normals(rng, zt, N);
    for (i = 0; i < L; i++) {
        if (ncsn_langevin_coeffs(o->form, o->eps, ms->sig[i], sl, &cs, &cn) != NCSN_OK) die("coefficients");
        for (t = 0; t < o->steps_per_level; t++) {
            if (ncsn_model_score(ms->user, sc, x, ms->sig[i], n) != NCSN_OK) die("score");
            ncsn_rng_normals(rng, z, N);
            ncsn_langevin_update(x, sc, z, N, cs, cn);
            for (k = 0; k < N; k++) if (mask[k]) x[k] = fmaf(ms->sig[i], zt[k], known[k]);
        }
    }
    if (o->denoise_final) {
        if (ncsn_model_score(ms->user, sc, x, sl, n) != NCSN_OK) die("score");
        for (k = 0; k < N; k++) if (!mask[k]) x[k] = fmaf(sl * sl, sc[k], x[k]);
    }
    free(zt); free(z); free(sc);
}

/* c:0:0:0:n: the classifier's labels of the learned denoiser's output D(x~) = x~ + sigma^2 s(x~) on
   n held-out training images at every 4th level: the share per class that keeps its own label (where
   a class's identity is lost on the way down, e.g. sandals denoised into sneakers) */
static void sweep_denoised_classes(const model_set *ms, clf *cl, const float *held, const int *label, int n, float *work)
{
    float *xt = (float *)xmalloc(sizeof(float) * (size_t)n * PIX), *sc = (float *)xmalloc(sizeof(float) * (size_t)n * PIX);
    float *lg = (float *)xmalloc(sizeof(float) * (size_t)n * CLASSES);
    size_t N = (size_t)n * PIX, k;
    ncsn_rng rng;
    int i, j;
    ncsn_rng_seed(&rng, 15, 10);
    for (i = 0; i < ms->L; i += 4) {
        int kept[CLASSES] = { 0 }, all[CLASSES] = { 0 };
        float sg = ms->sig[i];
        ncsn_rng_normals(&rng, xt, N);
        for (k = 0; k < N; k++) xt[k] = fmaf(sg, xt[k], held[k]);
        if (ncsn_model_score(ms->user, sc, xt, sg, n) != NCSN_OK) die("denoiser");
        for (k = 0; k < N; k++) xt[k] = fmaf(sg * sg, sc[k], xt[k]);
        clamp01(xt, N);
        clf_forward(cl, xt, n, NULL, lg, work);
        for (j = 0; j < n; j++) { all[label[j]]++; kept[label[j]] += argmax10(lg + (size_t)j * CLASSES) == label[j]; }
        printf("sweep: denoised classes sigma %8.4f:", (double)sg);
        for (j = 0; j < CLASSES; j++) printf(" %.2f", all[j] ? (double)kept[j] / all[j] : 0.0);
        printf("\n");
    }
    free(xt); free(sc); free(lg);
}

/* m:0:0:0:n: the memorisation check on real images: how many of n test images and of n held-out
   training images (neither seen by the network) are nearer a training image than half the test
   images' median, the bound no sample may cross */
static void sweep_real_close(const fmnist *tr, int n_train, const fmnist *te, const float *held, int n, double med_test)
{
    float *d = (float *)xmalloc(sizeof(float) * (size_t)n);
    int i, w, close[2];
    for (w = 0; w < 2; w++) {
        nearest(w ? held : te->x, n, tr->x, n_train, d, NULL);
        for (i = 0, close[w] = 0; i < n; i++) close[w] += d[i] < med_test / 2.0;
    }
    printf("sweep: real images nearer a training image than %.3f: %d of the first %d test images, %d of %d held-out training images\n",
           med_test / 2.0, close[0], n, close[1], n);
    free(d);
}

/* n:0:0:0:n[:0:0:0:first]: a reference for the lower-half task without the network: each test
   image's upper half completed by the lower half of the training image whose upper half is nearest
   (a completion drawn from the data, roughly a sample of the hidden half given the shown one); the
   classifier's agreement with the hidden label says how far a good sampler could get */
static void sweep_nn_completion(clf *cl, const fmnist *tr, int n_train, const fmnist *te, int first, int n, float *work)
{
    float *x = (float *)xmalloc(sizeof(float) * (size_t)n * PIX), *lg = (float *)xmalloc(sizeof(float) * (size_t)n * CLASSES);
    int i, j, k, agree = 0, H = PIX / 2;   /* rows 0-13: the shown upper half */
    for (i = 0; i < n; i++) {
        const float *q = te->x + (size_t)(first + i) * PIX;
        float best = -1.0f;
        int bj = 0;
        for (j = 0; j < n_train; j++) {
            const float *p = tr->x + (size_t)j * PIX;
            float d = 0.0f, t;
            for (k = 0; k < H; k++) { t = q[k] - p[k]; d = fmaf(t, t, d); }
            if (best < 0.0f || d < best) { best = d; bj = j; }
        }
        memcpy(x + (size_t)i * PIX, q, sizeof(float) * (size_t)H);
        memcpy(x + (size_t)i * PIX + H, tr->x + (size_t)bj * PIX + H, sizeof(float) * (size_t)(PIX - H));
    }
    clf_forward(cl, x, n, NULL, lg, work);
    for (i = 0; i < n; i++) agree += argmax10(lg + (size_t)i * CLASSES) == te->y[first + i];
    printf("sweep: nearest-upper-half completion of %d test images from %d: lower-half agreement %.3f (%d of %d; the classifier on these originals %.3f)\n",
           n, first, (double)agree / n, agree, n, clf_accuracy(cl, te->x + (size_t)first * PIX, te->y + first, n, work));
    free(x); free(lg);
}

/* how many of the n completions x the classifier gives their label lab; a non-finite chain (*lost
   of them) counts as a miss. x is clamped to [0, 1] in place */
static int agreement(clf *cl, float *x, const int *lab, int n, float *lg, float *work, int *lost)
{
    unsigned char *bad = (unsigned char *)xmalloc((size_t)n);
    int i, agree = 0;
    size_t k;
    memset(bad, 0, (size_t)n);
    for (k = 0; k < (size_t)n * PIX; k++) if (!isfinite(x[k])) { bad[k / PIX] = 1; x[k] = 0.0f; }
    clamp01(x, (size_t)n * PIX);
    clf_forward(cl, x, n, NULL, lg, work);
    for (i = 0, *lost = 0; i < n; i++) {
        *lost += bad[i];
        agree += !bad[i] && argmax10(lg + (size_t)i * CLASSES) == lab[i];
    }
    free(bad);
    return agree;
}

/* the size flag that may end an argument list: 1 --quick, 2 --medium, 0 none, -1 another '-' word
   (a misspelt flag must not run the full recipe silently) */
static int size_flag(const char *a)
{
    if (strcmp(a, "--quick") == 0) return 1;
    if (strcmp(a, "--medium") == 0) return 2;
    return a[0] == '-' ? -1 : 0;
}

/* one sweep VARIANT, read and checked before anything is trained */
typedef struct variant { char kind; int T, n, T_hi, stream, first; float ex, end, split, guide, guide_lo; ncsn_inpaint_opts rs; } variant;

/* a whole decimal integer field in [lo, hi] (strtol: no overflow into a wrong value) */
static int field_long(const char *f, long lo, long hi, int *v)
{
    char *e;
    long x;
    errno = 0;
    x = strtol(f, &e, 10);
    if (e == f || *e || errno || x < lo || x > hi) return 0;
    *v = (int)x;
    return 1;
}

static int field_float(const char *f, float *v)
{
    char *e;
    *v = strtof(f, &e);
    return e != f && !*e && isfinite(*v);
}

/* r's four resampling fields f[0..3], jump:repeats:sigma_hi:sigma_lo, into p (jump levels every
   `jump` levels, RePaint's): jump and repeats >= 1, 0 < sigma_hi, 0 <= sigma_lo <= sigma_hi */
static int parse_jump(char **f, ncsn_inpaint_opts *p)
{
    *p = ncsn_inpaint_defaults();
    return field_long(f[0], 1, 1000, &p->jump) && field_long(f[1], 1, 1000, &p->repeats) && field_float(f[2], &p->sigma_hi) &&
           field_float(f[3], &p->sigma_lo) && p->sigma_hi > 0.0f && p->sigma_lo >= 0.0f && p->sigma_lo <= p->sigma_hi;
}

/* spec into v: 5, 7, 8 or 9 colon-separated fields (r: 9, 10 or 11, its resampling fields where the
   others have T_hi:split); where the kind runs Langevin (s, i, k, f, r) T >= 1 (0 would ask the
   recipe's 200 per level) and a positive step factor; a split only where it samples (s, i, k; n
   ignores it); a test slice only for the completions (i, k, n, r); n within what the kind reads (s:
   held-out training images, at most 1000; d, c: held-out; m: both; i, k, f, n, r: test images from
   `first`). 0 and a message if not */
static int parse_variant(const char *spec, variant *v, int n_held, int n_test)
{
    char buf[256], *f[12], *p;
    int nf = 0, n_max, r, si;
    memset(v, 0, sizeof *v);
    if (strlen(spec) >= sizeof buf) goto bad;
    strcpy(buf, spec);
    for (p = buf, f[nf++] = p; (p = strchr(p, ':')) != NULL && nf < 12; f[nf++] = ++p) *p = '\0';
    if (p || strlen(f[0]) != 1 || !strchr("sikdfcnmrgh", f[0][0])) goto bad;
    v->kind = f[0][0];
    r = v->kind == 'r' ? 4 : v->kind == 'g' ? 1 : v->kind == 'h' ? 5 : 0;   /* the kind's own fields after n */
    si = r ? 5 + r : 7;   /* the stream's field; the test slice's follows it */
    if (r ? nf < si || nf > si + 2 : nf != 5 && nf != 7 && nf != 8 && nf != 9) goto bad;
    if (!field_long(f[1], 0, 100000, &v->T) || !field_float(f[2], &v->ex) || !field_float(f[3], &v->end) ||
        !field_long(f[4], 1, 1000000, &v->n) || (r >= 4 && !parse_jump(f + 5, &v->rs)) ||
        (r % 4 == 1 && (!field_float(f[r == 1 ? 5 : 9], &v->guide) || !(v->guide > 0.0f))) ||
        (!r && nf >= 7 && (!field_long(f[5], 0, 100000, &v->T_hi) || !field_float(f[6], &v->split))) ||
        (nf > si && !field_long(f[si], 0, 1000000, &v->stream)) || (nf > si + 1 && !field_long(f[si + 1], 0, n_test - 1, &v->first)))
        goto bad;
    if ((strchr("sikfrgh", v->kind) && (v->T < 1 || !(v->ex > 0.0f))) || (nf > si + 1 && !strchr("iknrgh", v->kind)) ||
        (!r && nf >= 7 && v->kind != 'n' && (!(v->split > 0.0f) || !strchr("sik", v->kind))))
        goto bad;
    n_max = v->kind == 's' ? (n_held < 1000 ? n_held : 1000) : v->kind == 'd' || v->kind == 'c' ? n_held
          : v->kind == 'm' ? (n_held < n_test ? n_held : n_test) : n_test - v->first;
    if (v->n > n_max) { fprintf(stderr, "images: variant '%s': n = %d must be in [1, %d]\n", spec, v->n, n_max); return 0; }
    return 1;
bad:
    fprintf(stderr, "images: bad variant '%s' (kind:T:eps_factor:sigma_end:n[:T_hi:split[:stream[:first]]], or "
                    "r:T:eps_factor:sigma_end:n:jump:repeats:sigma_hi:sigma_lo[:stream[:first]], or g:T:eps_factor:sigma_end:n:weight[:stream[:first]], "
                    "or h:T:eps_factor:sigma_end:n:jump:repeats:sigma_hi:sigma_lo:weight[:stream[:first]]; "
                    "T >= 1, eps_factor > 0, weight > 0, "
                    "jump, repeats >= 1, 0 <= sigma_lo <= sigma_hi, 0 < sigma_hi)\n", spec);
    return 0;
}

/* a callback counting the levels a sampler runs (its first steps), for the cost of resampling */
static ncsn_status count_levels(void *user, int level, int step, float sigma, const float *x, int n, int dim)
{
    (void)level; (void)sigma; (void)x; (void)n; (void)dim;
    *(long *)user += step == 0;
    return NCSN_OK;
}

/* kind s: n samples measured; the others: n lower-half completions from test image `first` */
static void sweep_one(const model_set *ms, clf *cl, const char *spec, const variant *v, const fmnist *tr, int n_train,
                      double med_test, const fmnist *te, const float *held, int n_held, const float *gs, float *work)
{
    int n = v->n, L, agree = 0;
    ncsn_sampler_opts o;
    ncsn_rng rng;
    float *x;
    double t0 = now();
    if (v->kind == 'd') { sweep_denoiser(ms, held, n); return; }
    if (v->kind == 'c') { sweep_denoised_classes(ms, cl, held, tr->y + (tr->n - n_held), n, work); return; }
    if (v->kind == 'n') { sweep_nn_completion(cl, tr, n_train, te, v->first, n, work); return; }
    if (v->kind == 'm') { sweep_real_close(tr, n_train, te, held, n, med_test); return; }
    L = levels_to(ms, v->end);
    o = img_recipe(ms->sig, L, v->T);
    o.eps *= v->ex;
    x = (float *)xmalloc(sizeof(float) * (size_t)n * PIX);
    if (v->kind == 's') {
        metrics r;
        int m, div;
        ncsn_status st;
        ncsn_rng_seed(&rng, 15, 1 + 16 * (uint64_t)v->stream);
        st = sample_split(ms, L, &o, v->T_hi, v->split, &rng, NULL, NULL, x, n);
        if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) die("sampling");
        div = ncsn_diverged(&ms->sd, ms->sig[0], x, n, NULL);
        m = keep_finite(x, n, PIX);
        clamp01(x, (size_t)m * PIX);
        measure_fd(cl, x, held, gs, m, te->x, te->n, work, &r);
        r.med_test = med_test;
        measure_nn(x, m, tr, n_train, 500, NULL, &r);
        printf("sweep: %s: L %d (to %.4f) eps %.4g: FD %.2f (floor %.2f, gaussian %.2f) classes %.3f..%.3f, %d diverged, %d closer than %.3f (min %.3f), %.0f s\n",
               spec, L, (double)ms->sig[L - 1], (double)o.eps, r.fd, r.floor, r.gauss, r.share_min, r.share_max, div, r.close,
               r.med_test / 2.0, r.min_sample, now() - t0);
    } else {
        float *lg = (float *)xmalloc(sizeof(float) * (size_t)n * CLASSES);
        unsigned char *mask = (unsigned char *)xmalloc((size_t)n * PIX);
        const float *img = te->x + (size_t)v->first * PIX;
        const int *lab = te->y + v->first;
        int lost;
        long levels = 0;
        ncsn_status st = NCSN_OK;
        size_t k;
        for (k = 0; k < (size_t)n * PIX; k++) mask[k] = (unsigned char)((k % PIX) / SIDE < SIDE / 2);
        ncsn_rng_seed(&rng, 15, 4 + 16 * (uint64_t)v->stream);
        if (v->kind == 'f') inpaint_fixed_noise(ms, L, &o, &rng, img, mask, x, n);
        else if (strchr("rgh", v->kind)) {   /* resampling (r, h; rs all zero for g), guidance (g, h) */
            ncsn_guide g;   /* kind r: weight 0, the model's score exactly */
            if (ncsn_guide_init(&g, ms->m, img, mask, v->kind == 'r' ? 0.0f : v->guide, n) != NCSN_OK) die("the guide");
            g.sigma_min = v->guide_lo;
            o.callback = count_levels;
            o.callback_user = &levels;
            st = ncsn_sample_inpaint_resample(ncsn_score_guided, &g, PIX, ms->sig, L, &o, &v->rs, &rng, img, mask, x, n);
            if (v->kind != 'g') printf("sweep: %s: %ld levels run (%d without resampling)\n", spec, levels, L);
            ncsn_guide_free(&g);
        } else st = sample_split(ms, L, &o, v->T_hi, v->split, &rng, img, mask, x, n);
        if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) die("inpainting");
        if (v->kind != 'i') restore_known(x, img, mask, (size_t)n * PIX);
        agree = agreement(cl, x, lab, n, lg, work, &lost);
        if (strchr("gh", v->kind)) printf("sweep: %s: guidance at sigma >= %g\n", spec, (double)v->guide_lo);
        printf("sweep: %s: L %d (to %.4f) eps %.4g: lower-half agreement %.3f (%d of %d from test image %d, %d non-finite; the classifier on these originals %.3f), %.0f s\n",
               spec, L, (double)ms->sig[L - 1], (double)o.eps, (double)agree / n, agree, n, v->first, lost, clf_accuracy(cl, img, lab, n, work), now() - t0);
        free(lg); free(mask);
    }
    free(x);
}

/* a classifier setting for the sweep (clf_epochs=N, clf_width=W1, clf_width2=W2, clf_decay=0|1),
   threads=N (the networks' threads; 2 unless given, the same bits at any count), or guide_lo=S
   (guidance of the g and h variants after it only at sigma >= S; 0, every level, unless given,
   as those variants were measured before images eval stopped at 0.15): 1
   when a was one and was read into c, 0 when a is not one, -1 when it is but its value is bad */
static int clf_override(const char *a, run_cfg *c)
{
    static const char *const key[] = { "clf_epochs=", "clf_width=", "clf_width2=", "clf_decay=", "threads=" };
    static const long hi[] = { 1000, 4096, 4096, 1, 64 };
    int *dst[5], k;
    if (!strncmp(a, "guide_lo=", 9)) return field_float(a + 9, &c->guide_lo) && c->guide_lo >= 0.0f ? 1 : -1;
    dst[0] = &c->clf_epochs; dst[1] = &c->clf_w1; dst[2] = &c->clf_w2; dst[3] = &c->clf_decay; dst[4] = &c->threads;
    for (k = 0; k < 5; k++)
        if (!strncmp(a, key[k], strlen(key[k]))) return field_long(a + strlen(key[k]), k == 3 ? 0 : 1, hi[k], dst[k]) ? 1 : -1;
    return 0;
}

/* every VARIANT is read and checked before the classifier trains (a typo in the last one must not
   cost the hour the others take); clf_* settings (clf_override) change the classifier */
static int cmd_sweep(int argc, char **argv, run_cfg *c)
{
    fmnist tr, te;
    model_set ms;
    clf cl;
    ncsn_rng rng;
    int i, m = 1000, nv = 0;
    double med;
    float *work, *gs;
    variant *v = (variant *)xmalloc(sizeof(variant) * (size_t)argc);
    load_set(&tr, argv[2], "train");
    load_set(&te, argv[2], "t10k");
    c->guide_lo = 0.0f;
    for (i = 4; i < argc; i++)
        if (strchr(argv[i], '=')) {
            if (clf_override(argv[i], c) != 1) { fprintf(stderr, "images: sweep: bad setting '%s'\n", argv[i]); return 2; }
            v[i].kind = '=';
        } else if (argv[i][0] != '-') {
            if (!parse_variant(argv[i], &v[i], c->hold, te.n)) return 2;
            v[i].guide_lo = c->guide_lo;
            nv++;
        }
        else if (i != argc - 1 || size_flag(argv[i]) <= 0) { fprintf(stderr, "images: sweep: '%s': only --quick or --medium, and last\n", argv[i]); return 2; }
    if (!nv) { fprintf(stderr, "images: sweep: no VARIANT\n"); return 2; }
    work = (float *)xmalloc(sizeof(float) * 512 * PIX);
    gs = (float *)xmalloc(sizeof(float) * (size_t)m * PIX);
    load_model(&ms, argv[3], 0.0f, c->threads);
    clf_train(&cl, tr.x, tr.y, c->n_train, c, work);
    printf("images: classifier test accuracy %.4f\n", clf_accuracy(&cl, te.x, te.y, te.n, work));
    ncsn_rng_seed(&rng, 15, 2);
    gaussian_samples(tr.x, c->n_train, gs, m, &rng);
    med = test_nn_median(te.x, 500, &tr, c->n_train);
    printf("images: test images' median nearest training distance %.3f (500 of them)\n", med);
    for (i = 4; i < argc; i++)
        if (argv[i][0] != '-' && v[i].kind != '=') sweep_one(&ms, &cl, argv[i], &v[i], &tr, c->n_train, med, &te, tr.x + (size_t)(tr.n - c->hold) * PIX, c->hold, gs, work);
    free(v);
    return 0;
}

/* `images train DATA MODEL [steps=N] [width=W] [decay=0|1] [--quick|--medium]`: a training variant
   of config()'s recipe (docs/images.md's recipe tables); 0 when every extra argument was read */
static int train_overrides(int argc, char **argv, run_cfg *c)
{
    int i;
    for (i = 4; i < argc; i++) {
        const char *a = argv[i];
        int v = 0;
        if (i == argc - 1 && size_flag(a) > 0) break;
        if (!strncmp(a, "steps=", 6) && field_long(a + 6, 1, 1000000, &v)) c->steps = v;
        else if (!strncmp(a, "width=", 6) && field_long(a + 6, 1, 4096, &v)) c->width = v;
        else if (!strncmp(a, "decay=", 6) && field_long(a + 6, 0, 1, &v)) c->lr_decay = v;
        else {
            fprintf(stderr, "images: train: bad argument '%s' (steps=N, width=W, decay=0|1, then only --quick or --medium)\n", a);
            return 2;
        }
    }
    return 0;
}

/* train-trainer and eval take no variant arguments: at most the size flag after their operands */
static int only_size_flag(int argc, char **argv, int operands)
{
    if (argc == operands || (argc == operands + 1 && size_flag(argv[operands]) > 0)) return 0;
    fprintf(stderr, "images: %s: unexpected argument '%s' (only --quick or --medium may follow)\n", argv[1], argv[operands]);
    return 2;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && size_flag(argv[argc - 1]) > 0 ? size_flag(argv[argc - 1]) : 0;
    run_cfg c = config(quick);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 4 && strcmp(argv[1], "train") == 0) return train_overrides(argc, argv, &c) ? 2 : cmd_train(argv[2], argv[3], &c, 1);
    if (argc >= 4 && strcmp(argv[1], "train-trainer") == 0) return only_size_flag(argc, argv, 4) ? 2 : cmd_train(argv[2], argv[3], &c, 0);
    if (argc >= 5 && strcmp(argv[1], "sweep") == 0) return cmd_sweep(argc, argv, &c);
    if (argc >= 5 && strcmp(argv[1], "eval") == 0) return only_size_flag(argc, argv, 5) ? 2 : cmd_eval(argv[2], argv[3], argv[4], &c);
    fprintf(stderr, "usage: images train DATA MODEL [steps=N] [width=W] [decay=0|1] [--quick|--medium] | images train-trainer DATA MODEL [--quick|--medium]"
                    " (the recipe's size only) | images eval DATA MODEL OUT [--quick|--medium] | images sweep DATA MODEL [clf_*=N...] [threads=N] VARIANT... [--quick|--medium]\n");
    return 2;
}
