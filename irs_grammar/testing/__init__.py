"""A fake IRS endpoint for integrators' test suites: real HTTP, stateful buys, scripted faults.

`FakeIRS` is a WSGI application (standard library only) that answers
`POST {base}/v1/irs/inquiry?…` and `POST {base}/v1/irs/buy?…` as the partner
documents them. Every reply is built with the model and written by
`serialize`, so every reply it sends, faults aside, is one `parse_reply`
accepts; its reply log passes `irs-grammar validate` and `reconcile`.

    >>> from urllib.request import urlopen
    >>> from irs_grammar import parse_reply
    >>> with FakeIRS(seed=1).running() as fake:
    ...     url = fake.buy_request("PLN20", "01105691111", ref_id="r1").to_url(fake.url)
    ...     first = parse_reply(urlopen(url, data=b"").read().decode())
    ...     again = parse_reply(urlopen(url, data=b"").read().decode())
    >>> print(first.status, again.status, again.transaction_id == first.transaction_id)
    INPROGRESS SUCCESS True

The same application runs under any WSGI server; `running()` serves it on a
free loopback port in a thread, the `fake_irs` pytest fixture does that for a
test, and `irs-grammar serve` runs it by hand. docs/testing.md documents the
default catalogue, the credentials, the fake's own REASON texts and the faults.

In parts, as pytest-httpserver and moto keep them: `server` (the HTTP
server and its lifecycle), `account` (catalogue, balance, buys, clock and
reply log, usable without HTTP), `faults` (the scripted faults and which
requests they act on) and `front` (FakeIRS, the WSGI application joining them).
"""

from __future__ import annotations

from .account import DEFAULT_CATALOGUE, DEFAULT_CREDENTIALS, REASONS, Account, Product
from .faults import Fault, fault_from_spec
from .front import FakeIRS
from .received import Received
from .server import ConnectionDropped, is_loopback, make_server

__all__ = [
    "DEFAULT_CATALOGUE",
    "DEFAULT_CREDENTIALS",
    "REASONS",
    "Account",
    "ConnectionDropped",
    "FakeIRS",
    "Fault",
    "Product",
    "Received",
    "fault_from_spec",
    "is_loopback",
    "make_server",
]
