# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf .demo
	$(BIN)/tratos --home .demo demo

test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m pytest tests/benchmarks -q -s

clean:
	rm -rf $(VENV) .demo .bench
