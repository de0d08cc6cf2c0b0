# cspm_stream — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-unit test-integration install kafka-start kafka-stop lint typecheck check bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@$(BIN)/python -m compileall -q cspm_stream >/dev/null  # an editable install has no bytecode
	@touch $(STAMP)

install: $(STAMP)

kafka-start:
	@scripts/kafka-local start

kafka-stop:
	@scripts/kafka-local stop

## The demo: installs, starts Kafka, runs the daemon against an embedded moto account,
## then stops what it started (Kafka too, unless it was already running).
demo: install
	@was_running=0; scripts/kafka-local status >/dev/null 2>&1 && was_running=1; \
	scripts/kafka-local start && $(BIN)/cspm-stream demo; rc=$$?; \
	if [ $$was_running = 0 ]; then scripts/kafka-local stop; fi; exit $$rc

## All tests: installs, starts Kafka, runs unit + integration tests.
test: install kafka-start
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-unit: install
	$(BIN)/pytest -q -m "not integration" $(PYTEST_ARGS)

test-integration: install kafka-start
	$(BIN)/pytest -q -m integration $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check -q .
	$(BIN)/ruff format -q --check .

typecheck: install
	$(BIN)/mypy cspm_stream

## What CI checks before the tests: lint, format, types.
check: lint typecheck

bench: install kafka-start
	$(BIN)/python -m bench.kafka_passthrough

clean:
	rm -rf out .data .pytest_cache
