/* harness.h - the timing loop shared by the C programs of `make bench` (bench.c: ncsn.h, built
   with -march=native and with baseline flags; bench_dnnl.cpp: oneDNN), so that every side is
   timed the same way. C99 and C++; one program includes it once.

   bench_measure(): per thread count a warm-up, which also sizes that count's reps (k iterations
   ~ rep_time); then the timed reps, alternating between the thread counts, each after one
   untimed iteration (a thread pool starts). Prints one line per thread count:
     JSON {"side":S,"workload":W,"threads":n,"k":k,"times":[wall s per iteration...],"cpu":[...]}
   A slow build is bounded by max_seconds: when one iteration takes longer than rep_time the
   warm-up is that single iteration, k is 1 and the reps skip their untimed iteration, and no rep
   starts after max_seconds of reps (each thread count gets at least one), so "times" may be
   shorter. */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#define BENCH_MAX_REPS 200
#define BENCH_MAX_THREADS 8

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double bench_cpu_now(void)   /* CPU time of the whole process (all threads) */
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* peak resident set of this process in kB: VmHWM (reset at exec, unlike ru_maxrss, which on
   Linux also remembers the memory of the process that forked us before it exec'd) */
static long bench_vm_hwm_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp) return -1;
    while (fgets(line, sizeof line, fp))
        if (!strncmp(line, "VmHWM:", 6)) { kb = strtol(line + 6, NULL, 10); break; }
    fclose(fp);
    return kb;
}

typedef struct bench_opts {
    int threads[BENCH_MAX_THREADS], nthr, reps;
    double rep_time, max_seconds;   /* max_seconds <= 0: no bound */
    const char *models;
    long quantum;                   /* k is rounded up to a multiple of it (whole levels, chains) unless slow */
} bench_opts;

/* parses argv[first..]: --threads 1,2 --reps N --rep-time S --models DIR --max-seconds S;
   returns 0, or prints why and returns 2 */
static int bench_parse(bench_opts *o, int argc, char **argv, int first)
{
    int i;
    memset(o, 0, sizeof *o);
    o->threads[0] = 1; o->threads[1] = 2; o->nthr = 2;
    o->reps = 5; o->rep_time = 0.15; o->quantum = 1;
    for (i = first; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            char *p = argv[++i];
            o->nthr = 0;
            while (*p && o->nthr < BENCH_MAX_THREADS) { o->threads[o->nthr++] = (int)strtol(p, &p, 10); if (*p == ',') p++; }
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) o->reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rep-time") && i + 1 < argc) o->rep_time = atof(argv[++i]);
        else if (!strcmp(argv[i], "--max-seconds") && i + 1 < argc) o->max_seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--models") && i + 1 < argc) o->models = argv[++i];
        else { fprintf(stderr, "bench: unknown argument %s\n", argv[i]); return 2; }
    }
    for (i = 0; i < o->nthr; i++)
        if (o->threads[i] < 1) { fprintf(stderr, "bench: --threads %d must be >= 1\n", o->threads[i]); return 2; }
    if (o->reps < 1 || o->reps > BENCH_MAX_REPS || o->nthr < 1 || !(o->rep_time > 0.0)) {
        fprintf(stderr, "bench: --reps %d (1..%d), --threads or --rep-time %g (> 0) out of range\n", o->reps, BENCH_MAX_REPS, o->rep_time);
        return 2;
    }
    return 0;
}

/* block(ctx, k) runs >= k iterations and returns how many; set_threads(ctx, n) before each */
static void bench_measure(const char *side, const char *w, const bench_opts *o, void *ctx,
                          long (*block)(void *, long), void (*set_threads)(void *, int))
{
    static double times[BENCH_MAX_THREADS][BENCH_MAX_REPS], cpu[BENCH_MAX_THREADS][BENCH_MAX_REPS];
    long ks[BENCH_MAX_THREADS], done, k;
    int slow[BENCH_MAX_THREADS], nrep[BENCH_MAX_THREADS], r, ti;
    double t, c, per_iter, t_reps;
    for (ti = 0; ti < o->nthr; ti++) {
        set_threads(ctx, o->threads[ti]);
        t = bench_now();
        done = block(ctx, 1);
        per_iter = (bench_now() - t) / (double)done;
        slow[ti] = per_iter > o->rep_time;
        if (!slow[ti]) {   /* the first iteration was cold; size k on warm ones */
            t = bench_now();
            done = 0;
            while (bench_now() - t < 0.3 * o->rep_time || done < 2) done += block(ctx, 1);
            per_iter = (bench_now() - t) / (double)done;
        }
        k = (long)ceil(o->rep_time / per_iter);
        if (k < 1) k = 1;
        if (o->quantum > 1 && !slow[ti]) k = (k + o->quantum - 1) / o->quantum * o->quantum;
        ks[ti] = k;
        nrep[ti] = 0;
    }
    t_reps = bench_now();
    for (r = 0; r < o->reps; r++) {
        if (r > 0 && o->max_seconds > 0.0 && bench_now() - t_reps > o->max_seconds) break;
        for (ti = 0; ti < o->nthr; ti++) {
            set_threads(ctx, o->threads[ti]);
            if (!slow[ti]) block(ctx, 1);   /* untimed: the pool's threads start */
            c = bench_cpu_now();
            t = bench_now();
            done = block(ctx, ks[ti]);
            times[ti][r] = (bench_now() - t) / (double)done;
            cpu[ti][r] = (bench_cpu_now() - c) / (double)done;
            nrep[ti]++;
        }
    }
    for (ti = 0; ti < o->nthr; ti++) {
        printf("JSON {\"side\":\"%s\",\"workload\":\"%s\",\"threads\":%d,\"k\":%ld,\"times\":[", side, w, o->threads[ti], ks[ti]);
        for (r = 0; r < nrep[ti]; r++) printf("%s%.9g", r ? "," : "", times[ti][r]);
        printf("],\"cpu\":[");
        for (r = 0; r < nrep[ti]; r++) printf("%s%.9g", r ? "," : "", cpu[ti][r]);
        printf("]}\n");
    }
}
#endif
