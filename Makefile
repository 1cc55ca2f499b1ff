# storesync: one Makefile with the README's commands.
#   make run   start the whole system locally (moto + SP-API simulator + local runtime)
#   make test  set everything up and run every check (ruff, mypy, cfn-lint, sam validate, sam build, pytest)
SHELL := /bin/bash
export PYENV_VERSION := 3.12.1:3.11.7
export SAM_CLI_TELEMETRY := 0
PYTHON ?= $(shell PYENV_VERSION=3.12.1 pyenv which python 2>/dev/null || command -v python3.12 || command -v python3)
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
PIP_QUIET := --quiet --disable-pip-version-check
RUN_ARGS ?=

.PHONY: setup sam-setup lint typecheck cfn-lint sam-validate sam-build pytest test run demo bench chaos sim clean browsers reset

$(VENV)/.installed: requirements-dev.txt layers/storesync/requirements.txt pyproject.toml layers/storesync/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) --upgrade pip 2>/dev/null
	$(PY) -m pip install $(PIP_QUIET) -r requirements-dev.txt -e layers/storesync -e . 2>&1 | grep -v "is ignored: it is neither" || true
	$(PY) -c "import storesync, spapi_simulator, storesync_local"
	touch $@

setup: $(VENV)/.installed

$(SAM_VENV)/.installed:
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install $(PIP_QUIET) aws-sam-cli==1.170.0 2>&1 | grep -v "is ignored: it is neither" || true
	$(SAM) --version
	touch $@

sam-setup: $(SAM_VENV)/.installed

browsers:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

lint: setup
	$(VENV)/bin/ruff check layers functions local tests benchmarks
	$(VENV)/bin/ruff format --check layers functions local tests benchmarks

typecheck: setup
	$(VENV)/bin/mypy

cfn-lint: setup
	$(VENV)/bin/cfn-lint template.yaml

sam-validate: sam-setup
	$(SAM) validate --lint --region us-east-1

sam-build: sam-setup
	$(SAM) build --parallel --cached >/tmp/storesync-sam-build.log 2>&1 || (cat /tmp/storesync-sam-build.log; exit 1)
	@tail -n 3 /tmp/storesync-sam-build.log

pytest: setup browsers
	$(VENV)/bin/pytest

test: lint typecheck cfn-lint sam-validate sam-build pytest

run: setup
	$(PY) -m storesync_local $(RUN_ARGS)

# forget what `make run` kept (STORESYNC_STATE_DIR, default .storesync-state/); refused while a run uses it
reset: setup
	$(PY) -m storesync_local.state reset

demo: setup
	$(PY) -m storesync_local.demo

sim: setup
	$(PY) -m spapi_simulator

# bench_chaos.py is not part of `make bench`: at 5,000 orders it runs longer than 10 minutes (`make chaos`)
bench: setup
	for b in benchmarks/bench_*.py; do [ $$b = benchmarks/bench_chaos.py ] || $(PY) $$b || exit 1; done

# the chaos run of issue 14 (BENCHMARKS.md): CHAOS_ARGS="--orders 300" for a quick one
CHAOS_ARGS ?=
chaos: setup
	$(PY) benchmarks/bench_chaos.py $(CHAOS_ARGS)

# check a deployment (README "Deploying with SAM"): make smoke API=https://<id>.execute-api.<region>.amazonaws.com
# TOKEN=<a development merchant's JWT>. Against `make run`: make smoke API=http://127.0.0.1:3000 (the local
# runtime hands out the token; MERCHANT=<id> picks the merchant). TOKEN reaches the script through the
# environment, so it is never echoed.
API ?=
.PHONY: smoke
smoke: setup
	@test -n "$(API)" || { echo "usage: make smoke API=https://... [TOKEN=<JWT>] [MERCHANT=<id>]" >&2; exit 2; }
	$(PY) -m storesync_local.smoke --api "$(API)"

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
