/* minimal.c - train a score network on two Gaussians and sample from it (the README's example). */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include <stdio.h>
#include <string.h>

int main(void)
{
    static float data[1000 * 2], samples[100 * 2];
    float sigmas[10], loss = 0.0f;
    ncsn_config cfg = ncsn_config_concat(2, 64, 3);          /* seed 000's ScoreNet, narrower */
    ncsn_sampler_opts opts = ncsn_sampler_defaults();
    ncsn_model *model = NULL;
    ncsn_adam adam;
    ncsn_dsm_batch batch;
    ncsn_rng rng;
    ncsn_status st;                   /* every call that can fail returns one: stop at the first */
    int step;

    memset(&adam, 0, sizeof adam);    /* the frees at the end are safe whatever failed */
    memset(&batch, 0, sizeof batch);
    ncsn_rng_seed(&rng, 42, 54);
    ncsn_data_two_gaussians(&rng, data, 1000);
    st = ncsn_schedule(sigmas, 10, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    if (st == NCSN_OK) st = ncsn_model_create(&model, &cfg);
    if (st == NCSN_OK) st = ncsn_model_init(model, &rng);
    if (st == NCSN_OK) st = ncsn_adam_create(&adam, model->n_params, 1e-3f);
    if (st == NCSN_OK) st = ncsn_dsm_batch_alloc(&batch, 1000, 2);
    for (step = 0; step < 300 && st == NCSN_OK; step++) {
        ncsn_model_zero_grad(model);
        st = ncsn_dsm_loss(model, &batch, data, 1000, sigmas, 10, NCSN_WEIGHT_SIGMA2, &rng, &loss);
        if (st == NCSN_OK) st = ncsn_adam_step(&adam, model->params, model->grads);
    }
    opts.form = NCSN_LANGEVIN_SONG;     /* x + a s + sqrt(2a) z, a = eps sigma_i^2 / sigma_L^2 */
    opts.eps = 2e-5f;
    opts.init = NCSN_INIT_NORMAL;
    if (st == NCSN_OK) st = ncsn_sample_annealed(ncsn_model_score, model, 2, sigmas, 10, &opts, &rng, samples, 100);
    if (st == NCSN_OK) printf("loss %.4f, first sample (%.3f, %.3f)\n", loss, samples[0], samples[1]);
    else fprintf(stderr, "minimal: %s\n", ncsn_last_error());
    ncsn_dsm_batch_free(&batch);
    ncsn_adam_free(&adam);
    ncsn_model_free(model);
    return st == NCSN_OK ? 0 : 1;
}
