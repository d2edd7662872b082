"""Typed records out, read by the real readers: DuckDB and pandas, from JSON Lines and Parquet.

Every expected value here is written by hand from the documented samples: the
deductions of the documented buy replies are 18.800, 0 and 50.102 rupiah, so
the sum of DEDUCTION over corpus/logs/both-kinds.log is 68,902; the first
inquiry sample is dated 12/11/2024, day first: 12 November.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given

import irs_grammar as irs
from irs_grammar import batches, strategies
from irs_grammar.records import COLUMNS, SCHEMA, _zone_name, arrow_schema, batch_to_table, to_record
from tests import command
from tests.corpus import CORPUS
from tests.reach import reached

LOG = CORPUS / "logs/both-kinds.log"
EXPECTED_REPORT = CORPUS / "logs/both-kinds.expected.json"


ROOT = CORPUS.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    # from the repository, so a relative path reads as the documented report has it
    return command.run(*args, cwd=ROOT)


def one(sql: str) -> tuple[Any, ...]:
    """The first row of a DuckDB query."""
    rows: list[tuple[Any, ...]] = duckdb.connect().execute(sql).fetchall()
    return rows[0]


@pytest.fixture(autouse=True)
def arrow_pool_variable_as_found() -> Iterator[None]:
    """`parse --format parquet` names Arrow's allocator in the environment before it loads pyarrow;
    a test that runs the command in this process leaves the variable as it found it."""
    from irs_grammar.arrow_process import ARROW_POOL_VARIABLE

    found = os.environ.get(ARROW_POOL_VARIABLE)
    yield
    if found is None:
        os.environ.pop(ARROW_POOL_VARIABLE, None)
    else:
        os.environ[ARROW_POOL_VARIABLE] = found


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "replies.jsonl"
    result = run("parse", str(LOG))
    assert result.returncode == 1  # line 14 is not a reply
    assert result.stderr == f"{LOG}:14:18: expected \". \", found 'O'\n"
    out.write_text(result.stdout, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "replies.parquet"
    result = run("parse", "--format", "parquet", "-o", str(out), str(LOG))
    assert result.returncode == 1
    assert result.stdout == ""
    return out


# -- the record -----------------------------------------------------------------------------------


def test_the_documented_replies_as_records() -> None:
    inquiry = irs.parse(
        "R#PLN20. PRICE: 20546. CUSTNUM: 01105691111. CUSTNAME: BAHARRUDIN1. POWERCAPACITY: R1/2200VA. "
        "@12:32:55.821005 12/11/2024"
    ).to_record(path="a.log", line=3)
    assert list(inquiry) == list(COLUMNS)
    assert {k: v for k, v in inquiry.items() if v is not None} == {
        "kind": "inquiry",
        "path": "a.log",
        "line": 3,
        "PRODUCT_CODE": "PLN20",
        "CURRENT_TIMESTAMP": "2024-11-12 12:32:55.821005",
        "OK": True,
        "PRICE": 20546,
        "CUSTOMER_NUMBER": "01105691111",
        "CUSTOMER_NAME": "BAHARRUDIN1",
        "POWER_CAPACITY": "R1/2200VA",
        "EXTRA": [],
    }
    buy = irs.parse_reply(
        "R#204900199 MXD40. 151443938 FAILED. REASON: FR_NOT_SELECTED. "
        "TRXID: 3f613573-893a-418d-90ce-2b84778e1454. "
        "SISA SALDO: 31.515.657 - 0 = 31.473.857 @18:21:31.327611 16/02/2024&refid=204900199",
        tz=timezone(timedelta(hours=7)),
    ).to_record()
    assert {k: v for k, v in buy.items() if v is not None} == {
        "kind": "transaction",
        "PRODUCT_CODE": "MXD40",
        "CURRENT_TIMESTAMP": "2024-02-16 18:21:31.327611+07:00",
        "OK": False,
        "REASON": "FR_NOT_SELECTED",
        "REF_ID": "204900199",
        "DESTINATION": "151443938",
        "STATUS": "FAILED",
        "FAILED": True,
        "FINAL": True,
        "PENDING": False,
        "BARE_DETAILS": False,
        "TRANSACTION_ID": "3f613573-893a-418d-90ce-2b84778e1454",
        "BALANCE_BEFORE": 31515657,
        "DEDUCTION": 0,
        "BALANCE_AFTER": 31473857,
        "BALANCE_ADDS_UP": False,
        "REFID": "204900199",
        "EXTRA": [],
    }


def test_a_failed_inquiry_and_a_sold_and_a_refused_buy_as_records() -> None:
    # Columns written by hand from the documented lines (seed C; the buy replies' documented success).
    def shown(line: str, *names: str) -> list[Any]:
        return [irs.parse_reply(line).to_record()[name] for name in names]

    failed = (
        "R#. CUSTNUM: 01105601111. REASON: CUSTID not recognized. Biller throws exception. Err:5110. "
        "@12:32:08.889517 12/11/2024"
    )
    assert shown(failed, "OK", "REASON", "ERROR_CODE", "CUSTOMER_NUMBER") == [
        False,
        "CUSTID not recognized. Biller throws exception. Err:5110",
        "5110",
        "01105601111",
    ]
    sold = (
        "R#359912451 MXD17. 48429495 SUCCESS. SN: 4779928. TRXID: 5a8ae07d-c01c-48c1-b38a-20a1f7ea0200. "
        "SISA SALDO: 97.411.793 - 18.800 = 97.392.993 @15:25:39.484331 20/02/2024&refid=359912451"
    )
    assert shown(sold, "SERIAL_NUMBER", "REASON", "ERROR_CODE") == ["4779928", None, None]
    refused = "R#7 DN1. 0811 FAILED. REASON: Saldo tidak cukup. Err:44. TRXID: 9. @10:00:00.000000 01/12/2024"
    assert shown(refused, "SERIAL_NUMBER", "REASON", "ERROR_CODE") == [
        None,
        "Saldo tidak cukup. Err:44",
        "44",
    ]


def test_fields_no_column_reads_are_kept_in_extra() -> None:
    reply = irs.parse("R#A. PRICE: 1. PERIODE: 3 BULAN. PRICE: 2. @12:00:00.000000 01/01/2025")
    record = reply.to_record()
    assert record["PRICE"] == 1
    assert record["EXTRA"] == [{"key": "PERIODE", "value": "3 BULAN"}, {"key": "PRICE", "value": "2"}]


@given(strategies.response_lines() | strategies.transaction_lines())
def test_every_accepted_reply_has_a_record_of_the_schema_that_json_holds(line: str) -> None:
    reply = irs.parse_reply(line)
    record = reply.to_record(path="p", line=1)  # never raises, whatever the reply
    reached()
    assert list(record) == list(COLUMNS)
    assert json.loads(json.dumps(record)) == record
    assert datetime.fromisoformat(record["CURRENT_TIMESTAMP"]) == reply.timestamp
    kinds = {name: kind for name, kind, _ in SCHEMA}
    for name, value in record.items():
        expected = {"string": str, "int64": int, "bool": bool, "timestamp[us]": str}.get(kinds[name], list)
        assert value is None or type(value) is expected, (name, value)


# -- the command -----------------------------------------------------------------------------------


def test_parse_writes_typed_json_lines_and_wire_on_request(jsonl: Path) -> None:
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13]
    assert {r["path"] for r in records} == {str(LOG)}
    assert [r["kind"] for r in records] == ["inquiry"] * 7 + ["transaction"] * 5
    wire = run("parse", "--wire", str(LOG))
    first = json.loads(wire.stdout.splitlines()[0])
    assert first["PRICE"] == "20546"
    assert first["CURRENT_TIMESTAMP"] == "12:32:55.821005 12/11/2024"


def test_the_zone_is_named_on_the_command_line() -> None:
    line = "R#A. @12:00:00.000000 01/11/2024"
    assert json.loads(run("parse", "--tz", "+07:00", line).stdout)["CURRENT_TIMESTAMP"] == (
        "2024-11-01 12:00:00.000000+07:00"
    )
    assert json.loads(run("parse", "--tz", "Asia/Jakarta", line).stdout)["CURRENT_TIMESTAMP"] == (
        "2024-11-01 12:00:00.000000+07:00"
    )
    bad = run("parse", "--tz", "Mars/Olympus", line)
    assert bad.returncode == 2
    assert "neither a zone name (Asia/Jakarta) nor an offset (+07:00)" in bad.stderr


def test_the_validation_report_is_the_documented_one() -> None:
    result = run("validate", "--format", "json", "corpus/logs/both-kinds.log")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report == json.loads(EXPECTED_REPORT.read_text(encoding="utf-8"))
    assert list(report["products"]) == list(json.loads(EXPECTED_REPORT.read_text())["products"])
    text = run("validate", str(LOG)).stdout
    assert "by error code: Err:5110 1" in text  # written the same way in both forms


def test_the_documented_report_example_is_the_real_one() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs/format.md").read_text(encoding="utf-8")
    example = page.split("## The validation report (JSON)")[1].split("```json\n")[1].split("```")[0]
    assert json.loads(example) == json.loads(EXPECTED_REPORT.read_text(encoding="utf-8"))


# -- the real readers ---------------------------------------------------------------------------------


def test_duckdb_reads_the_json_lines_right(jsonl: Path) -> None:
    table = f"read_json_auto('{jsonl}')"
    assert one(f"SELECT sum(DEDUCTION) FROM {table}") == (68902,)
    types = {row[0]: row[1] for row in duckdb.connect().execute(f"DESCRIBE SELECT * FROM {table}").fetchall()}
    assert types["DEDUCTION"] == "BIGINT"
    assert types["PRICE"] == "BIGINT"
    assert types["OK"] == "BOOLEAN"
    first = one(f"SELECT CAST(CURRENT_TIMESTAMP AS TIMESTAMP), line FROM {table} LIMIT 1")
    assert first == (datetime(2024, 11, 12, 12, 32, 55, 821005), 1)  # 12/11/2024 is 12 November
    buys = one(f"SELECT count(*) FROM {table} WHERE kind = 'transaction' AND PENDING")
    assert buys == (1,)


def test_duckdb_reads_the_parquet_right(parquet: Path) -> None:
    assert one(f"SELECT sum(DEDUCTION), count(*) FROM '{parquet}'") == (68902, 12)
    types = {
        row[0]: row[1] for row in duckdb.connect().execute(f"DESCRIBE SELECT * FROM '{parquet}'").fetchall()
    }
    assert (types["DEDUCTION"], types["CURRENT_TIMESTAMP"], types["FAILED"]) == (
        "BIGINT",
        "TIMESTAMP",
        "BOOLEAN",
    )
    dated = one(f"SELECT CURRENT_TIMESTAMP FROM '{parquet}' WHERE line = 9")
    assert dated == (datetime(2024, 2, 20, 15, 25, 39, 484331),)  # 20/02/2024


def test_pandas_reads_the_json_lines_and_the_parquet_right(jsonl: Path, parquet: Path) -> None:
    frame = pd.read_json(jsonl, lines=True, dtype_backend="numpy_nullable")
    assert int(frame["DEDUCTION"].sum()) == 68902
    assert pd.to_datetime(frame["CURRENT_TIMESTAMP"]).iloc[0] == pd.Timestamp(
        2024, 11, 12, 12, 32, 55, 821005
    )
    assert list(frame["line"])[:3] == [1, 2, 3]
    table = pd.read_parquet(parquet, dtype_backend="numpy_nullable")
    assert str(table["DEDUCTION"].dtype) == "Int64"
    assert int(table["DEDUCTION"].sum()) == 68902
    assert table["CURRENT_TIMESTAMP"].iloc[0] == pd.Timestamp(2024, 11, 12, 12, 32, 55, 821005)


def test_parquet_is_written_in_row_groups(tmp_path: Path) -> None:
    log = tmp_path / "many.log"
    log.write_text("R#A. PRICE: 7. @12:00:00.000000 01/01/2025\n" * 45_000, encoding="utf-8")
    out = tmp_path / "many.parquet"
    assert run("parse", "--format", "parquet", "-o", str(out), str(log)).returncode == 0
    meta = pq.ParquetFile(out).metadata
    # one row group per batch of 10,000 lines (cli.PARQUET_BATCH_LINES): memory stays flat
    assert (meta.num_rows, meta.num_row_groups) == (45_000, 5)
    assert [meta.row_group(n).num_rows for n in range(5)] == [10_000, 10_000, 10_000, 10_000, 5_000]


def test_a_batch_of_lines_is_an_arrow_table(parquet: Path) -> None:
    lines = LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    table = batch_to_table(lines, path=str(LOG))
    assert table.equals(pq.read_table(parquet))
    # The unit a cluster maps over: line numbers stay those of the file.
    second_half = batch_to_table(lines[8:], path=str(LOG), first=9)
    assert second_half.column("line").to_pylist() == [9, 10, 11, 12, 13]


def test_to_record_of_the_module_and_the_method_agree() -> None:
    reply: Any = irs.parse("R#A. @12:00:00.000000 01/01/2025")
    assert reply.to_record(line=2) == to_record(reply, line=2)


# The zone of CURRENT_TIMESTAMP in Arrow: an IANA key as itself, a fixed offset as +HH:MM.
@pytest.mark.parametrize(
    ("tz", "arrow_zone", "utc"),
    [
        (ZoneInfo("Asia/Jakarta"), "Asia/Jakarta", datetime(2025, 1, 1, 5, tzinfo=UTC)),
        (timezone(timedelta(hours=9)), "+09:00", datetime(2025, 1, 1, 3, tzinfo=UTC)),
        (timezone(-timedelta(hours=3, minutes=30)), "-03:30", datetime(2025, 1, 1, 15, 30, tzinfo=UTC)),
        (timezone(timedelta(hours=5, minutes=45)), "+05:45", datetime(2025, 1, 1, 6, 15, tzinfo=UTC)),
    ],
)
def test_a_batch_in_a_zone_is_stamped_with_it(tz: tzinfo, arrow_zone: str, utc: datetime) -> None:
    table = batch_to_table(["R#A. PRICE: 5. @12:00:00.000000 01/01/2025"], tz=tz)
    column = table.column("CURRENT_TIMESTAMP")
    assert column.type.tz == arrow_zone
    assert column.to_pylist()[0].astimezone(UTC) == utc  # noon that day, in that zone


class _NoOffset(tzinfo):
    """A tzinfo that knows no offset: Arrow gets +00:00 rather than a failure."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


class _OffsetOnADate(tzinfo):
    """A zone as pytz makes them: no `key`, and an offset only for a date (asked with None: None)."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None if dt is None else timedelta(hours=7)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_a_zone_without_a_key_is_named_by_its_offset_on_a_date() -> None:
    assert _zone_name(_OffsetOnADate()) == "+07:00"


def test_an_offset_with_seconds_is_floored_to_the_minute() -> None:
    # Arrow names an offset in minutes; Python allows seconds: -30 s is a minute behind, not none.
    assert _zone_name(timezone(timedelta(seconds=-30))) == "-00:01"
    assert _zone_name(timezone(timedelta(seconds=90))) == "+00:01"


def test_a_zone_without_an_offset_is_named_utc_plus_nothing() -> None:
    assert _zone_name(_NoOffset()) == "+00:00"
    assert _zone_name(None) is None


def test_parquet_without_pyarrow_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from irs_grammar.cli import main

    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # what an install without the extra has
    assert main(["parse", "--format", "parquet", "-o", str(tmp_path / "x.parquet"), str(LOG)]) == 2
    assert (
        capsys.readouterr().err == "irs-grammar: Parquet needs pyarrow: pip install 'irs-grammar[parquet]'\n"
    )
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize(("told", "used"), [(None, "system"), ("", "system"), ("mimalloc", "mimalloc")])
def test_parquet_is_built_with_the_system_allocator_unless_arrow_is_told(
    told: str | None, used: str, tmp_path: Path
) -> None:
    from irs_grammar.arrow_process import ARROW_POOL_VARIABLE

    log, out = tmp_path / "two.log", tmp_path / "x.parquet"
    log.write_text("R#A. PRICE: 7. @12:00:00.000000 01/01/2025\n" * 2, encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if name != ARROW_POOL_VARIABLE}
    if told is not None:
        env[ARROW_POOL_VARIABLE] = told
    # The command in a process of its own, asked after it ran which pool Arrow used (it chooses once).
    script = (
        "import sys\n"
        "from irs_grammar.cli import main\n"
        "assert main(sys.argv[1:]) == 0\n"
        "import pyarrow\n"
        "print(pyarrow.default_memory_pool().backend_name)\n"
    )
    run = [sys.executable, "-c", script, "parse", "--format", "parquet", "-o", str(out), str(log)]
    result = subprocess.run(run, capture_output=True, text=True, env=env, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, used + "\n", "")
    assert pq.read_table(out)["PRICE"].to_pylist() == [7, 7]


def _in_a_process_of_its_own(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")
    return result.stdout


@pytest.mark.parametrize(
    ("command", "line", "column", "values"),
    [
        ("parse", "R#A. PRICE: 7. @12:00:00.000000 01/01/2025", "PRICE", [7, 7]),
        (
            "reconcile",
            "R#1 A. 0812 SUCCESS. SN: 9. TRXID: 5. @12:00:00.000000 01/01/2025",
            "ref_id",
            ["1"],
        ),
    ],
)
def test_parquet_is_written_without_pandas_loaded_and_pandas_is_importable_after(
    command: str, line: str, column: str, values: list[object], tmp_path: Path
) -> None:
    """pyarrow would import pandas (where installed) on its first array; the command refuses it while
    it writes, in its own process, and the file is what it would be with pandas (the tests above)."""
    log, out = tmp_path / "two.log", tmp_path / "x.parquet"
    log.write_text(f"{line}\n" * 2, encoding="utf-8")
    script = (
        "import sys\n"
        "from irs_grammar.arrow_process import PandasRefused\n"
        "from irs_grammar.cli import main\n"
        "assert main(sys.argv[1:]) == 0\n"
        "print('pandas' in sys.modules, PandasRefused in sys.meta_path)\n"
    )
    told = _in_a_process_of_its_own(script, command, "--format", "parquet", "-o", str(out), str(log))
    assert told == "False False\n"  # never loaded, and the refusal gone with the command
    assert pq.read_table(out)[column].to_pylist() == values


def test_pandas_is_refused_only_in_the_block_and_only_where_neither_is_loaded() -> None:
    script = (
        "import sys\n"
        "from irs_grammar.arrow_process import arrow_without_pandas, PandasRefused\n"
        "def refused():\n"
        "    try:\n"
        "        import pandas.api\n"  # the package first, refused
        "    except ModuleNotFoundError as e:\n"
        "        return f'{e.name}: {e}'\n"
        "    return 'imported'\n"
        "with arrow_without_pandas():\n"
        "    import pyarrow\n"
        "    pyarrow.array([1])\n"  # pyarrow asks for pandas on its first array
        "    print(refused(), 'pandas' in sys.modules)\n"
        "print(PandasRefused in sys.meta_path)\n"
        "with arrow_without_pandas():\n"  # pyarrow loaded now: the process's own choice stands
        "    print(PandasRefused in sys.meta_path)\n"
    )
    assert _in_a_process_of_its_own(script) == (
        "pandas: No module named 'pandas' (left out while writing Parquet) False\nFalse\nFalse\n"
    )


@pytest.mark.parametrize("where", ["arrow_without_pandas", "worker_without_pandas"])
def test_pandas_in_use_already_is_left_alone(where: str) -> None:
    """A process that loaded pandas (here a stand-in, pyarrow not loaded) keeps it importable."""
    script = (
        "import sys, types\n"
        "from irs_grammar import arrow_process\n"
        "sys.modules['pandas'] = types.ModuleType('pandas')\n"
        f"if {where!r} == 'worker_without_pandas':\n"
        "    arrow_process.worker_without_pandas()\n"
        "    print(arrow_process.PandasRefused in sys.meta_path)\n"
        "else:\n"
        "    with arrow_process.arrow_without_pandas():\n"
        "        print(arrow_process.PandasRefused in sys.meta_path)\n"
    )
    assert _in_a_process_of_its_own(script) == "False\n"


def test_parquet_workers_are_started_without_pandas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `parse --format parquet` asks its workers to run first (they are started on big logs only)."""
    from irs_grammar import cli
    from irs_grammar.arrow_process import worker_without_pandas

    asked: list[object] = []

    def in_order(*args: Any, worker_setup: Callable[[], object] | None = None, **kwargs: Any) -> Any:
        asked.append(worker_setup)
        return batches.in_order(*args, worker_setup=worker_setup, **kwargs)

    monkeypatch.setattr(cli, "in_order", in_order)
    log = tmp_path / "one.log"
    log.write_text("R#A. PRICE: 7. @12:00:00.000000 01/01/2025\n", encoding="utf-8")
    assert cli.main(["parse", "--format", "parquet", "-o", str(tmp_path / "x.parquet"), str(log)]) == 0
    assert cli.main(["parse", str(log)]) == 0  # JSON Lines: workers as they are
    assert asked == [worker_without_pandas, None]


def test_a_worker_refuses_pandas_for_its_whole_life() -> None:
    script = (
        "import sys\n"
        "from irs_grammar.arrow_process import worker_without_pandas, PandasRefused\n"
        "worker_without_pandas()\n"
        "worker_without_pandas()\n"  # once is enough: one finder
        "import pyarrow\n"
        "pyarrow.array([1])\n"
        "print('pandas' in sys.modules, sys.meta_path.count(PandasRefused))\n"
    )
    assert _in_a_process_of_its_own(script) == "False 1\n"


@pytest.mark.parametrize(("told", "left"), [(None, "system"), ("", "system"), ("mimalloc", "mimalloc")])
def test_parquet_names_the_system_allocator_to_arrow_unless_told_in_process(
    told: str | None, left: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the command leaves in the variable, in this process (where mutants run; Arrow, loaded
    already, no longer reads it: the test above sees the pool used)."""
    from irs_grammar.arrow_process import ARROW_POOL_VARIABLE
    from irs_grammar.cli import main

    if told is None:
        monkeypatch.delenv(ARROW_POOL_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(ARROW_POOL_VARIABLE, told)
    log = tmp_path / "one.log"
    log.write_text("R#A. PRICE: 7. @12:00:00.000000 01/01/2025\n", encoding="utf-8")
    assert main(["parse", "--format", "parquet", "-o", str(tmp_path / "x.parquet"), str(log)]) == 0
    assert os.environ[ARROW_POOL_VARIABLE] == left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "parquet"], "--format parquet needs -o FILE"),
        (
            ["--format", "parquet", "--wire", "-o", "x.parquet"],
            "--wire goes with JSON Lines; Parquet holds the typed record",
        ),
        (["-o", "x.parquet"], "-o/--output goes with --format parquet (JSON Lines go to standard output)"),
    ],
)
def test_parquet_flags_that_do_not_go_together(args: list[str], message: str, tmp_path: Path) -> None:
    result = command.run("parse", *args, str(LOG), cwd=tmp_path)
    assert (result.returncode, result.stderr, result.stdout) == (2, f"irs-grammar: {message}\n", "")
    assert list(tmp_path.iterdir()) == []


def test_parquet_that_cannot_be_written_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "x.parquet"
    result = command.run("parse", "--format", "parquet", "-o", str(out), str(LOG))
    assert result.returncode == 2
    assert result.stderr.startswith(f"irs-grammar: {out}: ")
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
    done = tmp_path / "x.parquet"
    assert command.run("parse", "--format", "parquet", "-o", str(done), str(LOG)).returncode == 1
    assert [p.name for p in tmp_path.iterdir()] == ["x.parquet"]  # and no x.parquet.partial left


def test_parquet_in_a_zone_names_it(tmp_path: Path) -> None:
    out = tmp_path / "wib.parquet"
    result = command.run("parse", "--tz", "+07:00", "--format", "parquet", "-o", str(out), str(LOG))
    assert result.returncode == 1  # line 14, as above
    column = pq.read_table(out).column("CURRENT_TIMESTAMP")
    assert column.type.tz == "+07:00"
    # the log's first reply: @12:32:55.821005 12/11/2024, in that zone
    wib = timezone(timedelta(hours=7))
    assert column.to_pylist()[0] == datetime(2024, 11, 12, 12, 32, 55, 821005, tzinfo=wib)


def test_parquet_of_a_reply_given_on_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "one.parquet"
    reply = "R#PLN20. PRICE: 20546. CUSTNAME: SITI. @12:32:55.821005 12/11/2024"
    result = command.run("parse", "--tz", "+07:00", "--format", "parquet", "-o", str(out), reply)
    assert (result.returncode, result.stderr) == (0, "")
    (row,) = pq.read_table(out).to_pylist()
    assert (row["path"], row["line"], row["PRICE"], row["CUSTOMER_NAME"]) == (None, None, 20546, "SITI")
    wib = timezone(timedelta(hours=7))
    assert row["CURRENT_TIMESTAMP"] == datetime(2024, 11, 12, 12, 32, 55, 821005, tzinfo=wib)


def test_batch_records_number_lines_from_one_by_default() -> None:
    from irs_grammar.records import batch_records

    lines = ["x", "R#A. PRICE: 5. @12:00:00.000000 01/01/2025"]
    assert [record["line"] for record in batch_records(lines)] == [2]
    assert [record["line"] for record in batch_records(lines, first=10)] == [11]


def test_the_arrow_types_are_the_documented_ones() -> None:
    # SCHEMA's type names, written out: "list<struct<key: string, value: string>>" for extra.
    # (Arrow itself names a list's element "item".)
    shown = {field.name: str(field.type).replace("list<item: ", "list<") for field in arrow_schema()}
    assert shown == {name: kind for name, kind, _ in SCHEMA}


def test_arrow_without_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError) as missing:
        arrow_schema()
    assert str(missing.value) == "pyarrow is needed for Parquet and Arrow: pip install 'irs-grammar[parquet]'"


def test_parquet_is_renamed_from_a_partial_file_when_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from irs_grammar.cli import main

    out = tmp_path / "x.parquet"
    renamed: list[tuple[str, str]] = []
    real = os.replace

    def replace(source: str, target: str) -> None:
        renamed.append((str(source), str(target)))
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    assert main(["parse", "--format", "parquet", "-o", str(out), str(LOG)]) == 1
    [(partial, target)] = renamed  # a file of its own beside the output, renamed over it once whole
    assert target == str(out)
    assert Path(partial).parent == tmp_path
    assert fnmatch.fnmatchcase(Path(partial).name, ".x.parquet.*.partial")
    assert not Path(partial).exists()


def test_parquet_onto_a_directory_is_one_line_and_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "a-directory"
    target.mkdir()
    result = command.run("parse", "--format", "parquet", "-o", str(target), str(LOG))
    # refused before anything is read or written
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"irs-grammar: {target}: is a directory; -o writes a regular file only (and replaces one)"
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["a-directory"]


def test_a_full_batch_of_parquet_keeps_the_zone(tmp_path: Path) -> None:
    log = tmp_path / "many.log"
    log.write_text("R#A. PRICE: 7. @12:00:00.000000 01/01/2025\n" * 10_001, encoding="utf-8")
    out = tmp_path / "many.parquet"
    assert (
        command.run("parse", "--tz", "+07:00", "--format", "parquet", "-o", str(out), str(log)).returncode
        == 0
    )
    column = pq.read_table(out).column("CURRENT_TIMESTAMP")
    assert (len(column), column.type.tz) == (10_001, "+07:00")
    noon = datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=7)))
    assert column.to_pylist()[0] == column.to_pylist()[-1] == noon


def test_18_digit_amounts_stay_exact_as_the_readme_says_to_read_them(tmp_path: Path) -> None:
    # A column with a null, as DEDUCTION is beside inquiries: pandas' default JSON engine goes
    # through floats there (999,999,999,999,999,999 becomes 10^18) even with dtype_backend.
    big = "999.999.999.999.999.999"
    log = tmp_path / "big.log"
    log.write_text(
        "R#A. @12:00:00.000000 01/01/2025\n"
        f"R#1 A. 2 SUCCESS. TRXID: 3. SISA SALDO: {big} - {big} = 0 @12:00:00.000000 01/01/2025\n",
        encoding="utf-8",
    )
    jsonl, parquet = tmp_path / "big.jsonl", tmp_path / "big.parquet"
    jsonl.write_text(run("parse", str(log)).stdout, encoding="utf-8")
    assert run("parse", "--format", "parquet", "-o", str(parquet), str(log)).returncode == 0
    exact = 999_999_999_999_999_999
    read = pd.read_json(jsonl, lines=True, engine="pyarrow", dtype_backend="numpy_nullable")
    assert read["DEDUCTION"].tolist()[1] == exact
    assert pd.read_parquet(parquet, dtype_backend="numpy_nullable")["DEDUCTION"].tolist()[1] == exact
    rounded = pd.read_json(jsonl, lines=True, dtype_backend="numpy_nullable")["DEDUCTION"].tolist()[1]
    assert rounded == 10**18  # why the README names the engine


# The documented samples of both kinds and a reply with an unknown key: every column holds a value
# in some row, so every column's type is the reader's to infer.
TYPED_LOG = (
    "R#PLN20. PRICE: 20546. CUSTNUM: 01105691111. CUSTNAME: BAHARRUDIN1. POWERCAPACITY: R1/2200VA. "
    "@12:32:55.821005 12/11/2024\n"
    "R#. CUSTNUM: 01105601111. REASON: CUSTID not recognized. Biller throws exception. Err:5110. "
    "@12:32:08.889517 12/11/2024\n"
    "R#359912451 MXD17. 48429495 SUCCESS. SN: 4779928. TRXID: 5a8ae07d-c01c-48c1-b38a-20a1f7ea0200. "
    "SISA SALDO: 97.411.793 - 18.800 = 97.392.993 @15:25:39.484331 20/02/2024&refid=359912451\n"
    "R#00f7ade1-68df-4d58-a7c9-297ec86e6632 DNOPEN. 081111111111 INPROGRESS. TRXID: 14430673. "
    "@15:42:50.308103 23/10/2024\n"
    "R#OVO10. PRICE: 10100. NOTE: x. @10:59:32.076824 29/11/2024\n"
)  # (TRXIDs of both shapes: a day whose TRXIDs are all UUIDs is typed UUID by DuckDB, issue 31)
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
    "list<struct<key: string, value: string>>": 'STRUCT("key" VARCHAR, "value" VARCHAR)[]',
}


@pytest.mark.parametrize(("zone", "timestamp"), [(None, "TIMESTAMP"), ("+07:00", "TIMESTAMP WITH TIME ZONE")])
def test_duckdb_types_every_json_lines_column_without_a_cast(
    zone: str | None, timestamp: str, tmp_path: Path
) -> None:
    import duckdb

    log = tmp_path / "typed.log"
    log.write_text(TYPED_LOG, encoding="utf-8")
    out = tmp_path / "typed.jsonl"
    done = run("parse", *(["--tz", zone] if zone else []), str(log))
    out.write_text(done.stdout, encoding="utf-8")
    described = duckdb.connect().execute(f"DESCRIBE SELECT * FROM read_json_auto('{out}')").fetchall()
    expected = {name: DUCKDB_TYPES.get(kind, timestamp) for name, kind, _ in SCHEMA}
    assert {row[0]: row[1] for row in described} == expected
    # the day-first wire date is the month it names
    month = one(f"SELECT month(CURRENT_TIMESTAMP) FROM read_json_auto('{out}') LIMIT 1")
    assert month == (11,)


def test_parquet_is_typed_alike_in_duckdb_pandas_and_polars(tmp_path: Path) -> None:
    import duckdb
    import pandas as pd
    import polars as pl

    log = tmp_path / "typed.log"
    log.write_text(TYPED_LOG, encoding="utf-8")
    out = tmp_path / "typed.parquet"
    assert run("parse", "--format", "parquet", "-o", str(out), str(log)).returncode == 0
    described = {
        row[0]: row[1] for row in duckdb.connect().execute(f"DESCRIBE SELECT * FROM '{out}'").fetchall()
    }
    assert described == {name: DUCKDB_TYPES.get(kind, "TIMESTAMP") for name, kind, _ in SCHEMA}
    polars = pl.read_parquet(out).schema
    assert polars["CURRENT_TIMESTAMP"] == pl.Datetime("us")
    assert [str(polars[name]) for name in ("PRICE", "OK", "CUSTOMER_NUMBER")] == [
        "Int64",
        "Boolean",
        "String",
    ]
    frame = pd.read_parquet(out, dtype_backend="numpy_nullable")
    assert str(frame["CURRENT_TIMESTAMP"].dtype) == "datetime64[us]"
    assert (str(frame["PRICE"].dtype), frame["CUSTOMER_NUMBER"].iloc[0]) == ("Int64", "01105691111")


@pytest.mark.parametrize(
    ("status", "columns"),
    [
        ("SUCCESS", (True, False, True, False)),
        ("FAILED", (False, True, True, False)),
        ("INPROGRESS", (False, False, False, True)),
        ("PENDING", (False, False, False, True)),  # a word the library does not know: never final
        ("GAGAL", (False, False, False, True)),  # "failed" in Indonesian, still not FAILED
    ],
)
def test_a_records_outcome_columns_for_every_kind_of_status(status: str, columns: tuple[bool, ...]) -> None:
    line = f"R#7 DN1. 0811 {status}. TRXID: 9. @10:00:00.000000 01/12/2024"
    record = irs.parse_reply(line).to_record()
    assert (record["OK"], record["FAILED"], record["FINAL"], record["PENDING"]) == columns
    assert record["STATUS"] == status


@pytest.mark.parametrize(
    ("amounts", "adds_up"),
    [
        ("10.000 - 1.000 = 9.000", True),
        ("10.000 - 1.000 = 9.001", False),  # one rupiah over
        ("10.000 - 1.000 = 8.999", False),  # one under
        ("999.999.999.999.999.999 - 1 = 999.999.999.999.999.998", True),  # 18 digits, exactly
        ("999.999.999.999.999.999 - 1 = 999.999.999.999.999.999", False),
        ("0 - 0 = 0", True),
    ],
)
def test_balance_adds_up_is_exact(amounts: str, adds_up: bool) -> None:
    line = f"R#7 DN1. 0811 SUCCESS. TRXID: 9. SISA SALDO: {amounts} @10:00:00.000000 01/12/2024"
    reply = irs.parse_transaction(line)
    assert reply.balance_adds_up is adds_up
    assert reply.to_record()["BALANCE_ADDS_UP"] is adds_up
