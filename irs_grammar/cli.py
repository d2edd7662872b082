"""The command line: `irs-grammar parse ...`, `validate ...`, `reconcile ...`, `url ...`, `serve ...`.

Every failure is one line on standard error and an exit status, never a
traceback:

    0    every line read was a reply (or a URL was printed), and nothing needs a look
    1    something in the input needs a look: a line that is not a reply (every command),
         an anomaly or no transaction reply at all (reconcile)
    2    a usage error, or an input or output that could not be read or written, a binary
         input (nothing more is read; no summary is printed; JSON output is all or nothing)
    130  interrupted (Ctrl-C); 143 terminated (SIGTERM)
    141  the output pipe closed early (`... | head`): nothing said, as grep (128 + SIGPIPE)

The commands that read logs (parse, validate, reconcile) take the same
options, defined once (_log_options): files (`.gz` too) or `-` for standard
input (gzip too), standard input when none is given, --extract,
--max-line-length, --jobs, --quiet, --progress.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone, tzinfo
from functools import partial
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, TextIO, TypeVar

from . import __version__
from .batches import default_jobs, in_order, usable_cores
from .errors import ParseError
from .jsonlines import Options, ParsedBatch, parse_alone, parse_batch, writer
from .lines import MAX_LINE_BYTES, STDIN, LogReadError
from .output import OutputError, replacing
from .validation import Summary, check_log
from .wire.request import BuyRequest, InquiryRequest, Request

if TYPE_CHECKING:
    from .columnar import TableBatch

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_BROKEN_PIPE = 130, 143, 141


class UsageError(Exception):
    """A problem with the command line: exit status 2."""


class Terminated(BaseException):
    """SIGTERM arrived: stop as for Ctrl-C, with status 143.

    A BaseException, as KeyboardInterrupt is: code that handles failures with
    `except Exception` must let it through. socketserver's loop does not: a
    SIGTERM that came while `serve` was starting a connection's thread was
    reported as that connection's failure, and the server served on.
    """


def report(path: str, error: ParseError, stream: TextIO) -> None:
    """`path:line:col: message`, the compiler convention editors jump to (the error names its line)."""
    print(f"{path}:{error.line}:{error.column}: {error.message}", file=stream)


def _label(path: str) -> str:
    """An input as messages name it."""
    return "<stdin>" if path == STDIN else path


def _json_ascii() -> bool:
    """Whether JSON must escape non-ASCII text: standard output cannot encode it."""
    encoding = (getattr(sys.stdout, "encoding", None) or "ascii").lower().replace("-", "").replace("_", "")
    return encoding not in ("utf8", "utf16", "utf32")


# -- parse -----------------------------------------------------------------------------------


def cmd_parse(args: argparse.Namespace) -> int:
    args.invalid, args.io_failed = False, False
    if args.format == "parquet":
        _write_parquet(args)
    else:
        if args.output is not None:
            raise UsageError("-o/--output goes with --format parquet (JSON Lines go to standard output)")
        _write_json_lines(args)
    if args.io_failed:
        return EXIT_USAGE
    return EXIT_INVALID if args.invalid else EXIT_OK


# Lines of a JSON Lines batch: its text is about four times its lines', so validate's 20,000 held
# 70 MB more at the peak (112 MB against 43 MB on 1,000,000 inquiry replies, for the same CPU).
JSON_BATCH_LINES = 5_000


def _write_json_lines(args: argparse.Namespace) -> None:
    """Each input's JSON Lines, in input order."""
    ascii_only = _json_ascii()
    utf8 = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "").replace("_", "") == "utf8"
    out = getattr(sys.stdout, "buffer", None) if utf8 or ascii_only else None
    for batch in _parsed(args, ascii_only=ascii_only, work=parse_batch, batch_lines=JSON_BATCH_LINES):
        if out is not None:  # UTF-8 (or ASCII, escaped) bytes as they are
            sys.stdout.flush()
            out.write(batch.data)
        else:
            sys.stdout.write(batch.data.decode("utf-8"))


Parsed = TypeVar("Parsed", ParsedBatch, "TableBatch")


def _parsed(
    args: argparse.Namespace,
    *,
    ascii_only: bool,
    work: Callable[..., Parsed] = parse_batch,  # type: ignore[assignment]
    alone: Callable[[bytes, Options], Parsed] = parse_alone,  # type: ignore[assignment]
    more: tuple[Any, ...] = (),
    batch_lines: int | None = None,
    worker_setup: Callable[[], object] | None = None,
) -> Iterator[Parsed]:
    """What `work(batch, first, options, *more, max_line_length)` makes of every input in batches
    (the JSON Lines by default; of `batch_lines` lines at most; on up to --jobs processes), in
    input order, and `alone(raw, options)` of a reply given as an argument; errors reported on
    standard error as they come, an input that cannot be read reported and counted."""
    jobs = _jobs(args.jobs)
    progress = Progress(Progress.wanted(args))
    wire = getattr(args, "wire", False)
    try:
        for source in args.inputs or [STDIN]:
            if source.startswith("R#"):  # a reply given on the command line: no path, no line
                raw = source.encode(errors="surrogateescape")
                yield _reported("<argument>", alone(raw, Options(None, args.tz, wire, ascii_only)), args)
                continue
            label = "<stdin>" if source == STDIN else source
            options = Options(label, args.tz, wire, ascii_only, extract=args.extract)
            progress.begin(source)
            try:
                for batch in in_order(
                    source,
                    work,
                    (options, *more, args.max_line_length),
                    jobs=jobs,
                    max_line_length=args.max_line_length,
                    prepare=partial(writer, options),
                    done=partial(progress.advance, label),
                    batch_lines=batch_lines,
                    worker_setup=worker_setup,
                ):
                    yield _reported(label, batch, args)
            except LogReadError as e:
                progress.close()
                print(f"irs-grammar: {label}: {e.reason}", file=sys.stderr)
                args.io_failed = True
    finally:
        progress.close()


def _reported(label: str, batch: Parsed, args: argparse.Namespace) -> Parsed:
    for line, column, message in batch.errors:
        print(f"{label}:{line}:{column}: {message}", file=sys.stderr)
        args.invalid = True
    return batch


# Lines of a Parquet batch, each batch a row group: 20,000 peaked 17 MiB higher than this on
# 1,000,000 mixed replies (170 against 153 MiB; this size costs 1 % more instructions, and the
# file is 3 % larger).
PARQUET_BATCH_LINES = 10_000


# Said the same by `parse` and `reconcile` when --format parquet finds no pyarrow.
PARQUET_NEEDS_PYARROW = "Parquet needs pyarrow: pip install 'irs-grammar[parquet]'"


def _write_parquet(args: argparse.Namespace) -> None:
    if args.output is None:
        raise UsageError("--format parquet needs -o FILE")
    if args.wire:
        raise UsageError("--wire goes with JSON Lines; Parquet holds the typed record")
    from .arrow_process import arrow_without_pandas

    with arrow_without_pandas():  # before pyarrow is imported, here and in each worker
        _write_parquet_batches(args)


def _write_parquet_batches(args: argparse.Namespace) -> None:
    from .arrow_process import worker_without_pandas

    try:
        import pyarrow.parquet as pq

        from .columnar import table_alone, table_batch
        from .records import arrow_schema
    except ImportError:
        raise UsageError(PARQUET_NEEDS_PYARROW) from None
    zone = args.tz_name
    try:
        with replacing(args.output) as out, pq.ParquetWriter(out.temporary, arrow_schema(zone)) as writer:
            # Each batch's records built as Arrow columns (irs_grammar.columnar): one row group per batch.
            alone = partial(table_alone, zone=zone)
            batches = _parsed(
                args,
                ascii_only=False,
                work=table_batch,
                alone=alone,
                more=(zone,),
                batch_lines=PARQUET_BATCH_LINES,
                worker_setup=worker_without_pandas,
            )
            for batch in batches:
                if batch.table is not None:
                    writer.write_table(batch.table)
            # Renamed over the output only when every input was read to its end.
            out.complete = not args.io_failed
    except OutputError as e:
        raise UsageError(str(e)) from None


def _zone(text: str) -> tuple[tzinfo, str]:
    """--tz: an IANA name (Asia/Jakarta) or a fixed offset (+07:00), with its name for Arrow."""
    offset = re.fullmatch(r"([+-])([0-9]{2}):([0-9]{2})", text)
    if offset:
        sign = -1 if offset[1] == "-" else 1
        delta = timedelta(hours=int(offset[2]), minutes=int(offset[3]))
        if delta >= timedelta(hours=24):
            raise argparse.ArgumentTypeError(f"{text!r} is not an offset within a day")
        return timezone(sign * delta), text
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(text), text
    except (ValueError, KeyError, OSError):
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is neither a zone name (Asia/Jakarta) nor an offset (+07:00)"
        ) from None


# -- validate ----------------------------------------------------------------------------------


class Progress:
    """Lines, megabytes, lines per second and, for a plain file, the time left, on standard error.

    Drawn on a terminal (or with --progress; never with --quiet), and only once
    a run has taken SHOW_AFTER seconds: a short run prints nothing. Redrawn
    four times a second, on one line that close() clears. Hand-made on
    purpose: the runtime dependency is lark alone, and a status line needs
    nothing more.
    """

    SHOW_AFTER = 2.0

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = self.shown = time.monotonic()
        self.lines = self.bytes = 0
        self.file_start, self.file_bytes = self.start, 0
        self.total: int | None = None
        self.path: str | None = None  # the input step() was last told of

    @staticmethod
    def wanted(args: argparse.Namespace) -> bool:
        return (sys.stderr.isatty() or getattr(args, "progress", False)) and not getattr(args, "quiet", False)

    def begin(self, path: str) -> None:
        """A new input: its size is known when it is a plain file (not standard input, not .gz)."""
        self.file_start, self.file_bytes, self.total = time.monotonic(), 0, None
        if path != STDIN and not path.endswith(".gz"):
            with contextlib.suppress(OSError):
                info = os.stat(path)
                if stat.S_ISREG(info.st_mode):
                    self.total = info.st_size

    def step(self, path: str, lines: int, size: int) -> None:
        """A batch of `path` done: begins it first when it is a new input (reconcile's reading)."""
        if path != self.path:
            self.path = path
            self.begin(path)
        self.advance(_label(path), lines, size)

    def advance(self, path: str, lines: int, size: int = 0) -> None:
        self.lines += lines
        self.bytes += size
        self.file_bytes += size
        now = time.monotonic()
        if not self.enabled or now - self.start < self.SHOW_AFTER or now - self.shown < 0.25:
            return
        self.shown = now
        rate = self.lines / max(now - self.start, 1e-9)
        left = ""
        spent = now - self.file_start
        if self.total and self.file_bytes and spent > 0:
            seconds = max(0.0, (self.total - self.file_bytes) / (self.file_bytes / spent))
            left = f", {int(seconds) // 60}:{int(seconds) % 60:02d} left"
        sys.stderr.write(
            f"\r{path}: {self.lines:,} lines, {self.bytes / 1e6:,.1f} MB, {rate:,.0f} lines/s{left}\x1b[K"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.shown > self.start:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


class ErrorSink:
    """Writes invalid lines as text, or into the JSON document, up to a limit; counts all.

    The JSON document is written only when the run completes: its errors wait
    in a temporary file (in memory up to 1 MiB), so an interrupted or failed
    run leaves no half document on standard output.
    """

    def __init__(self, json_format: bool, limit: int | None) -> None:
        self.json_format, self.limit = json_format, limit
        self.count = 0
        self.ascii_only = _json_ascii()
        self.pending: IO[str] | None = (
            tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8")  # noqa: SIM115 (close())
            if json_format
            else None
        )

    def add(self, path: str, line: int, column: int, message: str) -> None:
        self.count += 1
        if self.limit is not None and self.count > self.limit:
            return
        if self.pending is not None:
            entry = {"path": path, "line": line, "column": column, "message": message}
            self.pending.write(
                ("" if self.count == 1 else ", ") + json.dumps(entry, ensure_ascii=self.ascii_only)
            )
        else:
            sys.stdout.write(f"{path}:{line}:{column}: {message}\n")

    def finish(self, summary: Summary, thousands: bool = False) -> None:
        shown = self.count if self.limit is None else min(self.count, self.limit)
        if self.pending is not None:
            self.pending.seek(0)
            sys.stdout.write('{"errors": [')
            while chunk := self.pending.read(1 << 16):
                sys.stdout.write(chunk)
            rest = json.dumps({**summary.to_dict(), "errors_shown": shown}, ensure_ascii=self.ascii_only)
            sys.stdout.write("], " + rest[1:] + "\n")
        else:
            if shown < self.count:
                sys.stdout.write(f"... {self.count - shown} more invalid lines not shown (--max-errors)\n")
            sys.stdout.write(summary.text(thousands=thousands) + "\n")

    def close(self) -> None:
        if self.pending is not None:
            self.pending.close()


def _jobs(asked: int | None) -> int:
    """--jobs as asked, at least 1 and at most the usable cores (saying so), or the default."""
    if asked is None:
        return default_jobs()
    if asked < 1:
        raise UsageError("--jobs must be at least 1")
    usable = usable_cores()
    if asked > usable:
        print(
            f"irs-grammar: --jobs {asked} is more than the {usable} usable cores; using {usable}",
            file=sys.stderr,
        )
        return usable
    return asked


def cmd_validate(args: argparse.Namespace) -> int:
    jobs = _jobs(args.jobs)
    summary = Summary()
    sink = ErrorSink(args.format == "json", args.max_errors)
    progress = Progress(Progress.wanted(args))
    io_failed = False
    try:
        for path in args.inputs or [STDIN]:
            label = _label(path)
            progress.begin(path)
            try:
                for batch in check_log(
                    path,
                    extract=args.extract,
                    jobs=jobs,
                    max_line_length=args.max_line_length,
                    done=partial(progress.advance, label),
                ):
                    summary.merge(batch.summary)
                    for line, column, message in batch.errors:
                        sink.add(label, line, column, message)
            except LogReadError as e:
                progress.close()
                print(f"irs-grammar: {label}: {e.reason}", file=sys.stderr)
                io_failed = True
        progress.close()
        if io_failed:  # no summary of what could not be read; no JSON at all
            return EXIT_USAGE
        sink.finish(summary, args.thousands)
    finally:
        sink.close()
    return EXIT_INVALID if summary.invalid else EXIT_OK


# -- reconcile ---------------------------------------------------------------------------------


def _duration(text: str) -> timedelta:
    from .reconciliation import parse_duration

    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def cmd_reconcile(args: argparse.Namespace) -> int:
    from .reconciliation import OUTCOMES, Reading, reconcile
    from .state import StateError

    by = _groups(args.by)
    if (args.output is None) != (args.format != "parquet"):
        raise UsageError("-o/--output goes with --format parquet, and --format parquet needs -o FILE")
    progress = Progress(Progress.wanted(args))
    reading = Reading(args.extract, _jobs(args.jobs), args.max_line_length, progress.step)
    rows = args.format in ("jsonl", "parquet")  # a row per transaction, or with --by the totals crossed
    try:
        result = reconcile(
            args.inputs or [STDIN],
            state=args.state,
            pending_after=args.pending_after,
            tz=args.tz,
            reading=reading,
            # Only rows per transaction need them kept: the other reports are anomalies and totals.
            keep_transactions=rows and not by,
        )
    except LogReadError as e:
        progress.close()
        print(f"irs-grammar: {_label(e.path)}: {e.reason}", file=sys.stderr)
        return EXIT_USAGE
    except StateError as e:
        raise UsageError(str(e)) from None
    finally:
        progress.close()
    try:
        # 1: something needs a look (counted before the result's files go, at the end)
        looks_needed = bool(len(result.anomalies) or len(result.invalid_lines) or result.replies == 0)
        for note in result.notes:
            print(f"irs-grammar: {note}", file=sys.stderr)
        if result.replies == 0:
            print("irs-grammar: no transaction reply in the input (is it a buy log?)", file=sys.stderr)
        if rows:
            listed = (
                result.transactions.crossed(by) if by else (t.to_record() for t in result.transactions.rows())
            )
            if args.format == "jsonl":
                _write_rows(listed, _json_ascii())
            else:
                _write_rows_parquet(listed, args, grouped=by)
        elif args.format == "json":
            document = result.to_dict(streamed=True)
            if by:
                document["by"] = result.transactions.crossed(by)
            _write_json(document, _json_ascii())
        else:
            amount = _amounts(args.thousands)
            # Read as rows (no Anomaly made): a row starts with the last line involved, its `where`.
            for path, line, _, _, _, kind, ref_id, _, message in result.anomalies.rows():
                sys.stdout.write(f"{path}:{line}: {kind} {ref_id}: {message}\n")
            for path, line, column, message in result.invalid_lines:
                sys.stdout.write(f"{path}:{line}:{column}: {message}\n")
            counts = result.outcomes()
            by_outcome = ", ".join(f"{outcome} {counts[outcome]}" for outcome in OUTCOMES)
            sys.stdout.write(
                f"transactions: {counts['total']} ({by_outcome}), deducted {amount(result.deducted())}\n"
            )
            sys.stdout.write(
                f"anomalies: {len(result.anomalies)}, invalid lines: {len(result.invalid_lines)}, "
                f"inquiry replies: {result.inquiries}\n"
            )
            for row in result.transactions.crossed(by) if by else ():
                named = " ".join(str(row[column]) for column in by)
                sys.stdout.write(
                    f"  {named}: transactions {row['transactions']}, deducted {amount(row['deducted'])}\n"
                )
    finally:
        result.transactions.close()
    return EXIT_INVALID if looks_needed else EXIT_OK


def _groups(text: str | None) -> tuple[str, ...]:
    """--by product,day: the columns totals are crossed by."""
    from .reconciliation import GROUPS

    if text is None:
        return ()
    columns = tuple(name.strip() for name in text.split(","))
    wrong = [name for name in columns if name not in GROUPS]
    if wrong or len(set(columns)) != len(columns):
        raise UsageError(f"--by takes {', '.join(GROUPS)}, each once, joined by commas (not {text[:40]!r})")
    return columns


def _amounts(thousands: bool) -> Callable[[int], str]:
    """How a text report writes rupiah: plain digits (997010), or with --thousands the wire's
    `.` grouping (997.010), which reads as a decimal point outside Indonesia."""
    if thousands:
        return lambda amount: f"{amount:,}".replace(",", ".")
    return str


def _write_rows(rows: Iterable[dict[str, Any]], ascii_only: bool) -> None:
    """One JSON object per line; timestamps in ISO 8601 with a space, as the reply records."""
    out = sys.stdout
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=ascii_only, default=_iso) + "\n")


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _write_rows_parquet(
    rows: Iterable[dict[str, Any]], args: argparse.Namespace, grouped: Sequence[str]
) -> None:
    from .arrow_process import arrow_without_pandas
    from .records import rows_to_parquet  # pyarrow itself waits for the first row group

    try:
        with arrow_without_pandas(), replacing(args.output) as out:
            rows_to_parquet(rows, out.temporary, tz=args.tz_name, grouped=grouped)
            out.complete = True
    except ImportError:
        raise UsageError(PARQUET_NEEDS_PYARROW) from None
    except OutputError as e:
        raise UsageError(str(e)) from None


def _write_json(document: dict[str, Any], ascii_only: bool) -> None:
    """A JSON document whose lists may be long iterables, written a piece at a time (in bounded memory)."""
    out = sys.stdout
    for n, (name, value) in enumerate(document.items()):
        out.write(("{" if n == 0 else ", ") + json.dumps(name) + ": ")
        if isinstance(value, (dict, str, int, float, bool)) or value is None:
            out.write(json.dumps(value, ensure_ascii=ascii_only))
            continue
        out.write("[")
        for m, item in enumerate(value):
            out.write(("" if m == 0 else ", ") + json.dumps(item, ensure_ascii=ascii_only))
        out.write("]")
    out.write("}\n")


# -- url ------------------------------------------------------------------------------------

# Credentials come from the environment: a command line is visible to other users.
CREDENTIAL_VARIABLES = {
    "client_id": "IRS_CLIENT_ID",
    "client_secret": "IRS_CLIENT_SECRET",
    "idrs": "IRS_IDRS",
    "pin": "IRS_PIN",
}


def _environment_credentials() -> dict[str, str]:
    """The credentials set in the environment (CREDENTIAL_VARIABLES), by parameter name."""
    found: dict[str, str] = {}
    for name, variable in CREDENTIAL_VARIABLES.items():
        value = os.environ.get(variable)
        if value is not None:
            if len(value) > MAX_CREDENTIAL_LENGTH:
                raise UsageError(f"{variable} is longer than {MAX_CREDENTIAL_LENGTH} characters")
            found[name] = value
    return found


def cmd_url(args: argparse.Namespace) -> int:
    credentials = _environment_credentials()
    for name, variable in CREDENTIAL_VARIABLES.items():
        if name not in credentials:
            raise UsageError(f"{variable} is not set (the {name} of the request)")
    parameters: dict[str, Any] = {
        **credentials,
        "product_code": args.product,
        "to": args.to,
        "amount": args.amount,
    }
    if args.ref_id is not None:
        parameters["ref_id"] = args.ref_id
    if args.buy:
        if args.selling_price is not None:
            raise UsageError("--selling-price is not a parameter of the buy request")
    elif args.selling_price is None:
        raise UsageError("--selling-price is required for the inquiry (or give --buy)")
    else:
        parameters["selling_price"] = args.selling_price
    kind: type[Request] = BuyRequest if args.buy else InquiryRequest
    try:
        request = kind(**parameters)
        print(request.redacted(args.base) if args.redacted else request.to_url(args.base))
    except ValueError as e:  # the messages name the field, never a secret's value
        raise UsageError(str(e)) from None
    return EXIT_OK


# An environment variable is read whole: past this, it is refused, not read.
MAX_CREDENTIAL_LENGTH = 4096


# -- serve ------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from .testing import DEFAULT_CREDENTIALS, FakeIRS, fault_from_spec, is_loopback, make_server

    # The credentials the fake accepts: the url command's variables when set, else the fake's defaults.
    credentials = {**DEFAULT_CREDENTIALS, **_environment_credentials()}
    try:  # values no request could carry would make a fake that refuses every request
        BuyRequest(**credentials, product_code="P", to="1", amount=0, ref_id="r")
    except ValueError as e:  # "pin: holds a line break, ...": the message names the field, never the value
        name, _, why = str(e).partition(": ")
        raise UsageError(
            f"{CREDENTIAL_VARIABLES.get(name, name)}: {why}; no request could carry it"
        ) from None
    if not args.host:
        raise UsageError("--host needs an address: 127.0.0.1 (this machine), ::1, or 0.0.0.0 (every network)")
    try:
        fake = FakeIRS(
            seed=args.seed,
            balance=args.balance,
            log=args.log,
            client_id=credentials["client_id"],
            client_secret=credentials["client_secret"],
            idrs=credentials["idrs"],
            pin=credentials["pin"],
            requests_log=args.requests_log,
        )
        for spec in args.fault or []:
            fault, selectors = fault_from_spec(spec)
            fake.add_fault(fault, **selectors)
    except ValueError as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"{args.log}: {e.strerror or e}") from None
    try:
        server = make_server(fake, args.host, args.port)
    except OSError as e:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
    try:
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"http://{host}:{server.server_port}", flush=True)  # the base URL, for a script to read
        if not is_loopback(args.host):
            print(f"irs-grammar: listening on {args.host}: reachable from other machines", file=sys.stderr)
        print("irs-grammar: serving the fake IRS endpoint (Ctrl-C to stop)", file=sys.stderr)
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return EXIT_OK


# -- arguments ---------------------------------------------------------------------------------


def _natural(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 30:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number")
    return int(text)


def _positive(text: str) -> int:
    number = _natural(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _port(text: str) -> int:
    number = _natural(text)
    if number > 65535:
        raise argparse.ArgumentTypeError("must be 0 to 65535")
    return number


def build_argument_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and each subcommand's parser by name."""
    parser = argparse.ArgumentParser(
        prog="irs-grammar",
        description="Read and check the plain-text replies of the Klikoo B2B IRS endpoints.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"irs-grammar {__version__}")
    # A subcommand's abbreviated flags are refused by _check_flags, which names its parser.
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    parse_cmd = commands.add_parser(
        "parse",
        help="print each reply as one JSON object per line",
        description="Print each reply as one JSON object per line (documented field names). "
        "Invalid lines go to standard error as PATH:LINE:COL: message. "
        "Exit status: 0 all valid, 1 some invalid, 2 usage or I/O error.",
    )
    parse_cmd.add_argument(
        "inputs",
        nargs="*",
        default=[],  # none: standard input (and not a required argument)
        metavar="LINE|FILE|-",
        help="a reply (starting R#), a log file (.gz too), or - for standard input (gzip too); "
        "none: standard input",
    )
    parse_cmd.add_argument(
        "--format",
        choices=("jsonl", "parquet"),
        default="jsonl",
        help="jsonl: one typed record per line on standard output (default); parquet: to -o FILE",
    )
    parse_cmd.add_argument("-o", "--output", metavar="FILE", help="the Parquet file to write")
    parse_cmd.add_argument(
        "--wire", action="store_true", help="JSON of the wire strings (to_dict) instead of typed records"
    )
    _zone_option(parse_cmd)
    _log_options(parse_cmd)
    parse_cmd.set_defaults(run=cmd_parse)

    validate_cmd = commands.add_parser(
        "validate",
        help="check reply logs: PATH:LINE:COL for each invalid line, then a summary",
        description="Check reply logs line by line. Each invalid line is printed as PATH:LINE:COL: message, "
        "then a summary. Exit status: 0 all valid, 1 some invalid, 2 usage or I/O error.",
    )
    _inputs(validate_cmd)
    validate_cmd.add_argument("--format", choices=("text", "json"), default="text", help="json: one document")
    validate_cmd.add_argument("--max-errors", type=_natural, metavar="N", help="print at most N errors")
    _thousands_option(validate_cmd)
    _log_options(validate_cmd)
    validate_cmd.set_defaults(run=cmd_validate)

    reconcile_cmd = commands.add_parser(
        "reconcile",
        help="reconcile buy logs: each transaction's lifecycle, the anomalies that cost money, totals",
        description="Reconcile the transaction replies of buy logs. Each anomaly is printed as "
        "PATH:LINE: kind ref_id: message, then totals. Exit status: 0 nothing to look at; "
        "1 an anomaly, an invalid line, or no transaction reply at all; 2 usage or I/O error.",
    )
    _inputs(reconcile_cmd)
    reconcile_cmd.add_argument("--state", metavar="FILE", help="an SQLite file kept across runs (days)")
    reconcile_cmd.add_argument(
        "--pending-after",
        type=_duration,
        default=timedelta(hours=1),
        metavar="DURATION",
        help="a transaction not final after this long is stuck (default 1h; 90m, 2d, ...)",
    )
    reconcile_cmd.add_argument(
        "--format",
        choices=("text", "json", "jsonl", "parquet"),
        default="text",
        help="text (default); json: one document; jsonl: one typed row per transaction (ref_id) on "
        "standard output; parquet: the same rows to -o FILE",
    )
    reconcile_cmd.add_argument("-o", "--output", metavar="FILE", help="the Parquet file to write")
    reconcile_cmd.add_argument(
        "--by",
        metavar="COLUMNS",
        help="totals crossed by product, day and/or outcome, e.g. --by product,day "
        "(with jsonl or parquet: one row per group instead of per transaction)",
    )
    _thousands_option(reconcile_cmd)
    _zone_option(reconcile_cmd)
    _log_options(reconcile_cmd)
    reconcile_cmd.set_defaults(run=cmd_reconcile)

    url_cmd = commands.add_parser(
        "url",
        help="print the inquiry (or, with --buy, the buy) request URL",
        description="Print the inquiry or buy request URL (HTTP POST). The credentials come from the "
        "environment: " + ", ".join(CREDENTIAL_VARIABLES.values()) + ".",
    )
    url_cmd.add_argument("--base", required=True, help="e.g. https://host/klikoo-b2b")
    url_cmd.add_argument("--product", required=True, help="product code, e.g. PLN20")
    url_cmd.add_argument("--to", required=True, help="destination number")
    url_cmd.add_argument("--amount", required=True, type=_natural, help="the amount, in rupiah")
    url_cmd.add_argument("--selling-price", type=_natural, help="the inquiry's selling price")
    url_cmd.add_argument("--buy", action="store_true", help="the buy / check-status request instead")
    url_cmd.add_argument("--ref-id", help="your reference (default: a new UUID4)")
    url_cmd.add_argument("--redacted", action="store_true", help="mask client_secret and pin (for logs)")
    url_cmd.set_defaults(run=cmd_url)

    serve_cmd = commands.add_parser(
        "serve",
        help="run the fake IRS endpoint (irs_grammar.testing) by hand",
        description="Serve the fake IRS endpoint: POST BASE/v1/irs/inquiry and BASE/v1/irs/buy. Prints the "
        "base URL, then runs until Ctrl-C. The credentials it accepts come from "
        + ", ".join(CREDENTIAL_VARIABLES.values())
        + " when set, else the fake's defaults (docs/testing.md).",
    )
    serve_cmd.add_argument("--port", type=_port, default=8080, help="0 for a free port (default 8080)")
    serve_cmd.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1: this machine only)"
    )
    serve_cmd.add_argument("--seed", type=_natural, default=0, help="replays a run (default 0)")
    serve_cmd.add_argument("--balance", type=_natural, default=100_000_000, help="the opening balance")
    serve_cmd.add_argument("--log", metavar="FILE", help="append each reply sent to FILE")
    serve_cmd.add_argument(
        "--fault",
        action="append",
        metavar="SPEC",
        help="script a fault: KIND[:NAME=VALUE,...], e.g. pending:checks=2,product=PLN20 or drop:call=3 "
        "(docs/testing.md); POST .../_fake/faults?fault=SPEC adds one while it runs, DELETE clears them",
    )
    serve_cmd.add_argument(
        "--requests-log",
        metavar="FILE",
        help="append each request received to FILE as JSON Lines (secrets masked)",
    )
    serve_cmd.set_defaults(run=cmd_serve)
    return parser, {
        "parse": parse_cmd,
        "validate": validate_cmd,
        "reconcile": reconcile_cmd,
        "url": url_cmd,
        "serve": serve_cmd,
    }


def _inputs(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "inputs",
        nargs="*",
        default=[],  # none: standard input (and not a required argument)
        metavar="FILE|-",
        help="log files (.gz too), or - for standard input (gzip too); none: standard input",
    )


def _log_options(command: argparse.ArgumentParser) -> None:
    """The options of every command that reads logs: one set, the same words and defaults."""
    command.add_argument(
        "--extract",
        action="store_true",
        help="a reply starts at the first R# of its line (logs with a prefix: time, level, ...)",
    )
    command.add_argument(
        "--max-line-length",
        type=_positive,
        default=MAX_LINE_BYTES,
        metavar="BYTES",
        help=f"a longer line is an invalid line, skipped in constant memory (default {MAX_LINE_BYTES})",
    )
    command.add_argument(
        "--jobs",
        type=_natural,
        metavar="N",
        help="processes, at most the usable cores (default: the free cores, for a log of 4 MiB or more)",
    )
    command.add_argument("--quiet", action="store_true", help="no progress on standard error")
    command.add_argument(
        "--progress", action="store_true", help="progress on standard error, off a terminal too"
    )


def _zone_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--tz",
        type=_zone,
        metavar="ZONE",
        help="the zone of the timestamps: Asia/Jakarta or +07:00 (default: none)",
    )


def _thousands_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--thousands",
        action="store_true",
        help="amounts in the text report grouped as on the wire (997.010); default plain digits (997010)",
    )


def _check_flags(subcommands: dict[str, argparse.ArgumentParser], argv: Sequence[str]) -> None:
    """An unknown flag is named by its subcommand's parser, before anything else is said.

    (argparse would report it from the top-level parser, or first complain
    about required arguments it never got to.)
    """
    command = next((arg for arg in argv if not arg.startswith("-")), "")
    sub = subcommands.get(command)
    if sub is None:
        return
    known = {option for action in sub._actions for option in action.option_strings}
    for arg in argv[argv.index(command) + 1 :]:
        if arg == "--":
            return
        if (
            arg.startswith("-")
            and len(arg) > 1
            and not arg[1:].isdigit()
            and arg.split("=", 1)[0] not in known
        ):
            sub.error(f"unrecognized argument: {arg.split('=', 1)[0][:40]}")


# -- running -------------------------------------------------------------------------------------


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


# The cyclic collector's youngest generation is examined every this many new container objects
# during a command (700 by default): the jobs make millions of short tuples, none in a cycle, and
# examining them cost reconcile 4 % of its CPU. Memory is still counted by reference.
YOUNG_COLLECTION_THRESHOLD = 10_000


@contextmanager
def _collected_less_often() -> Iterator[None]:
    """The collector's threshold raised for a command, then as it was (main() runs in tests too)."""
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def _termination_raises() -> Iterator[None]:
    """SIGTERM raises Terminated while the command runs (and only then: main() may be called in-process)."""
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _text_streams_never_fail_on_encoding() -> None:
    """Standard output and error write what their encoding cannot hold as escapes, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    """After a broken pipe: point standard output at /dev/null, so the exit flush cannot fail again."""
    try:
        target = sys.stdout.fileno()
    except (OSError, ValueError):  # not a file: nothing to point elsewhere
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, target)
    finally:
        os.close(devnull)


_OFFSET = re.compile(r"[+-][0-9]{2}:[0-9]{2}")


def _join_negative_offsets(arguments: list[str]) -> list[str]:
    """`--tz -05:00` as `--tz=-05:00`: argparse takes a value that starts with `-` for a flag."""
    joined: list[str] = []
    for arg in arguments:
        if joined and joined[-1] == "--tz" and _OFFSET.fullmatch(arg) and "--" not in joined:
            joined[-1] = f"--tz={arg}"
        else:
            joined.append(arg)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _join_negative_offsets(list(sys.argv[1:] if argv is None else argv))
    _text_streams_never_fail_on_encoding()
    parser, subcommands = build_argument_parser()
    _check_flags(subcommands, arguments)
    args = parser.parse_args(arguments)
    if getattr(args, "tz", None) is not None:
        args.tz, args.tz_name = args.tz
    else:
        args.tz, args.tz_name = None, None
    try:
        with _termination_raises(), _collected_less_often():
            status: int = args.run(args)
            sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
    except UsageError as e:
        print(f"irs-grammar: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `irs-grammar validate big.log | head`: the reader has what it wanted
        _silence_stdout()
        return EXIT_BROKEN_PIPE  # quietly, with grep's status (128 + SIGPIPE)
    except OSError as e:  # writing the output failed: a full disk, /dev/full, an I/O error
        _silence_stdout()
        print(f"irs-grammar: {e.filename or 'standard output'}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("irs-grammar: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("irs-grammar: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    return status
