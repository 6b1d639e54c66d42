# mk/reliability.mk - the long reliability runs: sanitizers, valgrind, fuzzing, and killing
# `ncsn train` mid-run. Included at the end of the Makefile (uses its CC, LDLIBS, BUILD and the
# rules for run_tests and $(BUILD)/ncsn).
#
#   make asan           the suite rebuilt with clang -fsanitize=address,undefined, run in quick mode
#   make valgrind       the suite under valgrind memcheck (quick mode, AVX2 build: valgrind has no AVX-512),
#                       one valgrind per test group, VG_JOBS at a time; VG_GROUPS="cli alloc" for some only
#   make fuzz           every libFuzzer target for FUZZ_TIME seconds (default 300) from tests/fuzz/corpus
#   make fuzz-ci        the same, FUZZ_CI_TIME seconds each (default 25: a regression run of the corpus and a short search; `make fuzz` searches longer)
#   make kill-test      SIGKILL `ncsn train` at random moments, KILL_TRIALS times (default 25), resume,
#                       and compare with an uninterrupted run byte for byte
#   make reliability    all of the above but `fuzz` (asan, valgrind, fuzz-ci, kill-test)
.PHONY: asan valgrind fuzz fuzz-ci fuzz-corpus kill-test reliability

SAN_FLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_BUILD ?= build/asan
asan:
	@sh tests/deps.sh matrix
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) BUILD=$(ASAN_BUILD) CC=clang CXX=clang++ OPT="-O1 -g $(SAN_FLAGS)" \
	  LDLIBS="-lm -lpthread $(SAN_FLAGS)" $(ASAN_BUILD)/run_tests
	ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  NCSN_TEST_QUICK=1 NCSN_TEST_JOBS=$(TEST_JOBS) $(ASAN_BUILD)/run_tests

VG_BUILD ?= build/valgrind
VG_ARCH  ?= $(if $(filter x86_64,$(shell uname -m)),-march=x86-64-v3,)
VG_GROUPS ?=
VG_SKIP   ?=
valgrind:
	@command -v valgrind >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq valgrind >/dev/null; \
	  else echo "valgrind: missing; install with: sudo apt-get install valgrind" >&2; exit 1; fi; }
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) BUILD=$(VG_BUILD) OPT="-O1 -g" ARCH="$(VG_ARCH)" $(VG_BUILD)/run_tests
	VG_SKIP="$(VG_SKIP)" sh tests/valgrind.sh $(VG_BUILD)/run_tests $(VG_GROUPS)

FUZZ_BUILD   ?= build/fuzz
FUZZ_TARGETS  = safetensors checkpoint csv idx
FUZZ_TIME    ?= 300
FUZZ_CI_TIME ?= 25
FUZZ_CFLAGS   = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c ncsn.h
	@mkdir -p $(FUZZ_BUILD)
	clang $(FUZZ_CFLAGS) $< -o $@ -lm -lpthread
$(FUZZ_BUILD)/make_corpus: tests/fuzz/make_corpus.c ncsn.h
	@mkdir -p $(FUZZ_BUILD)
	$(CC) -std=c99 -O1 $< -o $@ -lm -lpthread
fuzz: 
	@sh tests/fuzz/deps.sh
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ_TARGETS)
fuzz-ci:
	@sh tests/fuzz/deps.sh
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
	FUZZ_JOBS=$(TEST_JOBS) sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_CI_TIME) $(FUZZ_TARGETS)
# regenerate the seed corpus in tests/fuzz/corpus (on purpose only, like `make golden`)
fuzz-corpus: $(FUZZ_BUILD)/make_corpus
	$(FUZZ_BUILD)/make_corpus tests/fuzz/corpus

KILL_TRIALS ?= 25
kill-test: $(BUILD)/ncsn
	sh tests/kill_test.sh $(BUILD)/ncsn $(KILL_TRIALS)

reliability: asan valgrind fuzz-ci kill-test
