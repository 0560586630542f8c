"""Python UDFs for the dynamic functions whose rules need a real JSON model: equality of dynamic values
(the `set_*` functions and `jaccard_index` over JSON arrays), canonical JSON (`dynamic_to_json`), paths
(`treepath`) and edits of property bags by JSONPath (`bag_*`).

Values travel as JSON text (VARCHAR); a SQL NULL or a JSON `null` is "no value". Results are compact JSON
text, or NULL where Kusto's answer is null. Element equality follows kqlhunt's `==` on dynamic values:
numbers compare by value (1 equals 1.0), strings, bools and nulls by kind and value, arrays and bags by
their canonical text.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa


def _parse(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _canonical(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _key(value: Any) -> tuple:
    """Equality of two dynamic values (hashable)."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("num", value)  # hash(1) == hash(1.0): one key for equal numbers of either kind
    if isinstance(value, str):
        return ("str", value)
    return ("json", _canonical(value))


def _rows(*arrays: pa.Array) -> Iterable[tuple]:
    return zip(*(a.to_pylist() for a in arrays), strict=True)


def _text_udf(func: Callable[..., Any], arity: int) -> Callable[..., pa.Array]:
    """Row-wise JSON function -> vectorised UDF returning JSON text (None stays NULL). DuckDB reads the
    number of parameters from the Python signature, so each arity gets its own wrapper."""

    def run(*arrays: pa.Array) -> pa.Array:
        out = []
        for row in _rows(*arrays):
            value = func(*row)
            out.append(None if value is None else _dump(value))
        return pa.array(out, type=pa.string())

    wrappers: dict[int, Callable[..., pa.Array]] = {
        1: lambda a: run(a),
        2: lambda a, b: run(a, b),
        3: lambda a, b, c: run(a, b, c),
    }
    return wrappers[arity]


# ---------------------------------------------------------------- sets


def _distinct(values: Iterable) -> dict[tuple, Any]:
    out: dict[tuple, Any] = {}
    for v in values:
        out.setdefault(_key(v), v)
    return out


def _set_op(op: str, texts: list[str | None] | None) -> list | None:
    if texts is None:
        return None
    arrays = [_parse(t) for t in texts]
    if not all(isinstance(a, list) for a in arrays):
        return None
    if op == "union":
        return list(_distinct(v for a in arrays for v in a).values())
    first = _distinct(arrays[0])
    others = [set(_distinct(a)) for a in arrays[1:]]
    if op == "intersect":
        return [v for k, v in first.items() if all(k in o for o in others)]
    return [v for k, v in first.items() if not any(k in o for o in others)]


def _jaccard(a_text: str | None, b_text: str | None) -> float | None:
    a, b = _parse(a_text), _parse(b_text)
    if not isinstance(a, list) or not isinstance(b, list):
        return None
    sa, sb = set(_distinct(a)), set(_distinct(b))
    union = len(sa | sb)
    return len(sa & sb) / union if union else math.nan  # 0/0 in floating point, as .NET divides


def _jaccard_udf(a: pa.Array, b: pa.Array) -> pa.Array:
    return pa.array([_jaccard(x, y) for x, y in _rows(a, b)], type=pa.float64())


# ---------------------------------------------------------------- canonical text and paths


def _dynamic_to_json(text: str | None) -> str:
    value = _parse(text)
    if value is None:
        return ""
    if isinstance(value, str):
        return value  # a scalar: as tostring() prints it
    return _canonical(value)


def _dynamic_to_json_udf(arr: pa.Array) -> pa.Array:
    return pa.array([_dynamic_to_json(t) for t in arr.to_pylist()], type=pa.string())


def _bracket(name: str) -> str:
    return "['" + name.replace("\\", "\\\\").replace("'", "\\'") + "']"


def _treepath(text: str | None) -> list | None:
    """Every path below the root of a property bag; array elements all appear as `[0]`."""
    root = _parse(text)
    if not isinstance(root, dict):
        return None
    found: dict[str, None] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for name, child in value.items():
                found.setdefault(path + _bracket(name))
                walk(child, path + _bracket(name))
        elif isinstance(value, list):
            for child in value:
                found.setdefault(path + "[0]")
                walk(child, path + "[0]")

    walk(root, "")
    return list(found)


@functools.lru_cache(maxsize=1024)
def _path(key: str) -> tuple[str, ...] | None:
    from kqlhunt.sql.lowerings.dynamic import json_path

    names = json_path(key)
    return None if names is None else tuple(names)


# ---------------------------------------------------------------- property bags


def _bag_has_key(bag_text: str | None, key: str | None) -> bool:
    bag = _parse(bag_text)
    names = _path(key) if key is not None else None
    if not isinstance(bag, dict) or names is None:
        return False
    for name in names:
        if not isinstance(bag, dict) or name not in bag:
            return False
        bag = bag[name]
    return True


def _bag_has_key_udf(bags: pa.Array, keys: pa.Array) -> pa.Array:
    return pa.array([_bag_has_key(b, k) for b, k in _rows(bags, keys)], type=pa.bool_())


def _bag_remove_keys(bag_text: str | None, keys_text: str | None) -> dict | None:
    bag, keys = _parse(bag_text), _parse(keys_text)
    if not isinstance(bag, dict) or not isinstance(keys, list):
        return None
    for key in keys:
        names = _path(key) if isinstance(key, str) else None
        if not names:
            continue
        parent: Any = bag
        for name in names[:-1]:
            parent = parent.get(name) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(names[-1], None)
    return bag


def _bag_set_key(bag_text: str | None, names_text: str | None, value_text: str | None) -> dict | None:
    """`names` is the key's path, already split (a JSON array of names)."""
    bag, names = _parse(bag_text), _parse(names_text)
    if not isinstance(bag, dict) or not names:
        return None
    parent = bag
    for name in names[:-1]:
        child = parent.get(name)
        if child is None:
            child = parent[name] = {}  # the path's missing levels are created
        if not isinstance(child, dict):
            return None  # a scalar or an array in the way: nothing kqlhunt can set
        parent = child
    parent[names[-1]] = _parse(value_text)
    return bag


def _bag_merge(texts: list[str | None] | None) -> dict | None:
    """The leftmost bag wins a shared key; arguments that are not bags add nothing."""
    out: dict[str, Any] = {}
    seen = False
    for bag in map(_parse, texts or []):
        if isinstance(bag, dict):
            seen = True
            for name, value in bag.items():
                out.setdefault(name, value)
    return out if seen else None


def _bag_zip(keys_text: str | None, values_text: str | None) -> dict | None:
    keys, values = _parse(keys_text), _parse(values_text)
    if not isinstance(keys, list):
        return None
    if not isinstance(values, list):
        values = []  # the docs: every key then maps to null
    out: dict[str, Any] = {}
    for i, key in enumerate(keys):
        if isinstance(key, str):  # the docs: keys that are not strings are left out
            out[key] = values[i] if i < len(values) else None
    return out


def _udfs() -> tuple[Any, ...]:
    from kqlhunt.engines.runtime.udfs import Udf

    text, flag, texts = "VARCHAR", "BOOLEAN", "VARCHAR[]"
    return (
        Udf("kh_set_op", _text_udf(_set_op, 2), (text, texts), text),
        Udf("kh_jaccard_index", _jaccard_udf, (text, text), "DOUBLE"),
        Udf("kh_dynamic_to_json", _dynamic_to_json_udf, (text,), text),
        Udf("kh_treepath", _text_udf(_treepath, 1), (text,), text),
        Udf("kh_bag_has_key", _bag_has_key_udf, (text, text), flag),
        Udf("kh_bag_remove_keys", _text_udf(_bag_remove_keys, 2), (text, text), text),
        Udf("kh_bag_set_key", _text_udf(_bag_set_key, 3), (text, text, text), text),
        Udf("kh_bag_merge", _text_udf(_bag_merge, 1), (texts,), text),
        Udf("kh_bag_zip", _text_udf(_bag_zip, 2), (text, text), text),
    )


UDFS = _udfs()
