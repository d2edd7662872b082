# Two commands on a fresh machine with only python3: `make demo`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench docs terminals fuzz mutation clean

FUZZ_SECONDS ?= 300

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project's metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/irs-grammar parse corpus/inquiry/documented.log

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache

bench: $(STAMP)
	$(BIN)/python bench/bench.py

# Long runs, not part of `make test`: coverage-guided fuzzing and mutation testing.
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[fuzz]'
	$(BIN)/python tests/fuzz/seeds.py .fuzz-seeds
	mkdir -p .fuzz-corpus
	$(BIN)/python -m tests.fuzz.fuzz_parse -max_total_time=$(FUZZ_SECONDS) -max_len=4096 .fuzz-corpus .fuzz-seeds

mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	rm -rf mutants
	HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children $(or $(JOBS),2)
	$(BIN)/mutmut results

# The terminal patterns the fast path reads without Lark (committed; a test holds them to the grammars).
terminals: $(STAMP)
	$(BIN)/python -c 'from irs_grammar.grammar import write_terminals_module; write_terminals_module()'

# Diagrams and tables derived from the grammars (committed), and the API pages (not committed).
docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(BIN)/python docs/generate.py
	$(BIN)/pdoc irs_grammar -o docs/api
