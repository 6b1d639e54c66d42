/* fuzz_common.h - shared by the libFuzzer targets: a private copy of the implementation whose
   allocator aborts on any single allocation far larger than the input (the loaders promise to
   never allocate much more than what they read), and a check that turns a broken promise into a
   crash libFuzzer reports. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static size_t fz_input_size;
static void *fz_malloc(size_t n)
{
    /* the largest legitimate request: the parsed-header table (~32 KiB), the model (params and
       gradients, <= 2x the data), workspaces of a tiny forward pass */
    if (n > ((size_t)1 << 20) + 16 * fz_input_size) {
        fprintf(stderr, "fuzz: a %lu-byte input made the library request %lu bytes at once\n", (unsigned long)fz_input_size, (unsigned long)n);
        abort();
    }
    return malloc(n);
}
#define NCSN_STATIC
#define NCSN_NO_FSYNC
#define NCSN_MALLOC(n) fz_malloc(n)
#define NCSN_FREE(p) free(p)
#define NCSN_IMPLEMENTATION
#include "../../ncsn.h"

#define FZ_ASSERT(c, what) do { if (!(c)) { fprintf(stderr, "fuzz: broken promise: %s (%s)\n", what, ncsn_last_error()); abort(); } } while (0)

/* a model that loaded must be valid and usable */
static void fz_check_model(ncsn_model *m)
{
    float x[2 * 64], out[2 * 64], s[2] = { 0.5f, 3.0f };
    int k;
    FZ_ASSERT(ncsn_config_check(&m->cfg) == NCSN_OK, "a loaded model has an invalid config");
    FZ_ASSERT(ncsn_model_check_finite(m, NULL, NCSN_CHECK_PARAMS) == NCSN_OK, "a loaded model has a non-finite weight");
    if (m->cfg.dim <= 64 && m->n_params <= ((size_t)1 << 16)) {
        for (k = 0; k < 2 * m->cfg.dim; k++) x[k] = 0.25f * (float)k - 1.0f;
        FZ_ASSERT(ncsn_model_forward(m, out, x, s, 2) == NCSN_OK, "a loaded model cannot run forward");
    }
}
