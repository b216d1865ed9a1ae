# Quant Workbench — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PYTEST_WORKERS ?= 2

.PHONY: demo test lint bench samples clean help

help:
	@echo "make demo   - create $(VENV), install workbench with every extra ([all]) and its Jupyter kernel, run the demo"
	@echo "make test   - create $(VENV) if needed, install with [dev] extras (and, as root on Debian, chromium, postgresql, poppler-utils), run the whole test suite"
	@echo "make lint   - ruff over the package, tests and benchmarks"
	@echo "make bench  - run every benchmark in benchmarks/ (prints one JSON line each)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[all]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/workbench kernel install
	$(BIN)/workbench demo

test: $(VENV)/.installed-dev
	@tools/test-system-deps
	$(BIN)/workbench kernel install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check workbench tests benchmarks

bench: $(VENV)/.installed-dev
	@for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

samples: $(VENV)/.installed-dev
	$(BIN)/python data/make_samples.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist *.egg-info
