"""The grammar file: it builds strictly, and what restates it is held to it."""

from __future__ import annotations

import pytest
from lark import Lark

from irs_grammar.errors import READABLE_TERMINALS
from irs_grammar.grammar import INQUIRY_GRAMMAR, build_parser, grammar_text, terminal_pattern


def test_builds_in_strict_mode() -> None:
    # strict=True turns terminal collisions and shift/reduce conflicts, which
    # Lark otherwise resolves silently, into errors.
    parser = build_parser(INQUIRY_GRAMMAR, strict=True)
    assert isinstance(parser, Lark)


def test_strict_mode_would_catch_a_collision() -> None:
    # The check above is not vacuous: a terminal that overlaps PRODUCT where
    # PRODUCT is expected (right after "R#") makes the strict build fail.
    broken = grammar_text().replace("start:", "start: _REPLY_MARK OTHER |", 1) + "\nOTHER: /[A-Z]+/\n"
    with pytest.raises(Exception, match="Collision between Terminals"):
        Lark(broken, parser="lalr", lexer="contextual", strict=True)


def test_every_terminal_has_a_readable_name() -> None:
    names = {t.name for t in build_parser().terminals}
    assert names - READABLE_TERMINALS.keys() == set()


def test_value_boundaries_restate_the_grammars_own_terminals() -> None:
    # VALUE stops at ". KEY: " or at the final ". @TIME DATE"; its lookahead
    # restates KEY, TIME, DATE and LINE_END, which must stay those terminals.
    # (Lark hands patterns over with escapes such as \r already resolved.)
    key, time, date, line_end = (terminal_pattern(t) for t in ("KEY", "TIME", "DATE", "LINE_END"))
    final = f" @{time} {date}(?:{line_end})?\\Z"
    value_char = "[^.\r\n]"
    assert terminal_pattern("VALUE") == f"(?:{value_char}|\\.(?! {key}|{final}))+"
    assert terminal_pattern("REASON_VALUE") == f"(?:{value_char}|\\.(?!{final}))+"


def test_a_value_excludes_exactly_the_line_end_characters() -> None:
    assert set(terminal_pattern("LINE_END")) - set("?") == {"\r", "\n"}
