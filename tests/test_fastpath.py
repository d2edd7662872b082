"""The fast path against the Lark parser, and linear time on hostile input.

As h11 tests itself against the standard library: on every generated line the
fast path and the Lark parser (the reference) must agree, accepting the same
lines with the same reply, and parse() must refuse the others with the very
error the Lark parser gives.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar import strategies
from irs_grammar.wire import fastpath, parser, reference, timestamp
from irs_grammar.wire.fastpath import fast_reader, fast_transaction_reader
from irs_grammar.wire.grammar import INQUIRY_GRAMMAR, TRANSACTION_GRAMMAR, parser_for, terminal_pattern
from irs_grammar.wire.reference import parse_transaction_with_lark, parse_with_lark
from irs_grammar.wire.timestamp import ISO_DATES, is_real_moment, iso_moment
from tests.corpus import load
from tests.growth import assert_linear
from tests.reach import deep, reached


@pytest.fixture(autouse=True, scope="module")
def fresh_fast_path() -> None:
    """Build the fast path anew here: what is cached came from other tests (or, under
    mutation testing, from the unmutated code)."""
    for cached in (
        fastpath.line_re,
        fastpath.head_re,
        fastpath.field_end_re,
        fastpath.fast_reader,
        fastpath.fast_transaction_reader,
    ):
        cached.cache_clear()
    parser._read_inquiry = None
    parser._readers.clear()
    timestamp.ISO_DATES.clear()  # each date is checked once: here, by the code under test


WIB = timezone(timedelta(hours=7))


def fast(line: str, tz: tzinfo | None) -> irs.InquiryResponse | None:
    return fast_reader()(line, tz)


def test_a_valid_line_never_reaches_the_lark_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lark(kind: object, line: str, tz: object) -> object:
        raise AssertionError(f"the Lark path read a valid line: {line!r}")

    monkeypatch.setattr(reference, "refuse", no_lark)
    for case in load("inquiry/documented.jsonl") + load("inquiry/variants.jsonl"):
        assert irs.parse(case["line"]).to_dict() == case["expect"]


def test_the_fast_reader_is_bound_on_first_use() -> None:
    parser._read_inquiry = None
    assert irs.parse("R#A. @12:00:00.000000 01/01/2025").product_code == "A"
    assert parser._read_inquiry is fast_reader()


def outcome(read: Callable[[str], object], line: str) -> object:
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
    reached_if_deep(reference)


def reached_if_deep(reference: object) -> None:
    """An agreement counts when the line was read, or refused past its reply mark."""
    if not isinstance(reference, tuple) or deep(reference[1]):
        reached()


# Any text, mostly behind the starts a reply has, so most examples get past column 3.
def behind_reply_starts(text: st.SearchStrategy[str], starts: list[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(["", *starts]), text).map("".join)


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


@given(
    behind_reply_starts(
        st.text(st.sampled_from(list("R#. :@0123456789/AZ\n\r")), max_size=80),
        ["R#", "R#A", "R#A. ", "R#A. B: ", "R#. REASON: "],
    )
)
def test_agree_on_text_of_the_formats_own_characters(line: str) -> None:
    assert_agree(line)


@given(
    behind_reply_starts(
        st.text(), ["R#", "R#A", "R#A. ", "R#A. B: ", "R#A. @", "R#PLN20. PRICE: ", "R#. REASON: "]
    )
)
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


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_cost_grows_linearly_with_length(make: Callable[[int], str]) -> None:
    irs.parse("R#A. @12:00:00.000000 01/01/2025")  # parsers built before timing
    assert_linear(make, irs.parse, smallest=50_000)  # 50 KB, 200 KB, 800 KB (CPU time, tests/growth.py)


# -- transaction replies: the same fast-path builder, proven the same way ---------------------------


def assert_transactions_agree(line: str, tz: tzinfo | None = None) -> None:
    reference = outcome(lambda text: parse_transaction_with_lark(text, tz=tz), line)
    fast_reply = fast_transaction_reader()(line, tz)
    if isinstance(reference, irs.TransactionResponse):
        assert fast_reply == reference
        assert fast_reply is not None
        assert fast_reply.timestamp.tzinfo is tz
    else:
        assert fast_reply is None
    assert outcome(lambda text: irs.parse_transaction(text, tz=tz), line) == reference
    reached_if_deep(reference)


def test_a_valid_transaction_never_reaches_the_lark_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lark(kind: object, line: str, tz: object) -> object:
        raise AssertionError(f"the Lark path read a valid line: {line!r}")

    monkeypatch.setattr(reference, "refuse", no_lark)
    for case in load("transaction/documented.jsonl") + load("transaction/variants.jsonl"):
        assert irs.parse_transaction(case["line"]).ref_id


@pytest.mark.parametrize(
    "case",
    load("transaction/documented.jsonl")
    + load("transaction/variants.jsonl")
    + load("transaction/invalid.jsonl"),
    ids=lambda case: str(case["name"]),
)
def test_transactions_agree_on_the_corpus(case: dict[str, object]) -> None:
    assert_transactions_agree(str(case["line"]))


@given(strategies.transaction_lines(), st.sampled_from([None, WIB]))
def test_transactions_agree_on_valid_lines(line: str, tz: tzinfo | None) -> None:
    assert_transactions_agree(line, tz)


@given(strategies.transaction_lines().flatmap(strategies._mutations))
@example("R#1 A. 2 FAILED. Nomor salah. @12:00:00.000000 01/01/2025")
@example("R#1 A. 2 FAILED. SN: 1. @12:00:00.000000 01/01/2025")  # no details part after a field
@example("R#1 A. 2 FAILED. SN: 1. SN: 2. x\n. TRXID: 3. @12:00:00.000000 01/01/2025")
@example(
    "R#1 A. 2 SUCCESS. TRXID: 3. SISA SALDO: 1.000.000.000.000.000.000 - 0 = 1 @12:00:00.000000 01/01/2025"
)
@example("R#1 A. 2 SUCCESS. TRXID: 3. @24:00:00.000000 31/12/2024")
def test_transactions_agree_on_near_misses(line: str) -> None:
    assert_transactions_agree(line)


@given(st.text(st.sampled_from(list("R#. :@0123456789/AZ-=&\n")), max_size=80))
def test_transactions_agree_on_text_of_the_formats_own_characters(line: str) -> None:
    assert_transactions_agree("R#1 A. 2 " + line)


@given(
    behind_reply_starts(
        st.text(), ["R#", "R#1 ", "R#1 A", "R#1 A. 2 ", "R#1 A. 2 SUCCESS. ", "R#1 A. 2 FAILED. REASON: "]
    )
)
def test_transactions_agree_on_any_text(line: str) -> None:
    assert_transactions_agree(line)


# -- refused lines reach Lark cut short: counted in characters, not seconds ----------------------

TRANSACTION_HOSTILE: dict[str, Callable[[int], str]] = {
    "fields without TRXID": lambda n: "R#1 A. 1 SUCCESS. " + "A: x. " * (n // 6),
    "fields, then a bad TRXID": lambda n: "R#1 A. 1 SUCCESS. " + "A: x. " * (n // 6) + "TRXID: . @",
    "empty fields": lambda n: (
        "R#1 A. 1 SUCCESS. " + "A: . " * (n // 5) + "TRXID: 1. @99:00:00.000000 01/01/2025"
    ),
    "fields, then a line break": lambda n: "R#1 A. 1 SUCCESS. " + "A: x. " * (n // 6) + "B: \n",
}
INQUIRY_HOSTILE: dict[str, Callable[[int], str]] = {
    "fields without an end": lambda n: "R#A. " + "A: x. " * (n // 6),
    "fields, then an impossible date": lambda n: (
        "R#A. " + "A: x. " * (n // 6) + "@12:00:00.000000 31/02/2025"
    ),
}


@pytest.mark.parametrize(
    ("read", "grammar", "make"),
    [(irs.parse_transaction, TRANSACTION_GRAMMAR, make) for make in TRANSACTION_HOSTILE.values()]
    + [(irs.parse, INQUIRY_GRAMMAR, make) for make in INQUIRY_HOSTILE.values()],
    ids=[*TRANSACTION_HOSTILE, *INQUIRY_HOSTILE],
)
def test_a_refused_line_of_fields_reaches_lark_without_them(
    read: Callable[[str], object], grammar: str, make: Callable[[int], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lark = parser_for(grammar)
    seen: list[int] = []
    real_parse = lark.parse

    def counting_parse(text: str) -> object:
        seen.append(len(text))
        return real_parse(text)

    monkeypatch.setattr(lark, "parse", counting_parse)
    line = make(1_000_000)
    with pytest.raises(irs.ParseError) as caught:
        read(line)
    assert 1 <= caught.value.column <= len(line) + 1
    assert seen
    assert max(seen) < 200, seen  # a megabyte of fields cut to the last one


# -- the moment: checked by text, the same way everywhere ------------------------------------------

DATES = ["29/02/2024", "29/02/2023", "31/04/2025", "30/04/2025", "00/01/2025", "01/13/2025", "01/01/0000"]


@pytest.mark.parametrize(
    ("name", "pattern"),
    [("KEY", "[A-Z:]+: "), ("KEY", "[A-Z]+="), ("_SEP", ";")],
    ids=["a KEY holding ':'", "a KEY not ending ': '", "another _SEP"],
)
def test_the_field_split_refuses_a_grammar_it_was_not_made_for(
    name: str, pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """field_pairs cuts a group at _SEP before a KEY and a field at the KEY's ': ': a grammar
    where those no longer hold stops it at once."""
    real = terminal_pattern
    monkeypatch.setattr(fastpath, "terminal_pattern", lambda n, *a: pattern if n == name else real(n, *a))
    fastpath.field_end_re.cache_clear()
    try:
        with pytest.raises(AssertionError):
            fastpath.field_end_re()
    finally:
        fastpath.field_end_re.cache_clear()


@pytest.mark.parametrize("hour", [f"{h:02d}" for h in range(100)])
def test_the_fast_paths_moment_check_is_the_grammars(hour: str) -> None:
    # parse_fast() writes is_real_moment() out inline; both must agree with the Lark reader.
    for minute, second, date in itertools.product(("00", "59", "60", "99"), ("00", "59", "60", "99"), DATES):
        time_ = f"{hour}:{minute}:{second}.000000"
        line = f"R#A. @{time_} {date}"
        real = outcome(parse_with_lark, line)
        assert (fast(line, None) is not None) is isinstance(real, irs.InquiryResponse)
        assert is_real_moment(time_, date) is isinstance(real, irs.InquiryResponse)
        # reconcile's reader: the ISO moment of a real one, "" for the rest
        iso = (
            real.timestamp.isoformat(timespec="microseconds") if isinstance(real, irs.InquiryResponse) else ""
        )
        ISO_DATES.clear()  # the date not seen yet, then seen
        assert iso_moment(time_, date) == iso_moment(time_, date) == iso
        assert outcome(irs.parse, line) == real


def test_hour_24_is_refused_even_where_fromisoformat_takes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # CPython 3.14's fromisoformat reads T24:00 as the next midnight (gh-102450).
    class Lenient(datetime):
        @classmethod
        def fromisoformat(cls, text: str) -> datetime:  # type: ignore[override]
            if "T24:" in text:
                return datetime.fromisoformat(text.replace("T24:", "T00:")) + timedelta(days=1)
            return datetime.fromisoformat(text)

    monkeypatch.setattr(timestamp, "datetime", Lenient)
    fastpath.fast_reader.cache_clear()
    parser._read_inquiry = None
    parser._readers.clear()
    for read in (irs.parse, irs.parse_transaction):
        line = (
            "R#A. @24:00:00.000000 31/12/2024"
            if read is irs.parse
            else "R#1 A. 2 S. TRXID: 3. @24:00:00.000000 31/12/2024"
        )
        with pytest.raises(irs.ParseError, match="hour 24 is not 00 to 23"):
            read(line)


# -- the differential, aimed at what the lookaheads exist for -----------------------------------------
#
# _FIELD_DOT and _REASON_DOT stop a value at ". KEY: " and ". @TIME DATE" (". TRXID: " for a buy's
# reason); _text_after_final_timestamp finds text after the last one. So values here are built of
# timestamps and near-timestamps, field and TRXID starts, in every zone, as str subclasses, and
# sometimes 1 to 100 KB long.

_TIMESTAMPS = ["@12:00:00.000000 01/01/2025", "@23:59:59.999999 29/02/2024"]
_NEAR_TIMESTAMPS = [
    "@24:00:00.000000 01/01/2025",  # no such hour
    "@12:00:00.000000 31/02/2025",  # no such day
    "@12:00:00.00000 01/01/2025",  # five fractional digits
    "@12:00:00.000000 1/01/2025",
    "@12:00:00.000000 01/01/2025x",
    "@12:00:00.000000 01/01/20251",
    "@\u0661\u0662:00:00.000000 01/01/2025",  # Arabic-Indic digits
]
_piece = st.one_of(
    st.sampled_from(_TIMESTAMPS).map(lambda t: ". " + t),
    st.sampled_from(_TIMESTAMPS + _NEAR_TIMESTAMPS),
    st.sampled_from(_NEAR_TIMESTAMPS).map(lambda t: ". " + t),
    st.sampled_from(["PRICE", "A", "REASON", "TRXID", "SN", "SISA SALDO", "a", "Ab", "A_1x"]).map(
        lambda k: f". {k}: "  # the last three are no KEY: a value holds them
    ),
    st.sampled_from([".", ". ", "..", ": ", " ", "@", "x", "é", "\n", "&refid=1"]),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=3),
)
_value = st.lists(_piece, max_size=6).map("".join)
# 1 to 100 KB of text a value may hold, sometimes.
_bulk = st.integers(1_000, 100_000).flatmap(
    lambda n: st.sampled_from(["x. " * (n // 3), "A" * n, ". A: x" * (n // 6)])
)
_long_value = st.one_of(_value, _value, _value, _value, st.tuples(_value, _bulk, _value).map("".join))
_ZONES = [None, UTC, WIB, timezone(timedelta(hours=-3, minutes=-30))]


class _Subclass(str):
    """A str subclass, as frameworks hand over: read as its text."""


def _as_given(line: str, subclass: bool) -> str:
    return _Subclass(line) if subclass else line


def _what_it_holds(line: str, reference: object, tz: tzinfo | None, subclass: bool) -> None:
    """Events, so --hypothesis-show-statistics shows the hard cases are reached."""
    event("refused" if isinstance(reference, tuple) else "read")
    body = line.rstrip("\r\n")
    stamps = sum(body.count(t) for t in _TIMESTAMPS)
    event("a timestamp inside a value" if stamps > 1 else "one timestamp")
    event("a near-timestamp" if any(t in body for t in _NEAR_TIMESTAMPS) else "no near-timestamp")
    reason = body.partition("REASON: ")[2]
    event(
        "'. KEY: ' inside the REASON"
        if re.search(r"\. [A-Z][A-Z0-9_ ]*: ", reason)
        else "no field start in REASON"
    )
    event(f"zone {tz}")
    event("a str subclass" if subclass else "a plain str")
    size = len(line)
    event(
        "under 1 KB"
        if size < 1000
        else "1-10 KB"
        if size < 10_000
        else "10-100 KB"
        if size < 100_000
        else "over 100 KB"
    )


@st.composite
def _inquiry_lines(draw: st.DrawFn) -> str:
    fields = draw(st.lists(st.tuples(st.sampled_from(["A", "PRICE", "CUSTNAME"]), _long_value), max_size=3))
    line = "R#" + draw(st.sampled_from(["", "PLN20"])) + "".join(f". {k}: {v}" for k, v in fields)
    if draw(st.booleans()):
        line += ". REASON: " + draw(_long_value)
    line += ". " + draw(st.sampled_from(_TIMESTAMPS))
    return line + draw(st.sampled_from(["", "", "\n", "\r\n", " x", ". @12:00:00.000000 01/01/2025"]))


@st.composite
def _transaction_lines(draw: st.DrawFn) -> str:
    line = "R#7 PLN20. 0811 " + draw(st.sampled_from(["SUCCESS", "FAILED", "INPROGRESS", "GAGAL"])) + ". "
    fields = draw(st.lists(st.tuples(st.sampled_from(["SN", "A"]), _long_value), max_size=2))
    line += "".join(f"{k}: {v}. " for k, v in fields)
    if draw(st.booleans()):
        line += draw(st.sampled_from(["REASON: ", ""])) + draw(_long_value) + ". "
    line += "TRXID: " + draw(st.sampled_from(["9", "-", "a b"])) + ". "
    if draw(st.booleans()):
        line += "SISA SALDO: 1.000 - 100 = 900 "
    line += draw(st.sampled_from(_TIMESTAMPS))
    return line + draw(
        st.sampled_from(["", "", "&refid=7", "\n", " x", "&refid=7. @12:00:00.000000 01/01/2025"])
    )


@settings(max_examples=150)
@given(_inquiry_lines(), st.sampled_from(_ZONES), st.booleans())
def test_agree_where_the_lookaheads_decide_inquiries(line: str, tz: tzinfo | None, subclass: bool) -> None:
    reference = outcome(lambda text: parse_with_lark(text, tz=tz), line)
    _what_it_holds(line, reference, tz, subclass)
    if isinstance(reference, irs.InquiryResponse):
        assert fast_reader()(line, tz) == reference
        assert reference.timestamp.tzinfo is tz
    else:
        assert fast_reader()(line, tz) is None
    assert outcome(lambda text: irs.parse(text, tz=tz), _as_given(line, subclass)) == reference
    assert outcome(lambda text: irs.parse_reply(text, tz=tz), _as_given(line, subclass)) == reference
    reached_if_deep(reference)


@settings(max_examples=150)
@given(_transaction_lines(), st.sampled_from(_ZONES), st.booleans())
def test_agree_where_the_lookaheads_decide_transactions(line: str, tz: tzinfo | None, subclass: bool) -> None:
    reference = outcome(lambda text: parse_transaction_with_lark(text, tz=tz), line)
    _what_it_holds(line, reference, tz, subclass)
    assert_transactions_agree(line, tz)
    assert outcome(lambda text: irs.parse_transaction(text, tz=tz), _as_given(line, subclass)) == reference
    assert outcome(lambda text: irs.parse_reply(text, tz=tz), _as_given(line, subclass)) == reference
    reached_if_deep(reference)
