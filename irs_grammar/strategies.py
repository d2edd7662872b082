"""Hypothesis strategies for replies, wire lines and near-miss invalid lines.

Needs the `hypothesis` extra (`pip install 'irs-grammar[hypothesis]'`).

>>> from hypothesis import given
>>> import irs_grammar as irs
>>> from irs_grammar import strategies
>>> @given(strategies.response_lines())
... def test_round_trip(line):
...     assert irs.serialize(irs.parse(line)) == line.rstrip("\\r\\n")
>>> test_round_trip()
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, ParamSpec, TypeVar

try:
    from hypothesis import strategies as st
    from hypothesis.extra.lark import from_lark
except ImportError as missing:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "irs_grammar.strategies needs Hypothesis: pip install 'irs-grammar[hypothesis]'"
    ) from missing

from .errors import ParseError, SerializeError
from .near_misses import BREAKS
from .wire.grammar import inquiry_parser, transaction_parser
from .wire.inquiry import CUSTNAME, CUSTNUM, POWERCAPACITY, PRICE, InquiryResponse
from .wire.parser import parse, parse_transaction
from .wire.reply import MAX_AMOUNT, REASON
from .wire.request import MAX_AMOUNT as MAX_REQUEST_AMOUNT
from .wire.request import InquiryRequest
from .wire.serializer import serialize
from .wire.timestamp import format_timestamp
from .wire.transaction import SN as SN_KEY
from .wire.transaction import TRXID, Balance, TransactionResponse, TransactionStatus

__all__ = [
    "field_values",
    "grammar_lines",
    "inquiry_requests",
    "invalid_lines",
    "invalid_transaction_lines",
    "near_misses",
    "pln_serials",
    "response_lines",
    "responses",
    "timestamps",
    "transaction_lines",
    "transaction_near_misses",
    "transaction_responses",
    "wire_keys",
]

P = ParamSpec("P")
T = TypeVar("T")


def _lazy(build: Callable[P, st.SearchStrategy[T]]) -> Callable[P, st.SearchStrategy[T]]:
    """A strategy built at its first draw, not when it is named in `@given(...)`.

    A test module's import stays cheap (grammar_lines() would build the Lark
    parser), and the strategy is built by the process that draws from it.
    """

    @functools.wraps(build)
    def deferred(*args: P.args, **kwargs: P.kwargs) -> st.SearchStrategy[T]:
        return st.deferred(lambda: build(*args, **kwargs))

    return deferred


# The characters that make this format hard, drawn often on purpose.
_HARD_PIECES = [
    ".",
    ". ",
    "..",
    ":",
    ": ",
    " ",
    "@",
    ". @",
    "*",
    "/",
    "-",
    "Err:",
    "é",
    "Ç",
    "王",
    "🙂",
    "\t",
]
_KEY_LIKE = ["A", "X", "PRICE", "CUSTNUM", "REASON", "KEY_1", "Z9"]


_EDGE_MOMENTS = [
    datetime(2024, 2, 29, 0, 0, 0, 0),  # a leap day at midnight
    datetime(2000, 2, 29, 23, 59, 59, 999999),
    datetime(2024, 12, 31, 23, 59, 59, 999999),
    datetime(999, 1, 1, 12, 0, 0, 0),  # a year below 1000: zero-padded on the wire
    datetime(1, 1, 1, 0, 0, 0, 0),
    datetime(9999, 12, 31, 23, 59, 59, 999999),
]


@_lazy
def timestamps() -> st.SearchStrategy[datetime]:
    """Naive moments from year 1 to 9999; leap days, midnights and years below 1000 often."""
    leap_years = st.integers(1, 2499).map(lambda n: n * 4).filter(lambda y: y % 100 != 0 or y % 400 == 0)
    leap_days = st.builds(lambda y, t: datetime.combine(date(y, 2, 29), t), leap_years, st.times())
    return st.one_of(
        st.datetimes(),  # naive, year 1 to 9999: every moment the wire can write
        st.sampled_from(_EDGE_MOMENTS),
        leap_days,
        st.datetimes(max_value=datetime(999, 12, 31, 23, 59, 59, 999999)),
    )


@_lazy
def wire_keys() -> st.SearchStrategy[str]:
    """Field names: mostly the documented ones, often unknown ones."""
    return st.one_of(
        st.sampled_from([PRICE, CUSTNUM, CUSTNAME, POWERCAPACITY]),
        st.from_regex(r"[A-Z][A-Z0-9_]{0,11}", fullmatch=True),
    )


def _characters(exclude: str | None = None) -> st.SearchStrategy[str]:
    """Any character a text file can hold, but those in `exclude`.

    Every code point but the lone surrogates: no UTF-8 file holds one, so a line with one could
    neither be written nor met in a log.
    """
    return st.characters(blacklist_characters=exclude, blacklist_categories=["Cs"])


@_lazy
def field_values() -> st.SearchStrategy[str]:
    """Raw values without line breaks, rich in `.`, `. `, `:`, `@`, non-ASCII text.

    Some hold `. KEY: `: those are only valid as the REASON.
    """
    piece = st.one_of(
        st.sampled_from(_HARD_PIECES),
        st.sampled_from(_KEY_LIKE).map(lambda k: f". {k}: "),
        st.text(_characters("\r\n"), max_size=4),
        st.from_regex(r"[A-Z0-9 ]{1,8}", fullmatch=True),
    )
    return st.lists(piece, max_size=8).map("".join)


def _serializable(reply: InquiryResponse | TransactionResponse) -> bool:
    try:
        serialize(reply)
    except SerializeError:
        return False
    return True


# The largest price often, as _amounts() does: left to the integers' own bias toward their bounds,
# a whole suite's run (where Hypothesis also draws constants it finds in the loaded modules) drew
# it in none of 3,000 replies once a module was added; the test run alone still did.
_prices = st.integers(min_value=0, max_value=MAX_AMOUNT) | st.sampled_from([0, MAX_AMOUNT])


@st.composite
def responses(
    draw: st.DrawFn,
    *,
    ok: bool | None = None,
    with_unknown_keys: bool = True,
) -> InquiryResponse:
    """Replies that serialize: success and failure, known and unknown keys.

    `ok=True` gives replies without REASON, `ok=False` replies with one.
    """
    product = draw(st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)))
    keys = wire_keys() if with_unknown_keys else st.sampled_from([PRICE, CUSTNUM, CUSTNAME, POWERCAPACITY])
    fields: list[tuple[str, str]] = []
    for key in draw(st.lists(keys, max_size=6)):
        if key == PRICE:
            value = str(draw(_prices))
            value = draw(st.sampled_from([value, "0" + value])) if len(value) < 18 else value
        else:
            value = draw(field_values())
        fields.append((key, value))
    has_reason = draw(st.booleans()) if ok is None else not ok
    if has_reason:
        fields.append((REASON, draw(st.one_of(field_values(), st.just("Biller throws exception. Err:5110")))))
    moment = draw(timestamps())
    # A drawn value may hold ". KEY: " (or be otherwise unwritable); whether a
    # field can be written does not depend on its neighbours, so drop just it.
    fields = [f for f in fields if _serializable(InquiryResponse("", (f,), moment))]
    reply = InquiryResponse(product, tuple(fields), moment)
    return reply


@_lazy
def response_lines(*, line_endings: bool = True) -> st.SearchStrategy[str]:
    """Valid wire lines, sometimes ending in `\\n` or `\\r\\n`."""
    endings = st.sampled_from(["", "\n", "\r\n"]) if line_endings else st.just("")
    return st.tuples(responses().map(serialize), endings).map("".join)


@_lazy
def grammar_lines() -> st.SearchStrategy[str]:
    """Lines generated from the grammar itself (hypothesis.extra.lark).

    Every grammar-shaped line; TIME and DATE are drawn as real moments so that
    most lines are valid. Generation ignores the contextual lexer, so a line
    may read differently from how it was built: that is what the round-trip
    property checks.
    """
    explicit: dict[str, st.SearchStrategy[Any]] = {
        "TIME": st.times().map(lambda t: format_timestamp(datetime.combine(date.min, t))[:15]),
        "DATE": st.dates().map(lambda d: format_timestamp(datetime.combine(d, time()))[16:]),
    }
    return from_lark(inquiry_parser(), explicit=explicit)


def _places(high: int) -> st.SearchStrategy[int]:
    """Positions in [0, high], mostly past the `R#` every reply starts with: a mistake there says
    little (and Hypothesis, left alone, favours the smallest)."""
    anywhere = st.integers(0, high)
    return anywhere if high < 2 else st.one_of(st.integers(2, high), anywhere)  # half past R#, half anywhere


def _mutations(line: str) -> st.SearchStrategy[str]:
    position = _places(len(line))
    char = st.one_of(
        st.sampled_from([".", " ", ":", "@", "\n", "\r", "#", "R", "A", "0", "9", "/", "２", "٢", "é"]),
        _characters(),
    )
    insert = st.tuples(position, char).map(lambda p: line[: p[0]] + p[1] + line[p[0] :])
    if not line:
        return insert
    index = _places(len(line) - 1)
    delete = index.map(lambda i: line[:i] + line[i + 1 :])
    replace = st.tuples(index, char).map(lambda p: line[: p[0]] + p[1] + line[p[0] + 1 :])
    cut = index.map(lambda i: line[:i])
    return st.one_of(insert, delete, replace, cut)


@_lazy
def near_misses() -> st.SearchStrategy[str]:
    """Valid lines with one character inserted, deleted or replaced, or cut short.

    Some are still valid (a character added inside a value): use
    invalid_lines() for lines that must be refused. Both Lark parsers are
    built here, at the first draw: the code under test refuses these lines
    with them, and building one inside a test's body (a quarter of a second)
    would count against Hypothesis' deadline.
    """
    return _near_misses_of(response_lines())


def _near_misses_of(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One-character edits of valid lines, and the targeted breaks; both Lark parsers built first."""
    inquiry_parser()
    transaction_parser()
    targeted = st.tuples(valid, st.sampled_from(BREAKS)).map(lambda pair: pair[1][1](pair[0]))
    return st.one_of(valid.flatmap(_mutations), targeted)


def _refused_by(read: Callable[[str], object]) -> Callable[[str], bool]:
    """Whether `read` refuses a line (raises ParseError)."""

    def refused(line: str) -> bool:
        try:
            read(line)
        except ParseError:
            return True
        return False

    return refused


@_lazy
def invalid_lines() -> st.SearchStrategy[str]:
    """Lines parse() must refuse, mostly near misses of valid lines."""
    return near_misses().filter(_refused_by(parse))


# -- requests --------------------------------------------------------------------------

_printable = st.text(st.characters(blacklist_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1, max_size=20)
_hostile = st.one_of(
    _printable,
    st.text(st.sampled_from(list("&=#%+? /;@:é")), min_size=1, max_size=10),
    st.sampled_from(["0817345544&selling_price=1", "%26pin%3D0", "a+b", "#", "%", "=&="]),
)


# Every amount a request takes, its largest often.
_request_amounts = st.integers(min_value=0, max_value=MAX_REQUEST_AMOUNT) | st.just(MAX_REQUEST_AMOUNT)


@st.composite
def inquiry_requests(draw: st.DrawFn) -> InquiryRequest:
    """Valid InquiryRequests whose texts hold what URLs find hard: `&`, `=`, `#`, `%`, `+`, non-ASCII."""
    return InquiryRequest(
        client_id=draw(_hostile),
        client_secret=draw(_hostile),
        idrs=draw(st.one_of(st.just(""), _hostile)),
        pin=draw(_hostile),
        product_code=draw(_hostile),
        ref_id=draw(_hostile),
        to=draw(_hostile),
        amount=draw(_request_amounts),
        selling_price=draw(_request_amounts),
    )


# -- transaction (buy) replies ---------------------------------------------------------


def _amounts() -> st.SearchStrategy[str]:
    """Amounts as written, up to the 18 digits the grammar allows (the largest often)."""
    numbers = st.integers(min_value=0, max_value=MAX_AMOUNT) | st.sampled_from([0, MAX_AMOUNT])
    return numbers.map(lambda n: f"{n:,}".replace(",", "."))


# Status words: the documented ones, words seen from other suppliers, and any other.
_STATUS_WORDS = [*TransactionStatus, "PENDING", "GAGAL", "PROSES", "SUKSES"]


@st.composite
def pln_serials(draw: st.DrawFn) -> str:
    """PLN prepaid SNs as suppliers write them: dashed or plain tokens, `900VA`, `1300 VA`,
    `000000450`, `450`, kWh with or without ` KWH`; sometimes a near miss of each part."""
    digits = draw(st.from_regex(r"[0-9]{20}", fullmatch=True))
    token = draw(st.sampled_from(["-".join(digits[i : i + 4] for i in range(0, 20, 4)), digits, digits[1:]]))
    name = draw(st.from_regex(r"[A-Z][A-Z .]{0,15}", fullmatch=True))
    tariff = draw(st.sampled_from(["R1", "R1M", "R2", "R3", "B1", "R1 ", ""]))
    va = draw(st.sampled_from([450, 900, 1300, 2200, 3500, 5500]))
    power = draw(st.sampled_from([f"{va}VA", f"{va} VA", f"{va:09d}", str(va), f"{va}W"]))
    kwh = draw(st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,2})?", fullmatch=True))
    unit = draw(st.sampled_from(["", " KWH", "KWH", " kWh", ",5"]))
    return f"{token}/{name}/{tariff}/{power}/{kwh}{unit}"


@st.composite
def transaction_responses(draw: st.DrawFn, *, status: str | None = None) -> TransactionResponse:
    """Transaction replies that serialize: every status (unknown words too), SN and REASON
    holding hard text, with and without destination, balance and `&refid=` tail."""
    name = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
    words = st.one_of(st.sampled_from(_STATUS_WORDS), st.from_regex(r"[A-Z][A-Z_]{0,9}", fullmatch=True))
    keys = wire_keys().filter(lambda key: key not in (REASON, TRXID))
    moment = draw(timestamps())
    ref = draw(name)
    bare = draw(st.integers(0, 4)) == 0  # a bare details part, one reply in five
    if bare:
        led = st.tuples(wire_keys(), field_values()).map(": ".join)
        details = draw(field_values() | led | st.just("Nomor tujuan salah. Err:5110")) or "Gagal"
        fields = [(REASON, details)]
        # Details led by a field name cannot be written bare (they would read as a field): they are
        # written as a REASON.
        bare = _serializable(
            TransactionResponse(ref, "A", None, "FAILED", (fields[0],), "-", None, moment, None, True)
        )
    else:
        serial = draw(field_values() | pln_serials())
        fields = [(SN_KEY, serial)] if draw(st.booleans()) else []
        fields += [(key, draw(field_values())) for key in draw(st.lists(keys, max_size=3))]
        if draw(st.booleans()):
            fields.append((REASON, draw(field_values())))
    # As for inquiries: a field that cannot be written is dropped, not the example.
    fields = [
        f
        for f in fields
        if _serializable(TransactionResponse(ref, "A", None, "FAILED", (f,), "-", None, moment))
    ]
    balance = draw(st.none() | st.tuples(_amounts(), _amounts(), _amounts()))
    return TransactionResponse(
        ref,
        draw(name),
        draw(st.none() | st.from_regex(r"[A-Za-z0-9_+-]{1,14}", fullmatch=True)),
        status if status is not None else draw(words),
        tuple(fields),
        draw(st.just("-") | name),
        None if balance is None else Balance(*balance),
        moment,
        draw(st.none() | st.just(ref) | name),
        bare,  # details written bare can be written as a REASON: the filter above keeps them
    )


@_lazy
def transaction_lines(*, line_endings: bool = True) -> st.SearchStrategy[str]:
    """Valid transaction reply lines, sometimes ending in `\\n` or `\\r\\n`."""
    endings = st.sampled_from(["", "\n", "\r\n"]) if line_endings else st.just("")
    return st.tuples(transaction_responses().map(serialize), endings).map("".join)


@_lazy
def transaction_near_misses() -> st.SearchStrategy[str]:
    """Valid transaction lines with one character inserted, deleted or replaced, or cut short,
    or one targeted break: near_misses() for buy replies (some still valid; both parsers built
    at the first draw)."""
    return _near_misses_of(transaction_lines())


@_lazy
def invalid_transaction_lines() -> st.SearchStrategy[str]:
    """Lines parse_transaction() must refuse, mostly near misses of valid buy replies."""
    return transaction_near_misses().filter(_refused_by(parse_transaction))
