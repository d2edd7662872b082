"""The grammar file: it builds strictly, and what restates it is held to it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lark import Lark
from lark.load_grammar import load_grammar

import irs_grammar
from irs_grammar.errors import READABLE_TERMINALS
from irs_grammar.wire.grammar import (
    INQUIRY_GRAMMAR,
    TRANSACTION_GRAMMAR,
    build_parser,
    grammar_text,
    terminal_pattern,
    terminals_module,
)
from tests.reach import reached


def test_builds_in_strict_mode() -> None:
    # strict=True turns terminal collisions and shift/reduce conflicts, which
    # Lark otherwise resolves silently, into errors.
    parser = build_parser(INQUIRY_GRAMMAR, strict=True)
    assert isinstance(parser, Lark)


def test_strict_mode_would_catch_a_collision(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check above is not vacuous: a terminal that overlaps PRODUCT where
    # PRODUCT is expected (right after "R#") makes the strict build fail.
    broken = grammar_text().replace("start:", "start: _REPLY_MARK OTHER |", 1) + "\nOTHER: /[A-Z]+/\n"
    with pytest.raises(Exception, match="Collision between Terminals"):
        Lark(broken, parser="lalr", lexer="contextual", strict=True)
    # and build_parser hands its `strict` to Lark: the same grammar fails there, and only there
    from irs_grammar.wire import grammar

    monkeypatch.setattr(grammar, "grammar_text", lambda name: broken)
    assert isinstance(build_parser(), Lark)
    with pytest.raises(Exception, match="Collision between Terminals"):
        build_parser(strict=True)


def test_every_terminal_has_a_readable_name() -> None:
    names = {t.name for t in build_parser().terminals}
    assert names - READABLE_TERMINALS.keys() == set()


@cache
def _pieces(*names: str) -> dict[str, str]:
    """Patterns of terminals used only inside other terminals, as Lark builds them."""
    grammar, _ = load_grammar(grammar_text(), INQUIRY_GRAMMAR, [], False)  # type: ignore[no-untyped-call]
    terminals, _, _ = grammar.compile(["start"], set(names))
    return {t.name: t.pattern.to_regexp() for t in terminals if t.name in names}


def test_value_boundaries_restate_the_grammars_own_terminals() -> None:
    # A value stops at ". KEY: " or at the final ". @TIME DATE"; the lookaheads
    # of _FIELD_DOT and _REASON_DOT restate KEY, TIME, DATE and LINE_END, which
    # must stay those terminals. (Lark hands patterns over with escapes such
    # as \r already resolved.)
    key, time, date, line_end = (terminal_pattern(t) for t in ("KEY", "TIME", "DATE", "LINE_END"))
    final = f" @{time} {date}(?:{line_end})?\\Z"
    pieces = _pieces("_FIELD_DOT", "_REASON_DOT", "_PLAIN")
    assert pieces["_FIELD_DOT"] == f"\\.(?! {key}|{final})"
    assert pieces["_REASON_DOT"] == f"\\.(?!{final})"
    assert pieces["_PLAIN"] == "[^.\r\n\ud800-\udfff]"


@pytest.mark.parametrize(("terminal", "dot"), [("VALUE", "_FIELD_DOT"), ("REASON_VALUE", "_REASON_DOT")])
def test_a_value_is_written_as_the_unrolled_possessive_loop_of_its_pieces(terminal: str, dot: str) -> None:
    pieces = _pieces(dot, "_PLAIN")
    plain, dot_piece = pieces["_PLAIN"], pieces[dot]
    run = f"{plain}*+"
    assert terminal_pattern(terminal) == f"(?:{plain}|{dot_piece}){run}(?:{dot_piece}{run})*+"


_text_near_boundaries = st.lists(
    st.sampled_from(
        [".", ". ", " ", "a", "X", ": ", "PRICE", "@", "12:00:00.000000 01/01/2025", "\n", "\r\n"]
    ),
    max_size=12,
).map("".join)


@pytest.mark.parametrize(("terminal", "dot"), [("VALUE", "_FIELD_DOT"), ("REASON_VALUE", "_REASON_DOT")])
@given(text=_text_near_boundaries)
def test_a_value_is_the_unrolled_loop_of_its_pieces(terminal: str, dot: str, text: str) -> None:
    # Unrolled "(plain | dot)+": a first character, then plain runs each led by a dot.
    pieces = _pieces(dot, "_PLAIN")
    unrolled = re.compile(terminal_pattern(terminal))
    rolled = re.compile(f"(?:{pieces['_PLAIN']}|{pieces[dot]})+")
    reached()
    for start in range(len(text)):
        left, right = unrolled.match(text, start), rolled.match(text, start)
        assert (left and left.group()) == (right and right.group())


@pytest.mark.parametrize("terminal", ["VALUE", "REASON_VALUE"])
def test_a_value_excludes_exactly_the_line_end_characters(terminal: str) -> None:
    # Every other character, the other Unicode line breaks included, may stand inside a value.
    value = re.compile(terminal_pattern(terminal))
    candidates = [chr(c) for c in range(0x250)] + ["\u2028", "\u2029", "\ufeff", "\U0001f642"]
    refused = {c for c in candidates if not value.fullmatch(f"a{c}b")}
    assert refused == {"\r", "\n"}
    assert set(terminal_pattern("LINE_END")) - set("?") == refused  # the line end's own characters


def test_the_generated_terminals_are_the_grammars_own() -> None:
    # _terminals.py lets a valid line be read without Lark; `make terminals` writes it.
    committed = (Path(irs_grammar.__file__).parent / "wire" / "_terminals.py").read_text(encoding="utf-8")
    assert committed == terminals_module(), "run `make terminals` after changing a grammar"


def test_make_terminals_writes_the_committed_module(tmp_path: Path) -> None:
    from irs_grammar.wire.grammar import TERMINALS_MODULE, write_terminals_module

    assert Path(irs_grammar.__file__).parent / "wire" / "_terminals.py" == Path(TERMINALS_MODULE)
    written = tmp_path / "_terminals.py"
    write_terminals_module(written)
    assert written.read_bytes() == Path(TERMINALS_MODULE).read_bytes()


def test_a_valid_line_is_read_without_importing_lark() -> None:
    probe = (
        "import sys\n"
        "import irs_grammar as irs\n"
        "irs.parse('R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024')\n"
        "irs.parse_reply('R#7 DN1 FAILED. Nomor salah. TRXID: -. @10:54:14.776182 29/11/2024')\n"
        "irs.serialize(irs.parse_transaction('R#1 A. 2 SUCCESS. SN: 3. TRXID: 4. "
        "SISA SALDO: 1.000 - 0 = 1.000 @12:00:00.000000 01/01/2025&refid=1'))\n"
        "print('lark' in sys.modules)\n"
        "try:\n"
        "    irs.parse('R#PLN20. PRICE: x. @12:32:55.821005 12/11/2024')\n"
        "except irs.ParseError:\n"
        "    print('lark' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]


def test_the_layers_a_parse_does_not_need_are_imported_on_first_use() -> None:
    probe = (
        "import os, sys\n"
        # under mutmut every module of the package first imports its trampoline, which loads
        # pathlib and json: they are counted as loaded before, as a user's process would not have
        "if 'MUTANT_UNDER_TEST' in os.environ:\n"
        "    import mutmut.mutation.trampoline\n"
        "before = set(sys.modules)\n"
        "import irs_grammar as irs\n"
        "irs.parse('R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024')\n"
        # what pathlib would bring (urllib.parse, ipaddress) is a twentieth of the cold start
        "print(sorted({'pathlib', 'json', 'urllib.parse', 'ipaddress'} & (set(sys.modules) - before)))\n"
        "layers = ('irs_grammar.wire.request', 'irs_grammar.validation', 'irs_grammar.reconciliation',\n"
        "          'irs_grammar.purchase', 'irs_grammar.client', 'httpx',\n"
        "          'irs_grammar.wire.writers', 'irs_grammar.wire.trees')\n"
        "print(sorted(m for m in layers if m in sys.modules))\n"
        "import irs_grammar.reconciliation, irs_grammar.validation\n"  # a submodule first: no name clash
        "print(irs.reconcile.__name__, irs.validate.__name__, irs.METHOD)\n"
        "line = 'R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024'\n"
        "print(irs.serialize(irs.parse_transaction(line)))\n"
        "print(sorted(m for m in layers[-2:] if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        "[]",
        "[]",
        "reconcile validate POST",
        "R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024",  # the writers, loaded by the first serialize
        "['irs_grammar.wire.trees', 'irs_grammar.wire.writers']",
    ]


def test_a_terminal_without_a_name_is_named_by_nothing() -> None:
    from irs_grammar.wire.grammar import _name

    assert _name(object()) == ""
    assert _name(SimpleNamespace(name="TIME")) == "TIME"


def test_the_grammar_is_read_from_inside_the_package_when_it_ships_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from irs_grammar.wire import grammar

    # A wheel's layout, then a source checkout's: the module's own place decides.
    package = tmp_path / "site" / "irs_grammar"
    shipped = package / "grammar" / "inquiry.lark"
    shipped.parent.mkdir(parents=True)
    shipped.write_text("shipped", encoding="utf-8")
    monkeypatch.setattr(grammar, "__file__", str(package / "wire" / "grammar.py"))
    assert grammar.grammar_path() == shipped
    shipped.unlink()
    assert grammar.grammar_path() == tmp_path / "site" / "grammar" / "inquiry.lark"


def test_an_unknown_terminal_is_a_key_error_that_names_it_and_its_grammar() -> None:
    with pytest.raises(KeyError, match=r"^'transaction\.lark has no terminal PRICE_KEY'$"):
        terminal_pattern("PRICE_KEY", TRANSACTION_GRAMMAR)  # an inquiry's, not a transaction's


def test_the_grammars_are_read_as_utf_8_under_an_ascii_locale() -> None:
    # transaction.lark's comments hold non-ASCII text; the C locale without UTF-8 mode reads ASCII.
    probe = (
        "import locale\n"
        "import irs_grammar as irs\n"
        "print(locale.getpreferredencoding(False))\n"
        "try:\n"
        "    irs.parse_transaction('R#1 A. 2 SUCCESS. @12:00:00.000000 01/01/2025')\n"
        "except irs.ParseError as error:\n"
        "    print(error.column)\n"
    )
    env = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.split() == ["ANSI_X3.4-1968", "19"]  # refused by the grammar, at "@"
