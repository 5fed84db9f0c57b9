# Two set-up commands (see README.md): `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
SHARED_DATA := $(abspath ../shared/data)
NUMOPT_DATA ?= $(if $(wildcard $(SHARED_DATA)),$(SHARED_DATA),$(HOME)/.cache/numopt)
export NUMOPT_DATA
JOBS ?= 2

.PHONY: demo test test-gpu bench docs lint venv ipopt

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

# Needs a CUDA GPU and the `gpu` extra (a CuPy wheel matching the CUDA driver): the gpu-marked tests and
# the GPU modules' doctests; .ci/gpu-check adds the speedup benchmark.
GPU_TESTS := tests/completion/test_gpu.py tests/causal/test_causal_gpu.py tests/linalg/test_sor.py \
	tests/linalg/test_sketch.py
GPU_MODULES := numopt/completion/_gpu.py numopt/causal/_gpu.py numopt/linalg/_sor_gpu.py \
	numopt/linalg/_sketch_gpu.py

test-gpu: venv
	$(PIP) install --quiet -e '.[test]'
	$(BIN)/python -c "import cupy; assert cupy.cuda.runtime.getDeviceCount() > 0" || \
		{ echo "make test-gpu needs CuPy and a CUDA GPU: pip install -e '.[gpu]'"; exit 1; }
	$(BIN)/python -m pytest -q -m gpu $(GPU_TESTS)
	$(BIN)/python -m pytest -q $(GPU_MODULES)

bench: venv ipopt
	$(PIP) install --quiet -e '.[bench,peers-torch]'
	$(BIN)/python -m pytest -q -m peers tests
	$(BIN)/python -m pytest benchmarks --benchmark-only --override-ini="addopts="
	$(BIN)/numopt bench --full --out bench-report-full

docs: venv
	$(PIP) install --quiet -e '.[docs]'
	$(BIN)/sphinx-build -b html docs docs/_build/html

lint: venv
	$(PIP) install --quiet ruff
	$(BIN)/ruff check numopt tests benchmarks
