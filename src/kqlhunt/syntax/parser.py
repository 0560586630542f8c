"""Parser: tokens -> `Script` AST. Hand-written recursive descent with precedence climbing.

Grammar (precedence low to high): `or` < `and` < comparisons and string operators (non-associative,
incl. `in`, `between`, `matches regex`, `has_any`) < `+ -` < `* / %` < unary `- +` < postfix
(`.name`, `[index]`) < primary. Tabular operators follow `|`. Errors say what was expected and what was
found, at the token's span.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kqlhunt.diagnostics import KqlError, Span, error
from kqlhunt.syntax import ast as A
from kqlhunt.syntax.lexer import T, Token, tokenize
from kqlhunt.syntax.literals import SubMicrosecond, parse_datetime_text, parse_guid_text, parse_timespan_text

MAX_DEPTH = 64

COMPARISON = {"==", "!=", "<>", "<", "<=", ">", ">=", "=~", "!~"}

# String operators (word spellings). A leading `!` negates; `_cs` is case-sensitive.
STRING_OPS = {
    "has", "has_cs", "hasprefix", "hasprefix_cs", "hassuffix", "hassuffix_cs",
    "contains", "contains_cs", "startswith", "startswith_cs", "endswith", "endswith_cs",
    "like", "notlike",
}
NEGATABLE_WORD_OPS = STRING_OPS | {"in", "between"}
LIST_OPS = {"has_any", "has_all"}

TYPE_NAMES = {
    "bool": "bool", "boolean": "bool", "int": "int", "int32": "int", "long": "long", "int64": "long",
    "real": "real", "double": "real", "float": "real", "decimal": "decimal", "string": "string",
    "datetime": "datetime", "date": "datetime", "timespan": "timespan", "time": "timespan",
    "guid": "guid", "uniqueid": "guid", "uuid": "guid", "dynamic": "dynamic",
}

TYPED_LITERAL_FUNCS = {"int", "long", "real", "double", "bool", "boolean", "decimal"}

UNSUPPORTED_OPERATORS = {
    "parse-kv", "top-hitters", "sample",
    "sample-distinct", "fork", "facet", "consume", "find", "reduce",
    "project-smart", "lookup-tables", "make-graph", "graph-match", "execute",
    "search", "extend-schema", "assert-schema", "partition-by", "summarize-to",
}

SOURCE_KEYWORDS = {"print", "range", "datatable", "union", "search"}


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    # ------------------------------------------------------------ token helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        if t.kind is not T.EOF:
            self.i += 1
        return t

    def at(self, *texts: str) -> bool:
        return self.tok.is_(*texts)

    def accept(self, *texts: str) -> Token | None:
        if self.tok.is_(*texts):
            return self.advance()
        return None

    def expect(self, text: str, what: str | None = None) -> Token:
        if self.tok.is_(text):
            return self.advance()
        raise self.fail(f"expected {what or f'`{text}`'}, found {self.tok.describe()}")

    def fail(self, message: str, span: Span | None = None, *hints: str) -> KqlError:
        return error("KH100", message, span or self.tok.span, *hints)

    def prev_end(self) -> int:
        return self.tokens[self.i - 1].span.end if self.i > 0 else 0

    def span_from(self, start: int) -> Span:
        return Span(start, max(start, self.prev_end()))

    def ident(self, what: str = "a name") -> Token:
        if self.tok.kind is T.IDENT:
            return self.advance()
        raise self.fail(f"expected {what}, found {self.tok.describe()}")

    def name(self, what: str = "a name") -> tuple[str, Span]:
        """An identifier or a bracket-quoted name `['a b']`."""
        if self.at("[") and self.peek().kind is T.STRING and self.peek(2).is_("]"):
            start = self.advance().span.start
            value = self.advance().text
            self.advance()
            return value, self.span_from(start)
        t = self.ident(what)
        return t.text, t.span

    def at_name(self) -> bool:
        return self.tok.kind is T.IDENT or (
            self.at("[") and self.peek().kind is T.STRING and self.peek(2).is_("]"))

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise error("KH102", f"query is too deeply nested (more than {MAX_DEPTH} levels)", self.tok.span)

    # ------------------------------------------------------------ statements

    def parse_script(self) -> A.Script:
        statements: list[A.Statement] = []
        while self.tok.kind is not T.EOF:
            if self.accept(";"):
                continue
            statements.append(self.statement())
            if self.tok.kind is not T.EOF and not self.at(";", "}"):
                raise self.fail(f"expected `;` or `|` between statements, found {self.tok.describe()}")
        if not statements:
            raise self.fail("the query is empty")
        return A.Script(Span(0, len(self.text)), tuple(statements))

    def statement(self) -> A.Statement:
        start = self.tok.span.start
        if self.at("let"):
            self.advance()
            name, name_span = self.name("a name after `let`")
            self.expect("=")
            value = self.function_literal() if self.at_function_literal() else self.pipe()
            return A.Let(self.span_from(start), name, name_span, value)
        if self.at("set") and self.peek().kind is T.IDENT:
            self.advance()
            name = self.advance().text
            value = self.expr() if self.accept("=") else None
            return A.SetOption(self.span_from(start), name, value)
        if self.at("set", "declare", "alias", "restrict", "pattern"):
            raise error("KH300", f"the `{self.tok.text}` statement is not supported by kqlhunt yet", self.tok.span)
        expr = self.pipe()
        return A.QueryStatement(self.span_from(start), expr)

    def at_function_literal(self) -> bool:
        if self.at("view"):
            return True
        if not self.at("("):
            return False
        if self.peek().is_(")"):
            return self.peek(2).is_("{")
        return self.peek().kind is T.IDENT and self.peek(2).is_(":")

    def function_literal(self) -> A.FunctionLiteral:
        start = self.tok.span.start
        self.accept("view")
        self.expect("(")
        params: list[A.Param] = []
        while not self.at(")"):
            p_start = self.tok.span.start
            pname, _ = self.name("a parameter name")
            self.expect(":")
            type_name: str | None = None
            columns: tuple[A.ColumnDecl, ...] | None = None
            if self.at("("):
                columns = self.column_decls(allow_star=True)
            else:
                type_name = self.type_name()
            default = None
            if self.accept("="):
                default = self.expr()
            params.append(A.Param(self.span_from(p_start), pname, type_name, columns, default))
            if not self.accept(","):
                break
        self.expect(")")
        self.expect("{")
        body: list[A.Statement] = []
        while not self.at("}"):
            if self.tok.kind is T.EOF:
                raise self.fail("expected `}` to close the function body")
            if self.accept(";"):
                continue
            body.append(self.statement())
        self.expect("}")
        return A.FunctionLiteral(self.span_from(start), tuple(params), tuple(body))

    def type_name(self) -> str:
        t = self.tok
        if t.kind is T.IDENT and t.text in TYPE_NAMES:
            self.advance()
            return TYPE_NAMES[t.text]
        if t.kind is T.RAWLIT and t.text in TYPE_NAMES:  # `datetime` lexed before a `(`? not here
            self.advance()
            return TYPE_NAMES[t.text]
        raise self.fail(f"expected a type name (string, long, datetime, ...), found {t.describe()}")

    def column_decls(self, allow_star: bool = False) -> tuple[A.ColumnDecl, ...]:
        self.expect("(")
        if allow_star and self.at("*"):
            self.advance()
            self.expect(")")
            return ()
        return self.column_decl_items()

    def column_decl_items(self) -> tuple[A.ColumnDecl, ...]:
        """`name: type, ...)` -- the declarations after an opening parenthesis, and the closing one."""
        cols: list[A.ColumnDecl] = []
        while not self.at(")"):
            c_start = self.tok.span.start
            cname, _ = self.name("a column name")
            self.expect(":")
            cols.append(A.ColumnDecl(self.span_from(c_start), cname, self.type_name()))
            if not self.accept(","):
                break
        self.expect(")")
        return tuple(cols)

    # ------------------------------------------------------------ tabular

    def pipe(self) -> A.Expr:
        start = self.tok.span.start
        source = self.source()
        ops: list[A.Operator] = []
        while self.accept("|"):
            ops.append(self.operator())
        if not ops:
            return source
        return A.Pipeline(self.span_from(start), source, tuple(ops))

    def source(self) -> A.Expr:
        t = self.tok
        if t.kind is T.IDENT and t.text in SOURCE_KEYWORDS:
            nxt = self.peek()
            if t.text == "print":
                return self.print_source()
            if t.text == "range" and nxt.kind is T.IDENT and self.peek(2).is_("from"):
                return self.range_source()
            if t.text == "datatable" and nxt.is_("("):
                return self.datatable()
            if t.text == "union":
                start = self.advance().span.start
                options = self.options({"kind", "withsource", "isfuzzy", "hint.concurrency", "hint.spread"})
                tables = self.union_tables()
                return A.UnionSource(self.span_from(start), options, tables)
            if t.text == "search" and not nxt.is_("("):
                return self.search_source()
        if t.kind is T.IDENT and t.text == "find" and self.peek().kind in (T.IDENT, T.STRING):
            return self.find_source()
        if t.kind is T.IDENT and t.text == "externaldata" and self.peek().is_("("):
            return self.externaldata()
        return self.expr()

    def print_source(self) -> A.PrintSource:
        start = self.advance().span.start
        items = self.assignments()
        return A.PrintSource(self.span_from(start), tuple(items))

    def range_source(self) -> A.RangeSource:
        start = self.advance().span.start
        column, _ = self.name("a column name after `range`")
        self.expect("from")
        lo = self.expr()
        self.expect("to")
        hi = self.expr()
        self.expect("step")
        step = self.expr()
        return A.RangeSource(self.span_from(start), column, lo, hi, step)

    def datatable(self) -> A.Datatable:
        start = self.advance().span.start
        columns = self.column_decls()
        if not columns:
            raise self.fail("datatable needs at least one column")
        self.expect("[", "`[` to start the datatable values")
        values: list[A.Expr] = []
        while not self.at("]"):
            values.append(self.expr())
            if not self.accept(","):
                break
        self.expect("]", "`]` to close the datatable values")
        return A.Datatable(self.span_from(start), columns, tuple(values))

    def parenthesized(self, item: Callable[[], A.Expr]) -> tuple[A.Expr, ...]:
        """`( item, item, ... )`: the tables of `search in` / `find in`."""
        self.expect("(")
        items = [item()]
        while self.accept(","):
            items.append(item())
        self.expect(")")
        return tuple(items)

    def find_source(self) -> A.FindSource:
        start = self.advance().span.start
        options = self.options({"withsource"})
        if not (self.at("in") and self.peek().is_("(")):
            raise error("KH300", "`find` without `in (tables)` (searching every table) is not supported by kqlhunt "
                        "yet", self.tok.span)
        self.advance()
        tables = self.parenthesized(self.union_table)
        self.expect("where", "`where` and the predicate")
        predicate = self.expr()
        project: tuple[A.ColumnDecl, ...] | None = None
        if self.accept("project-smart"):
            project = None
        elif self.accept("project"):
            cols: list[A.ColumnDecl] = []
            while True:
                c_start = self.tok.span.start
                if self.at("pack_all"):
                    raise error("KH300", "`find ... project pack_all()` is not supported by kqlhunt yet", self.tok.span)
                name, _ = self.name("a column name")
                type_name = self.type_name() if self.accept(":") else ""
                cols.append(A.ColumnDecl(self.span_from(c_start), name, type_name))
                if not self.accept(","):
                    break
            project = tuple(cols)
        return A.FindSource(self.span_from(start), options, tables, predicate, project)

    def externaldata(self) -> A.ExternalData:
        start = self.advance().span.start
        columns = self.column_decls()
        if not columns:
            raise self.fail("externaldata needs at least one column")
        self.expect("[", "`[` and the data's URIs")
        uris: list[str] = []
        while self.tok.kind is T.STRING:
            uri = self.advance().text
            while self.tok.kind is T.STRING:  # adjacent literals concatenate
                uri += self.advance().text
            uris.append(uri)
            if not self.accept(","):
                break
        if not uris:
            raise self.fail(f"expected a URI string inside `[...]`, found {self.tok.describe()}")
        self.expect("]", "`]` after the URIs")
        options: list[A.NamedArg] = []
        if self.accept("with"):
            self.expect("(")
            while not self.at(")"):
                o_start = self.tok.span.start
                key = self.ident("an option name").text
                self.expect("=")
                v = self.tok
                if v.kind in (T.STRING, T.IDENT):
                    value: A.Expr = A.Literal(v.span, "string", v.text)
                elif v.kind is T.LONG:
                    value = A.Literal(v.span, "long", v.value)
                else:
                    raise self.fail(f"expected a value for option `{key}`, found {v.describe()}")
                self.advance()
                options.append(A.NamedArg(self.span_from(o_start), key, value))
                if not self.accept(","):
                    break
            self.expect(")")
        return A.ExternalData(self.span_from(start), columns, tuple(uris), tuple(options))

    def search_source(self) -> A.SearchSource:
        start = self.advance().span.start
        options = self.options({"kind"})
        tables: tuple[A.Expr, ...] = ()
        if self.at("in") and self.peek().is_("("):
            self.advance()
            tables = self.parenthesized(self.pipe)
        predicate = self.expr()
        if self.at(":"):
            raise error("KH300", "`search` with `Column:term` predicates is not supported by kqlhunt yet",
                        self.tok.span)
        return A.SearchSource(self.span_from(start), options, tables, predicate)

    def union_tables(self) -> tuple[A.Expr, ...]:
        items = [self.union_table()]
        while self.accept(","):
            items.append(self.union_table())
        return tuple(items)

    def union_table(self) -> A.Expr:
        if self.tok.kind is T.IDENT and (self.peek().is_("*") and self.peek().span.start == self.tok.span.end):
            raise error("KH300", "`union` with table wildcards is not supported by kqlhunt yet", self.tok.span)
        if self.at("*"):
            raise error("KH300", "`union` with table wildcards is not supported by kqlhunt yet", self.tok.span)
        if self.at("("):
            self.advance()
            inner = self.pipe()
            self.expect(")")
            return inner
        return self.postfix()

    def options(self, allowed: set[str]) -> tuple[A.NamedArg, ...]:
        """`kind=inner hint.strategy=shuffle withsource=T` option lists before an operator's body."""
        out: list[A.NamedArg] = []
        while self.tok.kind is T.IDENT:
            # dotted option names: hint.strategy, hint.shufflekey, hint.materialized
            k = 0
            parts = [self.peek(0).text]
            while self.peek(k + 1).is_(".") and self.peek(k + 2).kind is T.IDENT:
                parts.append(self.peek(k + 2).text)
                k += 2
            if not self.peek(k + 1).is_("="):
                break
            key = ".".join(parts)
            if key not in allowed and not key.startswith("hint."):
                break
            start = self.tok.span.start
            for _ in range(k + 2):
                self.advance()
            if self.tok.kind in (T.IDENT, T.LONG, T.STRING, T.REAL):
                value_tok = self.advance()
                value: A.Expr = A.Literal(value_tok.span, "string", value_tok.text) \
                    if value_tok.kind in (T.IDENT, T.STRING) else A.Literal(value_tok.span, "long", value_tok.value)
            else:
                raise self.fail(f"expected a value for option `{key}`, found {self.tok.describe()}")
            out.append(A.NamedArg(self.span_from(start), key, value))
        return tuple(out)

    def operator(self) -> A.Operator:
        t = self.tok
        start = t.span.start
        if t.kind is not T.IDENT:
            raise self.fail(f"expected a tabular operator after `|`, found {t.describe()}")
        word = t.text
        handler = OPERATORS.get(word)
        if handler is None:
            if word in UNSUPPORTED_OPERATORS:
                self.advance()
                self.skip_to_pipe_end()
                return A.Unsupported(self.span_from(start), word)
            raise self.fail(f"unknown tabular operator `{word}`", t.span,
                            "operators include where, extend, project, summarize, join, sort, take")
        self.advance()
        op = handler(self, start)
        return op

    def skip_to_pipe_end(self) -> None:
        depth = 0
        while self.tok.kind is not T.EOF:
            if self.at("(", "[", "{"):
                depth += 1
            elif self.at(")", "]", "}"):
                if depth == 0:
                    return
                depth -= 1
            elif depth == 0 and self.at("|", ";"):
                return
            self.advance()

    # ------------------------------------------------------------ operator bodies

    def op_where(self, start: int) -> A.Operator:
        predicate = self.expr()
        return A.Where(self.span_from(start), predicate, "where")

    def op_filter(self, start: int) -> A.Operator:
        predicate = self.expr()
        return A.Where(self.span_from(start), predicate, "filter")

    def op_extend(self, start: int) -> A.Operator:
        items = tuple(self.assignments())
        return A.Extend(self.span_from(start), items)

    def op_project(self, start: int) -> A.Operator:
        items = tuple(self.assignments())
        return A.Project(self.span_from(start), items)

    def name_patterns(self) -> tuple[A.NamePattern, ...]:
        pats: list[A.NamePattern] = []
        while True:
            p_start = self.tok.span.start
            text = ""
            # A pattern is a run of identifier chars and `*`, written without spaces (`*1`, `Device*`).
            if self.at("[") and self.peek().kind is T.STRING:
                text, _ = self.name()
            else:
                while self.tok.kind in (T.IDENT, T.LONG) or self.at("*"):
                    if text and self.tok.span.start != self.prev_end():
                        break
                    text += self.advance().text
                if not text:
                    raise self.fail(f"expected a column name or pattern, found {self.tok.describe()}")
            order = None
            if self.at("asc", "desc"):
                order = self.advance().text
            elif self.at("granny") and self.peek().is_("-") and self.peek(2).is_("asc", "desc"):
                self.advance()
                self.advance()
                order = "granny-" + self.advance().text
            pats.append(A.NamePattern(self.span_from(p_start), text, order))
            if not self.accept(","):
                return tuple(pats)

    def op_project_away(self, start: int) -> A.Operator:
        patterns = self.name_patterns()
        return A.ProjectAway(self.span_from(start), patterns)

    def op_project_keep(self, start: int) -> A.Operator:
        patterns = self.name_patterns()
        return A.ProjectKeep(self.span_from(start), patterns)

    def op_project_reorder(self, start: int) -> A.Operator:
        patterns = self.name_patterns()
        return A.ProjectReorder(self.span_from(start), patterns)

    def op_project_rename(self, start: int) -> A.Operator:
        pairs: list[tuple[str, str, Span]] = []
        while True:
            p_start = self.tok.span.start
            new, _ = self.name("a new column name")
            self.expect("=")
            old, _ = self.name("an existing column name")
            pairs.append((new, old, self.span_from(p_start)))
            if not self.accept(","):
                break
        return A.ProjectRename(self.span_from(start), tuple(pairs))

    def op_summarize(self, start: int) -> A.Operator:
        hints = self.options(set())
        aggregates: list[A.Assignment] = []
        if not self.at("by"):
            aggregates = self.assignments()
        by: list[A.Assignment] = []
        if self.accept("by"):
            by = self.assignments()
        return A.Summarize(self.span_from(start), hints, tuple(aggregates), tuple(by))

    def op_join(self, start: int) -> A.Operator:
        options = self.options({"kind", "withsource"})
        right = self.join_right()
        on: list[A.Expr] = []
        if self.accept("on"):
            on.append(self.expr())
            while self.accept(","):
                on.append(self.expr())
        elif self.at("where"):
            raise error("KH300", "`join ... where` is not supported by kqlhunt yet; use `on`", self.tok.span)
        return A.Join(self.span_from(start), options, right, tuple(on))

    def join_right(self) -> A.Expr:
        if self.at("("):
            self.nest()
            self.advance()
            inner = self.pipe()
            self.expect(")")
            self.depth -= 1
            return inner
        return self.postfix()

    def op_lookup(self, start: int) -> A.Operator:
        options = self.options({"kind"})
        right = self.join_right()
        self.expect("on")
        on = [self.expr()]
        while self.accept(","):
            on.append(self.expr())
        return A.Lookup(self.span_from(start), options, right, tuple(on))

    def op_union(self, start: int) -> A.Operator:
        options = self.options({"kind", "withsource", "isfuzzy"})
        return A.Union(self.span_from(start), options, self.union_tables())

    def mv_items(self) -> tuple[A.MvItem, ...]:
        items: list[A.MvItem] = []
        while True:
            i_start = self.tok.span.start
            item_name: str | None = None
            if self.at_name() and (self.peek().is_("=") or (self.at("[") and self.peek(3).is_("="))):
                item_name, _ = self.name()
                self.expect("=")
            e = self.expr()
            to_type = None
            if self.accept("to"):
                self.expect("typeof")
                self.expect("(")
                to_type = self.type_name()
                self.expect(")")
            items.append(A.MvItem(self.span_from(i_start), item_name, e, to_type))
            if not self.accept(","):
                return tuple(items)

    def mv_limit(self) -> A.Expr | None:
        if self.accept("limit"):
            return self.expr()
        return None

    def op_mv_expand(self, start: int) -> A.Operator:
        options = self.options({"kind", "bagexpansion", "with_itemindex"})
        items = self.mv_items()
        limit = self.mv_limit()
        return A.MvExpand(self.span_from(start), options, items, limit)

    def op_mv_apply(self, start: int) -> A.Operator:
        options = self.options({"kind", "with_itemindex"})
        items = self.mv_items()
        limit = self.mv_limit()
        self.expect("on", "`on` and a subquery in parentheses")
        self.expect("(")
        self.nest()
        ops = [self.operator()]
        while self.accept("|"):
            ops.append(self.operator())
        self.depth -= 1
        self.expect(")")
        return A.MvApply(self.span_from(start), options, items, limit, tuple(ops))

    def op_evaluate(self, start: int) -> A.Operator:
        options = self.options(set())
        if self.tok.kind is not T.IDENT or not self.peek().is_("("):
            raise self.fail(f"expected a plugin call after `evaluate`, found {self.tok.describe()}")
        plugin = self.primary()
        if not isinstance(plugin, A.Call):
            raise self.fail("expected a plugin call after `evaluate`", plugin.span)
        schema: tuple[A.ColumnDecl, ...] | None = None
        star = False
        if self.accept(":"):
            if self.at("(") and self.peek().is_("*"):
                self.advance()
                self.advance()
                star = True
                if self.at(")"):
                    self.advance()
                    schema = ()
                else:
                    self.expect(",")
                    schema = self.column_decl_items()
            else:
                schema = self.column_decls()
        return A.Evaluate(self.span_from(start), options, plugin, schema, star)

    def op_parse(self, start: int, keyword: str = "parse") -> A.Operator:
        options = self.options({"kind", "flags"})
        source = self.expr()
        self.expect("with", "`with` and a pattern after the parsed expression")
        parts: list[A.ParsePart] = []
        while not (self.tok.kind is T.EOF or self.at("|", ")", ";")):
            p_start = self.tok.span.start
            if self.tok.kind is T.STRING:
                value = self.advance().text
                while self.tok.kind is T.STRING:  # adjacent literals concatenate
                    value += self.advance().text
                parts.append(A.ParsePart(self.span_from(p_start), "text", value))
            elif self.at("*"):
                self.advance()
                parts.append(A.ParsePart(self.span_from(p_start), "star"))
            elif self.at_name():
                name, _ = self.name("a column name")
                type_name = self.type_name() if self.accept(":") else None
                parts.append(A.ParsePart(self.span_from(p_start), "column", name, type_name))
            else:
                raise self.fail(f"expected a string, a column name or `*` in the parse pattern, "
                                f"found {self.tok.describe()}")
        if not parts:
            raise self.fail("expected a parse pattern after `with`")
        return A.Parse(self.span_from(start), options, source, tuple(parts), keyword)

    def op_top_nested(self, start: int) -> A.Operator:
        levels: list[A.TopNestedLevel] = []
        while True:
            l_start = self.tok.span.start if levels else start
            count = None if self.at("of") else self.expr()
            self.expect("of", "`of` and the expression of this level")
            of = self.assignment()
            others = None
            if self.at("with") and self.peek().is_("others"):
                self.advance()
                self.advance()
                self.expect("=")
                others = self.expr()
            self.expect("by", "`by` and the aggregation of this level")
            by = self.assignment()
            ascending = False
            if self.accept("asc"):
                ascending = True
            else:
                self.accept("desc")
            levels.append(A.TopNestedLevel(self.span_from(l_start), count, of, others, by, ascending))
            if not (self.at(",") and self.peek().is_("top-nested")):
                break
            self.advance()
            self.advance()
        return A.TopNested(self.span_from(start), tuple(levels))

    def op_partition(self, start: int) -> A.Operator:
        options = self.options(set())
        self.expect("by", "`by` and the partition column")
        key, _ = self.name("a column name")
        if not self.at("("):
            raise error("KH300", "`partition` with a `{ ... }` body or a name is not supported by kqlhunt yet; "
                        "use `partition by Col ( operators )`", self.tok.span)
        self.advance()
        self.nest()
        ops = [self.operator()]
        while self.accept("|"):
            ops.append(self.operator())
        self.depth -= 1
        self.expect(")")
        return A.Partition(self.span_from(start), options, key, tuple(ops))

    def op_scan(self, start: int) -> A.Operator:
        match_id = None
        if self.at("with_match_id"):
            self.advance()
            self.expect("=")
            match_id, _ = self.name("a column name for the match id")
        declare: list[A.ScanDecl] = []
        if self.accept("declare"):
            self.expect("(")
            while not self.at(")"):
                d_start = self.tok.span.start
                name, _ = self.name("a column name")
                self.expect(":")
                type_name = self.type_name()
                default = self.expr() if self.accept("=") else None
                declare.append(A.ScanDecl(self.span_from(d_start), name, type_name, default))
                if not self.accept(","):
                    break
            self.expect(")")
        self.expect("with", "`with` and the scan steps in parentheses")
        self.expect("(")
        steps: list[A.ScanStep] = []
        while self.at("step"):
            s_start = self.advance().span.start
            name, _ = self.name("a step name")
            output = "all"
            if self.at("output") and self.peek().is_("="):
                self.advance()
                self.advance()
                out_tok = self.ident("all, last or none")
                output = out_tok.text
                if output not in ("all", "last", "none"):
                    raise self.fail("a step's output must be all, last or none", out_tok.span)
            self.expect(":")
            condition = self.expr()
            assignments: list[A.Assignment] = []
            if self.accept("=>"):
                assignments = self.assignments()
            self.expect(";", "`;` after the step")
            steps.append(A.ScanStep(self.span_from(s_start), name, output, condition, tuple(assignments)))
        if not steps:
            raise self.fail(f"expected `step`, found {self.tok.describe()}")
        self.expect(")")
        return A.Scan(self.span_from(start), match_id, tuple(declare), tuple(steps))

    def op_make_series(self, start: int) -> A.Operator:
        options = self.options({"kind"})
        aggregates: list[A.Assignment] = []
        defaults: list[A.Expr | None] = []
        while True:
            aggregates.append(self.assignment())
            default: A.Expr | None = None
            if self.at("default") and self.peek().is_("="):
                self.advance()
                self.advance()
                default = self.expr()
            defaults.append(default)
            if not self.accept(","):
                break
        self.expect("on", "`on` and the axis column")
        axis = self.additive()  # not expr(): `on t in range(...)` must not read as the `in` operator
        lo: A.Expr | None = None
        hi: A.Expr | None = None
        range_syntax = False
        if self.at("in") and self.peek().is_("range"):
            self.advance()
            self.advance()
            self.expect("(")
            lo = self.expr()
            self.expect(",")
            hi = self.expr()
            self.expect(",")
            step = self.expr()
            self.expect(")")
            range_syntax = True
        else:
            if self.accept("from"):
                lo = self.expr()
            if self.accept("to"):
                hi = self.expr()
            self.expect("step", "`step` and the bin size")
            step = self.expr()
        by: list[A.Assignment] = []
        if self.accept("by"):
            by = self.assignments()
        return A.MakeSeries(self.span_from(start), options, tuple(aggregates), tuple(defaults), axis, lo, hi,
                            step, tuple(by), range_syntax)

    def op_invoke(self, start: int) -> A.Operator:
        if self.tok.kind is not T.IDENT or not self.peek().is_("("):
            raise self.fail(f"expected a function call after `invoke`, found {self.tok.describe()}")
        call = self.primary()
        if not isinstance(call, A.Call):
            raise self.fail("expected a function call after `invoke`", call.span)
        return A.Invoke(self.span_from(start), call)

    def op_parse_where(self, start: int) -> A.Operator:
        return self.op_parse(start, "parse-where")

    def sort_key(self) -> A.SortKey:
        k_start = self.tok.span.start
        e = self.expr()
        asc: bool | None = None
        nulls: bool | None = None
        if self.accept("asc"):
            asc = True
        elif self.accept("desc"):
            asc = False
        if self.accept("nulls"):
            if self.accept("first"):
                nulls = True
            elif self.accept("last"):
                nulls = False
            else:
                raise self.fail(f"expected `first` or `last` after `nulls`, found {self.tok.describe()}")
        return A.SortKey(self.span_from(k_start), e, asc, nulls)

    def op_sort(self, start: int, keyword: str = "sort") -> A.Operator:
        self.options(set())
        self.expect("by", "`by` after `sort`/`order`")
        keys = [self.sort_key()]
        while self.accept(","):
            keys.append(self.sort_key())
        return A.Sort(self.span_from(start), tuple(keys), keyword)

    def op_order(self, start: int) -> A.Operator:
        return self.op_sort(start, "order")

    def op_take(self, start: int, keyword: str = "take") -> A.Operator:
        self.options(set())
        count = self.expr()
        return A.Take(self.span_from(start), count, keyword)

    def op_limit(self, start: int) -> A.Operator:
        return self.op_take(start, "limit")

    def op_top(self, start: int) -> A.Operator:
        count = self.expr()
        self.expect("by", "`by` after `top N`")
        key = self.sort_key()
        return A.Top(self.span_from(start), count, key)

    def op_count(self, start: int) -> A.Operator:
        if self.accept("as"):
            name, _ = self.name("a column name after `count as`")
            return A.Count(self.span_from(start), name)
        return A.Count(self.span_from(start))

    def op_distinct(self, start: int) -> A.Operator:
        self.options(set())
        if self.at("*"):
            t = self.advance()
            return A.Distinct(self.span_from(start), (A.Star(t.span),))
        cols = [self.expr()]
        while self.accept(","):
            cols.append(self.expr())
        return A.Distinct(self.span_from(start), tuple(cols))

    def op_serialize(self, start: int) -> A.Operator:
        items: list[A.Assignment] = []
        if self.at_name() and not self.at("as"):
            items = self.assignments()
        return A.Serialize(self.span_from(start), tuple(items))

    def op_as(self, start: int) -> A.Operator:
        self.options(set())
        name, _ = self.name("a name after `as`")
        return A.As(self.span_from(start), name)

    def op_getschema(self, start: int) -> A.Operator:
        return A.Getschema(self.span_from(start))

    def op_render(self, start: int) -> A.Operator:
        chart = self.ident("a chart type after `render`").text
        self.skip_to_pipe_end()
        return A.Render(self.span_from(start), chart, ())

    # ------------------------------------------------------------ assignments

    def assignments(self) -> list[A.Assignment]:
        items = [self.assignment()]
        while self.accept(","):
            items.append(self.assignment())
        return items

    def assignment(self) -> A.Assignment:
        start = self.tok.span.start
        names: tuple[str, ...] = ()
        if self.at("(") and self._tuple_target_ahead():
            self.advance()
            collected = [self.name("a column name")[0]]
            while self.accept(","):
                collected.append(self.name("a column name")[0])
            self.expect(")")
            self.expect("=")
            names = tuple(collected)
        elif self.at_name():
            width = 3 if self.at("[") else 1
            if self.peek(width).is_("="):
                names = (self.name()[0],)
                self.expect("=")
        e = self.expr()
        return A.Assignment(self.span_from(start), names, e)

    def _tuple_target_ahead(self) -> bool:
        k = 1
        while True:
            t = self.peek(k)
            if t.kind is T.IDENT:
                k += 1
            elif t.is_("[") and self.peek(k + 1).kind is T.STRING and self.peek(k + 2).is_("]"):
                k += 3
            else:
                return False
            if self.peek(k).is_(","):
                k += 1
                continue
            return self.peek(k).is_(")") and self.peek(k + 1).is_("=") and not self.peek(k + 1).is_("==")

    # ------------------------------------------------------------ expressions

    def expr(self) -> A.Expr:
        self.nest()
        try:
            return self.or_expr()
        finally:
            self.depth -= 1

    def or_expr(self) -> A.Expr:
        left = self.and_expr()
        while self.at("or"):
            self.advance()
            right = self.and_expr()
            left = A.Binary(left.span.cover(right.span), "or", left, right)
        return left

    def and_expr(self) -> A.Expr:
        left = self.comparison()
        while self.at("and"):
            self.advance()
            right = self.comparison()
            left = A.Binary(left.span.cover(right.span), "and", left, right)
        return left

    def word_operator(self) -> tuple[str, int] | None:
        """Recognise a comparison-level word operator at the cursor: (spelling, tokens to consume)."""
        t = self.tok
        if t.is_("!") and self.peek().kind is T.IDENT and self.peek().span.start == t.span.end:
            word = self.peek().text
            if word in NEGATABLE_WORD_OPS:
                if word == "in" and self.peek(2).is_("~") and self.peek(2).span.start == self.peek().span.end:
                    return "!in~", 3
                return "!" + word, 2
            return None
        if t.kind is not T.IDENT:
            return None
        if t.text == "in":
            if self.peek().is_("~") and self.peek().span.start == t.span.end:
                return "in~", 2
            return "in", 1
        if t.text in STRING_OPS or t.text in LIST_OPS or t.text in ("between", "notbetween"):
            return t.text, 1
        if t.text == "matches" and self.peek().is_("regex"):
            return "matches regex", 2
        return None

    def comparison(self) -> A.Expr:
        left = self.additive()
        t = self.tok
        if t.kind is T.PUNCT and t.text in COMPARISON:
            self.advance()
            right = self.additive()
            op = "!=" if t.text == "<>" else t.text
            return A.Binary(left.span.cover(right.span), op, left, right)
        word = self.word_operator()
        if word is None:
            return left
        op, width = word
        for _ in range(width):
            self.advance()
        if op in ("in", "!in", "in~", "!in~", "has_any", "has_all"):
            items = self.paren_list()
            return A.InList(self.span_from(left.span.start), op, left, items)
        if op in ("between", "!between", "notbetween"):
            self.expect("(")
            low = self.additive()
            self.expect("..", "`..` between the bounds of `between`")
            high = self.additive()
            self.expect(")")
            return A.Between(self.span_from(left.span.start), op != "between", left, low, high)
        right = self.additive()
        return A.Binary(left.span.cover(right.span), op, left, right)

    def paren_list(self) -> tuple[A.Expr, ...]:
        self.expect("(", "`(` and a list of values")
        items: list[A.Expr] = []
        while not self.at(")"):
            items.append(self.pipe())
            if not self.accept(","):
                break
        self.expect(")")
        return tuple(items)

    def additive(self) -> A.Expr:
        left = self.multiplicative()
        while self.at("+", "-"):
            op = self.advance().text
            right = self.multiplicative()
            left = A.Binary(left.span.cover(right.span), op, left, right)
        return left

    def multiplicative(self) -> A.Expr:
        left = self.unary()
        while self.at("*", "/", "%"):
            op = self.advance().text
            right = self.unary()
            left = A.Binary(left.span.cover(right.span), op, left, right)
        return left

    def unary(self) -> A.Expr:
        if self.at("-", "+"):
            t = self.advance()
            self.nest()
            try:
                operand = self.unary()
            finally:
                self.depth -= 1
            # Fold `-5` and `-1d` into literals: datatable rows and dynamic lists rely on it.
            if isinstance(operand, A.Literal) and operand.kind in ("long", "real", "timespan", "int", "decimal") \
                    and operand.value is not None:
                value = operand.value if t.text == "+" else -operand.value  # type: ignore[operator]
                return A.Literal(t.span.cover(operand.span), operand.kind, value)
            return A.Unary(t.span.cover(operand.span), t.text, operand)
        return self.postfix()

    def postfix(self) -> A.Expr:
        e = self.primary()
        while True:
            if self.at(".") and (self.peek().kind is T.IDENT or self.peek().kind is T.RAWLIT):
                self.advance()
                t = self.advance()
                e = A.Member(e.span.cover(t.span), e, t.text)
            elif self.at(".") and self.peek().is_("["):  # `bag.[key]` is `bag[key]`
                self.advance()
                self.advance()
                idx = self.expr()
                end = self.expect("]").span
                e = A.Index(e.span.cover(end), e, idx)
            elif self.at("[") and (not isinstance(e, A.Literal) or e.kind == "dynamic"):
                self.advance()
                idx = self.expr()
                end = self.expect("]").span
                e = A.Index(e.span.cover(end), e, idx)
            else:
                return e

    def primary(self) -> A.Expr:
        t = self.tok
        if t.kind is T.STRING:
            self.advance()
            value = t.text
            span = t.span
            while self.tok.kind is T.STRING:  # adjacent literals concatenate: 'a' 'b' == 'ab'
                nxt = self.advance()
                value += nxt.text
                span = span.cover(nxt.span)
            return A.Literal(span, "string", value)
        if t.kind is T.LONG:
            self.advance()
            return A.Literal(t.span, "long", t.value)
        if t.kind is T.REAL:
            self.advance()
            return A.Literal(t.span, "real", t.value)
        if t.kind is T.TIMESPAN:
            self.advance()
            return A.Literal(t.span, "timespan", t.value)
        if t.kind is T.RAWLIT:
            self.advance()
            return self.raw_literal(t)
        if t.is_("("):
            self.nest()
            self.advance()
            inner = self.pipe()
            if self.at(","):
                raise self.fail("unexpected `,` inside parentheses", self.tok.span,
                                "tuple targets are written `extend (a, b) = f(x)`")
            self.expect(")")
            self.depth -= 1
            return inner
        if t.is_("[") and self.peek().kind is T.STRING and self.peek(2).is_("]"):
            name, span = self.name()
            return A.Name(span, name, quoted=True)
        if t.is_("*"):
            self.advance()
            return A.Star(t.span)
        if t.kind is T.IDENT:
            return self.identifier_primary()
        raise self.fail(f"expected an expression, found {t.describe()}")

    def identifier_primary(self) -> A.Expr:
        t = self.advance()
        word = t.text
        if word in ("$left", "$right"):
            self.expect(".", f"`.` and a column name after `{word}`")
            col, col_span = self.name("a column name")
            return A.JoinSide(t.span.cover(col_span), word[1:], col)
        if word in ("true", "false") and not self.at("("):
            return A.Literal(t.span, "bool", word == "true")
        if word == "null" and not self.at("("):
            return A.Literal(t.span, "null", None)
        if not self.at("("):
            return A.Name(t.span, word)
        if word == "dynamic":
            self.advance()
            value = self.dynamic_value()
            end = self.expect(")").span
            return A.Literal(t.span.cover(end), "dynamic", value)
        if word == "typeof":
            self.advance()
            type_name = self.type_name()
            end = self.expect(")").span
            return A.TypeRef(t.span.cover(end), type_name)
        if word in TYPED_LITERAL_FUNCS:
            return self.typed_literal(t)
        self.advance()  # (
        args: list[A.Expr] = []
        while not self.at(")"):
            args.append(self.argument())
            if not self.accept(","):
                break
        end = self.expect(")", "`)` to close the argument list").span
        return A.Call(t.span.cover(end), word, tuple(args), t.span)

    def argument(self) -> A.Expr:
        if self.tok.kind is T.IDENT and self.peek().is_("=") and self.tok.text not in ("$left", "$right"):
            start = self.tok.span.start
            key = self.advance().text
            self.advance()
            value = self.pipe()
            return A.NamedArg(self.span_from(start), key, value)
        return self.pipe()

    def typed_literal(self, t: Token) -> A.Expr:
        kind = TYPE_NAMES[t.text]
        self.advance()  # (
        inner = self.tok
        sign = 1
        if inner.is_("-", "+"):
            sign = -1 if inner.text == "-" else 1
            self.advance()
            inner = self.tok
        value: object
        if inner.kind is T.IDENT and inner.text == "null":
            value = None
        elif kind == "bool" and inner.kind is T.IDENT and inner.text in ("true", "false"):
            value = inner.text == "true"
        elif kind == "bool" and inner.kind is T.LONG:
            value = inner.value != 0
        elif kind == "real" and inner.kind is T.IDENT and inner.text.lower() in ("nan", "inf", "infinity"):
            value = float("nan") if inner.text.lower() == "nan" else sign * float("inf")
        elif inner.kind in (T.LONG, T.REAL) and kind != "bool":
            value = sign * inner.value  # type: ignore[operator]
            if kind in ("int", "long"):
                if isinstance(value, float):
                    raise self.fail(f"{t.text}() literal needs an integer", inner.span)
            elif kind == "real":
                value = float(value)
            elif kind == "decimal":
                from decimal import Decimal, InvalidOperation
                try:
                    value = Decimal(inner.text) * sign
                except InvalidOperation:
                    raise self.fail(f"invalid decimal literal `{inner.text}`", inner.span) from None
        else:
            raise self.fail(f"expected a literal inside {t.text}(...), found {inner.describe()}", inner.span)
        self.advance()
        end = self.expect(")").span
        if kind == "int" and value is not None and not (-(2 ** 31) <= value <= 2 ** 31 - 1):  # type: ignore[operator]
            raise self.fail("int() literal out of range", t.span.cover(end))
        return A.Literal(t.span.cover(end), kind, value)

    def raw_literal(self, t: Token) -> A.Literal:
        kind = TYPE_NAMES[t.text]
        content = str(t.value)
        if content == "null":
            return A.Literal(t.span, kind, None)
        try:
            if kind == "datetime":
                return A.Literal(t.span, kind, parse_datetime_text(content))
        except SubMicrosecond as exc:
            raise error("KH300", f"{exc}", t.span) from None
        except ValueError as exc:
            raise self.fail(f"invalid {t.text} literal `{content}`: {exc}", t.span) from None
        try:
            if kind == "timespan":
                return A.Literal(t.span, kind, parse_timespan_text(content))
            return A.Literal(t.span, kind, parse_guid_text(content))
        except SubMicrosecond as exc:  # text whose Kusto value kqlhunt cannot give exactly
            raise error("KH300", f"{exc}", t.span) from None
        except ValueError as exc:
            raise self.fail(f"invalid {t.text} literal `{content}`: {exc}", t.span) from None

    def dynamic_value(self) -> object:
        """The JSON-like body of `dynamic(...)`: arrays, bags and scalar literals."""
        t = self.tok
        if t.is_("["):
            self.advance()
            items: list[object] = []
            while not self.at("]"):
                items.append(self.dynamic_value())
                if not self.accept(","):
                    break
            self.expect("]")
            return items
        if t.is_("{"):
            self.advance()
            bag: dict[str, object] = {}
            while not self.at("}"):
                key_tok = self.advance()
                if key_tok.kind not in (T.STRING, T.IDENT):
                    raise self.fail(f"expected a property name, found {key_tok.describe()}", key_tok.span)
                self.expect(":")
                bag[key_tok.text] = self.dynamic_value()
                if not self.accept(","):
                    break
            self.expect("}")
            return bag
        if t.is_("-", "+"):
            self.advance()
            v = self.dynamic_value()
            if not isinstance(v, int | float) or isinstance(v, bool):
                raise self.fail("expected a number after a sign", t.span)
            if isinstance(v, DynamicTimespan):  # -1d stays a timespan
                return DynamicTimespan(-v) if t.text == "-" else v
            return -v if t.text == "-" else v
        if t.kind is T.STRING:
            self.advance()
            return t.text
        if t.kind in (T.LONG, T.REAL):
            self.advance()
            return t.value
        if t.kind is T.TIMESPAN:
            self.advance()
            return DynamicTimespan(int(t.value))  # type: ignore[arg-type]
        if t.kind is T.RAWLIT:
            self.advance()
            lit = self.raw_literal(t)
            if isinstance(lit.value, datetime):
                return lit.value
            if lit.kind == "timespan":
                return DynamicTimespan(int(lit.value)) if lit.value is not None else None  # type: ignore[arg-type]
            return lit.value
        if t.kind is T.IDENT and t.text in ("true", "false", "null"):
            self.advance()
            return {"true": True, "false": False, "null": None}[t.text]
        if t.is_("dynamic") and self.peek().is_("("):  # a nested dynamic(...) is its value
            self.advance()
            self.advance()
            inner = self.dynamic_value()
            self.expect(")")
            return inner
        if t.is_(")"):  # dynamic() with nothing inside is null
            return None
        raise self.fail(f"expected a value inside dynamic(...), found {t.describe()}")


class DynamicTimespan(int):
    """A timespan (in ticks) inside a dynamic literal, kept apart from plain integers."""


OPERATORS = {
    "where": Parser.op_where, "filter": Parser.op_filter, "extend": Parser.op_extend,
    "project": Parser.op_project, "project-away": Parser.op_project_away,
    "project-keep": Parser.op_project_keep, "project-rename": Parser.op_project_rename,
    "project-reorder": Parser.op_project_reorder, "summarize": Parser.op_summarize,
    "join": Parser.op_join, "lookup": Parser.op_lookup, "union": Parser.op_union,
    "mv-expand": Parser.op_mv_expand, "mv-apply": Parser.op_mv_apply, "mvexpand": Parser.op_mv_expand,
    "mvapply": Parser.op_mv_apply, "evaluate": Parser.op_evaluate,
    "sort": Parser.op_sort, "order": Parser.op_order, "take": Parser.op_take, "limit": Parser.op_limit,
    "top": Parser.op_top, "count": Parser.op_count, "distinct": Parser.op_distinct,
    "serialize": Parser.op_serialize, "as": Parser.op_as, "getschema": Parser.op_getschema,
    "render": Parser.op_render, "parse": Parser.op_parse, "parse-where": Parser.op_parse_where,
    "invoke": Parser.op_invoke, "make-series": Parser.op_make_series, "scan": Parser.op_scan,
    "partition": Parser.op_partition, "top-nested": Parser.op_top_nested,
}


def parse(text: str) -> A.Script:
    """Parse a whole query (let statements and a final tabular expression)."""
    try:
        return Parser(text).parse_script()
    except KqlError as exc:
        raise exc.with_source(text) from None
    except RecursionError:
        raise error("KH102", "query is too deeply nested", Span(0, min(len(text), 1))).with_source(text) from None


__all__ = ["parse", "Parser", "DynamicTimespan"]
