/* scalar_copy.c - a private copy of the implementation with the scalar kernels only
   (NCSN_NO_SIMD, NCSN_STATIC), so that one run of the suite can compare the SIMD build's model
   with the scalar reference bit for bit (test_model.c); the golden files do the same across
   builds, but only for the configurations they hold. */
#define NCSN_STATIC
#ifndef NCSN_NO_SIMD /* the scalar matrix cells pass it on the command line */
#define NCSN_NO_SIMD
#endif
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "scalar_copy.h"

/* create, init from (seed, 9), forward on B samples, backward of sum(out * R): out, dx, grads */
int scalar_model_run(const ncsn_config *cfg, uint64_t seed, const float *x, const float *sigma, const float *R, int B,
                     float *out, float *dx, float *grads, size_t grads_cap)
{
    ncsn_model *m = NULL;
    ncsn_rng rng;
    int ok;
    if (ncsn_model_create(&m, cfg) != NCSN_OK) return 0;
    ncsn_rng_seed(&rng, seed, 9);
    ok = m->n_params <= grads_cap && ncsn_model_init(m, &rng) == NCSN_OK && ncsn_model_forward(m, out, x, sigma, B) == NCSN_OK &&
         ncsn_model_backward(m, dx, R) == NCSN_OK;
    if (ok) memcpy(grads, m->grads, m->n_params * sizeof(float));
    ncsn_model_free(m);
    return ok;
}

const char *scalar_copy_kernels(void) { return ncsn_simd_name(); }
