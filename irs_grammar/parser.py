"""Reading a reply line: parse().

The fast path (fastpath.py) reads a valid line with one regular expression.
Every other line goes to the reference reader (reference.py), the Lark parser
built from the grammar, which finds the error and writes the message. No
exception but ParseError escapes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from .fastpath import fast_reader
from .model import InquiryResponse


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
    reply = (_read_fast or _first_use())(line, tz) if type(line) is str else None
    if reply is not None:
        return reply
    if not isinstance(line, str):
        raise TypeError(f"parse() takes a str, not {type(line).__name__}")
    from .reference import refuse  # Lark is imported only when a line is refused

    return refuse(line, tz)


# The fast reader, once built: parse() is on the hot path of every log check.
_read_fast: Callable[[str, tzinfo | None], InquiryResponse | None] | None = None


def _first_use() -> Callable[[str, tzinfo | None], InquiryResponse | None]:
    global _read_fast
    _read_fast = fast_reader()
    return _read_fast
