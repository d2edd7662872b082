"""Each kind's writer: a reply to its wire line, the mirror of its readers (fastpath, trees).

A writer writes only what the parser reads back the same. Names and
prices are checked against the grammar's terminals. A value can only end
early where a `.` is followed by ` ` (a boundary) or at a line break, so a
value holding neither is safe as it is; any other is checked in place, in the
finished line, against the grammar terminal that will read it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import READABLE_TERMINALS, SerializeError
from .grammar import INQUIRY_GRAMMAR, TRANSACTION_GRAMMAR, terminal_re
from .inquiry import PRICE, InquiryResponse
from .reply import PRODUCT_CODE, REASON
from .timestamp import format_timestamp
from .transaction import TRXID, TransactionResponse


def write_inquiry(reply: InquiryResponse) -> str:
    """The wire line of an inquiry reply, without a line break; see serializer.serialize()."""
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
    if check_in_place or _has_lone_surrogate(line):
        _check_in_place(line, _placed(2 + len(product), fields, "VALUE", "REASON_VALUE", INQUIRY_GRAMMAR))
    return line


@lru_cache(maxsize=4096)
def _is_key(key: str) -> bool:
    return terminal_re("KEY").fullmatch(key + ": ") is not None


@lru_cache(maxsize=4096)
def _is_product(product: str) -> bool:
    return terminal_re("PRODUCT").fullmatch(product) is not None


def _is_price(value: str) -> bool:
    return terminal_re("PRICE_VALUE").fullmatch(value) is not None


def _placed(
    start: int, fields: tuple[tuple[str, str], ...], value: str, reason: str, grammar: str
) -> list[tuple[int, str, str, re.Pattern[str]]]:
    """(position in the line, key, value, terminal that reads it) for each field.

    An inquiry's PRICE is read by PRICE_VALUE and checked on its own; in a
    transaction PRICE is a field like any other.

    Each field is written ". KEY: value" (an inquiry) or "KEY: value. " (a
    transaction): either way its value starts len(key) + 2 after the previous
    value's end plus two.
    """
    placed = []
    position = start
    for key, text in fields:
        position += 4 + len(key)
        if key != PRICE or grammar != INQUIRY_GRAMMAR:
            placed.append((position, key, text, terminal_re(reason if key == REASON else value, grammar)))
        position += len(text)
    return placed


def _check_in_place(line: str, placed: list[tuple[int, str, str, re.Pattern[str]]]) -> None:
    """Each value, matched where it stands by the terminal that reads it, must end where it does."""
    for start, key, value, terminal in placed:
        match = terminal.match(line, start)
        read = (match.end() if match else start) - start
        if read != len(value):
            raise SerializeError(key, _why_not(value, read, key))


def write_transaction(reply: TransactionResponse) -> str:
    """The wire line of a transaction reply, without a line break; see serializer.serialize()."""
    for name, text, terminal in (
        ("REF_ID", reply.ref_id, "REF"),
        ("PRODUCT_CODE", reply.product_code, "PRODUCT"),
        ("DESTINATION", reply.destination, "DEST"),
        ("STATUS", reply.status, "STATUS"),
        ("TRANSACTION_ID", reply.trxid, "TRXID"),
        ("REFID", reply.refid, "REF"),
        *(("BALANCE", amount, "AMOUNT") for amount in reply.balance or ()),
    ):
        if text is not None and not terminal_re(terminal, TRANSACTION_GRAMMAR).fullmatch(text):
            raise SerializeError(name, f"{text!r} is not {READABLE_TERMINALS[terminal]}")
    head = f"R#{reply.ref_id} {reply.product_code}"
    head += f". {reply.destination} " if reply.destination is not None else " "
    parts = [head, reply.status, ". "]
    if reply.bare_details:
        parts += (reply.fields[0][1], ". ")  # the model holds it as the one REASON field
    else:
        _detail_parts(reply.fields, parts)
    parts += ("TRXID: ", reply.trxid, ". ")
    if reply.balance is not None:
        parts.append("SISA SALDO: {} - {} = {} ".format(*reply.balance))
    parts += ("@", format_timestamp(reply.timestamp))
    if reply.refid is not None:
        parts += ("&refid=", reply.refid)
    line = "".join(parts)
    # Fields here are "KEY: value. ", the first key right after "STATUS. ".
    first_key = len(head) + len(reply.status) + 2
    if reply.bare_details:
        _check_bare_details(line, first_key, reply.fields[0][1])
    else:
        placed = _placed(first_key - 2, reply.fields, "VALUE", "REASON_VALUE", TRANSACTION_GRAMMAR)
        _check_in_place(line, placed)
    return line


def _detail_parts(fields: tuple[tuple[str, str], ...], parts: list[str]) -> None:
    """Append each detail as "KEY: value. ", checking the keys."""
    last = len(fields) - 1
    for index, (key, value) in enumerate(fields):
        if not _is_key(key):
            raise SerializeError(key or "(empty key)", "a field name is ASCII [A-Z][A-Z0-9_]*")
        if key == TRXID:
            raise SerializeError(key, "the transaction id is not a detail field")
        if key == REASON and index != last:
            raise SerializeError(REASON, "must be the last detail: it runs to '. TRXID: '")
        parts += (key, ": ", value, ". ")


def _check_bare_details(line: str, start: int, value: str) -> None:
    """A bare details part must read back as one: not empty, not led by a field name, to '. TRXID: '."""
    if not value:
        raise SerializeError(REASON, "a bare details part cannot be empty (write it with 'REASON: ')")
    match = terminal_re("DETAILS", TRANSACTION_GRAMMAR).match(line, start)
    read = (match.end() - start) if match else 0
    if read == len(value):
        return
    if match is None and "\n" not in value and "\r" not in value and not _has_lone_surrogate(value):
        raise SerializeError(REASON, "a bare details part cannot begin with a field name or '@' and a time")
    raise SerializeError(REASON, _why_not(value, read, REASON))


def _has_lone_surrogate(line: str) -> bool:
    """Whether a line holds a lone surrogate, which no UTF-8 text holds (the grammar refuses it)."""
    if line.isascii():
        return False
    try:
        line.encode()
    except UnicodeEncodeError:
        return True
    return False


def _why_not(value: str, read: int, key: str) -> str:
    if "\n" in value or "\r" in value:
        return "a value cannot hold a line break"
    if _has_lone_surrogate(value):
        at = next(n for n, c in enumerate(value) if "\ud800" <= c <= "\udfff")
        return f"holds a lone surrogate (U+{ord(value[at]):04X}) at {at + 1}: no UTF-8 text holds one"
    if key == REASON:
        return f"the reason would be read as {value[:read]!r}"
    return f"holds '. KEY: ' at {read + 1}; it would be read as {value[:read]!r} and a new field"
