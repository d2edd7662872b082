"""What the fake endpoint received (`FakeIRS.requests`), its assertions, strict mode, the fixture setup."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from irs_grammar.testing import ConnectionDropped, FakeIRS, Fault
from tests.wsgi import call_url

SECRET, PIN = "fake-secret", "123456"  # the fake's default client_secret and pin


def post(url: str, method: str = "POST", body: bytes = b"") -> tuple[int, str]:
    data = body if method == "POST" else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:  # closed now: an open connection would keep the server's thread (and its exit) waiting
            return error.code, error.read().decode()


def test_every_request_is_recorded_with_its_secrets_masked() -> None:
    with FakeIRS().running() as fake:
        buy = fake.buy_request("PLN20", "01105691111", ref_id="r1")
        fake.add_fault(Fault.malformed(), call=2)
        post(buy.to_url(fake.url))
        post(buy.to_url(fake.url))  # the check, garbled on its way back
        post(fake.url + "/v1/irs/buy?client_id=x&pin=" + PIN)  # malformed: parameters missing
        post(buy.to_url(fake.url), method="GET")
        post(fake.url + "/v2/other?pin=" + PIN)
        received = fake.requests
    assert [(r.number, r.method, r.status) for r in received] == [
        (1, "POST", 200),
        (2, "POST", 200),
        (3, "POST", 200),
        (4, "GET", 405),
        (5, "POST", 404),
    ]
    first, check, malformed, get, unknown = received
    assert first.path == "/v1/irs/buy"
    assert first.ref_id == "r1"
    assert first.request == buy
    assert first.refused is None
    assert first.faults == ()
    assert first.reply is not None
    assert first.reply.startswith("R#r1 PLN20. 01105691111 INPROGRESS. ")
    assert [f.kind for f in check.faults] == ["malformed"]
    assert check.reply is not None
    assert "SUCCESS" in check.reply
    assert malformed.request is None
    assert malformed.refused == "malformed: client_secret: missing from the url"
    assert (get.refused, unknown.refused) == ("method GET, not POST", "not an IRS endpoint")
    for each in received:
        shown = f"{each!r} {each.line()} {each.query}"
        assert SECRET not in shown
        assert PIN not in shown
    assert "client_secret=***" in first.query
    assert "pin=***" in first.query


def test_assert_called_counts_and_shows_what_came_instead() -> None:
    with FakeIRS().running() as fake:
        buy = fake.buy_request("PLN20", "01105691111", ref_id="r1")
        post(buy.to_url(fake.url))
        post(buy.to_url(fake.url))
        assert len(fake.assert_called(ref_id="r1", times=2)) == 2
        assert fake.assert_called(product="PLN20", to="01105691111", path="/v1/irs/buy")
        with pytest.raises(AssertionError) as missing:
            fake.assert_called(ref_id="r2")
        message = str(missing.value)
        assert "expected a request with ref_id='r2' at least once, got 0" in message
        assert "#1 POST /v1/irs/buy?client_id=fake-client&client_secret=***" in message
        assert SECRET not in message
        with pytest.raises(AssertionError, match="ref_id='r1' 3 times, got 2"):
            fake.assert_called(ref_id="r1", times=3)


def test_assert_called_holds_every_selector_and_names_each_when_nothing_matches() -> None:
    app = FakeIRS()
    for request in (
        app.buy_request("PLN20", "01105691111", ref_id="r1"),
        app.inquiry_request("PLN50", "0811"),
    ):
        call_url(app, request.to_url("http://fake-irs"))
    # each selector alone picks its request out, and alone rules the other out
    assert [r.request.ref_id for r in app.assert_called(product="PLN20")] == ["r1"]  # type: ignore[union-attr]
    assert [r.path for r in app.assert_called(to="0811")] == ["/v1/irs/inquiry"]
    assert [r.path for r in app.assert_called(path="/v1/irs/inquiry")] == ["/v1/irs/inquiry"]
    for selectors, wanted in [
        ({"product": "PLN100"}, "product='PLN100'"),
        ({"to": "0812"}, "to='0812'"),
        ({"path": "/v1/irs/refund"}, "path='/v1/irs/refund'"),
        (
            {"ref_id": "r1", "product": "PLN50", "to": "0811", "path": "/v1/irs/buy"},
            "ref_id='r1', product='PLN50', to='0811', path='/v1/irs/buy'",
        ),
    ]:
        with pytest.raises(AssertionError) as missing:
            app.assert_called(**selectors)  # type: ignore[arg-type]
        assert str(missing.value).startswith(f"expected a request with {wanted} at least once, got 0; ")
    with pytest.raises(AssertionError, match=r"^expected a request with anything 3 times, got 2; "):
        app.assert_called(times=3)
    with pytest.raises(AssertionError, match=r"^expected a request with to='0811' 0 times, got 1; "):
        app.assert_called(to="0811", times=0)
    with pytest.raises(AssertionError, match=r"^expected a request with to='0812' 1 time, got 0; "):
        app.assert_called(to="0812", times=1)
    with pytest.raises(AssertionError, match=r"^expected a request with to='0811' 2 times, got 1; "):
        app.assert_called(to="0811", times=2)


def test_a_failure_message_lists_what_came_one_line_a_request() -> None:
    app = FakeIRS()
    with pytest.raises(AssertionError) as nothing:
        app.assert_called(ref_id="r1")
    assert str(nothing.value).endswith("; the fake received:\n  (no request at all)")
    app.add_fault(Fault.http_error(503), call=2)
    app.add_fault(Fault.delay(0.01), product="PLN50", times=1)
    app.add_fault(Fault.drop(), product="PLN50", times=1)
    buys = [
        app.buy_request(p, "01105691111", ref_id=r)
        for p, r in (("PLN20", "r1"), ("PLN20", "r2"), ("PLN50", "r3"))
    ]
    _, first = call_url(app, buys[0].to_url("http://fake-irs"))
    call_url(app, buys[1].to_url("http://fake-irs"))
    with pytest.raises(ConnectionDropped):
        call_url(app, buys[2].to_url("http://fake-irs"))
    call_url(app, "http://fake-irs/v1/irs/buy?x=" + "y" * 300)
    query = (
        "client_id=fake-client&client_secret=***&idrs=fake-idrs&pin=***"
        "&product_code={}&ref_id={}&to=01105691111&amount=0"
    )
    assert len(first) > 80  # the reply is cut at 80 characters, the query at 200
    scripted = "a scripted HTTP error from the fake IRS"
    assert [r.line() for r in app.requests] == [
        f"#1 POST /v1/irs/buy?{query.format('PLN20', 'r1')} -> 200 {first[:80]!r}",
        f"#2 POST /v1/irs/buy?{query.format('PLN20', 'r2')} -> 503 {scripted!r} [http_error]",
        f"#3 POST /v1/irs/buy?{query.format('PLN50', 'r3')} -> 0 '' [delay, drop]",  # dropped: no status
        "#4 POST /v1/irs/buy?x="
        + "y" * 198
        + " -> refused: malformed: url: query part 1 is not a parameter of BuyRequest",
    ]
    with pytest.raises(AssertionError) as missing:
        app.assert_called(ref_id="r9")
    listing = "\n".join(f"  {r.line()}" for r in app.requests)
    assert (
        str(missing.value)
        == f"expected a request with ref_id='r9' at least once, got 0; the fake received:\n{listing}"
    )
    # strict mode's check: one problem a line, under what it is
    unused = Fault.pending(1)
    app.add_fault(unused, product="OVO10")
    with pytest.raises(AssertionError) as strict:
        app.check()
    assert str(strict.value) == (
        "the fake IRS endpoint (strict mode; `strict=False` to allow):\n"
        f"  request {app.requests[3].line()}\n  fault {unused!r} never acted on a request"
    )


def test_a_long_listing_shows_the_last_twenty_and_counts_the_others() -> None:
    for sent, earlier in ((20, None), (23, "  ... 3 earlier ones")):
        app = FakeIRS()
        for n in range(sent):
            call_url(app, f"http://fake-irs/v1/irs/buy?n={n}")
        with pytest.raises(AssertionError) as missing:
            app.assert_called(ref_id="r1")
        listing = str(missing.value).split("; the fake received:\n")[1].split("\n")
        assert listing == [*([earlier] if earlier else []), *(f"  {r.line()}" for r in app.requests[-20:])]


def test_assert_rechecked_says_how_many_came_and_which_check_differs() -> None:
    app = FakeIRS()
    call_url(app, "http://fake-irs/v1/irs/buy?x=1")  # refused: no ref_id to compare
    buy = app.buy_request("PLN20", "01105691111", ref_id="r1")
    for count, said in ((0, "0 requests"), (1, "1 request")):
        with pytest.raises(AssertionError) as few:
            app.assert_rechecked("r1")
        assert str(few.value).startswith(
            f"expected the buy of ref_id 'r1' and at least one re-check, got {said}; "
        )
        assert str(few.value).endswith(
            "the fake received:\n" + "\n".join(f"  {r.line()}" for r in app.requests)
        )
        if count == 0:
            call_url(app, buy.to_url("http://fake-irs"))
    url = buy.to_url("http://fake-irs")
    reordered = url.replace("&amount=0", "").replace("?", "?amount=0&")
    call_url(app, reordered)
    call_url(app, reordered)
    with pytest.raises(AssertionError) as differs:
        app.assert_rechecked("r1")
    first, second, third = app.requests[1:]
    assert str(differs.value) == (
        "a re-check of ref_id 'r1' is not the first buy byte for byte:\n"
        f"  first: {first.line()}\n  then:  {second.line()}\n  then:  {third.line()}"
    )


def test_assert_rechecked_holds_every_check_to_the_first_buy_byte_for_byte() -> None:
    with FakeIRS().running() as fake:
        buy = fake.buy_request("PLN20", "01105691111", ref_id="r1")
        with pytest.raises(AssertionError, match="at least one re-check, got 0 requests"):
            fake.assert_rechecked("r1")
        post(buy.to_url(fake.url))
        post(buy.to_url(fake.url))
        assert len(fake.assert_rechecked("r1")) == 2
        # the same request with its parameters in another order: the same buy, not the same bytes
        url = buy.to_url(fake.url)
        base, query = url.split("?")
        post(base + "?" + "&".join(reversed(query.split("&"))))
        with pytest.raises(AssertionError, match="is not the first buy byte for byte") as differs:
            fake.assert_rechecked("r1")
        assert "then:  #3 POST" in str(differs.value)
        assert SECRET not in str(differs.value)


def test_check_lists_requests_it_could_not_read_and_faults_that_never_acted() -> None:
    with FakeIRS().running() as fake:
        fake.add_fault(Fault.pending(2), product="PLN20")
        fake.add_fault(Fault.drop(), call=99)
        post(fake.buy_request("PLN20", "01105691111").to_url(fake.url))
        assert [f.kind for f in fake.unused_faults()] == ["drop"]
        post(fake.url + "/v1/irs/inquiry?x=1")
        with pytest.raises(AssertionError) as strict:
            fake.check()
    message = str(strict.value)
    assert "request #2 POST /v1/irs/inquiry?x=1 -> refused: malformed:" in message
    assert "fault Fault(kind='drop'" in message
    assert "never acted on a request" in message
    assert "pending" not in message
    with FakeIRS().running() as quiet:
        post(quiet.buy_request("OVO10", "081000000001").to_url(quiet.url))
        quiet.check()  # a fake used as it should be: nothing to say


def test_a_fault_for_a_product_not_in_the_catalogue_is_refused_when_added() -> None:
    fake = FakeIRS()
    with pytest.raises(ValueError, match=r"product: 'PLN2O' is not in the catalogue \(PLN20, "):
        fake.add_fault(Fault.fail(), product="PLN2O")  # letter O for zero
    fake.add_fault(Fault.fail(), product="PLN20")
    assert len(fake.unused_faults()) == 1


SUITE = """
import urllib.request
import pytest
from irs_grammar.testing import Fault, Product

def post(url):
    with urllib.request.urlopen(url, data=b"", timeout=10) as answer:
        return answer.read().decode()

def test_a_malformed_request_fails_in_strict_mode(fake_irs):
    post(fake_irs.url + "/v1/irs/buy?client_id=x")

@pytest.mark.fake_irs(strict=False)
def test_strict_mode_off(fake_irs):
    post(fake_irs.url + "/v1/irs/buy?client_id=x")

def test_an_unused_fault_fails(fake_irs):
    fake_irs.add_fault(Fault.drop(), call=5)

@pytest.mark.fake_irs(balance=1000, catalogue=[Product("CHEAP1", 900)], credentials={"pin": "000000"}, seed=7)
def test_the_marker_sets_the_fake_up(fake_irs):
    assert (fake_irs.balance, list(fake_irs.catalogue), fake_irs.seed) == (1000, ["CHEAP1"], 7)
    reply = post(fake_irs.buy_request("CHEAP1", "0811").to_url(fake_irs.url))
    assert "INPROGRESS" in reply

def test_the_factory_makes_several(fake_irs_factory):
    rich, poor = fake_irs_factory(balance=10**9), fake_irs_factory(balance=0, strict=False)
    assert rich.url != poor.url and (rich.balance, poor.balance) == (10**9, 0)

@pytest.mark.fake_irs(colour="blue")
def test_an_unknown_option_is_named(fake_irs):
    pass
"""


def test_the_fixture_is_strict_by_default_and_set_up_by_its_marker(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(textwrap.dedent(SUITE), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    report = done.stdout
    assert "ERROR test_suite.py::test_a_malformed_request_fails_in_strict_mode" in report
    assert "refused: malformed: client_secret: missing from the url" in report
    assert "ERROR test_suite.py::test_an_unused_fault_fails" in report
    assert "never acted on a request" in report
    for passing in (
        "test_strict_mode_off",
        "test_the_marker_sets_the_fake_up",
        "test_the_factory_makes_several",
    ):
        assert f"PASSED test_suite.py::{passing}" in report
    assert "fake_irs: unknown option 'colour'" in report
    # a strict failure is an error at teardown (the test body itself passed)
    assert "5 passed, 3 errors" in report


# -- faults scripted from outside Python --------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fault", "selectors"),
    [
        ("pending:checks=2,product=PLN20", Fault.pending(2), {"product": "PLN20"}),
        ("drop:call=3", Fault.drop(), {"call": 3}),
        (
            "fail:reason=Nomor tujuan salah,to=0811,times=1",
            Fault.fail("Nomor tujuan salah"),
            {"to": "0811", "times": 1},
        ),
        ("unknown_status:word=GAGAL,checks=2", Fault.unknown_status("GAGAL", checks=2), {}),
        ("http_error:status=503", Fault.http_error(503), {}),
        ("delay:seconds=0.5", Fault.delay(0.5), {}),
        ("bad_balance:offset=-7", Fault.bad_balance(-7), {}),
        ("malformed", Fault.malformed(), {}),
        (
            "fail:reason=limit=5",
            Fault.fail("limit=5"),
            {},
        ),  # a value may hold `=`: the first one ends the name
    ],
)
def test_a_fault_written_as_text_is_the_fault_add_fault_takes(
    spec: str, fault: Fault, selectors: dict[str, object]
) -> None:
    from irs_grammar.testing.faults import fault_from_spec

    assert fault_from_spec(spec) == (fault, selectors)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "fault 'nope': none of fail, pending, "),
        ("pending", "fault pending: missing a required argument: 'checks'"),
        ("pending:checks=x", "fault pending: checks must be int, not 'x'"),
        ("pending:checks=0", "fault pending: checks: must be 1 to 1000"),
        ("drop:checks=2", "fault drop: got an unexpected keyword argument 'checks'"),
        ("drop:colour=red", "fault drop: 'colour=red' is not NAME=VALUE with NAME one of reason, "),
        ("drop:call", "fault drop: 'call' is not NAME=VALUE"),
        # what the message repeats of a long part is its first 40 characters
        ("n" * 50, f"fault {'n' * 40!r}: none of"),
        ("drop:" + "c" * 50, f"fault drop: {'c' * 40!r} is not NAME=VALUE"),
        ("pending:checks=" + "9x" * 25, f"fault pending: checks must be int, not {'9x' * 20!r}"),
    ],
)
def test_a_fault_spec_that_is_wrong_is_named(spec: str, message: str) -> None:
    from irs_grammar.testing.faults import fault_from_spec

    with pytest.raises(ValueError, match=r"^fault ") as refused:
        fault_from_spec(spec)
    assert str(refused.value).startswith(message)


def test_the_docs_fault_specs_are_the_vocabulary() -> None:
    from irs_grammar.testing.faults import fault_from_spec

    page = (Path(__file__).parent.parent / "docs" / "testing.md").read_text(encoding="utf-8")
    specs = re.findall(r"--fault '([^']+)'", page)
    assert len(specs) >= 3
    for spec in specs:
        fault_from_spec(spec)


def test_serve_takes_faults_from_its_command_line_and_its_control_endpoint(tmp_path: Path) -> None:
    requests_log = tmp_path / "requests.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRS_")}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "irs_grammar", "serve", "--port", "0"),
            *("--fault", "pending:checks=1,product=PLN20", "--requests-log", str(requests_log)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        client = FakeIRS()  # the same default credentials
        buy = client.buy_request("PLN20", "01105691111", ref_id="p1").to_url(url)
        statuses = [post(buy)[1].split(". ")[1].split()[-1] for _ in range(3)]
        assert statuses == ["INPROGRESS", "INPROGRESS", "SUCCESS"]  # one more check, as scripted
        assert post(url + "/_fake/faults?fault=http_error:status=503,times=1") == (200, '{"added": 1}')
        assert post(buy)[0] == 503
        assert post(url + "/_fake/faults?fault=pending") == (
            400,
            '{"error": "fault pending: missing a required argument: \'checks\'"}',
        )
        body = json.dumps({"faults": ["drop:times=1", "delay:seconds=0.1,times=1"]}).encode()
        assert post(url + "/_fake/faults", body=body) == (200, '{"added": 2}')
        assert post(url + "/_fake/faults", method="DELETE") == (200, '{"cleared": true}')
    finally:
        process.terminate()
        process.communicate(timeout=20)
    logged = [json.loads(line) for line in requests_log.read_text(encoding="utf-8").splitlines()]
    assert [(r["ref_id"], r["status"]) for r in logged] == [("p1", 200)] * 3 + [("p1", 503)]
    assert logged[3]["faults"] == ["http_error"]
    assert SECRET not in requests_log.read_text(encoding="utf-8")


def test_serve_refuses_a_wrong_fault_at_start() -> None:
    from irs_grammar.cli import main

    assert main(["serve", "--port", "0", "--fault", "pending:checks=x"]) == 2
    assert main(["serve", "--port", "0", "--fault", "fail:product=PLN2O"]) == 2


TYPED_SUITE = """
from irs_grammar.testing import FakeIRS, Fault, Received


def test_a_pending_buy(fake_irs: FakeIRS) -> None:
    url: str = fake_irs.url  # a str on a running fake: no Optional to narrow
    fake_irs.add_fault(Fault.pending(1), product="PLN20")
    seen: list[Received] = fake_irs.assert_called(ref_id="r1", times=0)
    assert url.startswith("http://") and seen == []
"""


@pytest.mark.main_python_only
def test_an_example_suite_type_checks_under_mypy_strict(tmp_path: Path) -> None:
    suite = tmp_path / "test_typed.py"
    suite.write_text(TYPED_SUITE, encoding="utf-8")
    mypy = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(suite)]
    done = subprocess.run(mypy, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout
    # and the types say what they should: url is no Optional, times an int
    suite.write_text(
        TYPED_SUITE.replace("url: str =", "url: None =").replace("times=0", 'times="0"'), encoding="utf-8"
    )
    done = subprocess.run(mypy, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert (
        'Incompatible types in assignment (expression has type "str", variable has type "None")'
        in done.stdout
    )
    assert 'has incompatible type "str"; expected "int"' in done.stdout


def test_masked_hides_a_secret_that_holds_an_equals_sign() -> None:
    from irs_grammar.testing.received import masked

    query = "client_id=c&client_secret=s=cr=t&idrs=i&pin=1=2&to=0811"
    assert masked(query) == "client_id=c&client_secret=***&idrs=i&pin=***&to=0811"
