# cellchain: `make run` serves the app, `make test` runs the suite; both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app cellchain
HOST ?= 127.0.0.1
PORT ?= 5000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
# The suite runs on one pytest-xdist worker per CPU; every test has its own database and temporary
# folder, so tests are spread one by one (--dist load). PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
PYTEST_XDIST := -n $(PYTEST_WORKERS) --dist load

# The compiled catalogues of the pages' languages (cellchain/translations/*/LC_MESSAGES/messages.po).
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard cellchain/translations/*/LC_MESSAGES/messages.po))

.PHONY: run db test test-postgres test-browser test-api-fuzz lint bench serve clean

# The virtualenv, with the app (editable) and its test tools; rebuilt when the requirements change.
$(VENV): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)

%.mo: %.po $(VENV)
	$(BIN)/pybabel compile --statistics -i $< -o $@

# The SQLite database in instance/, migrated to the newest schema, with demo data when empty.
db: $(VENV) $(CATALOGUES)
	$(FLASK) init-db
	$(FLASK) demo --if-empty

run: db
	$(FLASK) run --host $(HOST) --port $(PORT)

test: db
	$(BIN)/python -m pytest $(PYTEST_XDIST)

test-postgres: $(VENV) $(CATALOGUES)
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest $(PYTEST_XDIST)

test-browser: $(VENV) $(CATALOGUES)
	$(BIN)/python -m pytest -m browser tests/browser

test-api-fuzz: $(VENV) $(CATALOGUES)
	.ci/api-fuzz 180

lint: $(VENV)
	$(BIN)/ruff check cellchain tests bench migrations/env.py
	$(BIN)/bandit -q -r cellchain -ll

# The 10-minute soak (bench/bench_soak.py) runs only with BENCH_SOAK=1.
bench: db
	@for script in bench/bench_*.py; do \
	  if [ "$$script" = bench/bench_soak.py ] && [ "$(BENCH_SOAK)" != 1 ]; then echo "== $$script skipped (BENCH_SOAK=1 runs it)"; continue; fi; \
	  echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Production-style serving: several workers; set DATABASE_URL for PostgreSQL.
serve: db
	$(BIN)/gunicorn --workers 4 --bind $(HOST):$(PORT) 'cellchain:create_app()'

clean:
	rm -rf $(VENV) build *.egg-info test-artifacts bench/results
