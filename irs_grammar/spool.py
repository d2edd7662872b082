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
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from itertools import groupby, islice
from operator import itemgetter

from .spill import Parts, Runs
from .state import Chained, Kept, moment_of

_BATCH = 2_000  # rows taken from add()'s iterable at a time
_REF_ID = itemgetter(3)
# A ref_id's replies in timestamp order, then by path and line (as State.rows_by_ref orders them).
_IN_ORDER = itemgetter(3, 2, 0, 1)


class Spool:
    """`add()` the rows of a run (KEPT_COLUMNS), then `rows_by_ref()` once, then `balance_rows()` once.

    >>> spool = Spool()
    >>> r = ("a.log", 2, "2024-12-01T10:00:00", "7", "DN1", "SUCCESS", "9", "S", 5, 1, 4, None, None)
    >>> spool.add([r, r[:1] + (1, "2024-12-01T09:00:00", "7", "DN1", "INPROGRESS", "9") + (None,) * 6])
    >>> [(ref_id, [row[1] for row in rows]) for ref_id, rows in spool.rows_by_ref()]
    [('7', [1, 2])]
    >>> list(spool.balance_rows())
    [('2024-12-01T10:00:00', 'a.log', 2, '7', 5, 4)]
    """

    def __init__(self) -> None:
        self._parts = Parts(3)  # by ref_id
        self._chain = Runs()
        self._latest = ""  # the latest moment's text

    def add(self, rows: Iterable[Kept]) -> None:
        rows = iter(rows)
        while batch := list(islice(rows, _BATCH)):  # a batch at a time: memory holds no more
            self._latest = max(self._latest, max(map(itemgetter(2), batch)))
            self._parts.add(batch)

    def rows_by_ref(self) -> Iterator[tuple[str, list[Kept]]]:
        """Each ref_id with its replies in timestamp order (then path, line); ref_ids in no order."""
        chain = self._chain
        for part in self._parts.parts():
            part.sort(key=_IN_ORDER)
            for ref_id, group in groupby(part, key=_REF_ID):
                yield ref_id, list(group)
            chain.add(first_snapshots(part))

    def balance_rows(self) -> Iterator[Chained]:
        """The balance chain (state.Chained) in timestamp order: only after rows_by_ref() is read."""
        return self._chain.merged()

    def last_moment(self, tz: tzinfo | None) -> datetime | None:
        return moment_of(self._latest, tz) if self._latest else None

    def close(self) -> None:
        self._parts.close()


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
