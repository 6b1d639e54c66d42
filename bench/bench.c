/* bench.c - the ncsn.h side of `make bench` (bench/run.py runs it next to bench/bench_torch.py).

   usage:
     bench W1|W2|W3|W4|W5 [--threads 1,2] [--reps 5] [--rep-time 0.15] [--models DIR]
     bench prep DIR [steps000] [steps001]   train seed 000's and seed 001's networks briefly and
                                            save DIR/seed000.safetensors, DIR/seed001.safetensors
                                            (W3/W4 sample with them; bench_torch.py loads the same
                                            files, so both sides sample with the same weights)

   Workloads (one "iteration" is what the time is per):
     W1  seed 000 training step: full batch 5000, ScoreNet 3-128-128-128-2 (concat sigma), sigma^2
         DSM loss + backward + Adam (lr 1e-3); zero_grad + ncsn_dsm_loss + ncsn_model_adam_step, as
         examples/seed000_two_gaussians.c does.
     W2  seed 001 training step: batch 256 drawn as the first 256 of a random permutation of 5000
         Swiss-roll points, NCSNScoreNetwork (embedding 64, hidden 128x3), sigma^2 DSM + Adam, as
         examples/seed001_swiss_roll.c does.
     W3  seed 000 sampler as the seed writes it: one chain (batch 1), per Langevin step
         ncsn_model_score on 1 point + 2 normals + ncsn_langevin_update (SONG form, eps 5e-5,
         10 levels 10 -> 0.01, 100 steps per level; each chain starts at N(0, I)).
     W4  seed 001 sampler: 1000 chains in one batch, per Langevin step, ncsn_sample_annealed
         (HALF form, eps 1e-4, 10 levels 5 -> 0.01, start N(0, 25 I)).
     W5  wide MLP training step, batch 128: 785-1024-1024-784 (784-dim data, sigma concatenated),
         sigma^2 DSM + Adam; data U[0,1)^784, 10 levels 1 -> 0.01.

   Output: one line per thread count,
     JSON {"side":"ncsn","workload":"W1","threads":1,"k":3,"times":[wall seconds per iteration, ...],
           "cpu":[process CPU seconds per iteration, ...]}
   and at the end
     JSON {"side":"ncsn","workload":"W1","vmhwm_kb":N,"ru_maxrss_kb":N,"simd":"avx512",...}
   Each timed rep runs k iterations (k chosen per thread count from a warm-up, so that a rep
   lasts about --rep-time seconds); reps alternate between the thread counts (interleaved), each
   after one untimed iteration. */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <sys/resource.h>

#define L 10
#define MAX_REPS 200
#define MAX_THREADS 8

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)   /* CPU time of the whole process (all threads) */
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* peak resident set of this process in kB: VmHWM (reset at exec, unlike ru_maxrss, which on
   Linux also remembers the memory of the process that forked us before it exec'd) */
static long vm_hwm_kb(void)
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

static void die(const char *what)
{
    fprintf(stderr, "bench: %s: %s\n", what, ncsn_last_error());
    exit(1);
}
#define CHECK(call, what) do { if ((call) != NCSN_OK) die(what); } while (0)

typedef struct state {
    const char *w;
    ncsn_model *m;
    ncsn_adam opt;
    ncsn_dsm_batch bt;
    ncsn_rng rng;
    float sig[L];
    float *data, *batch, *x, *s, z[2];
    int n_data, B, *perm;
    int nonfinite;   /* W3/W4: chains that left the finite range (reported, not an error) */
} state;

/* ---- setup ------------------------------------------------------------------------------------ */
static void make_model(state *st, const ncsn_config *cfg, const char *models, const char *file)
{
    char path[1024];
    FILE *fp = NULL;
    if (models) {
        snprintf(path, sizeof path, "%s/%s", models, file);
        fp = fopen(path, "rb");
    }
    if (fp) {
        fclose(fp);
        CHECK(ncsn_model_load(&st->m, path), path);
    } else {
        CHECK(ncsn_model_create(&st->m, cfg), "model_create");
        CHECK(ncsn_model_init(st->m, &st->rng), "model_init");
        if (models) fprintf(stderr, "bench: %s not found, sampling with untrained weights\n", path);
    }
}

static void setup(state *st, const char *w, const char *models)
{
    memset(st, 0, sizeof *st);
    st->w = w;
    ncsn_rng_seed(&st->rng, 2019, 7);
    if (!strcmp(w, "W1") || !strcmp(w, "W3")) {
        ncsn_config cfg = ncsn_config_concat(2, 128, 3);
        CHECK(ncsn_schedule(st->sig, L, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC), "schedule");
        if (!strcmp(w, "W1")) {
            st->n_data = st->B = 5000;
            st->data = (float *)malloc(sizeof(float) * 2 * 5000);
            ncsn_data_two_gaussians(&st->rng, st->data, 5000);
            CHECK(ncsn_model_create(&st->m, &cfg), "model_create");
            CHECK(ncsn_model_init(st->m, &st->rng), "model_init");
        } else {
            make_model(st, &cfg, models, "seed000.safetensors");
            st->x = (float *)malloc(sizeof(float) * 2);
            st->s = (float *)malloc(sizeof(float) * 2);
        }
    } else if (!strcmp(w, "W2") || !strcmp(w, "W4")) {
        ncsn_config cfg = ncsn_config_embed(2, 64, 128, 3);
        CHECK(ncsn_schedule(st->sig, L, 5.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC), "schedule");
        if (!strcmp(w, "W2")) {
            int i;
            st->n_data = 5000;
            st->B = 256;
            st->data = (float *)malloc(sizeof(float) * 2 * 5000);
            st->batch = (float *)malloc(sizeof(float) * 2 * 256);
            st->perm = (int *)malloc(sizeof(int) * 5000);
            for (i = 0; i < 5000; i++) st->perm[i] = i;
            ncsn_data_swiss_roll(&st->rng, st->data, 5000);
            CHECK(ncsn_model_create(&st->m, &cfg), "model_create");
            CHECK(ncsn_model_init(st->m, &st->rng), "model_init");
        } else {
            make_model(st, &cfg, models, "seed001.safetensors");
            st->x = (float *)malloc(sizeof(float) * 2 * 1000);
        }
    } else if (!strcmp(w, "W5")) {
        ncsn_config cfg = ncsn_config_concat(784, 1024, 2);
        size_t i;
        CHECK(ncsn_schedule(st->sig, L, 1.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC), "schedule");
        st->n_data = st->B = 128;
        st->data = (float *)malloc(sizeof(float) * 784 * 128);
        for (i = 0; i < (size_t)784 * 128; i++) st->data[i] = ncsn_rng_uniform(&st->rng);
        CHECK(ncsn_model_create(&st->m, &cfg), "model_create");
        CHECK(ncsn_model_init(st->m, &st->rng), "model_init");
    } else {
        fprintf(stderr, "bench: unknown workload %s (W1..W5, prep)\n", w);
        exit(2);
    }
    if (st->B) {
        CHECK(ncsn_adam_create(&st->opt, st->m->n_params, 1e-3f), "adam_create");
        CHECK(ncsn_dsm_batch_alloc(&st->bt, st->B, st->m->cfg.dim), "dsm_batch_alloc");
        CHECK(ncsn_model_reserve(st->m, st->B), "reserve");
    }
}

/* ---- one block of k iterations ------------------------------------------------------------------ */
static void train_step(state *st)
{
    const float *x = st->data;
    float loss;
    if (st->batch) {   /* W2: the first 256 of a random permutation */
        ncsn_minibatch(&st->rng, st->perm, st->n_data, st->data, 2, st->batch, st->B);
        x = st->batch;
    }
    ncsn_model_zero_grad(st->m);
    CHECK(ncsn_dsm_loss(st->m, &st->bt, x, st->B, st->sig, L, NCSN_WEIGHT_SIGMA2, &st->rng, NULL, NULL, 1, &loss), "dsm_loss");
    CHECK(ncsn_model_adam_step(st->m, &st->opt), "adam_step");
}

/* W3: one chain of 10 levels x steps_per_level, batch 1, the seed's loop written out */
static void chain_w3(state *st, int steps_per_level)
{
    int l, t;
    ncsn_rng_normals(&st->rng, st->x, 2);   /* x = torch.randn(1, dim) */
    for (l = 0; l < L; l++) {
        float cs, cn;
        CHECK(ncsn_langevin_coeffs(NCSN_LANGEVIN_SONG, 5e-5f, st->sig[l], st->sig[L - 1], &cs, &cn), "coeffs");
        for (t = 0; t < steps_per_level; t++) {
            CHECK(ncsn_model_score(st->m, st->s, st->x, st->sig[l], 1), "model_score");
            ncsn_rng_normals(&st->rng, st->z, 2);
            ncsn_langevin_update(st->x, st->s, st->z, 2, cs, cn);
        }
    }
    if (!(isfinite(st->x[0]) && isfinite(st->x[1]))) st->nonfinite++;
}

/* runs >= k iterations; returns how many it ran */
static long run_block(state *st, long k)
{
    long i;
    if (!strcmp(st->w, "W3")) {   /* whole chains of 1000 steps when k allows, as the seed runs them */
        int per = k >= 1000 ? 100 : (int)((k + 9) / 10);
        long done = 0;
        while (done < k) { chain_w3(st, per); done += 10L * per; }
        return done;
    }
    if (!strcmp(st->w, "W4")) {
        ncsn_sampler_opts o = ncsn_sampler_defaults();
        ncsn_status s;
        o.form = NCSN_LANGEVIN_HALF;
        o.eps = 1e-4f;
        o.steps_per_level = (int)((k + 9) / 10);
        o.init = NCSN_INIT_NORMAL_SIGMA1;
        s = ncsn_sample_annealed(ncsn_model_score, st->m, 2, st->sig, L, &o, &st->rng, st->x, 1000);
        if (s == NCSN_ERR_NONFINITE) st->nonfinite++;
        else if (s != NCSN_OK) die("sample_annealed");
        return 10L * o.steps_per_level;
    }
    for (i = 0; i < k; i++) train_step(st);
    return k;
}

/* ---- prep: brief training of the two sampler networks ------------------------------------------ */
static int prep(const char *dir, int steps0, int steps1)
{
    char path[1024];
    state a, b;
    int i;
    double t0 = now();
    setup(&a, "W1", NULL);
    CHECK(ncsn_model_set_threads(a.m, 2), "set_threads");
    for (i = 0; i < steps0; i++) train_step(&a);
    snprintf(path, sizeof path, "%s/seed000.safetensors", dir);
    CHECK(ncsn_model_save(a.m, path), path);
    setup(&b, "W2", NULL);
    for (i = 0; i < steps1; i++) train_step(&b);
    snprintf(path, sizeof path, "%s/seed001.safetensors", dir);
    CHECK(ncsn_model_save(b.m, path), path);
    printf("prep: seed000 %d steps (batch 5000), seed001 %d steps (batch 256), %.1f s -> %s\n",
           steps0, steps1, now() - t0, dir);
    return 0;
}

int main(int argc, char **argv)
{
    const char *w, *models = NULL;
    int threads[MAX_THREADS] = { 1, 2 }, nthr = 2, reps = 5, r, ti, i;
    double rep_time = 0.15, t, per_iter;
    static double times[MAX_THREADS][MAX_REPS], cpu[MAX_THREADS][MAX_REPS];
    double c;
    long k, done, ks[MAX_THREADS];
    state st;
    struct rusage ru;

    if (argc < 2) { fprintf(stderr, "usage: bench W1..W5 [--threads 1,2] [--reps N] [--rep-time S] [--models DIR] | bench prep DIR\n"); return 2; }
    w = argv[1];
    if (!strcmp(w, "prep")) {
        if (argc < 3) { fprintf(stderr, "usage: bench prep DIR [steps000] [steps001]\n"); return 2; }
        return prep(argv[2], argc > 3 ? atoi(argv[3]) : 300, argc > 4 ? atoi(argv[4]) : 2000);
    }
    for (i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            char *p = argv[++i];
            nthr = 0;
            while (*p && nthr < MAX_THREADS) { threads[nthr++] = (int)strtol(p, &p, 10); if (*p == ',') p++; }
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rep-time") && i + 1 < argc) rep_time = atof(argv[++i]);
        else if (!strcmp(argv[i], "--models") && i + 1 < argc) models = argv[++i];
        else { fprintf(stderr, "bench: unknown argument %s\n", argv[i]); return 2; }
    }
    if (reps < 1 || reps > MAX_REPS || nthr < 1) { fprintf(stderr, "bench: bad --reps/--threads\n"); return 2; }
    setup(&st, w, models);

    /* per thread count: warm-up, which also sizes that count's reps (k iterations ~ rep_time) */
    for (ti = 0; ti < nthr; ti++) {
        CHECK(ncsn_model_set_threads(st.m, threads[ti]), "set_threads");
        run_block(&st, 1);
        t = now();
        done = 0;
        while (now() - t < 0.3 * rep_time || done < 2) done += run_block(&st, 1);
        per_iter = (now() - t) / (double)done;
        k = (long)ceil(rep_time / per_iter);
        if (k < 1) k = 1;
        if (!strcmp(w, "W3") && k > 1000) k = (k + 999) / 1000 * 1000;   /* whole chains */
        if (!strcmp(w, "W4")) k = (k + 9) / 10 * 10;                     /* whole levels */
        ks[ti] = k;
    }
    /* timed reps, alternating between the thread counts */
    for (r = 0; r < reps; r++)
        for (ti = 0; ti < nthr; ti++) {
            CHECK(ncsn_model_set_threads(st.m, threads[ti]), "set_threads");
            run_block(&st, 1);   /* untimed: the pool's threads start */
            c = cpu_now();
            t = now();
            done = run_block(&st, ks[ti]);
            times[ti][r] = (now() - t) / (double)done;
            cpu[ti][r] = (cpu_now() - c) / (double)done;
        }
    for (ti = 0; ti < nthr; ti++) {
        printf("JSON {\"side\":\"ncsn\",\"workload\":\"%s\",\"threads\":%d,\"k\":%ld,\"times\":[", w, threads[ti], ks[ti]);
        for (r = 0; r < reps; r++) printf("%s%.9g", r ? "," : "", times[ti][r]);
        printf("],\"cpu\":[");
        for (r = 0; r < reps; r++) printf("%s%.9g", r ? "," : "", cpu[ti][r]);
        printf("]}\n");
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("JSON {\"side\":\"ncsn\",\"workload\":\"%s\",\"vmhwm_kb\":%ld,\"ru_maxrss_kb\":%ld,\"simd\":\"%s\",\"n_params\":%lu,\"nonfinite_chains\":%d}\n",
           w, vm_hwm_kb(), (long)ru.ru_maxrss, ncsn_simd_name(), (unsigned long)st.m->n_params, st.nonfinite);
    return 0;
}
