"""A log in batches of raw lines, worked on in input order by this process or by several.

`validate`, `parse` and `reconcile` read a log the same way: consecutive
batches of raw lines (bounded in lines and bytes), each given to a function
that can run in a worker process; the results come back in input order.
"""

from __future__ import annotations

import os
import stat
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult

from .lines import MAX_LINE_BYTES, LogReadError, Overlong, open_log, read_lines

R = TypeVar("R")

BATCH_LINES = 20_000
BATCH_BYTES = 4 << 20  # a batch ends at BATCH_LINES lines or this many bytes, whichever comes first
# At most this many bytes of lines are in flight to the workers, whatever --jobs.
WINDOW_BYTES = 32 << 20
# Below this size a regular file is checked in this process: starting workers costs more.
PARALLEL_FROM_BYTES = 4 << 20


def in_order(
    path: str,
    work: Callable[..., R],
    args: tuple[Any, ...],
    *,
    jobs: int = 1,
    max_line_length: int = MAX_LINE_BYTES,
    prepare: Callable[[], object] | None = None,
    done: Callable[[int, int], object] | None = None,
    batch_lines: int | None = None,
) -> Iterator[R]:
    """`work(batch, first, *args)` for each batch of the log's raw lines, results in input order,
    on up to `jobs` processes (this one for a small file or `jobs` 1).

    Raises LogReadError when the log cannot be read to its end, after every
    batch read before the failure has been done (so what is reported does not
    depend on `jobs`). Memory stays flat: a line is at most `max_line_length`
    bytes (a longer one is an Overlong), a batch at most BATCH_BYTES (and
    `batch_lines`, BATCH_LINES by default: smaller where each line's result is
    big), and at most WINDOW_BYTES are in flight to the workers. `prepare()` runs here
    before the workers fork, so they inherit what it builds; `done(lines,
    bytes)` is told the size of each batch as its result comes (for progress).
    """
    told = done or _nothing
    with open_log(path) as stream:
        batches = _batches(read_lines(stream, path, max_line_length), batch_lines or BATCH_LINES)
        if jobs <= 1 or _is_small_file(path):
            for first, batch, size in batches:
                result = work(batch, first, *args)
                told(len(batch), size)
                yield result
            return
        if prepare is not None:
            prepare()
        yield from _in_workers(batches, work, args, jobs, told)


def _nothing(lines: int, size: int) -> None:
    pass


# How often this thread hands the GIL over while workers send results back. The pool's result
# thread reads a result off its pipe 64 KiB at a time and needs the GIL after each read, while this
# thread reads and batches lines; at Python's 5 ms a 4 MB result (a batch's Arrow table or JSON
# text) waited about 0.3 s: `parse --format parquet --jobs 2` took 5.3 s where `--jobs 1` took 3.5.
RESULTS_SWITCH_INTERVAL = 0.0005


def _results_taken_promptly() -> float:
    """RESULTS_SWITCH_INTERVAL set while workers run; the interval before, to set back after."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(RESULTS_SWITCH_INTERVAL)
    return interval


def _in_workers(
    batches: Iterator[tuple[int, list[bytes | Overlong], int]],
    work: Callable[..., R],
    args: tuple[Any, ...],
    jobs: int,
    told: Callable[[int, int], object] = _nothing,
) -> Iterator[R]:
    pool = _pool(jobs)
    interval = _results_taken_promptly()
    try:
        window: deque[tuple[AsyncResult[R], int, int]] = deque()
        in_flight = 0
        failure: LogReadError | None = None
        while True:
            try:
                item = next(batches, None)
            except LogReadError as error:
                failure, item = error, None
            if item is None:
                break
            first, batch, size = item
            window.append((pool.apply_async(work, (batch, first, *args)), len(batch), size))
            in_flight += size
            while window and (in_flight > WINDOW_BYTES or len(window) > 2 * jobs):
                done, lines, done_size = window.popleft()
                in_flight -= done_size
                result = done.get()
                told(lines, done_size)
                yield result
        while window:
            done, lines, done_size = window.popleft()
            result = done.get()
            told(lines, done_size)
            yield result
        if failure is not None:
            raise failure
        pool.close()
    finally:
        sys.setswitchinterval(interval)
        pool.terminate()  # at once, on an interrupt too: no worker outlives the command
        pool.join()


def each_in_workers(
    work: Callable[..., R], items: Iterable[Any], args: tuple[Any, ...], jobs: int
) -> Iterator[R]:
    """`work(item, *args)` for each item on `jobs` processes, results in the items' order; at
    most 2 * jobs items in flight (reconcile judges the parts of its spool so)."""
    pool = _pool(jobs)
    interval = _results_taken_promptly()
    try:
        window: deque[AsyncResult[R]] = deque()
        for item in items:
            window.append(pool.apply_async(work, (item, *args)))
            if len(window) > 2 * jobs:
                yield window.popleft().get()
        while window:
            yield window.popleft().get()
        pool.close()
    finally:
        sys.setswitchinterval(interval)
        pool.terminate()  # at once, on an interrupt too: no worker outlives the command
        pool.join()


def _pool(jobs: int) -> Any:
    import multiprocessing  # only big logs pay for importing it

    context = multiprocessing.get_context(start_method(multiprocessing.get_all_start_methods()))
    return context.Pool(jobs, initializer=_quiet_worker)


def start_method(available: list[str]) -> str | None:
    """How the workers start: `fork` (fast: they inherit the built patterns) when this process has
    one thread, as the command line has; else `forkserver`. A forked copy of a process with other
    threads (pyarrow's, DuckDB's, a server's) can deadlock on a lock one of them held."""
    if "fork" in available and threads() == 1:
        return "fork"
    return "forkserver" if "forkserver" in available else None


def threads() -> int:
    """The threads of this process, native ones too (Linux: its tasks); what Python knows elsewhere."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def _quiet_worker() -> None:
    """Workers leave Ctrl-C and termination to the command, which stops them itself.

    They leave its process group, so a Ctrl-C or a SIGTERM sent to the group
    reaches the command alone: a worker killed while it holds the pool's queue
    lock would leave Pool.terminate() waiting for that lock for ever.
    """
    import signal

    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _batches(
    lines: Iterable[bytes | Overlong], most: int | None = None
) -> Iterator[tuple[int, list[bytes | Overlong], int]]:
    """(number of the first line, lines, bytes) for consecutive batches, bounded in lines and bytes."""
    most = most or BATCH_LINES
    first = 1
    batch: list[bytes | Overlong] = []
    size = 0
    try:
        for line in lines:
            batch.append(line)
            size += len(line) if isinstance(line, bytes) else 1
            if len(batch) >= most or size >= BATCH_BYTES:
                yield first, batch, size
                first += len(batch)
                batch, size = [], 0
    except LogReadError:
        if batch:  # what was read before the failure is checked too, whatever --jobs
            yield first, batch, size
        raise
    if batch:
        yield first, batch, size


def default_jobs() -> int:
    """Processes for a big log when none are asked for: the usable cores that are free.

    A second process pays only where a core is idle (measured on 2 cores:
    --jobs 2 gave 1.4-1.7x the speed of --jobs 1 on an idle machine, and
    0.74-1.08x with the other core busy). So: the cores this process may run
    on, less the load average of the last minute (rounded), and at least one.
    A log under PARALLEL_FROM_BYTES is read in this process whatever this says.
    """
    try:
        busy = round(os.getloadavg()[0])
    except OSError:  # no load average on this system
        busy = 0
    return max(1, usable_cores() - busy)


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _is_small_file(path: str) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return False  # standard input: its size is unknown
    return stat.S_ISREG(info.st_mode) and not path.endswith(".gz") and info.st_size < PARALLEL_FROM_BYTES
