# Every target that needs Python depends on `setup`, so `make run` / `make test`
# work on a fresh machine with nothing but python3 and (for browser tests) apt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

.PHONY: setup run test build eval bench lint browser loadtest clean

setup: $(STAMP)

# torch is installed first and alone, pinned, so pip takes the local CPU wheel
# and never resolves a CUDA build for sentence-transformers.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

build: setup
	$(BIN)/qa build

run: build
	$(BIN)/python app.py

# Debian's chromium for the real-browser tests (never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  { echo "Installing Debian's chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Lint first (it fails in seconds), then the index is built as `make run` does: on a cold cache
# that adapts the model once (minutes), and the suite's own index reuses the cached model.
test: lint browser build
	$(BIN)/python -m pytest

eval: build
	$(BIN)/qa eval

bench: build
	$(BIN)/python -m bench.run

loadtest: build
	$(BIN)/python -m bench.loadtest

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf index/manifest.json index/gen-* index/.tmp-* .pytest_cache
