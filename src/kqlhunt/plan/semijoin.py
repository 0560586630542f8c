"""Semi-join reduction: the right side of a join only needs rows whose key occurs on the left.

Hunts often enrich a small set of suspects with a summary over the whole table (seed 004 joins its beacon
candidates with `DeviceNetworkEvents | extend Host = parse_url(...) | summarize make_set(domain) by
RemoteIP`). Computed as written, the URL parsing runs on every event of two days. For a join that keeps
only right rows that match (inner, leftouter, leftsemi, leftanti — every kind but rightouter and
fullouter), right rows whose key is not on the left never contribute, so the plan filters the right
side to the left's keys, and pushes that filter down through summarize keys, projections and filters to
just above the scan: the expensive work then runs on the suspects' rows only.
"""

from __future__ import annotations

from dataclasses import replace

from kqlhunt.plan import nodes as P
from kqlhunt.semantic import bound as B

KEEPS_ONLY_MATCHING_RIGHT = {"inner", "left", "semi", "anti"}


def reduce_joins(plan: P.Plan) -> P.Plan:
    done: dict[int, P.PNode] = {}
    return replace(plan, root=_rewrite(plan.root, done))


def _rewrite(node: P.PNode, done: dict[int, P.PNode]) -> P.PNode:
    if id(node) in done:
        return done[id(node)]
    out = _rebuild_children(node, done)
    if isinstance(out, P.PJoin) and out.kind in KEEPS_ONLY_MATCHING_RIGHT and len(out.keys) == 1:
        left_key, right_key = out.keys[0]
        if not isinstance(out.left, P.PShared):
            left = P.PShared(out.left.columns, out.left.hidden, out.left.span, "join_keys", out.left,
                             "join_keys", True)
        else:
            left = out.left
        right = _push(out.right, right_key, left, left_key)
        if right is not out.right:
            out = replace(out, left=left, right=right)
    done[id(node)] = out
    return out


def _rebuild_children(node: P.PNode, done: dict[int, P.PNode]) -> P.PNode:
    match node:
        case P.PJoin(left=left, right=right):
            return replace(node, left=_rewrite(left, done), right=_rewrite(right, done))
        case P.PIpv4Lookup(input=inp, lookup=lookup):
            return replace(node, input=_rewrite(inp, done), lookup=_rewrite(lookup, done))
        case P.PUnion(inputs=inputs):
            return replace(node, inputs=tuple((_rewrite(n, done), items) for n, items in inputs))
        case P.PSemiFilter(input=inp, keys=keys):
            return replace(node, input=_rewrite(inp, done), keys=_rewrite(keys, done))
        case P.PFilter() | P.PProject() | P.PAggregate() | P.PUnnest() | P.PSort() | P.PLimit() | P.PDistinct() \
                | P.PShared() | P.PSeriesFill() | P.PSequenceScan() | P.PTopNested():
            new_input = _rewrite(node.input, done)  # type: ignore[attr-defined]
            return node if new_input is node.input else replace(node, input=new_input)  # type: ignore[attr-defined]
    return node


def _push(node: P.PNode, column: str, keys: P.PNode, key_column: str) -> P.PNode:
    """`node` restricted to rows whose `column` is among `keys.key_column`, the test placed as deep as
    the column can be followed unchanged. Returns `node` itself when the test cannot be placed usefully."""
    match node:
        case P.PAggregate(keys=group_keys, input=inp):
            source = _source_column(dict(group_keys).get(column))
            if source is None:
                return _wrap(node, column, keys, key_column)
            return replace(node, input=_push(inp, source, keys, key_column))
        case P.PProject(items=items, input=inp):
            source = _source_column(dict(items).get(column))
            if source is None or any(_has_window(x) for _, x in items):  # windows see all rows
                return _wrap(node, column, keys, key_column)
            return replace(node, input=_push(inp, source, keys, key_column))
        case P.PFilter(input=inp):
            return replace(node, input=_push(inp, column, keys, key_column))
        case P.PScan():
            return _wrap(node, column, keys, key_column)
    return _wrap(node, column, keys, key_column)


def _has_window(e: B.BExpr) -> bool:
    if isinstance(e, P.PWindow):
        return True
    return isinstance(e, B.BCall) and any(_has_window(a) for a in e.args)


def _source_column(e: B.BExpr | None) -> str | None:
    return e.name if isinstance(e, B.BCol) else None


def _wrap(node: P.PNode, column: str, keys: P.PNode, key_column: str) -> P.PNode:
    return P.PSemiFilter(node.columns, node.hidden, node.span, "join_keys_filter", node, column, keys, key_column)
