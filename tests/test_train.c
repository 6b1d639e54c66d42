/* test_train.c - the training layer (ncsn.h section 11):
   - a trainer's steps give the bits of the hand-written loop with the same recipe (minibatches
     and full batch), and its EMA the bits of the hand-written recurrence;
   - a run saved and resumed continues bit for bit (weights, EMA, Adam, RNG, permutation); other
     data are refused;
   - standardisation: apply/undo round trip, scores transform with the inverse scale (checked
     against a Gaussian's exact score in both units), saved and loaded with the model;
   - each setting against the paper's formula, computed here with libm: sigma_1 (technique 1),
     the level ratio (2), eps (4); the sampler recipe;
   - the divergence rule, and ncsn_sample_data = ncsn_sample_annealed + the rule + undo. */
#include "test.h"
#include <float.h>
#include <stdlib.h>

static float *tr_data(int n, int dim, uint64_t seed)
{
    float *x = (float *)malloc(sizeof(float) * (size_t)n * dim);
    ncsn_rng r;
    int i;
    ncsn_rng_seed(&r, seed, 3);
    ncsn_rng_normals(&r, x, (size_t)n * dim);
    for (i = 0; i < n * dim; i++) x[i] = fmaf(2.0f + (float)(i % dim), x[i], 10.0f * (float)(i % dim));   /* columns on other scales */
    return x;
}

static ncsn_train_opts tr_opts(int batch)
{
    ncsn_train_opts o = ncsn_train_preset_seed001();
    o.net = ncsn_config_embed(1, 8, 16, 2);
    o.net.zero_init_output = 0;
    o.levels = 4;
    o.batch = batch;
    o.threads = t_threads;
    return o;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* the trainer against the loop every example wrote by hand before it existed */
/* stops a run at its first callback */
static ncsn_status tr_stop_cb(void *user, const ncsn_trainer *t)
{
    (void)user; (void)t;
    return NCSN_ERR_CALLBACK;
}

static void steps_match_loop(void)
{
    enum { N = 96, D = 3, STEPS = 12 };
    float *data = tr_data(N, D, 1), sig[4], loss = 0.0f, *xb = (float *)malloc(sizeof(float) * N * D), *ema;
    int perm[N], b, i, step, ok;
    for (b = 0; b < 2; b++) {
        ncsn_train_opts o = tr_opts(b ? 1000 : 32);
        ncsn_config cfg = o.net;
        ncsn_trainer *t = NULL;
        ncsn_model *m = NULL;
        ncsn_adam opt;
        ncsn_dsm_batch bt;
        ncsn_rng r, r0;
        int B = b ? N : 32;
        o.ema_rate = 0.9f;
        ncsn_rng_seed(&r0, 5, 6);
        CHECK(ncsn_trainer_create(&t, &o, data, N, D, &r0) == NCSN_OK, "create: %s", ncsn_last_error());
        if (b == 0) {   /* a run past what a checkpoint holds is refused before its first step (the
                           callback stops a run that starts after one step, so the check cannot hang) */
            CHECK(ncsn_trainer_run(t, (long)NCSN_MAX_STEP + 1, 1, tr_stop_cb, NULL) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "NCSN_MAX_STEP") &&
                  t->step == 0, "run past NCSN_MAX_STEP: %s", ncsn_last_error());
        }
        CHECK(ncsn_trainer_run(t, STEPS, 0, NULL, NULL) == NCSN_OK, "run: %s", ncsn_last_error());
        /* by hand: the same schedule, init from the same stream, minibatch, DSM, Adam, EMA */
        cfg.dim = D;
        r = r0;
        ncsn_schedule(sig, 4, 5.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
        ncsn_model_create(&m, &cfg);
        ncsn_model_init(m, &r);
        ncsn_adam_create(&opt, m->n_params, 1e-3f);
        ncsn_dsm_batch_alloc(&bt, B, D);
        ema = (float *)malloc(sizeof(float) * m->n_params);
        memcpy(ema, m->params, sizeof(float) * m->n_params);
        for (i = 0; i < N; i++) perm[i] = i;
        for (step = 0; step < STEPS; step++) {
            if (B < N) ncsn_minibatch(&r, perm, N, data, D, xb, B);
            ncsn_model_zero_grad(m);
            ncsn_dsm_loss(m, &bt, B < N ? xb : data, B, sig, 4, NCSN_WEIGHT_SIGMA2, &r, &loss);
            ncsn_model_adam_step(m, &opt);
            {   /* with the warm-up: the rate is at most (1 + k)/(10 + k) */
                double rate = fmin(0.9, (step + 1.0) / (step + 10.0));
                for (i = 0; i < (int)m->n_params; i++) ema[i] = (float)(rate * ema[i] + (1.0 - rate) * m->params[i]);
            }
        }
        ok = same_bits(t->model->params, m->params, m->n_params) && t->rng.state == r.state && t->loss == loss && t->step == STEPS;
        CHECK(ok, "%s: trainer and hand-written loop differ", b ? "full batch" : "minibatches");
        CHECK(same_bits(t->sigmas, sig, 4), "levels differ from ncsn_schedule's");
        {   /* EMA: the library's fma form, and within rounding of the textbook form */
            double worst = 0.0;
            for (i = 0; i < (int)m->n_params; i++) worst = fmax(worst, fabs((double)t->ema[i] - ema[i]));
            CHECK(worst < 1e-5, "EMA off the recurrence by %g", worst);
            CHECK(ncsn_trainer_weights(t) == t->ema, "sampling weights are the EMA copy");
        }
        free(ema);
        ncsn_dsm_batch_free(&bt);
        ncsn_adam_free(&opt);
        ncsn_model_free(m);
        ncsn_trainer_free(t);
    }
    {   /* ncsn_ema_update's exact form */
        float e[3] = { 0.1f, -1.3f, 0.5f }, p[3] = { 0.7f, 5.5f, 0.5f };   /* values where rate e + (1 - rate) p rounds otherwise */
        ncsn_ema_update(e, p, 3, 0.999f);
        CHECK(t_f2u(e[0]) == 0x3dce0762u && t_f2u(e[1]) == 0xbfa58796u && e[2] == 0.5f, "ema update form: %a %a", e[0], e[1]);
    }
    free(data);
    free(xb);
}

/* A non-finite gradient, weight or moment stops a step with its tensor named (Adam's pass finds
   the written ones, the scans only name them); a refused gradient leaves the weights and steps. */
static void nonfinite_steps(void)
{
    enum { N = 96, D = 3 };
    static const char *const want[4] = { "gradient ", "gradient ", "Adam second moment ", "parameter " };
    float *data = tr_data(N, D, 4), *p0 = NULL;
    int c;
    for (c = 0; c < 4; c++) {
        ncsn_train_opts o = tr_opts(32);
        ncsn_trainer *t = NULL;
        ncsn_rng r;
        ncsn_status st;
        size_t k, n, nz = 0;
        long step0, adam0;
        ncsn_rng_seed(&r, 5, 6);
        CHECK(ncsn_trainer_create(&t, &o, data, N, D, &r) == NCSN_OK && ncsn_trainer_step(t) == NCSN_OK, "create: %s", ncsn_last_error());
        n = t->model->n_params;
        k = c == 1 ? n - 1 : n / 2 + 3;   /* the last one: a vector kernel's scalar tail */
        if (c < 2) t->model->grads[k] = c ? -INFINITY : NAN;
        else if (c == 2) t->adam.v[k] = INFINITY;
        else t->adam.m[k] = NAN;
        p0 = (float *)malloc(sizeof(float) * n);
        memcpy(p0, t->model->params, sizeof(float) * n);
        step0 = t->step;
        adam0 = t->adam.step;
        st = ncsn_trainer_step(t);
        CHECK(st == NCSN_ERR_NONFINITE && strncmp(ncsn_last_error(), want[c], strlen(want[c])) == 0 && strchr(ncsn_last_error(), '['),
              "case %d: %d '%s', want '%s...'", c, (int)st, ncsn_last_error(), want[c]);
        CHECK(t->step == step0, "case %d: a failed step counted", c);
        for (k = 0; k < n; k++) nz += t->model->grads[k] != 0.0f;
        CHECK(nz == 0, "case %d: %lu gradients left nonzero after the error", c, (unsigned long)nz);
        if (c < 2) CHECK(same_bits(p0, t->model->params, n) && t->adam.step == adam0, "case %d: a refused gradient moved the weights", c);
        free(p0);
        ncsn_trainer_free(t);
    }
    free(data);
}

static void resume_bits(void)
{
    enum { N = 80, D = 2 };
    const char *path = "build/test_train_resume.safetensors";
    float *data = tr_data(N, D, 2), *other = tr_data(N, D, 3);
    ncsn_train_opts o = tr_opts(24);
    ncsn_trainer *a = NULL, *b = NULL;
    int ok;
    o.ema_rate = 0.99f;
    o.standardize = 1;
    o.sigma_max = 0.0f;   /* from the data */
    o.levels = 0;         /* from the dimension */
    o.lr_decay_steps = 10;   /* the schedule crosses the save and its end: the base rate must survive the file */
    CHECK(ncsn_trainer_create(&a, &o, data, N, D, NULL) == NCSN_OK, "create: %s", ncsn_last_error());
    if (!a) goto out;
    ncsn_trainer_run(a, 7, 0, NULL, NULL);
    CHECK(a->adam.lr == ncsn_lr_at(o.lr, 6, 10), "step 7 ran at %g, not the schedule's", (double)a->adam.lr);
    CHECK(ncsn_trainer_save(a, path, NULL) == NCSN_OK, "save: %s", ncsn_last_error());
    ncsn_trainer_run(a, 15, 0, NULL, NULL);
    CHECK(a->adam.lr == ncsn_lr_at(o.lr, 14, 10) && a->adam.lr < o.lr / 50, "step 15 ran at %g, not lr/100", (double)a->adam.lr);
    CHECK(ncsn_trainer_resume(&b, path, data, N, D, t_threads) == NCSN_OK, "resume: %s", ncsn_last_error());
    if (!b) goto out;
    CHECK(b->step == 7 && b->L == a->L && b->batch == a->batch && b->opts.ema_rate == a->opts.ema_rate &&
          b->opts.lr == o.lr && b->opts.lr_decay_steps == 10, "resumed settings (lr %g, decay over %ld)", (double)b->opts.lr, b->opts.lr_decay_steps);
    ncsn_trainer_run(b, 15, 0, NULL, NULL);
    ok = same_bits(a->model->params, b->model->params, a->model->n_params) && same_bits(a->ema, b->ema, a->model->n_params) &&
         same_bits(a->adam.m, b->adam.m, a->adam.n) && same_bits(a->adam.v, b->adam.v, a->adam.n) && a->adam.step == b->adam.step &&
         a->rng.state == b->rng.state && memcmp(a->perm, b->perm, sizeof(int) * N) == 0 && same_bits(a->sigmas, b->sigmas, (size_t)a->L);
    CHECK(ok, "a resumed run differs from the uninterrupted one");
    ncsn_trainer_free(b);
    b = NULL;
    CHECK(ncsn_trainer_resume(&b, path, other, N, D, 1) == NCSN_ERR_FORMAT && !b, "other data must be refused");
    CHECK(strstr(ncsn_last_error(), "not the data") != NULL, "message names the cause: %s", ncsn_last_error());
    CHECK(ncsn_trainer_resume(&b, path, data, N, 3, 1) == NCSN_ERR_FORMAT && !b, "another dimension must be refused");
out:
    ncsn_trainer_free(a);
    ncsn_trainer_free(b);
    remove(path);
    free(data);
    free(other);
}

static void standardisation(void)
{
    enum { N = 200, D = 3 };
    const char *path = "build/test_train_model.safetensors";
    float *data = tr_data(N, D, 4), x[D * 4], y[D * 4], s[D], z[D], sz[D];
    static const float mu[D] = { 1.0f, -20.0f, 300.0f }, sd[D] = { 0.5f, 4.0f, 30.0f };
    ncsn_stdz st, ld;
    ncsn_train_opts o = tr_opts(1000);
    ncsn_trainer *t = NULL;
    ncsn_model *m = NULL;
    double worst = 0.0, mean = 0.0;
    int i, d;
    CHECK(ncsn_stdz_fit(&st, data, N, D, 1) == NCSN_OK, "fit");
    for (i = 0; i < N; i++) mean += data[i * D + 2] / (double)N;
    CHECK_CLOSE(st.loc[2], mean, 1e-5, "loc = column mean");
    for (i = 0; i < D * 4; i++) x[i] = y[i] = data[i];
    ncsn_stdz_apply(&st, y, 4);
    ncsn_stdz_undo(&st, y, 4);
    for (i = 0; i < D * 4; i++) {   /* not fmax: aarch64-linux-gnu-gcc 12.2 -O2 crashes vectorising that reduction */
        double e = fabs((double)y[i] - x[i]) / (fabs(x[i]) + 1.0);
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-6, "apply then undo: relative error %g", worst);
    /* a Gaussian N(mu, diag sd^2): its score in user units is -(x - mu)/sd^2; in network units the
       Gaussian is N((mu - loc)/scale, (sd/scale)^2) and its score, mapped back, must agree */
    for (d = 0; d < D; d++) {
        x[d] = mu[d] + 0.7f * sd[d];
        s[d] = -(x[d] - mu[d]) / (sd[d] * sd[d]);
    }
    memcpy(z, x, sizeof z);
    ncsn_stdz_apply(&st, z, 1);
    for (d = 0; d < D; d++) {
        float m2 = (mu[d] - st.loc[d]) / st.scale[d], s2 = sd[d] / st.scale[d];
        sz[d] = -(z[d] - m2) / (s2 * s2);
    }
    ncsn_stdz_score(&st, sz, 1);
    for (d = 0, worst = 0.0; d < D; d++) worst = fmax(worst, fabs((double)sz[d] - s[d]) / fabs(s[d]));
    CHECK(worst < 1e-4, "score in network units, mapped back: relative error %g", worst);
    /* the model file carries it */
    o.standardize = 1;
    o.ema_rate = 0.5f;
    if (ncsn_trainer_create(&t, &o, data, N, D, NULL) == NCSN_OK && ncsn_trainer_run(t, 3, 0, NULL, NULL) == NCSN_OK) {
        CHECK(ncsn_trainer_save_model(t, path, NULL) == NCSN_OK, "save_model: %s", ncsn_last_error());
        CHECK(ncsn_model_load(&m, path) == NCSN_OK, "the model file loads as a model: %s", ncsn_last_error());
        CHECK(m && same_bits(m->params, t->ema, m->n_params), "the model file holds the EMA weights");
        CHECK(ncsn_stdz_load(&ld, path, D) == NCSN_OK, "stdz_load: %s", ncsn_last_error());
        CHECK(same_bits(ld.loc, t->stdz.loc, 3 * D) && ld.radius == t->stdz.radius, "standardisation saved and loaded");
        CHECK(same_bits(ld.loc, st.loc, 2 * D), "the trainer's standardisation is ncsn_stdz_fit's");
        ncsn_stdz_free(&ld);
        ncsn_model_free(m);
    } else CHECK(0, "trainer: %s", ncsn_last_error());
    ncsn_trainer_free(t);
    ncsn_stdz_free(&st);
    CHECK(ncsn_stdz_fit(&st, data, N, D, 0) == NCSN_OK && st.loc[1] == 0.0f && st.scale[2] == 1.0f, "standardize = 0: identity");
    ncsn_stdz_free(&st);
    remove(path);
    free(data);
}

static double tr_t2(double g, int D)   /* technique 2's criterion, with libm */
{
    double s = sqrt(2.0 * D);
    return 0.5 * erfc(-(s * (g - 1) + 3 * g) / sqrt(2.0)) - 0.5 * erfc(-(s * (g - 1) - 3 * g) / sqrt(2.0));
}

static double tr_t4(double eps, int T, double g, double sL)   /* technique 4's expression, with libm */
{
    double s2 = sL * sL, u = eps / s2, c = 2 * eps / (s2 - s2 * (1 - u) * (1 - u));
    return pow(1 - u, 2.0 * T) * (g * g - c) + c;
}

static void settings(void)
{
    static const int dims[4] = { 16, 64, 784, 3072 };
    float pts[200 * 3];
    double best = 0.0, worst = 0.0, x;
    ncsn_rng r;
    int i, j, d, ex = -1;
    /* technique 1: the largest pairwise distance, exactly; and the sweep bound on a circle */
    ncsn_rng_seed(&r, 9, 9);
    ncsn_rng_normals(&r, pts, 600);
    for (i = 0; i < 200; i++)
        for (j = 0; j < 200; j++) {
            double s = 0;
            for (d = 0; d < 3; d++) s += pow((double)pts[3 * i + d] - pts[3 * j + d], 2);
            best = fmax(best, sqrt(s));
        }
    CHECK_CLOSE(ncsn_sigma_max_from_data(pts, 200, 3, &ex), best, 1e-12, "sigma_max = largest pairwise distance");
    CHECK(ex == 1, "small data: exact");
    {
        int n = 40000;
        float *c = (float *)malloc(sizeof(float) * 2 * n);
        double est;
        for (i = 0; i < n; i++) { c[2 * i] = (float)(5 * ncsn_cospi(2.0 * i / n)); c[2 * i + 1] = (float)(5 * ncsn_sinpi(2.0 * i / n)); }
        est = ncsn_sigma_max_from_data(c, n, 2, &ex);
        CHECK(ex == 0 && est <= 10.0 + 1e-5 && est >= 9.999, "large data: the sweep bound %g of the diameter 10 (exact %d)", est, ex);
        free(c);
    }
    for (x = -9.5; x <= 9.5; x += 0.01) worst = fmax(worst, fabs(ncsn_normal_cdf(x) - 0.5 * erfc(-x / sqrt(2.0))));
    CHECK(worst < 1e-14, "normal cdf off libm's by %g", worst);
    /* technique 2: the criterion is 1/2 at the ratio; below D = 16, D = 16's ratio */
    for (i = 0; i < 4; i++) {
        double g = ncsn_level_ratio(dims[i]);
        CHECK(fabs(tr_t2(g, dims[i]) - 0.5) < 1e-9, "D = %d: criterion %.12f at gamma %g", dims[i], tr_t2(g, dims[i]), g);
    }
    CHECK(ncsn_level_ratio(2) == ncsn_level_ratio(16) && ncsn_level_ratio(4) == ncsn_level_ratio(16), "D < 16 uses D = 16");
    CHECK(ncsn_levels_for(10.0, 0.01, 2.0) == 1 + (int)ceil(log(1000.0) / log(2.0)), "levels_for");
    CHECK(ncsn_levels_for(10.0, 0.01, pow(1000.0, 1.0 / 9.0) * 1.0000001) == 10, "the seeds' ratio gives their 10 levels");
    /* technique 4: the library's objective is the paper's expression, and eps is its minimum */
    {
        double g = pow(5000.0, 1.0 / 231.0), e = ncsn_step_eps(5, g, 0.01), f = tr_t4(e, 5, g, 0.01);
        CHECK(fabs(e - 6.2e-6) < 0.05e-6, "CIFAR-10 (T = 5, 232 levels 50 -> 0.01): eps %g, the paper's 6.2e-6", e);
        CHECK(t_close(ncsn_step_eps_objective(e, 5, g, 0.01), f, 1e-10), "objective = the paper's expression");
        CHECK(f <= tr_t4(e * 0.99, 5, g, 0.01) && f <= tr_t4(e * 1.01, 5, g, 0.01) && f > 1.0, "eps minimises it (f = %g)", f);
        e = ncsn_step_eps(100, 2.13, 0.01);
        CHECK(tr_t4(e, 100, 2.13, 0.01) <= tr_t4(e * 0.99, 100, 2.13, 0.01) && tr_t4(e, 100, 2.13, 0.01) <= tr_t4(e * 1.01, 100, 2.13, 0.01),
              "T = 100: eps %g minimises", e);
    }
    {   /* the recipe: Song's form with Leimkuhler-Matthews noise, T = 200, eps = sigma_L^2 / 4, denoising, sigma_1 start */
        float sig[6];
        ncsn_sampler_opts o;
        ncsn_schedule(sig, 6, 8.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
        o = ncsn_sampler_recipe(sig, 6, 0);
        CHECK(o.form == NCSN_LANGEVIN_SONG_LM && o.steps_per_level == 200 && o.denoise_final && o.init == NCSN_INIT_NORMAL_SIGMA1, "recipe");
        CHECK(o.eps == 0.25f * sig[5] * sig[5], "recipe eps %g", (double)o.eps);
        CHECK(o.fine_factor == 1 && o.fine_sigma == 0.5f, "recipe: fine steps x%d at sigma >= %g (off, at 1/2)", o.fine_factor, (double)o.fine_sigma);
    }
}

/* the recipe's rules by dimension, and its learning-rate schedule */
/* ncsn_sampler_recipe_model: a preconditioned model above 16 columns takes the recipe's sampler
   (pre, from ncsn_sampler_recipe_for); one without (0.4.0's recipe, s = net/sigma, s = net) the
   sampler its form was tuned with, 0.4.0's: SONG, T = 5, eps = 0.35 sigma_L^2; up to 16 columns
   the recipe's, whatever the form */
static void recipe_model_sampler(const float *sig, ncsn_sampler_opts pre)
{
    static const struct { int dim, precond, T; } cases[] = { { 64, 1, 0 }, { 64, 0, 0 }, { 17, 0, 7 }, { 16, 0, 0 }, { 16, 1, 0 } };
    size_t k;
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ncsn_config cfg = ncsn_config_embed(cases[k].dim, 8, 8, 1);
        ncsn_model *m = NULL;
        ncsn_sampler_opts o, want = ncsn_sampler_recipe_for(sig, 6, cases[k].T, cases[k].dim);
        cfg.precond = cases[k].precond;
        cfg.scale_by_sigma = !cases[k].precond;
        cfg.sigma_data = cases[k].precond ? 0.5f : 0.0f;
        if (ncsn_model_create(&m, &cfg) != NCSN_OK) { CHECK(0, "recipe_model: %s", ncsn_last_error()); continue; }
        o = ncsn_sampler_recipe_model(m, sig, 6, cases[k].T);
        if (cases[k].dim > 16 && !cases[k].precond) {
            want.form = NCSN_LANGEVIN_SONG;
            want.steps_per_level = cases[k].T > 0 ? cases[k].T : 5;
            want.eps = 0.35f * sig[5] * sig[5];
        }
        if (cases[k].dim == 64 && cases[k].precond)
            CHECK(o.form == pre.form && o.steps_per_level == pre.steps_per_level && o.eps == pre.eps, "recipe_model D = 64 precond: the recipe's sampler");
        if (cases[k].dim > 16 && !cases[k].precond)   /* 0.4.0's sampler had none (these levels would give the recipe one) */
            CHECK(o.predictor == NCSN_PREDICT_NONE, "recipe_model D = %d without precond: predictor %d", cases[k].dim, o.predictor);
        CHECK(o.form == want.form && o.steps_per_level == want.steps_per_level && o.eps == want.eps && o.init == want.init &&
              o.denoise_final == want.denoise_final && o.fine_factor == want.fine_factor && o.fine_sigma == want.fine_sigma,
              "recipe_model D = %d precond %d T %d: form %d, T %d, eps %g", cases[k].dim, cases[k].precond, cases[k].T,
              (int)o.form, o.steps_per_level, (double)o.eps);
        ncsn_model_free(m);
    }
}

static void recipe_rules(void)
{
    /* the learning rate: linear from lr to lr/100 over the decay, then lr/100; constant without */
    CHECK(ncsn_lr_at(1e-3f, 0, 100) == 1e-3f && ncsn_lr_at(1e-3f, 50, 100) == (float)((double)1e-3f * (1.0 - 0.495)) &&
          ncsn_lr_at(1e-3f, 100, 100) == (float)((double)1e-3f * 0.01) && ncsn_lr_at(1e-3f, 5000, 100) == (float)((double)1e-3f * 0.01) &&
          ncsn_lr_at(1e-3f, 5000, 0) == 1e-3f, "ncsn_lr_at: %g %g %g", (double)ncsn_lr_at(1e-3f, 50, 100),
          (double)ncsn_lr_at(1e-3f, 100, 100), (double)ncsn_lr_at(1e-3f, 5000, 0));
    CHECK(ncsn_train_defaults().lr_decay_steps == ncsn_train_defaults().steps && ncsn_train_defaults_for(64).lr_decay_steps == ncsn_train_defaults_for(64).steps &&
          ncsn_train_preset_seed000().lr_decay_steps == 0 && ncsn_train_preset_seed001().lr_decay_steps == 0, "the recipe's rate decays over its run at every dimension; the presets' is constant");
    CHECK(ncsn_lr_at(1e-3f, -5, 100) == 1e-3f, "ncsn_lr_at before step 0: %g", (double)ncsn_lr_at(1e-3f, -5, 100));
    CHECK(ncsn_lr_at(2e-38f, 500, 100) == FLT_MIN, "a tiny rate decays to FLT_MIN, not below: %g", (double)ncsn_lr_at(2e-38f, 500, 100));
    {   /* the dimension rule: up to 16 columns the recipe itself; above, 3 x 256 with the
           preconditioned output and EDM's loss, 20 000 steps, sigma_L 0.1, and a sampler of 10
           steps per level at eps = 0.1 sigma_L^2, SONG_LM (0.5.0; docs/training.md) */
        ncsn_train_opts a = ncsn_train_defaults(), b = ncsn_train_defaults_for(16), c = ncsn_train_defaults_for(17);
        float sig[6];
        ncsn_sampler_opts p, q, r;
        CHECK(b.net.n_hidden == a.net.n_hidden && b.net.hidden[0] == a.net.hidden[0] && b.net.hidden[2] == a.net.hidden[2] && b.steps == a.steps &&
              b.sigma_min == a.sigma_min && b.net.cond == a.net.cond && b.net.embed_dim == a.net.embed_dim &&
              b.net.precond == 0 && b.net.scale_by_sigma == 1 && b.weighting == a.weighting, "D = 16: ncsn_train_defaults_for is ncsn_train_defaults");
        CHECK(c.net.n_hidden == 3 && c.net.hidden[0] == 256 && c.net.hidden[2] == 256 && c.steps == 20000 && c.lr_decay_steps == 20000 && c.sigma_min == 0.1f,
              "D = 17: %d x %d, %ld steps, sigma_L %g", c.net.hidden[0], c.net.n_hidden, c.steps, (double)c.sigma_min);
        CHECK(c.net.precond == 1 && c.net.scale_by_sigma == 0 && c.net.sigma_data == 0.0f && c.weighting == NCSN_WEIGHT_ONE,
              "D = 17: the preconditioned output (precond %d, scale_by_sigma %d, sigma_data %g, weighting %d)",
              c.net.precond, c.net.scale_by_sigma, (double)c.net.sigma_data, (int)c.weighting);
        CHECK(c.net.cond == a.net.cond && c.batch == a.batch && c.ema_rate == a.ema_rate,
              "D = 17: the rest is the recipe's");
        ncsn_schedule(sig, 6, 8.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC);
        p = ncsn_sampler_recipe(sig, 6, 0); q = ncsn_sampler_recipe_for(sig, 6, 0, 16); r = ncsn_sampler_recipe_for(sig, 6, 0, 64);
        CHECK(q.steps_per_level == p.steps_per_level && q.eps == p.eps && q.form == p.form && q.init == p.init && q.denoise_final == p.denoise_final &&
              q.fine_factor == p.fine_factor && q.fine_sigma == p.fine_sigma,
              "D = 16: the recipe's sampler (its predictor: stable_target_auto)");
        CHECK(r.steps_per_level == 10 && r.eps == 0.1f * sig[5] * sig[5] && r.form == NCSN_LANGEVIN_SONG_LM && r.init == p.init && r.denoise_final &&
              r.fine_factor == 0,
              "D = 64: T %d, eps %g", r.steps_per_level, (double)r.eps);
        CHECK(ncsn_sampler_recipe_for(sig, 6, 40, 64).steps_per_level == 40, "D = 64: T given");
        recipe_model_sampler(sig, r);
    }
}

static void divergence(void)
{
    enum { N = 64 };
    ncsn_stdz s;
    float x[5 * 2] = { 0, 2.9f, 3.1f, 0, 0, 0, NAN, 0, -2.0f, -2.0f };
    unsigned char f[5];
    ncsn_stdz_identity(&s, 2);
    CHECK(ncsn_diverged(&s, 2.0f, x, 5, f) == 1 && f[3] == 1, "radius 0: only the non-finite chain");
    s.radius = 1.0f;   /* bound radius + sigma_1 = 3 */
    CHECK(ncsn_diverged(&s, 2.0f, x, 5, f) == 2 && !f[0] && f[1] && !f[2] && f[3] && !f[4], "bound 3: %d %d %d %d %d", f[0], f[1], f[2], f[3], f[4]);
    ncsn_stdz_free(&s);
    {   /* ncsn_sample_data = annealed Langevin, the rule, then undo */
        float *data = tr_data(N, 2, 7), a[N * 2], b[N * 2];
        ncsn_trainer *t = NULL;
        ncsn_train_opts o = tr_opts(1000);
        ncsn_sampler_opts so;
        ncsn_rng r1, r2;
        int bad = -1, i, ok = 1;
        unsigned char fl[N];
        o.standardize = 1;
        o.sigma_max = 0.0f;
        if (ncsn_trainer_create(&t, &o, data, N, 2, NULL) == NCSN_OK) {
            so = ncsn_sampler_recipe(t->sigmas, t->L, 5);
            ncsn_rng_seed(&r1, 3, 3);
            r2 = r1;
            CHECK(ncsn_sample_data(t->model, &t->stdz, t->sigmas, t->L, &so, &r1, a, N, fl, &bad) == NCSN_OK, "sample_data: %s", ncsn_last_error());
            ncsn_sample_annealed(ncsn_model_score, t->model, 2, t->sigmas, t->L, &so, &r2, b, N);
            CHECK(bad == ncsn_diverged(&t->stdz, t->sigmas[0], b, N, NULL), "the rule's count");
            ncsn_stdz_undo(&t->stdz, b, N);
            for (i = 0; i < 2 * N; i++) ok &= a[i] == b[i] || (a[i] != a[i] && b[i] != b[i]);
            CHECK(ok, "sample_data = sample_annealed then undo");
        } else CHECK(0, "trainer: %s", ncsn_last_error());
        ncsn_trainer_free(t);
        free(data);
    }
}

/* a copy of the file buf[len] with the header text `from` replaced by `to` (once; the header
   length prefix adjusted), or NULL if `from` is not in the header */
static unsigned char *tr_edit(const unsigned char *buf, size_t len, const char *from, const char *to, size_t *out_len)
{
    uint64_t h = 0, h2;
    size_t i, kf = strlen(from), kt = strlen(to);
    unsigned char *o;
    for (i = 8; i-- > 0;) h = (h << 8) | buf[i];
    for (i = 8; i + kf <= 8 + h && memcmp(buf + i, from, kf) != 0; i++) {}
    if (i + kf > 8 + h || !(o = (unsigned char *)malloc(len - kf + kt))) return NULL;
    memcpy(o, buf, i);
    memcpy(o + i, to, kt);
    memcpy(o + i + kt, buf + i + kf, len - i - kf);
    for (h2 = h - kf + kt, i = 0; i < 8; i++, h2 >>= 8) o[i] = (unsigned char)(h2 & 255);
    *out_len = len - kf + kt;
    return o;
}

/* what a trainer's files hold is checked as they are read: a standardisation without its radius
   (the divergence rule would be off), edited counters and seeds are refused with the field named
   (a missing data.* tensor takes the same path); a huge scale never yields an infinite sample
   counted as valid */
static void hostile_files(void)
{
    enum { N = 60, D = 2 };
    const char *path = "build/test_train_hostile.safetensors";
    static const char *const cases[][3] = {   /* header text, its replacement, what the message names */
        { "\"ncsn.data.radius\"", "\"ncsn.data.radiux\"", "ncsn.data.radius is missing" },
        { "\"ncsn.adam.step\":\"4\"", "\"ncsn.adam.step\":\"4611686018427387904\"", "ncsn.adam.step" },
        { "\"ncsn.train.seed\":\"42\"", "\"ncsn.train.seed\":\"-1\"", "ncsn.train.seed = '-1'" },
        { "\"ncsn.train.stream\":\"54\"", "\"ncsn.train.stream\":\"99999999999999999999\"", "ncsn.train.stream" },
    };
    float *data = tr_data(N, D, 11);
    ncsn_train_opts o = tr_opts(1000);
    ncsn_trainer *t = NULL, *r = NULL;
    unsigned char *buf = NULL, *ed;
    size_t len = 0, elen;
    ncsn_stdz s;
    int i;
    o.standardize = 1;
    o.ema_rate = 0.9f;
    o.seed = 42;
    o.stream = 54;
    if (ncsn_trainer_create(&t, &o, data, N, D, NULL) != NCSN_OK || ncsn_trainer_run(t, 4, 0, NULL, NULL) != NCSN_OK) {
        CHECK(0, "hostile files: trainer: %s", ncsn_last_error());
        goto out;
    }
    CHECK(ncsn_trainer_save(t, path, NULL) == NCSN_OK && (buf = t_read_file(path, &len)) != NULL, "save: %s", ncsn_last_error());
    if (!buf) goto out;
    o.batch = INT_MAX;   /* all points: the loader took at most 10^9 */
    if (ncsn_trainer_create(&r, &o, data, N, D, NULL) == NCSN_OK && ncsn_trainer_save(r, path, NULL) == NCSN_OK) {
        ncsn_trainer_free(r);
        r = NULL;
        CHECK(ncsn_trainer_resume(&r, path, data, N, D, 1) == NCSN_OK, "batch = INT_MAX saved, then refused: %s", ncsn_last_error());
    } else CHECK(0, "batch = INT_MAX: %s", ncsn_last_error());
    ncsn_trainer_free(r);
    r = NULL;
    CHECK(ncsn_stdz_load_mem(&s, buf, len, 3) == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), "must have shape [3]"),
          "a standardisation of 2 columns for 3: %s", ncsn_last_error());
    for (i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        ncsn_status st;
        if (!(ed = tr_edit(buf, len, cases[i][0], cases[i][1], &elen))) { CHECK(0, "hostile files: no %s in the header", cases[i][0]); continue; }
        st = ncsn_trainer_resume_mem(&r, ed, elen, data, N, D, 1);
        CHECK(st == NCSN_ERR_FORMAT && !r && strstr(ncsn_last_error(), cases[i][2]), "resume with %s: status %d, '%s' (want '%s')", cases[i][1],
              (int)st, ncsn_last_error(), cases[i][2]);
        ncsn_trainer_free(r);
        r = NULL;
        if (i < 1) {   /* the sampling side reads the same standardisation */
            st = ncsn_stdz_load_mem(&s, ed, elen, D);
            CHECK(st == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), cases[i][2]), "stdz_load with %s: status %d, '%s'", cases[i][1], (int)st,
                  ncsn_last_error());
            if (st == NCSN_OK) ncsn_stdz_free(&s);
        }
        free(ed);
    }
    {   /* scale 3e38 (finite, > 0: the file may say so): the rows it sends to infinity are diverged */
        enum { C = 64 };
        float x[C * D];
        unsigned char fl[C];
        ncsn_sampler_opts so = ncsn_sampler_recipe(t->sigmas, t->L, 2);
        ncsn_rng g;
        int bad = -1, inf_rows = 0, ok = 1, d;
        ncsn_stdz_identity(&s, D);
        s.scale[0] = 3e38f;
        ncsn_rng_seed(&g, 1, 2);
        CHECK(ncsn_sample_data(t->model, &s, t->sigmas, t->L, &so, &g, x, C, fl, &bad) == NCSN_OK, "sample_data: %s", ncsn_last_error());
        for (i = 0; i < C; i++) {
            int fin = 1;
            for (d = 0; d < D; d++) fin &= isfinite(x[i * D + d]) != 0;
            inf_rows += !fin;
            ok &= fl[i] || fin;
        }
        CHECK(inf_rows > 0 && ok && bad == inf_rows, "scale 3e38: %d infinite rows, %d flagged diverged (all %s)", inf_rows, bad, ok ? "flagged" : "NOT flagged");
        ncsn_stdz_free(&s);
    }
out:
    ncsn_trainer_free(t);
    free(buf);
    remove(path);
    free(data);
}

/* A known radius is never 0, which means unknown and turns the divergence rule off: data at one
   point are fitted with radius FLT_MIN (the rule flags a chain beyond sigma_1), a trainer's file
   of them loads back with it, and a file with the data's statistics and radius 0 is refused (it
   loaded, and sampling then flagged no chain however far it went). */
static void radius_known(void)
{
    enum { N = 8, D = 2 };
    const char *path = "build/test_train_radius.safetensors";
    float data[N * D], far[D] = { 100.0f, 0.0f };
    ncsn_train_opts o = tr_opts(4);
    ncsn_trainer *t = NULL;
    ncsn_stdz s, l;
    unsigned char *buf = NULL, *ed = NULL;
    size_t len = 0, elen = 0;
    char v[64], from[96];
    int i;
    for (i = 0; i < N * D; i++) data[i] = i % D ? -2.0f : 3.0f;   /* every point at (3, -2) */
    CHECK(ncsn_stdz_fit(&s, data, N, D, 1) == NCSN_OK && s.radius > 0.0f, "data at one point: radius %g (want > 0)", (double)s.radius);
    CHECK(ncsn_diverged(&s, 2.0f, far, 1, NULL) == 1, "data at one point: a chain 100 from them is not flagged");
    ncsn_stdz_free(&s);
    o.sigma_max = 1.0f;   /* the data's diameter is 0: the levels are given */
    o.sigma_min = 0.01f;
    CHECK(ncsn_trainer_create(&t, &o, data, N, D, NULL) == NCSN_OK && ncsn_trainer_save(t, path, NULL) == NCSN_OK,
          "a trainer on data at one point: %s", ncsn_last_error());
    CHECK(ncsn_stdz_load(&l, path, D) == NCSN_OK && l.radius > 0.0f, "its file loads with radius %g (want > 0): %s", (double)l.radius,
          ncsn_last_error());
    ncsn_stdz_free(&l);
    buf = t_read_file(path, &len);
    CHECK(buf && ncsn_file_meta_mem(buf, len, "ncsn.data.radius", v, sizeof v) == NCSN_OK, "radius: %s", ncsn_last_error());
    snprintf(from, sizeof from, "\"ncsn.data.radius\":\"%s\"", v);
    if (buf && (ed = tr_edit(buf, len, from, "\"ncsn.data.radius\":\"0\"", &elen)) != NULL) {
        ncsn_status st = ncsn_stdz_load_mem(&l, ed, elen, D);
        CHECK(st == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), "ncsn.data.radius = '0' must be a finite number > 0"),
              "a file with radius 0: status %d, '%s'", (int)st, ncsn_last_error());
        if (st == NCSN_OK) ncsn_stdz_free(&l);
    } else CHECK(0, "radius: no %s in the header", from);
    free(ed);
    free(buf);
    ncsn_trainer_free(t);
    remove(path);
}

/* The scale floor: a nearly constant column with a rare outlier (an 8x8 digit's corner pixel: 0
   in all but one image) standardised by its sd alone lies at |z| ~ 42 and sets sigma_1; the
   floor range / NCSN_STDZ_MAX_Z keeps every column within +-NCSN_STDZ_MAX_Z, leaves ordinary
   columns at their sd, and gives a per-column rescaled copy of the data the same units. */
static void scale_floor(void)
{
    enum { N = 1797, D = 2 };
    float *x = (float *)calloc((size_t)N * D, sizeof(float)), *y = (float *)malloc(sizeof(float) * N * D);
    float *zx = (float *)malloc(sizeof(float) * N * D);
    ncsn_stdz a, b;
    ncsn_rng r;
    double m = 0.0, v = 0.0, worst = 0.0, zmax = 0.0;
    int i;
    CHECK(ncsn_column_scale(2.0, 10.0) == 2.0, "sd above the floor: the sd");
    CHECK(ncsn_column_scale(16.0 / 42.0, 16.0) == 16.0 / NCSN_STDZ_MAX_Z, "sd below range/%g: the floor", NCSN_STDZ_MAX_Z);
    CHECK(ncsn_column_scale(0.0, 0.0) == 1.0 && ncsn_column_scale(1e-300, 1e-300) == 1.0, "a constant column: 1");
    ncsn_rng_seed(&r, 12, 1);
    for (i = 0; i < N; i++) {
        ncsn_rng_normals(&r, &x[i * D + 1], 1);
        m += x[i * D + 1] / (double)N;
    }
    x[500 * D] = 16.0f;   /* column 0: the outlier pixel */
    for (i = 0; i < N; i++) v += (x[i * D + 1] - m) * (x[i * D + 1] - m) / (double)N;
    if (ncsn_stdz_fit(&a, x, N, D, 1) != NCSN_OK) { CHECK(0, "fit: %s", ncsn_last_error()); goto out; }
    CHECK_CLOSE(a.scale[1], sqrt(v), 1e-6, "a normal column keeps its sd");
    CHECK_CLOSE(a.scale[0], 16.0 / NCSN_STDZ_MAX_Z, 1e-7, "the outlier column's scale: range / NCSN_STDZ_MAX_Z, not its sd 0.38");
    memcpy(zx, x, sizeof(float) * N * D);
    ncsn_stdz_apply(&a, zx, N);
    for (i = 0; i < N * D; i++) zmax = fmax(zmax, fabs(zx[i]));
    CHECK(zmax <= NCSN_STDZ_MAX_Z, "every standardised value within +-%g: %g", NCSN_STDZ_MAX_Z, zmax);
    for (i = 0; i < N; i++) {   /* a rescaled copy (as R's scale() writes it) standardises to the same points */
        y[i * D] = (x[i * D] - 0.25f) * 4.0f;
        y[i * D + 1] = x[i * D + 1] * 0.5f + 3.0f;
    }
    if (ncsn_stdz_fit(&b, y, N, D, 1) == NCSN_OK) {
        ncsn_stdz_apply(&b, y, N);
        for (i = 0; i < N * D; i++) worst = fmax(worst, fabs((double)y[i] - zx[i]));
        CHECK(worst < 1e-5, "a rescaled copy: the same standardised data (worst difference %g)", worst);
        CHECK_CLOSE(b.radius, a.radius, 1e-5, "and the same radius");
        ncsn_stdz_free(&b);
    } else CHECK(0, "fit: %s", ncsn_last_error());
    ncsn_stdz_free(&a);
out:
    free(x); free(y); free(zx);
}


/* ---- the preconditioned output (ncsn_config.precond) ---- */
static ncsn_config pc_config(void)
{
    ncsn_config c = ncsn_config_concat(3, 16, 2);
    c.sigma_input = NCSN_SIGMA_LOG;
    c.precond = 1;
    c.sigma_data = 0.6f;
    return c;
}

/* sum_k w_k out_k in double for the model's forward at (x, sig) */
static double pc_dot(ncsn_model *m, const float *x, const float *sig, const float *w, int B, float *out)
{
    double acc = 0.0;
    int k;
    ncsn_model_forward(m, out, x, sig, B);
    for (k = 0; k < B * 3; k++) acc += (double)w[k] * out[k];
    return acc;
}

/* |num - ana| small against both and against the largest analytic value */
static int pc_agree(double num, double ana, double scale)
{
    return fabs(num - ana) <= 0.02 * (fabs(num) + fabs(ana)) + 2e-3 * scale;
}

/* backward (parameters and dx) against central differences of <w, s(x, sigma)>, and the DSM
   gradient (taken on F) against differences of the DSM loss */
static void precond_gradients(void)
{
    enum { B = 4, D = 3 };
    ncsn_config c = pc_config();
    ncsn_model *m = NULL;
    ncsn_dsm_batch bt;
    ncsn_dsm_opts dop;
    ncsn_rng r;
    float x[B * D], w[B * D], out[B * D], dx[B * D], sig[B] = { 0.1f, 0.5f, 2.0f, 9.0f }, eps[B * D], *g, loss, lp, lm;
    int lev[B] = { 0, 1, 2, 3 }, k, bad_x = 0, bad_p = 0, bad_d = 0;
    double scale = 0.0;
    size_t i;
    ncsn_rng_seed(&r, 15, 1);
    CHECK(ncsn_model_create(&m, &c) == NCSN_OK && ncsn_model_init(m, &r) == NCSN_OK, "precond model: %s", ncsn_last_error());
    if (!m) return;
    for (i = 0; i < m->n_params; i++) m->params[i] *= 3.0f;   /* F far from 0, so both paths of the score matter */
    ncsn_rng_normals(&r, x, B * D);
    ncsn_rng_normals(&r, w, B * D);
    ncsn_rng_normals(&r, eps, B * D);
    g = (float *)malloc(sizeof(float) * m->n_params);
    ncsn_model_zero_grad(m);
    pc_dot(m, x, sig, w, B, out);
    ncsn_model_backward(m, dx, w);
    memcpy(g, m->grads, sizeof(float) * m->n_params);
    for (k = 0; k < B * D; k++) scale = fabs(dx[k]) > scale ? fabs(dx[k]) : scale;
    for (k = 0; k < B * D; k++) {
        float x0 = x[k], h = 1e-3f * (fabsf(x0) > 1.0f ? fabsf(x0) : 1.0f), xp = x0 + h, xm = x0 - h;
        double vp, vm;
        x[k] = xp; vp = pc_dot(m, x, sig, w, B, out);
        x[k] = xm; vm = pc_dot(m, x, sig, w, B, out);
        x[k] = x0;
        bad_x += !pc_agree((vp - vm) / ((double)xp - xm), dx[k], scale);
    }
    CHECK(bad_x == 0, "precond: %d of %d dx entries disagree with central differences", bad_x, B * D);
    for (scale = 0.0, i = 0; i < m->n_params; i++) scale = fabs(g[i]) > scale ? fabs(g[i]) : scale;
    for (i = 0; i < m->n_params; i += 7) {
        float p0 = m->params[i], h = 1e-3f * (fabsf(p0) > 1.0f ? fabsf(p0) : 1.0f), pp = p0 + h, pm = p0 - h;
        double vp, vm;
        m->params[i] = pp; vp = pc_dot(m, x, sig, w, B, out);
        m->params[i] = pm; vm = pc_dot(m, x, sig, w, B, out);
        m->params[i] = p0;
        bad_p += !pc_agree((vp - vm) / ((double)pp - pm), g[i], scale);
    }
    CHECK(bad_p == 0, "precond: %d parameter gradients disagree with central differences", bad_p);
    /* DSM: the loss on F, its gradient through backward from F */
    memset(&dop, 0, sizeof dop);
    dop.levels = lev;
    dop.eps = eps;
    ncsn_dsm_batch_alloc(&bt, B, D);
    ncsn_model_zero_grad(m);
    CHECK(ncsn_dsm_loss_ex(m, &bt, x, B, sig, B, NCSN_WEIGHT_ONE, NULL, &dop, &loss) == NCSN_OK, "precond DSM: %s", ncsn_last_error());
    memcpy(g, m->grads, sizeof(float) * m->n_params);
    dop.loss_only = 1;
    for (scale = 0.0, i = 0; i < m->n_params; i++) scale = fabs(g[i]) > scale ? fabs(g[i]) : scale;
    for (i = 0; i < m->n_params; i += 7) {
        float p0 = m->params[i], h = 1e-3f * (fabsf(p0) > 1.0f ? fabsf(p0) : 1.0f), pp = p0 + h, pm = p0 - h;
        m->params[i] = pp; ncsn_dsm_loss_ex(m, &bt, x, B, sig, B, NCSN_WEIGHT_ONE, NULL, &dop, &lp);
        m->params[i] = pm; ncsn_dsm_loss_ex(m, &bt, x, B, sig, B, NCSN_WEIGHT_ONE, NULL, &dop, &lm);
        m->params[i] = p0;
        bad_d += !pc_agree(((double)lp - lm) / ((double)pp - pm), g[i], scale);
    }
    CHECK(bad_d == 0, "precond DSM: %d parameter gradients disagree with differences of the loss", bad_d);
    ncsn_dsm_batch_free(&bt);
    free(g);
    ncsn_model_free(m);
}

/* the DSM step's bits equal the hand-written arithmetic (the program that first trained this form):
   a plain network fed c_in x~, F's target (x - c_skip x~)/c_out, gradient 2 (F - target)/N */
static void precond_reference_bits(void)
{
    enum { B = 4, D = 3 };
    ncsn_config c = pc_config(), cp = pc_config();
    ncsn_model *m = NULL, *p = NULL;
    ncsn_dsm_batch bt;
    ncsn_dsm_opts dop;
    ncsn_rng r;
    float x[B * D], eps[B * D], xin[B * D], tgt[B * D], F[B * D], sig[B] = { 0.1f, 0.5f, 2.0f, 9.0f }, loss;
    int lev[B] = { 3, 0, 2, 1 }, b, d;
    cp.precond = 0;
    ncsn_rng_seed(&r, 15, 2);
    ncsn_model_create(&m, &c);
    ncsn_model_create(&p, &cp);
    if (!m || !p) { CHECK(0, "precond models: %s", ncsn_last_error()); ncsn_model_free(m); ncsn_model_free(p); return; }
    ncsn_model_init(m, &r);
    memcpy(p->params, m->params, sizeof(float) * m->n_params);
    ncsn_rng_normals(&r, x, B * D);
    ncsn_rng_normals(&r, eps, B * D);
    memset(&dop, 0, sizeof dop);
    dop.levels = lev;
    dop.eps = eps;
    ncsn_dsm_batch_alloc(&bt, B, D);
    ncsn_model_zero_grad(m);
    ncsn_dsm_loss_ex(m, &bt, x, B, sig, B, NCSN_WEIGHT_ONE, NULL, &dop, &loss);
    for (b = 0; b < B; b++) {
        float sd = c.sigma_data, s = sig[lev[b]], v = fmaf(s, s, sd * sd), rt = sqrtf(v), cin = 1.0f / rt, cskip = sd * sd / v, cout = s * sd / rt;
        for (d = 0; d < D; d++) {
            float xt = fmaf(s, eps[b * D + d], x[b * D + d]);
            xin[b * D + d] = cin * xt;
            tgt[b * D + d] = fmaf(-cskip, xt, x[b * D + d]) / cout;
        }
        bt.sigma[b] = s;
    }
    ncsn_model_forward(p, F, xin, bt.sigma, B);
    for (b = 0; b < B * D; b++) tgt[b] = 2.0f * (F[b] - tgt[b]) / (float)(B * D);
    ncsn_model_zero_grad(p);
    ncsn_model_backward(p, NULL, tgt);
    CHECK(same_bits(m->grads, p->grads, m->n_params), "precond DSM gradients are the bits of the hand-written arithmetic");
    ncsn_dsm_batch_free(&bt);
    ncsn_model_free(m);
    ncsn_model_free(p);
}

/* the skip path at small sigma: with F = 0 (zeroed output layer) the score is -x/(sigma^2 + sd^2)
   and backward's dx is -dout/(sigma^2 + sd^2); both within a few float roundings of that in double
   at every sigma (c_skip - 1 from a rounded c_skip was off by 2^-24 (1 + sd^2/sigma^2): 2e-4 here) */
static void precond_skip_accuracy(void)
{
    enum { B = 5, D = 3 };
    ncsn_config c = pc_config();
    ncsn_model *m = NULL;
    ncsn_rng r;
    float x[B * D], g[B * D], out[B * D], dx[B * D], sig[B] = { 0.001f, 0.01f, 0.03f, 0.3f, 5.0f };
    double worst_s = 0.0, worst_dx = 0.0;
    int b, d;
    c.zero_init_output = 1;
    ncsn_rng_seed(&r, 15, 4);
    CHECK(ncsn_model_create(&m, &c) == NCSN_OK && ncsn_model_init(m, &r) == NCSN_OK, "precond model: %s", ncsn_last_error());
    if (!m) return;
    ncsn_rng_normals(&r, x, B * D);
    ncsn_rng_normals(&r, g, B * D);
    ncsn_model_forward(m, out, x, sig, B);
    ncsn_model_zero_grad(m);
    ncsn_model_backward(m, dx, g);
    for (b = 0; b < B; b++)
        for (d = 0; d < D; d++) {
            int k = b * D + d;
            double v = (double)sig[b] * sig[b] + (double)c.sigma_data * c.sigma_data;
            double es = fabs(out[k] + x[k] / v) * v / fabs(x[k]), ed = fabs(dx[k] + g[k] / v) * v / fabs(g[k]);
            worst_s = es > worst_s ? es : worst_s;
            worst_dx = ed > worst_dx ? ed : worst_dx;
        }
    CHECK(worst_s <= 4.0 * 0x1p-24 && worst_dx <= 4.0 * 0x1p-24,
          "precond at sigma down to 0.001: the skip path's relative error %.3g (score), %.3g (dx) <= 4 * 2^-24", worst_s, worst_dx);
    ncsn_model_free(m);
}

/* the form and sigma_data survive a file bit for bit; a file's precond_sigma_data is checked */
static void precond_files(void)
{
    enum { B = 4, D = 3 };
    static const char *const bad[] = { "-1", "0", "1e99", "nan", "abc", "", "2e20", "1e-30" };
    const char *path = "build/test_train_precond.safetensors";
    ncsn_config c = pc_config();
    ncsn_model *m = NULL, *l = NULL;
    ncsn_rng r;
    float x[B * D], a[B * D], b2[B * D], sig[B] = { 0.1f, 0.5f, 2.0f, 9.0f };
    unsigned char *buf, *ed;
    size_t len = 0, elen = 0, k;
    char from[64], to[64], val[32];
    c.sigma_data = 0.353501856f;
    ncsn_rng_seed(&r, 15, 3);
    ncsn_model_create(&m, &c);
    if (!m) { CHECK(0, "precond model: %s", ncsn_last_error()); return; }
    ncsn_model_init(m, &r);
    ncsn_rng_normals(&r, x, B * D);
    CHECK(ncsn_model_save(m, path) == NCSN_OK, "precond save: %s", ncsn_last_error());
    CHECK(ncsn_model_load(&l, path) == NCSN_OK, "precond load: %s", ncsn_last_error());
    if (l) {
        CHECK(l->cfg.precond == 1 && t_f2u(l->cfg.sigma_data) == t_f2u(c.sigma_data) && l->cfg.scale_by_sigma == 0,
              "precond round trip: precond %d, sigma_data %.9g", l->cfg.precond, (double)l->cfg.sigma_data);
        ncsn_model_forward(m, a, x, sig, B);
        ncsn_model_forward(l, b2, x, sig, B);
        CHECK(same_bits(a, b2, B * D), "precond round trip: the loaded model's scores are the same bits");
        ncsn_model_free(l);
        l = NULL;
    }
    buf = t_read_file(path, &len);
    ncsn_format_f32(val, sizeof val, c.sigma_data, 9);
    snprintf(from, sizeof from, "\"precond_sigma_data\":\"%s\"", val);
    for (k = 0; buf && k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(to, sizeof to, "\"precond_sigma_data\":\"%s\"", bad[k]);
        ed = tr_edit(buf, len, from, to, &elen);
        CHECK(ed && ncsn_model_load_mem(&l, ed, elen) == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), "precond_sigma_data"),
              "precond_sigma_data = '%s' refused: %s", bad[k], ncsn_last_error());
        ncsn_model_free(l);
        l = NULL;
        free(ed);
    }
    {   /* sd^2 must be a normal float: 1e20^2 overflows (NaN scores), 1e-30^2 underflows to 0 */
        static const float far[] = { 1e20f, 1e-30f };
        ncsn_config f = c;
        for (k = 0; k < 2; k++) {
            f.sigma_data = far[k];
            CHECK(ncsn_config_check(&f) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "sigma_data"),
                  "ncsn_config_check refuses sigma_data = %g: %s", (double)far[k], ncsn_last_error());
        }
    }
    ed = buf ? tr_edit(buf, len, "\"scale_by_sigma\":\"0\"", "\"scale_by_sigma\":\"1\"", &elen) : NULL;
    CHECK(ed && ncsn_model_load_mem(&l, ed, elen) == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), "scale_by_sigma"),
          "precond with scale_by_sigma = 1 refused: %s", ncsn_last_error());
    ncsn_model_free(l);
    free(ed);
    free(buf);
    ncsn_model_free(m);
    remove(path);
}

static uint32_t pc_hash(const float *v, size_t n)
{
    uint32_t h = 2166136261u;
    size_t k;
    for (k = 0; k < n; k++) { h ^= t_f2u(v[k]); h *= 16777619u; }
    return h;
}

/* a precond trainer: one fixed run's bits (any build, any thread count) */
static void precond_determinism(void)
{
    enum { N = 64, D = 3, STEPS = 25 };
    float *data = tr_data(N, D, 21);
    ncsn_train_opts o = ncsn_train_defaults();
    ncsn_trainer *t1 = NULL, *t2 = NULL;
    o.net = pc_config();
    o.net.sigma_data = 0.0f;   /* from the data */
    o.weighting = NCSN_WEIGHT_ONE;
    o.lr_decay_steps = 0;   /* the pinned bits are a constant rate's */
    o.stable_target = 0;    /* and plain DSM's */
    o.batch = 16;
    o.threads = 1;
    ncsn_trainer_create(&t1, &o, data, N, D, NULL);
    o.threads = 2;
    ncsn_trainer_create(&t2, &o, data, N, D, NULL);
    if (!t1 || !t2) { CHECK(0, "precond trainers: %s", ncsn_last_error()); ncsn_trainer_free(t1); ncsn_trainer_free(t2); free(data); return; }
    CHECK(t1->model->cfg.precond && t1->model->cfg.sigma_data > 0.9f && t1->model->cfg.sigma_data < 1.1f,
          "precond trainer: sigma_data %.9g from the standardised data (about 1)", (double)t1->model->cfg.sigma_data);
    ncsn_trainer_run(t1, STEPS, 0, NULL, NULL);
    ncsn_trainer_run(t2, STEPS, 0, NULL, NULL);
    CHECK(same_bits(ncsn_trainer_weights(t1), ncsn_trainer_weights(t2), t1->model->n_params), "precond trainer: 1 and 2 threads give the same bits");
    CHECK(pc_hash(ncsn_trainer_weights(t1), t1->model->n_params) == 0xce7f82a1u && t_f2u(t1->loss) == 0x3f195abfu,
          "precond trainer: %d steps give the pinned bits (EMA hash 0x%08x, loss 0x%08x)", STEPS,
          pc_hash(ncsn_trainer_weights(t1), t1->model->n_params), t_f2u(t1->loss));
    ncsn_trainer_free(t1);
    ncsn_trainer_free(t2);
    free(data);
}

/* it learns: on a two-component mixture the trained score's error against the exact one is far
   below the untrained network's (whose precond score is already -(x - 0)/(sigma^2 + sd^2)) */
static double pc_score_err(ncsn_model *m, const ncsn_gmm *g, const float *x, int n, float sigma)
{
    float *s = (float *)malloc(sizeof(float) * (size_t)n * 2), *e = (float *)malloc(sizeof(float) * (size_t)n * 2);
    double num = 0.0, den = 0.0;
    int k;
    ncsn_model_score(m, s, x, sigma, n);
    ncsn_gmm_score(g, e, x, sigma, n);
    for (k = 0; k < 2 * n; k++) { num += ((double)s[k] - e[k]) * ((double)s[k] - e[k]); den += (double)e[k] * e[k]; }
    free(s); free(e);
    return num / den;
}

static void precond_learns(void)
{
    enum { N = 2000, M = 500 };
    static const float w[2] = { 0.5f, 0.5f }, mu[4] = { -2.0f, 0.0f, 2.0f, 1.0f }, var[4] = { 0.1f, 0.1f, 0.1f, 0.1f };
    ncsn_gmm g = { 2, 2, w, mu, var };
    float *x, *q, *z, sg[3];
    ncsn_train_opts o = ncsn_train_defaults();
    ncsn_trainer *t = NULL;
    ncsn_rng r;
    double before[3], after[3];
    int k, i;
    /* a learning check (about 20 GFLOP: 1500 steps), not a bit check: quick mode (the matrix cells,
       the sanitizers) leaves it out. Under qemu's software floating point it took 2 of the aarch64
       cell's 3 minutes, and valgrind could not run the train group at all. */
    if (t_quick) return;
    x = (float *)malloc(sizeof(float) * N * 2);
    q = (float *)malloc(sizeof(float) * M * 2);
    z = (float *)malloc(sizeof(float) * M * 2);
    ncsn_rng_seed(&r, 15, 4);
    ncsn_gmm_sample(&g, &r, x, NULL, N);
    ncsn_gmm_sample(&g, &r, q, NULL, M);
    ncsn_rng_normals(&r, z, M * 2);
    o.net = ncsn_config_default(2);
    o.net.scale_by_sigma = 0;
    o.net.precond = 1;
    o.net.hidden[0] = o.net.hidden[1] = o.net.hidden[2] = 64;
    o.weighting = NCSN_WEIGHT_ONE;
    o.stable_target = 0;   /* the preconditioned output's learning, with plain DSM (as before 0.10.0) */
    o.standardize = 0;
    o.batch = 256;
    o.steps = 1500;
    o.threads = t_threads;
    if (ncsn_trainer_create(&t, &o, x, N, 2, NULL) != NCSN_OK) { CHECK(0, "precond trainer: %s", ncsn_last_error()); free(x); free(q); free(z); return; }
    sg[0] = t->sigmas[0]; sg[1] = t->sigmas[t->L / 2]; sg[2] = 0.1f;
    for (k = 0; k < 3; k++) {   /* the query points: test points with noise of that sigma */
        float *xs = (float *)malloc(sizeof(float) * M * 2);
        for (i = 0; i < 2 * M; i++) xs[i] = fmaf(sg[k], z[i], q[i]);
        before[k] = pc_score_err(t->model, &g, xs, M, sg[k]);
        if (k == 2) ncsn_trainer_run(t, o.steps, 0, NULL, NULL);
        free(xs);
    }
    memcpy(t->model->params, ncsn_trainer_weights(t), sizeof(float) * t->model->n_params);
    for (k = 0; k < 3; k++) {
        float *xs = (float *)malloc(sizeof(float) * M * 2);
        for (i = 0; i < 2 * M; i++) xs[i] = fmaf(sg[k], z[i], q[i]);
        after[k] = pc_score_err(t->model, &g, xs, M, sg[k]);
        free(xs);
        printf("  precond learns: sigma %.4g: relative score error %.4f untrained, %.4f after %ld steps\n", (double)sg[k], before[k], after[k], o.steps);
        CHECK(after[k] < 0.05 && after[k] < 0.5 * before[k], "precond learns at sigma %g: relative score error %.4f (untrained %.4f)",
              (double)sg[k], after[k], before[k]);
    }
    ncsn_trainer_free(t);
    free(x); free(q); free(z);
}

/* the stable target in the trainer: another run than plain DSM from the same draws; saved as a key
   only when on (plain files keep their bytes) and resumed bit for bit; the same bits on 1 and 2
   threads; an edited key or an option other than 0 and 1 refused by name */
static void stable_target_trainer(void)
{
    enum { N = 70, D = 2 };
    const char *path = "build/test_train_stf.safetensors", *plain_path = "build/test_train_stf_plain.safetensors";
    float *data = tr_data(N, D, 5);
    ncsn_train_opts o = tr_opts(24);
    ncsn_trainer *a = NULL, *b = NULL, *c = NULL, *p = NULL;
    unsigned char *buf = NULL, *ed = NULL;
    size_t len = 0, elen = 0;
    char v[16];
    o.ema_rate = 0.99f;
    o.stable_target = 3;
    CHECK(ncsn_trainer_create(&a, &o, data, N, D, NULL) == NCSN_ERR_ARG && !a && strstr(ncsn_last_error(), "stable_target = 3"),
          "stable_target 3 refused by name: %s", ncsn_last_error());
    o.stable_target = 1;
    o.threads = 1;
    CHECK(ncsn_trainer_create(&a, &o, data, N, D, NULL) == NCSN_OK, "create: %s", ncsn_last_error());
    o.threads = 2;
    CHECK(ncsn_trainer_create(&c, &o, data, N, D, NULL) == NCSN_OK, "create, 2 threads: %s", ncsn_last_error());
    o.stable_target = 0;
    CHECK(ncsn_trainer_create(&p, &o, data, N, D, NULL) == NCSN_OK, "create, plain: %s", ncsn_last_error());
    if (!a || !c || !p) goto out;
    ncsn_trainer_run(a, 6, 0, NULL, NULL);
    CHECK(ncsn_trainer_save(a, path, NULL) == NCSN_OK && ncsn_trainer_save(p, plain_path, NULL) == NCSN_OK, "save: %s", ncsn_last_error());
    CHECK(ncsn_file_meta(path, "ncsn.train.stable_target", v, sizeof v) == NCSN_OK && !strcmp(v, "1"), "the file says stable_target '%s'", v);
    v[0] = 'x';
    CHECK(ncsn_file_meta(plain_path, "ncsn.train.stable_target", v, sizeof v) == NCSN_ERR_FORMAT && v[0] == 0, "a plain file has no stable_target key");
    ncsn_trainer_run(a, 14, 0, NULL, NULL);
    ncsn_trainer_run(c, 14, 0, NULL, NULL);
    ncsn_trainer_run(p, 14, 0, NULL, NULL);
    CHECK(same_bits(a->model->params, c->model->params, a->model->n_params) && same_bits(a->ema, c->ema, a->model->n_params),
          "the stable target on 2 threads differs from 1 thread");
    CHECK(!same_bits(a->model->params, p->model->params, a->model->n_params) && a->rng.state == p->rng.state,
          "the stable target must change the weights, not the draws");
    CHECK(ncsn_trainer_resume(&b, path, data, N, D, 1) == NCSN_OK, "resume: %s", ncsn_last_error());
    if (b) {
        CHECK(b->opts.stable_target == 1, "the resumed run lost the stable target");
        ncsn_trainer_run(b, 14, 0, NULL, NULL);
        CHECK(same_bits(a->model->params, b->model->params, a->model->n_params) && same_bits(a->ema, b->ema, a->model->n_params) &&
              a->rng.state == b->rng.state, "a resumed stable-target run differs from the uninterrupted one");
        ncsn_trainer_free(b);
        b = NULL;
    }
    if ((buf = t_read_file(path, &len)) != NULL && (ed = tr_edit(buf, len, "\"ncsn.train.stable_target\":\"1\"", "\"ncsn.train.stable_target\":\"2\"", &elen))) {
        FILE *f = fopen(path, "wb");
        if (f) { fwrite(ed, 1, elen, f); fclose(f); }
        CHECK(ncsn_trainer_resume(&b, path, data, N, D, 1) == NCSN_ERR_FORMAT && !b && strstr(ncsn_last_error(), "ncsn.train.stable_target = '2'"),
              "an edited stable_target is refused by name: %s", ncsn_last_error());
    } else
        CHECK(0, "the stable_target key was not found in the file's header");
out:
    free(buf);
    free(ed);
    ncsn_trainer_free(a); ncsn_trainer_free(b); ncsn_trainer_free(c); ncsn_trainer_free(p);
    remove(path);
    remove(plain_path);
    free(data);
}

/* The recipe's stable target (0.10.0): on when the data has more points than a batch, off when a
   batch holds them all (the target would be the training set's exact score); the presets and the
   recipe above 16 dimensions keep plain DSM; the recipe's sampler up to 16 dimensions predicts by
   the ODE step */
static void stable_target_auto(void)
{
    enum { N = 70, D = 2 };
    static const struct { int batch, want; } cases[] = { { 16, 1 }, { 69, 1 }, { 70, 0 }, { 200, 0 } };
    float *data = tr_data(N, D, 6), sig[6];
    ncsn_train_opts o = tr_opts(16);
    ncsn_trainer *a = NULL, *b = NULL;
    size_t k;
    CHECK(ncsn_train_defaults().stable_target == NCSN_STABLE_TARGET_AUTO && ncsn_train_defaults_for(16).stable_target == NCSN_STABLE_TARGET_AUTO &&
          ncsn_train_defaults_for(17).stable_target == 0 && ncsn_train_preset_seed000().stable_target == 0 &&
          ncsn_train_preset_seed001().stable_target == 0, "the recipe's stable target: auto up to 16 columns, off above and in the presets");
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        o.batch = cases[k].batch;
        o.stable_target = NCSN_STABLE_TARGET_AUTO;
        CHECK(ncsn_trainer_create(&a, &o, data, N, D, NULL) == NCSN_OK && a->opts.stable_target == cases[k].want,
              "auto, %d points, batch %d: stable_target %d, want %d (%s)", N, cases[k].batch, a ? a->opts.stable_target : -9, cases[k].want, ncsn_last_error());
        ncsn_trainer_free(a);
        a = NULL;
    }
    o.batch = 16;
    o.stable_target = -2;
    CHECK(ncsn_trainer_create(&a, &o, data, N, D, NULL) == NCSN_ERR_ARG && !a && strstr(ncsn_last_error(), "stable_target = -2"),
          "stable_target -2 refused by name: %s", ncsn_last_error());
    o.stable_target = NCSN_STABLE_TARGET_AUTO;
    ncsn_trainer_create(&a, &o, data, N, D, NULL);
    o.stable_target = 1;
    ncsn_trainer_create(&b, &o, data, N, D, NULL);
    if (a && b) {
        ncsn_trainer_run(a, 5, 0, NULL, NULL);
        ncsn_trainer_run(b, 5, 0, NULL, NULL);
        CHECK(same_bits(a->model->params, b->model->params, a->model->n_params), "auto (on) and 1 give different bits");
    } else
        CHECK(0, "create: %s", ncsn_last_error());
    ncsn_trainer_free(a);
    ncsn_trainer_free(b);
    ncsn_schedule(sig, 6, 8.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC);
    CHECK(ncsn_sampler_recipe_for(sig, 6, 0, 2).predictor == NCSN_PREDICT_ODE && ncsn_sampler_recipe_for(sig, 6, 0, 16).predictor == NCSN_PREDICT_ODE &&
          ncsn_sampler_recipe(sig, 6, 0).predictor == NCSN_PREDICT_NONE,
          "the recipe's predictor: ODE up to 16 columns, none in ncsn_sampler_recipe");
    free(data);
}

/* Above 16 columns the recipe's 10 steps per level, tuned at the digits' level ratio (64-D), leave
   the chains behind wider levels (0.11.0): with the exact score of N(0, I) the chains' variance
   came out 1.9-2.8x the data's at 17-31 dimensions (1.5x at 48) without the ODE predictor. Each run here: the levels from
   sigma_1 = 10 to the recipe's 0.1 at ncsn_level_ratio(D), the recipe's sampler, 400 chains; the
   mean over the columns of each column's variance must be within 20 % of 1. The digits' 64
   dimensions keep the sampler they were tuned with (no predictor). */
static void recipe_follows_levels(void)
{
    static const int dims[] = { 17, 24, 31, 48 };
    float mean[64], var[64], w = 1.0f, sig[64], sig64[64], *x = (float *)malloc(sizeof(float) * 400 * 48);
    ncsn_gmm g;
    size_t k;
    int i, d, L;
    for (d = 0; d < 64; d++) { mean[d] = 0.0f; var[d] = 1.0f; }
    g.K = 1; g.weights = &w; g.means = mean; g.vars = var;
    for (k = 0; x && k < sizeof dims / sizeof dims[0]; k++) {
        ncsn_sampler_opts o;
        ncsn_rng rng;
        double v = 0.0;
        g.dim = dims[k];
        L = ncsn_levels_for(10.0, 0.1, ncsn_level_ratio(g.dim));
        if (L < 2 || L > 64 || ncsn_schedule(sig, L, 10.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC) != NCSN_OK) { CHECK(0, "levels %d: %s", L, ncsn_last_error()); continue; }
        o = ncsn_sampler_recipe_for(sig, L, 0, g.dim);
        ncsn_rng_seed(&rng, 7, 1);
        if (ncsn_sample_annealed(ncsn_gmm_score_fn, &g, g.dim, sig, L, &o, &rng, x, 400) != NCSN_OK) { CHECK(0, "sample: %s", ncsn_last_error()); continue; }
        for (d = 0; d < g.dim; d++) {
            double m = 0.0, s = 0.0;
            for (i = 0; i < 400; i++) m += x[i * g.dim + d];
            m /= 400.0;
            for (i = 0; i < 400; i++) s += (x[i * g.dim + d] - m) * (x[i * g.dim + d] - m);
            v += s / 399.0;
        }
        v /= g.dim;
        CHECK(v > 0.8 && v < 1.2, "D = %d, %d levels: the recipe's sampler gives the exact score's N(0, I) a variance of %.3f (predictor %d)",
              g.dim, L, v, o.predictor);
    }
    L = ncsn_levels_for(10.0, 0.1, ncsn_level_ratio(64));
    CHECK(L <= 64 && ncsn_schedule(sig64, L, 10.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC) == NCSN_OK &&
          ncsn_sampler_recipe_for(sig64, L, 0, 64).predictor == NCSN_PREDICT_NONE,
          "64 columns at their own levels: no predictor");
    L = ncsn_levels_for(10.0, 0.1, ncsn_level_ratio(48));
    CHECK(L <= 64 && ncsn_schedule(sig, L, 10.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC) == NCSN_OK &&
          ncsn_sampler_recipe_for(sig, L, 0, 48).predictor == NCSN_PREDICT_ODE &&
          ncsn_sampler_recipe_for(sig, L, 0, 64).predictor == NCSN_PREDICT_ODE,
          "48 columns' levels: the ODE predictor, at 48 columns and at 64 (the rule reads the levels)");
    sig[0] = 1.0f;
    CHECK(ncsn_sampler_recipe_for(NULL, 0, 0, 48).predictor == NCSN_PREDICT_NONE && ncsn_sampler_recipe_for(sig, 1, 0, 48).predictor == NCSN_PREDICT_NONE,
          "no levels, or one: no predictor");
    free(x);
}

void test_train(void)
{
    stable_target_trainer();
    stable_target_auto();
    recipe_follows_levels();
    scale_floor();
    steps_match_loop();
    nonfinite_steps();
    resume_bits();
    standardisation();
    settings();
    recipe_rules();
    divergence();
    hostile_files();
    radius_known();
    precond_gradients();
    precond_reference_bits();
    precond_skip_accuracy();
    precond_files();
    precond_determinism();
    precond_learns();
}
