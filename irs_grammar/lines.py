"""Reading logs as numbered text lines, one at a time, whatever their bytes, in bounded memory.

`numbered_lines()` is the one reader every command and library call uses:
each line with its path and number, as text or as the reason it could not
be read. (The commands read a log a block at a time with `read_pieces()`, and
their worker processes split and decode the lines with `split_lines()`: the
same raw lines as `read_lines()`.)

A file is read in blocks and split on `\\n` only, so a stray `\\r` or a
Unicode line separator inside a reply stays in its line, where the parser
reports it. Each line is decoded on its own: bad UTF-8 spoils one line, not
the rest of the file. A line longer than a limit (1 MiB by default) is not
kept: it is reported as an overlong line and skipped in constant memory, so
a gzip bomb cannot fill the memory. A file whose first block (1 MiB) holds a
NUL byte is not read at all: it is binary (a Parquet file, `/dev/zero`), not
a reply log. Every failure to read (a missing file, a corrupt or truncated
gzip, a binary file) is a LogReadError with a one-line reason.
"""

from __future__ import annotations

import gzip
import os
import sys
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, NamedTuple

from .errors import ParseError

STDIN = "-"
MAX_LINE_BYTES = 1 << 20  # the default --max-line-length
_BLOCK = 1 << 20  # read this much at a time
_GZIP_MAGIC = b"\x1f\x8b"


class LogReadError(OSError):
    """A log that cannot be read (to its end): `reason` says why in a few words, never a traceback."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class Overlong(NamedTuple):
    """A line longer than the limit: only its length is kept (bytes, without the line break)."""

    length: int


def read_error(path: str, error: BaseException) -> LogReadError:
    """The one-line reason for a failure to read a log."""
    if isinstance(error, LogReadError):
        return error
    if isinstance(error, EOFError):
        return LogReadError(path, "the gzip file is truncated (it ends before its end marker)")
    if isinstance(error, zlib.error):
        return LogReadError(path, "the gzip file is corrupt (its compressed data does not decode)")
    if isinstance(error, gzip.BadGzipFile):
        if str(error).startswith("Not a gzipped file"):
            return LogReadError(path, f"not a valid gzip file ({error})")
        return LogReadError(
            path, f"the gzip file is corrupt ({error})"
        )  # a CRC or a length that does not match
    if isinstance(error, IsADirectoryError):
        return LogReadError(path, "is a directory")
    if isinstance(error, OSError) and error.strerror:
        return LogReadError(path, error.strerror)
    return LogReadError(path, str(error) or type(error).__name__)


@contextmanager
def open_log(path: str) -> Iterator[BinaryIO]:
    """A binary stream over a log: `-` is standard input, `*.gz` (or gzip on stdin) is gunzipped.

    Raises LogReadError when it cannot be opened; reading it may raise
    anything read_error() explains (read_lines() does that). An error raised
    by the caller inside the block (a closed output pipe) is not the log's
    and passes through as it is.
    """
    stream: BinaryIO
    try:
        if path == STDIN:
            stream = sys.stdin.buffer
            head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
            if head == _GZIP_MAGIC:
                stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
        elif path.endswith(".gz"):
            stream = gzip.open(path)  # type: ignore[assignment]  # noqa: SIM115 (closed below)
        else:
            stream = open(path, "rb")  # noqa: SIM115 (closed below)
    except (OSError, EOFError, zlib.error) as error:
        raise read_error(path, error) from None
    if stream is sys.stdin.buffer:
        yield stream
    else:
        with stream:
            yield stream


def read_lines(stream: BinaryIO, path: str, max_length: int = MAX_LINE_BYTES) -> Iterator[bytes | Overlong]:
    """Each line of a stream with its `\\n` (the last may have none), or Overlong past `max_length` bytes.

    Memory stays under about max_length plus one block, whatever the input.
    Raises LogReadError when the stream fails part-way, or when its first
    block holds a NUL byte (BINARY).
    """
    for piece in read_pieces(stream, path, max_length):
        yield from split_lines((piece,), max_length)


def read_pieces(stream: BinaryIO, path: str, max_length: int = MAX_LINE_BYTES) -> Iterator[bytes | Overlong]:
    """A stream's lines a block at a time: the whole lines of each block as one bytes (each with its
    `\\n`, but the stream's last line may have none), or Overlong for a line past `max_length` bytes
    that a block could not hold. split_lines() makes them lines (and the lines past `max_length`
    that a block held Overlong): what read_lines() gives, at a block's cost rather than a line's.

    Memory and failures as read_lines().
    """
    pending = b""  # the start of a line not yet ended
    skipping = 0  # > 0: inside an overlong line, this many bytes seen so far
    first = True
    while True:
        try:
            block = stream.read(_BLOCK)
        except (OSError, EOFError, zlib.error) as error:
            raise read_error(path, error) from None
        if not block:
            break
        if first and b"\0" in block:  # a Parquet file, an image: one line says so, not one per chunk
            raise LogReadError(path, BINARY)
        first = False
        if skipping:
            end = block.find(b"\n")
            if end < 0:
                skipping += len(block)
                continue
            yield Overlong(skipping + end)
            skipping, block = 0, block[end + 1 :]
        data = pending + block
        whole = data.rfind(b"\n") + 1
        if whole:
            yield data[:whole]
        pending = data[whole:]
        if len(pending) > max_length:
            skipping, pending = len(pending), b""
    if skipping:
        yield Overlong(skipping)
    elif pending:
        yield pending


def split_lines(
    pieces: Iterable[bytes | Overlong], max_length: int = MAX_LINE_BYTES
) -> list[bytes | Overlong]:
    """The lines of read_pieces()'s pieces, as read_lines() gives them: each with its `\\n` (a
    piece's last line may have none), or Overlong past `max_length` bytes."""
    lines: list[bytes | Overlong] = []
    for piece in pieces:
        if not isinstance(piece, bytes):
            lines.append(piece)
            continue
        parts = piece.split(b"\n")
        last = parts.pop()  # b"" after a piece's last \n; else the stream's last line, unended
        if len(piece) > max_length and max(map(len, parts), default=0) > max_length:  # rare: each line
            lines += [Overlong(len(part)) if len(part) > max_length else part + b"\n" for part in parts]
        else:
            lines += [part + b"\n" for part in parts]
        if last:
            lines.append(Overlong(len(last)) if len(last) > max_length else last)
    return lines


# What a log whose first block holds a NUL byte is: no text log holds one (grep's test for binary).
BINARY = "binary file, not a reply log (it holds NUL bytes)"


def overlong_error(number: int, line: Overlong, max_length: int) -> ParseError:
    """The error for a line past the limit, at the first column past it."""
    return ParseError(
        f"line longer than {max_length:,} bytes ({line.length:,}); skipped (--max-line-length)",
        text="",
        column=max_length + 1,
        expected=(f"a line of at most {max_length:,} bytes",),
        line=number,
    )


def decode_line(number: int, raw: bytes) -> str | ParseError:
    """The text of line `number` (line break kept), or a ParseError if it is not UTF-8."""
    try:
        return raw.decode()
    except UnicodeDecodeError as e:
        shown = raw.decode(errors="replace")
        column = len(raw[: e.start].decode(errors="replace")) + 1
        return ParseError(
            f"not valid UTF-8 (byte 0x{raw[e.start]:02x})",
            text=shown,
            column=column,
            expected=("UTF-8 text",),
            line=number,
        )


def line_text(number: int, line: str | bytes | Overlong, max_length: int) -> str | ParseError:
    """Line `number` as text, or the error that says why it is not: too long, or not UTF-8."""
    if isinstance(line, Overlong):
        return overlong_error(number, line, max_length)
    return decode_line(number, line) if isinstance(line, bytes) else line


class NumberedLine(NamedTuple):
    """One line of a log: where it is, and its text (line break kept) or why it could not be read."""

    path: str | None  # None for lines given as an iterable
    number: int  # from 1
    text: str | ParseError  # a ParseError for a line that is not UTF-8 or is too long


def numbered_lines(
    source: str | os.PathLike[str] | Iterable[str | bytes], *, max_length: int = MAX_LINE_BYTES
) -> Iterator[NumberedLine]:
    """Every line of a log, numbered from 1: a path (`.gz` as it is, `-` standard input) or lines.

    A path that cannot be read to its end raises LogReadError after the lines
    read before the failure. Lines given as bytes are decoded one by one
    (bad UTF-8 spoils its line only); lines given as str are taken as they are.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        with open_log(path) as stream:
            yield from _numbered(read_lines(stream, path, max_length), path, max_length)
    else:
        yield from _numbered(source, None, max_length)


def _numbered(
    lines: Iterable[str | bytes | Overlong], path: str | None, max_length: int
) -> Iterator[NumberedLine]:
    for number, line in enumerate(lines, 1):
        yield NumberedLine(path, number, line_text(number, line, max_length))


def is_blank(text: str) -> bool:
    """A line of nothing but spaces, tabs and its line break.

    Any other white space (a vertical tab, U+0085, U+2028, U+3000, ...) is
    text, and so an invalid line with its column.
    """
    body = text.removesuffix("\n").removesuffix("\r") if text.endswith("\n") else text
    return not body.strip(" \t")
