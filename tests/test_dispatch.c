/* test_dispatch.c - the kernel paths, forced one by one in this one build (group `dispatch`).
   On x86 with gcc or clang the header compiles the SSE2, AVX2+FMA and AVX-512 kernels whatever the
   flags and runs the widest the CPU has. Here:
   - the path chosen by default is the widest this CPU lists in /proc/cpuinfo (Linux, x86, a
     dispatching build), and ncsn_simd_force accepts exactly the paths the CPU has;
   - on every path it accepts (scalar and the default included), the kernels group (each kernel
     against its scalar reference, bit for bit), the golden group and the self-test pass (on the
     path where this run of the suite already ran those three groups, they are not run again);
   - a path this build does not know is refused with a message naming it, and changes nothing. */
#include "test.h"
#include <stdlib.h>

void test_kernels(void);
void test_golden(void);
void test_selftest(void);

ncsn_status t_simd_force(const char *path)
{
    ncsn_status a = ncsn_simd_force(path), b = tk_simd_force(path), c = ts_simd_force(path);
    return a != NCSN_OK ? a : b != NCSN_OK ? b : c;
}

#if (defined(__x86_64__) || defined(__i386__)) && !defined(NCSN_NO_SIMD) && !defined(NCSN_NO_DISPATCH) && defined(__GNUC__)
/* 1 if the CPU flags line of /proc/cpuinfo holds word, 0 if not, -1 if there is no such file */
static int dp_cpu_has(const char *word)
{
    size_t len = 0, n = strlen(word);
    unsigned char *buf = t_read_file("/proc/cpuinfo", &len);
    char *flags, *p;
    int found = 0;
    if (!buf) return -1;
    buf[len] = '\0';
    flags = strstr((char *)buf, "\nflags");
    if (!flags) { free(buf); return -1; }
    for (p = flags + 1; *p && *p != '\n' && !found; p++)
        found = (p[-1] == ' ' || p[-1] == '\t') && strncmp(p, word, n) == 0 && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0');
    free(buf);
    return found;
}
#endif

static const char *const dp_paths[] = { "scalar", "sse2", "avx2", "avx512", "neon" };

void test_dispatch(void)
{
    char first[64];
    int i, ran = 0, ran_default = 0;
    snprintf(first, sizeof first, "%s", ncsn_simd_name());
#if (defined(__x86_64__) || defined(__i386__)) && !defined(NCSN_NO_SIMD) && !defined(NCSN_NO_DISPATCH) && defined(__GNUC__)
    /* valgrind's virtual CPU has no AVX-512 whatever /proc/cpuinfo says (tests/valgrind.sh sets
       NCSN_TEST_VIRTUAL_CPU): there the kernel's list does not describe the CPU the code runs on */
    if (dp_cpu_has("sse2") >= 0 && !getenv("NCSN_TEST_VIRTUAL_CPU")) {   /* what the CPU has, by the kernel's own list */
        int avx2 = dp_cpu_has("avx2") == 1 && dp_cpu_has("fma") == 1, avx512 = avx2 && dp_cpu_has("avx512f") == 1;
        const char *best = avx512 ? "avx512" : avx2 ? "avx2+fma" : "sse2 (emulated fma)";
        CHECK(strcmp(first, best) == 0 || getenv("NCSN_SIMD"), "the default kernels are %s; this CPU's widest is %s", first, best);
        CHECK((ncsn_simd_force("avx2") == NCSN_OK) == avx2, "ncsn_simd_force(\"avx2\") %s, the CPU %s it",
              avx2 ? "refused" : "accepted", avx2 ? "has" : "lacks");
        CHECK((ncsn_simd_force("avx512") == NCSN_OK) == avx512, "ncsn_simd_force(\"avx512\") %s, the CPU %s it",
              avx512 ? "refused" : "accepted", avx512 ? "has" : "lacks");
        CHECK(ncsn_simd_force("sse2") == NCSN_OK && ncsn_simd_force("neon") == NCSN_ERR_ARG, "sse2 is always there on x86, neon never");
    }
#endif
    CHECK(ncsn_simd_force("auto") == NCSN_OK, "ncsn_simd_force(\"auto\"): %s", ncsn_last_error());
    snprintf(first, sizeof first, "%s", ncsn_simd_name());
    CHECK(ncsn_simd_force("avx9") == NCSN_ERR_ARG && strstr(ncsn_last_error(), "\"avx9\"") && strstr(ncsn_last_error(), "scalar"),
          "an unknown path: refused, the message names it and the build's paths: %s", ncsn_last_error());
    CHECK(strcmp(ncsn_simd_name(), first) == 0, "a refused path changed the kernels to %s", ncsn_simd_name());
    for (i = 0; i < (int)(sizeof dp_paths / sizeof dp_paths[0]); i++) {
        int p0 = t_pass, f0 = t_fail;
        if (t_simd_force(dp_paths[i]) != NCSN_OK) continue;   /* not in this build or not on this CPU */
        ran++;
        ran_default |= strcmp(ncsn_simd_name(), first) == 0;
        if (t_group_ran_on("kernels", ncsn_simd_name()) && t_group_ran_on("golden", ncsn_simd_name()) &&
            t_group_ran_on("selftest", ncsn_simd_name())) {   /* the same checks again would only cost time (~10 s) */
            printf("    path %-20s kernels, golden files, self-test: run by those groups above\n", ncsn_simd_name());
            continue;
        }
        test_kernels();
        test_golden();
        test_selftest();
        printf("    path %-20s kernels, golden files, self-test: %d passed, %d failed\n", ncsn_simd_name(), t_pass - p0, t_fail - f0);
    }
    CHECK(ran >= 1 && ran_default, "%d kernel paths ran, the default one (%s) %s", ran, first, ran_default ? "too" : "not");
    CHECK(t_simd_force(getenv("NCSN_SIMD") ? getenv("NCSN_SIMD") : "auto") == NCSN_OK, "back to the suite's path");
}
