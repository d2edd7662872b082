"""Reply kinds are data: a third kind is one grammar file, one reply class and one table entry.

The toy kind below lives in this file alone (its grammar is written to a
temporary folder): registered, it is parsed, serialized, validated and
exported by the library's own entry points, none of which names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

import pytest
from lark import Token

import irs_grammar as irs
from irs_grammar import validation
from irs_grammar.records import batch_to_table, to_record
from irs_grammar.validation import Summary, check_batch
from irs_grammar.wire import kinds, parser
from irs_grammar.wire.fastpath import Shape, fast_reader_of
from irs_grammar.wire.kinds import INQUIRY, TRANSACTION, Kind, kind_of_line, kind_of_reply
from irs_grammar.wire.schema import new_record
from irs_grammar.wire.timestamp import format_timestamp, moment

# A toy reply of two fields, a product and an optional reason; the timestamp and separators are
# the inquiry grammar's own.
TOY_GRAMMAR = r"""
%import inquiry (_REPLY_MARK, _SEP, _AT, _SPACE, TIME, DATE, LINE_END)
start: _REPLY_MARK TOY_MARK PRODUCT _SEP reason? _AT TIME _SPACE DATE LINE_END?
reason: REASON_KEY REASON_VALUE _SEP
TOY_MARK: "TOY "
PRODUCT: /[A-Z0-9]+/
REASON_KEY: "REASON: "
REASON_VALUE: /[a-z ]+/
"""


@dataclass(frozen=True)
class ToyReply:
    product_code: str
    reason: str | None
    timestamp: datetime

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def error_code(self) -> str | None:
        return None

    def to_record(self, *, path: str | None = None, line: int | None = None) -> dict[str, Any]:
        record = new_record("toy", self.product_code, self.timestamp, self.ok, path, line)
        record["REASON"] = self.reason
        record["EXTRA"] = []
        return record


def read_match(m: re.Match[str], tz: tzinfo | None) -> ToyReply:
    return ToyReply(m["product"], m["reason"], moment(m["time"], m["date"], tz))


def read_tree(tree: Any, when: datetime) -> ToyReply:
    tokens = {t.type: str(t) for t in tree.children if isinstance(t, Token)}
    reasons = [str(c.children[1]) for c in tree.children if not isinstance(c, Token)]
    return ToyReply(tokens["PRODUCT"], reasons[0] if reasons else None, when)


def write(reply: ToyReply) -> str:
    reason = "" if reply.reason is None else f"REASON: {reply.reason}. "
    return f"R#TOY {reply.product_code}. {reason}@{format_timestamp(reply.timestamp)}"


@pytest.fixture
def toy(tmp_path: Path) -> Iterator[Kind]:
    grammar = tmp_path / "toy.lark"
    grammar.write_text(TOY_GRAMMAR, encoding="utf-8")
    shape = Shape(
        str(grammar),
        line="{_REPLY_MARK}{TOY_MARK}(?P<product>{PRODUCT}){_SEP}(?:{REASON_KEY}(?P<reason>{REASON_VALUE}){_SEP})?"
        "{_AT}(?P<time>{TIME}){_SPACE}(?P<date>{DATE})(?:{LINE_END})?\\Z",
        start="{_REPLY_MARK}{TOY_MARK}",
    )
    kind = Kind("toy", shape, ToyReply, fast_reader_of(shape, read_match), read_tree, write, {}, "answer")
    kinds.register(kind)
    try:
        yield kind
    finally:
        kinds.unregister(kind)


GOOD = "R#TOY X1. @12:00:00.000000 01/01/2025"
FAILED = "R#TOY X2. REASON: out of stock. @12:00:01.000000 01/01/2025"
BAD = "R#TOY X3. REASON: OUT. @12:00:02.000000 01/01/2025"  # the reason is lower case


def test_a_registered_kind_is_parsed_and_written_by_the_library(toy: Kind) -> None:
    reply: Any = irs.parse_reply(GOOD)
    assert reply == ToyReply("X1", None, datetime(2025, 1, 1, 12))
    failed: Any = irs.parse_reply(FAILED)
    assert failed == ToyReply("X2", "out of stock", datetime(2025, 1, 1, 12, 0, 1))
    assert kind_of_line(GOOD) is toy
    assert kind_of_reply(reply) is toy
    assert irs.serialize(reply) == GOOD
    assert irs.serialize(irs.parse_reply(FAILED)) == FAILED
    # Inquiries and transactions are read as before.
    assert kind_of_line("R#TOY. @12:00:00.000000 01/01/2025") is INQUIRY
    assert kind_of_line("R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024") is TRANSACTION


def test_a_registered_kind_is_refused_by_its_own_grammar(toy: Kind) -> None:
    with pytest.raises(irs.ParseError) as refused:
        irs.parse_reply(BAD)
    assert refused.value.column == BAD.index("OUT") + 1
    with pytest.raises(irs.ParseError, match="day 32"):
        irs.parse_reply("R#TOY X1. @12:00:00.000000 32/01/2025")


def test_a_registered_kind_is_validated_and_counted(toy: Kind) -> None:
    results = list(irs.validate([GOOD, FAILED, BAD, ""]))
    assert [(r.valid, r.blank) for r in results] == [
        (True, False),
        (True, False),
        (False, False),
        (False, True),
    ]
    summary = Summary()
    for result in results:
        summary.add(result)
    assert (summary.valid, summary.invalid, summary.succeeded, summary.failed) == (2, 1, 1, 1)
    assert dict(summary.products) == {"X1": 1, "X2": 1}
    # The command's batches count it from the fast path's match alone, to the same counts.
    batch = check_batch([line.encode() + b"\n" for line in (GOOD, FAILED, BAD, "")], 1, False)
    assert batch.summary.to_dict() == summary.to_dict()
    assert [number for number, _, _ in batch.errors] == [3]


def test_a_valid_line_of_a_registered_kind_is_read_and_counted_without_the_slow_paths(
    toy: Kind, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fast reader alone reads it, with the zone asked: the Lark reader is never called.
    real_refuse = parser._refuse

    def no_lark(kind: Kind, line: str, tz: tzinfo | None) -> Any:
        raise AssertionError(f"a valid line went to Lark: {line}")

    monkeypatch.setattr(parser, "_refuse", no_lark)
    zone = timezone(timedelta(hours=7))
    reply: Any = irs.parse_reply(GOOD, tz=zone)
    assert reply == ToyReply("X1", None, datetime(2025, 1, 1, 12, tzinfo=zone))
    # A batch counts every valid line of every kind (two of them answers now) from the kinds'
    # matchers alone: only the invalid and blank lines go through check_line.
    checked: list[str] = []

    def check_line(number: int, line: str, **options: Any) -> Any:
        checked.append(line)
        return real_check_line(number, line, **options)

    real_check_line = validation.check_line
    monkeypatch.setattr(validation, "check_line", check_line)
    monkeypatch.setattr(parser, "_refuse", real_refuse)
    inquiry = "R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024"
    buy = "R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024"
    lines = [GOOD, inquiry, FAILED, buy, BAD, ""]
    batch = check_batch([line.encode() + b"\n" for line in lines], 1, False)
    assert checked == [BAD + "\n", "\n"]
    assert (batch.summary.valid, batch.summary.invalid, batch.summary.blank) == (4, 1, 1)
    assert dict(batch.summary.transactions) == {"FAILED": 1}


def test_a_registered_kind_is_exported_as_typed_records(toy: Kind) -> None:
    record = to_record(irs.parse_reply(FAILED), path="toy.log", line=2)
    assert (record["kind"], record["PRODUCT_CODE"], record["OK"], record["REASON"]) == (
        "toy",
        "X2",
        False,
        "out of stock",
    )
    assert record["CURRENT_TIMESTAMP"] == "2025-01-01 12:00:01.000000"
    table = batch_to_table([GOOD, BAD, FAILED], path="toy.log")
    assert table.column("kind").to_pylist() == ["toy", "toy"]
    assert table.column("line").to_pylist() == [1, 3]


def test_the_table_refuses_what_it_could_not_dispatch(toy: Kind) -> None:
    with pytest.raises(ValueError, match="registered already"):
        kinds.register(toy)
    with pytest.raises(ValueError, match="how its lines begin"):
        kinds.register(
            Kind(
                "other", toy.shape._replace(start=None), dict, toy.fast_reader, read_tree, write, {}, "answer"
            )
        )
    with pytest.raises(ValueError, match="built-in"):
        kinds.unregister(INQUIRY)


def test_unregistered_the_kind_is_gone() -> None:
    # The fixture's kind is not left behind: its lines start like a transaction reply's again.
    assert kind_of_line(GOOD) is TRANSACTION
    assert [kind.name for kind in kinds.KINDS] == ["transaction", "inquiry"]


def test_a_kind_of_a_taken_name_or_class_is_refused(toy: Kind) -> None:
    same_name = Kind("toy", toy.shape, dict, toy.fast_reader, read_tree, write, {}, "answer")
    same_class = Kind("other", toy.shape, ToyReply, toy.fast_reader, read_tree, write, {}, "answer")
    for kind in (same_name, same_class):
        with pytest.raises(ValueError, match="registered already"):
            kinds.register(kind)
    assert [k.name for k in kinds.KINDS] == ["toy", "transaction", "inquiry"]
