"""The buy side: transaction replies, the dispatcher, and the buy request."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import pickle
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar import TransactionResponse, TransactionStatus, strategies
from irs_grammar.wire.grammar import TRANSACTION_GRAMMAR, build_parser, terminal_pattern
from irs_grammar.wire.pln import read_pln_token
from irs_grammar.wire.transaction import Balance, rupiah
from tests.command import run
from tests.corpus import CORPUS, case_id, load
from tests.reach import deep, reached

VALID = load("transaction/documented.jsonl") + load("transaction/variants.jsonl")
INVALID = load("transaction/invalid.jsonl")


def without_line_end(line: str) -> str:
    return line[:-2] if line.endswith("\r\n") else line.removesuffix("\n")


# -- the grammar ---------------------------------------------------------------------------


def test_transaction_grammar_builds_in_strict_mode() -> None:
    build_parser(TRANSACTION_GRAMMAR, strict=True)


def test_shared_pieces_are_the_inquiry_grammars_own() -> None:
    for name in ("TIME", "DATE", "KEY", "VALUE", "LINE_END", "_SEP"):
        assert terminal_pattern(name, TRANSACTION_GRAMMAR) == terminal_pattern(name)


def test_every_transaction_terminal_has_a_readable_name() -> None:
    names = {t.name for t in build_parser(TRANSACTION_GRAMMAR).terminals}
    assert names - irs.errors.READABLE_TERMINALS.keys() == set()


def test_reason_value_is_the_unrolled_possessive_loop_of_its_pieces() -> None:
    plain, dot = "[^.\r\n\ud800-\udfff]", "\\.(?! TRXID: )"
    assert terminal_pattern("REASON_VALUE", TRANSACTION_GRAMMAR) == (
        f"(?:{plain}|{dot}){plain}*+(?:{dot}{plain}*+)*+"
    )


# -- the corpus, written by hand ---------------------------------------------------------


def test_corpus_sizes() -> None:
    assert len(load("transaction/documented.jsonl")) == 5
    assert len(load("transaction/variants.jsonl")) >= 38
    assert len(INVALID) >= 30


@pytest.mark.parametrize("case", VALID, ids=case_id)
def test_valid_reply_reads_as_written_by_hand(case: dict[str, Any]) -> None:
    reply = irs.parse_transaction(case["line"])
    assert reply.to_dict() == case["expect"]
    views = case["views"]
    assert reply.status == views["status"]
    assert isinstance(reply.status, TransactionStatus) == (views["status"] in TransactionStatus.__members__)
    assert (reply.ok, reply.failed, reply.final, reply.pending, reply.transaction_id) == (
        views["ok"],
        views["failed"],
        views["final"],
        views["pending"],
        views["transaction_id"],
    )
    if "reason" in views:
        assert (reply.reason, reply.bare_details) == (views["reason"], views["bare_details"])
    balance = [reply.balance_before, reply.deduction, reply.balance_after] if reply.balance else None
    assert balance == views["balance"]
    assert reply.balance_adds_up == views["balance_adds_up"]
    token = reply.pln_token
    expected_token = views["pln_token"]
    if expected_token is None:
        assert token is None
    else:
        assert token == irs.PlnToken(**{**expected_token, "kwh": Decimal(expected_token["kwh"])})
    assert reply.timestamp.isoformat() == views["timestamp"]


@pytest.mark.parametrize("case", VALID, ids=case_id)
def test_valid_reply_round_trips(case: dict[str, Any]) -> None:
    reply = irs.parse_reply(case["line"])
    assert isinstance(reply, TransactionResponse)
    assert irs.serialize(reply) == without_line_end(case["line"])
    assert TransactionResponse.from_dict(reply.to_dict()) == reply


@pytest.mark.parametrize("case", INVALID, ids=case_id)
def test_invalid_reply_is_refused_at_its_column(case: dict[str, Any]) -> None:
    line, column, at = case["line"], case["column"], case["at"]
    assert line[column - 1 :].startswith(at) if at else column == len(line) + 1
    with pytest.raises(irs.ParseError) as caught:
        irs.parse_transaction(line)
    assert caught.value.column == column
    assert caught.value.field == case.get("field")
    if "message" in case:
        assert caught.value.message == case["message"]
    assert caught.value.expected
    assert caught.value.text == line


# -- the model ------------------------------------------------------------------------------

MOMENT = datetime(2024, 2, 20, 15, 25, 39, 484331)


def test_build_writes_amounts_with_dots_and_reason_last() -> None:
    reply = TransactionResponse.build(
        ref_id="359912451",
        product_code="MXD17",
        destination="48429495",
        status="SUCCESS",
        reason="late",
        serial_number="4779928",
        transaction_id="5a8ae07d",
        balance=(97411793, 18800, 97392993),
        timestamp=MOMENT,
        refid="359912451",
    )
    assert irs.serialize(reply) == (
        "R#359912451 MXD17. 48429495 SUCCESS. SN: 4779928. REASON: late. TRXID: 5a8ae07d. "
        "SISA SALDO: 97.411.793 - 18.800 = 97.392.993 @15:25:39.484331 20/02/2024&refid=359912451"
    )
    assert reply.status is TransactionStatus.SUCCESS


def test_without_transaction_id_the_wire_says_dash() -> None:
    reply = TransactionResponse.build(ref_id="1", product_code="A", status="FAILED", timestamp=MOMENT)
    assert reply.trxid == "-"
    assert reply.transaction_id is None
    assert irs.serialize(reply) == "R#1 A FAILED. TRXID: -. @15:25:39.484331 20/02/2024"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"fields": (("SN", "a. B: c"),)}, "SN"),
        ({"fields": (("PRICE", ". A: "),)}, "PRICE"),  # found by a property: PRICE is no digits-only key here
        ({"fields": (("REASON", "a. TRXID: b"),)}, "REASON"),
        ({"fields": (("REASON", "x"), ("SN", "1"))}, "REASON"),
        ({"fields": (("TRXID", "1"),)}, "TRXID"),
        ({"fields": (("SN", "a\nb"),)}, "SN"),
        ({"status": "Success"}, "STATUS"),
        ({"trxid": ""}, "TRANSACTION_ID"),
        ({"destination": "0812 345"}, "DESTINATION"),
        ({"ref_id": "1.5"}, "REF_ID"),
        ({"refid": ""}, "REFID"),
        ({"balance": ("1,000", "0", "1,000")}, "BALANCE"),
    ],
)
def test_serialize_refuses_what_would_not_read_back(changes: dict[str, Any], field: str) -> None:
    values: dict[str, Any] = {
        "ref_id": "1",
        "product_code": "A",
        "destination": "2",
        "status": "FAILED",
        "fields": (),
        "trxid": "-",
        "balance": None,
        "timestamp": MOMENT,
    }
    with pytest.raises(irs.SerializeError) as caught:
        irs.serialize(TransactionResponse(**{**values, **changes}))
    assert caught.value.field == field


def test_to_dict_refuses_what_a_dict_cannot_hold_and_from_dict_names_the_key() -> None:
    reply = irs.parse_transaction("R#1 A FAILED. SN: 1. SN: 2. TRXID: -. @15:25:39.484331 20/02/2024")
    with pytest.raises(ValueError, match="SN: repeated"):
        reply.to_dict()
    good = {"REF_ID": "1", "PRODUCT_CODE": "A", "STATUS": "FAILED", "TRANSACTION_ID": "-"}
    with pytest.raises(ValueError, match="CURRENT_TIMESTAMP: missing"):
        TransactionResponse.from_dict(good)
    good["CURRENT_TIMESTAMP"] = "15:25:39.484331 20/02/2024"
    with pytest.raises(ValueError, match="BALANCE_AFTER: missing"):
        TransactionResponse.from_dict({**good, "BALANCE_BEFORE": "1", "DEDUCTION": "0"})
    with pytest.raises(ValueError, match="SERIAL_NUMBER"):
        TransactionResponse.from_dict({**good, "SN": "1"})


def test_dispatcher_tells_the_two_kinds_apart() -> None:
    inquiry = irs.parse_reply("R#DN1. PRICE: 1178. @10:54:14.776182 29/11/2024")
    transaction = irs.parse_reply("R#7 DN1 FAILED. TRXID: -. @10:54:14.776182 29/11/2024")
    assert isinstance(inquiry, irs.InquiryResponse)
    assert isinstance(transaction, TransactionResponse)
    with pytest.raises(irs.ParseError) as caught:
        irs.parse_reply("R#7 DN1 FAILED. @10:54:14.776182 29/11/2024")
    assert "TRXID" in caught.value.message


# -- properties ----------------------------------------------------------------------------


@given(strategies.transaction_lines())
def test_serialize_of_parse_gives_back_the_line(line: str) -> None:
    reached()
    assert irs.serialize(irs.parse_transaction(line)) == without_line_end(line)


@given(strategies.transaction_responses())
def test_parse_of_serialize_gives_back_the_reply(reply: TransactionResponse) -> None:
    reached()
    assert irs.parse_transaction(irs.serialize(reply)) == reply


@given(strategies.transaction_responses())
def test_from_dict_inverts_to_dict(reply: TransactionResponse) -> None:
    try:
        record = reply.to_dict()
    except ValueError as error:
        # Only a repeated detail key or one spelled like a name of to_dict() is refused.
        reached()
        keys = [key for key, _ in reply.fields]
        names = {
            "REF_ID",
            "PRODUCT_CODE",
            "DESTINATION",
            "STATUS",
            "SERIAL_NUMBER",
            "DETAILS",
            "TRANSACTION_ID",
        }
        names |= {"BALANCE_BEFORE", "DEDUCTION", "BALANCE_AFTER", "CURRENT_TIMESTAMP", "REFID"}  # to_dict()'s
        assert len(set(keys)) < len(keys) or set(keys) & names, error
        return
    reached()
    assert TransactionResponse.from_dict(record) == reply


def _reply_or_error(line: str) -> object:
    try:
        reply = irs.parse_reply(line)
    except irs.ParseError as error:
        assert 1 <= error.column <= len(line) + 1
        if deep(error.column):  # a refusal at the reply mark says little
            reached()
        return error
    reached()
    return reply


_starts = st.sampled_from(["", "R#", "R#1 ", "R#1 A. 2 ", "R#1 A. 2 SUCCESS. ", "R#1 A FAILED. REASON: "])


@given(
    st.one_of(
        st.tuples(_starts, st.text()).map("".join),  # any text, mostly behind the starts of a reply
        strategies.transaction_lines().flatmap(strategies._mutations),
    )
)
def test_any_text_gives_a_reply_or_a_parse_error_and_accepted_ones_round_trip(line: str) -> None:
    reply = _reply_or_error(line)
    if isinstance(reply, (irs.InquiryResponse, TransactionResponse)):
        assert irs.serialize(reply) == without_line_end(line)


def _serialized_or_refused(fields: list[tuple[str, str]], status: str, trxid: str) -> str:
    """Serialize, and hold either answer to its promise: "written" reads back the same reply,
    "refused": the line written without checks does not read back as the reply."""
    reply = TransactionResponse("1", "A", None, status, tuple(fields), trxid, None, MOMENT)
    try:
        line = irs.serialize(reply)
    except irs.SerializeError:
        naive = f"R#1 A {status}. " + "".join(f"{k}: {v}. " for k, v in fields) + f"TRXID: {trxid}. @"
        naive += irs.serialize(TransactionResponse("1", "A", None, "S", (), "1", None, MOMENT)).split("@")[1]
        with contextlib.suppress(irs.ParseError):  # not a reply at all is fine too
            assert irs.parse_transaction(naive) != reply
        return "refused"
    assert irs.parse_transaction(line) == reply
    return "written"


@given(
    st.lists(
        st.tuples(st.sampled_from(["SN", "X_Y", "NOTE"]), st.text("abcXYZ019 -/*", max_size=12)),
        max_size=3,
    ),
    st.sampled_from(["SUCCESS", "FAILED", "INPROGRESS", "PENDING", "GAGAL"]),
    st.sampled_from(["-", "1", "5a8ae07d-c01c-48c1", "T_9"]),
)
def test_serialize_writes_what_reads_back_the_same(
    fields: list[tuple[str, str]], status: str, trxid: str
) -> None:
    if _serialized_or_refused(fields, status, trxid) == "written":
        reached()


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["SN", "REASON", "TRXID", "X", "x", "SN: A"]),
            st.text("a. :@TRXID\n", max_size=12),
        ),
        max_size=3,
    ),
    st.one_of(  # and one that cannot be written as it is
        st.tuples(st.sampled_from(["x", "SN: A", "TRXID", ""]), st.text("a. :@TRXID\n", max_size=12)),
        st.tuples(st.just("SN"), st.sampled_from(["a. TRXID: b", "a\nb", "a. X: b"])),
    ),
    st.sampled_from(["SUCCESS", "PENDING", "ok", ""]),
    st.sampled_from(["-", "1", "", "a b"]),
)
def test_serialize_refuses_what_would_read_back_otherwise(
    fields: list[tuple[str, str]], hostile: tuple[str, str], status: str, trxid: str
) -> None:
    if _serialized_or_refused([*fields, hostile], status, trxid) == "refused":
        reached()


# -- logs with both kinds ----------------------------------------------------------------------


def test_parse_and_validate_handle_logs_that_mix_both_kinds(tmp_path: Any) -> None:
    log = tmp_path / "mixed.log"
    inquiries = (CORPUS / "inquiry/documented.log").read_text(encoding="utf-8")
    transactions = "".join(case["line"] + "\n" for case in load("transaction/documented.jsonl"))
    log.write_text(inquiries + transactions, encoding="utf-8")
    parsed = run("parse", str(log))
    assert parsed.returncode == 0
    assert len(parsed.stdout.splitlines()) == 12
    checked = run("validate", str(log))
    assert checked.returncode == 0
    # 18.800 + 0 + 50.102 deducted by the documented samples that carry a balance.
    assert "transaction replies: 5 (SUCCESS 2, FAILED 2, INPROGRESS 1), deducted 68902" in checked.stdout
    assert "inquiry replies: 7 (succeeded 6, failed 1)" in checked.stdout


# -- the buy request ------------------------------------------------------------------------------


def test_buy_request_has_the_eight_parameters_and_its_own_path() -> None:
    request = irs.BuyRequest(
        "c1", "s3cret", "<IDRS>", "123456", "PLN20", "0817345544", 20500, ref_id="359912451"
    )
    assert request.to_url("https://b2b.example/klikoo-b2b") == (
        "https://b2b.example/klikoo-b2b/v1/irs/buy?client_id=c1&client_secret=s3cret&idrs=%3CIDRS%3E"
        "&pin=123456&product_code=PLN20&ref_id=359912451&to=0817345544&amount=20500"
    )
    assert irs.BuyRequest.from_url(request.to_url("https://b2b.example")) == request
    assert "s3cret" not in repr(request)
    assert "123456" not in repr(request)
    with pytest.raises(ValueError, match="path must end with /v1/irs/buy"):
        irs.BuyRequest.from_url(request.to_url("https://b2b.example").replace("/buy", "/inquiry"))


def test_cli_url_buy(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_request import CREDENTIALS, run_url

    args = ["url", "--buy", "--base", "https://b2b.example", "--product", "PLN20", "--to", "0817345544"]
    result = run_url([*args, "--amount", "20500", "--ref-id", "7"], CREDENTIALS)
    assert result.returncode == 0
    assert result.stdout.startswith("https://b2b.example/v1/irs/buy?client_id=")
    assert result.stdout.rstrip().endswith("&ref_id=7&to=0817345544&amount=20500")
    both = run_url([*args, "--amount", "1", "--selling-price", "2"], CREDENTIALS)
    assert (both.returncode, both.stderr) == (
        2,
        "irs-grammar: --selling-price is not a parameter of the buy request\n",
    )


# -- what mutation testing showed the tests above left loose --------------------------------

WIB = timezone(timedelta(hours=7))
LINE = "R#1 A. 2 SUCCESS. SN: 3. TRXID: 4. SISA SALDO: 1.000 - 0 = 1.000 @12:00:00.000000 01/01/2025&refid=9"


def test_zones_reach_transactions_by_every_road() -> None:
    assert irs.parse_transaction(LINE, tz=WIB).timestamp.tzinfo is WIB
    reply = irs.parse_reply(LINE, tz=WIB)
    assert reply.timestamp.tzinfo is WIB
    assert TransactionResponse.from_dict(reply.to_dict(), tz=WIB) == reply
    assert irs.parse_reply("R#A. @12:00:00.000000 01/01/2025", tz=WIB).timestamp.tzinfo is WIB


def test_fields_and_balance_given_loosely_are_normalized() -> None:
    reply = TransactionResponse(
        "1",
        "A",
        "2",
        "SUCCESS",
        [["SN", "3"]],  # type: ignore[arg-type]
        "4",
        ("1.000", "0", "1.000"),  # type: ignore[arg-type]
        MOMENT,
    )
    assert reply.fields == (("SN", "3"),)
    assert isinstance(reply.balance, irs.Balance)
    assert reply.balance.after == "1.000"
    assert reply == irs.parse_transaction(irs.serialize(reply))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ref_id": 1}, "ref_id must be a str, not int"),
        ({"trxid": None}, "trxid must be a str, not NoneType"),
        ({"timestamp": "2024"}, "timestamp must be a datetime, not str"),
        ({"fields": [("SN", 1)]}, "each field must be a (key, value) pair of str, not ('SN', 1)"),
    ],
)
def test_wrong_types_are_named(changes: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {
        "ref_id": "1",
        "product_code": "A",
        "destination": None,
        "status": "FAILED",
        "fields": (),
        "trxid": "-",
        "balance": None,
        "timestamp": MOMENT,
    }
    with pytest.raises(TypeError) as caught:
        TransactionResponse(**{**values, **changes})
    assert str(caught.value) == message
    with pytest.raises(TypeError, match=r"^parse_transaction\(\) takes a str, not bytes$"):
        irs.parse_transaction(b"R#1")  # type: ignore[arg-type]


def test_messages_of_the_transaction_serializer_and_model() -> None:
    base = TransactionResponse("1", "A", None, "FAILED", (), "-", None, MOMENT)
    cases = [
        (
            dataclasses.replace(base, fields=(("REASON", "a. TRXID: b"),)),
            "REASON: the reason would be read as 'a'",
        ),
        (
            dataclasses.replace(base, fields=(("REASON", "x"), ("SN", "1"))),
            "REASON: must be the last detail: it runs to '. TRXID: '",
        ),
        (
            dataclasses.replace(base, fields=(("TRXID", "1"),)),
            "TRXID: the transaction id is not a detail field",
        ),
        (
            dataclasses.replace(base, fields=(("", "1"),)),
            "(empty key): a field name is ASCII [A-Z][A-Z0-9_]*",
        ),
        (dataclasses.replace(base, product_code="A B"), "PRODUCT_CODE: 'A B' is not a product code"),
    ]
    for reply, message in cases:
        with pytest.raises(irs.SerializeError) as caught:
            irs.serialize(reply)
        assert str(caught.value) == message
    with pytest.raises(
        ValueError, match=r"^'1,000' is not an amount such as 97\.411\.793 \(at most 18 digits\)$"
    ):
        rupiah("1,000")
    long = "9" * 19 + "." * 30  # a hostile amount is shown by its first 40 characters only
    with pytest.raises(ValueError, match="is not an amount") as too_long:
        rupiah(long)
    assert str(too_long.value) == f"{long[:40]!r} is not an amount such as 97.411.793 (at most 18 digits)"
    spelled_like_a_name = dataclasses.replace(base, fields=(("STATUS", "x"),))
    with pytest.raises(ValueError, match=r"^STATUS: a field key spelled like one of to_dict\(\)'s own names"):
        spelled_like_a_name.to_dict()
    good = {**base.to_dict()}
    with pytest.raises(TypeError, match=r"^DEDUCTION must be a str, not int$"):
        TransactionResponse.from_dict({**good, "DEDUCTION": 0})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=r"^CURRENT_TIMESTAMP: '2024' is not 'HH:MM:SS.ffffff DD/MM/YYYY'$"):
        TransactionResponse.from_dict({**good, "CURRENT_TIMESTAMP": "2024"})
    with pytest.raises(ValueError, match=r"^CURRENT_TIMESTAMP: day 30 does not exist in 02/2024$"):
        TransactionResponse.from_dict({**good, "CURRENT_TIMESTAMP": "12:00:00.000000 30/02/2024"})


# -- every status classified; the unknown is never final ---------------------------------------

TS = "@12:00:00.000000 01/01/2025"


@given(
    st.one_of(
        st.sampled_from(["SUCCESS", "FAILED", "INPROGRESS", "PENDING", "GAGAL", "PROSES"]),
        st.from_regex(r"[A-Z][A-Z_]{0,11}", fullmatch=True),
    )
)
def test_only_success_and_failed_are_final_and_any_other_word_is_pending(word: str) -> None:
    reply = irs.parse_transaction(f"R#1 A. 2 {word}. TRXID: 3. {TS}")
    reached()
    assert reply.status == word  # kept as sent
    assert reply.ok is (word == "SUCCESS")
    assert reply.failed is (word == "FAILED")
    assert reply.final is (word in ("SUCCESS", "FAILED"))
    assert reply.pending is (word not in ("SUCCESS", "FAILED"))  # never both failed and pending


def test_unknown_words_are_counted_by_name_in_the_summary() -> None:
    lines = [f"R#{n} A. 2 {word}. TRXID: 3. {TS}" for n, word in enumerate(["GAGAL", "PENDING", "GAGAL"])]
    summary = irs.Summary()
    for result in irs.validate(lines):
        summary.add(result)
    assert summary.to_dict()["transactions"] == {"GAGAL": 2, "PENDING": 1}
    assert "transaction replies: 3 (GAGAL 2, PENDING 1)" in summary.text()


# -- a bare details part -------------------------------------------------------------------------


@given(strategies.field_values(), st.sampled_from(["FAILED", "GAGAL"]), st.booleans())
def test_a_bare_details_part_reads_back_byte_for_byte(text: str, status: str, with_destination: bool) -> None:
    reply = TransactionResponse.build(
        ref_id="7",
        product_code="A",
        status=status,
        reason=text,
        bare_details=True,
        timestamp=MOMENT,
        destination="0817" if with_destination else None,
    )
    try:
        line = irs.serialize(reply)
    except irs.SerializeError as error:
        # Only what cannot be read back bare is refused: empty, led by a field name or a time.
        event("refused")
        reached()
        assert error.field == "REASON"
        assert not text or re.match(r"[A-Z][A-Z0-9_]*: |@[0-9]{2}:[0-9]{2}:", text) or ". TRXID: " in text
        return
    event("written")
    reached()
    assert f" {status}. {text}. TRXID: -. " in line  # the text as it is, with no "REASON: " before it
    again = irs.parse_transaction(line)
    assert again == reply
    assert (again.reason, again.bare_details) == (text, True)
    assert again.to_dict()["DETAILS"] == text
    assert TransactionResponse.from_dict(again.to_dict()) == again


def test_a_bare_details_part_is_the_only_detail() -> None:
    with pytest.raises(ValueError, match="bare_details: a bare details part is the reply's only detail"):
        TransactionResponse("1", "A", None, "FAILED", (("SN", "1"),), "-", None, MOMENT, None, True)
    with pytest.raises(TypeError, match="bare_details must be a bool, not str"):
        TransactionResponse("1", "A", None, "FAILED", (), "-", None, MOMENT, None, "yes")  # type: ignore[arg-type]
    keyed = irs.parse_transaction(f"R#1 A FAILED. REASON: Nomor salah. TRXID: -. {TS}")
    bare = irs.parse_transaction(f"R#1 A FAILED. Nomor salah. TRXID: -. {TS}")
    assert keyed.reason == bare.reason == "Nomor salah"
    assert (keyed.bare_details, bare.bare_details) == (False, True)
    assert keyed != bare
    assert irs.serialize(bare) == f"R#1 A FAILED. Nomor salah. TRXID: -. {TS}"


# -- PLN tokens as suppliers write them ----------------------------------------------------------


@given(
    st.from_regex(r"[0-9]{20}", fullmatch=True),
    st.booleans(),
    st.from_regex(r"[A-Z][A-Z .]{0,12}", fullmatch=True),
    st.sampled_from(["R1", "R1M", "R2", "R3", "B1"]),
    st.integers(1, 999_999),
    st.sampled_from(["{}VA", "{} VA", "{:09d}", "{}"]),
    st.decimals(min_value=0, max_value=9999, places=2),
    st.sampled_from(["", " KWH", "KWH", " kWh"]),
)
def test_pln_token_reads_each_spelling_into_its_parts(
    digits: str, dashed: bool, name: str, tariff: str, va: int, power: str, kwh: Decimal, unit: str
) -> None:
    token = "-".join(digits[i : i + 4] for i in range(0, 20, 4)) if dashed else digits
    serial = f"{token}/{name}/{tariff}/{power.format(va)}/{kwh}{unit}"
    reached()
    assert read_pln_token(serial) == irs.PlnToken(digits, name, tariff, va, kwh)


@pytest.mark.parametrize(
    "serial",
    [
        "1111-2222-3333-4444-555/BUDI/R1/900VA/15.2",  # 19 digits
        "1111-2222-3333-4444-55555/BUDI/R1/900VA/15.2",  # 21
        "1111-2222-3333-4444-5555/BUDI/R1/900W/15.2",  # not VA
        "1111-2222-3333-4444-5555/BUDI/R1/900VA/15,2",  # a decimal comma
        "1111-2222-3333-4444-5555/BUDI/R1/900VA/15.2 KW",  # not kWh
        "1111-2222-3333-4444-5555/BUDI/R1/900VA",  # four parts
        "1111-2222-3333-4444-5555/BU/DI/R1/900VA/15.2",  # six
        "1111-2222-3333-4444-5555/BUDI//900VA/15.2",  # no tariff
        "1111-2222-3333-4444-5555/BUDI/R1/1234567890123456789VA/1",  # a power past 18 digits
        "１１１１-2222-3333-4444-5555/BUDI/R1/900VA/15.2",  # full-width digits
    ],
)
def test_any_other_shape_is_no_token(serial: str) -> None:
    assert read_pln_token(serial) is None


T = "1111-2222-3333-4444-5555"


@pytest.mark.parametrize(
    ("serial", "tariff", "power_va", "kwh"),
    [
        (f"{T}/BUDI/ R1 /900va/12.5kwh", "R1", 900, "12.5"),  # units in any case, spaces cut
        (f"{T}/BUDI/R1/ 1300 VA /12.5 KWH ", "R1", 1300, "12.5"),
        (f"{T}/BUDI/R1/0450/7", "R1", 450, "7"),  # no unit at all
        (f"{T}/BUDI/\tR1/900VA/1", "\tR1", 900, "1"),  # only spaces are cut: a tab stays
        (f"{T}/BUDI/XR1X/900VA/1", "XR1X", 900, "1"),  # and only spaces
    ],
)
def test_pln_token_spellings_written_by_hand(serial: str, tariff: str, power_va: int, kwh: str) -> None:
    assert read_pln_token(serial) == irs.PlnToken(
        "11112222333344445555", "BUDI", tariff, power_va, Decimal(kwh)
    )


@pytest.mark.parametrize(
    "serial",
    [
        f"{T}/BUDI/ /900VA/1",  # a tariff of spaces
        f"{T}/BUDI/R1/\t900VA/1",  # a tab is not a space
        f"{T}/BUDI/R1/900\tVA/1",
        f"{T}/BUDI/R1/900VA/1\tKWH",
        f"{T}/BUDI/R1/900V/1",
        f"{T}/BUDI/R1/X900VA/1",  # only spaces are cut around a number
        f"{T}/BUDI/R1/900XVA/1",
        f"{T}/BUDI/R1/900VAX/1",
    ],
)
def test_only_spaces_surround_the_numbers_of_a_pln_token(serial: str) -> None:
    assert read_pln_token(serial) is None


# -- a reply the fast path read lazily is the same value as one built at once ----------------------


def lazy_and_eager_transaction(line: str) -> tuple[TransactionResponse, TransactionResponse]:
    from irs_grammar.wire.fastpath import fast_transaction_reader
    from irs_grammar.wire.reference import parse_transaction_with_lark

    lazy = fast_transaction_reader()(line, None)
    assert lazy is not None
    assert lazy._wire is not None  # really unread: nothing has touched it yet
    return lazy, parse_transaction_with_lark(line)


@pytest.mark.parametrize("case", load("transaction/documented.jsonl"), ids=case_id)
@pytest.mark.parametrize(
    "read",
    [
        lambda r: r.fields,
        lambda r: r.status,
        lambda r: r.timestamp,
        repr,
        hash,
        lambda r: r.to_dict(),
        lambda r: (r.ok, r.failed, r.final, r.pending, r.deduction, r.pln_token, r.balance_adds_up),
        lambda r: irs.serialize(r),
        lambda r: dataclasses.astuple(r),
        lambda r: pickle.loads(pickle.dumps(r)),
        copy.deepcopy,
        lambda r: dataclasses.replace(r, ref_id="X"),
        lambda r: r == irs.parse_transaction(irs.serialize(r)),
    ],
)
def test_every_reading_of_a_lazy_transaction_gives_what_an_eager_one_gives(
    case: dict[str, Any], read: Callable[[TransactionResponse], object]
) -> None:
    lazy, eager = lazy_and_eager_transaction(case["line"])
    assert read(lazy) == read(eager)


def test_a_lazy_transaction_is_immutable_and_equal_from_both_sides() -> None:
    line = load("transaction/documented.jsonl")[0]["line"]
    lazy, eager = lazy_and_eager_transaction(line)
    assert eager == lazy
    lazy, eager = lazy_and_eager_transaction(line)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.status = "FAILED"  # type: ignore[misc]
    assert lazy.status is TransactionStatus.SUCCESS
    assert {lazy: 1}[eager] == 1
    with pytest.raises(AttributeError, match="'TransactionResponse' object has no attribute 'nope'"):
        lazy.nope  # type: ignore[attr-defined]  # noqa: B018


# -- fields given by hand are (key, value) pairs of str, as in InquiryResponse ----------------------------

_MOMENT = datetime(2024, 2, 20, 15, 25, 39)


@pytest.mark.parametrize("fields", [(("SN", 1),), (("SN", "1", "2"),), (("SN",),), ((1, "x"),)], ids=repr)
def test_fields_that_are_not_pairs_of_str_are_refused_by_both_models(fields: Any) -> None:
    # Until this commit TransactionResponse checked only `type(f) is tuple`: it kept (("SN", 1),),
    # to_dict() returned an int and serialize() raised a bare TypeError (issue 14).
    with pytest.raises(TypeError, match=r"\(key, value\) pair of str"):
        TransactionResponse("1", "MXD17", "0811", "SUCCESS", fields, "T", None, _MOMENT)
    with pytest.raises(TypeError, match=r"\(key, value\) pair of str"):
        irs.InquiryResponse("MXD17", fields, _MOMENT)


_AS_GIVEN: dict[str, Callable[[], Any]] = {
    "list": lambda: [("SN", "1")],
    "tuple of lists": lambda: (["SN", "1"],),
    "iterator": lambda: iter([("SN", "1")]),
}


@pytest.mark.parametrize("given", _AS_GIVEN.values(), ids=_AS_GIVEN.keys())
def test_fields_given_as_lists_become_a_tuple_of_tuples_in_both_models(given: Callable[[], Any]) -> None:
    for reply in (
        TransactionResponse("1", "MXD17", "0811", "SUCCESS", given(), "T", None, _MOMENT),
        irs.InquiryResponse("MXD17", given(), _MOMENT),
    ):
        assert reply.fields == (("SN", "1"),)
        assert type(reply.fields) is tuple
        assert type(reply.fields[0]) is tuple
        assert hash(reply) == hash(dataclasses.replace(reply, fields=(("SN", "1"),)))


class _Text(str):
    """A str subclass, as some frameworks hand over (and one whose str() would lie)."""

    def __str__(self) -> str:
        return "not the line"


WIB = timezone(timedelta(hours=7))
_SUCCESS = VALID[0]["line"]


def test_a_str_subclass_reads_as_its_text_and_keeps_the_zone() -> None:
    # Until this commit a str subclass skipped the fast path: parse_reply() sent a valid transaction
    # reply to the inquiry reader (a ParseError), and refuse(line, None) dropped `tz` (issue 14).
    inquiry = "R#PLN20. PRICE: 20546. @12:32:55.821005 12/11/2024"
    assert irs.parse(_Text(inquiry), tz=WIB).timestamp.tzinfo is WIB
    assert irs.parse_reply(_Text(inquiry), tz=WIB) == irs.parse(inquiry, tz=WIB)
    reply = irs.parse_reply(_Text(_SUCCESS), tz=WIB)
    assert reply == irs.parse_transaction(_SUCCESS, tz=WIB)
    assert reply.timestamp.tzinfo is WIB
    assert type(reply.ref_id) is str
    assert irs.parse_transaction(_Text(_SUCCESS), tz=WIB).timestamp.tzinfo is WIB
    with pytest.raises(irs.ParseError) as refused:
        irs.parse_reply(_Text(_SUCCESS + " junk"), tz=WIB)
    assert refused.value.column == len(_SUCCESS) + 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "REASON: a bare details part cannot be empty (write it with 'REASON: ')"),
        ("SN: 1", "REASON: a bare details part cannot begin with a field name or '@' and a time"),
        (
            "@12:00:00.000000 01/01/2025",
            "REASON: a bare details part cannot begin with a field name or '@' and a time",
        ),
        ("a. TRXID: 5", "REASON: the reason would be read as 'a'"),
        ("x\ny", "REASON: a value cannot hold a line break"),
        ("\n", "REASON: a value cannot hold a line break"),  # one character, and not a details part
        ("\r", "REASON: a value cannot hold a line break"),
    ],
)
def test_a_bare_details_part_that_would_not_read_back_is_refused_saying_why(text: str, message: str) -> None:
    reply = TransactionResponse.build(
        ref_id="1", product_code="A", status="FAILED", reason=text, bare_details=True, timestamp=MOMENT
    )
    with pytest.raises(irs.SerializeError) as refused:
        irs.serialize(reply)
    assert (refused.value.field, str(refused.value)) == ("REASON", message)


def test_from_dict_reads_every_name_after_details_too() -> None:
    data = {
        "REF_ID": "1",
        "PRODUCT_CODE": "A",
        "STATUS": "FAILED",
        "DETAILS": "Nomor salah",
        "SERIAL_NUMBER": "9",  # after DETAILS: still read, and a bare details part must stand alone
        "TRANSACTION_ID": "-",
        "CURRENT_TIMESTAMP": "12:00:00.000000 01/01/2025",
    }
    with pytest.raises(ValueError, match="bare_details") as refused:
        TransactionResponse.from_dict(data)
    assert str(refused.value) == "bare_details: a bare details part is the reply's only detail, its REASON"


def build_with_balance(balance: Any) -> TransactionResponse:
    return TransactionResponse.build(
        ref_id="1", product_code="A", status="SUCCESS", timestamp=MOMENT, balance=balance
    )


UP_TO_18_DIGITS = "999,999,999,999,999,999 (at most 18 digits)"


def test_build_takes_a_balance_of_three_whole_amounts_up_to_18_digits() -> None:
    largest = 10**18 - 1
    assert build_with_balance((largest, 0, largest)).balance == Balance(
        "999.999.999.999.999.999", "0", "999.999.999.999.999.999"
    )
    for balance, error, message in (
        ((1, 2), ValueError, "balance: three amounts, before, deduction and after"),
        ((1, 2, 3, 4), ValueError, "balance: three amounts, before, deduction and after"),
        ((True, 0, 1), TypeError, "BALANCE_BEFORE must be an int, not bool"),
        ((1, 1.5, 0), TypeError, "DEDUCTION must be an int, not float"),
        ((1, 0, "1"), TypeError, "BALANCE_AFTER must be an int, not str"),
        (
            (largest + 1, 0, 0),
            ValueError,
            "BALANCE_BEFORE must be 0 to 999,999,999,999,999,999 (at most 18 digits)",
        ),
        ((1, -1, 2), ValueError, "DEDUCTION must be 0 to 999,999,999,999,999,999 (at most 18 digits)"),
    ):
        with pytest.raises(error) as refused:
            build_with_balance(balance)
        assert str(refused.value) == message
