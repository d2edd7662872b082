"""The command line: output, exit status, and no tracebacks."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from irs_grammar.cli import main
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
