/* peak.c - this machine's peak FP32 FMA throughput (GFLOP/s) on 1 and 2 threads (pthreads).
   Each thread runs NACC independent chains acc = fma(acc, a, b) on full-width vectors
   (AVX-512: 16 floats, else AVX2+FMA: 8, else scalar fmaf), enough chains to cover the FMA
   latency times the number of FMA ports. 1 FMA = 2 FLOPs. Best of several trials (noise only
   ever lowers a throughput measurement).
   usage: peak [max_threads=2] [trials=7]
   prints: PEAK threads=<n> gflops=<best> isa=<name> (one line per thread count) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#define NACC 24
#define ITERS 4000000L   /* per trial per thread: NACC*ITERS FMAs */

#if defined(__AVX512F__)
#define ISA "avx512 (16 x fp32 per FMA)"
#define LANES 16
typedef __m512 vec;
#define VSET(x) _mm512_set1_ps(x)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
static float vsum(vec v) { return _mm512_reduce_add_ps(v); }
#elif defined(__AVX2__) && defined(__FMA__)
#define ISA "avx2+fma (8 x fp32 per FMA)"
#define LANES 8
typedef __m256 vec;
#define VSET(x) _mm256_set1_ps(x)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
static float vsum(vec v) { float t[8]; int i; float s = 0; _mm256_storeu_ps(t, v); for (i = 0; i < 8; i++) s += t[i]; return s; }
#else
#define ISA "scalar fmaf"
#define LANES 1
typedef float vec;
#define VSET(x) (x)
#define VFMA(a, b, c) fmaf(a, b, c)
static float vsum(vec v) { return v; }
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct { pthread_barrier_t *bar; float seed, out; double t0, t1; } job;

static void *run(void *p)
{
    job *j = (job *)p;
    vec acc[NACC], a = VSET(0.99999f), b = VSET(1e-6f);
    long it;
    int k;
    float s = 0.0f;
    for (k = 0; k < NACC; k++) acc[k] = VSET(j->seed + (float)k);
    pthread_barrier_wait(j->bar);
    j->t0 = now();
    for (it = 0; it < ITERS; it++) {
        /* NACC independent dependency chains, written out so that they stay in registers */
#define F4(i) acc[i] = VFMA(acc[i], a, b); acc[i + 1] = VFMA(acc[i + 1], a, b); \
              acc[i + 2] = VFMA(acc[i + 2], a, b); acc[i + 3] = VFMA(acc[i + 3], a, b);
        F4(0) F4(4) F4(8) F4(12) F4(16) F4(20)
#undef F4
    }
    j->t1 = now();
    for (k = 0; k < NACC; k++) s += vsum(acc[k]);
    j->out = s;
    return NULL;
}

int main(int argc, char **argv)
{
    int maxt = argc > 1 ? atoi(argv[1]) : 2, trials = argc > 2 ? atoi(argv[2]) : 7, nt, tr, i;
    float sink = 0.0f;
    if (maxt < 1 || maxt > 64 || trials < 1) { fprintf(stderr, "usage: peak [max_threads] [trials]\n"); return 2; }
    for (nt = 1; nt <= maxt; nt++) {
        double best = 0.0, all[64];
        for (tr = 0; tr < trials && tr < 64; tr++) {
            pthread_t th[64];
            job jobs[64];
            pthread_barrier_t bar;
            double t0 = 1e300, t1 = 0.0, gf;
            pthread_barrier_init(&bar, NULL, (unsigned)nt);
            for (i = 0; i < nt; i++) { jobs[i].bar = &bar; jobs[i].seed = (float)(tr + i); }
            for (i = 1; i < nt; i++) pthread_create(&th[i], NULL, run, &jobs[i]);
            run(&jobs[0]);
            for (i = 1; i < nt; i++) pthread_join(th[i], NULL);
            pthread_barrier_destroy(&bar);
            for (i = 0; i < nt; i++) {
                if (jobs[i].t0 < t0) t0 = jobs[i].t0;
                if (jobs[i].t1 > t1) t1 = jobs[i].t1;
                sink += jobs[i].out;
            }
            gf = (double)nt * ITERS * NACC * LANES * 2.0 / (t1 - t0) / 1e9;
            all[tr] = gf;
            if (gf > best) best = gf;
        }
        printf("PEAK threads=%d gflops=%.2f isa=%s trials=", nt, best, ISA);
        for (tr = 0; tr < trials && tr < 64; tr++) printf("%s%.1f", tr ? "," : "", all[tr]);
        printf("\n");
    }
    if (sink == 12345.0f) printf("(sink)\n");   /* keeps the accumulators live */
    return 0;
}
