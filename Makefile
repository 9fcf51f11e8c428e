# Two commands work on a fresh machine that has only Python 3.11 and make:
#   make demo   set up, generate the tiny synthetic district, run a rehearsal, say where results are
#   make test   set up, run every test (what CI runs)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export GX_ANALYTICS_ENABLED := False
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sis-migrate demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/synth.py

clean:
	rm -rf work .pytest_cache
