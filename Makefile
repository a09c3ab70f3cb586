# hlmon — the two commands that matter: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test run lint typecheck pytest bench chaos soak sim snapshot clean

# Build the venv from nothing: pinned dependencies from requirements.lock.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hlmon --demo

run: $(STAMP)
	$(BIN)/hlmon

sim: $(STAMP)
	$(BIN)/hlmon sim --faults

snapshot: $(STAMP)
	$(BIN)/hlmon snapshot --demo

lint: $(STAMP)
	$(BIN)/ruff check hlmon tests benchmarks
	$(BIN)/ruff format --check hlmon tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The browser test of `hlmon serve` must run here, not skip: a missing Chromium fails it
# (.ci/run installs Chromium; a bare `pytest` skips that test instead).
pytest: $(STAMP)
	HLMON_REQUIRE_CHROMIUM=1 $(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

chaos: $(STAMP)
	$(BIN)/python -m benchmarks.chaos

soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
