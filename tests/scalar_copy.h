/* scalar_copy.h - the scalar-kernel copy of the model (tests/scalar_copy.c) */
#ifndef NCSN_SCALAR_COPY_H
#define NCSN_SCALAR_COPY_H
#include "../ncsn.h"
/* 1 on success; grads receives n_params values (at most grads_cap) */
int scalar_model_run(const ncsn_config *cfg, uint64_t seed, const float *x, const float *sigma, const float *R, int B,
                     float *out, float *dx, float *grads, size_t grads_cap);
const char *scalar_copy_kernels(void);   /* "scalar" */
#endif
