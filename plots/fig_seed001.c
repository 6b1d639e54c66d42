/* fig_seed001.c - data for seed 001's multi-scale score figure (sec. 5.2: 4 of the 10 levels,
   linspace(0, L-1, 4) -> levels 0, 3, 6, 9, on a 15 x 15 grid over [-3, 3]^2).

   The model is trained exactly as seed001_swiss_roll.c trains it (same seed, same order of random
   draws, NCSNScoreNetwork with embedding 64 and hidden 128 x 3, batches of 256, 10000 Adam steps,
   levels 5 -> 0.01): the library is bit-reproducible, so this is the very network whose samples
   seed001_swiss_roll writes (--quick: 1000 steps, matching `seed001_swiss_roll 1000`). Beside each
   learned field is the exact score of the 5000 training points smoothed by sigma (point masses,
   the optimum DSM approaches).
   usage: fig_seed001 OUTDIR [--quick]
   writes OUTDIR/f1_field<k>.dat (x y, learned ux uy log10|s|, exact ux uy log10|s|; k = 0..3),
          OUTDIR/f1_data.dat (the 5000 training points), OUTDIR/f1_norms.dat (sigma, mean ||sigma s||
          learned and exact at 1000 noisy training points: the seed-002 diagnostic), OUTDIR/f1.key */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime, for now() in tools/common.h */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "../tools/common.h"

#define N_DATA 5000
#define L 10
#define G 15

int main(int argc, char **argv)
{
    const char *dir;
    int quick, steps, i, k;
    static float data[N_DATA * 2], w[N_DATA], v[N_DATA * 2], xy[G * G * 2], fl[G * G * 4], fe[G * G * 4],
        ll[G * G], le[G * G], ang[G * G], loss[10000];
    float sig[L], norms_net[L], norms_ex[L];
    ncsn_config cfg = ncsn_config_embed(2, 64, 128, 3);
    ncsn_model *m;
    ncsn_gmm emp;
    ncsn_rng rng, r2;
    FILE *fp, *key;

    if (!fig_args(argc, argv, &dir, &quick)) return 2;
    steps = quick ? 1000 : 10000;
    /* the same draws, in the same order, as seed001_swiss_roll.c */
    ncsn_rng_seed(&rng, 2019, 1);
    ncsn_data_swiss_roll(&rng, data, N_DATA);
    if (ncsn_schedule(sig, L, 5.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC) != NCSN_OK ||
        !(m = fig_train(&cfg, data, N_DATA, 256, sig, L, steps, 1e-3f, &rng, loss))) {
        fprintf(stderr, "fig_seed001: %s\n", ncsn_last_error());
        return 1;
    }
    emp = fig_point_masses(data, N_DATA, 2, w, v);
    key = open_out(dir, "f1.key");
    fprintf(key, "steps = %d\nloss = %.4f\nn_data = %d\nL = %d\nn_show = %d\n", steps, (double)loss[steps - 1], N_DATA, L, 4);
    fig_grid(xy, -3.0f, 3.0f, G, -3.0f, 3.0f, G);
    for (k = 0; k < 4; k++) {
        int lev = (int)((double)k * (L - 1) / 3.0);   /* np.linspace(0, L-1, 4).astype(int) */
        char name[32];
        double med;
        if (fig_field(ncsn_model_score, m, sig[lev], xy, G * G, fl, ll) != NCSN_OK ||
            fig_field(ncsn_gmm_score_fn, &emp, sig[lev], xy, G * G, fe, le) != NCSN_OK) {
            fprintf(stderr, "fig_seed001: %s\n", ncsn_last_error());
            return 1;
        }
        snprintf(name, sizeof name, "f1_field%d.dat", k);
        fp = open_out(dir, name);
        fprintf(fp, "# x y learned: ux uy log10|s|, exact: ux uy log10|s| (level %d, sigma %g)\n", lev + 1, (double)sig[lev]);
        med = fig_write_fields(fp, xy, G * G, fl, ll, fe, le, ang);   /* median angle between the directions */
        fclose(fp);
        fprintf(key, "sigma%d = %g\nlevel%d = %d\nangle%d = %.1f\n", k, (double)sig[lev], k, lev + 1, k, med);
    }
    fp = open_out(dir, "f1_data.dat");
    for (i = 0; i < N_DATA; i++) fprintf(fp, "%.5f %.5f\n", data[2 * i], data[2 * i + 1]);
    fclose(fp);
    /* the sigma ||s|| diagnostic on the Swiss roll: learned and exact, the same noise */
    r2 = rng;
    if (ncsn_sigma_score_norms(ncsn_model_score, m, 2, sig, L, data, 1000, &rng, norms_net) != NCSN_OK ||
        ncsn_sigma_score_norms(ncsn_gmm_score_fn, &emp, 2, sig, L, data, 1000, &r2, norms_ex) != NCSN_OK) {
        fprintf(stderr, "fig_seed001: %s\n", ncsn_last_error());
        return 1;
    }
    fp = open_out(dir, "f1_norms.dat");
    fprintf(fp, "# sigma, mean ||sigma s(x~, sigma)|| over 1000 noisy training points: learned, exact\n");
    for (i = 0; i < L; i++) fprintf(fp, "%.6g %.5f %.5f\n", (double)sig[i], (double)norms_net[i], (double)norms_ex[i]);
    fclose(fp);
    fclose(key);
    printf("fig_seed001: %d steps, last loss %.4f\n", steps, (double)loss[steps - 1]);
    ncsn_model_free(m);
    return 0;
}
