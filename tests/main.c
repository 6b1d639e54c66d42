/* main.c - runs every test group; prints "N passed, N failed" last; exit status 1 on failure. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L   /* fork */
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#endif
#include "test.h"
#include <stdarg.h>
#include <stdlib.h>

int t_pass, t_fail, t_quick, t_threads = 1;
const char *t_golden_dir = "golden";

void t_report(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    if (ok) { t_pass++; return; }
    t_fail++;
    printf("FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

uint32_t t_f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
float t_u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
unsigned char *t_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *b;
    long n;
    *len = 0;
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    b = n < 0 ? NULL : (unsigned char *)malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, fp) != (size_t)n) { free(b); b = NULL; }
    fclose(fp);
    if (b) *len = (size_t)n;
    return b;
}
/* the ELF machine number of the file at path, 0 if it is not ELF or unreadable */
static int t_elf_machine(const char *path)
{
    unsigned char h[20];
    FILE *fp = fopen(path, "rb");
    int m = 0;
    if (!fp) return 0;
    if (fread(h, 1, 20, fp) == 20 && h[0] == 0x7f && h[1] == 'E' && h[2] == 'L' && h[3] == 'F')
        m = h[5] == 2 ? (h[18] << 8) | h[19] : h[18] | (h[19] << 8);
    fclose(fp);
    return m;
}

int t_runs_on_host(const char *path)
{
    int bin = t_elf_machine(path), sh = t_elf_machine("/bin/sh");
    if (!bin || !sh || bin == sh) return 1;
    return bin == 3 && sh == 62;   /* i386 (-m32) runs on x86-64 */
}

int t_in_child(int (*fn)(void))
{
#if !defined(_WIN32)
    pid_t pid;
    int status;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) return -2;
    if (pid == 0) _exit(100 + (fn() & 0x1f));   /* 100+: a sanitizer's exit(1) after a crash is not a status */
    if (waitpid(pid, &status, 0) != pid) return -2;
    return WIFEXITED(status) && WEXITSTATUS(status) >= 100 ? WEXITSTATUS(status) - 100 : -1;
#else
    (void)fn;
    return -2;
#endif
}
int t_close(double got, double want, double tol)
{
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    return fabs(got - want) <= tol * scale;
}

#define GROUPS(X) X(rng) X(math) X(schedule) X(worked) X(kernels) X(model) X(dsm) X(sampler) \
                  X(safetensors) X(checkpoint) X(train) X(cli) X(io) X(alloc) X(quality) X(images) X(cpp) X(readme) X(plots) X(selftest) X(golden) \
                  X(dispatch)
/* weak, so the suite links while a group is being written; a missing group counts as a failure */
#define DECL(name) void test_##name(void) __attribute__((weak));
GROUPS(DECL)
#define ENTRY(name) { #name, test_##name },
static const struct { const char *name; void (*fn)(void); } groups[] = { GROUPS(ENTRY) };

int golden_write_all(void);

int main(int argc, char **argv)
{
    size_t i;
    int write_golden = 0;
    const char *only[32], *q = getenv("NCSN_TEST_QUICK");
    int a, n_only = 0;
    t_quick = q && *q && *q != '0';
    if (getenv("NCSN_TEST_THREADS")) t_threads = atoi(getenv("NCSN_TEST_THREADS"));
    if (t_threads < 1) t_threads = 1;
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--golden-dir") == 0 && a + 1 < argc) t_golden_dir = argv[++a];
        else if (strcmp(argv[a], "--write-golden") == 0) write_golden = 1;
        else if (n_only < 32) only[n_only++] = argv[a];   /* run only the groups named */
    }
    if (write_golden) return golden_write_all();
    if (getenv("NCSN_SIMD") && *getenv("NCSN_SIMD") && t_simd_force(getenv("NCSN_SIMD")) != NCSN_OK) {   /* a kernel path, forced */
        printf("NCSN_SIMD: %s\n", ncsn_last_error());
        return 1;
    }
    printf("ncsn.h %s tests, kernels: %s, %d thread%s%s\n", NCSN_VERSION_STRING, ncsn_simd_name(), t_threads,
           t_threads > 1 ? "s" : "", t_quick ? " (quick)" : "");
    for (i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        int p0 = t_pass, f0 = t_fail, k, named = n_only == 0;
        for (k = 0; k < n_only; k++) named |= strcmp(only[k], groups[i].name) == 0;
        if (!named) continue;
        if (!groups[i].fn) { CHECK(0, "test group %s is not built", groups[i].name); continue; }
        groups[i].fn();
        printf("  %-12s %4d passed, %d failed\n", groups[i].name, t_pass - p0, t_fail - f0);
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}
