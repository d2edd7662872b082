"""The fast path: one regular expression per kind of reply, assembled from its grammar's terminals.

It reads the common case, a valid line, without Lark (the terminal patterns
come from _terminals.py, generated from the grammars). Each kind is data: a
Shape, two templates naming the grammar's terminals in braces, which one
builder, assemble(), turns into regular expressions. The templates mirror the
contextual lexer: every token is atomic and every optional token possessive
(the lexer never gives back what a terminal matched, nor tries an empty value
after a value that led nowhere), the field loop is possessive, and keywords
such as PRICE, REASON and TRXID are the grammar's own literals. What the fast
path cannot take it leaves to the Lark parser, which also writes every error
message. tests/test_fastpath.py proves the two agree, for both kinds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import tzinfo
from functools import cache
from typing import Any, NamedTuple, TypeVar

from . import timestamp
from .grammar import INQUIRY_GRAMMAR, TRANSACTION_GRAMMAR, terminal_pattern
from .inquiry import CUSTNAME, CUSTNUM, POWERCAPACITY, InquiryResponse
from .reply import REASON
from .timestamp import is_real_moment, moment
from .transaction import KNOWN_STATUSES, SN, Balance, TransactionResponse

R = TypeVar("R")


class Shape(NamedTuple):
    """A kind of reply as the fast path sees it. `{NAME}` stands for the grammar's terminal NAME.

    `line` matches a whole valid line. `head` matches the start of any line of
    the kind up to the end of its last complete field (group `fields`, its
    last field in group `last`): reference.refuse cuts those fields before
    Lark sees a refused line (None: nothing is cut). `start` matches how a
    line of this kind begins, which tells it from the others (None: a line no
    other kind claims).
    """

    grammar: str
    line: str
    head: str | None = None
    start: str | None = None


# A field other than the keywords, "KEY: value. ", the value possibly empty.
_INQUIRY_FIELD = "(?!{PRICE_KEY}|{REASON_KEY}){KEY}(?:{VALUE})?+{_SEP}|{PRICE_KEY}(?>{PRICE_VALUE}){_SEP}"
_INQUIRY_HEAD = (
    "{_REPLY_MARK}(?P<product>(?:{PRODUCT})?+){_SEP}(?P<fields>(?:(?P<last>" + _INQUIRY_FIELD + "))*+)"
)
INQUIRY_SHAPE = Shape(
    INQUIRY_GRAMMAR,
    head=_INQUIRY_HEAD,
    line=_INQUIRY_HEAD + "(?:{REASON_KEY}(?P<reason>(?:{REASON_VALUE})?+){_SEP})?"
    "{_AT}(?P<time>{TIME}){_SPACE}(?P<date>{DATE})(?:{LINE_END})?\\Z",
)

_TRANSACTION_START = (
    "{_REPLY_MARK}(?P<ref>(?>{REF})){_SPACE}(?P<product>(?>{PRODUCT}))"
    "(?:{_SEP}(?P<destination>(?>{DEST})){_SPACE}|{_SPACE})(?P<status>(?>{STATUS})){_SEP}"
)
_TRANSACTION_FIELDS = "(?P<fields>(?:(?P<last>(?!{REASON_KEY}|{TRXID_KEY}){KEY}(?:{VALUE})?+{_SEP}))*+)"
TRANSACTION_SHAPE = Shape(
    TRANSACTION_GRAMMAR,
    head=_TRANSACTION_START + _TRANSACTION_FIELDS,
    # `R#`, a reference and a space: an inquiry has `. ` after its product code instead.
    start="{_REPLY_MARK}{REF}{_SPACE}",
    # The details: a bare part (never led by a field name, so never a field), or the fields and REASON.
    line=_TRANSACTION_START + "(?>(?P<details>(?>{DETAILS})){_SEP}|" + _TRANSACTION_FIELDS + ""
    "(?:{REASON_KEY}(?P<reason>(?:{REASON_VALUE})?+){_SEP})?)"
    "{TRXID_KEY}(?P<trxid>(?>{TRXID})){_SEP}"
    "(?:{BALANCE_KEY}(?P<before>(?>{AMOUNT})){_MINUS}(?P<deduction>(?>{AMOUNT}))"
    "{_EQUALS}(?P<after>(?>{AMOUNT})){_SPACE})?"
    "{_AT}(?P<time>{TIME}){_SPACE}(?P<date>{DATE})"
    "(?:{REFID_MARK}(?P<refid>(?>{REF})))?(?:{LINE_END})?\\Z",
)


class _Terminals(dict[str, str]):
    """`{NAME}` -> the grammar's pattern for NAME, as a group."""

    def __init__(self, grammar: str) -> None:
        super().__init__()
        self.grammar = grammar

    def __missing__(self, name: str) -> str:
        return f"(?:{terminal_pattern(name, self.grammar)})"


def assemble(template: str, grammar: str) -> str:
    """A template with the grammar's terminal patterns in place of their names."""
    return template.format_map(_Terminals(grammar))


@cache
def line_re(shape: Shape) -> re.Pattern[str]:
    """A whole valid line of this kind."""
    return re.compile(assemble(shape.line, shape.grammar))


@cache
def start_re(shape: Shape) -> re.Pattern[str] | None:
    """How a line of this kind begins, or None for the kind of every line no other kind claims."""
    return None if shape.start is None else re.compile(assemble(shape.start, shape.grammar))


@cache
def head_re(shape: Shape) -> re.Pattern[str] | None:
    """The start of any line of this kind, up to the end of its last complete field (None: no head)."""
    return None if shape.head is None else re.compile(assemble(shape.head, shape.grammar))


SEP_TEXT = ". "  # _SEP, which ends every field
KEY_END = ": "  # ends every KEY, which holds no other ":"


@cache
def field_end_re() -> re.Pattern[str]:
    """Where a field of a `fields` group ends and the next begins: _SEP before a KEY.

    A VALUE never holds _SEP before a KEY (its lookahead stops it there), so in a `fields` group
    the whole line's match has checked, these are the places between its fields and there is no
    other. Both grammars share KEY and VALUE (the transaction grammar imports them), and an
    inquiry's PRICE value is ASCII digits, which VALUE reads the same.
    """
    sep, key = terminal_pattern("_SEP"), terminal_pattern("KEY")
    assert re.fullmatch(sep, SEP_TEXT)
    assert key.endswith(KEY_END)
    assert ":" not in key.removesuffix(KEY_END)
    return re.compile(f"{sep}(?={key})")


def field_pairs(block: str) -> list[tuple[str, str]]:
    """The (name, value) of each field of a `fields` group (`KEY: VALUE. ` again and again), in
    wire order. The group must come from a line's match: it ends with _SEP, its values are VALUEs."""
    if not block:
        return []
    pairs = []
    for field in field_end_re().split(block[: -len(SEP_TEXT)]):
        name, _, value = field.partition(KEY_END)
        pairs.append((name, value))
    return pairs


def split_fields(block: str, reason: str | None) -> tuple[tuple[str, str], ...]:
    """The (key, value) pairs of a `fields` group, then REASON if there is one."""
    fields = field_pairs(block)
    if reason is not None:
        fields.append((REASON, reason))
    return tuple(fields)


def _fill_inquiry(
    reply: InquiryResponse, block: str, reason: str | None, t: str, d: str, tz: tzinfo | None
) -> None:
    """Build what InquiryResponse.unread() left: the fields and the timestamp."""
    object.__setattr__(reply, "fields", split_fields(block, reason))
    object.__setattr__(reply, "timestamp", moment(t, d, tz))


@cache
def matcher(shape: Shape) -> Callable[[str], re.Match[str] | None]:
    """match(line): the match of a valid line of this kind (a real moment too), or None.

    What the fast path accepts, and all a log count needs: the validator
    counts a valid line from its match without building a reply.
    """
    match_line = line_re(shape).match

    def match(line: str) -> re.Match[str] | None:
        m = match_line(line)
        # Not a real moment: None, and the slow path says which part.
        return m if m is not None and is_real_moment(m["time"], m["date"]) else None

    return match


@cache
def fast_reader() -> Callable[[str, tzinfo | None], InquiryResponse | None]:
    """parse_fast(line, tz): the inquiry reply, or None when the Lark parser must decide."""
    match_line = line_re(INQUIRY_SHAPE).match
    new, put, reply_type = object.__new__, object.__setattr__, InquiryResponse
    iso_dates, iso_date = timestamp.ISO_DATES, timestamp.iso_date

    # parse()'s whole cost is here, so what is_real_moment() and Unread.unread()
    # do is written out inline (tests/test_fastpath.py holds the two to agree).
    def parse_fast(line: str, tz: tzinfo | None) -> InquiryResponse | None:
        m = match_line(line)
        if m is None:
            return None
        product, block, _, reason, t, d = m.groups()
        if t[0:2] > "23" or t[3] > "5" or t[6] > "5" or not (iso_dates.get(d) or iso_date(d)):
            return None  # not a real moment: the slow path says which part
        reply = new(reply_type)
        put(reply, "_wire", (_fill_inquiry, (block, reason, t, d, tz)))
        put(reply, "product_code", product)  # at once: a log summary counts by product
        return reply

    return parse_fast


def _fill_transaction(reply: TransactionResponse, groups: tuple[Any, ...], tz: tzinfo | None) -> None:
    """Build what TransactionResponse.unread() left: every field, from the line's groups."""
    (
        ref,
        product,
        destination,
        status,
        details,
        block,
        _,
        reason,
        trxid,
        before,
        deduction,
        after,
        t,
        d,
        refid,
    ) = groups
    put = object.__setattr__
    put(reply, "ref_id", ref)
    put(reply, "product_code", product)
    put(reply, "destination", destination)
    put(reply, "status", KNOWN_STATUSES.get(status, status))
    put(reply, "fields", ((REASON, details),) if details is not None else split_fields(block, reason))
    put(reply, "trxid", trxid)
    put(reply, "balance", None if before is None else Balance(before, deduction, after))
    put(reply, "timestamp", moment(t, d, tz))
    put(reply, "refid", refid)
    put(reply, "bare_details", details is not None)


@cache
def fast_transaction_reader() -> Callable[[str, tzinfo | None], TransactionResponse | None]:
    """parse_fast(line, tz): the transaction reply, or None when the Lark parser must decide."""
    match = matcher(TRANSACTION_SHAPE)
    unread = TransactionResponse.unread

    def parse_fast(line: str, tz: tzinfo | None) -> TransactionResponse | None:
        m = match(line)
        return None if m is None else unread(_fill_transaction, (m.groups(), tz))

    return parse_fast


def fast_reader_of(
    shape: Shape, build: Callable[[re.Match[str], tzinfo | None], R]
) -> Callable[[], Callable[[str, tzinfo | None], R | None]]:
    """The fast reader of a kind that has no hand-tuned one: `build(match, tz)` on each valid line."""

    @cache
    def reader() -> Callable[[str, tzinfo | None], R | None]:
        match = matcher(shape)

        def parse_fast(line: str, tz: tzinfo | None) -> R | None:
            m = match(line)
            return None if m is None else build(m, tz)

        return parse_fast

    return reader


# -- the common shapes, read in one match ---------------------------------------------------------

# A line whose fields are the documented ones, each at most once, in the documented order, then
# any others (by far the most common shape), is read by one match whose groups are the columns: no
# split, no loop (the others, rare, are one group, `extra`, split by whoever needs them). The same
# terminals as the fast path's (a sub-language of its line pattern: where this matches, the fast
# path reads the same values); any other line goes the general way.


def _optional_field(key: str, group: str) -> str:
    return f"(?:{re.escape(key)}: (?P<{group}>(?:{{VALUE}})?+){{_SEP}})?+"


def _other_fields(keywords: str, *documented: str) -> str:
    """Group `extra`: the fields after the documented ones, none of whose keys is a keyword (as in
    the kind's general shape) or a documented key (a second one, or one out of order, goes the
    general way), as the `fields` group of the general shape holds them (None: no such field)."""
    keys = "".join(f"|{re.escape(key)}: " for key in documented)
    return "(?P<extra>(?:(?!" + keywords + keys + "){KEY}(?:{VALUE})?+{_SEP})++)?+"


_COMMON_INQUIRY = (
    "{_REPLY_MARK}(?P<product>(?:{PRODUCT})?+){_SEP}"
    "(?:{PRICE_KEY}(?P<price>(?>{PRICE_VALUE})){_SEP})?+"
    + _optional_field(CUSTNUM, "custnum")
    + _optional_field(CUSTNAME, "custname")
    + _optional_field(POWERCAPACITY, "power")
    + _other_fields("{PRICE_KEY}|{REASON_KEY}", CUSTNUM, CUSTNAME, POWERCAPACITY)
    + "(?:{REASON_KEY}(?P<reason>(?:{REASON_VALUE})?+){_SEP})?+"
    "{_AT}(?P<time>{TIME}){_SPACE}(?P<date>{DATE})(?:{LINE_END})?\\Z"
)
_COMMON_TRANSACTION = (
    "{_REPLY_MARK}(?P<ref>(?>{REF})){_SPACE}(?P<product>(?>{PRODUCT}))"
    "(?:{_SEP}(?P<destination>(?>{DEST})){_SPACE}|{_SPACE})(?P<status>(?>{STATUS})){_SEP}"
    "(?>(?P<details>(?>{DETAILS})){_SEP}|"
    + _optional_field(SN, "sn")
    + _other_fields("{REASON_KEY}|{TRXID_KEY}", SN)
    + "(?:{REASON_KEY}(?P<reason>(?:{REASON_VALUE})?+){_SEP})?+)"
    "{TRXID_KEY}(?P<trxid>(?>{TRXID})){_SEP}"
    "(?:{BALANCE_KEY}(?P<before>(?>{AMOUNT})){_MINUS}(?P<deduction>(?>{AMOUNT}))"
    "{_EQUALS}(?P<after>(?>{AMOUNT})){_SPACE})?+"
    "{_AT}(?P<time>{TIME}){_SPACE}(?P<date>{DATE})"
    "(?:{REFID_MARK}(?P<refid>(?>{REF})))?+(?:{LINE_END})?\\Z"
)


@cache
def common_inquiry_re() -> re.Pattern[str]:
    return re.compile(assemble(_COMMON_INQUIRY, INQUIRY_GRAMMAR))


@cache
def common_transaction_re() -> re.Pattern[str]:
    return re.compile(assemble(_COMMON_TRANSACTION, TRANSACTION_GRAMMAR))
