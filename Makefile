# Two set-up commands (see README.md): `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
SHARED_DATA := $(abspath ../shared/data)
NUMOPT_DATA ?= $(if $(wildcard $(SHARED_DATA)),$(SHARED_DATA),$(HOME)/.cache/numopt)
export NUMOPT_DATA
JOBS ?= 2

.PHONY: demo test bench docs lint venv ipopt

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(BIN)/python

# IPOPT is optional: cyipopt builds only where Debian's coinor-libipopt-dev is installed.
ipopt: venv
	@$(PIP) install --quiet 'cyipopt>=1.4' || echo "note: cyipopt did not build (apt-get install coinor-libipopt-dev liblapack-dev libblas-dev pkg-config); IPOPT columns will be skipped"

demo: venv ipopt
	$(PIP) install --quiet -e '.[bench]'
	$(BIN)/numopt bench --quick --out bench-report

test: venv ipopt
	$(PIP) install --quiet -e '.[test]'
	$(BIN)/python -m pytest -n $(JOBS) -q --nbmake

bench: venv ipopt
	$(PIP) install --quiet -e '.[bench]'
	$(BIN)/python -m pytest benchmarks --benchmark-only --override-ini="addopts="
	$(BIN)/numopt bench --full --out bench-report-full

docs: venv
	$(PIP) install --quiet -e '.[docs]'
	$(BIN)/sphinx-build -b html docs docs/_build/html

lint: venv
	$(PIP) install --quiet ruff
	$(BIN)/ruff check numopt tests benchmarks
