# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test test-fast lint mypy mypy-baseline demo bench audit ci migrations-check clean

# The virtualenv is rebuilt only when the pinned requirements change.
$(VENV)/.run-installed: requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

demo: $(VENV)/.run-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py create_demo_admin

run: demo
	exec scripts/run.sh

lint: $(VENV)/.dev-installed migrations-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	scripts/mypy.sh

# mypy, strict, through mypy-baseline.txt: fails on a new error and on a listed one that is gone.
mypy: $(VENV)/.dev-installed
	scripts/mypy.sh

# Rewrites mypy-baseline.txt to today's errors; commit it with the fixes that shrank it.
mypy-baseline: $(VENV)/.dev-installed
	scripts/mypy.sh --sync

# Fails when a model change has no migration.
migrations-check: $(VENV)/.dev-installed
	$(BIN)/python manage.py makemigrations --check --dry-run

# PYTEST_ARGS goes to pytest: `make test PYTEST_ARGS='-n auto --dist loadgroup'` spreads the suite
# over every core (as .ci/run does); plain `make test` runs the whole suite in one process.
PYTEST_ARGS ?=
test: $(VENV)/.dev-installed
	scripts/ensure-test-packages.sh
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest $(PYTEST_ARGS)

# The quick check while working: every test but the slow ones (browser, processes, whole-site
# sweeps), on every core, without lint.
test-fast: $(VENV)/.dev-installed
	$(BIN)/pytest -m "not slow" -n auto --dist loadgroup $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed
	$(BIN)/python -m tests.bench

audit: demo
	scripts/audit.sh

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache
