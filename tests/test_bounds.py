"""Linear and bounded: no pattern or view is superlinear, no number outgrows 64 bits, no view raises.

Cost is checked as growth over three sizes of CPU time (tests/growth.py: the
exponent of size must stay under 1.5, where linear work is 1 and quadratic 2),
never against a wall-clock limit: a busy machine does not change the verdict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar import strategies
from irs_grammar.validation import Summary, validate
from irs_grammar.wire.grammar import INQUIRY_GRAMMAR, TRANSACTION_GRAMMAR, parser_for
from irs_grammar.wire.pln import read_pln_token
from tests.growth import assert_linear
from tests.reach import reached

TS = "@12:00:00.000000 01/01/2025"


# -- the views, on adversarial values --------------------------------------------------------

TOKEN = "1111-2222-3333-4444-5555"
SERIALS: dict[str, Callable[[int], str]] = {
    # The shape that made the old `0*([0-9]+)` quadratic (36 s at 32,000 zeros).
    "zeros before a power class that never ends": lambda n: f"{TOKEN}/N/T/" + "0" * n + "x/1",
    "digits as the power class": lambda n: f"{TOKEN}/N/T/" + "9" * n + "VA/1",
    "spaces around the power class": lambda n: f"{TOKEN}/N/T/" + " " * n + "900VA" + " " * n + "/1",
    "digits as the kWh": lambda n: f"{TOKEN}/N/T/900VA/" + "1" * n + ".5x",
    "decimals of the kWh": lambda n: f"{TOKEN}/N/T/900VA/1." + "0" * n,
    "slashes": lambda n: "/" * n,
    "digits as the token": lambda n: "1" * n + "/N/T/900VA/1",
    "dashed groups as the token": lambda n: "1111-" * (n // 5) + "/N/T/900VA/1",
    "a long name": lambda n: f"{TOKEN}/" + "A. " * (n // 3) + "/T/900VA/1",
    "KWH repeated": lambda n: f"{TOKEN}/N/T/900VA/1" + " KWH" * (n // 4),
}


@pytest.mark.parametrize("make", SERIALS.values(), ids=SERIALS.keys())
def test_pln_token_is_linear(make: Callable[[int], str]) -> None:
    assert_linear(make, read_pln_token)


REASONS: dict[str, Callable[[int], str]] = {
    "Err: repeated": lambda n: "Err:" * (n // 4),
    "one long code": lambda n: "Err:" + "1" * n,
    "codes": lambda n: "Err:1 " * (n // 6),
    "near misses": lambda n: "Er" * (n // 2),
}


@pytest.mark.parametrize("make", REASONS.values(), ids=REASONS.keys())
def test_error_code_is_linear(make: Callable[[int], str]) -> None:
    def read(reason: str) -> object:
        return irs.InquiryResponse("A", (("REASON", reason),), datetime(2025, 1, 1)).error_code

    assert_linear(make, read)


def test_field_lookups_are_linear_in_the_number_of_fields() -> None:
    def read(line: str) -> object:
        reply = irs.parse(line)
        return reply.price, reply.customer_name, reply.power_capacity, reply.reason

    assert_linear(lambda n: "R#A" + ". B: x" * (n // 6) + ". " + TS, read)


# -- every terminal, on long runs of what it repeats -------------------------------------------

# Runs of each character class the terminals repeat, and of the separators
# and keys their lookaheads look for.
PIECES = [
    "0",
    "9",
    "A",
    "a",
    ".",
    " ",
    ":",
    "-",
    "_",
    "@",
    "/",
    "\n",
    "é",
    ". ",
    "x. ",
    ". A: ",
    "A: ",
    ". TRXID",
    ". @",
    "0.",
    ".000",
    "1.000",
    "12:00:00.000000 ",
    ". " + TS + "x",
]
TERMINALS = sorted(
    {
        (grammar, t.name, t.pattern.to_regexp())
        for grammar in (INQUIRY_GRAMMAR, TRANSACTION_GRAMMAR)
        for t in parser_for(grammar).terminals
    }
)


@pytest.mark.parametrize(("grammar", "name", "pattern"), TERMINALS, ids=[f"{g}:{n}" for g, n, _ in TERMINALS])
def test_every_terminal_is_linear_on_runs_of_every_piece(grammar: str, name: str, pattern: str) -> None:
    terminal = re.compile(pattern)
    for piece in PIECES:
        # A run, then a character no terminal ends on, so that a match must give up at the end.
        def make(n: int, piece: str = piece) -> str:
            return piece * (n // len(piece)) + "\x00"

        assert_linear(make, terminal.match)


# -- numbers: at most 18 digits, and every view returns ------------------------------------------

VIEWS = {
    kind: sorted(name for name in dir(kind) if isinstance(getattr(kind, name), property))
    for kind in (irs.InquiryResponse, irs.TransactionResponse)
}


def test_the_views_are_all_there() -> None:
    # A property below calls every view; this holds the list to what the models promise.
    assert {"price", "error_code", "ok", "reason"} <= set(VIEWS[irs.InquiryResponse])
    assert {"ok", "failed", "final", "pending", "pln_token", "balance_adds_up", "deduction"} <= set(
        VIEWS[irs.TransactionResponse]
    )


def largest_numbers(line: str) -> str:
    """The line with every number of a balance, and PRICE, as large as the grammar allows."""
    line = re.sub(r"PRICE: [0-9]+\. ", "PRICE: 999999999999999999. ", line, count=1)
    return re.sub(
        r"SISA SALDO: .* - .* = [0-9.]+ @",
        "SISA SALDO: 999.999.999.999.999.999 - 999.999.999.999.999.999 = 999.999.999.999.999.999 @",
        line,
    )


@given(
    st.one_of(strategies.response_lines(), strategies.transaction_lines()).flatmap(
        lambda line: st.sampled_from([line, largest_numbers(line)])
    )
)
def test_every_view_of_every_accepted_line_returns(line: str) -> None:
    reply = irs.parse_reply(line)  # every generated line is valid: a ParseError fails the test
    event(type(reply).__name__)
    for view in VIEWS[type(reply)]:
        getattr(reply, view)  # no exception, whatever the view
    summary = Summary()
    for result in validate([line, line]):
        summary.add(result)
    reached()
    assert summary.valid == 2
    json.dumps(summary.to_dict())
    summary.text()


def test_numbers_past_18_digits_are_refused_at_the_column_naming_the_field() -> None:
    line = "R#A. PRICE: " + "9" * 5000 + ". " + TS
    with pytest.raises(irs.ParseError) as caught:
        irs.parse(line)
    assert (caught.value.column, caught.value.field) == (13 + 18, "PRICE")
    amount = "1" + ".000" * 1500
    with pytest.raises(irs.ParseError) as caught:
        irs.parse_reply(f"R#1 A. 2 SUCCESS. TRXID: 3. SISA SALDO: 1 - {amount} = 1 {TS}")
    assert caught.value.field == "DEDUCTION"
    assert "18 digits" in caught.value.message


def test_the_summary_of_the_largest_deductions_adds_up() -> None:
    most = "999.999.999.999.999.999"
    line = f"R#1 A. 2 SUCCESS. TRXID: 3. SISA SALDO: {most} - {most} = 0 {TS}"
    summary = Summary()
    for result in validate([line] * 3):
        summary.add(result)
    assert summary.deducted == 3 * 999_999_999_999_999_999
    assert json.loads(json.dumps(summary.to_dict()))["deducted"] == 2_999_999_999_999_999_997
    assert "deducted 2999999999999999997" in summary.text()
    assert "deducted 2.999.999.999.999.999.997" in summary.text(thousands=True)


def test_a_hand_built_reply_with_an_unreadable_price_names_the_field() -> None:
    reply = irs.InquiryResponse("A", (("PRICE", "9" * 5000),), datetime(2025, 1, 1))
    with pytest.raises(ValueError, match=r"^PRICE: '9{40}' is not 1 to 18 ASCII digits$"):
        _ = reply.price
    with pytest.raises(irs.SerializeError) as caught:
        irs.serialize(reply)
    assert caught.value.field == "PRICE"
    with pytest.raises(ValueError, match="PRICE must be 0 to 999,999,999,999,999,999"):
        irs.InquiryResponse.build(price=10**18, timestamp=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="DEDUCTION must be 0 to"):
        irs.TransactionResponse.build(
            ref_id="1",
            product_code="A",
            status="FAILED",
            balance=(1, 10**18, 1),
            timestamp=datetime(2025, 1, 1),
        )
    with pytest.raises(ValueError, match="BALANCE_BEFORE must be 0 to"):
        irs.TransactionResponse.build(
            ref_id="1", product_code="A", status="FAILED", balance=(-1, 0, 1), timestamp=datetime(2025, 1, 1)
        )


def test_the_cache_of_dates_read_holds_at_most_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from irs_grammar.wire import timestamp

    monkeypatch.setattr(timestamp, "ISO_DATES", {})
    first = date(2000, 1, 1)
    for n in range(timestamp.ISO_DATES_MAX + 1):  # one more distinct date than it keeps
        day = first + timedelta(days=n)
        assert timestamp.iso_date(day.strftime("%d/%m/%Y")) == f"{day.isoformat()}T"
        assert len(timestamp.ISO_DATES) <= timestamp.ISO_DATES_MAX
