/* test_cli.c - the `ncsn` command driven as a user would (group `cli`), and the CSV reader it uses.

   The binary is the one built next to run_tests (make builds $(BUILD)/ncsn with the suite); each
   command runs through the shell with its output captured, and is checked for its exit code, its
   output and its message: help, train -> info -> sample -> score, resume (same bits as an
   uninterrupted run), Ctrl-C (checkpoint, then exit 130), numerical failure (exit 3, the last
   checkpoint intact), bad arguments (exit 1) and bad files (exit 2). */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L   /* mkdtemp, readlink, fork, execv, kill */
#define _FILE_OFFSET_BITS 64      /* readdir and stat on 32-bit builds: 64-bit inode numbers (EOVERFLOW) */
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#endif
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include "test.h"

/* ---- the CSV reader (library) ---- */
static void tl_csv_ok(const char *text, int want_n, int want_dim, const float *want, const char *want_names, const char *what)
{
    float *d = NULL;
    int n = -1, dim = -1, i, same = 1;
    char names[64];
    ncsn_status st = ncsn_csv_parse(text, strlen(text), NULL, &d, &n, &dim, names, sizeof names);
    CHECK(st == NCSN_OK && n == want_n && dim == want_dim, "csv %s: status %d, n %d, dim %d (want %d x %d): %s", what, (int)st, n, dim,
          want_n, want_dim, ncsn_last_error());
    if (st == NCSN_OK && n == want_n && dim == want_dim && want)
        for (i = 0; i < n * dim; i++) if (t_f2u(d[i]) != t_f2u(want[i])) same = 0;
    CHECK(same, "csv %s: values differ", what);
    if (want_names) CHECK(strcmp(names, want_names) == 0, "csv %s: names '%s', want '%s'", what, names, want_names);
    ncsn_free(d);
}

static void tl_csv_bad(const char *text, size_t len, const ncsn_csv_opts *o, const char *want_msg, const char *what)
{
    float *d = (float *)&d;
    int n = -1, dim = -1;
    char names[16] = "junk";
    ncsn_status st = ncsn_csv_parse(text, len, o, &d, &n, &dim, names, sizeof names);
    CHECK(st == NCSN_ERR_FORMAT && d == NULL && n == 0 && dim == 0 && names[0] == 0, "csv %s: status %d, want NCSN_ERR_FORMAT: %s", what,
          (int)st, ncsn_last_error());
    CHECK(strstr(ncsn_last_error(), want_msg) != NULL, "csv %s: message '%s' lacks '%s'", what, ncsn_last_error(), want_msg);
}

/* fields longer than 127 characters (a survey question as a column name, a number written with
   150 zeros) were refused: "field longer than 127 characters". Names of any length come back
   whole; a long number is rounded once, exactly, at the digit that decides it. */
static void tl_csv_long(void)
{
    static const struct { const char *head, *tail; uint32_t want; } num[] = {
        { "1.000000059604644775390625", "", 0x3f800000u },    /* 1 + 2^-24, halfway: to even (1) */
        { "1.000000059604644775390625", "1", 0x3f800001u },   /* just above halfway: up */
        { "0.", "1e151", 0x3f800000u },                        /* 10^-151 * 10^151 */
        { "", "16777217", 0x4b800000u },                      /* leading zeros; 2^24 + 1 halfway: to even */
        { "16777217.", "1", 0x4b800001u },                     /* 2^24 + 2 */
    };
    static char text[4096], names[1024], want_names[1024];
    size_t k, q;
    float *d = NULL;
    int n = 0, dim = 0, i;
    q = 0;
    for (i = 0; i < 200; i++) text[q++] = (char)('a' + i % 26);
    text[q++] = ',';
    memcpy(text + q, "\"", 1);
    q++;
    for (i = 0; i < 300; i++) text[q++] = i % 50 == 49 ? ',' : 'Q';   /* quoted, with commas */
    text[q++] = '"';
    text[q++] = '\n';
    memcpy(want_names, text, q - 1);
    want_names[q - 1] = 0;
    for (k = 0; k < sizeof num / sizeof num[0]; k++) {
        size_t q0 = q;
        char *sep;
        q += (size_t)sprintf(text + q, "%s", num[k].head);
        for (i = 0; i < 150; i++) text[q++] = '0';
        q += (size_t)sprintf(text + q, "%s,-2\n", num[k].tail);
        CHECK(ncsn_csv_parse(text, q, NULL, &d, &n, &dim, names, sizeof names) == NCSN_OK && n == 1 && dim == 2,
              "csv with a 200-character name and a %lu-character number: %s", (unsigned long)(q - q0 - 4), ncsn_last_error());
        CHECK(d && t_f2u(d[0]) == num[k].want && d[1] == -2.0f, "csv: %s[150 zeros]%s read as 0x%08x, want 0x%08x", num[k].head, num[k].tail,
              d ? t_f2u(d[0]) : 0u, num[k].want);
        CHECK(strcmp(names, want_names) == 0, "csv: the long names came back as '%.60s...' (%lu bytes, want %lu)", names, (unsigned long)strlen(names),
              (unsigned long)strlen(want_names));
        ncsn_free(d);
        d = NULL;
        sep = memchr(text, '\n', q);
        q = (size_t)(sep - text) + 1;
    }
    {   /* a line near max_line (1 MiB): two numbers of 500 000 digits each */
        char *t = (char *)malloc(1000100);
        size_t w = 0;
        if (t) {
            w += (size_t)sprintf(t + w, "0.");
            for (i = 0; i < 499990; i++) t[w++] = '0';
            w += (size_t)sprintf(t + w, "3e499991,1.000000059604644775390625");   /* 3 * 10^-499991 * 10^499991 */
            for (i = 0; i < 499900; i++) t[w++] = '0';
            w += (size_t)sprintf(t + w, "1\n");
            CHECK(ncsn_csv_parse(t, w, NULL, &d, &n, &dim, NULL, 0) == NCSN_OK && n == 1 && dim == 2 && d[0] == 3.0f && t_f2u(d[1]) == 0x3f800001u,
                  "csv: a line of %lu bytes, two numbers of 500 000 digits: %s", (unsigned long)w, ncsn_last_error());
            ncsn_free(d);
            d = NULL;
            free(t);
        }
    }
    memcpy(text + q, "1,", 2);   /* a long field that is not a number: named by line and column */
    for (i = 0; i < 500; i++) text[q + 2 + i] = 'x';
    tl_csv_bad(text, q + 502, NULL, "csv:2:2: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is not a number", "a 500-character text value");
}

static void tl_csv(void)
{
    static const float v22[4] = { 1.5f, -2.0f, 0.1f, 3e-3f }, v31[3] = { 1.0f, 2.0f, 3.0f }, v13[3] = { 0.25f, -0.0f, 1e-40f }, v03[3] = { 0.0f, -0.0f, 0.0f };
    ncsn_csv_opts o;
    char big[600];
    int i;
    tl_csv_ok("x,y\n1.5,-2\n0.1,3e-3\n", 2, 2, v22, "x,y", "header");
    tl_csv_ok("1.5,-2\n0.1,3e-3", 2, 2, v22, "", "no header, no final newline");
    tl_csv_ok("\xef\xbb\xbf# data\r\n\r\n  1.5 ,\t-2\r\n# more\n0.1,3e-3\r\n\n", 2, 2, v22, NULL, "BOM, CRLF, comments, blanks, spaces");
    tl_csv_ok("1.5 -2\n0.1\t  3e-3\n", 2, 2, v22, NULL, "whitespace separated");
    /* names come back as a CSV line that parses to the same names: "a,b" and c"d are two columns */
    tl_csv_ok("\"a,b\",\"c\"\"d\"\n\"1.5\",-2\n0.1,\"3e-3\"\n", 2, 2, v22, "\"a,b\",\"c\"\"d\"", "quoted fields");
    tl_csv_ok("#x,y\n\"#a\",b\n1.5,-2\n0.1,3e-3\n", 2, 2, v22, "\"#a\",b", "a name starting with #");
    tl_csv_bad("a\x1b[31m,b\n1,2\n", 13, NULL, "csv:1:1: the column name has a control character (byte 0x1b)", "escape code in a name");
    tl_csv_bad("1,2\n3,\x1b]0;pwned\x07\n", 17, NULL, "csv:2:2: '\\x1b]0;pwned\\x07' is not a number", "escape code in a value (message escaped)");
    tl_csv_ok("v\n1\n2\n3\n", 3, 1, v31, "v", "one column");
    tl_csv_ok("0x1p-2,-0,1e-40\n", 1, 3, v13, NULL, "hex float, negative zero, subnormal");
    tl_csv_bad("x,y\n1,2\n3,abc\n", 15, NULL, "csv:3:2: 'abc' is not a number", "text value");
    tl_csv_bad("1,2\n3,nan\n", 10, NULL, "csv:2:2: 'nan' is not a finite float (a missing value: drop the rows", "nan");
    tl_csv_bad("1,2\n3,-NaN\n", 11, NULL, "csv:2:2: '-NaN' is not a finite float (a missing value: drop the rows", "-NaN");
    tl_csv_bad("1,2\n-inf,4\n", 11, NULL, "csv:2:1: '-inf' is not a finite float", "-inf");
    tl_csv_bad("1,2\n3,1e39\n", 11, NULL, "csv:2:2: '1e39' is not a finite float", "overflowing float");
    tl_csv_bad("1,2\n3,1e-50\n", 12, NULL, "csv:2:2: '1e-50' is too small for a float (it would read as 0", "underflowing float");
    tl_csv_bad("1,2\n-1e-320,4\n", 14, NULL, "csv:2:1: '-1e-320' is too small for a float", "a double's subnormal");
    tl_csv_bad("1,2\n3,0x1p-200\n", 15, NULL, "csv:2:2: '0x1p-200' is too small for a float", "underflowing hex float");
    tl_csv_ok("0e-50,-0.000e-999,0x0p-999\n", 1, 3, v03, NULL, "zeros with exponents stay zeros");
    tl_csv_bad("1,,2\n", 5, NULL, "csv:1:2: empty field (a missing value: drop the rows", "empty field");
    tl_csv_bad("1,2,\n", 5, NULL, "csv:1:3: empty field (a comma at the end of the line, or a missing value?)", "trailing comma");
    tl_csv_bad("a,b,c\n1,2,3\n4,5,\n", 17, NULL, "csv:3:3: empty field (a missing value: drop the rows", "a missing last value (pandas' NaN)");
    tl_csv_bad("1,2\n3,4,,5\n", 11, NULL, "csv:2: more than 2 columns (line 1 has 2)", "an empty field inside extra columns");
    CHECK(!strstr(ncsn_last_error(), "comma at the end"), "csv: an empty third field of four was called a trailing comma: %s", ncsn_last_error());
    tl_csv_bad("a,b\n1,2,\n", 9, NULL, "csv:2: more than 2 columns (line 1 has 2); the extra field is empty: a comma at the end", "trailing comma on data lines only");
    tl_csv_bad("1,2\n3\n", 6, NULL, "csv:2: 1 columns, but line 1 has 2", "ragged short");
    tl_csv_bad("1,2\n3,4,5\n", 10, NULL, "csv:2: more than 2 columns", "ragged long");
    tl_csv_bad("x,1\n", 4, NULL, "csv:1:1: 'x' is not a number", "half a header");
    tl_csv_bad("x,y\n", 4, NULL, "no data rows", "only a header");
    tl_csv_bad("", 0, NULL, "no data rows", "empty");
    tl_csv_bad("# nothing\n\n", 11, NULL, "no data rows", "only comments");
    tl_csv_bad("1,2\n3,\0", 7, NULL, "csv:2: NUL byte", "NUL byte");
    tl_csv_bad("\xfe\xff\0a\0,\0b", 8, NULL, "csv: UTF-16 text, not UTF-8", "UTF-16 big-endian");
    tl_csv_bad("\x1f\x8b\x08\0\0\0", 6, NULL, "csv: gzip-compressed, not text: decompress it first (gzip -dc FILE)", "gzip data");
    tl_csv_bad("\xfd" "7zXZ\0\0", 7, NULL, "xz-compressed", "xz data");
    tl_csv_bad("1.5e3x,2\n", 9, NULL, "'1.5e3x' is not a number", "trailing letters");
    tl_csv_bad("1 2\n3,4\n", 8, NULL, "csv:2:1: '3,4' is not a number", "delimiter change");
    memset(&o, 0, sizeof o);
    o.source = "data.csv";
    o.max_cols = 3;
    tl_csv_bad("1,2,3,4\n", 8, &o, "data.csv:1: more than 3 columns", "max_cols");
    o.max_cols = 0;
    o.max_rows = 2;
    tl_csv_bad("1\n2\n3\n", 6, &o, "data.csv:3: more than 2 rows", "max_rows");
    o.max_rows = 0;
    o.max_line = 10;
    tl_csv_bad("1\n12345678901\n", 14, &o, "data.csv:2: line longer than 10 bytes", "max_line");
    for (i = 0; i < 300; i++) big[i] = '1';
    big[300] = 0;
    tl_csv_bad(big, 300, NULL, "csv:1:1: '1111111111111111111111111111111111111111' is not a finite float", "300-digit field (1.1e299)");
    tl_csv_long();
    {   /* growth past the first block, exact values */
        static char text[200000];
        size_t q = 0;
        float *d = NULL;
        int n = 0, dim = 0, ok = 1;
        for (i = 0; i < 5000; i++) q += (size_t)sprintf(text + q, "%d,%d.5,-%d\n", i, i, i);
        CHECK(ncsn_csv_parse(text, q, NULL, &d, &n, &dim, NULL, 0) == NCSN_OK && n == 5000 && dim == 3, "csv 5000 rows: %s", ncsn_last_error());
        for (i = 0; d && i < 5000; i++)
            if (d[3 * i] != (float)i || d[3 * i + 1] != (float)i + 0.5f || d[3 * i + 2] != -(float)i) ok = 0;
        CHECK(ok, "csv 5000 rows: values differ");
        ncsn_free(d);
    }
    {   /* names_cap: whole names in order, up to the first that does not fit (never a later one) */
        static const struct { size_t cap; const char *want; } nc[] = { { 1, "" }, { 2, "a" }, { 6, "a" }, { 10, "a,bbbbbbb" },
                                                                         { 11, "a,bbbbbbb" }, { 12, "a,bbbbbbb,c" }, { 40, "a,bbbbbbb,c" } };
        size_t k;
        for (k = 0; k < sizeof nc / sizeof nc[0]; k++) {
            char names[48];
            float *d = NULL;
            int n, dim;
            memset(names, 'z', sizeof names);
            CHECK(ncsn_csv_parse("a,bbbbbbb,c\n1,2,3\n", 18, NULL, &d, &n, &dim, names, nc[k].cap) == NCSN_OK && strcmp(names, nc[k].want) == 0 &&
                  names[nc[k].cap] == 'z', "csv names_cap %lu: names '%.47s', want '%s' (and nothing written past the cap)", (unsigned long)nc[k].cap,
                  names, nc[k].want);
            ncsn_free(d);
        }
    }
    {
        float *d = NULL;
        int n, dim;
        CHECK(ncsn_csv_load("/nonexistent-dir-ncsn/x.csv", NULL, &d, &n, &dim, NULL, 0) == NCSN_ERR_IO && !d && strstr(ncsn_last_error(), "x.csv"),
              "csv load of a missing file: %s", ncsn_last_error());
        CHECK(ncsn_csv_parse(NULL, 5, NULL, &d, &n, &dim, NULL, 0) == NCSN_ERR_ARG, "csv parse of NULL text with len 5 must be NCSN_ERR_ARG");
        CHECK(ncsn_csv_parse("1", 1, NULL, NULL, &n, &dim, NULL, 0) == NCSN_ERR_ARG, "csv parse with data = NULL must be NCSN_ERR_ARG");
    }
}

/* ---- the command ---- */
#if !defined(_WIN32)
static char tl_bin[1024], tl_dir[512];
static char tl_out[1 << 16], tl_err[1 << 14];

static void tl_read(const char *name, char *buf, size_t cap)
{
    char p[1024];
    FILE *fp;
    size_t n = 0;
    snprintf(p, sizeof p, "%s/%s", tl_dir, name);
    buf[0] = 0;
    if (!(fp = fopen(p, "rb"))) return;
    n = fread(buf, 1, cap - 1, fp);
    buf[n] = 0;
    fclose(fp);
}

/* run the shell command line in the scratch directory, "$N" being the binary; stdout and stderr
   into tl_out / tl_err; the exit code */
static int tl_exec(const char *line)
{
    char cmd[4096];
    int st;
    snprintf(cmd, sizeof cmd, "cd '%s' && N='%s' && { %s ; } > out.txt 2> err.txt", tl_dir, tl_bin, line);
    fflush(stdout);
    st = system(cmd);
    tl_read("out.txt", tl_out, sizeof tl_out);
    tl_read("err.txt", tl_err, sizeof tl_err);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* `ncsn ARGS` */
static int tl_run(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    memcpy(line, "\"$N\" ", 5);
    va_start(ap, fmt);
    vsnprintf(line + 5, sizeof line - 5, fmt, ap);
    va_end(ap);
    return tl_exec(line);
}

/* any shell command line, e.g. a pipe into "$N" */
static int tl_sh(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return tl_exec(line);
}

static void tl_write(const char *name, const char *text, size_t len)
{
    char p[1024];
    FILE *fp;
    snprintf(p, sizeof p, "%s/%s", tl_dir, name);
    if ((fp = fopen(p, "wb")) != NULL) {
        fwrite(text, 1, len, fp);
        fclose(fp);
    }
}

static unsigned char *tl_slurp(const char *name, size_t *len)   /* a file of the test directory */
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", tl_dir, name);
    return t_read_file(p, len);
}

static const char *tl_memstr(const char *h, size_t n, const char *needle)   /* strstr within n bytes */
{
    size_t k = strlen(needle), i;
    for (i = 0; i + k <= n; i++) if (memcmp(h + i, needle, k) == 0) return h + i;
    return NULL;
}

static int tl_lines(const char *s) { int n = 0; for (; *s; s++) n += *s == '\n'; return n; }
static int tl_count(const char *s, const char *needle) { int n = 0; for (; (s = strstr(s, needle)) != NULL; s++) n++; return n; }

static int tl_has(const char *needle) { return !needle || strstr(tl_err, needle) != NULL; }
/* code is evaluated once (CHECK is a function call: its message arguments are evaluated too, so a
   command written there ran twice) */
#define EXPECT(code, want_code, needle, what) do { \
        int tl_rc_ = (code); \
        CHECK(tl_rc_ == (want_code) && tl_has(needle), "cli %s: exit %d (want %d), stderr '%.300s' (want '%s')", what, tl_rc_, want_code, tl_err, \
              tl_has(needle) ? "" : (const char *)(needle)); \
    } while (0)

static void tl_find_binary(void)
{
    const char *env = getenv("NCSN_CLI");
    char self[1024];
    ssize_t n;
    tl_bin[0] = 0;
    if (env && *env) { snprintf(tl_bin, sizeof tl_bin, "%s", env); return; }
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        char *slash;
        self[n] = 0;
        slash = strrchr(self, '/');
        if (slash) { *slash = 0; snprintf(tl_bin, sizeof tl_bin, "%.1000s/ncsn", self); }
    }
}

static void tl_data(void)
{
    static char text[120000];
    size_t q = 0;
    ncsn_rng g;
    float x[600 * 2];
    int i;
    ncsn_rng_seed(&g, 2, 9);
    ncsn_data_two_gaussians(&g, x, 600);
    q += (size_t)sprintf(text + q, "# two Gaussians\nx,y\n");
    for (i = 0; i < 600; i++) q += (size_t)sprintf(text + q, "%.9g,%.9g\n", (double)x[2 * i], (double)x[2 * i + 1]);
    tl_write("data.csv", text, q);
}

/* data bytes of a safetensors file (the header holds paths and settings) */
static int tl_same_data(const char *a, const char *b)
{
    size_t la, lb;
    unsigned char *pa = tl_slurp(a, &la), *pb = tl_slurp(b, &lb);
    int same = 0;
    if (pa && pb && la > 8 && lb > 8) {
        uint64_t ha = 0, hb = 0;
        int i;
        for (i = 7; i >= 0; i--) { ha = (ha << 8) | pa[i]; hb = (hb << 8) | pb[i]; }
        same = ha <= la - 8 && hb <= lb - 8 && la - ha == lb - hb && memcmp(pa + 8 + ha, pb + 8 + hb, la - 8 - ha) == 0;
    }
    free(pa);
    free(pb);
    return same;
}

static const char *tl_small = "--width 16 --depth 2 --levels 11 --batch 64 --seed 3 --progress none";
static const char *tl_tiny = "--steps 3 --width 4 --depth 1 --levels 2 --checkpoint-every 0 --progress none";

static void tl_copy_out(char *dst, size_t cap)
{
    size_t n = strlen(tl_out);
    if (n > cap - 1) n = cap - 1;
    memcpy(dst, tl_out, n);
    dst[n] = 0;
}

static int tl_exists(const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", tl_dir, name);
    return access(p, F_OK) == 0;
}

/* pipes, FIFOs, /dev/stdin and '-' read exactly (a probe byte was lost: 15,2 read as 5,2);
   -o - writes the model to stdout */
static void tl_pipes(void)
{
    char want[4096];
    int rc;
    tl_write("p.csv", "15,2\n3,4\n5,6\n", 13);
    rc = tl_run("train p.csv -o p_file.st %s", tl_tiny);
    EXPECT(rc, 0, (const char *)NULL, "train from a file");
    rc = tl_sh("printf '15,2\\n3,4\\n5,6\\n' | \"$N\" train /dev/stdin -o p_stdin.st %s", tl_tiny);
    EXPECT(rc, 0, (const char *)NULL, "train from /dev/stdin (a pipe)");
    CHECK(tl_same_data("p_file.st", "p_stdin.st"), "cli: training from a pipe on /dev/stdin gives another model than from the file");
    rc = tl_sh("cat p.csv | \"$N\" train - -o p_dash.st %s", tl_tiny);
    EXPECT(rc, 0, (const char *)NULL, "train from -");
    CHECK(tl_same_data("p_file.st", "p_dash.st"), "cli: training from '-' gives another model than from the file");
    tl_write("one.csv", "15,2\n", 5);
    rc = tl_run("train one.csv -o one.st --progress none");   /* no pairwise distance to take sigma_max from */
    EXPECT(rc, 2, "'one.csv' holds 1 data row: training needs at least 2 (or --sigma-max)", "train on one row");
    CHECK(!strstr(tl_err, "all points equal"), "cli: training on one row asks whether all points are equal: %s", tl_err);
    rc = tl_run("score model.safetensors --sigma 1 --input one.csv");
    tl_copy_out(want, sizeof want);
    rc = tl_sh("rm -f f.csv && mkfifo f.csv && { printf '15,2\\n' > f.csv & } && \"$N\" score model.safetensors --sigma 1 --input f.csv; r=$?; rm -f f.csv; exit $r");
    CHECK(rc == 0 && want[0] && strcmp(want, tl_out) == 0, "cli score --input FIFO: exit %d, '%s' (from the file: '%s') %s", rc, tl_out, want, tl_err);
    rc = tl_run("info model.safetensors");
    tl_copy_out(want, sizeof want);
    rc = tl_sh("cat model.safetensors | \"$N\" info -");
    CHECK(rc == 0 && strstr(tl_out, "ncsn.step: 300") && strcmp(strchr(tl_out, '\n'), strchr(want, '\n')) == 0,
          "cli info - (a pipe): exit %d: %s%s", rc, tl_out, tl_err);
    rc = tl_sh("cat model.safetensors | \"$N\" info /dev/stdin");
    CHECK(rc == 0 && strstr(tl_out, "ncsn.step: 300"), "cli info /dev/stdin (a pipe): exit %d: %s", rc, tl_err);
    rc = tl_sh("cat model.safetensors | \"$N\" sample - -n 3 --steps-per-level 2 --header");
    CHECK(rc == 0 && strncmp(tl_out, "x,y\n", 4) == 0 && tl_lines(tl_out) == 4, "cli sample - --header: exit %d: %s%s", rc, tl_out, tl_err);
    rc = tl_sh("cat model.safetensors | \"$N\" score - --sigma 1");
    EXPECT(rc, 1, "cannot both be stdin", "score with the model and the points on stdin");
    rc = tl_sh("\"$N\" train p.csv -o - %s > p_out.st", tl_tiny);
    EXPECT(rc, 0, (const char *)NULL, "train -o -");
    CHECK(!tl_exists("-") && tl_same_data("p_file.st", "p_out.st"), "cli: train -o - must write the model to stdout, not to a file named '-'");
    /* a pipe named by path (/dev/fd/3, /dev/stdout): written into, not probed nor renamed over */
    rc = tl_sh("{ \"$N\" train p.csv -o /dev/fd/3 %s 3>&1 >/dev/null; echo $? > rc.txt; } | cat > p_fd.st; exit $(cat rc.txt)", tl_tiny);
    EXPECT(rc, 0, (const char *)NULL, "train -o /dev/fd/3 (a pipe)");
    CHECK(tl_same_data("p_file.st", "p_fd.st"), "cli: train -o /dev/fd/3 must write the model into the pipe");
    rc = tl_sh("\"$N\" train p.csv -o - --steps 3 --checkpoint-every 1 > p_out.st");
    EXPECT(rc, 1, "give --checkpoint PATH", "-o - with checkpoints and no --checkpoint");
    rc = tl_run("train p.csv -o x.st --checkpoint - %s", tl_tiny);
    EXPECT(rc, 1, "--checkpoint cannot be stdout", "--checkpoint -");
}

/* ncsn sample -o PATH: the bytes it writes to stdout, written to a temporary file renamed over
   PATH at the end (an existing PATH stays until then); a FIFO or device written into, and a write
   error exit 4 (/dev/full: never a silently truncated file); -o the model itself refused. There
   was no -o: "unknown option '-o'". */
static void tl_sample_output(void)
{
    static const struct { const char *path; int code; const char *needle; } refused[] = {
        { "/dev/full", 4, "'/dev/full'" }, { "no_dir/s.csv", 4, "no_dir/s.csv" }, { "s_dir", 4, "'s_dir': it is a directory" },
        { "./model.safetensors", 1, "would overwrite the model" }, { "''", 1, "-o is an empty path" } };
    static char want[1 << 14];
    size_t len, k;
    unsigned char *b;
    int rc;
    rc = tl_run("sample model.safetensors -n 40 --steps-per-level 10 --seed 5 --header");
    tl_copy_out(want, sizeof want);
    CHECK(rc == 0 && tl_lines(want) == 41, "cli sample to stdout: exit %d, %d lines: %s", rc, tl_lines(want), tl_err);
    tl_write("s_out.csv", "old\n", 4);
    rc = tl_run("sample model.safetensors -n 40 --steps-per-level 10 --seed 5 --header -o s_out.csv");
    b = tl_slurp("s_out.csv", &len);
    CHECK(rc == 0 && tl_out[0] == 0 && b && len == strlen(want) && memcmp(b, want, len) == 0,
          "cli sample -o FILE: exit %d, %lu bytes (stdout's: %lu), stdout '%.40s': %s", rc, b ? (unsigned long)len : 0ul, (unsigned long)strlen(want), tl_out, tl_err);
    free(b);
    {   /* the permissions of any new file (umask applied), as train's model: not mkstemp's 0600 */
        struct stat ss, sm;
        char ps[1024], pm[1024];
        snprintf(ps, sizeof ps, "%s/s_out.csv", tl_dir);
        snprintf(pm, sizeof pm, "%s/model.safetensors", tl_dir);
        int ok = stat(ps, &ss) == 0 && stat(pm, &sm) == 0;
        CHECK(ok && (ss.st_mode & 0777) == (sm.st_mode & 0777), "cli sample -o: mode %o, the model's %o", ok ? (unsigned)(ss.st_mode & 0777) : 0u,
              ok ? (unsigned)(sm.st_mode & 0777) : 0u);
    }
    rc = tl_run("sample model.safetensors -n 40 --steps-per-level 10 --seed 5 --header -o -");
    CHECK(rc == 0 && strcmp(tl_out, want) == 0, "cli sample -o -: exit %d, not stdout's samples: %s", rc, tl_err);
    {   /* the defaults up to 16 dimensions, given explicitly, are the default's samples (form
           song-lm, no fine steps, the ODE predictor); song, 4 fine steps at sigma >= 1/2, no
           predictor and the ancestral one are other runs */
        static const struct { const char *opt; int same; } alt[] = { { "--form song-lm", 1 }, { "--form song", 0 }, { "--fine 1", 1 }, { "--fine 4", 0 },
                                                                     { "--predictor none", 0 }, { "--predictor ancestral", 0 }, { "--predictor ode", 1 } };
        char cmd[160];
        size_t k;
        for (k = 0; k < sizeof alt / sizeof alt[0]; k++) {
            snprintf(cmd, sizeof cmd, "sample model.safetensors -n 40 --steps-per-level 10 --seed 5 --header %s", alt[k].opt);
            rc = tl_run(cmd);
            CHECK(rc == 0 && tl_lines(tl_out) == 41 && (strcmp(tl_out, want) == 0) == alt[k].same, "cli sample %s: exit %d, %s the default's samples: %s",
                  alt[k].opt, rc, alt[k].same ? "not" : "", tl_err);
        }
    }
    rc = tl_run("sample model.safetensors -n 4 --form lm");
    EXPECT(rc, 1, "song-lm", "an unknown --form lists the forms");
    {   /* the two predictors are two different runs */
        char anc[4096];
        rc = tl_run("sample model.safetensors -n 40 --steps-per-level 10 --seed 5 --predictor ancestral");
        tl_copy_out(anc, sizeof anc);
        rc |= tl_run("sample model.safetensors -n 40 --steps-per-level 10 --seed 5 --predictor ode");
        CHECK(rc == 0 && strcmp(anc, tl_out) != 0, "cli sample: --predictor ancestral and ode gave the same samples (exit %d)", rc);
    }
    rc = tl_run("sample model.safetensors -n 4 --predictor euler");
    EXPECT(rc, 1, "--predictor = 'euler' is not one of: none, ancestral, ode", "an unknown --predictor lists the predictors");
    rc = tl_run("sample model.safetensors -n 4 --fine 64 --steps-per-level 1073741824");
    EXPECT(rc, 1, "--fine 64 x 1073741824 steps per level exceeds", "--fine times the steps beyond an int is refused, naming the options");
    rc = tl_run("sample model.safetensors -n 4 --fine 0");
    EXPECT(rc, 1, "--fine", "--fine 0 is refused, naming the option");
    /* a write that fails half-way into a regular file (the file size limit: EFBIG, as a full disk):
       exit 4 and the old file intact, its temporary file removed (the scratch directory's check) */
    tl_write("s_big.csv", "old\n", 4);
    rc = tl_sh("trap '' XFSZ; ulimit -f 8; \"$N\" sample model.safetensors -n 2000 --steps-per-level 1 -o s_big.csv");
    b = tl_slurp("s_big.csv", &len);
    CHECK(rc == 4 && strstr(tl_err, "'s_big.csv'") && b && len == 4 && memcmp(b, "old\n", 4) == 0,
          "cli sample -o FILE past the file size limit: exit %d (want 4), FILE %lu bytes (want the old 4): %s", rc, b ? (unsigned long)len : 0ul, tl_err);
    free(b);
    tl_sh("mkdir -p s_dir");
    for (k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        rc = tl_run("sample model.safetensors -n 3 --steps-per-level 2 -o %s", refused[k].path);
        EXPECT(rc, refused[k].code, refused[k].needle, refused[k].path);
    }
    b = tl_slurp("model.safetensors", &len);
    CHECK(b && len > 8 && b[8] == '{', "cli: sample -o MODEL damaged the model");
    free(b);
}

/* a file never chooses where the program writes; temporary files of others are left alone;
   output errors are exit 4; text from files is escaped */
/* outputs that name an open descriptor, found by a user trial: `-o /dev/stdout > FILE` renamed a
   new file over the link /dev/stdout itself (the user's FILE stayed empty, and /dev/stdout was a
   file for everyone after); `-o /dev/fd/3 3> FILE` could not write "next to /dev/fd/3"; a FIFO or
   device output got MODEL.ckpt beside it (/dev/null.ckpt); `train - -o DATA < DATA` overwrote the
   data. Here with /proc/self/fd/1 and /dev/fd/N (never the machine's /dev/stdout, which an old
   build would destroy): written into the descriptor; an ordinary link is still replaced, its
   target untouched, also one that leads to /proc/self/fd/1. */
static void tl_output_links(void)
{
    size_t len;
    unsigned char *b;
    int rc;
    rc = tl_sh("\"$N\" train p.csv -o /proc/self/fd/1 %s > lk_out.st", tl_tiny);
    EXPECT(rc, 0, (const char *)NULL, "train -o /proc/self/fd/1 > FILE");
    CHECK(tl_same_data("p_file.st", "lk_out.st"), "cli: -o /proc/self/fd/1 > FILE must write the model into FILE");
    /* into the descriptor, not a reopened file: >> keeps what was there, and writes around it keep their order */
    rc = tl_sh("printf 'previous\\n' > lk_app.csv && \"$N\" sample p_file.st -n 3 --steps-per-level 1 -o /dev/fd/1 >> lk_app.csv; head -n 1 lk_app.csv");
    CHECK(strcmp(tl_out, "previous\n") == 0, "cli: sample -o /dev/fd/1 >> FILE lost what FILE held: '%s'", tl_out);
    rc = tl_sh("{ echo head; \"$N\" sample p_file.st -n 3 --steps-per-level 1 -o /proc/self/fd/1; echo foot; } > lk_order.csv; head -n 1 lk_order.csv; tail -n 1 lk_order.csv; wc -l < lk_order.csv");
    CHECK(strncmp(tl_out, "head\nfoot\n", 10) == 0 && atoi(tl_out + 10) >= 4, "cli: sample -o /proc/self/fd/1 between two echos: '%s'", tl_out);
    /* a link of the test's own to /proc/self/fd/1 is an ordinary link: replaced, never followed */
    rc = tl_sh("rm -f lk_stdout && ln -s /proc/self/fd/1 lk_stdout && \"$N\" train p.csv -o lk_stdout %s > lk_out2.st; test ! -L lk_stdout && test ! -s lk_out2.st", tl_tiny);
    CHECK(rc == 0 && tl_same_data("p_file.st", "lk_stdout"), "cli: -o a link to /proc/self/fd/1 must replace the link, not write to stdout: %s", tl_err);
    rc = tl_sh("\"$N\" train p.csv -o /dev/fd/3 %s 3> lk_fd3.st", tl_tiny);
    EXPECT(rc, 0, (const char *)NULL, "train -o /dev/fd/3 3> FILE");
    CHECK(tl_same_data("p_file.st", "lk_fd3.st"), "cli: train -o /dev/fd/3 3> FILE must write the model into FILE");
    /* an ordinary link is still replaced, not followed (tl_hostile tests train -o; here sample -o) */
    rc = tl_sh("rm -f lk_s.csv lk_slink && printf keep > lk_s.csv && ln -s lk_s.csv lk_slink && \"$N\" sample p_file.st -n 3 --steps-per-level 1 -o lk_slink; "
               "test ! -L lk_slink && test -s lk_slink && test \"$(cat lk_s.csv)\" = keep");
    CHECK(rc == 0, "cli: sample -o an ordinary link must replace the link and leave its target: %s", tl_err);   /* exit 3 allowed: this tiny model loses a chain */
    /* a FIFO output: written into, and no MODEL.ckpt made beside it */
    rc = tl_sh("rm -f lk_fifo lk_fifo.ckpt && mkfifo lk_fifo && { timeout 60 cat lk_fifo > lk_fifo.st & } && \"$N\" train p.csv -o lk_fifo --steps 3 --width 4 --depth 1 --levels 2 --progress none; r=$?; "
               "[ $r = 0 ] || : > lk_fifo; wait; exit $r");   /* the default checkpoints; on a failure the reader is released */
    EXPECT(rc, 0, (const char *)NULL, "train -o FIFO with the default checkpoints");
    CHECK(!tl_exists("lk_fifo.ckpt") && tl_same_data("p_file.st", "lk_fifo.st"), "cli: train -o FIFO made lk_fifo.ckpt beside the FIFO, or did not write the model into it");
    rc = tl_sh("rm -f lk_fifo && mkfifo lk_fifo && \"$N\" train p.csv -o lk_fifo %s --checkpoint-every 1", tl_tiny);
    EXPECT(rc, 1, "give --checkpoint PATH", "train -o FIFO --checkpoint-every 1 (no --checkpoint)");
    tl_sh("rm -f lk_fifo lk_fifo.ckpt");
    /* the data on stdin is the output file */
    tl_write("lk_d.csv", "15,2\n3,4\n5,6\n", 13);
    rc = tl_sh("\"$N\" train - -o lk_d.csv %s < lk_d.csv", tl_tiny);
    EXPECT(rc, 1, "would overwrite the data", "train - -o DATA < DATA");
    b = tl_slurp("lk_d.csv", &len);
    CHECK(b && len == 13 && memcmp(b, "15,2\n", 5) == 0, "cli: train - -o DATA < DATA overwrote the data");
    free(b);
}

static void tl_outputs(void)
{
    size_t len;
    unsigned char *b;
    int rc;
    /* --resume without -o: the model goes next to the checkpoint the user named, never to the
       checkpoint's cli.output (here first.st, holding the user's own bytes) */
    rc = tl_run("train p.csv -o first.st --checkpoint v.ckpt --steps 3 --checkpoint-every 1 --width 4 --depth 1 --levels 2 --constant-lr --progress none");
    EXPECT(rc, 0, (const char *)NULL, "train for the output rule");
    tl_write("first.st", "precious", 8);
    rc = tl_run("train p.csv --resume v.ckpt --steps 4 --progress none");
    EXPECT(rc, 0, (const char *)NULL, "resume without -o");
    b = tl_slurp("first.st", &len);
    CHECK(b && len == 8 && memcmp(b, "precious", 8) == 0 && tl_exists("v"), "cli: resume without -o wrote to the checkpoint's cli.output");
    free(b);
    tl_sh("cp v.ckpt v.other");
    rc = tl_run("train p.csv --resume v.other --progress none");
    EXPECT(rc, 1, "give -o", "resume without -o from a name without .ckpt");
    /* files named like temporaries: a user's and another writer's survive a run */
    tl_write("t5.st.tmp.backup", "mine", 4);
    tl_write("t5.st.tmp.abc123", "theirs", 6);
    tl_write("t5.st.ckpt.tmp.zz9999", "theirs", 6);
    rc = tl_run("train p.csv -o t5.st --steps 3 --checkpoint-every 1 --width 4 --depth 1 --levels 2 --progress none");
    EXPECT(rc, 0, (const char *)NULL, "train next to foreign .tmp. files");
    CHECK(tl_exists("t5.st.tmp.backup") && tl_exists("t5.st.tmp.abc123") && tl_exists("t5.st.ckpt.tmp.zz9999"),
          "cli: train removed files it did not create (%s.tmp.*)", "t5.st");
    tl_sh("rm -f t5.st.tmp.backup t5.st.tmp.abc123 t5.st.ckpt.tmp.zz9999");
    /* writes to a full device */
    rc = tl_sh("\"$N\" info model.safetensors > /dev/full");
    EXPECT(rc, 4, "writing to stdout failed", "info > /dev/full");
    rc = tl_sh("\"$N\" --help > /dev/full");
    EXPECT(rc, 4, "writing to stdout failed", "--help > /dev/full");
    rc = tl_sh("\"$N\" --version > /dev/full");
    EXPECT(rc, 4, "writing to stdout failed", "--version > /dev/full");
    rc = tl_sh("printf '0,0\\n' | \"$N\" score model.safetensors --sigma 1 > /dev/full");
    EXPECT(rc, 4, "writing the scores failed", "score > /dev/full");
    CHECK(tl_count(tl_err, "failed") == 1, "cli score > /dev/full: the failure reported %d times: '%.300s'", tl_count(tl_err, "failed"), tl_err);
    rc = tl_sh("\"$N\" selftest > /dev/full");
    EXPECT(rc, 4, "writing to stdout failed", "selftest > /dev/full");
    rc = tl_sh("\"$N\" sample model.safetensors -n 2 --steps-per-level 1 > /dev/full");
    EXPECT(rc, 4, (const char *)NULL, "sample > /dev/full");
    /* one failure, one message: main's last flush of stdout does not report it a second time */
    CHECK(tl_lines(tl_err) == 1, "cli sample > /dev/full: %d lines on stderr, want 1: '%.300s'", tl_lines(tl_err), tl_err);
    rc = tl_sh("\"$N\" train p.csv -o - %s > /dev/full", tl_tiny);
    EXPECT(rc, 4, "stdout", "train -o - > /dev/full");
    CHECK(tl_count(tl_err, "failed") == 1, "cli train -o - > /dev/full: the failure reported %d times: '%.300s'", tl_count(tl_err, "failed"), tl_err);
    {   /* a model whose metadata holds escape sequences and a forged line and data row */
        ncsn_config cfg = ncsn_config_concat(2, 4, 1);
        ncsn_model *m = NULL;
        ncsn_rng rng;
        float sig[2] = { 1.0f, 0.5f };
        char path[1024];
        static const char *const extra[] = { "cli.columns", "x\x1b[31m,y\n7,7", "cli.data", "evil\x1b]0;title\x07\nncsn.step: 999", NULL };
        static const char *const c1[] = { "cli.columns", "\xc2\x9b" "31mx,y", NULL };   /* U+009B: the one-character CSI */
        snprintf(path, sizeof path, "%s/evil.st", tl_dir);
        ncsn_rng_seed(&rng, 1, 2);
        CHECK(ncsn_model_create(&m, &cfg) == NCSN_OK && ncsn_model_init(m, &rng) == NCSN_OK &&
              ncsn_checkpoint_save(m, path, NULL, NULL, sig, 2, 0, extra) == NCSN_OK, "cli: crafting a model: %s", ncsn_last_error());
        snprintf(path, sizeof path, "%s/evil_c1.st", tl_dir);
        CHECK(ncsn_checkpoint_save(m, path, NULL, NULL, sig, 2, 0, c1) == NCSN_OK, "cli: crafting a model: %s", ncsn_last_error());
        ncsn_model_free(m);
    }
    rc = tl_run("info evil.st");
    CHECK(rc == 0 && !strchr(tl_out, 0x1b) && !strchr(tl_out, 0x07) && !strstr(tl_out, "\nncsn.step: 999") && !strstr(tl_out, "\n7,7") &&
          strstr(tl_out, "cli.data: evil\\x1b]0;title\\x07\\x0ancsn.step: 999"), "cli info echoes raw text from the file: %s", tl_out);
    rc = tl_run("sample evil.st -n 2 --steps-per-level 1 --header");
    CHECK(rc == 0 && strncmp(tl_out, "x1,x2\n", 6) == 0 && tl_lines(tl_out) == 3 && strstr(tl_err, "cli.columns") && !strchr(tl_err, 0x1b),
          "cli sample --header wrote a forged header: exit %d: %s / %s", rc, tl_out, tl_err);
    rc = tl_run("sample evil_c1.st -n 1 --steps-per-level 1 --header");
    CHECK(rc == 0 && strncmp(tl_out, "x1,x2\n", 6) == 0 && !strstr(tl_err, "\xc2\x9b"),
          "cli sample --header wrote a C1 control from cli.columns: exit %d: %s / %s", rc, tl_out, tl_err);
    tl_write("esc.csv", "1,2\n3,\x1b[2J\n", 11);   /* without the string's NUL: a NUL is refused before the escape is seen */
    rc = tl_run("train esc.csv -o x.st");
    EXPECT(rc, 2, "esc.csv:2:2: '\\x1b[2J' is not a number", "an escape sequence in the data");
    CHECK(!strchr(tl_err, 0x1b), "cli: an error message holds a raw escape sequence");
}

static void tl_put(const char *name, const char *text) { tl_write(name, text, strlen(text)); }

/* a header naming 2 of 60000 selected columns: --columns wrote 3 bytes past its buffer per column
   the header does not name (heap corruption: a garbage line number, then an abort) */
static void tl_short_header(void)
{
    enum { NC = 60000 };
    char *t = (char *)malloc(4 + 2 * NC + 1);
    int k, rc;
    if (!t) { CHECK(0, "cli: out of memory"); return; }
    memcpy(t, "a,b\n", 4);
    for (k = 0; k < NC; k++) { t[4 + 2 * k] = '1'; t[5 + 2 * k] = k + 1 < NC ? ',' : '\n'; }
    t[4 + 2 * NC] = 0;
    tl_put("shorthdr.csv", t);
    free(t);
    rc = tl_run("train shorthdr.csv --columns 1-60000 -o x.st");
    EXPECT(rc, 2, "shorthdr.csv:1: the header names 2 columns, but --columns takes column 3", "a header shorter than --columns");
}

/* column names longer than 127 characters (survey questions) and numbers written with 150 zeros:
   train refused the file ("field longer than 127 characters"), and --columns cut a name at 255
   characters ("no column named ...") */
static void tl_long_names(void)
{
    static char text[8192], cmd[2048];
    char a[201], b[301];
    size_t q = 0;
    int i, rc;
    for (i = 0; i < 200; i++) a[i] = (char)('a' + i % 26);
    a[200] = 0;
    for (i = 0; i < 300; i++) b[i] = (char)('A' + i % 26);
    b[300] = 0;
    q += (size_t)sprintf(text + q, "%s,%s,c\n", a, b);
    for (i = 0; i < 8; i++) {
        int k;
        q += (size_t)sprintf(text + q, "%d,0.", i % 3);
        for (k = 0; k < 150; k++) text[q++] = '0';
        q += (size_t)sprintf(text + q, "%de151,%d\n", i % 5 + 1, -i);   /* (i % 5 + 1) * 10^-151 * 10^151 */
    }
    tl_write("long.csv", text, q);
    q = 0;
    for (i = 0; i < 8; i++) q += (size_t)sprintf(text + q, "%d,%d\n", i % 5 + 1, i % 3);
    tl_write("short.csv", text, q);
    rc = tl_run("train short.csv -o short.st %s", tl_tiny);
    EXPECT(rc, 0, (const char *)NULL, "train short.csv");
    snprintf(cmd, sizeof cmd, "train long.csv --columns %s,%s -o long.st %s", b, a, tl_tiny);
    rc = tl_run("%s", cmd);
    EXPECT(rc, 0, (const char *)NULL, "train --columns with names of 300 and 200 characters");
    CHECK(tl_same_data("short.st", "long.st"), "cli: --columns LONG_B,LONG_A did not train on the same data as short.csv");
    rc = tl_run("info long.st");
    CHECK(rc == 0 && strstr(tl_out, b) && strstr(tl_out, a), "cli info: the long column names are not in cli.columns: %.300s", tl_out);
}

/* CSV files as R, sklearn and spreadsheets write them, read as the user means them or refused
   with a message that names the line and what to do */
static void tl_exported(void)
{
    static const char *const files[][2] = {
        { "plain.csv", "x,y\n3.6,79\n1.8,54\n3.3,74\n" },
        { "wt.csv", "\"x\" \"y\"\n\"1\" 3.6 79\n\"2\" 1.8 54\n\"3\" 3.3 74\n" },   /* R's write.table: no name for the row names */
        { "bom.csv", "\xef\xbb\xbfx,y\n3.6,79\n1.8,54\n3.3,74\n" },                /* Excel's CSV UTF-8: a byte-order mark */
        { "bomr.csv", "\xef\xbb\xbf\"\",\"x\",\"y\"\n\"1\",3.6,79\n\"2\",1.8,54\n" },
        { "skl.csv", "4,2,setosa\n5.1,3.5,0\n4.9,3.0,1\n4.7,3.2,0\n4.6,3.1,1\n" },   /* sklearn: counts and class names */
        { "skl2.csv", "3,2,,\n\"a\",\"b\",\"c\",\"d\"\n1,2,3,4\n5,6,7,9\n1,1,1,1\n" },   /* boston: counts, then names */
        { "na.csv", "\"\",\"a\",\"b\"\n\"1\",1,2\n\"2\",NA,3\n" },                  /* R's NA in column 2 */
        { "semi.csv", "\"\";\"a\";\"b\"\n\"1\";3,6;79\n\"2\";1,8;54\n" },            /* R's write.csv2 */
        { "trail.csv", "a,b\n1,2,,\n3,4,,\n" },                                        /* not row names: a trailing comma */
        { "na1.csv", "1,NA\n2,3\n4,5\n" },                                              /* not sklearn's counts: a bad field */
        { "tsvdec.csv", "Fertility\tAgriculture\n80,2\t17\n83,1\t45,1\n" },          /* write.table(sep = "\t", dec = ",") */
        { "spdec.csv", "20,65 5,69\n21,5 6,1\n" },                                       /* no header, decimal commas, spaces */
        { "cr.csv", "x,y\r3.6,79\r1.8,54\r" },                                           /* classic Mac line ends: CR alone */
        { "crlf1.csv", "x y\r3.6 79\r1.8 54\r\n" },                                       /* the same, one LF at the end */
        { "room.csv", "name,value\nRoom 101,5\nRoom 102,7\n" },                            /* text and a number: not a decimal comma */
        { "expdec.csv", "x\ty\n1,5e-05\t2,5\n" },                                         /* R's exponent form */
    };
    /* same: the model must be plain.st's (the same data); else the exit code and the message */
    static const struct { const char *args; int same, code; const char *needle; } runs[] = {
        { "plain.csv -o plain.st", 0, 0, NULL },
        { "wt.csv --columns x,y -o c.st", 1, 0, NULL },   /* trained on (row number, x), exit 0 */
        { "wt.csv --columns 2-3 -o c.st", 1, 0, NULL },
        { "wt.csv -o x.st", 0, 2, "row names" },
        { "bom.csv --columns x,y -o c.st", 1, 0, NULL },
        { "bomr.csv -o x.st", 0, 2, "column 1 has no name" },
        { "skl.csv --columns 1-2 -o x.st", 0, 2, "skl.csv:1: line 1 mixes numbers and text" },   /* took (4, 2) as a point */
        { "skl.csv -o x.st", 0, 2, "skl.csv:1: line 1 mixes numbers and text" },
        { "skl2.csv --columns 1-2 -o x.st", 0, 2, "skl2.csv:1: line 1 mixes numbers and text (column 3 holds '', line 2 names)" },
        { "na.csv --columns a,b -o x.st", 0, 2, "na.csv:3:2: 'NA' is not a number (a missing value: drop the rows that have one" },   /* said column 1 */
        { "semi.csv -o x.st", 0, 2, "semi.csv:1: the fields are separated by ';'" },
        { "trail.csv -o x.st", 0, 2, "trail.csv:2: column 3 holds ''" },   /* not "row names" */
        { "na1.csv -o x.st", 0, 2, "na1.csv:1: column 2 holds 'NA'" },      /* said: delete line 1 */
        { "tsvdec.csv -o x.st", 0, 2, "tsvdec.csv:2: '80,2' has a decimal comma" },   /* said: --columns 2-4, dropping the decimals */
        { "spdec.csv -o x.st", 0, 2, "spdec.csv:1: '20,65' has a decimal comma" },   /* said: --columns (none of line 2 is a number) */
        { "cr.csv -o x.st", 0, 2, "cr.csv: the lines end in a carriage return alone" },   /* said: column 1 holds 'a' ... --columns 302 */
        { "crlf1.csv -o x.st", 0, 2, "crlf1.csv: the lines end in a carriage return alone" },
        { "room.csv --columns value -o x.st", 0, 0, NULL },   /* refused by the first decimal-comma rule */
        { "expdec.csv -o x.st", 0, 2, "expdec.csv:2: '1,5e-05' has a decimal comma" },
        { "plain.csv --columns 4294967297 -o x.st", 0, 1, "'4294967297' is not within columns 1..2" },   /* took column 1, exit 0 */
        { "plain.csv --columns 1-4294967298 -o x.st", 0, 1, "'1-4294967298' is not within columns 1..2" },
    };
    size_t i;
    int rc;
    for (i = 0; i < sizeof files / sizeof files[0]; i++) tl_put(files[i][0], files[i][1]);
    for (i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        rc = tl_run("train %s %s", runs[i].args, tl_tiny);
        EXPECT(rc, runs[i].code, runs[i].needle, runs[i].args);
        CHECK(!runs[i].same || tl_same_data("plain.st", "c.st"), "cli: train %s trained on other data than plain.csv's", runs[i].args);
    }
    tl_short_header();
    tl_long_names();
    rc = tl_run("info c.st");   /* bom.csv's model was the last c.st */
    CHECK(rc == 0 && strstr(tl_out, "cli.columns: x,y\n"), "cli: the byte-order mark went into the stored column names: %s", tl_out);
}

/* exit codes and messages that tell what happened, checked before training where they can be */
static void tl_truth(void)
{
    int rc;
    tl_write("huge.csv", "3.4e38,0\n-3.4e38,0\n0,1\n", 23);
    rc = tl_run("train huge.csv -o x.st --no-standardize %s", tl_tiny);   /* raw units: standardised, these data are fine */
    EXPECT(rc, 2, "huge.csv': the data's largest pairwise distance", "data near FLT_MAX");
    CHECK(strstr(tl_err, "rescale the data or give sigma_max (--sigma-max)\n") != NULL, "cli: data near FLT_MAX, the advice: %s", tl_err);   /* said "give sigma_max; give --sigma-max" */
    tl_write("blow.csv", "1e19,1e19\n-1e19,2\n0,0\n", 22);
    rc = tl_run("train blow.csv -o x.st --no-standardize --preset seed000 --sigma-max 1 --sigma-min 0.5 --levels 2 --checkpoint-every 1 --steps 5 --progress none");
    EXPECT(rc, 3, "at step 1: ", "a NaN at step 1");
    CHECK(strstr(tl_err, "no checkpoint was written") && !strstr(tl_err, "is intact"), "cli: a NaN at step 1 claims a checkpoint: %s", tl_err);
    tl_sh("mkdir -p outdir");
    rc = tl_run("train p.csv -o outdir --steps 50 --width 4 --depth 1 --levels 2 --progress plain --log-every 1");
    EXPECT(rc, 4, "'outdir': it is a directory", "-o DIR");
    CHECK(!strstr(tl_err, "step 1/"), "cli: -o DIR failed only after training");
    tl_write("rag.csv", "a,b\n1,2\n3\n5,6\n", 14);   /* --columns: a short line is an error, not a stale field */
    rc = tl_run("train rag.csv --columns 2,1 -o x.st %s", tl_tiny);
    EXPECT(rc, 2, "rag.csv:3:", "--columns 2,1 on a line of 1 field");
    rc = tl_run("train p.csv --columns 1,1,1,1,1,1,1,1 -o x.st %s", tl_tiny);   /* overflowed the selected text's buffer */
    EXPECT(rc, 1, "--columns: column 1 appears twice", "--columns 1,1,...");
    rc = tl_run("train p.csv -o '' --steps 50 --width 4 --depth 1 --levels 2 --progress plain --log-every 1 --checkpoint-every 0");
    EXPECT(rc, 1, "-o is an empty path", "-o ''");
    CHECK(!strstr(tl_err, "step 1/"), "cli: -o '' failed only after training");
    rc = tl_run("train p.csv -o e.st --checkpoint '' --steps 50 --width 4 --depth 1 --levels 2 --progress plain --log-every 1");
    EXPECT(rc, 1, "--checkpoint is an empty path", "--checkpoint ''");
    rc = tl_run("train p.csv -o same.st --checkpoint ./same.st %s --checkpoint-every 1", tl_tiny);
    EXPECT(rc, 1, "are the same file", "-o X --checkpoint X");
    CHECK(!tl_exists("same.st"), "cli: -o X --checkpoint X wrote X");
    rc = tl_run("train p.csv -o p.csv %s", tl_tiny);
    EXPECT(rc, 1, "would overwrite the data", "-o DATA");
    rc = tl_run("train p.csv --seed 09 -o s9.st %s", tl_tiny);   /* strtoull's base 0: octal, and 09 refused */
    EXPECT(rc, 0, (const char *)NULL, "--seed 09");
    rc = tl_run("train p.csv --seed 010 -o s10a.st %s && \"$N\" train p.csv --seed 10 -o s10b.st %s", tl_tiny, tl_tiny);
    CHECK(rc == 0 && tl_same_data("s10a.st", "s10b.st"), "cli: --seed 010 is not seed 10 (exit %d: %s)", rc, tl_err);
    rc = tl_run("train p.csv --seed 0x10 -o x.st %s", tl_tiny);
    EXPECT(rc, 1, "--seed = '0x10' is not a non-negative integer", "--seed 0x10");
}

/* ckpt with its metadata cli.data (the data's shape and hash) replaced by donor's (a checkpoint of
   other data): the edit the CLI's hash cannot see. 0 if not possible. */
static int tl_forge_data(const char *ckpt, const char *donor, const char *out)
{
    char from[256], to[256], p[1024];
    size_t len, k, fl;
    unsigned char *m;
    int ok = 0;
    snprintf(p, sizeof p, "%s/%s", tl_dir, ckpt);
    if (ncsn_file_meta(p, "cli.data", from, sizeof from) != NCSN_OK) return 0;
    snprintf(p, sizeof p, "%s/%s", tl_dir, donor);
    if (ncsn_file_meta(p, "cli.data", to, sizeof to) != NCSN_OK) return 0;
    if ((fl = strlen(from)) != strlen(to) || !(m = tl_slurp(ckpt, &len))) return 0;
    for (k = 0; k + fl <= len; k++)
        if (memcmp(m + k, from, fl) == 0) { memcpy(m + k, to, fl); ok = 1; }
    if (ok) tl_write(out, (const char *)m, len);
    free(m);
    return ok;
}

/* src with the metadata value of key replaced by value (another length: the header's length is
   rewritten; the data offsets count from the header's end) into dst; 0 if not possible */
static int tl_set_meta(const char *src, const char *key, const char *value, const char *dst)
{
    char pat[128];
    size_t len, h = 0, vl = strlen(value), nh, o = 0;
    unsigned char *b = tl_slurp(src, &len), *out;
    const char *at, *v, *ve;
    int i;
    if (!b || len < 8) { free(b); return 0; }
    for (i = 7; i >= 0; i--) h = (h << 8) | b[i];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    at = h <= len - 8 ? tl_memstr((const char *)b + 8, h, pat) : NULL;
    v = at ? at + strlen(pat) : NULL;
    ve = v ? (const char *)memchr(v, '"', (size_t)((const char *)b + 8 + h - v)) : NULL;
    if (!ve || !(out = (unsigned char *)malloc(len + vl))) { free(b); return 0; }
    nh = h - (size_t)(ve - v) + vl;
    for (i = 0; i < 8; i++) out[o++] = (unsigned char)((unsigned long long)nh >> (8 * i)); /* 32-bit size_t: a shift by 32 or more is undefined */
    memcpy(out + o, b + 8, (size_t)(v - (const char *)b - 8));
    o += (size_t)(v - (const char *)b - 8);
    memcpy(out + o, value, vl);
    o += vl;
    memcpy(out + o, ve, len - (size_t)(ve - (const char *)b));
    o += len - (size_t)(ve - (const char *)b);
    tl_write(dst, (const char *)out, o);
    free(out);
    free(b);
    return 1;
}

/* --resume compared the checkpoint's ncsn.dim with the data's columns through atoi: "3junk" said
   "a model of dimension 3junk", and "+2", " 2", "2.0", "0x2" or a 30-digit overflow of a 2-D
   model passed it. The value is read strictly, and a bad one is named with its key and file. */
static void tl_resume_bad_dim(void)
{
    static const char *const bad[] = { "3junk", "+2", " 2", "2.0", "0x2", "100000000000000000000000000002", "" };
    char want[128];
    size_t k;
    int rc;
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        if (!tl_set_meta("resume.ckpt", "ncsn.dim", bad[k], "baddim.ckpt")) { CHECK(0, "cli: cannot set ncsn.dim in resume.ckpt"); return; }
        rc = tl_run("train data.csv --resume baddim.ckpt --steps 300 -o x.safetensors --progress none");
        snprintf(want, sizeof want, "'baddim.ckpt': metadata ncsn.dim = '%s' %s", bad[k], k == 5 ? "must be in [" : "is not an integer");
        EXPECT(rc, 2, want, bad[k]);
    }
    CHECK(tl_set_meta("resume.ckpt", "cli.steps", "+300", "badsteps.ckpt"), "cli: cannot set cli.steps in resume.ckpt");
    rc = tl_run("train data.csv --resume badsteps.ckpt -o x.safetensors --progress none");
    EXPECT(rc, 2, "'badsteps.ckpt': metadata cli.steps = '+300' is not an integer", "cli.steps +300");
    /* a cli.steps below the file's own step is the file's fault, not an option the user gave */
    CHECK(tl_set_meta("resume.ckpt", "cli.steps", "1", "badsteps.ckpt"), "cli: cannot set cli.steps in resume.ckpt");
    rc = tl_run("train data.csv --resume badsteps.ckpt -o x.safetensors --progress none");
    EXPECT(rc, 2, "'badsteps.ckpt': its metadata cli.steps = 1 is below its step", "cli.steps below the step");
    CHECK(!strstr(tl_err, "--steps"), "cli: a checkpoint's cli.steps below its step blamed on --steps: %s", tl_err);
}

/* the learning rate decays over the run's --steps: resuming with other --steps cannot give the
   uninterrupted run's bits and is refused, as is --constant-lr on such a checkpoint; a run trained
   with --constant-lr grows; ncsn info shows the schedule */
static void tl_resume_decay(void)
{
    char text[40 * 17 * 4 + 1];
    size_t o = 0;
    int i, j, rc;
    for (i = 0; i < 40; i++)
        for (j = 0; j < 17; j++) o += (size_t)snprintf(text + o, sizeof text - o, "%d%c", (i * 7 + j * 3) % 10, j < 16 ? ',' : '\n');
    tl_put("wide.csv", text);
    rc = tl_run("train wide.csv -o wide.st --steps 6 --width 4 --depth 1 --levels 2 --checkpoint-every 3 --checkpoint wide.ckpt --progress none");
    EXPECT(rc, 0, (const char *)NULL, "train 17 columns");
    rc = tl_run("train wide.csv --resume wide.ckpt --steps 12 -o x.st --progress none");
    EXPECT(rc, 1, "--steps (the learning rate decays over the run; only a run trained with --constant-lr can grow) 12 differs from the checkpoint's 6",
           "resume 17 columns with more steps");
    rc = tl_run("train wide.csv --resume wide.ckpt --steps 6 -o x.st --progress none");
    EXPECT(rc, 0, (const char *)NULL, "resume 17 columns with the same steps");
    rc = tl_run("train wide.csv --resume wide.ckpt --constant-lr -o x.st --progress none");
    EXPECT(rc, 1, "--constant-lr: the checkpoint's rate decays over 6 steps", "resume a decaying run with --constant-lr");
    rc = tl_run("info wide.ckpt");
    CHECK(rc == 0 && strstr(tl_out, "ncsn.train.lr_decay_steps: 6\n") && strstr(tl_out, "ncsn.train.lr: "), "cli info: the rate's schedule: %s", tl_out);
    rc = tl_run("train wide.csv -o wide.st --steps 6 --width 4 --depth 1 --levels 2 --checkpoint-every 3 --checkpoint wide.ckpt --constant-lr --progress none");
    EXPECT(rc, 0, (const char *)NULL, "train 17 columns at a constant rate");
    rc = tl_run("info wide.ckpt");
    CHECK(rc == 0 && !strstr(tl_out, "ncsn.train.lr_decay_steps"), "cli info: a constant rate has no schedule: %s", tl_out);
    rc = tl_run("train wide.csv --resume wide.ckpt --steps 12 -o x.st --progress none");
    EXPECT(rc, 0, (const char *)NULL, "resume a constant-rate run to more steps");
    /* --stable-target: said at the start, kept in the checkpoint, shown by info, resumed, and another choice refused */
    rc = tl_run("train wide.csv -o sw.st --steps 6 --width 4 --depth 1 --levels 2 --checkpoint-every 3 --checkpoint sw.ckpt --stable-target");
    EXPECT(rc, 0, "batch 40 (stable target)", "train with --stable-target");
    rc = tl_run("info sw.ckpt");
    CHECK(rc == 0 && strstr(tl_out, "ncsn.train.stable_target: 1\n"), "cli info: the stable target: %s", tl_out);
    rc = tl_run("train wide.csv --resume sw.ckpt -o x.st --progress none --no-stable-target");
    EXPECT(rc, 1, "--stable-target off differs from the checkpoint's on", "resume a stable-target run without it");
    rc = tl_run("train wide.csv --resume sw.ckpt -o x.st --progress none");
    EXPECT(rc, 0, (const char *)NULL, "resume a stable-target run");
    rc = tl_run("info wide.ckpt");
    CHECK(rc == 0 && !strstr(tl_out, "stable_target"), "cli info: no stable target above 16 columns: %s", tl_out);
    /* the default up to 16 columns (0.10.0): on with more rows than a batch (data.csv: 600 rows, 2 columns) */
    rc = tl_run("train data.csv -o sa.st --steps 2 --width 4 --depth 1 --levels 2 --checkpoint-every 0");
    EXPECT(rc, 0, "batch 512 (stable target)", "train 600 rows with the defaults");
    rc = tl_run("train data.csv -o sa.st --steps 2 --width 4 --depth 1 --levels 2 --checkpoint-every 0 --no-stable-target");
    CHECK(rc == 0 && strstr(tl_err, "batch 512") && !strstr(tl_err, "stable target"), "cli train --no-stable-target: %s", tl_err);
    rc = tl_run("train data.csv -o sa.st --steps 2 --width 4 --depth 1 --levels 2 --checkpoint-every 0 --batch 600");
    CHECK(rc == 0 && strstr(tl_err, "batch 600") && !strstr(tl_err, "stable target"), "cli train, every row in the batch: no stable target: %s", tl_err);
    remove("sa.st");
}

/* above 16 columns the recipe trains the preconditioned output with EDM's loss (0.5.0); another
   conditioning (--embed) keeps it, and --output-form scaled goes back to s = net/sigma with the
   recipe's sigma2 loss, not the precond one; up to 16 columns nothing changed. wide.csv: 17 columns
   (tl_resume_decay); w2.csv: 2 */
static void tl_wide_recipe(void)
{
    static const struct { const char *args, *form, *weighting; } runs[] = {
        { "wide.csv -o wr.st", "preconditioned", "cli.weighting: one\n" },
        { "wide.csv -o wr.st --embed 8", "preconditioned", "cli.weighting: one\n" },
        { "wide.csv -o wr.st --output-form scaled", NULL, "cli.weighting: sigma2\n" },
        { "wide.csv -o wr.st --output-form scaled --weighting one", NULL, "cli.weighting: one\n" },
        { "w2.csv -o wr.st", NULL, "cli.weighting: sigma2\n" },
    };
    size_t i;
    tl_put("w2.csv", "15,2\n3,4\n5,6\n");
    for (i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        int rc = tl_run("train %s --steps 2 --width 4 --depth 1 --levels 2 --checkpoint-every 1 --checkpoint wr.ckpt --progress none", runs[i].args);
        EXPECT(rc, 0, (const char *)NULL, runs[i].args);
        rc = tl_run("info wr.ckpt");
        CHECK(rc == 0 && (runs[i].form ? strstr(tl_out, runs[i].form) != NULL : strstr(tl_out, "preconditioned") == NULL) &&
              strstr(tl_out, runs[i].weighting), "cli train %s: want %s and %s: %s", runs[i].args,
              runs[i].form ? runs[i].form : "no precond", runs[i].weighting, tl_out);
    }
}

/* a checkpoint of 2-column data resumed on 3 columns (and the reverse), its cli.data edited to
   match: the model's dimension is checked against the data's before any step (it once wrote past
   the batch buffer: a heap overflow under ASan, a segfault at -O2) */
static void tl_resume_other_dim(void)
{
    static char text[20000];
    size_t q = 0;
    int i, rc;
    for (i = 0; i < 600; i++) q += (size_t)sprintf(text + q, "%d,%d.25,%d\n", i % 7, i % 5, -(i % 3));
    tl_write("data3.csv", text, q);
    rc = tl_run("train data3.csv -o three.safetensors --steps 4 --checkpoint-every 2 --checkpoint three.ckpt %s", tl_small);
    EXPECT(rc, 0, (const char *)NULL, "train on 3 columns");
    if (!tl_forge_data("resume.ckpt", "three.ckpt", "forged2.ckpt") || !tl_forge_data("three.ckpt", "resume.ckpt", "forged3.ckpt")) {
        CHECK(0, "cli: cannot forge cli.data");
        return;
    }
    rc = tl_run("train data3.csv --resume forged2.ckpt --steps 64 -o x.safetensors --progress none");
    EXPECT(rc, 2, "'forged2.ckpt' holds a model of dimension 2, but 'data3.csv' has 3 columns", "resume a 2-d checkpoint on 3 columns");
    rc = tl_run("train data.csv --resume forged3.ckpt --steps 8 -o x.safetensors --progress none");
    EXPECT(rc, 2, "'forged3.ckpt' holds a model of dimension 3, but 'data.csv' has 2 columns", "resume a 3-d checkpoint on 2 columns");
}

/* `ncsn sample` of a model with 2^20 hidden units (16 MiB file): memory must not grow with -n. One
   batch of 50 chains touched ~620 MiB; in pieces of at most 64 MiB the whole process stays far
   below. The peak resident size is the child's (getrusage in a forked process that runs it).
   Full suite only, and not under a sanitizer (its shadow memory inflates the resident size). */
static long tl_peak_kib(const char *args)
{
    char p[1024];
    pid_t pid;
    int status;
    long kib = -1;
    FILE *fp;
    snprintf(p, sizeof p, "%s/rss.txt", tl_dir);
    fflush(stdout);
    if ((pid = fork()) < 0) return -1;
    if (pid == 0) {
        struct rusage ru;
        int rc = tl_run("%s", args);
        if (getrusage(RUSAGE_CHILDREN, &ru) == 0 && (fp = fopen(p, "w")) != NULL) { fprintf(fp, "%ld %d\n", (long)ru.ru_maxrss, rc); fclose(fp); }
        _exit(0);
    }
    waitpid(pid, &status, 0);
    if ((fp = fopen(p, "r")) != NULL) {
        int rc = -1;
        if (fscanf(fp, "%ld %d", &kib, &rc) != 2 || rc != 0) kib = -rc - 2;
        fclose(fp);
    }
    tl_read("out.txt", tl_out, sizeof tl_out);
    tl_read("err.txt", tl_err, sizeof tl_err);
    return kib;
}

static void tl_sample_memory(void)
{
    ncsn_config cfg = ncsn_config_concat(1, 1 << 20, 1);
    ncsn_model *m = NULL;
    ncsn_rng r;
    float sig[3] = { 2.0f, 0.5f, 0.1f };
    char path[1024];
    long kib;
    int rc;
#if defined(__SANITIZE_ADDRESS__)
    return;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
    return;
#endif
#endif
    rc = tl_run("sample --help");
    CHECK(rc == 0 && strstr(tl_out, "64 MiB"), "cli sample --help states the memory bound: %s", tl_out);
    if (t_quick) return;
    snprintf(path, sizeof path, "%s/big.safetensors", tl_dir);
    ncsn_rng_seed(&r, 1, 1);
    if (ncsn_model_create(&m, &cfg) != NCSN_OK || ncsn_model_init(m, &r) != NCSN_OK ||
        ncsn_checkpoint_save(m, path, NULL, NULL, sig, 3, 0, NULL) != NCSN_OK) {
        CHECK(0, "cli: big model: %s", ncsn_last_error());
        ncsn_model_free(m);
        return;
    }
    ncsn_model_free(m);
    kib = tl_peak_kib("sample big.safetensors -n 50 --steps-per-level 1");
    CHECK(kib > 0 && tl_lines(tl_out) == 50, "cli sample of a 2^20-unit model: %ld, %d lines: %s", kib, tl_lines(tl_out), tl_err);
    CHECK(kib > 0 && kib <= 160 * 1024, "cli sample of a 2^20-unit model, -n 50: peak resident size %.0f MiB, bound 160 MiB "
          "(64 MiB of chains + the model: 16 MiB file, weights and gradients)", kib / 1024.0);
    printf("  cli: ncsn sample -n 50 of a 2^20-unit model: peak resident size %.0f MiB\n", kib / 1024.0);
    remove(path);
}

/* overwrite the first float of tensor `name` of a safetensors file of the test directory */
static int tl_poke_tensor(const char *file, const char *name, float v)
{
    char p[1024], key[96];
    size_t len, h = 0;
    unsigned char *b = tl_slurp(file, &len);
    const char *at;
    unsigned long begin = 0, end = 0;
    int i, ok = 0;
    FILE *fp;
    if (!b || len < 8) { free(b); return 0; }
    for (i = 7; i >= 0; i--) h = (h << 8) | b[i];
    snprintf(key, sizeof key, "\"%s\":", name);
    at = h <= len - 8 ? tl_memstr((const char *)b + 8, h, key) : NULL;
    at = at ? strstr(at, "\"data_offsets\":[") : NULL;
    if (at && sscanf(at, "\"data_offsets\":[%lu,%lu]", &begin, &end) == 2 && end >= begin + 4 && 8 + h + end <= len) {
        memcpy(b + 8 + h + begin, &v, 4);   /* little-endian hosts (as the suite's golden files) */
        snprintf(p, sizeof p, "%s/%s", tl_dir, file);
        if ((fp = fopen(p, "wb")) != NULL) { ok = fwrite(b, 1, len, fp) == len; ok &= fclose(fp) == 0; }
    }
    free(b);
    return ok;
}

/* the trainer's fields of a model file are untrusted: a scale of 3e38 (finite, > 0) sends samples
   to infinity, which are left out (they were printed, rows of inf); a safetensors loader refuses
   /dev/zero from its first 8 bytes (it read 2 GiB first), and a model or CSV followed by zeros
   where the file ends; score writes nothing when a score is not
   finite (it wrote the inf rows, then exit 3); -o naming a symbolic link replaces the link with
   the new file and leaves its target untouched, as every atomic save does (docs/reliability.md) */
static void tl_hostile(void)
{
    struct stat sb;
    char tgt[64];
    int rc;
    rc = tl_run("train data.csv -o hs.st %s", tl_tiny);
    EXPECT(rc, 0, (const char *)NULL, "train for the hostile files");
    CHECK(tl_poke_tensor("hs.st", "data.scale", 3e38f), "cli: cannot edit hs.st");
    rc = tl_run("sample hs.st -n 300 --steps-per-level 2 -q --threads 1");
    CHECK(rc == 3 && !strstr(tl_out, "inf") && !strstr(tl_out, "nan") && strstr(tl_err, "diverged"),
          "cli sample with data.scale 3e38: exit %d (want 3), %d rows%s, '%.200s'", rc, tl_lines(tl_out), strstr(tl_out, "inf") ? " with inf" : "", tl_err);
    rc = tl_run("info /dev/zero");
    EXPECT(rc, 2, "announce a header of 0 bytes", "info /dev/zero");
    /* a valid file and then endless bytes: refused where the file ends (it read 2 GiB first) */
    rc = tl_sh("{ cat hs.st; head -c 20000000 /dev/zero; } | \"$N\" info /dev/stdin");
    EXPECT(rc, 2, "bytes its header declares (trailing bytes)", "info of a model and then zeros");
    rc = tl_sh("{ cat data.csv; head -c 20000000 /dev/zero; } | \"$N\" train - -o z.st %s", tl_tiny);
    EXPECT(rc, 2, "has a NUL byte", "train on CSV and then zeros");
    rc = tl_sh("printf '0,0\\n1,1\\n' | \"$N\" score hs.st --sigma 1e-45");
    CHECK(rc == 3 && tl_out[0] == 0 && strstr(tl_err, "no scores written"), "cli score at sigma 1e-45: exit %d (want 3), stdout '%.100s', '%.200s'", rc,
          tl_out, tl_err);
    tl_write("target.txt", "keep", 4);
    rc = tl_sh("rm -f link.st && ln -s target.txt link.st && \"$N\" train data.csv -o link.st %s", tl_tiny);
    tl_read("target.txt", tgt, sizeof tgt);
    {
        char lp[1024];
        snprintf(lp, sizeof lp, "%s/link.st", tl_dir);
        CHECK(rc == 0 && lstat(lp, &sb) == 0 && S_ISREG(sb.st_mode) && strncmp(tgt, "keep", 4) == 0,
              "cli -o a symbolic link: exit %d; the link is %s, its target '%.4s' (want: replaced by the model, target untouched)", rc,
              lstat(lp, &sb) == 0 && S_ISREG(sb.st_mode) ? "a file" : "still a link", tgt);
    }
}

static void tl_commands(void)
{
    int rc, i;
    char ckpt_path[1024];
    /* help and usage */
    rc = tl_run("--help");
    CHECK(rc == 0 && strstr(tl_out, "exit codes") && strstr(tl_out, "train"), "cli --help: exit %d", rc);
    rc = tl_run("");
    EXPECT(rc, 1, "usage", "no command");
    rc = tl_run("frobnicate");
    EXPECT(rc, 1, "unknown command 'frobnicate'", "unknown command");
    rc = tl_run("--version");
    CHECK(rc == 0 && strstr(tl_out, NCSN_VERSION_STRING), "cli --version: exit %d", rc);
    rc = tl_run("selftest");
    CHECK(rc == 0 && strstr(tl_out, "ncsn selftest: ok"), "cli selftest: exit %d: %s%s", rc, tl_out, tl_err);
    rc = tl_run("selftest now");
    EXPECT(rc, 1, "unexpected argument 'now'", "selftest with an argument");
    {
        static const char *const cmds[] = { "train", "sample", "score", "info", "selftest" };
        for (i = 0; i < 5; i++) {
            rc = tl_run("%s --help", cmds[i]);
            CHECK(rc == 0 && strstr(tl_out, "usage: ncsn") && strstr(tl_out, cmds[i]), "cli %s --help: exit %d", cmds[i], rc);
            rc = tl_run("help %s", cmds[i]);
            CHECK(rc == 0 && strstr(tl_out, cmds[i]), "cli help %s: exit %d", cmds[i], rc);
        }
    }
    /* bad arguments: exit 1, the message names the option and the value */
    rc = tl_run("train");
    EXPECT(rc, 1, "no data file", "train without data");
    rc = tl_run("train data.csv");
    EXPECT(rc, 1, "no output file", "train without -o");
    rc = tl_run("train data.csv -o m.st --steps 0");
    EXPECT(rc, 1, "--steps = 0 must be in [1,", "--steps 0");
    {   /* every --steps accepted can be checkpointed: with a 32-bit long, --steps up to LONG_MAX was
           accepted, and the run failed at its first checkpoint past NCSN_MAX_STEP = 2^30 (exit 1) */
        char want[96];
        const char *hi;
        rc = tl_run("train missing.csv -o m.st --steps %ld", (long)NCSN_MAX_STEP + 1);
        snprintf(want, sizeof want, "--steps = %ld must be in [1, ", (long)NCSN_MAX_STEP + 1);
        EXPECT(rc, 1, want, "--steps NCSN_MAX_STEP + 1");
        hi = strstr(tl_err, want);
        CHECK(hi && atol(hi + strlen(want)) <= NCSN_MAX_STEP, "cli: --steps accepts more than a checkpoint holds (%ld): %s", (long)NCSN_MAX_STEP, tl_err);
    }
    rc = tl_run("train data.csv -o m.st --steps ten");
    EXPECT(rc, 1, "--steps = 'ten' is not an integer", "--steps ten");
    rc = tl_run("sample model.safetensors -n 99999999999999999999");
    EXPECT(rc, 1, "-n = '99999999999999999999' must be in [1, ", "sample -n beyond long");   /* said: not an integer */
    rc = tl_run("train data.csv -o m.st --lr -1");
    EXPECT(rc, 1, "--lr = -1 must be in (0,", "--lr -1");
    rc = tl_run("train data.csv -o m.st --lr nan");
    EXPECT(rc, 1, "--lr = 'nan' is not a finite float", "--lr nan");
    rc = tl_run("train data.csv -o m.st --batch");
    EXPECT(rc, 1, "--batch needs a value", "--batch without a value");
    rc = tl_run("train data.csv -o m.st --levels 1");
    EXPECT(rc, 1, "--levels = 1 must be in [2,", "--levels 1");
    rc = tl_run("train data.csv -o m.st --sigma-max 0.001 --sigma-min 0.01");
    EXPECT(rc, 1, "--sigma-max = 0.001 must be > --sigma-min = 0.01", "sigma-max < sigma-min");
    rc = tl_run("train data.csv -o m.st --embed 5");
    EXPECT(rc, 1, "--embed = 5 must be 0 or even", "--embed 5");
    rc = tl_run("train data.csv -o m.st --depth 17");
    EXPECT(rc, 1, "--depth = 17 must be in [1, 16]", "--depth 17");
    rc = tl_run("train data.csv -o m.st --weighting sigma3");
    EXPECT(rc, 1, "--weighting = 'sigma3' is not one of: one, sigma2, inv_sigma2", "--weighting sigma3");
    rc = tl_run("train data.csv -o m.st --frobnicate 3");
    EXPECT(rc, 1, "unknown option '--frobnicate'", "unknown option");
    rc = tl_run("train data.csv other.csv -o m.st");
    EXPECT(rc, 1, "unexpected argument 'other.csv'", "two data files");
    rc = tl_run("sample");
    EXPECT(rc, 1, "no model file", "sample without a model");
    rc = tl_run("score m.st");
    EXPECT(rc, 1, "exactly one of --sigma", "score without --sigma");
    /* bad files: exit 2 with file:line:column */
    rc = tl_run("train missing.csv -o m.st");
    EXPECT(rc, 2, "cannot open 'missing.csv'", "missing data file");
    tl_write("empty.csv", "", 0);
    rc = tl_run("train empty.csv -o m.st");
    EXPECT(rc, 2, "empty.csv: no data rows", "empty data file");
    tl_write("bad.csv", "x,y\n1,2\n3,4\n5,abc\n", 18);
    rc = tl_run("train bad.csv -o m.st");
    EXPECT(rc, 2, "bad.csv:4:2: 'abc' is not a number", "text in the data");
    tl_write("nan.csv", "1,2\n3,NaN\n", 10);
    rc = tl_run("train nan.csv -o m.st");
    EXPECT(rc, 2, "nan.csv:2:2: 'NaN' is not a finite float", "NaN in the data");
    tl_write("ragged.csv", "1,2\n3,4,5\n", 10);
    rc = tl_run("train ragged.csv -o m.st");
    EXPECT(rc, 2, "ragged.csv:2: more than 2 columns", "ragged data");
    tl_write("bin.csv", "\x7f" "ELF\x02\x01\x01\0\0\0", 10);
    rc = tl_run("train bin.csv -o m.st");
    EXPECT(rc, 2, "NUL byte", "binary data file");
    tl_write("u16.csv", "\xff\xfe" "a\0,\0b\0\n\0" "1\0,\0" "2\0\n\0", 18);   /* Excel's "Unicode text" */
    EXPECT(tl_run("train u16.csv -o m.st"), 2, "'u16.csv' is UTF-16 text, not UTF-8: save it as UTF-8", "UTF-16 data file");
    tl_write("u16n.csv", "a\0,\0b\0\n\0", 8);   /* no byte-order mark */
    EXPECT(tl_run("train u16n.csv -o m.st"), 2, "is UTF-16 text, not UTF-8", "UTF-16 data file without a byte-order mark");
    tl_write("digits.csv.gz", "\x1f\x8b\x08\x08\0\0\0\0\0\x03", 10);   /* as sklearn ships its data files */
    rc = tl_run("train digits.csv.gz -o m.st");
    EXPECT(rc, 2, "is gzip-compressed, not text: decompress it first (gzip -dc FILE)", "gzip-compressed data file");
    {   /* a constant column (0.11.0): its samples spread around the value a little (1e-6 +- 1e-4
           with the defaults); ncsn train notes it, the model file lists it, ncsn sample writes it */
        char text[4096];
        size_t q = (size_t)snprintf(text, sizeof text, "a,k,b\n");
        unsigned char *b;
        size_t len = 0, k;
        int i, rows = 0, exact = 0;
        ncsn_rng g;
        ncsn_rng_seed(&g, 11, 1);
        for (i = 0; i < 60; i++) q += (size_t)snprintf(text + q, sizeof text - q, "%.5f,1e-06,%.5f\n", (double)ncsn_rng_normal(&g), (double)ncsn_rng_normal(&g));
        tl_write("const.csv", text, q);
        rc = tl_run("train const.csv -o const.st --steps 200 --threads 1 --progress none");
        EXPECT(rc, 0, "note: column 2 of the data trained on holds one value, 9.99999997e-07: ncsn sample writes it exactly", "a constant column");
        rc = tl_run("sample const.st -n 50 --threads 1 -q");
        for (i = 0, q = 0; rc == 0 && tl_out[q]; i++) {   /* the second field of every line */
            const char *l = tl_out + q, *c1 = strchr(l, ','), *e = strchr(l, '\n');
            if (!e) break;
            rows++;
            exact += c1 && c1 < e && !strncmp(c1 + 1, "9.99999997e-07,", 15);
            q = (size_t)(e - tl_out) + 1;
        }
        CHECK(rc == 0 && rows == 50 && exact == 50, "cli sample of a constant column: exit %d, %d of %d rows hold it exactly: %.300s", rc, exact, rows, tl_out);
        b = tl_slurp("const.st", &len);   /* cli.constant "2" forged to "4" (3 columns) */
        for (k = 0; b && k + 17 <= len; k++)
            if (!memcmp(b + k, "\"cli.constant\":\"2", 16)) { b[k + 16] = '4'; break; }
        CHECK(b && k + 17 <= len, "cli: no cli.constant \"2\" in the model file");
        if (b) tl_write("const_x.st", (const char *)b, len);
        free(b);
        EXPECT(tl_run("sample const_x.st -n 5"), 2, "its metadata cli.constant is not one ncsn train writes (increasing column numbers in 1..3,",
               "a model whose cli.constant names column 4 of 3");
    }
    tl_write("same.csv", "1,1\n1,1\n1,1\n", 12);
    rc = tl_run("train same.csv -o m.st");
    EXPECT(rc, 2, "largest pairwise distance 0", "identical points");
    snprintf(ckpt_path, sizeof ckpt_path, "%s/m.st", tl_dir);
    CHECK(access(ckpt_path, F_OK) != 0, "cli: a failed run wrote a model");

    /* train -> info -> sample -> score */
    tl_data();
    rc = tl_run("train data.csv -o model.safetensors --steps 300 --checkpoint-every 100 --constant-lr %s", tl_small);
    EXPECT(rc, 0, "ncsn train: check, 200 samples: nearest data point: samples' median", "train (and its check)");
    rc = tl_run("info model.safetensors");
    CHECK(rc == 0 && strstr(tl_out, "network: dim 2, embed conditioning (E = 64), hidden 16 16") && strstr(tl_out, "noise levels: 11") &&
          strstr(tl_out, "ncsn.step: 300") && strstr(tl_out, "cli.columns: x,y"), "cli info: exit %d: %s", rc, tl_out);
    rc = tl_run("info model.safetensors.ckpt");
    CHECK(rc == 0 && strstr(tl_out, "ncsn.kind: checkpoint") && strstr(tl_out, "ncsn.adam.step: 300"), "cli info of the checkpoint: %s", tl_out);
    {   /* a model conditioned on ln sigma says so */
        ncsn_config c = ncsn_config_default(2);
        ncsn_model *m = NULL;
        ncsn_rng r;
        char path[1200];
        snprintf(path, sizeof path, "%s/logsigma.safetensors", tl_dir);
        ncsn_rng_seed(&r, 3, 3);
        CHECK(ncsn_model_create(&m, &c) == NCSN_OK && ncsn_model_init(m, &r) == NCSN_OK && ncsn_model_save(m, path) == NCSN_OK,
              "cli: saving a ln-sigma model: %s", ncsn_last_error());
        ncsn_model_free(m);
        rc = tl_run("info logsigma.safetensors");
        CHECK(rc == 0 && strstr(tl_out, "network: dim 2, concat conditioning on ln sigma, hidden 128 128 128, silu, s = net/sigma"),
              "cli info of a ln-sigma model: exit %d: %s", rc, tl_out);
    }
    rc = tl_run("sample model.safetensors -n 40 --steps-per-level 10 --seed 5");
    CHECK(rc == 0 && tl_lines(tl_out) == 40, "cli sample: exit %d, %d lines: %s", rc, tl_lines(tl_out), tl_err);
    {
        float *d = NULL;
        int n = 0, dim = 0;
        CHECK(ncsn_csv_parse(tl_out, strlen(tl_out), NULL, &d, &n, &dim, NULL, 0) == NCSN_OK && n == 40 && dim == 2,
              "cli sample: output is not 40 x 2 CSV: %s", ncsn_last_error());
        ncsn_free(d);
    }
    {   /* the same seed gives the same samples */
        char first[4096];
        { size_t n_ = strlen(tl_out); if (n_ > sizeof first - 1) n_ = sizeof first - 1; memcpy(first, tl_out, n_); first[n_] = 0; }
        rc = tl_run("sample model.safetensors -n 40 --steps-per-level 10 --seed 5 --threads 3");
        CHECK(rc == 0 && strcmp(first, tl_out) == 0, "cli sample: a second run (3 threads) gives other samples");
    }
    rc = tl_run("sample model.safetensors -n 3 --steps-per-level 2 --header");
    CHECK(rc == 0 && strncmp(tl_out, "x,y\n", 4) == 0 && tl_lines(tl_out) == 4, "cli sample --header: %s", tl_out);
    tl_write("points.csv", "x,y\n0,0\n3,0.5\n-3,-0.25\n", 23);
    rc = tl_run("score model.safetensors --sigma 0.5 < points.csv");
    CHECK(rc == 0 && tl_lines(tl_out) == 3, "cli score: exit %d: %s%s", rc, tl_out, tl_err);
    {
        char first[4096], lvl[4096];
        { size_t n_ = strlen(tl_out); if (n_ > sizeof first - 1) n_ = sizeof first - 1; memcpy(first, tl_out, n_); first[n_] = 0; }
        rc = tl_run("score model.safetensors --level 10 --input points.csv");
        CHECK(rc == 0 && tl_lines(tl_out) == 3 && strcmp(first, tl_out) != 0, "cli score --level 10 --input: %s", tl_err);
        { size_t n_ = strlen(tl_out); if (n_ > sizeof lvl - 1) n_ = sizeof lvl - 1; memcpy(lvl, tl_out, n_); lvl[n_] = 0; }
        rc = tl_run("score model.safetensors --sigma 0.01 --input points.csv");
        CHECK(rc == 0 && strcmp(lvl, tl_out) == 0, "cli score: --sigma 0.01 must equal --level 10 (sigma_L = 0.01)");
    }
    tl_write("points3.csv", "1,2,3\n", 6);
    rc = tl_run("score model.safetensors --sigma 0.5 --input points3.csv");
    EXPECT(rc, 2, "the points have 3 columns, the model's dimension is 2", "score with 3 columns");
    {   /* points as R's write.csv writes them: the row names named, and --columns as for train */
        char plain[4096];
        rc = tl_run("score model.safetensors --sigma 0.5 --input points.csv");
        tl_copy_out(plain, sizeof plain);
        tl_put("rpoints.csv", "\"\",\"x\",\"y\"\n\"1\",0,0\n\"2\",3,0.5\n\"3\",-3,-0.25\n");
        rc = tl_run("score model.safetensors --sigma 0.5 --input rpoints.csv");
        EXPECT(rc, 2, "column 1 has no name", "score of R's write.csv points");   /* said "1:1: empty field" */
        rc = tl_run("score model.safetensors --sigma 0.5 --input rpoints.csv --columns x,y");
        CHECK(rc == 0 && strcmp(plain, tl_out) == 0, "cli score --columns x,y: exit %d, '%s' (want '%s') %s", rc, tl_out, plain, tl_err);
    }
    rc = tl_run("score model.safetensors --level 11 --input points.csv");
    EXPECT(rc, 1, "--level = 11, but 'model.safetensors' has 11 noise levels", "score --level 11");
    rc = tl_run("sample data.csv -n 3");
    EXPECT(rc, 2, "data.csv", "sample from a CSV file");
    {
        size_t len;
        unsigned char *m = tl_slurp("model.safetensors", &len);
        if (m) tl_write("trunc.safetensors", (const char *)m, len / 2);
        free(m);
    }
    rc = tl_run("sample trunc.safetensors -n 3");
    EXPECT(rc, 2, "trunc.safetensors", "sample from a truncated model");
    {   /* every noise level 3.4e38: sampling printed identical rows near 1e34 with exit 0; now refused, naming file and level */
        size_t len;
        unsigned char *m = tl_slurp("model.safetensors", &len);
        uint64_t hl = 0;
        int k;
        const char *se;
        unsigned long long b0 = 0, e0 = 0;
        for (k = 7; m && len > 8 && k >= 0; k--) hl = (hl << 8) | m[k];
        se = m && hl < len ? tl_memstr((const char *)m + 8, (size_t)hl, "\"sigmas\"") : NULL;
        if (se && (se = tl_memstr(se, (size_t)((const char *)m + 8 + hl - se), "data_offsets\":[")) != NULL &&
            sscanf(se + 15, "%llu,%llu", &b0, &e0) == 2 && e0 <= len - 8 - hl) {
            unsigned long long q;
            for (q = b0; q < e0; q += 4) { unsigned char *p = m + 8 + hl + q; p[0] = 0x9e; p[1] = 0xc9; p[2] = 0x7f; p[3] = 0x7f; }
            tl_write("huge_levels.safetensors", (const char *)m, len);
            rc = tl_run("sample huge_levels.safetensors -n 3 --steps-per-level 2");
            CHECK(rc == 2 && strstr(tl_err, "huge_levels.safetensors") && strstr(tl_err, "tensor sigmas[1] = 3.4") && tl_out[0] == 0,
                  "cli sample with every level 3.4e38: exit %d, stdout '%.80s', stderr '%.300s' (want exit 2 naming the file and sigmas[1])",
                  rc, tl_out, tl_err);
        } else CHECK(0, "cli: no sigmas tensor in model.safetensors");
        free(m);
    }
    rc = tl_run("info missing.safetensors");
    EXPECT(rc, 2, "cannot open 'missing.safetensors'", "info of a missing file");

    /* resume: stop at 150 (a run of --steps 150 at a constant rate), resume to 300: the same model
       bits as one run of 300 */
    rc = tl_run("train data.csv -o half.safetensors --steps 150 --checkpoint-every 50 --checkpoint resume.ckpt --constant-lr %s", tl_small);
    EXPECT(rc, 0, (const char *)NULL, "train 150");
    /* the checkpoint from a pipe (--resume -) first: resuming from the file rewrites it */
    rc = tl_sh("cat resume.ckpt | \"$N\" train data.csv --resume - --steps 300 -o resumed_pipe.safetensors --progress none");
    CHECK(rc == 0 && tl_same_data("model.safetensors", "resumed_pipe.safetensors"), "cli resume - (a pipe): exit %d, or another model: %s", rc, tl_err);
    rc = tl_sh("cat resume.ckpt | \"$N\" train - --resume - -o x.safetensors");
    EXPECT(rc, 1, "cannot both be stdin", "the data and --resume both on stdin");
    rc = tl_run("train data.csv --resume resume.ckpt --steps 300 -o resumed.safetensors --progress none");
    EXPECT(rc, 0, (const char *)NULL, "resume to 300");
    CHECK(tl_same_data("model.safetensors", "resumed.safetensors"), "cli resume: the resumed model differs from the uninterrupted one");
    rc = tl_run("train data.csv --resume resume.ckpt --batch 32 -o x.safetensors");
    EXPECT(rc, 1, "--batch 32 differs from the checkpoint's 64", "resume with another batch");
    rc = tl_run("train data.csv --resume resume.ckpt --lr 0.5 -o x.safetensors");
    EXPECT(rc, 1, "--lr 0.5 differs from the checkpoint's 0.001", "resume with another lr");
    rc = tl_run("train points.csv --resume resume.ckpt -o x.safetensors");
    EXPECT(rc, 2, "is not the data the checkpoint was trained on", "resume on other data");
    rc = tl_run("train data.csv --resume model.safetensors -o x.safetensors");
    EXPECT(rc, 2, "not a checkpoint", "resume from a model file");
    tl_resume_other_dim();
    tl_resume_bad_dim();
    tl_resume_decay();
    tl_wide_recipe();
    tl_sample_memory();

    tl_pipes();
    tl_output_links();
    tl_outputs();
    tl_sample_output();
    tl_truth();
    tl_exported();
    tl_hostile();

    /* progress: a live line on a terminal, periodic lines otherwise */
    rc = tl_run("train data.csv -o p.safetensors --steps 40 --checkpoint-every 0 --width 8 --depth 1 --progress plain --log-every 10");
    CHECK(rc == 0 && strstr(tl_err, "step 10/40 loss ") && strstr(tl_err, "step 40/40 loss ") && strstr(tl_err, "steps/s ETA") &&
          !strchr(tl_err, '\r'), "cli plain progress: %s", tl_err);
    rc = tl_run("train data.csv -o p.safetensors --steps 40 --checkpoint-every 0 --width 8 --depth 1 --progress tty");
    CHECK(rc == 0 && strchr(tl_err, '\r') && strstr(tl_err, "steps/s  ETA"), "cli tty progress: %s", tl_err);

    /* numerical failure: exit 3 naming the step and the tensor; the last checkpoint stays and loads */
    rc = tl_run("train data.csv -o nan.safetensors --steps 50 --lr 1e30 --checkpoint-every 1 --checkpoint nan.ckpt %s", tl_small);
    EXPECT(rc, 3, "numerical failure at step ", "training with lr 1e30");
    snprintf(ckpt_path, sizeof ckpt_path, "%s/nan.safetensors", tl_dir);
    CHECK(access(ckpt_path, F_OK) != 0, "cli: a failed training wrote its model");
    snprintf(ckpt_path, sizeof ckpt_path, "%s/nan.ckpt", tl_dir);
    {
        ncsn_model *m = NULL;
        long step = -1, fail_step = -1;
        const char *s = strstr(tl_err, "at step ");
        if (s) fail_step = atol(s + 8);
        if (access(ckpt_path, F_OK) == 0) {
            CHECK(ncsn_checkpoint_load(&m, ckpt_path, NULL, NULL, NULL, 0, NULL, &step) == NCSN_OK && step == fail_step - 1,
                  "cli: after the failure at step %ld the checkpoint (step %ld) must load: %s", fail_step, step, ncsn_last_error());
        } else CHECK(fail_step == 1, "cli: no checkpoint although the failure was at step %ld", fail_step);
        ncsn_model_free(m);
    }

#if defined(__linux__) || defined(__APPLE__)
    for (i = 0; i < 2; i++) {   /* Ctrl-C (SIGINT) and SIGTERM: exit 130 / 143 and a loadable checkpoint written on the way out */
        const int sig = i ? SIGTERM : SIGINT, want = i ? 143 : 130;
        pid_t pid;
        int status = 0, code = -1, waited;
        char data_path[1024], out_path[1024], ck[1024], log_path[1024];
        struct timespec ts = { 0, 150 * 1000000L };
        snprintf(data_path, sizeof data_path, "%s/data.csv", tl_dir);
        snprintf(out_path, sizeof out_path, "%s/int.safetensors", tl_dir);
        snprintf(ck, sizeof ck, "%s/int.ckpt", tl_dir);
        snprintf(log_path, sizeof log_path, "%s/int.log", tl_dir);
        remove(log_path);   /* the previous run's "step 2/" must not count */
        fflush(stdout);
        pid = fork();
        CHECK(pid >= 0, "cli Ctrl-C: fork failed");
        if (pid == 0) {
            int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) { dup2(fd, 2); dup2(fd, 1); }
            execl(tl_bin, "ncsn", "train", data_path, "-o", out_path, "--checkpoint", ck, "--steps", "100000000", "--width", "16", "--depth",
                  "2", "--levels", "5", "--batch", "64", "--seed", "3", "--checkpoint-every", "1000000", "--progress", "plain",
                  "--log-every", "1", (char *)NULL);
            _exit(127);
        }
        for (waited = 0; pid > 0 && waited < 600; waited++) {   /* until it trains (its signal handlers are then in place), at most 90 s */
            tl_read("int.log", tl_err, sizeof tl_err);
            if (strstr(tl_err, "step 2/")) break;
            nanosleep(&ts, NULL);
        }
        if (pid > 0) {   /* never kill(-1, ...) */
            kill(pid, sig);
            waitpid(pid, &status, 0);
            code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        CHECK(code == want, "cli signal %d: exit %d, want %d", sig, code, want);
        {
            ncsn_model *m = NULL;
            long step = 0;
            CHECK(ncsn_checkpoint_load(&m, ck, NULL, NULL, NULL, 0, NULL, &step) == NCSN_OK && step > 0,
                  "cli signal %d: no loadable checkpoint: %s", sig, ncsn_last_error());
            ncsn_model_free(m);
        }
        remove(ck);
    }
#endif
}
#endif

/* ncsn compare: fresh draws pass, copies of the data are called memorisation, one point repeated
   is not (it is far from the data) and is further from it than a fitted Gaussian; samples beyond
   float range exit 3, bad arguments 1, a bad file 2 (its hint naming the option for that file) */
static void tl_compare_file(const char *name, const float *x, int n, float jitter, ncsn_rng *g)
{
    static char text[64000];
    size_t q = 0;
    int i;
    for (i = 0; i < n; i++)
        q += (size_t)sprintf(text + q, "%.9g,%.9g\n", (double)(x[2 * i] + jitter * ncsn_rng_normal(g)),
                             (double)(x[2 * i + 1] + jitter * ncsn_rng_normal(g)));
    tl_write(name, text, q);
}

/* the model's smallest level and its cli.sigma_min_rule ("" if none) */
static float tl_sigma_min(const char *name, char *rule, size_t cap)
{
    char path[1024];
    float sig[NCSN_MAX_LEVELS];
    int L = 0;
    ncsn_model *m = NULL;
    snprintf(path, sizeof path, "%s/%s", tl_dir, name);
    if (ncsn_file_meta(path, "cli.sigma_min_rule", rule, cap) != NCSN_OK) rule[0] = 0;
    if (ncsn_checkpoint_load(&m, path, NULL, NULL, sig, NCSN_MAX_LEVELS, &L, NULL) != NCSN_OK || L < 1) return -1.0f;
    ncsn_model_free(m);
    return sig[L - 1];
}

/* few_p.ckpt, a first run's checkpoint (rule "pending"), resumed with --sigma-min or --levels keeps
   the first run as a fresh run with them does; its rule changed to a value ncsn train does not write
   is refused (exit 2), as every other cli.* key */
static void tl_rule_forged(void)
{
    size_t len = 0, k;
    unsigned char *b = tl_slurp("few_p.ckpt", &len);
    char rule[256];
    int rc;
    rc = tl_run("train cmp_few.csv --resume few_p.ckpt -o few_k.st --checkpoint few_k.ckpt --threads 1 --progress none --sigma-min 0.01");
    CHECK(rc == 0 && !strstr(tl_err, "training again") && tl_sigma_min("few_k.st", rule, sizeof rule) == 0.01f && rule[0] == 0,
          "cli resume of a pending checkpoint with --sigma-min: exit %d, rule '%s': %.400s", rc, rule, tl_err);
    for (k = 0; b && k + 7 <= len; k++)
        if (!memcmp(b + k, "pending", 7)) { b[k + 6] = 'x'; break; }   /* the same length: the header stays valid JSON */
    CHECK(b && k + 7 <= len, "cli: no rule 'pending' in the first run's checkpoint");
    if (b) {
        tl_write("few_x.ckpt", (const char *)b, len);
        EXPECT(tl_run("train cmp_few.csv --resume few_x.ckpt -o few_x.st --threads 1 --progress none"), 2, "cli.sigma_min_rule is not one ncsn train writes",
               "resume of a checkpoint whose rule was changed to 'pendinx'");
    }
    free(b);
}

/* train's check on 12 points in 6-D (its model copies them, ratio under 0.6; the run before this
   wrote few.st) trains again with sigma_min from the data's spacing: said on stderr, written in the
   file's metadata and levels; the same bits under -q and after a resume of either run's checkpoint;
   none with --sigma-min or --no-check */
static void tl_retrain(void)
{
    char rule[256], want[64], a[1024], b[1024];
    int rc;
    const char *q = strstr(tl_err, "training again with sigma_min ");
    float s_first, s;
    CHECK(q != NULL && strstr(tl_err, "(under 0.6: the network learned its points)"), "cli train: no second run after copies: %.600s", tl_err);
    s_first = q ? (float)atof(q + 30) : 0.0f;
    s = tl_sigma_min("few.st", rule, sizeof rule);
    snprintf(want, sizeof want, "spacing %.9g:", (double)s);
    CHECK(s > 0.1f && s < 2.0f && fabsf(s - s_first) <= 1e-3f * s && !strncmp(rule, want, strlen(want)),
          "cli train's second run: sigma_min %g (said %g), rule '%s'", (double)s, (double)s_first, rule);
    {   /* the second check: no longer copies of 12 points far apart (0.08 -> 0.54 when written) */
        const char *r = strstr(q ? q : tl_err, "check, 12 samples: nearest data point:");
        r = r ? strstr(r, "(ratio ") : NULL;
        CHECK(r && atof(r + 7) >= 0.5 && !strstr(q, "memorisation"), "cli train's second check: %.600s", q ? q : tl_err);
    }
    EXPECT(tl_run("train cmp_few.csv -o few_q.st --steps 8000 --threads 2 -q"), 0, NULL, "train -q of the 12 points");
    CHECK(tl_err[0] == 0 && tl_same_data("few.st", "few_q.st"), "cli train -q: not the same model as without -q (stderr '%.200s')", tl_err);
    EXPECT(tl_run("train cmp_few.csv -o few_r.st --resume few.st.ckpt --progress none"), 0, NULL, "resume of the second run's checkpoint");
    CHECK(!strstr(tl_err, "training again") && tl_same_data("few.st", "few_r.st"), "cli resume of the second run: %.300s", tl_err);
    EXPECT(tl_run("train cmp_few.csv -o few_s.st --steps 8000 --threads 1 --progress none --sigma-min 0.01"), 0, "memorisation", "train --sigma-min 0.01");
    CHECK(!strstr(tl_err, "training again") && tl_sigma_min("few_s.st", rule, sizeof rule) == 0.01f && rule[0] == 0,
          "cli train --sigma-min: a second run, or a rule '%s': %.300s", rule, tl_err);
    EXPECT(tl_run("train cmp_few.csv -o few_n.st --steps 8000 --threads 1 --progress none --no-check"), 0, NULL, "train --no-check of the 12 points");
    CHECK(!strstr(tl_err, "training again") && tl_sigma_min("few_n.st", rule, sizeof rule) == 0.01f && rule[0] == 0 && tl_same_data("few_n.st", "few_s.st"),
          "cli train --no-check: not the first run's model: %.300s", tl_err);
#if defined(__linux__) || defined(__APPLE__)
    {   /* SIGINT in the first run: its checkpoint says "pending", and the resumed run trains again as the uninterrupted one did */
        pid_t pid;
        int status = 0, waited;
        struct timespec ts = { 0, 20 * 1000000L };
        snprintf(a, sizeof a, "%s/cmp_few.csv", tl_dir);
        snprintf(b, sizeof b, "%s/few_i.st", tl_dir);
        tl_put("few_i.log", "");   /* the earlier run's "step 10/" must not count */
        fflush(stdout);
        pid = fork();
        CHECK(pid >= 0, "cli retrain SIGINT: fork failed");
        if (pid == 0) {
            char log[1024];
            int fd;
            snprintf(log, sizeof log, "%s/few_i.log", tl_dir);
            fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) { dup2(fd, 2); dup2(fd, 1); }
            execl(tl_bin, "ncsn", "train", a, "-o", b, "--steps", "8000", "--threads", "1", "--progress", "plain", "--log-every", "10",
                  "--checkpoint-every", "1000000", (char *)NULL);
            _exit(127);
        }
        for (waited = 0; pid > 0 && waited < 3000; waited++) {   /* until it trains, at most 60 s */
            tl_read("few_i.log", tl_err, sizeof tl_err);
            if (strstr(tl_err, "step 10/")) break;
            nanosleep(&ts, NULL);
        }
        if (pid > 0) { kill(pid, SIGINT); waitpid(pid, &status, 0); }
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 130, "cli retrain SIGINT: status 0x%x", status);
        CHECK(tl_sigma_min("few_i.st.ckpt", rule, sizeof rule) == 0.01f && !strcmp(rule, "pending"), "cli retrain SIGINT: the checkpoint's rule '%s'", rule);
        tl_sh("cp few_i.st.ckpt few_p.ckpt");
        rc = tl_run("train cmp_few.csv --resume few_i.st.ckpt -o few_i.st --threads 1 --progress none");
        CHECK(rc == 0 && strstr(tl_err, "training again with sigma_min"), "cli resume of the first run's checkpoint: exit %d: %.1500s", rc, tl_err);
        CHECK(tl_same_data("few.st", "few_i.st"), "cli retrain: the resumed run's model is not the uninterrupted run's");
        tl_rule_forged();
    }
#endif
}

static void tl_compare(void)
{
    static float d[400 * 2], f[400 * 2], same[400 * 2], dup[100 * 2];   /* same: 400 times the point (0, 0) */
    ncsn_rng g;
    int rc, i;
    ncsn_rng_seed(&g, 5, 1);
    ncsn_data_two_gaussians(&g, d, 400);
    ncsn_data_two_gaussians(&g, f, 400);
    tl_compare_file("cmp_data.csv", d, 400, 0.0f, &g);
    tl_compare_file("cmp_fresh.csv", f, 400, 0.0f, &g);
    tl_compare_file("cmp_copies.csv", d, 400, 1e-3f, &g);
    tl_compare_file("cmp_blurred.csv", f, 400, 1.0f, &g);   /* fresh draws blurred by N(0, 1): the modes are 0.5 wide */
    tl_compare_file("cmp_same.csv", same, 400, 0.0f, &g);
    tl_compare_file("cmp_point.csv", same, 1, 0.0f, &g);
    for (i = 0; i < 100; i++) { dup[2 * i] = d[2 * (i % 20)]; dup[2 * i + 1] = d[2 * (i % 20) + 1]; }   /* 20 rows, 5 times each */
    {   /* its own stream: g's draws after this make the 12 points below */
        ncsn_rng g2;
        ncsn_rng_seed(&g2, 6, 1);
        tl_compare_file("cmp_dup.csv", dup, 100, 0.0f, &g2);
        tl_compare_file("cmp_dup_copies.csv", dup, 100, 1e-3f, &g2);
    }
    tl_put("cmp_huge.csv", "1,0\n0,-3e38\n");   /* y: scale about 0.5, so -6e38 standardised */
    tl_put("cmp_rownames.csv", "\"\",\"x\",\"y\"\n\"1\",1,2\n\"2\",3,4\n");
    rc = tl_run("compare cmp_data.csv cmp_fresh.csv");
    CHECK(rc == 0 && strstr(tl_out, "nearest data point") && strstr(tl_out, "(samples / Gaussian 0.") && !strstr(tl_out, "note:"),
          "cli compare of fresh draws: exit %d, no note and a ratio below 1 wanted: %.600s %.200s", rc, tl_out, tl_err);
    rc = tl_run("compare cmp_data.csv cmp_copies.csv");
    CHECK(rc == 0 && strstr(tl_out, "memorisation") && strstr(tl_out, "100.0 % of samples nearer"),
          "cli compare of the data's copies: exit %d, want the memorisation note: %.600s", rc, tl_out);
    CHECK(!strstr(tl_out, "repeat another row"), "cli compare: data without repeated rows said to have some: %.600s", tl_out);
    /* rows that mostly repeat once made the data's own spacing 0 and the check said only "no
       check": now it says why, with the distinct rows' spacing, and still gives no verdict (discrete
       data look the same) */
    rc = tl_run("compare cmp_dup.csv cmp_dup_copies.csv");
    CHECK(rc == 0 && !strstr(tl_out, "memorisation") && strstr(tl_out, "(ratio 0.00") &&
          strstr(tl_out, "100 of the 100 data rows measured repeat another, as discrete data (counts, a grid) or duplicated rows do: no verdict"),
          "cli compare of copies of data whose rows repeat: exit %d: %.600s", rc, tl_out);
    rc = tl_run("compare cmp_data.csv cmp_blurred.csv");
    CHECK(rc == 0 && strstr(tl_out, "much farther from the data") && !strstr(tl_out, "memorisation"), "cli compare of blurred draws: exit %d: %.600s", rc, tl_out);
    rc = tl_run("compare cmp_same.csv cmp_data.csv");
    CHECK(rc == 0 && strstr(tl_out, "one repeated point: no fitted Gaussian") && strstr(tl_out, "single distinct point: no check") && !strstr(tl_out, "nan") &&
          !strstr(tl_out, "inf"), "cli compare against one repeated point: exit %d: %.600s", rc, tl_out);
    rc = tl_run("compare cmp_data.csv cmp_same.csv");
    {
        const char *q = strstr(tl_out, "(samples / Gaussian ");
        CHECK(rc == 0 && q && atof(q + 20) > 1.0 && !strstr(tl_out, "memorisation"), "cli compare of one point repeated: exit %d: %.600s", rc, tl_out);
    }
    EXPECT(tl_run("compare cmp_data.csv cmp_huge.csv"), 3, "row 2 is beyond float range", "compare of a sample at -3e38");
    EXPECT(tl_run("compare cmp_data.csv cmp_rownames.csv"), 2, "with --sample-columns, e.g. --sample-columns 2-3", "compare of samples with row names");
    rc = tl_run("compare cmp_data.csv cmp_rownames.csv --sample-columns 2-3");
    CHECK(rc == 0 && strstr(tl_out, "samples: 2, 2 columns"), "cli compare --sample-columns 2-3: exit %d: %.300s %.300s", rc, tl_out, tl_err);
    EXPECT(tl_run("compare cmp_data.csv"), 1, "usage: ncsn compare", "compare with one file");
    EXPECT(tl_run("compare - - < cmp_data.csv"), 1, "both be stdin", "compare - -");
    EXPECT(tl_run("compare cmp_data.csv cmp_fresh.csv --bins 3"), 1, "unknown option '--bins'", "compare --bins");
    EXPECT(tl_run("compare cmp_data.csv cmp_fresh.csv --columns 1"), 2, "has 2 columns, the data 1", "compare --columns 1");
    EXPECT(tl_run("compare cmp_point.csv cmp_fresh.csv"), 2, "at least 2", "compare against one data point");
    tl_put("twins.csv", "a,a,c\n1,2,3\n4,5,6\n");   /* a header that names two columns alike */
    EXPECT(tl_run("train twins.csv --columns a,c -o m.st"), 1, "--columns: the header names columns 1 and 2 'a': choose by number", "--columns a with two columns named a");
    EXPECT(tl_run("compare cmp_data.csv missing.csv"), 2, "missing.csv", "compare of a missing file");
    rc = tl_run("compare --help");
    CHECK(rc == 0 && strstr(tl_out, "usage: ncsn compare"), "cli compare --help: exit %d", rc);
    {   /* 12 points in 6-D, far apart: 8000 steps of the defaults learn the points themselves, and train's check says so */
        float p[12 * 6];
        char text[2048];
        size_t q = 0;
        int i;
        ncsn_rng_normals(&g, p, 12 * 6);
        for (i = 0; i < 12 * 6; i++) q += (size_t)snprintf(text + q, sizeof text - q, i % 6 == 5 ? "%.6g\n" : "%.6g,", (double)p[i]);
        tl_put("cmp_few.csv", text);
        EXPECT(tl_run("train cmp_few.csv -o few.st --steps 8000 --threads 1 --progress none"), 0, "check, 12 samples: note: the samples sit much nearer",
               "train's check on 12 points in 6-D");
        CHECK(strstr(tl_err, "not new draws; the next lines say whether ncsn train trains again") != NULL,
              "cli train's first check advised a larger --sigma-min before training again itself: %.600s", tl_err);
        tl_retrain();
        EXPECT(tl_run("train cmp_few.csv -o few.st --steps 10 --threads 1 --progress none --no-check"), 0, NULL, "train --no-check");
        CHECK(!strstr(tl_err, "check,"), "cli train --no-check still checked: %.300s", tl_err);
        EXPECT(tl_run("train cmp_point.csv -o few.st --steps 10 --sigma-max 1 --progress none"), 0, "check skipped: 1 data points (it needs 10)",
               "train's check on one point");
        EXPECT(tl_run("train cmp_data.csv -o few.st --steps 50 --sigma-max 1e6 --output-form net --checkpoint-every 0 --progress none"), 0,
               "check: all 200 of its chains diverged", "train's check with every chain diverged");
        EXPECT(tl_run("train cmp_few.csv -o few.st --steps 10 --preset seed001 --progress none"), 0, NULL, "train --preset seed001");
        CHECK(!strstr(tl_err, "check,"), "cli train --preset checked (its sampler is the document's): %.300s", tl_err);
    }
}

void test_cli(void)
{
    tl_csv();
#if !defined(_WIN32)
    {
        const char *d = getenv("TMPDIR");
        int rc;
        tl_find_binary();
        if (!tl_bin[0] || access(tl_bin, X_OK) != 0) {
            CHECK(0, "cli: the ncsn binary '%s' is not built (make builds it next to run_tests; or set NCSN_CLI)", tl_bin);
            return;
        }
        snprintf(tl_dir, sizeof tl_dir, "%s/ncsn_cli_XXXXXX", d && *d ? d : "/tmp");
        if (!mkdtemp(tl_dir)) { CHECK(0, "cli: no temporary directory"); return; }
        if (!t_runs_on_host(tl_bin)) {
            printf("  cli: %s is built for another machine than /bin/sh, or this kernel cannot start it: command tests skipped\n", tl_bin);
        } else if ((rc = tl_run("--version")) != 0) {
            CHECK(0, "cli: '%s --version' exits with %d: %s", tl_bin, rc, tl_err);
        } else {
            tl_commands();
            tl_compare();
        }
        {
            DIR *dp = opendir(tl_dir);
            struct dirent *e;
            char p[1024];
            int stale = 0;
            if (dp) {
                while ((e = readdir(dp)) != NULL) {
                    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                    if (strstr(e->d_name, ".tmp.")) stale++;
                    snprintf(p, sizeof p, "%s/%s", tl_dir, e->d_name);
                    remove(p);
                }
                closedir(dp);
            }
            rmdir(tl_dir);
            CHECK(stale == 0, "cli: %d temporary files left behind", stale);
        }
    }
#endif
}
