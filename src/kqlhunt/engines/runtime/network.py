"""Kusto's IPv6 functions, IPv4 text search and CIDR lists in Python, as vectorised UDFs (`kh_ip*`).

The IPv4 functions over single addresses are SQL (`kqlhunt.sql.lowerings.network`); what needs 128-bit
arithmetic, a scan of free text or a variable-length answer lives here. One reading of an address serves
every function, so they all agree on what an address is:

- IPv4 notation is `a.b.c.d[/p]` under the rules of :mod:`kqlhunt.engines.runtime.ipv4` (four decimal
  octets of 1-3 ASCII digits, leading zeros read as decimal, prefix 0-32, no whitespace). The IPv6
  functions read it as the IPv4-mapped address `::ffff:a.b.c.d` with prefix `96 + p`.
- The docs' `parse_ipv6_mask` example reads `::a.b.c.d` the same way (`::192.168.255.255/24` becomes
  `...:ffff:c0a8:ff00`), so that form is IPv4 notation too; so is `::ffff:a.b.c.d` without a prefix
  (both readings are the same address).
- IPv6 notation is what :class:`ipaddress.IPv6Address` accepts (hex groups, one `::`), prefix 0-128.

Where the docs leave Kusto's answer open, the UDF raises :class:`UnknownAnswer` (the query stops) rather
than guess: other dotted forms (`64:ff9b::1.2.3.4`, `::ffff:1.2.3.4/24`), zone suffixes (`fe80::1%eth0`),
an explicit prefix argument below 96 applied to IPv4 notation where reading it as IPv6 bits and as
IPv4 bits (96 + prefix) give different answers, a list of ranges with an invalid one, and an
ipv4_range_to_cidr_list() input that is not a pair of plain addresses in order.

IPv4 in text (`has_ipv4` and friends, the docs: "properly delimited with non-alphanumeric characters"):
an address is four dot-separated runs of ASCII digits, not preceded and not followed by a letter or digit
(Unicode, as Kusto's terms); `.` is such a delimiter, so `1.2.3.4.5` holds both `1.2.3.4` and `2.3.4.5`.
Each run must be a valid octet (`127.0.0.256` holds no address, the docs). A needle matches an address of
the text by value, octet by octet (a prefix needle `a.`, `a.b.`, `a.b.c.` on its leading octets).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from kqlhunt.engines.runtime.ipv4 import parse_ipv4_prefix
from kqlhunt.engines.runtime.udfs import Udf, UnknownAnswer

FULL128 = (1 << 128) - 1
MAPPED = 0xFFFF << 32  # ::ffff:0:0, the IPv4-mapped block
CACHE = 1 << 16




# ---------------------------------------------------------------- reading addresses

_V6_PREFIX = re.compile(r"[0-9]{1,3}", re.ASCII)
_DOTTED_TAIL = re.compile(r"::(ffff:)?([0-9]+\.[0-9.]*(?:/[0-9]*)?)", re.ASCII | re.IGNORECASE)


def _mask128(bits: int) -> int:
    return FULL128 ^ ((1 << (128 - bits)) - 1)


@lru_cache(maxsize=CACHE)
def parse_ip(text: str) -> tuple[int, int, bool] | None:
    """An IPv6 function's argument -> (128-bit value, prefix 0-128, written in IPv4 notation), None if invalid.

    The value is unmasked: callers apply the prefix (and any explicit prefix argument) themselves.
    """
    v4 = parse_ipv4_prefix(text)
    if v4 is not None:
        return MAPPED | v4[0], 96 + v4[1], True
    tail = _DOTTED_TAIL.fullmatch(text)
    if tail is not None:
        inner = parse_ipv4_prefix(tail.group(2))
        if inner is None:
            return None
        if tail.group(1) and "/" in text:
            raise UnknownAnswer(f"an IPv4-mapped address with a prefix ({text!r})")
        return MAPPED | inner[0], 96 + inner[1], True
    address, slash, prefix = text.partition("/")
    if "." in address:
        # `1.2.3` or `256.0.0.1` is no address; `64:ff9b::1.2.3.4` is one, but how Kusto reads it is unknown
        if ":" in address and parse_ipv4_prefix(address.rsplit(":", 1)[1]) is not None:
            raise UnknownAnswer(f"an IPv6 address with an embedded IPv4 part ({text!r})")
        return None
    if "%" in address:
        raise UnknownAnswer(f"an IPv6 address with a zone ({text!r})")
    if slash and not _V6_PREFIX.fullmatch(prefix):
        return None
    bits = int(prefix) if slash else 128
    if bits > 128 or not address.isascii():
        return None
    try:
        value = int(ipaddress.IPv6Address(address))
    except ValueError:
        return None
    return value, bits, False


def canonical(value: int) -> str:
    """Kusto's canonical IPv6 text: eight groups of four lower-case hex digits."""
    text = f"{value:032x}"
    return ":".join(text[i:i + 4] for i in range(0, 32, 4))


def _explicit_prefix(prefix: int | None, parsed: Sequence[tuple[int, int, bool]]) -> list[int | None]:
    """The readings of an explicit prefix argument (None: out of its 0-128 range, no answer).

    The docs give the argument as 0-128, but their comments call 31 an "IPv4 prefix" for IPv4 addresses:
    below 96 with an IPv4-notation operand it may also mean 96 + prefix (0-32 only). Callers answer
    when all readings give the same result and refuse otherwise.
    """
    if prefix is None or not 0 <= prefix <= 128:
        return [None]
    if prefix < 96 and any(p[2] for p in parsed):
        return [prefix, 96 + prefix if prefix <= 32 else None]
    return [prefix]


def _agreed(answers: set[Any], what: str) -> Any:
    if len(answers) > 1:
        raise UnknownAnswer(f"{what} with a prefix below 96 on an IPv4 address (read as IPv6 or IPv4 bits)")
    return answers.pop()


def parse_ipv6_mask(text: str | None, prefix: int | None = 128) -> str:
    """Kusto `parse_ipv6_mask()` (and `parse_ipv6()` with prefix 128): canonical text, "" if invalid."""
    parsed = None if text is None else parse_ip(text)
    if parsed is None:
        return ""
    value, own, _ = parsed
    answers = {"" if bits is None else canonical(value & _mask128(min(own, bits)))
               for bits in _explicit_prefix(prefix, [parsed])}
    return _agreed(answers, "parse_ipv6_mask()")


def ipv6_compare(left: str | None, right: str | None, prefix: int | None = 128) -> int | None:
    """Kusto `ipv6_compare()`: -1/0/1 under the smallest prefix involved, None if an address is invalid."""
    a = None if left is None else parse_ip(left)
    b = None if right is None else parse_ip(right)
    if a is None or b is None:
        return None
    answers: set[int | None] = set()
    for bits in _explicit_prefix(prefix, [a, b]):
        if bits is None:
            answers.add(None)
            continue
        mask = _mask128(min(a[1], b[1], bits))
        x, y = a[0] & mask, b[0] & mask
        answers.add((x > y) - (x < y))
    return _agreed(answers, "ipv6_compare()/ipv6_is_match()")


def ipv6_is_match(left: str | None, right: str | None, prefix: int | None = 128) -> bool | None:
    compared = ipv6_compare(left, right, prefix)
    return None if compared is None else compared == 0


def in_ranges(address: tuple[int, int], ranges: Sequence[tuple[int, int] | None], what: str) -> bool | None:
    """Is the IPv6 address (value, prefix) in any of the ranges (value, prefix)?

    The docs: the address's "long representation" (its own prefix applied) lies in the range. An invalid
    range (None) gives None when it is the only one and is refused among several (null? skipped?).
    """
    if any(r is None for r in ranges):
        if len(ranges) == 1:
            return None
        raise UnknownAnswer(f"{what} with an invalid range among several")
    value, own = address
    masked = value & _mask128(own)
    return any(masked & _mask128(bits) == start & _mask128(bits) for start, bits in ranges)  # type: ignore[misc]


def ipv6_is_in_any_range(address: str | None, ranges: Sequence[str | None] | None) -> bool | None:
    """Kusto `ipv6_is_in_range()` / `ipv6_is_in_any_range()` (one range or several)."""
    parsed = None if address is None else parse_ip(address)
    if parsed is None or ranges is None:
        return None
    bounds = [None if r is None else parse_ip(r) for r in ranges]
    return in_ranges(parsed[:2], [None if b is None else b[:2] for b in bounds], "ipv6_is_in_any_range()")


# ---------------------------------------------------------------- IPv4 in free text

_OCTETS = re.compile(r"[0-9]{1,3}", re.ASCII)
# every start of four dot-separated digit runs that no letter or digit touches (a lookahead: they overlap)
_TEXT_ADDRESS = re.compile(r"(?<![^\W_])(?=([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)(?![^\W_]))")


def parse_needle(text: str, prefix: bool) -> tuple[int, ...] | None:
    """A has_ipv4 needle -> its octets; a prefix needle may also be `a.`, `a.b.` or `a.b.c.`.

    None for an invalid needle (the functions then answer false); a needle in IP-prefix notation
    (`10.0.0.0/8`) is refused: the docs do not say whether it is invalid or a range.
    """
    if "/" in text and parse_ipv4_prefix(text) is not None:
        raise UnknownAnswer(f"has_ipv4() with the needle {text!r} in IP-prefix notation")
    partial = prefix and text.endswith(".")
    parts = (text[:-1] if partial else text).split(".")
    if not (len(parts) <= 3 if partial else len(parts) == 4):  # `a.b.c.d.` is neither form
        return None
    if not all(_OCTETS.fullmatch(p) and int(p) <= 255 for p in parts):
        return None
    return tuple(int(p) for p in parts)


@lru_cache(maxsize=CACHE)
def text_addresses(text: str) -> frozenset[tuple[int, int, int, int]]:
    """The properly delimited IPv4 addresses in a text, as octet tuples."""
    out = set()
    for match in _TEXT_ADDRESS.finditer(text):
        runs = match.groups()
        if all(len(r) <= 3 and int(r) <= 255 for r in runs):
            out.add(tuple(int(r) for r in runs))
    return frozenset(out)  # type: ignore[arg-type]


def has_any_ipv4(text: str | None, needles: Sequence[str | None] | None, prefix: bool) -> bool:
    """Kusto `has_ipv4` / `has_ipv4_prefix` / `has_any_ipv4` / `has_any_ipv4_prefix`."""
    if not text or not needles:
        return False
    wanted = [parse_needle(n, prefix) for n in needles if isinstance(n, str)]
    wanted = [w for w in wanted if w is not None]
    if not wanted:
        return False
    found = text_addresses(text)
    return any(address[:len(w)] == w for w in wanted for address in found)


# ---------------------------------------------------------------- ipv4_range_to_cidr_list


def ipv4_range_to_cidr_list(start: str | None, end: str | None) -> list[str] | None:
    """The fewest CIDR blocks covering [start, end], in address order (the docs' example).

    Inputs must be two plain IPv4 addresses with start <= end; anything else is refused (the docs do not
    say what a prefix, an invalid address or a reversed range gives).
    """
    first = None if start is None else parse_ipv4_prefix(start)
    last = None if end is None else parse_ipv4_prefix(end)
    if first is None or last is None or "/" in (start or "") + (end or "") or first[0] > last[0]:
        raise UnknownAnswer(f"ipv4_range_to_cidr_list({start!r}, {end!r})")
    low, high = first[0], last[0]
    out: list[str] = []
    while low <= high:
        size = (low & -low).bit_length() - 1 if low else 32  # the largest block aligned at `low`
        while low + (1 << size) - 1 > high:
            size -= 1
        out.append(f"{low >> 24}.{(low >> 16) & 255}.{(low >> 8) & 255}.{low & 255}/{32 - size}")
        low += 1 << size
    return out


# ---------------------------------------------------------------- UDFs


def _rows(func: Callable[..., Any], out_type: Any) -> Callable[..., Any]:
    """A row-wise Python function as an Arrow UDF (nulls reach the function as None)."""

    def udf(*arrays: Any) -> Any:
        import pyarrow as pa

        columns = [a.to_pylist() for a in arrays]
        return pa.array([func(*row) for row in zip(*columns, strict=True)], type=out_type())

    return udf


def _pa(name: str) -> Callable[[], Any]:
    def make() -> Any:
        import pyarrow as pa

        return pa.list_(pa.string()) if name == "list" else getattr(pa, name)()

    return make


UDFS = (
    Udf("kh_ipv6_mask", _rows(parse_ipv6_mask, _pa("string")), ("VARCHAR", "BIGINT"), "VARCHAR"),
    Udf("kh_ipv6_compare", _rows(ipv6_compare, _pa("int64")), ("VARCHAR", "VARCHAR", "BIGINT"), "BIGINT"),
    Udf("kh_ipv6_in_ranges", _rows(ipv6_is_in_any_range, _pa("bool_")), ("VARCHAR", "VARCHAR[]"), "BOOLEAN"),
    Udf("kh_has_ipv4", _rows(has_any_ipv4, _pa("bool_")), ("VARCHAR", "VARCHAR[]", "BOOLEAN"), "BOOLEAN"),
    Udf("kh_ipv4_range_to_cidr_list", _rows(ipv4_range_to_cidr_list, _pa("list")), ("VARCHAR", "VARCHAR"),
        "VARCHAR[]"),
)

__all__ = [
    "UDFS",
    "UnknownAnswer",
    "canonical",
    "has_any_ipv4",
    "in_ranges",
    "ipv4_range_to_cidr_list",
    "ipv6_compare",
    "ipv6_is_in_any_range",
    "ipv6_is_match",
    "parse_ip",
    "parse_ipv6_mask",
    "parse_needle",
    "text_addresses",
]
