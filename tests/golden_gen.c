/* golden_gen.c - what the golden files hold. Changing anything here changes golden/ on purpose. */
#include "test.h"
#include <stdlib.h>

typedef struct gsink gsink;
void g_u32(gsink *s, const char *series, int i, uint32_t v);
void g_f32(gsink *s, const char *series, int i, float v);
void g_f64(gsink *s, const char *series, int i, double v);
void g_f32s(gsink *s, const char *series, const float *v, int n);

void gen_rng(gsink *s)
{
    static const uint64_t seeds[][2] = { { 42u, 54u }, { 0u, 0u }, { 0xffffffffffffffffull, 1u }, { 20190712u, 7u } };
    char nm[64];
    size_t k;
    int i;
    for (k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        ncsn_rng r;
        float z[64];
        ncsn_rng_seed(&r, seeds[k][0], seeds[k][1]);
        snprintf(nm, sizeof nm, "u32.s%llu.q%llu", (unsigned long long)seeds[k][0], (unsigned long long)seeds[k][1]);
        for (i = 0; i < 32; i++) g_u32(s, nm, i, ncsn_rng_u32(&r));
        snprintf(nm, sizeof nm, "bounded6.s%llu", (unsigned long long)seeds[k][0]);
        for (i = 0; i < 16; i++) g_u32(s, nm, i, ncsn_rng_bounded(&r, 6));
        snprintf(nm, sizeof nm, "bounded_big.s%llu", (unsigned long long)seeds[k][0]);
        for (i = 0; i < 8; i++) g_u32(s, nm, i, ncsn_rng_bounded(&r, 3000000019u));
        snprintf(nm, sizeof nm, "uniform.s%llu", (unsigned long long)seeds[k][0]);
        for (i = 0; i < 32; i++) g_f32(s, nm, i, ncsn_rng_uniform(&r));
        snprintf(nm, sizeof nm, "normal.s%llu", (unsigned long long)seeds[k][0]);
        ncsn_rng_normals(&r, z, 63);   /* odd count: the last pair's sine is dropped */
        g_f32s(s, nm, z, 63);
        ncsn_rng_advance(&r, 1000003u);
        snprintf(nm, sizeof nm, "advanced.s%llu", (unsigned long long)seeds[k][0]);
        for (i = 0; i < 4; i++) g_u32(s, nm, i, ncsn_rng_u32(&r));
    }
}

void gen_math(gsink *s)
{
    int i;
    for (i = 0; i <= 400; i++) {
        float x = -104.0f + 193.0f * (float)i / 400.0f;
        g_f32(s, "expf", i, ncsn_expf(x));
    }
    for (i = 0; i <= 400; i++) {
        float x = ldexpf(1.0f + (float)(i % 23) / 23.0f, -149 + (i * 277) / 400);
        g_f32(s, "logf", i, ncsn_logf(x));
    }
    for (i = 0; i <= 200; i++) {
        float x = -1.0f + 2.0f * (float)i / 200.0f;
        g_f32(s, "log1pf", i, ncsn_log1pf(x * 0.999f));
    }
    for (i = 0; i <= 400; i++) {
        float x = -60.0f + 120.0f * (float)i / 400.0f;
        g_f32(s, "sinf", i, ncsn_sinf(x));
        g_f32(s, "cosf", i, ncsn_cosf(x));
    }
    for (i = 0; i <= 200; i++) {
        float x = -30.0f + 60.0f * (float)i / 200.0f;
        g_f32(s, "sigmoidf", i, ncsn_sigmoidf(x));
        g_f32(s, "siluf", i, ncsn_siluf(x));
        g_f32(s, "softplusf", i, ncsn_softplusf(x));
    }
    {   /* the edges: sigmoid/silu where e^-x overflows, sin/cos far beyond the accurate range */
        static const float edge[] = { -88.7228394f, -88.8f, -95.0f, -103.0f, -104.0f, -87.5f, -150.0f };
        static const float big[] = { 6588468.0f, 1e9f, 1e12f, 3e38f, -4.42746e11f, 131072.5f };
        for (i = 0; i < (int)(sizeof edge / sizeof edge[0]); i++) {
            g_f32(s, "sigmoidf.edge", i, ncsn_sigmoidf(edge[i]));
            g_f32(s, "siluf.edge", i, ncsn_siluf(edge[i]));
        }
        for (i = 0; i < (int)(sizeof big / sizeof big[0]); i++) {
            g_f32(s, "sinf.big", i, ncsn_sinf(big[i]));
            g_f32(s, "cosf.big", i, ncsn_cosf(big[i]));
        }
        g_f64(s, "sinpi.big", 0, ncsn_sinpi(2251799813685248.5));
        g_f64(s, "cospi.big", 0, ncsn_cospi(2251799813685249.5));
    }
    for (i = 0; i <= 100; i++) {
        double x = -700.0 + 1400.0 * (double)i / 100.0;
        g_f64(s, "exp", i, ncsn_exp(x));
        g_f64(s, "log", i, ncsn_log(ldexp(1.0 + (double)i / 101.0, -1000 + 20 * i)));
        g_f64(s, "cospi", i, ncsn_cospi((double)i / 100.0));
    }
}

void gen_schedule(gsink *s)
{
    static const struct { int L; float hi, lo; } cases[] = { { 10, 10.0f, 0.01f }, { 10, 5.0f, 0.01f }, { 10, 20.0f, 1.0f },
                                                             { 10, 50.0f, 0.01f }, { 232, 50.0f, 0.01f }, { 2, 1.0f, 0.5f } };
    static const char *kinds[] = { "geometric", "linear", "cosine" };
    float sig[256];
    char nm[64];
    size_t c;
    int k;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (k = 0; k < 3; k++) {
            if (ncsn_schedule(sig, cases[c].L, cases[c].hi, cases[c].lo, (ncsn_schedule_kind)k) != NCSN_OK) continue;
            snprintf(nm, sizeof nm, "%s.L%d.%g.%g", kinds[k], cases[c].L, (double)cases[c].hi, (double)cases[c].lo);
            g_f32s(s, nm, sig, cases[c].L);
        }
}

/* a small model of each conditioning, at init, on fixed inputs: outputs and input gradients */
static void model_case(gsink *s, const char *tag, ncsn_config cfg)
{
    ncsn_model *m = NULL;
    ncsn_rng r;
    float x[7 * 4], sig[7], out[7 * 4], dx[7 * 4];
    int n = 7 * cfg.dim;
    char nm[64];
    int i;
    ncsn_rng_seed(&r, 2019, 1);
    if (ncsn_model_create(&m, &cfg) != NCSN_OK) return;
    ncsn_model_init(m, &r);
    ncsn_model_set_threads(m, t_threads);
    if (cfg.zero_init_output) {   /* give the zero output layer values so the output is not trivially 0 */
        const ncsn_layer *L = &m->layers[m->n_layers - 1];
        for (i = 0; i < L->in * L->out; i++) m->params[L->w + i] = 0.01f * ncsn_rng_normal(&r);
    }
    ncsn_rng_normals(&r, x, (size_t)n);
    for (i = 0; i < 7; i++) sig[i] = i < 3 ? 0.5f : (float)(i + 1);   /* repeated sigmas share the conditioning */
    ncsn_model_forward(m, out, x, sig, 7);
    snprintf(nm, sizeof nm, "%s.out", tag);
    g_f32s(s, nm, out, n);
    ncsn_model_zero_grad(m);
    ncsn_model_backward(m, dx, out);   /* d(0.5 |out|^2) */
    snprintf(nm, sizeof nm, "%s.dx", tag);
    g_f32s(s, nm, dx, n);
    snprintf(nm, sizeof nm, "%s.grad", tag);
    for (i = 0; i < (int)m->n_params; i += 7) g_f32(s, nm, i, m->grads[i]);
    ncsn_model_free(m);
}

void gen_model(gsink *s)
{
    ncsn_config a = ncsn_config_concat(2, 37, 3), b = ncsn_config_embed(2, 16, 33, 2), c = ncsn_config_concat(3, 20, 2);
    c.act = NCSN_ACT_SOFTPLUS;
    c.scale_by_sigma = 1;
    model_case(s, "concat", a);
    model_case(s, "embed", b);
    model_case(s, "softplus_scaled", c);
}

/* 50 Adam steps of DSM on seed 000's data with a small ScoreNet: losses and final weights */
void gen_train(gsink *s)
{
    ncsn_config cfg = ncsn_config_concat(2, 32, 3);
    ncsn_model *m = NULL;
    ncsn_adam opt;
    ncsn_dsm_batch bt;
    ncsn_rng r;
    float data[64 * 2], sig[10], loss;
    int step, i;
    ncsn_rng_seed(&r, 7, 0);
    ncsn_schedule(sig, 10, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_data_two_gaussians(&r, data, 64);
    ncsn_model_create(&m, &cfg);
    ncsn_model_init(m, &r);
    ncsn_model_set_threads(m, t_threads);
    ncsn_adam_create(&opt, m->n_params, 1e-3f);
    ncsn_dsm_batch_alloc(&bt, 64, 2);
    for (step = 0; step < 50; step++) {
        ncsn_model_zero_grad(m);
        ncsn_dsm_loss(m, &bt, data, 64, sig, 10, NCSN_WEIGHT_SIGMA2, &r, &loss);
        ncsn_model_adam_step(m, &opt);
        g_f32(s, "loss", step, loss);
    }
    for (i = 0; i < (int)m->n_params; i += 3) g_f32(s, "weight", i, m->params[i]);
    ncsn_dsm_batch_free(&bt);
    ncsn_adam_free(&opt);
    ncsn_model_free(m);
    {   /* batch 300 = four blocks of the batch sums, embedding network (SiLU kernels, per-level caching) */
        ncsn_config c2 = ncsn_config_embed(2, 16, 48, 2);
        float big[300 * 2];
        c2.zero_init_output = 0;
        ncsn_data_swiss_roll(&r, big, 300);
        ncsn_model_create(&m, &c2);
        ncsn_model_init(m, &r);
    ncsn_model_set_threads(m, t_threads);
        ncsn_adam_create(&opt, m->n_params, 2e-3f);
        ncsn_dsm_batch_alloc(&bt, 300, 2);
        for (step = 0; step < 8; step++) {
            ncsn_model_zero_grad(m);
            ncsn_dsm_loss(m, &bt, big, 300, sig, 10, NCSN_WEIGHT_SIGMA2, &r, &loss);
            g_f32(s, "b300.loss", step, loss);
            for (i = 0; i < (int)m->n_params; i += 97) g_f32(s, "b300.grad", step * 10000 + i, m->grads[i]);
            ncsn_model_adam_step(m, &opt);
        }
        for (i = 0; i < (int)m->n_params; i += 11) g_f32(s, "b300.weight", i, m->params[i]);
        ncsn_dsm_batch_free(&bt);
        ncsn_adam_free(&opt);
        ncsn_model_free(m);
    }
}

/* annealed Langevin with the exact score, and with a small network: final samples */
void gen_sample(gsink *s)
{
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    ncsn_config cfg = ncsn_config_embed(2, 8, 16, 2);
    ncsn_model *m = NULL;
    ncsn_rng r;
    float sig[5], x[16 * 2];
    ncsn_schedule(sig, 5, 20.0f, 1.0f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_rng_seed(&r, 11, 3);
    o.eps = 0.1f;
    o.steps_per_level = 20;
    o.init = NCSN_INIT_UNIFORM;
    o.init_lo = -8.0f;
    o.init_hi = 8.0f;
    ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 5, &o, &r, x, 16);
    g_f32s(s, "ald_exact", x, 32);
    ncsn_sample_langevin(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, 0.0f, 0.1f, 50, &o, &r, x, 16);
    g_f32s(s, "plain_exact", x, 32);
    ncsn_model_create(&m, &cfg);
    cfg.zero_init_output = 0;
    m->cfg.zero_init_output = 0;
    ncsn_model_init(m, &r);
    ncsn_model_set_threads(m, t_threads);
    o = ncsn_sampler_defaults();
    o.form = NCSN_LANGEVIN_SONG;
    o.eps = 5e-7f;
    o.steps_per_level = 10;
    o.init = NCSN_INIT_NORMAL;
    o.denoise_final = 1;
    ncsn_schedule(sig, 5, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_sample_annealed(ncsn_model_score, m, 2, sig, 5, &o, &r, x, 16);
    g_f32s(s, "ald_net", x, 32);
    o.form = NCSN_LANGEVIN_SONG_LM;   /* the predictors (0.7.0) with the recipe's form, each from the same rng state */
    {
        ncsn_rng ra = r, rb = r;
        o.predictor = NCSN_PREDICT_ANCESTRAL;
        ncsn_sample_annealed(ncsn_model_score, m, 2, sig, 5, &o, &ra, x, 16);
        g_f32s(s, "ald_net_ancestral", x, 32);
        o.predictor = NCSN_PREDICT_ODE;
        ncsn_sample_annealed(ncsn_model_score, m, 2, sig, 5, &o, &rb, x, 16);
        g_f32s(s, "ald_net_ode", x, 32);
    }
    ncsn_model_free(m);
}

/* the image path end to end at toy size (golden/images.txt): 16 synthetic 28 x 28 images (a bright
   rectangle on dark noise) through the IDX reader, the trainer on them (784-D, ln sigma concatenated,
   levels from the data, EMA) with s = net/sigma and with the preconditioned output (keys "pc."; this
   golden run's own choice of sigma_data from the data, not images/images.c's 0.05), samples,
   inpainting of the lower half, and the metrics */
static uint32_t g_hash(const float *v, size_t n)
{
    uint32_t h = 2166136261u;
    size_t k;
    for (k = 0; k < n; k++) { h ^= t_f2u(v[k]); h *= 16777619u; }
    return h;
}

/* the trainer's 6 steps on img [N][784], then 2 samples and 2 inpaintings with rng; keys pre + name */
static void g_images_net(gsink *s, const char *pre, const float *img, int N, int precond, ncsn_rng *rng)
{
    enum { P = 784 };
    ncsn_train_opts o = ncsn_train_defaults();
    ncsn_trainer *t = NULL;
    ncsn_sampler_opts so;
    unsigned char mask[2 * P];
    o.stable_target = 0;   /* plain DSM, as the images recipe (images/images.c) */
    float x[2 * P];
    char key[32];
    int i, k;
    o.net = ncsn_config_default(P);
    o.net.n_hidden = 2;
    o.net.hidden[0] = o.net.hidden[1] = 32;
    if (precond) {   /* the golden run's choice: sigma_data from the data (the trainer's sigma_data 0), EDM's unit weight */
        o.net.scale_by_sigma = 0;
        o.net.precond = 1;
        o.weighting = NCSN_WEIGHT_ONE;
    }
    o.standardize = 0;
    o.batch = 8;
    o.lr_decay_steps = 0;   /* the golden bits were made at a constant rate */
    o.threads = t_threads;
    ncsn_trainer_create(&t, &o, img, N, P, NULL);
#define G_KEY(name) (snprintf(key, sizeof key, "%s%s", pre, name), key)
    g_f32(s, G_KEY("sigma1"), 0, t->sigmas[0]);
    g_u32(s, G_KEY("levels"), 0, (uint32_t)t->L);
    if (precond) g_f32(s, G_KEY("sigma_data"), 0, t->model->cfg.sigma_data);
    for (i = 0; i < 6; i++) { ncsn_trainer_step(t); g_f32(s, G_KEY("loss"), i, t->loss); }
    g_u32(s, G_KEY("ema.hash"), 0, g_hash(ncsn_trainer_weights(t), t->model->n_params));
    memcpy(t->model->params, ncsn_trainer_weights(t), sizeof(float) * t->model->n_params);
    so = ncsn_sampler_recipe(t->sigmas, t->L, 1);
    so.form = NCSN_LANGEVIN_SONG;   /* the golden bits' form (the recipe's before SONG_LM) */
    ncsn_sample_annealed(ncsn_model_score, t->model, P, t->sigmas, t->L, &so, rng, x, 2);
    g_u32(s, G_KEY("sample.hash"), 0, g_hash(x, 2 * P));
    for (k = 0; k < 2 * P; k++) mask[k] = (unsigned char)(k % P < P / 2);
    ncsn_sample_inpaint(ncsn_model_score, t->model, P, t->sigmas, t->L, &so, rng, img, mask, x, 2);
    g_u32(s, G_KEY("inpaint.hash"), 0, g_hash(x, 2 * P));
    {   /* reconstruction guidance (w 4 at every level), from a copy of rng: the keys after it keep their stream */
        ncsn_rng gr = *rng;
        ncsn_guide g;
        if (ncsn_guide_init(&g, t->model, img, mask, 4.0f, 2) == NCSN_OK) {
            ncsn_sample_inpaint(ncsn_score_guided, &g, P, t->sigmas, t->L, &so, &gr, img, mask, x, 2);
            g_u32(s, G_KEY("guided.hash"), 0, g_hash(x, 2 * P));
        }
        ncsn_guide_free(&g);
    }
#undef G_KEY
    ncsn_trainer_free(t);
}

void gen_images(gsink *s)
{
    enum { N = 16, P = 784 };
    static unsigned char file[16 + N * P];
    static const unsigned char head[16] = { 0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, 28, 0, 0, 0, 28 };
    float *img = NULL, feat[N * 8], lg[6] = { 0.5f, -1.0f, 2.0f, 0.0f, 0.25f, 0.125f }, grad[6], loss;
    int n = 0, r = 0, c = 0, i, k, lab[2] = { 2, 1 };
    double fd = 0.0;
    ncsn_rng rng;
    ncsn_rng_seed(&rng, 15, 0);
    memcpy(file, head, 16);
    for (i = 0; i < N; i++) {
        int x0 = (int)ncsn_rng_bounded(&rng, 14), y0 = (int)ncsn_rng_bounded(&rng, 14);
        for (k = 0; k < P; k++) {
            int y = k / 28, xx = k % 28, in = y >= y0 && y < y0 + 12 && xx >= x0 && xx < x0 + 10;
            file[16 + i * P + k] = (unsigned char)(in ? 200 + ncsn_rng_bounded(&rng, 56) : ncsn_rng_bounded(&rng, 30));
        }
    }
    ncsn_idx_images_mem(file, sizeof file, "golden", &img, &n, &r, &c);
    g_u32(s, "idx.hash", 0, g_hash(img, (size_t)N * P));
    g_images_net(s, "", img, N, 0, &rng);
    for (i = 0; i < N; i++) for (k = 0; k < 8; k++) feat[i * 8 + k] = img[i * P + 90 * k + 50];
    ncsn_frechet_distance(feat, 8, feat + 8 * 8, 8, 8, &fd);
    g_f64(s, "fd", 0, fd);
    ncsn_softmax_xent(lg, lab, 2, 3, grad, &loss);
    g_f32(s, "xent", 0, loss);
    g_f32s(s, "xent.grad", grad, 6);
    ncsn_rng_seed(&rng, 15, 1);
    g_images_net(s, "pc.", img, N, 1, &rng);
    ncsn_free(img);
}
