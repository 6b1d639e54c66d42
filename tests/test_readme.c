/* test_readme.c - the README's usage example is examples/minimal.c, byte for byte (make test
   also compiles and runs that file), the README names the two commands, and both commands run
   tests/deps.sh first (what installs their packages on a fresh machine). */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L   /* popen */
#endif
#include "test.h"
#include <stdlib.h>

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *b;
    long n;
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    b = (char *)malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, fp) != (size_t)n) { free(b); b = NULL; }
    if (b) b[n] = 0;
    fclose(fp);
    return b;
}

/* `make -n TARGET` (what make would run, nothing run) must start with `sh tests/deps.sh WHAT`:
   a rule that silently does nothing (deps-% listed in .PHONY: make never applies a pattern rule
   to a phony target) left a fresh machine without libpcg-cpp-dev */
static void readme_deps_rules(void)
{
#if !defined(_WIN32)
    static const char *const target[] = { "deps-test", "deps-plots", "test", "plots" }, *const want[] = { "test", "plots", "test", "plots" };
    char cmd[256], out[8192], needle[64];
    int i;
    FILE *p;
    if (system("make --version > /dev/null 2>&1") != 0) { printf("  readme: no make on PATH: deps rules not checked (SKIP)\n"); return; }
    for (i = 0; i < 4; i++) {
        size_t n = 0, got;
        snprintf(cmd, sizeof cmd, "make -n --no-print-directory %s 2>&1", target[i]);
        out[0] = 0;
        if ((p = popen(cmd, "r")) != NULL) {
            while (n < sizeof out - 1 && (got = fread(out + n, 1, sizeof out - 1 - n, p)) > 0) n += got;
            out[n] = 0;
            while (fread(needle, 1, sizeof needle, p) > 0) {}   /* drain: make must not die of SIGPIPE */
            pclose(p);
        }
        snprintf(needle, sizeof needle, "tests/deps.sh %s", want[i]);
        CHECK(strstr(out, needle) != NULL, "`make -n %s` does not run '%s' (it printed: %.200s)", target[i], needle, out);
        if (i >= 2 && strstr(out, needle))   /* before anything is compiled */
            CHECK(!strstr(out, " -c ") || strstr(out, needle) < strstr(out, " -c "), "`make %s` compiles before '%s'", target[i], needle);
    }
#endif
}

/* The example teaches by example: every call of a function that returns an ncsn_status (the
   declarations "NCSNDEF ncsn_status NAME(" in ncsn.h) must have its result kept, "= NAME(", or
   tested, "(NAME(" (the unchecked ncsn_model_init and ncsn_adam_step of an earlier version failed). */
static void readme_statuses_checked(const char *ex)
{
    char *h = slurp("ncsn.h"), name[64];
    const char *d, *u;
    int n_calls = 0, n_unchecked = 0;
    char *impl = h ? strstr(h, "#ifdef NCSN_IMPLEMENTATION") : NULL;
    CHECK(h != NULL, "ncsn.h must exist (run from the repository root)");
    if (impl) *impl = 0;   /* the declarations only: each name once */
    for (d = h; h && (d = strstr(d, "NCSNDEF ncsn_status ")) != NULL; d++) {
        size_t k = 0;
        const char *p = d + strlen("NCSNDEF ncsn_status ");
        while (k + 1 < sizeof name && (p[k] == '_' || (p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '0' && p[k] <= '9'))) { name[k] = p[k]; k++; }
        name[k] = 0;
        if (p[k] != '(' || k == 0) continue;
        for (u = ex; (u = strstr(u, name)) != NULL; u += k) {
            const char *b = u;
            if (u[k] != '(' || (u > ex && (u[-1] == '_' || (u[-1] >= 'a' && u[-1] <= 'z')))) continue;
            while (b > ex && b[-1] == ' ') b--;
            n_calls++;
            if (b == ex || (b[-1] != '=' && b[-1] != '(')) {
                n_unchecked++;
                CHECK(0, "examples/minimal.c calls %s without checking its status", name);
            }
        }
    }
    CHECK(n_calls >= 8, "examples/minimal.c: only %d status-returning calls found (the scan is broken?)", n_calls);
    printf("  readme: examples/minimal.c checks the status of %d of its %d calls that return one\n", n_calls - n_unchecked, n_calls);
    free(h);
}

void test_readme(void)
{
    char *readme = slurp("README.md"), *ex = slurp("examples/minimal.c");
    const char *start, *end;
    CHECK(readme && ex, "README.md and examples/minimal.c must exist (run from the repository root)");
    if (!readme || !ex) { free(readme); free(ex); return; }
    start = strstr(readme, "```c\n/* minimal.c");
    CHECK(start != NULL, "README has the minimal.c code block");
    if (start) {
        start += 5;
        end = strstr(start, "```");
        CHECK(end && (size_t)(end - start) == strlen(ex) && memcmp(start, ex, strlen(ex)) == 0,
              "README's code block differs from examples/minimal.c");
    }
    CHECK(strstr(readme, "make test") && strstr(readme, "make plots"), "README names make test and make plots");
    readme_statuses_checked(ex);
    free(readme);
    free(ex);
    readme_deps_rules();
}
