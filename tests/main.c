/* main.c - runs every test group; prints "N passed, N failed" last; exit status 1 on failure. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L   /* fork */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#endif
#include "test.h"
/* under AddressSanitizer a group's child process checks for leaks itself: _exit skips the check
   LeakSanitizer makes at exit, so `make asan` with NCSN_TEST_JOBS would not see a leak */
#if defined(__SANITIZE_ADDRESS__)
#define T_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_LEAK_CHECK 1
#endif
#endif
#ifdef T_LEAK_CHECK
#include <sanitizer/lsan_interface.h>
#endif
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

#if !defined(_WIN32)
/* a child with the parent's buffered output already written (it would be written twice) */
static pid_t t_fork(void)
{
    fflush(stdout);
    fflush(stderr);
    return fork();
}

/* the child's status, waiting through signals; 0 if there is none */
static int t_wait(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) != pid)
        if (errno != EINTR) return 0;
    return 1;
}
#endif

/* 1 if the kernel starts the program at path (run with --version, its output discarded): an x86-64
   kernel built without IA-32 emulation refuses a -m32 program with ENOEXEC, which the suite then
   runs under qemu-i386 while its own children cannot be started directly */
static int t_execs(const char *path)
{
#if !defined(_WIN32)
    int status;
    pid_t pid = t_fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);   /* async-signal-safe between fork and exec */
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
        execl(path, path, "--version", (char *)NULL);
        _exit(127);
    }
    if (!t_wait(pid, &status)) return 0;
    return !(WIFEXITED(status) && WEXITSTATUS(status) == 127);
#else
    (void)path;
    return 1;
#endif
}
int t_runs_on_host(const char *path)
{
    int bin = t_elf_machine(path), sh = t_elf_machine("/bin/sh");
    if (!bin || !sh || bin == sh) return 1;
    return bin == 3 && sh == 62 && t_execs(path);   /* i386 (-m32) runs on x86-64 where the kernel has IA-32 emulation */
}

int t_in_child(int (*fn)(void))
{
#if !defined(_WIN32)
    int status;
    pid_t pid = t_fork();
    if (pid < 0) return -2;
    if (pid == 0) _exit(100 + (fn() & 0x1f));   /* 100+: a sanitizer's exit(1) after a crash is not a status */
    if (!t_wait(pid, &status)) return -2;
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

static const char *t_ran_path[64];   /* per group: the kernel path it ran on, NULL if it did not run */
int t_group_ran_on(const char *group, const char *path);

#define GROUPS(X) X(rng) X(math) X(schedule) X(worked) X(kernels) X(model) X(dsm) X(sampler) \
                  X(safetensors) X(checkpoint) X(train) X(cli) X(io) X(alloc) X(quality) X(images) X(cpp) X(readme) X(plots) X(selftest) X(golden) \
                  X(dispatch)
/* weak, so the suite links while a group is being written; a missing group counts as a failure */
#define DECL(name) void test_##name(void) __attribute__((weak));
GROUPS(DECL)
#define ENTRY(name) { #name, test_##name },
static const struct { const char *name; void (*fn)(void); } groups[] = { GROUPS(ENTRY) };

int golden_write_all(void);

#define N_GROUPS (sizeof groups / sizeof groups[0])

int t_group_ran_on(const char *group, const char *path)
{
    size_t i;
    for (i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (strcmp(groups[i].name, group) == 0) return t_ran_path[i] && strcmp(t_ran_path[i], path) == 0;
    return 0;
}

static void t_group_line(size_t i, int pass, int fail)
{
    printf("  %-12s %4d passed, %d failed\n", groups[i].name, pass, fail);
    fflush(stdout);
}

#if !defined(_WIN32)
/* NCSN_TEST_JOBS=N > 1 (make test passes its TEST_JOBS): the groups run in up to N child processes
   at once, the longest first, each printing into a temporary file that is copied out in the usual
   order, so the output is a sequential run's. No two groups share a file (each has its own names
   or temporary directory). A group that crashes counts as one failure (it ended the suite). */
typedef struct { pid_t pid; FILE *out; int counts; int pass, fail, done; } t_job;

static void t_job_start(t_job *j, size_t i)
{
    int fd[2];
    fflush(stdout);
    j->out = tmpfile();
    if (!j->out || pipe(fd) != 0 || (j->pid = fork()) < 0) { j->pid = -1; return; }
    if (j->pid == 0) {
        int c[2];
        close(fd[0]);
        dup2(fileno(j->out), 1);
        t_pass = t_fail = 0;
        groups[i].fn();
        fflush(stdout);
#ifdef T_LEAK_CHECK
        __lsan_do_leak_check();   /* a leak ends the child with LeakSanitizer's exit code: a failed group */
#endif
        c[0] = t_pass;
        c[1] = t_fail;
        _exit(write(fd[1], c, sizeof c) == (ssize_t)sizeof c ? 0 : 1);
    }
    close(fd[1]);
    j->counts = fd[0];
}

static void t_job_end(t_job *j, int status)
{
    int c[2];
    j->done = 1;
    if (read(j->counts, c, sizeof c) == (ssize_t)sizeof c) { j->pass = c[0]; j->fail = c[1]; }
    else { j->fail = 1; j->pass = -status - 1; }   /* no counts: the process crashed */
    close(j->counts);
}

/* a finished group's output and its line, as a sequential run prints them */
static void t_job_show(t_job *j, size_t i)
{
    char buf[4096];
    size_t k;
    fflush(stdout);
    if (j->out) {
        rewind(j->out);
        while ((k = fread(buf, 1, sizeof buf, j->out)) > 0) fwrite(buf, 1, k, stdout);
        fclose(j->out);
    }
    if (j->pass < 0) printf("FAIL group %s: its process ended without its counts (status 0x%x)\n", groups[i].name, -j->pass - 1);
    else t_pass += j->pass;
    t_fail += j->fail;
    t_group_line(i, j->pass < 0 ? 0 : j->pass, j->fail);
}

static void t_run_parallel(const int *run, int jobs)
{
    static const char *const longest[] = { "dispatch", "kernels", "quality", "math", "cli", "io", "sampler", "checkpoint" };
    enum { N_LONG = sizeof longest / sizeof longest[0] };
    t_job job[N_GROUPS];
    size_t order[N_GROUPS], n = 0, started = 0, shown = 0, i;
    int running = 0, k, m;
    memset(job, 0, sizeof job);
    for (k = 0; k <= N_LONG; k++)   /* the longest first, then the rest in order */
        for (i = 0; i < N_GROUPS; i++) {
            int is_long = 0;
            for (m = 0; m < N_LONG; m++) is_long |= strcmp(groups[i].name, longest[m]) == 0;
            if (run[i] && (k < N_LONG ? strcmp(groups[i].name, longest[k]) == 0 : !is_long)) order[n++] = i;
        }
    for (i = 0; shown < n; ) {
        pid_t pid;
        int status = 0;
        for (; running < jobs && started < n; started++) {
            t_job *j = &job[order[started]];
            t_job_start(j, order[started]);
            if (j->pid < 0) { j->done = 1; j->fail = 1; j->pass = 0; printf("FAIL group %s: no child process\n", groups[order[started]].name); }
            else running++;
        }
        if (running > 0 && (pid = waitpid(-1, &status, 0)) > 0) {
            size_t g;
            for (g = 0; g < N_GROUPS; g++)
                if (run[g] && !job[g].done && job[g].pid == pid) { t_job_end(&job[g], status); running--; }
        }
        for (; i < N_GROUPS && shown < n; i++) {   /* in the usual order, each as soon as those before it are shown */
            if (!run[i]) continue;
            if (!job[i].done) break;
            t_job_show(&job[i], i);
            shown++;
        }
    }
}
#endif

int main(int argc, char **argv)
{
    size_t i;
    int write_golden = 0;
    const char *only[32], *q = getenv("NCSN_TEST_QUICK");
    int a, n_only = 0, run[N_GROUPS], jobs = getenv("NCSN_TEST_JOBS") ? atoi(getenv("NCSN_TEST_JOBS")) : 1;
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
    if (jobs < 1) jobs = 1;
    for (i = 0; i < N_GROUPS; i++) {
        int k;
        run[i] = n_only == 0;
        for (k = 0; k < n_only; k++) run[i] |= strcmp(only[k], groups[i].name) == 0;
        if (run[i] && !groups[i].fn) { CHECK(0, "test group %s is not built", groups[i].name); run[i] = 0; }
    }
#if !defined(_WIN32)
    if (jobs > 1) {
        for (i = 0; i < N_GROUPS; i++)
            if (run[i]) t_ran_path[i] = ncsn_simd_name();   /* each runs in this suite run, on this path */
        t_run_parallel(run, jobs);
        jobs = 0;
    }
#endif
    for (i = 0; i < N_GROUPS && jobs; i++) {
        int p0 = t_pass, f0 = t_fail;
        if (!run[i]) continue;
        t_ran_path[i] = ncsn_simd_name();
        groups[i].fn();
        t_group_line(i, t_pass - p0, t_fail - f0);
    }
    printf("%d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}
