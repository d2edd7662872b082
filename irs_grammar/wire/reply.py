"""What every kind of reply shares: the names on both wires, the lazy build, the dict helpers.

`fields` is the truth of every reply: each wire key and raw value, in wire
order. The typed attributes of each kind are views of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Self

from .grammar import timestamp_re
from .timestamp import TimestampError, read_timestamp

# Names both kinds share: the product code, the timestamp (in to_dict()) and REASON (on the wire).
PRODUCT_CODE = "PRODUCT_CODE"
CURRENT_TIMESTAMP = "CURRENT_TIMESTAMP"
REASON = "REASON"

# PRICE and every balance amount have at most 18 digits on the wire (the
# grammar says so): what a signed 64-bit integer, and so DuckDB, Parquet and
# pandas, can hold.
MAX_DIGITS = 18
MAX_AMOUNT = 10**MAX_DIGITS - 1

# Klikoo appends its own error code to the reason ("... Err:5110").
_ERROR_CODE = re.compile(r"Err:([0-9]+)")


class FieldLookup:
    """What every kind of reply reads from its `fields` (wire key, raw value) pairs."""

    __slots__ = ()
    fields: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        """The raw value of the first field with this wire key, or None."""
        for k, v in self.fields:
            if k == key:
                return v
        return None

    @property
    def reason(self) -> str | None:
        """REASON, present only when the inquiry or the transaction failed."""
        return self.get(REASON)


class Unread:
    """What a reply the fast path matched, but has not built yet, holds: `_wire`.

    `_wire` is (fill, parts): `fill(reply, *parts)` sets every field still
    unset, on the first access to one of them. Until then a log check that
    reads only what was set at once pays for nothing more. Nothing else can
    tell the difference: equality, hashing, repr, pickling and to_dict read
    the attributes like any caller. `_wire` is None on a reply built any
    other way.
    """

    __slots__ = ("_wire",)
    _wire: tuple[Callable[..., None], tuple[Any, ...]] | None

    @classmethod
    def unread(cls, fill: Callable[..., None], parts: tuple[Any, ...]) -> Self:
        reply = object.__new__(cls)
        object.__setattr__(reply, "_wire", (fill, parts))
        return reply

    if not TYPE_CHECKING:  # kept from mypy: it would make every attribute name look valid

        def __getattr__(self, name: str) -> Any:
            # Reached only when a slot is unset: a field unread() left for later,
            # or _wire on a reply rebuilt by pickle or copy (which set the fields).
            if name == "_wire":
                return None
            wire = object.__getattribute__(self, "_wire")
            if wire is None or name not in self.__dataclass_fields__:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            fill, parts = wire
            fill(self, *parts)
            return object.__getattribute__(self, name)


def error_code_of(reason: str) -> str | None:
    """The digits of the last `Err:NNNN` in a reason, or None."""
    codes = _ERROR_CODE.findall(reason)
    return codes[-1] if codes else None


def is_pair(item: object) -> bool:
    return type(item) is tuple and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], str)


def pairs(fields: Iterable[object]) -> tuple[tuple[str, str], ...]:
    """`fields` as a tuple of (key, value) string pairs, or TypeError."""
    out: list[tuple[str, str]] = []
    for item in fields:
        if isinstance(item, str) or not isinstance(item, Iterable):
            raise TypeError(f"each field must be a (key, value) pair, not {item!r}")
        pair = tuple(item)
        if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
            raise TypeError(f"each field must be a (key, value) pair of str, not {item!r}")
        out.append((pair[0], pair[1]))
    return tuple(out)


def moment_of_dict(data: Mapping[str, str], required: Iterable[str], tz: tzinfo | None) -> datetime:
    """Check a to_dict()-shaped mapping (required names present, every value a str)
    and read its CURRENT_TIMESTAMP; errors name the key."""
    for name in (*required, CURRENT_TIMESTAMP):
        if name not in data:
            raise ValueError(f"{name}: missing")
    for name, value in data.items():
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    raw_time = data[CURRENT_TIMESTAMP]
    match = timestamp_re().fullmatch(raw_time)
    if not match:
        raise ValueError(f"{CURRENT_TIMESTAMP}: {raw_time!r} is not 'HH:MM:SS.ffffff DD/MM/YYYY'")
    try:
        return read_timestamp(match[1], match[2], tz)
    except TimestampError as e:
        raise ValueError(f"{CURRENT_TIMESTAMP}: {e.message}") from None


def name_fields(
    out: dict[str, str], fields: Iterable[tuple[str, str]], names: Mapping[str, str], reserved: frozenset[str]
) -> None:
    """Add each field to `out` under its name, or raise ValueError where a dict would lose or mix one up."""
    for key, value in fields:
        if key in reserved:
            raise ValueError(
                f"{key}: a field key spelled like one of to_dict()'s own names; a dict would mix them up"
            )
        name = names.get(key, key)
        if name in out:
            raise ValueError(f"{key}: repeated in the reply; a dict holds one value per name")
        out[name] = value
