"""Reading a reply line: parse().

The fast path (fastpath.py) reads a valid line with one regular expression.
Every other line goes to the reference reader (reference.py), the Lark parser
built from the grammar, which finds the error and writes the message. No
exception but ParseError escapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import tzinfo
from functools import cache

from .fastpath import fast_reader, fast_transaction_reader
from .grammar import TRANSACTION_GRAMMAR, terminal_pattern
from .model import InquiryResponse
from .transaction import TransactionResponse


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
    reply = (_read_fast or _first_use())(line, tz)
    if reply is not None:
        return reply
    from .reference import refuse  # Lark is imported only when a line is refused

    return refuse(line, tz)


# The fast reader, once built: parse() is on the hot path of every log check.
_read_fast: Callable[[str, tzinfo | None], InquiryResponse | None] | None = None


def _first_use() -> Callable[[str, tzinfo | None], InquiryResponse | None]:
    global _read_fast
    _read_fast = fast_reader()
    return _read_fast


_read_transaction: Callable[[str, tzinfo | None], TransactionResponse | None] | None = None


def _first_transaction() -> Callable[[str, tzinfo | None], TransactionResponse | None]:
    global _read_transaction
    _read_transaction = fast_transaction_reader()
    return _read_transaction


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
    reply = (_read_transaction or _first_transaction())(line, tz)
    if reply is not None:
        return reply
    from .reference import refuse_transaction  # Lark is imported only when a line is refused

    return refuse_transaction(line, tz)


def parse_reply(line: str, *, tz: tzinfo | None = None) -> InquiryResponse | TransactionResponse:
    """Read either kind of reply: an inquiry (`R#PLN20. ...`) or a transaction (`R#ref PLN20...`).

    A transaction reply has a space after the reference that follows `R#`;
    an inquiry has `. ` after the product code. A line that is neither is
    refused with the error of the kind it starts like.

    >>> import irs_grammar as irs
    >>> type(irs.parse_reply("R#DN1. PRICE: 1178. @10:54:14.776182 29/11/2024")).__name__
    'InquiryResponse'
    >>> type(irs.parse_reply("R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024")).__name__
    'TransactionResponse'
    """
    if type(line) is not str:
        line = _plain(line, "parse_reply")
    if _transaction_start().match(line):
        return parse_transaction(line, tz=tz)
    return parse(line, tz=tz)


def _plain(line: object, caller: str) -> str:
    """A str subclass as the plain str of its characters (read the same way, `tz` kept), else TypeError."""
    if not isinstance(line, str):
        raise TypeError(f"{caller}() takes a str, not {type(line).__name__}")
    return str.__str__(line)  # not str(line): a subclass may override __str__


@cache
def _transaction_start() -> re.Pattern[str]:
    """`R#`, a reference and a space: how a transaction reply begins (from its grammar)."""
    mark, ref, space = (terminal_pattern(t, TRANSACTION_GRAMMAR) for t in ("_REPLY_MARK", "REF", "_SPACE"))
    return re.compile(f"{mark}{ref}{space}")
