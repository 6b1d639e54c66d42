/* test_dsm.c - the DSM loss and Adam against independent double-precision computations. */
#include "test.h"
#include <stdlib.h>

/* the loss, its gradient and the noise stream, checked against a direct computation */
static void dsm_loss_checks(void)
{
    enum { B = 37, D = 3, L = 7 };
    ncsn_config cfg = ncsn_config_concat(D, 16, 2);
    ncsn_model *m = NULL;
    ncsn_dsm_batch bt;
    ncsn_rng r, copy;
    float sig[L], x[B * D], loss, pred[B * D], eps[B * D];
    int b, d, w, lv[B], counts[L] = { 0 }, i;
    ncsn_dsm_opts only_loss = { NULL, NULL, 1, 0 }, given = { NULL, NULL, 1, 0 }, given_bwd = { NULL, NULL, 0, 0 };
    ncsn_rng_seed(&r, 99, 1);
    ncsn_schedule(sig, L, 5.0f, 0.05f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_model_create(&m, &cfg);
    ncsn_model_init(m, &r);
    ncsn_rng_normals(&r, x, B * D);
    ncsn_dsm_batch_alloc(&bt, B, D);
    for (w = 0; w < 3; w++) {
        double want = 0.0;
        copy = r;
        ncsn_model_zero_grad(m);
        CHECK(ncsn_dsm_loss_ex(m, &bt, x, B, sig, L, (ncsn_weighting)w, &r, &only_loss, &loss) == NCSN_OK, "loss");
        for (i = 0; i < (int)m->n_params && m->grads[i] == 0.0f; i++) {}
        CHECK(i == (int)m->n_params, "loss_only: gradient %d = %g, want the gradients untouched", i, i < (int)m->n_params ? (double)m->grads[i] : 0.0);
        /* the draws: B levels by bounded(L), then B*D normals, in that order */
        for (b = 0; b < B; b++) lv[b] = (int)ncsn_rng_bounded(&copy, L);
        ncsn_rng_normals(&copy, eps, B * D);
        CHECK(memcmp(lv, bt.level, sizeof lv) == 0, "levels drawn in the documented order");
        CHECK(memcmp(eps, bt.eps, sizeof eps) == 0, "noise drawn in the documented order");
        CHECK(memcmp(&copy, &r, sizeof r) == 0, "rng position after one loss");
        for (b = 0; b < B; b++) {
            float s1 = bt.sigma[b];
            for (d = 0; d < D; d++) {
                float xt = x[b * D + d] + s1 * eps[b * D + d];
                CHECK(fabsf(bt.xt[b * D + d] - xt) <= 1e-6f * (1.0f + fabsf(xt)), "x~ = x + sigma eps");
            }
        }
        ncsn_model_forward(m, pred, bt.xt, bt.sigma, B);
        CHECK(memcmp(pred, bt.pred, sizeof pred) == 0, "prediction is the model's forward");
        for (b = 0; b < B; b++)
            for (d = 0; d < D; d++) {
                double s1 = bt.sigma[b], diff = (double)pred[b * D + d] + (double)eps[b * D + d] / s1;
                double lam = w == 0 ? 1.0 : w == 1 ? s1 * s1 : 1.0 / (s1 * s1);
                want += lam * diff * diff;
                CHECK(t_close(bt.dpred[b * D + d], 2.0 * lam * diff / (B * D), 1e-5), "dL/dpred[%d]", b * D + d);
            }
        want /= B * D;
        CHECK_CLOSE(loss, want, 1e-6, "DSM loss equals mean lambda (pred + eps/sigma)^2");
    }
    /* levels are uniform over 0..L-1 (chi-square, 6 degrees of freedom, p = 0.001 bound 22.46) */
    for (i = 0; i < 3000; i++) counts[ncsn_rng_bounded(&r, L)]++;
    {
        double chi = 0.0, e = 3000.0 / L;
        for (i = 0; i < L; i++) chi += (counts[i] - e) * (counts[i] - e) / e;
        CHECK(chi < 22.46, "level draws not uniform: chi^2 = %g", chi);
    }
    /* given levels and noise reproduce the same loss without an rng */
    {
        float l2;
        memcpy(lv, bt.level, sizeof lv);
        memcpy(eps, bt.eps, sizeof eps);
        given.levels = lv;
        given.eps = eps;
        CHECK(ncsn_dsm_loss_ex(m, &bt, x, B, sig, L, NCSN_WEIGHT_INV_SIGMA2, NULL, &given, &l2) == NCSN_OK, "given noise");
        CHECK(t_f2u(l2) == t_f2u(loss), "given levels/noise reproduce the loss bit for bit");
        lv[3] = L;
        CHECK(ncsn_dsm_loss_ex(m, &bt, x, B, sig, L, NCSN_WEIGHT_ONE, NULL, &given, &l2) == NCSN_ERR_ARG &&
              strstr(ncsn_last_error(), "level[3]") != NULL, "an out-of-range level is rejected: %s", ncsn_last_error());
    }
    /* backward=1 accumulates exactly the model's backward of dpred */
    {
        float *g1 = (float *)malloc(m->n_params * sizeof(float));
        ncsn_model_zero_grad(m);
        given_bwd.levels = bt.level;
        given_bwd.eps = bt.eps;
        ncsn_dsm_loss_ex(m, &bt, x, B, sig, L, NCSN_WEIGHT_SIGMA2, NULL, &given_bwd, &loss);
        memcpy(g1, m->grads, m->n_params * sizeof(float));
        ncsn_model_zero_grad(m);
        ncsn_model_forward(m, pred, bt.xt, bt.sigma, B);
        ncsn_model_backward(m, NULL, bt.dpred);
        CHECK(memcmp(g1, m->grads, m->n_params * sizeof(float)) == 0, "loss backward = model backward of dL/dpred");
        free(g1);
    }
    /* a NaN weight is reported, not propagated silently */
    m->params[5] = NAN;
    CHECK(ncsn_dsm_loss(m, &bt, x, B, sig, L, NCSN_WEIGHT_SIGMA2, &r, &loss) == NCSN_ERR_NONFINITE &&
          strstr(ncsn_last_error(), "loss"), "non-finite loss detected: %s", ncsn_last_error());
    ncsn_dsm_batch_free(&bt);
    ncsn_model_free(m);
}

/* torch.optim.Adam / AdamW, written out in double from PyTorch's documented algorithm */
static void adam_checks(void)
{
    enum { N = 257, STEPS = 25 };
    ncsn_adam opt;
    float p[N], g[N];
    double pd[N], md[N] = { 0 }, vd[N] = { 0 };
    ncsn_rng r;
    int i, t, wd;
    for (wd = 0; wd < 2; wd++) {
        double maxrel = 0.0;
        ncsn_rng_seed(&r, 5, (uint64_t)wd);
        CHECK(ncsn_adam_create(&opt, N, 3e-3f) == NCSN_OK, "adam create");
        if (wd) opt.weight_decay = 0.01f;
        ncsn_rng_normals(&r, p, N);
        for (i = 0; i < N; i++) { pd[i] = p[i]; md[i] = vd[i] = 0.0; }
        for (t = 1; t <= STEPS; t++) {
            double b1 = opt.beta1, b2 = opt.beta2, bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
            ncsn_rng_normals(&r, g, N);
            for (i = 0; i < N; i++) g[i] *= (i % 7 == 0) ? 1e-4f : 1.0f;
            CHECK(ncsn_adam_step(&opt, p, g) == NCSN_OK, "adam step");
            for (i = 0; i < N; i++) {
                if (wd) pd[i] *= 1.0 - (double)opt.lr * opt.weight_decay;
                md[i] = b1 * md[i] + (1 - b1) * g[i];
                vd[i] = b2 * vd[i] + (1 - b2) * (double)g[i] * g[i];
                pd[i] -= (double)opt.lr * (md[i] / bc1) / (sqrt(vd[i] / bc2) + (double)opt.eps);
            }
        }
        for (i = 0; i < N; i++) {
            double rel = fabs(p[i] - pd[i]) / (fabs(pd[i]) + 1e-3);
            if (rel > maxrel) maxrel = rel;
        }
        CHECK(maxrel < 2e-5, "Adam%s after %d steps: max relative difference from the double reference %g", wd ? "W" : "", STEPS, maxrel);
        CHECK(opt.step == STEPS, "step counter %ld", opt.step);
        ncsn_adam_free(&opt);
    }
    CHECK(ncsn_adam_create(&opt, N, -1.0f) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "lr") && strstr(ncsn_last_error(), "-1"),
          "negative lr rejected naming it: %s", ncsn_last_error());
    CHECK(ncsn_adam_create(&opt, N, 1e-3f) == NCSN_OK, "create");
    opt.beta2 = 1.0f;
    CHECK(ncsn_adam_step(&opt, p, g) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "beta2"), "beta2 = 1 rejected: %s", ncsn_last_error());
    opt.beta2 = 0.999f;
    {   /* a non-finite gradient is refused and nothing moves */
        float p0[N];
        long st0 = opt.step;
        memcpy(p0, p, sizeof p0);
        g[7] = NAN;
        CHECK(ncsn_adam_step(&opt, p, g) == NCSN_ERR_NONFINITE && strstr(ncsn_last_error(), "gradient[7]") &&
              memcmp(p0, p, sizeof p0) == 0 && opt.step == st0, "NaN gradient: %s", ncsn_last_error());
        g[7] = 0.0f;
    }
    opt.eps = 0.0f;
    CHECK(ncsn_adam_step(&opt, p, g) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "eps"), "eps = 0 rejected: %s", ncsn_last_error());
    ncsn_adam_free(&opt);
}

/* training lowers the loss: 300 steps on seed 000's data, loss on fixed noise before and after */
static void training_lowers_loss(void)
{
    ncsn_config cfg = ncsn_config_embed(2, 16, 32, 2);
    ncsn_model *m = NULL;
    ncsn_adam opt;
    ncsn_dsm_batch bt;
    ncsn_rng r;
    float sig[10], data[256 * 2], before, after, l;
    int lv[256], s;
    float eps[512];
    ncsn_dsm_opts fixed = { NULL, NULL, 1, 0 };   /* the same levels and noise, loss only */
    ncsn_rng_seed(&r, 1234, 0);
    ncsn_schedule(sig, 10, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_data_two_gaussians(&r, data, 256);
    ncsn_model_create(&m, &cfg);
    ncsn_model_init(m, &r);
    ncsn_adam_create(&opt, m->n_params, 2e-3f);
    ncsn_dsm_batch_alloc(&bt, 256, 2);
    for (s = 0; s < 256; s++) lv[s] = s % 10;
    ncsn_rng_normals(&r, eps, 512);
    fixed.levels = lv;
    fixed.eps = eps;
    ncsn_dsm_loss_ex(m, &bt, data, 256, sig, 10, NCSN_WEIGHT_SIGMA2, NULL, &fixed, &before);
    for (s = 0; s < (t_quick ? 60 : 300); s++) {
        ncsn_model_zero_grad(m);
        ncsn_dsm_loss(m, &bt, data, 256, sig, 10, NCSN_WEIGHT_SIGMA2, &r, &l);
        ncsn_adam_step(&opt, m->params, m->grads);
    }
    ncsn_dsm_loss_ex(m, &bt, data, 256, sig, 10, NCSN_WEIGHT_SIGMA2, NULL, &fixed, &after);
    /* quick mode (most matrix cells, make asan, make valgrind) trains 60 steps instead of 300 */
    CHECK(after < (t_quick ? 0.9f : 0.8f) * before, "training did not lower the loss: %g -> %g", (double)before, (double)after);
    ncsn_dsm_batch_free(&bt);
    ncsn_adam_free(&opt);
    ncsn_model_free(m);
}

/* 1, 2, 3 and 8 threads: the same bits after training (threads own outputs). The third model is
   wide with a short batch: its products split by columns, reach the packed kernels, and its
   transposes run on the pool. */
static void threads_same_bits(void)
{
    ncsn_config cfgs[3];
    static const int batch[3] = { 700, 700, 40 };
    int c, t, k;
    cfgs[0] = ncsn_config_concat(2, 100, 3);
    cfgs[1] = ncsn_config_embed(3, 16, 70, 2);
    cfgs[1].zero_init_output = 0;
    cfgs[2] = ncsn_config_concat(300, 520, 2);
    for (c = 0; c < 3; c++) {
        static const int counts[4] = { 1, 2, 3, 8 };
        static const char *const name[3] = { "concat", "embed", "wide" };
        int D = cfgs[c].dim, B = batch[c];
        size_t nx = (size_t)B * D;
        float *first = NULL, *out1 = NULL, sig[6], loss;
        float *data = (float *)malloc(nx * sizeof(float)), *out = (float *)malloc(nx * sizeof(float));
        if (!data || !out) { CHECK(0, "out of memory"); free(data); free(out); return; }
        ncsn_schedule(sig, 6, 4.0f, 0.05f, NCSN_SCHEDULE_GEOMETRIC);
        for (k = 0; k < 4; k++) {
            ncsn_model *m = NULL;
            ncsn_adam opt;
            ncsn_dsm_batch bt;
            ncsn_rng r;
            size_t i;
            ncsn_rng_seed(&r, 31, 4);
            for (i = 0; i < nx; i++) data[i] = ncsn_rng_normal(&r);
            if (ncsn_model_create(&m, &cfgs[c]) != NCSN_OK) { CHECK(0, "%s: create: %s", name[c], ncsn_last_error()); break; }
            ncsn_model_init(m, &r);
            CHECK(ncsn_model_set_threads(m, counts[k]) == NCSN_OK, "set_threads(%d): %s", counts[k], ncsn_last_error());
            ncsn_adam_create(&opt, m->n_params, 1e-3f);
            ncsn_dsm_batch_alloc(&bt, B, D);
            for (t = 0; t < 3; t++) {   /* a failing step would leave the initial weights, equal for every count */
                ncsn_model_zero_grad(m);
                CHECK(ncsn_dsm_loss(m, &bt, data, B, sig, 6, NCSN_WEIGHT_SIGMA2, &r, &loss) == NCSN_OK &&
                          ncsn_model_adam_step(m, &opt) == NCSN_OK,
                      "%s, %d threads, step %d: %s", name[c], counts[k], t, ncsn_last_error());
            }
            CHECK(ncsn_model_score(m, out, data, 0.3f, B) == NCSN_OK, "%s: score: %s", name[c], ncsn_last_error());
            if (!first) {
                first = (float *)malloc(m->n_params * sizeof(float));
                out1 = (float *)malloc(nx * sizeof(float));
                if (first) memcpy(first, m->params, m->n_params * sizeof(float));
                if (out1) memcpy(out1, out, nx * sizeof(float));
            } else if (first && out1) {
                CHECK(memcmp(first, m->params, m->n_params * sizeof(float)) == 0, "%s: weights with %d threads differ from 1 thread",
                      name[c], counts[k]);
                CHECK(memcmp(out1, out, nx * sizeof(float)) == 0, "%s: scores with %d threads differ", name[c], counts[k]);
            }
            ncsn_dsm_batch_free(&bt);
            ncsn_adam_free(&opt);
            ncsn_model_free(m);
        }
        free(first);
        free(out1);
        free(data);
        free(out);
    }
    {
        ncsn_model *m = NULL;
        ncsn_config cf = ncsn_config_concat(2, 8, 1);
        ncsn_model_create(&m, &cf);
        CHECK(ncsn_model_set_threads(m, 0) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "n_threads = 0"), "0 threads rejected: %s", ncsn_last_error());
        ncsn_model_free(m);
    }
}

/* The DSM noise and loss on the model's pool: every thread count gives the noise of
   ncsn_rng_normals at the same stream positions (an odd dimension: normal pairs straddle samples,
   and the parts' edges), the same perturbed input, loss, d loss/d pred and gradients, and leaves
   the rng where one thread leaves it. */
static void dsm_threads_same_bits(void)
{
    ncsn_config cfg = ncsn_config_concat(3, 40, 2);
    ncsn_model *m[3] = { NULL, NULL, NULL };
    ncsn_dsm_batch bt[3];
    ncsn_rng r, rr[3];
    enum { B = 301, D = 3 };
    static float data[B * D], eps_ref[B * D];
    float sig[5], loss[3];
    int k, nthr[3] = { 1, 2, 3 }, ok = 1;
    ncsn_rng_seed(&r, 77, 3);
    for (k = 0; k < B * D; k++) data[k] = ncsn_rng_normal(&r);
    ncsn_schedule(sig, 5, 4.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC);
    memset(bt, 0, sizeof bt);
    for (k = 0; k < 3; k++) {
        ncsn_rng init;
        ncsn_rng_seed(&init, 5, 5);
        if (ncsn_model_create(&m[k], &cfg) != NCSN_OK || ncsn_model_init(m[k], &init) != NCSN_OK ||
            ncsn_model_set_threads(m[k], nthr[k]) != NCSN_OK || ncsn_dsm_batch_alloc(&bt[k], B, D) != NCSN_OK) {
            CHECK(0, "setup: %s", ncsn_last_error());
            goto out;
        }
        ncsn_rng_seed(&rr[k], 9, 11);
        CHECK(ncsn_dsm_loss(m[k], &bt[k], data, B, sig, 5, NCSN_WEIGHT_SIGMA2, &rr[k], &loss[k]) == NCSN_OK, "dsm_loss: %s", ncsn_last_error());
    }
    {   /* the noise the one-thread code drew: after the B level draws, B x D normals in one call */
        ncsn_rng ref;
        ncsn_rng_seed(&ref, 9, 11);
        for (k = 0; k < B; k++) (void)ncsn_rng_bounded(&ref, 5u);
        ncsn_rng_normals(&ref, eps_ref, (size_t)B * D);
        CHECK(memcmp(eps_ref, bt[0].eps, sizeof eps_ref) == 0, "DSM noise on 1 thread differs from ncsn_rng_normals");
        CHECK(ref.state == rr[0].state, "DSM on 1 thread leaves the rng elsewhere than ncsn_rng_normals");
    }
    for (k = 1; k < 3; k++) {
        ok &= memcmp(bt[0].eps, bt[k].eps, sizeof(float) * B * D) == 0 && memcmp(bt[0].xt, bt[k].xt, sizeof(float) * B * D) == 0 &&
              memcmp(bt[0].dpred, bt[k].dpred, sizeof(float) * B * D) == 0 && t_f2u(loss[0]) == t_f2u(loss[k]) &&
              memcmp(m[0]->grads, m[k]->grads, m[0]->n_params * sizeof(float)) == 0 && rr[0].state == rr[k].state;
        CHECK(ok, "DSM on %d threads differs from 1 thread (noise, input, loss, gradients or the rng after)", nthr[k]);
    }
out:
    for (k = 0; k < 3; k++) { ncsn_dsm_batch_free(&bt[k]); ncsn_model_free(m[k]); }
}

/* ncsn_model_adam_step on 3 threads = ncsn_adam_step, bit for bit (Adam and AdamW); a non-finite
   gradient anywhere (vector body or scalar tail) is found at its index; a wrong-sized optimiser is refused */
static void model_adam_step_checks(void)
{
    ncsn_config cfg = ncsn_config_concat(2, 100, 2);
    ncsn_model *m = NULL;
    ncsn_adam a1, a2;
    ncsn_dsm_batch bt;
    ncsn_rng r;
    float data[64 * 2], sig[4], loss, *p2 = NULL;
    int i, wd, bad_idx[3];
    ncsn_rng_seed(&r, 5, 6);
    ncsn_data_two_gaussians(&r, data, 64);
    ncsn_schedule(sig, 4, 3.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC);
    if (ncsn_model_create(&m, &cfg) != NCSN_OK) { CHECK(0, "create: %s", ncsn_last_error()); return; }
    ncsn_model_init(m, &r);
    ncsn_model_set_threads(m, 3);
    ncsn_dsm_batch_alloc(&bt, 64, 2);
    p2 = (float *)malloc(m->n_params * sizeof(float));
    for (wd = 0; wd < 2 && p2; wd++) {
        ncsn_adam_create(&a1, m->n_params, 1e-2f);
        ncsn_adam_create(&a2, m->n_params, 1e-2f);
        a1.weight_decay = a2.weight_decay = wd ? 0.05f : 0.0f;
        for (i = 0; i < 3; i++) {
            ncsn_model_zero_grad(m);
            ncsn_dsm_loss(m, &bt, data, 64, sig, 4, NCSN_WEIGHT_SIGMA2, &r, &loss);
            memcpy(p2, m->params, m->n_params * sizeof(float));
            CHECK(ncsn_adam_step(&a2, p2, m->grads) == NCSN_OK, "adam_step: %s", ncsn_last_error());
            CHECK(ncsn_model_adam_step(m, &a1) == NCSN_OK, "model_adam_step: %s", ncsn_last_error());
            CHECK(memcmp(p2, m->params, m->n_params * sizeof(float)) == 0 && memcmp(a1.m, a2.m, m->n_params * sizeof(float)) == 0 &&
                      memcmp(a1.v, a2.v, m->n_params * sizeof(float)) == 0 && a1.step == a2.step,
                  "%s step %d: ncsn_model_adam_step on 3 threads differs from ncsn_adam_step", wd ? "AdamW" : "Adam", i);
            {   /* the same pass zeroes the gradients (+0), ready for the next backward */
                size_t k, nz = 0;
                for (k = 0; k < m->n_params; k++) nz += t_f2u(m->grads[k]) != 0u;
                CHECK(nz == 0, "%s step %d: ncsn_model_adam_step left %lu of %lu gradients nonzero", wd ? "AdamW" : "Adam", i,
                      (unsigned long)nz, (unsigned long)m->n_params);
            }
        }
        ncsn_adam_free(&a2);
        if (wd) break;
        ncsn_adam_free(&a1);
    }
    /* a non-finite gradient in the first vector chunk, the middle, and the scalar tail */
    bad_idx[0] = 3; bad_idx[1] = (int)m->n_params / 2 + 1; bad_idx[2] = (int)m->n_params - 1;
    for (i = 0; i < 3 && p2; i++) {
        char want[48];
        float keep = m->grads[bad_idx[i]];
        long st0 = a1.step;
        memcpy(p2, m->params, m->n_params * sizeof(float));
        m->grads[bad_idx[i]] = i == 1 ? -INFINITY : NAN;
        snprintf(want, sizeof want, "gradient[%d]", bad_idx[i]);
        CHECK(ncsn_model_adam_step(m, &a1) == NCSN_ERR_NONFINITE && strstr(ncsn_last_error(), want) && a1.step == st0 &&
                  memcmp(p2, m->params, m->n_params * sizeof(float)) == 0,
              "non-finite gradient at %d: %s", bad_idx[i], ncsn_last_error());
        CHECK(m->grads[bad_idx[i]] != m->grads[bad_idx[i]] || isinf(m->grads[bad_idx[i]]), "a refused step zeroed the gradients");
        m->grads[bad_idx[i]] = keep;
    }
    ncsn_adam_free(&a1);
    ncsn_adam_create(&a1, m->n_params - 1, 1e-3f);
    CHECK(ncsn_model_adam_step(m, &a1) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "opt->n"), "wrong-sized optimiser: %s", ncsn_last_error());
    CHECK(ncsn_model_adam_step(NULL, &a1) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "model = NULL"), "NULL model: %s", ncsn_last_error());
    ncsn_adam_free(&a1);
    free(p2);
    ncsn_dsm_batch_free(&bt);
    ncsn_model_free(m);
}

/* ncsn_minibatch = the partial Fisher-Yates loop written out (same draws, same rows), rows distinct,
   perm still a permutation; bad arguments named */
static void minibatch_checks(void)
{
    enum { N = 37, DIM = 3, B = 11 };
    float data[N * DIM], got[B * DIM], want[B * DIM];
    int perm[N], ref[N], i, j, step, same = 1, distinct = 1, is_perm = 1;
    ncsn_rng r1, r2;
    for (i = 0; i < N * DIM; i++) data[i] = (float)i;
    for (i = 0; i < N; i++) perm[i] = ref[i] = i;
    ncsn_rng_seed(&r1, 8, 9);
    ncsn_rng_seed(&r2, 8, 9);
    for (step = 0; step < 5; step++) {
        CHECK(ncsn_minibatch(&r1, perm, N, data, DIM, got, B) == NCSN_OK, "minibatch: %s", ncsn_last_error());
        for (i = 0; i < B; i++) {
            int k = i + (int)ncsn_rng_bounded(&r2, (uint32_t)(N - i)), t = ref[i];
            ref[i] = ref[k]; ref[k] = t;
            for (j = 0; j < DIM; j++) want[i * DIM + j] = data[ref[i] * DIM + j];
        }
        same &= memcmp(got, want, sizeof got) == 0 && memcmp(perm, ref, sizeof perm) == 0;
        for (i = 0; i < B; i++)
            for (j = 0; j < i; j++) distinct &= got[i * DIM] != got[j * DIM];
    }
    {
        int seen[N] = { 0 };
        for (i = 0; i < N; i++) is_perm &= perm[i] >= 0 && perm[i] < N && !seen[perm[i]]++;
    }
    CHECK(same, "minibatch: differs from the partial Fisher-Yates loop written out");
    CHECK(distinct, "minibatch: a row drawn twice in one batch");
    CHECK(is_perm, "minibatch: perm is no longer a permutation of 0..n-1");
    CHECK(ncsn_minibatch(&r1, perm, N, data, DIM, got, N + 1) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "B = 38"),
          "B > n rejected: %s", ncsn_last_error());
    CHECK(ncsn_minibatch(&r1, NULL, N, data, DIM, got, B) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "perm = NULL"),
          "NULL perm rejected: %s", ncsn_last_error());
    CHECK(ncsn_minibatch(&r1, perm, N, data, 0, got, B) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "dim = 0"),
          "dim = 0 rejected: %s", ncsn_last_error());
    for (i = 0; i < N; i++) perm[i] = N + i;   /* not a permutation of 0..n-1: refused before any row is read */
    CHECK(ncsn_minibatch(&r1, perm, N, data, DIM, got, B) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "is not in [0, n = 37)"),
          "out-of-range perm rejected: %s", ncsn_last_error());
}

/* A batch records its capacity: a loss over more samples than it holds, or for a model of another
   dimension, is refused before any write (each case in a child: the old code wrote past the
   buffers). The setting is kept in statics for the child. */
static ncsn_model *cap_m;
static ncsn_dsm_batch cap_bt, *cap_bp = &cap_bt;
static float cap_sig[4], cap_x[256 * 3];
static int cap_B;
static int cap_loss(void)
{
    ncsn_rng r;
    float loss;
    ncsn_rng_seed(&r, 1, 1);
    return (int)ncsn_dsm_loss(cap_m, cap_bp, cap_x, cap_B, cap_sig, 4, NCSN_WEIGHT_SIGMA2, &r, &loss);
}

static void batch_capacity_checks(void)
{
    ncsn_config c2 = ncsn_config_concat(2, 8, 1), c3 = ncsn_config_concat(3, 8, 1);
    ncsn_model *m2 = NULL, *m3 = NULL;
    ncsn_rng r;
    int rc;
    ncsn_rng_seed(&r, 5, 5);
    ncsn_schedule(cap_sig, 4, 2.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_rng_normals(&r, cap_x, 256 * 3);
    if (ncsn_model_create(&m2, &c2) != NCSN_OK || ncsn_model_create(&m3, &c3) != NCSN_OK || ncsn_dsm_batch_alloc(&cap_bt, 4, 2) != NCSN_OK) {
        CHECK(0, "batch capacity: setup: %s", ncsn_last_error());
        goto out;
    }
    ncsn_model_init(m2, &r);
    ncsn_model_init(m3, &r);
    CHECK(cap_bt.cap == 4 && cap_bt.dim == 2, "ncsn_dsm_batch_alloc(4, 2) records cap %d, dim %d", cap_bt.cap, cap_bt.dim);
    cap_m = m2;
    cap_B = 4;
    CHECK(t_in_child(cap_loss) == (int)NCSN_OK, "a loss within the batch's capacity");
    cap_B = 256;   /* 64 times the capacity */
    rc = t_in_child(cap_loss);
    CHECK(rc == (int)NCSN_ERR_ARG || rc == -2, "B = 256 with a batch of 4: %s (want NCSN_ERR_ARG)", rc == -1 ? "crashed" : "not refused");
    if (rc == (int)NCSN_ERR_ARG)   /* safe in this process only when refused */
        CHECK(cap_loss() == NCSN_ERR_ARG && strstr(ncsn_last_error(), "B = 256") && strstr(ncsn_last_error(), "4 samples"),
              "B over the capacity: message '%s'", ncsn_last_error());
    cap_m = m3;    /* a model of dimension 3 with a batch of dimension 2 (a resumed checkpoint on other data) */
    cap_B = 4;
    rc = t_in_child(cap_loss);
    CHECK(rc == (int)NCSN_ERR_ARG || rc == -2, "a dim-3 model with a dim-2 batch: %s (want NCSN_ERR_ARG)", rc == -1 ? "crashed" : "not refused");
    if (rc == (int)NCSN_ERR_ARG)
        CHECK(cap_loss() == NCSN_ERR_ARG && strstr(ncsn_last_error(), "dimension 2") && strstr(ncsn_last_error(), "dimension is 3"),
              "dimension mismatch: message '%s'", ncsn_last_error());
    {   /* a batch filled by hand without its capacity, or without a buffer, is refused, not trusted */
        ncsn_dsm_batch hand = cap_bt;
        cap_m = m2;
        cap_bp = &hand;
        hand.cap = 0;
        rc = t_in_child(cap_loss);
        CHECK(rc == (int)NCSN_ERR_ARG || rc == -2, "a batch of capacity 0: %s (want NCSN_ERR_ARG)", rc == -1 ? "crashed" : "not refused");
        hand = cap_bt;
        hand.eps = NULL;
        rc = t_in_child(cap_loss);
        CHECK(rc == (int)NCSN_ERR_ARG || rc == -2, "a batch without its eps buffer: %s (want NCSN_ERR_ARG)", rc == -1 ? "crashed" : "not refused");
        if (rc == (int)NCSN_ERR_ARG) CHECK(cap_loss() == NCSN_ERR_ARG && strstr(ncsn_last_error(), "NULL"), "no eps buffer: %s", ncsn_last_error());
        cap_bp = &cap_bt;
    }
out:
    ncsn_dsm_batch_free(&cap_bt);
    CHECK(cap_bt.cap == 0 && cap_bt.eps == NULL, "ncsn_dsm_batch_free clears the batch");
    ncsn_model_free(m2);
    ncsn_model_free(m3);
}

/* The stable target field: the target of each noised point is the score of the batch's own noised
   empirical density, computed here in double with libm's exp from the same levels and noise. */
static double stf_target(const float *x, const float *xt_b, int B, int D, double sg, int d)
{
    double qmin = HUGE_VAL, tot = 0.0, acc = 0.0, q[64];
    int j, k;
    for (j = 0; j < B; j++) {
        q[j] = 0.0;
        for (k = 0; k < D; k++) q[j] += ((double)xt_b[k] - x[j * D + k]) * ((double)xt_b[k] - x[j * D + k]);
        if (q[j] < qmin) qmin = q[j];
    }
    for (j = 0; j < B; j++) {
        double w = exp(-(q[j] - qmin) / (2.0 * sg * sg));
        tot += w;
        acc += w * ((double)x[j * D + d] - xt_b[d]);
    }
    return acc / (tot * sg * sg);
}

static void stf_against_double(ncsn_model *m, ncsn_dsm_batch *bt, const float *x, const float *sig, int L)
{
    enum { B = 9, D = 3 };
    ncsn_dsm_opts o;
    ncsn_rng r;
    float loss, plain;
    double want = 0.0;
    int b, d, w, moved = 0, bad = 0;
    for (w = 0; w < 3; w++) {
        memset(&o, 0, sizeof o);
        o.loss_only = 1;
        ncsn_rng_seed(&r, 31, 7);
        CHECK(ncsn_dsm_loss_ex(m, bt, x, B, sig, L, (ncsn_weighting)w, &r, &o, &plain) == NCSN_OK, "plain: %s", ncsn_last_error());
        o.stable_target = 1;
        ncsn_rng_seed(&r, 31, 7);
        CHECK(ncsn_dsm_loss_ex(m, bt, x, B, sig, L, (ncsn_weighting)w, &r, &o, &loss) == NCSN_OK, "stable target: %s", ncsn_last_error());
        want = 0.0;
        for (b = 0; b < B; b++)
            for (d = 0; d < D; d++) {
                double sg = bt->sigma[b], lam = w == 0 ? 1.0 : w == 1 ? sg * sg : 1.0 / (sg * sg);
                double tgt = stf_target(x, bt->xt + b * D, B, D, sg, d), diff = (double)bt->pred[b * D + d] - tgt;
                want += lam * diff * diff;
                bad += !t_close(bt->dpred[b * D + d], 2.0 * lam * diff / (B * D), 2e-5);
                moved += fabs(tgt + (double)bt->eps[b * D + d] / sg) > 1e-3 * (1.0 + fabs(tgt));
            }
        want /= B * D;
        CHECK_CLOSE(loss, want, 2e-5, "stable-target loss against double");
        CHECK(bad == 0, "weighting %d: %d gradients dL/dpred differ from double", w, bad);
        CHECK(moved > B, "weighting %d: the stable target moved only %d of %d targets", w, moved, B * D);
        CHECK(t_f2u(loss) != t_f2u(plain), "weighting %d: the stable-target loss equals the plain one", w);
    }
    o.stable_target = 2;
    CHECK(ncsn_dsm_loss_ex(m, bt, x, B, sig, L, NCSN_WEIGHT_ONE, &r, &o, &loss) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "stable_target = 2"),
          "stable_target 2 refused by name: %s", ncsn_last_error());
}

/* precond trains F toward (x - c_skip x~)/c_out: with the stable target the clean point is the
   batch's weighted mean, so the loss is the plain one on those means with the same x~ */
static void stf_precond(ncsn_model *m, ncsn_dsm_batch *bt, const float *x, const float *sig, int L)
{
    enum { B = 9, D = 3 };
    ncsn_dsm_opts o;
    ncsn_rng r;
    float loss, plain, xm[B * D], eps[B * D];
    int lv[B], b, d;
    memset(&o, 0, sizeof o);
    o.loss_only = o.stable_target = 1;
    ncsn_rng_seed(&r, 31, 7);
    CHECK(ncsn_dsm_loss_ex(m, bt, x, B, sig, L, NCSN_WEIGHT_ONE, &r, &o, &loss) == NCSN_OK, "precond stf: %s", ncsn_last_error());
    for (b = 0; b < B; b++) {
        double sg = bt->sigma[b];
        lv[b] = bt->level[b];
        for (d = 0; d < D; d++) {   /* the mean m = x~ + sigma^2 target; the noise that gives the same x~ from it */
            double xt = bt->xt[b * D + d], mean = xt + sg * sg * stf_target(x, bt->xt + b * D, B, D, sg, d);
            xm[b * D + d] = (float)mean;
            eps[b * D + d] = (float)((xt - (double)xm[b * D + d]) / sg);
        }
    }
    o.stable_target = 0;
    o.levels = lv;
    o.eps = eps;
    CHECK(ncsn_dsm_loss_ex(m, bt, xm, B, sig, L, NCSN_WEIGHT_ONE, NULL, &o, &plain) == NCSN_OK, "precond plain: %s", ncsn_last_error());
    CHECK_CLOSE(loss, plain, 1e-4, "precond: the stable target's loss = the plain loss on the weighted means");
}

/* one point: its own weight is the only one, so the target is the plain one, bit for bit (loss,
   d loss/d pred, gradients), with the plain and the preconditioned output */
static void stf_one_point(ncsn_model *m, ncsn_dsm_batch *bt, const float *x, const float *sig, int L)
{
    ncsn_dsm_opts o;
    ncsn_rng r;
    float loss[2], dp[2][3], *g[2];
    int k;
    g[0] = (float *)malloc(m->n_params * sizeof(float));
    g[1] = (float *)malloc(m->n_params * sizeof(float));
    for (k = 0; k < 2; k++) {
        memset(&o, 0, sizeof o);
        o.stable_target = k;
        ncsn_rng_seed(&r, 4, 4);
        ncsn_model_zero_grad(m);
        CHECK(ncsn_dsm_loss_ex(m, bt, x, 1, sig, L, NCSN_WEIGHT_SIGMA2, &r, &o, &loss[k]) == NCSN_OK, "one point: %s", ncsn_last_error());
        memcpy(dp[k], bt->dpred, sizeof dp[k]);
        memcpy(g[k], m->grads, m->n_params * sizeof(float));
    }
    CHECK(t_f2u(loss[0]) == t_f2u(loss[1]) && memcmp(dp[0], dp[1], sizeof dp[0]) == 0 && memcmp(g[0], g[1], m->n_params * sizeof(float)) == 0,
          "one point (precond %d): the stable target's loss %.9g or gradients differ from the plain %.9g", m->cfg.precond, (double)loss[1], (double)loss[0]);
    ncsn_model_zero_grad(m);
    free(g[0]);
    free(g[1]);
}

/* the same bits on 1, 2 and 3 threads */
static void stf_threads(const float *data, int B, int D, const float *sig, int L)
{
    ncsn_config cfg = ncsn_config_concat(D, 40, 2);
    ncsn_model *m[3] = { NULL, NULL, NULL };
    ncsn_dsm_batch bt[3];
    ncsn_dsm_opts o;
    ncsn_rng r;
    float loss[3];
    int k, ok = 1;
    memset(bt, 0, sizeof bt);
    memset(&o, 0, sizeof o);
    o.stable_target = 1;
    for (k = 0; k < 3; k++) {
        ncsn_rng init;
        ncsn_rng_seed(&init, 5, 5);
        ncsn_rng_seed(&r, 9, 11);
        if (ncsn_model_create(&m[k], &cfg) != NCSN_OK || ncsn_model_init(m[k], &init) != NCSN_OK ||
            ncsn_model_set_threads(m[k], k + 1) != NCSN_OK || ncsn_dsm_batch_alloc(&bt[k], B, D) != NCSN_OK) {
            CHECK(0, "setup: %s", ncsn_last_error());
            goto out;
        }
        CHECK(ncsn_dsm_loss_ex(m[k], &bt[k], data, B, sig, L, NCSN_WEIGHT_SIGMA2, &r, &o, &loss[k]) == NCSN_OK, "stf: %s", ncsn_last_error());
    }
    for (k = 1; k < 3; k++)
        ok &= memcmp(bt[0].dpred, bt[k].dpred, sizeof(float) * (size_t)B * D) == 0 && t_f2u(loss[0]) == t_f2u(loss[k]) &&
              memcmp(m[0]->grads, m[k]->grads, m[0]->n_params * sizeof(float)) == 0;
    CHECK(ok, "the stable target on 2 or 3 threads differs from 1 thread");
    /* one model whose pool grows between calls: its scratch must grow with it */
    for (k = 2; k <= 4; k += 2) {
        ncsn_rng_seed(&r, 9, 11);
        CHECK(ncsn_model_set_threads(m[0], k) == NCSN_OK && ncsn_dsm_loss_ex(m[0], &bt[1], data, B, sig, L, NCSN_WEIGHT_SIGMA2, &r, &o, &loss[1]) == NCSN_OK &&
              memcmp(bt[0].dpred, bt[1].dpred, sizeof(float) * (size_t)B * D) == 0 && t_f2u(loss[0]) == t_f2u(loss[1]),
              "the stable target after set_threads(%d) on the same model differs from 1 thread (%s)", k, ncsn_last_error());
    }
out:
    for (k = 0; k < 3; k++) { ncsn_dsm_batch_free(&bt[k]); ncsn_model_free(m[k]); }
}

static void stable_target_checks(void)
{
    enum { B = 301, D = 3, L = 4 };
    ncsn_config cfg = ncsn_config_concat(D, 16, 2);
    ncsn_model *m = NULL;
    ncsn_dsm_batch bt;
    ncsn_rng r;
    static float x[B * D];
    float sig[L];
    int pc;
    ncsn_rng_seed(&r, 12, 1);
    ncsn_rng_normals(&r, x, (size_t)B * D);
    ncsn_schedule(sig, L, 3.0f, 0.05f, NCSN_SCHEDULE_GEOMETRIC);   /* from overlapping to separate points */
    memset(&bt, 0, sizeof bt);
    for (pc = 0; pc < 2; pc++) {
        cfg.precond = pc;
        cfg.sigma_data = 1.0f;
        if (ncsn_model_create(&m, &cfg) != NCSN_OK || ncsn_model_init(m, &r) != NCSN_OK || ncsn_dsm_batch_alloc(&bt, 9, D) != NCSN_OK) {
            CHECK(0, "setup: %s", ncsn_last_error());
            break;
        }
        if (!pc) stf_against_double(m, &bt, x, sig, L);
        else stf_precond(m, &bt, x, sig, L);
        stf_one_point(m, &bt, x, sig, L);
        ncsn_dsm_batch_free(&bt);
        ncsn_model_free(m);
        m = NULL;
    }
    ncsn_model_free(m);
    stf_threads(x, B, D, sig, L);
}

void test_dsm(void)
{
    stable_target_checks();
    batch_capacity_checks();
    minibatch_checks();
    model_adam_step_checks();
    dsm_threads_same_bits();
    threads_same_bits();
    dsm_loss_checks();
    adam_checks();
    training_lowers_loss();
}
