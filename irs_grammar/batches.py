"""A log in batches of raw lines, worked on in input order by this process or by several.

`validate`, `parse` and `reconcile` read a log the same way: consecutive
batches of raw lines (bounded in lines and bytes), each given to a function
that can run in a worker process; the results come back in input order (a big
one in a file in memory: irs_grammar.handoff).
"""

from __future__ import annotations

import os
import stat
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult

from .handoff import clear, packed, shelf, unpacked
from .lines import MAX_LINE_BYTES, LogReadError, Overlong, open_log, read_pieces, split_lines

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
    worker_setup: Callable[[], object] | None = None,
) -> Iterator[R]:
    """`work(batch, first, *args)` for each batch of the log's raw lines, results in input order,
    on up to `jobs` processes (this one for a small file or `jobs` 1).

    Raises LogReadError when the log cannot be read to its end, after every
    batch read before the failure has been done (so what is reported does not
    depend on `jobs`). Memory stays flat: a line is at most `max_line_length`
    bytes (a longer one is an Overlong), a batch at most BATCH_BYTES (and
    `batch_lines`, BATCH_LINES by default: smaller where each line's result is
    big), and at most WINDOW_BYTES are in flight to the workers. `prepare()` runs here
    before the workers fork, so they inherit what it builds; `worker_setup()` (a
    module's function: it is pickled by name) runs in each worker as it starts;
    `done(lines, bytes)` is told the size of each batch as its result comes (for progress).
    """
    told = done or _nothing
    with open_log(path) as stream:
        # This process reads a block at a time; its lines are split where the batch is worked on.
        batches = _batches(read_pieces(stream, path, max_line_length), batch_lines or BATCH_LINES)
        if jobs <= 1 or _is_small_file(path):
            for first, pieces, lines, size in batches:
                result = work(split_lines(pieces, max_line_length), first, *args)
                told(lines, size)
                yield result
            return
        if prepare is not None:
            prepare()
        yield from _in_workers(batches, _on_lines, (work, max_line_length, *args), jobs, told, worker_setup)


def _on_lines(
    pieces: list[bytes | Overlong], first: int, work: Callable[..., R], max_line_length: int, *args: Any
) -> R:
    """`work(lines, first, *args)` on the lines of a batch's pieces (in a worker)."""
    return work(split_lines(pieces, max_line_length), first, *args)


def _handed_over(directory: str | None, work: Callable[..., R], *args: Any) -> Any:
    """`work(*args)` in a worker, its result handed to the command through `directory`
    (handoff.packed(); the command takes it with handoff.unpacked())."""
    return packed(work(*args), directory)


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
    batches: Iterator[Batch],
    work: Callable[..., R],
    args: tuple[Any, ...],
    jobs: int,
    told: Callable[[int, int], object] = _nothing,
    worker_setup: Callable[[], object] | None = None,
) -> Iterator[R]:
    with _working(jobs, worker_setup) as submit:
        window: deque[tuple[AsyncResult[Any], int, int]] = deque()
        in_flight = 0
        failure: LogReadError | None = None
        while True:
            try:
                item = next(batches, None)
            except LogReadError as error:
                failure, item = error, None
            if item is None:
                break
            first, pieces, lines, size = item
            window.append((submit(work, pieces, first, *args), lines, size))
            in_flight += size
            while window and (in_flight > WINDOW_BYTES or len(window) > 2 * jobs):
                done, done_lines, done_size = window.popleft()
                in_flight -= done_size
                result = unpacked(done.get())
                told(done_lines, done_size)
                yield result
        while window:
            done, done_lines, done_size = window.popleft()
            result = unpacked(done.get())
            told(done_lines, done_size)
            yield result
        if failure is not None:
            raise failure


def each_in_workers(
    work: Callable[..., R], items: Iterable[Any], args: tuple[Any, ...], jobs: int
) -> Iterator[R]:
    """`work(item, *args)` for each item on `jobs` processes, results in the items' order; at
    most 2 * jobs items in flight (reconcile judges the parts of its spool so)."""
    with _working(jobs) as submit:
        window: deque[AsyncResult[Any]] = deque()
        for item in items:
            window.append(submit(work, item, *args))
            if len(window) > 2 * jobs:
                yield unpacked(window.popleft().get())
        while window:
            yield unpacked(window.popleft().get())


@contextmanager
def _working(
    jobs: int, worker_setup: Callable[[], object] | None = None
) -> Iterator[Callable[..., AsyncResult[Any]]]:
    """A pool of `jobs` workers for one run, as `submit(work, *args)`: work(*args) in a worker, its
    result handed over (handoff.packed(): take it with unpacked()). On leaving, the pool is
    stopped at once, an interrupt or a failure too (no worker outlives the command), and the run's
    directory cleared with what no one took."""
    pool = _pool(jobs, worker_setup)
    interval = _results_taken_promptly()
    directory = shelf()

    def submit(work: Callable[..., Any], *args: Any) -> AsyncResult[Any]:
        return pool.apply_async(_handed_over, (directory, work, *args))  # type: ignore[no-any-return]

    try:
        yield submit
        pool.close()
    finally:
        sys.setswitchinterval(interval)
        pool.terminate()
        pool.join()
        clear(directory)


def _pool(jobs: int, worker_setup: Callable[[], object] | None = None) -> Any:
    import multiprocessing  # only big logs pay for importing it

    context = multiprocessing.get_context(start_method(multiprocessing.get_all_start_methods()))
    pool = context.Pool(jobs, initializer=_worker_starts, initargs=(worker_setup,))
    _deepen_pipes(pool)
    return pool


# How much the pool's task and result pipes hold. Linux's 64 KiB made a batch's 4 MB result (its
# JSON text, its Arrow table) cross in 64 reads, each one waking the pool's result thread, which
# then waits for the GIL: `parse --jobs 2` of 1,000,000 inquiry replies switched threads 26,000
# times and took 3.2-3.8 s; with 1 MiB pipes 4,500 times and 2.9 s.
POOL_PIPE_BYTES = 1 << 20


def _deepen_pipes(pool: Any) -> None:
    """The pool's task and result pipes made POOL_PIPE_BYTES deep, where the system lets us (Linux's
    F_SETPIPE_SZ, up to /proc/sys/fs/pipe-max-size); elsewhere, or refused, they stay as they are."""
    try:
        import fcntl

        for end in (pool._inqueue._writer, pool._outqueue._reader):  # the pool's own, not public
            fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, POOL_PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


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


def _worker_starts(setup: Callable[[], object] | None) -> None:
    _quiet_worker()
    if setup is not None:
        setup()


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


Batch = tuple[int, list[bytes | Overlong], int, int]  # (first line's number, pieces, lines, bytes)


def _batches(pieces: Iterable[bytes | Overlong], most: int | None = None) -> Iterator[Batch]:
    """Consecutive batches of read_pieces()'s pieces: (number of the first line, pieces, lines,
    bytes), each ending at the line that brings it to `most` lines (BATCH_LINES by default) or to
    BATCH_BYTES bytes, whichever comes first: a piece is cut there. An Overlong counts one byte."""
    most = most or BATCH_LINES
    first = 1
    batch: list[bytes | Overlong] = []
    lines = size = 0
    try:
        for piece in pieces:
            if not isinstance(piece, bytes):
                batch.append(piece)
                lines, size = lines + 1, size + 1
                if lines >= most or size >= BATCH_BYTES:
                    yield first, batch, lines, size
                    first, batch, lines, size = first + lines, [], 0, 0
                continue
            count = piece.count(b"\n") + (piece[-1:] != b"\n")  # a piece's last line may be unended
            while piece:
                end = _batch_end(piece, count, most - lines, BATCH_BYTES - size)
                if end == len(piece) and lines + count < most and size + end < BATCH_BYTES:
                    batch.append(piece)  # the whole piece, and room left
                    lines, size = lines + count, size + end
                    break
                head, piece = piece[:end], piece[end:]
                taken = head.count(b"\n") + (head[-1:] != b"\n")
                batch.append(head)
                count -= taken
                yield first, batch, lines + taken, size + end
                first, batch, lines, size = first + lines + taken, [], 0, 0
    except LogReadError:
        if batch:  # what was read before the failure is checked too, whatever --jobs
            yield first, batch, lines, size
        raise
    if batch:
        yield first, batch, lines, size


def _batch_end(piece: bytes, count: int, lines: int, size: int) -> int:
    """Where a batch with room for `lines` more lines and `size` more bytes ends in a piece of
    `count` lines: past the line that fills either, or at the piece's end."""
    end = len(piece)
    if count > lines:
        end = _line_end(piece, lines, count)
    if end > size:
        end = min(end, piece.find(b"\n", size - 1) + 1 or end)
    return end


def _line_end(data: bytes, k: int, total: int) -> int:
    """The index just past the `k`-th of data's `total` lines (k < total: its line break exists).

    Guessed from the lines' mean length, then walked from line break to line
    break: a log's lines are near their mean, so the walk is short (a cut
    costs what a few lines cost, where splitting the piece costs all of them).
    """
    at = len(data) * k // total
    seen = data.count(b"\n", 0, at)
    while seen < k:
        at = data.index(b"\n", at) + 1
        seen += 1
    while True:  # data[:at] holds `seen` line breaks, the last of them the seen-th
        end = data.rindex(b"\n", 0, at)
        if seen == k:
            return end + 1
        at, seen = end, seen - 1


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
