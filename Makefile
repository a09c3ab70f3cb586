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

# Import contracts (layer order, no cycles, light package roots) are checked with lint.
lint: $(STAMP)
	$(BIN)/ruff check hlmon tests benchmarks
	$(BIN)/ruff format --check hlmon tests benchmarks
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_layering.py

# mypy --strict on hlmon/; tests/ and benchmarks/ checked too, with relaxed settings (pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy

# A missing payload folder (../shared/protocol/payloads or $$HLMON_PAYLOADS) fails here, never skips;
# so does a missing Chromium for the browser test of `hlmon serve`, or a missing nats-server for the
# NATS backend's tests (.ci/run installs both; a bare `pytest` skips those tests instead).
# A stuck test fails by itself after 2 minutes (pytest-timeout, pyproject.toml); should one
# still hang in its teardown, the whole run gets an interrupt at 20 minutes, and pytest's
# interrupt report says which test and where (the run takes ~6 minutes).
pytest: $(STAMP)
	HLMON_REQUIRE_PAYLOADS=1 HLMON_REQUIRE_CHROMIUM=1 HLMON_REQUIRE_NATS=1 \
		timeout --signal=INT --kill-after=60 1200 $(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

chaos: $(STAMP)
	$(BIN)/python -m benchmarks.chaos

soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
