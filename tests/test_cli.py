"""The command line: output, exit status, and no tracebacks."""

from __future__ import annotations

import argparse
import gzip
import json
from datetime import timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from irs_grammar.cli import _natural, _port, _positive, _zone, main
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
