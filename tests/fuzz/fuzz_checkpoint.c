/* fuzz_checkpoint.c - libFuzzer target: ncsn_checkpoint_load_mem with every output (model, Adam,
   RNG, schedule, step) on any bytes, then what `ncsn train --resume` and `ncsn sample` do with a
   loaded file: the levels are a schedule, a training step on 2-column data runs only when the
   model is 2-d (any other dimension is refused before a write), and a piece of a sampling run
   checks its dimension too. Build and run: make fuzz (or fuzz-ci). */
#include "fuzz_common.h"

/* one resumed training step on 2-column data, and one piece of sampling, as the CLI does */
static void fz_resume(ncsn_model *m, ncsn_adam *ad, ncsn_rng *g, const float *sig, int L)
{
    enum { B = 3, DATA_DIM = 2 };
    float data[B * DATA_DIM] = { 0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f }, loss, x[2 * 64];
    ncsn_dsm_batch bt;
    ncsn_sampler_opts so = ncsn_sampler_defaults();
    ncsn_rng r = *g;
    ncsn_status st;
    if (m->n_params > ((size_t)1 << 16) || ncsn_dsm_batch_alloc(&bt, B, DATA_DIM) != NCSN_OK) return;
    st = ncsn_dsm_loss(m, &bt, data, B, sig, L, NCSN_WEIGHT_SIGMA2, &r, &loss);
    if (m->cfg.dim != DATA_DIM) FZ_ASSERT(st == NCSN_ERR_ARG, "a training step ran on data of another dimension than the model's");
    else FZ_ASSERT(st == NCSN_OK || st == NCSN_ERR_NONFINITE, "a training step on the loaded checkpoint failed");
    if (st == NCSN_OK) FZ_ASSERT(ncsn_model_adam_step(m, ad) == NCSN_OK || ncsn_model_check_finite(m, NULL, NCSN_CHECK_GRADS) != NCSN_OK,
                                 "the loaded Adam state cannot step");
    ncsn_dsm_batch_free(&bt);
    so.steps_per_level = 1;
    if (m->cfg.dim <= 64) {
        r = *g;
        st = ncsn_sample_annealed_chains(ncsn_model_score, m, m->cfg.dim, sig, L, &so, &r, x, 5, 3, 2);
        FZ_ASSERT(st == NCSN_OK || st == NCSN_ERR_NONFINITE, "a piece of sampling failed on the loaded levels");
    }
    r = *g;
    FZ_ASSERT(ncsn_sample_annealed_chains(ncsn_model_score, m, m->cfg.dim + 1, sig, L, &so, &r, x, 5, 3, 1) == NCSN_ERR_ARG,
              "sampling with another dimension than the model's was not refused");
}

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
    st = ncsn_checkpoint_load_mem(&m, data, size, &ad, &g, sig, 16, &L, &step);
    if (st == NCSN_OK) {
        size_t k;
        fz_check_model(m);
        FZ_ASSERT(ad.m && ad.v && ad.n == m->n_params, "Adam state does not match the model");
        FZ_ASSERT(ncsn_model_check_finite(m, &ad, NCSN_CHECK_MOMENTS) == NCSN_OK, "non-finite moment loaded");
        for (k = 0; k < ad.n; k++) FZ_ASSERT(ad.v[k] >= 0.0f, "negative second moment loaded");
        FZ_ASSERT(ad.lr > 0.0f && ad.beta1 >= 0.0f && ad.beta1 < 1.0f && ad.beta2 >= 0.0f && ad.beta2 < 1.0f && ad.eps > 0.0f &&
                  ad.weight_decay >= 0.0f && ad.step >= 0 && ad.step <= NCSN_MAX_STEP, "Adam hyper-parameters out of range");
        FZ_ASSERT(g.inc & 1u, "even PCG increment loaded");
        FZ_ASSERT(L >= 0 && L <= 16 && step >= 0 && step <= NCSN_MAX_STEP, "L or step out of range");
        for (i = 0; i < L; i++) FZ_ASSERT(sig[i] >= 1.17549435e-38f && sig[i] - sig[i] == 0.0f && (i == 0 || sig[i] < sig[i - 1]),
                                          "loaded levels that are not a schedule (finite, normal, strictly decreasing)");
        if (L > 0) fz_resume(m, &ad, &g, sig, L);
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
