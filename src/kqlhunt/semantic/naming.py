"""Kusto's rules for naming columns that the query does not name.

Probed on Microsoft's Kusto.Language (see `../shared/kql-oracle/naming_rules.md` and
`tests/data/oracle`): a column keeps its name, `D.a` becomes `D_a`, conversion functions pass their
argument's name through, a few functions add a prefix or suffix, anything else gets `Column1`,
`Column2`, ... Aggregates are named `<prefix>_<argument name>` (`count_`, `dcount_DeviceId`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

from kqlhunt.semantic import functions as F
from kqlhunt.syntax import ast as A


def expr_name(e: A.Expr) -> str | None:
    """The name Kusto derives from an expression, or None when it would invent `ColumnN`."""
    match e:
        case A.Name(name=name):
            return name
        case A.Member(target=target, name=member):
            base = expr_name(target)
            return f"{base}_{member}" if base else member
        case A.Index(target=target, index=A.Literal(value=value)) if isinstance(value, str | int):
            base = expr_name(target)
            return f"{base}_{value}" if base else str(value)
        case A.Call(name=fname, args=args):
            fn = scalar_twin(fname, len(args)) or F.lookup(fname)
            if fn is not None and fn.kind == "aggregate":
                return aggregate_name(fn, args)  # tostring(make_set(x)) is named set_x
            if fn is None or not args or fn.kind != "scalar":
                return None
            inner = expr_name(args[0])
            if fn.naming == "first":
                return inner
            # measured on the oracle: strlen(strcat(...)) is strlen_, array_sort_asc(pack_array(...))
            # array0_sorted (the argument's position stands in for its name)
            if fn.naming.startswith("prefix:"):
                return f"{fn.naming[7:]}_{inner or ''}"
            if fn.naming.startswith("suffix:"):
                return f"{inner or 'array0'}_{fn.naming[7:]}"
            if fn.naming.startswith("const:"):
                return fn.naming[6:]  # hll_merge(a, b) is named hll_merged_result
            return None
    return None


def aggregate_name(fn: F.Fn, args: tuple[A.Expr, ...]) -> str:
    """Default name of an aggregate column: `count_`, `dcount_DeviceId`, `set_Timestamp`, `x` (take_any)."""
    arg = expr_name(args[0]) if args else None
    if not fn.agg_prefix:
        return arg or "Column1"
    if fn.naming == "args2" and len(args) > 1:
        # measured on the engine: covariance(x, y) is covariance_x_y
        return f"{fn.agg_prefix}_{arg or ''}_{expr_name(args[1]) or ''}"
    return f"{fn.agg_prefix}_{arg or ''}"


def scalar_twin(name: str, nargs: int) -> F.Fn | None:
    """The scalar form of an aggregate name called with more arguments than the aggregate takes
    (`hll_merge(a, b)`, `merge_tdigest(a, b)`), registered as `$scalar:<name>`."""
    fn = F.lookup(name)
    if fn is None or fn.kind != "aggregate" or fn.max_args < 0 or nargs <= fn.max_args:
        return None
    return F.lookup(f"$scalar:{name}")


def percentile_suffix(value: float) -> str:
    """`percentile_x_95`, `percentile_x_99_9`: Kusto prints the percent and turns `.` into `_`."""
    text = f"{value:g}" if not float(value).is_integer() else str(int(value))
    return text.replace(".", "_").replace("-", "_")


def unique_name(base: str, taken: Iterable[str]) -> str:
    """`base`, or `base1`, `base2`, ... — the first one not taken."""
    used = set(taken)
    if base not in used:
        return base
    i = 1
    while f"{base}{i}" in used:
        i += 1
    return f"{base}{i}"


def next_column_name(existing: Iterable[str], taken: Iterable[str] = ()) -> str:
    """Kusto's name for an unnamed computed column: `Column<k>` where k counts the `ColumnN` columns that
    already exist, made unique against `taken` (an explicit `Column1` turns the next one into `Column11`)."""
    existing = list(existing)
    k = 1 + sum(1 for n in existing if re.fullmatch(r"Column\d+", n))
    return unique_name(f"Column{k}", list(taken) + existing)


@cache
def kusto_function_names() -> frozenset[str]:
    """Every scalar/aggregate function Kusto documents (the query reference's index), so an unimplemented
    one is refused as unsupported rather than reported as unknown."""
    text = resources.files("kqlhunt.data").joinpath("kusto_functions.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """A hint for an unknown name: the closest candidates, case-insensitively."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered:
        return (f"did you mean `{lowered[name.lower()]}`? (names are case-sensitive)",)
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    if not close:
        return ()
    return ("did you mean " + " or ".join(f"`{lowered[c]}`" for c in close) + "?",)
