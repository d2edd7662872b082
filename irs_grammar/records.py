"""Typed records: what leaves the library for other tools (JSON Lines, Parquet, DuckDB, pandas).

One schema for both kinds of reply, so a log that mixes them is one table.
Unlike `to_dict()` (the wire strings, for a round trip), a record holds
integers for PRICE and every amount, booleans for the outcome, and the
timestamp in ISO 8601 (`2024-11-29T10:54:14.776182`, `+07:00` when a zone was
given): what DuckDB, Parquet, pandas and Spark read right without being told
that `68.902` is sixty-eight thousand rupiah or that `01/11/2024` is day first.

>>> import irs_grammar as irs
>>> record = irs.parse("R#PLN20. PRICE: 20546. CUSTNUM: 0811. @12:32:55.821005 12/11/2024").to_record()
>>> record["kind"], record["PRICE"], record["OK"], record["CURRENT_TIMESTAMP"]
('inquiry', 20546, True, '2024-11-12T12:32:55.821005')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from .model import CUSTNAME, CUSTNUM, POWERCAPACITY, PRICE, REASON, InquiryResponse, error_code_of
from .transaction import SN, TransactionResponse

if TYPE_CHECKING:
    import pyarrow

INQUIRY, TRANSACTION = "inquiry", "transaction"

# Every column, in order: (name, type, what it holds). The type names are the
# Parquet/Arrow ones; in JSON they are strings, numbers, booleans and null.
# docs/records.md is generated from this table, and tests hold the two equal.
SCHEMA: tuple[tuple[str, str, str], ...] = (
    ("kind", "string", "`inquiry` or `transaction`"),
    ("path", "string", "the log the line came from (null for a reply read on its own)"),
    ("line", "int64", "its line number, from 1 (null for a reply read on its own)"),
    ("PRODUCT_CODE", "string", "the product code (may be empty on a failed inquiry)"),
    ("CURRENT_TIMESTAMP", "timestamp[us]", "ISO 8601 in JSON; naive, or with the offset of `--tz`/`tz=`"),
    ("OK", "bool", "inquiry: no REASON; transaction: SUCCESS"),
    ("PRICE", "int64", "inquiry: PRICE"),
    ("CUSTOMER_NUMBER", "string", "inquiry: CUSTNUM"),
    ("CUSTOMER_NAME", "string", "inquiry: CUSTNAME"),
    ("POWER_CAPACITY", "string", "inquiry: POWERCAPACITY"),
    ("REASON", "string", "REASON, or a transaction's bare details part"),
    ("ERROR_CODE", "string", "the digits of the last `Err:NNNN` in REASON (text: `0042` keeps its zeros)"),
    ("REF_ID", "string", "transaction: the partner's reference after `R#`"),
    ("DESTINATION", "string", "transaction: the destination (null when the reply has none)"),
    ("STATUS", "string", "transaction: the status word as sent"),
    ("FAILED", "bool", "transaction: FAILED (the only status on which to refund)"),
    ("FINAL", "bool", "transaction: SUCCESS or FAILED"),
    ("PENDING", "bool", "transaction: not final (INPROGRESS or any unknown word): check again"),
    ("SERIAL_NUMBER", "string", "transaction: SN"),
    ("BARE_DETAILS", "bool", "transaction: the details part came without `REASON: `"),
    ("TRANSACTION_ID", "string", "transaction: Klikoo's id (null for `-`)"),
    ("BALANCE_BEFORE", "int64", "transaction: SISA SALDO before, in rupiah"),
    ("DEDUCTION", "int64", "transaction: the deduction, in rupiah"),
    ("BALANCE_AFTER", "int64", "transaction: SISA SALDO after, in rupiah"),
    ("BALANCE_ADDS_UP", "bool", "transaction: before - deduction == after (null without a balance)"),
    ("REFID", "string", "transaction: the `&refid=` tail"),
    (
        "EXTRA",
        "list<struct<key: string, value: string>>",
        "every other field, in wire order: unknown keys, repeats",
    ),
)
COLUMNS = tuple(name for name, _, _ in SCHEMA)
_EMPTY: dict[str, Any] = dict.fromkeys(COLUMNS)

# Wire keys each kind reads into a column of its own (the first of each; a repeat goes to EXTRA).
_INQUIRY_COLUMNS = {PRICE: "PRICE", CUSTNUM: "CUSTOMER_NUMBER", CUSTNAME: "CUSTOMER_NAME",
                    POWERCAPACITY: "POWER_CAPACITY", REASON: "REASON"}  # fmt: skip
_TRANSACTION_COLUMNS = {SN: "SERIAL_NUMBER", REASON: "REASON"}


def _extra(fields: Iterable[tuple[str, str]], own: dict[str, str]) -> list[dict[str, str]]:
    seen: set[str] = set()
    extra = []
    for key, value in fields:
        if key in own and key not in seen:
            seen.add(key)
        else:
            extra.append({"key": key, "value": value})
    return extra


def to_record(
    reply: InquiryResponse | TransactionResponse, *, path: str | None = None, line: int | None = None
) -> dict[str, Any]:
    """The typed record of a reply: every column of SCHEMA, in order (null where it does not apply)."""
    record = dict(_EMPTY)
    record["path"], record["line"] = path, line
    record["PRODUCT_CODE"] = reply.product_code
    record["CURRENT_TIMESTAMP"] = reply.timestamp.isoformat(timespec="microseconds")
    record["OK"] = reply.ok
    if isinstance(reply, TransactionResponse):
        record["kind"] = TRANSACTION
        record.update(
            REF_ID=reply.ref_id,
            DESTINATION=reply.destination,
            STATUS=str(reply.status),
            FAILED=reply.failed,
            FINAL=reply.final,
            PENDING=reply.pending,
            SERIAL_NUMBER=reply.serial_number,
            REASON=reply.reason,
            ERROR_CODE=None if reply.reason is None else error_code_of(reply.reason),
            BARE_DETAILS=reply.bare_details,
            TRANSACTION_ID=reply.transaction_id,
            BALANCE_BEFORE=reply.balance_before,
            DEDUCTION=reply.deduction,
            BALANCE_AFTER=reply.balance_after,
            BALANCE_ADDS_UP=reply.balance_adds_up,
            REFID=reply.refid,
            EXTRA=_extra(reply.fields, _TRANSACTION_COLUMNS),
        )
    else:
        record["kind"] = INQUIRY
        record.update(
            PRICE=reply.price,
            CUSTOMER_NUMBER=reply.customer_number,
            CUSTOMER_NAME=reply.customer_name,
            POWER_CAPACITY=reply.power_capacity,
            REASON=reply.reason,
            ERROR_CODE=reply.error_code,
            EXTRA=_extra(reply.fields, _INQUIRY_COLUMNS),
        )
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
    from .validation import validate

    for result in validate(lines, tz=tz):
        if result.reply is not None:
            yield to_record(result.reply, path=path, line=first + result.number - 1)


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
