# Every target sets up .venv from nothing; only Python 3.11+ is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE ?= small
PYTEST_ARGS ?=

.PHONY: demo test lint bench bench-full setup clean neo4j-start neo4j-stop

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "TraceGraph needs Python 3.11 or newer")'
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/tracegraph demo --scale $(SCALE) --serve

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Plants of ~10k and ~100k devices against networkx, igraph, a recursive CTE and Cypher;
# writes bench/RESULTS.md. bench-full adds the ~1M-device plant (long, several GB of memory).
bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-full: $(STAMP)
	$(BIN)/python -m bench.run --full

neo4j-start: $(STAMP)
	$(BIN)/tracegraph neo4j start

neo4j-stop: $(STAMP)
	$(BIN)/tracegraph neo4j stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tracegraph.db tracegraph.db-*
