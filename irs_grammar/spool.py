"""A run's replies without a state file: spread by ref_id over parts on disk, read a ref_id at a time.

reconcile() without `state=` reads its logs once and forgets them. It needs
what the state's SQLite table gives (state.State): each ref_id's replies in
timestamp order, then the balance chain in timestamp order. `Spool` gives
the same from rows spread by the hash of their ref_id (spill.Parts): a part
is sorted in memory and cut into ref_ids, and the first reply of each balance
snapshot goes to a sort of its own (spill.Runs). Memory holds a part and a
run, whatever the length of the logs; the anonymous files are gone with it.

The ref_ids come in no order (a part's after another's); what reads them
(reconciliation.judge) keeps them by ref_id.

With `--jobs`, the spool never loads a row: worker processes spread the rows
they read (spill.spread(), `add_spread()`), then are given the parts as
written (`raw_parts()`) to judge; their balance links come back as sorted
runs (`link_run()`).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter

from .spill import Parts, Runs, Spread
from .state import Chained, Kept

_REF_ID = itemgetter(3)
# A ref_id's replies in timestamp order, then by path and line (as State.rows_by_ref orders them).
_IN_ORDER = itemgetter(3, 2, 0, 1)
REF_ID_COLUMN = 3  # what the rows are spread by (spill.spread() in a worker process)


class Spool:
    """`add()` a run's rows (KEPT_COLUMNS) a batch at a time, then `rows_by_ref()` once, then
    `balance_rows()` once.

    It holds this run's replies only: the run's latest moment is the reader's (no last_moment()).

    >>> spool = Spool()
    >>> r = ("a.log", 2, "2024-12-01T10:00:00", "7", "DN1", "SUCCESS", "9", "S", 5, 1, 4, None, None)
    >>> spool.add([r, r[:1] + (1, "2024-12-01T09:00:00", "7", "DN1", "INPROGRESS", "9") + (None,) * 6])
    >>> [(ref_id, [row[1] for row in rows]) for ref_id, rows in spool.rows_by_ref()]
    [('7', [1, 2])]
    >>> list(spool.balance_rows())
    [('2024-12-01T10:00:00', 'a.log', 2, '7', 5, 4)]
    """

    def __init__(self) -> None:
        self._parts = Parts(REF_ID_COLUMN)
        self._chain = Runs()

    def add(self, rows: list[Kept]) -> None:
        self._parts.add(rows)

    def add_spread(self, chunks: Spread) -> None:
        """Rows spread by ref_id in a worker process (spill.spread(rows, REF_ID_COLUMN))."""
        self._parts.add_spread(chunks)

    def rows_by_ref(self) -> Iterator[tuple[str, list[Kept]]]:
        """Each ref_id with its replies in timestamp order (then path, line); ref_ids in no order."""
        for part in self._parts.parts():
            yield from by_ref(part)
            self._chain.add(first_snapshots(part))

    @property
    def spread(self) -> bool:
        """Whether the rows went to disk, spread over parts (else they are one part, in memory)."""
        return self._parts.spread

    def raw_parts(self) -> Iterator[list[bytes]]:
        """rows_by_ref() for worker processes: each part's rows as written (spill.rows_of() reads
        them; by_ref() then cuts them into ref_ids), whose first_snapshots() go back to link_run()."""
        return self._parts.raw_parts()

    def link_run(self, run: list[bytes]) -> None:
        """The links of the balance chain found in a part given by raw_parts(), as a sorted run
        (spill.run_of(list(first_snapshots(part))))."""
        self._chain.add_run(run)

    def balance_rows(self) -> Iterator[Chained]:
        """The balance chain (state.Chained) in timestamp order: only after every part is read."""
        return self._chain.merged()

    def close(self) -> None:
        """Drop the rows and the files (at the end of a run, or when it fails)."""
        self._parts.close()
        self._chain.close()


def by_ref(part: list[Kept]) -> Iterator[tuple[str, list[Kept]]]:
    """The rows of a part (sorted in place) cut into ref_ids, each ref_id's in timestamp order."""
    part.sort(key=_IN_ORDER)
    for ref_id, group in groupby(part, key=_REF_ID):
        yield ref_id, list(group)


def first_snapshots(replies: list[Kept]) -> Iterator[Chained]:
    """The replies (each ref_id's in timestamp order) that carry a balance, but a re-check repeating
    a snapshot (the same ref_id, TRXID and amounts) seen before: as links of the balance chain."""
    seen: set[tuple[object, ...]] = set()
    for path, line, moment, ref_id, _, _, trxid, _, before, deduction, after, _, _ in replies:
        if before is not None:
            snapshot = (ref_id, trxid, before, deduction, after)
            if snapshot not in seen:
                seen.add(snapshot)
                yield (moment, path, line, ref_id, before, after)
