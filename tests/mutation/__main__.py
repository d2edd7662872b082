"""mutmut, taught to mutate the decorated functions of this package (`make mutation`).

mutmut 3.8 leaves every decorated function but classmethods and staticmethods unmutated: a
copy of a function keeps its decorators, so the copy of a `@property` is a property object the
trampoline cannot call. Here the decorators this package uses (`property`, `cache`, `lru_cache`,
`contextmanager`, and Hypothesis' `composite` and the strategies' `_lazy`, which call the function
when a test draws) are let through, and the copies (the original and each mutant) lose them: the
decorator stays on the trampoline only, which calls the plain copies. A cached function is then
cached once around the trampoline; tests/conftest.py empties the caches in each mutant's process,
so a mutant of a cached builder is the one that builds.

Its fork-server runner is also taught to run a mutant's tests fastest first, as its fork runner does,
and a mutant of strategies.py only the tests of its contracts that reach it (OWN_TESTS).

Usage is mutmut's own: `python -m tests.mutation run --max-children 2`, `... results`, `... show NAME`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import libcst as cst
from libcst.metadata import PositionProvider
from mutmut import __main__ as mutmut_main
from mutmut.mutation import file_mutation
from mutmut.state import state
from mutmut.workers import isolation

# Decorators that wrap a function without needing anything of it at definition time.
# (`composite` and strategies' own `_lazy` run the function at draw time, in the test.)
LET_THROUGH = frozenset({"property", "cache", "lru_cache", "contextmanager", "composite", "_lazy"})


# A module whose mutants run its own tests only, of those that reach it: every property test draws
# from the strategies, but only test_strategies.py states what they promise, with the two round
# trips of the replies they draw and the refusal of the invalid lines they draw by Lark alone (the
# others test the parser with them, at minutes a survivor).
OWN_TESTS = {
    "irs_grammar.strategies": (
        "tests/test_strategies.py::",
        "tests/test_properties.py::test_parse_of_serialize_gives_back_the_reply",
        "tests/test_transaction.py::test_parse_of_serialize_gives_back_the_reply",
        "tests/test_properties.py::test_invalid_lines_are_refused_by_lark_alone_at_the_same_column",
    )
}


def _decorator_name(decorator: cst.Decorator) -> str:
    expression = decorator.decorator
    if isinstance(expression, cst.Call):
        expression = expression.func
    if isinstance(expression, cst.Attribute):
        return str(expression.attr.value)
    return str(expression.value) if isinstance(expression, cst.Name) else ""


def let_through(function: cst.FunctionDef) -> bool:
    """A function whose every decorator is one of LET_THROUGH."""
    return bool(function.decorators) and all(_decorator_name(d) in LET_THROUGH for d in function.decorators)


def install() -> None:
    """Patch mutmut's mutation visitor and trampoline arrangement (fork start: the workers inherit it)."""
    visitor = file_mutation.MutationVisitor
    skip = visitor._skip_node_and_children

    def skip_node_and_children(self: Any, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef) and let_through(node):
            # mutmut's other rules (pragmas by position, names never mutated) still apply
            position = self.get_metadata(PositionProvider, node, None)
            if position and position.start.line in self._ignored_node_lines:
                return bool(skip(self, node))
            return bool(skip(self, node.with_changes(decorators=())))
        return bool(skip(self, node))

    name = "_skip_node_and_children"  # setattr: mypy would refuse assigning to a method
    setattr(visitor, name, skip_node_and_children)

    arrange = file_mutation.function_trampoline_arrangement

    def function_trampoline_arrangement(
        function: cst.FunctionDef, mutants: Any, class_name: str | None
    ) -> tuple[Sequence[Any], Sequence[Any], Sequence[Any], Sequence[str]]:
        declarations, methods, assignments, names = arrange(function, mutants, class_name)
        if let_through(function):
            trampoline, *copies = methods
            methods = [trampoline, *(copy.with_changes(decorators=()) for copy in copies)]
        return declarations, methods, assignments, names

    name = "function_trampoline_arrangement"
    setattr(file_mutation, name, function_trampoline_arrangement)

    # mutmut's fork runner runs a mutant's tests fastest first; its fork-server runner passes them
    # in a set's order, so a mutant the quickest test kills could first run minutes of properties.
    submit = isolation.ForkServerRunner.submit

    def submit_fastest_first(
        self: Any, mutant_name: str, tests: list[str], cpu_time_limit: int, estimated_time: float
    ) -> None:
        durations = state().duration_by_test
        own = OWN_TESTS.get(mutant_name.split(".x")[0])
        if own:
            tests = [test for test in tests if test.startswith(own)] or tests
        ordered = sorted(tests, key=lambda test: (durations.get(test, 0.0), test))
        submit(self, mutant_name, ordered, cpu_time_limit, estimated_time)

    name = "submit"
    setattr(isolation.ForkServerRunner, name, submit_fastest_first)


def main(argv: Sequence[str]) -> None:
    install()
    # This launcher was imported as tests.mutation from the repository; pytest must import the
    # tests package from mutants/ (mutmut's copy) instead, or it stops at a path mismatch.
    for name in [name for name in sys.modules if name == "tests" or name.startswith("tests.")]:
        del sys.modules[name]
    mutmut_main.cli.main(args=list(argv), prog_name="mutmut")


if __name__ == "__main__":
    main(sys.argv[1:])
