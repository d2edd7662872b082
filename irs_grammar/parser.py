"""Reading a reply line: the Lark parser built from the grammar, then the model.

Every failure, from the grammar or from the checks a grammar cannot make,
becomes a ParseError that names the column; no other exception escapes.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import tzinfo
from functools import cache

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .errors import ParseError, readable
from .grammar import inquiry_parser, terminal_pattern
from .model import InquiryResponse
from .timestamp import TimestampError, read_timestamp


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
    if not isinstance(line, str):
        raise TypeError(f"parse() takes a str, not {type(line).__name__}")
    try:
        tree = inquiry_parser().parse(line)
    except UnexpectedInput as error:
        raise _explain(line, error) from None
    return _build(line, tree, tz)


def _build(line: str, tree: Tree[Token], tz: tzinfo | None) -> InquiryResponse:
    product = ""
    fields: list[tuple[str, str]] = []
    time = date = None
    for child in tree.children:
        if isinstance(child, Tree):
            key, *value = child.children
            assert isinstance(key, Token)
            fields.append((key[:-2], str(value[0]) if value else ""))  # key token holds its ": "
        elif child.type == "PRODUCT":
            product = str(child)
        elif child.type == "TIME":
            time = child
        elif child.type == "DATE":
            date = child
    assert time is not None
    assert date is not None
    assert time.start_pos is not None
    try:
        moment = read_timestamp(time, date, tz)
    except TimestampError as e:
        raise ParseError(
            e.message,
            text=line,
            column=time.start_pos + e.offset + 1,
            expected=("a real date and time",),
            field="CURRENT_TIMESTAMP",
        ) from None
    return InquiryResponse(product, tuple(fields), moment)


@cache
def _final_timestamp_re() -> re.Pattern[str]:
    return re.compile(rf"\. @{terminal_pattern('TIME')} {terminal_pattern('DATE')}")


def _explain(line: str, error: UnexpectedInput) -> ParseError:
    """A ParseError at the column where the grammar stopped, saying what it expected."""
    pos: int
    expected: set[str] | frozenset[str]
    if isinstance(error, UnexpectedCharacters):
        pos, expected = error.pos_in_stream or 0, error.allowed
    elif isinstance(error, UnexpectedToken):
        token = error.token
        pos = len(line) if token.type == "$END" or token.start_pos is None else token.start_pos
        expected = error.accepts or error.expected
    elif isinstance(error, UnexpectedEOF):
        pos, expected = len(line), set(error.expected)
    else:  # pragma: no cover - Lark raises only the three above
        pos, expected = 0, set()
    trailing = _text_after_final_timestamp(line, pos)
    if trailing is not None:
        return ParseError(
            "text after the timestamp; a reply ends with its date",
            text=line,
            column=trailing + 1,
            expected=readable({"$END"}),
        )
    names = readable(expected)
    found = "the end of the line" if pos >= len(line) else repr(line[pos])
    return ParseError(
        f"expected {_one_of(names)}, found {found}",
        text=line,
        column=pos + 1,
        expected=names,
        field=_field_at(error),
    )


def _text_after_final_timestamp(line: str, pos: int) -> int | None:
    """Where text starts after a complete reply, if that is what went wrong.

    A value runs to the *final* `. @TIME DATE`, so text after the date makes
    the grammar fail only at the end of the line, far from the cause. When the
    line up to the last `. @TIME DATE` is itself a valid reply, the text after
    it is the error.
    """
    matches = deque(_final_timestamp_re().finditer(line), maxlen=1)
    if not matches:
        return None
    end = matches[0].end()
    end += next((len(brk) for brk in ("\r\n", "\n") if line.startswith(brk, end)), 0)
    if end > pos:
        return None
    try:
        inquiry_parser().parse(line[:end])
    except UnexpectedInput:
        return None
    return end


_KEY_TERMINALS = frozenset({"KEY", "PRICE_KEY", "REASON_KEY"})


def _field_at(error: UnexpectedInput) -> str | None:
    """The wire key of the field the parser was inside when it stopped, if any."""
    state = getattr(error, "state", None)
    for item in reversed(getattr(state, "value_stack", None) or ()):
        if not isinstance(item, Token) or item.type == "_SEP":
            return None  # a finished field (a Tree) or a separator: between fields
        if item.type in _KEY_TERMINALS:
            return item[:-2]
    return None


def _one_of(names: tuple[str, ...]) -> str:
    if not names:
        return "nothing more"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]
