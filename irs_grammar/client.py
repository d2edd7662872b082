"""A thin HTTP client on `irs_grammar.purchase` (the `client` extra: `pip install 'irs-grammar[client]'`).

`Client(base_url).buy(request)` sends the buy, checks it again with the same
bytes on the purchase's schedule, and returns its `PurchaseOutcome`; a timeout,
an HTTP error, a malformed reply or a dropped connection is one more answer
that is not final, never an exception and never `failed`. `inquiry(request)`
returns the `InquiryResponse`, or raises `ClientError`.

Secrets: requests go through an httpx transport directly, not an
`httpx.Client`, whose INFO log line carries the whole URL; this module logs
(`irs_grammar.client`, DEBUG) and raises with the redacted URL only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Self

from .errors import ParseError
from .purchase import MAX_REPLY, Done, Purchase, PurchaseOutcome, Schedule, Send, Wait
from .wire.inquiry import InquiryResponse
from .wire.parser import parse_reply
from .wire.request import METHOD, BuyRequest, InquiryRequest

try:
    import httpx
except ImportError as error:  # pragma: no cover - the extra is installed wherever the tests run
    raise ImportError("irs_grammar.client needs httpx: pip install 'irs-grammar[client]'") from error

__all__ = ["AsyncClient", "Client", "ClientError"]

log = logging.getLogger(__name__)
SaveState = Callable[[dict[str, Any]], None]


class ClientError(Exception):
    """An inquiry that got no reply; the message names what happened and the redacted URL."""


def _now() -> datetime:
    return datetime.now(UTC)


def _body_of_inquiry(status: int, body: bytes, redacted: str) -> InquiryResponse:
    if status != 200:
        raise ClientError(f"HTTP status {status} from {redacted}")
    if len(body) > MAX_REPLY:
        raise ClientError(f"a body of more than {MAX_REPLY:,} bytes from {redacted}")
    try:
        reply = parse_reply(body.decode("utf-8"))  # one line break at the end is the parser's to take
    except UnicodeDecodeError as error:
        raise ClientError(f"a reply that is not UTF-8 (byte {error.start + 1}) from {redacted}") from None
    except ParseError as error:
        raise ClientError(f"a malformed reply from {redacted}: {error}") from None
    if not isinstance(reply, InquiryResponse):
        raise ClientError(f"a transaction reply to an inquiry from {redacted}")
    return reply


class _Settings:
    """What both clients share: the settings, and each step's bookkeeping around the one await."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        schedule: Schedule | None,
        confirm_failure: bool,
        save_state: SaveState | None,
        now: Callable[[], datetime],
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.schedule = schedule
        self.confirm_failure = confirm_failure
        self.save_state = save_state
        self._now = now

    def _purchase(self, request: BuyRequest) -> Purchase:
        return Purchase(
            request,
            self.base_url,
            at=self._now(),
            schedule=self.schedule,
            confirm_failure=self.confirm_failure,
        )

    def _request(self, url: str) -> httpx.Request:
        return httpx.Request(METHOD, url, extensions={"timeout": httpx.Timeout(self.timeout).as_dict()})

    def _sending(self, purchase: Purchase, step: Send) -> None:
        """Before a send: the state saved (a crash after this resumes the same ref_id)."""
        if self.save_state is not None:
            self.save_state(purchase.to_state())
        log.debug("sending %s %s", step.method, step.redacted)

    def _failed_inquiry(self, error: httpx.HTTPError, redacted: str) -> ClientError:
        if isinstance(error, httpx.TimeoutException):
            return ClientError(f"no answer in {self.timeout} s from {redacted}")
        return ClientError(f"{type(error).__name__} from {redacted}")

    def _answered(self, purchase: Purchase, answer: tuple[int, bytes] | httpx.HTTPError) -> None:
        """Tell the purchase what came of a send: a status and a body, or httpx's error."""
        at = self._now()
        if isinstance(answer, httpx.TimeoutException):
            purchase.timed_out(at=at)
        elif isinstance(answer, httpx.HTTPError):
            purchase.dropped(at=at)
        elif answer[0] == 200:
            purchase.reply(answer[1], at=at)
        else:
            purchase.http_error(answer[0], at=at)


class Client(_Settings):
    """Inquiries and safe buys over HTTP (httpx's transport), blocking.

    `timeout` bounds each request; `schedule` and `confirm_failure` go to each
    `Purchase`; `save_state(dict)` is called with the purchase's state before
    every send (store it, and `resume()` it after a crash). `transport`, `now`
    and `sleep` are for tests (an `httpx.MockTransport`, a fake clock).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        schedule: Schedule | None = None,
        confirm_failure: bool = True,
        save_state: SaveState | None = None,
        transport: httpx.BaseTransport | None = None,
        now: Callable[[], datetime] = _now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(base_url, timeout, schedule, confirm_failure, save_state, now)
        self._transport = transport if transport is not None else httpx.HTTPTransport()
        self._sleep = sleep

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def inquiry(self, request: InquiryRequest) -> InquiryResponse:
        """The inquiry's reply, or ClientError naming what went wrong (and the redacted URL)."""
        redacted = request.redacted(self.base_url)
        try:
            status, body = self._send(request.to_url(self.base_url))
        except httpx.HTTPError as error:
            raise self._failed_inquiry(error, redacted) from None
        return _body_of_inquiry(status, body, redacted)

    def buy(self, request: BuyRequest) -> PurchaseOutcome:
        """Buy, and check again with the same request until the outcome (see irs_grammar.purchase)."""
        return self.drive(self._purchase(request))

    def resume(self, state: dict[str, Any], *, client_secret: str, pin: str) -> PurchaseOutcome:
        """Carry on a purchase saved by `save_state` (the same ref_id, the same bytes)."""
        return self.drive(Purchase.from_state(state, client_secret=client_secret, pin=pin))

    def drive(self, purchase: Purchase) -> PurchaseOutcome:
        """Do what `purchase` says until it is done."""
        while not isinstance(step := purchase.next_step(self._now()), Done):
            if isinstance(step, Wait):
                self._sleep(max(0.0, (step.until - self._now()).total_seconds()))
                continue
            self._sending(purchase, step)
            try:
                answer: tuple[int, bytes] | httpx.HTTPError = self._send(step.url)
            except httpx.HTTPError as error:
                answer = error
            self._answered(purchase, answer)
        return step.outcome

    def _send(self, url: str) -> tuple[int, bytes]:
        response = self._transport.handle_request(self._request(url))
        try:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_REPLY:
                    break  # a reply is one short line: the rest is not read, the purchase says why
            return response.status_code, body
        finally:
            response.close()


class AsyncClient(_Settings):
    """`Client` for asyncio (httpx's async transport); the same arguments, `sleep` a coroutine function."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        schedule: Schedule | None = None,
        confirm_failure: bool = True,
        save_state: SaveState | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = _now,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        super().__init__(base_url, timeout, schedule, confirm_failure, save_state, now)
        self._transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self._sleep = sleep

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def inquiry(self, request: InquiryRequest) -> InquiryResponse:
        redacted = request.redacted(self.base_url)
        try:
            status, body = await self._send(request.to_url(self.base_url))
        except httpx.HTTPError as error:
            raise self._failed_inquiry(error, redacted) from None
        return _body_of_inquiry(status, body, redacted)

    async def buy(self, request: BuyRequest) -> PurchaseOutcome:
        return await self.drive(self._purchase(request))

    async def resume(self, state: dict[str, Any], *, client_secret: str, pin: str) -> PurchaseOutcome:
        return await self.drive(Purchase.from_state(state, client_secret=client_secret, pin=pin))

    async def drive(self, purchase: Purchase) -> PurchaseOutcome:
        while not isinstance(step := purchase.next_step(self._now()), Done):
            if isinstance(step, Wait):
                await self._sleep(max(0.0, (step.until - self._now()).total_seconds()))
                continue
            self._sending(purchase, step)
            try:
                answer: tuple[int, bytes] | httpx.HTTPError = await self._send(step.url)
            except httpx.HTTPError as error:
                answer = error
            self._answered(purchase, answer)
        return step.outcome

    async def _send(self, url: str) -> tuple[int, bytes]:
        response = await self._transport.handle_async_request(self._request(url))
        try:
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_REPLY:
                    break  # a reply is one short line: the rest is not read, the purchase says why
            return response.status_code, body
        finally:
            await response.aclose()
