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
    ("fields", "product", "message"),
    [
        ((("CUSTNAME", "BUDI\nSANTOSO"),), "A", "CUSTNAME: a value cannot hold a line break"),
        ((("CUSTNAME", "BUDI\r"),), "A", "CUSTNAME: a value cannot hold a line break"),
        ((("CUSTNAME", "\rBUDI"),), "A", "CUSTNAME: a value cannot hold a line break"),
        (
            (("CUSTNAME", "A. CUSTNUM: 1"),),
            "A",
            "CUSTNAME: holds '. KEY: ' at 2; it would be read as 'A' and a new field",
        ),
        ((("CUSTNAME", "x"), ("REASON", "r\nr")), "A", "REASON: a value cannot hold a line break"),
        ((("PRICE", "20.546"),), "A", "PRICE: '20.546' is not ASCII digits"),
        ((("PRICE", "２０"),), "A", "PRICE: '２０' is not ASCII digits"),
        ((("PRICE", ""),), "A", "PRICE: '' is not ASCII digits"),
        (
            (("REASON", "r"), ("CUSTNUM", "1")),
            "A",
            "REASON: must be the last field: it runs to the timestamp",
        ),
        ((("custname", "x"),), "A", "custname: a field name is ASCII [A-Z][A-Z0-9_]*"),
        ((("CUST NAME", "x"),), "A", "CUST NAME: a field name is ASCII [A-Z][A-Z0-9_]*"),
        ((("", "x"),), "A", "(empty key): a field name is ASCII [A-Z][A-Z0-9_]*"),
        # A key that only starts like one: written, "A: B: x" would read back as ('A', 'B: x').
        ((("A: B", "x"),), "A", "A: B: a field name is ASCII [A-Z][A-Z0-9_]*"),
        ((("PRICE: 1", "2"),), "A", "PRICE: 1: a field name is ASCII [A-Z][A-Z0-9_]*"),
        ((), "PLN 20", "PRODUCT_CODE: 'PLN 20' is not ASCII letters, digits, '_' and '-'"),
        ((), "PLNé", "PRODUCT_CODE: 'PLNé' is not ASCII letters, digits, '_' and '-'"),
    ],
)
def test_refuses_what_would_not_read_back_naming_the_field(
    fields: tuple[tuple[str, str], ...], product: str, message: str
) -> None:
    with pytest.raises(SerializeError) as caught:
        irs.serialize(reply(*fields, product=product))
    assert str(caught.value) == message
    named = next((key for key, _ in fields if ": " in key), message.split(": ")[0])  # a key may hold ": "
    assert caught.value.field == named
    assert isinstance(caught.value, ValueError)


def test_a_reason_cut_short_by_a_line_break_says_so() -> None:
    # A REASON reads up to a line break; "\n" is why it would be cut.
    with pytest.raises(SerializeError, match=r"^REASON: a value cannot hold a line break$"):
        irs.serialize(reply(("REASON", "a\nb")))


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


# -- a lone surrogate: no UTF-8 text holds one, so the grammar refuses it and serialize names its field --


@pytest.mark.parametrize("code", [0xD800, 0xDCFF, 0xDFFF])
def test_serialize_refuses_a_lone_surrogate_naming_the_field(code: int) -> None:
    surrogate = chr(code)
    moment = datetime(2024, 11, 29, 10, 54, 14)
    # (reply, the field named, the surrogate's place in its value, from 1)
    cases: list[tuple[irs.InquiryResponse | irs.TransactionResponse, str, int]] = [
        (InquiryResponse.build(timestamp=moment, customer_name=f"SITI{surrogate}"), "CUSTNAME", 5),
        (InquiryResponse.build(timestamp=moment, reason=f"{surrogate}. x"), "REASON", 1),
        (InquiryResponse.build(timestamp=moment, extra={"NOTE": f"a {surrogate}"}), "NOTE", 3),
        (
            irs.TransactionResponse.build(
                ref_id="1",
                product_code="A",
                status="SUCCESS",
                timestamp=moment,
                serial_number=f"7{surrogate}",
            ),
            "SN",
            2,
        ),
        (
            irs.TransactionResponse.build(
                ref_id="1",
                product_code="A",
                status="FAILED",
                timestamp=moment,
                reason=surrogate,
                bare_details=True,
            ),
            "REASON",
            1,
        ),
    ]
    for reply, field, place in cases:
        with pytest.raises(SerializeError) as refused:
            irs.serialize(reply)
        assert refused.value.field == field
        assert f"lone surrogate (U+{ord(surrogate):04X}) at {place}:" in str(refused.value)


def test_parse_refuses_a_lone_surrogate_at_its_column() -> None:
    for line, column in (
        ("R#A. CUSTNAME: SI\udcffTI. @10:54:14.776182 29/11/2024", 18),
        ("R#A. REASON: x\ud800. @10:54:14.776182 29/11/2024", 15),
        ("R#1 A FAILED. ok\udfff. TRXID: -. @10:54:14.776182 29/11/2024", 17),
    ):
        with pytest.raises(irs.ParseError) as refused:
            irs.parse_reply(line)
        assert refused.value.column == column, line
