"""Lowering: bound tree (`BRel`) -> relational plan (`PNode`).

The KQL-shaped operators become relational steps: `search` a filter over every column, `top` a sort
and a limit, `count` an aggregate, `mv-apply` an unnest whose sub-plan runs partitioned by the outer
row. Row order, which SQL does not keep, is made explicit: a sort adds a hidden `__ord` column that
later window functions (`next()`, `prev()`), `take` and the final ORDER BY use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kqlhunt.diagnostics import Span, unsupported
from kqlhunt.plan.implied import drop_implied_terms, implied_facts
from kqlhunt.plan.nodes import (
    PAggregate,
    PDistinct,
    PFilter,
    PIpv4Lookup,
    PJoin,
    Plan,
    PLimit,
    PNode,
    POrderedAgg,
    PProject,
    PRange,
    PScan,
    PSequenceScan,
    PSeriesFill,
    PShared,
    PSort,
    PTopNested,
    PUnion,
    PUnnest,
    PValues,
    PWindow,
    SortSpec,
)
from kqlhunt.plan.prune import prune, refs
from kqlhunt.plan.semijoin import reduce_joins
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import BOOL, LONG, STRING, KType

ORD = "__ord"
ROWID = "__rowid"
IDX = "__idx"

JOIN_KIND = {
    "innerunique": "inner", "inner": "inner", "leftouter": "left", "rightouter": "right", "fullouter": "full",
    "leftsemi": "semi", "leftanti": "anti", "leftantisemi": "anti", "rightsemi": "semi",
    "rightanti": "anti", "rightantisemi": "anti",
}
# aggregates whose answer depends on row order when the input is serialized
ORDERED_LIST_AGGS = {"make_list", "make_list_if", "make_list_with_nulls", "makelist", "arg_max_of", "arg_min_of"}


@dataclass(frozen=True, slots=True)
class ApplyCtx:
    """Inside an mv-apply subquery: rows belong to outer row `__rowid`; `outer` are the hidden copies of
    the outer columns, carried to the end."""

    input: Lowered
    outer: tuple[B.Column, ...]


@dataclass(frozen=True, slots=True)
class Lowered:
    node: PNode
    order: tuple[SortSpec, ...] = ()  # over hidden columns; () = not serialized
    partition: tuple[B.BExpr, ...] = ()
    constant: frozenset[str] = frozenset()  # columns with one value per partition (outer columns in mv-apply)


def _col(c: B.Column, span: Span) -> B.BCol:
    return B.BCol(c.type, span, c.name)


class Lowerer:
    def __init__(self) -> None:
        self.memo: dict[int, Lowered] = {}
        self.implied: dict[int, frozenset[tuple[str, str]]] = {}

    def plan(self, rel: B.BRel) -> Plan:
        self.implied = implied_facts(rel)
        low = self.lower(rel, None)
        root = low.node
        if low.order:
            root = PSort(root.columns, (), root.span, "result", root, low.order)
        elif root.hidden:
            root = self.project_visible(root)
        return Plan(root)

    def project_visible(self, node: PNode) -> PNode:
        items = tuple((c.name, _col(c, node.span)) for c in node.columns)
        return PProject(node.columns, (), node.span, "result", node, items)

    # ------------------------------------------------------------ dispatch

    def lower(self, rel: B.BRel, ctx: ApplyCtx | None) -> Lowered:
        key = id(rel)
        if ctx is None and key in self.memo:
            return self.memo[key]
        out = self._lower(rel, ctx)
        if ctx is None:
            self.memo[key] = out
        return out

    def _lower(self, rel: B.BRel, ctx: ApplyCtx | None) -> Lowered:
        span = rel.span
        match rel:
            case B.BTable(name=name):
                return Lowered(PScan(rel.schema, (), span, name, name))
            case B.BValues(rows=rows):
                ord_col = B.Column(ORD, LONG)
                empty = Lowered(PValues((), (), span, "print", ((),)))
                rows = tuple(tuple(self.expr(x, empty, None) for x in r) for r in rows)  # toscalar() in print
                rows_o = tuple(r + (B.BLit(LONG, span, i),) for i, r in enumerate(rows))
                node = PValues(rel.schema, (ord_col,), span, "datatable", rows_o)
                return Lowered(node, ((B.BCol(LONG, span, ORD), True, False),))
            case B.BRange(start=start, stop=stop, step=step):
                empty = Lowered(PValues((), (), span, "print", ((),)))
                start, stop, step = (self.expr(x, empty, None) for x in (start, stop, step))  # toscalar() bounds
                node = PRange(rel.schema, (), span, "range", start, stop, step)
                return self.add_ordinal(Lowered(node), ((_col(rel.schema[0], span), True, False),), "range")
            case B.BApplyInput():
                assert ctx is not None
                return ctx.input
            case B.BFilter(input=inp, predicate=pred):
                low = self.lower(inp, ctx)
                p = self.expr(pred, low, ctx)
                node = PFilter(low.node.columns, low.node.hidden, span, "where", low.node, p)
                return replace(low, node=node)
            case B.BProject(input=inp, items=items, op=op):
                low = self.lower(inp, ctx)
                low, items = self.stage_windows(low, items, ctx, span)
                new_items = tuple((n, self.expr(x, low, ctx)) for n, x in items)
                hidden_items = tuple((c.name, _col(c, span)) for c in low.node.hidden)
                node = PProject(rel.schema, low.node.hidden, span, op, low.node, new_items + hidden_items)
                kept = frozenset(n for n, x in items if isinstance(x, B.BCol) and x.name == n and n in low.constant)
                return replace(low, node=node, constant=kept)
            case B.BSummarize():
                return self.summarize(rel, ctx)
            case B.BJoin():
                if ctx is not None:
                    raise unsupported("`join` inside an mv-apply subquery", span)
                return self.join(rel)
            case B.BUnion():
                if ctx is not None:
                    raise unsupported("`union` inside an mv-apply subquery", span)
                return self.union(rel)
            case B.BExpand():
                return self.expand(rel, ctx)
            case B.BApply():
                if ctx is not None:
                    raise unsupported("nested mv-apply", span)
                return self.apply(rel)
            case B.BSort(input=inp, keys=keys, op=op):
                low = self.lower(inp, ctx)
                specs = tuple((self.expr(e, low, ctx), asc, nf) for e, asc, nf in keys)
                return self.add_ordinal(replace(low, order=()), specs, op)
            case B.BTake(input=inp, count=count):
                low = self.lower(inp, ctx)
                node = PLimit(low.node.columns, low.node.hidden, span, "take", low.node, count,
                              low.partition, low.order)
                return replace(low, node=node)
            case B.BDistinct(input=inp):
                low = self.lower(inp, ctx)
                base = low.node
                if base.hidden and ctx is None:
                    base = self.project_visible(base)
                return Lowered(PDistinct(base.columns, base.hidden, span, "distinct", base), (), low.partition)
            case B.BTopNested(input=inp, levels=levels):
                if ctx is not None:
                    raise unsupported("`top-nested` inside an mv-apply or partition subquery", span)
                low = self.lower(inp, ctx)
                lowered = tuple((k, self.expr(kx, low, ctx), a, self.expr(ax, low, ctx), n, asc)
                                for k, kx, a, ax, n, asc in levels)
                return Lowered(PTopNested(rel.schema, (), span, "top_nested", low.node, lowered))
            case B.BPartition():
                if ctx is not None:
                    raise unsupported("`partition` inside an mv-apply or partition subquery", span)
                return self.partition(rel)
            case B.BScan(input=inp):
                if ctx is not None and ctx.outer:
                    raise unsupported("`scan` inside an mv-apply subquery", span)
                low = self.lower(inp, ctx)
                if not low.order:
                    raise unsupported("scan here: the row set has no defined order", span, "sort or serialize first")
                node = PSequenceScan(rel.schema, (B.Column(ORD, LONG),), span, "scan", low.node, rel.steps,
                                     rel.declared, rel.match_id, rel.state, low.order, low.partition)
                return Lowered(node, ((B.BCol(LONG, span, ORD), True, False),), low.partition)
            case B.BSeriesFill(input=inp):
                if ctx is not None:
                    raise unsupported("`make-series` inside an mv-apply subquery", span)
                low = self.lower(inp, ctx)
                node = PSeriesFill(rel.schema, (), span, "make_series", low.node, rel.keys, rel.values, rel.axis,
                                   rel.count, rel.bin_of, rel.nonempty)
                return Lowered(node, (), ())
            case B.BSerialize(input=inp):
                low = self.lower(inp, ctx)
                if low.order:
                    return low
                return self.add_ordinal(low, (), "serialize")
            case B.BMaterialize(input=inp, name=name):
                low = self.lower(inp, ctx)
                node = PShared(low.node.columns, low.node.hidden, span, name, low.node, name, True)
                return replace(low, node=node)
            case B.BIpv4Lookup():
                low = self.lower(rel.input, ctx)
                if ctx is not None:
                    raise unsupported("ipv4_lookup inside an mv-apply subquery", span)
                base = self.project_visible(low.node) if low.node.hidden else low.node
                lookup = self.lower(rel.lookup, None).node
                if lookup.hidden:
                    lookup = self.project_visible(lookup)
                node = PIpv4Lookup(rel.schema, (), span, rel.family + "_lookup", base, lookup, rel.source_key,
                                   rel.lookup_key, rel.extra_keys, rel.return_unmatched, rel.right_names,
                                   rel.family)
                return Lowered(node)
            case B.BSearch():
                return self.search(rel, ctx)
            case B.BRender(input=inp):
                return self.lower(inp, ctx)
        raise unsupported(f"the {type(rel).__name__} step", span)

    # ------------------------------------------------------------ expressions

    def expr(self, e: B.BExpr, low: Lowered, ctx: ApplyCtx | None) -> B.BExpr:
        """Rewrite window functions against the input's row order; lower scalar subqueries."""
        match e:
            case B.BWindow(fn=fn, args=args):
                if not low.order and fn != "row_number":
                    raise unsupported(f"{fn}() here: the row set has no defined order", e.span,
                                      "sort or serialize first")
                new_args = tuple(self.expr(a, low, ctx) for a in args)
                shortcut = self.constant_neighbour(e, new_args, low)
                if shortcut is not None:
                    return shortcut
                return PWindow(e.type, e.span, fn, new_args, low.partition, low.order)
            case B.BCall(fn=fn, args=args):
                new_args = tuple(self.expr(a, low, ctx) for a in args)
                if all(a is b for a, b in zip(new_args, args, strict=True)):
                    return e
                return B.BCall(e.type, e.span, fn, new_args)
            case B.BAgg(fn=fn, args=args):
                new_args = tuple(self.expr(a, low, ctx) for a in args)
                if fn in ORDERED_LIST_AGGS and low.order:
                    return POrderedAgg(e.type, e.span, fn, new_args, low.order)
                return B.BAgg(e.type, e.span, fn, new_args)
            case B.BColumnSubquery(rel=rel):
                sub = self.lower(rel, None)
                return PColumn(e.type, e.span, sub.node)
            case B.BScalarSubquery(rel=rel):
                sub = self.lower(rel, None)
                node = sub.node
                if sub.order:
                    node = PSort(node.columns, (), node.span, "toscalar", node, sub.order)
                return PScalar(e.type, e.span, node)
        return e

    def stage_windows(self, low: Lowered, items: tuple[tuple[str, B.BExpr], ...], ctx: ApplyCtx | None,
                      span: Span) -> tuple[Lowered, tuple[tuple[str, B.BExpr], ...]]:
        """Window functions with a restart predicate, and the rank functions, need windows over windows
        (the restart may read prev(); a rank needs the runs of equal terms). SQL cannot nest them, so
        they run in steps: hidden columns for the restart flag, the row number and the term change, then
        running counts of those (segment and run ids), and finally plain windows partitioned by them."""
        staged: list[B.BWindow] = []

        def find(e: B.BExpr) -> None:
            if isinstance(e, B.BWindow) and (e.fn in ("row_rank_min", "row_rank_dense") or (
                    e.fn in ("row_number", "row_cumsum") and len(e.args) == 2)):
                staged.append(e)
            for a in getattr(e, "args", ()):
                find(a)

        for _, x in items:
            find(x)
        if not staged:
            return low, items
        if not low.order:
            raise unsupported(f"{staged[0].fn}() here: the row set has no defined order", staged[0].span,
                              "sort or serialize first")
        first: list[tuple[str, B.BExpr]] = []
        second: list[tuple[str, B.BExpr]] = []
        replacement: dict[int, B.BExpr] = {}
        one = B.BLit(LONG, span, 1)
        zero = B.BLit(LONG, span, 0)
        for k, w in enumerate(staged):
            rs, rn, ch, seg, grp = (f"__rs{k}", f"__rn{k}", f"__ch{k}", f"__seg{k}", f"__grp{k}")
            restart: B.BExpr = w.args[-1] if len(w.args) == 2 else B.BLit(BOOL, span, False)
            first.append((rs, B.BCall(BOOL, span, "coalesce", (restart, B.BLit(BOOL, span, False)))))
            first.append((rn, B.BWindow(LONG, span, "row_number", ())))
            second.append((seg, B.BWindow(LONG, span, "row_cumsum", (
                B.BCall(LONG, span, "iif", (B.BCol(BOOL, span, rs), one, zero)),))))
            segment = low.partition + (B.BCol(LONG, span, seg),)
            if w.fn in ("row_rank_min", "row_rank_dense"):
                term = w.args[0]
                changed = B.BCall(BOOL, span, "or", (
                    B.BCall(BOOL, span, "==", (B.BWindow(LONG, span, "row_number", ()), one)),
                    B.BCall(BOOL, span, "or", (
                        B.BCall(BOOL, span, "coalesce", (restart, B.BLit(BOOL, span, False))),
                        B.BCall(BOOL, span, "$distinct_from", (term, B.BWindow(term.type, span, "prev", (term,))))))))
                first.append((ch, changed))
                second.append((grp, B.BWindow(LONG, span, "row_cumsum", (
                    B.BCall(LONG, span, "iif", (B.BCol(BOOL, span, ch), one, zero)),))))
                if w.fn == "row_rank_min":
                    # the first row number of the run of equal terms, counted from the segment's start
                    run_first = PWindow(LONG, span, "min_over", (B.BCol(LONG, span, rn),),
                                        low.partition + (B.BCol(LONG, span, grp),), ())
                    seg_first = PWindow(LONG, span, "min_over", (B.BCol(LONG, span, rn),), segment, ())
                    value: B.BExpr = B.BCall(LONG, span, "+", (B.BCall(LONG, span, "-", (run_first, seg_first)), one))
                else:
                    seg_first = PWindow(LONG, span, "min_over", (B.BCol(LONG, span, grp),), segment, ())
                    value = B.BCall(LONG, span, "+", (B.BCall(LONG, span, "-", (B.BCol(LONG, span, grp), seg_first)),
                                                      one))
            elif w.fn == "row_number":
                value = PWindow(LONG, span, "row_number", tuple(self.expr(a, low, ctx) for a in w.args[:1]),
                                segment, low.order)
            else:
                value = PWindow(w.type, span, "row_cumsum", (self.expr(w.args[0], low, ctx),), segment, low.order)
            replacement[id(w)] = value

        def add_hidden(low: Lowered, new: list[tuple[str, B.BExpr]]) -> Lowered:
            node = low.node
            lowered = tuple((n, self.expr(x, low, ctx)) for n, x in new)
            cols = tuple(B.Column(n, x.type) for n, x in new)
            keep = tuple((c.name, _col(c, span)) for c in node.all_columns)
            return replace(low, node=PProject(node.columns, node.hidden + cols, span, "extend", node,
                                              keep + lowered))

        low = add_hidden(add_hidden(low, first), second)

        def swap(e: B.BExpr) -> B.BExpr:
            if id(e) in replacement:
                return replacement[id(e)]
            if isinstance(e, B.BCall):
                return B.BCall(e.type, e.span, e.fn, tuple(swap(a) for a in e.args))
            return e

        return low, tuple((n, swap(x)) for n, x in items)

    def constant_neighbour(self, e: B.BWindow, args: tuple[B.BExpr, ...], low: Lowered) -> B.BExpr | None:
        """next(x, k) / prev(x, k) of a column that is constant within the partition (an outer column inside
        mv-apply) is x itself whenever the k-th neighbour exists: one shared window on the row order then
        serves every such call (seed 004 asks for seven of them)."""
        if e.fn not in ("next", "prev") or len(args) > 2 or not isinstance(args[0], B.BCol):
            return None
        if args[0].name not in low.constant or len(low.order) != 1:
            return None
        offset = args[1] if len(args) == 2 else B.BLit(LONG, e.span, 1)
        if not isinstance(offset, B.BLit) or not isinstance(offset.value, int):
            return None
        position = low.order[0][0]
        neighbour = PWindow(position.type, e.span, e.fn, (position, offset), low.partition, low.order)
        exists = B.BCall(BOOL, e.span, "isnotnull", (neighbour,))
        default = B.BLit(e.type, e.span, None)
        return B.BCall(e.type, e.span, "iif", (exists, args[0], default))

    # ------------------------------------------------------------ operators

    def add_ordinal(self, low: Lowered, specs: tuple[SortSpec, ...], label: str) -> Lowered:
        """Number the rows (per mv-apply row when partitioned): the new hidden `__ord` is their order."""
        node = low.node
        hidden = tuple(c for c in node.hidden if c.name != ORD) + (B.Column(ORD, LONG),)
        window = PWindow(LONG, node.span, "row_number", (), low.partition, specs)
        items = tuple((c.name, _col(c, node.span)) for c in node.columns)
        items += tuple((c.name, _col(c, node.span)) for c in node.hidden if c.name != ORD)
        items += ((ORD, window),)
        out = PProject(node.columns, hidden, node.span, label, node, items)
        return Lowered(out, ((B.BCol(LONG, node.span, ORD), True, False),), low.partition)

    def summarize(self, rel: B.BSummarize, ctx: ApplyCtx | None) -> Lowered:
        rel, after = _defer_key_filters(rel)
        low = self.lower(rel.input, ctx)
        span = rel.span
        keys = tuple((n, self.expr(x, low, ctx)) for n, x in rel.keys)
        aggs = tuple((n, self.expr(x, low, ctx)) for n, x in rel.aggregates)
        hidden: tuple[B.Column, ...] = ()
        if ctx is not None:
            # Per outer row: group by the row id too; the outer columns ride along unchanged. A key that is
            # an outer column is constant within the row id, so it need not be hashed: take any value.
            constant = [(n, x) for n, x in keys if isinstance(x, B.BCol) and x.name == n and n in low.constant]
            keys = tuple(k for k in keys if k not in constant)
            aggs = tuple((n, B.BAgg(x.type, span, "any_value", (x,))) for n, x in constant) + aggs
            keys = keys + ((ROWID, B.BCol(LONG, span, ROWID)),)
            aggs = aggs + tuple((c.name, B.BAgg(c.type, span, "any_value", (_col(c, span),))) for c in ctx.outer)
            hidden = (B.Column(ROWID, LONG),) + ctx.outer
        node: PNode = PAggregate(rel.schema, hidden, span, "summarize", low.node, keys, aggs, rel.hints)
        if after is not None:
            node = PFilter(node.columns, node.hidden, span, "where", node, after)
        return Lowered(node, (), low.partition)

    def join(self, rel: B.BJoin) -> Lowered:
        left_low = self.lower(rel.left, None)
        left = left_low.node
        right = self.lower(rel.right, None).node
        dedupe_order: tuple[SortSpec, ...] = ()
        if rel.kind == "innerunique" and left_low.order:
            dedupe_order = left_low.order  # Kusto keeps the first left row of each key
        elif left.hidden:
            left = self.project_visible(left)
        if right.hidden:
            right = self.project_visible(right)
        kind = JOIN_KIND[rel.kind]
        keys = rel.keys
        right_names = rel.right_names
        if rel.kind.startswith("right") and kind in ("semi", "anti"):
            # right semi/anti = left semi/anti with the sides swapped
            left, right = right, left
            keys = tuple((r, lk) for lk, r in keys)
            right_names = ()
        null_strings: list[str] = []
        if kind in ("left", "full"):
            null_strings += [new for (old, new) in right_names if B.find(right.columns, old) and
                             B.find(right.columns, old).type == STRING]  # type: ignore[union-attr]
        if kind in ("right", "full"):
            null_strings += [c.name for c in left.columns if c.type == STRING]
        node = PJoin(rel.schema, (), rel.span, f"join_{rel.kind}", left, right, kind, keys, right_names,
                     tuple(null_strings), dedupe_left=rel.kind == "innerunique", dedupe_order=dedupe_order,
                     hints=rel.hints)
        return Lowered(node)

    def union(self, rel: B.BUnion) -> Lowered:
        span = rel.span
        inputs = []
        for label, r in zip(rel.source_names, rel.inputs, strict=True):
            node = self.lower(r, None).node
            items: list[tuple[str, B.BExpr]] = []
            for c in rel.schema:
                if c.name == rel.source_column:
                    items.append((c.name, B.BLit(STRING, span, label)))
                    continue
                src = B.find(node.columns, c.name)
                if src is not None and src.type.name == c.type.name:
                    items.append((c.name, B.BCol(src.type, span, src.name)))
                    continue
                typed = next((s for s in node.columns if f"{s.name}_{s.type.name}" == c.name), None)
                if typed is not None:
                    items.append((c.name, B.BCol(typed.type, span, typed.name)))
                    continue
                items.append((c.name, B.BLit(c.type, span, "" if c.type == STRING else None)))
            inputs.append((node, tuple(items)))
        return Lowered(PUnion(rel.schema, (), span, "union", tuple(inputs)))

    def expand(self, rel: B.BExpand, ctx: ApplyCtx | None) -> Lowered:
        if rel.limit is not None:
            raise unsupported("`mv-expand limit`", rel.span)
        low = self.lower(rel.input, ctx)
        span = rel.span
        expanded = {n for n, _, _ in rel.items}
        keep = tuple((c.name, _col(c, span)) for c in low.node.columns if c.name not in expanded)
        keep += tuple((c.name, _col(c, span)) for c in low.node.hidden)
        items = tuple((n, self.expr(x, low, ctx), t) for n, x, t in rel.items)
        node = PUnnest(rel.schema, low.node.hidden, span, "mv-expand", low.node, keep, items, rel.index_column,
                       rel.bag_mode)
        return Lowered(node, (), low.partition)

    def apply(self, rel: B.BApply) -> Lowered:
        span = rel.span
        outer = self.lower(rel.input, None)
        base = outer.node
        # 1. number the outer rows; 2. copy the outer columns into hidden __o<i>
        outer_cols = [c for c in base.columns if c.name in rel.outer_columns]
        copies = tuple(B.Column(f"__o{i}", c.type) for i, c in enumerate(outer_cols))
        rowid = PWindow(LONG, span, "row_number", (), (), ())
        items = tuple((c.name, _col(c, span)) for c in base.columns)
        items += tuple((cp.name, _col(c, span)) for cp, c in zip(copies, outer_cols, strict=True))
        items += ((ROWID, rowid),)
        hidden = copies + (B.Column(ROWID, LONG),)
        numbered = PProject(base.columns, hidden, span, "mv-apply_rows", base, items)
        # 3. expand the arrays, keeping position
        index = rel.index_column or IDX
        keep = tuple((c.name, _col(c, span)) for c in outer_cols)
        keep += tuple((c.name, _col(c, span)) for c in hidden)
        exp_items = tuple((n, x, t) for n, x, t in rel.items)
        sub_cols = rel.apply_input.schema
        sub_hidden = hidden + ((B.Column(IDX, LONG),) if index == IDX else ())
        unnest = PUnnest(sub_cols, sub_hidden, span, "mv-apply_expand", numbered, keep, exp_items, index,
                         rel.bag_mode)
        order = ((B.BCol(LONG, span, index), True, False),)
        expanded = {n for n, _, _ in rel.items}
        constant = frozenset(c.name for c in outer_cols if c.name not in expanded)
        sub_input = Lowered(unnest, order, (B.BCol(LONG, span, ROWID),), constant)
        ctx = ApplyCtx(sub_input, copies)
        sub = self.lower(rel.subquery, ctx)
        # 4. the outer columns come from the copies unless the subquery produced them
        sub_names = {c.name for c in sub.node.columns}
        final_items: list[tuple[str, B.BExpr]] = []
        for c in rel.schema:
            if c.name in sub_names:
                final_items.append((c.name, B.BCol(c.type, span, c.name)))
            else:
                cp = copies[[oc.name for oc in outer_cols].index(c.name)]
                final_items.append((c.name, B.BCol(cp.type, span, cp.name)))
        node = PProject(rel.schema, (), span, "mv-apply", sub.node, tuple(final_items))
        return Lowered(node)

    def partition(self, rel: B.BPartition) -> Lowered:
        """Like an mv-apply subquery (ApplyCtx) where the "outer row" is the partition: a dense rank of the
        key numbers the partitions, and the subquery's windows, limits and aggregates work per number."""
        span = rel.span
        low = self.lower(rel.input, None)
        base = low.node
        key = _col(next(c for c in base.columns if c.name == rel.key), span)
        rank = PWindow(LONG, span, "dense_rank", (), (), ((key, True, True),))
        items = tuple((c.name, _col(c, span)) for c in base.columns) + ((ROWID, rank),)
        numbered = PProject(base.columns, (B.Column(ROWID, LONG),), span, "partition_rows", base, items)
        sub_input = Lowered(numbered, low.order, (B.BCol(LONG, span, ROWID),), frozenset({rel.key}))
        sub = self.lower(rel.subquery, ApplyCtx(sub_input, ()))
        final = tuple((c.name, B.BCol(c.type, span, c.name)) for c in rel.schema)
        return Lowered(PProject(rel.schema, (), span, "partition", sub.node, final))

    def search(self, rel: B.BSearch, ctx: ApplyCtx | None) -> Lowered:
        low = self.lower(rel.input, ctx)
        span = rel.span
        columns = [c for c in low.node.columns if c.name != "$table"]
        source = low.node
        # terms that a later `where Col == "value"` already guarantees need no test (see plan/implied.py)
        predicate = drop_implied_terms(rel.predicate, self.implied.get(id(rel), frozenset()))
        if not (isinstance(predicate, B.BLit) and predicate.value is True):
            source = PFilter(source.columns, source.hidden, span, "search", source,
                             _expand_search(predicate, columns, span))
        table = rel.tables[0] if len(rel.tables) == 1 else None
        first: B.BExpr = B.BLit(STRING, span, table) if table else B.BCol(STRING, span, "$table")
        out = (("$table", first),) + tuple((c.name, _col(c, span)) for c in columns)
        out += tuple((c.name, _col(c, span)) for c in low.node.hidden)
        node = PProject(rel.schema, low.node.hidden, span, "search", source, out)
        return replace(low, node=node)


@dataclass(frozen=True, slots=True)
class PColumn(B.BExpr):
    """The first column of a sub-plan, as the right side of `in`."""

    node: PNode


@dataclass(frozen=True, slots=True)
class PScalar(B.BExpr):
    """`toscalar(...)`: the first column of the first row of a sub-plan."""

    node: PNode


# Row-by-row tests that cost a regular expression or more per row.
_EXPENSIVE = {"ipv4_is_private", "ipv4_is_in_range", "ipv4_is_match", "parse_ipv4", "matches regex", "has",
              "!has", "has_cs", "!has_cs", "hasprefix", "hassuffix", "extract", "replace_regex", "replace",
              "geo_info_from_ip_address", "parse_url", "parse_json"}


def _costly(e: B.BExpr) -> bool:
    return isinstance(e, B.BCall) and (e.fn in _EXPENSIVE or any(_costly(a) for a in e.args))


def _conjuncts(e: B.BExpr) -> list[B.BExpr]:
    if isinstance(e, B.BCall) and e.fn == "and":
        return _conjuncts(e.args[0]) + _conjuncts(e.args[1])
    return [e]


def _all_of(parts: list[B.BExpr], span: Span) -> B.BExpr | None:
    out: B.BExpr | None = None
    for p in parts:
        out = p if out is None else B.BCall(BOOL, span, "and", (out, p))
    return out


def _defer_key_filters(rel: B.BSummarize) -> tuple[B.BSummarize, B.BExpr | None]:
    """Costly `where` conjuncts right under a summarize that read only grouping-key columns are tested once
    per group after it instead of once per row (a filter on the keys removes whole groups, so the result is
    the same). Seed 004's `not(ipv4_is_private(RemoteIP))` runs on ~20k groups instead of ~1M rows."""
    keys = {x.name for n, x in rel.keys if isinstance(x, B.BCol) and x.name == n}
    filters: list[B.BFilter] = []
    node = rel.input
    while isinstance(node, B.BFilter):
        filters.append(node)
        node = node.input
    if not filters or not keys:
        return rel, None
    deferred: list[B.BExpr] = []
    rebuilt = node
    for f in reversed(filters):
        keep = []
        for part in _conjuncts(f.predicate):
            if _costly(part) and refs(part) and refs(part) <= keys and not _has_agg_or_window(part):
                deferred.append(part)
            else:
                keep.append(part)
        remaining = _all_of(keep, f.span)
        if remaining is not None:
            rebuilt = B.BFilter(f.schema, f.span, rebuilt, remaining)
    if not deferred:
        return rel, None
    return replace(rel, input=rebuilt), _all_of(deferred, rel.span)


def _has_agg_or_window(e: B.BExpr) -> bool:
    if isinstance(e, B.BAgg | B.BWindow | B.BScalarSubquery):
        return True
    return isinstance(e, B.BCall) and any(_has_agg_or_window(a) for a in e.args)


def _expand_search(e: B.BExpr, columns: list[B.Column], span: Span) -> B.BExpr:
    """`search "term"` means: some column `has` the term (case-insensitive, whole term)."""
    if isinstance(e, B.BCall) and e.fn == "search_term":
        term = e.args[0]
        assert isinstance(term, B.BLit)
        if "*" in str(term.value):
            raise unsupported("wildcards in `search` terms", e.span)
        tests: list[B.BExpr] = []
        for c in columns:
            if not _can_hold_term(c.type, str(term.value)):
                continue
            col: B.BExpr = _col(c, span)
            if c.type != STRING:
                col = B.BCall(STRING, span, "tostring", (col,))
            tests.append(B.BCall(BOOL, span, "has", (col, term)))
        if not tests:
            return B.BLit(BOOL, span, False)
        out = tests[0]
        for t in tests[1:]:
            out = B.BCall(BOOL, span, "or", (out, t))
        return out
    if isinstance(e, B.BCall):
        return B.BCall(e.type, e.span, e.fn, tuple(_expand_search(a, columns, span) for a in e.args))
    return e


def _can_hold_term(t: KType, term: str) -> bool:
    """Whether Kusto's text of a `t` value could contain `term` as a whole term. Numbers, datetimes and
    timespans print as digits with separators (`2024-01-01T10:00:00Z`, `1.5`, `00:05:00`): their terms
    always contain a digit, so a term without digits never matches them — skipping them saves turning
    every such value into text."""
    if t.name in ("string", "guid", "dynamic"):
        return True
    if t.name == "bool":
        return term.lower() in ("true", "false")
    if t.name == "real" and term.lower() in ("nan", "infinity"):
        return True
    return any(ch.isdigit() for ch in term)


def lower(rel: B.BRel) -> Plan:
    return prune(reduce_joins(Lowerer().plan(rel)))


__all__ = ["lower", "PScalar", "ORD", "ROWID", "IDX", "KType"]
