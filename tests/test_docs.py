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


# -- the docs hold to the code: no "None" help, no wrong required flag, links that resolve, API pages --


def test_the_command_reference_has_no_empty_help_and_no_wrongly_required_argument() -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    reference = page.split("<!-- generated:commands -->", 1)[1]
    cells = [cell.strip() for row in reference.splitlines() if row.startswith("|") for cell in row.split("|")]
    assert "None" not in cells  # an argument without help
    for command in ("parse", "validate", "reconcile"):
        block = reference.split(f"### `irs-grammar {command}`", 1)[1].split("###", 1)[0]
        [inputs] = [row for row in block.splitlines() if row.startswith("| `") and "|- ...`" in row]
        cells = re.split(r"(?<!\\)\|", inputs)
        assert cells[3].strip() == "", inputs  # not required: no file reads standard input


def anchors(markdown: str) -> set[str]:
    """GitHub's anchor of each heading: lower case, punctuation but - and _ dropped, spaces as -."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", markdown, re.M):
        text = re.sub(r"[`*]", "", heading).strip().lower()
        found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


LINKED = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", LINKED, ids=[p.name for p in LINKED])
def test_every_cross_reference_resolves(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.name}: {link} names no file"
        if anchor:
            assert anchor in anchors(path.read_text(encoding="utf-8")), (
                f"{page.name}: {link}: no such heading"
            )
    # A section cited by name in prose (README, "Exit statuses and faults") is a heading of the README.
    readme_headings = {
        h.strip() for h in re.findall(r"^#+ (.+)$", (ROOT / "README.md").read_text("utf-8"), re.M)
    }
    for cited in re.findall(r"README, \"([^\"]+)\"", text.replace("\n", " ")):
        assert cited in readme_headings, f"{page.name}: cites README section {cited!r}, which does not exist"


@pytest.mark.main_python_only
def test_the_api_pages_cover_every_public_module_without_a_warning(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    spec = importlib.util.spec_from_file_location("docs_api", DOCS / "api.py")
    assert spec is not None
    assert spec.loader is not None
    api = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(api)
    documented = {"irs_grammar.errors", "irs_grammar.lines", "irs_grammar.validation", "irs_grammar.records",
                  "irs_grammar.testing", "irs_grammar.strategies", "irs_grammar.near_misses",
                  "irs_grammar.purchase", "irs_grammar.client", "irs_grammar.reconciliation"}  # fmt: skip
    assert documented <= set(api.PUBLIC_MODULES)
    done = subprocess.run(
        [sys.executable, "-W", "error", str(DOCS / "api.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        # The package of this tree, whatever is installed (under mutmut, its copy in mutants/: pdoc
        # warns when the folder beside it is not the package it imported).
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert (done.returncode, done.stderr) == (0, "")
    pages = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.html")}
    for module in documented:
        assert module.replace(".", "/") + ".html" in pages, module
