"""Linear growth, measured so that a busy machine does not change the verdict.

Wall-clock time is what a loaded machine changes: a test that waits for a core
reads as slow. So the measure is the CPU time of this process
(`time.process_time`: the time it ran, not the time it waited), the least of
several runs, each long enough for the clock (a short call is repeated and
averaged). Growth is judged over three sizes, each `STEP` times the last: the
exponent is the slope of log(cost) over log(size), 1 for linear work and 2 for
quadratic; it must stay under `LIMIT`. A first step that already grows past
what linear work can is a failure at once, before the largest size (which
quadratic work could take minutes to read).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from functools import partial

STEP = 4
LIMIT = 1.5  # halfway between linear (1) and quadratic (2)
FIRST_LIMIT = 1.8  # over the first step alone: 4x the text may cost up to 12x, quadratic costs 16x
RUNS = 5
LEAST = 0.002  # seconds of CPU a measurement lasts at least


def cpu_cost(work: Callable[[], object]) -> float:
    """CPU seconds one call of `work` costs: the least of RUNS runs, each repeated to last LEAST."""
    start = time.process_time()
    with contextlib.suppress(ValueError):
        work()
    once = time.process_time() - start
    calls = max(1, math.ceil(LEAST / max(once, 1e-7)))
    best = math.inf
    for _ in range(RUNS):
        start = time.process_time()
        for _ in range(calls):
            with contextlib.suppress(ValueError):
                work()
        best = min(best, (time.process_time() - start) / calls)
    return max(best, 1e-9)


def slope(sizes: list[int], costs: list[float]) -> float:
    """The least-squares slope of log(cost) over log(size)."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(c) for c in costs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def assert_linear(make: Callable[[int], str], read: Callable[[str], object], smallest: int = 10_000) -> None:
    """`read` costs time linear in the size of what `make(n)` makes (n characters, about)."""
    sizes: list[int] = []
    costs: list[float] = []
    for size in (smallest, smallest * STEP, smallest * STEP * STEP):
        text = make(size)
        sizes.append(size)
        costs.append(cpu_cost(partial(read, text)))
        if len(costs) == 2:  # quadratic work could take minutes at the largest size: stop here
            assert slope(sizes, costs) < FIRST_LIMIT, f"{STEP}x the text cost {costs[1] / costs[0]:.1f}x"
    exponent = slope(sizes, costs)
    assert exponent < LIMIT, f"cost grows as size^{exponent:.2f} over {sizes}: {costs}"
