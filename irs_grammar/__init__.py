"""irs-grammar: the plain-text replies of the Klikoo B2B IRS endpoints.

>>> import irs_grammar as irs
>>> line = ("R#OVO10. PRICE: 10100. CUSTNUM: 081000000001. CUSTNAME: C**tomer Na**. "
...         "@10:59:32.076824 29/11/2024")
>>> reply = irs.parse(line)
>>> reply.price, reply.customer_name
(10100, 'C**tomer Na**')
>>> irs.serialize(reply) == line
True
>>> irs.__version__
'0.2.0'
"""

__version__ = "0.2.0"

from typing import TYPE_CHECKING, Any

from .errors import ParseError, SerializeError
from .wire.inquiry import InquiryResponse
from .wire.parser import parse, parse_reply, parse_transaction
from .wire.serializer import serialize
from .wire.transaction import Balance, PlnToken, TransactionResponse, TransactionStatus

if TYPE_CHECKING:
    from .reconciliation import Anomaly, Reconciliation, reconcile
    from .validation import LineResult, Summary, validate
    from .wire.request import METHOD, BuyRequest, InquiryRequest

# Imported on first use: `import irs_grammar; parse(line)` costs no more than `import lark`.
_LAZY = {
    "Anomaly": "reconciliation",
    "Reconciliation": "reconciliation",
    "reconcile": "reconciliation",
    "METHOD": "wire.request",
    "BuyRequest": "wire.request",
    "InquiryRequest": "wire.request",
    "LineResult": "validation",
    "Summary": "validation",
    "validate": "validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'irs_grammar' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "METHOD",
    "Anomaly",
    "Balance",
    "BuyRequest",
    "InquiryRequest",
    "InquiryResponse",
    "LineResult",
    "ParseError",
    "PlnToken",
    "Reconciliation",
    "SerializeError",
    "Summary",
    "TransactionResponse",
    "TransactionStatus",
    "parse",
    "parse_reply",
    "parse_transaction",
    "reconcile",
    "serialize",
    "validate",
]
