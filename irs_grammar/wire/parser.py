"""Reading a reply line: parse(), parse_transaction(), parse_reply().

Each kind's fast path (fastpath.py) reads a valid line with one regular
expression. Every other line goes to the reference reader (reference.py),
the Lark parser built from the kind's grammar, which finds the error and
writes the message. No exception but ParseError escapes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from .inquiry import InquiryResponse
from .kinds import INQUIRY, TRANSACTION, Kind, kind_of_line
from .transaction import TransactionResponse

Reader = Callable[[str, tzinfo | None], Any]


def parse(line: str, *, tz: tzinfo | None = None) -> InquiryResponse:
    """Read one inquiry reply.

    A trailing `\\n` or `\\r\\n` is accepted. `tz` names the zone of the
    timestamp, which the format does not say (naive when None). Raises
    ParseError, and nothing else, on any text that is not a valid reply.

    >>> import irs_grammar as irs
    >>> r = irs.parse("R#. CUSTNUM: 01105601111. REASON: CUSTID not recognized. "
    ...               "Biller throws exception. Err:5110. @12:32:08.889517 12/11/2024")
    >>> r.ok, r.error_code, r.timestamp.isoformat()
    (False, '5110', '2024-11-12T12:32:08.889517')
    """
    if type(line) is not str:
        line = _plain(line, "parse")
    reply: InquiryResponse | None = (_read_inquiry or _first_use())(line, tz)
    if reply is not None:
        return reply
    return _refuse(INQUIRY, line, tz)  # type: ignore[no-any-return]


# The inquiry's fast reader, once built: parse() is on the hot path of every log check.
_read_inquiry: Reader | None = None


def _first_use() -> Reader:
    global _read_inquiry
    _read_inquiry = INQUIRY.fast_reader()
    return _read_inquiry


def parse_transaction(line: str, *, tz: tzinfo | None = None) -> TransactionResponse:
    """Read one transaction reply of the buy / check-status endpoint.

    Raises ParseError, and nothing else, on any text that is not one.

    >>> import irs_grammar as irs
    >>> r = irs.parse_transaction("R#00f7ade1 DNOPEN. 081111111111 INPROGRESS. TRXID: 14430673. "
    ...                           "@15:42:50.308103 23/10/2024")
    >>> r.pending, r.destination, r.transaction_id, r.balance
    (True, '081111111111', '14430673', None)
    """
    if type(line) is not str:
        line = _plain(line, "parse_transaction")
    return read_as(TRANSACTION, line, tz)  # type: ignore[no-any-return]


def parse_reply(line: str, *, tz: tzinfo | None = None) -> InquiryResponse | TransactionResponse:
    """Read a reply of any kind: an inquiry (`R#PLN20. ...`) or a transaction (`R#ref PLN20...`).

    The kind is the one the line starts like (irs_grammar.wire.kinds): a
    transaction reply has a space after the reference that follows `R#`; an
    inquiry has `. ` after the product code. A line that is neither is
    refused with the error of the kind it starts like.

    >>> import irs_grammar as irs
    >>> type(irs.parse_reply("R#DN1. PRICE: 1178. @10:54:14.776182 29/11/2024")).__name__
    'InquiryResponse'
    >>> type(irs.parse_reply("R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024")).__name__
    'TransactionResponse'
    """
    if type(line) is not str:
        line = _plain(line, "parse_reply")
    # A kind registered beside the two (irs_grammar.wire.kinds.register) gives its own reply class.
    return read_as(kind_of_line(line), line, tz)  # type: ignore[no-any-return]


def read_as(kind: Kind, line: str, tz: tzinfo | None) -> Any:
    """The reply of `kind` a line holds, or the ParseError that says why it holds none."""
    read = _readers.get(kind) or _reader(kind)
    reply = read(line, tz)
    if reply is not None:
        return reply
    return _refuse(kind, line, tz)


_readers: dict[Kind, Reader] = {}


def _reader(kind: Kind) -> Reader:
    read = _readers[kind] = kind.fast_reader()
    return read


def _refuse(kind: Kind, line: str, tz: tzinfo | None) -> Any:
    from .reference import refuse  # Lark is imported only when a line is refused

    return refuse(kind, line, tz)


def _plain(line: object, caller: str) -> str:
    """A str subclass as the plain str of its characters (read the same way, `tz` kept), else TypeError."""
    if not isinstance(line, str):
        raise TypeError(f"{caller}() takes a str, not {type(line).__name__}")
    return str.__str__(line)  # not str(line): a subclass may override __str__
