/* test_checkpoint.c - checkpoints (ncsn_checkpoint_save/load), atomic writes, numerical-fault
   detection (ncsn_model_check_finite), and hostile checkpoint files.

   The promise: a checkpoint holds everything a training run depends on (weights, Adam's moments,
   step and hyper-parameters, the RNG state, the schedule), so resuming from it gives the same bits
   as never stopping; writes are atomic, so a process killed at any moment leaves the previous
   checkpoint or the new one, never a torn file. Checked here in process (resume from every
   checkpoint of a run) and with real SIGKILLs of a forked training child (a few trials; `make
   kill-test` runs many against the `ncsn` command). */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L   /* fork, kill, mkdtemp, setrlimit, nanosleep */
#define _FILE_OFFSET_BITS 64   /* stat and readdir on 32-bit builds: 64-bit inode numbers (EOVERFLOW) */
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>
#include <dirent.h>
#include <time.h>
#endif
#include <stdlib.h>
#include <stdio.h>
#include <limits.h>
#include "test.h"

/* ---- a small training run: data, model, optimizer, schedule, batch drawn from the RNG ---- */
#define TC_N 96
#define TC_B 32
#define TC_L 6
typedef struct tc_run {
    ncsn_model *m;
    ncsn_adam adam;
    ncsn_rng rng;
    ncsn_dsm_batch bt;
    float sig[TC_L], data[TC_N * 2], xb[TC_B * 2];
    long step;
} tc_run;

static void tc_free(tc_run *r)
{
    ncsn_dsm_batch_free(&r->bt);
    ncsn_adam_free(&r->adam);
    ncsn_model_free(r->m);
    r->m = NULL;
}

static void tc_data(float *data)
{
    ncsn_rng g;
    ncsn_rng_seed(&g, 99, 1);
    ncsn_data_two_gaussians(&g, data, TC_N);
}

/* a fresh run (embed conditioning, AdamW, so that every saved field matters) */
static int tc_start(tc_run *r, int width)
{
    ncsn_config cfg = ncsn_config_embed(2, 8, width, 2);
    memset(r, 0, sizeof *r);
    tc_data(r->data);
    cfg.zero_init_output = 0;
    cfg.act = NCSN_ACT_SOFTPLUS;
    ncsn_rng_seed(&r->rng, 7, 3);
    if (ncsn_schedule(r->sig, TC_L, 5.0f, 0.05f, NCSN_SCHEDULE_GEOMETRIC) != NCSN_OK || ncsn_model_create(&r->m, &cfg) != NCSN_OK ||
        ncsn_model_init(r->m, &r->rng) != NCSN_OK || ncsn_adam_create(&r->adam, r->m->n_params, 3e-3f) != NCSN_OK ||
        ncsn_dsm_batch_alloc(&r->bt, TC_B, 2) != NCSN_OK)
        return 0;
    r->adam.weight_decay = 0.01f;
    r->adam.beta2 = 0.99f;
    return 1;
}

/* continue a run loaded from a checkpoint */
static int tc_resume(tc_run *r, const char *path)
{
    float sig[16];
    int L = 0;
    memset(r, 0, sizeof *r);
    tc_data(r->data);
    if (ncsn_checkpoint_load(&r->m, path, &r->adam, &r->rng, sig, 16, &L, &r->step) != NCSN_OK || L != TC_L) return 0;
    memcpy(r->sig, sig, sizeof r->sig);
    return ncsn_dsm_batch_alloc(&r->bt, TC_B, 2) == NCSN_OK;
}

static ncsn_status tc_step(tc_run *r)
{
    int b;
    float loss;
    ncsn_status st;
    for (b = 0; b < TC_B; b++) memcpy(r->xb + 2 * b, r->data + 2 * ncsn_rng_bounded(&r->rng, TC_N), 2 * sizeof(float));
    ncsn_model_zero_grad(r->m);
    if ((st = ncsn_dsm_loss(r->m, &r->bt, r->xb, TC_B, r->sig, TC_L, NCSN_WEIGHT_SIGMA2, &r->rng, &loss)) != NCSN_OK) return st;
    if ((st = ncsn_adam_step(&r->adam, r->m->params, r->m->grads)) != NCSN_OK) return st;
    r->step++;
    return NCSN_OK;
}

/* train to step `to`, checkpointing to path every `every` steps (0: never) */
static ncsn_status tc_train(tc_run *r, long to, const char *path, int every)
{
    ncsn_status st;
    static const char *const extra[] = { "run", "tc", NULL };
    while (r->step < to) {
        if ((st = tc_step(r)) != NCSN_OK) return st;
        if (every && r->step % every == 0 &&
            (st = ncsn_checkpoint_save(r->m, path, &r->adam, &r->rng, r->sig, TC_L, r->step, extra)) != NCSN_OK)
            return st;
    }
    return NCSN_OK;
}

/* same weights, moments, Adam state and RNG state, bit for bit */
static int tc_same(const tc_run *a, const tc_run *b)
{
    size_t n = a->m->n_params;
    return b->m->n_params == n && memcmp(a->m->params, b->m->params, n * 4) == 0 && memcmp(a->adam.m, b->adam.m, n * 4) == 0 &&
           memcmp(a->adam.v, b->adam.v, n * 4) == 0 && a->adam.step == b->adam.step && a->rng.state == b->rng.state &&
           a->rng.inc == b->rng.inc && a->step == b->step;
}

static int tc_tmpdir(char *buf, size_t n)
{
#if !defined(_WIN32)
    const char *d = getenv("TMPDIR");
    snprintf(buf, n, "%s/ncsn_ckpt_XXXXXX", d && *d ? d : "/tmp");
    return mkdtemp(buf) != NULL;
#else
    return 0;
#endif
}

/* files in dir whose name contains ".tmp." (left by an interrupted atomic write) */
static int tc_count_tmp(const char *dir)
{
#if !defined(_WIN32)
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) if (strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
#else
    (void)dir;
    return 0;
#endif
}

static void tc_rmdir(const char *dir)
{
#if !defined(_WIN32)
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[1024];
    if (!d) return;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        remove(p);
    }
    closedir(d);
    rmdir(dir);
#else
    (void)dir;
#endif
}

/* ---- 1. what a checkpoint holds, exactly ---- */
static void tc_round_trip(const char *dir)
{
    char path[1024], v[256];
    tc_run a, b;
    ncsn_model *mm = NULL;
    float sig[16];
    int L = -1;
    long step = -1;
    static const char *const extra[] = { "note", "quote \" backslash \\ newline \n tab \t utf-8 \xc3\xa9", "run", "7", NULL };
    snprintf(path, sizeof path, "%s/rt.ckpt", dir);
    if (!tc_start(&a, 6)) { CHECK(0, "round trip: setup: %s", ncsn_last_error()); return; }
    CHECK(tc_train(&a, 5, NULL, 0) == NCSN_OK, "round trip: training: %s", ncsn_last_error());
    CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, a.step, extra) == NCSN_OK, "round trip: save: %s", ncsn_last_error());
    CHECK(tc_count_tmp(dir) == 0, "round trip: a temporary file was left behind");
    CHECK(tc_resume(&b, path), "round trip: load: %s", ncsn_last_error());
    if (b.m) {
        CHECK(tc_same(&a, &b), "round trip: weights, moments, Adam step or RNG state differ after load");
        CHECK(b.adam.lr == a.adam.lr && b.adam.beta1 == a.adam.beta1 && b.adam.beta2 == a.adam.beta2 && b.adam.eps == a.adam.eps &&
              b.adam.weight_decay == a.adam.weight_decay, "round trip: Adam hyper-parameters differ (lr %g beta2 %g wd %g)",
              (double)b.adam.lr, (double)b.adam.beta2, (double)b.adam.weight_decay);
        CHECK(memcmp(a.sig, b.sig, sizeof a.sig) == 0, "round trip: sigmas differ");
        CHECK(b.m->cfg.cond == NCSN_COND_EMBED && b.m->cfg.embed_dim == 8 && b.m->cfg.act == NCSN_ACT_SOFTPLUS && b.m->cfg.hidden[1] == 6,
              "round trip: configuration differs");
    }
    /* the same file is a model file too */
    CHECK(ncsn_model_load(&mm, path) == NCSN_OK && mm && memcmp(mm->params, a.m->params, a.m->n_params * 4) == 0,
          "round trip: the checkpoint does not load as a model: %s", ncsn_last_error());
    ncsn_model_free(mm);
    mm = NULL;
    CHECK(ncsn_checkpoint_load(&mm, path, NULL, NULL, sig, 16, &L, &step) == NCSN_OK && L == TC_L && step == 5 && sig[TC_L - 1] == 0.05f,
          "round trip: model + schedule only: L %d step %ld: %s", L, step, ncsn_last_error());
    ncsn_model_free(mm);
    mm = NULL;
    L = -1;
    CHECK(ncsn_checkpoint_load(&mm, path, NULL, NULL, NULL, 0, &L, NULL) == NCSN_OK && L == TC_L, "round trip: the number of levels alone");
    ncsn_model_free(mm);
    mm = NULL;
    CHECK(ncsn_checkpoint_load(&mm, path, NULL, NULL, sig, 3, &L, NULL) == NCSN_ERR_ARG && !mm, "round trip: sigmas_cap 3 < 6 levels must be NCSN_ERR_ARG");
    CHECK(ncsn_file_meta(path, "note", v, sizeof v) == NCSN_OK && strcmp(v, extra[1]) == 0, "round trip: extra metadata with escapes: '%s'", v);
    CHECK(ncsn_file_meta(path, "run", v, sizeof v) == NCSN_OK && strcmp(v, "7") == 0, "round trip: extra metadata 'run'");
    CHECK(ncsn_file_meta(path, "ncsn.kind", v, sizeof v) == NCSN_OK && strcmp(v, "checkpoint") == 0, "round trip: ncsn.kind = '%s'", v);
    CHECK(ncsn_file_meta(path, "ncsn.hidden", v, sizeof v) == NCSN_OK && strcmp(v, "6,6") == 0, "round trip: ncsn.hidden = '%s'", v);
    CHECK(ncsn_file_meta(path, "absent", v, sizeof v) == NCSN_ERR_FORMAT && v[0] == 0 && strstr(ncsn_last_error(), "absent"),
          "round trip: a missing key: %s", ncsn_last_error());
    CHECK(ncsn_file_meta(path, "note", v, 8) == NCSN_ERR_FORMAT, "round trip: a value longer than the buffer must fail");
    /* a model file (ncsn_model_save) is not a checkpoint */
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(ncsn_model_save(a.m, path) == NCSN_OK, "model save: %s", ncsn_last_error());
    {
        ncsn_adam ad;
        ncsn_rng g = { 1, 3 };
        ad.m = (float *)&ad;   /* must become NULL */
        CHECK(ncsn_checkpoint_load(&mm, path, &ad, NULL, NULL, 0, NULL, NULL) == NCSN_ERR_FORMAT && !mm && !ad.m &&
              strstr(ncsn_last_error(), "not a checkpoint"), "a model file loaded as a checkpoint with Adam: %s", ncsn_last_error());
        CHECK(ncsn_checkpoint_load(&mm, path, NULL, &g, NULL, 0, NULL, NULL) == NCSN_ERR_FORMAT && !mm && g.state == 1 && g.inc == 3,
              "a model file has no RNG state; rng must stay untouched: %s", ncsn_last_error());
        L = -1;
        CHECK(ncsn_checkpoint_load(&mm, path, NULL, NULL, sig, 16, &L, &step) == NCSN_OK && L == 0 && step == 0,
              "a model file loads with L = 0, step = 0: %s", ncsn_last_error());
        ncsn_model_free(mm);
        mm = NULL;
    }
    tc_free(&a);
    tc_free(&b);
}

/* ---- 2. resume from every checkpoint of a run: the same bits as the uninterrupted run ---- */
static void tc_resume_everywhere(const char *dir)
{
    enum { STEPS = 24, EVERY = 3 };
    char path[1024], snap[1024];
    tc_run ref, r, c;
    long k;
    int bad = 0, n = 0;
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    if (!tc_start(&ref, 8)) { CHECK(0, "resume: setup"); return; }
    CHECK(tc_train(&ref, STEPS, NULL, 0) == NCSN_OK, "resume: reference run: %s", ncsn_last_error());
    if (!tc_start(&r, 8)) { CHECK(0, "resume: setup"); tc_free(&ref); return; }
    for (k = EVERY; k <= STEPS; k += EVERY) {
        CHECK(tc_train(&r, k, path, EVERY) == NCSN_OK, "resume: run to %ld: %s", k, ncsn_last_error());
        /* resume a copy of this checkpoint to the end */
        snprintf(snap, sizeof snap, "%s/snap.ckpt", dir);
        {
            size_t len;
            unsigned char *b = t_read_file(path, &len);
            FILE *fp = fopen(snap, "wb");
            if (b && fp) fwrite(b, 1, len, fp);
            if (fp) fclose(fp);
            free(b);
        }
        if (!tc_resume(&c, snap)) { CHECK(0, "resume: load at %ld: %s", k, ncsn_last_error()); continue; }
        if (c.step != k) bad++;
        tc_train(&c, STEPS, NULL, 0);
        if (!tc_same(&ref, &c)) bad++;
        n++;
        tc_free(&c);
    }
    CHECK(bad == 0 && n == STEPS / EVERY, "resume: %d of %d resumed runs differ from the uninterrupted run", bad, n);
    CHECK(tc_same(&ref, &r), "resume: the checkpointing run itself differs from the reference (saving must not change the run)");
    tc_free(&ref);
    tc_free(&r);
}

/* ---- 3. SIGKILL a training child at random moments; resume; compare ---- */
#if !defined(_WIN32)
static void tc_sleep_us(long us)
{
    struct timespec ts;
    ts.tv_sec = us / 1000000;
    ts.tv_nsec = (us % 1000000) * 1000;
    nanosleep(&ts, NULL);
}
#endif

static void tc_kill_trials(const char *dir)
{
#if !defined(_WIN32)
    enum { STEPS = 400, EVERY = 2 };
    int trials = t_quick ? 3 : 6, t, bad = 0, intact = 0, none = 0, mid_write = 0, finished_first = 0;
    char path[1024];
    tc_run ref;
    ncsn_rng pick;
    double t_ref;
    struct timespec t0, t1;
    snprintf(path, sizeof path, "%s/kill.ckpt", dir);
    if (!tc_start(&ref, 16)) { CHECK(0, "kill: setup"); return; }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tc_train(&ref, STEPS, NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    t_ref = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    ncsn_rng_seed(&pick, (uint64_t)time(NULL), 11);
    for (t = 0; t < trials; t++) {
        pid_t pid;
        int status;
        tc_run r;
        remove(path);
        fflush(stdout);
        pid = fork();
        if (pid < 0) { CHECK(0, "kill: fork failed"); break; }
        if (pid == 0) {   /* the child trains with checkpoints (saving costs time: the run is slower than t_ref) */
            tc_run c;
            if (!tc_start(&c, 16)) _exit(3);
            _exit(tc_train(&c, STEPS, path, EVERY) == NCSN_OK ? 0 : 4);
        }
        /* kill somewhere in the first 1.5 reference-run times */
        tc_sleep_us((long)(1e6 * t_ref * 1.5 * ncsn_rng_uniform(&pick)) + 200);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (WIFEXITED(status)) finished_first++;
        if (tc_count_tmp(dir) > 0) mid_write++;
        if (tc_resume(&r, path)) intact++;
        else {
            FILE *fp = fopen(path, "rb");
            if (fp) { fclose(fp); CHECK(0, "kill trial %d: the checkpoint exists but does not load: %s", t, ncsn_last_error()); bad++; continue; }
            none++;   /* killed before the first checkpoint: start again */
            if (!tc_start(&r, 16)) { CHECK(0, "kill: setup"); break; }
        }
        tc_train(&r, STEPS, NULL, 0);
        if (!tc_same(&ref, &r)) bad++;
        tc_free(&r);
        {   /* clean the stale temporary files of this trial */
            DIR *d = opendir(dir);
            struct dirent *e;
            char p[1024];
            if (d) {
                while ((e = readdir(d)) != NULL)
                    if (strstr(e->d_name, ".tmp.")) { snprintf(p, sizeof p, "%s/%s", dir, e->d_name); remove(p); }
                closedir(d);
            }
        }
    }
    CHECK(bad == 0, "kill: %d of %d trials did not resume to the same bits", bad, trials);
    printf("  checkpoint: %d SIGKILL trials (reference run %.0f ms): %d resumed from an intact checkpoint, %d before the first one, "
           "%d killed mid-write, %d finished first; all bit-identical: %s\n", trials, 1e3 * t_ref, intact, none, mid_write, finished_first,
           bad ? "NO" : "yes");
    tc_free(&ref);
#else
    (void)dir;
#endif
}

/* ---- 4. a failed save leaves the old file ---- */
#if !defined(_WIN32)
static const char *tc_fsize_path;
static tc_run *tc_fsize_run;
static int tc_save_limited(void)
{
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = 1000;   /* bytes: the checkpoint is larger */
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) return 99;
    return (int)ncsn_checkpoint_save(tc_fsize_run->m, tc_fsize_path, &tc_fsize_run->adam, &tc_fsize_run->rng, tc_fsize_run->sig, TC_L,
                                      tc_fsize_run->step, NULL);
}
#endif

static void tc_atomic(const char *dir)
{
    char path[1024];
    tc_run a, b;
    unsigned char *before, *after;
    size_t lb, la;
    ncsn_status st;
    snprintf(path, sizeof path, "%s/atomic.ckpt", dir);
    if (!tc_start(&a, 6)) { CHECK(0, "atomic: setup"); return; }
    tc_train(&a, 2, path, 2);
    before = t_read_file(path, &lb);
    CHECK(ncsn_checkpoint_save(a.m, "/nonexistent-dir-ncsn/x.ckpt", &a.adam, &a.rng, a.sig, TC_L, 1, NULL) == NCSN_ERR_IO &&
          strstr(ncsn_last_error(), "nonexistent"), "save into a missing directory: %s", ncsn_last_error());
    tc_train(&a, 3, NULL, 0);
#if !defined(_WIN32)
    {   /* the disk fills up during the write (RLIMIT_FSIZE in a child): IO error, old file intact, no temporary left */
        pid_t pid;
        int status = 0;
        tc_fsize_path = path;
        tc_fsize_run = &a;
        fflush(stdout);
        pid = fork();
        if (pid == 0) _exit(tc_save_limited());
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == (int)NCSN_ERR_IO, "save with a full disk: status %d, want NCSN_ERR_IO",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        after = t_read_file(path, &la);
        CHECK(before && after && la == lb && memcmp(before, after, la) == 0, "save with a full disk changed the old checkpoint");
        CHECK(tc_count_tmp(dir) == 0, "save with a full disk left a temporary file");
        free(after);
    }
#endif
    {   /* non-finite weights are not saved: the last good checkpoint stays */
        const ncsn_tensor *T = ncsn_model_tensor(a.m, "net.2.weight");
        float keep = a.m->params[T->offset + 1 * T->rows + 0];   /* torch [0, 1] */
        a.m->params[T->offset + 1 * T->rows + 0] = NAN;
        st = ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, a.step, NULL);
        CHECK(st == NCSN_ERR_NONFINITE && strstr(ncsn_last_error(), "net.2.weight[0, 1]"), "save of a NaN weight: %d %s", (int)st,
              ncsn_last_error());
        a.m->params[T->offset + 1 * T->rows + 0] = keep;
        a.adam.v[3] = INFINITY;
        st = ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, a.step, NULL);
        CHECK(st == NCSN_ERR_NONFINITE && strstr(ncsn_last_error(), "Adam second moment"), "save of an infinite moment: %s", ncsn_last_error());
        a.adam.v[3] = 0.0f;
        after = t_read_file(path, &la);
        CHECK(before && after && la == lb && memcmp(before, after, la) == 0, "a refused save changed the old checkpoint");
        free(after);
        CHECK(tc_resume(&b, path) && b.step == 2, "the old checkpoint still loads: %s", ncsn_last_error());
        tc_free(&b);
    }
    {   /* argument checks */
        static const char *const reserved[] = { "ncsn.step", "1", NULL }, *const fmtkey[] = { "format", "x", NULL },
                                 *const nullv[] = { "k", NULL }, *const dup[] = { "k", "1", "k", "2", NULL }, *const empty[] = { "", "v", NULL };
        float bad_sig[3] = { 1.0f, 0.0f, 0.5f }, up_sig[3] = { 3.0f, 1.0f, 2.0f }, sub_sig[3] = { 1.0f, 0.5f, 1e-40f };
        ncsn_rng even = { 1, 2 };
        ncsn_adam wrong = a.adam;
        wrong.n = a.adam.n - 1;
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, 1, reserved) == NCSN_ERR_ARG, "extra key ncsn.step must be refused");
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, 1, fmtkey) == NCSN_ERR_ARG, "extra key 'format' must be refused");
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, 1, nullv) == NCSN_ERR_ARG, "extra key without a value must be refused");
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, 1, dup) == NCSN_ERR_ARG, "a duplicate extra key must be refused");
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, 1, empty) == NCSN_ERR_ARG, "an empty extra key must be refused");
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, bad_sig, 3, 1, NULL) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "sigmas[1]"),
              "sigma 0 must be refused: %s", ncsn_last_error());
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, up_sig, 3, 1, NULL) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "sigmas[2] = 2"),
              "increasing sigmas must be refused (the loader refuses them): %s", ncsn_last_error());
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, sub_sig, 3, 1, NULL) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "sigmas[2]"),
              "a subnormal sigma must be refused (the loader refuses it): %s", ncsn_last_error());
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, NULL, 3, 1, NULL) == NCSN_ERR_ARG, "L = 3 without sigmas must be refused");
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, -1, 1, NULL) == NCSN_ERR_ARG, "L = -1 must be refused");
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, -5, NULL) == NCSN_ERR_ARG, "step = -5 must be refused");
        CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &even, a.sig, TC_L, 1, NULL) == NCSN_ERR_ARG, "an even PCG increment must be refused");
        CHECK(ncsn_checkpoint_save(a.m, path, &wrong, &a.rng, a.sig, TC_L, 1, NULL) == NCSN_ERR_ARG, "Adam of the wrong size must be refused");
        CHECK(ncsn_checkpoint_save(NULL, path, &a.adam, &a.rng, a.sig, TC_L, 1, NULL) == NCSN_ERR_ARG, "model NULL must be refused");
        CHECK(ncsn_checkpoint_save(a.m, NULL, &a.adam, &a.rng, a.sig, TC_L, 1, NULL) == NCSN_ERR_ARG, "path NULL must be refused");
        after = t_read_file(path, &la);
        CHECK(before && after && la == lb && memcmp(before, after, la) == 0, "a refused save changed the old checkpoint");
        free(after);
        CHECK(tc_count_tmp(dir) == 0, "refused saves left a temporary file");
    }
    free(before);
    tc_free(&a);
}

/* ---- 4b. whatever step the saver writes, the loader reads: NCSN_MAX_STEP and one past it ---- */
static void tc_step_limits(const char *dir)
{
    char path[1024];
    tc_run a;
    ncsn_model *m = NULL;
    ncsn_adam ad;
    long step = -1;
    snprintf(path, sizeof path, "%s/steps.ckpt", dir);
    if (!tc_start(&a, 3)) { CHECK(0, "step limits: setup"); return; }
    tc_train(&a, 1, NULL, 0);
    CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, 0, NULL) == NCSN_OK, "step 0: %s", ncsn_last_error());
    CHECK(ncsn_checkpoint_load(&m, path, NULL, NULL, NULL, 0, NULL, &step) == NCSN_OK && step == 0, "step 0 round trip: %s", ncsn_last_error());
    ncsn_model_free(m);
    m = NULL;
#if LONG_MAX > 0x7fffffffL   /* NCSN_MAX_STEP is 2^62 where long has 64 bits (2^30 where it has 32) */
    CHECK(NCSN_MAX_STEP == 4611686018427387904L, "NCSN_MAX_STEP = %ld, want 2^62", (long)NCSN_MAX_STEP);
#endif
    a.adam.step = NCSN_MAX_STEP;
    CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, NCSN_MAX_STEP, NULL) == NCSN_OK, "step NCSN_MAX_STEP: save: %s",
          ncsn_last_error());
    step = -1;
    memset(&ad, 0, sizeof ad);
    CHECK(ncsn_checkpoint_load(&m, path, &ad, NULL, NULL, 0, NULL, &step) == NCSN_OK && step == NCSN_MAX_STEP && ad.step == NCSN_MAX_STEP,
          "step NCSN_MAX_STEP = %ld: the saved file must load with that step (got %ld, Adam %ld): %s", (long)NCSN_MAX_STEP, step, ad.step,
          ncsn_last_error());
    ncsn_model_free(m);
    m = NULL;
    ncsn_adam_free(&ad);
#if LONG_MAX > 0x7fffffffL
    CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, NCSN_MAX_STEP + 1, NULL) == NCSN_ERR_ARG &&
          strstr(ncsn_last_error(), "step = 4611686018427387905 must be in [0, 4611686018427387904]"),
          "step 2^62 + 1 must be refused by the saver (the loader cannot read it): %s", ncsn_last_error());
    a.adam.step = NCSN_MAX_STEP + 1;
    CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, 1, NULL) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "Adam"),
          "Adam step 2^62 + 1 must be refused by the saver: %s", ncsn_last_error());
    a.adam.step = LONG_MAX;
    CHECK(ncsn_checkpoint_save(a.m, path, &a.adam, &a.rng, a.sig, TC_L, LONG_MAX, NULL) == NCSN_ERR_ARG, "step LONG_MAX must be refused");
#endif
    /* the refused saves left the file of step NCSN_MAX_STEP */
    CHECK(ncsn_checkpoint_load(&m, path, NULL, NULL, NULL, 0, NULL, &step) == NCSN_OK && step == NCSN_MAX_STEP, "after refused saves: %s",
          ncsn_last_error());
    ncsn_model_free(m);
    tc_free(&a);
}

/* ---- 5. numerical faults are found and named ---- */
static void tc_nonfinite(void)
{
    tc_run a;
    const ncsn_tensor *T;
    ncsn_status st;
    if (!tc_start(&a, 5)) { CHECK(0, "nonfinite: setup"); return; }
    tc_train(&a, 1, NULL, 0);
    CHECK(ncsn_model_check_finite(a.m, &a.adam, NCSN_CHECK_PARAMS | NCSN_CHECK_GRADS | NCSN_CHECK_MOMENTS) == NCSN_OK,
          "a healthy run has a non-finite value: %s", ncsn_last_error());
    T = ncsn_model_tensor(a.m, "net.2.weight");   /* [out 5][in 5]: ours [in][out]; torch [1, 3] is ours [3][1] */
    a.m->grads[T->offset + 3 * T->rows + 1] = NAN;
    st = ncsn_model_check_finite(a.m, NULL, NCSN_CHECK_GRADS);
    CHECK(st == NCSN_ERR_NONFINITE && strcmp(ncsn_last_error(), "gradient net.2.weight[1, 3] = nan") == 0, "NaN gradient: '%s'", ncsn_last_error());
    CHECK(ncsn_model_check_finite(a.m, NULL, NCSN_CHECK_PARAMS) == NCSN_OK, "a NaN gradient is not a NaN weight");
    a.m->grads[T->offset + 3 * T->rows + 1] = 0.0f;
    T = ncsn_model_tensor(a.m, "sigma_embed.3.bias");
    a.m->params[T->offset + 2] = -INFINITY;
    st = ncsn_model_check_finite(a.m, &a.adam, NCSN_CHECK_PARAMS | NCSN_CHECK_GRADS);
    CHECK(st == NCSN_ERR_NONFINITE && strcmp(ncsn_last_error(), "parameter sigma_embed.3.bias[2] = -inf") == 0, "infinite bias: '%s'", ncsn_last_error());
    a.m->params[T->offset + 2] = 0.0f;
    a.adam.m[a.m->n_params - 1] = NAN;
    st = ncsn_model_check_finite(a.m, &a.adam, NCSN_CHECK_MOMENTS);
    CHECK(st == NCSN_ERR_NONFINITE && strstr(ncsn_last_error(), "Adam first moment net.") != NULL, "NaN moment: '%s'", ncsn_last_error());
    CHECK(ncsn_model_check_finite(a.m, NULL, NCSN_CHECK_MOMENTS) == NCSN_ERR_ARG, "moments without Adam must be NCSN_ERR_ARG");
    CHECK(ncsn_model_check_finite(NULL, NULL, NCSN_CHECK_PARAMS) == NCSN_ERR_ARG, "model NULL must be NCSN_ERR_ARG");
    a.adam.m[a.m->n_params - 1] = 0.0f;
    tc_free(&a);
}

/* ---- 6. hostile checkpoints ---- */
typedef struct tc_file { char hdr[65536]; size_t hl; unsigned char *data; size_t dl; } tc_file;

static int tc_split(const unsigned char *buf, size_t len, tc_file *f)
{
    uint64_t hl = 0;
    int i;
    if (len < 8) return 0;
    for (i = 7; i >= 0; i--) hl = (hl << 8) | buf[i];
    if (hl >= sizeof f->hdr || hl > len - 8) return 0;
    memcpy(f->hdr, buf + 8, (size_t)hl);
    f->hdr[hl] = 0;
    f->hl = (size_t)hl;
    f->data = (unsigned char *)malloc(len - 8 - (size_t)hl + 1);
    if (!f->data) return 0;
    memcpy(f->data, buf + 8 + hl, len - 8 - (size_t)hl);
    f->dl = len - 8 - (size_t)hl;
    return 1;
}

/* the file with its header's first `from` replaced by `to` (from must occur) */
static unsigned char *tc_build(const tc_file *f, const char *from, const char *to, size_t *len)
{
    static char h[65536 + 1024];
    const char *at = from ? strstr(f->hdr, from) : NULL;
    unsigned char *out;
    size_t hl, i;
    if (from && !at) return NULL;
    if (at) {
        size_t pre = (size_t)(at - f->hdr);
        memcpy(h, f->hdr, pre);
        strcpy(h + pre, to);
        strcat(h, at + strlen(from));
    } else strcpy(h, f->hdr);
    hl = strlen(h);
    *len = 8 + hl + f->dl;
    out = (unsigned char *)malloc(*len);
    if (!out) return NULL;
    for (i = 0; i < 8; i++) out[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(out + 8, h, hl);
    memcpy(out + 8 + hl, f->data, f->dl);
    return out;
}

/* load with every output; expect `want`, a message, and untouched outputs */
static void tc_expect(const unsigned char *buf, size_t len, ncsn_status want, const char *what)
{
    ncsn_model *m = (ncsn_model *)&m;   /* must become NULL */
    ncsn_adam ad;
    ncsn_rng g = { 5, 7 };
    float sig[16] = { 0 };
    int L = -3;
    long step = -3;
    ncsn_status st;
    unsigned char *copy = (unsigned char *)malloc(len ? len : 1);   /* exact size: an overread leaves the block */
    if (!buf || !copy) { CHECK(0, "%s: could not build the input", what); free(copy); return; }
    memcpy(copy, buf, len);
    ad.m = (float *)&ad;   /* must become NULL */
    st = ncsn_checkpoint_load_mem(&m, copy, len, &ad, &g, sig, 16, &L, &step);
    CHECK(st == want, "%s: status %d (%s), want %d; message '%s'", what, (int)st, ncsn_status_string(st), (int)want, ncsn_last_error());
    if (st != NCSN_OK) {
        CHECK(m == NULL && ad.m == NULL && g.state == 5 && g.inc == 7 && L == -3 && step == -3 && sig[0] == 0.0f,
              "%s: outputs changed by a failed load", what);
        CHECK(ncsn_last_error()[0] != 0, "%s: no message", what);
    } else {
        ncsn_model_free(m);
        ncsn_adam_free(&ad);
    }
    free(copy);
}

/* levels that are not a schedule: refused by the checkpoint loader and by the model loader, with a
   message naming the tensor, the index and the value (sigmas hold TC_L = 6 levels 5 .. 0.05 at off) */
static void tc_bad_levels(tc_file *f, unsigned long long off)
{
    static const struct { int i; uint32_t bits; const char *what, *msg; } bad[] = {
        { 2, 0, "sigma equal to the one before", "sigmas[2] = " },
        { 3, 0x41200000u, "sigma increasing (10)", "sigmas[3] = 10 is not below the level before it (0.792" },
        { 5, 0x00000100u, "subnormal sigma", "sigmas[5] = 3.58732e-43" },
        { 1, 0x7f800000u, "infinite sigma", "sigmas[1] = inf" },
        { 4, 0x80000000u, "sigma -0", "sigmas[4] = -0" },
    };
    unsigned char keep[4 * TC_L];
    size_t k, l2;
    memcpy(keep, f->data + off, sizeof keep);
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        unsigned char *p = f->data + off + 4 * (size_t)bad[k].i, *b2;
        ncsn_model *m = NULL;
        ncsn_status st;
        uint32_t u = bad[k].i == 2 ? (uint32_t)p[-4] | ((uint32_t)p[-3] << 8) | ((uint32_t)p[-2] << 16) | ((uint32_t)p[-1] << 24) : bad[k].bits;
        p[0] = (unsigned char)u; p[1] = (unsigned char)(u >> 8); p[2] = (unsigned char)(u >> 16); p[3] = (unsigned char)(u >> 24);
        b2 = tc_build(f, NULL, NULL, &l2);
        tc_expect(b2, l2, NCSN_ERR_FORMAT, bad[k].what);
        CHECK(strstr(ncsn_last_error(), "tensor sigmas") && strstr(ncsn_last_error(), bad[k].msg), "%s: message '%s' lacks 'tensor sigmas' and '%s'",
              bad[k].what, ncsn_last_error(), bad[k].msg);
        st = b2 ? ncsn_model_load_mem(&m, b2, l2) : NCSN_ERR_NOMEM;
        CHECK(st == NCSN_ERR_FORMAT && !m && strstr(ncsn_last_error(), "tensor sigmas"), "%s: the model loader must refuse it too: %s", bad[k].what,
              ncsn_last_error());
        ncsn_model_free(m);
        free(b2);
        memcpy(f->data + off, keep, sizeof keep);
    }
    {   /* every level 3e38: a model whose sampler printed identical rows near 1e34 */
        for (k = 0; k < TC_L; k++) { unsigned char *p = f->data + off + 4 * k; p[0] = 0x9e; p[1] = 0xc9; p[2] = 0x7f; p[3] = 0x7f; }
        {
            unsigned char *b2 = tc_build(f, NULL, NULL, &l2);
            tc_expect(b2, l2, NCSN_ERR_FORMAT, "every sigma 3.4e38");
            free(b2);
        }
        memcpy(f->data + off, keep, sizeof keep);
    }
}

static void tc_hostile(const char *dir)
{
    char path[1024];
    tc_run a;
    unsigned char *buf, *b2;
    size_t len, l2;
    tc_file f;
    ncsn_model *mm = NULL;
    int i;
    snprintf(path, sizeof path, "%s/hostile.ckpt", dir);
    if (!tc_start(&a, 3)) { CHECK(0, "hostile: setup"); return; }
    tc_train(&a, 2, path, 2);
    buf = t_read_file(path, &len);
    if (!buf || !tc_split(buf, len, &f)) { CHECK(0, "hostile: cannot read the checkpoint"); free(buf); tc_free(&a); return; }
    tc_expect(buf, len, NCSN_OK, "the untouched checkpoint");
#define TC_SUB(what, from, to, want) do { b2 = tc_build(&f, from, to, &l2); tc_expect(b2, l2, want, what); free(b2); } while (0)
    TC_SUB("even PCG increment", "\"ncsn.rng.inc\":\"0x", "\"ncsn.rng.inc\":\"0x0000000000000000\",\"x\":\"", NCSN_ERR_FORMAT);
    TC_SUB("RNG state not hex", "\"ncsn.rng.state\":\"0x", "\"ncsn.rng.state\":\"0xg", NCSN_ERR_FORMAT);
    TC_SUB("RNG state of 17 digits", "\"ncsn.rng.state\":\"0x", "\"ncsn.rng.state\":\"0x1", NCSN_ERR_FORMAT);
    TC_SUB("RNG state missing", "\"ncsn.rng.state\"", "\"ncsn.rng.stat\"", NCSN_ERR_FORMAT);
    TC_SUB("RNG state twice", "\"ncsn.rng.inc\"", "\"ncsn.rng.state\":\"0x1\",\"ncsn.rng.inc\"", NCSN_ERR_FORMAT);
    TC_SUB("step negative", "\"ncsn.step\":\"", "\"ncsn.step\":\"-", NCSN_ERR_FORMAT);
    TC_SUB("step huge", "\"ncsn.step\":\"", "\"ncsn.step\":\"99999999999999999999", NCSN_ERR_FORMAT);
    TC_SUB("step not a number", "\"ncsn.step\":\"2\"", "\"ncsn.step\":\"2x\"", NCSN_ERR_FORMAT);
#if LONG_MAX > 0x7fffffffL
    TC_SUB("step 2^62", "\"ncsn.step\":\"2\"", "\"ncsn.step\":\"4611686018427387904\"", NCSN_OK);
    TC_SUB("step 2^62 + 1", "\"ncsn.step\":\"2\"", "\"ncsn.step\":\"4611686018427387905\"", NCSN_ERR_FORMAT);
    TC_SUB("step 2^64 + 2 (wraps to 2 in 64 bits)", "\"ncsn.step\":\"2\"", "\"ncsn.step\":\"18446744073709551618\"", NCSN_ERR_FORMAT);
    TC_SUB("Adam step 2^62", "\"ncsn.adam.step\":\"2\"", "\"ncsn.adam.step\":\"4611686018427387904\"", NCSN_OK);
    TC_SUB("Adam step 2^62 + 1", "\"ncsn.adam.step\":\"2\"", "\"ncsn.adam.step\":\"4611686018427387905\"", NCSN_ERR_FORMAT);
#endif
    TC_SUB("Adam step not a number", "\"ncsn.adam.step\":\"2\"", "\"ncsn.adam.step\":\"\"", NCSN_ERR_FORMAT);
    TC_SUB("lr NaN", "\"ncsn.adam.lr\":\"", "\"ncsn.adam.lr\":\"nan\",\"y\":\"", NCSN_ERR_FORMAT);
    TC_SUB("lr negative", "\"ncsn.adam.lr\":\"", "\"ncsn.adam.lr\":\"-", NCSN_ERR_FORMAT);
    TC_SUB("lr 1e999", "\"ncsn.adam.lr\":\"", "\"ncsn.adam.lr\":\"1e999\",\"y\":\"", NCSN_ERR_FORMAT);
    TC_SUB("beta1 = 1", "\"ncsn.adam.beta1\":\"0.899999976\"", "\"ncsn.adam.beta1\":\"1\"", NCSN_ERR_FORMAT);
    TC_SUB("eps missing", "\"ncsn.adam.eps\"", "\"ncsn.adam.ep\"", NCSN_ERR_FORMAT);
    TC_SUB("levels disagree with sigmas", "\"ncsn.levels\":\"6\"", "\"ncsn.levels\":\"5\"", NCSN_ERR_FORMAT);
    TC_SUB("dim disagrees with the tensors", "\"ncsn.dim\":\"2\"", "\"ncsn.dim\":\"3\"", NCSN_ERR_FORMAT);
    TC_SUB("hidden disagrees with the tensors", "\"ncsn.hidden\":\"3,3\"", "\"ncsn.hidden\":\"3,4\"", NCSN_ERR_FORMAT);
    TC_SUB("embed_dim disagrees", "\"ncsn.embed_dim\":\"8\"", "\"ncsn.embed_dim\":\"10\"", NCSN_ERR_FORMAT);
    TC_SUB("zero_init_output = 2", "\"ncsn.zero_init_output\":\"0\"", "\"ncsn.zero_init_output\":\"2\"", NCSN_ERR_FORMAT);
    TC_SUB("Adam tensor renamed", "\"adam.v.net.0.bias\"", "\"adam.w.net.0.bias\"", NCSN_ERR_FORMAT);
    TC_SUB("Adam tensor of another's name", "\"adam.v.net.0.bias\"", "\"adam.v.net.9.bias\"", NCSN_ERR_FORMAT);
    TC_SUB("Adam moment transposed", "\"adam.m.net.2.weight\":{\"dtype\":\"F32\",\"shape\":[3,3]",
           "\"adam.m.net.2.weight\":{\"dtype\":\"F32\",\"shape\":[9]", NCSN_ERR_FORMAT);
    TC_SUB("sigmas 2-D", "\"sigmas\":{\"dtype\":\"F32\",\"shape\":[6]", "\"sigmas\":{\"dtype\":\"F32\",\"shape\":[2,3]", NCSN_ERR_FORMAT);
    TC_SUB("sigmas empty", "\"sigmas\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[", "\"sigmas\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0],\"x\":[", NCSN_ERR_FORMAT);
    {   /* a moment tensor aliasing the model's bytes (its own bytes are then a hole) */
        char from[160], to[160];
        const char *w = strstr(f.hdr, "\"net.0.bias\""), *am = strstr(f.hdr, "\"adam.m.net.0.bias\"");
        unsigned long long b0 = 0, e0 = 0, b1 = 0, e1 = 0;
        if (w && am && sscanf(strstr(w, "data_offsets\":[") + 15, "%llu,%llu", &b0, &e0) == 2 &&
            sscanf(strstr(am, "data_offsets\":[") + 15, "%llu,%llu", &b1, &e1) == 2) {
            snprintf(from, sizeof from, "\"adam.m.net.0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[%llu,%llu]", b1, e1);
            snprintf(to, sizeof to, "\"adam.m.net.0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[%llu,%llu]", b0, e0);
            TC_SUB("Adam moment aliasing the model's bytes", from, to, NCSN_ERR_FORMAT);
            b2 = tc_build(&f, from, to, &l2);
            CHECK(b2 && ncsn_model_load_mem(&mm, b2, l2) == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), "overlap"),
                  "a moment aliasing the weights must not load as a model either: %s", ncsn_last_error());
            free(b2);
        } else CHECK(0, "hostile: no data_offsets for net.0.bias / adam.m.net.0.bias in the header");
    }
    TC_SUB("two __metadata__", "{\"__metadata__\":", "{\"__metadata__\":{},\"__metadata__\":", NCSN_ERR_FORMAT);
    TC_SUB("metadata value an object", "\"ncsn.kind\":\"checkpoint\"", "\"ncsn.kind\":{}", NCSN_ERR_FORMAT);
    TC_SUB("a long metadata value is fine", "\"ncsn.kind\":\"checkpoint\"",
           "\"ncsn.kind\":\"checkpoint\",\"long\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
           NCSN_OK);
    TC_SUB("a long value of a key we read", "\"ncsn.step\":\"2\"", "\"ncsn.step\":\"000000000000000000000000000000000000000000000000000000000000000000000002\"", NCSN_ERR_FORMAT);
    {   /* 300 metadata entries: over the limit of 256 */
        static char many[16384];
        size_t q = 0;
        for (i = 0; i < 300; i++) q += (size_t)sprintf(many + q, "\"k%d\":\"v\",", i);
        strcpy(many + q, "\"ncsn.kind\"");
        TC_SUB("300 metadata entries", "\"ncsn.kind\"", many, NCSN_ERR_FORMAT);
    }
    {   /* data: a zero sigma, a negative second moment, a NaN first moment */
        const char *s = strstr(f.hdr, "\"sigmas\"");
        unsigned long long off = 0;
        unsigned char keep[4];
        if (s && (s = strstr(s, "data_offsets\":[")) != NULL) off = strtoull(s + 15, NULL, 10);
        memcpy(keep, f.data + off + 4, 4);
        memset(f.data + off + 4, 0, 4);
        TC_SUB("sigma 0 in the data", NULL, NULL, NCSN_ERR_FORMAT);
        memcpy(f.data + off + 4, keep, 4);
        tc_bad_levels(&f, off);
        s = strstr(f.hdr, "\"adam.v.net.0.bias\"");
        if (s && (s = strstr(s, "data_offsets\":[")) != NULL) off = strtoull(s + 15, NULL, 10);
        memcpy(keep, f.data + off, 4);
        f.data[off + 3] ^= 0x80;   /* flip the sign: v < 0 (v is > 0 after 2 steps) */
        TC_SUB("negative second moment", NULL, NULL, NCSN_ERR_FORMAT);
        f.data[off] = 0x01; f.data[off + 1] = 0x00; f.data[off + 2] = 0xc0; f.data[off + 3] = 0x7f;
        TC_SUB("NaN second moment", NULL, NULL, NCSN_ERR_FORMAT);
        memcpy(f.data + off, keep, 4);
        TC_SUB("restored", NULL, NULL, NCSN_OK);
    }
#undef TC_SUB
    free(f.data);

    {   /* truncation at every length fails; byte flips never crash and never load invalid state */
        int trunc_ok = -1, odd = 0, n_ok = 0, n = 0, bad_state = 0;
        size_t L0, pos;
        uint64_t xs = 0x9e3779b97f4a7c15ULL;
        for (L0 = 0; L0 < len; L0 += (t_quick ? 3 : 1)) {
            ncsn_model *m = NULL;
            ncsn_adam ad;
            ncsn_rng g;
            unsigned char *c = (unsigned char *)malloc(L0 ? L0 : 1);
            ncsn_status st;
            memcpy(c, buf, L0);
            st = ncsn_checkpoint_load_mem(&m, c, L0, &ad, &g, NULL, 0, NULL, NULL);
            if (st == NCSN_OK) { if (trunc_ok < 0) trunc_ok = (int)L0; ncsn_model_free(m); ncsn_adam_free(&ad); }
            else if (st != NCSN_ERR_FORMAT || m || !ncsn_last_error()[0]) odd++;
            free(c);
        }
        CHECK(trunc_ok < 0, "truncated checkpoint (%d of %lu bytes) loaded", trunc_ok, (unsigned long)len);
        for (pos = 0; pos < len; pos++) {
            int k;
            for (k = 0; k < (t_quick ? 1 : 3); k++) {
                ncsn_model *m = NULL;
                ncsn_adam ad;
                ncsn_rng g;
                float sig[16];
                int L = 0;
                unsigned char *c = (unsigned char *)malloc(len);
                ncsn_status st;
                xs ^= xs << 13; xs ^= xs >> 7; xs ^= xs << 17;
                memcpy(c, buf, len);
                c[pos] ^= (unsigned char)(k == 0 ? 0x01 : k == 1 ? 0x80 : (xs | 1u));
                st = ncsn_checkpoint_load_mem(&m, c, len, &ad, &g, sig, 16, &L, NULL);
                n++;
                if (st == NCSN_OK) {
                    size_t q;
                    n_ok++;
                    if (!(g.inc & 1u) || L < 1 || ncsn_model_check_finite(m, &ad, NCSN_CHECK_PARAMS | NCSN_CHECK_MOMENTS) != NCSN_OK) bad_state++;
                    for (q = 0; q < ad.n; q++) if (ad.v[q] < 0.0f) bad_state++;
                    for (q = 0; q < (size_t)L; q++) if (!(sig[q] > 0.0f)) bad_state++;
                    ncsn_model_free(m);
                    ncsn_adam_free(&ad);
                } else if (st != NCSN_ERR_FORMAT || m || ad.m || !ncsn_last_error()[0]) odd++;
                free(c);
            }
        }
        CHECK(odd == 0, "damaged checkpoints: %d loads failed without NCSN_ERR_FORMAT and a message, or left outputs", odd);
        CHECK(bad_state == 0, "damaged checkpoints: %d loaded with invalid state", bad_state);
        printf("  checkpoint: %d damaged copies of a %lu-byte checkpoint, %d loaded (valid state), every truncation refused\n", n,
               (unsigned long)len, n_ok);
    }
    free(buf);
    tc_free(&a);
}

void test_checkpoint(void)
{
    char dir[512];
    if (!tc_tmpdir(dir, sizeof dir)) { CHECK(0, "checkpoint: no temporary directory"); return; }
    tc_round_trip(dir);
    tc_resume_everywhere(dir);
    tc_atomic(dir);
    tc_step_limits(dir);
    tc_nonfinite();
    tc_hostile(dir);
    tc_kill_trials(dir);
    CHECK(tc_count_tmp(dir) == 0, "checkpoint: temporary files left in %s", dir);
    tc_rmdir(dir);
}
