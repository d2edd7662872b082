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

import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, tzinfo
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
    "arrow_schema",
    "batch_records",
    "batch_to_table",
    "records_to_table",
    "to_record",
]


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


def arrow_schema(tz: str | None = None) -> pyarrow.Schema:
    """SCHEMA as an Arrow schema; `tz` names the zone of CURRENT_TIMESTAMP (e.g. "+07:00")."""
    pa = _pyarrow()
    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "timestamp[us]": pa.timestamp("us", tz=tz),
        "list<struct<key: string, value: string>>": pa.list_(
            pa.struct([("key", pa.string()), ("value", pa.string())])
        ),
    }
    return pa.schema([(name, types[kind]) for name, kind, _ in SCHEMA])


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
