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
	@$(TWIN) serve

test: setup
	@$(VENV)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

bench: setup
	@$(VENV)/python -m bench

clean:
	rm -rf .venv web/node_modules var
