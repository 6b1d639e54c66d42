/* fig_seed002.c - data for seed 002's figures that need no network:
   - Figure 2 (Vincent 2011): a 1-D manifold (a curve) in 2-D, Gaussian corruption kernels, noisy
     samples x~ = x + sigma z, and the field r(x~) - x~ of the optimal denoiser r(x~) = E[x | x~],
     which is sigma^2 times the exact score of the curve's points smoothed by sigma (ncsn_gmm_score
     with point masses along the curve).
   - The sigma ||s|| diagnostic of sec. 5.3 on Song & Ermon's 1/5 : 4/5 toy with the exact score at
     the levels of seed002_toy_mixing (20 -> 1, L = 10).
   - The toy's weights, for the title of the mixing figure (the samples come from seed002_toy_mixing).
   usage: fig_seed002 OUTDIR [--quick]   (--quick changes nothing: everything here is fast)
   writes OUTDIR/f2_curve.dat (the curve's points), f2_kernels.dat (circles of radius sigma and 2 sigma),
          f2_noisy.dat (x~, then r(x~) - x~), f2_norms.dat (sigma, mean ||sigma s||), f2.key */
#define _POSIX_C_SOURCE 199309L   /* clock_gettime, for now() in tools/common.h */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "../tools/common.h"

#define K_CURVE 400
#define N_NOISY 400
#define N_TOY 1280

int main(int argc, char **argv)
{
    const char *dir;
    int quick, i, k, toward = 0;
    static float curve[K_CURVE * 2], w[K_CURVE], v[K_CURVE * 2], xt[N_NOISY * 2], field[N_NOISY * 2], toy[N_TOY * 2];
    float sig[10], norms[10], sigma = 0.3f;
    double dsum = 0.0, fsum = 0.0, maxdiff = 0.0;
    ncsn_gmm g;
    ncsn_rng rng;
    FILE *fp, *key;
    const ncsn_gmm *t = ncsn_gmm_toy();

    if (!fig_args(argc, argv, &dir, &quick)) return 2;
    ncsn_rng_seed(&rng, 2019, 300);
    for (k = 0; k < K_CURVE; k++) fig_wave(-4.0 + 8.0 * k / (K_CURVE - 1), curve + 2 * k);
    g = fig_point_masses(curve, K_CURVE, 2, w, v);
    for (i = 0; i < N_NOISY; i++) {   /* a clean point on the curve, then Gaussian corruption */
        float c[2], z[2];
        fig_wave(-3.6 + 7.2 * ncsn_rng_uniform(&rng), c);
        ncsn_rng_normals(&rng, z, 2);
        xt[2 * i] = c[0] + sigma * z[0];
        xt[2 * i + 1] = c[1] + sigma * z[1];
    }
    if (fig_dae_field(&g, sigma, xt, N_NOISY, field) != NCSN_OK) {
        fprintf(stderr, "fig_seed002: %s\n", ncsn_last_error());
        return 1;
    }
    fp = open_out(dir, "f2_noisy.dat");
    fprintf(fp, "# x~ (2), r(x~) - x~ = sigma^2 grad log q_sigma(x~) (2); sigma %g\n", (double)sigma);
    for (i = 0; i < N_NOISY; i++) {
        int n = fig_nearest(curve, K_CURVE, xt + 2 * i);
        double to[2], r[2], d;
        to[0] = curve[2 * n] - xt[2 * i];
        to[1] = curve[2 * n + 1] - xt[2 * i + 1];
        toward += to[0] * field[2 * i] + to[1] * field[2 * i + 1] > 0.0;
        dsum += hypot(to[0], to[1]);
        fsum += hypot(field[2 * i], field[2 * i + 1]);
        fig_posterior_mean(curve, K_CURVE, sigma, xt + 2 * i, r);
        d = hypot(r[0] - xt[2 * i] - field[2 * i], r[1] - xt[2 * i + 1] - field[2 * i + 1]);
        if (d > maxdiff) maxdiff = d;
        fprintf(fp, "%.5f %.5f %.6f %.6f\n", xt[2 * i], xt[2 * i + 1], field[2 * i], field[2 * i + 1]);
    }
    fclose(fp);
    fp = open_out(dir, "f2_curve.dat");
    for (k = 0; k < K_CURVE; k++) fprintf(fp, "%.5f %.5f\n", curve[2 * k], curve[2 * k + 1]);
    fclose(fp);
    fp = open_out(dir, "f2_kernels.dat");   /* x y radius, for 'with circles' */
    for (k = 0; k < 7; k++) {
        int j = (K_CURVE - 1) * (2 * k + 1) / 14;
        fprintf(fp, "%.5f %.5f %.4f\n%.5f %.5f %.4f\n", curve[2 * j], curve[2 * j + 1], (double)sigma, curve[2 * j],
                curve[2 * j + 1], 2.0 * sigma);
    }
    fclose(fp);
    key = open_out(dir, "f2.key");
    fprintf(key, "sigma = %g\nk_curve = %d\nn_noisy = %d\ntoward = %.4f\nmean_field = %.4f\nmean_dist = %.4f\nmax_diff = %.2g\n",
            (double)sigma, K_CURVE, N_NOISY, (double)toward / N_NOISY, fsum / N_NOISY, dsum / N_NOISY, maxdiff);

    /* the sigma ||s|| diagnostic on the toy, exact score */
    ncsn_schedule(sig, 10, 20.0f, 1.0f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_gmm_sample(t, &rng, toy, NULL, N_TOY);
    if (ncsn_sigma_score_norms(ncsn_gmm_score_fn, (void *)t, 2, sig, 10, toy, N_TOY, &rng, norms) != NCSN_OK) {
        fprintf(stderr, "fig_seed002: %s\n", ncsn_last_error());
        return 1;
    }
    fp = open_out(dir, "f2_norms.dat");
    fprintf(fp, "# sigma, mean ||sigma s(x~, sigma)|| over %d noisy toy points (exact score)\n", N_TOY);
    for (i = 0; i < 10; i++) fprintf(fp, "%.6g %.5f\n", (double)sig[i], (double)norms[i]);
    fclose(fp);
    fprintf(key, "toy_w0 = %g\ntoy_w1 = %g\ntoy_m0 = %g\ntoy_m1 = %g\nsqrt_pi_2 = %.4f\n", (double)t->weights[0],
            (double)t->weights[1], (double)t->means[0], (double)t->means[2], sqrt(FIG_PI / 2.0));
    fclose(key);
    printf("fig_seed002: DAE field at sigma %g points toward the curve at %.1f%% of %d noisy samples; "
           "max |sigma^2 score - (E[x|x~] - x~)| = %.2g\n", (double)sigma, 100.0 * toward / N_NOISY, N_NOISY, maxdiff);
    return 0;
}
