/* The one translation unit of the suite that compiles the implementation. */
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
