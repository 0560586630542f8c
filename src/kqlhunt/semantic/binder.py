"""Binder: `Script` AST -> `BoundQuery`. Resolves names, types expressions, computes output schemas.

Scalar binding is in `scalars.py`; this module binds statements and tabular operators. Kusto's naming
rules (unnamed columns, duplicate names after joins, `percentiles` columns) are applied here, so the
bound schema is exactly what Kusto reports.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, fields, is_dataclass

from kqlhunt.diagnostics import KqlError, Span, error, unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic import functions as F
from kqlhunt.semantic.bag_unpack import NeedsBagSchema, bag_args, unpack
from kqlhunt.semantic.catalog import Catalog
from kqlhunt.semantic.fold import fold
from kqlhunt.semantic.naming import (
    aggregate_name,
    did_you_mean,
    expr_name,
    next_column_name,
    percentile_suffix,
    unique_name,
)
from kqlhunt.semantic.parse_pattern import CONVERTERS, parse_items, plan_parse
from kqlhunt.semantic.scalars import ScalarBinder, Scope, arrange_arguments
from kqlhunt.semantic.scan_op import bind_scan
from kqlhunt.semantic.signatures.series import MULTI_OUTPUTS, MultiOutput
from kqlhunt.semantic.types import BOOL, BY_NAME, DYNAMIC, LONG, STRING, KType, array_of
from kqlhunt.syntax import ast as A

JOIN_KINDS = {
    "innerunique", "inner", "leftouter", "rightouter", "fullouter", "leftsemi", "leftanti",
    "leftantisemi", "rightsemi", "rightanti", "rightantisemi",
}
# `set` request properties: honoured (they change the answer) and accepted without effect (limits,
# tracing, caching: kqlhunt never truncates results)
HONOURED_OPTIONS = {"query_bin_auto_size", "query_bin_auto_at", "query_now"}
IGNORED_OPTIONS = {
    "notruncation", "truncationmaxsize", "truncationmaxrecords", "servertimeout", "norequesttimeout", "querytrace",
    "query_results_cache_max_age", "maxmemoryconsumptionperiterator", "max_memory_consumption_per_query_per_node",
    "query_fanout_threads_percent", "query_fanout_nodes_percent", "query_datascope", "request_app_name",
    "request_description", "request_readonly", "query_consistency", "deferpartialqueryfailures",
}
# Defender's FileProfile() columns and types (advanced-hunting-fileprofile-function)
FILE_PROFILE_COLUMNS: tuple[tuple[str, KType], ...] = tuple((n, BY_NAME[t]) for n, t in (
    ("SHA1", "string"), ("SHA256", "string"), ("MD5", "string"), ("FileSize", "int"), ("GlobalPrevalence", "int"),
    ("GlobalFirstSeen", "datetime"), ("GlobalLastSeen", "datetime"), ("Signer", "string"), ("Issuer", "string"),
    ("SignerHash", "string"), ("IsCertificateValid", "bool"), ("IsRootSignerMicrosoft", "bool"),
    ("SignatureState", "string"), ("IsExecutable", "bool"), ("ThreatName", "string"), ("Publisher", "string"),
    ("SoftwareName", "string"), ("ProfileAvailability", "string")))
# Defender XDR's built-in enrichment functions (invoked on a table of events)
DEFENDER_FUNCTIONS = {"FileProfile", "DeviceFromIP", "AssignedIPAddresses", "SeenBy"}
# delimited text formats and the structured ones kqlhunt reads for `externaldata`
EXTERNAL_FORMATS = ("csv", "tsv", "tsve", "scsv", "sohsv", "psv", "txt", "raw", "json", "multijson", "parquet")
LEFT_ONLY = {"leftsemi", "leftanti", "leftantisemi"}
RIGHT_ONLY = {"rightsemi", "rightanti", "rightantisemi"}


@dataclass
class _Ctx:
    serialized: bool = False


# the aggregates that give one column per percentage (percentile_<x>_<p>)
PERCENTILES = ("percentile", "percentiles", "percentilew", "percentilesw")


@dataclass
class Binder:
    catalog: Catalog
    parameters: dict[str, B.BLit] = field(default_factory=dict)
    lets: dict[str, B.BRel] = field(default_factory=dict)
    render: str | None = None
    tables: list[str] = field(default_factory=list)  # tables the query reads, in first-seen order
    externals: dict[str, B.ExternalSource] = field(default_factory=dict)
    bag_slots: dict[int, list[tuple[str, KType]]] = field(default_factory=dict)  # bag_unpack columns found in data
    options: dict[str, B.BLit] = field(default_factory=dict)  # `set name = value` request properties

    def __post_init__(self) -> None:
        self.scalars = ScalarBinder(self)

    # ------------------------------------------------------------ statements

    def bind_script(self, script: A.Script) -> B.BoundQuery:
        scope = Scope()
        result: B.BRel | None = None
        for st in script.statements:
            if isinstance(st, A.Let):
                self.bind_let(st, scope)
            elif isinstance(st, A.SetOption):
                self.set_option(st, scope)
            elif isinstance(st, A.QueryStatement):
                if result is not None:
                    raise error("KH201", "kqlhunt runs one query per request; found a second query statement",
                                st.span)
                result = self.tabular(st.expr, scope)
        if result is None:
            raise error("KH201", "the query has no tabular expression to run (only `let` statements)",
                        script.statements[-1].span)
        now = self.options.get("query_now")
        return B.BoundQuery(result, dict(self.parameters), dict(self.lets), self.render, list(self.tables),
                            dict(self.externals), now.value if now is not None else None)

    def set_option(self, st: A.SetOption, scope: Scope) -> None:
        """Request properties: those that shape the answer are honoured, those about limits and tracing
        (which never change kqlhunt's answer) are accepted, anything else is refused."""
        name = st.name.lower()
        if name in IGNORED_OPTIONS:
            return
        if name not in HONOURED_OPTIONS:
            raise unsupported(f"the request property `{st.name}`", st.span)
        if st.value is None:
            raise error("KH220", f"`set {st.name}` needs a value", st.span)
        value = fold(self.scalars.bind(st.value, None, scope))
        if not isinstance(value, B.BLit) or value.value is None:
            raise error("KH220", f"`set {st.name}` needs a constant value", st.value.span)
        if name == "query_now" and value.type.name != "datetime":
            raise error("KH220", "query_now must be a datetime", st.value.span)
        self.options[name] = value

    def bind_let(self, st: A.Let, scope: Scope) -> None:
        value = st.value
        if isinstance(value, A.FunctionLiteral):
            scope.define(st.name, value, scope.copy())
            return
        if self.is_tabular(value, scope):
            rel = self.tabular(value, scope, let_name=st.name)
            scope.define(st.name, rel)
            self.lets[st.name] = rel
            return
        expr = fold(self.scalars.bind(value, None, scope))
        scope.define(st.name, expr)
        if isinstance(expr, B.BLit):
            self.parameters[st.name] = expr

    def is_tabular(self, e: A.Expr, scope: Scope) -> bool:
        match e:
            case A.Pipeline() | A.Datatable() | A.PrintSource() | A.RangeSource() | A.UnionSource() \
                    | A.SearchSource() | A.ExternalData() | A.FindSource():
                return True
            case A.Name(name=name):
                found = scope.lookup(name)
                if isinstance(found, tuple) and isinstance(found[0], A.FunctionLiteral):
                    body = found[0].body
                    return not found[0].params and bool(body) and isinstance(body[-1], A.QueryStatement) \
                        and self.is_tabular(body[-1].expr, found[1])
                if found is not None:
                    return isinstance(found, B.BRel)
                return self.catalog.schema(name) is not None
            case A.Call(name=name):
                if name in ("materialize", "view", "table", "cluster", "database"):
                    return True
                found = scope.lookup(name)
                if isinstance(found, tuple) and isinstance(found[0], A.FunctionLiteral):
                    body = found[0].body
                    return bool(body) and isinstance(body[-1], A.QueryStatement) and self.is_tabular(
                        body[-1].expr, found[1])
                return False
        return False

    # ------------------------------------------------------------ tabular sources

    def tabular(self, e: A.Expr, scope: Scope, let_name: str | None = None) -> B.BRel:
        match e:
            case A.Pipeline(source=source, ops=ops):
                rel = self.tabular(source, scope)
                ctx = _Ctx(serialized=_serialized_source(rel))
                for op in ops:
                    rel = self.operator(op, rel, scope, ctx)
                return rel
            case A.Name(name=name, span=span):
                found = scope.lookup(name)
                if isinstance(found, B.BRel):
                    return found
                if isinstance(found, tuple) and isinstance(found[0], A.FunctionLiteral) and not found[0].params:
                    return self.call_user_function(name, (), span, scope)  # a view: `v` means `v()`
                if found is not None:
                    raise error("KH202", f"`{name}` is a scalar value, not a table", span)
                schema = self.catalog.schema(name)
                if schema is None:
                    raise error("KH203", f"unknown table `{name}`", span,
                                *did_you_mean(name, self.catalog.names() + scope.names()))
                if name not in self.tables:
                    self.tables.append(name)
                return B.BTable(schema, span, name)
            case A.Call(name="materialize", args=args, span=span):
                if len(args) != 1:
                    raise error("KH204", "materialize() takes one tabular expression", span)
                inner = self.tabular(args[0], scope)
                return B.BMaterialize(inner.schema, span, inner, let_name or f"materialized_{span.start}")
            case A.Call(name=name, args=args, span=span) if isinstance(scope.lookup(name), tuple):
                return self.call_user_function(name, args, span, scope)
            case A.Call(name=name, span=span):
                if name in ("view", "table", "cluster", "database", "external_table"):
                    raise unsupported(f"the `{name}()` function", span)
                raise error("KH203", f"`{name}(...)` is not a tabular function", span)
            case A.Datatable():
                return self.datatable(e)
            case A.ExternalData():
                return self.externaldata(e, let_name)
            case A.PrintSource(items=items, span=span):
                values: list[tuple[str, B.BExpr]] = []
                for i, item in enumerate(items):
                    several = self.several_outputs(item, (), scope, _Ctx(), [n for n, _ in values])
                    if several is not None:
                        values += several
                        continue
                    bexpr = self.scalars.bind(item.expr, None, scope)
                    # the engine names every unnamed print column print_<i>, even a bare variable
                    name = item.names[0] if item.names else f"print_{i}"
                    values.append((name, bexpr))
                schema = tuple(B.Column(n, x.type.widened()) for n, x in values)
                return B.BValues(schema, span, (tuple(x for _, x in values),))
            case A.RangeSource(column=col, start=start, stop=stop, step=step, span=span):
                lo = fold(self.scalars.bind(start, None, scope))
                hi = fold(self.scalars.bind(stop, None, scope))
                st = fold(self.scalars.bind(step, None, scope))
                t = lo.type if lo.type.name in ("datetime", "timespan", "real") else LONG
                if t.name == "long" and "real" in (hi.type.name, st.type.name):
                    t = BY_NAME["real"]
                return B.BRange((B.Column(col, t),), span, lo, hi, st)
            case A.UnionSource(options=options, tables=tables, span=span):
                found = self.union_inputs(tables, options, scope)
                if not found:
                    raise error("KH203", "none of the union's tables exists", span)
                return self.union([r for _, r in found], options, span, [_table_label(t) for t, _ in found])
            case A.SearchSource():
                return self.search(e, scope)
            case A.FindSource():
                return self.find(e, scope)
        raise error("KH205", "expected a tabular expression (a table, a let-bound table or a pipeline)", e.span)

    def call_user_function(self, name: str, args: tuple[A.Expr, ...], span: Span, scope: Scope,
                           piped: B.BRel | None = None) -> B.BRel:
        fn, closure = scope.lookup(name)  # type: ignore[misc]
        inner = self.function_scope(fn, closure, args, span, scope, piped)
        result: B.BRel | None = None
        for st in fn.body:
            if isinstance(st, A.Let):
                self.bind_let(st, inner)
            elif isinstance(st, A.QueryStatement):
                result = self.tabular(st.expr, inner)
        if result is None:
            raise error("KH204", f"function `{name}` has no tabular result", span)
        return result

    def function_scope(self, fn: A.FunctionLiteral, closure: Scope, args: tuple[A.Expr, ...], span: Span,
                       caller: Scope, piped: B.BRel | None = None) -> Scope:
        """The function body's scope: parameters bound to the arguments. `piped` (from `invoke`) is the
        first, tabular, argument."""
        params = fn.params
        inner = closure.copy()
        if piped is not None:
            if not params or params[0].type_name is not None:
                raise error("KH204", "`invoke` needs a function whose first parameter is a table", span)
            inner.define(params[0].name, piped)
            params = params[1:]
        if len(args) > len(params):
            raise error("KH204", f"too many arguments: the function takes {len(params)}", span)
        by_name = arrange_arguments(A.FunctionLiteral(fn.span, tuple(params), fn.body), args, "the function")
        for p in params:
            if p.name in by_name:
                arg = by_name[p.name]
            elif p.default is not None:
                arg = p.default
            else:
                raise error("KH204", f"missing argument `{p.name}`", span)
            if p.type_name is None:
                inner.define(p.name, self.tabular(arg, caller))
            else:
                inner.define(p.name, fold(self.scalars.bind(arg, None, caller)))
        return inner

    def datatable(self, e: A.Datatable) -> B.BValues:
        schema = tuple(B.Column(c.name, BY_NAME[c.type_name]) for c in e.columns)
        width = len(schema)
        if len(e.values) % width:
            raise error("KH206", f"datatable has {len(e.values)} values, not a multiple of its {width} columns",
                        e.span)
        rows: list[tuple[B.BExpr, ...]] = []
        for r in range(0, len(e.values), width):
            row: list[B.BExpr] = []
            for c, v in zip(schema, e.values[r:r + width], strict=True):
                lit = fold(self.scalars.bind(v, None, Scope()))
                if not isinstance(lit, B.BLit):
                    raise error("KH206", "datatable values must be literals", v.span)
                row.append(self.scalars.coerce_literal(lit, c.type))
            rows.append(tuple(row))
        return B.BValues(schema, e.span, tuple(rows))

    def externaldata(self, e: A.ExternalData, let_name: str | None) -> B.BRel:
        schema = tuple(B.Column(c.name, BY_NAME[c.type_name]) for c in e.columns)
        options = {o.name.lower(): (o.value.value if isinstance(o.value, A.Literal) else None, o.span)
                   for o in e.options}
        fmt = str(options.pop("format", ("csv", e.span))[0]).lower()
        if fmt not in EXTERNAL_FORMATS:
            raise unsupported(f"externaldata format `{fmt}`", e.span, f"kqlhunt reads {', '.join(EXTERNAL_FORMATS)}")
        ignore_first = options.pop("ignorefirstrecord", (False, e.span))[0]
        if isinstance(ignore_first, str):
            ignore_first = ignore_first.lower() == "true"
        for name, (_, span) in options.items():
            raise unsupported(f"the externaldata option `{name}`", span)
        base = f"externaldata_{let_name}" if let_name else "externaldata"
        name = base if base not in self.externals else f"{base}_{len(self.externals) + 1}"
        self.externals[name] = B.ExternalSource(name, schema, e.uris, fmt, bool(ignore_first), e.span)
        self.tables.append(name)
        return B.BTable(schema, e.span, name)

    def find(self, e: A.FindSource, scope: Scope) -> B.BRel:
        """find: each table's rows that meet the predicate, as a union. A table with none of the predicate's
        columns takes no part; a column it lacks reads as null. project-smart keeps the predicate's columns
        and the columns every taking-part table has (in order of first appearance) and packs the rest
        of each row into `pack_`."""
        source = next((str(getattr(o.value, "value", "")) for o in e.options if o.name == "withsource"), "source_")
        rels = [(t, self.tabular(t, scope)) for t in e.tables]
        named = _names_in(e.predicate)
        types: dict[str, KType] = {}
        for _, r in rels:
            for c in r.schema:
                if c.name in named:
                    if c.name in types and types[c.name] != c.type:
                        raise unsupported(f"find over column `{c.name}` with different types in different tables",
                                          e.span)
                    types.setdefault(c.name, c.type)
        used = [(t, r) for t, r in rels if any(B.find(r.schema, n) for n in types)]
        if not used:
            raise error("KH211", "no table given to find has a column the predicate uses", e.predicate.span)
        if e.project is not None:
            out_cols: list[B.Column] = []
            for decl in e.project:
                found = [c for _, r in used if (c := B.find(r.schema, decl.name)) is not None]
                if decl.type_name:
                    out_cols.append(B.Column(decl.name, BY_NAME[decl.type_name]))
                elif found and all(c.type == found[0].type for c in found):
                    out_cols.append(B.Column(decl.name, found[0].type))
                else:
                    raise error("KH211", f"find cannot tell the type of `{decl.name}`: write `{decl.name}: type`",
                                decl.span)
            packed = False
        else:
            common = set.intersection(*({c.name for c in r.schema} for _, r in used))
            order: list[B.Column] = []
            for _, r in used:
                for c in r.schema:
                    if (c.name in common or c.name in types) and all(o.name != c.name for o in order):
                        order.append(c)
            out_cols = order
            packed = any(c.name not in {o.name for o in out_cols} for _, r in used for c in r.schema)
        parts: list[B.BRel] = []
        for t, r in used:
            missing = [B.Column(n, typ) for n, typ in types.items() if B.find(r.schema, n) is None]
            widened = r
            if missing:
                items = tuple((c.name, B.BCol(c.type, e.span, c.name)) for c in r.schema) + tuple(
                    (c.name, B.BLit(c.type, e.span, None)) for c in missing)
                widened = B.BProject(r.schema + tuple(missing), e.span, r, items, "find")
            pred = fold(self.scalars.bind(e.predicate, widened.schema, scope))
            if pred.type.name not in ("bool", "dynamic", "null"):
                raise error("KH210", f"the find predicate must be bool, not {pred.type.name}", e.predicate.span)
            kept = B.BFilter(widened.schema, e.span, widened, pred)
            items2: list[tuple[str, B.BExpr]] = [(source, B.BLit(STRING, e.span, _table_label(t)))]
            for c in out_cols:
                have = B.find(r.schema, c.name)
                value: B.BExpr = B.BCol(have.type, e.span, c.name) if have is not None else B.BLit(c.type, e.span, None)
                if have is not None and have.type != c.type:
                    value = B.BCall(c.type, e.span, CONVERTERS[c.type.name], (value,))
                items2.append((c.name, value))
            if packed:
                rest = [c for c in r.schema if c.name not in {o.name for o in out_cols}]
                args: list[B.BExpr] = []
                for c in rest:
                    args += [B.BLit(STRING, e.span, c.name), B.BCol(c.type, e.span, c.name)]
                items2.append(("pack_", B.BCall(DYNAMIC, e.span, "pack", tuple(args)) if args
                               else B.BLit(DYNAMIC, e.span, {})))
            schema = tuple(B.Column(n, x.type if n != "pack_" else DYNAMIC) for n, x in items2)
            parts.append(B.BProject(schema, e.span, kept, tuple(items2), "find"))
        if len(parts) == 1:
            return parts[0]
        return B.BUnion(parts[0].schema, e.span, tuple(parts), None, tuple(_table_label(t) for t, _ in used))

    def search(self, e: A.SearchSource, scope: Scope) -> B.BRel:
        if not e.tables:
            raise unsupported("`search` without `in (Table)`", e.span, "name the tables to search")
        for opt in e.options:
            if opt.name == "kind" and getattr(opt.value, "value", "") == "case_sensitive":
                raise unsupported("`search kind=case_sensitive`", opt.span)
        rels = [self.tabular(t, scope) for t in e.tables]
        labels = [_table_label(t) for t in e.tables]
        source = rels[0] if len(rels) == 1 else self.union(rels, (), e.span, labels)
        predicate = self.scalars.bind_search_predicate(e.predicate, source.schema, scope)
        schema = (B.Column("$table", STRING),) + tuple(c for c in source.schema if c.name != "$table")
        return B.BSearch(schema, e.span, source, predicate, tuple(labels))

    # ------------------------------------------------------------ operators

    def operator(self, op: A.Operator, rel: B.BRel, scope: Scope, ctx: _Ctx) -> B.BRel:
        match op:
            case A.Where(predicate=pred, span=span):
                p = fold(self.scalars.bind(pred, rel.schema, scope, serialized=ctx.serialized))
                if p.type.name not in ("bool", "dynamic", "null"):
                    raise error("KH210", f"`where` needs a bool predicate, this one is {p.type.name}", pred.span)
                return B.BFilter(rel.schema, span, rel, p)
            case A.Extend(items=items):
                return self.extend(rel, items, op.span, scope, ctx)
            case A.Project(items=items):
                return self.project(rel, items, op.span, scope, ctx)
            case A.ProjectAway(patterns=pats):
                drop = self.match_patterns(rel.schema, pats, require_plain=True)
                keep = [c for c in rel.schema if c.name not in drop]
                return self.passthrough(rel, [c.name for c in keep], op.span, "project-away")
            case A.ProjectKeep(patterns=pats):
                keep_names = self.match_patterns(rel.schema, pats, require_plain=True)
                return self.passthrough(rel, [c.name for c in rel.schema if c.name in keep_names], op.span,
                                        "project-keep")
            case A.ProjectReorder(patterns=pats):
                front: list[str] = []
                for p in pats:
                    hits = [c.name for c in rel.schema if _matches(c.name, p.pattern) and c.name not in front]
                    if p.order:
                        hits = _sorted_names(hits, p.order)
                    front.extend(hits)
                    if not any(_matches(c.name, p.pattern) for c in rel.schema) and "*" not in p.pattern:
                        raise self.unknown_column(p.pattern, p.span, rel.schema)
                rest = [c.name for c in rel.schema if c.name not in front]
                return self.passthrough(rel, front + rest, op.span, "project-reorder")
            case A.ProjectRename(pairs=pairs):
                return self.rename(rel, pairs, op.span)
            case A.Summarize():
                return self.summarize(rel, op, scope)
            case A.Join():
                return self.join(rel, op, scope)
            case A.Lookup():
                return self.lookup(rel, op, scope)
            case A.Union(options=options, tables=tables, span=span):
                found = self.union_inputs(tables, options, scope)
                rels = [rel] + [r for _, r in found]
                return self.union(rels, options, span, ["union_input"] + [_table_label(t) for t, _ in found])
            case A.MvExpand():
                return self.mv_expand(rel, op, scope, ctx)
            case A.MvApply():
                return self.mv_apply(rel, op, scope)
            case A.Evaluate():
                return self.evaluate(rel, op, scope)
            case A.Parse():
                return self.parse(rel, op, scope, ctx)
            case A.Scan():
                return bind_scan(self, rel, op, scope, fold)
            case A.TopNested():
                ctx.serialized = False
                return self.top_nested(rel, op, scope)
            case A.Partition(key=key, subquery=ops, span=span):
                if B.find(rel.schema, key) is None:
                    raise self.unknown_column(key, span, rel.schema)
                apply_input = B.BApplyInput(rel.schema, span)
                sub: B.BRel = apply_input
                sub_ctx = _Ctx(serialized=ctx.serialized)
                for sub_op in ops:
                    sub = self.operator(sub_op, sub, scope, sub_ctx)
                ctx.serialized = False
                return B.BPartition(sub.schema, span, rel, key, sub, apply_input)
            case A.MakeSeries():
                ctx.serialized = False
                return self.make_series(rel, op, scope)
            case A.Invoke(call=call, span=span):
                found = scope.lookup(call.name)
                if not (isinstance(found, tuple) and isinstance(found[0], A.FunctionLiteral)):
                    if call.name == "FileProfile":
                        return self.file_profile(rel, call, scope)
                    if call.name in DEFENDER_FUNCTIONS:
                        raise unsupported(f"`invoke {call.name}()`: a Defender enrichment function; kqlhunt "
                                          "has no such data", call.span)
                    raise error("KH203", f"`invoke` needs a function defined with `let`; `{call.name}` is not one",
                                call.span, *did_you_mean(call.name, scope.names()))
                ctx.serialized = False
                return self.call_user_function(call.name, call.args, span, scope, piped=rel)
            case A.Sort(keys=keys, span=span):
                bkeys = tuple(self.sort_key(k, rel.schema, scope, ctx) for k in keys)
                ctx.serialized = True
                return B.BSort(rel.schema, span, rel, bkeys, op.keyword)
            case A.Top(count=count, key=key, span=span):
                n = self.constant_int(count, scope, "top")
                sorted_rel = B.BSort(rel.schema, span, rel, (self.sort_key(key, rel.schema, scope, ctx),), "top")
                ctx.serialized = True
                return B.BTake(rel.schema, span, sorted_rel, n)
            case A.Take(count=count, span=span):
                return B.BTake(rel.schema, span, rel, self.constant_int(count, scope, op.keyword))
            case A.Count(span=span, name=name):
                agg = B.BAgg(LONG, span, "count", ())
                ctx.serialized = False
                return B.BSummarize((B.Column(name, LONG),), span, rel, (), ((name, agg),))
            case A.Distinct(columns=cols, span=span):
                ctx.serialized = False
                if len(cols) == 1 and isinstance(cols[0], A.Star):
                    return B.BDistinct(rel.schema, span, rel)
                items = [self.project_item(A.Assignment(c.span, (), c), rel.schema, scope, [], ctx) for c in cols]
                projected = B.BProject(tuple(B.Column(n, x.type) for n, x in items), span, rel, tuple(items),
                                       "distinct")
                return B.BDistinct(projected.schema, span, projected)
            case A.Serialize(items=items, span=span):
                ctx.serialized = True
                ser = B.BSerialize(rel.schema, span, rel)
                return self.extend(ser, items, span, scope, ctx) if items else ser
            case A.As(name=name):
                scope.define(name, rel)
                return rel
            case A.Getschema(span=span):
                return self.getschema(rel, span)
            case A.Render(chart=chart, span=span):
                self.render = chart
                return B.BRender(rel.schema, span, rel, chart)
            case A.Unsupported(name=name, span=span):
                raise unsupported(f"the `{name}` operator", span)
        raise unsupported(f"the `{type(op).__name__.lower()}` operator", op.span)

    # ------------------------------------------------------------ helpers

    def unknown_column(self, name: str, span: Span, schema: B.Schema) -> KqlError:
        return error("KH211", f"unknown column `{name}`", span, *did_you_mean(name, B.schema_names(schema)))

    def constant_int(self, e: A.Expr, scope: Scope, what: str) -> int:
        value = fold(self.scalars.bind(e, None, scope))
        if not isinstance(value, B.BLit) or not isinstance(value.value, int) or isinstance(value.value, bool):
            raise error("KH212", f"`{what}` needs a constant whole number", e.span)
        return value.value

    def passthrough(self, rel: B.BRel, names: list[str], span: Span, op: str) -> B.BRel:
        cols = {c.name: c for c in rel.schema}
        schema = tuple(cols[n] for n in names)
        items = tuple((n, B.BCol(cols[n].type, span, n)) for n in names)
        return B.BProject(schema, span, rel, items, op)

    def match_patterns(self, schema: B.Schema, pats: tuple[A.NamePattern, ...], require_plain: bool) -> set[str]:
        out: set[str] = set()
        for p in pats:
            hits = {c.name for c in schema if _matches(c.name, p.pattern)}
            if not hits and require_plain:
                raise self.unknown_column(p.pattern, p.span, schema)
            out |= hits
        return out

    def rename(self, rel: B.BRel, pairs: tuple[tuple[str, str, Span], ...], span: Span) -> B.BRel:
        mapping: dict[str, str] = {}
        for new, old, pspan in pairs:
            if B.find(rel.schema, old) is None:
                raise self.unknown_column(old, pspan, rel.schema)
            mapping[old] = new
        out_names = [mapping.get(c.name, c.name) for c in rel.schema]
        existing = {c.name for c in rel.schema}
        if len(set(out_names)) != len(out_names) or any(new in existing and new != old for old, new in mapping.items()):
            raise error("KH213", "project-rename onto a name that already exists", span)
        schema = tuple(B.Column(mapping.get(c.name, c.name), c.type) for c in rel.schema)
        items = tuple((mapping.get(c.name, c.name), B.BCol(c.type, span, c.name)) for c in rel.schema)
        return B.BProject(schema, span, rel, items, "project-rename")

    def getschema(self, rel: B.BRel, span: Span) -> B.BRel:
        schema = (B.Column("ColumnName", STRING), B.Column("ColumnOrdinal", BY_NAME["int"]),
                  B.Column("DataType", STRING), B.Column("ColumnType", STRING))
        dotnet = {"bool": "System.SByte", "int": "System.Int32", "long": "System.Int64", "real": "System.Double",
                  "decimal": "System.Data.SqlTypes.SqlDecimal", "string": "System.String",
                  "datetime": "System.DateTime", "timespan": "System.TimeSpan", "guid": "System.Guid",
                  "dynamic": "System.Object"}
        rows = tuple(
            (B.BLit(STRING, span, c.name), B.BLit(BY_NAME["int"], span, i),
             B.BLit(STRING, span, dotnet[c.type.name]), B.BLit(STRING, span, c.type.name))
            for i, c in enumerate(rel.schema))
        return B.BValues(schema, span, rows)

    # ------------------------------------------------------------ extend / project

    def extend(self, rel: B.BRel, items: tuple[A.Assignment, ...], span: Span, scope: Scope, ctx: _Ctx) -> B.BRel:
        """Every item sees the input row only (Kusto: a column made by this extend cannot be used in the
        same extend); a name that exists is replaced in place, a new one appended."""
        names = [c.name for c in rel.schema]
        produced: list[tuple[str, B.BExpr]] = []
        explicit: set[str] = set()
        for item in items:
            for name, bexpr in self.extend_item(item, rel.schema, names, scope, ctx):
                if name in explicit and item.names:
                    raise error("KH213", f"column `{name}` is assigned twice in one `extend`", item.span)
                if item.names:
                    explicit.add(name)
                produced.append((name, bexpr))  # an unnamed item that derives an existing name replaces it
                if name not in names:
                    names.append(name)
        return self.with_columns(rel, produced, span, "extend")

    def parse(self, rel: B.BRel, op: A.Parse, scope: Scope, ctx: _Ctx) -> B.BRel:
        plan = plan_parse(op)
        text = fold(self.scalars.bind(op.source, rel.schema, scope, serialized=ctx.serialized))
        matched, items = parse_items(plan, text, op.span)
        if op.keyword == "parse-where":
            rel = B.BFilter(rel.schema, op.span, rel, matched)
        return self.with_columns(rel, items, op.span, op.keyword)

    def top_nested(self, rel: B.BRel, op: A.TopNested, scope: Scope) -> B.BRel:
        levels = []
        taken: list[str] = []
        for lv in op.levels:
            if lv.others is not None:
                raise unsupported("top-nested `with others`", lv.others.span)
            count = self.constant_int(lv.count, scope, "top-nested") if lv.count is not None else None
            key = fold(self.scalars.bind(lv.of.expr, rel.schema, scope))
            if key.type.name == "dynamic":
                raise error("KH215", "a top-nested expression cannot be dynamic; convert it first", lv.of.span)
            # measured on the oracle: an expression without a name gives the column name "" (and aggregated_)
            key_name = lv.of.names[0] if lv.of.names else (expr_name(lv.of.expr) or "")
            agg = fold(self.scalars.bind(lv.by.expr, rel.schema, scope, aggregate=True))
            if not _has_agg(agg):
                raise error("KH216", "a top-nested level needs an aggregation (sum(), count(), max(), ...)",
                            lv.by.span)
            agg_name = lv.by.names[0] if lv.by.names else f"aggregated_{key_name}"
            for name in (key_name, agg_name):
                if name in taken:
                    raise error("KH213", f"column `{name}` appears twice in top-nested", lv.span)
                taken.append(name)
            levels.append((key_name, key, agg_name, agg, count, lv.ascending))
        schema = tuple(c for k, kx, a, ax, _, _ in levels for c in (B.Column(k, kx.type), B.Column(a, ax.type)))
        return B.BTopNested(schema, op.span, rel, tuple(levels))

    def make_series(self, rel: B.BRel, op: A.MakeSeries, scope: Scope) -> B.BRel:
        span = op.span
        kind = next((str(getattr(o.value, "value", "")) for o in op.options if o.name == "kind"), None)
        if kind not in (None, "nonempty"):
            raise error("KH220", "make-series kind must be `nonempty`", op.span)
        if op.range_syntax:
            raise unsupported("make-series `on ... in range(...)` (use `from ... to ... step ...`)", op.axis.span)
        axis = fold(self.scalars.bind(op.axis, rel.schema, scope))
        axis_name = expr_name(op.axis)
        if axis_name is None:
            raise error("KH220", "the make-series axis must be a column", op.axis.span)
        if not (axis.type.is_numeric or axis.type.name in ("datetime", "timespan")):
            raise error("KH220", f"the make-series axis must be a datetime, timespan or number, not {axis.type}",
                        op.axis.span)

        def scalar(e: A.Expr | None, what: str, want: tuple[str, ...]) -> B.BExpr | None:
            if e is None:
                return None
            x = fold(self.scalars.bind(e, None, scope))
            if x.type.name not in want and not (x.type.is_numeric and any(w in ("long", "real") for w in want)):
                raise error("KH220", f"make-series {what} must be {' or '.join(want)}, not {x.type}", e.span)
            return x

        axis_kind = ("datetime",) if axis.type.name == "datetime" else \
            ("timespan",) if axis.type.name == "timespan" else ("long", "real")
        step_kind = ("timespan",) if axis.type.name in ("datetime", "timespan") else ("long", "real")
        lo_x = scalar(op.start, "`from`", axis_kind)
        hi_x = scalar(op.end, "`to`", axis_kind)
        step = scalar(op.step, "`step`", step_kind)
        assert step is not None
        nonempty = kind == "nonempty"
        if nonempty and (op.by or lo_x is None or hi_x is None):
            raise unsupported("make-series kind=nonempty with `by` or without `from`/`to`", op.span)

        keys: list[tuple[str, B.BExpr]] = []
        taken: list[str] = []
        for item in op.by:
            bexpr = fold(self.scalars.bind(item.expr, rel.schema, scope))
            if bexpr.type.name == "dynamic":
                raise error("KH215", "a `by` key cannot be dynamic; convert it first (tostring(...))", item.span)
            name = item.names[0] if item.names else (expr_name(item.expr) or next_column_name(taken))
            if name in taken:
                raise error("KH213", f"column `{name}` appears twice in `by`", item.span)
            keys.append((name, bexpr))
            taken.append(name)
        self._explicit = {item.names[0] for item in op.by if item.names}
        aggs: list[tuple[str, B.BExpr]] = []
        defaults: list[B.BExpr] = []
        for item, default in zip(op.aggregates, op.defaults, strict=True):
            bound = fold(self.scalars.bind(item.expr, rel.schema, scope, aggregate=True))
            if not _has_agg(bound) and isinstance(bound, B.BLit) and len(item.names) == 1:
                # a constant "aggregate" (`other=-1`): the value in bins that have rows
                produced = [(item.names[0], B.BAgg(bound.type, item.span, "take_any", (bound,)))]
            else:
                produced = self.aggregate_item(item, rel, scope, taken, [n for n, _ in keys])
            for name, bexpr in produced:
                value = fold(self.scalars.bind(default, None, scope)) if default is not None else None
                if value is None:
                    value = B.BLit(bexpr.type, span, 0 if bexpr.type.is_numeric else None)
                if not isinstance(value, B.BLit):
                    raise error("KH220", "a make-series default must be a constant", default.span if default
                                else span)
                defaults.append(self.scalars.coerce_literal(value, bexpr.type))
                aggs.append((name, bexpr))
                taken.append(name)
        if axis_name in taken:
            raise error("KH213", f"column `{axis_name}` is both the axis and another output column", op.axis.span)

        def call(fn: str, *args: B.BExpr) -> B.BExpr:
            entry = F.lookup(fn)
            assert entry is not None
            return B.BCall(entry.rule(list(args)), span, fn, args)

        # rows outside [from, to) take no part; bins are aligned on `from` (bin_at), else on bin()'s origin
        conds = []
        if lo_x is not None:
            conds.append(call(">=", axis, lo_x))
        if hi_x is not None:
            conds.append(call("<", axis, hi_x))
        source = rel
        for cond in conds:
            source = B.BFilter(source.schema, span, source, cond)
        binned = call("+", lo_x, call("bin", call("-", axis, lo_x), step)) if lo_x is not None \
            else call("bin", axis, step)
        present = B.BAgg(LONG, span, "count", ())
        inner_keys = tuple(keys) + (("__bin", binned),)
        inner_aggs = tuple(aggs) + (("__present", present),)
        inner = B.BSummarize(tuple(B.Column(n, x.type) for n, x in inner_keys + inner_aggs), span, source,
                             inner_keys, inner_aggs)

        first = lo_x if lo_x is not None else B.BCol(binned.type, span, "__lo")
        index = B.BCol(LONG, span, "__i")

        def ratio(a: B.BExpr, b: B.BExpr) -> B.BExpr:  # real-valued a / b for every axis type
            if a.type.name == "timespan":
                return call("/", a, b)
            return call("/", call("toreal", a), call("toreal", b))

        if hi_x is not None:
            count = call("tolong", call("ceiling", ratio(call("-", hi_x, first), step)))
        else:
            last = B.BCol(binned.type, span, "__hi")
            count = call("+", call("tolong", call("round", ratio(call("-", last, first), step))),
                         B.BLit(LONG, span, 1))
        bin_of = call("+", first, call("*", step, index))
        schema = tuple(B.Column(n, x.type) for n, x in keys) + tuple(
            B.Column(n, array_of(x.type)) for n, x in aggs) + (B.Column(axis_name, array_of(bin_of.type)),)
        return B.BSeriesFill(schema, span, inner, tuple(n for n, _ in keys),
                             tuple((n, d) for (n, _), d in zip(aggs, defaults, strict=True)), axis_name, count,
                             bin_of, nonempty)

    def with_columns(self, rel: B.BRel, items: list[tuple[str, B.BExpr]], span: Span, label: str) -> B.BRel:
        """`rel` plus computed columns: an existing name is replaced in place, a new one appended."""
        schema = list(rel.schema)
        assigned = dict(items)
        for name, bexpr in items:
            col = B.Column(name, bexpr.type)
            index = next((i for i, c in enumerate(schema) if c.name == name), None)
            if index is None:
                schema.append(col)
            else:
                schema[index] = col
        out = tuple((c.name, assigned.get(c.name) or B.BCol(c.type, span, c.name)) for c in schema)
        return B.BProject(tuple(schema), span, rel, out, label)

    def extend_item(self, item: A.Assignment, schema: B.Schema, names: list[str], scope: Scope, ctx: _Ctx) \
            -> list[tuple[str, B.BExpr]]:
        e = item.expr
        several = self.several_outputs(item, schema, scope, ctx, names)
        if several is not None:
            return several
        if len(item.names) > 1:
            if isinstance(e, A.Call) and F.lookup(e.name) is None:
                raise unsupported(f"`{e.name}()` with a tuple target", e.span)
            raise error("KH214", "a tuple target `(a, b) = ...` needs a function that returns several values "
                        "(series_stats)", item.span)
        bexpr = fold(self.scalars.bind(e, schema, scope, serialized=ctx.serialized))
        name = item.names[0] if item.names else (expr_name(e) or next_column_name(names))
        return [(name, bexpr)]

    def several_outputs(self, item: A.Assignment, schema: B.Schema, scope: Scope, ctx: _Ctx,
                        names: list[str] | None = None) -> list[tuple[str, B.BExpr]] | None:
        """Functions that produce several columns: series_stats(), array_sort_*() of several arrays."""
        e = item.expr
        if not isinstance(e, A.Call):
            return None
        if e.name == "series_stats":
            return self.series_stats(item, schema, scope, ctx, names)
        if e.name in MULTI_OUTPUTS:
            return self.multi_output(MULTI_OUTPUTS[e.name], item, schema, scope, ctx, names)
        if e.name in ("array_sort_asc", "array_sort_desc") and len(e.args) > 1:
            args = tuple(fold(self.scalars.bind(a, schema, scope, serialized=ctx.serialized)) for a in e.args)
            arrays = args[:-1] if args[-1].type.name == "bool" else args
            if len(arrays) < 2:
                return None
            if len(item.names) > len(arrays):
                raise error("KH214", f"{e.name}() of {len(arrays)} arrays returns {len(arrays)} columns", item.span)
            taken = list(names) if names is not None else [c.name for c in schema]
            out: list[tuple[str, B.BExpr]] = []
            for k, source in enumerate(e.args[:len(arrays)]):
                if k < len(item.names):
                    name = item.names[k]
                else:  # Kusto: <column>_sorted, or array<k>_sorted for an expression
                    base = expr_name(source) if isinstance(source, A.Name) else None
                    name = unique_name(f"{base or f'array{k}'}_sorted", taken)
                taken.append(name)
                part = (B.BLit(LONG, e.span, k),) + args
                fn = F.lookup(f"${e.name}_part")
                assert fn is not None
                out.append((name, B.BCall(fn.rule(list(part)), e.span, fn.name, part)))
            return out
        return None

    def multi_output(self, multi: MultiOutput, item: A.Assignment, schema: B.Schema, scope: Scope, ctx: _Ctx,
                     names: list[str] | None) -> list[tuple[str, B.BExpr]]:
        """A series function with several results (series_fit_line, series_decompose, ...): one column per
        result, named <function>_<column>_<result> unless a tuple names them."""
        call = item.expr
        assert isinstance(call, A.Call)
        if not multi.min_args <= len(call.args) <= multi.max_args:
            raise error("KH252", f"{multi.name}() takes {multi.min_args} to {multi.max_args} arguments", call.span)
        args = tuple(fold(self.scalars.bind(a, schema, scope, serialized=ctx.serialized)) for a in call.args)
        try:
            multi.check(list(args))
        except F.UnsupportedTypes as exc:
            raise unsupported(str(exc), call.span) from None
        except F.TypeRuleError as exc:
            raise error("KH252", str(exc), call.span) from None
        if len(item.names) > len(multi.outputs):
            raise error("KH214", f"{multi.name}() returns {len(multi.outputs)} values; the tuple names "
                        f"{len(item.names)}", item.span)
        base = call.args[0].name if isinstance(call.args[0], A.Name) else ""
        taken = list(names) if names is not None else [c.name for c in schema]
        out: list[tuple[str, B.BExpr]] = []
        for i, (suffix, t) in enumerate(multi.outputs):
            if len(item.names) > 1 and i >= len(item.names):
                break  # as series_stats: a tuple of fewer names produces only those columns
            name = item.names[i] if i < len(item.names) else unique_name(f"{multi.name}_{base}_{suffix}", taken)
            taken.append(name)
            out.append((name, B.BCall(t, call.span, multi.component(suffix), args)))
        return out

    def series_stats(self, item: A.Assignment, schema: B.Schema, scope: Scope, ctx: _Ctx,
                     names: list[str] | None = None) -> list[tuple[str, B.BExpr]]:
        call = item.expr
        assert isinstance(call, A.Call)
        if not 1 <= len(call.args) <= 2:
            raise error("KH252", "series_stats() takes a series and an optional ignore_nonfinite flag", call.span)
        args = tuple(fold(self.scalars.bind(a, schema, scope, serialized=ctx.serialized)) for a in call.args)
        suffixes = F.SERIES_STATS_SUFFIXES
        if len(item.names) > len(suffixes):
            raise error("KH214", f"series_stats() returns {len(suffixes)} values; the tuple names "
                        f"{len(item.names)}", item.span)
        # Kusto: unnamed outputs are series_stats_<column>_<stat> (an expression argument leaves <column>
        # empty); a tuple names the first outputs and the rest keep their default names
        base = call.args[0].name if isinstance(call.args[0], A.Name) else ""
        taken = list(names) if names is not None else [c.name for c in schema]
        out: list[tuple[str, B.BExpr]] = []
        for i, (s, t) in enumerate(suffixes):
            if len(item.names) > 1 and i >= len(item.names):
                break  # Kusto's docs: a tuple of fewer names produces only those columns
            name = item.names[i] if i < len(item.names) else unique_name(f"series_stats_{base}_{s}", taken)
            taken.append(name)
            out.append((name, B.BCall(t, call.span, f"series_stats_{s}", args)))
        return out

    def project_item(self, item: A.Assignment, schema: B.Schema, scope: Scope, taken: list[str], ctx: _Ctx,
                     generated: list[str] | None = None) -> tuple[str, B.BExpr]:
        generated = generated if generated is not None else []
        if len(item.names) > 1:
            raise error("KH214", "tuple targets are not allowed in `project`", item.span)
        bexpr = fold(self.scalars.bind(item.expr, schema, scope, serialized=ctx.serialized))
        if item.names:
            return item.names[0], bexpr
        return expr_name(item.expr) or next_column_name([c.name for c in schema] + generated, taken), bexpr

    def project(self, rel: B.BRel, items: tuple[A.Assignment, ...], span: Span, scope: Scope, ctx: _Ctx) -> B.BRel:
        out: list[tuple[str, B.BExpr]] = []
        generated: list[str] = []
        for item in items:
            several = self.several_outputs(item, rel.schema, scope, ctx)
            if several is not None:
                produced = several
            else:
                produced = [self.project_item(item, rel.schema, scope, [n for n, _ in out], ctx, generated)]
                if not item.names and expr_name(item.expr) is None:
                    generated.append(produced[0][0])
            for name, bexpr in produced:
                if any(n == name for n, _ in out):
                    if item.names or isinstance(item.expr, A.Name):
                        raise error("KH213", f"column `{name}` is projected twice", item.span)
                    name = unique_name(name, [n for n, _ in out])  # unnamed: D_a_b, D_a_b1
                out.append((name, bexpr))
        schema = tuple(B.Column(n, x.type) for n, x in out)
        return B.BProject(schema, span, rel, tuple(out), "project")

    # ------------------------------------------------------------ summarize

    def summarize(self, rel: B.BRel, op: A.Summarize, scope: Scope) -> B.BRel:
        keys: list[tuple[str, B.BExpr]] = []
        taken: list[str] = []
        for item in op.by:
            if len(item.names) > 1:
                raise error("KH214", "tuple targets are not allowed in `by`", item.span)
            bexpr = fold(self.scalars.bind(item.expr, rel.schema, scope))
            if bexpr.type.name == "dynamic":
                raise error("KH215", "a `by` key cannot be dynamic; convert it first (tostring(...))",
                            item.expr.span)
            name = item.names[0] if item.names else (expr_name(item.expr) or next_column_name(taken))
            if name in taken:
                if item.names or isinstance(item.expr, A.Name):
                    raise error("KH213", f"column `{name}` appears twice in `by`", item.span)
                name = unique_name(name, taken)
            keys.append((name, bexpr))
            taken.append(name)
        aggs: list[tuple[str, B.BExpr]] = []
        self._explicit: set[str] = {item.names[0] for item in op.by if item.names}
        for item in op.aggregates:
            for name, bexpr in self.aggregate_item(item, rel, scope, taken, [n for n, _ in keys]):
                aggs.append((name, bexpr))
                taken.append(name)
        hints = tuple((h.name, str(getattr(h.value, "value", ""))) for h in op.hints)
        schema = tuple(B.Column(n, x.type) for n, x in keys + aggs)
        return B.BSummarize(schema, op.span, rel, tuple(keys), tuple(aggs), hints)

    def aggregate_item(self, item: A.Assignment, rel: B.BRel, scope: Scope, taken: list[str],
                       key_names: list[str]) -> list[tuple[str, B.BExpr]]:
        e = item.expr
        fn = F.lookup(e.name) if isinstance(e, A.Call) else None
        if fn is not None and fn.kind == "aggregate" and e.name in PERCENTILES:  # type: ignore[union-attr]
            return self.percentiles(item, rel, scope, taken)
        if fn is not None and fn.kind == "aggregate" and e.name in ("arg_max", "arg_min"):  # type: ignore[union-attr]
            return self.arg_extreme(item, rel, scope, taken, key_names)
        if fn is not None and fn.kind == "aggregate" and fn.name in ("take_any", "any") and (
                len(e.args) > 1 or any(isinstance(a, A.Star) for a in e.args)):  # type: ignore[union-attr]
            raise unsupported(f"{e.name}() with several arguments or `*`", e.span)  # type: ignore[union-attr]
        bexpr = fold(self.scalars.bind(e, rel.schema, scope, aggregate=True))
        if not _has_agg(bexpr):
            raise error("KH216", "each `summarize` expression needs an aggregate function (count(), sum(), ...)",
                        e.span)
        if len(item.names) > 1:
            raise error("KH214", "a tuple target here needs percentiles()", item.span)
        if item.names:
            name = item.names[0]
            if name in self._explicit:
                raise error("KH213", f"column `{name}` is defined twice", item.span)
            self._explicit.add(name)
            # an explicit name that meets a default one is suffixed (count(), count_ = ... -> count_1)
            return [(unique_name(name, taken), bexpr)]
        if fn is not None and fn.kind == "aggregate":
            base = aggregate_name(fn, e.args)  # type: ignore[union-attr]
        else:
            base = expr_name(e) or next_column_name(taken)
        return [(unique_name(base, taken), bexpr)]

    def percentiles(self, item: A.Assignment, rel: B.BRel, scope: Scope, taken: list[str]) -> list[tuple[str, B.BExpr]]:
        call = item.expr
        assert isinstance(call, A.Call)
        value = self.scalars.bind(call.args[0], rel.schema, scope)
        # percentilew(x, weight, p) / percentilesw(x, weight, p, ...): the weight comes second
        weighted = call.name in ("percentilew", "percentilesw")
        first = 2 if weighted else 1
        if len(call.args) < first + 1:
            raise error("KH252", f"{call.name}() needs a value and at least one percentage", call.span)
        if call.name in ("percentile", "percentilew") and len(call.args) != first + 1:
            raise error("KH252", f"{call.name}() takes one percentage", call.span)
        base = expr_name(call.args[0]) or ""
        out: list[tuple[str, B.BExpr]] = []
        weight = self.scalars.bind(call.args[1], rel.schema, scope) if weighted else None
        if weight is not None:
            try:
                t = F.lookup("percentilew").rule([value, weight])  # type: ignore[union-attr]
            except F.TypeRuleError as exc:
                raise error("KH242", f"{call.name}: {exc}", call.span) from None
        else:
            t = F.lookup("percentile").rule([value])  # type: ignore[union-attr]
        for i, p_ast in enumerate(call.args[first:]):
            p = fold(self.scalars.bind(p_ast, None, scope))
            if not isinstance(p, B.BLit) or not isinstance(p.value, int | float):
                raise error("KH212", "percentiles() needs constant percentages", p_ast.span)
            agg = (B.BAgg(t, call.span, "$percentilew", (value, weight, p)) if weight is not None
                   else B.BAgg(t, call.span, "percentile", (value, p)))
            if i < len(item.names):
                name = item.names[i]
            else:
                name = unique_name(f"percentile_{base}_{percentile_suffix(float(p.value))}", taken + [n for n, _ in out])
            out.append((name, agg))
        if len(item.names) > len(out):
            raise error("KH214", "more names than percentiles", item.span)
        return out

    def arg_extreme(self, item: A.Assignment, rel: B.BRel, scope: Scope, taken: list[str],
                    key_names: list[str]) -> list[tuple[str, B.BExpr]]:
        call = item.expr
        assert isinstance(call, A.Call)
        fn = call.name
        by = self.scalars.bind(call.args[0], rel.schema, scope)
        wanted: list[tuple[str, B.BExpr]] = []
        by_name = expr_name(call.args[0]) or ""
        for i, a in enumerate(call.args[1:], start=1):
            if isinstance(a, A.Star):
                for c in rel.schema:
                    if c.name not in key_names and c.name != expr_name(call.args[0]):
                        wanted.append((c.name, B.BCol(c.type, a.span, c.name)))
            elif isinstance(a, A.NamedArg):
                wanted.append((a.name, self.scalars.bind(a.value, rel.schema, scope)))
            else:
                x = self.scalars.bind(a, rel.schema, scope)
                # an unnamed expression is called max_<by>_arg<i> (min_... for arg_min)
                wanted.append((expr_name(a) or f"{fn[4:]}_{by_name}_arg{i}", x))
        first_name = expr_name(call.args[0]) or next_column_name(taken)
        out: list[tuple[str, B.BExpr]] = [(first_name, B.BAgg(by.type, call.span, fn, (by,)))]
        for name, x in wanted:
            out.append((name, B.BAgg(x.type, call.span, f"{fn}_of", (by, x))))
        if len(item.names) > len(out):
            raise error("KH214", f"{fn}() returns {len(out)} columns; the tuple names {len(item.names)}", item.span)
        out = [(item.names[i] if i < len(item.names) else n, x) for i, (n, x) in enumerate(out)]
        result: list[tuple[str, B.BExpr]] = []
        for name, x in out:
            result.append((unique_name(name, taken + [n for n, _ in result]), x))
        return result

    # ------------------------------------------------------------ join / lookup / union

    def join_keys(self, on: tuple[A.Expr, ...], left: B.BRel, right: B.BRel, span: Span) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = []
        if not on:
            raise error("KH220", "`join` needs `on` columns", span)
        for cond in on:
            match cond:
                case A.Name(name=name):
                    pair = (name, name)
                case A.Binary(op="==", left=A.JoinSide() as a, right=A.JoinSide() as b):
                    sides = {a.side: a.name, b.side: b.name}
                    if set(sides) != {"left", "right"}:
                        raise error("KH220", "a join condition compares `$left.x == $right.y`", cond.span)
                    pair = (sides["left"], sides["right"])
                case A.Binary(op="and", left=l, right=r):
                    keys.extend(self.join_keys((l, r), left, right, span))
                    continue
                case _:
                    raise unsupported("this join condition", cond.span, "use column names or $left.a == $right.b")
            lcol = B.find(left.schema, pair[0])
            rcol = B.find(right.schema, pair[1])
            if lcol is None:
                raise self.unknown_column(pair[0], cond.span, left.schema)
            if rcol is None:
                raise self.unknown_column(pair[1], cond.span, right.schema)
            if lcol.type.name != rcol.type.name:
                raise error("KH221", f"join key `{pair[0]}` is {lcol.type} on the left and {rcol.type} on the right; "
                            "both sides must have the same type", cond.span)
            keys.append(pair)
        return keys

    def join(self, left: B.BRel, op: A.Join, scope: Scope) -> B.BRel:
        opts = {o.name: str(getattr(o.value, "value", "")) for o in op.options}
        kind = opts.pop("kind", "innerunique")
        if kind == "anti":  # documented alias
            kind = "leftanti"
        if kind not in JOIN_KINDS:
            raise error("KH222", f"unknown join kind `{kind}`", op.span,
                        *did_you_mean(kind, sorted(JOIN_KINDS)))
        right = self.tabular(op.right, scope)
        keys = self.join_keys(op.on, left, right, op.span)
        hints = tuple((k, v) for k, v in opts.items())
        if kind in LEFT_ONLY:
            return B.BJoin(left.schema, op.span, left, right, kind, tuple(keys), (), hints)
        if kind in RIGHT_ONLY:
            names = tuple((c.name, c.name) for c in right.schema)
            return B.BJoin(right.schema, op.span, left, right, kind, tuple(keys), names, hints)
        right_names = _dedupe_right(left.schema, right.schema, drop=())
        schema = left.schema + tuple(B.Column(new, c.type) for c, (_, new) in zip(right.schema, right_names, strict=True))
        return B.BJoin(schema, op.span, left, right, kind, tuple(keys), right_names, hints)

    def lookup(self, left: B.BRel, op: A.Lookup, scope: Scope) -> B.BRel:
        opts = {o.name: str(getattr(o.value, "value", "")) for o in op.options}
        kind = opts.get("kind", "leftouter")
        if kind not in ("leftouter", "inner"):
            raise error("KH222", f"lookup kind must be leftouter or inner, not `{kind}`", op.span)
        right = self.tabular(op.right, scope)
        keys = self.join_keys(op.on, left, right, op.span)
        drop = tuple(r for _, r in keys)  # lookup never repeats the right-hand keys
        kept = tuple(c for c in right.schema if c.name not in drop)
        right_names = _dedupe_right(left.schema, kept, drop=())
        schema = left.schema + tuple(B.Column(new, c.type) for c, (_, new) in zip(kept, right_names, strict=True))
        return B.BJoin(schema, op.span, left, right, kind, tuple(keys), right_names, (), "lookup")

    def file_profile(self, rel: B.BRel, call: A.Call, scope: Scope) -> B.BRel:
        """`invoke FileProfile(IdColumn[, limit])`, Defender's file enrichment, from a `FileProfile` table the
        user provides (a lake folder or --table FileProfile=...): each row gets the profile of its SHA1/SHA256.
        kqlhunt enriches every row (Defender caps it at `limit` files, 100 by default)."""
        span = call.span
        if len(call.args) > 2:
            raise error("KH204", "FileProfile() takes a file-ID column and an optional record limit", span)
        id_column = call.args[0].name if call.args and isinstance(call.args[0], A.Name) else "SHA1"
        found = B.find(rel.schema, id_column)
        if found is None:
            raise self.unknown_column(id_column, call.args[0].span if call.args else span, rel.schema)
        key = "SHA256" if id_column.endswith("SHA256") else "SHA1" if id_column.endswith("SHA1") else None
        if key is None:
            raise error("KH204", "FileProfile() needs a SHA1 or SHA256 column (SHA1, InitiatingProcessSHA256, ...)",
                        call.args[0].span)
        profiles = self.catalog.schema("FileProfile")
        if profiles is None:
            raise unsupported("`invoke FileProfile()` without file-profile data", span,
                              "provide a FileProfile table (a lake folder FileProfile/ or --table FileProfile=PATH) "
                              "with SHA1/SHA256 and the profile columns")
        if B.find(profiles, key) is None:
            raise error("KH211", f"the FileProfile table has no `{key}` column to match on", span)
        clash = [n for n, _ in FILE_PROFILE_COLUMNS if B.find(rel.schema, n) is not None]
        if clash:
            raise unsupported(f"`invoke FileProfile()` on rows that already have a `{clash[0]}` column", span)
        if "FileProfile" not in self.tables:
            self.tables.append("FileProfile")
        table = B.BTable(profiles, span, "FileProfile")
        items: list[tuple[str, B.BExpr]] = [("__fp_key", B.BCol(STRING, span, key))]
        for name, t in FILE_PROFILE_COLUMNS:
            have = B.find(profiles, name)
            if have is None:
                value: B.BExpr = B.BLit(t, span, "Available" if name == "ProfileAvailability" else
                                        ("" if t.name == "string" else None))
            elif have.type != t:
                value = B.BCall(t, span, CONVERTERS[t.name], (B.BCol(have.type, span, name),))
            else:
                value = B.BCol(t, span, name)
            items.append((name, value))
        right = B.BProject(tuple(B.Column(n, x.type) for n, x in items), span, table, tuple(items), "FileProfile")
        kept = tuple(B.Column(n, t) for n, t in FILE_PROFILE_COLUMNS)
        right_names = tuple((c.name, c.name) for c in kept)
        joined = B.BJoin(rel.schema + kept, span, rel, right, "leftouter", ((id_column, "__fp_key"),), right_names,
                         (), "lookup")
        # Defender: Missing when no profile was found for the file, empty when the row has no file ID
        ident = B.BCol(found.type, span, id_column)
        availability = B.BCol(STRING, span, "ProfileAvailability")
        status = B.BCall(STRING, span, "iif", (
            B.BCall(BOOL, span, "isempty", (ident,)), B.BLit(STRING, span, ""),
            B.BCall(STRING, span, "iif", (B.BCall(BOOL, span, "isempty", (availability,)),
                                          B.BLit(STRING, span, "Missing"), availability))))
        return self.with_columns(joined, [("ProfileAvailability", status)], span, "FileProfile")

    def union_inputs(self, tables: tuple[A.Expr, ...], options: tuple[A.NamedArg, ...], scope: Scope) \
            -> list[tuple[A.Expr, B.BRel]]:
        """Each union input bound; with isfuzzy=true an input naming an unknown table is left out."""
        fuzzy = any(o.name == "isfuzzy" and str(getattr(o.value, "value", "")).lower() == "true" for o in options)
        out = []
        for t in tables:
            try:
                out.append((t, self.tabular(t, scope)))
            except KqlError as exc:
                if not (fuzzy and exc.code == "KH203"):
                    raise
        return out

    def union(self, rels: list[B.BRel], options: tuple[A.NamedArg, ...], span: Span, labels: list[str]) -> B.BRel:
        opts = {o.name: str(getattr(o.value, "value", "")) for o in options}
        kind = opts.get("kind", "outer")
        if kind not in ("outer", "inner"):
            raise error("KH223", f"union kind must be inner or outer, not `{kind}`", span)
        types: dict[str, list[KType]] = {}
        order: list[str] = []
        for r in rels:
            for c in r.schema:
                if c.name not in types:
                    types[c.name] = []
                    order.append(c.name)
                if all(t.name != c.type.name for t in types[c.name]):
                    types[c.name].append(c.type)
        cols: list[B.Column] = []
        for name in order:
            if kind == "inner" and not all(B.find(r.schema, name) for r in rels):
                continue
            ts = types[name]
            if len(ts) == 1:
                cols.append(B.Column(name, ts[0] if all(
                    (B.find(r.schema, name) or B.Column(name, ts[0])).type == ts[0] for r in rels) else ts[0].widened()))
            else:
                cols.extend(B.Column(f"{name}_{t.name}", t.widened()) for t in ts)
        source = opts.get("withsource")
        if source:
            cols.insert(0, B.Column(source, STRING))
        return B.BUnion(tuple(cols), span, tuple(rels), source, tuple(labels), kind)

    # ------------------------------------------------------------ mv-expand / mv-apply

    def mv_items(self, items: tuple[A.MvItem, ...], schema: B.Schema, scope: Scope, what: str) \
            -> list[tuple[str, B.BExpr, KType, bool]]:
        """-> (output name, array expr, element type, replaces an input column in place)."""
        out = []
        for it in items:
            arr = self.scalars.bind(it.expr, schema, scope)
            if arr.type.name != "dynamic":
                raise error("KH230", f"`{what}` expands dynamic arrays; this is {arr.type}", it.expr.span)
            # without `to typeof(T)` the elements stay dynamic (Kusto), whatever the array holds
            elem = BY_NAME[it.to_type] if it.to_type else DYNAMIC
            if it.name:
                out.append((it.name, arr, elem, B.find(schema, it.name) is not None))
            elif isinstance(it.expr, A.Name):
                out.append((it.expr.name, arr, elem, True))
            else:
                name = expr_name(it.expr) or next_column_name(c.name for c in schema)
                out.append((name, arr, elem, B.find(schema, name) is not None))
        return out

    def mv_options(self, options: tuple[A.NamedArg, ...], what: str) -> tuple[str | None, str]:
        """-> (with_itemindex column, how property bags expand: `bag` {k: v} or `array` [k, v])."""
        index: str | None = None
        bag_mode = "bag"
        for o in options:
            value = str(getattr(o.value, "value", ""))
            if o.name == "with_itemindex":
                index = value
            elif o.name in ("bagexpansion", "kind") and value in ("bag", "array"):
                bag_mode = value
            else:
                raise unsupported(f"`{what} {o.name}={value}`", o.span)
        return index, bag_mode

    def mv_expand(self, rel: B.BRel, op: A.MvExpand, scope: Scope, ctx: _Ctx) -> B.BRel:
        index, bag_mode = self.mv_options(op.options, "mv-expand")
        items = self.mv_items(op.items, rel.schema, scope, "mv-expand")
        limit = self.constant_int(op.limit, scope, "limit") if op.limit is not None else None
        schema = list(rel.schema)
        for name, _, elem, in_place in items:
            col = B.Column(name, elem)
            if in_place:
                schema[[c.name for c in schema].index(name)] = col
            else:
                schema.append(col)
        if index:
            schema.append(B.Column(index, LONG))
        bitems = tuple((n, a, t) for n, a, t, _ in items)
        return B.BExpand(tuple(schema), op.span, rel, bitems, index, limit, bag_mode)

    def mv_apply(self, rel: B.BRel, op: A.MvApply, scope: Scope) -> B.BRel:
        index, bag_mode = self.mv_options(op.options, "mv-apply")
        items = self.mv_items(op.items, rel.schema, scope, "mv-apply")
        limit = self.constant_int(op.limit, scope, "limit") if op.limit is not None else None
        expanded = {n for n, _, _, _ in items}
        outer = [c for c in rel.schema if c.name not in expanded]
        sub_schema = list(outer)
        for name, _, elem, _ in items:
            sub_schema.append(B.Column(name, elem))
        if index:
            sub_schema.append(B.Column(index, LONG))
        apply_input = B.BApplyInput(tuple(sub_schema), op.span)
        sub: B.BRel = apply_input
        ctx = _Ctx(serialized=True)  # each row's sub-table is in array order
        for sub_op in op.subquery:
            sub = self.operator(sub_op, sub, scope, ctx)
        sub_names = {c.name: c for c in sub.schema}
        schema = [sub_names.get(c.name, c) for c in outer]
        outer_names = {c.name for c in outer}
        schema += [c for c in sub.schema if c.name not in outer_names]
        bitems = tuple((n, a, t) for n, a, t, _ in items)
        return B.BApply(tuple(schema), op.span, rel, bitems, index, sub, apply_input,
                        tuple(c.name for c in outer), limit, bag_mode)

    # ------------------------------------------------------------ evaluate

    def evaluate(self, rel: B.BRel, op: A.Evaluate, scope: Scope) -> B.BRel:
        plugin = op.plugin
        if plugin.name == "bag_unpack":
            return self.bag_unpack(rel, op, scope)
        if plugin.name not in ("ipv4_lookup", "ipv6_lookup"):
            raise unsupported(f"the `{plugin.name}` plugin", plugin.name_span)
        if op.schema is not None:
            raise unsupported(f"an output schema for {plugin.name}", plugin.span)
        positional = [a for a in plugin.args if not isinstance(a, A.NamedArg)]
        named = {a.name: a for a in plugin.args if isinstance(a, A.NamedArg)}
        if len(positional) < 3:
            raise error("KH231", f"{plugin.name}(LookupTable, SourceKey, LookupKey [, ExtraKey...]) needs "
                        "at least three arguments", plugin.span)
        lookup = self.tabular(positional[0], scope)
        names: list[str] = []
        for a, schema in ((positional[1], rel.schema), (positional[2], lookup.schema)):
            if not isinstance(a, A.Name):
                raise error("KH231", "ipv4_lookup keys must be column names", a.span)
            col = B.find(schema, a.name)
            if col is None:
                raise self.unknown_column(a.name, a.span, schema)
            if col.type.name != "string":
                raise error("KH231", f"ipv4_lookup key `{a.name}` must be a string column", a.span)
            names.append(a.name)
        extra = positional[3:]
        if extra and isinstance(extra[-1], A.Literal) and extra[-1].kind == "bool":
            named.setdefault("return_unmatched", A.NamedArg(extra[-1].span, "return_unmatched", extra[-1]))
            extra = extra[:-1]
        if extra and plugin.name == "ipv6_lookup":
            raise error("KH231", "ipv6_lookup takes no extra keys", extra[0].span)
        if len(extra) % 2:
            raise error("KH231", "extra ipv4_lookup keys come in pairs (source column, lookup column)", plugin.span)
        extra_keys: list[tuple[str, str]] = []
        for i in range(0, len(extra), 2):
            s, lk = extra[i], extra[i + 1]
            if not isinstance(s, A.Name) or not isinstance(lk, A.Name):
                raise error("KH231", "ipv4_lookup keys must be column names", s.span)
            extra_keys.append((s.name, lk.name))
        unmatched = False
        for key, arg in named.items():
            if key != "return_unmatched":
                raise error("KH231", f"unknown ipv4_lookup option `{key}`", arg.span)
            value = fold(self.scalars.bind(arg.value, None, scope))
            if not isinstance(value, B.BLit) or not isinstance(value.value, bool):
                raise error("KH231", "return_unmatched must be true or false", arg.span)
            unmatched = value.value
        right_names = _dedupe_right(rel.schema, lookup.schema, drop=())
        looked_up = tuple(B.Column(new, c.type) for c, (_, new) in zip(lookup.schema, right_names, strict=True))
        schema = looked_up + rel.schema if plugin.name == "ipv6_lookup" else rel.schema + looked_up
        return B.BIpv4Lookup(schema, op.span, rel, lookup, names[0], names[1], tuple(extra_keys), unmatched,
                             right_names, plugin.name.removesuffix("_lookup"))

    def bag_unpack(self, rel: B.BRel, op: A.Evaluate, scope: Scope) -> B.BRel:
        def const(e: A.Expr) -> object:
            value = fold(self.scalars.bind(e, None, scope))
            if not isinstance(value, B.BLit):
                raise error("KH231", "bag_unpack options must be constants", e.span)
            return value.value

        args = bag_args(op, rel, const)
        slots = None
        if op.schema is None:
            slots = self.bag_slots.get(op.span.start)
            if slots is None:
                raise NeedsBagSchema(op.span.start, rel, args.column, op.span)
        return unpack(op, rel, args, slots)

    def sort_key(self, key: A.SortKey, schema: B.Schema, scope: Scope, ctx: _Ctx) -> tuple[B.BExpr, bool, bool]:
        e = fold(self.scalars.bind(key.expr, schema, scope, serialized=ctx.serialized))
        if e.type.name == "dynamic":
            raise error("KH215", "cannot sort by a dynamic value; convert it first (tostring(...))", key.expr.span)
        ascending = bool(key.ascending) if key.ascending is not None else False
        nulls_first = key.nulls_first if key.nulls_first is not None else ascending
        return e, ascending, nulls_first


# ---------------------------------------------------------------- module helpers


def _sorted_names(names: list[str], order: str) -> list[str]:
    """project-reorder's asc/desc (ordinal) and granny-asc/granny-desc (digits compared as numbers)."""
    import re

    def granny(n: str) -> list[object]:
        return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", n) if p]

    key = granny if order.startswith("granny") else None
    return sorted(names, key=key, reverse=order.endswith("desc"))


def _matches(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern) if "*" in pattern else name == pattern


def _names_in(e: A.Expr) -> set[str]:
    """Every plain name an expression mentions (find: which columns its predicate reads)."""
    out: set[str] = set()
    if isinstance(e, A.Name):
        out.add(e.name)
    for f in fields(e) if is_dataclass(e) else ():
        v = getattr(e, f.name)
        for x in v if isinstance(v, tuple) else (v,):
            if isinstance(x, A.Expr):
                out |= _names_in(x)
    return out


def _table_label(e: A.Expr) -> str:
    return e.name if isinstance(e, A.Name) else "union_arg"


def _serialized_source(rel: B.BRel) -> bool:
    return isinstance(rel, B.BValues | B.BRange)


def _dedupe_right(left: B.Schema, right: B.Schema, drop: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Kusto's join renaming: a right column whose name exists gets the smallest suffix not used by any
    column on either side (RemoteIP -> RemoteIP1)."""
    used = {c.name for c in left} | {c.name for c in right}
    left_names = {c.name for c in left}
    out: list[tuple[str, str]] = []
    for c in right:
        if c.name in drop:
            continue
        if c.name in left_names:
            i = 1
            while f"{c.name}{i}" in used:
                i += 1
            new = f"{c.name}{i}"
            used.add(new)
            out.append((c.name, new))
        else:
            out.append((c.name, c.name))
    return tuple(out)


def _has_agg(e: B.BExpr) -> bool:
    if isinstance(e, B.BAgg):
        return True
    if isinstance(e, B.BCall):
        return any(_has_agg(a) for a in e.args)
    return False


def bind(script: A.Script, catalog: Catalog) -> B.BoundQuery:
    return Binder(catalog).bind_script(script)
