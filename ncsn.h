/* ncsn.h - v0.7.0 - MIT or public domain - Noise Conditional Score Networks in one C header.

   Song & Ermon (2019): a score network s(x, sigma) trained by denoising score matching at a
   ladder of noise levels, sampled by annealed Langevin dynamics. Bit-for-bit reproducible: the
   same seed gives the same bits on every build (scalar or SIMD, gcc or clang, -O0 or -O3).

   USAGE
     In exactly one C or C++ file:
         #define NCSN_IMPLEMENTATION
         #include "ncsn.h"
     Everywhere else just #include "ncsn.h". Link with -lm (for sqrtf/fmaf only).

         ncsn_model *m; ncsn_rng rng; float sig[10];
         ncsn_config cfg = ncsn_config_concat(2, 128, 3);      seed 000's ScoreNet
         ncsn_schedule(sig, 10, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
         ncsn_rng_seed(&rng, 42, 54);
         if (ncsn_model_create(&m, &cfg) != NCSN_OK) puts(ncsn_last_error());
         ncsn_model_init(m, &rng);
         ...   ncsn_dsm_loss(), ncsn_adam_step() (or ncsn_model_adam_step()), ncsn_sample_annealed()
         ncsn_model_free(m);

   THREAD SAFETY
     The library keeps no global state but the message of ncsn_last_error, which is per thread
     (with gcc, clang and MSVC; one buffer shared by all threads with other compilers), and the
     kernel path, chosen once at the first kernel call (atomically: racing threads agree) or by
     ncsn_simd_force, which must not run while another thread is inside the library; so
     different objects may be used by different threads at once. One object may not: every
     ncsn_model, ncsn_trainer, ncsn_adam, ncsn_dsm_batch, ncsn_guide (with its model) and
     ncsn_rng belongs to one thread at a time. A model is written even by calls that look
     read-only: ncsn_model_forward and ncsn_model_score keep their activations in the model's workspace for ncsn_model_backward,
     so two threads sampling from one model need a model each (ncsn_model_load it twice, or copy
     params into a second ncsn_model_create). Give every thread its own ncsn_rng (seeded, or a
     copy of one stream: with ncsn_sample_annealed_chains, threads that each have a model and a
     copy of the start rng run pieces of one sampling run and get its bits). Read-only data may be
     shared: configs, noise levels, a const ncsn_gmm, an ncsn_stdz after fitting, data arrays.
     ncsn_model_set_threads makes one model use a pool of threads inside each call; the caller
     still makes one call at a time. ncsn_selftest may run on any thread at any time.

   COMPILE-TIME OPTIONS (define before the #include that has NCSN_IMPLEMENTATION,
   unless marked "global": those must be the same wherever the header is included)
     NCSN_STATIC        global: all functions static (private copy per translation unit).
     NCSN_NO_SIMD       use the scalar kernels only (the reference; same bits as SIMD).
     NCSN_NO_DISPATCH   x86 with gcc/clang: choose the SIMD kernels from the target flags at
                        compile time, as other compilers do, instead of by the CPU at run time.
     NCSN_NO_STDIO      leave out the file functions (safetensors save/load).
     NCSN_NO_THREADS    leave out the thread pool (then no -lpthread is needed).
     NCSN_NO_FSYNC      saves are still atomic (temporary file + rename) but skip fsync.
     NCSN_BUILD_SHARED  compiling a shared library (make shared): the API functions are exported
                        (visibility default, dllexport), everything else stays hidden with
                        -fvisibility=hidden. NCSN_SHARED: a program using the DLL (dllimport).
     NCSN_MALLOC(n), NCSN_FREE(p)   allocator; define both or neither. Called only from the
                        thread that called the API (pool workers never allocate), so it
                        need not be thread-safe.
     NCSN_ASSERT(x)     internal assertions (default: assert.h).
   -ffast-math, -Ofast, -funsafe-math-optimizations and the parts of them that gcc or clang reveal
   by a macro (-fassociative-math, -freciprocal-math, -fno-signed-zeros, -ffinite-math-only) are
   refused with #error, and so is x87 excess precision (FLT_EVAL_METHOD other than 0, 16, 32);
   ncsn_selftest() catches at run time what no macro reveals.

   CONTENTS (sections in the order data flows; the same numbers in the declarations and the
   implementation, each marked "---- N. name"; 1 and 7 exist in the implementation only)
     1. platform: SIMD selection     2. status and errors          3. PCG32 random numbers
     4. deterministic math           5. noise schedules            6. kernels: the vector
        vocabulary (one table per instruction set), matrix products, activations, Adam and
        Langevin updates, the kernel path and its runtime dispatch
     7. thread pool                  8. score network (MLP)        9. DSM loss
     10. Adam                        11. training (settings, standardisation, minibatches, trainer)
     12. Langevin samplers           13. data, exact scores, metrics
     14. files: safetensors, checkpoints, CSV, the trainer's files, IDX    15. self-test

   DETERMINISM (docs/determinism.md): every output element is one fixed sequence of IEEE operations;
   SIMD lanes run that sequence for several outputs at once; every multiply-add is an explicit
   fused multiply-add and no other product is ever fused; exp/log/sin/cos are computed here,
   never by libm; noise for element i is at a fixed position of the PCG32 stream.

   REVISION HISTORY
     0.11.0 ncsn_sampler_recipe_for above 16 dimensions takes the ODE predictor where a step
            between levels is wider than the ratio its 10 steps per level were tuned at (the
            digits', technique 2's at 64 dimensions; so below 64 with technique 2's levels): there
            the chains' variance came out 1.5-2.8x the data's with the exact score of a Gaussian,
            and a 30-column table's samples 2.3x the fitted Gaussian's energy distance. Everything
            else keeps its bits (the digits' 64 dimensions included).
     0.10.0 The recipe up to 16 dimensions changed its bits (docs/api.md): ncsn_train_defaults (and
            ncsn_train_defaults_for up to 16) trains with the stable target when the data has more
            points than a batch (stable_target = NCSN_STABLE_TARGET_AUTO, new; the trainer's opts
            hold what it became), and ncsn_sampler_recipe_for up to 16 dimensions takes the ODE
            predictor. The presets, the recipe above 16 dimensions, ncsn_sampler_recipe and the
            golden files keep their bits. The stable target's shift is a kernel of every vector
            set, with the bits of 0.9.0's loop (now its reference).
     0.9.0  Every bit of 0.8.0 kept. New: the stable target field (Xu, Tong, Jaakkola 2023) as
            ncsn_dsm_opts.stable_target and ncsn_train_opts.stable_target (both at their ends; 0,
            the default, is plain DSM bit for bit): each noised point's target is the score of the
            minibatch's own noised empirical density. Trainer files hold it as the metadata key
            ncsn.train.stable_target, written only when it is on. CLI: ncsn train --stable-target.
     0.8.0  The recipe up to 16 dimensions trains 40 000 steps (was 20 000; the rate still falls to
            1/100 over them): at training seeds 42 / 43 / 44 the 8-Gaussian ring's worst per-mode
            width error went from 9.3 / 12.1 / 12.0 % to 7.9 / 10.3 / 10.7 %, the 3-D mixture's from
            8.4 / 9.9 / 8.7 % to 4.4 / 4.8 / 5.0 %, the Swiss roll's energy distance / floor from
            1.51 / 2.60 / 2.46 to 1.41 / 1.71 / 1.51 (docs/training.md). ncsn_train_defaults and the
            CLI's defaults up to 16 dimensions give other weights; above 16 dimensions, the presets,
            the golden files and every API kept their bits.
     0.7.0  Every bit of 0.6.0 kept. New: ncsn_sample_inpaint_resample and ncsn_inpaint_opts,
            inpainting with resampling (RePaint's jump back; all zero is ncsn_sample_inpaint);
            ncsn_guide and ncsn_score_guided, inpainting with reconstruction guidance (a score
            function for the inpainting samplers; weight 0 is ncsn_model_score);
            ncsn_sampler_opts.predictor (at its end; 0 is the plain sampler, bit for bit), a
            predictor step between levels (ancestral or ODE; predictor-corrector sampling).
            The command-line tool: with the recipe's smallest level, ncsn train trains a second
            time, with sigma_L from the data's nearest-neighbour spacing, when its check finds the
            samples within 0.6 of the data's own spacing (small data learned point by point;
            docs/cli.md).
     0.6.0  ncsn_siluf, and with it the network's SiLU, is -0 below x = -40 with slope 0 (was its
            exact tail, |silu| < 2^-52 there): those tiny values made the next layers' products
            subnormal, and s = net/sigma above 16 dimensions slowed down up to 6x as units
            reached them (docs/training.md). The golden files' SiLU edge values and the self-test's math
            hash moved; every weight and sample of the golden files, the recipe and the presets
            kept its bits; no API changed.
     0.5.0  The recipe above 16 dimensions changed its bits (docs/api.md): ncsn_train_defaults_for
            trains the preconditioned output (precond = 1, sigma_data from the data, NCSN_WEIGHT_ONE)
            for 20 000 steps (was s = net/sigma, NCSN_WEIGHT_SIGMA2, 5000), and
            ncsn_sampler_recipe_for takes 10 steps per level at eps = 0.1 sigma_L^2 with SONG_LM (was
            5 at 0.35 with SONG). ncsn_sampler_recipe_model (new; what ncsn sample uses) keeps 0.4.0's
            sampler for models without the preconditioned output, 0.4.0's models among them. Up to
            16 dimensions, the presets and the golden files keep 0.4.0's weights and samples (files
            name 0.5.0); no struct changed.
     0.4.0  ncsn_sampler_opts gained fine_factor and fine_sigma (at its end): F times the steps at
            1/F of the step at the levels sigma >= fine_sigma; 0 or 1 (the defaults and the
            recipe's) change nothing, so every function keeps 0.3.0's bits. Code that fills the
            struct field by field must zero them (ncsn_sampler_defaults does).
     0.3.0  The recipe's bits changed (docs/api.md): ncsn_train_defaults' learning rate falls to
            1/100 over the run at every dimension (was: above 16 only), and
            ncsn_sampler_recipe uses NCSN_LANGEVIN_SONG_LM, new: Song's step with
            Leimkuhler-Matthews noise (ncsn_sampler_recipe_for keeps SONG above 16 dimensions).
            Set lr_decay_steps = 0 and form = NCSN_LANGEVIN_SONG for 0.2.0's bits; the presets,
            the golden files and every other function keep theirs.
     0.2.0  API: ncsn_dsm_loss lost its three rarely used parameters (levels, noise, backward;
            now ncsn_dsm_loss_ex with an ncsn_dsm_opts); ncsn_checkpoint_save/_load/_load_mem
            take the model first, then the file, as ncsn_model_save/_load do; ncsn_model's
            workspace fields (cap, ws, ws_size, last_batch, priv) are private (docs/api.md).
            New: runtime kernel dispatch on x86 (ncsn_simd_force), the training layer, IDX files,
            inpainting, ncsn_read_safetensors, the Frechet distance, the preconditioned output
            (ncsn_config.precond, sigma_data; stored as precond_sigma_data), ncsn_read_text,
            ncsn_train_defaults_for and ncsn_sampler_recipe_for (the recipe above 16 dimensions).
            Changed: ncsn_model_adam_step leaves the gradients zero (ncsn_adam_step does not
            touch them); a file whose data radius (ncsn.data.radius) is 0 is refused (0.1.0
            wrote 0 for data at a single point). Same bits as 0.1.0.
     0.1.0  first release: PCG32, math, schedules, MLP score nets, DSM, Adam, ALD, safetensors.
*/
#ifndef NCSN_H
#define NCSN_H

#define NCSN_VERSION_MAJOR 0
#define NCSN_VERSION_MINOR 11
#define NCSN_VERSION_PATCH 2
#define NCSN_VERSION_STRING "0.11.2"

#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#ifdef NCSN_STATIC
#define NCSNDEF static
#elif defined(_WIN32) && defined(NCSN_BUILD_SHARED)
#define NCSNDEF extern __declspec(dllexport)
#elif defined(_WIN32) && defined(NCSN_SHARED)
#define NCSNDEF extern __declspec(dllimport)
#elif defined(NCSN_BUILD_SHARED) && (defined(__GNUC__) || defined(__clang__))
#define NCSNDEF extern __attribute__((visibility("default")))   /* the API only: build with -fvisibility=hidden */
#else
#define NCSNDEF extern
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 2. status and errors ------------------------------------------------------------------ */
typedef enum ncsn_status {
    NCSN_OK = 0,
    NCSN_ERR_ARG,          /* a parameter is invalid; the message names it and its value */
    NCSN_ERR_NOMEM,        /* an allocation failed; nothing leaked */
    NCSN_ERR_IO,           /* a file could not be opened, read or written */
    NCSN_ERR_FORMAT,       /* a file is malformed, truncated or does not match the model */
    NCSN_ERR_NONFINITE,    /* a loss, gradient or weight became NaN or infinite */
    NCSN_ERR_CALLBACK,     /* a user callback asked to stop */
    NCSN_ERR_BUILD         /* this build does not compute the reference bits (ncsn_selftest) */
} ncsn_status;

NCSNDEF const char *ncsn_status_string(ncsn_status s);
/* The message of the last failure in this thread, e.g. "ncsn_schedule: sigma_min = -1 must be > 0".
   Text it quotes from a file (names, metadata) is escaped as by ncsn_text_escape. */
NCSNDEF const char *ncsn_last_error(void);
/* s made safe to print (text read from a file may hold terminal escape sequences or forged lines):
   every byte that is not printable ASCII or part of valid, printable UTF-8 (C0/C1 controls, DEL,
   bidirectional overrides, line separators, invalid UTF-8) is written as \xHH. At most cap - 1
   bytes and a NUL (cap > 0), never cutting an escape or a character; returns the length. */
NCSNDEF size_t ncsn_text_escape(char *out, size_t cap, const char *s);

/* ---- 3. PCG32 (O'Neill's pcg32: XSH-RR 64/32, same seeding and outputs as pcg-c-basic) ---- */
typedef struct ncsn_rng { uint64_t state, inc; } ncsn_rng;

NCSNDEF void     ncsn_rng_seed(ncsn_rng *rng, uint64_t initstate, uint64_t initseq);
NCSNDEF uint32_t ncsn_rng_u32(ncsn_rng *rng);
NCSNDEF uint32_t ncsn_rng_bounded(ncsn_rng *rng, uint32_t bound); /* [0, bound), unbiased; bound > 0 */
NCSNDEF void     ncsn_rng_advance(ncsn_rng *rng, uint64_t delta);  /* skip delta outputs in O(log delta) */
/* Uniform in [0, 1): the top 24 bits of one output times 2^-24 (every float a multiple of 2^-24). */
NCSNDEF float    ncsn_rng_uniform(ncsn_rng *rng);
/* Standard normals by Box-Muller: outputs 2j and 2j+1 give normals 2j (r cos) and 2j+1 (r sin),
   with u1 = 1 - (top 24 bits)*2^-24 in (0, 1], u2 = (top 24 bits)*2^-24, r = sqrt(-2 log u1).
   n normals always consume 2*ceil(n/2) outputs. |z| <= 5.7686 (u1 >= 2^-24). out holds n floats. */
NCSNDEF void     ncsn_rng_normals(ncsn_rng *rng, float *out, size_t n);
NCSNDEF float    ncsn_rng_normal(ncsn_rng *rng);  /* one normal; consumes 2 outputs */

/* ---- 4. deterministic math (no libm transcendental; bounds in docs/accuracy.md) ------------- */
NCSNDEF float  ncsn_expf(float x);
NCSNDEF float  ncsn_logf(float x);
NCSNDEF float  ncsn_log1pf(float x);
NCSNDEF float  ncsn_sinf(float x);     /* accurate for |x| <= 2^17, deterministic everywhere */
NCSNDEF float  ncsn_cosf(float x);
NCSNDEF float  ncsn_sigmoidf(float x);
NCSNDEF float  ncsn_siluf(float x);     /* x * sigmoid(x), -0 below -40: the network's SiLU, bit for bit */
NCSNDEF float  ncsn_softplusf(float x); /* log of (1 + e^x), no overflow */
NCSNDEF double ncsn_exp(double x);     /* double versions, used for the schedules */
NCSNDEF double ncsn_log(double x);
NCSNDEF double ncsn_sinpi(double x);   /* sin of pi x, exact argument reduction */
NCSNDEF double ncsn_cospi(double x);

/* ---- 5. noise schedules: sigma[0] = sigma_max > ... > sigma[L-1] = sigma_min ------------------
   GEOMETRIC: sigma_i = sigma_max (sigma_min/sigma_max)^(i/(L-1)), computed in double as
              sigma_max * e^((i/(L-1)) ln(sigma_min/sigma_max)) and rounded once to float;
              the two ends are exactly sigma_max and sigma_min.
   LINEAR:    sigma_i = sigma_max + (i/(L-1)) (sigma_min - sigma_max).
   COSINE:    sigma_i = sigma_min + (sigma_max - sigma_min) (1 + cos pi i/(L-1))/2.
   sigmas holds L floats; sigma_min must be a normal float (a checkpoint could not hold less). */
typedef enum ncsn_schedule_kind {
    NCSN_SCHEDULE_GEOMETRIC = 0, NCSN_SCHEDULE_LINEAR = 1, NCSN_SCHEDULE_COSINE = 2
} ncsn_schedule_kind;
NCSNDEF ncsn_status ncsn_schedule(float *sigmas, int L, float sigma_max, float sigma_min,
                                  ncsn_schedule_kind kind);

/* ---- 6. kernels (the implementation also holds 1. platform and 7. thread pool) ---------------- */
/* Which kernels this build runs: "avx512", "avx2+fma", "sse2 (emulated fma)", "neon" or "scalar".
   With gcc or clang on x86 the header compiles the SSE2, AVX2+FMA and AVX-512 kernels whatever the
   flags and runs the widest this CPU supports (checked once, at the first kernel call); elsewhere
   the compiler's target flags choose. Every path gives the same bits. */
NCSNDEF const char *ncsn_simd_name(void);
/* Run the kernels of one path from now on: "scalar", "sse2", "avx2", "avx512", "neon" (or the
   names above); NULL, "" or "auto": the widest again. NCSN_ERR_ARG if this build does not have the
   path or this CPU (or its OS) cannot run it; nothing changes then. For tests and comparisons: call
   it while no other thread is inside the library. The library reads no environment variable; the
   test runner and the ncsn command pass NCSN_SIMD to it. */
NCSNDEF ncsn_status ncsn_simd_force(const char *path);

/* ---- 8. score network s(x, sigma): an MLP --------------------------------------------------
   CONCAT (seed 000's ScoreNet):  net([x, c]),  net = Linear-act-...-Linear.
   EMBED  (seed 001's NCSNScoreNetwork): e = Linear-SiLU-Linear(sinusoid(c)),  net([x, e]),
          sinusoid(c) = (sine of c f_j ..., cosine of c f_j ...), f_j geometric over j = 0..E/2-1.
   The conditioning input c is sigma itself (NCSN_SIGMA_RAW, the seeds) or ln sigma
   (NCSN_SIGMA_LOG, computed with ncsn_logf; sigma gets no gradient either way). Raw sigma in
   [0.01, 13] leaves the small levels a sliver of the input range: with s = net/sigma the net
   cannot tell 0.01 from 0.022 and its score is 86-265 % wrong there; ln sigma spaces geometric
   levels evenly, so the small levels, which carry little DSM signal, learn from their neighbours
   (docs/conditioning.md). Frequencies: RAW f_j = 10000^(-j/(E/2-1)) (seed 001); LOG
   f_j = 16^(-j/(E/2-1)) / 4, from 1/4 down to 1/64: smooth over the whole range of ln sigma
   (higher frequencies isolate the levels and leave the small ones unlearned).
   ncsn_config_default: ln sigma concatenated, s = net/sigma, the best form measured.
   Optional output scaling s = net(...)/sigma. Weights are stored [in][out] (each input row
   contiguous over outputs); safetensors files use PyTorch's [out][in]. First-layer order of
   accumulation, fixed for every build: bias, then the conditioning rows, then the data rows. */
#define NCSN_MAX_HIDDEN 16
#define NCSN_MAX_TENSORS (2 * NCSN_MAX_HIDDEN + 8)

typedef enum ncsn_cond { NCSN_COND_CONCAT = 0, NCSN_COND_EMBED = 1 } ncsn_cond;
typedef enum ncsn_sigma_input { NCSN_SIGMA_RAW = 0, NCSN_SIGMA_LOG = 1 } ncsn_sigma_input;
typedef enum ncsn_act  { NCSN_ACT_SILU = 0, NCSN_ACT_SOFTPLUS = 1 } ncsn_act;

typedef struct ncsn_config {
    int dim;                        /* data dimension D (>= 1) */
    int n_hidden;                   /* hidden layers (>= 1) */
    int hidden[NCSN_MAX_HIDDEN];    /* their widths */
    ncsn_cond cond;
    ncsn_sigma_input sigma_input;   /* what the conditioning sees: sigma (seeds) or ln sigma */
    int embed_dim;                  /* EMBED: sinusoidal embedding size (even, >= 4) */
    ncsn_act act;
    int scale_by_sigma;             /* 1: s = net/sigma */
    int zero_init_output;           /* 1: last layer weights and bias start at 0 (seed 001) */
    /* 1: the preconditioned output (Karras et al. 2022, "EDM", sec. 5; needs scale_by_sigma = 0):
       the net F sees c_in x and s = (c_skip x + c_out F - x) / sigma^2, with v = sigma^2 + sd^2,
       c_in = 1/sqrt(v), c_skip = sd^2/v, c_out = sigma sd/sqrt(v), sd = sigma_data. The identity part
       of the score is exact, so F only predicts the clean data: at 784-D s = net/sigma does not learn
       it and every chain diverges (docs/images.md). DSM then trains F on (x - c_skip x~)/c_out with
       lambda(sigma) on F's error (NCSN_WEIGHT_ONE is EDM's loss). */
    int precond;
    float sigma_data;               /* precond: the data's standard deviation, in [1e-18, 1e18] (the trainer: 0 = from the data) */
} ncsn_config;

NCSNDEF ncsn_config ncsn_config_concat(int dim, int width, int depth);              /* seed 000 */
NCSNDEF ncsn_config ncsn_config_embed(int dim, int embed_dim, int width, int depth); /* seed 001 */
/* The recommended network for training on data of dimension dim (docs/conditioning.md):
   ln sigma concatenated to x, s = net/sigma, SiLU, 3 hidden layers of 128 up to 4 dimensions,
   256 up to 16, 512 above (measured to 64: widths 64-512 in docs/conditioning.md), the output
   layer zero-initialised. */
NCSNDEF ncsn_config ncsn_config_default(int dim);

typedef struct ncsn_tensor {
    char name[32];       /* PyTorch state_dict name, e.g. "net.0.weight" */
    int rows, cols;      /* PyTorch shape: [rows, cols] for weights (out, in), [rows] (cols = 0) for biases */
    size_t offset;       /* into params / grads / Adam moments */
} ncsn_tensor;

typedef struct ncsn_layer {  /* a Linear layer: y = b + x W, W stored [in][out] */
    int in, out;
    size_t w, b;         /* offsets of W and b */
} ncsn_layer;

typedef struct ncsn_model {
    ncsn_config cfg;
    size_t n_params;
    float *params;       /* all parameters, one buffer */
    float *grads;        /* same layout; backward accumulates here */
    int n_tensors;
    ncsn_tensor tensors[NCSN_MAX_TENSORS];
    int n_layers;        /* main net: n_hidden + 1 */
    ncsn_layer layers[NCSN_MAX_HIDDEN + 1];
    ncsn_layer emb[2];   /* EMBED only */
    struct ncsn__workspace *work;  /* private: the last forward pass's workspace, the thread pool */
} ncsn_model;

NCSNDEF ncsn_status ncsn_config_check(const ncsn_config *cfg);
NCSNDEF ncsn_status ncsn_model_create(ncsn_model **out, const ncsn_config *cfg);
NCSNDEF void        ncsn_model_free(ncsn_model *m);
/* PyTorch nn.Linear's default: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), one uniform per value,
   tensors in state_dict order, each row-major in PyTorch's [out][in] order. */
NCSNDEF ncsn_status ncsn_model_init(ncsn_model *m, ncsn_rng *rng);
NCSNDEF ncsn_status ncsn_model_reserve(ncsn_model *m, int batch); /* allocate the workspace once */
/* The bytes ncsn_model_reserve(m, batch) holds: the workspace of a forward and backward pass of batch
   samples (0 if m is NULL or batch < 1; SIZE_MAX if more than this target holds: 2^40 floats, or
   2^28 - 1 with a 32-bit size_t). Lets a caller choose a batch that fits its memory. */
NCSNDEF size_t ncsn_model_workspace_bytes(const ncsn_model *m, int batch);
/* out[B][D] = s(x[B][D], sigma[B]), D = m->cfg.dim: out and x hold B*D floats, sigma B. Keeps what
   backward needs; the workspace grows to B samples if it is smaller (ncsn_model_reserve). */
NCSNDEF ncsn_status ncsn_model_forward(ncsn_model *m, float *out, const float *x,
                                       const float *sigma, int B);
/* Given dL/dout of the last forward, ACCUMULATES dL/dparams into m->grads; dx (may be NULL)
   receives dL/dx. dout and dx hold B*D floats, B = the last forward's batch. */
NCSNDEF ncsn_status ncsn_model_backward(ncsn_model *m, float *dx, const float *dout);
NCSNDEF void        ncsn_model_zero_grad(ncsn_model *m);
NCSNDEF const ncsn_tensor *ncsn_model_tensor(const ncsn_model *m, const char *name);
/* Run this model's forward/backward on n_threads threads (1 = the caller only; needs pthreads, so
   not under NCSN_NO_THREADS). Each thread owns whole outputs, so results are the same bits for any
   n_threads. Small batches stay on the caller. */
NCSNDEF ncsn_status ncsn_model_set_threads(ncsn_model *m, int n_threads);
/* Score function signature shared by networks and exact scores: out[n][dim] at one sigma, from
   x[n][dim]; it must write exactly n*dim floats (ncsn_model_score: dim = the model's). */
typedef ncsn_status (*ncsn_score_fn)(void *user, float *out, const float *x, float sigma, int n);
NCSNDEF ncsn_status ncsn_model_score(void *model, float *out, const float *x, float sigma, int n);
struct ncsn_adam;
/* Numerical faults: the first NaN or infinity among the parameters (NCSN_CHECK_PARAMS), the
   gradients (NCSN_CHECK_GRADS) and Adam's moments (NCSN_CHECK_MOMENTS, adam non-NULL), OR-ed in
   `which`. NCSN_ERR_NONFINITE names the tensor and element, e.g. "gradient net.2.weight[1, 0] = nan"
   (PyTorch's [out, in] indices). adam is an ncsn_adam (section 10), declared here as struct ncsn_adam. */
#define NCSN_CHECK_PARAMS  1
#define NCSN_CHECK_GRADS   2
#define NCSN_CHECK_MOMENTS 4
NCSNDEF ncsn_status ncsn_model_check_finite(const ncsn_model *m, const struct ncsn_adam *adam, int which);

/* ---- 9. denoising score matching ------------------------------------------------------------
   For each sample: level ~ U{0..L-1} (ncsn_rng_bounded), then eps ~ N(0, I) (all levels first,
   then all B*D normals in order), x~ = x + sigma eps, target = -eps/sigma, and
   loss = mean over B*D of lambda(sigma) (s(x~, sigma) - target)^2 (the seeds' torch .mean()).
   A precond network (ncsn_config) is trained on its F instead: loss = mean of
   lambda(sigma) (F - (x - c_skip x~)/c_out)^2, and the batch's dpred is dL/dF. */
typedef enum ncsn_weighting {
    NCSN_WEIGHT_ONE = 0, NCSN_WEIGHT_SIGMA2 = 1, NCSN_WEIGHT_INV_SIGMA2 = 2
} ncsn_weighting;
NCSNDEF float ncsn_weight(ncsn_weighting w, float sigma);
/* lambda(sigma) * sum_d (pred_d - (-eps_d/sigma))^2 for one sample (pred, eps: D floats). */
NCSNDEF float ncsn_dsm_sample_loss(const float *pred, const float *eps, float sigma, int D,
                                   ncsn_weighting w);
/* x~ = x + sigma eps and target = -eps/sigma for one sample (either output may be NULL; all D floats). */
NCSNDEF void  ncsn_dsm_perturb(float *xt, float *target, const float *x, const float *eps,
                               float sigma, int D);
typedef struct ncsn_dsm_batch {   /* what one loss evaluation drew */
    int *level;       /* [cap] */
    float *sigma;     /* [cap] */
    float *eps;       /* [cap*dim] */
    float *xt;        /* [cap*dim] */
    float *pred;      /* [cap*dim] */
    float *dpred;     /* [cap*dim] */
    int cap, dim;     /* the capacity: up to cap samples of dimension dim (set these if you fill the buffers yourself) */
} ncsn_dsm_batch;
/* Buffers for up to B samples of dimension D (cap = B, dim = D); free with ncsn_dsm_batch_free. */
NCSNDEF ncsn_status ncsn_dsm_batch_alloc(ncsn_dsm_batch *b, int B, int D);
NCSNDEF void        ncsn_dsm_batch_free(ncsn_dsm_batch *b);
/* One training evaluation: draw levels and noise from rng, forward, *loss, then backward, which
   ACCUMULATES the gradients into m->grads (zero them first: ncsn_model_zero_grad). Buffers: x
   [B*D], sigmas [L] with D = the model's dim; bt must hold B samples of dimension D (bt->cap >= B,
   bt->dim == D: checked, NCSN_ERR_ARG otherwise). */
NCSNDEF ncsn_status ncsn_dsm_loss(ncsn_model *m, ncsn_dsm_batch *bt, const float *x, int B,
                                  const float *sigmas, int L, ncsn_weighting w, ncsn_rng *rng, float *loss);
/* What ncsn_dsm_loss_ex does differently; all zero (or opts NULL) is ncsn_dsm_loss. */
typedef struct ncsn_dsm_opts {
    const int *levels;   /* [B] the levels to use instead of drawing them (NULL: drawn) */
    const float *eps;    /* [B*D] the noise to use instead of drawing it (NULL: drawn) */
    int loss_only;       /* 1: no backward pass, the gradients untouched (e.g. a validation loss) */
    /* 1 (0.9.0): the stable target field (Xu, Tong, Jaakkola 2023, "Stable Target Field for Reduced
       Variance Score Estimation in Diffusion Models"). The target of a noised point x~ is the score of
       the batch's own noised empirical density, sum_j w_j (x_j - x~) / (sigma^2 sum_j w_j) with
       w_j = e^(-|x~ - x_j|^2 / (2 sigma^2)) (ncsn_expf) over all B points of x (the point's own among them),
       instead of -eps / sigma: the same expectation, less variance where the noised densities of
       nearby points overlap. The same x~ and draws as without it; B = 1 gives the plain target's
       bits. Costs B^2 D per batch (on the model's threads; the bits depend on no split). */
    int stable_target;
} ncsn_dsm_opts;
/* ncsn_dsm_loss with given levels or noise, or without the backward pass; rng may be NULL when
   both levels and eps are given. */
NCSNDEF ncsn_status ncsn_dsm_loss_ex(ncsn_model *m, ncsn_dsm_batch *bt, const float *x, int B,
                                     const float *sigmas, int L, ncsn_weighting w, ncsn_rng *rng,
                                     const ncsn_dsm_opts *opts, float *loss);

/* ---- 10. Adam with PyTorch's semantics (torch.optim.Adam / AdamW) -------------------------- */
typedef struct ncsn_adam {
    float lr, beta1, beta2, eps, weight_decay;  /* weight_decay > 0: AdamW (decoupled) */
    long step;
    size_t n;
    float *m, *v;     /* moments, same layout as the parameters */
} ncsn_adam;
NCSNDEF ncsn_status ncsn_adam_create(ncsn_adam *opt, size_t n, float lr); /* betas .9,.999, eps 1e-8 */
NCSNDEF void        ncsn_adam_free(ncsn_adam *opt);
NCSNDEF ncsn_status ncsn_adam_step(ncsn_adam *opt, float *params, const float *grads); /* both opt->n floats */
/* the same step on m's parameters with m's gradients, on m's threads (same bits); the same pass
   leaves m->grads zero, ready for the next backward, so a training loop needs ncsn_model_zero_grad
   only before its first step (on an error nothing is written and the gradients stay) */
NCSNDEF ncsn_status ncsn_model_adam_step(ncsn_model *m, ncsn_adam *opt);

/* ---- 11. training: settings from the data, standardisation, the trainer ----------------------
   Song & Ermon (2020), "Improved Techniques for Training Score-Based Generative Models", gives
   rules for the settings; these functions compute them from the data (docs/training.md).      */
/* Technique 1: sigma_1 = the largest pairwise Euclidean distance of x[n][dim], in double. Exact
   (all pairs) when n^2 dim / 2 <= 1e9 (*exact = 1); beyond, the largest distance found by up to
   8 farthest-point sweeps from point 0 (*exact = 0): a lower bound d with diameter/2 <= d <=
   diameter, almost always the diameter itself. exact may be NULL. */
NCSNDEF double ncsn_sigma_max_from_data(const float *x, int n, int dim, int *exact);
/* The standard normal CDF, in double, without libm (a series, |error| < 1e-15). */
NCSNDEF double ncsn_normal_cdf(double x);
/* Technique 2: the level ratio gamma = sigma_{i-1}/sigma_i solving
   Phi(sqrt(2D)(gamma - 1) + 3 gamma) - Phi(sqrt(2D)(gamma - 1) - 3 gamma) = 1/2 (bisection).
   The rule assumes ||x|| is nearly normal, true at large D: it has no solution for D <= 4 and
   gives huge ratios just above (19.5 at D = 5, 4.0 at D = 8), so D < 16 uses the ratio of D = 16
   (2.13, about the 2.15 of the seeds' 10 levels over a factor 1000). */
NCSNDEF double ncsn_level_ratio(int dim);
/* The fewest geometric levels from sigma_max to sigma_min whose ratio is at most gamma:
   1 + ceil(ln(sigma_max/sigma_min) / ln gamma), at least 2. */
NCSNDEF int    ncsn_levels_for(double sigma_max, double sigma_min, double gamma);
/* Technique 4, for Song's form (a_i = eps sigma_i^2 / sigma_L^2, T steps per level): with
   u = eps/sigma_L^2 and c = 2 eps / (sigma_L^2 - sigma_L^2 (1 - u)^2),
   f(eps) = (1 - u)^(2T) (gamma^2 - c) + c. f > 1 for every eps; the paper picks the eps that makes
   it "maximally close to 1": its minimum (golden-section search over u in (0, 1)). */
NCSNDEF double ncsn_step_eps_objective(double eps, int T, double gamma, double sigma_min);
NCSNDEF double ncsn_step_eps(int T, double gamma, double sigma_min);
/* Technique 5: ema[i] = rate ema[i] + (1 - rate) params[i], computed as fma(rate, ema - params, params);
   ema and params hold n floats. */
NCSNDEF void   ncsn_ema_update(float *ema, const float *params, size_t n, float rate);

/* A column's scale: its standard deviation sd, but at least range / NCSN_STDZ_MAX_Z (range =
   max - min), so that no standardised value lies farther than NCSN_STDZ_MAX_Z from the mean.
   A column that is nearly constant with rare outliers (a pixel that is 0 but in a few images)
   would otherwise reach |z| ~ 40 and set sigma_1; the floor scales with the column, so a
   rescaled copy of the data gets the same units (docs/training.md). 1 for a constant column. */
#define NCSN_STDZ_MAX_Z 8.0
NCSNDEF double ncsn_column_scale(double sd, double range);
/* Where the data live. The network works in standardised units z = (x - loc) / scale per column
   (loc = column mean, scale = ncsn_column_scale; the identity when standardisation is off). center and radius describe the training data in those units:
   its mean and the largest distance of a point from it (for the divergence rule, section 12). */
typedef struct ncsn_stdz {
    int dim;
    float *loc, *scale, *center;  /* [dim] each, one allocation */
    float radius;                  /* > 0 when known; 0: unknown (a file without the data's statistics) */
} ncsn_stdz;
/* Fit to x[n][dim]: standardize = 0 gives loc 0, scale 1. The radius is at least FLT_MIN (data at
   one point have FLT_MIN, not 0, which means unknown). Free with ncsn_stdz_free. */
NCSNDEF ncsn_status ncsn_stdz_fit(ncsn_stdz *s, const float *x, int n, int dim, int standardize);
NCSNDEF ncsn_status ncsn_stdz_identity(ncsn_stdz *s, int dim);   /* loc 0, scale 1, radius 0 */
NCSNDEF void ncsn_stdz_free(ncsn_stdz *s);
/* x (score) holds n points: n * s->dim floats. */
NCSNDEF void ncsn_stdz_apply(const ncsn_stdz *s, float *x, int n);  /* user -> network units: (x - loc)/scale */
NCSNDEF void ncsn_stdz_undo(const ncsn_stdz *s, float *x, int n);   /* network -> user units: fma(z, scale, loc) */
/* A score in network units -> the user's: grad_x log p = (grad_z log p) / scale. */
NCSNDEF void ncsn_stdz_score(const ncsn_stdz *s, float *score, int n);
/* A minibatch of B distinct rows of data [n][dim], as torch.randperm(n)[:B] picks them: a partial
   Fisher-Yates shuffle moves B random entries of perm (a permutation of 0..n-1 the caller keeps
   between calls; start it as the identity) to its front, one bounded draw each, and copies those
   rows to batch [B][dim]. perm holds n ints, data n*dim floats, batch B*dim; an entry of perm outside
   [0, n) is refused before its row is read. */
NCSNDEF ncsn_status ncsn_minibatch(ncsn_rng *rng, int *perm, int n, const float *data, int dim, float *batch, int B);

/* The trainer: model, Adam, DSM buffers, EMA of the weights, RNG, noise levels, minibatch
   permutation and standardisation, one step per call. Minibatches: batch >= n uses every point
   in order each step; batch < n draws with ncsn_minibatch (as torch.randperm(n)[:batch]).
   Each step: [minibatch], ncsn_dsm_loss (backward), gradient check, Adam (which zeroes the
   gradients for the next step), [EMA]. */
typedef struct ncsn_train_opts {
    ncsn_config net;           /* the network; net.dim is set from the data */
    long steps;                /* the run's length (ncsn_trainer_run's `until` in the CLI) */
    int levels;                /* L; 0: from the dimension (ncsn_level_ratio, ncsn_levels_for) */
    const float *sigmas;       /* non-NULL: these `levels` levels (>= 1) instead of a schedule */
    float sigma_max;           /* 0: ncsn_sigma_max_from_data (network units) */
    float sigma_min;           /* smallest level, network units */
    ncsn_schedule_kind schedule;
    ncsn_weighting weighting;
    int batch;                 /* points per step (>= n: all, in order) */
    float lr;                  /* Adam's learning rate */
    long lr_decay_steps;       /* > 0: the rate falls linearly to lr/100 over these steps, then stays (0: constant);
                                  the recipe sets it to steps: change both together */
    float ema_rate;            /* 0: no EMA; else the rate (0.999 in the paper), at most (1 + k)/(10 + k) at step k */
    int standardize;           /* 1: train on standardised columns */
    uint64_t seed, stream;     /* the RNG's seed, unless ncsn_trainer_create is given one */
    int threads;               /* threads for the network (same bits for any count) */
    int stable_target;         /* 1 (0.9.0): the minibatch's stable target field (ncsn_dsm_opts.stable_target); 0: plain DSM;
                                  NCSN_STABLE_TARGET_AUTO (the recipe up to 16 dimensions, 0.10.0): 1 when the data
                                  has more points than a batch, else 0 (the trainer's opts hold which) */
} ncsn_train_opts;
/* On when the data has more points than a batch. With every point in each batch, the target would
   be the training set's own noised score, exactly: learned, it gives the training points back. */
#define NCSN_STABLE_TARGET_AUTO (-1)
/* The data-driven recipe: every setting from the data or the paper (docs/training.md). */
NCSNDEF ncsn_train_opts ncsn_train_defaults(void);
/* The recipe for data of dimension dim: ncsn_train_defaults() up to NCSN_RECIPE_SMALL_DIM; above,
   3 hidden layers of 256 with the preconditioned output (precond = 1, sigma_data from the data,
   NCSN_WEIGHT_ONE: EDM's loss), 20 000 steps (the learning rate falling to 1/100 over them), and
   sigma_L = 0.1 (measured on the 8x8 digits, 64-D: docs/training.md). Pair it with
   ncsn_sampler_recipe_for. */
#define NCSN_RECIPE_SMALL_DIM 16
NCSNDEF ncsn_train_opts ncsn_train_defaults_for(int dim);
/* The seeds' recipes: seed 000 (ScoreNet 128x3, sigma concatenated, 10 levels 10 -> 0.01, full
   batch, lr 1e-3) and seed 001 (sinusoidal embedding 64, 128x3, 10 levels 5 -> 0.01, batch 256);
   no standardisation, no EMA. */
NCSNDEF ncsn_train_opts ncsn_train_preset_seed000(void);
NCSNDEF ncsn_train_opts ncsn_train_preset_seed001(void);

typedef struct ncsn_trainer {
    ncsn_train_opts opts;
    ncsn_model *model;         /* the trained weights */
    ncsn_adam adam;
    ncsn_dsm_batch dsm;
    float *ema;                /* [n_params] EMA weights, NULL without EMA */
    ncsn_rng rng;
    int L;
    float *sigmas;             /* [L], network units */
    ncsn_stdz stdz;
    int n, dim;
    float *data;               /* [n][dim] the training data in network units */
    int *perm;                 /* [n] the minibatch permutation */
    float *xb;                 /* [batch][dim] the current minibatch (batch < n) */
    int batch;                 /* min(opts.batch, n) */
    long step;                 /* steps done */
    float loss;                /* the last step's loss */
    int sigma_max_exact;       /* sigma_max came from an exact pairwise search */
} ncsn_trainer;
/* Copies data[n][dim] (user units). rng: NULL seeds from opts (seed, stream); else training
   continues that stream (the model's init draws first). */
NCSNDEF ncsn_status ncsn_trainer_create(ncsn_trainer **out, const ncsn_train_opts *o, const float *data,
                                        int n, int dim, const ncsn_rng *rng);
NCSNDEF void        ncsn_trainer_free(ncsn_trainer *t);
/* One step. NCSN_ERR_NONFINITE (naming the tensor) leaves the weights as they were before Adam.
   It relies on the model's gradients being zero when it starts (its Adam step leaves them so): a
   callback that runs ncsn_model_backward on t->model must call ncsn_model_zero_grad after it. */
NCSNDEF ncsn_status ncsn_trainer_step(ncsn_trainer *t);
/* The learning rate at a step: lr falling linearly to lr/100 at decay_steps, then lr/100 (0: lr). */
NCSNDEF float ncsn_lr_at(float lr, long step, long decay_steps);
/* Called every `every` steps and after the last; a non-OK return stops the loop with that status. */
typedef ncsn_status (*ncsn_train_callback)(void *user, const ncsn_trainer *t);
/* Steps until t->step == until; until > NCSN_MAX_STEP is refused before the first step. */
NCSNDEF ncsn_status ncsn_trainer_run(ncsn_trainer *t, long until, long every, ncsn_train_callback cb, void *user);
/* The weights to sample with: the EMA copy when there is one, else the trained weights. */
NCSNDEF const float *ncsn_trainer_weights(const ncsn_trainer *t);
/* Saving and resuming a trainer, and the standardisation a file holds: section 14 (the trainer's
   files), next to the safetensors code they use. */

/* ---- 12. Langevin samplers -------------------------------------------------------------------
   SONG:  x <- x + a s + sqrt(2a) z,  a_i = eps sigma_i^2 / sigma_L^2      (seed 000)
   HALF:  x <- x + (a/2) s + sqrt(a) z, a_i = eps (sigma_i / sigma_L)^2   (seeds 001, 002)
   SONG_LM: SONG with z = (z_k + z_{k+1}) / 2, the mean of this step's and the last step's draws
          (Leimkuhler & Matthews 2013; the recipe's). On a Gaussian of variance
          v, SONG's chains settle at variance v / (1 - a/(2v)), 14 % too wide at the recipe's
          a = v/4, which tempers a mixture toward equal weights; SONG_LM's at exactly v for
          any a < 2v. One extra n*dim draw before the first step.
   Each step: score of all n chains, then n*dim normals from rng in order, then the update
   x = fma(c_noise, z, fma(c_score, s, x)). Chains are independent: if some diverge, the sampler
   still runs to the end and returns NCSN_ERR_NONFINITE saying how many; the others are valid. */
typedef enum ncsn_langevin_form { NCSN_LANGEVIN_SONG = 0, NCSN_LANGEVIN_HALF = 1, NCSN_LANGEVIN_SONG_LM = 2 } ncsn_langevin_form;
typedef enum ncsn_init {
    NCSN_INIT_NORMAL = 0,        /* N(0, I) */
    NCSN_INIT_NORMAL_SIGMA1 = 1, /* N(0, sigma_1^2 I) */
    NCSN_INIT_UNIFORM = 2,       /* U[init_lo, init_hi]^dim */
    NCSN_INIT_GIVEN = 3          /* x already holds the start */
} ncsn_init;
typedef ncsn_status (*ncsn_step_callback)(void *user, int level, int step, float sigma,
                                          const float *x, int n, int dim);
typedef struct ncsn_sampler_opts {
    ncsn_langevin_form form;
    float eps;                   /* step constant epsilon */
    int steps_per_level;         /* T */
    ncsn_init init;
    float init_lo, init_hi;
    int denoise_final;           /* 1: x <- x + sigma_L^2 s(x, sigma_L) at the end */
    ncsn_step_callback callback; /* after every step (may be NULL); non-OK stops */
    void *callback_user;
    /* fine_factor > 1: the levels with sigma >= fine_sigma take fine_factor x T steps at
       eps / fine_factor, the same time per level in smaller steps (0 or 1: none; negative,
       fine_factor x T beyond INT_MAX, or fine_sigma < 0 or NaN with fine_factor > 1: refused).
       fine_sigma is compared with the sigmas given to the sampler (a model's network units). A
       large step's bias at the levels where a mixture's modes part sets their weights
       (docs/training.md). */
    int fine_factor;
    float fine_sigma;
    /* predictor (0.7.0): after the Langevin steps of a level of sigma a, before the next level's b,
       NCSN_PREDICT_ANCESTRAL moves every chain by one ancestral step of the noise process (Song et
       al. 2021, "Score-Based Generative Modeling through Stochastic Differential Equations", their
       ancestral sampler for noise levels): x <- x + (a^2 - b^2) s(x, a) + b sqrt(1 - b^2/a^2) z,
       which carries a point mass's noised density at a to exactly its density at b; the Langevin
       steps then correct (predictor-corrector). One score and n*dim normals per transition.
       NCSN_PREDICT_ODE: the deterministic step of the same process (DDIM's for noise levels),
       x <- x + a (a - b) s(x, a), no normals; exact for a point mass too. NCSN_PREDICT_NONE (0):
       plain annealed Langevin, as before 0.7.0 (docs/training.md measures both). No step (no
       score, no normals) where the next level is not smaller, nor after the last level; the
       callback sees Langevin steps only; a run split into several sampler calls over its levels
       has no predictor at the splits; the inpainting samplers refuse one (NCSN_ERR_ARG). An int,
       not the enum, so that the struct's layout does not depend on the compiler's enum size. */
    int predictor;
} ncsn_sampler_opts;
typedef enum ncsn_predictor { NCSN_PREDICT_NONE = 0, NCSN_PREDICT_ANCESTRAL = 1, NCSN_PREDICT_ODE = 2 } ncsn_predictor;
NCSNDEF ncsn_sampler_opts ncsn_sampler_defaults(void);
/* The two coefficients of one update: x <- x + c_score s + c_noise z. SONG_LM has SONG's; its z
   is the mean of two successive draws, which a caller's own loop must form itself. */
NCSNDEF ncsn_status ncsn_langevin_coeffs(ncsn_langevin_form form, float eps, float sigma_i,
                                         float sigma_L, float *c_score, float *c_noise);
NCSNDEF void ncsn_langevin_update(float *x, const float *score, const float *z, size_t n,
                                  float c_score, float c_noise);   /* x, score, z: n floats */
/* x holds n*dim floats; sigmas L (each finite and > 0); dim is checked against the library's own
   score functions (the model's or the mixture's dimension). */
NCSNDEF ncsn_status ncsn_sample_annealed(ncsn_score_fn score, void *user, int dim,
                                         const float *sigmas, int L,
                                         const ncsn_sampler_opts *opts, ncsn_rng *rng,
                                         float *x, int n);
/* Chains [first, first + count) of the n-chain run ncsn_sample_annealed(..., rng, x, n) makes, with
   memory for count chains only: x holds their count*dim floats, and they get the same bits as in
   the one batch (the noise of each chain is drawn at its place in rng's stream, the rest skipped
   with ncsn_rng_advance), provided the score of a chain depends on that chain alone (networks and
   mixtures: yes). rng is the run's start and is left where the whole run leaves it, so a run in
   pieces restarts each piece from a copy:  start = rng; for each piece { r = start; call with &r; }.
   The callback sees the count chains; NCSN_ERR_NONFINITE counts the diverged ones among them. */
NCSNDEF ncsn_status ncsn_sample_annealed_chains(ncsn_score_fn score, void *user, int dim,
                                                const float *sigmas, int L,
                                                const ncsn_sampler_opts *opts, ncsn_rng *rng,
                                                float *x, int n, int first, int count);
/* Plain Langevin: one level, constant step a (form decides a vs a/2), score evaluated at
   score_sigma (e.g. 0 for an exact data score). x holds n*dim floats. opts' steps_per_level,
   denoise_final, fine_factor and predictor are not used (n_steps steps, no denoising, no fine
   steps, no level to predict). */
NCSNDEF ncsn_status ncsn_sample_langevin(ncsn_score_fn score, void *user, int dim,
                                         float score_sigma, float step, int n_steps,
                                         const ncsn_sampler_opts *opts, ncsn_rng *rng,
                                         float *x, int n);
/* Inpainting (Song & Ermon 2019, Fig. 6 and appendix B.3): annealed Langevin on x[n][dim] where
   the known elements (mask[k] != 0) are, at level i, replaced after every step by y = known +
   sigma_i z~: one z~ ~ N(0, I) per level, n*dim normals drawn before the level's steps (masked or
   not, so the stream's positions do not depend on the mask). The unknown elements move as in
   ncsn_sample_annealed; opts->init starts all of them (the algorithm does not replace before the
   first step). opts->denoise_final denoises the unknown elements only; the known ones end as the
   last level's y, known + sigma_L z~, exactly. SONG_LM's extra block of normals is drawn after
   level 0's z~, so that with nothing known this is ncsn_sample_annealed after n*dim normals.
   known, mask and x hold n*dim each. opts->predictor must be 0 (not measured here: refused). */
NCSNDEF ncsn_status ncsn_sample_inpaint(ncsn_score_fn score, void *user, int dim, const float *sigmas, int L,
                                        const ncsn_sampler_opts *opts, ncsn_rng *rng, const float *known,
                                        const unsigned char *mask, float *x, int n);
/* Resampling for inpainting ("jump back": Lugmayr et al. 2022, RePaint, adapted to annealed
   Langevin). The replacement above conditions the unknown elements only weakly on the known ones:
   a large level's steps see known elements that the unknown ones have not yet adapted to. After a
   jump level i, every element of x is noised back up to level i - jump,
   x <- x + sqrt(sigma_{i-jump}^2 - sigma_i^2) z (n*dim normals), and the levels i - jump .. i run
   again (each with its own z~ and steps, as above); this happens `repeats` times at each jump
   level. Jump levels: the levels i >= jump with sigma_lo <= sigma_i <= sigma_hi (sigma_hi = 0: no
   upper bound) that end a block of `period` levels counted from the window's first level
   (period = 0: jump). Each jump level costs repeats x (jump + 1) levels more. The sigmas must
   decrease strictly. All zero (or opts NULL): no resampling, ncsn_sample_inpaint's bits exactly.
   Negative values, NaN, sigma_lo > sigma_hi > 0, jump without repeats (or repeats without jump)
   and jump >= L are refused with a message naming the field. */
typedef struct ncsn_inpaint_opts {
    int jump;                /* j: levels to go back after a jump level (0: no resampling) */
    int repeats;             /* r: how many times each jump level goes back */
    int period;              /* a jump level every `period` levels of the window (0: every j) */
    float sigma_hi, sigma_lo; /* the window of jump levels, sigma_lo <= sigma_i <= sigma_hi */
} ncsn_inpaint_opts;
NCSNDEF ncsn_inpaint_opts ncsn_inpaint_defaults(void);   /* all zero: no resampling */
NCSNDEF ncsn_status ncsn_sample_inpaint_resample(ncsn_score_fn score, void *user, int dim, const float *sigmas, int L,
                                                 const ncsn_sampler_opts *opts, const ncsn_inpaint_opts *inp,
                                                 ncsn_rng *rng, const float *known, const unsigned char *mask,
                                                 float *x, int n);
/* Reconstruction guidance for inpainting (Ho et al. 2022, "Video Diffusion Models", sec. 3.1;
   Chung et al. 2023, "Diffusion Posterior Sampling"). With the replacement alone the known elements
   reach the unknown ones only through the network's input; guidance also moves the unknown ones so
   that the denoised image D(x) = x + sigma^2 s(x) agrees with what is known. ncsn_score_guided is
   a score function (pass it and the guide to ncsn_sample_inpaint or _resample) returning
   s + w (r + sigma^2 J^T r) / sigma^2, r = mask * (known - D(x)), J = ds/dx: the gradient of
   w log N(known; D(x), sigma^2 I) on the known elements; J^T r is one backward pass of the network
   to its input only (no weight gradients), so a step costs about 2 forward passes. Weight 0, or
   sigma < sigma_min, gives ncsn_model_score's bits exactly; on Fashion-MNIST guidance at the
   smallest levels wrote pixel noise into the completions, so images eval stops it at 0.15
   (docs/images.md).
   known and mask are those given to the sampler (n*dim each, the model's own units); the guide
   keeps the pointers, owns 2*n*dim floats of scratch, and serves calls of at most n chains: a
   call with n' < n chains is rows 0..n'-1 of known and mask (the inpainting samplers always pass
   all n). The samplers refuse a dim other than the guide's model's. The model's gradients are not
   touched (a trainer's callback may guide between steps). A guide, like its model, belongs to one
   thread at a time. */
typedef struct ncsn_guide {
    ncsn_model *model;
    const float *known;           /* [cap][dim] */
    const unsigned char *mask;    /* [cap][dim], nonzero where known */
    float weight;                 /* w >= 0 */
    float sigma_min;              /* guidance only at sigma >= sigma_min (ncsn_guide_init: 0, every level) */
    int cap;                      /* the most chains one call may have */
    float *r, *dx;                /* scratch, cap*dim floats each (one allocation at r) */
} ncsn_guide;
NCSNDEF ncsn_status ncsn_guide_init(ncsn_guide *g, ncsn_model *m, const float *known, const unsigned char *mask,
                                    float weight, int n);
NCSNDEF void        ncsn_guide_free(ncsn_guide *g);
NCSNDEF ncsn_status ncsn_score_guided(void *guide, float *out, const float *x, float sigma, int n);
/* Seed 002 sec. 5.3: out[i] = mean over the n points of ||sigma_i s(x_j + sigma_i z, sigma_i)||.
   sigmas and out hold L floats, data n*dim; dim is checked against the library's own scores. */
NCSNDEF ncsn_status ncsn_sigma_score_norms(ncsn_score_fn score, void *user, int dim,
                                           const float *sigmas, int L, const float *data, int n,
                                           ncsn_rng *rng, float *out);
/* The sampler settings of the data-driven recipe for levels sigmas[L]: Song's form with
   Leimkuhler-Matthews noise (SONG_LM), T steps per level (T <= 0: 200), eps = sigma_L^2 / 4, i.e. every level's step is a quarter of its variance
   (a_i = sigma_i^2 / 4: T a_i / sigma_i^2 = 50 e-folds of relaxation per level), start
   N(0, sigma_1^2 I) around the origin (the data's mean in standardised units), final denoising
   step. Not technique 4's eps (ncsn_step_eps): it assumes point-like data, and measured on two
   Gaussians it leaves modes 15-19 % too wide (a mode of variance v relaxes only
   T a_i / (v + sigma_i^2) e-folds per level). Larger steps (a_i = sigma_i^2 / 2, T = 100)
   over-disperse: the 1/5 : 4/5 toy's weight came out 0.232 (0.210 here; docs/training.md). With
   the toy's exact score and two sampling seeds, SONG's noise put 0.225 and 0.212 in its small
   mode, SONG_LM's 0.217 and 0.207 (truth 0.2; docs/training.md). */
NCSNDEF ncsn_sampler_opts ncsn_sampler_recipe(const float *sigmas, int L, int T);
/* The recipe's sampler for a model of dimension dim: ncsn_sampler_recipe up to
   NCSN_RECIPE_SMALL_DIM with the ODE predictor (0.10.0); above, T = 10 steps per level and eps = 0.1 sigma_L^2 (1 e-fold of
   relaxation per level; SONG_LM as below), tuned on the preconditioned network of
   ncsn_train_defaults_for, with the ODE predictor where a step between two of the levels is
   wider than technique 2's ratio at 64 dimensions, the digits' on which it was tuned (0.11.0;
   with technique 2's own levels, below 64 dimensions; docs/training.md). There a network's learned score relaxes the chains toward a density
   narrower than the data's: on the 8x8 digits 200 steps per level gave samples close to the mean
   image (energy distance 14.5x the fitted Gaussian's), a few steps keep the spread of the larger
   levels (docs/training.md). T > 0 sets the steps. No fine steps above NCSN_RECIPE_SMALL_DIM
   (fine_factor 0: T was tuned without). */
NCSNDEF ncsn_sampler_opts ncsn_sampler_recipe_for(const float *sigmas, int L, int T, int dim);
/* The recipe's sampler for a trained model m (what `ncsn sample` uses): ncsn_sampler_recipe_for
   at m's dimension, except above NCSN_RECIPE_SMALL_DIM for a network without the preconditioned
   output (trained by 0.4.0's recipe, or with s = net/sigma or s = net chosen): there the sampler
   that form was tuned with, 0.4.0's: SONG, T = 5, eps = 0.35 sigma_L^2. A 0.4.0 digits model gave
   1.007x the fitted Gaussian's energy distance with it, 4.0x with the 10-step sampler of the
   preconditioned network. */
NCSNDEF ncsn_sampler_opts ncsn_sampler_recipe_model(const ncsn_model *m, const float *sigmas, int L, int T);
/* Divergence: a chain has left the data's region when a coordinate is not finite or its distance
   from s->center exceeds s->radius + sigma_1 (network units; the data's own points are within
   radius, and a chain that never came back from its N(0, sigma_1^2 I) start is far beyond). With
   radius 0 (unknown: no file with the data's statistics holds it) only non-finite chains count.
   x holds n * s->dim floats; flags in diverged[n] (may be NULL); returns the count. */
NCSNDEF int ncsn_diverged(const ncsn_stdz *s, float sigma1, const float *x, int n, unsigned char *diverged);
/* Samples in the user's units from a network trained in s's units: annealed Langevin (x[n][dim]
   in network units), ncsn_diverged, then ncsn_stdz_undo; a row that is not finite after undo (a
   huge scale) is diverged too. *n_diverged (may be NULL) gets the count; NCSN_OK even when some
   diverged (their rows hold what the chain reached). */
NCSNDEF ncsn_status ncsn_sample_data(ncsn_model *m, const ncsn_stdz *s, const float *sigmas, int L,
                                     const ncsn_sampler_opts *o, ncsn_rng *rng, float *x, int n,
                                     unsigned char *diverged, int *n_diverged);
/* The same for the chains [first, first + count) of an n-chain run (ncsn_sample_annealed_chains:
   rng at the run's start, x[count][dim], diverged[count]); the pieces of a run give its bits. */
NCSNDEF ncsn_status ncsn_sample_data_chains(ncsn_model *m, const ncsn_stdz *s, const float *sigmas, int L,
                                            const ncsn_sampler_opts *o, ncsn_rng *rng, float *x, int n, int first,
                                            int count, unsigned char *diverged, int *n_diverged);

/* ---- 13. data and exact scores ------------------------------------------------------------- */
typedef struct ncsn_gmm {     /* sum_k w_k N(mu_k, diag(var_k)); var may be 0 (point masses) */
    int K, dim;
    const float *weights;     /* [K], sum 1 */
    const float *means;       /* [K*dim] */
    const float *vars;        /* [K*dim] */
} ncsn_gmm;
/* Exact score of q_sigma = gmm convolved with N(0, sigma^2 I): component covariance var + sigma^2.
   out and x hold n*g->dim floats (logpdf: x one point of g->dim). */
NCSNDEF ncsn_status ncsn_gmm_score(const ncsn_gmm *g, float *out, const float *x, float sigma, int n);
NCSNDEF float       ncsn_gmm_logpdf(const ncsn_gmm *g, const float *x, float sigma);
/* n points into out [n*g->dim], their components into comp [n] (may be NULL). */
NCSNDEF ncsn_status ncsn_gmm_sample(const ncsn_gmm *g, ncsn_rng *rng, float *out, int *comp, int n);
/* ncsn_score_fn adaptor: user is a const ncsn_gmm*. */
NCSNDEF ncsn_status ncsn_gmm_score_fn(void *gmm, float *out, const float *x, float sigma, int n);
/* Seed 000: centers (-3,0), (3,0) with probability 1/2 each, std 0.5. out holds 2n floats. */
NCSNDEF void ncsn_data_two_gaussians(ncsn_rng *rng, float *out, int n);
/* Seed 001: t = 1.5 pi (1 + 2u), (t cos t, t sin t) + 0.1 N(0, I), then standardised per column
   by this call's own mean and std (as the seed's numpy code): two calls differ by that shift, so
   draw once and split when comparing samples from one set against another. out holds 2n floats. */
NCSNDEF void ncsn_data_swiss_roll(ncsn_rng *rng, float *out, int n);
/* Song & Ermon's toy: weight 1/5 at (-5,-5), 4/5 at (5,5), std 1. */
NCSNDEF const ncsn_gmm *ncsn_gmm_toy(void);
NCSNDEF const ncsn_gmm *ncsn_gmm_two_gaussians(void);
/* Energy distance between two point sets (Szekely): 2 E|a-b| - E|a-a'| - E|b-b'| (V-statistics,
   double accumulation in index order). 0 for identical distributions, up to O(1/n) bias.
   a holds na*dim floats, b nb*dim. */
NCSNDEF double ncsn_energy_distance(const float *a, int na, const float *b, int nb, int dim);
/* Softmax cross-entropy of a classifier: logits [B][K], labels [B] in [0, K). *loss = the mean
   over the batch of ln(sum_k e^(l_k)) - l_label (ncsn_expf after subtracting the row's maximum, sums
   and ncsn_log in double); dlogits [B][K] (may be NULL) gets its gradient, (softmax - onehot) / B. */
NCSNDEF ncsn_status ncsn_softmax_xent(const float *logits, const int *labels, int B, int K, float *dlogits, float *loss);
/* Eigen-decomposition of the symmetric n x n matrix a (row-major, double; destroyed) by cyclic
   Jacobi rotations (sqrt is the only function called): evals[n] ascending, evecs[n][n] (may be
   NULL) with column j the unit eigenvector of evals[j]. Sweeps until the off-diagonal part is
   below 1e-15 of the matrix's norm (NCSN_ERR_NONFINITE for a non-finite entry). */
NCSNDEF ncsn_status ncsn_sym_eigen(double *a, int n, double *evals, double *evecs);
/* Frechet distance between the Gaussians fitted to a[na][dim] and b[nb][dim] (means, and
   covariances with divisor n - 1, as FID computes them): |mu_a - mu_b|^2 + tr(C_a + C_b -
   2 (C_a^(1/2) C_b C_a^(1/2))^(1/2)), in double, both square roots through ncsn_sym_eigen
   (negative rounding-level eigenvalues count as 0). na, nb >= 2; dim up to 4096. Every product
   that meets a sum is an explicit fma, so the bits are the same on every build. */
NCSNDEF ncsn_status ncsn_frechet_distance(const float *a, int na, const float *b, int nb, int dim, double *fd);

/* ---- 14. safetensors files, checkpoints, CSV data ------------------------------------------
   Every loader rejects malformed, truncated, oversized or hostile input with NCSN_ERR_FORMAT and
   a message: it never crashes, hangs, reads out of bounds, or allocates much more than its input.
   The tensors must cover the data buffer exactly, as the safetensors format requires (no byte
   unindexed, none in two tensors), and a "sigmas" tensor, wherever it is read, must hold noise
   levels: finite normal floats, strictly decreasing; the message names the index and value.
   Every writer is atomic: it writes PATH.tmp.XXXXXX in the same directory, flushes and fsyncs it,
   renames it over PATH and fsyncs the directory, so a crash at any moment leaves either the old
   file or the new one, never a torn one (a stale PATH.tmp.XXXXXX may remain). Defining
   NCSN_NO_FSYNC where the implementation is compiled skips the fsyncs: still atomic if the
   process dies, no longer durable if the machine loses power. */
#define NCSN_MAX_LEVELS (1 << 20)       /* most noise levels a file may hold */
#define NCSN_MAX_STEP (LONG_MAX / 2 + 1) /* largest training or Adam step a checkpoint holds: 2^62 (64-bit long) */
#ifndef NCSN_NO_STDIO
/* Tensor names and shapes of the PyTorch modules' state_dict; the config goes in __metadata__.
   path "-" writes stdout (flushed; not atomic), as ncsn_checkpoint_save does; so is an existing
   FIFO or device (/dev/stdout, /dev/null) written into, never replaced. */
NCSNDEF ncsn_status ncsn_model_save(const ncsn_model *m, const char *path);
/* An output written as the library writes its files, for a caller's own (a CSV of samples):
   path "-" is stdout (flushed at close; not atomic); an existing FIFO or character device is
   written into; a block device is refused; any other path gets a new PATH.tmp.XXXXXX that
   ncsn_output_close(o, 1) flushes, fsyncs and renames over PATH, while ncsn_output_close(o, 0),
   or a failed write, removes it and leaves PATH as it was. Write through o->fp. */
#include <stdio.h>
typedef struct ncsn_output {
    FILE *fp;
    char *tmp;          /* the temporary file's name (library-owned), NULL when written in place */
    const char *path;
    int kind;           /* 0: atomic, 1: written in place (FIFO, device), 2: stdout */
} ncsn_output;
NCSNDEF ncsn_status ncsn_output_open(ncsn_output *o, const char *path);
/* how a save to path is made: 1 written into it ("-" for stdout, a FIFO, a character device, or a
   descriptor named as such: /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N, also when the
   shell redirected it to a file), 0 a new file renamed over path (a symbolic link is replaced,
   not followed), -1 refused (a block device) */
NCSNDEF int ncsn_output_in_place(const char *path);
/* ok 0: the caller's write failed: nothing is renamed, NCSN_ERR_IO says PATH is unchanged (stdout,
   in place: the writes stand). Closing twice is a no-op. */
NCSNDEF ncsn_status ncsn_output_close(ncsn_output *o, int ok);
/* Builds the model from the file: the config from __metadata__ when present, else inferred
   from the tensor names and shapes (a file written by torch). Also reads checkpoints. */
NCSNDEF ncsn_status ncsn_model_load(ncsn_model **out, const char *path);
/* A checkpoint: the model's tensors (as ncsn_model_save, so it also loads as a model), and when
   given: Adam's moments as "adam.m.<tensor>" / "adam.v.<tensor>" (PyTorch layout) with its
   hyper-parameters and step, the RNG state, the schedule as the tensor "sigmas" [L] (finite normal
   floats, strictly decreasing: what the loaders accept; sigmas holds L floats), the training
   step, the configuration, and extra_meta: NULL or {"key", "value", ..., NULL} (keys 1..63 bytes,
   not "ncsn.*" nor the model's own keys). adam, rng, sigmas (L = 0) and extra_meta may be NULL.
   step and Adam's step must be in [0, NCSN_MAX_STEP]: exactly what ncsn_checkpoint_load reads.
   Non-finite parameters or moments are refused (NCSN_ERR_NONFINITE): the old file stays. */
NCSNDEF ncsn_status ncsn_checkpoint_save(const ncsn_model *m, const char *path, const ncsn_adam *adam,
                                         const ncsn_rng *rng, const float *sigmas, int L, long step,
                                         const char *const *extra_meta);
/* Loads what ncsn_checkpoint_save wrote. *model is created (free with ncsn_model_free). If adam is
   non-NULL it is created with the file's moments and hyper-parameters (free with ncsn_adam_free);
   the file must have them. If rng is non-NULL it gets the saved state (the file must have it).
   *L (if L non-NULL) gets the number of levels in the file, 0 if none; sigmas (if non-NULL, room
   for sigmas_cap floats) gets them: a file with more levels is refused (NCSN_ERR_ARG), never cut.
   *step gets the saved step (0 if none). On failure *model is NULL, *adam is zeroed
   (ncsn_adam_free is safe) and rng, sigmas, L and step are untouched. */
NCSNDEF ncsn_status ncsn_checkpoint_load(ncsn_model **model, const char *path, ncsn_adam *adam,
                                         ncsn_rng *rng, float *sigmas, int sigmas_cap, int *L, long *step);
/* The string value of one __metadata__ key of a safetensors file into value (room for cap >= 1
   bytes, NUL-terminated); NCSN_ERR_FORMAT, and value "", if absent or longer than cap - 1. */
NCSNDEF ncsn_status ncsn_file_meta(const char *path, const char *key, char *value, size_t cap);
/* The whole file (path "-": stdin) into *buf (free with ncsn_free), *len bytes; any kind of file:
   regular, pipe, FIFO, /dev/stdin (read to its end). At most max bytes (0: 2^31). Every loader
   reads a path so, and takes "-" for stdin; savers take "-" for stdout (written and flushed, not
   atomic). To read a pipe's bytes once and look at them several times, use this and the _mem
   functions. */
NCSNDEF ncsn_status ncsn_read_file(const char *path, size_t max, unsigned char **buf, size_t *len);
/* The same for a text file (CSV), as ncsn_csv_load reads: a NUL byte, which no text file holds,
   ends the reading at once with NCSN_ERR_FORMAT naming its line, so binary data or a pipe that
   goes on with zeros (cat data.csv /dev/zero) is refused in its first block, not after max bytes. */
NCSNDEF ncsn_status ncsn_read_text(const char *path, size_t max, unsigned char **buf, size_t *len);
/* The same for a safetensors file (at most 2^31 bytes), as every loader of them reads: its first 8
   bytes (the header's length) are read and checked first, so /dev/zero, random bytes or another
   kind of file are refused after 8 bytes, not after 2 GiB; then its header, which says where the
   data end: a byte beyond them (a pipe carrying the file and then other bytes) is refused at once.
   The IDX loaders likewise read no further than the size their header announces. */
NCSNDEF ncsn_status ncsn_read_safetensors(const char *path, unsigned char **buf, size_t *len);
#endif
/* The same loaders on a file already in memory: buf holds len bytes (never read beyond). */
NCSNDEF ncsn_status ncsn_model_load_mem(ncsn_model **out, const unsigned char *buf, size_t len);
NCSNDEF ncsn_status ncsn_checkpoint_load_mem(ncsn_model **model, const unsigned char *buf, size_t len,
                                             ncsn_adam *adam, ncsn_rng *rng, float *sigmas,
                                             int sigmas_cap, int *L, long *step);
NCSNDEF ncsn_status ncsn_file_meta_mem(const unsigned char *buf, size_t len, const char *key,
                                       char *value, size_t cap);

/* CSV data: one point per line, the same number of columns on every line, separated by commas
   (or, if the first line has no comma, by spaces/tabs); optional header line of names (every
   field not a number); '#' comment lines, blank lines, CRLF, a UTF-8 BOM and "quoted" fields are
   accepted. Every value must be a finite float, read as ncsn_strtof reads it (correctly rounded
   for up to 10^7 characters); a nonzero number that rounds to 0 (at most 2^-150, half the smallest float) is refused like one
   that overflows. A field, name or number, may be as long as its line: the one length
   limit is max_line, and a field takes the memory of the longest line, never more than the text.
   Errors name SOURCE:LINE:COLUMN. *data (n * dim floats, row-major) is allocated by the library:
   free it with ncsn_free. names (may be NULL) gets the header as one CSV line ("" if none): the
   names joined by ',', a name with a comma, a quote, a '#', a space or a tab "quoted" (so the line
   parses back to the same names); names that do not fit in names_cap are left out from the first
   that does not. A name with a control character (e.g. an escape sequence) is refused
   (NCSN_ERR_FORMAT). Limits: 0 = default. */
typedef struct ncsn_csv_opts {
    const char *source;   /* name used in messages (default "csv"; ncsn_csv_load: the path) */
    long max_rows;        /* default 1 << 26 */
    int max_cols;         /* default 65536 */
    size_t max_line;      /* bytes per line, default 1 << 20 */
    size_t max_bytes;     /* ncsn_csv_load: file size, default 1 << 30 */
} ncsn_csv_opts;
NCSNDEF ncsn_status ncsn_csv_parse(const char *text, size_t len, const ncsn_csv_opts *opts,
                                   float **data, int *n, int *dim, char *names, size_t names_cap);
#ifndef NCSN_NO_STDIO
/* path "-" reads stdin. */
NCSNDEF ncsn_status ncsn_csv_load(const char *path, const ncsn_csv_opts *opts,
                                  float **data, int *n, int *dim, char *names, size_t names_cap);
#endif
NCSNDEF void ncsn_free(void *p);   /* frees what ncsn_csv_* allocated (with NCSN_FREE) */
/* The trainer's files (section 11's ncsn_trainer and ncsn_stdz). */
#ifndef NCSN_NO_STDIO
/* The whole state as a checkpoint (ncsn_checkpoint_save's file plus the EMA weights as "ema.*",
   the standardisation as "data.loc", "data.scale", "data.center" and the permutation as
   "train.perm"); resuming it with the same data continues bit for bit. */
NCSNDEF ncsn_status ncsn_trainer_save(const ncsn_trainer *t, const char *path, const char *const *extra_meta);
NCSNDEF ncsn_status ncsn_trainer_resume(ncsn_trainer **out, const char *path, const float *data, int n, int dim,
                                        int threads);
/* The model file for sampling: ncsn_trainer_weights, the levels and the standardisation. */
NCSNDEF ncsn_status ncsn_trainer_save_model(const ncsn_trainer *t, const char *path, const char *const *extra_meta);
/* The standardisation stored in a model or checkpoint file (the identity, radius 0, if none). */
NCSNDEF ncsn_status ncsn_stdz_load(ncsn_stdz *s, const char *path, int dim);
/* The same from a file's bytes (read once with ncsn_read_file: a pipe cannot be read twice). */
NCSNDEF ncsn_status ncsn_trainer_resume_mem(ncsn_trainer **out, const unsigned char *buf, size_t len, const float *data,
                                            int n, int dim, int threads);
NCSNDEF ncsn_status ncsn_stdz_load_mem(ncsn_stdz *s, const unsigned char *buf, size_t len, int dim);
#endif
/* IDX files (the MNIST family's format): bytes 0 0, an element type (0x08: unsigned byte, the
   only one read here), the number of sizes NDIM, NDIM big-endian u32 sizes, then the elements.
   Images: NDIM 3 (count, rows, cols); byte b becomes b / 255 in [0, 1]; *data holds
   n * rows * cols floats, one image after another, each row-major. Labels: NDIM 1 (count);
   *labels holds n ints 0..255. The file must hold exactly the bytes its header announces (fewer:
   truncated; more: the header lies), every size >= 1, n and rows * cols at most INT_MAX; all of it
   is checked before anything is allocated, and a message names the source, the field and its
   value. Decompress first: a gzip file is refused by its magic. Free the outputs with ncsn_free;
   on failure they are NULL and the counts 0. source names the bytes in messages (NULL: "idx"). */
NCSNDEF ncsn_status ncsn_idx_images_mem(const unsigned char *buf, size_t len, const char *source, float **data,
                                        int *n, int *rows, int *cols);
NCSNDEF ncsn_status ncsn_idx_labels_mem(const unsigned char *buf, size_t len, const char *source, int **labels, int *n);
#ifndef NCSN_NO_STDIO
NCSNDEF ncsn_status ncsn_idx_load_images(const char *path, float **data, int *n, int *rows, int *cols);
NCSNDEF ncsn_status ncsn_idx_load_labels(const char *path, int **labels, int *n);
/* An images file and its labels file together: their counts must agree (NCSN_ERR_FORMAT naming
   both counts otherwise). */
NCSNDEF ncsn_status ncsn_idx_load(const char *images_path, const char *labels_path, float **data, int **labels,
                                  int *n, int *rows, int *cols);
#endif
/* Floats as text, independent of the locale: whatever setlocale() set LC_NUMERIC to, these use the
   "C" locale's forms, and the library reads and writes every float of its files (CSV, metadata)
   with them. ncsn_strtof is the "C" locale's strtof (leading white space, sign, decimal or 0x hex
   digits, inf, infinity, nan, nan(...)), correctly rounded to nearest even (any number of digits,
   in strings of up to 10^7 characters); *end (if end is not NULL) gets the end of the number, s if
   there is none (then 0 is returned). ncsn_format_f32 writes what printf("%.*g", precision,
   (double)v) writes in the "C" locale (precision 1..120; 9 round-trips every float) into buf of
   cap bytes: the length, or -1 (buf "" if cap > 0) if it does not fit or precision is out of
   range. */
NCSNDEF float ncsn_strtof(const char *s, char **end);
NCSNDEF int ncsn_format_f32(char *buf, size_t cap, float v, int precision);

/* ---- 15. self-test ----------------------------------------------------------------------------
   Checks that this build computes the reference bits, in a few milliseconds (about 3 ms with the
   AVX2 or AVX-512 kernels at -O2; up to 0.1 s with the scalar or SSE2 kernels or at -O0): PCG32
   and normals, every math function on the golden grid, three small networks' forward/backward,
   50 DSM steps with Adam, annealed and plain Langevin sampling, each part's bits hashed and
   compared with values embedded here from the golden files; then that Adam refuses an infinite
   or NaN gradient. NCSN_OK, or NCSN_ERR_BUILD with ncsn_last_error() naming the first part that
   differs, both hashes, and the build setting that usually causes it (NCSN_ERR_NOMEM if its small
   models cannot be allocated). Unsafe-math flags that no macro reveals end up here. */
NCSNDEF ncsn_status ncsn_selftest(void);

#ifdef __cplusplus
}
#endif
#endif /* NCSN_H */

/* ============================================================================================ */
/*                                       IMPLEMENTATION                                         */
/* ============================================================================================ */
#ifdef NCSN_IMPLEMENTATION
#ifndef NCSN_IMPLEMENTATION_DONE   /* the Makefile defines it to link programs with one shared implementation */
#define NCSN_IMPLEMENTATION_DONE

/* Unsafe-math modes that a macro reveals (gcc defines all five, clang only the first two) are
   refused, one #error naming the flag; those no macro reveals (clang's -funsafe-math-optimizations,
   -fassociative-math, -freciprocal-math; gcc's -fsingle-precision-constant; subnormals flushed to
   zero) are caught at run time by ncsn_selftest(). */
#if defined(__FAST_MATH__)
#error "ncsn.h: -ffast-math (or -Ofast) breaks IEEE arithmetic and bit-reproducibility; build without it"
#elif defined(__ASSOCIATIVE_MATH__)
#error "ncsn.h: -fassociative-math (set by -ffast-math, -Ofast, -funsafe-math-optimizations) reorders float sums and changes the bits; build without it"
#elif defined(__RECIPROCAL_MATH__)
#error "ncsn.h: -freciprocal-math (set by -ffast-math, -Ofast, -funsafe-math-optimizations) turns x / y into x * (1 / y) and changes the bits; build without it"
#elif defined(__NO_SIGNED_ZEROS__)
#error "ncsn.h: -fno-signed-zeros (set by -ffast-math, -Ofast, -funsafe-math-optimizations) lets x * 0 fold to 0 and changes the bits; build without it"
#elif defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
#error "ncsn.h: -ffinite-math-only lets the compiler delete the NaN and infinity checks that training and sampling rely on; build without it"
#endif

#include <float.h>
#include <math.h>     /* sqrtf, fmaf, fma: correctly rounded IEEE operations, not transcendentals */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <limits.h>

/* FLT_EVAL_METHOD 0 evaluates float and double in their own precision; so do 16 (TS 18661-3: only
   _Float16 is widened, to float; gcc's default gnu dialect reports it on CPUs with AVX512-FP16) and
   32 (float as _Float32, its own format). Every other value is refused: 1 and 2 widen float (2 also
   double, x87), 33, 64 and above evaluate float in _Float32x/_Float64 or wider, and a negative value
   (-1: indeterminable) promises nothing, so the precision of intermediates, and the bits, could
   change with register allocation. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != 16 && FLT_EVAL_METHOD != 32
#error "ncsn.h: FLT_EVAL_METHOD is not 0, 16 or 32: float or double arithmetic is widened (x87?); on 32-bit x86 use -msse2 -mfpmath=sse"
#endif

#if defined(NCSN_MALLOC) != defined(NCSN_FREE)
#error "ncsn.h: define both NCSN_MALLOC and NCSN_FREE, or neither"
#endif
#ifndef NCSN_MALLOC
#define NCSN_MALLOC(n) malloc(n)
#define NCSN_FREE(p) free(p)
#endif
#ifndef NCSN_ASSERT
#include <assert.h>
#define NCSN_ASSERT(x) assert(x)
#endif

/* gcc contracts a*b+c into an FMA across statements (even intrinsics); this keeps every product
   that the code does not fuse explicitly unfused. clang ignores pragmas under -ffp-contract=fast,
   so the code itself never lets a product feed an addition: every such pair is an explicit fmaf,
   and values that leave a function as a product pass through NCSN__OPAQUE. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
/* gcc 12 takes a Zen 4 (AVX-512) for a Zen 3 (none): -march=native then tunes the AVX-512 kernels
   for a CPU without them, which measured 1.25-1.3x slower than the same kernels at the default
   tuning (docs/performance.md). Tuning does not change results: the bits stay the same. */
#if defined(__AVX512F__) && (defined(__tune_znver1__) || defined(__tune_znver2__) || defined(__tune_znver3__))
#pragma GCC target("tune=generic")
#endif
#endif
#if defined(NCSN_STATIC) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"  /* a static copy need not use every function */
#endif

/* ---- 1. platform: SIMD selection ---------------------------------------------------------------------------
   x86 with gcc or clang: runtime dispatch. The SSE2, AVX2+FMA and AVX-512 kernels are compiled
   side by side (target attributes) whatever the flags, and the first kernel call picks the widest
   one the CPU and the OS support (cpuid, xgetbv). Elsewhere (MSVC, aarch64, other compilers, or
   NCSN_NO_DISPATCH) the compiler's target macros pick one set at compile time. NCSN__<SET> says
   that set's kernels are compiled in; the scalar ones always are. */
#if !defined(NCSN_NO_SIMD)
#if !defined(NCSN_NO_DISPATCH) && (defined(__x86_64__) || (defined(__i386__) && defined(__SSE2__))) && \
    !defined(__INTEL_COMPILER) && ((defined(__clang__) && __clang_major__ >= 5) || (!defined(__clang__) && __GNUC__ >= 6))
#define NCSN__DISPATCH 1
#define NCSN__AVX512 1
#define NCSN__AVX2 1
#define NCSN__SSE2 1
#include <immintrin.h>
#elif defined(__AVX512F__)
#define NCSN__AVX512 1
#include <immintrin.h>
#elif defined(__AVX2__) && defined(__FMA__)
#define NCSN__AVX2 1
#include <immintrin.h>
#elif defined(__ARM_NEON) && defined(__aarch64__)
#define NCSN__NEON 1
#include <arm_neon.h>
#elif defined(__SSE2__)
#define NCSN__SSE2 1
#include <emmintrin.h>
#endif
#endif

#ifndef NCSN_NO_THREADS
#include <pthread.h>
#endif

#if defined(__GNUC__)
#define NCSN__TLS __thread
#elif defined(_MSC_VER)
#define NCSN__TLS __declspec(thread)
#else
#define NCSN__TLS
#endif

/* An optimisation barrier on a value: the compiler must materialise it, so a product computed
   before it is never contracted into an addition after it (clang under -ffp-contract=fast fuses
   across inlined calls and ignores pragmas). It costs no instruction. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
#define NCSN__OPAQUE(v) __asm__("" : "+x"(v))
#elif defined(__GNUC__) && defined(__aarch64__)
#define NCSN__OPAQUE(v) __asm__("" : "+w"(v))
#else
#define NCSN__OPAQUE(v) ((void)0)
#endif

/* ---- 2. status and errors --------------------------------------------------------------------- */
static NCSN__TLS char ncsn__errbuf[256];

/* the length of a printable UTF-8 character at p (>= U+00A0, no bidi control or line separator),
   0 if p does not start one */
static int ncsn__utf8_printable(const unsigned char *p)
{
    uint32_t c;
    int n, i;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) { n = 2; c = p[0] & 0x1fu; }
    else if (p[0] >= 0xe0 && p[0] <= 0xef) { n = 3; c = p[0] & 0x0fu; }
    else if (p[0] >= 0xf0 && p[0] <= 0xf4) { n = 4; c = p[0] & 0x07u; }
    else return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (p[i] & 0x3fu);
    }
    if (c < 0xa0 || (n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff)) return 0;
    if ((c >= 0x200e && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff) return 0;
    return n;
}

NCSNDEF size_t ncsn_text_escape(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    if (!out || cap == 0) return 0;
    while (p && *p) {
        int k = *p >= 0x20 && *p < 0x7f ? 1 : ncsn__utf8_printable(p);
        if (k > 0) {
            if (n + (size_t)k >= cap) break;
            memcpy(out + n, p, (size_t)k);
            n += (size_t)k;
            p += k;
        } else {
            if (n + 4 >= cap) break;
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
            p++;
        }
    }
    out[n] = 0;
    return n;
}

static ncsn_status ncsn__fail(ncsn_status s, const char *fmt, ...)
{
    char raw[sizeof ncsn__errbuf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    ncsn_text_escape(ncsn__errbuf, sizeof ncsn__errbuf, raw);   /* names quoted from a file never reach a terminal raw */
    return s;
}

NCSNDEF const char *ncsn_status_string(ncsn_status s)
{
    switch (s) {
    case NCSN_OK: return "ok";
    case NCSN_ERR_ARG: return "invalid argument";
    case NCSN_ERR_NOMEM: return "out of memory";
    case NCSN_ERR_IO: return "i/o error";
    case NCSN_ERR_FORMAT: return "malformed or mismatched file";
    case NCSN_ERR_NONFINITE: return "non-finite value";
    case NCSN_ERR_CALLBACK: return "stopped by callback";
    case NCSN_ERR_BUILD: return "build computes different bits";
    }
    return "unknown status";
}

NCSNDEF const char *ncsn_last_error(void) { return ncsn__errbuf; }

static void *ncsn__alloc(size_t n)
{
    return n ? NCSN_MALLOC(n) : NULL;
}
#define NCSN__ALLOC_N(T, count) ((size_t)(count) > (size_t)-1 / sizeof(T) ? NULL : (T *)ncsn__alloc((size_t)(count) * sizeof(T)))
/* The most elements one batch buffer (B x D floats, n x dim chains) or one model (parameters,
   workspace) may hold: 2^40 where size_t has 64 bits; SIZE_MAX/16 (2^28 - 1) where it has 32
   (ILP32), so that every byte count formed from it, up to 4 floats per element, fits in size_t.
   Counts are compared with it before any size_t product is formed from them. */
#if SIZE_MAX / 16 >= 0x10000000000
#define NCSN__MAX_ELEMS ((size_t)0x10000000000)
#else
#define NCSN__MAX_ELEMS (SIZE_MAX / 16)
#endif
/* b * d would exceed NCSN__MAX_ELEMS (b, d >= 1) */
static int ncsn__too_many(size_t b, size_t d) { return b > NCSN__MAX_ELEMS / d; }

static uint32_t ncsn__f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float ncsn__u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint64_t ncsn__d2u(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }
static double ncsn__u2d(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }
static int ncsn__isfinite(float f) { return (ncsn__f2u(f) & 0x7f800000u) != 0x7f800000u; }

/* ---- 3. PCG32 ------------------------------------------------------------------------------------ */
#define NCSN__PCG_MULT 6364136223846793005ULL

NCSNDEF uint32_t ncsn_rng_u32(ncsn_rng *rng)
{
    uint64_t old = rng->state;
    uint32_t xorshifted, rot;
    rng->state = old * NCSN__PCG_MULT + rng->inc;
    xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

NCSNDEF void ncsn_rng_seed(ncsn_rng *rng, uint64_t initstate, uint64_t initseq)
{
    rng->state = 0u;
    rng->inc = (initseq << 1u) | 1u;
    ncsn_rng_u32(rng);
    rng->state += initstate;
    ncsn_rng_u32(rng);
}

NCSNDEF uint32_t ncsn_rng_bounded(ncsn_rng *rng, uint32_t bound)
{
    uint32_t threshold, r;
    if (bound == 0) return 0;
    threshold = (uint32_t)(-bound) % bound;  /* 2^32 mod bound: reject below it, as the reference */
    for (;;) {
        r = ncsn_rng_u32(rng);
        if (r >= threshold) return r % bound;
    }
}

NCSNDEF void ncsn_rng_advance(ncsn_rng *rng, uint64_t delta)
{
    /* Brown's algorithm: compose the LCG with itself, O(log delta) (as pcg32_advance_r). */
    uint64_t cur_mult = NCSN__PCG_MULT, cur_plus = rng->inc, acc_mult = 1u, acc_plus = 0u;
    while (delta > 0) {
        if (delta & 1u) {
            acc_mult *= cur_mult;
            acc_plus = acc_plus * cur_mult + cur_plus;
        }
        cur_plus = (cur_mult + 1u) * cur_plus;
        cur_mult *= cur_mult;
        delta >>= 1u;
    }
    rng->state = acc_mult * rng->state + acc_plus;
}

NCSNDEF float ncsn_rng_uniform(ncsn_rng *rng)
{
    return (float)(ncsn_rng_u32(rng) >> 8) * 5.9604644775390625e-08f;
}

static void ncsn__sincos_turns(float u, float *s, float *c);

static void ncsn__box_muller(uint32_t a, uint32_t b, float *z0, float *z1)
{
    float u1 = 1.0f - (float)(a >> 8) * 5.9604644775390625e-08f;   /* (0, 1]: exact */
    float u2 = (float)(b >> 8) * 5.9604644775390625e-08f;          /* [0, 1) */
    float r = sqrtf(-2.0f * ncsn_logf(u1));
    float sn, cs;
    ncsn__sincos_turns(u2, &sn, &cs);
    cs = r * cs;
    sn = r * sn;
    NCSN__OPAQUE(cs);
    NCSN__OPAQUE(sn);
    *z0 = cs;
    *z1 = sn;
}

/* ncsn_rng_normals on the host's flags: the reference */
static void ncsn__normals_loop(ncsn_rng *rng, float *out, size_t n)
{
    size_t i;
    float z0, z1;
    for (i = 0; i + 1 < n; i += 2) {
        uint32_t a = ncsn_rng_u32(rng), b = ncsn_rng_u32(rng);
        ncsn__box_muller(a, b, &out[i], &out[i + 1]);
    }
    if (i < n) {
        uint32_t a = ncsn_rng_u32(rng), b = ncsn_rng_u32(rng);
        ncsn__box_muller(a, b, &z0, &z1);
        out[i] = z0;
    }
}

#if defined(NCSN__DISPATCH)
static int ncsn__kernels_have_fma(void);   /* section 6 */
/* The same loop with FMA enabled and everything it calls (logarithm, sine, cosine) inlined: a
   build without FMA in its flags otherwise calls libm for each fmaf (through the PLT, about 30 of
   them per pair). The operations are the same, so are the bits. One copy for both FMA paths: an
   avx512f one (no avx512vl) moves scalars through zmm registers and returns without vzeroupper,
   and the host's SSE code after it then ran 2x slower (the seed-001 training step). */
static __attribute__((target("avx2,fma"), flatten)) void ncsn__normals_loop_fma(ncsn_rng *rng, float *out, size_t n)
{
    ncsn__normals_loop(rng, out, n);
}
#endif

NCSNDEF void ncsn_rng_normals(ncsn_rng *rng, float *out, size_t n)
{
#if defined(NCSN__DISPATCH)
    if (ncsn__kernels_have_fma()) {
        ncsn__normals_loop_fma(rng, out, n);
        return;
    }
#endif
    ncsn__normals_loop(rng, out, n);
}

NCSNDEF float ncsn_rng_normal(ncsn_rng *rng)
{
    float z;
    ncsn_rng_normals(rng, &z, 1);
    return z;
}

/* The noise of chains [first, first + count) of an n-chain run: elements [a, b) of each block of
   N = n dim draws, a = first dim, b = a + count dim. Drawing only those (the rest of each block is
   skipped with ncsn_rng_advance) gives the bits one batch gives them, so a run can go in pieces. */
typedef struct ncsn__part { size_t a, b, N; } ncsn__part;

/* normals a..b-1 of a block of N normals starting at rng, the bits ncsn_rng_normals(rng, all, N)
   puts at all[a..b-1] (normals 2j and 2j+1 come from outputs 2j and 2j+1); rng is left at the end
   of the block, 2 ceil(N/2) outputs on */
static void ncsn__normals_part(ncsn_rng *rng, float *out, const ncsn__part *p)
{
    size_t a = p->a;
    ncsn_rng_advance(rng, (uint64_t)(a & ~(size_t)1));
    if (a & 1u) {   /* the sine half of a pair whose cosine belongs to the chain before */
        float pair[2];
        ncsn_rng_normals(rng, pair, 2);
        *out++ = pair[1];
        a++;
    }
    if (p->b > a) ncsn_rng_normals(rng, out, p->b - a);
    ncsn_rng_advance(rng, (uint64_t)(((p->N + 1) & ~(size_t)1) - ((p->b + 1) & ~(size_t)1)));
}

/* ---- 4. deterministic math --------------------------------------------------------------------
   Exact range reductions (with FMA) and short polynomials in Horner form with fmaf; every
   operation is written out, so scalar and SIMD code can follow the same sequence. */
#define NCSN__MAGIC_ROUND 12582912.0f  /* 1.5 * 2^23: adding it rounds to an integer */

/* ncsn_expf's constants, shared with the vector exp (NCSN__K(vexpf)) so both run one sequence */
#define NCSN__EXPF_OVERFLOW  88.7228394f             /* e^x > FLT_MAX above this */
#define NCSN__EXPF_UNDERFLOW (-103.972084f)          /* e^x below half the smallest subnormal */
#define NCSN__LOG2E          1.44269502162933349609375f
#define NCSN__EXPF_LN2_HI    0.693145751953125f      /* ln 2, high part (16 bits: k ln2_hi is exact) */
#define NCSN__EXPF_LN2_LO    1.428606765330187e-06f  /* ln 2 - NCSN__EXPF_LN2_HI */
/* 1/k! for k = 7..2, then 1 and 1: Taylor to degree 7 on |r| <= 0.347, highest first (Horner) */
#define NCSN__EXPF_C7 1.98412698e-4f
#define NCSN__EXPF_C6 1.38888889e-3f
#define NCSN__EXPF_C5 8.33333377e-3f
#define NCSN__EXPF_C4 4.16666679e-2f
#define NCSN__EXPF_C3 0.166666672f
#define NCSN__EXPF_C2 0.5f

NCSNDEF float ncsn_expf(float x)
{
    float k, r, p;
    int n, n1;
    if (x != x) return x;
    if (x > NCSN__EXPF_OVERFLOW) return HUGE_VALF;
    if (x < NCSN__EXPF_UNDERFLOW) return 0.0f;
    k = fmaf(x, NCSN__LOG2E, NCSN__MAGIC_ROUND) - NCSN__MAGIC_ROUND;
    r = fmaf(-k, NCSN__EXPF_LN2_HI, x);
    r = fmaf(-k, NCSN__EXPF_LN2_LO, r);
    p = NCSN__EXPF_C7;
    p = fmaf(p, r, NCSN__EXPF_C6);
    p = fmaf(p, r, NCSN__EXPF_C5);
    p = fmaf(p, r, NCSN__EXPF_C4);
    p = fmaf(p, r, NCSN__EXPF_C3);
    p = fmaf(p, r, NCSN__EXPF_C2);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    n = (int)k;
    n1 = n / 2;  /* two scalings so 2^n never leaves the normal range; only the last rounds */
    p = p * ncsn__u2f((uint32_t)(n1 + 127) << 23);
    p = p * ncsn__u2f((uint32_t)(n - n1 + 127) << 23);
    NCSN__OPAQUE(p);
    return p;
}

NCSNDEF float ncsn_logf(float x)
{
    /* fdlibm's e_logf scheme: x = 2^k m, m in [sqrt(2)/2, sqrt(2)), f = m - 1 exact,
       s = f/(2+f), ln (1+f) = f - (hfsq - s (hfsq + R(s^2))), hfsq = f^2/2 (always fused here). */
    uint32_t ix = ncsn__f2u(x);
    int k = 0;
    float f, s, z, w, R, hf, dk;
    if (x != x) return x;
    if (x < 0.0f) return NAN;
    if (x == 0.0f) return -HUGE_VALF;
    if (ix >= 0x7f800000u) return x;
    if (ix < 0x00800000u) { k -= 25; x *= 33554432.0f; ix = ncsn__f2u(x); }  /* subnormal */
    k += (int)(ix >> 23) - 127;
    ix &= 0x007fffffu;
    if (ix > 0x3504f3u) { ix |= 0x3f000000u; k += 1; } /* mantissa > sqrt(2): use m/2 */
    else ix |= 0x3f800000u;
    f = ncsn__u2f(ix) - 1.0f;
    dk = (float)k;
    s = f / (2.0f + f);
    z = s * s;
    w = z * z;
    R = fmaf(z, fmaf(w, 0.28498786688f, 0.66666662693f), w * fmaf(w, 0.24279078841f, 0.40000972152f));
    hf = 0.5f * f;
    R = fmaf(s, fmaf(hf, f, R), dk * 9.0580006145e-06f);
    R = fmaf(dk, 0.693138122558594f, -(fmaf(hf, f, -R) - f));
    NCSN__OPAQUE(R);
    return R;
}

NCSNDEF float ncsn_log1pf(float x)
{
    /* ln u * x/(u-1) with u = 1+x corrects the rounding of u (Goldberg). */
    float u = 1.0f + x;
    if (x != x) return x;
    if (u == 1.0f) return x;
    if (u == HUGE_VALF) return ncsn_logf(u);
    u = ncsn_logf(u) * (x / (u - 1.0f));
    NCSN__OPAQUE(u);
    return u;
}

/* sin and cos on |r| <= pi/4: Taylor polynomials (degree 9 and 10) */
static float ncsn__sin_poly(float r)
{
    float z = r * r, p;
    p = 2.75573192e-6f;
    p = fmaf(p, z, -1.98412698e-4f);
    p = fmaf(p, z, 8.33333333e-3f);
    p = fmaf(p, z, -0.166666667f);
    p = fmaf(r * z, p, r);
    NCSN__OPAQUE(p);
    return p;
}
static float ncsn__cos_poly(float r)
{
    float z = r * r, p;
    p = -2.75573192e-7f;
    p = fmaf(p, z, 2.48015873e-5f);
    p = fmaf(p, z, -1.38888889e-3f);
    p = fmaf(p, z, 4.16666667e-2f);
    p = fmaf(p, z, -0.5f);
    p = fmaf(z, p, 1.0f);
    NCSN__OPAQUE(p);
    return p;
}

/* r = x - k pi/2 with k = round(x 2/pi); quadrant k mod 4. pi/2 in three parts, each step fused. */
static float ncsn__reduce_pio2(float x, int *q)
{
    int quad = 0;
    for (;;) {
        float k = fmaf(x, 0.636619772f, NCSN__MAGIC_ROUND) - NCSN__MAGIC_ROUND, r;
        r = fmaf(-k, 1.57079625129699707031f, x);
        r = fmaf(-k, 7.54978941586159635335e-08f, r);
        r = fmaf(-k, 5.39030252995776476554e-15f, r);
        if (k < 33554432.0f && k > -33554432.0f) quad += (int)((int64_t)k & 3); /* floats >= 2^25 are multiples of 4 */
        if (r <= 1.0f && r >= -1.0f) { *q = quad & 3; return r; }
        x = r;  /* only for |x| > ~6.6e6, beyond the accurate range: reduce again so |result| <= 1 */
    }
}

NCSNDEF float ncsn_sinf(float x)
{
    int q;
    float r;
    if (!ncsn__isfinite(x)) return x - x;
    r = ncsn__reduce_pio2(x, &q);
    switch (q) {
    case 0: return ncsn__sin_poly(r);
    case 1: return ncsn__cos_poly(r);
    case 2: return -ncsn__sin_poly(r);
    default: return -ncsn__cos_poly(r);
    }
}

NCSNDEF float ncsn_cosf(float x)
{
    int q;
    float r;
    if (!ncsn__isfinite(x)) return x - x;
    r = ncsn__reduce_pio2(x, &q);
    switch (q) {
    case 0: return ncsn__cos_poly(r);
    case 1: return -ncsn__sin_poly(r);
    case 2: return -ncsn__cos_poly(r);
    default: return ncsn__sin_poly(r);
    }
}

/* sin and cos of 2 pi u for u in [0, 1): exact reduction in turns (u has 24 bits). */
static void ncsn__sincos_turns(float u, float *s, float *c)
{
    float q = fmaf(u, 4.0f, NCSN__MAGIC_ROUND) - NCSN__MAGIC_ROUND;   /* nearest quarter turn */
    float r = fmaf(q, -0.25f, u) * 6.28318548f;                     /* |r| <= pi/4 */
    float sr = ncsn__sin_poly(r), cr = ncsn__cos_poly(r);
    switch ((int)q & 3) {
    case 0: *s = sr; *c = cr; break;
    case 1: *s = cr; *c = -sr; break;
    case 2: *s = -sr; *c = -cr; break;
    default: *s = -cr; *c = sr; break;
    }
}

NCSNDEF float ncsn_sigmoidf(float x)
{
    if (x <= -NCSN__EXPF_OVERFLOW) return ncsn_expf(x);  /* e^-x overflows; sigmoid(x) = e^x (1 - e^x), e^x < 2^-127 */
    return 1.0f / (1.0f + ncsn_expf(-x));
}

/* The one SiLU, also the network's activation (ncsn__act_fwd gives these bits in every lane).
   Below NCSN__SILU_CUT it is -0 and its slope 0, as a ReLU's: |silu(x)| < 2^-52 there, lost in any
   sum with a unit's ordinary values, while its tiny values made the next layer's products
   subnormal, each a slow path of the processor: a network with units that far out trained up to 6x
   slower (docs/training.md). */
#define NCSN__SILU_CUT (-40.0f)

NCSNDEF float ncsn_siluf(float x)
{
    if (x < NCSN__SILU_CUT) return -0.0f;
    x = x * ncsn_sigmoidf(x);
    NCSN__OPAQUE(x);
    return x;
}

NCSNDEF float ncsn_softplusf(float x)
{
    /* max(x,0) + ln(1 + e^-|x|), by ncsn_log1pf and ncsn_expf */
    float ax = x < 0.0f ? -x : x;
    float m = x > 0.0f ? x : 0.0f;
    if (x != x) return x;
    return m + ncsn_log1pf(ncsn_expf(-ax));
}

/* Double precision, for the schedules: same ideas, longer polynomials. */
NCSNDEF double ncsn_exp(double x)
{
    double k, r, p;
    int n, n1, i;
    static const double inv_fact[14] = {
        1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
        1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0 };
    if (x != x) return x;
    if (x > 709.782712893384) return HUGE_VAL;
    if (x < -745.2) return 0.0;
    k = fma(x, 1.4426950408889634, 6755399441055744.0) - 6755399441055744.0;
    r = fma(-k, 6.93147180369123816490e-01, x);  /* ln2 hi (32 bits) */
    r = fma(-k, 1.90821492927058770002e-10, r);  /* ln2 lo */
    p = inv_fact[13];
    for (i = 12; i >= 0; i--) p = fma(p, r, inv_fact[i]);
    n = (int)k;
    n1 = n / 2;
    p = p * ncsn__u2d((uint64_t)(n1 + 1023) << 52);
    p = p * ncsn__u2d((uint64_t)(n - n1 + 1023) << 52);
    NCSN__OPAQUE(p);
    return p;
}

NCSNDEF double ncsn_log(double x)
{
    /* x = 2^k m, m in [sqrt(2)/2, sqrt(2)), log m = f - (hfsq - s (hfsq + R)), s = f/(2+f) */
    uint64_t ix = ncsn__d2u(x);
    int k = 0, i;
    double f, s, z, p, hf;
    if (x != x) return x;
    if (x < 0.0) return NAN;
    if (x == 0.0) return -HUGE_VAL;
    if (ix >= 0x7ff0000000000000ULL) return x;
    if (ix < 0x0010000000000000ULL) { k -= 54; x *= 18014398509481984.0; ix = ncsn__d2u(x); }
    k += (int)(ix >> 52) - 1023;
    ix &= 0x000fffffffffffffULL;
    if (ix > 0x6a09e667f3bcdULL) { ix |= 0x3fe0000000000000ULL; k += 1; }
    else ix |= 0x3ff0000000000000ULL;
    f = ncsn__u2d(ix) - 1.0;
    s = f / (2.0 + f);
    z = s * s;
    p = 2.0 / 25.0;   /* R(z) = sum_{j>=1} 2 z^j/(2j+1), to j = 12 */
    for (i = 11; i >= 1; i--) p = fma(p, z, 2.0 / (2 * i + 1));
    p = p * z;        /* used only as an addend */
    hf = 0.5 * f;
    p = fma(s, fma(hf, f, p), (double)k * 1.90821492927058770002e-10);
    p = fma((double)k, 6.93147180369123816490e-01, -(fma(hf, f, -p) - f));
    NCSN__OPAQUE(p);
    return p;
}

/* sin of pi x and cos of pi x on |x| <= 1/4: Taylor in double to degree 21 and 22 */
static double ncsn__sinpi_kernel(double x)
{
    double r = x * 3.141592653589793, z = r * r, p = 0.0;
    int j;
    for (j = 10; j >= 1; j--) {  /* sin r = r + r z sum_j (-1)^j z^(j-1)/(2j+1)! */
        double c = 1.0;
        int i;
        for (i = 2; i <= 2 * j + 1; i++) c /= (double)i;
        p = fma(p, z, (j & 1) ? -c : c);
    }
    p = fma(r * z, p, r);
    NCSN__OPAQUE(p);
    return p;
}
static double ncsn__cospi_kernel(double x)
{
    double r = x * 3.141592653589793, z = r * r, p = 0.0;
    int j;
    for (j = 11; j >= 1; j--) {
        double c = 1.0;
        int i;
        for (i = 2; i <= 2 * j; i++) c /= (double)i;
        p = fma(p, z, (j & 1) ? -c : c);
    }
    p = fma(p, z, 1.0);
    NCSN__OPAQUE(p);
    return p;
}

NCSNDEF double ncsn_sinpi(double x)
{
    double q, r;
    if (x != x || x - x != 0.0) return x - x;
    if (!(fabs(x) < 1125899906842624.0)) x = fmod(x, 2.0);  /* exact; the rounding below needs |2x| < 2^51 */
    q = fma(x, 2.0, 6755399441055744.0) - 6755399441055744.0;  /* nearest multiple of 1/2, times 2 */
    r = fma(q, -0.5, x);                                         /* exact, |r| <= 1/4 */
    switch ((int)((int64_t)q & 3)) {
    case 0: return ncsn__sinpi_kernel(r);
    case 1: return ncsn__cospi_kernel(r);
    case 2: return -ncsn__sinpi_kernel(r);
    default: return -ncsn__cospi_kernel(r);
    }
}

NCSNDEF double ncsn_cospi(double x)
{
    double q, r;
    if (x != x || x - x != 0.0) return x - x;
    if (!(fabs(x) < 1125899906842624.0)) x = fmod(x, 2.0);  /* exact; the rounding below needs |2x| < 2^51 */
    q = fma(x, 2.0, 6755399441055744.0) - 6755399441055744.0;
    r = fma(q, -0.5, x);
    switch ((int)((int64_t)q & 3)) {
    case 0: return ncsn__cospi_kernel(r);
    case 1: return -ncsn__sinpi_kernel(r);
    case 2: return -ncsn__cospi_kernel(r);
    default: return ncsn__sinpi_kernel(r);
    }
}

/* ---- 5. noise schedules ------------------------------------------------------------------------ */
static float ncsn__le_f32(const unsigned char *p)
{
    return ncsn__u2f((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

/* Noise levels as files hold them: each finite and normal (>= FLT_MIN), strictly decreasing. The
   L values are s[0..L-1], or little-endian floats at le when s is NULL. */
static ncsn_status ncsn__levels_check(const char *fn, const char *what, const float *s, const unsigned char *le, int L)
{
    int i;
    float prev = 0.0f;
    for (i = 0; i < L; i++) {
        float v = s ? s[i] : ncsn__le_f32(le + 4 * (size_t)i);
        if (!(v >= FLT_MIN) || !ncsn__isfinite(v))
            return ncsn__fail(NCSN_ERR_FORMAT, "%s: %s[%d] = %g must be a finite normal float > 0", fn, what, i, (double)v);
        if (i > 0 && !(v < prev))
            return ncsn__fail(NCSN_ERR_FORMAT, "%s: %s[%d] = %g is not below the level before it (%g): noise levels must decrease strictly",
                              fn, what, i, (double)v, (double)prev);
        prev = v;
    }
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_schedule(float *sigmas, int L, float sigma_max, float sigma_min,
                                  ncsn_schedule_kind kind)
{
    int i;
    double lr;
    if (!sigmas) return ncsn__fail(NCSN_ERR_ARG, "ncsn_schedule: sigmas = NULL");
    if (L < 2) return ncsn__fail(NCSN_ERR_ARG, "ncsn_schedule: L = %d must be >= 2", L);
    if (!(sigma_min >= FLT_MIN) || !ncsn__isfinite(sigma_min))   /* normal: as every file of levels must hold */
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_schedule: sigma_min = %g must be finite, normal and > 0", (double)sigma_min);
    if (!(sigma_max > sigma_min) || !ncsn__isfinite(sigma_max))
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_schedule: sigma_max = %g must be finite and > sigma_min = %g",
                          (double)sigma_max, (double)sigma_min);
    if (kind != NCSN_SCHEDULE_GEOMETRIC && kind != NCSN_SCHEDULE_LINEAR && kind != NCSN_SCHEDULE_COSINE)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_schedule: kind = %d is not a schedule", (int)kind);
    lr = ncsn_log((double)sigma_min / (double)sigma_max);
    for (i = 0; i < L; i++) {
        double t = (double)i / (double)(L - 1), s;
        if (kind == NCSN_SCHEDULE_GEOMETRIC) s = (double)sigma_max * ncsn_exp(t * lr);
        else if (kind == NCSN_SCHEDULE_LINEAR) s = fma(t, (double)sigma_min - (double)sigma_max, (double)sigma_max);
        else s = fma(((double)sigma_max - (double)sigma_min) * 0.5, 1.0 + ncsn_cospi(t), (double)sigma_min);
        sigmas[i] = (float)s;
    }
    sigmas[0] = sigma_max;
    sigmas[L - 1] = sigma_min;
    for (i = 1; i < L; i++)
        if (!(sigmas[i] < sigmas[i - 1]))
            return ncsn__fail(NCSN_ERR_ARG, "ncsn_schedule: L = %d too large for [%g, %g]: levels %d and %d coincide in float",
                              L, (double)sigma_min, (double)sigma_max, i - 1, i);
    return NCSN_OK;
}

/* ---- 6. kernels: the vector vocabulary ---------------------------------------------------------------------------
   Kernels are written once, against the generic names below, and each lane runs the scalar
   sequence of one output. Every instruction set has one table of those names, prefixed with its
   own (ncsn__avx2_load, ...); NCSN__ISA names the set being compiled (the kernel blocks further
   down are expanded once per set, each copy reading its set's table), and NCSN__K(name) is the
   copy's own name for a kernel: ncsn__avx2_gemm_acc, ... */
#define NCSN__K(name) NCSN__K_(NCSN__ISA, name)
#define NCSN__K_(isa, name) NCSN__K__(isa, name)
#define NCSN__K__(isa, name) isa##name
#define ncsn__v NCSN__K(v)            /* NCSN__VL floats */
#define ncsn__vi NCSN__K(vi)          /* NCSN__VL 32-bit integers */
#define ncsn__vm NCSN__K(vm)          /* a lane mask, from a comparison */
#define NCSN__VL NCSN__K(VL)
#define NCSN__VREGS NCSN__K(VREGS)    /* vector registers: 32 allow the larger register tiles */
#define NCSN__TARGET NCSN__K(target)  /* the function attribute that enables the set (dispatch) */
#define ncsn__vload(p) NCSN__K(load)(p)
#define ncsn__vstore(p, v) NCSN__K(store)(p, v)
#define ncsn__vset1(x) NCSN__K(set1)(x)
#define ncsn__vfma(a, b, c) NCSN__K(fma)(a, b, c)   /* a * b + c, rounded once */
#define ncsn__vadd(a, b) NCSN__K(add)(a, b)
#define ncsn__vsub(a, b) NCSN__K(sub)(a, b)
#define ncsn__vmul(a, b) NCSN__K(mul)(a, b)
#define ncsn__vdiv(a, b) NCSN__K(div)(a, b)
#define ncsn__vsqrt(a) NCSN__K(sqrt)(a)
#define ncsn__vneg(x) NCSN__K(neg)(x)
#define ncsn__vcvt_i(x) NCSN__K(cvt_i)(x)         /* x integral: exact */
#define ncsn__vi_set1(c) NCSN__K(i_set1)(c)
#define ncsn__vi_add(a, b) NCSN__K(i_add)(a, b)
#define ncsn__vi_sub(a, b) NCSN__K(i_sub)(a, b)
#define ncsn__vi_and(a, b) NCSN__K(i_and)(a, b)
#define ncsn__vi_srai(a, c) NCSN__K(i_srai)(a, c)
#define ncsn__vi_slli(a, c) NCSN__K(i_slli)(a, c)
#define ncsn__vi_asf(a) NCSN__K(i_asf)(a)         /* the bits as floats */
#define ncsn__vgt(a, b) NCSN__K(gt)(a, b)
#define ncsn__vlt(a, b) NCSN__K(lt)(a, b)
#define ncsn__vle(a, b) NCSN__K(le)(a, b)
#define ncsn__vnan(a) NCSN__K(nan)(a)
#define ncsn__vsel(m, a, b) NCSN__K(sel)(m, a, b)  /* m ? b : a, lane by lane */
#define ncsn__vany(m) NCSN__K(any)(m)
/* the vector exp and its helpers inlined into every kernel that calls them: called, each call
   reloads its dozen constants (gcc 12 did not inline it into the avx2 SiLU) */
#if defined(__GNUC__)
#define NCSN__VINLINE __inline__ __attribute__((always_inline))
#else
#define NCSN__VINLINE
#endif
#if defined(NCSN__DISPATCH)
#define NCSN__TARGET_ATTR(s) __attribute__((target(s)))
#else
#define NCSN__TARGET_ATTR(s)
#endif
#define ncsn__target                  /* the scalar references (prefix ncsn__) */
#define ncsn__scalar_target

#if defined(NCSN__AVX512)
typedef __m512 ncsn__avx512_v;
typedef __m512i ncsn__avx512_vi;
typedef __mmask16 ncsn__avx512_vm;
#define ncsn__avx512_VL 16
#define ncsn__avx512_VREGS 32
#define ncsn__avx512_target NCSN__TARGET_ATTR("avx512f,avx2,fma")
#define ncsn__avx512_load(p) _mm512_loadu_ps(p)
#define ncsn__avx512_store(p, v) _mm512_storeu_ps(p, v)
#define ncsn__avx512_set1(x) _mm512_set1_ps(x)
#define ncsn__avx512_fma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define ncsn__avx512_add(a, b) _mm512_add_ps(a, b)
#define ncsn__avx512_sub(a, b) _mm512_sub_ps(a, b)
#define ncsn__avx512_mul(a, b) _mm512_mul_ps(a, b)
#define ncsn__avx512_div(a, b) _mm512_div_ps(a, b)
#define ncsn__avx512_sqrt(a) _mm512_maskz_sqrt_ps((__mmask16)0xffff, a)   /* maskz: no g++ 12 false positive */
#define ncsn__avx512_neg(x) _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u)))
#define ncsn__avx512_cvt_i(x) _mm512_maskz_cvtps_epi32((__mmask16)0xffff, x)   /* maskz: no g++ 12 false positive */
#define ncsn__avx512_i_set1(c) _mm512_set1_epi32(c)
#define ncsn__avx512_i_add(a, b) _mm512_add_epi32(a, b)
#define ncsn__avx512_i_sub(a, b) _mm512_sub_epi32(a, b)
#define ncsn__avx512_i_and(a, b) _mm512_and_si512(a, b)
#define ncsn__avx512_i_srai(a, c) _mm512_srai_epi32(a, c)
#define ncsn__avx512_i_slli(a, c) _mm512_slli_epi32(a, c)
#define ncsn__avx512_i_asf(a) _mm512_castsi512_ps(a)
#define ncsn__avx512_gt(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#define ncsn__avx512_lt(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define ncsn__avx512_le(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ)
#define ncsn__avx512_nan(a) _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q)
#define ncsn__avx512_sel(m, a, b) _mm512_mask_blend_ps(m, a, b)
#define ncsn__avx512_any(m) ((m) != 0)
#endif

#if defined(NCSN__AVX2)
typedef __m256 ncsn__avx2_v;
typedef __m256i ncsn__avx2_vi;
typedef __m256 ncsn__avx2_vm;
#define ncsn__avx2_VL 8
#define ncsn__avx2_VREGS 16
#define ncsn__avx2_target NCSN__TARGET_ATTR("avx2,fma")
#define ncsn__avx2_load(p) _mm256_loadu_ps(p)
#define ncsn__avx2_store(p, v) _mm256_storeu_ps(p, v)
#define ncsn__avx2_set1(x) _mm256_set1_ps(x)
#define ncsn__avx2_fma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define ncsn__avx2_add(a, b) _mm256_add_ps(a, b)
#define ncsn__avx2_sub(a, b) _mm256_sub_ps(a, b)
#define ncsn__avx2_mul(a, b) _mm256_mul_ps(a, b)
#define ncsn__avx2_div(a, b) _mm256_div_ps(a, b)
#define ncsn__avx2_sqrt(a) _mm256_sqrt_ps(a)
#define ncsn__avx2_neg(x) _mm256_xor_ps(x, _mm256_set1_ps(-0.0f))
#define ncsn__avx2_cvt_i(x) _mm256_cvtps_epi32(x)
#define ncsn__avx2_i_set1(c) _mm256_set1_epi32(c)
#define ncsn__avx2_i_add(a, b) _mm256_add_epi32(a, b)
#define ncsn__avx2_i_sub(a, b) _mm256_sub_epi32(a, b)
#define ncsn__avx2_i_and(a, b) _mm256_and_si256(a, b)
#define ncsn__avx2_i_srai(a, c) _mm256_srai_epi32(a, c)
#define ncsn__avx2_i_slli(a, c) _mm256_slli_epi32(a, c)
#define ncsn__avx2_i_asf(a) _mm256_castsi256_ps(a)
#define ncsn__avx2_gt(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define ncsn__avx2_lt(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define ncsn__avx2_le(a, b) _mm256_cmp_ps(a, b, _CMP_LE_OQ)
#define ncsn__avx2_nan(a) _mm256_cmp_ps(a, a, _CMP_UNORD_Q)
#define ncsn__avx2_sel(m, a, b) _mm256_blendv_ps(a, b, m)
#define ncsn__avx2_any(m) (_mm256_movemask_ps(m) != 0)
#endif

#if defined(NCSN__SSE2)
/* SSE2 has no fused multiply-add: emulate a correctly rounded one. a*b is exact in double; the
   double sum is rounded to odd (TwoSum gives its exact error); rounding that to float once more is
   then the correctly rounded a*b + c (53 >= 24 + 2 bits), as fmaf. */
static __m128d ncsn__fma_pd_odd(__m128d a, __m128d b, __m128d c)
{
    __m128d p = _mm_mul_pd(a, b), s = _mm_add_pd(p, c), bb = _mm_sub_pd(s, p), zero = _mm_setzero_pd();
    __m128d err = _mm_add_pd(_mm_sub_pd(p, _mm_sub_pd(s, bb)), _mm_sub_pd(c, bb));
    __m128d fin = _mm_cmplt_pd(_mm_andnot_pd(_mm_set1_pd(-0.0), s), _mm_set1_pd(HUGE_VAL));
    __m128d inexact = _mm_and_pd(_mm_cmpneq_pd(err, zero), fin);
    __m128d toward0 = _mm_and_pd(_mm_xor_pd(_mm_cmplt_pd(err, zero), _mm_cmplt_pd(s, zero)), inexact);
    const __m128i one = _mm_set_epi32(0, 1, 0, 1);
    __m128i bits = _mm_sub_epi64(_mm_castpd_si128(s), _mm_and_si128(_mm_castpd_si128(toward0), one)); /* truncate */
    bits = _mm_or_si128(bits, _mm_and_si128(_mm_castpd_si128(inexact), one));                            /* odd if inexact */
    return _mm_castsi128_pd(bits);
}
static __m128 ncsn__sse2_fma(__m128 a, __m128 b, __m128 c)
{
    __m128d lo = ncsn__fma_pd_odd(_mm_cvtps_pd(a), _mm_cvtps_pd(b), _mm_cvtps_pd(c));
    __m128d hi = ncsn__fma_pd_odd(_mm_cvtps_pd(_mm_movehl_ps(a, a)), _mm_cvtps_pd(_mm_movehl_ps(b, b)), _mm_cvtps_pd(_mm_movehl_ps(c, c)));
    return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}
typedef __m128 ncsn__sse2_v;
typedef __m128i ncsn__sse2_vi;
typedef __m128 ncsn__sse2_vm;
#define ncsn__sse2_VL 4
#define ncsn__sse2_VREGS 16
#define ncsn__sse2_target             /* the x86-64 baseline (and required on i386) */
#define ncsn__sse2_load(p) _mm_loadu_ps(p)
#define ncsn__sse2_store(p, v) _mm_storeu_ps(p, v)
#define ncsn__sse2_set1(x) _mm_set1_ps(x)
/* ncsn__sse2_fma is the function above */
#define ncsn__sse2_add(a, b) _mm_add_ps(a, b)
#define ncsn__sse2_sub(a, b) _mm_sub_ps(a, b)
#define ncsn__sse2_mul(a, b) _mm_mul_ps(a, b)
#define ncsn__sse2_div(a, b) _mm_div_ps(a, b)
#define ncsn__sse2_sqrt(a) _mm_sqrt_ps(a)
#define ncsn__sse2_neg(x) _mm_xor_ps(x, _mm_set1_ps(-0.0f))
#define ncsn__sse2_cvt_i(x) _mm_cvtps_epi32(x)
#define ncsn__sse2_i_set1(c) _mm_set1_epi32(c)
#define ncsn__sse2_i_add(a, b) _mm_add_epi32(a, b)
#define ncsn__sse2_i_sub(a, b) _mm_sub_epi32(a, b)
#define ncsn__sse2_i_and(a, b) _mm_and_si128(a, b)
#define ncsn__sse2_i_srai(a, c) _mm_srai_epi32(a, c)
#define ncsn__sse2_i_slli(a, c) _mm_slli_epi32(a, c)
#define ncsn__sse2_i_asf(a) _mm_castsi128_ps(a)
#define ncsn__sse2_gt(a, b) _mm_cmpgt_ps(a, b)
#define ncsn__sse2_lt(a, b) _mm_cmplt_ps(a, b)
#define ncsn__sse2_le(a, b) _mm_cmple_ps(a, b)
#define ncsn__sse2_nan(a) _mm_cmpunord_ps(a, a)
#define ncsn__sse2_sel(m, a, b) _mm_or_ps(_mm_and_ps(m, b), _mm_andnot_ps(m, a))
#define ncsn__sse2_any(m) (_mm_movemask_ps(m) != 0)
#endif

#if defined(NCSN__NEON)
typedef float32x4_t ncsn__neon_v;
typedef int32x4_t ncsn__neon_vi;
typedef uint32x4_t ncsn__neon_vm;
#define ncsn__neon_VL 4
#define ncsn__neon_VREGS 32
#define ncsn__neon_target             /* the aarch64 baseline */
#define ncsn__neon_load(p) vld1q_f32(p)
#define ncsn__neon_store(p, v) vst1q_f32(p, v)
#define ncsn__neon_set1(x) vdupq_n_f32(x)
#define ncsn__neon_fma(a, b, c) vfmaq_f32(c, a, b)
#define ncsn__neon_add(a, b) vaddq_f32(a, b)
#define ncsn__neon_sub(a, b) vsubq_f32(a, b)
#define ncsn__neon_mul(a, b) vmulq_f32(a, b)
#define ncsn__neon_div(a, b) vdivq_f32(a, b)
#define ncsn__neon_sqrt(a) vsqrtq_f32(a)
#define ncsn__neon_neg(x) vnegq_f32(x)
#define ncsn__neon_cvt_i(x) vcvtq_s32_f32(x)     /* truncation: exact on the integral argument */
#define ncsn__neon_i_set1(c) vdupq_n_s32(c)
#define ncsn__neon_i_add(a, b) vaddq_s32(a, b)
#define ncsn__neon_i_sub(a, b) vsubq_s32(a, b)
#define ncsn__neon_i_and(a, b) vandq_s32(a, b)
#define ncsn__neon_i_srai(a, c) vshrq_n_s32(a, c)
#define ncsn__neon_i_slli(a, c) vshlq_n_s32(a, c)
#define ncsn__neon_i_asf(a) vreinterpretq_f32_s32(a)
#define ncsn__neon_gt(a, b) vcgtq_f32(a, b)
#define ncsn__neon_lt(a, b) vcltq_f32(a, b)
#define ncsn__neon_le(a, b) vcleq_f32(a, b)
#define ncsn__neon_nan(a) vmvnq_u32(vceqq_f32(a, a))
#define ncsn__neon_sel(m, a, b) vbslq_f32(m, b, a)
#define ncsn__neon_any(m) (vmaxvq_u32(m) != 0)
#endif

/* Cache blocking: 64 rows x 64 inputs x 256 outputs at a time, so the weight panel (64 KB) and the
   rows stay in cache. Y holds each running sum between blocks and k still runs 0..K-1 in order
   for every output, so the blocking changes no bit. */
#define NCSN__GEMM_BB 64
#define NCSN__GEMM_KB 64
#define NCSN__GEMM_NB 256
/* Wide weights (rows longer than NCSN__GEMM_PB) are copied a 64 x 128 panel at a time into a
   contiguous stack buffer (32 KB, fits L1) that all B rows then reuse: with 1024-float rows the
   unpacked panel's rows all map to the same L1 set and miss. Only the memory layout changes. */
#define NCSN__GEMM_PB 128
#define NCSN__ALIGN64(buf) ((buf) + (16 - ((size_t)(buf) / sizeof(float)) % 16) % 16)   /* a float[n + 16] buffer's first 64-byte boundary */

/* Sums over the batch go in fixed blocks of NCSN__SUM_BLOCK samples: each block is summed from
   zero in sample order, then added to the total in block order. The grouping depends on nothing
   but the batch size, is more accurate than one running float sum, and lets threads own blocks. */
#define NCSN__SUM_BLOCK 64
/* Wide inputs or outputs: each 64-sample block's dY (64 x 128) and X (64 x 48) are first copied
   into contiguous stack buffers (44 KB), for the same reason as in ncsn__gemm_acc. Rows of up to
   NCSN__TN_PACK_LD floats cache well unpacked (128-wide: 139 GFLOP/s unpacked, 128 packed). */
#define NCSN__TN_KC 48
#define NCSN__TN_PACK_LD 256

/* The references: one fmaf per term, in the documented order. The scalar path runs them (as
   ncsn__gemm_acc_ref, ...), and each vector set's copy does its kernels' tails. */
#define NCSN__REF_KERNELS \
/* Y[b][o] = fma(X[b][k], W[k][o], Y[b][o]) for k = 0..K-1 in order (Y holds the start). */ \
static NCSN__TARGET void NCSN__K(gemm_acc_ref)(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, \
                               int B, int K, int N) \
{ \
    int b, k, o; \
    for (b = 0; b < B; b++) \
        for (o = 0; o < N; o++) { \
            float acc = Y[(size_t)b * ldy + o]; \
            for (k = 0; k < K; k++) acc = fmaf(X[(size_t)b * ldx + k], W[(size_t)k * ldw + o], acc); \
            Y[(size_t)b * ldy + o] = acc; \
        } \
} \
\
/* dW[k][o] += sum over blocks of (sum_b X[b][k] dY[b][o], fused, from 0, b in order) (accumulates). */ \
static NCSN__TARGET void NCSN__K(gemm_tn_acc_ref)(float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, \
                                  int B, int K, int N) \
{ \
    int b, b0, k, o; \
    for (k = 0; k < K; k++) \
        for (o = 0; o < N; o++) { \
            float tot = dW[(size_t)k * ldw + o]; \
            for (b0 = 0; b0 < B; b0 += NCSN__SUM_BLOCK) { \
                float acc = 0.0f; \
                for (b = b0; b < B && b < b0 + NCSN__SUM_BLOCK; b++) acc = fmaf(X[(size_t)b * ldx + k], dY[(size_t)b * ldy + o], acc); \
                tot = tot + acc; \
            } \
            dW[(size_t)k * ldw + o] = tot; \
        } \
} \
/* end of NCSN__REF_KERNELS */
#define NCSN__ISA ncsn__
NCSN__REF_KERNELS
#undef NCSN__ISA

/* What a product does with a tile of its output (at most 64 rows x 256 outputs, still in cache)
   before its first k and after its last: the layer's bias and activation, fused so that neither
   is a pass over memory of its own. Each output element keeps its sequence of operations: it
   starts at bias[o] (or +0) instead of a copy of it, and the activation or its derivative is the
   same elementwise kernel on the same values. a, sg and z are indexed as Y (Y's leading dimension). */
typedef void (*ncsn__act_fwd_fn)(float *a, float *sg, const float *z, size_t n, ncsn_act act);
typedef void (*ncsn__act_bwd_fn)(float *dz, const float *da, const float *z, const float *sg, size_t n, ncsn_act act);
typedef struct ncsn__gemm_ep {
    const float *bias;    /* non-NULL: Y[b][o] starts at bias[o], Y's old value unread */
    const float *rows;    /* non-NULL (no bias): Y[b][o] starts at rows[row_of[b] * ld_rows + o] */
    const int *row_of;
    int ld_rows;
    int zero;             /* (no bias) Y[b][o] starts at +0 */
    float *a, *sg;        /* non-NULL a: forward, a = act(Y), sg = sigmoid(Y) */
    const float *z;       /* non-NULL z: backward, Y = Y act'(z) (sg: the stored sigmoid of z) */
    ncsn_act act;
    ncsn__act_fwd_fn fwd; /* the elementwise kernels of the path that runs the product */
    ncsn__act_bwd_fn bwd;
} ncsn__gemm_ep;

/* ep for the part of Y that starts off elements (row-major) and col columns in */
static ncsn__gemm_ep ncsn__ep_at(const ncsn__gemm_ep *ep, size_t off, int row, int col)
{
    ncsn__gemm_ep e = *ep;
    if (e.bias) e.bias += col;
    if (e.rows) { e.rows += col; e.row_of += row; }
    if (e.a) e.a += off;
    if (e.sg) e.sg += off;
    if (e.z) e.z += off;
    return e;
}

/* before the first k of the tile Y [bb][nb] at (b0, n0) */
static void ncsn__ep_start(const ncsn__gemm_ep *ep, float *Y, int ldy, int b0, int n0, int bb, int nb)
{
    int b, o;
    if (!ep || (!ep->bias && !ep->rows && !ep->zero)) return;
    for (b = b0; b < b0 + bb; b++) {
        float *y = Y + (size_t)b * ldy + n0;
        if (ep->bias) memcpy(y, ep->bias + n0, (size_t)nb * sizeof(float));
        else if (ep->rows) memcpy(y, ep->rows + (size_t)ep->row_of[b] * ep->ld_rows + n0, (size_t)nb * sizeof(float));
        else for (o = 0; o < nb; o++) y[o] = 0.0f;
    }
}

/* after the last k of the tile */
static void ncsn__ep_finish(const ncsn__gemm_ep *ep, float *Y, int ldy, int b0, int n0, int bb, int nb)
{
    int b;
    size_t len = (size_t)nb;
    if (!ep || (!ep->a && !ep->z)) return;
    if (nb == ldy) {   /* whole rows: the tile is contiguous, one call (each call sets up its constants) */
        len *= (size_t)bb;
        bb = bb > 0;
    }
    for (b = b0; b < b0 + bb; b++) {
        size_t r = (size_t)b * ldy + n0;
        if (ep->a) ep->fwd(ep->a + r, ep->sg ? ep->sg + r : NULL, Y + r, len, ep->act);
        else ep->bwd(Y + r, Y + r, ep->z + r, ep->sg ? ep->sg + r : NULL, len, ep->act);
    }
}

/* The tile's start read by the vector block kernels themselves (ncsn__gemm_from_fn): the first k
   block loads its accumulators from the bias row, the slot's row or zeros instead of from Y after
   ncsn__ep_start wrote them there (a pass over each tile, and at B 5000 the first write of dX).
   Tiles are at most NCSN__GEMM_NB wide, so one zero row serves them all. */
#if defined(NCSN__AVX512) || defined(NCSN__AVX2) || defined(NCSN__SSE2) || defined(NCSN__NEON)
static const float ncsn__zero_row[NCSN__GEMM_NB] = { 0.0f };
/* what row b (of Y) starts at, from column n0 on */
static const float *ncsn__ep_row(const ncsn__gemm_ep *ep, int b, int n0)
{
    if (ep->bias) return ep->bias + n0;
    if (ep->rows) return ep->rows + (size_t)ep->row_of[b] * ep->ld_rows + n0;
    return ncsn__zero_row;
}
#endif
static int ncsn__ep_starts(const ncsn__gemm_ep *ep)
{
    return ep && (ep->bias || ep->rows || ep->zero);
}
/* The cache blocking shared by every path: 64 rows x 64 inputs x 256 outputs at a time, each
   block by the path's own block kernel (the reference on the scalar path). from (NULL on the
   scalar path): the block kernel that also applies ep's start, for each tile's first k block. */
typedef void (*ncsn__gemm_fn)(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N);
typedef void (*ncsn__gemm_from_fn)(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                                   const ncsn__gemm_ep *ep, int b0, int n0);
typedef void (*ncsn__gemm_ep_fn)(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                                 const ncsn__gemm_ep *ep);
static void ncsn__gemm_tiles(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                             ncsn__gemm_fn block, ncsn__gemm_from_fn from, const ncsn__gemm_ep *ep)
{
    int n0, b0, k0, fused = from && K > 0 && ncsn__ep_starts(ep);
    for (n0 = 0; n0 < N; n0 += NCSN__GEMM_NB) {
        int nb = N - n0 < NCSN__GEMM_NB ? N - n0 : NCSN__GEMM_NB;
        for (b0 = 0; b0 < B; b0 += NCSN__GEMM_BB) {
            int bb = B - b0 < NCSN__GEMM_BB ? B - b0 : NCSN__GEMM_BB;
            if (!fused) ncsn__ep_start(ep, Y, ldy, b0, n0, bb, nb);
            for (k0 = 0; k0 < K; k0 += NCSN__GEMM_KB) {
                int kb = K - k0 < NCSN__GEMM_KB ? K - k0 : NCSN__GEMM_KB;
                if (fused && k0 == 0)
                    from(Y + (size_t)b0 * ldy + n0, ldy, X + (size_t)b0 * ldx, ldx, W + n0, ldw, bb, kb, nb, ep, b0, n0);
                else
                    block(Y + (size_t)b0 * ldy + n0, ldy, X + (size_t)b0 * ldx + k0, ldx,
                          W + (size_t)k0 * ldw + n0, ldw, bb, kb, nb);
            }
            ncsn__ep_finish(ep, Y, ldy, b0, n0, bb, nb);
        }
    }
}

/* the same for dW: NCSN__GEMM_NB (256) outputs at a time, so a block's dY panel (64 KB) stays in
   cache. With db non-NULL, the bias gradient's column sums of that panel follow each block while
   it is in cache: db[o] += (the block's sum from 0), blocks in order, as ncsn__scalar_colsum_acc. */
typedef void (*ncsn__colsum_fn)(float *db, const float *dY, int ldy, int B, int N);
typedef void (*ncsn__gemm_tn_fn)(float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, int B, int K, int N,
                                 float *db);
static void ncsn__gemm_tn_tiles(float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, int B, int K, int N,
                                ncsn__gemm_fn block, float *db, ncsn__colsum_fn colsum)
{
    int b0, n0;
    for (n0 = 0; n0 < N; n0 += NCSN__GEMM_NB) {
        int nb = N - n0 < NCSN__GEMM_NB ? N - n0 : NCSN__GEMM_NB;
        for (b0 = 0; b0 < B; b0 += NCSN__SUM_BLOCK) {
            int bb = B - b0 < NCSN__SUM_BLOCK ? B - b0 : NCSN__SUM_BLOCK;
            block(dW + n0, ldw, X + (size_t)b0 * ldx, ldx, dY + (size_t)b0 * ldy + n0, ldy, bb, K, nb);
            if (db) colsum(db + n0, dY + (size_t)b0 * ldy + n0, ldy, bb, nb);
        }
    }
}

/* Y = ep's start + X W^T, W stored [N][K] (ldw): dX = dY W^T from the weights as they are stored,
   without a transposed copy. A panel of W^T (up to 128 k x 128 outputs, 64 KB) is transposed
   into a stack buffer, which every row of X then reuses through the path's block kernel (narrow:
   outputs fewer than a vector); each output is still one fma per k, k in order, panel after
   panel. One panel holds K <= 128 whole, so a tile of Y stays in cache from its start to its
   activation. */
#define NCSN__NT_KP (2 * NCSN__GEMM_KB)
static void ncsn__gemm_nt_panels(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                                 ncsn__gemm_fn block, ncsn__gemm_from_fn from, const ncsn__gemm_ep *ep)
{
    float buf[NCSN__NT_KP * NCSN__GEMM_PB + 16];
    float *pk = NCSN__ALIGN64(buf);
    int kp = K <= NCSN__NT_KP ? K : NCSN__GEMM_KB, n0, k0, b0, kk, j;
    if (K == 0) {   /* the start and the activation alone */
        ncsn__ep_start(ep, Y, ldy, 0, 0, B, N);
        ncsn__ep_finish(ep, Y, ldy, 0, 0, B, N);
        return;
    }
    for (n0 = 0; n0 < N; n0 += NCSN__GEMM_PB) {
        int nb = N - n0 < NCSN__GEMM_PB ? N - n0 : NCSN__GEMM_PB;
        for (k0 = 0; k0 < K; k0 += kp) {
            int kb = K - k0 < kp ? K - k0 : kp;
            for (j = 0; j + 4 <= nb; j += 4) {   /* 4 rows of W at a time: 4 consecutive floats per store run */
                const float *w0 = W + (size_t)(n0 + j) * ldw + k0, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
                for (kk = 0; kk < kb; kk++) {
                    float *d = pk + (size_t)kk * nb + j;
                    d[0] = w0[kk]; d[1] = w1[kk]; d[2] = w2[kk]; d[3] = w3[kk];
                }
            }
            for (; j < nb; j++) {
                const float *w = W + (size_t)(n0 + j) * ldw + k0;
                for (kk = 0; kk < kb; kk++) pk[(size_t)kk * nb + j] = w[kk];
            }
            for (b0 = 0; b0 < B; b0 += NCSN__GEMM_BB) {
                int bb = B - b0 < NCSN__GEMM_BB ? B - b0 : NCSN__GEMM_BB;
                if (k0 == 0 && from && ncsn__ep_starts(ep))
                    from(Y + (size_t)b0 * ldy + n0, ldy, X + (size_t)b0 * ldx, ldx, pk, nb, bb, kb, nb, ep, b0, n0);
                else {
                    if (k0 == 0) ncsn__ep_start(ep, Y, ldy, b0, n0, bb, nb);
                    block(Y + (size_t)b0 * ldy + n0, ldy, X + (size_t)b0 * ldx + k0, ldx, pk, nb, bb, kb, nb);
                }
                if (k0 + kb == K) ncsn__ep_finish(ep, Y, ldy, b0, n0, bb, nb);
            }
        }
    }
}

static void ncsn__scalar_gemm_acc(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                                  const ncsn__gemm_ep *ep)
{
    ncsn__gemm_tiles(Y, ldy, X, ldx, W, ldw, B, K, N, ncsn__gemm_acc_ref, NULL, ep);
}

static void ncsn__scalar_gemm_nt(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                                 const ncsn__gemm_ep *ep)
{
    ncsn__gemm_nt_panels(Y, ldy, X, ldx, W, ldw, B, K, N, ncsn__gemm_acc_ref, NULL, ep);
}

/* db[o] += sum over blocks of (sum_b dY[b][o] from 0, b in order), blocks in order. */
static void ncsn__scalar_colsum_acc(float *db, const float *dY, int ldy, int B, int N)
{
    int b, b0, o;
    for (o = 0; o < N; o++) {
        float tot = db[o];
        for (b0 = 0; b0 < B; b0 += NCSN__SUM_BLOCK) {
            float a = 0.0f;
            for (b = b0; b < B && b < b0 + NCSN__SUM_BLOCK; b++) a += dY[(size_t)b * ldy + o];
            tot += a;
        }
        db[o] = tot;
    }
}

static void ncsn__scalar_gemm_tn_acc(float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, int B, int K, int N,
                                     float *db)
{
    ncsn__gemm_tn_tiles(dW, ldw, X, ldx, dY, ldy, B, K, N, ncsn__gemm_tn_acc_ref, db, ncsn__scalar_colsum_acc);
}

/* a = act(z); for SiLU also sg = sigmoid(z) (0 below the cut: slope 0), kept for the backward pass */
static void ncsn__scalar_act_fwd(float *a, float *sg, const float *z, size_t n, ncsn_act act)
{
    size_t i;
    if (act != NCSN_ACT_SILU) {
        for (i = 0; i < n; i++) a[i] = ncsn_softplusf(z[i]);
        return;
    }
    for (i = 0; i < n; i++) {
        float s = z[i] < NCSN__SILU_CUT ? 0.0f : ncsn_sigmoidf(z[i]);
        sg[i] = s;
        a[i] = z[i] < NCSN__SILU_CUT ? -0.0f : z[i] * s;   /* ncsn_siluf's bits */
    }
}

/* dz = da * act'(z): silu' = s + z s (1 - s) = fma(z s, 1 - s, s) with the stored s; softplus' = sigmoid */
static void ncsn__scalar_act_bwd(float *dz, const float *da, const float *z, const float *sg, size_t n, ncsn_act act)
{
    size_t i;
    if (act != NCSN_ACT_SILU) {
        for (i = 0; i < n; i++) dz[i] = da[i] * ncsn_sigmoidf(z[i]);
        return;
    }
    for (i = 0; i < n; i++) {
        float s = sg[i], d = fmaf(z[i] * s, 1.0f - s, s);
        dz[i] = da[i] * d;
    }
}

/* one Adam update's constants, and the update itself on parameters [lo, hi) */
typedef struct ncsn__adam_job {
    float *params, *m, *v;
    const float *grads;
    float *zero;    /* non-NULL: the gradients (grads), each set to +0 once read: no zeroing pass of its own */
    float step_size, bc2_sqrt, omb1, omb2, beta2, eps, decay;
    int decoupled;
    size_t n;
    int nonfinite;   /* set by a part that wrote a non-finite weight or moment */
} ncsn__adam_job;

/* returns nonzero when a weight or moment it wrote is not finite: the trainer's check of them,
   without a pass of its own */
static int ncsn__scalar_adam(const ncsn__adam_job *a, size_t lo, size_t hi)
{
    size_t i;
    float *params = a->params, *mm = a->m, *vv = a->v;
    const float *grads = a->grads;
    int bad = 0;
    for (i = lo; i < hi; i++) {
        float g = grads[i], m = mm[i], v = vv[i], p = params[i], denom;
        if (a->zero) a->zero[i] = 0.0f;
        if (a->decoupled) p = p * a->decay;
        m = fmaf(a->omb1, g - m, m);              /* m.lerp_(g, 1 - beta1) */
        v = fmaf(a->omb2 * g, g, v * a->beta2);   /* v.mul_(beta2).addcmul_(g, g, 1 - beta2) */
        denom = sqrtf(v) / a->bc2_sqrt + a->eps;
        params[i] = fmaf(-a->step_size, m / denom, p);
        mm[i] = m;
        vv[i] = v;
        if (!ncsn__isfinite(params[i]) || !ncsn__isfinite(m) || !ncsn__isfinite(v)) bad = 1;
    }
    return bad;
}

/* index of the first non-finite value, or n */
static size_t ncsn__scalar_first_nonfinite(const float *g, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!ncsn__isfinite(g[i])) return i;
    return n;
}

static void ncsn__scalar_langevin(float *x, const float *score, const float *z, size_t n, float c_score, float c_noise)
{
    size_t i;
    for (i = 0; i < n; i++) x[i] = fmaf(c_noise, z[i], fmaf(c_score, score[i], x[i]));
}

/* |a - b|^2 in double, one fma per element in order (the training layer and the stable target) */
static double ncsn__sqdist(const float *a, const float *b, int dim)
{
    double s = 0.0;
    int d;
    for (d = 0; d < dim; d++) {
        double t = (double)a[d] - (double)b[d];
        s = fma(t, t, s);
    }
    return s;
}

/* The stable target's shift of one row b of a DSM batch (x clean, xt perturbed, [B, D]):
   delta_b = sum_j w_j (x_j - x_b) / sum_j w_j with w_j = e^(-a_j) (ncsn_expf), a_j = (|xt_b - x_j|^2
   - min_k |xt_b - x_k|^2) / (2 sigma^2), so that the largest weight is 1. Distances in double;
   a_j >= 104 (e^-a is 0 in float) and NaN are skipped; tot and each delta[d] are one chain over j. */
typedef struct ncsn__stf_args {
    const float *x, *xt, *sigma;
    float *delta;
    int B, D;
} ncsn__stf_args;
#define NCSN__STF_SKIP 104.0
#define NCSN__STF_LANES 16   /* the widest vector set's lanes: each thread's scratch is (B + D) * 1.5 * 16 doubles */

static void ncsn__stf_row_ref(const ncsn__stf_args *s, int b)
{
    size_t D = (size_t)s->D, d;
    const float *xt = s->xt + (size_t)b * D, *xb = s->x + (size_t)b * D;
    float *delta = s->delta + (size_t)b * D, sg = s->sigma[b], tot = 0.0f, r;
    double qmin = HUGE_VAL, inv2s2 = 0.5 / ((double)sg * (double)sg), a;
    int k;
    for (k = 0; k < s->B; k++) {
        double q = ncsn__sqdist(xt, s->x + (size_t)k * D, s->D);
        if (q < qmin) qmin = q;
    }
    for (d = 0; d < D; d++) delta[d] = 0.0f;
    for (k = 0; k < s->B; k++) {
        const float *xk = s->x + (size_t)k * D;
        a = (ncsn__sqdist(xt, xk, s->D) - qmin) * inv2s2;
        if (!(a < NCSN__STF_SKIP)) continue;
        r = ncsn_expf((float)-a);
        tot += r;
        for (d = 0; d < D; d++) delta[d] = fmaf(r, xk[d] - xb[d], delta[d]);
    }
    for (d = 0; d < D; d++) delta[d] = tot > 0.0f ? delta[d] / tot : 0.0f;
}

static void ncsn__scalar_stf_rows(const ncsn__stf_args *s, int lo, int hi, double *scratch)
{
    (void)scratch;
    for (; lo < hi; lo++) ncsn__stf_row_ref(s, lo);
}

/* The block kernel's loops, each written once for every width: nv vectors of outputs (EACH
   lists the vector slots 0..nv-1), for four rows (accumulators a, b, c, d: rows 0..3, which
   share each weight vector) or one row. Every accumulator is its own chain: fma over k in order. */
#define NCSN__V1(M) M(0)
#define NCSN__V2(M) M(0) M(1)
#define NCSN__V4(M) M(0) M(1) M(2) M(3)
#define NCSN__V8(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define NCSN__R4_LD(j) ncsn__v a##j = ncsn__vload(s0 + o + j * NCSN__VL), b##j = ncsn__vload(s1 + o + j * NCSN__VL), \
                               c##j = ncsn__vload(s2 + o + j * NCSN__VL), d##j = ncsn__vload(s3 + o + j * NCSN__VL);
#define NCSN__R4_W(j) ncsn__v w##j = ncsn__vload(w + j * NCSN__VL);
#define NCSN__R4_A(j) a##j = ncsn__vfma(s, w##j, a##j);
#define NCSN__R4_B(j) b##j = ncsn__vfma(s, w##j, b##j);
#define NCSN__R4_C(j) c##j = ncsn__vfma(s, w##j, c##j);
#define NCSN__R4_D(j) d##j = ncsn__vfma(s, w##j, d##j);
#define NCSN__R4_ST(j) ncsn__vstore(y0 + o + j * NCSN__VL, a##j); ncsn__vstore(y1 + o + j * NCSN__VL, b##j); \
                       ncsn__vstore(y2 + o + j * NCSN__VL, c##j); ncsn__vstore(y3 + o + j * NCSN__VL, d##j);
#define NCSN__ROWS4_LOOP(nv, EACH) \
    for (; o + nv * NCSN__VL <= N; o += nv * NCSN__VL) { \
        EACH(NCSN__R4_LD) \
        for (k = 0; k < K; k++) { \
            const float *w = W + (size_t)k * ldw + o; \
            ncsn__v s; \
            EACH(NCSN__R4_W) \
            s = ncsn__vset1(x0[k]); EACH(NCSN__R4_A) \
            s = ncsn__vset1(x1[k]); EACH(NCSN__R4_B) \
            s = ncsn__vset1(x2[k]); EACH(NCSN__R4_C) \
            s = ncsn__vset1(x3[k]); EACH(NCSN__R4_D) \
        } \
        EACH(NCSN__R4_ST) \
    }
#define NCSN__R1_LD(j) ncsn__v a##j = ncsn__vload(s0 + o + j * NCSN__VL);
#define NCSN__R1_FMA(j) a##j = ncsn__vfma(s, ncsn__vload(w + j * NCSN__VL), a##j);
#define NCSN__R1_ST(j) ncsn__vstore(y0 + o + j * NCSN__VL, a##j);
#define NCSN__ROW1_LOOP(nv, EACH) \
    for (; o + nv * NCSN__VL <= N; o += nv * NCSN__VL) { \
        EACH(NCSN__R1_LD) \
        for (k = 0; k < K; k++) { \
            const float *w = W + (size_t)k * ldw + o; \
            ncsn__v s = ncsn__vset1(x0[k]); \
            EACH(NCSN__R1_FMA) \
        } \
        EACH(NCSN__R1_ST) \
    }

/* dW tile helpers of the 6-row kernel below: row r of the tile, its four vectors */
#define NCSN__TN_ROW(r) s = ncsn__vset1(x[r]); a##r##0 = ncsn__vfma(s, g0, a##r##0); a##r##1 = ncsn__vfma(s, g1, a##r##1); \
                        a##r##2 = ncsn__vfma(s, g2, a##r##2); a##r##3 = ncsn__vfma(s, g3, a##r##3);
#define NCSN__TN_PUT(r) { float *w = dW + (size_t)(k + r) * ldw + o; \
                ncsn__vstore(w, ncsn__vadd(ncsn__vload(w), a##r##0)); ncsn__vstore(w + NCSN__VL, ncsn__vadd(ncsn__vload(w + NCSN__VL), a##r##1)); \
                ncsn__vstore(w + 2 * NCSN__VL, ncsn__vadd(ncsn__vload(w + 2 * NCSN__VL), a##r##2)); \
                ncsn__vstore(w + 3 * NCSN__VL, ncsn__vadd(ncsn__vload(w + 3 * NCSN__VL), a##r##3)); }

/* ---- 6. kernels: vector kernels, each block expanded once per set (NCSN__ISA): Y += X W ---- */
#define NCSN__GEMM_KERNELS \
/* Four rows of Y at once: 4 rows x 4, 2 or 1 vectors (the 4-vector tile needs 32 vector \
   registers: 16 accumulators hide the FMA latency), the last outputs by the reference. \
   Row r's accumulators start at s_r (y_r itself, or the start ncsn__ep_row gives). */ \
static NCSN__TARGET void NCSN__K(gemm_rows4)(float *y0, int ldy, const float *s0, const float *s1, const float *s2, const float *s3, \
                             const float *x0, int ldx, const float *W, int ldw, int K, int N) \
{ \
    float *y1 = y0 + ldy, *y2 = y1 + ldy, *y3 = y2 + ldy; \
    const float *x1 = x0 + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx; \
    int k, o = 0; \
    if (NCSN__VREGS >= 32) NCSN__ROWS4_LOOP(4, NCSN__V4) \
    NCSN__ROWS4_LOOP(2, NCSN__V2) \
    NCSN__ROWS4_LOOP(1, NCSN__V1) \
    if (o < N) { \
        int j; \
        for (j = o; j < N; j++) { y0[j] = s0[j]; y1[j] = s1[j]; y2[j] = s2[j]; y3[j] = s3[j]; } \
        NCSN__K(gemm_acc_ref)(y0 + o, ldy, x0, ldx, W + o, ldw, 4, K, N - o); \
    } \
} \
\
/* One row (a batch of 1 when sampling one chain): 8, 4 or 1 vectors of independent accumulators. */ \
static NCSN__TARGET void NCSN__K(gemm_row1)(float *y0, const float *s0, const float *x0, const float *W, int ldw, int K, int N) \
{ \
    int k, o = 0; \
    NCSN__ROW1_LOOP(8, NCSN__V8) \
    NCSN__ROW1_LOOP(4, NCSN__V4) \
    NCSN__ROW1_LOOP(1, NCSN__V1) \
    if (o < N) { \
        int j; \
        for (j = o; j < N; j++) y0[j] = s0[j]; \
        NCSN__K(gemm_acc_ref)(y0 + o, 0, x0, 0, W + o, ldw, 1, K, N - o); \
    } \
} \
\
static NCSN__TARGET void NCSN__K(gemm_block)(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, \
                             int B, int K, int N) \
{ \
    int b = 0; \
    for (; b + 4 <= B; b += 4) { \
        float *y = Y + (size_t)b * ldy; \
        NCSN__K(gemm_rows4)(y, ldy, y, y + ldy, y + 2 * (size_t)ldy, y + 3 * (size_t)ldy, X + (size_t)b * ldx, ldx, W, ldw, K, N); \
    } \
    for (; b < B; b++) NCSN__K(gemm_row1)(Y + (size_t)b * ldy, Y + (size_t)b * ldy, X + (size_t)b * ldx, W, ldw, K, N); \
} \
\
/* Y = ep's start + X W for the tile at (b0, n0) of the whole product (its first k block) */ \
static NCSN__TARGET void NCSN__K(gemm_block_from)(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, \
                                  int B, int K, int N, const ncsn__gemm_ep *ep, int b0, int n0) \
{ \
    int b = 0; \
    for (; b + 4 <= B; b += 4) \
        NCSN__K(gemm_rows4)(Y + (size_t)b * ldy, ldy, ncsn__ep_row(ep, b0 + b, n0), ncsn__ep_row(ep, b0 + b + 1, n0), \
                            ncsn__ep_row(ep, b0 + b + 2, n0), ncsn__ep_row(ep, b0 + b + 3, n0), X + (size_t)b * ldx, ldx, W, ldw, K, N); \
    for (; b < B; b++) \
        NCSN__K(gemm_row1)(Y + (size_t)b * ldy, ncsn__ep_row(ep, b0 + b, n0), X + (size_t)b * ldx, W, ldw, K, N); \
} \
\
/* Narrow outputs (N below one vector, e.g. the 2-d score layer): no vector spans the outputs, so \
   8 rows run as 8 independent scalar fma chains (the reference's single chain is latency-bound, \
   7x slower); each output is still one fma per k, k in order. */ \
static NCSN__TARGET void NCSN__K(gemm_narrow)(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, \
                              int B, int K, int N) \
{ \
    int b = 0, k, o; \
    for (; b + 8 <= B; b += 8) { \
        const float *x0 = X + (size_t)b * ldx, *x1 = x0 + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx; \
        const float *x4 = x3 + ldx, *x5 = x4 + ldx, *x6 = x5 + ldx, *x7 = x6 + ldx; \
        for (o = 0; o < N; o++) { \
            float *y = Y + (size_t)b * ldy + o; \
            float a0 = y[0], a1 = y[ldy], a2 = y[2 * (size_t)ldy], a3 = y[3 * (size_t)ldy]; \
            float a4 = y[4 * (size_t)ldy], a5 = y[5 * (size_t)ldy], a6 = y[6 * (size_t)ldy], a7 = y[7 * (size_t)ldy]; \
            for (k = 0; k < K; k++) { \
                float w = W[(size_t)k * ldw + o]; \
                a0 = fmaf(x0[k], w, a0); a1 = fmaf(x1[k], w, a1); a2 = fmaf(x2[k], w, a2); a3 = fmaf(x3[k], w, a3); \
                a4 = fmaf(x4[k], w, a4); a5 = fmaf(x5[k], w, a5); a6 = fmaf(x6[k], w, a6); a7 = fmaf(x7[k], w, a7); \
            } \
            y[0] = a0; y[ldy] = a1; y[2 * (size_t)ldy] = a2; y[3 * (size_t)ldy] = a3; \
            y[4 * (size_t)ldy] = a4; y[5 * (size_t)ldy] = a5; y[6 * (size_t)ldy] = a6; y[7 * (size_t)ldy] = a7; \
        } \
    } \
    if (b < B) NCSN__K(gemm_acc_ref)(Y + (size_t)b * ldy, ldy, X + (size_t)b * ldx, ldx, W, ldw, B - b, K, N); \
} \
\
/* n floats, for the panels packed below: memcpy there became `rep movsq` under gcc's generic \
   tuning (the baseline-flag build), slow for rows of 48-512 bytes, and a call through the PLT \
   with -march=native. The empty asm keeps gcc from turning the loops back into memcpy. */ \
static NCSN__TARGET void NCSN__K(copy)(float *d, const float *s, int n) \
{ \
    int i = 0; \
    for (; i + NCSN__VL <= n; i += NCSN__VL) { ncsn__v v = ncsn__vload(s + i); NCSN__OPAQUE(v); ncsn__vstore(d + i, v); } \
    for (; i < n; i++) { float v = s[i]; NCSN__OPAQUE(v); d[i] = v; } \
} \
\
static NCSN__TARGET void NCSN__K(gemm_acc)(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, \
                           int B, int K, int N, const ncsn__gemm_ep *ep) \
{ \
    int n0, b0, k0, from = K > 0 && ncsn__ep_starts(ep); \
    if (N < NCSN__VL || (B <= NCSN__GEMM_BB && K <= NCSN__GEMM_KB && N <= NCSN__GEMM_NB)) { \
        if (N >= NCSN__VL && from) NCSN__K(gemm_block_from)(Y, ldy, X, ldx, W, ldw, B, K, N, ep, 0, 0); \
        else { \
            ncsn__ep_start(ep, Y, ldy, 0, 0, B, N); \
            if (N < NCSN__VL) NCSN__K(gemm_narrow)(Y, ldy, X, ldx, W, ldw, B, K, N); \
            else NCSN__K(gemm_block)(Y, ldy, X, ldx, W, ldw, B, K, N); \
        } \
        ncsn__ep_finish(ep, Y, ldy, 0, 0, B, N); \
        return; \
    } \
    if (B >= 16 && ldw > NCSN__GEMM_PB && K > 0) { \
        float buf[NCSN__GEMM_KB * NCSN__GEMM_PB + 16]; \
        float *pk = NCSN__ALIGN64(buf); \
        for (n0 = 0; n0 < N; n0 += NCSN__GEMM_PB) { \
            int nb = N - n0 < NCSN__GEMM_PB ? N - n0 : NCSN__GEMM_PB; \
            for (k0 = 0; k0 < K; k0 += NCSN__GEMM_KB) { \
                int kb = K - k0 < NCSN__GEMM_KB ? K - k0 : NCSN__GEMM_KB, kk; \
                for (kk = 0; kk < kb; kk++) NCSN__K(copy)(pk + (size_t)kk * nb, W + (size_t)(k0 + kk) * ldw + n0, nb); \
                for (b0 = 0; b0 < B; b0 += NCSN__GEMM_BB) { \
                    int bb = B - b0 < NCSN__GEMM_BB ? B - b0 : NCSN__GEMM_BB; \
                    float *y = Y + (size_t)b0 * ldy + n0; \
                    if (k0 == 0 && from) NCSN__K(gemm_block_from)(y, ldy, X + (size_t)b0 * ldx, ldx, pk, nb, bb, kb, nb, ep, b0, n0); \
                    else { \
                        if (k0 == 0) ncsn__ep_start(ep, Y, ldy, b0, n0, bb, nb); \
                        NCSN__K(gemm_block)(y, ldy, X + (size_t)b0 * ldx + k0, ldx, pk, nb, bb, kb, nb); \
                    } \
                    if (k0 + kb == K) ncsn__ep_finish(ep, Y, ldy, b0, n0, bb, nb); \
                } \
            } \
        } \
        return; \
    } \
    ncsn__gemm_tiles(Y, ldy, X, ldx, W, ldw, B, K, N, NCSN__K(gemm_block), NCSN__K(gemm_block_from), ep); \
} \
\
/* Y = ep's start + X W^T, W stored [N][K]: ncsn__gemm_nt_panels with this set's block kernels */ \
static NCSN__TARGET void NCSN__K(gemm_nt)(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, \
                          int B, int K, int N, const ncsn__gemm_ep *ep) \
{ \
    ncsn__gemm_nt_panels(Y, ldy, X, ldx, W, ldw, B, K, N, N < NCSN__VL ? NCSN__K(gemm_narrow) : NCSN__K(gemm_block), \
                         N < NCSN__VL ? NULL : NCSN__K(gemm_block_from), ep); \
} \
/* end of NCSN__GEMM_KERNELS */

/* dW += X^T dY */
#define NCSN__GEMM_TN_KERNELS \
static NCSN__TARGET void NCSN__K(gemm_tn_block4)(float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, \
                                 int B, int K, int N) \
{ \
    int b, k = 0, o; \
    for (; k + 4 <= K; k += 4) { \
        float *w0 = dW + (size_t)k * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw; \
        for (o = 0; o + 2 * NCSN__VL <= N; o += 2 * NCSN__VL) { \
            ncsn__v a0 = ncsn__vset1(0.0f), a1 = ncsn__vset1(0.0f); \
            ncsn__v b0 = ncsn__vset1(0.0f), b1 = ncsn__vset1(0.0f); \
            ncsn__v c0 = ncsn__vset1(0.0f), c1 = ncsn__vset1(0.0f); \
            ncsn__v d0 = ncsn__vset1(0.0f), d1 = ncsn__vset1(0.0f); \
            for (b = 0; b < B; b++) { \
                const float *x = X + (size_t)b * ldx + k, *g = dY + (size_t)b * ldy + o; \
                ncsn__v g0 = ncsn__vload(g), g1 = ncsn__vload(g + NCSN__VL), s; \
                s = ncsn__vset1(x[0]); a0 = ncsn__vfma(s, g0, a0); a1 = ncsn__vfma(s, g1, a1); \
                s = ncsn__vset1(x[1]); b0 = ncsn__vfma(s, g0, b0); b1 = ncsn__vfma(s, g1, b1); \
                s = ncsn__vset1(x[2]); c0 = ncsn__vfma(s, g0, c0); c1 = ncsn__vfma(s, g1, c1); \
                s = ncsn__vset1(x[3]); d0 = ncsn__vfma(s, g0, d0); d1 = ncsn__vfma(s, g1, d1); \
            } \
            ncsn__vstore(w0 + o, ncsn__vadd(ncsn__vload(w0 + o), a0)); ncsn__vstore(w0 + o + NCSN__VL, ncsn__vadd(ncsn__vload(w0 + o + NCSN__VL), a1)); \
            ncsn__vstore(w1 + o, ncsn__vadd(ncsn__vload(w1 + o), b0)); ncsn__vstore(w1 + o + NCSN__VL, ncsn__vadd(ncsn__vload(w1 + o + NCSN__VL), b1)); \
            ncsn__vstore(w2 + o, ncsn__vadd(ncsn__vload(w2 + o), c0)); ncsn__vstore(w2 + o + NCSN__VL, ncsn__vadd(ncsn__vload(w2 + o + NCSN__VL), c1)); \
            ncsn__vstore(w3 + o, ncsn__vadd(ncsn__vload(w3 + o), d0)); ncsn__vstore(w3 + o + NCSN__VL, ncsn__vadd(ncsn__vload(w3 + o + NCSN__VL), d1)); \
        } \
        for (; o + NCSN__VL <= N; o += NCSN__VL) { \
            ncsn__v a0 = ncsn__vset1(0.0f), b0 = ncsn__vset1(0.0f); \
            ncsn__v c0 = ncsn__vset1(0.0f), d0 = ncsn__vset1(0.0f); \
            for (b = 0; b < B; b++) { \
                const float *x = X + (size_t)b * ldx + k; \
                ncsn__v g0 = ncsn__vload(dY + (size_t)b * ldy + o); \
                a0 = ncsn__vfma(ncsn__vset1(x[0]), g0, a0); \
                b0 = ncsn__vfma(ncsn__vset1(x[1]), g0, b0); \
                c0 = ncsn__vfma(ncsn__vset1(x[2]), g0, c0); \
                d0 = ncsn__vfma(ncsn__vset1(x[3]), g0, d0); \
            } \
            ncsn__vstore(w0 + o, ncsn__vadd(ncsn__vload(w0 + o), a0)); ncsn__vstore(w1 + o, ncsn__vadd(ncsn__vload(w1 + o), b0)); \
            ncsn__vstore(w2 + o, ncsn__vadd(ncsn__vload(w2 + o), c0)); ncsn__vstore(w3 + o, ncsn__vadd(ncsn__vload(w3 + o), d0)); \
        } \
        if (o < N) NCSN__K(gemm_tn_acc_ref)(w0 + o, ldw, X + k, ldx, dY + o, ldy, B, 4, N - o); \
    } \
    for (; k < K; k++) { \
        float *w0 = dW + (size_t)k * ldw; \
        for (o = 0; o + NCSN__VL <= N; o += NCSN__VL) { \
            ncsn__v a0 = ncsn__vset1(0.0f); \
            for (b = 0; b < B; b++) \
                a0 = ncsn__vfma(ncsn__vset1(X[(size_t)b * ldx + k]), ncsn__vload(dY + (size_t)b * ldy + o), a0); \
            ncsn__vstore(w0 + o, ncsn__vadd(ncsn__vload(w0 + o), a0)); \
        } \
        if (o < N) NCSN__K(gemm_tn_acc_ref)(w0 + o, ldw, X + k, ldx, dY + o, ldy, B, 1, N - o); \
    } \
} \
\
/* Narrow outputs (N below one vector): vectorised across 4 vectors of k instead (rows of X are \
   contiguous in k); per output the same block sum from zero, b in order, then one add. */ \
static NCSN__TARGET void NCSN__K(gemm_tn_narrow)(float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, \
                                 int B, int K, int N) \
{ \
    float t[4 * NCSN__VL]; \
    int k = 0, o, b, j; \
    for (; k + 4 * NCSN__VL <= K; k += 4 * NCSN__VL) \
        for (o = 0; o < N; o++) { \
            ncsn__v a0 = ncsn__vset1(0.0f), a1 = a0, a2 = a0, a3 = a0; \
            for (b = 0; b < B; b++) { \
                const float *x = X + (size_t)b * ldx + k; \
                ncsn__v s = ncsn__vset1(dY[(size_t)b * ldy + o]); \
                a0 = ncsn__vfma(ncsn__vload(x), s, a0); \
                a1 = ncsn__vfma(ncsn__vload(x + NCSN__VL), s, a1); \
                a2 = ncsn__vfma(ncsn__vload(x + 2 * NCSN__VL), s, a2); \
                a3 = ncsn__vfma(ncsn__vload(x + 3 * NCSN__VL), s, a3); \
            } \
            for (j = 0; j < 4 * NCSN__VL; j++) t[j] = dW[(size_t)(k + j) * ldw + o]; \
            ncsn__vstore(t, ncsn__vadd(ncsn__vload(t), a0)); \
            ncsn__vstore(t + NCSN__VL, ncsn__vadd(ncsn__vload(t + NCSN__VL), a1)); \
            ncsn__vstore(t + 2 * NCSN__VL, ncsn__vadd(ncsn__vload(t + 2 * NCSN__VL), a2)); \
            ncsn__vstore(t + 3 * NCSN__VL, ncsn__vadd(ncsn__vload(t + 3 * NCSN__VL), a3)); \
            for (j = 0; j < 4 * NCSN__VL; j++) dW[(size_t)(k + j) * ldw + o] = t[j]; \
        } \
    for (; k + NCSN__VL <= K; k += NCSN__VL) \
        for (o = 0; o < N; o++) { \
            ncsn__v a0 = ncsn__vset1(0.0f); \
            for (b = 0; b < B; b++) a0 = ncsn__vfma(ncsn__vload(X + (size_t)b * ldx + k), ncsn__vset1(dY[(size_t)b * ldy + o]), a0); \
            for (j = 0; j < NCSN__VL; j++) t[j] = dW[(size_t)(k + j) * ldw + o]; \
            ncsn__vstore(t, ncsn__vadd(ncsn__vload(t), a0)); \
            for (j = 0; j < NCSN__VL; j++) dW[(size_t)(k + j) * ldw + o] = t[j]; \
        } \
    if (k < K) NCSN__K(gemm_tn_acc_ref)(dW + (size_t)k * ldw, ldw, X + k, ldx, dY, ldy, B, K - k, N); \
} \
\
/* One block of at most NCSN__SUM_BLOCK samples (B <= 64). With 32 vector registers, a 6-row x \
   4-vector tile: 24 accumulators, 10 loads per 24 FMAs; the rest goes to the 4-row kernel. */ \
static NCSN__TARGET void NCSN__K(gemm_tn_block)(float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, \
                                int B, int K, int N) \
{ \
    int k = 0; \
    if (N < NCSN__VL) { \
        NCSN__K(gemm_tn_narrow)(dW, ldw, X, ldx, dY, ldy, B, K, N); \
        return; \
    } \
    if (NCSN__VREGS >= 32) \
    for (; k + 6 <= K; k += 6) { \
        int b, o; \
        for (o = 0; o + 4 * NCSN__VL <= N; o += 4 * NCSN__VL) { \
            ncsn__v a00 = ncsn__vset1(0.0f), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00; \
            ncsn__v a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00; \
            ncsn__v a40 = a00, a41 = a00, a42 = a00, a43 = a00, a50 = a00, a51 = a00, a52 = a00, a53 = a00; \
            for (b = 0; b < B; b++) { \
                const float *x = X + (size_t)b * ldx + k, *g = dY + (size_t)b * ldy + o; \
                ncsn__v g0 = ncsn__vload(g), g1 = ncsn__vload(g + NCSN__VL), g2 = ncsn__vload(g + 2 * NCSN__VL), g3 = ncsn__vload(g + 3 * NCSN__VL), s; \
                NCSN__TN_ROW(0) NCSN__TN_ROW(1) NCSN__TN_ROW(2) NCSN__TN_ROW(3) NCSN__TN_ROW(4) NCSN__TN_ROW(5) \
            } \
            NCSN__TN_PUT(0) NCSN__TN_PUT(1) NCSN__TN_PUT(2) NCSN__TN_PUT(3) NCSN__TN_PUT(4) NCSN__TN_PUT(5) \
        } \
        if (o < N) NCSN__K(gemm_tn_block4)(dW + (size_t)k * ldw + o, ldw, X + k, ldx, dY + o, ldy, B, 6, N - o); \
    } \
    if (k < K) NCSN__K(gemm_tn_block4)(dW + (size_t)k * ldw, ldw, X + k, ldx, dY, ldy, B, K - k, N); \
} \
\
static NCSN__TARGET void NCSN__K(gemm_tn_acc)(float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, \
                              int B, int K, int N, float *db) \
{ \
    int b0, n0; \
    if (K >= 16 && N >= 16 && (ldy > NCSN__TN_PACK_LD || ldx > NCSN__TN_PACK_LD)) { \
        float dbuf[NCSN__SUM_BLOCK * NCSN__GEMM_PB + 16], xbuf[NCSN__SUM_BLOCK * NCSN__TN_KC + 16]; \
        float *dp = NCSN__ALIGN64(dbuf), *xp = NCSN__ALIGN64(xbuf); \
        int k0, b; \
        for (n0 = 0; n0 < N; n0 += NCSN__GEMM_PB) { \
            int nb = N - n0 < NCSN__GEMM_PB ? N - n0 : NCSN__GEMM_PB; \
            for (b0 = 0; b0 < B; b0 += NCSN__SUM_BLOCK) { \
                int bb = B - b0 < NCSN__SUM_BLOCK ? B - b0 : NCSN__SUM_BLOCK; \
                for (b = 0; b < bb; b++) NCSN__K(copy)(dp + (size_t)b * nb, dY + (size_t)(b0 + b) * ldy + n0, nb); \
                for (k0 = 0; k0 < K; k0 += NCSN__TN_KC) { \
                    int kb = K - k0 < NCSN__TN_KC ? K - k0 : NCSN__TN_KC; \
                    for (b = 0; b < bb; b++) NCSN__K(copy)(xp + (size_t)b * kb, X + (size_t)(b0 + b) * ldx + k0, kb); \
                    NCSN__K(gemm_tn_block)(dW + (size_t)k0 * ldw + n0, ldw, xp, kb, dp, nb, bb, kb, nb); \
                } \
                if (db) NCSN__K(colsum_acc)(db + n0, dp, nb, bb, nb); \
            } \
        } \
        return; \
    } \
    (void)b0; \
    ncsn__gemm_tn_tiles(dW, ldw, X, ldx, dY, ldy, B, K, N, NCSN__K(gemm_tn_block), db, NCSN__K(colsum_acc)); \
} \
/* end of NCSN__GEMM_TN_KERNELS */

/* column sums, activations, Adam, the finiteness scan, the Langevin update */
#define NCSN__ELEMENTWISE_KERNELS \
/* db[o] += ...: ncsn__scalar_colsum_acc's sums, NCSN__VL columns at a time */ \
static NCSN__TARGET void NCSN__K(colsum_acc)(float *db, const float *dY, int ldy, int B, int N) \
{ \
    int b, b0, o = 0; \
    for (; o + NCSN__VL <= N; o += NCSN__VL) { \
        ncsn__v tot = ncsn__vload(db + o); \
        for (b0 = 0; b0 < B; b0 += NCSN__SUM_BLOCK) { \
            ncsn__v a = ncsn__vset1(0.0f); \
            for (b = b0; b < B && b < b0 + NCSN__SUM_BLOCK; b++) a = ncsn__vadd(a, ncsn__vload(dY + (size_t)b * ldy + o)); \
            tot = ncsn__vadd(tot, a); \
        } \
        ncsn__vstore(db + o, tot); \
    } \
    if (o < N) ncsn__scalar_colsum_acc(db + o, dY + o, ldy, B, N - o); \
} \
\
/* exp on a vector: the operations of ncsn_expf, lane by lane, in the same order */ \
static NCSN__VINLINE NCSN__TARGET ncsn__v NCSN__K(vexpf)(ncsn__v x) \
{ \
    const ncsn__v magic = ncsn__vset1(NCSN__MAGIC_ROUND); \
    ncsn__vm big = ncsn__vgt(x, ncsn__vset1(NCSN__EXPF_OVERFLOW)), small = ncsn__vlt(x, ncsn__vset1(NCSN__EXPF_UNDERFLOW)), nan = ncsn__vnan(x); \
    ncsn__v k = ncsn__vsub(ncsn__vfma(x, ncsn__vset1(NCSN__LOG2E), magic), magic), nk = ncsn__vneg(k), r, p; \
    ncsn__vi n, n1, n2; \
    r = ncsn__vfma(nk, ncsn__vset1(NCSN__EXPF_LN2_HI), x); \
    r = ncsn__vfma(nk, ncsn__vset1(NCSN__EXPF_LN2_LO), r); \
    p = ncsn__vset1(NCSN__EXPF_C7); \
    p = ncsn__vfma(p, r, ncsn__vset1(NCSN__EXPF_C6)); \
    p = ncsn__vfma(p, r, ncsn__vset1(NCSN__EXPF_C5)); \
    p = ncsn__vfma(p, r, ncsn__vset1(NCSN__EXPF_C4)); \
    p = ncsn__vfma(p, r, ncsn__vset1(NCSN__EXPF_C3)); \
    p = ncsn__vfma(p, r, ncsn__vset1(NCSN__EXPF_C2)); \
    p = ncsn__vfma(p, r, ncsn__vset1(1.0f)); \
    p = ncsn__vfma(p, r, ncsn__vset1(1.0f)); \
    n = ncsn__vcvt_i(k); \
    n1 = ncsn__vi_srai(ncsn__vi_add(n, ncsn__vi_and(ncsn__vi_srai(n, 31), ncsn__vi_set1(1))), 1);  /* n/2 truncated, as C */ \
    n2 = ncsn__vi_sub(n, n1); \
    p = ncsn__vmul(p, ncsn__vi_asf(ncsn__vi_slli(ncsn__vi_add(n1, ncsn__vi_set1(127)), 23))); \
    p = ncsn__vmul(p, ncsn__vi_asf(ncsn__vi_slli(ncsn__vi_add(n2, ncsn__vi_set1(127)), 23))); \
    p = ncsn__vsel(small, p, ncsn__vset1(0.0f)); \
    p = ncsn__vsel(big, p, ncsn__vset1(HUGE_VALF)); \
    return ncsn__vsel(nan, p, x); \
} \
\
/* ncsn__scalar_act_fwd, NCSN__VL values at a time */ \
static NCSN__TARGET void NCSN__K(act_fwd)(float *a, float *sg, const float *z, size_t n, ncsn_act act) \
{ \
    size_t i = 0; \
    const ncsn__v one = ncsn__vset1(1.0f); \
    if (act == NCSN_ACT_SILU) { \
        for (; i + NCSN__VL <= n; i += NCSN__VL) { \
            ncsn__v zz = ncsn__vload(z + i); \
            ncsn__v s = ncsn__vdiv(one, ncsn__vadd(one, NCSN__K(vexpf)(ncsn__vneg(zz)))); \
            ncsn__vm cut = ncsn__vlt(zz, ncsn__vset1(NCSN__SILU_CUT)); \
            ncsn__v a_ = ncsn__vmul(zz, s); \
            ncsn__vstore(sg + i, ncsn__vsel(cut, s, ncsn__vset1(0.0f))); \
            ncsn__vstore(a + i, ncsn__vsel(cut, a_, ncsn__vset1(-0.0f)));   /* below the cut: -0, slope 0 */ \
        } \
    } \
    ncsn__scalar_act_fwd(a + i, sg + i, z + i, n - i, act); \
} \
\
static NCSN__TARGET void NCSN__K(act_bwd)(float *dz, const float *da, const float *z, const float *sg, size_t n, ncsn_act act) \
{ \
    size_t i = 0; \
    const ncsn__v one = ncsn__vset1(1.0f); \
    if (act == NCSN_ACT_SILU) { \
        for (; i + NCSN__VL <= n; i += NCSN__VL) { \
            ncsn__v s = ncsn__vload(sg + i); \
            ncsn__v d = ncsn__vfma(ncsn__vmul(ncsn__vload(z + i), s), ncsn__vsub(one, s), s); \
            ncsn__vstore(dz + i, ncsn__vmul(ncsn__vload(da + i), d)); \
        } \
    } \
    ncsn__scalar_act_bwd(dz + i, da + i, z + i, sg + i, n - i, act); \
} \
\
/* ncsn__scalar_adam, NCSN__VL parameters at a time (sqrt and / are correctly rounded) */ \
static NCSN__TARGET int NCSN__K(adam)(const ncsn__adam_job *a, size_t lo, size_t hi) \
{ \
    size_t i = lo; \
    float t[NCSN__VL]; \
    int j, bad = 0; \
    float *params = a->params, *mm = a->m, *vv = a->v; \
    const float *grads = a->grads; \
    const ncsn__v vomb1 = ncsn__vset1(a->omb1), vomb2 = ncsn__vset1(a->omb2), vb2 = ncsn__vset1(a->beta2); \
    const ncsn__v vbc2 = ncsn__vset1(a->bc2_sqrt), veps = ncsn__vset1(a->eps), vstep = ncsn__vset1(-a->step_size); \
    const ncsn__v vdecay = ncsn__vset1(a->decay), zero = ncsn__vset1(0.0f); \
    ncsn__v acc = zero;   /* x * 0 is NaN exactly when x is not finite */ \
    for (; i + NCSN__VL <= hi; i += NCSN__VL) { \
        ncsn__v g = ncsn__vload(grads + i), m = ncsn__vload(mm + i), v = ncsn__vload(vv + i), p = ncsn__vload(params + i), denom; \
        if (a->zero) ncsn__vstore(a->zero + i, ncsn__vset1(0.0f)); \
        if (a->decoupled) p = ncsn__vmul(p, vdecay); \
        m = ncsn__vfma(vomb1, ncsn__vsub(g, m), m); \
        v = ncsn__vfma(ncsn__vmul(vomb2, g), g, ncsn__vmul(v, vb2)); \
        denom = ncsn__vadd(ncsn__vdiv(ncsn__vsqrt(v), vbc2), veps); \
        p = ncsn__vfma(vstep, ncsn__vdiv(m, denom), p); \
        ncsn__vstore(params + i, p); \
        ncsn__vstore(mm + i, m); \
        ncsn__vstore(vv + i, v); \
        acc = ncsn__vadd(acc, ncsn__vadd(ncsn__vmul(p, zero), ncsn__vadd(ncsn__vmul(m, zero), ncsn__vmul(v, zero)))); \
    } \
    ncsn__vstore(t, acc); \
    for (j = 0; j < NCSN__VL; j++) bad |= t[j] != 0.0f; \
    return ncsn__scalar_adam(a, i, hi) | bad; \
} \
\
/* a vector pass: g * 0 is NaN exactly when g is not finite; the chunk that has one is searched by the scalar loop */ \
static NCSN__TARGET size_t NCSN__K(first_nonfinite)(const float *g, size_t n) \
{ \
    size_t i = 0; \
    const ncsn__v zero = ncsn__vset1(0.0f); \
    for (; i + 8 * NCSN__VL <= n; i += 8 * NCSN__VL) { \
        float t[NCSN__VL]; \
        int j, k; \
        ncsn__v acc = zero; \
        for (k = 0; k < 8; k++) acc = ncsn__vadd(acc, ncsn__vmul(ncsn__vload(g + i + (size_t)k * NCSN__VL), zero)); \
        ncsn__vstore(t, acc); \
        for (j = 0; j < NCSN__VL; j++) \
            if (t[j] != 0.0f) break; \
        if (j < NCSN__VL) break;   /* somewhere in this chunk: the scalar loop finds it */ \
    } \
    return i + ncsn__scalar_first_nonfinite(g + i, n - i); \
} \
\
static NCSN__TARGET void NCSN__K(langevin)(float *x, const float *score, const float *z, size_t n, float c_score, float c_noise) \
{ \
    size_t i = 0; \
    ncsn__v a = ncsn__vset1(c_score), b = ncsn__vset1(c_noise); \
    for (; i + NCSN__VL <= n; i += NCSN__VL) \
        ncsn__vstore(x + i, ncsn__vfma(b, ncsn__vload(z + i), ncsn__vfma(a, ncsn__vload(score + i), ncsn__vload(x + i)))); \
    ncsn__scalar_langevin(x + i, score + i, z + i, n - i, c_score, c_noise); \
} \
\
/* ncsn__stf_row_ref for NCSN__VL rows at a time, lane i being row lo + i: the distances once each \
   (scratch: B * NCSN__VL of them, then B * NCSN__VL floats, the weights e^-a_j or -1 where \
   skipped, then the rows' points in double, D * NCSN__VL), the exps as vectors, and the weighted \
   sums over j in order with the lanes as the rows' chains. Skipped lanes take e^0 and are masked: \
   no NaN or huge value reaches a conversion or the vector ncsn_expf (no invalid-operation flag, as the reference). */ \
typedef char NCSN__K(stf_lanes_fit)[NCSN__VL <= NCSN__STF_LANES && NCSN__VL % 2 == 0 ? 1 : -1]; \
static NCSN__TARGET void NCSN__K(stf_rows)(const ncsn__stf_args *s, int lo, int hi, double *scratch) \
{ \
    const size_t D = (size_t)s->D, VL = (size_t)NCSN__VL, B = (size_t)s->B; \
    float *wt = (float *)(scratch + B * VL), lane[NCSN__VL]; \
    double *xtd = scratch + B * VL + B * VL / 2, qmin[NCSN__VL], inv2s2[NCSN__VL], q[NCSN__VL], mark[NCSN__VL]; \
    size_t i, k, d; \
    for (; lo + NCSN__VL <= hi; lo += NCSN__VL) { \
        ncsn__v tot = ncsn__vset1(0.0f), zero = tot, one = ncsn__vset1(1.0f), neg1 = ncsn__vset1(-1.0f), den; \
        ncsn__vm pos; \
        for (i = 0; i < VL; i++) { \
            qmin[i] = HUGE_VAL; \
            inv2s2[i] = 0.5 / ((double)s->sigma[(size_t)lo + i] * (double)s->sigma[(size_t)lo + i]); \
            for (d = 0; d < D; d++) xtd[d * VL + i] = (double)s->xt[((size_t)lo + i) * D + d]; \
        } \
        for (k = 0; k < B; k++) {   /* lanes side by side, so that the compiler may vectorize */ \
            for (i = 0; i < VL; i++) q[i] = 0.0; \
            for (d = 0; d < D; d++) { \
                double xk = (double)s->x[k * D + d]; \
                for (i = 0; i < VL; i++) q[i] = fma(xtd[d * VL + i] - xk, xtd[d * VL + i] - xk, q[i]); \
            } \
            for (i = 0; i < VL; i++) { \
                scratch[k * VL + i] = q[i]; \
                qmin[i] = q[i] < qmin[i] ? q[i] : qmin[i]; \
            } \
        } \
        for (k = 0; k < B * VL; k += VL) { \
            ncsn__vm skip; \
            ncsn__v r; \
            for (i = 0; i < VL; i++) q[i] = (scratch[k + i] - qmin[i]) * inv2s2[i]; \
            for (i = 0; i < VL; i++) mark[i] = q[i] < NCSN__STF_SKIP ? 0.0 : -1.0;   /* NaN: skipped */ \
            for (i = 0; i < VL; i++) q[i] = mark[i] < 0.0 ? 0.0 : q[i]; \
            for (i = 0; i < VL; i++) { lane[i] = (float)-q[i]; wt[k + i] = (float)mark[i]; } \
            skip = ncsn__vlt(ncsn__vload(wt + k), zero); \
            r = ncsn__vsel(skip, NCSN__K(vexpf)(ncsn__vload(lane)), neg1); \
            ncsn__vstore(wt + k, r); \
            tot = ncsn__vsel(skip, ncsn__vadd(tot, r), tot); \
        } \
        pos = ncsn__vgt(tot, zero); \
        den = ncsn__vsel(pos, one, tot);   /* tot is 0 only when every weight was skipped: / 1 there (no 0/0), then 0 */ \
        for (d = 0; d < D; d++) { \
            ncsn__v acc = zero, xb; \
            for (i = 0; i < VL; i++) lane[i] = s->x[((size_t)lo + i) * D + d]; \
            xb = ncsn__vload(lane); \
            for (k = 0; k < B; k++) { \
                ncsn__v r = ncsn__vload(wt + k * VL); \
                acc = ncsn__vsel(ncsn__vlt(r, zero), ncsn__vfma(r, ncsn__vsub(ncsn__vset1(s->x[k * D + d]), xb), acc), acc); \
            } \
            ncsn__vstore(lane, ncsn__vsel(pos, zero, ncsn__vdiv(acc, den))); \
            for (i = 0; i < VL; i++) s->delta[((size_t)lo + i) * D + d] = lane[i]; \
        } \
    } \
    ncsn__scalar_stf_rows(s, lo, hi, scratch); \
} \
/* end of NCSN__ELEMENTWISE_KERNELS */

/* The kernels of each set the build has. */
#define NCSN__VECTOR_KERNELS NCSN__REF_KERNELS NCSN__ELEMENTWISE_KERNELS NCSN__GEMM_KERNELS NCSN__GEMM_TN_KERNELS
#if defined(NCSN__AVX512)
#if defined(__cplusplus) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  /* g++ 12: _mm512_undefined_epi32 inside its own intrinsics */
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#define NCSN__ISA ncsn__avx512_
NCSN__VECTOR_KERNELS
#undef NCSN__ISA
#if defined(__cplusplus) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
#if defined(NCSN__AVX2)
#define NCSN__ISA ncsn__avx2_
NCSN__VECTOR_KERNELS
#undef NCSN__ISA
#endif
#if defined(NCSN__SSE2)
#define NCSN__ISA ncsn__sse2_
NCSN__VECTOR_KERNELS
#undef NCSN__ISA
#endif
#if defined(NCSN__NEON)
#define NCSN__ISA ncsn__neon_
NCSN__VECTOR_KERNELS
#undef NCSN__ISA
#endif

/* ---- 6. kernels: dispatch ----------------------------------------------------------------------------------
   One table per compiled set, narrowest first. The first kernel call takes the last one this CPU
   runs (a compare-and-swap from "not chosen": threads racing to it agree, and it never overrides
   ncsn_simd_force); every later call reads the choice. */
#define NCSN__CPU_SSE2 1u
#define NCSN__CPU_AVX2 2u     /* AVX2 and FMA, and the OS saves YMM state */
#define NCSN__CPU_AVX512 4u   /* AVX-512F, and the OS saves ZMM and mask state */
typedef struct ncsn__kernels {
    const char *key, *name;   /* what ncsn_simd_force takes; what ncsn_simd_name reports */
    unsigned need;            /* NCSN__CPU_* bits the set needs (dispatch builds) */
    ncsn__gemm_ep_fn gemm_acc, gemm_nt;
    ncsn__gemm_tn_fn gemm_tn_acc;
    void (*colsum_acc)(float *db, const float *dY, int ldy, int B, int N);
    void (*act_fwd)(float *a, float *sg, const float *z, size_t n, ncsn_act act);
    void (*act_bwd)(float *dz, const float *da, const float *z, const float *sg, size_t n, ncsn_act act);
    int (*adam)(const ncsn__adam_job *a, size_t lo, size_t hi);
    size_t (*first_nonfinite)(const float *g, size_t n);
    void (*langevin)(float *x, const float *score, const float *z, size_t n, float c_score, float c_noise);
    void (*stf_rows)(const ncsn__stf_args *s, int lo, int hi, double *scratch);
} ncsn__kernels;
#define NCSN__KTABLE(key, name, need) { key, name, need, NCSN__K(gemm_acc), NCSN__K(gemm_nt), NCSN__K(gemm_tn_acc), NCSN__K(colsum_acc), \
    NCSN__K(act_fwd), NCSN__K(act_bwd), NCSN__K(adam), NCSN__K(first_nonfinite), NCSN__K(langevin), \
    NCSN__K(stf_rows) }
static const ncsn__kernels ncsn__ktab[] = {
#define NCSN__ISA ncsn__scalar_
    NCSN__KTABLE("scalar", "scalar", 0u),
#undef NCSN__ISA
#if defined(NCSN__SSE2)
#define NCSN__ISA ncsn__sse2_
    NCSN__KTABLE("sse2", "sse2 (emulated fma)", NCSN__CPU_SSE2),
#undef NCSN__ISA
#endif
#if defined(NCSN__NEON)
#define NCSN__ISA ncsn__neon_
    NCSN__KTABLE("neon", "neon", 0u),
#undef NCSN__ISA
#endif
#if defined(NCSN__AVX2)
#define NCSN__ISA ncsn__avx2_
    NCSN__KTABLE("avx2", "avx2+fma", NCSN__CPU_AVX2),
#undef NCSN__ISA
#endif
#if defined(NCSN__AVX512)
#define NCSN__ISA ncsn__avx512_
    NCSN__KTABLE("avx512", "avx512", NCSN__CPU_AVX512 | NCSN__CPU_AVX2),
#undef NCSN__ISA
#endif
};
#define NCSN__NKTAB ((int)(sizeof ncsn__ktab / sizeof ncsn__ktab[0]))

#if defined(NCSN__DISPATCH)
static void ncsn__cpuid(unsigned leaf, unsigned *r)
{
    unsigned a, b, c, d;
    __asm__ __volatile__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(0u));
    r[0] = a; r[1] = b; r[2] = c; r[3] = d;
}

/* what this CPU runs and its OS supports: the instructions (cpuid), and the register state the OS
   saves on a context switch (XCR0, by xgetbv; without it AVX registers would be corrupted) */
static unsigned ncsn__cpu_features(void)
{
    unsigned r[4], f = NCSN__CPU_SSE2, xcr0, xcr0_hi;   /* SSE2: the x86-64 baseline (required on i386) */
    ncsn__cpuid(0, r);
    if (r[0] < 7) return f;
    ncsn__cpuid(1, r);
    if (!(r[2] & (1u << 27)) || !(r[2] & (1u << 28)) || !(r[2] & (1u << 12))) return f;   /* OSXSAVE, AVX, FMA */
    __asm__ __volatile__(".byte 0x0f, 0x01, 0xd0" : "=a"(xcr0), "=d"(xcr0_hi) : "c"(0u));   /* xgetbv */
    (void)xcr0_hi;
    if ((xcr0 & 0x6u) != 0x6u) return f;                                                    /* XMM, YMM */
    ncsn__cpuid(7, r);
    if (!(r[1] & (1u << 5))) return f;                                                      /* AVX2 */
    f |= NCSN__CPU_AVX2;
    if ((r[1] & (1u << 16)) && (xcr0 & 0xe0u) == 0xe0u) f |= NCSN__CPU_AVX512;             /* AVX-512F; opmask, ZMM */
    return f;
}
#else
static unsigned ncsn__cpu_features(void) { return ~0u; }   /* the compiler's target flags chose the sets */
#endif

static int ncsn__kbest(void)
{
    unsigned f = ncsn__cpu_features();
    int i = NCSN__NKTAB - 1;
    while (i > 0 && (ncsn__ktab[i].need & ~f)) i--;
    return i;
}

static int ncsn__ksel = -1;   /* the chosen table, -1 until the first kernel call */
#if defined(__GNUC__) || defined(__clang__)   /* clang-cl dispatches too, without __GNUC__ */
#define NCSN__KSEL_LOAD() __atomic_load_n(&ncsn__ksel, __ATOMIC_RELAXED)
#define NCSN__KSEL_STORE(v) __atomic_store_n(&ncsn__ksel, (v), __ATOMIC_RELAXED)
#define NCSN__KSEL_INIT(v) do { int ncsn__unset = -1; \
    __atomic_compare_exchange_n(&ncsn__ksel, &ncsn__unset, (v), 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED); } while (0)
#else   /* no dispatch: every thread computes the same constant choice */
#define NCSN__KSEL_LOAD() ncsn__ksel
#define NCSN__KSEL_STORE(v) (ncsn__ksel = (v))
#define NCSN__KSEL_INIT(v) (ncsn__ksel = (v))
#endif

static const ncsn__kernels *ncsn__kt(void)
{
    int i = NCSN__KSEL_LOAD();
    if (i < 0) {
        NCSN__KSEL_INIT(ncsn__kbest());
        i = NCSN__KSEL_LOAD();
    }
    return &ncsn__ktab[i];
}

NCSNDEF const char *ncsn_simd_name(void) { return ncsn__kt()->name; }
#if defined(NCSN__DISPATCH)
static int ncsn__kernels_have_fma(void) { return (ncsn__kt()->need & NCSN__CPU_AVX2) != 0; }
#endif

NCSNDEF ncsn_status ncsn_simd_force(const char *path)
{
    char list[64];
    size_t len = 0;
    int i;
    if (!path || !*path || !strcmp(path, "auto")) {
        NCSN__KSEL_STORE(ncsn__kbest());
        return NCSN_OK;
    }
    for (i = 0; i < NCSN__NKTAB; i++)
        if (!strcmp(path, ncsn__ktab[i].key) || !strcmp(path, ncsn__ktab[i].name)) {
            if (ncsn__ktab[i].need & ~ncsn__cpu_features())
                return ncsn__fail(NCSN_ERR_ARG, "ncsn_simd_force: path = \"%s\": this CPU (or its OS) cannot run it", ncsn__ktab[i].key);
            NCSN__KSEL_STORE(i);
            return NCSN_OK;
        }
    list[0] = '\0';
    for (i = 0; i < NCSN__NKTAB; i++) {
        size_t k = strlen(ncsn__ktab[i].key);
        if (len + k + 3 > sizeof list) break;
        if (i) { memcpy(list + len, ", ", 2); len += 2; }
        memcpy(list + len, ncsn__ktab[i].key, k + 1);
        len += k;
    }
    return ncsn__fail(NCSN_ERR_ARG, "ncsn_simd_force: path = \"%.40s\" is not one of this build's: %s, or auto", path, list);
}

/* the kernels sections 8-12 call, each on the chosen set */
/* ep (may be NULL) gets the chosen path's activation kernels */
static void ncsn__gemm_ep_acc(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                              const ncsn__gemm_ep *ep)
{
    const ncsn__kernels *kt = ncsn__kt();
    ncsn__gemm_ep e;
    if (ep) {
        e = *ep;
        e.fwd = kt->act_fwd;
        e.bwd = kt->act_bwd;
    }
    kt->gemm_acc(Y, ldy, X, ldx, W, ldw, B, K, N, ep ? &e : NULL);
}
/* the same for Y = X W^T, W stored [N][K] (wt) */
static void ncsn__gemm_ep_run(float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                              const ncsn__gemm_ep *ep, int wt)
{
    const ncsn__kernels *kt = ncsn__kt();
    ncsn__gemm_ep e;
    if (!wt) {
        ncsn__gemm_ep_acc(Y, ldy, X, ldx, W, ldw, B, K, N, ep);
        return;
    }
    e = *ep;
    e.fwd = kt->act_fwd;
    e.bwd = kt->act_bwd;
    kt->gemm_nt(Y, ldy, X, ldx, W, ldw, B, K, N, &e);
}
/* dW += X^T dY and (db non-NULL) db += the column sums of dY, in the same pass over dY */
static void ncsn__gemm_tn_acc(float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, int B, int K, int N, float *db)
{
    ncsn__kt()->gemm_tn_acc(dW, ldw, X, ldx, dY, ldy, B, K, N, db);
}
static int ncsn__adam_range(const ncsn__adam_job *a, size_t lo, size_t hi) { return ncsn__kt()->adam(a, lo, hi); }
static size_t ncsn__first_nonfinite(const float *g, size_t n) { return ncsn__kt()->first_nonfinite(g, n); }

/* ---- 7. thread pool: threads own outputs ----------------------------------------------------------------
   A job is fn(arg, t, nt) for the parts t = 0..nt-1 of its output (nt: the pool's thread count).
   Every parallel kernel below gives part t whole rows or columns of its output, computed by the
   same sequence as the serial kernel, so the bits depend neither on the thread count nor on which
   thread runs which part. */
typedef void (*ncsn__job_fn)(void *arg, int t, int nt);
/* Threads take parts as they arrive (a counter raised by compare-and-swap): the caller starts at
   once and takes every part no worker has taken, so a worker that the OS has not scheduled yet
   (a loaded machine) delays nothing; the caller waits only for parts already running. Before,
   each thread owned part t and the caller waited for every worker: under load 2 threads ran 5-7x
   slower than 1. Waiting threads spin briefly (a step runs dozens of short jobs, and waking a
   sleeping thread cost more than a 256-row layer takes), yielding the CPU to any other runnable
   thread as they spin, then sleep. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(NCSN_NO_THREADS)
#include <sched.h>
#define NCSN__LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define NCSN__STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define NCSN__SPIN 4000
#define NCSN__YIELD_EVERY 64   /* spins between two sched_yield calls */
#if defined(__x86_64__) || defined(__i386__)
#define NCSN__PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define NCSN__PAUSE() __asm__ __volatile__("yield")
#else
#define NCSN__PAUSE() ((void)0)
#endif
#define NCSN__RELAX(i) do { if ((i) % NCSN__YIELD_EVERY == NCSN__YIELD_EVERY - 1) sched_yield(); else NCSN__PAUSE(); } while (0)
#else
#define NCSN__LOAD(x) (x)
#define NCSN__STORE(x, v) ((x) = (v))
#define NCSN__SPIN 0
#define NCSN__RELAX(i) ((void)(i))
#endif
#if defined(__GNUC__) || defined(__clang__)
#define NCSN__ALIGN8 __attribute__((aligned(8)))
#else
#define NCSN__ALIGN8
#endif
typedef struct ncsn__pool {
    int n;
#ifndef NCSN_NO_THREADS
    pthread_t *th;
    struct ncsn__worker *wk;   /* one per started thread, owned by the pool */
    pthread_mutex_t mu;
    pthread_cond_t cv_go, cv_done;
    ncsn__job_fn fn;
    void *arg;
    unsigned gen;              /* the job's number */
    /* gen << 32 | the next part to take; 8-byte aligned for the atomics, which i386's struct
       layout (4) would not give it (clang -m32: -Watomic-alignment) */
    uint64_t claim NCSN__ALIGN8;
    int done;                  /* parts of this job finished */
    int quit, sync;            /* sync: mu and the condition variables exist */
#endif
} ncsn__pool;

#ifndef NCSN_NO_THREADS
typedef struct ncsn__worker { ncsn__pool *pool; int t; } ncsn__worker;

/* the next part of job gen, or -1 if every part is taken or the pool has moved on to another job
   (a part taken belongs to gen, so its fn and arg stay valid until it is done) */
static int ncsn__pool_take(ncsn__pool *p, unsigned gen)
{
#if defined(__GNUC__) || defined(__clang__)
    uint64_t c = __atomic_load_n(&p->claim, __ATOMIC_ACQUIRE);
    while ((unsigned)(c >> 32) == gen && (int)(c & 0xffffffffu) < p->n)
        if (__atomic_compare_exchange_n(&p->claim, &c, c + 1, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return (int)(c & 0xffffffffu);
    return -1;
#else
    int t = -1;
    pthread_mutex_lock(&p->mu);
    if ((unsigned)(p->claim >> 32) == gen && (int)(p->claim & 0xffffffffu) < p->n) t = (int)(p->claim++ & 0xffffffffu);
    pthread_mutex_unlock(&p->mu);
    return t;
#endif
}

/* run the parts of job gen that are left; the thread that finishes the last part wakes the caller */
static void ncsn__pool_work(ncsn__pool *p, unsigned gen, ncsn__job_fn fn, void *arg)
{
    int t, last;
    while ((t = ncsn__pool_take(p, gen)) >= 0) {
        fn(arg, t, p->n);
#if defined(__GNUC__) || defined(__clang__)
        last = __atomic_add_fetch(&p->done, 1, __ATOMIC_ACQ_REL) == p->n;
        if (last) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
#else
        pthread_mutex_lock(&p->mu);
        last = ++p->done == p->n;
        if (last) pthread_cond_signal(&p->cv_done);
        pthread_mutex_unlock(&p->mu);
#endif
    }
}

/* Workers never call the allocator: the user's NCSN_MALLOC/NCSN_FREE need not be thread-safe. */
static void *ncsn__worker_main(void *wp)
{
    ncsn__worker w = *(ncsn__worker *)wp;
    ncsn__pool *p = w.pool;
    unsigned seen = 0;
    for (;;) {
        ncsn__job_fn fn;
        void *arg;
        int i;
        for (i = 0; i < NCSN__SPIN && NCSN__LOAD(p->gen) == seen && !NCSN__LOAD(p->quit); i++) NCSN__RELAX(i);
        pthread_mutex_lock(&p->mu);
        while (p->gen == seen && !p->quit) pthread_cond_wait(&p->cv_go, &p->mu);
        if (p->quit) { pthread_mutex_unlock(&p->mu); break; }
        seen = p->gen;
        fn = p->fn;
        arg = p->arg;
        pthread_mutex_unlock(&p->mu);
        ncsn__pool_work(p, seen, fn, arg);
    }
    return NULL;
}
#endif

static void ncsn__pool_free(ncsn__pool *p)
{
    if (!p) return;
#ifndef NCSN_NO_THREADS
    if (p->sync) {   /* even if no worker started: the primitives were initialised */
        int i;
        pthread_mutex_lock(&p->mu);
        NCSN__STORE(p->quit, 1);
        pthread_cond_broadcast(&p->cv_go);
        pthread_mutex_unlock(&p->mu);
        for (i = 0; i < p->n - 1; i++) pthread_join(p->th[i], NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv_go);
        pthread_cond_destroy(&p->cv_done);
    }
    NCSN_FREE(p->th);
    NCSN_FREE(p->wk);
#endif
    NCSN_FREE(p);
}

static ncsn_status ncsn__pool_create(ncsn__pool **out, int n)
{
    ncsn__pool *p = (ncsn__pool *)ncsn__alloc(sizeof *p);
    *out = NULL;
    if (!p) return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_model_set_threads: out of memory");
    memset(p, 0, sizeof *p);
    p->n = 1;
#ifndef NCSN_NO_THREADS
    if (n > 1) {
        int i;
        p->th = NCSN__ALLOC_N(pthread_t, n - 1);
        p->wk = NCSN__ALLOC_N(struct ncsn__worker, n - 1);
        if (!p->th || !p->wk) {
            NCSN_FREE(p->th); NCSN_FREE(p->wk); NCSN_FREE(p);
            return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_model_set_threads: out of memory");
        }
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->cv_go, NULL);
        pthread_cond_init(&p->cv_done, NULL);
        p->sync = 1;
        p->n = n;
        for (i = 0; i < n - 1; i++) {
            p->wk[i].pool = p;
            p->wk[i].t = i + 1;
            if (pthread_create(&p->th[i], NULL, ncsn__worker_main, &p->wk[i]) != 0) {
                p->n = i + 1;   /* the threads started so far are joined by free */
                ncsn__pool_free(p);
                return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_model_set_threads: cannot start thread %d of %d", i + 1, n);
            }
        }
    }
#else
    (void)n;
#endif
    *out = p;
    return NCSN_OK;
}

/* run fn's parts on the pool's threads, the caller included (inline, as one part, if there is no
   pool or the work is small) */
static void ncsn__pool_run(ncsn__pool *p, ncsn__job_fn fn, void *arg, double work)
{
#ifndef NCSN_NO_THREADS
    if (p && p->n > 1 && work >= 32768.0) {
        unsigned gen;
        int i;
        pthread_mutex_lock(&p->mu);
        p->fn = fn;
        p->arg = arg;
        gen = p->gen + 1;
        NCSN__STORE(p->done, 0);
        NCSN__STORE(p->claim, (uint64_t)gen << 32);
        NCSN__STORE(p->gen, gen);
        pthread_cond_broadcast(&p->cv_go);
        pthread_mutex_unlock(&p->mu);
        ncsn__pool_work(p, gen, fn, arg);   /* every part no worker has taken yet */
        for (i = 0; i < NCSN__SPIN && NCSN__LOAD(p->done) < p->n; i++) NCSN__RELAX(i);
        pthread_mutex_lock(&p->mu);
        while (NCSN__LOAD(p->done) < p->n) pthread_cond_wait(&p->cv_done, &p->mu);
        pthread_mutex_unlock(&p->mu);
        return;
    }
#endif
    (void)p; (void)work;
    fn(arg, 0, 1);
}

/* [lo, hi) of n items for thread t of nt, in multiples of align */
static void ncsn__split_z(size_t n, size_t align, int t, int nt, size_t *lo, size_t *hi)
{
    size_t units = (n + align - 1) / align, per = units / (size_t)nt, extra = units % (size_t)nt, ut = (size_t)t;
    size_t u0 = ut * per + (ut < extra ? ut : extra), u1 = u0 + per + (ut < extra ? 1 : 0);
    *lo = u0 * align < n ? u0 * align : n;
    *hi = u1 * align < n ? u1 * align : n;
}

static void ncsn__split(int n, int align, int t, int nt, int *lo, int *hi)
{
    size_t l, h;
    ncsn__split_z((size_t)n, (size_t)align, t, nt, &l, &h);
    *lo = (int)l;
    *hi = (int)h;
}

typedef struct ncsn__gemm_args {
    float *Y; int ldy; const float *X; int ldx; const float *W; int ldw; int B, K, N;
    const ncsn__gemm_ep *ep;   /* NULL: a plain product */
    int wt;                    /* W is stored [N][K]: Y = X W^T */
    float *db;                 /* dW products: the bias gradient, or NULL */
} ncsn__gemm_args;

static void ncsn__gemm_job(void *ap, int t, int nt)
{
    ncsn__gemm_args *a = (ncsn__gemm_args *)ap;
    ncsn__gemm_ep e;
    int lo, hi;
    if (a->B < 512 && a->N >= 128 * nt) {   /* a short batch of wide rows: columns, so each thread reads and packs only its part of W */
        ncsn__split(a->N, 64, t, nt, &lo, &hi);
        if (a->ep) e = ncsn__ep_at(a->ep, (size_t)lo, 0, lo);
        if (hi > lo)
            ncsn__gemm_ep_run(a->Y + lo, a->ldy, a->X, a->ldx, a->W + (a->wt ? (size_t)lo * a->ldw : (size_t)lo), a->ldw, a->B, a->K,
                              hi - lo, a->ep ? &e : NULL, a->wt);
        return;
    }
    ncsn__split(a->B, 4, t, nt, &lo, &hi);   /* rows of the batch */
    if (a->ep) e = ncsn__ep_at(a->ep, (size_t)lo * a->ldy, lo, 0);
    if (hi > lo)
        ncsn__gemm_ep_run(a->Y + (size_t)lo * a->ldy, a->ldy, a->X + (size_t)lo * a->ldx, a->ldx, a->W, a->ldw, hi - lo, a->K, a->N,
                          a->ep ? &e : NULL, a->wt);
}

/* Y = ep's start + X W (wt = 0) or X W^T with W stored [N][K] (wt = 1), then ep's activation; the
   threads own rows (or columns) of Y */
static void ncsn__pgemm_run(ncsn__pool *p, float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                            const ncsn__gemm_ep *ep, int wt)
{
    ncsn__gemm_args a;
    memset(&a, 0, sizeof a);   /* fields a job does not use stay defined */
    a.Y = Y; a.ldy = ldy; a.X = X; a.ldx = ldx; a.W = W; a.ldw = ldw; a.B = B; a.K = K; a.N = N; a.ep = ep; a.wt = wt;
    ncsn__pool_run(p, ncsn__gemm_job, &a, (double)B * K * N);
}
static void ncsn__pgemm_ep(ncsn__pool *p, float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                           const ncsn__gemm_ep *ep)
{
    ncsn__pgemm_run(p, Y, ldy, X, ldx, W, ldw, B, K, N, ep, 0);
}
static void ncsn__pgemm_nt(ncsn__pool *p, float *Y, int ldy, const float *X, int ldx, const float *W, int ldw, int B, int K, int N,
                           const ncsn__gemm_ep *ep)
{
    ncsn__pgemm_run(p, Y, ldy, X, ldx, W, ldw, B, K, N, ep, 1);
}

static void ncsn__gemm_tn_job(void *ap, int t, int nt)
{
    ncsn__gemm_args *a = (ncsn__gemm_args *)ap;   /* Y = dW [K][N], X = X [B][K], W = dY [B][N] */
    int lo, hi;
    if (a->K >= 8 * nt) {   /* rows of dW; db (every column) with the part that has row 0 */
        ncsn__split(a->K, 4, t, nt, &lo, &hi);
        if (hi > lo)
            ncsn__gemm_tn_acc(a->Y + (size_t)lo * a->ldy, a->ldy, a->X + lo, a->ldx, a->W, a->ldw, a->B, hi - lo, a->N, lo ? NULL : a->db);
    } else {                /* columns of dW and of db */
        ncsn__split(a->N, 32, t, nt, &lo, &hi);
        if (hi > lo) ncsn__gemm_tn_acc(a->Y + lo, a->ldy, a->X, a->ldx, a->W + lo, a->ldw, a->B, a->K, hi - lo, a->db ? a->db + lo : NULL);
    }
}

/* dW += X^T dY, and db (may be NULL) += the column sums of dY, on the pool */
static void ncsn__pgemm_tn_acc(ncsn__pool *p, float *dW, int ldw, const float *X, int ldx, const float *dY, int ldy, int B, int K, int N,
                               float *db)
{
    ncsn__gemm_args a;
    memset(&a, 0, sizeof a);   /* fields a job does not use stay defined */
    a.Y = dW; a.ldy = ldw; a.X = X; a.ldx = ldx; a.W = dY; a.ldw = ldy; a.B = B; a.K = K; a.N = N; a.ep = NULL; a.db = db;
    ncsn__pool_run(p, ncsn__gemm_tn_job, &a, (double)B * (K + 1) * N);
}


/* ---- 8. score network ---------------------------------------------------------------------------- */
NCSNDEF ncsn_config ncsn_config_concat(int dim, int width, int depth)
{
    ncsn_config c;
    int i;
    memset(&c, 0, sizeof c);
    c.dim = dim;
    c.n_hidden = depth;
    for (i = 0; i < depth && i < NCSN_MAX_HIDDEN; i++) c.hidden[i] = width;
    c.cond = NCSN_COND_CONCAT;
    c.act = NCSN_ACT_SILU;
    return c;
}

NCSNDEF ncsn_config ncsn_config_embed(int dim, int embed_dim, int width, int depth)
{
    ncsn_config c = ncsn_config_concat(dim, width, depth);
    c.cond = NCSN_COND_EMBED;
    c.embed_dim = embed_dim;
    c.zero_init_output = 1;
    return c;
}

NCSNDEF ncsn_config ncsn_config_default(int dim)
{
    ncsn_config c = ncsn_config_concat(dim, dim <= 4 ? 128 : dim <= 16 ? 256 : 512, 3);
    c.sigma_input = NCSN_SIGMA_LOG;
    c.scale_by_sigma = 1;
    c.zero_init_output = 1;
    return c;
}

#define NCSN__MAX_DIM (1 << 20)

/* precond's sd: the scalings use sd^2 + sigma^2 in float, so sd^2 must neither overflow (NaN
   scores) nor underflow to 0 (a DSM target of x / c_out, about 1e30 x) */
#define NCSN__SIGMA_DATA_MIN 1e-18f
#define NCSN__SIGMA_DATA_MAX 1e18f
static int ncsn__sigma_data_ok(float sd) { return sd >= NCSN__SIGMA_DATA_MIN && sd <= NCSN__SIGMA_DATA_MAX; }

NCSNDEF ncsn_status ncsn_config_check(const ncsn_config *c)
{
    int i;
    if (!c) return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: cfg = NULL");
    if (c->dim < 1 || c->dim > NCSN__MAX_DIM)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: dim = %d must be in [1, %d]", c->dim, NCSN__MAX_DIM);
    if (c->n_hidden < 1 || c->n_hidden > NCSN_MAX_HIDDEN)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: n_hidden = %d must be in [1, %d]", c->n_hidden, NCSN_MAX_HIDDEN);
    for (i = 0; i < c->n_hidden; i++)
        if (c->hidden[i] < 1 || c->hidden[i] > NCSN__MAX_DIM)
            return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: hidden[%d] = %d must be in [1, %d]", i, c->hidden[i], NCSN__MAX_DIM);
    if (c->cond != NCSN_COND_CONCAT && c->cond != NCSN_COND_EMBED)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: cond = %d is not a conditioning", (int)c->cond);
    if (c->sigma_input != NCSN_SIGMA_RAW && c->sigma_input != NCSN_SIGMA_LOG)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: sigma_input = %d is not a conditioning input", (int)c->sigma_input);
    if (c->cond == NCSN_COND_EMBED && (c->embed_dim < 4 || c->embed_dim % 2 || c->embed_dim > 65536))
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: embed_dim = %d must be even and in [4, 65536]", c->embed_dim);
    if (c->act != NCSN_ACT_SILU && c->act != NCSN_ACT_SOFTPLUS)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: act = %d is not an activation", (int)c->act);
    if ((c->scale_by_sigma != 0 && c->scale_by_sigma != 1) || (c->zero_init_output != 0 && c->zero_init_output != 1))
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: scale_by_sigma = %d and zero_init_output = %d must be 0 or 1",
                          c->scale_by_sigma, c->zero_init_output);
    if (c->precond != 0 && c->precond != 1) return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: precond = %d must be 0 or 1", c->precond);
    if (c->precond && c->scale_by_sigma) return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: precond = 1 needs scale_by_sigma = 0 (it is 1)");
    if (c->precond && !ncsn__sigma_data_ok(c->sigma_data))
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_config: sigma_data = %g must be in [%g, %g] with precond = 1 (its square a normal float)",
                          (double)c->sigma_data, (double)NCSN__SIGMA_DATA_MIN, (double)NCSN__SIGMA_DATA_MAX);
    return NCSN_OK;
}

/* The model's private state: the workspace of the last forward pass, which backward reuses, and
   what is fixed per model (embedding frequencies, thread pool). Shapes: B = cap (the batch
   capacity), S <= B the distinct sigmas of the last batch (slots), D = dim, C = conditioning width
   (1, or E = embed_dim), H_l = hidden[l], W = the widest layer input or output, max(D + C, H_l, E).
   Every float view is 16-float aligned inside buf; a view of S rows has room for B. */
#define NCSN__PC_N 6   /* floats of precond's scalings per slot (ncsn__pc) */
/* precond's scalings at sigma (ncsn_config), with v = sigma^2 + sd^2: c_in, c_skip, c_out,
   inv = 1/sigma^2, outi = c_out/sigma^2 and skip = (c_skip - 1)/sigma^2 = -1/v. skip is computed as
   -1/v, not from the rounded c_skip: c_skip - 1 loses a factor v/sigma^2 of relative accuracy
   (2^-24 (1 + sd^2/sigma^2): 2.3e-4 at sigma = 0.01, sd = 0.35). */
typedef struct ncsn__pc { float cin, cskip, cout, inv, outi, skip; } ncsn__pc;   /* NCSN__PC_N floats */
typedef char ncsn__pc_size_check[sizeof(ncsn__pc) == NCSN__PC_N * sizeof(float) ? 1 : -1];
typedef struct ncsn__workspace {
    int cap;                   /* B: the batch the views below hold */
    int batch;                 /* the last forward's batch (0: none to differentiate) */
    size_t n_floats;           /* floats in buf */
    float *buf;                /* the one allocation behind every float view below */
    int *slot_of;              /* [B] slot of each sample: the index of its sigma among the distinct ones */
    int n_slots;               /* S */
    float *freq;               /* [E/2] sinusoidal embedding frequencies (EMBED; per model, not per batch) */
    ncsn__pool *pool;          /* the threads of ncsn_model_set_threads; NULL: the caller only */
    float *x;                  /* [B, D] copy of the input x */
    float *sigma;              /* [B] copy of the input sigma */
    float *input;              /* [B, D + C] the first layer's input per sample: [x, c] or [x, e] */
    float *pre[NCSN_MAX_HIDDEN];  /* [B, H_l] pre-activation of hidden layer l */
    float *act[NCSN_MAX_HIDDEN];  /* [B, H_l] its activation, the next layer's input */
    float *sgm[NCSN_MAX_HIDDEN];  /* [B, H_l] sigmoid of pre[l], 0 below the cut (SiLU's backward reuses it) */
    float *net_out;            /* [B, D] the last layer's output, before the division by sigma */
    float *sigma_fill;         /* [B] one sigma repeated, for ncsn_model_score */
    float *slot_sigma;         /* [S] the distinct sigmas, in order of first appearance */
    float *slot_cond;          /* [S] their conditioning input c: sigma or ln sigma */
    ncsn__pc *slot_pc;         /* [S] precond's scalings per slot (precond only) */
    float *e_sin;              /* [S, E] sinusoid(c): E/2 sines, then E/2 cosines */
    float *e_pre;              /* [S, E] pre-activation of sigma_embed.1 */
    float *e_act;              /* [S, E] its SiLU, sigma_embed.3's input */
    float *e_sgm;              /* [S, E] sigmoid of e_pre, 0 below the cut (for SiLU's backward) */
    float *e_out;              /* [S, E] the embedding e = sigma_embed.3's output */
    float *slot_pre0;          /* [S, H_0] the first layer's bias plus its conditioning rows, per slot */
    float *slot_dpre0;         /* [S, H_0] dL/dpre[0] summed over each slot's samples (in sample order) */
    float *de_out;             /* [S, E] dL/de */
    float *de_pre;             /* [S, E] dL/de_act, then dL/de_pre in place */
    float *grad_a, *grad_b;    /* [B, W] dL/d(layer output), alternating as backward walks down */
    double *stf;               /* the stable target's scratch (ncsn__stf_scratch), stf_cap doubles */
    size_t stf_cap;
} ncsn__workspace;

static int ncsn__cond_width(const ncsn_config *c) { return c->cond == NCSN_COND_EMBED ? c->embed_dim : 1; }

/* parameters of a checked config, counted in 64 bits (up to 17 layers of 2^20 x 2^20 weights) */
static uint64_t ncsn__config_params(const ncsn_config *c)
{
    uint64_t need = 0, in = (uint64_t)c->dim + (uint64_t)ncsn__cond_width(c);
    int l;
    if (c->cond == NCSN_COND_EMBED) need += 2u * ((uint64_t)c->embed_dim + 1u) * (uint64_t)c->embed_dim;
    for (l = 0; l <= c->n_hidden; l++) {
        uint64_t o = l < c->n_hidden ? (uint64_t)c->hidden[l] : (uint64_t)c->dim;
        need += (in + 1u) * o;
        in = o;
    }
    return need;
}

static void ncsn__add_tensor(ncsn_model *m, const char *name, int rows, int cols, size_t *off)
{
    ncsn_tensor *t = &m->tensors[m->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows;
    t->cols = cols;
    t->offset = *off;
    *off += (size_t)rows * (size_t)(cols ? cols : 1);
}

static void ncsn__add_linear(ncsn_model *m, ncsn_layer *L, const char *prefix, int in, int out, size_t *off)
{
    char nm[32];
    L->in = in;
    L->out = out;
    L->w = *off;
    snprintf(nm, sizeof nm, "%s.weight", prefix);
    ncsn__add_tensor(m, nm, out, in, off);
    L->b = *off;
    snprintf(nm, sizeof nm, "%s.bias", prefix);
    ncsn__add_tensor(m, nm, out, 0, off);
}

NCSNDEF ncsn_status ncsn_model_create(ncsn_model **out, const ncsn_config *cfg)
{
    ncsn_model *m;
    ncsn__workspace *p;
    size_t off = 0;
    int l, in, E;
    ncsn_status st;
    if (!out) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_create: out = NULL");
    *out = NULL;
    if ((st = ncsn_config_check(cfg)) != NCSN_OK) return st;
    if (ncsn__config_params(cfg) > NCSN__MAX_ELEMS)   /* before any size_t sum of them can wrap */
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_create: the config has %llu parameters; at most %llu on this target",
                          (unsigned long long)ncsn__config_params(cfg), (unsigned long long)NCSN__MAX_ELEMS);
    m = (ncsn_model *)ncsn__alloc(sizeof *m);
    p = (ncsn__workspace *)ncsn__alloc(sizeof *p);
    if (!m || !p) {
        NCSN_FREE(m); NCSN_FREE(p);
        return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_model_create: out of memory");
    }
    memset(m, 0, sizeof *m);
    memset(p, 0, sizeof *p);
    m->cfg = *cfg;
    m->work = p;
    E = cfg->embed_dim;
    if (cfg->cond == NCSN_COND_EMBED) {
        ncsn__add_linear(m, &m->emb[0], "sigma_embed.1", E, E, &off);
        ncsn__add_linear(m, &m->emb[1], "sigma_embed.3", E, E, &off);
    }
    in = cfg->dim + ncsn__cond_width(cfg);
    m->n_layers = cfg->n_hidden + 1;
    for (l = 0; l < m->n_layers; l++) {
        char nm[32];
        int o = l < cfg->n_hidden ? cfg->hidden[l] : cfg->dim;
        snprintf(nm, sizeof nm, "net.%d", 2 * l);
        ncsn__add_linear(m, &m->layers[l], nm, in, o, &off);
        in = o;
    }
    m->n_params = off;
    m->params = NCSN__ALLOC_N(float, off);
    m->grads = NCSN__ALLOC_N(float, off);
    if (cfg->cond == NCSN_COND_EMBED) p->freq = NCSN__ALLOC_N(float, E / 2);
    if (!m->params || !m->grads || (cfg->cond == NCSN_COND_EMBED && !p->freq)) {
        ncsn_model_free(m);
        return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_model_create: out of memory for %lu parameters", (unsigned long)off);
    }
    memset(m->params, 0, off * sizeof(float));
    memset(m->grads, 0, off * sizeof(float));
    if (cfg->cond == NCSN_COND_EMBED) {
        /* seed 001: freq_j = e^(-j ln 10000/(half-1)), the product taken in float as torch does;
           ln sigma: the same form from 1/4 down to 1/64 (section 8's comment says why) */
        int j, half = E / 2, lg = cfg->sigma_input == NCSN_SIGMA_LOG;
        float c = (float)(-ncsn_log(lg ? 16.0 : 10000.0) / (double)(half - 1)), f0 = lg ? 0.25f : 1.0f;
        for (j = 0; j < half; j++) p->freq[j] = f0 * ncsn_expf((float)j * c);
    }
    *out = m;
    return NCSN_OK;
}

NCSNDEF void ncsn_model_free(ncsn_model *m)
{
    ncsn__workspace *p;
    if (!m) return;
    p = m->work;
    if (p) {
        ncsn__pool_free(p->pool);
        NCSN_FREE(p->freq);
        NCSN_FREE(p->slot_of);
        NCSN_FREE(p->buf);
        NCSN_FREE(p->stf);
        NCSN_FREE(p);
    }
    NCSN_FREE(m->params);
    NCSN_FREE(m->grads);
    NCSN_FREE(m);
}

NCSNDEF const ncsn_tensor *ncsn_model_tensor(const ncsn_model *m, const char *name)
{
    int i;
    for (i = 0; m && name && i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}

NCSNDEF ncsn_status ncsn_model_set_threads(ncsn_model *m, int n_threads)
{
    ncsn__workspace *p;
    ncsn__pool *pool = NULL;
    ncsn_status st;
    if (!m) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_set_threads: model = NULL");
    if (n_threads < 1 || n_threads > 256)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_set_threads: n_threads = %d must be in [1, 256]", n_threads);
#ifdef NCSN_NO_THREADS
    if (n_threads > 1) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_set_threads: n_threads = %d, but built with NCSN_NO_THREADS", n_threads);
#endif
    p = m->work;
    if (n_threads > 1 && (st = ncsn__pool_create(&pool, n_threads)) != NCSN_OK) return st;
    ncsn__pool_free(p->pool);
    p->pool = pool;
    return NCSN_OK;
}

NCSNDEF void ncsn_model_zero_grad(ncsn_model *m)
{
    if (m && m->grads) memset(m->grads, 0, m->n_params * sizeof(float));
}

static void ncsn__init_linear(ncsn_model *m, const ncsn_layer *L, ncsn_rng *rng, int zero)
{
    /* torch draws W as [out][in] row-major; we store [in][out]. bound = 1/sqrt(fan_in). */
    float bound = 1.0f / sqrtf((float)L->in), two_bound = 2.0f * bound;
    float *W = m->params + L->w, *b = m->params + L->b;
    int i, o;
    for (o = 0; o < L->out; o++)
        for (i = 0; i < L->in; i++) {
            float u = ncsn_rng_uniform(rng);
            W[(size_t)i * L->out + o] = zero ? 0.0f : fmaf(u, two_bound, -bound);
        }
    for (o = 0; o < L->out; o++) {
        float u = ncsn_rng_uniform(rng);
        b[o] = zero ? 0.0f : fmaf(u, two_bound, -bound);
    }
}

NCSNDEF ncsn_status ncsn_model_init(ncsn_model *m, ncsn_rng *rng)
{
    int l;
    if (!m || !rng) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_init: %s = NULL", m ? "rng" : "model");
    if (m->cfg.cond == NCSN_COND_EMBED) {
        ncsn__init_linear(m, &m->emb[0], rng, 0);
        ncsn__init_linear(m, &m->emb[1], rng, 0);
    }
    for (l = 0; l < m->n_layers; l++)
        ncsn__init_linear(m, &m->layers[l], rng, l == m->n_layers - 1 && m->cfg.zero_init_output);
    return NCSN_OK;
}

/* the workspace for a batch of cap, laid out at base (NULL: only counted); counted in 64 bits so
   that a batch too large for a 32-bit size_t is refused instead of wrapping */
static uint64_t ncsn__ws_layout(ncsn_model *m, int cap, float *base)
{
    ncsn__workspace *p = m->work;
    const ncsn_config *c = &m->cfg;
    uint64_t off = 0, B = (uint64_t)cap, maxw = (uint64_t)c->dim + (uint64_t)ncsn__cond_width(c);
    uint64_t E = (uint64_t)c->embed_dim, H0 = (uint64_t)c->hidden[0];
    int l;
#define NCSN__TAKE(ptr, count) do { if (base) (ptr) = base + (size_t)off; off += (count); off = (off + 15u) & ~(uint64_t)15u; } while (0)
    for (l = 0; l < m->n_layers; l++)
        if ((uint64_t)m->layers[l].out > maxw) maxw = (uint64_t)m->layers[l].out;
    if (E > maxw) maxw = E;
    NCSN__TAKE(p->x, B * (uint64_t)c->dim);
    NCSN__TAKE(p->sigma, B);
    NCSN__TAKE(p->input, B * ((uint64_t)c->dim + (uint64_t)ncsn__cond_width(c)));
    for (l = 0; l < c->n_hidden; l++) {
        NCSN__TAKE(p->pre[l], B * (uint64_t)c->hidden[l]);
        NCSN__TAKE(p->act[l], B * (uint64_t)c->hidden[l]);
        NCSN__TAKE(p->sgm[l], B * (uint64_t)c->hidden[l]);
    }
    NCSN__TAKE(p->net_out, B * (uint64_t)c->dim);
    NCSN__TAKE(p->sigma_fill, B);
    NCSN__TAKE(p->slot_sigma, B);
    NCSN__TAKE(p->slot_cond, B);
    if (c->precond) {   /* NCSN__PC_N floats each, no padding (checked above) */
        float *pc = NULL;
        NCSN__TAKE(pc, B * NCSN__PC_N);
        p->slot_pc = (ncsn__pc *)pc;
    }
    NCSN__TAKE(p->slot_pre0, B * H0);
    NCSN__TAKE(p->slot_dpre0, B * H0);
    if (c->cond == NCSN_COND_EMBED) {
        NCSN__TAKE(p->e_sin, B * E);
        NCSN__TAKE(p->e_pre, B * E);
        NCSN__TAKE(p->e_act, B * E);
        NCSN__TAKE(p->e_sgm, B * E);
        NCSN__TAKE(p->e_out, B * E);
        NCSN__TAKE(p->de_out, B * E);
        NCSN__TAKE(p->de_pre, B * E);
    }
    NCSN__TAKE(p->grad_a, B * maxw);
    NCSN__TAKE(p->grad_b, B * maxw);
#undef NCSN__TAKE
    return off;
}

NCSNDEF size_t ncsn_model_workspace_bytes(const ncsn_model *m, int batch)
{
    uint64_t n;
    if (!m || batch < 1) return 0;
    /* the layout only counts when given no base: m is not written */
    n = ncsn__ws_layout((ncsn_model *)m, batch, NULL);
    if (n > NCSN__MAX_ELEMS) return SIZE_MAX;   /* more than this target holds: ncsn_model_reserve refuses it */
    return (size_t)n * sizeof(float) + (size_t)batch * sizeof(int);
}

NCSNDEF ncsn_status ncsn_model_reserve(ncsn_model *m, int batch)
{
    ncsn__workspace *p;
    uint64_t need;
    float *ws;
    int *slots;
    if (!m) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_reserve: model = NULL");
    if (batch < 1 || batch > (1 << 26)) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_reserve: batch = %d must be in [1, 2^26]", batch);
    p = m->work;
    if (batch <= p->cap) return NCSN_OK;
    need = ncsn__ws_layout(m, batch, NULL);
    if (need > NCSN__MAX_ELEMS)
        return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_model_reserve: batch = %d needs a workspace of %llu floats; at most %llu on this target",
                          batch, (unsigned long long)need, (unsigned long long)NCSN__MAX_ELEMS);
    ws = NCSN__ALLOC_N(float, need);
    slots = NCSN__ALLOC_N(int, batch);
    if (!ws || !slots) {
        NCSN_FREE(ws); NCSN_FREE(slots);
        if (p->buf) ncsn__ws_layout(m, p->cap, p->buf);  /* keep the old views valid */
        return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_model_reserve: out of memory for batch = %d", batch);
    }
    NCSN_FREE(p->buf);
    NCSN_FREE(p->slot_of);
    p->buf = ws;
    p->slot_of = slots;
    p->n_floats = (size_t)need;
    p->cap = batch;
    p->batch = 0;
    ncsn__ws_layout(m, batch, ws);
    return NCSN_OK;
}

/* The network as layers, each a forward/backward pair; ncsn_model_forward and ncsn_model_backward
   are the lists of their calls. Every pair keeps the exact order of operations of the reference
   (tests/test_model.c), so the split changes no bit. */

static void ncsn__precond_slot(ncsn__pc *p, float sigma, float sd)
{
    float v = fmaf(sigma, sigma, sd * sd), r = sqrtf(v);
    p->cin = 1.0f / r;
    p->cskip = sd * sd / v;
    p->cout = sigma * sd / r;
    p->inv = 1.0f / (sigma * sigma);
    p->outi = p->cout * p->inv;
    p->skip = -1.0f / v;
}

/* sample b's scalings, from its slot (computed once per distinct sigma by ncsn__cond_fwd) */
static ncsn__pc ncsn__precond_of(const ncsn__workspace *w, int b) { return w->slot_pc[w->slot_of[b]]; }

/* Conditioning: the distinct sigmas of the batch in order of first appearance (the slots), and
   their conditioning input c (sigma or ln sigma) and precond's scalings, so everything that depends
   on sigma alone is computed once per slot. No backward: sigma gets no gradient. */
static void ncsn__cond_fwd(const ncsn_model *m, ncsn__workspace *w, const float *sigma, int B)
{
    int b, s;
    w->n_slots = 0;
    for (b = 0; b < B; b++) {
        uint32_t bits = ncsn__f2u(sigma[b]);
        s = w->n_slots - 1;
        if (s < 0 || ncsn__f2u(w->slot_sigma[s]) != bits)
            for (s = 0; s < w->n_slots && ncsn__f2u(w->slot_sigma[s]) != bits; s++) {}
        if (s == w->n_slots) {
            w->slot_cond[s] = m->cfg.sigma_input == NCSN_SIGMA_LOG ? ncsn_logf(sigma[b]) : sigma[b];
            if (m->cfg.precond) ncsn__precond_slot(&w->slot_pc[s], sigma[b], m->cfg.sigma_data);
            w->slot_sigma[w->n_slots++] = sigma[b];
        }
        w->slot_of[b] = s;
    }
}

/* Linear, and the activation after it (a non-NULL): out[B, N] = b + in[B, K] W (W [K][N]), the
   bias, then the rows of in in order; a = act(out), sgm = sigmoid(out) (0 below the SiLU's cut) kept for its backward.
   The bias and the activation are applied to each tile of out by the product itself (ncsn__gemm_ep). */
static void ncsn__linear_fwd(ncsn__pool *pool, const ncsn_model *m, const ncsn_layer *L, float *out,
                             const float *in, int B, float *a, float *sgm, ncsn_act act)
{
    ncsn__gemm_ep ep;
    memset(&ep, 0, sizeof ep);
    ep.bias = m->params + L->b;
    ep.a = a;
    ep.sg = sgm;
    ep.act = act;
    ncsn__pgemm_ep(pool, out, L->out, in, L->in, m->params + L->w, L->out, B, L->in, L->out, &ep);
}

/* param_grads: dW += in^T dout, db += column sums of dout; then (din non-NULL) din = dout W^T from W;
   with pre non-NULL, din is then the gradient of the activation's input pre
   (sgm: its stored sigmoid): din * act'(pre), applied to each tile of din by the product. */
static void ncsn__linear_bwd(ncsn__pool *pool, ncsn_model *m, const ncsn_layer *L, float *din,
                             const float *dout, const float *in, int B, const float *pre, float *sgm, ncsn_act act, int param_grads)
{
    ncsn__gemm_ep ep;
    if (param_grads) ncsn__pgemm_tn_acc(pool, m->grads + L->w, L->out, in, L->in, dout, L->out, B, L->in, L->out, m->grads + L->b);
    if (!din) return;
    memset(&ep, 0, sizeof ep);
    ep.zero = 1;
    ep.z = pre;
    ep.sg = sgm;
    ep.act = act;
    ncsn__pgemm_nt(pool, din, L->in, dout, L->out, m->params + L->w, L->out, B, L->out, L->in, &ep);
}

/* Sigma embedding (EMBED), per slot: e = sigma_embed.3(SiLU(sigma_embed.1(sinusoid(c)))). Slots
   are few: it runs on the caller's thread. */
static void ncsn__sinusoid(float *out, const float *cond, const float *freq, int S, int E)
{
    int half = E / 2, s, j;
    for (s = 0; s < S; s++)
        for (j = 0; j < half; j++) {
            float arg = cond[s] * freq[j];
            out[(size_t)s * E + j] = ncsn_sinf(arg);
            out[(size_t)s * E + half + j] = ncsn_cosf(arg);
        }
}

#if defined(NCSN__DISPATCH)
/* The same loop with FMA enabled and the sine and cosine inlined, as ncsn__normals_loop_fma and
   for the same reason: built without FMA flags, each fmaf in them is a libm call (the one-chain
   sampler at 0.74x the -march=native build's speed, 31 % of its time in those calls). */
static __attribute__((target("avx2,fma"), flatten)) void ncsn__sinusoid_fma(float *out, const float *cond, const float *freq, int S, int E)
{
    ncsn__sinusoid(out, cond, freq, S, E);
}
#endif

/* out[s][j] = sin(cond[s] freq[j]), out[s][E/2 + j] = cos(...), on the kernels' FMA if they have it */
static void ncsn__embed_sinusoid(float *out, const float *cond, const float *freq, int S, int E)
{
#if defined(NCSN__DISPATCH)
    if (ncsn__kernels_have_fma()) {
        ncsn__sinusoid_fma(out, cond, freq, S, E);
        return;
    }
#endif
    ncsn__sinusoid(out, cond, freq, S, E);
}

static void ncsn__embed_fwd(const ncsn_model *m, ncsn__workspace *w)
{
    ncsn__embed_sinusoid(w->e_sin, w->slot_cond, w->freq, w->n_slots, m->cfg.embed_dim);
    ncsn__linear_fwd(NULL, m, &m->emb[0], w->e_pre, w->e_sin, w->n_slots, w->e_act, w->e_sgm, NCSN_ACT_SILU);
    ncsn__linear_fwd(NULL, m, &m->emb[1], w->e_out, w->e_act, w->n_slots, NULL, NULL, NCSN_ACT_SILU);
}

/* From dL/de (de_out, left by ncsn__first_bwd) to the embedding's weight gradients. */
static void ncsn__embed_bwd(ncsn_model *m, ncsn__workspace *w)
{
    int S = w->n_slots;
    ncsn__linear_bwd(NULL, m, &m->emb[1], w->de_pre, w->de_out, w->e_act, S, w->e_pre, w->e_sgm, NCSN_ACT_SILU, 1);
    ncsn__linear_bwd(NULL, m, &m->emb[0], NULL, w->de_pre, w->e_sin, S, NULL, NULL, NCSN_ACT_SILU, 1);
}

/* First layer, input [x, cond] with cond = c (CONCAT) or e (EMBED): per slot the bias plus the
   conditioning rows (slot_pre0), then per sample its slot's row plus the data rows. Keeps the
   input [x, cond] per sample for the weight gradient. */
static void ncsn__first_fwd(const ncsn_model *m, ncsn__workspace *w, const float *x, int B)
{
    const ncsn_layer *L0 = &m->layers[0];
    const float *W0 = m->params + L0->w;
    int D = m->cfg.dim, C = ncsn__cond_width(&m->cfg), H0 = L0->out, S = w->n_slots, b;
    const float *cond = m->cfg.cond == NCSN_COND_EMBED ? w->e_out : w->slot_cond;
    ncsn__gemm_ep ep;
    memset(&ep, 0, sizeof ep);
    ep.bias = m->params + L0->b;
    ncsn__pgemm_ep(NULL, w->slot_pre0, H0, cond, C, W0 + (size_t)D * H0, H0, S, C, H0, &ep);
    for (b = 0; b < B; b++) {
        memcpy(w->input + (size_t)b * (D + C), x + (size_t)b * D, (size_t)D * sizeof(float));
        memcpy(w->input + (size_t)b * (D + C) + D, cond + (size_t)w->slot_of[b] * C, (size_t)C * sizeof(float));
    }
    ep.bias = NULL;   /* pre[0] starts at its slot's row, copied tile by tile; then the first activation */
    ep.rows = w->slot_pre0;
    ep.row_of = w->slot_of;
    ep.ld_rows = H0;
    ep.a = w->act[0];
    ep.sg = w->sgm[0];
    ep.act = m->cfg.act;
    ncsn__pgemm_ep(w->pool, w->pre[0], H0, w->x, D, W0, H0, B, D, H0, &ep);
}

/* dW0, db0 from dpre0 (param_grads); dx = dpre0 W0x^T (dx may be NULL); EMBED with param_grads:
   de_out = (each slot's sum of dpre0, in sample order) W0c^T, for the embedding's gradients. */
static void ncsn__first_bwd(ncsn_model *m, ncsn__workspace *w, float *dx, const float *dpre0, int B, int param_grads)
{
    const ncsn_layer *L0 = &m->layers[0];
    int D = m->cfg.dim, C = ncsn__cond_width(&m->cfg), H0 = L0->out, S = w->n_slots, embed = m->cfg.cond == NCSN_COND_EMBED, b, o;
    ncsn__gemm_ep ep;
    memset(&ep, 0, sizeof ep);
    ep.zero = 1;   /* dx and de_out start at 0 */
    if (param_grads) ncsn__pgemm_tn_acc(w->pool, m->grads + L0->w, H0, w->input, D + C, dpre0, H0, B, D + C, H0, m->grads + L0->b);
    if (dx) ncsn__pgemm_nt(w->pool, dx, D, dpre0, H0, m->params + L0->w, H0, B, H0, D, &ep);   /* W0's data rows */
    if (!embed || !param_grads) return;   /* the conditioning's gradient feeds only the embedding's parameters */
    memset(w->slot_dpre0, 0, (size_t)S * H0 * sizeof(float));
    for (b = 0; b < B; b++) {
        float *g = w->slot_dpre0 + (size_t)w->slot_of[b] * H0;
        const float *dz = dpre0 + (size_t)b * H0;
        for (o = 0; o < H0; o++) g[o] += dz[o];
    }
    ncsn__pgemm_nt(NULL, w->de_out, C, w->slot_dpre0, H0, m->params + L0->w + (size_t)D * H0, H0, S, H0, C, &ep);   /* its conditioning rows */
}

/* precond: the network's input c_in x, in place in w->x (the copy of x) */
static void ncsn__precond_in(const ncsn_model *m, ncsn__workspace *w, int B)
{
    size_t b, d, D = (size_t)m->cfg.dim;
    for (b = 0; b < (size_t)B; b++) {
        float cin = ncsn__precond_of(w, (int)b).cin;
        for (d = 0; d < D; d++) w->x[b * D + d] = cin * w->x[b * D + d];
    }
}

/* precond's output s = (c_skip x + c_out net_out - x) / sigma^2 = (c_out/sigma^2) net_out + skip x,
   x the caller's input */
static void ncsn__precond_out(const ncsn_model *m, const ncsn__workspace *w, float *out, const float *x, int B)
{
    size_t b, d, D = (size_t)m->cfg.dim;
    for (b = 0; b < (size_t)B; b++) {
        ncsn__pc c = ncsn__precond_of(w, (int)b);
        for (d = 0; d < D; d++) out[b * D + d] = fmaf(c.outi, w->net_out[b * D + d], c.skip * x[b * D + d]);
    }
}

/* Output: s = net_out / sigma with scale_by_sigma, precond's (ncsn__precond_out), else net_out. */
static void ncsn__scale_fwd(const ncsn_model *m, const ncsn__workspace *w, float *out, const float *x, int B)
{
    size_t b, d, D = (size_t)m->cfg.dim;
    if (m->cfg.precond) { ncsn__precond_out(m, w, out, x, B); return; }
    for (b = 0; b < (size_t)B; b++)
        for (d = 0; d < D; d++) {
            float v = w->net_out[b * D + d];
            out[b * D + d] = m->cfg.scale_by_sigma ? v / w->sigma[b] : v;
        }
}

/* dL/d(net_out) from dL/ds: / sigma with scale_by_sigma, * c_out / sigma^2 with precond */
static void ncsn__scale_bwd(const ncsn_model *m, const ncsn__workspace *w, float *dnet_out, const float *dout, int B)
{
    size_t b, d, D = (size_t)m->cfg.dim;
    for (b = 0; b < (size_t)B; b++) {
        ncsn__pc c = { 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f };
        if (m->cfg.precond) c = ncsn__precond_of(w, (int)b);
        for (d = 0; d < D; d++) {
            float g = dout[b * D + d];
            dnet_out[b * D + d] = m->cfg.precond ? g * c.inv * c.cout : m->cfg.scale_by_sigma ? g / w->sigma[b] : g;
        }
    }
}

/* precond: dx holds dL/d(c_in x) from the first layer; dx = c_in dx + skip dout, skip = (c_skip - 1)/sigma^2
   (the skip path; none when dout is NULL: a gradient of F, which has no skip path) */
static void ncsn__precond_dx(const ncsn_model *m, const ncsn__workspace *w, float *dx, const float *dout, int B)
{
    size_t b, d, D = (size_t)m->cfg.dim;
    for (b = 0; b < (size_t)B; b++) {
        ncsn__pc c = ncsn__precond_of(w, (int)b);
        for (d = 0; d < D; d++) dx[b * D + d] = dout ? fmaf(c.cin, dx[b * D + d], c.skip * dout[b * D + d]) : c.cin * dx[b * D + d];
    }
}

static ncsn_status ncsn__forward_args(ncsn_model *m, float *out, const float *x, const float *sigma, int B)
{
    const ncsn_config *c;
    int b;
    if (!m || !out || !x || !sigma)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_forward: %s = NULL", !m ? "model" : !out ? "out" : !x ? "x" : "sigma");
    if (B < 1) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_forward: B = %d must be >= 1", B);
    c = &m->cfg;
    for (b = 0; b < B; b++)
        if ((c->scale_by_sigma || c->precond || c->sigma_input == NCSN_SIGMA_LOG) && !(sigma[b] > 0.0f))
            return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_forward: sigma[%d] = %g must be > 0 with %s", b, (double)sigma[b],
                              c->scale_by_sigma ? "scale_by_sigma" : c->precond ? "precond" : "sigma_input = log");
    return ncsn_model_reserve(m, B);
}

NCSNDEF ncsn_status ncsn_model_forward(ncsn_model *m, float *out, const float *x, const float *sigma, int B)
{
    ncsn__workspace *w;
    int l, n_hidden;
    ncsn_status st;
    if ((st = ncsn__forward_args(m, out, x, sigma, B)) != NCSN_OK) return st;
    w = m->work;
    n_hidden = m->cfg.n_hidden;
    memcpy(w->x, x, (size_t)B * m->cfg.dim * sizeof(float));
    memcpy(w->sigma, sigma, (size_t)B * sizeof(float));
    ncsn__cond_fwd(m, w, sigma, B);   /* the slots, and precond's scalings */
    if (m->cfg.precond) ncsn__precond_in(m, w, B);
    if (m->cfg.cond == NCSN_COND_EMBED) ncsn__embed_fwd(m, w);
    ncsn__first_fwd(m, w, m->cfg.precond ? w->x : x, B);   /* and the first activation */
    for (l = 1; l < n_hidden; l++)
        ncsn__linear_fwd(w->pool, m, &m->layers[l], w->pre[l], w->act[l - 1], B, w->act[l], w->sgm[l], m->cfg.act);
    ncsn__linear_fwd(w->pool, m, &m->layers[n_hidden], w->net_out, w->act[n_hidden - 1], B, NULL, NULL, m->cfg.act);
    ncsn__scale_fwd(m, w, out, x, B);
    w->batch = B;
    return NCSN_OK;
}

/* dout_is_dnet: dout is dL/d(net_out) (precond's DSM loss is on F itself), else dL/d(score);
   param_grads 0: dx only, m->grads untouched (about half the work: no weight-gradient products) */
static ncsn_status ncsn__backward(ncsn_model *m, float *dx, const float *dout, int dout_is_dnet, int param_grads)
{
    ncsn__workspace *w;
    float *dcur, *dnext, *swap;
    int B, l;
    if (!m || !dout) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_backward: %s = NULL", !m ? "model" : "dout");
    w = m->work;
    if (w->batch < 1) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_backward: no forward pass to differentiate");
    B = w->batch;
    dcur = w->grad_a;    /* dL/d(output of layer l) */
    dnext = w->grad_b;
    if (dout_is_dnet) memcpy(dcur, dout, (size_t)B * (size_t)m->cfg.dim * sizeof(float));
    else ncsn__scale_bwd(m, w, dcur, dout, B);
    for (l = m->n_layers - 1; l >= 1; l--) {
        ncsn__linear_bwd(w->pool, m, &m->layers[l], dnext, dcur, w->act[l - 1], B, w->pre[l - 1], w->sgm[l - 1],
                         m->cfg.act, param_grads);
        swap = dcur; dcur = dnext; dnext = swap;
    }
    ncsn__first_bwd(m, w, dx, dcur, B, param_grads);
    if (dx && m->cfg.precond) ncsn__precond_dx(m, w, dx, dout_is_dnet ? NULL : dout, B);
    if (m->cfg.cond == NCSN_COND_EMBED && param_grads) ncsn__embed_bwd(m, w);
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_model_backward(ncsn_model *m, float *dx, const float *dout)
{
    return ncsn__backward(m, dx, dout, 0, 1);
}

NCSNDEF ncsn_status ncsn_model_score(void *model, float *out, const float *x, float sigma, int n)
{
    ncsn_model *m = (ncsn_model *)model;
    ncsn_status st;
    int b;
    if (!m) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_score: model = NULL");
    if ((st = ncsn_model_reserve(m, n)) != NCSN_OK) return st;
    for (b = 0; b < n; b++) m->work->sigma_fill[b] = sigma;
    return ncsn_model_forward(m, out, x, m->work->sigma_fill, n);
}

NCSNDEF ncsn_status ncsn_model_check_finite(const ncsn_model *m, const ncsn_adam *adam, int which)
{
    static const char *const what[4] = { "parameter", "gradient", "Adam first moment", "Adam second moment" };
    int k, t;
    if (!m) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_check_finite: model = NULL");
    if ((which & NCSN_CHECK_MOMENTS) && (!adam || !adam->m || !adam->v || adam->n != m->n_params))
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_check_finite: NCSN_CHECK_MOMENTS needs the model's Adam state");
    for (k = 0; k < 4; k++) {
        const float *b = k == 0 ? m->params : k == 1 ? m->grads : k == 2 ? (adam ? adam->m : NULL) : (adam ? adam->v : NULL);
        size_t i;
        if (!(which & (k == 0 ? NCSN_CHECK_PARAMS : k == 1 ? NCSN_CHECK_GRADS : NCSN_CHECK_MOMENTS)) || !b) continue;
        if ((i = ncsn__first_nonfinite(b, m->n_params)) < m->n_params) {
            for (t = 0; t < m->n_tensors; t++) {
                const ncsn_tensor *T = &m->tensors[t];
                size_t sz = (size_t)T->rows * (size_t)(T->cols ? T->cols : 1), o;
                if (i < T->offset || i >= T->offset + sz) continue;
                o = i - T->offset;   /* ours [in][out] -> PyTorch [out, in] */
                if (T->cols) return ncsn__fail(NCSN_ERR_NONFINITE, "%s %s[%d, %d] = %g", what[k], T->name, (int)(o % (size_t)T->rows),
                                               (int)(o / (size_t)T->rows), (double)b[i]);
                return ncsn__fail(NCSN_ERR_NONFINITE, "%s %s[%d] = %g", what[k], T->name, (int)o, (double)b[i]);
            }
            return ncsn__fail(NCSN_ERR_NONFINITE, "%s %lu = %g", what[k], (unsigned long)i, (double)b[i]);
        }
    }
    return NCSN_OK;
}

/* ---- 9. denoising score matching ----------------------------------------------------------------- */
NCSNDEF float ncsn_weight(ncsn_weighting w, float sigma)
{
    switch (w) {
    case NCSN_WEIGHT_SIGMA2: return sigma * sigma;
    case NCSN_WEIGHT_INV_SIGMA2: return 1.0f / (sigma * sigma);
    default: return 1.0f;
    }
}

NCSNDEF void ncsn_dsm_perturb(float *xt, float *target, const float *x, const float *eps, float sigma, int D)
{
    int d;
    for (d = 0; d < D; d++) {
        if (xt) xt[d] = fmaf(sigma, eps[d], x[d]);
        if (target) target[d] = -eps[d] / sigma;
    }
}

NCSNDEF float ncsn_dsm_sample_loss(const float *pred, const float *eps, float sigma, int D, ncsn_weighting w)
{
    float acc = 0.0f;
    int d;
    for (d = 0; d < D; d++) {
        float diff = pred[d] - (-eps[d] / sigma);
        acc = fmaf(diff, diff, acc);
    }
    return ncsn_weight(w, sigma) * acc;
}

NCSNDEF ncsn_status ncsn_dsm_batch_alloc(ncsn_dsm_batch *bt, int B, int D)
{
    size_t n;
    if (!bt) return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_batch_alloc: batch = NULL");
    memset(bt, 0, sizeof *bt);
    if (B < 1 || D < 1) return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_batch_alloc: B = %d, D = %d must be >= 1", B, D);
    if (ncsn__too_many((size_t)B, (size_t)D))
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_batch_alloc: B x D = %d x %d exceeds %llu, the most elements a batch holds on this target",
                          B, D, (unsigned long long)NCSN__MAX_ELEMS);
    n = (size_t)B * (size_t)D;
    bt->level = NCSN__ALLOC_N(int, B);
    bt->sigma = NCSN__ALLOC_N(float, B);
    bt->eps = NCSN__ALLOC_N(float, n);
    bt->xt = NCSN__ALLOC_N(float, n);
    bt->pred = NCSN__ALLOC_N(float, n);
    bt->dpred = NCSN__ALLOC_N(float, n);
    if (!bt->level || !bt->sigma || !bt->eps || !bt->xt || !bt->pred || !bt->dpred) {
        ncsn_dsm_batch_free(bt);
        return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_dsm_batch_alloc: out of memory for B = %d, D = %d", B, D);
    }
    bt->cap = B;
    bt->dim = D;
    return NCSN_OK;
}

/* The per-sample work of a DSM batch on the model's threads, each part whole samples (rows):
   first the noise (rng non-NULL: each part draws its own rows' normals from a copy of rng, at
   their places in the stream, ncsn__normals_part) and the perturbed input; after the forward pass
   (loss set), each element's loss term and d loss/d pred. Elementwise, so the bits depend on no
   split; the caller sums the terms in index order. */
typedef struct ncsn__dsm_job {
    ncsn_dsm_batch *bt;
    const float *x;
    const ncsn_rng *rng;
    int B, D, loss, stf;
    ncsn_weighting w;
    float inv_n, *terms;
    double *scratch;   /* the stable target's: slice doubles per thread */
    size_t slice;
} ncsn__dsm_job;

/* the stable target kernels' scratch, (B + D) * NCSN__STF_LANES doubles and as many floats for
   each thread of the model's pool; kept between calls */
static ncsn_status ncsn__stf_scratch(ncsn__workspace *w, int B, int D, size_t *slice, const char *fn)
{
    const size_t per = NCSN__STF_LANES + NCSN__STF_LANES / 2, rows = (size_t)B + (size_t)D;
    size_t parts = w->pool ? (size_t)w->pool->n : 1, need = (size_t)-1;
    *slice = rows <= (size_t)-1 / per ? rows * per : (size_t)-1;
    if (*slice != (size_t)-1 && parts <= (size_t)-1 / *slice) need = *slice * parts;
    if (need > w->stf_cap) {
        double *p = need != (size_t)-1 ? NCSN__ALLOC_N(double, need) : NULL;
        if (!p) return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory for the stable target's scratch (B = %d, D = %d, %d threads)",
                                  fn, B, D, (int)parts);
        NCSN_FREE(w->stf);
        w->stf = p;
        w->stf_cap = need;
    }
    return NCSN_OK;
}

/* the stable target's shift of rows [lo, hi) into bt->dpred (free until the loss writes it), by
   the path's kernel (each row ncsn__stf_row_ref's sequence, whatever the split or path) */
static void ncsn__dsm_stf_rows(void *ap, int t, int nt)
{
    ncsn__dsm_job *j = (ncsn__dsm_job *)ap;
    ncsn__stf_args s;
    int lo, hi;
    ncsn__split(j->B, NCSN__STF_LANES, t, nt, &lo, &hi);
    s.x = j->x; s.xt = j->bt->xt; s.sigma = j->bt->sigma; s.delta = j->bt->dpred; s.B = j->B; s.D = j->D;
    ncsn__kt()->stf_rows(&s, lo, hi, j->scratch + (size_t)t * j->slice);
}

static void ncsn__dsm_rows(void *ap, int t, int nt)
{
    ncsn__dsm_job *j = (ncsn__dsm_job *)ap;
    ncsn_dsm_batch *bt = j->bt;
    size_t D = (size_t)j->D, i;
    int lo, hi, b;
    ncsn__split(j->B, 1, t, nt, &lo, &hi);
    if (hi <= lo) return;
    if (!j->loss && j->rng) {
        ncsn_rng r = *j->rng;
        ncsn__part p;
        p.a = (size_t)lo * D; p.b = (size_t)hi * D; p.N = (size_t)j->B * D;
        ncsn__normals_part(&r, bt->eps + p.a, &p);
    }
    for (b = lo; b < hi; b++) {
        float sg = bt->sigma[b], lam = ncsn_weight(j->w, sg), g2 = 2.0f * lam * j->inv_n;
        if (!j->loss) {
            ncsn_dsm_perturb(bt->xt + (size_t)b * D, NULL, j->x + (size_t)b * D, bt->eps + (size_t)b * D, sg, j->D);
            continue;
        }
        for (i = (size_t)b * D; i < (size_t)(b + 1) * D; i++) {
            float target = -bt->eps[i] / sg, diff;
            if (j->stf) target += bt->dpred[i] / (sg * sg);   /* the shift, read before dpred is written */
            diff = bt->pred[i] - target;
            float term = lam * (diff * diff);
            NCSN__OPAQUE(term);
            j->terms[i] = term;
            bt->dpred[i] = g2 * diff;
        }
    }
}

NCSNDEF void ncsn_dsm_batch_free(ncsn_dsm_batch *bt)
{
    if (!bt) return;
    NCSN_FREE(bt->level); NCSN_FREE(bt->sigma); NCSN_FREE(bt->eps);
    NCSN_FREE(bt->xt); NCSN_FREE(bt->pred); NCSN_FREE(bt->dpred);
    memset(bt, 0, sizeof *bt);
}

/* precond's DSM after the forward pass: loss = mean(lambda (F - (x - c_skip x~)/c_out)^2) on the
   network's own output F (net_out), dpred = its gradient dL/dF, backward from F */
static ncsn_status ncsn__dsm_precond(ncsn_model *m, ncsn_dsm_batch *bt, const float *x, int B, ncsn_weighting w,
                                     const ncsn_dsm_opts *opts, float *loss)
{
    size_t b, d, D = (size_t)m->cfg.dim, n = (size_t)B * D;
    const float *F = m->work->net_out;
    float lossf;
    double acc = 0.0;
    ncsn_status st;
    for (b = 0; b < (size_t)B; b++) {
        float lam = ncsn_weight(w, bt->sigma[b]);
        ncsn__pc c = ncsn__precond_of(m->work, (int)b);   /* the forward pass's slots: bt->sigma */
        for (d = 0; d < D; d++) {
            size_t i = b * D + d;
            float clean = opts && opts->stable_target ? x[i] + bt->dpred[i] : x[i];   /* the shift, read before dpred is written */
            float diff = F[i] - fmaf(-c.cskip, bt->xt[i], clean) / c.cout, term = lam * (diff * diff);
            NCSN__OPAQUE(term);
            acc += (double)term;
            bt->dpred[i] = 2.0f * lam * diff / (float)n;
        }
    }
    lossf = (float)(acc / (double)n);
    *loss = lossf;
    if (!ncsn__isfinite(lossf)) return ncsn__fail(NCSN_ERR_NONFINITE, "ncsn_dsm_loss: loss = %g is not finite", (double)lossf);
    if (!(opts && opts->loss_only) && (st = ncsn__backward(m, NULL, bt->dpred, 1, 1)) != NCSN_OK) return st;
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_dsm_loss(ncsn_model *m, ncsn_dsm_batch *bt, const float *x, int B,
                                  const float *sigmas, int L, ncsn_weighting w, ncsn_rng *rng, float *loss)
{
    return ncsn_dsm_loss_ex(m, bt, x, B, sigmas, L, w, rng, NULL, loss);
}

NCSNDEF ncsn_status ncsn_dsm_loss_ex(ncsn_model *m, ncsn_dsm_batch *bt, const float *x, int B,
                                     const float *sigmas, int L, ncsn_weighting w, ncsn_rng *rng,
                                     const ncsn_dsm_opts *opts, float *loss)
{
    const int *levels_given = opts ? opts->levels : NULL;
    const float *eps_given = opts ? opts->eps : NULL;
    int D, b;
    size_t n, i;
    double acc = 0.0;
    float lossf;
    ncsn__dsm_job job;
    ncsn_status st;
    if (!m || !bt || !x || !sigmas || !loss)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: %s = NULL", !m ? "model" : !bt ? "batch" : !x ? "x" : !sigmas ? "sigmas" : "loss");
    if (B < 1) return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: B = %d must be >= 1", B);
    if (L < 1) return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: L = %d must be >= 1", L);
    if ((!levels_given || !eps_given) && !rng) return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: rng = NULL");
    if (opts && opts->stable_target != 0 && opts->stable_target != 1)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: stable_target = %d must be 0 or 1", opts->stable_target);
    if (w != NCSN_WEIGHT_ONE && w != NCSN_WEIGHT_SIGMA2 && w != NCSN_WEIGHT_INV_SIGMA2)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: weighting = %d is not a weighting", (int)w);
    D = m->cfg.dim;
    if (!bt->level || !bt->sigma || !bt->eps || !bt->xt || !bt->pred || !bt->dpred)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: a buffer of the batch is NULL (use ncsn_dsm_batch_alloc)");
    if (B > bt->cap)   /* every write below is within cap * dim */
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: B = %d, but the batch holds %d samples", B, bt->cap);
    if (bt->dim != D)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: the batch holds samples of dimension %d, the model's dimension is %d", bt->dim, D);
    n = (size_t)B * (size_t)D;
    for (b = 0; b < B; b++) {
        int lv = levels_given ? levels_given[b] : (int)ncsn_rng_bounded(rng, (uint32_t)L);
        if (lv < 0 || lv >= L) return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: level[%d] = %d not in [0, %d)", b, lv, L);
        if (!(sigmas[lv] > 0.0f) || !ncsn__isfinite(sigmas[lv]))
            return ncsn__fail(NCSN_ERR_ARG, "ncsn_dsm_loss: sigmas[%d] = %g must be finite and > 0", lv, (double)sigmas[lv]);
        bt->level[b] = lv;
        bt->sigma[b] = sigmas[lv];
    }
    if (eps_given) memcpy(bt->eps, eps_given, n * sizeof(float));
    if ((st = ncsn_model_reserve(m, B)) != NCSN_OK) return st;   /* the pool and grad_b below */
    memset(&job, 0, sizeof job);
    job.bt = bt; job.x = x; job.rng = eps_given ? NULL : rng; job.B = B; job.D = D; job.w = w;
    ncsn__pool_run(m->work->pool, ncsn__dsm_rows, &job, (double)n * (eps_given ? 2.0 : 64.0));
    if (!eps_given) ncsn_rng_advance(rng, (uint64_t)((n + 1) & ~(size_t)1));   /* where ncsn_rng_normals(rng, eps, n) leaves it */
    if ((job.stf = opts && opts->stable_target) != 0) {
        if ((st = ncsn__stf_scratch(m->work, B, D, &job.slice, "ncsn_dsm_loss")) != NCSN_OK) return st;
        job.scratch = m->work->stf;
        ncsn__pool_run(m->work->pool, ncsn__dsm_stf_rows, &job, (double)B * (double)B * (double)(D + 8));
    }
    if ((st = ncsn_model_forward(m, bt->pred, bt->xt, bt->sigma, B)) != NCSN_OK) return st;
    if (m->cfg.precond) return ncsn__dsm_precond(m, bt, x, B, w, opts, loss);
    /* loss = mean(lambda (pred - target)^2) summed in index order in double; d loss/d pred */
    job.terms = m->work->grad_b;   /* unused until the backward below: [B, >= D] */
    job.inv_n = (float)(1.0 / (double)n);
    job.loss = 1;
    ncsn__pool_run(m->work->pool, ncsn__dsm_rows, &job, (double)n * 16.0);
    for (i = 0; i < n; i++) acc += (double)job.terms[i];
    lossf = (float)(acc / (double)n);
    *loss = lossf;
    if (!ncsn__isfinite(lossf))
        return ncsn__fail(NCSN_ERR_NONFINITE, "ncsn_dsm_loss: loss = %g is not finite", (double)lossf);
    if (!(opts && opts->loss_only) && (st = ncsn_model_backward(m, NULL, bt->dpred)) != NCSN_OK) return st;
    return NCSN_OK;
}

/* ---- 10. Adam ----------------------------------------------------------------------------------- */
static double ncsn__opaque_d(double v) { NCSN__OPAQUE(v); return v; }

static double ncsn__powi(double b, long e)
{
    double r = 1.0;
    while (e > 0) {
        if (e & 1) r = ncsn__opaque_d(r * b);
        b = ncsn__opaque_d(b * b);
        e >>= 1;
    }
    return r;
}

NCSNDEF ncsn_status ncsn_adam_create(ncsn_adam *opt, size_t n, float lr)
{
    if (!opt) return ncsn__fail(NCSN_ERR_ARG, "ncsn_adam_create: opt = NULL");
    memset(opt, 0, sizeof *opt);
    if (n == 0) return ncsn__fail(NCSN_ERR_ARG, "ncsn_adam_create: n = 0 parameters");
    if (!(lr > 0.0f) || !ncsn__isfinite(lr)) return ncsn__fail(NCSN_ERR_ARG, "ncsn_adam_create: lr = %g must be finite and > 0", (double)lr);
    opt->lr = lr;
    opt->beta1 = 0.9f;
    opt->beta2 = 0.999f;
    opt->eps = 1e-8f;
    opt->n = n;
    opt->m = NCSN__ALLOC_N(float, n);
    opt->v = NCSN__ALLOC_N(float, n);
    if (!opt->m || !opt->v) {
        ncsn_adam_free(opt);
        return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_adam_create: out of memory for n = %lu", (unsigned long)n);
    }
    memset(opt->m, 0, n * sizeof(float));
    memset(opt->v, 0, n * sizeof(float));
    return NCSN_OK;
}

NCSNDEF void ncsn_adam_free(ncsn_adam *opt)
{
    if (!opt) return;
    NCSN_FREE(opt->m);
    NCSN_FREE(opt->v);
    opt->m = opt->v = NULL;
}

static void ncsn__adam_thread(void *ap, int t, int nt)
{
    ncsn__adam_job *a = (ncsn__adam_job *)ap;
    size_t lo, hi;
    ncsn__split_z(a->n, 64, t, nt, &lo, &hi);
    if (hi > lo && ncsn__adam_range(a, lo, hi)) NCSN__STORE(a->nonfinite, 1);
}

/* whether any of n floats is not finite, on the pool's threads */
typedef struct ncsn__scan_job {
    const float *x;
    size_t n;
    int found;
} ncsn__scan_job;
static void ncsn__scan_thread(void *ap, int t, int nt)
{
    ncsn__scan_job *a = (ncsn__scan_job *)ap;
    size_t lo, hi;
    ncsn__split_z(a->n, 64, t, nt, &lo, &hi);
    if (hi > lo && ncsn__first_nonfinite(a->x + lo, hi - lo) < hi - lo) NCSN__STORE(a->found, 1);
}
static size_t ncsn__pfirst_nonfinite(ncsn__pool *pool, const float *x, size_t n)
{
    ncsn__scan_job a;
    a.x = x; a.n = n; a.found = 0;
    ncsn__pool_run(pool, ncsn__scan_thread, &a, (double)n);
    return a.found ? ncsn__first_nonfinite(x, n) : n;   /* the first one's index: on the error path only */
}

/* zero: NULL, or grads, which the same pass then sets to 0 (not on an error: nothing is written).
   wrote_nonfinite (may be NULL): set when a weight or moment written is not finite. */
static ncsn_status ncsn__adam_step(ncsn_adam *opt, float *params, const float *grads, float *zero, ncsn__pool *pool, const char *fn,
                                   int *wrote_nonfinite)
{
    size_t bad;
    double bc1, bc2;
    ncsn__adam_job a;
    if (!opt || !params || !grads || !opt->m)
        return ncsn__fail(NCSN_ERR_ARG, "%s: %s = NULL", fn, !opt ? "opt" : !params ? "params" : !grads ? "grads" : "opt->m");
    if (!(opt->lr > 0.0f) || !ncsn__isfinite(opt->lr))
        return ncsn__fail(NCSN_ERR_ARG, "%s: lr = %g must be finite and > 0", fn, (double)opt->lr);
    if (!(opt->beta1 >= 0.0f && opt->beta1 < 1.0f)) return ncsn__fail(NCSN_ERR_ARG, "%s: beta1 = %g must be in [0, 1)", fn, (double)opt->beta1);
    if (!(opt->beta2 >= 0.0f && opt->beta2 < 1.0f)) return ncsn__fail(NCSN_ERR_ARG, "%s: beta2 = %g must be in [0, 1)", fn, (double)opt->beta2);
    if (!(opt->eps > 0.0f) || !ncsn__isfinite(opt->eps)) return ncsn__fail(NCSN_ERR_ARG, "%s: eps = %g must be finite and > 0", fn, (double)opt->eps);
    if (!(opt->weight_decay >= 0.0f) || !ncsn__isfinite(opt->weight_decay))
        return ncsn__fail(NCSN_ERR_ARG, "%s: weight_decay = %g must be finite and >= 0", fn, (double)opt->weight_decay);
    if ((bad = ncsn__pfirst_nonfinite(pool, grads, opt->n)) < opt->n)   /* it would poison the weights and both moments */
        return ncsn__fail(NCSN_ERR_NONFINITE, "%s: gradient[%lu] = %g is not finite; nothing updated", fn, (unsigned long)bad, (double)grads[bad]);
    opt->step++;
    /* torch: bias_correction = 1 - beta^step in double; step_size = lr/bc1; denom = sqrt(v)/sqrt(bc2) + eps */
    bc1 = 1.0 - ncsn__powi((double)opt->beta1, opt->step);
    bc2 = 1.0 - ncsn__powi((double)opt->beta2, opt->step);
    a.params = params; a.grads = grads; a.zero = zero; a.m = opt->m; a.v = opt->v; a.n = opt->n;
    a.step_size = (float)((double)opt->lr / bc1);
    a.bc2_sqrt = (float)sqrt(bc2);
    a.omb1 = 1.0f - opt->beta1;
    a.omb2 = 1.0f - opt->beta2;
    a.beta2 = opt->beta2;
    a.eps = opt->eps;
    a.decay = fmaf(-opt->lr, opt->weight_decay, 1.0f);
    a.decoupled = opt->weight_decay > 0.0f;
    a.nonfinite = 0;
    ncsn__pool_run(pool, ncsn__adam_thread, &a, 4.0 * (double)opt->n);   /* each parameter is its own output */
    if (wrote_nonfinite) *wrote_nonfinite = a.nonfinite;
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_adam_step(ncsn_adam *opt, float *params, const float *grads)
{
    return ncsn__adam_step(opt, params, grads, NULL, NULL, "ncsn_adam_step", NULL);
}

static ncsn_status ncsn__model_adam(ncsn_model *m, ncsn_adam *opt, int *wrote_nonfinite)
{
    if (!m) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_adam_step: model = NULL");
    if (opt && opt->n != m->n_params)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_adam_step: opt->n = %lu but the model has %lu parameters", (unsigned long)opt->n,
                          (unsigned long)m->n_params);
    return ncsn__adam_step(opt, m->params, m->grads, m->grads, m->work->pool, "ncsn_model_adam_step", wrote_nonfinite);
}

NCSNDEF ncsn_status ncsn_model_adam_step(ncsn_model *m, ncsn_adam *opt)
{
    return ncsn__model_adam(m, opt, NULL);
}

/* ---- 11. training -------------------------------------------------------------------------------- */
NCSNDEF double ncsn_sigma_max_from_data(const float *x, int n, int dim, int *exact)
{
    double best = 0.0;
    int i, j, ex = 0.5 * (double)n * (double)n * (double)dim <= 1e9;
    if (exact) *exact = ex;
    if (!x || n < 2 || dim < 1) return 0.0;
    if (ex) {
        for (i = 0; i < n; i++)
            for (j = i + 1; j < n; j++) {
                double s = ncsn__sqdist(x + (size_t)i * dim, x + (size_t)j * dim, dim);
                if (s > best) best = s;
            }
    } else {   /* farthest-point sweeps: each distance found is a lower bound of the diameter */
        int a = 0, sweep;
        for (sweep = 0; sweep < 8; sweep++) {
            int far = a;
            double fs = -1.0;
            for (j = 0; j < n; j++) {
                double s = ncsn__sqdist(x + (size_t)a * dim, x + (size_t)j * dim, dim);
                if (s > fs) { fs = s; far = j; }
            }
            if (fs > best) best = fs;
            if (far == a) break;
            a = far;
        }
    }
    return sqrt(best);
}

/* Phi(x) = 1/2 + phi(x) (x + x^3/3 + x^5/(3 5) + ...): every term has the sign of x, so the sum
   has no cancellation; beyond |x| = 9, Phi is within 1e-18 of 0 or 1. */
NCSNDEF double ncsn_normal_cdf(double x)
{
    double x2, term, sum, phi;
    int k;
    if (x != x) return x;
    if (x < -9.0) return 0.0;
    if (x > 9.0) return 1.0;
    x2 = ncsn__opaque_d(x * x);
    term = x;
    sum = x;
    for (k = 1; k < 500; k++) {
        term = ncsn__opaque_d(term * x2) / (double)(2 * k + 1);
        sum += term;
        if (fabs(term) <= 1e-17 * fabs(sum)) break;
    }
    phi = ncsn__opaque_d(ncsn_exp(-0.5 * x2) * 0.39894228040143267794);   /* 1/sqrt(2 pi) */
    return fma(phi, sum, 0.5);
}

static double ncsn__t2(double g, double s)   /* technique 2's criterion minus 1/2; s = sqrt(2D) */
{
    return ncsn_normal_cdf(fma(s, g - 1.0, 3.0 * g)) - ncsn_normal_cdf(fma(s, g - 1.0, -3.0 * g)) - 0.5;
}

NCSNDEF double ncsn_level_ratio(int dim)
{
    double s = sqrt(2.0 * (double)(dim < 16 ? 16 : dim)), lo = 1.0, hi = 64.0;
    int k;
    for (k = 0; k < 100; k++) {   /* the criterion is 0.497 at gamma = 1 and -1/2 at 64 */
        double mid = 0.5 * (lo + hi);
        if (ncsn__t2(mid, s) > 0.0) lo = mid;
        else hi = mid;
    }
    return hi;
}

NCSNDEF int ncsn_levels_for(double sigma_max, double sigma_min, double gamma)
{
    double r;
    if (!(sigma_min > 0.0) || !(sigma_max > sigma_min) || !(gamma > 1.0)) return 2;
    r = ceil(ncsn_log(sigma_max / sigma_min) / ncsn_log(gamma));
    if (!(r >= 1.0)) return 2;
    return r >= (double)(NCSN_MAX_LEVELS - 1) ? NCSN_MAX_LEVELS : 1 + (int)r;
}

NCSNDEF double ncsn_step_eps_objective(double eps, int T, double gamma, double sigma_min)
{
    double s2 = ncsn__opaque_d(sigma_min * sigma_min), r = 1.0 - eps / s2, c;
    c = 2.0 * eps / (s2 - ncsn__opaque_d(s2 * ncsn__opaque_d(r * r)));
    return fma(ncsn__powi(r, 2L * (long)T), fma(gamma, gamma, -c), c);
}

NCSNDEF double ncsn_step_eps(int T, double gamma, double sigma_min)
{
    const double ig = 0.61803398874989484820;   /* golden section: f is unimodal in u */
    double s2, a = 0.0, b = 1.0, c, d, fc, fd;
    int k;
    if (T < 1 || !(gamma > 1.0) || !(sigma_min > 0.0)) return 0.0;
    s2 = ncsn__opaque_d(sigma_min * sigma_min);
    c = fma(-ig, b - a, b);
    d = fma(ig, b - a, a);
    fc = ncsn_step_eps_objective(c * s2, T, gamma, sigma_min);
    fd = ncsn_step_eps_objective(d * s2, T, gamma, sigma_min);
    for (k = 0; k < 120; k++) {
        if (fc < fd) {
            b = d; d = c; fd = fc;
            c = fma(-ig, b - a, b);
            fc = ncsn_step_eps_objective(c * s2, T, gamma, sigma_min);
        } else {
            a = c; c = d; fc = fd;
            d = fma(ig, b - a, a);
            fd = ncsn_step_eps_objective(d * s2, T, gamma, sigma_min);
        }
    }
    return ncsn__opaque_d(0.5 * (a + b)) * s2;
}

NCSNDEF void ncsn_ema_update(float *ema, const float *params, size_t n, float rate)
{
    size_t i;
    for (i = 0; i < n; i++) ema[i] = fmaf(rate, ema[i] - params[i], params[i]);
}

static ncsn_status ncsn__stdz_alloc(ncsn_stdz *s, int dim, const char *fn)
{
    memset(s, 0, sizeof *s);
    if (dim < 1) return ncsn__fail(NCSN_ERR_ARG, "%s: dim = %d must be >= 1", fn, dim);
    if (!(s->loc = NCSN__ALLOC_N(float, 3 * (size_t)dim))) return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory", fn);
    s->scale = s->loc + dim;
    s->center = s->scale + dim;
    s->dim = dim;
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_stdz_identity(ncsn_stdz *s, int dim)
{
    int d;
    ncsn_status st;
    if (!s) return ncsn__fail(NCSN_ERR_ARG, "ncsn_stdz_identity: s = NULL");
    if ((st = ncsn__stdz_alloc(s, dim, "ncsn_stdz_identity")) != NCSN_OK) return st;
    for (d = 0; d < dim; d++) { s->loc[d] = 0.0f; s->scale[d] = 1.0f; s->center[d] = 0.0f; }
    return NCSN_OK;
}

static void ncsn__to_net(const ncsn_stdz *s, float *z, const float *x)   /* one point */
{
    int d;
    for (d = 0; d < s->dim; d++) z[d] = (x[d] - s->loc[d]) / s->scale[d];
}

/* column mean, population standard deviation and range in double, rows in order */
static void ncsn__column_stats(const float *x, int n, int dim, int d, double *mean, double *sd, double *range)
{
    double m = 0.0, v = 0.0, lo = x[d], hi = x[d];
    int i;
    for (i = 0; i < n; i++) m += (double)x[(size_t)i * dim + d];
    m /= (double)n;
    for (i = 0; i < n; i++) {
        double t = (double)x[(size_t)i * dim + d] - m;
        v = fma(t, t, v);
        if (x[(size_t)i * dim + d] < lo) lo = x[(size_t)i * dim + d];
        if (x[(size_t)i * dim + d] > hi) hi = x[(size_t)i * dim + d];
    }
    *mean = m;
    *sd = sqrt(v / (double)n);
    *range = hi - lo;
}

NCSNDEF double ncsn_column_scale(double sd, double range)
{
    double s = sd > range / NCSN_STDZ_MAX_Z ? sd : range / NCSN_STDZ_MAX_Z;
    return s > 0.0 && (float)s > 0.0f && ncsn__isfinite((float)s) ? s : 1.0;   /* a constant column stays put */
}

NCSNDEF ncsn_status ncsn_stdz_fit(ncsn_stdz *s, const float *x, int n, int dim, int standardize)
{
    float *z;
    double r2 = 0.0;
    int i, d;
    ncsn_status st;
    if (!s || !x) return ncsn__fail(NCSN_ERR_ARG, "ncsn_stdz_fit: %s = NULL", !s ? "s" : "x");
    if (n < 1) return ncsn__fail(NCSN_ERR_ARG, "ncsn_stdz_fit: n = %d must be >= 1", n);
    if ((st = ncsn_stdz_identity(s, dim)) != NCSN_OK) return st;
    if (!(z = NCSN__ALLOC_N(float, (size_t)dim))) { ncsn_stdz_free(s); return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_stdz_fit: out of memory"); }
    for (d = 0; d < dim && standardize; d++) {
        double m, sd, range;
        ncsn__column_stats(x, n, dim, d, &m, &sd, &range);
        s->loc[d] = (float)m;
        s->scale[d] = (float)ncsn_column_scale(sd, range);
    }
    for (d = 0; d < dim; d++) {   /* the center: the mean in network units */
        double m = 0.0;
        for (i = 0; i < n; i++) m += (double)((x[(size_t)i * dim + d] - s->loc[d]) / s->scale[d]);
        s->center[d] = (float)(m / (double)n);
    }
    for (i = 0; i < n; i++) {
        double q;
        ncsn__to_net(s, z, x + (size_t)i * dim);
        q = ncsn__sqdist(z, s->center, dim);
        if (q > r2) r2 = q;
    }
    s->radius = (float)sqrt(r2);
    if (!(s->radius >= FLT_MIN)) s->radius = FLT_MIN;   /* a known radius is never 0: the divergence rule stays on */
    NCSN_FREE(z);
    return NCSN_OK;
}

NCSNDEF void ncsn_stdz_free(ncsn_stdz *s)
{
    if (!s) return;
    NCSN_FREE(s->loc);
    memset(s, 0, sizeof *s);
}

NCSNDEF void ncsn_stdz_apply(const ncsn_stdz *s, float *x, int n)
{
    int i;
    for (i = 0; i < n; i++) ncsn__to_net(s, x + (size_t)i * s->dim, x + (size_t)i * s->dim);
}

NCSNDEF void ncsn_stdz_undo(const ncsn_stdz *s, float *x, int n)
{
    int i, d;
    for (i = 0; i < n; i++)
        for (d = 0; d < s->dim; d++) x[(size_t)i * s->dim + d] = fmaf(x[(size_t)i * s->dim + d], s->scale[d], s->loc[d]);
}

NCSNDEF void ncsn_stdz_score(const ncsn_stdz *s, float *score, int n)
{
    int i, d;
    for (i = 0; i < n; i++)
        for (d = 0; d < s->dim; d++) score[(size_t)i * s->dim + d] /= s->scale[d];
}

/* The recipe's network: seed 001's sinusoidal sigma embedding (64), 3 x 128, s = net/sigma
   (technique 3). ncsn_config_default (ln sigma concatenated) was best at 2000 steps, but at the
   recipe's 20 000 the embedding matched or beat it: energy distance / floor 0.80 vs 1.68 on the
   8-Gaussian ring, 1.75 vs 1.69 on the Swiss roll, 1.18 vs 1.43 on iris (docs/training.md). */
static ncsn_config ncsn__recipe_net(int dim)
{
    ncsn_config c = ncsn_config_embed(dim, 64, 128, 3);
    c.scale_by_sigma = 1;
    return c;
}

NCSNDEF ncsn_train_opts ncsn_train_defaults(void)
{
    ncsn_train_opts o;
    memset(&o, 0, sizeof o);
    o.net = ncsn__recipe_net(1);
    o.steps = 40000;   /* 20 000 left the ring's, the 3-D mixture's and the Swiss roll's errors larger at every seed (docs/training.md) */
    o.levels = 0;
    o.sigma_max = 0.0f;
    o.sigma_min = 0.01f;
    o.schedule = NCSN_SCHEDULE_GEOMETRIC;
    o.weighting = NCSN_WEIGHT_SIGMA2;
    o.batch = 512;
    o.lr = 1e-3f;
    o.lr_decay_steps = o.steps;   /* a constant rate left the ring's modes 15-26 % wide, iris with diverged chains (docs/training.md) */
    o.ema_rate = 0.999f;
    o.standardize = 1;
    o.seed = 42;
    o.stream = 54;
    o.threads = 1;
    /* with the ODE predictor (ncsn_sampler_recipe_for), at training seeds 42 / 43 / 44 the first
       setting measured that puts the Swiss roll and the 1/5 : 4/5 toy within 1.5x their energy
       distance floor at all three (docs/quality.md) */
    o.stable_target = NCSN_STABLE_TARGET_AUTO;
    return o;
}

NCSNDEF ncsn_train_opts ncsn_train_defaults_for(int dim)
{
    ncsn_train_opts o = ncsn_train_defaults();
    int i;
    if (dim > NCSN_RECIPE_SMALL_DIM) {   /* 3 x 128 left 73-91 % of the noise below sigma = 0.1 on the digits */
        for (i = 0; i < o.net.n_hidden; i++) o.net.hidden[i] = 256;
        /* the preconditioned output (EDM's loss on F, sigma_data from the data): on the digits its
           20 000 steps cost less than s = net/sigma's 5000 (which slow down as they train: subnormal
           intermediates, docs/training.md), and with the sampler of
           ncsn_sampler_recipe_for gave 0.55x / 0.53x the fitted Gaussian's energy distance at training
           seeds 42 / 43, against s = net/sigma's 1.007x after 5000 (docs/training.md) */
        o.net.scale_by_sigma = 0;
        o.net.precond = 1;
        o.net.sigma_data = 0.0f;
        o.weighting = NCSN_WEIGHT_ONE;
        o.steps = 20000;
        o.lr_decay_steps = o.steps;
        o.sigma_min = 0.1f;
        o.stable_target = 0;   /* not measured above 16 dimensions */
    }
    return o;
}

NCSNDEF ncsn_train_opts ncsn_train_preset_seed000(void)
{
    ncsn_train_opts o = ncsn_train_defaults();
    o.net = ncsn_config_concat(1, 128, 3);
    o.levels = 10;
    o.sigma_max = 10.0f;
    o.stable_target = 0;
    o.batch = 1 << 26;   /* full batch */
    o.steps = 2000;
    o.lr_decay_steps = 0;
    o.ema_rate = 0.0f;
    o.standardize = 0;
    return o;
}

NCSNDEF ncsn_train_opts ncsn_train_preset_seed001(void)
{
    ncsn_train_opts o = ncsn_train_preset_seed000();
    o.net = ncsn_config_embed(1, 64, 128, 3);
    o.sigma_max = 5.0f;
    o.batch = 256;
    o.steps = 10000;
    return o;
}

static ncsn_status ncsn__train_check(const ncsn_train_opts *o, const float *data, int n, int dim, const char *fn)
{
    int i;
    if (!o || !data) return ncsn__fail(NCSN_ERR_ARG, "%s: %s = NULL", fn, !o ? "opts" : "data");
    if (n < 1 || dim < 1) return ncsn__fail(NCSN_ERR_ARG, "%s: n = %d and dim = %d must be >= 1", fn, n, dim);
    if (o->batch < 1) return ncsn__fail(NCSN_ERR_ARG, "%s: batch = %d must be >= 1", fn, o->batch);
    if (!(o->lr > 0.0f) || !ncsn__isfinite(o->lr)) return ncsn__fail(NCSN_ERR_ARG, "%s: lr = %g must be finite and > 0", fn, (double)o->lr);
    if (o->lr_decay_steps < 0) return ncsn__fail(NCSN_ERR_ARG, "%s: lr_decay_steps = %ld must be >= 0", fn, o->lr_decay_steps);
    if (!(o->ema_rate >= 0.0f && o->ema_rate < 1.0f)) return ncsn__fail(NCSN_ERR_ARG, "%s: ema_rate = %g must be in [0, 1)", fn, (double)o->ema_rate);
    if (o->stable_target < NCSN_STABLE_TARGET_AUTO || o->stable_target > 1)
        return ncsn__fail(NCSN_ERR_ARG, "%s: stable_target = %d must be 0, 1 or NCSN_STABLE_TARGET_AUTO (-1)", fn, o->stable_target);
    if (!(o->sigma_min > 0.0f) || !ncsn__isfinite(o->sigma_min))
        return ncsn__fail(NCSN_ERR_ARG, "%s: sigma_min = %g must be finite and > 0", fn, (double)o->sigma_min);
    if (o->sigmas ? o->levels < 1 || o->levels > NCSN_MAX_LEVELS : o->levels != 0 && (o->levels < 2 || o->levels > NCSN_MAX_LEVELS))
        return ncsn__fail(NCSN_ERR_ARG, "%s: levels = %d must be %s", fn, o->levels, o->sigmas ? "in [1, 2^20] with sigmas" : "0 (from the data) or in [2, 2^20]");
    for (i = 0; o->sigmas && i < o->levels; i++)
        if (!(o->sigmas[i] > 0.0f) || !ncsn__isfinite(o->sigmas[i]))
            return ncsn__fail(NCSN_ERR_ARG, "%s: sigmas[%d] = %g must be finite and > 0", fn, i, (double)o->sigmas[i]);
    return NCSN_OK;
}

/* the parts every trainer has: options, standardised data, permutation, buffers */
static ncsn_status ncsn__trainer_alloc(ncsn_trainer **out, const ncsn_train_opts *o, const float *data, int n, int dim, const char *fn)
{
    ncsn_trainer *t;
    ncsn_status st;
    int i;
    *out = NULL;
    if ((st = ncsn__train_check(o, data, n, dim, fn)) != NCSN_OK) return st;
    if (!(t = (ncsn_trainer *)ncsn__alloc(sizeof *t))) return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory", fn);
    memset(t, 0, sizeof *t);
    t->opts = *o;
    t->opts.net.dim = dim;
    t->n = n;
    t->dim = dim;
    t->batch = o->batch < n ? o->batch : n;
    if (o->stable_target == NCSN_STABLE_TARGET_AUTO) t->opts.stable_target = n > o->batch;
    *out = t;
    if ((st = ncsn_stdz_fit(&t->stdz, data, n, dim, o->standardize)) != NCSN_OK) return st;
    t->data = NCSN__ALLOC_N(float, (size_t)n * (size_t)dim);
    t->perm = NCSN__ALLOC_N(int, (size_t)n);
    t->xb = t->batch < n ? NCSN__ALLOC_N(float, (size_t)t->batch * (size_t)dim) : NULL;
    if (!t->data || !t->perm || (t->batch < n && !t->xb)) return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory for %d points", fn, n);
    memcpy(t->data, data, sizeof(float) * (size_t)n * (size_t)dim);
    ncsn_stdz_apply(&t->stdz, t->data, n);
    for (i = 0; i < n; i++) t->perm[i] = i;
    return ncsn_dsm_batch_alloc(&t->dsm, t->batch, dim);
}

/* threads, workspace and the EMA buffer, once the model exists */
static ncsn_status ncsn__trainer_finish(ncsn_trainer *t, const char *fn)
{
    ncsn_status st;
    if (t->opts.threads > 1 && (st = ncsn_model_set_threads(t->model, t->opts.threads)) != NCSN_OK) return st;
    if ((st = ncsn_model_reserve(t->model, t->batch)) != NCSN_OK) return st;
    if (t->opts.stable_target == 1) {   /* its scratch now, so that a lack of memory shows here, not at a step */
        size_t slice;
        if ((st = ncsn__stf_scratch(t->model->work, t->batch, t->dim, &slice, fn)) != NCSN_OK) return st;
    }
    if (t->opts.ema_rate > 0.0f && !t->ema) {
        if (!(t->ema = NCSN__ALLOC_N(float, t->model->n_params))) return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory", fn);
        memcpy(t->ema, t->model->params, sizeof(float) * t->model->n_params);
    }
    return NCSN_OK;
}

/* precond's sigma_data: the standard deviation of all N values of x (network units), in double */
static float ncsn__data_std(const float *x, size_t N)
{
    double m = 0.0, v = 0.0;
    size_t k;
    for (k = 0; k < N; k++) m += (double)x[k];
    m /= (double)N;
    for (k = 0; k < N; k++) {
        double t = (double)x[k] - m;
        v = fma(t, t, v);   /* explicit: a contracting compiler would otherwise choose, and the bits differ */
    }
    return (float)sqrt(v / (double)N);
}

NCSNDEF ncsn_status ncsn_trainer_create(ncsn_trainer **out, const ncsn_train_opts *o, const float *data, int n, int dim,
                                        const ncsn_rng *rng)
{
    static const char fn[] = "ncsn_trainer_create";
    ncsn_trainer *t = NULL;
    ncsn_status st;
    double smax;
    if (!out) return ncsn__fail(NCSN_ERR_ARG, "%s: out = NULL", fn);
    if ((st = ncsn__trainer_alloc(&t, o, data, n, dim, fn)) != NCSN_OK) goto fail;
    smax = o->sigmas ? (double)o->sigmas[0] : o->sigma_max > 0.0f ? (double)o->sigma_max : ncsn_sigma_max_from_data(t->data, n, dim, &t->sigma_max_exact);
    if (!o->sigmas && o->sigma_max <= 0.0f && !ncsn__isfinite((float)smax)) {
        st = ncsn__fail(NCSN_ERR_ARG, "%s: the data's largest pairwise distance %g is beyond the float range (values near +-3.4e38?); "
                        "rescale the data or give sigma_max", fn, smax);
        goto fail;
    }
    if (!o->sigmas && !((float)smax > o->sigma_min)) {
        st = ncsn__fail(NCSN_ERR_ARG, "%s: %s %g is not above sigma_min = %g%s", fn, o->sigma_max > 0.0f ? "sigma_max" : "the data's largest pairwise distance",
                        smax, (double)o->sigma_min, o->sigma_max > 0.0f ? "" : " (all points equal?)");
        goto fail;
    }
    t->L = o->levels > 0 ? o->levels : ncsn_levels_for(smax, (double)o->sigma_min, ncsn_level_ratio(dim));
    t->opts.levels = t->L;
    t->opts.sigma_max = (float)smax;
    if (!(t->sigmas = NCSN__ALLOC_N(float, (size_t)t->L))) { st = ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory", fn); goto fail; }
    if (o->sigmas) memcpy(t->sigmas, o->sigmas, sizeof(float) * (size_t)t->L);
    else if ((st = ncsn_schedule(t->sigmas, t->L, (float)smax, o->sigma_min, o->schedule)) != NCSN_OK) goto fail;
    t->opts.sigmas = NULL;   /* the trainer's own copy is t->sigmas */
    if (rng) t->rng = *rng;
    else ncsn_rng_seed(&t->rng, o->seed, o->stream);
    if (t->opts.net.precond && t->opts.net.sigma_data == 0.0f) t->opts.net.sigma_data = ncsn__data_std(t->data, (size_t)n * (size_t)dim);
    if ((st = ncsn_model_create(&t->model, &t->opts.net)) != NCSN_OK || (st = ncsn_model_init(t->model, &t->rng)) != NCSN_OK ||
        (st = ncsn_adam_create(&t->adam, t->model->n_params, o->lr)) != NCSN_OK || (st = ncsn__trainer_finish(t, fn)) != NCSN_OK)
        goto fail;
    *out = t;
    return NCSN_OK;
fail:
    ncsn_trainer_free(t);
    *out = NULL;
    return st;
}

NCSNDEF void ncsn_trainer_free(ncsn_trainer *t)
{
    if (!t) return;
    ncsn_model_free(t->model);
    ncsn_adam_free(&t->adam);
    ncsn_dsm_batch_free(&t->dsm);
    ncsn_stdz_free(&t->stdz);
    NCSN_FREE(t->ema);
    NCSN_FREE(t->sigmas);
    NCSN_FREE(t->data);
    NCSN_FREE(t->perm);
    NCSN_FREE(t->xb);
    NCSN_FREE(t);
}

/* Adam refuses a non-finite gradient (nothing updated) and reports a non-finite weight or moment
   it wrote: each array is read once, and the scans that name the value run on an error only. */
static ncsn_status ncsn__trainer_adam(ncsn_trainer *t)
{
    int wrote_nonfinite = 0;
    ncsn_status st = ncsn__model_adam(t->model, &t->adam, &wrote_nonfinite), named = NCSN_OK;
    if (st == NCSN_ERR_NONFINITE) named = ncsn_model_check_finite(t->model, NULL, NCSN_CHECK_GRADS);
    else if (st == NCSN_OK && wrote_nonfinite) {
        named = ncsn_model_check_finite(t->model, &t->adam, NCSN_CHECK_PARAMS | NCSN_CHECK_MOMENTS);
        if (named == NCSN_OK) named = ncsn__fail(NCSN_ERR_NONFINITE, "Adam wrote a non-finite weight or moment");   /* never lost */
    }
    return named != NCSN_OK ? named : st;
}

NCSNDEF float ncsn_lr_at(float lr, long step, long decay_steps)
{
    double f;
    float r;
    if (decay_steps <= 0) return lr;
    f = step >= decay_steps ? 1.0 : step <= 0 ? 0.0 : (double)step / (double)decay_steps;
    r = (float)((double)lr * (1.0 - 0.99 * f));
    return lr > 0.0f && r < FLT_MIN ? FLT_MIN : r;   /* a tiny rate decays to a normal float, never to 0 (Adam refuses 0) */
}

NCSNDEF ncsn_status ncsn_trainer_step(ncsn_trainer *t)
{
    const float *x;
    float loss = 0.0f;
    ncsn_dsm_opts dop;
    ncsn_status st;
    if (!t || !t->model) return ncsn__fail(NCSN_ERR_ARG, "ncsn_trainer_step: t = NULL");
    x = t->data;
    if (t->batch < t->n) {
        if ((st = ncsn_minibatch(&t->rng, t->perm, t->n, t->data, t->dim, t->xb, t->batch)) != NCSN_OK) return st;
        x = t->xb;
    }
    /* the gradients are zero: from ncsn_model_create, the last step's Adam pass, or the error path below */
    memset(&dop, 0, sizeof dop);
    dop.stable_target = t->opts.stable_target;
    st = ncsn_dsm_loss_ex(t->model, &t->dsm, x, t->batch, t->sigmas, t->L, t->opts.weighting, &t->rng, &dop, &loss);
    if (st == NCSN_OK && !ncsn__isfinite(loss)) st = ncsn__fail(NCSN_ERR_NONFINITE, "loss = %g", (double)loss);
    if (t->opts.lr_decay_steps > 0) t->adam.lr = ncsn_lr_at(t->opts.lr, t->step, t->opts.lr_decay_steps);
    if (st == NCSN_OK) st = ncsn__trainer_adam(t);
    if (st != NCSN_OK) {
        ncsn_model_zero_grad(t->model);
        return st;
    }
    if (t->ema) {   /* warm-up: the rate is at most (1 + step)/(10 + step), so a short run's EMA is not its initial weights */
        float warm = (float)(t->step + 1) / (float)(t->step + 10);
        ncsn_ema_update(t->ema, t->model->params, t->model->n_params, warm < t->opts.ema_rate ? warm : t->opts.ema_rate);
    }
    t->loss = loss;
    t->step++;
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_trainer_run(ncsn_trainer *t, long until, long every, ncsn_train_callback cb, void *user)
{
    ncsn_status st;
    if (!t) return ncsn__fail(NCSN_ERR_ARG, "ncsn_trainer_run: t = NULL");
    /* refused up front rather than at the first checkpoint past the limit (2^30 where long has 32 bits) */
    if (until > NCSN_MAX_STEP)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_trainer_run: until = %ld exceeds NCSN_MAX_STEP = %ld, the most steps a checkpoint holds",
                          until, (long)NCSN_MAX_STEP);
    while (t->step < until) {
        if ((st = ncsn_trainer_step(t)) != NCSN_OK) return st;
        if (cb && ((every > 0 && t->step % every == 0) || t->step == until) && (st = cb(user, t)) != NCSN_OK) return st;
    }
    return NCSN_OK;
}

NCSNDEF const float *ncsn_trainer_weights(const ncsn_trainer *t)
{
    return t->ema ? t->ema : t->model->params;
}

NCSNDEF ncsn_status ncsn_minibatch(ncsn_rng *rng, int *perm, int n, const float *data, int dim, float *batch, int B)
{
    int i;
    if (!rng || !perm || !data || !batch)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_minibatch: %s = NULL", !rng ? "rng" : !perm ? "perm" : !data ? "data" : "batch");
    if (dim < 1) return ncsn__fail(NCSN_ERR_ARG, "ncsn_minibatch: dim = %d must be >= 1", dim);
    if (B < 1 || B > n) return ncsn__fail(NCSN_ERR_ARG, "ncsn_minibatch: B = %d must be in [1, n = %d]", B, n);
    for (i = 0; i < B; i++) {
        int j = i + (int)ncsn_rng_bounded(rng, (uint32_t)(n - i)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        if (perm[i] < 0 || perm[i] >= n)
            return ncsn__fail(NCSN_ERR_ARG, "ncsn_minibatch: perm[%d] = %d is not in [0, n = %d): perm must hold 0..n-1", i, perm[i], n);
        memcpy(batch + (size_t)i * dim, data + (size_t)perm[i] * dim, (size_t)dim * sizeof(float));
    }
    return NCSN_OK;
}

/* ---- 12. Langevin samplers ----------------------------------------------------------------------- */
NCSNDEF ncsn_sampler_opts ncsn_sampler_defaults(void)
{
    ncsn_sampler_opts o;
    memset(&o, 0, sizeof o);
    o.form = NCSN_LANGEVIN_HALF;
    o.eps = 1e-5f;
    o.steps_per_level = 100;
    o.init = NCSN_INIT_NORMAL_SIGMA1;
    o.init_lo = -1.0f;
    o.init_hi = 1.0f;
    return o;
}

NCSNDEF ncsn_status ncsn_langevin_coeffs(ncsn_langevin_form form, float eps, float sigma_i, float sigma_L,
                                         float *c_score, float *c_noise)
{
    float r, alpha;
    if (!c_score || !c_noise) return ncsn__fail(NCSN_ERR_ARG, "ncsn_langevin_coeffs: output = NULL");
    if (!(eps > 0.0f) || !ncsn__isfinite(eps)) return ncsn__fail(NCSN_ERR_ARG, "ncsn_langevin_coeffs: eps = %g must be finite and > 0", (double)eps);
    if (!(sigma_i > 0.0f) || !(sigma_L > 0.0f) || !ncsn__isfinite(sigma_i) || !ncsn__isfinite(sigma_L))
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_langevin_coeffs: sigma_i = %g, sigma_L = %g must be finite and > 0", (double)sigma_i, (double)sigma_L);
    if (form != NCSN_LANGEVIN_SONG && form != NCSN_LANGEVIN_HALF && form != NCSN_LANGEVIN_SONG_LM)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_langevin_coeffs: form = %d is not a Langevin form", (int)form);
    r = sigma_i / sigma_L;
    alpha = eps * (r * r);
    if (form != NCSN_LANGEVIN_HALF) { *c_score = alpha; *c_noise = sqrtf(2.0f * alpha); }
    else { *c_score = 0.5f * alpha; *c_noise = sqrtf(alpha); }
    return NCSN_OK;
}

NCSNDEF void ncsn_langevin_update(float *x, const float *score, const float *z, size_t n, float c_score, float c_noise)
{
    ncsn__kt()->langevin(x, score, z, n, c_score, c_noise);
}

static int ncsn__all_finite(const float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) if (!ncsn__isfinite(x[i])) return 0;
    return 1;
}

/* A score function writes out[n][its own dimension]: for the library's own, that dimension is known
   and must be dim, or the scores would land past the sampler's buffers. */
static ncsn_status ncsn__score_dim_check(const char *fn, ncsn_score_fn score, void *user, int dim)
{
    int own = -1;
    if (score == ncsn_model_score && user) own = ((const ncsn_model *)user)->cfg.dim;
    else if (score == ncsn_gmm_score_fn && user) own = ((const ncsn_gmm *)user)->dim;
    else if (score == ncsn_score_guided && user && ((const ncsn_guide *)user)->model) own = ((const ncsn_guide *)user)->model->cfg.dim;
    if (own >= 0 && own != dim)
        return ncsn__fail(NCSN_ERR_ARG, "%s: dim = %d, but the score function's %s has dimension %d", fn, dim,
                          score == ncsn_gmm_score_fn ? "mixture" : score == ncsn_score_guided ? "guide's model" : "model", own);
    return NCSN_OK;
}

static ncsn_status ncsn__sampler_check(const char *fn, ncsn_score_fn score, void *user, int dim, const ncsn_sampler_opts *o,
                                       ncsn_rng *rng, float *x, int n)
{
    if (!score || !o || !rng || !x)
        return ncsn__fail(NCSN_ERR_ARG, "%s: %s = NULL", fn, !score ? "score" : !o ? "opts" : !rng ? "rng" : "x");
    if (dim < 1) return ncsn__fail(NCSN_ERR_ARG, "%s: dim = %d must be >= 1", fn, dim);
    if (ncsn__score_dim_check(fn, score, user, dim) != NCSN_OK) return NCSN_ERR_ARG;
    if (n < 1) return ncsn__fail(NCSN_ERR_ARG, "%s: n = %d must be >= 1", fn, n);
    if (o->steps_per_level < 0) return ncsn__fail(NCSN_ERR_ARG, "%s: steps_per_level = %d must be >= 0", fn, o->steps_per_level);
    if (o->fine_factor < 0) return ncsn__fail(NCSN_ERR_ARG, "%s: fine_factor = %d must be >= 0", fn, o->fine_factor);
    if (o->fine_factor > 1 && o->steps_per_level > INT_MAX / o->fine_factor)
        return ncsn__fail(NCSN_ERR_ARG, "%s: fine_factor x steps_per_level = %d x %d exceeds INT_MAX", fn, o->fine_factor, o->steps_per_level);
    if (o->fine_factor > 1 && !(o->fine_sigma >= 0.0f))
        return ncsn__fail(NCSN_ERR_ARG, "%s: fine_sigma = %g must be >= 0", fn, (double)o->fine_sigma);
    if (o->predictor < NCSN_PREDICT_NONE || o->predictor > NCSN_PREDICT_ODE)
        return ncsn__fail(NCSN_ERR_ARG, "%s: predictor = %d is not a predictor (0 none, 1 ancestral, 2 ode)", fn, o->predictor);
    if ((int)o->init < (int)NCSN_INIT_NORMAL || (int)o->init > (int)NCSN_INIT_GIVEN)
        return ncsn__fail(NCSN_ERR_ARG, "%s: init = %d is not an init", fn, (int)o->init);
    if (o->init == NCSN_INIT_UNIFORM && !(o->init_lo < o->init_hi))
        return ncsn__fail(NCSN_ERR_ARG, "%s: init_lo = %g must be < init_hi = %g", fn, (double)o->init_lo, (double)o->init_hi);
    if (ncsn__too_many((size_t)n, (size_t)dim))
        return ncsn__fail(NCSN_ERR_ARG, "%s: n x dim = %d x %d exceeds %llu, the most elements the chains hold on this target",
                          fn, n, dim, (unsigned long long)NCSN__MAX_ELEMS);
    return NCSN_OK;
}

static void ncsn__sampler_init(const ncsn_sampler_opts *o, float sigma1, ncsn_rng *rng, float *x, const ncsn__part *p)
{
    size_t i, n = p->b - p->a;
    if (o->init == NCSN_INIT_GIVEN) return;
    if (o->init == NCSN_INIT_UNIFORM) {   /* one output per element */
        float w = o->init_hi - o->init_lo;
        ncsn_rng_advance(rng, (uint64_t)p->a);
        for (i = 0; i < n; i++) x[i] = fmaf(w, ncsn_rng_uniform(rng), o->init_lo);
        ncsn_rng_advance(rng, (uint64_t)(p->N - p->b));
        return;
    }
    ncsn__normals_part(rng, x, p);
    if (o->init == NCSN_INIT_NORMAL_SIGMA1)
        for (i = 0; i < n; i++) x[i] = x[i] * sigma1;
}

/* the steps' factor at a level of sigma: fine_factor where fine steps apply, else 1 */
static int ncsn__fine_at(const ncsn_sampler_opts *o, float sigma)
{
    return o->fine_factor > 1 && sigma >= o->fine_sigma ? o->fine_factor : 1;
}

/* SONG_LM's noise: z <- (zp + z) / 2, and zp <- this step's draw */
static void ncsn__lm_noise(float *z, float *zp, size_t n)
{
    size_t k;
    for (k = 0; k < n; k++) {
        float drawn = z[k];
        z[k] = 0.5f * (zp[k] + drawn);
        zp[k] = drawn;
    }
}

/* the predictor from sigma_a to sigma_b < sigma_a. Ancestral: x <- x + (a^2 - b^2) s + b sqrt(1 - b^2/a^2) z,
   the noise's coefficient as (b/a) sqrt((a - b)(a + b)), exact in a - b for close levels rather than
   1 - b^2/a^2's cancellation; ODE: x <- x + a (a - b) s. sqrtf is correctly rounded: the same bits
   on every build. */
static ncsn_status ncsn__predict(ncsn_score_fn score, void *user, int kind, float sigma_a, float sigma_b, ncsn_rng *rng,
                                 float *x, float *s, float *z, int count, const ncsn__part *part)
{
    size_t k, N = part->b - part->a;
    ncsn_status st = score(user, s, x, sigma_a, count);
    if (st != NCSN_OK) return st;
    if (kind == NCSN_PREDICT_ODE) {
        float c_score = sigma_a * (sigma_a - sigma_b);
        for (k = 0; k < N; k++) x[k] = fmaf(c_score, s[k], x[k]);
    } else {
        float c_score = (sigma_a - sigma_b) * (sigma_a + sigma_b);
        float c_noise = (sigma_b / sigma_a) * sqrtf(c_score);
        ncsn__normals_part(rng, z, part);
        for (k = 0; k < N; k++) x[k] = fmaf(c_noise, z[k], fmaf(c_score, s[k], x[k]));
    }
    return NCSN_OK;
}

/* chains [first, first + count) of an n-chain run; x holds those count chains */
static ncsn_status ncsn__langevin_run(ncsn_score_fn score, void *user, int dim, const float *sigmas, int L,
                                      const float *score_sigma, const float *cs, const float *cn,
                                      const ncsn_sampler_opts *o, ncsn_rng *rng, float *x, int n, int first, int count, const char *fn)
{
    size_t N = (size_t)count * (size_t)dim;
    int lm = o->form == NCSN_LANGEVIN_SONG_LM;
    float *s = NCSN__ALLOC_N(float, N), *z = NCSN__ALLOC_N(float, N), *zp = lm ? NCSN__ALLOC_N(float, N) : NULL;
    ncsn_status st = NCSN_OK;
    ncsn__part part;
    int i, t, first_bad_level = -1;
    if (!s || !z || (lm && !zp)) {
        NCSN_FREE(s); NCSN_FREE(z); NCSN_FREE(zp);
        return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory for %d chains", fn, count);
    }
    part.a = (size_t)first * (size_t)dim;
    part.b = part.a + N;
    part.N = (size_t)n * (size_t)dim;
    ncsn__sampler_init(o, sigmas[0], rng, x, &part);
    if (lm) ncsn__normals_part(rng, zp, &part);
    for (i = 0; i < L && st == NCSN_OK; i++) {
        int steps = o->steps_per_level * ncsn__fine_at(o, sigmas[i]);
        for (t = 0; t < steps; t++) {
            if ((st = score(user, s, x, score_sigma[i], count)) != NCSN_OK) break;
            ncsn__normals_part(rng, z, &part);
            if (lm) ncsn__lm_noise(z, zp, N);
            ncsn_langevin_update(x, s, z, N, cs[i], cn[i]);
            if (o->callback && o->callback(o->callback_user, i, t, sigmas[i], x, count, dim) != NCSN_OK) {
                st = ncsn__fail(NCSN_ERR_CALLBACK, "%s: callback stopped at level %d step %d", fn, i, t);
                break;
            }
        }
        if (st == NCSN_OK && o->predictor != NCSN_PREDICT_NONE && i + 1 < L && score_sigma[i + 1] < score_sigma[i])
            st = ncsn__predict(score, user, o->predictor, score_sigma[i], score_sigma[i + 1], rng, x, s, z, count, &part);
        if (first_bad_level < 0 && !ncsn__all_finite(x, N)) first_bad_level = i;
    }
    if (st == NCSN_OK && o->denoise_final) {
        float sl = score_sigma[L - 1], v = sl * sl;
        size_t k;
        if ((st = score(user, s, x, sl, count)) == NCSN_OK)
            for (k = 0; k < N; k++) x[k] = fmaf(v, s[k], x[k]);
    }
    if (st == NCSN_OK && first_bad_level >= 0) {
        /* chains are independent: the finite ones are valid samples, the others are reported */
        int j, d, bad = 0;
        for (j = 0; j < count; j++)
            for (d = 0; d < dim; d++)
                if (!ncsn__isfinite(x[(size_t)j * dim + d])) { bad++; break; }
        st = ncsn__fail(NCSN_ERR_NONFINITE, "%s: %d of %d chains diverged (first at level %d, sigma = %g); step size too large for the score?",
                        fn, bad, count, first_bad_level, (double)sigmas[first_bad_level]);
    }
    NCSN_FREE(s);
    NCSN_FREE(z);
    NCSN_FREE(zp);
    return st;
}

/* the levels checked and each level's two update coefficients, *cs and *cn [L] (free both) */
static ncsn_status ncsn__level_coeffs(const char *fn, const ncsn_sampler_opts *o, const float *sigmas, int L, float **cs, float **cn)
{
    ncsn_status st = NCSN_OK;
    int i;
    *cs = *cn = NULL;
    if (!sigmas || L < 1) return ncsn__fail(NCSN_ERR_ARG, "%s: L = %d: need sigmas with L >= 1 levels", fn, L);
    for (i = 0; i < L; i++)
        if (!(sigmas[i] > 0.0f) || !ncsn__isfinite(sigmas[i]))
            return ncsn__fail(NCSN_ERR_ARG, "%s: sigmas[%d] = %g must be finite and > 0", fn, i, (double)sigmas[i]);
    *cs = NCSN__ALLOC_N(float, L);
    *cn = NCSN__ALLOC_N(float, L);
    if (!*cs || !*cn) st = ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory", fn);
    for (i = 0; i < L && st == NCSN_OK; i++) {
        int f = ncsn__fine_at(o, sigmas[i]);
        if (f > 1 && !(o->eps / (float)f > 0.0f) && o->eps > 0.0f)   /* else coeffs names eps itself */
            st = ncsn__fail(NCSN_ERR_ARG, "%s: eps / fine_factor = %g / %d underflows to 0", fn, (double)o->eps, f);
        else
            st = ncsn_langevin_coeffs(o->form, o->eps / (float)f, sigmas[i], sigmas[L - 1], &(*cs)[i], &(*cn)[i]);
    }
    if (st != NCSN_OK) { NCSN_FREE(*cs); NCSN_FREE(*cn); *cs = *cn = NULL; }
    return st;
}

static ncsn_status ncsn__annealed(const char *fn, ncsn_score_fn score, void *user, int dim, const float *sigmas, int L,
                                  const ncsn_sampler_opts *o, ncsn_rng *rng, float *x, int n, int first, int count)
{
    float *cs, *cn;
    ncsn_status st;
    if ((st = ncsn__sampler_check(fn, score, user, dim, o, rng, x, n)) != NCSN_OK) return st;
    if (first < 0 || count < 1 || count > n - first)
        return ncsn__fail(NCSN_ERR_ARG, "%s: chains [%d, %d + %d) must lie in [0, n = %d)", fn, first, first, count, n);
    if ((st = ncsn__level_coeffs(fn, o, sigmas, L, &cs, &cn)) != NCSN_OK) return st;
    st = ncsn__langevin_run(score, user, dim, sigmas, L, sigmas, cs, cn, o, rng, x, n, first, count, fn);
    NCSN_FREE(cs);
    NCSN_FREE(cn);
    return st;
}

NCSNDEF ncsn_status ncsn_sample_annealed(ncsn_score_fn score, void *user, int dim, const float *sigmas, int L,
                                         const ncsn_sampler_opts *o, ncsn_rng *rng, float *x, int n)
{
    return ncsn__annealed("ncsn_sample_annealed", score, user, dim, sigmas, L, o, rng, x, n, 0, n);
}

NCSNDEF ncsn_status ncsn_sample_annealed_chains(ncsn_score_fn score, void *user, int dim, const float *sigmas, int L,
                                                const ncsn_sampler_opts *o, ncsn_rng *rng, float *x, int n, int first, int count)
{
    return ncsn__annealed("ncsn_sample_annealed_chains", score, user, dim, sigmas, L, o, rng, x, n, first, count);
}

/* one level of inpainting: y = known + sigma z~ (n*dim normals), then T steps, each followed by the
   replacement of the known elements by y; zp (SONG_LM) gets its first draw at level 0's first run */
static ncsn_status ncsn__inpaint_level(ncsn_score_fn score, void *user, int dim, int level, int first, float sigma, float cs,
                                       float cn, const ncsn_sampler_opts *o, ncsn_rng *rng, const float *known,
                                       const unsigned char *mask, float *x, int n, float *s, float *z, float *y, float *zp)
{
    size_t N = (size_t)n * (size_t)dim, k;
    ncsn_status st;
    int t;
    ncsn_rng_normals(rng, y, N);
    for (k = 0; k < N; k++) y[k] = fmaf(sigma, y[k], known[k]);
    if (zp && first) ncsn_rng_normals(rng, zp, N);   /* SONG_LM's first draw, as ncsn_sample_annealed makes it before its first step */
    for (t = 0; t < o->steps_per_level * ncsn__fine_at(o, sigma); t++) {
        if ((st = score(user, s, x, sigma, n)) != NCSN_OK) return st;
        ncsn_rng_normals(rng, z, N);
        if (zp) ncsn__lm_noise(z, zp, N);
        ncsn_langevin_update(x, s, z, N, cs, cn);
        for (k = 0; k < N; k++) if (mask[k]) x[k] = y[k];
        if (o->callback && o->callback(o->callback_user, level, t, sigma, x, n, dim) != NCSN_OK)
            return ncsn__fail(NCSN_ERR_CALLBACK, "ncsn_sample_inpaint: callback stopped at level %d step %d", level, t);
    }
    return NCSN_OK;
}

NCSNDEF ncsn_inpaint_opts ncsn_inpaint_defaults(void)
{
    ncsn_inpaint_opts p;
    memset(&p, 0, sizeof p);
    return p;
}

/* the resampling settings against the levels; *on = 0 when they ask for none */
static ncsn_status ncsn__inpaint_opts_check(const char *fn, const ncsn_inpaint_opts *p, const float *sigmas, int L, int *on)
{
    int i;
    *on = 0;
    if (!p) return NCSN_OK;
    if (p->jump < 0 || p->repeats < 0 || p->period < 0)
        return ncsn__fail(NCSN_ERR_ARG, "%s: %s = %d must be >= 0", fn, p->jump < 0 ? "jump" : p->repeats < 0 ? "repeats" : "period",
                          p->jump < 0 ? p->jump : p->repeats < 0 ? p->repeats : p->period);
    if (!(p->sigma_hi >= 0.0f) || !(p->sigma_lo >= 0.0f))
        return ncsn__fail(NCSN_ERR_ARG, "%s: %s = %g must be >= 0", fn, !(p->sigma_hi >= 0.0f) ? "sigma_hi" : "sigma_lo",
                          (double)(!(p->sigma_hi >= 0.0f) ? p->sigma_hi : p->sigma_lo));
    if (p->sigma_hi > 0.0f && p->sigma_lo > p->sigma_hi)
        return ncsn__fail(NCSN_ERR_ARG, "%s: sigma_lo = %g must be <= sigma_hi = %g", fn, (double)p->sigma_lo, (double)p->sigma_hi);
    if ((p->jump > 0) != (p->repeats > 0))
        return ncsn__fail(NCSN_ERR_ARG, "%s: jump = %d, repeats = %d: resampling needs both >= 1 (or both 0: none)", fn, p->jump, p->repeats);
    if (p->jump == 0) return p->period || p->sigma_hi > 0.0f || p->sigma_lo > 0.0f
        ? ncsn__fail(NCSN_ERR_ARG, "%s: period, sigma_hi or sigma_lo set with jump = 0 (no resampling)", fn) : NCSN_OK;
    if (p->jump >= L) return ncsn__fail(NCSN_ERR_ARG, "%s: jump = %d must be < L = %d", fn, p->jump, L);
    for (i = 1; i < L; i++)
        if (!(sigmas[i] < sigmas[i - 1]))   /* else the noise back up has no variance to add */
            return ncsn__fail(NCSN_ERR_ARG, "%s: resampling needs decreasing sigmas; sigmas[%d] = %g, sigmas[%d] = %g", fn, i - 1,
                              (double)sigmas[i - 1], i, (double)sigmas[i]);
    *on = 1;
    return NCSN_OK;
}

/* 1 when level i of sigmas[L] is a jump level of p (checked, jump >= 1): i >= jump, inside the
   window, and the last of a block of `period` levels counted from the window's first level */
static int ncsn__jump_level(const ncsn_inpaint_opts *p, const float *sigmas, int i)
{
    int top = 0, per = p->period ? p->period : p->jump;
    if (i < p->jump || sigmas[i] < p->sigma_lo || (p->sigma_hi > 0.0f && sigmas[i] > p->sigma_hi)) return 0;
    if (p->sigma_hi > 0.0f) while (sigmas[top] > p->sigma_hi) top++;
    return (i - top + 1) % per == 0;
}

/* the levels of inpainting, with the jumps back of p (NULL: none); buf holds 3 (+1 for SONG_LM) x N */
static ncsn_status ncsn__inpaint_levels(ncsn_score_fn score, void *user, int dim, const float *sigmas, int L, const float *cs,
                                        const float *cn, const ncsn_sampler_opts *o, const ncsn_inpaint_opts *p, ncsn_rng *rng,
                                        const float *known, const unsigned char *mask, float *x, int n, float *buf)
{
    size_t N = (size_t)n * (size_t)dim, k;
    float *zp = o->form == NCSN_LANGEVIN_SONG_LM ? buf + 3 * N : NULL;
    ncsn_status st = NCSN_OK;
    int i, r, l;
    for (i = 0; i < L && st == NCSN_OK; i++) {
        st = ncsn__inpaint_level(score, user, dim, i, i == 0, sigmas[i], cs[i], cn[i], o, rng, known, mask, x, n, buf, buf + N,
                                 buf + 2 * N, zp);
        if (!p || !ncsn__jump_level(p, sigmas, i)) continue;
        for (r = 0; r < p->repeats && st == NCSN_OK; r++) {
            float hi = sigmas[i - p->jump], lo = sigmas[i], d = sqrtf(fmaf(hi, hi, -(lo * lo)));
            ncsn_rng_normals(rng, buf + N, N);   /* every element, so the stream does not depend on the mask */
            for (k = 0; k < N; k++) x[k] = fmaf(d, buf[N + k], x[k]);
            for (l = i - p->jump; l <= i && st == NCSN_OK; l++)
                st = ncsn__inpaint_level(score, user, dim, l, 0, sigmas[l], cs[l], cn[l], o, rng, known, mask, x, n, buf, buf + N,
                                         buf + 2 * N, zp);
        }
    }
    return st;
}

static ncsn_status ncsn__inpaint(const char *fn, ncsn_score_fn score, void *user, int dim, const float *sigmas, int L,
                                 const ncsn_sampler_opts *o, const ncsn_inpaint_opts *p, ncsn_rng *rng, const float *known,
                                 const unsigned char *mask, float *x, int n)
{
    float *cs = NULL, *cn = NULL, *buf;
    size_t N, k;
    ncsn__part all;
    ncsn_status st;
    int lm, on;
    if ((st = ncsn__sampler_check(fn, score, user, dim, o, rng, x, n)) != NCSN_OK) return st;
    if (!known || !mask) return ncsn__fail(NCSN_ERR_ARG, "%s: %s = NULL", fn, !known ? "known" : "mask");
    if (o->predictor != NCSN_PREDICT_NONE)   /* the known part is replaced at every step: not measured with a predictor */
        return ncsn__fail(NCSN_ERR_ARG, "%s: predictor = %d: inpainting takes none (0)", fn, o->predictor);
    if ((st = ncsn__level_coeffs(fn, o, sigmas, L, &cs, &cn)) != NCSN_OK) return st;
    if ((st = ncsn__inpaint_opts_check(fn, p, sigmas, L, &on)) != NCSN_OK) { NCSN_FREE(cs); NCSN_FREE(cn); return st; }
    N = (size_t)n * (size_t)dim;
    lm = o->form == NCSN_LANGEVIN_SONG_LM;
    if ((buf = NCSN__ALLOC_N(float, (size_t)(3 + lm) * N)) == NULL) {
        NCSN_FREE(cs); NCSN_FREE(cn);
        return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory for %d chains", fn, n);
    }
    all.a = 0; all.b = all.N = N;
    ncsn__sampler_init(o, sigmas[0], rng, x, &all);
    st = ncsn__inpaint_levels(score, user, dim, sigmas, L, cs, cn, o, on ? p : NULL, rng, known, mask, x, n, buf);
    if (st == NCSN_OK && o->denoise_final) {
        float sl = sigmas[L - 1], v = sl * sl;
        if ((st = score(user, buf, x, sl, n)) == NCSN_OK)
            for (k = 0; k < N; k++) if (!mask[k]) x[k] = fmaf(v, buf[k], x[k]);
    }
    if (st == NCSN_OK && !ncsn__all_finite(x, N)) {
        int j, bad = 0;
        for (j = 0; j < n; j++) bad += !ncsn__all_finite(x + (size_t)j * dim, (size_t)dim);
        st = ncsn__fail(NCSN_ERR_NONFINITE, "%s: %d of %d chains diverged; step size too large for the score?", fn, bad, n);
    }
    NCSN_FREE(buf);
    NCSN_FREE(cs);
    NCSN_FREE(cn);
    return st;
}

NCSNDEF ncsn_status ncsn_sample_inpaint(ncsn_score_fn score, void *user, int dim, const float *sigmas, int L,
                                        const ncsn_sampler_opts *o, ncsn_rng *rng, const float *known,
                                        const unsigned char *mask, float *x, int n)
{
    return ncsn__inpaint("ncsn_sample_inpaint", score, user, dim, sigmas, L, o, NULL, rng, known, mask, x, n);
}

NCSNDEF ncsn_status ncsn_sample_inpaint_resample(ncsn_score_fn score, void *user, int dim, const float *sigmas, int L,
                                                 const ncsn_sampler_opts *o, const ncsn_inpaint_opts *p, ncsn_rng *rng,
                                                 const float *known, const unsigned char *mask, float *x, int n)
{
    return ncsn__inpaint("ncsn_sample_inpaint_resample", score, user, dim, sigmas, L, o, p, rng, known, mask, x, n);
}

/* a guide's two settings, which its owner may change between calls: weight finite and >= 0,
   sigma_min >= 0 (not NaN, which would guide at every level unseen) */
static ncsn_status ncsn__guide_settings(const char *fn, float weight, float sigma_min)
{
    if (!(weight >= 0.0f && weight <= FLT_MAX)) return ncsn__fail(NCSN_ERR_ARG, "%s: weight = %g must be finite and >= 0", fn, (double)weight);
    if (!(sigma_min >= 0.0f)) return ncsn__fail(NCSN_ERR_ARG, "%s: sigma_min = %g must be >= 0", fn, (double)sigma_min);
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_guide_init(ncsn_guide *g, ncsn_model *m, const float *known, const unsigned char *mask,
                                    float weight, int n)
{
    size_t N;
    ncsn_status st;
    if (!g) return ncsn__fail(NCSN_ERR_ARG, "ncsn_guide_init: guide = NULL");
    memset(g, 0, sizeof *g);
    if (!m || !known || !mask)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_guide_init: %s = NULL", !m ? "model" : !known ? "known" : "mask");
    if ((st = ncsn__guide_settings("ncsn_guide_init", weight, 0.0f)) != NCSN_OK) return st;
    if (n < 1 || (size_t)n > NCSN__MAX_ELEMS / (size_t)m->cfg.dim / 2)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_guide_init: n = %d chains of dimension %d: must be >= 1 and fit in memory", n,
                          m->cfg.dim);
    N = (size_t)n * (size_t)m->cfg.dim;
    if ((g->r = NCSN__ALLOC_N(float, 2 * N)) == NULL)
        return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_guide_init: out of memory for %d chains", n);
    g->dx = g->r + N;
    g->model = m; g->known = known; g->mask = mask; g->weight = weight; g->cap = n;
    return NCSN_OK;
}

NCSNDEF void ncsn_guide_free(ncsn_guide *g)
{
    if (!g) return;
    NCSN_FREE(g->r);
    g->r = g->dx = NULL;
    g->cap = 0;
}

NCSNDEF ncsn_status ncsn_score_guided(void *guide, float *out, const float *x, float sigma, int n)
{
    ncsn_guide *g = (ncsn_guide *)guide;
    float v = sigma * sigma, c;
    size_t N, k;
    ncsn_status st;
    if (!g || !g->r) return ncsn__fail(NCSN_ERR_ARG, "ncsn_score_guided: guide %s", !g ? "= NULL" : "not initialised (ncsn_guide_init)");
    if (n < 1 || n > g->cap) return ncsn__fail(NCSN_ERR_ARG, "ncsn_score_guided: n = %d chains, the guide holds 1..%d", n, g->cap);
    if ((st = ncsn__guide_settings("ncsn_score_guided", g->weight, g->sigma_min)) != NCSN_OK) return st;
    if ((st = ncsn_model_score(g->model, out, x, sigma, n)) != NCSN_OK || g->weight == 0.0f || sigma < g->sigma_min) return st;
    c = g->weight / v;   /* checked only where guidance applies: weight 0 is ncsn_model_score, whatever sigma */
    if (!(sigma > 0.0f && v > 0.0f && v <= FLT_MAX && c <= FLT_MAX))
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_score_guided: sigma = %g: its square and weight / sigma^2 must be finite and > 0", (double)sigma);
    N = (size_t)n * (size_t)g->model->cfg.dim;
    for (k = 0; k < N; k++) g->r[k] = g->mask[k] ? g->known[k] - fmaf(v, out[k], x[k]) : 0.0f;
    if ((st = ncsn__backward(g->model, g->dx, g->r, 0, 0)) != NCSN_OK) return st;
    for (k = 0; k < N; k++) out[k] = fmaf(c, fmaf(v, g->dx[k], g->r[k]), out[k]);
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_sample_langevin(ncsn_score_fn score, void *user, int dim, float score_sigma, float step,
                                         int n_steps, const ncsn_sampler_opts *opts, ncsn_rng *rng, float *x, int n)
{
    static const char *fn = "ncsn_sample_langevin";
    ncsn_sampler_opts o;
    float cs, cn, sig1 = 1.0f;
    ncsn_status st;
    if (!opts) return ncsn__fail(NCSN_ERR_ARG, "%s: opts = NULL", fn);
    o = *opts;
    o.steps_per_level = n_steps;
    o.denoise_final = 0;
    o.fine_factor = 0;   /* one level, at the caller's step */
    o.predictor = NCSN_PREDICT_NONE;   /* one level: nothing to predict */
    if ((st = ncsn__sampler_check(fn, score, user, dim, &o, rng, x, n)) != NCSN_OK) return st;
    if (!(step > 0.0f) || !ncsn__isfinite(step)) return ncsn__fail(NCSN_ERR_ARG, "%s: step = %g must be finite and > 0", fn, (double)step);
    if (!(score_sigma >= 0.0f)) return ncsn__fail(NCSN_ERR_ARG, "%s: score_sigma = %g must be >= 0", fn, (double)score_sigma);
    if ((st = ncsn_langevin_coeffs(o.form, step, 1.0f, 1.0f, &cs, &cn)) != NCSN_OK) return st;
    return ncsn__langevin_run(score, user, dim, &sig1, 1, &score_sigma, &cs, &cn, &o, rng, x, n, 0, n, fn);
}

NCSNDEF ncsn_status ncsn_sigma_score_norms(ncsn_score_fn score, void *user, int dim, const float *sigmas, int L,
                                           const float *data, int n, ncsn_rng *rng, float *out)
{
    size_t N, k;
    float *xt, *s;
    ncsn_status st = NCSN_OK;
    int i, j, d;
    if (!score || !sigmas || !data || !rng || !out || L < 1 || n < 1 || dim < 1)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_sigma_score_norms: L = %d, n = %d, dim = %d must be >= 1 and pointers non-NULL", L, n, dim);
    if (ncsn__score_dim_check("ncsn_sigma_score_norms", score, user, dim) != NCSN_OK) return NCSN_ERR_ARG;
    N = (size_t)n * (size_t)dim;
    xt = NCSN__ALLOC_N(float, N);
    s = NCSN__ALLOC_N(float, N);
    if (!xt || !s) {
        NCSN_FREE(xt); NCSN_FREE(s);
        return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_sigma_score_norms: out of memory");
    }
    for (i = 0; i < L && st == NCSN_OK; i++) {
        double acc = 0.0;
        ncsn_rng_normals(rng, xt, N);
        for (k = 0; k < N; k++) xt[k] = fmaf(sigmas[i], xt[k], data[k]);
        if ((st = score(user, s, xt, sigmas[i], n)) != NCSN_OK) break;
        for (j = 0; j < n; j++) {
            float q = 0.0f;
            for (d = 0; d < dim; d++) {
                float v = sigmas[i] * s[(size_t)j * dim + d];
                q = fmaf(v, v, q);
            }
            acc += (double)sqrtf(q);
        }
        out[i] = (float)(acc / (double)n);
    }
    NCSN_FREE(xt);
    NCSN_FREE(s);
    return st;
}

NCSNDEF ncsn_sampler_opts ncsn_sampler_recipe(const float *sigmas, int L, int T)
{
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    o.form = NCSN_LANGEVIN_SONG_LM;
    o.steps_per_level = T > 0 ? T : 200;
    o.eps = sigmas && L >= 1 ? 0.25f * sigmas[L - 1] * sigmas[L - 1] : 0.0f;
    o.init = NCSN_INIT_NORMAL_SIGMA1;
    o.denoise_final = 1;
    /* fine steps off, at the threshold where they would apply (standardised units: a mixture's modes
       part at about sigma = 1/2). fine_factor = 4 moved the 1/5 : 4/5 toy's small mode toward 0.2
       (0.215 / 0.212 / 0.229 at three training seeds became 0.200 / 0.195 / 0.212) but widened the
       ring's and the 3-D mixture's energy distance (docs/training.md): a caller's choice */
    o.fine_factor = 1;
    o.fine_sigma = 0.5f;
    return o;
}

/* 1 when some step between consecutive levels is wider than ratio (sigma_i > ratio sigma_{i+1}) */
static int ncsn__levels_wider(const float *sigmas, int L, double ratio)
{
    int i;
    for (i = 0; sigmas && i + 1 < L; i++)
        if ((double)sigmas[i] > ratio * (double)sigmas[i + 1]) return 1;
    return 0;
}

NCSNDEF ncsn_sampler_opts ncsn_sampler_recipe_for(const float *sigmas, int L, int T, int dim)
{
    ncsn_sampler_opts o = ncsn_sampler_recipe(sigmas, L, T);
    /* the ODE step between levels carries each level's noised density to the next; with the
       stable target's network (close to the exact score) the sampler's own bias was what was left
       on the toy's weights (docs/quality.md) */
    if (dim <= NCSN_RECIPE_SMALL_DIM) o.predictor = NCSN_PREDICT_ODE;
    if (dim > NCSN_RECIPE_SMALL_DIM) {
        /* the recipe's SONG_LM: on the digits' preconditioned models (seeds 42 / 43) 0.55x / 0.53x
           the fitted Gaussian's energy distance, SONG's noise 0.61x / 0.58x */
        o.steps_per_level = T > 0 ? T : 10;
        /* T eps / sigma_L^2 = 1 e-fold per level, in 10 steps: with SONG's noise 5 steps at 0.2 sigma_L^2
           gave 0.79x / 0.68x, 10 at 0.1 0.61x / 0.58x (docs/training.md) */
        o.eps = sigmas && L >= 1 ? 0.1f * sigmas[L - 1] * sigmas[L - 1] : 0.0f;
        o.fine_factor = 0;   /* T tuned as is */
        /* tuned on the digits, whose levels step by technique 2's ratio at 64 dimensions (1.36).
           Its few steps leave the chains behind the levels, wider than each level's density
           (1.44x the variance of N(0, I) with the exact score at 64-D), which offsets a network
           that contracts them; technique 2's ratio grows as the dimension falls (1.63 at 30-D,
           2.13 at 16-D) and the chains fall further behind (1.86x at 31-D, 2.78x at 17-D). Where
           a step between levels is wider than the tuned ratio, the ODE predictor carries the
           chains from level to level: breast cancer (30-D) went from 2.32x to 0.19x the fitted
           Gaussian's energy distance (docs/training.md) */
        if (ncsn__levels_wider(sigmas, L, ncsn_level_ratio(64) * (1.0 + 1e-6))) o.predictor = NCSN_PREDICT_ODE;
    }
    return o;
}

NCSNDEF ncsn_sampler_opts ncsn_sampler_recipe_model(const ncsn_model *m, const float *sigmas, int L, int T)
{
    ncsn_sampler_opts o = ncsn_sampler_recipe_for(sigmas, L, T, m ? m->cfg.dim : 0);
    if (m && m->cfg.dim > NCSN_RECIPE_SMALL_DIM && !m->cfg.precond) {
        o.form = NCSN_LANGEVIN_SONG;
        o.steps_per_level = T > 0 ? T : 5;
        o.eps = sigmas && L >= 1 ? 0.35f * sigmas[L - 1] * sigmas[L - 1] : 0.0f;
        o.predictor = NCSN_PREDICT_NONE;   /* 0.4.0's sampler, whole */
    }
    return o;
}

NCSNDEF int ncsn_diverged(const ncsn_stdz *s, float sigma1, const float *x, int n, unsigned char *diverged)
{
    double bound = (double)s->radius + (double)sigma1;
    int i, d, count = 0;
    for (i = 0; i < n; i++) {
        const float *p = x + (size_t)i * s->dim;
        int bad = 0;
        for (d = 0; d < s->dim && !bad; d++) bad = !ncsn__isfinite(p[d]);
        if (!bad && s->radius > 0.0f) bad = !(sqrt(ncsn__sqdist(p, s->center, s->dim)) <= bound);
        if (diverged) diverged[i] = (unsigned char)bad;
        count += bad;
    }
    return count;
}

/* the divergence rule in network units, then undo; a row that undo makes infinite (a file's scale
   of 1e38 times a finite z) counts as diverged too, so that no caller prints it as a sample */
static int ncsn__rule_and_undo(const ncsn_stdz *s, float sigma1, float *x, int n, unsigned char *diverged)
{
    int i, d, bad, count = 0;
    for (i = 0; i < n; i++) {
        float *row = x + (size_t)i * s->dim;
        bad = ncsn_diverged(s, sigma1, row, 1, NULL);
        ncsn_stdz_undo(s, row, 1);
        for (d = 0; d < s->dim && !bad; d++) bad = !ncsn__isfinite(row[d]);
        if (diverged) diverged[i] = (unsigned char)bad;
        count += bad;
    }
    return count;
}

NCSNDEF ncsn_status ncsn_sample_data_chains(ncsn_model *m, const ncsn_stdz *s, const float *sigmas, int L, const ncsn_sampler_opts *o,
                                            ncsn_rng *rng, float *x, int n, int first, int count, unsigned char *diverged, int *n_diverged)
{
    ncsn_status st;
    int bad;
    if (!m || !s) return ncsn__fail(NCSN_ERR_ARG, "ncsn_sample_data: %s = NULL", !m ? "model" : "s");
    if (s->dim != m->cfg.dim) return ncsn__fail(NCSN_ERR_ARG, "ncsn_sample_data: standardisation dim %d, model dim %d", s->dim, m->cfg.dim);
    st = ncsn_sample_annealed_chains(ncsn_model_score, m, m->cfg.dim, sigmas, L, o, rng, x, n, first, count);
    if (st != NCSN_OK && st != NCSN_ERR_NONFINITE) return st;
    bad = ncsn__rule_and_undo(s, sigmas[0], x, count, diverged);
    if (n_diverged) *n_diverged = bad;
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_sample_data(ncsn_model *m, const ncsn_stdz *s, const float *sigmas, int L, const ncsn_sampler_opts *o,
                                     ncsn_rng *rng, float *x, int n, unsigned char *diverged, int *n_diverged)
{
    return ncsn_sample_data_chains(m, s, sigmas, L, o, rng, x, n, 0, n, diverged, n_diverged);
}

/* ---- 13. data and exact scores ------------------------------------------------------------------- */
static ncsn_status ncsn__gmm_check(const ncsn_gmm *g, const char *fn)
{
    int k, d;
    if (!g || !g->weights || !g->means || !g->vars) return ncsn__fail(NCSN_ERR_ARG, "%s: gmm or one of its arrays = NULL", fn);
    if (g->K < 1 || g->dim < 1) return ncsn__fail(NCSN_ERR_ARG, "%s: K = %d, dim = %d must be >= 1", fn, g->K, g->dim);
    for (k = 0; k < g->K; k++) {
        if (!(g->weights[k] > 0.0f)) return ncsn__fail(NCSN_ERR_ARG, "%s: weights[%d] = %g must be > 0", fn, k, (double)g->weights[k]);
        for (d = 0; d < g->dim; d++)
            if (!(g->vars[(size_t)k * g->dim + d] >= 0.0f))
                return ncsn__fail(NCSN_ERR_ARG, "%s: vars[%d][%d] = %g must be >= 0", fn, k, d, (double)g->vars[(size_t)k * g->dim + d]);
    }
    return NCSN_OK;
}

/* per component: c_k = ln w_k - sum_d ln[2 pi (var_kd + sigma^2)] / 2 ... kept as the pair
   (ln w_k, sum of logs) so the logit below is one fixed expression */
static void ncsn__gmm_consts(const ncsn_gmm *g, float s2, float *logw, float *logdet)
{
    int k, d, D = g->dim;
    for (k = 0; k < g->K; k++) {
        float ld = 0.0f;
        for (d = 0; d < D; d++) ld += ncsn_logf(6.28318548f * (g->vars[(size_t)k * D + d] + s2));
        logdet[k] = ld;
        logw[k] = ncsn_logf(g->weights[k]);
    }
}

/* log w_k + log N(x; mu_k, var_k + sigma^2) */
static float ncsn__gmm_logit(const ncsn_gmm *g, const float *x, float s2, int k, float logw, float logdet)
{
    int d, D = g->dim;
    float quad = 0.0f;
    for (d = 0; d < D; d++) {
        float var = g->vars[(size_t)k * D + d] + s2;
        float diff = x[d] - g->means[(size_t)k * D + d];
        quad = fmaf(diff, diff / var, quad);
    }
    return fmaf(-0.5f, quad + logdet, logw);
}

/* scratch for K components: on the stack up to 64, else one allocation per call (not per point) */
#define NCSN__GMM_STACK 64

NCSNDEF ncsn_status ncsn_gmm_score(const ncsn_gmm *g, float *out, const float *x, float sigma, int n)
{
    float stack[3 * NCSN__GMM_STACK], *buf, *lg, *logw, *logdet, s2;
    int i, k, d, D;
    ncsn_status st;
    if ((st = ncsn__gmm_check(g, "ncsn_gmm_score")) != NCSN_OK) return st;
    if (!out || !x || n < 0) return ncsn__fail(NCSN_ERR_ARG, "ncsn_gmm_score: out/x = NULL or n = %d < 0", n);
    if (!(sigma >= 0.0f)) return ncsn__fail(NCSN_ERR_ARG, "ncsn_gmm_score: sigma = %g must be >= 0", (double)sigma);
    D = g->dim;
    s2 = sigma * sigma;
    buf = g->K <= NCSN__GMM_STACK ? stack : NCSN__ALLOC_N(float, 3 * (size_t)g->K);
    if (!buf) return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_gmm_score: out of memory for K = %d components", g->K);
    lg = buf; logw = buf + g->K; logdet = buf + 2 * g->K;
    ncsn__gmm_consts(g, s2, logw, logdet);
    for (i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * D;
        float *oi = out + (size_t)i * D, mx = -HUGE_VALF, tot = 0.0f;
        for (k = 0; k < g->K; k++) {
            lg[k] = ncsn__gmm_logit(g, xi, s2, k, logw[k], logdet[k]);
            if (lg[k] > mx) mx = lg[k];
        }
        for (d = 0; d < D; d++) oi[d] = 0.0f;
        for (k = 0; k < g->K; k++) {
            float r = ncsn_expf(lg[k] - mx);
            tot += r;
            for (d = 0; d < D; d++) {
                float var = g->vars[(size_t)k * D + d] + s2;
                oi[d] = fmaf(r, (g->means[(size_t)k * D + d] - xi[d]) / var, oi[d]);
            }
        }
        for (d = 0; d < D; d++) oi[d] = oi[d] / tot;
    }
    if (buf != stack) NCSN_FREE(buf);
    return NCSN_OK;
}

NCSNDEF float ncsn_gmm_logpdf(const ncsn_gmm *g, const float *x, float sigma)
{
    /* two passes over the components (max, then the sum), so any K works without a buffer */
    float mx = -HUGE_VALF, tot = 0.0f, s2 = sigma * sigma, lw[1], ld[1];
    int k;
    if (ncsn__gmm_check(g, "ncsn_gmm_logpdf") != NCSN_OK || !x || !(sigma >= 0.0f)) return NAN;
    for (k = 0; k < g->K; k++) {
        ncsn_gmm one = *g;
        float l;
        one.K = 1; one.weights = g->weights + k; one.vars = g->vars + (size_t)k * g->dim;
        ncsn__gmm_consts(&one, s2, lw, ld);
        l = ncsn__gmm_logit(g, x, s2, k, lw[0], ld[0]);
        if (l > mx) mx = l;
    }
    for (k = 0; k < g->K; k++) {
        ncsn_gmm one = *g;
        one.K = 1; one.weights = g->weights + k; one.vars = g->vars + (size_t)k * g->dim;
        ncsn__gmm_consts(&one, s2, lw, ld);
        tot += ncsn_expf(ncsn__gmm_logit(g, x, s2, k, lw[0], ld[0]) - mx);
    }
    return mx + ncsn_logf(tot);
}

NCSNDEF ncsn_status ncsn_gmm_score_fn(void *gmm, float *out, const float *x, float sigma, int n)
{
    return ncsn_gmm_score((const ncsn_gmm *)gmm, out, x, sigma, n);
}

NCSNDEF ncsn_status ncsn_gmm_sample(const ncsn_gmm *g, ncsn_rng *rng, float *out, int *comp, int n)
{
    int i, k, d, D;
    ncsn_status st;
    if ((st = ncsn__gmm_check(g, "ncsn_gmm_sample")) != NCSN_OK) return st;
    if (!rng || !out || n < 0) return ncsn__fail(NCSN_ERR_ARG, "ncsn_gmm_sample: rng/out = NULL or n = %d < 0", n);
    D = g->dim;
    /* all components first (one uniform each), then all n*D normals in order */
    for (i = 0; i < n; i++) {
        float u = ncsn_rng_uniform(rng), c = 0.0f;
        for (k = 0; k < g->K - 1; k++) {
            c += g->weights[k];
            if (u < c) break;
        }
        if (comp) comp[i] = k;
        out[(size_t)i * D] = (float)k;  /* parked here until the noise is drawn */
    }
    {
        float z[2] = { 0.0f, 0.0f };
        size_t j = 0;
        for (i = 0; i < n; i++) {
            int kk = (int)out[(size_t)i * D];
            for (d = 0; d < D; d++, j++) {
                if ((j & 1u) == 0) ncsn_rng_normals(rng, z, 2);
                out[j] = fmaf(sqrtf(g->vars[(size_t)kk * D + d]), z[j & 1u], g->means[(size_t)kk * D + d]);
            }
        }
    }
    return NCSN_OK;
}

NCSNDEF void ncsn_data_two_gaussians(ncsn_rng *rng, float *out, int n)
{
    int i;
    for (i = 0; i < n; i++) out[2 * i] = ncsn_rng_uniform(rng) > 0.5f ? 3.0f : -3.0f;
    for (i = 0; i < n; i++) {
        float z[2];
        ncsn_rng_normals(rng, z, 2);
        out[2 * i] = fmaf(0.5f, z[0], out[2 * i]);
        out[2 * i + 1] = 0.5f * z[1];
    }
}

NCSNDEF void ncsn_data_swiss_roll(ncsn_rng *rng, float *out, int n)
{
    int i, c;
    /* all n uniforms, then n normals for the first column, then n for the second (numpy's order) */
    for (i = 0; i < n; i++) out[2 * i + 1] = (float)(4.71238898038468985769 * (1.0 + 2.0 * (double)ncsn_rng_uniform(rng)));
    for (i = 0; i < n; i++) {
        float t = out[2 * i + 1];
        out[2 * i] = fmaf(0.1f, ncsn_rng_normal(rng), t * ncsn_cosf(t));
    }
    for (i = 0; i < n; i++) {
        float t = out[2 * i + 1];
        out[2 * i + 1] = fmaf(0.1f, ncsn_rng_normal(rng), t * ncsn_sinf(t));
    }
    for (c = 0; c < 2; c++) {   /* standardise: (v - mean)/std, population std as numpy's */
        double mean = 0.0, var = 0.0, sd;
        for (i = 0; i < n; i++) mean += (double)out[2 * i + c];
        mean /= (double)n;
        for (i = 0; i < n; i++) { double dv = (double)out[2 * i + c] - mean; var = fma(dv, dv, var); }
        sd = sqrt(var / (double)n);
        for (i = 0; i < n; i++) out[2 * i + c] = (float)(((double)out[2 * i + c] - mean) / sd);
    }
}

static double ncsn__mean_dist(const float *a, int na, const float *b, int nb, int dim)
{
    double tot = 0.0;
    int i, j, d;
    for (i = 0; i < na; i++) {
        double row = 0.0;
        for (j = 0; j < nb; j++) {
            double q = 0.0;
            for (d = 0; d < dim; d++) {
                double v = (double)a[(size_t)i * dim + d] - (double)b[(size_t)j * dim + d];
                q = fma(v, v, q);
            }
            row += sqrt(q);
        }
        tot += row;
    }
    return tot / ((double)na * (double)nb);
}

NCSNDEF double ncsn_energy_distance(const float *a, int na, const float *b, int nb, int dim)
{
    if (!a || !b || na < 1 || nb < 1 || dim < 1) return NAN;
    return 2.0 * ncsn__mean_dist(a, na, b, nb, dim) - ncsn__mean_dist(a, na, a, na, dim) - ncsn__mean_dist(b, nb, b, nb, dim);
}

NCSNDEF ncsn_status ncsn_softmax_xent(const float *logits, const int *labels, int B, int K, float *dlogits, float *loss)
{
    double total = 0.0;
    int i, k;
    if (!logits || !labels || !loss) return ncsn__fail(NCSN_ERR_ARG, "ncsn_softmax_xent: %s = NULL", !logits ? "logits" : !labels ? "labels" : "loss");
    if (B < 1 || K < 2) return ncsn__fail(NCSN_ERR_ARG, "ncsn_softmax_xent: B = %d, K = %d: need B >= 1, K >= 2", B, K);
    for (i = 0; i < B; i++)
        if (labels[i] < 0 || labels[i] >= K) return ncsn__fail(NCSN_ERR_ARG, "ncsn_softmax_xent: labels[%d] = %d is outside [0, %d)", i, labels[i], K);
    for (i = 0; i < B; i++) {
        const float *l = logits + (size_t)i * K;
        float mx = l[0];
        double sum = 0.0;
        for (k = 1; k < K; k++) if (l[k] > mx) mx = l[k];
        if (!ncsn__isfinite(mx)) return ncsn__fail(NCSN_ERR_NONFINITE, "ncsn_softmax_xent: row %d has a logit %g", i, (double)mx);
        for (k = 0; k < K; k++) sum += (double)ncsn_expf(l[k] - mx);
        total += (double)mx + ncsn_log(sum) - (double)l[labels[i]];
        if (dlogits)
            for (k = 0; k < K; k++)
                dlogits[(size_t)i * K + k] = (float)(((double)ncsn_expf(l[k] - mx) / sum - (k == labels[i] ? 1.0 : 0.0)) / (double)B);
    }
    *loss = (float)(total / (double)B);
    return NCSN_OK;
}

/* one Jacobi rotation zeroing a[p][q] (p < q): a <- R^T a R, v <- v R */
static void ncsn__jacobi_rotate(double *a, double *v, int n, int p, int q)
{
    double apq = a[(size_t)p * n + q], theta = (a[(size_t)q * n + q] - a[(size_t)p * n + p]) / (2.0 * apq);
    double t = (theta >= 0.0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(fma(theta, theta, 1.0))), c = 1.0 / sqrt(fma(t, t, 1.0)), s = t * c;
    int k;
    for (k = 0; k < n; k++) {   /* columns p and q */
        double akp = a[(size_t)k * n + p], akq = a[(size_t)k * n + q];
        a[(size_t)k * n + p] = fma(c, akp, -(s * akq));
        a[(size_t)k * n + q] = fma(s, akp, c * akq);
    }
    for (k = 0; k < n; k++) {   /* rows p and q */
        double apk = a[(size_t)p * n + k], aqk = a[(size_t)q * n + k];
        a[(size_t)p * n + k] = fma(c, apk, -(s * aqk));
        a[(size_t)q * n + k] = fma(s, apk, c * aqk);
    }
    a[(size_t)p * n + q] = a[(size_t)q * n + p] = 0.0;
    if (v)
        for (k = 0; k < n; k++) {
            double vkp = v[(size_t)k * n + p], vkq = v[(size_t)k * n + q];
            v[(size_t)k * n + p] = fma(c, vkp, -(s * vkq));
            v[(size_t)k * n + q] = fma(s, vkp, c * vkq);
        }
}

/* evals ascending, evecs' columns with them (selection sort: n is small) */
static void ncsn__eigen_sort(double *evals, double *evecs, int n)
{
    int i, j, k;
    for (i = 0; i < n; i++) {
        int m = i;
        for (j = i + 1; j < n; j++) if (evals[j] < evals[m]) m = j;
        if (m == i) continue;
        { double e = evals[i]; evals[i] = evals[m]; evals[m] = e; }
        if (evecs)
            for (k = 0; k < n; k++) {
                double e = evecs[(size_t)k * n + i];
                evecs[(size_t)k * n + i] = evecs[(size_t)k * n + m];
                evecs[(size_t)k * n + m] = e;
            }
    }
}

NCSNDEF ncsn_status ncsn_sym_eigen(double *a, int n, double *evals, double *evecs)
{
    double norm = 0.0, off;
    size_t k;
    int p, q, sweep;
    if (!a || !evals) return ncsn__fail(NCSN_ERR_ARG, "ncsn_sym_eigen: %s = NULL", !a ? "a" : "evals");
    if (n < 1 || n > 4096) return ncsn__fail(NCSN_ERR_ARG, "ncsn_sym_eigen: n = %d must be in [1, 4096]", n);
    for (k = 0; k < (size_t)n * n; k++) {
        if (!(a[k] - a[k] == 0.0)) return ncsn__fail(NCSN_ERR_NONFINITE, "ncsn_sym_eigen: a[%lu] = %g", (unsigned long)k, a[k]);
        norm = fma(a[k], a[k], norm);
    }
    /* the stopping test compares with 1e-30 of the squared norm: an infinite norm would stop it
       at once and return the matrix's diagonal as if it were the eigenvalues */
    if (!(norm - norm == 0.0))
        return ncsn__fail(NCSN_ERR_NONFINITE, "ncsn_sym_eigen: the sum of squares of a overflows (entries up to about 1e154)");
    if (evecs)
        for (k = 0; k < (size_t)n * n; k++) evecs[k] = k % ((size_t)n + 1) == 0 ? 1.0 : 0.0;
    for (sweep = 0; ; sweep++) {
        for (off = 0.0, p = 0; p < n; p++)
            for (q = p + 1; q < n; q++) off = fma(2.0 * a[(size_t)p * n + q], a[(size_t)p * n + q], off);
        if (off <= 1e-30 * norm) break;
        if (sweep == 100)
            return ncsn__fail(NCSN_ERR_NONFINITE, "ncsn_sym_eigen: no convergence in 100 sweeps (off-diagonal %g of %g)", off, norm);
        for (p = 0; p < n; p++)
            for (q = p + 1; q < n; q++)
                if (a[(size_t)p * n + q] != 0.0) ncsn__jacobi_rotate(a, evecs, n, p, q);
    }
    for (p = 0; p < n; p++) evals[p] = a[(size_t)p * n + p];
    ncsn__eigen_sort(evals, evecs, n);
    return NCSN_OK;
}

/* mean [dim] and covariance [dim][dim] (divisor n - 1) of x[n][dim], in double */
static void ncsn__moments(const float *x, int n, int dim, double *mu, double *cov)
{
    int i, j, k;
    for (j = 0; j < dim; j++) mu[j] = 0.0;
    for (i = 0; i < n; i++) for (j = 0; j < dim; j++) mu[j] += (double)x[(size_t)i * dim + j];
    for (j = 0; j < dim; j++) mu[j] /= (double)n;
    memset(cov, 0, sizeof(double) * (size_t)dim * dim);
    for (i = 0; i < n; i++)
        for (j = 0; j < dim; j++) {
            double dj = (double)x[(size_t)i * dim + j] - mu[j];
            for (k = 0; k <= j; k++) cov[(size_t)j * dim + k] = fma(dj, (double)x[(size_t)i * dim + k] - mu[k], cov[(size_t)j * dim + k]);
        }
    for (j = 0; j < dim; j++)
        for (k = 0; k <= j; k++) cov[(size_t)k * dim + j] = cov[(size_t)j * dim + k] /= (double)(n - 1);
}

/* out = a b for dim x dim matrices */
static void ncsn__matmul_d(double *out, const double *a, const double *b, int dim)
{
    int i, j, k;
    for (i = 0; i < dim; i++)
        for (j = 0; j < dim; j++) {
            double acc = 0.0;
            for (k = 0; k < dim; k++) acc = fma(a[(size_t)i * dim + k], b[(size_t)k * dim + j], acc);
            out[(size_t)i * dim + j] = acc;
        }
}

NCSNDEF ncsn_status ncsn_frechet_distance(const float *a, int na, const float *b, int nb, int dim, double *fd)
{
    size_t D2;
    double *w, *mua, *mub, *ca, *cb, *v, *s, *t, *ev, d = 0.0, tr = 0.0;
    ncsn_status st;
    int i, j;
    if (!a || !b || !fd) return ncsn__fail(NCSN_ERR_ARG, "ncsn_frechet_distance: %s = NULL", !a ? "a" : !b ? "b" : "fd");
    if (na < 2 || nb < 2 || dim < 1 || dim > 4096)
        return ncsn__fail(NCSN_ERR_ARG, "ncsn_frechet_distance: na = %d, nb = %d, dim = %d: need na, nb >= 2 and dim in [1, 4096]", na, nb, dim);
    D2 = (size_t)dim * dim;
    if ((w = NCSN__ALLOC_N(double, 5 * D2 + 3 * (size_t)dim)) == NULL) return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_frechet_distance: out of memory");
    ca = w; cb = ca + D2; v = cb + D2; s = v + D2; t = s + D2; mua = t + D2; mub = mua + dim; ev = mub + dim;
    ncsn__moments(a, na, dim, mua, ca);
    ncsn__moments(b, nb, dim, mub, cb);
    for (i = 0; i < dim; i++) {
        d = fma(mua[i] - mub[i], mua[i] - mub[i], d);
        d += ca[(size_t)i * dim + i];
        d += cb[(size_t)i * dim + i];
    }
    if ((st = ncsn_sym_eigen(ca, dim, ev, v)) == NCSN_OK) {
        for (i = 0; i < dim; i++) ev[i] = ev[i] > 0.0 ? sqrt(ev[i]) : 0.0;
        for (i = 0; i < dim; i++)   /* t = V diag(sqrt l) */
            for (j = 0; j < dim; j++) t[(size_t)i * dim + j] = v[(size_t)i * dim + j] * ev[j];
        for (i = 0; i < dim; i++)   /* s = C_a^(1/2) = t V^T */
            for (j = 0; j <= i; j++) {
                double acc = 0.0;
                int k;
                for (k = 0; k < dim; k++) acc = fma(t[(size_t)i * dim + k], v[(size_t)j * dim + k], acc);
                s[(size_t)i * dim + j] = s[(size_t)j * dim + i] = acc;
            }
        ncsn__matmul_d(t, s, cb, dim);
        ncsn__matmul_d(v, t, s, dim);   /* C_a^(1/2) C_b C_a^(1/2), symmetric up to rounding */
        for (i = 0; i < dim; i++)
            for (j = 0; j < i; j++) v[(size_t)i * dim + j] = v[(size_t)j * dim + i] = 0.5 * (v[(size_t)i * dim + j] + v[(size_t)j * dim + i]);
        if ((st = ncsn_sym_eigen(v, dim, ev, NULL)) == NCSN_OK)
            for (i = 0; i < dim; i++) tr += ev[i] > 0.0 ? sqrt(ev[i]) : 0.0;
    }
    NCSN_FREE(w);
    if (st != NCSN_OK) return st;
    *fd = fma(-2.0, tr, d);
    return NCSN_OK;
}

static const float ncsn__toy_w[2] = { 0.2f, 0.8f };
static const float ncsn__toy_mu[4] = { -5.0f, -5.0f, 5.0f, 5.0f };
static const float ncsn__unit_var[4] = { 1.0f, 1.0f, 1.0f, 1.0f };
static const ncsn_gmm ncsn__toy = { 2, 2, ncsn__toy_w, ncsn__toy_mu, ncsn__unit_var };
static const float ncsn__two_w[2] = { 0.5f, 0.5f };
static const float ncsn__two_mu[4] = { -3.0f, 0.0f, 3.0f, 0.0f };
static const float ncsn__two_var[4] = { 0.25f, 0.25f, 0.25f, 0.25f };
static const ncsn_gmm ncsn__two = { 2, 2, ncsn__two_w, ncsn__two_mu, ncsn__two_var };
NCSNDEF const ncsn_gmm *ncsn_gmm_toy(void) { return &ncsn__toy; }
NCSNDEF const ncsn_gmm *ncsn_gmm_two_gaussians(void) { return &ncsn__two; }

/* ---- 14. safetensors ------------------------------------------------------------------------------
   8-byte little-endian header length N, N bytes of JSON, then the raw little-endian data. The
   parser accepts only what it needs, bounds every read, and never allocates more than the file.
   Checkpoints are safetensors files with more tensors and metadata; CSV data is parsed with limits
   on bytes, line length, rows and columns. Writers are atomic (temporary file, fsync, rename). */
#define NCSN__ST_MAX_HEADER (16u << 20)

typedef struct ncsn__json { const char *p, *end; int depth; } ncsn__json;

static void ncsn__js_ws(ncsn__json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int ncsn__js_eat(ncsn__json *j, char c)
{
    ncsn__js_ws(j);
    if (j->p < j->end && *j->p == c) { j->p++; return 1; }
    return 0;
}

/* a JSON string into buf (escapes decoded, \u to '?' outside ASCII); 0 on error or overflow.
   buf = NULL: only check the string's syntax (any length). */
static int ncsn__js_str(ncsn__json *j, char *buf, size_t cap)
{
    size_t n = 0;
    if (!ncsn__js_eat(j, '"')) return 0;
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if ((unsigned char)c < 0x20) return 0;
        if (c == '\\') {
            if (j->p >= j->end) return 0;
            c = *j->p++;
            switch (c) {
            case '"': case '\\': case '/': break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                unsigned v = 0;
                int i;
                if (j->end - j->p < 4) return 0;
                for (i = 0; i < 4; i++) {
                    char h = *j->p++;
                    v <<= 4;
                    if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
                    else return 0;
                }
                c = v < 0x80 && v != 0 ? (char)v : '?';
                break;
            }
            default: return 0;
            }
        }
        if (buf) {
            if (n + 1 >= cap) return 0;
            buf[n] = c;
        }
        n++;
    }
    if (j->p >= j->end) return 0;
    j->p++;
    if (buf) buf[n] = 0;
    return 1;
}

static int ncsn__js_uint(ncsn__json *j, uint64_t *out)
{
    uint64_t v = 0;
    int digits = 0;
    ncsn__js_ws(j);
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        if (v > (UINT64_MAX - 9) / 10) return 0;
        v = v * 10 + (uint64_t)(*j->p++ - '0');
        digits++;
    }
    *out = v;
    return digits > 0;
}

/* skip any JSON value (bounded depth) */
static int ncsn__js_skip(ncsn__json *j)
{
    ncsn__js_ws(j);
    if (j->p >= j->end) return 0;
    if (*j->p == '"') {
        const char *s = j->p + 1;
        for (; s < j->end && *s != '"'; s++) if (*s == '\\') s++;
        if (s >= j->end) return 0;
        j->p = s + 1;
        return 1;
    }
    if (*j->p == '{' || *j->p == '[') {
        char close = *j->p == '{' ? '}' : ']';
        int obj = *j->p == '{';
        if (++j->depth > 32) return 0;
        j->p++;
        if (ncsn__js_eat(j, close)) { j->depth--; return 1; }
        for (;;) {
            if (obj) {
                ncsn__js_ws(j);
                if (j->p < j->end && *j->p == '"') { if (!ncsn__js_skip(j)) return 0; } else return 0;
                if (!ncsn__js_eat(j, ':')) return 0;
            }
            if (!ncsn__js_skip(j)) return 0;
            if (ncsn__js_eat(j, ',')) continue;
            if (ncsn__js_eat(j, close)) { j->depth--; return 1; }
            return 0;
        }
    }
    {   /* true, false, null or a number (at least one digit) */
        static const char *const lit[3] = { "true", "false", "null" };
        const char *s = j->p;
        int i;
        for (i = 0; i < 3; i++) {
            size_t n = strlen(lit[i]);
            if ((size_t)(j->end - s) >= n && memcmp(s, lit[i], n) == 0) { j->p = s + n; return 1; }
        }
        if (*s == '-') s++;
        if (s >= j->end || *s < '0' || *s > '9') return 0;
        while (s < j->end && ((*s >= '0' && *s <= '9') || *s == '.' || *s == 'e' || *s == 'E' || *s == '+' || *s == '-')) s++;
        j->p = s;
        return 1;
    }
}

typedef struct ncsn__st_entry {
    char name[64];
    int ndim;
    uint64_t shape[2];
    uint64_t begin, end;
} ncsn__st_entry;

#define NCSN__ST_MAX_ENTRIES 256
#define NCSN__ST_MAX_META 256

typedef struct ncsn__st_file {
    int n;
    ncsn__st_entry e[NCSN__ST_MAX_ENTRIES];
    int n_meta;
    const char *meta_k[NCSN__ST_MAX_META], *meta_v[NCSN__ST_MAX_META];  /* at each JSON string's quote */
    const char *hdr_end;
    const unsigned char *data;
    uint64_t data_len;
} ncsn__st_file;

/* The format requires the tensors to cover the data buffer exactly: sorted by offset, each begins
   where the one before ends and the last ends with the file. So no byte is read as two tensors (a
   checkpoint's moments aliasing the weights) and no byte is unindexed (a hidden payload). */
static ncsn_status ncsn__st_coverage(const ncsn__st_file *f)
{
    int ord[NCSN__ST_MAX_ENTRIES], i, k;
    uint64_t pos = 0;
    for (i = 0; i < f->n; i++) {   /* insertion sort by (begin, end): at most 256 entries */
        const ncsn__st_entry *e = &f->e[i];
        for (k = i; k > 0 && (f->e[ord[k - 1]].begin > e->begin || (f->e[ord[k - 1]].begin == e->begin && f->e[ord[k - 1]].end > e->end)); k--)
            ord[k] = ord[k - 1];
        ord[k] = i;
    }
    for (i = 0; i < f->n; i++) {
        const ncsn__st_entry *e = &f->e[ord[i]];
        if (e->begin < pos)
            return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap", f->e[ord[i - 1]].name,
                              (unsigned long long)f->e[ord[i - 1]].begin, (unsigned long long)pos, e->name, (unsigned long long)e->begin,
                              (unsigned long long)e->end);
        if (e->begin > pos) break;
        pos = e->end;
    }
    if (pos != f->data_len)
        return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: data bytes [%llu, %llu) belong to no tensor (the tensors must cover the data exactly)",
                          (unsigned long long)pos, (unsigned long long)(i < f->n ? f->e[ord[i]].begin : f->data_len));
    return NCSN_OK;
}

/* The __metadata__ object, after its key: where each key and value is (decoded when asked for). */
static ncsn_status ncsn__st_parse_meta(ncsn__st_file *f, ncsn__json *j)
{
    if (!ncsn__js_eat(j, '{')) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: __metadata__ is not an object");
    if (ncsn__js_eat(j, '}')) return NCSN_OK;
    for (;;) {
        const char *kp, *vp;
        ncsn__js_ws(j);
        kp = j->p;
        if (!ncsn__js_str(j, NULL, 0) || !ncsn__js_eat(j, ':'))
            return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: __metadata__ must map strings to strings");
        ncsn__js_ws(j);
        vp = j->p;
        if (!ncsn__js_str(j, NULL, 0))
            return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: __metadata__ must map strings to strings");
        if (f->n_meta >= NCSN__ST_MAX_META)
            return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: more than %d __metadata__ entries", NCSN__ST_MAX_META);
        f->meta_k[f->n_meta] = kp;
        f->meta_v[f->n_meta] = vp;
        f->n_meta++;
        if (ncsn__js_eat(j, ',')) continue;
        if (ncsn__js_eat(j, '}')) return NCSN_OK;
        return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: unterminated __metadata__");
    }
}

/* A tensor's "shape" value: a list of 1 or 2 sizes (or none, a scalar). */
static ncsn_status ncsn__st_parse_shape(ncsn__json *j, ncsn__st_entry *e)
{
    if (!ncsn__js_eat(j, '[')) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s': shape is not a list", e->name);
    e->ndim = 0;
    if (ncsn__js_eat(j, ']')) return NCSN_OK;
    for (;;) {
        uint64_t v;
        if (e->ndim >= 2 || !ncsn__js_uint(j, &v) || v > (1u << 30))
            return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s': shape must be 1 or 2 sizes <= 2^30", e->name);
        e->shape[e->ndim++] = v;
        if (ncsn__js_eat(j, ',')) continue;
        if (ncsn__js_eat(j, ']')) return NCSN_OK;
        return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s': bad shape", e->name);
    }
}

/* One field of a tensor's object, after its key k: dtype (F32 only), shape, data_offsets; others skipped. */
static ncsn_status ncsn__st_parse_field(ncsn__json *j, ncsn__st_entry *e, const char *k, int *have)
{
    const char *key = e->name;
    if (strcmp(k, "dtype") == 0) {
        char dt[16];
        if (!ncsn__js_str(j, dt, sizeof dt)) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s': bad dtype", key);
        if (strcmp(dt, "F32") != 0) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s' has dtype %s; only F32 is supported", key, dt);
        *have |= 1;
    } else if (strcmp(k, "shape") == 0) {
        ncsn_status st = ncsn__st_parse_shape(j, e);
        if (st != NCSN_OK) return st;
        *have |= 2;
    } else if (strcmp(k, "data_offsets") == 0) {
        if (!ncsn__js_eat(j, '[') || !ncsn__js_uint(j, &e->begin) || !ncsn__js_eat(j, ',') ||
            !ncsn__js_uint(j, &e->end) || !ncsn__js_eat(j, ']'))
            return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s': data_offsets must be [begin, end]", key);
        *have |= 4;
    } else if (!ncsn__js_skip(j)) {
        return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s': bad value of '%s'", key, k);
    }
    return NCSN_OK;
}

/* A tensor's object, after its key: all three fields, and offsets that hold its floats in the data. */
static ncsn_status ncsn__st_parse_tensor(ncsn__st_file *f, ncsn__json *j, const char *key)
{
    ncsn__st_entry *e;
    int have = 0, d;
    uint64_t count = 1;
    ncsn_status st;
    if (f->n >= NCSN__ST_MAX_ENTRIES) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: more than %d tensors", NCSN__ST_MAX_ENTRIES);
    e = &f->e[f->n++];
    strcpy(e->name, key);
    if (!ncsn__js_eat(j, '{')) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s' is not an object", key);
    if (!ncsn__js_eat(j, '}'))
        for (;;) {
            char k2[32];
            if (!ncsn__js_str(j, k2, sizeof k2) || !ncsn__js_eat(j, ':'))
                return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s': bad field", key);
            if ((st = ncsn__st_parse_field(j, e, k2, &have)) != NCSN_OK) return st;
            if (ncsn__js_eat(j, ',')) continue;
            if (ncsn__js_eat(j, '}')) break;
            return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s': unterminated object", key);
        }
    if (have != 7) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s' lacks dtype, shape or data_offsets", key);
    for (d = 0; d < e->ndim; d++) count *= e->shape[d];  /* <= 2^60: no overflow */
    if (e->begin > e->end || e->end > f->data_len || e->end - e->begin != count * 4u) {
        char within[48] = "";   /* the size is not known yet when only the header has been read */
        if (f->data_len != UINT64_MAX) snprintf(within, sizeof within, " within %llu data bytes", (unsigned long long)f->data_len);
        return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s': data_offsets [%llu, %llu] do not hold %llu floats%s%s",
                          key, (unsigned long long)e->begin, (unsigned long long)e->end, (unsigned long long)count, within,
                          e->begin > e->end ? " (the end is before the begin)" : "");
    }
    return NCSN_OK;
}

/* The header's top-level object: tensors and at most one __metadata__, then nothing but white space. */
static ncsn_status ncsn__st_parse_header(ncsn__st_file *f, ncsn__json *j, const unsigned char *buf)
{
    int have_meta = 0;
    ncsn_status st;
    if (!ncsn__js_eat(j, '{')) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: header is not a JSON object");
    if (!ncsn__js_eat(j, '}'))
        for (;;) {
            char key[64];
            if (!ncsn__js_str(j, key, sizeof key) || !ncsn__js_eat(j, ':'))
                return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: bad key in header near byte %ld", (long)(j->p - (const char *)buf));
            if (strcmp(key, "__metadata__") == 0) {
                if (have_meta) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: two __metadata__ objects");
                have_meta = 1;
                st = ncsn__st_parse_meta(f, j);
            } else {
                st = ncsn__st_parse_tensor(f, j, key);
            }
            if (st != NCSN_OK) return st;
            if (ncsn__js_eat(j, ',')) continue;
            if (ncsn__js_eat(j, '}')) break;
            return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: header object is not terminated");
        }
    ncsn__js_ws(j);
    if (j->p != j->end) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: trailing bytes after the header object");
    return NCSN_OK;
}

static ncsn_status ncsn__st_parse(ncsn__st_file *f, const unsigned char *buf, size_t len)
{
    uint64_t hlen = 0;
    ncsn__json j;
    int i, k;
    ncsn_status st;
    memset(f, 0, sizeof *f);
    if (!buf || len < 8) return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: file of %lu bytes is too short for a header", (unsigned long)len);
    for (i = 7; i >= 0; i--) hlen = (hlen << 8) | buf[i];
    if (hlen < 2 || hlen > NCSN__ST_MAX_HEADER || hlen > len - 8)
        return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: header length %llu does not fit the file (%lu bytes) or the limit %u",
                          (unsigned long long)hlen, (unsigned long)len, NCSN__ST_MAX_HEADER);
    f->data = buf + 8 + hlen;
    f->data_len = (uint64_t)len - 8 - hlen;
    j.p = (const char *)buf + 8;
    j.end = j.p + hlen;
    j.depth = 0;
    f->hdr_end = j.end;
    if ((st = ncsn__st_parse_header(f, &j, buf)) != NCSN_OK) return st;
    for (i = 0; i < f->n; i++)
        for (k = i + 1; k < f->n; k++)
            if (strcmp(f->e[i].name, f->e[k].name) == 0)
                return ncsn__fail(NCSN_ERR_FORMAT, "safetensors: tensor '%s' appears twice", f->e[i].name);
    return ncsn__st_coverage(f);
}

/* a metadata value into buf: 1 found, 0 absent, -1 error (key twice, value too long; message set) */
static int ncsn__st_meta_get(const ncsn__st_file *f, const char *key, char *buf, size_t cap)
{
    int i, found = -1;
    ncsn__json j;
    j.end = f->hdr_end;
    j.depth = 0;
    for (i = 0; i < f->n_meta; i++) {
        char k[64];
        j.p = f->meta_k[i];
        if (!ncsn__js_str(&j, k, sizeof k) || strcmp(k, key) != 0) continue;
        if (found >= 0) { ncsn__fail(NCSN_ERR_FORMAT, "safetensors: __metadata__ key '%s' appears twice", key); return -1; }
        found = i;
    }
    if (found < 0) return 0;
    j.p = f->meta_v[found];
    if (!ncsn__js_str(&j, buf, cap)) {
        ncsn__fail(NCSN_ERR_FORMAT, "safetensors: __metadata__ '%s' is longer than %lu bytes", key, (unsigned long)cap - 1);
        return -1;
    }
    return 1;
}

static const ncsn__st_entry *ncsn__st_find(const ncsn__st_file *f, const char *name)
{
    int i;
    for (i = 0; i < f->n; i++) if (strcmp(f->e[i].name, name) == 0) return &f->e[i];
    return NULL;
}

static int ncsn__parse_int(const char *s, int *out)
{
    long v = 0;
    if (!s || !*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT_MAX - (*s - '0')) / 10) return 0;
        v = v * 10 + (*s - '0');
    }
    *out = (int)v;
    return 1;
}

static int ncsn__parse_step(const char *s, long *out)   /* decimal in [0, NCSN_MAX_STEP], what the saver writes */
{
    long v = 0;
    if (!s || !*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (NCSN_MAX_STEP - (*s - '0')) / 10) return 0;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 1;
}

static int ncsn__parse_hex64(const char *s, uint64_t *out)  /* "0x" and 1..16 hex digits */
{
    uint64_t v = 0;
    int d = 0;
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return 0;
    for (s += 2; *s; s++, d++) {
        int h = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;
        if (h < 0 || d >= 16) return 0;
        v = (v << 4) | (uint64_t)h;
    }
    *out = v;
    return d > 0;
}

/* ---- floats as text, whatever LC_NUMERIC says: the "C" locale's forms, exactly ----
   strtof and printf follow the locale (a decimal comma under de_DE), so the files would change
   with the caller's setlocale(). These convert exactly with integer arithmetic: a small bignum. */
#define NCSN__BIG_LIMBS 40
typedef struct ncsn__big { uint32_t d[NCSN__BIG_LIMBS]; int n; } ncsn__big;   /* little-endian, no zero top limb */

static void ncsn__big_mul_add(ncsn__big *b, uint32_t mul, uint32_t add)   /* b = b * mul + add */
{
    uint64_t c = add;
    int i;
    for (i = 0; i < b->n; i++) {
        c += (uint64_t)b->d[i] * mul;
        b->d[i] = (uint32_t)c;
        c >>= 32;
    }
    if (c) {
        NCSN_ASSERT(b->n < NCSN__BIG_LIMBS);
        b->d[b->n++] = (uint32_t)c;
    }
}

static uint32_t ncsn__big_divmod(ncsn__big *b, uint32_t div)   /* b /= div; returns the remainder */
{
    uint64_t r = 0;
    int i;
    for (i = b->n - 1; i >= 0; i--) {
        r = (r << 32) | b->d[i];
        b->d[i] = (uint32_t)(r / div);
        r %= div;
    }
    while (b->n > 0 && b->d[b->n - 1] == 0) b->n--;
    return (uint32_t)r;
}

static void ncsn__big_shl(ncsn__big *b, int s)
{
    uint32_t t[NCSN__BIG_LIMBS];
    int w = s / 32, r = s % 32, i, n = b->n + w + 1;
    if (b->n == 0) return;
    NCSN_ASSERT(n <= NCSN__BIG_LIMBS);
    memset(t, 0, sizeof t);
    for (i = 0; i < b->n; i++) {
        t[i + w] |= b->d[i] << r;
        if (r) t[i + w + 1] |= b->d[i] >> (32 - r);
    }
    memcpy(b->d, t, sizeof(uint32_t) * (size_t)n);
    b->n = n;
    while (b->n > 0 && b->d[b->n - 1] == 0) b->n--;
}

static int ncsn__big_bits(const ncsn__big *b)
{
    int k = 0;
    uint32_t top;
    if (b->n == 0) return 0;
    for (top = b->d[b->n - 1]; top; top >>= 1) k++;
    return 32 * (b->n - 1) + k;
}

static uint32_t ncsn__big_bit(const ncsn__big *b, int k) { return k / 32 < b->n ? (b->d[k / 32] >> (k % 32)) & 1u : 0u; }

static int ncsn__big_any_below(const ncsn__big *b, int k)   /* a set bit below bit k */
{
    int i;
    for (i = 0; i < k / 32 && i < b->n; i++) if (b->d[i]) return 1;
    return k % 32 && k / 32 < b->n && (b->d[k / 32] & ((1u << (k % 32)) - 1u)) != 0;
}

#define NCSN__TXT_K 160   /* values are scaled by 2^K: resolves 2^-150, half the smallest subnormal */

/* the float nearest to (q + a bit of sticky) * 2^-K, ties to even */
static float ncsn__big_to_f32(const ncsn__big *q, int sticky)
{
    int b = ncsn__big_bits(q), e2 = b - 1 - NCSN__TXT_K, shift, i;
    uint32_t mant = 0;
    if (b == 0) return 0.0f;
    if (e2 > 127) return ncsn__u2f(0x7f800000u);
    shift = e2 >= -126 ? b - 24 : NCSN__TXT_K - 149;   /* the bit worth one unit in the last place */
    NCSN_ASSERT(shift >= 1);
    for (i = 0; i < 24; i++) mant |= ncsn__big_bit(q, shift + i) << i;
    if (ncsn__big_bit(q, shift - 1) && (sticky || ncsn__big_any_below(q, shift - 1) || (mant & 1u))) mant++;
    if (e2 < -126) return ncsn__u2f(mant);   /* subnormal (2^23: the smallest normal) */
    if (mant == 1u << 24) { mant >>= 1; e2++; }
    if (e2 > 127) return ncsn__u2f(0x7f800000u);
    return ncsn__u2f(((uint32_t)(e2 + 127) << 23) | (mant & 0x7fffffu));
}

#define NCSN__TXT_DIGITS 200   /* significant digits kept: a float midpoint has at most 113 */

/* D * 10^e10 (+ sticky), D the nd digits dig[] (values 0..9, no leading zero) */
static float ncsn__dec_to_f32(const unsigned char *dig, int nd, long e10, int sticky)
{
    static const double p10[23] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    ncsn__big q;
    int i;
    if (nd == 0) return 0.0f;
    if (nd + e10 > 40) return ncsn__u2f(0x7f800000u);   /* >= 10^40 */
    if (nd + e10 < -45) return 0.0f;                     /* < 10^-46 < 2^-150 */
    if (nd <= 15 && !sticky && e10 >= -22 && e10 <= 22) {
        /* one correctly rounded double operation on exact operands, then to float: the same as one
           rounding unless the double lands exactly halfway between two floats */
        uint64_t w = 0;
        double d, lo, hi;
        float f;
        for (i = 0; i < nd; i++) w = w * 10u + dig[i];
        d = e10 >= 0 ? (double)w * p10[e10] : (double)w / p10[-e10];
        f = (float)d;
        if ((double)f == d) return f;
        lo = (double)f < d ? (double)f : (double)ncsn__u2f(ncsn__f2u(f) - 1u);
        hi = (double)f < d ? (double)ncsn__u2f(ncsn__f2u(f) + 1u) : (double)f;
        if ((lo + hi) * 0.5 != d) return f;
    }
    q.n = 0;
    for (i = 0; i < nd;) {   /* nine digits at a time */
        uint32_t chunk = 0, mul = 1;
        int k;
        for (k = 0; k < 9 && i < nd; k++, i++) { chunk = chunk * 10u + dig[i]; mul *= 10u; }
        ncsn__big_mul_add(&q, mul, chunk);
    }
    for (; e10 > 0; e10--) ncsn__big_mul_add(&q, 10u, 0u);
    ncsn__big_shl(&q, NCSN__TXT_K);
    for (; e10 < 0; e10 += 9) sticky |= ncsn__big_divmod(&q, e10 <= -9 ? 1000000000u : (uint32_t)p10[-e10]) != 0;
    return ncsn__big_to_f32(&q, sticky);
}

/* h * 2^e2 (+ sticky) */
static float ncsn__hex_to_f32(uint64_t h, long e2, int sticky)
{
    ncsn__big q;
    int hb = 0;
    long t = e2 + NCSN__TXT_K;
    uint64_t x;
    for (x = h; x; x >>= 1) hb++;
    if (h == 0) return 0.0f;
    if (hb + e2 > 130) return ncsn__u2f(0x7f800000u);
    if (hb + e2 < -151) return 0.0f;
    if (t < 0) {   /* hb + t >= 9: some bits stay */
        sticky |= (h & (((uint64_t)1 << -t) - 1u)) != 0;
        h >>= -t;
        t = 0;
    }
    q.d[0] = (uint32_t)h;
    q.d[1] = (uint32_t)(h >> 32);
    q.n = q.d[1] ? 2 : 1;
    ncsn__big_shl(&q, (int)t);
    return ncsn__big_to_f32(&q, sticky);
}

static int ncsn__hexval(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }
static int ncsn__starts_ci(const char *s, const char *w)   /* s begins with w, ASCII case ignored */
{
    for (; *w; s++, w++) if ((*s | 0x20) != *w) return 0;
    return 1;
}

/* [pP][+-]digits after a hex mantissa, [eE][+-]digits after a decimal one; absent: 0 */
static long ncsn__txt_exponent(const char **pp, char letter)
{
    const char *p = *pp;
    long e = 0;
    int neg = 0;
    if ((*p | 0x20) != letter) return 0;
    p++;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (*p < '0' || *p > '9') return 0;   /* "1e" or "1e+": the number ends before the letter */
    for (; *p >= '0' && *p <= '9'; p++) if (e < 100000000L) e = e * 10 + (*p - '0');
    *pp = p;
    return neg ? -e : e;
}

static const char *ncsn__parse_hex_f32(const char *p, float *out)   /* p after "0x" */
{
    uint64_t h = 0;
    long e2 = 0;
    int hd = 0, sticky = 0, frac = 0, any = 0, v;
    for (;; p++) {
        if (*p == '.' && !frac) { frac = 1; continue; }
        if ((v = ncsn__hexval(*p)) < 0) break;
        any = 1;
        if (h == 0 && v == 0) { e2 -= frac ? 4 : 0; continue; }
        if (hd < 15) { h = (h << 4) | (uint64_t)v; hd++; e2 -= frac ? 4 : 0; }
        else { e2 += frac ? 0 : 4; sticky |= v != 0; }
    }
    if (!any) return NULL;
    e2 += ncsn__txt_exponent(&p, 'p');
    *out = ncsn__hex_to_f32(h, e2, sticky);
    return p;
}

static const char *ncsn__parse_dec_f32(const char *p, float *out)
{
    unsigned char dig[NCSN__TXT_DIGITS];
    int nd = 0, sticky = 0, frac = 0, any = 0;
    long e10 = 0;
    for (;; p++) {
        if (*p == '.' && !frac) { frac = 1; continue; }
        if (*p < '0' || *p > '9') break;
        any = 1;
        if (nd == 0 && *p == '0') { e10 -= frac; continue; }
        if (nd < NCSN__TXT_DIGITS) { dig[nd++] = (unsigned char)(*p - '0'); e10 -= frac; }
        else { e10 += !frac; sticky |= *p != '0'; }
    }
    if (!any) return NULL;
    while (nd > 0 && dig[nd - 1] == 0) { nd--; e10++; }
    e10 += ncsn__txt_exponent(&p, 'e');
    *out = ncsn__dec_to_f32(dig, nd, e10, sticky);
    return p;
}

NCSNDEF float ncsn_strtof(const char *s, char **end)
{
    const char *p = s, *q = NULL;
    float v = 0.0f;
    int neg = 0;
    if (end) *end = (char *)s;   /* no conversion */
    if (!s) return 0.0f;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r')) p++;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (ncsn__starts_ci(p, "inf")) {
        q = p + (ncsn__starts_ci(p, "infinity") ? 8 : 3);
        v = ncsn__u2f(0x7f800000u);
    } else if (ncsn__starts_ci(p, "nan")) {
        const char *r = p + 3;
        q = r;
        if (*r == '(') {   /* nan(n-char-sequence) */
            for (r++; (*r >= '0' && *r <= '9') || ((*r | 0x20) >= 'a' && (*r | 0x20) <= 'z') || *r == '_'; r++) {}
            if (*r == ')') q = r + 1;
        }
        v = ncsn__u2f(0x7fc00000u);
    } else {
        if (p[0] == '0' && (p[1] | 0x20) == 'x') q = ncsn__parse_hex_f32(p + 2, &v);
        if (!q) q = ncsn__parse_dec_f32(p, &v);   /* "0x" without hex digits is the number 0 */
    }
    if (!q) return 0.0f;
    if (end) *end = (char *)q;
    return neg ? -v : v;
}

/* the decimal digits of b (destroyed), most significant first; their count */
static int ncsn__big_digits(ncsn__big *b, char *dig)
{
    char rev[NCSN__BIG_LIMBS * 10];
    int n = 0, i, k;
    while (b->n > 0) {
        uint32_t r = ncsn__big_divmod(b, 1000000000u);
        for (k = 0; k < 9; k++, r /= 10u) rev[n++] = (char)('0' + r % 10u);
    }
    while (n > 1 && rev[n - 1] == '0') n--;
    for (i = 0; i < n; i++) dig[i] = rev[n - 1 - i];
    return n;
}

/* dig[0..nd) * 10^(X - nd + 1) rounded to prec digits, ties to even (the digits are exact); *nd and
   *X updated, trailing zeros dropped */
static void ncsn__round_digits(char *dig, int *nd, int *X, int prec)
{
    int i, up, tail = 0;
    if (*nd > prec) {
        for (i = prec + 1; i < *nd; i++) tail |= dig[i] != '0';
        up = dig[prec] > '5' || (dig[prec] == '5' && (tail || ((dig[prec - 1] - '0') & 1)));
        *nd = prec;
        if (up) {
            for (i = prec - 1; i >= 0 && dig[i] == '9'; i--) dig[i] = '0';
            if (i >= 0) dig[i]++;
            else { dig[0] = '1'; ++*X; }
        }
    }
    while (*nd > 1 && dig[*nd - 1] == '0') --*nd;
}

NCSNDEF int ncsn_format_f32(char *buf, size_t cap, float v, int precision)
{
    static const uint32_t p5[13] = { 1u, 5u, 25u, 125u, 625u, 3125u, 15625u, 78125u, 390625u, 1953125u, 9765625u, 48828125u, 244140625u };
    char dig[NCSN__BIG_LIMBS * 10], out[192];
    uint32_t u = ncsn__f2u(v), mant = u & 0x7fffffu;
    int ex = (int)((u >> 23) & 0xffu), k = 0, i, nd, X;
    if (!buf || cap == 0) return -1;
    buf[0] = 0;
    if (precision < 1 || precision > 120) return -1;
    if (u >> 31) out[k++] = '-';
    if (ex == 255) { memcpy(out + k, mant ? "nan" : "inf", 3); k += 3; }
    else if (ex == 0 && mant == 0) out[k++] = '0';
    else {
        ncsn__big b;
        int e2 = ex ? ex - 150 : -149;
        b.d[0] = ex ? mant | 0x800000u : mant;
        b.n = 1;
        if (e2 > 0) ncsn__big_shl(&b, e2);
        for (i = -e2; i > 0; i -= 12) ncsn__big_mul_add(&b, p5[i < 12 ? i : 12], 0u);   /* m 2^e2 = m 5^-e2 10^e2 */
        dig[0] = '0';   /* b > 0 gives at least one digit; aarch64/armhf gcc 12 -O2 cannot see that (-Wmaybe-uninitialized) */
        nd = ncsn__big_digits(&b, dig);
        X = nd - 1 + (e2 < 0 ? e2 : 0);   /* the value is d.ddd 10^X */
        ncsn__round_digits(dig, &nd, &X, precision);
        if (X < -4 || X >= precision) {   /* d.ddde+XX */
            int ax = X < 0 ? -X : X;
            out[k++] = dig[0];
            if (nd > 1) { out[k++] = '.'; memcpy(out + k, dig + 1, (size_t)nd - 1); k += nd - 1; }
            k += sprintf(out + k, "e%c%02d", X < 0 ? '-' : '+', ax);
        } else if (X >= 0) {              /* ddd.ddd */
            for (i = 0; i <= X; i++) out[k++] = i < nd ? dig[i] : '0';
            if (nd > X + 1) { out[k++] = '.'; memcpy(out + k, dig + X + 1, (size_t)(nd - X - 1)); k += nd - X - 1; }
        } else {                          /* 0.000ddd */
            out[k++] = '0';
            out[k++] = '.';
            for (i = X + 1; i < 0; i++) out[k++] = '0';
            memcpy(out + k, dig, (size_t)nd);
            k += nd;
        }
    }
    if ((size_t)k >= cap) return -1;
    memcpy(buf, out, (size_t)k);
    buf[k] = 0;
    return k;
}

/* a whole string as a finite float: 1; not a number: 0; a number but not a finite float: -1 */
static int ncsn__parse_f32(const char *s, float *out)
{
    char *e;
    float v;
    if (!s || !*s || *s == ' ' || *s == '\t') return 0;
    v = ncsn_strtof(s, &e);
    if (e == s || *e) return 0;
    if (!ncsn__isfinite(v)) return -1;
    *out = v;
    return 1;
}

/* a tensor of the file into a buffer with the model's layout (weights [out][in] -> [in][out]);
   *bad = 1 if a value is not finite (then *bad_r, *bad_c say where) */
static void ncsn__st_get_tensor(const ncsn__st_file *f, const ncsn__st_entry *e, const ncsn_tensor *T, float *dst,
                                int *bad, int *bad_r, int *bad_c)
{
    int r, c, cols = T->cols ? T->cols : 1;
    *bad = 0;
    for (r = 0; r < T->rows; r++)
        for (c = 0; c < cols; c++) {
            float val = ncsn__le_f32(f->data + e->begin + 4u * ((size_t)r * cols + c));
            if (!ncsn__isfinite(val) && !*bad) { *bad = 1; *bad_r = r; *bad_c = c; }
            if (T->cols) dst[T->offset + (size_t)c * T->rows + r] = val;
            else dst[T->offset + r] = val;
        }
}

static int ncsn__st_shape_ok(const ncsn__st_entry *e, const ncsn_tensor *T)
{
    if (T->cols) return e->ndim == 2 && e->shape[0] == (uint64_t)T->rows && e->shape[1] == (uint64_t)T->cols;
    return e->ndim == 1 && e->shape[0] == (uint64_t)T->rows;
}

/* the configuration keys this library writes, checked against the shapes when present */
static ncsn_status ncsn__st_check_config(const ncsn__st_file *f, ncsn_config *cfg)
{
    char v[256], want[256];
    int r, l, x;
    size_t n = 0;
    if ((r = ncsn__st_meta_get(f, "ncsn.dim", v, sizeof v)) < 0) return NCSN_ERR_FORMAT;
    if (r && (!ncsn__parse_int(v, &x) || x != cfg->dim))
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: metadata ncsn.dim = '%s', but the tensors have dim %d", v, cfg->dim);
    if ((r = ncsn__st_meta_get(f, "ncsn.hidden", v, sizeof v)) < 0) return NCSN_ERR_FORMAT;
    if (r) {
        want[0] = 0;
        for (l = 0; l < cfg->n_hidden && n < sizeof want - 16; l++) n += (size_t)sprintf(want + n, l ? ",%d" : "%d", cfg->hidden[l]);
        if (strcmp(v, want) != 0)
            return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: metadata ncsn.hidden = '%.64s', but the tensors have hidden widths %.64s", v, want);
    }
    if ((r = ncsn__st_meta_get(f, "ncsn.embed_dim", v, sizeof v)) < 0) return NCSN_ERR_FORMAT;
    if (r && (!ncsn__parse_int(v, &x) || x != (cfg->cond == NCSN_COND_EMBED ? cfg->embed_dim : 0)))
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: metadata ncsn.embed_dim = '%s' does not match the tensors", v);
    if ((r = ncsn__st_meta_get(f, "ncsn.zero_init_output", v, sizeof v)) < 0) return NCSN_ERR_FORMAT;
    if (r && (!ncsn__parse_int(v, &cfg->zero_init_output) || cfg->zero_init_output > 1))
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: metadata ncsn.zero_init_output = '%s' must be 0 or 1", v);
    return NCSN_OK;
}

/* tensors besides the model's that a file may hold: a checkpoint's */
static int ncsn__st_extra_ok(const ncsn_model *m, const char *name)
{
    if (strcmp(name, "sigmas") == 0 || strcmp(name, "data.loc") == 0 || strcmp(name, "data.scale") == 0 ||
        strcmp(name, "data.center") == 0 || strcmp(name, "train.perm") == 0) return 1;
    if (strncmp(name, "ema.", 4) == 0) return ncsn_model_tensor(m, name + 4) != NULL;
    if (strncmp(name, "adam.m.", 7) == 0 || strncmp(name, "adam.v.", 7) == 0) return ncsn_model_tensor(m, name + 7) != NULL;
    return 0;
}

/* a file's network configuration: from the tensor shapes (as torch writes them), refined by our
   metadata, checked, and held to the data the file has */
static ncsn_status ncsn__st_config(const ncsn__st_file *f, ncsn_config *out)
{
    ncsn_config cfg;
    ncsn_status st;
    char v[256];
    int l, r;
    memset(&cfg, 0, sizeof cfg);
    {
        const ncsn__st_entry *e = ncsn__st_find(f, "sigma_embed.1.weight");
        cfg.cond = e ? NCSN_COND_EMBED : NCSN_COND_CONCAT;
        cfg.embed_dim = e && e->ndim == 2 ? (int)e->shape[0] : 0;
        for (l = 0; l <= NCSN_MAX_HIDDEN; l++) {
            char nm[32];
            snprintf(nm, sizeof nm, "net.%d.weight", 2 * l);
            e = ncsn__st_find(f, nm);
            if (!e) break;
            if (e->ndim != 2) return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: %s is not 2-D", nm);
            if (l < NCSN_MAX_HIDDEN) cfg.hidden[l] = (int)e->shape[0];
            cfg.dim = (int)e->shape[0];
        }
        if (l < 2) return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: no net.0.weight and net.2.weight: not a score network");
        cfg.n_hidden = l - 1;
        if (cfg.n_hidden < NCSN_MAX_HIDDEN) cfg.hidden[cfg.n_hidden] = 0;
    }
    cfg.act = NCSN_ACT_SILU;
    if ((r = ncsn__st_meta_get(f, "act", v, sizeof v)) < 0) return NCSN_ERR_FORMAT;
    if (r) {
        if (strcmp(v, "silu") == 0) cfg.act = NCSN_ACT_SILU;
        else if (strcmp(v, "softplus") == 0) cfg.act = NCSN_ACT_SOFTPLUS;
        else return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: metadata act = '%.64s' is unknown", v);
    }
    if ((r = ncsn__st_meta_get(f, "scale_by_sigma", v, sizeof v)) < 0) return NCSN_ERR_FORMAT;
    if (r && (!ncsn__parse_int(v, &cfg.scale_by_sigma) || cfg.scale_by_sigma > 1))
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: metadata scale_by_sigma = '%.64s' must be 0 or 1", v);
    if ((r = ncsn__st_meta_get(f, "sigma_input", v, sizeof v)) < 0) return NCSN_ERR_FORMAT;
    if (r) {
        if (strcmp(v, "raw") == 0) cfg.sigma_input = NCSN_SIGMA_RAW;
        else if (strcmp(v, "log") == 0) cfg.sigma_input = NCSN_SIGMA_LOG;
        else return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: metadata sigma_input = '%.64s' must be raw or log", v);
    }
    if ((r = ncsn__st_meta_get(f, "precond_sigma_data", v, sizeof v)) < 0) return NCSN_ERR_FORMAT;
    if (r && (ncsn__parse_f32(v, &cfg.sigma_data) != 1 || !ncsn__sigma_data_ok(cfg.sigma_data)))
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: metadata precond_sigma_data = '%.64s' must be a number in [%g, %g]", v,
                          (double)NCSN__SIGMA_DATA_MIN, (double)NCSN__SIGMA_DATA_MAX);
    cfg.precond = r;   /* with scale_by_sigma = 1 too: refused by ncsn_config_check below */
    if (ncsn_config_check(&cfg) != NCSN_OK) {
        snprintf(v, sizeof v, "%s", ncsn_last_error());   /* not the error buffer itself as an argument */
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: %s", v);
    }
    if ((st = ncsn__st_check_config(f, &cfg)) != NCSN_OK) return st;
    {   /* the data must hold every parameter of that config: never allocate more than the file */
        uint64_t need = ncsn__config_params(&cfg);
        if (need > f->data_len / 4u)
            return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: the tensor shapes imply %llu parameters, the file holds %llu data bytes",
                              (unsigned long long)need, (unsigned long long)f->data_len);
    }
    *out = cfg;
    return NCSN_OK;
}

static ncsn_status ncsn__st_model(const ncsn__st_file *f, ncsn_model **out)
{
    ncsn_config cfg;
    ncsn_model *m = NULL;
    ncsn_status st;
    int t;
    *out = NULL;
    if ((st = ncsn__st_config(f, &cfg)) != NCSN_OK) return st;
    if ((st = ncsn_model_create(&m, &cfg)) != NCSN_OK) return st;
    for (t = 0; t < f->n; t++)
        if (!ncsn_model_tensor(m, f->e[t].name) && !ncsn__st_extra_ok(m, f->e[t].name)) {
            st = ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: unexpected tensor '%s' (not part of this network)", f->e[t].name);
            goto fail;
        }
    for (t = 0; t < m->n_tensors; t++) {
        const ncsn_tensor *T = &m->tensors[t];
        const ncsn__st_entry *e = ncsn__st_find(f, T->name);
        int bad, br = 0, bc = 0;
        if (!e) { st = ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: tensor %s is missing", T->name); goto fail; }
        if (!ncsn__st_shape_ok(e, T)) {
            st = ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: tensor %s has the wrong shape (expected [%d%s%d])",
                            T->name, T->rows, T->cols ? ", " : "", T->cols ? T->cols : 0);
            goto fail;
        }
        ncsn__st_get_tensor(f, e, T, m->params, &bad, &br, &bc);
        if (bad) { st = ncsn__fail(NCSN_ERR_FORMAT, "ncsn_model_load: tensor %s element [%d, %d] is not finite", T->name, br, bc); goto fail; }
    }
    *out = m;
    return NCSN_OK;
fail:
    ncsn_model_free(m);
    return st;
}

/* the tensor "sigmas" [L] if the file has one (*se NULL and *nl 0 if not): the levels must be a
   schedule (ncsn__levels_check) and agree with the metadata ncsn.levels */
static ncsn_status ncsn__st_levels(const ncsn__st_file *f, const char *fn, const ncsn__st_entry **se, int *nl)
{
    char v[64];
    int r, n;
    *nl = 0;
    if ((*se = ncsn__st_find(f, "sigmas")) == NULL) return NCSN_OK;
    if ((*se)->ndim != 1 || (*se)->shape[0] < 1 || (*se)->shape[0] > NCSN_MAX_LEVELS)
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: tensor sigmas must have shape [L] with 1 <= L <= %d", fn, NCSN_MAX_LEVELS);
    n = (int)(*se)->shape[0];
    if (ncsn__levels_check(fn, "tensor sigmas", NULL, f->data + (*se)->begin, n) != NCSN_OK) return NCSN_ERR_FORMAT;
    if ((r = ncsn__st_meta_get(f, "ncsn.levels", v, sizeof v)) < 0) return NCSN_ERR_FORMAT;
    if (r && (!ncsn__parse_int(v, &r) || r != n))
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: metadata ncsn.levels = '%s', but sigmas holds %d", fn, v, n);
    *nl = n;
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_model_load_mem(ncsn_model **out, const unsigned char *buf, size_t len)
{
    ncsn__st_file *f;
    ncsn_status st;
    if (!out) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_load: out = NULL");
    *out = NULL;
    f = (ncsn__st_file *)ncsn__alloc(sizeof *f);
    if (!f) return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_model_load: out of memory");
    if ((st = ncsn__st_parse(f, buf, len)) == NCSN_OK) {   /* levels too: a file that holds some must hold a schedule */
        const ncsn__st_entry *se;
        int nl;
        if ((st = ncsn__st_levels(f, "ncsn_model_load", &se, &nl)) == NCSN_OK) st = ncsn__st_model(f, out);
    }
    NCSN_FREE(f);
    return st;
}

/* ---- checkpoints ---- */
static ncsn_status ncsn__st_meta_need(const ncsn__st_file *f, const char *key, char *v, size_t cap)
{
    int r = ncsn__st_meta_get(f, key, v, cap);
    if (r < 0) return NCSN_ERR_FORMAT;
    if (r == 0) return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: metadata %s is missing: not a checkpoint of this library", key);
    return NCSN_OK;
}

static ncsn_status ncsn__st_meta_float(const ncsn__st_file *f, const char *key, float *out)
{
    char v[64];
    ncsn_status st = ncsn__st_meta_need(f, key, v, sizeof v);
    if (st != NCSN_OK) return st;
    if (ncsn__parse_f32(v, out) != 1) return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: metadata %s = '%s' is not a finite number", key, v);
    return NCSN_OK;
}

/* The RNG state of a checkpoint (metadata ncsn.rng.state and an odd ncsn.rng.inc) into *g. */
static ncsn_status ncsn__st_rng(const ncsn__st_file *f, ncsn_rng *g)
{
    char v[64];
    ncsn_status st;
    if ((st = ncsn__st_meta_need(f, "ncsn.rng.state", v, sizeof v)) != NCSN_OK) return st;
    if (!ncsn__parse_hex64(v, &g->state))
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: metadata ncsn.rng.state = '%s' is not 0x and 1 to 16 hex digits", v);
    if ((st = ncsn__st_meta_need(f, "ncsn.rng.inc", v, sizeof v)) != NCSN_OK) return st;
    if (!ncsn__parse_hex64(v, &g->inc) || !(g->inc & 1u))
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: metadata ncsn.rng.inc = '%s' must be an odd hex number", v);
    return NCSN_OK;
}

/* Adam's hyper-parameters and step from a checkpoint's metadata, each in its range. */
static ncsn_status ncsn__st_adam_hyper(const ncsn__st_file *f, float *lr, float *b1, float *b2, float *eps, float *wd, long *as)
{
    char v[64];
    ncsn_status st;
    if (!ncsn__st_find(f, "adam.m.net.0.weight"))
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: no optimizer state (adam.m.*): a model file, not a checkpoint");
    if ((st = ncsn__st_meta_float(f, "ncsn.adam.lr", lr)) != NCSN_OK || (st = ncsn__st_meta_float(f, "ncsn.adam.beta1", b1)) != NCSN_OK ||
        (st = ncsn__st_meta_float(f, "ncsn.adam.beta2", b2)) != NCSN_OK || (st = ncsn__st_meta_float(f, "ncsn.adam.eps", eps)) != NCSN_OK ||
        (st = ncsn__st_meta_float(f, "ncsn.adam.weight_decay", wd)) != NCSN_OK)
        return st;
    if (!(*lr > 0.0f) || !(*b1 >= 0.0f && *b1 < 1.0f) || !(*b2 >= 0.0f && *b2 < 1.0f) || !(*eps > 0.0f) || !(*wd >= 0.0f))
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: Adam lr = %g, betas = (%g, %g), eps = %g, weight_decay = %g out of range",
                          (double)*lr, (double)*b1, (double)*b2, (double)*eps, (double)*wd);
    if ((st = ncsn__st_meta_need(f, "ncsn.adam.step", v, sizeof v)) != NCSN_OK) return st;
    if (!ncsn__parse_step(v, as))
        return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: metadata ncsn.adam.step = '%s' must be an integer in [0, %ld]", v, (long)NCSN_MAX_STEP);
    return NCSN_OK;
}

/* Adam for m from a checkpoint: hyper-parameters, step and the moments adam.m.* / adam.v.* (finite,
   second moments >= 0). On failure *a may hold memory: the caller frees it. */
static ncsn_status ncsn__st_adam(const ncsn__st_file *f, const ncsn_model *m, ncsn_adam *a)
{
    float lr = 0.0f, b1 = 0.0f, b2 = 0.0f, eps = 0.0f, wd = 0.0f;
    long as = 0;
    size_t k;
    int t;
    ncsn_status st;
    if ((st = ncsn__st_adam_hyper(f, &lr, &b1, &b2, &eps, &wd, &as)) != NCSN_OK) return st;
    if ((st = ncsn_adam_create(a, m->n_params, lr)) != NCSN_OK) return st;
    a->beta1 = b1; a->beta2 = b2; a->eps = eps; a->weight_decay = wd; a->step = as;
    for (t = 0; t < 2 * m->n_tensors; t++) {
        const ncsn_tensor *T = &m->tensors[t % m->n_tensors];
        const ncsn__st_entry *e;
        char nm[64];
        int bad, br = 0, bc = 0;
        snprintf(nm, sizeof nm, "adam.%c.%s", t < m->n_tensors ? 'm' : 'v', T->name);
        if ((e = ncsn__st_find(f, nm)) == NULL) return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: tensor %s is missing", nm);
        if (!ncsn__st_shape_ok(e, T)) return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: tensor %s does not have the shape of %s", nm, T->name);
        ncsn__st_get_tensor(f, e, T, t < m->n_tensors ? a->m : a->v, &bad, &br, &bc);
        if (bad) return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: tensor %s element [%d, %d] is not finite", nm, br, bc);
    }
    for (k = 0; k < a->n; k++)
        if (a->v[k] < 0.0f)
            return ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: Adam's second moment %lu = %g is negative", (unsigned long)k, (double)a->v[k]);
    return NCSN_OK;
}

static ncsn_status ncsn__st_checkpoint(const ncsn__st_file *f, ncsn_model **model, ncsn_adam *adam, ncsn_rng *rng,
                                       float *sigmas, int sigmas_cap, int *L, long *step)
{
    ncsn_model *m = NULL;
    ncsn_adam a;
    ncsn_rng g;
    ncsn_status st;
    const ncsn__st_entry *se;
    long stp = 0;
    int nl = 0, r, i;
    char v[64];
    memset(&a, 0, sizeof a);
    g.state = g.inc = 0;
    if ((st = ncsn__st_model(f, &m)) != NCSN_OK) return st;
    if ((r = ncsn__st_meta_get(f, "ncsn.step", v, sizeof v)) < 0) { st = NCSN_ERR_FORMAT; goto fail; }
    if (r && !ncsn__parse_step(v, &stp)) {
        st = ncsn__fail(NCSN_ERR_FORMAT, "ncsn_checkpoint_load: metadata ncsn.step = '%s' must be an integer in [0, %ld]", v, (long)NCSN_MAX_STEP);
        goto fail;
    }
    if ((st = ncsn__st_levels(f, "ncsn_checkpoint_load", &se, &nl)) != NCSN_OK) goto fail;
    if (sigmas && nl > sigmas_cap) {
        st = ncsn__fail(NCSN_ERR_ARG, "ncsn_checkpoint_load: sigmas_cap = %d, the file has %d levels", sigmas_cap, nl);
        goto fail;
    }
    if (rng && (st = ncsn__st_rng(f, &g)) != NCSN_OK) goto fail;
    if (adam && (st = ncsn__st_adam(f, m, &a)) != NCSN_OK) goto fail;
    /* success: only now are the outputs written */
    if (sigmas && se) for (i = 0; i < nl; i++) sigmas[i] = ncsn__le_f32(f->data + se->begin + 4u * (size_t)i);
    if (L) *L = nl;
    if (step) *step = stp;
    if (rng) *rng = g;
    if (adam) *adam = a;
    *model = m;
    return NCSN_OK;
fail:
    ncsn_adam_free(&a);
    ncsn_model_free(m);
    return st;
}

NCSNDEF ncsn_status ncsn_checkpoint_load_mem(ncsn_model **model, const unsigned char *buf, size_t len, ncsn_adam *adam,
                                             ncsn_rng *rng, float *sigmas, int sigmas_cap, int *L, long *step)
{
    ncsn__st_file *f;
    ncsn_status st;
    if (!model) return ncsn__fail(NCSN_ERR_ARG, "ncsn_checkpoint_load: model = NULL");
    *model = NULL;
    if (adam) memset(adam, 0, sizeof *adam);
    if (sigmas && sigmas_cap < 0) return ncsn__fail(NCSN_ERR_ARG, "ncsn_checkpoint_load: sigmas_cap = %d", sigmas_cap);
    f = (ncsn__st_file *)ncsn__alloc(sizeof *f);
    if (!f) return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_checkpoint_load: out of memory");
    if ((st = ncsn__st_parse(f, buf, len)) == NCSN_OK) st = ncsn__st_checkpoint(f, model, adam, rng, sigmas, sigmas_cap, L, step);
    NCSN_FREE(f);
    return st;
}

NCSNDEF ncsn_status ncsn_file_meta_mem(const unsigned char *buf, size_t len, const char *key, char *value, size_t cap)
{
    ncsn__st_file *f;
    ncsn_status st;
    int r;
    if (!key || !value || cap < 1) return ncsn__fail(NCSN_ERR_ARG, "ncsn_file_meta: %s", !key ? "key = NULL" : !value ? "value = NULL" : "cap = 0");
    value[0] = 0;
    f = (ncsn__st_file *)ncsn__alloc(sizeof *f);
    if (!f) return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_file_meta: out of memory");
    if ((st = ncsn__st_parse(f, buf, len)) == NCSN_OK) {
        r = ncsn__st_meta_get(f, key, value, cap);
        if (r < 0) st = NCSN_ERR_FORMAT;
        else if (r == 0) st = ncsn__fail(NCSN_ERR_FORMAT, "ncsn_file_meta: no __metadata__ key '%.64s'", key);
    }
    if (st != NCSN_OK) value[0] = 0;
    NCSN_FREE(f);
    return st;
}

NCSNDEF void ncsn_free(void *p) { NCSN_FREE(p); }

/* ---- CSV ---- */
/* a "text" file with a NUL that starts with a compressor's magic bytes: say which, and how to read it */
static ncsn_status ncsn__fail_compressed(const char *prefix, const char *zip)
{
    return ncsn__fail(NCSN_ERR_FORMAT, "%s %s-compressed, not text: decompress it first (%s -dc FILE)", prefix, zip, zip);
}

/* the compressor whose magic bytes start b, or NULL: named when a "text" file holds a NUL */
static const char *ncsn__compressed_kind(const unsigned char *b, size_t n)
{
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return "gzip";
    if (n >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0) return "xz";
    if (n >= 4 && memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0) return "zstd";
    if (n >= 4 && memcmp(b, "BZh", 3) == 0 && b[3] >= '1' && b[3] <= '9') return "bzip2";
    return NULL;
}

/* the next field of a line into buf (quotes removed, spaces trimmed): 1, or 0 if the line has no
   more fields; *last if it ends the line. mode ',' or ' ' (runs of spaces and tabs). buf has room
   for the whole line and its NUL: a field, its quotes removed, is never longer than its line. */
static int ncsn__csv_field(const char **q, const char *le, char mode, char *buf, int *last)
{
    const char *p = *q;
    size_t n = 0;
    *last = 0;
    while (p < le && (*p == ' ' || *p == '\t')) p++;
    if (mode == ' ' && p >= le) return 0;
#define NCSN__CSV_DELIM(c) ((c) == mode || (mode == ' ' && (c) == '\t'))
    if (p < le && *p == '"') {   /* quoted: "" is a quote */
        p++;
        while (p < le) {
            if (*p == '"') {
                if (p + 1 < le && p[1] == '"') p++;
                else break;
            }
            buf[n++] = *p++;
        }
        if (p < le) p++;          /* the closing quote */
        while (p < le && !NCSN__CSV_DELIM(*p)) buf[n++] = *p++;  /* text after it: kept, so it will not parse */
    } else {
        while (p < le && !NCSN__CSV_DELIM(*p)) buf[n++] = *p++;
    }
#undef NCSN__CSV_DELIM
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t')) n--;
    buf[n] = 0;
    if (mode == ',') {
        if (p < le) p++;          /* the comma: another field follows, maybe empty */
        else *last = 1;
    } else {
        while (p < le && (*p == ' ' || *p == '\t')) p++;
        *last = p >= le;
    }
    *q = p;
    return 1;
}

/* append name to the header line names[0..w) (after a comma if comma), quoted when it needs it;
   the new length, or (size_t)-1 once a name does not fit (names stays as it was) */
static size_t ncsn__csv_put_name(char *names, size_t cap, size_t w, const char *name, int comma)
{
    size_t k = strlen(name), need = k + (comma ? 1 : 0), i;
    /* what a separator, a quote, a comment or a byte-order mark (first name) would change */
    int quote = strpbrk(name, ",\"# \t") != NULL || strncmp(name, "\xef\xbb\xbf", 3) == 0;
    for (i = 0; quote && i < k; i++) need += name[i] == '"';
    need += quote ? 2 : 0;
    if (w + need + 1 > cap) return (size_t)-1;
    if (comma) names[w++] = ',';
    if (quote) names[w++] = '"';
    for (i = 0; i < k; i++) {
        if (quote && name[i] == '"') names[w++] = '"';
        names[w++] = name[i];
    }
    if (quote) names[w++] = '"';
    names[w] = 0;
    return w;
}

/* the state of one ncsn_csv_parse */
typedef struct ncsn__csv {
    const char *src;           /* the name in messages */
    long line;                 /* the current line, from 1 */
    char mode;                 /* ',' or ' ' (set by the first data or header line) */
    int max_cols, cols;        /* the limit; the columns of every line (0: not known yet) */
    long first_line;           /* the line that set cols */
    float *vals;               /* [cap] the values read, count of them */
    size_t cap, count, limit;  /* limit: the most values the text can hold */
    char *fb;                  /* [fb_cap] the current field: room for the longest line so far */
    size_t fb_cap, fb_limit;   /* fb_limit: the longest line (max_line, the text's length) + 1 */
} ncsn__csv;

/* Whether the line [ls, le) is a header: no field is a number (*is_header). */
static ncsn_status ncsn__csv_is_header(ncsn__csv *c, const char *ls, const char *le, int *is_header)
{
    const char *q = ls;
    int f = 0, n_num = 0, n_text = 0, last;
    float dummy;
    while (ncsn__csv_field(&q, le, c->mode, c->fb, &last)) {
        if (++f > c->max_cols) return ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld: more than %d columns", c->src, c->line, c->max_cols);
        if (c->fb[0] && ncsn__parse_f32(c->fb, &dummy) == 0) n_text++;
        else n_num++;
        if (last) break;
    }
    *is_header = n_text > 0 && n_num == 0;
    return NCSN_OK;
}

/* The header line: its names (no control characters) into names, and the column count. */
static ncsn_status ncsn__csv_header(ncsn__csv *c, const char *ls, const char *le, char *names, size_t names_cap)
{
    const char *q = ls, *bad;
    size_t w = 0;
    int f = 0, last;
    while (ncsn__csv_field(&q, le, c->mode, c->fb, &last)) {
        f++;
        for (bad = c->fb; *bad && (unsigned char)*bad >= 0x20 && *bad != 0x7f; bad++) {}
        if (*bad)
            return ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld:%d: the column name has a control character (byte 0x%02x)", c->src, c->line, f,
                              (unsigned)(unsigned char)*bad);
        if (names && names_cap && w != (size_t)-1) w = ncsn__csv_put_name(names, names_cap, w, c->fb, f > 1);
        if (last) break;
    }
    c->cols = f;
    c->first_line = c->line;
    return NCSN_OK;
}

/* room in c->fb for a field of the line [ls, le): the line's length and a NUL, so no field is
   cut and the buffer never outgrows the longest line (at most max_line and the text's length) */
static ncsn_status ncsn__csv_room(ncsn__csv *c, const char *ls, const char *le)
{
    size_t need = (size_t)(le - ls) + 1, nc = c->fb_cap ? 2 * c->fb_cap : 256;
    char *nb;
    if (need <= c->fb_cap) return NCSN_OK;
    if (nc < need) nc = need;
    if (nc > c->fb_limit) nc = c->fb_limit;   /* no line of the text is longer */
    nb = NCSN__ALLOC_N(char, nc);
    if (!nb) return ncsn__fail(NCSN_ERR_NOMEM, "%s:%ld: out of memory for a line of %lu bytes", c->src, c->line, (unsigned long)(need - 1));
    NCSN_FREE(c->fb);
    c->fb = nb;
    c->fb_cap = nc;
    return NCSN_OK;
}

/* one value appended to c->vals, which grows by doubling up to c->limit */
static ncsn_status ncsn__csv_push(ncsn__csv *c, float val)
{
    if (c->count == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 256;
        float *nv;
        if (nc > c->limit) nc = c->limit;
        if (nc <= c->count) nc = c->count + 1;
        nv = NCSN__ALLOC_N(float, nc);
        if (!nv) return ncsn__fail(NCSN_ERR_NOMEM, "%s:%ld: out of memory for %lu values", c->src, c->line, (unsigned long)nc);
        if (c->count) memcpy(nv, c->vals, c->count * sizeof(float));
        NCSN_FREE(c->vals);
        c->vals = nv;
        c->cap = nc;
    }
    c->vals[c->count++] = val;
    return NCSN_OK;
}

#define NCSN__UTF16_MSG "UTF-16 text, not UTF-8: save it as UTF-8 (\"CSV UTF-8\"), or convert it (iconv -f UTF-16 -t UTF-8 FILE)"

/* UTF-16: its byte-order mark, or ASCII text with a NUL after (or before) each of its first two characters */
static int ncsn__utf16(const unsigned char *b, size_t n)
{
    if (n >= 2 && ((b[0] == 0xff && b[1] == 0xfe) || (b[0] == 0xfe && b[1] == 0xff))) return 1;
    return n >= 4 && ((b[0] && !b[1] && b[2] && !b[3]) || (!b[0] && b[1] && !b[2] && b[3]));
}

#define NCSN__CSV_MISSING_HINT " (a missing value: drop the rows that have one, or leave the column out)"

/* a NaN token, in any case and with a sign ("nan", "-NaN", "NAN") */
static int ncsn__csv_nan(const char *field)
{
    if (*field == '+' || *field == '-') field++;
    return (field[0] == 'n' || field[0] == 'N') && (field[1] == 'a' || field[1] == 'A') && (field[2] == 'n' || field[2] == 'N') && !field[3];
}

static int ncsn__csv_missing(const char *field)
{
    static const char *const token[] = { "NA", "N/A", "NULL", "null", "None", "?", "-" };
    size_t i;
    for (i = 0; i < sizeof token / sizeof token[0]; i++)
        if (strcmp(field, token[i]) == 0) return 1;
    return 0;
}

/* 1 if the number's digits (before its exponent) are not all zero: text that a float reads as 0
   only by underflow */
static int ncsn__digits_nonzero(const char *s)
{
    int hex;
    while (*s == ' ' || *s == '\t' || *s == '+' || *s == '-') s++;
    hex = s[0] == '0' && (s[1] | 0x20) == 'x';
    for (s += hex ? 2 : 0; *s && (*s | 0x20) != (hex ? 'p' : 'e'); s++)
        if ((*s >= '1' && *s <= '9') || (hex && (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')) return 1;
    return 0;
}

/* A data line: every field a finite float, as many as the first line had. */
static ncsn_status ncsn__csv_row(ncsn__csv *c, const char *ls, const char *le)
{
    const char *q = ls, *src = c->src;
    int f = 0, last, r;
    long line = c->line;
    ncsn_status st;
    while (ncsn__csv_field(&q, le, c->mode, c->fb, &last)) {
        float val = 0.0f;
        if (++f > c->max_cols) return ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld: more than %d columns", src, line, c->max_cols);
        if (c->cols && f > c->cols) break;
        if (!c->fb[0])   /* on the first line an empty last field may be a comma at its end */
            return ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld:%d: empty field%s", src, line, f,
                              last && f > 1 && !c->cols ? " (a comma at the end of the line, or a missing value?)" : NCSN__CSV_MISSING_HINT);
        r = ncsn__parse_f32(c->fb, &val);
        if (r == 0)   /* the tokens R, pandas and UCI files write for a missing value get a hint */
            return ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld:%d: '%.40s' is not a number%s", src, line, f, c->fb,
                              ncsn__csv_missing(c->fb) ? NCSN__CSV_MISSING_HINT : "");
        if (r < 0)   /* numpy and pandas write NaN for a missing value */
            return ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld:%d: '%.40s' is not a finite float%s", src, line, f, c->fb,
                              ncsn__csv_nan(c->fb) ? NCSN__CSV_MISSING_HINT : "");
        if (val == 0.0f && ncsn__digits_nonzero(c->fb))   /* as 1e39 is refused, not made infinite */
            return ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld:%d: '%.40s' is too small for a float (it would read as 0; the smallest "
                              "float is 1.4e-45, and at most half of it rounds to 0): rescale the column", src, line, f, c->fb);
        if ((st = ncsn__csv_push(c, val)) != NCSN_OK) return st;
        if (last) break;
    }
    if (!c->cols) { c->cols = f; c->first_line = line; }
    if (f > c->cols)   /* an empty extra field: a comma at the end of the data lines but not the first */
        return ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld: more than %d columns (line %ld has %d)%s", src, line, c->cols, c->first_line, c->cols,
                          !c->fb[0] && last && f == c->cols + 1 ? "; the extra field is empty: a comma at the end of the line?" : "");
    if (f < c->cols)
        return ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld: %d columns, but line %ld has %d", src, line, f, c->first_line, c->cols);
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_csv_parse(const char *text, size_t len, const ncsn_csv_opts *o, float **data, int *n_out, int *dim_out,
                                   char *names, size_t names_cap)
{
    long max_rows = o && o->max_rows > 0 ? o->max_rows : 1L << 26, rows = 0;
    size_t max_line = o && o->max_line > 0 ? o->max_line : (size_t)1 << 20;
    const char *p = text, *end = text;
    int header_done = 0, is_header = 0;
    ncsn__csv c;
    ncsn_status st = NCSN_OK;
    if (!data || !n_out || !dim_out) return ncsn__fail(NCSN_ERR_ARG, "ncsn_csv_parse: %s = NULL", !data ? "data" : !n_out ? "n" : "dim");
    *data = NULL;
    *n_out = *dim_out = 0;
    if (names && names_cap) names[0] = 0;
    if (!text && len) return ncsn__fail(NCSN_ERR_ARG, "ncsn_csv_parse: text = NULL with len = %lu", (unsigned long)len);
    memset(&c, 0, sizeof c);
    c.src = o && o->source ? o->source : "csv";
    c.max_cols = o && o->max_cols > 0 ? o->max_cols : 65536;
    c.limit = len / 2 + 16;   /* a value takes >= 2 bytes with its separator */
    c.fb_limit = (len < max_line ? len : max_line) + 1;
    if (max_rows > INT_MAX) max_rows = INT_MAX;
    if (!text) p = end = "";
    else end = text + len;
    if (end - p >= 3 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf) p += 3;
    while (p < end) {
        const char *ls = p, *le = (const char *)memchr(p, '\n', (size_t)(end - p));
        if (!le) le = end;
        p = le < end ? le + 1 : end;
        c.line++;
        if ((size_t)(le - ls) > max_line) { st = ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld: line longer than %lu bytes", c.src, c.line, (unsigned long)max_line); goto fail; }
        if (memchr(ls, 0, (size_t)(le - ls))) {
            const char *zip = ncsn__compressed_kind((const unsigned char *)text, len);
            if (zip) {
                char prefix[300];
                snprintf(prefix, sizeof prefix, "%.256s:", c.src);
                st = ncsn__fail_compressed(prefix, zip);
            }
            else if (ncsn__utf16((const unsigned char *)text, len)) st = ncsn__fail(NCSN_ERR_FORMAT, "%s: %s", c.src, NCSN__UTF16_MSG);
            else st = ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld: NUL byte (not a text file?)", c.src, c.line);
            goto fail;
        }
        while (ls < le && (*ls == ' ' || *ls == '\t' || *ls == '\r')) ls++;
        while (le > ls && (le[-1] == ' ' || le[-1] == '\t' || le[-1] == '\r')) le--;
        if (ls == le || *ls == '#') continue;
        if (!c.mode) c.mode = memchr(ls, ',', (size_t)(le - ls)) ? ',' : ' ';
        if ((st = ncsn__csv_room(&c, ls, le)) != NCSN_OK) goto fail;
        if (!header_done) {   /* a header is the first non-comment line when none of its fields is a number */
            header_done = 1;
            if ((st = ncsn__csv_is_header(&c, ls, le, &is_header)) != NCSN_OK) goto fail;
            if (is_header) {
                if ((st = ncsn__csv_header(&c, ls, le, names, names_cap)) != NCSN_OK) goto fail;
                continue;
            }
        }
        if ((st = ncsn__csv_row(&c, ls, le)) != NCSN_OK) goto fail;
        if (++rows > max_rows) { st = ncsn__fail(NCSN_ERR_FORMAT, "%s:%ld: more than %ld rows", c.src, c.line, max_rows); goto fail; }
    }
    if (rows == 0) { st = ncsn__fail(NCSN_ERR_FORMAT, "%s: no data rows", c.src); goto fail; }
    NCSN_FREE(c.fb);
    *data = c.vals;
    *n_out = (int)rows;
    *dim_out = c.cols;
    return NCSN_OK;
fail:
    NCSN_FREE(c.fb);
    NCSN_FREE(c.vals);
    if (names && names_cap) names[0] = 0;
    return st;
}

#ifndef NCSN_NO_STDIO
#include <errno.h>
#include <time.h>
#if defined(_WIN32)
#include <io.h>
#include <windows.h>
#elif defined(__unix__) || defined(__unix) || defined(__APPLE__)
#include <unistd.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <fcntl.h>
#define NCSN__POSIX_FILES 1
#if defined(__linux__) && !defined(__cplusplus) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE)
extern int fileno(FILE *);   /* strict C (-std=c99) hides these POSIX declarations */
extern FILE *fdopen(int, const char *);
extern int fsync(int);
#endif
#endif

static int ncsn__fsync_fp(FILE *fp)
{
#if defined(NCSN_NO_FSYNC)
    (void)fp;
    return 0;
#elif defined(_WIN32)
    return _commit(_fileno(fp));
#elif defined(NCSN__POSIX_FILES)
    return fsync(fileno(fp));
#else
    (void)fp;
    return 0;
#endif
}

/* make a rename durable: fsync the directory that holds path (best effort) */
static void ncsn__fsync_dir(const char *path)
{
#if defined(NCSN__POSIX_FILES) && !defined(NCSN_NO_FSYNC)
    char dir[4096];
    const char *slash = strrchr(path, '/');
    FILE *d;
    if (!slash) strcpy(dir, ".");
    else if (slash == path) strcpy(dir, "/");
    else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir) return;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    if ((d = fopen(dir, "r")) != NULL) {
        fsync(fileno(d));
        fclose(d);
    }
#else
    (void)path;
#endif
}

static int ncsn__replace(const char *from, const char *to)
{
#if defined(_WIN32)
    return MoveFileExA(from, to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) ? 0 : -1;
#else
    return rename(from, to);   /* POSIX: atomically replaces to */
#endif
}

static NCSN__TLS unsigned long ncsn__tmp_count;

/* create the file tmp, failing if it exists (EEXIST): another writer's or the user's file is never
   opened, truncated or later removed */
static FILE *ncsn__create_excl(const char *tmp, int *err)
{
    FILE *fp = NULL;
#if defined(NCSN__POSIX_FILES)
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    *err = errno;
    if (fd >= 0 && (fp = fdopen(fd, "wb")) == NULL) {
        *err = errno;
        close(fd);
        remove(tmp);
    }
#else
    /* C11's "x" (exclusive) mode where the library has it; otherwise look first (racy, best effort) */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(_WIN32)
    fp = fopen(tmp, "wbx");
    *err = errno;
#else
    if ((fp = fopen(tmp, "rb")) != NULL) { fclose(fp); *err = EEXIST; return NULL; }
    fp = fopen(tmp, "wb");
    *err = errno;
#endif
#endif
    return fp;
}

/* create PATH.tmp.XXXXXX exclusively in path's directory (a fresh name on each collision) */
static ncsn_status ncsn__atomic_open(const char *fn, const char *path, char **tmp_out, FILE **fp_out)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = strlen(path);
    char *tmp = (char *)ncsn__alloc(n + 16);
    uint64_t h;
    int tries, k, err = 0;
    FILE *fp = NULL;
    *tmp_out = NULL;
    *fp_out = NULL;
    if (!tmp) return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory", fn);
    h = (uint64_t)(size_t)tmp ^ ((uint64_t)time(NULL) << 20) ^ ((uint64_t)clock() << 40) ^ (uint64_t)(++ncsn__tmp_count) * 0x9e3779b97f4a7c15ULL;
#if defined(NCSN__POSIX_FILES)
    h ^= (uint64_t)getpid() * 0xbf58476d1ce4e5b9ULL;   /* two processes started together draw other names */
#endif
    for (tries = 0; tries < 100 && !fp; tries++) {
        memcpy(tmp, path, n);
        memcpy(tmp + n, ".tmp.", 5);
        for (k = 0; k < 6; k++) {
            h = h * 6364136223846793005ULL + 1442695040888963407ULL;
            tmp[n + 5 + k] = digits[(h >> 33) % 36u];
        }
        tmp[n + 11] = 0;
        errno = 0;
        fp = ncsn__create_excl(tmp, &err);
        if (!fp && err != EEXIST) break;
    }
    if (!fp) {
        ncsn__fail(NCSN_ERR_IO, "%s: cannot create '%s' (%s)", fn, tmp, err ? strerror(err) : "no free name");
        NCSN_FREE(tmp);
        return NCSN_ERR_IO;
    }
    *tmp_out = tmp;
    *fp_out = fp;
    return NCSN_OK;
}

/* flush, fsync, close, rename over path, fsync the directory; on any failure the temporary file
   is removed and path is left as it was */
static ncsn_status ncsn__atomic_commit(const char *fn, FILE *fp, char *tmp, const char *path, int ok)
{
    int err = 0;
    if (ok && fflush(fp) != 0) { ok = 0; err = errno; }
    if (ok && ncsn__fsync_fp(fp) != 0) { ok = 0; err = errno; }
    if (fclose(fp) != 0 && ok) { ok = 0; err = errno; }
    if (!ok) {
        if (!err) err = errno;
        remove(tmp);
        NCSN_FREE(tmp);
        return ncsn__fail(NCSN_ERR_IO, "%s: writing '%s' failed (%s); '%s' is unchanged", fn, path, err ? strerror(err) : "short write", path);
    }
    if (ncsn__replace(tmp, path) != 0) {
        err = errno;
        remove(tmp);
        NCSN_FREE(tmp);
        return ncsn__fail(NCSN_ERR_IO, "%s: cannot rename the new file over '%s' (%s); '%s' is unchanged", fn, path, strerror(err), path);
    }
    NCSN_FREE(tmp);
    ncsn__fsync_dir(path);
    return NCSN_OK;
}

/* the descriptor a path names as written, or -1: "/dev/stdout" 1, "/dev/stderr" 2, "/dev/fd/N"
   and "/proc/self/fd/N" N. A save there writes into that descriptor (a dup of it: the shell's
   offset and append mode stay, a socket works), as `>` would; renaming over /dev/stdout would
   replace the machine's link by a file and leave the user's file empty. Only these names: a
   symbolic link elsewhere that leads to them is an ordinary link, replaced and not followed. */
static int ncsn__fd_path(const char *path)
{
    static const char *const dirs[] = { "/dev/fd/", "/proc/self/fd/" };
    const char *p = NULL;
    long v = 0;
    size_t k;
    if (strcmp(path, "/dev/stdout") == 0) return 1;
    if (strcmp(path, "/dev/stderr") == 0) return 2;
    for (k = 0; k < 2 && !p; k++)
        if (strncmp(path, dirs[k], strlen(dirs[k])) == 0) p = path + strlen(dirs[k]);
    if (!p || !*p || strlen(p) > 9) return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
    }
    return (int)v;
}

/* 1 if path is (or links to) a FIFO or a character device (/dev/null), or names a descriptor
   (ncsn__fd_path): a save writes into it, as a shell's `>` does (renaming over it would replace
   it by a file); -1 for a block device (a disk): refused, neither overwritten nor replaced; 0
   otherwise (an atomic rename) */
static int ncsn__special_file(const char *path)
{
#if defined(NCSN__POSIX_FILES)
    struct stat sb;
    if (stat(path, &sb) != 0) return 0;
    if (ncsn__fd_path(path) >= 0) return S_ISBLK(sb.st_mode) ? -1 : 1;
    return S_ISFIFO(sb.st_mode) || S_ISCHR(sb.st_mode) ? 1 : S_ISBLK(sb.st_mode) ? -1 : 0;
#else
    (void)path;
    return 0;
#endif
}

static ncsn_status ncsn__output_open(const char *fn, ncsn_output *o, const char *path)
{
    int special;
    memset(o, 0, sizeof *o);
    o->path = path;
    if (strcmp(path, "-") == 0) { o->fp = stdout; o->kind = 2; return NCSN_OK; }
    if ((special = ncsn__special_file(path)) < 0) return ncsn__fail(NCSN_ERR_IO, "%s: '%s' is a block device; not written", fn, path);
    if (!special) return ncsn__atomic_open(fn, path, &o->tmp, &o->fp);
    o->kind = 1;
#if defined(NCSN__POSIX_FILES)
    {
        int fd = ncsn__fd_path(path), d;
        if (fd >= 0) {   /* into the descriptor itself: not reopened (that would truncate a >> file) */
            if ((d = dup(fd)) < 0 || (o->fp = fdopen(d, "wb")) == NULL) {
                int err = errno;
                if (d >= 0) close(d);
                return ncsn__fail(NCSN_ERR_IO, "%s: cannot write to descriptor %d ('%s'): %s", fn, fd, path, strerror(err));
            }
            return NCSN_OK;
        }
    }
#endif
    if ((o->fp = fopen(path, "wb")) == NULL) return ncsn__fail(NCSN_ERR_IO, "%s: cannot open '%s' (%s)", fn, path, strerror(errno));
    return NCSN_OK;
}

static ncsn_status ncsn__output_close(const char *fn, ncsn_output *o, int ok)
{
    FILE *fp = o->fp;
    char *tmp = o->tmp;
    o->fp = NULL;
    o->tmp = NULL;
    if (!fp) return NCSN_OK;
    if (o->kind == 0) return ncsn__atomic_commit(fn, fp, tmp, o->path, ok);
    ok = ok && fflush(fp) == 0 && !ferror(fp);
    if (o->kind == 2) {
        if (ok) return NCSN_OK;
        return ncsn__fail(NCSN_ERR_IO, "%s: writing to stdout failed (%s)", fn, strerror(errno));
    }
    if (fclose(fp) == 0 && ok) return NCSN_OK;
    return ncsn__fail(NCSN_ERR_IO, "%s: writing '%s' failed (%s)", fn, o->path, strerror(errno));
}

NCSNDEF int ncsn_output_in_place(const char *path)
{
    if (!path) return 0;
    return strcmp(path, "-") == 0 ? 1 : ncsn__special_file(path);
}

NCSNDEF ncsn_status ncsn_output_open(ncsn_output *o, const char *path)
{
    if (!o || !path) return ncsn__fail(NCSN_ERR_ARG, "ncsn_output_open: %s = NULL", !o ? "o" : "path");
    return ncsn__output_open("ncsn_output_open", o, path);
}

NCSNDEF ncsn_status ncsn_output_close(ncsn_output *o, int ok)
{
    if (!o) return NCSN_OK;
    return ncsn__output_close("ncsn_output_close", o, ok);
}

/* a growing header string */
typedef struct ncsn__sb { char *p; size_t n, cap; int ok; } ncsn__sb;
static void ncsn__sb_printf(ncsn__sb *b, const char *fmt, ...)
{
    va_list ap;
    int w;
    if (!b->ok) return;
    va_start(ap, fmt);
    w = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= b->cap - b->n) b->ok = 0;
    else b->n += (size_t)w;
}
static void ncsn__sb_str(ncsn__sb *b, const char *s)   /* a JSON string, escaped */
{
    ncsn__sb_printf(b, "\"");
    for (; *s && b->ok; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') ncsn__sb_printf(b, "\\%c", c);
        else if (c < 0x20) ncsn__sb_printf(b, "\\u%04x", c);
        else ncsn__sb_printf(b, "%c", c);
    }
    ncsn__sb_printf(b, "\"");
}
static void ncsn__sb_kv(ncsn__sb *b, const char *k, const char *v)
{
    ncsn__sb_printf(b, ",");
    ncsn__sb_str(b, k);
    ncsn__sb_printf(b, ":");
    ncsn__sb_str(b, v);
}

static int ncsn__st_reserved(const char *k)
{
    return strncmp(k, "ncsn.", 5) == 0 || strcmp(k, "format") == 0 || strcmp(k, "library") == 0 || strcmp(k, "cond") == 0 ||
           strcmp(k, "act") == 0 || strcmp(k, "scale_by_sigma") == 0 || strcmp(k, "sigma_input") == 0 || strcmp(k, "precond_sigma_data") == 0;
}

static int ncsn__put_f32s(FILE *fp, const float *src, size_t count, size_t stride)
{
    unsigned char b[4096];
    size_t i, k = 0;
    for (i = 0; i < count; i++) {
        uint32_t u = ncsn__f2u(src[i * stride]);
        b[k] = (unsigned char)u; b[k + 1] = (unsigned char)(u >> 8); b[k + 2] = (unsigned char)(u >> 16); b[k + 3] = (unsigned char)(u >> 24);
        k += 4;
        if (k == sizeof b) { if (fwrite(b, 1, k, fp) != k) return 0; k = 0; }
    }
    return k == 0 || fwrite(b, 1, k, fp) == k;
}

/* one tensor in PyTorch's layout: weights [out][in] from ours [in][out] */
static int ncsn__put_tensor(FILE *fp, const float *base, const ncsn_tensor *T)
{
    int r;
    if (!T->cols) return ncsn__put_f32s(fp, base + T->offset, (size_t)T->rows, 1);
    for (r = 0; r < T->rows; r++)
        if (!ncsn__put_f32s(fp, base + T->offset + r, (size_t)T->cols, (size_t)T->rows)) return 0;
    return 1;
}

/* what a trainer adds to a checkpoint: EMA weights ("ema.<tensor>", model layout), flat tensors
   written as given, and metadata under the reserved "ncsn." prefix */
typedef struct ncsn__st_flat { const char *name; const float *p; int rows, cols; } ncsn__st_flat;
typedef struct ncsn__st_more {
    const float *ema;
    int n_flat;
    ncsn__st_flat flat[4];
    const char *const *meta;   /* {"ncsn.key", "value", ..., NULL} */
} ncsn__st_more;

static void ncsn__st_entry_json(ncsn__sb *b, const char *pre, const char *name, int rows, int cols, size_t *off)
{
    size_t count = (size_t)rows * (size_t)(cols ? cols : 1);
    if (cols) ncsn__sb_printf(b, ",\"%s%s\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%llu,%llu]}", pre, name, rows, cols,
                              (unsigned long long)*off, (unsigned long long)(*off + 4 * count));
    else ncsn__sb_printf(b, ",\"%s%s\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%llu,%llu]}", pre, name, rows,
                         (unsigned long long)*off, (unsigned long long)(*off + 4 * count));
    *off += 4 * count;
}

static void ncsn__st_more_header(ncsn__sb *b, const ncsn_model *m, const ncsn__st_more *more, size_t off)
{
    int t;
    for (t = 0; more->ema && t < m->n_tensors; t++) ncsn__st_entry_json(b, "ema.", m->tensors[t].name, m->tensors[t].rows, m->tensors[t].cols, &off);
    for (t = 0; t < more->n_flat; t++) ncsn__st_entry_json(b, "", more->flat[t].name, more->flat[t].rows, more->flat[t].cols, &off);
}

/* what one file holds (ncsn__st_save's arguments) */
typedef struct ncsn__st_out {
    const ncsn_model *m;
    const ncsn_adam *adam;         /* NULL: a model file */
    const ncsn_rng *rng;           /* may be NULL */
    const float *sigmas;           /* [L] */
    int L;
    long step;
    const char *const *extra;      /* the caller's {"key", "value", ..., NULL}, or NULL */
    int checkpoint;                /* 1: write ncsn.step */
    const ncsn__st_more *more;     /* the trainer's additions, or NULL */
} ncsn__st_out;

/* Refuses what the loaders would refuse; *extra_len gets room for the extra metadata in JSON. */
static ncsn_status ncsn__st_save_check(const char *fn, const char *path, const ncsn__st_out *o, size_t *extra_len)
{
    const ncsn_model *m = o->m;
    const ncsn_adam *adam = o->adam;
    const char *const *extra = o->extra;
    char v[320];
    int k, n_extra = 0;
    ncsn_status st;
    if (!m || !path) return ncsn__fail(NCSN_ERR_ARG, "%s: %s = NULL", fn, !m ? "model" : "path");
    if (!m->params || m->n_tensors < 1) return ncsn__fail(NCSN_ERR_ARG, "%s: the model has no parameters", fn);
    if (adam && (!adam->m || !adam->v || adam->n != m->n_params))
        return ncsn__fail(NCSN_ERR_ARG, "%s: the Adam state has n = %lu values, the model %lu parameters", fn, (unsigned long)adam->n,
                          (unsigned long)m->n_params);
    if (o->L < 0 || o->L > NCSN_MAX_LEVELS || (o->L > 0 && !o->sigmas))
        return ncsn__fail(NCSN_ERR_ARG, "%s: L = %d must be in [0, %d]%s", fn, o->L, NCSN_MAX_LEVELS, o->L > 0 && !o->sigmas ? " with sigmas" : "");
    if (ncsn__levels_check(fn, "sigmas", o->sigmas, NULL, o->L) != NCSN_OK) return NCSN_ERR_ARG;   /* what the loader accepts */
    if (o->step < 0 || o->step > NCSN_MAX_STEP) return ncsn__fail(NCSN_ERR_ARG, "%s: step = %ld must be in [0, %ld]", fn, o->step, (long)NCSN_MAX_STEP);
    if (adam && (adam->step < 0 || adam->step > NCSN_MAX_STEP))
        return ncsn__fail(NCSN_ERR_ARG, "%s: Adam step = %ld must be in [0, %ld]", fn, adam->step, (long)NCSN_MAX_STEP);
    if (o->rng && !(o->rng->inc & 1u)) return ncsn__fail(NCSN_ERR_ARG, "%s: rng inc = 0x%llx must be odd", fn, (unsigned long long)o->rng->inc);
    *extra_len = 0;
    for (k = 0; extra && extra[k]; k += 2) {
        size_t kl = strlen(extra[k]), j;
        if (!extra[k + 1]) return ncsn__fail(NCSN_ERR_ARG, "%s: extra_meta key '%.64s' has no value (NULL)", fn, extra[k]);
        if (kl < 1 || kl > 63 || ncsn__st_reserved(extra[k]))
            return ncsn__fail(NCSN_ERR_ARG, "%s: extra_meta key '%.64s' must be 1 to 63 bytes and not reserved (ncsn.*, format, library, cond, act, scale_by_sigma, sigma_input, precond_sigma_data)", fn, extra[k]);
        if (strlen(extra[k + 1]) > 4096) return ncsn__fail(NCSN_ERR_ARG, "%s: extra_meta '%s' is longer than 4096 bytes", fn, extra[k]);
        for (j = 0; j < (size_t)k; j += 2)
            if (strcmp(extra[j], extra[k]) == 0) return ncsn__fail(NCSN_ERR_ARG, "%s: extra_meta key '%s' appears twice", fn, extra[k]);
        if (++n_extra > 64) return ncsn__fail(NCSN_ERR_ARG, "%s: more than 64 extra_meta entries", fn);
        *extra_len += 6 * (kl + strlen(extra[k + 1])) + 8;
    }
    if ((st = ncsn_model_check_finite(m, adam, NCSN_CHECK_PARAMS | (adam ? NCSN_CHECK_MOMENTS : 0))) != NCSN_OK) {
        snprintf(v, sizeof v, "%s", ncsn_last_error());
        return ncsn__fail(st, "%s: not saved: %s", fn, v);
    }
    return NCSN_OK;
}

/* The __metadata__ object: the model's keys first (as ncsn_model_save always wrote them). */
static void ncsn__st_meta_json(ncsn__sb *b, const ncsn__st_out *o)
{
    const ncsn_model *m = o->m;
    const ncsn_adam *adam = o->adam;
    char v[320];
    int i, k;
    ncsn__sb_printf(b, "{\"__metadata__\":{\"format\":\"pt\",\"library\":\"ncsn.h %s\",\"cond\":\"%s\",\"act\":\"%s\",\"scale_by_sigma\":\"%d\"",
                    NCSN_VERSION_STRING, m->cfg.cond == NCSN_COND_EMBED ? "embed" : "concat",
                    m->cfg.act == NCSN_ACT_SOFTPLUS ? "softplus" : "silu", m->cfg.scale_by_sigma);
    if (m->cfg.sigma_input == NCSN_SIGMA_LOG) ncsn__sb_kv(b, "sigma_input", "log");   /* absent: raw (older files keep their bytes) */
    if (m->cfg.precond) {   /* absent: not preconditioned */
        ncsn_format_f32(v, sizeof v, m->cfg.sigma_data, 9);
        ncsn__sb_kv(b, "precond_sigma_data", v);
    }
    ncsn__sb_kv(b, "ncsn.kind", adam ? "checkpoint" : "model");
    sprintf(v, "%d", m->cfg.dim);
    ncsn__sb_kv(b, "ncsn.dim", v);
    for (i = 0, k = 0; i < m->cfg.n_hidden; i++) k += sprintf(v + k, i ? ",%d" : "%d", m->cfg.hidden[i]);
    ncsn__sb_kv(b, "ncsn.hidden", v);
    sprintf(v, "%d", m->cfg.cond == NCSN_COND_EMBED ? m->cfg.embed_dim : 0);
    ncsn__sb_kv(b, "ncsn.embed_dim", v);
    sprintf(v, "%d", m->cfg.zero_init_output);
    ncsn__sb_kv(b, "ncsn.zero_init_output", v);
    if (o->checkpoint) {
        sprintf(v, "%ld", o->step);
        ncsn__sb_kv(b, "ncsn.step", v);
    }
    if (o->L > 0) {
        sprintf(v, "%d", o->L);
        ncsn__sb_kv(b, "ncsn.levels", v);
    }
    if (adam) {   /* %.9g in the "C" locale whatever the caller's: every float round-trips */
        ncsn_format_f32(v, sizeof v, adam->lr, 9); ncsn__sb_kv(b, "ncsn.adam.lr", v);
        ncsn_format_f32(v, sizeof v, adam->beta1, 9); ncsn__sb_kv(b, "ncsn.adam.beta1", v);
        ncsn_format_f32(v, sizeof v, adam->beta2, 9); ncsn__sb_kv(b, "ncsn.adam.beta2", v);
        ncsn_format_f32(v, sizeof v, adam->eps, 9); ncsn__sb_kv(b, "ncsn.adam.eps", v);
        ncsn_format_f32(v, sizeof v, adam->weight_decay, 9); ncsn__sb_kv(b, "ncsn.adam.weight_decay", v);
        sprintf(v, "%ld", adam->step); ncsn__sb_kv(b, "ncsn.adam.step", v);
    }
    if (o->rng) {
        sprintf(v, "0x%016llx", (unsigned long long)o->rng->state); ncsn__sb_kv(b, "ncsn.rng.state", v);
        sprintf(v, "0x%016llx", (unsigned long long)o->rng->inc); ncsn__sb_kv(b, "ncsn.rng.inc", v);
    }
    for (k = 0; o->extra && o->extra[k]; k += 2) ncsn__sb_kv(b, o->extra[k], o->extra[k + 1]);
    for (k = 0; o->more && o->more->meta && o->more->meta[k]; k += 2) ncsn__sb_kv(b, o->more->meta[k], o->more->meta[k + 1]);
    ncsn__sb_printf(b, "}");
}

/* The whole header into b (allocated here): metadata, then the tensors in data order (the model's,
   Adam's moments, the schedule, the trainer's), padded so that the data starts 8-byte aligned. */
static ncsn_status ncsn__st_header_json(const char *fn, ncsn__sb *b, const ncsn__st_out *o, size_t extra_len)
{
    const ncsn_model *m = o->m;
    size_t data_off = 0;
    int t, k;
    b->cap = 2048 + (size_t)m->n_tensors * 4 * 192 + extra_len + (o->more ? 4 * 192 : 0);
    for (k = 0; o->more && o->more->meta && o->more->meta[k]; k += 2) b->cap += 6 * (strlen(o->more->meta[k]) + strlen(o->more->meta[k + 1])) + 8;
    b->n = 0;
    b->ok = 1;
    b->p = (char *)ncsn__alloc(b->cap);
    if (!b->p) return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory", fn);
    ncsn__st_meta_json(b, o);
    for (t = 0; t < (o->adam ? 3 : 1) * m->n_tensors; t++) {
        const ncsn_tensor *T = &m->tensors[t % m->n_tensors];
        ncsn__st_entry_json(b, t < m->n_tensors ? "" : t < 2 * m->n_tensors ? "adam.m." : "adam.v.", T->name, T->rows, T->cols, &data_off);
    }
    if (o->L > 0) ncsn__st_entry_json(b, "", "sigmas", o->L, 0, &data_off);
    if (o->more) ncsn__st_more_header(b, m, o->more, data_off);
    ncsn__sb_printf(b, "}");
    while (b->ok && b->n % 8) ncsn__sb_printf(b, " ");   /* the data starts 8-byte aligned */
    if (!b->ok || b->n > NCSN__ST_MAX_HEADER) { NCSN_FREE(b->p); return ncsn__fail(NCSN_ERR_ARG, "%s: header too long", fn); }
    return NCSN_OK;
}

/* The header's length, the header, then every tensor's data in the header's order; 1 if all written. */
static int ncsn__st_write_body(FILE *fp, const ncsn__sb *b, const ncsn__st_out *o)
{
    const ncsn_model *m = o->m;
    const ncsn_adam *adam = o->adam;
    const ncsn__st_more *more = o->more;
    unsigned char lenb[8];
    int i, t, ok;
    for (i = 0; i < 8; i++) lenb[i] = (unsigned char)((uint64_t)b->n >> (8 * i));
    ok = fwrite(lenb, 1, 8, fp) == 8 && fwrite(b->p, 1, b->n, fp) == b->n;
    for (t = 0; t < m->n_tensors && ok; t++) ok = ncsn__put_tensor(fp, m->params, &m->tensors[t]);
    for (t = 0; adam && t < m->n_tensors && ok; t++) ok = ncsn__put_tensor(fp, adam->m, &m->tensors[t]);
    for (t = 0; adam && t < m->n_tensors && ok; t++) ok = ncsn__put_tensor(fp, adam->v, &m->tensors[t]);
    if (o->L > 0 && ok) ok = ncsn__put_f32s(fp, o->sigmas, (size_t)o->L, 1);
    for (t = 0; more && more->ema && t < m->n_tensors && ok; t++) ok = ncsn__put_tensor(fp, more->ema, &m->tensors[t]);
    for (t = 0; more && t < more->n_flat && ok; t++)
        ok = ncsn__put_f32s(fp, more->flat[t].p, (size_t)more->flat[t].rows * (size_t)(more->flat[t].cols ? more->flat[t].cols : 1), 1);
    return ok;
}

static ncsn_status ncsn__st_save(const char *fn, const char *path, const ncsn_model *m, const ncsn_adam *adam, const ncsn_rng *rng,
                                 const float *sigmas, int L, long step, const char *const *extra, int checkpoint,
                                 const ncsn__st_more *more)
{
    ncsn__st_out o;
    ncsn__sb b;
    size_t extra_len = 0;
    ncsn_output out;
    ncsn_status st;
    int ok;
    o.m = m; o.adam = adam; o.rng = rng; o.sigmas = sigmas; o.L = L; o.step = step;
    o.extra = extra; o.checkpoint = checkpoint; o.more = more;
    if ((st = ncsn__st_save_check(fn, path, &o, &extra_len)) != NCSN_OK) return st;
    if ((st = ncsn__st_header_json(fn, &b, &o, extra_len)) != NCSN_OK) return st;
    if ((st = ncsn__output_open(fn, &out, path)) != NCSN_OK) { NCSN_FREE(b.p); return st; }
    ok = ncsn__st_write_body(out.fp, &b, &o);
    NCSN_FREE(b.p);
    return ncsn__output_close(fn, &out, ok);
}

NCSNDEF ncsn_status ncsn_model_save(const ncsn_model *m, const char *path)
{
    return ncsn__st_save("ncsn_model_save", path, m, NULL, NULL, NULL, 0, 0, NULL, 0, NULL);
}

NCSNDEF ncsn_status ncsn_checkpoint_save(const ncsn_model *m, const char *path, const ncsn_adam *adam, const ncsn_rng *rng,
                                         const float *sigmas, int L, long step, const char *const *extra_meta)
{
    return ncsn__st_save("ncsn_checkpoint_save", path, m, adam, rng, sigmas, L, step, extra_meta, 1, NULL);
}

/* the size of a regular file, -1 for anything else (a pipe, a FIFO, a terminal: read to the end),
   -2 for a directory; nothing is read */
static long ncsn__regular_size(FILE *fp)
{
#if defined(NCSN__POSIX_FILES)
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0) return -1;
    if (S_ISDIR(sb.st_mode)) return -2;
    return S_ISREG(sb.st_mode) && sb.st_size <= (off_t)LONG_MAX ? (long)sb.st_size : -1;
#else
    long sz;
    if (fseek(fp, 0, SEEK_END) != 0) return -1;
    sz = ftell(fp);
    rewind(fp);
    return sz;
#endif
}

/* a loader's message with the file's name in it: "fn: 'path': what" */
static ncsn_status ncsn__with_path(ncsn_status st, const char *fn, const char *path)
{
    char msg[256];
    size_t k = strlen(fn);
    const char *e = ncsn_last_error();
    if (st == NCSN_OK || st == NCSN_ERR_NOMEM) return st;
    if (strncmp(e, fn, k) == 0 && e[k] == ':' && e[k + 1] == ' ') e += k + 2;
    snprintf(msg, sizeof msg, "%s", e);
    return ncsn__fail(st, "%s: '%s': %s", fn, path, msg);
}

/* What a reader knows of the kind of file it reads, so that a pipe carrying a valid file and then
   endless bytes (cat model.safetensors /dev/zero) is read no further than the file: the headers of
   safetensors and IDX files declare their size, and a text file holds no NUL byte. */
enum { NCSN__READ_ANY, NCSN__READ_TEXT, NCSN__READ_ST, NCSN__READ_IDX };

typedef struct ncsn__reader {
    const char *fn, *path;
    int kind;
    long size;      /* a regular file's size, else -1 */
    size_t max;     /* the caller's limit */
    size_t next;    /* the length at which the header is looked at again (SIZE_MAX: never) */
    size_t total;   /* the size the header declares (SIZE_MAX: not known) */
    int stop;       /* not this kind of file: return what was read, for the parser to name the fault */
} ncsn__reader;

/* a safetensors file's first 8 bytes give its header's length: /dev/zero (0) or random bytes (a
   huge length) are refused there, before anything else is read */
static ncsn_status ncsn__st_prefix_check(const char *fn, const char *path, const unsigned char *b, long size)
{
    uint64_t h = 0;
    int i;
    for (i = 7; i >= 0; i--) h = (h << 8) | b[i];
    if (h >= 2 && h <= NCSN__ST_MAX_HEADER && (size < 0 || h <= (uint64_t)size - 8)) return NCSN_OK;
    return ncsn__fail(NCSN_ERR_FORMAT, "%s: '%s' is not a safetensors file: its first 8 bytes announce a header of %llu bytes "
                      "(2 to %u%s)", fn, path, (unsigned long long)h, NCSN__ST_MAX_HEADER, size < 0 ? "" : ", within the file");
}

static ncsn_status ncsn__read_declared(ncsn__reader *r, uint64_t total)
{
    if (total > (uint64_t)r->max)
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: '%s': its header declares %llu bytes, over the limit of %lu", r->fn, r->path,
                          (unsigned long long)total, (unsigned long)r->max);
    r->total = (size_t)total;
    return NCSN_OK;
}

/* the 8 + hlen bytes of a safetensors file's length and header: the size is where its last tensor ends */
static ncsn_status ncsn__read_st_header(ncsn__reader *r, const unsigned char *b, size_t n)
{
    ncsn__st_file *f = (ncsn__st_file *)ncsn__alloc(sizeof *f);
    ncsn__json j;
    uint64_t end = 0;
    ncsn_status st;
    int i;
    if (!f) return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory reading '%s'", r->fn, r->path);
    memset(f, 0, sizeof *f);
    f->data_len = UINT64_MAX;   /* not known yet: only the header's own rules are checked here */
    j.p = (const char *)b + 8;
    j.end = (const char *)b + n;
    j.depth = 0;
    f->hdr_end = j.end;
    st = ncsn__st_parse_header(f, &j, b);
    for (i = 0; st == NCSN_OK && i < f->n; i++)
        if (f->e[i].end > end) end = f->e[i].end;
    NCSN_FREE(f);
    if (st != NCSN_OK) return ncsn__with_path(st, r->fn, r->path);
    /* the header was parsed with no data size known, so end may be near 2^64: saturate, not wrap */
    return ncsn__read_declared(r, end > UINT64_MAX - n ? UINT64_MAX : (uint64_t)n + end);
}

/* IDX: 4 bytes of magic, then 4 per size; the size is the header plus the sizes' product (unsigned bytes) */
static ncsn_status ncsn__read_idx_header(ncsn__reader *r, const unsigned char *b, size_t n)
{
    uint64_t prod = 1;
    size_t k;
    if (n == 4) {
        if (b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] < 1 || b[3] > 3) r->stop = 1;
        else r->next = 4 + 4 * (size_t)b[3];
        return NCSN_OK;
    }
    for (k = 4; k < n; k += 4) {
        uint32_t d = (uint32_t)b[k] << 24 | (uint32_t)b[k + 1] << 16 | (uint32_t)b[k + 2] << 8 | (uint32_t)b[k + 3];
        if (d == 0) { r->stop = 1; return NCSN_OK; }
        prod = prod > ((uint64_t)1 << 40) / d ? ((uint64_t)1 << 40) + 1 : prod * d;   /* saturates far above any max */
    }
    return ncsn__read_declared(r, (uint64_t)n + prod);
}

/* n = r->next bytes are read: what the header says of the rest */
static ncsn_status ncsn__read_header(ncsn__reader *r, const unsigned char *b, size_t n)
{
    r->next = SIZE_MAX;
    if (r->kind == NCSN__READ_IDX) return ncsn__read_idx_header(r, b, n);
    if (n > 8) return ncsn__read_st_header(r, b, n);
    if (ncsn__st_prefix_check(r->fn, r->path, b, r->size) != NCSN_OK) return NCSN_ERR_FORMAT;
    r->next = 8 + (size_t)(b[0] | b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);   /* <= 16 MiB: the upper bytes are 0 */
    return NCSN_OK;
}

/* the buffer grown for more bytes: to the declared size + 1 (to see a byte beyond it) if known,
   else the regular file's size + 1, else 4 KiB, then doubling; never past max + 1 */
static ncsn_status ncsn__read_grow(const ncsn__reader *r, unsigned char **b, size_t n, size_t *cap)
{
    size_t nc = r->total != SIZE_MAX ? r->total + 1 : *cap ? 2 * *cap : r->size > 0 ? (size_t)r->size + 1 : (size_t)1 << 12;
    unsigned char *nb;
    if (nc - 1 > r->max) nc = r->max + 1;   /* not nc > max + 1: max = SIZE_MAX would wrap */
    if (nc <= n) return ncsn__fail(NCSN_ERR_FORMAT, "%s: '%s' is larger than the limit of %lu bytes", r->fn, r->path, (unsigned long)r->max);
    if ((nb = (unsigned char *)ncsn__alloc(nc)) == NULL) return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory reading '%s'", r->fn, r->path);
    if (n) memcpy(nb, *b, n);
    NCSN_FREE(*b);
    *b = nb;
    *cap = nc;
    return NCSN_OK;
}

/* a text file's got new bytes at b + n: a NUL among them ends the reading, naming its line (or the
   compression, for data files shipped compressed, as sklearn's are, or UTF-16, which Excel's
   "Unicode text" writes) */
static ncsn_status ncsn__read_text_check(const ncsn__reader *r, const unsigned char *b, size_t n, size_t got)
{
    const unsigned char *nul = (const unsigned char *)memchr(b + n, 0, got), *p;
    const char *zip = ncsn__compressed_kind(b, n + got);
    long line = 1;
    if (!nul) return NCSN_OK;
    if (zip) {
        char prefix[1200];
        snprintf(prefix, sizeof prefix, "%s: '%.1024s' is", r->fn, r->path);
        return ncsn__fail_compressed(prefix, zip);
    }
    if (ncsn__utf16(b, n + got)) return ncsn__fail(NCSN_ERR_FORMAT, "%s: '%s' is %s", r->fn, r->path, NCSN__UTF16_MSG);
    for (p = b; (p = (const unsigned char *)memchr(p, '\n', (size_t)(nul - p))) != NULL; p++) line++;
    return ncsn__fail(NCSN_ERR_FORMAT, "%s: '%s': line %ld has a NUL byte (not a text file?)", r->fn, r->path, line);
}

/* the whole file into memory (at most max bytes); *buf from NCSN_MALLOC. path "-": stdin. Nothing
   is read before the size is asked (a pipe, a FIFO or /dev/stdin cannot seek, and a byte read to
   probe it would be lost): a regular file is read into one block of its size + 1, anything else
   into a doubling buffer, or one of the size its header declares. */
static ncsn_status ncsn__read_file(const char *fn, const char *path, size_t max, int kind, unsigned char **buf, size_t *len)
{
    FILE *fp;
    unsigned char *b = NULL;
    size_t cap = 0, n = 0;
    int is_stdin = strcmp(path, "-") == 0;
    ncsn__reader r;
    ncsn_status st = NCSN_OK;
    *buf = NULL;
    *len = 0;
    r.fn = fn; r.path = path; r.kind = kind; r.size = -1; r.max = max; r.total = SIZE_MAX; r.stop = 0;
    r.next = kind == NCSN__READ_ST ? 8 : kind == NCSN__READ_IDX ? 4 : SIZE_MAX;
    fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp) return ncsn__fail(NCSN_ERR_IO, "%s: cannot open '%s' (%s)", fn, path, strerror(errno));
    if (!is_stdin) r.size = ncsn__regular_size(fp);
    if (r.size == -2) { st = ncsn__fail(NCSN_ERR_IO, "%s: cannot read '%s' (it is a directory)", fn, path); goto out; }
    if (r.size > 0 && (unsigned long)r.size > (unsigned long)max) {
        st = ncsn__fail(NCSN_ERR_FORMAT, "%s: '%s' is %ld bytes, over the limit of %lu", fn, path, r.size, (unsigned long)max);
        goto out;
    }
    while (!r.stop) {
        size_t want, got;
        if (n == cap && (st = ncsn__read_grow(&r, &b, n, &cap)) != NCSN_OK) goto out;
        want = r.next - n < cap - n ? r.next - n : cap - n;
        got = fread(b + n, 1, want, fp);
        if (kind == NCSN__READ_TEXT && (st = ncsn__read_text_check(&r, b, n, got)) != NCSN_OK) goto out;
        n += got;
        if (got == 0) break;
        if (n > r.total) {
            st = ncsn__fail(NCSN_ERR_FORMAT, "%s: '%s' goes on past the %lu bytes its header declares (trailing bytes)", fn, path,
                            (unsigned long)r.total);
            goto out;
        }
        if (n == r.next && (st = ncsn__read_header(&r, b, n)) != NCSN_OK) goto out;
    }
    if (n > max) st = ncsn__fail(NCSN_ERR_FORMAT, "%s: '%s' is larger than the limit of %lu bytes", fn, path, (unsigned long)max);
    else if (ferror(fp)) st = ncsn__fail(NCSN_ERR_IO, "%s: cannot read '%s' (%s)", fn, path, strerror(errno));
out:
    if (!is_stdin) fclose(fp);
    if (st != NCSN_OK) { NCSN_FREE(b); return st; }
    *buf = b;
    *len = n;
    return NCSN_OK;
}

#define NCSN__MAX_FILE ((size_t)1 << 31)

NCSNDEF ncsn_status ncsn_read_file(const char *path, size_t max, unsigned char **buf, size_t *len)
{
    if (!path || !buf || !len) return ncsn__fail(NCSN_ERR_ARG, "ncsn_read_file: %s = NULL", !path ? "path" : !buf ? "buf" : "len");
    return ncsn__read_file("ncsn_read_file", path, max ? max : NCSN__MAX_FILE, NCSN__READ_ANY, buf, len);
}

NCSNDEF ncsn_status ncsn_read_text(const char *path, size_t max, unsigned char **buf, size_t *len)
{
    if (!path || !buf || !len) return ncsn__fail(NCSN_ERR_ARG, "ncsn_read_text: %s = NULL", !path ? "path" : !buf ? "buf" : "len");
    return ncsn__read_file("ncsn_read_text", path, max ? max : NCSN__MAX_FILE, NCSN__READ_TEXT, buf, len);
}

NCSNDEF ncsn_status ncsn_read_safetensors(const char *path, unsigned char **buf, size_t *len)
{
    if (!path || !buf || !len) return ncsn__fail(NCSN_ERR_ARG, "ncsn_read_safetensors: %s = NULL", !path ? "path" : !buf ? "buf" : "len");
    return ncsn__read_file("ncsn_read_safetensors", path, NCSN__MAX_FILE, NCSN__READ_ST, buf, len);
}

NCSNDEF ncsn_status ncsn_model_load(ncsn_model **out, const char *path)
{
    unsigned char *buf;
    size_t len;
    ncsn_status st;
    if (!out || !path) return ncsn__fail(NCSN_ERR_ARG, "ncsn_model_load: %s = NULL", !out ? "out" : "path");
    *out = NULL;
    if ((st = ncsn__read_file("ncsn_model_load", path, NCSN__MAX_FILE, NCSN__READ_ST, &buf, &len)) != NCSN_OK) return st;
    st = ncsn_model_load_mem(out, buf, len);
    NCSN_FREE(buf);
    return ncsn__with_path(st, "ncsn_model_load", path);
}

NCSNDEF ncsn_status ncsn_checkpoint_load(ncsn_model **model, const char *path, ncsn_adam *adam, ncsn_rng *rng,
                                         float *sigmas, int sigmas_cap, int *L, long *step)
{
    unsigned char *buf;
    size_t len;
    ncsn_status st;
    if (!path || !model) return ncsn__fail(NCSN_ERR_ARG, "ncsn_checkpoint_load: %s = NULL", !path ? "path" : "model");
    *model = NULL;
    if (adam) memset(adam, 0, sizeof *adam);
    if ((st = ncsn__read_file("ncsn_checkpoint_load", path, NCSN__MAX_FILE, NCSN__READ_ST, &buf, &len)) != NCSN_OK) return st;
    st = ncsn_checkpoint_load_mem(model, buf, len, adam, rng, sigmas, sigmas_cap, L, step);
    NCSN_FREE(buf);
    return ncsn__with_path(st, "ncsn_checkpoint_load", path);
}

NCSNDEF ncsn_status ncsn_file_meta(const char *path, const char *key, char *value, size_t cap)
{
    unsigned char *buf;
    size_t len;
    ncsn_status st;
    if (!path) return ncsn__fail(NCSN_ERR_ARG, "ncsn_file_meta: path = NULL");
    if (value && cap) value[0] = 0;
    if ((st = ncsn__read_file("ncsn_file_meta", path, NCSN__MAX_FILE, NCSN__READ_ST, &buf, &len)) != NCSN_OK) return st;
    st = ncsn_file_meta_mem(buf, len, key, value, cap);
    NCSN_FREE(buf);
    return ncsn__with_path(st, "ncsn_file_meta", path);
}

/* ---- the trainer's files ---- */
typedef struct ncsn__trainer_meta { char v[10][48]; const char *kv[23]; float *perm2; } ncsn__trainer_meta;

/* the standardisation, the permutation (as two exact float rows: perm >> 12, perm & 4095) and the
   settings that are not in a plain checkpoint */
static ncsn_status ncsn__trainer_more(const ncsn_trainer *t, ncsn__st_more *more, ncsn__trainer_meta *tm, int checkpoint)
{
    static const char *const keys[8] = { "ncsn.train.batch", "ncsn.train.weighting", "ncsn.train.schedule", "ncsn.train.ema_rate",
                                         "ncsn.train.standardize", "ncsn.train.seed", "ncsn.train.stream", "ncsn.data.radius" };
    int i;
    memset(more, 0, sizeof *more);
    sprintf(tm->v[0], "%d", t->opts.batch);
    sprintf(tm->v[1], "%d", (int)t->opts.weighting);
    sprintf(tm->v[2], "%d", (int)t->opts.schedule);
    ncsn_format_f32(tm->v[3], sizeof tm->v[3], t->opts.ema_rate, 9);   /* round-trips, whatever the locale */
    sprintf(tm->v[4], "%d", t->opts.standardize != 0);
    sprintf(tm->v[5], "%llu", (unsigned long long)t->opts.seed);
    sprintf(tm->v[6], "%llu", (unsigned long long)t->opts.stream);
    ncsn_format_f32(tm->v[7], sizeof tm->v[7], t->stdz.radius, 9);
    for (i = 0; i < 8; i++) { tm->kv[2 * i] = keys[i]; tm->kv[2 * i + 1] = tm->v[i]; }
    i = 16;
    if (t->opts.lr_decay_steps > 0) {   /* only then: files without a schedule keep their bytes */
        sprintf(tm->v[8], "%ld", t->opts.lr_decay_steps);
        ncsn_format_f32(tm->v[9], sizeof tm->v[9], t->opts.lr, 9);   /* Adam's lr is the decayed one */
        tm->kv[i++] = "ncsn.train.lr_decay_steps"; tm->kv[i++] = tm->v[8];
        tm->kv[i++] = "ncsn.train.lr"; tm->kv[i++] = tm->v[9];
    }
    if (t->opts.stable_target) { tm->kv[i++] = "ncsn.train.stable_target"; tm->kv[i++] = "1"; }   /* likewise */
    tm->kv[i] = NULL;
    more->meta = tm->kv;
    more->flat[0].name = "data.loc"; more->flat[0].p = t->stdz.loc;
    more->flat[1].name = "data.scale"; more->flat[1].p = t->stdz.scale;
    more->flat[2].name = "data.center"; more->flat[2].p = t->stdz.center;
    for (i = 0; i < 3; i++) more->flat[i].rows = t->dim;
    more->n_flat = 3;
    tm->perm2 = NULL;
    if (!checkpoint) return NCSN_OK;
    more->ema = t->ema;
    if (!(tm->perm2 = NCSN__ALLOC_N(float, 2 * (size_t)t->n))) return ncsn__fail(NCSN_ERR_NOMEM, "ncsn_trainer_save: out of memory");
    for (i = 0; i < t->n; i++) {
        tm->perm2[i] = (float)(t->perm[i] >> 12);
        tm->perm2[(size_t)t->n + i] = (float)(t->perm[i] & 4095);
    }
    more->flat[3].name = "train.perm"; more->flat[3].p = tm->perm2; more->flat[3].rows = 2; more->flat[3].cols = t->n;
    more->n_flat = 4;
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_trainer_save(const ncsn_trainer *t, const char *path, const char *const *extra_meta)
{
    ncsn__st_more more;
    ncsn__trainer_meta tm;
    ncsn_status st;
    if (!t || !t->model) return ncsn__fail(NCSN_ERR_ARG, "ncsn_trainer_save: t = NULL");
    if ((st = ncsn__trainer_more(t, &more, &tm, 1)) != NCSN_OK) return st;
    st = ncsn__st_save("ncsn_trainer_save", path, t->model, &t->adam, &t->rng, t->sigmas, t->L, t->step, extra_meta, 1, &more);
    NCSN_FREE(tm.perm2);
    return st;
}

NCSNDEF ncsn_status ncsn_trainer_save_model(const ncsn_trainer *t, const char *path, const char *const *extra_meta)
{
    ncsn__st_more more;
    ncsn__trainer_meta tm;
    ncsn_model w;
    if (!t || !t->model) return ncsn__fail(NCSN_ERR_ARG, "ncsn_trainer_save_model: t = NULL");
    ncsn__trainer_more(t, &more, &tm, 0);
    w = *t->model;   /* the same network with the weights to sample with */
    w.params = (float *)ncsn_trainer_weights(t);
    return ncsn__st_save("ncsn_trainer_save_model", path, &w, NULL, NULL, t->sigmas, t->L, t->step, extra_meta, 1, &more);
}

/* a flat tensor of rows x cols (cols 0: 1-D) into dst; NCSN_ERR_FORMAT if absent, misshapen or not finite */
static ncsn_status ncsn__st_flat_get(const ncsn__st_file *f, const char *fn, const char *name, int rows, int cols, float *dst)
{
    const ncsn__st_entry *e = ncsn__st_find(f, name);
    size_t i, count = (size_t)rows * (size_t)(cols ? cols : 1);
    if (!e) return ncsn__fail(NCSN_ERR_FORMAT, "%s: tensor %s is missing", fn, name);
    if (cols ? !(e->ndim == 2 && e->shape[0] == (uint64_t)rows && e->shape[1] == (uint64_t)cols) : !(e->ndim == 1 && e->shape[0] == (uint64_t)rows))
        return cols ? ncsn__fail(NCSN_ERR_FORMAT, "%s: tensor %s must have shape [%d, %d]", fn, name, rows, cols)
                    : ncsn__fail(NCSN_ERR_FORMAT, "%s: tensor %s must have shape [%d]", fn, name, rows);
    for (i = 0; i < count; i++) {
        float v = ncsn__le_f32(f->data + e->begin + 4u * i);
        if (!ncsn__isfinite(v)) return ncsn__fail(NCSN_ERR_FORMAT, "%s: tensor %s element %lu is not finite", fn, name, (unsigned long)i);
        dst[i] = v;
    }
    return NCSN_OK;
}

static ncsn_status ncsn__st_meta_intv(const ncsn__st_file *f, const char *fn, const char *key, int lo, int hi, int *out)
{
    char v[64];
    int r = ncsn__st_meta_get(f, key, v, sizeof v);
    if (r < 0) return NCSN_ERR_FORMAT;
    if (r == 0) return ncsn__fail(NCSN_ERR_FORMAT, "%s: metadata %s is missing: not a trainer's checkpoint", fn, key);
    if (!ncsn__parse_int(v, out) || *out < lo || *out > hi) return ncsn__fail(NCSN_ERR_FORMAT, "%s: metadata %s = '%s' must be in [%d, %d]", fn, key, v, lo, hi);
    return NCSN_OK;
}

/* the standardisation is four entries written together: a file with some but not all of them was
   cut or edited, and reading the rest as the identity (radius 0 turns the divergence rule off)
   would sample in the wrong units; 1 if it has all four, 0 if none, -1 (*st set) if some */
static int ncsn__st_stdz_present(const ncsn__st_file *f, const char *fn, ncsn_status *st)
{
    static const char *const parts[4] = { "data.loc", "data.scale", "data.center", "ncsn.data.radius" };
    char v[64];
    int i, have[4], n = 0;
    for (i = 0; i < 4; i++) {
        have[i] = i < 3 ? ncsn__st_find(f, parts[i]) != NULL : ncsn__st_meta_get(f, parts[i], v, sizeof v);
        if (have[i] < 0) { *st = NCSN_ERR_FORMAT; return -1; }
        n += have[i];
    }
    *st = NCSN_OK;
    if (n == 0 || n == 4) return n == 4;
    for (i = 0; have[i]; i++) {}
    *st = ncsn__fail(NCSN_ERR_FORMAT, "%s: the standardisation is incomplete: %s is missing (data.loc, data.scale, data.center and "
                     "ncsn.data.radius go together)", fn, parts[i]);
    return -1;
}

static ncsn_status ncsn__st_stdz(const ncsn__st_file *f, const char *fn, ncsn_stdz *s, int dim)
{
    ncsn_status st;
    char v[64];
    int d, r;
    if ((st = ncsn_stdz_identity(s, dim)) != NCSN_OK) return st;
    if ((r = ncsn__st_stdz_present(f, fn, &st)) != 1) {
        if (r < 0) ncsn_stdz_free(s);
        return st;
    }
    if ((st = ncsn__st_flat_get(f, fn, "data.loc", dim, 0, s->loc)) != NCSN_OK || (st = ncsn__st_flat_get(f, fn, "data.scale", dim, 0, s->scale)) != NCSN_OK ||
        (st = ncsn__st_flat_get(f, fn, "data.center", dim, 0, s->center)) != NCSN_OK)
        goto fail;
    for (d = 0; d < dim; d++)
        if (!(s->scale[d] > 0.0f)) { st = ncsn__fail(NCSN_ERR_FORMAT, "%s: data.scale[%d] = %g must be > 0", fn, d, (double)s->scale[d]); goto fail; }
    if ((r = ncsn__st_meta_get(f, "ncsn.data.radius", v, sizeof v)) < 0) { st = NCSN_ERR_FORMAT; goto fail; }
    if (r && (ncsn__parse_f32(v, &s->radius) != 1 || !(s->radius > 0.0f))) {   /* 0 (unknown) would turn the divergence rule off */
        st = ncsn__fail(NCSN_ERR_FORMAT, "%s: metadata ncsn.data.radius = '%s' must be a finite number > 0 (a file with the data's "
                        "statistics knows their radius)", fn, v);
        goto fail;
    }
    return NCSN_OK;
fail:
    ncsn_stdz_free(s);
    return st;
}

/* decimal digits only, at most 2^64 - 1, as the saver writes them: strtoull would take "-1" (as
   2^64 - 1), " 5", "+5" and clamp an overflow */
static int ncsn__parse_u64(const char *s, unsigned long long *out)
{
    unsigned long long v = 0;
    if (!*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (ULLONG_MAX - (unsigned)(*s - '0')) / 10) return 0;
        v = v * 10 + (unsigned)(*s - '0');
    }
    *out = v;
    return 1;
}

/* the learning-rate schedule, if the file has one (a file without it trained at a constant rate) */
static ncsn_status ncsn__st_lr_decay(const ncsn__st_file *f, const char *fn, ncsn_train_opts *o)
{
    char v[64];
    unsigned long long u;
    int r = ncsn__st_meta_get(f, "ncsn.train.lr_decay_steps", v, sizeof v);
    o->lr_decay_steps = 0;
    if (r < 0) return NCSN_ERR_FORMAT;
    if (r == 0) return NCSN_OK;
    if (!ncsn__parse_u64(v, &u) || u < 1 || u > (unsigned long long)LONG_MAX)
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: metadata ncsn.train.lr_decay_steps = '%s' must be an integer in [1, %ld]", fn, v, LONG_MAX);
    o->lr_decay_steps = (long)u;
    if ((r = ncsn__st_meta_get(f, "ncsn.train.lr", v, sizeof v)) < 0) return NCSN_ERR_FORMAT;
    if (r == 0 || ncsn__parse_f32(v, &o->lr) != 1 || !(o->lr > 0.0f))
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: metadata ncsn.train.lr = '%s' must be a number > 0 beside ncsn.train.lr_decay_steps", fn, r ? v : "(missing)");
    return NCSN_OK;
}

/* the stable target, if the file has the key (a file without it trained on plain DSM) */
static ncsn_status ncsn__st_stable_target(const ncsn__st_file *f, const char *fn, ncsn_train_opts *o)
{
    char v[64];
    int r = ncsn__st_meta_get(f, "ncsn.train.stable_target", v, sizeof v);
    o->stable_target = 0;
    if (r < 0) return NCSN_ERR_FORMAT;
    if (r == 0) return NCSN_OK;
    if (strcmp(v, "1") != 0) return ncsn__fail(NCSN_ERR_FORMAT, "%s: metadata ncsn.train.stable_target = '%s' must be 1 when present", fn, v);
    o->stable_target = 1;
    return NCSN_OK;
}

/* the options a checkpoint was trained with */
static ncsn_status ncsn__st_train_opts(const ncsn__st_file *f, const char *fn, const ncsn_model *m, const ncsn_adam *a, ncsn_train_opts *o)
{
    char v[64];
    int w, sc;
    unsigned long long u[2];
    ncsn_status st;
    *o = ncsn_train_defaults();
    o->net = m->cfg;
    o->lr = a->lr;
    if ((st = ncsn__st_meta_intv(f, fn, "ncsn.train.batch", 1, INT_MAX, &o->batch)) != NCSN_OK ||
        (st = ncsn__st_meta_intv(f, fn, "ncsn.train.weighting", 0, 2, &w)) != NCSN_OK ||
        (st = ncsn__st_meta_intv(f, fn, "ncsn.train.schedule", 0, 2, &sc)) != NCSN_OK ||
        (st = ncsn__st_meta_intv(f, fn, "ncsn.train.standardize", 0, 1, &o->standardize)) != NCSN_OK ||
        (st = ncsn__st_stable_target(f, fn, o)) != NCSN_OK)
        return st;
    o->weighting = (ncsn_weighting)w;
    o->schedule = (ncsn_schedule_kind)sc;
    if ((st = ncsn__st_meta_need(f, "ncsn.train.ema_rate", v, sizeof v)) != NCSN_OK) return st;
    if (ncsn__parse_f32(v, &o->ema_rate) != 1 || !(o->ema_rate >= 0.0f && o->ema_rate < 1.0f))
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: metadata ncsn.train.ema_rate = '%s' must be in [0, 1)", fn, v);
    for (w = 0; w < 2; w++) {
        if ((st = ncsn__st_meta_need(f, w ? "ncsn.train.stream" : "ncsn.train.seed", v, sizeof v)) != NCSN_OK) return st;
        if (!ncsn__parse_u64(v, &u[w]))
            return ncsn__fail(NCSN_ERR_FORMAT, "%s: metadata %s = '%s' is not a decimal integer in [0, 2^64)", fn, w ? "ncsn.train.stream" : "ncsn.train.seed", v);
    }
    o->seed = u[0];
    o->stream = u[1];
    return ncsn__st_lr_decay(f, fn, o);
}

/* the EMA weights and the permutation of a checkpoint into t */
static ncsn_status ncsn__st_train_state(const ncsn__st_file *f, const char *fn, ncsn_trainer *t)
{
    ncsn_status st;
    float *p2;
    unsigned char *seen;
    int i, bad, br = 0, bc = 0;
    for (i = 0; t->ema && i < t->model->n_tensors; i++) {
        const ncsn_tensor *T = &t->model->tensors[i];
        const ncsn__st_entry *e;
        char nm[64];
        snprintf(nm, sizeof nm, "ema.%s", T->name);
        if (!(e = ncsn__st_find(f, nm)) || !ncsn__st_shape_ok(e, T)) return ncsn__fail(NCSN_ERR_FORMAT, "%s: tensor %s is missing or misshapen", fn, nm);
        ncsn__st_get_tensor(f, e, T, t->ema, &bad, &br, &bc);
        if (bad) return ncsn__fail(NCSN_ERR_FORMAT, "%s: tensor %s element [%d, %d] is not finite", fn, nm, br, bc);
    }
    p2 = NCSN__ALLOC_N(float, 2 * (size_t)t->n);
    seen = NCSN__ALLOC_N(unsigned char, (size_t)t->n);
    if (!p2 || !seen) { NCSN_FREE(p2); NCSN_FREE(seen); return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory", fn); }
    memset(seen, 0, (size_t)t->n);
    if ((st = ncsn__st_flat_get(f, fn, "train.perm", 2, t->n, p2)) == NCSN_OK)
        for (i = 0; i < t->n; i++) {   /* each entry a whole number in range, each index once */
            float hi = p2[i], lo = p2[(size_t)t->n + i];
            long k = (long)hi * 4096L + (long)lo;
            if (!(hi >= 0.0f && hi < 524288.0f && lo >= 0.0f && lo < 4096.0f) || (float)(long)hi != hi || (float)(long)lo != lo ||
                k >= t->n || seen[k]) {
                st = ncsn__fail(NCSN_ERR_FORMAT, "%s: train.perm entry %d is not part of a permutation of 0..%d", fn, i, t->n - 1);
                break;
            }
            seen[k] = 1;
            t->perm[i] = (int)k;
        }
    NCSN_FREE(p2);
    NCSN_FREE(seen);
    return st;
}

static ncsn_status ncsn__trainer_resume_f(const ncsn__st_file *f, ncsn_trainer **out, const float *data, int n, int dim, int threads)
{
    static const char fn[] = "ncsn_trainer_resume";
    ncsn_model *m = NULL;
    ncsn_adam a;
    ncsn_rng rng;
    ncsn_train_opts o;
    ncsn_stdz saved;
    ncsn_trainer *t = NULL;
    long step = 0;
    int L = 0, d;
    ncsn_status st;
    memset(&a, 0, sizeof a);
    memset(&saved, 0, sizeof saved);
    if ((st = ncsn__st_checkpoint(f, &m, &a, &rng, NULL, 0, &L, &step)) != NCSN_OK) return st;
    if (L < 2 || m->cfg.dim != dim) {
        st = ncsn__fail(NCSN_ERR_FORMAT, "%s: the checkpoint has %d levels and dimension %d; the data have dimension %d", fn, L, m->cfg.dim, dim);
        goto fail;
    }
    if (a.step != step) {   /* the trainer steps Adam once a step: another count was edited (2^62 would fail only at the next save) */
        st = ncsn__fail(NCSN_ERR_FORMAT, "%s: metadata ncsn.adam.step = %ld differs from ncsn.step = %ld: not a trainer's checkpoint", fn, a.step, step);
        goto fail;
    }
    if ((st = ncsn__st_train_opts(f, fn, m, &a, &o)) != NCSN_OK || (st = ncsn__st_stdz(f, fn, &saved, dim)) != NCSN_OK) goto fail;
    o.threads = threads;
    o.levels = L;
    if ((st = ncsn__trainer_alloc(&t, &o, data, n, dim, fn)) != NCSN_OK) goto fail;
    for (d = 0; d < dim; d++)   /* the same data give the same standardisation, bit for bit */
        if (ncsn__f2u(saved.loc[d]) != ncsn__f2u(t->stdz.loc[d]) || ncsn__f2u(saved.scale[d]) != ncsn__f2u(t->stdz.scale[d])) {
            st = ncsn__fail(NCSN_ERR_FORMAT, "%s: these are not the data the checkpoint was trained on (column %d: mean %g, std %g; saved %g, %g)",
                            fn, d + 1, (double)t->stdz.loc[d], (double)t->stdz.scale[d], (double)saved.loc[d], (double)saved.scale[d]);
            goto fail;
        }
    t->model = m; m = NULL;
    t->adam = a; memset(&a, 0, sizeof a);
    t->rng = rng;
    t->step = step;
    t->L = L;
    if (!(t->sigmas = NCSN__ALLOC_N(float, (size_t)L))) { st = ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory", fn); goto fail; }
    if ((st = ncsn__st_flat_get(f, fn, "sigmas", L, 0, t->sigmas)) != NCSN_OK) goto fail;
    t->opts.sigma_max = t->sigmas[0];
    t->opts.sigma_min = t->sigmas[L - 1];
    if ((st = ncsn__trainer_finish(t, fn)) != NCSN_OK || (st = ncsn__st_train_state(f, fn, t)) != NCSN_OK) goto fail;
    ncsn_stdz_free(&saved);
    *out = t;
    return NCSN_OK;
fail:
    ncsn_stdz_free(&saved);
    ncsn_adam_free(&a);
    ncsn_model_free(m);
    ncsn_trainer_free(t);
    return st;
}

/* parse a file's bytes (*f from NCSN_MALLOC, freed by the caller) */
static ncsn_status ncsn__parse_mem(const char *fn, const unsigned char *buf, size_t len, ncsn__st_file **f)
{
    ncsn_status st;
    if (!(*f = (ncsn__st_file *)ncsn__alloc(sizeof **f))) return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory", fn);
    if ((st = ncsn__st_parse(*f, buf, len)) != NCSN_OK) { NCSN_FREE(*f); *f = NULL; }
    return st;
}

NCSNDEF ncsn_status ncsn_trainer_resume_mem(ncsn_trainer **out, const unsigned char *buf, size_t len, const float *data, int n, int dim,
                                            int threads)
{
    ncsn__st_file *f;
    ncsn_status st;
    if (!out || !buf || !data) return ncsn__fail(NCSN_ERR_ARG, "ncsn_trainer_resume: %s = NULL", !out ? "out" : !buf ? "buf" : "data");
    *out = NULL;
    if ((st = ncsn__parse_mem("ncsn_trainer_resume", buf, len, &f)) != NCSN_OK) return st;
    st = ncsn__trainer_resume_f(f, out, data, n, dim, threads);
    NCSN_FREE(f);
    return st;
}

NCSNDEF ncsn_status ncsn_stdz_load_mem(ncsn_stdz *s, const unsigned char *buf, size_t len, int dim)
{
    ncsn__st_file *f;
    ncsn_status st;
    if (!s || !buf) return ncsn__fail(NCSN_ERR_ARG, "ncsn_stdz_load: %s = NULL", !s ? "s" : "buf");
    memset(s, 0, sizeof *s);
    if ((st = ncsn__parse_mem("ncsn_stdz_load", buf, len, &f)) != NCSN_OK) return st;
    st = ncsn__st_stdz(f, "ncsn_stdz_load", s, dim);
    NCSN_FREE(f);
    return st;
}

NCSNDEF ncsn_status ncsn_trainer_resume(ncsn_trainer **out, const char *path, const float *data, int n, int dim, int threads)
{
    unsigned char *buf;
    size_t len;
    ncsn_status st;
    if (!out || !path) return ncsn__fail(NCSN_ERR_ARG, "ncsn_trainer_resume: %s = NULL", !out ? "out" : "path");
    *out = NULL;
    if ((st = ncsn_read_safetensors(path, &buf, &len)) != NCSN_OK) return st;
    st = ncsn_trainer_resume_mem(out, buf, len, data, n, dim, threads);
    NCSN_FREE(buf);
    return ncsn__with_path(st, "ncsn_trainer_resume", path);
}

NCSNDEF ncsn_status ncsn_stdz_load(ncsn_stdz *s, const char *path, int dim)
{
    unsigned char *buf;
    size_t len;
    ncsn_status st;
    if (!s || !path) return ncsn__fail(NCSN_ERR_ARG, "ncsn_stdz_load: %s = NULL", !s ? "s" : "path");
    memset(s, 0, sizeof *s);
    if ((st = ncsn_read_safetensors(path, &buf, &len)) != NCSN_OK) return st;
    st = ncsn_stdz_load_mem(s, buf, len, dim);
    NCSN_FREE(buf);
    return ncsn__with_path(st, "ncsn_stdz_load", path);
}

NCSNDEF ncsn_status ncsn_csv_load(const char *path, const ncsn_csv_opts *opts, float **data, int *n, int *dim,
                                  char *names, size_t names_cap)
{
    ncsn_csv_opts o;
    unsigned char *buf;
    size_t len;
    ncsn_status st;
    if (data) *data = NULL;
    if (!path) return ncsn__fail(NCSN_ERR_ARG, "ncsn_csv_load: path = NULL");
    if (opts) o = *opts; else memset(&o, 0, sizeof o);
    if (!o.source) o.source = strcmp(path, "-") == 0 ? "<stdin>" : path;
    if (o.max_bytes == 0) o.max_bytes = (size_t)1 << 30;
    if ((st = ncsn__read_file("ncsn_csv_load", path, o.max_bytes, NCSN__READ_TEXT, &buf, &len)) != NCSN_OK) return st;
    st = ncsn_csv_parse((const char *)buf, len, &o, data, n, dim, names, names_cap);
    NCSN_FREE(buf);
    return st;
}
#endif /* NCSN_NO_STDIO */

/* ---- IDX files ---- */
/* The header of an IDX file of unsigned bytes with ndim sizes: each size into dims; the file must
   hold exactly 4 + 4 ndim + their product bytes. Every check before any allocation; the product
   is compared with the bytes present one factor at a time, so it cannot overflow. */
static ncsn_status ncsn__idx_header(const char *fn, const char *src, const unsigned char *buf, size_t len, int ndim,
                                    const char *const *field, uint32_t *dims, size_t *count)
{
    size_t head = 4 + 4 * (size_t)ndim, have, prod = 1;
    char sizes[96];
    int k, w = 0, over = 0;
    if (len < 4) return ncsn__fail(NCSN_ERR_FORMAT, "%s: %s: truncated: %lu bytes, less than the 4-byte magic", fn, src, (unsigned long)len);
    if (buf[0] == 0x1f && buf[1] == 0x8b)
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: %s: magic is gzip's (1f 8b): decompress the file first (gzip -dk)", fn, src);
    if (buf[0] != 0 || buf[1] != 0)
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: %s: magic %02x %02x %02x %02x is not an IDX file's (00 00 type ndim)", fn, src,
                          buf[0], buf[1], buf[2], buf[3]);
    if (buf[2] != 0x08)
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: %s: element type 0x%02x, not 0x08 (unsigned byte)", fn, src, buf[2]);
    if (buf[3] != ndim)
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: %s: ndim = %d, expected %d (%s)", fn, src, buf[3], ndim,
                          ndim == 3 ? "an images file" : "a labels file");
    if (len < head)
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: %s: truncated header: %lu bytes, the %d sizes need %lu", fn, src,
                          (unsigned long)len, ndim, (unsigned long)head);
    have = len - head;
    for (k = 0; k < ndim; k++) {
        const unsigned char *q = buf + 4 + 4 * (size_t)k;
        dims[k] = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | (uint32_t)q[3];
        if (dims[k] < 1 || dims[k] > (uint32_t)INT_MAX)
            return ncsn__fail(NCSN_ERR_FORMAT, "%s: %s: %s = %lu must be in [1, %d]", fn, src, field[k], (unsigned long)dims[k], INT_MAX);
        w += snprintf(sizes + w, sizeof sizes - w, "%s%s = %lu", k ? ", " : "", field[k], (unsigned long)dims[k]);
        if (dims[k] > have / prod) over = 1;   /* the product passes the bytes present: stop multiplying */
        else prod *= dims[k];
    }
    if (ndim == 3 && (uint64_t)dims[1] * dims[2] > (uint64_t)INT_MAX)
        return ncsn__fail(NCSN_ERR_FORMAT, "%s: %s: rows x cols = %lu x %lu is over %d", fn, src, (unsigned long)dims[1],
                          (unsigned long)dims[2], INT_MAX);
    if (over || prod != have)
        return over ? ncsn__fail(NCSN_ERR_FORMAT, "%s: %s: the header (%s) announces more data bytes than the %lu the file holds "
                                 "(truncated)", fn, src, sizes, (unsigned long)have)
                    : ncsn__fail(NCSN_ERR_FORMAT, "%s: %s: the header (%s) announces %lu data bytes, the file holds %lu (%s)", fn,
                                 src, sizes, (unsigned long)prod, (unsigned long)have, prod < have ? "trailing bytes" : "truncated");
    *count = prod;
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_idx_images_mem(const unsigned char *buf, size_t len, const char *source, float **data,
                                        int *n, int *rows, int *cols)
{
    static const char *const field[3] = { "count", "rows", "cols" };
    static const char *fn = "ncsn_idx_images";
    uint32_t dims[3];
    size_t count = 0, k;
    ncsn_status st;
    if (data) *data = NULL;
    if (n) *n = 0;
    if (rows) *rows = 0;
    if (cols) *cols = 0;
    if (!buf || !data || !n || !rows || !cols)
        return ncsn__fail(NCSN_ERR_ARG, "%s: %s = NULL", fn, !buf ? "buf" : !data ? "data" : !n ? "n" : !rows ? "rows" : "cols");
    if ((st = ncsn__idx_header(fn, source ? source : "idx", buf, len, 3, field, dims, &count)) != NCSN_OK) return st;
    if ((*data = NCSN__ALLOC_N(float, count)) == NULL)
        return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory for %lu pixels", fn, (unsigned long)count);
    buf += 16;
    for (k = 0; k < count; k++) (*data)[k] = (float)buf[k] / 255.0f;
    *n = (int)dims[0];
    *rows = (int)dims[1];
    *cols = (int)dims[2];
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_idx_labels_mem(const unsigned char *buf, size_t len, const char *source, int **labels, int *n)
{
    static const char *const field[1] = { "count" };
    static const char *fn = "ncsn_idx_labels";
    uint32_t dims[1];
    size_t count = 0, k;
    ncsn_status st;
    if (labels) *labels = NULL;
    if (n) *n = 0;
    if (!buf || !labels || !n) return ncsn__fail(NCSN_ERR_ARG, "%s: %s = NULL", fn, !buf ? "buf" : !labels ? "labels" : "n");
    if ((st = ncsn__idx_header(fn, source ? source : "idx", buf, len, 1, field, dims, &count)) != NCSN_OK) return st;
    if ((*labels = NCSN__ALLOC_N(int, count)) == NULL)
        return ncsn__fail(NCSN_ERR_NOMEM, "%s: out of memory for %lu labels", fn, (unsigned long)count);
    for (k = 0; k < count; k++) (*labels)[k] = buf[8 + k];
    *n = (int)dims[0];
    return NCSN_OK;
}

#ifndef NCSN_NO_STDIO
NCSNDEF ncsn_status ncsn_idx_load_images(const char *path, float **data, int *n, int *rows, int *cols)
{
    unsigned char *buf;
    size_t len;
    ncsn_status st;
    if (data) *data = NULL;
    if (!path) return ncsn__fail(NCSN_ERR_ARG, "ncsn_idx_load_images: path = NULL");
    if ((st = ncsn__read_file("ncsn_idx_load_images", path, NCSN__MAX_FILE, NCSN__READ_IDX, &buf, &len)) != NCSN_OK) return st;
    st = ncsn_idx_images_mem(buf, len, path, data, n, rows, cols);
    NCSN_FREE(buf);
    return st;
}

NCSNDEF ncsn_status ncsn_idx_load_labels(const char *path, int **labels, int *n)
{
    unsigned char *buf;
    size_t len;
    ncsn_status st;
    if (labels) *labels = NULL;
    if (!path) return ncsn__fail(NCSN_ERR_ARG, "ncsn_idx_load_labels: path = NULL");
    if ((st = ncsn__read_file("ncsn_idx_load_labels", path, NCSN__MAX_FILE, NCSN__READ_IDX, &buf, &len)) != NCSN_OK) return st;
    st = ncsn_idx_labels_mem(buf, len, path, labels, n);
    NCSN_FREE(buf);
    return st;
}

NCSNDEF ncsn_status ncsn_idx_load(const char *images_path, const char *labels_path, float **data, int **labels,
                                  int *n, int *rows, int *cols)
{
    int nl = 0;
    ncsn_status st;
    if (labels) *labels = NULL;
    if ((st = ncsn_idx_load_images(images_path, data, n, rows, cols)) != NCSN_OK) return st;
    if ((st = ncsn_idx_load_labels(labels_path, labels, &nl)) == NCSN_OK && nl != *n)
        st = ncsn__fail(NCSN_ERR_FORMAT, "ncsn_idx_load: %s: count = %d labels, but %s: count = %d images", labels_path, nl,
                        images_path, *n);
    if (st != NCSN_OK) {
        NCSN_FREE(*data); *data = NULL; *n = 0; *rows = 0; *cols = 0;
        if (labels) { NCSN_FREE(*labels); *labels = NULL; }
    }
    return st;
}
#endif

/* ---- 15. self-test ------------------------------------------------------------------------------
   Each part recomputes some series of golden/ exactly as tests/golden_gen.c does and hashes their
   bits in file order: FNV-1a (64-bit) over each value's bytes, least significant first (4 for a
   float or an integer, 8 for a double). The expected hashes below are written by `make golden`
   from the golden files; `make test` checks that they still match golden/. Do not edit by hand. */
#define NCSN__SELFTEST_RNG    0x0d1bdcc248fb7bd4ULL   /* rng.txt: the series of seed 42 */
#define NCSN__SELFTEST_MATH   0xf64bc133d8687f4fULL   /* math.txt: all */
#define NCSN__SELFTEST_MODEL  0x31c15340bf718e82ULL   /* model.txt: all */
#define NCSN__SELFTEST_TRAIN  0x0f950ea76a697083ULL   /* train.txt: loss, weight */
#define NCSN__SELFTEST_SAMPLE 0xdbce0168ecacd42cULL   /* sample.txt: all */
#define NCSN__SELFTEST_PARTS 5

static void ncsn__hash_bits(uint64_t *h, uint64_t bits, int bytes)
{
    int k;
    for (k = 0; k < bytes; k++) {
        *h ^= (bits >> (8 * k)) & 0xffu;
        *h *= 0x100000001b3ULL;
    }
}
static void ncsn__hash_f32(uint64_t *h, float v) { ncsn__hash_bits(h, ncsn__f2u(v), 4); }
static void ncsn__hash_f64(uint64_t *h, double v) { ncsn__hash_bits(h, ncsn__d2u(v), 8); }
static void ncsn__hash_f32s(uint64_t *h, const float *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) ncsn__hash_f32(h, v[i]);
}

/* rng.txt, seed (42, 54): raw outputs, bounded draws, uniforms, normals, a jump ahead */
static ncsn_status ncsn__selftest_rng(uint64_t *h)
{
    ncsn_rng r;
    float z[63];
    int i;
    ncsn_rng_seed(&r, 42u, 54u);
    for (i = 0; i < 32; i++) ncsn__hash_bits(h, ncsn_rng_u32(&r), 4);
    for (i = 0; i < 16; i++) ncsn__hash_bits(h, ncsn_rng_bounded(&r, 6), 4);
    for (i = 0; i < 8; i++) ncsn__hash_bits(h, ncsn_rng_bounded(&r, 3000000019u), 4);
    for (i = 0; i < 32; i++) ncsn__hash_f32(h, ncsn_rng_uniform(&r));
    ncsn_rng_normals(&r, z, 63);
    ncsn__hash_f32s(h, z, 63);
    ncsn_rng_advance(&r, 1000003u);
    for (i = 0; i < 4; i++) ncsn__hash_bits(h, ncsn_rng_u32(&r), 4);
    return NCSN_OK;
}

/* ldexpf(m, e) for m in [1, 2), e in [-149, 128], without libm: every step is exact but the
   last, which rounds once (to a subnormal or to infinity) as ldexpf does */
static float ncsn__selftest_ldexpf(float m, int e)
{
    if (e > 127) return m * ncsn__u2f(0x7f000000u) * 2.0f;
    if (e < -126) return m * ncsn__u2f(0x00800000u) * ncsn__u2f((uint32_t)(e + 126 + 127) << 23);
    return m * ncsn__u2f((uint32_t)(e + 127) << 23);
}

/* math.txt: every function on its grid, the edges, the double functions */
static ncsn_status ncsn__selftest_math(uint64_t *h)
{
    static const float edge[] = { -NCSN__EXPF_OVERFLOW, -88.8f, -95.0f, -103.0f, -104.0f, -87.5f, -150.0f };
    static const float big[] = { 6588468.0f, 1e9f, 1e12f, 3e38f, -4.42746e11f, 131072.5f };
    int i;
    for (i = 0; i <= 400; i++) ncsn__hash_f32(h, ncsn_expf(-104.0f + 193.0f * (float)i / 400.0f));
    for (i = 0; i <= 400; i++)
        ncsn__hash_f32(h, ncsn_logf(ncsn__selftest_ldexpf(1.0f + (float)(i % 23) / 23.0f, -149 + (i * 277) / 400)));
    for (i = 0; i <= 200; i++) ncsn__hash_f32(h, ncsn_log1pf((-1.0f + 2.0f * (float)i / 200.0f) * 0.999f));
    for (i = 0; i <= 400; i++) {
        float x = -60.0f + 120.0f * (float)i / 400.0f;
        ncsn__hash_f32(h, ncsn_sinf(x));
        ncsn__hash_f32(h, ncsn_cosf(x));
    }
    for (i = 0; i <= 200; i++) {
        float x = -30.0f + 60.0f * (float)i / 200.0f;
        ncsn__hash_f32(h, ncsn_sigmoidf(x));
        ncsn__hash_f32(h, ncsn_siluf(x));
        ncsn__hash_f32(h, ncsn_softplusf(x));
    }
    for (i = 0; i < (int)(sizeof edge / sizeof edge[0]); i++) {
        ncsn__hash_f32(h, ncsn_sigmoidf(edge[i]));
        ncsn__hash_f32(h, ncsn_siluf(edge[i]));
    }
    for (i = 0; i < (int)(sizeof big / sizeof big[0]); i++) {
        ncsn__hash_f32(h, ncsn_sinf(big[i]));
        ncsn__hash_f32(h, ncsn_cosf(big[i]));
    }
    ncsn__hash_f64(h, ncsn_sinpi(2251799813685248.5));
    ncsn__hash_f64(h, ncsn_cospi(2251799813685249.5));
    for (i = 0; i <= 100; i++) {   /* 2^(20 i - 1000) is a normal double: the product is exact */
        ncsn__hash_f64(h, ncsn_exp(-700.0 + 1400.0 * (double)i / 100.0));
        ncsn__hash_f64(h, ncsn_log((1.0 + (double)i / 101.0) * ncsn__u2d((uint64_t)(20 * i - 1000 + 1023) << 52)));
        ncsn__hash_f64(h, ncsn_cospi((double)i / 100.0));
    }
    return NCSN_OK;
}

/* model.txt, one case: a small model at init on fixed inputs; outputs, input gradients, every
   seventh parameter gradient of d(|out|^2 / 2) */
static ncsn_status ncsn__selftest_net(uint64_t *h, ncsn_config cfg)
{
    ncsn_model *m = NULL;
    ncsn_rng r;
    float x[7 * 4], sig[7], out[7 * 4], dx[7 * 4];
    size_t n = 7 * (size_t)cfg.dim, i;
    ncsn_status st;
    ncsn_rng_seed(&r, 2019, 1);
    if ((st = ncsn_model_create(&m, &cfg)) != NCSN_OK) return st;
    ncsn_model_init(m, &r);
    if (cfg.zero_init_output) {   /* values in the zero output layer, so that the output is not 0 */
        const ncsn_layer *L = &m->layers[m->n_layers - 1];
        for (i = 0; i < (size_t)L->in * (size_t)L->out; i++) m->params[L->w + i] = 0.01f * ncsn_rng_normal(&r);
    }
    ncsn_rng_normals(&r, x, n);
    for (i = 0; i < 7; i++) sig[i] = i < 3 ? 0.5f : (float)(i + 1);
    if ((st = ncsn_model_forward(m, out, x, sig, 7)) == NCSN_OK) {
        ncsn__hash_f32s(h, out, n);
        ncsn_model_zero_grad(m);
        st = ncsn_model_backward(m, dx, out);
        ncsn__hash_f32s(h, dx, n);
        for (i = 0; i < m->n_params; i += 7) ncsn__hash_f32(h, m->grads[i]);
    }
    ncsn_model_free(m);
    return st;
}

static ncsn_status ncsn__selftest_model(uint64_t *h)
{
    ncsn_config c = ncsn_config_concat(3, 20, 2);
    ncsn_status st;
    c.act = NCSN_ACT_SOFTPLUS;
    c.scale_by_sigma = 1;
    if ((st = ncsn__selftest_net(h, ncsn_config_concat(2, 37, 3))) != NCSN_OK) return st;
    if ((st = ncsn__selftest_net(h, ncsn_config_embed(2, 16, 33, 2))) != NCSN_OK) return st;
    return ncsn__selftest_net(h, c);
}

/* train.txt: 50 Adam steps of DSM on seed 000's data with a small ScoreNet; losses, weights */
static ncsn_status ncsn__selftest_train(uint64_t *h)
{
    ncsn_config cfg = ncsn_config_concat(2, 32, 3);
    ncsn_model *m = NULL;
    ncsn_adam opt;
    ncsn_dsm_batch bt;
    ncsn_rng r;
    float data[64 * 2], sig[10], loss = 0.0f;
    size_t i;
    int step;
    ncsn_status st;
    memset(&opt, 0, sizeof opt);
    memset(&bt, 0, sizeof bt);
    ncsn_rng_seed(&r, 7, 0);
    ncsn_schedule(sig, 10, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_data_two_gaussians(&r, data, 64);
    if ((st = ncsn_model_create(&m, &cfg)) != NCSN_OK) return st;
    ncsn_model_init(m, &r);
    if ((st = ncsn_adam_create(&opt, m->n_params, 1e-3f)) == NCSN_OK) st = ncsn_dsm_batch_alloc(&bt, 64, 2);
    for (step = 0; step < 50 && st == NCSN_OK; step++) {
        ncsn_model_zero_grad(m);
        st = ncsn_dsm_loss(m, &bt, data, 64, sig, 10, NCSN_WEIGHT_SIGMA2, &r, &loss);
        if (st == NCSN_OK) st = ncsn_model_adam_step(m, &opt);
        ncsn__hash_f32(h, loss);
    }
    for (i = 0; i < m->n_params && st == NCSN_OK; i += 3) ncsn__hash_f32(h, m->params[i]);
    ncsn_dsm_batch_free(&bt);
    ncsn_adam_free(&opt);
    ncsn_model_free(m);
    return st;
}

/* sample.txt: annealed and plain Langevin with the exact score, annealed with a small network */
static ncsn_status ncsn__selftest_sample(uint64_t *h)
{
    ncsn_sampler_opts o = ncsn_sampler_defaults();
    ncsn_config cfg = ncsn_config_embed(2, 8, 16, 2);
    ncsn_model *m = NULL;
    ncsn_rng r;
    float sig[5], x[16 * 2];
    ncsn_status st;
    int k;
    ncsn_schedule(sig, 5, 20.0f, 1.0f, NCSN_SCHEDULE_GEOMETRIC);
    ncsn_rng_seed(&r, 11, 3);
    o.eps = 0.1f;
    o.steps_per_level = 20;
    o.init = NCSN_INIT_UNIFORM;
    o.init_lo = -8.0f;
    o.init_hi = 8.0f;
    if ((st = ncsn_sample_annealed(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, sig, 5, &o, &r, x, 16)) != NCSN_OK) return st;
    ncsn__hash_f32s(h, x, 32);
    if ((st = ncsn_sample_langevin(ncsn_gmm_score_fn, (void *)ncsn_gmm_toy(), 2, 0.0f, 0.1f, 50, &o, &r, x, 16)) != NCSN_OK) return st;
    ncsn__hash_f32s(h, x, 32);
    if ((st = ncsn_model_create(&m, &cfg)) != NCSN_OK) return st;
    m->cfg.zero_init_output = 0;
    ncsn_model_init(m, &r);
    o = ncsn_sampler_defaults();
    o.form = NCSN_LANGEVIN_SONG;
    o.eps = 5e-7f;
    o.steps_per_level = 10;
    o.init = NCSN_INIT_NORMAL;
    o.denoise_final = 1;
    ncsn_schedule(sig, 5, 10.0f, 0.01f, NCSN_SCHEDULE_GEOMETRIC);
    st = ncsn_sample_annealed(ncsn_model_score, m, 2, sig, 5, &o, &r, x, 16);
    ncsn__hash_f32s(h, x, 32);
    o.form = NCSN_LANGEVIN_SONG_LM;   /* the predictors, each from the same rng state */
    for (k = NCSN_PREDICT_ANCESTRAL; k <= NCSN_PREDICT_ODE && st == NCSN_OK; k++) {
        ncsn_rng rk = r;
        o.predictor = k;
        st = ncsn_sample_annealed(ncsn_model_score, m, 2, sig, 5, &o, &rk, x, 16);
        ncsn__hash_f32s(h, x, 32);
    }
    ncsn_model_free(m);
    return st;
}

/* Adam must refuse a gradient of +inf or NaN anywhere, also inside its vector pass */
static int ncsn__selftest_nonfinite(void)
{
    float p[256], g[256], mv[512];
    ncsn_adam a;
    int k, refused = 0;
    memset(&a, 0, sizeof a);
    a.lr = 1e-3f; a.beta1 = 0.9f; a.beta2 = 0.999f; a.eps = 1e-8f;
    a.n = 256; a.m = mv; a.v = mv + 256;
    for (k = 0; k < 2; k++) {
        memset(p, 0, sizeof p); memset(g, 0, sizeof g); memset(mv, 0, sizeof mv);
        g[100] = ncsn__u2f(k ? 0x7fc00000u : 0x7f800000u);
        refused += ncsn_adam_step(&a, p, g) == NCSN_ERR_NONFINITE;
    }
    return refused == 2;
}

static const struct {
    const char *name;
    ncsn_status (*run)(uint64_t *h);
    const char *cause;   /* the build setting that usually causes a difference here */
} ncsn__selftest_parts[NCSN__SELFTEST_PARTS] = {
    { "PCG32 and normals", ncsn__selftest_rng, "the normals use the math functions: float arithmetic changed (unsafe-math?), or a miscompiled build" },
    { "math functions", ncsn__selftest_math, "float arithmetic changed: unsafe-math (clang's -funsafe-math-optimizations, "
                                             "-fassociative-math, -freciprocal-math) or gcc's -fsingle-precision-constant?" },
    { "network forward/backward", ncsn__selftest_model, "float arithmetic changed (unsafe-math, or products fused into sums?)" },
    { "DSM with Adam step", ncsn__selftest_train, "float arithmetic changed (unsafe-math or -fsingle-precision-constant?)" },
    { "Langevin sampler step", ncsn__selftest_sample, "float arithmetic changed (unsafe-math?)" },
};

/* subnormals flushed to zero in this thread (FTZ/DAZ), as crtfastmath.o sets them for a whole
   program linked with -ffast-math; volatile keeps the compiler from folding the products */
static int ncsn__flushes_subnormals(void)
{
    volatile float tiny = 1e-30f, small = 1e-10f, sub = ncsn__u2f(0x00000400u), two = 2.0f;
    return tiny * small == 0.0f || sub * two == 0.0f;   /* 1e-40: a subnormal result; 2^-139: a subnormal input */
}

/* the self-test against given hashes (ncsn_selftest: the embedded ones) */
static ncsn_status ncsn__selftest_against(const uint64_t *want)
{
    int k;
    for (k = 0; k < NCSN__SELFTEST_PARTS; k++) {
        uint64_t h = 0xcbf29ce484222325ULL;
        ncsn_status st = ncsn__selftest_parts[k].run(&h);
        if (st != NCSN_OK) {   /* out of memory, or a call refused what the golden run accepted */
            char why[sizeof ncsn__errbuf];
            snprintf(why, sizeof why, "%s", ncsn_last_error());
            return ncsn__fail(st == NCSN_ERR_NOMEM ? st : NCSN_ERR_BUILD, "ncsn_selftest: %s: %s", ncsn__selftest_parts[k].name, why);
        }
        if (h != want[k])
            return ncsn__fail(NCSN_ERR_BUILD, "ncsn_selftest: %s hash 0x%016llx != 0x%016llx expected: %s", ncsn__selftest_parts[k].name,
                              (unsigned long long)h, (unsigned long long)want[k],
                              ncsn__flushes_subnormals() ? "subnormals are flushed to zero (FTZ/DAZ: an object built with -ffast-math "
                                                           "in the program?)" : ncsn__selftest_parts[k].cause);
    }
    if (!ncsn__selftest_nonfinite())
        return ncsn__fail(NCSN_ERR_BUILD, "ncsn_selftest: Adam accepted an infinite or NaN gradient: the build deleted NaN/infinity "
                                          "checks (-ffinite-math-only hidden from the preprocessor?)");
    return NCSN_OK;
}

NCSNDEF ncsn_status ncsn_selftest(void)
{
    static const uint64_t want[NCSN__SELFTEST_PARTS] = { NCSN__SELFTEST_RNG, NCSN__SELFTEST_MATH, NCSN__SELFTEST_MODEL,
                                                         NCSN__SELFTEST_TRAIN, NCSN__SELFTEST_SAMPLE };
    return ncsn__selftest_against(want);
}

#if defined(NCSN_STATIC) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#endif /* NCSN_IMPLEMENTATION_DONE */
#endif /* NCSN_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
This software is available under 2 licenses -- choose whichever you prefer.
------------------------------------------------------------------------------
ALTERNATIVE A - MIT License
Copyright (c) 2026 the ncsn.h authors
Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:
The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
ALTERNATIVE B - Public Domain (www.unlicense.org)
This is free and unencumbered software released into the public domain.
Anyone is free to copy, modify, publish, use, compile, sell, or distribute this
software, either in source code form or as a compiled binary, for any purpose,
commercial or non-commercial, and by any means.
------------------------------------------------------------------------------
*/
