# mk/bench.mk - `make bench`: ncsn.h against PyTorch on the seeds' workloads (issue 5, item 1).
# Included at the end of the Makefile (uses its CC, WARN, LDLIBS, TORCH_PYTHON from mk/torch.mk).
#
#   make bench                  W1..W5 (2 rounds) + the end-to-end examples, a few minutes
#   make bench BENCH_QUICK=1    1 round, fewer reps, smaller E2E (about half the time)
#   make bench BENCH_PROFILE=1  also `perf record` the ncsn.h side of each workload (top functions
#                               in the table and the README draft)
#   make bench BENCH_ARGS='--workloads W1,W5 --no-e2e --rounds 3'    (see bench/run.py --help)
#
# The C side is built with -O3 -march=native (the issue's setting), into build/bench/, separately
# from the -O2 test build. Output: the table on stdout, build/bench/results.json (every rep),
# build/bench_readme.md (the README performance section draft).
BENCH_BUILD  ?= build/bench
BENCH_OPT    ?= -O3 -march=native
BENCH_CFLAGS  = -std=c99 $(WARN) $(BENCH_OPT)
BENCH_ARGS   ?=
BENCH_QUICK  ?=
BENCH_PROFILE ?=

# how the README draft names the command that produced it
BENCH_CMD_VARS = $(if $(filter-out 0,$(BENCH_QUICK)), BENCH_QUICK=1)$(if $(filter-out 0,$(BENCH_PROFILE)), BENCH_PROFILE=1)$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')

BENCH_BINS = $(BENCH_BUILD)/bench $(BENCH_BUILD)/peak $(BENCH_BUILD)/seed000_two_gaussians $(BENCH_BUILD)/seed001_swiss_roll

.PHONY: bench bench-build

$(BENCH_BUILD)/bench: bench/bench.c ncsn.h
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) $< -o $@ $(LDLIBS)
$(BENCH_BUILD)/peak: bench/peak.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) $< -o $@ -lm -lpthread
$(BENCH_BUILD)/seed00%: examples/seed00%.c ncsn.h
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) $< -o $@ $(LDLIBS)

bench-build: $(BENCH_BINS)

bench: deps-torch bench-build
	@$(TORCH_PYTHON) -c 'import numpy, torch' >/dev/null 2>&1 || { \
	  echo "bench: PyTorch (and numpy) are not importable by $(TORCH_PYTHON)."; \
	  echo "Install them (Debian/Ubuntu):  sudo apt-get install python3-torch libopenblas0-pthread"; \
	  exit 1; }
	$(TORCH_PYTHON) bench/run.py --build $(BENCH_BUILD) --cc "$(CC)" --cflags "$(BENCH_OPT)" \
	  --command "make bench$(BENCH_CMD_VARS)" \
	  $(if $(filter-out 0,$(BENCH_QUICK)),--quick) $(if $(filter-out 0,$(BENCH_PROFILE)),--profile) $(BENCH_ARGS)
