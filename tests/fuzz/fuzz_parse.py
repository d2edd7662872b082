"""Coverage-guided fuzzing of parse() and the validator with atheris.

    make fuzz FUZZ_SECONDS=600          # needs the `fuzz` extra (atheris)

Seeds are the corpus lines; libFuzzer keeps what it learns in .fuzz-corpus/
and writes a crashing input as crash-<hash> in the current folder: turn each
into a corpus case (corpus/inquiry/*.jsonl) and into tests/fuzz/findings/.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["irs_grammar", "lark"]):
    from tests.fuzz.target import check


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
