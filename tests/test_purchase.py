"""The purchase lifecycle (irs_grammar.purchase): a buy's outcome from what happened, never a wrong refund.

Replies are the documented buy samples (../shared/reference/transaction-replies.md) and
lines of their shapes; the expected outcomes come from the rules of the issue and the
module's doc: FAILED only on a FAILED for the ref_id, product and destination bought;
a refusal, a timeout, an HTTP error, a malformed line, an unknown word or a drop never.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from irs_grammar import BuyRequest
from irs_grammar.purchase import (
    CONFLICTING,
    FAILED,
    NEEDS_ATTENTION,
    OUTCOMES,
    SUCCEEDED,
    WHAT_TO_DO,
    Done,
    Purchase,
    PurchaseError,
    Schedule,
    Send,
    Wait,
)
from irs_grammar.reconciliation import OUTCOMES as RECONCILE_OUTCOMES
from tests.reach import reached

ROOT = Path(__file__).resolve().parent.parent

BASE = "https://example.com/klikoo-b2b"
START = datetime(2024, 2, 20, 8, 25, 0, tzinfo=UTC)
SECRET, PIN = "s3cret-Value", "975310"

# The documented samples, and the request each answers.
SUCCESS_SAMPLE = (
    "R#359912451 MXD17. 48429495 SUCCESS. SN: 4779928. TRXID: 5a8ae07d-c01c-48c1-b38a-20a1f7ea0200. "
    "SISA SALDO: 97.411.793 - 18.800 = 97.392.993 @15:25:39.484331 20/02/2024&refid=359912451"
)
FAILED_SAMPLE = (
    "R#204900199 MXD40. 151443938 FAILED. REASON: FR_NOT_SELECTED. TRXID: 3f613573-893a-418d-90ce-"
    "2b84778e1454. SISA SALDO: 31.515.657 - 0 = 31.473.857 @18:21:31.327611 16/02/2024&refid=204900199"
)
INPROGRESS_SAMPLE = (
    "R#00f7ade1-68df-4d58-a7c9-297ec86e6632 DNOPEN. 081111111111 INPROGRESS. TRXID: 14430673. "
    "@15:42:50.308103 23/10/2024"
)
REFUSAL_SAMPLE = (
    "R#00f7ade1-68df-4d58-a7c9-297ec86e6632 DNOPEN FAILED. REASON: Amount must be in numbers only. "
    "TRXID: -. @15:45:02.875417 23/10/2024"
)


def request(ref_id: str = "359912451", product: str = "MXD17", to: str = "48429495") -> BuyRequest:
    return BuyRequest(
        client_id="c17229eb",
        client_secret=SECRET,
        idrs="IDRS",
        pin=PIN,
        product_code=product,
        to=to,
        amount=18800,
        ref_id=ref_id,
    )


def reply(status: str, *, ref_id: str = "359912451", product: str = "MXD17", to: str = "48429495") -> str:
    """A reply of the documented shape for the default request, with `status`."""
    if status == "SUCCESS":
        return SUCCESS_SAMPLE.replace("359912451", ref_id).replace("MXD17", product).replace("48429495", to)
    if status == "FAILED":
        return (
            f"R#{ref_id} {product}. {to} FAILED. REASON: FR_NOT_SELECTED. TRXID: 3f613573. "
            f"SISA SALDO: 31.515.657 - 0 = 31.515.657 @18:21:31.327611 16/02/2024&refid={ref_id}"
        )
    return f"R#{ref_id} {product}. {to} {status}. TRXID: 14430673. @15:42:50.308103 20/02/2024"


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def run(purchase: Purchase, answers: list[Callable[[Purchase, datetime], None]]) -> list[datetime]:
    """Give each answer in turn at the moment the purchase asks for the next send, until it is done;
    the moments of the sends."""
    moments: list[datetime] = []
    now = purchase.started
    for answer in answers:
        step = purchase.next_step(now)
        if isinstance(step, Wait):
            now = step.until
            step = purchase.next_step(now)
        if isinstance(step, Done):
            break
        assert isinstance(step, Send), step
        moments.append(now)
        answer(purchase, now)
    return moments


def line(text: str | bytes) -> Callable[[Purchase, datetime], None]:
    return lambda p, now: p.reply(text, at=now)


def timeout(p: Purchase, now: datetime) -> None:
    p.timed_out(at=now)


def dropped(p: Purchase, now: datetime) -> None:
    p.dropped(at=now)


def http_500(p: Purchase, now: datetime) -> None:
    p.http_error(500, at=now)


LATER = START + timedelta(days=365)


def outcome(purchase: Purchase) -> Done:
    step = purchase.next_step(LATER)
    assert isinstance(step, Done), step
    return step


# -- the documented samples --------------------------------------------------------------------------


def test_the_documented_success_decides_succeeded_with_its_sn_trxid_and_deduction() -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(SUCCESS_SAMPLE)])
    done = outcome(purchase)
    assert done.outcome.result == SUCCEEDED
    assert done.outcome.final
    assert done.outcome.serial_number == "4779928"
    assert done.outcome.transaction_id == "5a8ae07d-c01c-48c1-b38a-20a1f7ea0200"
    assert done.outcome.deduction == 18800
    assert done.outcome.attempts == 1
    assert done.outcome.what_to_do.startswith("deliver")


def test_the_documented_failure_decides_failed_once_a_check_confirms_it() -> None:
    purchase = Purchase(request("204900199", "MXD40", "151443938"), BASE, at=START)
    run(purchase, [line(FAILED_SAMPLE)])
    assert purchase.outcome is None
    assert purchase.next_step(START) == Wait(at(5))  # the confirmation, first_wait later
    assert run(purchase, [line(FAILED_SAMPLE)]) == [at(5)]
    done = outcome(purchase)
    assert done.outcome.result == FAILED
    assert done.outcome.final
    assert done.outcome.reply is not None
    assert done.outcome.reply.reason == "FR_NOT_SELECTED"
    assert done.outcome.attempts == 2
    assert done.outcome.what_to_do.startswith("refund")


def test_without_confirmation_the_first_failed_decides() -> None:
    purchase = Purchase(request("204900199", "MXD40", "151443938"), BASE, at=START, confirm_failure=False)
    run(purchase, [line(FAILED_SAMPLE)])
    assert outcome(purchase).outcome.result == FAILED


def test_the_documented_refusal_is_never_failed() -> None:
    # `DNOPEN FAILED. … TRXID: -.`: no destination, no transaction: the buy was refused, not failed.
    purchase = Purchase(
        request("00f7ade1-68df-4d58-a7c9-297ec86e6632", "DNOPEN", "081111111111"), BASE, at=START
    )
    run(purchase, [line(INPROGRESS_SAMPLE)])  # the documented INPROGRESS of that ref_id first
    run(purchase, [line(REFUSAL_SAMPLE)])
    done = outcome(purchase)
    assert done.outcome.result == NEEDS_ATTENTION
    assert not done.outcome.final
    assert "Amount must be in numbers only" in done.outcome.reason


# -- never failed on what cannot decide -------------------------------------------------------------

NOT_FINAL = {
    "timeout": timeout,
    "dropped": dropped,
    "http 500": http_500,
    "http 404": lambda p, now: p.http_error(404, at=now),
    "malformed": line("R#359912451 MXD17. 48429495 SUCCESS SN 4779928"),
    "not UTF-8": line(b"R#359912451 MXD17. 48429495 \xffSUCCESS"),
    "too long": line(b"R" * (64 * 1024 + 1)),
    "empty": line(""),
    "INPROGRESS": line(reply("INPROGRESS")),
    "unknown word": line(reply("PENDING")),
    "GAGAL": line(reply("GAGAL")),
    "an inquiry reply": line("R#MXD17. PRICE: 18800. @15:25:39.484331 20/02/2024"),
}


@pytest.mark.parametrize("name", NOT_FINAL)
def test_an_answer_that_cannot_decide_is_checked_again_with_the_same_bytes(name: str) -> None:
    purchase = Purchase(request(), BASE, at=START)
    first = purchase.next_step(START)
    run(purchase, [NOT_FINAL[name]] * 4)
    step = purchase.next_step(at(10**5))
    assert isinstance(step, Send)
    assert isinstance(first, Send)
    assert (step.method, step.url, step.redacted) == (first.method, first.url, first.redacted)
    assert (first.attempt, step.attempt) == (1, 5)
    run(purchase, [line(SUCCESS_SAMPLE)])
    assert outcome(purchase).outcome.result == SUCCEEDED


@pytest.mark.parametrize("name", NOT_FINAL)
def test_an_answer_that_cannot_decide_never_becomes_failed_at_the_age_limit(name: str) -> None:
    schedule = Schedule(first_wait=1, backoff=2, longest_wait=60, age_limit=3600)
    purchase = Purchase(request(), BASE, at=START, schedule=schedule)
    moments = run(purchase, [NOT_FINAL[name]] * 200)
    done = outcome(purchase)
    assert done.outcome.result == NEEDS_ATTENTION
    assert "no final reply in 1:00:00" in done.outcome.reason
    # waits of 1, 2, 4, ... 60 s, the last check at the limit itself and none after it
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
    assert gaps[:7] == [1, 2, 4, 8, 16, 32, 60]
    assert max(moments) <= at(3600)


def test_age_limit_sends_a_last_check_at_the_limit_itself() -> None:
    schedule = Schedule(first_wait=100, backoff=1, longest_wait=100, age_limit=250)
    purchase = Purchase(request(), BASE, at=START, schedule=schedule)
    moments = run(purchase, [line(reply("INPROGRESS"))] * 4)
    assert moments == [at(0), at(100), at(200), at(250)]
    assert outcome(purchase).outcome.result == NEEDS_ATTENTION


def test_the_default_schedule_is_the_documented_one() -> None:
    schedule = Schedule()
    assert [schedule.wait(n) for n in range(1, 10)] == [5, 10, 20, 40, 80, 160, 320, 600, 600]
    assert schedule.age_limit == 2 * 24 * 3600
    assert schedule.wait(10**6) == 600  # a long streak neither overflows nor grows


# -- the replies that must not be believed ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (reply("SUCCESS", ref_id="359912452"), "another ref_id"),
        (reply("FAILED", ref_id="359912452"), "another ref_id"),
        (SUCCESS_SAMPLE.replace("&refid=359912451", "&refid=359912452"), "another ref_id"),
        (reply("FAILED", product="MXD40"), "for product 'MXD40'"),
        (reply("FAILED", to="48429496"), "to '48429496'"),
        (reply("SUCCESS", to="48429496"), "to '48429496'"),
        (reply("INPROGRESS", product="MXD40"), "for product 'MXD40'"),
        (
            "R#- MXD17 FAILED. REASON: ref_id already used for another purchase. TRXID: -. "
            "@15:45:02.875417 20/02/2024",
            "another ref_id",
        ),
    ],
)
def test_a_reply_for_another_purchase_needs_attention(text: str, why: str) -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(text)])
    done = outcome(purchase)
    assert done.outcome.result == NEEDS_ATTENTION
    assert why in done.outcome.reason


def test_success_after_failed_is_conflicting_never_failed() -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(reply("FAILED")), line(reply("SUCCESS"))])
    done = outcome(purchase)
    assert done.outcome.result == CONFLICTING
    assert not done.outcome.final
    assert done.outcome.what_to_do.startswith("never refund")


@pytest.mark.parametrize("status", ["INPROGRESS", "PENDING"])
def test_a_reply_not_final_after_failed_needs_attention(status: str) -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(reply("FAILED")), line(reply(status))])
    assert outcome(purchase).outcome.result == NEEDS_ATTENTION


def test_a_failed_left_unconfirmed_at_the_age_limit_needs_attention_and_keeps_the_reply() -> None:
    schedule = Schedule(first_wait=10, age_limit=60)
    purchase = Purchase(request(), BASE, at=START, schedule=schedule)
    run(purchase, [line(reply("FAILED"))] + [timeout] * 30)
    done = outcome(purchase)
    assert done.outcome.result == NEEDS_ATTENTION
    assert done.outcome.reply is not None
    assert done.outcome.reply.status == "FAILED"


# -- turns and moments --------------------------------------------------------------------------------


def test_an_answer_out_of_turn_is_refused() -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(reply("INPROGRESS"))])
    with pytest.raises(PurchaseError, match="no request is out"):
        purchase.timed_out(at=at(1))
    run(purchase, [line(SUCCESS_SAMPLE)])
    with pytest.raises(PurchaseError, match="no request is out"):
        purchase.reply(SUCCESS_SAMPLE, at=at(100))


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(PurchaseError, match="timezone-aware"):
        Purchase(request(), BASE, at=datetime(2024, 2, 20))
    purchase = Purchase(request(), BASE, at=START)
    with pytest.raises(PurchaseError, match="now: must be timezone-aware"):
        purchase.next_step(datetime(2024, 2, 20))


def test_a_wait_ends_at_its_moment_and_not_before() -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(reply("INPROGRESS"))])
    assert purchase.next_step(at(4.999)) == Wait(at(5))
    assert isinstance(purchase.next_step(at(5)), Send)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"first_wait": 0}, "more than 0"),
        ({"age_limit": -1}, "more than 0"),
        ({"backoff": 0.5}, "backoff"),
        ({"first_wait": 10, "longest_wait": 5}, "longest_wait"),
        ({"first_wait": float("nan")}, "first_wait: must be a finite"),
        ({"age_limit": True}, "age_limit: must be a finite"),
    ],
)
def test_a_schedule_that_cannot_be_is_refused(arguments: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Schedule(**arguments)


def test_outcome_names_agree_with_reconcile_the_readme_and_the_format() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Buying safely\n")[1]
    rows = [
        row.split(" | ") for row in readme.split("\n## ")[0].splitlines() if row.startswith("| ")
    ]  # header, then rows
    named = {name for row in rows[1:] for name in re.findall(r"`(\w+)`", row[1])}
    assert named == set(OUTCOMES)
    form = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in form for name in OUTCOMES)
    assert set(OUTCOMES) == set(WHAT_TO_DO)
    # the final outcomes and conflicting are reconcile's words; needs_attention is the purchase's own
    assert {SUCCEEDED, FAILED, CONFLICTING} <= set(RECONCILE_OUTCOMES)
    assert NEEDS_ATTENTION not in RECONCILE_OUTCOMES


# -- no secret anywhere, and a restart --------------------------------------------------------------


def test_no_secret_in_a_repr_a_send_repr_an_outcome_or_the_state() -> None:
    purchase = Purchase(request(), BASE, at=START)
    step = purchase.next_step(START)
    assert isinstance(step, Send)
    assert SECRET in step.url
    assert PIN in step.url
    texts = [repr(purchase), repr(step), str(step)]
    run(purchase, [line(reply("FAILED")), timeout, line(reply("SUCCESS"))])
    texts += [repr(outcome(purchase)), json.dumps(purchase.to_state())]
    for text in texts:
        assert SECRET not in text
        assert PIN not in text


ANSWERS = st.sampled_from(
    [
        line(SUCCESS_SAMPLE),
        line(reply("FAILED")),
        line(reply("INPROGRESS")),
        line(reply("PENDING")),
        line(reply("SUCCESS", to="1")),
        line("nonsense"),
        timeout,
        dropped,
        http_500,
    ]
)


@given(
    answers=st.lists(ANSWERS, max_size=12),
    stop=st.integers(0, 12),
    confirm=st.booleans(),
    zone=st.sampled_from([UTC, timezone(timedelta(hours=7))]),
)
def test_a_purchase_restored_from_its_json_state_goes_on_as_the_original(
    answers: list[Callable[[Purchase, datetime], None]], stop: int, confirm: bool, zone: timezone
) -> None:
    schedule = Schedule(first_wait=3, backoff=1.5, longest_wait=30, age_limit=120)
    start = START.astimezone(zone)
    original = Purchase(request(), BASE, at=start, schedule=schedule, confirm_failure=confirm)
    now = start
    restored: Purchase | None = None
    steps: list[tuple[object, object]] = []
    for number, answer in enumerate(answers):
        if number == stop:
            state = json.loads(json.dumps(original.to_state()))
            assert SECRET not in json.dumps(state)
            assert PIN not in json.dumps(state)
            restored = Purchase.from_state(state, client_secret=SECRET, pin=PIN)
        step = original.next_step(now)
        if isinstance(step, Wait):
            now = step.until
            step = original.next_step(now)
        if restored is not None:
            steps.append((step, restored.next_step(now)))
        if isinstance(step, Done):
            break
        answer(original, now)
        if restored is not None:
            answer(restored, now)
        if original.outcome is not None and original.outcome.result == FAILED:
            # failed only on a FAILED for this purchase, confirmed when asked to be
            assert original.outcome.reply is not None
            assert original.outcome.reply.status == "FAILED"
    if restored is None:  # done before the stop: restore the finished purchase
        restored = Purchase.from_state(
            json.loads(json.dumps(original.to_state())), client_secret=SECRET, pin=PIN
        )
        steps.append((original.next_step(now), restored.next_step(now)))
    reached()
    assert all(mine == theirs for mine, theirs in steps)
    assert restored.to_state() == original.to_state()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(format="other"), "format"),
        (lambda s: s.pop("phase"), "KeyError"),
        (lambda s: s.update(phase="sleeping"), "phase 'sleeping'"),
        (lambda s: s.update(attempts=-1), "attempts is not a count"),
        (lambda s: s.update(until=None), "a waiting purchase"),
        (lambda s: s.update(failed_reply="R#1 A FAILED"), "failed_reply is not a reply"),
        (lambda s: s["request"].update(amount="18800"), "amount: must be an int"),
        (lambda s: s.update(started="yesterday"), "ValueError"),
    ],
)
def test_a_state_that_is_not_one_is_refused_by_name(
    change: Callable[[dict[str, object]], None], message: str
) -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(reply("FAILED"))])
    state = purchase.to_state()
    change(state)
    with pytest.raises(PurchaseError, match=message):
        Purchase.from_state(state, client_secret=SECRET, pin=PIN)


def test_a_purchase_saved_with_its_request_out_sends_it_again() -> None:
    purchase = Purchase(request(), BASE, at=START)
    first = purchase.next_step(START)
    state = purchase.to_state()  # saved before sending; the worker died before the reply
    again = Purchase.from_state(state, client_secret=SECRET, pin=PIN)
    assert again.next_step(at(30)) == first


# -- what it says: steps, history, messages ----------------------------------------------------------


def test_a_send_is_the_method_the_url_and_its_redacted_form() -> None:
    purchase = Purchase(request(), BASE, at=START)
    step = purchase.next_step(START)
    assert isinstance(step, Send)
    assert (step.method, step.url, step.redacted, step.attempt) == (
        "POST",
        request().to_url(BASE),
        request().redacted(BASE),
        1,
    )
    assert repr(purchase) == f"Purchase({request().redacted(BASE)!r}, phase='send', attempts=0)"


def test_the_history_says_what_happened_and_when() -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(
        purchase,
        [
            line(reply("INPROGRESS")),
            line(reply("PENDING")),
            timeout,
            dropped,
            http_500,
            line("R#nonsense"),
            line(b"\xff"),
            line(b"R" * (64 * 1024)),  # exactly 64 KiB: read, and malformed
            line(b"R" * (64 * 1024 + 1)),  # one more: not read
            line("R#MXD17. PRICE: 18800. @15:25:39.484331 20/02/2024"),
            line(reply("FAILED")),
            line(reply("FAILED")),
        ],
    )
    history = outcome(purchase).outcome.history
    said = [event.split(" ", 2)[2] for event in history]
    assert said[5].startswith("a malformed reply (column ")
    assert said[7].startswith("a malformed reply (column ")
    assert said[:5] + said[6:7] + said[8:] == [
        "INPROGRESS",
        "PENDING",
        "no answer in time",
        "the connection closed without an answer",
        "HTTP status 500",
        "a body that is not UTF-8 (byte 1)",
        "a body of more than 65,536 bytes (no reply is that long)",
        "an inquiry reply to a buy",
        "FAILED, to be confirmed: FR_NOT_SELECTED",
        "FAILED: FR_NOT_SELECTED",
    ]
    assert history[0] == "2024-02-20 08:25:00+0000 INPROGRESS"  # the moment each came
    assert history[1] == "2024-02-20 08:25:05+0000 PENDING"


def test_the_age_limit_names_the_last_answer() -> None:
    schedule = Schedule(first_wait=1, age_limit=2)
    purchase = Purchase(request(), BASE, at=START, schedule=schedule)
    run(purchase, [line(reply("INPROGRESS")), line(reply("INPROGRESS")), line(reply("PENDING"))])
    done = outcome(purchase).outcome
    assert done.reason == "no final reply in 0:00:02 (last: 2024-02-20 08:25:02+0000 PENDING)"
    assert done.history[-1].endswith(done.reason)  # the decision is the history's last word
    assert (done.reply, done.serial_number, done.transaction_id, done.deduction) == (None, None, None, None)


def test_a_wait_after_a_failure_starts_the_backoff_again() -> None:
    purchase = Purchase(request(), BASE, at=START)
    moments = run(purchase, [line(reply("INPROGRESS")), timeout, line(reply("FAILED")), timeout, timeout])
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
    assert gaps == [5, 10, 5, 5]  # after FAILED: its confirmation 5 s later, then 5 s, 10 s, ...


@pytest.mark.parametrize(
    "text",
    [
        reply("SUCCESS", ref_id="359912452"),
        REFUSAL_SAMPLE.replace("00f7ade1-68df-4d58-a7c9-297ec86e6632", "359912451").replace(
            "DNOPEN", "MXD17"
        ),
        reply("SUCCESS", to="1"),
    ],
)
def test_an_outcome_keeps_the_reply_that_decided_it_across_a_restart(text: str) -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(text + "\r\n")])
    done = outcome(purchase).outcome
    assert done.result == NEEDS_ATTENTION
    assert done.reply is not None
    assert purchase.to_state()["outcome"]["reply"] == text  # the line, without its line break
    restored = Purchase.from_state(json.loads(json.dumps(purchase.to_state())), client_secret=SECRET, pin=PIN)
    assert restored.outcome == done


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Purchase("r", BASE, at=START), TypeError, "request: must be a BuyRequest, not str"),  # type: ignore[arg-type]
        (lambda: Purchase(request(), BASE, at="now"), PurchaseError, "at: must be a datetime, not str"),  # type: ignore[arg-type]
        (
            lambda: Purchase(request(), BASE, at=datetime(2024, 1, 1)),
            PurchaseError,
            "at: must be timezone-aware",
        ),
        (lambda: Schedule(first_wait=0), ValueError, "first_wait and age_limit: must be more than 0"),
        (lambda: Schedule(backoff=0.9), ValueError, "backoff: must be 1 or more (waits never shrink)"),
        (
            lambda: Schedule(first_wait=9, longest_wait=8),
            ValueError,
            "longest_wait: must be at least first_wait",
        ),
    ],
)
def test_what_cannot_be_is_refused_in_so_many_words(
    make: Callable[[], object], error: type, message: str
) -> None:
    with pytest.raises(error) as refused:
        make()
    assert str(refused.value).startswith(message)


def test_a_small_age_limit_is_one() -> None:
    assert Schedule(first_wait=0.1, longest_wait=0.1, age_limit=0.5).age_limit == 0.5


def test_events_of_the_wrong_kind_are_refused_by_name() -> None:
    purchase = Purchase(request(), BASE, at=START)
    purchase.next_step(START)
    with pytest.raises(TypeError, match="body: must be str or bytes, not int"):
        purchase.reply(5, at=START)  # type: ignore[arg-type]
    with pytest.raises(PurchaseError, match="at: must be timezone-aware"):
        purchase.timed_out(at=datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(streak="1"), "state: streak is not a count"),
        (lambda s: s.update(history="x"), "state: history is not a list of texts"),
        (lambda s: s.update(history=[1]), "state: history is not a list of texts"),
        (lambda s: s.update(phase="done"), "state: a purchase that is done has an outcome, and only it"),
        (
            lambda s: s.update(phase="done", outcome={"result": "won", "reason": "", "reply": None}),
            "state: outcome 'won' is none of",
        ),
        (lambda s: s.update(until="2024-01-01T00:00:00+00:00"), "state: a waiting purchase has a moment"),
    ],
)
def test_each_wrong_entry_of_a_state_is_named(
    change: Callable[[dict[str, object]], None], message: str
) -> None:
    purchase = Purchase(request(), BASE, at=START)
    state = purchase.to_state()
    change(state)
    with pytest.raises(PurchaseError) as refused:
        Purchase.from_state(state, client_secret=SECRET, pin=PIN)
    assert str(refused.value).startswith(message)
    if "none of" in message:
        assert str(refused.value).endswith("succeeded, failed, conflicting, needs_attention")


def test_a_reply_with_no_transaction_id_is_a_refusal_only_when_failed_without_destination() -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(reply("INPROGRESS").replace("TRXID: 14430673", "TRXID: -"))])
    assert purchase.outcome is None  # INPROGRESS without a TRXID yet: checked again
    refusal = "R#359912451 MXD17 FAILED. REASON: . TRXID: -. @15:45:02.875417 20/02/2024"
    run(purchase, [line(refusal)])
    done = outcome(purchase).outcome
    assert (done.result, done.reason) == (
        NEEDS_ATTENTION,
        "refused: no reason given (the purchase was not taken)",
    )


def test_an_age_limit_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="first_wait and age_limit: must be more than 0"):
        Schedule(age_limit=0)


def test_a_purchase_saved_with_a_failure_to_confirm_goes_on_to_confirm_it() -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(reply("FAILED"))])
    restored = Purchase.from_state(json.loads(json.dumps(purchase.to_state())), client_secret=SECRET, pin=PIN)
    assert restored.next_step(START) == Wait(at(5))
    run(restored, [line(reply("SUCCESS"))])
    assert outcome(restored).outcome.result == CONFLICTING  # it remembered the FAILED


def test_an_outcome_without_a_reply_is_restored() -> None:
    purchase = Purchase(request(), BASE, at=START, schedule=Schedule(first_wait=1, age_limit=1))
    run(purchase, [timeout, timeout])
    done = outcome(purchase).outcome
    assert (done.result, done.reply) == (NEEDS_ATTENTION, None)
    restored = Purchase.from_state(json.loads(json.dumps(purchase.to_state())), client_secret=SECRET, pin=PIN)
    assert restored.outcome == done


@pytest.mark.parametrize(
    ("entry", "value", "message"),
    [
        ("outcome_reply", 5, "state: outcome.reply is not a reply line"),
        (
            "outcome_reply",
            "R#MXD17. PRICE: 1. @15:25:39.484331 20/02/2024",
            "state: outcome.reply is not a transaction reply",
        ),
        ("failed_reply", "R#x", "state: failed_reply is not a reply (column"),
    ],
)
def test_a_reply_in_a_state_that_is_not_one_is_named(entry: str, value: object, message: str) -> None:
    purchase = Purchase(request(), BASE, at=START)
    run(purchase, [line(reply("SUCCESS", to="1"))])
    state = purchase.to_state()
    if entry == "outcome_reply":
        state["outcome"]["reply"] = value
    else:
        state["failed_reply"] = value
    with pytest.raises(PurchaseError) as refused:
        Purchase.from_state(state, client_secret=SECRET, pin=PIN)
    assert str(refused.value).startswith(message)


def test_waits_under_a_second_grow_from_the_first_one() -> None:
    schedule = Schedule(first_wait=0.1, backoff=2, longest_wait=1)
    assert [schedule.wait(n) for n in range(1, 6)] == [0.1, 0.2, 0.4, 0.8, 1]
