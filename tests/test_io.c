/* test_io.c - files whatever the caller's locale and whatever kind of file (group `io`).

   Floats as text: ncsn_strtof against the C library's strtof and ncsn_format_f32 against
   printf("%.*g") (both in the "C" locale) over random floats of every binade, subnormals, exact
   midpoints between neighbouring floats and random digit strings. Then, under a locale with a
   decimal comma (de_DE.UTF-8, made by tests/deps.sh), the CSV reader reads the same numbers and a
   checkpoint is the same bytes as under "C". Last, the loaders read pipes and FIFOs exactly: a
   FIFO holding "15,2\n..." gives 15, not 5 (a probe byte was once lost). */
#if !defined(_WIN32)
#define _XOPEN_SOURCE 700   /* POSIX 2008 with XSI: mkfifo, mkdtemp, fork, mknod */
#define _FILE_OFFSET_BITS 64   /* stat and readdir on 32-bit builds: 64-bit inode numbers (EOVERFLOW) */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#endif
#include <locale.h>
#include <stdlib.h>
#include "test.h"

static uint64_t ti_state = 0x9e3779b97f4a7c15ULL;
static uint64_t ti_rand(void) { ti_state ^= ti_state << 13; ti_state ^= ti_state >> 7; ti_state ^= ti_state << 17; return ti_state; }
static long ti_bad, ti_count;   /* mismatches (the first few are printed in full) and comparisons */

static void ti_parse_vs(const char *s, float want, const char *want_end)
{
    char *end;
    float got = ncsn_strtof(s, &end);
    int same = (t_f2u(got) == t_f2u(want) || (got != got && want != want)) && end == want_end;
    ti_count++;
    if (!same && ti_bad++ < 10)
        printf("  io: ncsn_strtof('%s') = %a, %d chars; want %a, %d chars\n", s, (double)got, (int)(end - s), (double)want, (int)(want_end - s));
}

static void ti_parse(const char *s)   /* against the C library's strtof in the "C" locale */
{
    char *e;
    float want = strtof(s, &e);
    ti_parse_vs(s, want, e);
}

static void ti_format(float v, int prec)
{
    char want[256], got[256];
    int n = ncsn_format_f32(got, sizeof got, v, prec), same;
    snprintf(want, sizeof want, "%.*g", prec, (double)v);
    same = n == (int)strlen(want) && strcmp(got, want) == 0;
    ti_count++;
    if (!same && ti_bad++ < 10) printf("  io: ncsn_format_f32(%a, %d) = '%s', printf: '%s'\n", (double)v, prec, got, want);
}

static void ti_float_text(void)
{
    static const char *const cases[] = {
        "0", "-0", "+1", "1.5", ".5", "5.", ".", "-", "+.e3", "1e", "1e+", "1e-5x", "1.5.3", "1,5", "  \t\n\v\f\r-2.5", "00012.50",
        "0x1.8p3", "0X1P-149", "0x1p-150", "0x1.8p-150", "0x", "0x.", "0x.8", "0xg", "0x1p", "0x1p+", "0x1.fffffep127", "0x1.ffffffp127",
        "0x1.fffffe8p127", "0x123456789abcdef0123p-40", "inf", "-Infinity", "infinit", "INF", "nan", "-nan", "NaN(12_ab)", "nan(",
        "nan(1", "3.4028234e38", "3.40282347e38", "3.40282357e38", "3.4028236e38", "1e39", "1e99999999999999", "1e-99999999999999",
        "1.4e-45", "1.4012984e-45", "7e-46", "7.006492321624085354618647916449580656401309709382578858785341e-46", "7.0064923216240853546e-46",
        "1.1754943e-38", "1.17549428e-38", "1.1754942e-38", "0.000000000000000000000000000000000000000000000001e48",
        "123456789012345678901234567890123456789012345678901234567890e-30", "4.9999999999999999999999999999999999999999999999999999e-1",
        "16777217", "16777218", "16777219", "33554435", "0.1", "0.2", "0.3", "1e-46", "9.99999e-47", "2.5e-45", "0e999999", NULL };
    int i, p, n = t_quick ? 20000 : 150000;
    ti_bad = ti_count = 0;
    for (i = 0; cases[i]; i++) ti_parse(cases[i]);
    /* glibc's strtof returns 0 here though the value is above 2^-150, half the smallest subnormal
       (its strtod, then rounding to float, agrees with us): checked against the exact answer */
    {
        static const char glibc_wrong[] = "0x1.000001p-150";
        ti_parse_vs(glibc_wrong, t_u2f(1u), &glibc_wrong[15]);
    }
    for (i = 0; i < n; i++) {
        uint32_t u = (uint32_t)ti_rand();
        float f;
        char s[160];
        if (i % 5 == 0) u &= 0x807fffffu;   /* subnormals */
        if (i % 11 == 0) u = (u & 0x80000000u) | (0x7f7fffffu - (u & 0xffu));   /* near FLT_MAX */
        f = t_u2f(u);
        ti_format(f, 9);
        ti_format(f, 1 + (int)(ti_rand() % 17));
        if ((u & 0x7f800000u) == 0x7f800000u) continue;
        snprintf(s, sizeof s, "%.9g", (double)f);
        ti_parse(s);
        snprintf(s, sizeof s, "%.*g", 1 + (int)(ti_rand() % 12), (double)f);
        ti_parse(s);
        if (i % 4 == 0) { snprintf(s, sizeof s, "%a", (double)f); ti_parse(s); }
        {   /* the exact midpoint above |f| (a double), and a rounding of it to 8..37 digits */
            float g = t_u2f((u & 0x7fffffffu) + 1u);
            if ((t_f2u(g) & 0x7f800000u) != 0x7f800000u) {
                double m = ((double)fabsf(f) + (double)g) * 0.5;
                snprintf(s, sizeof s, "%.70e", m);
                ti_parse(s);
                snprintf(s, sizeof s, "%.*e", 8 + (int)(ti_rand() % 30), m);
                ti_parse(s);
            }
        }
        {   /* random digits, a random point and exponent */
            int nd = 1 + (int)(ti_rand() % 40), k, q = 0;
            if (ti_rand() & 1) s[q++] = '-';
            for (k = 0; k < nd; k++) {
                s[q++] = (char)('0' + ti_rand() % 10);
                if (k == (int)(ti_rand() % 8)) s[q++] = '.';
            }
            snprintf(s + q, sizeof s - (size_t)q, "e%d", (int)(ti_rand() % 110) - 70);
            ti_parse(s);
        }
    }
    for (p = 1; p <= 120; p++) {   /* every precision on the extremes, and ties (2^-14 = 6.103515625e-05) */
        static const float vals[] = { 1.40129846e-45f, 3.40282347e38f, 0x1p-14f, 0.1f, -0.0f, 1e10f, 16777216.0f, 1.17549435e-38f, 0.5f, 9.5f };
        for (i = 0; i < (int)(sizeof vals / sizeof vals[0]); i++) ti_format(vals[i], p);
    }
    for (i = -149; i < 128; i++) { ti_format(ldexpf(1.0f, i), 9); ti_format(ldexpf(1.0f, i), 3); ti_format(-ldexpf(1.0f, i), 6); }
    ti_format(t_u2f(0x7f800000u), 9);
    ti_format(t_u2f(0xff800000u), 9);
    CHECK(ti_bad == 0, "float text: %ld of %ld conversions differ from the C library's", ti_bad, ti_count);
    {
        char b[8];
        CHECK(ncsn_format_f32(b, 5, 1.5f, 9) == 3 && strcmp(b, "1.5") == 0, "ncsn_format_f32 into 5 bytes: '%s'", b);
        CHECK(ncsn_format_f32(b, 3, 1.5f, 9) == -1 && b[0] == 0, "ncsn_format_f32: 3 bytes for '1.5' must fail with \"\"");
        CHECK(ncsn_format_f32(b, sizeof b, 1.5f, 0) == -1 && ncsn_format_f32(b, sizeof b, 1.5f, 121) == -1, "ncsn_format_f32: precision 0 and 121 refused");
        CHECK(ncsn_strtof("", NULL) == 0.0f && ncsn_strtof(NULL, NULL) == 0.0f, "ncsn_strtof of \"\" and NULL");
    }
}

/* a decimal-comma locale, or NULL (then the test says SKIP) */
static const char *ti_comma_locale(void)
{
    static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8", "nl_NL.UTF-8", "ru_RU.UTF-8", NULL };
    int i;
    for (i = 0; names[i]; i++)
        if (setlocale(LC_ALL, names[i]) && localeconv()->decimal_point[0] == ',') return names[i];
    setlocale(LC_ALL, "C");
    return NULL;
}

/* a small model with Adam and an RNG, saved to path */
static ncsn_status ti_save(const char *path)
{
    ncsn_config cfg = ncsn_config_concat(2, 8, 1);
    ncsn_model *m = NULL;
    ncsn_adam adam;
    ncsn_rng rng;
    float sig[3];
    static const char *const extra[] = { "note", "lr 1.5e-3", NULL };
    ncsn_status st;
    memset(&adam, 0, sizeof adam);
    ncsn_rng_seed(&rng, 7, 54);
    ncsn_schedule(sig, 3, 3.5f, 0.0125f, NCSN_SCHEDULE_GEOMETRIC);
    if ((st = ncsn_model_create(&m, &cfg)) == NCSN_OK && (st = ncsn_model_init(m, &rng)) == NCSN_OK &&
        (st = ncsn_adam_create(&adam, m->n_params, 1.25e-3f)) == NCSN_OK) {
        adam.beta2 = 0.9995f;
        adam.eps = 3e-8f;
        st = ncsn_checkpoint_save(m, path, &adam, &rng, sig, 3, 17, extra);
    }
    ncsn_adam_free(&adam);
    ncsn_model_free(m);
    return st;
}

static void ti_locale(const char *dir)
{
    static const char text[] = "x,y\n1.5,-2.25\n1e-3,3.40282347e38\n0x1p-3,.5\n";
    static const float want[6] = { 1.5f, -2.25f, 1e-3f, 3.40282347e38f, 0.125f, 0.5f };
    char path_c[1024], path_l[1024], buf[64];
    const char *loc;
    float *d = NULL;
    int n = 0, dim = 0, i, same = 1;
    unsigned char *a, *b;
    size_t la, lb;
    snprintf(path_c, sizeof path_c, "%s/c.ckpt", dir);
    snprintf(path_l, sizeof path_l, "%s/comma.ckpt", dir);
    CHECK(ti_save(path_c) == NCSN_OK, "locale: save under \"C\": %s", ncsn_last_error());
    if (!(loc = ti_comma_locale())) {
        printf("  io: SKIP the locale test: no decimal-comma locale here (as root: localedef -i de_DE -f UTF-8 de_DE.UTF-8;"
               " make test does it through tests/deps.sh)\n");
        return;
    }
    snprintf(buf, sizeof buf, "%.1f", 1.5);
    CHECK(strcmp(buf, "1,5") == 0, "locale %s: printf writes '%s', a decimal comma was expected", loc, buf);
    CHECK(ncsn_csv_parse(text, strlen(text), NULL, &d, &n, &dim, NULL, 0) == NCSN_OK && n == 3 && dim == 2,
          "locale %s: the CSV reader fails on '1.5': %s", loc, ncsn_last_error());
    for (i = 0; d && n == 3 && dim == 2 && i < 6; i++) same &= t_f2u(d[i]) == t_f2u(want[i]);
    CHECK(d && same, "locale %s: the CSV reader reads other values", loc);
    ncsn_free(d);
    CHECK(ncsn_strtof("2.5", NULL) == 2.5f && ncsn_format_f32(buf, sizeof buf, 0.25f, 9) > 0 && strcmp(buf, "0.25") == 0,
          "locale %s: ncsn_strtof/ncsn_format_f32 follow the locale ('%s')", loc, buf);
    CHECK(ti_save(path_l) == NCSN_OK, "locale %s: save: %s", loc, ncsn_last_error());
    a = t_read_file(path_c, &la);
    b = t_read_file(path_l, &lb);
    CHECK(a && b && la == lb && memcmp(a, b, la) == 0, "locale %s: the checkpoint's bytes differ from those written under \"C\"", loc);
    free(a);
    free(b);
    {
        ncsn_model *m = NULL;
        ncsn_adam adam;
        ncsn_rng rng;
        long step = 0;
        ncsn_status st = ncsn_checkpoint_load(&m, path_c, &adam, &rng, NULL, 0, NULL, &step);
        CHECK(st == NCSN_OK && step == 17 && adam.lr == 1.25e-3f && adam.beta2 == 0.9995f && adam.eps == 3e-8f,
              "locale %s: the checkpoint written under \"C\" does not load with its hyper-parameters: %s", loc, ncsn_last_error());
        ncsn_adam_free(&adam);
        ncsn_model_free(m);
    }
    setlocale(LC_ALL, "C");
}

#if !defined(_WIN32)
/* a child writes len bytes into the FIFO path (blocking until the reader opens it); its pid */
static pid_t ti_fifo_writer(const char *path, const void *data, size_t len)
{
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        FILE *fp;
        alarm(20);   /* a reader that never opens the FIFO must not hang the suite */
        fp = fopen(path, "wb");
        if (fp) { fwrite(data, 1, len, fp); fclose(fp); }
        _exit(fp ? 0 : 1);
    }
    return pid;
}

static int ti_fifo_done(pid_t pid)
{
    int status = 0;
    if (pid <= 0) return 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* a child writes len bytes into the FIFO path, then up to limit bytes of filler: 0 if the reader
   stopped it early (closed the FIFO: EPIPE), 2 if all of it went in */
static pid_t ti_fifo_flood(const char *path, const void *data, size_t len, int filler, size_t limit)
{
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        static unsigned char fill[1 << 16];
        size_t sent = 0;
        int fd;
        alarm(20);
        signal(SIGPIPE, SIG_IGN);
        memset(fill, filler, sizeof fill);
        if ((fd = open(path, O_WRONLY)) < 0 || write(fd, data, len) != (ssize_t)len) _exit(1);
        while (sent < limit) {
            ssize_t k = write(fd, fill, sizeof fill);
            if (k < 0) _exit(errno == EPIPE ? 0 : 1);
            sent += (size_t)k;
        }
        _exit(2);
    }
    return pid;
}

static int ti_flood_status(pid_t pid)
{
    int status = 0;
    if (pid <= 0) return -1;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A pipe carrying a valid file and then endless bytes (cat model.safetensors /dev/zero) is read no
   further than the file's header declares (safetensors, IDX) or than its first NUL byte (CSV),
   and refused at once: every loader read up to 2 GiB (1 GiB for CSV) before it failed. The writer
   offers 16 MiB after the file; the reader must close the pipe long before. */
static void ti_trailing(const char *fifo, const unsigned char *ckpt, size_t ckpt_len)
{
    enum { LIMIT = 16 << 20 };
    static const unsigned char images[4 + 12 + 12] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255 };
    static const unsigned char labels[4 + 4 + 2] = { 0, 0, 8, 1, 0, 0, 0, 2, 7, 9 };
    static const char csv[] = "1,2\n3,4\n";
    const char *past = "past the ";
    ncsn_model *m = NULL;
    unsigned char *b = NULL;
    float *d = NULL;
    int *l = NULL, n = 0, r = 0, c = 0, k;
    size_t len = 0;
    ncsn_status st;
    char v[64];
    pid_t pid;
    for (k = 0; k < 4; k++) {   /* the safetensors loaders, followed by zeros or by other bytes */
        pid = ti_fifo_flood(fifo, ckpt, ckpt_len, k % 2 ? 'x' : 0, LIMIT);
        st = k == 0 ? ncsn_model_load(&m, fifo) : k == 1 ? ncsn_checkpoint_load(&m, fifo, NULL, NULL, NULL, 0, NULL, NULL)
           : k == 2 ? ncsn_file_meta(fifo, "ncsn.step", v, sizeof v) : ncsn_read_safetensors(fifo, &b, &len);
        CHECK(st == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), past) && ti_flood_status(pid) == 0,
              "trailing bytes: loader %d of a checkpoint and then filler: status %d (want %d), '%s'", k, (int)st, (int)NCSN_ERR_FORMAT,
              ncsn_last_error());
        ncsn_model_free(m);
        m = NULL;
        ncsn_free(b);
        b = NULL;
    }
    pid = ti_fifo_flood(fifo, images, sizeof images, 0, LIMIT);
    st = ncsn_idx_load_images(fifo, &d, &n, &r, &c);
    CHECK(st == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), past) && ti_flood_status(pid) == 0, "trailing bytes: IDX images: %s",
          ncsn_last_error());
    ncsn_free(d);
    pid = ti_fifo_flood(fifo, labels, sizeof labels, 0, LIMIT);
    st = ncsn_idx_load_labels(fifo, &l, &n);
    CHECK(st == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), past) && ti_flood_status(pid) == 0, "trailing bytes: IDX labels: %s",
          ncsn_last_error());
    ncsn_free(l);
    pid = ti_fifo_flood(fifo, images, sizeof images, 0, 0);   /* the exact file still loads from a pipe */
    CHECK(ncsn_idx_load_images(fifo, &d, &n, &r, &c) == NCSN_OK && n == 2 && r == 2 && c == 3 && d[11] == 1.0f && ti_flood_status(pid) == 2,
          "IDX images from a FIFO: %s", ncsn_last_error());
    ncsn_free(d);
    d = NULL;
    pid = ti_fifo_flood(fifo, csv, sizeof csv - 1, 0, LIMIT);
    st = ncsn_csv_load(fifo, NULL, &d, &n, &c, NULL, 0);
    CHECK(st == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), "line 3 has a NUL byte") && ti_flood_status(pid) == 0,
          "trailing bytes: CSV and then zeros: %s", ncsn_last_error());
    ncsn_free(d);
}

/* a save to an existing FIFO (or /dev/stdout, /dev/null) writes into it: the atomic rename once
   replaced it by a regular file (as root, `-o /dev/null` replaced the device). The reader is opened
   first, non-blocking, so the old code fails the test instead of hanging it. */
static void ti_save_into_fifo(const char *fifo, const unsigned char *want, size_t len)
{
    unsigned char got[1 << 14];
    struct stat sb;
    ssize_t k;
    size_t n = 0;
    int fd = open(fifo, O_RDONLY | O_NONBLOCK);
    CHECK(fd >= 0 && len < sizeof got, "pipes: cannot open the FIFO to read");
    if (fd < 0) return;
    CHECK(ti_save(fifo) == NCSN_OK, "pipes: a save into a FIFO: %s", ncsn_last_error());
    while (n < sizeof got && (k = read(fd, got + n, sizeof got - n)) > 0) n += (size_t)k;
    close(fd);
    CHECK(stat(fifo, &sb) == 0 && S_ISFIFO(sb.st_mode), "pipes: a save replaced the FIFO by a regular file");
    CHECK(n == len && memcmp(got, want, len) == 0, "pipes: a save into a FIFO sent %lu bytes, want the file's %lu", (unsigned long)n,
          (unsigned long)len);
    {   /* a block device is neither written into nor replaced (needs root to make one; the old code replaced it) */
        char blk[1100];
        snprintf(blk, sizeof blk, "%s.blk", fifo);
        if (mknod(blk, S_IFBLK | 0600, (dev_t)((7u << 8) | 200u)) == 0) {
            CHECK(ti_save(blk) == NCSN_ERR_IO && strstr(ncsn_last_error(), "block device"), "a save onto a block device: %s", ncsn_last_error());
            CHECK(stat(blk, &sb) == 0 && S_ISBLK(sb.st_mode), "a save replaced a block device");
            remove(blk);
        }
    }
}

static void ti_pipes(const char *dir)
{
    char fifo[1024], model[1024], v[64];
    unsigned char *bytes;
    size_t len;
    pid_t pid;
    float *d = NULL;
    int n = 0, dim = 0;
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(model, sizeof model, "%s/c.ckpt", dir);
    if (mkfifo(fifo, 0600) != 0) { CHECK(0, "pipes: mkfifo failed"); return; }
    pid = ti_fifo_writer(fifo, "15,2\n3,4\n5,6\n", 13);
    CHECK(ncsn_csv_load(fifo, NULL, &d, &n, &dim, NULL, 0) == NCSN_OK && n == 3 && dim == 2 && d[0] == 15.0f && d[1] == 2.0f && d[4] == 5.0f,
          "pipes: the CSV from a FIFO: %s (n %d, first %g)", ncsn_last_error(), n, d ? (double)d[0] : -1.0);
    CHECK(ti_fifo_done(pid), "pipes: the FIFO writer failed");
    ncsn_free(d);
    bytes = t_read_file(model, &len);
    CHECK(bytes != NULL, "pipes: no checkpoint to send");
    if (bytes) {
        ncsn_model *m = NULL;
        long step = 0;
        pid = ti_fifo_writer(fifo, bytes, len);
        CHECK(ncsn_checkpoint_load(&m, fifo, NULL, NULL, NULL, 0, NULL, &step) == NCSN_OK && step == 17,
              "pipes: a checkpoint from a FIFO: %s", ncsn_last_error());
        CHECK(ti_fifo_done(pid), "pipes: the FIFO writer failed");
        ncsn_model_free(m);
        pid = ti_fifo_writer(fifo, bytes, len);
        CHECK(ncsn_file_meta(fifo, "ncsn.adam.lr", v, sizeof v) == NCSN_OK && ncsn_strtof(v, NULL) == 1.25e-3f,
              "pipes: metadata from a FIFO: '%s' %s", v, ncsn_last_error());
        CHECK(ti_fifo_done(pid), "pipes: the FIFO writer failed");
        ti_save_into_fifo(fifo, bytes, len);
        ti_trailing(fifo, bytes, len);
        {   /* no limit: max = SIZE_MAX (max + 1 wrapped to 0, and every file was "larger than the limit") */
            unsigned char *again = NULL;
            size_t n2 = 0;
            CHECK(ncsn_read_file(model, (size_t)-1, &again, &n2) == NCSN_OK && n2 == len && memcmp(again, bytes, len) == 0,
                  "ncsn_read_file with max = SIZE_MAX: %s", ncsn_last_error());
            ncsn_free(again);
        }
        free(bytes);
    }
    remove(fifo);
    CHECK(ncsn_csv_load(dir, NULL, &d, &n, &dim, NULL, 0) == NCSN_ERR_IO && strstr(ncsn_last_error(), "directory"),
          "pipes: a directory: %s", ncsn_last_error());
}
#endif

/* text from files made safe to print: controls, bidi overrides and broken UTF-8 as \xHH */
static void ti_escape(void)
{
    char out[64];
    size_t n = ncsn_text_escape(out, sizeof out, "a\x1b[0m\n\xc3\xa9\xe2\x80\xae\xc2\x9b\xff\\x");
    CHECK(n == strlen(out) && strcmp(out, "a\\x1b[0m\\x0a\xc3\xa9\\xe2\\x80\\xae\\xc2\\x9b\\xff\\x") == 0, "ncsn_text_escape: '%s'", out);
    n = ncsn_text_escape(out, 6, "ab\x01" "cd");
    CHECK(n == 2 && strcmp(out, "ab") == 0, "ncsn_text_escape never cuts an escape: '%s'", out);
    n = ncsn_text_escape(out, 4, "a\xc3\xa9\xc3\xa9");
    CHECK(n == 3 && strcmp(out, "a\xc3\xa9") == 0, "ncsn_text_escape never cuts a character: '%s'", out);
    {
        float *d = NULL;
        int rows, dim;
        CHECK(ncsn_csv_parse("1\n\x1b]2;x\x07\n", 9, NULL, &d, &rows, &dim, NULL, 0) == NCSN_ERR_FORMAT, "a value with an escape sequence parsed");
    }
    CHECK(!strchr(ncsn_last_error(), 0x1b) && !strchr(ncsn_last_error(), 0x07) && strstr(ncsn_last_error(), "\\x1b]2;x\\x07"),
          "library messages quote file text escaped: '%s'", ncsn_last_error());
}

/* ncsn_output: the old file stays until a close with ok 1 renames the new one over it; a close
   with ok 0 removes the temporary file; /dev/null (a device) is written into, not replaced */
static void ti_output(const char *dir)
{
    char p[1024], tmp[1100], buf[16];
    ncsn_output o;
    FILE *f;
    size_t n = 0;
    snprintf(p, sizeof p, "%s/out.csv", dir);
    f = fopen(p, "w");
    if (f) { fputs("old\n", f); fclose(f); }
    CHECK(ncsn_output_open(&o, p) == NCSN_OK && o.kind == 0 && o.tmp, "ncsn_output_open: %s", ncsn_last_error());
    snprintf(tmp, sizeof tmp, "%s", o.tmp ? o.tmp : "");
    if (o.fp) fputs("new\n", o.fp);
    CHECK(ncsn_output_close(&o, 0) == NCSN_ERR_IO && strstr(ncsn_last_error(), "is unchanged") && !o.fp && (f = fopen(tmp, "r")) == NULL,
          "ok 0: NCSN_ERR_IO, the temporary file removed: %s", ncsn_last_error());
    if ((f = fopen(p, "r")) != NULL) { n = fread(buf, 1, sizeof buf, f); fclose(f); }
    CHECK(n == 4 && memcmp(buf, "old\n", 4) == 0, "ok 0: the old file kept");
    CHECK(ncsn_output_open(&o, p) == NCSN_OK, "reopen");
    if (o.fp) fputs("new\n", o.fp);
    CHECK(ncsn_output_close(&o, 1) == NCSN_OK && ncsn_output_close(&o, 1) == NCSN_OK, "ok 1, and closing twice");
    n = 0;
    if ((f = fopen(p, "r")) != NULL) { n = fread(buf, 1, sizeof buf, f); fclose(f); }
    CHECK(n == 4 && memcmp(buf, "new\n", 4) == 0, "ok 1: the new file in place");
    remove(p);
    CHECK(ncsn_output_open(&o, "/dev/null") == NCSN_OK && o.kind == 1 && !o.tmp && ncsn_output_close(&o, 1) == NCSN_OK,
          "a device is written into");
}

void test_io(void)
{
    ti_float_text();
    ti_escape();
#if !defined(_WIN32)
    {
        char dir[512], p[1024];
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/ncsn_io_XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) { CHECK(0, "io: no temporary directory"); return; }
        ti_locale(dir);
        ti_pipes(dir);
        ti_output(dir);
        snprintf(p, sizeof p, "%s/c.ckpt", dir);
        remove(p);
        snprintf(p, sizeof p, "%s/comma.ckpt", dir);
        remove(p);
        rmdir(dir);
    }
#endif
}
