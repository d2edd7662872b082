"""The reference reader: the Lark parser built from each kind's grammar, and its errors.

parse() sends here every line its fast path does not take. The Lark parser
finds where the line stops being a reply and says what could stand there;
every failure, from the grammar or from the checks a grammar cannot make, is
a ParseError that names the column. Nothing here depends on the kind but
what the table of kinds says of it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import cache
from typing import Any

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..errors import ParseError, readable
from .fastpath import head_re
from .grammar import parser_for, terminal_pattern
from .inquiry import InquiryResponse
from .kinds import INQUIRY, TRANSACTION, Kind
from .reply import MAX_DIGITS
from .timestamp import TimestampError, read_timestamp
from .transaction import TransactionResponse


def read_with_lark(kind: Kind, line: str, tz: tzinfo | None = None) -> Any:
    """A line read as `kind` by the Lark parser alone: the reference the fast path is proven against."""
    try:
        tree = parser_for(kind.grammar).parse(line)
    except UnexpectedInput as error:
        raise explain(line, error, after_reply=_after_reply(kind)) from None
    return kind.from_tree(tree, read_moment(line, tree, tz))


def parse_with_lark(line: str, *, tz: tzinfo | None = None) -> InquiryResponse:
    """parse() through the Lark parser alone."""
    if not isinstance(line, str):
        raise TypeError(f"parse() takes a str, not {type(line).__name__}")
    return read_with_lark(INQUIRY, line, tz)  # type: ignore[no-any-return]


def parse_transaction_with_lark(line: str, *, tz: tzinfo | None = None) -> TransactionResponse:
    """parse_transaction() through the Lark parser alone."""
    if not isinstance(line, str):
        raise TypeError(f"parse_transaction() takes a str, not {type(line).__name__}")
    return read_with_lark(TRANSACTION, line, tz)  # type: ignore[no-any-return]


def refuse(kind: Kind, line: str, tz: tzinfo | None) -> Any:
    """The ParseError for a line of `kind` its fast path did not take, found by Lark.

    The grammars are flat sequences: after any complete field the parser is in
    the same state. So the complete fields the fast path read at the start of
    the line, but the last, are cut out before Lark sees it, and Lark's
    positions are shifted back; a megabyte of fields then costs one regex pass,
    not a token each. (The last is kept because the state before the first
    field differs: a transaction's bare details part may only come there.)
    """
    head_of = head_re(kind.shape)
    head = None if head_of is None else head_of.match(line)
    start, end = (head.start("fields"), head.start("last")) if head and head.start("last") >= 0 else (0, 0)
    skipped = end - start
    try:
        tree = parser_for(kind.grammar).parse(line[:start] + line[end:])
    except UnexpectedInput as error:
        raise explain(line, error, start, skipped, after_reply=_after_reply(kind)) from None
    read_moment(line, tree, tz, skipped)  # raises when the date is not a real one
    # The fast path refused a line the grammar takes; the grammar decides.
    return read_with_lark(kind, line, tz)


def _after_reply(kind: Kind) -> Callable[[str, int], int | None] | None:
    """How to find text after a complete reply, for a kind whose line ends at its date."""
    if not kind.ends_at_date:
        return None
    return lambda line, pos: _text_after_final_timestamp(kind, line, pos)


def read_moment(line: str, tree: Tree[Token], tz: tzinfo | None, shift: int = 0) -> datetime:
    """The timestamp of a parsed line, or a ParseError at the part that is no real moment."""
    time, date = (c for c in tree.children if isinstance(c, Token) and c.type in ("TIME", "DATE"))
    try:
        return read_timestamp(time, date, tz)
    except TimestampError as e:
        assert time.start_pos is not None
        raise ParseError(
            e.message,
            text=line,
            column=time.start_pos + shift + e.offset + 1,
            expected=("a real date and time",),
            field="CURRENT_TIMESTAMP",
        ) from None


def explain(
    line: str,
    error: UnexpectedInput,
    cut_at: int = 0,
    cut: int = 0,
    *,
    after_reply: Callable[[str, int], int | None] | None = None,
) -> ParseError:
    """A ParseError at the column where the grammar stopped, saying what it expected.

    Lark parsed `line` less `cut` characters at `cut_at` (see refuse()).
    `after_reply(line, pos)` may find that the error is text after a complete
    reply, and where it starts.
    """
    # An LALR parser raises these two only (UnexpectedEOF is Earley's).
    pos: int
    expected: set[str] | frozenset[str]
    if isinstance(error, UnexpectedCharacters):
        pos, expected = error.pos_in_stream or 0, error.allowed
    else:
        assert isinstance(error, UnexpectedToken), error
        token = error.token
        at_end = token.type == "$END" or token.start_pos is None
        pos = len(line) - cut if at_end else token.start_pos
        expected = error.accepts or error.expected
    if pos >= cut_at:
        pos += cut
    trailing = after_reply(line, pos) if after_reply else None
    if trailing is not None:
        return ParseError(
            "text after the timestamp; a reply ends with its date",
            text=line,
            column=trailing + 1,
            expected=readable({"$END"}),
        )
    names = readable(expected)
    too_long = _number_too_long(line, pos, error)
    if too_long is not None:
        return ParseError(
            f"more than {MAX_DIGITS} digits; a number here must fit a signed 64-bit integer",
            text=line,
            column=pos + 1,
            expected=names,
            field=too_long,
        )
    found = "the end of the line" if pos >= len(line) else repr(line[pos])
    return ParseError(
        f"expected {_one_of(names)}, found {found}",
        text=line,
        column=pos + 1,
        expected=names,
        field=_field_at(error),
    )


@cache
def _final_timestamp_re() -> re.Pattern[str]:
    return re.compile(rf"\. @{terminal_pattern('TIME')} {terminal_pattern('DATE')}")


def _text_after_final_timestamp(kind: Kind, line: str, pos: int) -> int | None:
    """Where text starts after a complete reply, if that is what went wrong.

    A value runs to the *final* `. @TIME DATE`, so text after the date makes
    the grammar fail only at the end of the line, far from the cause. When the
    line up to the last `. @TIME DATE` (and a line break) is itself a valid
    reply, the text after it is the error.
    """
    last = deque(_final_timestamp_re().finditer(line), maxlen=1)
    if not last:
        return None
    end = last[0].end()
    end += next((len(brk) for brk in ("\r\n", "\n") if line.startswith(brk, end)), 0)
    if end > pos or kind.fast_reader()(line[:end], None) is None:
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
            return str(item)[:-2]
    return None


_AMOUNT_NAMES = ("BALANCE_BEFORE", "DEDUCTION", "BALANCE_AFTER")


def _number_too_long(line: str, pos: int, error: UnexpectedInput) -> str | None:
    """The field whose number went on past its 18 digits at `pos`, if that is what went wrong.

    The grammar's PRICE_VALUE stops at 18 digits and AMOUNT at six groups of
    three (a seventh makes 19 digits or more); the parser then stops where the
    number goes on (a digit, or "." and a digit).
    """
    stack = getattr(getattr(error, "state", None), "value_stack", None) or ()
    last = stack[-1] if stack else None
    if not isinstance(last, Token) or last.type not in ("PRICE_VALUE", "AMOUNT"):
        return None
    full = len(last) == MAX_DIGITS if last.type == "PRICE_VALUE" else last.count(".") == MAX_DIGITS // 3 - 1
    if not full:
        return None
    goes_on = line[pos : pos + 1] if last.type == "PRICE_VALUE" else line[pos : pos + 2].removeprefix(".")
    if len(goes_on) != 1 or not "0" <= goes_on <= "9":
        return None
    if last.type == "PRICE_VALUE":
        return "PRICE"
    amounts = sum(1 for item in stack if isinstance(item, Token) and item.type == "AMOUNT")
    return _AMOUNT_NAMES[amounts - 1]


def _one_of(names: tuple[str, ...]) -> str:
    """`a`, `a or b`, `a, b or c`: what could stand there (an LALR error always names something)."""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]
