# PCO Sync: `make run` (the whole system locally) and `make test` (everything CI checks).
# The Lambda runtime in template.yaml is the one place the Python version is pinned.
SHELL := /bin/bash
PYTHON_VERSION := $(shell sed -n 's/^ *Runtime: python\(3\.[0-9]*\).*/\1/p' template.yaml | head -1)
# The first interpreter of that version that really runs (a pyenv shim may exist without the version).
PYTHON_BIN := $(shell for p in $$(ls -d $$HOME/.pyenv/versions/$(PYTHON_VERSION).*/bin/python 2>/dev/null) \
	$$(command -v python$(PYTHON_VERSION)); do "$$p" -c 'import sys' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
SAM := .tools/sam/bin/sam
SAM_STAMP := .tools/sam/.stamp
export SAM_CLI_TELEMETRY := 0
export PYTHONPATH := layers/pco_core:.
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run test unit integration e2e chaos token bench lint typecheck layers cfn build chromium clean

$(VENV)/.stamp: requirements/dev.lock layers/pco_core/requirements.txt
	@test -n "$(PYTHON_BIN)" || { echo "Python $(PYTHON_VERSION) (the Lambda runtime in template.yaml) not found"; exit 1; }
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.lock
	touch $@

$(SAM_STAMP): requirements/sam.lock
	@test -n "$(PYTHON_BIN)" || { echo "Python $(PYTHON_VERSION) (the Lambda runtime in template.yaml) not found"; exit 1; }
	$(PYTHON_BIN) -m venv .tools/sam
	.tools/sam/bin/pip install -q -r requirements/sam.lock
	touch $@

# Debian's Chromium for the admin page's browser tests (Playwright drives it; never `playwright install`).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

run: $(VENV)/.stamp
	$(PY) -m local.stack

token: $(VENV)/.stamp
	@$(PY) -m local.stack token --role $(or $(ROLE),TECH_ADMIN)

lint: $(VENV)/.stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.stamp
	$(VENV)/bin/mypy layers/pco_core/pco_core functions

# The layering of pco_core (pyproject.toml [tool.importlinter]): nothing imports a package above it.
layers: $(VENV)/.stamp
	$(VENV)/bin/lint-imports

cfn: $(VENV)/.stamp $(SAM_STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml --region $(AWS_DEFAULT_REGION)

build: $(SAM_STAMP)
	PATH="$(dir $(PYTHON_BIN)):$$PATH" $(SAM) build --template template.yaml --build-dir .aws-sam/build

# One target per test tier; `make test` runs every check and every tier.
unit: $(VENV)/.stamp
	$(PY) -m pytest -q tests/unit tests/sandbox

integration: $(VENV)/.stamp
	$(PY) -m pytest -q tests/integration

e2e: $(VENV)/.stamp chromium
	$(PY) -m pytest -q tests/e2e

# The fault suite (issue 15): every scenario against the local stack and the sandbox's fault injection,
# ending with a table (also in bench/out/chaos.md). `make test` runs only its few fast scenarios.
chaos: $(VENV)/.stamp
	$(PY) -m pytest -q tests/chaos --chaos

test: lint typecheck layers cfn build chromium
	$(PY) -m pytest -q --durations=15

bench: $(VENV)/.stamp
	$(PY) -m bench

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
