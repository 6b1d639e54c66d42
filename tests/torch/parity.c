/* parity.c - the ncsn.h side of the PyTorch parity tests (driven by tests/torch/parity.py).

   Every input and output is a file: models are safetensors (PyTorch's state_dict names and
   [out][in] layout); everything else is raw little-endian float32 ("f32") or int32 ("i32") with
   no header, sizes given on the command line. Gradients are written as a safetensors file with
   the model's tensor names (ncsn_model_save of a model whose parameters are the gradients), so
   Python compares them tensor by tensor with param.grad.

   Modes (D, the data dimension, comes from the model file):
     info
         prints the kernels this build runs.
     forward MODEL B X SIGMA DOUT  OUT_SCORE OUT_DX OUT_GRADS
         X f32[B*D], SIGMA f32[B], DOUT f32[B*D]; scores = s(X, SIGMA); zero grads; backward
         with DOUT; writes scores f32[B*D], dx f32[B*D], grads (safetensors).
     loss MODEL B L SIGMAS X LEVELS EPS WEIGHT  OUT_LOSS OUT_PRED OUT_GRADS
         SIGMAS f32[L], X f32[B*D], LEVELS i32[B], EPS f32[B*D], WEIGHT one|sigma2|inv_sigma2;
         ncsn_dsm_loss with levels_given/eps_given and backward; writes loss f32[1], the
         predicted scores f32[B*D] and the gradients (safetensors).
     train MODEL B L SIGMAS X LEVELS EPS WEIGHT STEPS LR  OUT_LOSSES OUT_MODEL
         X f32[(STEPS+1)*B*D], LEVELS i32[(STEPS+1)*B], EPS f32[(STEPS+1)*B*D] (one batch and
         one draw of levels and noise per step); STEPS times: zero grads, ncsn_dsm_loss with
         backward, ncsn_adam_step(lr = LR); then one more loss evaluation on batch STEPS without
         an update. Writes the STEPS+1 losses f32 and the trained model (ncsn_model_save).
     init COND SEED ZERO_OUT B X SIGMA  OUT_MODEL OUT_SCORE
         COND concat (seed 000: dim 2, width 128, depth 3) or embed (seed 001: dim 2, embed 64,
         width 128, depth 3); ncsn_model_init from PCG32 (SEED, 54); ZERO_OUT 0|1 overrides
         zero_init_output. Saves the model and writes the in-memory model's scores on X, SIGMA.
     embed MODEL S SIGMA  OUT_FREQ OUT_E0 OUT_E2
         diagnostics for the embedding: S distinct sigmas f32[S]; writes the sinusoid
         frequencies f32[E/2], the sinusoidal features f32[S*E] and the embedding MLP output
         f32[S*E] of the forward pass (read from the model's private workspace).
     resave MODEL OUT_MODEL
         ncsn_checkpoint_load then ncsn_checkpoint_save of the network and its noise levels (if
         any): what ncsn.h reads from a file and writes back (tests/torch/roundtrip.py).
   Exit status 0 on success; otherwise a message on stderr and status 1. */
#define NCSN_IMPLEMENTATION
#include "ncsn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "parity: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

static int check(ncsn_status st, const char *what)
{
    if (st == NCSN_OK) return 0;
    fprintf(stderr, "parity: %s failed: %s (%s)\n", what, ncsn_status_string(st), ncsn_last_error());
    return 1;
}

/* whole file of exactly n 4-byte little-endian words, or NULL (message printed) */
static unsigned char *read_words(const char *path, size_t n)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf;
    long sz;
    if (!fp) { fprintf(stderr, "parity: cannot open %s\n", path); return NULL; }
    if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        fprintf(stderr, "parity: cannot size %s\n", path);
        return NULL;
    }
    if ((size_t)sz != 4 * n) {
        fclose(fp);
        fprintf(stderr, "parity: %s has %ld bytes, expected %lu (%lu words)\n", path, sz,
                (unsigned long)(4 * n), (unsigned long)n);
        return NULL;
    }
    buf = (unsigned char *)malloc(4 * n + 1);
    if (!buf || fread(buf, 1, 4 * n, fp) != 4 * n) {
        free(buf);
        fclose(fp);
        fprintf(stderr, "parity: read of %s failed\n", path);
        return NULL;
    }
    fclose(fp);
    return buf;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static float *read_f32(const char *path, size_t n)
{
    unsigned char *buf = read_words(path, n);
    float *out;
    size_t i;
    if (!buf) return NULL;
    out = (float *)malloc((n ? n : 1) * sizeof(float));
    if (out)
        for (i = 0; i < n; i++) {
            uint32_t u = le32(buf + 4 * i);
            memcpy(&out[i], &u, 4);
        }
    free(buf);
    return out;
}

static int *read_i32(const char *path, size_t n)
{
    unsigned char *buf = read_words(path, n);
    int *out;
    size_t i;
    if (!buf) return NULL;
    out = (int *)malloc((n ? n : 1) * sizeof(int));
    if (out)
        for (i = 0; i < n; i++) out[i] = (int)(int32_t)le32(buf + 4 * i);
    free(buf);
    return out;
}

static int write_f32(const char *path, const float *x, size_t n)
{
    FILE *fp = fopen(path, "wb");
    size_t i;
    int ok = fp != NULL;
    for (i = 0; ok && i < n; i++) {
        uint32_t u;
        unsigned char b[4];
        memcpy(&u, &x[i], 4);
        b[0] = (unsigned char)u; b[1] = (unsigned char)(u >> 8); b[2] = (unsigned char)(u >> 16); b[3] = (unsigned char)(u >> 24);
        ok = fwrite(b, 1, 4, fp) == 4;
    }
    if (fp && fclose(fp) != 0) ok = 0;
    if (!ok) fprintf(stderr, "parity: write of %s failed\n", path);
    return ok ? 0 : 1;
}

/* the gradients as a safetensors file: a model whose parameters are m's gradients */
static int write_grads(const ncsn_model *m, const char *path)
{
    ncsn_model *g;
    int rc;
    if (check(ncsn_model_create(&g, &m->cfg), "ncsn_model_create (gradient file)")) return 1;
    memcpy(g->params, m->grads, m->n_params * sizeof(float));
    rc = check(ncsn_model_save(g, path), "ncsn_model_save (gradients)");
    ncsn_model_free(g);
    return rc;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int parse_weight(const char *s, ncsn_weighting *w)
{
    if (strcmp(s, "one") == 0) *w = NCSN_WEIGHT_ONE;
    else if (strcmp(s, "sigma2") == 0) *w = NCSN_WEIGHT_SIGMA2;
    else if (strcmp(s, "inv_sigma2") == 0) *w = NCSN_WEIGHT_INV_SIGMA2;
    else return 0;
    return 1;
}

static int mode_forward(char **a)
{
    ncsn_model *m = NULL;
    long B;
    float *x = NULL, *sig = NULL, *dout = NULL, *out = NULL, *dx = NULL;
    size_t n;
    int rc = 1;
    if (!parse_int(a[1], 1, 1 << 24, &B)) return fail("forward: bad B", a[1]);
    if (check(ncsn_model_load(&m, a[0]), "ncsn_model_load")) return 1;
    n = (size_t)B * (size_t)m->cfg.dim;
    x = read_f32(a[2], n);
    sig = read_f32(a[3], (size_t)B);
    dout = read_f32(a[4], n);
    out = (float *)malloc(n * sizeof(float));
    dx = (float *)malloc(n * sizeof(float));
    if (!x || !sig || !dout || !out || !dx) goto done;
    if (check(ncsn_model_forward(m, out, x, sig, (int)B), "ncsn_model_forward")) goto done;
    ncsn_model_zero_grad(m);
    if (check(ncsn_model_backward(m, dx, dout), "ncsn_model_backward")) goto done;
    if (write_f32(a[5], out, n) || write_f32(a[6], dx, n) || write_grads(m, a[7])) goto done;
    rc = 0;
done:
    free(x); free(sig); free(dout); free(out); free(dx);
    ncsn_model_free(m);
    return rc;
}

static int mode_loss(char **a)
{
    ncsn_model *m = NULL;
    ncsn_dsm_batch bt;
    ncsn_dsm_opts given;
    ncsn_weighting w;
    long B, L;
    float *sigmas = NULL, *x = NULL, *eps = NULL, loss = 0.0f;
    int *lv = NULL, rc = 1, have_bt = 0;
    size_t n;
    if (!parse_int(a[1], 1, 1 << 24, &B) || !parse_int(a[2], 1, 1 << 20, &L)) return fail("loss: bad B or L", NULL);
    if (!parse_weight(a[7], &w)) return fail("loss: weighting must be one, sigma2 or inv_sigma2", a[7]);
    if (check(ncsn_model_load(&m, a[0]), "ncsn_model_load")) return 1;
    n = (size_t)B * (size_t)m->cfg.dim;
    sigmas = read_f32(a[3], (size_t)L);
    x = read_f32(a[4], n);
    lv = read_i32(a[5], (size_t)B);
    eps = read_f32(a[6], n);
    if (!sigmas || !x || !lv || !eps) goto done;
    if (check(ncsn_dsm_batch_alloc(&bt, (int)B, m->cfg.dim), "ncsn_dsm_batch_alloc")) goto done;
    have_bt = 1;
    ncsn_model_zero_grad(m);
    given.levels = lv;
    given.eps = eps;
    given.loss_only = 0;
    if (check(ncsn_dsm_loss_ex(m, &bt, x, (int)B, sigmas, (int)L, w, NULL, &given, &loss), "ncsn_dsm_loss_ex")) goto done;
    if (write_f32(a[8], &loss, 1) || write_f32(a[9], bt.pred, n) || write_grads(m, a[10])) goto done;
    rc = 0;
done:
    if (have_bt) ncsn_dsm_batch_free(&bt);
    free(sigmas); free(x); free(lv); free(eps);
    ncsn_model_free(m);
    return rc;
}

static int mode_train(char **a)
{
    ncsn_model *m = NULL;
    ncsn_dsm_batch bt;
    ncsn_dsm_opts given;
    ncsn_adam opt;
    ncsn_weighting w;
    long B, L, steps, s;
    double lr;
    char *end;
    float *sigmas = NULL, *x = NULL, *eps = NULL, *losses = NULL;
    int *lv = NULL, rc = 1, have_bt = 0, have_opt = 0;
    size_t n;
    if (!parse_int(a[1], 1, 1 << 24, &B) || !parse_int(a[2], 1, 1 << 20, &L) || !parse_int(a[8], 0, 100000, &steps))
        return fail("train: bad B, L or STEPS", NULL);
    if (!parse_weight(a[7], &w)) return fail("train: weighting must be one, sigma2 or inv_sigma2", a[7]);
    lr = strtod(a[9], &end);
    if (!*a[9] || *end || !(lr > 0.0)) return fail("train: bad LR", a[9]);
    if (check(ncsn_model_load(&m, a[0]), "ncsn_model_load")) return 1;
    n = (size_t)B * (size_t)m->cfg.dim;
    sigmas = read_f32(a[3], (size_t)L);
    x = read_f32(a[4], (size_t)(steps + 1) * n);
    lv = read_i32(a[5], (size_t)(steps + 1) * (size_t)B);
    eps = read_f32(a[6], (size_t)(steps + 1) * n);
    losses = (float *)malloc((size_t)(steps + 1) * sizeof(float));
    if (!sigmas || !x || !lv || !eps || !losses) goto done;
    if (check(ncsn_dsm_batch_alloc(&bt, (int)B, m->cfg.dim), "ncsn_dsm_batch_alloc")) goto done;
    have_bt = 1;
    if (check(ncsn_adam_create(&opt, m->n_params, (float)lr), "ncsn_adam_create")) goto done;
    have_opt = 1;
    for (s = 0; s <= steps; s++) {
        int update = s < steps;
        ncsn_model_zero_grad(m);
        given.levels = lv + (size_t)s * (size_t)B;
        given.eps = eps + (size_t)s * n;
        given.loss_only = !update;
        if (check(ncsn_dsm_loss_ex(m, &bt, x + (size_t)s * n, (int)B, sigmas, (int)L, w, NULL, &given, &losses[s]), "ncsn_dsm_loss_ex"))
            goto done;
        if (update && check(ncsn_adam_step(&opt, m->params, m->grads), "ncsn_adam_step")) goto done;
    }
    if (write_f32(a[10], losses, (size_t)(steps + 1))) goto done;
    if (check(ncsn_model_save(m, a[11]), "ncsn_model_save")) goto done;
    rc = 0;
done:
    if (have_bt) ncsn_dsm_batch_free(&bt);
    if (have_opt) ncsn_adam_free(&opt);
    free(sigmas); free(x); free(lv); free(eps); free(losses);
    ncsn_model_free(m);
    return rc;
}

static int mode_init(char **a)
{
    ncsn_model *m = NULL;
    ncsn_config cfg;
    ncsn_rng rng;
    long seed, zero, B;
    float *x = NULL, *sig = NULL, *out = NULL;
    size_t n;
    int rc = 1;
    if (strcmp(a[0], "concat") == 0) cfg = ncsn_config_concat(2, 128, 3);
    else if (strcmp(a[0], "embed") == 0) cfg = ncsn_config_embed(2, 64, 128, 3);
    else return fail("init: COND must be concat or embed", a[0]);
    if (!parse_int(a[1], 0, 2147483647L, &seed) || !parse_int(a[2], 0, 1, &zero) || !parse_int(a[3], 1, 1 << 24, &B))
        return fail("init: bad SEED, ZERO_OUT or B", NULL);
    cfg.zero_init_output = (int)zero;
    if (check(ncsn_model_create(&m, &cfg), "ncsn_model_create")) return 1;
    ncsn_rng_seed(&rng, (uint64_t)seed, 54);
    if (check(ncsn_model_init(m, &rng), "ncsn_model_init")) goto done;
    n = (size_t)B * (size_t)cfg.dim;
    x = read_f32(a[4], n);
    sig = read_f32(a[5], (size_t)B);
    out = (float *)malloc(n * sizeof(float));
    if (!x || !sig || !out) goto done;
    if (check(ncsn_model_save(m, a[6]), "ncsn_model_save")) goto done;
    if (check(ncsn_model_forward(m, out, x, sig, (int)B), "ncsn_model_forward")) goto done;
    if (write_f32(a[7], out, n)) goto done;
    rc = 0;
done:
    free(x); free(sig); free(out);
    ncsn_model_free(m);
    return rc;
}

static int mode_embed(char **a)
{
    ncsn_model *m = NULL;
    const ncsn__workspace *p;
    long S;
    float *sig = NULL, *x = NULL, *out = NULL;
    int rc = 1, E;
    if (!parse_int(a[1], 1, 1 << 20, &S)) return fail("embed: bad S", a[1]);
    if (check(ncsn_model_load(&m, a[0]), "ncsn_model_load")) return 1;
    if (m->cfg.cond != NCSN_COND_EMBED) { ncsn_model_free(m); return fail("embed: the model has no sigma embedding", a[0]); }
    E = m->cfg.embed_dim;
    sig = read_f32(a[2], (size_t)S);
    x = (float *)calloc((size_t)S * (size_t)m->cfg.dim, sizeof(float));
    out = (float *)malloc((size_t)S * (size_t)m->cfg.dim * sizeof(float));
    if (!sig || !x || !out) goto done;
    if (check(ncsn_model_forward(m, out, x, sig, (int)S), "ncsn_model_forward")) goto done;
    p = m->work;
    if (p->n_slots != (int)S) { fail("embed: the sigmas must be distinct", NULL); goto done; }
    if (write_f32(a[3], p->freq, (size_t)(E / 2)) || write_f32(a[4], p->e_sin, (size_t)S * E) ||
        write_f32(a[5], p->e_out, (size_t)S * E))
        goto done;
    rc = 0;
done:
    free(sig); free(x); free(out);
    ncsn_model_free(m);
    return rc;
}

static int mode_resave(char **a)
{
    ncsn_model *m = NULL;
    float *sigmas = (float *)malloc(NCSN_MAX_LEVELS * sizeof(float));
    int L = 0, rc;
    if (!sigmas) return fail("resave", "out of memory");
    rc = check(ncsn_checkpoint_load(&m, a[0], NULL, NULL, sigmas, NCSN_MAX_LEVELS, &L, NULL), "ncsn_checkpoint_load") ||
         check(ncsn_checkpoint_save(m, a[1], NULL, NULL, L ? sigmas : NULL, L, 0, NULL), "ncsn_checkpoint_save");
    ncsn_model_free(m);
    free(sigmas);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct { const char *name; int nargs; int (*fn)(char **); } modes[] = {
        { "forward", 8, mode_forward }, { "loss", 11, mode_loss }, { "train", 12, mode_train },
        { "init", 8, mode_init }, { "embed", 6, mode_embed }, { "resave", 2, mode_resave }
    };
    size_t i;
    if (argc == 2 && strcmp(argv[1], "info") == 0) {
        printf("ncsn.h %s, kernels: %s\n", NCSN_VERSION_STRING, ncsn_simd_name());
        return 0;
    }
    for (i = 0; argc >= 2 && i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(argv[1], modes[i].name) == 0) {
            if (argc - 2 != modes[i].nargs) {
                fprintf(stderr, "parity: mode %s takes %d arguments, got %d (see the comment at the top of parity.c)\n",
                        modes[i].name, modes[i].nargs, argc - 2);
                return 2;
            }
            return modes[i].fn(argv + 2);
        }
    fprintf(stderr, "usage: parity info | forward | loss | train | init | embed | resave ... (see tests/torch/parity.c)\n");
    return 2;
}
