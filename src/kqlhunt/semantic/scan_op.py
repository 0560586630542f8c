"""Binding the `scan` operator: steps, declared columns, and the `step.column` state references.

A reference `s1.x` in a condition or assignment reads column x of step s1's record in the state the
step is evaluated against. The binder turns it into a synthetic column (`state_column(1, "x")`) so the
expressions bind and type like any other; the SQL layer (sql/scan.py) supplies those columns from the
state. Declared columns are only readable through a step (`s1.total`): a bare name is refused, because
what Kusto gives it mid-assignment is not documented.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any

from kqlhunt.diagnostics import error, unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import BY_NAME, LONG
from kqlhunt.syntax import ast as A


def _rewrite(e: Any, steps: dict[str, int]) -> Any:
    """`step.col` -> a synthetic column name, everywhere inside an expression."""
    if isinstance(e, A.Member) and isinstance(e.target, A.Name) and e.target.name in steps:
        return A.Name(e.span, B.state_column(steps[e.target.name], e.name), quoted=True)
    if isinstance(e, tuple):
        return tuple(_rewrite(x, steps) for x in e)
    if is_dataclass(e) and isinstance(e, A.Expr):
        changes = {f.name: _rewrite(getattr(e, f.name), steps) for f in fields(e)
                   if isinstance(getattr(e, f.name), A.Expr | tuple)}
        return replace(e, **changes) if changes else e
    return e


def _columns(e: B.BExpr) -> set[str]:
    out: set[str] = set()
    if isinstance(e, B.BCol):
        out.add(e.name)
    for a in getattr(e, "args", ()):
        out |= _columns(a)
    return out


def bind_scan(binder: Any, rel: B.BRel, op: A.Scan, scope: Any, fold: Any) -> B.BRel:
    steps = {s.name: i + 1 for i, s in enumerate(op.steps)}
    if len(steps) != len(op.steps):
        raise error("KH220", "scan step names must be unique", op.span)
    declared: list[tuple[str, B.BLit]] = []
    for d in op.declare:
        t = BY_NAME[d.type_name]
        default = B.BLit(t, d.span, None)
        if d.default is not None:
            value = fold(binder.scalars.bind(d.default, None, scope))
            if not isinstance(value, B.BLit):
                raise error("KH220", "a scan default must be a constant", d.default.span)
            default = binder.scalars.coerce_literal(value, t)
        if B.find(rel.schema, d.name) is not None:
            raise error("KH213", f"declared column `{d.name}` already exists in the input", d.span)
        declared.append((d.name, default))
    row = list(rel.schema) + [B.Column(n, lit.type) for n, lit in declared]
    state_cols = [B.Column(B.state_column(j, c.name), c.type) for j in steps.values() for c in row]
    schema = tuple(row + state_cols)
    declared_names = {n for n, _ in declared}

    def bind(e: A.Expr) -> B.BExpr:
        bound = fold(binder.scalars.bind(_rewrite(e, steps), schema, scope))
        bare = _columns(bound) & declared_names
        if bare:
            raise unsupported(f"reading the declared column `{sorted(bare)[0]}` without a step name in scan "
                              "(write <step>.<column>)", e.span)
        return bound

    bsteps: list[B.BScanStep] = []
    for st in op.steps:
        if st.output == "last":
            raise unsupported("scan steps with output=last", st.span)
        cond = bind(st.condition)
        if cond.type.name not in ("bool", "null", "dynamic"):
            raise error("KH210", f"a scan step condition must be bool, not {cond.type}", st.condition.span)
        assigned: list[tuple[str, B.BExpr]] = []
        for a in st.assignments:
            if len(a.names) != 1 or a.names[0] not in declared_names:
                raise error("KH220", "scan assignments must set a declared column (`=> col = expr`)", a.span)
            assigned.append((a.names[0], bind(a.expr)))
        bsteps.append(B.BScanStep(st.name, st.output, cond, tuple(assigned)))

    used = set()
    for st in bsteps:
        used |= _columns(st.condition)
        for _, x in st.assignments:
            used |= _columns(x)
    types = {c.name: c.type for c in row}
    state = tuple((j, c.name, types[c.name]) for j in steps.values() for c in row
                  if B.state_column(j, c.name) in used)
    out = tuple(row) + ((B.Column(op.match_id, LONG),) if op.match_id else ())
    return B.BScan(out, op.span, rel, tuple(bsteps), tuple(declared), op.match_id, state)


__all__ = ["bind_scan"]
