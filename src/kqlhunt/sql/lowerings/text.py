"""DuckDB lowerings of the text functions: strings, encodings, hashes, URLs and regex helpers (see
kqlhunt.sql.functions for the helpers and conventions).

Plain string work is SQL; what needs byte-exact rules (base64 to bytes, gzip/zlib, xxhash64, punycode,
URL encoding, CSV, command lines, XML, JSONPath) calls the Python UDFs of `engines/runtime/text.py`.
Where the docs leave an input's answer open and the plausible readings differ, the SQL stops the query
with DuckDB's `error()` (or the UDF raises) instead of picking one.

Overrides of core lowerings (kqlhunt.sql.functions): `indexof` (start/length/occurrence), `countof`
(overlapping matches; kind=regex), `split` (index), `extract_all` (several groups, group selection),
`tohex` (32-bit ints, minimum length), `parse_url` (the whole object).
"""

from __future__ import annotations

import re

from sqlglot import exp

from kqlhunt.diagnostics import unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.signatures.text import capture_groups, json_path
from kqlhunt.semantic.types import STRING, KType
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
)
from kqlhunt.sql.functions import (
    EPOCH_TICKS,
    LOWERINGS,
    TICKS_PER_MICRO,
    URL_RE,
    arg_string,
    const_str,
    const_value,
    is_list,
    kusto_regex,
    refuse_at_run_time,
    register,
    to_json,
    url_part,
)


def _text(c: ExprCompiler, e: B.BCall, i: int, a: list[exp.Expression] | None = None) -> exp.Expression:
    """Argument i as Kusto's string form (compiled here when the lowering is raw)."""
    sql = a[i] if a is not None else c.compile(e.args[i])
    return arg_string(c, e.args[i], sql)


def _bigint(e: B.BExpr, sql: exp.Expression) -> exp.Expression:
    return cast(sql, "BIGINT") if e.type.name != "long" else sql


_fail = refuse_at_run_time


def _empty_if_null(sql: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=sql, expressions=[string("")])


def _json_text(c: ExprCompiler, e: B.BExpr, sql: exp.Expression) -> exp.Expression:
    return cast(to_json(c, e.type, sql), "VARCHAR")


# ---------------------------------------------------------------- base64 and compression


@register("base64_decode_toarray")
def base64_decode_toarray(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("kh_b64_to_array", _text(c, e, 0, a))


@register("base64_decode_toguid")
def base64_decode_toguid(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    # measured (frozen base64-decode-toguid-function-01): an invalid input gives a null guid, not ""
    return fn("kh_b64_to_guid", _text(c, e, 0, a))


@register("base64_encode_fromarray")
def base64_encode_fromarray(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return _empty_if_null(fn("kh_b64_from_array", _json_text(c, e.args[0], a[0])))


@register("base64_encode_fromguid")
def base64_encode_fromguid(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return _empty_if_null(fn("kh_b64_from_guid", a[0]))


for _name, _udf in (("gzip_compress_to_base64_string", "kh_gzip_compress"),
                    ("zlib_compress_to_base64_string", "kh_zlib_compress"),
                    ("gzip_decompress_from_base64_string", "kh_gzip_decompress"),
                    ("zlib_decompress_from_base64_string", "kh_zlib_decompress"),
                    ("punycode_from_string", "kh_punycode_encode"),
                    ("punycode_to_string", "kh_punycode_decode"),
                    ("punycode_domain_to_string", "kh_punycode_domain_encode"),
                    ("punycode_domain_from_string", "kh_punycode_domain_decode"),
                    ("regex_quote", "kh_regex_quote")):
    register(_name)((lambda udf: lambda c, e, a: _empty_if_null(fn(udf, _text(c, e, 0, a))))(_udf))

# ---------------------------------------------------------------- hashes


@register("hash", "hash_xxhash64")
def hash_(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    if len(a) > 1:
        # Kusto says the result lies in 0..mod-1, but not how a negative hash is brought there
        raise unsupported(f"{e.fn}() with a modulus", e.args[1].span)
    t = e.args[0].type
    if t.name == "string":
        return fn("kh_xxhash64_string", a[0])
    if t.name == "datetime":
        ticks = exp.Add(this=exp.Mul(this=fn("epoch_us", a[0]), expression=number(TICKS_PER_MICRO)),
                        expression=cast(number(EPOCH_TICKS), "BIGINT"))
        return fn("kh_xxhash64_long", ticks)
    # only strings and datetimes are documented with values; the bytes hashed for other types are not
    raise unsupported(f"{e.fn}() of a {t.name} value", e.args[0].span)


# ---------------------------------------------------------------- searching


@register("indexof")
def indexof(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    text, lookup = _text(c, e, 0, a), _text(c, e, 1, a)
    if len(a) == 2:
        return cast(exp.Sub(this=fn("strpos", text, lookup), expression=number(1)), "BIGINT")
    start = _bigint(e.args[2], a[2])
    length = _bigint(e.args[3], a[3]) if len(a) > 3 else cast(number(-1), "BIGINT")
    occurrence = _bigint(e.args[4], a[4]) if len(a) > 4 else cast(number(1), "BIGINT")
    return fn("kh_indexof_window", text, lookup, start, length, occurrence)


_ANCHORS = re.compile(r"\^|\$|\\[bBAz]")


@register("indexof_regex", raw=True)
def indexof_regex(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    pattern = const_str(e.args[1])
    assert pattern is not None  # the signature wants a constant string
    if len(e.args) > 2 and _ANCHORS.search(pattern):
        # is the pattern run on the cut string (where ^ matches at `start`) or on the whole one?
        raise unsupported("indexof_regex() with start/length and an anchored pattern (^, $, \\b)", e.span)
    regex = string(kusto_regex(pattern))
    text = _text(c, e, 0)
    start = _bigint(e.args[2], c.compile(e.args[2])) if len(e.args) > 2 else cast(number(0), "BIGINT")
    length = _bigint(e.args[3], c.compile(e.args[3])) if len(e.args) > 3 else cast(number(-1), "BIGINT")
    occurrence = const_value(e.args[4]) if len(e.args) > 4 else 1
    if not isinstance(occurrence, int):
        return cast(null(), "BIGINT")
    if occurrence == 0:
        raise unsupported("indexof_regex() of occurrence 0", e.args[4].span)
    rest = fn("substring", text, exp.Add(this=fn("greatest", start, number(0)), expression=number(1)))
    window = fn("substring", text, exp.Add(this=fn("greatest", start, number(0)), expression=number(1)),
                fn("greatest", length, number(0)))
    # the k-th match starts after k gaps and k-1 matches; a match may be required to start inside the
    # window (as indexof() measures) or to fit inside it: both readings are computed and must agree
    found = fn("kh_regex_nth", fn("regexp_split_to_array", rest, regex), fn("regexp_extract_all", rest, regex),
               fn("regexp_split_to_array", window, regex), fn("regexp_extract_all", window, regex),
               length, cast(number(occurrence), "BIGINT"))
    bad = exp.Or(this=exp.Or(this=exp.LT(this=start, expression=number(0)),
                             expression=exp.LT(this=length, expression=number(-1))),
                 expression=exp.LT(this=number(occurrence), expression=number(0)))
    located = case((exp.GTE(this=found, expression=number(0)), exp.Add(this=found, expression=start)),
                   default=found)
    return case((bad, cast(null(), "BIGINT")), default=cast(located, "BIGINT"))


def _count_overlapping(text: exp.Expression, lookup: exp.Expression) -> exp.Expression:
    """Occurrences that may overlap: every position where `lookup` starts."""
    size = fn("length", lookup)
    starts = fn("range", number(1), exp.Add(this=exp.Sub(this=fn("length", text), expression=size),
                                            expression=number(2)))
    hit = lam("i", exp.EQ(this=fn("substring", text, col("i"), size), expression=lookup))
    return cast(fn("len", fn("list_filter", starts, hit)), "BIGINT")


@register("countof", raw=True)
def countof(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    text, lookup = _text(c, e, 0), _text(c, e, 1)
    kind = const_str(e.args[2]) if len(e.args) > 2 else "normal"
    if kind == "regex":
        pattern = const_str(e.args[1])
        if pattern is None:
            raise unsupported("countof() of a non-constant regular expression", e.args[1].span)
        found = fn("regexp_extract_all", text, string(kusto_regex(pattern)), number(0))
        empty = fn("list_contains", found, string(""))
        return case((empty, _fail("countof() of a regular expression that matches the empty string")),
                    default=cast(fn("len", found), "BIGINT"))
    # documented: plain matches may overlap (countof("aaaa", "aa") is 3)
    return case((exp.EQ(this=lookup, expression=string("")), _fail("countof() of an empty search string")),
                default=_count_overlapping(text, lookup))


# ---------------------------------------------------------------- regular expressions


def _group_indexes(pattern: str, selection: list[object]) -> list[int]:
    _, names = capture_groups(pattern)
    return [names[g] if isinstance(g, str) else int(g) for g in selection]  # type: ignore[call-overload]


@register("extract_all", "extractall", raw=True)
def extract_all(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    pattern = const_str(e.args[0])
    assert pattern is not None  # the signature wants a constant string
    count, _names = capture_groups(pattern)
    if len(e.args) == 3:
        selection = const_value(e.args[1])
        assert isinstance(selection, list)
        groups = _group_indexes(pattern, selection)
    else:
        groups = list(range(1, count + 1)) or [0]
    text = _text(c, e, len(e.args) - 1)
    regex = string(kusto_regex(pattern))
    columns = [fn("regexp_extract_all", text, regex, number(g)) for g in groups]
    if len(columns) == 1:
        found = columns[0]
    else:
        # one row per match: [g1, g2, ...]; all group lists have one entry per match
        row = exp.Array(expressions=[fn("list_extract", col_sql, col("i")) for col_sql in columns])
        found = fn("list_transform", fn("range", number(1), exp.Add(this=fn("len", columns[0]), expression=number(1))),
                   lam("i", row))
    return case((exp.EQ(this=fn("len", columns[0]), expression=number(0)), cast(null(), "JSON")),
                default=cast(fn("to_json", found), "JSON"))


# ---------------------------------------------------------------- building and comparing strings


@register("strcat_delim")
def strcat_delim(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("concat_ws", *[_text(c, e, i, a) for i in range(len(a))])


# .NET compares UTF-16 code units, DuckDB UTF-8 bytes: they order U+E000..U+FFFF and the characters
# beyond U+FFFF differently, so two strings that both hold such characters are refused
_HIGH = r"[\x{E000}-\x{10FFFF}]"


@register("strcmp")
def strcmp(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    x, y = _text(c, e, 0, a), _text(c, e, 1, a)
    both_high = exp.And(this=fn("regexp_matches", x, string(_HIGH)), expression=fn("regexp_matches", y, string(_HIGH)))
    order = case((exp.LT(this=x, expression=y), cast(number(-1), "BIGINT")),
                 (exp.GT(this=x, expression=y), cast(number(1), "BIGINT")), default=cast(number(0), "BIGINT"))
    return case((both_high, _fail("strcmp() of two strings holding characters above U+E000")), default=order)


@register("string_size")
def string_size(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return cast(fn("strlen", _text(c, e, 0, a)), "BIGINT")  # DuckDB's strlen counts UTF-8 bytes


STRREP_MAX = 1024  # documented: a larger multiplier repeats 1024 times (and also: "1 to 67108864")


@register("strrep")
def strrep(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    value = _text(c, e, 0, a)
    delim = _text(c, e, 2, a) if len(a) > 2 else string("")
    n = _bigint(e.args[1], a[1])
    repeated = exp.DPipe(this=fn("repeat", exp.DPipe(this=value, expression=delim),
                                 exp.Sub(this=n, expression=number(1))), expression=value)
    return case((is_null(n), string("")),
                (exp.Between(this=n, low=number(1), high=number(STRREP_MAX)), repeated),
                default=_fail(f"strrep() with a multiplier below 1 or above {STRREP_MAX}"))


@register("translate")
def translate(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    search, replacement, source = (_text(c, e, i, a) for i in range(3))
    # documented: a short replacement list repeats its last character; an empty one deletes
    padded = case((exp.EQ(this=replacement, expression=string("")), string("")),
                  default=fn("rpad", replacement, cast(fn("length", search), "INTEGER"),
                              fn("right", replacement, number(1))))
    repeats = exp.NEQ(this=fn("len", fn("list_distinct", fn("string_split", search, string("")))),
                      expression=fn("length", search))
    has_repeats = exp.And(this=exp.GT(this=fn("length", search), expression=number(0)), expression=repeats)
    return case((has_repeats, _fail("translate() with a character listed twice in the search list")),
                default=fn("translate", source, search, padded))


@register("replace_strings")
def replace_strings(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("kh_replace_strings", _text(c, e, 0, a), _json_text(c, e.args[1], a[1]),
              _json_text(c, e.args[2], a[2]))


@register("unicode_codepoints_from_string", "to_utf8")
def unicode_codepoints_from_string(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    text = _text(c, e, 0, a)
    points = fn("list_transform", fn("string_split", text, string("")), lam("x", cast(fn("unicode", col("x")), "BIGINT")))
    return case((exp.EQ(this=text, expression=string("")), cast(exp.Array(expressions=[]), "BIGINT[]")),
                default=points)


def _codepoint_list(c: ExprCompiler, arg: B.BExpr, sql: exp.Expression) -> exp.Expression:
    t = arg.type
    if t.name in ("int", "long"):
        return exp.Array(expressions=[cast(sql, "BIGINT")])
    if is_list(t) and t.elem is not None and t.elem.name in ("int", "long"):
        return cast(sql, "BIGINT[]")
    if t.name in ("dynamic", "null"):
        return fn("kh_json_longs", _json_text(c, arg, sql))
    raise unsupported(f"unicode_codepoints_to_string() of a {t.name} value", arg.span)


@register("unicode_codepoints_to_string", "make_string")
def unicode_codepoints_to_string(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    points = fn("flatten", exp.Array(expressions=[_codepoint_list(c, x, s) for x, s in zip(e.args, a, strict=True)]))
    x = col("p")
    valid = exp.And(this=exp.Not(this=is_null(x)), expression=exp.And(
        this=exp.Between(this=x, low=number(0), high=number(0x10FFFF)),
        expression=exp.Not(this=exp.Between(this=x, low=number(0xD800), high=number(0xDFFF)))))
    all_valid = fn("list_bool_and", fn("list_transform", points, lam("p", valid)))
    text = fn("array_to_string", fn("list_transform", points, lam("p", fn("chr", cast(x, "INTEGER")))), string(""))
    # documented: any argument that is not a valid code point makes the result null ("")
    return case((fn("coalesce", all_valid, exp.Boolean(this=False)), text), default=string(""))


@register("isutf8")
def isutf8(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    if e.args[0].type.name not in ("string", "dynamic"):
        raise unsupported(f"isutf8() of a {e.args[0].type.name} value", e.args[0].span)
    return exp.Boolean(this=True)  # DuckDB strings are valid UTF-8 by construction


@register("new_guid")
def new_guid(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return cast(fn("uuid"), "VARCHAR")


@register("tohex")
def tohex(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    t = e.args[0].type
    value = a[0]
    if t.name == "int":
        # documented: a negative int prints its 32-bit two's complement (tohex(toint(-256), 8) is ffffff00)
        value = exp.BitwiseAnd(this=cast(value, "BIGINT"), expression=cast(number(0xFFFFFFFF), "BIGINT"))
    digits = fn("lower", fn("hex", value))
    if len(a) > 1:
        # documented: padded with zeros to minLength, at most 16; a longer value is not cut
        width = fn("least", _bigint(e.args[1], a[1]), number(16))
        digits = fn("lpad", digits, cast(fn("greatest", fn("length", digits), width), "INTEGER"), string("0"))
    return _empty_if_null(digits)


@register("format_bytes", raw=True)
def format_bytes(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    size = cast(c.compile(e.args[0]), "DOUBLE")
    precision = const_value(e.args[1]) if len(e.args) > 1 else 0
    units = const_str(e.args[2]) if len(e.args) > 2 else ""
    return _empty_if_null(fn("kh_format_bytes", size, cast(number(precision) if isinstance(precision, int)
                                                              else null(), "BIGINT"), string(units or "")))


# ---------------------------------------------------------------- parsing


@register("split")
def split(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    if const_str(e.args[1]) == "":
        raise unsupported("split() by an empty delimiter", e.args[1].span)
    text, delim = _text(c, e, 0, a), _text(c, e, 1, a)
    parts = fn("string_split", text, delim)
    if len(a) > 2:
        i = _bigint(e.args[2], a[2])
        # documented: the substring at the index, in an array, when it exists
        picked = case((exp.LT(this=i, expression=fn("len", parts)),
                       exp.Array(expressions=[fn("list_extract", parts, exp.Add(this=i, expression=number(1)))])),
                      default=cast(exp.Array(expressions=[]), "VARCHAR[]"))
        parts = case((exp.LT(this=i, expression=number(0)), _fail("split() with a negative index")),
                     (is_null(i), cast(null(), "VARCHAR[]")), default=picked)
    if isinstance(e.args[1], B.BLit):
        return parts
    return case((exp.EQ(this=delim, expression=string("")), _fail("split() by an empty delimiter")), default=parts)


@register("parse_csv")
def parse_csv(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("kh_parse_csv", _text(c, e, 0, a))


@register("parse_command_line")
def parse_command_line(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return fn("kh_parse_command_line", _text(c, e, 0, a))


def _query_bag(query: exp.Expression) -> exp.Expression:
    return cast(fn("kh_url_query_bag", query), "JSON")


@register("parse_urlquery", "parseurlquery")
def parse_urlquery(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    query = _text(c, e, 0, a)
    bag = cast(fn("json_object", string("Query Parameters"), _query_bag(query)), "JSON")
    return case((fn("starts_with", query, string("?")), _fail("parse_urlquery() of a query starting with `?`")),
                default=bag)


@register("parse_url", "parseurl", raw=True)  # raw: the core registration is raw too
def parse_url(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    # the parts are the ones `parse_url(x).Host` reads (kqlhunt.sql.functions.URL_RE), in the documented order
    text = _text(c, e, 0)
    parts: list[exp.Expression] = []
    for name in ("Scheme", "Host", "Port", "Path", "Username", "Password"):
        parts += [string(name), url_part(text, name)]
    parts += [string("Query Parameters"), _query_bag(fn("regexp_extract", text, string(URL_RE), number(7))),
              string("Fragment"), url_part(text, "Fragment")]
    return cast(fn("json_object", *parts), "JSON")


_VERSION = r"[0-9]{1,8}(\.[0-9]{1,8}){0,3}"
_DECIMAL_LIMIT = 10 ** 20  # DECIMAL(38, 18) keeps 20 integer digits; a version such as 1.0 needs 25


@register("parse_version")
def parse_version(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    text = _text(c, e, 0, a)
    padded = fn("list_concat", fn("string_split", text, string(".")),
                exp.Array(expressions=[string("0")] * 3))
    value: exp.Expression = cast(number(0), "HUGEINT")
    for k, scale in enumerate((10 ** 24, 10 ** 16, 10 ** 8, 1)):
        part = cast(fn("list_extract", padded, number(k + 1)), "HUGEINT")
        value = exp.Add(this=value, expression=exp.Mul(this=part, expression=cast(number(scale), "HUGEINT")))
    fits = exp.LT(this=paren(value), expression=cast(number(_DECIMAL_LIMIT), "HUGEINT"))
    return case((exp.Not(this=fn("regexp_full_match", text, string(_VERSION))), cast(null(), "DECIMAL(38, 18)")),
                (fits, cast(paren(value), "DECIMAL(38, 18)")),
                default=_fail("parse_version() of a version above 0.9999 (kqlhunt's decimals keep 20 digits)"))


@register("parse_xml")
def parse_xml(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return cast(fn("kh_parse_xml", _text(c, e, 0, a)), "JSON")


# ---------------------------------------------------------------- URLs


@register("url_encode")
def url_encode(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return _empty_if_null(fn("kh_url_encode", _text(c, e, 0, a), exp.Boolean(this=False)))


@register("url_encode_component")
def url_encode_component(c: ExprCompiler, e: B.BCall, a: list[exp.Expression]) -> exp.Expression:
    return _empty_if_null(fn("kh_url_encode", _text(c, e, 0, a), exp.Boolean(this=True)))


# ---------------------------------------------------------------- JSON


@register("extract_json", "extractjson", raw=True)
def extract_json(c: ExprCompiler, e: B.BCall, _: list[exp.Expression]) -> exp.Expression:
    path = const_str(e.args[0])
    assert path is not None and json_path(path) is not None  # checked by the signature
    found = _empty_if_null(fn("kh_extract_json", string(path), _text(c, e, 1)))
    if len(e.args) == 2 or e.type.name == "string":
        return found
    # documented: the extracted string is converted to the type, as the matching to<type>() does
    return _convert(c, e, found, e.type)


_CONVERSIONS = {"long": "tolong", "int": "toint", "real": "toreal", "datetime": "todatetime", "bool": "tobool",
                "guid": "toguid", "dynamic": "parse_json"}


def _convert(c: ExprCompiler, e: B.BCall, text: exp.Expression, target: KType) -> exp.Expression:
    name = _CONVERSIONS[target.name]
    placeholder = B.BCol(STRING, e.span, "$extracted")  # the conversion reads only its argument's type
    return LOWERINGS[name](c, B.BCall(target, e.span, name, (placeholder,)), [text])
