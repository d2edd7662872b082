"""Write the API pages (pdoc) of every public module: `python docs/api.py OUTPUT_FOLDER`.

`pdoc irs_grammar` alone documents the 20 names of `irs_grammar.__all__` and
no module under it (pdoc follows `__all__`), so the public modules are named
here; tests/test_docs.py holds this list to the modules the README names and
builds the pages with every pdoc warning an error.

Two kinds of annotation pdoc cannot read by itself are resolved first, in
the module they are written in: a NamedTuple's fields (its `__new__` is made
by `collections.namedtuple`, whose globals are not the module's) and the
Hypothesis strategies (wrapped by Hypothesis, whose globals are its own).
"""

from __future__ import annotations

import importlib
import sys
import typing
from pathlib import Path
from types import ModuleType

PUBLIC_MODULES = (
    "irs_grammar",
    "irs_grammar.errors",
    "irs_grammar.lines",
    "irs_grammar.validation",
    "irs_grammar.records",
    "irs_grammar.reconciliation",
    "irs_grammar.state",
    "irs_grammar.purchase",
    "irs_grammar.client",
    "irs_grammar.testing",
    "irs_grammar.strategies",
    "irs_grammar.near_misses",
    "irs_grammar.wire",
)


def _resolve_annotations(module: ModuleType) -> None:
    for value in list(vars(module).values()):
        if getattr(value, "__module__", None) != module.__name__:
            continue
        if isinstance(value, type) and issubclass(value, tuple) and hasattr(value, "_fields"):
            target: object = value.__new__
        elif callable(value) and hasattr(value, "__wrapped__"):
            target = value
        else:
            continue
        try:
            hints = typing.get_type_hints(target, globalns=vars(module))
        except NameError:  # a name imported for the type checker only: pdoc shows it as written
            continue
        while target is not None:  # the wrapper and what it wraps: pdoc reads the signature of either
            target.__annotations__ = hints  # type: ignore[attr-defined]
            target = getattr(target, "__wrapped__", None)


def write(output: Path) -> None:
    import pdoc

    for name in PUBLIC_MODULES:
        importlib.import_module(name)
    for name, module in list(sys.modules.items()):  # where each name is defined: the re-exports' too
        if name.startswith("irs_grammar"):
            _resolve_annotations(module)
    pdoc.pdoc(*PUBLIC_MODULES, output_directory=output)


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/api"))
