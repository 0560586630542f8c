"""Plan -> one SQL statement: a CTE per plan step (named after the KQL operator it comes from), built
as sqlglot expression trees and rendered for DuckDB.

Tables are read from views the engine creates (`kh_t_<Table>`) that already present Kusto's physical
types (strings never null, timespans as ticks, dynamic as JSON). The final SELECT turns dynamic values
into JSON text and applies the result order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from kqlhunt.diagnostics import unsupported
from kqlhunt.plan import nodes as P
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import KType
from kqlhunt.sql.expressions import (
    ExprCompiler,
    alias,
    case,
    cast,
    col,
    fn,
    lam,
    null,
    number,
    string,
    try_cast,
)
from kqlhunt.sql.functions import to_json
from kqlhunt.sql.lowerings.timex import text_to_datetime, text_to_timespan
from kqlhunt.sql.scan import render_scan
from kqlhunt.sql.spark.translate import tag
from kqlhunt.sql.types import physical

TABLE_VIEW_PREFIX = "kh_t_"


def table_view(name: str) -> str:
    return TABLE_VIEW_PREFIX + name


@dataclass
class CompiledSql:
    sql: str
    tree: exp.Expression
    columns: tuple[B.Column, ...]


class SqlCompiler:
    def __init__(self, now: datetime, dialect: str = "duckdb"):
        self.now = now
        self.dialect = dialect
        self.ctes: list[exp.CTE] = []
        self.names: dict[int, str] = {}

    def now_literal(self) -> exp.Expression:
        return cast(string(self.now.strftime("%Y-%m-%d %H:%M:%S.%f")), "TIMESTAMP")

    # ------------------------------------------------------------ entry

    def compile(self, plan: P.Plan) -> CompiledSql:
        root = plan.root
        order: tuple[P.SortSpec, ...] = ()
        if isinstance(root, P.PSort) and root.label == "result":
            order = root.keys
            root = root.input
        name = self.node(root)
        select = _select(*[self.output_column(c) for c in plan.root.columns]).from_(_table(name), copy=False)
        if order:
            ec = ExprCompiler(self)
            select = select.order_by(*[o for s in order for o in ec.ordering(s)], copy=False)
        with_ = exp.With(expressions=self.ctes) if self.ctes else None
        if with_ is not None:
            select.set("with_" if "with_" in exp.Select.arg_types else "with", with_)
        if self.dialect == "spark":
            # the engine translates the tree (sql/spark/translate.py); it knows the UDFs it can register
            return CompiledSql("", select, plan.root.columns)
        # generate without sqlglot's defensive copy of the whole tree (it is ours and fresh)
        sql = Dialect.get_or_raise(self.dialect).generate(select, copy=False)
        return CompiledSql(sql, select, plan.root.columns)

    def top_nested(self, node: P.PTopNested) -> exp.Expression:
        """Level i: aggregate by the first i keys over all rows, keep the top N within each parent (keys
        1..i-1); the levels are then joined on their shared keys, so a row survives only under kept parents."""
        src = self.node(node.input)
        ec = ExprCompiler(self)
        keys = [f"__k{i}" for i in range(len(node.levels))]
        base = _select(exp.Star(), *[alias(ec.compile(lv[1]), k) for lv, k in zip(node.levels, keys, strict=True)]
                       ).from_(_table(src), copy=False)
        base_name = self._cte_for(base, "top_nested_keys", False)
        levels = []
        for i, (_, _, _, agg, count, ascending) in enumerate(node.levels):
            mine = keys[:i + 1]
            q = _select(*[col(k) for k in mine], alias(ec.compile(agg), f"__a{i}")).from_(
                _table(base_name), copy=False).group_by(*[col(k) for k in mine], copy=False)
            if count is not None:
                order = exp.Order(expressions=[exp.Ordered(this=col(f"__a{i}"), desc=not ascending,
                                                           nulls_first=False)])
                rank = exp.Window(this=fn("row_number"), partition_by=[col(k) for k in keys[:i]] or None, order=order)
                q = q.qualify(exp.LTE(this=rank, expression=number(count)), copy=False)
            levels.append(self._cte_for(q, f"top_nested_{i + 1}", False))
        items = []
        for i, (key_name, _, agg_name, _, _, _) in enumerate(node.levels):
            items += [alias(exp.column(keys[i], table=f"l{i}", quoted=True), key_name),
                      alias(exp.column(f"__a{i}", table=f"l{i}", quoted=True), agg_name)]
        query = _select(*items).from_(exp.Table(this=exp.to_identifier(levels[-1], quoted=True),
                                                alias=exp.TableAlias(this=exp.to_identifier(f"l{len(levels) - 1}"))),
                                      copy=False)
        for i in range(len(levels) - 2, -1, -1):
            on: exp.Expression = exp.true()
            for k in keys[:i + 1]:
                on = exp.And(this=on, expression=exp.NullSafeEQ(
                    this=exp.column(k, table=f"l{i}", quoted=True),
                    expression=exp.column(k, table=f"l{len(levels) - 1}", quoted=True)))
            query = query.join(exp.Table(this=exp.to_identifier(levels[i], quoted=True),
                                         alias=exp.TableAlias(this=exp.to_identifier(f"l{i}"))), on=on, copy=False)
        return query

    def series_fill(self, node: P.PSeriesFill) -> exp.Expression:
        """make-series: a grid of (group, bin index) from each group's bounds, the aggregated bins left-joined
        onto it, and one ordered list per aggregate (the default where a bin has no rows)."""
        src = self.node(node.input)
        ec = ExprCompiler(self)
        keys = [col(k) for k in node.keys]
        # `__g` gives an empty input no group, even without `by` (an aggregate without GROUP BY would)
        group = [exp.Literal.number(1)] if not node.nonempty else []
        bounds = _select(*keys, alias(exp.Literal.number(1), "__g"), alias(fn("min", col("__bin")), "__lo"),
                         alias(fn("max", col("__bin")), "__hi")).from_(_table(src), copy=False)
        if node.keys or group:
            bounds = bounds.group_by(*(keys + group), copy=False)
        steps = _select(*keys, col("__g"), col("__lo"), col("__hi"),
                        alias(fn("unnest", fn("range", number(0), ec.compile(node.count))), "__i")
                        ).from_(exp.Subquery(this=bounds, alias=exp.TableAlias(this=exp.to_identifier("b"))),
                                copy=False)
        grid = _select(*keys, col("__g"), col("__i"), alias(ec.compile(node.bin_of), "__bin")).from_(
            exp.Subquery(this=steps, alias=exp.TableAlias(this=exp.to_identifier("s"))), copy=False)

        def q(table: str, name: str) -> exp.Column:
            return exp.column(name, table=table, quoted=True)

        on: exp.Expression = exp.EQ(this=q("g", "__bin"), expression=q("d", "__bin"))
        for k in node.keys:
            on = exp.And(this=on, expression=exp.NullSafeEQ(this=q("g", k), expression=q("d", k)))
        joined = _select(*[alias(q("g", k), k) for k in node.keys], alias(q("g", "__g"), "__g"),
                         alias(q("g", "__i"), "__i"), alias(q("g", "__bin"), "__axis"),
                         *[alias(q("d", n), n) for n, _ in node.values], alias(q("d", "__present"), "__present")
                         ).from_(exp.Subquery(this=grid, alias=exp.TableAlias(this=exp.to_identifier("g"))),
                                 copy=False).join(exp.Table(this=exp.to_identifier(src, quoted=True),
                                                            alias=exp.TableAlias(this=exp.to_identifier("d"))),
                                                  on=on, join_type="LEFT", copy=False)

        def ordered_list(value: exp.Expression) -> exp.Expression:
            return fn("list", exp.Order(this=value, expressions=[exp.Ordered(this=col("__i"))]))

        items = [alias(col(k), k) for k in node.keys]
        for name, default in node.values:
            present = exp.Not(this=exp.Is(this=col("__present"), expression=exp.Null()))
            items.append(alias(ordered_list(exp.Case(ifs=[exp.If(this=present, true=col(name))],
                                                     default=ec.compile(default))), name))
        items.append(alias(ordered_list(col("__axis")), node.axis))
        return _select(*items).from_(exp.Subquery(this=joined, alias=exp.TableAlias(this=exp.to_identifier("j"))),
                                     copy=False).group_by(*keys, col("__g"), copy=False)

    def output_column(self, c: B.Column) -> exp.Expression:
        e: exp.Expression = col(c.name)
        if c.type.name == "dynamic":
            e = fn("kh_json_text", to_json(ExprCompiler(self), c.type, e))
        return alias(e, c.name)

    # ------------------------------------------------------------ nodes

    def node(self, node: P.PNode) -> str:
        key = id(node)
        if key in self.names:
            return self.names[key]
        query = self.render(node)
        if self.dialect == "spark":
            tag(query, f"the `{node.label}` operator", node.span)
            if getattr(node, "hints", ()):
                query.meta["kql_hints"] = node.hints  # partitioning advice (sql/spark/core.py `select`)
        name = self._cte_for(query, node.label, isinstance(node, P.PShared) and node.materialized)
        self.names[key] = name
        return name

    def render(self, node: P.PNode) -> exp.Expression:
        match node:
            case P.PScan(table=table):
                cols = [alias(col(c.name), c.name) for c in node.columns]
                return _select(*cols).from_(_table(table_view(table)), copy=False)
            case P.PValues():
                return self.values(node)
            case P.PRange():
                return self.range(node)
            case P.PFilter(input=inp, predicate=pred):
                src = self.node(inp)
                return _select(exp.Star()).from_(_table(src), copy=False).where(ExprCompiler(self).compile(pred), copy=False)
            case P.PProject(input=inp, items=items):
                src = self.node(inp)
                ec = ExprCompiler(self)
                return _select(*self.project_items(ec, inp, items)).from_(_table(src), copy=False)
            case P.PAggregate():
                return self.aggregate(node)
            case P.PJoin():
                return self.join(node)
            case P.PIpv4Lookup():
                return self.ipv4_lookup(node)
            case P.PUnnest():
                return self.unnest(node)
            case P.PSort(input=inp, keys=keys):
                src = self.node(inp)
                ec = ExprCompiler(self)
                cols = [col(c.name) for c in node.all_columns]
                return _select(*cols).from_(_table(src), copy=False).order_by(*[o for k in keys for o in ec.ordering(k)], copy=False)
            case P.PLimit(input=inp, count=count, partition=partition, order=order):
                src = self.node(inp)
                ec = ExprCompiler(self)
                if partition:
                    window = P.PWindow(KType("long"), node.span, "row_number", (), partition, order)
                    cond = exp.LTE(this=ec.compile(window), expression=number(count))
                    return _select(exp.Star()).from_(_table(src), copy=False).qualify(cond, copy=False)
                q = _select(exp.Star()).from_(_table(src), copy=False)
                if order:
                    q = q.order_by(*[o for k in order for o in ec.ordering(k)], copy=False)
                return q.limit(count, copy=False)
            case P.PSeriesFill():
                return self.series_fill(node)
            case P.PSequenceScan():
                return render_scan(self, node)
            case P.PTopNested():
                return self.top_nested(node)
            case P.PDistinct(input=inp):
                src = self.node(inp)
                return _select(exp.Star()).distinct(copy=False).from_(_table(src), copy=False)
            case P.PUnion(inputs=inputs):
                parts = []
                for inp, items in inputs:
                    src = self.node(inp)
                    ec = ExprCompiler(self)
                    parts.append(_select(*[alias(ec.compile(x), n) for n, x in items])
                                 .from_(_table(src), copy=False))
                out: exp.Expression = parts[0]
                for p in parts[1:]:
                    out = exp.Union(this=out, expression=p, distinct=False)
                return out
            case P.PShared(input=inp):
                src = self.node(inp)
                return _select(exp.Star()).from_(_table(src), copy=False)
            case P.PSemiFilter(input=inp, column=column, keys=keys, key_column=key_column):
                src, key_src = self.node(inp), self.node(keys)
                wanted = _select(col(key_column)).from_(_table(key_src), copy=False)
                cond = exp.In(this=col(column), query=exp.Subquery(this=wanted))
                return _select(exp.Star()).from_(_table(src), copy=False).where(cond, copy=False)
        raise unsupported(f"the plan step {type(node).__name__}", node.span)

    def project_items(self, ec: ExprCompiler, inp: P.PNode, items: tuple[tuple[str, B.BExpr], ...]) \
            -> list[exp.Expression]:
        """`extend`-shaped projections keep every input column in place: write them as
        `* REPLACE (...), new` instead of listing each column (smaller SQL, faster to build)."""
        names = [c.name for c in inp.all_columns]
        if len(items) < len(names) or [n for n, _ in items[:len(names)]] != names:
            return [self.item(ec, n, x) for n, x in items]
        replaced = [self.item(ec, n, x) for n, x in items[:len(names)]
                    if not (isinstance(x, B.BCol) and x.name == n)]
        star = exp.Star(**{"replace": replaced}) if replaced else exp.Star()
        return [star] + [self.item(ec, n, x) for n, x in items[len(names):]]

    @staticmethod
    def empty_default(item: exp.Expression, x: B.BExpr) -> exp.Expression:
        if not isinstance(x, B.BAgg) or x.fn not in ("sum", "sumif", "avg", "avgif"):
            return item
        default = number(0) if x.fn.startswith("sum") else cast(string("nan"), "DOUBLE")
        if x.type.name not in ("long", "real", "int"):
            return item
        no_rows = exp.EQ(this=exp.Count(this=exp.Star()), expression=number(0))
        value = item.this
        return alias(case((no_rows, cast(default, "BIGINT" if x.type.name == "long" else "DOUBLE")),
                          default=value), item.alias)

    def item(self, ec: ExprCompiler, name: str, x: B.BExpr) -> exp.Expression:
        """`expr AS name`; a string that SQL could leave null becomes "" (Kusto strings are never null)."""
        sql = ec.compile(x)
        if x.type.name == "string" and not isinstance(x, B.BCol | B.BLit):
            sql = exp.Coalesce(this=sql, expressions=[string("")])
        return alias(sql, name)

    def values(self, node: P.PValues) -> exp.Expression:
        cols = node.all_columns
        ec = ExprCompiler(self)
        if not node.rows:
            items = [alias(cast(null(), physical(c.type)), c.name) for c in cols]
            return _select(*items).where(exp.false(), copy=False)
        selects = []
        for row in node.rows:
            items = []
            for c, v in zip(cols, row, strict=True):
                sql = ec.compile(v)
                if v.type != c.type and not (isinstance(v, B.BLit) and v.value is None):
                    sql = cast(sql, physical(c.type)) if c.type.name != "dynamic" else to_json(ec, v.type, sql)
                items.append(alias(sql, c.name))
            selects.append(_select(*items))
        out: exp.Expression = selects[0]
        for s in selects[1:]:
            out = exp.Union(this=out, expression=s, distinct=False)
        return _select(exp.Star()).from_(exp.Subquery(this=out, alias=exp.TableAlias(
            this=exp.to_identifier("v"))))

    def range(self, node: P.PRange) -> exp.Expression:
        ec = ExprCompiler(self)
        c = node.columns[0]
        start, stop, step = (ec.compile(x) for x in (node.start, node.stop, node.step))
        if c.type.name == "datetime":
            step = fn("to_microseconds", exp.IntDiv(this=step, expression=number(10)))
        elif c.type.name == "real":
            start, stop, step = (cast(x, "DOUBLE") for x in (start, stop, step))
        else:
            start, stop, step = (cast(x, "BIGINT") for x in (start, stop, step))
        series = exp.Anonymous(this="generate_series", expressions=[start, stop, step])
        if c.type.name == "real":
            raise unsupported("`range` over real numbers", node.span)
        table_alias = exp.TableAlias(this=exp.to_identifier("r"), columns=[exp.to_identifier(c.name, quoted=True)])
        source = exp.Table(this=series, alias=table_alias)
        return _select(alias(col(c.name), c.name)).from_(source, copy=False)

    def aggregate(self, node: P.PAggregate) -> exp.Expression:
        src = self.node(node.input)
        ec = ExprCompiler(self)
        keys = [ec.compile(x) for _, x in node.keys]
        items = [alias(k, n) for (n, _), k in zip(node.keys, keys, strict=True)]
        items += [self.item(ec, n, x) for n, x in node.aggregates]
        if not keys:
            # a summarize without `by` on no rows still gives one row: Kusto's sum is 0 and avg NaN there
            items = [self.empty_default(i, x) for i, (_, x) in zip(items[len(keys):], node.aggregates, strict=True)]
        q = _select(*items).from_(_table(src), copy=False)
        if keys:
            q = q.group_by(*[exp.Literal.number(i + 1) for i in range(len(keys))], copy=False)
        return q

    def join(self, node: P.PJoin) -> exp.Expression:
        left, right = self.node(node.left), self.node(node.right)
        if node.dedupe_left:
            keys = [col(lk) for lk, _ in node.keys]
            ec = ExprCompiler(self)
            order = exp.Order(expressions=[ec.ordered(s) for s in node.dedupe_order]) if node.dedupe_order else None
            window = exp.Window(this=fn("row_number"), partition_by=keys, order=order)
            dedup = _select(exp.Star()).from_(_table(left), copy=False).qualify(exp.EQ(this=window, expression=number(1)), copy=False)
            left = self._cte_for(dedup, "join_innerunique_left")
        cond: exp.Expression | None = None
        for lk, rk in node.keys:
            eq = exp.EQ(this=col(lk, "l"), expression=col(rk, "r"))
            cond = eq if cond is None else exp.And(this=cond, expression=eq)
        lt = exp.Table(this=exp.to_identifier(left, quoted=True), alias=exp.TableAlias(this=exp.to_identifier("l")))
        rt = exp.Table(this=exp.to_identifier(right, quoted=True), alias=exp.TableAlias(this=exp.to_identifier("r")))
        null_strings = set(node.null_strings)

        def out(name: str, side: str, source: str) -> exp.Expression:
            e: exp.Expression = col(source, side)
            if name in null_strings:
                e = exp.Coalesce(this=e, expressions=[string("")])
            return alias(e, name)

        if node.kind in ("semi", "anti"):
            items = [out(c.name, "l", c.name) for c in node.left.columns]
            kind_sql = "SEMI" if node.kind == "semi" else "ANTI"
            return _select(*items).from_(lt, copy=False).join(rt, on=cond, join_type=kind_sql, copy=False)
        right_cols = dict(node.right_names)
        items = [out(c.name, "l", c.name) for c in node.left.columns]
        items += [out(right_cols[c.name], "r", c.name) for c in node.right.columns if c.name in right_cols]
        side = {"inner": "INNER", "left": "LEFT", "right": "RIGHT", "full": "FULL"}[node.kind]
        return _select(*items).from_(lt, copy=False).join(rt, on=cond, join_type=side, copy=False)

    def _cte_for(self, query: exp.Expression, label: str, materialized: bool = False) -> str:
        """Append a CTE named after its step: `s07_summarize`."""
        name = f"s{len(self.ctes) + 1:02d}_{_slug(label)}"
        self.ctes.append(exp.CTE(this=query, alias=exp.TableAlias(this=exp.to_identifier(name, quoted=True)),
                                 materialized=True if materialized else None))
        return name

    def ipv4_lookup(self, node: P.PIpv4Lookup) -> exp.Expression:
        left, right = self.node(node.input), self.node(node.lookup)
        cond: exp.Expression
        if node.family == "ipv6":
            # each address against each range (the network family's UDF: IPv6 and IPv4-mapped forms)
            ranges = exp.Array(expressions=[col(node.lookup_key, "r")])
            cond = fn("coalesce", fn("kh_ipv6_in_ranges", col(node.source_key, "l"), ranges), exp.false())
        else:
            ip = fn("kh_ipv4_to_int", col(node.source_key, "l"))
            lo = fn("kh_cidr_lo", col(node.lookup_key, "r"))
            hi = fn("kh_cidr_hi", col(node.lookup_key, "r"))
            cond = exp.Between(this=ip, low=lo, high=hi)
        for s, lk in node.extra_keys:
            cond = exp.And(this=cond, expression=exp.EQ(this=col(s, "l"), expression=col(lk, "r")))
        lt = exp.Table(this=exp.to_identifier(left, quoted=True), alias=exp.TableAlias(this=exp.to_identifier("l")))
        rt = exp.Table(this=exp.to_identifier(right, quoted=True), alias=exp.TableAlias(this=exp.to_identifier("r")))
        values: dict[str, exp.Expression] = {c.name: col(c.name, "l") for c in node.input.columns}
        names = dict(node.right_names)
        for c in node.lookup.columns:
            e: exp.Expression = col(c.name, "r")
            if c.type.name == "string" and node.return_unmatched:
                e = exp.Coalesce(this=e, expressions=[string("")])
            values[names[c.name]] = e
        # ipv4_lookup lists the input's columns first, ipv6_lookup the lookup table's (frozen results)
        items = [alias(values[c.name], c.name) for c in node.columns]
        return _select(*items).from_(lt, copy=False).join(rt, on=cond, join_type="LEFT" if node.return_unmatched else "INNER", copy=False)

    def unnest(self, node: P.PUnnest) -> exp.Expression:
        src = self.node(node.input)
        ec = ExprCompiler(self)
        inner_items: list[exp.Expression] = [alias(ec.compile(x), n) for n, x in node.keep]
        outer_items: list[exp.Expression] = [col(n) for n, _ in node.keep]
        lists: list[exp.Expression] = []
        for i, (name, arr, elem) in enumerate(node.items):
            lst = self.array_as_list(ec.compile(arr), arr.type, node.bag_mode)
            lists.append(lst)
            tmp = f"__u{i}"
            inner_items.append(alias(fn("unnest", lst), tmp))
            outer_items.append(alias(self.convert_element(col(tmp), arr.type, elem), name))
        if node.index:
            longest = lists[0] if len(lists) == 1 else fn("greatest", *[fn("len", x) for x in lists])
            length = fn("len", longest) if len(lists) == 1 else longest
            inner_items.append(alias(fn("unnest", fn("range", cast(length, "BIGINT"))), "__uidx"))
            outer_items.append(alias(col("__uidx"), node.index))
        inner = _select(*inner_items).from_(_table(src), copy=False)
        return _select(*outer_items).from_(exp.Subquery(this=inner, alias=exp.TableAlias(
            this=exp.to_identifier("u"))))

    def array_as_list(self, sql: exp.Expression, t: KType, bag_mode: str) -> exp.Expression:
        """mv-expand input: a native list as is; a JSON array as its elements; a bag as one-property bags;
        any other value as a one-element list (Kusto keeps the row)."""
        if t.elem is not None:
            return exp.Coalesce(this=sql, expressions=[cast(exp.Array(expressions=[exp.Null()]), f"{physical(t)}")])
        value = fn("json_extract", sql, exp.DPipe(this=exp.DPipe(this=string('$."'), expression=col("k")),
                                                  expression=string('"')))
        pair = fn("json_object", col("k"), value) if bag_mode == "bag" else fn("json_array", col("k"), value)
        keys_to_bags = fn("list_transform", fn("json_keys", sql), lam("k", pair))
        return case(
            (exp.EQ(this=fn("json_type", sql), expression=string("ARRAY")), cast(sql, "JSON[]")),
            (exp.EQ(this=fn("json_type", sql), expression=string("OBJECT")), cast(keys_to_bags, "JSON[]")),
            # a null value still gives one row, holding null (Kusto docs, mv-expand)
            (exp.Is(this=sql, expression=exp.Null()), cast(exp.Array(expressions=[exp.Null()]), "JSON[]")),
            default=exp.Array(expressions=[sql]))

    def convert_element(self, e: exp.Expression, source: KType, target: KType) -> exp.Expression:
        ec = ExprCompiler(self)
        if source.elem is not None:
            if target.name == "dynamic":
                return to_json(ec, source.elem, e)
            if target == source.elem:
                return e
            return try_cast(e, physical(target))
        if target.name == "dynamic":
            return e
        text = fn("json_extract_string", e, string("$"))
        if target.name == "string":
            return exp.Coalesce(this=text, expressions=[string("")])
        if target.name == "datetime":
            return text_to_datetime(text)
        if target.name == "timespan":
            return text_to_timespan(text)
        if target.name in ("int", "long"):
            return try_cast(try_cast(text, "DOUBLE"), physical(target))
        return try_cast(text, physical(target))


def _select(*items: exp.Expression) -> exp.Select:
    # sqlglot's builders copy their arguments by default; the trees here are fresh, so skip the copies
    return exp.Select().select(*items, copy=False)


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")[:40] or "step"


def compile_plan(plan: P.Plan, now: datetime, dialect: str = "duckdb") -> CompiledSql:
    """`dialect` "spark" returns the tree for sql.spark.to_spark, its nodes tagged with their KQL origin."""
    return SqlCompiler(now, dialect).compile(plan)
