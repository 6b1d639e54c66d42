/* fig_score_error.c - data for seed 000's first figure: score estimation is unreliable far from
   the data. A score net (ScoreNet, 3 -> 64 -> 64 -> 64 -> 2, SiLU) is trained by DSM at ONE small
   noise level sigma = 0.1 on seed 000's two Gaussians, so it only ever sees points within a few
   tenths of the data; its error against the exact score of q_sigma is then mapped over the plane.
   usage: fig_score_error OUTDIR [--quick]
   writes OUTDIR/f0e_grid.dat  (x y ||s_theta - s|| ||s|| relative-error, rows of constant y)
          OUTDIR/f0e_arrows.dat (x y, then unit directions of the learned and the exact score: 17 x 13 grid)
          OUTDIR/f0e_data.dat  (500 training points)
          OUTDIR/f0e.key       (sigma, steps, median relative errors near and far from the data) */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime, for now() in tools/common.h */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "../tools/common.h"

#define N_DATA 5000
#define NX 161
#define NY 121
#define CENTRE 3.0   /* the data's mode centres are (+-3, 0) */
#define R_NEAR 1.0   /* "near": within 2 data stds of a centre; "far": farther than 6 from both */
#define R_FAR 3.0
#define AX 17
#define AY 13

int main(int argc, char **argv)
{
    const char *dir;
    int quick, steps, i, n_near = 0, n_far = 0;
    static float data[N_DATA * 2], xy[NX * NY * 2], err[NX * NY], mag[NX * NY], near[NX * NY], far[NX * NY];
    static float axy[AX * AY * 2], fl[AX * AY * 4], fe[AX * AY * 4], lm[AX * AY];
    float sig[1] = { 0.1f };
    ncsn_config cfg = ncsn_config_concat(2, 64, 3);
    ncsn_model *m;
    ncsn_rng rng;
    FILE *fp;
    double med_near, med_far;

    if (!fig_args(argc, argv, &dir, &quick)) return 2;
    steps = quick ? 400 : 2000;
    ncsn_rng_seed(&rng, 2019, 100);
    ncsn_data_two_gaussians(&rng, data, N_DATA);
    if (!(m = fig_train(&cfg, data, N_DATA, 512, sig, 1, steps, 1e-3f, &rng, NULL))) {
        fprintf(stderr, "training: %s\n", ncsn_last_error());
        return 1;
    }
    fig_grid(xy, -8.0f, 8.0f, NX, -6.0f, 6.0f, NY);
    if (fig_score_error(ncsn_model_score, m, ncsn_gmm_two_gaussians(), sig[0], xy, NX * NY, err, mag) != NCSN_OK) {
        fprintf(stderr, "score: %s\n", ncsn_last_error());
        return 1;
    }
    fp = open_out(dir, "f0e_grid.dat");
    fprintf(fp, "# x y err=||s_theta-s_exact|| ||s_exact|| rel=err/||s_exact||  (sigma %g)\n", (double)sig[0]);
    for (i = 0; i < NX * NY; i++) {
        double dc = hypot(fabs(xy[2 * i]) - CENTRE, xy[2 * i + 1]), rel = err[i] / (mag[i] > 0 ? mag[i] : 1e-30f);
        if (dc < R_NEAR) near[n_near++] = (float)rel;
        else if (dc > R_FAR) far[n_far++] = (float)rel;
        fprintf(fp, "%.4f %.4f %.6g %.6g %.6g\n", xy[2 * i], xy[2 * i + 1], err[i], mag[i], rel);
        if (i % NX == NX - 1) fprintf(fp, "\n");
    }
    fclose(fp);
    med_near = fig_median(near, n_near);
    med_far = fig_median(far, n_far);
    fig_grid(axy, -7.5f, 7.5f, AX, -5.5f, 5.5f, AY);
    if (fig_field(ncsn_model_score, m, sig[0], axy, AX * AY, fl, lm) != NCSN_OK ||
        fig_field(ncsn_gmm_score_fn, (void *)ncsn_gmm_two_gaussians(), sig[0], axy, AX * AY, fe, lm) != NCSN_OK) {
        fprintf(stderr, "field: %s\n", ncsn_last_error());
        return 1;
    }
    fp = open_out(dir, "f0e_arrows.dat");
    fprintf(fp, "# x y learned_ux learned_uy exact_ux exact_uy (unit directions)\n");
    for (i = 0; i < AX * AY; i++)
        fprintf(fp, "%.4f %.4f %.5f %.5f %.5f %.5f\n", axy[2 * i], axy[2 * i + 1], fl[4 * i + 2], fl[4 * i + 3], fe[4 * i + 2], fe[4 * i + 3]);
    fclose(fp);
    fp = open_out(dir, "f0e_data.dat");
    for (i = 0; i < 500; i++) fprintf(fp, "%.5f %.5f\n", data[2 * i], data[2 * i + 1]);
    fclose(fp);
    fp = open_out(dir, "f0e.key");
    fprintf(fp, "sigma = %g\nsteps = %d\nmed_near = %.4f\nmed_far = %.4f\nr_near = %g\nr_far = %g\n", (double)sig[0], steps,
            med_near, med_far, R_NEAR, R_FAR);
    fclose(fp);
    printf("fig_score_error: sigma %g, %d steps: median relative error %.3f within %g of a mode centre, %.3f beyond %g\n",
           (double)sig[0], steps, med_near, R_NEAR, med_far, R_FAR);
    ncsn_model_free(m);
    return 0;
}
