"""serialize(): exact output, and refusal of what would read back differently."""

from __future__ import annotations

from datetime import datetime

import pytest

import irs_grammar as irs
from irs_grammar import InquiryResponse, SerializeError

MOMENT = datetime(2024, 11, 29, 10, 59, 32, 76824)


def reply(*fields: tuple[str, str], product: str = "A") -> InquiryResponse:
    return InquiryResponse(product, fields, MOMENT)


def test_every_date_part_is_zero_padded_years_below_1000_too() -> None:
    early = InquiryResponse("A", (), datetime(7, 2, 3, 4, 5, 6, 7))
    assert irs.serialize(early) == "R#A. @04:05:06.000007 03/02/0007"


@pytest.mark.parametrize(
    ("fields", "product", "field"),
    [
        ((("CUSTNAME", "BUDI\nSANTOSO"),), "A", "CUSTNAME"),
        ((("CUSTNAME", "BUDI\r"),), "A", "CUSTNAME"),
        ((("CUSTNAME", "A. CUSTNUM: 1"),), "A", "CUSTNAME"),
        ((("CUSTNAME", "x"), ("REASON", "r\nr")), "A", "REASON"),
        ((("PRICE", "20.546"),), "A", "PRICE"),
        ((("PRICE", "２０"),), "A", "PRICE"),
        ((("PRICE", ""),), "A", "PRICE"),
        ((("REASON", "r"), ("CUSTNUM", "1")), "A", "REASON"),
        ((("custname", "x"),), "A", "custname"),
        ((("CUST NAME", "x"),), "A", "CUST NAME"),
        ((("", "x"),), "A", "(empty key)"),
        ((), "PLN 20", "PRODUCT_CODE"),
        ((), "PLNé", "PRODUCT_CODE"),
    ],
)
def test_refuses_what_would_not_read_back_naming_the_field(
    fields: tuple[tuple[str, str], ...], product: str, field: str
) -> None:
    with pytest.raises(SerializeError) as caught:
        irs.serialize(reply(*fields, product=product))
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_reason_may_hold_what_other_values_may_not() -> None:
    line = irs.serialize(reply(("REASON", "Biller says. CODE: 14. Err:5110")))
    assert line == "R#A. REASON: Biller says. CODE: 14. Err:5110. @10:59:32.076824 29/11/2024"
    assert irs.parse(line).reason == "Biller says. CODE: 14. Err:5110"


def test_a_value_that_looks_like_the_timestamp_is_written_when_it_reads_back() -> None:
    value = "x. @12:00:00.000000 01/01/2024"
    line = irs.serialize(reply(("CUSTNAME", value)))
    assert irs.parse(line).customer_name == value


def test_serialize_takes_only_replies() -> None:
    with pytest.raises(TypeError):
        irs.serialize("R#A. @10:59:32.076824 29/11/2024")  # type: ignore[arg-type]
