"""The grammar files and what is derived from them.

`grammar/*.lark` is the specification. Everything here is read from it: the
Lark parser, and the terminal patterns that the serializer and the fast path
use. The patterns come from `_terminals.py`, generated from the grammars by
`make terminals` and held equal to them by tests/test_grammar.py, so that a
valid line is read without importing Lark. The Lark parser is built on first
use, for a line the fast path refuses.
"""

from __future__ import annotations

import os
import re
from functools import cache
from typing import TYPE_CHECKING

from ._terminals import TERMINALS

if TYPE_CHECKING:
    from pathlib import Path

    from lark import Lark

INQUIRY_GRAMMAR = "inquiry.lark"
TRANSACTION_GRAMMAR = "transaction.lark"  # imports the shared pieces from inquiry.lark


def grammar_path(name: str = INQUIRY_GRAMMAR) -> Path:
    """Where a grammar file is read from.

    A wheel carries the files inside the package (`irs_grammar/grammar/`); a
    source checkout has them in the top-level `grammar/` folder only.
    """
    from pathlib import Path  # here, not at the top: a valid line is read without pathlib

    package = Path(__file__).resolve().parent.parent  # irs_grammar/
    shipped = package / "grammar" / name  # an absolute `name` (a kind registered elsewhere) stays itself
    return shipped if shipped.is_file() else package.parent / "grammar" / name


def grammar_text(name: str = INQUIRY_GRAMMAR) -> str:
    """The text of a grammar file, as shipped in the package."""
    return grammar_path(name).read_bytes().decode()  # UTF-8, whatever the locale says


def build_parser(name: str = INQUIRY_GRAMMAR, *, strict: bool = False) -> Lark:
    """A fresh LALR parser with the contextual lexer for one grammar file."""
    from lark import Lark  # imported on first use: `import irs_grammar` stays cheap

    return Lark(
        grammar_text(name),
        parser="lalr",
        lexer="contextual",
        strict=strict,
        maybe_placeholders=False,
        # A grammar registered from elsewhere may %import the shipped ones' pieces too.
        import_paths=[str(grammar_path(name).parent), str(grammar_path(INQUIRY_GRAMMAR).parent)],
    )


@cache
def parser_for(name: str) -> Lark:
    """The shared parser of one grammar file, built on first use."""
    return build_parser(name)


def inquiry_parser() -> Lark:
    """The shared inquiry parser."""
    return parser_for(INQUIRY_GRAMMAR)


def transaction_parser() -> Lark:
    """The shared transaction (buy reply) parser."""
    return parser_for(TRANSACTION_GRAMMAR)


def terminal_pattern(name: str, grammar: str = INQUIRY_GRAMMAR) -> str:
    """The regular expression of one terminal, as the lexer uses it.

    From _terminals.py for the grammars shipped here; a grammar registered
    from elsewhere (irs_grammar.wire.kinds.register) is asked of Lark, once.
    """
    terminals = TERMINALS.get(grammar)
    if terminals is None:
        terminals = _registered_terminals(grammar)
    try:
        return terminals[name]
    except KeyError:
        raise KeyError(f"{grammar} has no terminal {name}") from None


@cache
def _registered_terminals(grammar: str) -> dict[str, str]:
    return lark_terminal_patterns(grammar)


def lark_terminal_patterns(grammar: str) -> dict[str, str]:
    """Every terminal of a grammar as Lark builds it: what _terminals.py must hold."""
    return {t.name: t.pattern.to_regexp() for t in sorted(build_parser(grammar).terminals, key=_name)}


def _name(terminal: object) -> str:
    return str(getattr(terminal, "name", ""))


def terminals_module() -> str:
    """The text of _terminals.py, generated from the grammar files."""
    import json  # only `make terminals` and the tests write the module

    lines = [
        '"""The terminals of grammar/*.lark as regular expressions, as the Lark lexer uses them.',
        "",
        "Generated from the grammar files by `make terminals`; do not edit. tests/test_grammar.py",
        "holds it equal to what Lark builds, so a valid line is read without importing Lark.",
        '"""',
        "",
        "# ruff: noqa: E501",
        "",
        "TERMINALS: dict[str, dict[str, str]] = {",
    ]
    for grammar in (INQUIRY_GRAMMAR, TRANSACTION_GRAMMAR):
        lines.append(f"    {json.dumps(grammar)}: {{")
        lines += [
            f"        {json.dumps(k)}: {json.dumps(v)}," for k, v in lark_terminal_patterns(grammar).items()
        ]
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


# A str, not a Path: pathlib (with the urllib.parse and ipaddress it imports) would cost
# `import irs_grammar` about 4 ms, a twentieth of its cold start.
TERMINALS_MODULE = os.path.join(os.path.dirname(__file__), "_terminals.py")


def write_terminals_module(path: str | os.PathLike[str] = TERMINALS_MODULE) -> None:
    """`make terminals`: regenerate _terminals.py after a grammar changes."""
    from pathlib import Path

    Path(path).write_text(terminals_module(), encoding="utf-8")


@cache
def terminal_re(name: str, grammar: str = INQUIRY_GRAMMAR) -> re.Pattern[str]:
    """The compiled regular expression of one terminal."""
    return re.compile(terminal_pattern(name, grammar))


@cache
def timestamp_re() -> re.Pattern[str]:
    """`TIME DATE` with the two parts as groups, from the grammar's terminals."""
    return re.compile(f"({terminal_pattern('TIME')}) ({terminal_pattern('DATE')})")
