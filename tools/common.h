/* common.h - the helpers shared by the programs built on ncsn.h: the command (tools/), the seed
   programs (examples/), the exercises (exercises/), the figure producers (plots/fig_*.c) and
   tests/test_plots.c, which checks the figure computations at reduced size. Not part of the
   library. The functions are static (and marked unused), so any translation unit may include this
   header after ncsn.h; the includer defines _POSIX_C_SOURCE >= 199309L (or _XOPEN_SOURCE) before
   its first system header, for clock_gettime.

   Contents:
     now                wall-clock seconds (the models may run on several threads)
     open_out           DIR/NAME opened for writing, or exit with the reason
     fig_args           the producers' command line: OUTDIR [--quick]
     fig_trainer        the library's trainer with seed 001's recipe at a given batch and rate
     ex_trainer         fig_trainer at seed 001's batch and rate, run some steps, or exit
     fig_train          DSM training of a score net to a number of steps, returning the model
     nn_dist            mean distance from generated points to the nearest data point
     nearest_dists      each point's distance to its nearest data point, sorted (data rows: leave-one-out,
                        repeated rows skipped on request)
     copy_check         median nearest-data distance of samples against the data's own, and the note
     gauss_draw         draws from the full-covariance Gaussian fitted to a point set (singular too)
     keep_finite        the chains with every coordinate finite moved to the front, counted
     set_output_form    the network's output form and its loss, as ncsn train --output-form sets them
     fig_loss_avg       a file of loss curves as 100-step moving averages
     fig_cmp_float, fig_median   ascending order of floats (for qsort), the median
     fig_grid           a rectangular grid of 2-D points, rows of constant y
     fig_score_error    ||s_theta - s_exact|| and ||s_exact|| at points
     fig_logpdf_points  log q_sigma of equal-weight point masses (any number of them)
     fig_density_1d     exp(log q_sigma) of a 1-D mixture at points
     fig_trapezoid      integral of samples on a uniform grid
     fig_ddpm_sigma     DDPM's linear-beta schedule as an equivalent VE noise level
     fig_ve_sigma       the VE-SDE noise level sigma(t) = s_min (s_max/s_min)^t
     fig_traj           a sampler callback recording the first chains at every step
     fig_traj_record    a sampler's options set to record into a fig_traj
     fig_field          a score field as unit directions and log10 magnitudes
     fig_write_fields   a learned and an exact field side by side, and their median angle
     fig_wave, fig_spiral   the 1-D manifolds of the seed-000 and seed-002 figures
     fig_point_masses   a mixture of equal-weight point masses at given points
     fig_dae_field      the optimal denoiser's field r(x~) - x~ = sigma^2 grad log q_sigma(x~)
     fig_posterior_mean the same r(x~) computed directly (double), for the test
     fig_nearest        index of the nearest of K points */
#ifndef NCSN_TOOLS_COMMON_H
#define NCSN_TOOLS_COMMON_H
#include "../ncsn.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__)
#define FIG_FN static __attribute__((unused))
#else
#define FIG_FN static
#endif

#define FIG_PI 3.14159265358979323846

/* wall-clock seconds: the models may run on several threads, so CPU time would overstate */
FIG_FN double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* DIR/NAME opened for writing, or exit with the reason (these programs have nothing to undo) */
FIG_FN FILE *open_out(const char *dir, const char *name)
{
    char path[1024];
    FILE *fp;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(fp = fopen(path, "w"))) { perror(path); exit(1); }
    return fp;
}

/* The producers' command line: OUTDIR [--quick]. */
FIG_FN int fig_args(int argc, char **argv, const char **dir, int *quick)
{
    int a;
    *dir = NULL;
    *quick = 0;
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--quick") == 0) *quick = 1;
        else if (!*dir) *dir = argv[a];
        else return 0;
    }
    if (!*dir) {
        fprintf(stderr, "usage: %s OUTDIR [--quick]\n", argv[0]);
        return 0;
    }
    return 1;
}

/* The library's trainer with seed 001's recipe (no EMA, no standardisation) on cfg and the levels
   sig[L]: sigma^2-weighted DSM, every step `batch` points drawn without replacement
   (ncsn_minibatch, like torch.randperm), a random level per point, one Adam step at rate lr. The
   model's init continues *rng. NULL with ncsn_last_error() set on failure. */
FIG_FN ncsn_trainer *fig_trainer(const ncsn_config *cfg, const float *data, int n, int batch,
                                 const float *sig, int L, float lr, const ncsn_rng *rng)
{
    ncsn_train_opts o = ncsn_train_preset_seed001();
    ncsn_trainer *t = NULL;
    o.net = *cfg;
    o.sigmas = sig;
    o.levels = L;
    o.batch = batch;
    o.lr = lr;
    return ncsn_trainer_create(&t, &o, data, n, cfg->dim, rng) == NCSN_OK ? t : NULL;
}

/* fig_trainer at seed 001's batch (256) and rate (1e-3), run for `steps` steps (0: none, the
   caller steps it), or exit with the reason */
FIG_FN ncsn_trainer *ex_trainer(const ncsn_config *cfg, const float *data, int n, const float *sig, int L,
                                const ncsn_rng *rng, long steps)
{
    ncsn_trainer *t = fig_trainer(cfg, data, n, 256, sig, L, 1e-3f, rng);
    if (!t) {
        fprintf(stderr, "setup: %s\n", ncsn_last_error());
        exit(1);
    }
    if (steps > 0 && ncsn_trainer_run(t, steps, 0, NULL, NULL) != NCSN_OK) {
        fprintf(stderr, "training, step %ld: %s\n", t->step, ncsn_last_error());
        exit(1);
    }
    return t;
}

/* fig_trainer run for `steps` steps; rng is continued and advanced. loss_curve[steps] (may be
   NULL) receives every step's loss. Returns the model, or NULL with ncsn_last_error() set. */
FIG_FN ncsn_model *fig_train(const ncsn_config *cfg, const float *data, int n, int batch,
                             const float *sig, int L, int steps, float lr, ncsn_rng *rng,
                             float *loss_curve)
{
    ncsn_trainer *t = fig_trainer(cfg, data, n, batch, sig, L, lr, rng);
    ncsn_model *m;
    if (!t) return NULL;
    while (t->step < steps) {
        if (ncsn_trainer_step(t) != NCSN_OK) { ncsn_trainer_free(t); return NULL; }
        if (loss_curve) loss_curve[t->step - 1] = t->loss;
    }
    *rng = t->rng;
    m = t->model;   /* the caller owns the model from here */
    t->model = NULL;
    ncsn_trainer_free(t);
    return m;
}

/* mean over the 2-d points of a of the distance to the nearest point of b (a sample-quality
   measure: how far generated points lie from the data) */
FIG_FN double nn_dist(const float *a, int na, const float *b, int nb)
{
    double tot = 0.0;
    int i, j;
    for (i = 0; i < na; i++) {
        float best = INFINITY;
        for (j = 0; j < nb; j++) {
            float u = a[2 * i] - b[2 * j], v = a[2 * i + 1] - b[2 * j + 1];
            if (u * u + v * v < best) best = u * u + v * v;
        }
        tot += sqrt(best);
    }
    return na ? tot / na : NAN;
}

/* d[i] = the Euclidean distance from x[i] to its nearest point of data[n][dim], in double, sorted
   ascending. self (may be NULL): x[i] is data row self[i], which it skips (leave-one-out). twins
   (may be NULL): rows equal to x[i] are skipped too (a repeated row is one point, not a neighbour
   at distance 0; HUGE_VAL when every row is the same), and *twins counts the x[i] that had one. */
FIG_FN void nearest_dists(const float *data, int n, int dim, const float *x, int count, const int *self, double *d, int *twins)
{
    int i, j, k;
    if (twins) *twins = 0;
    for (i = 0; i < count; i++) {
        double best = HUGE_VAL;
        int twin = 0;
        for (j = 0; j < n; j++) {
            double q = 0.0;
            if (self && j == self[i]) continue;
            for (k = 0; k < dim && q < best; k++) {   /* stops once past the best */
                double e = (double)x[(size_t)i * dim + k] - data[(size_t)j * dim + k];
                q += e * e;
            }
            if (twins && q == 0.0) twin = 1;   /* the same point: q stays 0 over every column (best > 0 here) */
            else if (q < best) best = q;
        }
        if (twins) *twins += twin;
        d[i] = sqrt(best);
    }
    for (i = 1; i < count; i++) {   /* insertion sort: count is at most a few thousand */
        double v = d[i];
        for (j = i; j > 0 && d[j - 1] > v; j--) d[j] = d[j - 1];
        d[j] = v;
    }
}

/* The copy check of ncsn compare and ncsn train: samples smp[m] against data[n] (same units), the data's
   own spacing measured at the rows idx[nd], each to its nearest different row (repeated rows would
   make it 0 and hide copying). Prints one line to out (prefix first)
   and a note when the samples' median is under half the data's (copies) or over twice (far from
   the data's fine structure); returns the ratio
   of the medians (-1: the data's median is 0; -2: out of memory). advice ends the note on copies.
   out NULL: nothing printed. own
   (may be NULL): the data's own median. */
FIG_FN double copy_check(FILE *out, const char *prefix, const char *advice, const float *data, int n, int dim, const int *idx, int nd,
                         const float *smp, int m, double *own)
{
    double *dd = (double *)malloc(sizeof(double) * (size_t)nd), *ds = (double *)malloc(sizeof(double) * (size_t)m), sm, dm, near = 0.0;
    float *rows = (float *)malloc(sizeof(float) * (size_t)nd * dim);
    int i, twins;
    if (!dd || !ds || !rows) { free(dd); free(ds); free(rows); return -2.0; }
    for (i = 0; i < nd; i++) memcpy(rows + (size_t)i * dim, data + (size_t)idx[i] * dim, sizeof(float) * (size_t)dim);
    nearest_dists(data, n, dim, rows, nd, idx, dd, &twins);
    nearest_dists(data, n, dim, smp, m, NULL, ds, NULL);
    sm = ds[m / 2];
    dm = dd[nd / 2];
    for (i = 0; i < m; i++) near += ds[i] < 0.5 * dm;
    free(dd); free(ds); free(rows);
    if (own) *own = dm;
    if (!(dm > 0.0) || !(dm < HUGE_VAL)) {   /* one point, or one point repeated: no spacing to measure against */
        if (out) fprintf(out, "%snearest data point: samples' median %.3g; the data has a single distinct point: no check\n", prefix, sm);
        return -1.0;
    }
    if (2 * twins > nd) {   /* discrete data (counts, a grid) look the same: near a data point is no sign of copying there */
        if (out)
            fprintf(out, "%snearest data point: samples' median %.3g, the spacing of the data's distinct rows %.3g (ratio %.3g); %d of the %d data rows "
                    "measured repeat another, as discrete data (counts, a grid) or duplicated rows do: no verdict on copies\n", prefix, sm, dm, sm / dm, twins, nd);
        return -1.0;
    }
    if (!out) return sm / dm;
    fprintf(out, "%snearest data point: samples' median %.3g, the data's own median %.3g (ratio %.3g); %.1f %% of samples nearer than half the data's\n",
           prefix, sm, dm, sm / dm, 100.0 * near / m);
    if (twins)
        fprintf(out, "%s(%d of the %d data rows measured repeat another row: the data's spacing is to the nearest different row)\n", prefix, twins, nd);
    if (sm < 0.5 * dm)
        fprintf(out, "%snote: the samples sit much nearer the data than its points sit to each other: they are copies of training points "
               "(memorisation), not new draws; %s\n", prefix, advice);
    if (sm > 2.0 * dm)   /* ideal new draws: 0.99-1.10 (docs/cli.md) */
        fprintf(out, "%snote: the samples sit much farther from the data than its points sit from each other: the model has not "
               "learned the data's finer structure (train longer, or with another --output-form)\n", prefix);
    return sm / dm;
}

/* m draws into out[m][dim] from N(mean, covariance) fitted to x[n][dim] (divisor n), through a
   Cholesky factor in double that tolerates a singular covariance (constant or collinear columns,
   fewer points than columns): a pivot at most 1e-9 of its column's variance (or 0) makes that
   direction deterministic, the factor's column 0, instead of dividing by a rounding residue.
   1 when out of memory. */
FIG_FN int gauss_draw(const float *x, int n, int dim, ncsn_rng *rng, float *out, int m)
{
    double *mu = (double *)calloc((size_t)dim, sizeof(double)), *C = (double *)calloc((size_t)dim * dim, sizeof(double));
    float *z = (float *)malloc(sizeof(float) * (size_t)dim);
    int i, j, k;
    if (!mu || !C || !z) { free(mu); free(C); free(z); return 1; }
    for (i = 0; i < n; i++)
        for (j = 0; j < dim; j++) mu[j] += x[(size_t)i * dim + j];
    for (j = 0; j < dim; j++) mu[j] /= (double)n;
    for (i = 0; i < n; i++)
        for (j = 0; j < dim; j++)
            for (k = 0; k <= j; k++) C[j * dim + k] += (x[(size_t)i * dim + j] - mu[j]) * (x[(size_t)i * dim + k] - mu[k]);
    for (j = 0; j < dim * dim; j++) C[j] /= (double)n;
    for (j = 0; j < dim; j++)   /* Cholesky, lower, row by row */
        for (k = 0; k <= j; k++) {
            double s = C[j * dim + k];
            int q;
            for (q = 0; q < k; q++) s -= C[j * dim + q] * C[k * dim + q];
            if (j == k) C[j * dim + j] = s > 1e-9 * C[j * dim + j] && s > 0.0 ? sqrt(s) : 0.0;
            else C[j * dim + k] = C[k * dim + k] > 0.0 ? s / C[k * dim + k] : 0.0;
        }
    for (i = 0; i < m; i++) {
        ncsn_rng_normals(rng, z, (size_t)dim);
        for (j = 0; j < dim; j++) {
            double v = mu[j];
            for (k = 0; k <= j; k++) v += C[j * dim + k] * z[k];
            out[(size_t)i * dim + j] = (float)v;
        }
    }
    free(mu); free(C); free(z);
    return 0;
}

/* moves the points of x[n][dim] whose coordinates are all finite (the chains that did not
   diverge) to the front, in order; returns how many there are */
FIG_FN int keep_finite(float *x, int n, int dim)
{
    int i, d, k = 0;
    for (i = 0; i < n; i++) {
        for (d = 0; d < dim && isfinite(x[(size_t)i * dim + d]); d++) {}
        if (d < dim) continue;
        for (d = 0; d < dim; d++) x[(size_t)k * dim + d] = x[(size_t)i * dim + d];
        k++;
    }
    return k;
}

/* DIR/NAME: the comment line header, then rows loss curves, loss[r * stride + step] for step <
   steps, as 100-step moving averages every 10 steps: one line "step avg_0 ... avg_rows-1" each */
FIG_FN void fig_loss_avg(const char *dir, const char *name, const char *header, const float *loss, int rows, int stride,
                         int steps)
{
    FILE *fp = open_out(dir, name);
    int step, r, i;
    fprintf(fp, "# %s\n", header);
    for (step = 99; step < steps; step += 10) {
        fprintf(fp, "%d", step + 1);
        for (r = 0; r < rows; r++) {
            double s = 0.0;
            for (i = step - 99; i <= step; i++) s += loss[(size_t)r * stride + i];
            fprintf(fp, " %.6g", s / 100.0);
        }
        fprintf(fp, "\n");
    }
    fclose(fp);
}

/* form 0 net, 1 scaled (s = net/sigma), 2 precond (Karras 2022), as ncsn train --output-form: the
   preconditioned output trains with EDM's unit weight; leaving it (was_precond: the recipe's form,
   above 16 columns) for a score output takes the recipe's sigma2 loss back. sigma_data 0: from the data */
FIG_FN void set_output_form(ncsn_train_opts *o, int form, int was_precond)
{
    o->net.scale_by_sigma = form == 1;
    o->net.precond = form == 2;
    o->net.sigma_data = 0.0f;
    if (o->net.precond) o->weighting = NCSN_WEIGHT_ONE;
    else if (was_precond) o->weighting = NCSN_WEIGHT_SIGMA2;
}

/* ascending order of floats, for qsort */
FIG_FN int fig_cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* the median of v[n], which it sorts; NAN for n = 0 */
FIG_FN double fig_median(float *v, int n)
{
    if (n == 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, fig_cmp_float);
    return n % 2 ? v[n / 2] : 0.5 * ((double)v[n / 2 - 1] + v[n / 2]);
}

/* log q_sigma(x) for equal-weight point masses pts[K][dim] smoothed by N(0, sigma^2 I), in double
   (log-sum-exp). ncsn_gmm_logpdf does the same for mixtures of at most 64 components. */
FIG_FN double fig_logpdf_points(const float *pts, int K, int dim, float sigma, const float *x)
{
    double qmin = 1e300, z = 0.0, s2 = (double)sigma * sigma;
    int k, d;
    for (k = 0; k < K; k++) {
        double q = 0.0;
        for (d = 0; d < dim; d++) { double t = (double)x[d] - pts[(size_t)k * dim + d]; q += t * t; }
        if (q < qmin) qmin = q;
    }
    for (k = 0; k < K; k++) {   /* terms below e^-60 of the largest are skipped: no effect in double */
        double q = 0.0, e;
        for (d = 0; d < dim; d++) { double t = (double)x[d] - pts[(size_t)k * dim + d]; q += t * t; }
        e = (q - qmin) / (2.0 * s2);
        if (e < 60.0) z += exp(-e);
    }
    return -qmin / (2.0 * s2) + log(z / K) - 0.5 * dim * log(2.0 * FIG_PI * s2);
}

/* xy[(j*nx + i)*2 + {0,1}] = (x0 + i (x1-x0)/(nx-1), y0 + j (y1-y0)/(ny-1)): rows of constant y. */
FIG_FN void fig_grid(float *xy, float x0, float x1, int nx, float y0, float y1, int ny)
{
    int i, j;
    for (j = 0; j < ny; j++)
        for (i = 0; i < nx; i++) {
            xy[2 * (j * nx + i)] = nx > 1 ? (float)(x0 + (double)i * (x1 - x0) / (nx - 1)) : x0;
            xy[2 * (j * nx + i) + 1] = ny > 1 ? (float)(y0 + (double)j * (y1 - y0) / (ny - 1)) : y0;
        }
}

/* err[i] = ||s_net(x_i, sigma) - s_exact(x_i, sigma)||, mag[i] = ||s_exact(x_i, sigma)|| (2-D). */
FIG_FN ncsn_status fig_score_error(ncsn_score_fn net, void *net_user, const ncsn_gmm *g, float sigma,
                                   const float *xy, int n, float *err, float *mag)
{
    float *a = (float *)malloc(sizeof(float) * 2 * (size_t)n), *b = (float *)malloc(sizeof(float) * 2 * (size_t)n);
    ncsn_status st;
    int i;
    if (!a || !b) { free(a); free(b); return NCSN_ERR_NOMEM; }
    st = net(net_user, a, xy, sigma, n);
    if (st == NCSN_OK) st = ncsn_gmm_score(g, b, xy, sigma, n);
    if (st == NCSN_OK)
        for (i = 0; i < n; i++) {
            err[i] = (float)hypot((double)a[2 * i] - b[2 * i], (double)a[2 * i + 1] - b[2 * i + 1]);
            mag[i] = (float)hypot(b[2 * i], b[2 * i + 1]);
        }
    free(a);
    free(b);
    return st;
}

/* out[i] = q_sigma(x_i) for a 1-D mixture g (dim 1). */
FIG_FN void fig_density_1d(const ncsn_gmm *g, float sigma, const float *x, int n, double *out)
{
    int i;
    for (i = 0; i < n; i++) out[i] = exp((double)ncsn_gmm_logpdf(g, x + i, sigma));
}

/* Trapezoid rule for samples y[0..n-1] spaced h apart. */
FIG_FN double fig_trapezoid(const double *y, int n, double h)
{
    double s = 0.0;
    int i;
    for (i = 0; i < n; i++) s += (i == 0 || i == n - 1) ? 0.5 * y[i] : y[i];
    return s * h;
}

/* DDPM (Ho et al. 2020): beta_k linear from beta_1 to beta_T over k = 1..T, alphabar_k =
   prod_{j<=k} (1 - beta_j). x_k = sqrt(alphabar_k) x_0 + sqrt(1 - alphabar_k) eps, so x_k/sqrt(alphabar_k)
   is x_0 plus noise of std sigma_k = sqrt((1 - alphabar_k)/alphabar_k): out[k-1] = sigma_k. */
FIG_FN void fig_ddpm_sigma(int T, double beta_1, double beta_T, double *out, double *alphabar)
{
    double ab = 1.0;
    int k;
    for (k = 1; k <= T; k++) {
        double beta = T > 1 ? beta_1 + (beta_T - beta_1) * (k - 1) / (T - 1) : beta_1;
        ab *= 1.0 - beta;
        out[k - 1] = sqrt((1.0 - ab) / ab);
        if (alphabar) alphabar[k - 1] = ab;
    }
}

/* The VE SDE's noise level (Song et al. 2021): sigma(t) = s_min (s_max/s_min)^t, t in [0, 1]. NCSN
   level i (0-based, L levels from s_max down) sits at t_i = (L-1-i)/(L-1). */
FIG_FN double fig_ve_sigma(double s_min, double s_max, double t)
{
    return s_min * pow(s_max / s_min, t);
}

/* Sampler callback: records the first `keep` chains after every step (x, y, level, sigma). */
typedef struct fig_traj {
    int keep, cap, count;   /* chains kept, steps of room, steps recorded */
    float *x;               /* [cap][keep][2] */
    int *level;             /* [cap] */
    float *sigma;           /* [cap] */
} fig_traj;

FIG_FN ncsn_status fig_traj_cb(void *user, int level, int step, float sigma, const float *x, int n, int dim)
{
    fig_traj *t = (fig_traj *)user;
    int c;
    (void)step;
    if (t->count >= t->cap || dim != 2 || n < t->keep) return NCSN_ERR_CALLBACK;
    for (c = 0; c < t->keep; c++) {
        t->x[((size_t)t->count * t->keep + c) * 2] = x[2 * c];
        t->x[((size_t)t->count * t->keep + c) * 2 + 1] = x[2 * c + 1];
    }
    t->level[t->count] = level;
    t->sigma[t->count] = sigma;
    t->count++;
    return NCSN_OK;
}

/* Make the sampler o record into *t: the first `keep` chains after each of at most cap steps, into
   x[cap][keep][2], level[cap] and sigma[cap]. */
FIG_FN void fig_traj_record(ncsn_sampler_opts *o, fig_traj *t, int keep, int cap, float *x, int *level, float *sigma)
{
    t->keep = keep;
    t->cap = cap;
    t->count = 0;
    t->x = x;
    t->level = level;
    t->sigma = sigma;
    o->callback = fig_traj_cb;
    o->callback_user = t;
}

/* A 2-D score field at n points: out[4i..4i+3] = (s_x, s_y, unit_x, unit_y) and logmag[i] =
   log10 ||s||. Unit vectors of a zero score are (0, 0). */
FIG_FN ncsn_status fig_field(ncsn_score_fn fn, void *user, float sigma, const float *xy, int n,
                             float *out, float *logmag)
{
    float *s = (float *)malloc(sizeof(float) * 2 * (size_t)n);
    ncsn_status st;
    int i;
    if (!s) return NCSN_ERR_NOMEM;
    st = fn(user, s, xy, sigma, n);
    if (st == NCSN_OK)
        for (i = 0; i < n; i++) {
            double r = hypot(s[2 * i], s[2 * i + 1]);
            out[4 * i] = s[2 * i];
            out[4 * i + 1] = s[2 * i + 1];
            out[4 * i + 2] = r > 0 ? (float)(s[2 * i] / r) : 0.0f;
            out[4 * i + 3] = r > 0 ? (float)(s[2 * i + 1] / r) : 0.0f;
            logmag[i] = r > 0 ? (float)log10(r) : -30.0f;
        }
    free(s);
    return st;
}

/* A learned and an exact score field at xy[n] (fig_field's out and logmag: fl, ll and fe, le)
   written side by side, one line "x y  ux uy log10|s|  ux uy log10|s|" per point; returns the
   median angle in degrees between their directions (ang[n] is scratch). */
FIG_FN double fig_write_fields(FILE *fp, const float *xy, int n, const float *fl, const float *ll,
                               const float *fe, const float *le, float *ang)
{
    int i;
    for (i = 0; i < n; i++) {
        double dot = (double)fl[4 * i + 2] * fe[4 * i + 2] + (double)fl[4 * i + 3] * fe[4 * i + 3];
        ang[i] = (float)(acos(dot > 1 ? 1 : dot < -1 ? -1 : dot) * 180.0 / FIG_PI);
        fprintf(fp, "%.3f %.3f %.5f %.5f %.4f %.5f %.5f %.4f\n", xy[2 * i], xy[2 * i + 1], fl[4 * i + 2], fl[4 * i + 3],
                ll[i], fe[4 * i + 2], fe[4 * i + 3], le[i]);
    }
    return fig_median(ang, n);
}

/* The seed-002 manifold: a wave, c(u) = (u, 1.2 sin(1.1 u)) for u in [-4, 4]. */
FIG_FN void fig_wave(double u, float *xy)
{
    xy[0] = (float)u;
    xy[1] = (float)(1.2 * sin(1.1 * u));
}

/* The seed-000 manifold figure's curve: the ridge of seed 001's Swiss roll without noise,
   (t cos t, t sin t)/5 for t in [1.5 pi, 4.5 pi], u in [0, 1] -> t = 1.5 pi (1 + 2u). */
FIG_FN void fig_spiral(double u, float *xy)
{
    double t = 1.5 * FIG_PI * (1.0 + 2.0 * u);
    xy[0] = (float)(t * cos(t) / 5.0);
    xy[1] = (float)(t * sin(t) / 5.0);
}

/* Equal-weight point masses at pts[K][dim] (variance 0): the caller owns w[K] and v[K*dim]. */
FIG_FN ncsn_gmm fig_point_masses(const float *pts, int K, int dim, float *w, float *v)
{
    ncsn_gmm g;
    int k;
    for (k = 0; k < K; k++) w[k] = 1.0f / (float)K;
    memset(v, 0, sizeof(float) * (size_t)K * (size_t)dim);
    g.K = K; g.dim = dim; g.weights = w; g.means = pts; g.vars = v;
    return g;
}

/* The optimal DAE's reconstruction direction r(x~) - x~ = E[x | x~] - x~ = sigma^2 grad log q_sigma(x~)
   (Tweedie; Vincent 2011), from the exact score of the point masses g smoothed by sigma. */
FIG_FN ncsn_status fig_dae_field(const ncsn_gmm *g, float sigma, const float *x, int n, float *out)
{
    ncsn_status st = ncsn_gmm_score(g, out, x, sigma, n);
    int i;
    if (st == NCSN_OK)
        for (i = 0; i < n * g->dim; i++) out[i] *= sigma * sigma;
    return st;
}

/* E[x | x~] for equal-weight point masses pts[K][2] and Gaussian corruption sigma, in double:
   the posterior weights are softmax(-|x~ - c_k|^2 / (2 sigma^2)). */
FIG_FN void fig_posterior_mean(const float *pts, int K, float sigma, const float *x, double *r)
{
    double mx = -1e300, z = 0.0, a[2] = { 0.0, 0.0 };
    int k;
    for (k = 0; k < K; k++) {
        double dx = (double)x[0] - pts[2 * k], dy = (double)x[1] - pts[2 * k + 1];
        double l = -(dx * dx + dy * dy) / (2.0 * (double)sigma * sigma);
        if (l > mx) mx = l;
    }
    for (k = 0; k < K; k++) {
        double dx = (double)x[0] - pts[2 * k], dy = (double)x[1] - pts[2 * k + 1];
        double e = exp(-(dx * dx + dy * dy) / (2.0 * (double)sigma * sigma) - mx);
        z += e;
        a[0] += e * pts[2 * k];
        a[1] += e * pts[2 * k + 1];
    }
    r[0] = a[0] / z;
    r[1] = a[1] / z;
}

/* Index of the point of pts[K][2] nearest to x (2-D). */
FIG_FN int fig_nearest(const float *pts, int K, const float *x)
{
    int k, best = 0;
    double bd = 1e300;
    for (k = 0; k < K; k++) {
        double dx = (double)x[0] - pts[2 * k], dy = (double)x[1] - pts[2 * k + 1], q = dx * dx + dy * dy;
        if (q < bd) { bd = q; best = k; }
    }
    return best;
}
#endif
