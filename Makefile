# ncsn.h - build, test and reproduce. `make test` runs every check; `make plots` draws the figures.
CC      ?= cc
CXX     ?= c++
OPT     ?= -O2
ARCH    ?= -march=native
DEFS    ?=
BUILD   ?= build/default
# STD= CXXSTD= (and WARN/CXXWARN without -pedantic): the compilers' default dialects, as the
# matrix builds them too; WERROR=-Werror makes any warning fail the build (every matrix cell)
STD      = -std=c99
CXXSTD   = -std=c++11
WARN     = -Wall -Wextra -pedantic
CXXWARN  = -Wall -Wextra -pedantic
WERROR   =
CFLAGS   = $(STD) $(WARN) $(WERROR) $(OPT) $(ARCH) $(DEFS)
CXXFLAGS = $(CXXSTD) $(CXXWARN) $(WERROR) $(OPT) $(ARCH) $(DEFS)
LDLIBS   = -lm -lpthread

TEST_SRC  = $(wildcard tests/*.c)
TEST_OBJ  = $(TEST_SRC:tests/%.c=$(BUILD)/%.o) $(BUILD)/test_cpp.o
# the programs built on the library, each from one source file into $(BUILD)/NAME:
# examples/ (the README example, the seed programs), exercises/, plots/ (figure data), tools/ (`ncsn`)
EXAMPLES  = $(patsubst examples/%.c,$(BUILD)/%,$(wildcard examples/*.c))
EXERCISES = $(patsubst exercises/%.c,$(BUILD)/%,$(wildcard exercises/*.c))
FIGURES   = $(patsubst plots/%.c,$(BUILD)/%,$(wildcard plots/*.c))
PROGRAMS  = $(EXAMPLES) $(EXERCISES) $(FIGURES) $(BUILD)/ncsn

# deps-WHAT runs `sh tests/deps.sh WHAT` (installs or names the missing packages). A static pattern
# rule: make never applies an implicit pattern rule (deps-%:) to a .PHONY target, so one did nothing.
DEPS = deps-test deps-matrix deps-torch deps-bench deps-plots deps-cross deps-quality deps-install deps-shared
.PHONY: all test golden test-matrix programs plots check-torch bench quality clean $(DEPS)
all: $(BUILD)/run_tests $(PROGRAMS)

$(BUILD)/%.o: tests/%.c ncsn.h tests/test.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -c $< -o $@
$(BUILD)/test_model.o $(BUILD)/scalar_copy.o: tests/scalar_copy.h
$(BUILD)/test_cpp.o: tests/test_cpp.cpp tests/test_cpp_side.c ncsn.h tests/test.h
	@mkdir -p $(BUILD)
	$(CXX) $(CXXFLAGS) -c $< -o $@
# the `cli` test group runs the command from next to run_tests
$(BUILD)/run_tests: $(TEST_OBJ) $(BUILD)/ncsn
	$(CXX) $(TEST_OBJ) -o $@ $(LDLIBS)

# The programs share one compiled implementation, the suite's $(BUILD)/impl.o (same flags, so the
# same bits): each is compiled with NCSN_IMPLEMENTATION_DONE defined, which makes its own
# #define NCSN_IMPLEMENTATION add nothing. Compiling the implementation into each of the 15 was
# two thirds of a fresh `make test`'s CPU time. -fsyntax-only first checks that the file still
# compiles on its own, as a reader builds it (cc file.c -lm -lpthread).
PROGRAM_CC = $(CC) $(CFLAGS) -fsyntax-only $< && $(CC) $(CFLAGS) -DNCSN_IMPLEMENTATION_DONE $< $(BUILD)/impl.o -o $@ $(LDLIBS)
# the command `ncsn` (tools/ncsn_cli.c)
$(BUILD)/ncsn: tools/ncsn_cli.c ncsn.h tools/common.h $(BUILD)/impl.o
	$(PROGRAM_CC)

$(BUILD)/%: examples/%.c ncsn.h tools/common.h $(BUILD)/impl.o
	$(PROGRAM_CC)
$(BUILD)/%: exercises/%.c ncsn.h tools/common.h $(BUILD)/impl.o
	$(PROGRAM_CC)
$(BUILD)/%: plots/%.c ncsn.h tools/common.h $(BUILD)/impl.o
	$(PROGRAM_CC)
programs: $(PROGRAMS)

# The test command: every check, the golden files compared bit for bit, "N passed, N failed" last.
# Before the suite: the self-test of this build, then tests/user_builds.sh (the README example and
# the self-test in gcc's and clang's default dialects with -march=native, and the flag table: each
# unsafe-math flag refused at compile time or caught by ncsn_selftest; 13 compiles, TEST_JOBS at a time).
# the objects and programs compile on every core, and the suite's groups run TEST_JOBS at a time
# (NCSN_TEST_JOBS; its output is that of a sequential run)
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps-test
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) $(BUILD)/run_tests $(PROGRAMS)
	./$(BUILD)/minimal > /dev/null
	./$(BUILD)/ncsn selftest
	NCSN_TEST_JOBS=$(TEST_JOBS) sh tests/user_builds.sh $(BUILD)
	NCSN_TEST_JOBS=$(TEST_JOBS) ./$(BUILD)/run_tests

# Regenerate golden/ on purpose (never run by `make test`), and with it the hashes ncsn_selftest()
# compares with (the NCSN__SELFTEST_* lines of ncsn.h); commit with a message saying why.
golden: $(BUILD)/run_tests
	./$(BUILD)/run_tests --write-golden

# The suite under gcc/clang x -O0/-O3 x scalar/SSE2/AVX2/AVX-512 (what the CPU has), all against golden/.
test-matrix:
	@sh tests/deps.sh matrix
	@sh tests/deps.sh cross
	sh tests/matrix.sh

$(DEPS): deps-%:
	@sh tests/deps.sh $*

clean:
	rm -rf build plots/out

include mk/torch.mk
include mk/plots.mk
include mk/bench.mk
include mk/reliability.mk
include mk/quality.mk
include mk/conditioning.mk
include mk/install.mk
include mk/images.mk
