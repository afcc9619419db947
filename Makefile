# `make demo` and `make test` do all the set-up: a .venv, PyTorch (the CPU build 2.13.0 when
# torch is absent), then nnlab with its dev extra.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.nnlab-installed

.PHONY: demo test test-slow test-all lint format bench

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: $(STAMP)
	$(VENV)/bin/nnlab tour --preset quick

# the fast tier: lint, then every test not marked slow (each under 20 s, tests/conftest.py), one
# worker per core, each test file on one worker so that its module fixtures train once
test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/pytest -m "not slow" -n auto --dist loadfile

# the slow tier: recipe retraining, multi-process launches, SIGKILL resumes, load tests; one
# process, since its launches and load tests time themselves against the whole machine
test-slow: $(STAMP)
	$(VENV)/bin/pytest -m slow

test-all: test test-slow

format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

# Every benchmark runs; one that cannot measure (no NNLAB_DATA for bench_frechet, no chromium for
# the browser ones) exits non-zero, and then so does `make bench`, naming it.
bench: $(STAMP)
	@failed=""; for f in benchmarks/bench_*.py; do echo "== $$f"; \
		$(PY) $$f || failed="$$failed $$(basename $$f)"; done; \
	if [ -n "$$failed" ]; then echo "make bench: did not measure:$$failed" >&2; exit 1; fi
