"""The `fake_irs` pytest fixture, registered through the `pytest11` entry point.

    def test_buy(fake_irs):
        url = fake_irs.buy_request("PLN20", "01105691111").to_url(fake_irs.url)
        ...

Each test gets a fresh `irs_grammar.testing.FakeIRS` served on a free
loopback port; `--fake-irs-seed N` replays another seed (the default is 0,
so a failing test replays as it ran).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

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


def pytest_report_header(config: pytest.Config) -> str:
    return f"fake_irs seed: {config.getoption('fake_irs_seed')}"


@pytest.fixture
def fake_irs(request: pytest.FixtureRequest) -> Iterator[FakeIRS]:
    """A fake IRS endpoint on a free loopback port: `.url` is its base URL, the rest its controls."""
    from .testing import FakeIRS  # imported when a test asks for it, not when pytest starts

    with FakeIRS(seed=request.config.getoption("fake_irs_seed")).running() as fake:
        yield fake
