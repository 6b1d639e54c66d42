/* test.h - the one tiny test framework of ncsn.h's suite.
   CHECK counts a pass or prints the failure; every test file adds named test functions to
   the list in main.c. The runner ends with "N passed, N failed" and exits non-zero on failure. */
#ifndef NCSN_TEST_H
#define NCSN_TEST_H
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include "../ncsn.h"

#ifdef __cplusplus
extern "C" {
#endif
extern int t_pass, t_fail;
extern int t_quick;              /* NCSN_TEST_QUICK=1: skip slow statistical/quality checks (matrix cells) */
extern const char *t_golden_dir; /* where golden/ is */
extern int t_threads;            /* NCSN_TEST_THREADS: threads for the models of golden runs (matrix cells) */
void t_report(int ok, const char *file, int line, const char *fmt, ...);
uint32_t t_f2u(float f);
float t_u2f(uint32_t u);
/* |got - want| <= tol * max(1, |want|) */
int t_close(double got, double want, double tol);
/* the whole file, malloc'd (one spare byte at the end), *len its size; NULL (and *len = 0) if unreadable */
unsigned char *t_read_file(const char *path, size_t *len);
/* fn's return value (0..31) when run in a child process, -1 if the child crashed (a memory error is
   then a failed check instead of the end of the suite), -2 if there is no fork */
int t_in_child(int (*fn)(void));
/* ncsn_simd_force(path) on the suite's implementation and on the private copies whose kernels the
   groups call (test_kernels.c, test_selftest.c); NCSN_OK only if every copy took it */
ncsn_status t_simd_force(const char *path);
/* 0 if the program at path is built for another machine than /bin/sh (a cross build run under
   qemu-user: the host's shell cannot start it), 1 otherwise */
int t_runs_on_host(const char *path);
/* 1 if this run of the suite ran (or, its groups in parallel, runs) the group named on the kernel path named */
int t_group_ran_on(const char *group, const char *path);
ncsn_status tk_simd_force(const char *path);
ncsn_status ts_simd_force(const char *path);
#ifdef __cplusplus
}
#endif

#define CHECK(cond, ...) t_report((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_CLOSE(got, want, tol, what) \
    t_report(t_close((got), (want), (tol)), __FILE__, __LINE__, "%s: got %.9g, want %.9g (tol %g)", (what), (double)(got), (double)(want), (double)(tol))
#endif
