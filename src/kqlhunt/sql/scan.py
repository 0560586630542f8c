"""The scan operator as one recursive SQL query.

Kusto's scan (scan-operator docs, "Scan logic") keeps a state per step: step k holds the records of
steps 1..k of its active sequence. Each input row is checked against the steps from the last to the
first: Check 1 (step k-1 is active and the row meets step k's condition under k-1's state) promotes
k-1's state to k; otherwise Check 2 (step k is active, or it is the first step, and the row meets the
condition under k's own state) replaces k's own record. A match extends the row with the step's
assignments (declared columns not assigned take their default) and outputs it unless `output=none`.
The first step starting a new sequence increments the match id.

Rows are gathered into one ordered list per partition, and a recursive CTE takes one element per
iteration, so the work is linear in the rows. Each step is one nested SELECT (a "layer") that reads
the previous layer's state and writes the updated state; only the `step.column` values some condition
or assignment reads are kept in the state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from kqlhunt.diagnostics import unsupported
from kqlhunt.plan import nodes as P
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import BOOL, LONG, KType
from kqlhunt.sql.expressions import ExprCompiler, alias, cast, col, fn, number
from kqlhunt.sql.types import data_type

if TYPE_CHECKING:
    from kqlhunt.sql.compile import SqlCompiler

ROWS = "__s_rows"
N = "__s_n"
COUNTER = "__s_mc"


def _active(k: int) -> str:
    return f"__s_a{k}"


def _mid(k: int) -> str:
    return f"__s_m{k}"


def _held(k: int, j: int, c: str) -> str:
    return f"__s_v{k}_{j}_{c}"


def _emitted(k: int) -> str:
    return f"__s_e{k}"


def _out(k: int, d: str) -> str:
    return f"__s_o{k}_{d}"


def _out_mid(k: int) -> str:
    return f"__s_om{k}"


def _typed_null(t: KType) -> exp.Expression:
    return cast(exp.Null(), data_type(t).sql("duckdb"))


def _under_state(e: B.BExpr, holder: int, declared: dict[str, B.BLit]) -> B.BExpr:
    """`e` with each `step j.column` reference read from the state of step `holder`. A step the holder
    does not hold (j > holder, or no holder) reads as an empty record: declared columns at their
    default (the docs' cumulative sum adds to `s1.total`'s default on the first row), others null."""
    match e:
        case B.BCol(name=name) if name.startswith("__st"):
            j_text, _, column = name[4:].partition("__")
            j = int(j_text)
            if holder >= 1 and j <= holder:
                return B.BCol(e.type, e.span, _held(holder, j, column))
            return declared[column] if column in declared else B.BLit(e.type, e.span, None)
        case B.BCall(args=args):
            return B.BCall(e.type, e.span, e.fn, tuple(_under_state(a, holder, declared) for a in args))
        case B.BWindow() | B.BAgg() | B.BScalarSubquery() | B.BColumnSubquery():
            raise unsupported("window functions, aggregates and subqueries inside scan steps", e.span)
    return e


def render_scan(compiler: SqlCompiler, node: P.PSequenceScan) -> exp.Expression:
    ec = ExprCompiler(compiler)
    src = compiler.node(node.input)
    steps: list[B.BScanStep] = list(node.steps)  # type: ignore[arg-type]
    n = len(steps)
    inputs = [c for c in node.input.columns]
    declared = dict(node.declared)
    state = {(j, c): t for j, c, t in node.state}
    parts = [f"__s_p{i}" for i in range(len(node.partition))]

    # one ordered list of row structs per partition
    struct = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(c.name, quoted=True),
                                                    expression=col(c.name)) for c in inputs])
    ordered = exp.Order(this=struct, expressions=[ec.ordered(s) for s in node.order])
    lists = exp.select(*[alias(ec.compile(p), name) for p, name in zip(node.partition, parts, strict=True)],
                       alias(fn("list", ordered), ROWS)).from_(exp.to_identifier(src, quoted=True))
    if parts:
        lists = lists.group_by(*[ec.compile(p) for p in node.partition])

    state_names: list[tuple[str, KType]] = [(COUNTER, LONG)]
    for k in range(1, n + 1):
        state_names += [(_active(k), BOOL), (_mid(k), LONG)]
        state_names += [(_held(k, j, c), t) for (j, c), t in state.items() if j <= k]
    emit_names: list[tuple[str, KType]] = []
    for k in range(1, n + 1):
        emit_names += [(_emitted(k), BOOL), (_out_mid(k), LONG)]
        emit_names += [(_out(k, d), lit.type) for d, lit in declared.items()]

    # the anchor: one row per partition, before its first row
    anchor_items = [col(p) for p in parts] + [alias(number(0), N)]
    empty = {_held(k, j, c): ec.compile(declared[c]) for k in range(1, n + 1) for (j, c) in state
             if j <= k and c in declared}
    for name, t in state_names + emit_names:
        if name in empty:
            anchor_items.append(alias(empty[name], name))
        elif name == COUNTER:
            anchor_items.append(alias(cast(number(-1), "BIGINT"), name))
        elif t.name == "bool":
            anchor_items.append(alias(exp.false(), name))
        else:
            anchor_items.append(alias(_typed_null(t), name))
    anchor_items += [alias(_typed_null(c.type), c.name) for c in inputs]
    anchor = exp.select(*anchor_items).from_(exp.Subquery(this=lists, alias=exp.TableAlias(
        this=exp.to_identifier("l"))))

    # the recursive member: the next row of each partition, then one layer per step (last step first)
    nxt = exp.Add(this=exp.column(N, table="r", quoted=True), expression=number(1))
    row = exp.Bracket(this=exp.column(ROWS, table="l", quoted=True), expressions=[nxt])
    base_items = [exp.column(p, table="r", quoted=True) for p in parts] + [alias(nxt, N)]
    for name, _ in state_names:
        base_items.append(exp.column(name, table="r", quoted=True))
    for name, t in emit_names:  # outputs are per row: reset
        base_items.append(alias(exp.false() if t.name == "bool" else _typed_null(t), name))
    base_items += [alias(fn("struct_extract", row, exp.Literal.string(c.name)), c.name) for c in inputs]
    on: exp.Expression = exp.LT(this=exp.column(N, table="r", quoted=True),
                               expression=fn("len", exp.column(ROWS, table="l", quoted=True)))
    for p in parts:
        on = exp.And(this=on, expression=exp.NullSafeEQ(this=exp.column(p, table="r", quoted=True),
                                                          expression=exp.column(p, table="l", quoted=True)))
    recursive_table = exp.Table(this=exp.to_identifier("scan_state"), alias=exp.TableAlias(this=exp.to_identifier("r")))
    lists_table = exp.Subquery(this=lists, alias=exp.TableAlias(this=exp.to_identifier("l")))
    layer: exp.Select = exp.select(*base_items).from_(recursive_table).join(lists_table, on=on)
    all_names = parts + [N] + [x for x, _ in state_names + emit_names] + [c.name for c in inputs]

    for k in range(n, 0, -1):
        layer = _layer(ec, layer, k, steps[k - 1], state, declared, inputs, all_names, n)

    cte = exp.CTE(this=exp.union(anchor, layer, distinct=False),
                  alias=exp.TableAlias(this=exp.to_identifier("scan_state")))

    # the output: one row per (row, matched step), in row order then evaluation order (last step first)
    outputs = []
    for k in range(n, 0, -1):
        if steps[k - 1].output == "none":
            continue
        items = [alias(col(c.name), c.name) for c in inputs]
        items += [alias(col(_out(k, d)), d) for d in declared]
        if node.match_id:
            items.append(alias(col(_out_mid(k)), node.match_id))
        order = exp.Add(this=exp.Mul(this=col(N), expression=number(n + 1)), expression=number(n - k))
        items.append(alias(cast(order, "BIGINT"), "__ord"))
        outputs.append(exp.select(*items).from_(exp.to_identifier("scan_state")).where(col(_emitted(k))))
    if not outputs:
        raise unsupported("a scan whose steps all have output=none", node.span)
    body: exp.Expression = outputs[0]
    for o in outputs[1:]:
        body = exp.union(body, o, distinct=False)
    query = exp.select(exp.Star()).from_(exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier("o"))))
    query.set("with_" if "with_" in exp.Select.arg_types else "with", exp.With(expressions=[cte], recursive=True))
    return query


def _layer(ec: ExprCompiler, prev: exp.Select, k: int, step: B.BScanStep, state: dict[tuple[int, str], KType],
           declared: dict[str, B.BLit], inputs: list[B.Column], names: list[str], n: int) -> exp.Select:
    """Step k's checks over the previous layer: flags first (a sub-select), then the new state."""
    false = exp.false()

    def cond(holder: int) -> exp.Expression:
        return fn("coalesce", ec.compile(_under_state(step.condition, holder, declared)), false)

    c1 = exp.And(this=col(_active(k - 1)), expression=cond(k - 1)) if k > 1 else false
    c2 = exp.And(this=exp.Or(this=col(_active(k)), expression=exp.true()) if k == 1 else col(_active(k)),
                 expression=cond(k))
    c2 = exp.And(this=exp.Not(this=exp.Paren(this=c1)), expression=c2)
    assigned = dict(step.assignments)

    def value(d: str) -> exp.Expression:
        if d not in assigned:
            return ec.compile(declared[d])
        under_prev = ec.compile(_under_state(assigned[d], k - 1, declared)) if k > 1 else None
        under_own = ec.compile(_under_state(assigned[d], k, declared))
        if under_prev is None:
            return under_own
        return exp.Case(ifs=[exp.If(this=col("__s_c1"), true=under_prev)], default=under_own)

    prev_alias = exp.TableAlias(this=exp.to_identifier(f"s{k}"))
    flags = exp.select(exp.Star(), alias(c1, "__s_c1"), alias(c2, "__s_c2")).from_(
        exp.Subquery(this=prev, alias=prev_alias))
    flags = exp.select(exp.Star(), *[alias(value(d), f"__s_val_{d}") for d in declared]).from_(
        exp.Subquery(this=flags, alias=exp.TableAlias(this=exp.to_identifier(f"f{k}"))))

    matched = exp.Or(this=col("__s_c1"), expression=col("__s_c2"))
    new_sequence = exp.And(this=col("__s_c2"), expression=exp.Not(this=col(_active(1)))) if k == 1 else false
    new_mid = exp.Case(ifs=[exp.If(this=col("__s_c1"), true=col(_mid(k - 1)))] if k > 1 else [],
                       default=col(_mid(k)))
    if k == 1:
        new_mid = exp.Case(ifs=[exp.If(this=new_sequence, true=exp.Add(this=col(COUNTER), expression=number(1)))],
                           default=col(_mid(k)))
    changes: dict[str, exp.Expression] = {
        _active(k): exp.Or(this=col(_active(k)), expression=matched),
        _mid(k): new_mid,
        _emitted(k): matched if step.output != "none" else false,
        _out_mid(k): new_mid,
    }
    if k == 1:
        changes[COUNTER] = exp.Add(this=col(COUNTER), expression=exp.Case(
            ifs=[exp.If(this=new_sequence, true=number(1))], default=number(0)))
    input_names = {c.name for c in inputs}
    for j, c in state:
        if j < k:
            changes[_held(k, j, c)] = exp.Case(ifs=[exp.If(this=col("__s_c1"), true=col(_held(k - 1, j, c)))],
                                               default=col(_held(k, j, c)))
        elif j == k:
            record = col(c) if c in input_names else col(f"__s_val_{c}")
            changes[_held(k, j, c)] = exp.Case(ifs=[exp.If(this=matched, true=record)], default=col(_held(k, j, c)))
    for d in declared:
        changes[_out(k, d)] = col(f"__s_val_{d}")
    if k > 1:  # promotion moves k-1's state: it is empty afterwards
        changes[_active(k - 1)] = exp.And(this=col(_active(k - 1)), expression=exp.Not(this=col("__s_c1")))
        for (j, c), t in state.items():
            if j <= k - 1:
                cleared = ec.compile(declared[c]) if c in declared else _typed_null(t)
                changes[_held(k - 1, j, c)] = exp.Case(ifs=[exp.If(this=col("__s_c1"), true=cleared)],
                                                       default=col(_held(k - 1, j, c)))
    items = [alias(changes.get(name, col(name)), name) for name in names]
    return exp.select(*items).from_(exp.Subquery(this=flags, alias=exp.TableAlias(
        this=exp.to_identifier(f"g{k}"))))


__all__ = ["render_scan"]
