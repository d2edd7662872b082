"""Request URLs of the IRS endpoints: build, check, read back; never show a secret.

The partner document specifies an HTTP POST whose parameters all travel in the
query string, in a fixed order:

    {base}/v1/irs/inquiry?client_id=…&client_secret=…&idrs=…&pin=…&product_code=…
        &ref_id=…&to=…&amount=…&selling_price=…

This is a builder, not an HTTP client: `to_url()` or `params()` go to the
client of your choice with `METHOD`.

>>> import irs_grammar as irs
>>> irs.METHOD
'POST'
"""

from __future__ import annotations

import dataclasses
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import ClassVar, Self
from urllib.parse import quote, unquote_plus, urlsplit

METHOD = "POST"
MAX_AMOUNT = 10**18 - 1  # amounts are whole rupiah of at most 18 digits, as in the replies
SECRETS = frozenset({"client_secret", "pin"})
MASK = "***"
# Parameters that may not be empty (idrs may: a reseller without an IRS partner id).
_REQUIRED = frozenset({"client_id", "client_secret", "pin", "product_code", "to", "ref_id"})
_AMOUNTS = frozenset({"amount", "selling_price"})
# In the documented order; the inquiry adds selling_price at the end.
_COMMON_PARAMETERS = ("client_id", "client_secret", "idrs", "pin", "product_code", "ref_id", "to", "amount")


def _unquote(raw: str) -> str | None:
    """A percent-decoded value, or None when it does not decode (no exception escapes with its text)."""
    try:
        return unquote_plus(raw, errors="strict")
    except UnicodeDecodeError:
        return None


def _new_ref_id() -> str:
    return str(uuid.uuid4())


def _check_base(base_url: str) -> str:
    """`http(s)://host[/path]` without a trailing `/`, or ValueError."""
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, not {type(base_url).__name__}")
    if any(_is_control(c) or c.isspace() for c in base_url):
        raise ValueError("base_url: holds a space or a control character")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("base_url: must be http(s)://host[/path]")
    if parts.query or parts.fragment or "?" in base_url or "#" in base_url:
        raise ValueError("base_url: must not hold a query or a fragment")
    if parts.username is not None or parts.password is not None:
        raise ValueError("base_url: must not hold credentials (user:password@)")
    return base_url.rstrip("/")


def _is_control(char: str) -> bool:
    """A control character, a line or paragraph separator, or a lone surrogate (no UTF-8 for it)."""
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")


@dataclass(frozen=True, slots=True, repr=False)
class Request:
    """What every IRS request shares: credentials, product, destination, reference.

    Subclasses name their PATH and their PARAMETERS in wire order.
    """

    PATH: ClassVar[str]
    PARAMETERS: ClassVar[tuple[str, ...]]

    client_id: str
    client_secret: str
    idrs: str
    pin: str
    product_code: str
    to: str
    amount: int

    def __post_init__(self) -> None:
        for name in self.PARAMETERS:
            value = getattr(self, name)
            if name in _AMOUNTS:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise TypeError(f"{name}: must be an int, not {type(value).__name__}")
                if not 0 <= value <= MAX_AMOUNT:
                    raise ValueError(f"{name}: must be 0 to {MAX_AMOUNT:,} (at most 18 digits)")
                continue
            if not isinstance(value, str):
                raise TypeError(f"{name}: must be a str, not {type(value).__name__}")
            if name in _REQUIRED and not value:
                raise ValueError(f"{name}: must not be empty")
            if any(_is_control(c) for c in value):
                # Named by the field only: the value may be a secret.
                raise ValueError(f"{name}: holds a line break, a control character or a lone surrogate")

    # -- writing -----------------------------------------------------------------

    def params(self) -> list[tuple[str, str]]:
        """The query parameters in wire order, for an HTTP client's `params=`."""
        return [(name, str(getattr(self, name))) for name in self.PARAMETERS]

    def to_url(self, base_url: str) -> str:
        """The full URL; every value percent-encoded, so none can add a parameter."""
        query = "&".join(f"{name}={quote(value, safe='')}" for name, value in self.params())
        return f"{_check_base(base_url)}{self.PATH}?{query}"

    def redacted(self, base_url: str) -> str:
        """The URL with client_secret and pin masked: the form for logs."""
        query = "&".join(
            f"{name}={MASK if name in SECRETS else quote(value, safe='')}" for name, value in self.params()
        )
        return f"{_check_base(base_url)}{self.PATH}?{query}"

    # -- reading -----------------------------------------------------------------

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Read a URL that to_url() wrote (in any parameter order) back into a request.

        Refuses another path, and a missing, repeated or unknown parameter,
        with a ValueError that names it (and never shows a secret's value).
        """
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, not {type(url).__name__}")
        if "#" in url:
            raise ValueError("url: must not hold a fragment ('#')")
        base, _, query = url.partition("?")
        if not base.endswith(cls.PATH):
            raise ValueError(f"url: the path must end with {cls.PATH}")
        _check_base(base.removesuffix(cls.PATH))
        values: dict[str, str] = {}
        for position, part in enumerate(query.split("&") if query else [], 1):
            name, sep, raw = part.partition("=")
            # Named by position or by a documented name, never by text from the URL:
            # an unencoded "&" in a secret would make a piece of it a "name".
            if not sep:
                raise ValueError(f"url: query part {position} has no '='")
            if name not in cls.PARAMETERS:
                raise ValueError(f"url: query part {position} is not a parameter of {cls.__name__}")
            if name in values:
                raise ValueError(f"{name}: repeated in the url")
            value = _unquote(raw)
            if value is None:  # raised here, outside any handler: no exception holding the text is chained
                raise ValueError(f"{name}: its percent-encoding is not UTF-8")
            values[name] = value
        missing = [name for name in cls.PARAMETERS if name not in values]
        if missing:
            raise ValueError(f"{missing[0]}: missing from the url")
        arguments: dict[str, str | int] = {}
        for name, value in values.items():
            if name in _AMOUNTS:
                if not (value.isascii() and value.isdigit()):
                    raise ValueError(f"{name}: must be a whole number of ASCII digits")
                arguments[name] = int(value)
            else:
                arguments[name] = value
        return cls(**arguments)  # type: ignore[arg-type]

    # -- never a secret in a repr ------------------------------------------------------

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={MASK if f.name in SECRETS else repr(getattr(self, f.name))}"
            for f in dataclasses.fields(self)
        )
        return f"{type(self).__name__}({shown})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True, repr=False)
class InquiryRequest(Request):
    """An inquiry: what would this product cost for this destination, and whose is it.

    >>> r = InquiryRequest(client_id="c17229eb", client_secret="s3cret", idrs="<IDRS>", pin="123456",
    ...                    product_code="OVO10", to="081000000001", amount=100000, selling_price=2000,
    ...                    ref_id="b3e0f17a-453f-493c-862f-4cc6f651da52")
    >>> url = r.to_url("https://example.com/klikoo-b2b")
    >>> url.split("?")[0]
    'https://example.com/klikoo-b2b/v1/irs/inquiry'
    >>> url.split("?")[1].split("&")[2]
    'idrs=%3CIDRS%3E'
    >>> InquiryRequest.from_url(url) == r
    True
    >>> r  # doctest: +ELLIPSIS
    InquiryRequest(client_id='c17229eb', client_secret=***, idrs='<IDRS>', pin=***, ...)
    """

    PATH: ClassVar[str] = "/v1/irs/inquiry"
    PARAMETERS: ClassVar[tuple[str, ...]] = (*_COMMON_PARAMETERS, "selling_price")

    selling_price: int
    ref_id: str = field(default_factory=_new_ref_id)


@dataclass(frozen=True, slots=True, repr=False)
class BuyRequest(Request):
    """A purchase, or the check of a pending one: send it again with the same ref_id.

    The inquiry's parameters without selling_price, to `{base}/v1/irs/buy`.

    >>> r = BuyRequest(client_id="c17229eb", client_secret="s3cret", idrs="IDRS", pin="123456",
    ...                product_code="PLN20", to="0817345544", amount=20500, ref_id="359912451")
    >>> [name for name, _ in r.params()][-3:], r.redacted("https://example.com").split("?")[0]
    (['ref_id', 'to', 'amount'], 'https://example.com/v1/irs/buy')
    """

    PATH: ClassVar[str] = "/v1/irs/buy"
    PARAMETERS: ClassVar[tuple[str, ...]] = _COMMON_PARAMETERS

    ref_id: str = field(default_factory=_new_ref_id)
