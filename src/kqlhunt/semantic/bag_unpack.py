"""`evaluate bag_unpack(Column [, OutputColumnPrefix] [, columnsConflict] [, ignoredProperties]) [: (schema)]`.

Each top-level slot of the dynamic column's property bags becomes a column, named by the slot (plus the
prefix) and typed by its values: one JSON type for every value gives that type (long, real, string, bool),
mixed types or nested values give dynamic; nulls are ignored. The slots come after the input's columns
(without the unpacked one), sorted by name, as the plugin's documentation shows.

Without an output schema the columns depend on the data. The binder then raises `NeedsBagSchema`; the
caller (kqlhunt.api) runs the input once to find the slots and their types and binds again with them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kqlhunt.diagnostics import Span, error, unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import BY_NAME, DYNAMIC, STRING, KType
from kqlhunt.syntax import ast as A

CONFLICTS = ("error", "replace_source", "keep_source")
_CONVERT = {"int": "toint", "long": "tolong", "real": "toreal", "bool": "tobool", "string": "tostring",
            "datetime": "todatetime", "timespan": "totimespan", "guid": "toguid", "decimal": "todecimal"}


class NeedsBagSchema(Exception):
    """bag_unpack without an output schema: its columns must be discovered from `rel`'s data first."""

    def __init__(self, key: int, rel: B.BRel, column: str, span: Span):
        super().__init__(f"bag_unpack of {column} needs its slots")
        self.key = key
        self.span = span
        self.rel = rel
        self.column = column


@dataclass(frozen=True, slots=True)
class BagArgs:
    column: str
    prefix: str
    conflict: str
    ignored: frozenset[str]


def slot_type(json_types: set[str]) -> KType:
    """The column type for a slot whose (non-null) values have these DuckDB json_type() names."""
    kinds = {t for t in json_types if t != "NULL"}
    mapping = {"BIGINT": "long", "UBIGINT": "long", "DOUBLE": "real", "VARCHAR": "string", "BOOLEAN": "bool"}
    names = {mapping.get(t, "dynamic") for t in kinds}
    return BY_NAME[names.pop()] if len(names) == 1 else DYNAMIC


def bag_args(op: A.Evaluate, rel: B.BRel, bind_const) -> BagArgs:  # type: ignore[no-untyped-def]
    plugin = op.plugin
    positional = [a for a in plugin.args if not isinstance(a, A.NamedArg)]
    named = {a.name: a.value for a in plugin.args if isinstance(a, A.NamedArg)}
    order = ("OutputColumnPrefix", "columnsConflict", "ignoredProperties")
    if not positional or not isinstance(positional[0], A.Name):
        raise error("KH231", "bag_unpack needs a dynamic column as its first argument", plugin.span)
    for name, value in zip(order, positional[1:], strict=False):
        named.setdefault(name, value)
    if len(positional) > 1 + len(order):
        raise error("KH231", "bag_unpack takes at most four arguments", plugin.span)
    unknown = set(named) - set(order)
    if unknown:
        raise error("KH231", f"unknown bag_unpack argument `{sorted(unknown)[0]}`", plugin.span)
    column = positional[0].name
    found = B.find(rel.schema, column)
    if found is None:
        raise error("KH211", f"unknown column `{column}`", positional[0].span)
    if found.type.name != "dynamic":
        raise error("KH231", f"bag_unpack needs a dynamic column; `{column}` is {found.type}", positional[0].span)
    prefix = bind_const(named["OutputColumnPrefix"]) if "OutputColumnPrefix" in named else ""
    conflict = bind_const(named["columnsConflict"]) if "columnsConflict" in named else "error"
    ignored = bind_const(named["ignoredProperties"]) if "ignoredProperties" in named else []
    if not isinstance(prefix, str):
        raise error("KH231", "bag_unpack's OutputColumnPrefix must be a string", plugin.span)
    if conflict not in CONFLICTS:
        raise error("KH231", f"columnsConflict must be one of {', '.join(CONFLICTS)}", plugin.span)
    if not isinstance(ignored, list) or not all(isinstance(x, str) for x in ignored):
        raise error("KH231", "ignoredProperties must be a dynamic array of strings", plugin.span)
    return BagArgs(column, prefix, str(conflict), frozenset(ignored))


def unpack(op: A.Evaluate, rel: B.BRel, args: BagArgs, slots: list[tuple[str, KType]] | None) -> B.BRel:
    """The unpacked relation. `slots` are the discovered (name, type) pairs when no schema was given."""
    span = op.span
    bag = B.BCol(DYNAMIC, span, args.column)

    def value(slot: str, t: KType) -> B.BExpr:
        member = B.BCall(DYNAMIC, span, "index", (bag, B.BLit(STRING, span, slot)))
        if t.name == "dynamic":
            return member
        return B.BCall(t, span, _CONVERT[t.name], (member,))

    rest = [c for c in rel.schema if c.name != args.column]
    if op.schema is not None:
        # a declared schema: its columns are looked up as slots (the prefix is part of the declared name)
        wanted = [(c.name, BY_NAME[c.type_name]) for c in op.schema]
        items: list[tuple[str, B.BExpr]] = []
        if op.schema_star:
            declared = {n for n, _ in wanted}
            items += [(c.name, B.BCol(c.type, span, c.name)) for c in rest if c.name not in declared]
        for name, t in wanted:
            slot = name[len(args.prefix):] if args.prefix and name.startswith(args.prefix) else name
            items.append((name, value(slot, t)))
        return B.BProject(tuple(B.Column(n, x.type) for n, x in items), span, rel, tuple(items), "bag_unpack")

    assert slots is not None
    existing = {c.name for c in rest}
    out: list[tuple[str, B.BExpr]] = [(c.name, B.BCol(c.type, span, c.name)) for c in rest]
    for slot, t in sorted(slots):
        if slot in args.ignored:
            continue
        name = args.prefix + slot
        if name in existing:
            if args.conflict == "error":
                raise error("KH213", f"bag_unpack: slot `{slot}` would make a column `{name}` the input already "
                            "has", span, "use columnsConflict='replace_source' or 'keep_source', or a prefix")
            if args.conflict == "keep_source":
                continue
            out = [(n, value(slot, t) if n == name else x) for n, x in out]
            continue
        out.append((name, value(slot, t)))
    if not out:
        raise unsupported("bag_unpack producing no columns", span)
    return B.BProject(tuple(B.Column(n, x.type) for n, x in out), span, rel, tuple(out), "bag_unpack")


__all__ = ["NeedsBagSchema", "BagArgs", "bag_args", "unpack", "slot_type"]
