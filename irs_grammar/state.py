"""The reconciliation state kept across days: an SQLite database (the standard library's sqlite3).

Schema version 2 (`PRAGMA user_version`), application_id 0x49525352 ("IRSR"), in WAL mode:

    replies(path TEXT, digest BLOB,        -- where, and sha256 of the line's text: the key
            line INTEGER, moment TEXT,      -- line number, ISO 8601 timestamp
            ref_id TEXT, product TEXT, status TEXT, trxid TEXT, serial TEXT,
            before INTEGER, deduction INTEGER, after INTEGER, refid TEXT,
            destination TEXT,               -- version 2; null in rows a version 1 state kept
            PRIMARY KEY (path, digest))

A version 1 state (0.2.0 and 0.3.0) is brought to version 2 when a run opens
it: the column is added, its old rows keep a null destination.

Every transaction reply read is kept, compactly: each ref_id's lifecycle, its
open state and the balance chain (the last balance) are recomputed from them,
so tomorrow's log closes today's pending transactions. A line already read
(the same path and text) is not added again, so running a log twice changes
nothing. A run is one SQLite transaction: a crash, Ctrl-C or a full disk
leaves the database as it was before the run.

A file is recognised before anything is written to it: by its application_id
(0.2.0's state files, which have none, by their version and table), so
another program's SQLite file is refused untouched, as are a file that is not
regular (`/dev/null`), a read-only one, and one in a folder SQLite cannot
write its journal to.

A moment is kept as the reply's clock wrote it and read in the zone of the
run (`tz`, or none): a state kept with `--tz +07:00` and read without a zone
gives the same wall-clock times, naive, so a run never mixes the two kinds.

Without a state file, reconcile() keeps its replies in a spool.Spool (the
same rows, spread on anonymous files: nothing to keep, so no database); the
compact summary of each transaction (`Reconciliation.transactions`) goes to a
table of its own in a temporary file (reconciliation.TransactionTable),
removed with the result.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from itertools import groupby
from types import TracebackType
from typing import Any, NamedTuple

from .files import not_regular
from .wire.transaction import TransactionResponse, rupiah

VERSION = 2
# `PRAGMA application_id` of a state file ("IRSR"): another program's SQLite file is never written to.
APPLICATION_ID = 0x49525352
_MARKS = ("application_id", "user_version")
_CREATE = """
CREATE TABLE replies (
    path TEXT NOT NULL, digest BLOB NOT NULL, line INTEGER NOT NULL, moment TEXT NOT NULL,
    ref_id TEXT NOT NULL, product TEXT NOT NULL, status TEXT NOT NULL, trxid TEXT NOT NULL, serial TEXT,
    before INTEGER, deduction INTEGER, after INTEGER, refid TEXT, destination TEXT,
    PRIMARY KEY (path, digest)
) WITHOUT ROWID
"""
# From schema version 1 (without the destination) to this one.
_UPGRADE = {1: "ALTER TABLE replies ADD COLUMN destination TEXT"}


Balance = tuple[int, int, int]  # before, deduction, after, in rupiah


class Seen(NamedTuple):
    """One transaction reply, as much of it as reconciling needs, and where it was read: a row of
    the replies table."""

    path: str
    line: int
    when: datetime
    ref_id: str
    product: str
    status: str
    trxid: str
    serial: str | None
    balance: Balance | None
    refid: str | None
    destination: str | None = None

    @property
    def place(self) -> str:
        return f"{self.path}:{self.line}"

    @classmethod
    def of(cls, reply: TransactionResponse, path: str, line: int) -> Seen:
        amounts = reply.balance
        balance = None
        if amounts is not None:
            balance = (rupiah(amounts.before), rupiah(amounts.deduction), rupiah(amounts.after))
        return cls(
            path,
            line,
            reply.timestamp,
            reply.ref_id,
            reply.product_code,
            str(reply.status),
            reply.trxid,
            reply.serial_number,
            balance,
            reply.refid,
            reply.destination,
        )

    def kept(self) -> Kept:
        """This reply as a row kept (KEPT_COLUMNS), as a run without a state keeps it (spool.Spool)."""
        before, deduction, after = self.balance or (None, None, None)
        return (
            self.path,
            self.line,
            self.when.isoformat(),
            self.ref_id,
            self.product,
            self.status,
            self.trxid,
            self.serial,
            before,
            deduction,
            after,
            self.refid,
            self.destination,
        )

    def row(self, key: bytes) -> Row:
        """This reply as a row of a state's replies table, under `key` (line_key())."""
        return keyed(self.kept(), key)


# A row of the replies table, in its columns' order: what a reader (a worker process too) hands a State.
Row = tuple[Any, ...]


def keyed(kept: Kept, key: bytes) -> Row:
    """A row kept (KEPT_COLUMNS) as a row of the replies table: the key after the path."""
    return (kept[0], key, *kept[1:])


def line_key(text: str) -> bytes:
    """A reply's key in a state beside its path: the sha256 of its line's text less its line break.

    It is 0.2.0's key: serialize(parse(line)) is the line less its line break. A line repeated word
    for word in one log is one reply in a state file and two in a run without one (outcomes, amounts
    and anomalies are the same either way; only the places listed differ).
    """
    body = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
    return hashlib.sha256(body.encode()).digest()


class StateError(Exception):
    """A state file that is not ours, of another schema version, or that cannot be written."""


def _check_path(path: str) -> None:
    """A state is a regular file, or none yet, that this run can write, in a folder it can write."""
    folder = os.path.dirname(path) or "."
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise StateError(f"{path}: {error.strerror or error}") from None
    if info is not None:
        kind = not_regular(info.st_mode)
        if kind is not None:
            raise StateError(f"{path}: is {kind}, not a reconciliation state")
        if not (info.st_mode & stat.S_IWUSR and os.access(path, os.R_OK | os.W_OK)):
            raise StateError(f"{path}: is read-only; a run writes what it reads to its state")
    if not os.access(folder, os.W_OK):
        raise StateError(f"{path}: its folder is not writable (SQLite keeps its journal beside it)")


class State:
    """`with State(path) as state: state.add(rows)`, then read them back: one transaction a run."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    @property
    def _connection(self) -> sqlite3.Connection:
        if self.db is None:
            raise StateError(f"{self.path}: the state is not open (use it inside `with State(...)`)")
        return self.db

    def __enter__(self) -> State:
        _check_path(self.path)
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as error:
            raise StateError(f"{self.path}: cannot be opened ({error})") from None
        try:
            self._open(db)
        except StateError:
            db.close()
            raise
        except sqlite3.DatabaseError as error:
            db.close()
            raise StateError(f"{self.path}: not a reconciliation state ({error})") from None
        self.db = db
        return self

    def _open(self, db: sqlite3.Connection) -> None:
        """Recognise the file (read only) before anything is written to it, then start the run."""
        application, version = (db.execute(f"PRAGMA {name}").fetchone()[0] for name in _MARKS)
        tables = sorted(name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        fresh = (application, version, tables) == (0, 0, [])
        # 0.2.0 wrote no application_id: its state files are known by their version and table.
        ours = application == APPLICATION_ID or ((application, tables) == (0, ["replies"]) and version == 1)
        if not (fresh or ours):
            raise StateError(
                f"{self.path}: an SQLite file of another program (application_id {application}, "
                f"user_version {version}, tables {', '.join(tables) or 'none'}), not a reconciliation state"
            )
        if ours and version != VERSION and version not in _UPGRADE:
            raise StateError(f"{self.path}: state of schema version {version}; this is version {VERSION}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA temp_store=FILE")  # sorting a month of replies goes to disk, not memory
        db.execute("BEGIN IMMEDIATE")
        if fresh:
            db.execute(_CREATE)
            db.execute(f"PRAGMA user_version = {VERSION}")
        elif version in _UPGRADE:  # inside the run's transaction: a failed run leaves version 1 as it was
            db.execute(_UPGRADE[version])
            db.execute(f"PRAGMA user_version = {VERSION}")
        if application != APPLICATION_ID:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        db = self._connection
        try:
            if kind is None:
                db.execute("COMMIT")
            else:
                # After a full disk SQLite may have rolled the run back itself: nothing left to undo.
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
        finally:
            db.close()
            self.db = None

    def add(self, rows: Iterable[Row]) -> None:
        """Keep the replies not kept yet: rows made by Seen.row(line_key(text)) (or keyed())."""
        self._connection.executemany(
            "INSERT OR IGNORE INTO replies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )

    def rows_by_ref(self) -> Iterator[tuple[str, list[Kept]]]:
        """Each ref_id with its replies in timestamp order (then path, line), one ref_id at a time, as
        the rows kept (KEPT_COLUMNS, the moment as its text; seen() makes a Seen of one)."""
        rows = self._connection.execute(f"SELECT {_COLUMNS} FROM replies ORDER BY ref_id, moment, path, line")
        for ref_id, group in groupby(rows, key=_ref_id):
            yield ref_id, list(group)

    def balance_rows(self) -> Iterator[Chained]:
        """Every reply with a balance in timestamp order, but a re-check of the same snapshot (Chained)."""
        return iter(
            self._connection.execute(
                "SELECT moment, path, line, ref_id, before, after FROM (SELECT *, row_number() OVER "
                "(PARTITION BY ref_id, trxid, before, deduction, after ORDER BY moment, path, line) AS nth "
                "FROM replies WHERE before IS NOT NULL) WHERE nth = 1 ORDER BY moment, path, line"
            )
        )

    def last_moment(self, tz: tzinfo | None) -> datetime | None:
        (moment,) = self._connection.execute("SELECT max(moment) FROM replies").fetchone()
        return None if moment is None else moment_of(moment, tz)


# A reply as rows_by_ref and balance_rows read it back, before it is a Seen: these columns, in this order.
KEPT_COLUMNS = (
    "path", "line", "moment", "ref_id", "product", "status", "trxid", "serial",
    "before", "deduction", "after", "refid", "destination",
)  # fmt: skip
_COLUMNS = ", ".join(KEPT_COLUMNS)
Kept = tuple[Any, ...]
# A link of the balance chain: moment, path, line, ref_id, before, after (sorted as tuples: by moment).
Chained = tuple[str, str, int, str, int, int]


def _ref_id(row: Kept) -> str:
    return str(row[3])


def seen(row: Kept, tz: tzinfo | None) -> Seen:
    """A row read back (KEPT_COLUMNS) as a Seen, its moment in this run's zone."""
    path, line, when, ref_id, product, status, trxid, serial, before, deduction, after, refid, dest = row
    balance = None if before is None else (before, deduction, after)
    return Seen(path, line, moment_of(when, tz), ref_id, product, status, trxid, serial, balance, refid, dest)


def moment_of(text: str, tz: tzinfo | None) -> datetime:
    """The wall-clock time as the reply wrote it, in this run's zone (a state may hold either kind)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is tz else moment.replace(tzinfo=tz)  # replace() costs as much again
