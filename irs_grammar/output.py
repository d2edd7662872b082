"""Writing an output file (`parse -o`) without ever leaving half a file, or touching what is not ours.

The file is written to a temporary file of its own (a unique name, in the
target's folder, so a rename is atomic) and renamed over the target only
when the caller says it is complete. Only a regular file is ever replaced: a
FIFO, a device, a socket, a directory or a symbolic link named as the target
is refused before anything is written. Nothing but that temporary file is
ever deleted. Every failure is an OutputError that names the user's path.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .files import not_regular


class OutputError(Exception):
    """An output that cannot be written: one line, naming the path the user gave."""


@dataclass
class Output:
    """Where to write (`temporary`), and whether what was written is complete (`complete`)."""

    temporary: str
    complete: bool = False


@contextmanager
def replacing(path: str) -> Iterator[Output]:
    """`with replacing(path) as out:` write `out.temporary`, set `out.complete`; it then becomes `path`.

    Raises OutputError (naming `path`) when `path` is not a regular file, its
    folder cannot take a file, or writing or renaming fails; the temporary
    file is removed whatever happens.
    """
    mode = _mode_for(path)
    folder, name = os.path.split(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=folder or ".")
    except OSError as error:
        raise OutputError(f"{path}: {error.strerror or error}") from None
    try:
        os.fchmod(handle, mode)
        os.close(handle)
        out = Output(temporary)
        yield out
        if out.complete:
            os.replace(temporary, path)
    except OSError as error:
        if error.filename not in (temporary, path, None):
            raise  # not the output's: an input's, say
        raise OutputError(f"{path}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def _mode_for(path: str) -> int:
    """The mode the output gets: the existing file's, else what the umask leaves of rw-rw-rw-.

    Raises OutputError when `path` exists and is not a regular file.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
    except OSError as error:
        raise OutputError(f"{path}: {error.strerror or error}") from None
    kind = not_regular(info.st_mode)
    if kind is not None:
        raise OutputError(f"{path}: is {kind}; -o writes a regular file only (and replaces one)")
    return stat.S_IMODE(info.st_mode)
