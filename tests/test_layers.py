"""The house: no import circle, a wire-format core that knows nothing above it, lazy imports only for speed.

Every import of every module of the package is read with `ast`: at module
level, inside functions and under `if TYPE_CHECKING:` alike (an import that
runs only later, or only for mypy, still ties the two modules together).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import irs_grammar
import irs_grammar.wire

PACKAGE = Path(irs_grammar.__file__).parent
CORE = "irs_grammar.wire"

# The imports of the package's own modules that run inside a function, each for speed alone
# (never to dodge a circle): (importer, imported) -> why it waits. (`irs_grammar.__getattr__`
# loads the tools on first use by name, through import_module: its TYPE_CHECKING block names them.)
LAZY = {
    ("irs_grammar.wire.parser", "irs_grammar.wire.reference"): "Lark is imported on the first refused line",
    ("irs_grammar.wire.kinds", "irs_grammar.wire.writers"): "a valid parse writes nothing (cold start)",
    ("irs_grammar.wire.kinds", "irs_grammar.wire.trees"): "only a line Lark reads needs its tree read",
    ("irs_grammar.cli", "irs_grammar.records"): "pyarrow, for --format parquet only",
    ("irs_grammar.cli", "irs_grammar.columnar"): "pyarrow, for --format parquet only",
    ("irs_grammar.cli", "irs_grammar.arrow_process"): "how Arrow is loaded, for --format parquet only",
    ("irs_grammar.cli", "irs_grammar.reconciliation"): "sqlite3, for `reconcile` only",
    ("irs_grammar.cli", "irs_grammar.state"): "sqlite3, for `reconcile` only",
    ("irs_grammar.cli", "irs_grammar.testing"): "wsgiref and the fake, for `serve` only",
    ("irs_grammar.pytest_plugin", "irs_grammar.testing"): "pytest starts without loading the fake",
}
# What the core must not know: logs, files of records, SQLite, HTTP, processes, Hypothesis.
NOT_IN_THE_CORE = (
    "gzip",
    "sqlite3",
    "multiprocessing",
    "http",
    "wsgiref",
    "socket",
    "socketserver",
    "urllib.request",
    "hypothesis",
    "pyarrow",
    "pytest",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(module: str) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for every import statement of `module`."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function.update(id(inner) for inner in ast.walk(node) if inner is not node)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            yield name, node.lineno, id(node) in in_function


def own(name: str) -> str | None:
    """The package's module an imported name lives in (`irs_grammar.wire.kinds.INQUIRY` -> its module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def graph() -> dict[str, dict[str, int]]:
    """module -> {module of the package it imports: line}, a package's __init__ handing names on aside."""
    edges: dict[str, dict[str, int]] = {m: {} for m in MODULES}
    for module in MODULES:
        for name, line, _ in imports(module):
            target = own(name)
            if target is None or target == module:
                continue
            if module.startswith(target + "."):  # a module importing its own package's __init__
                continue
            edges[module].setdefault(target, line)
    return edges


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            # The package and a child that hands its names on through it are not a circle.
            if len(component) > 1 and not (len(component) == 2 and "irs_grammar" in component):
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_counting_imports_inside_functions() -> None:
    edges = graph()
    found = cycles(edges)
    described = [
        " <-> ".join(c)
        + ": "
        + ", ".join(f"{a}:{edges[a][b]} imports {b}" for a in c for b in c if b in edges[a])
        for c in found
    ]
    assert not found, "import circles:\n" + "\n".join(described)


def test_the_cycle_finder_finds_a_circle_and_names_it() -> None:
    # The test above is only as good as this: a circle through a function-level import is found.
    edges = graph()
    edges["irs_grammar.wire.inquiry"]["irs_grammar.records"] = 1  # as 0.2.0's to_record() had it
    assert next(c for c in cycles(edges) if "irs_grammar.wire.inquiry" in c) >= [
        "irs_grammar.records",
        "irs_grammar.validation",
    ]


def test_the_reader_sees_imports_inside_functions_and_under_type_checking() -> None:
    found = {(name, inside) for name, _, inside in imports("irs_grammar.pytest_plugin")}
    assert ("irs_grammar.testing.FakeIRS", True) in found  # in the fixture
    assert ("irs_grammar.testing.FakeIRS", False) in found  # under TYPE_CHECKING


@pytest.mark.parametrize("module", [m for m in MODULES if m == CORE or m.startswith(CORE + ".")])
def test_the_wire_format_core_imports_nothing_above_it(module: str) -> None:
    for name, line, _ in imports(module):
        target = own(name)
        if target is not None:
            assert target == CORE or target.startswith(CORE + ".") or target == "irs_grammar.errors", (
                f"{MODULES[module]}:{line}: the core imports {target}, which is above it"
            )
        known = [outside for outside in NOT_IN_THE_CORE if name == outside or name.startswith(outside + ".")]
        assert known == [], (
            f"{MODULES[module]}:{line}: the core imports {name}: it knows nothing of logs, SQLite, HTTP "
            "or Hypothesis"
        )


def test_the_core_is_what_its_docstring_says() -> None:
    # Every module of irs_grammar/wire is named in its package's docstring (a newcomer's map).
    core = [m.rpartition(".")[2] for m in MODULES if m.startswith(CORE + ".")]
    doc = irs_grammar.wire.__doc__ or ""
    assert [name for name in core if f"`{name}`" not in doc] == []


def test_the_errors_module_imports_nothing_of_the_package() -> None:
    assert [name for name, _, _ in imports("irs_grammar.errors") if own(name)] == []


def test_lazy_imports_of_the_package_are_only_those_that_buy_speed() -> None:
    lazy = {
        (module, target)
        for module in MODULES
        for name, _, inside in imports(module)
        if inside and (target := own(name)) is not None and target != module
    }
    assert lazy == set(LAZY)


def test_no_reply_model_imports_the_records_module() -> None:
    for module in ("irs_grammar.wire.inquiry", "irs_grammar.wire.transaction", "irs_grammar.wire.reply"):
        assert "irs_grammar.records" not in {own(name) for name, _, _ in imports(module)}
