"""DuckDB lowerings of the dynamic functions: arrays, property bags and sets (see kqlhunt.sql.functions for
the helpers and conventions).

An array arrives either as a native LIST (its element type known statically) or as JSON. Reordering and
cutting (`array_reverse`, `array_slice`, rotations, shifts, `array_concat`) run on lists, so a JSON array is
first cast to a list of JSON elements (JSON[]); NULL stands for "not an array" and gives a null result.
Kusto's order over mixed kinds (`array_sort_*`) is a sort of (kind, number, text, position) structs. Where
the rules need a JSON model (equality of dynamic values inside JSON arrays, canonical text, JSONPath edits)
the lowering calls a Python UDF from `kqlhunt.engines.runtime.dynamic` with JSON text.

Every argument that a lambda body uses is bound once outside it (`let`, `let_all`): DuckDB evaluates it
once per row that way, and allows no subquery (`toscalar()`) inside a lambda.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from kqlhunt.diagnostics import unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.fold import fold
from kqlhunt.semantic.types import KType
from kqlhunt.sql.expressions import (
    ExprCompiler,
    case,
    cast,
    col,
    fn,
    is_null,
    lam,
    null,
    number,
    paren,
    string,
    try_cast,
)
from kqlhunt.sql.functions import as_list, is_list, register, to_json, to_string
from kqlhunt.sql.types import physical

MAX_RANGE = 1_048_576  # the docs: range() stops at this many elements (frozen:range-function-04)
HOUR_TICKS = 36_000_000_000
NUMERIC_JSON = ("BIGINT", "UBIGINT", "DOUBLE")
Sql = exp.Expression


# ---------------------------------------------------------------- helpers


def let(value: Sql, var: str, body: Callable[[Sql], Sql]) -> Sql:
    """`body(var)` with `value` computed once (a one-element list_transform binds it)."""
    return fn("list_extract", fn("list_transform", exp.Array(expressions=[value]), lam(var, body(col(var)))),
              number(1))


def let_all(values: list[Sql], var: str, body: Callable[[list[Sql]], Sql]) -> Sql:
    """`let` of several values at once, as the fields of one struct (binding them one inside the other would
    put the later values inside a lambda)."""
    if len(values) == 1:
        return let(values[0], var, lambda v: body([v]))
    fields = [exp.PropertyEQ(this=exp.to_identifier(f"v{i}"), expression=v) for i, v in enumerate(values)]
    refs = [exp.Dot(this=col(var), expression=exp.to_identifier(f"v{i}", quoted=True)) for i in range(len(values))]
    return let(exp.Struct(expressions=fields), var, lambda _: body(refs))


def any_null(values: list[Sql]) -> Sql:
    out = is_null(values[0])
    for v in values[1:]:
        out = exp.Or(this=out, expression=is_null(v))
    return paren(out)


def json_elems(c: ExprCompiler, t: KType, sql: Sql, what: str, span) -> Sql:
    """The elements of any array as JSON values (JSON[]); NULL when the value is not an array."""
    if is_list(t):
        assert t.elem is not None
        return fn("list_transform", sql, lam("kh_e", to_json(c, t.elem, col("kh_e"))))
    if t.name == "null":
        return cast(null(), "JSON[]")
    return as_list(c, t, sql, what, span)


def items(c: ExprCompiler, arg: B.BExpr, sql: Sql, what: str, span) -> tuple[Sql, bool]:
    """(list, native): a native list as it is, anything else as JSON[]."""
    if is_list(arg.type):
        return sql, True
    return json_elems(c, arg.type, sql, what, span), False


def from_items(lst: Sql, native: bool) -> Sql:
    return lst if native else cast(fn("to_json", lst), "JSON")


def json_text(c: ExprCompiler, t: KType, sql: Sql) -> Sql:
    return cast(to_json(c, t, sql), "VARCHAR")


def _bigint(arg: B.BExpr, sql: Sql) -> Sql:
    return cast(sql, "BIGINT") if arg.type.name != "long" else sql


def _add(a: Sql, b: Sql) -> Sql:
    return paren(exp.Add(this=a, expression=b))


def _sub(a: Sql, b: Sql) -> Sql:
    return paren(exp.Sub(this=a, expression=b))


def _at(lst: Sql, zero_based: Sql) -> Sql:
    return fn("list_extract", lst, _add(zero_based, number(1)))


def _empty_like(lst: Sql) -> Sql:
    return fn("list_slice", lst, number(1), number(0))


def _json_kind_in(x: Sql, kinds: tuple[str, ...]) -> Sql:
    return exp.In(this=fn("json_type", x), expressions=[string(k) for k in kinds])


def const(e: B.BExpr) -> object:
    """The value of a constant argument (after folding: `-1`, `toint(2)`), else None."""
    folded = fold(e)
    return folded.value if isinstance(folded, B.BLit) else None


def json_path(key: str) -> list[str] | None:
    """Kusto's JSONPath subset as a list of property names: `$.a.b`, `$['a b']`, `$["a"]`; a key that does
    not start with `$` names one root property. None for what kqlhunt cannot follow: array indexing
    (`[0]`), the root itself, or a malformed path."""
    if not key.startswith("$"):
        return [key]
    names: list[str] = []
    i = 1
    while i < len(key):
        if key[i] == ".":
            j = i + 1
            while j < len(key) and key[j] not in ".[":
                j += 1
            if j == i + 1:
                return None
            names.append(key[i + 1:j])
            i = j
        elif key[i] == "[" and i + 1 < len(key) and key[i + 1] in "'\"":
            end = key.find(key[i + 1] + "]", i + 2)
            if end < 0:
                return None
            names.append(key[i + 2:end])
            i = end + 2
        else:
            return None  # `[n]` (array indexing) or stray text
    return names or None


# ---------------------------------------------------------------- reordering and cutting


@register("array_reverse")
def array_reverse(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    lst, native = items(c, e.args[0], a[0], "array_reverse()", e.span)
    return from_items(fn("list_reverse", lst), native)


def _rotate_left(lst: Sql, n: Sql) -> Sql:
    length = fn("len", lst)
    k = exp.Mod(this=paren(exp.Add(this=paren(exp.Mod(this=n, expression=length)), expression=length)),
                expression=length)
    rotated = fn("list_concat", fn("list_slice", lst, _add(k, number(1)), length), fn("list_slice", lst, number(1), k))
    return case((is_null(lst), lst), (exp.EQ(this=length, expression=number(0)), lst), default=rotated)


@register("array_rotate_left", "array_rotate_right")
def array_rotate(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    lst, native = items(c, e.args[0], a[0], f"{e.fn}()", e.span)
    n = _bigint(e.args[1], a[1])
    if e.fn.endswith("right"):
        n = exp.Neg(this=paren(n))
    return from_items(let_all([lst, n], "kh_r", lambda v: _rotate_left(*v)), native)


@register("array_shift_left", "array_shift_right")
def array_shift(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    arr = e.args[0]
    elem = arr.type.elem
    native = elem is not None and e.type == arr.type  # a fill of another type makes the result JSON
    lst = a[0] if native else json_elems(c, arr.type, a[0], f"{e.fn}()", e.span)
    list_type = physical(arr.type) if native else "JSON[]"
    fill: Sql | None = None  # None: decided per row (_json_default)
    if len(a) > 2:
        fill = cast(a[2], physical(elem)) if native and elem is not None else to_json(c, e.args[2].type, a[2])
    elif native and elem is not None:
        # the docs: the default is null, or an empty string for an array of strings
        fill = string("") if elem.name == "string" else cast(null(), physical(elem))
    count = _bigint(e.args[1], a[1])
    if e.fn.endswith("right"):
        count = exp.Neg(this=paren(count))

    def shifted(v: list[Sql]) -> Sql:
        ll, n = v[0], v[1]
        length = fn("len", ll)
        value = v[2] if fill is not None else _json_default(ll)
        pad = cast(fn("repeat", exp.Array(expressions=[value]), fn("least", fn("abs", n), length)), list_type)
        left = fn("list_concat", fn("list_slice", ll, _add(n, number(1)), length), pad)
        right = fn("list_concat", pad, fn("list_slice", ll, number(1), _sub(length, fn("least", fn("abs", n),
                                                                                          length))))
        return case((exp.GT(this=n, expression=number(0)), left), (exp.LT(this=n, expression=number(0)), right),
                    (exp.EQ(this=n, expression=number(0)), ll), default=cast(null(), list_type))

    bound = [lst, count] + ([fill] if fill is not None else [])
    return from_items(let_all(bound, "kh_h", shifted), native)


def _json_default(ll: Sql) -> Sql:
    """The fill of a shifted JSON array without a default: "" when every element is a string, else null."""
    not_string = fn("list_filter", ll, lam("kh_s", fn("coalesce", exp.NEQ(
        this=fn("json_type", col("kh_s")), expression=string("VARCHAR")), exp.Boolean(this=True))))
    return case((exp.EQ(this=fn("len", not_string), expression=number(0)), cast(string('""'), "JSON")),
                default=cast(null(), "JSON"))


@register("array_slice")
def array_slice(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    lst, native = items(c, e.args[0], a[0], "array_slice()", e.span)

    def sliced(v: list[Sql]) -> Sql:
        ll, start, end = v
        length = fn("len", ll)

        def absolute(i: Sql) -> Sql:  # the docs: a negative index counts from the end
            return case((exp.LT(this=i, expression=number(0)), _add(length, i)), default=i)

        first = fn("greatest", absolute(start), number(0))
        last = absolute(end)
        return case((exp.LT(this=last, expression=first), _empty_like(ll)),
                    default=fn("list_slice", ll, _add(first, number(1)), _add(last, number(1))))

    return from_items(let_all([lst, _bigint(e.args[1], a[1]), _bigint(e.args[2], a[2])], "kh_sl", sliced), native)


@register("array_concat")
def array_concat(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    native = is_list(e.type)
    lists = [s if native else json_elems(c, x.type, s, "array_concat()", e.span)
             for x, s in zip(e.args, a, strict=True)]

    def body(ls: list[Sql]) -> Sql:  # Kusto: an argument that is not an array makes the result null
        return case((any_null(ls), cast(null(), physical(e.type) if native else "JSON[]")),
                    default=fn("list_concat", *ls))

    return from_items(let_all(lists, "kh_c", body), native)


@register("array_split")
def array_split(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    lst = json_elems(c, e.args[0].type, a[0], "array_split()", e.span)
    at = e.args[1]
    if at.type.name in ("int", "long"):
        indices = exp.Array(expressions=[_bigint(at, a[1])])
    elif is_list(at.type) and at.type.elem is not None and at.type.elem.name in ("int", "long"):
        indices = cast(a[1], "BIGINT[]")
    elif at.type.name == "dynamic" and at.type.elem is None:
        indices = as_list(c, at.type, a[1], "array_split()", e.span, elem="BIGINT")
    else:
        raise unsupported(f"array_split() at {at.type} positions", at.span)

    def split(ll: Sql, ix: Sql) -> Sql:
        length = fn("len", ll)
        clamped = fn("list_transform", ix, lam("kh_v", fn("least", fn("greatest", case(
            (exp.LT(this=col("kh_v"), expression=number(0)), _add(length, col("kh_v"))), default=col("kh_v")),
            number(0)), length)))
        bounds = fn("list_concat", exp.Array(expressions=[cast(number(0), "BIGINT")]), clamped,
                    exp.Array(expressions=[length]))

        def parts(bb: Sql) -> Sql:
            lo, hi = _at(bb, col("kh_k")), _at(bb, _add(col("kh_k"), number(1)))
            part = case((exp.LTE(this=hi, expression=lo), _empty_like(ll)),
                        default=fn("list_slice", ll, _add(lo, number(1)), hi))
            return fn("list_transform", fn("range", _sub(fn("len", bb), number(1))), lam("kh_k", part))

        return case((exp.Or(this=is_null(ll), expression=is_null(ix)), cast(null(), "JSON[][]")),
                    default=let(bounds, "kh_b", parts))

    return cast(fn("to_json", let_all([lst, indices], "kh_sp", lambda v: split(*v))), "JSON")


@register("zip")
def zip_(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    if len(a) > 16:
        raise unsupported("zip() of more than 16 arrays (the documented limit)", e.span)
    lists = [json_elems(c, x.type, s, "zip()", e.span) for x, s in zip(e.args, a, strict=True)]

    def body(ls: list[Sql]) -> Sql:
        longest = fn("greatest", *[fn("len", x) for x in ls])
        row = fn("json_array", *[_at(x, col("kh_i")) for x in ls])
        return case((any_null(ls), cast(null(), "JSON[]")),
                    default=fn("list_transform", fn("range", longest), lam("kh_i", row)))

    return cast(fn("to_json", let_all(lists, "kh_z", body)), "JSON")


# ---------------------------------------------------------------- sorting


def _sort_args(e: B.BCall, args: tuple[B.BExpr, ...]) -> tuple[tuple[B.BExpr, ...], bool]:
    """(the arrays, nulls_last) of an array_sort_* call."""
    if len(args) > 1 and args[-1].type.name == "bool":
        flag = const(args[-1])
        return args[:-1], flag is not False
    return args, True


def _sort_order(keys: Sql, t: KType, desc: bool, nulls_last: bool) -> Sql:
    """The 1-based positions of `keys`' elements in Kusto's order: numbers (by value), then strings, then the
    rest (bools, arrays, bags: kept in input order); nulls first or last. Equal elements keep their input
    order. Sorted as structs (group, number, text, tie); a descending sort is an ascending one reversed,
    with the tie-break negated so that equal elements still keep their order."""
    x, i = col("kh_x"), col("kh_p")
    null_group = number(3 if nulls_last != desc else -1)  # the reversal of a descending sort moves it
    if is_list(t):
        assert t.elem is not None
        group = case((is_null(x), null_group), default=number(0))
        value = x if t.elem.name != "bool" else cast(null(), "BOOLEAN")  # a bool is one of "the rest"
        text: Sql = cast(null(), "VARCHAR")
    else:
        numeric = _json_kind_in(x, NUMERIC_JSON)
        is_text = exp.EQ(this=fn("json_type", x), expression=string("VARCHAR"))
        group = case((exp.Or(this=is_null(x), expression=exp.EQ(this=fn("json_type", x), expression=string("NULL"))),
                      null_group), (numeric, number(0)), (is_text, number(1)), default=number(2))
        value = case((numeric, cast(x, "DOUBLE")), default=cast(null(), "DOUBLE"))
        text = case((is_text, fn("json_extract_string", x, string("$"))), default=cast(null(), "VARCHAR"))
    tie = exp.Neg(this=i) if desc else i
    fields = {"g": group, "n": value, "s": text, "t": tie, "p": i}
    keyed = fn("list_transform", keys, exp.Lambda(this=exp.Struct(expressions=[
        exp.PropertyEQ(this=exp.to_identifier(k), expression=v) for k, v in fields.items()]),
        expressions=[exp.to_identifier("kh_x"), exp.to_identifier("kh_p")]))
    order = fn("list_transform", fn("list_sort", keyed), lam("kh_k", exp.Dot(
        this=col("kh_k"), expression=exp.to_identifier("p", quoted=True))))
    return fn("list_reverse", order) if desc else order


def _permute(lst: Sql, order: Sql) -> Sql:
    return fn("list_transform", order, lam("kh_o", fn("list_extract", lst, col("kh_o"))))


def _sort_one(c: ExprCompiler, fn_name: str, arr: B.BExpr, sql: Sql, nulls_last: bool) -> Sql:
    desc = fn_name.endswith("desc")
    if is_list(arr.type) and arr.type.elem is not None and arr.type.elem.name != "bool":
        return fn("list_sort", sql, string("DESC" if desc else "ASC"),
                  string("NULLS LAST" if nulls_last else "NULLS FIRST"))
    lst, native = items(c, arr, sql, f"{fn_name}()", arr.span)
    return from_items(let(lst, "kh_so", lambda ll: _permute(ll, _sort_order(ll, arr.type, desc, nulls_last))),
                      native)


@register("array_sort_asc", "array_sort_desc")
def array_sort(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    arrays, nulls_last = _sort_args(e, e.args)
    if len(arrays) > 1:
        # Kusto returns one column per array: the binder must ask for each ($array_sort_*_part)
        raise unsupported(f"{e.fn}() of several arrays", e.span)
    return _sort_one(c, e.fn, arrays[0], a[0], nulls_last)


@register("$array_sort_asc_part", "$array_sort_desc_part")
def array_sort_part(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    k = const(e.args[0])
    sort_fn = e.fn.removeprefix("$").removesuffix("_part")
    arrays, nulls_last = _sort_args(e, e.args[1:])
    if not isinstance(k, int) or not 0 <= k < len(arrays):
        raise unsupported(f"output {k} of {sort_fn}()", e.span)
    if k == 0:
        return _sort_one(c, sort_fn, arrays[0], a[1], nulls_last)
    keys_t, target = arrays[0].type, arrays[k]
    keys, _ = items(c, arrays[0], a[1], f"{sort_fn}()", e.span)
    values = json_elems(c, target.type, a[1 + k], f"{sort_fn}()", e.span)

    def body(v: list[Sql]) -> Sql:
        kk, vv = v
        # the docs: null for an array whose length differs from the first one's
        return case((exp.NEQ(this=fn("len", kk), expression=fn("len", vv)), cast(null(), "JSON[]")),
                    default=_permute(vv, _sort_order(kk, keys_t, sort_fn.endswith("desc"), nulls_last)))

    return from_items(let_all([keys, values], "kh_sb", body), False)


# ---------------------------------------------------------------- element tests


def _equals_json(x: Sql, v: Sql) -> Sql:
    """Two JSON values equal as kqlhunt's `==` has them: numbers by value, strings by text, the rest by kind
    and minified text."""
    both_numbers = exp.And(this=_json_kind_in(x, NUMERIC_JSON), expression=_json_kind_in(v, NUMERIC_JSON))
    both_strings = exp.And(this=exp.EQ(this=fn("json_type", x), expression=string("VARCHAR")),
                           expression=exp.EQ(this=fn("json_type", v), expression=string("VARCHAR")))
    return case((both_numbers, exp.EQ(this=cast(x, "DOUBLE"), expression=cast(v, "DOUBLE"))),
                (both_strings, exp.EQ(this=fn("json_extract_string", x, string("$")),
                                      expression=fn("json_extract_string", v, string("$")))),
                (exp.EQ(this=fn("json_type", x), expression=fn("json_type", v)),
                 exp.EQ(this=fn("json", x), expression=fn("json", v))),
                default=exp.Boolean(this=False))


def _equals_scalar(x: Sql, t: KType, v: Sql, span) -> Sql:
    """A JSON element equals a scalar of type t (an element of another kind never does)."""
    match t.name:
        case "string":
            return exp.And(this=exp.EQ(this=fn("json_type", x), expression=string("VARCHAR")),
                           expression=exp.EQ(this=fn("json_extract_string", x, string("$")), expression=v))
        case "int" | "long":
            return case((_json_kind_in(x, ("BIGINT", "UBIGINT")), exp.EQ(this=try_cast(x, "HUGEINT"), expression=v)),
                        (_json_kind_in(x, ("DOUBLE",)), exp.EQ(this=cast(x, "DOUBLE"), expression=v)),
                        default=exp.Boolean(this=False))
        case "real":
            return exp.And(this=_json_kind_in(x, NUMERIC_JSON), expression=exp.EQ(this=cast(x, "DOUBLE"), expression=v))
        case "bool":
            return exp.And(this=exp.EQ(this=fn("json_type", x), expression=string("BOOLEAN")),
                           expression=exp.EQ(this=cast(x, "BOOLEAN"), expression=v))
    # datetimes, timespans and guids are text inside a JSON array: kqlhunt cannot tell them from strings
    raise unsupported(f"looking up a {t.name} in a dynamic array whose element type is not known", span)


Test = Callable[[Sql, Sql], Sql]


def _element_test(c: ExprCompiler, e: B.BCall, arr: B.BExpr, arr_sql: Sql, val: B.BExpr,
                  val_sql: Sql) -> tuple[Sql, Sql, Test]:
    """(the list to search, the value to look for, a test of (element, value)) for array_index_of and
    set_has_element."""
    t = val.type
    if is_list(arr.type) and t.name != "dynamic":
        elem = arr.type.elem
        assert elem is not None
        same = elem.name == t.name or {elem.name, t.name} <= {"string", "guid"}
        if not (same or elem.is_numeric and t.is_numeric):
            raise unsupported(f"{e.fn}() of a {t.name} in an array of {elem.name}", e.span)
        return arr_sql, val_sql, lambda x, v: exp.EQ(this=x, expression=v)
    lst = json_elems(c, arr.type, arr_sql, f"{e.fn}()", e.span)
    if t.name == "dynamic":
        return lst, to_json(c, t, val_sql), _equals_json
    _equals_scalar(col("kh_x"), t, val_sql, e.span)  # refuses the kinds it cannot compare, before any SQL
    return lst, val_sql, lambda x, v: _equals_scalar(x, t, v, e.span)


def _null_lookup(val: B.BExpr, val_sql: Sql) -> Sql | None:
    """The lookup value is null (a typed null, or a dynamic null): the answer is null."""
    if val.type.name == "string":
        return None
    if val.type.name == "dynamic" and not is_list(val.type):
        return exp.Or(this=is_null(val_sql), expression=exp.EQ(this=fn("json_type", val_sql),
                                                                   expression=string("NULL")))
    return is_null(val_sql)


def _const_int(e: B.BExpr) -> int | None:
    v = const(e)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


@register("array_index_of")
def array_index_of(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    arr, val = e.args[0], e.args[1]
    occurrence = 1
    if len(e.args) == 5:
        k = _const_int(e.args[4])
        if k is None or k == 0:
            raise unsupported("array_index_of() with an occurrence that is not a positive number", e.args[4].span)
        if k < 0:
            return cast(null(), "BIGINT")  # the docs: null for occurrence < 0
        occurrence = k
    if val.type.name == "null":
        return cast(null(), "BIGINT")
    lst, value, matches = _element_test(c, e, arr, a[0], val, a[1])
    start = _bigint(e.args[2], a[2]) if len(a) > 2 else number(0)
    length = _bigint(e.args[3], a[3]) if len(a) > 3 else number(-1)

    def search(bound: list[Sql]) -> Sql:
        ll, v, start, length = bound
        size = fn("len", ll)
        first = case((exp.LT(this=start, expression=number(0)), fn("greatest", _add(size, start), number(0))),
                     default=start)

        def found(s: Sql) -> Sql:
            i = col("kh_i")
            in_range = exp.And(this=exp.GTE(this=i, expression=s), expression=paren(exp.Or(
                this=exp.EQ(this=length, expression=number(-1)), expression=exp.LT(this=i, expression=_add(s, length)))))
            hits = fn("list_filter", fn("range", size), lam("kh_i", exp.And(this=in_range, expression=matches(
                _at(ll, i), v))))
            return fn("coalesce", fn("list_extract", hits, number(occurrence)), number(-1))

        unknown = [is_null(ll), is_null(start), is_null(length)]
        nulls: Sql = unknown[0]
        for u in unknown[1:]:
            nulls = exp.Or(this=nulls, expression=u)
        # the docs: null for length < -1
        return case((nulls, cast(null(), "BIGINT")), (exp.LT(this=length, expression=number(-1)), cast(null(), "BIGINT")),
                    default=cast(let(first, "kh_f", found), "BIGINT"))

    out = let_all([lst, value, start, length], "kh_ix", search)
    missing = _null_lookup(val, a[1])
    return case((missing, cast(null(), "BIGINT")), default=out) if missing is not None else out


@register("set_has_element")
def set_has_element(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    arr, val = e.args
    if val.type.name == "null":
        return exp.Boolean(this=False)
    lst, value, matches = _element_test(c, e, arr, a[0], val, a[1])

    def found(v: list[Sql]) -> Sql:
        hits = fn("list_filter", v[0], lam("kh_x", matches(col("kh_x"), v[1])))
        return exp.GT(this=fn("len", hits), expression=number(0))

    return fn("coalesce", let_all([lst, value], "kh_hs", found), exp.Boolean(this=False))


def _truth(t: KType, x: Sql) -> Sql:
    """array_iff's condition element: a bool, or a number (non-zero is true); anything else is null."""
    if t.elem is not None:
        if t.elem.name == "bool":
            return x
        if t.elem.is_numeric:
            return exp.NEQ(this=x, expression=number(0))
        return cast(null(), "BOOLEAN")
    return case((exp.EQ(this=fn("json_type", x), expression=string("BOOLEAN")), cast(x, "BOOLEAN")),
                (_json_kind_in(x, NUMERIC_JSON), exp.NEQ(this=cast(x, "DOUBLE"), expression=number(0))),
                default=cast(null(), "BOOLEAN"))


@register("array_iff", "array_iif")
def array_iff(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    cond_t = e.args[0].type
    values = [a[0] if is_list(cond_t) else json_elems(c, cond_t, a[0], "array_iff()", e.span)]
    picks: list[Callable[[list[Sql], Sql], Sql]] = []  # (bound values, index) -> the branch's JSON element
    for arg, sql in zip(e.args[1:], a[1:], strict=True):
        at = len(values)
        if is_list(arg.type):
            elem = arg.type.elem
            assert elem is not None
            values.append(sql)
            picks.append(lambda v, i, at=at, elem=elem: to_json(c, elem, _at(v[at], i)))
        elif arg.type.name == "dynamic":
            # an array gives its i-th element (null past its end); any other dynamic value is used whole
            values += [sql, as_list(c, arg.type, sql, "array_iff()", e.span)]
            picks.append(lambda v, i, at=at: case((is_null(v[at + 1]), v[at]), default=_at(v[at + 1], i)))
        else:
            values.append(to_json(c, arg.type, sql))
            picks.append(lambda v, i, at=at: v[at])

    def body(v: list[Sql]) -> Sql:
        i = col("kh_i")
        truth = _truth(cond_t, _at(v[0], i))
        pick = case((truth, picks[0](v, i)), (exp.Not(this=truth), picks[1](v, i)), default=cast(null(), "JSON"))
        return fn("list_transform", fn("range", fn("len", v[0])), lam("kh_i", pick))

    return cast(fn("to_json", let_all(values, "kh_a", body)), "JSON")


# ---------------------------------------------------------------- sets


def _distinct(lst: Sql) -> Sql:
    """The first occurrence of each value, in order (DuckDB's list_distinct neither keeps order nor nulls)."""
    return let(lst, "kh_d", lambda ll: fn("list_filter", ll, exp.Lambda(
        this=exp.EQ(this=fn("list_position", ll, col("kh_y")), expression=col("kh_n")),
        expressions=[exp.to_identifier("kh_y"), exp.to_identifier("kh_n")])))


def _native_set(op: str, lists: list[Sql]) -> Sql:
    """set_* over native lists of one element type, where SQL equality is Kusto's."""
    if op == "union":
        return _distinct(fn("list_concat", *lists))
    tests = [exp.Not(this=is_null(fn("list_position", other, col("kh_m")))) for other in lists[1:]]
    test = tests[0]
    for t in tests[1:]:
        test = exp.And(this=test, expression=t) if op == "intersect" else exp.Or(this=test, expression=t)
    keep = test if op == "intersect" else exp.Not(this=paren(test))
    return fn("list_filter", _distinct(lists[0]), lam("kh_m", keep))


@register("set_union", "set_intersect", "set_difference")
def set_op(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    op = e.fn.removeprefix("set_")
    if is_list(e.type):
        def body(ls: list[Sql]) -> Sql:  # an argument that is not an array makes the result null
            return case((any_null(ls), cast(null(), physical(e.type))), default=_native_set(op, ls))

        return let_all(a, "kh_st", body)
    # other arrays compare as dynamic values (1 equals 1.0, a string never equals a number): the JSON model
    texts = exp.Array(expressions=[json_text(c, x.type, s) for x, s in zip(e.args, a, strict=True)])
    return cast(fn("kh_set_op", string(op), texts), "JSON")


@register("jaccard_index")
def jaccard_index(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    types = {x.type for x in e.args}
    if len(types) == 1 and is_list(e.args[0].type):
        def ratio(v: list[Sql]) -> Sql:
            union = fn("len", _native_set("union", v))
            shared = cast(fn("len", _native_set("intersect", v)), "DOUBLE")
            # 0/0 for two empty sets: NaN, as a floating-point division gives
            return case((any_null(v), cast(null(), "DOUBLE")),
                        (exp.EQ(this=union, expression=number(0)), number(float("nan"))),
                        default=exp.Div(this=shared, expression=union))

        return let_all(a, "kh_jc", ratio)
    return fn("kh_jaccard_index", *[json_text(c, x.type, s) for x, s in zip(e.args, a, strict=True)])


# ---------------------------------------------------------------- generated arrays


@register("range", raw=True)
def range_(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    elem = e.type.elem
    assert elem is not None
    step_arg = e.args[2] if len(e.args) > 2 else None
    step_value = const(step_arg) if step_arg is not None else None
    if step_arg is not None and step_value == 0:
        raise unsupported("range() with a step of 0", step_arg.span)
    start, stop = (c.compile(x) for x in e.args[:2])
    step = c.compile(step_arg) if step_arg is not None else None
    integral = elem.name in ("long", "datetime", "timespan")
    if elem.name == "datetime":
        if isinstance(step_value, int) and step_value % 10:
            raise unsupported("range() of datetimes by a step finer than a microsecond", e.span)
        # in ticks from the epoch; elements back as microseconds
        start, stop = (exp.Mul(this=fn("epoch_us", x), expression=number(10)) for x in (start, stop))
    if integral:
        # HUGEINT: stop - start, and i * step, may not fit a BIGINT
        start, stop = (cast(x, "HUGEINT") for x in (start, stop))
        default_step = HOUR_TICKS if elem.name in ("datetime", "timespan") else 1
        step = cast(step if step is not None else number(default_step), "HUGEINT")
    else:
        start, stop = (cast(x, "DOUBLE") for x in (start, stop))
        step = cast(step if step is not None else number(1), "DOUBLE")

    def generate(v: list[Sql]) -> Sql:
        lo, hi, by = v
        i = col("kh_i")
        if integral:
            count = _range_count(lo, hi, by, lambda d: exp.IntDiv(this=d, expression=by),
                                 lambda d: exp.IntDiv(this=d, expression=exp.Neg(this=by)))
            value: Sql = cast(_add(lo, exp.Mul(this=cast(i, "HUGEINT"), expression=by)), "BIGINT")
            if elem.name == "datetime":
                value = fn("make_timestamp", exp.IntDiv(this=value, expression=number(10)))
        else:
            # capped while still a DOUBLE: a tiny step would overflow any integer type
            cap = cast(number(MAX_RANGE), "DOUBLE")
            count = _range_count(lo, hi, by, lambda d: fn("least", fn("floor", exp.Div(this=d, expression=by)), cap),
                                 lambda d: fn("least", fn("floor", exp.Div(this=d, expression=exp.Neg(this=by))), cap))
            value = _add(lo, exp.Mul(this=cast(i, "DOUBLE"), expression=by))
        return fn("list_transform", fn("range", count), lam("kh_i", value))

    return let_all([start, stop, step], "kh_rg", generate)


def _range_count(start: Sql, stop: Sql, step: Sql, up: Callable[[Sql], Sql], down: Callable[[Sql], Sql]) -> Sql:
    """How many elements range() has: start, start + step, ... while not past stop, at most MAX_RANGE."""
    limit = cast(number(MAX_RANGE), "HUGEINT")
    ascending = exp.And(this=exp.GT(this=step, expression=number(0)), expression=exp.GTE(this=stop, expression=start))
    descending = exp.And(this=exp.LT(this=step, expression=number(0)), expression=exp.LTE(this=stop, expression=start))
    n = case((any_null([start, stop, step]), cast(null(), "HUGEINT")),
             (ascending, fn("least", _add(cast(up(_sub(stop, start)), "HUGEINT"), number(1)), limit)),
             (descending, fn("least", _add(cast(down(_sub(start, stop)), "HUGEINT"), number(1)), limit)),
             (exp.EQ(this=step, expression=number(0)), cast(fn("error", string("range(): the step is 0")), "HUGEINT")),
             default=cast(number(0), "HUGEINT"))
    return cast(n, "BIGINT")


@register("repeat")
def repeat(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    value, count = a
    list_type = physical(e.type)
    body = fn("repeat", cast(exp.Array(expressions=[value]), list_type), _bigint(e.args[1], count))
    # the docs: a negative count gives null
    return case((exp.LT(this=count, expression=number(0)), cast(null(), list_type)), default=body)


# ---------------------------------------------------------------- property bags


@register("bag_keys")
def bag_keys(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    if e.args[0].type.name != "dynamic" or is_list(e.args[0].type):
        return cast(null(), "VARCHAR[]")  # an array is not a property bag
    return case((exp.EQ(this=fn("json_type", a[0]), expression=string("OBJECT")), fn("json_keys", a[0])),
                default=cast(null(), "VARCHAR[]"))


def _duckdb_path(names: list[str]) -> str | None:
    if any('"' in n or "\\" in n for n in names):
        return None
    return "$" + "".join(f'."{n}"' for n in names)


@register("bag_has_key")
def bag_has_key(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    bag, key = e.args
    if is_list(bag.type) or bag.type.name != "dynamic":
        return exp.Boolean(this=False)
    text = const(key)
    if isinstance(text, str):
        names = json_path(text)
        if names is None:
            raise unsupported(f"bag_has_key() with the key path {text!r} (array indexing or the root)", key.span)
        path = _duckdb_path(names)
        if path is not None:
            is_bag = exp.EQ(this=fn("json_type", a[0]), expression=string("OBJECT"))
            return fn("coalesce", exp.And(this=is_bag, expression=fn("json_exists", a[0], string(path))),
                      exp.Boolean(this=False))
    return fn("kh_bag_has_key", cast(a[0], "VARCHAR"), a[1])


@register("bag_merge")
def bag_merge(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    texts = exp.Array(expressions=[json_text(c, x.type, s) for x, s in zip(e.args, a, strict=True)])
    return cast(fn("kh_bag_merge", texts), "JSON")


@register("bag_remove_keys")
def bag_remove_keys(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    keys = e.args[1]
    listed = const(keys)
    if isinstance(listed, list):
        for k in listed:
            if isinstance(k, str) and json_path(k) is None:
                raise unsupported(f"bag_remove_keys() with the key path {k!r} (array indexing or the root)",
                                  keys.span)
    return cast(fn("kh_bag_remove_keys", json_text(c, e.args[0].type, a[0]), json_text(c, keys.type, a[1])), "JSON")


@register("bag_set_key")
def bag_set_key(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    bag, key, value = e.args
    text = const(key)
    names = json_path(text) if isinstance(text, str) else None
    if names is None:
        raise unsupported(f"bag_set_key() with the key {text!r} (array indexing or the root)", key.span)
    import json

    return cast(fn("kh_bag_set_key", json_text(c, bag.type, a[0]), string(json.dumps(names)),
                   json_text(c, value.type, a[2])), "JSON")


@register("bag_zip")
def bag_zip(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    return cast(fn("kh_bag_zip", *[json_text(c, x.type, s) for x, s in zip(e.args, a, strict=True)]), "JSON")


@register("bag_pack_columns")
def bag_pack_columns(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    parts: list[Sql] = []
    for x, s in zip(e.args, a, strict=True):
        assert isinstance(x, B.BCol)
        parts += [string(x.name), to_json(c, x.type, s)]
    return cast(fn("json_object", *parts), "JSON")


@register("treepath")
def treepath(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    return cast(fn("kh_treepath", json_text(c, e.args[0].type, a[0])), "JSON")


@register("dynamic_to_json")
def dynamic_to_json(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    t = e.args[0].type
    if t.name != "dynamic":
        return to_string(c, t, a[0])  # the docs: a value of another type prints as tostring() does
    return fn("kh_dynamic_to_json", json_text(c, t, a[0]))


@register("array_sum")
def array_sum(c: ExprCompiler, e: B.BCall, a: list[Sql]) -> Sql:
    t = e.args[0].type
    if is_list(t) and t.elem is not None and not t.elem.is_numeric:
        raise unsupported(f"array_sum() of an array of {t.elem.name}", e.span)
    lst = as_list(c, t, a[0], "array_sum()", e.span, elem="DOUBLE")
    return cast(fn("list_sum", lst), "DOUBLE")
