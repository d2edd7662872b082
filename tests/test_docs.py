"""The derived docs stay derived: diagrams and tables match the grammars, examples run."""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

import irs_grammar as irs
from tests.corpus import load

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_diagrams_match_the_grammars() -> None:
    expected = generator().diagrams()
    committed = {path.name: path.read_text(encoding="utf-8") for path in (DOCS / "diagrams").glob("*.svg")}
    assert sorted(committed) == sorted(expected), "run `make docs`"
    for name, svg in expected.items():
        assert committed[name] == svg, f"docs/diagrams/{name} is stale: run `make docs`"


def test_generated_tables_in_format_md_match_the_grammars() -> None:
    page = (DOCS / "format.md").read_text(encoding="utf-8")
    assert generator().format_md(page) == page, "docs/format.md is stale: run `make docs`"


def test_the_command_reference_in_cli_md_is_the_commands_own() -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert generator().cli_md(page) == page, "docs/cli.md is stale: run `make docs`"
    assert "| `--jobs N` |" in page  # and it says something: one row written by hand


def test_the_readme_shows_the_diagram_and_links_the_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/diagrams/inquiry-start.svg" in readme
    assert "docs/format.md" in readme
    assert "docs/cli.md" in readme


def test_refused_examples_in_format_md_are_corpus_cases_with_their_columns() -> None:
    page = (DOCS / "format.md").read_text(encoding="utf-8")
    table = page.split("## What is refused")[1].split("##")[0]
    corpus = {case["line"]: case["column"] for case in load("inquiry/invalid.jsonl")}
    rows = re.findall(r"^\| `([^`]+)` \| (\d+) \|", table, re.MULTILINE)
    checked = 0
    for shown, column in rows:
        line = shown.replace("\\n", "\n").replace("\\r", "\r")
        if "…" in line:
            continue
        assert corpus[line] == int(column), shown
        checked += 1
    assert checked >= 6


@pytest.mark.parametrize("name", irs.__all__)
def test_every_public_name_has_a_docstring_with_an_example(name: str) -> None:
    obj = getattr(irs, name)
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        # A constant: documented, with an example, in its module's docstring.
        import irs_grammar.wire.request as source  # METHOD, the one constant, is the request's

        assert f">>> irs.{name}" in (source.__doc__ or "")
        return
    assert ">>>" in (obj.__doc__ or ""), f"{name} has no example in its docstring"


def test_the_mutation_run_selects_every_test_file_but_the_two_that_run_only_subprocesses() -> None:
    # mutmut runs the files pyproject.toml lists; a file left out (test_state.py was, for a
    # while) leaves the mutants of what it tests unkilled. The cluster and wheel tests run
    # their code in other processes, where mutmut sees nothing.
    import tomllib

    root = Path(__file__).parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    selected = set(config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"])
    files = {f"tests/{path.name}" for path in (root / "tests").glob("test_*.py")}
    assert (files - selected, selected - files) == ({"tests/test_cluster.py", "tests/test_wheel.py"}, set())
