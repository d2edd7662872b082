"""Reconciling buy logs: each transaction's lifecycle, the anomalies that cost money, totals.

`validate()` says whether each line is a reply. `reconcile()` reads the
transaction replies of one or more logs as what they are: the history of each
`ref_id`, from INPROGRESS to SUCCESS or FAILED, and of the account's balance.
It reports, per ref_id, every reply (`path:line`) and the outcome, and the
anomalies a reseller loses money on:

    conflicting_outcome   SUCCESS and FAILED for one ref_id
    changed_after_final   a later reply of the same final status that differs in SN, TRXID or amounts
                          (an identical re-check is not one; another final status is conflicting_outcome)
    failed_with_deduction FAILED with a deduction above 0
    duplicate_charge      deductions under two different TRXIDs for one ref_id
    stuck_pending         not final, its first reply older than `pending_after` at the last timestamp read
    refid_mismatch        the `&refid=` tail names another reference than `R#`
    balance_mismatch      before - deduction != after in one reply
    balance_gap           in timestamp order, a balance before that is not the previous balance after

The outcome of a ref_id: `succeeded` when its final replies are all SUCCESS,
`failed` when they are all FAILED (the only outcome on which to refund),
`conflicting` when it has both (never refundable: ask Klikoo which is
true); without a final reply, `pending` when its last reply is INPROGRESS
and `unknown` when it is a word this library does not know. None but the
first two is final: check again with the same ref_id, or ask a human. Totals
count each transaction once, on the day and under the product of the reply
that decides it (its last final reply, else its last); `deducted` counts
every distinct charge seen (a deduction above 0 under its own TRXID and
amounts: a re-check repeating a snapshot is one charge, a second TRXID is a
second charge), whatever the outcome.

With `state=PATH`, what was read is kept in SQLite (see `state.py`), so
tomorrow's log closes today's pending transactions; reading a line a second
time (the same path and text) changes nothing.

With `keep_transactions=False`, each transaction is counted into the totals
and not kept: the report (anomalies, totals) is the same, written without a
table of every transaction (the command's text and JSON reports need no more).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache, partial
from itertools import pairwise
from typing import Any, NamedTuple, cast

from .batches import each_in_workers, in_order
from .errors import ParseError
from .lines import MAX_LINE_BYTES, STDIN, LogReadError, Overlong, line_text
from .spill import Scratch, SpilledList, SpilledSortedList, Spread, Tape, dumps, rows_of, run_of, spread
from .spool import REF_ID_COLUMN, Spool, by_ref, links_of, repeated_snapshots
from .state import Chained, Kept, Row, Seen, State, StateError, keyed, line_key, moment_of, seen
from .validation import LineResult, check_line, role_matchers
from .wire.fastpath import common_transaction_re
from .wire.kinds import kind_of_reply
from .wire.timestamp import iso_moment
from .wire.transaction import FINAL_STATUSES, TransactionResponse, TransactionStatus

SUCCEEDED, FAILED, CONFLICTING = "succeeded", "failed", "conflicting"
PENDING, UNKNOWN = "pending", "unknown"
OUTCOMES = (SUCCEEDED, FAILED, CONFLICTING, PENDING, UNKNOWN)
ANOMALY_KINDS = (
    "conflicting_outcome",
    "changed_after_final",
    "failed_with_deduction",
    "duplicate_charge",
    "stuck_pending",
    "refid_mismatch",
    "balance_mismatch",
    "balance_gap",
)


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One thing that may cost money: its kind (ANOMALY_KINDS), ref_id, every `path:line`, a message.

    >>> Anomaly("refid_mismatch", "A6", ("buys.log:9",), "&refid=OTHER ...").to_dict()["lines"]
    [{'path': 'buys.log', 'line': 9}]
    """

    kind: str
    ref_id: str
    lines: tuple[str, ...]  # every path:line involved
    message: str

    @property
    def where(self) -> str:
        """The last line involved in file order (path, then line): where the report lists it."""
        path, line = max(map(_where, self.lines))
        return f"{path}:{line}"

    def to_dict(self) -> dict[str, Any]:
        lines = [{"path": path, "line": line} for path, line in map(_where, self.lines)]
        return {"kind": self.kind, "ref_id": self.ref_id, "lines": lines, "message": self.message}


@dataclass(slots=True)
class Transaction:
    """One ref_id, compactly: where its replies are, its outcome, and the reply that decides it.

    >>> places = ("buys.log:1", "buys.log:2")
    >>> Transaction("7", places, "failed", "buys.log:2", "FAILED", "DN1", "2024-12-01", 0).outcome
    'failed'
    """

    ref_id: str
    replies: tuple[str, ...]  # every path:line, in timestamp order (then as read)
    outcome: str
    deciding: str  # path:line of the last final reply, or of the last reply
    status: str  # the deciding reply's status word
    product: str
    day: str  # the deciding reply's date, ISO
    deducted: int  # every distinct charge seen (0 without one)
    destination: str | None = None  # the deciding reply's, else the last one a reply named
    first: datetime | None = None  # the first reply's timestamp
    last: datetime | None = None  # the last reply's timestamp
    trxid: str | None = None  # the deciding reply's TRXID (None for `-`)
    serial: str | None = None  # the deciding reply's SN
    anomalies: tuple[str, ...] = ()  # the kinds found in its replies, once each, in ANOMALY_KINDS order

    def to_record(self) -> dict[str, Any]:
        """One typed row of `irs-grammar reconcile --format jsonl|parquet` (records.TRANSACTION_SCHEMA)."""
        deciding_path, deciding_line = _where(self.deciding)
        return {
            "ref_id": self.ref_id,
            "outcome": self.outcome,
            "final": self.outcome in (SUCCEEDED, FAILED),
            "product": self.product,
            "destination": self.destination,
            "status": self.status,
            "trxid": self.trxid,
            "serial": self.serial,
            "deducted": self.deducted,
            "first_time": self.first,
            "last_time": self.last,
            "day": self.day,
            "replies": len(self.replies),
            "anomalies": list(self.anomalies),
            "deciding_path": deciding_path,
            "deciding_line": deciding_line,
        }


@dataclass(slots=True)
class _Lifecycle:
    """Every reply of one ref_id, while it is judged (one ref_id at a time)."""

    ref_id: str
    replies: list[Seen]
    outcome: str
    deciding: Seen

    def compact(self, anomalies: Iterable[str] = ()) -> Transaction:
        d = self.deciding
        places = tuple(r.place for r in self.replies)
        named = [r.destination for r in self.replies if r.destination is not None]
        return Transaction(
            self.ref_id,
            places,
            self.outcome,
            d.place,
            d.status,
            d.product,
            d.when.date().isoformat(),
            deducted(self.replies),
            d.destination if d.destination is not None else (named[-1] if named else None),
            self.replies[0].when,
            self.replies[-1].when,
            None if d.trxid == "-" else d.trxid,
            d.serial,
            _kinds(anomalies),
        )


def _kinds(found: Iterable[str]) -> tuple[str, ...]:
    """Anomaly kinds once each, in ANOMALY_KINDS order."""
    seen = set(found)
    return tuple(kind for kind in ANOMALY_KINDS if kind in seen)


def deducted(replies: Iterable[Seen]) -> int:
    """Every distinct charge among a ref_id's replies: a deduction above 0, once per (TRXID, amounts)."""
    charges = {(r.trxid, *r.balance) for r in replies if r.balance is not None and r.balance[1] > 0}
    return sum(deduction for _, _, deduction, _ in charges)


# Between the places of one transaction: no path holds a NUL.
_PLACES_SEPARATOR = "\0"


class TransactionTable(Mapping[str, Transaction]):
    """The transactions of a reconciliation by ref_id, kept in a temporary SQLite file, not in memory.

    Read it as a dict (`[ref_id]`, `get`, `in`, `len`, iteration in ref_id
    order). A million transactions cost the disk about their text, not the
    memory. The file is removed with the object (or at `close()`).

    reconcile() appends its transactions to a tape (spill.Tape: written as
    they come, 30 times as fast as SQLite's inserts) and counts the totals
    as it goes; the SQLite table is built from the tape the first time a
    transaction is looked up or listed. A report of totals never builds it.

    `kept=False` (reconcile(keep_transactions=False)): the rows appended
    are counted into the totals, never written; `len()` and the totals read
    as ever, looking a transaction up raises LookupError.

    >>> table = TransactionTable()
    >>> places = ("buys.log:1",)
    >>> table.add([Transaction("7", places, "pending", "buys.log:1", "INPROGRESS", "DN1", "2024-12-01", 0)])
    >>> table["7"].outcome, len(table), "8" in table
    ('pending', 1, False)
    """

    def __init__(self, scratch: Scratch | None = None, *, kept: bool = True) -> None:
        self.scratch = scratch if scratch is not None else Scratch()  # made when the table is built
        self.kept = kept  # False: the transactions are counted into the totals, not kept
        self.scratch.table(
            "CREATE TABLE t (ref_id TEXT PRIMARY KEY, places TEXT, outcome TEXT, deciding TEXT, "
            "status TEXT, product TEXT, day TEXT, deducted INTEGER, destination TEXT, first TEXT, "
            "last TEXT, trxid TEXT, serial TEXT, anomalies TEXT) WITHOUT ROWID"
        )
        self._tape = Tape()  # rows appended, not in the table yet
        self._notes = Tape()  # (ref_id, kind) of anomalies noted while they were on the tape
        # Transactions and deductions by (product, day, outcome) of the rows appended; None once add()
        # may have replaced one (the totals are SQL over the table then).
        self._totals: Totals | None = {}

    @property
    def path(self) -> str | None:
        """The temporary file, while there is one."""
        return self.scratch.path

    @property
    def _db(self) -> sqlite3.Connection | None:
        """The table, built from the tape first if rows wait there (None: nothing was ever added)."""
        self._must_be_kept()
        self._build()
        return self.scratch.connection() if self.scratch.opened else None

    def _build(self) -> None:
        """The rows waiting on the tape into the table, then the anomalies noted meanwhile."""
        tape, notes = self._tape, self._notes
        if tape.written:
            self._tape, self._notes = Tape(), Tape()
            self._insert(tape.read())
            self._noted(notes.read())

    def close(self) -> None:
        """Remove the file now (the table, and what else the file held, is empty afterwards)."""
        self._tape.close()
        self._notes.close()
        self._totals = {}
        self.scratch.close()

    def add(self, transactions: Iterable[Transaction]) -> None:
        self.add_rows(map(_row, transactions))

    def add_rows(self, rows: Iterable[TableRow]) -> None:
        """Transactions as rows of the table (_row()): one of a ref_id in the table replaces it."""
        self._must_be_kept()  # a row replaced cannot be taken out of counted totals
        self._build()  # the rows on the tape first, so that these replace them
        self._totals = None
        self._insert(rows)

    def append(self, rows: list[TableRow]) -> None:
        """Transactions of ref_ids not added yet (_row(), or judge()'s own for a plain history), as
        judge() has them: to the tape (when kept), counted into the totals."""
        if self.kept:
            self._tape.append(rows)
        if self._totals is not None:  # else SQL counts them, once they are in the table
            count_totals(rows, self._totals)

    def append_written(self, written: Written) -> None:
        """append() of rows a worker process wrote and counted (judge_part())."""
        chunk, totals = written
        if self.kept:
            self._tape.append_raw(chunk)
        if self._totals is not None:
            for key, (transactions, deducted) in totals.items():
                counted = self._totals.setdefault(key, [0, 0])
                counted[0] += transactions
                counted[1] += deducted

    def _insert(self, rows: Iterable[TableRow]) -> None:
        db = self.scratch.connection()
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")

    def note(self, found: Iterable[Anomaly]) -> None:
        """Anomalies found after their transactions were added (balance gaps, over the whole account)."""
        if not self.kept:
            return  # the anomalies are listed; no transaction row is kept to note them on
        noted = [(anomaly.ref_id, anomaly.kind) for anomaly in found]
        if self._tape.written:
            self._notes.append(noted)  # applied when the table is built
        else:
            self._noted(noted)

    def _noted(self, noted: Iterable[tuple[str, str]]) -> None:
        for ref_id, kind in noted:
            transaction = self.get(ref_id)
            if transaction is not None and kind not in transaction.anomalies:
                kinds = _kinds((*transaction.anomalies, kind))
                self.scratch.connection().execute(
                    "UPDATE t SET anomalies = ? WHERE ref_id = ?", (",".join(kinds), ref_id)
                )

    def __getitem__(self, ref_id: str) -> Transaction:
        row = None
        if self._db is not None and isinstance(ref_id, str):
            row = self._db.execute("SELECT * FROM t WHERE ref_id = ?", (ref_id,)).fetchone()
        if row is None:
            raise KeyError(ref_id)
        return _transaction(row)

    def __iter__(self) -> Iterator[str]:
        if self._db is not None:
            for (ref_id,) in self._db.execute("SELECT ref_id FROM t ORDER BY ref_id"):
                yield ref_id

    def __len__(self) -> int:
        if self._totals is not None:
            return sum(transactions for transactions, _ in self._totals.values())
        return int(self._sql("SELECT count(*) FROM t")[0][0])

    def rows(self) -> Iterator[Transaction]:
        """Every transaction in ref_id order, streamed (values() would look each one up)."""
        if self._db is not None:
            for row in self._db.execute("SELECT * FROM t ORDER BY ref_id"):
                yield _transaction(row)

    def outcomes(self) -> dict[str, int]:
        counts = {row["outcome"]: row["transactions"] for row in self.crossed(("outcome",))}
        return {"total": sum(counts.values()), **{outcome: counts.get(outcome, 0) for outcome in OUTCOMES}}

    def deducted(self) -> int:
        if self._totals is not None:
            return sum(deducted for _, deducted in self._totals.values())
        return int(self._sql("SELECT sum(deducted) FROM t")[0][0] or 0)  # sum() of no row is null

    def totals_by(self, column: str) -> dict[str, dict[str, int]]:
        """Transactions and deductions by `product` or `day`, sorted by it."""
        return {
            row[column]: {"transactions": row["transactions"], "deducted": row["deducted"]}
            for row in self.crossed((column,))
        }

    def crossed(self, columns: Sequence[str]) -> list[dict[str, Any]]:
        """Transactions and deductions for each combination of `columns` (of GROUPS), sorted by them."""
        unknown = [column for column in columns if column not in GROUPS]
        if unknown or not columns:
            raise ValueError(f"totals go by {', '.join(GROUPS)}, not {', '.join(unknown) or 'nothing'}")
        if self._totals is not None:
            return _crossed(self._totals, columns)
        names = ", ".join(columns)  # only names from GROUPS reach the SQL
        rows = self._sql(f"SELECT {names}, count(*), sum(deducted) FROM t GROUP BY {names} ORDER BY {names}")
        return [
            {**dict(zip(columns, row, strict=False)), "transactions": row[-2], "deducted": row[-1]}
            for row in rows
        ]

    def _must_be_kept(self) -> None:
        if not self.kept:
            raise LookupError(
                "the transactions were counted, not kept (reconcile(..., keep_transactions=False)): "
                "only their totals can be read"
            )

    def _sql(self, sql: str) -> list[Any]:
        """SQL over the table: for the totals once add() may have replaced a row (the table is made
        then), rather than the counted totals."""
        self._build()
        return self.scratch.connection().execute(sql).fetchall()

    def __repr__(self) -> str:
        counted = "" if self.kept else ", counted, not kept"
        return f"<TransactionTable of {len(self)} transactions{counted}>"


# What totals can be crossed by (`reconcile --by product,day`): columns of the transaction table.
GROUPS = ("product", "day", "outcome")

# Transactions and deductions by (product, day, outcome).
Totals = dict[tuple[str, str, str], list[int]]
# Rows of the transaction table as a worker wrote them (a tape's chunk), and their totals.
Written = tuple[bytes, Totals]


def count_totals(rows: Iterable[TableRow], totals: Totals) -> None:
    """Rows of the transaction table counted into `totals`."""
    for row in rows:
        counted = totals.get(key := (row[5], row[6], row[2]))  # product, day, outcome
        if counted is None:
            totals[key] = [1, row[7]]
        else:
            counted[0] += 1
            counted[1] += row[7]


def _crossed(totals: Totals, columns: Sequence[str]) -> list[dict[str, Any]]:
    """TransactionTable.crossed() from the totals counted by (product, day, outcome), as its SQL
    gives them: one row per combination of `columns`, sorted by them."""
    places = [GROUPS.index(column) for column in columns]
    crossed: dict[tuple[str, ...], list[int]] = {}
    for key, (transactions, deducted) in totals.items():
        counted = crossed.setdefault(tuple(key[place] for place in places), [0, 0])
        counted[0] += transactions
        counted[1] += deducted
    return [
        {**dict(zip(columns, values, strict=True)), "transactions": n, "deducted": deducted}
        for values, (n, deducted) in sorted(crossed.items())
    ]


# A row of the transaction table, in its columns' order.
TableRow = tuple[Any, ...]


def _row(t: Transaction) -> TableRow:
    places = _PLACES_SEPARATOR.join(t.replies)
    first, last = (None if w is None else w.isoformat() for w in (t.first, t.last))
    anomalies = ",".join(t.anomalies)
    return (
        t.ref_id,
        places,
        t.outcome,
        t.deciding,
        t.status,
        t.product,
        t.day,
        t.deducted,
        t.destination,
        first,
        last,
        t.trxid,
        t.serial,
        anomalies,
    )


def _transaction(row: tuple[Any, ...]) -> Transaction:
    ref_id, places, outcome, deciding, status, product, day, deducted, destination = row[:9]
    first, last, trxid, serial, kinds = row[9:]
    return Transaction(
        ref_id,
        tuple(places.split(_PLACES_SEPARATOR)),
        outcome,
        deciding,
        status,
        product,
        day,
        deducted,
        destination,
        None if first is None else datetime.fromisoformat(first),
        None if last is None else datetime.fromisoformat(last),
        trxid,
        serial,
        tuple(kinds.split(",")) if kinds else (),
    )


@dataclass(slots=True, eq=False)
class Reconciliation:
    """What reconcile() found: the transactions by ref_id, the anomalies, the totals.

    >>> Reconciliation().to_dict()["transactions"]
    {'total': 0, 'succeeded': 0, 'failed': 0, 'conflicting': 0, 'pending': 0, 'unknown': 0}
    """

    # A Mapping read like a dict, kept on disk (TransactionTable): per ref_id its replies and outcome.
    transactions: TransactionTable = field(default_factory=TransactionTable)
    # Lists kept on disk, dropped with the transactions' file: the anomalies in the order of their
    # last line (SpilledSortedList), the invalid lines (path, line, column, message) as read
    # (SpilledList, in that file). A million of either costs no memory.
    anomalies: SpilledSortedList[Anomaly] = field(init=False)
    invalid_lines: SpilledList[tuple[str, int, int, str]] = field(init=False)
    inquiries: int = 0
    replies: int = 0  # transaction replies read by this run (its logs; not an earlier run's state)
    last_moment: datetime | None = None  # the latest timestamp of any reply read, inquiries too
    notes: list[str] = field(default_factory=list)  # e.g. a file given twice, read once

    def __post_init__(self) -> None:
        scratch = self.transactions.scratch
        self.anomalies = SpilledSortedList(_anomaly_row, _anomaly, "irs-anomalies-")
        scratch.also_closes(self.anomalies.close)
        self.invalid_lines = SpilledList(scratch, "invalid", ("path", "line", "col", "message"), tuple, tuple)

    def outcomes(self) -> dict[str, int]:
        return self.transactions.outcomes()

    def deducted(self) -> int:
        return self.transactions.deducted()

    def by_product(self) -> dict[str, dict[str, int]]:
        return self.transactions.totals_by("product")

    def by_day(self) -> dict[str, dict[str, int]]:
        return self.transactions.totals_by("day")

    def to_dict(self, *, streamed: bool = False) -> dict[str, Any]:
        """The JSON report (documented in docs/format.md).

        With `streamed`, the two lists that can be long (anomalies, invalid
        lines) are iterators read from the disk as they are written out.
        """
        anomalies = (a.to_dict() for a in self.anomalies)
        invalid = ({"path": p, "line": n, "column": c, "message": m} for p, n, c, m in self.invalid_lines)
        return {
            "transactions": self.outcomes(),
            "anomalies": anomalies if streamed else list(anomalies),
            "deducted": self.deducted(),
            "by_product": self.by_product(),
            "by_day": self.by_day(),
            "invalid_lines": invalid if streamed else list(invalid),
            "inquiries": self.inquiries,
        }


# An anomaly as a row: its place in the report's order (the last line involved, path then line, then
# its kind's rank, then its first line), then what it is: (last_path, last_line, rank, first_path,
# first_line, kind, ref_id, places, message). Places are joined by NUL, which no path holds. Rows are
# sorted whole: two anomalies at the same lines of the same kind go by ref_id, then places, message.
def _anomaly_row(anomaly: Anomaly) -> tuple[Any, ...]:
    (last_path, last_line), rank, (first_path, first_line) = _order(anomaly)
    places = _PLACES_SEPARATOR.join(anomaly.lines)
    return (
        last_path,
        last_line,
        rank,
        first_path,
        first_line,
        anomaly.kind,
        anomaly.ref_id,
        places,
        anomaly.message,
    )


def _anomaly(row: tuple[Any, ...]) -> Anomaly:
    kind, ref_id, places, message = row[5:]
    return Anomaly(kind, ref_id, tuple(places.split(_PLACES_SEPARATOR)), message)


# Lines read a batch at a time: a row of the store weighs about 600 bytes, ten times its line, so
# reconcile's batches are a tenth of validate's (20,000 lines made 30 MB more at the peak). Read
# by workers for a Spool, a batch comes back as chunks of about a sixth of its text: as validate's.
BATCH_LINES = 2_000
SPREAD_BATCH_LINES = 20_000


class ReadBatch(NamedTuple):
    """What read_batch() found in a batch of lines: the transaction replies as rows of the store,
    each invalid line as (line, column, message), the inquiry replies counted, the latest timestamp;
    read with `spreading`, the rows spread by ref_id instead (`rows` empty), and their links of the
    balance chain as a sorted run (spool.links_of(), spill.run_of())."""

    rows: list[Row]
    invalid: list[tuple[int, int, str]]
    inquiries: int
    last_moment: datetime | None
    spread: Spread = ()
    links: Sequence[bytes] = ()

    @property
    def replies(self) -> int:
        """The transaction replies read, as rows or spread."""
        return len(self.rows) + sum(count for _, _, count in self.spread)


def read_batch(
    raw_lines: Sequence[bytes | Overlong],
    first: int,
    label: str,
    tz: tzinfo | None,
    extract: bool,
    max_line_length: int,
    by_text: bool,
    spreading: bool = False,
) -> ReadBatch:
    """The replies of consecutive raw lines (the first is line `first` of `label`); runs in worker
    processes too (irs_grammar.batches), so each row leaves it ready for the store: a row kept
    (KEPT_COLUMNS) for a Spool, or with its line's key (`by_text`) for a State; `spreading`, the
    rows spread by ref_id as the chunks a Spool writes (a few bytes to send back from a worker;
    the main process never loads them)."""
    rows: list[Row] = []
    invalid: list[tuple[int, int, str]] = []
    inquiries = 0
    last: datetime | None = None
    # Without a zone, the common lines are read from their match alone, as validate counts them: the
    # row's moment is the text datetime.isoformat() gives (the seconds alone when the fraction is 0).
    # tests/test_reconcile.py holds the rows to those of the replies read the slow way.
    fast = tz is None
    match_answer, _ = role_matchers()
    match_buy = common_transaction_re().match
    latest = ""  # the latest ISO moment of the lines read fast
    for number, raw in enumerate(raw_lines, first):
        if fast and type(raw) is bytes:
            try:
                text = raw.decode()
            except UnicodeDecodeError:
                text = ""
            if (m := match_buy(text)) is not None:
                (
                    ref,
                    product,
                    destination,
                    status,
                    _,
                    serial,
                    _,
                    _,
                    trxid,
                    before,
                    deduction,
                    after,
                    t,
                    d,
                    refid,
                ) = m.groups()
                if iso := iso_moment(t, d):  # else not a real moment: the slow path says which part
                    if iso > latest:
                        latest = iso
                    when = iso[:-7] if iso.endswith(".000000") else iso
                    if before is not None:
                        # The match took each amount by the AMOUNT terminal: its digits are the number.
                        before = int(before.replace(".", ""))
                        deduction = int(deduction.replace(".", ""))
                        after = int(after.replace(".", ""))
                    kept = (
                        label,
                        number,
                        when,
                        ref,
                        product,
                        status,
                        trxid,
                        serial,
                        before,
                        deduction,
                        after,
                        refid,
                        destination,
                    )
                    rows.append(keyed(kept, line_key(text)) if by_text else kept)
                    continue
            elif (m := match_answer(text)) is not None:
                inquiries += 1
                if (iso := iso_moment(m["time"], m["date"])) > latest:
                    latest = iso
                continue
        line_or_error = line_text(number, raw, max_line_length)
        line = (
            LineResult(number, error=line_or_error)
            if isinstance(line_or_error, ParseError)
            else check_line(number, line_or_error, extract=extract, tz=tz)
        )
        reply = line.reply
        if line.error is not None:
            invalid.append((number, line.error.column, line.error.message))
            continue
        if reply is None:
            continue  # a blank line
        if last is None or reply.timestamp > last:
            last = reply.timestamp
        if (kind := kind_of_reply(reply)) is not None and kind.role == "transaction":
            # A step of a buy (its kind's role says so), kept with the key of the line it was read from.
            seen = Seen.of(cast(TransactionResponse, reply), label, number)
            rows.append(seen.row(line_key(cast(str, line_or_error))) if by_text else seen.kept())
        else:
            inquiries += 1
    if latest and (last is None or datetime.fromisoformat(latest) > last):
        last = datetime.fromisoformat(latest)
    if spreading:
        return ReadBatch([], invalid, inquiries, last, spread(rows, REF_ID_COLUMN), run_of(links_of(rows)))
    return ReadBatch(rows, invalid, inquiries, last)


def read_replies(
    sources: Iterable[str | os.PathLike[str]],
    tz: tzinfo | None,
    result: Reconciliation,
    *,
    by_text: bool,
    reading: Reading,
    spreading: bool = False,
) -> Iterator[ReadBatch]:
    """The sources' transaction replies, a batch at a time, as rows of the store (`by_text`: keyed
    for a State) or spread by ref_id for a Spool (`spreading`); counts the rest into `result`."""
    read: dict[tuple[int, int], str] = {}  # (device, inode) of each regular file read -> its name
    for source in sources:
        path = os.fspath(source)
        same = _same_file(path, read)
        if same is not None:
            result.notes.append(f"{_shown(path)}: the same file as {_shown(same)}; read once")
            continue
        label = _shown(path)  # a name that is not UTF-8 is kept (and stored) with its bytes escaped
        done = None if reading.done is None else partial(reading.done, path)
        for batch in in_order(
            path,
            read_batch,
            (label, tz, reading.extract, reading.max_line_length, by_text, spreading),
            jobs=reading.jobs,
            max_line_length=reading.max_line_length,
            done=done,
            batch_lines=SPREAD_BATCH_LINES if spreading else BATCH_LINES,
        ):
            result.invalid_lines.extend((label, n, column, message) for n, column, message in batch.invalid)
            result.inquiries += batch.inquiries
            result.replies += batch.replies
            if batch.last_moment is not None and (
                result.last_moment is None or batch.last_moment > result.last_moment
            ):
                result.last_moment = batch.last_moment
            yield batch


class Reading(NamedTuple):
    """How reconcile() reads its logs, as `validate` and `parse` read theirs.

    `extract`: a reply starts at the first `R#` of its line (a log prefix
    before it is ignored); `jobs`: processes (irs_grammar.batches; this one
    for a small file); `max_line_length`: a longer line is an invalid line;
    `done(path, lines, bytes)`: told after each batch (for progress).
    """

    extract: bool = False
    jobs: int = 1
    max_line_length: int = MAX_LINE_BYTES
    done: Callable[[str, int, int], object] | None = None


# The default: whole lines, in this process.
WHOLE_LINES = Reading()


def _same_file(path: str, read: dict[tuple[int, int], str]) -> str | None:
    """The name under which this file (a regular one: not a pipe, not a terminal) was read already."""
    try:
        info = os.stat(path) if path != STDIN else os.fstat(sys.stdin.fileno())
    except (OSError, ValueError):
        return None  # cannot be looked at: reading it will say why
    if not stat.S_ISREG(info.st_mode):
        return None
    key = (info.st_dev, info.st_ino)
    if key in read:
        return read[key]
    read[key] = path
    return None


def _shown(path: str) -> str:
    """A path as text that can be printed and stored: bytes that are not UTF-8 as `\\xff` escapes."""
    if path == STDIN:
        return "standard input"
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def reconcile(
    sources: Iterable[str | os.PathLike[str]],
    *,
    state: str | os.PathLike[str] | None = None,
    pending_after: timedelta = timedelta(hours=1),
    tz: tzinfo | None = None,
    reading: Reading = WHOLE_LINES,
    keep_transactions: bool = True,
) -> Reconciliation:
    """Reconcile buy logs (paths, `.gz` too, `-` for standard input); see the module's docstring.

    `reading` says how the logs are read (Reading: --extract, --jobs,
    --max-line-length, progress); by default in this process, whole lines.
    `keep_transactions=False`: the transactions are counted into the totals,
    not kept (result.transactions gives its len() and totals, and raises
    LookupError when one is looked up); the anomalies and totals are the same.

    >>> import irs_grammar as irs
    >>> import tempfile, os
    >>> log = os.path.join(tempfile.mkdtemp(), "buys.log")
    >>> with open(log, "w") as f:
    ...     _ = f.write("R#7 DN1. 0811 INPROGRESS. TRXID: 9. @10:00:00.000000 01/12/2024\\n"
    ...                 "R#7 DN1. 0811 FAILED. REASON: x. TRXID: 9. SISA SALDO: 10.000 - 1.000 = 9.000 "
    ...                 "@10:05:00.000000 01/12/2024&refid=7\\n")
    >>> result = irs.reconcile([log])
    >>> result.transactions["7"].outcome, [a.kind for a in result.anomalies]
    ('failed', ['failed_with_deduction'])
    """
    result = Reconciliation(TransactionTable(kept=keep_transactions))
    # Without a state, the replies go to a Spool (anonymous files, a part of them in memory at a
    # time); the summaries go to a temporary SQLite file (TransactionTable).
    where = os.fspath(state) if state is not None else f"a temporary file in {tempfile.gettempdir()}"
    try:
        if state is None:
            spool = Spool()
            try:
                # With workers, they spread the rows: this process writes them, never loading them.
                spreading = reading.jobs > 1
                batches = read_replies(
                    sources, tz, result, by_text=False, reading=reading, spreading=spreading
                )
                for batch in batches:
                    if spreading:
                        spool.add_spread(batch.spread, batch.links)
                    else:
                        spool.add(batch.rows)
                return judge(spool, result, pending_after, tz, reading.jobs)
            finally:
                spool.close()
        with State(os.fspath(state)) as store:
            for batch in read_replies(sources, tz, result, by_text=True, reading=reading):
                store.add(batch.rows)
            return judge(store, result, pending_after, tz, reading.jobs)
    except LogReadError:
        result.transactions.close()
        raise
    except (sqlite3.Error, OSError) as error:  # a full disk, an I/O error: the run is rolled back,
        result.transactions.close()  # its files gone
        raise StateError(f"{where}: {getattr(error, 'strerror', None) or error}") from None
    except BaseException:
        result.transactions.close()
        raise


_BATCH = 1_000  # transactions held before they go to the table on disk


def judge(
    store: State | Spool,
    result: Reconciliation,
    pending_after: timedelta,
    tz: tzinfo | None,
    jobs: int,
) -> Reconciliation:
    """Outcomes and anomalies of every reply kept (the logs', and an earlier run's); a spool's
    parts on `jobs` processes when it went to disk (a State's always in this process)."""
    # A spool holds this run's replies only, whose latest moment is the reader's.
    kept = store.last_moment(tz) if isinstance(store, State) else None
    last_moment = max([m for m in (kept, result.last_moment) if m is not None], default=None)
    anomalies = result.anomalies  # on disk, read back in the report's order
    whole = result.transactions.kept  # else the rows need only the columns the totals count
    if isinstance(store, Spool) and store.spread and jobs > 1:
        tasks = _tasks(store.raw_parts())
        judged = each_in_workers(judge_parts, tasks, (tz, last_moment, pending_after, whole), jobs)
        for written, anomaly_rows, repeats in judged:
            for rows_written in written:
                result.transactions.append_written(rows_written)
            anomalies.extend_rows(anomaly_rows)
            store.repeat_run(repeats)
    else:
        for table, found in _judged(store.rows_by_ref(), tz, last_moment, pending_after, whole):
            result.transactions.append(table)  # to the table on disk, a batch at a time
            anomalies.extend_rows(found)
    gaps: list[Anomaly] = []  # a batch at a time, as the transactions: a million gaps cost no memory
    for gap in _balance_gaps(store.balance_rows()):
        gaps.append(gap)
        if len(gaps) == _BATCH:
            anomalies.extend(gaps)
            result.transactions.note(gaps)
            gaps.clear()
    anomalies.extend(gaps)
    result.transactions.note(gaps)
    return result


# Parts given to a worker at a time: a task costs the pool about half a millisecond, a part as
# little as a few (of 256); a task's parts weigh at most _TASK_BYTES (their rows come back about
# as heavy), and 2 * jobs tasks are in flight: memory stays flat.
_PARTS_A_TASK = 8
_TASK_BYTES = 1 << 20


def _tasks(parts: Iterable[list[bytes]]) -> Iterator[list[list[bytes]]]:
    task: list[list[bytes]] = []
    size = 0
    for part in parts:
        task.append(part)
        size += sum(map(len, part))
        if len(task) == _PARTS_A_TASK or size >= _TASK_BYTES:
            yield task
            task, size = [], 0
    if task:
        yield task


# What a worker hands back for a task: each part's transaction rows written and counted, the
# anomalies as rows of the anomalies' list, the repeated snapshots the balance chain leaves out as
# one sorted run.
Judged = tuple[list[Written], list[tuple[Any, ...]], list[bytes]]


def judge_parts(
    parts: list[list[bytes]],
    tz: tzinfo | None,
    last_moment: datetime | None,
    pending_after: timedelta,
    whole: bool,
) -> Judged:
    """judge_part() of each part, in one worker task; the parts' repeated snapshots as one run (the
    main process merges one run a task, not one a part)."""
    written: list[Written] = []
    anomalies: list[tuple[Any, ...]] = []
    repeats: list[Chained] = []
    for part in parts:
        table, found, repeated = judge_part(part, tz, last_moment, pending_after, whole)
        written.append(table)
        anomalies += found
        repeats += repeated
    return written, anomalies, run_of(repeats)


def judge_part(
    chunks: list[bytes],
    tz: tzinfo | None,
    last_moment: datetime | None,
    pending_after: timedelta,
    whole: bool,
) -> tuple[Written, list[tuple[Any, ...]], list[Chained]]:
    """One part of a spool (Spool.raw_parts()) judged, in a worker process, and handed back as the
    main process keeps it: its transactions' rows written (`whole`; else nothing) and counted,
    their anomalies as rows of the anomalies' list, its repeated snapshots
    (spool.repeated_snapshots(): to go back as a run, spill.run_of())."""
    part = rows_of(chunks)
    table: list[TableRow] = []
    anomalies: list[tuple[Any, ...]] = []
    for rows, found in _judged(by_ref(part), tz, last_moment, pending_after, whole):
        table += rows
        anomalies += found
    totals: Totals = {}
    count_totals(table, totals)
    return (dumps(table) if whole else b"", totals), anomalies, repeated_snapshots(part)


def _judged(
    histories: Iterable[tuple[str, list[Kept]]],
    tz: tzinfo | None,
    last_moment: datetime | None,
    pending_after: timedelta,
    whole: bool,
) -> Iterator[tuple[list[TableRow], list[tuple[Any, ...]]]]:
    """Each ref_id's row of the transaction table (`whole`; else a plain history's row holds the
    columns the totals count and no more: _plain()) and its anomalies (as rows of the anomalies'
    list: _anomaly_row()), _BATCH ref_ids at a time."""
    table: list[TableRow] = []
    anomalies: list[tuple[Any, ...]] = []
    for ref_id, kept in histories:
        plain = _plain(ref_id, kept, tz, whole)
        if plain is not None:  # a plain history: its anomalies are found, but its age's
            row, deciding, found_rows = plain
            if found_rows:
                anomalies += found_rows
            if row[2] in _OPEN and last_moment is not None:  # the first moment is built only then
                opened = moment_of(kept[0][2], tz)
                stuck = _stuck(row[2], opened, deciding[5], row[3], last_moment, pending_after)
                if stuck is not None:  # its row made here: a million stuck make no Anomaly
                    path, line = kept[0][0], kept[0][1]  # _anomaly_row_at(), as fast as a million want
                    anomalies.append(
                        (path, line, _STUCK_RANK, path, line, _STUCK, ref_id, f"{path}:{line}", stuck)
                    )
                    if whole:
                        row = (*row[:-1], _STUCK)
        else:
            lifecycle = _lifecycle(ref_id, [seen(row, tz) for row in kept])
            found = _anomalies_of(lifecycle)
            first, d = lifecycle.replies[0], lifecycle.deciding
            stuck = _stuck(lifecycle.outcome, first.when, d.status, d.place, last_moment, pending_after)
            if stuck is not None:
                found.append(Anomaly(_STUCK, ref_id, (first.place,), stuck))
            anomalies += map(_anomaly_row, found)
            row = _row(lifecycle.compact(a.kind for a in found))
        table.append(row)
        if len(table) == _BATCH:  # memory stays flat
            yield table, anomalies
            table, anomalies = [], []
    yield table, anomalies


def _plain(
    ref_id: str, kept: list[Kept], tz: tzinfo | None, whole: bool
) -> tuple[TableRow, Kept, Sequence[tuple[Any, ...]]] | None:
    """The transaction table's row, the deciding reply and the anomalies (as rows of the anomalies'
    list) of a ref_id whose replies can make no anomaly but changed_after_final (final replies of
    one status, no FAILED charge, one TRXID charged, every refid its own, every balance adding
    up), read from the rows kept; None for any other history, which _anomalies_of judges.
    Not `whole` (the transactions are not kept), the row is its columns up to `deducted`, `places`
    left empty: what count_totals() reads, and the deciding place the stuck check names.

    A shortcut past building a Seen and a datetime for each reply: test_reconcile.py holds its rows
    to those of the full judgement on every history drawn."""
    first_final = final = None
    changed: list[tuple[Any, ...]] | None = None  # changed_after_final, rows of the anomalies' list
    charged = None  # the one TRXID charged
    charges: set[tuple[int, int]] | None = None  # the snapshots charged, (before, deduction)
    deducted = 0
    for row in kept:  # by index: unpacking 13 columns a reply cost a fifth of the judging
        status = row[5]
        if status in FINAL_STATUSES:
            if first_final is None:
                first_final = row
            elif status != first_final[5]:
                return None  # conflicting_outcome
            elif row[6:11] != first_final[6:11]:  # a re-check that is not the first final's again
                changed = [*(changed or ()), _changed_after_final(ref_id, first_final, row)]
            final = row
        before = row[8]
        if before is not None:
            deduction = row[9]
            if before - deduction != row[10]:
                return None
            if deduction > 0:
                if status == "FAILED" or (charged is not None and charged != row[6]):
                    return None
                charged = row[6]
                if charges is None:  # most histories charge once: no empty set made for the rest
                    charges = {(before, deduction)}
                    deducted += deduction
                elif (before, deduction) not in charges:  # a re-check repeats its snapshot
                    charges.add((before, deduction))
                    deducted += deduction
        refid = row[11]
        if refid is not None and refid != ref_id:
            return None
    if final is not None:
        deciding, outcome = final, SUCCEEDED if final[5] == "SUCCESS" else FAILED
    else:
        deciding = kept[-1]
        outcome = PENDING if deciding[5] == _INPROGRESS else UNKNOWN
    deciding_place, day = f"{deciding[0]}:{deciding[1]}", deciding[2][:10]  # the day: wall-clock, any zone
    if not whole:
        return (
            (ref_id, "", outcome, deciding_place, deciding[5], deciding[4], day, deducted),
            deciding,
            changed or (),
        )
    destination = deciding[12]
    if destination is None:
        destination = next((row[12] for row in reversed(kept) if row[12] is not None), None)
    first, last = kept[0], kept[-1]
    if len(kept) == 2:  # the usual history (a buy and its final reply): a list and a join the less
        places = f"{first[0]}:{first[1]}{_PLACES_SEPARATOR}{last[0]}:{last[1]}"
    else:
        places = _PLACES_SEPARATOR.join([f"{row[0]}:{row[1]}" for row in kept])
    table_row = (
        ref_id,
        places,
        outcome,
        deciding_place,
        deciding[5],
        deciding[4],
        day,
        deducted,
        destination,
        _iso_in(first[2], tz),
        _iso_in(last[2], tz),
        None if deciding[6] == "-" else deciding[6],
        deciding[7],
        "" if changed is None else "changed_after_final",
    )
    return table_row, deciding, changed or ()


def _changed_after_final(ref_id: str, first: Kept, later: Kept) -> tuple[Any, ...]:
    """changed_after_final of a later final reply (a row kept) that differs from the first one in
    SN, TRXID or amounts, as _anomalies_of() words it, as a row of the anomalies' list."""
    names = [
        name
        for name, a, b in (
            ("SN", first[7], later[7]),
            ("TRXID", first[6], later[6]),
            ("amounts", first[8:11], later[8:11]),
        )
        if a != b
    ]
    message = f"{later[5]} again with another {' and '.join(names)}"
    return _anomaly_row_at(
        "changed_after_final", ref_id, [(first[0], first[1]), (later[0], later[1])], message
    )


def _anomaly_row_at(kind: str, ref_id: str, at: list[tuple[str, int]], message: str) -> tuple[Any, ...]:
    """_anomaly_row() of an anomaly at these (path, line), made without the Anomaly."""
    places = _PLACES_SEPARATOR.join([f"{path}:{line}" for path, line in at])
    return (*max(at), _RANKS[kind], *at[0], kind, ref_id, places, message)


_OPEN = (PENDING, UNKNOWN)  # the outcomes that are not final
# The member itself, looked up once: reading an enum class's attribute costs 80 ns a time.
_INPROGRESS = TransactionStatus.INPROGRESS


def _iso_in(moment: str, tz: tzinfo | None) -> str:
    """moment_of(moment, tz).isoformat(): the text itself when it is naive as the run is and written
    as isoformat() writes it (a fraction of 0 left out), without building the datetime."""
    if tz is None and (
        len(moment) == 19 or (len(moment) == 26 and moment[19] == "." and moment[20:] != "000000")
    ):
        return moment
    return moment_of(moment, tz).isoformat()


_STUCK = "stuck_pending"
_STUCK_RANK = ANOMALY_KINDS.index(_STUCK)


def _stuck(
    outcome: str,
    first: datetime,
    last_status: str,
    last_place: str,
    last_moment: datetime | None,
    pending_after: timedelta,
) -> str | None:
    """stuck_pending's message when a transaction is not final and its first reply (at `first`) is
    older than `pending_after` at the last moment read; None when it is not stuck."""
    if outcome not in _OPEN or last_moment is None:
        return None
    age = last_moment - first
    if age <= pending_after:
        return None
    return f"{outcome} for {_duration(age)} (last reply {last_status} at {last_place}); check it again"


def _where(place: str) -> tuple[str, int]:
    path, _, line = place.rpartition(":")
    return path, int(line)


def _order(anomaly: Anomaly) -> tuple[tuple[str, int], int, tuple[str, int]]:
    """By the last line involved (path, then line), then kind, then the first line."""
    lines = anomaly.lines
    if len(lines) == 1:  # most anomalies (every stuck one): its one line is first and last
        place = _where(lines[0])
        return (place, _RANKS[anomaly.kind], place)
    places = [_where(line) for line in lines]
    return (max(places), _RANKS[anomaly.kind], places[0])


_RANKS = {kind: rank for rank, kind in enumerate(ANOMALY_KINDS)}


def _lifecycle(ref_id: str, replies: list[Seen]) -> _Lifecycle:
    finals = [r for r in replies if r.status in FINAL_STATUSES]
    if finals:
        deciding = finals[-1]
        if len({r.status for r in finals}) > 1:
            outcome = CONFLICTING  # never failed: a SUCCESS was seen, the money may be spent
        else:
            outcome = SUCCEEDED if deciding.status == TransactionStatus.SUCCESS else FAILED
    else:
        deciding = replies[-1]
        outcome = PENDING if deciding.status == TransactionStatus.INPROGRESS else UNKNOWN
    return _Lifecycle(ref_id, replies, outcome, deciding)


def _anomalies_of(transaction: _Lifecycle) -> list[Anomaly]:
    ref_id, replies = transaction.ref_id, transaction.replies
    found: list[Anomaly] = []
    statuses = {r.status for r in replies}
    if statuses >= FINAL_STATUSES:
        places = tuple(r.place for r in replies if r.status in FINAL_STATUSES)
        found.append(Anomaly("conflicting_outcome", ref_id, places, "both SUCCESS and FAILED for one ref_id"))
    first_final = next((r for r in replies if r.status in FINAL_STATUSES), None)
    if first_final is not None:
        for later in replies[replies.index(first_final) + 1 :]:
            if later.status != first_final.status:
                continue  # another final status is conflicting_outcome; a non-final one says nothing new
            changed = [
                name
                for name, a, b in (
                    ("SN", first_final.serial, later.serial),
                    ("TRXID", first_final.trxid, later.trxid),
                    ("amounts", first_final.balance, later.balance),
                )
                if a != b
            ]
            if changed:
                found.append(
                    Anomaly(
                        "changed_after_final",
                        ref_id,
                        (first_final.place, later.place),
                        f"{later.status} again with another {' and '.join(changed)}",
                    )
                )
    for reply in replies:
        if reply.status == "FAILED" and reply.balance is not None and reply.balance[1] > 0:
            found.append(
                Anomaly(
                    "failed_with_deduction",
                    ref_id,
                    (reply.place,),
                    f"FAILED, yet {_rupiah(reply.balance[1])} deducted",
                )
            )
    charged: dict[str, Seen] = {}
    for reply in replies:
        if reply.balance is not None and reply.balance[1] > 0:
            charged.setdefault(reply.trxid, reply)
    if len(charged) > 1:
        places = tuple(r.place for r in charged.values())
        found.append(
            Anomaly(
                "duplicate_charge",
                ref_id,
                places,
                f"charged under {len(charged)} TRXIDs: {', '.join(charged)}",
            )
        )
    for reply in replies:
        if reply.refid is not None and reply.refid != reply.ref_id:
            found.append(
                Anomaly(
                    "refid_mismatch", ref_id, (reply.place,), f"&refid={reply.refid} names another reference"
                )
            )
        if reply.balance is not None:
            before, deduction, after = reply.balance
            if before - deduction != after:
                found.append(
                    Anomaly(
                        "balance_mismatch",
                        ref_id,
                        (reply.place,),
                        f"{_rupiah(before)} - {_rupiah(deduction)} is not {_rupiah(after)} "
                        f"(off by {_rupiah(after - (before - deduction))})",
                    )
                )
    return found


def _balance_gaps(chain: Iterable[Chained]) -> Iterator[Anomaly]:
    """In timestamp order, each balance snapshot's before against the previous one's after.

    A re-check repeats its transaction's snapshot: the store gives only the
    first reply of each (ref_id, TRXID, amounts).
    """
    for previous, link in pairwise(chain):
        _, path, line, ref_id, before, _ = link
        previous_after = previous[5]
        if before != previous_after:
            amount = before - previous_after
            yield Anomaly(
                "balance_gap",
                ref_id,
                (f"{previous[1]}:{previous[2]}", f"{path}:{line}"),
                f"balance before {_rupiah(before)}, but {_rupiah(previous_after)} "
                f"after the previous reply: {_signed(amount)} between them "
                "(other activity on the account, or a reply missing from the log)",
            )


# Amounts in messages are plain digits: the wire's `97.411.793` reads as a decimal outside Indonesia.
_rupiah = str


def _signed(amount: int) -> str:
    return f"{amount:+d}"


def _duration(age: timedelta) -> str:
    return _in_minutes((age.days * 86_400 + age.seconds) // 60)  # age // timedelta(minutes=1), in ints


# A run's stuck transactions are mostly of a few ages (a log spans hours): each age's text is made
# once (formatting it was a third of _stuck()'s time).
@lru_cache(maxsize=4096)
def _in_minutes(minutes: int) -> str:
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def parse_duration(text: str) -> timedelta:
    """`1h`, `90m`, `2d`, `30s` -> a timedelta (for --pending-after)."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not (number.isascii() and number.isdigit()) or len(number) > 9:
        raise ValueError(f"{text[:20]!r} is not a duration such as 1h, 90m, 2d")
    return timedelta(**{units[unit]: int(number)})


__all__ = [
    "ANOMALY_KINDS",
    "Anomaly",
    "Reconciliation",
    "Transaction",
    "TransactionTable",
    "parse_duration",
    "reconcile",
]
