"""Reading logs as numbered text lines, one at a time, whatever their bytes.

A file is read as bytes and split on `\\n` only, so a stray `\\r` or a
Unicode line separator inside a reply stays in its line, where the parser
reports it. Each line is decoded on its own: bad UTF-8 spoils one line, not
the rest of the file.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

from .errors import ParseError

STDIN = "-"


@contextmanager
def open_log(path: str) -> Iterator[BinaryIO]:
    """A binary stream over a log: `-` is standard input, `*.gz` is gunzipped."""
    if path == STDIN:
        yield sys.stdin.buffer
    elif path.endswith(".gz"):
        with gzip.open(path, "rb") as stream:
            yield stream  # type: ignore[misc]
    else:
        with open(path, "rb") as stream:
            yield stream


def decode_line(number: int, raw: bytes) -> str | ParseError:
    """The text of line `number` (line break kept), or a ParseError if it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        shown = raw.decode("utf-8", errors="replace")
        column = len(raw[: e.start].decode("utf-8", errors="replace")) + 1
        return ParseError(
            f"not valid UTF-8 (byte 0x{raw[e.start]:02x})",
            text=shown,
            column=column,
            expected=("UTF-8 text",),
            line=number,
        )


def decode_lines(raw_lines: Iterable[bytes], first: int = 1) -> Iterator[tuple[int, str | ParseError]]:
    """(line number, text or ParseError) for each raw line; see decode_line()."""
    for number, raw in enumerate(raw_lines, first):
        yield number, decode_line(number, raw)


def is_blank(text: str) -> bool:
    """A line with nothing but white space and its line break."""
    return not text or text.isspace()
