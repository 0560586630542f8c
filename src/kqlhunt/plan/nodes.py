"""Relational plan nodes: what the SQL layer renders, one CTE per node.

Every node lists its output `columns` (what the KQL user sees, in Kusto's order) and `hidden`
columns the plan needs to carry along: `__ord` (row order after a sort), `__rowid`/`__idx` (the outer
row and array position inside mv-apply), `__o<i>` (outer columns inside mv-apply). Expressions are the
semantic layer's `BExpr`s plus `PWindow` (a window function with its partition and order).
"""

from __future__ import annotations

from dataclasses import dataclass

from kqlhunt.diagnostics import Span
from kqlhunt.semantic.bound import BExpr, Column
from kqlhunt.semantic.types import KType

SortSpec = tuple[BExpr, bool, bool]  # expression, ascending, nulls first


@dataclass(frozen=True, slots=True)
class PWindow(BExpr):
    fn: str  # next | prev | row_number | row_cumsum | row_number_plain
    args: tuple[BExpr, ...]
    partition: tuple[BExpr, ...]
    order: tuple[SortSpec, ...]


@dataclass(frozen=True, slots=True)
class POrderedAgg(BExpr):
    """An aggregate whose list output must follow the input order (make_list in a serialized context)."""

    fn: str
    args: tuple[BExpr, ...]
    order: tuple[SortSpec, ...]


@dataclass(frozen=True, slots=True, eq=False)
class PNode:
    columns: tuple[Column, ...]
    hidden: tuple[Column, ...]
    span: Span
    label: str  # KQL operator this step comes from: names the CTE

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns + self.hidden


@dataclass(frozen=True, slots=True, eq=False)
class PScan(PNode):
    table: str


@dataclass(frozen=True, slots=True, eq=False)
class PValues(PNode):
    rows: tuple[tuple[BExpr, ...], ...]


@dataclass(frozen=True, slots=True, eq=False)
class PRange(PNode):
    start: BExpr
    stop: BExpr
    step: BExpr


@dataclass(frozen=True, slots=True, eq=False)
class PTopNested(PNode):
    """top-nested over `input` (see BTopNested)."""

    input: PNode
    levels: tuple[tuple[str, BExpr, str, BExpr, int | None, bool], ...]


@dataclass(frozen=True, slots=True, eq=False)
class PSequenceScan(PNode):
    """The scan operator over `input` in `order` (per `partition`); see sql/scan.py."""

    input: PNode
    steps: tuple[object, ...]  # semantic.bound.BScanStep
    declared: tuple[tuple[str, BExpr], ...]
    match_id: str | None
    state: tuple[tuple[int, str, KType], ...]
    order: tuple[SortSpec, ...]
    partition: tuple[BExpr, ...]


@dataclass(frozen=True, slots=True, eq=False)
class PSeriesFill(PNode):
    """make-series: per group, the aggregated bins of `input` laid on the full axis (see BSeriesFill)."""

    input: PNode
    keys: tuple[str, ...]
    values: tuple[tuple[str, BExpr], ...]
    axis: str
    count: BExpr
    bin_of: BExpr
    nonempty: bool


@dataclass(frozen=True, slots=True, eq=False)
class PFilter(PNode):
    input: PNode
    predicate: BExpr


@dataclass(frozen=True, slots=True, eq=False)
class PProject(PNode):
    """SELECT items (visible then hidden, each `(name, expr)`) FROM input."""

    input: PNode
    items: tuple[tuple[str, BExpr], ...]


@dataclass(frozen=True, slots=True, eq=False)
class PAggregate(PNode):
    input: PNode
    keys: tuple[tuple[str, BExpr], ...]
    aggregates: tuple[tuple[str, BExpr], ...]
    hints: tuple[tuple[str, str], ...] = ()  # hint.shufflekey & co.: partitioning advice for a distributed engine


@dataclass(frozen=True, slots=True, eq=False)
class PJoin(PNode):
    """kind: inner | left | right | full | semi | anti. Output: left columns then right columns renamed by
    `right_names`; `null_strings` lists output string columns an outer join may leave null (Kusto: "")."""

    left: PNode
    right: PNode
    kind: str
    keys: tuple[tuple[str, str], ...]
    right_names: tuple[tuple[str, str], ...]
    null_strings: tuple[str, ...]
    dedupe_left: bool = False  # innerunique: one left row per key
    dedupe_order: tuple[SortSpec, ...] = ()  # which left row: the first in this order
    hints: tuple[tuple[str, str], ...] = ()  # hint.strategy, hint.shufflekey: for a distributed engine


@dataclass(frozen=True, slots=True, eq=False)
class PIpv4Lookup(PNode):
    input: PNode
    lookup: PNode
    source_key: str
    lookup_key: str
    extra_keys: tuple[tuple[str, str], ...]
    return_unmatched: bool
    right_names: tuple[tuple[str, str], ...]
    family: str = "ipv4"


@dataclass(frozen=True, slots=True, eq=False)
class PUnnest(PNode):
    """Expand arrays in parallel (zip; the shorter padded with null). `keep` are carried columns
    `(name, expr)`; `items` `(name, array expr, element type)`; `index` names the 0-based position."""

    input: PNode
    keep: tuple[tuple[str, BExpr], ...]
    items: tuple[tuple[str, BExpr, KType], ...]
    index: str | None
    bag_mode: str = "bag"  # property bags expand to {k: v} (bag) or [k, v] (array)


@dataclass(frozen=True, slots=True, eq=False)
class PSort(PNode):
    """ORDER BY for the final result (row order inside the pipeline is carried by `__ord`)."""

    input: PNode
    keys: tuple[SortSpec, ...]


@dataclass(frozen=True, slots=True, eq=False)
class PLimit(PNode):
    """First `count` rows; `partition` makes it per group (take inside mv-apply), ordered by `order`."""

    input: PNode
    count: int
    partition: tuple[BExpr, ...] = ()
    order: tuple[SortSpec, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class PDistinct(PNode):
    input: PNode


@dataclass(frozen=True, slots=True, eq=False)
class PUnion(PNode):
    """UNION ALL of inputs, each projected onto the output columns by `(name, expr)` items."""

    inputs: tuple[tuple[PNode, tuple[tuple[str, BExpr], ...]], ...]


@dataclass(frozen=True, slots=True, eq=False)
class PSemiFilter(PNode):
    """Rows of `input` whose `column` occurs in `keys.key_column` (semi-join reduction)."""

    input: PNode
    column: str
    keys: PNode
    key_column: str


@dataclass(frozen=True, slots=True, eq=False)
class PShared(PNode):
    """A sub-plan referenced more than once (a let-bound table); `materialized` asks the engine to
    compute it once and keep it."""

    input: PNode
    name: str
    materialized: bool


@dataclass(frozen=True, slots=True)
class Plan:
    root: PNode
    now_required: bool = True
