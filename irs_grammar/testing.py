"""A fake IRS endpoint for integrators' test suites: real HTTP, stateful buys, scripted faults.

`FakeIRS` is a WSGI application (standard library only) that answers
`POST {base}/v1/irs/inquiry?…` and `POST {base}/v1/irs/buy?…` as the partner
documents them. Every reply is built with the model and written by
`serialize`, so every reply it sends, faults aside, is one `parse_reply`
accepts; its reply log passes `irs-grammar validate` and `reconcile`.

    >>> from urllib.request import urlopen
    >>> from irs_grammar import parse_reply
    >>> with FakeIRS(seed=1).running() as fake:
    ...     url = fake.buy_request("PLN20", "01105691111", ref_id="r1").to_url(fake.url)
    ...     first = parse_reply(urlopen(url, data=b"").read().decode())
    ...     again = parse_reply(urlopen(url, data=b"").read().decode())
    >>> print(first.status, again.status, again.transaction_id == first.transaction_id)
    INPROGRESS SUCCESS True

The same application runs under any WSGI server; `running()` serves it on a
free loopback port in a thread, the `fake_irs` pytest fixture does that for a
test, and `irs-grammar serve` runs it by hand. docs/testing.md documents the
default catalogue, the credentials, the fake's own REASON texts and the faults.
"""

from __future__ import annotations

import hmac
import os
import random
import re
import socket
import socketserver
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, NamedTuple, Self
from urllib.parse import parse_qsl
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .errors import ParseError, SerializeError
from .model import InquiryResponse
from .near_misses import BREAKS
from .parser import parse_reply
from .request import MASK, BuyRequest, InquiryRequest, Request
from .serializer import serialize
from .transaction import KNOWN_STATUSES, TransactionResponse, TransactionStatus

__all__ = [
    "DEFAULT_CATALOGUE",
    "DEFAULT_CREDENTIALS",
    "REASONS",
    "ConnectionDropped",
    "FakeIRS",
    "Fault",
    "Product",
]

WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]


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
    "ref_id": "ref_id must be 1 to 64 letters, digits, '_' or '-'",
    "ref_id_reused": "ref_id already used for another purchase",
    "balance": "Saldo tidak cukup",
    "failed": "Transaksi gagal",
}

# What a reply can carry as a reference, a product code and a destination (the grammar's terminals).
_REF = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PRODUCT = re.compile(r"[A-Za-z0-9_-]{1,32}")
_DEST = re.compile(r"[A-Za-z0-9_+-]{1,32}")
_STATUS = re.compile(r"[A-Z][A-Z_]{0,31}")
WIB = timezone(timedelta(hours=7), "WIB")
PLACEHOLDER = "-"  # the reference or product of a refused buy that named none usable
_NAMES = ("BAHARRUDIN", "HASMALINDA", "SITI AMINAH", "BUDI SANTOSO", "DEWI LESTARI", "AGUS SALIM")
_POWER = ("R1/900VA", "R1M/900VA", "R1/1300VA", "R1/2200VA")


class ConnectionDropped(Exception):
    """Raised by the application for the `drop` fault: close the connection without a reply.

    The server of `running()` and `irs-grammar serve` does exactly that; another
    WSGI server does what it does with an application's exception (most answer 500).
    """


@dataclass(frozen=True)
class Fault:
    """A scripted fault. Make one with a class method; attach it with FakeIRS.add_fault.

    Faults of a transaction's fate (`fail`, `pending`, `unknown_status`,
    `bad_balance`) take hold when they match the first request of a `ref_id`;
    the others (`malformed`, `http_error`, `delay`, `drop`) when they match a request.
    """

    kind: str
    reason: str = ""
    checks: int = 0
    word: str = ""
    offset: int = 0
    status: int = 0
    seconds: float = 0.0

    FATES: ClassVar[frozenset[str]] = frozenset({"fail", "pending", "unknown_status", "bad_balance"})

    @classmethod
    def fail(cls, reason: str = REASONS["failed"]) -> Fault:
        """A buy resolves FAILED with `reason` (nothing deducted); an inquiry answers `reason`."""
        _check_reason(reason)
        return cls("fail", reason=reason)

    @classmethod
    def pending(cls, checks: int) -> Fault:
        """A buy answers INPROGRESS to `checks` more re-checks before its final reply."""
        return cls("pending", checks=_bounded_int("checks", checks, 1, 1000))

    @classmethod
    def unknown_status(cls, word: str = "SUSPECT", checks: int = 1) -> Fault:
        """A buy answers the unknown status `word` (never final) to `checks` re-checks, then resolves."""
        if not isinstance(word, str) or not _STATUS.fullmatch(word) or word in KNOWN_STATUSES:
            raise ValueError("word: an upper-case word (A-Z, _) other than SUCCESS, FAILED and INPROGRESS")
        return cls("unknown_status", word=word, checks=_bounded_int("checks", checks, 1, 1000))

    @classmethod
    def bad_balance(cls, offset: int = 1000) -> Fault:
        """A buy's final reply shows a balance after `offset` rupiah off before - deduction."""
        if _bounded_int("offset", offset, -(10**9), 10**9) == 0:
            raise ValueError("offset: must not be 0")
        return cls("bad_balance", offset=offset)

    @classmethod
    def malformed(cls) -> Fault:
        """The reply is a near miss the parser refuses (the request is carried out)."""
        return cls("malformed")

    @classmethod
    def http_error(cls, status: int = 500) -> Fault:
        """An HTTP error status and no reply; the request is not carried out."""
        return cls("http_error", status=_bounded_int("status", status, 400, 599))

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """The reply comes after `seconds` (at most 60)."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 60:
            raise ValueError("seconds: must be more than 0 and at most 60")
        return cls("delay", seconds=float(seconds))

    @classmethod
    def drop(cls) -> Fault:
        """The request is carried out, then the connection closed without a reply."""
        return cls("drop")


def _bounded_int(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name}: must be {low} to {high}")
    return value


def _check_reason(reason: str) -> None:
    """A reason both kinds of reply can carry and read back the same."""
    if not isinstance(reason, str):
        raise TypeError(f"reason: must be a str, not {type(reason).__name__}")
    moment = datetime(2024, 1, 1)
    try:
        for reply in (
            InquiryResponse.build(timestamp=moment, reason=reason),
            TransactionResponse.build(
                ref_id="r", product_code="P", status="FAILED", timestamp=moment, reason=reason
            ),
        ):
            serialize(reply)
    except SerializeError:
        raise ValueError(
            "reason: a reply could not carry it (a line break, or text the parser would cut)"
        ) from None


@dataclass
class _Rule:
    fault: Fault
    product: str | None
    to: str | None
    call: int | None
    times: int | None

    def matches(self, call: int, product: str | None, to: str | None) -> bool:
        return (
            (self.times is None or self.times > 0)
            and (self.call is None or self.call == call)
            and (self.product is None or self.product == product)
            and (self.to is None or self.to == to)
        )


@dataclass
class _Buy:
    """One ref_id's transaction, as the fake keeps it."""

    product: Product
    to: str
    trxid: str
    pending: int  # INPROGRESS answers still due
    unknown: list[str]  # unknown status words still due, after those
    fail: str | None
    offset: int
    final: TransactionResponse | None = None
    status: str = TransactionStatus.INPROGRESS


@dataclass
class _Call:
    """What one request asks, read leniently: the selectors of the faults."""

    number: int
    ref_id: str | None
    product: str | None
    to: str | None
    faults: list[Fault] = field(default_factory=list)

    def has(self, kind: str) -> Fault | None:
        return next((f for f in self.faults if f.kind == kind), None)


class FakeIRS:
    """The fake endpoint: a WSGI application holding the catalogue, the balance, the buys and the faults.

    Thread-safe: requests are answered one at a time inside a lock (a delay
    sleeps outside it), so timestamps, balances and the reply log move in one order.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        catalogue: Iterable[Product] = DEFAULT_CATALOGUE,
        balance: int = 100_000_000,
        client_id: str = DEFAULT_CREDENTIALS["client_id"],
        client_secret: str = DEFAULT_CREDENTIALS["client_secret"],
        idrs: str = DEFAULT_CREDENTIALS["idrs"],
        pin: str = DEFAULT_CREDENTIALS["pin"],
        clock: Callable[[], datetime] | None = None,
        log: str | os.PathLike[str] | None = None,
        history: int = 10_000,
    ) -> None:
        self.seed = seed
        self.catalogue = {p.code: Product(*p) for p in catalogue}
        for product in self.catalogue.values():
            if not _PRODUCT.fullmatch(product.code):
                raise ValueError(
                    f"catalogue: product code {product.code!r} is not 1 to 32 of A-Z a-z 0-9 _ -"
                )
            _bounded_int(f"catalogue: the price of {product.code}", product.price, 0, 10**15)
        self._balance = _bounded_int("balance", balance, 0, 10**15)
        self._credentials = (client_id, client_secret, pin)
        self.idrs = idrs
        self._clock = clock or (lambda: datetime.now(WIB).replace(tzinfo=None))
        self._log = os.fspath(log) if log is not None else None
        if self._log is not None:
            open(self._log, "a").close()  # an unwritable log fails here, not at the first reply
        self._replies: deque[str] = deque(maxlen=_bounded_int("history", history, 1, 10**7))
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._buys: dict[str, _Buy] = {}
        self._calls = 0
        self._last: datetime | None = None
        self.url: str | None = None  # set while running()

    def __repr__(self) -> str:
        return (
            f"FakeIRS(seed={self.seed!r}, client_id={self._credentials[0]!r}, client_secret={MASK}, "
            f"pin={MASK}, url={self.url!r})"
        )

    # -- controls ---------------------------------------------------------------------------------

    def add_fault(
        self,
        fault: Fault,
        *,
        product: str | None = None,
        to: str | None = None,
        call: int | None = None,
        times: int | None = None,
    ) -> None:
        """Script `fault` for requests of `product`, to destination `to`, or the `call`-th request.

        Given together, all must match; given none, every request matches.
        `call` counts the requests to both endpoints from 1. The fault acts on at
        most `times` requests (default: every one that matches). Every fault
        that matches a request acts on it.
        """
        if not isinstance(fault, Fault):
            raise TypeError(f"fault: must be a Fault, not {type(fault).__name__}")
        if call is not None:
            _bounded_int("call", call, 1, 2**62)
        if times is not None:
            _bounded_int("times", times, 1, 2**62)
        with self._lock:
            self._rules.append(_Rule(fault, product, to, call, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    def inquiry_request(
        self,
        product_code: str,
        to: str,
        *,
        amount: int = 0,
        selling_price: int = 0,
        ref_id: str | None = None,
    ) -> InquiryRequest:
        """An inquiry with the fake's credentials."""
        extra = {} if ref_id is None else {"ref_id": ref_id}
        return InquiryRequest(
            *self._request_credentials(),
            product_code=product_code,
            to=to,
            amount=amount,
            selling_price=selling_price,
            **extra,
        )

    def buy_request(
        self, product_code: str, to: str, *, amount: int = 0, ref_id: str | None = None
    ) -> BuyRequest:
        """A buy (or, sent again, its check) with the fake's credentials."""
        extra = {} if ref_id is None else {"ref_id": ref_id}
        return BuyRequest(
            *self._request_credentials(), product_code=product_code, to=to, amount=amount, **extra
        )

    def _request_credentials(self) -> tuple[str, str, str, str]:
        client_id, client_secret, pin = self._credentials
        return client_id, client_secret, self.idrs, pin

    @property
    def balance(self) -> int:
        """The account's balance now."""
        with self._lock:
            return self._balance

    @property
    def calls(self) -> int:
        """How many requests reached the two endpoints."""
        with self._lock:
            return self._calls

    @property
    def replies(self) -> list[str]:
        """The reply lines sent, oldest first (the last `history` of them)."""
        with self._lock:
            return list(self._replies)

    def status(self, ref_id: str) -> str | None:
        """The status of the last reply sent for `ref_id`'s transaction, None for an unknown ref_id."""
        with self._lock:
            buy = self._buys.get(ref_id)
            return None if buy is None else str(buy.status)

    def write_log(self, path: str | os.PathLike[str]) -> None:
        """Write the reply lines sent (`replies`) to `path`, one per line."""
        text = "".join(line + "\n" for line in self.replies)
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write(text)

    # -- serving ---------------------------------------------------------------------------------

    @contextmanager
    def running(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[Self]:
        """Serve on `host:port` (a free port by default) in a thread; `url` is the base URL meanwhile."""
        server = make_server(self, host, port)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeIRS", daemon=True
        )
        thread.start()
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{server.server_port}"
        try:
            yield self
        finally:
            self.url = None
            server.shutdown()
            server.server_close()
            thread.join()

    # -- the WSGI application ------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        kind: type[Request]
        if path.endswith(InquiryRequest.PATH):
            kind = InquiryRequest
        elif path.endswith(BuyRequest.PATH):
            kind = BuyRequest
        else:
            return _respond(
                start_response, "404 Not Found", "not an IRS endpoint: POST .../v1/irs/inquiry or buy"
            )
        if environ.get("REQUEST_METHOD") != "POST":
            return _respond(start_response, "405 Method Not Allowed", "use POST", [("Allow", "POST")])
        # WSGI hands the query over as latin-1; the bytes sent are UTF-8 (when not percent-encoded).
        query = environ.get("QUERY_STRING", "").encode("latin-1").decode(errors="surrogateescape")
        with self._lock:
            call = self._start_call(query)
        delay = sum(f.seconds for f in call.faults if f.kind == "delay")
        if delay:
            time.sleep(delay)
        error = call.has("http_error")
        if error is not None:
            return _respond(
                start_response, f"{error.status} Fault", "a scripted HTTP error from the fake IRS"
            )
        with self._lock:
            line = self._answer(kind, query, call)
            if call.has("malformed") is not None:
                line = self._garble(line)
            if call.has("drop") is not None:
                raise ConnectionDropped(f"call {call.number}: dropped as scripted")
            self._record(line)
        return _respond(start_response, "200 OK", line)

    def _start_call(self, query: str) -> _Call:
        self._calls += 1
        try:
            asked = dict(parse_qsl(query, max_num_fields=64))
        except ValueError:  # too many parameters: no selector, and the request's reader refuses it
            asked = {}
        call = _Call(self._calls, asked.get("ref_id"), asked.get("product_code"), asked.get("to"))
        call.faults = self._take(call, fates=False)
        return call

    def _take(self, call: _Call, *, fates: bool) -> list[Fault]:
        """The faults of one family that match `call`, each one use spent."""
        taken = []
        for rule in self._rules:
            if (rule.fault.kind in Fault.FATES) == fates and rule.matches(call.number, call.product, call.to):
                if rule.times is not None:
                    rule.times -= 1
                taken.append(rule.fault)
        return taken

    def _now(self) -> datetime:
        """The clock, made strictly increasing: the log's order is the order of events."""
        now = self._clock()
        if self._last is not None and now <= self._last:
            now = self._last + timedelta(microseconds=1)
        self._last = now
        return now

    def _record(self, line: str) -> None:
        self._replies.append(line)
        if self._log is not None:
            with open(self._log, "a", encoding="utf-8", newline="") as out:
                out.write(line + "\n")

    def _answer(self, kind: type[Request], query: str, call: _Call) -> str:
        def refuse(reason: str) -> str:
            return self._refuse_inquiry(reason) if kind is InquiryRequest else self._refuse_buy(call, reason)

        try:
            request = kind.from_url(f"http://fake-irs{kind.PATH}?{query}")
        except ValueError as e:  # names the parameter, never a value
            return refuse(str(e))
        given = (request.client_id, request.client_secret, request.pin)
        if not all(
            hmac.compare_digest(a.encode(), b.encode()) for a, b in zip(given, self._credentials, strict=True)
        ):
            return refuse(REASONS["credentials"])
        if isinstance(request, InquiryRequest):
            return self._inquiry(request, call)
        assert isinstance(request, BuyRequest)
        return self._buy(request, call)

    def _refuse_inquiry(self, reason: str) -> str:
        """The failure reply to an inquiry the fake will not answer."""
        return serialize(InquiryResponse.build(timestamp=self._now(), reason=reason))

    def _refuse_buy(self, call: _Call, reason: str) -> str:
        """The failure reply to a buy the fake will not carry out: with the request's own reference
        and product, when a reply can carry them."""
        ref, product = call.ref_id, call.product
        return serialize(
            TransactionResponse.build(
                ref_id=ref if ref is not None and _REF.fullmatch(ref) else PLACEHOLDER,
                product_code=product if product is not None and _PRODUCT.fullmatch(product) else PLACEHOLDER,
                status=TransactionStatus.FAILED,
                reason=reason,
                timestamp=self._now(),
            )
        )

    def _inquiry(self, request: InquiryRequest, call: _Call) -> str:
        product = self.catalogue.get(request.product_code)
        if product is None:
            return self._refuse_inquiry(REASONS["product"])
        if not _DEST.fullmatch(request.to):
            return self._refuse_inquiry(REASONS["destination"])
        failed = next((f for f in self._take(call, fates=True) if f.kind == "fail"), None)
        if failed is not None:
            reply = InquiryResponse.build(
                timestamp=self._now(), customer_number=request.to, reason=failed.reason
            )
            return serialize(reply)
        name, power = self._customer(request.to)
        reply = InquiryResponse.build(
            timestamp=self._now(),
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

    def _buy(self, request: BuyRequest, call: _Call) -> str:
        if not _REF.fullmatch(request.ref_id):
            return self._refuse_buy(call, REASONS["ref_id"])
        product = self.catalogue.get(request.product_code)
        if product is None:
            return self._refuse_buy(call, REASONS["product"])
        if not _DEST.fullmatch(request.to):
            return self._refuse_buy(call, REASONS["destination"])
        buy = self._buys.get(request.ref_id)
        if buy is None:
            fates = self._take(call, fates=True)
            buy = _Buy(
                product,
                request.to,
                str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                pending=sum(f.checks for f in fates if f.kind == "pending"),
                unknown=[f.word for f in fates if f.kind == "unknown_status" for _ in range(f.checks)],
                fail=next((f.reason for f in fates if f.kind == "fail"), None),
                offset=sum(f.offset for f in fates if f.kind == "bad_balance"),
            )
            self._buys[request.ref_id] = buy
            return self._not_final(request, buy, TransactionStatus.INPROGRESS)
        if (buy.product.code, buy.to) != (request.product_code, request.to):
            return self._refuse_buy(call, REASONS["ref_id_reused"])
        if buy.final is not None:  # the same final reply, at this moment
            return serialize(replace(buy.final, timestamp=self._now()))
        if buy.pending:
            buy.pending -= 1
            return self._not_final(request, buy, TransactionStatus.INPROGRESS)
        if buy.unknown:
            return self._not_final(request, buy, buy.unknown.pop(0))
        buy.final = self._resolve(request, buy)
        buy.status = buy.final.status
        return serialize(buy.final)

    def _not_final(self, request: BuyRequest, buy: _Buy, status: str) -> str:
        buy.status = status
        reply = TransactionResponse.build(
            ref_id=request.ref_id,
            product_code=buy.product.code,
            destination=buy.to,
            status=status,
            transaction_id=buy.trxid,
            timestamp=self._now(),
        )
        return serialize(reply)

    def _resolve(self, request: BuyRequest, buy: _Buy) -> TransactionResponse:
        before = self._balance
        reason = buy.fail or (REASONS["balance"] if before < buy.product.price else None)
        common: dict[str, Any] = {
            "ref_id": request.ref_id,
            "product_code": buy.product.code,
            "destination": buy.to,
            "transaction_id": buy.trxid,
            "refid": request.ref_id,
            "timestamp": self._now(),
        }
        if reason is not None:
            shown = max(0, before + buy.offset)
            return TransactionResponse.build(
                status=TransactionStatus.FAILED, reason=reason, balance=(before, 0, shown), **common
            )
        self._balance = before - buy.product.price
        shown = max(0, self._balance + buy.offset)
        return TransactionResponse.build(
            status=TransactionStatus.SUCCESS,
            serial_number=self._serial(buy),
            balance=(before, buy.product.price, shown),
            **common,
        )

    def _serial(self, buy: _Buy) -> str:
        if not buy.product.pln:
            return str(self._rng.randrange(10**6, 10**12))
        token = "-".join(f"{self._rng.randrange(10_000):04d}" for _ in range(5))
        name, power = self._customer(buy.to)
        return f"{token}/{name}/{power}/{buy.product.price / 1500:.1f}"

    def _garble(self, line: str) -> str:
        """A near miss of `line` that the parser refuses (seeded: the same run garbles the same way)."""
        breaks = [make for _, make in BREAKS]
        self._rng.shuffle(breaks)
        for make in breaks:
            candidate = make(line)
            try:
                parse_reply(candidate)
            except ParseError:
                return candidate
        return line[2:]  # without "R#" nothing is a reply


def _respond(
    start_response: StartResponse, status: str, body: str, headers: list[tuple[str, str]] | None = None
) -> list[bytes]:
    data = body.encode(errors="surrogateescape")
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data))), *(headers or [])],
    )
    return [data]


# -- the server of running() and `irs-grammar serve` --------------------------------------------


class _Handler(WSGIRequestHandler):
    """wsgiref's handler, quiet, and able to close a connection without a reply (the drop fault)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        # WSGIRequestHandler.handle, with a ServerHandler that knows ConnectionDropped.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref's close() logs through it
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


class _ServerHandler(ServerHandler):
    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], ConnectionDropped):
            # Nothing written: _Handler.handle serves one request, so the connection closes now.
            return
        super().handle_error()

    def log_exception(self, exc_info: Any) -> None:
        pass  # the client gets the 500; a test's output stays clean


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # fifty clients at once are not refused
    allow_reuse_address = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks the resolver for the host's name: slow, or stuck, off the network.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(app: FakeIRS, host: str = "127.0.0.1", port: int = 0) -> WSGIServer:
    """A threading WSGI server for `app` on `host:port` (not started)."""
    server_class = _Server6 if ":" in host else _Server
    server = server_class((host, port), _Handler)
    server.set_app(app)
    return server
