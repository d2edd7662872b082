"""Speed of irs-grammar, as ratios against baselines run in the same process.

    make bench            # or: python bench/bench.py [--lines N] [--log-lines N] [--readme]
    python bench/bench.py --only reconcile|cold|jobs|instructions

Machines are shared and noisy: every figure is the median of several runs, and
the ratios (measured side by side, on the same lines) are what to compare.
`--readme` writes the table into README.md between its bench markers. `--only
instructions` counts instructions with valgrind instead of timing: the same
figure on a busy machine.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import gzip
import itertools
import json
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TypeVar

import irs_grammar as irs
from irs_grammar.wire.grammar import INQUIRY_GRAMMAR, TRANSACTION_GRAMMAR, build_parser

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
# The baseline a hand-written integration would use: one regex pass pulling out the fields.
FLOOR = re.compile(r"([A-Z][A-Z0-9_]*): (.*?)(?=\. [A-Z][A-Z0-9_]*: |\. @)")
VALID_INQUIRY = "R#PLN20. PRICE: 20546. CUSTNUM: 01105691111. @12:32:55.821005 12/11/2024"
REFUSED_INQUIRY = "R#PLN20. PRICE: x. @12:32:55.821005 12/11/2024"
MIB = 1 << 20


def corpus_lines(kind: str, *names: str) -> list[str]:
    lines = []
    for name in names:
        with open(ROOT / "corpus" / kind / name, encoding="utf-8") as f:
            lines += [json.loads(line)["line"].rstrip("\r\n") for line in f]
    return lines


def in_a_file(line: str) -> bool:
    """A line a log file can hold: one line of UTF-8 text (no line break, no lone surrogate)."""
    return "\n" not in line and "\r" not in line and not any("\ud800" <= c <= "\udfff" for c in line)


def generated_lines(
    count: int, invalid_share: float = 0.0, seed: int = 1, kind: str = "inquiry"
) -> list[str]:
    """Realistic replies: the documented samples and our variants, shuffled; some invalid ones."""
    rng = random.Random(seed)
    valid = [line for line in corpus_lines(kind, "documented.jsonl", "variants.jsonl") if len(line) < 1000]
    invalid = [line for line in corpus_lines(kind, "invalid.jsonl") if in_a_file(line)]
    return [rng.choice(invalid) if rng.random() < invalid_share else rng.choice(valid) for _ in range(count)]


def mixed_log(count: int, transaction_share: float, seed: int) -> list[str]:
    """A log of both kinds, 1% invalid."""
    rng = random.Random(seed)
    inquiries = generated_lines(count, 0.01, seed)
    transactions = generated_lines(count, 0.01, seed + 1, "transaction")
    return [transactions[i] if rng.random() < transaction_share else inquiries[i] for i in range(count)]


def rate(function: Callable[[T], object], items: Sequence[T], repeats: int = 5) -> float:
    """Items per second through `function`, results dropped as a stream would: median of runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            function(item)
        times.append(time.perf_counter() - start)
    return len(items) / statistics.median(times)


def seconds(function: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with contextlib.suppress(irs.ParseError):
            function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_validate(path: Path, jobs: int) -> tuple[float, int]:
    """Wall seconds and peak memory (KiB, the largest process) of `irs-grammar validate`."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)\n"
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    command = [sys.executable, "-m", "irs_grammar", "validate", "--quiet", "--jobs", str(jobs), str(path)]
    runs = [
        subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
        for _ in range(3)
    ]
    wall = statistics.median(float(r.stdout.split()[0]) for r in runs)
    return wall, max(int(r.stdout.split()[1]) for r in runs)


def peak_kib(command: list[str], seconds: float | None = None, stdin: IO[bytes] | None = None) -> int:
    """Peak resident memory (KiB) of the command's largest process, by /usr/bin/time -v.

    With `seconds`, the command is sent SIGTERM after that long (for inputs that never end).
    """
    timed = subprocess.Popen(
        ["/usr/bin/time", "-v", *command],
        stdin=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if seconds is not None:
        time.sleep(seconds)
        subprocess.run(["pkill", "-TERM", "-P", str(timed.pid)], check=False)  # the command, not time
    _, report = timed.communicate()
    return max(int(line.split()[-1]) for line in report.splitlines() if "Maximum resident set size" in line)


def cpu_and_peak(commands: list[list[str]], repeats: int) -> list[tuple[float, int]]:
    """Median user+sys CPU seconds (their workers too) and the highest peak memory (KiB) of each
    command's runs, both from /usr/bin/time -v; the commands run by turns (see cpu_against)."""
    cpu: list[list[float]] = [[] for _ in commands]
    peaks: list[list[int]] = [[] for _ in commands]
    for _ in range(repeats):
        for at, command in enumerate(commands):
            timed = subprocess.run(
                ["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=False
            )
            figures = dict(
                line.strip().rsplit(": ", 1) for line in timed.stderr.splitlines() if line.startswith("\t")
            )
            cpu[at].append(float(figures["User time (seconds)"]) + float(figures["System time (seconds)"]))
            peaks[at].append(int(figures["Maximum resident set size (kbytes)"]))
    return [(statistics.median(times), max(highs)) for times, highs in zip(cpu, peaks, strict=True)]


def memory_under_faults(tmp: Path) -> list[tuple[str, str]]:
    """An endless line for 10 s, a gzip bomb of 1 GiB of one letter, 1 GB of 1 KB lines with --jobs 1, 2
    and 8. (/dev/zero itself is a binary file: refused at its first block.)"""
    validate = [sys.executable, "-m", "irs_grammar", "validate", "--quiet"]
    with open("/dev/zero", "rb") as zeros:
        endless = subprocess.Popen(["tr", "\\0", "x"], stdin=zeros, stdout=subprocess.PIPE)
    peak = peak_kib([*validate, "-"], 10.0, stdin=endless.stdout)
    endless.kill()
    endless.wait()
    rows = [("`tr '\\0' x < /dev/zero \\| validate -` (an endless line) for 10 s", f"{peak / 1024:.0f} MiB")]
    bomb = tmp / "bomb.log.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as packed:
        xs = b"x" * (1 << 20)
        for _ in range(1024):
            packed.write(xs)
    rows.append(
        (
            f"`validate` on a gzip bomb ({bomb.stat().st_size >> 10:,} KiB of gzip, 1 GiB of one letter)",
            f"{peak_kib([*validate, str(bomb)]) / 1024:.0f} MiB",
        )
    )
    bomb.unlink()
    big = tmp / "kb-lines.log"
    line = ("R#PLN20. PRICE: 20546. CUSTNAME: " + "A" * 950 + ". @12:32:55.821005 12/11/2024\n").encode()
    with open(big, "wb") as out:
        block = line * 1024
        for _ in range(1_000_000 // 1024):
            out.write(block)
    size = big.stat().st_size
    for jobs in ("1", "2", "8"):
        peak = peak_kib([*validate, "--jobs", jobs, str(big)])
        rows.append(
            (f"`validate --jobs {jobs}` on {size / 1e9:.1f} GB of 1 KB lines", f"{peak / 1024:.0f} MiB")
        )
    return rows


def _saldo(before: int) -> str:
    """SISA SALDO's amounts for a buy of 1.000 from `before`, grouped as on the wire."""
    return f"{before:,} - 1.000 = {before - 1000:,}".replace(",", ".")


# The logs of buy_logs(), by name: what each holds.
BUY_LOGS = {
    "clean": "buy replies (2 a ref_id)",
    "stuck": "stuck pending replies",
    "invalid": "invalid lines",
    "stuck30": "buy replies, 30 % of buys stuck pending",
    "anomalies10": "buy replies, 10 % of buys with an anomaly",
}


def buy_logs(tmp: Path, count: int) -> dict[str, Path]:
    """Logs of `count` lines: clean buys, stuck pending ones, invalid lines, and buys of which 30 %
    stay pending or 10 % have an anomaly (a second SUCCESS with another SN)."""
    logs = {name: tmp / f"{name}.log" for name in BUY_LOGS}
    balance = balance30 = 10**15
    with (
        open(logs["clean"], "w", encoding="utf-8") as clean,
        open(logs["stuck"], "w", encoding="utf-8") as stuck,
        open(logs["invalid"], "w", encoding="utf-8") as invalid,
        open(logs["stuck30"], "w", encoding="utf-8") as stuck30,
        open(logs["anomalies10"], "w", encoding="utf-8") as anomalies10,
    ):
        for i in range(count // 2):  # each ref_id: INPROGRESS, then SUCCESS with the next balance
            clock = f"{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.000000"
            moment = f"{clock} {1 + (i // 86400) % 28:02d}/12/2024"
            pending = f"R#R{i} DN1. 0811 INPROGRESS. TRXID: T{i}. @{moment}\n"
            amounts = _saldo(balance)
            success = f"R#R{i} DN1. 0811 SUCCESS. SN: S{i}. TRXID: T{i}. SISA SALDO: {amounts} @{moment}"
            success += f"&refid=R{i}\n"
            clean.write(pending + success)
            if i % 10 < 3:  # never charged: the balance of the next SUCCESS is the same
                stuck30.write(pending + pending)
            else:
                stuck30.write(pending + success.replace(amounts, _saldo(balance30)))
                balance30 -= 1000
            anomalies10.write(
                success + success.replace(f"SN: S{i}.", f"SN: X{i}.") if i % 10 == 0 else pending + success
            )
            balance -= 1000
            for j in (2 * i, 2 * i + 1):  # every one INPROGRESS for good: an anomaly each
                stuck.write(f"R#P{j} DN1. 0811 INPROGRESS. TRXID: T{j}. @{moment}\n")
                invalid.write(f"R#P{j} DN1. 0811 INPROGRESS. TRXID: T{j}. @{clock}\n")  # no date
    return logs


def cpu_once(command: list[str]) -> float:
    """User+sys CPU seconds of one run of a command's processes (its workers too), output dropped."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(usage.ru_utime + usage.ru_stime)\n"
    )
    probed = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True)
    return float(probed.stdout)


def cpu_against(command: list[str], base: list[str], repeats: int = 3) -> tuple[float, float]:
    """Median CPU seconds of a command and of its baseline, run by turns (baseline, command, ...):
    on a shared machine a slow minute then falls on both sides of the ratio, not on one."""
    spent, based = [], []
    for _ in range(repeats):
        based.append(cpu_once(base))
        spent.append(cpu_once(command))
    return statistics.median(spent), statistics.median(based)


# The logs the main jobs are measured on, by what they hold: each made of `count` lines when asked.
MIXED = "mixed replies (30% buys, 1% invalid)"
MAIN_LOGS: dict[str, Callable[[int], list[str]]] = {
    "buy replies": lambda count: generated_lines(count, 0.0, 3, "transaction"),
    "inquiry replies": lambda count: generated_lines(count, 0.0, 4),
    MIXED: lambda count: mixed_log(count, 0.3, seed=5),
}


def write_log(path: Path, lines: Sequence[str]) -> Path:
    """The lines written to `path`, a line each."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def parse_jobs(tmp: Path) -> dict[str, list[str]]:
    """The three ways `parse` writes, by name: its subcommand and options (a Parquet file in `tmp`)."""
    return {
        "parse": ["parse"],
        "parse --wire": ["parse", "--wire"],
        "parse --format parquet": ["parse", "--format", "parquet", "-o", str(tmp / "o.pq")],
    }


def one_process(arguments: list[str], log: Path, jobs: int = 1) -> list[str]:
    """The command line of a job (subcommand first) on a log, with `--jobs 1` unless told."""
    return [sys.executable, "-m", "irs_grammar", arguments[0], "--jobs", str(jobs), *arguments[1:], str(log)]


def jobs_against_validate(tmp: Path, count: int) -> list[tuple[str, str]]:
    """CPU per line of parse (typed, --wire, Parquet) and reconcile, over `validate --jobs 1`'s."""
    rows = []
    for what, make in MAIN_LOGS.items():
        log = write_log(tmp / "log.log", make(count))
        validate = one_process(["validate", "--quiet"], log)
        jobs = parse_jobs(tmp)
        if what == "buy replies":
            jobs["reconcile"] = ["reconcile"]
        for name, arguments in jobs.items():
            spent, base = cpu_against(one_process(arguments, log), validate)
            # The corpus's buy replies hold 43 ref_ids: a reconcile of few, long histories.
            of = f"{what} of the corpus (43 ref_ids)" if name == "reconcile" else what
            rows.append((f"`{name}` / `validate --jobs 1` CPU, {count:,} {of}", f"{spent / base:.2f}x"))
        log.unlink()
    return rows


def wall_seconds(command: list[str], repeats: int = 3) -> float:
    """Median wall seconds of a command, output dropped."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def parquet_memory_and_scaling(tmp: Path, count: int) -> list[tuple[str, str]]:
    """Peak memory of `parse` (JSON Lines, Parquet) against validate's, and the wall-time speed of
    `--jobs 2` over `--jobs 1` for parse (JSON Lines, Parquet): on two free cores only (reconcile's:
    reconcile_against_validate)."""
    rows = []
    mixed = write_log(tmp / "mixed.log", MAIN_LOGS[MIXED](count))
    writers = parse_jobs(tmp)
    validate = peak_kib(one_process(["validate", "--quiet"], mixed))
    parquet = peak_kib(one_process(writers["parse --format parquet"], mixed))
    # pyarrow as the command loads it (the system allocator, pandas refused: arrow_process), and
    # its first array (on which pyarrow would import pandas, installed here with `readers`).
    imported = peak_kib(
        [
            sys.executable,
            "-c",
            "from irs_grammar.arrow_process import arrow_without_pandas\n"
            "with arrow_without_pandas():\n"
            "    import pyarrow, pyarrow.parquet, pyarrow.compute, pyarrow.json; pyarrow.array(['x'])",
        ]
    )
    text = peak_kib(one_process(writers["parse"], mixed))
    rows.append(
        (
            f"`parse` (JSON Lines) peak memory, {count:,} mixed replies",
            f"{text / 1024:.0f} MiB ({text / validate:.2f}x validate's {validate / 1024:.0f} MiB)",
        )
    )
    rows.append(
        (
            f"`parse --format parquet` peak memory, {count:,} mixed replies",
            f"{parquet / 1024:.0f} MiB ({parquet / validate:.2f}x validate's {validate / 1024:.0f} MiB; "
            f"pyarrow's import and first array alone: {imported / 1024:.0f} MiB)",
        )
    )
    for name in ("parse", "parse --format parquet"):
        one, two = (wall_seconds(one_process(writers[name], mixed, jobs)) for jobs in (1, 2))
        rows.append((f"`{name}` `--jobs 2` / `--jobs 1` speed, {count:,} lines", f"{one / two:.2f}x"))
    return rows


def reconcile_alone(tmp: Path, count: int) -> list[tuple[str, str]]:
    """The reconcile rows only (`--only reconcile`): its CPU over validate's on the buy log of
    jobs_against_validate, then reconcile_against_validate."""
    log = write_log(tmp / "log.log", MAIN_LOGS["buy replies"](count))
    spent, base = cpu_against(one_process(["reconcile"], log), one_process(["validate", "--quiet"], log))
    log.unlink()
    of = "buy replies of the corpus (43 ref_ids)"
    row = (f"`reconcile` / `validate --jobs 1` CPU, {count:,} {of}", f"{spent / base:.2f}x")
    return [row, *reconcile_against_validate(tmp, count)]


def reconcile_against_validate(tmp: Path, count: int) -> list[tuple[str, str]]:
    """CPU (median of 3) and peak memory of `reconcile` over `validate --jobs 1`'s, on buy logs of
    `count` lines: clean, stuck, invalid, 30 % stuck pending, 10 % anomalies."""
    rows = []
    for name, log in buy_logs(tmp, count).items():
        validate = one_process(["validate", "--quiet"], log)
        reconcile = one_process(["reconcile"], log)
        repeats = 1 if name == "invalid" else 3  # a million lines through Lark: minutes a run
        (v_cpu, v_peak), (r_cpu, r_peak) = cpu_and_peak([validate, reconcile], repeats)
        what = BUY_LOGS[name]
        rows.append(
            (
                f"`reconcile` / `validate --jobs 1` CPU, {count:,} {what}",
                f"{r_cpu / v_cpu:.2f}x ({r_cpu:.1f} s)",
            )
        )
        if name == "clean":  # the workers read, then judge: on two free cores only
            one, two = (wall_seconds(one_process(["reconcile"], log, jobs)) for jobs in (1, 2))
            rows.append((f"`reconcile` `--jobs 2` / `--jobs 1` speed, {count:,} {what}", f"{one / two:.2f}x"))
        rows.append(
            (
                f"`reconcile` peak memory, {count:,} {what}",
                f"{r_peak / 1024:.0f} MiB ({r_peak / v_peak:.2f}x validate's {v_peak / 1024:.0f} MiB)",
            )
        )
        log.unlink()
    return rows


# Lines of each log run under valgrind, whose instructions cost about 50 times the CPU.
INSTRUCTION_LINES = 100_000


def instructions(command: list[str]) -> int:
    """Instructions one run of a command executes (its process: run with `--jobs 1`), counted by
    valgrind's callgrind: the same count on a busy machine as on a quiet one, where CPU seconds swing
    by a fifth. Python's hash seed is fixed so that two runs take the same paths."""
    counted = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=False,
    )
    found = re.search(r"^==\d+== Collected : (\d+)$", counted.stderr, re.MULTILINE)
    if found is None:
        raise SystemExit(f"valgrind counted nothing for {command}: {counted.stderr[-500:]}")
    return int(found[1])


def instructions_against_validate(tmp: Path, count: int) -> list[tuple[str, str]]:
    """Instructions per line of reconcile (clean, 30 % stuck, 10 % anomalies) and parse (typed,
    --wire, Parquet; buys, inquiries, mixed) over `validate --jobs 1`'s on the same log of `count`
    lines: the instructions its lines past the first tenth take (the whole log's less its first
    tenth's), so that what a run does once (start-up, Lark built at the first invalid line) counts
    for nothing."""
    reconcile = {"reconcile": ["reconcile"]}
    buys = buy_logs(tmp, count)
    jobs = [(buys[name], BUY_LOGS[name], reconcile) for name in ("clean", "stuck30", "anomalies10")]
    for at, (what, make) in enumerate(MAIN_LOGS.items()):
        jobs.append((write_log(tmp / f"main{at}.log", make(count)), what, parse_jobs(tmp)))
    runs: dict[tuple[str, Path], list[str]] = {}
    for log, _, commands in jobs:
        tenth = log.with_suffix(".tenth")
        with open(log, encoding="utf-8") as text:
            tenth.write_text("".join(itertools.islice(text, count // 10)), encoding="utf-8")
        for name, arguments in {"validate": ["validate", "--quiet"], **commands}.items():
            for path in (log, tenth):
                runs[(name, path)] = one_process(arguments, path)
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # one process each
        counted = dict(zip(runs, pool.map(instructions, runs.values()), strict=True))
    beyond = count - count // 10
    per_line = {
        (name, log): (counted[(name, log)] - counted[(name, log.with_suffix(".tenth"))]) / beyond
        for name, log in runs
        if log.suffix == ".log"
    }
    return [
        (
            f"`{name}` / `validate --jobs 1` instructions a line, {count:,} {what}",
            f"{per_line[(name, log)] / per_line[('validate', log)]:.2f}x",
        )
        for log, what, commands in jobs
        for name in commands
    ]


def cold(code: str, repeats: int = 7) -> float:
    """Median CPU seconds (user+sys) of a fresh `python -c code`: on a shared machine its wall
    time swings by a fifth between runs of the same code, its CPU time by a few percent."""
    times = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", code], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(times)


def cold_start(repeats: int = 7) -> list[tuple[str, str]]:
    """The cold-start rows: fresh interpreters, each figure the median of `repeats`."""
    nothing = cold("pass", repeats)
    only_lark = cold("import lark", repeats)
    valid_first = cold(f"import irs_grammar; irs_grammar.parse({VALID_INQUIRY!r})", repeats)
    refused_first = cold(
        f"import irs_grammar\ntry:\n    irs_grammar.parse({REFUSED_INQUIRY!r})\nexcept ValueError:\n    pass",
        repeats,
    )
    return [
        (
            "`import irs_grammar` + first valid `parse` / `import lark`",
            f"{(valid_first - nothing) / (only_lark - nothing):.2f}x",
        ),
        ("first valid `parse`, over `python -c pass`", f"+{(valid_first - nothing) * 1000:.0f} ms"),
        (
            "first refused `parse` (imports Lark, builds the parser)",
            f"+{(refused_first - nothing) * 1000:.0f} ms",
        ),
    ]


def _parse_or_error(line: str) -> object:
    try:
        return irs.parse_reply(line)
    except irs.ParseError as error:
        return error


def _show(measure: str, figure: str) -> None:
    print(f"  {measure:<58} {figure}")


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--lines", type=int, default=20_000, help="lines per in-process run")
    options.add_argument("--log-lines", type=int, default=1_000_000, help="lines of the validated log")
    options.add_argument("--readme", action="store_true", help="write the table into README.md")
    options.add_argument(
        "--only",
        choices=("reconcile", "cold", "jobs", "instructions"),
        help="only these rows (not with --readme); instructions: counted by valgrind, not timed",
    )
    options.add_argument(
        "--instruction-lines", type=int, default=INSTRUCTION_LINES, help="lines a log for --only instructions"
    )
    args = options.parse_args(argv)
    if args.only == "jobs":
        with tempfile.TemporaryDirectory() as tmp:
            for measure, figure in jobs_against_validate(Path(tmp), args.log_lines):
                _show(measure, figure)
            for measure, figure in parquet_memory_and_scaling(Path(tmp), args.log_lines):
                _show(measure, figure)
        return
    if args.only == "instructions":
        with tempfile.TemporaryDirectory() as tmp:
            for measure, figure in instructions_against_validate(Path(tmp), args.instruction_lines):
                _show(measure, figure)
        return
    if args.only == "cold":
        for measure, figure in cold_start(repeats=31):
            _show(measure, figure)
        return
    if args.only == "reconcile":
        with tempfile.TemporaryDirectory() as tmp:
            for measure, figure in reconcile_alone(Path(tmp), args.log_lines):
                _show(measure, figure)
        return
    rows: list[tuple[str, str]] = []

    def row(measure: str, figure: str) -> None:
        rows.append((measure, figure))
        _show(measure, figure)

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}")
    lines = generated_lines(args.lines)
    transactions = generated_lines(args.lines, kind="transaction")
    inquiry_lark, transaction_lark = build_parser(INQUIRY_GRAMMAR), build_parser(TRANSACTION_GRAMMAR)

    print(f"\nin one process, {len(lines):,} valid lines of each kind, median of 5 runs:")
    parse_rate = rate(irs.parse, lines)
    floor_rate = rate(FLOOR.findall, lines)
    lark_rate = rate(inquiry_lark.parse, lines, repeats=3)
    transaction_rate = rate(irs.parse_transaction, transactions)
    transaction_lark_rate = rate(transaction_lark.parse, transactions, repeats=3)
    serialize_rate = rate(irs.serialize, [irs.parse(line) for line in lines])
    row("`parse`, lines/s", f"{parse_rate:,.0f}")
    row("`parse` / bare-regex floor", f"{parse_rate / floor_rate:.2f}x (target >= 0.5)")
    row("`parse` / plain Lark LALR (tree only)", f"{parse_rate / lark_rate:.1f}x")
    row("`parse_transaction`, lines/s", f"{transaction_rate:,.0f}")
    row(
        "`parse_transaction` cost per line / `parse`", f"{parse_rate / transaction_rate:.2f}x (target <= 1.5)"
    )
    row("`parse_transaction` / plain Lark LALR", f"{transaction_rate / transaction_lark_rate:.1f}x")
    row("`serialize` / `parse`", f"{serialize_rate / parse_rate:.2f}x")

    print("\nhostile 1 MB lines (refused), median of 3:")
    fields = "A: x. " * 170_000  # 1 MB of complete fields, then no end
    inquiry_hostile = seconds(lambda: irs.parse("R#A. " + fields))
    transaction_hostile = seconds(lambda: irs.parse_transaction("R#1 A. 1 SUCCESS. " + fields))
    tenth = seconds(lambda: irs.parse("R#A. " + fields[: len(fields) // 10]))
    row("hostile 1 MB inquiry line", f"{inquiry_hostile * 1000:.0f} ms")
    row(
        "hostile 1 MB transaction line",
        f"{transaction_hostile * 1000:.0f} ms, {transaction_hostile / inquiry_hostile:.2f}x the inquiry's",
    )
    row("hostile inquiry line, 1 MB / 100 KB", f"{inquiry_hostile / tenth:.1f}x (linear: 10)")

    print("\ncold start, a fresh process each, median of 7:")
    for measure, figure in cold_start():
        row(measure, figure)

    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "replies.log"
        small = Path(tmp) / "small.log"
        log_lines = mixed_log(args.log_lines, 0.3, seed=2)
        write_log(log, log_lines)
        write_log(small, log_lines[:10_000])
        in_process = rate(_parse_or_error, log_lines[:200_000], repeats=3)
        one_seconds, one_peak = run_validate(log, jobs=1)
        two_seconds, two_peak = run_validate(log, jobs=2)
        small_seconds, small_peak = run_validate(small, jobs=1)
    # Per line, start-up excluded: the extra lines over the extra time of the big log.
    marginal_rate = (args.log_lines - 10_000) / (one_seconds - small_seconds)
    print(
        f"\n`irs-grammar validate`, {args.log_lines:,}-line log (30% transactions, 1% invalid), median of 3:"
    )
    row("`validate --jobs 1`, lines/s", f"{args.log_lines / one_seconds:,.0f}")
    row(
        "`validate` cost per line / `parse_reply` in process",
        f"{in_process / marginal_rate:.2f}x (target <= 1.2)",
    )
    row("`validate --jobs 2` / `--jobs 1` speed", f"{one_seconds / two_seconds:.2f}x")
    row(
        f"peak memory, {args.log_lines:,} lines vs 10,000 (`--jobs 1`)",
        f"{one_peak / 1024:.0f} MiB vs {small_peak / 1024:.0f} MiB ({two_peak / 1024:.0f} MiB with 2 jobs)",
    )

    print("\nthe main jobs vs validate --jobs 1, CPU of the same log, median of 3, by turns:")
    with tempfile.TemporaryDirectory() as tmp:
        for measure, figure in jobs_against_validate(Path(tmp), args.log_lines):
            row(measure, figure)
        for measure, figure in parquet_memory_and_scaling(Path(tmp), args.log_lines):
            row(measure, figure)

    print("\nreconcile vs validate --jobs 1, the same buy log: CPU (median of 3, by turns), peak memory:")
    with tempfile.TemporaryDirectory() as tmp:
        for measure, figure in reconcile_against_validate(Path(tmp), args.log_lines):
            row(measure, figure)

    print("\npeak memory under hostile input (/usr/bin/time -v, the largest process):")
    with tempfile.TemporaryDirectory() as tmp:
        for measure, figure in memory_under_faults(Path(tmp)):
            row(measure, figure)

    table = ["| measure | figure |", "|---|---|", *(f"| {m} | {f} |" for m, f in rows)]
    table.append(f"\nMeasured by `make bench` on {machine}, {time.strftime('%Y-%m-%d')}.")
    print("\n" + "\n".join(table))
    if args.readme:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        start, end = "<!-- bench -->\n", "<!-- end:bench -->"
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        readme.write_text(before + start + "\n".join(table) + "\n" + end + after, encoding="utf-8")


if __name__ == "__main__":
    main()
