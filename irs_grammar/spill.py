"""Results kept on disk, not in memory: the temporary SQLite file of one reconciliation.

A month of logs can hold a million transactions, a million stuck ones (each an
anomaly) or a million invalid lines: each costs the disk about its text and
the memory nothing but a batch. `Scratch` is the file (made at the first
write, removed with its owner or at `close()`); `SpilledList` is a list kept
in one of its tables, appended to in batches and read back in its order.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
_BATCH = 1_000  # rows held before they go to the file


class Scratch:
    """One temporary SQLite file: `connection()` makes it, `close()` (or the garbage collector) removes it."""

    def __init__(self, prefix: str = "irs-transactions-") -> None:
        self.prefix = prefix
        self.path: str | None = None  # the file, while there is one
        self._db: sqlite3.Connection | None = None
        self._tables: list[str] = []  # CREATE statements, run when the file is made
        self._discard: weakref.finalize[Any, Scratch] | None = None

    @property
    def opened(self) -> bool:
        return self._db is not None

    def table(self, create: str) -> None:
        """A table this file holds (made with it, or at once if it is made already)."""
        self._tables.append(create)
        if self._db is not None:
            self._db.execute(create)

    def connection(self) -> sqlite3.Connection:
        if self._db is None:
            handle, path = tempfile.mkstemp(prefix=self.prefix, suffix=".sqlite")
            os.close(handle)
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")  # a scratch file: nothing to keep after a crash
            db.execute("PRAGMA temp_store=FILE")  # sorting a million anomalies goes to disk too
            for create in self._tables:
                db.execute(create)
            self._discard = weakref.finalize(self, _discard, db, path)
            self._db, self.path = db, path
        return self._db

    def close(self) -> None:
        """Remove the file now (what it held is gone)."""
        if self._discard is not None:
            self._discard()
            self._db = self.path = self._discard = None


def _discard(db: sqlite3.Connection, path: str) -> None:
    db.close()
    with contextlib.suppress(OSError):  # already gone
        os.remove(path)


class SpilledList(Sequence[T], Generic[T]):
    """A list kept in a table of a Scratch file: `append()`, then read back in `order`.

    >>> numbers = SpilledList(Scratch(), "numbers", ("n",), lambda n: (n,), lambda row: row[0], "n DESC")
    >>> for n in (2, 7, 1):
    ...     numbers.append(n)
    >>> list(numbers), len(numbers), numbers[0], numbers == [7, 2, 1]
    ([7, 2, 1], 3, 7, True)
    """

    def __init__(
        self,
        scratch: Scratch,
        name: str,
        columns: tuple[str, ...],
        to_row: Callable[[T], tuple[Any, ...]],
        from_row: Callable[[tuple[Any, ...]], T],
        order: str = "rowid",
    ) -> None:
        self._scratch, self._name, self._to_row, self._from_row = scratch, name, to_row, from_row
        self._order = f"{order}, rowid" if order != "rowid" else order
        self._insert = f"INSERT INTO {name} VALUES ({', '.join('?' for _ in columns)})"
        self._columns = ", ".join(columns)
        self._pending: list[tuple[Any, ...]] = []
        scratch.table(f"CREATE TABLE {name} ({self._columns})")

    def append(self, item: T) -> None:
        self._pending.append(self._to_row(item))
        if len(self._pending) >= _BATCH:
            self._flush()

    def extend(self, items: Iterator[T] | Sequence[T]) -> None:
        for item in items:
            self.append(item)

    def _flush(self) -> None:
        if self._pending:
            db = self._scratch.connection()
            db.execute("BEGIN")
            db.executemany(self._insert, self._pending)
            db.execute("COMMIT")
            self._pending.clear()

    def _rows(self, sql: str, *args: Any) -> Iterator[tuple[Any, ...]]:
        self._flush()
        if self._scratch.opened:
            yield from self._scratch.connection().execute(sql, args)

    def __iter__(self) -> Iterator[T]:
        for row in self._rows(f"SELECT {self._columns} FROM {self._name} ORDER BY {self._order}"):
            yield self._from_row(row)

    def __len__(self) -> int:
        return sum(n for (n,) in self._rows(f"SELECT count(*) FROM {self._name}"))

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return list(self)[index]
        position = index + len(self) if index < 0 else index
        sql = f"SELECT {self._columns} FROM {self._name} ORDER BY {self._order} LIMIT 1 OFFSET ?"
        for row in self._rows(sql, position) if position >= 0 else ():
            return self._from_row(row)
        raise IndexError(index)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=False))

    __hash__ = None  # type: ignore[assignment]  # a list is not hashable either

    def __repr__(self) -> str:
        return f"<SpilledList {self._name} of {len(self)}>"
