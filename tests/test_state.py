"""The reconciliation state (irs_grammar.state): its keys, its zones, its schema, its life.

Expected values are written by hand from the reply lines: a moment is the
wall-clock time the reply wrote, in the zone of the run that reads it.
"""

from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path

import pytest

import irs_grammar as irs
from irs_grammar.reconciliation import Seen
from irs_grammar.state import State, StateError

JAKARTA = timezone(timedelta(hours=7))
SOLD = (
    "R#L1 DN1. 0811 SUCCESS. SN: 1. TRXID: 9. SISA SALDO: 10.000 - 1.000 = 9.000 @12:00:00.250000 01/12/2024"
)
OPEN = "R#P1 DN1. 0811 INPROGRESS. TRXID: 8. @10:00:00.000000 01/12/2024"


def wall_and_zone(moment: datetime | None) -> tuple[datetime, tzinfo | None]:
    assert moment is not None
    return moment.replace(tzinfo=None), moment.tzinfo


@pytest.mark.parametrize("kept_in", [None, JAKARTA, UTC], ids=["naive", "+07:00", "UTC"])
def test_a_moment_is_read_as_its_reply_wrote_it_in_the_zone_of_the_run(
    tmp_path: Path, kept_in: tzinfo | None
) -> None:
    path = str(tmp_path / "state.sqlite")
    reply = irs.parse_transaction(SOLD, tz=kept_in)
    with State(path) as state:
        state.add([(Seen.of(reply, "buys.log", 1), reply)])
    wall = datetime(2024, 12, 1, 12, 0, 0, 250000)
    for read_in in (None, JAKARTA, UTC):
        with State(path) as state:
            [(ref_id, [seen])] = list(state.by_ref(read_in))
            assert (ref_id, wall_and_zone(seen.when)) == ("L1", (wall, read_in))
            [chained] = list(state.balance_chain(read_in))
            assert wall_and_zone(chained.when) == (wall, read_in)
            assert wall_and_zone(state.last_moment(read_in)) == (wall, read_in)


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("kept_in", "read_in"),
    [(JAKARTA, None), (None, UTC), (JAKARTA, UTC)],
    ids=["+07:00 then naive", "naive then UTC", "+07:00 then UTC"],
)
@pytest.mark.parametrize("later_in_the_state", [False, True], ids=["later reply new", "later reply kept"])
def test_a_run_in_another_zone_than_its_state_ages_by_the_replies_clock(
    tmp_path: Path, kept_in: tzinfo | None, read_in: tzinfo | None, later_in_the_state: bool
) -> None:
    # Before: a state kept with a zone and read without one crashed (naive minus aware).
    state = tmp_path / "state.sqlite"
    kept, new = write(tmp_path / "kept.log", OPEN), write(tmp_path / "new.log", SOLD)
    if later_in_the_state:
        kept, new = write(tmp_path / "kept.log", SOLD), write(tmp_path / "new.log", OPEN)
    opened = kept if not later_in_the_state else new
    irs.reconcile([kept], state=state, tz=kept_in)
    result = irs.reconcile([new], state=state, tz=read_in, pending_after=timedelta(hours=1))
    # 10:00 to 12:00 on the replies' clock, whichever run read which.
    assert [(a.kind, a.ref_id, a.message) for a in result.anomalies] == [
        (
            "stuck_pending",
            "P1",
            f"pending for 2h00m (last reply INPROGRESS at {opened}:1); check it again",
        )
    ]


def test_a_line_repeated_word_for_word_is_one_reply_in_a_state_and_two_without(tmp_path: Path) -> None:
    # Without a state a log is read once and keyed by line number; a state keys by text.
    log = write(tmp_path / "buys.log", SOLD, SOLD, SOLD.replace("12:00:00.25", "12:00:01.25"))
    results = [irs.reconcile([log], state=state) for state in (None, tmp_path / "state.sqlite")]
    assert [r.transactions["L1"].replies for r in results] == [
        (f"{log}:1", f"{log}:2", f"{log}:3"),
        (f"{log}:1", f"{log}:3"),
    ]
    # Nothing else differs: the repeat is a re-check of the same snapshot.
    assert [(r.outcomes(), r.deducted(), r.anomalies) for r in results] == [
        ({"total": 1, "succeeded": 1, "failed": 0, "pending": 0, "unknown": 0}, 1000, [])
    ] * 2


def test_a_log_written_again_under_its_name_is_read_again(tmp_path: Path) -> None:
    # A rotated log: the same path, other replies at the same line numbers.
    state, log = tmp_path / "state.sqlite", tmp_path / "buys.log"
    irs.reconcile([write(log, OPEN)], state=state)
    result = irs.reconcile([write(log, SOLD)], state=state)
    assert sorted((t.ref_id, t.replies) for t in result.transactions.rows()) == [
        ("L1", (f"{log}:1",)),
        ("P1", (f"{log}:1",)),
    ]


def test_a_state_of_another_schema_version_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 2")
    with pytest.raises(StateError) as refused, State(str(path)):
        pass
    assert str(refused.value) == f"{path}: state of schema version 2; this is version 1"
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_a_temporary_state_keeps_no_journal_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with State(None) as state:
        assert Path(state.path).parent == tmp_path
        assert state.db is not None
        assert state.db.execute("PRAGMA journal_mode").fetchone() == ("off",)  # read once, then dropped
    with pytest.raises(KeyError), State(None):
        raise KeyError("a run that fails")
    assert list(tmp_path.iterdir()) == []
    result = irs.reconcile([write(tmp_path / "buys.log", SOLD)])
    assert result.transactions.path is not None
    table = Path(result.transactions.path).name  # the result's own file, removed with it
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["buys.log", table])


def test_a_state_is_read_and_written_only_inside_its_with_block(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    state = State(str(path))
    closed = rf"^{path}: the state is not open \(use it inside `with State\(\.\.\.\)`\)$"
    with pytest.raises(StateError, match=closed):
        state.last_moment(None)
    with state:
        assert state.last_moment(None) is None
    with pytest.raises(StateError, match=closed):
        list(state.by_ref(None))
    with pytest.raises(StateError, match=closed):
        state.add([])
