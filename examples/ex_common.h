/* ex_common.h - the two helpers every seed-001 exercise program uses (include after <stdio.h>,
   <stdlib.h> and <time.h>, with _POSIX_C_SOURCE >= 199309L for clock_gettime). */
#ifndef NCSN_EX_COMMON_H
#define NCSN_EX_COMMON_H

/* wall-clock seconds: the models may run on several threads */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* DIR/NAME opened for writing, or exit with the reason */
static FILE *open_out(const char *dir, const char *name)
{
    char path[1024];
    FILE *fp;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(fp = fopen(path, "w"))) { perror(path); exit(1); }
    return fp;
}
#endif
