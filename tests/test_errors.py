"""ParseError: what it carries and how it shows itself."""

from __future__ import annotations

import pickle
from datetime import timedelta, timezone

import pytest

import irs_grammar as irs
from irs_grammar.wire import reference
from irs_grammar.wire.kinds import INQUIRY
from irs_grammar.wire.reference import parse_with_lark
from irs_grammar.wire.timestamp import TimestampError


def error_of(line: str) -> irs.ParseError:
    with pytest.raises(irs.ParseError) as caught:
        irs.parse(line)
    return caught.value


def test_is_a_value_error_with_a_caret_under_the_column() -> None:
    error = error_of("R#PLN20. PRICE: 20546x. @12:00:00.000000 01/01/2025")
    assert isinstance(error, ValueError)
    assert error.column == 22
    assert error.expected == ('". "',)
    text, caret = str(error).splitlines()[1:]
    assert text.index("x") == caret.index("^")


def test_repr_and_args_hold_the_message_as_an_exception_s_do() -> None:
    # (what %r in a log line and error trackers show)
    error = error_of("R#PLN20. PRICE: 20546x. @12:00:00.000000 01/01/2025")
    assert error.args == ("expected \". \", found 'x'",)
    assert repr(error) == "ParseError('expected \". \", found \\'x\\'')"


def test_says_what_was_expected_in_readable_words() -> None:
    error = error_of("R#A. abc")
    assert set(error.expected) == {"a field name", '"@" and the timestamp'}
    assert error.message == "expected \"@\" and the timestamp or a field name, found 'a'"


def test_long_lines_are_trimmed_around_the_column() -> None:
    line = "R#A. CUSTNAME: " + "x" * 5000 + "\n" + "y" * 5000
    error = error_of(line)
    shown, caret = str(error).splitlines()[1:]
    assert len(shown) < 120
    assert shown.startswith("  …")
    assert shown.endswith("…")
    assert shown[caret.index("^") :].startswith("\\n")


def test_with_line_places_it_in_a_file() -> None:
    error = error_of("R#A").with_line(7)
    assert error.line == 7
    assert str(error).startswith("line 7, column 4:")


def test_survives_pickling() -> None:
    error = error_of("R#A. PRICE: x. @12:00:00.000000 01/01/2025")
    again = pickle.loads(pickle.dumps(error))
    assert (again.message, again.column, again.expected, again.field) == (
        error.message,
        error.column,
        error.expected,
        error.field,
    )


def test_non_str_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        irs.parse(b"R#A. @12:00:00.000000 01/01/2025")  # type: ignore[arg-type]


def test_excerpt_keeps_printable_unicode_and_escapes_control_characters() -> None:
    error = error_of("R#A. CUSTNAME: 王小明\tX\nY. @12:00:00.000000 01/01/2025")
    shown, caret = str(error).splitlines()[1:]
    assert "王小明\\tX\\nY" in shown
    # 王小明 takes six terminal cells, \t two: the caret stands under the \n.
    assert caret.index("^") == 2 + len("R#A. CUSTNAME: ") + 6 + 2 + 1


def test_type_errors_name_what_was_given() -> None:
    with pytest.raises(TypeError, match=r"^parse\(\) takes a str, not bytes$"):
        irs.parse(b"R#A")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^parse\(\) takes a str, not bytes$"):
        parse_with_lark(b"R#A")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^parse_transaction\(\) takes a str, not bytes$"):
        reference.parse_transaction_with_lark(b"R#1 A")  # type: ignore[arg-type]
    for given, named in ((b"R#1 A", "bytes"), (None, "NoneType")):
        with pytest.raises(TypeError, match=rf"^parse_reply\(\) takes a str, not {named}$"):
            irs.parse_reply(given)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"^serialize\(\) takes an InquiryResponse or a TransactionResponse, not str$"
    ):
        irs.serialize("R#A")  # type: ignore[arg-type]


def test_a_date_error_says_a_real_date_and_time_was_expected() -> None:
    error = error_of("R#A. @12:00:00.000000 30/02/2024")
    assert error.expected == ("a real date and time",)
    assert error.field == "CURRENT_TIMESTAMP"


def test_a_timestamp_error_reads_as_its_message() -> None:
    assert str(TimestampError(16, "day 30 does not exist in 02/2024")) == "day 30 does not exist in 02/2024"


def test_one_of_lists_names_in_plain_english() -> None:
    assert reference._one_of(("a",)) == "a"
    assert reference._one_of(("a", "b")) == "a or b"
    assert reference._one_of(("a", "b", "c")) == "a, b or c"


WIB = timezone(timedelta(hours=7))


def test_the_lark_path_names_the_zone_too() -> None:
    line = "R#A. PRICE: 1. @12:00:00.000000 01/01/2025"
    assert parse_with_lark(line, tz=WIB).timestamp.tzinfo is WIB
    # refuse() is the safety net for a valid line the fast path would not take.
    assert reference.refuse(INQUIRY, line, WIB) == irs.parse(line, tz=WIB)
    assert reference.refuse(INQUIRY, line, WIB).timestamp.tzinfo is WIB


# -- the excerpt, exactly: 40 characters each side of the column, counted by hand -----------------


def excerpt(text: str, column: int) -> str:
    return irs.ParseError("m", text=text, column=column).excerpt()


def test_a_short_line_is_shown_whole_with_the_caret_under_the_column() -> None:
    assert excerpt("R#A. X", 5) == "  R#A. X\n      ^"
    assert excerpt("R#A", 4) == "  R#A\n     ^"  # one past the end
    assert excerpt("R#A", 1) == "  R#A\n  ^"


def test_a_long_line_is_cut_forty_characters_each_side() -> None:
    text = "".join(chr(ord("a") + n % 26) for n in range(100))
    shown, caret = excerpt(text, 50).split("\n")
    assert shown == "  …" + text[9:89] + "…"  # columns 10 to 89: 40 before column 50, 40 from it
    assert caret == "  " + " " * 41 + "^"  # under text[49], after the "…"
    assert excerpt(text, 41).split("\n")[0] == "  " + text[:80] + "…"  # nothing cut before: no "…"
    assert excerpt(text, 42).split("\n")[0] == "  …" + text[1:81] + "…"
    assert excerpt(text, 61).split("\n")[0] == "  …" + text[20:100]  # the end reached: no "…"
    assert excerpt(text, 60).split("\n")[0] == "  …" + text[19:99] + "…"


def test_the_line_break_at_the_end_is_not_shown_but_a_lone_carriage_return_is() -> None:
    assert excerpt("R#A\r\n", 4) == "  R#A\n     ^"
    assert excerpt("R#A\n", 4) == "  R#A\n     ^"
    assert excerpt("R#A\r", 4) == "  R#A\\r\n     ^"


def test_the_caret_counts_terminal_cells() -> None:
    assert excerpt("\tX", 2) == "  \\tX\n    ^"  # \t is shown as two characters
    assert excerpt("王X", 2) == "  王X\n    ^"  # a wide character takes two cells
    assert excerpt("e\u0301X", 3) == "  e\u0301X\n   ^"  # a combining accent takes none
    assert excerpt("\x00X", 2) == "  \\x00X\n      ^"


def test_with_line_keeps_everything_else() -> None:
    error = irs.ParseError("m", text="R#A", column=4, expected=("x",), line=None, field="F")
    placed = error.with_line(9)
    assert (placed.message, placed.text, placed.column, placed.expected, placed.line, placed.field) == (
        "m",
        "R#A",
        4,
        ("x",),
        9,
        "F",
    )


def test_pickling_keeps_every_part() -> None:
    error = irs.ParseError("m", text="R#A", column=4, expected=("x", "y"), line=3, field="F")
    again = pickle.loads(pickle.dumps(error))
    assert (again.message, again.text, again.column, again.expected, again.line, again.field) == (
        "m",
        "R#A",
        4,
        ("x", "y"),
        3,
        "F",
    )
    assert str(again) == str(error) == "line 3, column 4 (F): m\n  R#A\n     ^"


def test_each_reader_names_itself_when_given_bytes() -> None:
    for read, name in (
        (irs.parse, "parse"),
        (irs.parse_transaction, "parse_transaction"),
        (irs.parse_reply, "parse_reply"),
    ):
        with pytest.raises(TypeError, match=rf"^{name}\(\) takes a str, not bytes$"):
            read(b"R#A. @12:00:00.000000 01/01/2025")  # type: ignore[arg-type]
