"""InquiryResponse: typed views, canonical building, dictionaries."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

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
