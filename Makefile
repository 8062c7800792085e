# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := domain projections cli documents
LOCALE := documents/locale

.PHONY: demo test bench readme install messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Byte-compiled as pip compiles an installed wheel: where PYTHONDONTWRITEBYTECODE is set (as on
# the CI machines), Python would otherwise compile every module from source on every command.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	$(BIN)/python -m compileall -q $(PACKAGES)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf .demo
	$(BIN)/tratos --home .demo demo

# The suite on every core (pytest-xdist, ADR-55): a test file stays on one worker, so its module
# fixtures (a store recorded once per file) are made once; the benchmark smoke test runs alone.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile
	$(BIN)/python -m pytest tests/benchmarks -k smoke
	$(BIN)/ruff check .

# Every figure of issue 9 as a ratio against a baseline of the same run: one table, and
# .bench/results.json. The 1,000,000-event stores are cached under .bench/ (SQLite) and as a
# PostgreSQL database, keyed by the schema version; `make clean` drops the SQLite ones.
# Modules edited since the install are compiled again first: with PYTHONDONTWRITEBYTECODE set,
# every command would otherwise compile them from source, and the figures would time that.
bench: $(STAMP)
	$(BIN)/python -m compileall -q $(PACKAGES)
	$(BIN)/python -m pytest tests/benchmarks -k "not smoke" -s

# The README's command tour rewritten from a real run of its commands (tests/readme_tour.py, the
# parser tests/cli/test_readme_tour.py checks it with): after a deliberate change of wording.
readme: $(STAMP)
	$(BIN)/python tests/readme_tour.py

# The gettext catalogs (ADR-23): extract every key into the template, update the es and en
# catalogs from it (a new key arrives empty, a dropped one goes), compile them. Translate the
# new entries in the .po files, then run it again: the compiled .mo files are committed and
# shipped in the wheel, and tests/documents/test_catalogs.py fails on a missing, fuzzy or
# uncompiled translation.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k t --no-location --sort-output --no-wrap \
		--project tratos --version 0.1.0 --copyright-holder "the tratos authors" \
		-o $(LOCALE)/tratos.pot .
	$(BIN)/pybabel update -i $(LOCALE)/tratos.pot -d $(LOCALE) -D tratos --no-wrap \
		--ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(LOCALE) -D tratos --statistics

clean:
	rm -rf $(VENV) .demo .bench
