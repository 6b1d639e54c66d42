/* fuzz_csv.c - libFuzzer target: ncsn_csv_parse on any bytes, with small and default limits; the
   same bytes through a pipe (ncsn_csv_load of /dev/fd/N and of "-" on stdin) must give the same
   result; the header names must come back as a CSV line that parses to themselves; and the
   input as one number: ncsn_strtof against the C library's strtof (decimal forms) and through
   ncsn_format_f32 back to the same bits. Build and run: make fuzz (or fuzz-ci). */
#define _POSIX_C_SOURCE 200809L   /* pipe, dup, dup2 */
#include <unistd.h>
#include "fuzz_common.h"

static void fz_parse(const uint8_t *data, size_t size, const ncsn_csv_opts *o)
{
    float *d = (float *)&d;
    int n = -1, dim = -1, i;
    char names[64] = "x";
    ncsn_status st = ncsn_csv_parse((const char *)data, size, o, &d, &n, &dim, names, sizeof names);
    if (st == NCSN_OK) {
        FZ_ASSERT(d && n >= 1 && dim >= 1 && (size_t)n * (size_t)dim <= size / 2 + 1, "impossible shape");
        if (o) FZ_ASSERT(n <= o->max_rows && dim <= o->max_cols, "limits not enforced");
        for (i = 0; i < n * dim; i++) FZ_ASSERT(d[i] == d[i] && d[i] - d[i] == 0.0f, "non-finite value accepted");
        FZ_ASSERT(strlen(names) < sizeof names, "names overflow");
        ncsn_free(d);
    } else {
        FZ_ASSERT(d == NULL && n == 0 && dim == 0 && names[0] == 0, "outputs set by a failed parse");
        FZ_ASSERT(st == NCSN_ERR_FORMAT || st == NCSN_ERR_NOMEM, "unexpected status");
        FZ_ASSERT(ncsn_last_error()[0] != 0, "a failed parse without a message");
    }
    for (i = 0; ncsn_last_error()[i]; i++)
        FZ_ASSERT((unsigned char)ncsn_last_error()[i] >= 0x20 && ncsn_last_error()[i] != 0x7f, "a control byte in a message");
}

/* the names line (all names fit) + a row of dim zeros parses to the same names and dim */
static void fz_names(const uint8_t *data, size_t size)
{
    static char names[1 << 15], back[1 << 15], text[(1 << 15) + (1 << 18)];
    float *d = NULL;
    int n = 0, dim = 0, n2 = 0, dim2 = 0, i;
    size_t k, q;
    if (ncsn_csv_parse((const char *)data, size, NULL, &d, &n, &dim, names, sizeof names) != NCSN_OK) return;
    ncsn_free(d);
    d = NULL;
    if (!names[0]) return;
    for (k = 0; names[k]; k++) FZ_ASSERT((unsigned char)names[k] >= 0x20 && names[k] != 0x7f, "a control byte in a column name");
    q = k;
    memcpy(text, names, k);
    text[q++] = '\n';
    for (i = 0; i < dim; i++) { if (i) text[q++] = ','; text[q++] = '0'; }
    FZ_ASSERT(ncsn_csv_parse(text, q, NULL, &d, &n2, &dim2, back, sizeof back) == NCSN_OK, "the names line does not parse back");
    FZ_ASSERT(n2 == 1 && dim2 == dim && strcmp(back, names) == 0, "the names line parses back to other names");
    ncsn_free(d);
}

/* the bytes through a pipe: the same status, values and names as parsing them in memory */
static void fz_pipe(const uint8_t *data, size_t size, int as_stdin)
{
    float *a = NULL, *b = NULL;
    int na = 0, da = 0, nb = 0, db = 0, fds[2], saved = -1;
    char path[32], names_a[256], names_b[256];
    ncsn_status sa, sb;
    if (size > 60000 || pipe(fds) != 0) return;   /* within one pipe buffer: the write never blocks */
    FZ_ASSERT(write(fds[1], data, size) == (ssize_t)size, "pipe write");
    close(fds[1]);
    sa = ncsn_csv_parse((const char *)data, size, NULL, &a, &na, &da, names_a, sizeof names_a);
    if (as_stdin) {
        saved = dup(0);
        dup2(fds[0], 0);
        clearerr(stdin);
        sb = ncsn_csv_load("-", NULL, &b, &nb, &db, names_b, sizeof names_b);
        dup2(saved, 0);
        close(saved);
        clearerr(stdin);
    } else {
        snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
        sb = ncsn_csv_load(path, NULL, &b, &nb, &db, names_b, sizeof names_b);
    }
    close(fds[0]);
    FZ_ASSERT(sa == sb && na == nb && da == db, "a pipe gives another result than the same bytes in memory");
    if (sa == NCSN_OK)
        FZ_ASSERT(memcmp(a, b, sizeof(float) * (size_t)na * (size_t)da) == 0 && strcmp(names_a, names_b) == 0, "a pipe gives other values");
    ncsn_free(a);
    ncsn_free(b);
}

static void fz_number(const uint8_t *data, size_t size)
{
    char s[256], *e1, *e2, out[160];
    float v, w, ref;
    uint32_t uv, uw, ur;
    if (size >= sizeof s) return;
    memcpy(s, data, size);
    s[size] = 0;
    v = ncsn_strtof(s, &e2);
    FZ_ASSERT(e2 >= s && e2 <= s + strlen(s), "ncsn_strtof's end is outside the string");
    if (!strpbrk(s, "xX")) {   /* glibc's hex parsing has a rounding error near 2^-150; decimal is exact */
        ref = strtof(s, &e1);
        memcpy(&uv, &v, 4);
        memcpy(&ur, &ref, 4);
        FZ_ASSERT(e1 == e2 && (uv == ur || (v != v && ref != ref)), "ncsn_strtof differs from strtof");
    }
    if (v - v == 0.0f) {
        FZ_ASSERT(ncsn_format_f32(out, sizeof out, v, 9) > 0, "ncsn_format_f32 failed");
        w = ncsn_strtof(out, &e2);
        memcpy(&uv, &v, 4);
        memcpy(&uw, &w, 4);
        FZ_ASSERT(*e2 == 0 && uv == uw, "%.9g does not round-trip");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ncsn_csv_opts o;
    fz_input_size = size;
    fz_parse(data, size, NULL);
    memset(&o, 0, sizeof o);
    o.source = "fuzz.csv";
    o.max_rows = 7;
    o.max_cols = 5;
    o.max_line = 40;
    fz_parse(data, size, &o);
    fz_names(data, size);
    fz_pipe(data, size, size & 1);
    fz_number(data, size);
    return 0;
}
