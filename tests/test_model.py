"""InquiryResponse: typed views, canonical building, dictionaries."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import irs_grammar as irs
from irs_grammar import InquiryResponse

MOMENT = datetime(2024, 11, 12, 12, 32, 55, 821005)


def test_build_gives_the_canonical_order_whatever_the_argument_order() -> None:
    reply = InquiryResponse.build(
        reason="CUSTID not recognized",
        extra={"PERIODE": "12 BULAN"},
        power_capacity="R1/2200VA",
        customer_name="BAHARRUDIN1",
        customer_number="01105691111",
        price=20546,
        product_code="PLN20",
        timestamp=MOMENT,
    )
    assert [k for k, _ in reply.fields] == [
        "PRICE",
        "CUSTNUM",
        "CUSTNAME",
        "POWERCAPACITY",
        "PERIODE",
        "REASON",
    ]


def test_build_of_the_documented_success_sample_writes_it() -> None:
    reply = InquiryResponse.build(
        product_code="PLN20",
        price=20546,
        customer_number="01105691111",
        customer_name="BAHARRUDIN1",
        power_capacity="R1/2200VA",
        timestamp=MOMENT,
    )
    assert irs.serialize(reply) == (
        "R#PLN20. PRICE: 20546. CUSTNUM: 01105691111. CUSTNAME: BAHARRUDIN1. "
        "POWERCAPACITY: R1/2200VA. @12:32:55.821005 12/11/2024"
    )


@pytest.mark.parametrize("price", [-1, True, 1.5, "20546"])
def test_build_refuses_a_price_that_is_not_a_natural_int(price: object) -> None:
    with pytest.raises((TypeError, ValueError), match="PRICE"):
        InquiryResponse.build(price=price, timestamp=MOMENT)  # type: ignore[arg-type]


def test_build_refuses_a_documented_key_in_extra() -> None:
    with pytest.raises(ValueError, match="CUSTNAME"):
        InquiryResponse.build(extra={"CUSTNAME": "X"}, timestamp=MOMENT)


def test_reply_is_immutable_and_fields_are_tuples() -> None:
    reply = InquiryResponse("A", [["X", "1"]], MOMENT)  # type: ignore[arg-type]
    assert reply.fields == (("X", "1"),)
    with pytest.raises(dataclasses.FrozenInstanceError):
        reply.product_code = "B"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (("X", "1"), "each field must be a (key, value) pair, not 'X'"),
        ([("X",)], "each field must be a (key, value) pair of str, not ('X',)"),
        ([("X", 1)], "each field must be a (key, value) pair of str, not ('X', 1)"),
        ((("X", 1),), "each field must be a (key, value) pair of str, not ('X', 1)"),
        ((("X", "1", "2"),), "each field must be a (key, value) pair of str, not ('X', '1', '2')"),
        (["XY"], "each field must be a (key, value) pair, not 'XY'"),
    ],
)
def test_malformed_fields_are_a_type_error(fields: object, message: str) -> None:
    with pytest.raises(TypeError) as caught:
        InquiryResponse("A", fields, MOMENT)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_wrong_types_are_named() -> None:
    with pytest.raises(TypeError, match=r"^PRODUCT_CODE must be a str, not int$"):
        InquiryResponse(1, (), MOMENT)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^CURRENT_TIMESTAMP must be a datetime, not str$"):
        InquiryResponse("A", (), "2024-11-12")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^PRICE must be an int, not str$"):
        InquiryResponse.build(price="1", timestamp=MOMENT)  # type: ignore[arg-type]


def test_build_defaults_and_a_zero_price() -> None:
    reply = InquiryResponse.build(price=0, timestamp=MOMENT)
    assert irs.serialize(reply) == "R#. PRICE: 0. @12:32:55.821005 12/11/2024"


def test_typed_views_read_the_first_occurrence_and_fields_keep_all() -> None:
    reply = irs.parse("R#A. PRICE: 1. PRICE: 2. @00:00:00.000000 01/01/2025")
    assert reply.price == 1
    assert reply.fields == (("PRICE", "1"), ("PRICE", "2"))


def test_price_view_of_a_hand_built_non_digit_price_names_the_field() -> None:
    with pytest.raises(ValueError, match="PRICE"):
        _ = InquiryResponse("A", (("PRICE", "٢٠"),), MOMENT).price


def test_to_dict_refuses_what_a_dict_cannot_hold() -> None:
    repeated = irs.parse("R#A. PRICE: 1. PRICE: 2. @00:00:00.000000 01/01/2025")
    with pytest.raises(ValueError, match="PRICE: repeated"):
        repeated.to_dict()
    spelled_like_documented = irs.parse("R#A. CUSTOMER_NAME: x. @00:00:00.000000 01/01/2025")
    with pytest.raises(ValueError, match="CUSTOMER_NAME"):
        spelled_like_documented.to_dict()


def test_from_dict_errors_name_the_key() -> None:
    good = {"PRODUCT_CODE": "A", "CURRENT_TIMESTAMP": "00:00:00.000000 01/01/2025"}
    assert InquiryResponse.from_dict(good).fields == ()
    with pytest.raises(ValueError, match="CURRENT_TIMESTAMP: missing"):
        InquiryResponse.from_dict({"PRODUCT_CODE": "A"})
    with pytest.raises(ValueError, match="CURRENT_TIMESTAMP"):
        InquiryResponse.from_dict({**good, "CURRENT_TIMESTAMP": "00:00:00.000000 30/02/2024"})
    with pytest.raises(ValueError, match="CURRENT_TIMESTAMP"):
        InquiryResponse.from_dict({**good, "CURRENT_TIMESTAMP": "2025-01-01T00:00:00"})
    with pytest.raises(ValueError, match="CUSTNUM: a wire key; use its documented name CUSTOMER_NUMBER"):
        InquiryResponse.from_dict({**good, "CUSTNUM": "1"})
    with pytest.raises(TypeError, match=r"^PRICE must be a str, not int$"):
        InquiryResponse.from_dict({**good, "PRICE": 5})  # type: ignore[dict-item]
    wib = timezone(timedelta(hours=7))
    assert InquiryResponse.from_dict(good, tz=wib).timestamp.tzinfo is wib


def test_a_zone_can_be_named() -> None:
    wib = timezone(timedelta(hours=7))
    line = "R#A. @12:32:55.821005 12/11/2024"
    reply = irs.parse(line, tz=wib)
    assert reply.timestamp == datetime(2024, 11, 12, 5, 32, 55, 821005, tzinfo=UTC)
    assert irs.serialize(reply) == line
    assert irs.parse(line).timestamp.tzinfo is None


# -- a reply the fast path read lazily is the same value as one built at once ----------------------

LAZY_LINES = [
    "R#PLN20. PRICE: 20546. CUSTNUM: 01105691111. CUSTNAME: BAHARRUDIN1. POWERCAPACITY: R1/2200VA. "
    "@12:32:55.821005 12/11/2024",
    "R#. CUSTNUM: 01105601111. REASON: CUSTID not recognized. Biller throws exception. Err:5110. "
    "@12:32:08.889517 12/11/2024",
    "R#A. @00:00:00.000000 29/02/2024",
]


def lazy_and_eager(line: str, tz: timezone | None = None) -> tuple[InquiryResponse, InquiryResponse]:
    """The fast path's reply (nothing split or built yet) and the Lark reader's (built at once)."""
    from irs_grammar.wire.fastpath import fast_reader
    from irs_grammar.wire.reference import parse_with_lark

    lazy = fast_reader()(line, tz)
    assert lazy is not None
    assert lazy._wire is not None  # really unread: nothing has touched it yet
    return lazy, parse_with_lark(line, tz=tz)


@pytest.mark.parametrize("line", LAZY_LINES)
@pytest.mark.parametrize(
    "read",
    [
        lambda r: r.fields,
        lambda r: r.timestamp,
        repr,
        hash,
        lambda r: r.to_dict(),
        lambda r: r.ok,
        lambda r: r.reason,
        lambda r: r.error_code,
        lambda r: r.price,
        lambda r: irs.serialize(r),
        lambda r: dataclasses.astuple(r),
        lambda r: pickle.loads(pickle.dumps(r)),
        copy.copy,
        copy.deepcopy,
        lambda r: dataclasses.replace(r, product_code="X"),
    ],
)
def test_every_reading_of_a_lazy_reply_gives_what_an_eager_one_gives(
    line: str, read: Callable[[InquiryResponse], object]
) -> None:
    lazy, eager = lazy_and_eager(line)
    assert read(lazy) == read(eager)


@pytest.mark.parametrize("line", LAZY_LINES)
def test_a_lazy_reply_equals_compares_and_hashes_as_an_eager_one(line: str) -> None:
    lazy, eager = lazy_and_eager(line)
    assert lazy == eager
    lazy, eager = lazy_and_eager(line)
    assert eager == lazy  # from the other side, before anything was built
    lazy, eager = lazy_and_eager(line)
    assert {lazy: 1}[eager] == 1
    lazy, _ = lazy_and_eager(line)
    copied = pickle.loads(pickle.dumps(lazy))
    assert copied == eager
    assert copied._wire is None


@pytest.mark.parametrize("name", ["fields", "timestamp", "product_code"])
def test_a_lazy_reply_is_immutable_before_and_after_it_is_built(name: str) -> None:
    lazy, _ = lazy_and_eager(LAZY_LINES[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(lazy, name, ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(lazy, name)
    assert lazy.fields[0] == ("PRICE", "20546")
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(lazy, name, ())
    with pytest.raises(AttributeError, match="'InquiryResponse' object has no attribute 'nope'"):
        lazy.nope  # type: ignore[attr-defined]  # noqa: B018


def test_a_lazy_reply_keeps_its_zone() -> None:
    wib = timezone(timedelta(hours=7))
    lazy, eager = lazy_and_eager(LAZY_LINES[0], wib)
    assert lazy.timestamp.tzinfo is wib
    assert lazy == eager


def test_what_a_lazy_reply_holds_unread_cannot_be_changed() -> None:
    lazy, eager = lazy_and_eager(LAZY_LINES[0])
    # As for any name that is not a field of a frozen dataclass with slots (on 3.11 to 3.13).
    with pytest.raises(TypeError):
        lazy._wire = None  # type: ignore[misc]
    assert lazy == eager


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("validate", "validation"),
        ("reconcile", "reconciliation"),
        ("BuyRequest", "wire.request"),
        ("METHOD", "wire.request"),
    ],
)
def test_the_package_imports_its_heavier_names_on_first_use(
    name: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    import irs_grammar

    monkeypatch.delitem(vars(irs_grammar), name, raising=False)  # as before the first use
    first = getattr(irs_grammar, name)
    assert first is getattr(importlib.import_module(f"irs_grammar.{module}"), name)
    assert vars(irs_grammar)[name] is first  # kept: the next use is a plain attribute
    assert getattr(irs_grammar, name) is first


def test_a_name_the_package_has_not_is_the_usual_attribute_error() -> None:
    import irs_grammar

    with pytest.raises(AttributeError) as missing:
        irs_grammar.nope  # noqa: B018
    assert str(missing.value) == "module 'irs_grammar' has no attribute 'nope'"


def test_build_takes_the_largest_price() -> None:
    from datetime import datetime

    from irs_grammar.wire.reply import MAX_AMOUNT

    reply = InquiryResponse.build(price=MAX_AMOUNT, timestamp=datetime(2024, 1, 1))
    assert reply.price == MAX_AMOUNT == 10**18 - 1
    with pytest.raises(ValueError, match="PRICE"):
        InquiryResponse.build(price=MAX_AMOUNT + 1, timestamp=datetime(2024, 1, 1))


def test_replies_pickled_by_0_2_0_still_load() -> None:
    # Written by 0.2.0 (5920a4c), when the classes lived in irs_grammar.model and irs_grammar.transaction.
    from datetime import timedelta, timezone

    data = (Path(__file__).parent / "data" / "replies-0.2.0.pickle").read_bytes()
    assert b"irs_grammar.model" in data
    assert b"irs_grammar.transaction" in data
    replies = pickle.loads(data)
    lines = [
        "R#PLN20. PRICE: 20546. CUSTNUM: 01105691111. CUSTNAME: BAHARRUDIN1. POWERCAPACITY: R1/2200VA. "
        "@12:32:55.821005 12/11/2024",
        "R#. CUSTNUM: 01105601111. REASON: CUSTID not recognized. Biller throws exception. Err:5110. "
        "@12:32:08.889517 12/11/2024",
        "R#13574661 PLN50. 14444941364 SUCCESS. SN: 2514-1798-8056-2280-2824/HASMALINDA/R1M/900VA/33.7. "
        "TRXID: 20356853. SISA SALDO: 13.608.663 - 50.102 = 13.558.561 @09:46:23.848418 16/12/2024"
        "&refid=13574661",
        "R#7 DN1. 0817345544 GAGAL. TRXID: 9. @10:00:00.000000 01/12/2024",
        "R#x FAILED1 FAILED. Nomor tujuan salah. TRXID: -. @10:00:00.000000 01/12/2024",
    ]
    expected = [irs.parse_reply(line) for line in lines]
    expected.append(irs.parse_reply(lines[2], tz=timezone(timedelta(hours=7))))
    assert replies == expected
    assert [type(r) for r in replies] == [type(r) for r in expected]
    assert replies[2].status is irs.TransactionStatus.SUCCESS
    assert replies[2].balance == irs.Balance("13.608.663", "50.102", "13.558.561")
    assert replies[3].status == "GAGAL"
    assert replies[4].bare_details
    assert [irs.serialize(r) for r in replies] == [*lines, lines[2]]
