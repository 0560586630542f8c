"""Spark rewrites for DuckDB's JSON functions: dynamic values travel as JSON text on Spark, and the
functions that read or print it run as kqlhunt's UDFs (engines/runtime/json_text.py), which give DuckDB's
answers byte for byte (Spark's own JSON functions sort keys, print doubles in Java's form and unquote
strings)."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from kqlhunt.sql.spark.core import call
from kqlhunt.sql.spark.translate import NotOnSpark, rewrite


def _path(p: exp.Expression) -> exp.Expression:
    if isinstance(p, exp.JSONPath):  # a macro body parsed by sqlglot: back to DuckDB's path text
        return exp.Literal.string(sqlglot.parse_one(p.sql("duckdb")).this)
    return p


@rewrite("json_valid")
def json_valid(node: exp.Expression) -> exp.Expression:
    return call("kh_json_valid", *node.expressions)


@rewrite("json", exp.ParseJSON)
def json_(node: exp.Expression) -> exp.Expression:
    x = node.expressions[0] if isinstance(node, exp.Anonymous) else node.this
    return call("kh_json_minify", x)


@rewrite("json_type", exp.JSONType)
def json_type(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        x, path = node.expressions[0], (node.expressions[1] if len(node.expressions) > 1 else None)
    else:
        x, path = node.this, node.args.get("expression")
    if path is not None:
        x = call("kh_json_extract", x, _path(path))
    return call("kh_json_type", x)


@rewrite("json_extract", exp.JSONExtract)
def json_extract(node: exp.Expression) -> exp.Expression:
    x, path = (node.expressions if isinstance(node, exp.Anonymous) else (node.this, node.expression))
    return call("kh_json_extract", x, _path(path))


@rewrite("json_extract_string", exp.JSONExtractScalar)
def json_extract_string(node: exp.Expression) -> exp.Expression:
    x, path = (node.expressions if isinstance(node, exp.Anonymous) else (node.this, node.expression))
    return call("kh_json_extract_string", x, _path(path))


@rewrite("to_json")
def to_json(node: exp.Expression) -> exp.Expression:
    """Any value as JSON text: Spark writes it (a one-field struct, nulls kept), kqlhunt's minify re-prints it
    as DuckDB does (doubles, escapes)."""
    if len(node.expressions) == 2 and isinstance(node.expressions[0], exp.Struct):
        return None  # already Spark's (any_to_json): a subtree can be met again when a rewrite reuses it
    if len(node.expressions) != 1:
        raise NotOnSpark("to_json with options")
    x = node.expressions[0]
    wrapped = any_to_json(x)
    inner = call("substring", wrapped, exp.Literal.number(6),
                 exp.Sub(this=call("length", wrapped.copy()), expression=exp.Literal.number(6)))
    return exp.Case().when(exp.Is(this=x.copy(), expression=exp.Null()), exp.Null()).else_(
        call("kh_json_minify", inner))


def any_to_json(x: exp.Expression) -> exp.Expression:
    """Spark's JSON text of any value wrapped as `{"v": x}` (nulls kept): what kqlhunt's UDFs read."""
    options = exp.VarMap(keys=exp.Array(expressions=[exp.Literal.string("ignoreNullFields")]),
                         values=exp.Array(expressions=[exp.Literal.string("false")]))
    return call("to_json", exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("v"), expression=x)]),
                options)


_LIST_ELEMENTS = {exp.DataType.Type.DOUBLE: "double", exp.DataType.Type.BIGINT: "bigint",
                  exp.DataType.Type.BOOLEAN: "boolean", exp.DataType.Type.VARCHAR: "varchar",
                  exp.DataType.Type.TEXT: "varchar"}


@rewrite(exp.Cast, exp.TryCast)
def cast_to_list(node: exp.Expression) -> exp.Expression | None:
    """A cast to a typed list reads a dynamic array (JSON text on Spark) or converts a native list, with
    DuckDB's element conversions (kqlhunt's kh_as_list_* UDFs)."""
    assert isinstance(node, exp.Cast)
    to = node.to
    if not to.is_type(exp.DataType.Type.ARRAY) or isinstance(node.this, exp.Array):
        return None  # not a list, or a literal list Spark converts exactly
    elem = to.expressions[0] if to.expressions else None
    if elem is None:
        return None
    if elem.meta.get("duck_type") == "JSON":
        name = "json"
    else:
        name = _LIST_ELEMENTS.get(elem.this)
        if name is None:
            raise NotOnSpark(f"a list of {elem.sql('spark')} values")
    return call(f"kh_as_list_{name}", any_to_json(node.this))
