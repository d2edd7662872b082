"""What kind of file a path names, in words: where a tool refuses to write anything but a regular file
(parse -o, a reconciliation state, the fake's reply log)."""

from __future__ import annotations

import stat

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),  # seen only by lstat
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def not_regular(mode: int) -> str | None:
    """`a FIFO`, `a directory`, ... for a file that is not regular (from os.stat or os.lstat), else None.

    >>> import os
    >>> not_regular(os.stat("/").st_mode), not_regular(os.stat(__file__).st_mode)
    ('a directory', None)
    """
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")
