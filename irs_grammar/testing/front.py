"""`FakeIRS`: the WSGI front of the fake endpoint, where requests meet the fault rules and the account.

It reads each request (path, method, query), takes the faults that match it
(faults.py), checks the credentials and hands the request to the account
(account.py), which writes the reply; then it applies the faults of the
reply itself (malformed, dropped, late, an HTTP error).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Self, Unpack
from urllib.parse import parse_qsl

from ..wire.request import MASK, BuyRequest, InquiryRequest, Request
from .account import DEFAULT_CATALOGUE, DEFAULT_CREDENTIALS, REASONS, Account, Fate, Product
from .faults import Call, Fault, FaultRules, fate_of, fault_from_spec, garble
from .received import Received, Selectors, assert_called, assert_rechecked, masked, problems
from .server import ConnectionDropped, base_url, make_server

WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]


class FakeIRS:
    """The fake endpoint: a WSGI application holding the account (catalogue, balance, buys) and faults.

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
        requests_log: str | os.PathLike[str] | None = None,
    ) -> None:
        self.requests_log = os.fspath(requests_log) if requests_log is not None else None
        self.account = Account(
            seed=seed, catalogue=catalogue, balance=balance, clock=clock, log=log, history=history
        )
        self.seed = seed
        self.catalogue = self.account.catalogue
        self._credentials = (client_id, client_secret, pin)
        self.idrs = idrs
        self.faults = FaultRules()
        self._lock = threading.Lock()
        self._calls = 0
        self._received = 0  # requests of any kind, to any path
        self._requests: deque[Received] = deque(maxlen=history)
        self._url: str | None = None  # set while running()

    @property
    def url(self) -> str:
        """The base URL while `running()`; RuntimeError otherwise (so it is a `str` wherever it works)."""
        if self._url is None:
            raise RuntimeError(
                "the fake is not running: use `with fake.running():` (or the fake_irs fixture)"
            )
        return self._url

    @property
    def running_url(self) -> str | None:
        """The base URL while running, else None."""
        return self._url

    def __repr__(self) -> str:
        return (
            f"FakeIRS(seed={self.seed!r}, client_id={self._credentials[0]!r}, client_secret={MASK}, "
            f"pin={MASK}, url={self._url!r})"
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
        if product is not None and product not in self.catalogue:
            raise ValueError(
                f"product: {product!r} is not in the catalogue ({', '.join(self.catalogue)}): "
                "a fault for it would never act"
            )
        with self._lock:
            self.faults.add(fault, product=product, to=to, call=call, times=times)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

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
            return self.account.balance

    @property
    def calls(self) -> int:
        """How many requests reached the two endpoints."""
        with self._lock:
            return self._calls

    @property
    def replies(self) -> list[str]:
        """The replies as the account wrote them, oldest first (the last `history`): a reply a fault
        spoiled or lost on its way back is here as written, so the books hold every charge."""
        with self._lock:
            return list(self.account.replies)

    @property
    def requests(self) -> list[Received]:
        """Every request received (the last `history`), oldest first: method, path, the query with
        its secrets masked, the request read from it (or why none could be), the reply, the faults."""
        with self._lock:
            return list(self._requests)

    def assert_called(self, **selectors: Unpack[Selectors]) -> list[Received]:
        """The requests matching every selector given (ref_id, product, to, path; `times` of them, or
        at least one), else AssertionError listing what the fake received."""
        return assert_called(self.requests, **selectors)

    def assert_rechecked(self, ref_id: str) -> list[Received]:
        """The buy of `ref_id` was sent again, every time byte for byte the first; else AssertionError."""
        return assert_rechecked(self.requests, ref_id)

    def unused_faults(self) -> list[Fault]:
        """The faults added that have not acted on any request."""
        with self._lock:
            return self.faults.unused()

    def check(self) -> None:
        """Strict mode's check (the fixture runs it at teardown): AssertionError listing every request
        the fake could not read as an IRS request and every fault that never acted."""
        found = problems(self.requests, self.unused_faults())
        if found:
            raise AssertionError(
                "the fake IRS endpoint (strict mode; `strict=False` to allow):\n  " + "\n  ".join(found)
            )

    def status(self, ref_id: str) -> str | None:
        """The status of the last reply sent for `ref_id`'s transaction, None for an unknown ref_id."""
        with self._lock:
            return self.account.status(ref_id)

    def write_log(self, path: str | os.PathLike[str]) -> None:
        """Write the replies (`replies`, the books) to `path`, one per line."""
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
        self._url = base_url(host, server.server_port)
        try:
            yield self
        finally:
            self._url = None
            server.shutdown()
            server.server_close()
            thread.join()

    # -- the WSGI application ------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        # WSGI hands the query over as latin-1; the bytes sent are UTF-8 (when not percent-encoded).
        query = environ.get("QUERY_STRING", "").encode("latin-1").decode(errors="surrogateescape")
        if path.endswith(CONTROL_PATH):
            return self._control(method, query, _json_body(environ), start_response)
        kind: type[Request]
        if path.endswith(InquiryRequest.PATH):
            kind = InquiryRequest
        elif path.endswith(BuyRequest.PATH):
            kind = BuyRequest
        else:
            body = "not an IRS endpoint: POST .../v1/irs/inquiry or buy"
            self._note(method, path, query, 404, body, refused="not an IRS endpoint")
            return _respond(start_response, "404 Not Found", body)
        if method != "POST":
            self._note(method, path, query, 405, "use POST", refused=f"method {method}, not POST")
            return _respond(start_response, "405 Method Not Allowed", "use POST", [("Allow", "POST")])
        if not _read_body(environ):
            body = f"the parameters go in the query; a body of more than {MAX_BODY:,} bytes is refused"
            self._note(method, path, query, 413, body, refused=f"a body of more than {MAX_BODY:,} bytes")
            return _respond(start_response, "413 Content Too Large", body)
        with self._lock:
            call = self._start_call(query)
        delay = sum(f.seconds for f in call.faults if f.kind == "delay")
        if delay:
            time.sleep(delay)
        error = call.has("http_error")
        if error is not None:
            body = "a scripted HTTP error from the fake IRS"
            self._note(method, path, query, error.status, body, call=call)
            return _respond(start_response, f"{error.status} Fault", body)
        with self._lock:
            line = self._answer(kind, query, call)
            # The books: the reply as the account wrote it, before the way back spoils or loses it,
            # so the log holds every rupiah the account moved.
            self.account.record(line)
            if call.has("malformed") is not None:
                line = garble(line, self.account.rng)
            if call.has("drop") is not None:
                self._note(method, path, query, 0, None, call=call, locked=True)
                raise ConnectionDropped(f"call {call.number}: dropped as scripted")
            self._note(method, path, query, 200, line, call=call, locked=True)
        return _respond(start_response, "200 OK", line)

    def _note(
        self,
        method: str,
        path: str,
        query: str,
        status: int,
        reply: str | None,
        *,
        call: Call | None = None,
        refused: str | None = None,
        locked: bool = False,
    ) -> None:
        """Keep what came and what went back (`requests`)."""
        if not locked:
            with self._lock:
                self._note(method, path, query, status, reply, call=call, refused=refused, locked=True)
            return
        self._received += 1
        received = Received(
            number=self._received,
            method=method,
            path=path,
            query=masked(query),
            request=None if call is None else call.request,
            status=status,
            reply=reply,
            time=self.account.clock(),
            faults=() if call is None else tuple(call.faults),
            refused=refused if call is None else call.refused,
            raw_query=query,
            asked_ref_id=None if call is None else call.ref_id,
        )
        self._requests.append(received)
        if self.requests_log is not None:  # JSON Lines, secrets masked; a failing log fails no request
            with contextlib.suppress(OSError), open(self.requests_log, "a", encoding="utf-8") as out:
                out.write(json.dumps(received.to_dict()) + "\n")

    def _control(self, method: str, query: str, body: object, start_response: StartResponse) -> list[bytes]:
        """`POST .../_fake/faults?fault=SPEC` (or a JSON body `{"faults": [SPEC, ...]}`) adds faults in
        serve --fault's vocabulary, `DELETE` clears them: a client in another language scripts the
        fake while it runs. Not an IRS request: not recorded, never faulted. Answers in JSON."""
        if method == "DELETE":
            self.clear_faults()
            return _respond_json(start_response, "200 OK", {"cleared": True})
        if method != "POST":
            return _respond(
                start_response, "405 Method Not Allowed", "POST or DELETE", [("Allow", "POST, DELETE")]
            )
        try:
            specs = [value for name, value in parse_qsl(query, max_num_fields=64) if name == "fault"]
        except ValueError:  # parse_qsl refuses a 65th parameter: a bounded query, said as a 400
            return _respond_json(start_response, "400 Bad Request", {"error": "at most 64 query parameters"})
        if isinstance(body, dict) and isinstance(body.get("faults"), list):
            specs += [spec for spec in body["faults"] if isinstance(spec, str)]
        if not specs:
            problem = 'fault=KIND[:NAME=VALUE,...] in the query, or {"faults": [...]} as JSON, expected'
            return _respond_json(start_response, "400 Bad Request", {"error": problem})
        try:
            parsed = [fault_from_spec(spec) for spec in specs]  # all read before any is added
            for fault, selectors in parsed:
                self.add_fault(fault, **selectors)
        except (ValueError, TypeError) as error:
            return _respond_json(start_response, "400 Bad Request", {"error": str(error)})
        return _respond_json(start_response, "200 OK", {"added": len(specs)})

    def _start_call(self, query: str) -> Call:
        self._calls += 1
        try:
            asked = dict(parse_qsl(query, max_num_fields=64))
        except ValueError:  # too many parameters: no selector, and the request's reader refuses it
            asked = {}
        call = Call(self._calls, asked.get("ref_id"), asked.get("product_code"), asked.get("to"))
        call.faults = self.faults.take(call, fates=False)
        return call

    def _answer(self, kind: type[Request], query: str, call: Call) -> str:
        account = self.account

        def refuse(reason: str) -> str:
            if kind is InquiryRequest:
                return account.refuse_inquiry(reason)
            return account.refuse_buy(call.ref_id, call.product, reason)

        try:
            request = kind.from_url(f"http://fake-irs{kind.PATH}?{query}")
        except ValueError as e:  # names the parameter, never a value
            call.refused = f"malformed: {e}"
            return refuse(str(e))
        call.request = request
        given = (request.client_id, request.client_secret, request.pin)
        if not all(
            hmac.compare_digest(a.encode(), b.encode()) for a, b in zip(given, self._credentials, strict=True)
        ):
            return refuse(REASONS["credentials"])

        def fate() -> Fate:
            return fate_of(self.faults.take(call, fates=True))

        if isinstance(request, InquiryRequest):
            return account.inquire(request, fate)
        assert isinstance(request, BuyRequest)
        return account.buy(request, fate, refuse)


CONTROL_PATH = "/_fake/faults"  # where a client in another language scripts the faults

# The endpoints take their parameters in the query: a body is read (so that the connection closes
# cleanly and the reply is not lost) and dropped, up to this many bytes; a longer one is refused.
MAX_BODY = 64 << 10
_DRAIN = 16 << 20  # past MAX_BODY, at most this much is read away before the refusal


def _read_body(environ: WSGIEnviron) -> bool:
    """Read the request's body away; False when it is longer than MAX_BODY (the request is refused)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None or length <= 0:
        return True
    left = min(length, _DRAIN)
    while left > 0:
        chunk = stream.read(min(left, 1 << 16))
        if not chunk:
            break
        left -= len(chunk)
    return length <= MAX_BODY


def _json_body(environ: WSGIEnviron) -> object:
    """A control request's JSON body (at most MAX_BODY bytes), or None."""
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
    except ValueError:
        return None
    stream = environ.get("wsgi.input")
    if stream is None or length <= 0:
        return None
    try:
        return json.loads(stream.read(length))
    except (ValueError, UnicodeDecodeError):
        return None


def _respond_json(start_response: StartResponse, status: str, document: object) -> list[bytes]:
    data = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _respond(
    start_response: StartResponse, status: str, body: str, headers: list[tuple[str, str]] | None = None
) -> list[bytes]:
    data = body.encode(errors="surrogateescape")
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data))), *(headers or [])],
    )
    return [data]
