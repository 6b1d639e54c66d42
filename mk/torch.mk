# mk/torch.mk - PyTorch parity tests (tests/torch/): ncsn.h against the seeds' own PyTorch code, and
# python/ncsn_st.py (the safetensors files in torch) both ways: tests/torch/roundtrip.py.
# Included from the Makefile, or standalone:   make -f Makefile -f mk/torch.mk check-torch
# Uses $(CC) $(CFLAGS) $(LDLIBS) $(BUILD) from the Makefile. Needs PyTorch for TORCH_PYTHON
# (Debian's python3-torch is built for /usr/bin/python3, not for a pyenv/venv python3 on PATH).
TORCH_PYTHON ?= /usr/bin/python3

.PHONY: check-torch

$(BUILD)/parity: tests/torch/parity.c ncsn.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -Werror -I. tests/torch/parity.c -o $@ $(LDLIBS)

check-torch: deps-torch $(BUILD)/parity $(BUILD)/ncsn
	@$(TORCH_PYTHON) -c 'import numpy, torch' >/dev/null 2>&1 || { \
	  echo "check-torch: PyTorch (and numpy) are not importable by $(TORCH_PYTHON)."; \
	  echo "Install them (Debian/Ubuntu):  sudo apt-get install python3-torch libopenblas0-pthread"; \
	  echo "or point TORCH_PYTHON at a python that has torch:  make check-torch TORCH_PYTHON=/path/to/python3"; \
	  exit 1; }
	$(TORCH_PYTHON) tests/torch/parity.py --driver $(BUILD)/parity
	$(TORCH_PYTHON) tests/torch/roundtrip.py --driver $(BUILD)/parity --ncsn $(BUILD)/ncsn
