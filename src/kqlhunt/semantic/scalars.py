"""Scalar binding: AST expressions -> typed `BExpr`s over a row schema, plus the let scope."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kqlhunt.diagnostics import KqlError, Span, error, unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic import functions as F
from kqlhunt.semantic.fold import fold
from kqlhunt.semantic.naming import did_you_mean, kusto_function_names, scalar_twin
from kqlhunt.semantic.types import (
    BOOL,
    BY_NAME,
    DYNAMIC,
    STRING,
    KType,
    array_of,
)
from kqlhunt.syntax import ast as A
from kqlhunt.syntax.parser import DynamicTimespan

if TYPE_CHECKING:
    from kqlhunt.semantic.binder import Binder

ARITHMETIC = {"+", "-", "*", "/", "%"}
COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


class Scope:
    """Let-bound names: scalar `BExpr`s, tabular `BRel`s, and functions `(FunctionLiteral, closure)`."""

    def __init__(self, values: dict[str, Any] | None = None):
        self.values: dict[str, Any] = dict(values or {})

    def define(self, name: str, value: Any, closure: Scope | None = None) -> None:
        self.values[name] = (value, closure) if closure is not None else value

    def lookup(self, name: str) -> Any:
        return self.values.get(name)

    def copy(self) -> Scope:
        return Scope(self.values)

    def names(self) -> list[str]:
        return list(self.values)


def dynamic_type(value: object) -> KType:
    """The static type of a dynamic literal: an array of one scalar type when it is one."""
    if not isinstance(value, list) or not value:
        return DYNAMIC
    kinds = set()
    for v in value:
        if isinstance(v, bool):
            kinds.add("bool")
        elif isinstance(v, DynamicTimespan):
            kinds.add("timespan")
        elif isinstance(v, int):
            kinds.add("long")
        elif isinstance(v, float):
            kinds.add("real")
        elif isinstance(v, str):
            kinds.add("string")
        elif isinstance(v, datetime):
            kinds.add("datetime")
        else:
            return DYNAMIC
    if kinds == {"long", "real"}:
        return array_of(BY_NAME["real"])
    if len(kinds) == 1:
        return array_of(BY_NAME[kinds.pop()])
    return DYNAMIC


class ScalarBinder:
    def __init__(self, binder: Binder):
        self.binder = binder

    def bind(self, e: A.Expr, schema: B.Schema | None, scope: Scope, *, serialized: bool = False,
             aggregate: bool = False) -> B.BExpr:
        return _Bind(self, schema, scope, serialized, aggregate).expr(e)

    def bind_search_predicate(self, e: A.Expr, schema: B.Schema, scope: Scope) -> B.BExpr:
        return _Bind(self, schema, scope, False, False, search=True).expr(e)

    def coerce_literal(self, lit: B.BLit, target: KType) -> B.BLit:
        """A datatable cell converted to its column's type (Kusto accepts 1 for a real column)."""
        v = lit.value
        if v is None or lit.type.name == "null":
            return B.BLit(target, lit.span, None)
        t = target.name
        ok = True
        if t == lit.type.name or (t == "dynamic"):
            if t == "dynamic" and lit.type.name != "dynamic":
                v = lit.value
            return B.BLit(target if t != "dynamic" else DYNAMIC, lit.span, v)
        if t in ("int", "long") and lit.type.name in ("int", "long"):
            v = int(v)  # type: ignore[arg-type]
        elif t == "real" and lit.type.name in ("int", "long", "real"):
            v = float(v)  # type: ignore[arg-type]
        elif t == "decimal" and lit.type.name in ("int", "long", "real", "decimal"):
            v = Decimal(str(v))
        elif t == "guid" and lit.type.name == "string":
            v = str(v)
        elif t == "bool" and lit.type.name in ("long", "int"):
            v = bool(v)
        else:
            ok = False
        if not ok:
            raise error("KH206", f"a {lit.type} value cannot go in a {target} column", lit.span)
        return B.BLit(target, lit.span, v)


class _Bind:
    def __init__(self, owner: ScalarBinder, schema: B.Schema | None, scope: Scope, serialized: bool,
                 aggregate: bool, search: bool = False):
        self.owner = owner
        self.schema = schema
        self.columns = {c.name: c for c in schema} if schema is not None else {}
        self.scope = scope
        self.serialized = serialized
        self.aggregate = aggregate
        self.search = search
        self.in_aggregate = False

    def fail(self, code: str, message: str, span: Span, *hints: str) -> KqlError:
        return error(code, message, span, *hints)

    def bin_auto(self, e: A.Call) -> B.BExpr:
        """bin_auto(v): bin(v, size) shifted so that `query_bin_auto_at` (default 0) is a bin start."""
        options = self.owner.binder.options
        if len(e.args) != 1:
            raise self.fail("KH252", "bin_auto() takes one argument", e.span)
        size = options.get("query_bin_auto_size")
        if size is None:
            raise self.fail("KH250", "bin_auto() needs `set query_bin_auto_size = ...;` first", e.span)
        at = options.get("query_bin_auto_at")
        value = self.expr(e.args[0])
        if at is None:
            return self.apply("bin", [value, size], e.span)
        shifted = self.apply("bin", [self.apply("-", [value, at], e.span), size], e.span)
        return self.apply("+", [at, shifted], e.span)

    def pack_all(self, e: A.Call) -> B.BExpr:
        """pack_all([ignore_null_empty]): a bag of every column of the row, as `pack("a", a, ...)`; with
        true, `$pack_nonempty` leaves out null and empty values."""
        if self.schema is None:
            raise self.fail("KH250", "pack_all() needs a row (use it in extend/project/where)", e.span)
        if len(e.args) > 1:
            raise self.fail("KH252", "pack_all() takes at most one argument", e.span)
        skip = False
        if e.args:
            flag = self.expr(e.args[0])
            if not isinstance(flag, B.BLit) or not isinstance(flag.value, bool):
                raise unsupported("pack_all() with a non-constant argument", e.args[0].span)
            skip = flag.value
        args: list[B.BExpr] = []
        for c in self.schema:
            args += [B.BLit(STRING, e.span, c.name), B.BCol(c.type, e.span, c.name)]
        return B.BCall(DYNAMIC, e.span, "$pack_nonempty" if skip else "pack", tuple(args))

    # ------------------------------------------------------------ dispatch

    def expr(self, e: A.Expr) -> B.BExpr:
        match e:
            case A.Literal():
                return self.literal(e)
            case A.Name(name=name, span=span):
                return self.name(name, span)
            case A.Call():
                return self.call(e)
            case A.Binary(op=op, left=left, right=right, span=span):
                return self.binary(op, left, right, span)
            case A.Unary(op=op, operand=operand, span=span):
                inner = self.expr(operand)
                if op == "+":
                    return inner
                folded = fold(inner)
                if isinstance(folded, B.BLit) and folded.type.name == "int" and folded.value is not None:
                    return B.BLit(folded.type, span, -folded.value)  # type: ignore[operator]
                return self.apply("neg", [inner], span)
            case A.InList(op=op, left=left, items=items, span=span):
                return self.in_list(op, left, items, span)
            case A.Between(negated=neg, operand=x, low=lo, high=hi, span=span):
                args = [self.expr(x), self.expr(lo), self.expr(hi)]
                return self.apply("!between" if neg else "between", args, span)
            case A.Member(target=target, name=name, span=span):
                return self.member(target, name, span)
            case A.Index(target=target, index=index, span=span):
                t = self.expr(target)
                if t.type.name != "dynamic":
                    raise self.fail("KH244", f"indexing needs a dynamic value, not {t.type}", target.span)
                return B.BCall(DYNAMIC, span, "index", (t, self.expr(index)))
            case A.TypeRef(type_name=tn, span=span):
                return B.BType(BY_NAME[tn], span)
            case A.JoinSide(span=span):
                raise self.fail("KH245", "`$left`/`$right` are only allowed in a join's `on` clause", span)
            case A.Star(span=span):
                raise unsupported("`*` (all columns) inside an expression", span)
            case A.NamedArg(span=span, name=name):
                raise self.fail("KH246", f"named argument `{name}` is not allowed here", span)
        raise self.fail("KH247", "a tabular expression cannot be used where a scalar value is expected", e.span)

    def literal(self, e: A.Literal) -> B.BExpr:
        if e.kind == "null":
            # Kusto has no untyped null value (KS142): it is written long(null), string(null), dynamic(null) ...
            raise self.fail("KH211", "`null` alone is not a value in KQL", e.span,
                            "write a typed null: long(null), real(null), datetime(null), dynamic(null), ...")
        if e.kind == "dynamic":
            return B.BLit(dynamic_type(e.value), e.span, e.value)
        if self.search and e.kind == "string":
            return B.BCall(BOOL, e.span, "search_term", (B.BLit(STRING, e.span, e.value),))
        return B.BLit(BY_NAME[e.kind], e.span, e.value)

    def name(self, name: str, span: Span) -> B.BExpr:
        col = self.columns.get(name)
        if col is not None:
            return B.BCol(col.type, span, name)
        found = self.scope.lookup(name)
        if isinstance(found, B.BExpr):
            return found
        if isinstance(found, B.BRel):
            raise self.fail("KH248", f"`{name}` is a table; a scalar value is expected here", span,
                            "use toscalar(...) for a single value, or `in (T)` for a membership test")
        if found is not None:
            raise self.fail("KH248", f"`{name}` is a function; call it with parentheses", span)
        where = "column or variable" if self.schema is not None else "variable"
        raise self.fail("KH211", f"unknown {where} `{name}`", span,
                        *did_you_mean(name, list(self.columns) + self.scope.names()))

    def member(self, target: A.Expr, name: str, span: Span) -> B.BExpr:
        t = self.expr(target)
        if t.type.name != "dynamic":
            raise self.fail("KH244", f"`.{name}` needs a dynamic value, not {t.type}", span)
        return B.BCall(DYNAMIC, span, "member", (t, B.BLit(STRING, span, name)))

    # ------------------------------------------------------------ operators

    def apply(self, fn_name: str, args: list[B.BExpr], span: Span) -> B.BExpr:
        fn = F.lookup(fn_name)
        assert fn is not None, fn_name
        try:
            t = fn.rule(args)
        except F.UnsupportedTypes as exc:
            raise unsupported(str(exc), span) from None
        except F.TypeRuleError as exc:
            raise self.fail("KH242", f"{fn_name}: {exc}", span) from None
        return B.BCall(t, span, fn.name, tuple(args))

    def binary(self, op: str, left: A.Expr, right: A.Expr, span: Span) -> B.BExpr:
        if self.search and op in ("and", "or"):
            return self.apply(op, [self.expr(left), self.expr(right)], span)
        lhs = self.expr(left)
        rhs = self.expr(right)
        if op in ARITHMETIC or op in COMPARISONS or op in ("and", "or"):
            return self.apply(op, [lhs, rhs], span)
        if op in F.STRING_OPERATORS:
            if op == "matches regex" and not (isinstance(rhs, B.BLit) and isinstance(rhs.value, str)):
                raise unsupported("`matches regex` with a non-constant pattern", right.span)
            return self.apply(op, [lhs, rhs], span)
        raise unsupported(f"the `{op}` operator", span)

    def in_list(self, op: str, left: A.Expr, items: tuple[A.Expr, ...], span: Span) -> B.BExpr:
        lhs = self.expr(left)
        args: list[B.BExpr] = [lhs]
        for it in items:
            if self.owner.binder.is_tabular(it, self.scope):
                if op not in ("in", "!in", "in~", "!in~", "has_any") or len(items) != 1:
                    raise unsupported(f"`{op}` with a tabular subquery", it.span)
                rel = self.owner.binder.tabular(it, self.scope)
                if not rel.schema:
                    raise self.fail("KH249", f"`{op}` needs a table with at least one column", it.span)
                args.append(B.BColumnSubquery(rel.schema[0].type, it.span, rel))
                continue
            args.append(fold(self.expr(it)))
        if len(args) == 1:
            raise self.fail("KH249", f"`{op}` needs at least one value", span)
        return self.apply(op, args, span)

    # ------------------------------------------------------------ calls

    def call(self, e: A.Call) -> B.BExpr:
        name = e.name
        if self.search and name == "not":
            return self.apply("not", [self.expr(a) for a in e.args], e.span)
        found = self.scope.lookup(name)
        if isinstance(found, tuple) and isinstance(found[0], A.FunctionLiteral):
            return self.user_function(name, found[0], found[1], e)
        if name == "toscalar":
            if len(e.args) != 1:
                raise self.fail("KH250", "toscalar() takes one tabular expression", e.span)
            if not self.owner.binder.is_tabular(e.args[0], self.scope):
                return self.expr(e.args[0])  # toscalar(2) is 2
            rel = self.owner.binder.tabular(e.args[0], self.scope)
            if not rel.schema:
                raise self.fail("KH250", "toscalar() of a table with no columns", e.span)
            return B.BScalarSubquery(rel.schema[0].type, e.span, rel)
        if name == "column_names_of":
            if len(e.args) != 1 or not self.owner.binder.is_tabular(e.args[0], self.scope):
                raise self.fail("KH250", "column_names_of() takes one tabular expression", e.span)
            rel = self.owner.binder.tabular(e.args[0], self.scope)
            return B.BLit(DYNAMIC, e.span, [c.name for c in rel.schema])
        if name == "pack_all":
            return self.pack_all(e)
        if name == "bin_auto":
            return self.bin_auto(e)
        fn = scalar_twin(name, len(e.args)) or F.lookup(name)
        if fn is not None and fn.kind == "scalar" and fn.name.startswith("$scalar:"):
            name = fn.name
        if fn is None:
            if name in ("materialize", "view", "table"):
                raise self.fail("KH247", f"{name}() returns a table; a scalar value is expected here", e.span)
            if name in kusto_function_names():
                raise unsupported(f"the function `{name}()`", e.name_span)
            raise self.fail("KH251", f"unknown function `{name}`", e.name_span,
                            *did_you_mean(name, list(F.REGISTRY)))
        n = len(e.args)
        if n < fn.min_args or (fn.max_args >= 0 and n > fn.max_args):
            expected = str(fn.min_args) if fn.min_args == fn.max_args else (
                f"{fn.min_args} to {fn.max_args}" if fn.max_args >= 0 else f"at least {fn.min_args}")
            raise self.fail("KH252", f"{name}() takes {expected} argument(s), got {n}", e.span)
        if fn.kind == "aggregate":
            return self.aggregate_call(fn, e)
        if fn.kind == "window":
            if not self.serialized:
                raise self.fail("KH253", f"{name}() needs a serialized row set", e.span,
                                "add `| serialize` or `| sort by ...` before this operator")
            args = [self.expr(a) for a in e.args]
            return B.BWindow(fn.rule(args), e.span, fn.name, tuple(args))
        if name == "series_stats":
            raise self.fail("KH254", "series_stats() returns several columns: use it in "
                            "`extend (a, b, ...) = series_stats(x)` or `extend series_stats(x)`", e.span)
        args = [self.expr(a) for a in e.args]
        return self.apply(name, args, e.span)

    def aggregate_call(self, fn: F.Fn, e: A.Call) -> B.BExpr:
        if not self.aggregate:
            raise self.fail("KH255", f"aggregate function {e.name}() can only be used in `summarize`", e.span)
        if self.in_aggregate:
            raise self.fail("KH255", f"aggregate function {e.name}() cannot be nested in another aggregate", e.span)
        self.in_aggregate = True
        try:
            args = [fold(self.expr(a)) for a in e.args]
        finally:
            self.in_aggregate = False
        try:
            t = fn.rule(args) if args else fn.rule([])
        except F.UnsupportedTypes as exc:
            raise unsupported(str(exc), e.span) from None
        except F.TypeRuleError as exc:
            raise self.fail("KH242", f"{e.name}: {exc}", e.span) from None
        return B.BAgg(t, e.span, fn.name, tuple(args))

    def user_function(self, name: str, fn: A.FunctionLiteral, closure: Scope, e: A.Call) -> B.BExpr:
        binder = self.owner.binder
        if any(p.type_name is None for p in fn.params):
            raise unsupported(f"calling `{name}` with a tabular argument in a scalar context", e.span)
        if len(e.args) > len(fn.params):
            raise self.fail("KH204", f"too many arguments: `{name}` takes {len(fn.params)}", e.span)
        args = arrange_arguments(fn, e.args, name)
        inner = closure.copy()
        for p in fn.params:
            if p.name in args:
                inner.define(p.name, self.expr(args[p.name]))  # arguments see the caller's row
            elif p.default is not None:
                inner.define(p.name, fold(self.expr(p.default)))
            else:
                raise self.fail("KH204", f"missing argument `{p.name}` of `{name}`", e.span)
        result: B.BExpr | None = None
        for st in fn.body:
            if isinstance(st, A.Let):
                binder.bind_let(st, inner)
            elif isinstance(st, A.QueryStatement):
                if binder.is_tabular(st.expr, inner):
                    raise self.fail("KH247", f"function `{name}` returns a table; a scalar is expected here", e.span)
                result = _Bind(self.owner, self.schema, _merge(inner, self.scope), self.serialized,
                               self.aggregate).expr(st.expr)
        if result is None:
            raise self.fail("KH250", f"function `{name}` has no result expression", e.span)
        return result


def arrange_arguments(fn: A.FunctionLiteral, args: tuple[A.Expr, ...], name: str) -> dict[str, A.Expr]:
    """Arguments by parameter: `f(b=2, 1)` names b; positional arguments fill the other parameters in order."""
    params = [p.name for p in fn.params]
    named = {a.name: a.value for a in args if isinstance(a, A.NamedArg)}
    for a in args:
        if isinstance(a, A.NamedArg) and a.name not in params:
            raise error("KH204", f"`{name}` has no parameter `{a.name}`", a.span)
    free = [p for p in params if p not in named]
    positional = [a for a in args if not isinstance(a, A.NamedArg)]
    if len(positional) > len(free):
        raise error("KH204", f"too many arguments: `{name}` takes {len(params)}", args[-1].span)
    return named | dict(zip(free, positional, strict=False))


def _merge(inner: Scope, outer: Scope) -> Scope:
    merged = Scope(outer.values)
    merged.values.update(inner.values)
    return merged
