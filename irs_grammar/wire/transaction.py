"""`TransactionResponse`: one buy / check-status reply as an immutable, typed value.

As with InquiryResponse, what was on the wire is kept as sent (`fields`, the
raw transaction id and balance amounts); the typed attributes are views.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any, NamedTuple, Self

from .grammar import TRANSACTION_GRAMMAR, terminal_re
from .pln import PlnToken, read_pln_token
from .reply import (
    CURRENT_TIMESTAMP,
    MAX_AMOUNT,
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

__all__ = ["Balance", "PlnToken", "TransactionResponse", "TransactionStatus", "rupiah"]

SN = "SN"
TRXID = "TRXID"  # the key of Klikoo's transaction id: never a detail field
NO_TRANSACTION_ID = "-"
# Names in to_dict(); other detail keys keep their own.
REF_ID, DESTINATION, STATUS = "REF_ID", "DESTINATION", "STATUS"
TRANSACTION_ID, REFID = "TRANSACTION_ID", "REFID"
BALANCE_NAMES = ("BALANCE_BEFORE", "DEDUCTION", "BALANCE_AFTER")
DETAIL_NAMES = {SN: "SERIAL_NUMBER", REASON: REASON}
KIND = "transaction"  # the kind's name: a record's `kind`
# The wire keys that have a record column of their own (the first of each; a repeat goes to EXTRA).
RECORD_COLUMNS = DETAIL_NAMES
# The name to_dict() gives a bare details part (a reason sent without "REASON: ").
DETAILS = "DETAILS"
_OWN_NAMES = frozenset({REF_ID, PRODUCT_CODE, DESTINATION, STATUS, TRANSACTION_ID, *BALANCE_NAMES})
_RESERVED = _OWN_NAMES | {CURRENT_TIMESTAMP, REFID, "SERIAL_NUMBER", DETAILS}


class TransactionStatus(StrEnum):
    """The documented status words. Others are kept as plain strings.

    >>> import irs_grammar as irs
    >>> irs.parse_reply("R#7 DN1 INPROGRESS. TRXID: 9. @10:00:00.000000 01/12/2024").status
    <TransactionStatus.INPROGRESS: 'INPROGRESS'>
    >>> irs.parse_reply("R#7 DN1 PENDING. TRXID: 9. @10:00:00.000000 01/12/2024").status
    'PENDING'
    """

    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    INPROGRESS = "INPROGRESS"


# Each documented word as its member: a word read off the wire becomes one, or stays a str.
KNOWN_STATUSES: dict[str, TransactionStatus] = {status.value: status for status in TransactionStatus}

# The only two words that end a transaction. Anything else, INPROGRESS or a
# word this library does not know (PENDING, GAGAL, PROSES...), is not final.
FINAL_STATUSES = frozenset({TransactionStatus.SUCCESS, TransactionStatus.FAILED})


class Balance(NamedTuple):
    """`SISA SALDO: before - deduction = after`, each as sent (`97.411.793`).

    >>> import irs_grammar as irs
    >>> r = irs.parse_reply("R#1 A FAILED. TRXID: -. SISA SALDO: 31.515.657 - 0 = 31.473.857 "
    ...                     "@10:00:00.000000 01/12/2024")
    >>> r.balance, r.balance_after, r.balance_adds_up
    (Balance(before='31.515.657', deduction='0', after='31.473.857'), 31473857, False)
    """

    before: str
    deduction: str
    after: str


def rupiah(amount: str) -> int:
    """`97.411.793` -> 97411793 (ASCII digits with "." between thousands, at most 18 digits)."""
    if not terminal_re("AMOUNT", TRANSACTION_GRAMMAR).fullmatch(amount):
        raise ValueError(f"{amount[:40]!r} is not an amount such as 97.411.793 (at most 18 digits)")
    return int(amount.replace(".", ""))


@dataclass(frozen=True, slots=True)
class TransactionResponse(FieldLookup, Unread):
    """A reply of the IRS buy / check-status endpoint.

    >>> import irs_grammar as irs
    >>> r = irs.parse_reply("R#359912451 MXD17. 48429495 SUCCESS. SN: 4779928. "
    ...     "TRXID: 5a8ae07d. SISA SALDO: 97.411.793 - 18.800 = 97.392.993 @15:25:39.484331 20/02/2024"
    ...     "&refid=359912451")
    >>> r.status, r.serial_number, r.deduction, r.balance_adds_up
    (<TransactionStatus.SUCCESS: 'SUCCESS'>, '4779928', 18800, True)
    """

    ref_id: str
    product_code: str
    destination: str | None
    status: TransactionStatus | str
    fields: tuple[tuple[str, str], ...]
    trxid: str
    balance: Balance | None
    timestamp: datetime
    refid: str | None = None
    # True when the details part came bare (`FAILED. Nomor tujuan salah. TRXID: …`):
    # its text is the one REASON field, written back without "REASON: ".
    bare_details: bool = False

    def __post_init__(self) -> None:
        for name in ("ref_id", "product_code", "status", "trxid"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a str, not {type(getattr(self, name)).__name__}")
        if not isinstance(self.timestamp, datetime):
            raise TypeError(f"timestamp must be a datetime, not {type(self.timestamp).__name__}")
        if self.status in TransactionStatus.__members__ and not isinstance(self.status, TransactionStatus):
            object.__setattr__(self, "status", TransactionStatus(self.status))
        if not isinstance(self.fields, tuple) or not all(is_pair(f) for f in self.fields):
            object.__setattr__(self, "fields", pairs(self.fields))
        if self.balance is not None and not isinstance(self.balance, Balance):
            object.__setattr__(self, "balance", Balance(*self.balance))
        if type(self.bare_details) is not bool:
            raise TypeError(f"bare_details must be a bool, not {type(self.bare_details).__name__}")
        if self.bare_details and (len(self.fields) != 1 or self.fields[0][0] != REASON):
            raise ValueError("bare_details: a bare details part is the reply's only detail, its REASON")
        object.__setattr__(self, "_wire", None)

    # -- views -------------------------------------------------------------------------

    @property
    def serial_number(self) -> str | None:
        """SN: the voucher serial number or the PLN token, as sent."""
        return self.get(SN)

    @property
    def transaction_id(self) -> str | None:
        """Klikoo's transaction id; None where the reply says `-`."""
        return None if self.trxid == NO_TRANSACTION_ID else self.trxid

    @property
    def ok(self) -> bool:
        """The transaction succeeded (SUCCESS): final."""
        return self.status == TransactionStatus.SUCCESS

    @property
    def failed(self) -> bool:
        """The transaction failed (FAILED): final; the only status on which to refund."""
        return self.status == TransactionStatus.FAILED

    @property
    def final(self) -> bool:
        """SUCCESS or FAILED: the outcome will not change."""
        return self.status in FINAL_STATUSES

    @property
    def pending(self) -> bool:
        """Not final: check again with the same ref_id.

        True for INPROGRESS *and for any status word this library does not
        know* (PENDING, GAGAL, PROSES, ...): such a transaction may still
        succeed, so an unknown word must never be treated as a failure. Only
        `failed` means the money is not spent.

        >>> import irs_grammar as irs
        >>> r = irs.parse_reply("R#7 DN1. 0817 GAGAL. TRXID: 9. @10:00:00.000000 01/12/2024")
        >>> r.status, r.ok, r.failed, r.final, r.pending
        ('GAGAL', False, False, False, True)
        """
        return not self.final

    @property
    def balance_before(self) -> int | None:
        return rupiah(self.balance.before) if self.balance else None

    @property
    def deduction(self) -> int | None:
        return rupiah(self.balance.deduction) if self.balance else None

    @property
    def balance_after(self) -> int | None:
        return rupiah(self.balance.after) if self.balance else None

    @property
    def balance_adds_up(self) -> bool | None:
        """before - deduction == after; None without a balance. Recorded, never refused."""
        if self.balance is None:
            return None
        before, deduction, after = (rupiah(a) for a in self.balance)
        return before - deduction == after

    @property
    def pln_token(self) -> PlnToken | None:
        """The parts of a PLN prepaid SN, or None when the SN has another shape.

        >>> r = TransactionResponse("1", "PLN50", "14444941364", "SUCCESS",
        ...     (("SN", "2514-1798-8056-2280-2824/HASMALINDA/R1M/900VA/33.7"),), "2", None,
        ...     datetime(2024, 12, 16))
        >>> token = r.pln_token
        >>> token.token, token.name, token.tariff, token.power_va, token.kwh
        ('25141798805622802824', 'HASMALINDA', 'R1M', 900, Decimal('33.7'))
        """
        serial = self.serial_number
        return None if serial is None else read_pln_token(serial)

    def to_record(self, *, path: str | None = None, line: int | None = None) -> dict[str, Any]:
        """The typed record for other tools: integers, booleans, an ISO 8601 timestamp.

        One schema for every kind of reply (irs_grammar.wire.schema.SCHEMA,
        documented in docs/format.md); `path` and `line` say where the reply
        was read. to_dict() stays the wire-exact strings.
        """
        record = new_record(KIND, self.product_code, self.timestamp, self.ok, path, line)
        reason = self.reason
        record.update(
            REF_ID=self.ref_id,
            DESTINATION=self.destination,
            STATUS=str(self.status),
            FAILED=self.failed,
            FINAL=self.final,
            PENDING=self.pending,
            SERIAL_NUMBER=self.serial_number,
            REASON=reason,
            ERROR_CODE=None if reason is None else error_code_of(reason),
            BARE_DETAILS=self.bare_details,
            TRANSACTION_ID=self.transaction_id,
            BALANCE_BEFORE=self.balance_before,
            DEDUCTION=self.deduction,
            BALANCE_AFTER=self.balance_after,
            BALANCE_ADDS_UP=self.balance_adds_up,
            REFID=self.refid,
            EXTRA=extra(self.fields, RECORD_COLUMNS),
        )
        return record

    # -- dictionaries ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, str]:
        """The reply as strings, as on the wire, under readable names.

        REF_ID, PRODUCT_CODE, DESTINATION (when there is one), STATUS, the
        detail fields in wire order (SN as SERIAL_NUMBER, others under their
        own key; a bare details part as DETAILS), TRANSACTION_ID (`-` kept), BALANCE_BEFORE, DEDUCTION,
        BALANCE_AFTER (when there is a balance), CURRENT_TIMESTAMP, REFID
        (when the reply has the `&refid=` tail). A reply a dict cannot hold
        without loss raises ValueError naming the key.
        """
        out: dict[str, str] = {REF_ID: self.ref_id, PRODUCT_CODE: self.product_code}
        if self.destination is not None:
            out[DESTINATION] = self.destination
        out[STATUS] = str(self.status)
        if self.bare_details:
            out[DETAILS] = self.fields[0][1]
        else:
            name_fields(out, self.fields, DETAIL_NAMES, _RESERVED)
        out[TRANSACTION_ID] = self.trxid
        if self.balance is not None:
            out.update(zip(BALANCE_NAMES, self.balance, strict=True))
        out[CURRENT_TIMESTAMP] = format_timestamp(self.timestamp)
        if self.refid is not None:
            out[REFID] = self.refid
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, str], *, tz: tzinfo | None = None) -> Self:
        """The inverse of to_dict()."""
        moment = moment_of_dict(data, (REF_ID, PRODUCT_CODE, STATUS, TRANSACTION_ID), tz)
        present = [name in data for name in BALANCE_NAMES]
        if any(present) and not all(present):
            raise ValueError(f"{BALANCE_NAMES[present.index(False)]}: missing (a balance has three amounts)")
        wire_keys = {name: key for key, name in DETAIL_NAMES.items()}
        fields: list[tuple[str, str]] = []
        for name, value in data.items():
            if name in _OWN_NAMES or name in (CURRENT_TIMESTAMP, REFID):
                continue
            if name == DETAILS:
                fields.append((REASON, value))
                continue
            if name == SN:
                raise ValueError(f"{SN}: a wire key; use its name SERIAL_NUMBER")
            fields.append((wire_keys.get(name, name), value))
        balance = Balance(*(data[n] for n in BALANCE_NAMES)) if all(present) else None
        return cls(
            data[REF_ID],
            data[PRODUCT_CODE],
            data.get(DESTINATION),
            data[STATUS],
            tuple(fields),
            data[TRANSACTION_ID],
            balance,
            moment,
            data.get(REFID),
            DETAILS in data,
        )

    @classmethod
    def build(
        cls,
        *,
        ref_id: str,
        product_code: str,
        status: TransactionStatus | str,
        timestamp: datetime,
        destination: str | None = None,
        serial_number: str | None = None,
        reason: str | None = None,
        transaction_id: str | None = None,
        balance: tuple[int, int, int] | None = None,
        refid: str | None = None,
        extra: Iterable[tuple[str, str]] = (),
        bare_details: bool = False,
    ) -> Self:
        """A reply from typed values: SN, extra details, then REASON; amounts written 97.411.793.

        With `bare_details`, `reason` is written bare, as the whole details
        part (`FAILED. Nomor tujuan salah. TRXID: …`).
        """
        fields = [(SN, serial_number)] if serial_number is not None else []
        fields += list(extra)
        if reason is not None:
            fields.append((REASON, reason))
        amounts = None
        if balance is not None:
            if len(balance) != len(BALANCE_NAMES):
                raise ValueError("balance: three amounts, before, deduction and after")
            for name, amount in zip(BALANCE_NAMES, balance, strict=True):
                if isinstance(amount, bool) or not isinstance(amount, int):
                    raise TypeError(f"{name} must be an int, not {type(amount).__name__}")
                if not 0 <= amount <= MAX_AMOUNT:
                    raise ValueError(f"{name} must be 0 to {MAX_AMOUNT:,} (at most 18 digits)")
            amounts = Balance(*(f"{a:,}".replace(",", ".") for a in balance))
        return cls(
            ref_id,
            product_code,
            destination,
            status,
            tuple(fields),
            transaction_id if transaction_id is not None else NO_TRANSACTION_ID,
            amounts,
            timestamp,
            refid,
            bare_details,
        )
