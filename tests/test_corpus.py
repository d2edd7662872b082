"""The golden corpus: the documented samples, our variants and invalid lines.

Expectations in corpus/ were written by hand from the partner document and
DESIGN.md; these tests compare the library against them.
"""

from __future__ import annotations

from typing import Any

import pytest

import irs_grammar as irs
from tests.corpus import CORPUS, case_id, load

VALID = load("inquiry/documented.jsonl") + load("inquiry/variants.jsonl")
INVALID = load("inquiry/invalid.jsonl")


def test_corpus_sizes() -> None:
    assert len(load("inquiry/documented.jsonl")) == 7  # every sample reply of the seed document
    assert len(load("inquiry/variants.jsonl")) >= 30
    assert len(INVALID) >= 30


def test_documented_log_holds_the_documented_lines() -> None:
    lines = (CORPUS / "inquiry/documented.log").read_text(encoding="utf-8").splitlines()
    assert lines == [c["line"] for c in load("inquiry/documented.jsonl")]


@pytest.mark.parametrize("case", VALID, ids=case_id)
def test_valid_line_reads_as_written_by_hand(case: dict[str, Any]) -> None:
    reply = irs.parse(case["line"])
    assert reply.to_dict() == case["expect"]
    views = case["views"]
    assert reply.price == views["price"]
    assert reply.ok is views["ok"]
    assert reply.error_code == views["error_code"]
    assert reply.timestamp.isoformat() == views["timestamp"]
    # The text views read the fields the hand-written expectation names (a view reading another
    # key, `power_capacity` returning CUSTNAME, survived every test of commit 1089ced).
    expect = case["expect"]
    assert reply.customer_number == expect.get("CUSTOMER_NUMBER")
    assert reply.customer_name == expect.get("CUSTOMER_NAME")
    assert reply.power_capacity == expect.get("POWER_CAPACITY")
    assert reply.reason == expect.get("REASON")


@pytest.mark.parametrize("case", VALID, ids=case_id)
def test_valid_line_round_trips(case: dict[str, Any]) -> None:
    line: str = case["line"]
    reply = irs.parse(line)
    without_break = line[:-2] if line.endswith("\r\n") else line.removesuffix("\n")
    assert irs.serialize(reply) == without_break
    assert irs.InquiryResponse.from_dict(reply.to_dict()) == reply


@pytest.mark.parametrize("case", INVALID, ids=case_id)
def test_invalid_case_is_self_consistent(case: dict[str, Any]) -> None:
    # The hand-counted column must point at the hand-written text.
    line, column, at = case["line"], case["column"], case["at"]
    if at:
        assert line[column - 1 :].startswith(at)
    else:
        assert column == len(line) + 1


@pytest.mark.parametrize("case", INVALID, ids=case_id)
def test_invalid_line_is_refused_at_its_column(case: dict[str, Any]) -> None:
    with pytest.raises(irs.ParseError) as caught:
        irs.parse(case["line"])
    error = caught.value
    assert error.column == case["column"]
    assert error.field == case.get("field")
    if "message" in case:
        assert error.message == case["message"]
    if case.get("message", "").startswith("text after the timestamp"):
        assert error.expected == ("the end of the line",)
    assert error.expected  # always says what could stand there
    assert error.text == case["line"]
