"""Test settings: Hypothesis profiles (CI runs the default, `HYPOTHESIS_PROFILE=long` digs deeper)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, settings

from tests.mutation import caches

# pytester: the fake_irs plugin is tested as pytest runs it (tests/test_testing.py).
pytest_plugins = ["pytester"]

# The atheris driver needs the `fuzz` extra and is run by `make fuzz`, not collected;
# its check (tests/fuzz/target.py) is tested by tests/test_fuzz_target.py.
# The same for the mutation launcher and report, which need the `mutation` extra (make mutation).
collect_ignore = ["fuzz/fuzz_parse.py", "mutation/__main__.py", "mutation/report.py"]

# No deadline: the first example of a run builds the Lark parser.
settings.register_profile("default", deadline=None, max_examples=200)
settings.register_profile(
    "long", deadline=None, max_examples=5000, suppress_health_check=[HealthCheck.too_slow]
)
# The other Pythons' runs and the unpacked sdist's own (make test), beside the full run on this
# tree's Python: they prove the code and the files are right there, the full run digs.
settings.register_profile("quick", deadline=None, max_examples=10)
# Mutation testing runs the suite once per mutant: fewer examples, the same ones each time, and no
# shrinking (a failure kills the mutant; the smallest failing example tells it nothing more).
settings.register_profile(
    "mutation",
    deadline=None,
    max_examples=30,
    derandomize=True,
    database=None,
    phases=[p for p in Phase if p is not Phase.shrink],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# What lies outside the interpreter is tested on the main Python only: the command in other
# processes (signals, pipes, memory, gzip faults), the wheel, a Dask cluster, fresh interpreters,
# pdoc. `make test` runs the other Pythons with `-m "not main_python_only"` (a deselection, not a
# skip): what they add is the library's code under their own regular expressions, datetime and
# sqlite3, which every other test exercises; two more runs of these would cost CI four minutes.
MAIN_PYTHON_ONLY = frozenset({"test_faults.py", "test_cluster.py", "test_wheel.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in MAIN_PYTHON_ONLY:
            item.add_marker(pytest.mark.main_python_only)


# Under mutmut (make mutation): cached results must not hide a mutant (tests/mutation/caches.py).
def pytest_sessionstart(session: pytest.Session) -> None:
    caches.before_session()


@pytest.fixture(autouse=True)
def _caches_under_mutation() -> Iterator[None]:
    caches.before_test()
    lift = caches.limit_wall_clock()
    yield
    lift()
