"""Reconciling buy logs against corpus/logs/buys.expected.json, written by hand (see its _comment)."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import marshal
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from fnmatch import fnmatchcase
from itertools import permutations
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

import irs_grammar as irs
from irs_grammar import batches, reconciliation, spill, spool, strategies
from irs_grammar.lines import LogReadError
from irs_grammar.reconciliation import (
    Anomaly,
    ReadBatch,
    Reconciliation,
    Transaction,
    TransactionTable,
    _duration,
    _signed,
    parse_duration,
    read_batch,
)
from irs_grammar.spill import key_hash
from irs_grammar.state import APPLICATION_ID, Seen, State, StateError, line_key, moment_of, seen
from irs_grammar.validation import check_line
from irs_grammar.wire.transaction import TransactionResponse
from tests.command import run
from tests.corpus import CORPUS
from tests.reach import reached
from tests.test_reconcile_model import histories

EXPECTED = json.loads((CORPUS / "logs/buys.expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def logs(tmp_path: Path) -> tuple[Path, Path]:
    """The two days' logs, copied where their names are short (expectations name them so)."""
    day1, day2 = tmp_path / "buys-day1.log", tmp_path / "buys-day2.log"
    shutil.copy(CORPUS / "logs/buys-day1.log", day1)
    shutil.copy(CORPUS / "logs/buys-day2.log", day2)
    return day1, day2


def summary(result: Reconciliation, folder: Path) -> dict[str, Any]:
    """The result in the expectation's terms (paths relative to the logs' folder)."""

    def short(place: str) -> str:
        return place.removeprefix(f"{folder}/")

    return {
        "transactions": result.outcomes(),
        "outcomes": {ref: t.outcome for ref, t in sorted(result.transactions.items())},
        "anomalies": [[a.kind, a.ref_id, [short(p) for p in a.lines]] for a in result.anomalies],
        "deducted": result.deducted(),
        "by_product": result.by_product(),
        "by_day": result.by_day(),
        "invalid_lines": [[short(p), n, c] for p, n, c, _ in result.invalid_lines],
        "inquiries": result.inquiries,
    }


def test_one_day(logs: tuple[Path, Path]) -> None:
    day1, _ = logs
    assert summary(irs.reconcile([day1]), day1.parent) == EXPECTED["day1"]


def test_two_days_at_once(logs: tuple[Path, Path]) -> None:
    day1, day2 = logs
    assert summary(irs.reconcile([day1, day2]), day1.parent) == EXPECTED["both_days"]


def test_a_state_carries_open_transactions_to_the_next_day_and_a_second_run_changes_nothing(
    logs: tuple[Path, Path], tmp_path: Path
) -> None:
    day1, day2 = logs
    state = tmp_path / "state.sqlite"
    assert summary(irs.reconcile([day1], state=state), tmp_path) == EXPECTED["day1"]
    rows = count(state)
    again = irs.reconcile([day1], state=state)
    assert count(state) == rows  # the same lines: nothing added
    assert [a.kind for a in again.anomalies] == [a[0] for a in EXPECTED["day1"]["anomalies"]]
    both = summary(irs.reconcile([day2], state=state), tmp_path)
    expected = dict(EXPECTED["both_days"])
    # Invalid lines and inquiries are this run's: the state keeps transaction replies only.
    assert {k: v for k, v in both.items() if k not in ("invalid_lines", "inquiries")} == {
        k: v for k, v in expected.items() if k not in ("invalid_lines", "inquiries")
    }
    assert (both["invalid_lines"], both["inquiries"]) == ([], 0)
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def count(state: Path) -> int:
    with sqlite3.connect(state) as db:
        rows: int = db.execute("SELECT count(*) FROM replies").fetchone()[0]
        return rows


def test_a_run_that_fails_part_way_leaves_the_state_as_it_was(
    logs: tuple[Path, Path], tmp_path: Path
) -> None:
    day1, day2 = logs
    state = tmp_path / "state.sqlite"
    irs.reconcile([day1], state=state)
    before = count(state)
    broken = tmp_path / "day2.log.gz"
    packed = gzip.compress(day2.read_bytes() * 2000)
    broken.write_bytes(packed[: len(packed) // 2])  # truncated part-way
    with pytest.raises(LogReadError):
        irs.reconcile([day2, broken], state=state)  # day2 read, then the failure: one transaction
    assert count(state) == before


def test_a_run_without_a_state_that_fails_part_way_leaves_no_file_open(
    logs: tuple[Path, Path], tmp_path: Path
) -> None:
    day1, day2 = logs
    broken = tmp_path / "day2.log.gz"
    packed = gzip.compress(day2.read_bytes() * 2000)
    broken.write_bytes(packed[: len(packed) // 2])  # truncated part-way
    opened = open_files()
    with mock.patch.multiple(spill, _HELD_ROWS=2, _RUN_ROWS=2):
        with pytest.raises(LogReadError):
            irs.reconcile([day1, broken])  # day1's replies and part of the rest in the spool's files
        assert open_files() - opened == set()
        # Failing once the balance chain is in runs on its file, before they are merged.
        late = RuntimeError("late")
        with (
            mock.patch.object(reconciliation, "_balance_gaps", side_effect=late),
            pytest.raises(RuntimeError),
        ):
            irs.reconcile([day1, day2])
        assert open_files() - opened == set()


def open_files() -> set[tuple[str, str]]:
    """Each file this process has open, by descriptor and what it is (Linux): a descriptor closed
    meanwhile (another test's file the garbage collector closed) and opened again for something
    else is another pair."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, gone already
            found.add((fd, os.readlink(f"/proc/self/fd/{fd}")))
    return found


def test_an_unknown_status_word_is_never_final(tmp_path: Path) -> None:
    log = tmp_path / "unknown.log"
    log.write_text(
        "R#U1 DN1. 0811 GAGAL. TRXID: 1. SISA SALDO: 10.000 - 1.000 = 9.000 @10:00:00.000000 01/12/2024\n",
        encoding="utf-8",
    )
    result = irs.reconcile([log], pending_after=timedelta(hours=1))
    assert result.transactions["U1"].outcome == "unknown"
    assert result.outcomes() == {
        "total": 1,
        "succeeded": 0,
        "failed": 0,
        "conflicting": 0,
        "pending": 0,
        "unknown": 1,
    }
    assert [a.kind for a in result.anomalies] == []  # not failed: no failed_with_deduction either


def test_the_balance_gap_names_the_amount(logs: tuple[Path, Path]) -> None:
    gap = next(a for a in irs.reconcile([logs[0]]).anomalies if a.kind == "balance_gap")
    # A5 left 9.500 (so it says); A6 starts from 9.000: 500 less (messages write plain digits).
    assert "-500" in gap.message
    assert "balance before 9000, but 9500 after the previous reply: -500" in gap.message


# -- the command -----------------------------------------------------------------------------------


def test_the_command_reports_each_anomaly_at_its_line(logs: tuple[Path, Path]) -> None:
    day1, day2 = logs
    result = run("reconcile", str(day1), str(day2))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{day1}:3: failed_with_deduction A2: FAILED, yet 10000 deducted"
    assert sum(1 for line in lines if line.startswith(f"{day1}:")) == 7 + 1  # 7 anomalies, 1 invalid line
    assert lines[-2] == (
        "transactions: 10 (succeeded 7, failed 1, conflicting 1, pending 1, unknown 0), deducted 99000"
    )
    grouped = run("reconcile", "--thousands", str(day1), str(day2)).stdout.splitlines()
    assert grouped[0] == lines[0]  # a message's amounts are plain digits either way
    assert grouped[-2].endswith("deducted 99.000")


def test_the_command_json_and_a_state(logs: tuple[Path, Path], tmp_path: Path) -> None:
    day1, day2 = logs
    state = str(tmp_path / "s.sqlite")
    assert run("reconcile", "--state", state, str(day1)).returncode == 1
    result = run("reconcile", "--state", state, "--format", "json", "--pending-after", "90m", str(day2))
    report = json.loads(result.stdout)
    assert set(report) == {
        "transactions",
        "anomalies",
        "deducted",
        "by_product",
        "by_day",
        "invalid_lines",
        "inquiries",
    }
    assert report["transactions"] == EXPECTED["both_days"]["transactions"]
    assert report["deducted"] == 99000
    assert set(report["anomalies"][0]) == {"kind", "ref_id", "lines", "message"}


def test_a_log_without_anomalies_exits_0_and_faults_exit_2(tmp_path: Path) -> None:
    clean = tmp_path / "clean.log"
    clean.write_text(
        "R#C1 DN1. 0811 SUCCESS. SN: 1. TRXID: 1. SISA SALDO: 10.000 - 1.000 = 9.000 "
        "@10:00:00.000000 01/12/2024&refid=C1\n",
        encoding="utf-8",
    )
    assert run("reconcile", str(clean)).returncode == 0
    missing = run("reconcile", str(tmp_path / "nope.log"))
    assert (missing.returncode, missing.stderr) == (
        2,
        f"irs-grammar: {tmp_path / 'nope.log'}: No such file or directory\n",
    )
    bad = run("reconcile", "--pending-after", "soon", str(clean))
    assert bad.returncode == 2
    assert "'soon' is not a duration such as 1h, 90m, 2d" in bad.stderr
    not_state = tmp_path / "not.sqlite"
    not_state.write_text("hello", encoding="utf-8")
    wrong = run("reconcile", "--state", str(not_state), str(clean))
    assert wrong.returncode == 2
    assert wrong.stderr.startswith(f"irs-grammar: {not_state}: not a reconciliation state")


# -- the transactions are kept on disk: memory stays flat ----------------------------------------------


def buy_log(path: Path, refs: int) -> Path:
    """`refs` transactions, each INPROGRESS then SUCCESS, the balance moving by 1.000 each."""
    balance = 10**12
    with open(path, "w", encoding="utf-8") as out:
        for i in range(refs):
            moment = f"{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.000000 01/12/2024"
            after = balance - 1000
            amounts = f"{balance:,} - 1.000 = {after:,}".replace(",", ".")
            out.write(f"R#R{i:07d} DN1. 0811 INPROGRESS. TRXID: T{i}. @{moment}\n")
            out.write(f"R#R{i:07d} DN1. 0811 SUCCESS. SN: S{i}. TRXID: T{i}. ")
            out.write(f"SISA SALDO: {amounts} @{moment}&refid=R{i:07d}\n")
            balance = after
    return path


def test_the_result_holds_its_transactions_on_disk_not_in_python_memory(tmp_path: Path) -> None:
    # tracemalloc sees Python's allocations. With the transactions in a dict, the result held
    # about 780 bytes a transaction (392 MiB for 500,000); now it holds a file. (The peak of the
    # whole run, 32 MiB for a million replies against 33 MiB for validate, is in make bench.)
    import tracemalloc

    # caches, lazy imports and the spool's first buffers, before measuring
    irs.reconcile([buy_log(tmp_path / "warm.log", 3_000)]).transactions.close()
    held = {}
    for refs in (3_000, 24_000):
        log = buy_log(tmp_path / f"{refs}.log", refs)
        tracemalloc.start()
        result = irs.reconcile([log])
        held[refs] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert result.outcomes()["succeeded"] == refs
        assert result.anomalies == []
        assert result.deducted() == 1000 * refs
        result.transactions.close()
    # 21,000 more transactions: about 8 bytes each (bounded caches filling), where a dict of them
    # held 780. What the result holds besides moves by some 400 KiB from one process to another
    # (19 bytes a transaction here): 64 KiB over 9,000 failed now and then in mutmut's forked runs.
    assert (held[24_000] - held[3_000]) / 21_000 < 100, held


def test_the_transaction_table_reads_like_a_dict_and_goes_with_its_object(tmp_path: Path) -> None:
    log = buy_log(tmp_path / "buys.log", 3)
    result = irs.reconcile([log])
    table = result.transactions
    assert list(table) == ["R0000000", "R0000001", "R0000002"]
    assert len(table) == 3
    assert "R0000001" in table
    assert "R9" not in table
    assert 7 not in table  # type: ignore[comparison-overlap]
    assert table.get("R9") is None
    with pytest.raises(KeyError):
        table["R9"]
    first = table["R0000000"]
    assert (first.replies, first.outcome, first.deciding, first.status) == (
        (f"{log}:1", f"{log}:2"),
        "succeeded",
        f"{log}:2",
        "SUCCESS",
    )
    assert (first.product, first.day, first.deducted) == ("DN1", "2024-12-01", 1000)
    assert [t.ref_id for t in table.rows()] == list(table)
    assert dict(table.items()) == {t.ref_id: t for t in table.rows()}
    table.add([replace(first, ref_id="R0000003", outcome="failed")])  # a Transaction added as it is
    assert (len(table), table["R0000003"].outcome, table["R0000003"].replies) == (4, "failed", first.replies)
    assert table.path is not None
    file = Path(table.path)
    assert file.exists()
    del table, result, first
    import gc

    gc.collect()
    assert not file.exists()  # removed with the object


def test_transactions_counted_not_kept_give_their_totals_and_refuse_a_lookup(tmp_path: Path) -> None:
    log = write(
        tmp_path / "buys.log",
        "R#A DN1. 0811 SUCCESS. SN: 1. TRXID: 9. SISA SALDO: 5.000 - 1.000 = 4.000 "
        "@10:00:00.000000 01/12/2024",
        "R#B PLN20. 0811 INPROGRESS. TRXID: 8. @10:01:00.000000 01/12/2024",
        "R#C DN1. 0811 FAILED. TRXID: 7. SISA SALDO: 4.000 - 500 = 3.500 @12:00:00.000000 01/12/2024",
    )
    with mock.patch.object(spill.Tape, "append") as taped:
        result = irs.reconcile([log], keep_transactions=False)
    try:
        taped.assert_not_called()  # no table of the transactions written
        table = result.transactions
        assert (table.kept, len(table), result.deducted()) == (False, 3, 1500)
        assert result.outcomes() == {
            "total": 3,
            "succeeded": 1,
            "failed": 1,
            "conflicting": 0,
            "pending": 1,
            "unknown": 0,
        }
        assert result.by_product() == {
            "DN1": {"transactions": 2, "deducted": 1500},
            "PLN20": {"transactions": 1, "deducted": 0},
        }
        # B is stuck (2 hours at the last reply): its row is counted, its anomaly listed as ever, by line
        assert [(a.kind, a.ref_id, a.lines) for a in result.anomalies] == [
            ("stuck_pending", "B", (f"{log}:2",)),
            ("failed_with_deduction", "C", (f"{log}:3",)),
        ]
        assert repr(table) == "<TransactionTable of 3 transactions, counted, not kept>"
        looked_up: list[Callable[[], object]] = [
            lambda: table["A"],
            lambda: "A" in table,
            lambda: table.get("A"),
            lambda: list(table),
            lambda: list(table.rows()),
            lambda: table.add([]),
        ]
        for look in looked_up:
            with pytest.raises(LookupError) as refused:
                look()
            assert str(refused.value) == (
                "the transactions were counted, not kept (reconcile(..., keep_transactions=False)): "
                "only their totals can be read"
            )
    finally:
        result.transactions.close()


def test_totals_a_worker_counted_are_added_to_the_tables_whether_kept_or_counted() -> None:
    """append_written(): what judge_part() hands back from a worker, its rows' totals by (product,
    day, outcome) added to those counted so far (a worker's part holds many of one key)."""
    for kept in (True, False):
        table = TransactionTable(kept=kept)
        try:
            day = "2024-12-01"
            table.append_written(
                (b"", {("DN1", day, "succeeded"): [3, 3000], ("DN1", day, "failed"): [2, 0]})
            )
            table.append_written(
                (b"", {("DN1", day, "succeeded"): [4, 500], ("PLN20", day, "pending"): [1, 0]})
            )
            assert table.totals_by("product") == {
                "DN1": {"transactions": 9, "deducted": 3500},
                "PLN20": {"transactions": 1, "deducted": 0},
            }
            outcomes = table.outcomes()
            assert (outcomes["succeeded"], outcomes["total"], table.deducted()) == (7, 10, 3500)
        finally:
            table.close()


def test_the_command_keeps_the_transactions_only_for_the_formats_that_list_them(tmp_path: Path) -> None:
    from irs_grammar import cli

    log = buy_log(tmp_path / "buys.log", 2)
    kept: list[bool] = []
    real = reconciliation.reconcile

    def spy(*args: Any, **kwargs: Any) -> Reconciliation:
        kept.append(kwargs["keep_transactions"])
        return real(*args, **kwargs)

    runs = [["--format", "text"], ["--format", "json"], ["--format", "jsonl"]]
    runs += [["--format", "parquet", "-o", str(tmp_path / "t.parquet")], ["--by", "product"]]
    runs += [["--format", "jsonl", "--by", "product"]]  # rows of totals crossed: none per transaction
    with mock.patch.object(reconciliation, "reconcile", spy), contextlib.redirect_stdout(io.StringIO()):
        for options in runs:
            assert cli.main(["reconcile", *options, str(log)]) == 0
    assert kept == [False, False, True, True, False, False]


def test_an_empty_result_has_an_empty_table(tmp_path: Path) -> None:
    log = tmp_path / "none.log"
    log.write_text("R#A. @12:00:00.000000 01/01/2025\n", encoding="utf-8")  # an inquiry: no buys
    result = irs.reconcile([log])
    table = result.transactions
    assert (len(table), list(table), list(table.rows())) == (0, [], [])
    table.close()  # and a closed table is an empty one
    assert (len(table), list(table), list(table.rows()), table.path) == (0, [], [], None)
    for key in ("A", 7):
        with pytest.raises(KeyError) as missing:
            table[key]  # type: ignore[index]
        assert missing.value.args == (key,)


def test_a_missing_ref_id_is_the_key_error_of_that_key(tmp_path: Path) -> None:
    table = irs.reconcile([buy_log(tmp_path / "buys.log", 2)]).transactions
    for key in ("R9", 7):
        with pytest.raises(KeyError) as missing:
            table[key]  # type: ignore[index]
        assert missing.value.args == (key,)


def test_invalid_lines_in_the_json_report(tmp_path: Path) -> None:
    log = tmp_path / "bad.log"
    log.write_text("R#A. @12:00:00 01/01/2025\n", encoding="utf-8")
    report = irs.reconcile([log]).to_dict()
    assert report["invalid_lines"] == [
        # the time is one token, HH:MM:SS.ffffff: refused where it starts
        {
            "path": str(log),
            "line": 1,
            "column": 7,
            "message": "expected the time (HH:MM:SS.ffffff), found '1'",
        }
    ]


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("30s", timedelta(seconds=30)),
        ("90m", timedelta(minutes=90)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("999999999s", timedelta(seconds=999_999_999)),
    ],
)
def test_durations(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize(
    "text", ["1w", "h", "1.5h", "-1h", "\u0661h", "1234567890s", "1H", "", "9" * 30 + "x"]
)
def test_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration") as refused:
        parse_duration(text)
    shown = repr(text[:20])  # a long text is cut to its first 20 characters
    assert str(refused.value) == f"{shown} is not a duration such as 1h, 90m, 2d"


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (timedelta(seconds=59), "0m"),
        (timedelta(minutes=59, seconds=59), "59m"),
        (timedelta(hours=1), "1h00m"),
        (timedelta(hours=2, minutes=5, seconds=59), "2h05m"),
        (timedelta(days=1, minutes=61), "25h01m"),
        (timedelta(days=1, seconds=59), "24h00m"),  # a day is 86,400 seconds, not one more
    ],
)
def test_how_an_age_is_shown(age: timedelta, shown: str) -> None:
    assert _duration(age) == shown


def test_a_gap_is_signed() -> None:
    assert (_signed(1), _signed(-1), _signed(1_500), _signed(-2_000_000)) == (
        "+1",
        "-1",
        "+1500",
        "-2000000",
    )


def test_anomalies_in_a_file_whose_name_has_a_colon(tmp_path: Path) -> None:
    log = tmp_path / "day:1.log"
    log.write_text(
        "R#G1 DN1. 0811 SUCCESS. SN: 1. TRXID: 1. SISA SALDO: 10.000 - 1.000 = 9.000"
        " @10:00:00.000000 01/12/2024\n"
        "R#G2 DN1. 0811 SUCCESS. SN: 2. TRXID: 2. SISA SALDO: 8.000 - 1.000 = 7.000"
        " @10:01:00.000000 01/12/2024\n",
        encoding="utf-8",
    )
    [gap] = irs.reconcile([log]).anomalies
    assert (gap.kind, gap.lines) == ("balance_gap", (f"{log}:1", f"{log}:2"))


def test_an_anomaly_is_where_its_last_line_in_file_order_is() -> None:
    # by path, then by line as a number (12 after 3, which text would put first); a path may hold ":"
    lines = ("day:1.log:9", "b.log:3", "b.log:12", "a.log:40")
    assert Anomaly("balance_gap", "A1", lines, "m").where == "day:1.log:9"
    assert Anomaly("balance_gap", "A1", ("a.log:40", "b.log:3", "b.log:12"), "m").where == "b.log:12"


def test_a_log_named_twice_is_read_once_in_process(tmp_path: Path) -> None:
    # tests/test_faults.py runs the command with a log as its standard input too; here the library
    log = tmp_path / "day1.log"
    shutil.copyfile(CORPUS / "logs" / "buys-day1.log", log)
    again = f"{tmp_path}/./day1.log"
    twice, once = irs.reconcile([log, again]), irs.reconcile([log])
    try:
        assert twice.notes == [f"{again}: the same file as {log}; read once"]
        assert twice.to_dict() == once.to_dict()
    finally:
        twice.transactions.close()
        once.transactions.close()


def written(log: Path, text: str) -> Path:
    """A log holding `text` (UTF-8): the few hand-written replies a test reads."""
    log.write_text(text, encoding="utf-8")
    return log


def test_anomalies_of_one_line_are_listed_in_the_order_of_their_kinds(tmp_path: Path) -> None:
    # One reply, stuck and naming another reference: both anomalies are at its line, so the report
    # lists them by ANOMALY_KINDS' order (stuck_pending first), not as they were found.
    log = written(
        tmp_path / "one.log",
        "R#S1 DN1. 0811 INPROGRESS. TRXID: 1. @10:00:00.000000 01/12/2024&refid=S2\n"
        "R#S3 DN1. 0811 FAILED. Nomor salah. TRXID: -. @12:00:00.000000 01/12/2024\n",
    )
    found = irs.reconcile([log], pending_after=timedelta(hours=1)).anomalies
    assert [(a.kind, a.lines) for a in found] == [
        ("stuck_pending", (f"{log}:1",)),
        ("refid_mismatch", (f"{log}:1",)),
    ]
    assert [a.kind for a in irs.reconcile([log], state=tmp_path / "s.sqlite").anomalies] == [
        "stuck_pending",
        "refid_mismatch",
    ]


def test_two_gaps_at_one_line_are_listed_by_their_first_line(tmp_path: Path) -> None:
    # By time the chain is line 1, line 3, line 2: both gaps end at line 3 in file order, so the
    # one whose first line comes first (1) is listed first.
    log = written(
        tmp_path / "gaps.log",
        "R#G1 DN1. 0811 SUCCESS. SN: 1. TRXID: 1. SISA SALDO: 10.000 - 1.000 = 9.000"
        " @10:00:00.000000 01/12/2024\n"
        "R#G3 DN1. 0811 SUCCESS. SN: 3. TRXID: 3. SISA SALDO: 5.000 - 1.000 = 4.000"
        " @10:02:00.000000 01/12/2024\n"
        "R#G2 DN1. 0811 SUCCESS. SN: 2. TRXID: 2. SISA SALDO: 8.000 - 1.000 = 7.000"
        " @10:01:00.000000 01/12/2024\n",
    )
    found = irs.reconcile([log]).anomalies
    assert [(a.kind, a.lines) for a in found] == [
        ("balance_gap", (f"{log}:1", f"{log}:3")),
        ("balance_gap", (f"{log}:3", f"{log}:2")),
    ]


def test_a_second_trxid_charged_is_a_duplicate_charge_whatever_the_sn(tmp_path: Path) -> None:
    # The SN of the second reply is the first TRXID: the charges are still under two TRXIDs.
    log = written(
        tmp_path / "dup.log",
        "R#D1 DN1. 0811 INPROGRESS. TRXID: A. SISA SALDO: 10.000 - 1.000 = 9.000"
        " @10:00:00.000000 01/12/2024\n"
        "R#D1 DN1. 0811 SUCCESS. SN: A. TRXID: B. SISA SALDO: 9.000 - 1.000 = 8.000"
        " @10:01:00.000000 01/12/2024\n",
    )
    result = irs.reconcile([log])
    assert [(a.kind, a.lines) for a in result.anomalies] == [("duplicate_charge", (f"{log}:1", f"{log}:2"))]
    assert result.transactions["D1"].deducted == 2000


def test_two_charges_under_one_trxid_are_both_counted_and_a_named_destination_is_kept(tmp_path: Path) -> None:
    # A charge is counted once per (TRXID, amounts): a pending reply's and the SUCCESS's snapshots
    # differ, so both count. The SUCCESS names no destination: the transaction keeps the one the
    # pending reply named.
    log = written(
        tmp_path / "two.log",
        "R#T1 DN1. 0811 INPROGRESS. TRXID: A. SISA SALDO: 10.000 - 1.000 = 9.000"
        " @10:00:00.000000 01/12/2024\n"
        "R#T1 DN1 SUCCESS. SN: 5. TRXID: A. SISA SALDO: 9.000 - 1.000 = 8.000 @10:01:00.000000 01/12/2024\n",
    )
    for state in (None, tmp_path / "s.sqlite"):
        result = irs.reconcile([log], state=state)
        assert result.anomalies == []
        transaction = result.transactions["T1"]
        assert (transaction.deducted, result.deducted(), transaction.destination) == (2000, 2000, "0811")


def test_the_command_passes_pending_after_and_writes_json_as_the_output_can_hold_it(tmp_path: Path) -> None:
    log = tmp_path / "pending.log"
    log.write_text(
        "R#P1 DN1. 0811 INPROGRESS. TRXID: 1. @10:00:00.000000 01/12/2024\n"
        "R#P2 DN1. 0811 FAILED. Nomor salah. TRXID: -. @10:30:00.000000 01/12/2024\n"
        "é\n",
        encoding="utf-8",
    )
    # P1 has waited 30 minutes at the last timestamp read: stuck after 10 minutes, not after the default hour
    assert "anomalies: 0," in run("reconcile", str(log)).stdout
    stuck = run("reconcile", "--pending-after", "10m", str(log))
    assert stuck.returncode == 1
    assert stuck.stdout.splitlines()[0] == (
        f"{log}:1: stuck_pending P1: pending for 30m (last reply INPROGRESS at {log}:1); check it again"
    )
    out = run("reconcile", "--format", "json", "--pending-after", "10m", "--tz", "+07:00", str(log))
    assert "found 'é'" in out.stdout  # standard output is UTF-8: JSON writes it as it is, not \u00e9
    assert json.loads(out.stdout)["anomalies"][0]["kind"] == "stuck_pending"


def test_anomalies_at_their_edges(tmp_path: Path) -> None:
    # Expectations by hand: a FAILED repeated with another SN; a SUCCESS repeated after an
    # INPROGRESS; 1 rupiah deducted by a FAILED and by two TRXIDs; two TRXIDs deducting nothing.
    def buy(ref: str, status: str, details: str, minute: int) -> str:
        return f"R#{ref} DN1. 0811 {status}. {details} @10:{minute:02d}:00.000000 01/12/2024"

    log = tmp_path / "edges.log"
    lines = [
        buy("F1", "FAILED", "SN: 111. TRXID: 1. SISA SALDO: 10.000 - 0 = 10.000", 0),
        buy("F1", "FAILED", "SN: 222. TRXID: 1. SISA SALDO: 10.000 - 0 = 10.000", 1),
        buy("S1", "SUCCESS", "SN: 5. TRXID: 2. SISA SALDO: 10.000 - 1 = 9.999", 2),
        buy("S1", "INPROGRESS", "TRXID: 2.", 3),
        buy("S1", "SUCCESS", "SN: 6. TRXID: 2. SISA SALDO: 10.000 - 1 = 9.999", 4),
        buy("D1", "FAILED", "TRXID: 3. SISA SALDO: 10.000 - 1 = 9.999", 5),
        buy("C1", "SUCCESS", "TRXID: 4. SISA SALDO: 10.000 - 1 = 9.999", 6),
        buy("C1", "SUCCESS", "TRXID: 5. SISA SALDO: 10.000 - 1 = 9.999", 7),
        buy("Z1", "SUCCESS", "TRXID: 6. SISA SALDO: 10.000 - 0 = 10.000", 8),
        buy("Z1", "SUCCESS", "TRXID: 7. SISA SALDO: 10.000 - 0 = 10.000", 9),
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = irs.reconcile([log], pending_after=timedelta(hours=1))
    kinds = ("changed_after_final", "failed_with_deduction", "duplicate_charge")
    found = [(a.kind, a.ref_id, [p.rsplit(":", 1)[1] for p in a.lines], a.message) for a in result.anomalies]
    assert sorted(a for a in found if a[0] in kinds) == sorted(
        [
            ("changed_after_final", "F1", ["1", "2"], "FAILED again with another SN"),
            ("changed_after_final", "S1", ["3", "5"], "SUCCESS again with another SN"),
            ("failed_with_deduction", "D1", ["6"], "FAILED, yet 1 deducted"),
            ("changed_after_final", "C1", ["7", "8"], "SUCCESS again with another TRXID"),
            ("duplicate_charge", "C1", ["7", "8"], "charged under 2 TRXIDs: 4, 5"),
            ("changed_after_final", "Z1", ["9", "10"], "SUCCESS again with another TRXID"),
        ]
    )


# -- what a reply is seen as, the clock, the table's life ------------------------------------------


def test_a_reply_is_seen_with_its_amounts_zeros_too_and_none_without_a_balance() -> None:
    def seen(details: str) -> Seen:
        line = f"R#Z1 DN1. 0811 {details} @10:00:00.000000 01/12/2024"
        return Seen.of(irs.parse_transaction(line), "buys.log", 4)

    drained = seen("SUCCESS. SN: 7. TRXID: 1. SISA SALDO: 1.000 - 1.000 = 0")
    when = datetime(2024, 12, 1, 10)
    assert drained == Seen(
        "buys.log", 4, when, "Z1", "DN1", "SUCCESS", "1", "7", (1000, 1000, 0), None, "0811"
    )
    assert seen("FAILED. TRXID: 1. SISA SALDO: 0 - 0 = 0").balance == (0, 0, 0)
    assert seen("SUCCESS. TRXID: 1. SISA SALDO: 2.500 - 1 = 2.499").balance == (2500, 1, 2499)
    pending = seen("INPROGRESS. TRXID: 2.")
    assert (pending.balance, pending.serial, pending.status) == (None, None, "INPROGRESS")


@pytest.mark.parametrize(("last", "stuck"), [("11:00:00.000000", False), ("11:00:00.000001", True)])
def test_the_clock_is_the_last_reply_read_inquiries_too_and_stuck_is_past_pending_after(
    tmp_path: Path, last: str, stuck: bool
) -> None:
    log = tmp_path / "buys.log"
    log.write_text(
        "R#P1 DN1. 0811 INPROGRESS. TRXID: 8. @10:00:00.000000 01/12/2024\n"
        "R#PLN20. PRICE: 20546. @10:30:00.000000 01/12/2024\n"
        f"R#PLN20. PRICE: 20546. @{last} 01/12/2024\n",
        encoding="utf-8",
    )
    result = irs.reconcile([log], pending_after=timedelta(hours=1))
    assert result.inquiries == 2
    # An hour to the microsecond is not past an hour; the inquiries move the clock on.
    expected = [("stuck_pending", f"pending for 1h00m (last reply INPROGRESS at {log}:1); check it again")]
    assert [(a.kind, a.message) for a in result.anomalies] == (expected if stuck else [])


def test_a_new_table_is_empty_and_has_no_file() -> None:
    table = TransactionTable()
    assert (len(table), list(table), list(table.rows()), table.get("A"), table.path) == (
        0,
        [],
        [],
        None,
        None,
    )
    assert repr(table) == "<TransactionTable of 0 transactions>"
    table.close()
    assert table.path is None


def test_a_table_made_in_one_thread_is_read_in_another_and_closes_when_its_file_is_gone(
    tmp_path: Path,
) -> None:
    log = buy_log(tmp_path / "buys.log", 2)
    with ThreadPoolExecutor(1) as pool:  # a worker reconciles, the caller reads
        result = pool.submit(irs.reconcile, [log]).result()
    table = result.transactions
    assert [(t.ref_id, t.outcome) for t in table.rows()] == [
        ("R0000000", "succeeded"),
        ("R0000001", "succeeded"),
    ]
    assert table.path is not None
    os.remove(table.path)  # a cleaner of /tmp came first
    table.close()
    assert table.path is None  # close() cleared it
    assert len(table) == 0


# -- the state kept across runs (irs_grammar.state): its keys, its zones, its schema, its life -------
# A moment is the wall-clock time the reply wrote, in the zone of the run that reads it.

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
        state.add([Seen.of(reply, "buys.log", 1).row(line_key(SOLD))])
    wall = datetime(2024, 12, 1, 12, 0, 0, 250000)
    for read_in in (None, JAKARTA, UTC):
        with State(path) as state:
            [(ref_id, [kept])] = list(state.rows_by_ref())
            assert (ref_id, wall_and_zone(seen(kept, read_in).when)) == ("L1", (wall, read_in))
            [chained] = list(state.balance_rows())
            assert chained[1:] == ("buys.log", 1, "L1", 10_000, 9_000)
            assert wall_and_zone(moment_of(chained[0], read_in)) == (wall, read_in)
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
    assert [(r.outcomes(), r.deducted(), list(r.anomalies)) for r in results] == [
        ({"total": 1, "succeeded": 1, "failed": 0, "conflicting": 0, "pending": 0, "unknown": 0}, 1000, [])
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
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # ours, of a later version
        db.execute("PRAGMA user_version = 3")
    with pytest.raises(StateError) as refused, State(str(path)):
        pass
    assert str(refused.value) == f"{path}: state of schema version 3; this is version 2"
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (3,)
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_a_run_without_a_state_leaves_no_file_but_its_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(spill, "_HELD_ROWS", 2)  # the replies go to the spool's files
    log = write(tmp_path / "buys.log", SOLD, OPEN, SOLD.replace("R#L1", "R#L2"))
    result = irs.reconcile([log])
    assert (len(result.transactions), result.deducted(), result.transactions.path) == (3, 2000, None)
    assert [p.name for p in tmp_path.iterdir()] == ["buys.log"]  # totals need no table
    assert result.transactions["L2"].outcome == "succeeded"  # a transaction looked up: the table built
    assert result.transactions.path is not None
    table = Path(result.transactions.path).name  # the result's own file, removed with it
    assert fnmatchcase(table, "irs-transactions-*.sqlite")  # as the README names it
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["buys.log", table])
    result.transactions.close()
    assert [p.name for p in tmp_path.iterdir()] == ["buys.log"]


def test_a_state_sqlite_cannot_open_is_named_with_sqlites_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(sqlite3, "connect", refused)
    path = tmp_path / "state.sqlite"
    with pytest.raises(StateError) as caught, State(str(path)):
        pass
    assert str(caught.value) == f"{path}: cannot be opened (unable to open database file)"


def test_a_state_is_read_and_written_only_inside_its_with_block(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    state = State(str(path))
    closed = rf"^{path}: the state is not open \(use it inside `with State\(\.\.\.\)`\)$"
    with pytest.raises(StateError, match=closed):
        state.last_moment(None)
    with state:
        assert state.last_moment(None) is None
    with pytest.raises(StateError, match=closed):
        list(state.rows_by_ref())
    with pytest.raises(StateError, match=closed):
        state.add([])


# -- the scratch file's lists (irs_grammar.spill): a list's behaviour, kept on disk ---------------------


def numbers_list(order: str = "rowid") -> Any:
    from irs_grammar.spill import Scratch, SpilledList

    return SpilledList(Scratch(), "numbers", ("n",), lambda n: (n,), lambda row: row[0], order)


def test_a_spilled_list_reads_like_a_list() -> None:
    numbers = numbers_list()
    assert (len(numbers), list(numbers), numbers == [], numbers == ()) == (0, [], True, True)
    with pytest.raises(IndexError):
        numbers[0]
    numbers.extend([5, 3, 9])
    assert list(numbers) == [5, 3, 9]  # in the order appended
    assert (numbers[0], numbers[2], numbers[-1], numbers[-3]) == (5, 9, 9, 5)
    assert numbers[1:] == [3, 9]
    for outside in (3, -4):
        with pytest.raises(IndexError, match=f"^{outside}$"):  # the index asked
            numbers[outside]
    assert numbers == [5, 3, 9]
    assert numbers == (5, 3, 9)
    assert numbers != [5, 3, 8]
    assert numbers != [5, 3]
    assert numbers != "539"  # a str is no list of numbers
    assert numbers != 539
    assert numbers_list("n DESC") == []
    assert list(numbers_list("n DESC")) == []


def test_a_spilled_list_goes_to_its_file_a_batch_at_a_time() -> None:
    from irs_grammar.spill import _BATCH

    numbers = numbers_list("n DESC")
    numbers.extend(range(_BATCH - 1))
    assert not numbers._scratch.opened  # still in memory: no file yet
    numbers.append(-1)
    assert numbers._scratch.opened  # a whole batch: written out
    assert numbers[0] == _BATCH - 2  # read back in its order
    assert numbers[-1] == -1
    numbers._scratch.close()
    assert numbers._scratch.path is None


def words_list() -> spill.SpilledSortedList[str]:
    return spill.SpilledSortedList(lambda word: (len(word), word), lambda row: row[1])


def test_a_spilled_sorted_list_reads_like_a_list_in_the_order_of_its_rows() -> None:
    words = words_list()
    assert (len(words), list(words), words == [], words == ()) == (0, [], True, True)
    with pytest.raises(IndexError):
        words[0]
    words.extend(["ccc", "a", "bb"])
    assert list(words) == ["a", "bb", "ccc"]  # by length, then text: the rows' order
    assert list(words) == ["a", "bb", "ccc"]  # read as often as wanted
    words.append("")
    words.append("ab")  # after a reading: in the next one
    assert list(words) == ["", "a", "ab", "bb", "ccc"]
    assert list(words.rows()) == [(0, ""), (1, "a"), (2, "ab"), (2, "bb"), (3, "ccc")]
    assert (len(words), words[0], words[3], words[-1], words[-5]) == (5, "", "bb", "ccc", "")
    assert words[1:3] == ["a", "ab"]
    for outside in (5, -6):
        with pytest.raises(IndexError, match=f"^{outside}$"):  # the index asked
            words[outside]
    assert words == ["", "a", "ab", "bb", "ccc"]
    assert words == ("", "a", "ab", "bb", "ccc")
    assert words != ["", "a", "ab", "bb", "cc"]
    assert words != ["", "a", "ab", "bb"]
    assert words != "words"
    assert words != 5
    assert repr(words) == "<SpilledSortedList of 5>"
    words.close()
    assert (len(words), list(words)) == (0, [])


def test_a_spilled_sorted_list_past_memory_is_sorted_runs_merged_at_each_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spill, "_LIST_RUN_ROWS", 10)
    monkeypatch.setattr(spill, "_READ_ROWS", 3)
    monkeypatch.setattr(spill, "_FAN_IN", 2)
    numbers = spill.SpilledSortedList(lambda n: (n,), lambda row: row[0])
    shuffled = [(i * 37) % 100 for i in range(100)]  # 0 to 99, out of order
    for start in range(0, 100, 7):
        numbers.extend(shuffled[start : start + 7])
    assert len(numbers._runs._runs) == 7  # a run written once 10 or more are held: 14 rows (two adds)
    assert list(numbers) == list(range(100))
    # 8 runs with the 2 rows held, none following another: merged 2 at a time, twice, into 2 runs
    assert len(numbers._runs._runs) == 2
    # runs of 14 rows but the last of 2: pairs of 28, 28, 28 and 16, then of 56 and 44 (slices of 3)
    assert sorted(len(run) for run in numbers._runs._runs) == [15, 19]
    numbers.extend([50, -1])  # a repeat is kept; later rows join the next reading
    assert list(numbers) == [-1, *range(51), *range(50, 100)]
    assert (len(numbers), numbers[-1], numbers[51]) == (102, 99, 50)
    assert list(numbers) == [-1, *range(51), *range(50, 100)]


def test_a_spools_repeated_snapshots_go_to_its_file_a_run_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "_REPEAT_RUN_ROWS", 2)
    spooled = spool.Spool()
    sold = ("a.log", 1, "2024-12-01T10:00:00", "7", "DN1", "SUCCESS", "9", "S", 5, 1, 4, None, None)
    spooled.add([(*sold[:1], line, *sold[2:]) for line in range(1, 5)])  # one snapshot, three re-checks
    assert [ref_id for ref_id, _ in spooled.rows_by_ref()] == ["7"]
    assert len(spooled._repeats._runs) == 1  # the three repeats, more than 2 held: a run on the file
    assert [link[2] for link in spooled.balance_rows()] == [1]  # the chain keeps the first reply
    spooled.close()


def test_a_list_kept_beside_a_scratch_file_is_dropped_with_it() -> None:
    scratch, words = spill.Scratch(), words_list()
    scratch.also_closes(words.close)
    words.extend(["b", "a"])
    scratch.close()
    assert list(words) == []


def test_the_anomalies_go_with_the_transactions_file(tmp_path: Path) -> None:
    log = write(tmp_path / "buys.log", OPEN, SOLD)  # OPEN two hours before the last reply
    result = irs.reconcile([log])
    assert [a.kind for a in result.anomalies] == ["stuck_pending"]
    result.transactions.close()
    assert (len(result.anomalies), list(result.anomalies)) == (0, [])


# -- the fast reading of a batch: the rows of the replies, without building them -----------------------

_LINES = st.one_of(
    strategies.transaction_lines(),
    strategies.response_lines(),
    strategies.transaction_near_misses(),
    st.sampled_from(["", " \t", "x", "R#A1 DN1. 0811 SUCCESS. TRXID: 1. @10:00:00.000000 01/12/2024"]),
)


@given(lines=st.lists(_LINES, max_size=6), by_text=st.booleans())
def test_a_batch_is_read_fast_into_the_rows_of_its_replies(lines: list[str], by_text: bool) -> None:
    raw = [line.encode(errors="surrogateescape") + b"\n" for line in lines]
    got = read_batch(raw, 7, "a.log", None, False, 1 << 20, by_text)
    # The reference: every line read the slow way, each transaction reply's row made from the reply.
    rows, invalid, inquiries, last = [], [], 0, None
    for number, text in enumerate((r.decode(errors="replace") if _utf8(r) else r for r in raw), 7):
        if isinstance(text, bytes):  # not UTF-8: the reader's error, as the command reports it
            invalid.append((number, *_error_of(number, text)))
            continue
        result = check_line(number, text, extract=False)
        if result.error is not None:
            invalid.append((number, result.error.column, result.error.message))
            continue
        if result.reply is None:
            continue
        last = result.reply.timestamp if last is None else max(last, result.reply.timestamp)
        if isinstance(result.reply, TransactionResponse):
            seen_reply = Seen.of(result.reply, "a.log", number)
            rows.append(seen_reply.row(line_key(text)) if by_text else seen_reply.kept())
        else:
            inquiries += 1
    event("a transaction reply" if rows else "no transaction reply")
    reached()
    assert got == ReadBatch(rows, invalid, inquiries, last)


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def _error_of(number: int, raw: bytes) -> tuple[int, str]:
    from irs_grammar.lines import decode_line

    error = decode_line(number, raw)
    assert isinstance(error, irs.ParseError)
    return error.column, error.message


# -- judging: the shortcut for a plain history gives what the full judgement gives ------------------------


@st.composite
def _kept_histories(draw: st.DrawFn) -> list[str]:
    """The model's histories (tests/test_reconcile_model.py), products and destinations varied, a
    reply without a destination (`R#A DN1 FAILED`) among them, moments with a fraction of a second
    or none (each written its own way: `10:00:00`, `10:00:00.250000`, with an offset or not)."""
    lines, days = [], 0
    for step in draw(histories()):
        days += draw(st.sampled_from([0, 0, 1]))  # a history across midnight: its day is the deciding reply's
        fraction = timedelta(microseconds=draw(st.sampled_from([0, 250_000])))
        reply = TransactionResponse.build(
            ref_id=step.ref_id,
            product_code=draw(st.sampled_from(["DN1", "PLN20"])),
            destination=draw(st.sampled_from([None, "0811", "0822"])),
            status=step.status,
            serial_number=step.serial,
            transaction_id=draw(st.sampled_from([step.trxid, "-"])),
            balance=step.balance,
            refid=step.refid,
            timestamp=step.when + timedelta(days=days) + fraction,
        )
        lines.append(irs.serialize(reply) + "\n")
    return lines


def _judged(state: Path, tz: tzinfo | None, shortcut: bool) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """What reconcile() finds in a state, with _plain as it is or never taken (the full judgement)."""
    original, plain, changed = reconciliation._plain, [], []

    def counted(*arguments: Any) -> Any:
        row = original(*arguments) if shortcut else None
        plain.append(row is not None)
        changed.append(row is not None and bool(row[2]))
        return row

    with mock.patch.object(reconciliation, "_plain", counted):
        result = irs.reconcile([], state=state, tz=tz)
    try:
        if shortcut and currently_in_test_context():
            event(f"histories judged by the shortcut: {'some' if any(plain) else 'none'}")
            event(f"histories judged in full: {'some' if not all(plain) else 'none'}")
            event(f"changed_after_final found by the shortcut: {'some' if any(changed) else 'none'}")
        return list(result.transactions.rows()), list(result.anomalies), result.to_dict()
    finally:
        result.transactions.close()


ZONES = st.sampled_from([None, JAKARTA])


@given(lines=_kept_histories(), kept_in=ZONES, read_in=ZONES)
def test_a_plain_history_is_judged_by_the_shortcut_as_by_the_full_judgement(
    lines: list[str], kept_in: tzinfo | None, read_in: tzinfo | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        log, state = Path(folder, "buys.log"), Path(folder, "state.sqlite")
        log.write_text("".join(lines), encoding="utf-8")
        irs.reconcile([log], state=state, tz=kept_in).transactions.close()
        shortcut = _judged(state, read_in, shortcut=True)
        full = _judged(state, read_in, shortcut=False)
    reached()
    assert shortcut == full


def _reconciled(
    log: Path, shortcut: bool, kept: bool = True
) -> tuple[list[Transaction], list[Anomaly], list[bool], tuple[int, int]]:
    """reconcile() of a log, with the plain-history shortcut as it is or never taken: its
    transactions (when kept), anomalies, whether the shortcut took each ref_id, and the sum
    deducted as deducted() and the report say it."""
    original, taken = reconciliation._plain, []

    def plain(*arguments: Any) -> Any:
        row = original(*arguments) if shortcut else None
        taken.append(row is not None)
        return row

    with mock.patch.object(reconciliation, "_plain", plain):
        result = irs.reconcile([log], keep_transactions=kept)
    try:
        transactions = list(result.transactions.rows()) if kept else []
        return transactions, list(result.anomalies), taken, (result.deducted(), result.to_dict()["deducted"])
    finally:
        result.transactions.close()


@pytest.mark.parametrize("shortcut", [True, False], ids=["shortcut", "full judgement"])
@pytest.mark.parametrize("kept", [True, False], ids=["kept", "counted"])
def test_each_snapshot_a_trxid_is_charged_in_counts_once(shortcut: bool, kept: bool, tmp_path: Path) -> None:
    # Re-checks of one TRXID: a second snapshot charged (99.000 - 1.000) is a second charge, the
    # same snapshot again is not. By hand: 1,000 + 1,000.
    reply = "R#A1 DN1. 0811 SUCCESS. SN: 1. TRXID: 9. SISA SALDO: {} @10:0{}:00.000000 01/12/2024\n"
    snapshots = ["100.000 - 1.000 = 99.000", "99.000 - 1.000 = 98.000", "99.000 - 1.000 = 98.000"]
    log = written(tmp_path / "buys.log", "".join(reply.format(s, n) for n, s in enumerate(snapshots)))
    _, anomalies, taken, deducted = _reconciled(log, shortcut, kept)
    assert taken == [shortcut]  # the history is a plain one: the shortcut takes it when asked
    assert deducted == (2000, 2000)
    assert [a.kind for a in anomalies] == ["changed_after_final"] * 2


# Hand-written histories: their lines, the anomalies expected (kind, lines, message) and the
# transaction's (outcome, destination, serial, deciding line).
HISTORIES = {
    # SUCCESS, a re-check still in progress, SUCCESS again with another SN: the second SUCCESS is
    # compared with the first, past the reply between them
    "a final reply changed past another": (
        "R#B1 DN1. 0811 SUCCESS. SN: 1. TRXID: 9. @10:00:00.000000 01/12/2024\n"
        "R#B1 DN1. 0811 INPROGRESS. TRXID: 9. @10:01:00.000000 01/12/2024\n"
        "R#B1 DN1. 0811 SUCCESS. SN: 2. TRXID: 9. @10:02:00.000000 01/12/2024\n",
        [("changed_after_final", (1, 3), "SUCCESS again with another SN")],
        ("succeeded", "0811", "2", 3),
    ),
    # the deciding reply names no destination: the last one named (of two) is the transaction's
    "a deciding reply without a destination": (
        "R#C1 DN1. 0811 INPROGRESS. TRXID: 7. @10:00:00.000000 01/12/2024\n"
        "R#C1 DN1. 0822 INPROGRESS. TRXID: 7. @10:01:00.000000 01/12/2024\n"
        "R#C1 DN1 FAILED. TRXID: 7. @10:02:00.000000 01/12/2024\n",
        [],
        ("failed", "0822", None, 3),
    ),
}


@pytest.mark.parametrize("shortcut", [True, False], ids=["shortcut", "full judgement"])
@pytest.mark.parametrize("history", list(HISTORIES))
def test_a_history_is_judged_as_written_by_hand(history: str, shortcut: bool, tmp_path: Path) -> None:
    text, anomalies, (outcome, destination, serial, deciding) = HISTORIES[history]
    log = written(tmp_path / "buys.log", text)
    (transaction,), found, taken, _ = _reconciled(log, shortcut)
    assert taken == [shortcut]  # a plain history: the shortcut takes it when asked
    ref_id = transaction.ref_id
    assert found == [
        Anomaly(kind, ref_id, tuple(f"{log}:{n}" for n in lines), message)
        for kind, lines, message in anomalies
    ]
    assert (transaction.outcome, transaction.destination, transaction.serial) == (
        outcome,
        destination,
        serial,
    )
    assert transaction.deciding == f"{log}:{deciding}"


# -- a run without a state (spool.Spool): what a state's SQL gives, however the rows are spread --------


def _spooled_and_kept(log: Path, tz: tzinfo | None, folder: str, jobs: int = 1) -> list[tuple[Any, ...]]:
    """What reconcile() finds in a log without a state (read and judged on `jobs` processes) and
    with one: rows, anomalies, report; each run again with its transactions counted, not kept,
    seen to find the same anomalies and report."""
    reading = reconciliation.Reading(jobs=jobs)
    state = Path(folder, "state.sqlite")
    results = [irs.reconcile([log], tz=tz, reading=reading), irs.reconcile([log], state=state, tz=tz)]
    try:
        found = [(list(r.transactions.rows()), list(r.anomalies), r.to_dict(), r.replies) for r in results]
        state.unlink()  # the counted run with a state reads the log as new, as the kept one did
        counted = [
            irs.reconcile([log], tz=tz, reading=reading, keep_transactions=False),
            irs.reconcile([log], state=state, tz=tz, keep_transactions=False),
        ]
        results += counted
        for kept, result in zip(found, counted, strict=True):
            assert (list(result.anomalies), result.to_dict(), result.replies) == kept[1:]
            assert len(result.transactions) == kept[2]["transactions"]["total"]
        return found
    finally:
        for result in results:
            result.transactions.close()


@given(lines=_kept_histories().flatmap(st.permutations), tz=ZONES, spread=st.booleans())
def test_a_run_without_a_state_finds_what_a_state_finds(
    lines: list[str], tz: tzinfo | None, spread: bool
) -> None:
    # The lines in any order: a log's order is not always its timestamps'.
    # Spread: the replies go to the spool's file at once, each part above 2 rows is spread again
    # (to the last depth), the balance chain and its repeats are sorted in runs of 2 read back a row
    # at a time.
    # The runs that follow one another are read as one stream, the others merged (spill.Runs).
    tiny: dict[str, Any] = {
        "_HELD_ROWS": 1,
        "_PART_ROWS": 2,
        "_RUN_ROWS": 2,
        "_LIST_RUN_ROWS": 2,
        "_READ_ROWS": 1,
        "_FAN_IN": 2,
    }
    as_is = {name: getattr(spill, name) for name in tiny}
    streams: list[int] = []

    def counted(runs: spill.Runs) -> list[list[spill.Place]]:
        found = original(runs)
        streams.append(len(found))
        return found

    original = spill.Runs._streams
    with (
        tempfile.TemporaryDirectory() as folder,
        mock.patch.multiple(spill, **(tiny if spread else as_is)),
        mock.patch.object(spool, "_REPEAT_RUN_ROWS", 2 if spread else spool._REPEAT_RUN_ROWS),
        mock.patch.object(spill.Runs, "_streams", counted),
    ):
        log = Path(folder, "buys.log")
        log.write_text("".join(lines), encoding="utf-8")  # no line twice: the state keeps each
        spooled, kept = _spooled_and_kept(log, tz, folder)
    reached()
    event(f"balance links: {'several' if len(lines) > 2 else 'few'}")
    if spread:
        most = max(streams, default=0)
        event(f"runs read as streams: {'one' if most == 1 else 'several' if most else 'none'}")
    assert spooled == kept


@settings(max_examples=20)  # each example starts two pools of workers
@given(lines=_kept_histories().flatmap(st.permutations), tz=ZONES)
def test_a_run_on_workers_finds_what_a_state_finds(lines: list[str], tz: tzinfo | None) -> None:
    # --jobs 2: the workers spread the rows they read (a small log is read in this process, through
    # the same reader), then judge the spool's parts, each part above 2 rows spread again first.
    tiny: dict[str, Any] = {"_PART_ROWS": 2, "_READ_ROWS": 1}
    with tempfile.TemporaryDirectory() as folder, mock.patch.multiple(spill, **tiny):
        log = Path(folder, "buys.log")
        log.write_text("".join(lines), encoding="utf-8")
        with mock.patch.object(reconciliation, "each_in_workers", wraps=batches.each_in_workers) as pool:
            spooled, kept = _spooled_and_kept(log, tz, folder, jobs=2)
    reached()
    # the run without a state judged on workers, its transactions kept, then only counted
    assert [call.args[0] for call in pool.call_args_list] == [reconciliation.judge_parts] * 2
    assert [call.args[2][-1] for call in pool.call_args_list] == [True, False]
    assert spooled == kept


def test_the_spool_spreads_its_rows_over_parts_and_sorts_the_chain_in_runs(tmp_path: Path) -> None:
    # 600 ref_ids, 2 replies each: spread over parts, those above 3 rows spread again, the chain
    # merged from runs of 100; the report is the state's.
    lines = [
        f"R#R{i} DN1. 0811 {status}. TRXID: T{i}. SISA SALDO: {900 - i}.000 - 1.000 = {899 - i}.000 "
        f"@10:{i // 60:02d}:{i % 60:02d}.000000 01/12/2024"
        for i in range(600)
        for status in ("INPROGRESS", "SUCCESS")
    ]
    log = write(tmp_path / "buys.log", *lines)
    written: list[int] = []
    real = spill.Parts._write

    def counted(parts: spill.Parts) -> None:
        written.append(parts._depth)
        real(parts)

    tiny: dict[str, Any] = {"_HELD_ROWS": 100, "_PART_ROWS": 3, "_RUN_ROWS": 100, "_READ_ROWS": 7}
    with (
        mock.patch.multiple(spill, **tiny),
        mock.patch.object(reconciliation, "BATCH_LINES", 100),
        mock.patch.object(spill.Parts, "_write", counted),
    ):
        spooled, kept = _spooled_and_kept(log, None, str(tmp_path))
    assert spooled == kept
    assert len(spooled[0]) == 600
    assert spooled[2]["anomalies"] == []  # every balance chained
    assert written.count(0) == 2 * 12  # 1,200 rows, 100 at a time (the run kept, then counted)
    assert max(written) >= 1  # a part of more than 3 rows spread again


_TRANSACTIONS = st.lists(
    st.builds(
        Transaction,
        ref_id=st.text("AB7XY", min_size=1, max_size=4),
        replies=st.just(("buys.log:1",)),
        outcome=st.sampled_from(reconciliation.OUTCOMES),
        deciding=st.just("buys.log:1"),
        status=st.sampled_from(["SUCCESS", "FAILED", "INPROGRESS"]),
        product=st.sampled_from(["DN1", "PLN20", "Z"]),
        day=st.sampled_from(["2024-12-01", "2024-12-02", "2025-01-01"]),
        deducted=st.integers(0, 10**18),
    ),
    unique_by=lambda t: t.ref_id,
)


@given(transactions=_TRANSACTIONS, gaps=st.sets(st.text("AB7XY", min_size=1, max_size=4)))
def test_a_table_counts_its_totals_as_sql_counts_them_and_builds_itself_from_its_tape(
    transactions: list[Transaction], gaps: set[str]
) -> None:
    appended, added = TransactionTable(), TransactionTable()
    try:
        appended.append([reconciliation._row(t) for t in transactions])
        added.add(transactions)  # to the table at once: its totals are SQL
        noted = [Anomaly("balance_gap", ref_id, ("a:1", "a:2"), "") for ref_id in sorted(gaps)]
        appended.note(noted)  # waits with the tape
        added.note(noted)
        assert appended.path is None  # the totals need no table
        reached()
        for columns in [c for n in (1, 2, 3) for c in permutations(reconciliation.GROUPS, n)]:
            assert appended.crossed(columns) == added.crossed(columns)
        assert (appended.outcomes(), appended.deducted(), len(appended)) == (
            added.outcomes(),
            added.deducted(),
            len(added),
        )
        assert appended.path is None
        assert list(appended.rows()) == list(added.rows())  # built from the tape, the notes applied
        assert [t.ref_id for t in appended.rows() if t.anomalies] == sorted(
            gaps & {t.ref_id for t in transactions}
        )
    finally:
        appended.close()
        added.close()


@pytest.mark.parametrize("counted", [True, False], ids=["totals counted", "totals by SQL"])
def test_totals_are_crossed_by_the_groups_only(counted: bool) -> None:
    table = TransactionTable()
    try:
        rows = [
            reconciliation._row(
                Transaction("7", ("a:1",), "pending", "a:1", "INPROGRESS", "DN1", "2024-12-01", 0)
            )
        ]
        if counted:
            table.append(rows)
        else:
            table.add_rows(rows)
        assert table.crossed(("outcome",)) == [{"outcome": "pending", "transactions": 1, "deducted": 0}]
        refused = "totals go by product, day, outcome, not "
        with pytest.raises(ValueError, match=f"^{refused}ref_id, places$"):
            table.crossed(("ref_id", "day", "places"))
        with pytest.raises(ValueError, match=f"^{refused}nothing$"):
            table.crossed(())
        table.close()
        # Empty once closed, counted or not, and no file made again to say so.
        assert (len(table), table.deducted(), table.outcomes()["total"], table.path) == (0, 0, 0, None)
    finally:
        table.close()


@pytest.mark.parametrize("tz", [None, timezone(timedelta(hours=7))], ids=["naive", "+07:00"])
def test_a_part_judged_in_a_worker_is_judged_as_in_this_process(
    tz: tzinfo | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # judge_parts() called here (the workers run it in other processes): what it hands back is what
    # the serial judgement adds to the table, the anomalies and the balance chain; in the run's zone,
    # and however many batches _judged() cuts a part into (one ref_id a batch here).
    monkeypatch.setattr(reconciliation, "_BATCH", 1)
    lines = [
        SOLD,
        OPEN,
        SOLD.replace("R#L1", "R#L2").replace("SN: 1", "SN: 2"),
        SOLD.replace("SN: 1", "SN: 3"),
    ]
    rows = read_batch([line.encode() + b"\n" for line in lines], 1, "a.log", tz, False, 1 << 20, False).rows
    late = datetime(2024, 12, 1, 14, 0, tzinfo=tz)
    serial_table, serial_anomalies, part = [], [], list(rows)
    for table, found in reconciliation._judged(spool.by_ref(part), tz, late, timedelta(hours=1), True):
        serial_table += table
        serial_anomalies += found
    # two parts in one task, as a spool's parts hold them: the first ref_id's rows, then the others'
    by_ref_id = sorted(rows, key=lambda row: row[3])
    first_ref = [row for row in by_ref_id if row[3] == by_ref_id[0][3]]
    others = [row for row in by_ref_id if row[3] != by_ref_id[0][3]]
    parts = [[spill.dumps(first_ref)], [spill.dumps(others[:1]), spill.dumps(others[1:])]]
    written, anomaly_rows, repeats = reconciliation.judge_parts(parts, tz, late, timedelta(hours=1), True)
    assert len(written) == 2  # each part's table rows, written and counted
    assert sorted(row for chunk, _ in written for row in marshal.loads(chunk)) == sorted(serial_table)
    for (chunk, totals), rows_of_part in zip(written, (first_ref, others), strict=True):
        counted: reconciliation.Totals = {}
        reconciliation.count_totals(marshal.loads(chunk), counted)
        assert totals == counted
        assert {row[0] for row in marshal.loads(chunk)} == {row[3] for row in rows_of_part}
    assert sorted(anomaly_rows) == sorted(serial_anomalies)
    assert {row[5] for row in serial_anomalies} == {"stuck_pending", "changed_after_final"}
    # one run for the task, of both parts' repeated snapshots: L1's re-check at line 4 repeats line 1's
    assert [row for piece in repeats for row in marshal.loads(piece)] == [
        (rows[3][2], "a.log", 4, "L1", 10_000, 9_000)
    ]
    # transactions not kept: the same totals, anomalies and repeats, no row written
    assert reconciliation.judge_parts(parts, tz, late, timedelta(hours=1), False) == (
        [(b"", totals) for _, totals in written],
        anomaly_rows,
        repeats,
    )


def test_the_workers_get_the_parts_in_tasks_of_at_most_8_parts_or_about_a_megabyte() -> None:
    parts = [[b"x" * 100] for _ in range(20)] + [[b"y" * 600_000, b"z" * 500_000], [b"w"], [b"v"]]
    tasks = list(reconciliation._tasks(iter(parts)))
    assert [part for task in tasks for part in task] == parts  # each once, in order
    assert list(map(len, tasks)) == [8, 8, 5, 2]  # the fifth of the third task passes 1 MiB
    mib = 1 << 20  # a task ends as its parts reach 1 MiB exactly
    sizes = [mib - 1, 1, mib - 2, 1, 1, 5]
    tasks = list(reconciliation._tasks([b"x" * size] for size in sizes))
    assert [[len(part[0]) for part in task] for task in tasks] == [[mib - 1, 1], [mib - 2, 1, 1], [5]]


@pytest.mark.parametrize("given_as", ["rows", "spread in a worker"])
def test_parts_hold_every_row_once_each_key_in_one_part_and_spread_a_big_part_again(given_as: str) -> None:
    rows = [(f"K{key}", copy) for key in range(600) for copy in (1, 2)]
    with mock.patch.multiple(spill, _HELD_ROWS=10, _PART_ROWS=3):
        parts = spill.Parts(0)
        if given_as == "rows":
            parts.add(rows)
        else:
            for start in range(0, len(rows), 100):
                chunks = spill.spread(rows[start : start + 100], 0)
                # spread as Parts spreads at its first depth: by the key's CRC-32, a part a byte of it
                assert all(
                    key_hash(row[0]) % 256 == n for n, chunk, _ in chunks for row in marshal.loads(chunk)
                )
                parts.add_spread(chunks)
        got = list(parts.parts())
    assert sorted(row for part in got for row in part) == sorted(rows)
    assert len({row[0] for part in got for row in part}) == sum(len({row[0] for row in part}) for part in got)
    # 600 keys over 256 parts: some hold 3 keys or more, spread again (under another hash) to 2 rows
    assert max(map(len, got)) == 2


_AT = "@08:00:00.000000 01/12/2024"
_LATER = "@08:05:00.000000 01/12/2024"


@pytest.mark.parametrize(
    "lines",
    [
        # after = before + deduction: a balance that does not add up, though the sum does
        [f"R#A DN1. 0811 SUCCESS. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 11.000 {_AT}"],
        # charged under two TRXIDs, one final reply
        [
            f"R#A DN1. 0811 INPROGRESS. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 9.000 {_AT}",
            f"R#A DN1. 0811 SUCCESS. TRXID: T2. SISA SALDO: 9.000 - 1.000 = 8.000 {_LATER}",
        ],
        # one charge seen twice, under two SNs: deducted once
        [
            f"R#A DN1. 0811 INPROGRESS. SN: 111. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 9.000 {_AT}",
            f"R#A DN1. 0811 SUCCESS. SN: 222. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 9.000 {_LATER}",
        ],
        # one charge seen twice, with its own &refid= tail and without: deducted once
        [
            f"R#A DN1. 0811 INPROGRESS. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 9.000 {_AT}",
            f"R#A DN1. 0811 SUCCESS. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 9.000 {_LATER}&refid=A",
        ],
        # the whole balance charged (after 0), and a charge of one rupiah
        [f"R#A DN1. 0811 SUCCESS. TRXID: T1. SISA SALDO: 1.000 - 1.000 = 0 {_AT}"],
        [f"R#A DN1. 0811 SUCCESS. TRXID: T1. SISA SALDO: 10.000 - 1 = 9.999 {_AT}"],
        # the deciding reply's destination, not a later reply's
        [
            f"R#A DN1. 0811 SUCCESS. TRXID: T1. {_AT}",
            f"R#A DN1. 0822 INPROGRESS. TRXID: T1. {_LATER}",
        ],
    ],
    ids=[
        "adds-the-wrong-way",
        "two-trxids",
        "two-sns",
        "refid-tail",
        "all-of-it",
        "one-rupiah",
        "destination",
    ],
)
def test_the_shortcut_agrees_with_the_full_judgement_at_its_edges(lines: list[str], tmp_path: Path) -> None:
    log, state = tmp_path / "buys.log", tmp_path / "state.sqlite"
    log.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    irs.reconcile([log], state=state).transactions.close()
    assert _judged(state, None, shortcut=True) == _judged(state, None, shortcut=False)


def test_re_checks_of_one_final_status_are_judged_by_the_shortcut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SUCCESS, then SUCCESS again: the same (no anomaly), with another SN and other amounts, with
    another TRXID and other amounts: each changed one is changed_after_final, worded as the full
    judgement words it, and no reply becomes a Seen."""
    monkeypatch.chdir(tmp_path)
    sold = "R#A DN1. 0811 SUCCESS. SN: 1. TRXID: T1. SISA SALDO: {} {}\n"
    Path("buys.log").write_text(
        sold.format("10.000 - 1.000 = 9.000", _AT)
        + sold.format("10.000 - 1.000 = 9.000", _LATER)  # the same: the reply that decides
        + sold.replace("SN: 1", "SN: 2").format("9.000 - 1.000 = 8.000", _AT)
        + sold.replace("TRXID: T1", "TRXID: T2").format("8.000 - 0 = 8.000", _AT),
        encoding="utf-8",
    )
    with mock.patch.object(reconciliation, "seen", wraps=seen) as made:
        result = irs.reconcile(["buys.log"])
    try:
        assert [(a.kind, a.lines, a.message) for a in result.anomalies] == [
            (
                "changed_after_final",
                ("buys.log:1", "buys.log:3"),
                "SUCCESS again with another SN and amounts",
            ),
            (
                "changed_after_final",
                ("buys.log:1", "buys.log:4"),
                "SUCCESS again with another TRXID and amounts",
            ),
        ]
        [transaction] = result.transactions.rows()
        assert (transaction.outcome, transaction.deciding, transaction.deducted) == (
            "succeeded",
            "buys.log:2",
            2000,
        )
        assert transaction.anomalies == ("changed_after_final",)
    finally:
        result.transactions.close()
    assert made.call_count == 0


def test_an_anomalys_row_made_without_it_is_its_row() -> None:
    # The last place is the greatest (path, then line), not the last named; the first is the first.
    at = [("b.log", 9), ("a.log", 12)]
    anomaly = reconciliation.Anomaly("changed_after_final", "A", ("b.log:9", "a.log:12"), "m")
    made = reconciliation._anomaly_row_at("changed_after_final", "A", at, "m")
    assert made == reconciliation._anomaly_row(anomaly)
    assert made[:5] == ("b.log", 9, 1, "b.log", 9)


def test_a_clean_log_is_judged_without_a_seen_per_reply(tmp_path: Path) -> None:
    """The shortcut is what makes reconcile fast: a clean history (INPROGRESS, then SUCCESS with its
    charge and its own &refid=) never becomes Seen objects."""
    log = tmp_path / "buys.log"
    log.write_text(
        f"R#A DN1. 0811 INPROGRESS. TRXID: T1. {_AT}\n"
        f"R#A DN1. 0811 SUCCESS. SN: 1. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 9.000 {_LATER}&refid=A\n"
        f"R#B DN1. 0811 FAILED. TRXID: T2. SISA SALDO: 9.000 - 0 = 9.000 {_LATER}\n",
        encoding="utf-8",
    )
    with mock.patch.object(reconciliation, "seen", wraps=seen) as made:
        result = irs.reconcile([log])
    assert [(t.ref_id, t.outcome, t.deducted) for t in result.transactions.rows()] == [
        ("A", "succeeded", 1000),
        ("B", "failed", 0),
    ]
    result.transactions.close()
    assert made.call_count == 0


def test_a_state_named_without_a_folder_is_kept_in_the_current_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("buys.log").write_text(f"R#A DN1. 0811 SUCCESS. TRXID: T1. {_AT}\n", encoding="utf-8")
    result = irs.reconcile(["buys.log"], state="state.sqlite")
    assert result.transactions["A"].replies == ("buys.log:1",)
    result.transactions.close()
    assert (tmp_path / "state.sqlite").stat().st_size > 0


def test_a_long_log_is_judged_a_batch_at_a_time_and_its_progress_told(tmp_path: Path) -> None:
    """2,100 buys, each a balance gap after the first: the lines come in two batches (BATCH_LINES),
    the transactions and the 2,099 gaps go to disk a thousand at a time; every line is counted and
    progress is told for this log, a batch at a time, to its last byte."""
    log = tmp_path / "buys.log"
    with log.open("w", encoding="utf-8") as out:
        for i in range(2_100):
            moment = f"@{8 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000000 01/12/2024"
            out.write(f"R#R{i} DN1. 0811 SUCCESS. TRXID: T{i}. SISA SALDO: 10.000 - 1.000 = 9.000 {moment}\n")
    told: list[tuple[str, int, int]] = []
    reading = reconciliation.Reading(done=lambda path, lines, size: told.append((path, lines, size)))
    result = irs.reconcile([log], reading=reading)
    try:
        assert result.replies == 2_100
        assert [a.kind for a in result.anomalies] == ["balance_gap"] * 2_099
        assert sum(t.anomalies == ("balance_gap",) for t in result.transactions.rows()) == 2_099
        assert {path for path, _, _ in told} == {str(log)}
        assert sum(lines for _, lines, _ in told) == 2_100
        assert sum(size for _, _, size in told) == log.stat().st_size
        assert len(told) == 2
    finally:
        result.transactions.close()


_COMMON = (
    "R#A DN1. 0811 SUCCESS. SN: 1. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 9.000 @08:00:00.821005 01/12/2024"
)
_WHOLE_SECOND = "R#B DN1. 0811 INPROGRESS. TRXID: T2. @08:00:01.000000 01/12/2024"
# another key before SN: the general shape
_UNCOMMON = "R#C DN1. 0811 INPROGRESS. NOTE: x. SN: 1. TRXID: T3. @09:00:00.000000 01/12/2024"
_INQUIRY = "R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024"


def test_a_batch_reads_the_common_lines_fast_and_the_rest_in_full() -> None:
    lines = [_COMMON, _WHOLE_SECOND, _UNCOMMON, _INQUIRY, _INQUIRY, "\udcff"]
    raw = [line.encode(errors="surrogateescape") + b"\n" for line in lines]
    with mock.patch.object(reconciliation, "check_line", wraps=check_line) as full:
        got = read_batch(raw, 1, "a.log", None, False, 1 << 20, False)
    # the moments as datetime.isoformat() writes them: the fraction kept, or none when it is 0
    assert [(row[1], row[2], row[8:11]) for row in got.rows] == [
        (1, "2024-12-01T08:00:00.821005", (10_000, 1_000, 9_000)),
        (2, "2024-12-01T08:00:01", (None, None, None)),
        (3, "2024-12-01T09:00:00", (None, None, None)),
    ]
    assert got.inquiries == 2
    assert got.last_moment == datetime(2024, 12, 1, 9, 0)  # the slow reply's, past the fast ones'
    assert [(n, column) for n, column, _ in got.invalid] == [(6, 1)]  # not UTF-8
    assert full.call_count == 1  # the line of the general shape; the common ones never
    # In a zone every line is read in full: the inquiries counted one by one all the same.
    zoned = read_batch(raw[3:5], 1, "a.log", UTC, False, 1 << 20, False)
    assert (zoned.inquiries, zoned.rows) == (2, [])


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_a_line_is_kept_in_a_state_under_the_digest_of_its_text_less_its_break(ending: str) -> None:
    # 0.2.0's key: the sha256 of serialize(parse(line)), which is the line less its break
    assert line_key(_COMMON + ending) == hashlib.sha256(_COMMON.encode()).digest()
