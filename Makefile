# Circles: `make run` to use it, `make test` to test it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The test suite runs on the real services; override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/circles
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
# The benchmarks use their own Redis database (tests take 1, 2, ... one per xdist worker).
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/10
PYTEST_WORKERS ?= 2

.PHONY: run test fuzz bench lint install install-test services browser smoke clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --posts 60 --stories  # a feed to scroll (60 posts) and a few stories
	$(PY) manage.py seed_albums  # a circle album with photos (albums sits above accounts: its own command)
	$(PY) manage.py collectstatic --noinput --verbosity 0
	bash scripts/serve.sh  # HOST and PORT from the environment, then .env; else 127.0.0.1:8000

services:
	@bash scripts/ensure-services.sh

browser:
	@bash scripts/ensure-browser.sh

test: install-test services browser
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup \
		--cov --cov-report=term:skip-covered --cov-report=xml:var/coverage.xml $(PYTEST_ARGS)

# The API contract tests at length: 100 examples per operation, longer stateful runs.
# Leave it running; a failure prints the curl command that reproduces it.
fuzz: install-test services
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} FUZZ_STATEFUL_EXAMPLES=$${FUZZ_STATEFUL_EXAMPLES:-50} \
	FUZZ_STATEFUL_STEPS=$${FUZZ_STATEFUL_STEPS:-20} \
	$(PY) -m pytest -n 0 --no-cov tests/platform/test_api_contract.py $(PYTEST_ARGS)

bench: install-test services
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) -m bench $(BENCH_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports  # imports point down the floors (pyproject.toml, [tool.importlinter])
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var/static .pytest_cache
