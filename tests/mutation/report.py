"""The score of the last `make mutation` run, and every mutant that was not killed.

    python -m tests.mutation.report            # the score, by module
    python -m tests.mutation.report --list     # and each survivor with its change
    python -m tests.mutation.report --reset-survivors  # unexplained survivors to be checked again

The last is for a resumed run (`make mutation-resume`): mutmut keeps a survivor's result even
when tests written since would kill it; reset, it is checked again with them.

A surviving mutant is either a gap (write the test) or equivalent (no test can
tell it from the code): the equivalent ones are listed, each with why, in
tests/mutation/equivalents.md; this report names the survivors that file does
not explain, and the entries it holds that no longer survive.

Score: mutants detected (a test failed, or the run timed out) over all mutants
made, "no tests" and unchecked ones counted as not detected. A timed-out mutant
that equivalents.md lists counts as a survivor: one that only makes the tests
slower (not wrong) can run past mutmut's time limit.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = ROOT / "mutants"
EQUIVALENTS = Path(__file__).with_name("equivalents.md")
# Sections of equivalents.md that list survivors which are not equivalent (a record, not a reason).
NOT_EQUIVALENT = ("Killed by tests written after", "Not killed", "Not judged again")
# "check was interrupted" is pytest's exit status 2: the mutant broke collection (an import).
# "segfault": the mutant crashed the tests' process (Arrow reading past a buffer it was misled about).
DETECTED = ("killed", "timeout", "caught by type check", "check was interrupted by user", "segfault")


def statuses() -> dict[str, str]:
    """Each mutant's status; a timeout listed in equivalents.md (only slower) is a survivor."""
    listed = explained()
    return {
        name: "survived" if status == "timeout" and name in listed else status
        for name, status in _mutmut_statuses().items()
    }


def _mutmut_statuses() -> dict[str, str]:
    found: dict[str, str] = {}
    for meta in sorted((MUTANTS / "irs_grammar").rglob("*.py.meta")):  # wire/, testing/ too
        for _ in range(50):  # a running mutmut rewrites the file: read it whole
            try:
                codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
                break
            except json.JSONDecodeError:
                time.sleep(0.1)
        found.update({name: status_by_exit_code[code] for name, code in codes.items()})
    return found


def explained() -> dict[str, str]:
    """Mutant name -> the reason (its section's heading) from equivalents.md."""
    reasons: dict[str, str] = {}
    reason = ""
    for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            reason = line[3:]
        elif (found := re.match(r"- `([^`]+)`", line)) and not reason.startswith(NOT_EQUIVALENT):
            reasons[found[1]] = reason
    return reasons


def reset(names: set[str]) -> None:
    """Mark these mutants unchecked in mutmut's results (run between runs, not during one)."""
    for meta in sorted((MUTANTS / "irs_grammar").rglob("*.py.meta")):  # wire/, testing/ too
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes = data["exit_code_by_key"]
        if here := names & codes.keys():
            codes.update(dict.fromkeys(here))
            meta.write_text(json.dumps(data, indent=4), encoding="utf-8")


def change(name: str) -> str:
    """The mutant's changed lines, `-` then `+`."""
    module = name.split(".x")[0]
    path = Path(*module.split(".")).with_suffix(".py")
    if module == "irs_grammar":
        path = Path("irs_grammar/__init__.py")
    diff = get_diff_for_mutant(name, path=path).splitlines()[2:]  # mutmut reads mutants/PATH
    return "\n".join(line for line in diff if line[:1] in "-+")


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    found = statuses()
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in found.items():
        by_module[name.split(".x")[0]][status] += 1
    total = len(found)
    detected = sum(status in DETECTED for status in found.values())
    print(f"{'module':<32} {'mutants':>8} {'detected':>9} {'survived':>9} {'no tests':>9} {'other':>6}")
    for module, counts in sorted(by_module.items()):
        n = sum(counts.values())
        caught = sum(counts[s] for s in DETECTED)
        other = n - caught - counts["survived"] - counts["no tests"]
        print(f"{module:<32} {n:>8} {caught:>9} {counts['survived']:>9} {counts['no tests']:>9} {other:>6}")
    reasons = explained()
    left = {name: status for name, status in found.items() if status not in (*DETECTED, "not checked")}
    unchecked = sum(status == "not checked" for status in found.values())
    equivalent = [name for name in left if name in reasons]
    print(f"\nscore: {detected:,} of {total:,} mutants detected = {100 * detected / total:.1f} %")
    print(f"not detected: {len(left)}, of which listed as equivalent: {len(equivalent)}")
    print(f"not checked: {unchecked}")
    if total - len(equivalent):
        print(f"score over the mutants not equivalent: {100 * detected / (total - len(equivalent)):.1f} %")
    unexplained = sorted(name for name in left if name not in reasons)
    stale = sorted(name for name in reasons if found.get(name) in DETECTED or name not in found)
    print(f"survivors not explained in {EQUIVALENTS.name}: {len(unexplained)}")
    print(f"entries there no longer surviving: {len(stale)}")
    if "--reset-survivors" in argv:
        reset(set(left) - set(equivalent))
        print(f"reset: {len(left) - len(equivalent)} survivors will be checked again by the next run")
        return 0
    if "--list" in argv:
        for name in unexplained:
            print(f"\n- `{name}` ({left[name]})\n{change(name)}")
        for name in stale:
            print(f"\nstale: {name}")
    return 0 if not unexplained and not stale and not unchecked else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
