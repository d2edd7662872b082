"""The fast path against the Lark parser, and linear time on hostile input.

As h11 tests itself against the standard library: on every generated line the
fast path and the Lark parser (the reference) must agree, accepting the same
lines with the same reply, and parse() must refuse the others with the very
error the Lark parser gives.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import tzinfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar import fastpath, parser, reference, strategies
from irs_grammar.fastpath import fast_reader
from irs_grammar.reference import parse_with_lark
from tests.corpus import load


@pytest.fixture(autouse=True, scope="module")
def fresh_fast_path() -> None:
    """Build the fast path anew here: what is cached came from other tests (or, under
    mutation testing, from the unmutated code)."""
    for cached in (fastpath.line_re, fastpath.head_re, fastpath.field_re, fastpath.fast_reader):
        cached.cache_clear()
    parser._read_fast = None


def fast(line: str, tz: tzinfo | None) -> irs.InquiryResponse | None:
    return fast_reader()(line, tz)


def test_a_valid_line_never_reaches_the_lark_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lark(line: str, tz: object) -> object:
        raise AssertionError(f"the Lark path read a valid line: {line!r}")

    monkeypatch.setattr(reference, "refuse", no_lark)
    for case in load("inquiry/documented.jsonl") + load("inquiry/variants.jsonl"):
        assert irs.parse(case["line"]).timestamp


def test_the_fast_reader_is_bound_on_first_use() -> None:
    parser._read_fast = None
    assert irs.parse("R#A. @12:00:00.000000 01/01/2025").product_code == "A"
    assert parser._read_fast is fast_reader()


def outcome(read: Callable[[str], irs.InquiryResponse], line: str) -> object:
    """The reply, or the error as a comparable tuple."""
    try:
        return read(line)
    except irs.ParseError as e:
        return (e.message, e.column, e.expected, e.field, e.text)


def assert_agree(line: str) -> None:
    reference = outcome(parse_with_lark, line)
    if isinstance(reference, irs.InquiryResponse):
        assert fast(line, None) == reference
    else:
        assert fast(line, None) is None
    assert outcome(irs.parse, line) == reference


@given(strategies.response_lines())
def test_agree_on_valid_lines(line: str) -> None:
    assert_agree(line)


@given(strategies.near_misses())
@example("R#A. B: . x\n. @12:00:00.000000 01/01/2025")  # a value that led nowhere is not retried empty
@example("R#A. B: . AAAAAAAAAA. AAAAAAAAAA")
@example("R#A. B: . @12:00:00.000000 01/01/2025. @12:00:00.000000 01/01/2025x")
@example("R#A. PRICE: 12. @24:00:00.000000 01/01/2025")
@example("R#PLN20. PRICE: 1. price: 2. @12:00:00.000000 01/01/2025")  # no field named after a finished one
def test_agree_on_near_misses(line: str) -> None:
    assert_agree(line)


@given(strategies.grammar_lines())
def test_agree_on_lines_from_the_grammar(line: str) -> None:
    assert_agree(line)


@given(st.text(st.sampled_from(list("R#. :@0123456789/AZ\n\r")), max_size=80))
def test_agree_on_text_of_the_formats_own_characters(line: str) -> None:
    assert_agree(line)


@given(st.text())
def test_agree_on_any_text(line: str) -> None:
    assert_agree(line)


# -- linear time on hostile input ------------------------------------------------------

TS = "@12:00:00.000000 01/01/2025"
HOSTILE: dict[str, Callable[[int], str]] = {
    "fields without an end": lambda n: "R#" + ". A: x" * (n // 6) + ". @",
    "keys without values or an end": lambda n: "R#" + ". A: " * (n // 5),
    "a reason of 'x. '": lambda n: "R#A. REASON: " + "x. " * (n // 3),
    "a product code": lambda n: "R#" + "A" * n,
    "a value of dots": lambda n: "R#A. B: " + "." * n,
    "timestamps inside a value, then text": lambda n: "R#A. B: " + (". " + TS) * (n // 29) + "x",
    "key-like runs": lambda n: "R#A. B: " + ". AAAAAAAAAA" * (n // 12),
    "a valid reply with a long value": lambda n: "R#A. B: " + "x. " * (n // 3) + ". " + TS,
}


def best_time(line: str) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        with contextlib.suppress(irs.ParseError):
            irs.parse(line)
        times.append(time.perf_counter() - start)
    return min(times)


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_cost_grows_linearly_with_length(make: Callable[[int], str]) -> None:
    irs.parse("R#A. @12:00:00.000000 01/01/2025")  # parsers built before timing
    small, large = best_time(make(100_000)), best_time(make(1_000_000))
    # Ten times the text: about ten times the time. Quadratic would be 100.
    assert large / max(small, 1e-4) < 30, (small, large)
