"""Properties of parse() and serialize(), over generated replies and lines.

Generators come from irs_grammar.strategies (the same ones other suites get)
and from the grammar itself (hypothesis.extra.lark).
"""

from __future__ import annotations

import contextlib
from datetime import datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from lark.reconstruct import Reconstructor

import irs_grammar as irs
from irs_grammar import strategies
from irs_grammar.wire.grammar import inquiry_parser
from irs_grammar.wire.reference import parse_with_lark
from irs_grammar.wire.timestamp import format_timestamp
from tests.reach import deep, reached


def without_line_end(line: str) -> str:
    return line[:-2] if line.endswith("\r\n") else line.removesuffix("\n")


def parse_or_none(line: str) -> irs.InquiryResponse | None:
    """The reply, or None for a ParseError. Any other exception fails the test."""
    try:
        reply = irs.parse(line)
    except irs.ParseError as error:
        assert 1 <= error.column <= len(line) + 1
        assert error.expected
        assert str(error)
        if deep(error.column):  # a refusal at the reply mark says little
            reached()
        return None
    reached()
    return reply


# -- round trips ---------------------------------------------------------------


@given(strategies.response_lines())
def test_serialize_of_parse_gives_back_the_line(line: str) -> None:
    reached()
    assert irs.serialize(irs.parse(line)) == without_line_end(line)


@given(strategies.responses())
def test_parse_of_serialize_gives_back_the_reply(reply: irs.InquiryResponse) -> None:
    reached()
    assert irs.parse(irs.serialize(reply)) == reply


def _each_key_once(reply: irs.InquiryResponse) -> irs.InquiryResponse:
    """The reply with only the first field of each key, and no key spelled like one of to_dict()'s
    own names: one a dict can hold."""
    firsts: dict[str, str] = {}
    for key, value in reply.fields:
        if key not in _DICT_NAMES:
            firsts.setdefault(key, value)
    return irs.InquiryResponse(reply.product_code, tuple(firsts.items()), reply.timestamp)


_DICT_NAMES = {"CUSTOMER_NUMBER", "CUSTOMER_NAME", "POWER_CAPACITY", "PRODUCT_CODE", "CURRENT_TIMESTAMP"}
_dictable = strategies.responses().map(_each_key_once)


@given(st.one_of(_dictable, _dictable, _dictable, _dictable, strategies.responses()))
def test_from_dict_inverts_to_dict(reply: irs.InquiryResponse) -> None:
    try:
        record = reply.to_dict()
    except ValueError:
        keys = [k for k, _ in reply.fields]
        # Only a repeated key or a key spelled like a documented name is refused: the other half
        # of the property, checked as such (not its main assertion, which is below).
        assert len(set(keys)) < len(keys) or {"CUSTOMER_NUMBER", "CUSTOMER_NAME", "POWER_CAPACITY"} & set(
            keys
        )
        return
    reached()
    assert irs.InquiryResponse.from_dict(record) == reply


@given(strategies.grammar_lines())
def test_lines_generated_from_the_grammar_round_trip(line: str) -> None:
    reply = parse_or_none(line)
    if reply is not None:
        assert irs.serialize(reply) == without_line_end(line)


# -- the serializer never writes what the parser reads differently ----------------

_any_value = st.text(st.sampled_from(list(". :@AZ\nR#é0\r")), max_size=12)


def _serialized_or_refused(product: str, fields: list[tuple[str, str]], moment: datetime) -> str:
    """Serialize, and hold either answer to its promise: "written" reads back the same reply,
    "refused" names a field and the line written without checks does not read back as the reply."""
    reply = irs.InquiryResponse(product, tuple(fields), moment)
    try:
        line = irs.serialize(reply)
    except irs.SerializeError as error:
        assert error.field
        naive = (
            f"R#{product}"
            + "".join(f". {key}: {value}" for key, value in fields)
            + ". @"
            + format_timestamp(moment)
        )
        with contextlib.suppress(irs.ParseError):  # not a reply at all is fine too
            assert irs.parse(naive) != reply
        return "refused"
    assert irs.parse(line) == reply
    return "written"


_plain_value = st.text(st.sampled_from(list("AZaz09 -/*é")), max_size=12)


@given(
    st.text(st.sampled_from(list("AZaz09_-")), max_size=5),
    st.lists(
        st.one_of(
            st.tuples(st.just("PRICE"), st.from_regex(r"[0-9]{1,18}", fullmatch=True)),
            st.tuples(st.sampled_from(["CUSTNUM", "CUSTNAME", "POWERCAPACITY", "X_Y"]), _plain_value),
        ),
        max_size=4,
    ),
    strategies.timestamps(),
)
@example("A", [("PRICE", "12")], datetime(2024, 1, 1))
def test_serialize_writes_what_reads_back_the_same(
    product: str, fields: list[tuple[str, str]], moment: datetime
) -> None:
    # Well-formed fields: written, and read back as the same reply.
    if _serialized_or_refused(product, fields, moment) == "written":
        reached()


@given(
    st.text(st.sampled_from(list("AZaz09_- .é")), max_size=5),
    st.lists(
        st.tuples(st.sampled_from(["PRICE", "CUSTNAME", "REASON", "X", "x", "A B", "", "A: B"]), _any_value),
        max_size=3,
    ),
    strategies.timestamps(),
    st.one_of(  # and one that cannot be written as it is: a key no reply holds, or a value that ends early
        st.tuples(st.sampled_from(["x", "A B", "", "A: B"]), _any_value),
        st.tuples(st.just("PRICE"), st.sampled_from(["", "1.5", "12a", "٢"])),
        st.tuples(st.sampled_from(["CUSTNAME", "X"]), st.sampled_from(["a. X: b", "a\nb", "a. @b"])),
    ),
    st.integers(0, 4),
)
@example("A", [], datetime(2024, 1, 1), ("CUSTNAME", "a. X: b"), 0)
def test_serialize_refuses_what_would_read_back_otherwise(
    product: str, fields: list[tuple[str, str]], moment: datetime, hostile: tuple[str, str], at: int
) -> None:
    # Hostile fields: refused, naming a field, and never written as another reply.
    fields.insert(min(at, len(fields)), hostile)
    if _serialized_or_refused(product, fields, moment) == "refused":
        reached()


@given(strategies.response_lines(line_endings=False))
def test_serializer_agrees_with_larks_reconstructor(line: str) -> None:
    # An independent oracle: Lark rebuilds the text from the parse tree.
    parser = inquiry_parser()
    reached()
    assert Reconstructor(parser).reconstruct(parser.parse(line)) == irs.serialize(irs.parse(line))


# -- totality: a reply or a ParseError, nothing else ----------------------------------


# Any text, mostly behind the starts a reply has, so most examples get past the reply mark.
def behind_reply_starts(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    starts = ["", "R#", "R#A", "R#A. ", "R#A. B: ", "R#A. @", "R#PLN20. PRICE: ", "R#. REASON: "]
    return st.tuples(st.sampled_from(starts), text).map("".join)


@given(behind_reply_starts(st.text()))
def test_any_text_gives_a_reply_or_a_parse_error(text: str) -> None:
    reply = parse_or_none(text)
    if reply is not None:
        assert irs.serialize(reply) == without_line_end(text)


@given(behind_reply_starts(st.text(st.sampled_from(list("R#. :@0123456789/AZ\n\r")), max_size=60)))
def test_text_of_the_formats_own_characters_gives_a_reply_or_a_parse_error(text: str) -> None:
    reply = parse_or_none(text)
    if reply is not None:
        assert irs.serialize(reply) == without_line_end(text)


@given(strategies.near_misses())
def test_near_misses_give_a_reply_or_a_parse_error_and_accepted_ones_round_trip(line: str) -> None:
    reply = parse_or_none(line)
    if reply is not None:
        assert irs.serialize(reply) == without_line_end(line)


@given(strategies.invalid_lines())
def test_invalid_lines_are_refused_by_lark_alone_at_the_same_column(line: str) -> None:
    # invalid_lines() already holds parse() to refusing; the Lark reader alone is the oracle here.
    reached()
    with pytest.raises(irs.ParseError) as fast:
        irs.parse(line)
    with pytest.raises(irs.ParseError) as lark_only:
        parse_with_lark(line)
    assert 1 <= fast.value.column <= len(line) + 1
    assert (fast.value.column, fast.value.expected) == (lark_only.value.column, lark_only.value.expected)


@given(strategies.response_lines(line_endings=False), st.sampled_from(["\n\n", "\r", " ", "x", "\r\r\n"]))
def test_nothing_but_one_line_break_may_follow_the_date(line: str, tail: str) -> None:
    assert parse_or_none(line + tail) is None
