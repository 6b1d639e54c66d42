/* bench_dnnl.cpp - the oneDNN side of `make bench`: a second anchor beside PyTorch, the same
   networks run by oneDNN's primitives (bench/run.py runs it next to bench.c and bench_torch.py).

   usage:
     bench_dnnl W1|W3..W10 [--threads N] [--reps 5] [--rep-time 0.15] [--models DIR]
     bench_dnnl check [--models DIR]    one step of each kind against ncsn.h on the same weights

   What runs on oneDNN (f32, plain nc activations):
     training (W1, W5): the concat network's forward as inner product (with bias) + eltwise swish
       (alpha 1: SiLU) per hidden layer, the sigma^2 DSM loss and its gradient in a loop, backward
       by inner_product_backward_weights (dW and db), inner_product_backward_data (dX) and
       eltwise_backward (swish), then Adam in one OpenMP loop over all parameters (PyTorch's
       formula, as ncsn.h). Forward is not fused here: swish's backward needs its input (oneDNN
       has no dst-based swish backward), and a swish post-op would not keep it. Weights stay in
       PyTorch's [out][in] layout so that Adam updates them in place.
     sampling (W3, W4, W6..W10): forward_inference inner products with a fused swish post-op,
       weights reordered once into the layout oneDNN prefers; the per-level conditioning (sigma,
       or seed 001's sigma embedding, computed by hand once per level) is folded into the first
       layer's bias, as ncsn.h does; then the Langevin update in a loop.
   The networks, data, noise and Langevin coefficients come from ncsn.h (same seeds as bench.c,
   so oneDNN runs on the same weights); only the network, loss and optimizer work is oneDNN's or
   by hand here. W2 (seed 001 training: embedding backward) is not implemented.

   Output: the JSON lines of harness.h ("side":"onednn"); `check` prints JSON lines with the
   relative differences from ncsn.h and exits 1 if one is over its tolerance. */
#define _POSIX_C_SOURCE 200809L
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "harness.h"
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#include <cmath>
#include <sys/resource.h>
#include <unordered_map>
#include <utility>
#include <vector>

using namespace dnnl;
typedef memory::format_tag tag;
typedef std::unordered_map<int, memory> args_t;
#define NL 10   /* noise levels, as bench.c */

static engine eng(engine::kind::cpu, 0);
static stream strm(eng);

static void die(const char *what)
{
    fprintf(stderr, "bench_dnnl: %s: %s\n", what, ncsn_last_error());
    exit(1);
}
#define CHECK(call, what) do { if ((call) != NCSN_OK) die(what); } while (0)

static memory::desc md(int rows, int cols, tag t)
{
    return memory::desc({rows, cols}, memory::data_type::f32, t);
}
static memory::desc md1(int n) { return memory::desc({n}, memory::data_type::f32, tag::x); }

/* ---- the primitive descriptors, in oneDNN 2.x and 3.x spelling ------------------------------- */
#if DNNL_VERSION_MAJOR >= 3
static inner_product_forward::primitive_desc ip_fwd(prop_kind pk, const memory::desc &s, const memory::desc &w,
                                                    const memory::desc &b, const memory::desc &d, const primitive_attr &a)
{ return inner_product_forward::primitive_desc(eng, pk, s, w, b, d, a); }
static inner_product_backward_data::primitive_desc ip_bwd_data(const memory::desc &ds, const memory::desc &w, const memory::desc &dd,
                                                               const inner_product_forward::primitive_desc &h)
{ return inner_product_backward_data::primitive_desc(eng, ds, w, dd, h); }
static inner_product_backward_weights::primitive_desc ip_bwd_w(const memory::desc &s, const memory::desc &dw, const memory::desc &db,
                                                               const memory::desc &dd, const inner_product_forward::primitive_desc &h)
{ return inner_product_backward_weights::primitive_desc(eng, s, dw, db, dd, h); }
static eltwise_forward::primitive_desc swish_fwd(const memory::desc &d)
{ return eltwise_forward::primitive_desc(eng, prop_kind::forward_training, algorithm::eltwise_swish, d, d, 1.0f, 0.0f); }
static eltwise_backward::primitive_desc swish_bwd(const memory::desc &d, const eltwise_forward::primitive_desc &h)
{ return eltwise_backward::primitive_desc(eng, algorithm::eltwise_swish, d, d, d, 1.0f, 0.0f, h); }
static void append_swish(post_ops &po) { po.append_eltwise(algorithm::eltwise_swish, 1.0f, 0.0f); }
#else
static inner_product_forward::primitive_desc ip_fwd(prop_kind pk, const memory::desc &s, const memory::desc &w,
                                                    const memory::desc &b, const memory::desc &d, const primitive_attr &a)
{ return inner_product_forward::primitive_desc(inner_product_forward::desc(pk, s, w, b, d), a, eng); }
static inner_product_backward_data::primitive_desc ip_bwd_data(const memory::desc &ds, const memory::desc &w, const memory::desc &dd,
                                                               const inner_product_forward::primitive_desc &h)
{ return inner_product_backward_data::primitive_desc(inner_product_backward_data::desc(ds, w, dd), eng, h); }
static inner_product_backward_weights::primitive_desc ip_bwd_w(const memory::desc &s, const memory::desc &dw, const memory::desc &db,
                                                               const memory::desc &dd, const inner_product_forward::primitive_desc &h)
{ return inner_product_backward_weights::primitive_desc(inner_product_backward_weights::desc(s, dw, db, dd), eng, h); }
static eltwise_forward::primitive_desc swish_fwd(const memory::desc &d)
{ return eltwise_forward::primitive_desc(eltwise_forward::desc(prop_kind::forward_training, algorithm::eltwise_swish, d, 1.0f, 0.0f), eng); }
static eltwise_backward::primitive_desc swish_bwd(const memory::desc &d, const eltwise_forward::primitive_desc &h)
{ return eltwise_backward::primitive_desc(eltwise_backward::desc(algorithm::eltwise_swish, d, d, 1.0f, 0.0f), eng, h); }
static void append_swish(post_ops &po) { po.append_eltwise(1.0f, algorithm::eltwise_swish, 1.0f, 0.0f); }
#endif

/* ---- the network's parameters, in PyTorch's layout ------------------------------------------- */
struct Dense { int in, out; size_t w, b; };   /* W [out][in] at w, b [out] at b */

struct Net {
    ncsn_config cfg;
    std::vector<Dense> L;              /* the main network; layer 0 reads [x, conditioning] */
    std::vector<float> p, g, m, v;     /* parameters, gradients, Adam moments */
    long step;
    Dense e1, e2;                      /* EMBED: the sigma embedding's two layers, in p too */
    std::vector<float> freq;
};

/* ncsn.h stores W as [in][out]; oneDNN's plain inner-product weights (oi) are PyTorch's [out][in] */
static void copy_transposed(float *dst_oi, const float *src_io, int in, int out)
{
    for (int o = 0; o < out; o++)
        for (int i = 0; i < in; i++) dst_oi[(size_t)o * in + i] = src_io[(size_t)i * out + o];
}

static Dense add_dense(Net &n, const ncsn_layer &l, const float *src)
{
    Dense d = { l.in, l.out, n.p.size(), n.p.size() + (size_t)l.in * l.out };
    n.p.resize(d.b + l.out);
    copy_transposed(&n.p[d.w], src + l.w, l.in, l.out);
    memcpy(&n.p[d.b], src + l.b, sizeof(float) * l.out);
    return d;
}

/* the network of m, with m's current weights (from = m->params) or gradients (from = m->grads) */
static Net net_from(const ncsn_model *m, const float *from)
{
    Net n;
    n.cfg = m->cfg;
    n.step = 0;
    if (m->cfg.act != NCSN_ACT_SILU || m->cfg.scale_by_sigma) {
        fprintf(stderr, "bench_dnnl: only SiLU networks without scale_by_sigma are implemented\n");
        exit(2);
    }
    for (int l = 0; l < m->n_layers; l++) n.L.push_back(add_dense(n, m->layers[l], from));
    if (m->cfg.cond == NCSN_COND_EMBED) {
        int half = m->cfg.embed_dim / 2;
        n.e1 = add_dense(n, m->emb[0], from);
        n.e2 = add_dense(n, m->emb[1], from);
        n.freq.resize(half);   /* seed 001: exp(-j log(10000)/(half - 1)) */
        for (int j = 0; j < half; j++) n.freq[j] = expf((float)j * (float)(-log(10000.0) / (half - 1)));
    }
    n.g.assign(n.p.size(), 0.0f);
    n.m.assign(n.p.size(), 0.0f);
    n.v.assign(n.p.size(), 0.0f);
    return n;
}

static memory wrap(const memory::desc &d, const float *ptr) { return memory(d, eng, (void *)ptr); }

/* torch.optim.Adam (lr, betas 0.9/0.999, eps 1e-8), one pass over all parameters; __restrict
   and -fno-math-errno (mk/bench.mk) let the compiler vectorise it, as ncsn.h's Adam is */
static void adam(Net &n, float lr)
{
    n.step++;
    const float step_size = (float)(lr / (1.0 - pow(0.9, (double)n.step)));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(0.999, (double)n.step));
    float *__restrict p = n.p.data(), *__restrict m = n.m.data(), *__restrict v = n.v.data();
    const float *__restrict g = n.g.data();
    const long N = (long)n.p.size();
#pragma omp parallel for schedule(static)
    for (long i = 0; i < N; i++) {
        float mi = m[i] + 0.1f * (g[i] - m[i]), vi = 0.999f * v[i] + 0.001f * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        p[i] -= step_size * mi / (sqrtf(vi) / bc2_sqrt + 1e-8f);
    }
}

/* ---- training: W1, W5 ------------------------------------------------------------------------ */
struct Train {
    Net net;
    int B, D;
    float sig[NL];
    std::vector<float> data, in0, sigma, eps, y, dy;
    std::vector<std::vector<float> > z, a, dz, da;     /* per hidden layer */
    std::vector<std::pair<primitive, args_t> > fwd, bwd;
    ncsn_rng rng;
    float loss;
};

static void train_build(Train &t)
{
    Net &n = t.net;
    const int H = (int)n.L.size() - 1, B = t.B;
    t.in0.resize((size_t)B * n.L[0].in);
    t.sigma.resize(B);
    t.eps.resize((size_t)B * t.D);
    t.y.resize((size_t)B * t.D);
    t.dy.resize((size_t)B * t.D);
    t.z.resize(H); t.a.resize(H); t.dz.resize(H); t.da.resize(H);
    for (int l = 0; l < H; l++) {
        size_t sz = (size_t)B * n.L[l].out;
        t.z[l].resize(sz); t.a[l].resize(sz); t.dz[l].resize(sz); t.da[l].resize(sz);
    }
    std::vector<inner_product_forward::primitive_desc> fpd;
    for (int l = 0; l <= H; l++) {   /* forward: z = in W^T + b (IP), a = swish(z) (eltwise) */
        const Dense &d = n.L[l];
        const float *src = l ? t.a[l - 1].data() : t.in0.data();
        float *dst = l < H ? t.z[l].data() : t.y.data();
        memory::desc smd = md(B, d.in, tag::nc), wmd = md(d.out, d.in, tag::oi), dmd = md(B, d.out, tag::nc);
        fpd.push_back(ip_fwd(prop_kind::forward_training, smd, wmd, md1(d.out), dmd, primitive_attr()));
        t.fwd.push_back(std::make_pair(primitive(inner_product_forward(fpd[l])),
            args_t{{DNNL_ARG_SRC, wrap(smd, src)}, {DNNL_ARG_WEIGHTS, wrap(wmd, &n.p[d.w])},
                   {DNNL_ARG_BIAS, wrap(md1(d.out), &n.p[d.b])}, {DNNL_ARG_DST, wrap(dmd, dst)}}));
        if (l < H)
            t.fwd.push_back(std::make_pair(primitive(eltwise_forward(swish_fwd(dmd))),
                args_t{{DNNL_ARG_SRC, wrap(dmd, t.z[l].data())}, {DNNL_ARG_DST, wrap(dmd, t.a[l].data())}}));
    }
    for (int l = H; l >= 0; l--) {   /* backward: dW, db; dX (not for the data layer); swish' */
        const Dense &d = n.L[l];
        const float *src = l ? t.a[l - 1].data() : t.in0.data();
        const float *ddst = l < H ? t.dz[l].data() : t.dy.data();
        memory::desc smd = md(B, d.in, tag::nc), wmd = md(d.out, d.in, tag::oi), dmd = md(B, d.out, tag::nc);
        t.bwd.push_back(std::make_pair(primitive(inner_product_backward_weights(ip_bwd_w(smd, wmd, md1(d.out), dmd, fpd[l]))),
            args_t{{DNNL_ARG_SRC, wrap(smd, src)}, {DNNL_ARG_DIFF_DST, wrap(dmd, ddst)},
                   {DNNL_ARG_DIFF_WEIGHTS, wrap(wmd, &n.g[d.w])}, {DNNL_ARG_DIFF_BIAS, wrap(md1(d.out), &n.g[d.b])}}));
        if (l == 0) break;
        t.bwd.push_back(std::make_pair(primitive(inner_product_backward_data(ip_bwd_data(smd, wmd, dmd, fpd[l]))),
            args_t{{DNNL_ARG_DIFF_DST, wrap(dmd, ddst)}, {DNNL_ARG_WEIGHTS, wrap(wmd, &n.p[d.w])},
                   {DNNL_ARG_DIFF_SRC, wrap(smd, t.da[l - 1].data())}}));
        memory::desc hmd = md(B, n.L[l - 1].out, tag::nc);
        eltwise_forward::primitive_desc hint = swish_fwd(hmd);
        t.bwd.push_back(std::make_pair(primitive(eltwise_backward(swish_bwd(hmd, hint))),
            args_t{{DNNL_ARG_SRC, wrap(hmd, t.z[l - 1].data())}, {DNNL_ARG_DIFF_DST, wrap(hmd, t.da[l - 1].data())},
                   {DNNL_ARG_DIFF_SRC, wrap(hmd, t.dz[l - 1].data())}}));
    }
}

static void run_all(std::vector<std::pair<primitive, args_t> > &ps)
{
    for (size_t i = 0; i < ps.size(); i++) ps[i].first.execute(strm, ps[i].second);
    strm.wait();
}

/* the DSM loss's draws as ncsn_dsm_loss makes them (levels, then B*D normals), the perturbed
   input [x + sigma eps, sigma], forward, loss and its gradient, backward (no Adam) */
static void train_loss(Train &t)
{
    const int B = t.B, D = t.D, C = D + 1;
    for (int b = 0; b < B; b++) t.sigma[b] = t.sig[ncsn_rng_bounded(&t.rng, NL)];
    ncsn_rng_normals(&t.rng, t.eps.data(), (size_t)B * D);
    for (int b = 0; b < B; b++) {
        for (int d = 0; d < D; d++)
            t.in0[(size_t)b * C + d] = t.data[(size_t)b * D + d] + t.sigma[b] * t.eps[(size_t)b * D + d];
        t.in0[(size_t)b * C + D] = t.sigma[b];
    }
    run_all(t.fwd);
    const double n = (double)B * D;
    const float inv_n = (float)(1.0 / n);
    double acc = 0.0;
    for (int b = 0; b < B; b++) {   /* lambda = sigma^2; target = -eps/sigma */
        const float sg = t.sigma[b], lam = sg * sg, g2 = 2.0f * lam * inv_n;
        for (int d = 0; d < D; d++) {
            size_t i = (size_t)b * D + d;
            float diff = t.y[i] + t.eps[i] / sg;
            acc += (double)(lam * diff * diff);
            t.dy[i] = g2 * diff;
        }
    }
    t.loss = (float)(acc / n);
    run_all(t.bwd);
}

static void train_setup(Train &t, const char *w)
{
    ncsn_model *m;
    const int wide = !strcmp(w, "W5");
    ncsn_config cfg = wide ? ncsn_config_concat(784, 1024, 2) : ncsn_config_concat(2, 128, 3);
    t.D = wide ? 784 : 2;
    t.B = wide ? 128 : 5000;
    ncsn_rng_seed(&t.rng, 2019, 7);   /* as bench.c: data, then the weights */
    CHECK(ncsn_schedule(t.sig, NL, wide ? 1.0f : 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC), "schedule");
    t.data.resize((size_t)t.B * t.D);
    if (wide)
        for (size_t i = 0; i < t.data.size(); i++) t.data[i] = ncsn_rng_uniform(&t.rng);
    else
        ncsn_data_two_gaussians(&t.rng, t.data.data(), t.B);
    CHECK(ncsn_model_create(&m, &cfg), "model_create");
    CHECK(ncsn_model_init(m, &t.rng), "model_init");
    t.net = net_from(m, m->params);
    ncsn_model_free(m);
    train_build(t);
}

/* ---- sampling: W3, W4, W6..W10 ---------------------------------------------------------------- */
struct Sample {
    Net net;
    int n, D;                       /* chains, data dimension */
    float sig[NL], eps;
    ncsn_langevin_form form;
    int seed000_loop;               /* W3: seed 000's loop, one chain of all levels per block */
    std::vector<float> x, s, z, bias0, w0x;
    std::vector<std::vector<float> > h;
    std::vector<memory> wmem;       /* weights in oneDNN's preferred layout */
    std::vector<std::pair<primitive, args_t> > fwd;
    ncsn_rng rng;
    int nonfinite;
};

/* the forward pass on x (n x D): layer 0 takes the data columns of W0 and the folded bias */
static void sample_build(Sample &t)
{
    Net &n = t.net;
    const int H = (int)n.L.size() - 1, B = t.n, D = t.D, in0 = n.L[0].in, H0 = n.L[0].out;
    t.w0x.resize((size_t)H0 * D);
    for (int o = 0; o < H0; o++) memcpy(&t.w0x[(size_t)o * D], &n.p[n.L[0].w + (size_t)o * in0], sizeof(float) * D);
    t.bias0.resize(H0);
    t.h.resize(H);
    t.s.resize((size_t)B * D);
    t.z.resize((size_t)B * D);
    t.x.resize((size_t)B * D);
    for (int l = 0; l <= H; l++) {
        const int K = l ? n.L[l].in : D, O = n.L[l].out;
        const float *src = l ? t.h[l - 1].data() : t.x.data();
        if (l < H) t.h[l].resize((size_t)B * O);
        float *dst = l < H ? t.h[l].data() : t.s.data();
        memory::desc smd = md(B, K, tag::nc), dmd = md(B, O, tag::nc), plain = md(O, K, tag::oi);
        primitive_attr attr;
        if (l < H) { post_ops po; append_swish(po); attr.set_post_ops(po); }
        inner_product_forward::primitive_desc pd = ip_fwd(prop_kind::forward_inference, smd, md(O, K, tag::any), md1(O), dmd, attr);
        memory user = wrap(plain, l ? &n.p[n.L[l].w] : t.w0x.data());
        memory wm(pd.weights_desc(), eng);
        reorder(user, wm).execute(strm, user, wm);
        strm.wait();
        t.wmem.push_back(wm);
        t.fwd.push_back(std::make_pair(primitive(inner_product_forward(pd)),
            args_t{{DNNL_ARG_SRC, wrap(smd, src)}, {DNNL_ARG_WEIGHTS, wm},
                   {DNNL_ARG_BIAS, wrap(md1(O), l ? &n.p[n.L[l].b] : t.bias0.data())}, {DNNL_ARG_DST, wrap(dmd, dst)}}));
    }
}

/* bias0 = b0 + W0[:, D:] c(sigma): c = sigma (concat) or seed 001's embedding of sigma */
static void fold_sigma(Sample &t, float sigma)
{
    const Net &n = t.net;
    const Dense &l0 = n.L[0];
    std::vector<float> c(1, sigma);
    if (n.cfg.cond == NCSN_COND_EMBED) {   /* Linear(SiLU(Linear([sin(sigma f), cos(sigma f)]))) */
        const int E = n.cfg.embed_dim, half = E / 2;
        std::vector<float> e0(E), e1(E);
        for (int j = 0; j < half; j++) { e0[j] = sinf(sigma * n.freq[j]); e0[half + j] = cosf(sigma * n.freq[j]); }
        c.assign(E, 0.0f);
        for (int o = 0; o < E; o++) {
            float acc = n.p[n.e1.b + o];
            for (int i = 0; i < E; i++) acc += n.p[n.e1.w + (size_t)o * E + i] * e0[i];
            e1[o] = acc / (1.0f + expf(-acc));
        }
        for (int o = 0; o < E; o++) {
            float acc = n.p[n.e2.b + o];
            for (int i = 0; i < E; i++) acc += n.p[n.e2.w + (size_t)o * E + i] * e1[i];
            c[o] = acc;
        }
    }
    for (int o = 0; o < l0.out; o++) {
        float acc = n.p[l0.b + o];
        for (size_t k = 0; k < c.size(); k++) acc += n.p[l0.w + (size_t)o * l0.in + t.D + k] * c[k];
        t.bias0[o] = acc;
    }
}

static void langevin_level(Sample &t, int level, int levels, int steps)
{
    float cs, cn;
    const size_t N = (size_t)t.n * t.D;
    CHECK(ncsn_langevin_coeffs(t.form, t.eps, t.sig[level], t.sig[levels - 1], &cs, &cn), "coeffs");
    fold_sigma(t, t.sig[level]);
    for (int s = 0; s < steps; s++) {
        run_all(t.fwd);
        ncsn_rng_normals(&t.rng, t.z.data(), N);
        for (size_t i = 0; i < N; i++) t.x[i] = fmaf(cn, t.z[i], fmaf(cs, t.s[i], t.x[i]));
    }
}

/* >= k Langevin steps, as bench.c's run_block: W3 whole chains, else whole levels */
static long sample_block(Sample &t, long k)
{
    const size_t N = (size_t)t.n * t.D;
    int levels = NL, per;
    if (t.seed000_loop) per = k >= 1000 ? 100 : (int)((k + 9) / 10);
    else if (k >= NL) per = (int)((k + NL - 1) / NL);
    else { levels = (int)k; per = 1; }
    long done = 0;
    do {
        ncsn_rng_normals(&t.rng, t.x.data(), N);
        if (!t.seed000_loop)
            for (size_t i = 0; i < N; i++) t.x[i] *= t.sig[0];   /* N(0, sigma_1^2 I) */
        for (int l = 0; l < levels; l++) langevin_level(t, l, t.seed000_loop ? NL : levels, per);
        for (size_t i = 0; i < N; i++)
            if (!std::isfinite(t.x[i])) { t.nonfinite++; break; }
        done += (long)levels * per;
    } while (done < k);
    return done;
}

static void sample_setup(Sample &t, const char *w, const char *models)
{
    static const struct { const char *w; int kind, chains; } tab[] = {   /* kind 0: seed 000, 1: seed 001, 2: wide */
        { "W3", 0, 1 }, { "W4", 1, 1000 }, { "W6", 1, 1 }, { "W7", 1, 100 }, { "W8", 1, 10000 }, { "W9", 2, 1 }, { "W10", 2, 128 }
    };
    ncsn_model *m = NULL;
    int kind = -1;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(w, tab[i].w)) { kind = tab[i].kind; t.n = tab[i].chains; }
    if (kind < 0) { fprintf(stderr, "bench_dnnl: unknown workload %s (W1, W3..W10, check)\n", w); exit(2); }
    ncsn_rng_seed(&t.rng, 2019, 7);
    t.nonfinite = 0;
    t.seed000_loop = kind == 0;
    t.form = kind == 1 ? NCSN_LANGEVIN_HALF : NCSN_LANGEVIN_SONG;
    t.eps = kind == 1 ? 1e-4f : 5e-5f;
    t.D = kind == 2 ? 784 : 2;
    CHECK(ncsn_schedule(t.sig, NL, kind == 0 ? 10.0f : kind == 1 ? 5.0f : 1.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC), "schedule");
    if (kind == 2) {   /* as bench.c: a freshly initialised wide network */
        ncsn_config cfg = ncsn_config_concat(784, 1024, 2);
        CHECK(ncsn_model_create(&m, &cfg), "model_create");
        CHECK(ncsn_model_init(m, &t.rng), "model_init");
    } else {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", models ? models : ".", kind == 0 ? "seed000.safetensors" : "seed001.safetensors");
        CHECK(ncsn_model_load(&m, path), path);
    }
    t.net = net_from(m, m->params);
    ncsn_model_free(m);
    sample_build(t);
}

/* ---- check: one step of each kind against ncsn.h on the same weights --------------------------- */
static double rel_diff(const float *a, const float *b, size_t n)   /* ||a - b|| / ||b|| */
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) { double d = (double)a[i] - b[i]; num += d * d; den += (double)b[i] * b[i]; }
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}

static int report(const char *w, const char *what, double rel, double tol, const char *extra)
{
    int ok = rel <= tol;
    printf("JSON {\"check\":\"%s\",\"what\":\"%s\",\"rel\":%.3g,\"tol\":%g,\"ok\":%s%s}\n", w, what, rel, tol, ok ? "true" : "false", extra);
    return ok;
}

/* a training step both ways from the same weights and draws: loss, every gradient tensor (worst
   relative difference), and the Adam update */
static int check_train(const char *w)
{
    Train t;
    ncsn_model *m;
    ncsn_adam opt;
    ncsn_dsm_batch bt;
    float loss;
    ncsn_rng r2;
    train_setup(t, w);
    ncsn_config cfg = t.D == 784 ? ncsn_config_concat(784, 1024, 2) : ncsn_config_concat(2, 128, 3);
    CHECK(ncsn_model_create(&m, &cfg), "model_create");
    for (size_t l = 0; l < t.net.L.size(); l++) {   /* the same weights, back to ncsn.h's layout */
        const Dense &d = t.net.L[l];
        for (int o = 0; o < d.out; o++)
            for (int i = 0; i < d.in; i++) m->params[m->layers[l].w + (size_t)i * d.out + o] = t.net.p[d.w + (size_t)o * d.in + i];
        memcpy(m->params + m->layers[l].b, &t.net.p[d.b], sizeof(float) * d.out);
    }
    CHECK(ncsn_adam_create(&opt, m->n_params, 1e-3f), "adam_create");
    CHECK(ncsn_dsm_batch_alloc(&bt, t.B, t.D), "dsm_batch_alloc");
    r2 = t.rng;
    ncsn_model_zero_grad(m);
    CHECK(ncsn_dsm_loss(m, &bt, t.data.data(), t.B, t.sig, NL, NCSN_WEIGHT_SIGMA2, &r2, &loss), "dsm_loss");
    train_loss(t);
    char values[128];
    snprintf(values, sizeof values, ",\"onednn\":%.9g,\"ncsn\":%.9g", (double)t.loss, (double)loss);
    int ok = report(w, "loss", fabs((double)t.loss - loss) / fabs((double)loss), 1e-5, values);
    Net gn = net_from(m, m->grads), before = t.net;
    double worst = 0.0;
    for (size_t l = 0; l < gn.L.size(); l++) {
        const Dense &d = gn.L[l];
        worst = fmax(worst, rel_diff(&t.net.g[d.w], &gn.p[d.w], (size_t)d.in * d.out));
        worst = fmax(worst, rel_diff(&t.net.g[d.b], &gn.p[d.b], (size_t)d.out));
    }
    ok &= report(w, "gradients (worst tensor)", worst, 1e-4, "");
    CHECK(ncsn_model_adam_step(m, &opt), "adam_step");
    adam(t.net, 1e-3f);
    Net after = net_from(m, m->params);
    std::vector<float> du(after.p.size()), dc(after.p.size());
    for (size_t i = 0; i < du.size(); i++) { du[i] = t.net.p[i] - before.p[i]; dc[i] = after.p[i] - before.p[i]; }
    /* Adam's first update is about lr sign(g): where g is ~0 the two sides may differ in sign */
    ok &= report(w, "Adam update", rel_diff(du.data(), dc.data(), du.size()), 1e-2, "");
    ncsn_dsm_batch_free(&bt);
    ncsn_adam_free(&opt);
    ncsn_model_free(m);
    return ok;
}

/* the score of n chains at one level, both ways */
static int check_score(const char *w, const char *models)
{
    Sample t;
    ncsn_model *m;
    char path[1024];
    sample_setup(t, w, models);
    if (t.D == 784) {
        ncsn_config cfg = ncsn_config_concat(784, 1024, 2);
        ncsn_rng r;
        ncsn_rng_seed(&r, 2019, 7);
        CHECK(ncsn_model_create(&m, &cfg), "model_create");
        CHECK(ncsn_model_init(m, &r), "model_init");
    } else {
        snprintf(path, sizeof path, "%s/%s", models ? models : ".", t.seed000_loop ? "seed000.safetensors" : "seed001.safetensors");
        CHECK(ncsn_model_load(&m, path), path);
    }
    std::vector<float> ref(t.s.size());
    ncsn_rng_normals(&t.rng, t.x.data(), t.x.size());
    fold_sigma(t, t.sig[3]);
    run_all(t.fwd);
    CHECK(ncsn_model_score(m, ref.data(), t.x.data(), t.sig[3], t.n), "model_score");
    ncsn_model_free(m);
    return report(w, "score", rel_diff(t.s.data(), ref.data(), ref.size()), 1e-5, "");
}

/* ---- main ------------------------------------------------------------------------------------ */
struct Ctx { Train *t; Sample *s; };
static long block_fn(void *c, long k)
{
    Ctx *x = (Ctx *)c;
    if (x->s) return sample_block(*x->s, k);
    for (long i = 0; i < k; i++) { train_loss(*x->t); adam(x->t->net, 1e-3f); }
    return k;
}
static void threads_fn(void *c, int n) { (void)c; omp_set_num_threads(n); }

int main(int argc, char **argv)
{
    bench_opts o;
    struct rusage ru;
    if (argc < 2) { fprintf(stderr, "usage: bench_dnnl W1|W3..W10|check [--threads N] [--reps N] [--rep-time S] [--models DIR] [--max-seconds S]\n"); return 2; }
    const char *w = argv[1];
    if (bench_parse(&o, argc, argv, 2)) return 2;
    if (o.nthr != 1) {   /* oneDNN's OpenMP primitives are made for the thread count they run with */
        fprintf(stderr, "bench_dnnl: one thread count per process (--threads N)\n");
        return 2;
    }
    omp_set_num_threads(o.threads[0]);
    try {
        if (!strcmp(w, "check")) {
            int ok = check_train("W1") & check_train("W5");
            const char *ws[] = { "W3", "W4", "W10" };
            for (int i = 0; i < 3; i++) ok &= check_score(ws[i], o.models);
            return ok ? 0 : 1;
        }
        Train t;
        Sample s;
        Ctx c = { NULL, NULL };
        size_t n_params;
        if (!strcmp(w, "W1") || !strcmp(w, "W5")) { train_setup(t, w); c.t = &t; n_params = t.net.p.size(); }
        else { sample_setup(s, w, o.models); c.s = &s; n_params = s.net.p.size(); o.quantum = s.seed000_loop ? 1000 : NL; }
        bench_measure("onednn", w, &o, &c, block_fn, threads_fn);
        getrusage(RUSAGE_SELF, &ru);
        printf("JSON {\"side\":\"onednn\",\"workload\":\"%s\",\"vmhwm_kb\":%ld,\"ru_maxrss_kb\":%ld,\"dnnl\":\"%d.%d.%d\",\"n_params\":%lu,\"nonfinite_chains\":%d}\n",
               w, bench_vm_hwm_kb(), (long)ru.ru_maxrss, DNNL_VERSION_MAJOR, DNNL_VERSION_MINOR, DNNL_VERSION_PATCH,
               (unsigned long)n_params, c.s ? s.nonfinite : 0);
    } catch (const dnnl::error &e) {
        fprintf(stderr, "bench_dnnl: oneDNN: %s (status %d)\n", e.what(), (int)e.status);
        return 1;
    }
    return 0;
}
