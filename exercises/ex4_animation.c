/* ex4_animation.c - seed 001, exercise 4: the score field as sigma falls from sigma_max to
   sigma_min, as data for an animation (plots/ex4_animation.gp draws the GIF).

   37 frames, sigma geometric from 5 to 0.01 (seed 001's range); the network was trained on
   seed 001's 10 levels, which are frames 0, 4, 8, ..., 36 (geometric spacing makes every 4th
   frame a training level), so the frames in between show the network at noise levels it never
   saw. Each frame holds, on a 20 x 20 grid over [-2.5, 2.5]^2:
   - the exact score of q_sigma for the training set: the 5000 training points smoothed by
     N(0, sigma^2 I), a mixture of point masses (ncsn_gmm_score); this is what DSM on these
     points converges to. As sigma nears the distance between neighbouring training points it
     points at individual points, which a network that generalises will not match;
   - the learned score of exercise 1's network (embedding 64, hidden 128 x 3, s = net/sigma,
     6000 Adam steps; 800 with --quick).
   Per frame it also measures the relative error of the network, mean ||s_net - s_exact|| / mean
   ||s_exact||, at 500 noisy training points x + sigma z (where DSM trains) and on the grid.

   usage: ex4_animation OUTDIR [--quick]
   writes OUTDIR/ex4_frame_NN.dat (NN = 00..36: x y exact_1 exact_2 net_1 net_2), ex4_frames.dat
   (frame sigma trained err_noisy err_grid, and log10 |s| ranges), ex4_data.dat. */
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
#define L 10
#define N_FRAMES 37         /* (N_FRAMES - 1) / (L - 1) = 4 frames per training level */
#define GRID 20
#define N_GRID (GRID * GRID)
#define N_NOISY 500
#define HALF_WIDTH 2.5f

/* mean ||a - b|| / mean ||b|| over n 2-D vectors */
static double rel_err(const float *a, const float *b, int n)
{
    double num = 0.0, den = 0.0;
    int i;
    for (i = 0; i < n; i++) {
        num += hypot(a[2 * i] - b[2 * i], a[2 * i + 1] - b[2 * i + 1]);
        den += hypot(b[2 * i], b[2 * i + 1]);
    }
    return num / den;
}

/* frame f at sigma s: the exact and learned scores on the grid to OUTDIR/ex4_frame_NN.dat, their
   errors (on the grid and at noisy training points) in a line of ff. 1: a score was not finite,
   -1: an error */
static int write_frame(const char *dir, FILE *ff, int f, float s, ncsn_model *m, const ncsn_gmm *emp, const float *grid,
                       const float *data, ncsn_rng *rng, int steps)
{
    static float se[N_GRID * 2], sn[N_GRID * 2], noisy[N_NOISY * 2], ne[N_NOISY * 2], nn[N_NOISY * 2];
    char name[64];
    float lo = INFINITY, hi = -INFINITY;
    double e_noisy, e_grid;
    int i, failed = 0;
    FILE *fp;
    if (ncsn_gmm_score(emp, se, grid, s, N_GRID) != NCSN_OK || ncsn_model_score(m, sn, grid, s, N_GRID) != NCSN_OK) {
        fprintf(stderr, "frame %d: %s\n", f, ncsn_last_error());
        return -1;
    }
    ncsn_rng_normals(rng, noisy, N_NOISY * 2);   /* noisy training points at this sigma */
    for (i = 0; i < N_NOISY * 2; i++) noisy[i] = fmaf(s, noisy[i], data[i]);
    ncsn_gmm_score(emp, ne, noisy, s, N_NOISY);
    ncsn_model_score(m, nn, noisy, s, N_NOISY);
    e_noisy = rel_err(nn, ne, N_NOISY);
    e_grid = rel_err(sn, se, N_GRID);
    snprintf(name, sizeof name, "ex4_frame_%02d.dat", f);
    fp = open_out(dir, name);
    fprintf(fp, "# sigma %g: x y exact_score_1 exact_score_2 net_score_1 net_score_2\n", (double)s);
    for (i = 0; i < N_GRID; i++) {
        float a = hypotf(se[2 * i], se[2 * i + 1]), b = hypotf(sn[2 * i], sn[2 * i + 1]);
        if (!isfinite(b)) failed = 1;
        if (a > 0 && log10f(a) < lo) lo = log10f(a);
        if (b > 0 && log10f(b) < lo) lo = log10f(b);
        if (log10f(a) > hi) hi = log10f(a);
        if (log10f(b) > hi) hi = log10f(b);
        fprintf(fp, "%.5g %.5g %.6g %.6g %.6g %.6g\n", grid[2 * i], grid[2 * i + 1], se[2 * i], se[2 * i + 1], sn[2 * i], sn[2 * i + 1]);
    }
    fclose(fp);
    fprintf(ff, "%d %.6g %d %.6g %.6g %.4g %.4g %d\n", f, (double)s, f % 4 == 0, e_noisy, e_grid, (double)lo, (double)hi, steps);
    if (f % 2 == 0)
        printf("  %5d %8.4f %8s | %26.4f | %17.4f\n", f, (double)s, f % 4 == 0 ? "yes" : "no", e_noisy, e_grid);
    return failed || !isfinite(e_noisy);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
    int steps = quick ? 800 : 6000, i, f, failed = 0;
    static float data[N_DATA * 2], w_pts[N_DATA], v0[N_DATA * 2];
    static float grid[N_GRID * 2];
    float sig[L], frame_sig[N_FRAMES];
    ncsn_config cfg = ncsn_config_embed(2, 64, 128, 3);
    ncsn_model *m = NULL;
    ncsn_trainer *tr;
    ncsn_gmm emp;
    ncsn_rng rng;
    double t0 = now(), t_train;
    FILE *fp, *ff;

    if (!dir) { fprintf(stderr, "usage: %s OUTDIR [--quick]\n", argv[0]); return 2; }
    ncsn_rng_seed(&rng, 2019, 401);
    ncsn_data_swiss_roll(&rng, data, N_DATA);
    cfg.scale_by_sigma = 1;
    if (ncsn_schedule(sig, L, 5.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC) != NCSN_OK ||
        ncsn_schedule(frame_sig, N_FRAMES, 5.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC) != NCSN_OK) {
        fprintf(stderr, "setup: %s\n", ncsn_last_error());
        return 1;
    }
    tr = ex_trainer(&cfg, data, N_DATA, sig, L, &rng, steps);   /* batches of 256, as torch.randperm()[:256] */
    rng = tr->rng;
    m = tr->model;
    t_train = now() - t0;

    for (i = 0; i < N_DATA; i++) w_pts[i] = 1.0f / N_DATA;   /* the training set as a mixture of point masses */
    emp.K = N_DATA; emp.dim = 2; emp.weights = w_pts; emp.means = data; emp.vars = v0;
    for (i = 0; i < N_GRID; i++) {   /* cell centres of a 20 x 20 grid */
        float h = 2.0f * HALF_WIDTH / GRID;
        grid[2 * i] = -HALF_WIDTH + h * (0.5f + (float)(i % GRID));
        grid[2 * i + 1] = -HALF_WIDTH + h * (0.5f + (float)(i / GRID));
    }
    printf("exercise 4: score field of the Swiss roll at %d sigmas 5 -> 0.01 (training levels: every 4th), %d x %d grid; "
           "network trained %d steps (%.1f s)%s\n", N_FRAMES, GRID, GRID, steps, t_train, quick ? " (quick)" : "");
    printf("  %5s %8s %8s | %-26s | %-17s\n", "frame", "sigma", "trained", "rel. error at noisy data", "rel. error, grid");
    ff = open_out(dir, "ex4_frames.dat");
    fprintf(ff, "# frame sigma trained(1 = a training level) err_noisy err_grid log10|s|_min log10|s|_max (exact and net, over the grid) steps\n");
    for (f = 0; f < N_FRAMES; f++) {
        int r = write_frame(dir, ff, f, frame_sig[f], m, &emp, grid, data, &rng, steps);
        if (r < 0) return 1;
        failed |= r;
    }
    fclose(ff);
    fp = open_out(dir, "ex4_data.dat");
    for (i = 0; i < N_DATA; i++) fprintf(fp, "%.5g %.5g\n", data[2 * i], data[2 * i + 1]);
    fclose(fp);
    printf("  (every 2nd frame shown; all %d in ex4_frames.dat)  total %.1f s\n", N_FRAMES, now() - t0);
    ncsn_trainer_free(tr);
    if (failed) fprintf(stderr, "ex4: the network gave a non-finite score\n");
    return failed;
}
