"""A run's replies without a state file: spread by ref_id over parts on disk, read a ref_id at a time.

reconcile() without `state=` reads its logs once and forgets them. It needs
what the state's SQLite table gives (state.State): each ref_id's replies in
timestamp order, then the balance chain in timestamp order. `Spool` gives
the same from rows spread by the hash of their ref_id (spill.Parts): a part
is sorted in memory and cut into ref_ids. The chain is every reply with a
balance, kept as read (spill.Runs: a log in timestamp order is sorted as it
comes, and read back without a merge), but the re-checks that repeat a
snapshot, which the parts find (a sort of their own, most often empty).
Memory holds a part and a run, whatever the length of the logs; the anonymous
files are gone with it.

The ref_ids come in no order (a part's after another's); what reads them
(reconciliation.judge) keeps them by ref_id.

With `--jobs`, the spool never loads a row: worker processes spread the rows
they read (spill.spread(), `add_spread()`, with their links as a sorted run),
then are given the parts as written (`raw_parts()`) to judge; the repeated
snapshots they find come back as sorted runs (`repeat_run()`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby
from operator import itemgetter

from .spill import Parts, Row, Runs, Spread
from .state import Chained, Kept

_REF_ID = itemgetter(3)
# A ref_id's replies in timestamp order, then by path and line (as State.rows_by_ref orders them).
_IN_ORDER = itemgetter(3, 2, 0, 1)
REF_ID_COLUMN = 3  # what the rows are spread by (spill.spread() in a worker process)
# Repeated snapshots held before they are a run (they come a part at a time, in no order of time, so
# their runs are merged): 16,000 held took 3 MiB more at the peak with one buy in ten re-checked.
_REPEAT_RUN_ROWS = 4_000


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
        self._links = Runs()  # every reply with a balance (links_of())
        self._repeats = Runs("irs-repeats-", _REPEAT_RUN_ROWS)  # those that repeat a snapshot

    def add(self, rows: list[Kept]) -> None:
        self._parts.add(rows)
        self._links.add(links_of(rows))

    def add_spread(self, chunks: Spread, links: Sequence[bytes]) -> None:
        """Rows spread by ref_id in a worker process (spill.spread(rows, REF_ID_COLUMN)), and their
        links as a run (spill.run_of(links_of(rows)))."""
        self._parts.add_spread(chunks)
        self._links.add_run(links)

    def rows_by_ref(self) -> Iterator[tuple[str, list[Kept]]]:
        """Each ref_id with its replies in timestamp order (then path, line); ref_ids in no order."""
        for part in self._parts.parts():
            yield from by_ref(part)
            self._repeats.add(repeated_snapshots(part))

    @property
    def spread(self) -> bool:
        """Whether the rows went to disk, spread over parts (else they are one part, in memory)."""
        return self._parts.spread

    def raw_parts(self) -> Iterator[list[bytes]]:
        """rows_by_ref() for worker processes: each part's rows as written (spill.rows_of() reads
        them; by_ref() then cuts them into ref_ids), whose repeated_snapshots() go to repeat_run()."""
        return self._parts.raw_parts()

    def repeat_run(self, run: Sequence[bytes]) -> None:
        """The repeated snapshots of parts given by raw_parts(), as a sorted run
        (spill.run_of(repeated_snapshots(part)))."""
        self._repeats.add_run(run)

    def balance_rows(self) -> Iterator[Chained]:
        """The balance chain (state.Chained) in timestamp order: only after every part is read."""
        return _without(self._links.merged(), self._repeats.merged())

    def close(self) -> None:
        """Drop the rows and the files (at the end of a run, or when it fails)."""
        self._parts.close()
        self._links.close()
        self._repeats.close()


def by_ref(part: list[Kept]) -> Iterator[tuple[str, list[Kept]]]:
    """The rows of a part (sorted in place) cut into ref_ids, each ref_id's in timestamp order."""
    part.sort(key=_IN_ORDER)
    for ref_id, group in groupby(part, key=_REF_ID):
        yield ref_id, list(group)


def links_of(rows: list[Kept]) -> list[Chained]:
    """The replies that carry a balance, as links of the balance chain (state.Chained)."""
    return [(row[2], row[0], row[1], row[3], row[8], row[10]) for row in rows if row[8] is not None]


def repeated_snapshots(replies: list[Kept]) -> list[Chained]:
    """The replies (each ref_id's in timestamp order) that repeat a balance snapshot (the same
    ref_id, TRXID and amounts) of an earlier one, as links: the balance chain leaves them out."""
    charged = [row for row in replies if row[8] is not None]
    if len({row[3] for row in charged}) == len(charged):  # no ref_id with two: none repeated (most parts)
        return []
    repeats: list[Chained] = []
    seen: set[tuple[object, ...]] = set()
    for path, line, moment, ref_id, _, _, trxid, _, before, deduction, after, _, _ in charged:
        snapshot = (ref_id, trxid, before, deduction, after)
        if snapshot in seen:
            repeats.append((moment, path, line, ref_id, before, after))
        else:
            seen.add(snapshot)
    return repeats


def _without(links: Iterator[Row], repeats: Iterator[Row]) -> Iterator[Chained]:
    """The links, sorted, but the repeats (sorted too, each one of the links)."""
    repeat = next(repeats, None)
    for link in links:
        if link == repeat:
            repeat = next(repeats, None)
        else:
            yield link
