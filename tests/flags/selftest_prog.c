/* selftest_prog.c - built by tests/user_builds.sh once per build flag under test: runs ncsn_selftest()
   and prints its verdict (exit 0: this build computes the reference bits). */
#define NCSN_STATIC
#define NCSN_IMPLEMENTATION
#include "../../ncsn.h"
#include <stdio.h>

int main(void)
{
    ncsn_status st = ncsn_selftest();
    puts(st == NCSN_OK ? "ncsn_selftest: ok" : ncsn_last_error());
    return st == NCSN_OK ? 0 : 1;
}
