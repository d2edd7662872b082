"""Typed records: what leaves the library for other tools (JSON Lines, Parquet, DuckDB, pandas).

One schema for every kind of reply (irs_grammar.wire.schema, which each reply
fills itself), so a log that mixes them is one table.
Unlike `to_dict()` (the wire strings, for a round trip), a record holds
integers for PRICE and every amount, booleans for the outcome, and the
timestamp in ISO 8601 (`2024-11-29 10:54:14.776182`, `+07:00` when a zone was
given): what DuckDB, Parquet, pandas and Spark read right without being told
that `68.902` is sixty-eight thousand rupiah or that `01/11/2024` is day first.

>>> import irs_grammar as irs
>>> record = irs.parse("R#PLN20. PRICE: 20546. CUSTNUM: 0811. @12:32:55.821005 12/11/2024").to_record()
>>> record["kind"], record["PRICE"], record["OK"], record["CURRENT_TIMESTAMP"]
('inquiry', 20546, True, '2024-11-12 12:32:55.821005')
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from .validation import validate
from .wire.kinds import kind_of_reply
from .wire.schema import COLUMNS, SCHEMA

if TYPE_CHECKING:
    import pyarrow

__all__ = [
    "COLUMNS",
    "PARQUET_EXTRA",
    "SCHEMA",
    "TRANSACTION_SCHEMA",
    "arrow_schema",
    "batch_records",
    "batch_to_table",
    "duckdb_columns",
    "duckdb_view",
    "json_schema",
    "pandas_dtypes",
    "polars_schema",
    "read_arrow",
    "read_pandas",
    "read_polars",
    "records_to_table",
    "rows_to_parquet",
    "to_record",
]

# One row per transaction (ref_id), as `irs-grammar reconcile --format jsonl|parquet` writes it
# (reconciliation.Transaction.to_record()): (name, type, what it holds), as SCHEMA.
TRANSACTION_SCHEMA: tuple[tuple[str, str, str], ...] = (
    ("ref_id", "string", "the partner's reference: one row each"),
    ("outcome", "string", "succeeded, failed, conflicting, pending or unknown (reconcile's words)"),
    ("final", "bool", "succeeded or failed: the only outcomes to act on (refund only on failed)"),
    ("product", "string", "the product code of the deciding reply"),
    ("destination", "string", "the deciding reply's destination, else the last one named (null: none)"),
    ("status", "string", "the deciding reply's status word as sent"),
    ("trxid", "string", "the deciding reply's TRXID (null for `-`)"),
    ("serial", "string", "the deciding reply's SN"),
    ("deducted", "int64", "every distinct charge seen for it, in rupiah (a re-check counted once)"),
    ("first_time", "timestamp[us]", "its first reply's timestamp"),
    ("last_time", "timestamp[us]", "its last reply's timestamp"),
    ("day", "date32", "the deciding reply's date: the day its totals count under"),
    ("replies", "int64", "how many replies it has in the logs (and the state)"),
    ("anomalies", "list<string>", "the anomaly kinds found in its replies, once each"),
    ("deciding_path", "string", "the log of the deciding reply: the last final one, else the last"),
    ("deciding_line", "int64", "its line number"),
)

# The columns `reconcile --by` crosses totals by, with their types, and what each total row adds.
GROUP_TYPES = {"product": "string", "day": "date32", "outcome": "string"}
TOTALS = (
    ("transactions", "int64", "transactions in the group"),
    ("deducted", "int64", "every distinct charge seen for them, in rupiah"),
)


def to_record(reply: object, *, path: str | None = None, line: int | None = None) -> dict[str, Any]:
    """The typed record of a reply of any kind: every column of SCHEMA, in order (null where it does
    not apply). The reply fills it (`reply.to_record()`), from irs_grammar.wire.schema."""
    if kind_of_reply(reply) is None:
        raise TypeError(f"to_record() takes a reply, not {type(reply).__name__}")
    record: dict[str, Any] = reply.to_record(path=path, line=line)  # type: ignore[attr-defined]
    return record


# -- Arrow and Parquet (the `parquet` extra) -----------------------------------------------------

PARQUET_EXTRA = "pyarrow is needed for Parquet and Arrow: pip install 'irs-grammar[parquet]'"


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise ImportError(PARQUET_EXTRA) from None
    return pyarrow


Schema = tuple[tuple[str, str, str], ...]  # (name, type, what it holds) for each column


def arrow_schema(tz: str | None = None, schema: Schema = SCHEMA) -> pyarrow.Schema:
    """SCHEMA (or another) as an Arrow schema; `tz` names the zone of its timestamps (e.g. "+07:00")."""
    pa = _pyarrow()
    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "date32": pa.date32(),
        "timestamp[us]": pa.timestamp("us", tz=tz),
        "list<string>": pa.list_(pa.string()),
        "list<struct<key: string, value: string>>": pa.list_(
            pa.struct([("key", pa.string()), ("value", pa.string())])
        ),
    }
    return pa.schema([(name, types[kind]) for name, kind, _ in schema])


def records_to_table(records: Iterable[dict[str, Any]], tz: str | None = None) -> pyarrow.Table:
    """Typed records as an Arrow table of SCHEMA (timestamps parsed from their ISO text)."""
    pa = _pyarrow()
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for record in records:
        for name in COLUMNS:
            columns[name].append(record[name])
    columns["CURRENT_TIMESTAMP"] = [datetime.fromisoformat(text) for text in columns["CURRENT_TIMESTAMP"]]
    return pa.table(columns, schema=arrow_schema(tz))


def json_lines_to_table(data: bytes, tz: str | None = None) -> pyarrow.Table:
    """Typed records written as JSON Lines (irs_grammar.jsonlines) as an Arrow table of SCHEMA, read
    by Arrow's JSON reader: the same table records_to_table() makes of the records themselves."""
    _pyarrow()
    import pyarrow.json as pj

    try:
        return pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(block_size=max(1 << 20, len(data) + 1)),  # one block: whole lines
            parse_options=pj.ParseOptions(
                explicit_schema=arrow_schema(tz), unexpected_field_behavior="error"
            ),
        )
    except _pyarrow().ArrowInvalid:
        # A timestamp Arrow's reader cannot parse: an offset with seconds (Asia/Jakarta before
        # 1924 was +07:07:12), which Python reads. Such a batch is read the slow way.
        return records_to_table((json.loads(line) for line in data.split(b"\n") if line), tz)


def batch_to_table(
    lines: Iterable[str | bytes], *, path: str | None = None, first: int = 1, tz: tzinfo | None = None
) -> pyarrow.Table:
    """The unit a cluster maps over: a batch of log lines -> an Arrow table of their replies.

    Invalid and blank lines are left out (validate() reports them); `first`
    is the number of the batch's first line in its file, so `line` stays right.

    >>> table = batch_to_table(["R#A. PRICE: 5. @12:00:00.000000 01/01/2025", "x"], path="a.log")
    >>> table.num_rows, table.column("PRICE").to_pylist(), table.column("line").to_pylist()
    (1, [5], [1])
    """
    return records_to_table(batch_records(lines, path=path, first=first, tz=tz), _zone_name(tz))


def batch_records(
    lines: Iterable[str | bytes], *, path: str | None = None, first: int = 1, tz: tzinfo | None = None
) -> Iterator[dict[str, Any]]:
    """The typed record of each valid reply among a batch of lines (see batch_to_table)."""
    for result in validate(lines, tz=tz):
        if result.reply is not None:
            yield result.reply.to_record(path=path, line=first + result.number - 1)


def _zone_name(tz: tzinfo | None) -> str | None:
    """An Arrow timezone for a tzinfo: its IANA key, or its fixed offset as +HH:MM."""
    if tz is None:
        return None
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        return key
    # A zone without an IANA key (pytz's, a tzinfo of one's own) is asked for its offset on a date:
    # asked with None, pytz's answer nothing. Any date serves a fixed offset; a keyless zone whose
    # offset changes has no one offset for Arrow, and is named by its offset on this one.
    offset = tz.utcoffset(datetime(2000, 1, 1))
    minutes = 0 if offset is None else offset // timedelta(minutes=1)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def totals_schema(groups: Sequence[str]) -> Schema:
    """The columns of `reconcile --by GROUPS` rows: the groups, then the totals."""
    return (*((name, GROUP_TYPES[name], f"the {name}") for name in groups), *TOTALS)


def rows_to_parquet(
    rows: Iterable[dict[str, Any]], path: str, *, tz: str | None = None, grouped: Sequence[str] = ()
) -> None:
    """Transaction rows (TRANSACTION_SCHEMA), or totals rows (`grouped` by), to a Parquet file, in
    row groups of ROW_GROUP rows: memory holds one group, whatever the number of rows."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    schema = totals_schema(grouped) if grouped else TRANSACTION_SCHEMA
    arrow = arrow_schema(tz, schema)
    dates = [name for name, kind, _ in schema if kind == "date32"]
    with pq.ParquetWriter(path, arrow) as writer:
        batch: list[dict[str, Any]] = []
        for row in [*rows, None]:
            if row is not None:
                batch.append(row)
            if batch and (row is None or len(batch) == ROW_GROUP):
                columns = {name: [each[name] for each in batch] for name, _, _ in schema}
                for name in dates:
                    columns[name] = [None if d is None else date.fromisoformat(d) for d in columns[name]]
                writer.write_table(pa.table(columns, schema=arrow))
                batch.clear()


ROW_GROUP = 50_000


# -- loading the files into each reader, typed -------------------------------------------------------
#
# Every reader guesses a JSON column's type from its values: pandas turns "085566009041" into
# 85566009041.0 and 18 digits into 10^18, Polars and DuckDB type a column that is null in every row
# of one file as Null, DuckDB reads a day of UUID TRXIDs as UUID. Given the schema, each reads the
# same types from every file. Parquet carries its schema; JSON Lines is read with it.

_DUCKDB = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
    "date32": "DATE",
    "list<string>": "VARCHAR[]",
    "list<struct<key: string, value: string>>": "STRUCT(key VARCHAR, value VARCHAR)[]",
}
_PANDAS = {"string": "string", "int64": "Int64", "bool": "boolean"}


def duckdb_columns(schema: Schema = SCHEMA, tz: bool = False) -> dict[str, str]:
    """The `columns=` of DuckDB's read_json: each column's SQL type (TIMESTAMPTZ with `tz`)."""
    timestamp = "TIMESTAMPTZ" if tz else "TIMESTAMP"
    return {name: timestamp if kind == "timestamp[us]" else _DUCKDB[kind] for name, kind, _ in schema}


def polars_schema(schema: Schema = SCHEMA, tz: str | None = None) -> dict[str, Any]:
    """The `schema=` of Polars' read_ndjson: each column's Polars type."""
    import polars as pl

    types = {
        "string": pl.String,
        "int64": pl.Int64,
        "bool": pl.Boolean,
        "date32": pl.Date,
        "timestamp[us]": pl.Datetime("us", time_zone=tz),
        "list<string>": pl.List(pl.String),
        "list<struct<key: string, value: string>>": pl.List(
            pl.Struct({"key": pl.String, "value": pl.String})
        ),
    }
    return {name: types[kind] for name, kind, _ in schema}


def pandas_dtypes(schema: Schema = SCHEMA) -> dict[str, str]:
    """The `dtype=` of pandas' read_json for the columns pandas can pin: strings as `string`, int64 as
    `Int64`, booleans as `boolean`. (Its default JSON engine still goes through float for integers
    past 2**53: read_pandas() reads them exactly.)"""
    return {name: _PANDAS[kind] for name, kind, _ in schema if kind in _PANDAS}


# A timestamp as the rows write it: ISO 8601 with a space, microseconds, and the offset of a zone if any.
_TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?"
    r"([+-][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$"
)


def json_schema(schema: Schema = SCHEMA) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of one JSON Lines row; shipped as irs_grammar/record.schema.json
    (SCHEMA) and irs_grammar/transaction.schema.json (TRANSACTION_SCHEMA)."""
    types: dict[str, dict[str, Any]] = {
        "string": {"type": ["string", "null"]},
        "int64": {"type": ["integer", "null"], "minimum": -(2**63), "maximum": 2**63 - 1},
        "bool": {"type": ["boolean", "null"]},
        "date32": {"type": ["string", "null"], "format": "date"},
        "timestamp[us]": {
            "type": ["string", "null"],
            "pattern": _TIMESTAMP_PATTERN,
        },
        "list<string>": {"type": "array", "items": {"type": "string"}},
        "list<struct<key: string, value: string>>": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"key": {"type": "string"}, "value": {"type": "string"}},
                "required": ["key", "value"],
                "additionalProperties": False,
            },
        },
    }
    names = [name for name, _, _ in schema]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {name: {**types[kind], "description": what} for name, kind, what in schema},
        "required": names,
        "additionalProperties": False,
    }


def _sniff(path: str) -> tuple[Schema, str | None, bool]:
    """A file's schema (reply records, transaction rows or totals), the zone of its timestamps, and
    whether it is Parquet: from Parquet's own schema, or the first row of JSON Lines."""
    with _open(path) as stream:
        head = stream.read(4)
        if head == b"PAR1":
            import pyarrow.parquet as pq

            arrow = pq.read_schema(path)
            names = arrow.names
            zones = [f.type.tz for f in arrow if getattr(f.type, "tz", None)]
            return _schema_of(names), (zones[0] if zones else None), True
        first = (head + stream.readline()).strip()
    row = json.loads(first) if first else {}
    schema = _schema_of(list(row))
    stamp = next((row[name] for name, kind, _ in schema if kind == "timestamp[us]" and row.get(name)), None)
    zone = None
    if isinstance(stamp, str) and (offset := _OFFSET.search(stamp)):
        zone = offset[0]
    return schema, zone, False


_OFFSET = re.compile(r"[+-][0-9]{2}:[0-9]{2}(?::[0-9]{2})?$")


def _schema_of(names: Sequence[str]) -> Schema:
    if "kind" in names or not names:
        return SCHEMA
    if "outcome" in names and "ref_id" in names:
        return TRANSACTION_SCHEMA
    return totals_schema([name for name in names if name in GROUP_TYPES])


def _open(path: str) -> Any:
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def read_arrow(path: str | os.PathLike[str]) -> pyarrow.Table:
    """A file `parse` or `reconcile` wrote (JSON Lines, `.gz` too, or Parquet) as an Arrow table of
    its schema: every column typed, whatever its values."""
    pa = _pyarrow()
    name = os.fspath(path)
    schema, zone, parquet = _sniff(name)
    if parquet:
        import pyarrow.parquet as pq

        return pq.read_table(name)
    import pyarrow.json as pj

    with _open(name) as stream:
        data = stream.read()
    if not data.strip():
        return arrow_schema(zone, schema).empty_table()
    # Arrow's JSON reader takes a date as a number of days: an ISO date is read as text, then cast.
    as_read = tuple((name, "string" if kind == "date32" else kind, what) for name, kind, what in schema)
    try:
        table = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(block_size=max(1 << 20, len(data) + 1)),
            parse_options=pj.ParseOptions(explicit_schema=arrow_schema(zone, as_read)),
        )
        return table.cast(arrow_schema(zone, schema))
    except pa.ArrowInvalid:
        if schema is not SCHEMA:
            raise
        return records_to_table((json.loads(line) for line in data.split(b"\n") if line), zone)


def read_pandas(path: str | os.PathLike[str]) -> Any:
    """A file `parse` or `reconcile` wrote as a pandas DataFrame: strings as `string`, integers as
    `Int64` (18 digits exact), booleans as `boolean`, timestamps as datetime64 (tz-aware with a zone).
    Needs pandas and pyarrow."""
    import pandas as pd

    pa = _pyarrow()
    mapping = {pa.string(): pd.StringDtype(), pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return read_arrow(path).to_pandas(types_mapper=mapping.get, date_as_object=False)


def read_polars(path: str | os.PathLike[str]) -> Any:
    """A file `parse` or `reconcile` wrote as a Polars DataFrame, every column typed. Needs polars."""
    import polars as pl

    name = os.fspath(path)
    schema, zone, parquet = _sniff(name)
    if parquet:
        return pl.read_parquet(name)
    with _open(name) as stream:
        return pl.read_ndjson(stream.read(), schema=polars_schema(schema, zone))


def duckdb_view(connection: Any, path: str | os.PathLike[str], name: str = "replies") -> None:
    """`CREATE OR REPLACE VIEW name` over a file `parse` or `reconcile` wrote, every column typed."""
    file = os.fspath(path)
    schema, zone, parquet = _sniff(file)
    quoted = "'" + file.replace("'", "''") + "'"
    if parquet:
        source = f"read_parquet({quoted})"
    else:
        columns = ", ".join(
            f"'{column}': '{kind}'" for column, kind in duckdb_columns(schema, tz=zone is not None).items()
        )
        source = f"read_json({quoted}, format = 'newline_delimited', columns = {{{columns}}})"
    identifier = '"' + name.replace('"', '""') + '"'
    connection.execute(f"CREATE OR REPLACE VIEW {identifier} AS SELECT * FROM {source}")
