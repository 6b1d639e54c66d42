/* test_selftest.c - ncsn_selftest (group `selftest`), and the limits that replaced constants which
   assumed a 64-bit size_t.
   - it passes on this build, and the hashes embedded in ncsn.h are those of golden/ (`make golden`
     writes them), so a header whose constants drifted from golden/ fails here;
   - each part's comparison can fail: against a wrong hash it returns NCSN_ERR_BUILD naming the part
     and both hashes;
   - every allocation it makes may fail: NCSN_ERR_NOMEM, a message, nothing leaked;
   - B x D, n x dim, parameter and workspace counts are checked against the target's limit before a
     size_t product can wrap, and each message names the limit that failed.
   A private copy of the implementation (NCSN_STATIC) gives the embedded constants, the parts
   against chosen hashes, and a counting allocator. Whether a build flag is refused or caught is
   tests/user_builds.sh (run by make test). */
#include <stdlib.h>
#include <stddef.h>
static long st_live, st_calls, st_fail_at;   /* live blocks, allocation calls, the call that fails (0: none) */
static void *st_malloc(size_t n)
{
    void *p;
    if (++st_calls == st_fail_at) return NULL;
    if ((p = malloc(n)) != NULL) st_live++;
    return p;
}
static void st_free(void *p)
{
    if (!p) return;
    st_live--;
    free(p);
}
#define NCSN_STATIC
#define NCSN_MALLOC(n) st_malloc(n)
#define NCSN_FREE(p) st_free(p)
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "test.h"

int golden_selftest_parts(void);
const char *golden_selftest_macro(int part);
int golden_selftest_hash(int part, uint64_t *out);

static const uint64_t st_embedded[NCSN__SELFTEST_PARTS] = { NCSN__SELFTEST_RNG, NCSN__SELFTEST_MATH, NCSN__SELFTEST_MODEL,
                                                            NCSN__SELFTEST_TRAIN, NCSN__SELFTEST_SAMPLE };

/* the embedded hashes are those of golden/, and each part's comparison can fail */
static void st_hashes(void)
{
    int k;
    CHECK(golden_selftest_parts() == NCSN__SELFTEST_PARTS, "golden.c hashes %d parts, ncsn.h embeds %d", golden_selftest_parts(),
          NCSN__SELFTEST_PARTS);
    for (k = 0; k < NCSN__SELFTEST_PARTS && k < golden_selftest_parts(); k++) {
        uint64_t want = st_embedded[k] ^ 1u, h = 0;
        uint64_t wrong[NCSN__SELFTEST_PARTS];
        char a[24], b[24];
        ncsn_status st;
        CHECK(golden_selftest_hash(k, &h), "%s: golden/ is unreadable or malformed", golden_selftest_macro(k));
        CHECK(h == st_embedded[k], "ncsn.h has %s = 0x%016llx, golden/ gives 0x%016llx: run `make golden` (it rewrites both)",
              golden_selftest_macro(k), (unsigned long long)st_embedded[k], (unsigned long long)h);
        memcpy(wrong, st_embedded, sizeof wrong);
        wrong[k] = want;
        st = ncsn__selftest_against(wrong);
        snprintf(a, sizeof a, "0x%016llx", (unsigned long long)st_embedded[k]);
        snprintf(b, sizeof b, "0x%016llx", (unsigned long long)want);
        CHECK(st == NCSN_ERR_BUILD && strstr(ncsn_last_error(), ncsn__selftest_parts[k].name) && strstr(ncsn_last_error(), a) &&
                  strstr(ncsn_last_error(), b),
              "part %d against a wrong hash: status %d, message '%s'", k, (int)st, ncsn_last_error());
    }
}

/* every allocation of the self-test fails in turn */
static void st_nomem(void)
{
    long k, total;
    int bad = 0;
    st_calls = 0;
    st_fail_at = 0;
    ncsn_selftest();
    total = st_calls;
    for (k = 1; k <= total && bad < 3; k++) {
        ncsn_status st;
        st_calls = 0;
        st_fail_at = k;
        st = ncsn_selftest();
        if (st != NCSN_ERR_NOMEM || strncmp(ncsn_last_error(), "ncsn_selftest: ", 15) != 0 || st_live != 0) {
            CHECK(0, "allocation %ld of %ld failing: status %d, %ld blocks live, message '%s'", k, total, (int)st, st_live, ncsn_last_error());
            bad++;
        }
    }
    st_fail_at = 0;
    CHECK(total > 10 && bad == 0, "self-test: %ld allocations, %d failures mishandled", total, bad);
}

#define ST_EXPECT(call, want, msg)                                                                                           \
    do {                                                                                                                     \
        ncsn_status st_ = (call);                                                                                            \
        CHECK(st_ == (want) && strstr(ncsn_last_error(), (msg)), "%s: status %d, message '%s', want %d with '%s'", #call, \
              (int)st_, ncsn_last_error(), (int)(want), (msg));                                                              \
    } while (0)

static ncsn_status st_zero_score(void *user, float *out, const float *x, float sigma, int n)
{
    /* writes its zeros (the sampler's score buffer is not cleared: an unwritten one held heap
       garbage, and the chain diverged now and then); every call with dim > 1 is refused first */
    int i;
    (void)user; (void)x; (void)sigma;
    for (i = 0; i < n; i++) out[i] = 0.0f;
    return NCSN_OK;
}

/* the limits of this target: 2^40 elements with a 64-bit size_t, 2^28 - 1 with a 32-bit one */
static void st_limits(void)
{
    char lim[48];
    ncsn_dsm_batch bt;
    ncsn_config big = ncsn_config_concat(2, 1 << 20, 3), wide = ncsn_config_concat(1, 1 << 20, 1);
    ncsn_model *m = NULL;
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    float sig = 1.0f, x[1];
    ncsn_rng r;
    snprintf(lim, sizeof lim, "exceeds %llu,", (unsigned long long)NCSN__MAX_ELEMS);
    CHECK((uint64_t)NCSN__MAX_ELEMS == (sizeof(size_t) >= 8 ? (uint64_t)1 << 40 : (uint64_t)(SIZE_MAX / 16)),
          "the element limit %llu for a %d-bit size_t", (unsigned long long)NCSN__MAX_ELEMS, (int)(8 * sizeof(size_t)));
    ncsn_rng_seed(&r, 1, 1);
    /* the case: refused on ILP32 when the limit was (size_t)1 << 40 (0 there) */
    ST_EXPECT(ncsn_dsm_batch_alloc(&bt, 257, 5), NCSN_OK, "");
    ncsn_dsm_batch_free(&bt);
    ST_EXPECT(ncsn_dsm_batch_alloc(&bt, 0, 5), NCSN_ERR_ARG, "B = 0, D = 5 must be >= 1");
    ST_EXPECT(ncsn_dsm_batch_alloc(&bt, 0x7fffffff, 1 << 20), NCSN_ERR_ARG, "B x D = 2147483647 x 1048576 ");
    ST_EXPECT(ncsn_dsm_batch_alloc(&bt, 0x7fffffff, 1 << 20), NCSN_ERR_ARG, lim);
    ST_EXPECT(ncsn_sample_langevin(st_zero_score, NULL, 1 << 20, 1.0f, 0.1f, 1, &o, &r, x, 0x7fffffff), NCSN_ERR_ARG,
              "n x dim = 2147483647 x 1048576 ");
    ST_EXPECT(ncsn_sample_langevin(st_zero_score, NULL, 1 << 20, 1.0f, 0.1f, 1, &o, &r, x, 0x7fffffff), NCSN_ERR_ARG, lim);
    o.init = NCSN_INIT_GIVEN;
    x[0] = 0.0f;
    ST_EXPECT(ncsn_sample_langevin(st_zero_score, NULL, 1, 1.0f, 0.1f, 1, &o, &r, x, 1), NCSN_OK, "");
    /* 2 x 2^40 weights: more than either limit, and a wrapped sum on ILP32 */
    ST_EXPECT(ncsn_model_create(&m, &big), NCSN_ERR_ARG, "parameters; at most");
    CHECK(m == NULL, "model created despite the parameter limit");
    /* 2^26 samples x 2^20 hidden units of workspace */
    if (ncsn_model_create(&m, &wide) == NCSN_OK) {
        ST_EXPECT(ncsn_model_reserve(m, 1 << 26), NCSN_ERR_NOMEM, "batch = 67108864 needs a workspace of");
        CHECK(ncsn_model_workspace_bytes(m, 1 << 26) == SIZE_MAX, "workspace bytes of 2^26 x 2^20: %llu, want SIZE_MAX (beyond the limit)",
              (unsigned long long)ncsn_model_workspace_bytes(m, 1 << 26));
        CHECK(ncsn_model_workspace_bytes(m, 1) < (size_t)64 << 20, "workspace bytes of one sample: %llu",
              (unsigned long long)ncsn_model_workspace_bytes(m, 1));
        ST_EXPECT(ncsn_model_forward(m, x, x, &sig, 1), NCSN_OK, "");
        ncsn_model_free(m);
    }
    CHECK(st_live == 0, "%ld blocks live after the limit checks", st_live);
}

/* this copy's kernel path (test_dispatch.c forces each in turn) */
ncsn_status ts_simd_force(const char *path) { return ncsn_simd_force(path); }

void test_selftest(void)
{
    ncsn_status st = ncsn_selftest();
    CHECK(st == NCSN_OK, "ncsn_selftest: status %d (%s): %s", (int)st, ncsn_status_string(st), ncsn_last_error());
    CHECK(strcmp(ncsn_status_string(NCSN_ERR_BUILD), "build computes different bits") == 0, "status string of NCSN_ERR_BUILD");
    st_hashes();
    if (!t_quick) st_nomem();
    st_limits();
}
