"""The typed record: one schema for every kind of reply, what leaves the library for other tools.

Each reply fills its record itself (`reply.to_record()`) from the pieces
here; `irs_grammar.records` writes records to JSON Lines, Arrow and Parquet.
Unlike `to_dict()` (the wire strings, for a round trip), a record holds
integers for PRICE and every amount, booleans for the outcome, and the
timestamp in ISO 8601.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

# Every column, in order: (name, type, what it holds). The type names are the
# Parquet/Arrow ones; in JSON they are strings, numbers, booleans and null.
# docs/format.md's table is generated from this one, and tests hold the two equal.
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


def new_record(
    kind: str, product_code: str, timestamp: datetime, ok: bool, path: str | None, line: int | None
) -> dict[str, Any]:
    """A record of every column, in order: what every kind has set, the rest null for the kind to fill."""
    record = dict(_EMPTY)
    record["kind"] = kind
    record["path"], record["line"] = path, line
    record["PRODUCT_CODE"] = product_code
    # ISO 8601 with a space (RFC 3339 allows it): DuckDB's JSON reader types it TIMESTAMP, not VARCHAR
    record["CURRENT_TIMESTAMP"] = timestamp.isoformat(sep=" ", timespec="microseconds")
    record["OK"] = ok
    return record


def extra(fields: Iterable[tuple[str, str]], own: Mapping[str, str]) -> list[dict[str, str]]:
    """EXTRA: every field but the first of each key that has a column of its own (`own`), in wire order."""
    seen: set[str] = set()
    rest = []
    for key, value in fields:
        if key in own and key not in seen:
            seen.add(key)
        else:
            rest.append({"key": key, "value": value})
    return rest
