/* ncsn_cli.c - the `ncsn` command: train a score network on CSV data, sample from it, evaluate
   its scores, describe a model file. For people who do not write C. `make` builds it as
   build/default/ncsn. Run `ncsn --help` (or `ncsn COMMAND --help`).

     ncsn train DATA.csv -o model.safetensors [--steps N --batch B --lr X --levels L ...]
     ncsn sample model.safetensors -n 1000 > samples.csv
     ncsn score model.safetensors --sigma 0.1 < points.csv > scores.csv
     ncsn info model.safetensors
     ncsn selftest

   Exit codes: 0 ok, 1 usage error, 2 bad input file, 3 numerical failure, 4 cannot write
   output, 5 out of memory, 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM (128 + the signal;
   a checkpoint was written first). A path "-" is stdin (an input) or stdout (-o -). Outputs go
   only to paths given on the command line, never to one read from a file. */
#define _XOPEN_SOURCE 700   /* POSIX 2008 with XSI: clock_gettime, isatty, fileno, mkstemp, realpath */
#define _FILE_OFFSET_BITS 64   /* stat and readdir on 32-bit builds: 64-bit inode numbers (EOVERFLOW) */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "common.h"   /* now(): wall-clock seconds */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <limits.h>

/* the most steps (--steps, --checkpoint-every, --log-every): 2^40, or where long has 32 bits
   NCSN_MAX_STEP (2^30), the most a checkpoint holds: a longer run failed at its first checkpoint past it */
#if LONG_MAX > 0x7fffffffL
#define MAX_STEPS (1L << 40)
#else
#define MAX_STEPS NCSN_MAX_STEP
#endif

enum { EXIT_USAGE = 1, EXIT_INPUT = 2, EXIT_NUMERIC = 3, EXIT_OUTPUT = 4, EXIT_NOMEM = 5, EXIT_SIGINT = 130, EXIT_SIGTERM = 143 };

static const char *cmd = "ncsn";      /* "ncsn train" etc., for messages */

/* a message on stderr; what it quotes (names and values from files) is escaped first */
static int fail(int code, const char *fmt, ...)
{
    char raw[8192], safe[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    ncsn_text_escape(safe, sizeof safe, raw);
    fprintf(stderr, "%s: %s\n", cmd, safe);
    return code;
}

static const char *shown(const char *path) { return strcmp(path, "-") == 0 ? "<stdin>" : path; }

/* the exit code for a library failure while reading input, with its message (or a rewording) */
static int input_fail(ncsn_status st, const char *msg)
{
    return fail(st == NCSN_ERR_NOMEM ? EXIT_NOMEM : st == NCSN_ERR_NONFINITE ? EXIT_NUMERIC : EXIT_INPUT, "%s", msg);
}
static int lib_fail_input(ncsn_status st) { return input_fail(st, ncsn_last_error()); }

/* the same for a file read into memory first: the message names it */
static int lib_fail_file(ncsn_status st, const char *path)
{
    return fail(st == NCSN_ERR_NOMEM ? EXIT_NOMEM : st == NCSN_ERR_NONFINITE ? EXIT_NUMERIC : EXIT_INPUT, "'%s': %s", shown(path), ncsn_last_error());
}

static volatile sig_atomic_t interrupted;   /* the signal that asked to stop, 0 if none */
static void on_signal(int sig) { interrupted = sig; }
/* the exit code and the name of the signal that asked to stop (128 + the signal, as a shell reports a process it killed) */
static int signal_code(void) { return interrupted == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT; }
static const char *signal_name(void) { return interrupted == SIGTERM ? "SIGTERM" : "SIGINT"; }

/* ---- option parsing: "--name value" or "--name=value"; every value checked ---- */
typedef struct opt_state { int argc, i; char **argv; const char *name, *value; } opt_state;

/* the next argument: 1 an option (o->name, o->value possibly NULL), 2 a positional (o->value), 0 done */
static int next_arg(opt_state *o)
{
    const char *a;
    if (o->i >= o->argc) return 0;
    a = o->argv[o->i++];
    o->value = NULL;
    if (a[0] == '-' && a[1] != 0 && strcmp(a, "-") != 0) {
        const char *eq = strchr(a, '=');
        static char name[64];
        if (eq && a[1] == '-') {
            size_t n = (size_t)(eq - a);
            if (n >= sizeof name) n = sizeof name - 1;
            memcpy(name, a, n);
            name[n] = 0;
            o->name = name;
            o->value = eq + 1;
        } else {
            o->name = a;
        }
        return 1;
    }
    o->value = a;
    return 2;
}

/* the option's value (from "=value" or the next argument) */
static const char *need_value(opt_state *o)
{
    if (o->value) return o->value;
    if (o->i >= o->argc) return NULL;
    return o->value = o->argv[o->i++];
}

/* a decimal integer in [lo, hi], written plainly: strtol would also take " 3" and "+3" (a file's
   metadata goes through here too) */
static int parse_long_opt(const char *name, const char *s, long lo, long hi, long *out)
{
    char *e;
    long v;
    if (!s) return fail(EXIT_USAGE, "%s needs a value", name);
    errno = 0;
    v = strtol(s, &e, 10);
    if (e == s || *e || !((s[0] >= '0' && s[0] <= '9') || s[0] == '-')) return fail(EXIT_USAGE, "%s = '%s' is not an integer", name, s);
    if (errno == ERANGE) return fail(EXIT_USAGE, "%s = '%s' must be in [%ld, %ld]", name, s, lo, hi);   /* an integer, beyond long */
    if (v < lo || v > hi) return fail(EXIT_USAGE, "%s = %ld must be in [%ld, %ld]", name, v, lo, hi);
    *out = v;
    return 0;
}

static int parse_u64_opt(const char *name, const char *s, uint64_t *out)
{
    char *e;
    unsigned long long v;
    if (!s) return fail(EXIT_USAGE, "%s needs a value", name);
    errno = 0;
    v = strtoull(s, &e, 10);   /* decimal: base 0 read 010 as 8 and refused 09 */
    if (e == s || *e || errno == ERANGE || !(s[0] >= '0' && s[0] <= '9')) return fail(EXIT_USAGE, "%s = '%s' is not a non-negative integer", name, s);
    *out = (uint64_t)v;
    return 0;
}

/* a finite float in (lo, hi] (lo_incl: [lo, hi]) */
static int parse_float_opt(const char *name, const char *s, double lo, int lo_incl, double hi, float *out)
{
    char *e;
    float v;
    if (!s) return fail(EXIT_USAGE, "%s needs a value", name);
    v = ncsn_strtof(s, &e);
    if (e == s || *e) return fail(EXIT_USAGE, "%s = '%s' is not a number", name, s);
    if (!isfinite(v)) return fail(EXIT_USAGE, "%s = '%s' is not a finite float", name, s);
    if (!(lo_incl ? v >= lo : v > lo) || !(v <= hi))
        return fail(EXIT_USAGE, "%s = %g must be in %c%g, %g]", name, (double)v, lo_incl ? '[' : '(', lo, hi);
    *out = v;
    return 0;
}

static int parse_choice(const char *name, const char *s, const char *const *choices, int *out)
{
    int i;
    if (!s) return fail(EXIT_USAGE, "%s needs a value", name);
    for (i = 0; choices[i]; i++)
        if (strcmp(s, choices[i]) == 0) { *out = i; return 0; }
    {
        char list[256];
        size_t n = 0;
        list[0] = 0;
        for (i = 0; choices[i] && n < sizeof list - 32; i++) n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", choices[i]);
        return fail(EXIT_USAGE, "%s = '%s' is not one of: %s", name, s, list);
    }
}

static const char *const schedule_names[] = { "geometric", "linear", "cosine", NULL };
static const char *const weighting_names[] = { "one", "sigma2", "inv_sigma2", NULL };
static const char *const act_names[] = { "silu", "softplus", NULL };
static const char *const output_form_names[] = { "net", "scaled", "precond", NULL };   /* ncsn_config: neither, scale_by_sigma, precond */
static const char *const form_names[] = { "song", "half", "song-lm", NULL };   /* ncsn_langevin_form's order */
static const char *const init_names[] = { "normal", "sigma1", NULL };
static const char *const predictor_names[] = { "none", "ancestral", "ode", NULL };   /* NCSN_PREDICT_* order */
static const char *const progress_names[] = { "auto", "tty", "plain", "none", NULL };

/* ---- help ---- */
static const char usage_main[] =
    "usage: ncsn COMMAND [options]      (ncsn COMMAND --help for each)\n"
    "\n"
    "Noise Conditional Score Networks (Song & Ermon 2019) for CSV data, by ncsn.h " NCSN_VERSION_STRING ".\n"
    "\n"
    "commands:\n"
    "  train  DATA.csv -o MODEL.safetensors   train a score network on the points of DATA.csv\n"
    "  sample MODEL.safetensors -n N          draw N samples by annealed Langevin dynamics (CSV; -o FILE)\n"
    "  score  MODEL.safetensors --sigma S     the network's scores s(x, S) at points read as CSV\n"
    "  info   FILE.safetensors                what a model or checkpoint file holds\n"
    "  compare DATA.csv SAMPLES.csv           samples against their data: new draws or copies?\n"
    "  selftest                               check that this build computes the reference bits\n"
    "\n"
    "CSV: one point per line, any number of columns, separated by commas (or spaces/tabs);\n"
    "an optional header line of names; '#' comments and blank lines are skipped.\n"
    "\n"
    "A path '-' is stdin (the data, a model, the points) or stdout (train -o -, sample -o -).\n"
    "\n"
    "exit codes: 0 ok, 1 usage error, 2 bad input file (missing, malformed, wrong shape),\n"
    "3 numerical failure (NaN/inf in training, chains that left the data's region in sampling),\n"
    "4 cannot write output,\n"
    "5 out of memory, 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM (training writes\n"
    "a checkpoint first)\n"
    "\n"
    "NCSN_SIMD=scalar|sse2|avx2|avx512|neon runs that kernel path instead of the CPU's widest\n"
    "(for comparisons: every path gives the same bits; ncsn --version names the one used)\n";

static const char usage_train[] =
    "usage: ncsn train DATA.csv -o MODEL.safetensors [options]\n"
    "\n"
    "Trains s(x, sigma) by denoising score matching at L noise levels and writes MODEL (the network's\n"
    "EMA weights, its noise levels, the data's standardisation and settings; a safetensors file with\n"
    "PyTorch's state_dict names). Every default comes from the data (docs/training.md): columns are\n"
    "standardised, sigma_max = the largest pairwise distance, the number of levels from the dimension.\n"
    "\n"
    "  -o, --output PATH        the model file ('-': stdout, with no checkpoints unless --checkpoint\n"
    "                           is given); --resume MODEL.ckpt without -o writes MODEL\n"
    "  --columns LIST           the data columns: 1-based numbers, ranges a-b or header names, e.g.\n"
    "                           --columns 2,3 or --columns eruptions,waiting (R's write.csv puts row\n"
    "                           names in column 1; text columns must be left out)\n"
    "  --preset NAME            a document's recipe: seed000 (ScoreNet 128x3, 10 levels 10 -> 0.01,\n"
    "                           full batch, 2000 steps) or seed001 (sigma embedding 64, 10 levels 5 ->\n"
    "                           0.01, batch 256, 10000 steps); no standardisation, no EMA; other\n"
    "                           options apply on top\n"
    "  --steps N                total Adam steps (default 40000 up to 16 columns, 20000 above)\n"
    "  --batch B                points per step (default 512); B >= the number of points uses all of\n"
    "                           them, in order, every step; smaller batches draw without replacement\n"
    "  --lr X                   Adam learning rate (default 0.001, falling to 1/100 over --steps;\n"
    "                           constant with --preset)\n"
    "  --constant-lr            keep the rate at --lr\n"
    "  --ema R                  EMA rate of the weights written for sampling (default 0.999; 0: off)\n"
    "  --no-standardize         train on the raw columns (--standardize: the default)\n"
    "  --[no-]stable-target     the minibatch's stable target (Xu et al. 2023, training.md);\n"
    "                           default on up to 16 columns with more rows than --batch (no preset)\n"
    "  --levels L               noise levels (default: from the dimension, Song & Ermon 2020)\n"
    "  --sigma-max A            largest noise level (default: the data's largest pairwise distance)\n"
    "  --sigma-min B            smallest noise level (default 0.01, above 16 columns 0.1; standardised)\n"
    "  --schedule KIND          geometric (default), linear or cosine\n"
    "  --width W --depth D      hidden layers: D layers of W units (default 128, 3; above 16 columns 256, 3)\n"
    "  --embed E                sinusoidal sigma embedding of size E (even, >= 4); 0: sigma is\n"
    "                           concatenated to x (seed 000's ScoreNet)\n"
    "  --act silu|softplus      activation (default silu)\n"
    "  --output-form F          scaled (s = net/sigma; default), net or precond (Karras 2022; the\n"
    "                           default above 16 columns)\n"
    "  --weighting W            lambda(sigma): sigma2 (default; precond: one), one, inv_sigma2\n"
    "  --seed S                 random seed (default 42); the same seed gives the same bits\n"
    "  --threads T              threads (default: the machine's cores); any T gives the same bits\n"
    "  --checkpoint PATH        checkpoint file (default MODEL.ckpt; with --resume FILE, FILE;\n"
    "                           never the model's own path)\n"
    "  --checkpoint-every K     write the checkpoint every K steps and at the end (default 500;\n"
    "                           0: never). Writes are atomic: a crash leaves the previous one\n"
    "                           (and maybe a PATH.tmp.XXXXXX file, safe to delete)\n"
    "  --resume CKPT            continue the run saved in CKPT (same data and settings; --steps may\n"
    "                           grow with --constant-lr only), bit-identical to an uninterrupted run\n"
    "  --progress MODE          auto (default: a live line on a terminal, plain lines otherwise),\n"
    "                           tty, plain or none\n"
    "  --log-every N            plain mode: a line every N steps (default steps/20)\n"
    "  -q, --quiet              no progress, only errors\n"
    "  --no-check               skip the check after training, and its second run (below)\n";
static const char usage_train_end[] =   /* C99 compilers need only take strings of 4095 characters */
    "\n"
    "After training (not with --preset or -q) up to 200 samples of the model (as many as the data's\n"
    "points when fewer; none below 10 points) are checked against the data as ncsn compare checks\n"
    "them, in the model's units: one line, a note if they copy training points or sit far from the\n"
    "data, and how many chains diverged. Without --sigma-min, --levels or --preset, when the samples'\n"
    "median distance to the data is under 0.6 of the data's own (the network learned its points),\n"
    "it trains again with sigma_min = 1.5 x the data's nearest-neighbour spacing / sqrt(dim) and\n"
    "writes that model (-q too, silently); --no-check or --sigma-min keeps the first run.\n"
    "\n"
    "Progress: the mean loss since the last line; at the end the last step's loss and the mean over\n"
    "the last 1 % of the steps. On NaN or infinity in the loss, a gradient or a weight, training\n"
    "stops with exit code 3 naming the step and the tensor; the last checkpoint is left intact.\n"
    "Ctrl-C (SIGINT) or SIGTERM writes a checkpoint and exits with 130 or 143.\n";

static const char usage_sample[] =
    "usage: ncsn sample MODEL.safetensors [-n N] [-o samples.csv] [options]\n"
    "\n"
    "Annealed Langevin dynamics through the model's noise levels, in the user's units; one sample per\n"
    "line on stdout or in -o's file. Defaults: x + a s + sqrt(2a) z with a = eps sigma_i^2/sigma_L^2,\n"
    "z the mean of this and the last step's normal draws (song-lm), eps = sigma_L^2/4 (each level's\n"
    "step is a quarter of its variance; docs/training.md), 200 steps per level, start\n"
    "N(0, sigma_1^2 I) in standardised units, a final denoising step. Above 16 dimensions 10 steps\n"
    "per level and eps = 0.1 sigma_L^2. A model trained with --preset uses its\n"
    "seed's sampler.\n"
    "\n"
    "  -n N                     number of samples (default 1000)\n"
    "  -o, --output PATH        write the samples to PATH ('-': stdout, the default): a new file renamed\n"
    "                           over PATH once every row is written (a FIFO or device is written into);\n"
    "                           after a write error or an interrupt PATH is unchanged (diverged\n"
    "                           chains, exit 3: the other rows are written)\n"
    "  --steps-per-level T      Langevin steps per level (default 200, above 16 dimensions 10; a preset's: 100)\n"
    "  --eps E                  step constant epsilon (default sigma_L^2/4, above 16 dimensions 0.1 sigma_L^2)\n"
    "                           (above 16 dimensions a model without the preconditioned output, e.g.\n"
    "                           one 0.4.0 trained: song, 5 steps at 0.35 sigma_L^2, as 0.4.0 sampled it)\n"
    "  --fine F                 F times the steps (F in 1..64) at 1/F of the step at the levels\n"
    "                           sigma >= 1/2 in the network's units (standardised unless trained with\n"
    "                           --no-standardize or --preset); default 1: none (training.md)\n"
    "  --predictor none|ancestral|ode\n"
    "                           a step from each level to the next after its Langevin steps\n"
    "                           (predictor-corrector), from sigma a to b: ancestral\n"
    "                           x + (a^2 - b^2) s + noise, ode x + a (a - b) s; default ode up to\n"
    "                           16 dimensions and above where levels step wider than 1.36 (below\n"
    "                           64 with the recipe's levels; training.md), none otherwise and for\n"
    "                           a preset's model\n"
    "  --form song|half|song-lm song: x + a s + sqrt(2a) z; half: x + (a/2) s + sqrt(a) z; song-lm: song\n"
    "                           with z the mean of this and the last step's draws (the default: no\n"
    "                           step-size bias on a Gaussian's width)\n"
    "  --init normal|sigma1     start from N(0, I) or N(0, sigma_1^2 I)\n"
    "  --denoise, --no-denoise  end with x + sigma_L^2 s(x, sigma_L), or not\n"
    "  --seed S                 random seed (default 1)\n"
    "  --threads T              threads for the network (default: the machine's cores)\n"
    "  --header                 first write a line of column names\n"
    "  --progress MODE          auto (default: a live line on a terminal), tty, plain or none\n"
    "  -q, --quiet              no progress\n"
    "  --levels L --sigma-max A --sigma-min B --schedule KIND\n"
    "                           the noise levels, for a model file that has none (e.g. from torch)\n"
    "\n"
    "A chain that diverged - not finite, or farther from the training data's center than the data's\n"
    "radius plus sigma_1 (both stored in the model, standardised units) - is left out; then the exit\n"
    "code is 3.\n"
    "\n"
    "Memory does not grow with -n: the chains run in pieces of at most 64 MiB of working memory (the\n"
    "network's workspace, scores, noise and rows; at least one chain at a time), each written as it\n"
    "ends, besides the model itself. The samples are the same bits as one batch of all N chains.\n";

static const char usage_score[] =
    "usage: ncsn score MODEL.safetensors (--sigma S | --level I) [--input POINTS.csv] > scores.csv\n"
    "\n"
    "The network's score s(x, sigma) = grad_x log p_sigma(x) at each point (one line per point, same\n"
    "columns), reading the points as CSV from --input or stdin. Points and scores are in the data's\n"
    "units; sigma is in the model's standardised units (as its noise levels: see ncsn info).\n"
    "If a score is not finite (e.g. a sigma far below the model's levels), nothing is written: the\n"
    "message names the first such point and the exit code is 3.\n"
    "\n"
    "  --sigma S                the noise level (any S > 0)\n"
    "  --level I                the model's I-th noise level (0 = the largest)\n"
    "  --input PATH             read points from PATH instead of stdin ('-')\n"
    "  --columns LIST           the points' columns, as for train (e.g. R's row names left out)\n"
    "  --threads T              threads for the network (default: the machine's cores)\n";

static const char usage_info[] =
    "usage: ncsn info FILE.safetensors\n"
    "\n"
    "Describes a model or checkpoint file: the network, its noise levels, the training step, the\n"
    "optimizer and the settings it was trained with.\n";

static int help(const char *text) { fputs(text, stdout); return 0; }
static int help_train(void) { fputs(usage_train, stdout); return help(usage_train_end); }

/* ---- selftest ---- */
static const char usage_selftest[] =
    "usage: ncsn selftest\n"
    "\n"
    "Checks in milliseconds that this build of ncsn.h computes the reference bits (ncsn_selftest):\n"
    "PCG32, the math functions, network forward/backward, DSM with Adam, Langevin sampling.\n"
    "Exit 0 if it does; 3, naming the first part that differs and the usual cause, if not.\n";

static int cmd_selftest(int argc, char **argv)
{
    double t0 = now();
    ncsn_status st;
    if (argc > 0 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) return help(usage_selftest);
    if (argc > 0) return fail(EXIT_USAGE, "unexpected argument '%s' (see ncsn selftest --help)", argv[0]);
    if ((st = ncsn_selftest()) != NCSN_OK) return fail(st == NCSN_ERR_NOMEM ? EXIT_NOMEM : EXIT_NUMERIC, "%s", ncsn_last_error());
    printf("ncsn selftest: ok, this build computes the reference bits (ncsn.h %s, kernels %s, %.1f ms)\n", NCSN_VERSION_STRING,
           ncsn_simd_name(), 1e3 * (now() - t0));
    return 0;
}

/* ---- CSV output ---- */
static int write_rows(FILE *out, const float *x, int n, int dim, const unsigned char *skip)
{
    char v[32];
    int i, d;
    for (i = 0; i < n; i++) {
        if (skip && skip[i]) continue;
        for (d = 0; d < dim; d++) {   /* %.9g in the "C" locale, whatever the locale */
            ncsn_format_f32(v, sizeof v, x[(size_t)i * dim + d], 9);
            if (d) fputc(',', out);
            fputs(v, out);
        }
        fputc('\n', out);
    }
    return fflush(out) == 0 && !ferror(out);
}

/* ---- train ---- */
typedef struct train_cfg {
    long steps, batch, levels, width, depth, embed, every, log_every, threads;
    float lr, sigma_max, sigma_min, ema;
    int schedule, weighting, act, progress, quiet, preset, standardize, output_form, no_check, stable_target;
    uint64_t seed;
    const char *data, *output, *checkpoint, *resume, *columns;
    /* which were given on the command line */
    int g_steps, g_batch, g_lr, g_levels, g_smax, g_smin, g_schedule, g_width, g_depth, g_embed, g_act, g_weighting, g_seed, g_output, g_ckpt, g_every,
        g_preset, g_ema, g_std, g_oform, g_stf, constant_lr;
    int auto_smin;   /* 1: a second run if the check finds copies (cli.sigma_min_rule "pending"); 2: this is that run */
    char rule[200];  /* the second run's cli.sigma_min_rule, from the checkpoint it resumes */
} train_cfg;

/* the index in output_form_names of a network's output form */
static int output_form_of(const ncsn_config *c)
{
    return c->precond ? 2 : c->scale_by_sigma ? 1 : 0;
}

/* the machine's cores: the default thread count (results do not depend on it) */
static long default_threads(void)
{
    long k = sysconf(_SC_NPROCESSORS_ONLN);
    return k < 1 ? 1 : k > 256 ? 256 : k;
}

/* FNV-1a over the shape and the bits of the data: a resume must see the same points */
static uint64_t data_hash(const float *x, int n, int dim)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i, k, total = (size_t)n * (size_t)dim;
    unsigned char b[4];
    uint32_t u;
    for (k = 0; k < 2; k++) {
        u = (uint32_t)(k ? dim : n);
        for (i = 0; i < 4; i++) { h ^= (u >> (8 * i)) & 0xffu; h *= 1099511628211ULL; }
    }
    for (i = 0; i < total; i++) {
        memcpy(&u, &x[i], 4);
        b[0] = (unsigned char)u; b[1] = (unsigned char)(u >> 8); b[2] = (unsigned char)(u >> 16); b[3] = (unsigned char)(u >> 24);
        for (k = 0; k < 4; k++) { h ^= b[k]; h *= 1099511628211ULL; }
    }
    return h;
}

/* fail early (exit 4) if path cannot be written: not after hours of training. A probe file with
   a unique name (mkstemp: O_EXCL) is made next to a regular file and removed: no one else's file
   is touched. */
static int check_writable(const char *path)
{
    char probe[4200];
    struct stat sb;
    int fd;
    if (strcmp(path, "-") == 0) return 0;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return fail(EXIT_OUTPUT, "cannot write '%s': it is a directory", path);
    if (ncsn_output_in_place(path) > 0) return 0;   /* a pipe, a device, /dev/fd/3 on the shell's file: written into */
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) return fail(EXIT_OUTPUT, "cannot write '%s': not a regular file, a FIFO or a character device", path);
    if (snprintf(probe, sizeof probe, "%s.tmp.XXXXXX", path) >= (int)sizeof probe) return fail(EXIT_OUTPUT, "'%s': the path is too long", path);
    if ((fd = mkstemp(probe)) < 0) return fail(EXIT_OUTPUT, "cannot write next to '%s' (%s)", path, strerror(errno));
    close(fd);
    remove(probe);
    return 0;
}


/* two paths name the same file: the same directory (resolved) and last component, or the same
   inode when both exist */
static int same_file(const char *a, const char *b)
{
    char ra[8192], rb[8192];
    struct stat sa, sb;
    int k;
    if (strcmp(a, b) == 0) return 1;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    for (k = 0; k < 2; k++) {
        const char *p = k ? b : a, *slash = strrchr(p, '/');
        char dir[4096], res[4096], *out = k ? rb : ra;
        size_t n = slash ? (size_t)(slash - p) : 0;
        if (!slash) strcpy(dir, ".");
        else if (n == 0) strcpy(dir, "/");
        else if (n < sizeof dir) { memcpy(dir, p, n); dir[n] = 0; }
        else return 0;
        if (!realpath(dir, res)) snprintf(res, sizeof res, "%s", dir);
        snprintf(out, 8192, "%s/%s", res, slash ? slash + 1 : p);
    }
    return strcmp(ra, rb) == 0;
}

/* a text output as the library writes its files (ncsn_output: "-" is stdout, a FIFO or device is
   written into, any other path replaced atomically), refusing a directory as train -o does */
static int out_open(ncsn_output *o, const char *path)
{
    int rc;
    o->fp = NULL;
    if (strcmp(path, "-") != 0 && (rc = check_writable(path)) != 0) return rc;
    if (ncsn_output_open(o, path) != NCSN_OK) return fail(EXIT_OUTPUT, "%s", ncsn_last_error());
    return 0;
}

/* ok 0 after a failure already reported: a temporary file is removed, PATH left as it was */
static int out_close(ncsn_output *o, int ok)
{
    if (ncsn_output_close(o, ok) != NCSN_OK && ok) return fail(EXIT_OUTPUT, "%s", ncsn_last_error());
    return 0;
}

typedef struct progress {
    int mode;          /* 0 none, 1 tty, 2 plain */
    long total, log_every, last_step;
    double t0, last_t, loss_sum;
    long loss_n, step0;
} progress;

static void fmt_eta(char *buf, size_t n, double s)
{
    if (!(s >= 0.0) || s > 1e8) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static void progress_step(progress *p, long step, float loss, int force)
{
    double t = now(), rate, eta;
    char e[32];
    p->loss_sum += loss;
    p->loss_n++;
    if (p->mode == 0) return;
    if (p->mode == 1 && !force && t - p->last_t < 0.1 && step != p->total) return;
    if (p->mode == 2 && !force && step % p->log_every != 0 && step != p->total) return;
    rate = (double)(step - p->step0) / (t - p->t0 > 1e-9 ? t - p->t0 : 1e-9);
    eta = (double)(p->total - step) / (rate > 0 ? rate : 1e-9);
    fmt_eta(e, sizeof e, eta);
    if (p->mode == 1)
        fprintf(stderr, "\rstep %ld/%ld  loss %.5g  %.0f steps/s  ETA %s   ", step, p->total, p->loss_sum / (double)p->loss_n, rate, e);
    else
        fprintf(stderr, "step %ld/%ld loss %.5g %.0f steps/s ETA %s\n", step, p->total, p->loss_sum / (double)p->loss_n, rate, e);
    fflush(stderr);
    p->last_t = t;
    p->loss_sum = 0.0;
    p->loss_n = 0;
}

static void progress_break(progress *p)   /* end the live line before another message */
{
    if (p->mode == 1) { fputc('\n', stderr); fflush(stderr); p->last_t = 0.0; }
}

#define META_MAX 40
typedef struct meta_list { const char *kv[2 * META_MAX + 1]; char store[META_MAX][4160]; int n; } meta_list;
static void meta_add(meta_list *m, const char *k, const char *fmt, ...)
{
    va_list ap;
    if (m->n >= META_MAX) return;
    va_start(ap, fmt);
    vsnprintf(m->store[m->n], sizeof m->store[m->n], fmt, ap);
    va_end(ap);
    m->kv[2 * m->n] = k;
    m->kv[2 * m->n + 1] = m->store[m->n];
    m->n++;
    m->kv[2 * m->n] = NULL;
}

/* ---- data columns: R's write.csv (row names first), text columns, --columns ---- */
/* the option that selects the columns of the file being read, named in messages: --columns, or
   compare's --sample-columns while it reads its samples */
static const char *columns_opt = "--columns";
#define MAX_COLS 65536

/* the fields of the line [p, end) by the library's rules (commas, or blanks when the first line
   has none; "quoted" fields), copied NUL-terminated into buf (room for the line + 1) */
static int split_fields(const char *p, const char *end, char sep, char *buf, const char **fields, int max)
{
    int n = 0;
    size_t k = 0;
    while (n < max) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
        if (p >= end) break;
        fields[n++] = buf + k;
        if (*p == '"') {
            for (p++; p < end; p++) {
                if (*p == '"' && p + 1 < end && p[1] == '"') { buf[k++] = '"'; p++; }
                else if (*p == '"') { p++; break; }
                else buf[k++] = *p;
            }
        }
        while (p < end && *p != sep && !(sep == ' ' && (*p == ' ' || *p == '\t'))) buf[k++] = *p++;
        while (k > 0 && buf + k > fields[n - 1] && (buf[k - 1] == ' ' || buf[k - 1] == '\t' || buf[k - 1] == '\r')) k--;
        buf[k++] = 0;
        if (p < end && *p == sep) p++;
    }
    return n;
}

static int is_number(const char *s)
{
    char *e;
    if (!*s) return 0;
    (void)strtod(s, &e);
    return *e == 0;
}

static int is_count(const char *s)   /* digits only: a count of rows or columns */
{
    if (!*s) return 0;
    while (*s >= '0' && *s <= '9') s++;
    return *s == 0;
}

/* the next line that is neither blank nor a comment, from *p; 0 at the end */
static int next_line(const char **p, const char *text_end, const char **b, const char **e)
{
    while (*p < text_end) {
        const char *q, *nl = (const char *)memchr(*p, '\n', (size_t)(text_end - *p));
        *b = *p;
        *e = nl ? nl : text_end;
        *p = nl ? nl + 1 : text_end;
        for (q = *b; q < *e && (*q == ' ' || *q == '\t' || *q == '\r'); q++) {}
        if (q < *e && *q != '#') return 1;
    }
    return 0;
}

/* --columns SPEC: 1-based numbers, ranges a-b and header names (of any length), comma-separated;
   header name j is column j + 1 + off (off 1: R's write.table, whose header leaves out the row
   names' column) */
static int parse_columns(const char *spec, const char *const *names, int n_names, int off, int ncol, int *cols, int *nsel)
{
    size_t n = strlen(spec);
    char *copy = (char *)malloc(n + 1), *item, *next;
    int rc = 0;
    *nsel = 0;
    if (!copy) return fail(EXIT_NOMEM, "out of memory");
    memcpy(copy, spec, n + 1);
    for (item = copy; *item && !rc; item = next) {
        char *e;
        long a, b, j;   /* long: (int) 4294967297 was column 1 */
        size_t l = strcspn(item, ",");
        next = item + l + (item[l] == ',');
        item[l] = 0;
        a = b = strtol(item, &e, 10);
        if (e != item && *e == '-') b = strtol(e + 1, &e, 10);
        if (e == item || *e) {   /* a name */
            long twin;
            for (j = 0; j < n_names && strcmp(names[j], item) != 0; j++) {}
            if (j == n_names) { rc = fail(EXIT_USAGE, "%s: no column named '%s' in the header", columns_opt, item); break; }
            for (twin = j + 1; twin < n_names && strcmp(names[twin], item) != 0; twin++) {}
            if (twin < n_names) {   /* a header that names two columns alike: say which, not pick one */
                rc = fail(EXIT_USAGE, "%s: the header names columns %ld and %ld '%s': choose by number", columns_opt, j + 1 + off, twin + 1 + off, item);
                break;
            }
            a = b = j + 1 + off;
        }
        if (a < 1 || b < a || b > ncol) { rc = fail(EXIT_USAGE, "%s: '%s' is not within columns 1..%d", columns_opt, item, ncol); break; }
        for (j = a; j <= b && *nsel < MAX_COLS && !rc; j++) {   /* distinct: select_columns' buffer holds each field once */
            int q;
            for (q = 0; q < *nsel && cols[q] != j - 1; q++) {}
            if (q < *nsel) rc = fail(EXIT_USAGE, "%s: column %ld appears twice", columns_opt, j);
            else cols[(*nsel)++] = (int)(j - 1);
        }
    }
    free(copy);
    if (!rc && !*nsel) rc = fail(EXIT_USAGE, "%s needs at least one column", columns_opt);
    return rc;
}

/* the CSV text and what its first lines say: the header's names h[nh] (line hline; nh 0: none),
   the first data row's fields f[nr] (line rline), the separator, and off (1 when the header names
   one column fewer than the rows hold: R's write.table row names) */
typedef struct csv_text {
    char *text, *buf, *hbuf;
    size_t len;
    const char **f, **h;
    int *cols, nh, nr, off;
    long hline, rline;
    char sep;
} csv_text;

static void csv_text_free(csv_text *t)
{
    free(t->text); free(t->buf); free(t->hbuf); free(t->f); free(t->h); free(t->cols);
}

static long line_of(const char *text, const char *p)   /* the line number of the byte at p, from 1 */
{
    long n = 1;
    for (; text < p; text++) n += *text == '\n';
    return n;
}

/* the selected fields of one line, comma-joined and quoted (a header name may hold a comma) */
static size_t put_fields(char *out, const char *const *f, int nf, int off, const int *cols, int nsel)
{
    size_t o = 0;
    int k;
    for (k = 0; k < nsel; k++) {
        int c = cols[k] - off;
        const char *v = c >= 0 && c < nf ? f[c] : "";   /* the row names' column has no name */
        size_t l = strlen(v);
        if (k) out[o++] = ',';
        out[o++] = '"';
        memcpy(out + o, v, l);
        o += l;
        out[o++] = '"';
    }
    return o;
}

/* the text with only the columns cols[nsel] (lines and comments kept: messages keep their lines);
   NULL after a message (exit code in *rc). A field grows by its quotes and comma, at most 3 bytes
   per input byte; a header shorter than the selection adds 3 bytes per column it does not name. */
static char *select_columns(const csv_text *t, const int *cols, int nsel, size_t *out_len, int *rc, const char *path)
{
    char *out = (char *)malloc(3 * t->len + 3 * (size_t)nsel + 16);
    const char *p = t->text, *end = t->text + t->len;
    size_t o = 0;
    long line = 0;
    int k, last = 0;
    if (!out) { *rc = fail(EXIT_NOMEM, "out of memory"); return NULL; }
    for (k = 0; k < nsel; k++) if (cols[k] > last) last = cols[k];
    while (p < end) {
        const char *nl = (const char *)memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end, *q;
        int nf;
        line++;
        for (q = p; q < le && (*q == ' ' || *q == '\t' || *q == '\r'); q++) {}
        nf = q < le && *q != '#' ? split_fields(p, le, t->sep, t->buf, t->f, MAX_COLS) : 0;
        if (nf > 0 && t->nh && line == t->hline && last - t->off >= t->nh) {
            for (k = 0; k < nsel && cols[k] - t->off < t->nh; k++) {}
            free(out);
            *rc = fail(EXIT_INPUT, "%s:%ld: the header names %d columns, but %s takes column %d", path, line, t->nh, columns_opt, cols[k] + 1);
            return NULL;
        } else if (nf > 0 && t->nh && line == t->hline) o += put_fields(out + o, t->h, t->nh, t->off, cols, nsel);   /* the names of the columns */
        else if (nf > 0 && last >= nf) {
            free(out);
            *rc = fail(EXIT_INPUT, "%s:%ld: %d columns, but %s takes column %d", path, line, nf, columns_opt, last + 1);
            return NULL;
        } else if (nf > 0) o += put_fields(out + o, t->f, nf, 0, cols, nsel);
        out[o++] = '\n';
        p = nl ? nl + 1 : end;
    }
    *out_len = o;
    return out;
}

/* the numeric columns of the first data row as ranges ("2-5,7"), leaving out an unnamed column 1 */
static void numeric_columns(const csv_text *t, int skip_first, char *out, size_t cap)
{
    size_t o = 0;
    int k = skip_first, a;
    out[0] = 0;
    while (k < t->nr && o + 24 < cap) {
        if (!is_number(t->f[k])) { k++; continue; }
        for (a = k; k + 1 < t->nr && is_number(t->f[k + 1]); k++) {}
        o += (size_t)snprintf(out + o, cap - o, a == k ? "%s%d" : "%s%d-%d", o ? "," : "", a + 1, k + 1);
        k++;
    }
}

/* a line b..e of two fields or more between spaces or tabs, every one a number and at least one
   with a decimal comma (R's write.table(dec = ","), a spreadsheet in a comma-decimal locale; a
   quoted first field is R's row name): the first such field in tok, 1; else 0. "Room 101,5" in
   a CSV is text and a number, and "1.5, 2" has no digit after its comma; "15,2" alone is two
   fields, and a one-column file of decimal commas cannot be told from it. */
static int decimal_comma(const char *b, const char *e, char *tok, size_t cap)
{
    const char *p = b, *t0;
    char one[64], *comma;
    int marks = 0, fields = 0;
    while (p < e) {
        while (p < e && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
        for (t0 = p; p < e && *p != ' ' && *p != '\t' && *p != '\r'; p++) {}
        if (p == t0) break;
        fields++;
        if (fields == 1 && *t0 == '"' && p - t0 >= 2 && p[-1] == '"') continue;   /* a row name */
        if ((size_t)(p - t0) >= sizeof one) return 0;
        memcpy(one, t0, (size_t)(p - t0));
        one[p - t0] = 0;
        if ((comma = strchr(one, ',')) != NULL && comma > one && comma[-1] >= '0' && comma[-1] <= '9' && comma[1] >= '0' && comma[1] <= '9') {
            *comma = '.';   /* "80,2", "1,5e-05": a number once its comma is a point (is_number takes no second comma) */
            if (!is_number(one)) return 0;
            if (marks++ == 0) snprintf(tok, cap, "%.*s", (int)(p - t0), t0);
        } else if (!is_number(one)) return 0;
    }
    return marks > 0 && fields >= 2;
}

/* the first two lines written with decimal commas, or lines that end in CR alone: a message
   that says so (the fields' own messages would name columns that hold half a number) */
static int export_quirks(const csv_text *t, const char *path)
{
    const char *p = t->text, *end = t->text + t->len, *b, *e, *lf = (const char *)memchr(t->text, '\n', t->len);
    const char *cr = (const char *)memchr(t->text, '\r', (size_t)((lf ? lf : end) - t->text));   /* in the first line */
    char tok[64];
    int k;
    if (cr && cr + 1 < (lf ? lf : end))   /* a CR with more of the file before the first LF */
        return fail(EXIT_INPUT, "%s: the lines end in a carriage return alone (classic Mac OS, some old Excel exports): "
                    "convert them first, e.g. tr '\\r' '\\n' < %s > fixed.csv", path, path);
    for (k = 0; k < 2 && next_line(&p, end, &b, &e); k++)
        if (decimal_comma(b, e, tok, sizeof tok))
            return fail(EXIT_INPUT, "%s:%ld: '%s' has a decimal comma (R's write.table(dec = \",\") or a spreadsheet in a comma-decimal "
                        "locale): ncsn reads a decimal point, fields separated by commas, spaces or tabs (in R: write.csv(x))", path, line_of(t->text, b), tok);
    return 0;
}

/* The first lines of t: the header and the first data row; 0, or a message for a first line that
   is neither a header nor data (sklearn's counts and class names, R's write.csv2 semicolons) */
static int first_lines(csv_text *t, const char *path)
{
    const char *p = t->text, *b, *e, *b2, *e2;
    int k, header = 1, n2, names2;
    if (memchr(t->text, 0, t->len)) return 0;   /* the library says why */
    if ((k = export_quirks(t, path)) != 0) return k;
    if (!next_line(&p, t->text + t->len, &b, &e)) return 0;
    t->hline = line_of(t->text, b);
    t->sep = memchr(b, ',', (size_t)(e - b)) ? ',' : ' ';
    if (t->sep == ' ' && memchr(b, ';', (size_t)(e - b)))
        return fail(EXIT_INPUT, "%s:%ld: the fields are separated by ';' (R's write.csv2 or a spreadsheet with decimal commas?): "
                    "ncsn reads commas, spaces or tabs and a decimal point (in R: write.csv)", path, t->hline);
    t->nh = split_fields(b, e, t->sep, t->hbuf, t->h, MAX_COLS);
    for (k = 0; k < t->nh; k++) header &= !is_number(t->h[k]);
    if (header) {
        if (next_line(&p, t->text + t->len, &b, &e)) { t->nr = split_fields(b, e, t->sep, t->buf, t->f, MAX_COLS); t->rline = line_of(t->text, b); }
        t->off = t->nh >= 1 && t->nr == t->nh + 1 && t->f[t->nr - 1][0];   /* not a trailing comma */
        return 0;
    }
    t->nh = 0;
    t->nr = split_fields(b, e, t->sep, t->buf, t->f, MAX_COLS);
    t->rline = t->hline;
    if (!next_line(&p, t->text + t->len, &b2, &e2)) return 0;
    n2 = split_fields(b2, e2, t->sep, t->hbuf, t->h, MAX_COLS);   /* the second row, to compare */
    for (k = 0; k < n2 && !is_number(t->h[k]); k++) {}
    names2 = k == n2;   /* a header after line 1 */
    /* sklearn's first line: the counts of rows and columns, then (maybe) the class names; any other
       text in line 1 is a bad field, which the library names */
    if (t->nr < 2 || !is_count(t->f[0]) || !is_count(t->f[1])) return 0;
    for (k = 2; k < t->nr && k < n2; k++)
        if (!is_number(t->f[k]) && (names2 || is_number(t->h[k])))
            return fail(EXIT_INPUT, "%s:%ld: line %ld mixes numbers and text (column %d holds '%.64s', line %ld %s): not a header (every name text) "
                        "nor a data row (sklearn's data files open with counts and class names); delete that line first (e.g. sed '%ldd')",
                        path, t->hline, t->hline, k + 1, t->f[k], line_of(t->text, b2), names2 ? "names" : "a number there", t->hline);
    if (names2) return fail(EXIT_INPUT, "%s:%ld: line %ld holds counts and line %ld names (sklearn's data files open with counts): "
                            "delete line %ld first (e.g. sed '%ldd')", path, t->hline, t->hline, line_of(t->text, b2), t->hline, t->hline);
    return 0;
}

/* a library message about the selected text "SRC:LINE:K: ..." names the file's column cols[K-1] */
static void remap_column(const char *msg, const char *src, const int *cols, int nsel, char *out, size_t cap)
{
    size_t l = strlen(src);
    long line;
    int k, used = 0;
    snprintf(out, cap, "%s", msg);
    if (strncmp(msg, src, l) == 0 && sscanf(msg + l, ":%ld:%d:%n", &line, &k, &used) == 2 && used > 0 && k >= 1 && k <= nsel)
        snprintf(out, cap, "%s:%ld:%d:%s", src, line, cols[k - 1] + 1, msg + l + used);
}

/* The data of path: the columns chosen by spec (NULL: all), or a message naming the column that
   is not numeric (R's row names, a text column) and the option that selects the others. */
static int load_columns(const char *path, const char *spec, float **data, int *n, int *dim, char *names, size_t names_cap)
{
    csv_text t;
    char *sel = NULL, hint[256], msg[1024];
    int k, rc = 0, nsel = 0, unnamed;
    size_t sl = 0;
    unsigned char *raw = NULL;
    ncsn_csv_opts co;
    ncsn_status st;
    memset(&t, 0, sizeof t);
    if ((st = ncsn_read_text(path, 0, &raw, &t.len)) != NCSN_OK) return lib_fail_input(st);   /* '-' and pipes: read once; a NUL ends it */
    t.text = (char *)malloc(t.len + 1);
    if (t.text) { memcpy(t.text, raw, t.len); t.text[t.len] = 0; }
    ncsn_free(raw);
    if (!t.text) return fail(EXIT_NOMEM, "out of memory reading '%s'", shown(path));
    if (t.len >= 3 && memcmp(t.text, "\xef\xbb\xbf", 3) == 0) { memmove(t.text, t.text + 3, t.len - 2); t.len -= 3; }   /* a byte-order mark: not part of the first name */
    t.buf = (char *)malloc(t.len + 2);
    t.hbuf = (char *)malloc(t.len + 2);
    t.f = (const char **)malloc(sizeof(char *) * MAX_COLS);
    t.h = (const char **)malloc(sizeof(char *) * MAX_COLS);
    t.cols = (int *)malloc(sizeof(int) * MAX_COLS);
    if (!t.buf || !t.hbuf || !t.f || !t.h || !t.cols) { rc = fail(EXIT_NOMEM, "out of memory reading '%s'", path); goto out; }
    if ((rc = first_lines(&t, shown(path))) != 0) goto out;
    unnamed = t.off || (t.nh > 1 && t.h[0][0] == 0);   /* R's row names: write.table leaves them unnamed, write.csv names them "" */
    numeric_columns(&t, unnamed, hint, sizeof hint);
    if (!hint[0]) snprintf(hint, sizeof hint, "(none of line %ld is a number)", t.rline);
    if (spec) {
        if ((rc = parse_columns(spec, t.h, t.nh, t.off, t.nr > t.nh ? t.nr : t.nh, t.cols, &nsel)) != 0) goto out;
    } else {
        if (unnamed) {
            rc = fail(EXIT_INPUT, "%s: column 1 has no name: R's row names? Choose the data columns with %s, "
                      "e.g. %s %s (numbers, a-b ranges or header names)", shown(path), columns_opt, columns_opt, hint);
            goto out;
        }
        for (nsel = 0; nsel < t.nr && nsel < MAX_COLS; nsel++) t.cols[nsel] = nsel;
    }
    for (k = 0; k < nsel; k++)   /* a column of text in the first row: say which, and how to leave it out */
        if (t.cols[k] < t.nr && !is_number(t.f[t.cols[k]])) {
            char col[320];
            int c = t.cols[k];
            if (c - t.off >= 0 && c - t.off < t.nh) snprintf(col, sizeof col, "column %d ('%.256s')", c + 1, t.h[c - t.off]);
            else snprintf(col, sizeof col, "column %d", c + 1);
            rc = fail(EXIT_INPUT, "%s:%ld: %s holds '%.64s', not a number: choose the numeric columns with %s, e.g. %s %s "
                      "(numbers, a-b ranges or header names)", shown(path), t.rline, col, t.f[c], columns_opt, columns_opt, hint);
            goto out;
        }
    if (spec && !(sel = select_columns(&t, t.cols, nsel, &sl, &rc, shown(path)))) goto out;
    memset(&co, 0, sizeof co);
    co.source = shown(path);
    st = sel ? ncsn_csv_parse(sel, sl, &co, data, n, dim, names, names_cap) : ncsn_csv_parse(t.text, t.len, &co, data, n, dim, names, names_cap);
    if (st != NCSN_OK && sel) {
        remap_column(ncsn_last_error(), co.source, t.cols, nsel, msg, sizeof msg);
        rc = input_fail(st, msg);
    } else if (st != NCSN_OK) rc = lib_fail_input(st);
out:
    free(sel);
    csv_text_free(&t);
    return rc;
}

static int save_status_code(ncsn_status st)
{
    return st == NCSN_ERR_NOMEM ? EXIT_NOMEM : st == NCSN_ERR_NONFINITE ? EXIT_NUMERIC : st == NCSN_ERR_IO ? EXIT_OUTPUT : EXIT_USAGE;
}

static const char *const preset_names[] = { "none", "seed000", "seed001", NULL };

/* the run's options: the data-driven recipe or a seed's, then what the command line says */
static ncsn_train_opts train_opts(const train_cfg *c, int dim)
{
    ncsn_train_opts o = c->preset == 1 ? ncsn_train_preset_seed000() : c->preset == 2 ? ncsn_train_preset_seed001() : ncsn_train_defaults_for(dim);
    int i, w = c->g_width ? (int)c->width : o.net.hidden[0], d = c->g_depth ? (int)c->depth : o.net.n_hidden;
    if (c->g_embed) {   /* another conditioning keeps the recipe's output form */
        ncsn_config keep = o.net;
        o.net = c->embed ? ncsn_config_embed(dim, (int)c->embed, w, d) : ncsn_config_concat(dim, w, d);
        o.net.scale_by_sigma = keep.scale_by_sigma;
        o.net.precond = keep.precond;
        o.net.sigma_data = keep.sigma_data;
    }
    o.net.n_hidden = d;
    for (i = 0; i < d; i++) o.net.hidden[i] = w;
    if (c->g_act) o.net.act = (ncsn_act)c->act;
    if (c->g_oform) set_output_form(&o, (int)c->output_form, o.net.precond);   /* --weighting below may still set the loss */
    if (c->g_steps) o.steps = c->steps;
    if (c->g_steps && o.lr_decay_steps > 0) o.lr_decay_steps = c->steps;   /* the rate's decay spans the run */
    if (c->constant_lr) o.lr_decay_steps = 0;
    if (c->g_batch) o.batch = (int)c->batch;
    if (c->g_lr) o.lr = c->lr;
    if (c->g_levels) o.levels = (int)c->levels;
    if (c->g_smax) o.sigma_max = c->sigma_max;
    if (c->g_smin) o.sigma_min = c->sigma_min;
    if (c->g_schedule) o.schedule = (ncsn_schedule_kind)c->schedule;
    if (c->g_weighting) o.weighting = (ncsn_weighting)c->weighting;
    if (c->g_ema) o.ema_rate = c->ema;
    if (c->g_std) o.standardize = c->standardize;
    if (c->g_stf) o.stable_target = c->stable_target;
    if (c->g_seed) o.seed = c->seed;
    o.threads = (int)c->threads;
    return o;
}

/* an integer of a file's metadata, as an option's (parse_long_opt); a message names the file,
   the key and the value (exit 2) */
static int meta_long(const char *path, const char *key, const char *v, long lo, long hi, long *out)
{
    char name[4200];
    snprintf(name, sizeof name, "'%.4000s': metadata %s", shown(path), key);
    return parse_long_opt(name, v, lo, hi, out) ? EXIT_INPUT : 0;
}

/* the resumed run's stage of the second-run rule (cli.sigma_min_rule; its bits depend on it):
   "pending" (the first run: --no-check, --sigma-min or --levels keep it), "spacing S: ..." (the
   second, S its smallest level, checked against the checkpoint's), or absent; anything else, a
   value ncsn train does not write, is refused (exit 2) */
static int resume_rule(train_cfg *c, const unsigned char *ck, size_t cklen, const ncsn_trainer *t)
{
    char v[sizeof c->rule], *end = NULL;
    ncsn_status st = ncsn_file_meta_mem(ck, cklen, "cli.sigma_min_rule", v, sizeof v);
    if (st != NCSN_OK && !strstr(ncsn_last_error(), "longer than")) return 0;   /* absent */
    if (st == NCSN_OK && !strcmp(v, "pending")) {
        c->auto_smin = c->no_check || c->g_smin || c->g_levels ? 0 : 1;
        return 0;
    }
    if (st == NCSN_OK && !strncmp(v, "spacing ", 8) && (float)strtod(v + 8, &end) == t->sigmas[t->L - 1] && end && *end == ':') {
        c->auto_smin = 2;
        memcpy(c->rule, v, sizeof v);
        return 0;
    }
    return fail(EXIT_INPUT, "'%s': its metadata cli.sigma_min_rule is not one ncsn train writes ('pending', or 'spacing' and the checkpoint's smallest level %g)",
                shown(c->resume), (double)t->sigmas[t->L - 1]);
}

/* a resumed run without -o writes MODEL for --resume MODEL.ckpt: from the path the user typed,
   never from the file's cli.output */
static int resume_output(train_cfg *c, char *out_default, size_t out_cap)
{
    size_t k = strlen(c->resume);
    if (k <= 5 || strcmp(c->resume + k - 5, ".ckpt") != 0 || k - 5 >= out_cap)
        return fail(EXIT_USAGE, "give -o MODEL.safetensors: without -o, --resume MODEL.ckpt writes MODEL, and '%s' is not so named", shown(c->resume));
    memcpy(out_default, c->resume, k - 5);
    out_default[k - 5] = 0;
    c->output = out_default;
    return 0;
}

/* resume: everything from the checkpoint (read once: it may be a pipe); options may only repeat it
   (or raise --steps) */
static int train_resume(train_cfg *c, ncsn_trainer **tp, const float *data, int n, int dim, uint64_t hash, char *out_default, size_t out_cap)
{
    char v[4160], want[96];
    long saved_steps, saved_every, saved_dim;
    int preset = 0, rc = 0;
    unsigned char *ck = NULL;
    size_t cklen = 0;
    ncsn_trainer *t;
    ncsn_status st;
    if ((st = ncsn_read_safetensors(c->resume, &ck, &cklen)) != NCSN_OK) return lib_fail_input(st);
    if (ncsn_file_meta_mem(ck, cklen, "ncsn.dim", v, sizeof v) == NCSN_OK) {   /* before anything else: its cli.data may have been edited to match */
        if ((rc = meta_long(c->resume, "ncsn.dim", v, 1, INT_MAX, &saved_dim)) != 0) goto out;
        if (saved_dim != dim) {
            rc = fail(EXIT_INPUT, "'%s' holds a model of dimension %ld, but '%s' has %d columns", shown(c->resume), saved_dim, shown(c->data), dim);
            goto out;
        }
    }
    snprintf(want, sizeof want, "n=%d dim=%d fnv1a=0x%016llx", n, dim, (unsigned long long)hash);
#define SAVED(key) do { if (ncsn_file_meta_mem(ck, cklen, key, v, sizeof v) != NCSN_OK) { \
            rc = fail(EXIT_INPUT, "'%s' was not written by ncsn train (%s)", shown(c->resume), ncsn_last_error()); goto out; } } while (0)
    SAVED("cli.data");
    if (strcmp(v, want) != 0) { rc = fail(EXIT_INPUT, "'%s' is not the data the checkpoint was trained on (checkpoint: %s; this file: %s)", shown(c->data), v, want); goto out; }
    SAVED("cli.steps");
    if ((rc = meta_long(c->resume, "cli.steps", v, 1, MAX_STEPS, &saved_steps)) != 0) goto out;
    SAVED("cli.checkpoint_every");
    if ((rc = meta_long(c->resume, "cli.checkpoint_every", v, 0, MAX_STEPS, &saved_every)) != 0) goto out;
    SAVED("cli.preset");
    if (parse_choice("metadata cli.preset", v, preset_names, &preset)) { rc = EXIT_INPUT; goto out; }
#undef SAVED
    if ((st = ncsn_trainer_resume_mem(tp, ck, cklen, data, n, dim, (int)c->threads)) != NCSN_OK) { rc = lib_fail_file(st, c->resume); goto out; }
    if ((rc = resume_rule(c, ck, cklen, *tp)) != 0) goto out;
    t = *tp;
    /* an option that changes the run is a mistake: say which */
#define SAME(opt, given, differs, fmt, val, saved) do { if ((given) && (differs)) { \
            rc = fail(EXIT_USAGE, opt " " fmt " differs from the checkpoint's " fmt "; leave it out to resume (see ncsn info %s)", \
                      val, saved, c->resume); goto out; } } while (0)
    SAME("--batch", c->g_batch, c->batch != t->opts.batch, "%ld", c->batch, (long)t->opts.batch);
    SAME("--lr", c->g_lr, c->lr != t->opts.lr, "%g", (double)c->lr, (double)t->opts.lr);
    SAME("--levels", c->g_levels, c->levels != t->L, "%ld", c->levels, (long)t->L);
    SAME("--sigma-max", c->g_smax, c->sigma_max != t->sigmas[0], "%g", (double)c->sigma_max, (double)t->sigmas[0]);
    SAME("--sigma-min", c->g_smin, c->sigma_min != t->sigmas[t->L - 1], "%g", (double)c->sigma_min, (double)t->sigmas[t->L - 1]);
    SAME("--width", c->g_width, c->width != t->model->cfg.hidden[0], "%ld", c->width, (long)t->model->cfg.hidden[0]);
    SAME("--depth", c->g_depth, c->depth != t->model->cfg.n_hidden, "%ld", c->depth, (long)t->model->cfg.n_hidden);
    SAME("--embed", c->g_embed, c->embed != (t->model->cfg.cond == NCSN_COND_EMBED ? t->model->cfg.embed_dim : 0), "%ld", c->embed,
         (long)(t->model->cfg.cond == NCSN_COND_EMBED ? t->model->cfg.embed_dim : 0));
    SAME("--act", c->g_act, c->act != (int)t->model->cfg.act, "%s", act_names[c->act], act_names[t->model->cfg.act]);
    SAME("--output-form", c->g_oform, c->output_form != output_form_of(&t->model->cfg), "%s", output_form_names[c->output_form],
         output_form_names[output_form_of(&t->model->cfg)]);
    SAME("--weighting", c->g_weighting, c->weighting != (int)t->opts.weighting, "%s", weighting_names[c->weighting], weighting_names[t->opts.weighting]);
    SAME("--schedule", c->g_schedule, c->schedule != (int)t->opts.schedule, "%s", schedule_names[c->schedule], schedule_names[t->opts.schedule]);
    SAME("--seed", c->g_seed, c->seed != t->opts.seed, "%llu", (unsigned long long)c->seed, (unsigned long long)t->opts.seed);
    SAME("--ema", c->g_ema, c->ema != t->opts.ema_rate, "%g", (double)c->ema, (double)t->opts.ema_rate);
    SAME("--stable-target", c->g_stf, c->stable_target != t->opts.stable_target, "%s", c->stable_target ? "on" : "off", t->opts.stable_target ? "on" : "off");
    SAME("--preset", c->g_preset, c->preset != preset, "%s", preset_names[c->preset], preset_names[preset]);
    /* the rate decays over the run's steps: another length would not give the uninterrupted run's bits */
    SAME("--steps (the learning rate decays over the run; only a run trained with --constant-lr can grow)", c->g_steps && t->opts.lr_decay_steps > 0,
         c->steps != t->opts.lr_decay_steps, "%ld", c->steps, t->opts.lr_decay_steps);
    if (c->constant_lr && t->opts.lr_decay_steps > 0) {
        rc = fail(EXIT_USAGE, "--constant-lr: the checkpoint's rate decays over %ld steps (only a run trained with --constant-lr has a constant rate); leave it out to resume (see ncsn info %s)",
                  t->opts.lr_decay_steps, c->resume);
        goto out;
    }
#undef SAME
    c->preset = preset;
    if (!c->g_steps) c->steps = saved_steps;
    if (c->steps < t->step) {   /* without --steps the number is the file's: a bad file, not a bad option */
        rc = c->g_steps ? fail(EXIT_USAGE, "--steps = %ld is below the checkpoint's step %ld", c->steps, t->step)
                        : fail(EXIT_INPUT, "'%s': its metadata cli.steps = %ld is below its step %ld", shown(c->resume), c->steps, t->step);
        goto out;
    }
    if (!c->g_every) c->every = saved_every;
    if (!c->output && (rc = resume_output(c, out_default, out_cap)) != 0) goto out;
    if (!c->g_ckpt && strcmp(c->resume, "-") != 0) c->checkpoint = c->resume;
out:
    ncsn_free(ck);
    return rc;
}

/* a numerical failure: the step, the tensor, the largest weight, which file is intact */
static int train_nonfinite(const train_cfg *c, const ncsn_trainer *t, long ckpt_step, long step0)
{
    char why[320], big[96] = "", kept[4400];
    int q, tb = 0;
    float wmax = 0.0f;
    snprintf(why, sizeof why, "%s", ncsn_last_error());
    for (q = 0; q < t->model->n_tensors; q++) {   /* the largest weight: where training blew up */
        const ncsn_tensor *T = &t->model->tensors[q];
        size_t k, cnt = (size_t)T->rows * (size_t)(T->cols ? T->cols : 1);
        for (k = 0; k < cnt; k++)
            if (fabsf(t->model->params[T->offset + k]) > wmax) { wmax = fabsf(t->model->params[T->offset + k]); tb = q; }
    }
    if (isfinite(wmax)) snprintf(big, sizeof big, " (largest weight %.3g, in %s)", (double)wmax, t->model->tensors[tb].name);
    if (ckpt_step >= 0) snprintf(kept, sizeof kept, "the checkpoint of step %ld in '%s' is intact", ckpt_step, c->checkpoint);
    else if (c->resume) snprintf(kept, sizeof kept, "no checkpoint was written; '%s' (step %ld) is intact", shown(c->resume), step0);
    else snprintf(kept, sizeof kept, "no checkpoint was written yet");
    return fail(EXIT_NUMERIC, "numerical failure at step %ld: %s%s; %s (try a smaller --lr)", t->step + 1, why, big, kept);
}

/* the options of `ncsn train` into c; *done set when the command ends here (help, a usage error) */
static int train_parse(int argc, char **argv, train_cfg *c, int *done)
{
    opt_state o;
    int r;
    *done = 1;
    memset(c, 0, sizeof *c);
    c->levels = 0; c->width = 128; c->depth = 3; c->every = 500; c->threads = default_threads();
    o.argc = argc; o.argv = argv; o.i = 0;
    while ((r = next_arg(&o)) != 0) {
        const char *nm = o.name;
        if (r == 2) {
            if (c->data) return fail(EXIT_USAGE, "unexpected argument '%s' (the data file is '%s'); see ncsn train --help", o.value, c->data);
            c->data = o.value;
            continue;
        }
        if (!strcmp(nm, "-h") || !strcmp(nm, "--help")) return help_train();
        else if (!strcmp(nm, "-o") || !strcmp(nm, "--output")) { if (!(c->output = need_value(&o))) return fail(EXIT_USAGE, "%s needs a value", nm); c->g_output = 1; }
        else if (!strcmp(nm, "--preset")) { if (parse_choice(nm, need_value(&o), preset_names, &c->preset)) return EXIT_USAGE; c->g_preset = 1; }
        else if (!strcmp(nm, "--columns")) { if (!(c->columns = need_value(&o))) return fail(EXIT_USAGE, "%s needs a value", nm); }
        else if (!strcmp(nm, "--steps")) { if (parse_long_opt(nm, need_value(&o), 1, MAX_STEPS, &c->steps)) return EXIT_USAGE; c->g_steps = 1; }
        else if (!strcmp(nm, "--batch")) { if (parse_long_opt(nm, need_value(&o), 1, 1L << 26, &c->batch)) return EXIT_USAGE; c->g_batch = 1; }
        else if (!strcmp(nm, "--lr")) { if (parse_float_opt(nm, need_value(&o), 0, 0, 3.4028234663852886e38, &c->lr)) return EXIT_USAGE; c->g_lr = 1; }
        else if (!strcmp(nm, "--ema")) { if (parse_float_opt(nm, need_value(&o), 0, 1, 0.99999999, &c->ema)) return EXIT_USAGE; c->g_ema = 1; }
        else if (!strcmp(nm, "--levels")) { if (parse_long_opt(nm, need_value(&o), 2, NCSN_MAX_LEVELS, &c->levels)) return EXIT_USAGE; c->g_levels = 1; }
        else if (!strcmp(nm, "--sigma-max")) { if (parse_float_opt(nm, need_value(&o), 0, 0, 3.4028234663852886e38, &c->sigma_max)) return EXIT_USAGE; c->g_smax = 1; }
        else if (!strcmp(nm, "--sigma-min")) { if (parse_float_opt(nm, need_value(&o), 0, 0, 3.4028234663852886e38, &c->sigma_min)) return EXIT_USAGE; c->g_smin = 1; }
        else if (!strcmp(nm, "--schedule")) { if (parse_choice(nm, need_value(&o), schedule_names, &c->schedule)) return EXIT_USAGE; c->g_schedule = 1; }
        else if (!strcmp(nm, "--width")) { if (parse_long_opt(nm, need_value(&o), 1, 65536, &c->width)) return EXIT_USAGE; c->g_width = 1; }
        else if (!strcmp(nm, "--depth")) { if (parse_long_opt(nm, need_value(&o), 1, NCSN_MAX_HIDDEN, &c->depth)) return EXIT_USAGE; c->g_depth = 1; }
        else if (!strcmp(nm, "--embed")) {
            if (parse_long_opt(nm, need_value(&o), 0, 65536, &c->embed)) return EXIT_USAGE;
            if (c->embed && (c->embed < 4 || c->embed % 2)) return fail(EXIT_USAGE, "--embed = %ld must be 0 or even and >= 4", c->embed);
            c->g_embed = 1;
        }
        else if (!strcmp(nm, "--act")) { if (parse_choice(nm, need_value(&o), act_names, &c->act)) return EXIT_USAGE; c->g_act = 1; }
        else if (!strcmp(nm, "--output-form")) { if (parse_choice(nm, need_value(&o), output_form_names, &c->output_form)) return EXIT_USAGE; c->g_oform = 1; }
        else if (!strcmp(nm, "--weighting")) { if (parse_choice(nm, need_value(&o), weighting_names, &c->weighting)) return EXIT_USAGE; c->g_weighting = 1; }
        else if (!strcmp(nm, "--constant-lr")) c->constant_lr = 1;
        else if (!strcmp(nm, "--standardize")) { c->standardize = 1; c->g_std = 1; }
        else if (!strcmp(nm, "--no-standardize")) { c->standardize = 0; c->g_std = 1; }
        else if (!strcmp(nm, "--stable-target")) { c->stable_target = 1; c->g_stf = 1; }
        else if (!strcmp(nm, "--no-stable-target")) { c->stable_target = 0; c->g_stf = 1; }
        else if (!strcmp(nm, "--seed")) { if (parse_u64_opt(nm, need_value(&o), &c->seed)) return EXIT_USAGE; c->g_seed = 1; }
        else if (!strcmp(nm, "--threads")) { if (parse_long_opt(nm, need_value(&o), 1, 256, &c->threads)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--checkpoint")) { if (!(c->checkpoint = need_value(&o))) return fail(EXIT_USAGE, "%s needs a value", nm); c->g_ckpt = 1; }
        else if (!strcmp(nm, "--checkpoint-every")) { if (parse_long_opt(nm, need_value(&o), 0, MAX_STEPS, &c->every)) return EXIT_USAGE; c->g_every = 1; }
        else if (!strcmp(nm, "--resume")) { if (!(c->resume = need_value(&o))) return fail(EXIT_USAGE, "%s needs a value", nm); }
        else if (!strcmp(nm, "--progress")) { if (parse_choice(nm, need_value(&o), progress_names, &c->progress)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--log-every")) { if (parse_long_opt(nm, need_value(&o), 1, MAX_STEPS, &c->log_every)) return EXIT_USAGE; }
        else if (!strcmp(nm, "-q") || !strcmp(nm, "--quiet")) c->quiet = 1;
        else if (!strcmp(nm, "--no-check")) c->no_check = 1;
        else return fail(EXIT_USAGE, "unknown option '%s' (see ncsn train --help)", nm);
    }
    if (!c->data) return fail(EXIT_USAGE, "no data file (usage: ncsn train DATA.csv -o MODEL.safetensors; see --help)");
    if (!c->output && !c->resume) return fail(EXIT_USAGE, "no output file: give -o MODEL.safetensors");
    if (c->resume && !strcmp(c->resume, "-") && !strcmp(c->data, "-")) return fail(EXIT_USAGE, "the data and --resume cannot both be stdin ('-')");
    if (c->output && !c->output[0]) return fail(EXIT_USAGE, "-o is an empty path");   /* else found only when the model is renamed into place */
    if (c->checkpoint && !c->checkpoint[0]) return fail(EXIT_USAGE, "--checkpoint is an empty path");
    if (c->checkpoint && !strcmp(c->checkpoint, "-")) return fail(EXIT_USAGE, "--checkpoint cannot be stdout ('-'): it is rewritten during training");
    if (c->output && !strcmp(c->output, "-") && isatty(fileno(stdout)))
        return fail(EXIT_USAGE, "-o -: refusing to write a binary model to a terminal; redirect stdout (> model.safetensors)");
    if (c->g_smax && c->g_smin && !(c->sigma_max > c->sigma_min))
        return fail(EXIT_USAGE, "--sigma-max = %g must be > --sigma-min = %g", (double)c->sigma_max, (double)c->sigma_min);

    *done = 0;
    return 0;
}

/* the checkpoint's path (default MODEL.ckpt), refused where a write would destroy the model,
   the checkpoint or the data */
static int train_paths(train_cfg *c, char *ckpt_default, size_t cap)
{
    struct stat in, sb;
    if (!c->checkpoint && ncsn_output_in_place(c->output) > 0) {   /* stdout, a FIFO, /dev/null, /dev/fd/3: no MODEL.ckpt beside it */
        if (c->every > 0 && c->g_every) return fail(EXIT_USAGE, "-o %s with --checkpoint-every: give --checkpoint PATH", c->output);
        c->every = 0;
        c->checkpoint = "-";
    }
    if (!c->checkpoint) { snprintf(ckpt_default, cap, "%s.ckpt", c->output); c->checkpoint = ckpt_default; }
    if (!strcmp(c->data, "-") && fstat(0, &in) == 0 && S_ISREG(in.st_mode)) {   /* train - -o DATA < DATA */
        /* lstat for a path renamed over (a link there is replaced, the data behind it kept) */
        int k;
        for (k = 0; k < (c->every > 0 ? 2 : 1); k++) {
            const char *q = k ? c->checkpoint : c->output;
            if ((ncsn_output_in_place(q) == 0 ? lstat(q, &sb) : stat(q, &sb)) == 0 && sb.st_dev == in.st_dev && sb.st_ino == in.st_ino)
                return fail(EXIT_USAGE, "writing '%s' would overwrite the data (it is the file on stdin)", q);
        }
    }
    if (c->every > 0 && same_file(c->output, c->checkpoint)) {   /* the model would overwrite the checkpoint: nothing left to resume */
        return fail(EXIT_USAGE, "the model (-o %s) and the checkpoint (%s) are the same file; give another --checkpoint or -o", c->output, c->checkpoint);
    }
    if (strcmp(c->data, "-") != 0 && (same_file(c->output, c->data) || (c->every > 0 && same_file(c->checkpoint, c->data)))) {
        return fail(EXIT_USAGE, "writing '%s' would overwrite the data", same_file(c->output, c->data) ? c->output : c->checkpoint);
    }
    return 0;
}

/* After training to the data-driven recipe: CHECK_SAMPLES samples of the file's network by the
   recipe's sampler (its own seed; the model is written already), and ncsn compare's copy check on
   them against the training data, in network units: a line on stderr, and the memorisation note
   when the network reproduces its training points. */
#define CHECK_SAMPLES 200
#define CHECK_MIN 10   /* data points below which a median spacing means little: no check */

/* the sampler's callback of ncsn sample and of train's check: the level on stderr (mode 1: a live
   line, 2: plain lines, 0: none), and a signal stops the chains */
typedef struct sample_progress { int mode, L; double t0; } sample_progress;

static ncsn_status sample_tick(void *user, int level, int step, float sigma, const float *x, int n, int dim)
{
    sample_progress *p = (sample_progress *)user;
    (void)x; (void)n; (void)dim;
    if (step != 0 || p->mode == 0) return interrupted ? NCSN_ERR_CALLBACK : NCSN_OK;
    if (p->mode == 1) fprintf(stderr, "\rlevel %d/%d (sigma %.4g)  %.0fs   ", level + 1, p->L, (double)sigma, now() - p->t0);
    else fprintf(stderr, "level %d/%d sigma %.4g %.1fs\n", level + 1, p->L, (double)sigma, now() - p->t0);
    fflush(stderr);
    return interrupted ? NCSN_ERR_CALLBACK : NCSN_OK;
}

/* the check's chains that did not diverge (ncsn sample's rule) moved to the front of x; their count */
static int check_kept(float *x, int m, int dim, const unsigned char *div)
{
    int i, k = 0;
    for (i = 0; i < m; i++)
        if (!div[i]) memmove(x + (size_t)k++ * dim, x + (size_t)i * dim, sizeof(float) * (size_t)dim);
    return k;
}

/* what the check measured: the samples' median nearest-data distance over the data's own (ratio;
   < 0: nothing measured) and the data's own median, network units */
typedef struct check_result { double ratio, own; } check_result;

#define ADVICE_SIGMA_MIN "train with a larger --sigma-min (see ncsn compare --help)"

/* advice: what the note on copies suggests (the first run's check: the second run it starts) */
static check_result train_check(const ncsn_trainer *t, int threads, int print, const char *advice)
{
    int dim = t->dim, m = t->n < CHECK_SAMPLES ? t->n : CHECK_SAMPLES, nd = m, k = 0, bad = 0, i;
    int *idx = (int *)malloc(sizeof(int) * (size_t)nd);
    float *x = (float *)malloc(sizeof(float) * (size_t)m * dim);
    unsigned char *div = (unsigned char *)malloc((size_t)m);
    ncsn_model *net = NULL;
    ncsn_sampler_opts so;
    ncsn_rng rng;
    sample_progress quiet = { 0, 0, 0.0 };   /* no progress; a signal still stops it */
    check_result r = { -1.0, 0.0 };
    int mem = idx && x && div;
    ncsn_status st = t->n < CHECK_MIN ? NCSN_ERR_ARG : mem ? ncsn_model_create(&net, &t->model->cfg) : NCSN_ERR_NOMEM;
    if (st == NCSN_OK) {
        memcpy(net->params, ncsn_trainer_weights(t), sizeof(float) * net->n_params);
        if (threads > 1) ncsn_model_set_threads(net, threads);   /* the bits do not depend on it */
        so = ncsn_sampler_recipe_model(net, t->sigmas, t->L, 0);
        so.callback = sample_tick;
        so.callback_user = &quiet;
        ncsn_rng_seed(&rng, 2019, 3);
        st = ncsn_sample_annealed(ncsn_model_score, net, dim, t->sigmas, t->L, &so, &rng, x, m);   /* network units, as t->data */
        if (st == NCSN_ERR_NONFINITE) st = NCSN_OK;   /* those chains count as diverged below */
    }
    if (st == NCSN_OK) {
        bad = ncsn_diverged(&t->stdz, t->sigmas[0], x, m, div);   /* ncsn sample's rule */
        k = check_kept(x, m, dim, div);
        for (i = 0; i < nd; i++) idx[i] = (int)((long long)i * t->n / nd);   /* rows spread over the file (it may be sorted) */
    }
    if (t->n < CHECK_MIN) { if (print) fprintf(stderr, "%s: check skipped: %d data points (it needs %d)\n", cmd, t->n, CHECK_MIN); }
    else if (st == NCSN_ERR_CALLBACK) {}   /* interrupted: the caller says so */
    else if (st != NCSN_OK) { if (print) fprintf(stderr, "%s: check skipped (%s)\n", cmd, mem ? ncsn_last_error() : "out of memory"); }
    else if (k == 0) { if (print) fprintf(stderr, "%s: check: all %d of its chains diverged (left the data's region): the model does not sample the data\n", cmd, m); }
    else {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "%s: check, %d samples%s: ", cmd, k, bad ? " (the chains that did not diverge)" : "");
        if (bad && print) fprintf(stderr, "%s: check: %d of %d chains diverged (left the data's region)\n", cmd, bad, m);
        r.ratio = copy_check(print ? stderr : NULL, prefix, advice, t->data, t->n, dim, idx, nd, x, k, &r.own);
    }
    ncsn_model_free(net);
    free(idx); free(x); free(div);
    return r;
}

/* trains t from its step to c->steps with progress, checkpoints and signals; 0, or the exit code
   of a stop (the message printed). *last_mean: the mean loss over the last 1 % of the steps. */
static int train_loop(train_cfg *c, ncsn_trainer *t, const char *const *meta, double *last_mean, long *last_n)
{
    progress pr;
    ncsn_status st;
    long ckpt_step = -1, step0 = t->step, tail_n = 0, tail_from;
    double tail_sum = 0.0;
    memset(&pr, 0, sizeof pr);
    pr.mode = c->quiet || c->progress == 3 ? 0 : c->progress == 1 ? 1 : c->progress == 2 ? 2 : isatty(fileno(stderr)) ? 1 : 2;
    pr.total = c->steps;
    pr.log_every = c->log_every > 0 ? c->log_every : (c->steps >= 20 ? c->steps / 20 : 1);
    pr.t0 = now();
    pr.step0 = t->step;
    tail_from = c->steps - (c->steps >= 100 ? c->steps / 100 : 1);   /* the last 1 % for the final mean loss */
    while (t->step < c->steps) {
        if ((st = ncsn_trainer_step(t)) != NCSN_OK) {
            progress_break(&pr);
            return st == NCSN_ERR_NONFINITE ? train_nonfinite(c, t, ckpt_step, step0) : fail(st == NCSN_ERR_NOMEM ? EXIT_NOMEM : EXIT_USAGE, "step %ld: %s", t->step + 1, ncsn_last_error());
        }
        if (t->step > tail_from) { tail_sum += t->loss; tail_n++; }
        progress_step(&pr, t->step, t->loss, 0);
        if (c->every > 0 && (t->step % c->every == 0 || t->step == c->steps || interrupted)) {
            if ((st = ncsn_trainer_save(t, c->checkpoint, meta)) != NCSN_OK) {
                progress_break(&pr);
                return fail(save_status_code(st), "checkpoint at step %ld: %s", t->step, ncsn_last_error());
            }
            ckpt_step = t->step;
            if (pr.mode == 2 && c->every >= pr.log_every && t->step != c->steps) fprintf(stderr, "checkpoint at step %ld: %s\n", t->step, c->checkpoint);
        }
        if (interrupted && t->step < c->steps) {
            progress_break(&pr);
            if (c->every > 0) return fail(signal_code(), "%s at step %ld; checkpoint written: continue with --resume %s", signal_name(), t->step, c->checkpoint);
            return fail(signal_code(), "%s at step %ld; no checkpoint (--checkpoint-every 0)", signal_name(), t->step);
        }
    }
    progress_break(&pr);
    *last_mean = tail_n ? tail_sum / (double)tail_n : 0.0;
    *last_n = tail_n;
    return 0;
}

/* writes t's model to c->output and says so */
static int train_write(const train_cfg *c, const ncsn_trainer *t, const char *const *meta, double last_mean, long last_n)
{
    ncsn_status st;
    if ((st = ncsn_trainer_save_model(t, c->output, meta)) != NCSN_OK) return fail(save_status_code(st), "%s", ncsn_last_error());
    if (!c->quiet) {
        fprintf(stderr, "%s: wrote %s (step %ld; loss of the last step %.5g", cmd, strcmp(c->output, "-") ? c->output : "the model to stdout", t->step,
                (double)t->loss);
        if (last_n > 1) fprintf(stderr, ", mean over the last %ld steps %.5g", last_n, last_mean);
        fprintf(stderr, "%s)\n", t->ema ? "; the file holds the EMA weights" : "");
    }
    return 0;
}

/* The check decides a second run (c->auto_smin: the recipe's sigma_min, not given) when the
   samples' median nearest-data distance is under RETRAIN_RATIO of the data's own: the network has
   learned its training points, the DSM optimum below their spacing. The second run's smallest level
   is SPACING_FACTOR x the data's median nearest-neighbour distance / sqrt(dim), network units.
   Both measured on held-out halves of real data (docs/cli.md). 0: no second run; else its sigma_min. */
#define RETRAIN_RATIO 0.6
#define SPACING_FACTOR 1.5
static float retrain_sigma_min(const train_cfg *c, const ncsn_trainer *t, check_result r)
{
    double s = SPACING_FACTOR * r.own / sqrt((double)t->dim);
    if (!(r.ratio >= 0.0 && r.ratio < RETRAIN_RATIO)) return 0.0f;
    if (!((float)s > t->sigmas[t->L - 1]) || !((float)s < t->sigmas[0])) {
        if (!c->quiet)
            fprintf(stderr, "%s: no second run: the data's spacing gives sigma_min %.4g, not between this run's %g and sigma_max %g\n", cmd, s,
                    (double)t->sigmas[t->L - 1], (double)t->sigmas[0]);
        return 0.0f;
    }
    return (float)s;
}

static int train_rerun(train_cfg *c, ncsn_trainer **tp, const float *data, meta_list *meta, float smin, double ratio, double *last_mean, long *last_n)
{
    ncsn_train_opts to = (*tp)->opts;   /* the first run's settings, a resumed one's from its checkpoint */
    ncsn_trainer *t2 = NULL;
    ncsn_status st;
    int n = (*tp)->n, dim = (*tp)->dim, rc;
    to.sigma_min = smin;
    to.sigma_max = (*tp)->sigmas[0];
    to.sigmas = NULL;
    to.levels = 0;   /* from the ratio (--levels keeps the first run) */
    to.steps = c->steps;
    to.threads = (int)c->threads;
    if ((st = ncsn_trainer_create(&t2, &to, data, n, dim, NULL)) != NCSN_OK)
        return fail(st == NCSN_ERR_NOMEM ? EXIT_NOMEM : EXIT_USAGE, "the second run: %s", ncsn_last_error());
    c->auto_smin = 2;
    snprintf(meta->store[meta->n - 1], sizeof meta->store[0], "spacing %.9g: the first run's samples copied its points (ratio %.3g)",
             (double)smin, ratio);
    if (!c->quiet)
        fprintf(stderr, "%s: the samples sit at %.3g of the data's spacing (under %g: the network learned its points); training again "
                "with sigma_min %.4g (%.3g x the data's nearest-neighbour spacing %.4g / sqrt(%d)), %d levels; --sigma-min or --no-check "
                "keeps the first run\n", cmd, ratio, RETRAIN_RATIO, (double)smin, SPACING_FACTOR, ((double)smin / SPACING_FACTOR) * sqrt((double)dim), dim, t2->L);
    if ((rc = train_loop(c, t2, meta->kv, last_mean, last_n)) != 0 && !interrupted) {   /* a failed second run: the first run's model */
        snprintf(meta->store[meta->n - 1], sizeof meta->store[0], "kept: the second run failed");
        if (train_write(c, *tp, meta->kv, 0.0, 0) == 0)
            fprintf(stderr, "%s: the second run stopped (above); wrote the first run's model, whose samples copy its points, instead\n", cmd);
        ncsn_trainer_free(t2);
        return rc;
    }
    ncsn_trainer_free(*tp);   /* an interrupted second run resumes from its own checkpoint */
    *tp = t2;
    return rc;
}

/* trains *tp to c->steps, then (c->auto_smin 1) checks it and trains again when it copies its
   points, writes the model, and checks it */
static int train_run(train_cfg *c, ncsn_trainer **tp, const float *data, int n, int dim, meta_list *meta)
{
    ncsn_trainer *t = *tp;
    int rc, checked = 0;
    double last_mean = 0.0;
    long last_n = 0;
    if ((rc = check_writable(c->output)) != 0 || (c->every > 0 && (rc = check_writable(c->checkpoint)) != 0)) return rc;
    if (!c->quiet) {
        if (c->resume) fprintf(stderr, "%s: resuming '%s' at step %ld of %ld\n", cmd, shown(c->resume), t->step, c->steps);
        else
            fprintf(stderr, "%s: %d points of dim %d%s; %lu parameters; %d levels %g .. %g%s; batch %d%s; %ld steps; EMA %g; %ld threads\n",
                    cmd, n, dim, t->opts.standardize ? " (standardised)" : "", (unsigned long)t->model->n_params, t->L, (double)t->sigmas[0],
                    (double)t->sigmas[t->L - 1], c->g_smax || c->preset ? "" : t->sigma_max_exact ? " (sigma_max = largest pairwise distance)" :
                    " (sigma_max ~ largest pairwise distance, estimated)", t->batch, t->opts.stable_target ? " (stable target)" : "", c->steps, (double)t->opts.ema_rate, c->threads);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if ((rc = train_loop(c, t, meta->kv, &last_mean, &last_n)) != 0) return rc;
    if (c->auto_smin == 1) {   /* the check decides whether this model is the one written */
        check_result r = { -1.0, 0.0 };
        float smin = 0.0f;
        checked = 1;
        if (!interrupted) r = train_check(t, (int)c->threads, !c->quiet, "the next lines say whether ncsn train trains again with a larger sigma_min");
        if (!interrupted) smin = retrain_sigma_min(c, t, r);   /* a signal may come during the check */
        if (interrupted) {   /* the decision is not taken: the checkpoint takes it when resumed */
            if (c->every > 0)
                return fail(signal_code(), "%s before the check after training decided the model; checkpoint written: continue with --resume %s",
                            signal_name(), c->checkpoint);
            if (!c->quiet) fprintf(stderr, "%s: interrupted before the check decided (no checkpoint): writing the first run's model\n", cmd);
        } else if (smin > 0.0f) {
            if ((rc = train_rerun(c, tp, data, meta, smin, r.ratio, &last_mean, &last_n)) != 0) return rc;
            t = *tp;
            checked = 0;
        } else
            snprintf(meta->store[meta->n - 1], sizeof meta->store[0], r.ratio >= 0.0 ? "kept: the check's ratio %.3g" : "kept: no check", r.ratio);
    }
    if ((rc = train_write(c, t, meta->kv, last_mean, last_n)) != 0) return rc;
    if (!checked && !c->quiet && !c->no_check && c->preset == 0 && !interrupted) train_check(t, (int)c->threads, 1, ADVICE_SIGMA_MIN);
    if (interrupted)   /* during the check, or at the last step: the model is written */
        rc = fail(signal_code(), "%s after the model was written ('%s')", signal_name(), strcmp(c->output, "-") ? c->output : "stdout");
    return rc;
}

/* The columns of data[n][dim] that hold one value, as cli.constant's list ("2,5": numbers of the
   trained columns, as many as fit in cap), with a note on stderr for each unless quiet: the
   network's samples would spread around the value a little, so ncsn sample writes it exactly.
   Returns how many are listed. */
static int constant_columns(const float *data, int n, int dim, char *list, size_t cap, int quiet)
{
    int d, i, count = 0;
    size_t q = 0;
    list[0] = 0;
    for (d = 0; d < dim; d++) {
        char num[16];
        int k;
        for (i = 1; i < n && data[(size_t)i * dim + d] == data[d]; i++) {}
        if (i < n) continue;
        k = snprintf(num, sizeof num, count ? ",%d" : "%d", d + 1);
        if (q + (size_t)k >= cap) {   /* the rest are sampled by the network, as before 0.11.0 */
            if (!quiet) fprintf(stderr, "note: the list of constant columns is full at column %d: later ones are sampled as the others\n", d + 1);
            break;
        }
        memcpy(list + q, num, (size_t)k + 1);
        q += (size_t)k;
        count++;
        if (!quiet && count <= 10)
            fprintf(stderr, "note: column %d of the data trained on holds one value, %.9g: ncsn sample writes it exactly there\n", d + 1, (double)data[d]);
    }
    if (!quiet && count > 10) fprintf(stderr, "note: and %d more such columns (ncsn info lists them: cli.constant)\n", count - 10);
    return count;
}

static int cmd_train(int argc, char **argv)
{
    train_cfg c;
    int rc = 0, done;
    float *data = NULL;
    int n = 0, dim = 0;
    char names[4096], ckpt_default[4096], out_default[4096];
    ncsn_trainer *t = NULL;
    ncsn_status st;
    static meta_list meta;
    static char cons[4097];   /* the library's limit for a metadata value, 4096 bytes */
    uint64_t hash;
    rc = train_parse(argc, argv, &c, &done);
    if (done) return rc;
    if ((rc = load_columns(c.data, c.columns, &data, &n, &dim, names, sizeof names)) != 0) return rc;
    if (dim > 65536) { rc = fail(EXIT_INPUT, "'%s' has %d columns; at most 65536", shown(c.data), dim); goto out; }
    hash = data_hash(data, n, dim);
    if (c.resume) {
        if ((rc = train_resume(&c, &t, data, n, dim, hash, out_default, sizeof out_default)) != 0) goto out;
    } else {
        ncsn_train_opts to = train_opts(&c, dim);
        c.auto_smin = !c.g_smin && !c.g_levels && c.preset == 0 && !c.no_check;
        c.steps = to.steps;
        if ((st = ncsn_trainer_create(&t, &to, data, n, dim, NULL)) != NCSN_OK) {
            const char *e = ncsn_last_error();
            if (!strncmp(e, "ncsn_trainer_create: ", 21)) e += 21;
            if (st == NCSN_ERR_ARG && !c.g_smax && n == 1 && strstr(e, "largest pairwise distance"))   /* no distance to take sigma_max from */
                rc = fail(EXIT_INPUT, "'%s' holds 1 data row: training needs at least 2 (or --sigma-max)", shown(c.data));
            else if (st == NCSN_ERR_ARG && !c.g_smax && strstr(e, "largest pairwise distance"))   /* a data problem: no --sigma-max was given */
                rc = fail(EXIT_INPUT, "'%s': %s (--sigma-max)", shown(c.data), e);
            else rc = fail(st == NCSN_ERR_NOMEM ? EXIT_NOMEM : EXIT_USAGE, "%s", ncsn_last_error());
            goto out;
        }
    }
    if ((rc = train_paths(&c, ckpt_default, sizeof ckpt_default)) != 0) goto out;

    /* what the files say about this run (the same for a resumed run: its output is bit-identical) */
    meta.n = 0;
    meta.kv[0] = NULL;
    meta_add(&meta, "cli.data", "n=%d dim=%d fnv1a=0x%016llx", n, dim, (unsigned long long)hash);
    if (names[0]) meta_add(&meta, "cli.columns", "%s", names);
    meta_add(&meta, "cli.steps", "%ld", c.steps);
    meta_add(&meta, "cli.batch", "%d", t->opts.batch);
    meta_add(&meta, "cli.weighting", "%s", weighting_names[t->opts.weighting]);
    meta_add(&meta, "cli.schedule", "%s", schedule_names[t->opts.schedule]);
    meta_add(&meta, "cli.seed", "%llu", (unsigned long long)t->opts.seed);
    meta_add(&meta, "cli.preset", "%s", preset_names[c.preset]);
    meta_add(&meta, "cli.output", "%s", c.output);
    meta_add(&meta, "cli.checkpoint_every", "%ld", c.every);
    if (constant_columns(data, n, dim, cons, sizeof cons, c.quiet)) meta_add(&meta, "cli.constant", "%s", cons);
    if (c.auto_smin == 1) meta_add(&meta, "cli.sigma_min_rule", "pending");   /* last: a second run rewrites it */
    else if (c.auto_smin == 2) meta_add(&meta, "cli.sigma_min_rule", "%s", c.rule);

    rc = train_run(&c, &t, data, n, dim, &meta);
out:
    ncsn_trainer_free(t);
    ncsn_free(data);
    return rc;
}

/* ---- model + schedule for sample / score ---- */
typedef struct loaded {
    ncsn_model *m; float *sigmas; int L; unsigned char *file; size_t len; ncsn_stdz stdz;
    unsigned char *constant;   /* [dim]: 1 where the training data held one value (cli.constant), or NULL */
    float *constant_value;     /* [dim]: the data's mean (the file's center) in the user's units */
} loaded;

/* cli.constant from a model file (text from the file: refused unless it is what ncsn train writes,
   increasing column numbers in 1..dim); flags[dim] */
static int parse_constant(const char *v, int dim, unsigned char *flags)
{
    long last = 0;
    memset(flags, 0, (size_t)dim);
    for (;;) {
        char *e;
        long k;
        if (*v < '1' || *v > '9') return 0;
        errno = 0;
        k = strtol(v, &e, 10);
        if (errno || k <= last || k > dim) return 0;
        flags[k - 1] = 1;
        last = k;
        if (!*e) return 1;
        if (*e != ',') return 0;
        v = e + 1;
    }
}

/* the file is read once (it may be a pipe) and kept for its metadata */
static int load_model(const char *path, loaded *ld)
{
    ncsn_status st;
    ld->constant = NULL;
    ld->constant_value = NULL;
    ld->m = NULL;
    ld->L = 0;
    ld->file = NULL;
    ld->len = 0;
    memset(&ld->stdz, 0, sizeof ld->stdz);
    ld->sigmas = (float *)malloc(sizeof(float) * NCSN_MAX_LEVELS);
    if (!ld->sigmas) return fail(EXIT_NOMEM, "out of memory");
    if ((st = ncsn_read_safetensors(path, &ld->file, &ld->len)) != NCSN_OK) return lib_fail_input(st);
    st = ncsn_checkpoint_load_mem(&ld->m, ld->file, ld->len, NULL, NULL, ld->sigmas, NCSN_MAX_LEVELS, &ld->L, NULL);
    if (st == NCSN_OK) st = ncsn_stdz_load_mem(&ld->stdz, ld->file, ld->len, ld->m->cfg.dim);   /* the identity for a file without one */
    if (st != NCSN_OK) return lib_fail_file(st, path);
    return 0;
}

/* ncsn sample's: the constant columns the file lists (ld->constant stays NULL without any) */
static int load_constant(const char *path, loaded *ld)
{
    char v[4160];
    int dim = ld->m->cfg.dim;
    ncsn_status st = ncsn_file_meta_mem(ld->file, ld->len, "cli.constant", v, sizeof v);
    if (st != NCSN_OK && strstr(ncsn_last_error(), "no __metadata__ key")) return 0;   /* absent; a value too long is refused below */
    if (!(ld->constant = (unsigned char *)malloc((size_t)dim)) || !(ld->constant_value = (float *)malloc(sizeof(float) * (size_t)dim)))
        return fail(EXIT_NOMEM, "out of memory");
    if (st != NCSN_OK || !parse_constant(v, dim, ld->constant) || !(ld->stdz.radius > 0.0f))
        return fail(EXIT_INPUT, "'%s': its metadata cli.constant is not one ncsn train writes (increasing column numbers in 1..%d, "
                    "in a file with the data's statistics)", shown(path), dim);
    memcpy(ld->constant_value, ld->stdz.center, sizeof(float) * (size_t)dim);   /* a constant column's mean is its value */
    ncsn_stdz_undo(&ld->stdz, ld->constant_value, 1);
    return 0;
}

static void free_loaded(loaded *ld)
{
    ncsn_model_free(ld->m);
    ncsn_stdz_free(&ld->stdz);
    free(ld->constant);
    free(ld->constant_value);
    free(ld->sigmas);
    ncsn_free(ld->file);
}

/* cli.columns is text from the file: written as the CSV header only if it parses back as exactly
   dim column names (a forged value could add columns or a data row) and holds nothing that
   ncsn_text_escape would escape; else x1..xd */
static void print_header(FILE *out, const loaded *ld, const char *path, int dim)
{
    char names[4160], back[4160], *text;
    int ok = 0, i, n = 0, d = 0;
    size_t k, q;
    float *pts = NULL;
    if (ncsn_file_meta_mem(ld->file, ld->len, "cli.columns", names, sizeof names) == NCSN_OK && names[0]) {
        k = strlen(names);
        if ((text = (char *)malloc(k + 2 * (size_t)dim + 2)) != NULL) {
            memcpy(text, names, k);
            q = k;
            text[q++] = '\n';
            for (i = 0; i < dim; i++) { if (i) text[q++] = ','; text[q++] = '0'; }
            text[q++] = '\n';
            ok = ncsn_csv_parse(text, q, NULL, &pts, &n, &d, back, sizeof back) == NCSN_OK && n == 1 && d == dim && strcmp(back, names) == 0 &&
                 ncsn_text_escape(back, sizeof back, names) == k;   /* nothing to escape: no control byte, C1 (U+009B) included */
            ncsn_free(pts);
            free(text);
        }
        if (ok) { fprintf(out, "%s\n", names); return; }
        fail(0, "'%s': its cli.columns is not a CSV header of %d names; writing x1..x%d", shown(path), dim, dim);
    }
    for (i = 0; i < dim; i++) fprintf(out, i ? ",x%d" : "x%d", i + 1);
    fputc('\n', out);
}

/* the sampler of the model's recipe: a seed's preset, else the data-driven one for the model's
   dimension and output form (ncsn_sampler_recipe_model) */
static ncsn_sampler_opts sampler_for(const loaded *ld, long T)
{
    char v[64];
    ncsn_sampler_opts so = ncsn_sampler_recipe_model(ld->m, ld->sigmas, ld->L, (int)T);
    if (ncsn_file_meta_mem(ld->file, ld->len, "cli.preset", v, sizeof v) == NCSN_OK && (!strcmp(v, "seed000") || !strcmp(v, "seed001"))) {
        so = ncsn_sampler_defaults();
        so.steps_per_level = T > 0 ? (int)T : 100;
        so.form = v[6] == '0' ? NCSN_LANGEVIN_SONG : NCSN_LANGEVIN_HALF;   /* seed 000: eps 5e-5 from N(0, I); 001: 1e-4 from N(0, sigma_1^2 I) */
        so.eps = v[6] == '0' ? 5e-5f : 1e-4f;
        so.init = v[6] == '0' ? NCSN_INIT_NORMAL : NCSN_INIT_NORMAL_SIGMA1;
    }
    return so;
}

/* chains per piece of `ncsn sample`: the most whose working memory fits SAMPLE_BUDGET, at least one */
#define SAMPLE_BUDGET ((size_t)64 << 20)
static size_t piece_bytes(const ncsn_model *m, long c)
{
    return ncsn_model_workspace_bytes(m, (int)c) + (size_t)c * (size_t)m->cfg.dim * 4 * sizeof(float) + (size_t)c;   /* + scores, noise, song-lm's last noise, rows, skip flags */
}
static long sample_piece(const ncsn_model *m, long n)
{
    long lo = 1, hi = n;
    while (lo < hi) {   /* the bytes grow with the count: bisect */
        long mid = lo + (hi - lo + 1) / 2;
        if (piece_bytes(m, mid) <= SAMPLE_BUDGET) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* n chains in pieces of piece (x, skip: room for one), each from the run's start so that the
   samples are the bits of one batch, and each piece's rows written to out as it ends; *st the
   sampler's status, *bad the diverged chains; 0 if a write failed (errno says why) */
static int sample_pieces(const loaded *ld, const ncsn_sampler_opts *so, uint64_t seed, long n, long piece, float *x, unsigned char *skip,
                         FILE *out, ncsn_status *st, int *bad)
{
    ncsn_rng rng, start;
    long first;
    *st = NCSN_OK;
    ncsn_rng_seed(&start, seed, 54);
    for (first = 0; first < n; first += piece) {
        int c = (int)(n - first < piece ? n - first : piece), b = 0;
        rng = start;
        *st = ncsn_sample_data_chains(ld->m, &ld->stdz, ld->sigmas, ld->L, so, &rng, x, (int)n, (int)first, c, skip, &b);
        if (*st != NCSN_OK) return 1;
        *bad += b;
        if (ld->constant) {   /* the network's samples spread around a constant column a little: it is the constant */
            int i, d, dim = ld->m->cfg.dim;
            for (i = 0; i < c; i++)
                for (d = 0; d < dim; d++)
                    if (ld->constant[d]) x[(size_t)i * dim + d] = ld->constant_value[d];
        }
        if (!write_rows(out, x, c, ld->m->cfg.dim, skip)) return 0;
    }
    return 1;
}

/* ncsn sample's command line */
typedef struct sample_cfg {
    const char *model, *output;
    long n, T, threads, levels, fine;
    float eps, smax, smin;
    int form, init, denoise, header, schedule, progress_mode, quiet, predictor;
    uint64_t seed;
} sample_cfg;

/* parses argv into c: -1 to go on, else the exit code (0 after --help) */
static int parse_sample(int argc, char **argv, sample_cfg *c)
{
    opt_state o;
    int r;
    memset(c, 0, sizeof *c);
    c->output = "-"; c->n = 1000; c->threads = default_threads(); c->form = c->init = c->denoise = c->predictor = -1; c->seed = 1;
    o.argc = argc; o.argv = argv; o.i = 0;
    while ((r = next_arg(&o)) != 0) {
        const char *nm = o.name;
        if (r == 2) {
            if (c->model) return fail(EXIT_USAGE, "unexpected argument '%s'; see ncsn sample --help", o.value);
            c->model = o.value;
            continue;
        }
        if (!strcmp(nm, "-h") || !strcmp(nm, "--help")) return help(usage_sample);
        else if (!strcmp(nm, "-o") || !strcmp(nm, "--output")) { if (!(c->output = need_value(&o))) return fail(EXIT_USAGE, "%s needs a value", nm); }
        else if (!strcmp(nm, "-n")) { if (parse_long_opt(nm, need_value(&o), 1, 1L << 26, &c->n)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--eps")) { if (parse_float_opt(nm, need_value(&o), 0, 0, 3.4028234663852886e38, &c->eps)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--steps-per-level")) { if (parse_long_opt(nm, need_value(&o), 0, 1L << 30, &c->T)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--fine")) { if (parse_long_opt(nm, need_value(&o), 1, 64, &c->fine)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--form")) { if (parse_choice(nm, need_value(&o), form_names, &c->form)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--init")) { if (parse_choice(nm, need_value(&o), init_names, &c->init)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--predictor")) { if (parse_choice(nm, need_value(&o), predictor_names, &c->predictor)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--denoise")) c->denoise = 1;
        else if (!strcmp(nm, "--no-denoise")) c->denoise = 0;
        else if (!strcmp(nm, "--header")) c->header = 1;
        else if (!strcmp(nm, "--seed")) { if (parse_u64_opt(nm, need_value(&o), &c->seed)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--threads")) { if (parse_long_opt(nm, need_value(&o), 1, 256, &c->threads)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--levels")) { if (parse_long_opt(nm, need_value(&o), 2, NCSN_MAX_LEVELS, &c->levels)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--sigma-max")) { if (parse_float_opt(nm, need_value(&o), 0, 0, 3.4028234663852886e38, &c->smax)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--sigma-min")) { if (parse_float_opt(nm, need_value(&o), 0, 0, 3.4028234663852886e38, &c->smin)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--schedule")) { if (parse_choice(nm, need_value(&o), schedule_names, &c->schedule)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--progress")) { if (parse_choice(nm, need_value(&o), progress_names, &c->progress_mode)) return EXIT_USAGE; }
        else if (!strcmp(nm, "-q") || !strcmp(nm, "--quiet")) c->quiet = 1;
        else return fail(EXIT_USAGE, "unknown option '%s' (see ncsn sample --help)", nm);
    }
    return -1;
}

static int cmd_sample(int argc, char **argv)
{
    sample_cfg c;
    const char *model, *output;
    long n, piece;
    int r, rc = 0, bad = 0;
    loaded ld;
    ncsn_sampler_opts so;
    sample_progress sp;
    ncsn_status st = NCSN_OK;
    float *x = NULL;
    unsigned char *skip = NULL;
    ncsn_output of;
    memset(&ld, 0, sizeof ld);
    of.fp = NULL;
    if ((r = parse_sample(argc, argv, &c)) >= 0) return r;
    model = c.model; output = c.output; n = c.n;
    if (!model) return fail(EXIT_USAGE, "no model file (usage: ncsn sample MODEL.safetensors -n N; see --help)");
    if (!output[0]) return fail(EXIT_USAGE, "-o is an empty path");
    if (strcmp(output, "-") != 0 && strcmp(model, "-") != 0 && same_file(output, model)) return fail(EXIT_USAGE, "writing '%s' would overwrite the model", output);
    if ((c.levels || c.smax > 0 || c.smin > 0) && !(c.levels && c.smax > 0 && c.smin > 0))
        return fail(EXIT_USAGE, "--levels, --sigma-max and --sigma-min go together");
    if ((rc = load_model(model, &ld)) != 0 || (rc = load_constant(model, &ld)) != 0) goto out;
    if (c.levels) {
        if (ld.L) { rc = fail(EXIT_USAGE, "'%s' has its own %d noise levels; leave out --levels/--sigma-max/--sigma-min", model, ld.L); goto out; }
        if (ncsn_schedule(ld.sigmas, (int)c.levels, c.smax, c.smin, (ncsn_schedule_kind)c.schedule) != NCSN_OK) { rc = fail(EXIT_USAGE, "%s", ncsn_last_error()); goto out; }
        ld.L = (int)c.levels;
    }
    if (!ld.L) { rc = fail(EXIT_INPUT, "'%s' holds no noise levels (a torch file?): give --levels, --sigma-max and --sigma-min", model); goto out; }
    if (c.threads > 1 && ncsn_model_set_threads(ld.m, (int)c.threads) != NCSN_OK) { rc = fail(EXIT_USAGE, "%s", ncsn_last_error()); goto out; }
    piece = sample_piece(ld.m, n);
    x = (float *)malloc(sizeof(float) * (size_t)piece * (size_t)ld.m->cfg.dim);
    skip = (unsigned char *)malloc((size_t)piece);
    if (!x || !skip) { rc = fail(EXIT_NOMEM, "out of memory for %ld samples", piece); goto out; }
    so = sampler_for(&ld, c.T);
    if (c.form >= 0) so.form = (ncsn_langevin_form)c.form;
    if (c.eps > 0.0f) so.eps = c.eps;
    if (c.fine) { so.fine_factor = (int)c.fine; so.fine_sigma = 0.5f; }
    if (so.fine_factor > 1 && so.steps_per_level > INT_MAX / so.fine_factor) {
        rc = fail(EXIT_USAGE, "--fine %d x %d steps per level exceeds %d steps", so.fine_factor, so.steps_per_level, INT_MAX);
        goto out;
    }
    if (c.init >= 0) so.init = c.init ? NCSN_INIT_NORMAL_SIGMA1 : NCSN_INIT_NORMAL;
    if (c.predictor >= 0) so.predictor = c.predictor;
    if (c.denoise >= 0) so.denoise_final = c.denoise;
    sp.mode = c.quiet || c.progress_mode == 3 ? 0 : c.progress_mode == 1 ? 1 : c.progress_mode == 2 ? 2 : isatty(fileno(stderr)) ? 1 : 0;
    sp.L = ld.L;
    sp.t0 = now();
    so.callback = sample_tick;
    so.callback_user = &sp;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if ((rc = out_open(&of, output)) != 0) goto out;
    if (c.header) print_header(of.fp, &ld, model, ld.m->cfg.dim);
    if (!sample_pieces(&ld, &so, c.seed, n, piece, x, skip, of.fp, &st, &bad)) {
        rc = fail(EXIT_OUTPUT, "writing the samples to '%s' failed (%s)", strcmp(output, "-") ? output : "stdout", strerror(errno));
        goto out;
    }
    if (sp.mode == 1) fputc('\n', stderr);
    if (st == NCSN_ERR_CALLBACK) { rc = fail(signal_code(), "interrupted"); goto out; }
    if (st != NCSN_OK) { rc = fail(st == NCSN_ERR_NOMEM ? EXIT_NOMEM : EXIT_USAGE, "%s", ncsn_last_error()); goto out; }
    if ((rc = out_close(&of, 1)) != 0) goto out;   /* every row written: into place (diverged chains are left out, not a failure of the file) */
    if (bad)
        rc = fail(EXIT_NUMERIC, "%d of %ld chains diverged (left the data's region: not finite, or farther than %.4g from the data's center, "
                  "its radius %.4g + sigma_1 %.4g, in standardised units) and were left out", bad, n,
                  (double)ld.stdz.radius + (double)ld.sigmas[0], (double)ld.stdz.radius, (double)ld.sigmas[0]);
out:
    out_close(&of, 0);   /* after a failure: the temporary file removed, PATH unchanged */
    free_loaded(&ld);
    free(x);
    free(skip);
    return rc;
}

static int cmd_score(int argc, char **argv)
{
    opt_state o;
    const char *model = NULL, *input = "-", *columns = NULL;
    long threads = default_threads(), level = -1;
    float sigma = 0.0f;
    int r, rc = 0, n = 0, dim = 0, i;
    loaded ld;
    float *pts = NULL, *out = NULL;
    ncsn_status st;
    memset(&ld, 0, sizeof ld);
    o.argc = argc; o.argv = argv; o.i = 0;
    while ((r = next_arg(&o)) != 0) {
        const char *nm = o.name;
        if (r == 2) {
            if (model) return fail(EXIT_USAGE, "unexpected argument '%s'; see ncsn score --help", o.value);
            model = o.value;
            continue;
        }
        if (!strcmp(nm, "-h") || !strcmp(nm, "--help")) return help(usage_score);
        else if (!strcmp(nm, "--sigma")) { if (parse_float_opt(nm, need_value(&o), 0, 0, 3.4028234663852886e38, &sigma)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--level")) { if (parse_long_opt(nm, need_value(&o), 0, NCSN_MAX_LEVELS - 1, &level)) return EXIT_USAGE; }
        else if (!strcmp(nm, "--input")) { if (!(input = need_value(&o))) return fail(EXIT_USAGE, "--input needs a value"); }
        else if (!strcmp(nm, "--columns")) { if (!(columns = need_value(&o))) return fail(EXIT_USAGE, "--columns needs a value"); }
        else if (!strcmp(nm, "--threads")) { if (parse_long_opt(nm, need_value(&o), 1, 256, &threads)) return EXIT_USAGE; }
        else return fail(EXIT_USAGE, "unknown option '%s' (see ncsn score --help)", nm);
    }
    if (!model) return fail(EXIT_USAGE, "no model file (usage: ncsn score MODEL.safetensors --sigma S < points.csv; see --help)");
    if (!strcmp(model, "-") && !strcmp(input, "-")) return fail(EXIT_USAGE, "the model and the points cannot both be stdin ('-'): give --input PATH");
    if ((sigma > 0.0f) == (level >= 0)) return fail(EXIT_USAGE, "give exactly one of --sigma S and --level I");
    if ((rc = load_model(model, &ld)) != 0) goto out;
    if (level >= 0) {
        if (level >= ld.L) { rc = fail(EXIT_USAGE, "--level = %ld, but '%s' has %d noise levels", level, model, ld.L); goto out; }
        sigma = ld.sigmas[level];
    }
    if (threads > 1 && ncsn_model_set_threads(ld.m, (int)threads) != NCSN_OK) { rc = fail(EXIT_USAGE, "%s", ncsn_last_error()); goto out; }
    if ((rc = load_columns(input, columns, &pts, &n, &dim, NULL, 0)) != 0) goto out;   /* as train reads its data */
    if (dim != ld.m->cfg.dim) { rc = fail(EXIT_INPUT, "the points have %d columns, the model's dimension is %d", dim, ld.m->cfg.dim); goto out; }
    if (!(out = (float *)malloc(sizeof(float) * (size_t)n * (size_t)dim))) { rc = fail(EXIT_NOMEM, "out of memory"); goto out; }
    ncsn_stdz_apply(&ld.stdz, pts, n);   /* the network's units; the scores come back in the user's */
    for (i = 0; i < n; i += 4096) {
        int c = n - i < 4096 ? n - i : 4096;
        if ((st = ncsn_model_score(ld.m, out + (size_t)i * dim, pts + (size_t)i * dim, sigma, c)) != NCSN_OK) {
            rc = fail(st == NCSN_ERR_NOMEM ? EXIT_NOMEM : EXIT_NUMERIC, "%s", ncsn_last_error());
            goto out;
        }
    }
    ncsn_stdz_score(&ld.stdz, out, n);
    for (i = 0; i < n * dim; i++)   /* all or nothing: a row of inf among scores would be read as a result */
        if (!isfinite(out[i])) { rc = fail(EXIT_NUMERIC, "the score at point %d is not finite (sigma %g too small?); no scores written", i / dim + 1, (double)sigma); goto out; }
    if (!write_rows(stdout, out, n, dim, NULL)) { rc = fail(EXIT_OUTPUT, "writing the scores failed (%s)", strerror(errno)); goto out; }
out:
    free_loaded(&ld);
    ncsn_free(pts);
    free(out);
    return rc;
}

static int cmd_info(int argc, char **argv)
{
    static const char *const keys[] = { "ncsn.kind", "library", "cli.sigma_min_rule", "ncsn.step", "ncsn.adam.step", "ncsn.adam.lr", "ncsn.adam.beta1",
                                        "ncsn.adam.beta2", "ncsn.adam.eps", "ncsn.adam.weight_decay", "ncsn.rng.state", "ncsn.rng.inc",
                                        "cli.data", "cli.columns", "cli.steps", "cli.batch", "cli.weighting", "cli.schedule", "cli.seed",
                                        "cli.output", "cli.checkpoint_every", "cli.preset", "cli.constant", "ncsn.train.ema_rate", "ncsn.train.standardize",
                                        "ncsn.train.lr", "ncsn.train.lr_decay_steps", "ncsn.train.stable_target", "ncsn.data.radius", NULL };
    const char *path = NULL;
    loaded ld;
    char v[4160], safe[4 * 4160 + 1];
    int i, rc;
    memset(&ld, 0, sizeof ld);
    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return help(usage_info);
        if (argv[i][0] == '-' && argv[i][1]) return fail(EXIT_USAGE, "unknown option '%s' (see ncsn info --help)", argv[i]);
        if (path) return fail(EXIT_USAGE, "unexpected argument '%s'", argv[i]);
        path = argv[i];
    }
    if (!path) return fail(EXIT_USAGE, "no file (usage: ncsn info FILE.safetensors)");
    if ((rc = load_model(path, &ld)) != 0) { free_loaded(&ld); return rc; }
    ncsn_text_escape(safe, sizeof safe, shown(path));
    printf("file: %s\n", safe);
    printf("network: dim %d, %s conditioning%s", ld.m->cfg.dim, ld.m->cfg.cond == NCSN_COND_EMBED ? "embed" : "concat",
           ld.m->cfg.sigma_input == NCSN_SIGMA_LOG ? " on ln sigma" : "");
    if (ld.m->cfg.cond == NCSN_COND_EMBED) printf(" (E = %d)", ld.m->cfg.embed_dim);
    printf(", hidden");
    for (i = 0; i < ld.m->cfg.n_hidden; i++) printf(" %d", ld.m->cfg.hidden[i]);
    printf(", %s%s", ld.m->cfg.act == NCSN_ACT_SOFTPLUS ? "softplus" : "silu", ld.m->cfg.scale_by_sigma ? ", s = net/sigma" : "");
    if (ld.m->cfg.precond) printf(", preconditioned (sigma_data %.6g)", (double)ld.m->cfg.sigma_data);
    printf(", %lu parameters\n", (unsigned long)ld.m->n_params);
    printf("noise levels: %d", ld.L);
    for (i = 0; i < ld.L && i < 12; i++) printf(i ? ", %.6g" : ": %.6g", (double)ld.sigmas[i]);
    if (ld.L > 12) printf(", ... %.6g", (double)ld.sigmas[ld.L - 1]);
    printf("\n");
    for (i = 0; keys[i]; i++)   /* values from the file: escaped (no terminal escapes, no forged lines) */
        if (ncsn_file_meta_mem(ld.file, ld.len, keys[i], v, sizeof v) == NCSN_OK) {
            ncsn_text_escape(safe, sizeof safe, v);
            printf("%s: %s\n", keys[i], safe);
        }
    free_loaded(&ld);
    return 0;
}

/* ---- compare ---- */
static const char usage_compare[] =
    "usage: ncsn compare DATA.csv SAMPLES.csv [--columns SPEC] [--sample-columns SPEC]\n"
    "\n"
    "How samples compare with the data the model was trained on, both standardised as ncsn train\n"
    "standardises the data (each column's mean, and its standard deviation or range/8 if larger):\n"
    "  - each sample's distance to its nearest data point, beside the data's own (each point's to\n"
    "    its nearest other point). Samples much nearer the data than its points are to each other\n"
    "    (median under half) are copies of training points (memorisation), not new draws; much\n"
    "    farther (over twice) have not learned the data's finer structure;\n"
    "  - the energy distance to the data, beside that of as many draws from a Gaussian fitted to\n"
    "    the data: a yardstick, not a verdict. The Gaussian is fitted to the very points it is\n"
    "    compared with, and with few points in many dimensions that beats even ideal new draws\n"
    "    (halves of wine, 89 points: 0.83 to 2.5 times the Gaussian's; 2000 uniform draws against\n"
    "    1000 uniform points in 14-D: 1.3 to 1.9 times).\n"
    "At most 2000 points of each file are measured (a seeded random choice of the data's; the\n"
    "first samples): their nearest distances against all of the data, the energy distances\n"
    "against the measured data points. --columns selects DATA's columns as in ncsn\n"
    "train, --sample-columns SAMPLES' (by default all). Exit 3 when a sample is beyond float\n"
    "range in those units.\n"
    "\n"
    "Memorisation comes with few points in several dimensions: sklearn's wine (178 x 14), trained\n"
    "with the defaults, gave samples at 0.22 of the data's spacing; with --sigma-min 0.3\n"
    "(standardised units), 0.65 (docs/cli.md).\n";

#define COMPARE_MAX 2000    /* points of each file measured */

/* the data's rows in a seeded random order (partial Fisher-Yates: the first k are a random choice) */
static void shuffle_rows(float *x, int n, int dim, int k)
{
    ncsn_rng r;
    int i, d;
    ncsn_rng_seed(&r, 2019, 1);
    for (i = 0; i < k && i < n - 1; i++) {
        int j = i + (int)ncsn_rng_bounded(&r, (uint32_t)(n - i));
        for (d = 0; d < dim; d++) {
            float t = x[(size_t)i * dim + d];
            x[(size_t)i * dim + d] = x[(size_t)j * dim + d];
            x[(size_t)j * dim + d] = t;
        }
    }
}

/* prints the findings of compare for data[n] and samples[ns] (standardised; the data's rows in a
   random order, so its first rows are a random choice); 0 or an exit code */
static int compare_report(const float *data, int n, const float *smp, int ns, int dim)
{
    int nd = n < COMPARE_MAX ? n : COMPARE_MAX, m = ns < COMPARE_MAX ? ns : COMPARE_MAX, gauss = dim <= 2048, i;
    int *idx = (int *)malloc(sizeof(int) * (size_t)nd);
    float *g = gauss ? (float *)malloc(sizeof(float) * (size_t)m * dim) : NULL;
    double ed = ncsn_energy_distance(smp, m, data, nd, dim), eg = 0.0;
    ncsn_rng r;
    if (!idx || (gauss && !g)) { free(idx); free(g); return fail(EXIT_NOMEM, "out of memory"); }
    ncsn_rng_seed(&r, 2019, 2);
    if (gauss && gauss_draw(data, n, dim, &r, g, m) != 0) { free(idx); free(g); return fail(EXIT_NOMEM, "out of memory"); }
    if (gauss) eg = ncsn_energy_distance(g, m, data, nd, dim);
    for (i = 0; i < nd; i++) idx[i] = i;
    printf("data: %d points, samples: %d, %d columns; measured: %d of the data's points, %d of the samples\n", n, ns, dim, nd, m);
    fflush(stdout);
    if (copy_check(stdout, "", ADVICE_SIGMA_MIN, data, n, dim, idx, nd, smp, m, NULL) < -1.5) { free(idx); free(g); return fail(EXIT_NOMEM, "out of memory"); }
    ed = ed > 0.0 ? ed : 0.0;   /* >= 0; identical sets give a rounding-level negative */
    if (!gauss) printf("energy distance to the data: samples %.4g (no fitted Gaussian above 2048 columns)\n", ed);
    else if (!(eg > 0.0)) printf("energy distance to the data: samples %.4g (the data is one repeated point: no fitted Gaussian)\n", ed);
    else printf("energy distance to the data: samples %.4g, a Gaussian fitted to the data %.4g (samples / Gaussian %.3g)\n", ed, eg, ed / eg);
    free(idx); free(g);
    return 0;
}

/* standardised x[n][dim] all finite, or exit 3 naming the first row that is not */
static int compare_finite(const float *x, int n, int dim, const char *path)
{
    size_t k;
    for (k = 0; k < (size_t)n * dim; k++)
        if (!isfinite(x[k]))
            return fail(EXIT_NUMERIC, "'%s': row %lu is beyond float range in the data's standardised units", shown(path), (unsigned long)(k / dim + 1));
    return 0;
}

static int cmd_compare(int argc, char **argv)
{
    const char *files[2] = { NULL, NULL }, *columns = NULL, *scolumns = NULL;
    float *data = NULL, *smp = NULL;
    int n = 0, dim = 0, ns = 0, sdim = 0, k = 0, r, rc;
    ncsn_stdz st;
    ncsn_status fs;
    opt_state o;
    o.argc = argc; o.argv = argv; o.i = 0;
    while ((r = next_arg(&o)) != 0) {
        if (r == 2) {
            if (k == 2) return fail(EXIT_USAGE, "unexpected argument '%s' (see ncsn compare --help)", o.value);
            files[k++] = o.value;
        } else if (!strcmp(o.name, "-h") || !strcmp(o.name, "--help")) return help(usage_compare);
        else if (!strcmp(o.name, "--columns")) { if (!(columns = need_value(&o))) return fail(EXIT_USAGE, "--columns needs a value"); }
        else if (!strcmp(o.name, "--sample-columns")) { if (!(scolumns = need_value(&o))) return fail(EXIT_USAGE, "--sample-columns needs a value"); }
        else return fail(EXIT_USAGE, "unknown option '%s' (see ncsn compare --help)", o.name);
    }
    if (k < 2) return fail(EXIT_USAGE, "usage: ncsn compare DATA.csv SAMPLES.csv (see --help)");
    if (!strcmp(files[0], "-") && !strcmp(files[1], "-")) return fail(EXIT_USAGE, "the data and the samples cannot both be stdin ('-')");
    memset(&st, 0, sizeof st);
    if ((rc = load_columns(files[0], columns, &data, &n, &dim, NULL, 0)) != 0) goto out;
    columns_opt = "--sample-columns";
    rc = load_columns(files[1], scolumns, &smp, &ns, &sdim, NULL, 0);
    columns_opt = "--columns";
    if (rc != 0) goto out;
    if (sdim != dim) { rc = fail(EXIT_INPUT, "'%s' has %d columns, the data %d", shown(files[1]), sdim, dim); goto out; }
    if (n < 2) { rc = fail(EXIT_INPUT, "'%s' has %d point; compare needs at least 2", shown(files[0]), n); goto out; }
    if ((fs = ncsn_stdz_fit(&st, data, n, dim, 1)) != NCSN_OK) { rc = lib_fail_input(fs); goto out; }
    ncsn_stdz_apply(&st, data, n);
    ncsn_stdz_apply(&st, smp, ns);
    if ((rc = compare_finite(smp, ns, dim, files[1])) != 0) goto out;
    shuffle_rows(data, n, dim, n < COMPARE_MAX ? n : COMPARE_MAX);
    rc = compare_report(data, n, smp, ns, dim);
out:
    ncsn_stdz_free(&st);
    ncsn_free(data);
    ncsn_free(smp);
    return rc;
}

static int run(int argc, char **argv)
{
    static char name[32];
    const char *simd = getenv("NCSN_SIMD");
    if (argc < 2) { fputs(usage_main, stderr); return EXIT_USAGE; }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) return help(usage_main);   /* whatever NCSN_SIMD says */
    if (simd && *simd && ncsn_simd_force(simd) != NCSN_OK) return fail(EXIT_USAGE, "NCSN_SIMD: %s", ncsn_last_error());
    if (!strcmp(argv[1], "--version")) { printf("ncsn %s (ncsn.h, kernels %s)\n", NCSN_VERSION_STRING, ncsn_simd_name()); return 0; }
    if (!strcmp(argv[1], "help")) {
        const char *c = argc > 2 ? argv[2] : "";
        if (!strcmp(c, "train")) return help_train();
        return help(!strcmp(c, "sample") ? usage_sample : !strcmp(c, "score") ? usage_score :
                    !strcmp(c, "info") ? usage_info : !strcmp(c, "compare") ? usage_compare : !strcmp(c, "selftest") ? usage_selftest : usage_main);
    }
    snprintf(name, sizeof name, "ncsn %.16s", argv[1]);
    cmd = name;
    if (!strcmp(argv[1], "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(argv[1], "sample")) return cmd_sample(argc - 2, argv + 2);
    if (!strcmp(argv[1], "score")) return cmd_score(argc - 2, argv + 2);
    if (!strcmp(argv[1], "info")) return cmd_info(argc - 2, argv + 2);
    if (!strcmp(argv[1], "compare")) return cmd_compare(argc - 2, argv + 2);
    if (!strcmp(argv[1], "selftest")) return cmd_selftest(argc - 2, argv + 2);
    cmd = "ncsn";
    return fail(EXIT_USAGE, "unknown command '%s' (commands: train, sample, score, info, compare, selftest; see ncsn --help)", argv[1]);
}

/* output is never lost silently: a full disk, /dev/full or a closed stdout at the last flush or
   close is exit 4 (a failure before keeps its own code; a command that already reported its
   output failing, exit 4, is not reported twice) */
int main(int argc, char **argv)
{
    int rc = run(argc, argv), bad = fflush(stdout) != 0 || ferror(stdout), err = errno;
    if (fclose(stdout) != 0 && !bad) { bad = 1; err = errno; }
    if (bad && rc != EXIT_OUTPUT) {
        int code = fail(EXIT_OUTPUT, "writing to stdout failed (%s)", strerror(err));
        return rc ? rc : code;
    }
    return rc;
}
