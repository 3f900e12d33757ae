# The two commands of the README are `make repro` (run the pipeline) and `make test` (run the tests).
# Both create the virtualenv on first use and reuse it afterwards (it is rebuilt only when
# pyproject.toml or requirements.lock change).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# Where pip finds a CPU build of torch on machines without a local wheel, e.g.
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
TORCH_PIP_ARGS := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX),)

# Stage commands (`fullcycle ...`) and dvc must come from the venv.
export PATH := $(BIN):$(PATH)

.PHONY: setup repro test test-all lint bench lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "fullcycle needs Python 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	# torch first, alone: installed as a dependency it could resolve to a multi-GB CUDA build
	$(BIN)/pip install -c requirements.lock $(TORCH_PIP_ARGS) torch
	$(BIN)/pip install -c requirements.lock -e '.[dev]'
	touch $(STAMP)

## run the pipeline (prepare -> baseline -> train -> evaluate -> package -> monitor); cached stages are skipped
# The last lines say what was reproduced: HEAD's committed metrics (equal, or which differ), the
# test predictions, and which outputs differ only in bytes (another CPU kind's float kernels).
# "Metrics differ" (exit 1) is a verdict, not a failure: the pipeline ran and its outputs are
# valid (after a params change they are meant to differ), so make succeeds and the report says it;
# an error (exit 2, e.g. no git commit to compare with) still fails make.
repro: setup
	$(BIN)/dvc repro
	@$(BIN)/fullcycle reproduced || [ $$? -eq 1 ]

## run the fast test suite (tiny models; the real model runs with `make test-all`)
test: setup
	@$(BIN)/pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$rc

test-all: setup
	$(BIN)/pytest -m ''

lint: setup
	$(BIN)/pre-commit run --all-files

bench: setup
	$(BIN)/python bench/validate_scale.py

## re-pin requirements.lock from the current venv (after changing pyproject.toml)
lock:
	{ sed -n '1,3p' requirements.lock; $(BIN)/pip freeze --exclude-editable | grep -v '^fullcycle' \
	  | sed 's/^torch==\([0-9.]*\)+cpu/torch==\1/'; } > requirements.lock.new && mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
