"""Each kind's reply from the tree the Lark parser made of a line (the reference reader's last step).

Only lines the fast path did not take come here, so speed does not matter;
Lark itself is not imported here: a token is a `str` with a `type`, a tree
anything else, with `data` and `children`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .inquiry import InquiryResponse
from .reply import REASON
from .transaction import Balance, TransactionResponse


def _field(node: Any) -> tuple[str, str]:
    """A field subtree, (KEY token with its ": ", VALUE token or nothing): (key, value)."""
    key, *value = node.children
    return str(key)[:-2], str(value[0]) if value else ""


def inquiry_from_tree(tree: Any, moment: datetime) -> InquiryResponse:
    product = ""
    fields: list[tuple[str, str]] = []
    for child in tree.children:
        if not isinstance(child, str):
            fields.append(_field(child))
        elif child.type == "PRODUCT":  # type: ignore[attr-defined]  # a lark Token
            product = str(child)
    return InquiryResponse.trusted(product, tuple(fields), moment)


def transaction_from_tree(tree: Any, moment: datetime) -> TransactionResponse:
    tokens: dict[str, str] = {}
    fields: list[tuple[str, str]] = []
    destination: str | None = None
    balance: Balance | None = None
    refid: str | None = None
    bare = False
    for child in tree.children:
        if isinstance(child, str):
            tokens.setdefault(child.type, str(child))  # type: ignore[attr-defined]  # a lark Token
        elif child.data == "destination":
            destination = str(child.children[0]) if child.children else None
        elif child.data in ("field", "reason"):
            fields.append(_field(child))
        elif child.data == "balance":
            # Its tokens: SISA SALDO, then the three amounts (the separators are anonymous, left out).
            balance = Balance(*(str(c) for c in child.children if c.type == "AMOUNT"))
        elif child.data == "refid":
            _, ref = child.children  # "&refid=", the reference
            refid = str(ref)
        elif child.data == "details":
            fields.append((REASON, str(child.children[0])))
            bare = True
    return TransactionResponse(
        tokens["REF"],
        tokens["PRODUCT"],
        destination,
        tokens["STATUS"],
        tuple(fields),
        tokens["TRXID"],
        balance,
        moment,
        refid,
        bare,
    )
