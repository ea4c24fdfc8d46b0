# EfficientMTNet — the two set-up commands of the README:
#   make demo   generate the synthetic dataset, train, test, print metrics
#   make test   run the test suite
# Both create (or reuse) .venv and install the pinned stack first.
#
# Override for a CUDA machine, for example:
#   make test TORCH="torch==2.4.1 torchvision==0.19.1" TORCH_INDEX_ARGS="--index-url https://download.pytorch.org/whl/cu121"

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
TORCH ?= torch==2.14.1 torchvision==0.29.1
TORCH_INDEX_ARGS ?=
MMCV_CACHE ?= $(HOME)/.cache/efficient-mtnet/wheels
PYTEST_ARGS ?=
# pytest-xdist workers; a file's tests stay on one worker (--dist loadfile), so
# module fixtures and the fixed-port two-process test are never shared
PYTEST_WORKERS ?= 2
PY := $(VENV)/bin/python

export PYTHON VENV TORCH TORCH_INDEX_ARGS MMCV_CACHE

.PHONY: env browser page test test-fast demo clean-env

env:
	@bash tools/setup_env.sh

# Debian's chromium + chromedriver for the web page's browser test
browser:
	@bash tools/misc/install_chromium.sh

# onnxruntime-web (npm ci, pinned) for the page that runs in the browser
page:
	@bash tools/misc/install_page_deps.sh

test: env browser page
	$(PY) -m pytest tests -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-fast: env
	$(PY) -m pytest tests -m "not slow" -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

demo: env
	@bash tools/demo.sh

clean-env:
	rm -rf $(VENV)
