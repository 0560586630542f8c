"""Result cells as text and JSON, the way Kusto shows them.

A result column's Kusto type is in its field metadata (`kql_type`, docs/CONVENTIONS.md). Conversions:

    datetime  -> "2025-03-14T06:00:00Z" (ISO 8601, UTC; a 6-digit fraction only when it is not zero)
    timespan  -> "[-][d.]hh:mm:ss[.fffffff]" (Kusto's timespan text)
    dynamic   -> the JSON value itself in JSON output, its JSON text elsewhere
    decimal   -> its digits as a string (JSON numbers would round it)
    real      -> a number; NaN and infinities as "NaN", "Infinity", "-Infinity" (JSON has no literal for them)
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


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f") if value.is_finite() else str(value)


def column_values(column: pa.ChunkedArray | pa.Array, ktype: str, *, json_values: bool) -> list[Any]:
    """One column as Python values: JSON-ready (`json_values`, dynamic parsed) or as display text
    (dynamic stays JSON text). Nulls are None either way."""
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
