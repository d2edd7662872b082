"""Targeted near misses: a valid line with one thing the format forbids.

Plain functions, no Hypothesis: `irs_grammar.strategies.near_misses()` draws
from them, and the fake endpoint (`irs_grammar.testing`) garbles a reply with
them. Some leave a line valid (there is no PRICE to spoil): whoever needs a
refused line checks it with the parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["BREAKS"]


def _on_body(make: Callable[[str], str], line: str) -> str:
    """`make` applied to the line without its line ending, which is put back after."""
    body = line.rstrip("\r\n")
    return make(body) + line[len(body) :]


# The timestamp of a reply of either kind: an inquiry ends with it, a buy reply may have `&refid=` after.
_MOMENT = re.compile(r"@([0-9]{2})(:[0-9]{2}:[0-9]{2}\.[0-9]{6}) ([0-9]{2}/[0-9]{2})/([0-9]{4})")


def _impossible_date(line: str) -> str:
    return _MOMENT.sub(lambda m: f"@{m[1]}{m[2]} 30/02/{m[4]}", line, count=1)


def _hour_24(line: str) -> str:
    return _MOMENT.sub(lambda m: f"@24{m[2]} {m[3]}/{m[4]}", line, count=1)


# (what is wrong, how to make it so), for a reply of either kind; a line ending, if any, is kept.
BREAKS: list[tuple[str, Callable[[str], str]]] = [
    ("a separator without its space", lambda line: line.replace(". ", ".", 1)),
    ("a separator without its dot", lambda line: line.replace(". ", " ", 1)),
    ("a non-ASCII digit in the time", lambda line: line.replace("@", "@\u0661", 1)),
    ("full-width digits in PRICE", lambda line: line.replace("PRICE: ", "PRICE: \uff12", 1)),
    ("an impossible date", _impossible_date),
    ("a stray line break", lambda line: line.replace(": ", ": \n", 1)),
    ("text after the date", lambda line: _on_body(lambda body: body + " OK", line)),
    ("a second line break at the end", lambda line: _on_body(lambda body: body + "\n\n", line)),
    ("hour 24", _hour_24),
    ("no R#", lambda line: line[2:]),
]
