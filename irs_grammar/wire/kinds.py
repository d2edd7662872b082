"""The table of reply kinds: what the parser, serializer, validator, records and reconcile dispatch on.

Like h11's READERS and WRITERS, each kind is data: its name, its grammar and
fast-path shape (which says how a line of the kind begins), its reply class,
its readers (the fast path's and the one from Lark's tree), its writer, the
wire keys with a record column of their own, and its role (what its replies
report, which says how a log summary counts them and whether reconcile reads
them). Adding a kind is one grammar file, one reply class and one `register`:

    >>> [kind.name for kind in KINDS]
    ['transaction', 'inquiry']
    >>> import irs_grammar as irs
    >>> kind_of_line("R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024").name
    'transaction'
    >>> kind_of_reply(irs.parse("R#A. @12:00:00.000000 01/01/2025")) is INQUIRY
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any, Literal

from . import inquiry, transaction
from .fastpath import INQUIRY_SHAPE, TRANSACTION_SHAPE, Shape, fast_reader, fast_transaction_reader, start_re
from .inquiry import InquiryResponse
from .transaction import TransactionResponse

# What a kind's replies report:
#   "answer"       an answer to a question (an inquiry): `ok`, `reason`, `error_code`. A log summary
#                  counts them as inquiries, succeeded or failed; the fast path's match names the
#                  groups `product` and `reason`.
#   "transaction"  a step of a buy: `status`, `deduction`. A log summary counts status words and
#                  deductions, reconcile reads their history; the match names `product`, `status`
#                  and `deduction`.
Role = Literal["answer", "transaction"]


class Kind:
    """One kind of reply line, and everything that reads, writes and counts it.

    A plain class (a dataclass costs a millisecond at `import irs_grammar`); compared and hashed
    by identity, as a table entry is.
    """

    __slots__ = (
        "columns",
        "ends_at_date",
        "fast_reader",
        "from_tree",
        "name",
        "reply",
        "role",
        "shape",
        "write",
    )

    def __init__(
        self,
        name: str,  # a record's `kind`
        shape: Shape,  # the grammar file, the fast path's patterns, how a line of it begins
        reply: type[Any],  # the reply class
        fast_reader: Callable[[], Callable[[str, tzinfo | None], Any]],  # built once: line -> reply or None
        from_tree: Callable[[Any, datetime], Any],  # a reply from the tree Lark made, and its moment
        write: Callable[[Any], str],  # a reply -> its line, or SerializeError
        columns: Mapping[str, str],  # wire keys with a record column of their own
        role: Role,
        ends_at_date: bool = False,  # nothing may follow the date: text after a reply is the error named
    ) -> None:
        self.name, self.shape, self.reply, self.fast_reader = name, shape, reply, fast_reader
        self.from_tree, self.write, self.columns, self.role = from_tree, write, columns, role
        self.ends_at_date = ends_at_date

    @property
    def grammar(self) -> str:
        return self.shape.grammar

    def __repr__(self) -> str:
        return f"<Kind {self.name}>"


TRANSACTION: Kind = Kind(
    transaction.KIND,
    TRANSACTION_SHAPE,
    TransactionResponse,
    fast_transaction_reader,
    lambda tree, moment: _loaded(TRANSACTION).from_tree(tree, moment),
    lambda reply: _loaded(TRANSACTION).write(reply),
    transaction.RECORD_COLUMNS,
    "transaction",
)
INQUIRY: Kind = Kind(
    inquiry.KIND,
    INQUIRY_SHAPE,
    InquiryResponse,
    fast_reader,
    lambda tree, moment: _loaded(INQUIRY).from_tree(tree, moment),
    lambda reply: _loaded(INQUIRY).write(reply),
    inquiry.RECORD_COLUMNS,
    "answer",
    ends_at_date=True,
)


def _loaded(kind: Kind) -> Kind:
    """`kind`, once the built-in kinds' writers and Lark-tree readers are in the table.

    Imported on first use (the first serialize, the first line Lark reads): `import irs_grammar;
    parse(line)` needs neither, since a valid line is read by the fast path.
    """
    from .trees import inquiry_from_tree, transaction_from_tree
    from .writers import write_inquiry, write_transaction

    TRANSACTION.from_tree, TRANSACTION.write = transaction_from_tree, write_transaction
    INQUIRY.from_tree, INQUIRY.write = inquiry_from_tree, write_inquiry
    return kind


# In the order a line's start is tried; the last claims every line no other kind claims.
KINDS: list[Kind] = [TRANSACTION, INQUIRY]
_BY_CLASS: dict[type[Any], Kind] = {kind.reply: kind for kind in KINDS}
_STARTS: list[tuple[re.Pattern[str], Kind]] = []


def register(kind: Kind) -> None:
    """Add a kind: tried before the built-in ones (its start must say which lines are its own)."""
    if kind.shape.start is None:
        raise ValueError(f"{kind.name}: a registered kind says how its lines begin (Shape.start)")
    if any(k.name == kind.name for k in KINDS) or kind.reply in _BY_CLASS:
        raise ValueError(f"{kind.name}: a kind of this name or reply class is registered already")
    KINDS.insert(0, kind)
    _BY_CLASS[kind.reply] = kind
    _STARTS.clear()


def unregister(kind: Kind) -> None:
    """Remove a kind added by register() (the built-in ones stay)."""
    if kind in (INQUIRY, TRANSACTION):
        raise ValueError(f"{kind.name}: a built-in kind")
    KINDS.remove(kind)
    del _BY_CLASS[kind.reply]
    _STARTS.clear()


def kind_of_line(line: str) -> Kind:
    """The kind a line starts like: the first whose start matches, else the last (the inquiry)."""
    for start, kind in _STARTS or _starts():
        if start.match(line):
            return kind
    return KINDS[-1]


def _starts() -> list[tuple[re.Pattern[str], Kind]]:
    _STARTS[:] = [(pattern, kind) for kind in KINDS if (pattern := start_re(kind.shape)) is not None]
    return _STARTS


def kind_of_reply(reply: object) -> Kind | None:
    """The kind of a reply object (of a reply class or a subclass of one), or None."""
    for cls in type(reply).__mro__:
        kind = _BY_CLASS.get(cls)
        if kind is not None:
            return kind
    return None
