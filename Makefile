# ParkTwin: `make run` serves the demo park, `make test` runs the whole suite. Both set up what is missing.
SHELL := /bin/bash
VENV := .venv/bin
TWIN := $(VENV)/twin
export PYTHONUNBUFFERED := 1

.PHONY: setup run test bench reliability clean

setup:
	@bash scripts/setup.sh

run: setup
	@$(TWIN) db upgrade
	@$(TWIN) demo load
	@# live demo data: the simulator starts once /healthz answers and stops when serve exits
	@$(TWIN) simulate --wait-healthy & sim=$$!; trap 'kill $$sim 2>/dev/null' EXIT; $(TWIN) serve

# The long fault, load and fuzz runs are marked `slow`: `make reliability` runs them.
TEST_MARKERS ?= not slow

test: setup
	@$(VENV)/python -m pytest -p no:cacheprovider -m "$(TEST_MARKERS)" $(PYTEST_ARGS)

bench: setup
	@$(VENV)/python -m bench

# Faults (database and broker restarts, kill -9) and load, slow tests included, then the load benchmark (TWIN_BENCH_LOAD_SECONDS, default 180).
reliability: setup
	@$(VENV)/python -m pytest -p no:cacheprovider -m slow tests/faults tests/twin/faults $(PYTEST_ARGS)
	@$(VENV)/python -m pytest -p no:cacheprovider -m slow tests/reliability $(PYTEST_ARGS)  # the long fuzz run, every role
	@$(VENV)/python -m bench load

clean:
	rm -rf .venv web/node_modules var
