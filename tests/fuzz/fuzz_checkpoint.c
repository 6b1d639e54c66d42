/* fuzz_checkpoint.c - libFuzzer target: ncsn_checkpoint_load_mem with every output (model, Adam,
   RNG, schedule, step) on any bytes. Build and run: make fuzz (or fuzz-ci). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ncsn_model *m = NULL;
    ncsn_adam ad;
    ncsn_rng g = { 11, 13 };
    float sig[16];
    int L = -1, i;
    long step = -1;
    ncsn_status st;
    fz_input_size = size;
    st = ncsn_checkpoint_load_mem(data, size, &m, &ad, &g, sig, 16, &L, &step);
    if (st == NCSN_OK) {
        size_t k;
        fz_check_model(m);
        FZ_ASSERT(ad.m && ad.v && ad.n == m->n_params, "Adam state does not match the model");
        FZ_ASSERT(ncsn_model_check_finite(m, &ad, NCSN_CHECK_MOMENTS) == NCSN_OK, "non-finite moment loaded");
        for (k = 0; k < ad.n; k++) FZ_ASSERT(ad.v[k] >= 0.0f, "negative second moment loaded");
        FZ_ASSERT(ad.lr > 0.0f && ad.beta1 >= 0.0f && ad.beta1 < 1.0f && ad.beta2 >= 0.0f && ad.beta2 < 1.0f && ad.eps > 0.0f &&
                  ad.weight_decay >= 0.0f && ad.step >= 0, "Adam hyper-parameters out of range");
        FZ_ASSERT(g.inc & 1u, "even PCG increment loaded");
        FZ_ASSERT(L >= 0 && L <= 16 && step >= 0, "L or step out of range");
        for (i = 0; i < L; i++) FZ_ASSERT(sig[i] > 0.0f && sig[i] - sig[i] == 0.0f, "bad sigma loaded");
        FZ_ASSERT(ncsn_adam_step(&ad, m->params, m->grads) == NCSN_OK, "the loaded Adam state cannot step");
        ncsn_adam_free(&ad);
        ncsn_model_free(m);
    } else {
        FZ_ASSERT(m == NULL && ad.m == NULL && g.state == 11 && g.inc == 13 && L == -1 && step == -1, "outputs changed by a failed load");
        FZ_ASSERT(st == NCSN_ERR_FORMAT || st == NCSN_ERR_NOMEM || st == NCSN_ERR_ARG, "unexpected status");
        FZ_ASSERT(ncsn_last_error()[0] != 0, "a failed load without a message");
    }
    /* the same bytes as a plain model */
    st = ncsn_model_load_mem(&m, data, size);
    if (st == NCSN_OK) { fz_check_model(m); ncsn_model_free(m); }
    return 0;
}
