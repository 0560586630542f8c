"""Signatures of the network functions: IPv4/IPv6 parsing, comparison, ranges and IPv4 text search.

Argument kinds were probed on Kusto.Language (the oracle): addresses, ranges and needles are strings
(a dynamic value is an error there, except the text searched by `has_ipv4*`, and the single array of
ranges or needles that the `*_any_*` functions take instead of a list of strings); prefixes are int or
long. `format_ipv4` takes a string or a number ("big-endian" long); other kinds are refused, since the
engine's conversion of them is not documented. Kusto.Language wants both arguments of
`format_ipv4_mask` although the docs make the prefix optional, so the one-argument form is refused.
Every function invents its column name (`Column1`, `print_0`).
"""

from __future__ import annotations

from kqlhunt.semantic.bound import BExpr
from kqlhunt.semantic.functions import TypeRule, TypeRuleError, UnsupportedTypes, scalar
from kqlhunt.semantic.types import BOOL, LONG, STRING, KType, array_of

MAX_LIST = 32768  # Kusto.Language: the `*_any_*` functions take up to 32768 arguments


def _kind(arg: BExpr, i: int, accepted: tuple[str, ...], what: str) -> None:
    name = arg.type.name
    if name not in accepted and name != "null":
        raise TypeRuleError(f"argument {i} must be {what}, not {name}")


def _strings(args: list[BExpr], first: int = 1) -> None:
    for i, a in enumerate(args, start=first):
        _kind(a, i, ("string",), "a string")


def _prefix(args: list[BExpr], at: int) -> None:
    """The optional prefix argument (0-based index `at`): an int or a long."""
    if len(args) > at:
        _kind(args[at], at + 1, ("int", "long"), "an integer prefix")


def addresses(result: KType, prefix_at: int | None = None) -> TypeRule:
    """String addresses, then (at `prefix_at`) an optional integer prefix."""

    def rule(args: list[BExpr]) -> KType:
        end = len(args) if prefix_at is None else min(prefix_at, len(args))
        _strings(args[:end])
        if prefix_at is not None:
            _prefix(args, prefix_at)
        return result

    return rule


def any_of(source_kinds: tuple[str, ...]) -> TypeRule:
    """(source, item, item, ...) or (source, dynamic array): the `*_any_*` functions' two forms."""

    def rule(args: list[BExpr]) -> KType:
        _kind(args[0], 1, source_kinds, " or ".join(source_kinds))
        rest = args[1:]
        if len(rest) == 1 and rest[0].type.name == "dynamic":
            return BOOL
        _strings(rest, first=2)
        return BOOL

    return rule


def _has_ipv4(args: list[BExpr]) -> KType:
    _kind(args[0], 1, ("string", "dynamic"), "a string or dynamic")
    _strings(args[1:], first=2)
    return BOOL


def _format_ipv4(args: list[BExpr]) -> KType:
    name = args[0].type.name
    if name not in ("string", "int", "long", "null"):
        raise UnsupportedTypes(f"format_ipv4() of a {name} value (convert it with tolong() or tostring())")
    _prefix(args, 1)
    return STRING


def _format_ipv4_mask(args: list[BExpr]) -> KType:
    if len(args) == 1:
        raise UnsupportedTypes("format_ipv4_mask() without a prefix (Kusto.Language requires one)")
    return _format_ipv4(args)


scalar("parse_ipv4", 1, 1, addresses(LONG))
scalar("parse_ipv4_mask", 2, 2, addresses(LONG, 1))
scalar("ipv4_netmask_suffix", 1, 1, addresses(LONG))
scalar("ipv4_is_private", 1, 1, addresses(BOOL))
scalar("ipv4_compare", 2, 3, addresses(LONG, 2))
scalar("ipv4_is_match", 2, 3, addresses(BOOL, 2))
scalar("ipv4_is_in_range", 2, 2, addresses(BOOL))
scalar("ipv4_is_in_any_range", 2, MAX_LIST, any_of(("string",)))
scalar("ipv4_range_to_cidr_list", 2, 2, addresses(array_of(STRING)))
scalar("format_ipv4", 1, 2, _format_ipv4)
scalar("format_ipv4_mask", 1, 2, _format_ipv4_mask)

scalar("has_ipv4", 2, 2, _has_ipv4)
scalar("has_ipv4_prefix", 2, 2, _has_ipv4)
scalar("has_any_ipv4", 2, MAX_LIST, any_of(("string", "dynamic")))
scalar("has_any_ipv4_prefix", 2, MAX_LIST, any_of(("string", "dynamic")))

scalar("parse_ipv6", 1, 1, addresses(STRING))
scalar("parse_ipv6_mask", 2, 2, addresses(STRING, 1))
scalar("ipv6_compare", 2, 3, addresses(LONG, 2))
scalar("ipv6_is_match", 2, 3, addresses(BOOL, 2))
scalar("ipv6_is_in_range", 2, 2, addresses(BOOL))
scalar("ipv6_is_in_any_range", 2, MAX_LIST, any_of(("string",)))
