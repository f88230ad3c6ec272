# gcgeo: two commands on a fresh machine.
#   make demo   builds the demo workspace, analyses, maps and report from bundled real data
#   make test   runs the test suite
# Each creates or updates the virtual environment .venv from pyproject.toml.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.gcgeo-installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/gcgeo demo --out gcgeo-demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/living_circle.py
	$(PY) benchmarks/isochrones.py
	$(PY) benchmarks/fire_lanes.py

clean:
	rm -rf $(VENV) gcgeo-demo .pytest_cache
