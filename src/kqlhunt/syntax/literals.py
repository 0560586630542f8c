"""Text <-> value for Kusto's datetime, timespan and guid literals (parsing and Kusto's printing).

Timespans are integers of 100-ns ticks throughout kqlhunt; datetimes are naive UTC `datetime`s
(microsecond precision: the storage engines keep microseconds).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from kqlhunt.syntax.lexer import TICKS_PER

TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 864_000_000_000

_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_TIMESPAN_CLOCK = re.compile(r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$")
_TIMESPAN_UNIT = re.compile(r"^(-)?(\d+(?:\.\d+)?)\s*([A-Za-z]+)?$")


class SubMicrosecond(ValueError):
    """A datetime finer than kqlhunt's microsecond storage: refused rather than rounded."""


def parse_datetime_text(text: str) -> datetime:
    """Kusto datetime literal text -> naive UTC datetime. Raises ValueError."""
    s = text.strip().strip("'\"")
    m = _ISO.match(s)
    if m:
        year, month, day, hour, minute, second, frac, tz = m.groups()
        if frac and len(frac) == 7 and frac[6] != "0":
            raise SubMicrosecond("kqlhunt keeps datetimes to the microsecond; this literal has 100-ns ticks")
        micro = int((frac or "0").ljust(7, "0")[:6])
        value = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                         int(second or 0), micro)
        if tz and tz != "Z":
            sign = 1 if tz[0] == "+" else -1
            digits = tz[1:].replace(":", "")
            value -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return value
    m = _SLASHED.match(s)
    if m:
        year, month, day, hour, minute, second = m.groups()
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    try:  # RFC 822 / RFC 850 forms such as 'Sat, 8 Nov 14 15:05:02 GMT'
        value = parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        raise ValueError("not a recognised date/time format") from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def parse_timespan_text(text: str) -> int:
    """Kusto timespan literal text (`1.02:03:04.5`, `10:30`, `2d`, `1.5h`) -> ticks. Raises ValueError."""
    s = text.strip().strip("'\"")
    m = _TIMESPAN_CLOCK.match(s)
    if m:
        neg, days, hours, minutes, seconds, frac = m.groups()
        ticks = (((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + int(seconds or 0)) \
            * TICKS_PER_SECOND + int((frac or "0").ljust(7, "0"))
        return -ticks if neg else ticks
    m = _TIMESPAN_UNIT.match(s)
    if m:
        neg, number, unit = m.groups()
        per = TICKS_PER.get((unit or "d").lower())
        if per is None:
            raise ValueError(f"unknown unit {unit!r}")
        ticks = round(float(number) * per)
        return -ticks if neg else ticks
    raise ValueError("not a recognised timespan format")


def parse_guid_text(text: str) -> str:
    return str(uuid.UUID(text.strip().strip("'\"")))


def format_timespan(ticks: int) -> str:
    """Kusto's printing of a timespan: `[-][d.]hh:mm:ss[.fffffff]` (fraction always 7 digits)."""
    sign = "-" if ticks < 0 else ""
    ticks = abs(ticks)
    days, rem = divmod(ticks, TICKS_PER_DAY)
    seconds, frac = divmod(rem, TICKS_PER_SECOND)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    out = f"{sign}{days}." if days else sign
    out += f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if frac:
        out += f".{frac:07d}"
    return out


def format_datetime(value: datetime) -> str:
    """Kusto's printing of a datetime: ISO 8601 UTC, `Z`, 7 fractional digits when not whole seconds."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    out = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        out += f".{value.microsecond:06d}0"
    return out + "Z"
