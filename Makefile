# xiaowei — two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs what it needs; `make test` also installs and starts a
# throwaway PostgreSQL cluster (Debian's server binaries) so the store tests run on it, and
# a Java runtime (Debian's default-jre-headless) for the Spark tests.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SIZE   ?= small
SEED   ?= 7

.PHONY: demo test lint bench clean pg-start pg-stop

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.base

demo: $(VENV)/.base
	$(BIN)/xiaowei db upgrade
	$(BIN)/xiaowei demo --size $(SIZE) --seed $(SEED)

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks

pg-start:
	bash scripts/pg_test_cluster.sh start

pg-stop:
	bash scripts/pg_test_cluster.sh stop

# The Spark tests need Java: ensure_java.sh installs Debian's JRE when it is missing.
# pytest exits 5 when it collected no tests: for this suite that means something is broken.
test: $(VENV)/.dev lint pg-start
	JAVA_HOME="$$(bash scripts/ensure_java.sh)" \
	XIAOWEI_CHROMIUM="$$(bash scripts/ensure_chromium.sh)" \
	XIAOWEI_TEST_PG_URL="$$(bash scripts/pg_test_cluster.sh url)" $(BIN)/pytest -q; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

bench: $(VENV)/.dev
	$(BIN)/python benchmarks/bench_sim.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
