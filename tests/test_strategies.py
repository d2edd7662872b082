"""irs_grammar.strategies: they reach the hard corners and shrink to small examples."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

import irs_grammar as irs
from irs_grammar import strategies
from irs_grammar.near_misses import BREAKS
from irs_grammar.wire.pln import read_pln_token
from irs_grammar.wire.reference import parse_transaction_with_lark, parse_with_lark
from irs_grammar.wire.request import MAX_AMOUNT, InquiryRequest
from tests.corpus import load
from tests.reach import reached

# Derandomized: how small a search shrinks to must not depend on the run (it did, 1 run in 6).
SEARCH = settings(max_examples=3000, database=None, suppress_health_check=list(HealthCheck), derandomize=True)
# Reaching a case only needs an example, not the smallest one.
REACH = settings(SEARCH, phases=[Phase.generate])


def values(line: str) -> list[str]:
    return [value for _, value in irs.parse(line).fields]


HARD_CASES: dict[str, Callable[[str], bool]] = {
    "a value holding '.'": lambda line: any("." in v for v in values(line)),
    "a value holding '. '": lambda line: any(". " in v for v in values(line)),
    "a value holding ':'": lambda line: any(":" in v for v in values(line)),
    "a value holding '@'": lambda line: any("@" in v for v in values(line)),
    "a value ending in '.'": lambda line: any(v.endswith(".") for v in values(line)),
    "a REASON holding '. XYZ: '": lambda line: bool(
        re.search(r"\. [A-Z][A-Z0-9_]*: ", irs.parse(line).reason or "")
    ),
    "a non-ASCII value": lambda line: any(not v.isascii() for v in values(line)),
    "an unknown key": lambda line: any(
        k not in ("PRICE", "CUSTNUM", "CUSTNAME", "POWERCAPACITY", "REASON")
        for k, _ in irs.parse(line).fields
    ),
    "a leap day": lambda line: irs.parse(line).timestamp.strftime("%d/%m") == "29/02",
    "a year below 1000": lambda line: irs.parse(line).timestamp.year < 1000,
    "a CRLF ending": lambda line: line.endswith("\r\n"),
    "an LF ending": lambda line: line.endswith("\n") and not line.endswith("\r\n"),
}


@pytest.mark.parametrize("predicate", HARD_CASES.values(), ids=HARD_CASES.keys())
def test_response_lines_reach_the_hard_cases(predicate: Callable[[str], bool]) -> None:
    # find() raising NoSuchExample is the failure; what it found must still be a valid reply.
    found = find(strategies.response_lines(), predicate, settings=REACH)
    assert irs.serialize(irs.parse(found)) == found.removesuffix("\n").removesuffix("\r")


NEAR_MISSES: dict[str, Callable[[str], bool]] = {
    "a non-ASCII digit": lambda line: any(c.isdigit() and not c.isascii() for c in line),
    "an impossible date": lambda line: "30/02/" in line,
    "a stray line break": lambda line: "\n" in line.rstrip("\n"),
    "text after the date": lambda line: re.search(r"[0-9]{4}[^0-9\r\n]+$", line) is not None,
    "a separator without its space": lambda line: re.search(r"\.[A-Z@]", line) is not None,
    # Only the random half makes it (every targeted break keeps the date): a line cut short.
    "a line cut short before its date": lambda line: (
        line.startswith("R#") and re.search(r"[0-9]{2}/[0-9]{2}/[0-9]{4}", line) is None
    ),
}


@pytest.mark.parametrize("predicate", NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_invalid_lines_reach_the_near_misses(predicate: Callable[[str], bool]) -> None:
    # find() raising NoSuchExample is the failure; the Lark reader alone must refuse what it found.
    found = find(strategies.invalid_lines(), predicate, settings=REACH)
    with pytest.raises(irs.ParseError):
        parse_with_lark(found)


def test_examples_shrink_to_small_readable_ones() -> None:
    smallest_failure = find(strategies.response_lines(), lambda line: "REASON" in line, settings=SEARCH)
    # Small and readable: no product, REASON alone, nothing unprintable.
    assert smallest_failure.startswith("R#. REASON: ")
    assert len(smallest_failure) <= 80
    assert smallest_failure.isprintable()
    smallest_invalid = find(strategies.invalid_lines(), lambda line: True, settings=SEARCH)
    assert len(smallest_invalid) <= 45


@given(strategies.responses(ok=True))
def test_ok_true_gives_replies_without_reason(reply: irs.InquiryResponse) -> None:
    reached()
    assert reply.ok


@given(strategies.responses(ok=False))
def test_ok_false_gives_replies_with_a_reason(reply: irs.InquiryResponse) -> None:
    reached()
    assert not reply.ok
    assert reply.fields[-1][0] == "REASON"


@given(strategies.responses(with_unknown_keys=False))
def test_known_keys_only_when_asked(reply: irs.InquiryResponse) -> None:
    reached()
    assert {k for k, _ in reply.fields} <= {"PRICE", "CUSTNUM", "CUSTNAME", "POWERCAPACITY", "REASON"}


def test_without_hypothesis_the_import_error_says_what_to_install() -> None:
    code = "import sys; sys.modules['hypothesis'] = None\nimport irs_grammar.strategies"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "ImportError: irs_grammar.strategies needs Hypothesis: pip install 'irs-grammar[hypothesis]'" in (
        result.stderr
    )


TIMESTAMP_AT_THE_END = re.compile(
    r"@([0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} [0-9]{2}/[0-9]{2}/[0-9]{4})(\r\n|\n)?\Z"
)


@given(strategies.grammar_lines())
def test_grammar_lines_end_in_a_real_moment(line: str) -> None:
    # What grammar_lines() draws for TIME and DATE itself: a real time and a real date.
    found = TIMESTAMP_AT_THE_END.search(line)
    assert found is not None, line
    reached()
    datetime.strptime(found[1], "%H:%M:%S.%f %d/%m/%Y")  # raises if not a real moment


Lines = Callable[..., st.SearchStrategy[str]]
Read = Callable[[str], irs.InquiryResponse | irs.TransactionResponse]
LINES: dict[str, tuple[Lines, Read]] = {
    "inquiry": (strategies.response_lines, irs.parse),
    "transaction": (strategies.transaction_lines, irs.parse_transaction),
}


@pytest.mark.parametrize(("lines", "read"), LINES.values(), ids=LINES.keys())
@given(data=st.data())
def test_lines_are_valid_replies_with_or_without_a_line_ending(
    lines: Lines, read: Read, data: st.DataObject
) -> None:
    line, bare = data.draw(lines()), data.draw(lines(line_endings=False))
    reply = read(line)
    reached()
    body = line.removesuffix("\n").removesuffix("\r")
    assert line[len(body) :] in ("", "\n", "\r\n")
    assert irs.serialize(reply) == body
    assert irs.serialize(read(bare)) == bare


ENDINGS: dict[str, Callable[[str], bool]] = {
    "CRLF": lambda line: line.endswith("\r\n"),
    "LF": lambda line: line.endswith("\n") and not line.endswith("\r\n"),
    "none": lambda line: not line.endswith(("\r", "\n")),
}


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_transaction_lines_reach_each_line_ending(ending: Callable[[str], bool]) -> None:
    found = find(strategies.transaction_lines(), ending, settings=REACH)
    irs.parse_transaction(found)  # raises if it is not a reply


REQUEST_CORNERS: dict[str, Callable[[InquiryRequest], bool]] = {
    "an amount of 0": lambda r: r.amount == 0,
    "the largest amount": lambda r: r.amount == MAX_AMOUNT,
    "a selling price of 0": lambda r: r.selling_price == 0,
    "the largest selling price": lambda r: r.selling_price == MAX_AMOUNT,
    "no idrs": lambda r: r.idrs == "",
    "an idrs holding '%'": lambda r: "%" in r.idrs,
    "a ref_id holding '&'": lambda r: "&" in r.ref_id,
    "a destination holding '='": lambda r: "=" in r.to,
    "a pin holding non-ASCII": lambda r: not r.pin.isascii(),
}


@pytest.mark.parametrize("corner", REQUEST_CORNERS.values(), ids=REQUEST_CORNERS.keys())
def test_inquiry_requests_reach_their_corners(corner: Callable[[InquiryRequest], bool]) -> None:
    found = find(strategies.inquiry_requests(), corner, settings=REACH)
    assert InquiryRequest.from_url(found.to_url("https://b2b.example")) == found


def _pln_parts(serial: str) -> tuple[str, str, str, str, str]:
    token, name, tariff, power, kwh = serial.split("/")
    return token, name, tariff, power, kwh


@given(strategies.pln_serials())
def test_pln_serials_read_as_their_parts_or_as_no_token(serial: str) -> None:
    # The oracle, by hand: a token of 20 digits (dashed in fours or not), a tariff, a power in VA
    # (not W), kWh with a decimal point (not a comma); the name in capitals, as suppliers write it.
    token, name, tariff, power, kwh = _pln_parts(serial)
    assert re.fullmatch(r"[A-Z][A-Z .]{0,15}", name), serial
    readable = (
        re.fullmatch(r"[0-9]{4}(-[0-9]{4}){4}|[0-9]{20}", token) is not None
        and tariff.strip(" ") != ""
        and not power.endswith("W")
        and not kwh.endswith(",5")
    )
    reached()
    read = read_pln_token(serial)
    if not readable:
        assert read is None, serial
        return
    assert read is not None, serial
    number = kwh.removesuffix(" KWH").removesuffix("KWH").removesuffix(" kWh")
    assert read == irs.PlnToken(
        token.replace("-", ""),
        name,
        tariff.strip(" "),
        int(power.removesuffix("VA").strip()),
        Decimal(number),
    )


PLN_CORNERS: dict[str, Callable[[str], bool]] = {
    "a dashed token": lambda s: re.fullmatch(r"[0-9]{4}(-[0-9]{4}){4}", _pln_parts(s)[0]) is not None,
    "a plain token": lambda s: re.fullmatch(r"[0-9]{20}", _pln_parts(s)[0]) is not None,
    "a token of 19 digits": lambda s: re.fullmatch(r"[0-9]{19}", _pln_parts(s)[0]) is not None,
    "no tariff": lambda s: _pln_parts(s)[2] == "",
    "a tariff with a space": lambda s: _pln_parts(s)[2].endswith(" "),
    "a power in W": lambda s: _pln_parts(s)[3].endswith("W"),
    "a zero-padded power": lambda s: _pln_parts(s)[3].startswith("0000"),
    "kWh with a comma": lambda s: _pln_parts(s)[4].endswith(",5"),
    "kWh with its unit": lambda s: _pln_parts(s)[4].endswith(" KWH"),
    "kWh with its unit in mixed case": lambda s: _pln_parts(s)[4].endswith(" kWh"),
}


@pytest.mark.parametrize("corner", PLN_CORNERS.values(), ids=PLN_CORNERS.keys())
def test_pln_serials_reach_their_corners(corner: Callable[[str], bool]) -> None:
    find(strategies.pln_serials(), corner, settings=REACH)


def test_near_misses_reach_one_that_is_still_valid() -> None:
    # "Some are still valid": the random half of near_misses() (the targeted breaks are refused).
    found = find(strategies.near_misses(), lambda line: _parses(line), settings=REACH)
    assert irs.serialize(irs.parse(found)) == found.removesuffix("\n").removesuffix("\r")


@pytest.mark.parametrize("make", [make for _, make in BREAKS], ids=[name for name, _ in BREAKS])
def test_each_targeted_break_spoils_the_documented_reply_and_keeps_its_line_ending(
    make: Callable[[str], str],
) -> None:
    line = load("inquiry/documented.jsonl")[0]["line"]  # it has PRICE, so every break applies
    with pytest.raises(irs.ParseError):
        irs.parse(make(line))
    for ending in ("\n", "\r\n"):
        assert make(line + ending) == make(line) + ending


@given(strategies.pln_serials())
def test_pln_serials_hold_a_token_of_20_digits_dashed_or_plain_or_one_short(serial: str) -> None:
    reached()
    token, name, *_ = serial.split("/")
    assert re.fullmatch(r"[0-9]{4}(-[0-9]{4}){4}|[0-9]{19,20}", token)
    assert re.fullmatch(r"[A-Z][A-Z .]{0,15}", name)


def _extra_keys(reply: irs.TransactionResponse) -> list[str]:
    return [key for key, _ in reply.fields if key not in ("SN", "REASON")]


TRANSACTION_CORNERS: dict[str, Callable[[irs.TransactionResponse], bool]] = {
    "a balance": lambda r: r.balance is not None,
    "no balance": lambda r: r.balance is None,
    "an SN": lambda r: r.serial_number is not None,
    "no SN and no REASON": lambda r: not r.fields,
    "a REASON after other fields": lambda r: len(r.fields) > 1 and r.fields[-1][0] == "REASON",
    "three keys besides SN and REASON": lambda r: len(_extra_keys(r)) == 3,
    "a bare details part": lambda r: r.bare_details,
    "the documented bare details": lambda r: r.bare_details and r.reason == "Nomor tujuan salah. Err:5110",
    "bare details of the fallback word": lambda r: r.bare_details and r.reason == "Gagal",
    # Drawn as bare details, which cannot be led by a field name: written as a REASON instead.
    "a REASON led by a documented field name": lambda r: (
        not r.bare_details
        and r.reason is not None
        and r.reason.startswith(("PRICE: ", "CUSTNUM: ", "CUSTNAME: ", "POWERCAPACITY: "))
    ),
    "a reference of one character": lambda r: len(r.ref_id) == 1,
    "a reference in lower case": lambda r: r.ref_id.islower(),
    "a reference in upper case": lambda r: r.ref_id.isupper(),
    "a destination": lambda r: r.destination is not None,
    "a destination of one character": lambda r: r.destination is not None and len(r.destination) == 1,
    "a destination in lower case": lambda r: r.destination is not None and r.destination.islower(),
    "a destination in upper case": lambda r: r.destination is not None and r.destination.isupper(),
    "a documented status": lambda r: isinstance(r.status, irs.TransactionStatus),
    "a status word seen elsewhere": lambda r: r.status in ("PENDING", "GAGAL", "PROSES", "SUKSES"),
    "an unknown status word of one letter": lambda r: len(r.status) == 1,
    "an unknown status word": lambda r: (
        r.status not in (*irs.TransactionStatus, "PENDING", "GAGAL", "PROSES", "SUKSES")
    ),
    "TRXID -": lambda r: r.trxid == "-",
    "a TRXID of one character": lambda r: len(r.trxid) == 1,
    "a refid tail": lambda r: r.refid is not None,
    "a refid tail of the reference": lambda r: r.refid == r.ref_id,
    "a refid tail of another": lambda r: r.refid not in (None, r.ref_id),
}


@pytest.mark.parametrize("corner", TRANSACTION_CORNERS.values(), ids=TRANSACTION_CORNERS.keys())
def test_transaction_responses_reach_their_corners(corner: Callable[[irs.TransactionResponse], bool]) -> None:
    found = find(strategies.transaction_responses(), corner, settings=REACH)
    assert irs.parse_transaction(irs.serialize(found)) == found


@given(strategies.transaction_responses(status="SUCCESS"))
def test_transaction_responses_of_a_given_status(reply: irs.TransactionResponse) -> None:
    reached()
    assert reply.status is irs.TransactionStatus.SUCCESS


@given(st.integers(0, 50), st.data())
def test_places_are_inside_the_line(high: int, data: st.DataObject) -> None:
    reached()
    assert 0 <= data.draw(strategies._places(high)) <= high


@pytest.mark.parametrize(("high", "end"), [(1, 0), (1, 1), (100, 0), (100, 100)])
def test_places_reach_both_ends(high: int, end: int) -> None:
    find(strategies._places(high), lambda place: place == end, settings=REACH)


def _edit(line: str, near: str) -> str | None:
    """The one-character edit that makes `near` of `line`, or None when there is none."""
    if len(near) == len(line) + 1 and any(near[:i] + near[i + 1 :] == line for i in range(len(near))):
        return "insert"
    if len(near) == len(line) - 1 and any(line[:i] + line[i + 1 :] == near for i in range(len(line))):
        return "delete"
    if len(near) == len(line) and sum(a != b for a, b in zip(line, near, strict=True)) <= 1:
        return "replace"  # (a character replaced by itself leaves the line as it was)
    return "cut" if len(near) < len(line) and line.startswith(near) else None


DOCUMENTED = load("inquiry/documented.jsonl")[0]["line"]


def test_random_near_misses_are_one_character_edits_of_their_line() -> None:
    # Not @given: 3,000 examples, each of the 15 sampled characters drawn many times over.
    def wrong(near: str) -> bool:  # not one edit, or a lone surrogate (no file can hold it)
        return _edit(DOCUMENTED, near) is None or any("\ud800" <= c <= "\udfff" for c in near)

    with pytest.raises(NoSuchExample):
        find(strategies._mutations(DOCUMENTED), wrong, settings=REACH)


EDITS: dict[str, Callable[[str], bool]] = {
    "an insertion": lambda near: _edit(DOCUMENTED, near) == "insert",
    "a deletion inside the line": lambda near: (
        _edit(DOCUMENTED, near) == "delete" and near != DOCUMENTED[:-1]
    ),
    "a replacement": lambda near: near != DOCUMENTED and _edit(DOCUMENTED, near) == "replace",
    "a cut of two characters or more": lambda near: _edit(DOCUMENTED, near) == "cut",
    "the last character replaced": lambda near: near[:-1] == DOCUMENTED[:-1] and near[-1] != DOCUMENTED[-1],
    "an insertion before the reply mark": lambda near: (
        not near.startswith("R#") and len(near) > len(DOCUMENTED)
    ),
    "an Arabic-Indic two inserted (from the sample)": lambda near: (
        _edit(DOCUMENTED, near) == "insert" and "٢" in near
    ),
    "a character from outside the sample": lambda near: bool(
        set(near) - set(DOCUMENTED) - set(".:@#RA09/２٢é\n\r ")
    ),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_random_near_misses_reach_each_edit(edit: Callable[[str], bool]) -> None:
    find(strategies._mutations(DOCUMENTED), edit, settings=REACH)


def _price(reply: irs.InquiryResponse) -> str | None:
    return next((value for key, value in reply.fields if key == "PRICE"), None)


RESPONSE_CORNERS: dict[str, Callable[[irs.InquiryResponse], bool]] = {
    "no product": lambda r: r.product_code == "",
    "a product of one character": lambda r: len(r.product_code) == 1,
    "a product in lower case": lambda r: r.product_code.islower(),
    "a product in upper case": lambda r: r.product_code.isupper(),
    "PRICE 0": lambda r: _price(r) == "0",
    "PRICE the largest amount": lambda r: _price(r) == str(MAX_AMOUNT),
    "PRICE with a leading zero": lambda r: (_price(r) or "").startswith("0") and len(_price(r) or "") > 1,
    "the documented failure reason": lambda r: r.reason == "Biller throws exception. Err:5110",
    "no REASON": lambda r: r.reason is None,
}


@pytest.mark.parametrize("corner", RESPONSE_CORNERS.values(), ids=RESPONSE_CORNERS.keys())
def test_responses_reach_their_corners(corner: Callable[[irs.InquiryResponse], bool]) -> None:
    found = find(strategies.responses(), corner, settings=REACH)
    assert irs.parse(irs.serialize(found)) == found


def _parses(line: str) -> bool:
    try:
        irs.parse(line)
    except irs.ParseError:
        return False
    return True


TIMESTAMP_CORNERS: dict[str, Callable[[datetime], bool]] = {
    "the first moment": lambda t: t == datetime(1, 1, 1),
    "the last moment": lambda t: t == datetime(9999, 12, 31, 23, 59, 59, 999999),
    "a year below 1000 but not the edge's": lambda t: (
        t.year < 1000 and t.date() != datetime(999, 1, 1).date()
    ),
    "29 February of a year not among the edges": lambda t: (
        (t.month, t.day) == (2, 29) and t.year not in (2000, 2024)
    ),
    "29 February of a century that leaps (1200, 1600, 2400, ...)": lambda t: (
        (t.month, t.day) == (2, 29) and t.year % 400 == 0 and t.year != 2000
    ),
    "29 February of year 4, the first that leaps": lambda t: (t.year, t.month, t.day) == (4, 2, 29),
    "29 February of year 9996, the last that leaps": lambda t: (t.year, t.month, t.day) == (9996, 2, 29),
}


@pytest.mark.parametrize("corner", TIMESTAMP_CORNERS.values(), ids=TIMESTAMP_CORNERS.keys())
def test_timestamps_reach_their_corners(corner: Callable[[datetime], bool]) -> None:
    found = find(strategies.timestamps(), corner, settings=REACH)
    assert found.tzinfo is None


WIRE_KEY_CORNERS: dict[str, Callable[[str], bool]] = {
    "a documented key": lambda k: k in ("PRICE", "CUSTNUM", "CUSTNAME", "POWERCAPACITY"),
    "an unknown key of one letter": lambda k: len(k) == 1,
    "an unknown key of 12 characters with a digit and '_'": lambda k: (
        len(k) == 12 and "_" in k and any(c.isdigit() for c in k)
    ),
}


@pytest.mark.parametrize("corner", WIRE_KEY_CORNERS.values(), ids=WIRE_KEY_CORNERS.keys())
def test_wire_keys_reach_their_corners(corner: Callable[[str], bool]) -> None:
    find(strategies.wire_keys(), corner, settings=REACH)


@settings(max_examples=1000, database=None, derandomize=True)
@given(strategies.wire_keys(), strategies.field_values(), strategies.timestamps())
def test_wire_keys_are_names_field_values_hold_no_line_break_and_timestamps_are_naive(
    key: str, value: str, moment: datetime
) -> None:
    reached()
    assert moment.tzinfo is None  # a moment past 9999 cannot be drawn at all: the strategy raises
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*", key), key
    assert "\n" not in value
    assert "\r" not in value
    value.encode("utf-8")  # no lone surrogate


def test_the_characters_drawn_are_never_lone_surrogates() -> None:
    # Values and near misses draw from this alphabet. A lone surrogate is drawn too rarely for the
    # properties above to meet one (a derandomized find() over field_values() with them let in met
    # the first after 5,115 examples), but one character at a time it is met within about 700 draws.
    def lone_surrogate(char: str) -> bool:
        return "\ud800" <= char <= "\udfff"

    with pytest.raises(NoSuchExample):
        find(strategies._characters(), lone_surrogate, settings=REACH)


FIELD_VALUE_CORNERS: dict[str, Callable[[str], bool]] = {
    "empty": lambda v: v == "",
    "'. ' twice in a row": lambda v: ". . " in v,
    "'. KEY: ' inside": lambda v: re.search(r"\. [A-Z][A-Z0-9_]*: ", v) is not None,
    "non-ASCII": lambda v: not v.isascii(),
    "'@' and a dot": lambda v: "@" in v and "." in v,
    "words in capitals and digits, as the wire's values are": lambda v: (
        re.search(r"[A-Z0-9]{3} [A-Z0-9]{2}", v) is not None
    ),
}


@pytest.mark.parametrize("corner", FIELD_VALUE_CORNERS.values(), ids=FIELD_VALUE_CORNERS.keys())
def test_field_values_reach_their_corners(corner: Callable[[str], bool]) -> None:
    find(strategies.field_values(), corner, settings=REACH)


TRANSACTION_NEAR_MISSES: dict[str, Callable[[str], bool]] = {
    "an impossible date": lambda line: "30/02/" in line,
    "hour 24": lambda line: "@24:" in line,
    "a stray line break": lambda line: "\n" in line.rstrip("\n"),
    "a separator without its space": lambda line: re.search(r"\.[A-Z@]", line) is not None,
    "no R#": lambda line: not line.startswith("R"),
}


@pytest.mark.parametrize("predicate", TRANSACTION_NEAR_MISSES.values(), ids=TRANSACTION_NEAR_MISSES.keys())
def test_invalid_transaction_lines_reach_the_near_misses(predicate: Callable[[str], bool]) -> None:
    found = find(strategies.invalid_transaction_lines(), predicate, settings=REACH)
    with pytest.raises(irs.ParseError):
        irs.parse_transaction(found)
    with pytest.raises(irs.ParseError):
        parse_transaction_with_lark(found)  # the grammar alone refuses it too


@pytest.mark.parametrize(("name", "make"), BREAKS, ids=[name for name, _ in BREAKS])
def test_each_targeted_break_spoils_the_documented_buy_reply_too(
    name: str, make: Callable[[str], str]
) -> None:
    line = load("transaction/documented.jsonl")[0]["line"]  # SUCCESS with a balance and a refid tail
    if make(line) == line:
        assert name == "full-width digits in PRICE"  # a buy reply has no PRICE to spoil
        return
    with pytest.raises(irs.ParseError):
        irs.parse_transaction(make(line))
    for ending in ("\n", "\r\n"):
        assert make(line + ending) == make(line) + ending


def test_the_readme_lists_every_strategy() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("\n## Test strategies for your own suite\n")[1].split("```")[0]
    listed = set(re.findall(r"`(\w+)\(", table))
    assert listed == set(strategies.__all__)
