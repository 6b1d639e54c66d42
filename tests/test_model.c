/* test_model.c - the score network against an independent double-precision reference.

   The reference below is written from the documented layout only (weights [in][out] at
   m->layers[l].w / m->emb[i].w, biases at .b; CONCAT input [x, sigma]; EMBED input [x, e] with
   e = Linear-SiLU-Linear(sin(c f_j) ..., cos(c f_j) ...), f_j = exp(-j log(10000)/(half-1));
   with sigma_input = log, c = ln sigma in both and f_j = exp(-j log(16)/(half-1))/4, else c = sigma;
   output / sigma with scale_by_sigma) and libm in double. Gradients are checked by central
   differences of that reference, for every element of every parameter tensor and for dx. */
#include "test.h"
#include "scalar_copy.h"
#include <stdlib.h>
#if !defined(NCSN_NO_THREADS) && !defined(_WIN32)
#include <pthread.h>
#endif

/* ---- the test's own generator (xorshift64*) ---- */
static uint64_t tm_state = 0x243f6a8885a308d3ULL;
static double tm_unif(void)  /* [0, 1) */
{
    tm_state ^= tm_state >> 12;
    tm_state ^= tm_state << 25;
    tm_state ^= tm_state >> 27;
    return (double)((tm_state * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0);
}
static float tm_sym(double a) { return (float)((2.0 * tm_unif() - 1.0) * a); }

/* ---- double reference ---- */
static double ref_act(double z, ncsn_act act)
{
    if (act == NCSN_ACT_SILU) return z / (1.0 + exp(-z));
    return (z > 0.0 ? z : 0.0) + log1p(exp(-fabs(z)));
}

/* y[out] = b + x W with W [in][out] at P + L->w */
static void ref_linear(const ncsn_layer *L, const double *P, const double *x, double *y)
{
    int i, o;
    for (o = 0; o < L->out; o++) {
        double acc = P[L->b + o];
        for (i = 0; i < L->in; i++) acc += x[i] * P[L->w + (size_t)i * L->out + o];
        y[o] = acc;
    }
}

#define TM_MAXW 80
static void ref_forward(const ncsn_model *m, const double *P, const double *x, const float *sigma, int B, double *out)
{
    const ncsn_config *c = &m->cfg;
    int D = c->dim, b, j, l, d;
    for (b = 0; b < B; b++) {
        double in[TM_MAXW], h[TM_MAXW], e0[TM_MAXW], e1[TM_MAXW];
        double s = (double)sigma[b], cin = c->sigma_input == NCSN_SIGMA_LOG ? log(s) : s;
        int n_in = D;
        for (d = 0; d < D; d++) in[d] = x[(size_t)b * D + d];
        if (c->cond == NCSN_COND_EMBED) {
            int E = c->embed_dim, half = E / 2;
            for (j = 0; j < half; j++) {
                double f = c->sigma_input == NCSN_SIGMA_LOG ? 0.25 * exp(-(double)j * log(16.0) / (double)(half - 1))
                                                            : exp(-(double)j * log(10000.0) / (double)(half - 1));
                e0[j] = sin(cin * f);
                e0[half + j] = cos(cin * f);
            }
            ref_linear(&m->emb[0], P, e0, e1);
            for (j = 0; j < E; j++) e1[j] = ref_act(e1[j], NCSN_ACT_SILU);
            ref_linear(&m->emb[1], P, e1, in + D);
            n_in += E;
        } else {
            in[D] = cin;
            n_in += 1;
        }
        (void)n_in;
        for (l = 0; l < m->n_layers; l++) {
            const ncsn_layer *L = &m->layers[l];
            ref_linear(L, P, in, h);
            if (l < m->n_layers - 1)
                for (j = 0; j < L->out; j++) in[j] = ref_act(h[j], c->act);
        }
        for (d = 0; d < D; d++) out[(size_t)b * D + d] = c->scale_by_sigma ? h[d] / s : h[d];
    }
}

static double ref_loss(const ncsn_model *m, const double *P, const double *x, const float *sigma, int B, const double *R)
{
    double out[64 * 3], L = 0.0;
    int i;
    ref_forward(m, P, x, sigma, B, out);
    for (i = 0; i < B * m->cfg.dim; i++) L += out[i] * R[i];
    return L;
}

/* ---- configurations ---- */
static ncsn_config tm_cfg(int cond, int act, int scale, int depth, int dim, int variant, int log_sigma)
{
    ncsn_config c;
    int l;
    c = cond ? ncsn_config_embed(dim, 4 + 2 * (variant % 3), 5, depth) : ncsn_config_concat(dim, 5, depth);
    for (l = 0; l < depth; l++) c.hidden[l] = 5 + (variant + 3 * l) % 5;   /* widths 5..9, differing per layer */
    c.act = act ? NCSN_ACT_SOFTPLUS : NCSN_ACT_SILU;
    c.scale_by_sigma = scale;
    c.sigma_input = log_sigma ? NCSN_SIGMA_LOG : NCSN_SIGMA_RAW;
    c.zero_init_output = 0;   /* else every gradient below the output layer is legitimately 0 */
    return c;
}

static const char *tm_name(const ncsn_config *c, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s/%s%s depth %d dim %d E %d", c->cond == NCSN_COND_EMBED ? "embed" : "concat",
             c->sigma_input == NCSN_SIGMA_LOG ? "(ln sigma)" : "", c->act == NCSN_ACT_SILU ? "silu" : "softplus",
             c->scale_by_sigma ? "/sigma" : "", c->n_hidden, c->dim, c->embed_dim);
    return buf;
}

static double tm_max_rel;      /* worst relative gradient error over all configs (report) */
static double tm_max_fwd_rel;  /* worst forward error */

/* (a) forward against the reference, (b) gradients against central differences */
static void tm_check_config(const ncsn_config *cfg, int seed)
{
    enum { B = 6 };
    static const float sig_pool[B] = { 0.5f, 1.75f, 0.5f, 3.0f, 0.0625f, 1.75f };  /* repeats: slot cache */
    ncsn_model *m = NULL;
    ncsn_rng rng;
    float x[B * 3], out[B * 3], R[B * 3], dx[B * 3], sigma[B];
    double xd[B * 3], Rd[B * 3], ref[B * 3], *P = NULL, *num = NULL, gmax = 0.0, mean_abs = 0.0;
    char nm[96];
    int D = cfg->dim, i, t, n_out, fwd_bad = -1;
    double fwd_worst = 0.0;
    tm_name(cfg, nm, sizeof nm);
    if (ncsn_model_create(&m, cfg) != NCSN_OK) { CHECK(0, "%s: create: %s", nm, ncsn_last_error()); return; }
    ncsn_rng_seed(&rng, (uint64_t)seed, 7);
    ncsn_model_init(m, &rng);
    n_out = B * D;
    for (i = 0; i < B; i++) sigma[i] = sig_pool[(i + seed) % B];
    for (i = 0; i < n_out; i++) {
        x[i] = tm_sym(2.0); xd[i] = x[i];
        R[i] = tm_sym(1.0); Rd[i] = R[i];
    }
    P = (double *)malloc(m->n_params * sizeof(double));
    num = (double *)malloc(m->n_params * sizeof(double));
    if (!P || !num) { CHECK(0, "out of memory"); goto out; }
    for (i = 0; i < (int)m->n_params; i++) P[i] = m->params[i];

    /* (a) forward */
    CHECK(ncsn_model_forward(m, out, x, sigma, B) == NCSN_OK, "%s: forward: %s", nm, ncsn_last_error());
    ref_forward(m, P, xd, sigma, B, ref);
    for (i = 0; i < n_out; i++) mean_abs += fabs(ref[i]) / n_out;
    for (i = 0; i < n_out; i++) {
        double err = fabs((double)out[i] - ref[i]), scale = fabs(ref[i]) + mean_abs + 1e-30;
        if (err / scale > fwd_worst) { fwd_worst = err / scale; fwd_bad = i; }
    }
    if (fwd_worst > tm_max_fwd_rel) tm_max_fwd_rel = fwd_worst;
    CHECK(fwd_worst <= 1e-5, "%s: forward differs from the double reference: out[%d] = %.9g, want %.9g (rel %.3g)",
          nm, fwd_bad, fwd_bad >= 0 ? (double)out[fwd_bad] : 0.0, fwd_bad >= 0 ? ref[fwd_bad] : 0.0, fwd_worst);

    /* (b) analytic gradients of L = sum(out * R) */
    ncsn_model_zero_grad(m);
    CHECK(ncsn_model_backward(m, dx, R) == NCSN_OK, "%s: backward: %s", nm, ncsn_last_error());
    for (i = 0; i < (int)m->n_params; i++) {
        double p0 = P[i], h = 1e-5 * (fabs(p0) > 1.0 ? fabs(p0) : 1.0), lp, lm;
        P[i] = p0 + h; lp = ref_loss(m, P, xd, sigma, B, Rd);
        P[i] = p0 - h; lm = ref_loss(m, P, xd, sigma, B, Rd);
        P[i] = p0;
        num[i] = (lp - lm) / (2.0 * h);
        if (fabs(num[i]) > gmax) gmax = fabs(num[i]);
    }
    for (t = 0; t < m->n_tensors; t++) {
        const ncsn_tensor *T = &m->tensors[t];
        size_t cnt = (size_t)T->rows * (size_t)(T->cols ? T->cols : 1), k, worst_k = 0;
        double worst = 0.0, tmax = 0.0;
        int nz_lib = 0, nz_num = 0;
        for (k = T->offset; k < T->offset + cnt; k++) {
            double g = m->grads[k], n = num[k], err = fabs(g - n), bound = 1e-3 * fabs(n) + 1e-5 * gmax;
            if (g != 0.0) nz_lib++;
            if (fabs(n) > 1e-9 * gmax) nz_num++;
            if (fabs(n) > tmax) tmax = fabs(n);
            if (err / bound > worst) { worst = err / bound; worst_k = k; }
            if (fabs(n) > 1e-3 * gmax && err / fabs(n) > tm_max_rel) tm_max_rel = err / fabs(n);
        }
        CHECK(worst <= 1.0, "%s: d/d %s[%lu]: analytic %.9g, numerical %.9g", nm, T->name,
              (unsigned long)(worst_k - T->offset), (double)m->grads[worst_k], num[worst_k]);
        CHECK(nz_lib > 0 && nz_num > 0, "%s: gradient of %s is all zero (library %d, numerical %d nonzero of %lu)", nm,
              T->name, nz_lib, nz_num, (unsigned long)cnt);
    }
    { /* dx */
        double worst = 0.0, dmax = 0.0, nd[B * 3];
        int worst_i = 0, nz = 0;
        for (i = 0; i < n_out; i++) {
            double x0 = xd[i], h = 1e-5, lp, lm;
            xd[i] = x0 + h; lp = ref_loss(m, P, xd, sigma, B, Rd);
            xd[i] = x0 - h; lm = ref_loss(m, P, xd, sigma, B, Rd);
            xd[i] = x0;
            nd[i] = (lp - lm) / (2.0 * h);
            if (fabs(nd[i]) > dmax) dmax = fabs(nd[i]);
        }
        for (i = 0; i < n_out; i++) {
            double err = fabs(dx[i] - nd[i]), bound = 1e-3 * fabs(nd[i]) + 1e-5 * dmax;
            if (dx[i] != 0.0f) nz++;
            if (err / bound > worst) { worst = err / bound; worst_i = i; }
            if (fabs(nd[i]) > 1e-3 * dmax && err / fabs(nd[i]) > tm_max_rel) tm_max_rel = err / fabs(nd[i]);
        }
        CHECK(worst <= 1.0, "%s: dx[%d]: analytic %.9g, numerical %.9g", nm, worst_i, (double)dx[worst_i], nd[worst_i]);
        CHECK(nz == n_out, "%s: dx has %d zeros of %d", nm, n_out - nz, n_out);
    }
    /* backward accumulates: a second call adds the same gradient again */
    {
        float *g1 = (float *)malloc(m->n_params * sizeof(float));
        size_t k, bad = 0;
        if (g1) {
            memcpy(g1, m->grads, m->n_params * sizeof(float));
            ncsn_model_backward(m, NULL, R);
            for (k = 0; k < m->n_params; k++)
                if (fabs((double)m->grads[k] - 2.0 * g1[k]) > 1e-5 * fabs(2.0 * g1[k]) + 1e-7 * gmax) bad++;
            CHECK(bad == 0, "%s: backward does not accumulate (%lu of %lu differ from twice the gradient)", nm,
                  (unsigned long)bad, (unsigned long)m->n_params);
            free(g1);
        }
    }
out:
    free(P);
    free(num);
    ncsn_model_free(m);
}

/* (c) batch = per-sample, bit for bit; batch gradient = sum of per-sample gradients */
static void tm_check_batch(const ncsn_config *cfg, int seed)
{
    enum { B = 13 };
    static const float pool[5] = { 0.25f, 2.5f, 1.0f, 0.01f, 7.0f };
    static const int pat[B] = { 0, 1, 0, 0, 2, 1, 3, 3, 0, 4, 2, 1, 0 };  /* repeats, out of order */
    ncsn_model *m = NULL;
    ncsn_rng rng;
    float x[B * 3], R[B * 3], sigma[B], out[B * 3], dx[B * 3], o1[3], dx1[3], *gb = NULL;
    double *gs = NULL, *ga = NULL;
    char nm[96];
    int D = cfg->dim, b, i, bad_out = -1, bad_dx = -1, bad_g = -1;
    size_t k;
    tm_name(cfg, nm, sizeof nm);
    if (ncsn_model_create(&m, cfg) != NCSN_OK) { CHECK(0, "%s: create: %s", nm, ncsn_last_error()); return; }
    ncsn_rng_seed(&rng, (uint64_t)seed, 11);
    ncsn_model_init(m, &rng);
    for (b = 0; b < B; b++) sigma[b] = pool[pat[b]];
    for (i = 0; i < B * D; i++) { x[i] = tm_sym(3.0); R[i] = tm_sym(1.0); }
    gb = (float *)malloc(m->n_params * sizeof(float));
    gs = (double *)calloc(m->n_params, sizeof(double));
    ga = (double *)calloc(m->n_params, sizeof(double));
    if (!gb || !gs || !ga) { CHECK(0, "out of memory"); goto out; }
    ncsn_model_zero_grad(m);
    CHECK(ncsn_model_forward(m, out, x, sigma, B) == NCSN_OK, "%s: batch forward: %s", nm, ncsn_last_error());
    CHECK(ncsn_model_backward(m, dx, R) == NCSN_OK, "%s: batch backward: %s", nm, ncsn_last_error());
    memcpy(gb, m->grads, m->n_params * sizeof(float));
    for (b = 0; b < B; b++) {
        ncsn_model_zero_grad(m);
        ncsn_model_forward(m, o1, x + (size_t)b * D, sigma + b, 1);
        ncsn_model_backward(m, dx1, R + (size_t)b * D);
        if (bad_out < 0 && memcmp(o1, out + (size_t)b * D, (size_t)D * sizeof(float)) != 0) bad_out = b;
        if (bad_dx < 0 && memcmp(dx1, dx + (size_t)b * D, (size_t)D * sizeof(float)) != 0) bad_dx = b;
        for (k = 0; k < m->n_params; k++) { gs[k] += m->grads[k]; ga[k] += fabs(m->grads[k]); }
    }
    for (k = 0; k < m->n_params; k++)
        if (fabs((double)gb[k] - gs[k]) > 1e-5 * ga[k] + 1e-30) { bad_g = (int)k; break; }
    CHECK(bad_out < 0, "%s: batch output of sample %d differs from the sample alone", nm, bad_out);
    CHECK(bad_dx < 0, "%s: batch dx of sample %d differs from the sample alone", nm, bad_dx);
    CHECK(bad_g < 0, "%s: batch gradient [%d] = %.9g, sum of per-sample gradients %.9g", nm, bad_g,
          bad_g >= 0 ? (double)gb[bad_g] : 0.0, bad_g >= 0 ? gs[bad_g] : 0.0);
    /* the same batch again after the workspace was used at B = 1: same bits */
    {
        float out2[B * 3];
        ncsn_model_forward(m, out2, x, sigma, B);
        CHECK(memcmp(out, out2, sizeof(float) * (size_t)B * D) == 0, "%s: repeated batch forward differs", nm);
    }
out:
    free(gb); free(gs); free(ga);
    ncsn_model_free(m);
}

/* (d) initialisation */
static void tm_check_init(void)
{
    ncsn_config c = ncsn_config_concat(1, 512, 2);
    ncsn_model *m = NULL, *m2 = NULL, *m3 = NULL;
    ncsn_rng r1, r2;
    int t, l;
    c.hidden[1] = 512;
    if (ncsn_model_create(&m, &c) != NCSN_OK || ncsn_model_create(&m2, &c) != NCSN_OK || ncsn_model_create(&m3, &c) != NCSN_OK) {
        CHECK(0, "init: create: %s", ncsn_last_error());
        goto out;
    }
    ncsn_rng_seed(&r1, 1234, 5);
    CHECK(ncsn_model_init(m, &r1) == NCSN_OK, "init: %s", ncsn_last_error());
    /* every tensor within +-1/sqrt(fan_in) (fan_in = in of its layer) */
    for (l = 0; l < m->n_layers; l++) {
        const ncsn_layer *L = &m->layers[l];
        double bound = 1.0 / sqrt((double)L->in), mx = 0.0;
        size_t k, nw = (size_t)L->in * L->out;
        int out_of = 0;
        for (k = 0; k < nw; k++) { double v = fabs(m->params[L->w + k]); if (v > bound) out_of++; if (v > mx) mx = v; }
        for (k = 0; k < (size_t)L->out; k++) { double v = fabs(m->params[L->b + k]); if (v > bound) out_of++; }
        CHECK(out_of == 0, "init: layer %d: %d values outside +-%g", l, out_of, bound);
        if (nw > 10000) CHECK(mx > 0.999 * bound, "init: layer %d: max |w| = %g, want close to the bound %g", l, mx, bound);
    }
    { /* the big 512x512 layer: mean 0, variance bound^2/3 */
        const ncsn_layer *L = &m->layers[1];
        double bound = 1.0 / sqrt(512.0), s = 0.0, s2 = 0.0, n = (double)L->in * L->out, mean, var;
        size_t k;
        for (k = 0; k < (size_t)L->in * L->out; k++) { double v = m->params[L->w + k]; s += v; s2 += v * v; }
        mean = s / n;
        var = s2 / n - mean * mean;
        CHECK(fabs(mean) < 5.0 * bound / sqrt(3.0 * n), "init: mean %g of %g weights, want 0 (+- %g)", mean, n, 5.0 * bound / sqrt(3.0 * n));
        CHECK(fabs(var / (bound * bound / 3.0) - 1.0) < 0.01, "init: variance %g, want bound^2/3 = %g", var, bound * bound / 3.0);
    }
    { /* the draw order: torch's, tensor by tensor, each row-major [out][in]: W[o][i] = -b + 2b u */
        ncsn_rng r;
        const ncsn_layer *L0 = &m->layers[0], *L1 = &m->layers[1];
        int o, i, bad = 0;
        double b0 = 1.0 / sqrt((double)L0->in), b1 = 1.0 / sqrt((double)L1->in);
        ncsn_rng_seed(&r, 1234, 5);
        for (o = 0; o < L0->out; o++)
            for (i = 0; i < L0->in; i++) {
                double want = -b0 + 2.0 * b0 * ncsn_rng_uniform(&r);
                if (fabs(m->params[L0->w + (size_t)i * L0->out + o] - want) > 1e-6 * b0) bad++;
            }
        for (o = 0; o < L0->out; o++) {
            double want = -b0 + 2.0 * b0 * ncsn_rng_uniform(&r);
            if (fabs(m->params[L0->b + o] - want) > 1e-6 * b0) bad++;
        }
        for (o = 0; o < 3; o++)   /* the first row of the next layer continues the stream */
            for (i = 0; i < L1->in; i++) {
                double want = -b1 + 2.0 * b1 * ncsn_rng_uniform(&r);
                if (fabs(m->params[L1->w + (size_t)i * L1->out + o] - want) > 1e-6 * b1) bad++;
            }
        CHECK(bad == 0, "init: %d values not drawn in torch's order (tensor by tensor, rows [out][in])", bad);
    }
    { /* EMBED: state_dict order puts sigma_embed.1, sigma_embed.3 before net.0 (seed 001's module order) */
        ncsn_config ce = ncsn_config_embed(2, 6, 5, 1);
        ncsn_model *me = NULL;
        ncsn_rng r;
        double u[2 * (6 * 6 + 6) + 1];
        int k, E = 6, bad = 0;
        if (ncsn_model_create(&me, &ce) == NCSN_OK) {
            ncsn_rng_seed(&r, 77, 2);
            ncsn_model_init(me, &r);
            ncsn_rng_seed(&r, 77, 2);
            for (k = 0; k < (int)(sizeof u / sizeof u[0]); k++) u[k] = ncsn_rng_uniform(&r);
            {
                double be = 1.0 / sqrt((double)E), b0 = 1.0 / sqrt((double)me->layers[0].in);
                /* sigma_embed.1.weight[0][1] is draw 1, sigma_embed.3.bias[5] is the last of the embedding, net.0.weight[0][0] next */
                if (fabs(me->params[me->emb[0].w + (size_t)1 * E + 0] - (-be + 2.0 * be * u[1])) > 1e-6) bad++;
                if (fabs(me->params[me->emb[0].w + (size_t)0 * E + 1] - (-be + 2.0 * be * u[E])) > 1e-6) bad++;
                if (fabs(me->params[me->emb[1].b + 5] - (-be + 2.0 * be * u[2 * (E * E + E) - 1])) > 1e-6) bad++;
                if (fabs(me->params[me->layers[0].w] - (-b0 + 2.0 * b0 * u[2 * (E * E + E)])) > 1e-6) bad++;
            }
            CHECK(bad == 0, "init (embed): %d of 4 probes not in state_dict draw order", bad);
        } else CHECK(0, "create: %s", ncsn_last_error());
        ncsn_model_free(me);
        CHECK(ncsn_model_init(m, NULL) == NCSN_ERR_ARG && ncsn_model_init(NULL, &r1) == NCSN_ERR_ARG, "init with NULL arguments");
    }
    /* same seed: same bits; different seed: different */
    ncsn_rng_seed(&r2, 1234, 5);
    ncsn_model_init(m2, &r2);
    CHECK(memcmp(m->params, m2->params, m->n_params * sizeof(float)) == 0, "init: same seed gave different parameters");
    ncsn_rng_seed(&r2, 1235, 5);
    ncsn_model_init(m3, &r2);
    {
        size_t k, same = 0;
        for (k = 0; k < m->n_params; k++) same += m->params[k] == m3->params[k];
        CHECK(same < m->n_params / 100, "init: a different seed left %lu of %lu parameters equal", (unsigned long)same,
              (unsigned long)m->n_params);
    }
    ncsn_model_free(m); ncsn_model_free(m2); ncsn_model_free(m3);
    m = m2 = m3 = NULL;
    /* zero_init_output zeroes exactly the last layer (both conditionings); the stream is consumed alike */
    for (t = 0; t < 2; t++) {
        ncsn_config a = t ? ncsn_config_embed(2, 8, 7, 3) : ncsn_config_concat(2, 7, 3), z = a;
        const ncsn_layer *last;
        size_t k, nz_last = 0, diff_other = 0;
        uint32_t next1, next2;
        a.zero_init_output = 0;
        z.zero_init_output = 1;
        if (ncsn_model_create(&m, &a) != NCSN_OK || ncsn_model_create(&m2, &z) != NCSN_OK) { CHECK(0, "create: %s", ncsn_last_error()); break; }
        ncsn_rng_seed(&r1, 99, 1); ncsn_model_init(m, &r1); next1 = ncsn_rng_u32(&r1);
        ncsn_rng_seed(&r2, 99, 1); ncsn_model_init(m2, &r2); next2 = ncsn_rng_u32(&r2);
        last = &m->layers[m->n_layers - 1];
        for (k = 0; k < m->n_params; k++) {
            int in_last = (k >= last->w && k < last->w + (size_t)last->in * last->out) || (k >= last->b && k < last->b + (size_t)last->out);
            if (in_last) { if (m2->params[k] != 0.0f) nz_last++; }
            else if (t_f2u(m2->params[k]) != t_f2u(m->params[k])) diff_other++;
        }
        CHECK(nz_last == 0, "zero_init_output (%s): %lu nonzero values in the last layer", t ? "embed" : "concat", (unsigned long)nz_last);
        CHECK(diff_other == 0, "zero_init_output (%s): %lu values outside the last layer changed", t ? "embed" : "concat", (unsigned long)diff_other);
        {
            size_t nz = 0;
            for (k = 0; k < (size_t)last->in * last->out; k++) nz += m->params[last->w + k] != 0.0f;
            CHECK(nz == (size_t)last->in * last->out, "zero_init_output = 0 (%s): last layer has zeros", t ? "embed" : "concat");
        }
        CHECK(next1 == next2, "zero_init_output (%s): consumed a different number of random numbers", t ? "embed" : "concat");
        /* the defaults: seed 001's network zero-initialises the output layer, seed 000's does not */
        CHECK(ncsn_config_embed(2, 8, 7, 3).zero_init_output == 1 && ncsn_config_concat(2, 7, 3).zero_init_output == 0,
              "config defaults: zero_init_output embed 1, concat 0");
        ncsn_model_free(m); ncsn_model_free(m2);
        m = m2 = NULL;
    }
out:
    ncsn_model_free(m); ncsn_model_free(m2); ncsn_model_free(m3);
}

/* the message names the parameter and its value: "<name> = <value>" (or "<name>: <value>", "<name>=<value>") */
static int tm_names(const char *msg, const char *name, const char *value)
{
    const char *p = msg;
    size_t ln = strlen(name), lv = strlen(value);
    while ((p = strstr(p, name)) != NULL) {
        const char *q = p + ln;
        int before_ok = p == msg || !((p[-1] >= 'a' && p[-1] <= 'z') || p[-1] == '_');
        while (*q == ' ' || *q == '=' || *q == ':') q++;
        if (before_ok && q > p + ln && strncmp(q, value, lv) == 0 && !(q[lv] >= '0' && q[lv] <= '9')) return 1;
        p += ln;
    }
    return 0;
}

/* (e) bad configurations */
static void tm_check_config_errors(void)
{
    struct { const char *name, *value; ncsn_config c; } cases[16];
    int n = 0, i;
    ncsn_config base = ncsn_config_embed(2, 8, 6, 2);
#define TM_CASE(nm, val, stmt) do { cases[n].name = nm; cases[n].value = val; cases[n].c = base; { ncsn_config *c = &cases[n].c; stmt; } n++; } while (0)
    TM_CASE("dim", "0", c->dim = 0);
    TM_CASE("dim", "-3", c->dim = -3);
    TM_CASE("n_hidden", "0", c->n_hidden = 0);
    TM_CASE("n_hidden", "17", c->n_hidden = NCSN_MAX_HIDDEN + 1);
    TM_CASE("n_hidden", "-1", c->n_hidden = -1);
    TM_CASE("embed_dim", "7", c->embed_dim = 7);
    TM_CASE("embed_dim", "2", c->embed_dim = 2);
    TM_CASE("embed_dim", "0", c->embed_dim = 0);
    TM_CASE("act", "7", c->act = (ncsn_act)7);
    TM_CASE("cond", "5", c->cond = (ncsn_cond)5);
    TM_CASE("hidden[1]", "0", c->hidden[1] = 0);
    TM_CASE("scale_by_sigma", "2", c->scale_by_sigma = 2);
    TM_CASE("zero_init_output", "-1", c->zero_init_output = -1);
    TM_CASE("sigma_input", "2", c->sigma_input = (ncsn_sigma_input)2);
#undef TM_CASE
    for (i = 0; i < n; i++) {
        ncsn_model *m = (ncsn_model *)&cases[i];  /* must be overwritten with NULL */
        ncsn_status s1 = ncsn_config_check(&cases[i].c), s2;
        char msg[256];
        snprintf(msg, sizeof msg, "%s", ncsn_last_error());
        CHECK(s1 == NCSN_ERR_ARG, "config_check(%s = %s) returned %d", cases[i].name, cases[i].value, (int)s1);
        CHECK(tm_names(msg, cases[i].name, cases[i].value), "config_check(%s = %s): message '%s' does not name it",
              cases[i].name, cases[i].value, msg);
        s2 = ncsn_model_create(&m, &cases[i].c);
        CHECK(s2 == NCSN_ERR_ARG && m == NULL, "model_create(%s = %s) returned %d, model %p", cases[i].name, cases[i].value,
              (int)s2, (void *)m);
        CHECK(tm_names(ncsn_last_error(), cases[i].name, cases[i].value), "model_create(%s = %s): message '%s'",
              cases[i].name, cases[i].value, ncsn_last_error());
    }
    CHECK(ncsn_config_check(NULL) == NCSN_ERR_ARG && ncsn_last_error()[0], "config_check(NULL)");
    { /* the limits themselves are valid */
        ncsn_config c = ncsn_config_embed(1, 4, 1, NCSN_MAX_HIDDEN);
        ncsn_model *m = NULL;
        CHECK(ncsn_config_check(&c) == NCSN_OK, "n_hidden = %d, embed_dim = 4 rejected: %s", NCSN_MAX_HIDDEN, ncsn_last_error());
        CHECK(ncsn_model_create(&m, &c) == NCSN_OK && m && m->n_layers == NCSN_MAX_HIDDEN + 1 && m->n_tensors == 2 * NCSN_MAX_HIDDEN + 6,
              "create at the limits: %s", ncsn_last_error());
        ncsn_model_free(m);
    }
}

/* (f) backward before forward; score = forward with a constant sigma column; argument errors */
static void tm_check_misc(void)
{
    int t;
    for (t = 0; t < 2; t++) {
        ncsn_config c = t ? ncsn_config_embed(3, 6, 8, 2) : ncsn_config_concat(3, 8, 2);
        ncsn_model *m = NULL;
        ncsn_rng r;
        float x[9 * 3], o1[9 * 3], o2[9 * 3], sg[9], dx[3];
        int i;
        c.scale_by_sigma = t;
        if (ncsn_model_create(&m, &c) != NCSN_OK) { CHECK(0, "create: %s", ncsn_last_error()); continue; }
        ncsn_rng_seed(&r, 3, 3);
        ncsn_model_init(m, &r);
        for (i = 0; i < 27; i++) x[i] = tm_sym(2.0);
        CHECK(ncsn_model_backward(m, dx, x) != NCSN_OK && ncsn_last_error()[0], "backward before any forward returned OK");
        for (i = 0; i < 9; i++) sg[i] = 0.3f;
        CHECK(ncsn_model_score(m, o1, x, 0.3f, 9) == NCSN_OK, "score: %s", ncsn_last_error());
        CHECK(ncsn_model_forward(m, o2, x, sg, 9) == NCSN_OK, "forward: %s", ncsn_last_error());
        CHECK(memcmp(o1, o2, sizeof o1) == 0, "ncsn_model_score differs from forward with a constant sigma column (%s)", t ? "embed" : "concat");
        CHECK(ncsn_model_score(m, o1, x, 0.3f, 0) != NCSN_OK, "score with n = 0 returned OK");
        CHECK(ncsn_model_forward(m, o2, x, sg, 0) == NCSN_ERR_ARG, "forward with B = 0 returned OK");
        CHECK(ncsn_model_forward(m, o2, NULL, sg, 2) == NCSN_ERR_ARG, "forward with x = NULL returned OK");
        CHECK(ncsn_model_backward(m, dx, NULL) == NCSN_ERR_ARG, "backward with dout = NULL returned OK");
        if (t) {
            sg[4] = 0.0f;
            CHECK(ncsn_model_forward(m, o2, x, sg, 9) == NCSN_ERR_ARG && tm_names(ncsn_last_error(), "sigma[4]", "0"),
                  "scale_by_sigma with sigma[4] = 0: '%s'", ncsn_last_error());
        } else {   /* ln sigma needs sigma > 0 even without the output scaling */
            ncsn_model *ml = NULL;
            c.sigma_input = NCSN_SIGMA_LOG;
            sg[2] = -0.5f;
            CHECK(ncsn_model_create(&ml, &c) == NCSN_OK && ncsn_model_forward(ml, o2, x, sg, 9) == NCSN_ERR_ARG &&
                  tm_names(ncsn_last_error(), "sigma[2]", "-0.5") && strstr(ncsn_last_error(), "sigma_input = log"),
                  "sigma_input = log with sigma[2] = -0.5: '%s'", ncsn_last_error());
            ncsn_model_free(ml);
        }
        /* tensor names: PyTorch's state_dict */
        CHECK(ncsn_model_tensor(m, "net.0.weight") && ncsn_model_tensor(m, "net.4.bias") && !ncsn_model_tensor(m, "net.6.weight") &&
              (t ? ncsn_model_tensor(m, "sigma_embed.3.weight") != NULL : ncsn_model_tensor(m, "sigma_embed.1.weight") == NULL),
              "tensor names (%s)", t ? "embed" : "concat");
        ncsn_model_free(m);
    }
}

/* (g) this build's kernels against the scalar copy (tests/scalar_copy.c): forward, dx and every
   gradient bit for bit, for each conditioning and input, at widths that leave vector tails and a
   batch over one summation block */
static void tm_check_scalar(void)
{
    enum { B = 70, D = 3 };
    static float x[B * D], R[B * D], sigma[B], out[B * D], dx[B * D], out_s[B * D], dx_s[B * D], g_s[20000];
    static const float pool[4] = { 0.01f, 0.37f, 2.5f, 11.0f };
    int lg, cond, scale, b;
    for (b = 0; b < B * D; b++) { x[b] = tm_sym(3.0); R[b] = tm_sym(1.0); }
    for (b = 0; b < B; b++) sigma[b] = pool[(b * 7) % 4];
    for (lg = 0; lg < 2; lg++)
        for (cond = 0; cond < 2; cond++)
            for (scale = 0; scale < 2; scale++) {
                ncsn_config c = cond ? ncsn_config_embed(D, 12, 37, 3) : ncsn_config_concat(D, 37, 3);
                ncsn_model *m = NULL;
                ncsn_rng rng;
                char nm[96];
                c.hidden[1] = 19;
                c.hidden[2] = 24;
                c.zero_init_output = 0;
                c.scale_by_sigma = scale;
                c.sigma_input = lg ? NCSN_SIGMA_LOG : NCSN_SIGMA_RAW;
                tm_name(&c, nm, sizeof nm);
                if (!scalar_model_run(&c, 31, x, sigma, R, B, out_s, dx_s, g_s, sizeof g_s / sizeof g_s[0]) ||
                    ncsn_model_create(&m, &c) != NCSN_OK) {
                    CHECK(0, "%s: scalar copy or create failed: %s", nm, ncsn_last_error());
                    ncsn_model_free(m);
                    continue;
                }
                ncsn_rng_seed(&rng, 31, 9);
                ncsn_model_init(m, &rng);
                CHECK(ncsn_model_forward(m, out, x, sigma, B) == NCSN_OK && ncsn_model_backward(m, dx, R) == NCSN_OK,
                      "%s: %s", nm, ncsn_last_error());
                CHECK(memcmp(out, out_s, sizeof out) == 0, "%s: forward (%s) differs from the scalar kernels", nm, ncsn_simd_name());
                CHECK(memcmp(dx, dx_s, sizeof dx) == 0, "%s: dx (%s) differs from the scalar kernels", nm, ncsn_simd_name());
                CHECK(memcmp(m->grads, g_s, m->n_params * sizeof(float)) == 0, "%s: gradients (%s) differ from the scalar kernels", nm,
                      ncsn_simd_name());
                ncsn_model_free(m);
            }
    CHECK(strcmp(scalar_copy_kernels(), "scalar") == 0, "the scalar copy runs '%s' kernels", scalar_copy_kernels());
}

/* (h) the recommended configuration, and the seeds' forms left as they were */
static void tm_check_default(void)
{
    static const int dims[6] = { 2, 4, 5, 16, 17, 64 }, widths[6] = { 128, 128, 256, 256, 512, 512 };
    int i, l;
    for (i = 0; i < 6; i++) {
        ncsn_config c = ncsn_config_default(dims[i]);
        ncsn_model *m = NULL;
        int same_width = 1;
        for (l = 0; l < c.n_hidden; l++) same_width &= c.hidden[l] == widths[i];
        CHECK(ncsn_config_check(&c) == NCSN_OK && c.dim == dims[i] && c.cond == NCSN_COND_CONCAT && c.sigma_input == NCSN_SIGMA_LOG &&
                  c.scale_by_sigma == 1 && c.zero_init_output == 1 && c.act == NCSN_ACT_SILU && c.n_hidden == 3 && same_width,
              "ncsn_config_default(%d): cond %d, sigma_input %d, scale %d, zero_init %d, %d hidden of %d", dims[i], (int)c.cond,
              (int)c.sigma_input, c.scale_by_sigma, c.zero_init_output, c.n_hidden, c.hidden[0]);
        CHECK(ncsn_model_create(&m, &c) == NCSN_OK && m->n_params == (size_t)(dims[i] + 2) * widths[i] + 2 * (size_t)(widths[i] + 1) * widths[i] +
                                                                      (size_t)(widths[i] + 1) * dims[i],
              "ncsn_config_default(%d): model of %lu parameters: %s", dims[i], m ? (unsigned long)m->n_params : 0ul, ncsn_last_error());
        ncsn_model_free(m);
    }
    {
        ncsn_config bad = ncsn_config_default(0);
        CHECK(ncsn_config_check(&bad) == NCSN_ERR_ARG && tm_names(ncsn_last_error(), "dim", "0"), "ncsn_config_default(0) must not pass the check");
    }
    CHECK(ncsn_config_concat(2, 128, 3).sigma_input == NCSN_SIGMA_RAW && ncsn_config_embed(2, 64, 128, 3).sigma_input == NCSN_SIGMA_RAW &&
              ncsn_config_concat(2, 128, 3).scale_by_sigma == 0 && ncsn_config_embed(2, 64, 128, 3).scale_by_sigma == 0,
          "the seeds' configurations condition on raw sigma without output scaling");
}

#if !defined(NCSN_NO_THREADS) && !defined(_WIN32)
/* The header's THREAD SAFETY note: different models on different threads at once. Each job trains
   its own model 5 steps (DSM, backward, Adam) and samples with it; run on two threads at the same
   time, both must give the bits of the same jobs run one after the other (hidden shared state,
   a workspace or a pool shared between models, would mix them). */
typedef struct tm_job { ncsn_model *m; ncsn_rng rng; float out[32 * 2]; ncsn_status st; } tm_job;

static void *tm_job_run(void *p)
{
    tm_job *j = (tm_job *)p;
    float data[64 * 2], sig[4], loss = 0.0f;
    ncsn_dsm_batch bt;
    ncsn_adam opt;
    ncsn_sampler_opts so = ncsn_sampler_defaults();
    int s;
    memset(&bt, 0, sizeof bt);
    memset(&opt, 0, sizeof opt);
    ncsn_data_two_gaussians(&j->rng, data, 64);
    j->st = ncsn_schedule(sig, 4, 5.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC);
    if (j->st == NCSN_OK) j->st = ncsn_dsm_batch_alloc(&bt, 64, 2);
    if (j->st == NCSN_OK) j->st = ncsn_adam_create(&opt, j->m->n_params, 1e-3f);
    for (s = 0; s < 5 && j->st == NCSN_OK; s++) {
        ncsn_model_zero_grad(j->m);
        j->st = ncsn_dsm_loss(j->m, &bt, data, 64, sig, 4, NCSN_WEIGHT_SIGMA2, &j->rng, &loss);
        if (j->st == NCSN_OK) j->st = ncsn_model_adam_step(j->m, &opt);
    }
    so.steps_per_level = 5;
    so.eps = 1e-3f;
    if (j->st == NCSN_OK) j->st = ncsn_sample_annealed(ncsn_model_score, j->m, 2, sig, 4, &so, &j->rng, j->out, 32);
    ncsn_dsm_batch_free(&bt);
    ncsn_adam_free(&opt);
    return NULL;
}

static int tm_jobs(tm_job *j, int together)
{
    ncsn_config c[2];
    pthread_t th;
    int i, ok = 1;
    c[0] = ncsn_config_concat(2, 32, 2);
    c[1] = ncsn_config_embed(2, 8, 32, 2);
    for (i = 0; i < 2; i++) {
        memset(&j[i], 0, sizeof j[i]);
        ncsn_rng_seed(&j[i].rng, 7 + (uint64_t)i, 3);
        ok &= ncsn_model_create(&j[i].m, &c[i]) == NCSN_OK && ncsn_model_init(j[i].m, &j[i].rng) == NCSN_OK;
    }
    if (!ok) return 0;
    if (together && pthread_create(&th, NULL, tm_job_run, &j[1]) == 0) {
        tm_job_run(&j[0]);
        pthread_join(th, NULL);
    } else {
        tm_job_run(&j[0]);
        tm_job_run(&j[1]);
    }
    return 1;
}

static void tm_check_two_threads(void)
{
    tm_job seq[2], par[2];
    int i, ok;
    memset(seq, 0, sizeof seq);
    memset(par, 0, sizeof par);
    ok = tm_jobs(seq, 0) && tm_jobs(par, 1);
    CHECK(ok, "two threads: models not created: %s", ncsn_last_error());
    for (i = 0; ok && i < 2; i++) {
        CHECK(seq[i].st == NCSN_OK && par[i].st == NCSN_OK, "two threads: job %d failed", i);
        CHECK(memcmp(seq[i].out, par[i].out, sizeof seq[i].out) == 0 &&
                  memcmp(seq[i].m->params, par[i].m->params, seq[i].m->n_params * sizeof(float)) == 0,
              "two models trained and sampled on two threads at once differ from the same jobs run in turn (job %d)", i);
    }
    for (i = 0; i < 2; i++) { ncsn_model_free(seq[i].m); ncsn_model_free(par[i].m); }
}
#else
static void tm_check_two_threads(void) {}
#endif

void test_model(void)
{
    int cond, act, scale, depth, k = 0, reps, lg;
    tm_state = 0x243f6a8885a308d3ULL;
    tm_max_rel = tm_max_fwd_rel = 0.0;
    for (reps = 0; reps < (t_quick ? 1 : 2); reps++)
        for (lg = 0; lg < 2; lg++)
            for (cond = 0; cond < 2; cond++)
                for (act = 0; act < 2; act++)
                    for (scale = 0; scale < 2; scale++)
                        for (depth = 1; depth <= 3; depth++, k++) {
                            ncsn_config c = tm_cfg(cond, act, scale, depth, 1 + k % 3, k, lg);
                            tm_check_config(&c, 100 + k);
                            if (reps == 0) tm_check_batch(&c, 200 + k);
                        }
    tm_check_init();
    tm_check_config_errors();
    tm_check_misc();
    tm_check_scalar();
    tm_check_default();
    tm_check_two_threads();
    printf("  model: max relative error: forward %.2g, gradients %.2g\n", tm_max_fwd_rel, tm_max_rel);
}
