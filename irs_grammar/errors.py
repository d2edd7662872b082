"""Errors: where a line went wrong, said so a person can find it."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# Readable names of the grammar's terminals, for "expected ..." messages.
# tests/test_grammar.py checks that every terminal of every grammar has one.
READABLE_TERMINALS: dict[str, str] = {
    "_REPLY_MARK": '"R#"',
    "PRODUCT": "a product code",
    "_SEP": '". "',
    "KEY": "a field name",
    "PRICE_KEY": "a field name",
    "REASON_KEY": "a field name",
    "VALUE": "a value",
    "REASON_VALUE": "the reason",
    "PRICE_VALUE": "the price (ASCII digits)",
    "_AT": '"@" and the timestamp',
    "TIME": "the time (HH:MM:SS.ffffff)",
    "_SPACE": '" "',
    "DATE": "the date (DD/MM/YYYY)",
    "LINE_END": "the end of the line",
    # the transaction grammar
    "REF": "a reference (ASCII letters, digits, '_' and '-')",
    "DEST": "a destination number",
    "STATUS": "a status word (SUCCESS, FAILED, INPROGRESS, ...)",
    "TRXID_KEY": '"TRXID: "',
    "TRXID": 'a transaction id or "-"',
    "BALANCE_KEY": '"SISA SALDO: "',
    "AMOUNT": "an amount such as 97.411.793",
    "_MINUS": '" - "',
    "_EQUALS": '" = "',
    "REFID_MARK": '"&refid="',
    "DETAILS": "the details (a reason without 'REASON: ')",
    "$END": "the end of the line",
}

# How much of a long line str() shows on each side of the column.
_CONTEXT = 40


def readable(terminals: Iterable[str]) -> tuple[str, ...]:
    """Readable names for a set of terminal names, deduplicated, in a stable order."""
    names = {READABLE_TERMINALS.get(t, t) for t in terminals}
    return tuple(sorted(names))


class ParseError(ValueError):
    """A line that is not a valid reply.

    `column` is 1-based and counts characters; `line` is the line number when
    the text came from a file or log (else None); `expected` holds readable
    names of what could stand at `column`; `field` names the field when the
    error is inside one. `str()` shows the message, then the text with a caret
    under the column.

    >>> import irs_grammar as irs
    >>> try:
    ...     irs.parse("R#PLN20. PRICE: 2O546. @12:32:55.821005 12/11/2024")
    ... except irs.ParseError as error:
    ...     print(error.column, error.field, error.expected)
    ...     print(error)
    18 PRICE ('". "',)
    column 18 (PRICE): expected ". ", found 'O'
      R#PLN20. PRICE: 2O546. @12:32:55.821005 12/11/2024
                       ^
    """

    def __init__(
        self,
        message: str,
        *,
        text: str,
        column: int,
        expected: tuple[str, ...] = (),
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.column = column
        self.expected = expected
        self.line = line
        self.field = field

    def with_line(self, line: int) -> ParseError:
        """The same error, placed on line `line` of a file."""
        return ParseError(
            self.message,
            text=self.text,
            column=self.column,
            expected=self.expected,
            line=line,
            field=self.field,
        )

    def excerpt(self) -> str:
        """The text around the column, unprintable characters escaped, and a caret under it."""
        text = self.text.removesuffix("\n").removesuffix("\r") if self.text.endswith("\n") else self.text
        start = max(0, self.column - 1 - _CONTEXT)
        end = min(len(text), self.column - 1 + _CONTEXT)
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        shown = "".join(_shown(c) for c in text[start:end])
        caret = sum(_width(c) for c in text[start : self.column - 1])
        return f"  {prefix}{shown}{suffix}\n  {' ' * (len(prefix) + caret)}^"

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.line else f"column {self.column}"
        if self.field:
            where += f" ({self.field})"
        return f"{where}: {self.message}\n{self.excerpt()}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments: pickle (used by --jobs) needs help.
        return (_rebuild, (self.message, self.text, self.column, self.expected, self.line, self.field))


def _shown(char: str) -> str:
    """A character as str() shows it: itself, or an escape such as \\n when unprintable."""
    return char if char.isprintable() else char.encode("unicode_escape").decode()


def _width(char: str) -> int:
    """Terminal cells the shown character takes (wide East Asian forms take two)."""
    if not char.isprintable():
        return len(_shown(char))
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _rebuild(
    message: str, text: str, column: int, expected: tuple[str, ...], line: int | None, field: str | None
) -> ParseError:
    return ParseError(message, text=text, column=column, expected=expected, line=line, field=field)


class SerializeError(ValueError):
    """A reply that cannot be written so that it reads back the same.

    `field` names the part at fault: a wire key such as `CUSTNAME`, or
    `PRODUCT_CODE` / `CURRENT_TIMESTAMP`.

    >>> import irs_grammar as irs
    >>> from datetime import datetime
    >>> reply = irs.InquiryResponse("PLN20", (("CUSTNAME", "A. CUSTNUM: 1"),), datetime(2024, 1, 1))
    >>> try:
    ...     irs.serialize(reply)
    ... except irs.SerializeError as error:
    ...     print(error.field, "-", error)
    CUSTNAME - CUSTNAME: holds '. KEY: ' at 2; it would be read as 'A' and a new field
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
