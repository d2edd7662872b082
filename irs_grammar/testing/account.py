"""The fake endpoint's account: catalogue, balance, buys, clock and reply log, without HTTP.

`Account` answers a request already read and checked (an `InquiryRequest`
or a `BuyRequest` with the right credentials) with the reply line, moving
the balance and each buy from INPROGRESS to its final reply. What goes wrong
on purpose comes in as a `Fate`, which the fault rules (faults.py) decide.
It is not thread-safe alone: FakeIRS answers one request at a time.
"""

from __future__ import annotations

import errno
import os
import random
import re
import sys
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from ..files import not_regular
from ..wire.grammar import TRANSACTION_GRAMMAR, terminal_re
from ..wire.inquiry import InquiryResponse
from ..wire.request import BuyRequest, InquiryRequest
from ..wire.serializer import serialize
from ..wire.transaction import TransactionResponse, TransactionStatus


class Product(NamedTuple):
    """A product the fake sells: its code, its price (what a buy deducts) and whether it is PLN prepaid."""

    code: str
    price: int
    pln: bool = False


# Prices of the documented sample replies where there is one.
DEFAULT_CATALOGUE: tuple[Product, ...] = (
    Product("PLN20", 20546, pln=True),
    Product("PLN50", 50102, pln=True),
    Product("OVO10", 10100),
    Product("GOPAY10", 10100),
    Product("DN1", 1178),
    Product("MAX5000", 7205),
    Product("MXD17", 18800),
)

# What the fake accepts unless told otherwise (fake values: they are printed in the docs).
DEFAULT_CREDENTIALS = {
    "client_id": "fake-client",
    "client_secret": "fake-secret",
    "idrs": "fake-idrs",
    "pin": "123456",
}

# The fake's own REASON texts (not Klikoo's: its real texts are not all documented).
# A malformed request gets the message of InquiryRequest/BuyRequest.from_url instead,
# which names the parameter and never shows a value.
REASONS = {
    "credentials": "Invalid client_id, client_secret or pin",
    "product": "Unknown product code",
    "destination": "Nomor tujuan salah",
    "ref_id": "ref_id must be 1 to 64 letters, digits, '_' or '-', with a letter or a digit",
    "ref_id_reused": "ref_id already used for another purchase",
    "balance": "Saldo tidak cukup",
    "failed": "Transaksi gagal",
}


def _terminal(name: str, longest: int) -> Callable[[str], bool]:
    """Whether a text is what the transaction grammar's terminal reads, and at most `longest` long
    (the fake's own bound, so its replies stay short)."""
    pattern = terminal_re(name, TRANSACTION_GRAMMAR)
    return lambda text: len(text) <= longest and pattern.fullmatch(text) is not None


# What a reply can carry as a reference, a product code, a destination and a status word.
REFERENCE = _terminal("REF", 64)
_A_LETTER_OR_DIGIT = re.compile("[A-Za-z0-9]")
PRODUCT_CODE = _terminal("PRODUCT", 32)
DESTINATION = _terminal("DEST", 32)
STATUS_WORD = _terminal("STATUS", 32)
WIB = timezone(timedelta(hours=7), "WIB")
PLACEHOLDER = "-"  # the reference or product of a refused buy that named none usable
_NAMES = ("BAHARRUDIN", "HASMALINDA", "SITI AMINAH", "BUDI SANTOSO", "DEWI LESTARI", "AGUS SALIM")
_POWER = ("R1/900VA", "R1M/900VA", "R1/1300VA", "R1/2200VA")


def _check_log(path: str) -> None:
    """A reply log is a regular file (or none yet) this process can append to; else OSError."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    kind = None if info is None else not_regular(info.st_mode)
    if kind is not None:
        raise OSError(errno.EINVAL, f"is {kind}; a reply log is a regular file")
    with open(path, "a", encoding="utf-8") as log:
        log.write("")
        log.flush()


def bounded_int(name: str, value: int, low: int, high: int) -> int:
    """`value`, or TypeError / ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name}: must be {low} to {high}")
    return value


@dataclass
class Fate:
    """What the scripted faults make of one buy (or inquiry): decided at its first request."""

    pending: int = 0  # INPROGRESS answers due before the final reply
    unknown: list[str] = field(default_factory=list)  # unknown status words due after those
    fail: str | None = None  # the reason it fails with, if it must
    offset: int = 0  # how far the final balance shown is off


@dataclass
class Buy:
    """One ref_id's transaction, as the account keeps it."""

    product: Product
    to: str
    trxid: str
    pending: int  # INPROGRESS answers still due
    unknown: list[str]  # unknown status words still due, after those
    fail: str | None
    offset: int
    final: TransactionResponse | None = None
    status: str = TransactionStatus.INPROGRESS


class Account:
    """The catalogue, the balance, the buys by ref_id, the clock and the replies written (its books)."""

    def __init__(
        self,
        *,
        seed: int = 0,
        catalogue: Iterable[Product] = DEFAULT_CATALOGUE,
        balance: int = 100_000_000,
        clock: Callable[[], datetime] | None = None,
        log: str | os.PathLike[str] | None = None,
        history: int = 10_000,
    ) -> None:
        self.seed = seed
        self.catalogue = {p.code: Product(*p) for p in catalogue}
        for product in self.catalogue.values():
            if not PRODUCT_CODE(product.code):
                raise ValueError(
                    f"catalogue: product code {product.code!r} is not 1 to 32 of A-Z a-z 0-9 _ -"
                )
            bounded_int(f"catalogue: the price of {product.code}", product.price, 0, 10**15)
        self.balance = bounded_int("balance", balance, 0, 10**15)
        self.clock = clock or (lambda: datetime.now(WIB).replace(tzinfo=None))
        self.log = os.fspath(log) if log is not None else None
        if self.log is not None:
            _check_log(self.log)  # an unwritable log fails here, not at the first reply
        self.log_failed: str | None = None  # why the log stopped, if it did
        self.replies: deque[str] = deque(maxlen=bounded_int("history", history, 1, 10**7))
        self.rng = random.Random(seed)  # transaction ids, serial numbers, tokens, garbling
        self.buys: dict[str, Buy] = {}
        # References spent by a refusal: FAILED is final, so it is the answer to them from then on.
        self.refused: dict[str, TransactionResponse] = {}
        self._last: datetime | None = None

    def status(self, ref_id: str) -> str | None:
        """The status of the last reply sent for `ref_id`'s transaction, None for an unknown ref_id."""
        if ref_id in self.refused:
            return str(TransactionStatus.FAILED)
        buy = self.buys.get(ref_id)
        return None if buy is None else str(buy.status)

    def now(self) -> datetime:
        """The clock, made strictly increasing: the log's order is the order of events."""
        now = self.clock()
        if self._last is not None and now <= self._last:
            now = self._last + timedelta(microseconds=1)
        self._last = now
        return now

    def record(self, line: str) -> None:
        """Keep a reply written, and append it to the log file.

        A log that fails part-way (a full disk) does not fail the reply: the
        request was carried out. It is said once on standard error, and kept in
        `log_failed`.
        """
        self.replies.append(line)
        if self.log is not None and self.log_failed is None:
            try:
                with open(self.log, "a", encoding="utf-8", newline="") as out:
                    out.write(line + "\n")
            except OSError as error:
                self.log_failed = f"{self.log}: {error.strerror or error}; replies are no longer logged"
                print(f"irs-grammar: {self.log_failed}", file=sys.stderr)

    # -- answers ------------------------------------------------------------------------------------

    def refuse_inquiry(self, reason: str) -> str:
        """The failure reply to an inquiry the fake will not answer."""
        return serialize(InquiryResponse.build(timestamp=self.now(), reason=reason))

    def refuse_buy(self, ref_id: str | None, product: str | None, reason: str) -> str:
        """The failure reply to a buy the fake will not carry out, in the shape of Klikoo's documented
        refusal (`R#ref CODE FAILED. REASON: …. TRXID: -.`): the request's own reference and
        product, when a reply can carry them, else `-`.

        FAILED is final: a reference refused under its own name is spent, and every later request
        for it gets the same refusal (never a purchase). And a refusal decides nothing about a
        transaction under way: under the reference of a buy the account has, live or settled, it
        would read as that buy's failure, and a client would refund a purchase that may be paid;
        such a refusal names no reference (`-`) instead.
        """
        known = ref_id is not None and (ref_id in self.buys or ref_id in self.refused)
        named = ref_id if ref_id is not None and REFERENCE(ref_id) and not known else None
        refusal = TransactionResponse.build(
            ref_id=named or PLACEHOLDER,
            product_code=product if product is not None and PRODUCT_CODE(product) else PLACEHOLDER,
            status=TransactionStatus.FAILED,
            reason=reason,
            timestamp=self.now(),
        )
        if named is not None and _A_LETTER_OR_DIGIT.search(named):
            self.refused[named] = refusal
        return serialize(refusal)

    def inquire(self, request: InquiryRequest, fate: Callable[[], Fate]) -> str:
        """The reply to an inquiry; `fate()` is asked once the request is one the fake can answer."""
        product = self.catalogue.get(request.product_code)
        if product is None:
            return self.refuse_inquiry(REASONS["product"])
        if not DESTINATION(request.to):
            return self.refuse_inquiry(REASONS["destination"])
        failed = fate().fail
        if failed is not None:
            return serialize(
                InquiryResponse.build(timestamp=self.now(), customer_number=request.to, reason=failed)
            )
        name, power = self._customer(request.to)
        reply = InquiryResponse.build(
            timestamp=self.now(),
            product_code=product.code,
            price=product.price,
            customer_number=request.to,
            customer_name=name,
            power_capacity=power if product.pln else None,
        )
        return serialize(reply)

    def _customer(self, to: str) -> tuple[str, str]:
        """The same name and power class for a destination on every call (seeded by it)."""
        profile = random.Random(f"{self.seed}/{to}")
        return profile.choice(_NAMES), profile.choice(_POWER)

    def buy(self, request: BuyRequest, fate: Callable[[], Fate], refuse: Callable[[str], str]) -> str:
        """The reply to a buy or its re-check; `fate()` is asked at the first request of a ref_id,
        `refuse(reason)` writes the reply to a request the fake will not carry out."""
        if not REFERENCE(request.ref_id) or not _A_LETTER_OR_DIGIT.search(request.ref_id):
            return refuse(REASONS["ref_id"])  # `-`, the placeholder of refusals, is no reference
        refused = self.refused.get(request.ref_id)
        if refused is not None:  # spent by a refusal: its final reply, at this moment
            return serialize(replace(refused, timestamp=self.now()))
        product = self.catalogue.get(request.product_code)
        if product is None:
            return refuse(REASONS["product"])
        if not DESTINATION(request.to):
            return refuse(REASONS["destination"])
        buy = self.buys.get(request.ref_id)
        if buy is None:
            scripted = fate()
            buy = Buy(
                product,
                request.to,
                str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                pending=scripted.pending,
                unknown=scripted.unknown,
                fail=scripted.fail,
                offset=scripted.offset,
            )
            self.buys[request.ref_id] = buy
            return self._not_final(request, buy, TransactionStatus.INPROGRESS)
        if (buy.product.code, buy.to) != (request.product_code, request.to):
            return refuse(REASONS["ref_id_reused"])
        if buy.final is not None:  # the same final reply, at this moment
            return serialize(replace(buy.final, timestamp=self.now()))
        if buy.pending:
            buy.pending -= 1
            return self._not_final(request, buy, TransactionStatus.INPROGRESS)
        if buy.unknown:
            return self._not_final(request, buy, buy.unknown.pop(0))
        buy.final = self._resolve(request, buy)
        buy.status = buy.final.status
        return serialize(buy.final)

    def _not_final(self, request: BuyRequest, buy: Buy, status: str) -> str:
        buy.status = status
        reply = TransactionResponse.build(
            ref_id=request.ref_id,
            product_code=buy.product.code,
            destination=buy.to,
            status=status,
            transaction_id=buy.trxid,
            timestamp=self.now(),
        )
        return serialize(reply)

    def _resolve(self, request: BuyRequest, buy: Buy) -> TransactionResponse:
        before = self.balance
        reason = buy.fail or (REASONS["balance"] if before < buy.product.price else None)
        common: dict[str, Any] = {
            "ref_id": request.ref_id,
            "product_code": buy.product.code,
            "destination": buy.to,
            "transaction_id": buy.trxid,
            "refid": request.ref_id,
            "timestamp": self.now(),
        }
        if reason is not None:
            shown = max(0, before + buy.offset)
            return TransactionResponse.build(
                status=TransactionStatus.FAILED, reason=reason, balance=(before, 0, shown), **common
            )
        self.balance = before - buy.product.price
        shown = max(0, self.balance + buy.offset)
        return TransactionResponse.build(
            status=TransactionStatus.SUCCESS,
            serial_number=self._serial(buy),
            balance=(before, buy.product.price, shown),
            **common,
        )

    def _serial(self, buy: Buy) -> str:
        if not buy.product.pln:
            return str(self.rng.randrange(10**6, 10**12))
        token = "-".join(f"{self.rng.randrange(10_000):04d}" for _ in range(5))
        name, power = self._customer(buy.to)
        return f"{token}/{name}/{power}/{buy.product.price / 1500:.1f}"
