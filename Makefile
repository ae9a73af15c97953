# The README's commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What runs (`make run`, migrate, seed, translations) is the project alone; tests, lint and
# benchmarks add the dev extra on top. Each install has its stamp; the dev one covers both.
RUNTIME := $(VENV)/.runtime-stamp
DEV := $(VENV)/.dev-stamp
# The console's front-end files from npm (web/package-lock.json), copied where web serves them.
ASSETS := web/node_modules/.copied-stamp
VENDOR := web/node_modules/htmx.org/dist/htmx.min.js web/node_modules/tus-js-client/dist/tus.min.js
TEST_DB ?= sqlite
# Workers for the suite: its tests mostly wait on sockets and databases, so more workers than
# cores still shorten it; each test file stays on one worker (its module fixtures built once).
TEST_WORKERS ?= 3

.PHONY: run test test-postgresql lint bench migrate seed clean assets translations fhir-definitions

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(RUNTIME)

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(RUNTIME) $(DEV)

## The console's assets: `npm ci` in web/ (Node.js 20+), then the distributed files into
## web/static/vendor/ (git ignores both folders).
assets: $(ASSETS)
$(ASSETS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	mkdir -p web/static/vendor
	cp $(VENDOR) web/static/vendor/
	touch $(ASSETS)

## HL7's JSON schema of FHIR R4 that tests/fhir validates with: `npm ci` in
## tests/fhir/definitions/ (git ignores its node_modules).
FHIR_DEFINITIONS := tests/fhir/definitions/node_modules/.installed-stamp
fhir-definitions: $(FHIR_DEFINITIONS)
$(FHIR_DEFINITIONS): tests/fhir/definitions/package.json tests/fhir/definitions/package-lock.json
	cd tests/fhir/definitions && npm ci --no-audit --no-fund --ignore-scripts
	touch $(FHIR_DEFINITIONS)

## The console's message catalogs: new strings of web/ extracted into each language's .po
## (translate them there), then compiled into the .mo files web loads. Both are committed;
## tests/web/test_i18n.py checks that they are complete and agree.
translations: $(RUNTIME)
	$(BIN)/pybabel extract -F web/babel.cfg -k N_ --no-location --sort-output --omit-header \
		-o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations \
		--ignore-obsolete --no-fuzzy-matching --width 100
	$(BIN)/pybabel compile -d web/translations --statistics

## Start the gateway (:8000) and every service on embedded defaults (SQLite under var/).
run: $(RUNTIME) $(ASSETS)
	$(BIN)/telemed migrate
	$(BIN)/telemed run --mail-catcher

## The whole test suite (TEST_DB=postgresql runs it against the local PostgreSQL server);
## PYTEST_ARGS passes more options, e.g. PYTEST_ARGS='-m "not contract"'.
PYTEST_ARGS ?=
test: $(DEV) $(ASSETS) $(FHIR_DEFINITIONS)
	TELEMED_TEST_DB=$(TEST_DB) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-postgresql:
	$(MAKE) test TEST_DB=postgresql

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services gateway web telemed tests bench docs/screenshots.py docs/verify_conclusion.py
	$(BIN)/lint-imports

migrate: $(RUNTIME)
	$(BIN)/telemed migrate

seed: $(RUNTIME)
	$(BIN)/telemed seed --demo

bench: $(DEV)
	$(BIN)/python bench/gateway_overhead.py
	$(BIN)/python bench/consult_queue.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache web/node_modules web/static/vendor \
		tests/fhir/definitions/node_modules
