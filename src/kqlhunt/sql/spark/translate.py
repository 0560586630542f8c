"""DuckDB-flavoured SQL trees -> Spark SQL.

The compiler builds one DuckDB-flavoured sqlglot tree per query (sql/compile.py); the Spark target
rewrites that tree rather than growing a second compiler, so both engines share every binding, typing and
planning decision. The pass, in order:

1. every function call the lowerings built by name (`fn("regexp_matches", ...)`) becomes sqlglot's typed
   node, as DuckDB's parser would build it, so sqlglot's own Spark generator handles what it knows;
2. the `kh_*` SQL macros (sql/macros.py) are inlined: Spark SQL has no macros;
3. registered rewrites (`@rewrite`, per family in `kqlhunt.sql.spark.*`) replace what Spark spells or
   means differently (types, JSON, lists, time, regex), post-order so a rewrite sees translated arguments;
4. a check that every function left is a Spark built-in or a kqlhunt UDF the engine registers. Anything
   else refuses the query with KH302 naming the KQL function or operator it came from and its position
   (the compiler tags each lowering's nodes with `meta["kql"]`), never a Spark error at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.spark import Spark

from kqlhunt.diagnostics import Span, unsupported_on

ENGINE = "Spark"
KQL_META = "kql"  # meta key: (what, span) of the KQL function or operator a node was lowered from

Rewrite = Callable[[exp.Expression], exp.Expression | None]
REWRITES: dict[str, Rewrite] = {}


def rewrite(*keys: str | type[exp.Expression]) -> Callable[[Rewrite], Rewrite]:
    """Register a rewrite for Anonymous functions by (lower-case) name or for a sqlglot node class.
    A rewrite returns the replacement, or None to keep the node (it then must be valid Spark)."""

    def deco(f: Rewrite) -> Rewrite:
        for k in keys:
            name = k.lower() if isinstance(k, str) else f"<{k.__name__}>"
            assert name not in REWRITES, f"two Spark rewrites for {name}"
            REWRITES[name] = f
        return f

    return deco


class NotOnSpark(Exception):
    """Raised by a rewrite for a construct it cannot express on Spark; carries what to name."""

    def __init__(self, what: str, detail: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.detail = detail


@dataclass
class SparkSql:
    sql: str
    udfs: frozenset[str]


@cache
def spark_functions() -> frozenset[str]:
    text = resources.files("kqlhunt.data").joinpath("spark_functions.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _provenance(node: exp.Expression | None) -> tuple[str, Span | None]:
    while node is not None:
        meta = node.meta.get(KQL_META) if node._meta else None
        if meta:
            return meta
        node = node.parent
    return ("this query", None)


def tag(tree: exp.Expression, what: str, span: Span | None) -> None:
    """Mark every node of a lowering's result not yet marked by an inner lowering (see `_provenance`)."""
    for node in tree.walk():
        if not (node._meta and KQL_META in node.meta):
            node.meta[KQL_META] = (what, span)


# ------------------------------------------------------------------ 1. typed nodes

_DUCK_FUNCTIONS = DuckDB.Parser.FUNCTIONS


def _typed(node: exp.Anonymous) -> exp.Expression:
    name = str(node.this).upper()
    builder = _DUCK_FUNCTIONS.get(name)
    if builder is None or name.lower().startswith("kh_"):
        return node
    args = list(node.expressions)
    try:
        built = builder(args)
    except TypeError:
        built = builder(args, DuckDB())
    except Exception:  # a builder that wants another argument shape: leave the call as it is
        return node
    if isinstance(built, exp.Expression):
        built._meta = node._meta  # keep the provenance
        return built
    return node


# ------------------------------------------------------------------ 2. macros


@cache
def _macros() -> dict[str, tuple[list[str], exp.Expression]]:
    from kqlhunt.sql.macros import parsed_macros

    return parsed_macros()


def _inline_macro(node: exp.Anonymous) -> exp.Expression | None:
    macro = _macros().get(str(node.this).lower())
    if macro is None:
        return None
    params, body = macro
    if len(params) != len(node.expressions):
        return None
    values = dict(zip(params, node.expressions, strict=True))
    inlined = body.copy().transform(
        lambda n: exp.Paren(this=values[n.name].copy()) if isinstance(n, exp.Column) and not n.table
        and n.name in values else n,
        copy=False)
    tag(inlined, *_provenance(node))
    return exp.Paren(this=inlined)


# ------------------------------------------------------------------ 3. rewrites


def _key(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return f"<{type(node).__name__}>"


def _translate_node(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        if _key(node) in REWRITES:
            return _apply(REWRITES[_key(node)], node)  # a rewrite by name sees the call as the lowering built it
        typed = _typed(node)
        if typed is not node:
            return _translate_node(typed)
    f = REWRITES.get(_key(node))
    if f is None:
        return node
    return _apply(f, node)


def _apply(f: Rewrite, node: exp.Expression) -> exp.Expression:
    try:
        out = f(node)
    except NotOnSpark as refusal:
        what, span = _provenance(node)
        raise unsupported_on(ENGINE, f"{what} ({refusal.what})", span, refusal.detail) from None
    if out is None or out is node:
        return node
    if not (out._meta and KQL_META in out.meta):
        tag(out, *_provenance(node))
    return out


def _post_order(node: exp.Expression) -> exp.Expression:
    """Children first, so a rewrite sees its arguments already in Spark's terms. A macro is inlined before
    its arguments are translated: the body and the arguments then translate once, together."""
    if isinstance(node, exp.Anonymous):
        inlined = _inline_macro(node)
        if inlined is not None:
            inlined.parent = node.parent
            return _post_order(inlined)  # macros may call macros
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            new = _post_order(value)
            if new is not value:
                node.set(key, new)
        elif isinstance(value, list):
            changed = False
            items = []
            for v in value:
                if isinstance(v, exp.Expression):
                    nv = _post_order(v)
                    changed |= nv is not v
                    items.append(nv)
                else:
                    items.append(v)
            if changed:
                node.set(key, items)
    new = _translate_node(node)
    if new is not node and node.parent is not None:
        new.parent = node.parent
    return new


# ------------------------------------------------------------------ 4. check


_CALL_HEAD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_GENERATOR = Spark().generator()


def _check(tree: exp.Expression, udfs: frozenset[str]) -> set[str]:
    """Names of the kqlhunt UDFs the tree calls; refuses any other function Spark does not have."""
    known = spark_functions()
    used: set[str] = set()
    for node in tree.walk():
        if isinstance(node, exp.Hint):
            continue
        if isinstance(node, exp.Anonymous):
            if node.find_ancestor(exp.Hint) is not None:
                continue  # a partitioning hint (REPARTITION, SHUFFLE_HASH), not a function
            name = str(node.this).lower()
        elif isinstance(node, exp.Func) and not isinstance(node, exp.Cast | exp.Case | exp.If | exp.Lambda):
            head = _CALL_HEAD.match(_GENERATOR.generate(node.copy(), copy=False).split("\n", 1)[0])
            if head is None:
                continue
            name = head.group(1).lower()
        else:
            continue
        if name in udfs:
            if node.find_ancestor(exp.Lambda) is not None:
                what, span = _provenance(node)
                raise unsupported_on(ENGINE, what, span, "Spark cannot call a Python function inside a lambda")
            used.add(name)
            continue
        if name not in known:
            what, span = _provenance(node)
            raise unsupported_on(ENGINE, what, span, f"Spark has no `{name}`")
    return used


def to_spark(tree: exp.Expression, udfs: frozenset[str]) -> SparkSql:
    """The Spark SQL of a compiled query and the UDFs it needs. `tree` is consumed (rewritten in place)."""
    _load_families()
    out = _post_order(tree)
    used = _check(out, udfs)
    sql = out.sql("spark")
    if len(sql) > MAX_SQL_CHARS:
        # Spark's analyzer slows down sharply on very large expressions: refuse rather than hang
        raise unsupported_on(ENGINE, "this query", None, f"its Spark SQL would be {len(sql) // 1000} kB")
    return SparkSql(sql, frozenset(used))


MAX_SQL_CHARS = 400_000


FAMILIES = ("core", "json_text", "dynamic", "text", "network", "series", "mathx", "aggregates", "operators", "timex",
            "conversions")


@cache
def _load_families() -> None:
    import importlib

    for family in FAMILIES:
        importlib.import_module(f"kqlhunt.sql.spark.{family}")
