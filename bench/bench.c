/* bench.c - the ncsn.h side of `make bench` (bench/run.py runs it next to bench/bench_torch.py).

   usage:
     bench W1..W14 [--threads 1,2] [--reps 5] [--rep-time 0.15] [--models DIR] [--max-seconds S]
     bench prep DIR [steps000] [steps001]   train seed 000's and seed 001's networks briefly and
                                            save DIR/seed000.safetensors, DIR/seed001.safetensors
                                            (W3/W4 sample with them; bench_torch.py loads the same
                                            files, so both sides sample with the same weights)

   Workloads (one "iteration" is what the time is per):
     W1  seed 000 training step: full batch 5000, ScoreNet 3-128-128-128-2 (concat sigma), sigma^2
         DSM loss + backward + Adam (lr 1e-3); ncsn_dsm_loss + ncsn_model_adam_step (which zeroes the gradients), as
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
     W6, W7, W8  W4's sampler and network with 1, 100 and 10 000 chains.
     W9, W10     the sampler on W5's network (784-dim, freshly initialised), 1 and 128 chains:
                 ncsn_sample_annealed, SONG form, eps 5e-5, 10 levels 1 -> 0.01, start N(0, I).
     W13, W14    the recipe's training step up to 16 columns (ncsn train's default on 2-D data):
                 batch 512, the first 512 of a random permutation of 5000 Swiss-roll points,
                 embedding 64, 128x3, s = net/sigma, sigma^2 DSM + Adam; W13 with the stable target
                 (ncsn_dsm_opts.stable_target: B^2 distances and weights a step), W14 without:
                 W13/W14 is the stable target's cost.
     W11, W12    inpainting's score on W5's network, 128 chains of 784 with the upper half known,
                 sigma 0.5, per call: W11 the reconstruction-guided score (ncsn_score_guided,
                 weight 4: the model's score plus one backward pass to the input only), W12 the
                 model's score (ncsn_model_score) on the same chains: W11/W12 is guidance's cost.
   Sampler blocks (W4, W6..W10) of k < 10 steps run the first k levels, 1 step each (the cost of
   a step does not depend on sigma; this only matters for a slow build, see --max-seconds).

   Output: one line per thread count,
     JSON {"side":"ncsn","workload":"W1","threads":1,"k":3,"times":[wall seconds per iteration, ...],
           "cpu":[process CPU seconds per iteration, ...]}
   and at the end
     JSON {"side":"ncsn","workload":"W1","vmhwm_kb":N,"ru_maxrss_kb":N,"simd":"avx512",...}
   Each timed rep runs k iterations (k chosen per thread count from a warm-up, so that a rep
   lasts about --rep-time seconds); reps alternate between the thread counts (interleaved), each
   after one untimed iteration. --max-seconds S bounds a slow build (baseline flags without a
   fast kernel path): see harness.h. */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "harness.h"
#include <sys/resource.h>

#define L 10

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
    int chains, dim;                      /* sampler workloads (W4, W6..W10) */
    ncsn_guide guide;                     /* W11 */
    float *known;                         /* W11, W12: 128 x 784 */
    unsigned char *mask;
    ncsn_langevin_form form;
    float eps;
    int nonfinite;   /* samplers: chains that left the finite range (reported, not an error) */
    int stable_target;                    /* W13 */
} state;

/* ---- setup ------------------------------------------------------------------------------------ */
/* chains of a sampler workload on seed 001's network (wide = 0: W4, W6..W8) or on W5's (wide = 1:
   W9, W10); 0 if w is not one */
static int sampler_chains(const char *w, int wide)
{
    static const struct { const char *w; int wide, chains; } tab[] = {
        { "W4", 0, 1000 }, { "W6", 0, 1 }, { "W7", 0, 100 }, { "W8", 0, 10000 }, { "W9", 1, 1 }, { "W10", 1, 128 }
    };
    size_t i;
    for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(w, tab[i].w) && tab[i].wide == wide) return tab[i].chains;
    return 0;
}

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

/* W11 (guided) and W12: W5's network, 128 chains of N(0, I), the upper half of each known (uniform) */
static void setup_inpaint(state *st, int guided)
{
    ncsn_config cfg = ncsn_config_concat(784, 1024, 2);
    size_t i, N = (size_t)784 * 128;
    CHECK(ncsn_model_create(&st->m, &cfg), "model_create");
    CHECK(ncsn_model_init(st->m, &st->rng), "model_init");
    st->dim = 784;
    st->x = (float *)malloc(sizeof(float) * N);
    st->s = (float *)malloc(sizeof(float) * N);
    st->known = (float *)malloc(sizeof(float) * N);
    st->mask = (unsigned char *)malloc(N);
    if (!st->x || !st->s || !st->known || !st->mask) { fprintf(stderr, "bench: out of memory\n"); exit(1); }
    ncsn_rng_normals(&st->rng, st->x, N);
    for (i = 0; i < N; i++) { st->known[i] = ncsn_rng_uniform(&st->rng); st->mask[i] = (unsigned char)(i % 784 < 392); }
    if (guided) CHECK(ncsn_guide_init(&st->guide, st->m, st->known, st->mask, 4.0f, 128), "guide_init");
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
    } else if (!strcmp(w, "W2") || !strcmp(w, "W13") || !strcmp(w, "W14") || sampler_chains(w, 0) > 0) {
        ncsn_config cfg = ncsn_config_embed(2, 64, 128, 3);
        int recipe = !strcmp(w, "W13") || !strcmp(w, "W14");
        CHECK(ncsn_schedule(st->sig, L, 5.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC), "schedule");
        if (recipe) {   /* the recipe's network and batch */
            cfg.scale_by_sigma = 1;
            st->stable_target = !strcmp(w, "W13");
        }
        if (sampler_chains(w, 0) == 0) {
            int i;
            st->n_data = 5000;
            st->B = recipe ? 512 : 256;
            st->data = (float *)malloc(sizeof(float) * 2 * 5000);
            st->batch = (float *)malloc(sizeof(float) * 2 * (size_t)st->B);
            st->perm = (int *)malloc(sizeof(int) * 5000);
            for (i = 0; i < 5000; i++) st->perm[i] = i;
            ncsn_data_swiss_roll(&st->rng, st->data, 5000);
            CHECK(ncsn_model_create(&st->m, &cfg), "model_create");
            CHECK(ncsn_model_init(st->m, &st->rng), "model_init");
        } else {
            make_model(st, &cfg, models, "seed001.safetensors");
            st->chains = sampler_chains(w, 0);
            st->dim = 2;
            st->form = NCSN_LANGEVIN_HALF;
            st->eps = 1e-4f;
            st->x = (float *)malloc(sizeof(float) * 2 * (size_t)st->chains);
        }
    } else if (!strcmp(w, "W11") || !strcmp(w, "W12")) {
        setup_inpaint(st, !strcmp(w, "W11"));
    } else if (!strcmp(w, "W5") || sampler_chains(w, 1) > 0) {
        ncsn_config cfg = ncsn_config_concat(784, 1024, 2);
        size_t i;
        CHECK(ncsn_schedule(st->sig, L, 1.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC), "schedule");
        if (!strcmp(w, "W5")) {
            st->n_data = st->B = 128;
            st->data = (float *)malloc(sizeof(float) * 784 * 128);
            for (i = 0; i < (size_t)784 * 128; i++) st->data[i] = ncsn_rng_uniform(&st->rng);
        } else {
            st->chains = sampler_chains(w, 1);
            st->dim = 784;
            st->form = NCSN_LANGEVIN_SONG;
            st->eps = 5e-5f;
            st->x = (float *)malloc(sizeof(float) * 784 * (size_t)st->chains);
        }
        CHECK(ncsn_model_create(&st->m, &cfg), "model_create");
        CHECK(ncsn_model_init(st->m, &st->rng), "model_init");
    } else {
        fprintf(stderr, "bench: unknown workload %s (W1..W14, prep)\n", w);
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
    ncsn_dsm_opts o;
    memset(&o, 0, sizeof o);
    o.stable_target = st->stable_target;
    if (st->batch) {   /* W2, W13, W14: the first B of a random permutation */
        ncsn_minibatch(&st->rng, st->perm, st->n_data, st->data, 2, st->batch, st->B);
        x = st->batch;
    }
    /* no ncsn_model_zero_grad: ncsn_model_adam_step leaves the gradients zero (and create made them so) */
    CHECK(ncsn_dsm_loss_ex(st->m, &st->bt, x, st->B, st->sig, L, NCSN_WEIGHT_SIGMA2, &st->rng, &o, &loss), "dsm_loss");
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
    if (st->known) {   /* W11, W12: one score of the 128 chains per iteration */
        for (i = 0; i < k; i++) {
            if (!strcmp(st->w, "W11")) CHECK(ncsn_score_guided(&st->guide, st->s, st->x, 0.5f, 128), "score_guided");
            else CHECK(ncsn_model_score(st->m, st->s, st->x, 0.5f, 128), "model_score");
        }
        return k;
    }
    if (st->chains) {   /* whole levels; fewer than L steps: the first k levels, one step each */
        ncsn_sampler_opts o = ncsn_sampler_defaults();
        ncsn_status s;
        int levels = k >= L ? L : (int)k;
        o.form = st->form;
        o.eps = st->eps;
        o.steps_per_level = k >= L ? (int)((k + L - 1) / L) : 1;
        o.init = NCSN_INIT_NORMAL_SIGMA1;
        s = ncsn_sample_annealed(ncsn_model_score, st->m, st->dim, st->sig, levels, &o, &st->rng, st->x, st->chains);
        if (s == NCSN_ERR_NONFINITE) st->nonfinite++;
        else if (s != NCSN_OK) die("sample_annealed");
        return (long)levels * o.steps_per_level;
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
    double t0 = bench_now();
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
           steps0, steps1, bench_now() - t0, dir);
    return 0;
}

static long block_fn(void *ctx, long k) { return run_block((state *)ctx, k); }
static void threads_fn(void *ctx, int n) { CHECK(ncsn_model_set_threads(((state *)ctx)->m, n), "set_threads"); }

int main(int argc, char **argv)
{
    const char *w;
    bench_opts o;
    state st;
    struct rusage ru;

    if (argc < 2) { fprintf(stderr, "usage: bench W1..W14 [--threads 1,2] [--reps N] [--rep-time S] [--models DIR] [--max-seconds S] | bench prep DIR\n"); return 2; }
    w = argv[1];
    if (!strcmp(w, "prep")) {
        if (argc < 3) { fprintf(stderr, "usage: bench prep DIR [steps000] [steps001]\n"); return 2; }
        return prep(argv[2], argc > 3 ? atoi(argv[3]) : 300, argc > 4 ? atoi(argv[4]) : 2000);
    }
    if (bench_parse(&o, argc, argv, 2)) return 2;
    setup(&st, w, o.models);
    if (!strcmp(w, "W3")) o.quantum = 1000;   /* whole chains */
    if (st.chains) o.quantum = L;            /* whole levels */
    bench_measure("ncsn", w, &o, &st, block_fn, threads_fn);
    getrusage(RUSAGE_SELF, &ru);
    printf("JSON {\"side\":\"ncsn\",\"workload\":\"%s\",\"vmhwm_kb\":%ld,\"ru_maxrss_kb\":%ld,\"simd\":\"%s\",\"n_params\":%lu,\"nonfinite_chains\":%d}\n",
           w, bench_vm_hwm_kb(), (long)ru.ru_maxrss, ncsn_simd_name(), (unsigned long)st.m->n_params, st.nonfinite);
    return 0;
}
