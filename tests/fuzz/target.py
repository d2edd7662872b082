"""What the fuzzer checks on each input; plain Python, so pytest runs it too."""

from __future__ import annotations

import irs_grammar as irs
from irs_grammar.validation import check_batch


def check(data: bytes) -> None:
    """Arbitrary bytes, decoded, to parse() and to the validator.

    Fails (raises AssertionError or whatever escaped) on any exception other
    than ParseError, and on an accepted line that does not round-trip.
    """
    text = data.decode("utf-8", errors="surrogateescape")  # every byte string gives some text
    for read in (irs.parse, irs.parse_transaction, irs.parse_reply):
        try:
            reply = read(text)
        except irs.ParseError as error:
            assert 1 <= error.column <= len(text) + 1, (error.column, len(text))
            str(error)
        else:
            line = text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
            assert irs.serialize(reply) == line
            assert read(line) == reply
    lines = data.split(b"\n")
    batch = check_batch([line + b"\n" for line in lines], 1, extract=bool(data[:1]) and data[0] % 2 == 1)
    assert batch.summary.lines == len(lines)
    assert batch.summary.invalid == len(batch.errors)
    for result in irs.validate(lines):
        assert (result.reply is None) != (result.error is None) or result.blank
