# Triage Gate — every target a newcomer can guess. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      ?= .venv
SAM_VENV  ?= .tools/sam
PYTHON    ?= $(shell infra/scripts/find-python)
PY        := $(VENV)/bin/python
SAM       := $(SAM_VENV)/bin/sam
CFN_LINT  := $(SAM_VENV)/bin/cfn-lint
ENV       ?= dev
PORT      ?= 3000
# sam and cfn-lint want a region even when they talk to nothing.
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
# sam build looks for python3.13 on PATH: the project venv provides it.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: help venv tools test lint format typecheck template-lint pytest unit integration contract \
        build demo local bench eval deploy clean loadtest iam-observed

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/dev.txt requirements/constraints.txt layers/core/requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "no suitable Python found (need 3.11+, 3.13 preferred)"; exit 1; }
	@echo "creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements/sam.txt
	@touch $@

venv: $(VENV)/.installed ## create the project virtualenv (pinned dependencies)

tools: $(SAM_VENV)/.installed ## install the SAM CLI and cfn-lint in their own virtualenv

test: lint typecheck template-lint pytest ## everything CI checks: ruff, mypy, cfn-lint, sam validate, pytest

lint: venv ## ruff lint (with the complexity gate: no function over 10) + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv ## apply ruff formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: venv ## mypy (strict) on the runtime package, the tools, the local runner and functions/
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --explicit-package-bases functions

template-lint: tools ## cfn-lint and sam validate --lint on template.yaml and its nested monitoring stack
	$(CFN_LINT) template.yaml infra/monitoring/template.yaml
	$(SAM) validate --lint --template template.yaml
	$(SAM) validate --template template.yaml
	$(SAM) validate --lint --template infra/monitoring/template.yaml

pytest: venv ## the test suite (unit, contract, integration)
	$(VENV)/bin/pytest -m "not e2e" --cov --cov-report=term:skip-covered

unit: venv ## unit tests only (no network)
	$(VENV)/bin/pytest tests/unit tests/contract

integration: venv ## integration tests (moto, fake vendors, local runner on loopback)
	$(VENV)/bin/pytest tests/integration

iam-observed: venv ## re-record the AWS calls each function made under enforced IAM (the least-privilege contract test's input)
	rm -f tests/contract/fixtures/aws_calls_observed.json
	TRIAGE_UPDATE_IAM_OBSERVED=1 $(VENV)/bin/pytest tests/integration -q

# What only developers and operators run (infra/tools, infra/local): the built layer must hold none of it.
LAYER_DIR      := .aws-sam/build/CoreLayer/python
LAYER_DEV_ONLY := triage_tools triage_local triage_gate/cli.py triage_gate/evaluation \
                  triage_gate/localmodel/train.py triage_gate/adapters/memory.py

# Bytecode for the runtime's Python, shipped in the layer and the functions' code: /opt and /var/task are
# read-only on Lambda, so a module without its .pyc is compiled from source on every cold start.
# --invalidation-mode unchecked-hash: a timestamp .pyc is checked against the source's mtime, which the zip
# round trip does not keep (every one would be stale and recompiled); a checked-hash .pyc re-reads and
# hashes its source at each import. The built artifact is immutable (read-only at run time, recompiled
# whole by every `make build`, -f), so its source cannot drift from its bytecode: nothing to check.
BYTECODE_TAG    := cpython-313
FUNCTION_BUILDS := .aws-sam/build/*Function

build: venv tools ## sam build, then compile the layer and the functions to bytecode; checks and sizes
	$(SAM) build --template template.yaml
	@test -f $(LAYER_DIR)/triage_gate/__init__.py || { echo "built layer lacks triage_gate"; exit 1; }
	@test -d $(LAYER_DIR)/msgspec || { echo "built layer lacks its dependencies"; exit 1; }
	@for sdk in anthropic pydantic httpx slack_sdk; do test ! -e "$(LAYER_DIR)/$$sdk" || { echo "built layer holds $$sdk: the functions never import it (see layers/core/requirements.txt)" >&2; exit 1; }; done
	@test -f $(LAYER_DIR)/triage_gate/policy.yaml || { echo "built layer lacks triage_gate/policy.yaml"; exit 1; }
	@ls $(LAYER_DIR)/triage_gate/models/*.json >/dev/null 2>&1 || { echo "built layer lacks the seed models"; exit 1; }
	@test -f $(LAYER_DIR)/triage_gate/models/lid.176.ftz || { echo "built layer lacks the language identification model"; exit 1; }
	@ls $(LAYER_DIR)/fasttext_pybind*.so >/dev/null 2>&1 || { echo "built layer lacks fasttext-predict's extension"; exit 1; }
	@found=""; for path in $(LAYER_DEV_ONLY); do test ! -e "$(LAYER_DIR)/$$path" || found="$$found $$path"; done; \
	if [ -n "$$found" ]; then \
		echo "built layer holds tool code:$$found" >&2; \
		echo "  dev and operator code belongs in infra/tools/triage_tools, never under layers/core/" >&2; \
		echo "  (a leftover directory of only __pycache__ counts too: remove it from layers/core/)" >&2; \
		exit 1; \
	fi
	@echo "layer check: none of $(LAYER_DEV_ONLY) in $(LAYER_DIR)"
	@py="$(abspath $(PY))"; \
	if ! "$$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then \
		echo "bytecode: $$py is Python $$("$$py" -c 'import platform; print(platform.python_version())'), not the runtime's 3.13;" \
			"using PYENV_VERSION=3.13.0 python3.13"; \
		py="$$(PYENV_VERSION=3.13.0 python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null)"; \
		"$${py:-false}" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || \
			{ echo "bytecode: no Python 3.13 found; bytecode for another version is ignored by the runtime" >&2; exit 1; }; \
	fi; \
	echo "bytecode: compiling with $$py (unchecked-hash)"; \
	"$$py" -m compileall -q -f -j 0 --invalidation-mode unchecked-hash $(LAYER_DIR) $(FUNCTION_BUILDS) || \
		{ echo "bytecode: compileall failed" >&2; exit 1; }
	@test -f $(LAYER_DIR)/triage_gate/__pycache__/__init__.$(BYTECODE_TAG).pyc || { echo "layer lacks triage_gate bytecode"; exit 1; }
	@$(PY) infra/scripts/cache_policy_parse.py $(LAYER_DIR)/triage_gate/policy.yaml
	@test -f $(LAYER_DIR)/aws_lambda_powertools/__pycache__/__init__.$(BYTECODE_TAG).pyc || { echo "layer lacks its dependencies' bytecode"; exit 1; }
	$(PY) infra/scripts/layer_report.py --tag $(BYTECODE_TAG) --layer .aws-sam/build/CoreLayer $(FUNCTION_BUILDS)

demo: venv ## run the whole pipeline locally on the embedded defaults and show what happened
	$(VENV)/bin/triage demo

local: venv ## serve the stack on http://127.0.0.1:$(PORT) (embedded moto unless AWS_ENDPOINT_URL is set)
	FLAGS_FILE=$${FLAGS_FILE:-$(CURDIR)/infra/local/flags.json} $(VENV)/bin/triage local --port $(PORT)

bench: venv ## benchmarks beside their references (BENCH_ARGS=--quick for a short run)
	$(PY) -m pip install --quiet -r requirements/bench.txt -c requirements/constraints.txt
	$(PY) infra/bench/bench_ingest.py $(BENCH_ARGS)
	$(PY) infra/bench/bench_local_model.py $(BENCH_ARGS)
	$(PY) infra/bench/bench_language.py $(BENCH_ARGS)
	$(PY) infra/bench/bench_history.py
	$(PY) infra/bench/bench_backtest.py

eval: venv ## the local model through `triage eval` on each set in ../shared/data (reports in .triage/eval)
	$(PY) infra/eval/make_eval.py

deploy: build ## sam deploy to ENV (dev|prod) using samconfig.toml, after `triage deploy-check`
	$(VENV)/bin/triage deploy-check --env $(ENV)
	$(SAM) deploy --config-env $(ENV)

clean: ## remove virtualenvs and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .mypy_cache .ruff_cache .pytest_cache
loadtest: venv ## 2,000 signed webhooks through the local stack; every event accounted for
	$(PY) infra/bench/loadtest.py
