# The front door: `make run` and `make test` work on a fresh machine with python3, make and git.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
FLASK := $(BIN)/flask --app app

.PHONY: install install-test db admin run test test-browser lint bench clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "make: '$(PYTHON) -m venv' failed; on Debian install it with: apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The compiled catalogs (the console also builds a stale one when it starts).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))
$(MO_FILES): %.mo: %.po $(STAMP)
	$(FLASK) translations compile

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

install: $(STAMP) $(MO_FILES)

install-test: $(TEST_STAMP) $(MO_FILES)

db: install
	$(FLASK) db upgrade

admin: db
	$(FLASK) users ensure-admin

# Plain HTTP on 127.0.0.1 only, so the cookies cannot be Secure here. The notice sender
# runs beside the development server and stops with it.
run: admin
	@$(FLASK) notify send & sender=$$!; \
	trap 'kill $$sender 2>/dev/null' EXIT INT TERM; \
	FLASK_SESSION_COOKIE_SECURE=$${FLASK_SESSION_COOKIE_SECURE:-false} $(FLASK) run --host 127.0.0.1 --port 5000

test: install-test
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

test-browser: install-test
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install-test
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
