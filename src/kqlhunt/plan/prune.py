"""Column pruning: every plan step keeps only the columns something above it uses.

A KQL pipeline carries every column of its table until a `project` or `summarize`; without pruning the
SQL would read and pass along all 45 DeviceNetworkEvents columns through each step, and a materialized
`let` would store them all. Requirements flow from the root down the plan (a DAG: a shared step gets the
union of what its consumers need), then the plan is rebuilt bottom-up with the pruned columns.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from kqlhunt.plan import nodes as P
from kqlhunt.semantic import bound as B


def refs(e: B.BExpr) -> set[str]:
    """Column names an expression reads from its input row."""
    match e:
        case B.BCol(name=name):
            return {name}
        case P.PWindow(args=args, partition=partition, order=order):
            return _refs_all(args) | _refs_all(partition) | _refs_all(s[0] for s in order)
        case P.POrderedAgg(args=args, order=order):
            return _refs_all(args) | _refs_all(s[0] for s in order)
        case B.BCall(args=args) | B.BAgg(args=args) | B.BWindow(args=args):
            return _refs_all(args)
    return set()


def _refs_all(exprs) -> set[str]:  # type: ignore[no-untyped-def]
    out: set[str] = set()
    for x in exprs:
        out |= refs(x)
    return out


def children(node: P.PNode) -> list[P.PNode]:
    match node:
        case P.PJoin(left=left, right=right):
            return [left, right]
        case P.PIpv4Lookup(input=inp, lookup=lookup):
            return [inp, lookup]
        case P.PUnion(inputs=inputs):
            return [n for n, _ in inputs]
        case P.PSemiFilter(input=inp, keys=keys):
            return [inp, keys]
        case P.PFilter(input=inp) | P.PProject(input=inp) | P.PAggregate(input=inp) | P.PUnnest(input=inp) \
                | P.PSort(input=inp) | P.PLimit(input=inp) | P.PDistinct(input=inp) | P.PShared(input=inp) \
                | P.PSeriesFill(input=inp) | P.PSequenceScan(input=inp) | P.PTopNested(input=inp):
            return [inp]
    return []


def _requirements(node: P.PNode, need: set[str]) -> list[tuple[P.PNode, set[str]]]:
    """What each child must provide so that `node` can produce the columns in `need`."""
    match node:
        case P.PFilter(input=inp, predicate=pred):
            return [(inp, need | refs(pred))]
        case P.PProject(input=inp, items=items):
            return [(inp, _refs_all(x for n, x in items if n in need))]
        case P.PAggregate(input=inp, keys=keys, aggregates=aggs):
            return [(inp, _refs_all(x for _, x in keys) | _refs_all(x for n, x in aggs if n in need))]
        case P.PJoin(left=left, right=right, keys=keys, right_names=right_names, kind=kind):
            left_need = (need & _names(left)) | {lk for lk, _ in keys}
            if kind in ("semi", "anti"):
                return [(left, left_need), (right, {r for _, r in keys})]
            right_need = {old for old, new in right_names if new in need} | {r for _, r in keys}
            return [(left, left_need), (right, right_need)]
        case P.PIpv4Lookup(input=inp, lookup=lookup, source_key=sk, lookup_key=lk, extra_keys=extra,
                           right_names=right_names):
            return [(inp, (need & _names(inp)) | {sk} | {s for s, _ in extra}),
                    (lookup, {old for old, new in right_names if new in need} | {lk} | {r for _, r in extra})]
        case P.PUnnest(input=inp, keep=keep, items=items):
            return [(inp, _refs_all(x for n, x in keep if n in need) | _refs_all(x for _, x, _ in items))]
        case P.PSort(input=inp, keys=keys):
            return [(inp, need | _refs_all(k[0] for k in keys))]
        case P.PLimit(input=inp, partition=partition, order=order):
            return [(inp, need | _refs_all(partition) | _refs_all(s[0] for s in order))]
        case P.PDistinct(input=inp):
            return [(inp, _names(inp))]  # every column takes part in distinctness
        case P.PTopNested(input=inp, levels=levels):
            return [(inp, _refs_all(x for lv in levels for x in (lv[1], lv[3])))]
        case P.PSeriesFill(input=inp) | P.PSequenceScan(input=inp):
            return [(inp, _names(inp))]  # keep the input whole (scan: every column can reach the output)
        case P.PShared(input=inp):
            return [(inp, set(need))]
        case P.PSemiFilter(input=inp, column=column, keys=keys, key_column=key_column):
            return [(inp, need | {column}), (keys, {key_column})]
        case P.PUnion(inputs=inputs):
            return [(n, _refs_all(x for name, x in items if name in need)) for n, items in inputs]
    return []


def _names(node: P.PNode) -> set[str]:
    return {c.name for c in node.all_columns}


def _topological(root: P.PNode) -> list[P.PNode]:
    """Parents before children (reverse post-order of the DAG)."""
    seen: set[int] = set()
    post: list[P.PNode] = []
    stack: list[tuple[P.PNode, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            post.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for child in children(node):
            if id(child) not in seen:
                stack.append((child, False))
    return list(reversed(post))


def prune(plan: P.Plan) -> P.Plan:
    root = plan.root
    need: dict[int, set[str]] = defaultdict(set)
    need[id(root)] = _names(root)
    order = _topological(root)
    for node in order:
        for child, child_need in _requirements(node, need[id(node)]):
            need[id(child)] |= child_need
    rebuilt: dict[int, P.PNode] = {}
    for node in reversed(order):
        rebuilt[id(node)] = _rebuild(node, need[id(node)], rebuilt)
    return replace(plan, root=rebuilt[id(root)])


def _keep(cols: tuple[B.Column, ...], names: set[str]) -> tuple[B.Column, ...]:
    return tuple(c for c in cols if c.name in names)


def _rebuild(node: P.PNode, need: set[str], done: dict[int, P.PNode]) -> P.PNode:
    def new(child: P.PNode) -> P.PNode:
        return done[id(child)]

    match node:
        case P.PScan():
            # SQL needs at least one column even when only the row count matters (`T | count`)
            return replace(node, columns=_keep(node.columns, need) or node.columns[:1])
        case P.PProject(input=inp, items=items):
            kept = tuple((n, x) for n, x in items if n in need) or items[:1]
            need = need | {kept[0][0]}
            return replace(node, input=new(inp), items=kept, columns=_keep(node.columns, need),
                           hidden=_keep(node.hidden, need))
        case P.PAggregate(input=inp, aggregates=aggs):
            kept_keys = {n for n, _ in node.keys}
            kept = tuple((n, x) for n, x in aggs if n in need)
            names = kept_keys | {n for n, _ in kept}
            return replace(node, input=new(inp), aggregates=kept, columns=_keep(node.columns, names),
                           hidden=_keep(node.hidden, names))
        case P.PUnnest(input=inp, keep=keep, items=items):
            kept = tuple((n, x) for n, x in keep if n in need)
            names = {n for n, _ in kept} | {n for n, _, _ in items} | ({node.index} if node.index else set())
            return replace(node, input=new(inp), keep=kept, columns=_keep(node.columns, names),
                           hidden=_keep(node.hidden, names))
        case P.PJoin(left=left, right=right):
            nl, nr = new(left), new(right)
            right_names = tuple((o, n) for o, n in node.right_names if o in _names(nr) and n in need)
            if node.kind in ("semi", "anti"):
                cols = _keep(node.columns, {c.name for c in nl.columns})
            else:
                cols = tuple(c for c in node.columns if c.name in {x.name for x in nl.columns}
                             or c.name in {n for _, n in right_names})
            null_strings = tuple(s for s in node.null_strings if s in {c.name for c in cols})
            return replace(node, left=nl, right=nr, right_names=right_names, columns=cols, null_strings=null_strings)
        case P.PIpv4Lookup(input=inp, lookup=lookup):
            ni, nk = new(inp), new(lookup)
            right_names = tuple((o, n) for o, n in node.right_names if o in _names(nk))
            cols = _keep(node.columns, {c.name for c in ni.columns} | {n for _, n in right_names})
            return replace(node, input=ni, lookup=nk, right_names=right_names, columns=cols)
        case P.PUnion(inputs=inputs):
            names = need or {node.columns[0].name}
            kept_inputs = tuple((new(n), tuple((name, x) for name, x in items if name in names))
                                for n, items in inputs)
            return replace(node, inputs=kept_inputs, columns=_keep(node.columns, names))
        case P.PSemiFilter(input=inp, keys=keys):
            child = new(inp)
            return replace(node, input=child, keys=new(keys), columns=_keep(node.columns, _names(child)),
                           hidden=_keep(node.hidden, _names(child)))
        case P.PSeriesFill(input=inp) | P.PSequenceScan(input=inp) | P.PTopNested(input=inp):
            return replace(node, input=new(inp))
        case P.PFilter(input=inp) | P.PSort(input=inp) | P.PLimit(input=inp) | P.PDistinct(input=inp) \
                | P.PShared(input=inp):
            child = new(inp)
            # these steps select * from their input: their columns are whatever the input kept
            return replace(node, input=child, columns=_keep(node.columns, _names(child)),
                           hidden=_keep(node.hidden, _names(child)))
    return node
