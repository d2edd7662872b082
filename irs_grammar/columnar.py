"""Arrow tables of typed records, built a column at a time from the fast path's match groups.

`irs-grammar parse --format parquet` spends its time here. The lines of a
batch that have one of the common shapes (`wire.fastpath.common_*_re`: most
lines of a real log) are matched one by one and only their match groups are
kept (a line of the fast path's general shape has its fields split into the
same groups); the groups, transposed into columns, become the record's
columns through Arrow's compute functions (integers, booleans, the
timestamp, ERROR_CODE once per distinct reason, EXTRA split from the text
of the other fields): no dict, no JSON text per reply. Every other line (a
moment that is not real, a line the parser refuses, or any line when a
named zone such as Asia/Jakarta must place each moment) is written as JSON
Lines by `jsonlines` and read by Arrow's JSON reader, as every line was
before.

The definition stays `records.records_to_table()` of the replies'
`to_record()`: tests/test_columnar.py holds the two to equal tables on every
line the strategies draw. Needs pyarrow (the `parquet` extra).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import timedelta, timezone, tzinfo
from functools import cache
from operator import itemgetter
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from .jsonlines import Options, inquiry_fields, parse_alone, read_slowly, transaction_fields, writer_for
from .lines import MAX_LINE_BYTES, Overlong
from .records import arrow_schema, json_lines_to_table
from .validation import REPLY_START
from .wire import inquiry, transaction
from .wire.fastpath import (
    INQUIRY_SHAPE,
    KEY_END,
    SEP_TEXT,
    TRANSACTION_SHAPE,
    common_inquiry_re,
    common_transaction_re,
    line_re,
)
from .wire.grammar import terminal_pattern
from .wire.reply import error_code_of
from .wire.timestamp import iso_date

__all__ = ["TableBatch", "table_alone", "table_batch"]

_TEXT = pa.string()


class TableBatch(NamedTuple):
    """A batch's records as one Arrow table (None: no reply in it) and its errors, (line number,
    column, message), in line order."""

    table: pa.Table | None
    errors: list[tuple[int, int, str]]
    lines: int  # lines read, blank and invalid ones too


Groups = Sequence[Any]  # a line's values in its common shape's groups (str or None each)


class _Kept(NamedTuple):
    """The lines of one kind a batch's shapes took: their groups one line after the other (the
    shape's len(names) values a line: one flat list, turned into columns by Arrow), line numbers."""

    values: list[Any]
    numbers: list[int]


class _Columns(NamedTuple):
    """What a kind's builder is given: its lines' groups as columns (an Arrow string array per
    group, by the group's name in the common shape), and the columns every kind fills the same way."""

    values: dict[str, pa.Array]
    common: dict[str, Any]


# -- the columns every kind shares ---------------------------------------------------------------


def _moments(time: pa.Array, date: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The `YYYY-MM-DDTHH:MM:SS.ffffff` text of each grammar-checked TIME and DATE, and whether
    each names a real moment (the caller drops the others).

    As `wire.timestamp.is_real_moment`: the time by comparing text, the date by the calendar once
    per distinct date."""
    dates = pc.dictionary_encode(date)  # each distinct date once, and where each row's is
    days = pa.array([iso_date(d) for d in dates.dictionary.to_pylist()], _TEXT)
    day = pc.take(days, dates.indices)
    real = pc.and_(
        pc.and_(
            pc.not_equal(day, ""),  # iso_date: "" for no real day
            pc.less_equal(pc.utf8_slice_codeunits(time, 0, 2), "23"),  # hours 00 to 23
        ),
        pc.and_(
            pc.less_equal(pc.utf8_slice_codeunits(time, 3, 4), "5"),  # minutes 00 to 59
            pc.less_equal(pc.utf8_slice_codeunits(time, 6, 7), "5"),  # seconds 00 to 59
        ),
    )
    return pc.binary_join_element_wise(day, time, ""), real


def _timestamps(text: pa.Array, offset: timedelta | None, schema: pa.Schema) -> pa.Array:
    """CURRENT_TIMESTAMP from the moments' text: naive, or the instant of a fixed offset's local time."""
    naive = pc.cast(text, pa.timestamp("us"))
    if offset is None:
        return naive
    instant = pc.subtract(naive, pa.scalar(offset, pa.duration("us")))
    return instant.cast(schema.field("CURRENT_TIMESTAMP").type)


def _error_codes(reasons: pa.Array) -> pa.Array:
    """ERROR_CODE of each reason (null for none), error_code_of() asked once per distinct reason."""
    distinct = pc.unique(reasons)
    codes = pa.array([None if r is None else error_code_of(r) for r in distinct.to_pylist()], _TEXT)
    return pc.take(codes, pc.index_in(reasons, distinct))  # a null reason finds the null in distinct


def _rupiah(amounts: pa.Array) -> pa.Array:
    """Grammar-checked amounts (`1.234.567`, at most 18 digits) as int64."""
    return pc.cast(pc.replace_substring(amounts, ".", ""), pa.int64())


# Between two fields of group `extra`: _SEP before a KEY, which no VALUE holds (the match checked
# it: see wire.fastpath.field_end_re), replaced by a line break, which no VALUE or KEY holds. RE2,
# Arrow's regex engine, has no lookahead, so the KEY is matched and written back.
_FIELD_END = re.escape(SEP_TEXT) + "(" + terminal_pattern("KEY") + ")"


def _extra(blocks: pa.Array, kind: pa.ListType) -> pa.Array:
    """EXTRA from the text of each row's other fields (`KEY: VALUE. ` again and again; null: none):
    its (key, value) pairs in wire order, an empty list for a row without."""
    if blocks.null_count == len(blocks):  # most batches: no row has other fields
        return pa.ListArray.from_arrays(
            pa.repeat(pa.scalar(0, pa.int32()), len(blocks) + 1), pa.array([], kind.value_type), type=kind
        )
    fields = pc.replace_substring_regex(
        pc.utf8_slice_codeunits(blocks, 0, -len(SEP_TEXT)), _FIELD_END, "\n\\1"
    )
    each = pc.split_pattern(fields, "\n")  # a list of `KEY: VALUE` per row; null stays null
    lengths = pc.fill_null(pc.list_value_length(each), 0)
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(lengths).cast(pa.int32())])
    pairs = pc.split_pattern(each.flatten(), KEY_END, max_splits=1)
    struct = pa.StructArray.from_arrays(
        [pc.list_element(pairs, 0), pc.list_element(pairs, 1)], fields=list(kind.value_type)
    )
    return pa.ListArray.from_arrays(offsets, struct, type=kind)


def _columns(
    shape: _Shape,
    kept: _Rows,
    options: Options,
    offset: timedelta | None,
    schema: pa.Schema,
) -> _Columns:
    """The kind's groups as columns, and the columns every kind fills the same way (the others null)."""
    rows = len(kept.numbers)
    common: dict[str, Any] = {field.name: pa.nulls(rows, field.type) for field in schema}
    common["kind"] = pa.repeat(pa.scalar(shape.kind, _TEXT), rows)
    common["path"] = pa.repeat(pa.scalar(options.path, _TEXT), rows)
    common["line"] = kept.numbers
    common["CURRENT_TIMESTAMP"] = _timestamps(kept.moments, offset, schema)
    common["EXTRA"] = _extra(kept.groups["extra"], schema.field("EXTRA").type)
    return _Columns(kept.groups, common)


# -- each kind: its common shape's groups, a general line as those groups, the groups as columns ----


def _other_fields(pairs: list[tuple[str, str]]) -> str | None:
    """The fields no column holds as the text of a common shape's group `extra` (None: none)."""
    return "".join([f"{key}{KEY_END}{value}{SEP_TEXT}" for key, value in pairs]) or None


def _inquiry_groups(m: re.Match[str]) -> Groups:
    """A general inquiry line (fast path) as the common shape's groups."""
    product, block, _, reason, t, d = m.groups()
    (price, custnum, custname, power), rest = inquiry_fields(block)
    return (product, price, custnum, custname, power, _other_fields(rest), reason, t, d)


def _inquiry_columns(columns: _Columns) -> dict[str, Any]:
    group, out = columns.values, columns.common
    reason = group["reason"]
    out["PRODUCT_CODE"] = group["product"]
    out["OK"] = pc.is_null(reason)
    out["PRICE"] = pc.cast(group["price"], pa.int64())
    out["CUSTOMER_NUMBER"], out["CUSTOMER_NAME"] = group["custnum"], group["custname"]
    out["POWER_CAPACITY"] = group["power"]
    out["REASON"], out["ERROR_CODE"] = reason, _error_codes(reason)
    return out


def _transaction_groups(m: re.Match[str]) -> Groups:
    """A general buy reply line (fast path) as the common shape's groups."""
    ref, product, destination, status, details, block, _, reason, *tail = m.groups()
    serial, rest = transaction_fields(block)
    return (ref, product, destination, status, details, serial, _other_fields(rest), reason, *tail)


_SUCCESS = transaction.TransactionStatus.SUCCESS.value
_FAILED = transaction.TransactionStatus.FAILED.value


def _transaction_columns(columns: _Columns) -> dict[str, Any]:
    group, out = columns.values, columns.common
    status, details, trxid = group["status"], group["details"], group["trxid"]
    ok, failed = pc.equal(status, _SUCCESS), pc.equal(status, _FAILED)
    final = pc.or_(ok, failed)
    reason = pc.coalesce(details, group["reason"])  # bare details stand where REASON would
    out["PRODUCT_CODE"], out["OK"] = group["product"], ok
    out["REASON"], out["ERROR_CODE"] = reason, _error_codes(reason)
    out["REF_ID"], out["DESTINATION"], out["STATUS"] = group["ref"], group["destination"], status
    out["FAILED"], out["FINAL"], out["PENDING"] = failed, final, pc.invert(final)
    out["SERIAL_NUMBER"], out["BARE_DETAILS"] = group["sn"], pc.is_valid(details)
    no_id = pc.equal(trxid, transaction.NO_TRANSACTION_ID)
    out["TRANSACTION_ID"] = pc.if_else(no_id, pa.scalar(None, _TEXT), trxid)
    b, x, a = _rupiah(group["before"]), _rupiah(group["deduction"]), _rupiah(group["after"])
    out["BALANCE_BEFORE"], out["DEDUCTION"], out["BALANCE_AFTER"] = b, x, a
    out["BALANCE_ADDS_UP"] = pc.equal(pc.subtract(b, x), a)  # null without a balance
    out["REFID"] = group["refid"]
    return out


class _Shape(NamedTuple):
    """A kind with a columnar builder: the match of its common shape and of its general one (the
    fast path's whole line), a general match as the common groups, the groups' names (`time`,
    `date` and `extra`, the other fields' text, among them), and how the groups become the
    record's columns."""

    kind: str
    common: Callable[[str], re.Match[str] | None]
    general: Callable[[str], re.Match[str] | None]
    groups: Callable[[re.Match[str]], Groups]
    names: tuple[str, ...]  # the common shape's groups, in order (a line keeps len(names) values)
    columns: Callable[[_Columns], dict[str, Any]]


@cache
def _shapes() -> tuple[_Shape, ...]:
    """The kinds with a columnar builder (a kind not here goes through the JSON Lines writers)."""
    shapes = []
    for kind, common, general, groups, columns in (
        (inquiry.KIND, common_inquiry_re(), line_re(INQUIRY_SHAPE), _inquiry_groups, _inquiry_columns),
        (
            transaction.KIND,
            common_transaction_re(),
            line_re(TRANSACTION_SHAPE),
            _transaction_groups,
            _transaction_columns,
        ),
    ):
        names = tuple(sorted(common.groupindex, key=common.groupindex.__getitem__))
        shapes.append(_Shape(kind, common.match, general.match, groups, names, columns))
    return tuple(shapes)


def _no_shape(text: str) -> None:
    """The match of a run without shapes (a named zone): every line goes through JSON Lines."""
    return None


# -- a batch of log lines ------------------------------------------------------------------------


def _fixed(tz: tzinfo | None) -> tuple[bool, timedelta | None]:
    """Whether the run's zone has one offset (or none: naive timestamps), and that offset. A zone
    whose offset depends on the moment (a named one) has each line placed by Python, through JSON Lines."""
    if tz is None:
        return True, None
    return isinstance(tz, timezone), tz.utcoffset(None)


def table_batch(
    raw_lines: Sequence[bytes | Overlong],
    first: int,
    options: Options,
    zone: str | None,
    max_line_length: int = MAX_LINE_BYTES,
) -> TableBatch:
    """The records of a batch of raw lines (the first is line `first`) as one Arrow table of
    `records.arrow_schema(zone)`, in line order, and the batch's errors: what `parse_batch`
    writes as JSON Lines, as a table. Blank lines are skipped."""
    try:  # the common case, decoded in one go; a batch with bad bytes or an overlong line goes line by line
        lines: Sequence[str | bytes | Overlong] = [raw.decode() for raw in raw_lines]  # type: ignore[union-attr]
    except (UnicodeDecodeError, AttributeError):
        lines = raw_lines
    fixed, offset = _fixed(options.tz)
    shapes = _shapes() if fixed else ()
    commons = [shape.common for shape in shapes] or [_no_shape]
    kept = [_Kept([], []) for _ in commons]
    write = writer_for(options)
    others: list[str] = []  # the JSON Lines of the lines no shape took
    errors: list[tuple[int, int, str]] = []
    extract = options.extract
    # The common shape that took the last line is tried first (a log runs in stretches of one
    # kind), then the one that took a line before it (a mixed log goes back and forth between
    # two kinds), each with where its lines go bound to locals: the loop's whole cost is here.
    bound = [(c, these.values.extend, these.numbers.append) for c, these in zip(commons, kept, strict=True)]
    hit, alt = 0, len(bound) - 1
    (match, keep, count), (alt_match, alt_keep, alt_count) = bound[hit], bound[alt]
    for number, line in enumerate(lines, first):
        if type(line) is str:
            start = line.find(REPLY_START) if extract else 0
            if start >= 0:
                text = line[start:] if start > 0 else line
                m = match(text)
                if m is not None:
                    keep(m.groups())
                    count(number)
                    continue
                m = alt_match(text) if alt != hit else None
                if m is not None:
                    alt_keep(m.groups())
                    alt_count(number)
                    hit, alt = alt, hit
                    (match, keep, count), (alt_match, alt_keep, alt_count) = bound[hit], bound[alt]
                    continue
                took = _took(shapes, kept, hit, text, number)
                if took >= 0:
                    if took != hit:
                        hit, alt = took, hit
                        (match, keep, count), (alt_match, alt_keep, alt_count) = bound[hit], bound[alt]
                    continue
                written = write(text, number)
                if written is not None:
                    others.append(written)
                    continue
        read_slowly(number, line, options, max_line_length, number, others, errors)
    schema = arrow_schema(zone)
    tables = []
    for shape, these in zip(shapes, kept):  # noqa: B905 (kept has one more when there are no shapes)
        if these.numbers:
            real = _real_moments_only(shape, these, lines, first, options, max_line_length, others, errors)
            if len(real.numbers):
                columns = _columns(shape, real, options, offset, schema)
                tables.append(pa.table(shape.columns(columns), schema=schema))
    if others:
        tables.append(json_lines_to_table(("\n".join(others) + "\n").encode(), zone))
    errors.sort(key=itemgetter(0))
    return TableBatch(_in_line_order(tables), errors, len(lines))


def _took(shapes: Sequence[_Shape], kept: list[_Kept], hit: int, text: str, number: int) -> int:
    """The general shape that took a line the common shapes table_batch tried did not (those of
    the last line's kind and of the kind before it: the two kinds with a columnar builder), the
    last line's kind first; the line's groups kept with its kind's; -1: none."""
    order: list[int] = [hit, *range(hit), *range(hit + 1, len(shapes))] if shapes else []
    for at in order:  # the last line's kind first
        m = shapes[at].general(text)
        if m is not None:
            kept[at].values.extend(shapes[at].groups(m))
            kept[at].numbers.append(number)
            return at
    return -1


class _Rows(NamedTuple):
    """A kind's kept lines in Arrow, those with a real moment only: each group's column (by the
    group's name), their line numbers and their moments' text."""

    groups: dict[str, pa.Array]
    numbers: pa.Array
    moments: pa.Array


def _real_moments_only(
    shape: _Shape,
    kept: _Kept,
    lines: Sequence[str | bytes | Overlong],
    first: int,
    options: Options,
    max_line_length: int,
    others: list[str],
    errors: list[tuple[int, int, str]],
) -> _Rows:
    """The kept lines whose TIME and DATE name a real moment, in Arrow; the others are read by the
    parser, which says which part is wrong (their errors are sorted into line order after)."""
    # each group's column: every len(names)-th value (the transpose, as list slices)
    width, values = len(shape.names), kept.values
    groups = {name: pa.array(values[at::width], _TEXT) for at, name in enumerate(shape.names)}
    moments, real = _moments(groups["time"], groups["date"])
    numbers = pa.array(kept.numbers, pa.int64())
    unreal = pc.indices_nonzero(pc.invert(real)).to_pylist()
    if not unreal:
        return _Rows(groups, numbers, moments)
    for place in unreal:
        number = kept.numbers[place]
        read_slowly(number, lines[number - first], options, max_line_length, number, others, errors)
    kept_groups = {name: column.filter(real) for name, column in groups.items()}
    return _Rows(kept_groups, numbers.filter(real), moments.filter(real))


def _in_line_order(tables: list[pa.Table]) -> pa.Table | None:
    if len(tables) <= 1:
        return tables[0] if tables else None
    table = pa.concat_tables(tables)
    return table.take(pc.sort_indices(table["line"]))


def table_alone(raw: bytes, options: Options, zone: str | None) -> TableBatch:
    """One reply given on its own (on the command line), as parse_alone() writes it, as a table."""
    alone = parse_alone(raw, options)
    return TableBatch(
        json_lines_to_table(alone.data, zone) if alone.data else None, alone.errors, alone.lines
    )
