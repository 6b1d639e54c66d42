/* golden.c - golden files: exact bits of what the library computes, one value per line:
       <series> <index> <bits in hex> [<hex float> <decimal>]
   `make golden` rewrites them (run_tests --write-golden); `make test` regenerates the values in
   memory and compares every line, printing the first mismatch with both values. */
#include "test.h"
#include <stdlib.h>
#include <stdarg.h>

typedef struct gsink { char *buf; size_t len, cap; } gsink;

static void g_printf(gsink *s, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (s->cap - s->len < 256) {
        size_t nc = s->cap ? 2 * s->cap : 1 << 16;
        char *nb = (char *)realloc(s->buf, nc);
        if (!nb) { fprintf(stderr, "golden: out of memory\n"); exit(2); }
        s->buf = nb;
        s->cap = nc;
    }
    va_start(ap, fmt);
    n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (n > 0) s->len += (size_t)n;
}

void g_u32(gsink *s, const char *series, int i, uint32_t v) { g_printf(s, "%s %d 0x%08x\n", series, i, v); }
void g_f32(gsink *s, const char *series, int i, float v) { g_printf(s, "%s %d 0x%08x %a %.9g\n", series, i, t_f2u(v), (double)v, (double)v); }
void g_f64(gsink *s, const char *series, int i, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    g_printf(s, "%s %d 0x%016llx %a %.17g\n", series, i, (unsigned long long)u, v, v);
}
void g_f32s(gsink *s, const char *series, const float *v, int n)
{
    int i;
    for (i = 0; i < n; i++) g_f32(s, series, i, v[i]);
}

/* generators live in golden_gen.c */
void gen_rng(gsink *s);
void gen_math(gsink *s);
void gen_schedule(gsink *s);
void gen_model(gsink *s);
void gen_train(gsink *s);
void gen_sample(gsink *s);
void gen_images(gsink *s);

static const struct { const char *file; void (*gen)(gsink *); } golden_files[] = {
    { "rng.txt", gen_rng }, { "math.txt", gen_math }, { "schedule.txt", gen_schedule },
    { "model.txt", gen_model }, { "train.txt", gen_train }, { "sample.txt", gen_sample },
    { "images.txt", gen_images },
};
#define N_GOLDEN (sizeof golden_files / sizeof golden_files[0])

/* ---- ncsn_selftest's embedded hashes (the NCSN__SELFTEST_* lines of ncsn.h) ----
   Each part hashes some series of one golden file (NULL: all of them), in file order: FNV-1a
   (64-bit) over each value's bits, least significant byte first (a 0x%08x field is 4 bytes, a
   0x%016llx field 8), exactly as the library's self-test hashes what it computes. */
static const char *const st_rng_series[] = { "u32.s42.q54", "bounded6.s42", "bounded_big.s42", "uniform.s42", "normal.s42", "advanced.s42", NULL };
static const char *const st_train_series[] = { "loss", "weight", NULL };
static const struct { const char *macro, *file; const char *const *series; } selftest_parts[] = {
    { "NCSN__SELFTEST_RNG", "rng.txt", st_rng_series }, { "NCSN__SELFTEST_MATH", "math.txt", NULL },
    { "NCSN__SELFTEST_MODEL", "model.txt", NULL }, { "NCSN__SELFTEST_TRAIN", "train.txt", st_train_series },
    { "NCSN__SELFTEST_SAMPLE", "sample.txt", NULL },
};
#define N_SELFTEST (sizeof selftest_parts / sizeof selftest_parts[0])

static char *read_all(const char *path, size_t *len);

static int series_chosen(const char *const *series, const char *name, size_t len)
{
    if (!series) return 1;
    for (; *series; series++)
        if (strlen(*series) == len && memcmp(*series, name, len) == 0) return 1;
    return 0;
}

int golden_selftest_parts(void) { return (int)N_SELFTEST; }
const char *golden_selftest_macro(int part) { return selftest_parts[part].macro; }

/* the hash of part `part` from golden/; 0 if the file is unreadable or a chosen line is malformed */
int golden_selftest_hash(int part, uint64_t *out)
{
    char path[512], *text;
    size_t len = 0, a = 0;
    uint64_t h = 0xcbf29ce484222325ULL;
    snprintf(path, sizeof path, "%s/%s", t_golden_dir, selftest_parts[part].file);
    if (!(text = read_all(path, &len))) return 0;
    while (a < len) {
        size_t e = a, name = 0, k;
        const char *hex;
        char *end;
        unsigned long long bits;
        while (e < len && text[e] != '\n') e++;
        text[e] = 0;
        while (text[a + name] && text[a + name] != ' ') name++;
        if (series_chosen(selftest_parts[part].series, text + a, name)) {
            hex = strstr(text + a + name, " 0x");
            if (!hex) { free(text); return 0; }
            bits = strtoull(hex + 3, &end, 16);
            if (end - (hex + 3) != 8 && end - (hex + 3) != 16) { free(text); return 0; }
            for (k = 0; k < (size_t)(end - (hex + 3)) / 2; k++) {
                h ^= (bits >> (8 * k)) & 0xffu;
                h *= 0x100000001b3ULL;
            }
        }
        a = e + 1;
    }
    free(text);
    *out = h;
    return 1;
}

/* rewrite ncsn.h's NCSN__SELFTEST_* values from the golden files just written (make golden) */
static int golden_update_header(void)
{
    char path[512], tmp[520], *text;
    size_t len = 0, i;
    int ok;
    FILE *fp;
    snprintf(path, sizeof path, "%s/../ncsn.h", t_golden_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(text = read_all(path, &len))) { fprintf(stderr, "cannot read %s\n", path); return 1; }
    for (i = 0; i < N_SELFTEST; i++) {
        char key[64], *at, *hex;
        uint64_t h;
        snprintf(key, sizeof key, "\n#define %s ", selftest_parts[i].macro);
        at = strstr(text, key);
        hex = at ? strstr(at + strlen(key), "0x") : NULL;
        if (!hex || !golden_selftest_hash((int)i, &h)) { fprintf(stderr, "%s: no %s line to update\n", path, selftest_parts[i].macro); free(text); return 1; }
        snprintf(key, sizeof key, "%016llx", (unsigned long long)h);
        memcpy(hex + 2, key, 16);
        printf("%s: %s = 0x%s\n", path, selftest_parts[i].macro, key);
    }
    fp = fopen(tmp, "wb");
    ok = fp && fwrite(text, 1, len, fp) == len;
    if (fp && fclose(fp) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        free(text);
        return 1;
    }
    free(text);
    return 0;
}

int golden_write_all(void)
{
    size_t i;
    for (i = 0; i < N_GOLDEN; i++) {
        gsink s = { 0, 0, 0 };
        char path[512];
        FILE *fp;
        golden_files[i].gen(&s);
        snprintf(path, sizeof path, "%s/%s", t_golden_dir, golden_files[i].file);
        fp = fopen(path, "wb");
        if (!fp || fwrite(s.buf, 1, s.len, fp) != s.len) { fprintf(stderr, "cannot write %s\n", path); return 1; }
        fclose(fp);
        printf("wrote %s (%lu bytes)\n", path, (unsigned long)s.len);
        free(s.buf);
    }
    return golden_update_header();
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *b;
    long n;
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    b = (char *)malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, fp) != (size_t)n) { fclose(fp); free(b); return NULL; }
    fclose(fp);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

void test_golden(void)
{
    size_t i;
    for (i = 0; i < N_GOLDEN; i++) {
        gsink s = { 0, 0, 0 };
        char path[512];
        size_t flen = 0, a = 0, b = 0;
        int line = 1, mismatch = 0;
        char *want;
        snprintf(path, sizeof path, "%s/%s", t_golden_dir, golden_files[i].file);
        want = read_all(path, &flen);
        if (!want) { CHECK(0, "%s missing: run `make golden` once, on purpose", path); continue; }
        golden_files[i].gen(&s);
        while (a < flen && b < s.len) {
            size_t ea = a, eb = b;
            while (ea < flen && want[ea] != '\n') ea++;
            while (eb < s.len && s.buf[eb] != '\n') eb++;
            if (ea - a != eb - b || memcmp(want + a, s.buf + b, ea - a) != 0) {
                CHECK(0, "%s line %d differs:\n    golden:   %.*s\n    computed: %.*s", path, line,
                      (int)(ea - a), want + a, (int)(eb - b), s.buf + b);
                mismatch = 1;
                break;
            }
            a = ea + 1; b = eb + 1; line++;
        }
        if (!mismatch) CHECK(a >= flen && b >= s.len, "%s: %d lines match but the lengths differ (%lu golden bytes, %lu computed)",
                             path, line, (unsigned long)flen, (unsigned long)s.len);
        free(want);
        free(s.buf);
    }
}
