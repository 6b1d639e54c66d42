# mk/bench.mk - `make bench`: ncsn.h against PyTorch and oneDNN on the seeds' workloads, the
# table of docs/performance.md. Included at the end of the Makefile (uses its CC, CXX, WARN, LDLIBS,
# TORCH_PYTHON from mk/torch.mk).
#
#   make bench                  W1..W14 (2 rounds) + the end-to-end examples
#   make bench BENCH_QUICK=1    1 round, fewer reps, smaller E2E (5-7 minutes on a 2-CPU machine
#                               at load average 6-10; most of it is torch processes, and the
#                               baseline-flag build, bounded per process, while it is ~50x slower)
#   make bench BENCH_PROFILE=1  also `perf record` the ncsn.h side of each workload (top functions
#                               in the table and the draft)
#   make bench BENCH_ARGS='--workloads W1,W5 --no-e2e --rounds 3'    (see bench/run.py --help)
#
# The C side is built twice into build/bench/, separately from the -O2 test build: with
# BENCH_OPT (-O3 -march=native) as `bench`, and with BENCH_BASE_OPT (-O3 alone: the baseline
# flags a host project usually passes) as `bench_base`. The oneDNN side (bench/bench_dnnl.cpp,
# Debian libdnnl-dev, installed by deps-bench) is built with BENCH_OPT. Output: the table on
# stdout, build/bench/results.json (every rep), build/bench_performance.md (the draft of
# docs/performance.md).
BENCH_BUILD  ?= build/bench
BENCH_OPT    ?= -O3 -march=native
BENCH_BASE_OPT ?= -O3
BENCH_CFLAGS  = -std=c99 $(WARN) $(BENCH_OPT)
# -Wno-maybe-uninitialized: g++ 12 -O3 warns inside its own AVX-512 intrinsics header
# (_mm512_undefined_ps), not in this code; -fno-math-errno lets its hand-written Adam loop use
# vector square roots (same results: sqrt is correctly rounded either way)
BENCH_CXXFLAGS = -std=c++11 -Wall -Wextra -Wno-maybe-uninitialized -fno-math-errno $(BENCH_OPT) -fopenmp
BENCH_ARGS   ?=
BENCH_QUICK  ?=
BENCH_PROFILE ?=

# how the draft names the command that produced it
BENCH_CMD_VARS = $(if $(filter-out 0,$(BENCH_QUICK)), BENCH_QUICK=1)$(if $(filter-out 0,$(BENCH_PROFILE)), BENCH_PROFILE=1)$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')

BENCH_BINS = $(BENCH_BUILD)/bench $(BENCH_BUILD)/bench_base $(BENCH_BUILD)/bench_dnnl $(BENCH_BUILD)/peak \
             $(BENCH_BUILD)/seed000_two_gaussians $(BENCH_BUILD)/seed001_swiss_roll

.PHONY: bench bench-build

$(BENCH_BUILD)/bench: bench/bench.c bench/harness.h ncsn.h
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) $< -o $@ $(LDLIBS)
$(BENCH_BUILD)/bench_base: bench/bench.c bench/harness.h ncsn.h
	@mkdir -p $(BENCH_BUILD)
	$(CC) -std=c99 $(WARN) $(BENCH_BASE_OPT) $< -o $@ $(LDLIBS)
$(BENCH_BUILD)/bench_dnnl: bench/bench_dnnl.cpp bench/harness.h ncsn.h
	@mkdir -p $(BENCH_BUILD)
	$(CXX) $(BENCH_CXXFLAGS) $< -o $@ -ldnnl $(LDLIBS)
$(BENCH_BUILD)/peak: bench/peak.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) $< -o $@ -lm -lpthread
$(BENCH_BUILD)/seed00%: examples/seed00%.c ncsn.h tools/common.h
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) $< -o $@ $(LDLIBS)

bench-build: $(BENCH_BINS)

bench: deps-bench bench-build
	@$(TORCH_PYTHON) -c 'import numpy, torch' >/dev/null 2>&1 || { \
	  echo "bench: PyTorch (and numpy) are not importable by $(TORCH_PYTHON)."; \
	  echo "Install them (Debian/Ubuntu):  sudo apt-get install python3-torch libopenblas0-pthread"; \
	  exit 1; }
	$(TORCH_PYTHON) bench/run.py --build $(BENCH_BUILD) --cc "$(CC)" --cflags="$(BENCH_OPT)" --base-cflags="$(BENCH_BASE_OPT)" \
	  --command "make bench$(BENCH_CMD_VARS)" \
	  $(if $(filter-out 0,$(BENCH_QUICK)),--quick) $(if $(filter-out 0,$(BENCH_PROFILE)),--profile) $(BENCH_ARGS)
