/* seed002_toy_mixing.c - Song & Ermon's toy (seed 002 sec. 7.2): p = 1/5 N((-5,-5), I) + 4/5 N((5,5), I).
   1280 samples from U[-8,8]^2, driven by the exact score (no network, so only the sampler is tested):
   plain Langevin (step 0.1, 1000 steps) against annealed Langevin (sigma 20 -> 1, L = 10, 100 steps
   per level, step 0.1 sigma_i^2), in both update forms of the seeds. Prints the recovered weights,
   per-mode statistics, and the seed-002 diagnostic mean ||sigma s|| per level.
   usage: seed002_toy_mixing [out_prefix]   (writes <prefix>_plain.csv, <prefix>_annealed.csv) */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#define N 1280

static void report(const char *what, const float *x)
{
    int i, k;
    printf("  %-34s", what);
    for (k = 0; k < 2; k++) {
        double s[2] = { 0, 0 }, q = 0;
        int c = 0;
        for (i = 0; i < N; i++)
            if ((x[2 * i] + x[2 * i + 1] < 0.0f) == (k == 0)) { c++; s[0] += x[2 * i]; s[1] += x[2 * i + 1]; }
        for (i = 0; i < N; i++)
            if ((x[2 * i] + x[2 * i + 1] < 0.0f) == (k == 0)) q += pow(x[2 * i] - s[0] / c, 2) + pow(x[2 * i + 1] - s[1] / c, 2);
        if (c) printf(" %s: weight %.3f mean (%+.2f,%+.2f) std %.2f |", k ? "(5,5)" : "(-5,-5)", (double)c / N, s[0] / c, s[1] / c, sqrt(q / (2.0 * c)));
        else printf(" %s: weight 0.000 |", k ? "(5,5)" : "(-5,-5)");
    }
    printf("\n");
}

static void save(const char *prefix, const char *tag, const float *x)
{
    char path[512];
    FILE *fp;
    int i;
    if (!prefix) return;
    snprintf(path, sizeof path, "%s_%s.csv", prefix, tag);
    if (!(fp = fopen(path, "w"))) { perror(path); exit(1); }
    for (i = 0; i < N; i++) fprintf(fp, "%.6g,%.6g\n", x[2 * i], x[2 * i + 1]);
    fclose(fp);
}

int main(int argc, char **argv)
{
    const char *prefix = argc > 1 ? argv[1] : NULL;
    static float x[N * 2], data[N * 2];
    float sig[10], norms[10];
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    ncsn_rng rng;
    const ncsn_gmm *g = ncsn_gmm_toy();
    int f, l;
    ncsn_rng_seed(&rng, 2019, 2);
    ncsn_schedule(sig, 10, 20.0f, 1.0f, NCSN_SCHEDULE_GEOMETRIC);
    printf("seed 002 / Song & Ermon toy: 1/5 N((-5,-5), I) + 4/5 N((5,5), I), %d samples from U[-8,8]^2, exact score\n", N);
    ncsn_gmm_sample(g, &rng, data, NULL, N);
    report("data", data);
    for (f = 0; f < 2; f++) {
        const char *form = f == NCSN_LANGEVIN_SONG ? "x+a s+sqrt(2a) z" : "x+a/2 s+sqrt(a) z";
        char what[64];
        o.form = (ncsn_langevin_form)f;
        o.init = NCSN_INIT_UNIFORM;
        o.init_lo = -8.0f;
        o.init_hi = 8.0f;
        ncsn_sample_langevin(ncsn_gmm_score_fn, (void *)g, 2, 0.0f, 0.1f, 1000, &o, &rng, x, N);
        snprintf(what, sizeof what, "plain, %s:", form);
        report(what, x);
        if (f == NCSN_LANGEVIN_SONG) save(prefix, "plain", x);
        o.eps = 0.1f;   /* a_i = 0.1 (sigma_i/sigma_L)^2 = 0.1 sigma_i^2 since sigma_L = 1 */
        o.steps_per_level = 100;
        ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)g, 2, sig, 10, &o, &rng, x, N);
        snprintf(what, sizeof what, "annealed, %s:", form);
        report(what, x);
        if (f == NCSN_LANGEVIN_SONG) save(prefix, "annealed", x);
    }
    ncsn_sigma_score_norms(ncsn_gmm_score_fn, (void *)g, 2, sig, 10, data, N, &rng, norms);
    printf("  seed 002 sec. 5.3 diagnostic, mean ||sigma s(x~, sigma)|| at noisy data (exact score):\n   ");
    for (l = 0; l < 10; l++) printf(" %.2f@%.3g", (double)norms[l], (double)sig[l]);
    printf("\n");
    return 0;
}
