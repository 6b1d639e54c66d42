/* ex_common.h - helpers the seed-001 exercise programs share (include after <math.h>, <stdio.h>,
   <stdlib.h> and <time.h>, with _POSIX_C_SOURCE >= 199309L for clock_gettime). */
#ifndef NCSN_EX_COMMON_H
#define NCSN_EX_COMMON_H

/* wall-clock seconds: the models may run on several threads */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* DIR/NAME opened for writing, or exit with the reason */
static FILE *open_out(const char *dir, const char *name)
{
    char path[1024];
    FILE *fp;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(fp = fopen(path, "w"))) { perror(path); exit(1); }
    return fp;
}

/* the exercises' training: the library's trainer with seed 001's recipe (batch 256, lr 1e-3, no
   EMA, no standardisation) on cfg and the levels sig[L]; the model's init continues *rng */
static inline ncsn_trainer *ex_trainer(const ncsn_config *cfg, const float *data, int n, const float *sig, int L, const ncsn_rng *rng)
{
    ncsn_train_opts o = ncsn_train_preset_seed001();
    ncsn_trainer *t = NULL;
    o.net = *cfg;
    o.sigmas = sig;
    o.levels = L;
    if (ncsn_trainer_create(&t, &o, data, n, cfg->dim, rng) != NCSN_OK) {
        fprintf(stderr, "setup: %s\n", ncsn_last_error());
        exit(1);
    }
    return t;
}

/* mean over the 2-d points of a of the distance to the nearest point of b (a sample-quality
   measure: how far generated points lie from the data); inline, so unused copies do not warn */
static inline double nn_dist(const float *a, int na, const float *b, int nb)
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
#endif
