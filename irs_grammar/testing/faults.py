"""The fake endpoint's scripted faults: what each does, and which requests they act on.

A `Fault` says what goes wrong; `FaultRules` holds each one with its
selectors (product, destination, call number, how many times) and hands a
request the faults that match it. Nothing here knows HTTP or the account.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from ..errors import ParseError, SerializeError
from ..near_misses import BREAKS
from ..wire.inquiry import InquiryResponse
from ..wire.parser import parse_reply
from ..wire.serializer import serialize
from ..wire.transaction import KNOWN_STATUSES, TransactionResponse
from .account import REASONS, STATUS_WORD, Fate, bounded_int


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
        return cls("pending", checks=bounded_int("checks", checks, 1, 1000))

    @classmethod
    def unknown_status(cls, word: str = "SUSPECT", checks: int = 1) -> Fault:
        """A buy answers the unknown status `word` (never final) to `checks` re-checks, then resolves."""
        if not isinstance(word, str) or not STATUS_WORD(word) or word in KNOWN_STATUSES:
            raise ValueError("word: an upper-case word (A-Z, _) other than SUCCESS, FAILED and INPROGRESS")
        return cls("unknown_status", word=word, checks=bounded_int("checks", checks, 1, 1000))

    @classmethod
    def bad_balance(cls, offset: int = 1000) -> Fault:
        """A buy's final reply shows a balance after `offset` rupiah off before - deduction."""
        if bounded_int("offset", offset, -(10**9), 10**9) == 0:
            raise ValueError("offset: must not be 0")
        return cls("bad_balance", offset=offset)

    @classmethod
    def malformed(cls) -> Fault:
        """The reply is a near miss the parser refuses (the request is carried out)."""
        return cls("malformed")

    @classmethod
    def http_error(cls, status: int = 500) -> Fault:
        """An HTTP error status and no reply; the request is not carried out."""
        return cls("http_error", status=bounded_int("status", status, 400, 599))

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
class Rule:
    """A fault and the requests it acts on (all the selectors given must match)."""

    fault: Fault
    product: str | None
    to: str | None
    call: int | None
    times: int | None
    fired: int = 0  # requests it acted on

    def matches(self, call: int, product: str | None, to: str | None) -> bool:
        return (
            (self.times is None or self.times > 0)
            and (self.call is None or self.call == call)
            and (self.product is None or self.product == product)
            and (self.to is None or self.to == to)
        )


@dataclass
class Call:
    """What one request asks, read leniently: the selectors of the faults, and the faults taken."""

    number: int
    ref_id: str | None
    product: str | None
    to: str | None
    faults: list[Fault] = field(default_factory=list)
    request: Any = None  # the InquiryRequest or BuyRequest read from it, once read
    refused: str | None = None  # why it could not be read as one

    def has(self, kind: str) -> Fault | None:
        return next((f for f in self.faults if f.kind == kind), None)


class FaultRules:
    """The faults scripted so far, in the order they were added."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def add(
        self, fault: Fault, *, product: str | None, to: str | None, call: int | None, times: int | None
    ) -> None:
        if not isinstance(fault, Fault):
            raise TypeError(f"fault: must be a Fault, not {type(fault).__name__}")
        if call is not None:
            bounded_int("call", call, 1, 2**62)
        if times is not None:
            bounded_int("times", times, 1, 2**62)
        self.rules.append(Rule(fault, product, to, call, times))

    def clear(self) -> None:
        self.rules.clear()

    def unused(self) -> list[Fault]:
        """The faults that have not acted on any request yet."""
        return [rule.fault for rule in self.rules if rule.fired == 0]

    def take(self, call: Call, *, fates: bool) -> list[Fault]:
        """The faults of one family (fates, or the others) that match `call`, each one use spent."""
        taken = []
        for rule in self.rules:
            if (rule.fault.kind in Fault.FATES) == fates and rule.matches(call.number, call.product, call.to):
                if rule.times is not None:
                    rule.times -= 1
                rule.fired += 1
                taken.append(rule.fault)
        return taken


def fate_of(faults: list[Fault]) -> Fate:
    """What the fates among `faults` (taken at a buy's first request) make of it."""
    return Fate(
        pending=sum(f.checks for f in faults if f.kind == "pending"),
        unknown=[f.word for f in faults if f.kind == "unknown_status" for _ in range(f.checks)],
        fail=next((f.reason for f in faults if f.kind == "fail"), None),
        offset=sum(f.offset for f in faults if f.kind == "bad_balance"),
    )


def garble(line: str, rng: random.Random) -> str:
    """A near miss of `line` that the parser refuses (seeded: the same run garbles the same way)."""
    breaks: list[Callable[[str], str]] = [make for _, make in BREAKS]
    rng.shuffle(breaks)
    for make in breaks:
        candidate = make(line)
        try:
            parse_reply(candidate)
        except ParseError:
            return candidate
    return line[2:]  # without "R#" nothing is a reply


# The vocabulary of a fault written as text (`serve --fault`, the control endpoint):
# KIND[:NAME=VALUE,...], the names those of the Fault's class method and of add_fault's selectors.
_KINDS: dict[str, Callable[..., Fault]] = {
    "fail": Fault.fail,
    "pending": Fault.pending,
    "unknown_status": Fault.unknown_status,
    "bad_balance": Fault.bad_balance,
    "malformed": Fault.malformed,
    "http_error": Fault.http_error,
    "delay": Fault.delay,
    "drop": Fault.drop,
}
_ARGUMENTS = {"reason": str, "checks": int, "word": str, "offset": int, "status": int, "seconds": float}
SELECTORS = {"product": str, "to": str, "call": int, "times": int}


def fault_from_spec(spec: str) -> tuple[Fault, dict[str, Any]]:
    """`pending:checks=2,product=PLN20` -> (Fault.pending(2), {"product": "PLN20"}); ValueError naming
    the part that is wrong. (A value cannot hold `,`: a reason with one is for Python's add_fault.)"""
    kind, _, rest = spec.partition(":")
    make = _KINDS.get(kind)
    if make is None:
        raise ValueError(f"fault {kind[:40]!r}: none of {', '.join(_KINDS)}")
    arguments: dict[str, Any] = {}
    selectors: dict[str, Any] = {}
    for part in rest.split(",") if rest else []:
        name, sep, text = part.partition("=")
        convert = _ARGUMENTS.get(name) or SELECTORS.get(name)
        if not sep or convert is None:
            known = ", ".join([*_ARGUMENTS, *SELECTORS])
            raise ValueError(f"fault {kind}: {part[:40]!r} is not NAME=VALUE with NAME one of {known}")
        try:
            value = convert(text)
        except ValueError:
            raise ValueError(f"fault {kind}: {name} must be {convert.__name__}, not {text[:40]!r}") from None
        (selectors if name in SELECTORS else arguments)[name] = value
    try:
        inspect.signature(make).bind(**arguments)
    except TypeError as error:  # "missing a required argument: 'checks'", "an unexpected keyword ..."
        raise ValueError(f"fault {kind}: {error}") from None
    try:
        return make(**arguments), selectors
    except ValueError as error:
        raise ValueError(f"fault {kind}: {error}") from None
