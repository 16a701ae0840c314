# `make run`: create the virtualenv, install newsmon, replay the seed articles (SQLite, console alerts).
# `make test`: install with the test extras, check style and types (ruff, mypy), run the test suite.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench bytecode clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

# Bytecode for newsmon's own modules, as a regular install would have it: an editable install has none,
# and where PYTHONDONTWRITEBYTECODE is set every process (a crawl, its ingest child) compiles them anew.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q crawler spiders pipelines >/dev/null

run: bytecode
	$(BIN)/newsmon replay

test: lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check crawler spiders pipelines tests bench
	$(BIN)/mypy crawler spiders pipelines

bench: bytecode
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
