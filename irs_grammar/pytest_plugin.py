"""The `fake_irs` pytest fixture, registered through the `pytest11` entry point.

    def test_buy(fake_irs):
        url = fake_irs.buy_request("PLN20", "01105691111").to_url(fake_irs.url)
        ...

Each test gets a fresh `irs_grammar.testing.FakeIRS` served on a free
loopback port; `--fake-irs-seed N` replays another seed (the default is 0,
so a failing test replays as it ran). A marker sets it up:

    @pytest.mark.fake_irs(balance=5_000, catalogue=[Product("PLN20", 20546, pln=True)],
                          credentials={"pin": "000000"}, seed=3, strict=False)

Strict mode (the default) fails the test at teardown for every request the
fake could not read as an IRS request (a malformed query, an unknown path, a
GET) and every fault that never acted, with the list. `fake_irs_factory(**same)`
makes more fakes in one test, each served and checked the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .testing import FakeIRS


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("irs-grammar").addoption(
        "--fake-irs-seed",
        type=int,
        default=0,
        metavar="N",
        help="the seed of the fake_irs fixture's endpoint (default 0)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fake_irs(balance=, catalogue=, credentials=, seed=, strict=): how the fake_irs fixture's "
        "endpoint is set up",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"fake_irs seed: {config.getoption('fake_irs_seed')}"


_OPTIONS = frozenset({"balance", "catalogue", "credentials", "seed", "strict", "clock", "log", "history"})


def _fake(options: dict[str, Any], default_seed: int) -> tuple[FakeIRS, bool]:
    """A FakeIRS from the marker's (or the factory's) options, and whether it is strict."""
    from .testing import FakeIRS  # imported when a test asks for it, not when pytest starts

    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise TypeError(f"fake_irs: unknown option {unknown[0]!r} (known: {', '.join(sorted(_OPTIONS))})")
    options = dict(options)
    strict = bool(options.pop("strict", True))
    credentials = options.pop("credentials", None) or {}
    options.setdefault("seed", default_seed)
    return FakeIRS(**options, **credentials), strict


@pytest.fixture
def fake_irs_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., FakeIRS]]:
    """`make(**options)`: a running FakeIRS (balance, catalogue, credentials, seed, strict, ...),
    stopped and, when strict, checked at teardown."""
    seed = request.config.getoption("fake_irs_seed")
    made: list[tuple[FakeIRS, bool]] = []
    with ExitStack() as stack:

        def make(**options: Any) -> FakeIRS:
            fake, strict = _fake(options, seed)
            stack.enter_context(fake.running())
            made.append((fake, strict))
            return fake

        yield make
        for fake, strict in made:
            if strict:
                fake.check()


@pytest.fixture
def fake_irs(fake_irs_factory: Callable[..., FakeIRS], request: pytest.FixtureRequest) -> FakeIRS:
    """A fake IRS endpoint on a free loopback port: `.url` is its base URL, the rest its controls;
    `@pytest.mark.fake_irs(...)` sets it up, strict by default (see the module's doc)."""
    marker = request.node.get_closest_marker("fake_irs")
    options: dict[str, Any] = {} if marker is None else dict(marker.kwargs)
    return fake_irs_factory(**options)
