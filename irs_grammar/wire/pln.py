"""PLN prepaid tokens: what the SN of a PLN prepaid purchase packs.

Klikoo relays the SN as its supplier wrote it, so one token comes in several
spellings:

    2514-1798-8056-2280-2824/HASMALINDA/R1M/900VA/33.7      (documented)
    1111-2222-3333-4444-5555/BUDI/R1/900VA/67.30 KWH
    1111-2222-3333-4444-5555/BUDI/R1 /1300 VA/12.5
    11112222333344445555/BUDI/R1/000000450/110.60KWH

The SN is split on "/" and each part is checked on its own with patterns that
cannot backtrack (every repeat is bounded or possessive), so reading costs
time linear in the SN's length whatever its text. Any other shape is None.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple


class PlnToken(NamedTuple):
    """What a PLN prepaid SN packs: `2514-1798-8056-2280-2824/HASMALINDA/R1M/900VA/33.7`.

    >>> import irs_grammar as irs
    >>> r = irs.parse_reply("R#1 PLN20. 14444941364 SUCCESS. "
    ...     "SN: 1111-2222-3333-4444-5555/BUDI/R1/1300VA/15.2. TRXID: 7. @10:00:00.000000 01/12/2024")
    >>> r.pln_token.token, r.pln_token.power_va, r.pln_token.kwh
    ('11112222333344445555', 1300, Decimal('15.2'))
    """

    token: str  # the 20 digits, without dashes
    name: str
    tariff: str
    power_va: int
    kwh: Decimal


# The 20-digit STS token, in groups of four or not.
_TOKEN = re.compile(r"[0-9]{4}(?:-[0-9]{4}){4}|[0-9]{20}")
# A power class once its spaces and "VA" are cut: digits, zero-padded by some.
_POWER = re.compile(r"0*+([0-9]{1,18})")
# kWh once its spaces and "KWH" are cut: 33.7, 67.30, 34.
_KWH = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,18})?")


def _without_unit(part: str, unit: str) -> str:
    """`900VA`, `1300 VA`, `450` -> the number's text (unit optional, any case, spaces around)."""
    text = part.strip(" ")
    if text[-len(unit) :].upper() == unit:
        text = text[: -len(unit)].rstrip(" ")
    return text


def read_pln_token(serial: str) -> PlnToken | None:
    """The parts of a PLN prepaid SN, or None when it has another shape.

    >>> read_pln_token("11112222333344445555/BUDI/R1/000000450/110.60KWH")
    PlnToken(token='11112222333344445555', name='BUDI', tariff='R1', power_va=450, kwh=Decimal('110.60'))
    >>> read_pln_token("1234-5678/JOKO") is None
    True
    """
    parts = serial.split("/", 5)
    if len(parts) != 5:
        return None
    token, name, tariff, power, kwh = parts
    tariff = tariff.strip(" ")
    if not _TOKEN.fullmatch(token) or not tariff:
        return None
    # fullmatch on a bounded pattern: a long run of digits fails at its 19th.
    power_match = _POWER.fullmatch(_without_unit(power, "VA"))
    kwh_text = _without_unit(kwh, "KWH")
    if power_match is None or not _KWH.fullmatch(kwh_text):
        return None
    return PlnToken(token.replace("-", ""), name, tariff, int(power_match[1]), Decimal(kwh_text))
