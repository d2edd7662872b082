"""The command line: `irs-grammar parse ...`, `validate ...`, `url ...`.

Every failure is one line on standard error and an exit status:
0 all valid, 1 some line invalid, 2 usage or I/O error. Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from .errors import ParseError
from .lines import STDIN, decode_lines, is_blank, open_log
from .parser import parse_reply
from .request import BuyRequest, InquiryRequest, Request
from .validation import Summary, check_log, default_jobs

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with the command line or a file: exit status 2."""


def report(path: str, error: ParseError, stream: TextIO) -> None:
    """`path:line:col: message`, the compiler convention editors jump to."""
    print(f"{path}:{error.line or 1}:{error.column}: {error.message}", file=stream)


def _print_replies(label: str, raw_lines: Iterable[bytes], out: TextIO) -> bool:
    """Print each reply of one source as JSON; report bad lines. True if all were valid."""
    all_valid = True
    for number, text in decode_lines(raw_lines):
        if isinstance(text, ParseError):
            report(label, text, sys.stderr)
            all_valid = False
            continue
        if is_blank(text):
            continue
        try:
            record = parse_reply(text).to_dict()
        except ParseError as e:
            report(label, e.with_line(number), sys.stderr)
            all_valid = False
            continue
        except ValueError as e:  # a valid reply that one JSON object cannot hold
            print(f"{label}:{number}:1: valid reply, but not as one JSON object: {e}", file=sys.stderr)
            all_valid = False
            continue
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return all_valid


def cmd_parse(args: argparse.Namespace) -> int:
    all_valid = True
    for source in args.inputs or [STDIN]:
        if source.startswith("R#"):  # a reply given on the command line
            all_valid &= _print_replies("<argument>", [source.encode("utf-8")], sys.stdout)
            continue
        label = "<stdin>" if source == STDIN else source
        try:
            with open_log(source) as stream:
                all_valid &= _print_replies(label, stream, sys.stdout)
        except OSError as e:
            raise UsageError(f"{source}: {e.strerror or e}") from None
    return EXIT_OK if all_valid else EXIT_INVALID


class Progress:
    """Lines done and rate on standard error, only on a terminal.

    Hand-made on purpose: the runtime dependency is lark alone, and a status
    line redrawn four times a second needs nothing more.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = self.shown = time.monotonic()
        self.lines = 0

    def advance(self, path: str, lines: int) -> None:
        self.lines += lines
        now = time.monotonic()
        if self.enabled and now - self.shown >= 0.25:
            self.shown = now
            rate = self.lines / max(now - self.start, 1e-9)
            sys.stderr.write(f"\r{path}: {self.lines:,} lines, {rate:,.0f} lines/s\x1b[K")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


class ErrorSink:
    """Writes invalid lines as text or into the JSON document, up to a limit; counts all."""

    def __init__(self, json_format: bool, limit: int | None, out: TextIO) -> None:
        self.json_format, self.limit, self.out = json_format, limit, out
        self.count = 0
        if json_format:
            out.write('{"errors": [')

    def add(self, path: str, line: int, column: int, message: str) -> None:
        self.count += 1
        if self.limit is not None and self.count > self.limit:
            return
        if self.json_format:
            entry = {"path": path, "line": line, "column": column, "message": message}
            self.out.write(("" if self.count == 1 else ", ") + json.dumps(entry, ensure_ascii=False))
        else:
            self.out.write(f"{path}:{line}:{column}: {message}\n")

    def finish(self, summary: Summary) -> None:
        shown = self.count if self.limit is None else min(self.count, self.limit)
        if self.json_format:
            rest = json.dumps({**summary.to_dict(), "errors_shown": shown}, ensure_ascii=False)
            self.out.write("], " + rest[1:] + "\n")
        else:
            if shown < self.count:
                self.out.write(f"... {self.count - shown} more invalid lines not shown (--max-errors)\n")
            self.out.write(summary.text() + "\n")


def cmd_validate(args: argparse.Namespace) -> int:
    summary = Summary()
    sink = ErrorSink(args.format == "json", args.max_errors, sys.stdout)
    progress = Progress(sys.stderr.isatty() and not args.quiet)
    io_failed = False
    jobs = default_jobs() if args.jobs is None else args.jobs
    for path in args.paths:
        label = "<stdin>" if path == STDIN else path
        try:
            for batch in check_log(path, extract=args.extract, jobs=jobs):
                summary.merge(batch.summary)
                for line, column, message in batch.errors:
                    sink.add(label, line, column, message)
                progress.advance(label, batch.summary.lines)
        except (OSError, EOFError) as e:
            progress.close()
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            print(f"irs-grammar: {path}: {reason}", file=sys.stderr)
            io_failed = True
    progress.close()
    sink.finish(summary)
    if io_failed:
        return EXIT_USAGE
    return EXIT_INVALID if summary.invalid else EXIT_OK


# Credentials come from the environment: a command line is visible to other users.
CREDENTIAL_VARIABLES = {
    "client_id": "IRS_CLIENT_ID",
    "client_secret": "IRS_CLIENT_SECRET",
    "idrs": "IRS_IDRS",
    "pin": "IRS_PIN",
}


def cmd_url(args: argparse.Namespace) -> int:
    credentials: dict[str, str] = {}
    for name, variable in CREDENTIAL_VARIABLES.items():
        value = os.environ.get(variable)
        if value is None:
            raise UsageError(f"{variable} is not set (the {name} of the request)")
        credentials[name] = value
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


def _natural(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def build_argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="irs-grammar",
        description="Read and check the plain-text replies of the Klikoo B2B IRS inquiry endpoint.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parse_cmd = commands.add_parser(
        "parse",
        help="print each reply as one JSON object per line",
        description="Print each reply as one JSON object per line (documented field names). "
        "Invalid lines go to standard error as PATH:LINE:COL: message.",
    )
    parse_cmd.add_argument(
        "inputs",
        nargs="*",
        metavar="LINE|FILE|-",
        help="a reply (starting R#), a log file (.gz too), or - for stdin",
    )
    parse_cmd.set_defaults(run=cmd_parse)

    validate_cmd = commands.add_parser(
        "validate",
        help="check reply logs: PATH:LINE:COL for each invalid line, then a summary",
        description="Check reply logs line by line. Each invalid line is printed as PATH:LINE:COL: message, "
        "then a summary. Exit status: 0 all valid, 1 some invalid, 2 usage or I/O error.",
    )
    validate_cmd.add_argument("paths", nargs="+", metavar="PATH", help="log files (.gz too), or - for stdin")
    validate_cmd.add_argument("--format", choices=("text", "json"), default="text", help="json: one document")
    validate_cmd.add_argument(
        "--extract", action="store_true", help="the reply starts at the first R# of a line"
    )
    validate_cmd.add_argument("--max-errors", type=_natural, metavar="N", help="print at most N errors")
    validate_cmd.add_argument("--quiet", action="store_true", help="no progress on standard error")
    validate_cmd.add_argument(
        "--jobs",
        type=_natural,
        metavar="N",
        help="processes (default: the free cores, for a log of 4 MiB or more)",
    )
    validate_cmd.set_defaults(run=cmd_validate)

    url_cmd = commands.add_parser(
        "url",
        help="print the inquiry (or, with --buy, the buy) request URL",
        description="Print the inquiry or buy request URL (HTTP POST). The credentials come from the "
        "environment: " + ", ".join(CREDENTIAL_VARIABLES.values()) + ".",
    )
    url_cmd.add_argument("--base", required=True, help="e.g. https://host/klikoo-b2b")
    url_cmd.add_argument("--product", required=True, help="product code, e.g. PLN20")
    url_cmd.add_argument("--to", required=True, help="destination number")
    url_cmd.add_argument("--amount", required=True, type=_natural)
    url_cmd.add_argument("--selling-price", type=_natural, help="the inquiry's selling price")
    url_cmd.add_argument("--buy", action="store_true", help="the buy / check-status request instead")
    url_cmd.add_argument("--ref-id", help="your reference (default: a new UUID4)")
    url_cmd.add_argument("--redacted", action="store_true", help="mask client_secret and pin (for logs)")
    url_cmd.set_defaults(run=cmd_url)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_argument_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
    except UsageError as e:
        print(f"irs-grammar: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `irs-grammar parse big.log | head`
        sys.stderr.close()
        return EXIT_OK
    return status
