# mk/plots.mk - `make plots`: build the programs, run every data producer, draw every
# figure with gnuplot into plots/out/*.png, and check that each PNG exists and is not trivial.
# Included at the end of the Makefile (uses its CC, CFLAGS, LDLIBS, BUILD and $(BUILD)/% rule).
#
#   make plots                  full size (a few minutes on 2 cores; producers run in parallel)
#   make plots PLOTS_QUICK=1    reduced sizes (--quick, fewer training steps), for CI speed tests
#
# Producers (each writes plain whitespace-separated text into $(PLOTS_DATA)):
#   plots/fig_*.c, exercises/ex*.c    run as  X DATADIR [--quick]
#   seed000_two_gaussians [steps] [out.csv], seed001_swiss_roll [steps] [prefix], seed002_toy_mixing [prefix]
#   images: images train/eval --quick in both modes (its rule and figures' data in mk/images.mk)
# Figures: every plots/NAME.gp, run as  gnuplot -e "data='DATADIR'; out='OUTDIR'" plots/NAME.gp,
# writes OUTDIR/NAME.png. Producers re-run only when their binary changes (stamp files in the data
# directory, one set per mode); `rm -rf plots/out` (or `make clean`) starts afresh.
PLOTS_OUT   ?= plots/out
PLOTS_DATA  ?= $(PLOTS_OUT)/data
PLOTS_JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
PLOTS_MIN_BYTES ?= 10240

ifneq ($(filter-out 0,$(PLOTS_QUICK)),)
PLOTS_MODE  = quick
PLOTS_OTHER = full
PLOTS_FLAG  = --quick
SEED000_STEPS = 300
SEED001_STEPS = 1000
# the image run (about 40 s, and its program compiled first) is the longest producer at this size
PLOTS_LONGEST = images ex6_conditioning.a ex6_conditioning.b ex5_ncsn_vs_ddpm seed001_swiss_roll
else
PLOTS_MODE  = full
PLOTS_OTHER = quick
PLOTS_FLAG  =
SEED000_STEPS = 2000
SEED001_STEPS = 10000
# ex6 alone takes about twice as long as all the others together on one core, so its two parts
# start at once and the rest, the image run first, share what is left
PLOTS_LONGEST = ex6_conditioning.a ex6_conditioning.b images ex5_ncsn_vs_ddpm seed001_swiss_roll
endif

PLOTS_FIG_SRC = $(wildcard plots/fig_*.c)
PLOTS_EX_SRC  = $(wildcard exercises/ex*.c)
# longest first (PLOTS_LONGEST above, per mode), so that `-j` starts them early
PLOTS_PRODUCERS = $(PLOTS_LONGEST) $(filter-out $(PLOTS_LONGEST) ex6_conditioning,seed000_two_gaussians \
                  $(patsubst exercises/%.c,%,$(PLOTS_EX_SRC)) $(patsubst plots/%.c,%,$(PLOTS_FIG_SRC)) seed002_toy_mixing)
PLOTS_STAMPS  = $(PLOTS_PRODUCERS:%=$(PLOTS_DATA)/.%.$(PLOTS_MODE))
PLOTS_GP      = $(wildcard plots/*.gp)
PLOTS_PNG     = $(PLOTS_GP:plots/%.gp=$(PLOTS_OUT)/%.png)

.PHONY: plots plots-data plots-draw plots-check

# the test group checks the figure computations of the shared header
$(BUILD)/test_plots.o: tools/common.h

plots: deps-plots
	@$(MAKE) --no-print-directory -j$(PLOTS_JOBS) programs
	@mkdir -p $(PLOTS_DATA)
	@rm -f $(PLOTS_DATA)/.*.$(PLOTS_OTHER)
	@echo "plots: $(words $(PLOTS_PRODUCERS)) producers ($(PLOTS_MODE), $(PLOTS_JOBS) at a time) into $(PLOTS_DATA), then $(words $(PLOTS_GP)) figures into $(PLOTS_OUT)"
	@$(MAKE) --no-print-directory -j$(PLOTS_JOBS) plots-draw
	@$(MAKE) --no-print-directory plots-check

# one make run for data and figures: each binary and stamp is considered once, so a source edited
# while the producers run cannot make them run twice
plots-data: $(PLOTS_STAMPS)
plots-draw: $(PLOTS_PNG)

# run one producer: its output goes to DATADIR/NAME.log (shown if it fails), then the stamp
define plots_run
	@t0=$$(date +%s); echo "  run  $(1)"; \
	if $(1) > $(PLOTS_DATA)/$(2).log 2>&1; then \
	  echo "  done $(2) ($$(( $$(date +%s) - t0 )) s)"; \
	else echo "plots: $(2) failed; the end of $(PLOTS_DATA)/$(2).log:"; tail -n 20 $(PLOTS_DATA)/$(2).log; exit 1; fi
endef

$(PLOTS_DATA)/.fig_%.$(PLOTS_MODE): $(BUILD)/fig_%
	@mkdir -p $(PLOTS_DATA)
	$(call plots_run,./$< $(PLOTS_DATA) $(PLOTS_FLAG),fig_$*)
	@touch $@

# exercise 6 (about twice the other producers together) runs as two parts, data sets 0-1 and 2-3,
# joined in order into the files its figure reads (each block ends with two blank lines)
$(PLOTS_DATA)/.ex6_conditioning.a.$(PLOTS_MODE) $(PLOTS_DATA)/.ex6_conditioning.b.$(PLOTS_MODE): $(PLOTS_DATA)/.ex6_conditioning.%.$(PLOTS_MODE): $(BUILD)/ex6_conditioning
	@mkdir -p $(PLOTS_DATA)
	$(call plots_run,./$< $(PLOTS_DATA) $(PLOTS_FLAG) --part $* --sets $(if $(filter a,$*),3,12),ex6_conditioning.$*)
	@touch $@
$(PLOTS_DATA)/ex6_conditioning.dat: $(PLOTS_DATA)/.ex6_conditioning.a.$(PLOTS_MODE) $(PLOTS_DATA)/.ex6_conditioning.b.$(PLOTS_MODE)
	@cat $(PLOTS_DATA)/ex6_conditioning.a.dat $(PLOTS_DATA)/ex6_conditioning.b.dat > $@
	@cp $(PLOTS_DATA)/ex6_conditioning_meta.a.dat $(PLOTS_DATA)/ex6_conditioning_meta.dat
$(PLOTS_OUT)/ex6_conditioning.png: $(PLOTS_DATA)/ex6_conditioning.dat

$(PLOTS_DATA)/.ex%.$(PLOTS_MODE): $(BUILD)/ex%
	@mkdir -p $(PLOTS_DATA)
	$(call plots_run,./$< $(PLOTS_DATA) $(PLOTS_FLAG),ex$*)
	@touch $@

# the seed examples; the numbers their figures print are taken from their logs into *.key files
$(PLOTS_DATA)/.seed000_two_gaussians.$(PLOTS_MODE): $(BUILD)/seed000_two_gaussians mk/plots.awk
	@mkdir -p $(PLOTS_DATA)
	$(call plots_run,./$< $(SEED000_STEPS) $(PLOTS_DATA)/seed000_samples.csv,seed000_two_gaussians)
	@awk -v steps=$(SEED000_STEPS) -f mk/plots.awk $(PLOTS_DATA)/seed000_two_gaussians.log > $(PLOTS_DATA)/seed000.key
	@touch $@

$(PLOTS_DATA)/.seed001_swiss_roll.$(PLOTS_MODE): $(BUILD)/seed001_swiss_roll mk/plots.awk
	@mkdir -p $(PLOTS_DATA)
	$(call plots_run,./$< $(SEED001_STEPS) $(PLOTS_DATA)/seed001,seed001_swiss_roll)
	@awk -v steps=$(SEED001_STEPS) -f mk/plots.awk $(PLOTS_DATA)/seed001_swiss_roll.log > $(PLOTS_DATA)/seed001.key
	@touch $@

$(PLOTS_DATA)/.seed002_toy_mixing.$(PLOTS_MODE): $(BUILD)/seed002_toy_mixing
	@mkdir -p $(PLOTS_DATA)
	$(call plots_run,./$< $(PLOTS_DATA)/seed002,seed002_toy_mixing)
	@touch $@

# every figure is redrawn when any producer re-ran or its script changed; a failed gnuplot run
# leaves no PNG behind
$(PLOTS_OUT)/%.png: plots/%.gp $(PLOTS_STAMPS)
	@echo "  draw $@"
	@gnuplot -e "data='$(PLOTS_DATA)'; out='$(PLOTS_OUT)'" $< || { rm -f $@; echo "plots: gnuplot failed on $<"; exit 1; }

plots-check:
	@fail=0; n=0; for g in $(PLOTS_GP); do \
	  f=$(PLOTS_OUT)/$$(basename $$g .gp).png; n=$$((n + 1)); \
	  s=$$(wc -c < $$f 2>/dev/null || echo 0); \
	  if [ "$$s" -lt $(PLOTS_MIN_BYTES) ]; then echo "plots: $$f is missing or too small ($$s bytes)"; fail=1; fi; \
	done; \
	if [ $$fail = 0 ]; then echo "plots: $$n figures in $(PLOTS_OUT), each > $(PLOTS_MIN_BYTES) bytes"; else exit 1; fi
