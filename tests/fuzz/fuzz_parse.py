"""Coverage-guided fuzzing of both readers, the serializer and the validator with atheris.

    make fuzz FUZZ_SECONDS=600          # needs the `fuzz` extra (atheris)

Seeds are the corpus lines; libFuzzer keeps what it learns in .fuzz-corpus/
and writes a crashing input as crash-<hash> in the current folder: turn each
into a corpus case (corpus/*/invalid.jsonl or variants.jsonl) and into
tests/fuzz/findings/.
"""

from __future__ import annotations

import sys

import atheris

# Everything the check reaches is imported, and Lark's parsers built, inside the
# instrumented block: the package loads Lark only when a line is refused, which
# would otherwise happen after instrumentation ends and leave Lark unseen.
with atheris.instrument_imports(include=["irs_grammar", "lark"]):
    import lark
    import lark.parsers.lalr_interactive_parser
    import lark.parsers.lalr_parser

    from irs_grammar import grammar, reference, serializer, validation  # noqa: F401
    from tests.fuzz.target import check

    grammar.inquiry_parser()
    grammar.transaction_parser()


def main() -> None:
    assert lark.__version__
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
