"""Spark rewrites shared by every family: types, the DuckDB built-ins the core lowerings use, errors.

Each rewrite states the DuckDB behaviour it keeps; the differential tests (tests/engines/spark) run the
same queries on both engines.
"""

from __future__ import annotations

from sqlglot import exp

from kqlhunt.sql.spark.translate import NotOnSpark, rewrite


def call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def num(v: int | float) -> exp.Expression:
    return exp.Literal.number(v) if v >= 0 else exp.Neg(this=exp.Literal.number(-v))


def null_if_null(x: exp.Expression, value: exp.Expression) -> exp.Expression:
    """`value`, or NULL when `x` is NULL (DuckDB's functions are null-in, null-out)."""
    return exp.Case().when(exp.Is(this=x.copy(), expression=exp.Null()), exp.Null()).else_(value)


# ------------------------------------------------------------------ types

SPARK_TYPES = {
    exp.DataType.Type.INT128: "DECIMAL(38, 0)",  # Kusto's 64-bit wrap is computed in 128 bits
    exp.DataType.Type.JSON: "STRING",  # dynamic values travel as JSON text
    exp.DataType.Type.UUID: "STRING",
}


@rewrite(exp.DataType)
def data_type(node: exp.Expression) -> exp.Expression | None:
    assert isinstance(node, exp.DataType)
    target = SPARK_TYPES.get(node.this)
    if target is not None:
        built = exp.DataType.build(target, dialect="spark")
        built.meta["duck_type"] = node.this.value  # a cast to JSON is not a cast to text (json_text.py)
        return built
    if node.this == exp.DataType.Type.INTERVAL:
        raise NotOnSpark("an INTERVAL value")
    return None


# ------------------------------------------------------------------ errors and checks


@rewrite("error")
def error_(node: exp.Expression) -> exp.Expression:
    # raise_error's message reaches the engine's error text, where the runtime-refusal mark is found
    return call("raise_error", *node.expressions)


@rewrite("isfinite")
def isfinite(node: exp.Expression) -> exp.Expression:
    x = node.expressions[0]
    finite = exp.and_(exp.Not(this=call("isnan", x.copy())),
                      exp.LT(this=call("abs", x.copy()), expression=exp.cast(exp.Literal.string("inf"), "DOUBLE")))
    return null_if_null(x, finite)


@rewrite(exp.IsInf)
def isinf(node: exp.Expression) -> exp.Expression:
    x = node.this
    return null_if_null(x, exp.EQ(this=call("abs", x.copy()), expression=exp.cast(exp.Literal.string("inf"), "DOUBLE")))


@rewrite("signbit")
def signbit(node: exp.Expression) -> exp.Expression:
    # -0.0 has its sign bit set: 1/-0.0 is -inf (Spark divides doubles by zero as IEEE when not ANSI)
    x = node.expressions[0]
    neg = exp.or_(exp.LT(this=x.copy(), expression=num(0)),
                  exp.and_(exp.EQ(this=x.copy(), expression=num(0)),
                           exp.LT(this=exp.Div(this=exp.cast(num(1), "DOUBLE"), expression=x.copy()),
                                  expression=num(0))))
    return null_if_null(x, neg)


# ------------------------------------------------------------------ lists


@rewrite("list_extract", "list_element", "array_extract")
def list_extract(node: exp.Expression) -> exp.Expression:
    # DuckDB: 1-based, negative from the end, out of range or 0 -> NULL (Spark's element_at raises on 0)
    lst, i = node.expressions
    bound = _let_value(lst, i)
    if bound is not None:
        return bound
    return exp.Case().when(exp.EQ(this=i.copy(), expression=num(0)), exp.Null()).else_(
        call("try_element_at", lst, i))


LET_INLINE_BUDGET = 6000  # characters of SQL a let may copy into its body


def _let_value(lst: exp.Expression, i: exp.Expression) -> exp.Expression | None:
    """The lowerings' `let`: list_extract(list_transform([x], lambda v: body), 1) names a value once. On
    Spark the body is written with x in place of v, because a lambda cannot call Python UDFs there."""
    if not (isinstance(i, exp.Literal) and i.this == "1" and isinstance(lst, exp.Transform)):
        return None
    source, fn_ = lst.this, lst.expression
    if not (isinstance(source, exp.Array) and len(source.expressions) == 1 and isinstance(fn_, exp.Lambda)
            and len(fn_.expressions) == 1):
        return None
    name, value = fn_.expressions[0].name, source.expressions[0]
    if not _udf_inside(value) and not _udf_inside(fn_.this):
        return None  # nothing to gain: keep the value computed once
    uses = sum(1 for n in fn_.this.walk() if _is_var(n, name))
    if uses > 1 and len(value.sql("spark")) * uses > LET_INLINE_BUDGET:
        return None  # nested lets would multiply the text (and Spark's planning time); the check refuses
    body = fn_.this.copy()
    return exp.Paren(this=body.transform(
        lambda n: exp.Paren(this=value.copy()) if _is_var(n, name) else n, copy=False))


def _is_var(n: exp.Expression, name: str) -> bool:
    """A lambda variable: a bare Identifier in a parsed body, a Column in a built one."""
    return (isinstance(n, exp.Column) and not n.table and n.name == name) or (
        isinstance(n, exp.Identifier) and n.name == name and not isinstance(n.parent, exp.Column | exp.Lambda))


def _udf_inside(e: exp.Expression) -> bool:
    return any(str(n.this).lower().startswith("kh_") for n in e.find_all(exp.Anonymous))


@rewrite(exp.Bracket)
def bracket(node: exp.Expression) -> exp.Expression | None:
    # l[i] in DuckDB is 1-based; struct['name'] is a field
    assert isinstance(node, exp.Bracket)
    if len(node.expressions) != 1:
        raise NotOnSpark("a list slice")
    key = node.expressions[0]
    if isinstance(key, exp.Literal) and key.is_string:
        return exp.Dot(this=node.this, expression=exp.to_identifier(key.this, quoted=True))
    if isinstance(key, exp.Literal):
        # sqlglot stores an integer literal index 0-based (it re-adds DuckDB's 1 when printing); any other
        # index expression stays as written, 1-based
        key = exp.Literal.number(int(key.this) + 1)
    return list_extract(call("list_extract", node.this, key))


@rewrite("list_sum")
def list_sum(node: exp.Expression) -> exp.Expression:
    # DuckDB: nulls skipped; an empty (or all-null) list sums to NULL
    lst = node.expressions[0]
    kept = exp.ArrayFilter(this=lst.copy(), expression=exp.Lambda(
        this=exp.Not(this=exp.Is(this=exp.column("kh_e"), expression=exp.Null())), expressions=[exp.to_identifier("kh_e")]))
    total = call("aggregate", call("slice", kept.copy(), num(2), num(2147483647)), call("element_at", kept.copy(), num(1)),
                 exp.Lambda(this=exp.Add(this=exp.column("kh_a"), expression=exp.column("kh_e")),
                            expressions=[exp.to_identifier("kh_a"), exp.to_identifier("kh_e")]))
    return exp.Case().when(exp.EQ(this=call("size", kept.copy()), expression=num(0)), exp.Null()).else_(total)


@rewrite("list_bool_and")
def list_bool_and(node: exp.Expression) -> exp.Expression:
    lst = node.expressions[0]
    return exp.Case().when(exp.EQ(this=call("size", lst.copy()), expression=num(0)), exp.Null()).else_(
        call("forall", lst, exp.Lambda(this=exp.column("kh_e"), expressions=[exp.to_identifier("kh_e")])))


@rewrite("list_bool_or")
def list_bool_or(node: exp.Expression) -> exp.Expression:
    lst = node.expressions[0]
    return exp.Case().when(exp.EQ(this=call("size", lst.copy()), expression=num(0)), exp.Null()).else_(
        call("exists", lst, exp.Lambda(this=exp.column("kh_e"), expressions=[exp.to_identifier("kh_e")])))


@rewrite("len", "array_length")
def list_length(node: exp.Expression) -> exp.Expression:
    # the engine sets spark.sql.legacy.sizeOfNull=false: size(NULL) is NULL, as DuckDB's len(NULL)
    if len(node.expressions) != 1:
        raise NotOnSpark("the length of a dimension")
    return call("size", node.expressions[0])


@rewrite("list_reverse")
def list_reverse(node: exp.Expression) -> exp.Expression:
    return call("reverse", *node.expressions)


@rewrite("list_position", "list_indexof", "array_position")
def list_position(node: exp.Expression) -> exp.Expression:
    # DuckDB: 1-based position or NULL when absent; Spark's array_position gives 0 when absent
    lst, x = node.expressions
    pos = call("array_position", lst, x)
    return call("nullif", pos, num(0))


@rewrite("list_slice", "array_slice")
def list_slice(node: exp.Expression) -> exp.Expression:
    # DuckDB list_slice(l, begin, end): 1-based, both ends inclusive, positive bounds only here
    args = node.expressions
    if len(args) != 3:
        raise NotOnSpark("list_slice with a step")
    lst, begin, end = args
    length = exp.Paren(this=exp.Add(this=exp.Sub(this=end.copy(), expression=begin.copy()), expression=num(1)))
    start = call("greatest", begin.copy(), num(1))
    return exp.Case().when(exp.LT(this=length.copy(), expression=num(1)), call("slice", lst.copy(), num(1), num(0))).else_(
        call("slice", lst, start, exp.Sub(this=length, expression=exp.Paren(this=exp.Sub(this=start.copy(), expression=begin)))))


# ------------------------------------------------------------------ numbers and text


@rewrite("strlen")
def strlen(node: exp.Expression) -> exp.Expression:
    return call("octet_length", *node.expressions)


@rewrite("printf", "format")
def printf(node: exp.Expression) -> exp.Expression:
    return call("format_string", *node.expressions)


@rewrite("round_even")
def round_even(node: exp.Expression) -> exp.Expression:
    return call("bround", *node.expressions)


# ------------------------------------------------------------------ time


@rewrite("epoch_us")
def epoch_us(node: exp.Expression) -> exp.Expression:
    return call("unix_micros", exp.cast(node.expressions[0], "TIMESTAMP"))


@rewrite(exp.UnixToTime)
def unix_to_time(node: exp.Expression) -> exp.Expression:
    assert isinstance(node, exp.UnixToTime)
    scale = node.args.get("scale")
    value = node.this
    if scale is None or (isinstance(scale, exp.Literal) and int(scale.this) == 0):
        micros = exp.Mul(this=exp.Paren(this=value), expression=num(1_000_000))
    elif isinstance(scale, exp.Literal) and int(scale.this) == 6:
        micros = value
    elif isinstance(scale, exp.Literal) and int(scale.this) == 3:
        micros = exp.Mul(this=exp.Paren(this=value), expression=num(1000))
    else:
        raise NotOnSpark("a timestamp from epoch units")
    return exp.cast(call("timestamp_micros", exp.cast(micros, "BIGINT")), "TIMESTAMP_NTZ")


@rewrite("to_microseconds")
def to_microseconds(node: exp.Expression) -> exp.Expression:
    n = node.expressions[0]
    seconds = exp.Div(this=exp.cast(n, "DECIMAL(38, 6)"), expression=num(1_000_000))
    return call("make_dt_interval", num(0), num(0), num(0), seconds)


@rewrite("microsecond")
def microsecond(node: exp.Expression) -> exp.Expression:
    # DuckDB: microseconds within the minute (seconds included)
    return call("pmod", call("unix_micros", exp.cast(node.expressions[0], "TIMESTAMP")), num(60_000_000))


@rewrite("to_months")
def to_months(node: exp.Expression) -> exp.Expression:
    return call("make_ym_interval", num(0), exp.cast(node.expressions[0], "INT"))


@rewrite("to_years")
def to_years(node: exp.Expression) -> exp.Expression:
    return call("make_ym_interval", exp.cast(node.expressions[0], "INT"), num(0))


# ------------------------------------------------------------------ regular expressions


def java_regex(pattern: exp.Expression) -> exp.Expression:
    """RE2 -> Java: named groups are spelled (?<name>...) in Java; `$` without (?m) is the end of text."""
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        text = pattern.this.replace("(?P<", "(?<")
        return exp.Literal.string(text)
    return call("replace", pattern, exp.Literal.string("(?P<"), exp.Literal.string("(?<"))


@rewrite(exp.RegexpLike)
def regexp_like(node: exp.Expression) -> exp.Expression:
    assert isinstance(node, exp.RegexpLike)
    if node.args.get("flag") is not None:
        raise NotOnSpark("regular-expression flags")
    return exp.RegexpLike(this=node.this, expression=java_regex(node.expression))


@rewrite(exp.RegexpFullMatch if hasattr(exp, "RegexpFullMatch") else "regexp_full_match")
def regexp_full_match(node: exp.Expression) -> exp.Expression:
    x = node.this if not isinstance(node, exp.Anonymous) else node.expressions[0]
    p = node.expression if not isinstance(node, exp.Anonymous) else node.expressions[1]
    anchored = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("^(?:"), expression=java_regex(p)),
                         expression=exp.Literal.string(")\\z"))
    return exp.RegexpLike(this=x, expression=anchored)


@rewrite(exp.RegexpExtract)
def regexp_extract(node: exp.Expression) -> exp.Expression | None:
    """DuckDB's regexp_extract(s, p, ['a', 'b']) is a struct of the named groups (each '' when there is no
    match, as Spark's regexp_extract gives); a plain group index is Spark's own."""
    assert isinstance(node, exp.RegexpExtract)
    group = node.args.get("group")
    if isinstance(group, exp.Array) or (isinstance(group, exp.Anonymous) and str(group.this).lower() == "array"):
        names = group.expressions
        fields = []
        for i, name in enumerate(names, start=1):
            if not (isinstance(name, exp.Literal) and name.is_string):
                raise NotOnSpark("regexp_extract with computed group names")
            fields.append(exp.PropertyEQ(this=exp.to_identifier(name.this), expression=exp.RegexpExtract(
                this=node.this.copy(), expression=node.expression.copy(), group=exp.Literal.number(i))))
        return exp.Case().when(exp.Is(this=node.this.copy(), expression=exp.Null()), exp.Null()).else_(
            exp.Struct(expressions=fields))
    if group is None:
        # DuckDB's default is the whole match; Spark's is group 1
        node.set("group", exp.Literal.number(0))
    return None


@rewrite("regexp_escape")
def regexp_escape(node: exp.Expression) -> exp.Expression:
    # Java's \Q...\E quotes everything but a literal \E, which is closed, escaped and reopened
    t = node.expressions[0]
    inner = call("replace", t, exp.Literal.string("\\E"), exp.Literal.string("\\E\\\\E\\Q"))
    return exp.DPipe(this=exp.DPipe(this=exp.Literal.string("\\Q"), expression=inner), expression=exp.Literal.string("\\E"))


# ------------------------------------------------------------------ table functions


@rewrite(exp.Table)
def table(node: exp.Expression) -> exp.Expression | None:
    # FROM generate_series(a, b, step) AS r(x) -> FROM explode(sequence(a, b, step)) AS r(x): both inclusive
    assert isinstance(node, exp.Table)
    series = node.this
    if isinstance(series, exp.GenerateSeries):
        if series.args.get("is_end_exclusive"):
            raise NotOnSpark("an end-exclusive series")
        args = [series.args["start"], series.args["end"]] + ([series.args["step"]] if series.args.get("step") else [])
        return exp.Table(this=call("explode", call("sequence", *args)), alias=node.args.get("alias"))
    if isinstance(series, exp.Anonymous) and str(series.this).lower() == "unnest":
        return exp.Table(this=call("explode", *series.expressions), alias=node.args.get("alias"))
    return None


# ------------------------------------------------------------------ partitioning hints


def _zip_explodes(node: exp.Select) -> None:
    """DuckDB unnests several lists in one SELECT side by side (the shorter padded with NULL); Spark allows
    one generator per SELECT: the lists are zipped (arrays_zip pads the same way) and inlined."""
    items = node.expressions
    explodes = [i for i, item in enumerate(items) if isinstance(item, exp.Alias) and isinstance(item.this, exp.Explode)]
    if len(explodes) < 2:
        return
    zipped = call("arrays_zip", *[items[i].this.this for i in explodes])
    names = [exp.to_identifier(items[i].alias, quoted=True) for i in explodes]
    generator = exp.Aliases(this=call("inline", zipped), expressions=names)
    kept = [item for i, item in enumerate(items) if i not in explodes]
    node.set("expressions", kept[:explodes[0]] + [generator] + kept[explodes[0]:])


@rewrite(exp.Select)
def select(node: exp.Expression) -> exp.Expression | None:
    assert isinstance(node, exp.Select)
    _zip_explodes(node)
    _partition_hints(node)
    return None


def _partition_hints(node: exp.Select) -> None:
    """Kusto's shuffle hints (kept on the step's SELECT by the compiler) as Spark's partitioning hints:
    `hint.shufflekey=K` repartitions the input by K, `hint.strategy=shuffle` on a join asks for a shuffled
    hash join rather than a broadcast. They change how rows travel, never the result."""
    hints = dict(node.meta.get("kql_hints", ())) if node._meta else {}
    if not hints:
        return
    spec: list[exp.Expression] = []
    key = hints.get("hint.shufflekey")
    source = node.args.get("from") or node.args.get("from_")
    if key and source is not None and isinstance(source.this, exp.Table) and not node.args.get("joins"):
        # aggregate: its single input, repartitioned by the key
        inner = exp.select("*").from_(source.this.copy())
        inner.set("hint", exp.Hint(expressions=[call("REPARTITION", exp.column(key, quoted=True))]))
        alias = source.this.alias_or_name or "kh_shuffled"
        source.set("this", exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    if node.args.get("joins") and (hints.get("hint.strategy") == "shuffle" or key):
        spec.append(call("SHUFFLE_HASH", *[exp.to_identifier(t.alias_or_name) for t in
                                           [source.this, *[j.this for j in node.args["joins"]]]
                                           if t.alias_or_name]))
    if spec:
        node.set("hint", exp.Hint(expressions=spec))


NONDETERMINISTIC = ("rand", "random", "uuid", "new_guid", "gen_random_uuid")


@rewrite(exp.With)
def with_(node: exp.Expression) -> exp.Expression | None:
    """Spark has no MATERIALIZED CTE: it may compute a step once per use. That is the same answer unless
    the step (or a step it reads) draws random values: materialize() of rand()/new_guid() promises one draw
    for every use."""
    assert isinstance(node, exp.With)
    by_name = {c.alias_or_name: c for c in node.expressions}

    def random_draws(name: str, seen: set[str]) -> bool:
        if name in seen or name not in by_name:
            return False
        seen.add(name)
        body = by_name[name].this
        for f in body.find_all(exp.Anonymous, exp.Rand, exp.Uuid):
            if not isinstance(f, exp.Anonymous) or str(f.this).lower() in NONDETERMINISTIC:
                return True
        return any(random_draws(t.name, seen) for t in body.find_all(exp.Table))

    for c in node.expressions:
        if c.args.get("materialized"):
            if random_draws(c.alias_or_name, set()):
                raise NotOnSpark("a materialized step that draws random values")
            c.set("materialized", None)
    return None


# ------------------------------------------------------------------ list aggregates


def _lam(body: exp.Expression, *names: str) -> exp.Expression:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(n) for n in names])


def _non_null(lst: exp.Expression) -> exp.Expression:
    return exp.ArrayFilter(this=lst, expression=_lam(exp.Not(this=exp.Is(this=exp.column("kh_e"), expression=exp.Null())),
                                                       "kh_e"))


def _fold(values: exp.Expression, start: exp.Expression, step: exp.Expression) -> exp.Expression:
    return call("aggregate", values, start, _lam(step, "kh_a", "kh_e"))


def _double(v: float) -> exp.Expression:
    return exp.cast(exp.Literal.string(repr(v)), "DOUBLE")


def list_statistic(lst: exp.Expression, name: str) -> exp.Expression:
    """DuckDB's list_aggregate(l, name) over the non-null elements: NULL for too few elements."""
    values = _non_null(lst)
    n = call("size", values.copy())
    a, e = exp.column("kh_a"), exp.column("kh_e")
    total = _fold(values.copy(), _double(0.0), exp.Add(this=a, expression=exp.cast(e, "DOUBLE")))
    mean = exp.Div(this=total, expression=n.copy())
    if name in ("avg", "mean", "sum", "product"):
        result = {"avg": mean, "mean": mean, "sum": total.copy(),
                  "product": _fold(values.copy(), _double(1.0), exp.Mul(this=a, expression=exp.cast(e, "DOUBLE")))}[name]
        return exp.Case().when(exp.EQ(this=n, expression=num(0)), exp.Null()).else_(result)
    if name in ("var_samp", "stddev_samp", "var_pop", "stddev_pop"):
        # Welford's running mean and sum of squared deviations, as DuckDB's variance aggregates compute them;
        # nothing from outside the fold enters its lambda (Spark cannot call UDFs there)
        def field(f: str) -> exp.Expression:
            return exp.Dot(this=exp.column("kh_a"), expression=exp.to_identifier(f))

        x = exp.cast(e.copy(), "DOUBLE")
        # built trees print without precedence parentheses: every compound operand gets its own
        count = exp.Paren(this=exp.Add(this=field("n"), expression=num(1)))
        delta = exp.Paren(this=exp.Sub(this=x, expression=field("m")))
        new_mean = exp.Paren(this=exp.Add(this=field("m"), expression=exp.Div(this=delta, expression=count)))
        new_m2 = exp.Add(this=field("s"), expression=exp.Mul(
            this=delta.copy(), expression=exp.Paren(this=exp.Sub(this=x.copy(), expression=new_mean.copy()))))

        def struct(n_: exp.Expression, m_: exp.Expression, s_: exp.Expression) -> exp.Expression:
            return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(k), expression=v)
                                           for k, v in (("n", n_), ("m", m_), ("s", s_))])

        state = _fold(values.copy(), struct(exp.cast(num(0), "BIGINT"), _double(0.0), _double(0.0)),
                      struct(count, new_mean, new_m2))
        squares = exp.Dot(this=exp.Paren(this=state), expression=exp.to_identifier("s"))
        sample = name.endswith("samp")
        variance = exp.Div(this=squares, expression=exp.Paren(this=exp.Sub(this=n.copy(), expression=num(1)))
                           if sample else n.copy())
        result = call("sqrt", variance) if name.startswith("stddev") else variance
        return exp.Case().when(exp.LT(this=n, expression=num(2 if sample else 1)), exp.Null()).else_(result)
    raise NotOnSpark(f"list_aggregate {name}")


@rewrite("list_avg", "list_mean")
def list_avg(node: exp.Expression) -> exp.Expression:
    return list_statistic(node.expressions[0], "avg")


@rewrite("list_aggregate")
def list_aggregate(node: exp.Expression) -> exp.Expression:
    lst, name = node.expressions
    if not (isinstance(name, exp.Literal) and name.is_string):
        raise NotOnSpark("list_aggregate of a computed aggregate name")
    return list_statistic(lst, name.this.lower())


# ------------------------------------------------------------------ windows


@rewrite(exp.Lead, exp.Lag)
def lead_lag(node: exp.Expression) -> exp.Expression | None:
    # Spark takes the offset as a plain integer literal only (a cast one reads as a window frame)
    offset = node.args.get("offset")
    while isinstance(offset, exp.Cast):
        offset = offset.this
    if offset is not None and not (isinstance(offset, exp.Literal) and not offset.is_string):
        raise NotOnSpark("next()/prev() with a computed offset")
    if offset is not None:
        node.set("offset", offset.copy())
    return None


@rewrite(exp.Window)
def window(node: exp.Expression) -> exp.Expression | None:
    """Spark wants an order for row_number(). A step numbering rows only to tell them apart (DuckDB: no
    order) is ordered by every column it keeps: rows that tie are identical, so whichever number each gets,
    every later use of the step (Spark may compute it once per use) sees the same rows."""
    assert isinstance(node, exp.Window)
    if node.args.get("order") is not None or not isinstance(node.this, exp.RowNumber):
        return None
    select = node.find_ancestor(exp.Select)
    if select is None:
        raise NotOnSpark("numbering rows without an order")
    keys = []
    if any(isinstance(item, exp.Star) for item in select.expressions):
        # every column of the input, whatever they are: the row's JSON text (NaN and nulls included)
        whole_row = call("to_json", exp.Struct(expressions=[exp.Star()]))
        node.set("order", exp.Order(expressions=[exp.Ordered(this=whole_row, nulls_first=True)]))
        return None
    for item in select.expressions:
        if item.find(exp.Star):
            raise NotOnSpark("numbering rows without an order")
        value = item.this if isinstance(item, exp.Alias) else item
        if value is node or value.find(exp.Window):
            continue
        keys.append(exp.Ordered(this=value.copy(), nulls_first=True))
    if not keys:
        return None  # nothing else is kept: any numbering of identical rows is the same
    node.set("order", exp.Order(expressions=keys))
    return None


@rewrite(exp.PercentileDisc)
def percentile_disc(node: exp.Expression) -> exp.Expression | None:
    """DuckDB's quantile_disc(x, p) (or a list of p) as Spark's percentile_disc(p) WITHIN GROUP (ORDER BY x):
    the same nearest-rank definition, nulls ignored (checked against DuckDB in the differential tests)."""
    if node.find_ancestor(exp.WithinGroup) is not None or node.args.get("expression") is None:
        return None
    x, p = node.this, node.expression

    def one(q: exp.Expression) -> exp.Expression:
        return exp.WithinGroup(this=exp.PercentileDisc(this=q.copy()),
                               expression=exp.Order(expressions=[exp.Ordered(this=x.copy(), nulls_first=True)]))

    if isinstance(p, exp.Array):
        return call("array", *[one(q) for q in p.expressions])
    return one(p)


# DuckDB strftime codes -> Java DateTimeFormatter letters (Spark's date_format); anything else is refused
_STRFTIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss", "%f": "SSSSSS",
             "%j": "DDD", "%%": "%"}


def java_datetime_pattern(fmt: str) -> str:
    out, literal, i = [], [], 0

    def flush() -> None:
        if literal:
            text = "".join(literal).replace("'", "''")
            out.append(f"'{text}'" if any(ch.isalpha() for ch in text) or "'" in text else text)
            literal.clear()

    while i < len(fmt):
        code = fmt[i:i + 2]
        if fmt[i] == "%":
            if code not in _STRFTIME:
                raise NotOnSpark(f"the datetime format code {code}")
            if code == "%%":
                literal.append("%")
            else:
                flush()
                out.append(_STRFTIME[code])
            i += 2
        else:
            literal.append(fmt[i])
            i += 1
    flush()
    return "".join(out)


@rewrite(exp.TimeToStr)
def time_to_str(node: exp.Expression) -> exp.Expression:
    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise NotOnSpark("a computed datetime format")
    return call("date_format", exp.cast(node.this, "TIMESTAMP"), exp.Literal.string(java_datetime_pattern(fmt.this)))


@rewrite(exp.Transform, exp.ArrayFilter)
def indexed_lambda(node: exp.Expression) -> exp.Expression | None:
    """DuckDB's list_transform/list_filter pass a 1-based index as a lambda's second parameter; Spark's
    transform/filter pass a 0-based one: the body sees index + 1."""
    fn_ = node.expression
    if not (isinstance(fn_, exp.Lambda) and len(fn_.expressions) == 2) or fn_.meta.get("spark_index"):
        return None
    index = fn_.expressions[1].name
    def bump(n: exp.Expression) -> exp.Expression:
        # a lambda variable is a bare Identifier in a parsed body, a Column in a built one
        is_var = (isinstance(n, exp.Column) and not n.table and n.name == index) or (
            isinstance(n, exp.Identifier) and n.name == index and not isinstance(n.parent, exp.Column | exp.Lambda))
        return exp.Paren(this=exp.Add(this=exp.to_identifier(index), expression=num(1))) if is_var else n

    fn_.set("this", fn_.this.transform(bump, copy=False))
    fn_.meta["spark_index"] = True
    return None


@rewrite(exp.ArrayAgg)
def array_agg(node: exp.Expression) -> exp.Expression | None:
    """DuckDB's list(x ORDER BY k): Spark's collect_list keeps no order, so the values are collected with
    their keys and sorted (struct order: keys first; a `k IS NULL` flag first puts nulls last)."""
    assert isinstance(node, exp.ArrayAgg)
    order = node.this
    if not isinstance(order, exp.Order):
        return None
    fields: list[exp.Expression] = []
    for i, o in enumerate(order.expressions):
        if o.args.get("desc"):
            raise NotOnSpark("a list collected in descending order")
        if not o.args.get("nulls_first"):
            fields.append(exp.PropertyEQ(this=exp.to_identifier(f"n{i}"),
                                         expression=exp.Is(this=o.this.copy(), expression=exp.Null())))
        fields.append(exp.PropertyEQ(this=exp.to_identifier(f"k{i}"), expression=o.this.copy()))
    fields.append(exp.PropertyEQ(this=exp.to_identifier("x"), expression=order.this.copy()))
    collected = call("collect_list", exp.Struct(expressions=fields))
    return exp.Transform(this=call("array_sort", collected),
                         expression=exp.Lambda(this=exp.Dot(this=exp.column("kh_o"), expression=exp.to_identifier("x")),
                                               expressions=[exp.to_identifier("kh_o")]))


@rewrite(exp.Filter)
def aggregate_filter(node: exp.Expression) -> exp.Expression | None:
    # an ordered list (array_agg above) is a transform of the collected list: the FILTER goes on collect_list
    inner = node.this
    if isinstance(inner, exp.Transform) and isinstance(inner.this, exp.Anonymous) and \
            str(inner.this.this).lower() == "array_sort":
        collected = inner.this.expressions[0]
        inner.this.set("expressions", [exp.Filter(this=collected, expression=node.expression)])
        return inner
    return None
