"""irs-grammar: the plain-text replies of the Klikoo B2B IRS inquiry endpoint.

>>> import irs_grammar as irs
>>> line = ("R#OVO10. PRICE: 10100. CUSTNUM: 081000000001. CUSTNAME: C**tomer Na**. "
...         "@10:59:32.076824 29/11/2024")
>>> reply = irs.parse(line)
>>> reply.price, reply.customer_name
(10100, 'C**tomer Na**')
>>> irs.serialize(reply) == line
True
"""

from .errors import ParseError, SerializeError
from .model import InquiryResponse
from .parser import parse
from .request import METHOD, InquiryRequest
from .serializer import serialize
from .validation import LineResult, Summary, validate

__all__ = [
    "METHOD",
    "InquiryRequest",
    "InquiryResponse",
    "LineResult",
    "ParseError",
    "SerializeError",
    "Summary",
    "parse",
    "serialize",
    "validate",
]
