"""The fake IRS endpoint (irs_grammar.testing), driven over real sockets by urllib and httpx.

Expected values come from the partner documentation (the catalogue's prices are
the documented samples' PRICE and SISA SALDO deductions) and from the fake's
documented behaviour, never from a reply the fake sent earlier in the same test
unless the test is about repetition.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import inspect
import itertools
import json
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar import ParseError, parse_reply
from irs_grammar.testing import REASONS, ConnectionDropped, FakeIRS, Fault, Product
from irs_grammar.testing.faults import fault_from_spec
from irs_grammar.wire.inquiry import InquiryResponse
from irs_grammar.wire.transaction import Balance, TransactionResponse
from tests.reach import reached
from tests.test_faults import sigint_as_at_a_terminal
from tests.wsgi import call_url, call_wsgi, call_wsgi_whole

START = 100_000_000  # the documented default opening balance
PLN20_PRICE = 20546  # R#PLN20. PRICE: 20546. … in the partner document
MXD17_PRICE = 18800  # SISA SALDO: 97.411.793 - 18.800 = … for MXD17 in the buy replies' document
OVO10_PRICE = 10100


def post(url: str) -> str:
    with urllib.request.urlopen(url, data=b"", timeout=10) as response:
        body: bytes = response.read()
    return body.decode("utf-8")


def transaction(body: str) -> TransactionResponse:
    reply = parse_reply(body)
    assert isinstance(reply, TransactionResponse), body
    return reply


def inquiry(body: str) -> InquiryResponse:
    reply = parse_reply(body)
    assert isinstance(reply, InquiryResponse), body
    return reply


@pytest.fixture
def fake() -> Iterator[FakeIRS]:
    with FakeIRS(seed=7).running() as running:
        yield running


def base(fake: FakeIRS) -> str:
    assert fake.url is not None
    return fake.url


# -- inquiries --------------------------------------------------------------------------------------


def test_inquiry_of_a_pln_product_answers_the_catalogue_price_and_the_power_class(fake: FakeIRS) -> None:
    reply = inquiry(post(fake.inquiry_request("PLN20", "01105691111").to_url(base(fake))))
    assert (reply.product_code, reply.price, reply.customer_number) == ("PLN20", PLN20_PRICE, "01105691111")
    assert reply.ok
    assert reply.customer_name
    assert reply.power_capacity is not None
    assert reply.power_capacity.startswith("R1")


def test_inquiry_of_another_product_has_no_power_class(fake: FakeIRS) -> None:
    reply = inquiry(httpx.post(fake.inquiry_request("OVO10", "081000000001").to_url(base(fake))).text)
    assert (reply.product_code, reply.price, reply.power_capacity) == ("OVO10", OVO10_PRICE, None)


def test_the_same_destination_has_the_same_customer_on_every_call(fake: FakeIRS) -> None:
    url = fake.inquiry_request("PLN20", "01105691111").to_url(base(fake))
    first, second = inquiry(post(url)), inquiry(post(url))
    assert (first.customer_name, first.power_capacity) == (second.customer_name, second.power_capacity)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"pin": "000000"}, REASONS["credentials"]),
        ({"client_secret": "guess"}, REASONS["credentials"]),
        ({"client_id": "someone-else"}, REASONS["credentials"]),
        ({"product_code": "NOPE99"}, REASONS["product"]),
        ({"to": "08 11"}, REASONS["destination"]),
    ],
)
def test_inquiry_refusals_name_the_fault_never_a_secret(
    fake: FakeIRS, change: dict[str, str], reason: str
) -> None:
    request = fake.inquiry_request("PLN20", "01105691111")
    parameters = {**{name: getattr(request, name) for name in request.PARAMETERS}, **change}
    body = post(irs.InquiryRequest(**parameters).to_url(base(fake)))
    reply = inquiry(body)
    assert not reply.ok
    assert reply.reason == reason
    assert "guess" not in body
    assert "000000" not in body
    assert "fake-secret" not in body


@pytest.mark.parametrize(
    ("query_change", "reason"),
    [
        (lambda q: q.replace("&pin=123456", ""), "pin: missing from the url"),
        (lambda q: q + "&to=0811", "to: repeated in the url"),
        (lambda q: q + "&colour=red", "url: query part 10 is not a parameter of InquiryRequest"),
        (lambda q: q.replace("amount=0", "amount=ten"), "amount: must be a whole number of ASCII digits"),
    ],
)
def test_a_malformed_inquiry_gets_the_request_readers_message(
    fake: FakeIRS, query_change: Any, reason: str
) -> None:
    url = fake.inquiry_request("PLN20", "01105691111").to_url(base(fake))
    reply = inquiry(post(query_change(url)))
    assert reply.reason == reason
    assert reply.product_code == ""


# -- buys -------------------------------------------------------------------------------------------


def test_a_buy_is_in_progress_then_succeeds_and_moves_the_balance(fake: FakeIRS) -> None:
    url = fake.buy_request("MXD17", "48429495", ref_id="359912451").to_url(base(fake))
    with httpx.Client() as client:
        first = transaction(client.post(url).text)
        second = transaction(client.post(url).text)
    assert (first.status, first.ref_id, first.destination, first.balance) == (
        "INPROGRESS",
        "359912451",
        "48429495",
        None,
    )
    assert first.transaction_id
    assert first.transaction_id != "-"
    assert (second.status, second.transaction_id, second.refid) == (
        "SUCCESS",
        first.transaction_id,
        "359912451",
    )
    assert (second.balance_before, second.deduction, second.balance_after) == (
        START,
        MXD17_PRICE,
        START - MXD17_PRICE,
    )
    assert second.serial_number
    assert fake.balance == START - MXD17_PRICE
    assert fake.status("359912451") == "SUCCESS"


def test_a_pln_buy_answers_a_token_with_the_customer_of_the_inquiry(fake: FakeIRS) -> None:
    customer = inquiry(post(fake.inquiry_request("PLN20", "01105691111").to_url(base(fake))))
    url = fake.buy_request("PLN20", "01105691111", ref_id="p1").to_url(base(fake))
    post(url)
    token = transaction(post(url)).pln_token
    assert token is not None
    assert len(token.token) == 20
    assert token.name == customer.customer_name
    assert customer.power_capacity == f"{token.tariff}/{token.power_va}VA"


def test_a_recheck_after_the_final_reply_repeats_it_at_a_later_moment(fake: FakeIRS) -> None:
    url = fake.buy_request("OVO10", "081000000001", ref_id="r-1").to_url(base(fake))
    post(url)
    final, again = transaction(post(url)), transaction(post(url))
    assert again.timestamp > final.timestamp
    assert (again.status, again.serial_number, again.transaction_id, again.balance) == (
        final.status,
        final.serial_number,
        final.transaction_id,
        final.balance,
    )
    assert fake.balance == START - OVO10_PRICE  # charged once


def test_each_balance_before_is_the_previous_balance_after(fake: FakeIRS) -> None:
    finals = []
    for n, product in enumerate(["MXD17", "OVO10", "PLN20", "DN1", "MAX5000"]):
        url = fake.buy_request(product, f"08120000{n}", ref_id=f"chain-{n}").to_url(base(fake))
        post(url)
        finals.append(transaction(post(url)))
    assert finals[0].balance_before == START
    for previous, reply in itertools.pairwise(finals):
        assert reply.balance_before == previous.balance_after
    assert all(r.balance_adds_up for r in finals)
    assert fake.balance == START - (MXD17_PRICE + OVO10_PRICE + PLN20_PRICE + 1178 + 7205)


def test_a_buy_beyond_the_balance_fails_without_a_deduction() -> None:
    with FakeIRS(balance=20_000).running() as fake:
        url = fake.buy_request("PLN20", "01105691111", ref_id="poor").to_url(base(fake))
        post(url)
        reply = transaction(post(url))
    assert (reply.status, reply.reason, reply.balance) == (
        "FAILED",
        REASONS["balance"],
        ("20.000", "0", "20.000"),
    )
    assert fake.balance == 20_000


@pytest.mark.parametrize(
    ("change", "ref", "product", "reason"),
    [
        ({"pin": "999999"}, "b-1", "MXD17", REASONS["credentials"]),
        ({"product_code": "NOPE99"}, "b-1", "NOPE99", REASONS["product"]),
        ({"product_code": "NO PE"}, "b-1", "-", REASONS["product"]),
        ({"ref_id": "a b"}, "-", "MXD17", REASONS["ref_id"]),
        ({"to": "0811/12"}, "b-1", "MXD17", REASONS["destination"]),
    ],
)
def test_buy_refusals_fail_at_once_and_spend_the_reference(
    fake: FakeIRS, change: dict[str, str], ref: str, product: str, reason: str
) -> None:
    request = fake.buy_request("MXD17", "48429495", ref_id="b-1")
    parameters = {**{name: getattr(request, name) for name in request.PARAMETERS}, **change}
    body = post(irs.BuyRequest(**parameters).to_url(base(fake)))
    reply = transaction(body)
    assert (reply.status, reply.ref_id, reply.product_code, reply.destination) == (
        "FAILED",
        ref,
        product,
        None,
    )
    assert (reply.reason, reply.transaction_id, reply.balance) == (reason, None, None)
    assert "999999" not in body
    # FAILED is final: a reference refused under its own name is spent, and the same request sent
    # right later gets the same refusal, never a purchase. A refusal under `-` spends nothing.
    assert fake.status("b-1") == ("FAILED" if ref == "b-1" else None)
    again = transaction(post(request.to_url(base(fake))))
    if ref == "b-1":
        assert (again.status, again.reason, again.ref_id) == ("FAILED", reason, "b-1")
        assert again.timestamp > reply.timestamp
    else:
        assert again.status == "INPROGRESS"
    assert fake.balance == START


def test_a_buy_missing_a_parameter_names_it(fake: FakeIRS) -> None:
    url = (
        fake.buy_request("MXD17", "48429495", ref_id="b-2")
        .to_url(base(fake))
        .replace("&client_secret=fake-secret", "")
    )
    reply = transaction(post(url))
    assert (reply.status, reply.ref_id, reply.reason) == (
        "FAILED",
        "b-2",
        "client_secret: missing from the url",
    )


def test_a_ref_id_reused_for_another_purchase_is_refused_and_the_first_stands(fake: FakeIRS) -> None:
    post(fake.buy_request("MXD17", "48429495", ref_id="same").to_url(base(fake)))
    refused = transaction(post(fake.buy_request("OVO10", "48429495", ref_id="same").to_url(base(fake))))
    assert (refused.status, refused.reason) == ("FAILED", REASONS["ref_id_reused"])
    assert transaction(post(fake.buy_request("MXD17", "48429495", ref_id="same").to_url(base(fake)))).ok


# -- faults -------------------------------------------------------------------------------------------


def buy_until_final(
    fake: FakeIRS, product: str, to: str, ref_id: str, limit: int = 20
) -> list[TransactionResponse]:
    url = fake.buy_request(product, to, ref_id=ref_id).to_url(base(fake))
    replies = [transaction(post(url))]
    while not replies[-1].final:
        assert len(replies) < limit, replies
        replies.append(transaction(post(url)))
    return replies


def test_fault_fail_resolves_the_buy_failed_with_its_reason_and_no_deduction(fake: FakeIRS) -> None:
    fake.add_fault(Fault.fail("Nomor tujuan salah"), to="0811111")
    replies = buy_until_final(fake, "MXD17", "0811111", "f-1")
    assert [r.status for r in replies] == ["INPROGRESS", "FAILED"]
    assert (replies[-1].reason, replies[-1].balance) == (
        "Nomor tujuan salah",
        ("100.000.000", "0", "100.000.000"),
    )
    assert fake.balance == START
    assert buy_until_final(fake, "MXD17", "0822222", "f-2")[-1].ok  # another destination: untouched


def test_fault_fail_answers_an_inquiry_with_its_reason(fake: FakeIRS) -> None:
    fake.add_fault(Fault.fail("CUSTID not recognized. Biller throws exception. Err:5110"), product="PLN20")
    reply = inquiry(post(fake.inquiry_request("PLN20", "01105601111").to_url(base(fake))))
    assert (reply.ok, reply.error_code, reply.customer_number, reply.price) == (
        False,
        "5110",
        "01105601111",
        None,
    )


def test_fault_pending_answers_in_progress_to_that_many_rechecks(fake: FakeIRS) -> None:
    fake.add_fault(Fault.pending(3), product="PLN20")
    replies = buy_until_final(fake, "PLN20", "01105691111", "slow")
    assert [r.status for r in replies] == ["INPROGRESS"] * 4 + ["SUCCESS"]
    assert len({r.transaction_id for r in replies}) == 1


def test_fault_unknown_status_is_never_final_and_then_resolves(fake: FakeIRS) -> None:
    fake.add_fault(Fault.unknown_status("SUSPECT", checks=2), product="DN1")
    replies = buy_until_final(fake, "DN1", "0817345544", "odd")
    assert [r.status for r in replies] == ["INPROGRESS", "SUSPECT", "SUSPECT", "SUCCESS"]
    assert replies[1].pending
    assert not replies[1].final
    assert not replies[1].failed


def test_fault_bad_balance_sends_a_sum_that_does_not_add_up(fake: FakeIRS) -> None:
    fake.add_fault(Fault.bad_balance(-500), product="OVO10")
    final = buy_until_final(fake, "OVO10", "081000000001", "bb")[-1]
    assert (final.balance_before, final.deduction, final.balance_after) == (
        START,
        OVO10_PRICE,
        START - OVO10_PRICE - 500,
    )
    assert final.balance_adds_up is False
    assert fake.balance == START - OVO10_PRICE  # the account itself moved by the price


def test_fault_malformed_sends_a_near_miss_and_still_carries_the_request_out(fake: FakeIRS) -> None:
    fake.add_fault(Fault.malformed(), call=1)
    url = fake.buy_request("MXD17", "48429495", ref_id="m").to_url(base(fake))
    body = post(url)
    with pytest.raises(ParseError):
        parse_reply(body)
    assert fake.status("m") == "INPROGRESS"
    assert transaction(post(url)).ok  # call 2: the fault was for call 1 only


def test_fault_http_error_answers_the_status_and_does_nothing(fake: FakeIRS) -> None:
    fake.add_fault(Fault.http_error(503), product="MXD17", times=1)
    url = fake.buy_request("MXD17", "48429495", ref_id="h").to_url(base(fake))
    with pytest.raises(urllib.error.HTTPError) as raised:
        post(url)
    assert raised.value.code == 503
    assert fake.status("h") is None
    assert transaction(post(url)).status == "INPROGRESS"  # times=1: spent


def test_fault_delay_holds_the_reply(fake: FakeIRS) -> None:
    fake.add_fault(Fault.delay(0.3), call=1)
    started = time.monotonic()
    inquiry(post(fake.inquiry_request("OVO10", "081000000001").to_url(base(fake))))
    assert time.monotonic() - started >= 0.3


def test_fault_drop_closes_the_connection_after_carrying_the_request_out(fake: FakeIRS) -> None:
    fake.add_fault(Fault.drop(), call=1)
    url = fake.buy_request("MXD17", "48429495", ref_id="d").to_url(base(fake))
    with pytest.raises(http.client.RemoteDisconnected):
        post(url)
    assert fake.status("d") == "INPROGRESS"
    # The fake's books keep the reply the account wrote, though the client never got it.
    assert [transaction(line).status for line in fake.replies] == ["INPROGRESS"]
    fake.add_fault(Fault.drop(), call=2)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(url)
    assert fake.status("d") == "SUCCESS"  # the re-check resolved it; its reply was lost too
    assert transaction(post(url)).ok


def test_faults_match_by_product_destination_and_call_together(fake: FakeIRS) -> None:
    fake.add_fault(Fault.fail(), product="MXD17", to="0811")
    assert buy_until_final(fake, "MXD17", "0822", "x1")[-1].ok  # the product alone does not match
    assert buy_until_final(fake, "OVO10", "0811", "x2")[-1].ok  # nor the destination alone
    assert buy_until_final(fake, "MXD17", "0811", "x3")[-1].failed


def test_scripted_faults_validate_their_arguments() -> None:
    for bad in ("two\nlines", "cut. TRXID: here", "\r"):
        with pytest.raises(ValueError, match="reason"):
            Fault.fail(bad)
    assert Fault.fail("at. @12:00:00.000000 01/01/2024. X: y").reason.endswith("y")  # both kinds read it back
    with pytest.raises(ValueError, match="word"):
        Fault.unknown_status("SUCCESS")
    with pytest.raises(ValueError, match="word"):
        Fault.unknown_status("lower")
    with pytest.raises(ValueError, match="checks"):
        Fault.pending(0)
    with pytest.raises(ValueError, match="status"):
        Fault.http_error(200)
    with pytest.raises(ValueError, match="seconds"):
        Fault.delay(61)
    with pytest.raises(ValueError, match="offset"):
        Fault.bad_balance(0)
    with pytest.raises(TypeError, match="fault"):
        FakeIRS().add_fault("fail")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="product code"):
        FakeIRS(catalogue=[Product("A B", 1)])


# -- replay, logs, concurrency ----------------------------------------------------------------------------


def scripted_run(seed: int) -> list[str]:
    fake = FakeIRS(seed=seed, clock=lambda: datetime(2024, 11, 29, 10, 0))
    fake.add_fault(Fault.malformed(), call=4)
    with fake.running():
        for n in range(3):
            url = fake.buy_request("PLN20", f"0110569111{n}", ref_id=f"s{n}").to_url(base(fake))
            post(url)
            post(url)
    return fake.replies


def test_the_same_seed_replays_the_same_replies_and_another_does_not() -> None:
    first, second, other = scripted_run(1), scripted_run(1), scripted_run(2)
    assert first == second
    assert first != other
    # The fixed clock still gives a strictly increasing timestamp per reply (but the garbled 4th).
    moments = [parse_reply(r).timestamp for n, r in enumerate(first, 1) if n != 4]
    assert moments == sorted(set(moments))
    assert len(moments) == 5


def test_the_fakes_own_log_passes_validate_and_reconcile(tmp_path: Path) -> None:
    log = tmp_path / "fake.log"
    with FakeIRS(seed=3, log=log).running() as fake:
        for n, product in enumerate(["PLN20", "OVO10", "MXD17", "DN1"]):
            post(fake.inquiry_request(product, f"0812345{n}").to_url(base(fake)))
            buy_until_final(fake, product, f"0812345{n}", f"log-{n}")
        fake.add_fault(Fault.pending(2), product="PLN50")
        buy_until_final(fake, "PLN50", "01105691111", "log-pln50")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines == fake.replies
    assert len(lines) == 4 + 8 + 4
    assert [r.valid for r in irs.validate(log)] == [True] * 16
    result = irs.reconcile([str(log)])
    assert result.anomalies == []
    assert result.invalid_lines == []
    assert result.outcomes()["succeeded"] == 5
    assert result.deducted() == START - fake.balance
    written = tmp_path / "written.log"
    fake.write_log(written)
    assert written.read_text(encoding="utf-8") == log.read_text(encoding="utf-8")


def test_fifty_clients_at_once_get_their_own_replies(tmp_path: Path) -> None:
    clients = 50
    barrier = threading.Barrier(clients)
    got: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def client(n: int, fake: FakeIRS) -> None:
        try:
            product = ["MXD17", "OVO10", "PLN20"][n % 3]
            inquiry_url = fake.inquiry_request(product, f"0899{n:04d}").to_url(base(fake))
            buy_url = fake.buy_request(product, f"0899{n:04d}", ref_id=f"c{n}").to_url(base(fake))
            barrier.wait(timeout=30)
            got[n] = [post(inquiry_url), post(buy_url), post(buy_url)]
        except BaseException as e:  # reported below, with the client's number
            errors.append(e)

    with FakeIRS(seed=5, log=tmp_path / "fifty.log").running() as fake:
        threads = [threading.Thread(target=client, args=(n, fake)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert sorted(got) == list(range(clients))
    prices = {"MXD17": MXD17_PRICE, "OVO10": OVO10_PRICE, "PLN20": PLN20_PRICE}
    for n, (asked, first, final) in got.items():
        product = ["MXD17", "OVO10", "PLN20"][n % 3]
        assert inquiry(asked).customer_number == f"0899{n:04d}"
        for reply in (transaction(first), transaction(final)):
            assert (reply.ref_id, reply.product_code, reply.destination) == (f"c{n}", product, f"0899{n:04d}")
        assert transaction(final).deduction == prices[product]
    assert fake.calls == 3 * clients
    assert len(fake.replies) == 3 * clients
    assert fake.balance == START - sum(prices[["MXD17", "OVO10", "PLN20"][n % 3]] for n in range(clients))
    result = irs.reconcile([str(tmp_path / "fifty.log")])
    assert result.anomalies == []
    assert result.outcomes()["succeeded"] == clients


# -- every reply parses --------------------------------------------------------------------------------

_hostile = st.one_of(
    st.sampled_from(["", "a b", ". REASON: x", "&", "%", "é", "-", "0811. @12:00:00.000000 01/01/2024"]),
    st.text(max_size=12),
)
# Mostly what a careful client sends (a small pool of references, so buys are re-checked), sometimes not.
_catalogued = st.sampled_from(["PLN20", "MXD17", "OVO10", "DN1"])
_products = st.one_of(_catalogued, _catalogued, _catalogued, _hostile)
_numbers = st.one_of(
    st.sampled_from(["01105691111", "0817345544"]), st.from_regex(r"08[0-9]{8}", fullmatch=True)
)
_destinations = st.one_of(_numbers, _numbers, _numbers, _hostile)
_pool = st.sampled_from(["r1", "r2", "r3"])
_refs = st.one_of(_pool, _pool, _pool, _hostile)


# Every example opens with a careful buy checked once (so the balance moves and the books' check
# below compares real amounts), then anything.
_careful_buy = st.tuples(st.just("buy"), _catalogued, _numbers, _pool, st.just(True), st.just(2))


@settings(max_examples=150)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["inquiry", "buy", "buy", "buy", "raw"]),
            _products,
            _destinations,
            _refs,
            st.sampled_from([True, True, True, False]),
            st.sampled_from([2, 2, 3, 1]),  # mostly sent again: a buy resolves, and the balance moves
        ),
        max_size=12,
    ),
    _careful_buy,
)
def test_every_reply_the_fake_sends_parses_and_the_balance_adds_up(
    anything: list[tuple[str, str, str, str, bool, int]], careful: tuple[str, str, str, str, bool, int]
) -> None:
    fake = FakeIRS(seed=11)
    steps = [careful, *anything]
    bought: dict[str, tuple[str, str]] = {}
    for kind, product, to, ref_id, honest, sends in steps:
        if kind == "buy" and honest:  # a careful client re-checks a reference with its own purchase
            product, to = bought.setdefault(ref_id, (product, to))
        if kind == "raw":  # any query string at all
            status, body = call_wsgi(fake, "/v1/irs/buy", f"product_code={product}&to={to}&ref_id={ref_id}")
        else:
            try:
                request = (
                    fake.inquiry_request(product, to)
                    if kind == "inquiry"
                    else fake.buy_request(product, to, ref_id=ref_id or "-")
                )
            except ValueError:
                event("a request the request builder refuses")
                continue
            if not honest:
                request = type(request)(**{**request_parameters(request), "pin": "nope"})
            for _ in range(sends - 1):  # sent again: the check of a pending buy
                status, body = call_url(fake, request.to_url("http://h"))
                parse_reply(body)
            status, body = call_url(fake, request.to_url("http://h"))
        assert status == "200 OK"
        reply = parse_reply(body)  # never a ParseError: no fault is scripted
        event(f"{kind}: {getattr(reply, 'status', 'ok' if reply.ok else 'refused')}")
    deductions = {  # each transaction once, by its balance (a re-check repeats it; a refusal has none)
        r.ref_id: r.deduction
        for r in map(parse_reply, fake.replies)
        if isinstance(r, TransactionResponse) and r.deduction is not None
    }
    if any(deductions.values()):
        reached()  # the balance moved: the check below compares more than 0 with 0
    assert START - fake.balance == sum(deductions.values())


def request_parameters(request: irs.InquiryRequest | irs.BuyRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in request.PARAMETERS}


# -- ways in ---------------------------------------------------------------------------------------------


def test_plain_wsgi_answers_and_routes() -> None:
    app = FakeIRS()
    request = app.inquiry_request("OVO10", "081000000001")
    query = request.to_url("http://h").split("?", 1)[1]
    status, body = call_wsgi(app, "/klikoo-b2b/v1/irs/inquiry", query)  # under a base path
    assert status == "200 OK"
    assert inquiry(body).price == OVO10_PRICE
    assert call_wsgi(app, "/v1/irs/inquiry", query, method="GET")[0] == "405 Method Not Allowed"
    assert call_wsgi(app, "/v1/irs/other", query)[0] == "404 Not Found"
    assert app.calls == 1  # neither the GET nor the unknown path is a call
    app.add_fault(Fault.drop())
    with pytest.raises(ConnectionDropped):
        call_wsgi(app, "/v1/irs/inquiry", query)


def test_it_listens_on_loopback_only_by_default(fake: FakeIRS) -> None:
    assert base(fake).startswith("http://127.0.0.1:")
    port = int(base(fake).rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_repr_and_replies_never_show_a_secret(fake: FakeIRS) -> None:
    post(fake.buy_request("MXD17", "48429495").to_url(base(fake)))
    shown = repr(fake) + "".join(fake.replies)
    assert "fake-secret" not in shown
    assert "123456" not in shown
    assert "client_secret=***" in repr(fake)


def test_the_pytest_fixture_serves_a_fresh_fake(fake_irs: FakeIRS) -> None:
    assert fake_irs.calls == 0
    assert fake_irs.balance == START
    assert inquiry(post(fake_irs.inquiry_request("DN1", "0817345544").to_url(base(fake_irs)))).price == 1178


def test_serve_runs_by_hand_until_interrupted(tmp_path: Path) -> None:
    log = tmp_path / "served.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "irs_grammar", "serve", "--port", "0", "--seed", "4", "--log", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=sigint_as_at_a_terminal,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        requests = FakeIRS()  # the same default credentials
        buy = requests.buy_request("MXD17", "48429495", ref_id="served").to_url(url)
        assert [transaction(post(buy)).status for _ in range(2)] == ["INPROGRESS", "SUCCESS"]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 130
    assert "Traceback" not in err
    assert [r.valid for r in irs.validate(log)] == [True, True]


def test_serve_on_a_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "irs_grammar", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


# -- the documentation ------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.main_python_only
def test_the_readme_example_passes_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Test your integration against a fake endpoint", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "test_my_integration.py").write_text(example, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_my_integration.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    assert "fake_irs seed: 0" in done.stdout  # the fixture came from the pytest11 entry point


def markdown_rows(text: str, heading: str) -> list[list[str]]:
    """The rows of the first table under `heading`, cells stripped of backticks."""
    table = text.split(heading, 1)[1].split("\n\n|", 1)[1].split("\n\n", 1)[0]
    rows = ["|" + table.split("\n", 1)[0], *table.split("\n")[1:]]
    return [[cell.strip().strip("`") for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_docs_testing_md_states_the_catalogue_credentials_and_reasons_the_code_has() -> None:
    from irs_grammar.testing import DEFAULT_CATALOGUE, DEFAULT_CREDENTIALS

    doc = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    catalogue = [
        Product(code, int(price), pln == "yes") for code, price, pln in markdown_rows(doc, "## Catalogue")
    ]
    assert catalogue == list(DEFAULT_CATALOGUE)
    assert dict(markdown_rows(doc, "## Credentials")) == DEFAULT_CREDENTIALS
    assert {key: text for key, text, _ in markdown_rows(doc, "## REASON texts of the fake")} == REASONS
    kinds = {row[0].split("(")[0].removeprefix("Fault.") for row in markdown_rows(doc, "## Faults")}
    assert kinds == {name for name in vars(Fault) if not name.startswith("_") and name.islower()} - {
        "kind",
        "reason",
        "checks",
        "word",
        "offset",
        "status",
        "seconds",
    }


# -- `serve` in this process (what mutation testing sees; the subprocess tests above are the user's view)


class Served:
    """main(["serve", ...]) run here, in the main thread, with `client(base_url)` beside it, then Ctrl-C."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from irs_grammar import testing

        self.asked: list[tuple[FakeIRS, str, int]] = []  # make_server's arguments
        self.servers: list[Any] = []
        real = testing.make_server

        def on_a_free_port(app: FakeIRS, host: str = "127.0.0.1", port: int = 0) -> Any:
            self.asked.append((app, host, port))
            self.servers.append(real(app, host, 0))
            return self.servers[-1]

        monkeypatch.setattr(testing, "make_server", on_a_free_port)

    def run(self, args: list[str], client: Callable[[int], None]) -> int:
        """The exit status; `client` gets the port once the server is bound.

        The Ctrl-C is Python's: a process that ignores SIGINT (a test runner's
        worker may) gets the default handler back for the call. If main()
        returns first, nothing waits for a server that will not come.
        """
        import _thread

        from irs_grammar.cli import main

        failures: list[BaseException] = []
        returned = threading.Event()

        def beside() -> None:
            try:
                deadline = time.monotonic() + 30
                while not self.servers and not returned.is_set() and time.monotonic() < deadline:
                    time.sleep(0.01)
                if self.servers:
                    client(self.servers[0].server_port)  # connections wait in the backlog until it serves
            except BaseException as e:
                failures.append(e)
            finally:
                if not returned.is_set():
                    _thread.interrupt_main()

        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        thread = threading.Thread(target=beside)
        try:
            thread.start()
            try:
                status = main(["serve", *args])
                returned.set()
                thread.join()
            except KeyboardInterrupt:  # main() had returned before the Ctrl-C came
                returned.set()
                thread.join()
                status = -1
        finally:
            signal.signal(signal.SIGINT, previous)
        if failures:
            raise failures[0]
        return status


class _FlushRecorder:
    """A standard output that tells what was flushed from what was only written."""

    def __init__(self) -> None:
        self.written = self.flushed = ""

    def write(self, text: str) -> int:
        self.written += text
        return len(text)

    def flush(self) -> None:
        self.flushed = self.written


def test_serve_in_process_prints_the_url_answers_and_stops_on_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in ("IRS_CLIENT_ID", "IRS_CLIENT_SECRET", "IRS_IDRS", "IRS_PIN"):
        monkeypatch.delenv(variable, raising=False)
    mine = {"client_id": "mine", "client_secret": "hush", "idrs": "ID9", "pin": "654321"}
    for name, value in mine.items():
        monkeypatch.setenv(f"IRS_{name.upper()}", value)
    log = tmp_path / "served.log"
    served = Served(monkeypatch)
    seen: list[str] = []

    out = _FlushRecorder()
    monkeypatch.setattr(sys, "stdout", out)

    def client(port: int) -> None:
        url = f"http://127.0.0.1:{port}"
        # A script reads the URL from the output as the server starts: it is flushed, not only written,
        # once serve has bound its port (the client is called then, and waits for it as a script would:
        # on a busy machine the main thread may not have printed yet).
        deadline = time.monotonic() + 30
        while not out.flushed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert out.flushed == f"{url}\n"
        theirs = FakeIRS(client_id="mine", client_secret="hush", idrs="ID9", pin="654321")
        buy = theirs.buy_request("MXD17", "48429495", ref_id="in-process").to_url(url)
        seen.extend(transaction(post(buy)).status for _ in range(2))
        for wrong in (
            FakeIRS(client_id="mine", client_secret="fake-secret", pin="654321"),
            FakeIRS(client_id="mine", client_secret="hush", pin="123456"),
        ):
            seen.append(transaction(post(wrong.buy_request("MXD17", "1").to_url(url))).status)

    status = served.run(["--port", "0", "--seed", "4", "--balance", "30000", "--log", str(log)], client)
    err = capsys.readouterr().err
    assert status == 130
    assert seen == ["INPROGRESS", "SUCCESS", "FAILED", "FAILED"]  # the secret and the pin are checked
    app, host, port = served.asked[0]
    assert (host, port, app.seed, app.balance) == ("127.0.0.1", 0, 4, 30000 - 18800)
    assert app.idrs == "ID9"  # the fake's requests carry it
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+\n", out.flushed)
    assert err == "irs-grammar: serving the fake IRS endpoint (Ctrl-C to stop)\nirs-grammar: interrupted\n"
    assert [r.valid for r in irs.validate(log)] == [True] * 4


SERVING = "irs-grammar: serving the fake IRS endpoint (Ctrl-C to stop)\n"


@pytest.mark.parametrize(
    ("args", "shown", "port", "warning"),
    [
        (["--host", "::1", "--port", "0"], "[::1]", 0, ""),
        (["--host", "localhost", "--port", "0"], "localhost", 0, ""),
        (["--host", "127.0.0.2"], "127.0.0.2", 8080, ""),  # all of 127.0.0.0/8 is loopback; the default port
    ],
)
def test_serve_in_process_on_each_kind_of_host(
    args: list[str],
    shown: str,
    port: int,
    warning: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served = Served(monkeypatch)
    answers: list[int] = []

    def client(bound: int) -> None:
        url = f"http://{shown}:{bound}"
        answers.append(inquiry(post(FakeIRS().inquiry_request("DN1", "0817345544").to_url(url))).price or 0)

    assert served.run(args, client) == 130
    out, err = capsys.readouterr()
    app, _, asked_port = served.asked[0]
    assert (asked_port, app.seed, app.balance) == (port, 0, 100_000_000)  # the defaults
    assert answers == [1178]
    assert re.fullmatch(rf"http://{re.escape(shown)}:\d+\n", out)
    assert err == warning + SERVING + "irs-grammar: interrupted\n"


def test_serve_refusals_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from irs_grammar.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    in_use = f"irs-grammar: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert capsys.readouterr().err == in_use
    assert main(["serve", "--log", str(tmp_path)]) == 2
    assert (
        capsys.readouterr().err == f"irs-grammar: {tmp_path}: is a directory; a reply log is a regular file\n"
    )
    assert main(["serve", "--balance", str(10**15 + 1)]) == 2
    assert capsys.readouterr().err == "irs-grammar: balance: must be 0 to 1000000000000000\n"
    for port_text, why in (("65536", "must be 0 to 65535"), ("8o", "'8o' is not a whole number")):
        with pytest.raises(SystemExit) as exited:
            main(["serve", "--port", port_text])
        assert exited.value.code == 2
        assert capsys.readouterr().err.endswith(f"irs-grammar serve: error: argument --port: {why}\n")


# -- what the fake's controls refuse, with the message docs/testing.md promises -------------------

WRONG_TYPE: dict[type, Any] = {float: 500.0, str: "1", int: 7}  # values of a type the API does not take


def test_fault_defaults() -> None:
    assert Fault.fail() == Fault("fail", reason=REASONS["failed"])
    assert Fault.unknown_status() == Fault("unknown_status", word="SUSPECT", checks=1)
    assert Fault.bad_balance() == Fault("bad_balance", offset=1000)
    assert Fault.http_error() == Fault("http_error", status=500)
    assert Fault.pending(3) == Fault("pending", checks=3)
    delay = Fault.delay(2)
    assert (delay, type(delay.seconds)) == (Fault("delay", seconds=2.0), float)
    assert (Fault.malformed().kind, Fault.drop().kind) == ("malformed", "drop")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Fault.pending(0), ValueError, "checks: must be 1 to 1000"),
        (lambda: Fault.pending(1001), ValueError, "checks: must be 1 to 1000"),
        (lambda: Fault.pending(True), TypeError, "checks: must be an int, not bool"),
        (lambda: Fault.unknown_status(checks=0), ValueError, "checks: must be 1 to 1000"),
        (lambda: Fault.unknown_status(checks=1001), ValueError, "checks: must be 1 to 1000"),
        (lambda: Fault.bad_balance(0), ValueError, "offset: must not be 0"),
        (lambda: Fault.bad_balance(10**9 + 1), ValueError, "offset: must be -1000000000 to 1000000000"),
        (lambda: Fault.bad_balance(-(10**9) - 1), ValueError, "offset: must be -1000000000 to 1000000000"),
        (lambda: Fault.http_error(399), ValueError, "status: must be 400 to 599"),
        (lambda: Fault.http_error(600), ValueError, "status: must be 400 to 599"),
        (lambda: Fault.http_error(WRONG_TYPE[float]), TypeError, "status: must be an int, not float"),
        (lambda: Fault.delay(0), ValueError, "seconds: must be more than 0 and at most 60"),
        (lambda: Fault.delay(60.001), ValueError, "seconds: must be more than 0 and at most 60"),
        (lambda: Fault.delay(True), ValueError, "seconds: must be more than 0 and at most 60"),
        (lambda: Fault.delay(WRONG_TYPE[str]), ValueError, "seconds: must be more than 0 and at most 60"),
        (lambda: Fault.fail(WRONG_TYPE[int]), TypeError, "reason: must be a str, not int"),
        (
            lambda: Fault.fail("two\nlines"),
            ValueError,
            "reason: a reply could not carry it (a line break, or text the parser would cut)",
        ),
    ],
)
def test_fault_arguments_are_checked(make: Callable[[], Fault], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as refused:
        make()
    assert str(refused.value) == message


@pytest.mark.parametrize("word", ["SUCCESS", "FAILED", "INPROGRESS", "suspect", "", "SUS PECT", 7])
def test_an_unknown_status_word_must_be_unknown_and_a_word(word: Any) -> None:
    with pytest.raises(ValueError, match=r"^word: ") as refused:
        Fault.unknown_status(word)
    assert str(refused.value) == "word: an upper-case word (A-Z, _) other than SUCCESS, FAILED and INPROGRESS"


def test_the_edges_of_the_fault_arguments_are_taken() -> None:
    assert Fault.pending(1000).checks == 1000
    assert Fault.unknown_status("GANTUNG_X", checks=1000).word == "GANTUNG_X"
    assert Fault.bad_balance(-(10**9)).offset == -(10**9)
    assert Fault.bad_balance(10**9).offset == 10**9
    assert (Fault.http_error(400).status, Fault.http_error(599).status) == (400, 599)
    assert Fault.delay(60).seconds == 60.0
    assert Fault.delay(0.001).seconds == 0.001


def test_add_fault_checks_its_selectors() -> None:
    fake = FakeIRS()
    for kwargs, error, message in (
        ({"call": 0}, ValueError, f"call: must be 1 to {2**62}"),
        ({"times": 0}, ValueError, f"times: must be 1 to {2**62}"),
        ({"call": 2**62 + 1}, ValueError, f"call: must be 1 to {2**62}"),
        ({"times": "1"}, TypeError, "times: must be an int, not str"),
    ):
        with pytest.raises(error) as refused:
            fake.add_fault(Fault.drop(), **kwargs)
        assert str(refused.value) == message
    with pytest.raises(TypeError) as refused:
        fake.add_fault("drop")  # type: ignore[arg-type]
    assert str(refused.value) == "fault: must be a Fault, not str"
    fake.add_fault(Fault.drop(), call=2**62, times=2**62)  # the edges are taken


# -- the pytest plugin, run by pytest in this process ------------------------------------------------


def test_the_plugin_serves_the_seed_it_is_given_and_says_so(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "def test_seed(fake_irs):\n"
        "    import os\n"
        "    assert fake_irs.seed == int(os.environ['EXPECTED_SEED'])\n"
        "    assert fake_irs.url.startswith('http://127.0.0.1:')\n"
    )
    for args, seed in ((["--fake-irs-seed", "7"], "7"), ([], "0")):
        os.environ["EXPECTED_SEED"] = seed
        try:
            result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
        finally:
            del os.environ["EXPECTED_SEED"]
        result.assert_outcomes(passed=1)
        assert f"fake_irs seed: {seed}" in result.stdout.lines
    shown = pytester.runpytest_inprocess("--help").stdout.str()
    assert "irs-grammar:" in shown
    assert re.search(r"--fake-irs-seed=N\s+the seed of the fake_irs fixture's endpoint \(default 0\)", shown)
    refused = pytester.runpytest_inprocess("--fake-irs-seed", "x")
    assert "argument --fake-irs-seed: invalid int value: 'x'" in refused.stderr.str()


# -- the server's edges and the fake's own numbers ---------------------------------------------------


def raw_exchange(fake: FakeIRS, request: bytes) -> bytes:
    port = int(base(fake).rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_request_line_past_64_kib_is_414_and_one_of_64_kib_is_read(fake: FakeIRS) -> None:
    def line(length: int) -> bytes:
        start, end = b"POST /", b" HTTP/1.0\r\n"
        return start + b"x" * (length - len(start) - len(end)) + end + b"\r\n"

    assert raw_exchange(fake, line(65537)).startswith(b"HTTP/1.0 414 ")
    # no line ending in the first 64 KiB: refused at once, not read on while the client waits
    assert raw_exchange(fake, b"POST /" + b"x" * (65537 - 6)).startswith(b"HTTP/1.0 414 ")
    assert raw_exchange(fake, line(65536)).startswith(b"HTTP/1.0 404 ")  # read whole: an unknown path
    # a line that is no request: an HTTP/0.9 answer (no status line), the error page of a 400
    assert b"Error code explanation: 400" in raw_exchange(fake, b"NOT A REQUEST LINE\r\n\r\n")


def test_running_ends_with_the_port_closed_and_no_url() -> None:
    fake = FakeIRS()
    with fake.running() as running:
        port = int(base(running).rsplit(":", 1)[1])
        [thread] = [t for t in threading.enumerate() if t.name == "FakeIRS"]
        assert thread.daemon  # a server left running never holds the interpreter open
    assert fake.running_url is None
    with pytest.raises(RuntimeError, match="not running"):
        fake.url  # noqa: B018 (the property's refusal is the point)
    assert not thread.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_it_serves_on_ipv6_loopback_too() -> None:
    with FakeIRS().running(host="::1") as fake:
        assert re.fullmatch(r"http://\[::1\]:\d+", base(fake))
        reply = inquiry(post(fake.inquiry_request("DN1", "0817345544").to_url(base(fake))))
        assert reply.price == 1178


def test_request_builders_carry_the_fakes_credentials_and_zero_amounts_by_default() -> None:
    fake = FakeIRS(client_id="me", client_secret="sec", idrs="ID", pin="999999")
    inquiry_request = fake.inquiry_request("DN1", "0811", ref_id="r1")
    assert (inquiry_request.amount, inquiry_request.selling_price, inquiry_request.ref_id) == (0, 0, "r1")
    buy = fake.buy_request("DN1", "0811", amount=5, ref_id="r2")
    for request in (inquiry_request, buy):
        assert (request.client_id, request.client_secret, request.idrs, request.pin) == (
            "me",
            "sec",
            "ID",
            "999999",
        )
    assert (buy.amount, buy.ref_id) == (5, "r2")
    assert fake.inquiry_request("DN1", "0811").ref_id != fake.inquiry_request("DN1", "0811").ref_id


def bought(fake: FakeIRS, product: str, to: str, ref_id: str) -> TransactionResponse:
    url = fake.buy_request(product, to, ref_id=ref_id).to_url("http://fake")
    query = url.split("?", 1)[1]
    call_wsgi(fake, "/v1/irs/buy", query)
    return transaction(call_wsgi(fake, "/v1/irs/buy", query)[1])


def test_serial_numbers_of_the_fake() -> None:
    fake = FakeIRS(seed=3)
    for n in range(40):  # 7 to 12 digits: randrange(10**6, 10**12)
        sn = bought(fake, "DN1", "0817345544", f"d{n}").serial_number
        assert sn is not None
        assert sn.isdigit()
        assert 7 <= len(sn) <= 12
    # A PLN token's kWh is the price over 1,500 rupiah a kWh, one decimal: 20,546 -> 13.7; 50,102 -> 33.4.
    for product, kwh in (("PLN20", "13.7"), ("PLN50", "33.4")):
        token = bought(fake, product, "01105691111", f"p{product}").pln_token
        assert token is not None
        assert token.kwh == Decimal(kwh)
        assert len(token.token) == 20


def test_each_buy_has_a_trxid_of_its_own_a_uuid() -> None:
    fake = FakeIRS()
    trxids = [bought(fake, "DN1", "0811", f"u{n}").transaction_id for n in range(3)]
    assert all(trxid is not None and str(uuid.UUID(trxid)) == trxid for trxid in trxids)
    assert len(set(trxids)) == 3


class EndOfRange(random.Random):
    """randrange answers the lowest or the highest number of its range: the fake's draws at their ends."""

    def __init__(self, *, highest: bool) -> None:
        super().__init__(0)
        self.highest = highest

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        low, high = (0, start) if stop is None else (start, stop)
        return high - 1 if self.highest else low


def test_serial_numbers_at_the_ends_of_their_draw_and_kwh_to_a_tenth() -> None:
    # Serials of 7 to 12 digits, as the documented "SN: 4779928"; a token of five groups of 4 digits.
    catalogue = (Product("DN1", 1178), Product("PLN100", 100_000, pln=True))
    ends = {}
    for highest in (False, True):
        fake = FakeIRS(catalogue=catalogue)
        fake.account.rng = EndOfRange(highest=highest)
        token = bought(fake, "PLN100", "01105691111", "p1").pln_token
        assert token is not None
        ends[highest] = (bought(fake, "DN1", "0817345544", "d1").serial_number, token.token, token.kwh)
    assert ends[False] == ("1000000", "0" * 20, Decimal("66.7"))  # 100,000 / 1,500 = 66.67
    assert ends[True] == ("999999999999", "9" * 20, Decimal("66.7"))


def test_a_bad_balance_on_a_failed_buy_and_a_balance_never_below_zero() -> None:
    fake = FakeIRS(balance=5_000)
    fake.add_fault(Fault.fail("Gagal"), to="0811")
    fake.add_fault(Fault.bad_balance(700), to="0811")
    failed = bought(fake, "DN1", "0811", "f1")
    assert (failed.status, failed.reason, failed.balance) == (
        "FAILED",
        "Gagal",
        Balance("5.000", "0", "5.700"),
    )
    fake.add_fault(Fault.bad_balance(-(10**6)), to="0822")
    low = bought(fake, "DN1", "0822", "f2")
    assert (low.status, low.balance) == ("SUCCESS", Balance("5.000", "1.178", "0"))  # 3,822 - 1,000,000: 0
    assert fake.balance == 5_000 - 1_178


def test_make_server_binds_a_free_loopback_port_by_default() -> None:
    from irs_grammar.testing import make_server

    first, second = make_server(FakeIRS()), make_server(FakeIRS())
    try:
        assert first.server_address[0] == second.server_address[0] == "127.0.0.1"
        assert first.server_port != second.server_port  # each its own free port
    finally:
        first.server_close()
        second.server_close()


def test_running_on_a_given_port_and_two_at_once_on_their_own_free_ports() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeIRS().running(port=port) as given, FakeIRS().running() as first, FakeIRS().running() as second:
        assert base(given) == f"http://127.0.0.1:{port}"
        assert len({base(given), base(first), base(second)}) == 3


def test_the_server_gives_the_app_the_environ_wsgi_asks_for() -> None:
    seen: dict[str, Any] = {}

    class Probe(FakeIRS):
        def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            seen.update(environ, body=environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
            return super().__call__(environ, start_response)

    with Probe().running() as probe:
        port = int(base(probe).rsplit(":", 1)[1])
        reply = raw_exchange(probe, b"POST /v1/irs/other HTTP/1.0\r\nContent-Length: 4\r\n\r\nbody")
    assert reply.startswith(b"HTTP/1.0 404 ")
    assert seen["body"] == b"body"
    assert (seen["SERVER_NAME"], seen["SERVER_PORT"]) == ("127.0.0.1", str(port))  # the resolver not asked
    assert seen["wsgi.multithread"] is True  # a thread per connection
    assert callable(seen["wsgi.errors"].write)


def test_the_control_endpoint_adds_and_clears_faults() -> None:
    # what a client in another language does while `serve` runs, here without a socket
    app = FakeIRS()

    def control(method: str, query: str = "", body: bytes = b"") -> tuple[str, str]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": "/_fake/faults",
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": BytesIO(body),
        }
        setup_testing_defaults(environ)
        seen: list[str] = []
        answer = b"".join(app(environ, lambda status, headers: seen.append(status)))
        return seen[0], answer.decode()

    assert control("POST", "fault=pending:checks=1,product=PLN20") == ("200 OK", '{"added": 1}')
    body = b'{"faults": ["drop:times=1", "delay:seconds=0.1,times=1"]}'
    assert control("POST", body=body) == ("200 OK", '{"added": 2}')
    assert [f.kind for f in app.unused_faults()] == ["pending", "drop", "delay"]
    assert control("POST")[0] == "400 Bad Request"  # no fault named
    assert control("GET") == ("405 Method Not Allowed", "POST or DELETE")
    assert control("DELETE") == ("200 OK", '{"cleared": true}')
    assert app.unused_faults() == []
    assert app.requests == []  # not an IRS request: not kept


def test_the_control_endpoint_answers_in_json_and_says_what_it_refuses() -> None:
    app = FakeIRS()

    def control(
        method: str, query: str = "", body: bytes = b"", length: str | None = None
    ) -> tuple[str, Any]:
        status, headers, text = call_wsgi_whole(app, "/_fake/faults", query, method, body, length)
        if status.startswith("405"):
            assert headers["allow"] == "POST, DELETE"
            return status, text
        assert headers["content-type"] == "application/json"
        assert headers["content-length"] == str(len(text.encode()))
        return status, json.loads(text)

    assert control("GET") == ("405 Method Not Allowed", "POST or DELETE")
    expected = 'fault=KIND[:NAME=VALUE,...] in the query, or {"faults": [...]} as JSON, expected'
    assert control("POST") == ("400 Bad Request", {"error": expected})
    # a fault the vocabulary does not hold: refused with the reason serve --fault gives
    with pytest.raises(ValueError, match=r"^fault 'sometimes': none of fail, pending") as reason:
        fault_from_spec("sometimes")
    assert control("POST", "fault=sometimes") == ("400 Bad Request", {"error": str(reason.value)})
    assert app.unused_faults() == []
    # the query's faults and the body's, both; the body read to its Content-Length and no further
    body = b'{"faults": ["drop:times=1"]}'
    added = control("POST", "fault=pending:checks=1,product=PLN50", body + b"and then", str(len(body)))
    assert added == ("200 OK", {"added": 2})
    assert [f.kind for f in app.unused_faults()] == ["pending", "drop"]
    # the selectors a spec names are kept: a buy of PLN20 leaves the fault for PLN50 unused
    app.clear_faults()
    assert control("POST", "fault=pending:checks=1,product=PLN50") == ("200 OK", {"added": 1})
    for product, left in (("PLN20", ["pending"]), ("PLN50", [])):
        call_url(app, app.buy_request(product, "01105691111").to_url("http://fake-irs"))
        assert [f.kind for f in app.unused_faults()] == left
    # a query of more than 64 parameters is refused, not read (64 are read)
    many = "&".join(["fault=drop:times=1"] * 64)
    assert control("POST", many) == ("200 OK", {"added": 64})
    assert control("POST", many + "&x=1") == ("400 Bad Request", {"error": "at most 64 query parameters"})


def test_what_the_fake_keeps_of_a_scripted_error_and_a_dropped_connection() -> None:
    app = FakeIRS()
    app.add_fault(Fault.http_error(503), call=1)
    app.add_fault(Fault.drop(), call=2)
    url = app.buy_request("PLN20", "01105691111", ref_id="e1").to_url("http://fake")
    path, query = url.split("http://fake", 1)[1].split("?", 1)
    assert call_wsgi(app, path, query) == ("503 Fault", "a scripted HTTP error from the fake IRS")
    with pytest.raises(ConnectionDropped):
        call_wsgi(app, path, query)
    kept = [(r.method, r.path, r.status, r.reply, [f.kind for f in r.faults], r.ref_id) for r in app.requests]
    assert kept == [
        ("POST", "/v1/irs/buy", 503, "a scripted HTTP error from the fake IRS", ["http_error"], "e1"),
        ("POST", "/v1/irs/buy", 0, None, ["drop"], "e1"),  # 0: no status went back
    ]


def test_a_buy_request_asks_no_amount_by_default() -> None:
    assert FakeIRS().buy_request("DN1", "0811").amount == 0


def test_not_an_endpoint_and_not_a_post_say_so() -> None:
    app = FakeIRS()
    replies: list[tuple[str, list[tuple[str, str]], bytes]] = []

    def call(environ: dict[str, Any]) -> None:
        path = environ.get("PATH_INFO")
        setup_testing_defaults(environ)
        if path is None:
            del environ["PATH_INFO"]  # (the defaults fill one in)
        seen: list[tuple[str, list[tuple[str, str]]]] = []
        body = b"".join(app(environ, lambda status, headers: seen.append((status, headers))))
        replies.append((*seen[0], body))

    call({"REQUEST_METHOD": "POST", "PATH_INFO": "/v1/irs/other", "wsgi.input": BytesIO()})
    call({"REQUEST_METHOD": "POST", "wsgi.input": BytesIO()})  # no PATH_INFO at all
    call({"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/irs/buy", "wsgi.input": BytesIO()})
    for status, _, body in replies[:2]:
        assert (status, body) == ("404 Not Found", b"not an IRS endpoint: POST .../v1/irs/inquiry or buy")
    status, headers, body = replies[2]
    assert (status, body, ("Allow", "POST") in headers) == ("405 Method Not Allowed", b"use POST", True)
    for _, headers, body in replies:
        assert headers[:2] == [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
    too_long = b"x" * (64 * 1024 + 1)  # a body past MAX_BODY
    call({"REQUEST_METHOD": "POST", "PATH_INFO": "/v1/irs/buy", "CONTENT_LENGTH": str(len(too_long)),
          "wsgi.input": BytesIO(too_long)})  # fmt: skip
    assert replies[3][0] == "413 Content Too Large"
    # each is kept, as it came and as it was answered
    kept = [(r.method, r.path, r.status, r.reply, r.refused) for r in app.requests]
    assert kept == [
        ("POST", "/v1/irs/other", 404, replies[0][2].decode(), "not an IRS endpoint"),
        ("POST", "", 404, replies[1][2].decode(), "not an IRS endpoint"),
        ("GET", "/v1/irs/buy", 405, "use POST", "method GET, not POST"),
        ("POST", "/v1/irs/buy", 413, replies[3][2].decode(), "a body of more than 65,536 bytes"),
    ]


def test_a_query_that_is_not_utf8_or_missing_is_refused_by_the_reader() -> None:
    app = FakeIRS()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/v1/irs/inquiry",
        "wsgi.input": BytesIO(),
    }
    setup_testing_defaults(environ)
    environ.pop("QUERY_STRING", None)
    body = b"".join(app(environ, lambda status, headers: None)).decode()
    assert inquiry(body).reason == "client_id: missing from the url"
    # a byte that is not UTF-8 (WSGI passes the query as latin-1): named by field, never shown
    url = app.inquiry_request("DN1", "0811").to_url("http://fake").replace("to=0811", "to=08\udcff11")
    status, body = call_wsgi(app, "/v1/irs/inquiry", url.split("?", 1)[1])
    assert status == "200 OK"
    assert inquiry(body).reason == "to: holds a line break, a control character or a lone surrogate"


def test_a_scripted_http_error_and_a_drop_say_what_they_are() -> None:
    app = FakeIRS()
    query = app.inquiry_request("DN1", "0811").to_url("http://fake").split("?", 1)[1]
    app.add_fault(Fault.http_error(502), call=1)
    assert call_wsgi(app, "/v1/irs/inquiry", query) == (
        "502 Fault",
        "a scripted HTTP error from the fake IRS",
    )
    app.add_fault(Fault.drop(), call=2)
    with pytest.raises(ConnectionDropped) as dropped:
        call_wsgi(app, "/v1/irs/inquiry", query)
    assert str(dropped.value) == "call 2: dropped as scripted"


@pytest.mark.parametrize("count", [65, 1000])
def test_a_request_of_too_many_parameters_is_refused_not_a_crash(count: int) -> None:
    app = FakeIRS()
    query = "&".join(f"x{n}=1" for n in range(count))
    for path in ("/v1/irs/inquiry", "/v1/irs/buy"):
        status, body = call_wsgi(app, path, query)
        assert status == "200 OK"
        assert "is not a parameter of" in parse_reply(body).to_dict()["REASON"]


@pytest.mark.parametrize(("count", "faulted"), [(64, True), (65, False)])
def test_a_fault_selects_by_the_parameters_of_a_request_up_to_64_of_them(count: int, faulted: bool) -> None:
    # A fault for one product acts on a request the fake can read (64 parameters at most, as
    # parse_qsl is told): past that the request has no selector to match, and the request's reader
    # refuses it. The product named first, the filler after it.
    app = FakeIRS()
    app.add_fault(Fault.http_error(503), product="DN1")
    query = "&".join(["product_code=DN1", *(f"x{n}=1" for n in range(count - 1))])
    status, body = call_wsgi(app, "/v1/irs/inquiry", query)
    if faulted:
        assert status == "503 Fault"
    else:
        assert status == "200 OK"
        assert "is not a parameter of" in parse_reply(body).to_dict()["REASON"]


@pytest.mark.parametrize("times", [2, 3])
def test_a_fault_acts_on_exactly_times_requests(times: int) -> None:
    app = FakeIRS()
    app.add_fault(Fault.http_error(503), times=times)
    query = app.inquiry_request("DN1", "0811").to_url("http://fake").split("?", 1)[1]
    statuses = [call_wsgi(app, "/v1/irs/inquiry", query)[0] for _ in range(times + 2)]
    assert statuses == ["503 Fault"] * times + ["200 OK"] * 2


def test_the_clock_moves_a_microsecond_when_the_wall_clock_does_not() -> None:
    fixed = datetime(2024, 12, 1, 10, 0, 0)
    app = FakeIRS(clock=lambda: fixed)
    query = app.inquiry_request("DN1", "0811").to_url("http://fake").split("?", 1)[1]
    moments = [inquiry(call_wsgi(app, "/v1/irs/inquiry", query)[1]).timestamp for _ in range(3)]
    assert moments == [fixed, fixed + timedelta(microseconds=1), fixed + timedelta(microseconds=2)]


def test_the_fakes_documented_defaults() -> None:
    # docs/testing.md: seed 0, the machine's time in WIB (UTC+7), the last 10,000 replies kept.
    fake = FakeIRS()
    assert fake.seed == 0
    query = fake.inquiry_request("DN1", "0811").to_url("http://fake").split("?", 1)[1]
    stamped = inquiry(call_wsgi(fake, "/v1/irs/inquiry", query)[1]).timestamp
    wib_now = datetime.now(timezone(timedelta(hours=7))).replace(tzinfo=None)
    assert abs(stamped - wib_now) < timedelta(minutes=1)
    assert inspect.signature(FakeIRS).parameters["history"].default == 10_000
    assert fake.account.replies.maxlen == 10_000
    kept = FakeIRS(history=3)
    for _ in range(5):
        call_wsgi(kept, "/v1/irs/inquiry", query)
    assert len(kept.replies) == 3


def test_catalogue_prices_are_checked() -> None:
    FakeIRS(catalogue=[Product("FREE", 0), Product("DEAR", 10**15)])  # the edges are taken
    for price, error, message in (
        (-1, ValueError, "catalogue: the price of X: must be 0 to 1000000000000000"),
        (10**15 + 1, ValueError, "catalogue: the price of X: must be 0 to 1000000000000000"),
        (1.0, TypeError, "catalogue: the price of X: must be an int, not float"),
    ):
        with pytest.raises(error) as refused:
            FakeIRS(catalogue=[Product("X", price)])  # type: ignore[arg-type]
        assert str(refused.value) == message


def test_the_fakes_other_arguments_are_checked() -> None:
    assert FakeIRS().running_url is None  # not running
    FakeIRS(history=1, balance=0)
    FakeIRS(history=10**7, balance=10**15)  # the edges are taken
    for kwargs, error, message in (
        ({"history": 0}, ValueError, "history: must be 1 to 10000000"),
        ({"history": 10**7 + 1}, ValueError, "history: must be 1 to 10000000"),
        ({"history": "5"}, TypeError, "history: must be an int, not str"),
        ({"balance": -1}, ValueError, "balance: must be 0 to 1000000000000000"),
    ):
        with pytest.raises(error) as refused:
            FakeIRS(**kwargs)
        assert str(refused.value) == message


def test_a_balance_of_exactly_the_price_buys_it_and_a_failed_balance_floors_at_zero() -> None:
    exact = FakeIRS(balance=1_178)  # DN1 costs 1,178
    reply = bought(exact, "DN1", "0811", "e1")
    assert (reply.status, reply.balance) == ("SUCCESS", Balance("1.178", "1.178", "0"))
    failing = FakeIRS(balance=5_000)
    failing.add_fault(Fault.fail("Gagal"))
    failing.add_fault(Fault.bad_balance(-(10**6)))
    reply = bought(failing, "DN1", "0811", "f1")
    assert (reply.status, reply.balance) == ("FAILED", Balance("5.000", "0", "0"))  # 5,000 - 1,000,000: 0


# -- the fake's own log reconciles to the money it moved, whatever the faults -------------------------

_FAULTS = st.sampled_from(
    [
        Fault.fail(),
        Fault.pending(1),
        Fault.pending(3),
        Fault.unknown_status("SUSPECT", 2),
        Fault.bad_balance(700),
        Fault.malformed(),
        Fault.http_error(503),
        Fault.drop(),
    ]
)
_STEPS = st.lists(
    st.one_of(
        # (what, ref_id, product, honest): a buy or its re-check, a refused re-check, an inquiry
        st.tuples(st.just("buy"), _pool, _catalogued, st.sampled_from([True, True, True, False])),
        st.tuples(st.just("inquiry"), _pool, _catalogued, st.just(True)),
        st.tuples(st.just("fault"), _FAULTS, st.one_of(st.none(), _catalogued), st.integers(1, 3)),
    ),
    min_size=1,
    max_size=16,
)


@settings(max_examples=100)
@given(_STEPS, st.sampled_from([START, 30_000, 12_000]))
def test_the_fakes_log_reconciles_to_the_balance_it_moved_under_any_faults(
    steps: list[tuple[Any, ...]], opening: int
) -> None:
    fake = FakeIRS(seed=5, balance=opening)
    bought: dict[str, tuple[str, str]] = {}  # ref_id -> its purchase, as first sent

    def call(request: irs.InquiryRequest | irs.BuyRequest) -> None:
        with contextlib.suppress(ConnectionDropped):  # carried out, the reply never sent
            call_url(fake, request.to_url("http://h"))

    for what, first, second, third in [("buy", "r1", "DN1", True), *steps]:  # a buy in every example
        if what == "fault":
            fake.add_fault(first, product=second, times=third)
        elif what == "inquiry":
            call(fake.inquiry_request(second, "0817345544"))
        else:
            product, to = bought.setdefault(first, (second, "0817345544"))
            request = fake.buy_request(product, to, ref_id=first)
            call(request if third else type(request)(**{**request_parameters(request), "pin": "nope"}))
    fake.clear_faults()
    for ref_id, (product, to) in bought.items():  # every buy followed to its final reply
        for _ in range(12):
            if fake.status(ref_id) in ("SUCCESS", "FAILED"):
                break
            call(fake.buy_request(product, to, ref_id=ref_id))
    reached_final = {ref_id: fake.status(ref_id) for ref_id in bought}
    assert set(reached_final.values()) <= {"SUCCESS", "FAILED"}
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "fake.log"
        fake.write_log(log)
        result = irs.reconcile([log])
    # Every rupiah the account moved is a charge its log shows, and nothing more.
    assert result.deducted() == opening - fake.balance
    outcomes = {"SUCCESS": "succeeded", "FAILED": "failed"}
    for ref_id, status in reached_final.items():
        assert result.transactions[ref_id].outcome == outcomes[str(status)]
    if "SUCCESS" in reached_final.values():
        reached()  # the money check compared a real charge (not 0 == 0)


# -- serve under hostile clients and bad settings ------------------------------------------------------


def raw_post(port: int, body: bytes, query: str) -> bytes:
    """A POST with `body`, sent by hand; what came back (b"" when the connection closed first)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        head = f"POST /v1/irs/buy?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
        conn.sendall(head.encode())
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            conn.sendall(body)
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := conn.recv(1 << 16):
                chunks.append(chunk)
    return b"".join(chunks)


def test_a_request_body_is_read_and_bounded(fake: FakeIRS) -> None:
    from irs_grammar.testing.front import MAX_BODY

    port = int(fake.url.rsplit(":", 1)[1]) if fake.url else 0
    small = fake.buy_request("DN1", "0817345544", ref_id="small").to_url("http://h").split("?", 1)[1]
    assert b"INPROGRESS" in raw_post(port, b"x" * 1000, small)  # read and dropped: the reply arrives
    for n in range(20):  # 0.2.0 lost the reply of such a request 1 to 4 times in 20, the buy carried out
        query = fake.buy_request("DN1", "0817345544", ref_id=f"big{n}").to_url("http://h").split("?", 1)[1]
        answer = raw_post(port, b"y" * (2 << 20), query)
        assert answer.startswith(b"HTTP/1.0 413 ") or answer.startswith(b"HTTP/1.1 413 "), answer[:80]
        assert f"a body of more than {MAX_BODY:,} bytes is refused".encode() in answer
        assert fake.status(f"big{n}") is None  # refused: not carried out


def test_a_client_that_resets_costs_no_line_and_an_idle_one_is_let_go(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from irs_grammar.testing import make_server

    app = FakeIRS()
    server = make_server(app, "127.0.0.1", 0, idle_timeout=0.3)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        port = server.server_port
        for _ in range(20):  # each resets its connection in the middle of a request
            conn = socket.create_connection(("127.0.0.1", port))
            conn.sendall(b"POST /v1/irs/buy?client_id=x HTTP/1.1\r\nContent-Length: 100000\r\n\r\nabc")
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()  # an RST, not a FIN
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)
        started = time.monotonic()
        assert idle.recv(100) == b""  # closed by the server, nothing sent
        assert time.monotonic() - started < 5
        idle.close()
        time.sleep(0.5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("env", "args", "said"),
    [
        (
            {"IRS_PIN": "12\n34"},
            [],
            "IRS_PIN: holds a line break, a control character or a lone surrogate; no request could carry it",
        ),
        ({"IRS_CLIENT_SECRET": ""}, [], "IRS_CLIENT_SECRET: must not be empty; no request could carry it"),
        ({}, ["--log", "/dev/full"], "/dev/full: is a character device; a reply log is a regular file"),
        (
            {},
            ["--host", ""],
            "--host needs an address: 127.0.0.1 (this machine), ::1, or 0.0.0.0 (every network)",
        ),
    ],
)
def test_serve_stops_at_start_on_settings_that_would_fail_every_request(
    env: dict[str, str],
    args: list[str],
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from irs_grammar.cli import main

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "0", *args]) == 2
    assert capsys.readouterr().err == f"irs-grammar: {said}\n"


def test_the_loopback_is_all_of_127_0_0_0_8_and_1() -> None:
    from irs_grammar.testing import is_loopback

    assert [is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "localhost")] == [
        True
    ] * 5
    assert [is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "::", "192.168.1.1", "example.com")] == [
        False
    ] * 5


def test_a_log_that_fails_part_way_does_not_fail_the_reply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "replies.log"
    fake = FakeIRS(log=log)
    log.unlink()
    log.mkdir()  # the log can no longer be appended to
    query = fake.buy_request("DN1", "0811", ref_id="k").to_url("http://h").split("?", 1)[1]
    for _ in range(2):
        status, body = call_wsgi(fake, "/v1/irs/buy", query)
        assert status == "200 OK"
        assert transaction(body).ref_id == "k"
    assert fake.status("k") == "SUCCESS"
    err = capsys.readouterr().err
    assert err == f"irs-grammar: {log}: Is a directory; replies are no longer logged\n"  # once


def test_a_termination_while_serve_starts_a_connection_stops_the_server() -> None:
    # SIGTERM raises Terminated in the main thread wherever it is; serve's loop (socketserver) reports
    # a connection's Exception and serves on, so Terminated must not be one: it is a BaseException, as
    # KeyboardInterrupt is. (Beside two CPU burners a SIGTERM once came while serve was starting a
    # connection's thread: the server reported "a connection ... failed: Terminated()" and served on.)
    from irs_grammar import testing
    from irs_grammar.cli import Terminated

    server = testing.make_server(FakeIRS(), "127.0.0.1", 0)

    def signalled(request: Any, client_address: Any) -> None:
        raise Terminated  # as the SIGTERM handler raises it, at this point of the loop

    server.process_request = signalled  # type: ignore[method-assign]

    def client() -> None:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", server.server_port), timeout=5).close()
        time.sleep(5)
        server.shutdown()  # only if the loop went on: the test then fails below

    beside = threading.Thread(target=client, daemon=True)
    beside.start()
    try:
        with pytest.raises(Terminated):
            server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()


def test_a_failed_connection_is_one_line_on_standard_error_and_a_client_that_left_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from irs_grammar.testing.server import _Server

    for error in (OSError(5, "Input/output error"), BrokenPipeError()):
        try:
            raise error
        except OSError:
            _Server.handle_error(None, None, ("10.0.0.7", 51234))  # type: ignore[arg-type]  # self unused
    assert capsys.readouterr().err == (
        "irs-grammar: a connection from 10.0.0.7 failed: OSError(5, 'Input/output error')\n"
    )


def test_a_reply_log_that_is_not_a_regular_file_is_refused_as_an_invalid_argument(tmp_path: Path) -> None:
    # errno EINVAL, as the OS says of a wrong kind of file; the message names the kind
    with pytest.raises(OSError, match="a reply log is a regular file") as refused:
        FakeIRS(log=tmp_path)
    assert refused.value.errno == errno.EINVAL
    assert refused.value.strerror == "is a directory; a reply log is a regular file"


def test_what_the_fake_says_of_a_url_before_it_runs_and_a_fault_that_could_never_act() -> None:
    fake = FakeIRS()
    with pytest.raises(RuntimeError) as stopped:
        _ = fake.url
    assert (
        str(stopped.value) == "the fake is not running: use `with fake.running():` (or the fake_irs fixture)"
    )
    with pytest.raises(ValueError, match="catalogue") as never:
        fake.add_fault(Fault.drop(), product="PLN100")
    assert str(never.value) == (
        "product: 'PLN100' is not in the catalogue (PLN20, PLN50, OVO10, GOPAY10, DN1, MAX5000, MXD17): "
        "a fault for it would never act"
    )


def test_the_requests_log_holds_each_request_as_its_json_and_a_log_that_fails_fails_no_request(
    tmp_path: Path,
) -> None:
    log = tmp_path / "requests.jsonl"
    log.write_text('{"kept": "what was there"}\n', encoding="utf-8")  # appended to, not replaced
    app = FakeIRS(requests_log=log)
    for url in (
        app.buy_request("PLN20", "Ümit", ref_id="r1").to_url("http://fake-irs"),
        "http://fake-irs/v1/irs/x",
    ):
        call_url(app, url)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"kept": "what was there"},
        *(r.to_dict() for r in app.requests),
    ]
    assert [r.to_dict()["time"] for r in app.requests] == [str(r.time) for r in app.requests]
    assert "pin=***" in lines[1]
    # the keys docs/testing.md names, and what each holds, for a buy and for a request it refused
    buy, refused = (json.loads(line) for line in lines[1:])
    assert (
        list(buy)
        == list(refused)
        == ["number", "time", "method", "path", "query", "ref_id", "status", "reply", "faults", "refused"]
    )
    assert {
        key: buy[key] for key in ("number", "method", "path", "ref_id", "status", "faults", "refused")
    } == {
        "number": 1,
        "method": "POST",
        "path": "/v1/irs/buy",
        "ref_id": "r1",
        "status": 200,
        "faults": [],
        "refused": None,
    }
    assert buy["query"].startswith("client_id=fake-client&client_secret=***&")
    assert "&ref_id=r1&" in buy["query"]
    assert buy["reply"].startswith("R#r1 PLN20 ")
    assert (refused["number"], refused["path"], refused["ref_id"], refused["status"]) == (
        2,
        "/v1/irs/x",
        None,
        404,
    )
    assert refused["refused"] == "not an IRS endpoint"
    # a requests log that cannot be written (here a folder) loses its lines, not the requests
    folder = FakeIRS(requests_log=tmp_path)
    assert call_wsgi(folder, "/v1/irs/x", "")[0] == "404 Not Found"
    assert len(folder.requests) == 1


@pytest.mark.parametrize(
    ("body", "length", "read", "status"),
    [
        (b"x" * 200_000, None, 200_000, "413 Content Too Large"),  # past 64 KiB: read away, refused
        (b"x" * 65_536, None, 65_536, "200 OK"),
        (b"x", None, 1, "200 OK"),
        (b"x" * 10, "100", 10, "200 OK"),  # shorter than its Content-Length: what there is
        (b"x" * 10, "", 0, "200 OK"),  # no Content-Length: nothing read
        (b"x" * 10, "ten", 0, "200 OK"),  # a Content-Length that is no number: as none
    ],
)
def test_an_irs_requests_body_is_read_away(body: bytes, length: str | None, read: int, status: str) -> None:
    # a body an IRS request does not use is read (on a kept-alive connection, the next request
    # starts after it), up to what its Content-Length says
    app = FakeIRS()
    url = urlsplit(app.buy_request("PLN20", "01105691111", ref_id="r1").to_url("http://fake-irs"))
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": url.path,
        "QUERY_STRING": url.query,
        "CONTENT_LENGTH": str(len(body)) if length is None else length,
        "wsgi.input": BytesIO(body),
    }
    setup_testing_defaults(environ)
    seen: list[str] = []
    reply = b"".join(app(environ, lambda status, headers: seen.append(status))).decode()
    assert seen == [status]
    assert reply.startswith("R#r1 PLN20. 01105691111 ") == (status == "200 OK")
    assert environ["wsgi.input"].tell() == read


def test_an_account_on_its_own_has_the_documented_defaults_and_its_seed_picks_the_customers() -> None:
    from irs_grammar.testing import Account

    account = Account()
    assert (account.seed, account.balance, account.replies.maxlen) == (0, 100_000_000, 10_000)
    # a destination's name and power class come from the seed: the same for one, not for another
    names = {seed: {Account(seed=seed)._customer(f"0811{n:04}") for n in range(20)} for seed in (0, 1)}
    assert names[0] == {Account()._customer(f"0811{n:04}") for n in range(20)}
    assert names[0] != names[1]
