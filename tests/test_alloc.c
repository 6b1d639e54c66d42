/* test_alloc.c - allocation failure: every allocating API returns an error and leaks nothing.

   This file compiles a private copy of the implementation (NCSN_STATIC) with an allocator that
   fails the N-th allocation (or every allocation from the N-th on). A full cycle - create, init,
   threads, Adam, batch, train, checkpoint save, checkpoint load, model load, metadata, CSV parse,
   annealed sampling, score norms - is run for every N from 1 to the number of allocations it
   makes. For each N the cycle must report a failure (NCSN_ERR_NOMEM from the call whose
   allocation failed), and after its clean-up no allocation may be live. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L   /* mkstemp */
#include <unistd.h>
#endif
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#if !defined(NCSN_NO_THREADS) && !defined(_WIN32)
#include <pthread.h>
/* The library promises that only the calling thread allocates (pool workers never do), so a
   non-thread-safe NCSN_MALLOC is fine. Calls from any other thread are counted: the counters below
   are not atomic, and such a call once showed up as a phantom leak under qemu. */
static pthread_t ta_main;
static int ta_main_set;
static long ta_foreign;
#define TA_NOTE_THREAD() do { if (ta_main_set && !pthread_equal(pthread_self(), ta_main)) ta_foreign++; } while (0)
#else
static long ta_foreign;
#define TA_NOTE_THREAD() ((void)0)
#endif

static long ta_count, ta_fail_at = -1, ta_live, ta_failed;
static size_t ta_bytes, ta_peak;   /* bytes live now, and the most at once since the last reset */
static int ta_sticky;   /* 1: every allocation from ta_fail_at on fails */
#define TA_HDR 16       /* each block starts with its size (16 bytes keep malloc's alignment) */
static void *ta_malloc(size_t n)
{
    unsigned char *p;
    TA_NOTE_THREAD();
    ta_count++;
    if (ta_fail_at >= 0 && (ta_count == ta_fail_at || (ta_sticky && ta_count > ta_fail_at))) { ta_failed++; return NULL; }
    if (n > (size_t)-1 - TA_HDR || !(p = (unsigned char *)malloc(n + TA_HDR))) return NULL;
    memcpy(p, &n, sizeof n);
    ta_live++;
    ta_bytes += n;
    if (ta_bytes > ta_peak) ta_peak = ta_bytes;
    return p + TA_HDR;
}
static void ta_free(void *p)
{
    size_t n;
    if (!p) return;
    TA_NOTE_THREAD();
    memcpy(&n, (unsigned char *)p - TA_HDR, sizeof n);
    ta_live--;
    ta_bytes -= n;
    free((unsigned char *)p - TA_HDR);
}
#define NCSN_STATIC
#define NCSN_NO_FSYNC   /* durability is not under test here: no disk flushes */
#define NCSN_MALLOC(n) ta_malloc(n)
#define NCSN_FREE(p) ta_free(p)
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "test.h"

static const char ta_csv[] = "x,y\n1.5,2\n-3,0.25\n# comment\n4,5e-1\n";

/* the cycle; returns the first failure (and the call that failed in *where) */
static ncsn_status ta_cycle(const char *path, const char **where)
{
    ncsn_config cfg = ncsn_config_embed(2, 4, 8, 2);
    ncsn_model *m = NULL, *m2 = NULL, *m3 = NULL;
    ncsn_adam adam, adam2;
    ncsn_dsm_batch bt;
    ncsn_rng rng, rng2;
    ncsn_sampler_opts so = ncsn_sampler_defaults();
    float sig[4], sig2[8], data[16 * 2], x[5 * 2], norms[4], loss, *csv = NULL;
    static const char *const extra[] = { "k", "v", NULL };
    char v[64];
    int i, L2 = 0, n = 0, dim = 0;
    long step2 = 0;
    ncsn_status st;
    memset(&adam, 0, sizeof adam);
    memset(&adam2, 0, sizeof adam2);
    memset(&bt, 0, sizeof bt);
    ncsn_rng_seed(&rng, 3, 4);
    ncsn_data_two_gaussians(&rng, data, 16);
    ncsn_schedule(sig, 4, 5.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC);
#define TA(call) do { *where = #call; if ((st = (call)) != NCSN_OK) goto out; } while (0)
    TA(ncsn_model_create(&m, &cfg));
    TA(ncsn_model_init(m, &rng));
    TA(ncsn_model_set_threads(m, 2));
    TA(ncsn_adam_create(&adam, m->n_params, 1e-3f));
    TA(ncsn_dsm_batch_alloc(&bt, 16, 2));
    for (i = 0; i < 2; i++) {
        ncsn_model_zero_grad(m);
        TA(ncsn_dsm_loss(m, &bt, data, 16, sig, 4, NCSN_WEIGHT_SIGMA2, &rng, &loss));
        TA(ncsn_adam_step(&adam, m->params, m->grads));
    }
    TA(ncsn_model_check_finite(m, &adam, NCSN_CHECK_PARAMS | NCSN_CHECK_GRADS | NCSN_CHECK_MOMENTS));
    TA(ncsn_checkpoint_save(m, path, &adam, &rng, sig, 4, 2, extra));
    TA(ncsn_model_save(m, path));
    TA(ncsn_checkpoint_save(m, path, &adam, &rng, sig, 4, 2, extra));
    TA(ncsn_checkpoint_load(&m2, path, &adam2, &rng2, sig2, 8, &L2, &step2));
    TA(ncsn_model_load(&m3, path));
    TA(ncsn_file_meta(path, "k", v, sizeof v));
    TA(ncsn_csv_parse(ta_csv, sizeof ta_csv - 1, NULL, &csv, &n, &dim, NULL, 0));
    so.steps_per_level = 2;
    TA(ncsn_sample_annealed(ncsn_model_score, m2, 2, sig2, L2, &so, &rng2, x, 5));
    TA(ncsn_sample_annealed_chains(ncsn_model_score, m2, 2, sig2, L2, &so, &rng2, x, 5, 1, 2));
    so.form = NCSN_LANGEVIN_SONG_LM;   /* its extra buffer of the last draws */
    TA(ncsn_sample_annealed(ncsn_model_score, m2, 2, sig2, L2, &so, &rng2, x, 5));
    {
        static const unsigned char mask[5 * 2] = { 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 };
        float known[5 * 2] = { 0 };
        TA(ncsn_sample_inpaint(ncsn_model_score, m2, 2, sig2, L2, &so, &rng2, known, mask, x, 5));
    }
    so.form = NCSN_LANGEVIN_HALF;
    TA(ncsn_sigma_score_norms(ncsn_model_score, m3, 2, sig, 4, data, 16, &rng, norms));
    TA(ncsn_model_reserve(m3, 64));
#undef TA
    *where = NULL;
    st = NCSN_OK;
out:
    ncsn_free(csv);
    ncsn_dsm_batch_free(&bt);
    ncsn_adam_free(&adam);
    ncsn_adam_free(&adam2);
    ncsn_model_free(m);
    ncsn_model_free(m2);
    ncsn_model_free(m3);
    return st;
}

/* Sampling in pieces needs memory for a piece, not for the run: n = 50 chains of a model with 2^18
   hidden units (one batch would reserve ~350 MiB), 4 at a time. The peak of live bytes during the
   pieces is the workspace of 4 chains (ncsn_model_workspace_bytes, checked against what
   ncsn_model_reserve allocates) plus the piece's scores and noise. */
static void ta_sample_in_pieces(void)
{
    enum { N = 50, C = 4 };
    ncsn_config cfg = ncsn_config_concat(1, 1 << 18, 1);
    ncsn_model *m = NULL, *m2 = NULL;
    ncsn_sampler_opts so = ncsn_sampler_defaults();
    ncsn_rng rng, r;
    float sig[2] = { 1.0f, 0.1f }, x[C];
    size_t before, ws = 0, piece_peak = 0, bound;
    int first, ok = 1;
    ta_fail_at = -1;
    ncsn_rng_seed(&rng, 4, 4);
    if (ncsn_model_create(&m, &cfg) != NCSN_OK || ncsn_model_init(m, &rng) != NCSN_OK || ncsn_model_create(&m2, &cfg) != NCSN_OK) {
        CHECK(0, "alloc: pieces: setup: %s", ncsn_last_error());
        goto out;
    }
    before = ta_bytes;
    ws = ncsn_model_workspace_bytes(m2, C);
    CHECK(ncsn_model_reserve(m2, C) == NCSN_OK && ta_bytes - before == ws, "alloc: ncsn_model_reserve(%d) holds %lu bytes, "
          "ncsn_model_workspace_bytes says %lu", C, (unsigned long)(ta_bytes - before), (unsigned long)ws);
    so.steps_per_level = 1;
    so.init = NCSN_INIT_NORMAL;
    for (first = 0; first < N && ok; first += C) {
        int c = N - first < C ? N - first : C;
        before = ta_bytes;
        ta_peak = ta_bytes;
        r = rng;
        ok = ncsn_sample_annealed_chains(ncsn_model_score, m, 1, sig, 2, &so, &r, x, N, first, c) == NCSN_OK;
        if (ta_peak - before > piece_peak) piece_peak = ta_peak - before;
    }
    CHECK(ok, "alloc: pieces: %s", ncsn_last_error());
    bound = ws + 2 * C * sizeof(float) + 2 * 2 * sizeof(float) + 256;   /* + scores and noise of a piece, the 2 levels' coefficients */
    CHECK(piece_peak <= bound, "alloc: a piece of %d chains needed %lu bytes at once, bound %lu", C, (unsigned long)piece_peak, (unsigned long)bound);
    CHECK(ncsn_model_workspace_bytes(m, N) > 10 * piece_peak, "alloc: one batch of %d (%lu bytes) is not far above a piece (%lu)", N,
          (unsigned long)ncsn_model_workspace_bytes(m, N), (unsigned long)piece_peak);
    printf("  alloc: sampling %d chains of a 2^18-unit network %d at a time: at most %.1f MiB at once (one batch: %.1f MiB)\n", N, C,
           (double)piece_peak / 1048576.0, (double)ncsn_model_workspace_bytes(m, N) / 1048576.0);
out:
    ncsn_model_free(m);
    ncsn_model_free(m2);
}

void test_alloc(void)
{
    ta_sample_in_pieces();
    char path[512];
    const char *where = NULL;
    long total, N;
    int mode, bad_status = 0, leaks = 0, silent = 0, wrong_where = 0;
    ncsn_status st;
#if !defined(_WIN32)
    {
        const char *d = getenv("TMPDIR");
        int fd;
        snprintf(path, sizeof path, "%s/ncsn_alloc_XXXXXX", d && *d ? d : "/tmp");
        fd = mkstemp(path);
        if (fd < 0) { CHECK(0, "alloc: no temporary file"); return; }
        close(fd);
    }
#else
    snprintf(path, sizeof path, "ncsn_alloc_test.ckpt");
#endif
#if !defined(NCSN_NO_THREADS) && !defined(_WIN32)
    ta_main = pthread_self();
    ta_main_set = 1;
#endif
    /* the cycle without failures: how many allocations it makes */
    ta_fail_at = -1;
    ta_count = ta_live = ta_failed = 0;
    st = ta_cycle(path, &where);
    total = ta_count;
    CHECK(st == NCSN_OK, "alloc: the cycle fails without injected failures at %s: %s", where ? where : "?", ncsn_last_error());
    CHECK(ta_live == 0, "alloc: the cycle leaks %ld allocations without failures", ta_live);
    for (mode = 0; mode < 2; mode++) {
        ta_sticky = mode;
        for (N = 1; N <= total; N++) {
            ta_fail_at = N;
            ta_count = ta_live = ta_failed = 0;
            ncsn__errbuf[0] = 0;
            st = ta_cycle(path, &where);
            if (ta_failed == 0) continue;   /* the cycle made fewer allocations this time */
            if (st == NCSN_OK) { silent++; if (silent <= 3) CHECK(0, "alloc: allocation %ld failed, the cycle still returned NCSN_OK", N); }
            else if (st != NCSN_ERR_NOMEM) {
                bad_status++;
                if (bad_status <= 3) CHECK(0, "alloc: allocation %ld failed: %s returned %s: %s", N, where, ncsn_status_string(st), ncsn_last_error());
            } else if (!strstr(ncsn_last_error(), "memory") && !strstr(ncsn_last_error(), "thread")) {
                wrong_where++;
                if (wrong_where <= 3) CHECK(0, "alloc: allocation %ld failed: %s: message '%s' does not say out of memory", N, where, ncsn_last_error());
            }
            if (ta_live != 0) { leaks++; if (leaks <= 3) CHECK(0, "alloc: allocation %ld failed in %s: %ld allocations leaked", N, where, ta_live); }
        }
    }
    ta_fail_at = -1;
    ta_sticky = 0;
    CHECK(ta_foreign == 0, "alloc: %ld allocator calls came from a pool worker thread (only the calling thread may allocate)", ta_foreign);
    CHECK(silent == 0 && bad_status == 0 && wrong_where == 0 && leaks == 0,
          "alloc: over N = 1..%ld (once and from N on): %d silent, %d wrong status, %d wrong message, %d leaking", total, silent, bad_status,
          wrong_where, leaks);
    printf("  alloc: a train-save-load-sample cycle of %ld allocations, each made to fail (alone, and with all after it): every API returned "
           "NCSN_ERR_NOMEM, nothing leaked\n", total);
    remove(path);
}
