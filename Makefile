# gcgeo: two commands on a fresh machine.
#   make demo   builds the demo workspace, analyses, maps and report from bundled real data
#   make test   checks the code (ruff, mypy) and runs the test suite with the doctests
# Each creates or updates the virtual environment .venv from pyproject.toml.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.gcgeo-installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/gcgeo demo --out gcgeo-demo

lint: $(STAMP)
	$(VENV)/bin/ruff check gcgeo tests benchmarks tools
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/living_circle.py
	$(PY) benchmarks/isochrones.py
	$(PY) benchmarks/fire_lanes.py

clean:
	rm -rf $(VENV) gcgeo-demo .pytest_cache
