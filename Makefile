# 邻里 — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CATALOGUE := app/translations/zh_Hans_CN/LC_MESSAGES/messages
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
BENCH_SECONDS ?= 10
# Where `make test` looks for PostgreSQL; the tests create and drop their own database there.
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
# pytest-xdist: one worker per core (TEST_WORKERS=0 runs in one process); the browser tests
# stay together on one worker (--dist loadgroup), so one demo server is seeded per pass.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup
export FLASK_APP := app

# The browser tests (tests/e2e, marked e2e) drive Debian's Chromium; CJK fonts draw the pages.
BROWSER_PACKAGES := chromium fonts-noto-cjk

.PHONY: run serve db install browsers test test-fast test-sqlite test-postgresql lint messages bench screenshots clean

## run: install, create or upgrade the database, seed the demo if empty, serve on 127.0.0.1:5000
run: db
	@echo "\n邻里 is at http://$(HOST):$(PORT)/  (Ctrl-C stops it)\n"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## serve: the same with gunicorn and $(WORKERS) workers, as in production
serve: db
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - 'app:create_app()'

db: install
	$(BIN)/flask init-db
	$(BIN)/flask seed-demo --if-empty

install: $(VENV)/.installed $(CATALOGUE).mo

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(CATALOGUE).mo: $(CATALOGUE).po $(VENV)/.installed
	$(BIN)/pybabel compile -d app/translations -l zh_Hans_CN --statistics

## browsers: install Chromium and CJK fonts for the browser tests when missing (Debian, as root)
browsers:
	@missing=""; for p in $(BROWSER_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing$$missing for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing >/dev/null \
		|| echo "== could not install$$missing: browser tests will be skipped =="; \
	else \
		echo "== $$missing missing and apt-get unavailable (or not root): browser tests will be skipped =="; \
	fi

## test: every test, browser tests included, on SQLite and then on PostgreSQL when it answers
test: install browsers
	@$(MAKE) --no-print-directory test-sqlite
	@$(MAKE) --no-print-directory test-postgresql
	@echo "Backends tested: $$(cat .test-backends 2>/dev/null | xargs)"; rm -f .test-backends

test-sqlite:
	@echo "== tests on SQLite =="
	$(PYTEST) $(PYTEST_ARGS)
	@echo sqlite >> .test-backends

# In this pass the browser tests' server runs on a PostgreSQL database of its own.
test-postgresql:
	@url="$${TEST_DATABASE_URL:-$(PG_TEST_URL)}"; \
	if $(BIN)/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$$url" 2>/dev/null; then \
		echo "== tests on PostgreSQL ($$url) =="; \
		TEST_DATABASE_URL="$$url" $(PYTEST) $(PYTEST_ARGS) && echo postgresql >> .test-backends; \
	else \
		echo "== PostgreSQL at $$url does not answer: PostgreSQL tests skipped =="; \
	fi

## test-fast: the suite on SQLite without the browser tests and the slow race, fault and fuzz tests
test-fast: install
	$(PYTEST) -m "not e2e and not slow" $(PYTEST_ARGS)

## bench: every benchmark in bench/, as ratios against references of the same run -> docs/benchmarks.md
bench: install
	@command -v wrk >/dev/null || (echo "installing wrk (Debian)"; apt-get install -y wrk >/dev/null)
	$(BIN)/python bench/run_all.py $(BENCH_SECONDS)

## screenshots: photograph the main screens and the paper on the demo into docs/screenshots/ (shown in the README)
screenshots: install browsers
	LINLI_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/e2e/test_screenshots.py tests/e2e/test_paper_print.py \
	  tests/e2e/test_phone_layout.py::test_screenshots_of_the_longest_pages_in_both_modes -q -rs -p no:cacheprovider

## lint: ruff (with its security rules) and bandit
lint: install
	$(BIN)/ruff check app tests bench harness migrations
	$(BIN)/ruff format --check app tests bench harness
	$(BIN)/bandit -q -c pyproject.toml -r app

## messages: extract translatable strings and update the Chinese catalogue
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d app/translations -l zh_Hans_CN --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .test-backends
