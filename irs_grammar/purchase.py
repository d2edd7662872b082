"""A buy carried to its outcome without refunding a paid purchase or buying twice (sans-IO).

Klikoo's rule: a buy that is not final is checked by sending **the same buy
request, with the same ref_id**, again. What comes back may be INPROGRESS,
SUCCESS, FAILED, a status word nobody documented, a line that is no reply, an
HTTP error, a timeout or a dropped connection. `Purchase` decides, for each of
them, what to do next, and when there is nothing left to do, the outcome:

    succeeded         a SUCCESS for this ref_id, product and destination: SN, TRXID, deduction
    failed            a FAILED for this ref_id, product and destination (confirmed by one more
                      check by default): the only outcome on which to refund
    conflicting       both SUCCESS and FAILED for this ref_id: never refund; ask Klikoo
    needs_attention   no final reply before the age limit, a reply for another ref_id, product or
                      destination, a refusal (FAILED with TRXID `-` and no destination), or a
                      reply that contradicts an earlier final one: never refund; ask a human

A timeout, an HTTP error, a malformed reply, an unknown status word or a
dropped connection is never `failed`: the request is sent again, byte for
byte the first one, on the schedule below, until a final reply or the age
limit.

Like h11 it owns no socket and no clock: ask `next_step(now)` and do what it
says (`Send` these exact bytes, `Wait` until a moment, or `Done`), then tell it
what happened with the moment it happened (`reply`, `http_error`,
`timed_out`, `dropped`). Moments are timezone-aware datetimes. `to_state()`
is a JSON-able dict without the client_secret or the pin; save it before each
send, and a worker that died between the send and the reply resumes the same
ref_id with `Purchase.from_state(state, client_secret=..., pin=...)`.

>>> from datetime import datetime, timedelta, timezone
>>> from irs_grammar import BuyRequest
>>> start = datetime(2024, 12, 1, 10, 0, tzinfo=timezone.utc)
>>> request = BuyRequest(client_id="c", client_secret="s3cret", idrs="I", pin="123456",
...                      product_code="PLN20", to="0817345544", amount=20500, ref_id="359912451")
>>> buy = Purchase(request, "https://example.com", at=start)
>>> step = buy.next_step(start)
>>> step.method, step.redacted.split("?")[0]
('POST', 'https://example.com/v1/irs/buy')
>>> buy.reply("R#359912451 PLN20. 0817345544 INPROGRESS. TRXID: 14430673. @10:00:01.000000 01/12/2024",
...           at=start)
>>> buy.next_step(start)
Wait(until=datetime.datetime(2024, 12, 1, 10, 0, 5, tzinfo=datetime.timezone.utc))
>>> buy.next_step(start + timedelta(seconds=5)).url == step.url  # the same bytes again
True
>>> buy.reply("R#359912451 PLN20. 0817345544 SUCCESS. SN: 4779928. TRXID: 14430673. "
...           "SISA SALDO: 97.411.793 - 20.546 = 97.391.247 @10:00:06.000000 01/12/2024&refid=359912451",
...           at=start + timedelta(seconds=6))
>>> outcome = buy.next_step(start + timedelta(seconds=6)).outcome
>>> outcome.result, outcome.serial_number, outcome.deduction
('succeeded', '4779928', 20546)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .errors import ParseError
from .wire.parser import parse_reply
from .wire.request import METHOD, BuyRequest
from .wire.transaction import NO_TRANSACTION_ID, TransactionResponse, TransactionStatus

__all__ = [
    "CONFLICTING",
    "FAILED",
    "NEEDS_ATTENTION",
    "OUTCOMES",
    "SUCCEEDED",
    "WHAT_TO_DO",
    "Done",
    "Purchase",
    "PurchaseError",
    "PurchaseOutcome",
    "Schedule",
    "Send",
    "Step",
    "Wait",
]

SUCCEEDED, FAILED, CONFLICTING, NEEDS_ATTENTION = "succeeded", "failed", "conflicting", "needs_attention"
OUTCOMES = (SUCCEEDED, FAILED, CONFLICTING, NEEDS_ATTENTION)
# What the integrator does on each outcome (the README's table says the same).
WHAT_TO_DO = {
    SUCCEEDED: "deliver: the purchase is paid and done",
    FAILED: "refund: the only outcome on which the money was not spent",
    CONFLICTING: "never refund; ask Klikoo which reply is true",
    NEEDS_ATTENTION: "never refund; a human looks at the ref_id (check again later with the same ref_id)",
}
MAX_REPLY = 64 * 1024  # a reply is one short line; a longer body is not one
STATE_FORMAT = "irs-grammar purchase 1"
_HISTORY = 20  # the last events kept for the outcome's story (the state stays small)


class PurchaseError(Exception):
    """A call out of turn (an event when no request is out, a naive datetime) or a state that is not one."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """When to check again, in seconds.

    After the n-th answer in a row that is not final (INPROGRESS, an unknown
    word, a malformed reply, an HTTP error, a timeout, a drop) the next check is
    `first_wait * backoff ** (n - 1)` seconds later, at most `longest_wait`; a
    FAILED is confirmed `first_wait` later. No check is sent after `age_limit`
    from the start: the outcome is then `needs_attention`. The defaults (5 s,
    doubling, at most 10 minutes, for 2 days) follow Klikoo's pending transactions,
    which can stay INPROGRESS for hours; a check far later risks being read as a
    new purchase by some suppliers.
    """

    first_wait: float = 5.0
    backoff: float = 2.0
    longest_wait: float = 600.0
    age_limit: float = 2 * 24 * 3600.0

    def __post_init__(self) -> None:
        for name in ("first_wait", "backoff", "longest_wait", "age_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name}: must be a finite number of seconds")
        if self.first_wait <= 0 or self.age_limit <= 0:
            raise ValueError("first_wait and age_limit: must be more than 0")
        if self.backoff < 1:
            raise ValueError("backoff: must be 1 or more (waits never shrink)")
        if self.longest_wait < self.first_wait:
            raise ValueError("longest_wait: must be at least first_wait")

    def wait(self, streak: int) -> float:
        """Seconds before the next check after `streak` answers in a row that were not final."""
        exponent = max(0, streak - 1)
        # log-space comparison: backoff ** exponent would overflow after a long streak
        if exponent * math.log(self.backoff) >= math.log(self.longest_wait / self.first_wait):
            return self.longest_wait
        return float(min(self.first_wait * self.backoff**exponent, self.longest_wait))


@dataclass(frozen=True, slots=True)
class Send:
    """Send this request (these exact bytes) now; then tell the purchase what happened."""

    method: str
    url: str = field(repr=False)  # holds client_secret and pin
    redacted: str  # the URL for logs and messages
    attempt: int  # 1 for the buy, 2... for its checks


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing to do before `until`; then ask again."""

    until: datetime


@dataclass(frozen=True, slots=True)
class PurchaseOutcome:
    """How a purchase ended: one of OUTCOMES, why, and the reply that decided it."""

    result: str
    ref_id: str
    reason: str
    reply: TransactionResponse | None
    attempts: int
    history: tuple[str, ...] = ()  # the last events, oldest first, e.g. "10:00:01 INPROGRESS"

    @property
    def final(self) -> bool:
        """Succeeded or failed: the only outcomes a program may act on alone."""
        return self.result in (SUCCEEDED, FAILED)

    @property
    def what_to_do(self) -> str:
        return WHAT_TO_DO[self.result]

    @property
    def serial_number(self) -> str | None:
        return self.reply.serial_number if self.reply is not None else None

    @property
    def transaction_id(self) -> str | None:
        return self.reply.transaction_id if self.reply is not None else None

    @property
    def deduction(self) -> int | None:
        return self.reply.deduction if self.reply is not None else None


@dataclass(frozen=True, slots=True)
class Done:
    """Nothing left to do: the outcome."""

    outcome: PurchaseOutcome


Step = Send | Wait | Done
_SEND, _WAIT, _DONE = "send", "wait", "done"


def _aware(name: str, moment: datetime) -> datetime:
    if not isinstance(moment, datetime):
        raise PurchaseError(f"{name}: must be a datetime, not {type(moment).__name__}")
    if moment.utcoffset() is None:
        raise PurchaseError(f"{name}: must be timezone-aware (a purchase may outlive its process)")
    return moment


def _clock(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S%z")


class Purchase:
    """One buy's lifecycle: what to send, when, and what the replies mean (see the module doc)."""

    def __init__(
        self,
        request: BuyRequest,
        base_url: str,
        *,
        at: datetime,
        schedule: Schedule | None = None,
        confirm_failure: bool = True,
    ) -> None:
        if not isinstance(request, BuyRequest):
            raise TypeError(f"request: must be a BuyRequest, not {type(request).__name__}")
        self.request = request
        self.base_url = base_url
        self._url = request.to_url(base_url)  # checks base_url; the bytes of every send
        self._redacted = request.redacted(base_url)
        self.schedule = schedule if schedule is not None else Schedule()
        self.confirm_failure = bool(confirm_failure)
        self.started = _aware("at", at)
        self._phase = _SEND
        self._until: datetime | None = None
        self._streak = 0  # answers in a row that were not final
        self._attempts = 0  # answers taken (one per send)
        self._failed: TransactionResponse | None = None  # a FAILED waiting for its confirmation
        self._failed_line: str | None = None
        self._outcome: PurchaseOutcome | None = None
        self._outcome_line: str | None = None
        self._history: list[str] = []

    def __repr__(self) -> str:
        return f"Purchase({self._redacted!r}, phase={self._phase!r}, attempts={self._attempts})"

    @property
    def ref_id(self) -> str:
        return self.request.ref_id

    @property
    def outcome(self) -> PurchaseOutcome | None:
        """The outcome once done, else None."""
        return self._outcome

    # -- what to do --------------------------------------------------------------------------------

    def next_step(self, now: datetime) -> Step:
        """Send, Wait or Done, at `now`. A Send is the same bytes every time, until an answer is given."""
        _aware("now", now)
        if self._phase == _WAIT:
            assert self._until is not None
            if now < self._until:
                return Wait(self._until)
            self._phase, self._until = _SEND, None
        if self._phase == _DONE:
            assert self._outcome is not None
            return Done(self._outcome)
        return Send(METHOD, self._url, self._redacted, self._attempts + 1)

    # -- what happened -----------------------------------------------------------------------------

    def reply(self, body: str | bytes, *, at: datetime) -> None:
        """The body of an HTTP 200 answer to the request sent."""
        self._answer_due(at)
        if isinstance(body, bytes):
            if len(body) > MAX_REPLY:
                return self._not_final(at, f"a body of more than {MAX_REPLY:,} bytes (no reply is that long)")
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError as error:
                return self._not_final(at, f"a body that is not UTF-8 (byte {error.start + 1})")
        elif not isinstance(body, str):
            raise TypeError(f"body: must be str or bytes, not {type(body).__name__}")
        if len(body) > MAX_REPLY:
            return self._not_final(
                at, f"a body of more than {MAX_REPLY:,} characters (no reply is that long)"
            )
        try:
            reply = parse_reply(body)  # the parser takes one line break at the end, and no more
        except ParseError as error:
            return self._not_final(at, f"a malformed reply ({error})")
        line = body.removesuffix("\n").removesuffix("\r")
        if not isinstance(reply, TransactionResponse):
            return self._not_final(at, "an inquiry reply to a buy")
        self._judge(reply, line, at)

    def http_error(self, status: int, *, at: datetime) -> None:
        """An HTTP status other than 200, and no reply."""
        self._answer_due(at)
        self._not_final(at, f"HTTP status {int(status)}")

    def timed_out(self, *, at: datetime) -> None:
        """No answer in time: the request may or may not have been carried out."""
        self._answer_due(at)
        self._not_final(at, "no answer in time")

    def dropped(self, *, at: datetime) -> None:
        """The connection failed or closed without an answer: the request may have been carried out."""
        self._answer_due(at)
        self._not_final(at, "the connection closed without an answer")

    # -- the rules ---------------------------------------------------------------------------------

    def _answer_due(self, at: datetime) -> None:
        _aware("at", at)
        if self._phase != _SEND:
            raise PurchaseError(
                f"no request is out ({self._phase}): ask next_step() and send what it says first"
            )
        self._attempts += 1

    def _judge(self, reply: TransactionResponse, line: str, at: datetime) -> None:
        request = self.request
        status = reply.status
        if reply.ref_id != request.ref_id or (reply.refid is not None and reply.refid != request.ref_id):
            return self._done(
                NEEDS_ATTENTION, f"a reply for another ref_id ({reply.ref_id!r})", reply, line, at
            )
        if (
            status == TransactionStatus.FAILED
            and reply.destination is None
            and reply.trxid == NO_TRANSACTION_ID
        ):
            reason = reply.reason or "no reason given"
            return self._done(
                NEEDS_ATTENTION, f"refused: {reason} (the purchase was not taken)", reply, line, at
            )
        if (reply.product_code, reply.destination) != (request.product_code, request.to):
            return self._done(
                NEEDS_ATTENTION,
                f"a {status} reply for product {reply.product_code!r} to {reply.destination!r}, "
                f"not the {request.product_code!r} to {request.to!r} bought",
                reply,
                line,
                at,
            )
        if status == TransactionStatus.SUCCESS:
            if self._failed is not None:
                return self._done(CONFLICTING, "SUCCESS after FAILED for one ref_id", reply, line, at)
            return self._done(SUCCEEDED, "SUCCESS", reply, line, at)
        if status == TransactionStatus.FAILED:
            if self._failed is not None or not self.confirm_failure:
                first = self._failed or reply
                reason = reply.reason or "no reason given"
                return self._done(FAILED, f"FAILED: {reason}", first, self._failed_line or line, at)
            self._failed, self._failed_line = reply, line
            self._note(at, f"FAILED, to be confirmed: {reply.reason or 'no reason given'}")
            self._streak = 0
            return self._wait(at, self.schedule.first_wait)
        if self._failed is not None:
            return self._done(NEEDS_ATTENTION, f"{status} after FAILED for one ref_id", reply, line, at)
        self._not_final(at, str(status))

    def _not_final(self, at: datetime, what: str) -> None:
        self._note(at, what)
        self._streak += 1
        self._wait(at, self.schedule.wait(self._streak))

    def _wait(self, at: datetime, seconds: float) -> None:
        deadline = self.started + timedelta(seconds=self.schedule.age_limit)
        if at >= deadline:
            last = self._history[-1]  # every wait follows a noted answer
            self._done(
                NEEDS_ATTENTION,
                f"no final reply in {timedelta(seconds=self.schedule.age_limit)} (last: {last})",
                self._failed,
                self._failed_line,
                at,
            )
            return
        self._phase = _WAIT
        self._until = min(at + timedelta(seconds=seconds), deadline)

    def _done(
        self,
        result: str,
        reason: str,
        reply: TransactionResponse | None,
        line: str | None,
        at: datetime,
    ) -> None:
        self._note(at, reason)
        self._phase = _DONE
        self._until = None
        self._outcome_line = line
        self._outcome = PurchaseOutcome(
            result, self.request.ref_id, reason, reply, self._attempts, tuple(self._history)
        )

    def _note(self, at: datetime, what: str) -> None:
        self._history.append(f"{_clock(at)} {what[:300]}")
        del self._history[:-_HISTORY]

    # -- surviving a restart -----------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Everything needed to go on, as JSON-able values; no client_secret, no pin."""
        request = self.request
        return {
            "format": STATE_FORMAT,
            "request": {
                "client_id": request.client_id,
                "idrs": request.idrs,
                "product_code": request.product_code,
                "to": request.to,
                "amount": request.amount,
                "ref_id": request.ref_id,
            },
            "base_url": self.base_url,
            "schedule": {
                "first_wait": self.schedule.first_wait,
                "backoff": self.schedule.backoff,
                "longest_wait": self.schedule.longest_wait,
                "age_limit": self.schedule.age_limit,
            },
            "confirm_failure": self.confirm_failure,
            "started": self.started.isoformat(),
            "phase": self._phase,
            "until": self._until.isoformat() if self._until is not None else None,
            "streak": self._streak,
            "attempts": self._attempts,
            "failed_reply": self._failed_line,
            "outcome": None
            if self._outcome is None
            else {
                "result": self._outcome.result,
                "reason": self._outcome.reason,
                "reply": self._outcome_line,
            },
            "history": list(self._history),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], *, client_secret: str, pin: str) -> Purchase:
        """A purchase from `to_state()`'s dict, with the secrets given again.

        PurchaseError names the first entry that is missing or wrong. A purchase
        saved while its request was out sends it again (the same bytes)."""
        try:
            return cls._from_state(state, client_secret, pin)
        except PurchaseError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise PurchaseError(f"state: not a purchase's state ({type(error).__name__}: {error})") from None

    @classmethod
    def _from_state(cls, state: dict[str, Any], client_secret: str, pin: str) -> Purchase:
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise PurchaseError(f"state: its format is not {STATE_FORMAT!r}")
        fields = state["request"]
        request = BuyRequest(
            client_id=fields["client_id"],
            client_secret=client_secret,
            idrs=fields["idrs"],
            pin=pin,
            product_code=fields["product_code"],
            to=fields["to"],
            amount=fields["amount"],
            ref_id=fields["ref_id"],
        )
        purchase = cls(
            request,
            state["base_url"],
            at=datetime.fromisoformat(state["started"]),
            schedule=Schedule(**state["schedule"]),
            confirm_failure=state["confirm_failure"],
        )
        phase = state["phase"]
        if phase not in (_SEND, _WAIT, _DONE):
            raise PurchaseError(f"state: phase {phase!r} is none of send, wait, done")
        purchase._phase = phase
        purchase._until = datetime.fromisoformat(state["until"]) if state["until"] is not None else None
        if (phase == _WAIT) != (purchase._until is not None):
            raise PurchaseError("state: a waiting purchase has a moment to wait for, and only it")
        purchase._streak = _count("streak", state["streak"])
        purchase._attempts = _count("attempts", state["attempts"])
        history = state["history"]
        if not isinstance(history, list) or not all(isinstance(event, str) for event in history):
            raise PurchaseError("state: history is not a list of texts")
        purchase._history = history[-_HISTORY:]
        failed = state["failed_reply"]
        if failed is not None:
            purchase._failed, purchase._failed_line = _transaction("failed_reply", failed), failed
        outcome = state["outcome"]
        if (phase == _DONE) != (outcome is not None):
            raise PurchaseError("state: a purchase that is done has an outcome, and only it")
        if outcome is not None:
            if outcome["result"] not in OUTCOMES:
                raise PurchaseError(f"state: outcome {outcome['result']!r} is none of {', '.join(OUTCOMES)}")
            line = outcome["reply"]
            reply = _transaction("outcome.reply", line) if line is not None else None
            purchase._outcome_line = line
            purchase._outcome = PurchaseOutcome(
                outcome["result"],
                request.ref_id,
                str(outcome["reason"]),
                reply,
                purchase._attempts,
                tuple(purchase._history),
            )
        return purchase


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PurchaseError(f"state: {name} is not a count")
    return value


def _transaction(name: str, line: object) -> TransactionResponse:
    if not isinstance(line, str):
        raise PurchaseError(f"state: {name} is not a reply line")
    try:
        reply = parse_reply(line)
    except ParseError as error:
        raise PurchaseError(f"state: {name} is not a reply ({error})") from None
    if not isinstance(reply, TransactionResponse):
        raise PurchaseError(f"state: {name} is not a transaction reply")
    return reply
