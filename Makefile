# The README's commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_DB ?= sqlite
# Workers for the suite: its tests mostly wait on sockets and databases, so more workers than
# cores still shorten it; each test file stays on one worker (its module fixtures built once).
TEST_WORKERS ?= 3

.PHONY: run test test-postgresql lint bench migrate seed clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the gateway (:8000) and every service on embedded defaults (SQLite under var/).
run: $(STAMP)
	$(BIN)/telemed migrate
	$(BIN)/telemed run

## The whole test suite (TEST_DB=postgresql runs it against the local PostgreSQL server);
## PYTEST_ARGS passes more options, e.g. PYTEST_ARGS='-m "not contract"'.
PYTEST_ARGS ?=
test: $(STAMP)
	TELEMED_TEST_DB=$(TEST_DB) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-postgresql:
	$(MAKE) test TEST_DB=postgresql

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services gateway telemed tests bench
	$(BIN)/lint-imports

migrate: $(STAMP)
	$(BIN)/telemed migrate

seed: $(STAMP)
	$(BIN)/telemed seed --demo

bench: $(STAMP)
	$(BIN)/python bench/gateway_overhead.py
	$(BIN)/python bench/consult_queue.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
