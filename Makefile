# Two commands work on a fresh machine that has only Python 3.11 and make:
#   make demo   set up, generate the tiny synthetic district, run a rehearsal, say where results are
#   make test   set up, run every test (what CI runs)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export GX_ANALYTICS_ENABLED := False
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: setup demo test lint chromium bench airflow clean

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
	$(BIN)/lint-imports

# Headless Chromium for the browser tests of the report and the data docs (Debian package).
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

test: $(STAMP) lint chromium
	$(BIN)/python -m pytest -q

# The Airflow UI for the team: DAGs of this project, metadata DB in work/airflow, bound to 127.0.0.1:8080.
# Log in as admin; the password is in work/airflow/simple_auth_manager_passwords.json.generated.
airflow: $(STAMP)
	mkdir -p work/airflow
	AIRFLOW_HOME=$(CURDIR)/work/airflow AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT=8080 PATH=$(CURDIR)/$(BIN):$$PATH airflow standalone

bench: $(STAMP)
	$(BIN)/python bench/synth.py

clean:
	rm -rf work .pytest_cache
