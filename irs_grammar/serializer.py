"""Writing a reply line: the mirror of parser.py.

The serializer writes only what the parser reads back the same. Names and
prices are checked against the grammar's terminals. A value can only end
early where a `.` is followed by ` ` (a boundary) or at a line break, so a
value holding neither is safe as it is; any other is checked in place, in the
finished line, against the grammar terminal that will read it.
"""

from __future__ import annotations

from functools import lru_cache

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
    if product and not _is_product(product):
        raise SerializeError(PRODUCT_CODE, f"{product!r} is not ASCII letters, digits, '_' and '-'")
    parts = ["R#", product]
    fields = reply.fields
    last = len(fields) - 1
    check_in_place = False
    for index, (key, value) in enumerate(fields):
        if not _is_key(key):
            raise SerializeError(key or "(empty key)", "a field name is ASCII [A-Z][A-Z0-9_]*")
        if key == PRICE:
            if not _is_price(value):
                raise SerializeError(PRICE, f"{value!r} is not ASCII digits")
        elif key == REASON and index != last:
            raise SerializeError(REASON, "must be the last field: it runs to the timestamp")
        elif ". " in value or "\n" in value or "\r" in value:
            check_in_place = True
        parts += (". ", key, ": ", value)
    parts += (". @", format_timestamp(reply.timestamp))
    line = "".join(parts)
    if check_in_place:
        _check_values_in_place(line, reply)
    return line


@lru_cache(maxsize=4096)
def _is_key(key: str) -> bool:
    return terminal_re("KEY").fullmatch(key + ": ") is not None


@lru_cache(maxsize=4096)
def _is_product(product: str) -> bool:
    return terminal_re("PRODUCT").fullmatch(product) is not None


def _is_price(value: str) -> bool:
    return terminal_re("PRICE_VALUE").fullmatch(value) is not None


def _check_values_in_place(line: str, reply: InquiryResponse) -> None:
    """Each value, matched where it stands by the terminal that reads it, must end where it does."""
    position = 2 + len(reply.product_code)
    for key, value in reply.fields:
        position += 4 + len(key)  # ". KEY: "
        if key != PRICE:
            match = terminal_re("REASON_VALUE" if key == REASON else "VALUE").match(line, position)
            read = (match.end() if match else position) - position
            if read != len(value):
                raise SerializeError(key, _why_not(value, read, key))
        position += len(value)


def _why_not(value: str, read: int, key: str) -> str:
    if "\n" in value or "\r" in value:
        return "a value cannot hold a line break"
    if key == REASON:
        return f"the reason would be read as {value[:read]!r}"
    return f"holds '. KEY: ' at {read + 1}; it would be read as {value[:read]!r} and a new field"
