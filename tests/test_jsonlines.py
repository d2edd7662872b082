"""The fast JSON Lines writers (irs_grammar.jsonlines) against the reference: the same bytes, always.

The reference is `json.dumps(reply.to_record())` (or `to_dict()` with --wire),
as `parse` wrote every line before the fast writers; each line a strategy draws
is written both ways.
"""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar import strategies
from irs_grammar.jsonlines import (
    Options,
    parse_alone,
    parse_batch,
    reference_line,
    writer,
)
from irs_grammar.wire.fastpath import common_inquiry_re, common_transaction_re
from tests.reach import reached

LINES = st.one_of(
    strategies.response_lines(),
    strategies.transaction_lines(),
    strategies.grammar_lines(),
)
OPTIONS = st.builds(
    Options,
    path=st.sampled_from([None, "a.log", 'logs/50% "é".log']),
    tz=st.sampled_from(
        [None, timezone(timedelta(hours=7)), timezone(-timedelta(hours=5)), ZoneInfo("Asia/Jakarta")]
    ),
    wire=st.booleans(),
    ascii_only=st.booleans(),
    extract=st.booleans(),
)
# A log line with a prefix before its reply (--extract reads past it; without, it is an error).
PREFIXED = st.builds(
    lambda prefix, line: prefix + line, st.sampled_from(["2024-12-01 INFO ", "R ", "#"]), LINES
)


def reference(line: str, number: int, options: Options) -> str | None:
    """What parse wrote before the fast writers: the line's JSON, or None for an error."""
    try:
        reply = irs.parse_reply(line, tz=options.tz)
        return reference_line(reply, number, options)
    except (irs.ParseError, ValueError):
        return None


@given(line=LINES, number=st.integers(1, 10**9), options=OPTIONS)
# A buy reply of the general shape (another field before SN) with REASON, as a wire dict: the
# common shape takes most lines with other fields now, so few drawn reach this branch
@example(
    line="R#7 DN1. 0817 FAILED. NOTE: a. SN: 1. REASON: x. TRXID: 9. @10:00:00.000000 01/12/2024",
    number=1,
    options=Options("a.log", None, True, False),
)
def test_the_fast_writer_writes_the_references_bytes(line: str, number: int, options: Options) -> None:
    fast = writer(options)(line, number)
    expected = reference(line, number, options)
    if fast is None:
        # left to the reference: the line is not one the fast path takes, or --wire cannot hold it
        event("left to the reference")
        return
    shape = common_inquiry_re().match(line) or common_transaction_re().match(line)
    event("common shape" if shape else "general shape")
    reached()
    assert fast == expected
    json.loads(fast)  # and it is JSON


@given(line=st.one_of(strategies.near_misses(), strategies.invalid_lines()), options=OPTIONS)
def test_a_line_the_parser_refuses_is_never_written(line: str, options: Options) -> None:
    if reference(line, 1, options) is None:
        reached()
        assert writer(options)(line, 1) is None


@given(
    lines=st.lists(
        st.one_of(LINES, PREFIXED, strategies.near_misses(), st.just(""), st.just("  \t\n")), max_size=8
    ),
    options=OPTIONS,
)
def test_a_batch_is_its_lines_written_by_the_reference_and_its_errors(
    lines: list[str], options: Options
) -> None:
    raw = [line.encode(errors="surrogateescape") + (b"" if line.endswith("\n") else b"\n") for line in lines]
    batch = parse_batch(raw, 5, options)
    expected, errors = [], []
    for number, line in enumerate(lines, 5):
        text = line if line.endswith("\n") else line + "\n"
        if not text.strip(" \t\n"):
            continue
        # with --extract a reply starts at its line's first R#: a line without one is an error
        start = text.find("R#") if options.extract else 0
        if start < 0:
            errors.append((number, 1, "no reply in this line (no 'R#')"))
            continue
        try:
            reply = irs.parse_reply(text[start:], tz=options.tz)
        except irs.ParseError as error:
            errors.append((number, error.column + start, error.message))
            continue
        try:
            expected.append(reference_line(reply, number, options) + "\n")
        except ValueError as error:
            errors.append((number, 1, f"valid reply, but not as one JSON object: {error}"))
    reached()
    assert batch.data == "".join(expected).encode()
    assert batch.errors == errors
    assert batch.lines == len(lines)


@pytest.mark.parametrize(
    "line",
    [
        # the documented samples, one of each shape
        "R#PLN20. PRICE: 20546. CUSTNUM: 01105691111. CUSTNAME: BAHARRUDIN1. POWERCAPACITY: R1/2200VA. "
        "@12:32:55.821005 12/11/2024",
        "R#. CUSTNUM: 01105601111. REASON: CUSTID not recognized. Biller throws exception. Err:5110. "
        "@12:32:08.889517 12/11/2024",
        "R#359912451 MXD17. 48429495 SUCCESS. SN: 4779928. TRXID: 5a8ae07d-c01c-48c1-b38a-20a1f7ea0200. "
        "SISA SALDO: 97.411.793 - 18.800 = 97.392.993 @15:25:39.484331 20/02/2024&refid=359912451",
        "R#00f7ade1-68df-4d58-a7c9-297ec86e6632 DNOPEN FAILED. REASON: Amount must be in numbers only. "
        "TRXID: -. @15:45:02.875417 23/10/2024",
        # the general shapes: a repeat, an unknown key, keys out of order, a bare details part
        "R#PLN20. PRICE: 1. PRICE: 2. X_Y: z. CUSTNAME: A. CUSTNUM: 9. @12:32:55.821005 12/11/2024",
        "R#7 DN1. 0817 FAILED. Nomor tujuan salah. TRXID: -. @10:54:14.776182 29/11/2024",
        "R#7 DN1. 0817 SUCCESS. NOTE: a. SN: 1. SN: 2. TRXID: 9. @10:54:14.776182 29/11/2024",
        "R#7 DN1. 0817 FAILED. NOTE: a. REASON: Nomor salah. TRXID: -. @10:54:14.776182 29/11/2024",
    ],
)
def test_each_documented_shape_is_written_fast_and_the_same(line: str) -> None:
    typed, wire = Options("a.log", None, False, True), Options(None, None, True, False)
    fast = writer(typed)(line, 3)
    assert fast is not None
    assert fast == reference(line, 3, typed)
    # the wire dict: a repeated key has no dict (the reference says why); otherwise the same bytes
    assert writer(wire)(line, 3) == reference(line, 3, wire)


@pytest.mark.parametrize(
    "moment",
    [
        "24:00:00.000000 12/11/2024",
        "30:00:00.000000 12/11/2024",
        "12:60:00.000000 12/11/2024",
        "12:00:60.000000 12/11/2024",
        "12:00:00.000000 31/02/2024",
    ],
)
@pytest.mark.parametrize(
    "line",
    [
        "R#PLN20. PRICE: 20546. @{}",  # the common shapes
        "R#7 DN1. 0817 SUCCESS. SN: 1. TRXID: 9. @{}",
        "R#PLN20. PRICE: 1. NOTE: a. @{}",  # the common shapes, another field (EXTRA)
        "R#7 DN1. 0817 SUCCESS. SN: 1. NOTE: a. TRXID: 9. @{}",
        "R#PLN20. CUSTNUM: 9. PRICE: 1. @{}",  # the general shapes
        "R#7 DN1. 0817 SUCCESS. NOTE: a. SN: 1. TRXID: 9. @{}",
    ],
)
@pytest.mark.parametrize("wire", [False, True])
def test_a_moment_that_is_not_real_is_left_to_the_reference(line: str, moment: str, wire: bool) -> None:
    # The grammar takes any two digits; the hour, minute, second and day are checked after it (each
    # writer checks them inline): the reference names the part.
    options = Options("a.log", None, wire, False)
    assert writer(options)(line.format(moment), 1) is None
    assert writer(options)(line.format("12:00:00.000000 12/11/2024"), 1) is not None


def test_the_timestamp_is_written_with_a_space_for_duckdb() -> None:
    line = "R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024"
    record = json.loads(writer(Options(None, timezone(timedelta(hours=7)), False, True))(line, 1) or "")
    # ISO 8601 with a space, as RFC 3339 allows: DuckDB's read_json types it TIMESTAMP WITH TIME ZONE
    assert record["CURRENT_TIMESTAMP"] == "2024-11-12 12:32:55.821005+07:00"


@given(
    lines=st.lists(st.one_of(LINES, strategies.near_misses()), min_size=1, max_size=12),
    tz=st.sampled_from([None, timezone(timedelta(hours=7)), ZoneInfo("Asia/Jakarta")]),
)
def test_parquet_from_the_fast_json_lines_is_the_table_of_the_records(
    lines: list[str], tz: ZoneInfo | None
) -> None:
    from irs_grammar.records import _zone_name, json_lines_to_table, records_to_table

    zone = _zone_name(tz)
    raw = [line.encode(errors="surrogateescape") + (b"" if line.endswith("\n") else b"\n") for line in lines]
    batch = parse_batch(raw, 1, Options("a.log", tz, False, False))
    records = []
    for number, line in enumerate(lines, 1):
        text = line if line.endswith("\n") else line + "\n"  # the line as the batch reads it
        try:
            records.append(irs.parse_reply(text, tz=tz).to_record(path="a.log", line=number))
        except irs.ParseError:
            continue
    if not records:
        return
    reached()
    assert json_lines_to_table(batch.data, zone).equals(records_to_table(records, zone))


def test_a_reply_given_alone_is_one_line_read() -> None:
    options = Options(None, None, False, False)
    written = parse_alone(b"R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024", options)
    assert (written.data.count(b"\n"), written.errors, written.lines) == (1, [], 1)
    refused = parse_alone(b"R#PLN20. PRICE: x", options)
    assert (refused.data, [e[:2] for e in refused.errors], refused.lines) == (b"", [(1, 17)], 1)


@pytest.mark.parametrize("extract", [False, True])
def test_valid_lines_are_written_by_the_fast_writers_not_the_parser(
    extract: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # only a line the fast writers leave goes to read_slowly (the parser): here the refused one and
    # the blank one; with --extract, lines after a prefix of any length, or none
    from irs_grammar import jsonlines

    slow: list[int] = []
    real = jsonlines.read_slowly

    def read_slowly(number: int, *rest: Any) -> None:
        slow.append(number)
        real(number, *rest)

    monkeypatch.setattr(jsonlines, "read_slowly", read_slowly)
    lines = [
        "R#PLN20. REASON: see R#7. @12:32:55.821005 12/11/2024",
        "R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024",
        "R#PLN20. PRICE: x. @12:32:55.821005 12/11/2024",
        "",
    ]
    if extract:
        lines[0], lines[1] = "2024-12-01 INFO " + lines[0], " " + lines[1]
    batch = parse_batch(
        [line.encode() + b"\n" for line in lines], 1, Options("a.log", None, False, False, extract)
    )
    assert [json.loads(line)["REASON"] for line in batch.data.splitlines()] == ["see R#7", None]
    assert slow == [3, 4]
