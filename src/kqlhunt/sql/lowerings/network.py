"""DuckDB lowerings of the network functions: IPv4/IPv6 parsing, comparison, ranges and IPv4 text search.

IPv4 functions over addresses are plain SQL: one `regexp_extract` per row reads `a.b.c.d[/p]` into a
struct of integers (bound once through a one-element `list_transform`, see `v4_sql`), masks are integer
arithmetic. The rules are those of `kqlhunt.engines.runtime.ipv4`: four decimal octets of 1-3 ASCII digits
(leading zeros read as decimal), an optional prefix 0-32, nothing else (no whitespace). Constant arguments
are read here, at compile time. IPv6 (128-bit values), IPv4 search with non-constant needles and CIDR lists
call the UDFs of `kqlhunt.engines.runtime.network`, which documents the shared reading of addresses.

A prefix argument outside 0-32 is a failed conversion (the frozen `format_ipv4(..., -1)` gives ""). Where
the docs leave Kusto's answer open the query is refused: at compile time for constants (`unsupported`),
at run time with DuckDB's `error()` for data (see `fail`). Such inputs: one invalid range among several,
`ipv4_is_private()` of a network wider than /16 whose readings differ (`10.0.0.0/7`: its address is
private, the network is not), a number outside 32 bits or a digit string given to `format_ipv4()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from kqlhunt.diagnostics import unsupported
from kqlhunt.semantic import bound as B
from kqlhunt.semantic.types import STRING
from kqlhunt.sql.expressions import (
    ExprCompiler,
    case,
    cast,
    col,
    fn,
    lam,
    null,
    number,
    paren,
    string,
    try_cast,
)
from kqlhunt.sql.functions import ALNUM, arg_string, as_list, const_str, refuse_at_run_time, register

Sql = exp.Expression

V4_TEXT = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?:/([0-9]{1,2}))?", re.ASCII)
V4_SQL = r"^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?:/([0-9]{1,2}))?$"
TWO_32 = 1 << 32
# the private blocks of ipv4_is_private: (first address, prefix length)
PRIVATE = ((0x0A000000, 8), (0xAC100000, 12), (0xC0A80000, 16))
OCTET_RE = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|0?[0-9]?[0-9])"  # 0-255 in 1-3 digits (leading zeros)
# an address without a prefix or with one of 16-32: whether it is private depends on its text's start only
PLAIN_V4_16 = r"\.".join([OCTET_RE] * 4) + r"(?:/(?:1[6-9]|2[0-9]|3[0-2]))?"
PRIVATE_TEXT = r"^(?:0?10\.|172\.0?(?:1[6-9]|2[0-9]|3[01])\.|192\.168\.)"


# ---------------------------------------------------------------- small SQL pieces


def _and(*parts: Sql) -> Sql:
    out = parts[0]
    for p in parts[1:]:
        out = exp.And(this=out, expression=p)
    return paren(out)


def _or(parts: list[Sql]) -> Sql:
    if not parts:
        return exp.Boolean(this=False)
    out = parts[0]
    for p in parts[1:]:
        out = exp.Or(this=out, expression=p)
    return paren(out)


def _big(value: int) -> Sql:
    return cast(number(value), "BIGINT")


def _band(a: Sql, b: Sql) -> Sql:
    return paren(exp.BitwiseAnd(this=a, expression=b))


def _shr(a: Sql, bits: int) -> Sql:
    return paren(exp.BitwiseRightShift(this=a, expression=number(bits)))


def _least(*xs: Sql | int) -> Sql | int:
    """The smallest of prefixes, folded when they are all known."""
    if all(isinstance(x, int) for x in xs):
        return min(xs)  # type: ignore[type-var]
    return fn("least", *[_big(x) if isinstance(x, int) else x for x in xs])


def mask(bits: Sql | int) -> Sql:
    """The 32-bit netmask of a prefix 0-32 as a BIGINT: 2^32 - 2^(32 - bits)."""
    if isinstance(bits, int):
        return _big(TWO_32 - (1 << (32 - bits)))
    shift = exp.BitwiseLeftShift(this=_big(1), expression=paren(exp.Sub(this=number(32), expression=bits)))
    return paren(exp.Sub(this=_big(TWO_32), expression=paren(shift)))


fail = refuse_at_run_time


def _in_range(value: Sql | int, high: int) -> Sql:
    """0 <= value <= high (a prefix bound), for a known or a SQL value."""
    if isinstance(value, int):
        return exp.Boolean(this=0 <= value <= high)
    return exp.Between(this=value, low=number(0), high=number(high))


# ---------------------------------------------------------------- reading IPv4 addresses


def parse_v4(text: str) -> tuple[int, int] | None:
    """A constant `a.b.c.d[/p]` -> (unmasked address, prefix), None if invalid (the SQL rules, in Python)."""
    m = V4_TEXT.fullmatch(text)
    if m is None:
        return None
    octets = [int(g) for g in m.groups()[:4]]
    bits = 32 if m.group(5) is None else int(m.group(5))
    if max(octets) > 255 or bits > 32:
        return None
    return (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3], bits


@dataclass(frozen=True, slots=True)
class V4:
    """An IPv4 argument: `valid` (SQL bool, null for a null input), unmasked `raw` and prefix `bits`.

    A constant argument carries Python ints (`known`), so masks and comparisons fold at compile time.
    """

    valid: Sql
    raw: Sql | int
    bits: Sql | int
    known: bool = False
    first_octets: tuple[Sql, Sql] | None = None  # the first two octets, for short private-block tests
    binding: tuple[str, Sql] | None = None  # (lambda variable, parsed struct) that `bind` computes once

    @property
    def masked(self) -> Sql | int:
        if isinstance(self.raw, int) and isinstance(self.bits, int):
            return self.raw & (TWO_32 - (1 << (32 - self.bits)))
        return _band(_sql(self.raw), mask(self.bits))


def _sql(x: Sql | int) -> Sql:
    return _big(x) if isinstance(x, int) else x


def v4_const(text: str) -> V4 | None:
    parsed = parse_v4(text)
    return None if parsed is None else V4(exp.Boolean(this=True), parsed[0], parsed[1], known=True)


def v4_sql(x: Sql, var: str = "__ip_a") -> V4:
    """An address in SQL, read once per row: the regex's groups become one struct of integers
    (`ok`, `raw`, `bits`, `a`, `b`) that the fields read through the lambda variable `var`. Wrap the final
    expression with `bind`, which computes it; DuckDB repeats a repeated subexpression in a filter (the
    ENGINE_NOTES' 0.9 s -> 16 s lesson), so copies of the parse would each run the regex.
    """
    groups = fn("regexp_extract", x, string(V4_SQL), exp.Array(expressions=[string(k) for k in "abcdp"]))
    m = col("__groups")

    def group(name: str) -> Sql:
        return fn("struct_extract", m, string(name))

    octets = [try_cast(group(k), "BIGINT") for k in "abcd"]  # '' (no match) -> NULL
    suffix = group("p")
    bits = case((exp.EQ(this=suffix, expression=string("")), _big(32)), default=try_cast(suffix, "BIGINT"))
    ok = _and(*[exp.LTE(this=o, expression=number(255)) for o in octets], exp.LTE(this=bits, expression=number(32)))
    raw = octets[3]
    for i, o in enumerate(octets[:3]):
        raw = exp.Add(this=raw, expression=exp.Mul(this=o, expression=number(1 << (8 * (3 - i)))))
    fields = {"ok": ok, "raw": paren(raw), "bits": bits, "a": octets[0], "b": octets[1]}
    packed = fn("struct_pack", *[exp.PropertyEQ(this=exp.to_identifier(k), expression=v) for k, v in fields.items()])
    value = _let(groups, "__groups", packed)
    v = col(var)

    def field(name: str) -> Sql:
        return fn("struct_extract", v, string(name))

    return V4(field("ok"), field("raw"), field("bits"), first_octets=(field("a"), field("b")), binding=(var, value))


def _let(value: Sql, var: str, body: Sql) -> Sql:
    """`body` with `var` bound to `value`, computed once: list_transform([value], lambda var: body)[1]."""
    return fn("list_extract", fn("list_transform", exp.Array(expressions=[value]), lam(var, body)), number(1))


def bind(body: Sql, *ips: V4 | None) -> Sql:
    """`body` with each address parsed once per row (see `v4_sql`)."""
    for ip in reversed(ips):
        if ip is not None and ip.binding is not None:
            body = _let(ip.binding[1], ip.binding[0], body)
    return body


def v4_arg(c: ExprCompiler, e: B.BExpr, var: str = "__ip_a") -> V4 | None:
    """An address argument; None for a constant that is not an address."""
    text = const_str(e)
    if text is not None:
        return v4_const(text)
    return v4_sql(arg_string(c, e, c.compile(e)), var)


def _prefix_arg(c: ExprCompiler, e: B.BCall, index: int, default: int) -> Sql | int | None:
    """The optional integer prefix: an int when constant (None when constant null), else BIGINT SQL."""
    if len(e.args) <= index:
        return default
    arg = e.args[index]
    if isinstance(arg, B.BLit):
        return None if arg.value is None else int(arg.value)  # type: ignore[call-overload]
    sql = c.compile(arg)
    return sql if arg.type.name == "long" else cast(sql, "BIGINT")


def _when(cond: Sql, then: Sql, sql_type: str, default: Sql | None = None) -> Sql:
    return case((cond, then), default=default if default is not None else cast(null(), sql_type))


# ---------------------------------------------------------------- IPv4 values


@register("parse_ipv4", raw=True)
def parse_ipv4(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    ip = v4_arg(c, e.args[0])
    if ip is None:
        return cast(null(), "BIGINT")
    return bind(_when(ip.valid, _sql(ip.masked), "BIGINT"), ip)


@register("parse_ipv4_mask", raw=True)
def parse_ipv4_mask(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    ip, bits = v4_arg(c, e.args[0]), _prefix_arg(c, e, 1, 32)
    if ip is None or bits is None or isinstance(bits, int) and not 0 <= bits <= 32:
        return cast(null(), "BIGINT")
    smaller = _least(ip.bits, bits)
    return bind(_when(_and(ip.valid, _in_range(bits, 32)), _band(_sql(ip.raw), mask(smaller)), "BIGINT"), ip)


@register("ipv4_netmask_suffix", raw=True)
def ipv4_netmask_suffix(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    ip = v4_arg(c, e.args[0])
    if ip is None:
        return cast(null(), "BIGINT")
    return bind(_when(ip.valid, _sql(ip.bits), "BIGINT"), ip)


def _compared(c: ExprCompiler, e: B.BCall) -> tuple[Sql, Sql, Sql, V4, V4] | None:
    """Both addresses masked by the smallest prefix involved, the condition that all parse, the addresses."""
    a, b = v4_arg(c, e.args[0], "__ip_a"), v4_arg(c, e.args[1], "__ip_b")
    bits = _prefix_arg(c, e, 2, 32)
    if a is None or b is None or bits is None or isinstance(bits, int) and not 0 <= bits <= 32:
        return None
    m = mask(_least(a.bits, b.bits, bits))
    return _band(_sql(a.raw), m), _band(_sql(b.raw), m), _and(a.valid, b.valid, _in_range(bits, 32)), a, b


@register("ipv4_compare", raw=True)
def ipv4_compare(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    parts = _compared(c, e)
    if parts is None:
        return cast(null(), "BIGINT")
    x, y, ok, a, b = parts
    return bind(_when(ok, cast(fn("sign", exp.Sub(this=x, expression=y)), "BIGINT"), "BIGINT"), a, b)


@register("ipv4_is_match", raw=True)
def ipv4_is_match(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    parts = _compared(c, e)
    if parts is None:
        return cast(null(), "BOOLEAN")
    x, y, ok, a, b = parts
    return bind(_when(ok, exp.EQ(this=x, expression=y), "BOOLEAN"), a, b)


def _in_block(value: Sql, block: int, length: int) -> Sql:
    return exp.EQ(this=_shr(value, 32 - length), expression=number(block >> (32 - length)))


def _private_const(value: int, bits: int | None = None) -> bool:
    """`value` in a private block; given the network's `bits`, the whole network must fit in the block."""
    return any(value >> (32 - n) == block >> (32 - n) and (bits is None or bits >= n) for block, n in PRIVATE)


@register("ipv4_is_private", raw=True)
def ipv4_is_private(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    """Two RE2 tests answer a plain address or one with a /16-/32 prefix (seed 004 filters on this, so it
    must be fast); other inputs take the general parse, which also decides between the readings."""
    arg = e.args[0]
    text = const_str(arg)
    if text is not None:
        ip = v4_const(text)
        if ip is None:
            return cast(null(), "BOOLEAN")
        assert isinstance(ip.raw, int) and isinstance(ip.bits, int) and isinstance(ip.masked, int)
        readings = {_private_const(ip.raw), _private_const(ip.masked), _private_const(ip.masked, ip.bits)}
        if len(readings) > 1:
            raise unsupported("ipv4_is_private() of a network wider than /16 that straddles a private block", e.span)
        return exp.Boolean(this=readings.pop())
    sql = arg_string(c, arg, c.compile(arg))
    x = sql if isinstance(sql, exp.Column) else col("__ip_text")  # an expression is computed once
    ip = v4_sql(x)
    bits, masked = _sql(ip.bits), _sql(ip.masked)
    assert ip.first_octets is not None
    first, second = ip.first_octets
    unmasked_in = _or([
        exp.EQ(this=first, expression=number(10)),
        _and(exp.EQ(this=first, expression=number(172)), exp.Between(this=second, low=number(16), high=number(31))),
        _and(exp.EQ(this=first, expression=number(192)), exp.EQ(this=second, expression=number(168))),
    ])
    masked_in = _or([_in_block(masked, b, n) for b, n in PRIVATE])
    network_in = _or([_and(exp.GTE(this=bits, expression=number(n)), _in_block(masked, b, n)) for b, n in PRIVATE])
    # the address, its masked address or its whole network in a block: with a prefix of 16 or more they agree
    answer = case((exp.GTE(this=bits, expression=number(16)), unmasked_in),
                  (_and(exp.EQ(this=unmasked_in, expression=masked_in),
                        exp.EQ(this=masked_in, expression=network_in)), unmasked_in),
                  default=fail("ipv4_is_private() of a network wider than /16 that straddles a private block",
                               "BOOLEAN"))
    general = bind(_when(ip.valid, answer, "BOOLEAN"), ip)
    out = case((fn("regexp_full_match", x, string(PLAIN_V4_16)), fn("regexp_matches", x, string(PRIVATE_TEXT))),
               default=general)
    return out if x is sql else _let(sql, "__ip_text", out)


# ---------------------------------------------------------------- IPv4 ranges


def _in_network(ip: V4, r: V4) -> Sql:
    """The docs: "the long representation" of the address (its own prefix applied, as parse_ipv4 gives it)
    lies in the range."""
    return paren(exp.EQ(this=_band(_sql(ip.masked), mask(r.bits)), expression=_sql(r.masked)))


def _with_invalid(ip: V4, answer: Sql, all_valid: Sql | None, single: bool) -> Sql:
    """Null for an invalid address; a single invalid range gives null too (the docs), one among several is
    refused (null? skipped? the docs do not say)."""
    if all_valid is not None:
        invalid = cast(null(), "BOOLEAN") if single else fail("ipv4_is_in_any_range() with an invalid range",
                                                                 "BOOLEAN")
        answer = case((exp.Not(this=fn("coalesce", all_valid, exp.Boolean(this=False))), invalid), default=answer)
    return _when(ip.valid, answer, "BOOLEAN")


def _range_items(c: ExprCompiler, e: B.BCall) -> list[B.BExpr] | None:
    """The ranges as separate expressions (constant array elements become string literals), or None when
    they come as one non-constant dynamic array."""
    rest = list(e.args[1:])
    if len(rest) == 1 and rest[0].type.name == "dynamic":
        arg = rest[0]
        if not isinstance(arg, B.BLit):
            return None
        values = arg.value if isinstance(arg.value, list) else [arg.value]
        if not all(isinstance(v, str) for v in values):
            raise unsupported(f"{e.fn}() with ranges that are not all strings", arg.span)
        return [B.BLit(STRING, arg.span, v) for v in values]
    return rest


@register("ipv4_is_in_range", "ipv4_is_in_any_range", raw=True)
def ipv4_is_in_any_range(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    """One range: an invalid range gives null (the docs). Several: Kusto's answer when one is invalid is not
    documented (null? skipped?), so that is refused; an empty array matches nothing (false)."""
    ip = v4_arg(c, e.args[0])
    if ip is None:
        return cast(null(), "BOOLEAN")
    items = _range_items(c, e)
    if items is None:
        return _ranges_from_list(c, e, ip)
    single = len(items) == 1
    ranges: list[V4] = []
    for item in items:
        r = v4_arg(c, item, f"__ip_r{len(ranges)}")
        if r is None:
            if single:
                return cast(null(), "BOOLEAN")
            raise unsupported(f"{e.fn}() with the invalid range {const_str(item)!r} among several", item.span)
        ranges.append(r)
    unknown = [r.valid for r in ranges if not r.known]
    all_valid = _and(*unknown) if unknown else None
    return bind(_with_invalid(ip, _or([_in_network(ip, r) for r in ranges]), all_valid, single), ip, *ranges)


def _ranges_from_list(c: ExprCompiler, e: B.BCall, ip: V4) -> Sql:
    """Ranges in a non-constant dynamic array: a list_bool_or over the elements (an empty array: false)."""
    ranges = as_list(c, e.args[1].type, c.compile(e.args[1]), f"{e.fn}()", e.span, elem="VARCHAR")
    r = v4_sql(col("__range"), "__ip_r")
    hits = fn("list_transform", ranges, lam("__range", bind(_in_network(ip, r), r)))
    valid = fn("coalesce", r.valid, exp.Boolean(this=False))  # a null element is no range either
    all_valid = fn("coalesce", fn("list_bool_and", fn("list_transform", ranges, lam("__range", bind(valid, r)))),
                   exp.Boolean(this=True))
    size = fn("len", ranges)
    answer = _when(ip.valid, fn("coalesce", fn("list_bool_or", hits), exp.Boolean(this=False)), "BOOLEAN")
    invalid = case((exp.EQ(this=size, expression=number(1)), cast(null(), "BOOLEAN")),
                   default=fail("ipv4_is_in_any_range() with an invalid range", "BOOLEAN"))
    # a null array (not an array) gives null, as an unparsable range does
    return bind(case((exp.Is(this=ranges, expression=null()), cast(null(), "BOOLEAN")),
                     (exp.Not(this=all_valid), _when(ip.valid, invalid, "BOOLEAN")), default=answer), ip)


@register("ipv4_range_to_cidr_list", raw=True)
def ipv4_range_to_cidr_list(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    start, end = (const_str(a) for a in e.args)
    if start is not None and end is not None:
        first, last = parse_v4(start), parse_v4(end)
        if first is None or last is None or "/" in start + end or first[0] > last[0]:
            raise unsupported(f"ipv4_range_to_cidr_list({start!r}, {end!r}): not two plain addresses in order",
                              e.span)
    a, b = (arg_string(c, x, c.compile(x)) for x in e.args)
    return fn("kh_ipv4_range_to_cidr_list", a, b)


# ---------------------------------------------------------------- format_ipv4


def _dotted(v: Sql) -> Sql:
    parts: list[Sql] = []
    for shift in (24, 16, 8, 0):
        octet = _band(_shr(v, shift), _big(255)) if shift < 24 else _shr(v, shift)
        if parts:
            parts.append(string("."))
        parts.append(cast(octet, "VARCHAR"))
    return exp.Concat(expressions=parts)


@register("format_ipv4", "format_ipv4_mask", raw=True)
def format_ipv4(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    """The masked address as text ("" when it does not convert); `format_ipv4_mask` adds `/prefix`.

    A number is the address itself ("big-endian"): outside 0..2^32-1 Kusto's answer is not documented.
    A string of digits only might be read as a number too: refused.
    """
    arg = e.args[0]
    bits = _prefix_arg(c, e, 1, 32)
    if bits is None or isinstance(bits, int) and not 0 <= bits <= 32:
        return string("")
    guard: list[tuple[Sql, Sql]] = []
    if arg.type.name in ("int", "long"):
        value = c.compile(arg)
        if isinstance(arg, B.BLit) and arg.value is not None and not 0 <= int(arg.value) < TWO_32:  # type: ignore
            raise unsupported(f"{e.fn}() of the number {arg.value} (not a 32-bit address)", arg.span)
        value = cast(value, "BIGINT")
        guard.append((exp.Not(this=exp.Between(this=value, low=number(0), high=number(TWO_32 - 1))),
                       fail(f"{e.fn}() of a number outside 0..2^32-1", "VARCHAR")))
        ip: V4 | None = V4(exp.Not(this=exp.Is(this=value, expression=null())), value, 32)
    elif arg.type.name == "null":
        return string("")
    else:
        text = const_str(arg)
        if text is not None and text.isascii() and text.isdigit():
            raise unsupported(f"{e.fn}() of the digit string {text!r}", arg.span)
        if text is None:
            x = arg_string(c, arg, c.compile(arg))
            guard.append((fn("regexp_full_match", x, string("[0-9]+")),
                          fail(f"{e.fn}() of a string of digits", "VARCHAR")))
            ip = v4_sql(x)
        else:
            ip = v4_const(text)
    if ip is None:
        return string("")
    smaller = _least(ip.bits, bits)
    text_sql = _dotted(_band(_sql(ip.raw), mask(smaller)))
    if e.fn == "format_ipv4_mask":
        text_sql = exp.Concat(expressions=[text_sql, string("/"), cast(_sql(smaller), "VARCHAR")])
    ok = _and(ip.valid, _in_range(bits, 32))
    return bind(case(*guard, (fn("coalesce", ok, exp.Boolean(this=False)), text_sql), default=string("")), ip)


# ---------------------------------------------------------------- IPv4 in text


def parse_needle(text: str, prefix: bool) -> tuple[int, ...] | None:
    """A has_ipv4 needle -> its octets (a prefix needle may stop after `a.`, `a.b.` or `a.b.c.`), None if
    invalid (the function answers false). A needle in IP-prefix notation is refused: a range or invalid?"""
    if "/" in text and parse_v4(text) is not None:
        raise ValueError(text)
    partial = prefix and text.endswith(".")
    parts = (text[:-1] if partial else text).split(".")
    if not (len(parts) <= 3 if partial else len(parts) == 4):  # `a.b.c.d.` is neither form
        return None
    if not all(re.fullmatch(r"[0-9]{1,3}", p, re.ASCII) and int(p) <= 255 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _octet_re(value: int) -> str:
    """An octet of the given value in text: 1-3 digits, so up to 3 - len(value) leading zeros."""
    digits = str(value)
    return f"0{{0,{3 - len(digits)}}}{digits}" if len(digits) < 3 else digits


def needle_regex(octets: tuple[int, ...]) -> str:
    """An RE2 pattern for a delimited address of the text whose leading octets are `octets`."""
    parts = [_octet_re(o) for o in octets] + [OCTET_RE] * (4 - len(octets))
    return f"(?:^|[^{ALNUM}])" + r"\.".join(parts) + f"(?:$|[^{ALNUM}])"


@register("has_ipv4", "has_ipv4_prefix", "has_any_ipv4", "has_any_ipv4_prefix", raw=True)
def has_ipv4(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    """Constant needles become one RE2 search; others call `kh_has_ipv4` (the same rules, in Python)."""
    source = e.args[0]
    text = arg_string(c, source, c.compile(source))
    prefix = e.fn.endswith("_prefix")
    items = list(e.args[1:])
    if len(items) == 1 and items[0].type.name == "dynamic":
        arg = items[0]
        if not isinstance(arg, B.BLit):
            needles = as_list(c, arg.type, c.compile(arg), f"{e.fn}()", e.span, elem="VARCHAR")
            return fn("coalesce", fn("kh_has_ipv4", text, needles, exp.Boolean(this=prefix)),
                      exp.Boolean(this=False))
        values = arg.value if isinstance(arg.value, list) else [arg.value]
        constants: list[str] | None = [v for v in values if isinstance(v, str)]  # others are no address
    else:
        constants = [const_str(a) for a in items]  # type: ignore[misc]
        if any(v is None for v in constants):
            needles = exp.Array(expressions=[arg_string(c, a, c.compile(a)) for a in items])
            return fn("kh_has_ipv4", text, needles, exp.Boolean(this=prefix))
    wanted: list[tuple[int, ...]] = []
    for needle in constants or []:
        try:
            octets = parse_needle(needle, prefix)
        except ValueError:
            raise unsupported(f"{e.fn}() with the needle {needle!r} in IP-prefix notation", e.span) from None
        if octets is not None and octets not in wanted:
            wanted.append(octets)
    if not wanted:
        return exp.Boolean(this=False)
    pattern = "|".join(f"(?:{needle_regex(w)})" for w in wanted)
    return fn("regexp_matches", text, string(pattern))


# ---------------------------------------------------------------- IPv6


def _v6_text(c: ExprCompiler, arg: B.BExpr) -> Sql:
    return arg_string(c, arg, c.compile(arg))


def _v6_prefix(c: ExprCompiler, e: B.BCall, index: int) -> Sql:
    bits = _prefix_arg(c, e, index, 128)
    return cast(null(), "BIGINT") if bits is None else _sql(bits)


@register("parse_ipv6", "parse_ipv6_mask", raw=True)
def parse_ipv6(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    return fn("kh_ipv6_mask", _v6_text(c, e.args[0]), _v6_prefix(c, e, 1))


@register("ipv6_compare", raw=True)
def ipv6_compare(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    return fn("kh_ipv6_compare", _v6_text(c, e.args[0]), _v6_text(c, e.args[1]), _v6_prefix(c, e, 2))


@register("ipv6_is_match", raw=True)
def ipv6_is_match(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    compared = fn("kh_ipv6_compare", _v6_text(c, e.args[0]), _v6_text(c, e.args[1]), _v6_prefix(c, e, 2))
    return paren(exp.EQ(this=compared, expression=number(0)))


@register("ipv6_is_in_range", "ipv6_is_in_any_range", raw=True)
def ipv6_is_in_any_range(c: ExprCompiler, e: B.BCall, _: list[Sql]) -> Sql:
    address = _v6_text(c, e.args[0])
    rest = e.args[1:]
    if len(rest) == 1 and rest[0].type.name == "dynamic":
        arg = rest[0]
        if isinstance(arg, B.BLit):
            values = arg.value if isinstance(arg.value, list) else [arg.value]
            if not all(isinstance(v, str) for v in values):
                raise unsupported(f"{e.fn}() with ranges that are not all strings", arg.span)
            ranges: Sql = exp.Array(expressions=[string(v) for v in values])  # type: ignore[arg-type]
            if not values:
                ranges = cast(ranges, "VARCHAR[]")
        else:
            ranges = as_list(c, arg.type, c.compile(arg), f"{e.fn}()", e.span, elem="VARCHAR")
    else:
        ranges = exp.Array(expressions=[_v6_text(c, r) for r in rest])
    return fn("kh_ipv6_in_ranges", address, ranges)


__all__ = ["V4", "mask", "needle_regex", "parse_needle", "parse_v4", "v4_arg", "v4_sql"]
