"""DuckDB lowerings of the timex functions: datetime and timespan parts, arithmetic on the calendar,
rounding, time zones, construction, parsing and formatting.

Datetimes are TIMESTAMPs in microseconds; Kusto keeps 100-ns ticks. Where a result has ticks below the
microsecond (endofday() is 23:59:59.9999999, make_datetime(..., 0.1234567)) it is floored to the
microsecond, the storage precision. A constant datetime with a seventh fractional digit (a
`TickDatetime` literal) is read exactly: `dt_arg` passes its microseconds and its extra ticks, which
datetime_part('nanosecond'), datetime_diff, format_datetime's seventh digit and bin_at use. Results
outside Kusto's range (0001-01-01 .. 9999-12-31) are null. Calendar arithmetic runs in HUGEINT so no
amount overflows before the range check.

These lowerings override the core ones for the time functions (the core's refused offsets and
several periods) and for `todatetime` / `totimespan` of text.
"""

from __future__ import annotations

import re

from sqlglot import exp

from kqlhunt.diagnostics import Span, unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.sql.expressions import (
    ExprCompiler,
    Lowering,
    case,
    cast,
    fn,
    is_null,
    null,
    number,
    paren,
    string,
    try_cast,
)
from kqlhunt.sql.functions import const_str, refuse_at_run_time, register, to_json
from kqlhunt.sql.functions import totimespan as core_totimespan
from kqlhunt.syntax.literals import TickDatetime, extra_ticks, floor_micro

MIN_US = -62_135_596_800_000_000  # epoch_us of 0001-01-01
MAX_US = 253_402_300_799_999_999  # epoch_us of 9999-12-31 23:59:59.999999
US = {"microsecond": 1, "millisecond": 1_000, "second": 1_000_000, "minute": 60_000_000,
      "hour": 3_600_000_000, "day": 86_400_000_000, "week": 604_800_000_000}
MONTHS = {"year": 12, "quarter": 3, "month": 1}
TICKS_PER_US = 10
TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 864_000_000_000
LONG_MIN, LONG_MAX = -(2 ** 63), 2 ** 63 - 1


# ---------------------------------------------------------------- helpers


fail = refuse_at_run_time


def huge(e: exp.Expression) -> exp.Expression:
    return cast(e, "HUGEINT")


def add(*terms: exp.Expression) -> exp.Expression:
    out = terms[0]
    for t in terms[1:]:
        out = exp.Add(this=out, expression=t)
    return paren(out)


def sub(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return paren(exp.Sub(this=a, expression=b))


def mul(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return paren(exp.Mul(this=a, expression=b))


def floor_div(a: exp.Expression, b: int) -> exp.Expression:
    """a // b rounded toward minus infinity (DuckDB's // truncates toward zero), for a positive b."""
    rem = exp.Mod(this=paren(exp.Add(this=paren(exp.Mod(this=a, expression=number(b))), expression=number(b))),
                  expression=number(b))
    return paren(exp.IntDiv(this=sub(a, paren(rem)), expression=number(b)))


def between(x: exp.Expression, lo: int, hi: int) -> exp.Expression:
    return exp.Between(this=x, low=number(lo), high=number(hi))


def epoch_us(ts: exp.Expression) -> exp.Expression:
    return huge(fn("epoch_us", ts))


def from_us(us: exp.Expression) -> exp.Expression:
    """Microseconds since the epoch -> TIMESTAMP; null outside Kusto's datetime range."""
    return case((between(us, MIN_US, MAX_US), fn("make_timestamp", cast(us, "BIGINT"))),
                default=cast(null(), "TIMESTAMP"))


def from_ticks(ticks: exp.Expression) -> exp.Expression:
    """Ticks since the epoch -> TIMESTAMP floored to the microsecond (null outside the range)."""
    return from_us(floor_div(ticks, TICKS_PER_US))


def dt_arg(c: ExprCompiler, e: B.BExpr) -> tuple[exp.Expression, exp.Expression]:
    """A datetime argument as (TIMESTAMP in microseconds, ticks below the microsecond)."""
    if isinstance(e, B.BLit) and isinstance(e.value, TickDatetime):
        base = floor_micro(e.value)
        literal = cast(string(base.strftime("%Y-%m-%d %H:%M:%S.%f")), "TIMESTAMP")
        return literal, number(extra_ticks(e.value))
    return c.compile(e), number(0)


def dt_ticks(c: ExprCompiler, e: B.BExpr) -> exp.Expression:
    """A datetime argument as exact ticks since the epoch (HUGEINT)."""
    ts, tick = dt_arg(c, e)
    return add(mul(epoch_us(ts), number(TICKS_PER_US)), tick)


def as_huge(c: ExprCompiler, e: B.BExpr) -> exp.Expression:
    return huge(c.compile(e))


def period(e: B.BCall, i: int = 0) -> str:
    name = const_str(e.args[i])
    assert name is not None  # the signature requires a literal
    return name.lower()


def day_start_us(ts: exp.Expression) -> exp.Expression:
    return epoch_us(fn("date_trunc", string("day"), ts))


def week_start_us(ts: exp.Expression) -> exp.Expression:
    """The preceding Sunday's midnight (Kusto's weeks start on Sunday; DuckDB's dayofweek is 0 on Sunday)."""
    return sub(day_start_us(ts), mul(huge(fn("dayofweek", ts)), number(US["day"])))


def month_index(ts: exp.Expression) -> exp.Expression:
    """Months since year 0: year * 12 + month - 1."""
    return add(mul(huge(fn("year", ts)), number(12)), huge(fn("month", ts)), number(-1))


def month_start(index: exp.Expression) -> exp.Expression:
    """The first instant of the month `index` (months since year 0), null outside 0001-01 .. 9999-12."""
    date = fn("make_date", cast(exp.IntDiv(this=index, expression=number(12)), "BIGINT"),
              cast(add(exp.Mod(this=index, expression=number(12)), number(1)), "BIGINT"), number(1))
    return case((between(index, 12, 9999 * 12 + 11), cast(date, "TIMESTAMP")), default=cast(null(), "TIMESTAMP"))


# ---------------------------------------------------------------- parts


_PART_SQL = {"getyear": "year", "getmonth": "month", "monthofyear": "month", "dayofmonth": "day",
             "dayofyear": "dayofyear", "hourofday": "hour", "week_of_year": "weekofyear"}


@register(*_PART_SQL, raw=True)
def simple_part(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    # week_of_year is ISO 8601 (the docs), as DuckDB's weekofyear
    ts, _tick = dt_arg(c, e.args[0])
    return cast(fn(_PART_SQL[e.fn], ts), "BIGINT")


@register("weekofyear", raw=True)
def weekofyear(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    raise unsupported("weekofyear() (the obsolete week numbering; use week_of_year(), ISO 8601)", e.span)


@register("dayofweek", raw=True)
def dayofweek(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    ts, _tick = dt_arg(c, e.args[0])
    return mul(cast(fn("dayofweek", ts), "BIGINT"), number(TICKS_PER_DAY))


def _micros_of_second(ts: exp.Expression) -> exp.Expression:
    # DuckDB's microsecond() counts from the start of the minute (seconds included)
    return paren(exp.Mod(this=cast(fn("microsecond", ts), "BIGINT"), expression=number(1_000_000)))


@register("datetime_part", "datepart", raw=True)
def datetime_part(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    part = period(e)
    ts, tick = dt_arg(c, e.args[1])
    match part:
        case "week_of_year":
            out = fn("weekofyear", ts)
        case "millisecond":
            out = exp.IntDiv(this=_micros_of_second(ts), expression=number(1000))
        case "microsecond":
            out = _micros_of_second(ts)
        case "nanosecond":
            out = add(mul(_micros_of_second(ts), number(1000)), mul(tick, number(100)))
        case _:
            out = fn(part, ts)  # year quarter month day dayofyear hour minute second: DuckDB's names
    return cast(out, "BIGINT")


# ---------------------------------------------------------------- calendar arithmetic


@register("datetime_add", raw=True)
def datetime_add(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    unit = period(e)
    amount = as_huge(c, e.args[1])
    if unit in MONTHS:
        ts, _tick = dt_arg(c, e.args[2])
        months = mul(amount, number(MONTHS[unit]))
        # DuckDB clamps the day to the month's last (Jan 31 + 1 month = Feb 28), as .NET's AddMonths does
        shifted = exp.Add(this=ts, expression=fn("to_months", cast(months, "INTEGER")))
        return case((between(add(month_index(ts), months), 12, 9999 * 12 + 11), shifted),
                    default=cast(null(), "TIMESTAMP"))
    if unit == "nanosecond":
        # whole ticks only: .NET's integer division truncates toward zero, as DuckDB's // does
        delta = exp.IntDiv(this=amount, expression=number(100))
        return from_ticks(add(dt_ticks(c, e.args[2]), delta))
    ts, _tick = dt_arg(c, e.args[2])
    return from_us(add(epoch_us(ts), mul(amount, number(US[unit]))))


@register("datetime_diff", raw=True)
def datetime_diff(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    """datetime1 - datetime2 in periods: the number of period boundaries between them (the docs' example
    counts 10 seconds from 00.900 to 10.100, and 5 Sunday-based weeks from 09-30 to 10-29)."""
    unit = period(e)
    if unit == "nanosecond":
        diff = mul(sub(dt_ticks(c, e.args[1]), dt_ticks(c, e.args[2])), number(100))
        return case((between(diff, LONG_MIN, LONG_MAX), cast(diff, "BIGINT")),
                    (is_null(diff), cast(null(), "BIGINT")),
                    default=fail("datetime_diff('nanosecond') beyond the range of a long"))
    (a, _ta), (b, _tb) = dt_arg(c, e.args[1]), dt_arg(c, e.args[2])
    if unit in MONTHS:
        diff = sub(month_index(a), month_index(b))
        if unit != "month":
            size = MONTHS[unit]
            diff = sub(floor_div(month_index(a), size), floor_div(month_index(b), size))
    elif unit == "week":
        diff = exp.IntDiv(this=sub(week_start_us(a), week_start_us(b)), expression=number(US["week"]))
    else:
        # boundaries crossed: the difference of the truncated instants, an exact multiple of the unit
        trunc_a = epoch_us(fn("date_trunc", string(unit), a)) if unit != "microsecond" else epoch_us(a)
        trunc_b = epoch_us(fn("date_trunc", string(unit), b)) if unit != "microsecond" else epoch_us(b)
        diff = exp.IntDiv(this=sub(trunc_a, trunc_b), expression=number(US[unit]))
    return cast(diff, "BIGINT")


def _offset(c: ExprCompiler, e: B.BCall) -> exp.Expression:
    return as_huge(c, e.args[1]) if len(e.args) > 1 else number(0)


def _period_bounds(c: ExprCompiler, e: B.BCall, unit: str) -> tuple[exp.Expression, exp.Expression]:
    """(start of the shifted period, start of the period after it) as TIMESTAMPs (null out of range)."""
    ts, _tick = dt_arg(c, e.args[0])
    n = _offset(c, e)
    if unit in ("day", "week"):
        base = day_start_us(ts) if unit == "day" else week_start_us(ts)
        start = add(base, mul(n, number(US[unit])))
        return from_us(start), from_us(add(start, number(US[unit])))
    step = 12 if unit == "year" else 1
    index = add(month_index(ts), mul(n, number(step)))
    if unit == "year":
        index = sub(index, paren(exp.Mod(this=month_index(ts), expression=number(12))))
    return month_start(index), month_start(add(index, number(step)))


def _start_of(unit: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
        return _period_bounds(c, e, unit)[0]

    return lowering


def _end_of(unit: str) -> Lowering:
    def lowering(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
        # Kusto's end is the next period's start minus one tick: floored to the microsecond, minus 1 µs.
        # The last periods (ending 9999-12-31) have no next start in range, so it is computed from the start.
        start, _next = _period_bounds(c, e, unit)
        last = exp.Sub(this=_next_start(start, unit), expression=fn("to_microseconds", number(1)))
        return from_us(epoch_us(last))

    return lowering


def _next_start(start: exp.Expression, unit: str) -> exp.Expression:
    step = {"day": fn("to_days", number(1)), "week": fn("to_days", number(7)),
            "month": fn("to_months", number(1)), "year": fn("to_years", number(1))}[unit]
    return exp.Add(this=start, expression=step)


for _unit in ("day", "week", "month", "year"):
    register(f"startof{_unit}", raw=True)(_start_of(_unit))
    register(f"endof{_unit}", raw=True)(_end_of(_unit))


# ---------------------------------------------------------------- construction


@register("make_datetime", raw=True)
def make_datetime(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    """make_datetime(year, month, day[, hour[, minute[, second]]]): null for an impossible date or time
    (the docs); fractional seconds are truncated to ticks, as .NET adds them, then floored to µs."""
    parts = [as_huge(c, a) for a in e.args[:5]]
    year, month, day = parts[:3]
    hour = parts[3] if len(parts) > 3 else number(0)
    minute = parts[4] if len(parts) > 4 else number(0)
    valid_date = exp.And(this=between(year, 1, 9999), expression=between(month, 1, 12))
    # DuckDB evaluates every operand of the validity test, so the month's first day is built from clamped
    # parts: make_date() fails on month 13
    first = fn("make_date", cast(_clamp(year, 1, 9999), "BIGINT"), cast(_clamp(month, 1, 12), "BIGINT"), number(1))
    month_days = fn("day", fn("last_day", first))
    valid = exp.And(this=exp.And(this=between(hour, 0, 23), expression=between(minute, 0, 59)),
                    expression=exp.And(this=exp.GTE(this=day, expression=number(1)),
                                       expression=exp.LTE(this=day, expression=month_days)))
    us = add(epoch_us(first), mul(sub(day, number(1)), number(US["day"])), mul(hour, number(US["hour"])),
             mul(minute, number(US["minute"])))
    whole = case((valid, fn("make_timestamp", cast(us, "BIGINT"))), default=cast(null(), "TIMESTAMP"))
    out = case((valid_date, whole), default=cast(null(), "TIMESTAMP"))
    if len(e.args) < 6:
        return out
    seconds = c.compile(e.args[5])
    if e.args[5].type.name != "real":
        s = huge(seconds)
        return case((between(s, 0, 59), exp.Add(this=out, expression=fn("to_microseconds", cast(
            mul(s, number(1_000_000)), "BIGINT")))), (is_null(s), cast(null(), "TIMESTAMP")),
            default=fail("make_datetime() with seconds outside 0..59"))
    in_range = exp.And(this=exp.GTE(this=seconds, expression=number(0.0)),
                       expression=exp.LT(this=seconds, expression=number(60.0)))
    ticks = cast(fn("trunc", exp.Mul(this=seconds, expression=number(float(TICKS_PER_SECOND)))), "BIGINT")
    micros = exp.IntDiv(this=ticks, expression=number(TICKS_PER_US))
    return case((in_range, exp.Add(this=out, expression=fn("to_microseconds", micros))),
                (is_null(seconds), cast(null(), "TIMESTAMP")),
                default=fail("make_datetime() with seconds outside [0, 60)"))


def _clamp(x: exp.Expression, lo: int, hi: int) -> exp.Expression:
    return fn("greatest", fn("least", x, number(hi)), number(lo))


_UNIX_TICKS = {"seconds": TICKS_PER_SECOND, "milliseconds": 10_000, "microseconds": TICKS_PER_US}


@register(*(f"unixtime_{u}_todatetime" for u in ("seconds", "milliseconds", "microseconds", "nanoseconds")),
          raw=True)
def unixtime(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    """The epoch plus a count of units, converted to whole ticks as .NET's (long)(value * ticks per unit)
    does (toward zero), then floored to the microsecond; null out of range, NaN or infinite."""
    unit = e.fn.split("_")[1]
    x = c.compile(e.args[0])
    if e.args[0].type.name in ("int", "long"):
        ticks = exp.IntDiv(this=huge(x), expression=number(100)) if unit == "nanoseconds" \
            else mul(huge(x), number(_UNIX_TICKS[unit]))
        return from_ticks(ticks)
    scaled = exp.Div(this=x, expression=number(100.0)) if unit == "nanoseconds" \
        else exp.Mul(this=x, expression=number(float(_UNIX_TICKS[unit])))
    finite = exp.And(this=fn("isfinite", x), expression=exp.LT(this=fn("abs", paren(scaled)), expression=number(9e18)))
    ticks = cast(fn("trunc", paren(scaled)), "HUGEINT")
    return case((finite, from_ticks(ticks)), default=cast(null(), "TIMESTAMP"))


# ---------------------------------------------------------------- rounding


@register("bin_at", raw=True)
def bin_at(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    """fixed + floor((value - fixed) / size) * size; a null, zero or negative size gives null (bin's docs:
    null for a negative size; the core's bin() also answers null for zero)."""
    value, size, fixed = e.args
    if value.type.name == "datetime":
        v, f, s = dt_ticks(c, value), dt_ticks(c, fixed), as_huge(c, size)
        k = _floor_div_by(sub(v, f), s)
        return case((exp.GT(this=s, expression=number(0)), from_ticks(add(f, mul(k, s)))),
                    default=cast(null(), "TIMESTAMP"))
    if e.type.name in ("long", "timespan"):
        v, s, f = as_huge(c, value), as_huge(c, size), as_huge(c, fixed)
        out = add(f, mul(_floor_div_by(sub(v, f), s), s))
        return case((exp.GT(this=s, expression=number(0)), cast(out, "BIGINT")), default=cast(null(), "BIGINT"))
    target = "DOUBLE" if e.type.name == "real" else "DECIMAL(38, 18)"
    v, s, f = (cast(c.compile(a), target) for a in (value, size, fixed))
    out = add(f, mul(fn("floor", exp.Div(this=sub(v, f), expression=s)), s))
    return case((exp.GT(this=s, expression=number(0)), cast(out, target)), default=cast(null(), target))


def _floor_div_by(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """a // b toward minus infinity for a positive HUGEINT b."""
    rem = exp.Mod(this=paren(exp.Add(this=paren(exp.Mod(this=a, expression=b)), expression=b)), expression=b)
    return paren(exp.IntDiv(this=sub(a, paren(rem)), expression=b))


# ---------------------------------------------------------------- time zones

# the names the engine lists (corpus datetime-list-timezones-00), in its order
_ZONE_NAMES = """
Africa/Abidjan Africa/Accra Africa/Addis_Ababa Africa/Algiers Africa/Asmara Africa/Asmera Africa/Bamako
Africa/Bangui Africa/Banjul Africa/Bissau Africa/Blantyre Africa/Brazzaville Africa/Bujumbura
Africa/Cairo Africa/Casablanca Africa/Ceuta Africa/Conakry Africa/Dakar Africa/Dar_es_Salaam
Africa/Djibouti Africa/Douala Africa/El_Aaiun Africa/Freetown Africa/Gaborone Africa/Harare
Africa/Johannesburg Africa/Juba Africa/Kampala Africa/Khartoum Africa/Kigali Africa/Kinshasa
Africa/Lagos Africa/Libreville Africa/Lome Africa/Luanda Africa/Lubumbashi Africa/Lusaka Africa/Malabo
Africa/Maputo Africa/Maseru Africa/Mbabane Africa/Mogadishu Africa/Monrovia Africa/Nairobi
Africa/Ndjamena Africa/Niamey Africa/Nouakchott Africa/Ouagadougou Africa/Porto-Novo Africa/Sao_Tome
Africa/Timbuktu Africa/Tripoli Africa/Tunis Africa/Windhoek America/Adak America/Anchorage
America/Anguilla America/Antigua America/Araguaina America/Argentina/Buenos_Aires
America/Argentina/Catamarca America/Argentina/ComodRivadavia America/Argentina/Cordoba
America/Argentina/Jujuy America/Argentina/La_Rioja America/Argentina/Mendoza
America/Argentina/Rio_Gallegos America/Argentina/Salta America/Argentina/San_Juan
America/Argentina/San_Luis America/Argentina/Tucuman America/Argentina/Ushuaia America/Aruba
America/Asuncion America/Atikokan America/Atka America/Bahia America/Bahia_Banderas America/Barbados
America/Belem America/Belize America/Blanc-Sablon America/Boa_Vista America/Bogota America/Boise
America/Buenos_Aires America/Cambridge_Bay America/Campo_Grande America/Cancun America/Caracas
America/Catamarca America/Cayenne America/Cayman America/Chicago America/Chihuahua America/Ciudad_Juarez
America/Coral_Harbour America/Cordoba America/Costa_Rica America/Coyhaique America/Creston
America/Cuiaba America/Curacao America/Danmarkshavn America/Dawson America/Dawson_Creek America/Denver
America/Detroit America/Dominica America/Edmonton America/Eirunepe America/El_Salvador America/Ensenada
America/Fort_Nelson America/Fort_Wayne America/Fortaleza America/Glace_Bay America/Godthab
America/Goose_Bay America/Grand_Turk America/Grenada America/Guadeloupe America/Guatemala
America/Guayaquil America/Guyana America/Halifax America/Havana America/Hermosillo
America/Indiana/Indianapolis America/Indiana/Knox America/Indiana/Marengo America/Indiana/Petersburg
America/Indiana/Tell_City America/Indiana/Vevay America/Indiana/Vincennes America/Indiana/Winamac
America/Indianapolis America/Inuvik America/Iqaluit America/Jamaica America/Jujuy America/Juneau
America/Kentucky/Louisville America/Kentucky/Monticello America/Knox_IN America/Kralendijk
America/La_Paz America/Lima America/Los_Angeles America/Louisville America/Lower_Princes America/Maceio
America/Managua America/Manaus America/Marigot America/Martinique America/Matamoros America/Mazatlan
America/Mendoza America/Menominee America/Merida America/Metlakatla America/Mexico_City America/Miquelon
America/Moncton America/Monterrey America/Montevideo America/Montreal America/Montserrat America/Nassau
America/New_York America/Nipigon America/Nome America/Noronha America/North_Dakota/Beulah
America/North_Dakota/Center America/North_Dakota/New_Salem America/Nuuk America/Ojinaga America/Panama
America/Pangnirtung America/Paramaribo America/Phoenix America/Port-au-Prince America/Port_of_Spain
America/Porto_Acre America/Porto_Velho America/Puerto_Rico America/Punta_Arenas America/Rainy_River
America/Rankin_Inlet America/Recife America/Regina America/Resolute America/Rio_Branco America/Rosario
America/Santa_Isabel America/Santarem America/Santiago America/Santo_Domingo America/Sao_Paulo
America/Scoresbysund America/Shiprock America/Sitka America/St_Barthelemy America/St_Johns
America/St_Kitts America/St_Lucia America/St_Thomas America/St_Vincent America/Swift_Current
America/Tegucigalpa America/Thule America/Thunder_Bay America/Tijuana America/Toronto America/Tortola
America/Vancouver America/Virgin America/Whitehorse America/Winnipeg America/Yakutat America/Yellowknife
Antarctica/Casey Antarctica/Davis Antarctica/DumontDUrville Antarctica/Macquarie Antarctica/Mawson
Antarctica/McMurdo Antarctica/Palmer Antarctica/Rothera Antarctica/South_Pole Antarctica/Syowa
Antarctica/Troll Antarctica/Vostok Arctic/Longyearbyen Asia/Aden Asia/Almaty Asia/Amman Asia/Anadyr
Asia/Aqtau Asia/Aqtobe Asia/Ashgabat Asia/Ashkhabad Asia/Atyrau Asia/Baghdad Asia/Bahrain Asia/Baku
Asia/Bangkok Asia/Barnaul Asia/Beirut Asia/Bishkek Asia/Brunei Asia/Calcutta Asia/Chita Asia/Choibalsan
Asia/Chongqing Asia/Chungking Asia/Colombo Asia/Dacca Asia/Damascus Asia/Dhaka Asia/Dili Asia/Dubai
Asia/Dushanbe Asia/Famagusta Asia/Gaza Asia/Harbin Asia/Hebron Asia/Ho_Chi_Minh Asia/Hong_Kong Asia/Hovd
Asia/Irkutsk Asia/Istanbul Asia/Jakarta Asia/Jayapura Asia/Jerusalem Asia/Kabul Asia/Kamchatka
Asia/Karachi Asia/Kashgar Asia/Kathmandu Asia/Katmandu Asia/Khandyga Asia/Kolkata Asia/Krasnoyarsk
Asia/Kuala_Lumpur Asia/Kuching Asia/Kuwait Asia/Macao Asia/Macau Asia/Magadan Asia/Makassar Asia/Manila
Asia/Muscat Asia/Nicosia Asia/Novokuznetsk Asia/Novosibirsk Asia/Omsk Asia/Oral Asia/Phnom_Penh
Asia/Pontianak Asia/Pyongyang Asia/Qatar Asia/Qostanay Asia/Qyzylorda Asia/Rangoon Asia/Riyadh
Asia/Saigon Asia/Sakhalin Asia/Samarkand Asia/Seoul Asia/Shanghai Asia/Singapore Asia/Srednekolymsk
Asia/Taipei Asia/Tashkent Asia/Tbilisi Asia/Tehran Asia/Tel_Aviv Asia/Thimbu Asia/Thimphu Asia/Tokyo
Asia/Tomsk Asia/Ujung_Pandang Asia/Ulaanbaatar Asia/Ulan_Bator Asia/Urumqi Asia/Ust-Nera Asia/Vientiane
Asia/Vladivostok Asia/Yakutsk Asia/Yangon Asia/Yekaterinburg Asia/Yerevan Atlantic/Azores
Atlantic/Bermuda Atlantic/Canary Atlantic/Cape_Verde Atlantic/Faeroe Atlantic/Faroe Atlantic/Jan_Mayen
Atlantic/Madeira Atlantic/Reykjavik Atlantic/South_Georgia Atlantic/St_Helena Atlantic/Stanley
Australia/ACT Australia/Adelaide Australia/Brisbane Australia/Broken_Hill Australia/Canberra
Australia/Currie Australia/Darwin Australia/Eucla Australia/Hobart Australia/LHI Australia/Lindeman
Australia/Lord_Howe Australia/Melbourne Australia/NSW Australia/North Australia/Perth
Australia/Queensland Australia/South Australia/Sydney Australia/Tasmania Australia/Victoria
Australia/West Australia/Yancowinna Brazil/Acre Brazil/DeNoronha Brazil/East Brazil/West CET CST6CDT
Canada/Atlantic Canada/Central Canada/Eastern Canada/Mountain Canada/Newfoundland Canada/Pacific
Canada/Saskatchewan Canada/Yukon Chile/Continental Chile/EasterIsland Cuba EET EST EST5EDT Egypt Eire
Etc/GMT Etc/GMT+0 Etc/GMT+1 Etc/GMT+10 Etc/GMT+11 Etc/GMT+12 Etc/GMT+2 Etc/GMT+3 Etc/GMT+4 Etc/GMT+5
Etc/GMT+6 Etc/GMT+7 Etc/GMT+8 Etc/GMT+9 Etc/GMT-0 Etc/GMT-1 Etc/GMT-10 Etc/GMT-11 Etc/GMT-12 Etc/GMT-13
Etc/GMT-14 Etc/GMT-2 Etc/GMT-3 Etc/GMT-4 Etc/GMT-5 Etc/GMT-6 Etc/GMT-7 Etc/GMT-8 Etc/GMT-9 Etc/GMT0
Etc/Greenwich Etc/UCT Etc/UTC Etc/Universal Etc/Zulu Europe/Amsterdam Europe/Andorra Europe/Astrakhan
Europe/Athens Europe/Belfast Europe/Belgrade Europe/Berlin Europe/Bratislava Europe/Brussels
Europe/Bucharest Europe/Budapest Europe/Busingen Europe/Chisinau Europe/Copenhagen Europe/Dublin
Europe/Gibraltar Europe/Guernsey Europe/Helsinki Europe/Isle_of_Man Europe/Istanbul Europe/Jersey
Europe/Kaliningrad Europe/Kiev Europe/Kirov Europe/Kyiv Europe/Lisbon Europe/Ljubljana Europe/London
Europe/Luxembourg Europe/Madrid Europe/Malta Europe/Mariehamn Europe/Minsk Europe/Monaco Europe/Moscow
Europe/Nicosia Europe/Oslo Europe/Paris Europe/Podgorica Europe/Prague Europe/Riga Europe/Rome
Europe/Samara Europe/San_Marino Europe/Sarajevo Europe/Saratov Europe/Simferopol Europe/Skopje
Europe/Sofia Europe/Stockholm Europe/Tallinn Europe/Tirane Europe/Tiraspol Europe/Ulyanovsk
Europe/Uzhgorod Europe/Vaduz Europe/Vatican Europe/Vienna Europe/Vilnius Europe/Volgograd Europe/Warsaw
Europe/Zagreb Europe/Zaporozhye Europe/Zurich GB GB-Eire GMT GMT+0 GMT-0 GMT0 Greenwich HST Hongkong
Iceland Indian/Antananarivo Indian/Chagos Indian/Christmas Indian/Cocos Indian/Comoro Indian/Kerguelen
Indian/Mahe Indian/Maldives Indian/Mauritius Indian/Mayotte Indian/Reunion Iran Israel Jamaica Japan
Kwajalein Libya MET MST MST7MDT Mexico/BajaNorte Mexico/BajaSur Mexico/General NZ NZ-CHAT Navajo PRC
PST8PDT Pacific/Apia Pacific/Auckland Pacific/Bougainville Pacific/Chatham Pacific/Chuuk Pacific/Easter
Pacific/Efate Pacific/Enderbury Pacific/Fakaofo Pacific/Fiji Pacific/Funafuti Pacific/Galapagos
Pacific/Gambier Pacific/Guadalcanal Pacific/Guam Pacific/Honolulu Pacific/Johnston Pacific/Kanton
Pacific/Kiritimati Pacific/Kosrae Pacific/Kwajalein Pacific/Majuro Pacific/Marquesas Pacific/Midway
Pacific/Nauru Pacific/Niue Pacific/Norfolk Pacific/Noumea Pacific/Pago_Pago Pacific/Palau
Pacific/Pitcairn Pacific/Pohnpei Pacific/Ponape Pacific/Port_Moresby Pacific/Rarotonga Pacific/Saipan
Pacific/Samoa Pacific/Tahiti Pacific/Tarawa Pacific/Tongatapu Pacific/Truk Pacific/Wake Pacific/Wallis
Pacific/Yap Poland Portugal ROC ROK Singapore Turkey UCT US/Alaska US/Aleutian US/Arizona US/Central
US/East-Indiana US/Eastern US/Hawaii US/Indiana-Starke US/Michigan US/Mountain US/Pacific US/Samoa UTC
Universal W-SU WET Zulu
"""
TIME_ZONES: tuple[str, ...] = tuple(_ZONE_NAMES.split())
_ZONES = frozenset(TIME_ZONES)


@register("datetime_list_timezones")
def datetime_list_timezones(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    return to_json(c, e.type, cast(exp.Array(expressions=[string(z) for z in TIME_ZONES]), "VARCHAR[]"))


def _zone(c: ExprCompiler, e: B.BCall) -> tuple[exp.Expression, exp.Expression | None]:
    """The zone name, and the condition a run-time name must meet (None when the name is a constant)."""
    arg = e.args[1]
    name = const_str(arg)
    if name is not None:
        if name not in _ZONES:
            raise unsupported(f"{e.fn}() with the time zone {name!r}", arg.span,
                              "not one of datetime_list_timezones(); what Kusto answers for it is not documented")
        return string(name), None
    zone = c.compile(arg)
    return zone, exp.In(this=zone, expressions=[string(z) for z in TIME_ZONES])


def _zoned(ts: exp.Expression, zone: exp.Expression, known: exp.Expression | None, out: exp.Expression,
           fn_name: str) -> exp.Expression:
    if known is None:
        return out
    return case((is_null(ts), cast(null(), "TIMESTAMP")), (known, out),
                default=fail(f"{fn_name}() with a time zone name outside datetime_list_timezones()"))


@register("datetime_utc_to_local", raw=True)
def utc_to_local(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    ts, _tick = dt_arg(c, e.args[0])
    zone, known = _zone(c, e)
    local = fn("timezone", zone, cast(ts, "TIMESTAMPTZ"))
    return _zoned(ts, zone, known, from_us(epoch_us(local)), e.fn)


@register("datetime_local_to_utc", raw=True)
def local_to_utc(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    """local - (the zone's offset at DuckDB's reading of it). For a wall time the clocks skip (02:30 when
    they jump from 02:00 to 03:00) this applies the offset after the jump, as the engine does (corpus
    datetime-local-to-utc-function-01: Brussels 02:00 -> 00:00 UTC, where DuckDB alone says 01:00); a
    repeated wall time reads as the later one (standard time), as DuckDB and .NET read it."""
    ts, _tick = dt_arg(c, e.args[0])
    zone, known = _zone(c, e)
    first = cast(fn("timezone", zone, ts), "TIMESTAMP")
    offset = sub(epoch_us(fn("timezone", zone, cast(first, "TIMESTAMPTZ"))), epoch_us(first))
    return _zoned(ts, zone, known, from_us(sub(epoch_us(ts), offset)), e.fn)


# ---------------------------------------------------------------- formatting

_DELIMITERS = " /-:,._[]"
_TOKEN = re.compile(r"(d+|f+|F+|h+|H+|m+|M+|s+|y+|t+)|(.)", re.DOTALL)
_DATETIME_SPECIFIERS = {"d": (1, 2), "f": tuple(range(1, 8)), "F": tuple(range(1, 8)), "h": (1, 2), "H": (1, 2),
                        "m": (1, 2), "M": (1, 2), "s": (1, 2), "y": (1, 2, 4), "t": (2,)}
_TIMESPAN_SPECIFIERS = {"d": tuple(range(1, 9)), "f": tuple(range(1, 8)), "F": tuple(range(1, 8)), "h": (1, 2),
                        "H": (1, 2), "m": (1, 2), "s": (1, 2)}


def format_tokens(fmt: str, specifiers: dict[str, tuple[int, ...]], fn_name: str, span: Span | None) -> list[str]:
    """The format as specifier runs (`yyyy`, `FF`) and single delimiters; anything else is refused."""
    out = []
    for m in _TOKEN.finditer(fmt):
        run, other = m.group(1), m.group(2)
        if run is not None:
            if len(run) not in specifiers.get(run[0], ()):
                raise unsupported(f"the {fn_name}() format element `{run}`", span)
            out.append(run)
        elif other in _DELIMITERS:
            out.append(other)
        else:
            raise unsupported(f"the {fn_name}() format character {other!r}", span)
    if not out:
        raise unsupported(f"{fn_name}() with an empty format", span)
    return out


def _padded(value: exp.Expression, width: int) -> exp.Expression:
    """At least `width` digits (more when the number is longer), as .NET's custom formats pad."""
    if width == 1:
        return cast(value, "VARCHAR")
    return fn("printf", string(f"%0{width}d"), cast(value, "BIGINT"))


def _fraction(frac7: exp.Expression, token: str) -> exp.Expression:
    """`f`s: the first n digits of the 7-digit fraction; `F`s: the same without trailing zeros."""
    digits = fn("substr", frac7, number(1), number(len(token)))
    return digits if token[0] == "f" else fn("rtrim", digits, string("0"))


def _join(pieces: list[exp.Expression]) -> exp.Expression:
    return fn("concat", *pieces) if len(pieces) > 1 else pieces[0]


@register("format_datetime", raw=True)
def format_datetime(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    fmt = const_str(e.args[1])
    assert fmt is not None  # the signature requires a literal
    ts, tick = dt_arg(c, e.args[0])
    frac7 = fn("printf", string("%07d"), add(mul(_micros_of_second(ts), number(10)), tick))
    hour = cast(fn("hour", ts), "BIGINT")
    pieces: list[exp.Expression] = []
    for token in format_tokens(fmt, _DATETIME_SPECIFIERS, "format_datetime", e.args[1].span):
        kind, n = token[0], len(token)
        match kind:
            case "d" | "M" | "H" | "m" | "s":
                part = {"d": "day", "M": "month", "H": "hour", "m": "minute", "s": "second"}[kind]
                piece = _padded(fn(part, ts), n)
            case "h":  # 12-hour clock: 0 and 12 both print as 12
                piece = _padded(add(exp.Mod(this=add(hour, number(11)), expression=number(12)), number(1)), n)
            case "y":
                year = cast(fn("year", ts), "BIGINT")
                piece = _padded(year if n == 4 else exp.Mod(this=year, expression=number(100)), n)
            case "t":
                piece = case((exp.LT(this=hour, expression=number(12)), string("AM")), default=string("PM"))
            case "f" | "F":
                piece = _fraction(frac7, token)
                if kind == "F" and pieces and isinstance(pieces[-1], exp.Literal) and pieces[-1].this == ".":
                    # .NET drops the decimal point before F digits that print nothing (30.0 -> "30")
                    pieces.pop()
                    piece = case((exp.EQ(this=piece, expression=string("")), string("")),
                                 default=exp.DPipe(this=string("."), expression=piece))
            case _:
                piece = string(token)
        pieces.append(piece)
    return case((is_null(ts), string("")), default=_join(pieces))


@register("format_timespan", raw=True)
def format_timespan(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    """Kusto's timespan elements (d..dddddddd days, h/H hours of the day, m, s, f/F fractions), padded as
    .NET's custom formats pad. How a negative timespan prints is not documented (.NET's custom formats
    drop the sign; Kusto may not), so a negative value fails the query."""
    fmt = const_str(e.args[1])
    assert fmt is not None  # the signature requires a literal
    t = c.compile(e.args[0])
    frac7 = fn("printf", string("%07d"), exp.Mod(this=t, expression=number(TICKS_PER_SECOND)))
    units = {"d": (TICKS_PER_DAY, None), "h": (3_600 * TICKS_PER_SECOND, 24), "H": (3_600 * TICKS_PER_SECOND, 24),
             "m": (60 * TICKS_PER_SECOND, 60), "s": (TICKS_PER_SECOND, 60)}
    pieces: list[exp.Expression] = []
    for token in format_tokens(fmt, _TIMESPAN_SPECIFIERS, "format_timespan", e.args[1].span):
        kind = token[0]
        if kind in units:
            per, modulo = units[kind]
            value: exp.Expression = exp.IntDiv(this=t, expression=number(per))
            if modulo is not None:
                value = exp.Mod(this=paren(value), expression=number(modulo))
            pieces.append(_padded(paren(value), len(token)))
        elif kind in "fF":
            piece = _fraction(frac7, token)
            if kind == "F" and pieces and isinstance(pieces[-1], exp.Literal) and pieces[-1].this == ".":
                # .NET's TimeSpan formatting keeps the point before F digits that print nothing, its
                # DateTime formatting drops it: which one Kusto's timespans follow is not documented
                piece = case((exp.EQ(this=piece, expression=string("")),
                              fail("format_timespan() with nothing for F digits after a '.'")), default=piece)
            pieces.append(piece)
        else:
            pieces.append(string(token))
    negative = exp.LT(this=t, expression=number(0))
    return case((is_null(t), string("")), (negative, fail("format_timespan() of a negative timespan")),
                default=_join(pieces))


# ---------------------------------------------------------------- text to datetime and timespan

# the ISO 8601 forms DuckDB's cast reads exactly like Kusto (no offset: the cast would ignore it; hours
# 00-23: the cast reads 24:00 as the next day); the rest goes to the parser the literals use
_PLAIN_ISO = r"\d{4}-\d{2}-\d{2}(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,7})?)?Z?)?"


def text_to_datetime(text: exp.Expression) -> exp.Expression:
    """Kusto's reading of a VARCHAR as a datetime (null when it is none): the common ISO form in SQL, the
    rest through the parser of datetime literals (kh_todatetime)."""
    plain = try_cast(text, "TIMESTAMP")
    in_range = between(epoch_us(plain), MIN_US, MAX_US)
    return case((fn("regexp_full_match", text, string(_PLAIN_ISO)),
                 case((in_range, plain), default=cast(null(), "TIMESTAMP"))),
                default=fn("kh_todatetime", text))


@register("todatetime", raw=True)
def todatetime(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    arg = e.args[0]
    t = arg.type.name
    if t == "datetime":
        return c.compile(arg)
    if t == "string":
        return text_to_datetime(c.compile(arg))
    if t == "dynamic":
        value = to_json(c, arg.type, c.compile(arg))
        return case((is_null(value), cast(null(), "TIMESTAMP")),
                    (exp.EQ(this=fn("json_type", value), expression=string("NULL")), cast(null(), "TIMESTAMP")),
                    (exp.EQ(this=fn("json_type", value), expression=string("VARCHAR")),
                     text_to_datetime(fn("json_extract_string", value, string("$")))),
                    default=fail("todatetime() of a dynamic value that is not a string"))
    raise unsupported(f"todatetime() of a {t}", e.span)


def text_to_timespan(text: exp.Expression) -> exp.Expression:
    """Kusto's reading of a VARCHAR as a timespan in ticks (null when it is none)."""
    return fn("kh_totimespan", text)


@register("totimespan", "totime", raw=True)
def totimespan(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    arg = e.args[0]
    t = arg.type.name
    if t == "string":
        return text_to_timespan(c.compile(arg))
    if t == "dynamic":
        value = to_json(c, arg.type, c.compile(arg))
        return case((is_null(value), cast(null(), "BIGINT")),
                    (exp.EQ(this=fn("json_type", value), expression=string("NULL")), cast(null(), "BIGINT")),
                    (exp.EQ(this=fn("json_type", value), expression=string("VARCHAR")),
                     text_to_timespan(fn("json_extract_string", value, string("$")))),
                    default=fail("totimespan() of a dynamic value that is not a string"))
    return core_totimespan(c, e, [c.compile(arg)])
