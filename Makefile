# Two commands do everything on a fresh machine:
#   make run   — install, migrate, load demo data, serve the platform and the sandbox
#   make test  — install, lint, run every test (mini-program, Python on SQLite and PostgreSQL)

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MP := miniprogram
# Debian packages the tests need: PostgreSQL (second database), Chromium and a CJK font
# (browser tests through Playwright; never `playwright install`).
DEB_PACKAGES := postgresql chromium fonts-wqy-microhei
# pytest-xdist workers per database run (`make test-sqlite PYTEST_WORKERS=0` for one
# process); each worker has its own database (see tests/conftest.py).
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -n $(PYTEST_WORKERS)

.DEFAULT_GOAL := help
.PHONY: help install install-python install-npm install-system run test lint \
        test-miniprogram test-sqlite test-postgres migrate openapi clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: install-system install-python install-npm ## Install everything (idempotent: a second run installs nothing)

install-python: $(VENV)/.installed
# requirements-alipay.txt with --no-compile: alipay-sdk-python ships 36,600 modules (one
# per API model, 180 MiB); byte-compiling them all would add ~25 s and 260 MiB in another
# 36,600 files. Python compiles the ~40 that the Alipay gateway imports.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-nodeps.txt \
                    requirements-alipay.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade "pip>=24"
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-compile -r requirements-alipay.txt
	touch $@

install-npm: $(MP)/node_modules/.installed
$(MP)/node_modules/.installed: $(MP)/package.json $(MP)/package-lock.json
	cd $(MP) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install-system: ## Debian packages (PostgreSQL, Chromium, CJK font), only those missing
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

run: install ## Serve the platform (http://127.0.0.1:8000) and the sandbox (:8001) with demo data
	$(BIN)/python -m app.devserver

migrate: install-python ## Apply database migrations
	$(BIN)/flask --app wsgi db upgrade

openapi: install-python ## Write the OpenAPI document to docs/openapi.json
	$(BIN)/flask --app wsgi openapi write --format=json docs/openapi.json

lint: install ## ruff, mypy, import contracts, status and edge checks, ESLint
	$(BIN)/ruff check .
	$(BIN)/mypy app api sandbox payments
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/check_status_assignments.py
	$(BIN)/python scripts/check_thin_edges.py
	cd $(MP) && npm run --silent lint

test-miniprogram: install-npm
	cd $(MP) && npm test --silent

test-sqlite: install-python ## Python tests on SQLite
	$(PYTEST)

test-postgres: install ## Python tests on a throw-away PostgreSQL server
	scripts/with-postgres.sh $(PYTEST)

# Each stage is a make target of its own; scripts/stages.py times them and prints a table
# at the end (and fails if any stage failed).
SUBMAKE := $(MAKE) --no-print-directory
test: ## Run every test: lint, mini-program, Python on SQLite and PostgreSQL; time each stage
	@$(PYTHON) scripts/stages.py \
	  "install=$(SUBMAKE) install" \
	  "lint=$(SUBMAKE) lint" \
	  "jest=$(SUBMAKE) test-miniprogram" \
	  "pytest SQLite=$(SUBMAKE) test-sqlite" \
	  "pytest PostgreSQL=$(SUBMAKE) test-postgres"

clean: ## Remove local data (database, generated dev keys, demo accounts)
	rm -rf var
