"""Loading the files `parse` and `reconcile` write into DuckDB, pandas and Polars without spoiling them.

Left to guess, each reader spoils some file: pandas reads a phone number with a
leading zero as a float, Polars and DuckDB type a column that is null in every
row as Null, DuckDB reads a day of UUID TRXIDs as UUID. The file here has all
three, and each value below is written by hand from its lines.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest

from irs_grammar import records
from tests.command import run

UUID1 = "123e4567-e89b-12d3-a456-426614174000"
UUID2 = "223e4567-e89b-12d3-a456-426614174000"
LINES = [
    "R#PLN20. PRICE: 999999999999999999. CUSTNUM: 085566009041. @12:32:55.821005 12/11/2024",
    f"R#T1 DN1. 085566009041 SUCCESS. SN: 0042. TRXID: {UUID1}. SISA SALDO: 100.000 - 1.000 = 99.000 "
    "@12:33:00.000000 12/11/2024",
    f"R#T2 DN1. 0811 INPROGRESS. TRXID: {UUID2}. @12:34:00.000000 12/11/2024",
]
MOMENTS = [
    datetime(2024, 11, 12, 12, 32, 55, 821005),
    datetime(2024, 11, 12, 12, 33),
    datetime(2024, 11, 12, 12, 34),
]


@pytest.fixture(scope="module", params=["jsonl", "parquet"])
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readers")
    log = folder / "replies.log"
    log.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    if request.param == "jsonl":
        out = folder / "replies.jsonl"
        done = run("parse", str(log))
        out.write_text(done.stdout, encoding="utf-8")
    else:
        out = folder / "replies.parquet"
        done = run("parse", "--format", "parquet", "-o", str(out), str(log))
    assert done.returncode == 0, done.stderr
    return out


def check_values(rows: list[dict[str, object]]) -> None:
    """What the three lines say, whatever the reader (values as Python objects)."""
    assert [r["CUSTOMER_NUMBER"] for r in rows] == ["085566009041", None, None]
    assert [r["DESTINATION"] for r in rows] == [None, "085566009041", "0811"]
    assert [r["SERIAL_NUMBER"] for r in rows] == [None, "0042", None]
    assert [r["TRANSACTION_ID"] for r in rows] == [None, UUID1, UUID2]
    assert [r["ERROR_CODE"] for r in rows] == [None, None, None]
    assert [r["DEDUCTION"] for r in rows] == [None, 1000, None]
    assert [r["CURRENT_TIMESTAMP"] for r in rows] == MOMENTS


def nulls_as_none(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: (None if v is pd.NA or v is pd.NaT else v) for k, v in row.items()} for row in rows]


def test_read_pandas_pins_every_column(written: Path) -> None:
    frame = records.read_pandas(written)
    types = frame.dtypes.astype(str).to_dict()
    assert types["CUSTOMER_NUMBER"] == types["ERROR_CODE"] == types["TRANSACTION_ID"] == "string"
    assert types["PRICE"] == types["DEDUCTION"] == "Int64"
    assert types["FINAL"] == "boolean"
    assert types["CURRENT_TIMESTAMP"].startswith("datetime64[")
    assert frame["PRICE"].iloc[0] == 999_999_999_999_999_999  # exact: never through a float
    rows = nulls_as_none(frame.to_dict("records"))
    for row in rows:
        row["CURRENT_TIMESTAMP"] = row["CURRENT_TIMESTAMP"].to_pydatetime()  # type: ignore[attr-defined]
    check_values(rows)


def test_read_polars_pins_every_column(written: Path) -> None:
    frame = records.read_polars(written)
    assert frame.schema["ERROR_CODE"] == pl.String  # not Null, though null in every row
    assert frame.schema["TRANSACTION_ID"] == pl.String
    assert frame.schema["PRICE"] == pl.Int64
    assert frame.schema["CURRENT_TIMESTAMP"] == pl.Datetime("us")
    assert frame["PRICE"][0] == 999_999_999_999_999_999
    check_values(frame.to_dicts())


def test_duckdb_view_pins_every_column(written: Path) -> None:
    db = duckdb.connect()
    records.duckdb_view(db, written, "r")
    types = dict(db.sql("SELECT column_name, column_type FROM (DESCRIBE r)").fetchall())
    assert types["ERROR_CODE"] == "VARCHAR"  # not "NULL"
    assert types["TRANSACTION_ID"] == "VARCHAR"  # not UUID
    assert types["CUSTOMER_NUMBER"] == "VARCHAR"
    assert types["PRICE"] == "BIGINT"
    assert types["CURRENT_TIMESTAMP"] == "TIMESTAMP"
    cursor = db.execute("SELECT * FROM r ORDER BY line")
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    assert rows[0]["PRICE"] == 999_999_999_999_999_999
    check_values(rows)


def test_each_readers_own_function_given_the_schema_keeps_the_types(tmp_path: Path) -> None:
    log = tmp_path / "replies.log"
    log.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    path = tmp_path / "replies.jsonl"
    path.write_text(run("parse", str(log)).stdout, encoding="utf-8")
    # pandas: strings stay strings and a null column stays `string` (its default JSON engine still
    # rounds 18 digits through a float: read_pandas() does not).
    frame = pd.read_json(path, lines=True, dtype=records.pandas_dtypes())
    assert frame["CUSTOMER_NUMBER"].iloc[0] == "085566009041"
    assert frame["DESTINATION"].tolist()[1:] == ["085566009041", "0811"]
    assert str(frame["ERROR_CODE"].dtype) == str(frame["TRANSACTION_ID"].dtype) == "string"
    assert frame["TRANSACTION_ID"].tolist()[1:] == [UUID1, UUID2]
    # Polars: the whole schema
    polars_frame = pl.read_ndjson(path, schema=records.polars_schema())
    assert polars_frame.schema["ERROR_CODE"] == pl.String
    check_values(polars_frame.to_dicts())
    # DuckDB: read_json's columns
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in records.duckdb_columns().items())
    db = duckdb.connect()
    relation = db.sql(
        f"SELECT * FROM read_json('{path}', format = 'newline_delimited', columns = {{{columns}}})"
    )
    types = dict(zip(relation.columns, map(str, relation.types), strict=True))
    assert (types["ERROR_CODE"], types["TRANSACTION_ID"]) == ("VARCHAR", "VARCHAR")
    assert relation.fetchall()[0][relation.columns.index("PRICE")] == 999_999_999_999_999_999


def test_a_zone_and_reconciles_rows_are_read_from_the_file(tmp_path: Path) -> None:
    log = tmp_path / "buys.log"
    log.write_text("\n".join(LINES[1:]) + "\n", encoding="utf-8")
    zoned = tmp_path / "zoned.jsonl"
    zoned.write_text(run("parse", "--tz", "+07:00", str(log)).stdout, encoding="utf-8")
    assert str(records.read_pandas(zoned)["CURRENT_TIMESTAMP"].dtype) == "datetime64[us, UTC+07:00]"
    first = records.read_polars(zoned)["CURRENT_TIMESTAMP"][0]
    assert (first.utcoffset(), first.replace(tzinfo=None)) == (timedelta(hours=7), MOMENTS[1])
    db = duckdb.connect()
    records.duckdb_view(db, zoned, "z")
    assert (
        dict(db.sql("SELECT column_name, column_type FROM (DESCRIBE z)").fetchall())["CURRENT_TIMESTAMP"]
        == "TIMESTAMP WITH TIME ZONE"
    )
    rows = tmp_path / "transactions.jsonl"
    rows.write_text(run("reconcile", "--format", "jsonl", str(log)).stdout, encoding="utf-8")
    frame = records.read_polars(rows)
    assert frame.schema["day"] == pl.Date
    assert frame.schema["anomalies"] == pl.List(pl.String)  # empty in every row, still a list of strings
    assert frame["day"].to_list() == [date(2024, 11, 12)] * 2
    assert frame["trxid"].to_list() == [UUID1, UUID2]
    records.duckdb_view(db, rows, "t")
    described = dict(db.sql("SELECT column_name, column_type FROM (DESCRIBE t)").fetchall())
    assert (described["trxid"], described["day"], described["anomalies"]) == ("VARCHAR", "DATE", "VARCHAR[]")
    assert records.read_pandas(rows)["deducted"].tolist() == [1000, 0]


def test_the_shipped_json_schemas_describe_the_rows(written: Path) -> None:
    package = Path(records.__file__).parent
    for name, schema in (
        ("record.schema.json", records.SCHEMA),
        ("transaction.schema.json", records.TRANSACTION_SCHEMA),
    ):
        shipped = json.loads((package / name).read_text(encoding="utf-8"))
        assert shipped == records.json_schema(schema)
        assert list(shipped["properties"]) == [column for column, _, _ in schema]
    if written.suffix != ".jsonl":
        return
    shipped = json.loads((package / "record.schema.json").read_text(encoding="utf-8"))
    kinds = {"string": str, "integer": int, "boolean": bool, "array": list, "null": type(None)}
    for line in written.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert sorted(row) == sorted(shipped["required"])
        for column, value in row.items():
            allowed = shipped["properties"][column]["type"]
            allowed = allowed if isinstance(allowed, list) else [allowed]
            assert any(type(value) is kinds[kind] for kind in allowed), (column, value)
            pattern = shipped["properties"][column].get("pattern")
            if pattern and value is not None:
                assert re.fullmatch(pattern, value), (column, value)
