"""Summarise a libFuzzer log (what `make fuzz` writes to .fuzz.log): runs, time, coverage, findings."""

from __future__ import annotations

import re
import sys
from pathlib import Path


def summary(log: str) -> str:
    status = re.findall(
        r"^#(\d+)\s+(?:DONE|pulse|NEW|REDUCE|INITED)\s+cov: (\d+) ft: (\d+) corp: (\d+)", log, re.M
    )
    done = re.search(r"^Done (\d+) runs in (\d+) second", log, re.M)
    crashes = re.findall(r"Test unit written to (\S+)", log)
    if not status:
        return "no libFuzzer status line in the log"
    runs, cov, ft, corpus = status[-1]
    seconds = done.group(2) if done else "?"
    if done:
        runs = done.group(1)
    found = ", ".join(crashes) if crashes else "none"
    return (
        f"executions: {int(runs):,} in {seconds} s; coverage: {cov} edges, {ft} features; "
        f"corpus: {corpus} inputs; findings: {found}"
    )


if __name__ == "__main__":
    print(summary(Path(sys.argv[1]).read_text(encoding="utf-8", errors="replace")))
