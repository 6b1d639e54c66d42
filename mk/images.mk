# mk/images.mk - `make images`: an MLP NCSN trained on Fashion-MNIST (images/images.c),
# its samples, Langevin snapshots and inpainting drawn with plots/images_*.gp, and the metric
# (docs/images.md). Included at the end of the Makefile (uses its CC, CFLAGS, LDLIBS and BUILD).
#
#   make images      the full run: 10000 steps of the preconditioned 512x3 MLP (sigma_data 0.05)
#                    on 50000 images, a classifier, 1000 samples and inpainting with the levels
#                    down to sigma = 0.1; budget about 30 min on 2 cores.
#                    Figures and numbers in $(IMAGES_OUT); the last line is
#                    images: FD <v> (floor <v>, gaussian <v>), classes <min>..<max>
#   make plots       also runs the reduced run (--quick: 10000 images, 3000 steps of 256x3,
#                    sigma_data 0.05, 200 samples; about 50 s, docs/images.md) and draws the same
#                    figures into plots/out
# (tee shows the progress; a failing program leaves "images: FAILED" in the log, which fails make.)
# The gzip'd IDX files of dataset-fashion-mnist are decompressed into $(IMAGES_DATA) (the header
# reads IDX, not gzip).
IMAGES_SRC   ?= /usr/share/datasets/fashion-mnist
IMAGES_DATA  ?= $(BUILD)/fashion-mnist
IMAGES_OUT   ?= $(BUILD)/images
IMAGES_FILES  = $(addprefix $(IMAGES_DATA)/,train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
IMAGES_FIGS   = samples nearest langevin inpaint
IMAGES_BIN    = $(BUILD)/images_run

.PHONY: images deps-images
deps-images:
	@sh tests/deps.sh images

$(IMAGES_BIN): images/images.c ncsn.h tools/common.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

# deps-images is an order-only prerequisite, so it runs once per make run: with -j, one check per
# file ran apt-get four times at once and three lost apt's lock (make plots failed on a fresh machine)
$(IMAGES_DATA)/%-ubyte: | deps-images
	@mkdir -p $(IMAGES_DATA)
	gzip -dc $(IMAGES_SRC)/$*-ubyte.gz > $@.tmp && mv $@.tmp $@

$(IMAGES_OUT)/model.safetensors: $(IMAGES_BIN) $(IMAGES_FILES)
	@mkdir -p $(IMAGES_OUT)
	{ ./$(IMAGES_BIN) train $(IMAGES_DATA) $@ || echo "images: FAILED (exit $$?)"; } | tee $(IMAGES_OUT)/train.log
	@! grep -q '^images: FAILED' $(IMAGES_OUT)/train.log

images: deps-images $(IMAGES_OUT)/model.safetensors
	{ ./$(IMAGES_BIN) eval $(IMAGES_DATA) $(IMAGES_OUT)/model.safetensors $(IMAGES_OUT) || echo "images: FAILED (exit $$?)"; } | tee $(IMAGES_OUT)/eval.log
	@! grep -q '^images: FAILED' $(IMAGES_OUT)/eval.log
	@for g in $(IMAGES_FIGS); do gnuplot -e "data='$(IMAGES_OUT)'; out='$(IMAGES_OUT)'" plots/images_$$g.gp || exit 1; echo "  drew $(IMAGES_OUT)/images_$$g.png"; done
	@tail -n 1 $(IMAGES_OUT)/eval.log

# the reduced run as a producer of `make plots` (the same --quick run in both plots modes): named
# "images" in mk/plots.mk's PLOTS_LONGEST, so it starts among the first and every figure waits for it;
# its data files wait for deps-images (order-only, above), which a fresh clone needs
$(PLOTS_DATA)/.images.$(PLOTS_MODE): $(IMAGES_BIN) $(IMAGES_FILES)
	@mkdir -p $(PLOTS_DATA)
	$(call plots_run,sh -c './$(IMAGES_BIN) train $(IMAGES_DATA) $(PLOTS_DATA)/images_model.safetensors --quick && ./$(IMAGES_BIN) eval $(IMAGES_DATA) $(PLOTS_DATA)/images_model.safetensors $(PLOTS_DATA) --quick',images)
	@touch $@

# `make images-torch`: the same recipe trained with PyTorch (tests/torch/images_torch.py) beside
# ncsn.h's, both models sampled and measured by the same `images eval` (sampler, classifier, FD),
# and both training throughputs (images/s) in the same run. IMAGES_TORCH_SIZE picks the size:
# --quick (default: 10000 images, 3000 steps of 256x3; about 15 minutes with torch) or --medium (the
# full network and data, 2500 steps). Outputs in $(IMAGES_OUT)/torch; the last line compares.
IMAGES_TORCH_SIZE ?= --quick
IMAGES_TORCH_STEPS = $(if $(filter --quick,$(IMAGES_TORCH_SIZE)),3000,2500)
IMAGES_TORCH_NTRAIN = $(if $(filter --quick,$(IMAGES_TORCH_SIZE)),10000,50000)
.PHONY: images-torch
images-torch: deps-images deps-torch $(IMAGES_BIN) $(IMAGES_FILES)
	@mkdir -p $(IMAGES_OUT)/torch/c $(IMAGES_OUT)/torch/t
	./$(IMAGES_BIN) train $(IMAGES_DATA) $(IMAGES_OUT)/torch/c.safetensors $(IMAGES_TORCH_SIZE) | tee $(IMAGES_OUT)/torch/c_train.log
	$(TORCH_PYTHON) tests/torch/images_torch.py --data $(IMAGES_DATA) --like $(IMAGES_OUT)/torch/c.safetensors \
	  --steps $(IMAGES_TORCH_STEPS) --n-train $(IMAGES_TORCH_NTRAIN) --out $(IMAGES_OUT)/torch/t.safetensors | tee $(IMAGES_OUT)/torch/t_train.log
	./$(IMAGES_BIN) eval $(IMAGES_DATA) $(IMAGES_OUT)/torch/c.safetensors $(IMAGES_OUT)/torch/c $(IMAGES_TORCH_SIZE) | tee $(IMAGES_OUT)/torch/c_eval.log
	./$(IMAGES_BIN) eval $(IMAGES_DATA) $(IMAGES_OUT)/torch/t.safetensors $(IMAGES_OUT)/torch/t $(IMAGES_TORCH_SIZE) | tee $(IMAGES_OUT)/torch/t_eval.log
	@c=$$(tail -n 1 $(IMAGES_OUT)/torch/c_eval.log); t=$$(tail -n 1 $(IMAGES_OUT)/torch/t_eval.log); \
	  cr=$$(sed -n 's/.*(\([0-9]*\) images\/s).*/\1/p' $(IMAGES_OUT)/torch/c_train.log); \
	  tr=$$(sed -n 's/.*(\([0-9]*\) images\/s.*/\1/p' $(IMAGES_OUT)/torch/t_train.log); \
	  echo "images-torch: ncsn.h $${c#images: } at $$cr images/s; torch $${t#images: } at $$tr images/s"
