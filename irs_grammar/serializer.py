"""Writing a reply line: the mirror of parser.py.

The serializer writes only what the parser reads back the same: each value
is checked, in place, against the grammar terminal that will read it.
"""

from __future__ import annotations

from .errors import SerializeError
from .grammar import terminal_re
from .model import PRICE, PRODUCT_CODE, REASON, InquiryResponse
from .timestamp import format_timestamp


def serialize(reply: InquiryResponse) -> str:
    """The wire line of a reply, without a line break.

    `serialize(parse(line)) == line` for every line parse() accepts (less its
    line break). A reply that would not read back the same raises
    SerializeError (a ValueError) naming the field.

    >>> import irs_grammar as irs
    >>> from datetime import datetime
    >>> irs.serialize(irs.InquiryResponse.build(
    ...     product_code="MAX5000", price=7205, customer_number="0817345544",
    ...     timestamp=datetime(2024, 11, 29, 11, 4, 32, 895636)))
    'R#MAX5000. PRICE: 7205. CUSTNUM: 0817345544. @11:04:32.895636 29/11/2024'
    """
    if not isinstance(reply, InquiryResponse):
        raise TypeError(f"serialize() takes an InquiryResponse, not {type(reply).__name__}")
    product = reply.product_code
    if product and not terminal_re("PRODUCT").fullmatch(product):
        raise SerializeError(PRODUCT_CODE, f"{product!r} is not ASCII letters, digits, '_' and '-'")
    parts = ["R#", product]
    # (start of the value in the line, value, terminal that must read it)
    placed: list[tuple[int, str, str, str]] = []
    position = 2 + len(product)
    last = len(reply.fields) - 1
    for index, (key, value) in enumerate(reply.fields):
        if not terminal_re("KEY").fullmatch(key + ": "):
            raise SerializeError(key or "(empty key)", "a field name is ASCII [A-Z][A-Z0-9_]*")
        if key == REASON and index != last:
            raise SerializeError(REASON, "must be the last field: it runs to the timestamp")
        if key == PRICE and not terminal_re("PRICE_VALUE").fullmatch(value):
            raise SerializeError(PRICE, f"{value!r} is not ASCII digits")
        head = f". {key}: "
        parts.append(head)
        parts.append(value)
        position += len(head)
        placed.append((position, value, key, "REASON_VALUE" if key == REASON else "VALUE"))
        position += len(value)
    parts.append(". @")
    parts.append(format_timestamp(reply.timestamp))
    line = "".join(parts)
    for start, value, key, terminal in placed:
        # A value reads back as itself when its terminal, matched where it
        # stands in the finished line, stops exactly at its end.
        match = terminal_re(terminal).match(line, start)
        end = match.end() if match else start
        if end != start + len(value):
            raise SerializeError(key, _why_not(value, end - start, key))
    return line


def _why_not(value: str, read: int, key: str) -> str:
    if "\n" in value or "\r" in value:
        return "a value cannot hold a line break"
    if key == REASON:
        return f"the reason would be read as {value[:read]!r}"
    return f"holds '. KEY: ' at {read + 1}; it would be read as {value[:read]!r} and a new field"
