"""DuckDB's JSON functions over JSON text, for engines without them (Spark): the same answers, byte for byte.

Dynamic values travel as JSON text. DuckDB parses and re-serialises JSON with yyjson; kqlhunt's results
print what it prints, so these functions write the same text: minified, keys in document order, strings
with `"` `\\` and control characters escaped and everything else verbatim, integers as written, and
doubles in their shortest round-trip digits laid out as yyjson does (fixed notation between 1e-7 and
1e21, an integral double keeps `.0`, exponents without `+`: `1e-7`, `1e21`, `100000.0`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from kqlhunt.engines.runtime.udfs import Udf, UnknownAnswer

INT64_MIN, UINT64_MAX = -(2**63), 2**64 - 1


class _Double(float):
    """A JSON number written with a fraction or exponent: DuckDB keeps it a double even when integral.
    `text` is the number as written (what a cast to VARCHAR gives)."""

    text = ""


class _BigInteger(_Double):
    """An integer beyond uint64 (or NaN/Infinity): a double to DuckDB, printed as it was written."""

    text = ""


def _parse(text: str) -> Any:
    def constant(name: str) -> Any:  # NaN, Infinity, -Infinity: DuckDB accepts and prints them as written
        raw = _BigInteger(float(name))
        raw.text = name
        return raw

    # DuckDB reads integers beyond uint64 as doubles; json.loads would keep them exact
    def parse_int(s: str) -> Any:
        v = int(s)
        if INT64_MIN <= v <= UINT64_MAX:
            return v
        big = _BigInteger(float(s))
        big.text = s
        return big

    def parse_float(s: str) -> Any:
        d = _Double(float(s))
        d.text = s
        return d

    return json.loads(text, parse_float=parse_float, parse_int=parse_int, parse_constant=constant)


def double_text(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    sign = "-" if x < 0 else ""
    mantissa, _, exp_text = repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    # where the decimal point sits relative to the significant digits: x = 0.<digits> * 10^point
    shift = int(exp_text) if exp_text else 0
    point = shift + (len(whole) if whole != "0" else -(len(frac) - len(frac.lstrip("0"))))
    digits = digits.rstrip("0") or "0"
    n = point - 1  # x = 0.d1d2... * 10^point = d1.d2... * 10^n
    if -7 < n < 21:
        if point <= 0:
            text = "0." + "0" * (-point) + digits
        elif point >= len(digits):
            text = digits + "0" * (point - len(digits)) + ".0"
        else:
            text = digits[:point] + "." + digits[point:]
        return sign + text
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mant}e{n}"


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _string_text(s: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(0), f"\\u{ord(m.group(0)):04X}"), s) + '"'


def dumps(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, _BigInteger):
        return v.text
    if isinstance(v, float):
        return double_text(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _string_text(v)
    if isinstance(v, list):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    return "{" + ",".join(_string_text(k) + ":" + dumps(x) for k, x in v.items()) + "}"


def json_type(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "BOOLEAN"
    if isinstance(v, float):
        return "DOUBLE"
    if isinstance(v, int):
        return "UBIGINT" if v >= 0 else "BIGINT"  # DuckDB's names: a non-negative integer is UBIGINT
    if isinstance(v, str):
        return "VARCHAR"
    return "ARRAY" if isinstance(v, list) else "OBJECT"


_MISSING = object()
_STEP = re.compile(r'\.(?:"((?:[^"\\]|\\.)*)"|([^."\[\]]+))|\[(#-)?(\d+)\]')


def extract(v: Any, path: str) -> Any:
    """The value at a DuckDB JSON path (`$`, `.key`, `."quoted key"`, `[n]`, `[#-n]`), or _MISSING."""
    if not path.startswith("$"):
        raise UnknownAnswer(f"the JSON path {path!r}")
    pos = 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise UnknownAnswer(f"the JSON path {path!r}")
        pos = m.end()
        quoted, bare, from_end, index = m.groups()
        if index is not None:
            if not isinstance(v, list):
                return _MISSING
            i = int(index)
            i = len(v) - i if from_end else i
            if not 0 <= i < len(v):
                return _MISSING
            v = v[i]
        else:
            key = json.loads(f'"{quoted}"') if quoted is not None else bare
            if not isinstance(v, dict) or key not in v:
                return _MISSING
            v = v[key]
    return v


def _map_text(func: Callable[..., Any], out_type: pa.DataType) -> Callable[..., pa.Array]:
    def run(*arrays: pa.Array) -> pa.Array:
        columns = [a.to_pylist() for a in arrays]
        return pa.array([None if row[0] is None else func(*row) for row in zip(*columns, strict=True)], out_type)

    return run


# what DuckDB's JSON reader also accepts, beyond NaN/Infinity: other spellings of them, trailing commas
_LENIENT = re.compile(r'(?i)(?:^|[\s,:\[])-?(?:nan|inf(?:inity)?)\s*(?:$|[,\]}])|,\s*[\]}]')


def _parse_or_refuse(text: str) -> Any:
    try:
        return _parse(text)
    except ValueError:
        if _LENIENT.search(text):
            raise UnknownAnswer("JSON text with nan/inf spellings or trailing commas") from None
        raise


def _valid(text: str) -> bool:
    try:
        _parse_or_refuse(text)
    except UnknownAnswer:
        raise
    except ValueError:
        return False
    return True


def _minify(text: str) -> str:
    try:
        return dumps(_parse_or_refuse(text))
    except UnknownAnswer:
        raise
    except ValueError:
        raise UnknownAnswer("json() of text that is not JSON") from None


def _type(text: str) -> str:
    return json_type(_parse_or_refuse(text))


def _extract(text: str, path: str | None) -> str | None:
    if path is None:
        return None
    v = extract(_parse_or_refuse(text), path)
    return None if v is _MISSING else dumps(v)


def _extract_string(text: str, path: str | None) -> str | None:
    if path is None:
        return None
    v = extract(_parse_or_refuse(text), path)
    if v is _MISSING or v is None:
        return None
    return v if isinstance(v, str) else dumps(v)


# ---------------------------------------------------------------- JSON arrays as typed lists


def _to_double(v: Any) -> float | None:
    if v is None or isinstance(v, list | dict):
        return None
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, str):
        raise UnknownAnswer("a text element of an array read as numbers")
    return float(v)


def _to_bigint(v: Any) -> int | None:
    if v is None or isinstance(v, list | dict):
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, str):
        raise UnknownAnswer("a text element of an array read as integers")
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return None
        if v != int(v):
            raise UnknownAnswer("a fractional element of an array read as integers")
        v = int(v)
    return v if INT64_MIN <= v <= 2**63 - 1 else None


def _to_boolean(v: Any) -> bool | None:
    if v is None or isinstance(v, list | dict | str):
        return None
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return bool(v)


def _number_text(v: Any, native: bool) -> str:
    if isinstance(v, float) and not isinstance(v, _BigInteger):
        if native or not v.text:
            raise UnknownAnswer("the text of a real element of an array")
        return v.text
    return dumps(v)


def _to_varchar(v: Any, native: bool) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _number_text(v, native)
    return dumps(v)


def _to_json_text(v: Any, native: bool) -> str | None:
    if v is None:
        return None
    if native and isinstance(v, str):
        raise UnknownAnswer("text elements of an array read as dynamic values")
    if isinstance(v, int | float) and not isinstance(v, bool):
        return _number_text(v, native)
    return dumps(v)


_ELEMENT: dict[str, tuple[Callable[..., Any], pa.DataType, bool]] = {
    "DOUBLE": (_to_double, pa.float64(), False), "BIGINT": (_to_bigint, pa.int64(), False),
    "BOOLEAN": (_to_boolean, pa.bool_(), False), "VARCHAR": (_to_varchar, pa.string(), True),
    "JSON": (_to_json_text, pa.string(), True),
}


def _as_list(element: str) -> Callable[[pa.Array], pa.Array]:
    """`{"v": x}` (Spark's JSON of any value) -> x as a typed list, as DuckDB's TRY_CAST(x AS T[]) gives it:
    x is JSON text of an array (a dynamic value) or a native array; anything else is null."""
    convert, arrow_type, wants_native = _ELEMENT[element]

    def one(wrapped: str) -> list[Any] | None:
        v = _parse(wrapped)["v"]
        native = not isinstance(v, str)
        if not native:
            try:
                v = _parse_or_refuse(v)
            except UnknownAnswer:
                raise
            except ValueError:
                return None
        if not isinstance(v, list):
            return None
        return [convert(x, native) if wants_native else convert(x) for x in v]

    def run(wrapped: pa.Array) -> pa.Array:
        return pa.array([None if w is None else one(w) for w in wrapped.to_pylist()], pa.list_(arrow_type))

    return run


AS_LIST = {element: f"kh_as_list_{element.lower()}" for element in _ELEMENT}

UDFS = (
    Udf("kh_json_valid", _map_text(_valid, pa.bool_()), ("VARCHAR",), "BOOLEAN"),
    Udf("kh_json_minify", _map_text(_minify, pa.string()), ("VARCHAR",), "VARCHAR"),
    Udf("kh_json_type", _map_text(_type, pa.string()), ("VARCHAR",), "VARCHAR"),
    Udf("kh_json_extract", _map_text(_extract, pa.string()), ("VARCHAR", "VARCHAR"), "VARCHAR"),
    Udf("kh_json_extract_string", _map_text(_extract_string, pa.string()), ("VARCHAR", "VARCHAR"), "VARCHAR"),
    *(Udf(name, _as_list(element), ("VARCHAR",), f"{'VARCHAR' if element == 'JSON' else element}[]")
      for element, name in AS_LIST.items()),
)
