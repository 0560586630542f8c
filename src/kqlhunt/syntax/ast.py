"""The KQL abstract syntax tree: frozen dataclasses, every node with its source span.

The parser cannot tell tabular from scalar expressions (a bare name may be a table, a column or a
let-bound value), so both share `Expr`; `Pipeline` is an expression whose source is followed by
`| operator`s. The binder gives everything its meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

from kqlhunt.diagnostics import Span


@dataclass(frozen=True, slots=True)
class Node:
    span: Span


# ---------------------------------------------------------------- expressions


class Expr(Node):
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    """A typed constant. `kind` is a Kusto type name; `value` is the Python value
    (ticks for timespan, `datetime` for datetime, JSON-like Python data for dynamic; None is null)."""

    kind: str
    value: object


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A bare or bracket-quoted identifier: a column, a let name, a table."""

    name: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class JoinSide(Expr):
    """`$left.Col` / `$right.Col` inside a join condition."""

    side: str  # "left" | "right"
    name: str


@dataclass(frozen=True, slots=True)
class Star(Expr):
    """`*` as an argument: `arg_max(ts, *)`, `count(*)`-like forms."""


@dataclass(frozen=True, slots=True)
class TypeRef(Expr):
    """`typeof(long)` or a bare type name where one is expected."""

    type_name: str


@dataclass(frozen=True, slots=True)
class NamedArg(Expr):
    """`name = value` inside a call's argument list (plugins, `kind=` options)."""

    name: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    name: str
    args: tuple[Expr, ...]
    name_span: Span


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    """Arithmetic, comparison, logical and string operators, by their KQL spelling
    (`+`, `==`, `=~`, `and`, `has`, `!contains`, `matches regex`, `has_any`...)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str  # "-" | "+"
    operand: Expr


@dataclass(frozen=True, slots=True)
class InList(Expr):
    """`x in (a, b)`, `x !in~ (dyn)`, `x in (T | project c)`: `op` is the exact spelling."""

    op: str
    left: Expr
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Between(Expr):
    negated: bool
    operand: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True, slots=True)
class Member(Expr):
    """`x.name` (member access on dynamic, or a qualified name)."""

    target: Expr
    name: str


@dataclass(frozen=True, slots=True)
class Index(Expr):
    """`x[0]`, `x['key']`."""

    target: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Pipeline(Expr):
    """A tabular source followed by `| op | op ...`."""

    source: Expr
    ops: tuple[Operator, ...]


@dataclass(frozen=True, slots=True)
class Datatable(Expr):
    columns: tuple[ColumnDecl, ...]
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class FindSource(Expr):
    """`find [withsource=C] in (T, ...) where pred [project-smart | project c[: type], ...]`."""

    options: tuple[NamedArg, ...]
    tables: tuple[Expr, ...]
    predicate: Expr
    project: tuple[ColumnDecl, ...] | None  # None: project-smart; ColumnDecl type_name "" when not given


@dataclass(frozen=True, slots=True)
class ExternalData(Expr):
    """`externaldata (cols) [uris] with (format=..., ignoreFirstRecord=...)`."""

    columns: tuple[ColumnDecl, ...]
    uris: tuple[str, ...]
    options: tuple[NamedArg, ...]


@dataclass(frozen=True, slots=True)
class ColumnDecl(Node):
    name: str
    type_name: str


@dataclass(frozen=True, slots=True)
class PrintSource(Expr):
    items: tuple[Assignment, ...]


@dataclass(frozen=True, slots=True)
class RangeSource(Expr):
    column: str
    start: Expr
    stop: Expr
    step: Expr


@dataclass(frozen=True, slots=True)
class UnionSource(Expr):
    """`union [kind=..] [withsource=..] T1, T2` used as a pipeline source."""

    options: tuple[NamedArg, ...]
    tables: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class SearchSource(Expr):
    """`search [kind=...] [in (T1, ...)] predicate` as a source."""

    options: tuple[NamedArg, ...]
    tables: tuple[Expr, ...]
    predicate: Expr


@dataclass(frozen=True, slots=True)
class FunctionLiteral(Expr):
    """`(a: long, T: (x: string)) { body }` bound by `let f = ...`."""

    params: tuple[Param, ...]
    body: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class Param(Node):
    name: str
    type_name: str | None  # scalar type, or None for a tabular parameter
    tabular_columns: tuple[ColumnDecl, ...] | None
    default: Expr | None


# ---------------------------------------------------------------- operator parts


@dataclass(frozen=True, slots=True)
class Assignment(Node):
    """`expr`, `name = expr` or `(a, b) = expr` in extend/project/summarize/print."""

    names: tuple[str, ...]  # empty when unnamed
    expr: Expr


@dataclass(frozen=True, slots=True)
class SortKey(Node):
    expr: Expr
    ascending: bool | None  # None = operator default
    nulls_first: bool | None


@dataclass(frozen=True, slots=True)
class NamePattern(Node):
    """A column name or a wildcard pattern (`*1`, `Device*`); `order` for project-reorder's
    asc | desc | granny-asc | granny-desc."""

    pattern: str
    order: str | None = None


@dataclass(frozen=True, slots=True)
class MvItem(Node):
    """One expanded column of mv-expand / mv-apply: `[name =] expr [to typeof(T)]`."""

    name: str | None
    expr: Expr
    to_type: str | None


# ---------------------------------------------------------------- tabular operators


class Operator(Node):
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Where(Operator):
    predicate: Expr
    keyword: str = "where"  # where | filter


@dataclass(frozen=True, slots=True)
class Extend(Operator):
    items: tuple[Assignment, ...]


@dataclass(frozen=True, slots=True)
class Project(Operator):
    items: tuple[Assignment, ...]


@dataclass(frozen=True, slots=True)
class ProjectAway(Operator):
    patterns: tuple[NamePattern, ...]


@dataclass(frozen=True, slots=True)
class ProjectKeep(Operator):
    patterns: tuple[NamePattern, ...]


@dataclass(frozen=True, slots=True)
class ProjectRename(Operator):
    pairs: tuple[tuple[str, str, Span], ...]  # (new, old, span)


@dataclass(frozen=True, slots=True)
class ProjectReorder(Operator):
    patterns: tuple[NamePattern, ...]


@dataclass(frozen=True, slots=True)
class Summarize(Operator):
    hints: tuple[NamedArg, ...]
    aggregates: tuple[Assignment, ...]
    by: tuple[Assignment, ...]


@dataclass(frozen=True, slots=True)
class Join(Operator):
    options: tuple[NamedArg, ...]  # kind=..., hint.*=...
    right: Expr
    on: tuple[Expr, ...]  # Name (same name both sides) or Binary('==', JoinSide, JoinSide)


@dataclass(frozen=True, slots=True)
class Lookup(Operator):
    options: tuple[NamedArg, ...]
    right: Expr
    on: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Union(Operator):
    options: tuple[NamedArg, ...]
    tables: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class MvExpand(Operator):
    options: tuple[NamedArg, ...]  # kind=, bagexpansion=, with_itemindex=
    items: tuple[MvItem, ...]
    limit: Expr | None


@dataclass(frozen=True, slots=True)
class MvApply(Operator):
    options: tuple[NamedArg, ...]
    items: tuple[MvItem, ...]
    limit: Expr | None
    subquery: tuple[Operator, ...]


@dataclass(frozen=True, slots=True)
class Evaluate(Operator):
    options: tuple[NamedArg, ...]
    plugin: Call
    schema: tuple[ColumnDecl, ...] | None = None  # `: (a:string, ...)`, the declared output schema
    schema_star: bool = False  # `: (*, a:string)`: the input's columns come first


@dataclass(frozen=True, slots=True)
class TopNestedLevel(Node):
    count: Expr | None
    of: Assignment
    others: Expr | None
    by: Assignment
    ascending: bool = False


@dataclass(frozen=True, slots=True)
class TopNested(Operator):
    levels: tuple[TopNestedLevel, ...]


@dataclass(frozen=True, slots=True)
class Partition(Operator):
    """`partition [hint.*=...] by Column ( operators )`: the operators run on each partition's rows."""

    options: tuple[NamedArg, ...]
    key: str
    subquery: tuple[Operator, ...]


@dataclass(frozen=True, slots=True)
class ScanDecl(Node):
    name: str
    type_name: str
    default: Expr | None


@dataclass(frozen=True, slots=True)
class ScanStep(Node):
    name: str
    output: str  # all | last | none
    condition: Expr
    assignments: tuple[Assignment, ...]


@dataclass(frozen=True, slots=True)
class Scan(Operator):
    """`scan [with_match_id=Id] [declare (c: T [= default], ...)] with (step s [output=...]: cond [=> c = e, ...]; ...)`."""

    match_id: str | None
    declare: tuple[ScanDecl, ...]
    steps: tuple[ScanStep, ...]


@dataclass(frozen=True, slots=True)
class MakeSeries(Operator):
    """`make-series [kind=nonempty] agg [default=v], ... on axis [from a] [to b] step s [by ...]`, or the
    alternate `on axis in range(start, stop, step)` (stop inclusive)."""

    options: tuple[NamedArg, ...]
    aggregates: tuple[Assignment, ...]
    defaults: tuple[Expr | None, ...]  # one per aggregate
    axis: Expr
    start: Expr | None
    end: Expr | None
    step: Expr
    by: tuple[Assignment, ...]
    range_syntax: bool = False


@dataclass(frozen=True, slots=True)
class Invoke(Operator):
    """`T | invoke f(a, b)`: calls the tabular function f with T as its first argument."""

    call: Call


@dataclass(frozen=True, slots=True)
class ParsePart(Node):
    """One element of a `parse ... with` pattern: a string constant, a column (`name[: type]`) or `*`."""

    kind: str  # text | column | star
    value: str = ""  # text: the constant; column: the column name
    type_name: str | None = None  # column: its declared type (None: string)


@dataclass(frozen=True, slots=True)
class Parse(Operator):
    options: tuple[NamedArg, ...]  # kind=simple|regex|relaxed, flags=...
    source: Expr
    parts: tuple[ParsePart, ...]
    keyword: str = "parse"  # parse | parse-where


@dataclass(frozen=True, slots=True)
class Sort(Operator):
    keys: tuple[SortKey, ...]
    keyword: str = "sort"  # sort | order


@dataclass(frozen=True, slots=True)
class Take(Operator):
    count: Expr
    keyword: str = "take"  # take | limit


@dataclass(frozen=True, slots=True)
class Top(Operator):
    count: Expr
    key: SortKey


@dataclass(frozen=True, slots=True)
class Count(Operator):
    name: str = "Count"  # `count as N` renames the column


@dataclass(frozen=True, slots=True)
class Distinct(Operator):
    columns: tuple[Expr, ...]  # (Star,) for `distinct *`


@dataclass(frozen=True, slots=True)
class Serialize(Operator):
    items: tuple[Assignment, ...]


@dataclass(frozen=True, slots=True)
class As(Operator):
    name: str


@dataclass(frozen=True, slots=True)
class Getschema(Operator):
    pass


@dataclass(frozen=True, slots=True)
class Render(Operator):
    """Accepted and recorded (a visualisation hint), never changes the rows."""

    chart: str
    options: tuple[NamedArg, ...]


@dataclass(frozen=True, slots=True)
class Unsupported(Operator):
    """An operator kqlhunt recognises but does not implement; the binder refuses it by name."""

    name: str


# ---------------------------------------------------------------- statements


class Statement(Node):
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Let(Statement):
    name: str
    name_span: Span
    value: Expr


@dataclass(frozen=True, slots=True)
class SetOption(Statement):
    """`set name [= value];`: a request property for the query."""

    name: str
    value: Expr | None


@dataclass(frozen=True, slots=True)
class QueryStatement(Statement):
    expr: Expr


@dataclass(frozen=True, slots=True)
class Script(Node):
    statements: tuple[Statement, ...]
