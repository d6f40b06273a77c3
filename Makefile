# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint demo bench audit ci migrations-check clean

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

# Fails when a model change has no migration.
migrations-check: $(VENV)/.dev-installed
	$(BIN)/python manage.py makemigrations --check --dry-run

test: $(VENV)/.dev-installed
	scripts/ensure-chromium.sh
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

bench: $(VENV)/.dev-installed
	$(BIN)/python -m tests.bench

audit: demo
	scripts/audit.sh

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
