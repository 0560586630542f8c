"""Python UDFs of the aggregates family: `buildschema()`.

`kh_buildschema(values)` takes a group's dynamic values as JSON text and returns the minimal schema that
admits them all, as the buildschema docs describe it: a property bag maps each key to the schema of its
values; an array is a bag with the single key "`indexer`" (the schema of its elements); a scalar is its
type name (`long`, `double`, `string`); where a place holds several kinds, an array lists the
alternatives in order of first appearance, bags merged into one bag and arrays into one indexer.

What the docs do not settle is refused (the query fails with KH301) instead of guessed: a value that is
not a property bag at the top, null values, booleans, empty arrays, a place that is both an array and a
bag, integers beyond the long range, and strings that kqlhunt's JSON may have made out of a datetime,
timespan or guid (Kusto keeps those types inside dynamic values and would name them).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyarrow as pa

from kqlhunt.engines.runtime.udfs import Udf

INDEXER = "`indexer`"
LONG_RANGE = range(-(2 ** 63), 2 ** 63)
# text kqlhunt prints for datetime, timespan and guid values inside dynamic values
TYPED_TEXT = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"
    r"|-?(\d+\.)?\d\d:\d\d:\d\d(\.\d+)?"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class Unknown(ValueError):
    """Kusto's schema for this value is not documented: the query fails instead of guessing."""


def _refuse(what: str) -> Unknown:
    return Unknown(f"kqlhunt: buildschema() of {what} is not supported (Kusto's answer is not known)")


# A schema under construction: a list of alternatives, each a type name (str), a bag ({"bag": {key:
# schema}}) or an array ({"array": schema}); one alternative of each container kind at most.
Schema = list[Any]


def _add(schema: Schema, value: Any) -> None:
    if isinstance(value, dict):
        bag = next((alt["bag"] for alt in schema if isinstance(alt, dict) and "bag" in alt), None)
        if bag is None:
            if any(isinstance(alt, dict) and "array" in alt for alt in schema):
                raise _refuse("a place holding both arrays and property bags")
            bag = {}
            schema.append({"bag": bag})
        for key, item in value.items():
            _add(bag.setdefault(key, []), item)
        return
    if isinstance(value, list):
        if not value:
            raise _refuse("an empty array")
        elems = next((alt["array"] for alt in schema if isinstance(alt, dict) and "array" in alt), None)
        if elems is None:
            if any(isinstance(alt, dict) and "bag" in alt for alt in schema):
                raise _refuse("a place holding both arrays and property bags")
            elems = []
            schema.append({"array": elems})
        for item in value:
            _add(elems, item)
        return
    name = _scalar_type(value)
    if name not in schema:
        schema.append(name)


def _scalar_type(value: Any) -> str:
    if value is None:
        raise _refuse("a null value")
    if isinstance(value, bool):
        raise _refuse("a bool value")
    if isinstance(value, int):
        if value not in LONG_RANGE:
            raise _refuse("an integer beyond the long range")
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        if TYPED_TEXT.fullmatch(value):
            raise _refuse(f"the text {value!r} (a datetime, timespan or guid in Kusto's dynamic values)")
        return "string"
    raise _refuse(f"a {type(value).__name__} value")


def _render(schema: Schema) -> Any:
    out = []
    for alt in schema:
        if isinstance(alt, dict) and "bag" in alt:
            out.append({key: _render(sub) for key, sub in alt["bag"].items()})
        elif isinstance(alt, dict):
            out.append({INDEXER: _render(alt["array"])})
        else:
            out.append(alt)
    return out[0] if len(out) == 1 else out


def build_schema(texts: list[str]) -> str:
    schema: Schema = []
    for text in texts:
        value = json.loads(text)
        if not isinstance(value, dict):
            raise _refuse("a value that is not a property bag")
        _add(schema, value)
    if not schema:
        raise _refuse("a group whose values are all null")
    return json.dumps(_render(schema), separators=(",", ":"), ensure_ascii=False)


def buildschema_arrow(groups: pa.Array) -> pa.Array:
    return pa.array([None if g is None else build_schema(g) for g in groups.to_pylist()], pa.string())


UDFS = (Udf("kh_buildschema", buildschema_arrow, ("VARCHAR[]",), "VARCHAR"),)

__all__ = ["UDFS", "build_schema"]
