"""The command line: `irs-grammar parse ...`.

Every failure is one line on standard error and an exit status:
0 all valid, 1 some line invalid, 2 usage or I/O error. Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from .errors import ParseError
from .lines import STDIN, decode_lines, is_blank, open_log
from .parser import parse

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
            record = parse(text).to_dict()
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
