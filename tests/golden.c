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

static const struct { const char *file; void (*gen)(gsink *); } golden_files[] = {
    { "rng.txt", gen_rng }, { "math.txt", gen_math }, { "schedule.txt", gen_schedule },
    { "model.txt", gen_model }, { "train.txt", gen_train }, { "sample.txt", gen_sample },
};
#define N_GOLDEN (sizeof golden_files / sizeof golden_files[0])

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
    return 0;
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
