"""Results kept on disk, not in memory: the temporary files of one reconciliation.

A month of logs can hold a million transactions, a million stuck ones (each an
anomaly) or a million invalid lines: each costs the disk about its text and
the memory nothing but a batch. `Scratch` is the file (made at the first
write, removed with its owner or at `close()`); `SpilledList` is a list kept
in one of its tables, appended to in batches and read back in its order.

Rows a run sorts take no database: `Parts` spreads them by the hash of one
column over parts of an anonymous file and gives them back a part at a time;
`Runs` sorts more rows than memory holds (sorted runs on the file, merged),
and `SpilledSortedList` is a list kept so, read back in its order as often as
wanted. They write with marshal (the rows are tuples of str, int, bytes and
None), which is several times as fast as SQLite's inserts and sorts.
"""

from __future__ import annotations

import contextlib
import heapq
import marshal
import os
import sqlite3
import tempfile
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import IO, Any, Generic, TypeVar, overload

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
        self._companions: list[Callable[[], object]] = []  # lists kept beside it, dropped with it

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
            db.execute("PRAGMA temp_store=FILE")  # what SQLite sorts goes to disk, not to memory
            for create in self._tables:
                db.execute(create)
            self._discard = weakref.finalize(self, _discard, db, path)
            self._db, self.path = db, path
        return self._db

    def also_closes(self, close: Callable[[], object]) -> None:
        """Something kept beside the file (a SpilledSortedList) that close() drops too."""
        self._companions.append(close)

    def close(self) -> None:
        """Remove the file now (what it held is gone, and what is kept beside it)."""
        for close in self._companions:
            close()
        if self._discard is not None:
            self._discard()
            self._db = self.path = self._discard = None


def _discard(db: sqlite3.Connection, path: str) -> None:
    db.close()
    with contextlib.suppress(OSError):  # already gone
        os.remove(path)


class _ReadBack(Sequence[T], Generic[T]):
    """What a list kept on disk shares: indexing (an item read by `_item_at()`), equal to any
    sequence of the same items, never hashable."""

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return list(self)[index]
        position = index + len(self) if index < 0 else index
        if position < 0:
            raise IndexError(index)
        return self._item_at(position, index)

    def _item_at(self, position: int, index: int) -> T:
        """The item at `position` (0 or more), or IndexError(index) past the end."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=False))

    __hash__ = None  # type: ignore[assignment]  # a list is not hashable either


class SpilledList(_ReadBack[T]):
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

    def extend_rows(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Items as `to_row` made them already (in a worker process)."""
        self._pending.extend(rows)
        if len(self._pending) >= _BATCH:
            self._flush()

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

    def _item_at(self, position: int, index: int) -> T:
        sql = f"SELECT {self._columns} FROM {self._name} ORDER BY {self._order} LIMIT 1 OFFSET ?"
        for row in self._rows(sql, position):
            return self._from_row(row)
        raise IndexError(index)

    def __repr__(self) -> str:
        return f"<SpilledList {self._name} of {len(self)}>"


Row = tuple[Any, ...]
Place = tuple[int, int]  # a chunk's offset and size in its file


class Chunks:
    """An anonymous file (gone when closed) of lists of rows, each written whole and read back by
    its place. Made at the first write."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._file: IO[bytes] | None = None
        self._end = 0  # the file's size
        self._at = 0  # where the file is positioned: a seek flushes the buffer, so only when needed

    def write(self, rows: list[Row]) -> Place:
        return self.write_raw(dumps(rows))

    def write_raw(self, data: bytes) -> Place:
        """A chunk made elsewhere (spread() in a worker process)."""
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix=self._prefix)  # noqa: SIM115  close() closes it
        place = self._end, len(data)
        if self._at != self._end:
            self._file.seek(self._end)
        self._file.write(data)
        self._end = self._at = self._end + len(data)
        return place

    def read(self, place: Place) -> list[Row]:
        rows: list[Row] = marshal.loads(self.raw(place))
        return rows

    def raw(self, place: Place) -> bytes:
        """The chunk as written (rows_of() reads it)."""
        assert self._file is not None  # a place comes from write()
        offset, size = place
        if self._at != offset:
            self._file.seek(offset)
        self._at = offset + size
        return self._file.read(size)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._end = self._at = 0


class Tape:
    """Rows appended in batches, read back once in their order (`read()` ends it).

    >>> tape = Tape()
    >>> tape.append([(1,), (2,)]); tape.append([(3,)])
    >>> list(tape.read())
    [(1,), (2,), (3,)]
    """

    def __init__(self) -> None:
        self._chunks = Chunks("irs-tape-")
        self._places: list[Place] = []

    @property
    def written(self) -> bool:
        """Whether rows wait on the tape."""
        return bool(self._places)

    def append(self, rows: list[Row]) -> None:
        if rows:
            self._places.append(self._chunks.write(rows))

    def append_raw(self, chunk: bytes) -> None:
        """Rows dumps() wrote (in a worker process)."""
        self._places.append(self._chunks.write_raw(chunk))

    def read(self) -> Iterator[Row]:
        try:
            for place in self._places:
                yield from self._chunks.read(place)
        finally:
            self.close()

    def close(self) -> None:
        self._places = []
        self._chunks.close()


# Rows held as objects before they go to the file (about 700 bytes each: 5.6 MB), and the parts they
# are spread over once they do. A part read back holds about a 256th of the rows; one of more than
# _PART_ROWS is spread again by other bits of the hash, so memory stays flat however long the logs
# are. (20,000 held took 2.5 MB more at the peak for no CPU saved, on 200,000 buy replies.)
_HELD_ROWS = 8_000
_PARTS = 256
_PART_ROWS = 16_000  # 11 MB
_DEPTH = 3  # 256 ** 4 parts, the hash's 32 bits: past that, a part is one key's rows (as they take)


def key_hash(key: str) -> int:
    """32 bits of a key that every process computes alike (Python's hash() of text is salted per
    process): the CRC-32 of its UTF-8 (a key is text read from UTF-8: it holds no lone surrogate)."""
    return zlib.crc32(key.encode())


Spread = Sequence[tuple[int, bytes, int]]  # (part, chunk, rows): rows spread over the parts, as written


def spread(rows: list[Row], column: int) -> Spread:
    """The rows as Parts spreads them at its first depth, each part's as a chunk: a worker process
    hands them on so (Parts.add_spread()), and the process that keeps them never loads them."""
    parts: list[list[Row]] = [[] for _ in range(_PARTS)]
    for row in rows:
        parts[key_hash(row[column]) % _PARTS].append(row)
    return [(number, dumps(rows), len(rows)) for number, rows in enumerate(parts) if rows]


class Parts:
    """Rows spread over 256 parts by the hash of the text `rows[column]` (key_hash()): every row of
    one key in one part.

    `add()` rows (or `add_spread()` them as spread() made them); `parts()` gives
    each part's rows once (in no order). While they are few, nothing is
    written: all the rows are one part.

    >>> parts = Parts(0)
    >>> parts.add([("a", 1), ("b", 2), ("a", 3)])
    >>> [sorted(part) for part in parts.parts()]
    [[('a', 1), ('a', 3), ('b', 2)]]
    """

    def __init__(self, column: int, *, depth: int = 0, chunks: Chunks | None = None) -> None:
        self._column, self._depth = column, depth
        self._chunks = chunks if chunks is not None else Chunks("irs-replies-")
        self._held: list[Row] = []
        self._places: list[list[Place]] = [[] for _ in range(_PARTS)]
        self._counts = [0] * _PARTS
        self._spread = depth > 0  # a part spread again is written at once (to its parent's file)

    def add(self, rows: Iterable[Row]) -> None:
        held = self._held
        held.extend(rows)
        if len(held) >= _HELD_ROWS:
            self._write()

    def add_spread(self, chunks: Spread) -> None:
        """Rows spread() spread (at the first depth), written as they are."""
        self._spread = True
        for number, chunk, count in chunks:
            self._places[number].append(self._chunks.write_raw(chunk))
            self._counts[number] += count

    def _write(self) -> None:
        self._spread = True
        spread: list[list[Row]] = [[] for _ in range(_PARTS)]
        column, shift = self._column, 8 * self._depth  # each depth spreads by other bits of the hash
        for row in self._held:
            spread[(key_hash(row[column]) >> shift) % _PARTS].append(row)
        self._held.clear()
        for number, rows in enumerate(spread):
            if rows:
                self._places[number].append(self._chunks.write(rows))
                self._counts[number] += len(rows)

    @property
    def spread(self) -> bool:
        """Whether the rows went to the file (else they are one part, in memory)."""
        return self._spread

    def parts(self) -> Iterator[list[Row]]:
        if not self._spread:
            held, self._held = self._held, []
            if held:
                yield held
            return
        for chunks in self.raw_parts():
            yield rows_of(chunks)

    def raw_parts(self) -> Iterator[list[bytes]]:
        """Each part as the chunks that hold it, as written (rows_of() reads them): a worker process
        can be given one."""
        try:
            if self._held or not self._spread:
                self._write()
            for number, count in enumerate(self._counts):
                places = self._places[number]
                if count > _PART_ROWS and self._depth < _DEPTH:
                    again = Parts(self._column, depth=self._depth + 1, chunks=self._chunks)
                    for place in places:
                        again.add(self._chunks.read(place))
                    yield from again.raw_parts()
                elif count:
                    yield [self._chunks.raw(place) for place in places]
        finally:
            if self._depth == 0:
                self.close()

    def close(self) -> None:
        """Drop the rows and the file (parts() does at its end)."""
        self._held = []
        self._chunks.close()


def dumps(rows: list[Row]) -> bytes:
    """Rows as a chunk of these files (marshal: tuples of str, int, bytes and None)."""
    return marshal.dumps(rows)


def rows_of(chunks: list[bytes]) -> list[Row]:
    """The rows of chunks as Chunks wrote them, in their order."""
    return [row for chunk in chunks for row in marshal.loads(chunk)]


# Rows sorted in memory at a time (short tuples: about 350 bytes each; 40,000 took 5 MB more at the
# peak for the same CPU).
_RUN_ROWS = 16_000
# Rows of each run read back at a time while they are merged.
_READ_ROWS = 64
# Sorted streams merged at once: more are first merged in groups into longer runs on the file, so
# a merge holds at most this many slices (4,096 rows), however many runs there are.
_FAN_IN = 64


def run_of(rows: list[Row]) -> list[bytes]:
    """Rows as a run of Runs: sorted (in place), in slices of _READ_ROWS written as chunks."""
    rows.sort()
    return [dumps(rows[i : i + _READ_ROWS]) for i in range(0, len(rows), _READ_ROWS)]


class Runs:
    """More rows than memory holds, sorted: `add()` them, then iterate `merged()` once (or `rows()`
    as often as wanted).

    Sorted runs of _RUN_ROWS go to an anonymous file in slices; merging reads
    each run a slice at a time. Rows are compared as tuples. Runs that follow
    one another (rows added nearly in order: a log's, read in its order) are
    read one after the other, not merged.

    >>> runs = Runs()
    >>> runs.add([(3, "c"), (1, "a"), (2, "b")])
    >>> list(runs.merged())
    [(1, 'a'), (2, 'b'), (3, 'c')]
    """

    def __init__(self, prefix: str = "irs-chain-", run_rows: int | None = None) -> None:
        self._held: list[Row] = []
        self._chunks = Chunks(prefix)
        self._runs: list[list[Place]] = []  # each run's slices
        self._run_rows = run_rows  # rows held before they are a run (None: _RUN_ROWS)

    def add(self, rows: Iterable[Row]) -> None:
        self._held.extend(rows)
        if len(self._held) >= (self._run_rows or _RUN_ROWS):
            self._write()

    def _write(self) -> None:
        held, self._held = self._held, []
        self.add_run(run_of(held))

    def add_run(self, slices: Sequence[bytes]) -> None:
        """A run sorted elsewhere (run_of(), in a worker process)."""
        if slices:
            self._runs.append([self._chunks.write_raw(piece) for piece in slices])

    def _streams(self) -> list[list[Place]]:
        """The runs as sorted streams of slices: a run whose first row is not below the last row of
        a stream so far is read after it (the first such stream), else it starts another."""
        streams: list[list[Place]] = []
        ends: list[Row] = []
        read = self._chunks.read
        for slices in self._runs:
            first, last = read(slices[0])[0], read(slices[-1])[-1]
            for number, end in enumerate(ends):
                if first >= end:
                    streams[number] += slices
                    ends[number] = last
                    break
            else:
                streams.append(list(slices))
                ends.append(last)
        return streams

    def rows(self) -> Iterator[Row]:
        """The rows added so far, sorted; the runs are kept: rows added later join the next reading."""
        if not self._runs:
            self._held.sort()
            return iter(self._held[:])  # a copy: an append while reading is not read
        if self._held:
            self._write()
        streams = self._streams()
        while len(streams) > _FAN_IN:  # merged in groups into longer runs (kept for the next reading)
            self._runs = [self._merged_run(streams[i : i + _FAN_IN]) for i in range(0, len(streams), _FAN_IN)]
            streams = self._streams()
        readers = [self._reader(slices) for slices in streams]
        return readers[0] if len(readers) == 1 else heapq.merge(*readers)

    def _reader(self, slices: list[Place]) -> Iterator[Row]:
        return chain.from_iterable(map(self._chunks.read, slices))

    def _merged_run(self, streams: list[list[Place]]) -> list[Place]:
        """Sorted streams merged into one run, written to the file a slice at a time."""
        merged = heapq.merge(*map(self._reader, streams))
        slices: list[Place] = []
        while piece := list(islice(merged, _READ_ROWS)):
            slices.append(self._chunks.write_raw(dumps(piece)))
        return slices

    def merged(self) -> Iterator[Row]:
        """rows() once, then the rows and the file are dropped."""
        try:
            yield from self.rows()
        finally:
            self.close()

    def close(self) -> None:
        """Drop the rows and the file (merged() does at its end)."""
        self._held = []
        self._runs = []
        self._chunks.close()


# Items of a SpilledSortedList held before they are a run (an anomaly's row: about 500 bytes, 2 MB).
_LIST_RUN_ROWS = 4_000


class SpilledSortedList(_ReadBack[T]):
    """A list kept in the order of its rows (`to_row(item)`, compared as whole tuples), more of them
    than memory holds: `append()` in any order, read back sorted as often as wanted (Runs on an
    anonymous file: several times as fast as SQLite's inserts and ORDER BY).

    >>> words = SpilledSortedList(lambda w: (len(w), w), lambda row: row[1])
    >>> for word in ("ccc", "a", "bb"):
    ...     words.append(word)
    >>> list(words), len(words), words[-1], words == ["a", "bb", "ccc"]
    (['a', 'bb', 'ccc'], 3, 'ccc', True)
    """

    def __init__(
        self,
        to_row: Callable[[T], Row],
        from_row: Callable[[Row], T],
        prefix: str = "irs-sorted-",
    ) -> None:
        self._to_row, self._from_row = to_row, from_row
        self._runs = Runs(prefix, _LIST_RUN_ROWS)
        self._count = 0

    def append(self, item: T) -> None:
        self.extend_rows((self._to_row(item),))

    def extend(self, items: Iterable[T]) -> None:
        self.extend_rows(map(self._to_row, items))

    def extend_rows(self, rows: Iterable[Row]) -> None:
        """Items as `to_row` makes them (made in a worker process, or without an item)."""
        rows = rows if isinstance(rows, list) else list(rows)
        self._count += len(rows)
        self._runs.add(rows)

    def rows(self) -> Iterator[Row]:
        """The rows in their order, as `to_row` made them (to read them without making items)."""
        return self._runs.rows()

    def __iter__(self) -> Iterator[T]:
        return map(self._from_row, self._runs.rows())

    def __len__(self) -> int:
        return self._count

    def _item_at(self, position: int, index: int) -> T:
        if position >= self._count:
            raise IndexError(index)
        return next(islice(self, position, None))

    def __repr__(self) -> str:
        return f"<SpilledSortedList of {self._count}>"

    def close(self) -> None:
        """Drop the rows and the file: the list is empty afterwards."""
        self._runs.close()
        self._count = 0
