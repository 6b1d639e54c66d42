/* consumer.c - a program that uses an installed ncsn.h, built by tests/install/check.sh three
   ways (pkg-config, find_package, FetchContent). It takes the header by <ncsn.h>, from the include
   path its build route gives (this directory has none), runs the self-test and one forward pass
   on two threads (so the pthreads link matters), and exits 0 only if both are right. */
#define NCSN_IMPLEMENTATION
#include <ncsn.h>
#include <stdio.h>

#ifndef ROUTE
#define ROUTE "?"
#endif

int main(void)
{
    ncsn_config cfg = ncsn_config_concat(2, 64, 2);
    ncsn_model *m = NULL;
    ncsn_rng rng;
    float x[2 * 256], sigma[256], out[2 * 256];
    ncsn_status st = ncsn_selftest();
    int i;
    if (st != NCSN_OK) {
        fprintf(stderr, "consumer (%s): ncsn_selftest: %s: %s\n", ROUTE, ncsn_status_string(st), ncsn_last_error());
        return 1;
    }
    ncsn_rng_seed(&rng, 7, 54);
    for (i = 0; i < 2 * 256; i++) x[i] = ncsn_rng_normal(&rng);
    for (i = 0; i < 256; i++) sigma[i] = 0.5f;
    if ((st = ncsn_model_create(&m, &cfg)) != NCSN_OK || (st = ncsn_model_init(m, &rng)) != NCSN_OK ||
        (st = ncsn_model_set_threads(m, 2)) != NCSN_OK || (st = ncsn_model_forward(m, out, x, sigma, 256)) != NCSN_OK) {
        fprintf(stderr, "consumer (%s): %s\n", ROUTE, ncsn_last_error());
        ncsn_model_free(m);
        return 1;
    }
    ncsn_model_free(m);
    printf("consumer (%s): ncsn.h %s, selftest ok, kernels %s\n", ROUTE, NCSN_VERSION_STRING, ncsn_simd_name());
    return 0;
}
