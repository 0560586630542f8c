"""Scalar expression compiler: `BExpr` -> sqlglot expression (DuckDB dialect).

User values only ever enter SQL as sqlglot literals and quoted identifiers, never as pasted text.
Function lowerings live in `functions.py`, keyed by the names of the semantic function table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlglot import exp

from kqlhunt.diagnostics import unsupported
from kqlhunt.plan.nodes import POrderedAgg, PWindow
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import KType
from kqlhunt.sql.types import data_type
from kqlhunt.syntax.parser import DynamicTimespan

if TYPE_CHECKING:
    from kqlhunt.sql.compile import SqlCompiler


def ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    # built directly: exp.column() parses and copies, and compiling a query makes thousands of these
    if table is None:
        return exp.Column(this=ident(name))
    return exp.Column(this=ident(name), table=exp.Identifier(this=table, quoted=False))


def alias(e: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=e, alias=ident(name))


@lru_cache(maxsize=256)
def _type(t: str) -> exp.DataType:
    return exp.DataType.build(t, dialect="duckdb")


def dtype(t: str) -> exp.DataType:
    return _type(t).copy()


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def number(value: int | float) -> exp.Expression:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        text = "nan" if value != value else ("inf" if value > 0 else "-inf")
        return exp.cast(string(text), "DOUBLE")
    if isinstance(value, int) and value < 0 or isinstance(value, float) and value < 0:
        return exp.Neg(this=exp.Literal.number(-value))
    return exp.Literal.number(value)


def cast(e: exp.Expression, t: str) -> exp.Expression:
    return exp.Cast(this=e, to=dtype(t))


def try_cast(e: exp.Expression, t: str) -> exp.Expression:
    return exp.TryCast(this=e, to=dtype(t))


def paren(e: exp.Expression) -> exp.Expression:
    return exp.Paren(this=e)


def case(*whens: tuple[exp.Expression, exp.Expression], default: exp.Expression | None = None) -> exp.Expression:
    c = exp.Case()
    for cond, value in whens:
        c = c.when(cond, value, copy=False)
    if default is not None:
        c = c.else_(default, copy=False)
    return c


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.Null())


def null() -> exp.Expression:
    return exp.Null()


def lam(var: str, body: exp.Expression) -> exp.Expression:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(var)])


def py_json(value: object) -> str:
    """JSON text of a dynamic literal, datetimes and timespans as Kusto serialises them."""

    def conv(v: object) -> object:
        if isinstance(v, datetime):
            return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond:06d}0Z"
        if isinstance(v, DynamicTimespan):
            from kqlhunt.syntax.literals import format_timespan
            return format_timespan(int(v))
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, Decimal):
            return float(v)
        return v

    return json.dumps(conv(value), separators=(",", ":"), ensure_ascii=False)


Lowering = Callable[["ExprCompiler", B.BCall, list[exp.Expression]], exp.Expression]


class ExprCompiler:
    """Compiles expressions evaluated over one input relation (columns referenced unqualified)."""

    def __init__(self, owner: SqlCompiler, table: str | None = None):
        self.owner = owner
        self.table = table

    @property
    def now(self) -> exp.Expression:
        return self.owner.now_literal()

    def compile(self, e: B.BExpr) -> exp.Expression:
        from kqlhunt.plan.lower import PScalar
        from kqlhunt.sql import aggregates, functions

        match e:
            case B.BCol(name=name):
                return col(name, self.table)
            case B.BLit():
                return self.literal(e)
            case PWindow():
                return self.window(e)
            case POrderedAgg():
                return self._tagged(aggregates.compile_agg(self, e.fn, e.args, e.type, e.order), e.fn, e)
            case B.BAgg(fn=name, args=args):
                return self._tagged(aggregates.compile_agg(self, name, args, e.type, ()), name, e)
            case PScalar(node=node):
                cte = self.owner.node(node)
                first = node.columns[0].name
                sub = exp.select(col(first)).from_(exp.to_identifier(cte, quoted=True), copy=False).limit(1, copy=False)
                return exp.Subquery(this=sub)
            case B.BCall(fn=name):
                lowering = functions.LOWERINGS.get(name)
                if lowering is None:
                    raise unsupported(f"the function `{name}`", e.span)
                return self._tagged(lowering(self, e, [self.compile(a) for a in e.args]
                                             if name not in functions.RAW_ARGS else []), name, e)
            case B.BType():
                raise unsupported("a type argument here", e.span)
        raise unsupported(f"the expression {type(e).__name__}", e.span)

    def _tagged(self, sql: exp.Expression, name: str, e: B.BExpr) -> exp.Expression:
        if self.owner.dialect != "duckdb":
            # where each node comes from, for a target that has to refuse a node by its KQL name
            from kqlhunt.sql.spark.translate import tag

            tag(sql, f"`{name.lstrip('$')}()`", e.span)
        return sql

    def literal(self, e: B.BLit) -> exp.Expression:
        t, v = e.type, e.value
        if v is None:
            if t.name == "string":
                return string("")
            return exp.Cast(this=exp.Null(), to=data_type(t if t.name != "null" else KType("dynamic")))
        match t.name:
            case "string" | "guid":
                return string(str(v))
            case "bool":
                return exp.Boolean(this=bool(v))
            case "int":
                return cast(number(int(v)), "INTEGER")  # type: ignore[call-overload]
            case "long" | "timespan":
                return cast(number(int(v)), "BIGINT")  # type: ignore[call-overload]
            case "real":
                # the text of a double, not a numeric literal: exact, and -0.0 keeps its sign
                return cast(string(repr(float(v))), "DOUBLE")  # type: ignore[arg-type]
            case "decimal":
                return cast(string(str(v)), "DECIMAL(38, 18)")
            case "datetime":
                assert isinstance(v, datetime)
                return cast(string(v.strftime("%Y-%m-%d %H:%M:%S.%f")), "TIMESTAMP")
            case "dynamic":
                if t.elem is not None and isinstance(v, list):
                    elems = [self.literal(B.BLit(t.elem, e.span, x)) for x in v]
                    return cast(exp.Array(expressions=elems), f"{data_type(t.elem).sql('duckdb')}[]")
                return cast(string(py_json(v)), "JSON")
        raise unsupported(f"a {t.name} literal", e.span)

    def window(self, e: PWindow) -> exp.Expression:
        order = exp.Order(expressions=[o for s in e.order for o in self.ordering(s)]) if e.order else None
        partition = [self.compile(p) for p in e.partition] or None
        args = [self.compile(a) for a in e.args]
        match e.fn:
            case "row_number":
                if len(args) > 1:
                    raise unsupported("row_number() with a restart predicate", e.span)
                numbered = exp.Window(this=fn("row_number"), partition_by=partition, order=order)
                if args:  # row_number(start): numbering starts at `start`
                    return exp.Add(this=numbered, expression=paren(exp.Sub(this=args[0],
                                                                            expression=exp.Literal.number(1))))
                return numbered
            case "next" | "prev":
                offset = args[1] if len(args) > 1 else exp.Literal.number(1)
                wargs = [args[0], offset] + ([args[2]] if len(args) > 2 else [])
                call = fn("lead" if e.fn == "next" else "lag", *wargs)
                out = exp.Window(this=call, partition_by=partition, order=order)
                if e.type.name == "string" and len(args) < 3:
                    return exp.Coalesce(this=out, expressions=[string("")])
                return out
            case "dense_rank":
                return exp.Window(this=fn("dense_rank"), partition_by=partition, order=order)
            case "min_over":  # the smallest value in the partition (staged rank functions)
                return exp.Window(this=fn("min", args[0]), partition_by=partition)
            case "row_cumsum":
                if len(args) > 1:
                    raise unsupported("row_cumsum() with a restart predicate", e.span)
                frame = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")
                summed = exp.Window(this=fn("sum", args[0]), partition_by=partition, order=order, spec=frame)
                return cast(summed, data_type(e.type).sql("duckdb"))
        raise unsupported(f"the window function {e.fn}()", e.span)

    def ordered(self, spec: tuple[B.BExpr, bool, bool]) -> exp.Ordered:
        e, asc, nulls_first = spec
        sql = self.compile(e)
        if e.type.name == "real":
            # Kusto groups NaN with nulls (first or last); DuckDB would sort NaN above +inf
            sql = case((fn("isnan", sql), null()), default=sql)
        return exp.Ordered(this=sql, desc=not asc, nulls_first=nulls_first)

    def ordering(self, spec: tuple[B.BExpr, bool, bool]) -> list[exp.Ordered]:
        """ORDER BY terms for one sort key; for reals, a tie-break puts null before NaN when nulls come
        first and after it when they come last (Kusto's sort docs)."""
        e, asc, nulls_first = spec
        out = [self.ordered(spec)]
        if e.type.name == "real":
            is_nan = fn("coalesce", fn("isnan", self.compile(e)), exp.Boolean(this=False))
            out.append(exp.Ordered(this=is_nan, desc=not nulls_first, nulls_first=False))
        return out
