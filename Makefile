# Two commands on a fresh machine with only python3: `make demo`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest pytest-all pytest-side-by-side pytest-others sdist-check bench docs terminals fuzz mutation mutation-resume reach clean

FUZZ_SECONDS ?= 300

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project's metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,readers]'
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

# The suite runs on every CPython the package claims (>= 3.11.5) that this machine has:
# .venv's python3 first, then each of OTHER_PYTHONS in a venv of its own (every test but the
# process-boundary ones, tests/conftest.py says why, with the quick Hypothesis profile: the full
# one runs on the main Python). Each one's output goes to build/pytest-VERSION.log, printed whole
# when it fails. A missing Python is skipped with a message, never silently.
OTHER_PYTHONS ?= 3.12 3.13

pytest-others:
	@$(MAKE) --no-print-directory pytest-side-by-side MAIN=

# Two lines of work, one per core: the main suite (.venv, the full Hypothesis profile), and beside
# it the other Pythons' suites one after the other, the last of them run from the unpacked sdist
# (its own tests pass from it, on that Python: one run proves both). Three runs at once kept one
# core idle once the short ones ended (13.6 min on 2 quiet cores; 11.0 with two lines and the sdist
# run apart). Each output goes to build/pytest-*.log, printed whole when it fails.
pytest-all: $(STAMP)
	@$(MAKE) --no-print-directory pytest-side-by-side MAIN=yes

pytest-side-by-side:
	@mkdir -p build && rm -f build/pytest-*.status; \
	if [ -n "$(MAIN)" ]; then \
	  echo "== the suite on $$($(BIN)/python -V), the full profile: build/pytest-main.log"; \
	  ( $(BIN)/python -m pytest > build/pytest-main.log 2>&1; echo $$? > build/pytest-main.status ) & \
	fi; \
	( sdist_done=""; for v in $(OTHER_PYTHONS); do \
	    py=""; \
	    for c in $$(ls -d $$HOME/.pyenv/versions/$$v.*/bin/python 2>/dev/null) $$(command -v python$$v); do \
	      if [ -z "$$py" ] && "$$c" -c pass 2>/dev/null; then py=$$c; fi; \
	    done; \
	    if [ -z "$$py" ]; then echo "skipping Python $$v: no working python$$v on this machine"; continue; fi; \
	    if [ -n "$(MAIN)" ] && [ "$$v" = "$(lastword $(OTHER_PYTHONS))" ]; then \
	      echo "== the sdist's own tests on Python $$v ($$py), beside the main suite: build/pytest-sdist.log"; \
	      $(MAKE) --no-print-directory VENV=.venv-$$v PYTHON=$$py sdist-check > build/pytest-sdist.log 2>&1; \
	      echo $$? > build/pytest-sdist.status; sdist_done=yes; continue; \
	    fi; \
	    echo "== the suite on Python $$v ($$py), beside the main one: build/pytest-$$v.log"; \
	    HYPOTHESIS_PROFILE=quick PYTEST_ADDOPTS='-m "not main_python_only"' \
	      $(MAKE) --no-print-directory VENV=.venv-$$v PYTHON=$$py pytest > build/pytest-$$v.log 2>&1; \
	    echo $$? > build/pytest-$$v.status; \
	  done; \
	  if [ -n "$(MAIN)" ] && [ -z "$$sdist_done" ]; then \
	    echo "== the sdist's own tests, beside the main suite: build/pytest-sdist.log"; \
	    $(MAKE) --no-print-directory sdist-check > build/pytest-sdist.log 2>&1; \
	    echo $$? > build/pytest-sdist.status; \
	  fi ) & \
	wait; status=0; \
	for f in build/pytest-*.status; do \
	  [ -e "$$f" ] || continue; log=$${f%.status}.log; \
	  if [ "$$(cat $$f)" = 0 ]; then echo "$$log: $$(tail -n 1 $$log)"; else cat $$log; status=1; fi; \
	done; \
	exit $$status

# The source distribution carries its own tests, and they pass from it, unpacked, away from
# this tree (the quick Hypothesis profile: the full one runs on the main Python; make test runs
# this with the last of OTHER_PYTHONS' venvs).
sdist-check: $(STAMP)
	rm -rf build/sdist && mkdir -p build/sdist
	$(BIN)/python -m hatchling build -t sdist -d build/sdist
	tar -xzf build/sdist/irs_grammar-*.tar.gz -C build/sdist
	cd build/sdist/irs_grammar-*/ && PYTHONPATH=. HYPOTHESIS_PROFILE=quick \
	  $(abspath $(BIN))/python -m pytest -p no:cacheprovider -m "not main_python_only"

# (pytest-all runs sdist-check too, beside the main suite.)
test: lint typecheck pytest-all

clean:
	rm -rf $(VENV) .venv-* build dist .mypy_cache .pytest_cache .ruff_cache

bench: $(STAMP)
	$(BIN)/python bench/bench.py

# Long runs, not part of `make test`: coverage-guided fuzzing and mutation testing.
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[fuzz]'
	$(BIN)/python tests/fuzz/seeds.py .fuzz-seeds
	mkdir -p .fuzz-corpus
	$(BIN)/python -m tests.fuzz.fuzz_parse -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  .fuzz-corpus .fuzz-seeds 2> .fuzz.log; status=$$?; \
	  $(BIN)/python tests/fuzz/report.py .fuzz.log; exit $$status

# Each property test's share of examples reaching its main assertion (>= 80 %, tests/reach.py).
reach: $(STAMP)
	$(BIN)/python -m tests.reach_report

MUTMUT = HYPOTHESIS_PROFILE=mutation IRS_GRAMMAR_CLI_IN_PROCESS=1 \
	  $(BIN)/python -m tests.mutation run --max-children $(or $(JOBS),2)

mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	rm -rf mutants
	$(MUTMUT)
	$(BIN)/python -m tests.mutation.report

# Go on with a stopped run: mutants already checked keep their result (those of changed functions
# are made and checked again; `python -m tests.mutation.report --reset-survivors` first has the
# survivors checked again too, against the tests written since).
mutation-resume: $(STAMP)
	$(MUTMUT)
	$(BIN)/python -m tests.mutation.report

# The terminal patterns the fast path reads without Lark (committed; a test holds them to the grammars).
terminals: $(STAMP)
	$(BIN)/python -c 'from irs_grammar.wire.grammar import write_terminals_module; write_terminals_module()'

# Diagrams and tables derived from the grammars (committed), and the API pages (not committed).
docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(BIN)/python docs/generate.py
	$(BIN)/python -W error docs/api.py docs/api
