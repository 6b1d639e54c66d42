/* test_readme.c - the README's usage example is examples/minimal.c, byte for byte (make test
   also compiles and runs that file), and the README names the two commands. */
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
    free(readme);
    free(ex);
}
