"""Result cells as text and JSON, the way Kusto shows them.

A result column's Kusto type is in its field metadata (`kql_type`, docs/CONVENTIONS.md). Conversions:

    datetime  -> "2025-03-14T06:00:00Z" (ISO 8601, UTC; a 6-digit fraction only when it is not zero)
    timespan  -> "[-][d.]hh:mm:ss[.fffffff]" (Kusto's timespan text)
    dynamic   -> the JSON value itself in JSON output, its JSON text elsewhere
    decimal   -> its digits as a string (JSON numbers would round it)
    real      -> a number in JSON, NaN and infinities as "NaN", "Infinity", "-Infinity" (JSON has no literal
                 for them); as text, what Kusto's tostring() gives: .NET's shortest round-trip form
                 (`0.30000000000000004`, `1E+17`, `1E-05`, `-0`)
    bool/int/long/string/guid -> as they are
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICKS_PER_SECOND = 10_000_000


def kql_type(field: pa.Field) -> str:
    """The Kusto type of a result field: its metadata, else a guess from the Arrow type."""
    meta = field.metadata or {}
    if b"kql_type" in meta:
        return meta[b"kql_type"].decode()
    t = field.type
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_int32(t):
        return "int"
    if pa.types.is_integer(t):
        return "long"
    if pa.types.is_floating(t):
        return "real"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_duration(t):
        return "timespan"
    return "string"


def format_datetime(micros: int) -> str:
    value = _EPOCH + timedelta(microseconds=micros)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def format_timespan(ticks: int) -> str:
    sign = "-" if ticks < 0 else ""
    ticks = abs(ticks)
    seconds, fraction = divmod(ticks, _TICKS_PER_SECOND)
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3_600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{sign}{f'{days}.' if days else ''}{hours:02d}:{minutes:02d}:{seconds:02d}"
    return text + (f".{fraction:07d}" if fraction else "")


def _real(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def format_real(value: float) -> str:
    """A real as .NET Core's double.ToString() writes it (invariant culture): the shortest digits that read
    back to the same double (Python's repr finds the same ones), fixed notation unless the decimal
    exponent is below -4 or beyond max(15, digits); then `d.dddE+XX`. (.NET 7+ moved that bound to 17
    digits; Kusto's tostring() refuses the values in between, display picks the older form.)"""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    digits = raw.strip("0")
    # the decimal point sits `scale` digits into `digits` (value = 0.digits * 10**scale)
    scale = len(whole) + int(exponent or 0) - (len(raw) - len(raw.lstrip("0")))
    n = len(digits)
    if scale > max(n, 15) or scale < -3:
        rest = f".{digits[1:]}" if n > 1 else ""
        e = scale - 1
        return f"{sign}{digits[0]}{rest}E{'-' if e < 0 else '+'}{abs(e):02d}"
    if scale <= 0:
        return f"{sign}0.{'0' * -scale}{digits}"
    if scale >= n:
        return sign + digits + "0" * (scale - n)
    return f"{sign}{digits[:scale]}.{digits[scale:]}"


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f") if value.is_finite() else str(value)


def column_values(column: pa.ChunkedArray | pa.Array, ktype: str, *, json_values: bool) -> list[Any]:
    """One column as Python values: JSON-ready (`json_values`, dynamic parsed) or as display text
    (dynamic stays JSON text, reals are Kusto's text). Nulls are None either way."""
    if ktype == "datetime":
        ints = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()
        return [None if v is None else format_datetime(v) for v in ints]
    if ktype == "timespan":
        ints = column.cast(pa.duration("ns")).cast(pa.int64()).to_pylist()
        return [None if v is None else format_timespan(v // 100) for v in ints]
    values = column.to_pylist()
    if ktype == "dynamic" and json_values:
        return [None if v is None else _parse_json(v) for v in values]
    if ktype == "real":
        if not json_values:
            return [None if v is None else format_real(v) for v in values]
        return [None if v is None else _real(v) for v in values]
    if ktype == "decimal":
        return [None if v is None else _decimal(v) for v in values]
    return values


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def json_rows(table: pa.Table) -> Iterator[dict[str, Any]]:
    """Rows as JSON-ready dicts (column order kept)."""
    names = table.column_names
    columns = [column_values(table.column(i), kql_type(table.schema.field(i)), json_values=True)
               for i in range(table.num_columns)]
    for r in range(table.num_rows):
        yield {name: col[r] for name, col in zip(names, columns, strict=True)}


def text_columns(table: pa.Table) -> list[list[str]]:
    """Every column as display text (CSV and terminal tables): null -> "", bool -> true/false."""
    out = []
    for i in range(table.num_columns):
        ktype = kql_type(table.schema.field(i))
        out.append([_cell_text(v) for v in column_values(table.column(i), ktype, json_values=False)])
    return out


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
