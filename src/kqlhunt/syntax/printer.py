"""Printer: AST -> canonical KQL text that parses back to the same tree (spans aside).

`to_kql(node)` accepts a `Script`, a statement, any expression or tabular operator, and the operator
parts (`Assignment`, `SortKey`, `NamePattern`, `MvItem`, `ColumnDecl`, `Param`). The output is canonical:

- one statement per line (`;` between them), one line per query with ` | ` between operators;
- strings in double quotes with backslash escapes (`\\"`, `\\\\`, `\\n`, `\\0`, `\\uXXXX` for other
  control and invisible characters); bracket-quoted names `['a b']` when a name is not a plain
  identifier or is a word KQL gives a meaning to (`by`, `kind`, `string`...);
- literals exact: timespans in the largest whole unit the lexer reads back to the tick (`30d`, `1500ms`,
  `7tick`) or `timespan(d.hh:mm:ss.fffffff)`; datetimes `datetime(yyyy-mm-ddThh:mm:ss.fffffffZ)`; reals
  by `repr` or `real(nan)`/`real(+inf)`/`real(-inf)`; typed nulls `long(null)`; `dynamic(...)` JSON-like;
- parentheses only where the grammar needs them (precedence, a pipe-level expression inside a scalar
  one, a comma list that a trailing operator would otherwise swallow).

Where KQL has a spelling the parser does not accept (`x.['a b']`, an index on a literal), the KQL
spelling is printed; a value KQL cannot write at all (a NaN inside `dynamic`, a null string) raises
`ValueError`.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from kqlhunt.diagnostics import KqlError
from kqlhunt.syntax import ast as A
from kqlhunt.syntax.lexer import HYPHENATED, RAW_LITERAL_KINDS, TICKS_PER, T, tokenize
from kqlhunt.syntax.literals import format_datetime, format_timespan
from kqlhunt.syntax.parser import (
    LIST_OPS,
    NEGATABLE_WORD_OPS,
    OPERATORS,
    SOURCE_KEYWORDS,
    STRING_OPS,
    TYPE_NAMES,
    UNSUPPORTED_OPERATORS,
    DynamicTimespan,
)

__all__ = ["to_kql", "quote_string", "format_name"]

# ---------------------------------------------------------------- precedence levels

PIPE = 0  # needs a pipe context: a statement, `(...)`, a call argument, an `in (...)` item
OR = 1
AND = 2
CMP = 3  # non-associative: comparisons, string operators, in, between, matches regex
ADD = 4
MUL = 5
UNARY = 6
POSTFIX = 7

_BINARY_LEVEL = {"or": OR, "and": AND, "+": ADD, "-": ADD, "*": MUL, "/": MUL, "%": MUL}

_PIPE_NODES = (A.Pipeline, A.UnionSource, A.SearchSource, A.PrintSource, A.RangeSource, A.Datatable, A.ExternalData,
               A.FindSource,
               A.FunctionLiteral, A.NamedArg)

# Words that get brackets when used as a name: KQL's contextual keywords, operator and type names.
KEYWORDS = frozenset({
    "and", "or", "not", "in", "between", "notbetween", "matches", "regex", "by", "on", "to", "from",
    "step", "asc", "desc", "nulls", "first", "last", "kind", "let", "set", "declare", "alias", "restrict",
    "pattern", "view", "true", "false", "null", "typeof", "dynamic", "with", "as", "limit", "granny",
    "hint", "with_itemindex", "bagexpansion", "withsource", "isfuzzy", "of", "where", "filter",
}) | STRING_OPS | LIST_OPS | NEGATABLE_WORD_OPS | frozenset(TYPE_NAMES) | RAW_LITERAL_KINDS \
    | SOURCE_KEYWORDS | frozenset(OPERATORS) | UNSUPPORTED_OPERATORS | HYPHENATED | {"find", "externaldata"}

# Timespan units from largest to smallest: the first that divides the ticks and reads back exactly wins.
_UNITS = (("d", TICKS_PER["d"]), ("h", TICKS_PER["h"]), ("m", TICKS_PER["m"]), ("s", TICKS_PER["s"]),
          ("ms", TICKS_PER["ms"]), ("microsecond", TICKS_PER["microsecond"]), ("tick", 1))

_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}
_NEEDS_ESCAPE = re.compile(r"[\\'\"]|[^\x20-\x7e]")
_VIEW = re.compile(r"view(?!\w)")
_STATEMENT_WORD = re.compile(r"(?:let|set|declare|alias|restrict|pattern)(?!\w)")
_BY = re.compile(r"by(?!\w)")
# A bare `range` or `find` leading a pipe context reads as the operator when followed by `x from` / a word.
_SOURCE_LEAD = re.compile(r"(?:range(?= \S+ from(?!\w))|find(?= [^\W\d]| [\"']))")


# ---------------------------------------------------------------- tokens: strings and names


def quote_string(value: str, quote: str = '"') -> str:
    """A KQL string literal for `value`, with backslash escapes (the lexer reads it back exactly)."""

    def escape(m: re.Match[str]) -> str:
        ch = m.group()
        if ch in _SHORT_ESCAPES:
            return _SHORT_ESCAPES[ch]
        if ch in "'\"":
            return "\\" + ch if ch == quote else ch
        if ch.isprintable() or ord(ch) > 0xFFFF:  # \u takes 4 hex digits: astral characters stay as is
            return ch
        return f"\\u{ord(ch):04x}"

    return quote + _NEEDS_ESCAPE.sub(escape, value) + quote


@lru_cache(maxsize=8192)
def _is_ident_token(text: str) -> bool:
    """True when `text` lexes as exactly one identifier token spelling `text`."""
    if not text:
        return False
    try:
        tokens = tokenize(text)
    except KqlError:
        return False
    return len(tokens) == 2 and tokens[0].kind is T.IDENT and tokens[0].text == text


@lru_cache(maxsize=8192)
def _is_plain(name: str) -> bool:
    """A name that can be written bare anywhere a name goes: an identifier that is no keyword."""
    return _is_ident_token(name) and name not in KEYWORDS and not name.startswith("$") and "-" not in name


def _bracket(name: str) -> str:
    return "[" + quote_string(name, "'") + "]"


def format_name(name: str) -> str:
    """A column, table or let name: bare when plain, `['...']` otherwise."""
    return name if _is_plain(name) else _bracket(name)


def _ident_or_bracket(name: str) -> str:
    """Where the grammar takes any identifier token (keywords included) or a bracketed name."""
    return name if _is_ident_token(name) and name not in ("$left", "$right") else _bracket(name)


# ---------------------------------------------------------------- literals


def _timespan_units(ticks: int) -> str:
    """Non-negative ticks as `N<unit>` in the largest whole unit when the lexer reads it back exactly
    (`30d`, `1500ms`, `7tick`), else (or beyond a second in sub-millisecond units) `timespan(...)`."""
    for unit, per in _UNITS:
        if ticks % per == 0:
            n = ticks // per
            # the lexer goes through float(number) * ticks-per-unit
            if round(float(n) * per) == ticks and (per >= TICKS_PER["ms"] or ticks < TICKS_PER["s"]):
                return f"{n}{unit}"
            break
    return f"timespan({format_timespan(ticks)})"


def _datetime(value: datetime) -> str:
    return f"datetime({format_datetime(value)})"  # keeps a TickDatetime's seventh digit


def _real(value: float) -> str:
    if math.isnan(value):
        return "real(nan)"
    if math.isinf(value):
        return "real(+inf)" if value > 0 else "real(-inf)"
    return repr(value)


def _dynamic(value: object) -> str:
    """A value inside `dynamic(...)`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, DynamicTimespan):
        return _timespan_units(value) if value >= 0 else f"timespan({format_timespan(value)})"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a dynamic literal cannot hold {value!r}")
        return repr(value)
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, datetime):
        return _datetime(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_dynamic(v) for v in value) + "]"
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"a dynamic property name must be a string, not {k!r}")
            items.append(f"{quote_string(k)}: {_dynamic(v)}")
        return "{" + ", ".join(items) + "}"
    raise ValueError(f"no KQL spelling for {type(value).__name__} {value!r} inside dynamic(...)")


def _literal(e: A.Literal) -> str:
    kind, value = TYPE_NAMES.get(e.kind, e.kind), e.value
    if kind == "null":
        return "null"
    if kind == "dynamic":
        return f"dynamic({_dynamic(value)})"
    if value is None:
        if kind == "string":
            raise ValueError("KQL has no null string literal")
        return f"{kind}(null)"
    if kind == "string":
        return quote_string(str(value))
    if kind == "bool":
        return "true" if value else "false"
    if kind == "long":
        return _real(value) if isinstance(value, float) else str(value)
    if kind == "int":
        return f"int({value})"
    if kind == "real":
        return _real(float(value))  # type: ignore[arg-type]
    if kind == "decimal":
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"KQL has no decimal literal for {value}")
        return f"decimal({value})"
    if kind == "timespan":
        ticks = int(value)  # type: ignore[call-overload]
        return "-" + _timespan_units(-ticks) if ticks < 0 else _timespan_units(ticks)
    if kind == "datetime":
        return _datetime(value)  # type: ignore[arg-type]
    if kind == "guid":
        return f"guid({value})"
    raise ValueError(f"unknown literal kind {e.kind!r}")


def _literal_level(e: A.Literal) -> int:
    """Negative numbers print with a leading `-`: the parser folds it, but it binds like unary minus."""
    kind, v = TYPE_NAMES.get(e.kind, e.kind), e.value
    if kind in ("long", "timespan") and isinstance(v, int) and not isinstance(v, bool) and v < 0:
        return UNARY
    if kind in ("long", "real") and isinstance(v, float) and math.isfinite(v) and math.copysign(1, v) < 0:
        return UNARY
    return POSTFIX


# ---------------------------------------------------------------- expressions


def _level(e: A.Node) -> int:
    if isinstance(e, A.Binary):
        return _BINARY_LEVEL.get(e.op, CMP)
    if isinstance(e, A.InList | A.Between):
        return CMP
    if isinstance(e, A.Unary):
        return UNARY
    if isinstance(e, A.Literal):
        return _literal_level(e)
    if isinstance(e, _PIPE_NODES):
        return PIPE
    return POSTFIX


def _expr(e: A.Expr, min_level: int = OR) -> str:
    """`e` where the grammar wants at least `min_level`; parenthesised when it binds more loosely."""
    if _level(e) < min_level:
        return f"({_pipe(e)})"
    return _pipe(e)


def _guard_lead(text: str) -> str:
    """`(range) has from` must keep its parentheses: bare, a pipe context would read a range source."""
    m = _SOURCE_LEAD.match(text)
    return f"({m.group()}){text[m.end():]}" if m else text


def _pipe_list(items: tuple[A.Expr, ...]) -> str:
    """Comma-separated pipe contexts (call arguments, `in (...)` lists): an item other than the last
    is parenthesised when it is pipe-level, or its trailing operator would swallow the next items."""
    out = []
    for i, item in enumerate(items):
        last = i == len(items) - 1
        if isinstance(item, A.NamedArg):
            value = _pipe(item.value) if last or _level(item.value) > PIPE else f"({_pipe(item.value)})"
            out.append(f"{item.name} = {value}")
        else:
            out.append(_pipe(item) if last or _level(item) > PIPE else f"({_pipe(item)})")
    return ", ".join(out)


def _pipe(e: A.Node) -> str:
    """`e` in a pipe context (no parentheses needed around a pipeline or a source)."""
    if isinstance(e, A.Literal):
        return _literal(e)
    if isinstance(e, A.Name):
        return e.name if not e.quoted and _is_ident_token(e.name) and e.name not in (
            "$left", "$right", "true", "false", "null") else _bracket(e.name)
    if isinstance(e, A.Binary):
        level = _level(e)
        left, right = (ADD, ADD) if level == CMP else (level, level + 1)
        return _guard_lead(f"{_expr(e.left, left)} {e.op} {_expr(e.right, right)}")
    if isinstance(e, A.Call):
        return f"{e.name}({_pipe_list(e.args)})"
    if isinstance(e, A.Member):
        name = e.name if _is_ident_token(e.name) else _bracket(e.name)
        return f"{_expr(e.target, POSTFIX)}.{name}"
    if isinstance(e, A.Index):
        return f"{_expr(e.target, POSTFIX)}[{_expr(e.index, OR)}]"
    if isinstance(e, A.InList):
        return _guard_lead(f"{_expr(e.left, ADD)} {e.op} ({_pipe_list(e.items)})")
    if isinstance(e, A.Between):
        word = "!between" if e.negated else "between"
        return _guard_lead(f"{_expr(e.operand, ADD)} {word} ({_expr(e.low, ADD)} .. {_expr(e.high, ADD)})")
    if isinstance(e, A.Unary):
        operand = _expr(e.operand, UNARY)
        return e.op + (" " if operand[:1] in ("-", "+") else "") + operand
    if isinstance(e, A.JoinSide):
        return f"${e.side}.{format_name(e.name)}"
    if isinstance(e, A.Star):
        return "*"
    if isinstance(e, A.TypeRef):
        return f"typeof({e.type_name})"
    if isinstance(e, A.NamedArg):
        return f"{e.name} = {_pipe(e.value)}"
    if isinstance(e, A.Pipeline):
        source = _expr(e.source, OR) if isinstance(e.source, A.Pipeline) else _pipe(e.source)
        return " | ".join([source, *(_operator(op) for op in e.ops)])
    if isinstance(e, A.Datatable):
        columns = ", ".join(_column(c) for c in e.columns)
        return f"datatable({columns}) [{', '.join(_expr(v) for v in e.values)}]"
    if isinstance(e, A.FindSource):
        project = ""
        if e.project is not None:
            project = "project " + ", ".join(
                format_name(c.name) + (f": {c.type_name}" if c.type_name else "") for c in e.project)
        return _words("find", _options(e.options), f"in ({_tables(e.tables)})", f"where {_expr(e.predicate)}",
                      project)
    if isinstance(e, A.ExternalData):
        columns = ", ".join(_column(c) for c in e.columns)
        uris = ", ".join(quote_string(u) for u in e.uris)
        options = ", ".join(f"{o.name}={_option_value(o.value)}" for o in e.options)
        return f"externaldata({columns}) [{uris}]" + (f" with ({options})" if options else "")
    if isinstance(e, A.PrintSource):
        return f"print {_assignments(e.items)}"
    if isinstance(e, A.RangeSource):
        column = e.column if _is_ident_token(e.column) else _bracket(e.column)
        return f"range {column} from {_expr(e.start)} to {_expr(e.stop)} step {_expr(e.step)}"
    if isinstance(e, A.UnionSource):
        return _words("union", _options(e.options), _tables(e.tables))
    if isinstance(e, A.SearchSource):
        tables = f"in ({_pipe_list(e.tables)})" if e.tables else ""
        return _words("search", _options(e.options), tables, _expr(e.predicate))
    if isinstance(e, A.FunctionLiteral):
        return _function(e)
    if isinstance(e, A.Operator):
        return _operator(e)
    if isinstance(e, A.Statement):
        return _statement(e)
    if isinstance(e, A.Assignment):
        return _assignment(e)
    if isinstance(e, A.SortKey):
        return _sort_key(e)
    if isinstance(e, A.NamePattern):
        return _pattern(e)
    if isinstance(e, A.MvItem):
        return _mv_item(e)
    if isinstance(e, A.ColumnDecl):
        return _column(e)
    if isinstance(e, A.Param):
        return _param(e, first=False)
    if isinstance(e, A.Script):
        return _script(e)
    raise TypeError(f"cannot print {type(e).__name__}")


# ---------------------------------------------------------------- operator parts


def _words(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _option_value(value: A.Expr) -> str:
    """An option's value is a single token: an identifier, a string or a number."""
    if isinstance(value, A.Literal):
        v = value.value
        if value.kind == "string" and isinstance(v, str):
            return v if _is_ident_token(v) and v not in RAW_LITERAL_KINDS else quote_string(v)
        if value.kind == "long" and isinstance(v, int | float) and not isinstance(v, bool) \
                and v >= 0 and math.isfinite(v):
            return _literal(value)
    return _expr(value, POSTFIX)


def _options(options: tuple[A.NamedArg, ...]) -> str:
    return " ".join(f"{o.name}={_option_value(o.value)}" for o in options)


def _table(e: A.Expr) -> str:
    """A union table or join/lookup right side: `(pipe)` or a postfix expression. After a parenthesised
    table the parser takes no `.name` / `[index]`, so `(a).b` is written `((a).b)`."""
    text = _expr(e, POSTFIX)
    return f"({text})" if _level(e) >= POSTFIX and text.startswith("(") else text


def _tables(tables: tuple[A.Expr, ...]) -> str:
    return ", ".join(_table(t) for t in tables)


def _assignment(a: A.Assignment) -> str:
    value = _expr(a.expr)
    if not a.names:
        return value
    if len(a.names) == 1:
        return f"{format_name(a.names[0])} = {value}"
    return f"({', '.join(format_name(n) for n in a.names)}) = {value}"


def _assignments(items: tuple[A.Assignment, ...]) -> str:
    return ", ".join(_assignment(a) for a in items)


def _sort_key(k: A.SortKey) -> str:
    order = {True: "asc", False: "desc", None: ""}[k.ascending]
    nulls = {True: "nulls first", False: "nulls last", None: ""}[k.nulls_first]
    return _words(_expr(k.expr), order, nulls)


@lru_cache(maxsize=4096)
def _bare_pattern(pattern: str) -> bool:
    """A pattern written bare must lex as adjacent identifier, number and `*` tokens spelling it."""
    if not pattern or pattern[0] in "'\"@$" or any(ch in pattern for ch in "-."):
        return False
    try:
        tokens = tokenize(pattern)[:-1]
    except KqlError:
        return False
    pos = 0
    for t in tokens:
        if not (t.kind in (T.IDENT, T.LONG) or t.is_("*")) or t.span.start != pos:
            return False
        pos = t.span.end
    return pos == len(pattern) and "".join(t.text for t in tokens) == pattern \
        and not any(t.text in KEYWORDS or t.text.startswith("0x") for t in tokens)


def _pattern(p: A.NamePattern) -> str:
    return _words(p.pattern if _bare_pattern(p.pattern) else _bracket(p.pattern), p.order or "")


def _patterns(patterns: tuple[A.NamePattern, ...]) -> str:
    return ", ".join(_pattern(p) for p in patterns)


def _mv_item(item: A.MvItem) -> str:
    out = _expr(item.expr)
    if item.name is not None:
        out = f"{format_name(item.name)} = {out}"
    if item.to_type is not None:
        out += f" to typeof({item.to_type})"
    return out


def _mv(word: str, options: tuple[A.NamedArg, ...], items: tuple[A.MvItem, ...], limit: A.Expr | None) -> str:
    return _words(word, _options(options), ", ".join(_mv_item(i) for i in items),
                  f"limit {_expr(limit)}" if limit is not None else "")


def _column(c: A.ColumnDecl) -> str:
    return f"{format_name(c.name)}: {c.type_name}"


def _param(p: A.Param, first: bool) -> str:
    # The parser spots a function literal by `(` identifier `:`, so the first name stays bare if it can.
    name = _ident_or_bracket(p.name) if first else format_name(p.name)
    if p.type_name is not None:
        out = f"{name}: {p.type_name}"
    else:
        out = f"{name}: ({', '.join(_column(c) for c in p.tabular_columns or ()) or '*'})"
    if p.default is not None:
        out += f" = {_expr(p.default)}"
    return out


def _function(f: A.FunctionLiteral) -> str:
    params = ", ".join(_param(p, first=i == 0) for i, p in enumerate(f.params))
    body = "; ".join(_statement(s) for s in f.body)
    return f"({params}) {{ {body} }}" if body else f"({params}) {{ }}"


# ---------------------------------------------------------------- tabular operators


def _operator(op: A.Operator) -> str:
    if isinstance(op, A.Where):
        return f"{op.keyword if op.keyword in ('where', 'filter') else 'where'} {_expr(op.predicate)}"
    if isinstance(op, A.Extend):
        return f"extend {_assignments(op.items)}"
    if isinstance(op, A.Project):
        return f"project {_assignments(op.items)}"
    if isinstance(op, A.ProjectAway):
        return f"project-away {_patterns(op.patterns)}"
    if isinstance(op, A.ProjectKeep):
        return f"project-keep {_patterns(op.patterns)}"
    if isinstance(op, A.ProjectReorder):
        return f"project-reorder {_patterns(op.patterns)}"
    if isinstance(op, A.ProjectRename):
        pairs = ", ".join(f"{format_name(new)} = {format_name(old)}" for new, old, _ in op.pairs)
        return f"project-rename {pairs}"
    if isinstance(op, A.Summarize):
        by = f"by {_assignments(op.by)}" if op.by else ""
        items = [_assignment(a) for a in op.aggregates]
        if items and _BY.match(items[0]):  # `summarize (by)`: a bare `by` would start the by-clause
            items[0] = f"({_pipe(op.aggregates[0].expr)})"
        aggregates = ", ".join(items)
        return _words("summarize", _options(op.hints), aggregates, by)
    if isinstance(op, A.Join | A.Lookup):
        on = f"on {', '.join(_expr(e) for e in op.on)}" if op.on else ""
        word = "join" if isinstance(op, A.Join) else "lookup"
        return _words(word, _options(op.options), _table(op.right), on)
    if isinstance(op, A.Union):
        return _words("union", _options(op.options), _tables(op.tables))
    if isinstance(op, A.MvExpand):
        return _mv("mv-expand", op.options, op.items, op.limit)
    if isinstance(op, A.MvApply):
        sub = " | ".join(_operator(o) for o in op.subquery)
        return f"{_mv('mv-apply', op.options, op.items, op.limit)} on ({sub})"
    if isinstance(op, A.Evaluate):
        schema = ""
        if op.schema is not None:
            parts = (["*"] if op.schema_star else []) + [_column(c) for c in op.schema]
            schema = f": ({', '.join(parts)})"
        return _words("evaluate", _options(op.options), _pipe(op.plugin), schema)
    if isinstance(op, A.TopNested):
        levels = []
        for lv in op.levels:
            others = f"with others = {_expr(lv.others)}" if lv.others is not None else ""
            levels.append(_words("top-nested", _expr(lv.count) if lv.count is not None else "",
                                 f"of {_assignment(lv.of)}", others, f"by {_assignment(lv.by)}",
                                 "asc" if lv.ascending else ""))
        return ", ".join(levels)
    if isinstance(op, A.Partition):
        sub = " | ".join(_operator(o) for o in op.subquery)
        return _words("partition", _options(op.options), f"by {format_name(op.key)}", f"({sub})")
    if isinstance(op, A.Scan):
        head = f"with_match_id = {format_name(op.match_id)}" if op.match_id else ""
        declare = ""
        if op.declare:
            decls = [f"{format_name(d.name)}: {d.type_name}" + (f" = {_expr(d.default)}" if d.default is not None else "")
                     for d in op.declare]
            declare = f"declare ({', '.join(decls)})"
        steps = []
        for st in op.steps:
            output = f" output = {st.output}" if st.output != "all" else ""
            body = f"step {format_name(st.name)}{output}: {_expr(st.condition)}"
            if st.assignments:
                body += f" => {_assignments(st.assignments)}"
            steps.append(body + ";")
        return _words("scan", head, declare, f"with ({' '.join(steps)})")
    if isinstance(op, A.MakeSeries):
        aggs = []
        for a, d in zip(op.aggregates, op.defaults, strict=True):
            aggs.append(_assignment(a) + (f" default = {_expr(d)}" if d is not None else ""))
        if op.range_syntax:
            assert op.start is not None and op.end is not None
            axis = f"on {_expr(op.axis)} in range({_expr(op.start)}, {_expr(op.end)}, {_expr(op.step)})"
        else:
            axis = _words(f"on {_expr(op.axis)}", f"from {_expr(op.start)}" if op.start is not None else "",
                          f"to {_expr(op.end)}" if op.end is not None else "", f"step {_expr(op.step)}")
        by = f"by {_assignments(op.by)}" if op.by else ""
        return _words("make-series", _options(op.options), ", ".join(aggs), axis, by)
    if isinstance(op, A.Invoke):
        return f"invoke {_pipe(op.call)}"
    if isinstance(op, A.Parse):
        parts = []
        for part in op.parts:
            if part.kind == "text":
                parts.append(quote_string(part.value))
            elif part.kind == "star":
                parts.append("*")
            else:
                parts.append(format_name(part.value) + (f": {part.type_name}" if part.type_name else ""))
        keyword = op.keyword if op.keyword in ("parse", "parse-where") else "parse"
        return _words(keyword, _options(op.options), _expr(op.source), "with", " ".join(parts))
    if isinstance(op, A.Sort):
        keyword = op.keyword if op.keyword in ("sort", "order") else "sort"
        return f"{keyword} by {', '.join(_sort_key(k) for k in op.keys)}"
    if isinstance(op, A.Take):
        return f"{op.keyword if op.keyword in ('take', 'limit') else 'take'} {_expr(op.count)}"
    if isinstance(op, A.Top):
        return f"top {_expr(op.count)} by {_sort_key(op.key)}"
    if isinstance(op, A.Count):
        return "count" if op.name == "Count" else f"count as {format_name(op.name)}"
    if isinstance(op, A.Distinct):
        return f"distinct {', '.join(_expr(c) for c in op.columns)}"
    if isinstance(op, A.Serialize):
        return _words("serialize", _assignments(op.items))
    if isinstance(op, A.As):
        return f"as {format_name(op.name)}"
    if isinstance(op, A.Getschema):
        return "getschema"
    if isinstance(op, A.Render):
        options = ", ".join(f"{o.name}={_option_value(o.value)}" for o in op.options)
        return _words("render", op.chart, f"with ({options})" if options else "")
    if isinstance(op, A.Unsupported):
        return op.name
    raise TypeError(f"cannot print operator {type(op).__name__}")


# ---------------------------------------------------------------- statements


def _statement(s: A.Statement) -> str:
    if isinstance(s, A.SetOption):
        return f"set {s.name}" + (f" = {_expr(s.value)}" if s.value is not None else "")
    if isinstance(s, A.Let):
        if isinstance(s.value, A.FunctionLiteral):
            value = _function(s.value)
        else:
            value = _pipe(s.value)
            if _VIEW.match(value):  # `let x = view ...` would start a function literal
                value = f"({value})"
        return f"let {format_name(s.name)} = {value}"
    if isinstance(s, A.QueryStatement):
        text = _pipe(s.expr)
        return f"({text})" if _STATEMENT_WORD.match(text) else text  # `(let) + 1` is no let statement
    raise TypeError(f"cannot print statement {type(s).__name__}")


def _script(script: A.Script) -> str:
    return ";\n".join(_statement(s) for s in script.statements)


def to_kql(node: A.Node) -> str:
    """Canonical KQL text for any AST node; `parse(to_kql(script))` gives back `script`, spans aside."""
    return _pipe(node)
