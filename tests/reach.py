"""Which examples of a property reach its main assertion.

Each property test calls `reached()` where an example has met its main
assertion (an example that returns early, is filtered away or only hits a
trivial error does not). `python -m tests.reach_report` (`make reach`) runs the
properties with Hypothesis' statistics and fails when one does not say, or
says so for fewer than 80 % of its examples.
"""

from __future__ import annotations

from hypothesis import event
from hypothesis.control import currently_in_test_context

REACHED = "reached the main assertion"


def reached() -> None:
    if currently_in_test_context():  # helpers shared with example-based tests call it too
        event(REACHED)


def deep(column: int) -> bool:
    """An error past the reply mark `R#`: the parser did some work."""
    return column > 2
