"""Run the property tests with Hypothesis' statistics; report the share reaching the main assertion.

    python -m tests.reach_report [test files or pytest arguments]      # make reach

Fails (status 1) when a property test does not call tests.reach.reached(),
or reaches its main assertion in fewer than 80 % of its examples.
"""

from __future__ import annotations

import re
import subprocess
import sys

from tests.reach import REACHED

FLOOR = 80.0


def shares(statistics: str) -> dict[str, float | None]:
    """Per test: the share of generated examples that reached the main assertion (None: never said)."""
    found: dict[str, float | None] = {}
    for block in re.split(r"\n(?=tests/\S+::\S+:\n)", statistics):
        head = re.match(r"(tests/\S+::\S+):\n", block)
        if not head:
            continue
        generate = block.split("during generate phase", 1)[-1].split("during shrink phase", 1)[0]
        share = re.search(rf"\* (\d+(?:\.\d+)?)%, {re.escape(REACHED)}", generate)
        counts = re.search(r"(\d+) passing, (\d+) failing, and (\d+) invalid", generate)
        if share is None or counts is None:
            found[head.group(1)] = None
            continue
        # Hypothesis counts events over every generated case; invalid ones (a filter or assume()
        # said no) never ran the test body, so the share is taken over those that did. A property
        # whose cases are mostly invalid is reported as 0: it tests (almost) nothing.
        passing, failing, invalid = map(int, counts.groups())
        ran = passing + failing
        found[head.group(1)] = 0.0 if invalid > ran else float(share.group(1)) * (ran + invalid) / ran
    return found


def main(arguments: list[str]) -> int:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *(arguments or ["tests"]),
            "-q",
            "-p",
            "no:cacheprovider",
            "--hypothesis-show-statistics",
        ],
        capture_output=True,
        text=True,
    )
    if "Hypothesis Statistics" not in done.stdout:
        print(done.stdout[-3000:], done.stderr[-3000:])
        return 2
    found = shares(done.stdout.split("Hypothesis Statistics", 1)[1])
    failing = 0
    for test, share in sorted(found.items()):
        verdict = "never says" if share is None else f"{share:5.1f}%"
        low = share is None or share < FLOOR
        failing += low
        print(f"{'LOW ' if low else '    '}{verdict}  {test}")
    print(f"{len(found)} property tests; {failing} below {FLOOR:.0f}% (pytest exit status {done.returncode})")
    return 1 if failing or done.returncode else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
