"""Empty the package's caches, so that code under a mutant runs instead of a result cached before it.

mutmut forks each mutant's process from one that already ran tests: a cached builder (the fast
path's patterns, the Lark parsers) would answer from the cache, and its mutants could not fail a
test. While mutmut records which tests reach which function ("stats"), the caches are emptied
before each test, so every test that needs a builder is counted; in a mutant's process they are
emptied once, at the start. The Lark parsers (a quarter of a second to build) are rebuilt only
for mutants of irs_grammar.wire.grammar, the one module they are built from.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

PARSERS = ("irs_grammar.wire.grammar", "parser_for")


def mutant_under_test() -> str:
    """The mutant this process runs ("stats" while recording, "" outside mutmut)."""
    return os.environ.get("MUTANT_UNDER_TEST", "")


def empty_caches(parsers: bool) -> None:
    for name, module in list(sys.modules.items()):
        if not name.startswith("irs_grammar") or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if (name, attribute) == PARSERS and not parsers:
                continue
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()
    timestamp = sys.modules.get("irs_grammar.wire.timestamp")
    if timestamp is not None:
        timestamp.ISO_DATES.clear()
    parser = sys.modules.get("irs_grammar.wire.parser")
    if parser is not None:  # each kind's fast reader, kept once built
        vars(parser)["_read_inquiry"] = None
        vars(parser)["_readers"].clear()
    kinds = sys.modules.get("irs_grammar.wire.kinds")
    if kinds is not None:  # the start patterns, kept once compiled
        vars(kinds)["_STARTS"].clear()


def before_session() -> None:
    mutant = mutant_under_test()
    if mutant not in ("", "stats", "fail"):
        empty_caches(parsers=mutant.startswith(PARSERS[0] + "."))


def before_test() -> None:
    if mutant_under_test() == "stats":
        empty_caches(parsers=False)


# A mutant that blocks for good (a server never shut down, a join that never returns) would hold
# its worker for ever: mutmut's limit counts CPU time, and a blocked process uses none.
TEST_WALL_CLOCK_LIMIT = 120.0


def _too_long(signum: int, frame: object) -> None:
    raise TimeoutError(f"a test under a mutant ran past {TEST_WALL_CLOCK_LIMIT:.0f} s: the mutant blocks")


def limit_wall_clock() -> Callable[[], None]:
    """In a mutant's process, a test that runs past the limit fails; returns what lifts the limit."""
    if mutant_under_test() in ("", "stats", "fail"):
        return lambda: None
    previous = signal.signal(signal.SIGALRM, _too_long)
    signal.setitimer(signal.ITIMER_REAL, TEST_WALL_CLOCK_LIMIT)

    def lift() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    return lift
