"""InquiryRequest: the documented URL, checks, reading back, and secrets kept secret."""

from __future__ import annotations

import logging
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar import InquiryRequest, strategies
from tests.command import run
from tests.reach import reached

SECRET, PIN = "gvxzqypljtoukfanckakaa9z0md4x5aj", "123456"
BASE = "https://b2b.example/klikoo-b2b"


def ovo(**changes: Any) -> InquiryRequest:
    """The seed document's "Sample Request OVO", with a fixed ref_id."""
    values: dict[str, Any] = {
        "client_id": "c17229eb-3d2b-4576-8f5d-c2e716da764b",
        "client_secret": SECRET,
        "idrs": "<IDRS>",
        "pin": PIN,
        "product_code": "OVO10",
        "ref_id": "b3e0f17a-453f-493c-862f-4cc6f651da52",
        "to": "081000000001",
        "amount": 100000,
        "selling_price": 2000,
    }
    values.update(changes)
    return InquiryRequest(**values)


# The seed's OVO sample, {{B2B}} and {{$guid}} filled in.
OVO_URL = (
    "https://b2b.example/klikoo-b2b/v1/irs/inquiry?client_id=c17229eb-3d2b-4576-8f5d-c2e716da764b"
    "&client_secret=gvxzqypljtoukfanckakaa9z0md4x5aj&idrs=%3CIDRS%3E&pin=123456&product_code=OVO10"
    "&ref_id=b3e0f17a-453f-493c-862f-4cc6f651da52&to=081000000001&amount=100000&selling_price=2000"
)


def test_the_documented_ovo_sample_url() -> None:
    assert ovo().to_url(BASE) == OVO_URL
    assert ovo().to_url(BASE + "/") == OVO_URL


def test_params_in_documented_order_and_the_method() -> None:
    assert [name for name, _ in ovo().params()] == [
        "client_id",
        "client_secret",
        "idrs",
        "pin",
        "product_code",
        "ref_id",
        "to",
        "amount",
        "selling_price",
    ]
    assert ovo().params()[-2:] == [("amount", "100000"), ("selling_price", "2000")]
    assert irs.METHOD == "POST"


def test_ref_id_defaults_to_a_fresh_uuid4() -> None:
    first, second = (
        InquiryRequest("id", SECRET, "", PIN, "PLN20", "0817345544", 20500, 21000) for _ in range(2)
    )
    assert first.ref_id != second.ref_id
    assert uuid.UUID(first.ref_id).version == 4


def test_reads_its_own_url_back() -> None:
    assert InquiryRequest.from_url(OVO_URL) == ovo()


@pytest.mark.parametrize(
    ("url", "named"),
    [
        (OVO_URL.replace("&pin=123456", ""), "pin: missing"),
        (OVO_URL + "&to=1", "to: repeated"),
        (OVO_URL + "&callback=x", "query part 10 is not a parameter of InquiryRequest"),
        (OVO_URL.replace("/v1/irs/inquiry", "/v1/irs/buy"), "path must end with /v1/irs/inquiry"),
        (OVO_URL.replace("amount=100000", "amount=1e5"), "amount: must be a whole number"),
        (OVO_URL + "#frag", "fragment"),
        (OVO_URL.replace("ftp", "https").replace("https", "ftp", 1), "base_url"),
        (OVO_URL.replace("to=081000000001", "to=%FF"), "to: its percent-encoding is not UTF-8"),
    ],
)
def test_from_url_refuses_naming_the_parameter(url: str, named: str) -> None:
    with pytest.raises(ValueError, match=named) as caught:
        InquiryRequest.from_url(url)
    assert SECRET not in str(caught.value)
    assert PIN not in str(caught.value)


@pytest.mark.parametrize(
    "base",
    [
        "b2b.example",
        "ftp://b2b.example",
        "https://",
        "https://b2b.example/x?y=1",
        "https://b2b.example/#top",
        "https://user:pass@b2b.example",
        "https://b2b example",
        "https://b2b.example/\n",
    ],
)
def test_a_base_that_is_not_http_host_path_is_refused(base: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        ovo().to_url(base)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("client_id", "", "client_id: must not be empty"),
        ("client_secret", "", "client_secret: must not be empty"),
        ("pin", "", "pin: must not be empty"),
        ("product_code", "", "product_code: must not be empty"),
        ("to", "", "to: must not be empty"),
        ("ref_id", "", "ref_id: must not be empty"),
        ("to", "0817\n345544", "to: holds a line break"),
        ("idrs", "a\x00b", "idrs: holds a line break, a control character or a lone surrogate"),
        ("client_secret", SECRET + "\r\n", "client_secret: holds a line break"),
        ("pin", PIN + "\u2028", "pin: holds a line break"),
        (
            "client_secret",
            SECRET + "\udcff",
            "client_secret: holds a line break, a control character or a lone surrogate",
        ),
        ("amount", -1, "amount: must be 0 to 999,999,999,999,999,999"),
        ("amount", 10**19, "amount: must be 0 to 999,999,999,999,999,999"),
        ("selling_price", -5, "selling_price: must be 0 to 999,999,999,999,999,999"),
    ],
)
def test_checks_name_the_field_and_never_show_a_secret(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        ovo(**{field: value})
    assert SECRET not in str(caught.value)
    assert PIN not in str(caught.value)


@pytest.mark.parametrize(("field", "value"), [("amount", 1.5), ("amount", "100"), ("selling_price", True)])
def test_amounts_must_be_ints(field: str, value: object) -> None:
    with pytest.raises(TypeError, match=field):
        ovo(**{field: value})


def test_idrs_may_be_empty() -> None:
    assert ovo(idrs="").params()[2] == ("idrs", "")


def test_a_hostile_destination_cannot_add_or_change_a_parameter() -> None:
    # The seed's own field table shows "0817345544&selling_price=21000" as an example of `to`.
    request = ovo(to="0817345544&selling_price=1")
    query = parse_qsl(urlsplit(request.to_url(BASE)).query, keep_blank_values=True)
    assert dict(query)["selling_price"] == "2000"
    assert dict(query)["to"] == "0817345544&selling_price=1"
    assert len(query) == 9


def test_repr_str_and_logs_never_show_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    request = ovo()
    for shown in (repr(request), str(request), f"{request}", f"{request!r}"):
        assert SECRET not in shown
        assert PIN not in shown
        assert "client_secret=***" in shown
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("reseller").info("sending %s / %r / %s", request, request, [request])
    assert caplog.text
    assert SECRET not in caplog.text
    assert PIN not in caplog.text


def test_redacted_url_masks_both_secrets() -> None:
    redacted = ovo().redacted(BASE)
    assert redacted == OVO_URL.replace(SECRET, "***").replace("pin=123456", "pin=***")


# -- properties --------------------------------------------------------------------


@given(strategies.inquiry_requests())
def test_from_url_of_to_url_gives_back_the_request(request: InquiryRequest) -> None:
    reached()
    assert InquiryRequest.from_url(request.to_url(BASE)) == request


@given(strategies.inquiry_requests())
def test_no_value_changes_the_set_of_parameters(request: InquiryRequest) -> None:
    query = parse_qsl(urlsplit(request.to_url(BASE)).query, keep_blank_values=True, strict_parsing=True)
    reached()
    assert query == request.params()


@given(strategies.inquiry_requests())
def test_repr_masks_the_secrets_whatever_they_hold(request: InquiryRequest) -> None:
    shown = repr(request)
    reached()
    assert "client_secret=***, " in shown
    assert "pin=***, " in shown
    assert repr(request.client_secret) not in shown.replace(repr(request.client_id), "").replace(
        repr(request.idrs), ""
    ).replace(repr(request.product_code), "").replace(repr(request.to), "").replace(repr(request.ref_id), "")


# -- the command line ----------------------------------------------------------------

CREDENTIALS = {
    "IRS_CLIENT_ID": "c17229eb-3d2b-4576-8f5d-c2e716da764b",
    "IRS_CLIENT_SECRET": SECRET,
    "IRS_IDRS": "<IDRS>",
    "IRS_PIN": PIN,
}
URL_ARGS = [
    "url",
    "--base",
    BASE,
    "--product",
    "OVO10",
    "--to",
    "081000000001",
    "--amount",
    "100000",
    "--selling-price",
    "2000",
    "--ref-id",
    "b3e0f17a-453f-493c-862f-4cc6f651da52",
]


def run_url(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IRS_")}
    return run(*args, env={**clean, **env})


def test_cli_prints_the_url_with_credentials_from_the_environment() -> None:
    result = run_url(URL_ARGS, CREDENTIALS)
    assert (result.returncode, result.stdout, result.stderr) == (0, OVO_URL + "\n", "")
    redacted = run_url([*URL_ARGS, "--redacted"], CREDENTIALS)
    assert redacted.stdout == ovo().redacted(BASE) + "\n"


@pytest.mark.parametrize("missing", sorted(CREDENTIALS))
def test_cli_names_a_missing_variable_in_one_line_and_exits_2(missing: str) -> None:
    result = run_url(URL_ARGS, {k: v for k, v in CREDENTIALS.items() if k != missing})
    assert result.returncode == 2
    assert result.stderr.startswith(f"irs-grammar: {missing} is not set (the ")
    assert result.stderr.count("\n") == 1


def test_cli_bad_values_are_one_line_without_secrets() -> None:
    env = {**CREDENTIALS, "IRS_PIN": PIN + "\n"}
    result = run_url(URL_ARGS, env)
    assert (result.returncode, result.stderr) == (
        2,
        "irs-grammar: pin: holds a line break, a control character or a lone surrogate\n",
    )
    bad_base = run_url(["url", *URL_ARGS[1:2], "ftp://x", *URL_ARGS[3:]], CREDENTIALS)
    assert bad_base.returncode == 2
    assert SECRET not in bad_base.stderr
    assert "Traceback" not in bad_base.stderr


# -- secrets under every fault: no exception from irs_grammar.wire.request carries one --------------------

# Secrets drawn from letters no message uses together, with what URLs find hard.
secret_text = st.tuples(
    st.lists(
        st.sampled_from([*"QZXJqzxj", "&", "=", "%", "+", "#", "?", "%ZZ", "é"]), min_size=6, max_size=24
    ),
    st.sampled_from(["", "", "", "", "\udcff", "\x00", "\n"]),  # sometimes a character to refuse
    st.integers(0, 24),
).map(lambda t: "".join(t[0][: t[2]]) + t[1] + "".join(t[0][t[2] :]))


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack += [e for e in (current.__context__, current.__cause__) if e is not None]


def assert_nothing_of(secret: str, error: BaseException) -> None:
    """No 4 characters of the secret in the message, args or repr of anything in the exception's chain."""
    windows = {secret[i : i + 4] for i in range(len(secret) - 3)} | {secret}
    for link in _chain(error):
        texts = [str(link), repr(link), *(repr(arg) for arg in link.args), *(str(arg) for arg in link.args)]
        for text in texts:
            assert not any(window in text for window in windows), (secret, text)


def _mutate(url: str, position: int, piece: str, delete: bool) -> str:
    position %= len(url) + 1
    return url[:position] + piece + url[position + (1 if delete else 0) :]


@given(
    secret_text,
    secret_text,
    st.integers(0, 400),
    st.sampled_from(["&", "=", "%", "%FF", "%ZZ", "#", "&x=", ""]),
    st.booleans(),
    st.booleans(),
)
@example("Sup3r&QZXJqzxj=1Secret", "123456", 0, "", False, True)  # an unencoded "&" must not name a parameter
@example("Sup3r%ZZSecret", "123456", 0, "", False, True)
def test_no_exception_carries_a_secret(
    secret: str, pin: str, position: int, piece: str, delete: bool, unencoded: bool
) -> None:
    try:
        request = ovo(client_secret=secret, pin=pin)
    except ValueError as error:
        event("refused at construction")
        reached()
        assert_nothing_of(secret, error)
        assert_nothing_of(pin, error)
        return
    event("built")
    repr(request)  # never raises on a constructed request
    request.redacted("https://b2b.example")
    url = request.to_url("https://b2b.example/klikoo-b2b")
    if unencoded:  # as a hand-made URL would have it
        url = url.replace(quote(secret, safe=""), secret).replace(quote(pin, safe=""), pin)
    reached()
    try:
        InquiryRequest.from_url(_mutate(url, position, piece, delete))
    except ValueError as error:
        assert_nothing_of(secret, error)
        assert_nothing_of(pin, error)


@given(
    st.integers(0, 10**6)  # mostly amounts a request takes, the largest too
    | st.integers(10**6, 10**17)
    | st.integers(10**17, 10**18 - 1)
    | st.just(10**18 - 1)
    | st.integers(-(10**30), 10**30)
    | st.just(10**5000)
)
def test_repr_and_redacted_never_raise_on_a_constructed_request(amount: int) -> None:
    try:
        request = ovo(amount=amount)
    except ValueError as error:
        assert str(error).startswith("amount: must be 0 to")
        return
    reached()
    assert "***" in repr(request)
    assert request.redacted("https://b2b.example").count("***") == 2


def test_repr_and_redacted_url_exactly() -> None:
    from irs_grammar.wire.request import BuyRequest

    request = BuyRequest("c/1", "s3cret", "ID RS", "123456", "PLN20", "08/17&x=1", 20500, ref_id="r 1")
    assert (
        repr(request)
        == str(request)
        == (
            "BuyRequest(client_id='c/1', client_secret=***, idrs='ID RS', pin=***, product_code='PLN20', "
            "to='08/17&x=1', amount=20500, ref_id='r 1')"
        )
    )
    # every value percent-encoded, "/" included; the secrets masked as they are
    assert request.redacted("https://b2b.example/") == (
        "https://b2b.example/v1/irs/buy?client_id=c%2F1&client_secret=***&idrs=ID%20RS&pin=***"
        "&product_code=PLN20&ref_id=r%201&to=08%2F17%26x%3D1&amount=20500"
    )


# -- every refusal of a base URL and of a URL read back, with its message --------------------------

INQUIRY_PATH = "https://b2b.example/v1/irs/inquiry"


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("https://b2b.example/a b", "base_url: holds a space or a control character"),
        ("https://b2b.example/\x7f", "base_url: holds a space or a control character"),
        ("ftp://b2b.example", "base_url: must be http(s)://host[/path]"),
        ("https://", "base_url: must be http(s)://host[/path]"),
        ("https://b2b.example?x=1", "base_url: must not hold a query or a fragment"),
        ("https://b2b.example#top", "base_url: must not hold a query or a fragment"),
        ("https://b2b.example/?", "base_url: must not hold a query or a fragment"),  # an empty query
        ("https://b2b.example/#", "base_url: must not hold a query or a fragment"),
        ("https://user@b2b.example", "base_url: must not hold credentials (user:password@)"),
        ("https://:pw@b2b.example", "base_url: must not hold credentials (user:password@)"),
    ],
)
def test_each_bad_base_url_is_named(base: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^base_url: ") as refused:
        ovo().to_url(base)
    assert str(refused.value) == message


def test_a_base_url_loses_its_trailing_slashes_and_must_be_a_str() -> None:
    assert ovo().to_url("https://b2b.example///").startswith("https://b2b.example/v1/irs/inquiry?")
    assert ovo().to_url("https://b2b.example/X/").startswith("https://b2b.example/X/v1/irs/inquiry?")
    with pytest.raises(TypeError) as refused:
        ovo().to_url(b"https://b2b.example")  # type: ignore[arg-type]
    assert str(refused.value) == "base_url must be a str, not bytes"


def test_every_value_is_percent_encoded_the_slash_too() -> None:
    assert "&to=08%2F17&" in ovo(to="08/17").to_url(BASE)


def test_from_url_reads_a_raw_question_mark_or_equals_sign_inside_a_value() -> None:
    url = ovo().to_url(BASE).replace("to=081000000001", "to=0810?00=0001")
    assert InquiryRequest.from_url(url).to == "0810?00=0001"


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        (b"https://b2b.example/v1/irs/inquiry?x=1", TypeError, "url must be a str, not bytes"),
        (INQUIRY_PATH + "?client_id=1#f", ValueError, "url: must not hold a fragment ('#')"),
        (INQUIRY_PATH, ValueError, "client_id: missing from the url"),
        (INQUIRY_PATH + "?", ValueError, "client_id: missing from the url"),
        (INQUIRY_PATH + "?client_id", ValueError, "url: query part 1 has no '='"),
        (INQUIRY_PATH + "?client_id=1&&", ValueError, "url: query part 2 has no '='"),
    ],
)
def test_each_url_from_url_refuses_is_named(url: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as refused:
        InquiryRequest.from_url(url)
    assert str(refused.value) == message


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x00", "\ud800"])
def test_line_and_paragraph_separators_are_refused_in_any_value(separator: str) -> None:
    with pytest.raises(ValueError, match=r"^idrs: ") as refused:
        ovo(idrs=f"ID{separator}RS")
    assert str(refused.value) == "idrs: holds a line break, a control character or a lone surrogate"


def test_a_value_of_the_wrong_type_is_named_with_its_type() -> None:
    for changes, message in (
        ({"amount": "1"}, "amount: must be an int, not str"),
        ({"client_id": 1}, "client_id: must be a str, not int"),
    ):
        with pytest.raises(TypeError) as refused:
            ovo(**changes)
        assert str(refused.value) == message
