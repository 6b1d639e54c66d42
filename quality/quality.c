/* quality.c - the measurements behind `make quality` (docs/quality.md): data sets, and the table
   row of one trained model. The training and sampling themselves are the CLI's (quality/run.sh),
   with its defaults; `tune` does the same in-process for measuring a change of the defaults.

     quality gen SET OUT.csv [N] [SEED]     a synthetic set (two_gaussians swiss_roll toy ring8 aniso3;
                                            N = 50 000 points unless given)
     quality data SET SAMPLES.csv|- [N] [SEED]  the set gen writes, against the truth as eval measures
                                            samples (a mixture's mode weights and widths; the Swiss
                                            roll's mass along the roll), the samples beside it
     quality eval SET DATA.csv SAMPLES.csv MODEL N_REQUESTED TRAIN_SECONDS
                                            one Markdown row: SET is a synthetic name or real:NAME
     quality tune SET DATA.csv [steps=S batch=B lr=X decay=0|1 depth=K width=W ema=R T=T std=0|1 threads=N seed=S sseed=S
                                net=D precond=0|1 out=SAMPLES.csv model=MODEL]   net=D: ncsn_config_default(D); width= after it;
                                            precond=1 / 0: as ncsn train --output-form precond / scaled
                                            (precond=0 steps=5000: 0.4.0's model above 16 dimensions; in any order)
                                            train, sample and evaluate in-process (for tuning)
                                levels=L (2..1000) or ratio=G (1 < G <= 64): L geometric levels, or the
                                            fewest of ratio at most G, between the recipe's sigma_1 and
                                            sigma_L, for training and sampling (default: the recipe's,
                                            ncsn_level_ratio; docs/quality.md, number of levels in 2-D);
                                slevels=S: sampling alone on S geometric levels between the same ends
                                stf=0|1|-1: the stable target field (ncsn_train_opts.stable_target, ncsn
                                            train --[no-]stable-target; default the recipe's -1, on
                                            with more points than a batch; docs/quality.md)
     quality grid SAMPLES.csv OUT.dat       100 digits samples as a 10 x 10 image for gnuplot
     quality denoise MODEL DATA.csv         per level, the share of the noise the model's denoiser leaves
     quality nearest DATA.csv SAMPLES.csv [N]  the first N samples' (2000) distances to their nearest
                                            data point, beside the data's own nearest-neighbour distances
     quality exact SET DATA.csv MODEL N     the row of the sampler run with the mixture's exact score
     quality mix SET DATA.csv MODEL N [above=S below=S drop=K T=T epsf=F lm=0|1 denoise=F sseed=S fine=M finesig=S
                                       tlow=K lowsig=S lowepsf=F pred=0|1|2 slevels=S emp=0|1 out=F.csv]
                                            the model's sampler with the exact score where sigma >= above
                                            or < below, the last K levels left out, T steps per level,
                                            eps = F sigma_L^2 (default: the recipe's), lm=0 SONG's
                                            noise, lm=1 SONG_LM's (default: the recipe's form),
                                            the final step x + F sigma_L^2 s (exact: above=0 by default),
                                            the sampler's fine_factor and fine_sigma, K steps per level
                                            at F times the step below sigma = S (tlow= needs lowsig=,
                                            a level on each side of it), the sampler's predictor
                                            (0 none, 1 ancestral, 2 ode), sampling on S geometric
                                            levels between the model's ends, the samples to F.csv;
                                            emp=1: the "exact" score is the training set's own
                                            (DATA.csv as equal point masses), for any set (slow: n
                                            components per chain and step)
     quality header                         the table's header */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "../tools/common.h"   /* now(): wall-clock seconds */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>
#include <math.h>
#include <time.h>
#include <errno.h>
#include <limits.h>

#define Q_MAXK 8
#define Q_MAXD 3
#define Q_SAMPLES 2000   /* fresh points for the synthetic sets, and the block of samples their energy distance uses */
#define Q_MIX_SAMPLES 10000   /* samples of a synthetic set: a mixture's per-mode widths to +-2 % (docs/quality.md) */
#define Q_REAL_BLOCKS 10      /* samples of a real set: 10 times its size, 10 blocks against the data */
#define Q_PAIRS 10       /* fresh pairs averaged for the floor, draws for the fitted Gaussian */
/* training points per synthetic set: at 5000 the ring's draw was itself 7.4 % off the truth in one
   mode's width, most of the +-10 % the table tests; at 50 000 no width is off by more than 1.5 %,
   so a miss is the model's (docs/quality.md). The training's cost does not depend on it. */
#define Q_TRAIN_N 50000

typedef struct qset {
    const char *name;
    int dim, K, n;                              /* K = 0: not a mixture (the Swiss roll) */
    float w[Q_MAXK], mu[Q_MAXK * Q_MAXD], sd[Q_MAXK * Q_MAXD];
} qset;

static qset q_sets[5];

static void q_init_sets(void)
{
    static const float aniso_mu[9] = { -4, 0, 0, 4, 0, 0, 0, 4, 2 }, aniso_sd[9] = { 1.0f, 0.2f, 0.4f, 0.25f, 0.8f, 0.3f, 0.5f, 0.3f, 0.2f };
    qset *s = q_sets;
    int k;
    memset(q_sets, 0, sizeof q_sets);
    s[0].name = "two_gaussians"; s[0].dim = 2; s[0].K = 2; s[0].n = Q_TRAIN_N;   /* seed 000 */
    s[0].w[0] = s[0].w[1] = 0.5f; s[0].mu[0] = -3; s[0].mu[2] = 3;
    for (k = 0; k < 4; k++) s[0].sd[k] = 0.5f;
    s[1].name = "swiss_roll"; s[1].dim = 2; s[1].K = 0; s[1].n = Q_TRAIN_N;      /* seed 001 */
    s[2].name = "toy"; s[2].dim = 2; s[2].K = 2; s[2].n = Q_TRAIN_N;             /* Song & Ermon's 1/5 : 4/5 */
    s[2].w[0] = 0.2f; s[2].w[1] = 0.8f; s[2].mu[0] = s[2].mu[1] = -5; s[2].mu[2] = s[2].mu[3] = 5;
    for (k = 0; k < 4; k++) s[2].sd[k] = 1.0f;
    s[3].name = "ring8"; s[3].dim = 2; s[3].K = 8; s[3].n = Q_TRAIN_N;           /* 8 Gaussians on a circle of radius 5 */
    for (k = 0; k < 8; k++) {
        s[3].w[k] = 0.125f;
        s[3].mu[2 * k] = (float)(5.0 * ncsn_cospi(k / 4.0));
        s[3].mu[2 * k + 1] = (float)(5.0 * ncsn_sinpi(k / 4.0));
        s[3].sd[2 * k] = s[3].sd[2 * k + 1] = 0.5f;
    }
    s[4].name = "aniso3"; s[4].dim = 3; s[4].K = 3; s[4].n = Q_TRAIN_N;         /* 3-D, axes from 0.2 to 1 */
    s[4].w[0] = 0.5f; s[4].w[1] = 0.3f; s[4].w[2] = 0.2f;
    memcpy(s[4].mu, aniso_mu, sizeof aniso_mu);
    memcpy(s[4].sd, aniso_sd, sizeof aniso_sd);
}

static const qset *q_find(const char *name)
{
    int i;
    for (i = 0; i < 5; i++)
        if (strcmp(q_sets[i].name, name) == 0) return &q_sets[i];
    return NULL;
}

/* n points of set s from rng (the Swiss roll: one draw, as ncsn_data_swiss_roll standardises each) */
static void q_draw(const qset *s, ncsn_rng *rng, float *out, int n)
{
    float var[Q_MAXK * Q_MAXD];
    ncsn_gmm g;
    int i;
    if (!s->K) { ncsn_data_swiss_roll(rng, out, n); return; }
    for (i = 0; i < s->K * s->dim; i++) var[i] = s->sd[i] * s->sd[i];
    g.K = s->K; g.dim = s->dim; g.weights = s->w; g.means = s->mu; g.vars = var;
    ncsn_gmm_sample(&g, rng, out, NULL, n);
}

static int q_write_csv(const char *path, const float *x, int n, int dim)
{
    FILE *fp = fopen(path, "w");
    int i, d;
    if (!fp) { perror(path); return 1; }
    for (i = 0; i < n; i++)
        for (d = 0; d < dim; d++) fprintf(fp, d + 1 < dim ? "%.9g," : "%.9g\n", (double)x[(size_t)i * dim + d]);
    return fclose(fp) != 0;
}

typedef struct qrow {
    int n_ok, n_req, diverged;
    double ed, floor_ed, gauss_ed, w_err, sd_err, score_err, train_s;
    char levels[512], modes[512];
} qrow;

/* the mean distance between two different points of x[n] (U-statistic) */
static double q_mean_dist(const float *x, int n, int dim)
{
    double tot = 0.0;
    int i, j, d;
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++) {
            double q = 0.0;
            for (d = 0; d < dim; d++) q += ((double)x[(size_t)i * dim + d] - x[(size_t)j * dim + d]) * ((double)x[(size_t)i * dim + d] - x[(size_t)j * dim + d]);
            tot += sqrt(q);
        }
    return n > 1 ? tot / (0.5 * (double)n * (n - 1)) : 0.0;
}

/* energy distances: samples vs fresh data, fresh vs fresh (the floor), fitted Gaussian vs fresh.
   Real sets have no fresh data: the floor is what independent draws from the data's own
   distribution give against the data, in expectation. The V-statistic of two independent sets
   of sizes p and q from one distribution has E = delta (1/p + 1/q), delta = E|X - X'|, estimated
   by the data's mean distance between different points. */
static void q_energy(const qset *s, const float *data, int n, int dim, const float *x, int n_ok, qrow *r)
{
    int m = s ? Q_SAMPLES : n, k, blk;
    /* the samples in blocks of m (Q_SAMPLES, or the data's n for a real set), their distances
       averaged: the floor is for m against m, and one block's ratio to it varies 1.0 - 2.3
       (docs/quality.md); the mean has the same expectation with less spread */
    int blocks = n_ok >= m ? n_ok / m : 1, len = n_ok >= m ? m : n_ok;
    float *a = (float *)malloc(sizeof(float) * (size_t)m * dim), *b = (float *)malloc(sizeof(float) * (size_t)m * dim);
    ncsn_rng rng;
    ncsn_rng_seed(&rng, 777, 1);
    r->ed = r->floor_ed = r->gauss_ed = 0.0;
    for (k = 0; k < Q_PAIRS; k++) {
        if (s) {
            float *big = (float *)malloc(sizeof(float) * 2 * (size_t)m * dim);
            q_draw(s, &rng, big, 2 * m);   /* one draw split in two (the Swiss roll's own standardisation) */
            memcpy(a, big, sizeof(float) * (size_t)m * dim);
            memcpy(b, big + (size_t)m * dim, sizeof(float) * (size_t)m * dim);
            free(big);
            r->floor_ed += ncsn_energy_distance(a, m, b, m, dim) / Q_PAIRS;
        } else memcpy(a, data, sizeof(float) * (size_t)n * dim);
        for (blk = 0; blk < blocks && (k == 0 || s); blk++)
            r->ed += ncsn_energy_distance(x + (size_t)blk * len * dim, len, a, m, dim) / ((s ? Q_PAIRS : 1) * blocks);
        gauss_draw(data, n, dim, &rng, b, m);
        r->gauss_ed += ncsn_energy_distance(b, m, a, m, dim) / Q_PAIRS;
    }
    if (!s) r->floor_ed = q_mean_dist(data, n, dim) * (1.0 / len + 1.0 / n);
    free(a); free(b);
}

/* each of x[n] assigned to its most likely component of the true mixture: per mode its count
   cnt[k] and per axis its standard deviation over the truth's, minus 1, in e[k * dim + d] */
static void q_mode_stats(const qset *s, const float *x, int n, double *cnt, double *e)
{
    double m1[Q_MAXK * Q_MAXD] = { 0 }, m2[Q_MAXK * Q_MAXD] = { 0 };
    int i, k, d;
    for (k = 0; k < s->K; k++) cnt[k] = 0.0;
    for (i = 0; i < n; i++) {
        double best = -1e300;
        int kb = 0;
        for (k = 0; k < s->K; k++) {
            double lp = log(s->w[k]);
            for (d = 0; d < s->dim; d++) {
                double t = (x[(size_t)i * s->dim + d] - s->mu[k * s->dim + d]) / s->sd[k * s->dim + d];
                lp -= 0.5 * t * t + log(s->sd[k * s->dim + d]);
            }
            if (lp > best) { best = lp; kb = k; }
        }
        cnt[kb]++;
        for (d = 0; d < s->dim; d++) {
            m1[kb * s->dim + d] += x[(size_t)i * s->dim + d];
            m2[kb * s->dim + d] += (double)x[(size_t)i * s->dim + d] * x[(size_t)i * s->dim + d];
        }
    }
    for (k = 0; k < s->K; k++)
        for (d = 0; d < s->dim; d++) {
            double mean = cnt[k] > 0 ? m1[k * s->dim + d] / cnt[k] : 0.0, var = cnt[k] > 0 ? m2[k * s->dim + d] / cnt[k] - mean * mean : 0.0;
            e[k * s->dim + d] = sqrt(var > 0 ? var : 0) / s->sd[k * s->dim + d] - 1.0;
        }
}

/* the worst |weight - truth| and worst |sd/truth - 1| over the modes of q_mode_stats */
/* the worse of a running worst and a new value; a NaN is the worst of all and stays (a plain v >
   worst would skip it, and a target would pass on a NaN) */
static double q_worse(double worst, double v)
{
    return isnan(worst) || v <= worst ? worst : v;
}

static void q_modes(const qset *s, const float *x, int n, qrow *r)
{
    double cnt[Q_MAXK], e[Q_MAXK * Q_MAXD];
    int k, d, len = 0;
    r->w_err = r->sd_err = 0.0;
    r->modes[0] = 0;
    q_mode_stats(s, x, n, cnt, e);
    for (k = 0; k < s->K; k++) {
        double w = cnt[k] / (n ? n : 1);
        r->w_err = q_worse(r->w_err, fabs(w - s->w[k]));
        len += snprintf(r->modes + len, sizeof r->modes - len, " w%.3f", w);
        for (d = 0; d < s->dim && cnt[k] > 1; d++) {
            r->sd_err = q_worse(r->sd_err, fabs(e[k * s->dim + d]));
            if (len < (int)sizeof r->modes - 16) len += snprintf(r->modes + len, sizeof r->modes - len, " %+.0f%%", 100.0 * e[k * s->dim + d]);
        }
        if (cnt[k] <= 1) r->sd_err = 1.0;
    }
}

/* the learned score against the exact one, per level, in the network's units: the mixture mapped
   by the standardisation, noisy training points x + sigma z; worst over sigma >= 0.05 */
static void q_score(const qset *s, ncsn_model *m, const ncsn_stdz *st, const float *sig, int L, const float *data, int n, qrow *r)
{
    float mu[Q_MAXK * Q_MAXD], var[Q_MAXK * Q_MAXD];
    int np = n < 2000 ? n : 2000, i, l, d, k, len = 0;
    float *x = (float *)malloc(sizeof(float) * (size_t)np * s->dim), *xt = (float *)malloc(sizeof(float) * (size_t)np * s->dim);
    float *se = (float *)malloc(sizeof(float) * (size_t)np * s->dim), *sn = (float *)malloc(sizeof(float) * (size_t)np * s->dim);
    ncsn_gmm g;
    ncsn_rng rng;
    ncsn_rng_seed(&rng, 778, 1);
    for (k = 0; k < s->K; k++)
        for (d = 0; d < s->dim; d++) {
            mu[k * s->dim + d] = (s->mu[k * s->dim + d] - st->loc[d]) / st->scale[d];
            var[k * s->dim + d] = (s->sd[k * s->dim + d] / st->scale[d]) * (s->sd[k * s->dim + d] / st->scale[d]);
        }
    g.K = s->K; g.dim = s->dim; g.weights = s->w; g.means = mu; g.vars = var;
    memcpy(x, data, sizeof(float) * (size_t)np * s->dim);
    ncsn_stdz_apply(st, x, np);
    r->score_err = 0.0;
    r->levels[0] = 0;
    for (l = 0; l < L; l++) {
        double num = 0, den = 0, e;
        ncsn_rng_normals(&rng, xt, (size_t)np * s->dim);
        for (i = 0; i < np * s->dim; i++) xt[i] = fmaf(sig[l], xt[i], x[i]);
        ncsn_gmm_score(&g, se, xt, sig[l], np);
        ncsn_model_score(m, sn, xt, sig[l], np);
        for (i = 0; i < np; i++) {
            double a = 0, b = 0;
            for (d = 0; d < s->dim; d++) {
                a += (double)(sn[i * s->dim + d] - se[i * s->dim + d]) * (sn[i * s->dim + d] - se[i * s->dim + d]);
                b += (double)se[i * s->dim + d] * se[i * s->dim + d];
            }
            num += sqrt(a);
            den += sqrt(b);
        }
        e = num / den;
        if (sig[l] >= 0.05f) r->score_err = q_worse(r->score_err, e);
        if (len < (int)sizeof r->levels - 32) len += snprintf(r->levels + len, sizeof r->levels - len, " %.3g:%.3f", (double)sig[l], e);
    }
    free(x); free(xt); free(se); free(sn);
}

static void q_print_header(void)
{
    printf("| data set | n x D | diverged | energy dist. | floor | fitted Gaussian | ED/floor | ED/Gauss | weight err | std err | score err (sigma>=0.05) | train CPU s |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

static void q_print_row(const char *name, int n, int dim, const qrow *r)
{
    printf("| %s | %d x %d | %d of %d | %.5f | ", name, n, dim, r->diverged, r->n_req, r->ed);
    printf("%.5f | %.5f | %.2f | %.3f | ", r->floor_ed, r->gauss_ed, r->ed / r->floor_ed, r->ed / r->gauss_ed);
    if (r->w_err >= 0) printf("%.3f | %.1f %% | %.1f %% | ", r->w_err, 100 * r->sd_err, 100 * r->score_err);
    else printf("- | - | - | ");
    printf("%.1f |\n", r->train_s);
    if (r->levels[0]) printf("<!-- %s: score error per level (sigma:error):%s; modes (weight, std error per axis):%s -->\n", name, r->levels, r->modes);
    fflush(stdout);
}

/* one target into the verdict: appends "what value op limit" to out (cap bytes), counts a miss */
static void q_check(char *out, size_t cap, int *missed, const char *what, double v, double lim, int strict, const char *fmt)
{
    size_t len = strlen(out);
    int ok = strict ? v < lim : v <= lim;
    char val[32], bound[32];
    snprintf(val, sizeof val, fmt, v);
    snprintf(bound, sizeof bound, fmt, lim);
    if (!ok) (*missed)++;
    if (len < cap) snprintf(out + len, cap - len, "%s%s %s %s %s", len ? "; " : "", what, val, ok ? (strict ? "<" : "<=") : (strict ? ">=" : ">"), bound);
}

/* the real sets make quality runs, by the target the issue sets them: 1 Old Faithful and iris
   (ED/Gauss <= 1/3), 2 the digits (ED/Gauss < 1; the breast cancer table, which the issue did not
   name, is held to it), 0 a set with no target */
static int q_real_target(const char *name)
{
    static const char *const third[] = { "faithful", "faithful_std", "iris", "iris_std" };
    static const char *const below[] = { "digits", "digits_std", "breast_cancer" };
    size_t k;
    for (k = 0; k < sizeof third / sizeof *third; k++) if (!strcmp(name, third[k])) return 1;
    for (k = 0; k < sizeof below / sizeof *below; k++) if (!strcmp(name, below[k])) return 2;
    return 0;
}

/* the row against the targets (docs/quality.md, Targets): 0 diverged chains everywhere;
   mixtures: weights within 0.03, widths within 10 %, score error <= 15 % at sigma >= 0.05; 2-D
   sets: ED <= 1.5x the floor; Old Faithful and iris: ED/Gauss <= 1/3; the digits: ED/Gauss < 1.
   The training time is printed, not judged: CPU seconds on a shared machine measure the machine
   as much as the code. Prints one HTML comment make quality's summary reads ("targets met",
   "targets MISSED", or "no targets" for a real set it does not know); returns the misses. */
static int q_verdict(const qset *s, const char *name, int dim, const qrow *r)
{
    char out[512] = "";
    int missed = 0, real = s ? -1 : q_real_target(name);
    if (!real) {
        printf("<!-- %s: no targets for this set (docs/quality.md names them per set) -->\n", name);
        return 1;
    }
    q_check(out, sizeof out, &missed, "diverged", r->diverged, 0, 0, "%.0f");
    if (s && s->K) {
        q_check(out, sizeof out, &missed, "weight err", r->w_err, 0.03, 0, "%.4f");
        q_check(out, sizeof out, &missed, "std err", 100 * r->sd_err, 10, 0, "%.2f %%");
        q_check(out, sizeof out, &missed, "score err", 100 * r->score_err, 15, 0, "%.2f %%");
    }
    if (dim == 2) q_check(out, sizeof out, &missed, "ED/floor", r->ed / r->floor_ed, 1.5, 0, "%.3f");
    if (real == 1) q_check(out, sizeof out, &missed, "ED/Gauss", r->ed / r->gauss_ed, 1.0 / 3.0, 0, "%.4f");
    if (real == 2) q_check(out, sizeof out, &missed, "ED/Gauss", r->ed / r->gauss_ed, 1.0, 1, "%.4f");
    printf("<!-- %s: targets %s: %s -->\n", name, missed ? "MISSED" : "met", out);
    fflush(stdout);
    return missed;
}

/* `quality selftest`: q_verdict on made-up rows, each expected to meet or miss (run.sh runs it
   first: a verdict that cannot fail would make the summary worthless); 0 when all agree */
static int cmd_selftest(void)
{
    /* ED over a floor of 1; ED over the fitted Gaussian's = ed / gauss */
    static const struct { const char *set; int dim; double ed, gauss, w, sd, sc; int div, missed; } c[] = {
        { "ring8", 2, 1.14, 10, 0.005, 0.064, 0.038, 0, 0 },
        { "ring8", 2, 1.14, 10, 0.005, 0.119, 0.038, 0, 1 },   /* a width 11.9 % off */
        { "ring8", 2, 1.14, 10, 0.005, 0.064, NAN, 0, 1 },     /* a NaN score error */
        { "ring8", 2, 1.51, 10, 0.031, 0.064, 0.038, 2, 3 },   /* ED, weight, diverged */
        { "aniso3", 3, 9.0, 10, 0.005, 0.05, 0.05, 0, 0 },     /* no ED target in 3-D */
        { "real:faithful", 2, 0.66, 10, 0, 0, 0, 0, 0 },
        { "real:faithful", 2, 1.6, 4, 0, 0, 0, 0, 2 },         /* ED/floor 1.6, ED/Gauss 0.4 */
        { "real:iris_std", 4, 0.45, 1, 0, 0, 0, 0, 1 },        /* ED/Gauss 0.45 > 1/3 */
        { "real:digits", 64, 1.28, 2.3, 0, 0, 0, 0, 0 },
        { "real:digits", 64, 1.28, 1.28, 0, 0, 0, 0, 1 },      /* ED/Gauss 1: not below */
        { "real:digits8", 64, 1.28, 2.3, 0, 0, 0, 0, 1 },      /* not a set make quality knows */
    };
    size_t k;
    int bad = 0, worst_ok;
    for (k = 0; k < sizeof c / sizeof *c; k++) {
        const qset *s = strncmp(c[k].set, "real:", 5) ? q_find(c[k].set) : NULL;
        qrow r;
        int got;
        memset(&r, 0, sizeof r);
        r.ed = c[k].ed; r.floor_ed = 1.0; r.gauss_ed = c[k].gauss;
        r.w_err = c[k].w; r.sd_err = c[k].sd; r.score_err = c[k].sc; r.diverged = c[k].div;
        got = q_verdict(s, s ? c[k].set : c[k].set + 5, c[k].dim, &r);
        if (got != c[k].missed) { fprintf(stderr, "quality selftest: case %d (%s): %d targets missed, expected %d\n", (int)k, c[k].set, got, c[k].missed); bad++; }
    }
    /* the running worst of q_modes and q_score: a NaN level or mode must reach the verdict */
    worst_ok = isnan(q_worse(0.1, NAN)) && isnan(q_worse(NAN, 0.2)) && q_worse(0.1, 0.2) == 0.2 && q_worse(0.3, 0.2) == 0.3;
    if (!worst_ok) fprintf(stderr, "quality selftest: the running worst drops a NaN or a larger value\n");
    printf("quality selftest: %d of %d verdicts as expected; the running worst %s\n", (int)(sizeof c / sizeof *c) - bad,
           (int)(sizeof c / sizeof *c), worst_ok ? "keeps a NaN" : "is WRONG");
    return bad != 0 || !worst_ok;
}

/* everything but the training: the row of one model and its samples (x[n_ok] in user units) */
static int q_evaluate(const char *set, const float *data, int n, int dim, const float *x, int n_ok, int n_req, ncsn_model *m,
                      const ncsn_stdz *st, const float *sig, int L, double train_s)
{
    const qset *s = strncmp(set, "real:", 5) ? q_find(set) : NULL;
    qrow r;
    memset(&r, 0, sizeof r);
    r.n_ok = n_ok; r.n_req = n_req; r.diverged = n_req - n_ok; r.train_s = train_s; r.w_err = -1;
    if (!s && strncmp(set, "real:", 5)) { fprintf(stderr, "quality: unknown set '%s'\n", set); return 1; }
    if (s && s->dim != dim) { fprintf(stderr, "quality: %s has dimension %d, the data %d\n", set, s->dim, dim); return 1; }
    if (n_ok > n_req) { fprintf(stderr, "quality: %d samples but %d requested (N_REQUESTED counts the chains run)\n", n_ok, n_req); return 1; }
    q_energy(s, data, n, dim, x, n_ok, &r);
    if (s && s->K) {
        q_modes(s, x, n_ok, &r);
        q_score(s, m, st, sig, L, data, n, &r);
    }
    q_print_row(s ? set : set + 5, n, dim, &r);
    q_verdict(s, s ? set : set + 5, dim, &r);
    return 0;
}

static int q_load(const char *path, float **x, int *n, int *dim)
{
    if (ncsn_csv_load(path, NULL, x, n, dim, NULL, 0) != NCSN_OK) { fprintf(stderr, "quality: %s\n", ncsn_last_error()); return 1; }
    return 0;
}

/* a model file's network, levels and standardisation */
static int q_load_model(const char *path, int dim, ncsn_model **m, ncsn_stdz *st, float *sig, int *L)
{
    if (ncsn_checkpoint_load(m, path, NULL, NULL, sig, NCSN_MAX_LEVELS, L, NULL) != NCSN_OK || ncsn_stdz_load(st, path, dim) != NCSN_OK) {
        fprintf(stderr, "quality: %s\n", ncsn_last_error());
        return 1;
    }
    return 0;
}

static int cmd_eval(int argc, char **argv)
{
    float *data = NULL, *x = NULL, *sig = NULL;
    int n, dim, ns, ds, L = 0, rc = 1;
    ncsn_model *m = NULL;
    ncsn_stdz st;
    memset(&st, 0, sizeof st);
    if (argc < 6) { fprintf(stderr, "usage: quality eval SET DATA.csv SAMPLES.csv MODEL N_REQUESTED TRAIN_SECONDS\n"); return 1; }
    if (q_load(argv[1], &data, &n, &dim) || q_load(argv[2], &x, &ns, &ds)) goto out;
    if (ds != dim) { fprintf(stderr, "quality: samples have %d columns, data %d\n", ds, dim); goto out; }
    if (!(sig = (float *)malloc(sizeof(float) * NCSN_MAX_LEVELS))) goto out;
    if (q_load_model(argv[3], dim, &m, &st, sig, &L)) goto out;
    rc = q_evaluate(argv[0], data, n, dim, x, ns, atoi(argv[4]), m, &st, sig, L, atof(argv[5]));
out:
    ncsn_free(data); ncsn_free(x); free(sig);
    ncsn_model_free(m);
    ncsn_stdz_free(&st);
    return rc;
}

/* keep the rows not flagged (diverged) and finite (undo can overflow a finite row), in order;
   returns how many */
static int q_keep_rows(float *x, int n, int dim, const unsigned char *flag)
{
    int i, d, kept = 0;
    for (i = 0; i < n; i++) {
        const float *row = x + (size_t)i * dim;
        for (d = 0; d < dim && isfinite(row[d]); d++) {}
        if (!flag[i] && d == dim) { memmove(x + (size_t)kept * dim, row, sizeof(float) * dim); kept++; }
    }
    return kept;
}

/* KEY=NUMBER, the whole value a number: a typo must not run the default silently */
static int q_number(const char *arg, double *out)
{
    const char *v = strchr(arg, '=');
    char *e;
    if (v) *out = strtod(v + 1, &e);
    if (!v || e == v + 1 || *e) { fprintf(stderr, "quality: '%s' is not KEY=NUMBER\n", arg); return 1; }
    return 0;
}

/* cmd_tune's keys beyond the training options */
typedef struct qtune { int T, precond, levels, slevels; double ratio; uint64_t sseed; const char *out, *model; } qtune;

/* KEY=L with L a level count, an integer in [2, 1000] */
static int q_level_count(const char *arg, int *out)
{
    double v;
    if (q_number(arg, &v)) return 1;
    if (!(v >= 2.0 && v <= 1000.0) || v != floor(v)) { fprintf(stderr, "quality tune: %s: the count must be an integer in [2, 1000]\n", arg); return 1; }
    *out = (int)v;
    return 0;
}

/* levels=L / ratio=G, refused unless a number in range: a typo must not run the recipe's levels */
static int q_tune_levels(const char *arg, qtune *q)
{
    double v;
    if (arg[0] == 'l') {
        if (q_level_count(arg, &q->levels)) return 1;
    } else {
        if (q_number(arg, &v)) return 1;
        if (!(v > 1.0 && v <= 64.0)) { fprintf(stderr, "quality tune: ratio=%s must be in (1, 64]\n", arg + 6); return 1; }
        q->ratio = v;
    }
    if (q->levels && q->ratio > 0.0) { fprintf(stderr, "quality tune: levels= and ratio= set the same thing; give one\n"); return 1; }
    return 0;
}

/* the key=value arguments of cmd_tune into o (the recipe for the data's dimension) and q */
static int q_tune_parse(int argc, char **argv, int dim, ncsn_train_opts *o, qtune *q)
{
    int i;
    q->T = 0; q->precond = -1; q->levels = q->slevels = 0; q->ratio = 0.0; q->sseed = 1; q->out = q->model = NULL;   /* precond -1: the recipe's output form */
    for (i = 0; i < argc; i++) {
        const char *v = strchr(argv[i], '=');
        if (!v) continue;
        v++;
        if (!strncmp(argv[i], "steps=", 6)) o->steps = atol(v);
        else if (!strncmp(argv[i], "batch=", 6)) o->batch = atoi(v);
        else if (!strncmp(argv[i], "lr=", 3)) o->lr = (float)atof(v);
        else if (!strncmp(argv[i], "width=", 6)) { int k; for (k = 0; k < o->net.n_hidden; k++) o->net.hidden[k] = atoi(v); }
        else if (!strncmp(argv[i], "depth=", 6)) {   /* the new layers as wide as the last */
            int k, d = atoi(v);
            if (d < 1 || d > NCSN_MAX_HIDDEN) { fprintf(stderr, "quality tune: depth=%s must be in [1, %d]\n", v, NCSN_MAX_HIDDEN); return 1; }
            for (k = o->net.n_hidden; k < d; k++) o->net.hidden[k] = o->net.hidden[o->net.n_hidden - 1];
            o->net.n_hidden = d;
        }
        else if (!strncmp(argv[i], "ema=", 4)) o->ema_rate = (float)atof(v);
        else if (!strncmp(argv[i], "T=", 2)) q->T = atoi(v);
        else if (!strncmp(argv[i], "decay=", 6)) o->lr_decay_steps = atoi(v) ? -1 : 0;   /* -1: over the run, set below */
        else if (!strncmp(argv[i], "smin=", 5)) o->sigma_min = (float)atof(v);
        else if (!strncmp(argv[i], "std=", 4)) o->standardize = atoi(v);
        else if (!strncmp(argv[i], "seed=", 5)) o->seed = strtoull(v, NULL, 10);
        else if (!strncmp(argv[i], "sseed=", 6)) q->sseed = strtoull(v, NULL, 10);
        else if (!strncmp(argv[i], "threads=", 8)) o->threads = atoi(v);
        else if (!strncmp(argv[i], "net=", 4)) o->net = ncsn_config_default(atoi(v));   /* its width rule at dimension v */
        else if (!strncmp(argv[i], "precond=", 8)) {
            if (strcmp(v, "0") && strcmp(v, "1")) { fprintf(stderr, "quality tune: precond=%s must be 0 or 1\n", v); return 1; }
            q->precond = v[0] - '0';
        }
        else if (!strncmp(argv[i], "levels=", 7) || !strncmp(argv[i], "ratio=", 6)) { if (q_tune_levels(argv[i], q)) return 1; }
        else if (!strncmp(argv[i], "slevels=", 8)) {
            if (q_level_count(argv[i], &q->slevels)) return 1;
        }
        else if (!strncmp(argv[i], "out=", 4)) q->out = v;
        else if (!strncmp(argv[i], "model=", 6)) q->model = v;
        else if (!strncmp(argv[i], "stf=", 4)) o->stable_target = atoi(v);   /* 0, 1 or -1, else the trainer refuses it by name */
    }
    if (o->lr_decay_steps) o->lr_decay_steps = o->steps;   /* after steps= */
    /* precond=1 / 0 as ncsn train --output-form precond / scaled, after net= (hence the recipe's own form) */
    if (q->precond >= 0) set_output_form(o, q->precond ? 2 : 1, ncsn_train_defaults_for(dim).net.precond);
    o->levels = q->levels;   /* 0: the recipe's count (ncsn_levels_for at ncsn_level_ratio(dim)) */
    return 0;
}

/* the trainer of o; with ratio > 0 the fewest geometric levels of ratio at most `ratio` between the
   recipe's sigma_1 (known once a trainer has measured the data) and sigma_L, as the recipe counts
   its own at ncsn_level_ratio(dim) */
static int q_tune_trainer(ncsn_trainer **t, ncsn_train_opts *o, double ratio, const float *data, int n, int dim)
{
    if (ncsn_trainer_create(t, o, data, n, dim, NULL) != NCSN_OK) { fprintf(stderr, "quality: %s\n", ncsn_last_error()); return 1; }
    if (ratio <= 0.0) return 0;
    o->levels = ncsn_levels_for((double)(*t)->sigmas[0], (double)o->sigma_min, ratio);
    ncsn_trainer_free(*t);
    if (ncsn_trainer_create(t, o, data, n, dim, NULL) != NCSN_OK) { fprintf(stderr, "quality: %s\n", ncsn_last_error()); return 1; }
    return 0;
}

/* cmd_tune's samples: the recipe's sampler on the trained levels, or with slevels = S on S geometric
   levels between the same sigma_1 and sigma_L (the network is conditioned on sigma itself, so it
   can be asked between its training levels); the rows kept in x[*n_ok], the sampler's options in so */
static int q_tune_sample(ncsn_trainer *t, const qtune *q, int dim, float *x, int n_req, int *n_ok, ncsn_sampler_opts *so)
{
    int L = q->slevels ? q->slevels : t->L, bad = 0, rc = 1;
    float *sig = q->slevels ? (float *)malloc(sizeof(float) * (size_t)L) : t->sigmas;
    unsigned char *flag = (unsigned char *)malloc((size_t)n_req);
    ncsn_rng rng;
    if (!sig || !flag || (q->slevels && ncsn_schedule(sig, L, t->sigmas[0], t->sigmas[t->L - 1], NCSN_SCHEDULE_GEOMETRIC) != NCSN_OK)) {
        fprintf(stderr, "quality tune: out of memory or bad levels\n");
        goto out;
    }
    *so = ncsn_sampler_recipe_for(sig, L, q->T, dim);
    ncsn_rng_seed(&rng, q->sseed, 54);
    if (ncsn_sample_data(t->model, &t->stdz, sig, L, so, &rng, x, n_req, flag, &bad) != NCSN_OK) {
        fprintf(stderr, "quality: %s\n", ncsn_last_error());
        goto out;
    }
    *n_ok = q_keep_rows(x, n_req, dim, flag);
    rc = 0;
out:
    free(flag);
    if (q->slevels) free(sig);
    return rc;
}

/* in-process: the library's defaults (what the CLI uses), overridable as key=value; levels=L
   (or ratio=G) trains and samples on L geometric levels between the recipe's sigma_1 and sigma_L */
static int cmd_tune(int argc, char **argv)
{
    ncsn_train_opts o;
    ncsn_trainer *t = NULL;
    ncsn_sampler_opts so;
    float *data = NULL, *x;
    int n, dim, n_ok = 0, n_req, rc;
    double t0, ts;
    qtune q;
    clock_t c0;
    if (argc < 2 || q_load(argv[1], &data, &n, &dim)) return 1;
    o = ncsn_train_defaults_for(dim);
    if (q_tune_parse(argc - 2, argv + 2, dim, &o, &q)) { ncsn_free(data); return 1; }
    if (q_tune_trainer(&t, &o, q.ratio, data, n, dim)) return 1;
    fprintf(stderr, "tune %s: %d levels %g..%g, batch %d, %ld steps\n", argv[0], t->L, (double)t->sigmas[0], (double)t->sigmas[t->L - 1], t->batch, o.steps);
    t0 = now();
    c0 = clock();
    if (ncsn_trainer_run(t, o.steps, 0, NULL, NULL) != NCSN_OK) {
        fprintf(stderr, "quality: %s\n", ncsn_last_error());
        return 1;
    }
    ts = now() - t0;
    fprintf(stderr, "tune: training CPU %.1f s (all threads), wall %.1f s\n", (double)(clock() - c0) / CLOCKS_PER_SEC, ts);
    if (q.model && ncsn_trainer_save_model(t, q.model, NULL) != NCSN_OK) { fprintf(stderr, "quality: %s\n", ncsn_last_error()); return 1; }
    memcpy(t->model->params, ncsn_trainer_weights(t), sizeof(float) * t->model->n_params);   /* sample with the EMA weights */
    n_req = !strncmp(argv[0], "real:", 5) ? Q_REAL_BLOCKS * n : Q_MIX_SAMPLES;
    x = (float *)malloc(sizeof(float) * (size_t)n_req * dim);
    if (!x || q_tune_sample(t, &q, dim, x, n_req, &n_ok, &so)) return 1;
    fprintf(stderr, "tune: eps %g, T %d, train %.1f s, sample %.1f s\n", (double)so.eps, so.steps_per_level, ts, now() - t0 - ts);
    if (q.out && q_write_csv(q.out, x, n_ok, dim)) return 1;
    rc = q_evaluate(argv[0], data, n, dim, x, n_ok, n_req, t->model, &t->stdz, t->sigmas, t->L, ts);
    ncsn_trainer_free(t);
    ncsn_free(data);
    free(x);
    return rc;
}

/* The sampler alone, or in part: the recipe's annealed Langevin run on a saved model's levels with
   the mixture's exact score (mapped into the model's standardised units) where sigma >= above or
   sigma < below, the network elsewhere. `exact` is the exact score everywhere: what it misses is
   the sampler's, what eval misses beyond it the network's; a threshold between finds the levels
   where the network's error arises. `mix` varies the sampler too (docs/quality.md). */
typedef struct qmix { ncsn_model *m; const ncsn_gmm *g; float above, below; } qmix;
static ncsn_status q_mix_score(void *u, float *out, const float *x, float sigma, int n)
{
    const qmix *q = (const qmix *)u;
    if (q->g && (sigma >= q->above || sigma < q->below)) return ncsn_gmm_score(q->g, out, x, sigma, n);
    return ncsn_model_score(q->m, out, x, sigma, n);
}

/* options: above=S below=S (the exact score there), drop=K (the last K levels left out), T=T,
   epsf=F (eps = F sigma_L^2), lm=0|1 (SONG or SONG_LM; default the recipe's), denoise=F (the final step x + F sigma_L^2 s; 0: none), sseed=S,
   out=F.csv (the samples), fine=M finesig=S (the sampler's fine_factor and fine_sigma; default the recipe's),
   tlow=K lowsig=S lowepsf=F (K steps per level at F times the step at the levels sigma < S; 0: T everywhere) */
typedef struct qmix_opts { float above, below, F, epsf, finesig, lowsig, lowepsf; int drop, T, lm, fine, tlow, pred, slevels, emp; uint64_t sseed; const char *out; } qmix_opts;
static int q_mix_parse(int argc, char **argv, qmix_opts *o)
{
    int i;
    o->below = 0.0f; o->F = 1.0f; o->epsf = 0.0f; o->finesig = -1.0f; o->lowsig = 0.0f; o->lowepsf = 1.0f; o->tlow = o->pred = o->slevels = o->emp = 0; o->drop = o->T = 0; o->lm = o->fine = -1; o->sseed = 1; o->out = NULL;
    for (i = 0; i < argc; i++) {
        double v;
        if (!strncmp(argv[i], "sseed=", 6)) {
            char *e;
            o->sseed = strtoull(argv[i] + 6, &e, 10);
            if (e == argv[i] + 6 || *e) { fprintf(stderr, "quality: '%s' is not sseed=INTEGER\n", argv[i]); return 1; }
            continue;
        }
        if (!strncmp(argv[i], "out=", 4)) { o->out = argv[i] + 4; continue; }
        if (q_number(argv[i], &v)) return 1;
        if (!strncmp(argv[i], "above=", 6)) o->above = (float)v;
        else if (!strncmp(argv[i], "below=", 6)) o->below = (float)v;
        else if (!strncmp(argv[i], "drop=", 5)) o->drop = (int)v;
        else if (!strncmp(argv[i], "T=", 2)) o->T = (int)v;
        else if (!strncmp(argv[i], "denoise=", 8)) o->F = (float)v;
        else if (!strncmp(argv[i], "epsf=", 5)) o->epsf = (float)v;
        else if (!strncmp(argv[i], "lm=", 3)) o->lm = (int)v;
        else if (!strncmp(argv[i], "fine=", 5)) o->fine = (int)v;
        else if (!strncmp(argv[i], "finesig=", 8) && v >= 0.0) o->finesig = (float)v;
        else if (!strncmp(argv[i], "tlow=", 5) && v >= 0.0) o->tlow = (int)v;
        else if (!strncmp(argv[i], "lowsig=", 7) && v > 0.0) o->lowsig = (float)v;
        else if (!strncmp(argv[i], "lowepsf=", 8) && v > 0.0) o->lowepsf = (float)v;
        else if (!strncmp(argv[i], "pred=", 5) && (v == 0.0 || v == 1.0 || v == 2.0)) o->pred = (int)v;
        else if (!strncmp(argv[i], "emp=", 4) && (v == 0.0 || v == 1.0)) o->emp = (int)v;
        else if (!strncmp(argv[i], "slevels=", 8) && v >= 2.0 && v <= NCSN_MAX_LEVELS) o->slevels = (int)v;
        else { fprintf(stderr, "quality mix: unknown option or negative value '%s' (above= below= drop= T= epsf= lm= denoise= sseed= out= fine= finesig= tlow= lowsig= lowepsf= pred=0|1|2 slevels=S emp=0|1)\n", argv[i]); return 1; }
    }
    /* each without the others would run the default silently */
    if (o->tlow > 0 && o->lowsig == 0.0f) { fprintf(stderr, "quality mix: tlow= needs lowsig=\n"); return 1; }
    if (o->tlow == 0 && (o->lowsig > 0.0f || o->lowepsf != 1.0f)) { fprintf(stderr, "quality mix: lowsig= and lowepsf= need tlow= > 0\n"); return 1; }
    if (o->tlow > 0 && o->pred) { fprintf(stderr, "quality mix: pred= with tlow= would miss the predictor between the two runs\n"); return 1; }
    return 0;
}

/* the annealed run of q_mix_run; with tlow > 0 the levels sigma < lowsig take tlow steps at lowepsf
   times the step (two runs: with SONG's noise the same a_i up to rounding, as the first run's eps is
   rescaled; SONG_LM restarts its pairing there) */
static int q_mix_anneal(qmix *q, const qmix_opts *o, const ncsn_sampler_opts *so, const float *sig, int L, int dim,
                        ncsn_rng *rng, float *x, int n)
{
    ncsn_sampler_opts a = *so, b = *so;
    ncsn_status sst = NCSN_OK;
    float sl = sig[L - 1];
    int K = 0;
    while (K < L && sig[K] >= o->lowsig) K++;
    if (o->tlow > 0 && (K == 0 || K == L)) {   /* no level on one side: tlow would do nothing */
        fprintf(stderr, "quality mix: lowsig=%g leaves no level on one side (levels %g..%g)\n", (double)o->lowsig, (double)sig[0], (double)sl);
        return 1;
    }
    if (o->tlow > 0) {
        a.eps = so->eps * ((sig[K - 1] / sl) * (sig[K - 1] / sl));   /* the same a_i with sig[K - 1] as the run's last level */
        b.init = NCSN_INIT_GIVEN; b.steps_per_level = o->tlow; b.eps = so->eps * o->lowepsf;
        sst = ncsn_sample_annealed(q_mix_score, q, dim, sig, K, &a, rng, x, n);
        if (sst == NCSN_OK || sst == NCSN_ERR_NONFINITE) sst = ncsn_sample_annealed(q_mix_score, q, dim, sig + K, L - K, &b, rng, x, n);
    } else sst = ncsn_sample_annealed(q_mix_score, q, dim, sig, L, so, rng, x, n);
    if (sst != NCSN_OK && sst != NCSN_ERR_NONFINITE) { fprintf(stderr, "quality: %s\n", ncsn_last_error()); return 1; }
    return 0;
}

/* the annealed run of cmd_mix over L levels, then the final step with F; a chain that left the
   finite numbers is flagged by the caller as diverged, as ncsn_sample_data does */
static int q_mix_run(qmix *q, const qmix_opts *o, const float *sig, int L, int dim, float *x, float *sc, int n)
{
    ncsn_sampler_opts so = ncsn_sampler_recipe_for(sig, L, o->T, dim);   /* eps from the last level used */
    ncsn_rng rng;
    float sl = sig[L - 1];
    size_t j;
    so.denoise_final = 0;
    if (o->epsf > 0.0f) so.eps = o->epsf * sl * sl;
    if (o->lm >= 0) so.form = o->lm ? NCSN_LANGEVIN_SONG_LM : NCSN_LANGEVIN_SONG;
    if (o->fine >= 0) so.fine_factor = o->fine;
    if (o->finesig >= 0.0f) so.fine_sigma = o->finesig;
    so.predictor = o->pred;   /* 0 none, 1 ancestral, 2 ode */
    ncsn_rng_seed(&rng, o->sseed, 54);
    if (q_mix_anneal(q, o, &so, sig, L, dim, &rng, x, n)) return 1;
    if (o->F == 0.0f) return 0;
    if (q_mix_score(q, sc, x, sl, n) != NCSN_OK) { fprintf(stderr, "quality: the final step: %s\n", ncsn_last_error()); return 1; }
    for (j = 0; j < (size_t)n * dim; j++) x[j] = fmaf(o->F * sl * sl, sc[j], x[j]);
    return 0;
}

/* emp=1: the training set itself as the mixture, n equal point masses in the model's standardised
   units: its noised density's score is what denoising score matching converges to on that set, so
   the sampler with it shows the sampler's own bias on data without a closed form (the Swiss roll).
   One allocation holds the weights, the means and the zero variances; NULL when out of memory. */
static float *q_empirical(ncsn_gmm *g, const float *data, int n, int dim, const ncsn_stdz *st)
{
    size_t nd = (size_t)n * dim, i;
    float *buf = (float *)malloc(sizeof(float) * (n + 2 * nd));
    if (!buf) { fprintf(stderr, "quality mix: emp=1: out of memory for %d points\n", n); return NULL; }
    for (i = 0; i < (size_t)n; i++) buf[i] = 1.0f / (float)n;
    for (i = 0; i < nd; i++) {
        buf[n + i] = (data[i] - st->loc[i % dim]) / st->scale[i % dim];
        buf[n + nd + i] = 0.0f;
    }
    g->K = n; g->dim = dim; g->weights = buf; g->means = buf + n; g->vars = buf + n + nd;
    return buf;
}

static int cmd_mix(const char *set, const char *data_csv, const char *model, int n_req, int argc, char **argv, float above)
{
    const qset *s = q_find(set);
    float *data = NULL, *sig = NULL, *x = NULL, *sc = NULL, mu[Q_MAXK * Q_MAXD], var[Q_MAXK * Q_MAXD];
    int n, dim, L = 0, k, d, rc = 1, n_ok = 0;
    unsigned char *flag = NULL;
    float *emp = NULL;
    ncsn_model *m = NULL;
    ncsn_stdz st;
    ncsn_gmm g;
    qmix_opts o;
    qmix q;
    memset(&st, 0, sizeof st);
    o.above = above;
    if (q_mix_parse(argc, argv, &o)) return 1;
    q.above = o.above; q.below = o.below;
    if ((!s && strncmp(set, "real:", 5)) || n_req < 1) { fprintf(stderr, "quality mix: a set and N >= 1\n"); return 1; }
    if (q_load(data_csv, &data, &n, &dim) || !(sig = (float *)malloc(sizeof(float) * NCSN_MAX_LEVELS))) goto out;
    if (q_load_model(model, dim, &m, &st, sig, &L)) goto out;
    if (o.drop < 0 || o.drop > L - 1) { fprintf(stderr, "quality mix: drop=%d with %d levels\n", o.drop, L); goto out; }
    if (s && s->dim != dim) { fprintf(stderr, "quality mix: %s has dimension %d, the data %d\n", set, s->dim, dim); goto out; }
    if ((q.above < FLT_MAX || q.below > 0.0f) && !(s && s->K) && !o.emp) { fprintf(stderr, "quality mix: %s has no exact score (exact, above=, below= need a mixture)\n", set); goto out; }
    q.m = m; q.g = NULL;
    if (s && s->K) {
        for (k = 0; k < s->K; k++)
            for (d = 0; d < dim; d++) {
                mu[k * dim + d] = (s->mu[k * dim + d] - st.loc[d]) / st.scale[d];
                var[k * dim + d] = (s->sd[k * dim + d] / st.scale[d]) * (s->sd[k * dim + d] / st.scale[d]);
            }
        g.K = s->K; g.dim = dim; g.weights = s->w; g.means = mu; g.vars = var;
        q.g = &g;
    }
    if (o.emp && !(emp = q_empirical(&g, data, n, dim, &st))) goto out;
    if (o.emp) q.g = &g;
    x = (float *)malloc(sizeof(float) * (size_t)n_req * dim);
    sc = (float *)malloc(sizeof(float) * (size_t)n_req * dim);
    flag = (unsigned char *)malloc((size_t)n_req);
    if (!x || !sc || !flag) { fprintf(stderr, "quality mix: out of memory for %d samples\n", n_req); goto out; }
    if (o.slevels) {   /* sampling alone on slevels geometric levels between the model's ends (after drop) */
        float *ss = (float *)malloc(sizeof(float) * (size_t)o.slevels);
        int bad = !ss || ncsn_schedule(ss, o.slevels, sig[0], sig[L - 1 - o.drop], NCSN_SCHEDULE_GEOMETRIC) != NCSN_OK;
        if (bad) fprintf(stderr, "quality mix: slevels=%d: %s\n", o.slevels, ss ? ncsn_last_error() : "out of memory");
        bad = bad || q_mix_run(&q, &o, ss, o.slevels, dim, x, sc, n_req);
        free(ss);
        if (bad) goto out;
    } else if (q_mix_run(&q, &o, sig, L - o.drop, dim, x, sc, n_req)) goto out;
    ncsn_diverged(&st, sig[0], x, n_req, flag);
    ncsn_stdz_undo(&st, x, n_req);
    n_ok = q_keep_rows(x, n_req, dim, flag);
    if (o.out && q_write_csv(o.out, x, n_ok, dim)) goto out;
    rc = q_evaluate(set, data, n, dim, x, n_ok, n_req, m, &st, sig, L, 0.0);
out:
    ncsn_free(data); free(sig); free(x); free(sc); free(flag); free(emp);
    ncsn_model_free(m); ncsn_stdz_free(&st);
    return rc;
}

/* distance (the file's units) from each of the first `count` rows of x to its nearest row of data,
   sorted into d; is_data: x is data, and a row is not its own nearest (tools/common.h's nearest_dists
   with every row its own index). 1 when out of memory. */
static int q_nearest(const float *data, int n, int dim, const float *x, int count, int is_data, double *d)
{
    int *self = is_data ? (int *)malloc(sizeof(int) * (size_t)count) : NULL, i;
    if (is_data && !self) return 1;
    for (i = 0; is_data && i < count; i++) self[i] = i;
    nearest_dists(data, n, dim, x, count, self, d, NULL);
    free(self);
    return 0;
}

/* How much of the noise the model removes, per level, on data without an exact score: the
   denoiser x^ = x~ + sigma^2 s(x~, sigma) (Tweedie) at 2000 noisy training points, in network
   units; prints sigma, E|x^ - x|^2 / E|x~ - x|^2 (1: nothing removed, 0: all) and the data's
   median nearest-neighbour distance (below it an ideal denoiser finds the training point). */
static int cmd_denoise(const char *model, const char *data_csv)
{
    float *data = NULL, *sig = NULL, *x, *xt, *sc;
    int n, dim, L = 0, np, i, l;
    ncsn_model *m = NULL;
    ncsn_stdz st;
    ncsn_rng rng;
    double *nn;
    if (q_load(data_csv, &data, &n, &dim) || !(sig = (float *)malloc(sizeof(float) * NCSN_MAX_LEVELS))) return 1;
    if (q_load_model(model, dim, &m, &st, sig, &L)) return 1;
    np = n < 2000 ? n : 2000;
    x = (float *)malloc(sizeof(float) * (size_t)n * dim); xt = (float *)malloc(sizeof(float) * (size_t)np * dim);
    sc = (float *)malloc(sizeof(float) * (size_t)np * dim); nn = (double *)malloc(sizeof(double) * (size_t)n);
    memcpy(x, data, sizeof(float) * (size_t)n * dim);
    ncsn_stdz_apply(&st, x, n);
    if (q_nearest(x, n, dim, x, n, 1, nn)) { fprintf(stderr, "quality denoise: out of memory\n"); return 1; }   /* network units */
    printf("median nearest-neighbour distance %.3g (network units), %d levels\n", nn[n / 2], L);
    ncsn_rng_seed(&rng, 779, 1);
    for (l = 0; l < L; l++) {
        double num = 0.0, den = 0.0;
        ncsn_rng_normals(&rng, xt, (size_t)np * dim);
        for (i = 0; i < np * dim; i++) xt[i] = fmaf(sig[l], xt[i], x[i]);
        ncsn_model_score(m, sc, xt, sig[l], np);
        for (i = 0; i < np * dim; i++) {
            double e = (double)xt[i] + (double)sig[l] * sig[l] * sc[i] - x[i];
            num += e * e;
            den += ((double)xt[i] - x[i]) * ((double)xt[i] - x[i]);
        }
        printf("sigma %-8.3g noise left %.3f\n", (double)sig[l], num / den);
    }
    ncsn_free(data); free(sig); free(x); free(xt); free(sc); free(nn);
    ncsn_model_free(m); ncsn_stdz_free(&st);
    return 0;
}

/* how far samples lie from their nearest training point, against the training points' own
   nearest-neighbour distances: copies of training points would lie closer than those, noisy
   samples farther (docs/quality.md, the digits grid) */
static int cmd_nearest(const char *data_csv, const char *samples_csv, const char *count_arg)
{
    float *data = NULL, *x = NULL;
    int n, dim, ns, ds, m, rc = 1;
    long count = 2000;
    double *d = NULL;
    if (count_arg) {   /* the whole argument a number: atoi would take "2k" as 2 and "x" as 0 */
        char *e;
        errno = 0;
        count = strtol(count_arg, &e, 10);
        if (e == count_arg || *e || errno == ERANGE || count < 1 || count > INT_MAX) {
            fprintf(stderr, "quality nearest: N = '%s' must be an integer in [1, %d]\n", count_arg, INT_MAX);
            return 1;
        }
    }
    if (q_load(data_csv, &data, &n, &dim) || q_load(samples_csv, &x, &ns, &ds)) goto out;
    if (ds != dim) { fprintf(stderr, "quality nearest: samples have %d columns, data %d\n", ds, dim); goto out; }
    if (n < 2) { fprintf(stderr, "quality nearest: the data need 2 rows or more (a row's nearest other row), not %d\n", n); goto out; }
    m = ns < count ? ns : (int)count;
    if (!(d = (double *)malloc(sizeof(double) * (size_t)(m > n ? m : n)))) { fprintf(stderr, "quality nearest: out of memory\n"); goto out; }
    if (q_nearest(data, n, dim, x, m, 0, d)) { fprintf(stderr, "quality nearest: out of memory\n"); goto out; }
    printf("samples (%d): nearest data point median %.4g, 5th percentile %.4g, min %.4g\n", m, d[m / 2], d[m / 20], d[0]);
    if (q_nearest(data, n, dim, data, n, 1, d)) { fprintf(stderr, "quality nearest: out of memory\n"); goto out; }
    printf("data (%d): nearest other data point median %.4g, 5th percentile %.4g, min %.4g\n", n, d[n / 2], d[n / 20], d[0]);
    rc = 0;
out:
    free(d); ncsn_free(data); ncsn_free(x);
    return rc;
}

/* The Swiss roll as ncsn_data_swiss_roll draws it from rng, before it standardises: the same draws
   in the same order, the roll's parameter t[i] in [1.5 pi, 4.5 pi] (uniform) and the raw points */
static void q_roll_raw(ncsn_rng *rng, float *raw, float *t, int n)
{
    int i;
    for (i = 0; i < n; i++) t[i] = (float)(4.71238898038468985769 * (1.0 + 2.0 * (double)ncsn_rng_uniform(rng)));
    for (i = 0; i < n; i++) raw[2 * i] = fmaf(0.1f, ncsn_rng_normal(rng), t[i] * ncsn_cosf(t[i]));
    for (i = 0; i < n; i++) raw[2 * i + 1] = fmaf(0.1f, ncsn_rng_normal(rng), t[i] * ncsn_sinf(t[i]));
}

#define Q_ROLL_BINS 6    /* equal ranges of t along the roll; the first three are its inner half */
#define Q_ROLL_GRID 4713 /* points of the noiseless spiral, 0.002 apart in t */

/* the shares of x[n] (raw units) in the Q_ROLL_BINS ranges of t, each point given the t of its
   nearest point of the noiseless spiral (t cos t, t sin t) */
static void q_roll_shares(const float *x, int n, double *share)
{
    static float gx[Q_ROLL_GRID], gy[Q_ROLL_GRID];
    const double t0 = 1.5 * 3.14159265358979323846, span = 3.0 * 3.14159265358979323846;
    int i, j;
    for (j = 0; j < Q_ROLL_GRID; j++) {
        double t = t0 + span * j / (Q_ROLL_GRID - 1);
        gx[j] = (float)(t * cos(t)); gy[j] = (float)(t * sin(t));
    }
    for (j = 0; j < Q_ROLL_BINS; j++) share[j] = 0.0;
    for (i = 0; i < n; i++) {
        float best = FLT_MAX;
        int jb = 0, b;
        for (j = 0; j < Q_ROLL_GRID; j++) {
            float dx = x[2 * i] - gx[j], dy = x[2 * i + 1] - gy[j], q = dx * dx + dy * dy;
            if (q < best) { best = q; jb = j; }
        }
        b = jb * Q_ROLL_BINS / Q_ROLL_GRID;
        share[b] += 1.0 / n;
    }
}

/* the roll's training set against the truth (1/6 of the mass per range of t), from its own t and
   from the nearest-spiral map; the samples (the set's standardised units) by the same map after
   undoing the training set's own standardisation */
static int q_data_roll(ncsn_rng *rng, const float *std_pts, int n, const float *x, int ns)
{
    float *raw = (float *)malloc(sizeof(float) * 2 * (size_t)n), *t = (float *)malloc(sizeof(float) * (size_t)n);
    double mean[2] = { 0, 0 }, sd[2] = { 0, 0 }, own[Q_ROLL_BINS] = { 0 }, near[Q_ROLL_BINS], smp[Q_ROLL_BINS];
    int i, c, b, same = 1;
    if (!raw || !t) { free(raw); free(t); fprintf(stderr, "quality data: out of memory\n"); return 1; }
    q_roll_raw(rng, raw, t, n);
    for (c = 0; c < 2; c++) {   /* as ncsn_data_swiss_roll standardises */
        for (i = 0; i < n; i++) mean[c] += (double)raw[2 * i + c];
        mean[c] /= (double)n;
        for (i = 0; i < n; i++) { double dv = (double)raw[2 * i + c] - mean[c]; sd[c] = fma(dv, dv, sd[c]); }
        sd[c] = sqrt(sd[c] / (double)n);
        for (i = 0; i < n; i++) same &= (float)(((double)raw[2 * i + c] - mean[c]) / sd[c]) == std_pts[2 * i + c];
    }
    if (!same) { free(raw); free(t); fprintf(stderr, "quality data: the raw roll does not reproduce the library's draw\n"); return 1; }
    for (i = 0; i < n; i++) {   /* t / (1.5 pi) - 1 is in [0, 2] */
        b = (int)((t[i] / 4.71238898038468985769 - 1.0) * 0.5 * Q_ROLL_BINS);
        own[b < Q_ROLL_BINS ? b : Q_ROLL_BINS - 1] += 1.0 / n;
    }
    q_roll_shares(raw, n, near);
    printf("Swiss roll, n = %d: share of the mass per sixth of the roll (inner to outer; truth 16.67 %% each)\n", n);
    printf("  data, own t:      "); for (b = 0; b < Q_ROLL_BINS; b++) printf(" %6.2f", 100 * own[b]);
    printf("   inner half %.2f %%\n  data, nearest t:  ", 100 * (own[0] + own[1] + own[2]));
    for (b = 0; b < Q_ROLL_BINS; b++) printf(" %6.2f", 100 * near[b]);
    printf("   inner half %.2f %%\n", 100 * (near[0] + near[1] + near[2]));
    if (x) {
        float *u = (float *)malloc(sizeof(float) * 2 * (size_t)ns);
        if (!u) { free(raw); free(t); fprintf(stderr, "quality data: out of memory\n"); return 1; }
        for (i = 0; i < 2 * ns; i++) u[i] = (float)(x[i] * sd[i % 2] + mean[i % 2]);
        q_roll_shares(u, ns, smp);
        printf("  samples (%d):  ", ns); for (b = 0; b < Q_ROLL_BINS; b++) printf(" %6.2f", 100 * smp[b]);
        printf("   inner half %.2f %%\n", 100 * (smp[0] + smp[1] + smp[2]));
        free(u);
    }
    free(raw); free(t);
    return 0;
}

/* a mixture's training set against the truth, per mode, as eval measures samples; with samples,
   theirs beside it and how their per-axis width errors follow the training set's */
static void q_data_mix(const qset *s, const float *data, int n, const float *x, int ns)
{
    double cd[Q_MAXK], ed[Q_MAXK * Q_MAXD], cs[Q_MAXK], es[Q_MAXK * Q_MAXD], sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, wd = 0, ws = 0, worst_d = 0, worst_s = 0, worst_r = 0;
    int k, d, m = s->K * s->dim, same = 0;
    q_mode_stats(s, data, n, cd, ed);
    if (x) q_mode_stats(s, x, ns, cs, es);
    printf("%s, n = %d: per mode, weight (truth) and std error per axis: the data%s\n", s->name, n, x ? " | the samples | samples' std over the data's - 1" : "");
    for (k = 0; k < s->K; k++) {
        printf("  mode %d: %.4f (%.3f)", k, cd[k] / n, (double)s->w[k]);
        for (d = 0; d < s->dim; d++) printf(" %+5.1f%%", 100 * ed[k * s->dim + d]);
        if (fabs(cd[k] / n - s->w[k]) > wd) wd = fabs(cd[k] / n - s->w[k]);
        for (d = 0; d < s->dim; d++) if (fabs(ed[k * s->dim + d]) > worst_d) worst_d = fabs(ed[k * s->dim + d]);
        if (x) {
            printf(" | %.4f", cs[k] / ns);
            for (d = 0; d < s->dim; d++) printf(" %+5.1f%%", 100 * es[k * s->dim + d]);
            printf(" |");
            for (d = 0; d < s->dim; d++) printf(" %+5.1f%%", 100 * ((1 + es[k * s->dim + d]) / (1 + ed[k * s->dim + d]) - 1));
            if (fabs(cs[k] / ns - s->w[k]) > ws) ws = fabs(cs[k] / ns - s->w[k]);
        }
        printf("\n");
    }
    printf("  data: worst weight error %.4f, worst std error %.1f %%\n", wd, 100 * worst_d);
    if (!x) return;
    for (k = 0; k < m; k++) {   /* Pearson's r over the K x dim width errors */
        double r = (1 + es[k]) / (1 + ed[k]) - 1;
        sx += ed[k]; sy += es[k]; sxx += ed[k] * ed[k]; syy += es[k] * es[k]; sxy += ed[k] * es[k];
        same += (ed[k] > 0) == (es[k] > 0);
        if (fabs(es[k]) > worst_s) worst_s = fabs(es[k]);
        if (fabs(r) > worst_r) worst_r = fabs(r);
    }
    printf("  samples: worst weight error %.4f, worst std error %.1f %% (against the data: %.1f %%); their std errors against the data's: r = %.2f, same sign %d of %d\n",
           ws, 100 * worst_s, 100 * worst_r, (m * sxy - sx * sy) / sqrt((m * sxx - sx * sx) * (m * syy - sy * sy)), same, m);
}

/* quality data SET SAMPLES.csv|- [N] [SEED]: the training set `quality gen SET F N SEED` writes,
   against the truth, and the samples of a model trained on it beside it */
static int cmd_data(int argc, char **argv)
{
    const qset *s = q_find(argv[0]);
    int n = argc > 2 ? atoi(argv[2]) : s ? s->n : 0, ns = 0, ds, rc = 1;
    float *data = NULL, *x = NULL;
    ncsn_rng rng;
    if (!s || n < 2) { fprintf(stderr, "quality data: unknown set '%s' or bad N\n", argv[0]); return 1; }
    if (strcmp(argv[1], "-") && q_load(argv[1], &x, &ns, &ds)) return 1;
    if (x && ds != s->dim) { fprintf(stderr, "quality data: samples have %d columns, %s %d\n", ds, s->name, s->dim); goto out; }
    if (!(data = (float *)malloc(sizeof(float) * (size_t)n * s->dim))) { fprintf(stderr, "quality data: out of memory for %d points\n", n); goto out; }
    ncsn_rng_seed(&rng, argc > 3 ? strtoull(argv[3], NULL, 10) : 2019, 12);   /* as gen */
    q_draw(s, &rng, data, n);
    if (s->K) { q_data_mix(s, data, n, x, ns); rc = 0; }
    else {
        ncsn_rng_seed(&rng, argc > 3 ? strtoull(argv[3], NULL, 10) : 2019, 12);
        rc = q_data_roll(&rng, data, n, x, ns);
    }
out:
    free(data); ncsn_free(x);
    return rc;
}

/* 100 samples of the 8x8 digits as a 10 x 10 grid for gnuplot's `with image` (gaps of one pixel) */
static int cmd_grid(const char *in, const char *out)
{
    float *x = NULL;
    int n, dim, X, Y;
    FILE *fp;
    if (q_load(in, &x, &n, &dim)) return 1;
    if (dim != 64 || n < 100 || !(fp = fopen(out, "w"))) { fprintf(stderr, "quality grid: need 100 samples of 64 pixels and a writable %s\n", out); ncsn_free(x); return 1; }
    for (Y = 0; Y < 90; Y++)
        for (X = 0; X < 90; X++) {
            float v = 0.0f;
            if (X % 9 < 8 && Y % 9 < 8) v = x[(size_t)((Y / 9) * 10 + X / 9) * 64 + (Y % 9) * 8 + X % 9];
            fprintf(fp, "%d %d %.4g\n", X, Y, (double)(v < 0.0f ? 0.0f : v > 16.0f ? 16.0f : v));
        }
    ncsn_free(x);
    return fclose(fp) != 0;
}

int main(int argc, char **argv)
{
    q_init_sets();
    if (argc >= 4 && !strcmp(argv[1], "gen")) {
        const qset *s = q_find(argv[2]);
        int n = argc > 4 ? atoi(argv[4]) : s ? s->n : 0, rc;
        float *x;
        ncsn_rng rng;
        if (!s || n < 1) { fprintf(stderr, "quality gen: unknown set '%s' or bad N\n", argv[2]); return 1; }
        ncsn_rng_seed(&rng, argc > 5 ? strtoull(argv[5], NULL, 10) : 2019, 12);
        x = (float *)malloc(sizeof(float) * (size_t)n * s->dim);
        q_draw(s, &rng, x, n);
        rc = q_write_csv(argv[3], x, n, s->dim);
        free(x);
        return rc;
    }
    if (argc >= 2 && !strcmp(argv[1], "header")) { q_print_header(); return 0; }
    if (argc >= 2 && !strcmp(argv[1], "selftest")) return cmd_selftest();
    if (argc >= 4 && !strcmp(argv[1], "grid")) return cmd_grid(argv[2], argv[3]);
    if (argc >= 2 && !strcmp(argv[1], "eval")) return cmd_eval(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "tune")) return cmd_tune(argc - 2, argv + 2);
    if (argc >= 4 && !strcmp(argv[1], "denoise")) return cmd_denoise(argv[2], argv[3]);
    if (argc >= 4 && !strcmp(argv[1], "data")) return cmd_data(argc - 2, argv + 2);
    if (argc >= 4 && !strcmp(argv[1], "nearest")) return cmd_nearest(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
    if (argc >= 6 && !strcmp(argv[1], "exact")) return cmd_mix(argv[2], argv[3], argv[4], atoi(argv[5]), argc - 6, argv + 6, 0.0f);
    if (argc >= 6 && !strcmp(argv[1], "mix")) return cmd_mix(argv[2], argv[3], argv[4], atoi(argv[5]), argc - 6, argv + 6, FLT_MAX);   /* above FLT_MAX: the network at every level */
    fprintf(stderr, "usage: quality gen|data|eval|tune|exact|mix|denoise|nearest|grid|header ... (see quality/quality.c)\n");
    return 1;
}
