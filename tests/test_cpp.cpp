// test_cpp.cpp - placeholder replaced by the PCG/C++ group (kept compiling meanwhile)
#define NCSN_STATIC
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
