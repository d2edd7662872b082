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

import sys
from typing import TYPE_CHECKING, Any

# CPython 3.11.0 to 3.11.4 had bugs in possessive quantifiers and atomic groups, which the grammar's
# terminals and the fast path rely on: there, valid replies are refused and some are read with wrong
# values, silently. `requires-python` stops pip only, not a vendored copy or PYTHONPATH.
MINIMUM_PYTHON = (3, 11, 5)
if tuple(sys.version_info[:3]) < MINIMUM_PYTHON:
    raise ImportError(
        f"irs-grammar needs Python {'.'.join(map(str, MINIMUM_PYTHON))} or newer; this is Python "
        f"{'.'.join(map(str, sys.version_info[:3]))}, whose regular expressions misread replies"
    )

from .errors import ParseError, SerializeError  # noqa: E402 (after the version check)
from .wire.inquiry import InquiryResponse  # noqa: E402 (after the version check)
from .wire.parser import parse, parse_reply, parse_transaction  # noqa: E402 (after the version check)
from .wire.serializer import serialize  # noqa: E402 (after the version check)
from .wire.transaction import Balance, PlnToken, TransactionResponse, TransactionStatus  # noqa: E402 (after the version check)

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
