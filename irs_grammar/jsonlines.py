"""JSON Lines of typed records and wire dicts, written straight from a valid line's match.

`irs-grammar parse` spends its time here. For a kind with a fast writer (both
documented kinds), a valid line's JSON text is put together from the fast
path's match groups: no reply object, no 27-key dict, no `json.dumps`. Any
other line (a kind without a fast writer, a line the fast path leaves to Lark,
a reply a wire dict cannot hold) goes through the reference, `to_record()` or
`to_dict()` and `json.dumps`, which stays the definition of the output:
tests/test_jsonlines.py holds the two to the same bytes on every line the
strategies draw.

`parse_batch()` turns a batch of raw log lines into its JSON Lines text and
its errors; it runs in worker processes for `parse --jobs N`, as check_batch
does for `validate`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import timezone, tzinfo
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any, NamedTuple

from .errors import ParseError
from .lines import MAX_LINE_BYTES, Overlong, line_text
from .validation import REPLY_START, LineResult, check_line
from .wire import inquiry, transaction
from .wire.fastpath import (
    INQUIRY_SHAPE,
    TRANSACTION_SHAPE,
    Shape,
    common_inquiry_re,
    common_transaction_re,
    field_pairs,
    line_re,
)
from .wire.reply import REASON, error_code_of
from .wire.schema import COLUMNS
from .wire.timestamp import ISO_DATES, iso_date, moment

__all__ = [
    "Options",
    "ParsedBatch",
    "parse_alone",
    "parse_batch",
    "read_slowly",
    "reference_line",
    "writer",
    "writer_for",
]

# What a line is written as, given its text and number; None: not a line this writer takes.
Writer = Callable[[str, int], "str | None"]


class Options(NamedTuple):
    """What every line of a run is written with."""

    path: str | None  # the `path` column (None: a reply read alone)
    tz: tzinfo | None
    wire: bool  # the wire dict (to_dict) instead of the typed record
    ascii_only: bool  # escape non-ASCII text (standard output cannot encode it)
    extract: bool = False  # a reply starts at the first R# of its line (a log prefix before it)


class ParsedBatch(NamedTuple):
    """A batch's JSON Lines, UTF-8, and its errors, (line number, column, message), in line order."""

    data: bytes
    errors: list[tuple[int, int, str]]
    lines: int  # lines read, blank and invalid ones too


def reference_line(reply: Any, number: int | None, options: Options) -> str:
    """The definition: `json.dumps` of the reply's record (or wire dict), as `parse` writes it."""
    document = reply.to_dict() if options.wire else reply.to_record(path=options.path, line=number)
    return json.dumps(document, ensure_ascii=options.ascii_only)


# -- the typed record, as a template ---------------------------------------------------------------


def _template(kind: str, filled: Sequence[str], options: Options) -> list[str]:
    """The record's JSON as a list: the constant text at the even places, a slot (for each of
    `filled`, in COLUMNS order) at the odd ones; every other column null, `kind` and `path` written in.
    A line is `"".join(template)` once its slots are set: faster than `%` on text this long."""
    encode = _encoder(options)
    constant = {"kind": encode(kind), "path": "null" if options.path is None else encode(options.path)}
    pieces = [""]
    for name in COLUMNS:
        pieces[-1] += f"{', ' if name != COLUMNS[0] else '{'}{json.dumps(name)}: "
        if name in filled:
            pieces += ["", ""]
        else:
            pieces[-1] += constant.get(name, "null")
    pieces[-1] += "}"
    return pieces


def _encoder(options: Options) -> Callable[[str], str]:
    """A str as a JSON string: json's own C encoder, escaping non-ASCII text when asked."""
    return encode_basestring_ascii if options.ascii_only else encode_basestring


def _day(t: str, d: str) -> str | None:
    """`YYYY-MM-DD` of a grammar-checked TIME and DATE that name a real moment, else None."""
    if t[0:2] > "23" or t[3] > "5" or t[6] > "5":  # minutes and seconds: 00 to 59
        return None
    iso = ISO_DATES.get(d) or iso_date(d)  # "YYYY-MM-DDT", or "" for no real day
    return iso[:-1] if iso else None


def _zone_suffix(tz: tzinfo | None) -> Callable[[str, str], str] | str:
    """What follows the time in CURRENT_TIMESTAMP: "" (naive), a fixed `+07:00`, or a function of
    the TIME and DATE for a zone whose offset depends on the date."""
    if tz is None:
        return ""
    if isinstance(tz, timezone):
        return moment("00:00:00.000000", "01/01/2000", tz).isoformat()[19:]
    return lambda t, d: moment(t, d, tz).isoformat(timespec="microseconds")[26:]


def _extra(pairs: list[tuple[str, str]], encode: Callable[[str], str]) -> str:
    if not pairs:
        return "[]"
    return "[" + ", ".join(f'{{"key": {encode(k)}, "value": {encode(v)}}}' for k, v in pairs) + "]"


# The columns of an inquiry's documented keys, in the order the record has them.
_INQUIRY_SLOTS = {inquiry.PRICE: 0, inquiry.CUSTNUM: 1, inquiry.CUSTNAME: 2, inquiry.POWERCAPACITY: 3}


def inquiry_fields(block: str) -> tuple[list[str | None], list[tuple[str, str]]]:
    """An inquiry's `fields` group (fast path, general shape) as the record holds it: the values
    of PRICE, CUSTNUM, CUSTNAME and POWERCAPACITY (the first of each, None for one missing), and
    every other field, in wire order (EXTRA)."""
    values: list[str | None] = [None, None, None, None]
    rest: list[tuple[str, str]] = []
    for key, value in field_pairs(block):
        slot = _INQUIRY_SLOTS.get(key)
        if slot is None or values[slot] is not None:
            rest.append((key, value))
        else:
            values[slot] = value
    return values, rest


def transaction_fields(block: str | None) -> tuple[str | None, list[tuple[str, str]]]:
    """A buy reply's `fields` group (fast path, general shape) as the record holds it: the first
    SN's value (None: no SN), and every other field, in wire order (EXTRA)."""
    serial = None
    rest: list[tuple[str, str]] = []
    if block:
        for key, value in field_pairs(block):
            if key == transaction.SN and serial is None:
                serial = value
            else:
                rest.append((key, value))
    return serial, rest


_INQUIRY_FILLED = (
    "line",
    "PRODUCT_CODE",
    "CURRENT_TIMESTAMP",
    "OK",
    "PRICE",
    "CUSTOMER_NUMBER",
    "CUSTOMER_NAME",
    "POWER_CAPACITY",
    "REASON",
    "ERROR_CODE",
    "EXTRA",
)


class _Tools(NamedTuple):
    """What a typed-record writer works with, bound once (locals of its closure, for speed)."""

    template: list[str]
    encode: Callable[[str], str]
    match_line: Callable[[str], re.Match[str] | None]
    zone: Callable[[str, str], str] | str


def _tools(kind: str, filled: Sequence[str], shape: Shape, options: Options) -> _Tools:
    return _Tools(
        _template(kind, filled, options),
        _encoder(options),
        line_re(shape).match,
        _zone_suffix(options.tz),
    )


def _inquiry_record(options: Options) -> Writer:
    template, encode, match_line, zone = _tools(inquiry.KIND, _INQUIRY_FILLED, INQUIRY_SHAPE, options)

    match_common = common_inquiry_re().match
    dates, join = ISO_DATES, "".join

    def write(line: str, number: int) -> str | None:
        m = match_common(line)
        if m is not None:
            product, price, custnum, custname, power, other, reason, t, d = m.groups()
            extra = "[]" if other is None else _extra(field_pairs(other), encode)
        else:
            m = match_line(line)
            if m is None:
                return None
            product, block, _, reason, t, d = m.groups()
            (price, custnum, custname, power), rest = inquiry_fields(block)
            extra = _extra(rest, encode)
        iso = dates.get(d) or iso_date(d)  # _day(), inline: a call costs a tenth of the line
        if not iso or t[0:2] > "23" or t[3] > "5" or t[6] > "5":
            return None  # not a real moment: the reference says which part
        if reason is None:
            ok = "true"
            shown_reason = code = "null"
        else:
            ok = "false"
            shown_reason = encode(reason)
            code = "null" if (c := error_code_of(reason)) is None else encode(c)
        template[1::2] = (
            str(number),
            encode(product),
            f'"{iso[:-1]} {t}{zone if type(zone) is str else zone(t, d)}"',  # type: ignore[operator]
            ok,
            "null" if price is None else price.lstrip("0") or "0",  # PRICE_VALUE is [0-9]{1,18}
            "null" if custnum is None else encode(custnum),
            "null" if custname is None else encode(custname),
            "null" if power is None else encode(power),
            shown_reason,
            code,
            extra,
        )
        return join(template)

    return write


_TRANSACTION_FILLED = (
    "line",
    "PRODUCT_CODE",
    "CURRENT_TIMESTAMP",
    "OK",
    "REASON",
    "ERROR_CODE",
    "REF_ID",
    "DESTINATION",
    "STATUS",
    "FAILED",
    "FINAL",
    "PENDING",
    "SERIAL_NUMBER",
    "BARE_DETAILS",
    "TRANSACTION_ID",
    "BALANCE_BEFORE",
    "DEDUCTION",
    "BALANCE_AFTER",
    "BALANCE_ADDS_UP",
    "REFID",
    "EXTRA",
)
_SUCCESS, _FAILED = transaction.TransactionStatus.SUCCESS.value, transaction.TransactionStatus.FAILED.value


def _transaction_record(options: Options) -> Writer:
    template, encode, match_line, zone = _tools(
        transaction.KIND, _TRANSACTION_FILLED, TRANSACTION_SHAPE, options
    )
    no_id = transaction.NO_TRANSACTION_ID

    match_common = common_transaction_re().match
    dates, join = ISO_DATES, "".join

    def write(line: str, number: int) -> str | None:
        m = match_common(line)
        if m is not None:
            ref, product, destination, status, details, serial, other, reason, trxid, *tail = m.groups()
            extra = "[]" if other is None else _extra(field_pairs(other), encode)
        else:
            m = match_line(line)
            if m is None:
                return None
            ref, product, destination, status, details, block, _, reason, trxid, *tail = m.groups()
            serial, rest = transaction_fields(block)
            extra = _extra(rest, encode)
        before, deduction, after, t, d, refid = tail
        if details is not None:
            reason = details
        iso = dates.get(d) or iso_date(d)  # _day(), inline: a call costs a tenth of the line
        if not iso or t[0:2] > "23" or t[3] > "5" or t[6] > "5":
            return None
        ok, failed = status == _SUCCESS, status == _FAILED
        code = None if reason is None else error_code_of(reason)
        if before is None:
            amounts: tuple[str, ...] = ("null", "null", "null", "null")
        else:
            b, x, a = (
                int(before.replace(".", "")),
                int(deduction.replace(".", "")),
                int(after.replace(".", "")),
            )
            amounts = (str(b), str(x), str(a), "true" if b - x == a else "false")
        template[1::2] = (
            str(number),
            encode(product),
            f'"{iso[:-1]} {t}{zone if type(zone) is str else zone(t, d)}"',  # type: ignore[operator]
            "true" if ok else "false",
            "null" if reason is None else encode(reason),
            "null" if code is None else encode(code),
            encode(ref),
            "null" if destination is None else encode(destination),
            encode(status),
            "true" if failed else "false",
            "true" if ok or failed else "false",
            "false" if ok or failed else "true",
            "null" if serial is None else encode(serial),
            "false" if details is None else "true",
            "null" if trxid == no_id else encode(trxid),
            *amounts,
            "null" if refid is None else encode(refid),
            extra,
        )
        return join(template)

    return write


# -- the wire dict ---------------------------------------------------------------------------------


def _named(
    fields: list[tuple[str, str]],
    names: dict[str, str],
    reserved: frozenset[str],
    encode: Callable[[str], str],
) -> str | None:
    """`, "NAME": "value"` for each field, or None where to_dict() raises (the reference says why)."""
    seen: set[str] = set()
    out = []
    for key, value in fields:
        name = names.get(key, key)
        if key in reserved or name in seen:
            return None
        seen.add(name)
        out.append(f", {encode(name)}: {encode(value)}")
    return "".join(out)


_PRICE, _CUSTNUM, _CUSTNAME, _POWER, _REASON = (
    f', "{inquiry.DOCUMENTED_NAMES[key]}": '
    for key in (inquiry.PRICE, inquiry.CUSTNUM, inquiry.CUSTNAME, inquiry.POWERCAPACITY, REASON)
)


def _wire_tools(
    common: re.Pattern[str], shape: Shape, options: Options
) -> tuple[
    Callable[[str], str],
    Callable[[str], re.Match[str] | None],
    Callable[[str], re.Match[str] | None],
    Callable[[str], list[tuple[str, str]]],
]:
    """What a wire-dict writer works with, bound once: the encoder, the common shape's match, the
    kind's whole-line match, the field splitter."""
    return _encoder(options), common.match, line_re(shape).match, field_pairs


def _inquiry_wire(options: Options) -> Writer:
    encode, match_common, match_line, split = _wire_tools(common_inquiry_re(), INQUIRY_SHAPE, options)
    names, reserved = inquiry.DOCUMENTED_NAMES, inquiry._RESERVED_NAMES
    dates = ISO_DATES

    def write(line: str, number: int) -> str | None:
        m = match_common(line)
        if m is not None:
            product, price, custnum, custname, power, other, reason, t, d = m.groups()
            # the other fields (no documented key among them), in wire order, each name once
            more = "" if other is None else _named(split(other), names, reserved, encode)
            if more is None:
                return None
            named: str | None = (
                ("" if price is None else _PRICE + encode(price))
                + ("" if custnum is None else _CUSTNUM + encode(custnum))
                + ("" if custname is None else _CUSTNAME + encode(custname))
                + ("" if power is None else _POWER + encode(power))
                + more
                + ("" if reason is None else _REASON + encode(reason))
            )
        else:
            m = match_line(line)
            if m is None:
                return None
            product, block, _, reason, t, d = m.groups()
            fields = split(block)
            if reason is not None:
                fields.append((REASON, reason))
            named = _named(fields, names, reserved, encode)
            if named is None:
                return None
        iso = dates.get(d) or iso_date(d)  # _day(), inline
        if not iso or t[0:2] > "23" or t[3] > "5" or t[6] > "5":
            return None
        return f'{{"PRODUCT_CODE": {encode(product)}{named}, "CURRENT_TIMESTAMP": "{t} {d}"}}'

    return write


def _transaction_wire(options: Options) -> Writer:
    encode, match_common, match_line, split = _wire_tools(common_transaction_re(), TRANSACTION_SHAPE, options)
    names, reserved = transaction.DETAIL_NAMES, transaction._RESERVED
    serial_name = f', "{transaction.DETAIL_NAMES[transaction.SN]}": '

    def write(line: str, number: int) -> str | None:
        m = match_common(line)
        if m is not None:
            ref, product, destination, status, details, serial, other, reason, trxid, *tail = m.groups()
            # the other fields (no SN among them), in wire order, each name once
            more = "" if other is None else _named(split(other), names, reserved, encode)
            if more is None:
                return None
            named: str | None = (
                ("" if serial is None else serial_name + encode(serial))
                + more
                + ("" if reason is None else ', "REASON": ' + encode(reason))
            )
        else:
            m = match_line(line)
            if m is None:
                return None
            ref, product, destination, status, details, block, _, reason, trxid, *tail = m.groups()
            if details is None:
                fields = split(block)
                if reason is not None:
                    fields.append((REASON, reason))
                named = _named(fields, names, reserved, encode)
                if named is None:
                    return None
        before, deduction, after, t, d, refid = tail
        if _day(t, d) is None:
            return None
        if details is not None:
            named = f', "DETAILS": {encode(details)}'
        where = "" if destination is None else f', "DESTINATION": {encode(destination)}'
        balance = (
            ""
            if before is None
            else f', "BALANCE_BEFORE": "{before}", "DEDUCTION": "{deduction}", "BALANCE_AFTER": "{after}"'
        )
        end = "" if refid is None else f', "REFID": {encode(refid)}'
        return (
            f'{{"REF_ID": {encode(ref)}, "PRODUCT_CODE": {encode(product)}{where}, "STATUS": {encode(status)}'
            f'{named}, "TRANSACTION_ID": {encode(trxid)}{balance}, "CURRENT_TIMESTAMP": "{t} {d}"{end}}}'
        )

    return write


# Each kind with a fast writer: (typed record, wire dict). A kind not here is written by the reference.
WRITERS: dict[str, tuple[Callable[[Options], Writer], Callable[[Options], Writer]]] = {
    inquiry.KIND: (_inquiry_record, _inquiry_wire),
    transaction.KIND: (_transaction_record, _transaction_wire),
}


def writer(options: Options) -> Writer:
    """write(line, number): the line's JSON text when a fast writer takes it, else None."""
    writers = [make[1 if options.wire else 0](options) for make in WRITERS.values()]
    if len(writers) == 2:
        first, second = writers

        def write_either(line: str, number: int) -> str | None:
            text = first(line, number)
            return text if text is not None else second(line, number)

        return write_either

    def write_any(line: str, number: int) -> str | None:
        for write in writers:
            text = write(line, number)
            if text is not None:
                return text
        return None

    return write_any


# -- a batch of log lines ------------------------------------------------------------------------------


def parse_batch(
    raw_lines: Sequence[bytes | Overlong], first: int, options: Options, max_line_length: int = MAX_LINE_BYTES
) -> ParsedBatch:
    """The JSON Lines text of a batch of raw lines (the first is line `first`) and its errors.

    Blank lines are skipped. A line that is not a reply is an error (line,
    column, message); so is a valid reply that one wire dict cannot hold (--wire).
    """
    try:  # the common case, decoded in one go; a batch with bad bytes or an overlong line goes line by line
        lines: Sequence[str | bytes | Overlong] = [raw.decode() for raw in raw_lines]  # type: ignore[union-attr]
    except (UnicodeDecodeError, AttributeError):
        lines = raw_lines
    write = writer_for(options)
    out: list[str] = []
    errors: list[tuple[int, int, str]] = []
    extract = options.extract
    for number, line in enumerate(lines, first):
        if type(line) is str:
            start = line.find(REPLY_START) if extract else 0
            text = write(line[start:] if start > 0 else line, number) if start >= 0 else None
            if text is not None:
                out.append(text)
                continue
        read_slowly(number, line, options, max_line_length, number, out, errors)
    # each line encoded alone: one str of the whole batch would be 4 bytes a character if one was not ASCII
    data = b"\n".join([text.encode() for text in out]) + b"\n" if out else b""
    return ParsedBatch(data, errors, len(lines))


def parse_alone(raw: bytes, options: Options) -> ParsedBatch:
    """One reply given on its own (on the command line): its record's `path` and `line` null, as
    `parse(text).to_record()` gives them."""
    out: list[str] = []
    errors: list[tuple[int, int, str]] = []
    read_slowly(1, raw, options, MAX_LINE_BYTES, None, out, errors)
    return ParsedBatch("".join(text + "\n" for text in out).encode(), errors, 1)


def read_slowly(
    number: int,
    line: str | bytes | Overlong,
    options: Options,
    max_line_length: int,
    record_line: int | None,
    out: list[str],
    errors: list[tuple[int, int, str]],
) -> None:
    """A line no fast writer took, read by the parser: its JSON to `out` (its record's `line`
    is `record_line`), or its error to `errors`; nothing for a blank line."""
    decoded = line_text(number, line, max_line_length)
    result = (
        LineResult(number, error=decoded)
        if isinstance(decoded, ParseError)
        else check_line(number, decoded, extract=options.extract, tz=options.tz)
    )
    if result.error is not None:
        errors.append((number, result.error.column, result.error.message))
    elif result.reply is not None:
        try:
            out.append(reference_line(result.reply, record_line, options))
        except ValueError as error:  # a valid reply that one wire dict cannot hold (--wire)
            errors.append((number, 1, f"valid reply, but not as one JSON object: {error}"))


_WRITERS: dict[Options, Writer] = {}


def writer_for(options: Options) -> Writer:
    """The writer of these options, made once per process (a worker makes its own)."""
    write = _WRITERS.get(options)
    if write is None:
        if len(_WRITERS) > 64:
            _WRITERS.clear()
        write = _WRITERS[options] = writer(options)
    return write
