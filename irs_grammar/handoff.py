"""A worker's big result handed to the command in a file in memory, not through the pool's pipe.

A batch's result, 3 MB of JSON text, an Arrow table or reconcile's rows,
crossing the pool's pipe is copied four times (pickled; written; read 1 MiB
at a time by the pool's result thread, which waits for the GIL after each
read; unpickled). Here the worker writes the result's pickle (protocol 5:
the big buffers out of band, an Arrow table's own and a NamedTuple's bytes
fields, given as such) to a file on the machine's memory file system
(/dev/shm), and the pipe carries the file's name. The command maps the file
and unlinks it at once: an Arrow table is read where it lies, text and rows
are copied out once.

Where there is no such directory, the result goes through the pipe as
before. A small result, or one whose file cannot be written (a small
/dev/shm, as in a container: 64 MiB), goes through the pipe as the pickle
the worker made (not pickled twice). The directory is private (mode 0700)
and removed with everything in it when the workers are done.
"""

from __future__ import annotations

import mmap
import os
import pickle
import shutil
import tempfile
from typing import Any, NamedTuple

# The memory file system where Linux has one; elsewhere results take the pipe.
MEMORY_DIRECTORY = "/dev/shm"
# A result whose pickle (in band and out) comes to less goes through the pipe: the file costs more
# than it saves.
HANDOFF_FROM_BYTES = 256 << 10
# A bytes field of a NamedTuple result from this size is handed over out of band.
_BIG_BYTES = 64 << 10


class InFile(NamedTuple):
    """A result in a file: its pickle's in-band part, then its out-of-band buffers, one after the
    other."""

    path: str
    head: int  # bytes of the in-band pickle at the file's start
    buffers: tuple[int, ...]  # the size of each out-of-band buffer after it, in order


class InPipe(NamedTuple):
    """A result too small for a file, as the worker pickled it (the pool sends these bytes as they
    are: the result is not pickled twice)."""

    head: bytes
    buffers: tuple[bytes, ...]


def shelf() -> str | None:
    """A new private directory for one run's results, in memory; None: results take the pipe."""
    if not os.path.isdir(MEMORY_DIRECTORY):
        return None
    try:
        return tempfile.mkdtemp(prefix="irs-grammar-", dir=MEMORY_DIRECTORY)
    except OSError:
        return None


def clear(directory: str | None) -> None:
    """The run's directory and what no one took from it (the results of a run stopped early)."""
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def packed(result: Any, directory: str | None) -> Any:
    """In a worker: the result as an InFile in `directory`, or as an InPipe when its pickle comes
    to less than HANDOFF_FROM_BYTES or the file cannot be written; the result itself without a
    directory."""
    if directory is None:
        return result
    shown = result
    if _is_named_tuple(result):  # its big bytes fields (text) out of band too
        shown = result._replace(
            **{
                field: pickle.PickleBuffer(value)
                for field, value in result._asdict().items()
                if type(value) is bytes and len(value) >= _BIG_BYTES
            }
        )
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(shown, protocol=5, buffer_callback=buffers.append)
    views = [buffer.raw() for buffer in buffers]
    if len(head) + sum(view.nbytes for view in views) >= HANDOFF_FROM_BYTES:
        try:
            return _written(head, views, directory)
        except OSError:  # the memory file system is full (or gone with a run stopping): the pipe
            pass
    return InPipe(head, tuple(view.tobytes() for view in views))


def _written(head: bytes, views: list[memoryview], directory: str) -> InFile:
    """The pickle's parts in a new file of `directory`; none left behind when it cannot be written."""
    descriptor, path = tempfile.mkstemp(dir=directory)
    try:
        with open(descriptor, "wb") as file:
            file.write(head)
            for view in views:
                file.write(view)
    except BaseException:
        os.unlink(path)
        raise
    return InFile(path, len(head), tuple(view.nbytes for view in views))


def unpacked(handed: Any) -> Any:
    """In the command: the result a worker handed over (packed()), its file mapped and gone."""
    if type(handed) is InPipe:
        return _restored(pickle.loads(handed.head, buffers=handed.buffers))
    if type(handed) is not InFile:
        return handed
    with open(handed.path, "rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    os.unlink(handed.path)  # the mapping stays until the last buffer read from it is dropped
    whole = memoryview(mapped)
    buffers, at = [], handed.head
    for size in handed.buffers:
        buffers.append(whole[at : at + size])
        at += size
    return _restored(pickle.loads(whole[: handed.head], buffers=buffers))


def _restored(result: Any) -> Any:
    """A NamedTuple's bytes fields as bytes: they come back as views of the mapping (no memoryview
    pickles otherwise)."""
    if _is_named_tuple(result):
        views = {field: value for field, value in result._asdict().items() if type(value) is memoryview}
        return result._replace(**{field: bytes(view) for field, view in views.items()})
    return result


def _is_named_tuple(value: object) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")
