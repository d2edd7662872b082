"""The columnar Parquet batches (irs_grammar.columnar) against the reference: the same Arrow table.

The reference is `records_to_table()` of each valid line's `reply.to_record()`,
the definition of a record; the errors are parse_batch's (which
tests/test_jsonlines.py holds to the parser's). Every batch the strategies
draw is built both ways: both kinds, general shapes (unknown keys, repeats,
EXTRA), 18-digit amounts, bare details, every status, moments that are not
real, prefixes for --extract, blank lines, fixed zones and a named one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar import columnar, strategies
from irs_grammar.columnar import table_alone, table_batch
from irs_grammar.jsonlines import Options, parse_batch
from irs_grammar.jsonlines import read_slowly as real_read_slowly
from irs_grammar.lines import MAX_LINE_BYTES, Overlong
from irs_grammar.records import json_lines_to_table, records_to_table
from irs_grammar.wire.fastpath import (
    INQUIRY_SHAPE,
    TRANSACTION_SHAPE,
    common_inquiry_re,
    common_transaction_re,
    line_re,
)
from tests.reach import reached

LINES = st.one_of(strategies.response_lines(), strategies.transaction_lines(), strategies.grammar_lines())
PREFIXED = st.builds(
    lambda prefix, line: prefix + line, st.sampled_from(["2024-12-01 INFO ", "R ", "#"]), LINES
)
# (tz, the zone's name in the Arrow schema), as the command line makes them from --tz
ZONES: list[tuple[tzinfo | None, str | None]] = [
    (None, None),
    (timezone(timedelta(hours=7)), "+07:00"),
    (timezone(-timedelta(hours=5, minutes=30)), "-05:30"),
    (ZoneInfo("Asia/Jakarta"), "Asia/Jakarta"),  # an offset that depends on the date: JSON Lines
]


def reference(lines: list[str], first: int, options: Options, zone: str | None) -> object:
    """records_to_table() of the record of every valid line, None when there is none."""
    records = []
    for number, line in enumerate(lines, first):
        start = line.find("R#") if options.extract else 0
        try:
            reply = irs.parse_reply(line[max(start, 0) :], tz=options.tz) if start >= 0 else None
        except irs.ParseError:
            continue
        if reply is not None:
            records.append(reply.to_record(path=options.path, line=number))
    return records_to_table(records, zone) if records else None


@given(
    lines=st.lists(
        st.one_of(LINES, LINES, PREFIXED, strategies.near_misses(), st.just(""), st.just("  \t")), max_size=8
    ),
    zone=st.sampled_from(ZONES),
    path=st.sampled_from(["a.log", 'logs/50% "é".log']),
    extract=st.booleans(),
)
# A named zone leaves no common shape to try: every line goes by JSON Lines, each in turn (drawn, it
# may not come in a short run: mutation testing's 30 examples missed it)
@example(
    lines=["R#A. PRICE: 5. @12:00:00.000000 01/01/2025", "R#B. @12:00:01.000000 01/01/2025"],
    zone=ZONES[-1],
    path="a.log",
    extract=False,
)
# A line of the general shape with no field EXTRA holds (documented keys out of order), beside one
# of the common shape with another field: EXTRA empty for the one, the field for the other
@example(
    lines=[
        "R#A. CUSTNUM: 9. PRICE: 1. @12:00:00.000000 01/01/2025",
        "R#B. X: 1. @12:00:00.000000 01/01/2025",
    ],
    zone=ZONES[0],
    path="a.log",
    extract=False,
)
def test_a_batch_is_the_table_of_its_records(
    lines: list[str], zone: tuple[tzinfo | None, str | None], path: str, extract: bool
) -> None:
    tz, name = zone
    options = Options(path, tz, False, False, extract=extract)
    texts = [line if line.endswith("\n") else line + "\n" for line in lines]
    raw = [text.encode(errors="surrogateescape") for text in texts]
    batch = table_batch(raw, 3, options, name)
    for line in lines:
        common = common_inquiry_re().match(line) or common_transaction_re().match(line)
        general = line_re(INQUIRY_SHAPE).match(line) or line_re(TRANSACTION_SHAPE).match(line)
        if common or general:
            event("a line of a common shape" if common else "a line of a general shape")
    expected = reference(texts, 3, options, name)
    reached()
    if expected is None:
        assert batch.table is None
    else:
        assert batch.table is not None
        # column by column, to name the one that differs (no to_pylist: year 1 at +07:00 is before
        # Python's first datetime)
        assert batch.table.schema == expected.schema  # type: ignore[attr-defined]
        differ = [name for name in batch.table.column_names if not batch.table[name].equals(expected[name])]  # type: ignore[index]
        assert differ == []
    assert batch.errors == parse_batch(raw, 3, options).errors
    assert batch.lines == len(lines)


def test_a_log_of_both_kinds_comes_out_in_line_order() -> None:
    inquiry = "R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024"
    general = "R#PLN20. XPOWER: 1. PRICE: 5. PRICE: 6. @12:32:55.821005 12/11/2024"  # EXTRA: XPOWER, PRICE 6
    buy = "R#P1 DN1. 0811 SUCCESS. SN: 12. TRXID: T1. @10:00:00.000000 01/12/2024"
    unreal = "R#PLN20. PRICE: 1. @10:00:00.000000 31/02/2024"  # no 31 February: dropped before `general`
    lines = [buy, inquiry, "", unreal, general, "x", buy.replace("P1", "P3")]
    batch = table_batch(
        [line.encode() + b"\n" for line in lines], 1, Options("a.log", None, False, False), None
    )
    assert batch.table is not None
    rows = batch.table.to_pylist()
    assert [(r["line"], r["kind"]) for r in rows] == [
        (1, "transaction"),
        (2, "inquiry"),
        (5, "inquiry"),
        (7, "transaction"),
    ]
    assert rows[2]["PRICE"] == 5
    assert rows[2]["EXTRA"] == [{"key": "XPOWER", "value": "1"}, {"key": "PRICE", "value": "6"}]
    assert rows[1]["EXTRA"] == []
    assert rows[3]["REF_ID"] == "P3"
    assert [(line, column) for line, column, _ in batch.errors] == [(4, 37), (6, 1)]


def test_a_line_is_tried_against_the_common_shape_of_its_last_kind_then_of_the_kind_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The work of a mixed log: matches of the common shapes, counted a line at a time."""
    tried: list[str] = []
    shapes = columnar._shapes()

    def counted(shape: Any) -> Any:
        def common(text: str) -> Any:
            tried.append(shape.kind)
            return shape.common(text)

        return shape._replace(common=common)

    monkeypatch.setattr(columnar, "_shapes", lambda: tuple(counted(shape) for shape in shapes))
    inquiry = "R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024"
    buy = "R#P1 DN1. 0811 SUCCESS. SN: 12. TRXID: T1. @10:00:00.000000 01/12/2024"
    general = "R#9 DN1 SUCCESS. NOTE: x. SN: 1. TRXID: T9. @10:54:14.776182 29/11/2024"  # no common shape
    lines = [inquiry, buy, buy, inquiry, general, inquiry, buy]
    options = Options("a.log", None, False, False)
    batch = table_batch([line.encode() + b"\n" for line in lines], 1, options, None)
    assert batch.table is not None
    i, t = "inquiry", "transaction"
    assert batch.table["kind"].to_pylist() == [i, t, t, i, t, i, t]
    # the first buy after an inquiry: both; the next buy: the buy's alone; the inquiry after it:
    # both; the general buy: both commons once (then its general shape, which makes the buy the
    # last kind); the inquiry after it: both; the buy after that: both
    assert tried == [i, i, t, t, t, i, i, t, t, i, i, t]


@pytest.mark.parametrize("extract", [False, True])
@pytest.mark.parametrize("zone", [ZONES[0], ZONES[1]], ids=["naive", "+07:00"])
def test_valid_lines_of_either_kind_and_shape_are_built_as_columns_not_through_json_or_the_parser(
    extract: bool, zone: tuple[tzinfo | None, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a line no shape takes goes to the JSON Lines writers, and only a line they do not write
    # to the parser (read_slowly): here the refused line and the blank one.
    asked: list[int] = []
    slow: list[int] = []

    def json_writer(line: str, number: int) -> str | None:
        asked.append(number)
        return None

    def read_slowly(number: int, *rest: Any) -> None:
        slow.append(number)
        real_read_slowly(number, *rest)

    monkeypatch.setattr(columnar, "writer_for", lambda options: json_writer)
    monkeypatch.setattr(columnar, "read_slowly", read_slowly)
    prefix = "2024-12-01 INFO " if extract else ""
    lines = [
        # a common inquiry; with --extract its reply starts at the first R#
        "R#PLN20. REASON: see R#7. @12:32:55.821005 12/11/2024",
        "R#PLN20. XPOWER: 1. @12:32:55.821005 12/11/2024",  # common inquiry, another field (EXTRA)
        "R#9 DN1 SUCCESS. NOTE: x. SN: 1. TRXID: T9. @10:54:14.776182 29/11/2024",  # general buy
        "R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024",  # common buy
        "R#PLN20. PRICE: 5. PRICE: 6. @12:32:55.821005 12/11/2024",  # general inquiry, after a buy
        "R#PLN20. PRICE: x. @12:32:55.821005 12/11/2024",  # refused
        "",
    ]
    options = Options("a.log", zone[0], False, False, extract=extract)
    prefixed = [(prefix + line) for line in lines]
    if extract:
        prefixed[4] = " " + lines[4]  # a prefix of one character
    batch = table_batch([line.encode() + b"\n" for line in prefixed], 1, options, zone[1])
    assert batch.table is not None
    assert batch.table["REASON"][0].as_py() == "see R#7"
    assert [(r["kind"], r["EXTRA"]) for r in batch.table.to_pylist()] == [
        ("inquiry", []),
        ("inquiry", [{"key": "XPOWER", "value": "1"}]),
        ("transaction", [{"key": "NOTE", "value": "x"}]),
        ("transaction", []),
        ("inquiry", [{"key": "PRICE", "value": "6"}]),
    ]
    # (with --extract the blank line holds the prefix alone: no R#, so no writer is asked)
    assert asked == ([6] if extract else [6, 7])
    assert slow == [6, 7]
    no_reply = [(7, 1)] if extract else []
    assert [(line, column) for line, column, _ in batch.errors] == [(6, 17 + len(prefix)), *no_reply]


def test_a_batch_with_bytes_that_are_not_utf8_or_a_line_too_long_is_read_line_by_line() -> None:
    good = b"R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024\n"
    raw: list[bytes | Overlong] = [
        good,
        b"R#PLN20. CUSTNAME: \xff. @12:32:55.821005 12/11/2024\n",
        Overlong(9999),
        good,
    ]
    options = Options("a.log", None, False, False)
    batch = table_batch(raw, 4, options, None)
    assert batch.table is not None
    assert batch.table["line"].to_pylist() == [4, 7]
    assert batch.table.equals(json_lines_to_table(parse_batch(raw, 4, options).data, None))
    assert batch.errors == parse_batch(raw, 4, options).errors
    assert [line for line, _, _ in batch.errors] == [5, 6]
    assert f"longer than {MAX_LINE_BYTES:,} bytes (9,999)" in batch.errors[1][2]


def test_each_column_of_the_common_shapes_as_the_documentation_reads_them() -> None:
    lines = [
        # the partner documentation's inquiry sample, every documented field
        "R#PLN20. PRICE: 20546. CUSTNUM: 01105691111. CUSTNAME: BAHARRUDIN1. POWERCAPACITY: R1/2200VA."
        " @12:32:55.821005 12/11/2024",
        "R#PLN20. REASON: Nomor pelanggan salah Err:0042. @12:32:56.000000 12/11/2024",
        "R#7 DN1 FAILED. REASON: Saldo tidak cukup Err:17. TRXID: -. @10:54:14.776182 29/11/2024",
        "R#8 DN1 FAILED. Transaksi gagal. TRXID: T8. @10:54:15.000000 29/11/2024",  # bare details
    ]
    batch = table_batch(
        [line.encode() + b"\n" for line in lines], 1, Options("a.log", None, False, False), None
    )
    assert batch.table is not None
    got = [
        {
            name: row[name]
            for name in ("CUSTOMER_NUMBER", "CUSTOMER_NAME", "POWER_CAPACITY", "REASON", "ERROR_CODE")
        }
        | {name: row[name] for name in ("OK", "BARE_DETAILS", "TRANSACTION_ID")}
        for row in batch.table.to_pylist()
    ]
    assert got == [
        {
            "CUSTOMER_NUMBER": "01105691111",
            "CUSTOMER_NAME": "BAHARRUDIN1",
            "POWER_CAPACITY": "R1/2200VA",
            "REASON": None,
            "ERROR_CODE": None,
            "OK": True,
            "BARE_DETAILS": None,
            "TRANSACTION_ID": None,
        },
        {
            "CUSTOMER_NUMBER": None,
            "CUSTOMER_NAME": None,
            "POWER_CAPACITY": None,
            "REASON": "Nomor pelanggan salah Err:0042",
            "ERROR_CODE": "0042",
            "OK": False,
            "BARE_DETAILS": None,
            "TRANSACTION_ID": None,
        },
        {
            "CUSTOMER_NUMBER": None,
            "CUSTOMER_NAME": None,
            "POWER_CAPACITY": None,
            "REASON": "Saldo tidak cukup Err:17",
            "ERROR_CODE": "17",
            "OK": False,
            "BARE_DETAILS": False,
            "TRANSACTION_ID": None,  # `-`: no id
        },
        {
            "CUSTOMER_NUMBER": None,
            "CUSTOMER_NAME": None,
            "POWER_CAPACITY": None,
            "REASON": "Transaksi gagal",
            "ERROR_CODE": None,
            "OK": False,
            "BARE_DETAILS": True,
            "TRANSACTION_ID": "T8",
        },
    ]


@pytest.mark.parametrize(
    "moment",
    [
        "24:00:00.000000 01/12/2024",
        "30:00:00.000000 01/12/2024",  # hours past 23 whose second digit is not
        "93:00:00.000000 01/12/2024",
        "23:60:00.000000 01/12/2024",
        "23:59:60.000000 01/12/2024",
        "10:00:00.000000 29/02/2023",
        "10:00:00.000000 00/12/2024",
        "10:00:00.000000 01/13/2024",
        "10:00:00.000000 01/01/0000",
    ],
)
def test_a_moment_that_is_not_real_is_the_parsers_error(moment: str) -> None:
    lines = [
        f"R#PLN20. PRICE: 1. @{moment}",
        f"R#P1 DN1. 0811 SUCCESS. TRXID: T1. @{moment}",
        # real: the last moment of a leap day
        "R#P1 DN1. 0811 SUCCESS. TRXID: T1. @23:59:59.999999 29/02/2024",
    ]
    raw = [line.encode() + b"\n" for line in lines]
    options = Options("a.log", timezone(timedelta(hours=7)), False, False)
    batch = table_batch(raw, 1, options, "+07:00")
    assert batch.table is not None
    assert batch.table["line"].to_pylist() == [3]
    assert [line for line, _, _ in batch.errors] == [1, 2]
    assert batch.errors == parse_batch(raw, 1, options).errors


def test_a_reply_given_alone_has_no_path_and_no_line() -> None:
    options = Options(None, timezone(timedelta(hours=7)), False, False)
    batch = table_alone(b"R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024", options, "+07:00")
    assert batch.table is not None
    assert str(batch.table.schema.field("CURRENT_TIMESTAMP").type) == "timestamp[us, tz=+07:00]"
    (row,) = batch.table.to_pylist()
    assert (row["path"], row["line"], row["PRICE"]) == (None, None, 20546)
    assert row["CURRENT_TIMESTAMP"] == datetime(2024, 11, 12, 5, 32, 55, 821005, tzinfo=UTC)
    assert (batch.errors, batch.lines) == ([], 1)
    refused = table_alone(b"R#PLN20. PRICE: x", options, "+07:00")
    assert refused.table is None
    assert [(line, column) for line, column, _ in refused.errors] == [(1, 17)]
    assert refused.lines == 1
