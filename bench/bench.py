"""Speed of irs-grammar, as ratios against baselines run in the same process.

    make bench            # or: python bench/bench.py [--lines N] [--log-lines N]

Machines are shared and noisy: every figure is the median of several runs, and
the ratios (measured side by side, on the same lines) are what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from lark import Lark

import irs_grammar as irs
from irs_grammar.grammar import grammar_text

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
# The baseline a hand-written integration would use: one regex pass pulling out the fields.
FLOOR = re.compile(r"([A-Z][A-Z0-9_]*): (.*?)(?=\. [A-Z][A-Z0-9_]*: |\. @)")


def corpus_lines(name: str) -> list[str]:
    with open(ROOT / "corpus" / "inquiry" / name, encoding="utf-8") as f:
        return [json.loads(line)["line"].rstrip("\r\n") for line in f]


def generated_lines(count: int, invalid_share: float = 0.0, seed: int = 1) -> list[str]:
    """Realistic replies: the documented samples and our variants, shuffled; some invalid ones."""
    rng = random.Random(seed)
    valid = corpus_lines("documented.jsonl") + corpus_lines("variants.jsonl")
    invalid = [line for line in corpus_lines("invalid.jsonl") if "\n" not in line and "\r" not in line]
    return [rng.choice(invalid) if rng.random() < invalid_share else rng.choice(valid) for _ in range(count)]


def rate(function: Callable[[T], object], items: Sequence[T], repeats: int = 5) -> float:
    """Items per second through `function`, results dropped as a stream would: median of runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            function(item)
        times.append(time.perf_counter() - start)
    return len(items) / statistics.median(times)


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
    seconds = statistics.median(float(r.stdout.split()[0]) for r in runs)
    return seconds, max(int(r.stdout.split()[1]) for r in runs)


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--lines", type=int, default=20_000, help="lines per in-process run")
    options.add_argument("--log-lines", type=int, default=1_000_000, help="lines of the validated log")
    args = options.parse_args(argv)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    lines = generated_lines(args.lines)
    replies = [irs.parse(line) for line in lines]
    plain_lark = Lark(grammar_text(), parser="lalr", lexer="contextual")

    parse_rate = rate(irs.parse, lines)
    lark_rate = rate(plain_lark.parse, lines, repeats=3)
    floor_rate = rate(FLOOR.findall, lines)
    serialize_rate = rate(irs.serialize, replies)

    print(f"\nin one process, {len(lines):,} generated valid lines, median of 5 runs:")
    print(f"  parse                    {parse_rate:>12,.0f} lines/s")
    print(f"  plain Lark LALR (tree)   {lark_rate:>12,.0f} lines/s")
    print(f"  bare re extraction       {floor_rate:>12,.0f} lines/s  (the floor)")
    print(f"  serialize                {serialize_rate:>12,.0f} replies/s")
    print(f"  parse / Lark             {parse_rate / lark_rate:>12.1f}x   (target >= 10)")
    print(f"  parse / floor            {parse_rate / floor_rate:>12.2f}x   (target >= 0.3)")
    print(f"  serialize / parse        {serialize_rate / parse_rate:>12.2f}x   (target >= 1)")

    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "replies.log"
        small = Path(tmp) / "small.log"
        log_lines = generated_lines(args.log_lines, invalid_share=0.01, seed=2)
        log.write_text("\n".join(log_lines) + "\n", encoding="utf-8")
        small.write_text("\n".join(log_lines[:10_000]) + "\n", encoding="utf-8")
        in_process = rate(_parse_or_error, log_lines[:200_000], repeats=3)
        one_seconds, one_peak = run_validate(log, jobs=1)
        two_seconds, two_peak = run_validate(log, jobs=2)
        small_seconds, small_peak = run_validate(small, jobs=1)
    validate_rate = args.log_lines / one_seconds
    # Per line, start-up excluded: the extra lines over the extra time of the big log.
    marginal_rate = (args.log_lines - 10_000) / (one_seconds - small_seconds)
    print(f"\nirs-grammar validate, {args.log_lines:,}-line log (1% invalid), new process, median of 3:")
    print(f"  --jobs 1                 {validate_rate:>12,.0f} lines/s   peak memory {one_peak >> 10} MiB")
    two_rate = args.log_lines / two_seconds
    print(f"  --jobs 2                 {two_rate:>12,.0f} lines/s   peak memory {two_peak >> 10} MiB")
    print(f"  10,000-line log, --jobs 1{'':>12}             peak memory {small_peak >> 10} MiB")
    print(f"  parse alone, same lines  {in_process:>12,.0f} lines/s   (in process)")
    print(f"  validate cost / parse    {in_process / validate_rate:>12.2f}x   (whole run, start-up included)")
    print(f"  validate cost / parse    {in_process / marginal_rate:>12.2f}x   (per line; target <= 1.5)")
    print(f"  --jobs 2 speed-up        {one_seconds / two_seconds:>12.2f}x")


def _parse_or_error(line: str) -> object:
    try:
        return irs.parse(line)
    except irs.ParseError as error:
        return error


if __name__ == "__main__":
    main()
