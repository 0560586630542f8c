"""The anatomy of a hunt: what a reviewer needs to judge, tune and de-duplicate it, from the real parse and
binding rather than from regular expressions over the text.

Names, stages and source text come from the AST (`syntax.ast`, every node with a span); values, types and
output columns come from the bound tree (`semantic.bound`), where parameters are already folded. The two
meet through spans: a bound operator carries the span of the AST operator it was bound from.

`analyse(query)` returns an `Anatomy`; `Anatomy.to_dict()` is the JSON documented in docs/explain.md
(`schema: kqlhunt.explain/1`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from kqlhunt.diagnostics import KqlError, Span
from kqlhunt.rules import coverage
from kqlhunt.rules.predicates import Predicate, classify, conjuncts, value_text
from kqlhunt.semantic import bound as B
from kqlhunt.syntax import ast as A
from kqlhunt.syntax.printer import to_kql

SCHEMA_VERSION = "kqlhunt.explain/1"
TIME_COLUMNS = ("Timestamp", "TimeGenerated")
# Kusto's anti joins keep the rows *without* a match: the right side's predicates are what the rule
# suppresses. (rightanti keeps right rows, so its left side is the negated one.)
_ANTI_LEFT_KEEPS = {"leftanti", "anti", "leftantisemi"}
_ANTI_RIGHT_KEEPS = {"rightanti", "rightantisemi"}


@dataclass
class Parameter:
    name: str
    type: str
    value: str  # folded, as KQL reads it
    expression: str  # as written
    span: Span


@dataclass
class LetBinding:
    name: str
    kind: str  # tabular | function
    derives_from: list[str]  # lets it reads, in declaration order
    tables: list[str]  # tables it reads directly
    text: str
    spliced: bool  # heads the main pipeline, so its operators are stages
    span: Span


@dataclass
class Stage:
    number: int
    op: str  # source, where, summarize, join, mv-apply, project-away, extend, sort, ...
    summary: str  # parameters resolved, as the stage reads
    text: str  # verbatim source of the operator
    let: str | None  # the tabular let the stage comes from when spliced
    negated: bool = False  # anti joins: the right side is suppressed
    columns: list[str] = field(default_factory=list)  # keys / made columns / sort columns
    span: Span | None = None


@dataclass
class OutputField:
    name: str
    type: str
    stage: int  # the stage that brings the column into the main pipeline
    stage_op: str
    origin: str  # the operator that computes it (may sit inside a let or a join's right side)
    origin_let: str | None


@dataclass
class TimeWindow:
    table: str | None
    column: str
    lookback: str | None  # ago(...) lower bound
    until: str | None  # ago(...) upper bound, or None for "now"
    text: str


@dataclass
class Anatomy:
    query: str
    parameters: list[Parameter]
    lets: list[LetBinding]
    stages: list[Stage]
    exclusions: list[Predicate]
    indicators: list[Predicate]
    outputs: list[OutputField]
    time_windows: list[TimeWindow]
    tables: list[str]
    coverage: list[coverage.CoverageRow]
    action_types: dict[str, list[str]]  # table -> ActionType values the rule selects (empty: all)
    external_data: list[str] = field(default_factory=list)  # URIs of externaldata operators
    # what the anatomy was derived from, for lint (not part of the JSON)
    script: A.Script | None = field(default=None, repr=False)
    bound: B.BoundQuery | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        locate = LineIndex(q)

        def pos(span: Span | None) -> dict[str, int] | None:
            if span is None:
                return None
            line, col = locate(span.start)
            return {"start": span.start, "end": span.end, "line": line, "col": col}

        def pred(p: Predicate) -> dict[str, Any]:
            out = p.to_dict()
            out["text"] = q[p.span.start:p.span.end] if p.span else ""
            out["position"] = pos(p.span)
            return out

        return {
            "schema": SCHEMA_VERSION,
            "parameters": [{"name": p.name, "type": p.type, "value": p.value, "expression": p.expression,
                            "position": pos(p.span)} for p in self.parameters],
            "lets": [{"name": b.name, "kind": b.kind, "derives_from": b.derives_from, "tables": b.tables,
                      "spliced": b.spliced, "text": b.text, "position": pos(b.span)} for b in self.lets],
            "stages": [{"number": s.number, "op": s.op, "negated": s.negated, "summary": s.summary,
                        "columns": s.columns, "let": s.let, "text": s.text, "position": pos(s.span)}
                       for s in self.stages],
            "exclusions": [pred(p) for p in self.exclusions],
            "indicators": [pred(p) for p in self.indicators],
            "outputs": [{"name": o.name, "type": o.type, "stage": o.stage, "stage_op": o.stage_op,
                         "origin": o.origin, "origin_let": o.origin_let} for o in self.outputs],
            "time_windows": [{"table": t.table, "column": t.column, "lookback": t.lookback, "until": t.until,
                              "text": t.text} for t in self.time_windows],
            "tables": self.tables,
            "action_types": self.action_types,
            "external_data": self.external_data,
            "event_coverage": [r.to_dict() for r in self.coverage],
        }


def analyse(query: str, schema: str = "auto", schemas: dict[str, list[tuple[str, str]]] | None = None,
            script: A.Script | None = None) -> Anatomy:
    """The anatomy of `query` (`script`: its parse, when the caller has it). Raises `KqlError` when it does
    not parse or bind."""
    from kqlhunt.syntax.parser import parse

    try:
        script = script or parse(query)
        bound = bind(script, query, schema, schemas)
    except KqlError as exc:
        raise exc.with_source(query) from None
    return _Analysis(query, script, bound).run()


def bind(script: A.Script, query: str, schema: str = "auto",
         schemas: dict[str, list[tuple[str, str]]] | None = None) -> B.BoundQuery:
    """Parse and bind only, as `kqlhunt.compile` does before planning: the anatomy needs names, types and
    folded values, not SQL, and skipping the plan and SQL stages makes explain/lint several times faster
    over large rule corpora. Same catalog rules as `compile` (built-in tables, then `schemas`)."""
    from kqlhunt.diagnostics import unsupported
    from kqlhunt.semantic.bag_unpack import NeedsBagSchema
    from kqlhunt.semantic.binder import Binder
    from kqlhunt.semantic.catalog import FLAVOURS, Catalog, choose_flavour

    if schema == "auto":
        flavour = choose_flavour(query)
    elif schema in FLAVOURS:
        flavour = schema
    else:
        raise ValueError(f"schema must be auto, {' or '.join(FLAVOURS)}; not {schema!r}")
    schemas = schemas or {}
    if set(schemas) <= set(FLAVOURS) and all(isinstance(v, dict) for v in schemas.values()):
        # {"defender": {...}, "sentinel": {...}}: one set of extra tables per flavour (Sentinel's copies
        # of the Defender tables have TimeGenerated, not Timestamp)
        schemas = schemas.get(flavour, {})  # type: ignore[assignment]
    tables = _columns(schemas)
    try:
        return Binder(Catalog(tables, flavour), bag_slots={}).bind_script(script)
    except NeedsBagSchema as need:
        raise unsupported("bag_unpack without an output schema when no data is attached", need.span) from None


class LineIndex:
    """1-based (line, column) of offsets, with the line starts computed once per text."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def __call__(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1


_CONVERTED: dict[int, tuple[Any, dict[str, B.Schema]]] = {}


def _columns(schemas: dict[str, list[tuple[str, str]]]) -> dict[str, B.Schema]:
    """Bound schemas of the extra tables, converted once per mapping object: a catalog explains thousands
    of queries against the same hundred-table mapping."""
    from kqlhunt.semantic.types import BY_NAME

    hit = _CONVERTED.get(id(schemas))
    if hit is not None and hit[0] is schemas:
        return hit[1]
    tables = {name: tuple(B.Column(c, BY_NAME[t]) for c, t in cols) for name, cols in schemas.items()}
    if len(_CONVERTED) > 16:
        _CONVERTED.clear()
    _CONVERTED[id(schemas)] = (schemas, tables)
    return tables


def tables_from_parse(script: A.Script) -> list[str]:
    """Tables a query reads, from the parse alone (for queries that do not bind): the names in source
    position (pipeline heads, join/lookup/union operands, search/find/union lists) that no let defines."""
    lets = {st.name for st in script.statements if isinstance(st, A.Let)}
    found: list[str] = []

    def source(e: object) -> None:
        e = unwrap(e) if isinstance(e, A.Expr) else e
        if isinstance(e, A.Name) and e.name not in lets and e.name not in found:
            found.append(e.name)

    stack: list[object] = [script]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Pipeline):
            source(n.source)
        elif isinstance(n, A.Join | A.Lookup):
            source(n.right)
        elif isinstance(n, A.Union | A.UnionSource | A.SearchSource | A.FindSource):
            for t in n.tables:
                source(t)
        elif isinstance(n, A.QueryStatement):
            source(n.expr)
        if isinstance(n, tuple | list):
            stack.extend(reversed(n))
        elif isinstance(n, A.Node):
            stack.extend(getattr(n, f) for f in reversed(n.__dataclass_fields__) if f != "span")
    return found


def unwrap(e: A.Expr) -> A.Expr:
    """`materialize(X)` is X for the anatomy (the parser keeps no node for parentheses)."""
    while isinstance(e, A.Call) and e.name == "materialize" and len(e.args) == 1:
        e = e.args[0]
    return e


class _Analysis:
    def __init__(self, query: str, script: A.Script, bound: B.BoundQuery) -> None:
        self.q = query
        self.script = script
        self.bound = bound
        self.let_ast: dict[str, A.Let] = {}
        for st in script.statements:
            if isinstance(st, A.Let):
                self.let_ast[st.name] = st  # a later let shadows an earlier one, as in Kusto
        self.main = next((st.expr for st in reversed(script.statements) if isinstance(st, A.QueryStatement)),
                         None)

    def text(self, span: Span) -> str:
        return self.q[span.start:span.end]

    def run(self) -> Anatomy:
        params = self.parameters()
        stages, spliced = self.stages()
        lets = self.lets(spliced)
        positive, negative = self.filters()
        time_windows: list[TimeWindow] = []
        indicators: list[Predicate] = []
        exclusions: list[Predicate] = []
        for node, table in positive:
            for c in conjuncts(node.predicate):
                window = self.time_window(c, table)
                if window is not None:
                    time_windows.append(window)
                    continue
                for p in classify(c):
                    p = _through_lookup(p, node)
                    (exclusions if p.negated else indicators).append(p)
        for node, _ in negative:
            for c in conjuncts(node.predicate):
                if self.time_window(c, None) is not None:
                    continue
                # the anti join suppresses rows that match: its positive predicates are exclusions
                for p in classify(c):
                    if not p.negated:
                        exclusions.append(_negate(p))
        indicators = _dedupe(indicators)
        exclusions = _dedupe(exclusions)
        outputs = self.outputs(stages)
        # externaldata sources appear in the binder's table list under synthetic names: not tables read
        tables = [t for t in dict.fromkeys(self.bound.tables) if t not in self.bound.externals]
        action_types = _action_types(tables, indicators, exclusions)
        return Anatomy(self.q, params, lets, stages, exclusions, indicators, outputs,
                       _dedupe_windows(time_windows), tables, coverage.rows_for(action_types), action_types,
                       [u for ext in self.bound.externals.values() for u in ext.uris], self.script, self.bound)

    # ------------------------------------------------------------------ parameters and lets

    def parameters(self) -> list[Parameter]:
        out = []
        for name, lit in self.bound.parameters.items():
            st = self.let_ast.get(name)
            if st is None:
                continue
            out.append(Parameter(name, lit.type.name, value_text(lit.value, lit.type.name),
                                 self.text(st.value.span), st.span))
        return out

    def lets(self, spliced: set[str]) -> list[LetBinding]:
        order = list(self.let_ast)
        out = []
        for name, st in self.let_ast.items():
            if name in self.bound.parameters:
                continue
            kind = "function" if isinstance(st.value, A.FunctionLiteral) else "tabular"
            if kind == "tabular" and name not in self.bound.lets:
                continue  # a scalar let the binder could not fold (e.g. toscalar): not a binding
            used = _names(st.value)
            derives = [n for n in order if n in used and n != name and order.index(n) < order.index(name)]
            tables = [t for t in self.bound.tables if t in used and t not in self.let_ast]
            out.append(LetBinding(name, kind, derives, tables, self.text(st.span), name in spliced, st.span))
        return out

    # ------------------------------------------------------------------ stages

    def stages(self) -> tuple[list[Stage], set[str]]:
        if self.main is None:
            return [], set()
        main = unwrap(self.main)
        pieces: list[tuple[A.Expr | A.Operator, str | None]] = []
        spliced: set[str] = set()
        source, ops = (main.source, main.ops) if isinstance(main, A.Pipeline) else (main, ())
        source = unwrap(source)
        # A let that heads the main pipeline is spliced in (one level, as catalogs show it): its operators
        # are the first stages, so "source" is what the let itself reads.
        if isinstance(source, A.Name) and source.name in self.let_ast:
            value = unwrap(self.let_ast[source.name].value)
            if isinstance(value, A.Pipeline):
                spliced.add(source.name)
                pieces.append((unwrap(value.source), source.name))
                pieces.extend((op, source.name) for op in value.ops)
                source = None  # type: ignore[assignment]
        if source is not None:
            pieces.append((source, None))
        pieces.extend((op, None) for op in ops)
        nodes = self.nodes_by_span()
        stages = []
        for i, (piece, let) in enumerate(pieces, start=1):
            stage = self.stage(i, piece, let, nodes)
            stages.append(stage)
        return stages, spliced

    def nodes_by_span(self) -> dict[tuple[int, int], B.BRel]:
        out: dict[tuple[int, int], B.BRel] = {}
        for node in _walk(self.bound.rel):
            out.setdefault((node.span.start, node.span.end), node)
        return out

    def stage(self, number: int, piece: A.Node, let: str | None, nodes: dict) -> Stage:
        text = self.text(piece.span)
        node = nodes.get((piece.span.start, piece.span.end))
        if not isinstance(piece, A.Operator):
            summary = piece.name if isinstance(piece, A.Name) else _one_line(to_kql(self.resolved(piece)))
            return Stage(number, "source", summary, text, let, span=piece.span)
        op, summary, columns, negated = self.describe(piece, node)
        return Stage(number, op, summary, text, let, negated, columns, piece.span)

    def resolved(self, node: A.Node) -> A.Node:
        """`node` with scalar parameters replaced by their folded values (for summaries)."""
        return _substitute(node, self.bound.parameters)

    def describe(self, op: A.Operator, node: B.BRel | None) -> tuple[str, str, list[str], bool]:
        if isinstance(op, A.Where):
            return op.keyword, _one_line(f"{op.keyword} {to_kql(self.resolved(op.predicate))}"), [], False
        if isinstance(op, A.Summarize):
            keys = [k for k, _ in node.keys] if isinstance(node, B.BSummarize) else \
                [to_kql(a) for a in op.by]
            aggs = ", ".join(_one_line(to_kql(self.resolved(a))) for a in op.aggregates)
            by = f" by {', '.join(keys)}" if keys else ""
            return "summarize", f"summarize {aggs}{by}".replace("summarize  by", "summarize by"), keys, False
        if isinstance(op, A.Join | A.Lookup):
            word = "join" if isinstance(op, A.Join) else "lookup"
            kind = node.kind if isinstance(node, B.BJoin) else next(
                (to_kql(o.value) for o in op.options if o.name == "kind"), "innerunique")
            right = unwrap(op.right)
            right_text = right.name if isinstance(right, A.Name) else "(...)"
            keys = [f"{a}" if a == b else f"$left.{a} == $right.{b}" for a, b in node.keys] \
                if isinstance(node, B.BJoin) else [to_kql(k) for k in op.on]
            negated = kind in _ANTI_LEFT_KEEPS
            return word, f"{word} kind={kind} {right_text} on {', '.join(keys)}", keys, negated
        if isinstance(op, A.Extend | A.Project):
            word = "extend" if isinstance(op, A.Extend) else "project"
            names = [", ".join(a.names) if a.names else _one_line(to_kql(a.expr)) for a in op.items]
            if isinstance(node, B.BProject) and isinstance(op, A.Extend):
                names = [n for n, e in node.items if not (isinstance(e, B.BCol) and e.name == n)] or names
            return word, f"{word} {', '.join(names)}", names, False
        if isinstance(op, A.Sort):
            keys = [_one_line(to_kql(k.expr)) + (" desc" if k.ascending is False or
                                                 (k.ascending is None) else " asc") for k in op.keys]
            cols = [_one_line(to_kql(k.expr)) for k in op.keys]
            return "sort", f"sort by {', '.join(keys)}", cols, False
        if isinstance(op, A.MvApply):
            items = [item.name or _one_line(to_kql(item.expr)) for item in op.items]
            return "mv-apply", f"mv-apply {', '.join(items)} on (...)", items, False
        if isinstance(op, A.MvExpand):
            items = [item.name or _one_line(to_kql(item.expr)) for item in op.items]
            return "mv-expand", f"mv-expand {', '.join(items)}", items, False
        word = _one_line(to_kql(op)).split(" ", 1)[0]
        return word, _one_line(to_kql(self.resolved(op))), [], False

    # ------------------------------------------------------------------ filters

    def filters(self) -> tuple[list[tuple[B.BRel, str | None]], list[tuple[B.BRel, str | None]]]:
        """Filter nodes reachable from the result without crossing an anti join's suppressed side
        (positive), and those reachable only through it (negative), each with the table it reads."""
        positive: dict[int, tuple[B.BRel, str | None]] = {}
        suppressed: list[B.BRel] = []
        _collect(self.bound.rel, positive, suppressed, set())
        negative: dict[int, tuple[B.BRel, str | None]] = {}
        seen: set[int] = set(positive)
        for root in suppressed:
            _collect(root, negative, [], seen, follow_anti=True)
        def in_source_order(found: list[tuple[B.BRel, str | None]]) -> list[tuple[B.BRel, str | None]]:
            return sorted(found, key=lambda item: (item[0].span.start, item[0].span.end))

        return in_source_order(list(positive.values())), \
            in_source_order([v for k, v in negative.items() if k not in positive])

    def time_window(self, e: B.BExpr, table: str | None) -> TimeWindow | None:
        if not isinstance(e, B.BCall) or not e.args or not isinstance(e.args[0], B.BCol):
            return None
        column = e.args[0].name
        if column not in TIME_COLUMNS and e.args[0].type.name != "datetime":
            return None
        text = self.text(e.span)
        # ago()-relative bounds give a lookback; bounds around a computed datetime (an incident time
        # +- a margin) still confine the rows, with lookback/until left null
        if e.fn == "between" and len(e.args) == 3:
            return TimeWindow(table, column, _ago(e.args[1]), _ago(e.args[2]), text)
        if e.fn in (">", ">=") and len(e.args) == 2 and e.args[1].type.name == "datetime":
            return TimeWindow(table, column, _ago(e.args[1]), None, text)
        if e.fn in ("<", "<=") and len(e.args) == 2 and e.args[1].type.name == "datetime":
            return TimeWindow(table, column, None, _ago(e.args[1]), text)
        return None

    # ------------------------------------------------------------------ outputs

    def outputs(self, stages: list[Stage]) -> list[OutputField]:
        stage_at = {(s.span.start, s.span.end): s for s in stages if s.span is not None}
        let_spans = [(st.value.span, name) for name, st in self.let_ast.items()]
        out = []
        for col in self.bound.rel.schema:
            path = _trace(self.bound.rel, col.name)
            stage = stages[-1] if stages else None
            for node, edge in path:
                hit = stage_at.get((node.span.start, node.span.end))
                if hit is not None:
                    stage = hit
                if edge in ("right", "subquery", "lookup"):
                    break
                if hit is not None and edge in ("input", "left") and hit.number > 1:
                    stage = stages[hit.number - 2]
            origin_node = path[-1][0] if path else self.bound.rel
            origin_let = next((name for span, name in let_spans
                               if span.start <= origin_node.span.start and origin_node.span.end <= span.end),
                              None)
            out.append(OutputField(col.name, col.type.name, stage.number if stage else 0,
                                   stage.op if stage else "", _op_name(origin_node), origin_let))
        return out


# ---------------------------------------------------------------------------------------------- helpers

def _one_line(text: str) -> str:
    return " ".join(text.split())


def _names(node: object) -> set[str]:
    """Every bare name used inside an AST node (tables, lets, columns alike)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Name):
            found.add(n.name)
        elif isinstance(n, A.Call):
            found.add(n.name)  # a let-bound function is called by name
            stack.extend(n.args)
        elif isinstance(n, tuple | list):
            stack.extend(n)
        elif isinstance(n, A.Node):
            stack.extend(getattr(n, f) for f in n.__dataclass_fields__ if f != "span")
    return found


def _substitute(node: Any, params: dict[str, B.BLit]) -> Any:
    if isinstance(node, A.Name) and node.name in params:
        lit = params[node.name]
        return A.Literal(node.span, lit.type.name, lit.value)
    if isinstance(node, tuple):
        return tuple(_substitute(n, params) for n in node)
    if isinstance(node, A.Node):
        changes = {}
        for f in node.__dataclass_fields__:
            value = getattr(node, f)
            new = _substitute(value, params)
            if new is not value:
                changes[f] = new
        if changes:
            import dataclasses

            return dataclasses.replace(node, **changes)
    return node


def _children(rel: B.BRel) -> list[tuple[B.BRel, str]]:
    out: list[tuple[B.BRel, str]] = []
    for name in ("input", "left", "right", "subquery", "lookup"):
        child = getattr(rel, name, None)
        if isinstance(child, B.BRel):
            out.append((child, name))
    for child in getattr(rel, "inputs", ()) or ():
        out.append((child, "input"))
    return out


def _walk(rel: B.BRel) -> list[B.BRel]:
    seen: set[int] = set()
    out: list[B.BRel] = []
    stack = [rel]
    while stack:
        r = stack.pop()
        if id(r) in seen:
            continue
        seen.add(id(r))
        out.append(r)
        stack.extend(c for c, _ in _children(r))
    return out


def _table_of(rel: B.BRel) -> str | None:
    """The single table under `rel` along input edges (the table a filter's time window applies to)."""
    while True:
        if isinstance(rel, B.BTable):
            return rel.name
        if isinstance(rel, B.BSearch):
            return rel.tables[0] if len(rel.tables) == 1 else None
        nxt = getattr(rel, "input", None) or getattr(rel, "left", None)
        if not isinstance(nxt, B.BRel):
            return None
        rel = nxt


def _collect(rel: B.BRel, out: dict[int, tuple[B.BRel, str | None]], suppressed: list[B.BRel],
             seen: set[int], follow_anti: bool = False) -> None:
    stack = [rel]
    while stack:
        r = stack.pop()
        if id(r) in seen:
            continue
        seen.add(id(r))
        if isinstance(r, B.BFilter | B.BSearch):
            out[id(r)] = (r, _table_of(r))
        for child, edge in _children(r):
            if isinstance(r, B.BJoin) and not follow_anti and (
                    (edge == "right" and r.kind in _ANTI_LEFT_KEEPS) or
                    (edge == "left" and r.kind in _ANTI_RIGHT_KEEPS)):
                suppressed.append(child)
                continue
            stack.append(child)
        for e in _scalar_subqueries(r):
            stack.append(e)


def _scalar_subqueries(rel: B.BRel) -> list[B.BRel]:
    exprs: list[B.BExpr] = []
    if isinstance(rel, B.BFilter):
        exprs.append(rel.predicate)
    out = []
    while exprs:
        e = exprs.pop()
        if isinstance(e, B.BScalarSubquery | B.BColumnSubquery):
            out.append(e.rel)
        exprs.extend(a for a in getattr(e, "args", ()) if isinstance(a, B.BExpr))
    return out


def _ago(e: B.BExpr) -> str | None:
    if isinstance(e, B.BCall) and e.fn == "ago" and len(e.args) == 1 and isinstance(e.args[0], B.BLit):
        return value_text(e.args[0].value, "timespan")
    if isinstance(e, B.BCall) and e.fn == "now" and not e.args:
        return "0s"
    return None


def _through_lookup(p: Predicate, node: B.BRel) -> Predicate:
    """`evaluate ipv4_lookup(Nets, RemoteIP, Net, return_unmatched=true) | where isempty(Net)` suppresses
    the addresses in Nets: report it as `RemoteIP cidr_match <Nets>` when Nets is a literal table."""
    if p.kind != "is_not_null" or p.through or not isinstance(node, B.BFilter):
        return p
    import dataclasses

    path = _trace(node.input, p.field)
    for (rel, edge), (child, _) in zip(path, path[1:], strict=False):
        if isinstance(rel, B.BIpv4Lookup) and edge == "lookup" and isinstance(child, B.BValues):
            index = next((i for i, c in enumerate(child.schema) if c.name == rel.lookup_key), None)
            values = [row[index].value for row in child.rows
                      if index is not None and isinstance(row[index], B.BLit) and isinstance(row[index].value, str)]
            if values:
                return dataclasses.replace(p, field=rel.source_key, kind="cidr_match",
                                           values=tuple(sorted(set(values))), transforms=())
    return p


def _negate(p: Predicate) -> Predicate:
    import dataclasses

    return dataclasses.replace(p, negated=not p.negated)


def _dedupe(rows: list[Predicate]) -> list[Predicate]:
    seen: set[tuple] = set()
    out = []
    for p in rows:
        key = (p.key(), p.negated, p.through)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _dedupe_windows(rows: list[TimeWindow]) -> list[TimeWindow]:
    seen: set[tuple] = set()
    out = []
    for w in rows:
        key = (w.table, w.column, w.lookback, w.until)
        if key not in seen:
            seen.add(key)
            out.append(w)
    return out


def _trace(rel: B.BRel, name: str) -> list[tuple[B.BRel, str]]:
    """The nodes a result column passes through, from `rel` down to the operator that makes it; each with
    the edge taken from it ('' at the origin)."""
    path: list[tuple[B.BRel, str]] = []
    for _ in range(10_000):
        nxt: tuple[B.BRel, str, str] | None = None
        if isinstance(rel, B.BProject):
            item = next((e for n, e in rel.items if n == name), None)
            # a column passed through unchanged comes from below; a renamed or computed one starts here
            if isinstance(item, B.BCol) and item.name == name and any(c.name == name for c in rel.input.schema):
                nxt = (rel.input, "input", name)
        elif isinstance(rel, B.BFilter | B.BSort | B.BTake | B.BDistinct | B.BSerialize | B.BMaterialize |
                        B.BRender):
            nxt = (rel.input, "input", name)
        elif isinstance(rel, B.BJoin):
            if rel.kind in _ANTI_RIGHT_KEEPS or rel.kind in ("rightsemi",):
                nxt = (rel.right, "right", name)
            elif any(c.name == name for c in rel.left.schema):
                nxt = (rel.left, "left", name)
            else:
                original = next((r for r, o in rel.right_names if o == name), None)
                if original is not None:
                    nxt = (rel.right, "right", original)
        elif isinstance(rel, B.BApply):
            if name in rel.outer_columns:
                nxt = (rel.input, "input", name)
            elif not any(n == name for n, _, _ in rel.items):
                nxt = (rel.subquery, "subquery", name)
        elif isinstance(rel, B.BExpand):
            if not any(n == name for n, _, _ in rel.items):
                nxt = (rel.input, "input", name)
        elif isinstance(rel, B.BIpv4Lookup):
            if any(c.name == name for c in rel.input.schema):
                nxt = (rel.input, "input", name)
            else:
                original = next((r for r, o in rel.right_names if o == name), name)
                nxt = (rel.lookup, "lookup", original)
        elif isinstance(rel, B.BSearch) and name != "$table":
            nxt = (rel.input, "input", name)
        if nxt is None:
            path.append((rel, ""))
            return path
        path.append((rel, nxt[1]))
        rel, name = nxt[0], nxt[2]
    return path


def _op_name(rel: B.BRel) -> str:
    if isinstance(rel, B.BProject):
        return rel.op
    if isinstance(rel, B.BJoin):
        return rel.operator
    if isinstance(rel, B.BTable):
        return f"table {rel.name}"
    names = {B.BSummarize: "summarize", B.BApply: "mv-apply", B.BApplyInput: "mv-apply", B.BExpand: "mv-expand",
             B.BValues: "datatable", B.BIpv4Lookup: "evaluate ipv4_lookup", B.BSearch: "search",
             B.BUnion: "union", B.BRange: "range", B.BScan: "scan", B.BTopNested: "top-nested",
             B.BSeriesFill: "make-series", B.BPartition: "partition"}
    return names.get(type(rel), type(rel).__name__)


def _action_types(tables: list[str], indicators: list[Predicate],
                  exclusions: list[Predicate]) -> dict[str, list[str]]:
    """ActionType values a rule selects, per table read (empty list: no ActionType filter, so all)."""
    from kqlhunt.rules.vocab import known_values

    chosen: list[str] | None = None
    for p in indicators:
        if p.field == "ActionType" and p.kind in ("eq", "in") and not p.alternative and not p.through:
            chosen = list(p.values) if chosen is None else [v for v in chosen if v in p.values]
    dropped = {v for p in exclusions if p.field == "ActionType" and p.kind in ("eq", "in")
               and not p.alternative and not p.through for v in p.values}
    out = {}
    for t in tables:
        if chosen is None and dropped:
            # `ActionType !in (...)`: every documented value but those
            out[t] = [v for v in known_values([t], "ActionType") or () if v not in dropped]
        else:
            out[t] = [v for v in chosen or [] if v not in dropped]
    return out
