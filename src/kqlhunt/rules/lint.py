"""Lint hunting rules: findings with codes and positions, from the parse, the binding and the anatomy.

Codes (KHL = kqlhunt lint; compiler diagnostics keep their KH codes):
    KHL100  the query does not parse or bind (the compiler's diagnostic, its code in the message)
    KHL101  a value that can never match a known enumeration (ActionType, RemoteIPType, Protocol)
    KHL102  a case-sensitive comparison whose value differs from the known value only by case
    KHL103  an unknown column (the binder's KH211, with its suggestions)
    KHL201  a let that nothing uses
    KHL202  no time filter on a table the rule reads
    KHL203  next()/prev()/row_* without a serialized input
    KHL204  `contains` where `has` would do (a whole-term value)
    KHL205  a case-sensitive `in`/`==` on file names or paths (Windows names are case-insensitive)
    KHL206  a join whose side reads a large table without a time window
    KHL207  make_timespan with fractional seconds: valid KQL (note, not a problem)

A finding is suppressed by a comment on its line or the line above:
    // kqlhunt-ignore                 every code
    // kqlhunt-ignore: KHL101, KHL204  only these
and for the whole query by `// kqlhunt-ignore-file[: CODES]`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

from kqlhunt.diagnostics import Diagnostic, KqlError, Severity, Span
from kqlhunt.rules import vocab
from kqlhunt.rules.anatomy import TIME_COLUMNS, Anatomy, LineIndex, analyse
from kqlhunt.rules.predicates import Predicate
from kqlhunt.semantic import bound as B
from kqlhunt.syntax import ast as A

RULES: dict[str, tuple[str, Severity]] = {
    "KHL100": ("The query does not compile", Severity.ERROR),
    "KHL101": ("Value can never match the column's known values", Severity.WARNING),
    "KHL102": ("Case-sensitive comparison with a value that differs only by case", Severity.WARNING),
    "KHL103": ("Unknown column", Severity.ERROR),
    "KHL201": ("Unused let", Severity.WARNING),
    "KHL202": ("No time filter", Severity.WARNING),
    "KHL203": ("next()/prev() without a serialized input", Severity.ERROR),
    "KHL204": ("contains where has would do", Severity.INFO),
    "KHL205": ("Case-sensitive match on file names", Severity.WARNING),
    "KHL206": ("Join without a time window on a large table", Severity.WARNING),
    "KHL207": ("make_timespan with fractional seconds (valid)", Severity.INFO),
}
_ENUM_COLUMNS = ("ActionType", "RemoteIPType", "LocalIPType", "Protocol")
_FILE_FIELD = re.compile(r"(FileName|FolderPath|ProcessName|Image)$")
_WINDOW_FNS = frozenset({"next", "prev", "row_number", "row_cumsum", "row_rank_dense", "row_rank_min",
                         "row_window_session"})
# Operators after which rows are serialized (Kusto: sort/order, serialize, top, take/limit, range, ...).
_SERIALIZING = (A.Sort, A.Serialize, A.Top, A.Take)
_KEEPS_ORDER = (A.Where, A.Extend, A.Project, A.ProjectAway, A.ProjectKeep, A.ProjectRename, A.ProjectReorder,
                A.Parse, A.MvExpand, A.As, A.Render)
_SUPPRESS = re.compile(r"//\s*kqlhunt-ignore(?P<file>-file)?\b(?:\s*:\s*(?P<codes>[A-Z0-9, ]+))?")


def diag(code: str, message: str, span: Span | None, *hints: str) -> Diagnostic:
    return Diagnostic(code, message, span, RULES[code][1], tuple(hints))


def lint_query(query: str, schema: str = "auto", schemas: Mapping[str, list[tuple[str, str]]] | None = None,
               anatomy: Anatomy | None = None, failure: Exception | None = None,
               script: A.Script | None = None) -> list[Diagnostic]:
    """Every finding for one query, suppressions applied, in source order. `anatomy` (or the `failure` of
    computing it) saves analysing the query again."""
    out: list[Diagnostic] = []
    if anatomy is None:
        try:
            if failure is not None:
                raise failure  # the caller's attempt: report it without binding again
            anatomy = analyse(query, schema=schema, schemas=schemas)  # type: ignore[arg-type]
        except KqlError as exc:
            d = exc.diagnostics[0]
            if d.code == "KH253":  # the binder's "next() needs a serialized row set": our KHL203
                out.append(diag("KHL203", d.message, d.span, *d.hints))
            elif d.code == "KH211":  # unknown column or variable
                out.append(diag("KHL103", d.message, d.span, *d.hints))
            else:
                out.append(diag("KHL100", f"{d.code}: {d.message}", d.span, *d.hints))
            out.extend(_syntax_only(query, script))
        except (ValueError, NotImplementedError, RecursionError) as exc:
            out.append(diag("KHL100", f"{type(exc).__name__}: {exc}", None))
            out.extend(_syntax_only(query, script))
    if anatomy is not None and anatomy.script is not None:
        out.extend(_values(query, anatomy))
        out.extend(_unused_lets(anatomy.script))
        out.extend(_time_filter(anatomy))
        out.extend(_serialization(anatomy.script))
        out.extend(_contains(query, anatomy))
        out.extend(_file_case(anatomy))
        if anatomy.bound is not None:
            out.extend(_joins(anatomy.bound))
        out.extend(_make_timespan(anatomy.script))
    # the binder refuses an unserialized next() too: one finding, ours, with the fix in its hint
    serial = {d.span for d in out if d.code == "KHL203"}
    unique = {(d.code, d.span): d for d in out if not (d.code == "KHL100" and d.span in serial)}.values()
    return _suppress(query, sorted(unique, key=lambda d: (d.span.start if d.span else -1, d.code)))


def _syntax_only(query: str, script: A.Script | None = None) -> list[Diagnostic]:
    """The checks that need only the parse, for a query that does not bind."""
    from kqlhunt.syntax.parser import parse

    if script is None:
        try:
            script = parse(query)
        except KqlError:
            return []
    return _unused_lets(script) + _serialization(script) + _make_timespan(script)


# ------------------------------------------------------------------------------------------------ checks

def _predicates(anatomy: Anatomy) -> list[Predicate]:
    return anatomy.indicators + anatomy.exclusions


def _values(query: str, anatomy: Anatomy) -> list[Diagnostic]:
    out = []
    for p in _predicates(anatomy):
        if p.field not in _ENUM_COLUMNS or p.kind not in ("eq", "in") or p.through or p.span is None:
            continue
        known = vocab.known_values(anatomy.tables, p.field)
        if not known:
            continue
        cased = "cased" in p.transforms
        lowered = {k.lower(): k for k in known}
        for value in p.values:
            span = _value_span(query, p.span, value)
            if value in known:
                continue
            if value.lower() in lowered:
                if cased:
                    out.append(diag("KHL102", f"`{value}` never equals {p.field} values exactly: the comparison "
                                    f"is case-sensitive and Defender logs `{lowered[value.lower()]}`", span,
                                    f"use `{lowered[value.lower()]}`, or =~ / in~"))
                continue
            close = difflib.get_close_matches(value, known, n=1, cutoff=0.75)
            hint = (f"did you mean `{close[0]}`?",) if close else (f"known values: {', '.join(known)}",)
            out.append(diag("KHL101", f"{p.field} is never `{value}` in {', '.join(anatomy.tables)}: "
                            "this value can never match", span, *hint))
    return out


def _value_span(query: str, span: Span, value: str) -> Span:
    text = query[span.start:span.end]
    for quoted in (f'"{value}"', f"'{value}'", value):
        i = text.find(quoted)
        if i >= 0:
            return Span(span.start + i, span.start + i + len(quoted))
    return span


def _unused_lets(script: A.Script) -> list[Diagnostic]:
    from kqlhunt.rules.anatomy import _names

    out = []
    statements = script.statements
    used = [_names(st.value if isinstance(st, A.Let) else st) for st in statements]
    for i, st in enumerate(statements):
        if not isinstance(st, A.Let):
            continue
        if not any(st.name in names for names in used[i + 1:]):
            out.append(diag("KHL201", f"let `{st.name}` is never used", st.name_span,
                            "remove it, or use it where it was meant to apply"))
    return out


def _time_filter(anatomy: Anatomy) -> list[Diagnostic]:
    covered = {w.table for w in anatomy.time_windows}
    if None in covered:
        return []
    missing = [t for t in anatomy.tables if t not in covered]
    if not missing or anatomy.script is None:
        return []
    span = _first_name(anatomy.script, missing[0])
    return [diag("KHL202", f"no time filter on {', '.join(missing)}: the rule reads the whole retention",
                 span, f"add `| where {TIME_COLUMNS[0]} > ago(7d)` (or TimeGenerated in Sentinel)")]


def _first_name(node: object, name: str) -> Span | None:
    stack = [node]
    while stack:
        n = stack.pop(0)
        if isinstance(n, A.Name) and n.name == name:
            return n.span
        if isinstance(n, tuple | list):
            stack[:0] = list(n)
        elif isinstance(n, A.Node):
            stack[:0] = [getattr(n, f) for f in n.__dataclass_fields__ if f != "span"]
    return None


def _serialization(script: A.Script) -> list[Diagnostic]:
    out: list[Diagnostic] = []

    def pipeline(ops: tuple[A.Operator, ...], serialized: bool) -> None:
        for op in ops:
            if isinstance(op, A.MvApply):
                # mv-apply's subquery runs on one row's expanded array, in array order: serialized.
                pipeline(op.subquery, True)
                serialized = False
                continue
            if isinstance(op, A.Extend | A.Project | A.Where | A.Serialize) and not serialized \
                    and not isinstance(op, A.Serialize):
                for call in _calls(op):
                    if call.name in _WINDOW_FNS:
                        out.append(diag("KHL203", f"{call.name}() needs a serialized input (after sort, "
                                        "serialize, top or take)", call.span,
                                        "add `| serialize` or `| sort by ...` before this operator"))
            if isinstance(op, _SERIALIZING):
                serialized = True
            elif not isinstance(op, _KEEPS_ORDER):
                serialized = False

    for expr in _pipelines(script):
        pipeline(expr.ops, isinstance(expr.source, A.RangeSource))
    return out


def _pipelines(node: object) -> list[A.Pipeline]:
    found = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Pipeline):
            found.append(n)
        if isinstance(n, tuple | list):
            stack.extend(n)
        elif isinstance(n, A.Node):
            stack.extend(getattr(n, f) for f in n.__dataclass_fields__ if f != "span")
    return found


def _calls(node: object) -> list[A.Call]:
    found = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Call):
            found.append(n)
        if isinstance(n, A.Pipeline):
            continue  # nested pipelines are checked on their own
        if isinstance(n, tuple | list):
            stack.extend(n)
        elif isinstance(n, A.Node):
            stack.extend(getattr(n, f) for f in n.__dataclass_fields__ if f != "span")
    return found


def _contains(query: str, anatomy: Anatomy) -> list[Diagnostic]:
    out = []
    for p in _predicates(anatomy):
        if p.kind != "contains" or p.span is None or not p.values:
            continue
        if all(re.fullmatch(r"[A-Za-z0-9]{3,}", v) for v in p.values):
            out.append(diag("KHL204", f"`contains` {', '.join(p.values)}: when the data holds it as a whole term, "
                            "`has` makes the same match through the term index, much faster", p.span,
                            "has matches whole terms only (has \"Amsi\" does not match AmsiScriptDetection): keep "
                            "contains when the value can sit inside a longer word"))
    return out


def _file_case(anatomy: Anatomy) -> list[Diagnostic]:
    out = []
    for p in _predicates(anatomy):
        if p.kind in ("eq", "in") and "cased" in p.transforms and _FILE_FIELD.search(p.field) \
                and not p.through and any(any(c.isalpha() for c in v) for v in p.values):
            op = "in~" if p.kind == "in" else "=~"
            out.append(diag("KHL205", f"case-sensitive match on {p.field}: Windows file names and paths are "
                            "case-insensitive (cmd.exe, CMD.EXE and Cmd.exe are one file)", p.span,
                            f"use {op}"))
    return out


def _joins(bound: B.BoundQuery) -> list[Diagnostic]:
    from kqlhunt.rules.anatomy import _walk

    out = []
    for node in _walk(bound.rel):
        if not isinstance(node, B.BJoin):
            continue
        for side in (node.left, node.right):
            tables = [n.name for n in _walk(side) if isinstance(n, B.BTable)]
            if tables and not _has_time_filter(side):
                out.append(diag("KHL206", f"{node.operator} over {', '.join(dict.fromkeys(tables))} without a time "
                                "window on that side: the join reads the whole retention", node.span,
                                "filter the side on Timestamp/TimeGenerated before joining"))
                break
    return out


def _has_time_filter(rel: B.BRel) -> bool:
    from kqlhunt.rules.anatomy import _walk

    for n in _walk(rel):
        if isinstance(n, B.BFilter):
            stack = [n.predicate]
            while stack:
                e = stack.pop()
                if isinstance(e, B.BCol) and (e.name in TIME_COLUMNS or e.type.name == "datetime"):
                    return True
                stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, B.BExpr))
    return False


def _make_timespan(script: A.Script) -> list[Diagnostic]:
    out = []
    for call in _calls(script):
        if call.name == "make_timespan" and any(isinstance(a, A.Literal) and isinstance(a.value, float)
                                                and not float(a.value).is_integer() for a in call.args):
            out.append(diag("KHL207", "make_timespan with fractional seconds is valid KQL (Kusto computes the "
                            "exact timespan); Microsoft's query editor flags it as an error, wrongly", call.span))
    return out


# ------------------------------------------------------------------------------------------------ suppression

def _suppress(query: str, found: list[Diagnostic]) -> list[Diagnostic]:
    if "kqlhunt-ignore" not in query:
        return found
    lines = query.splitlines()
    file_codes: set[str] | None = None
    per_line: dict[int, set[str] | None] = {}
    for i, line in enumerate(lines, start=1):
        for m in _SUPPRESS.finditer(line):
            codes = {c.strip() for c in (m.group("codes") or "").split(",") if c.strip()} or None
            if m.group("file"):
                file_codes = None if codes is None else (file_codes or set()) | codes
                if codes is None:
                    return []
            else:
                for target in (i, i + 1):
                    per_line[target] = None if codes is None or per_line.get(target, set()) is None \
                        else per_line.get(target, set()) | codes
    locate = LineIndex(query)
    kept = []
    for d in found:
        if file_codes and d.code in file_codes:
            continue
        if d.span is not None:
            line = locate(d.span.start)[0]
            if line in per_line and (per_line[line] is None or d.code in per_line[line]):
                continue
        kept.append(d)
    return kept
