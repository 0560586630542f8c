"""Property tests of the front end: whatever the text, the parser answers with an AST or syntax
diagnostics (never another exception), and diagnostic spans stay inside the source."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kqlhunt import KqlError
from kqlhunt.syntax.parser import parse

TOKENS = ["T", "|", "where", "extend", "summarize", "by", "project", "join", "on", "(", ")", "[", "]", ",",
          "=", "==", "!", "in", "~", "has", "'s'", '"x"', "@'v'", "1", "1.5", "1d", "and", "or", "not", "let",
          ";", "datetime(2020-01-01)", "dynamic([1,2])", "$left", ".", "a", "count()", "mv-apply", "to",
          "typeof(long)", "-", "+", "*", "/", "..", "between", "{", "}", ":", "//c\n", "\n", "project-away",
          "*1", "sort", "asc", "nulls", "first", "evaluate", "search", "datatable"]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(text: str) -> None:
    try:
        parse(text)
    except KqlError as exc:
        for d in exc.diagnostics:
            assert d.code.startswith(("KH1", "KH3")), d
            assert d.span is not None
            assert 0 <= d.span.start <= d.span.end <= len(text)
        assert exc.render()


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text_gives_an_ast_or_syntax_diagnostics(text: str) -> None:
    _check(text)


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_token_soup_gives_an_ast_or_syntax_diagnostics(tokens: list[str]) -> None:
    _check(" ".join(tokens))


@SETTINGS
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["(", "-", "not("]))
def test_deep_nesting_never_overflows(depth: int, opener: str) -> None:
    closer = ")" if "(" in opener else ""
    _check("print " + opener * depth + "1" + closer * depth)
