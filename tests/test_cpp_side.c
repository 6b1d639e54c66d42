/* test_cpp_side.c - one computation compiled twice: here as C, against the C build of the library
   (tests/impl.c), and #included by test_cpp.cpp as C++, against that file's static C++ copy of the
   implementation (NCSN_STATIC). test_cpp compares the two arrays bit for bit.
   Layout of out[]: statuses first (0 = OK), then normals, uniforms, math on exact grids,
   schedules, model outputs, a DSM loss and some of its gradients. Everything past n is dropped.
   Inputs are built from exact operations only (no product meets an addition), so no compiler
   can contract them differently in the two languages.
   NOTE: test_cpp.o does not list this file as a prerequisite in the Makefile; after editing it,
   rebuild test_cpp.o (touch tests/test_cpp.cpp). */
#ifndef SIDE_VALUES_FN
#include "test.h"
#define SIDE_VALUES_FN c_side_values
#define SIDE_STORAGE
void c_side_values(float *out, int n);
#endif

typedef struct { float *out; int n, k; } side_sink;
static void side_put(side_sink *s, float v)
{
    if (s->k < s->n) s->out[s->k] = v;
    s->k++;
}
static void side_puts(side_sink *s, const float *v, int count)
{
    int i;
    for (i = 0; i < count; i++) side_put(s, v[i]);
}

SIDE_STORAGE void SIDE_VALUES_FN(float *out, int n)
{
    enum { NSTAT = 8, B = 8, D = 2, L = 10 };
    side_sink s;
    float status[NSTAT], v[64], sig[L], x[B * D], bsig[B], y[B * D];
    ncsn_rng rng;
    ncsn_model *m = NULL, *e = NULL;
    ncsn_config cc = ncsn_config_concat(D, 32, 2), ce = ncsn_config_embed(D, 16, 32, 2);
    ncsn_dsm_batch bt;
    float loss = 0.0f;
    int i, j;
    s.out = out;
    s.n = n;
    s.k = NSTAT;  /* statuses are written at the end, into the first slots */
    for (i = 0; i < NSTAT; i++) status[i] = 0.0f;

    ncsn_rng_seed(&rng, 7u, 9u);
    ncsn_rng_normals(&rng, v, 63);           /* odd: the tail normal too */
    side_puts(&s, v, 63);
    for (i = 0; i < 32; i++) side_put(&s, ncsn_rng_uniform(&rng));
    for (i = 0; i < 16; i++) side_put(&s, (float)ncsn_rng_bounded(&rng, 1000003u));

    for (j = 0; j < 64; j++) {                /* exact grids: multiples of 23/32, and of 1/4 */
        float g = (float)(j - 32) * 0.71875f, a = (float)j * 0.25f + 0.25f;
        side_put(&s, ncsn_expf(g));
        side_put(&s, ncsn_expf(g * 4.0f));
        side_put(&s, ncsn_logf(a));
        side_put(&s, ncsn_log1pf(g * 0.03125f));
        side_put(&s, ncsn_sinf(g * 64.0f));
        side_put(&s, ncsn_cosf(g * 64.0f));
        side_put(&s, ncsn_sigmoidf(g));
        side_put(&s, ncsn_siluf(g));
        side_put(&s, ncsn_softplusf(g));
        side_put(&s, (float)ncsn_exp((double)g));
        side_put(&s, (float)(ncsn_log((double)a) * 1e6));
        side_put(&s, (float)(ncsn_sinpi((double)g * 0.125) * 1e6));
        side_put(&s, (float)(ncsn_cospi((double)g * 0.125) * 1e6));
    }

    for (i = 0; i < 3; i++) {
        status[0] += (float)ncsn_schedule(sig, L, 10.0f, 0.01f, (ncsn_schedule_kind)i);
        side_puts(&s, sig, L);
    }
    ncsn_schedule(sig, L, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);

    ncsn_rng_seed(&rng, 1u, 2u);
    ncsn_rng_normals(&rng, x, B * D);
    for (i = 0; i < B; i++) bsig[i] = sig[i % 4 * 3];
    status[1] = (float)ncsn_model_create(&m, &cc);
    status[2] = (float)ncsn_model_create(&e, &ce);
    if (m && e) {
        status[3] = (float)ncsn_model_init(m, &rng);
        status[3] += (float)ncsn_model_init(e, &rng);
        status[4] = (float)ncsn_model_forward(m, y, x, bsig, B);
        side_puts(&s, y, B * D);
        status[4] += (float)ncsn_model_forward(e, y, x, bsig, B);
        side_puts(&s, y, B * D);
        status[5] = (float)ncsn_dsm_batch_alloc(&bt, B, D);
        if (status[5] == 0.0f) {
            ncsn_model_zero_grad(m);
            status[6] = (float)ncsn_dsm_loss(m, &bt, x, B, sig, L, NCSN_WEIGHT_SIGMA2, &rng, &loss);
            side_put(&s, loss);
            side_puts(&s, m->grads, 32);
            side_puts(&s, m->grads + m->n_params - 32, 32);
            ncsn_dsm_batch_free(&bt);
        }
    } else {
        status[3] = -1.0f;
    }
    ncsn_model_free(m);
    ncsn_model_free(e);
    status[7] = (float)s.k;  /* how many values there are */
    for (i = 0; i < NSTAT && i < n; i++) out[i] = status[i];
    for (i = s.k; i < n; i++) out[i] = 0.0f;
}
