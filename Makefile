# The two commands a newcomer needs:  `make demo`  and  `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
CRMHUB := $(VENV)/bin/crmhub
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint test-sqlite test-postgres

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

## Install, create the SQLite database with demo data, and start crmhub on http://127.0.0.1:8000
demo: install
	$(CRMHUB) init --admin-email admin@example.com --admin-password "$${CRMHUB_ADMIN_PASSWORD:-crmhub-demo-2026}"
	$(CRMHUB) demo --if-empty
	@echo "Log in at http://$(HOST):$(PORT)/ as admin@example.com with password $${CRMHUB_ADMIN_PASSWORD:-crmhub-demo-2026}"
	$(CRMHUB) serve --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test-sqlite: install
	CRMHUB_TEST_DB=sqlite $(VENV)/bin/pytest -q -p no:cacheprovider

test-postgres: install
	CRMHUB_TEST_DB=postgres $(VENV)/bin/pytest -q -p no:cacheprovider

## Install everything the tests need, lint, and run the whole suite on SQLite and on PostgreSQL
test: install
	./scripts/install-test-deps.sh
	$(MAKE) lint
	$(MAKE) test-sqlite
	$(MAKE) test-postgres
