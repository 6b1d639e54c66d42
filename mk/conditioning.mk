# mk/conditioning.mk - `make conditioning`: the learned score's error per noise level for eight ways
# to condition the score network on sigma, on four Gaussian mixtures with exact scores
# (exercises/ex6_conditioning.c; docs/conditioning.md has the table and the choice it led to).
# Included at the end of the Makefile (uses its BUILD and the rule for exercises/).
#
#   make conditioning                          the table: 8 variants x 4 mixtures x 3 seeds (~6 min)
#   make conditioning COND_ARGS=--quick        1 seed, 300 steps (~40 s)
#   make conditioning COND_ARGS=--capacity     the recommended network's widths and depths, 2-64-D
# Output: the tables on stdout, and data files in $(COND_OUT).
COND_OUT  ?= build/conditioning
COND_ARGS ?=

.PHONY: conditioning
conditioning: $(BUILD)/ex6_conditioning
	@mkdir -p $(COND_OUT)
	./$(BUILD)/ex6_conditioning $(COND_OUT) $(COND_ARGS)
