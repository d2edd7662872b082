"""The thin client (irs_grammar.client) against the fake endpoint over real sockets, sync and async.

What is expected comes from the fake's own books (its record of each ref_id,
its balance, its reply log through reconcile), never from the client's answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar.client import AsyncClient, Client, ClientError
from irs_grammar.purchase import CONFLICTING, FAILED, NEEDS_ATTENTION, SUCCEEDED, PurchaseOutcome, Schedule
from irs_grammar.testing import FakeIRS, Fault
from tests.reach import reached

QUICK = Schedule(first_wait=2, backoff=2, longest_wait=60, age_limit=3600)
MXD17_PRICE = 18800  # SISA SALDO: 97.411.793 - 18.800 = … for MXD17 in the buy replies' document
SECRET_MARKS = ("fake-secret", "123456")  # the fake's default client_secret and pin


class Clock:
    """A clock whose sleep moves it on at once: schedules of minutes run in no time."""

    def __init__(self) -> None:
        self.moment = datetime(2024, 12, 1, 3, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.moment += timedelta(seconds=seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Recording(httpx.BaseTransport):
    """httpx's transport, remembering the URL of every request sent."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.urls: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def client(fake: FakeIRS, clock: Clock, **options: object) -> Client:
    assert fake.url is not None
    return Client(fake.url, schedule=QUICK, now=clock.now, sleep=clock.sleep, **options)  # type: ignore[arg-type]


def buy(fake: FakeIRS, product: str = "MXD17", to: str = "48429495", **options: object) -> PurchaseOutcome:
    with client(fake, Clock(), **options) as c:
        return c.buy(fake.buy_request(product, to))


# -- every scripted fault ----------------------------------------------------------------------------


def buy_async(
    fake: FakeIRS, product: str = "MXD17", to: str = "48429495", **options: object
) -> PurchaseOutcome:
    async def main() -> PurchaseOutcome:
        assert fake.url is not None
        clock = Clock()
        async with AsyncClient(
            fake.url,
            schedule=QUICK,
            now=clock.now,
            sleep=clock.asleep,
            **options,  # type: ignore[arg-type]
        ) as c:
            return await c.buy(fake.buy_request(product, to))

    return asyncio.run(main())


BOTH = pytest.mark.parametrize("buy_with", [buy, buy_async], ids=["sync", "async"])


@BOTH
@pytest.mark.parametrize(
    ("fault", "times"),
    [
        (Fault.pending(3), None),
        (Fault.unknown_status("PENDING", checks=2), None),
        (Fault.malformed(), 2),
        (Fault.http_error(503), 3),
        (Fault.drop(), 2),
        (Fault.bad_balance(), None),
        (Fault.delay(0.6), 1),
    ],
)
def test_a_fault_that_cannot_decide_ends_in_the_purchase_the_fake_made(
    buy_with: Callable[..., PurchaseOutcome], fault: Fault, times: int | None
) -> None:
    with FakeIRS().running() as fake:
        fake.add_fault(fault, times=times)
        outcome = buy_with(fake, timeout=0.3)
        assert outcome.result == SUCCEEDED
        assert fake.status(outcome.ref_id) == "SUCCESS"
        assert outcome.deduction == MXD17_PRICE
        assert fake.balance == 100_000_000 - MXD17_PRICE  # charged once, however many checks
        if fault.kind == "delay":
            assert "no answer in time" in outcome.history[0]


@BOTH
def test_a_failure_the_fake_made_is_failed_after_its_confirmation(
    buy_with: Callable[..., PurchaseOutcome],
) -> None:
    with FakeIRS().running() as fake:
        fake.add_fault(Fault.fail("Nomor tujuan salah"))
        outcome = buy_with(fake)
        assert (outcome.result, outcome.reply and outcome.reply.reason) == (FAILED, "Nomor tujuan salah")
        assert outcome.attempts == 3  # the buy, the check that read FAILED, its confirmation
        assert fake.status(outcome.ref_id) == "FAILED"
        assert fake.balance == 100_000_000


def test_not_enough_balance_is_failed_and_nothing_is_charged() -> None:
    with FakeIRS(balance=1000).running() as fake:
        outcome = buy(fake)
        assert outcome.result == FAILED
        assert "Saldo tidak cukup" in outcome.reason
        assert fake.balance == 1000


def test_a_refused_buy_needs_attention_never_failed() -> None:
    with FakeIRS().running() as fake:
        outcome = buy(fake, product="NOPE1")
        assert outcome.result == NEEDS_ATTENTION
        assert "Unknown product code" in outcome.reason
    with FakeIRS(pin="654321").running() as fake, client(fake, Clock()) as c:
        wrong_pin = irs.BuyRequest(
            client_id="fake-client",
            client_secret="fake-secret",
            idrs="fake-idrs",
            pin="123456",  # the default pin, which this fake does not take
            product_code="MXD17",
            to="48429495",
            amount=0,
        )
        outcome = c.buy(wrong_pin)
        assert outcome.result == NEEDS_ATTENTION
        assert "refused" in outcome.reason


def test_a_ref_id_reused_for_another_purchase_needs_attention() -> None:
    with FakeIRS().running() as fake:
        first = buy(fake)
        assert first.result == SUCCEEDED
        with client(fake, Clock()) as c:
            again = c.buy(fake.buy_request("MXD17", "48429496", ref_id=first.ref_id))
        assert again.result == NEEDS_ATTENTION
        assert "another ref_id" in again.reason
        assert fake.balance == 100_000_000 - MXD17_PRICE


def test_an_endpoint_that_never_answers_needs_attention_at_the_age_limit() -> None:
    with FakeIRS().running() as fake:
        url = fake.url
    assert url is not None  # nothing listens there any more: every request fails to connect
    clock = Clock()
    with Client(url, schedule=QUICK, now=clock.now, sleep=clock.sleep) as c:
        outcome = c.buy(FakeIRS().buy_request("MXD17", "48429495"))
    assert outcome.result == NEEDS_ATTENTION
    assert "no final reply in 1:00:00" in outcome.reason
    assert sum(clock.slept) == 3600


def test_the_async_client_makes_the_same_purchases() -> None:
    async def main(fake: FakeIRS) -> list[PurchaseOutcome]:
        assert fake.url is not None
        clock = Clock()
        async with AsyncClient(fake.url, schedule=QUICK, now=clock.now, sleep=clock.asleep) as c:
            outcomes = [await c.buy(fake.buy_request("MXD17", "48429495"))]
            fake.add_fault(Fault.fail(), product="PLN20")
            outcomes.append(await c.buy(fake.buy_request("PLN20", "01105691111")))
            fake.add_fault(Fault.drop(), times=1)
            outcomes.append(await c.buy(fake.buy_request("OVO10", "081000000001")))
            fake.clear_faults()
            inquiry = await c.inquiry(fake.inquiry_request("PLN20", "01105691111"))
            assert inquiry.price == 20546  # the documented PRICE of PLN20
        return outcomes

    with FakeIRS().running() as fake:
        outcomes = asyncio.run(main(fake))
        assert [o.result for o in outcomes] == [SUCCEEDED, FAILED, SUCCEEDED]
        assert [fake.status(o.ref_id) for o in outcomes] == ["SUCCESS", "FAILED", "SUCCESS"]


def test_an_inquiry_returns_the_reply_and_errors_name_what_happened_without_a_secret() -> None:
    with FakeIRS().running() as fake, client(fake, Clock(), timeout=0.2) as c:
        reply = c.inquiry(fake.inquiry_request("PLN20", "01105691111"))
        assert (reply.product_code, reply.price) == ("PLN20", 20546)  # the documented PRICE of PLN20
        for fault, message in [
            (Fault.http_error(502), "HTTP status 502"),
            (Fault.malformed(), "a malformed reply"),
            (Fault.drop(), "RemoteProtocolError"),
            (Fault.delay(0.6), "no answer in 0.2 s"),
        ]:
            fake.clear_faults()
            fake.add_fault(fault)
            with pytest.raises(ClientError, match=message) as raised:
                c.inquiry(fake.inquiry_request("PLN20", "01105691111"))
            text = str(raised.value)
            assert "client_secret=***" in text
            assert not any(mark in text for mark in SECRET_MARKS)
            assert raised.value.__cause__ is None  # httpx's error, which holds the URL, is not chained


def test_no_log_line_of_a_buy_shows_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeIRS().running() as fake:
        fake.add_fault(Fault.pending(1))
        assert buy(fake).result == SUCCEEDED
    sent = [r for r in caplog.records if r.name == "irs_grammar.client"]
    assert len(sent) == 3  # the buy and its two checks
    for record in caplog.records:
        assert not any(mark in record.getMessage() for mark in SECRET_MARKS)


def test_a_worker_that_dies_between_send_and_reply_resumes_the_same_ref_id() -> None:
    saved: list[dict[str, object]] = []

    class Died(Exception):
        pass

    def save(state: dict[str, object]) -> None:
        saved.append(state)
        if len(saved) == 2:
            raise Died  # the check is about to be sent when the worker dies

    with FakeIRS().running() as fake:
        fake.add_fault(Fault.pending(2))
        request = fake.buy_request("MXD17", "48429495")
        with client(fake, Clock(), save_state=save) as c, pytest.raises(Died):
            c.buy(request)
        with client(fake, Clock()) as c:
            outcome = c.resume(saved[-1], client_secret="fake-secret", pin="123456")
        assert outcome.result == SUCCEEDED
        assert outcome.ref_id == request.ref_id
        assert fake.balance == 100_000_000 - MXD17_PRICE


# -- a property over fault scripts and schedules -----------------------------------------------------

PRODUCTS = {"MXD17": ("48429495", 18800), "PLN20": ("01105691111", 20546), "OVO10": ("081000000001", 10100)}
FAULTS = st.one_of(
    st.builds(Fault.fail),
    st.builds(Fault.pending, st.integers(1, 4)),
    st.builds(Fault.unknown_status, st.just("SUSPECT"), st.integers(1, 3)),
    st.builds(Fault.bad_balance),
    st.builds(Fault.malformed),
    st.builds(Fault.http_error, st.sampled_from([500, 502, 503])),
    st.builds(Fault.drop),
)
RULES = st.tuples(
    FAULTS,
    st.sampled_from([None, *PRODUCTS]),
    st.one_of(st.none(), st.integers(1, 8)),
    st.one_of(st.none(), st.integers(1, 3)),
)
SCHEDULES = st.builds(
    Schedule,
    first_wait=st.floats(1, 30),
    backoff=st.floats(1, 3),
    longest_wait=st.just(120.0),
    age_limit=st.floats(30, 1800),
)


# each example is HTTP sessions against a served fake: at most 40, fewer under a quicker profile
@settings(max_examples=min(40, settings().max_examples), deadline=None)
@given(
    rules=st.lists(RULES, max_size=4),
    products=st.lists(st.sampled_from(list(PRODUCTS)), min_size=1, max_size=3),
    schedule=SCHEDULES,
    balance=st.sampled_from([100_000_000, 30_000]),
    confirm=st.booleans(),
)
def test_outcomes_agree_with_the_fakes_books_under_any_fault_script(
    rules: list[tuple[Fault, str | None, int | None, int | None]],
    products: list[str],
    schedule: Schedule,
    balance: int,
    confirm: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with FakeIRS(balance=balance).running() as fake:
        assert fake.url is not None
        for fault, product, call, times in rules:
            fake.add_fault(fault, product=product, call=call, times=times)
        clock, transport = Clock(), Recording()
        with Client(
            fake.url,
            schedule=schedule,
            confirm_failure=confirm,
            transport=transport,
            now=clock.now,
            sleep=clock.sleep,
        ) as c:
            outcomes = [c.buy(fake.buy_request(p, PRODUCTS[p][0])) for p in products]
        charged = {
            ref: buy.product.price
            for ref, buy in fake.account.buys.items()
            if buy.final is not None and buy.final.status == "SUCCESS"
        }
        log = tmp_path_factory.mktemp("books") / "buys.log"
        fake.write_log(log)
    books = irs.reconcile([log]).transactions
    for outcome, product in zip(outcomes, products, strict=True):
        event(f"outcome: {outcome.result}")
        sent = [url for url in transport.urls if f"ref_id={outcome.ref_id}&" in url]
        assert len(set(sent)) == 1, "one ref_id, one request, byte for byte"
        assert outcome.result != CONFLICTING  # the fake never contradicts itself
        if outcome.result == FAILED:
            assert fake.status(outcome.ref_id) == "FAILED"
            assert outcome.ref_id in fake.account.buys
        if outcome.result == SUCCEEDED:
            assert charged.get(outcome.ref_id) == PRODUCTS[product][1] == outcome.deduction
        if outcome.final:
            assert books[outcome.ref_id].outcome == outcome.result
    assert balance - fake.balance == sum(charged.values())  # once per purchase the fake carried out
    reached()
