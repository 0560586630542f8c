"""Text <-> value for Kusto's datetime, timespan and guid literals (parsing and Kusto's printing).

Timespans are integers of 100-ns ticks throughout kqlhunt; datetimes are naive UTC `datetime`s
(microsecond precision: the storage engines keep microseconds). A datetime text with a non-zero
seventh fractional digit becomes a `TickDatetime`, which remembers its 100-ns remainder: the functions
that can use it exactly (datetime_part, datetime_diff, format_datetime on a constant) read `.ticks`;
everywhere else it refuses to be printed or shifted, so it is never silently rounded.

The same parsers serve the `datetime(...)` / `timespan(...)` literals and `todatetime()` /
`totimespan()` of strings at run time (a UDF calls them). Accepted datetime forms: ISO 8601
(`2014-05-25T08:20:03.123456Z`, offsets, a space for the T), RFC 822 and RFC 850 (`Sat, 8 Nov 14
15:05:02 GMT`, `Saturday, 08-Nov-14 15:05 GMT`), the sortable forms, and the .NET invariant-culture
forms the engine was measured to take (`12-02-2022` is month-day-year, `2/3/2022`, `12.02.2022`,
`2 Dec 2022`, `Dec 2, 2022`, `20221202`, `2025, 6, 14`). Text in none of these forms is no datetime
(`ValueError`: null at run time, a syntax error in a literal); a recognised form whose Kusto answer is
unknown (a weekday that contradicts the date, `25:00:00` as a timespan) raises `TextRefused`.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kqlhunt.syntax.lexer import TICKS_PER

TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 864_000_000_000
TICKS_PER_MICROSECOND = 10
MIN_DATETIME = datetime(1, 1, 1)
MAX_DATETIME = datetime(9999, 12, 31, 23, 59, 59, 999999)


class TextRefused(ValueError):
    """Text whose Kusto value kqlhunt cannot give exactly: refused (KH300) rather than guessed."""


SubMicrosecond = TextRefused  # the parser's name for it (datetimes used to be refused below 1 µs)


# ---------------------------------------------------------------- datetimes with 100-ns ticks


def _refuse_inexact(*_: Any) -> Any:
    from kqlhunt.diagnostics import unsupported

    raise unsupported("a datetime with 100-ns ticks in this position", None,
                      "kqlhunt stores microseconds; only datetime_part, datetime_diff and format_datetime "
                      "of a constant use the seventh fractional digit")


class TickDatetime(datetime):
    """A datetime whose value has 1-9 ticks (100 ns) beyond its microsecond, as Kusto keeps them.

    It compares exactly with other datetimes (constant folding of `==`, `<`). Arithmetic raises
    TypeError, so constant folding leaves such expressions alone; `strftime`, which is how values are
    printed into SQL and JSON, refuses: storage is microseconds and rounding would change answers.
    """

    extra_ticks: int

    def __new__(cls, *args: Any, extra_ticks: int = 0, **kwargs: Any) -> TickDatetime:
        self = super().__new__(cls, *args, **kwargs)
        self.extra_ticks = extra_ticks
        return self

    @classmethod
    def of(cls, base: datetime, extra_ticks: int) -> datetime:
        """`base` plus 0-9 ticks: a plain datetime when there are none."""
        if not extra_ticks:
            return base
        return cls(base.year, base.month, base.day, base.hour, base.minute, base.second, base.microsecond,
                   extra_ticks=extra_ticks)

    def truncated(self) -> datetime:
        """The value floored to the microsecond (what storage would hold)."""
        return datetime(self.year, self.month, self.day, self.hour, self.minute, self.second, self.microsecond)

    def _key(self) -> tuple[datetime, int]:
        return self.truncated(), self.extra_ticks

    def __reduce__(self) -> tuple[Any, ...]:
        return TickDatetime.of, (self.truncated(), self.extra_ticks)

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, datetime) and self._key() == _key(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __lt__(self, other: datetime) -> bool:
        return self._key() < _key(other)

    def __le__(self, other: datetime) -> bool:
        return self._key() <= _key(other)

    def __gt__(self, other: datetime) -> bool:
        return self._key() > _key(other)

    def __ge__(self, other: datetime) -> bool:
        return self._key() >= _key(other)

    def _no_arithmetic(self, other: object) -> Any:
        raise TypeError("arithmetic on a datetime with 100-ns ticks is left to the engine")

    __add__ = __radd__ = __sub__ = __rsub__ = _no_arithmetic
    strftime = _refuse_inexact  # type: ignore[assignment]


def _key(value: datetime) -> tuple[datetime, int]:
    if not isinstance(value, datetime):
        raise TypeError(f"cannot compare a datetime with {type(value).__name__}")
    return (value.truncated(), value.extra_ticks) if isinstance(value, TickDatetime) else (value, 0)


def extra_ticks(value: datetime) -> int:
    """The 100-ns ticks below the microsecond (0 for an ordinary datetime)."""
    return value.extra_ticks if isinstance(value, TickDatetime) else 0


def floor_micro(value: datetime) -> datetime:
    """The value at kqlhunt's storage precision (microseconds, floored)."""
    return value.truncated() if isinstance(value, TickDatetime) else value


def datetime_ticks(value: datetime) -> int:
    """Exact ticks since 0001-01-01 (Kusto's representation of a datetime)."""
    base = floor_micro(value)
    delta = base - MIN_DATETIME
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 10 + extra_ticks(value)


# ---------------------------------------------------------------- datetime text

_MONTH = (r"(?P<{}>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_WEEKDAY = r"(?:(?P<wd>mon(?:day)?|tue(?:sday)?|wed(?:nesday)?|thu(?:rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?),?\s+)?"
_TIME = (r"(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2})(?:\.(?P<frac>\d{1,7}))?)?"
         r"(?:\s*(?P<ampm>[ap]m))?")
_ZONE = r"(?:\s*(?P<zone>z|gmt|utc|ut|[+-]\d{2}(?::?\d{2})?))?"
_TAIL = rf"(?:(?:t|\s+){_TIME}{_ZONE})?"
# one pattern per date order (a year of four digits first, else .NET's invariant month-day-year); each
# may be followed by a time of day and a zone
_DATE_FORMS = (
    r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})",
    r"(?P<y>\d{4}),?\s+(?P<m>\d{1,2}),?\s+(?P<d>\d{1,2})",
    r"(?P<m>\d{1,2})(?P<sep>[-/.])(?P<d>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})",
    rf"(?P<d>\d{{1,2}})(?:-|\s+){_MONTH.format('mon')}(?:-|\s+)(?P<y>\d{{4}}|\d{{2}})",
    rf"{_MONTH.format('mon')}\s+(?P<d>\d{{1,2}}),?\s+(?P<y>\d{{4}})",
)
_DATETIME_FORMS = [re.compile(rf"^{_WEEKDAY}{date}{_TAIL}$", re.IGNORECASE) for date in _DATE_FORMS]
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")  # 20221202, measured on the engine
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _year(text: str) -> int:
    """Two-digit years as .NET reads them (its TwoDigitYearMax is 2049)."""
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 50 else 1900
    return year


def _zone_offset(zone: str | None) -> timedelta:
    if zone is None or zone.lower() in ("z", "gmt", "utc", "ut"):
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    if int(digits[:2]) > 14 or int(digits[2:] or 0) > 59:
        raise ValueError("offset out of range")
    return timedelta(minutes=minutes if zone[0] == "+" else -minutes)


def _hour(hh: str, ampm: str | None) -> int:
    hour = int(hh)
    if ampm is None:
        return hour
    if not 1 <= hour <= 12:
        raise TextRefused(f"the hour {hour} with {ampm.upper()}")
    return hour % 12 + (12 if ampm.lower() == "pm" else 0)


def _unquoted(text: str, literal: bool) -> str:
    """The text to parse: a literal's content may be quoted (`datetime('12-02-2022')`); a value is not."""
    return text.strip().strip("'\"").strip() if literal else text.strip()


def parse_datetime_text(text: str, *, literal: bool = True) -> datetime:
    """Kusto datetime text -> naive UTC datetime (a `TickDatetime` below the microsecond).

    Raises ValueError for text that is no datetime, `TextRefused` when Kusto's answer is unknown.
    """
    s = _unquoted(text, literal)
    m = _COMPACT.match(s)
    if m:
        return _checked(datetime(int(m[1]), int(m[2]), int(m[3])))
    for form in _DATETIME_FORMS:
        m = form.match(s)
        if m:
            return _from_match(m)
    raise ValueError("not a recognised date/time format")


def _from_match(m: re.Match[str]) -> datetime:
    g = m.groupdict()
    month = _MONTHS.index(g["mon"][:3].lower()) + 1 if g.get("mon") else int(g["m"])
    frac = (g["frac"] or "").ljust(7, "0")
    hour = _hour(g["hh"], g["ampm"]) if g["hh"] else 0
    if hour > 23:
        raise ValueError("hour out of range")
    # datetime() rejects an impossible day, month, minute or second: no datetime (null at run time)
    value = datetime(_year(g["y"]), month, int(g["d"]), hour, int(g["mi"] or 0), int(g["ss"] or 0),
                     int(frac[:6]))
    if g["wd"] and _WEEKDAYS.index(g["wd"][:3].lower()) != value.weekday():
        raise TextRefused(f"a weekday ({g['wd']}) that is not the date's")
    try:
        value -= _zone_offset(g["zone"])
    except OverflowError:
        raise ValueError("out of the datetime range") from None
    return _checked(TickDatetime.of(value, int(frac[6])) if frac[6] != "0" else value)


def _checked(value: datetime) -> datetime:
    if not MIN_DATETIME <= floor_micro(value) <= MAX_DATETIME:
        raise ValueError("out of the datetime range")
    return value


# ---------------------------------------------------------------- timespan text

_TIMESPAN_CLOCK = re.compile(r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$")
_TIMESPAN_UNIT = re.compile(r"^(-)?(\d+(?:\.\d+)?)\s*([A-Za-z]+)?$")
MAX_TICKS = 2 ** 63 - 1


def parse_timespan_text(text: str, *, literal: bool = True) -> int:
    """Kusto timespan text (`1.02:03:04.5`, `10:30`, `2d`, `1.5h`, `2` days) -> ticks.

    Raises ValueError for text that is no timespan, `TextRefused` when Kusto's answer is unknown.
    """
    s = _unquoted(text, literal)
    m = _TIMESPAN_CLOCK.match(s)
    if m:
        neg, days, hours, minutes, seconds, frac = m.groups()
        if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
            raise TextRefused(f"the timespan text `{s}` (a component beyond its clock range)")
        ticks = (((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + int(seconds or 0)) \
            * TICKS_PER_SECOND + int((frac or "0").ljust(7, "0"))
        return _ticks_in_range(-ticks if neg else ticks)
    m = _TIMESPAN_UNIT.match(s)
    if m:
        neg, number, unit = m.groups()
        per = TICKS_PER.get((unit or "d").lower())
        if per is None:
            raise ValueError(f"unknown unit {unit!r}")
        # whole numbers in integer arithmetic: a float would lose ticks beyond 2**53 (as the lexer does)
        ticks = int(number) * per if number.isdigit() else round(float(number) * per)
        return _ticks_in_range(-ticks if neg else ticks)
    raise ValueError("not a recognised timespan format")


def _ticks_in_range(ticks: int) -> int:
    if abs(ticks) > MAX_TICKS:
        raise ValueError("out of the timespan range")
    return ticks


def parse_guid_text(text: str) -> str:
    return str(uuid.UUID(text.strip().strip("'\"")))


# ---------------------------------------------------------------- printing


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
    base, tick = floor_micro(value), extra_ticks(value)
    # not strftime("%Y"): it does not pad years below 1000 on every platform (year 1 would print as "1")
    out = (f"{base.year:04d}-{base.month:02d}-{base.day:02d}"
           f"T{base.hour:02d}:{base.minute:02d}:{base.second:02d}")
    if base.microsecond or tick:
        out += f".{base.microsecond:06d}{tick}"
    return out + "Z"
