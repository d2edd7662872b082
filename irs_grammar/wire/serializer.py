"""Writing a reply line: serialize(), the mirror of parser.parse_reply().

Each kind's writer (writers.py, found through the table of kinds) writes only
what the parser reads back the same; a reply that would not read back the
same raises SerializeError naming the field.
"""

from __future__ import annotations

from .inquiry import InquiryResponse
from .kinds import kind_of_reply
from .transaction import TransactionResponse


def serialize(reply: InquiryResponse | TransactionResponse) -> str:
    """The wire line of a reply, without a line break (of a registered kind's reply too).

    `serialize(parse(line)) == line` for every line parse() accepts (less its
    line break). A reply that would not read back the same raises
    SerializeError (a ValueError) naming the field.

    >>> import irs_grammar as irs
    >>> from datetime import datetime
    >>> irs.serialize(irs.InquiryResponse.build(
    ...     product_code="MAX5000", price=7205, customer_number="0817345544",
    ...     timestamp=datetime(2024, 11, 29, 11, 4, 32, 895636)))
    'R#MAX5000. PRICE: 7205. CUSTNUM: 0817345544. @11:04:32.895636 29/11/2024'
    """
    kind = kind_of_reply(reply)
    if kind is None:
        raise TypeError(
            f"serialize() takes an InquiryResponse or a TransactionResponse, not {type(reply).__name__}"
        )
    line: str = kind.write(reply)
    return line
