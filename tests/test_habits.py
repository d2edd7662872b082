"""The command line's habits, the same in every command that reads logs, and reconcile's rows.

One option set (`--extract`, `--max-line-length`, `--jobs`, `--quiet`, `--progress`, files or
standard input), one meaning of each exit status, one line for a binary input, plain amounts,
line references as objects, and one typed row per transaction. The expected rows are worked out
by hand from corpus/logs/buys-day1.log (its comments in tests/test_reconcile.py say what each
ref_id is for), not copied from a run.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from irs_grammar import batches, reconciliation
from irs_grammar.cli import build_argument_parser
from irs_grammar.reconciliation import Reading, reconcile
from tests.command import run

CORPUS = Path(__file__).parent.parent / "corpus"
DAY1 = CORPUS / "logs" / "buys-day1.log"
LOG_COMMANDS = ("parse", "validate", "reconcile")
SOLD = (
    "R#S1 DN1. 0811 SUCCESS. SN: 1. TRXID: 9. SISA SALDO: 10.000 - 1.000 = 9.000 "
    "@10:00:00.000000 01/12/2024\n"
)


def options_of(command: str) -> dict[str, tuple[object, ...]]:
    """Each option of a subcommand: what it is (type, default, help, action kind) by its flag."""
    _, subcommands = build_argument_parser()
    found: dict[str, tuple[object, ...]] = {}
    for action in subcommands[command]._actions:
        for flag in action.option_strings:
            found[flag] = (type(action).__name__, action.type, action.default, action.help, action.metavar)
    return found


def test_every_command_that_reads_logs_takes_one_option_set() -> None:
    shared = ("--extract", "--max-line-length", "--jobs", "--quiet", "--progress")
    seen = [options_of(command) for command in LOG_COMMANDS]
    for flag in shared:
        assert all(flag in options for options in seen), flag
        assert seen[0][flag] == seen[1][flag] == seen[2][flag], flag  # the same words and defaults


@pytest.mark.parametrize("command", LOG_COMMANDS)
def test_with_no_file_every_command_reads_standard_input(command: str) -> None:
    result = run(command, stdin=SOLD.encode())
    assert result.returncode == 0, result.stderr
    if command == "parse":
        assert json.loads(result.stdout)["REF_ID"] == "S1"
    elif command == "validate":
        assert result.stdout.startswith("lines: 1 (valid 1, invalid 0, blank 0)\n")
    else:
        assert result.stdout.startswith("transactions: 1 (succeeded 1,")


@pytest.mark.parametrize("command", LOG_COMMANDS)
def test_extract_reads_a_log_with_prefixes_in_every_command(command: str, tmp_path: Path) -> None:
    prefixed = tmp_path / "app.log"
    plain_lines = DAY1.read_text(encoding="utf-8").splitlines(keepends=True)
    prefixed.write_text("".join(f"2024-12-01 INFO buy: {line}" for line in plain_lines), encoding="utf-8")
    plain = tmp_path / "plain.log"  # the same replies, under a name of the same length
    plain.write_text("".join(plain_lines), encoding="utf-8")
    read = run(command, "--extract", str(prefixed))
    bare = run(command, str(plain))
    assert read.returncode == bare.returncode == 1  # the corpus log has an invalid line, anomalies
    # The same report, but the columns of the invalid line (21 characters of prefix further on).
    prefix_of = len("2024-12-01 INFO buy: ")
    expected_out, expected_err = (
        text.replace(str(plain), str(prefixed)).replace(":15:24:", f":15:{24 + prefix_of}:")
        for text in (bare.stdout, bare.stderr)
    )
    if command == "parse":  # the records name their file
        expected_out = expected_out.replace(json.dumps(str(plain)), json.dumps(str(prefixed)))
    assert (read.stdout, read.stderr) == (expected_out, expected_err)
    assert f":15:{24 + prefix_of}:" in read.stdout + read.stderr
    without = run(command, str(prefixed))  # without --extract, every line is refused at column 1
    assert without.returncode == 1
    assert f"{prefixed}:2:1: " in without.stdout + without.stderr


@pytest.mark.parametrize("command", LOG_COMMANDS)
def test_max_line_length_is_the_same_limit_in_every_command(command: str, tmp_path: Path) -> None:
    log = tmp_path / "long.log"
    log.write_text(SOLD + "R#" + "x" * 300 + "\n", encoding="utf-8")
    result = run(command, "--max-line-length", "200", str(log))
    assert result.returncode == 1
    said = result.stdout + result.stderr
    assert f"{log}:2:201: line longer than 200 bytes (302); skipped (--max-line-length)" in said
    assert run(command, str(log)).returncode == 1  # a line of 302 bytes is refused, not skipped


@pytest.mark.parametrize("command", LOG_COMMANDS)
def test_a_binary_file_is_one_line_and_exit_2(command: str, tmp_path: Path) -> None:
    parquet = tmp_path / "replies.parquet"
    parquet.write_bytes(b"PAR1\x15\x04\x15\x00\x15\x00\xff\xfe" + bytes(range(256)) * 100 + b"PAR1")
    result = run(command, str(parquet))
    assert result.returncode == 2
    assert result.stderr == f"irs-grammar: {parquet}: binary file, not a reply log (it holds NUL bytes)\n"
    assert result.stdout == ""


def test_a_nul_past_the_first_block_is_an_invalid_line_not_a_binary_file(tmp_path: Path) -> None:
    log = tmp_path / "late.log"
    log.write_bytes(SOLD.encode() * 20_000 + b"R#A\x00B\n")  # the NUL 2 MB in, past the first block
    result = run("validate", str(log))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{log}:20001:4: ")


def test_reconcile_exits_1_on_an_invalid_line_and_on_a_log_without_transaction_replies(
    tmp_path: Path,
) -> None:
    clean = tmp_path / "clean.log"
    clean.write_text(SOLD, encoding="utf-8")
    assert run("reconcile", str(clean)).returncode == 0
    spoiled = tmp_path / "spoiled.log"
    spoiled.write_text(SOLD + "not a reply\n", encoding="utf-8")
    assert run("reconcile", str(spoiled)).returncode == 1  # as validate on the same file
    assert run("validate", str(spoiled)).returncode == 1
    inquiries = tmp_path / "inquiries.log"
    inquiries.write_text("R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024\n", encoding="utf-8")
    wrong = run("reconcile", str(inquiries))
    assert (wrong.returncode, wrong.stderr) == (
        1,
        "irs-grammar: no transaction reply in the input (is it a buy log?)\n",
    )


def test_text_reports_write_plain_amounts_unless_asked_for_the_wires_grouping(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text(
        "R#B1 DN1. 0811 SUCCESS. SN: 1. TRXID: 9. SISA SALDO: 2.000.000 - 1.250.000 = 750.000 "
        "@10:00:00.000000 01/12/2024\n",
        encoding="utf-8",
    )
    assert "deducted 1250000\n" in run("validate", str(log)).stdout
    assert "deducted 1.250.000\n" in run("validate", "--thousands", str(log)).stdout
    assert "deducted 1250000\n" in run("reconcile", str(log)).stdout
    assert "deducted 1.250.000\n" in run("reconcile", "--thousands", str(log)).stdout
    report = json.loads(run("reconcile", "--thousands", "--format", "json", str(log)).stdout)
    assert report["deducted"] == 1250000  # JSON: always integers


def test_anomalies_are_listed_by_path_and_line_and_json_names_lines_as_objects(tmp_path: Path) -> None:
    # A balance gap names two lines; the line listed is the later one in the file, whatever the
    # order of the timestamps: here the second line happened first.
    log = tmp_path / "buys.log"
    log.write_text(
        "R#G2 DN1. 0811 SUCCESS. SN: 2. TRXID: 2. SISA SALDO: 8.000 - 1.000 = 7.000 "
        "@10:05:00.000000 01/12/2024\n"
        "R#G1 DN1. 0811 SUCCESS. SN: 1. TRXID: 1. SISA SALDO: 10.000 - 1.000 = 9.000 "
        "@10:00:00.000000 01/12/2024\n"
        "R#G3 DN1. 0811 SUCCESS. SN: 3. TRXID: 3. SISA SALDO: 10 - 1 = 8 @10:06:00.000000 01/12/2024\n",
        encoding="utf-8",
    )
    lines = run("reconcile", str(log)).stdout.splitlines()
    listed = [line.split(": ", 1)[0] for line in lines if ": balance_" in line]
    assert listed == [f"{log}:2", f"{log}:3", f"{log}:3"]  # in file order: the gap G1 -> G2 is at line 2
    report = json.loads(run("reconcile", "--format", "json", str(log)).stdout)
    gap = next(a for a in report["anomalies"] if a["ref_id"] == "G2")
    assert gap["lines"] == [{"path": str(log), "line": 2}, {"path": str(log), "line": 1}]


def test_parse_writes_a_reply_given_alone_without_path_or_line() -> None:
    record = json.loads(run("parse", "R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024").stdout)
    assert (record["path"], record["line"], record["PRICE"]) == (None, None, 20546)


# -- one row per transaction ---------------------------------------------------------------------


def row(ref_id: str, **values: object) -> dict[str, object]:
    """A transaction row of buys-day1.log as worked out by hand: what every row has, then `values`."""
    return {
        "ref_id": ref_id,
        "outcome": "succeeded",
        "final": True,
        "status": "SUCCESS",
        "day": "2024-12-01",
        "deciding_path": str(DAY1),
        "anomalies": [],
        **values,
    }


EXPECTED_ROWS = {
    "A1": row("A1", product="PLN20", destination="0811", trxid="101", serial="1111", deducted=20000,
              first_time="2024-12-01 10:00:00.000000", last_time="2024-12-01 10:01:00.000000",
              replies=2, deciding_line=2),
    "A2": row("A2", outcome="failed", status="FAILED", product="TSEL10", destination="0812", trxid="102",
              serial=None, deducted=10000, first_time="2024-12-01 10:02:00.000000",
              last_time="2024-12-01 10:02:00.000000", replies=1, deciding_line=3,
              anomalies=["failed_with_deduction"]),
    "A3": row("A3", outcome="conflicting", final=False, status="FAILED", product="TSEL10", destination="0813",
              trxid="103", serial=None, deducted=10000, first_time="2024-12-01 10:03:00.000000",
              last_time="2024-12-01 10:04:00.000000", replies=2, deciding_line=5,
              anomalies=["conflicting_outcome"]),
    "A4": row("A4", product="PLN50", destination="0814", trxid="104", serial="4444", deducted=50000,
              first_time="2024-12-01 10:05:00.000000", last_time="2024-12-01 10:06:00.000000",
              replies=2, deciding_line=7),
    "A5": row("A5", product="DN1", destination="0815", trxid="105", serial="5555", deducted=1000,
              first_time="2024-12-01 10:07:00.000000", last_time="2024-12-01 10:07:00.000000",
              replies=1, deciding_line=8, anomalies=["balance_mismatch"]),
    "A6": row("A6", product="DN1", destination="0816", trxid="106", serial="6666", deducted=1000,
              first_time="2024-12-01 10:08:00.000000", last_time="2024-12-01 10:08:00.000000",
              replies=1, deciding_line=9, anomalies=["refid_mismatch", "balance_gap"]),
    "A7": row("A7", product="DN1", destination="0817", trxid="108", serial="7777", deducted=2000,
              first_time="2024-12-01 10:09:00.000000", last_time="2024-12-01 10:10:00.000000",
              replies=2, deciding_line=11, anomalies=["changed_after_final", "duplicate_charge"]),
    "A8": row("A8", outcome="pending", final=False, status="INPROGRESS", product="OVO25", destination="0818",
              trxid="109", serial=None, deducted=0, first_time="2024-12-01 10:11:00.000000",
              last_time="2024-12-01 10:11:00.000000", replies=1, deciding_line=12,
              anomalies=["stuck_pending"]),
    "A9": row("A9", outcome="unknown", final=False, status="PENDING", product="OVO25", destination="0819",
              trxid="110", serial=None, deducted=0, first_time="2024-12-01 22:30:00.000000",
              last_time="2024-12-01 22:30:00.000000", replies=1, deciding_line=13),
}  # fmt: skip


def test_reconcile_writes_one_typed_row_per_transaction() -> None:
    result = run("reconcile", "--format", "jsonl", str(DAY1))
    assert result.returncode == 1  # anomalies and an invalid line: as the text report
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["ref_id"] for r in rows] == sorted(EXPECTED_ROWS)  # one each, in ref_id order
    for got in rows:
        assert got == EXPECTED_ROWS[got["ref_id"]]
    assert sum(r["deducted"] for r in rows) == 94000  # as the text report's total


def test_reconcile_rows_carry_the_zone_they_were_read_in() -> None:
    # --tz says the zone of the log's wall-clock times: the rows' moments carry its offset, and the
    # day stays the wall-clock one (A9's 22:30 is still the 1st)
    result = run("reconcile", "--tz", "+07:00", "--format", "jsonl", str(DAY1))
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["ref_id"] for r in rows] == sorted(EXPECTED_ROWS)
    for got in rows:
        expected = EXPECTED_ROWS[got["ref_id"]]
        zoned = {key: f"{expected[key]}+07:00" for key in ("first_time", "last_time")}
        assert got == {**expected, **zoned}


def test_totals_crossed_by_product_and_day(tmp_path: Path) -> None:
    second = tmp_path / "day2.log"
    second.write_text(
        "R#B1 PLN20. 0821 SUCCESS. SN: 1. TRXID: 201. SISA SALDO: 6.000 - 2.000 = 4.000 "
        "@09:00:00.000000 02/12/2024\n",
        encoding="utf-8",
    )
    expected = [  # by hand from the rows above, and B1 on the 2nd
        {"product": "DN1", "day": "2024-12-01", "transactions": 3, "deducted": 4000},
        {"product": "OVO25", "day": "2024-12-01", "transactions": 2, "deducted": 0},
        {"product": "PLN20", "day": "2024-12-01", "transactions": 1, "deducted": 20000},
        {"product": "PLN20", "day": "2024-12-02", "transactions": 1, "deducted": 2000},
        {"product": "PLN50", "day": "2024-12-01", "transactions": 1, "deducted": 50000},
        {"product": "TSEL10", "day": "2024-12-01", "transactions": 2, "deducted": 20000},
    ]
    report = json.loads(
        run("reconcile", "--format", "json", "--by", "product,day", str(DAY1), str(second)).stdout
    )
    assert report["by"] == expected
    rows = run("reconcile", "--format", "jsonl", "--by", "product,day", str(DAY1), str(second)).stdout
    assert [json.loads(line) for line in rows.splitlines()] == expected
    text = run("reconcile", "--by", "product,day", str(DAY1), str(second)).stdout.splitlines()
    assert text[-6:] == [
        f"  {r['product']} {r['day']}: transactions {r['transactions']}, deducted {r['deducted']}"
        for r in expected
    ]
    by_outcome = json.loads(run("reconcile", "--format", "json", "--by", "outcome", str(DAY1)).stdout)["by"]
    assert [(r["outcome"], r["transactions"]) for r in by_outcome] == [
        ("conflicting", 1), ("failed", 1), ("pending", 1), ("succeeded", 5), ("unknown", 1)
    ]  # fmt: skip


@pytest.mark.parametrize("wrong", ["price", "product,product", "", "day,"])
def test_by_takes_known_columns_once(wrong: str) -> None:
    result = run("reconcile", "--by", wrong, str(DAY1))
    assert result.returncode == 2
    assert result.stderr.startswith("irs-grammar: --by takes product, day, outcome, each once")


def test_reconcile_rows_in_parquet_are_the_json_rows(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "transactions.parquet"
    result = run("reconcile", "--format", "parquet", "-o", str(out), str(DAY1))
    assert (result.returncode, result.stdout) == (1, "")
    table = pq.read_table(out)
    assert str(table.schema.field("first_time").type) == "timestamp[us]"
    assert str(table.schema.field("day").type) == "date32[day]"
    assert str(table.schema.field("anomalies").type.value_type) == "string"
    rows = table.to_pylist()
    for got in rows:
        expected = EXPECTED_ROWS[got["ref_id"]]
        as_text = {
            **got,
            "first_time": got["first_time"].isoformat(sep=" ", timespec="microseconds"),
            "last_time": got["last_time"].isoformat(sep=" ", timespec="microseconds"),
            "day": got["day"].isoformat(),
        }
        assert as_text == expected
    assert run("reconcile", "--format", "parquet", str(DAY1)).returncode == 2  # -o is needed
    assert run("reconcile", "-o", str(out), str(DAY1)).returncode == 2  # and goes with parquet only


def test_reconcile_totals_in_parquet_are_the_crossed_rows(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "totals.parquet"
    assert (
        run("reconcile", "--by", "product", "--format", "parquet", "-o", str(out), str(DAY1)).returncode == 1
    )
    assert pq.read_table(out).to_pylist() == [  # by hand from EXPECTED_ROWS
        {"product": "DN1", "transactions": 3, "deducted": 4000},
        {"product": "OVO25", "transactions": 2, "deducted": 0},
        {"product": "PLN20", "transactions": 1, "deducted": 20000},
        {"product": "PLN50", "transactions": 1, "deducted": 50000},
        {"product": "TSEL10", "transactions": 2, "deducted": 20000},
    ]


def test_reconcile_parquet_in_a_zone_names_it(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "wib.parquet"
    zoned = run("reconcile", "--tz", "+07:00", "--format", "parquet", "-o", str(out), str(DAY1))
    assert zoned.returncode == 1  # the day's anomalies, as without a zone
    table = pq.read_table(out)
    assert str(table.schema.field("first_time").type) == "timestamp[us, tz=+07:00]"
    assert str(table.schema.field("last_time").type) == "timestamp[us, tz=+07:00]"
    first = {row["ref_id"]: row for row in table.to_pylist()}["A1"]
    wib = timezone(timedelta(hours=7))  # A1's first reply: @10:00:00.000000 01/12/2024, in that zone
    assert first["first_time"] == datetime(2024, 12, 1, 10, 0, tzinfo=wib)
    assert first["day"] == date(2024, 12, 1)


def test_reconcile_parquet_that_cannot_be_written_names_the_file(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "missing" / "t.parquet"
    result = run("reconcile", "--format", "parquet", "-o", str(out), str(DAY1))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"irs-grammar: {out}: ")
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("missing", ["pyarrow", "pyarrow.parquet"])
def test_reconcile_parquet_without_pyarrow_says_what_parse_says(
    missing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from irs_grammar.cli import main

    monkeypatch.setitem(sys.modules, missing, None)  # what an install without the extra has
    out = tmp_path / "t.parquet"
    assert main(["reconcile", "--format", "parquet", "-o", str(out), str(DAY1)]) == 2
    said = capsys.readouterr()
    assert said.out == ""
    assert said.err == "irs-grammar: Parquet needs pyarrow: pip install 'irs-grammar[parquet]'\n"
    assert list(tmp_path.iterdir()) == []


def test_reconcile_json_streams_its_long_lists(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the anomalies and invalid lines go out a piece at a time, read from the disk: never a list of
    # them all in memory (a month of logs can hold millions)
    from irs_grammar import cli

    built: list[tuple[type, type]] = []
    to_dict = reconciliation.Reconciliation.to_dict

    def spy(self: reconciliation.Reconciliation, **options: bool) -> dict[str, object]:
        document = to_dict(self, **options)
        built.append((type(document["anomalies"]), type(document["invalid_lines"])))
        return document

    monkeypatch.setattr(reconciliation.Reconciliation, "to_dict", spy)
    assert cli.main(["reconcile", "--format", "json", str(DAY1)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert len(report["anomalies"]) == 8  # those of EXPECTED_ROWS
    assert len(report["invalid_lines"]) == 1
    assert len(built) == 1
    assert not any(issubclass(kind, list) for kind in built[0])


@pytest.fixture
def workers_used(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A 1 for each log read in worker processes; any log goes to them, in batches of 4 lines."""
    monkeypatch.setattr(batches, "PARALLEL_FROM_BYTES", 0)  # a small file goes to the workers too
    monkeypatch.setattr(reconciliation, "BATCH_LINES", 4)  # in many batches
    used: list[int] = []
    in_workers = batches._in_workers

    def counted(*args: object, **kwargs: object) -> object:
        used.append(1)
        return in_workers(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batches, "_in_workers", counted)
    return used


def test_reconcile_reads_in_workers_and_finds_what_one_process_finds(
    tmp_path: Path, workers_used: list[int]
) -> None:
    log = tmp_path / "buys.log"
    lines = DAY1.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text("".join(f"x {line}" for line in lines) * 3, encoding="utf-8")  # prefixes, 45 lines
    used = workers_used

    def report(jobs: int) -> dict[str, object]:
        result = reconcile([log], reading=Reading(extract=True, jobs=jobs))
        try:
            document = result.to_dict()
            document["rows"] = [t.to_record() for t in result.transactions.rows()]
            return document
        finally:
            result.transactions.close()

    one = report(1)
    assert used == []
    two = report(2)
    assert used == [1]  # the workers read it
    assert two == one
    assert len(one["invalid_lines"]) == 3  # type: ignore[arg-type]


@pytest.mark.parametrize("command", ["reconcile", "validate", "parse"])
def test_the_jobs_asked_on_the_command_line_are_used(
    command: str,
    tmp_path: Path,
    workers_used: list[int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from irs_grammar import cli

    log = tmp_path / "buys.log"
    log.write_text(DAY1.read_text(encoding="utf-8") * 3, encoding="utf-8")
    monkeypatch.setattr(cli, "usable_cores", lambda: 2)  # --jobs 2 is not cut to this box's cores
    monkeypatch.setattr(cli, "default_jobs", lambda: 2)  # and --jobs 1 is not what it would choose
    used = workers_used
    reports = []
    for jobs in ("1", "2"):
        report = ["--format", "json"] if command != "parse" else []  # parse writes JSON Lines
        assert cli.main([command, "--jobs", jobs, *report, str(log)]) == 1  # invalid lines
        reports.append(capsys.readouterr().out)
        assert used == ([] if jobs == "1" else [1])  # one process, then the workers
    assert reports[0] == reports[1]


def test_progress_is_drawn_for_reconcile_as_for_the_others(tmp_path: Path) -> None:
    namespace = argparse.Namespace(progress=True, quiet=False)
    from irs_grammar.cli import Progress

    progress = Progress(Progress.wanted(namespace))
    progress.start -= 10  # long ago: due
    progress.step(str(DAY1), 5, 100)
    progress.step(str(DAY1), 5, 100)
    progress.step("-", 1, 10)  # a new input: begun, its size unknown
    assert (progress.lines, progress.bytes, progress.path, progress.total) == (11, 210, "-", None)
