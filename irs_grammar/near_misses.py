"""Targeted near misses: a valid line with one thing the format forbids.

Plain functions, no Hypothesis: `irs_grammar.strategies.near_misses()` draws
from them, and the fake endpoint (`irs_grammar.testing`) garbles a reply with
them. Some leave a line valid (there is no PRICE to spoil): whoever needs a
refused line checks it with the parser.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["BREAKS"]


def _body(make: Callable[[str], str]) -> Callable[[str], str]:
    """`make` applied to the line without its line ending, which is put back after."""

    def apply(line: str) -> str:
        body = line.rstrip("\r\n")
        return make(body) + line[len(body) :]

    return apply


# (what is wrong, how to make it so); a line ending, if any, is kept.
BREAKS: list[tuple[str, Callable[[str], str]]] = [
    ("a separator without its space", lambda line: line.replace(". ", ".", 1)),
    ("a separator without its dot", lambda line: line.replace(". ", " ", 1)),
    ("a non-ASCII digit in the time", lambda line: line.replace("@", "@\u0661", 1)),
    ("full-width digits in PRICE", lambda line: line.replace("PRICE: ", "PRICE: \uff12", 1)),
    ("an impossible date", _body(lambda line: line[:-10] + "30/02" + line[-5:])),
    ("a stray line break", lambda line: line.replace(": ", ": \n", 1)),
    ("text after the date", _body(lambda line: line + " OK")),
    ("a second line break at the end", _body(lambda line: line + "\n\n")),
    ("hour 24", _body(lambda line: line[:-26] + "24" + line[-24:])),
    ("no R#", lambda line: line[2:]),
]
