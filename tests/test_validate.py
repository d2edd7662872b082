"""Log validation: the library call and `irs-grammar validate`."""

from __future__ import annotations

import contextlib
import gzip
import io
import itertools
import json
import os
import random
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar import cli, strategies
from irs_grammar.batches import PARALLEL_FROM_BYTES
from irs_grammar.lines import Overlong
from tests.command import run
from tests.corpus import CORPUS, in_a_file, load
from tests.reach import reached

LOGS = CORPUS / "logs"


def relative(path: Path) -> str:
    return str(path.relative_to(CORPUS.parent))


# -- golden logs, expected output written by hand ----------------------------------------


def test_mixed_log_report_is_exactly_the_expected_one() -> None:
    result = run("validate", "--quiet", relative(LOGS / "mixed.log"))
    assert result.returncode == 1
    assert result.stdout == (LOGS / "mixed.expected").read_text()
    assert result.stderr == ""


def test_extract_checks_replies_behind_a_log_prefix() -> None:
    result = run("validate", "--extract", relative(LOGS / "prefixed.log"))
    assert result.returncode == 1
    assert result.stdout == (LOGS / "prefixed.expected").read_text()


def test_without_extract_a_prefixed_line_is_invalid_at_column_1() -> None:
    result = run("validate", relative(LOGS / "prefixed.log"))
    assert result.stdout.splitlines()[0] == "corpus/logs/prefixed.log:1:1: expected \"R#\", found '2'"


def test_all_valid_exits_0() -> None:
    result = run("validate", relative(CORPUS / "inquiry/documented.log"))
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "lines: 7 (valid 7, invalid 0, blank 0)"


# -- sources -----------------------------------------------------------------------------


def test_stdin_is_read_with_dash() -> None:
    result = run("validate", "-", stdin=(LOGS / "mixed.log").read_bytes())
    expected = (LOGS / "mixed.expected").read_text().replace("corpus/logs/mixed.log", "<stdin>")
    assert (result.returncode, result.stdout) == (1, expected)


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    packed = tmp_path / "mixed.log.gz"
    packed.write_bytes(gzip.compress((LOGS / "mixed.log").read_bytes()))
    result = run("validate", str(packed))
    expected = (LOGS / "mixed.expected").read_text().replace("corpus/logs/mixed.log", str(packed))
    assert (result.returncode, result.stdout) == (1, expected)


def test_several_paths_are_summed_up() -> None:
    documented = relative(CORPUS / "inquiry/documented.log")
    result = run("validate", documented, relative(LOGS / "mixed.log"))
    assert "lines: 17 (valid 11, invalid 4, blank 2)" in result.stdout


@pytest.mark.parametrize("target", ["/nonexistent.log", "/", "truncated.gz"])
def test_io_errors_exit_2_in_one_line(target: str, tmp_path: Path) -> None:
    if target == "truncated.gz":
        target = str(tmp_path / target)
        Path(target).write_bytes(gzip.compress(b"R#A. @12:00:00.000000 01/01/2025\n" * 100)[:40])
    result = run("validate", target)
    assert result.returncode == 2
    assert result.stderr.startswith(f"irs-grammar: {target}: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    for args in (["validate", "--format", "xml", "x"], ["validate", "--max-errors", "-1", "x"]):
        result = run(*args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr


# -- options -----------------------------------------------------------------------------


def test_max_errors_limits_printing_but_counts_all() -> None:
    result = run("validate", "--max-errors", "1", relative(LOGS / "mixed.log"))
    lines = result.stdout.splitlines()
    assert lines[0] == "corpus/logs/mixed.log:4:19: expected \". \", found '.'"
    assert lines[1] == "... 3 more invalid lines not shown (--max-errors)"
    assert lines[2] == "lines: 10 (valid 4, invalid 4, blank 2)"


def test_json_is_one_document_with_errors_and_summary() -> None:
    result = run("validate", "--format", "json", "--max-errors", "3", relative(LOGS / "mixed.log"))
    document = json.loads(result.stdout)
    assert document["errors"][2] == {
        "path": "corpus/logs/mixed.log",
        "line": 6,
        "column": 20,
        "message": "not valid UTF-8 (byte 0xff)",
    }
    assert len(document["errors"]) == document["errors_shown"] == 3
    assert (document["lines"], document["valid"], document["invalid"], document["blank"]) == (10, 4, 4, 2)
    assert (document["succeeded"], document["failed"]) == (2, 2)
    assert document["products"] == {"PLN20": 1, "": 1, "MAX5000": 1, "DNOPEN": 1}
    assert document["error_codes"] == {"Err:5110": 1, "Err:77": 1}  # as the text report writes them


def test_jobs_split_a_large_log_and_report_the_same_in_line_order(tmp_path: Path) -> None:
    rng = random.Random(7)
    good = [c["line"] for c in load("inquiry/documented.jsonl")]
    bad = [c["line"] for c in load("inquiry/invalid.jsonl") if in_a_file(c["line"])]
    log = tmp_path / "big.log"
    with open(log, "w", encoding="utf-8") as f:
        written = 0
        while written < PARALLEL_FROM_BYTES + 100_000:
            line = rng.choice(bad) if rng.random() < 0.01 else rng.choice(good)
            written += f.write(line + "\n")
    one = run("validate", "--jobs", "1", str(log))
    two = run("validate", "--jobs", "2", str(log))
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout
    numbers = [int(line.split(":")[1]) for line in one.stdout.splitlines() if line.startswith(str(log))]
    assert numbers == sorted(numbers)
    assert len(numbers) > 100


def test_progress_shows_lines_and_rate_only_when_enabled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = itertools.count(0.0, 1.0)
    monkeypatch.setattr("irs_grammar.cli.time.monotonic", lambda: next(clock))
    progress = cli.Progress(enabled=True)
    progress.advance("big.log", 20_000)  # 1 s: not yet
    progress.advance("big.log", 20_000)  # 2 s
    progress.advance("big.log", 20_000)  # 3 s
    progress.close()
    err = capsys.readouterr().err
    assert "big.log: 20,000 lines" not in err  # 1 s: too soon
    assert "\rbig.log: 40,000 lines, 0.0 MB, 20,000 lines/s" in err
    assert "\rbig.log: 60,000 lines, 0.0 MB, 20,000 lines/s" in err
    quiet = cli.Progress(enabled=False)
    quiet.advance("big.log", 20_000)
    assert capsys.readouterr().err == ""


def test_piped_runs_print_nothing_on_stderr() -> None:
    assert run("validate", relative(LOGS / "mixed.log")).stderr == ""


# -- the library call ----------------------------------------------------------------------


def test_validate_a_path_gives_one_result_per_line_with_line_set() -> None:
    results = list(irs.validate(LOGS / "mixed.log"))
    assert [r.number for r in results] == list(range(1, 11))
    assert [r.blank for r in results].count(True) == 2
    errors = [r.error for r in results if r.error is not None]
    assert [(e.line, e.column) for e in errors] == [(4, 19), (5, 59), (6, 20), (9, 53)]
    assert isinstance(results[0].reply, irs.InquiryResponse)
    assert results[0].reply.customer_name == "BAHARRUDIN1"


def test_validate_is_lazy() -> None:
    def lines() -> object:
        yield "R#A. @12:00:00.000000 01/01/2025"
        raise AssertionError("read too far")

    first = next(irs.validate(lines()))  # type: ignore[arg-type]
    assert first.valid


def test_validate_reads_a_stream_of_bytes() -> None:
    stream = io.BytesIO((LOGS / "mixed.log").read_bytes())
    assert sum(r.valid for r in irs.validate(stream)) == 4


line_texts = st.one_of(
    st.text(st.characters(blacklist_characters="\n"), max_size=30),
    st.sampled_from(["", "\r", "  ", "R#A. @12:00:00.000000 01/01/2025", "R#A. @12:00:00.000000 30/02/2025"]),
)
raw_lines = st.one_of(line_texts.map(lambda s: s.encode("utf-8", "surrogatepass")), st.binary(max_size=20))


@given(st.lists(st.one_of(line_texts, raw_lines), max_size=30), st.booleans())
def test_every_line_is_accounted_for(lines: list[str | bytes], extract: bool) -> None:
    results = list(irs.validate(lines, extract=extract))
    reached()
    assert [r.number for r in results] == list(range(1, len(lines) + 1))
    for result in results:
        assert (result.reply is not None) + (result.error is not None) + result.blank == 1
        if result.error is not None:
            assert result.error.line == result.number


@given(st.lists(raw_lines, max_size=40))
def test_the_summary_counts_every_line_of_a_file(lines: list[bytes]) -> None:
    batch = irs.validation.check_batch([line + b"\n" for line in lines], 1, False)
    summary = batch.summary
    reached()
    assert summary.lines == len(lines) == summary.valid + summary.invalid + summary.blank
    assert summary.invalid == len(batch.errors)


# The validator counts a valid inquiry from its match, without building a reply: it must
# count exactly what parsing each line and adding it to a Summary counts, in the same order.
log_lines = st.one_of(
    strategies.response_lines(line_endings=False),
    strategies.transaction_lines(line_endings=False),
    strategies.near_misses(),
    st.sampled_from(
        ["", " ", "R#A. @12:00:00.000000 30/02/2025", "R#. REASON: x. Err:7. @12:00:00.000000 01/01/2025"]
    ),
)


@given(st.lists(log_lines, min_size=1, max_size=12))
def test_the_batch_counts_what_line_by_line_parsing_counts(lines: list[str]) -> None:
    flat = [line.replace("\n", " ").replace("\r", " ") for line in lines]  # one log line each
    batch = irs.validation.check_batch(
        [line.encode("utf-8", "surrogatepass") + b"\n" for line in flat], 1, False
    )
    expected = irs.Summary()
    errors = []
    for result in irs.validate([line + "\n" for line in flat]):
        expected.add(result)
        if result.error is not None:
            errors.append((result.number, result.error.column, result.error.message))
    reached()
    assert batch.summary.to_dict() == expected.to_dict()
    assert list(batch.summary.products) == list(expected.products)  # first-seen order kept
    assert batch.summary.text() == expected.text()
    assert batch.errors == errors


@pytest.mark.parametrize(("load", "jobs"), [(0.0, 2), (0.4, 2), (0.6, 1), (1.0, 1), (7.5, 1), (None, 2)])
def test_the_default_is_the_free_cores(
    monkeypatch: pytest.MonkeyPatch, load: float | None, jobs: int
) -> None:
    def load_average() -> tuple[float, float, float]:
        if load is None:
            raise OSError("no load average here")
        return (load, 0.0, 0.0)

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", load_average)
    assert irs.batches.default_jobs() == jobs


def test_usable_cores_are_those_this_process_may_run_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert irs.batches.usable_cores() == 3
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # macOS and Windows have none
    assert irs.batches.usable_cores() == 8
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert irs.batches.usable_cores() == 1


def test_a_small_plain_file_is_read_in_this_process(tmp_path: Path) -> None:
    from irs_grammar.batches import PARALLEL_FROM_BYTES, _is_small_file

    small, big, packed = tmp_path / "small.log", tmp_path / "big.log", tmp_path / "small.log.gz"
    small.write_bytes(b"x" * (PARALLEL_FROM_BYTES - 1))
    big.write_bytes(b"x" * PARALLEL_FROM_BYTES)
    packed.write_bytes(b"x")
    assert PARALLEL_FROM_BYTES == 4 * 1024 * 1024
    assert _is_small_file(str(small))
    assert not _is_small_file(str(big))  # 4 MiB and up: worth the workers
    assert not _is_small_file(str(packed))  # a .gz may hold any amount
    assert not _is_small_file(str(tmp_path))  # not a regular file
    assert not _is_small_file("-")  # standard input: its size is unknown
    assert not _is_small_file(str(tmp_path / "missing.log"))


def test_summaries_merge_field_by_field() -> None:
    from collections import Counter

    def summary(n: int) -> irs.Summary:
        return irs.Summary(
            lines=n,
            valid=n + 1,
            invalid=n + 2,
            blank=n + 3,
            succeeded=n + 4,
            failed=n + 5,
            products=Counter({"A": n, "B": 1}),
            error_codes=Counter({"0001": n}),
            transactions=Counter({"SUCCESS": n}),
            deducted=n + 6,
        )

    merged = summary(10)
    merged.merge(summary(100))
    assert merged == irs.Summary(
        lines=110,
        valid=112,
        invalid=114,
        blank=116,
        succeeded=118,
        failed=120,
        products=Counter({"A": 110, "B": 2}),
        error_codes=Counter({"0001": 110}),
        transactions=Counter({"SUCCESS": 110}),
        deducted=122,
    )


def test_workers_leave_ctrl_c_and_termination_to_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    from irs_grammar.batches import _worker_starts

    done: list[object] = []
    monkeypatch.setattr(os, "setpgrp", lambda: done.append("setpgrp"))
    monkeypatch.setattr(signal, "signal", lambda signum, handler: done.append((signum, handler)))
    _worker_starts(None)  # what each worker process runs first
    quiet = ["setpgrp", (signal.SIGINT, signal.SIG_IGN), (signal.SIGTERM, signal.SIG_DFL)]
    assert done == quiet
    done.clear()
    _worker_starts(lambda: done.append("the command's setup"))  # in_order(..., worker_setup=...)
    assert done == [*quiet, "the command's setup"]


def test_the_text_summary_counts_inquiries_when_there_are_any_or_nothing_else() -> None:
    assert (
        irs.Summary().text()
        == "lines: 0 (valid 0, invalid 0, blank 0)\ninquiry replies: 0 (succeeded 0, failed 0)"
    )
    buys = irs.Summary()
    for result in irs.validate(
        ["R#1 A FAILED. TRXID: -. SISA SALDO: 1.000 - 500 = 500 @12:00:00.000000 01/01/2025"]
    ):
        buys.add(result)
    assert buys.text() == (
        "lines: 1 (valid 1, invalid 0, blank 0)\n"
        "transaction replies: 1 (FAILED 1), deducted 500\n"
        "by product: A 1"
    )


# -- the workers' window, with a pool that runs each batch when its result is asked for -------------


class _Pool:
    """A multiprocessing pool stand-in: counts the batches handed out and not yet collected."""

    def __init__(self, log: dict[str, Any], jobs: int, initializer: Any, initargs: tuple[Any, ...]) -> None:
        self.log = log
        log.update(jobs=jobs, initializer=(initializer, initargs), outstanding_at_submit=[], closed=False)
        self.outstanding = 0

    def apply_async(self, fn: Any, args: tuple[Any, ...]) -> Any:
        self.log["outstanding_at_submit"].append(self.outstanding)
        self.outstanding += 1
        pool = self

        class Result:
            def get(self) -> Any:
                pool.outstanding -= 1
                return fn(*args)

        return Result()

    def close(self) -> None:
        self.log["closed"] = True

    def terminate(self) -> None:
        self.log["terminated"] = True

    def join(self) -> None:
        pass


def run_in_window(monkeypatch: pytest.MonkeyPatch, jobs: int, sizes: list[int]) -> dict[str, Any]:
    import multiprocessing

    from irs_grammar.batches import _in_workers, _worker_starts, start_method
    from irs_grammar.validation import check_batch

    log: dict[str, Any] = {}
    method = start_method(multiprocessing.get_all_start_methods())  # fork, or forkserver beside threads

    def get_context(method: str | None) -> Any:
        log["method"] = method
        return SimpleNamespace(
            Pool=lambda jobs, initializer, initargs: _Pool(log, jobs, initializer, initargs)
        )

    monkeypatch.setattr(multiprocessing, "get_context", get_context)
    line: list[bytes | Overlong] = [b"R#A. @12:00:00.000000 01/01/2025\n"]
    batches = iter([(n + 1, line, 1, size) for n, size in enumerate(sizes)])
    results = list(_in_workers(batches, check_batch, (False, 1 << 20), jobs))
    assert [r.summary.valid for r in results] == [1] * len(sizes)  # every batch, in order
    assert (log["method"], log["jobs"], log["initializer"]) == (method, jobs, (_worker_starts, (None,)))
    assert (log["closed"], log["terminated"]) == (True, True)
    return log


def test_at_most_twice_jobs_batches_are_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    log = run_in_window(monkeypatch, jobs=2, sizes=[1] * 12)
    assert log["outstanding_at_submit"] == [0, 1, 2, 3, 4] + [4] * 7


def test_at_most_32_mib_of_lines_are_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    log = run_in_window(monkeypatch, jobs=8, sizes=[16 << 20] * 6)
    # two batches of 16 MiB fill the window (32 MiB is not past it); a third waits for the first
    assert log["outstanding_at_submit"] == [0, 1, 2, 2, 2, 2]


def batches_line_by_line(
    lines: list[bytes | Overlong], most: int, most_bytes: int
) -> list[tuple[int, list[bytes | Overlong], int, int]]:
    """The batching rule, a line at a time: a batch ends at the line that brings it to `most` lines
    or `most_bytes` bytes (an Overlong counts one); (first, lines, lines' count, bytes)."""
    batches, batch, size, first = [], [], 0, 1
    for line in lines:
        batch.append(line)
        size += len(line) if isinstance(line, bytes) else 1
        if len(batch) >= most or size >= most_bytes:
            batches.append((first, batch, len(batch), size))
            first, batch, size = first + len(batch), [], 0
    return batches + ([(first, batch, len(batch), size)] if batch else [])


# A log's lines, cut into pieces as read_pieces() makes them: whole lines, or an Overlong; the
# last line of the log may be unended.
_piece_lines = st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"") + b"\n"), max_size=8)
_log_pieces = st.tuples(
    st.lists(st.one_of(_piece_lines.map(b"".join), st.builds(Overlong, st.integers(2, 99))), max_size=8),
    st.binary(max_size=5).map(lambda b: b.replace(b"\n", b"")),
)


@given(_log_pieces, st.integers(1, 9), st.integers(1, 60))
def test_batches_cut_pieces_where_the_line_by_line_rule_ends_a_batch(
    log: tuple[list[bytes | Overlong], bytes], most: int, most_bytes: int
) -> None:
    from irs_grammar import batches
    from irs_grammar.lines import split_lines

    pieces, unended = log
    pieces = [piece for piece in pieces if piece] + ([unended] if unended else [])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batches, "BATCH_BYTES", most_bytes)
        cut = list(batches._batches(pieces, most))
    reached()
    expected = batches_line_by_line(split_lines(pieces), most, most_bytes)
    assert [(first, split_lines(part), lines, size) for first, part, lines, size in cut] == expected


@given(
    st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), min_size=2, max_size=60), st.data()
)
def test_a_line_end_found_by_a_guess_and_a_walk_is_the_kth(lines: list[bytes], data: st.DataObject) -> None:
    from irs_grammar.batches import _line_end

    text = b"".join(line + b"\n" for line in lines)
    k = data.draw(st.integers(1, len(lines) - 1))
    reached()
    assert _line_end(text, k, len(lines)) == sum(len(line) + 1 for line in lines[:k])


def test_a_batch_ends_at_its_line_and_byte_bounds_exactly_and_counts_its_bytes() -> None:
    from irs_grammar.batches import BATCH_BYTES, BATCH_LINES, _batches

    lines_bound = [b"a\n" * BATCH_LINES + b"b\n"]
    assert list(_batches(lines_bound)) == [
        (1, [b"a\n" * BATCH_LINES], BATCH_LINES, 2 * BATCH_LINES),  # the piece cut after its last "a"
        (BATCH_LINES + 1, [b"b\n"], 1, 2),
    ]
    pieces = [b"x" * (BATCH_BYTES - 2) + b"\n", b"y\nz\n"]  # "y" brings the batch past its bound
    assert list(_batches(pieces)) == [(1, [pieces[0], b"y\n"], 2, BATCH_BYTES + 1), (3, [b"z\n"], 1, 2)]
    # a whole piece that fills the batch to its bound ends it, as a line that does
    full = [b"x" * (BATCH_BYTES - 1) + b"\n", b"y\n"]
    assert list(_batches(full)) == [(1, [full[0]], 1, BATCH_BYTES), (2, [b"y\n"], 1, 2)]
    # an overlong line counts one byte towards its batch, and ends it when that fills it
    overlong: list[bytes | Overlong] = [b"x" * (BATCH_BYTES - 3) + b"\n", Overlong(10**9), b"y"]
    assert [size for _, _, _, size in _batches(overlong)] == [BATCH_BYTES]
    overlong[0] = b"x" * (BATCH_BYTES - 2) + b"\n"
    assert [(lines, size) for _, _, lines, size in _batches(overlong)] == [(2, BATCH_BYTES), (1, 1)]


def _lengths(
    lines: list[bytes | Overlong], first: int, *args: object
) -> tuple[int, list[object], tuple[object, ...]]:
    """A batch's first line number, its lines' lengths (an Overlong as it is), the args after them."""
    return first, [len(line) if isinstance(line, bytes) else line for line in lines], args


def test_a_worker_splits_its_pieces_into_lines_at_the_limit_it_is_given() -> None:
    from irs_grammar.batches import _on_lines
    from irs_grammar.lines import split_lines

    # a piece of one unended line past the limit, as a caller may hand one (read_pieces never does)
    assert split_lines([b"abcdef"], 3) == [Overlong(6)]
    assert split_lines([b"abc"], 3) == [b"abc"]  # one of exactly the limit is kept

    assert _on_lines([b"ab\ncde\n", Overlong(9), b"f"], 7, _lengths, 2, "x") == (
        7,
        [3, Overlong(3), Overlong(9), 1],
        ("x",),
    )


def test_a_line_past_two_blocks_is_kept_whole_under_a_limit_past_it(tmp_path: Path) -> None:
    # (a line the default limit would skip: after two blocks its start is longer than 1 MiB)
    from irs_grammar.batches import in_order
    from irs_grammar.lines import _BLOCK, read_lines

    data = b"x" * (2 * _BLOCK + 100) + b"\n" + b"y\n"
    assert list(read_lines(io.BytesIO(data), "x.log", 3 * _BLOCK)) == [data[: 2 * _BLOCK + 101], b"y\n"]
    log = tmp_path / "long.log"
    log.write_bytes(data)
    assert list(in_order(str(log), _lengths, (), max_line_length=3 * _BLOCK)) == [
        (1, [2 * _BLOCK + 101, 2], ())
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_is_told_every_batch_read_by_this_process_or_by_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, jobs: int
) -> None:
    from irs_grammar import batches

    monkeypatch.setattr(batches, "_pool", _InProcessPool)  # the workers' path, in this process
    line = b"R#A. @12:00:00.000000 01/01/2025\n"
    count = PARALLEL_FROM_BYTES // len(line) + 50_000
    log = tmp_path / "big.log"
    log.write_bytes(line * count)
    told: list[tuple[int, int]] = []
    results = list(batches.in_order(str(log), _lengths, (), jobs=jobs, done=lambda *size: told.append(size)))
    assert len(told) == len(results) > 2
    assert [lines for lines, _ in told] == [len(lengths) for _, lengths, _ in results]
    assert (sum(lines for lines, _ in told), sum(size for _, size in told)) == (count, count * len(line))


def test_check_log_in_workers_finds_what_one_process_finds(tmp_path: Path) -> None:
    from irs_grammar.validation import check_log

    # Past PARALLEL_FROM_BYTES, so jobs=2 checks in workers: prefixed lines (extract), an invalid
    # one and one past a small line limit, in the last batch.
    line = "2024-11-12 app: " + load("inquiry/documented.jsonl")[0]["line"]
    log = tmp_path / "big.log"
    count = PARALLEL_FROM_BYTES // len(line) + 2
    log.write_text("\n".join([line] * count + ["R#oops", "x" * 300]) + "\n", encoding="utf-8")
    by_one = list(check_log(str(log), extract=True, jobs=1, max_line_length=200))
    by_two = list(check_log(str(log), extract=True, jobs=2, max_line_length=200))
    assert by_two == by_one
    assert sum(result.summary.valid for result in by_one) == count
    assert [number for result in by_one for number, _, _ in result.errors] == [count + 1, count + 2]
    # by default: no prefix read past (every line is refused at column 1), one process, 1 MiB lines
    assert [result.summary.valid for result in check_log(str(log))] == [0] * len(by_one)


# -- replies read the slow way, overlong lines, prefixes and read errors through validate() ------------

SLOW_AND_FAST = [
    b"R#A. @12:00:00.000000 01/01/2025\n",  # fast: an inquiry
    b"app: R#7 DN1. 0811 SUCCESS. SN: 1. TRXID: 9. SISA SALDO: 10.000 - 1.000 = 9.000 "
    b"@10:00:00.000000 01/12/2024\n",  # slow (a prefix): a transaction
    b"app: R#PLN20. REASON: Biller down. Err:5110. @10:00:00.000000 01/12/2024\n",  # slow: failed
    b"R#. REASON: CUSTID not recognized. Err:5110. @10:00:01.000000 01/12/2024\n",  # fast: failed
    b"R#8 DN1. 0811 FAILED. REASON: x. TRXID: 10. SISA SALDO: 9.000 - 500 = 8.500 "
    b"@10:00:02.000000 01/12/2024\n",  # fast: a transaction
    b"app: R#9 DN5. 0811 GAGAL. TRXID: 11. @10:00:03.000000 01/12/2024\n",  # slow: an unknown status
    b"app: nothing here\n",
    b"\n",
]


def test_a_batch_counts_replies_read_the_slow_way_as_summary_add_does() -> None:
    from irs_grammar.validation import Summary, check_batch
    from irs_grammar.wire.transaction import TransactionStatus

    # By hand, in line order: products A, DN1, PLN20, "", DN1, DN5; most common first, then as met.
    expected = {
        "lines": 8,
        "valid": 6,
        "invalid": 1,
        "blank": 1,
        "succeeded": 1,
        "failed": 2,
        "products": {"DN1": 2, "A": 1, "PLN20": 1, "": 1, "DN5": 1},
        "error_codes": {"Err:5110": 2},
        "transactions": {"SUCCESS": 1, "FAILED": 1, "GAGAL": 1},
        "deducted": 1500,
    }
    batch = check_batch(SLOW_AND_FAST, 1, extract=True)
    one_by_one = Summary()
    for result in irs.validate(SLOW_AND_FAST, extract=True):
        one_by_one.add(result)
    for summary in (batch.summary, one_by_one):
        shown = summary.to_dict()
        assert [
            (key, list(value.items()) if isinstance(value, dict) else value) for key, value in shown.items()
        ] == [
            (key, list(value.items()) if isinstance(value, dict) else value)
            for key, value in expected.items()
        ]
        # known status words as TransactionStatus members, as a parsed reply has them; others as read
        assert [type(status) for status in summary.transactions] == [
            TransactionStatus,
            TransactionStatus,
            str,
        ]
    assert batch.errors == [(7, 1, "no reply in this line (no 'R#')")]


def test_validate_reports_an_overlong_line_at_its_place_and_reads_on(tmp_path: Path) -> None:
    from irs_grammar.lines import MAX_LINE_BYTES

    log = tmp_path / "long.log"
    valid = b"R#A. @12:00:00.000000 01/01/2025\n"
    log.write_bytes(valid + b"R#" + b"A" * MAX_LINE_BYTES + b"\n" + valid)
    results = list(irs.validate(log))
    assert [(r.number, r.valid) for r in results] == [(1, True), (2, False), (3, True)]
    error = results[1].error
    assert error is not None
    assert (error.line, error.column, error.message) == (
        2,
        MAX_LINE_BYTES + 1,
        f"line longer than {MAX_LINE_BYTES:,} bytes ({MAX_LINE_BYTES + 2:,}); skipped (--max-line-length)",
    )


def test_validate_reads_past_a_prefix_from_a_path_and_from_lines(tmp_path: Path) -> None:
    line = "2024-11-12 app: R#A. @12:00:00.000000 01/01/2025\n"
    log = tmp_path / "prefixed.log"
    log.write_text(line, encoding="utf-8")
    for source in (log, [line]):
        assert [r.valid for r in irs.validate(source, extract=True)] == [True]
        [plain] = irs.validate(source)
        assert plain.error is not None
        assert plain.error.column == 1


def test_a_log_that_cannot_be_read_to_its_end_is_named_in_the_error(tmp_path: Path) -> None:
    from irs_grammar.lines import LogReadError
    from irs_grammar.validation import check_log

    log = tmp_path / "cut.log.gz"
    packed = gzip.compress(b"R#A. @12:00:00.000000 01/01/2025\n" * 1000)
    log.write_bytes(packed[: len(packed) // 2])
    reason = "the gzip file is truncated (it ends before its end marker)"
    for read in (lambda: list(irs.validate(log)), lambda: list(check_log(str(log)))):
        with pytest.raises(LogReadError) as failed:
            read()
        assert (failed.value.path, str(failed.value)) == (str(log), f"{log}: {reason}")


GOOD_GZ = gzip.compress(b"R#A. @12:00:00.000000 01/01/2025\n" * 3)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        (
            "garbled.log.gz",  # the deflate data overwritten after the 10-byte header
            GOOD_GZ[:10] + b"\xff\xff\xff\xff" + GOOD_GZ[14:],
            "the gzip file is corrupt (its compressed data does not decode)",
        ),
        (
            "crc.log.gz",  # the low bit of the trailer's CRC-32 flipped (it is little-endian)
            GOOD_GZ[:-8] + bytes([GOOD_GZ[-8] ^ 1]) + GOOD_GZ[-7:],
            # gzip names the CRC stored, then the one computed
            f"the gzip file is corrupt (CRC check failed 0x{zlib.crc32(gzip.decompress(GOOD_GZ)) ^ 1:08x} != "
            f"0x{zlib.crc32(gzip.decompress(GOOD_GZ)):08x})",
        ),
        (
            "plain.log.gz",
            b"R#A. @12:00:00.000000 01/01/2025\n",
            "not a valid gzip file (Not a gzipped file (b'R#'))",
        ),
    ],
    ids=["garbled", "bad CRC", "not gzip"],
)
def test_a_broken_gzip_log_is_named_with_what_is_wrong(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    from irs_grammar.lines import LogReadError

    log = tmp_path / name
    log.write_bytes(data)
    with pytest.raises(LogReadError) as failed:
        list(irs.validate(log))
    assert (failed.value.path, failed.value.reason) == (str(log), reason)


def test_a_directory_and_errors_without_words_are_named_too(tmp_path: Path) -> None:
    from irs_grammar.lines import LogReadError, read_error

    with pytest.raises(LogReadError) as failed:
        list(irs.validate(tmp_path))
    assert (failed.value.path, failed.value.reason) == (str(tmp_path), "is a directory")
    # An error without an OS reason says what it says, or its type when it says nothing.
    shown = [
        (e.path, e.reason) for e in (read_error("a.log", OSError("boom")), read_error("a.log", ValueError()))
    ]
    assert shown == [("a.log", "boom"), ("a.log", "ValueError")]
    assert read_error("a.log", ValueError("odd")).reason == "odd"


def test_a_prefixed_line_is_refused_as_its_reply_would_be_at_the_column_of_the_whole_line() -> None:
    prefix = "2024-11-12 app: "
    for reply in ("R#PLN20. PRICE: 20546x. @12:00:00.000000 01/01/2025", "R#7 DN1. 0811 SUCCESS. TRXID: @1"):
        with pytest.raises(irs.ParseError) as alone:
            irs.parse_reply(reply)
        [result] = irs.validate([prefix + reply], extract=True)
        error = result.error
        assert error is not None
        shown = (error.message, error.column, error.expected, error.field, error.text, error.line)
        expected = alone.value
        assert shown == (
            expected.message,
            expected.column + len(prefix),
            expected.expected,
            expected.field,
            prefix + reply,
            1,
        )


def test_a_line_without_a_reply_mark_and_a_line_with_two_marks() -> None:
    [none] = irs.validate(["app: nothing here"], extract=True)
    assert none.error is not None
    no_mark = (none.error.message, none.error.column, none.error.expected, none.error.text, none.error.line)
    assert no_mark == ("no reply in this line (no 'R#')", 1, ('"R#"',), "app: nothing here", 1)
    # The reply starts at the first mark: what stands there is read, not a later reply.
    [two] = irs.validate(["x R#? then R#A. @12:00:00.000000 01/01/2025"], extract=True)
    assert two.error is not None
    assert two.error.column == 5  # the '?' after the first mark


def test_a_line_that_is_not_utf8_is_shown_with_replacement_characters_at_its_first_bad_byte() -> None:
    [result] = irs.validate([b"R#\xc3\xa9\xff. @12:00:00.000000 01/01/2025\n"])
    error = result.error
    assert error is not None
    shown = (error.message, error.column, error.expected, error.text, error.line)
    # é is one character: the bad byte is the fourth character of the line
    assert shown == (
        "not valid UTF-8 (byte 0xff)",
        4,
        ("UTF-8 text",),
        "R#\u00e9\ufffd. @12:00:00.000000 01/01/2025\n",
        1,
    )


def test_read_lines_keeps_a_line_of_exactly_the_limit_and_measures_longer_ones() -> None:
    from irs_grammar.lines import _BLOCK, Overlong, read_lines

    limit = 8
    data = (
        b"a" * limit
        + b"\n"  # at the limit: kept
        + b"b" * (limit + 1)
        + b"\n"  # one past it
        + b"c" * (2 * _BLOCK + 5)
        + b"\n"  # longer than two blocks: measured across them
        + b"d" * limit
        + b"\n"
        + b"e" * (_BLOCK + 3)  # an overlong last line without its \n
    )
    assert list(read_lines(io.BytesIO(data), "x.log", limit)) == [
        b"a" * limit + b"\n",
        Overlong(limit + 1),
        Overlong(2 * _BLOCK + 5),
        b"d" * limit + b"\n",
        Overlong(_BLOCK + 3),
    ]
    # A line of exactly the limit left unfinished at the end of a block, ended in the next one.
    split = b"x" * (_BLOCK - limit - 1) + b"\n" + b"f" * limit + b"\n"
    assert list(read_lines(io.BytesIO(split), "x.log", limit)) == [
        Overlong(_BLOCK - limit - 1),
        b"f" * limit + b"\n",
    ]


@pytest.mark.parametrize(
    ("text", "blank"),
    [
        (" \t\n", True),
        ("  \r\n", True),  # a CRLF line break is the line's, spaces before it or not
        ("\r\n", True),
        ("  ", True),  # a last line without its break
        ("  \r", False),  # a lone \r is no line break: text, so an invalid line
        ("\r", False),
        ("\r\r\n", False),
        ("x\r\n", False),
        ("X\n", False),
    ],
)
def test_blank_is_spaces_and_tabs_before_a_line_break(text: str, blank: bool) -> None:
    from irs_grammar.lines import is_blank

    assert is_blank(text) is blank


def test_standard_input_without_peek_is_read_and_left_open(monkeypatch: pytest.MonkeyPatch) -> None:
    from irs_grammar.lines import open_log, read_lines

    # A host may hand over standard input as a plain byte stream that cannot peek.
    buffer = io.BytesIO(b"R#A. @12:00:00.000000 01/01/2025\nx")
    monkeypatch.setattr("sys.stdin", SimpleNamespace(buffer=buffer))
    with open_log("-") as stream:
        assert list(read_lines(stream, "-")) == [b"R#A. @12:00:00.000000 01/01/2025\n", b"x"]
    assert not buffer.closed  # the caller's, not the log reader's to close


@pytest.mark.parametrize("name", ["plain.log", "packed.log.gz"])
def test_a_log_file_is_closed_when_its_block_ends(tmp_path: Path, name: str) -> None:
    from irs_grammar.lines import open_log

    path = tmp_path / name
    data = b"R#A. @12:00:00.000000 01/01/2025\n"
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with open_log(str(path)) as stream:
        assert stream.read() == data
    assert stream.closed


def test_the_pools_pipes_hold_a_mebibyte_where_the_system_lets_them() -> None:
    # A batch's result (JSON text, an Arrow table) crosses in 1 MiB reads, not Linux's 64 KiB ones
    # (the suite runs on Linux, whose F_SETPIPE_SZ this is).
    import fcntl

    from irs_grammar import batches

    pool = batches._pool(1)
    try:
        ends = (pool._inqueue._writer, pool._outqueue._reader)
        assert [fcntl.fcntl(end.fileno(), fcntl.F_GETPIPE_SZ) for end in ends] == [1 << 20] * 2
    finally:
        pool.terminate()
        pool.join()
    # a pool without those pipes, or a system that refuses (here: a closed pipe), is left as it is
    batches._deepen_pipes(SimpleNamespace())
    closed = SimpleNamespace(fileno=lambda: -1)
    batches._deepen_pipes(SimpleNamespace(_inqueue=SimpleNamespace(_writer=closed), _outqueue=None))


def test_jobs_in_a_process_with_threads_fork_nothing_and_report_the_same(tmp_path: Path) -> None:
    # pyarrow (as DuckDB, a server) starts native threads: a forked copy of this process could
    # deadlock, and 3.12 warns of it. The workers then start from a fork server instead.
    import multiprocessing
    import warnings

    import pyarrow as pa
    import pyarrow.compute as pc

    from irs_grammar.batches import PARALLEL_FROM_BYTES, start_method, threads
    from irs_grammar.validation import check_log

    assert start_method(["fork", "spawn", "forkserver"]) == ("fork" if threads() == 1 else "forkserver")
    pc.sum(pa.array(range(100_000)))  # pyarrow's thread pool is running
    assert threads() > 1
    assert start_method(multiprocessing.get_all_start_methods()) == "forkserver"
    assert start_method(["spawn"]) is None  # the platform's own default
    log = tmp_path / "big.log"
    lines = [c["line"] for c in load("inquiry/documented.jsonl")] + ["R#A. @12:00:00 01/01/2025"]
    with open(log, "w", encoding="utf-8") as out:
        while out.tell() < PARALLEL_FROM_BYTES + 100_000:
            out.write("\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning of a fork with threads (3.12, 3.13)
        two = list(check_log(str(log), jobs=2))
    one = list(check_log(str(log), jobs=1))
    assert [b.summary.to_dict() for b in two] == [b.summary.to_dict() for b in one]
    assert [b.errors for b in two] == [b.errors for b in one]
    assert sum(b.summary.invalid for b in two) > 100


def _pid_of(batch: list[bytes], first: int) -> int:
    """The process that worked on a batch (module level: a worker process imports it)."""
    return os.getpid()


def test_jobs_2_works_in_other_processes_and_jobs_1_in_this_one(tmp_path: Path) -> None:
    from irs_grammar.batches import in_order

    log = tmp_path / "big.log"
    log.write_bytes(b"R#A. @12:00:00.000000 01/01/2025\n" * (PARALLEL_FROM_BYTES // 33 + 40_000))
    assert set(in_order(str(log), _pid_of, (), jobs=1)) == {os.getpid()}
    workers = set(in_order(str(log), _pid_of, (), jobs=2))
    assert os.getpid() not in workers
    assert 1 <= len(workers) <= 2


def _pandas_refused_here(batch: list[bytes], first: int) -> bool:
    """Whether the process that worked on a batch refuses pandas (module level: a worker imports it)."""
    from irs_grammar.arrow_process import PandasRefused

    return PandasRefused in sys.meta_path


def test_each_worker_runs_the_setup_it_is_given_as_it_starts(tmp_path: Path) -> None:
    from irs_grammar.arrow_process import worker_without_pandas
    from irs_grammar.batches import in_order

    log = tmp_path / "big.log"
    log.write_bytes(b"R#A. @12:00:00.000000 01/01/2025\n" * (PARALLEL_FROM_BYTES // 33 + 40_000))
    told = list(in_order(str(log), _pandas_refused_here, (), jobs=2, worker_setup=worker_without_pandas))
    assert len(told) > 1
    assert all(told)
    assert not any(in_order(str(log), _pandas_refused_here, (), jobs=2))  # no setup: as they were


class _InProcessPool:
    """A pool that does each task here, at once (what the main process's thread sees meanwhile)."""

    def __init__(self, jobs: int, worker_setup: Any = None) -> None:
        self.jobs = jobs

    def apply_async(self, work: Any, args: tuple[Any, ...]) -> Any:
        result = work(*args)
        return SimpleNamespace(get=lambda: result)

    def close(self) -> None:
        pass

    def terminate(self) -> None:
        pass

    def join(self) -> None:
        pass


def _interval_now(*_: object) -> float:
    return sys.getswitchinterval()


@pytest.mark.parametrize("fails", [False, True])
def test_results_come_back_with_the_gil_handed_over_often_then_as_it_was(
    monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    # A big result (an Arrow table, JSON text) is read off its pipe by the pool's thread, which
    # needs the GIL after every 64 KiB: the main thread hands it over every 0.5 ms meanwhile.
    from irs_grammar import batches

    monkeypatch.setattr(batches, "_pool", _InProcessPool)
    before = sys.getswitchinterval()
    line: list[bytes | Overlong] = [b"x\n"]
    pools: list[Callable[[], Iterator[float]]] = [
        lambda: batches._in_workers(iter([(1, line, 1, 2), (2, line, 1, 2)]), _interval_now, (), 2),
        lambda: batches.each_in_workers(_interval_now, [1, 2, 3, 4, 5, 6], (), 2),
    ]
    for results in pools:
        seen = []
        with contextlib.suppress(ZeroDivisionError):
            for interval in results():
                seen.append(interval)
                if fails:
                    1 / 0  # noqa: B018  the consumer fails with the pool running
        assert seen == ([0.0005] if fails else [0.0005] * len(seen))
        assert seen
        assert sys.getswitchinterval() == before
