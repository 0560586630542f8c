"""Lexer and parser: shapes of the AST for the syntax the seed hunts use, and precise errors."""

from __future__ import annotations

from datetime import datetime

import pytest

from kqlhunt import KqlError
from kqlhunt.diagnostics import line_col
from kqlhunt.syntax import ast as A
from kqlhunt.syntax.lexer import T, tokenize
from kqlhunt.syntax.parser import parse


def query(text: str) -> A.Expr:
    statement = parse(text).statements[-1]
    assert isinstance(statement, A.QueryStatement)
    return statement.expr


def ops(text: str) -> tuple[A.Operator, ...]:
    e = query(text)
    assert isinstance(e, A.Pipeline)
    return e.ops


# ---------------------------------------------------------------- lexer


@pytest.mark.parametrize(("text", "ticks"), [
    ("1d", 864_000_000_000), ("30d", 30 * 864_000_000_000), ("1s", 10_000_000), ("1.5h", 54_000_000_000),
    ("100ms", 1_000_000), ("10microsecond", 100), ("3tick", 3), ("2min", 1_200_000_000),
])
def test_timespan_literals_are_ticks(text: str, ticks: int) -> None:
    tok = tokenize(text)[0]
    assert tok.kind is T.TIMESPAN and tok.value == ticks


def test_strings_escapes_and_verbatim() -> None:
    toks = tokenize(r"""'a\'b' "c\"d" @'x\y' @"p""q" h'secret' 'tab\t'""")
    assert [t.text for t in toks[:-1]] == ["a'b", 'c"d', r"x\y", 'p"q', "secret", "tab\t"]


def test_comments_are_skipped_and_hyphenated_operators_glued() -> None:
    toks = tokenize("T // comment | where\n| project-away *1 | mv-apply x")
    texts = [t.text for t in toks if t.kind is not T.EOF]
    assert texts == ["T", "|", "project-away", "*", "1", "|", "mv-apply", "x"]


def test_minus_between_names_is_not_glued() -> None:
    texts = [t.text for t in tokenize("a-b")[:-1]]
    assert texts == ["a", "-", "b"]


def test_datetime_raw_literal() -> None:
    lit = query("print datetime(2017-01-02 03:04:05.5)")
    assert isinstance(lit, A.PrintSource)
    value = lit.items[0].expr
    assert isinstance(value, A.Literal) and value.value == datetime(2017, 1, 2, 3, 4, 5, 500000)


# ---------------------------------------------------------------- parser shapes


def test_precedence_and_or_comparison_arithmetic() -> None:
    e = query("T | where a + 1 * 2 > 3 and b == 'x' or c")
    where = ops_of(e)[0]
    assert isinstance(where, A.Where)
    top = where.predicate
    assert isinstance(top, A.Binary) and top.op == "or"
    left = top.left
    assert isinstance(left, A.Binary) and left.op == "and"
    cmp = left.left
    assert isinstance(cmp, A.Binary) and cmp.op == ">"
    add = cmp.left
    assert isinstance(add, A.Binary) and add.op == "+" and isinstance(add.right, A.Binary) and add.right.op == "*"


def ops_of(e: A.Expr) -> tuple[A.Operator, ...]:
    assert isinstance(e, A.Pipeline)
    return e.ops


@pytest.mark.parametrize(("text", "op"), [
    ("x in (1, 2)", "in"), ("x !in (1)", "!in"), ("x in~ ('a')", "in~"), ("x !in~ ('a')", "!in~"),
    ("x has_any ('a')", "has_any"),
])
def test_membership_operators(text: str, op: str) -> None:
    where = ops(f"T | where {text}")[0]
    assert isinstance(where, A.Where) and isinstance(where.predicate, A.InList)
    assert where.predicate.op == op


@pytest.mark.parametrize("op", ["has", "!has", "contains", "!contains", "startswith", "!startswith", "endswith",
                                "!endswith", "has_cs", "=~", "!~", "matches regex"])
def test_string_operators(op: str) -> None:
    where = ops(f"T | where x {op} 'a'")[0]
    assert isinstance(where, A.Where) and isinstance(where.predicate, A.Binary)
    assert where.predicate.op == op


def test_between_with_datetime_range() -> None:
    where = ops("T | where Timestamp between (ago(1d)..ago(1s))")[0]
    assert isinstance(where, A.Where) and isinstance(where.predicate, A.Between)


def test_extend_tuple_target_and_named_items() -> None:
    extend = ops("T | extend (a, b, c) = series_stats(x), d = 1, e")[0]
    assert isinstance(extend, A.Extend)
    assert [i.names for i in extend.items] == [("a", "b", "c"), ("d",), ()]


def test_summarize_hints_aggregates_and_by() -> None:
    s = ops("T | summarize hint.strategy=shuffle make_set(Timestamp), n = count() by DeviceId, bin(t, 1h)")[0]
    assert isinstance(s, A.Summarize)
    assert [(h.name, h.value.value) for h in s.hints] == [("hint.strategy", "shuffle")]  # type: ignore[attr-defined]
    assert len(s.aggregates) == 2 and len(s.by) == 2


def test_join_kinds_and_conditions() -> None:
    j = ops("T | join kind=leftouter (U | where x) on a, $left.b == $right.c")[0]
    assert isinstance(j, A.Join)
    assert j.options[0].name == "kind"
    assert isinstance(j.on[0], A.Name)
    cond = j.on[1]
    assert isinstance(cond, A.Binary) and isinstance(cond.left, A.JoinSide) and cond.left.side == "left"


def test_mv_apply_with_subquery() -> None:
    m = ops("T | mv-apply t to typeof(datetime) on (extend n = next(t) | where n > t)")[0]
    assert isinstance(m, A.MvApply)
    assert m.items[0].to_type == "datetime"
    assert [type(o).__name__ for o in m.subquery] == ["Extend", "Where"]


def test_mv_expand_several_columns_one_typed() -> None:
    m = ops("T | mv-expand a, b to typeof(double)")[0]
    assert isinstance(m, A.MvExpand)
    assert [i.to_type for i in m.items] == [None, "real"]


def test_sort_defaults_and_nulls() -> None:
    s = ops("T | order by a asc, b desc nulls first, c")[0]
    assert isinstance(s, A.Sort)
    assert [(k.ascending, k.nulls_first) for k in s.keys] == [(True, None), (False, True), (None, None)]


def test_let_statements_materialize_datatable_and_dynamic() -> None:
    script = parse("let a = 1d; let L = dynamic(['x', 2]); let D = datatable(n:string)['a', 'b'];"
                   " let M = materialize(T | take 1); M")
    lets = [s for s in script.statements if isinstance(s, A.Let)]
    assert [s.name for s in lets] == ["a", "L", "D", "M"]
    assert isinstance(lets[1].value, A.Literal) and lets[1].value.value == ["x", 2]
    assert isinstance(lets[2].value, A.Datatable)
    assert isinstance(lets[3].value, A.Call) and lets[3].value.name == "materialize"


def test_search_in_with_terms() -> None:
    src = query('search in (DeviceNetworkEvents) "tcp" and "public" | take 1')
    assert isinstance(src, A.Pipeline) and isinstance(src.source, A.SearchSource)
    pred = src.source.predicate
    assert isinstance(pred, A.Binary) and pred.op == "and"


def test_evaluate_plugin_with_named_argument() -> None:
    ev = ops("T | evaluate ipv4_lookup(L, ip, net, return_unmatched = true)")[0]
    assert isinstance(ev, A.Evaluate)
    assert isinstance(ev.plugin.args[-1], A.NamedArg) and ev.plugin.args[-1].name == "return_unmatched"


def test_function_literal() -> None:
    script = parse("let f = (a: long, b: string = 'x') { a * 2 }; print f(1)")
    let = script.statements[0]
    assert isinstance(let, A.Let) and isinstance(let.value, A.FunctionLiteral)
    assert [p.name for p in let.value.params] == ["a", "b"]


def test_spans_cover_their_text() -> None:
    text = "T | where RemotePort == 443"
    where = ops(text)[0]
    assert text[where.span.start:where.span.end] == "where RemotePort == 443"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(("text", "line", "col", "needle"), [
    ("T | where x ==", 1, 15, "expected an expression"),
    ("T\n| summarize count() by", 2, 23, "expected an expression"),
    ("T | wher x", 1, 5, "unknown tabular operator `wher`"),
    ("T | where a in (1,2", 1, 20, "expected `)`"),
    ("print x='abc", 1, 9, "unterminated string"),
    ("T | where x > 1 |", 1, 18, "expected a tabular operator"),
    ("T | project a,", 1, 15, "expected an expression"),
])
def test_syntax_errors_carry_position_and_expectation(text: str, line: int, col: int, needle: str) -> None:
    with pytest.raises(KqlError) as info:
        parse(text)
    d = info.value.diagnostics[0]
    assert d.span is not None and line_col(text, d.span.start) == (line, col)
    assert needle in d.message
    rendered = info.value.render()
    assert f"{line}:{col}:" in rendered and "^" in rendered


def test_unsupported_operator_is_parsed_and_named() -> None:
    op = ops("T | parse-kv x as (a: string) | take 1")[0]
    assert isinstance(op, A.Unsupported) and op.name == "parse-kv"


def test_too_deep_nesting_is_a_diagnostic() -> None:
    text = "print " + "(" * 500 + "1" + ")" * 500
    with pytest.raises(KqlError) as info:
        parse(text)
    assert info.value.code == "KH102"
