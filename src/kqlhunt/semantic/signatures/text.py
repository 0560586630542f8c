"""Signatures of the text functions: strings, encodings, hashes, URLs and regex helpers (see
kqlhunt.semantic.functions for the helpers and conventions).

Argument kinds, the arguments that must be constants and the result names were probed on Kusto.Language
(the oracle): most functions take a `string` (a `dynamic` value is converted) and name their result
`Column1`; `parse_csv`, `parse_xml`, `format_bytes`, `tohex` and `split` are named after their first
argument and `string_size(x)` is `string_size_x`. Functions that convert any scalar to text (`indexof`,
`strcmp`, `strcat_delim`, `strrep`, `regex_quote`, ...) accept every type. A rule raises `TypeRuleError`
where Kusto rejects the query and `UnsupportedTypes` where kqlhunt cannot answer exactly.

Entries here override the core table for `indexof`, `countof`, `split`, `extract_all`, `parse_url`,
`tohex` and `url_encode` (argument checks the core does not make).
"""

from __future__ import annotations

import re

from kqlhunt.semantic.bound import BExpr, BLit, BType
from kqlhunt.semantic.functions import TypeRuleError, UnsupportedTypes, const, scalar
from kqlhunt.semantic.types import BOOL, DECIMAL, DYNAMIC, GUID, LONG, STRING, KType, array_of

INTEGERS = ("int", "long")
TEXT = ("string", "dynamic")


def _kind(args: list[BExpr], i: int, fn: str, accepted: tuple[str, ...], what: str) -> None:
    name = args[i].type.name
    if name not in accepted and name != "null":
        raise TypeRuleError(f"argument {i + 1} of {fn}() must be {what}, not {name}")


def texts(result: KType, fn: str):
    """Every argument is a string (or a dynamic value, converted); a fixed result type."""

    def rule(args: list[BExpr]) -> KType:
        for i in range(len(args)):
            _kind(args, i, fn, TEXT, "a string")
        return result

    return rule


def _constant(args: list[BExpr], i: int, fn: str) -> object:
    if not isinstance(args[i], BLit):
        raise TypeRuleError(f"argument {i + 1} of {fn}() must be a constant")
    return args[i].value  # type: ignore[attr-defined]


def _no_dynamic(args: list[BExpr], fn: str) -> None:
    for i, a in enumerate(args):
        if a.type.name == "dynamic":
            raise TypeRuleError(f"argument {i + 1} of {fn}(): a dynamic value is not allowed here")


# ---------------------------------------------------------------- base64 and compression

scalar("base64_decode_toarray", 1, 1, texts(array_of(LONG), "base64_decode_toarray"))
scalar("base64_decode_toguid", 1, 1, texts(GUID, "base64_decode_toguid"))


def _encode_fromarray(args: list[BExpr]) -> KType:
    _kind(args, 0, "base64_encode_fromarray", ("dynamic",), "a dynamic array of bytes")
    return STRING


def _encode_fromguid(args: list[BExpr]) -> KType:
    _kind(args, 0, "base64_encode_fromguid", ("guid",), "a guid")
    return STRING


scalar("base64_encode_fromarray", 1, 1, _encode_fromarray)
scalar("base64_encode_fromguid", 1, 1, _encode_fromguid)
for _name in ("gzip_compress_to_base64_string", "gzip_decompress_from_base64_string",
              "zlib_compress_to_base64_string", "zlib_decompress_from_base64_string"):
    scalar(_name, 1, 1, texts(STRING, _name))

# ---------------------------------------------------------------- hashes


def _hash(fn: str):
    def rule(args: list[BExpr]) -> KType:
        _no_dynamic(args[:1], fn)
        if len(args) > 1:
            _kind(args, 1, fn, INTEGERS, "an integer modulus")
        return LONG

    return rule


scalar("hash", 1, 2, _hash("hash"))
scalar("hash_xxhash64", 1, 2, _hash("hash_xxhash64"))


def _hash_combine(args: list[BExpr]) -> KType:
    raise UnsupportedTypes("hash_combine() (Kusto's way of combining hashes is not documented)")


def _hash_many(args: list[BExpr]) -> KType:
    _no_dynamic(args, "hash_many")
    raise UnsupportedTypes("hash_many() (Kusto's way of combining hashes is not documented)")


scalar("hash_combine", 2, -1, _hash_combine)
scalar("hash_many", 1, -1, _hash_many)

# ---------------------------------------------------------------- searching


def _indexof(args: list[BExpr]) -> KType:
    for i in range(2, len(args)):
        _kind(args, i, "indexof", INTEGERS, "an integer")
    if len(args) == 5:
        _constant(args, 4, "indexof")
    return LONG


def _indexof_regex(args: list[BExpr]) -> KType:
    _kind(args, 1, "indexof_regex", ("string",), "a regular expression")
    _constant(args, 1, "indexof_regex")
    for i in range(2, len(args)):
        _kind(args, i, "indexof_regex", INTEGERS, "an integer")
    if len(args) == 5:
        _constant(args, 4, "indexof_regex")
    return LONG


def _countof(args: list[BExpr]) -> KType:
    _kind(args, 0, "countof", TEXT, "a string")
    _kind(args, 1, "countof", TEXT, "a string")
    if len(args) == 3 and _constant(args, 2, "countof") not in ("normal", "regex"):
        raise TypeRuleError("the kind of countof() must be \"normal\" or \"regex\"")
    return LONG


scalar("indexof", 2, 5, _indexof)
scalar("indexof_regex", 2, 5, _indexof_regex)
scalar("countof", 2, 3, _countof)

# ---------------------------------------------------------------- regular expressions


def capture_groups(pattern: str) -> tuple[int, dict[str, int]]:
    """The number of capturing groups of an RE2 pattern and the index of each named one.

    A scan rather than Python's `re` (whose syntax differs: `\\p{L}`, `(?P<n>` vs `(?<n>`): it skips
    escapes and character classes and counts `(` that is not `(?...` unless it opens a named group."""
    count, names, i, n = 0, {}, 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1  # a leading `]` is a literal
            while i < n and pattern[i] != "]":
                if pattern[i] == "\\":
                    i += 1
                elif pattern.startswith("[:", i):
                    end = pattern.find(":]", i + 2)
                    i = end + 1 if end >= 0 else i
                i += 1
            i += 1
            continue
        if ch == "(":
            named = re.match(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>", pattern[i:])
            if named:
                count += 1
                names[named.group(1)] = count
            elif not pattern.startswith("(?", i):
                count += 1
        i += 1
    return count, names


def _extract_all(args: list[BExpr]) -> KType:
    pattern = _constant(args, 0, "extract_all")
    if not isinstance(pattern, str):
        raise TypeRuleError("the regular expression of extract_all() must be a string")
    _kind(args, len(args) - 1, "extract_all", TEXT, "a string")
    if len(args) == 3:
        _kind(args, 1, "extract_all", ("dynamic",), "a dynamic array of capture groups")
        if not isinstance(args[1], BLit):
            raise UnsupportedTypes("extract_all() with non-constant capture groups")
        count, names = capture_groups(pattern)
        groups = args[1].value
        if not isinstance(groups, list) or not groups:
            raise TypeRuleError("the capture groups of extract_all() must be a non-empty array")
        for g in groups:
            if isinstance(g, str) and g not in names:
                raise TypeRuleError(f"extract_all(): the regular expression has no group named `{g}`")
            if isinstance(g, bool) or not isinstance(g, int | str) or isinstance(g, int) and not 1 <= g <= count:
                raise TypeRuleError(f"extract_all(): capture group {g!r} is not between 1 and {count}")
    return DYNAMIC


scalar("extract_all", 2, 3, _extract_all, "none", "extractall")
scalar("regex_quote", 1, 1, const(STRING))

# ---------------------------------------------------------------- building and comparing strings


def _strrep(args: list[BExpr]) -> KType:
    _kind(args, 1, "strrep", INTEGERS, "an integer")
    return STRING


def _unicode_to_string(args: list[BExpr]) -> KType:
    for i in range(len(args)):
        _kind(args, i, "unicode_codepoints_to_string", (*INTEGERS, "dynamic"), "an integer or a dynamic array")
    return STRING


scalar("strcat_delim", 3, 65, const(STRING))
scalar("strcmp", 2, 2, const(LONG))
scalar("string_size", 1, 1, texts(LONG, "string_size"), "prefix:string_size")
scalar("strrep", 2, 3, _strrep)
scalar("translate", 3, 3, texts(STRING, "translate"))


def _replace_strings(args: list[BExpr]) -> KType:
    _kind(args, 0, "replace_strings", TEXT, "a string")
    for i in (1, 2):
        _kind(args, i, "replace_strings", ("dynamic",), "a dynamic array")
    return STRING


scalar("replace_strings", 3, 3, _replace_strings)
scalar("unicode_codepoints_from_string", 1, 1, const(array_of(LONG)), "none", "to_utf8")
scalar("unicode_codepoints_to_string", 1, 64, _unicode_to_string, "none", "make_string")
scalar("isutf8", 1, 1, const(BOOL))
scalar("new_guid", 0, 0, const(GUID))


def _tohex(args: list[BExpr]) -> KType:
    for i in range(len(args)):
        _kind(args, i, "tohex", INTEGERS, "an integer")
    return STRING


scalar("tohex", 1, 2, _tohex, "first")

_BYTE_UNITS = ("Bytes", "KB", "MB", "GB", "TB", "PB", "EB")


def _format_bytes(args: list[BExpr]) -> KType:
    _kind(args, 0, "format_bytes", (*INTEGERS, "real", "decimal"), "a number")
    if len(args) > 1:
        _kind(args, 1, "format_bytes", INTEGERS, "an integer precision")
        _constant(args, 1, "format_bytes")
    if len(args) > 2:
        _kind(args, 2, "format_bytes", ("string",), "a unit name")
        unit = _constant(args, 2, "format_bytes")
        if unit not in ("", *_BYTE_UNITS):
            raise UnsupportedTypes(f"format_bytes() in units {unit!r} (kqlhunt knows {', '.join(_BYTE_UNITS)})")
    return STRING


scalar("format_bytes", 1, 3, _format_bytes, "first")

# ---------------------------------------------------------------- parsing


def _split(args: list[BExpr]) -> KType:
    _kind(args, 1, "split", TEXT, "a string delimiter")
    if len(args) == 3:
        _kind(args, 2, "split", INTEGERS, "an integer index")
    return array_of(STRING)


scalar("split", 2, 3, _split, "first")
scalar("parse_csv", 1, 1, texts(array_of(STRING), "parse_csv"), "first")


def _parse_command_line(args: list[BExpr]) -> KType:
    _kind(args, 1, "parse_command_line", TEXT, "a parser name")
    kind = args[1].value if isinstance(args[1], BLit) else None
    if kind != "windows":
        raise UnsupportedTypes('parse_command_line() with a parser other than the constant "windows"')
    return array_of(STRING)


scalar("parse_command_line", 2, 2, _parse_command_line)
scalar("parse_urlquery", 1, 1, texts(DYNAMIC, "parse_urlquery"), "none", "parseurlquery")
scalar("parse_url", 1, 1, texts(DYNAMIC, "parse_url"), "none", "parseurl")
scalar("parse_version", 1, 1, texts(DECIMAL, "parse_version"))
scalar("parse_xml", 1, 1, texts(DYNAMIC, "parse_xml"), "first")

# ---------------------------------------------------------------- URLs and IDNA

for _name in ("url_encode", "url_encode_component", "punycode_from_string", "punycode_to_string",
              "punycode_domain_from_string", "punycode_domain_to_string"):
    scalar(_name, 1, 1, texts(STRING, _name))

# ---------------------------------------------------------------- JSON

_JSON_TARGETS = ("string", "long", "int", "real", "datetime", "bool", "guid", "dynamic")
_PATH_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\['([^'\\]*)'\]|\[\"([^\"\\]*)\"\]|\[(\d+)\]")


def json_path(path: str) -> list[str | int] | None:
    """The documented JSONPath subset: `$`, `.name`, `['name']`, `["name"]`, `[n]` (no wildcards,
    recursion, unions or slices); None for anything else."""
    if not path.startswith("$"):
        return None
    steps: list[str | int] = []
    i = 1
    while i < len(path):
        m = _PATH_STEP.match(path, i)
        if not m:
            return None
        index = m.group(4)
        steps.append(int(index) if index is not None else next(g for g in m.groups()[:3] if g is not None))
        i = m.end()
    return steps


def _extract_json(args: list[BExpr]) -> KType:
    _kind(args, 0, "extract_json", ("string",), "a JSONPath")
    path = _constant(args, 0, "extract_json")
    if isinstance(path, str) and json_path(path) is None:
        raise UnsupportedTypes(f"extract_json() with the path {path!r} (kqlhunt reads $, .name, ['name'], [n])")
    _kind(args, 1, "extract_json", TEXT, "a JSON string")
    if len(args) == 3:
        target = args[2]
        if not isinstance(target, BType):
            raise TypeRuleError("the 3rd argument of extract_json() must be typeof(T)")
        if target.type.name not in _JSON_TARGETS:
            raise UnsupportedTypes(f"extract_json() converting to {target.type.name}")
        return target.type
    return STRING


scalar("extract_json", 2, 3, _extract_json, "none", "extractjson")
