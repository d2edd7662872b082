"""The README's examples, run exactly as printed.

Every ```python block written as a session (`>>>`) is a doctest, the blocks
sharing one namespace in order; the console examples (`    $ irs-grammar …`)
are run and their output compared; the Hypothesis example is run in fresh
interpreters, as a user's suite would run it (three times in CI;
`README_EXAMPLE_RUNS=20` for a longer record). The pytest example of the fake endpoint is
run by tests/test_testing.py.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.command import run

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def python_blocks() -> list[tuple[int, str]]:
    """(line number, text) of each ```python block."""
    return [
        (README[: m.start()].count("\n") + 2, m.group(1))
        for m in re.finditer(r"^```python\n(.*?)^```$", README, re.M | re.S)
    ]


def section(heading: str) -> str:
    return README.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_every_python_block_is_run_somewhere() -> None:
    blocks = python_blocks()
    sessions = [text for _, text in blocks if text.startswith(">>> ")]
    programs = [text for _, text in blocks if not text.startswith(">>> ")]
    assert len(sessions) == 12
    # The two programs: the Hypothesis example (below) and the fake endpoint's (test_testing.py).
    assert len(programs) == 2
    assert programs[0] in section("Test strategies for your own suite")
    assert programs[1] in section("Test your integration against a fake endpoint")


def test_the_sessions_pass_as_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The files the DuckDB/pandas session reads, made by the README's own commands.
    for name in ("replies.log", "replies.log.gz"):
        data = (ROOT / "corpus" / "logs" / "both-kinds.log").read_bytes()
        if name.endswith(".gz"):
            import gzip

            data = gzip.compress(data)
        (tmp_path / name).write_bytes(data)
    commands = re.findall(
        r"^    (irs-grammar parse [^\n#]*?)\s*(?:#[^\n]*)?$",
        section("Convert a log to JSON Lines or Parquet"),
        re.M,
    )
    assert len(commands) == 3
    for command in commands:
        run_shell(command, tmp_path)
    # The file the finance session reads, made by the README's own command from the corpus's buy logs.
    for day in ("buys-day1.log", "buys-day2.log"):
        (tmp_path / day).write_bytes((ROOT / "corpus" / "logs" / day).read_bytes())
    [rows] = re.findall(
        r"^    (irs-grammar reconcile --format jsonl [^\n]*)$", section("Reconcile buy logs"), re.M
    )
    run_shell(rows, tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    parser = doctest.DocTestParser()
    namespace: dict[str, object] = {}
    report: list[str] = []
    ran = 0
    for line, text in python_blocks():
        if not text.startswith(">>> "):
            continue
        test = parser.get_doctest(text, namespace, f"README.md:{line}", "README.md", line - 1)
        runner.run(test, out=report.append, clear_globs=False)
        namespace = test.globs  # a DocTest works on a copy: carry it to the next block
        ran += len(test.examples)
    assert runner.failures == 0, "".join(report)
    assert ran == 71  # every example of the twelve sessions


def run_shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A README command line (`irs-grammar ...`, maybe `> FILE`), run by tests/command.py in `cwd`."""
    before, _, target = command.partition(" > ")
    program, *args = shlex.split(before)
    assert program == "irs-grammar", command
    done = run(*args, cwd=cwd)
    if target:
        (cwd / target.strip()).write_text(done.stdout, encoding="utf-8")
        done.stdout = ""
    return done


CONSOLES = re.findall(r"^    \$ (irs-grammar .*)\n((?:    (?!\$ ).*\n)+)", README, re.M)


@pytest.mark.parametrize(("command", "printed"), CONSOLES, ids=[c for c, _ in CONSOLES])
def test_the_console_examples_print_what_is_shown(command: str, printed: str) -> None:
    done = run_shell(command, ROOT)
    shown = "".join(line[4:] + "\n" for line in printed.splitlines())
    assert done.stdout == shown


def test_there_are_two_console_examples() -> None:
    assert [c.split()[1] for c, _ in CONSOLES] == ["validate", "reconcile"]


@pytest.mark.main_python_only
def test_the_hypothesis_example_passes_in_fresh_interpreters(tmp_path: Path) -> None:
    # A fresh interpreter each run, Hypothesis' own defaults (deadline 200 ms, 100 examples), no
    # conftest of ours: what the first example of a user's suite meets, Lark's cold start included.
    program = next(text for _, text in python_blocks() if "from hypothesis import given" in text)
    (tmp_path / "example.py").write_text(program, encoding="utf-8")
    tests = re.findall(r"^def (test_\w+)", program, re.M)
    assert len(tests) == 3
    driver = "import example\n" + "".join(f"example.{name}()\n" for name in tests)
    # 3.5 s a run: three in CI (two with the quick profile); README_EXAMPLE_RUNS=20 for the record.
    runs = int(
        os.environ.get("README_EXAMPLE_RUNS", 2 if os.environ.get("HYPOTHESIS_PROFILE") == "quick" else 3)
    )
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_PROFILE"}
    failures = []
    for attempt in range(runs):
        shutil.rmtree(tmp_path / ".hypothesis", ignore_errors=True)  # no example database carried over
        done = subprocess.run(
            [sys.executable, "-c", driver], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
        )
        if done.returncode != 0:
            failures.append(f"run {attempt + 1}: {done.stderr[-2000:]}")
    assert failures == [], f"{len(failures)} of {runs} runs failed:\n" + "\n".join(failures)
