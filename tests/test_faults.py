"""The command line under faults: the real command in a subprocess, row by row of the README's table.

Each row asserts the exit status, one line on standard error that names the
real cause, no traceback, and for JSON output a complete document or nothing.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import irs_grammar as irs
from tests import command
from tests.corpus import CORPUS
from tests.wsgi import call_wsgi

DOCUMENTED = CORPUS / "inquiry/documented.log"
VALID = b"R#A. @12:00:00.000000 01/01/2025\n"
INVALID = b"R#A. @12:00:00 01/01/2025\n"


def run(
    *args: str | bytes | os.PathLike[str], stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The command (tests/command.py) with its output as bytes; `env` is added to the environment."""
    done = command.run(
        *(os.fsdecode(arg) for arg in args), stdin=stdin, env={**os.environ, **(env or {})} if env else None
    )
    encode = partial(str.encode, encoding="utf-8", errors="surrogateescape")
    return subprocess.CompletedProcess(done.args, done.returncode, encode(done.stdout), encode(done.stderr))


def last_line(stderr: bytes) -> str:
    """The last line on standard error (invalid lines may come before it), with no traceback."""
    text = stderr.decode("utf-8", errors="replace")
    assert "Traceback" not in text, text
    return text.rstrip("\n").rsplit("\n", 1)[-1]


def one_line(stderr: bytes) -> str:
    """The single line on standard error, checked to be one line and no traceback."""
    text = stderr.decode("utf-8", errors="replace")
    assert "Traceback" not in text, text
    assert text.count("\n") == 1, text
    assert text.endswith("\n"), text
    return text.rstrip("\n")


@pytest.fixture(scope="module")
def big_gz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gzip log of 200,000 lines, one in ten invalid."""
    path = tmp_path_factory.mktemp("logs") / "big.log.gz"
    lines = [(INVALID if n % 10 == 0 else VALID) for n in range(200_000)]
    path.write_bytes(gzip.compress(b"".join(lines), compresslevel=1))
    return path


# -- the output pipe closed early ------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "parse", "reconcile"])
def test_a_closed_output_pipe_ends_the_run_quietly_as_grep_does(tmp_path: Path, command: str) -> None:
    log = tmp_path / "replies.log"
    # More than a pipe holds: valid replies for parse, invalid lines (and one buy) for the others.
    buy = b"R#B1 DN1. 0811 SUCCESS. SN: 1. TRXID: 1. @12:00:00.000000 01/01/2025\n"
    log.write_bytes(VALID * 50_000 if command == "parse" else buy + INVALID * 50_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "irs_grammar", command, str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.readline()  # `| head -1`
    process.stdout.close()
    status = process.wait(timeout=60)
    assert (status, process.stderr.read()) == (141, b"")  # grep's: 128 + SIGPIPE, nothing said


# -- gzip that is corrupt, truncated, not gzip, or on standard input ---------------------------------


@pytest.mark.parametrize("command", ["validate", "parse"])
def test_a_corrupt_gzip_is_one_line_and_exit_2(tmp_path: Path, big_gz: Path, command: str) -> None:
    data = bytearray(big_gz.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4] = b"\xff\x00\xff\x00"
    corrupt = tmp_path / "corrupt.log.gz"
    corrupt.write_bytes(bytes(data))
    result = (
        run(command, "--max-errors", "0", str(corrupt))
        if command == "validate"
        else run(command, str(corrupt))
    )
    assert result.returncode == 2
    assert last_line(result.stderr).startswith(f"irs-grammar: {corrupt}: the gzip file is corrupt")
    if command == "validate":
        assert result.stdout == b""  # no summary of what could not be read


@pytest.mark.parametrize("command", ["validate", "parse"])
def test_a_truncated_gzip_is_one_line_and_exit_2(tmp_path: Path, big_gz: Path, command: str) -> None:
    truncated = tmp_path / "truncated.log.gz"
    truncated.write_bytes(big_gz.read_bytes()[: big_gz.stat().st_size * 2 // 3])
    result = run(command, str(truncated))
    assert result.returncode == 2
    assert last_line(result.stderr) == (
        f"irs-grammar: {truncated}: the gzip file is truncated (it ends before its end marker)"
    )


def test_what_a_truncated_gzip_reports_does_not_depend_on_jobs(tmp_path: Path, big_gz: Path) -> None:
    truncated = tmp_path / "truncated.log.gz"
    truncated.write_bytes(big_gz.read_bytes()[: big_gz.stat().st_size * 2 // 3])
    one, two = run("validate", "--jobs", "1", str(truncated)), run("validate", "--jobs", "2", str(truncated))
    assert one.returncode == two.returncode == 2
    assert one.stdout == two.stdout
    assert one.stdout.count(b"\n") > 10_000  # every invalid line read before the cut is reported


def test_a_gz_that_is_not_gzip(tmp_path: Path) -> None:
    fake = tmp_path / "plain.log.gz"
    fake.write_bytes(VALID)
    result = run("validate", str(fake))
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(f"irs-grammar: {fake}: not a valid gzip file")


@pytest.mark.parametrize("command", ["validate", "parse"])
def test_gzip_on_standard_input_is_read(command: str) -> None:
    result = run(command, "-", stdin=gzip.compress(DOCUMENTED.read_bytes()))
    assert result.returncode == 0, result.stderr
    if command == "parse":
        assert result.stdout.count(b"\n") == 7


# -- files that are not there, not files, or not readable -------------------------------------------


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("/nonexistent/replies.log", "No such file or directory"),
        ("/", "is a directory"),
        ("/proc/self/mem", "Input/output error"),  # unreadable even for root
    ],
)
@pytest.mark.parametrize("command", ["validate", "parse"])
def test_io_errors_are_one_line_exit_2_and_no_summary(command: str, target: str, reason: str) -> None:
    result = run(command, target)
    assert result.returncode == 2
    assert one_line(result.stderr) == f"irs-grammar: {target}: {reason}"
    assert result.stdout == b""


def test_a_fifo_is_read_like_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "replies.fifo"
    os.mkfifo(fifo)
    source = tmp_path / "replies.log"
    source.write_bytes(VALID * 1000 + INVALID)
    # The writer is another process: a thread of this one would hold the FIFO's write end open in the
    # validator's workers, forked from this process when the command runs in it, and none would end.
    copy = "import shutil, sys; shutil.copyfileobj(open(sys.argv[1], 'rb'), open(sys.argv[2], 'wb'))"
    writer = subprocess.Popen([sys.executable, "-c", copy, str(source), str(fifo)])
    try:
        result = run("validate", str(fifo))
        assert writer.wait(timeout=10) == 0
    finally:
        writer.kill()  # blocked for good if the command never opened the FIFO; no-op once it has ended
    assert result.returncode == 1
    assert result.stdout.startswith(f"{fifo}:1001:7: ".encode())


# -- interruption -------------------------------------------------------------------------------


def sigint_as_at_a_terminal() -> None:
    """preexec_fn: SIGINT back to its default in the child. A shell running this suite in the
    background (`make`'s parallel runs) starts it with SIGINT ignored, and Python would keep
    ignoring it: Ctrl-C at a terminal is what the tests mean."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize(
    ("signum", "status", "said"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_an_interrupt_stops_at_once_without_a_traceback_or_half_a_document(
    jobs: str, signum: signal.Signals, status: int, said: str
) -> None:
    # Standard input stays open, so the command is still reading when the signal comes;
    # it goes to the whole process group, as Ctrl-C at a terminal does.
    process = subprocess.Popen(
        [sys.executable, "-m", "irs_grammar", "validate", "--format", "json", "--jobs", jobs, "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=sigint_as_at_a_terminal,
    )
    assert process.stdin is not None
    process.stdin.write((VALID * 9 + INVALID) * 60_000)  # 6 MB: workers busy with --jobs 2
    process.stdin.flush()
    time.sleep(1.0)
    sent = time.monotonic()
    os.killpg(process.pid, signum)
    stdout, stderr = process.communicate(timeout=10)
    took = time.monotonic() - sent
    process.stdin.close()
    assert process.returncode == status
    assert one_line(stderr) == f"irs-grammar: {said}"
    assert stdout == b""  # no half document
    print(f"exit {took:.3f} s after the signal")
    assert took < 5, took  # measured well under a second; the bound only guards against a hang


# -- arguments ------------------------------------------------------------------------------------


def test_absurd_jobs_are_capped_with_a_note() -> None:
    result = run("validate", "--jobs", "99999999999999999999", str(DOCUMENTED))
    assert result.returncode == 0
    assert one_line(result.stderr).startswith("irs-grammar: --jobs 99999999999999999999 is more than the ")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["validate", "--jobs", "0", str(DOCUMENTED)], "--jobs must be at least 1"),
        (["validate", "--jobs", "1e5", str(DOCUMENTED)], "argument --jobs: '1e5' is not a whole number"),
        (
            ["validate", "--max-line-length", "0", str(DOCUMENTED)],
            "argument --max-line-length: must be at least 1",
        ),
        (["validate", "--json", "f"], "unrecognized argument: --json"),
        (["url", "--bogus"], "unrecognized argument: --bogus"),
        (["parse", "--max-errors", "3"], "unrecognized argument: --max-errors"),
    ],
)
def test_argument_errors_name_the_flag_with_the_subcommands_usage(args: list[str], named: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    text = result.stderr.decode()
    assert "Traceback" not in text
    assert named in text
    if "must be at least 1" not in named or "argument" in named:
        assert f"usage: irs-grammar {args[0]}" in text


def test_huge_max_errors_is_fine() -> None:
    result = run("validate", "--max-errors", "99999999999999999999", str(DOCUMENTED))
    assert result.returncode == 0


def test_version() -> None:
    import irs_grammar

    result = run("--version")
    assert (result.returncode, result.stdout.decode()) == (0, f"irs-grammar {irs_grammar.__version__}\n")


# -- encodings ---------------------------------------------------------------------------------------


def test_bad_utf8_in_an_argument_is_an_invalid_line() -> None:
    result = run("parse", b"R#A. B: \xff. @12:00:00.000000 01/01/2024")
    assert result.returncode == 1
    assert one_line(result.stderr) == "<argument>:1:9: not valid UTF-8 (byte 0xff)"


def test_an_ascii_only_output_gets_escapes_not_a_crash(tmp_path: Path) -> None:
    log = tmp_path / "names.log"
    log.write_text(
        "R#A. CUSTNAME: SITI Ä王. @12:00:00.000000 01/01/2024\nR#A. B: é. @99:00:00.000000 01/01/2024\n"
    )
    parsed = run("parse", str(log), env={"PYTHONIOENCODING": "ascii"})
    assert parsed.returncode == 1
    assert json.loads(parsed.stdout.splitlines()[0])["CUSTOMER_NAME"] == "SITI Ä王"
    checked = run("validate", "--format", "json", str(log), env={"PYTHONIOENCODING": "ascii"})
    assert checked.returncode == 1
    assert json.loads(checked.stdout)["invalid"] == 1
    text = run("validate", str(log), env={"PYTHONIOENCODING": "ascii"})
    assert text.returncode == 1
    assert "Traceback" not in text.stderr.decode()


def test_a_secret_with_a_bad_byte_is_refused_without_showing_any_of_it() -> None:
    env = {
        "IRS_CLIENT_ID": "c1",
        "IRS_IDRS": "x",
        "IRS_PIN": "123456",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "irs_grammar",
            "url",
            "--base",
            "https://h",
            "--product",
            "A",
            "--to",
            "1",
            "--amount",
            "1",
            "--selling-price",
            "1",
        ],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("IRS_")}, **env}
        | {"IRS_CLIENT_SECRET": os.fsdecode(b"Sup3r\xffSecret")},
        capture_output=True,
        check=False,
    )
    assert result.returncode == 2
    message = one_line(result.stderr)
    assert (
        message == "irs-grammar: client_secret: holds a line break, a control character or a lone surrogate"
    )
    assert b"Sup3r" not in result.stderr
    assert b"\xff" not in result.stderr


# -- blank lines -----------------------------------------------------------------------------------


@pytest.mark.parametrize("space", ["\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u2028", "\u3000"])
def test_only_spaces_and_tabs_are_blank(tmp_path: Path, space: str) -> None:
    log = tmp_path / "spaces.log"
    log.write_text(f" \t\n\r\n{space}\n \t{space}\n", encoding="utf-8")
    result = run("validate", "--format", "json", str(log))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert (report["blank"], report["invalid"]) == (2, 2)
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(3, 1), (4, 1)]


# -- memory, whatever the input ------------------------------------------------------------------------


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def read_at_least(pid: int, size: int, patience: float = 300.0) -> None:
    """Wait until process `pid` has read `size` bytes (/proc/PID/io's rchar); fail after `patience` s."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/io") as io:
            read = next(int(line.split()[1]) for line in io if line.startswith("rchar:"))
        if read >= size:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} read {read:,} bytes in {patience:.0f} s, not {size:,}")


def test_dev_zero_is_a_binary_file() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "irs_grammar", "validate", "/dev/zero"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, b"")
    assert (
        one_line(done.stderr) == "irs-grammar: /dev/zero: binary file, not a reply log (it holds NUL bytes)"
    )


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_endless_line_is_read_in_bounded_memory(jobs: str) -> None:
    # /dev/zero as text: an endless line of x, on standard input
    with open("/dev/zero", "rb") as zeros:
        endless = subprocess.Popen(["tr", "\\0", "x"], stdin=zeros, stdout=subprocess.PIPE)
    assert endless.stdout is not None
    process = subprocess.Popen(
        [sys.executable, "-m", "irs_grammar", "validate", "--jobs", jobs, "-"],
        stdin=endless.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    endless.stdout.close()  # the command holds the pipe now
    # Measured when the command has read 32 MiB of the line and again at 256 MiB (work done, not time
    # passed: on a busy machine two seconds may not even see it started, and a SIGTERM before its
    # handler kills it). The growth between, not the whole: what the interpreter and its imports
    # weigh is not the line's (under mutmut the package alone is 300 MB).
    read_at_least(process.pid, 32 << 20)
    start = peak_rss_mib(process.pid)
    read_at_least(process.pid, 256 << 20)
    growth = peak_rss_mib(process.pid) - start
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)
    endless.kill()
    endless.wait()
    assert process.returncode == 143
    assert one_line(stderr) == "irs-grammar: terminated"
    assert growth < 32, growth  # the line is never kept: about 1 MiB of it at a time (224 MiB if it were)


def test_a_gzip_bomb_is_one_overlong_line_in_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.log.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as packed:
        xs = b"x" * (1 << 20)  # text: a NUL would make it a binary file, refused at its first block
        for _ in range(200):  # 200 MiB of one letter, about 200 KB packed
            packed.write(xs)
        packed.write(b"\n" + VALID)
    result = run("validate", str(bomb))
    assert result.returncode == 1
    assert (
        result.stdout.splitlines()[0]
        == (
            f"{bomb}:1:1048577: line longer than 1,048,576 bytes (209,715,200); skipped (--max-line-length)"
        ).encode()
    )
    assert b"lines: 2 (valid 1, invalid 1, blank 0)" in result.stdout


def test_max_line_length_is_a_flag(tmp_path: Path) -> None:
    log = tmp_path / "long.log"
    log.write_bytes(b"R#A. B: " + b"x" * 100 + b". @12:00:00.000000 01/01/2025\n" + VALID)
    result = run("validate", "--max-line-length", "50", str(log))
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"{log}:1:51: line longer than 50 bytes (137); skipped (--max-line-length)".encode()
    )
    assert run("validate", "--max-line-length", "200", str(log)).returncode == 0


# -- money: a refusal decides nothing, a conflict is never a failure, every charge is counted ---------

WIB_START = 100_000_000


def send(fake: Any, request: irs.BuyRequest) -> irs.TransactionResponse:
    status, body = call_wsgi(fake, request.PATH, request.to_url("http://h").split("?", 1)[1])
    assert status == "200 OK"
    reply = irs.parse_reply(body)
    assert isinstance(reply, irs.TransactionResponse)
    return reply


def with_pin(request: irs.BuyRequest, pin: str) -> irs.BuyRequest:
    return irs.BuyRequest(**{**{name: getattr(request, name) for name in request.PARAMETERS}, "pin": pin})


def test_a_refused_request_never_carries_failed_under_a_live_or_settled_ref_id(tmp_path: Path) -> None:
    from irs_grammar.testing import FakeIRS

    log = tmp_path / "fake.log"
    fake = FakeIRS(seed=1, log=log)
    paid = fake.buy_request("DN1", "0817345544", ref_id="x1")
    assert send(fake, paid).status == "INPROGRESS"
    assert send(fake, paid).ok  # settled: 1.178 taken
    live = fake.buy_request("OVO10", "081000000001", ref_id="y1")
    assert send(fake, live).status == "INPROGRESS"  # live: not final yet
    for ref_id, request in (("x1", paid), ("y1", live)):
        refused = [
            send(fake, with_pin(request, "000000")),  # a re-check with a wrong pin
            send(fake, fake.buy_request("PLN20", "01105691111", ref_id=ref_id)),  # another purchase
        ]
        _, body = call_wsgi(
            fake, request.PATH, request.to_url("http://h").split("?", 1)[1].replace("&pin=", "&pi=")
        )
        refused.append(irs.parse_transaction(body))  # a parameter missing
        for reply in refused:
            assert reply.failed  # refused, under no reference of a buy
            assert reply.ref_id == "-"
    assert fake.status("x1") == "SUCCESS"
    assert fake.status("y1") == "INPROGRESS"
    assert send(fake, live).ok  # the live buy goes on as if nothing happened
    result = irs.reconcile([log])
    assert result.transactions["x1"].outcome == "succeeded"
    assert result.transactions["y1"].outcome == "succeeded"
    assert result.deducted() == WIB_START - fake.balance == 1178 + 10100


@pytest.mark.parametrize("ref_id", ["-", "--", "_", "-_-"])
def test_a_placeholder_is_refused_as_a_ref_id(ref_id: str) -> None:
    from irs_grammar.testing import REASONS, FakeIRS

    fake = FakeIRS()
    request = fake.buy_request("DN1", "0817345544", ref_id=ref_id)
    for _ in range(2):  # bought, then re-checked: nothing is bought at all
        reply = send(fake, request)
        assert reply.failed
        assert reply.reason == REASONS["ref_id"]
    assert fake.status(ref_id) is None
    assert fake.balance == WIB_START


def buy_log(tmp_path: Path, *lines: str) -> Path:
    log = tmp_path / "buys.log"
    log.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return log


def test_a_conflict_is_conflicting_never_failed_and_its_charge_is_counted(tmp_path: Path) -> None:
    log = buy_log(
        tmp_path,
        "R#C1 DN1. 0811 SUCCESS. SN: 1. TRXID: 7. SISA SALDO: 100.000 - 10.000 = 90.000"
        " @10:00:00.000000 01/12/2024",
        "R#C1 DN1. 0811 FAILED. REASON: x. TRXID: 7. SISA SALDO: 90.000 - 0 = 90.000"
        " @10:01:00.000000 01/12/2024",
        "R#C2 DN1. 0812 FAILED. REASON: x. TRXID: 8. SISA SALDO: 90.000 - 0 = 90.000"
        " @10:02:00.000000 01/12/2024",
        "R#C2 DN1. 0812 SUCCESS. SN: 2. TRXID: 8. SISA SALDO: 90.000 - 5.000 = 85.000"
        " @10:03:00.000000 01/12/2024",
    )
    result = irs.reconcile([log])
    assert (
        result.transactions["C1"].outcome == "conflicting"
    )  # the last final reply is FAILED: still no refund
    assert result.transactions["C2"].outcome == "conflicting"
    assert result.outcomes() == {
        "total": 2,
        "succeeded": 0,
        "failed": 0,
        "conflicting": 2,
        "pending": 0,
        "unknown": 0,
    }
    assert result.deducted() == 15_000  # C1's SUCCESS charged 10.000 though its last reply says FAILED
    done = run("reconcile", str(log))
    assert done.returncode == 1
    assert (
        b"transactions: 2 (succeeded 0, failed 0, conflicting 2, pending 0, unknown 0), deducted 15000"
        in (done.stdout)
    )


def test_every_distinct_charge_is_counted_once(tmp_path: Path) -> None:
    log = buy_log(
        tmp_path,
        "R#D1 DN1. 0811 SUCCESS. SN: 1. TRXID: 1. SISA SALDO: 10.000 - 1.000 = 9.000"
        " @10:00:00.000000 01/12/2024",
        "R#D1 DN1. 0811 SUCCESS. SN: 1. TRXID: 1. SISA SALDO: 10.000 - 1.000 = 9.000"
        " @10:01:00.000000 01/12/2024",
        "R#D1 DN1. 0811 SUCCESS. SN: 1. TRXID: 2. SISA SALDO: 9.000 - 1.000 = 8.000"
        " @10:02:00.000000 01/12/2024",
        "R#D2 DN1. 0812 FAILED. REASON: x. TRXID: 3. SISA SALDO: 8.000 - 500 = 7.500"
        " @10:03:00.000000 01/12/2024",
    )
    result = irs.reconcile([log])
    assert result.transactions["D1"].deducted == 2_000  # a re-check is one charge, a second TRXID another
    assert result.transactions["D2"].deducted == 500  # FAILED, yet charged: counted, and an anomaly
    assert result.transactions["D2"].outcome == "failed"
    assert result.deducted() == 2_500
    assert result.by_product() == {"DN1": {"transactions": 2, "deducted": 2_500}}


# -- a Python whose regular expressions misread replies is refused at import -------------------------


@pytest.mark.parametrize("version", [(3, 11, 0, "final", 0), (3, 11, 2, "final", 0), (3, 11, 4, "final", 0)])
def test_import_refuses_a_python_with_the_broken_regex_engine(
    version: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    import irs_grammar

    monkeypatch.setattr(sys, "version_info", version)
    try:
        with pytest.raises(ImportError) as refused:
            importlib.reload(irs_grammar)
    finally:
        monkeypatch.undo()
        importlib.reload(irs_grammar)
    shown = ".".join(map(str, version[:3]))
    assert str(refused.value) == (
        f"irs-grammar needs Python 3.11.5 or newer; this is Python {shown}, whose regular expressions "
        "misread replies"
    )


@pytest.mark.parametrize("version", [(3, 11, 5, "final", 0), (3, 12, 0, "final", 0), (4, 0, 0, "alpha", 1)])
def test_import_accepts_a_python_from_3_11_5(
    version: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    import irs_grammar

    monkeypatch.setattr(sys, "version_info", version)
    try:
        assert importlib.reload(irs_grammar).parse is irs.parse
    finally:
        monkeypatch.undo()
        importlib.reload(irs_grammar)


def test_a_vendored_copy_on_an_old_python_says_why_in_a_fresh_interpreter() -> None:
    code = "import sys; sys.version_info = (3, 11, 3, 'final', 0); import irs_grammar"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.rstrip().endswith(
        "ImportError: irs-grammar needs Python 3.11.5 or newer; this is Python 3.11.3, whose regular "
        "expressions misread replies"
    )


@pytest.mark.parametrize("command", ["parse", "reconcile"])
def test_a_negative_offset_is_a_zone_not_a_flag(command: str, tmp_path: Path) -> None:
    log = tmp_path / "one.log"
    log.write_bytes(b"R#1 A. 2 SUCCESS. TRXID: 3. @12:00:00.000000 01/01/2025\n")
    done = run(command, "--tz", "-05:00", *(["--format", "json"] if command == "reconcile" else []), str(log))
    assert done.returncode == 0, done.stderr
    if command == "parse":
        assert json.loads(done.stdout)["CURRENT_TIMESTAMP"] == "2025-01-01 12:00:00.000000-05:00"
    else:
        assert json.loads(done.stdout)["transactions"]["succeeded"] == 1
    after_dashes = run("parse", "--", "--tz", "-05:00")  # after `--`, nothing is a flag: two inputs
    assert after_dashes.returncode == 2
    assert b"irs-grammar: --tz: No such file or directory" in after_dashes.stderr


# -- `parse -o`: a temporary file of its own, renamed over a regular file only when complete ------------

DAY = CORPUS / "logs/both-kinds.log"


def parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_table(path).num_rows)


@pytest.mark.parametrize("kind", ["FIFO", "symbolic link", "directory", "character device"])
def test_o_never_replaces_what_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("mine", encoding="utf-8")
    target = tmp_path / "out.parquet"
    if kind == "FIFO":
        os.mkfifo(target)
    elif kind == "symbolic link":
        target.symlink_to(victim)
    elif kind == "directory":
        target.mkdir()
    else:
        target = Path("/dev/null")  # refused before anything is opened, written or renamed
    before = os.lstat(target)
    done = run("parse", "--format", "parquet", "-o", str(target), DAY)
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        f"irs-grammar: {target}: is a {kind}; -o writes a regular file only (and replaces one)"
    )
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino, after.st_dev) == (before.st_mode, before.st_ino, before.st_dev)
    assert victim.read_text(encoding="utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_o_deletes_no_file_it_did_not_make_and_names_the_users_path(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    mine = tmp_path / "out.parquet.partial"  # 0.2.0's fixed temporary name: a user's file here
    mine.write_text("keep me", encoding="utf-8")
    assert run("parse", "--format", "parquet", "-o", str(out), DAY).returncode == 1  # one invalid line
    assert parquet_rows(out) == 12
    assert mine.read_text(encoding="utf-8") == "keep me"
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~current_umask()  # not mkstemp's 0600
    missing = tmp_path / "no-such-folder" / "out.parquet"
    done = run("parse", "--format", "parquet", "-o", str(missing), DAY)
    assert done.returncode == 2
    assert one_line(done.stderr) == f"irs-grammar: {missing}: No such file or directory"


def current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def test_o_keeps_the_old_output_when_an_input_fails_part_way(tmp_path: Path, big_gz: Path) -> None:
    out = tmp_path / "out.parquet"
    assert run("parse", "--format", "parquet", "-o", str(out), DAY).returncode == 1
    before = out.read_bytes()
    broken = tmp_path / "broken.log.gz"
    broken.write_bytes(big_gz.read_bytes()[:-200])  # truncated
    done = run("parse", "--format", "parquet", "-o", str(out), DAY, broken)
    assert done.returncode == 2
    assert last_line(done.stderr) == (
        f"irs-grammar: {broken}: the gzip file is truncated (it ends before its end marker)"
    )
    assert out.read_bytes() == before  # what was read is not renamed over the good output
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_two_runs_writing_one_output_leave_a_whole_file(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    log = tmp_path / "many.log"
    log.write_bytes(VALID * 30_000)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "irs_grammar", "parse", "--format", "parquet", "-o", str(out), str(log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    assert [r.wait(timeout=120) for r in runs] == [0, 0]
    assert parquet_rows(out) == 30_000
    assert {p.name for p in tmp_path.iterdir()} == {"out.parquet", "many.log"}  # no temporary file left


# -- write errors: one line, exit 2, nothing left behind; a state file is recognised before it is written --


@pytest.mark.parametrize(
    "args",
    [
        ["parse", str(DAY)],
        ["validate", str(DAY)],
        ["reconcile", str(CORPUS / "logs/buys-day1.log")],
        ["url", "--base", "https://h", "--product", "DN1", "--to", "0811", "--amount", "1", "--buy"],
    ],
    ids=lambda args: args[0],
)
def test_a_full_standard_output_is_one_line_and_exit_2(args: list[str]) -> None:
    env = {**os.environ, "IRS_CLIENT_ID": "c", "IRS_CLIENT_SECRET": "s", "IRS_IDRS": "i", "IRS_PIN": "p"}
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "irs_grammar", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
        )
    assert done.returncode == 2
    assert last_line(done.stderr) == "irs-grammar: standard output: No space left on device"


def sqlite_snapshot(path: Path) -> tuple[bytes, list[str]]:
    """The file's bytes and the files beside it (a journal or WAL left behind would show)."""
    return path.read_bytes(), sorted(p.name for p in path.parent.iterdir())


@pytest.mark.parametrize(
    ("made", "named"),
    [
        (
            ["CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('siti')"],
            "user_version 0, tables users",
        ),
        # version 1 as 0.2.0 wrote it, but not its one replies table: another program's all the same
        (
            ["CREATE TABLE orders (id INTEGER)", "CREATE TABLE users (name TEXT)", "PRAGMA user_version = 1"],
            "user_version 1, tables orders, users",
        ),
        (["PRAGMA user_version = 7"], "user_version 7, tables none"),
    ],
    ids=["a-table", "version-1-other-tables", "no-table"],
)
def test_another_programs_sqlite_file_is_refused_untouched(
    tmp_path: Path, made: list[str], named: str
) -> None:
    import sqlite3
    from contextlib import closing

    app = tmp_path / "app.db"
    with closing(sqlite3.connect(app)) as db:
        for statement in made:
            db.execute(statement)
        db.commit()
    before = sqlite_snapshot(app)
    done = run("reconcile", "--state", app, CORPUS / "logs/buys-day1.log")
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        f"irs-grammar: {app}: an SQLite file of another program (application_id 0, {named}), "
        "not a reconciliation state"
    )
    assert sqlite_snapshot(app) == before  # no table added, no user_version, no WAL for good


@pytest.mark.parametrize("target", ["/dev/null", "folder", "fifo"])
def test_a_state_that_is_not_a_regular_file_is_refused(tmp_path: Path, target: str) -> None:
    path = Path(target) if target.startswith("/") else tmp_path / target
    if target == "folder":
        path.mkdir()
    elif target == "fifo":
        os.mkfifo(path)
    kind = {"/dev/null": "a character device", "folder": "a directory", "fifo": "a FIFO"}[target]
    # What lies beside it before the run: /dev is shared, and a mutant of the state's checks (under
    # mutmut) once left a /dev/null-journal there; this run must add or touch nothing.
    beside = {ending: _stat_or_none(Path(f"{path}{ending}")) for ending in ("-journal", "-wal")}
    done = run("reconcile", "--state", path, CORPUS / "logs/buys-day1.log")
    assert done.returncode == 2
    assert one_line(done.stderr) == f"irs-grammar: {path}: is {kind}, not a reconciliation state"
    assert {ending: _stat_or_none(Path(f"{path}{ending}")) for ending in beside} == beside


def _stat_or_none(path: Path) -> tuple[int, int] | None:
    """A file's size and modification time in ns, or None when there is none."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_size, info.st_mtime_ns


def test_a_read_only_state_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    assert run("reconcile", "--state", state, CORPUS / "logs/buys-day1.log").returncode == 1
    state.chmod(0o444)
    before = sqlite_snapshot(state)
    done = run("reconcile", "--state", state, CORPUS / "logs/buys-day2.log")
    assert done.returncode == 2
    assert (
        one_line(done.stderr)
        == f"irs-grammar: {state}: is read-only; a run writes what it reads to its state"
    )
    assert sqlite_snapshot(state) == before


# The replies table of schema version 1 (0.2.0, 0.3.0), as it was written.
SCHEMA_1 = """
CREATE TABLE replies (
    path TEXT NOT NULL, digest BLOB NOT NULL, line INTEGER NOT NULL, moment TEXT NOT NULL,
    ref_id TEXT NOT NULL, product TEXT NOT NULL, status TEXT NOT NULL, trxid TEXT NOT NULL, serial TEXT,
    before INTEGER, deduction INTEGER, after INTEGER, refid TEXT,
    PRIMARY KEY (path, digest)
) WITHOUT ROWID
"""


def test_a_state_of_0_2_0_is_still_read_and_marked_as_ours(tmp_path: Path) -> None:
    import sqlite3
    from contextlib import closing

    from irs_grammar.state import APPLICATION_ID

    state = tmp_path / "state.sqlite"
    with closing(sqlite3.connect(state)) as db:  # as 0.2.0 made it: version 1, no application_id
        db.execute(SCHEMA_1)
        db.execute(
            "INSERT INTO replies VALUES ('old.log', x'00', 1, '2024-12-01T09:00:00', 'OLD1', 'DN1', "
            "'INPROGRESS', '5', NULL, NULL, NULL, NULL, NULL)"
        )
        db.execute("PRAGMA user_version = 1")
        db.commit()
    assert run("reconcile", "--state", state, CORPUS / "logs/buys-day1.log").returncode == 1
    with closing(sqlite3.connect(state)) as db:
        assert db.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
        assert db.execute("PRAGMA user_version").fetchone() == (2,)  # brought to version 2
        old = db.execute("SELECT ref_id, destination FROM replies WHERE path = 'old.log'").fetchall()
        assert old == [("OLD1", None)]  # kept, without the destination it never had
        assert db.execute("SELECT count(*) FROM replies WHERE destination IS NOT NULL").fetchone()[0] > 0


def test_a_full_disk_during_reconcile_is_one_line_exit_2_and_leaves_the_state_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3
    import tempfile

    from irs_grammar.cli import main

    (tmp_path / "kept").mkdir()
    state = tmp_path / "kept" / "state.sqlite"
    assert main(["reconcile", "--state", str(state), str(CORPUS / "logs/buys-day1.log")]) == 1
    before = sqlite_snapshot(state)
    big = tmp_path / "big.log"
    big.write_text(
        "".join(
            f"R#F{n} DN1. 0811 SUCCESS. SN: {n}. TRXID: {n}. @10:00:00.000000 01/12/2024\n"
            for n in range(20_000)
        ),
        encoding="utf-8",
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    real = sqlite3.connect

    def small_disk(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db: sqlite3.Connection = real(*args, **kwargs)
        db.execute("PRAGMA max_page_count = 40")  # a disk that fills after 160 KiB
        return db

    monkeypatch.setattr(sqlite3, "connect", small_disk)
    real_file = tempfile.TemporaryFile

    def small_file(*args: Any, **kwargs: Any) -> SmallFile:
        return SmallFile(real_file(*args, **kwargs))

    # The state file, then a run without one: its replies go to anonymous files (spool.Spool).
    monkeypatch.setattr(tempfile, "TemporaryFile", small_file)
    for where, full in ((state, "database or disk is full"), (None, "No space left on device")):
        capsys.readouterr()
        args = ["reconcile", *(["--state", str(where)] if where else []), str(big)]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        shown = where or f"a temporary file in {scratch}"
        assert err == f"irs-grammar: {shown}: {full}\n"
        assert list(scratch.iterdir()) == []  # no temporary file left
    monkeypatch.undo()
    assert sqlite_snapshot(state) == before


class SmallFile:
    """A temporary file on a disk that fills after 160 KiB."""

    def __init__(self, file: Any) -> None:
        self.file, self.written = file, 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.written > 160 * 1024:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return int(self.file.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)


# -- reconcile: a file named twice is read once; a name that is not UTF-8 is read and shown -----------


def test_a_log_given_twice_is_read_once_with_a_note(tmp_path: Path) -> None:
    day1 = tmp_path / "day1.log"
    day1.write_bytes((CORPUS / "logs/buys-day1.log").read_bytes())
    once = json.loads(run("reconcile", "--format", "json", day1).stdout)
    with open(day1, "rb") as stdin_file:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "irs_grammar",
                "reconcile",
                "--format",
                "json",
                str(day1),
                f"{tmp_path}/./day1.log",
                "-",
            ],
            stdin=stdin_file,
            capture_output=True,
            check=False,
        )
    assert done.returncode == 1
    assert json.loads(done.stdout) == once  # not twice the anomalies, the invalid lines, the places
    assert done.stderr.decode().splitlines() == [
        f"irs-grammar: {tmp_path}/./day1.log: the same file as {day1}; read once",
        f"irs-grammar: standard input: the same file as {day1}; read once",
    ]


def test_a_log_name_that_is_not_utf8_is_read_and_shown_escaped(tmp_path: Path) -> None:
    name = os.fsdecode(b"buys-\xff.log")
    log = tmp_path / name
    log.write_bytes((CORPUS / "logs/buys-day1.log").read_bytes())
    done = run("reconcile", log)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr.decode()
    first = done.stdout.decode().splitlines()[0]
    assert first == f"{tmp_path}/buys-\\xff.log:3: failed_with_deduction A2: FAILED, yet 10000 deducted"


# -- reconcile in bounded memory: anomalies and invalid lines go to its file like the transactions -----


def peak_rss_kib(*args: str) -> int:
    """The peak resident memory of the command run in a child, in KiB."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "irs_grammar", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


@pytest.mark.parametrize("what", ["stuck pending replies", "invalid lines"])
def test_reconcile_memory_stays_flat_with_many_anomalies_or_invalid_lines(tmp_path: Path, what: str) -> None:
    log = tmp_path / "many.log"
    with open(log, "w", encoding="utf-8") as out:
        if what == "invalid lines":  # short ones, refused at their first column: 0.2.0 kept each
            out.write("x\n" * 100_000)  # kept in a list, about 25 MB: past the margin
        else:  # each ref_id stuck, an anomaly each: 0.2.0 kept them all (280 MB for 400,000)
            for n in range(100_000):
                moment = f"{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000000"
                out.write(
                    f"R#P{n} DN1. 0811 INPROGRESS. TRXID: T{n}. @{moment} {1 + n // 86_400:02d}/12/2024\n"
                )
    reconciling = peak_rss_kib("reconcile", "--format", "json", str(log))
    validating = peak_rss_kib("validate", "--jobs", "1", "--quiet", str(log))
    assert reconciling < 1.5 * validating, (reconciling, validating)


# -- the kinds of file the tools refuse to write, and parse -o's temporary file ------------------------


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (stat.S_IFREG | 0o644, None),
        (stat.S_IFDIR | 0o755, "a directory"),
        (stat.S_IFIFO | 0o600, "a FIFO"),
        (stat.S_IFCHR | 0o666, "a character device"),
        (stat.S_IFBLK | 0o660, "a block device"),
        (stat.S_IFSOCK | 0o777, "a socket"),
        (stat.S_IFLNK | 0o777, "a symbolic link"),
        (0, "not a regular file"),  # no type this system knows
    ],
)
def test_a_file_that_is_not_regular_is_named_by_its_kind(mode: int, kind: str | None) -> None:
    from irs_grammar.files import not_regular

    assert not_regular(mode) == kind


def test_an_output_that_fails_while_written_is_named_and_leaves_nothing(tmp_path: Path) -> None:
    from irs_grammar.output import OutputError, replacing

    out = tmp_path / "out.parquet"
    with pytest.raises(OutputError) as failed, replacing(str(out)) as written:
        raise OSError(errno.ENOSPC, "No space left on device", written.temporary)
    assert str(failed.value) == f"{out}: No space left on device"
    with pytest.raises(LookupError), replacing(str(out)):
        raise LookupError("not the output's")  # passes through as it is
    with pytest.raises(OSError, match="an input's") as other, replacing(str(out)):
        raise OSError(errno.EIO, "an input's", str(tmp_path / "in.log"))
    assert not isinstance(other.value, OutputError)
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file
    beside_a_file = tmp_path / "a-file"
    beside_a_file.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError) as under_a_file, replacing(str(beside_a_file / "out.parquet")):
        pass
    assert str(under_a_file.value) == f"{beside_a_file / 'out.parquet'}: Not a directory"
