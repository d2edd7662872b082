"""What the fake endpoint received: every request, as read, with what was done with it.

`FakeIRS.requests` holds one `Received` per request (the last `history`),
secrets masked: the first question of a failing test is what the client sent.
The assertions (`assert_called`, `assert_rechecked`, `check`) live here too, so
that their messages show what came instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict, Unpack

from ..wire.request import MASK, SECRETS, BuyRequest, InquiryRequest
from .faults import Fault


@dataclass(frozen=True)
class Received:
    """One request: how it came, what it asked (None when it could not be read), what it got."""

    number: int  # from 1, in the order the fake took them
    method: str
    path: str
    query: str  # as sent, client_secret and pin masked
    request: InquiryRequest | BuyRequest | None  # its repr masks the secrets
    status: int  # the HTTP status sent (0: the connection was dropped)
    reply: str | None  # the body sent (a garbled one as garbled); None when none was
    time: datetime
    faults: tuple[Fault, ...] = ()
    refused: str | None = None  # why this was not an IRS request the fake could read
    raw_query: str = field(default="", repr=False, compare=False)  # secrets and all: compared, never shown
    asked_ref_id: str | None = None  # the ref_id parameter as sent, read leniently (also when not read whole)

    @property
    def ref_id(self) -> str | None:
        return self.request.ref_id if self.request is not None else self.asked_ref_id

    def to_dict(self) -> dict[str, object]:
        """The JSON-able record (`serve --requests-log`): secrets masked, the request's fields as read."""
        return {
            "number": self.number,
            "time": self.time.isoformat(sep=" "),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "ref_id": self.ref_id,
            "status": self.status,
            "reply": self.reply,
            "faults": [fault.kind for fault in self.faults],
            "refused": self.refused,
        }

    def line(self) -> str:
        """One line for a failure message."""
        what = f"refused: {self.refused}" if self.refused else f"{self.status} {(self.reply or '')[:80]!r}"
        faults = f" [{', '.join(f.kind for f in self.faults)}]" if self.faults else ""
        return f"#{self.number} {self.method} {self.path}?{self.query[:200]} -> {what}{faults}"


def masked(query: str) -> str:
    """The query with the values of client_secret and pin replaced by ***."""
    parts = []
    for part in query.split("&"):
        name, sep, _ = part.partition("=")
        parts.append(f"{name}={MASK}" if sep and name in SECRETS else part)
    return "&".join(parts)


def _listing(received: Sequence[Received], limit: int = 20) -> str:
    if not received:
        return "  (no request at all)"
    shown = [f"  {r.line()}" for r in received[-limit:]]
    if len(received) > limit:
        shown.insert(0, f"  ... {len(received) - limit} earlier ones")
    return "\n".join(shown)


class Selectors(TypedDict, total=False):
    """Which requests assert_called() counts: all the selectors given must match."""

    ref_id: str
    product: str
    to: str
    path: str  # the end of the path: "/v1/irs/buy"
    times: int  # exactly this many (default: at least one)


def assert_called(received: Sequence[Received], **selectors: Unpack[Selectors]) -> list[Received]:
    """The requests that match every selector given; AssertionError, listing what came, when none
    did (or not `times` of them)."""
    ref_id, product, to = selectors.get("ref_id"), selectors.get("product"), selectors.get("to")
    path, times = selectors.get("path"), selectors.get("times")
    matching = [
        r
        for r in received
        if r.request is not None
        and (ref_id is None or r.request.ref_id == ref_id)
        and (product is None or r.request.product_code == product)
        and (to is None or r.request.to == to)
        and (path is None or r.path.endswith(path))
    ]
    if (times is None and not matching) or (times is not None and len(matching) != times):
        wanted = ", ".join(
            f"{name}={value!r}"
            for name, value in (("ref_id", ref_id), ("product", product), ("to", to), ("path", path))
            if value is not None
        )
        expected = "at least once" if times is None else f"{times} time{'s' if times != 1 else ''}"
        raise AssertionError(
            f"expected a request with {wanted or 'anything'} {expected}, got {len(matching)}; "
            f"the fake received:\n{_listing(received)}"
        )
    return matching


def assert_rechecked(received: Sequence[Received], ref_id: str) -> list[Received]:
    """The buy of `ref_id` and its re-checks: at least two requests, each byte for byte the first."""
    buys = [r for r in received if r.request is not None and r.request.ref_id == ref_id]
    buys = [r for r in buys if isinstance(r.request, BuyRequest)]
    if len(buys) < 2:
        raise AssertionError(
            f"expected the buy of ref_id {ref_id!r} and at least one re-check, got {len(buys)} "
            f"request{'s' if len(buys) != 1 else ''}; the fake received:\n{_listing(received)}"
        )
    first = buys[0]
    differing = [
        r for r in buys[1:] if (r.method, r.path, r.raw_query) != (first.method, first.path, first.raw_query)
    ]
    if differing:
        raise AssertionError(
            f"a re-check of ref_id {ref_id!r} is not the first buy byte for byte:\n"
            f"  first: {first.line()}\n" + "\n".join(f"  then:  {r.line()}" for r in differing)
        )
    return buys


def problems(received: Iterable[Received], unused: Iterable[Fault]) -> list[str]:
    """What strict mode fails a test for: requests refused as not IRS requests, faults never used."""
    found = [f"request {r.line()}" for r in received if r.refused is not None]
    found += [f"fault {fault!r} never acted on a request" for fault in unused]
    return found
