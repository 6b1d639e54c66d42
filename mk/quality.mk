# mk/quality.mk - `make quality`: every data set of docs/quality.md trained and sampled with the
# CLI's defaults, one table row each (about 14 CPU-minutes: 7-8 minutes on 2 free cores, where
# QUALITY_JOBS defaults to 2 rows at a time, one thread each: docs/quality.md). Installs R (r-base-core, for
# faithful and iris) and python3-sklearn (for the digits) through tests/deps.sh, like the others.
QUALITY_OUT ?= build/quality

.PHONY: quality
$(BUILD)/quality: quality/quality.c ncsn.h tools/common.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

quality: $(BUILD)/quality $(BUILD)/ncsn
	@sh tests/deps.sh quality
	sh quality/run.sh $(BUILD) $(QUALITY_OUT)

# `make quality-torch`: the seeds' recipes on make quality's two Gaussians (seed 000) and Swiss roll
# (seed 001), ncsn.h (`ncsn train --preset`) beside PyTorch (tests/torch/quality_torch.py), both
# measured by `quality eval`; about 4 CPU-minutes, one thread each (docs/quality.md). Their 5000
# points (the sets before make quality's rows took 50 000) keep the documented torch numbers.
.PHONY: quality-torch
quality-torch: deps-torch $(BUILD)/quality $(BUILD)/ncsn
	@mkdir -p $(QUALITY_OUT)/torch
	$(BUILD)/quality gen two_gaussians $(QUALITY_OUT)/torch/two_gaussians.csv 5000
	$(BUILD)/quality gen swiss_roll $(QUALITY_OUT)/torch/swiss_roll.csv 5000
	@$(BUILD)/quality header
	@$(TORCH_PYTHON) tests/torch/quality_torch.py --data $(QUALITY_OUT)/torch --out $(QUALITY_OUT)/torch \
	  --quality $(BUILD)/quality --ncsn $(BUILD)/ncsn
