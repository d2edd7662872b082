"""The `irs-grammar` command, run for a test: in a subprocess, as users run it, or in this process.

In-process (IRS_GRAMMAR_CLI_IN_PROCESS=1, set by `make mutation`) runs cli.main with this
process's standard streams, environment and directory swapped for the call: mutmut sees only
what runs in its own process, so the command's mutants are tested this way. Either way the
result is a CompletedProcess with text output, so a test reads both the same.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

IN_PROCESS = "IRS_GRAMMAR_CLI_IN_PROCESS"


def run(
    *args: str,
    stdin: bytes = b"",
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`irs-grammar ARGS` with `stdin` as its input; `env` replaces the environment when given."""
    if os.environ.get(IN_PROCESS):
        return _in_process(list(args), stdin, env, cwd)
    return subprocess.run(
        [sys.executable, "-m", "irs_grammar", *args],
        input=stdin.decode("utf-8", errors="surrogateescape"),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        check=False,
        env=None if env is None else dict(env),
        cwd=cwd,
        timeout=300,
    )


def _in_process(
    args: list[str], stdin: bytes, env: Mapping[str, str] | None, cwd: Path | None
) -> subprocess.CompletedProcess[str]:
    from irs_grammar.cli import main

    data = io.BytesIO(stdin), io.BytesIO(), io.BytesIO()
    # standard input is buffered, as a process's is (gzip is recognised by peeking at it)
    buffers = io.BufferedReader(data[0]), data[1], data[2]
    streams = tuple(io.TextIOWrapper(b, encoding="utf-8", errors="surrogateescape") for b in buffers)
    with _swapped(streams, env, cwd):
        try:
            status = main(args)
        except SystemExit as e:  # argparse's usage errors
            status = e.code if isinstance(e.code, int) else 1
        for out in streams[1:]:
            out.flush()
    stdout, stderr = (d.getvalue().decode("utf-8", "surrogateescape") for d in data[1:])
    return subprocess.CompletedProcess(args, status, stdout, stderr)


@contextmanager
def _swapped(
    streams: tuple[io.TextIOWrapper, ...],
    env: Mapping[str, str] | None,
    cwd: Path | None,
) -> Iterator[None]:
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    if env is not None:
        # mutmut names the mutant under test in the environment: keep it
        kept = {k: v for k, v in os.environ.items() if k.startswith("MUTANT_UNDER_TEST")}
        os.environ.clear()
        os.environ.update({**env, **kept})
    if cwd is not None:
        os.chdir(cwd)
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
