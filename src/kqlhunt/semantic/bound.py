"""The bound tree: every name resolved, every expression typed, every operator's output schema known.

Expressions reduce to a few node kinds (`BLit`, `BCol`, `BCall`, `BAgg`, `BWindow`): KQL operators
such as `==`, `has` or `in~` become calls of registry functions, so one function table drives typing,
lowering and documentation. Tabular operators keep their KQL shape (`BJoin` has its KQL kind,
`BSearch` its terms) so that `explain` and `lint` can read them; the plan layer turns them into
relational steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kqlhunt.diagnostics import Span
from kqlhunt.semantic.types import KType

# ---------------------------------------------------------------- schema


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: KType


Schema = tuple[Column, ...]


def schema_names(schema: Schema) -> list[str]:
    return [c.name for c in schema]


def find(schema: Schema, name: str) -> Column | None:
    for c in schema:
        if c.name == name:
            return c
    return None


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class BExpr:
    type: KType
    span: Span


@dataclass(frozen=True, slots=True)
class BLit(BExpr):
    value: object  # Python value; ticks for timespan; naive UTC datetime; JSON-like for dynamic


@dataclass(frozen=True, slots=True)
class BCol(BExpr):
    name: str


@dataclass(frozen=True, slots=True)
class BType(BExpr):
    """A type given as an argument: `typeof(int)` in `extract(..., typeof(int))`."""


@dataclass(frozen=True, slots=True)
class BCall(BExpr):
    fn: str  # registry name: a function (`tolower`) or operator (`==`, `has`, `!in~`, `and`)
    args: tuple[BExpr, ...]


@dataclass(frozen=True, slots=True)
class BAgg(BExpr):
    """An aggregate call; appears only inside `BSummarize.aggregates` expressions."""

    fn: str
    args: tuple[BExpr, ...]


@dataclass(frozen=True, slots=True)
class BWindow(BExpr):
    """`next`, `prev`, `row_number`, `row_cumsum`: needs a serialized (ordered) input."""

    fn: str
    args: tuple[BExpr, ...]


@dataclass(frozen=True, slots=True)
class BScalarSubquery(BExpr):
    """`toscalar(T | ...)`: the first column of the first row."""

    rel: BRel


@dataclass(frozen=True, slots=True)
class BColumnSubquery(BExpr):
    """`x in (T | project c)`: the values of the first column of a tabular expression."""

    rel: BRel


# ---------------------------------------------------------------- tabular operators


@dataclass(frozen=True, slots=True, eq=False)
class BRel:
    """A bound tabular expression. `eq=False`: identity matters (a materialized let is one node)."""

    schema: Schema
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class BTable(BRel):
    name: str


@dataclass(frozen=True, slots=True, eq=False)
class BValues(BRel):
    """Literal rows: datatable, print (one row), getschema."""

    rows: tuple[tuple[BExpr, ...], ...]


@dataclass(frozen=True, slots=True, eq=False)
class BRange(BRel):
    start: BExpr
    stop: BExpr
    step: BExpr


@dataclass(frozen=True, slots=True, eq=False)
class BFilter(BRel):
    input: BRel
    predicate: BExpr


@dataclass(frozen=True, slots=True, eq=False)
class BProject(BRel):
    """extend / project / project-away / rename / reorder, all as 'these output columns from these exprs'.
    `op` keeps the KQL operator name for explain."""

    input: BRel
    items: tuple[tuple[str, BExpr], ...]
    op: str


@dataclass(frozen=True, slots=True, eq=False)
class BSummarize(BRel):
    """Output = keys then aggregate columns. Aggregate expressions may combine several `BAgg`s
    (`datetime_diff('second', max(t), min(t))`)."""

    input: BRel
    keys: tuple[tuple[str, BExpr], ...]
    aggregates: tuple[tuple[str, BExpr], ...]
    hints: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class BJoin(BRel):
    """`kind` is Kusto's (innerunique, inner, leftouter, ... leftanti). `right_names` maps each right
    column to its output name (Kusto's duplicate renaming: RemoteIP -> RemoteIP1)."""

    left: BRel
    right: BRel
    kind: str
    keys: tuple[tuple[str, str], ...]  # (left column, right column)
    right_names: tuple[tuple[str, str], ...]
    hints: tuple[tuple[str, str], ...] = ()
    operator: str = "join"  # join | lookup


@dataclass(frozen=True, slots=True, eq=False)
class BUnion(BRel):
    inputs: tuple[BRel, ...]
    source_column: str | None
    source_names: tuple[str, ...]
    kind: str = "outer"


@dataclass(frozen=True, slots=True, eq=False)
class BExpand(BRel):
    """mv-expand: each item is (output column, array expression, element type)."""

    input: BRel
    items: tuple[tuple[str, BExpr, KType], ...]
    index_column: str | None
    limit: int | None
    bag_mode: str = "bag"


@dataclass(frozen=True, slots=True, eq=False)
class BApplyInput(BRel):
    """The implicit source of an mv-apply subquery: one outer row's expanded sub-table."""


@dataclass(frozen=True, slots=True, eq=False)
class BApply(BRel):
    """mv-apply: expand `items` per row, run `subquery` (rooted at a `BApplyInput`) on each row's
    sub-table, and prepend the row's other columns to each result row."""

    input: BRel
    items: tuple[tuple[str, BExpr, KType], ...]
    index_column: str | None
    subquery: BRel
    apply_input: BApplyInput
    outer_columns: tuple[str, ...]  # input columns carried to the output, in order
    limit: int | None = None
    bag_mode: str = "bag"


@dataclass(frozen=True, slots=True, eq=False)
class BTopNested(BRel):
    """top-nested: per level, the key expression, its aggregate, how many to keep (None: all), ascending."""

    input: BRel
    levels: tuple[tuple[str, BExpr, str, BExpr, int | None, bool], ...]


@dataclass(frozen=True, slots=True, eq=False)
class BPartition(BRel):
    """`partition by key (subquery)`: `subquery` (over `apply_input`) runs on each key's rows."""

    input: BRel
    key: str
    subquery: BRel
    apply_input: BApplyInput


@dataclass(frozen=True, slots=True)
class BScanStep:
    name: str
    output: str  # all | none
    condition: BExpr  # state references are columns named state_column(j, col)
    assignments: tuple[tuple[str, BExpr], ...]  # declared column -> value


def state_column(step: int, column: str) -> str:
    """The synthetic column that stands for `<step j>.<column>` in scan conditions and assignments."""
    return f"__st{step}__{column}"


@dataclass(frozen=True, slots=True, eq=False)
class BScan(BRel):
    """The scan operator: a state machine over the serialized rows (see sql/scan.py)."""

    input: BRel
    steps: tuple[BScanStep, ...]
    declared: tuple[tuple[str, BLit], ...]  # declared column -> default (typed)
    match_id: str | None
    state: tuple[tuple[int, str, KType], ...]  # (step index from 1, column, type) the steps read


@dataclass(frozen=True, slots=True, eq=False)
class BSeriesFill(BRel):
    """make-series' last step: each group's aggregated bins laid out on the whole axis as arrays.

    `input` has one row per group and bin: the keys, `__bin`, the aggregate values and `__present`. The
    grid of bins is `bin_of` for `__i` in 0..`count`-1; `count`/`bin_of` may read the group's first and
    last bins with data (`__lo`, `__hi`) when `from`/`to` are not given."""

    input: BRel
    keys: tuple[str, ...]
    values: tuple[tuple[str, BExpr], ...]  # aggregate column -> default for bins without rows
    axis: str
    count: BExpr
    bin_of: BExpr
    nonempty: bool


@dataclass(frozen=True, slots=True, eq=False)
class BSort(BRel):
    input: BRel
    keys: tuple[tuple[BExpr, bool, bool], ...]  # (expr, ascending, nulls_first)
    op: str = "sort"


@dataclass(frozen=True, slots=True, eq=False)
class BTake(BRel):
    input: BRel
    count: int


@dataclass(frozen=True, slots=True, eq=False)
class BDistinct(BRel):
    input: BRel


@dataclass(frozen=True, slots=True, eq=False)
class BSerialize(BRel):
    input: BRel


@dataclass(frozen=True, slots=True, eq=False)
class BMaterialize(BRel):
    input: BRel
    name: str


@dataclass(frozen=True, slots=True, eq=False)
class BIpv4Lookup(BRel):
    """evaluate ipv4_lookup(LookupTable, SourceKey, LookupKey [, extra keys], return_unmatched)."""

    input: BRel
    lookup: BRel
    source_key: str
    lookup_key: str
    extra_keys: tuple[tuple[str, str], ...]
    return_unmatched: bool
    right_names: tuple[tuple[str, str], ...]
    family: str = "ipv4"  # ipv4_lookup | ipv6_lookup


@dataclass(frozen=True, slots=True, eq=False)
class BSearch(BRel):
    """search [in (T...)] terms: kept whole for explain; `predicate` is the bound row filter over the
    union of the tables, `tables` their names; output starts with `$table`."""

    input: BRel
    predicate: BExpr
    tables: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class BRender(BRel):
    input: BRel
    chart: str


@dataclass(frozen=True, slots=True)
class ExternalSource:
    """An `externaldata` operator: the engine reads `uris` (in `format`) as a table named `name`."""

    name: str
    schema: Schema
    uris: tuple[str, ...]
    format: str  # csv | tsv | scsv | psv | txt | raw | json | multijson | parquet | ...
    ignore_first_record: bool
    span: Span


@dataclass(frozen=True, slots=True)
class BoundQuery:
    """The result of binding a script: the final relation plus what explain/lint want to know."""

    rel: BRel
    parameters: dict[str, BLit] = field(default_factory=dict)
    lets: dict[str, BRel] = field(default_factory=dict)
    render: str | None = None
    tables: list[str] = field(default_factory=list)
    externals: dict[str, ExternalSource] = field(default_factory=dict)  # table name -> what to read
    now: object = None  # `set query_now = datetime(...)`: pins now() and ago() (a naive UTC datetime)
