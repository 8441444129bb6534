# Two commands set everything up from nothing:
#   make demo   install geosim alone into .venv and compare the options of the Ukraine scenario
#   make test   install geosim with its test extras into .venv and run the whole test suite
# make dev installs everything (the test extras, SALib, JupyterLab for the notebooks).
VENV      ?= .venv
PY        := $(VENV)/bin/python
WORKERS   ?= 2

.PHONY: demo test dev install install-test install-dev bench clean

# The environment itself, made with the interpreter that scripts/find-python picks.
$(PY):
	@PYTHON=$$(scripts/find-python) || exit 1; \
	  echo "using $$PYTHON"; \
	  $$PYTHON -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# One stamp per set of extras, so that the demo never waits for the test tools: .installed-demo
# installs geosim alone, .installed-test adds [test], .installed-dev adds [dev].
EXTRAS_demo :=
EXTRAS_test := [test]
EXTRAS_dev  := [dev]
$(VENV)/.installed-%: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.$(EXTRAS_$*)'
	@touch $@

install: $(VENV)/.installed-demo
install-test: $(VENV)/.installed-test
install-dev: $(VENV)/.installed-dev

# With the posterior draws of the constants shipped (geosim calibrate makes them), the demo also
# runs 20 draws on 4,096 worlds each: about 6 s more on one core.
POSTERIOR := $(if $(wildcard simulator/data/history/posterior_constants.csv),--posterior 20)

demo: install
	$(VENV)/bin/geosim check scenarios/*.yaml
	$(VENV)/bin/geosim run scenarios/ukraine_2025.yaml --out results --force $(POSTERIOR)

# The browser tests need headless Chromium (scripts/install-browser installs Debian's when it can).
test: install-test
	@scripts/install-browser
	$(PY) -m pytest -n $(WORKERS) -q

dev: install-dev

bench: install
	$(PY) benchmarks/bench_model.py

clean:
	rm -rf $(VENV) results .pytest_cache
