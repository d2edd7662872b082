"""The reply timestamp, `HH:MM:SS.ffffff DD/MM/YYYY`: reading and writing it.

The grammar fixes its shape (ASCII digits in fixed places); this module checks
what a grammar cannot: that it names a real moment.
"""

from __future__ import annotations

import calendar
from datetime import datetime, tzinfo

# Offsets of each part inside "HH:MM:SS.ffffff DD/MM/YYYY".
_HOUR, _MINUTE, _SECOND, _DAY, _MONTH, _YEAR = 0, 3, 6, 16, 19, 22


class TimestampError(ValueError):
    """A timestamp of the right shape that names no real moment."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset  # where the bad part starts, in "TIME DATE"
        self.message = message


def read_timestamp(time: str, date: str, tz: tzinfo | None = None) -> datetime:
    """The moment named by a grammar-checked TIME and DATE.

    The caller guarantees the shape (the grammar's TIME and DATE terminals),
    so every part is ASCII digits. Raises TimestampError naming the bad part.
    """
    hour, minute, second = int(time[0:2]), int(time[3:5]), int(time[6:8])
    microsecond = int(time[9:15])
    day, month, year = int(date[0:2]), int(date[3:5]), int(date[6:10])
    if hour > 23:
        raise TimestampError(_HOUR, f"hour {time[0:2]} is not 00 to 23")
    if minute > 59:
        raise TimestampError(_MINUTE, f"minute {time[3:5]} is not 00 to 59")
    if second > 59:
        raise TimestampError(_SECOND, f"second {time[6:8]} is not 00 to 59")
    if year < 1:
        raise TimestampError(_YEAR, "year 0000 does not exist")
    if not 1 <= month <= 12:
        raise TimestampError(_MONTH, f"month {date[3:5]} is not 01 to 12")
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise TimestampError(_DAY, f"day {date[0:2]} does not exist in {date[3:10]}")
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=tz)


# Each DD/MM/YYYY seen, as the ISO date it names ("2024-11-29T"), or "" when it
# names no real day: a log holds few dates, so each is checked once. Bounded:
# cleared when full.
ISO_DATES: dict[str, str] = {}
ISO_DATES_MAX = 4096


def iso_date(date: str) -> str:
    """`29/11/2024` -> `2024-11-29T`, or "" when the date names no real day (checked once a date)."""
    iso = ISO_DATES.get(date)
    if iso is None:
        day, month, year = int(date[0:2]), int(date[3:5]), int(date[6:10])
        real = year >= 1 and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
        iso = f"{date[6:10]}-{date[3:5]}-{date[0:2]}T" if real else ""
        if len(ISO_DATES) >= ISO_DATES_MAX:
            ISO_DATES.clear()
        ISO_DATES[date] = iso
    return iso


def is_real_moment(time: str, date: str) -> bool:
    """Whether a grammar-checked TIME and DATE name a real moment, without building it.

    The parts are ASCII digits in fixed places, so the time is checked by
    comparing text ("23" is the last hour) and the date by the calendar, once
    per distinct date. It relies on nothing that differs between Pythons
    (3.14's fromisoformat takes hour 24; this never asks it).
    """
    if time[0:2] > "23" or time[3] > "5" or time[6] > "5":  # minutes and seconds: 00 to 59
        return False
    return bool(iso_date(date))


def iso_moment(time: str, date: str) -> str:
    """`2024-11-29T10:54:14.776182` of a grammar-checked TIME and DATE that name a real moment, else "".

    is_real_moment()'s checks, with the date looked up once (reconcile reads every line through it)."""
    day = ISO_DATES.get(date)
    if day is None:
        day = iso_date(date)
    if not day or time[0:2] > "23" or time[3] > "5" or time[6] > "5":
        return ""
    return day + time


def moment(time: str, date: str, tz: tzinfo | None) -> datetime:
    """The datetime of a TIME and DATE that is_real_moment() has accepted."""
    when = datetime.fromisoformat(iso_date(date) + time)  # both checked: ISO order is all it takes
    return when if tz is None else when.replace(tzinfo=tz)


def format_timestamp(moment: datetime) -> str:
    """`HH:MM:SS.ffffff DD/MM/YYYY`, every part zero-padded (years below 1000 too).

    The wall-clock time is written as it is; a zone, if any, is not on the wire.
    """
    # isoformat pads every part, the year to four digits; a zone suffix is cut off.
    iso = moment.isoformat(timespec="microseconds")
    return f"{iso[11:26]} {iso[8:10]}/{iso[5:7]}/{iso[:4]}"
