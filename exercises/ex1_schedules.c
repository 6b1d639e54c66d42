/* ex1_schedules.c - seed 001, exercise 1: geometric vs linear vs cosine noise schedules on the
   Swiss roll (sigma 5 -> 0.01, L = 10, the three kinds of ncsn_schedule).

   Everything but the sigma values is shared: seed 001's NCSNScoreNetwork (embedding 64, hidden
   128 x 3) with the output scaled by 1/sigma (cfg.scale_by_sigma, NCSNv2's s = net/sigma: the
   seed's unscaled net does not resolve the small levels at this training length - exercise 5
   measures that), sigma^2-weighted DSM, Adam 1e-3, batches of 256 from 5000 points, 4000 steps
   (1000 with --quick). Two samplers: seed 001's annealed Langevin (x + (a/2) s + sqrt(a) z,
   a_i = 1e-4 (sigma_i/sigma_L)^2, start N(0, sigma_1^2 I), 1000 chains) with its 100 steps per
   level, and the same with 10 steps per level (fewer steps give the learned score's errors less
   time to move the chains; exercises 2 and 5 measure that too). Each run re-seeds the generator
   the same way for every schedule, so the three see the same initial weights, batches, level
   indices and noise (common random numbers); full size repeats everything with a second seed,
   to show how much of a difference is run-to-run noise.

   Sample quality, three ways, each beside its floor (fresh data in place of the samples):
   - energy distance to fresh data: sensitive to where the mass is, blind to fine structure
     (a blob the size of the roll scores well);
   - precision: mean distance from a sample to its nearest training point (is it on the roll?);
   - coverage: mean distance from a fresh data point to its nearest sample (is the roll covered?);
   and the number of chains that diverged.
   Training stability: mean, standard deviation and coefficient of variation (CV = sd/mean) of
   the minibatch loss over the last quarter of training (mostly the noise of the batch), and the
   jitter of a validation loss (fixed points, levels and noise, so its changes come from the
   weights alone) taken every 25 steps: rms of successive changes / sqrt 2 / mean, which a slow
   downward trend barely moves.
   Losses of different schedules are not on one scale (each averages over its own levels); ratios are.

   usage: ex1_schedules OUTDIR [--quick]
   writes OUTDIR/ex1_sigmas.dat, ex1_loss.dat, ex1_val.dat, ex1_data.dat, ex1_samples_<kind>_<T>.dat
   (first run), ex1_summary.dat (one row per schedule, means over runs; read by the plot). */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime: wall-clock timing */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../tools/common.h"

#define N_DATA 5000
#define N_SAMPLES 1000
#define N_VAL 1000
#define L 10
#define VAL_EVERY 25
#define MAX_STEPS 4000
#define MAX_RUNS 2
#define N_ALL (N_DATA + N_VAL + 4 * N_SAMPLES)

static const char *const kind_name[3] = { "geometric", "linear", "cosine" };

/* coefficient of variation (sd/mean) of v[0..n-1]; the mean in *mean */
static double cv(const float *v, int n, double *mean)
{
    double s = 0.0, q = 0.0;
    int i;
    for (i = 0; i < n; i++) s += v[i];
    s /= n;
    for (i = 0; i < n; i++) q += (v[i] - s) * (v[i] - s);
    if (mean) *mean = s;
    return sqrt(q / n) / s;
}

/* jitter of a slowly drifting series: rms of successive differences / sqrt 2, over the mean
   (for independent noise it equals the CV; a steady downward trend barely adds to it) */
static double jitter(const float *v, int n)
{
    double s = 0.0, q = 0.0;
    int i;
    for (i = 0; i < n; i++) s += v[i];
    for (i = 1; i < n; i++) q += (v[i] - v[i - 1]) * (v[i] - v[i - 1]);
    return sqrt(q / (2.0 * (n - 1))) / (s / n);
}

/* the points every schedule's runs share: training data, validation points with fixed levels and
   noise, and four fresh reference sets */
typedef struct ex1_sets {
    float data[N_DATA * 2], val_x[N_VAL * 2], val_eps[N_VAL * 2], ref[4][N_SAMPLES * 2];
    int val_lvl[N_VAL];
} ex1_sets;

/* what the runs measured: per schedule, run and sampler (SPL[q] steps per level): energy distance,
   precision, coverage, diverged; per schedule and run: loss CV and mean, validation jitter,
   seconds; and the floors (fresh data in place of the samples) */
typedef struct ex1_results {
    double ed[3][MAX_RUNS][2], prec[3][MAX_RUNS][2], cover[3][MAX_RUNS][2], div[3][MAX_RUNS][2];
    double lcv[3][MAX_RUNS], vcv[3][MAX_RUNS], lmean[3][MAX_RUNS], secs[3][MAX_RUNS];
    double ed_floor, prec_floor, cover_floor;
} ex1_results;

static const int spl[2] = { 100, 10 };   /* the sampler's steps per level */

/* training data, validation points and four fresh reference sets in one draw, then split:
   ncsn_data_swiss_roll standardises each call by that call's own mean and std, a shift of
   order 1/sqrt(n) that would otherwise set "fresh" data apart from the training data */
static void draw_sets(ex1_sets *s, ex1_results *res, ncsn_rng *rng)
{
    static float all[N_ALL * 2];
    int i;
    ncsn_rng_seed(rng, 2019, 101);
    ncsn_data_swiss_roll(rng, all, N_ALL);
    memcpy(s->data, all, sizeof s->data);
    memcpy(s->val_x, all + 2 * N_DATA, sizeof s->val_x);
    for (i = 0; i < 4; i++) memcpy(s->ref[i], all + 2 * (N_DATA + N_VAL + i * N_SAMPLES), sizeof s->ref[i]);
    for (i = 0; i < N_VAL; i++) s->val_lvl[i] = (int)ncsn_rng_bounded(rng, L);
    ncsn_rng_normals(rng, s->val_eps, N_VAL * 2);
    res->ed_floor = 0.5 * (ncsn_energy_distance(s->ref[2], N_SAMPLES, s->ref[0], N_SAMPLES, 2) +
                           ncsn_energy_distance(s->ref[3], N_SAMPLES, s->ref[1], N_SAMPLES, 2));
    res->prec_floor = nn_dist(s->ref[3], N_SAMPLES, s->data, N_DATA);
    res->cover_floor = nn_dist(s->ref[2], N_SAMPLES, s->ref[3], N_SAMPLES);
}

/* trains seed 001's network at schedule sig (kind k) for steps steps from rng, recording the
   minibatch loss of every step and the validation loss every VAL_EVERY steps; NULL on failure */
static ncsn_trainer *train_schedule(const ex1_sets *s, const float *sig, int k, int steps, ncsn_rng *rng,
                                    float *loss_hist, float *val_hist)
{
    ncsn_config cfg = ncsn_config_embed(2, 64, 128, 3);
    ncsn_trainer *tr;
    ncsn_dsm_batch vbt;
    int step;
    cfg.scale_by_sigma = 1;
    if (ncsn_dsm_batch_alloc(&vbt, N_VAL, 2) != NCSN_OK) {
        fprintf(stderr, "setup: %s\n", ncsn_last_error());
        return NULL;
    }
    tr = ex_trainer(&cfg, s->data, N_DATA, sig, L, rng, 0);   /* batches of 256, as torch.randperm()[:256] */
    for (step = 0; step < steps; step++) {
        if (ncsn_trainer_step(tr) != NCSN_OK) {
            fprintf(stderr, "%s, step %d: %s\n", kind_name[k], step, ncsn_last_error());
            break;
        }
        loss_hist[step] = tr->loss;
        if ((step + 1) % VAL_EVERY == 0) {   /* levels and noise given: the rng is not touched */
            float vl = 0.0f;
            ncsn_dsm_opts val = { NULL, NULL, 1, 0 };
            val.levels = s->val_lvl;
            val.eps = s->val_eps;
            if (ncsn_dsm_loss_ex(tr->model, &vbt, s->val_x, N_VAL, sig, L, NCSN_WEIGHT_SIGMA2, &tr->rng, &val, &vl) != NCSN_OK) {
                fprintf(stderr, "ex1_schedules: validation loss: %s\n", ncsn_last_error());
                break;
            }
            val_hist[(step + 1) / VAL_EVERY - 1] = vl;
        }
    }
    ncsn_dsm_batch_free(&vbt);
    if (step < steps) { ncsn_trainer_free(tr); return NULL; }
    return tr;
}

/* samples from m with both samplers (seed 001's, SPL[q] steps per level) and measures them into
   res's [k][r] rows; the first run's samples go to OUTDIR. 1: every chain diverged, -1: an error */
static int sample_schedule(ncsn_model *m, const float *sig, int k, int r, ncsn_rng *rng, const ex1_sets *s,
                           ex1_results *res, const char *dir)
{
    static float x[N_SAMPLES * 2];
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    int q, i, failed = 0;
    o.form = NCSN_LANGEVIN_HALF;
    o.eps = 1e-4f;
    o.init = NCSN_INIT_NORMAL_SIGMA1;
    for (q = 0; q < 2; q++) {
        int n_ok;
        ncsn_status st;
        o.steps_per_level = spl[q];
        st = ncsn_sample_annealed(ncsn_model_score, m, 2, sig, L, &o, rng, x, N_SAMPLES);
        if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) { fprintf(stderr, "sampling: %s\n", ncsn_last_error()); return -1; }
        n_ok = keep_finite(x, N_SAMPLES, 2);   /* the diverged ones are counted */
        res->div[k][r][q] = N_SAMPLES - n_ok;
        if (n_ok == 0) { fprintf(stderr, "%s run %d: every chain diverged\n", kind_name[k], r); failed = 1; }
        res->ed[k][r][q] = 0.5 * (ncsn_energy_distance(x, n_ok, s->ref[0], N_SAMPLES, 2) + ncsn_energy_distance(x, n_ok, s->ref[1], N_SAMPLES, 2));
        res->prec[k][r][q] = nn_dist(x, n_ok, s->data, N_DATA);
        res->cover[k][r][q] = nn_dist(s->ref[2], N_SAMPLES, x, n_ok);
        if (r == 0) {   /* the first run's samples and curves go to the figure */
            char name[64];
            FILE *fp;
            snprintf(name, sizeof name, "ex1_samples_%s_%d.dat", kind_name[k], spl[q]);
            fp = open_out(dir, name);
            for (i = 0; i < n_ok; i++) fprintf(fp, "%.6g %.6g\n", x[2 * i], x[2 * i + 1]);
            fclose(fp);
        }
    }
    return failed;
}

/* the loss curves of the first run: the minibatch loss's moving average and the validation loss */
static void write_curves(const char *dir, float (*loss_hist)[MAX_STEPS], float (*val_hist)[MAX_STEPS / VAL_EVERY],
                         int steps, int n_val)
{
    int i;
    FILE *fp;
    fig_loss_avg(dir, "ex1_loss.dat", "step  minibatch loss, 100-step moving average: geometric linear cosine", loss_hist[0], 3,
                 MAX_STEPS, steps);
    fp = open_out(dir, "ex1_val.dat");
    fprintf(fp, "# step  validation loss (fixed points, levels, noise): geometric linear cosine\n");
    for (i = 0; i < n_val; i++) fprintf(fp, "%d %.6g %.6g %.6g\n", (i + 1) * VAL_EVERY, val_hist[0][i], val_hist[1][i], val_hist[2][i]);
    fclose(fp);
}

static void print_table(const ex1_results *res, float (*sig)[L], int runs, int tail)
{
    int k, r, q, i;
    printf("  sigmas:\n");
    for (k = 0; k < 3; k++) {
        printf("    %-9s", kind_name[k]);
        for (i = 0; i < L; i++) printf(" %7.4f", (double)sig[k][i]);
        printf("\n");
    }
    printf("\n  %-9s %3s %4s | %-8s %9s %9s %8s | %-10s %6s %7s | %7s\n", "schedule", "run", "T", "energy", "precision", "coverage",
           "diverged", "loss mean", "CV", "val jit", "train s");
    printf("  %-9s %3s %4s | %8.5f %9.4f %9.4f %8s |\n", "floor", "", "", res->ed_floor, res->prec_floor, res->cover_floor, "");
    for (k = 0; k < 3; k++)
        for (r = 0; r < runs; r++)
            for (q = 0; q < 2; q++) {
                printf("  %-9s %3d %4d | %8.5f %9.4f %9.4f %8.0f |", kind_name[k], r + 1, spl[q], res->ed[k][r][q], res->prec[k][r][q],
                       res->cover[k][r][q], res->div[k][r][q]);
                if (q == 0) printf(" %10.4f %6.3f %7.4f | %7.2f\n", res->lmean[k][r], res->lcv[k][r], res->vcv[k][r], res->secs[k][r]);
                else printf("\n");
            }
    printf("  (T: sampler steps per level; energy: energy distance to fresh data; precision: mean distance sample ->\n"
           "   nearest training point; coverage: mean distance fresh data point -> nearest sample; floor: fresh data in place\n"
           "   of the samples; CV: sd/mean of the minibatch loss over the last %d steps; val jit: rms of successive changes\n"
           "   of the validation loss (every %d steps) over that stretch / sqrt 2 / its mean)\n", tail, VAL_EVERY);
}

/* ex1_sigmas.dat, ex1_data.dat and ex1_summary.dat (the means over runs); 1 if a mean is not finite */
static int write_summary(const char *dir, float (*sig)[L], const float *data, const ex1_results *res, int runs, int steps)
{
    int k, r, q, i, failed = 0;
    FILE *fp = open_out(dir, "ex1_sigmas.dat");
    fprintf(fp, "# level geometric linear cosine\n");
    for (i = 0; i < L; i++) fprintf(fp, "%d %.6g %.6g %.6g\n", i + 1, sig[0][i], sig[1][i], sig[2][i]);
    fclose(fp);
    fp = open_out(dir, "ex1_data.dat");
    for (i = 0; i < N_DATA; i++) fprintf(fp, "%.6g %.6g\n", data[2 * i], data[2 * i + 1]);
    fclose(fp);
    fp = open_out(dir, "ex1_summary.dat");
    fprintf(fp, "# kind(0 geometric 1 linear 2 cosine)  then for T = 100 and T = 10 steps per level: energy precision coverage"
                " diverged;  energy_floor precision_floor coverage_floor n_samples loss_cv val_jitter steps runs T_1 T_2  (means over runs)\n");
    for (k = 0; k < 3; k++) {
        double a[2][4], lc = 0.0, vj = 0.0;
        memset(a, 0, sizeof a);
        for (r = 0; r < runs; r++) {
            for (q = 0; q < 2; q++) {
                a[q][0] += res->ed[k][r][q] / runs; a[q][1] += res->prec[k][r][q] / runs;
                a[q][2] += res->cover[k][r][q] / runs; a[q][3] += res->div[k][r][q] / runs;
            }
            lc += res->lcv[k][r] / runs;
            vj += res->vcv[k][r] / runs;
        }
        fprintf(fp, "%d", k);
        for (q = 0; q < 2; q++) fprintf(fp, " %.6g %.6g %.6g %g", a[q][0], a[q][1], a[q][2], a[q][3]);
        fprintf(fp, " %.6g %.6g %.6g %d %.6g %.6g %d %d %d %d\n", res->ed_floor, res->prec_floor, res->cover_floor, N_SAMPLES, lc, vj,
                steps, runs, spl[0], spl[1]);
        if (!isfinite(a[0][0]) || !isfinite(lc)) failed = 1;
    }
    fclose(fp);
    return failed;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    int steps = quick ? 1000 : MAX_STEPS, runs = quick ? 1 : MAX_RUNS;
    int tail = steps / 4, n_val = steps / VAL_EVERY;
    static ex1_sets sets;
    static ex1_results res;
    static float loss_hist[3][MAX_STEPS], val_hist[3][MAX_STEPS / VAL_EVERY];
    float sig[3][L];
    int k, r, failed = 0;
    ncsn_rng rng;

    if (!dir) { fprintf(stderr, "usage: %s OUTDIR [--quick]\n", argv[0]); return 2; }
    draw_sets(&sets, &res, &rng);
    printf("exercise 1: noise schedules on the Swiss roll (sigma 5 -> 0.01, L = %d), %d Adam steps, %d run%s each%s\n",
           L, steps, runs, runs > 1 ? "s" : "", quick ? " (quick)" : "");
    for (k = 0; k < 3; k++)
        if (ncsn_schedule(sig[k], L, 5.0f, 0.01f, (ncsn_schedule_kind)k) != NCSN_OK) { fprintf(stderr, "%s\n", ncsn_last_error()); return 1; }
    for (r = 0; r < runs; r++)
        for (k = 0; k < 3; k++) {
            ncsn_trainer *tr;
            double t0;
            int sampled;
            ncsn_rng_seed(&rng, 2019, 1 + (uint64_t)r);   /* the same stream for every schedule of a run */
            t0 = now();
            if (!(tr = train_schedule(&sets, sig[k], k, steps, &rng, loss_hist[k], val_hist[k]))) return 1;
            res.secs[k][r] = now() - t0;
            rng = tr->rng;
            res.lcv[k][r] = cv(loss_hist[k] + steps - tail, tail, &res.lmean[k][r]);
            res.vcv[k][r] = jitter(val_hist[k] + n_val - n_val / 4, n_val / 4);
            sampled = sample_schedule(tr->model, sig[k], k, r, &rng, &sets, &res, dir);
            ncsn_trainer_free(tr);
            if (sampled < 0) return 1;
            failed |= sampled;
            if (r == 0 && k == 2) write_curves(dir, loss_hist, val_hist, steps, n_val);   /* before the second run overwrites them */
        }
    print_table(&res, sig, runs, tail);
    return write_summary(dir, sig, sets.data, &res, runs, steps) | failed;
}
