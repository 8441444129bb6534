# Two commands set everything up from nothing:
#   make demo   install into .venv and compare the options of the Ukraine scenario
#   make test   install into .venv (with test extras) and run the whole test suite
VENV      ?= .venv
PY        := $(VENV)/bin/python
WORKERS   ?= 2

.PHONY: demo test install install-dev bench clean

$(VENV)/.installed: pyproject.toml
	@PYTHON=$$(scripts/find-python) || exit 1; \
	  echo "using $$PYTHON"; \
	  [ -x $(PY) ] || $$PYTHON -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/geosim check scenarios/*.yaml
	$(VENV)/bin/geosim run scenarios/ukraine_2025.yaml --out results --force

test: install
	$(PY) -m pytest -n $(WORKERS) -q

bench: install
	$(PY) benchmarks/bench_model.py

clean:
	rm -rf $(VENV) results .pytest_cache
