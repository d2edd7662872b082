"""`InquiryResponse`: one inquiry reply as an immutable, typed value.

`fields` is the truth: every wire key and raw value, in wire order. The typed
attributes are views of it, so nothing on the wire is lost or reordered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Self

from .grammar import terminal_re
from .reply import (
    CURRENT_TIMESTAMP,
    MAX_AMOUNT,
    MAX_DIGITS,
    PRODUCT_CODE,
    REASON,
    FieldLookup,
    Unread,
    error_code_of,
    is_pair,
    moment_of_dict,
    name_fields,
    pairs,
)
from .schema import extra, new_record
from .timestamp import format_timestamp

KIND = "inquiry"  # the kind's name: a record's `kind`

# Wire keys of the documented fields, and their documented names.
PRICE = "PRICE"
CUSTNUM = "CUSTNUM"
CUSTNAME = "CUSTNAME"
POWERCAPACITY = "POWERCAPACITY"
DOCUMENTED_NAMES: dict[str, str] = {
    PRICE: "PRICE",
    CUSTNUM: "CUSTOMER_NUMBER",
    CUSTNAME: "CUSTOMER_NAME",
    POWERCAPACITY: "POWER_CAPACITY",
    REASON: "REASON",
}
WIRE_KEYS: dict[str, str] = {name: key for key, name in DOCUMENTED_NAMES.items()}
# The wire keys that have a record column of their own (the first of each; a repeat goes to EXTRA).
RECORD_COLUMNS = DOCUMENTED_NAMES

# Names that to_dict() gives to something other than an unknown wire key of
# the same spelling; such a wire key would be ambiguous in a dict.
_RESERVED_NAMES = (frozenset(DOCUMENTED_NAMES.values()) - frozenset(DOCUMENTED_NAMES)) | {
    PRODUCT_CODE,
    CURRENT_TIMESTAMP,
}


@dataclass(frozen=True, slots=True)
class InquiryResponse(FieldLookup, Unread):
    """A reply of the IRS inquiry endpoint.

    >>> import irs_grammar as irs
    >>> r = irs.parse("R#PLN20. PRICE: 20546. CUSTNUM: 01105691111. @12:32:55.821005 12/11/2024")
    >>> r.product_code, r.price, r.customer_number, r.ok
    ('PLN20', 20546, '01105691111', True)
    >>> r.fields
    (('PRICE', '20546'), ('CUSTNUM', '01105691111'))
    """

    product_code: str
    fields: tuple[tuple[str, str], ...]
    timestamp: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.product_code, str):
            raise TypeError(f"{PRODUCT_CODE} must be a str, not {type(self.product_code).__name__}")
        if not isinstance(self.timestamp, datetime):
            raise TypeError(f"{CURRENT_TIMESTAMP} must be a datetime, not {type(self.timestamp).__name__}")
        if not isinstance(self.fields, tuple) or not all(is_pair(f) for f in self.fields):
            object.__setattr__(self, "fields", pairs(self.fields))
        object.__setattr__(self, "_wire", None)

    @classmethod
    def trusted(cls, product_code: str, fields: tuple[tuple[str, str], ...], timestamp: datetime) -> Self:
        """A reply from parts the parser has already checked, without checking them again."""
        reply = object.__new__(cls)
        object.__setattr__(reply, "product_code", product_code)
        object.__setattr__(reply, "fields", fields)
        object.__setattr__(reply, "timestamp", timestamp)
        object.__setattr__(reply, "_wire", None)
        return reply

    # -- typed views of `fields` -------------------------------------------

    @property
    def price(self) -> int | None:
        """PRICE as an integer (at most 18 ASCII digits on the wire), or None when absent.

        Never raises on a parsed reply; on one built by hand with a PRICE the
        grammar would refuse, raises ValueError naming PRICE.
        """
        raw = self.get(PRICE)
        if raw is None:
            return None
        if not terminal_re("PRICE_VALUE").fullmatch(raw):
            raise ValueError(f"{PRICE}: {raw[:40]!r} is not 1 to {MAX_DIGITS} ASCII digits")
        return int(raw)

    @property
    def customer_number(self) -> str | None:
        """CUSTNUM, the destination or customer id, as sent."""
        return self.get(CUSTNUM)

    @property
    def customer_name(self) -> str | None:
        """CUSTNAME, as sent (often partly masked: `C**tomer Na**`)."""
        return self.get(CUSTNAME)

    @property
    def power_capacity(self) -> str | None:
        """POWERCAPACITY, the PLN tariff and power class (`R1/2200VA`)."""
        return self.get(POWERCAPACITY)

    @property
    def error_code(self) -> str | None:
        """The digits of the last `Err:NNNN` in REASON (Klikoo's own code), or None."""
        reason = self.reason
        return None if reason is None else error_code_of(reason)

    @property
    def reason(self) -> str | None:
        """REASON, present only when the inquiry failed."""
        wire = self._wire  # unread: (fill, (block, REASON value, ...)) from the fast path
        return self.get(REASON) if wire is None else wire[1][1]

    @property
    def ok(self) -> bool:
        """True for a successful inquiry: the reply has no REASON."""
        return self.reason is None

    # -- building -----------------------------------------------------------

    @classmethod
    def build(
        cls,
        *,
        timestamp: datetime,
        product_code: str = "",
        price: int | None = None,
        customer_number: str | None = None,
        customer_name: str | None = None,
        power_capacity: str | None = None,
        reason: str | None = None,
        extra: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    ) -> InquiryResponse:
        """A reply from typed values, in the canonical field order.

        The order is PRICE, CUSTNUM, CUSTNAME, POWERCAPACITY, then `extra`
        (unknown keys, in the order given), then REASON, which is always last.

        >>> from datetime import datetime
        >>> r = InquiryResponse.build(product_code="DN1", price=1178, customer_number="0817345544",
        ...                           timestamp=datetime(2024, 11, 29, 10, 54, 14, 776182))
        >>> r.fields
        (('PRICE', '1178'), ('CUSTNUM', '0817345544'))
        """
        fields: list[tuple[str, str]] = []
        if price is not None:
            if isinstance(price, bool) or not isinstance(price, int):
                raise TypeError(f"{PRICE} must be an int, not {type(price).__name__}")
            if not 0 <= price <= MAX_AMOUNT:
                raise ValueError(f"{PRICE} must be 0 to {MAX_AMOUNT:,} (at most {MAX_DIGITS} digits)")
            fields.append((PRICE, str(price)))
        for key, value in (
            (CUSTNUM, customer_number),
            (CUSTNAME, customer_name),
            (POWERCAPACITY, power_capacity),
        ):
            if value is not None:
                fields.append((key, value))
        for key, value in extra.items() if isinstance(extra, Mapping) else extra:
            if key in DOCUMENTED_NAMES:
                raise ValueError(f"{key}: a documented field; pass it by its own argument, not in extra")
            fields.append((key, value))
        if reason is not None:
            fields.append((REASON, reason))
        return cls(product_code, tuple(fields), timestamp)

    def to_record(self, *, path: str | None = None, line: int | None = None) -> dict[str, Any]:
        """The typed record for other tools: integers, booleans, an ISO 8601 timestamp.

        One schema for every kind of reply (irs_grammar.wire.schema.SCHEMA,
        documented in docs/format.md); `path` and `line` say where the reply
        was read. to_dict() stays the wire-exact strings.
        """
        record = new_record(KIND, self.product_code, self.timestamp, self.ok, path, line)
        record["PRICE"] = self.price
        record["CUSTOMER_NUMBER"] = self.customer_number
        record["CUSTOMER_NAME"] = self.customer_name
        record["POWER_CAPACITY"] = self.power_capacity
        record["REASON"] = self.reason
        record["ERROR_CODE"] = self.error_code
        record["EXTRA"] = extra(self.fields, RECORD_COLUMNS)
        return record

    # -- dictionaries with the documented names -------------------------------

    def to_dict(self) -> dict[str, str]:
        """The reply under the documented names, values as on the wire.

        PRODUCT_CODE first, the fields in wire order (unknown keys under their
        own name), CURRENT_TIMESTAMP last. A reply a dict cannot hold without
        loss (a repeated key, or an unknown key spelled like a documented name
        such as CUSTOMER_NAME) raises ValueError naming the key.

        >>> import irs_grammar as irs
        >>> d = irs.parse("R#DN1. PRICE: 1178. CUSTNAME: DNID nX. @10:54:14.776182 29/11/2024").to_dict()
        >>> list(d)
        ['PRODUCT_CODE', 'PRICE', 'CUSTOMER_NAME', 'CURRENT_TIMESTAMP']
        >>> d["CUSTOMER_NAME"], d["CURRENT_TIMESTAMP"]
        ('DNID nX', '10:54:14.776182 29/11/2024')
        """
        out: dict[str, str] = {PRODUCT_CODE: self.product_code}
        name_fields(out, self.fields, DOCUMENTED_NAMES, _RESERVED_NAMES)
        out[CURRENT_TIMESTAMP] = format_timestamp(self.timestamp)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, str], *, tz: tzinfo | None = None) -> InquiryResponse:
        """The inverse of to_dict(): `from_dict(r.to_dict()) == r`.

        PRODUCT_CODE and CURRENT_TIMESTAMP (`HH:MM:SS.ffffff DD/MM/YYYY`) are
        required; every other name becomes a field, in the dict's order.
        `tz` names the zone of the timestamp (naive when None).
        """
        moment = moment_of_dict(data, (PRODUCT_CODE,), tz)
        fields: list[tuple[str, str]] = []
        for name, value in data.items():
            if name in (PRODUCT_CODE, CURRENT_TIMESTAMP):
                continue
            if name in DOCUMENTED_NAMES and DOCUMENTED_NAMES[name] != name:
                raise ValueError(f"{name}: a wire key; use its documented name {DOCUMENTED_NAMES[name]}")
            fields.append((WIRE_KEYS.get(name, name), value))
        return cls(data[PRODUCT_CODE], tuple(fields), moment)
