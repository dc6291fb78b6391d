# Two commands do all set-up: `make run` (the site with the demo show) and `make test` (the whole suite).
# `make test-fast` skips the slow tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# `make run PORT=8001` when 8000 is taken.
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp

.PHONY: install run demo-reset test test-fast lint typecheck bench wheel-check screenshots browsers clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# load_demo loads the demo only into a database without it, so starting never undoes an edit.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Re-import the demo show from its file over editors' changes; says what it removes and asks first.
demo-reset: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo --reset

test: install
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

# Everything but the leak proof and the browser tests, for the edit-test loop; CI runs make test.
test-fast: install
	$(PY) -m pytest -n auto -m "not slow and not browser" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

# Issue 26's measurements into docs/PERFORMANCE.md: SQLite; BENCH_ARGS=--postgres for PostgreSQL,
# BENCH_ARGS=--quick for shorter runs (python -m bench --help for the rest).
bench: install
	$(PY) -m bench $(BENCH_ARGS)

# Build the wheel, install it into a fresh venv in a temporary folder, migrate and check from there.
wheel-check:
	.ci/wheel-check

# Debian's Chromium for the browser tests (needs root, as on CI).
browsers:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

screenshots: install
	SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest tests/browser -k screenshots

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles screenshots
