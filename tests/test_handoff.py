"""A worker's big result handed over in a file in memory (irs_grammar.handoff), alone and under --jobs."""

from __future__ import annotations

import os
import pickle
import stat
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any, NamedTuple, cast

import pytest

from irs_grammar import batches, handoff
from irs_grammar.handoff import HANDOFF_FROM_BYTES, InFile, InPipe, clear, packed, shelf, unpacked
from irs_grammar.jsonlines import Options, ParsedBatch, parse_batch

BIG = 64 << 10  # a bytes field from this size goes out of band (handoff._BIG_BYTES)


class Five(NamedTuple):
    a: bytes
    b: bytes
    c: bytes
    d: bytes
    e: Any = None


def test_text_comes_back_as_the_same_bytes_and_its_file_is_gone(tmp_path: Path) -> None:
    text = b"".join(b'{"line": %d}\n' % n for n in range(30_000))  # 400 KB of JSON Lines
    result = ParsedBatch(text, [(3, 7, "expected a product code")], 30_001)
    handed = packed(result, str(tmp_path))
    assert type(handed) is InFile
    assert os.listdir(tmp_path) == [Path(handed.path).name]
    assert len(handed.buffers) == 1
    assert handed.buffers[0] == len(text)
    taken = unpacked(handed)
    assert taken == result
    assert type(taken) is ParsedBatch
    assert type(taken.data) is bytes
    assert os.listdir(tmp_path) == []  # unlinked as soon as it is mapped


def test_an_arrow_table_is_read_where_it_lies(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"CUSTOMER_NAME": ["BAHARRUDIN"] * 40_000, "line": list(range(40_000))})
    result: tuple[Any, list[Any], int] = (table, [], 40_000)
    handed = packed(result, str(tmp_path))
    assert type(handed) is InFile
    taken_table, errors, lines = unpacked(handed)
    assert taken_table.equals(table)
    assert (errors, lines) == ([], 40_000)
    # Its columns are in the file's mapping (Linux names a mapped file unlinked "(deleted)").
    start, end = mapped_at(handed.path)
    names = taken_table.column("CUSTOMER_NAME").chunks[0].buffers()[2]
    assert start <= names.address
    assert names.address + names.size <= end
    assert os.listdir(tmp_path) == []


def mapped_at(path: str) -> tuple[int, int]:
    for line in Path("/proc/self/maps").read_text().splitlines():
        if line.endswith(f" {path} (deleted)"):
            start, end = line.split()[0].split("-")
            return int(start, 16), int(end, 16)
    raise AssertionError(f"{path} is not mapped")


def test_a_small_result_takes_the_pipe_pickled_once(tmp_path: Path) -> None:
    small = ParsedBatch(b"x" * 100_000, [(1, 1, "expected")], 1)
    handed = packed(small, str(tmp_path))
    assert type(handed) is InPipe
    assert handed.buffers == (small.data,)  # out of band, but too little for a file
    taken = unpacked(handed)
    assert taken == small
    assert type(taken.data) is bytes
    summary = {"valid": 10, "by product": {"PLN20": 10}}  # validate's kind of result
    handed = packed(summary, str(tmp_path))
    assert type(handed) is InPipe
    assert handed.buffers == ()
    assert unpacked(handed) == summary
    assert os.listdir(tmp_path) == []
    assert packed(summary, None) is summary  # no memory file system: the pool pickles it
    assert unpacked(summary) is summary


def test_the_handoff_starts_at_its_size_in_band_and_out(tmp_path: Path) -> None:
    # The pickle's in-band part is the same for any text out of band: make the whole come to the size.
    text = ParsedBatch(pickle.PickleBuffer(b"x" * BIG), [], 1)  # type: ignore[arg-type]
    found: list[pickle.PickleBuffer] = []
    head = len(pickle.dumps(text, 5, buffer_callback=found.append))
    under = ParsedBatch(b"x" * (HANDOFF_FROM_BYTES - head - 1), [], 1)
    handed = packed(under, str(tmp_path))
    assert type(handed) is InPipe
    assert (len(handed.head), len(handed.buffers[0])) == (head, HANDOFF_FROM_BYTES - head - 1)
    exactly = ParsedBatch(b"x" * (HANDOFF_FROM_BYTES - head), [], 1)
    handed = packed(exactly, str(tmp_path))
    assert type(handed) is InFile
    assert (handed.head, handed.buffers) == (head, (HANDOFF_FROM_BYTES - head,))
    assert unpacked(handed) == exactly
    # A field below the out-of-band size stays in the pickle's in-band part (reconcile's rows are
    # all there): the whole still goes through a file.
    inside = Five(*[letter * (BIG - 1) for letter in (b"a", b"b", b"c", b"d", b"e")])
    handed = packed(inside, str(tmp_path))
    assert type(handed) is InFile
    assert handed.buffers == ()
    assert handed.head > 5 * (BIG - 1)
    assert unpacked(handed) == inside
    at = Five(*[b"z" * BIG] * 4)
    handed = packed(at, str(tmp_path))
    assert type(handed) is InFile
    assert handed.buffers == (BIG,) * 4
    assert unpacked(handed) == at


def test_without_room_the_result_takes_the_pipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = ParsedBatch(b"x" * HANDOFF_FROM_BYTES, [], 1)
    assert packed(result, None) is result  # no memory file system
    handed = packed(result, str(tmp_path / "gone"))  # the run's directory already cleared
    assert type(handed) is InPipe
    assert unpacked(handed) == result

    def unwritable(dir: str) -> tuple[int, str]:  # a full file system: the write fails
        path = Path(dir) / "half"
        path.touch()
        return os.open(os.devnull, os.O_RDONLY), str(path)

    monkeypatch.setattr(tempfile, "mkstemp", unwritable)
    handed = packed(result, str(tmp_path))
    assert type(handed) is InPipe
    assert unpacked(handed) == result
    assert os.listdir(tmp_path) == []  # the half-written file is removed


def test_a_run_has_a_private_directory_cleared_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handoff, "MEMORY_DIRECTORY", str(tmp_path))
    directory = shelf()
    assert directory is not None
    assert Path(directory).parent == tmp_path
    assert Path(directory).name.startswith("irs-grammar-")
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    packed(ParsedBatch(b"x" * HANDOFF_FROM_BYTES, [], 1), directory)  # a result no one took
    clear(directory)
    assert os.listdir(tmp_path) == []
    clear(None)
    monkeypatch.setattr(handoff, "MEMORY_DIRECTORY", str(tmp_path / "none"))
    assert shelf() is None  # no memory file system here: the pipe


def big_log(tmp_path: Path, replies: int = 60_000, refused: bytes = b"R#PLN20. PRICE: x\n") -> Path:
    log = tmp_path / "big.log"
    line = b"R#PLN20. PRICE: 20546. CUSTNUM: 01105691111. CUSTNAME: BAHARRUDIN. @12:32:55.821005 12/11/2024\n"
    log.write_bytes(line * replies + refused)  # 60,000: 5.6 MB, worked on in the workers
    return log


def handed_kinds(monkeypatch: pytest.MonkeyPatch, directory: Path) -> list[str]:
    """Runs' directories made in `directory`; the kind of each result the command takes, as it comes."""
    monkeypatch.setattr(handoff, "MEMORY_DIRECTORY", str(directory))
    seen: list[str] = []

    def counted(handed: Any) -> Any:
        seen.append(type(handed).__name__)
        return unpacked(handed)

    monkeypatch.setattr(batches, "unpacked", counted)
    return seen


@pytest.mark.parametrize("stop_early", [False, True])
def test_under_jobs_the_results_come_through_files_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_early: bool
) -> None:
    shm = tmp_path / "shm"
    shm.mkdir()
    seen = handed_kinds(monkeypatch, shm)
    log = big_log(tmp_path)
    options = Options("big.log", None, False, False)
    alone = list(batches.in_order(str(log), parse_batch, (options,), jobs=1, batch_lines=5_000))
    results = cast(
        Generator[ParsedBatch, None, None],
        batches.in_order(str(log), parse_batch, (options,), jobs=2, batch_lines=5_000),
    )
    if stop_early:
        assert next(results) == alone[0]
        results.close()  # the command stops with results in flight: their files go with the directory
    else:
        assert list(results) == alone
        assert seen == ["InFile"] * (len(alone) - 1) + ["InPipe"]  # the last batch: one line
    assert os.listdir(shm) == []


def text_of(item: int) -> ParsedBatch:
    return ParsedBatch(b"%d\n" % item * (100_000 * item), [], item)  # 200 KB, then 400 KB and more


@pytest.mark.parametrize("stop_early", [False, True])
def test_each_item_on_workers_comes_back_through_files_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_early: bool
) -> None:
    seen = handed_kinds(monkeypatch, tmp_path)
    items = [1, 2, 3, 4, 5, 6, 7]
    results = cast(Generator[ParsedBatch, None, None], batches.each_in_workers(text_of, items, (), 2))
    if stop_early:
        assert next(results) == text_of(1)
        results.close()
    else:
        assert list(results) == [text_of(item) for item in items]
        assert seen == ["InPipe"] + ["InFile"] * 6  # 200 KB: under the handoff's 256 KiB
    assert os.listdir(tmp_path) == []


def test_parquet_under_jobs_writes_the_tables_it_was_handed_in_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command writes each row group from an Arrow table that lies in a file's mapping.
    pq = pytest.importorskip("pyarrow.parquet")
    from irs_grammar import cli

    shm = tmp_path / "shm"
    shm.mkdir()
    seen = handed_kinds(monkeypatch, shm)
    monkeypatch.setattr(batches, "PARALLEL_FROM_BYTES", 0)  # a 2 MB log goes to the workers too
    monkeypatch.setattr(cli, "usable_cores", lambda: 2)  # --jobs 2 is not cut to this box's cores
    log = big_log(tmp_path, 20_500, b"")  # three row groups
    for jobs in ("1", "2"):
        assert (
            cli.main(
                ["parse", "--format", "parquet", "--jobs", jobs, "-o", str(tmp_path / f"{jobs}.pq"), str(log)]
            )
            == 0
        )
    assert seen == ["InFile", "InFile", "InPipe"]  # 10,000 rows, 10,000, then 500 (under 256 KiB)
    one, two = pq.read_table(tmp_path / "1.pq"), pq.read_table(tmp_path / "2.pq")
    assert two.num_rows == 20_500
    assert two.equals(one)
    assert os.listdir(shm) == []
