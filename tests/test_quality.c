/* test_quality.c - the method works, at reduced size (issue 4, item 8):
   - annealed Langevin with the exact score recovers the 1/5 : 4/5 weights of Song & Ermon's toy
     mixture within +-0.03, while plain Langevin with the same score does not;
   - a seed-000 ScoreNet trained by DSM and sampled by the seed's annealed Langevin gives mode
     weights 0.5 +- 0.03 and an energy distance to fresh data within 2x the data-vs-data floor.
     The step constant is 2e-5, not the seed's 5e-5: with 5e-5 the first step is a = 50 =
     sigma_1^2/2, at the edge of stability, and a few chains diverge (examples/ measures how many).
   Everything is seeded, so these numbers are the same on every build. */
#include "test.h"
#include <stdlib.h>

static double left_fraction(const float *x, int n)   /* share of samples nearer (-5,-5) / (-3,0) */
{
    int i, c = 0;
    for (i = 0; i < n; i++) c += x[2 * i] + x[2 * i + 1] < 0.0f;
    return (double)c / n;
}

static void toy_mixing(void)
{
    const int n = 1280;
    float *x = (float *)malloc(sizeof(float) * 2 * n), sig[10];
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    ncsn_rng r;
    double w_plain, w_ald;
    ncsn_rng_seed(&r, 2019, 7);
    o.init = NCSN_INIT_UNIFORM;
    o.init_lo = -8.0f;
    o.init_hi = 8.0f;
    /* plain Langevin, the paper's toy: step 0.1, 1000 steps, exact data score */
    o.form = NCSN_LANGEVIN_SONG;
    CHECK(ncsn_sample_langevin(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, 0.0f, 0.1f, 1000, &o, &r, x, n) == NCSN_OK, "plain");
    w_plain = left_fraction(x, n);
    /* annealed: sigma 20 -> 1, L = 10, 100 steps each, step 0.1 sigma_i^2 (= eps (sigma_i/sigma_L)^2, eps 0.1),
       in Song's form x + a s + sqrt(2a) z as in the paper's code */
    ncsn_schedule(sig, 10, 20.0f, 1.0f, NCSN_SCHEDULE_GEOMETRIC);
    o.form = NCSN_LANGEVIN_SONG;
    o.eps = 0.1f;
    o.steps_per_level = 100;
    CHECK(ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 10, &o, &r, x, n) == NCSN_OK, "annealed");
    w_ald = left_fraction(x, n);
    printf("    toy mixture, weight of (-5,-5): plain Langevin %.3f, annealed %.3f (true 0.200)\n", w_plain, w_ald);
    CHECK(fabs(w_ald - 0.2) <= 0.03, "annealed Langevin weight %.3f not within 0.2 +- 0.03", w_ald);
    CHECK(fabs(w_plain - 0.2) > 0.1, "plain Langevin weight %.3f should be far from 0.2 (it does not mix)", w_plain);
    free(x);
}

static void trained_seed000(void)
{
    const int n_data = 2000, n_train = 1500, n_samp = 2000;
    ncsn_config cfg = ncsn_config_concat(2, 64, 3);
    ncsn_model *m = NULL;
    ncsn_adam opt;
    ncsn_dsm_batch bt;
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    ncsn_rng r;
    float sig[10], loss = 0.0f;
    float *data = (float *)malloc(sizeof(float) * 2 * n_data), *fresh = (float *)malloc(sizeof(float) * 2 * n_samp);
    float *fresh2 = (float *)malloc(sizeof(float) * 2 * n_samp), *x = (float *)malloc(sizeof(float) * 2 * n_samp);
    double w, ed, floor_ed;
    int step;
    if (t_quick) { free(data); free(fresh); free(fresh2); free(x); return; }
    ncsn_rng_seed(&r, 42, 0);
    ncsn_data_two_gaussians(&r, data, n_data);
    ncsn_schedule(sig, 10, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    CHECK(ncsn_model_create(&m, &cfg) == NCSN_OK, "create");
    ncsn_model_init(m, &r);
    ncsn_adam_create(&opt, m->n_params, 1e-3f);
    ncsn_dsm_batch_alloc(&bt, n_data, 2);
    for (step = 0; step < n_train; step++) {
        ncsn_model_zero_grad(m);
        if (ncsn_dsm_loss(m, &bt, data, n_data, sig, 10, NCSN_WEIGHT_SIGMA2, &r, NULL, NULL, 1, &loss) != NCSN_OK) break;
        ncsn_adam_step(&opt, m->params, m->grads);
    }
    CHECK(step == n_train, "training stopped at step %d: %s", step, ncsn_last_error());
    o.form = NCSN_LANGEVIN_SONG;
    o.eps = 2e-5f;
    o.steps_per_level = 100;
    o.init = NCSN_INIT_NORMAL;
    CHECK(ncsn_sample_annealed(ncsn_model_score, m, 2, sig, 10, &o, &r, x, n_samp) == NCSN_OK, "sample: %s", ncsn_last_error());
    ncsn_data_two_gaussians(&r, fresh, n_samp);
    ncsn_data_two_gaussians(&r, fresh2, n_samp);
    w = left_fraction(x, n_samp);
    ed = ncsn_energy_distance(x, n_samp, fresh, n_samp, 2);
    floor_ed = ncsn_energy_distance(fresh2, n_samp, fresh, n_samp, 2);
    printf("    seed 000 reduced (width 64, %d steps): final loss %.4f, left-mode weight %.3f, energy distance %.5f (data-vs-data floor %.5f)\n",
           n_train, (double)loss, w, ed, floor_ed);
    CHECK(fabs(w - 0.5) <= 0.03, "trained model mode weight %.3f not within 0.5 +- 0.03", w);
    CHECK(ed <= 2.0 * floor_ed, "energy distance %.5f above 2x the data floor %.5f", ed, floor_ed);
    ncsn_dsm_batch_free(&bt);
    ncsn_adam_free(&opt);
    ncsn_model_free(m);
    free(data); free(fresh); free(fresh2); free(x);
}

void test_quality(void)
{
    toy_mixing();
    trained_seed000();
}
