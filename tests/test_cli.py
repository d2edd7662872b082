"""The command line: output, exit status, and no tracebacks."""

from __future__ import annotations

import argparse
import errno
import gc
import gzip
import io
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from irs_grammar import cli as cli_module
from irs_grammar import jsonlines
from irs_grammar.cli import ErrorSink, Progress, _jobs, _json_ascii, _natural, _port, _positive, _zone, main
from irs_grammar.validation import Summary
from tests.command import run
from tests.corpus import CORPUS, load

DOCUMENTED = CORPUS / "inquiry/documented.log"


def test_parse_wire_prints_one_json_object_per_reply_with_documented_names() -> None:
    result = run("parse", "--wire", str(DOCUMENTED))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [case["expect"] for case in load("inquiry/documented.jsonl")]


def test_parse_reports_bad_lines_as_path_line_col_and_exits_1(tmp_path: Path) -> None:
    log = tmp_path / "replies.log"
    log.write_bytes(
        b"R#A. @12:00:00.000000 01/01/2025\n"
        b"\n"
        b"R#PLN20. PRICE: 20546x. @12:00:00.000000 01/01/2025\n"
        b"R#A. @12:00:00.000000 01/01/2025\r\n"
    )
    result = run("parse", str(log))
    assert result.returncode == 1
    assert result.stderr == f"{log}:3:22: expected \". \", found 'x'\n"
    assert len(result.stdout.splitlines()) == 2


@pytest.mark.parametrize(
    ("bad", "reported"),
    [
        # refused at the first byte past --max-line-length; its line break is not counted
        (b"R#" + b"A" * 98, "2:65: line longer than 64 bytes (100); skipped (--max-line-length)"),
        (b"R#\xff", "2:3: not valid UTF-8 (byte 0xff)"),
        (b"R#A", "2:4: expected \". \", found '\\n'"),
    ],
    ids=["too long", "not UTF-8", "not a reply"],
)
def test_parse_reports_each_kind_of_bad_line_at_its_place_exits_1_and_goes_on(
    tmp_path: Path, bad: bytes, reported: str
) -> None:
    log = tmp_path / "replies.log"
    valid = b"R#A. @12:00:00.000000 01/01/2025\n"
    log.write_bytes(valid + bad + b"\n" + valid)
    result = run("parse", "--max-line-length", "64", str(log))
    assert (result.returncode, result.stderr) == (1, f"{log}:{reported}\n")
    assert [r["line"] for r in map(json.loads, result.stdout.splitlines())] == [1, 3]


def test_parse_reads_stdin_and_a_reply_on_the_command_line() -> None:
    line = load("inquiry/documented.jsonl")[0]["line"]
    from_stdin = run("parse", "--wire", "-", stdin=(line + "\n").encode())
    from_argument = run("parse", "--wire", line)
    assert from_stdin.returncode == from_argument.returncode == 0
    assert from_stdin.stdout == from_argument.stdout != ""
    bad = run("parse", "R#A")
    assert (bad.returncode, bad.stderr) == (1, '<argument>:1:4: expected ". ", found the end of the line\n')


def test_parse_reads_gzip(tmp_path: Path) -> None:
    packed = tmp_path / "replies.log.gz"
    packed.write_bytes(gzip.compress(DOCUMENTED.read_bytes()))
    result = run("parse", str(packed))
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 7


def test_bad_utf8_is_an_invalid_line_and_the_rest_is_still_read(tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    log.write_bytes(b"R#A. CUSTNAME: B\xffDI. @12:00:00.000000 01/01/2025\n" + DOCUMENTED.read_bytes())
    result = run("parse", str(log))
    assert result.returncode == 1
    assert result.stderr == f"{log}:1:17: not valid UTF-8 (byte 0xff)\n"
    assert len(result.stdout.splitlines()) == 7


@pytest.mark.parametrize("target", ["/nonexistent/replies.log", "/"])
def test_io_errors_are_one_line_and_exit_2(target: str) -> None:
    result = run("parse", target)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"irs-grammar: {target}: ")
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2_without_a_traceback() -> None:
    for args in ([], ["frobnicate"], ["parse", "--bogus"]):
        result = run(*args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "usage:" in result.stderr


def test_a_valid_reply_that_json_cannot_hold_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["parse", "--wire", "R#A. PRICE: 1. PRICE: 2. @12:00:00.000000 01/01/2025"])
    assert status == 1
    assert (
        "<argument>:1:1: valid reply, but not as one JSON object: PRICE: repeated" in capsys.readouterr().err
    )


# -- the argument types, one by one ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("+07:00", timedelta(hours=7)),
        ("-03:30", -timedelta(hours=3, minutes=30)),
        ("+05:45", timedelta(hours=5, minutes=45)),
        ("+23:59", timedelta(hours=23, minutes=59)),
        ("-00:00", timedelta(0)),
    ],
)
def test_tz_takes_a_fixed_offset(text: str, offset: timedelta) -> None:
    assert _zone(text) == (timezone(offset), text)


def test_tz_takes_a_zone_name_and_refuses_the_rest() -> None:
    assert _zone("Asia/Jakarta") == (ZoneInfo("Asia/Jakarta"), "Asia/Jakarta")
    for text in ("+24:00", "-24:00", "+99:59"):
        with pytest.raises(argparse.ArgumentTypeError) as refused:
            _zone(text)
        assert str(refused.value) == f"{text!r} is not an offset within a day"
    for text in ("Mars/Olympus", "+7:00", "07:00", "M" * 50):
        with pytest.raises(argparse.ArgumentTypeError) as refused:
            _zone(text)
        shown = repr(text[:40])  # a long name is cut, by hand: 40 characters
        assert str(refused.value) == f"{shown} is neither a zone name (Asia/Jakarta) nor an offset (+07:00)"


def test_whole_numbers_are_ascii_digits_up_to_thirty_of_them() -> None:
    assert _natural("0") == 0
    assert _natural("9" * 30) == 10**30 - 1
    for text in ("9" * 31, "\u0661", "-1", "1.0", "", " 1", "x" * 50):
        with pytest.raises(argparse.ArgumentTypeError) as refused:
            _natural(text)
        assert str(refused.value) == f"{text[:40]!r} is not a whole number"
    assert _positive("1") == 1
    assert _port("0") == 0
    assert _port("65535") == 65535
    for refuse, text, why in ((_positive, "0", "must be at least 1"), (_port, "65536", "must be 0 to 65535")):
        with pytest.raises(argparse.ArgumentTypeError) as refused:
            refuse(text)
        assert str(refused.value) == why


# -- the pieces of validate's output ------------------------------------------------------------------


class _Stream:
    """A standard output or error with a given encoding, keeping what is written."""

    def __init__(self, encoding: str | None) -> None:
        self.encoding = encoding
        self._text = io.StringIO()

    def write(self, text: str) -> int:
        return self._text.write(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return self._text.getvalue()


@pytest.mark.parametrize(
    ("encoding", "escaped"),
    [
        ("utf-8", False),
        ("UTF_8", False),
        ("utf-16", False),
        ("UTF-32", False),
        ("ascii", True),
        ("cp1252", True),
        ("latin-1", True),
        (None, True),
    ],
)
def test_json_escapes_non_ascii_only_where_the_output_cannot_hold_it(
    encoding: str | None, escaped: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", _Stream(encoding))
    assert _json_ascii() is escaped


class _Bare:
    """A standard output that writes but has no `encoding` (a stand-in some harnesses use)."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_json_escapes_non_ascii_for_an_output_that_names_no_encoding(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = _Bare()
    monkeypatch.setattr(sys, "stdout", out)
    assert _json_ascii() is True
    log = tmp_path / "replies.log"
    log.write_text("R#PLN20. CUSTNAME: Ümit. @12:32:55.821005 12/11/2024\n", encoding="utf-8")
    assert main(["parse", "--jobs", "1", str(log)]) == 0  # written as text, escaped
    assert '"CUSTOMER_NAME": "\\u00dcmit"' in "".join(out.written)


@pytest.mark.parametrize(
    ("command", "line", "written"),
    [
        (
            ["reconcile", "--format", "jsonl"],
            "R#7 DN1. 0811 SUCCESS. SN: Ü1. TRXID: 9. @10:54:14.776182 29/11/2024",
            '"serial": "{}1"',
        ),
        (
            ["parse", "--jobs", "1"],
            "R#PLN20. CUSTNAME: Ümit. @12:32:55.821005 12/11/2024",
            '"CUSTOMER_NAME": "{}mit"',
        ),
    ],
    ids=["reconcile", "parse"],
)
@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_json_escapes_non_ascii_where_the_output_cannot_hold_it(
    command: list[str],
    line: str,
    written: str,
    encoding: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "replies.log"
    log.write_text(line + "\n", encoding="utf-8")
    out = _Stream(encoding)
    monkeypatch.setattr(sys, "stdout", out)
    assert main([*command, str(log)]) == 0
    assert written.format("\\u00dc" if encoding == "ascii" else "Ü") in out.getvalue()


def test_errors_as_text_up_to_the_limit_then_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _Stream("utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    sink = ErrorSink(json_format=False, limit=2)
    for line in (1, 2, 3, 4):
        sink.add("a.log", line, 5, "bad é")
    sink.finish(Summary())
    assert out.getvalue().splitlines()[:3] == [
        "a.log:1:5: bad é",
        "a.log:2:5: bad é",
        "... 2 more invalid lines not shown (--max-errors)",
    ]
    assert sink.count == 4


@pytest.mark.parametrize(("encoding", "message"), [("utf-8", '"bad é"'), ("ascii", '"bad \\u00e9"')])
def test_errors_as_json_up_to_the_limit(encoding: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _Stream(encoding)
    monkeypatch.setattr(sys, "stdout", out)
    sink = ErrorSink(json_format=True, limit=2)
    for line in (1, 2, 3):
        sink.add("a.log", line, 5, "bad é")
    sink.finish(Summary())
    sink.close()
    text = out.getvalue()
    assert text.startswith(
        '{"errors": [{"path": "a.log", "line": 1, "column": 5, "message": ' + message + "}, "
        '{"path": "a.log", "line": 2, "column": 5, "message": ' + message + "}], "
    )
    document = json.loads(text)
    assert (len(document["errors"]), document["errors_shown"]) == (2, 2)
    assert text.endswith("}\n")


def test_json_errors_past_a_mebibyte_wait_on_disk_and_come_back_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The document waits in a spooled file: in memory up to 1 MiB, then on disk, so memory does
    # not grow with the errors; what is written is every error, in order, whatever the size.
    out = _Stream("utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    sink = ErrorSink(json_format=True, limit=None)
    assert sink.pending is not None
    message = "é" * 40  # about 100 bytes an error
    written = 0
    line = 0
    while written <= (1 << 20) - 200:  # just under 1 MiB: still in memory
        line += 1
        sink.add("a.log", line, 1, message)
        written = sink.pending.tell()
    assert not sink.pending._rolled  # type: ignore[attr-defined]
    for _ in range(10):
        line += 1
        sink.add("a.log", line, 1, message)
    assert sink.pending._rolled  # type: ignore[attr-defined]  # past 1 MiB: on disk
    writes: list[int] = []

    def write(text: str) -> int:
        writes.append(len(text))
        return _Stream.write(out, text)

    monkeypatch.setattr(out, "write", write)
    sink.finish(Summary())
    sink.close()
    assert max(writes) <= 1 << 17  # read back in chunks (here 64 KiB): never the whole spool at once
    document = json.loads(out.getvalue())
    assert [e["line"] for e in document["errors"]] == list(range(1, line + 1))
    assert {e["message"] for e in document["errors"]} == {message}
    assert document["errors_shown"] == line


def test_no_limit_shows_every_error(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _Stream("utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    sink = ErrorSink(json_format=True, limit=None)
    for line in range(1, 4):
        sink.add("a.log", line, 1, "x")
    sink.finish(Summary())
    assert json.loads(out.getvalue())["errors_shown"] == 3


def test_progress_waits_two_seconds_then_is_redrawn_four_times_a_second(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clock = iter([100.0, 100.0, 101.0, 102.0, 102.1, 102.5, 104.0, 105.0])
    monkeypatch.setattr("irs_grammar.cli.time", SimpleNamespace(monotonic=lambda: next(clock)))
    err = _Stream("utf-8")
    monkeypatch.setattr(sys, "stderr", err)
    log = tmp_path / "a.log"
    log.write_bytes(b"x" * 4_000_000)
    progress = Progress(enabled=True)  # started at 100.0
    progress.begin(str(log))  # 100.0: a plain file of 4 MB
    progress.advance("a.log", 1_000, 500_000)  # 1 s: a short run shows nothing
    assert err.getvalue() == ""
    progress.advance("a.log", 1_000, 500_000)  # 2 s: 2,000 lines, 1 MB of 4 in 2 s
    assert err.getvalue() == "\ra.log: 2,000 lines, 1.0 MB, 1,000 lines/s, 0:06 left\x1b[K"
    progress.advance("a.log", 1_000, 1_000_000)  # 0.1 s after the last: not again
    progress.advance("a.log", 1_000, 1_000_000)  # 0.5 s after it
    assert err.getvalue().endswith("\ra.log: 4,000 lines, 3.0 MB, 1,600 lines/s, 0:00 left\x1b[K")
    progress.begin("-")  # 104.0: standard input, of no known size
    progress.advance("<stdin>", 1_000, 1_000_000)  # 105.0
    assert err.getvalue().endswith("\r<stdin>: 5,000 lines, 4.0 MB, 1,000 lines/s\x1b[K")
    progress.close()
    assert err.getvalue().endswith("\x1b[K\r\x1b[K")


def test_progress_off_the_terminal_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    err = _Stream("utf-8")
    monkeypatch.setattr(sys, "stderr", err)
    progress = Progress(enabled=False)
    progress.start -= 10  # long ago: it would be due
    progress.advance("a.log", 5)
    progress.close()
    assert (err.getvalue(), progress.lines) == ("", 5)


def test_jobs_are_capped_at_the_usable_cores_with_a_note(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_module, "usable_cores", lambda: 4)
    monkeypatch.setattr(cli_module, "default_jobs", lambda: 3)
    assert (_jobs(None), _jobs(1), _jobs(4)) == (3, 1, 4)
    assert capsys.readouterr().err == ""
    assert _jobs(5) == 4
    assert capsys.readouterr().err == "irs-grammar: --jobs 5 is more than the 4 usable cores; using 4\n"
    with pytest.raises(cli_module.UsageError) as refused:
        _jobs(0)
    assert str(refused.value) == "--jobs must be at least 1"


def test_after_a_broken_pipe_standard_output_goes_to_dev_null(monkeypatch: pytest.MonkeyPatch) -> None:
    read_end, write_end = os.pipe()
    monkeypatch.setattr(sys, "stdout", SimpleNamespace(fileno=lambda: write_end))
    try:
        cli_module._silence_stdout()
        assert os.write(write_end, b"lost") == 4  # written to /dev/null now
        os.set_blocking(read_end, False)
        assert os.read(read_end, 16) == b""  # the pipe has no writer left: end of file
    finally:
        os.close(read_end)
        os.close(write_end)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # no file descriptor: left as it is
    cli_module._silence_stdout()


def test_an_overlong_line_error_carries_its_place_and_what_was_expected() -> None:
    from irs_grammar.lines import Overlong, overlong_error

    error = overlong_error(3, Overlong(2_000_000), 1_048_576)
    assert (error.line, error.column, error.text, error.expected, error.field) == (
        3,
        1_048_577,
        "",
        ("a line of at most 1,048,576 bytes",),
        None,
    )
    assert error.message == "line longer than 1,048,576 bytes (2,000,000); skipped (--max-line-length)"


def test_credentials_longer_than_4096_characters_are_refused_by_name() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRS_")}
    env.update(IRS_CLIENT_ID="c", IRS_CLIENT_SECRET="s", IRS_IDRS="i", IRS_PIN="1")
    args = ["url", "--base", "https://b2b.example", "--product", "DN1", "--to", "0811", "--amount", "1"]
    fits = run(*args, "--buy", env={**env, "IRS_IDRS": "i" * 4096})
    assert fits.returncode == 0, fits.stderr
    assert "idrs=" + "i" * 4096 + "&" in fits.stdout
    long = run(*args, "--buy", env={**env, "IRS_IDRS": "i" * 4097})
    assert (long.returncode, long.stderr) == (2, "irs-grammar: IRS_IDRS is longer than 4096 characters\n")
    inquiry = run(*args, env=env)  # an inquiry without --selling-price
    assert (inquiry.returncode, inquiry.stderr) == (
        2,
        "irs-grammar: --selling-price is required for the inquiry (or give --buy)\n",
    )


@pytest.mark.parametrize(("encoding", "product"), [("utf-8", '"PLNé": 1'), ("ascii", '"PLN\\u00e9": 1')])
def test_the_json_summary_escapes_as_the_errors_do(
    encoding: str, product: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _Stream(encoding)
    monkeypatch.setattr(sys, "stdout", out)
    sink = ErrorSink(json_format=True, limit=None)
    summary = Summary(lines=1, valid=1)
    summary.products["PLNé"] = 1
    sink.finish(summary)
    assert product in out.getvalue()
    assert json.loads(out.getvalue())["products"] == {"PLNé": 1}


def test_reconcile_json_escapes_non_ascii_for_an_ascii_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "one.log"
    log.write_text("é\n", encoding="utf-8")  # not a reply: its message quotes the é
    out = _Stream("ascii")
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["reconcile", "--format", "json", str(log)]) == 1  # an invalid line needs a look
    assert "found '\\u00e9'" in out.getvalue()
    assert "é" not in out.getvalue()


@pytest.mark.parametrize(("encoding", "shown"), [("utf-8", '"caf\u00e9"'), ("ascii", '"caf\\u00e9"')])
def test_parse_json_escapes_non_ascii_only_for_an_output_that_cannot_hold_it(
    encoding: str, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _Stream(encoding)
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["parse", "--wire", "R#A. CUSTNAME: caf\u00e9. @12:00:00.000000 01/01/2025"]) == 0
    assert shown in out.getvalue()
    assert json.loads(out.getvalue())["CUSTOMER_NAME"] == "caf\u00e9"


def test_parse_reads_every_reply_given_and_names_standard_input() -> None:
    one, two = "R#A. @12:00:00.000000 01/01/2025", "R#B. @12:00:00.000000 01/01/2025"
    given = run("parse", one, two)
    assert (given.returncode, [json.loads(r)["PRODUCT_CODE"] for r in given.stdout.splitlines()]) == (
        0,
        ["A", "B"],
    )
    piped = run("parse", "-", stdin=f"{one}\nR#A\n".encode())
    assert piped.returncode == 1
    assert [json.loads(r)["path"] for r in piped.stdout.splitlines()] == ["<stdin>"]
    assert piped.stderr == "<stdin>:2:4: expected \". \", found '\\n'\n"


class _Terminal(_Stream):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("validate", "R#A. @12:00:00.000000 01/01/2025"),
        ("reconcile", "R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024"),
        ("parse", "R#A. @12:00:00.000000 01/01/2025"),
    ],
)
@pytest.mark.parametrize("quiet", [False, True], ids=["shown", "--quiet"])
def test_the_progress_is_drawn_on_a_terminal_unless_quiet(
    command: str, line: str, quiet: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    log = tmp_path / "two.log"
    log.write_text(f"{line}\n" * 2, encoding="utf-8")
    clock = iter(range(0, 3000, 3))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))  # three seconds a reading
    terminal = _Terminal("utf-8")
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(sys, "stdout", _Stream("utf-8"))
    assert main([command, "--jobs", "1", *(["--quiet"] if quiet else []), str(log)]) == 0
    # the file's one batch (2 lines) read once the line is due (a reading after the start), then cleared
    drawn = f"\r{log}: 2 lines, 0.0 MB, 0 lines/s, 0:00 left\x1b[K\r\x1b[K"
    assert terminal.getvalue() == ("" if quiet else drawn)


@pytest.mark.parametrize(
    "options", [["--format", "parquet"], ["-o", "report.parquet"]], ids=["no -o", "-o alone"]
)
def test_reconcile_writes_parquet_to_a_file_named_by_o_and_only_parquet(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "buys.log"
    log.write_text("R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024\n", encoding="utf-8")
    assert main(["reconcile", *options, str(log)]) == 2
    assert capsys.readouterr().err == (
        "irs-grammar: -o/--output goes with --format parquet, and --format parquet needs -o FILE\n"
    )
    assert not (tmp_path / "report.parquet").exists()


def test_progress_off_a_terminal_only_when_asked(tmp_path: Path) -> None:
    log = tmp_path / "two.log"
    log.write_text("R#A. @12:00:00.000000 01/01/2025\n" * 2, encoding="utf-8")
    # nothing off a terminal by default; --progress asks for it (a run this short draws nothing yet)
    assert run("parse", "--progress", str(log)).returncode == 0
    assert Progress.wanted(argparse.Namespace(progress=True, quiet=False))
    assert not Progress.wanted(argparse.Namespace(progress=True, quiet=True))
    assert not Progress.wanted(argparse.Namespace(progress=False, quiet=False))  # stderr: not a terminal here


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["validate", "--json", "f"], "--json"),
        (["parse", "-x", "f"], "-x"),  # a short flag, two characters
        (["parse", "--bogus=1=2", "f"], "--bogus"),  # named without its value
        (["url", "--" + "b" * 60], "--" + "b" * 38),  # a long one cut to 40 characters
        (["--version", "url", "--bogus"], "--bogus"),  # before anything else is said
        (["validate", "--form", "json", "f"], "--form"),  # an abbreviation is no flag
        (["reconcile", "--pend=1h", "f"], "--pend"),
    ],
)
def test_an_unknown_flag_is_named_by_its_subcommand_in_process(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f": error: unrecognized argument: {named}")


def test_what_is_not_an_unknown_flag(tmp_path: Path) -> None:
    log = tmp_path / "buys.log"
    log.write_text("R#A. @12:00:00.000000 01/01/2025\n", encoding="utf-8")
    # a known flag written with "=", its value holding "=" too
    state = tmp_path / "a=b.sqlite"
    read = run("reconcile", f"--state={state}", str(log))  # read: an inquiry reply, no transaction reply
    assert (read.returncode, read.stderr) == (
        1,
        "irs-grammar: no transaction reply in the input (is it a buy log?)\n",
    )
    assert run("validate", "--max-errors=3", str(log)).returncode == 0
    # a negative number, and anything after "--", is an argument: here a file that is not there
    for argv in (["parse", "-5"], ["parse", "--", "-x"]):
        missing = run(*argv)
        assert (missing.returncode, missing.stderr) == (
            2,
            f"irs-grammar: {argv[-1]}: No such file or directory\n",
        )


def test_standard_output_and_error_write_what_their_encoding_cannot_hold_as_escapes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from irs_grammar.cli import _text_streams_never_fail_on_encoding

    out, err = (io.TextIOWrapper(io.BytesIO(), encoding="ascii") for _ in range(2))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    _text_streams_never_fail_on_encoding()
    for stream in (out, err):
        stream.write("caf\u00e9\n")
        stream.flush()
        assert stream.buffer.getvalue() == b"caf\\xe9\n"


def test_the_top_level_takes_no_abbreviation_and_needs_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    # "--vers" is not taken for --version (which would print it and exit 0): only a command is missing
    for argv in (["--vers"], []):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2
        said = capsys.readouterr()
        assert said.out == ""
        assert (
            said.err.splitlines()[-1] == "irs-grammar: error: the following arguments are required: COMMAND"
        )


def test_main_reads_its_arguments_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["irs-grammar", "parse", "--wire", "R#A. @12:00:00.000000 01/01/2025"])
    assert main() == 0
    assert json.loads(capsys.readouterr().out)["PRODUCT_CODE"] == "A"


class _Failing(_Stream):
    """A standard output whose first write fails as `failure` says."""

    def __init__(self, failure: Callable[[], None]) -> None:
        super().__init__("utf-8")
        self.failure = failure

    def write(self, text: str) -> int:
        self.failure()
        return super().write(text)

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")  # as a stream that is not a file says


def _broken_pipe() -> None:
    raise BrokenPipeError


def _sigterm() -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # main's handler turns it into Terminated, here


def _full() -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _io_error_of_a_file() -> None:
    raise OSError(errno.EIO, "Input/output error", "/mnt/out")


def _odd_error() -> None:
    raise OSError("the pipe broke oddly")  # no errno, no strerror: the error itself is said


@pytest.mark.parametrize(
    ("failure", "status", "said"),
    [
        (_broken_pipe, 141, ""),  # the reader has what it wanted: nothing said, grep's status
        (_sigterm, 143, "irs-grammar: terminated\n"),
        (_full, 2, "irs-grammar: standard output: No space left on device\n"),
        (_io_error_of_a_file, 2, "irs-grammar: /mnt/out: Input/output error\n"),
        (_odd_error, 2, "irs-grammar: standard output: the pipe broke oddly\n"),
    ],
    ids=["broken pipe", "SIGTERM", "full", "an error naming its file", "an error without errno"],
)
def test_an_output_that_closes_and_a_termination_end_the_run_with_one_line(
    failure: Callable[[], None],
    status: int,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def outside_main(signum: int, frame: object) -> None:
        raise AssertionError("SIGTERM reached the test's handler, not the one main installs")

    monkeypatch.setattr(sys, "stdout", _Failing(failure))
    previous = signal.signal(signal.SIGTERM, outside_main)  # never the default: it would end pytest
    try:
        assert main(["parse", "R#A. @12:00:00.000000 01/01/2025"]) == status
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert capsys.readouterr().err == said


@pytest.mark.parametrize("fails", [False, True])
def test_a_command_runs_with_the_collector_examining_young_objects_less_often(
    monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    seen = []

    def command(args: argparse.Namespace) -> int:
        seen.append(gc.get_threshold())
        if fails:
            raise cli_module.UsageError("no")
        return 0

    monkeypatch.setattr(cli_module, "cmd_validate", command)
    before = gc.get_threshold()
    gc.set_threshold(500, 11, 12)  # a program's own thresholds: only the youngest's is raised
    try:
        assert main(["validate", "a.log"]) == (2 if fails else 0)
        assert gc.get_threshold() == (500, 11, 12)  # as it was: main() runs inside other programs too
    finally:
        gc.set_threshold(*before)
    assert seen == [(10_000, 11, 12)]


def test_json_lines_are_written_from_batches_of_at_most_5000_lines(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # A batch's JSON text is about four times its lines': memory at the peak is a batch's.
    log = tmp_path / "big.log"
    log.write_text("R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024\n" * 12_001, encoding="utf-8")
    real, sizes = jsonlines.parse_batch, []

    def counted(raw_lines: Any, *args: Any) -> Any:
        sizes.append(len(raw_lines))
        return real(raw_lines, *args)

    monkeypatch.setattr(cli_module, "parse_batch", counted)
    assert main(["parse", "--jobs", "1", str(log)]) == 0
    assert sizes == [5_000, 5_000, 2_001]
    assert capsysbinary.readouterr().out.count(b"\n") == 12_001


@pytest.mark.parametrize("encoding", ["utf-8", "UTF_8", "utf-16"])
def test_json_lines_reach_standard_output_in_its_encoding(
    encoding: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # UTF-8 bytes go to the buffer as they are; any other encoding gets the text, to encode it
    log = tmp_path / "replies.log"
    log.write_text("R#PLN20. CUSTNAME: Ümit. @12:32:55.821005 12/11/2024\n", encoding="utf-8")
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding)
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["parse", "--jobs", "1", str(log)]) == 0
    out.flush()
    [line] = raw.getvalue().decode(encoding).splitlines()
    assert json.loads(line)["CUSTOMER_NAME"] == "Ümit"
