"""Python UDFs for the text functions whose rules SQL cannot state exactly: base64 to bytes and guids,
gzip/zlib, xxhash64, punycode, URL encoding, CSV and Windows command lines, XML to JSON, JSONPath,
`replace_strings`, `format_bytes` and `indexof` with a search window.

Where Kusto's answer for some input is not documented and the plausible implementations disagree, the
UDF raises `Inexact` instead of guessing: the query fails (KH410) rather than answering differently from
Kusto. Each such case says which readings disagree.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
import uuid
import zlib
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from xml.dom import minidom
from xml.parsers.expat import ExpatError

import pyarrow as pa

from kqlhunt.engines.runtime.udfs import Udf, UnknownAnswer
from kqlhunt.semantic.signatures.text import json_path

Inexact = UnknownAnswer  # a row whose exact Kusto answer is unknown: the query stops instead of guessing


def _rows(*arrays: pa.Array) -> Iterable[tuple]:
    return zip(*(a.to_pylist() for a in arrays), strict=True)


def _udf(func: Callable[..., Any], arity: int, out: pa.DataType) -> Callable[..., pa.Array]:
    """Row-wise function -> vectorised UDF. DuckDB reads the number of parameters from the Python
    signature, so each arity gets its own wrapper."""

    def run(*arrays: pa.Array) -> pa.Array:
        return pa.array([func(*row) for row in _rows(*arrays)], type=out)

    wrappers: dict[int, Callable[..., pa.Array]] = {
        1: lambda a: run(a),
        2: lambda a, b: run(a, b),
        3: lambda a, b, c: run(a, b, c),
        5: lambda a, b, c, d, e: run(a, b, c, d, e),
        6: lambda a, b, c, d, e, f: run(a, b, c, d, e, f),
    }
    return wrappers[arity]


# ---------------------------------------------------------------- base64

_B64_SPACE = re.compile(r"[ \t\r\n]")


def b64_bytes(text: str | None) -> bytes | None:
    """Strict base64 as .NET's Convert.FromBase64String reads it: whitespace is skipped, the padding is
    required (Kusto: base64_encode_fromarray(base64_decode_toarray(<unpadded>)) is empty)."""
    if text is None:
        return None
    try:
        return base64.b64decode(_B64_SPACE.sub("", text), validate=True)
    except (binascii.Error, ValueError):
        return None


def _b64_to_array(text: str | None) -> list[int] | None:
    data = b64_bytes(text)
    return None if data is None else list(data)


def _b64_to_guid(text: str | None) -> str | None:
    # .NET's Guid(byte[]) layout (the inverse of the documented base64_encode_fromguid example)
    data = b64_bytes(text)
    return str(uuid.UUID(bytes_le=data)) if data is not None and len(data) == 16 else None


def _b64_from_array(text: str | None) -> str:
    value = None if text is None else json.loads(text)
    if not isinstance(value, list):
        return ""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise Inexact("base64_encode_fromarray() of an array holding values that are not integers")
    if not all(0 <= v <= 255 for v in value):
        raise Inexact("base64_encode_fromarray() of an array holding integers outside 0..255")
    return base64.b64encode(bytes(value)).decode("ascii")


def _b64_from_guid(text: str | None) -> str:
    if not text:
        return ""
    return base64.b64encode(uuid.UUID(text).bytes_le).decode("ascii")


# ---------------------------------------------------------------- gzip and zlib

# Kusto's documented outputs ("1234567890qwertyuiop") are one stored (uncompressed) deflate block, in a
# zlib stream with header 78 01 and a gzip member with MTIME 0, XFL 0, OS 255. Two engines reproduce both
# (zlib/.NET at level 0; libdeflate, which stores inputs of at most 55 - 4*level bytes, gzip at a level in
# 2..7 and zlib at 0..1); they agree only for short non-empty inputs, so longer ones are refused.
GZIP_STORED_MAX = 27
ZLIB_STORED_MAX = 51


def _stored_block(data: bytes) -> bytes:
    return b"\x01" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data


def _compress(text: str | None, gzip: bool) -> str:
    data = (text or "").encode("utf-8")
    limit = GZIP_STORED_MAX if gzip else ZLIB_STORED_MAX
    if not data or len(data) > limit:
        raise Inexact(f"{'gzip' if gzip else 'zlib'}_compress_to_base64_string() of an empty string or of more "
                      f"than {limit} bytes (Kusto's compressor is not documented)")
    if gzip:
        header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
        trailer = struct.pack("<II", zlib.crc32(data), len(data))
        packed = header + _stored_block(data) + trailer
    else:
        packed = b"\x78\x01" + _stored_block(data) + struct.pack(">I", zlib.adler32(data))
    return base64.b64encode(packed).decode("ascii")


def _utf8(data: bytes, fn: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Inexact(f"{fn}() of data that is not UTF-8 text") from None


def _gzip_decompress(text: str | None) -> str:
    data = b64_bytes(text)
    # the docs: ID1, ID2 and CM are checked, FLG must be 0 and optional header fields are not supported
    if data is None or len(data) < 10 or data[:3] != b"\x1f\x8b\x08" or data[3] != 0:
        return ""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data[10:])
    except zlib.error:
        return ""
    if not inflater.eof:
        return ""
    return _utf8(out, "gzip_decompress_from_base64_string")


def _zlib_decompress(text: str | None) -> str:
    data = b64_bytes(text)
    if data is None:
        return ""
    try:
        out = zlib.decompress(data, zlib.MAX_WBITS)
    except zlib.error:
        return ""
    return _utf8(out, "zlib_decompress_from_base64_string")


# ---------------------------------------------------------------- xxhash64

_M64 = (1 << 64) - 1
_P1, _P2, _P3, _P4, _P5 = (11400714785074694791, 14029467366897019727, 1609587929392839161,
                           9650029242287828579, 2870177450012600261)


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def _round(acc: int, lane: int) -> int:
    return (_rotl((acc + lane * _P2) & _M64, 31) * _P1) & _M64


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64 (unsigned), for when the `xxhash` package is not installed."""
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + _P1 + _P2) & _M64, (seed + _P2) & _M64, seed, (seed - _P1) & _M64]
        while i + 32 <= n:
            for k in range(4):
                v[k] = _round(v[k], int.from_bytes(data[i + 8 * k:i + 8 * k + 8], "little"))
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M64
        for k in range(4):
            h = (((h ^ _round(0, v[k])) * _P1) + _P4) & _M64
    else:
        h = (seed + _P5) & _M64
    h = (h + n) & _M64
    while i + 8 <= n:
        h ^= _round(0, int.from_bytes(data[i:i + 8], "little"))
        h = (_rotl(h, 27) * _P1 + _P4) & _M64
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i:i + 4], "little") * _P1) & _M64
        h = (_rotl(h, 23) * _P2 + _P3) & _M64
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M64
        h = (_rotl(h, 11) * _P1) & _M64
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M64
    h ^= h >> 29
    h = (h * _P3) & _M64
    return h ^ (h >> 32)


try:
    from xxhash import xxh64_intdigest as _xxh64
except ImportError:  # the optional accelerator
    _xxh64 = xxh64


def _signed(h: int) -> int:
    return h - (1 << 64) if h >= 1 << 63 else h


def _hash_string(text: str | None) -> int | None:
    # measured (docs and frozen results): hash("World") is XXH64 of the UTF-8 bytes, seed 0
    return None if text is None else _signed(_xxh64(text.encode("utf-8")))


def _hash_long(value: int | None) -> int | None:
    # measured: hash(datetime(2015-01-01)) is XXH64 of the 8 little-endian bytes of its ticks
    return None if value is None else _signed(_xxh64(struct.pack("<q", value)))


# ---------------------------------------------------------------- indexof with a window


def _occurrences(text: str, lookup: str, first: int, stop: int, overlapping: bool) -> list[int]:
    """Positions in [first, stop) where `lookup` starts (it may run past `stop`)."""
    found, i = [], text.find(lookup, first)
    while 0 <= i < stop:
        found.append(i)
        i = text.find(lookup, i + (1 if overlapping else max(len(lookup), 1)))
    return found


def _indexof(text: str | None, lookup: str | None, start: int | None, length: int | None,
             occurrence: int | None) -> int | None:
    """indexof(text, lookup, start, length, occurrence). Measured (frozen results): the window holds the
    positions where a match may *start*; -5 counts from the end; length -1 is unlimited."""
    if text is None or lookup is None or start is None or length is None or occurrence is None:
        return None
    if occurrence < 0 or length < -1:
        return None
    if start < 0:
        start += len(text)
        if start < 0:
            raise Inexact("indexof() with a negative start before the beginning of the string")
    if occurrence == 0 or not lookup or start > len(text):
        raise Inexact("indexof() with occurrence 0, an empty lookup or a start past the end of the string")
    stop = len(text) if length == -1 else min(start + length, len(text))
    readings = {tuple(_occurrences(text, lookup, start, stop, o)[occurrence - 1:occurrence]) for o in (True, False)}
    if len(readings) > 1:
        raise Inexact("indexof() counting occurrences of a lookup that overlaps itself")
    hit = readings.pop()
    return hit[0] if hit else -1


def _match_starts(gaps: list[str], matches: list[str]) -> list[int]:
    """Where each match starts, from DuckDB's split (the gaps) and its list of matches."""
    if any(m == "" for m in matches) or len(gaps) != len(matches) + 1:
        raise Inexact("indexof_regex() of a regular expression that matches the empty string")
    starts, at = [], 0
    for gap, match in zip(gaps, matches, strict=False):
        at += len(gap)
        starts.append(at)
        at += len(match)
    return starts


def _regex_nth(gaps: list[str] | None, matches: list[str] | None, window_gaps: list[str] | None,
               window_matches: list[str] | None, length: int | None, occurrence: int | None) -> int | None:
    """The occurrence-th match of indexof_regex, relative to `start`, or -1. With a length, a match may
    have to start inside the window (as indexof() measures) or to fit inside it: both must agree."""
    if gaps is None or matches is None or length is None or occurrence is None:
        return None
    starts = _match_starts(gaps, matches)
    if length != -1:
        starts = [s for s in starts if s < length]
        inside = _match_starts(window_gaps or [""], window_matches or [])
        if inside[occurrence - 1:occurrence] != starts[occurrence - 1:occurrence]:
            raise Inexact("indexof_regex() where a match runs past the end of the search window")
    return starts[occurrence - 1] if len(starts) >= occurrence else -1


# ---------------------------------------------------------------- URLs


def _url_encode(text: str | None, component: bool | None) -> str:
    """.NET's HttpUtility.UrlEncode (lowercase hex; letters, digits and -_.!*() kept; space as `+`), the
    rule both documented examples follow; url_encode_component writes the space as %20."""
    out = []
    for ch in text or "":
        if ch.isascii() and (ch.isalnum() or ch in "-_.!*()"):
            out.append(ch)
        elif ch == " ":
            out.append("%20" if component else "+")
        else:
            out.append("".join(f"%{b:02x}" for b in ch.encode("utf-8")))
    return "".join(out)


def _urlquery(text: str | None) -> str:
    """The `Query Parameters` bag of parse_urlquery/parse_url: key=value pairs separated by `&`."""
    bag: dict[str, str] = {}
    for part in (text or "").split("&"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq or not key:
            raise Inexact("a URL query parameter without a key or without `=`")
        if any(c in part for c in "%+"):
            raise Inexact("a URL query parameter holding %-escapes or `+` (decoded or not?)")
        if key in bag:
            raise Inexact(f"a URL query parameter given twice ({key!r})")
        bag[key] = value
    return json.dumps(bag, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- punycode (RFC 3492, labels as-is)

# The documented examples keep case and spaces ("xn--L Li-gpa4517b"): plain RFC 3492 per label, no IDNA
# mapping. Label separators are the full stops IDNA recognises.
_DOTS = re.compile("[.\u3002\uff0e\uff61]")


def _puny_encode(text: str | None) -> str:
    try:
        return (text or "").encode("punycode").decode("ascii")
    except UnicodeError:
        return ""


def _puny_decode(text: str | None) -> str:
    if not text:
        return ""
    if not text.isascii():
        return ""  # the docs: the input must hold only ASCII characters
    try:
        return text.encode("ascii").decode("punycode")
    except UnicodeError:
        return ""


def _domain_to_puny(text: str | None) -> str:
    labels = _DOTS.split(text or "")
    out = []
    for label in labels:
        if label.isascii():
            out.append(label)
            continue
        encoded = _puny_encode(label)
        if not encoded:
            return ""
        out.append("xn--" + encoded)
    return ".".join(out)


def _domain_from_puny(text: str | None) -> str:
    out = []
    for label in (text or "").split("."):
        if label[:4].lower() == "xn--":
            if label[:4] != "xn--":
                raise Inexact("punycode_domain_from_string() of an upper-case `XN--` prefix")
            decoded = _puny_decode(label[4:])
            if not decoded:
                return ""
            out.append(decoded)
        elif not label.isascii():
            raise Inexact("punycode_domain_from_string() of a label that is not ASCII")
        else:
            out.append(label)
    return ".".join(out)


# ---------------------------------------------------------------- regex_quote

# .NET's Regex.Escape and RE2's QuoteMeta both escape these with a backslash; they disagree about other
# punctuation (`-`, `/`, `]`, ...) and control characters, so those are refused.
_QUOTED = set("\\*+?|{[()^$.# ")


def _regex_quote(text: str | None) -> str:
    out = []
    for ch in text or "":
        if ch in _QUOTED:
            out.append("\\" + ch)
        elif ch == "_" or ch.isalnum() or not ch.isascii():
            out.append(ch)
        else:
            raise Inexact(f"regex_quote() of {ch!r} (escaped by RE2's QuoteMeta, not by .NET's Regex.Escape)")
    return "".join(out)


# ---------------------------------------------------------------- replace_strings


def _replace_strings(text: str | None, lookups: str | None, rewrites: str | None) -> str:
    """Documented: each lookup in order replaces its (non-overlapping) matches in the text not already
    matched by an earlier lookup; a non-string rewrite keeps the match, which still shields it."""
    finds = None if lookups is None else json.loads(lookups)
    subs = None if rewrites is None else json.loads(rewrites)
    if not isinstance(finds, list) or not isinstance(subs, list):
        raise Inexact("replace_strings() with lookups or rewrites that are not arrays")
    if len(subs) < len(finds):
        raise Inexact("replace_strings() with fewer rewrites than lookups")
    pieces: list[tuple[str, bool]] = [(text or "", False)]  # (text, already matched)
    for find, sub in zip(finds, subs, strict=False):
        if not isinstance(find, str):
            continue  # documented: a lookup that is not a string is ignored
        if not find:
            raise Inexact("replace_strings() with an empty lookup")
        nxt: list[tuple[str, bool]] = []
        for piece, done in pieces:
            if done:
                nxt.append((piece, done))
                continue
            parts = piece.split(find)
            for k, part in enumerate(parts):
                if k:
                    nxt.append((sub if isinstance(sub, str) else find, True))
                if part:
                    nxt.append((part, False))
        pieces = nxt
    return "".join(p for p, _ in pieces)


# ---------------------------------------------------------------- parse_csv and parse_command_line


def _parse_csv(text: str | None) -> list[str]:
    """The first record of RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line feeds."""
    text = text or ""
    fields, field, i, n = [], [], 0, len(text)
    quoted_field = False
    while i < n:
        ch = text[i]
        if ch == '"' and not field and not quoted_field:
            quoted_field = True
            i += 1
            while True:
                if i >= n:
                    raise Inexact("parse_csv() of an unterminated quoted field")
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        field.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                field.append(text[i])
                i += 1
            if i < n and text[i] not in ",\r\n":
                raise Inexact("parse_csv() of text after a closing quote")
            continue
        if ch == ",":
            fields.append("".join(field))
            field, quoted_field = [], False
        elif ch in "\r\n":
            if ch == "\r" and not (i + 1 < n and text[i + 1] == "\n"):
                raise Inexact("parse_csv() of a bare carriage return")
            break
        elif ch == '"':
            raise Inexact("parse_csv() of a quote inside an unquoted field")
        else:
            field.append(ch)
        i += 1
    fields.append("".join(field))
    return fields


def _parse_command_line(text: str | None) -> list[str]:
    """CommandLineToArgvW's rules: the program name runs to the next quote when it starts with one,
    else to the first blank, and is taken literally; in the other arguments 2n backslashes and a quote
    give n backslashes and toggle quoting, 2n+1 give n and a literal quote, other backslashes are
    literal. Windows releases differ on runs of quotes (`""`), and a program name holding quotes or
    backslash-quote may follow either rule set: both are refused."""
    cmd = text or ""
    if not cmd.strip(" \t") or cmd[0] in " \t":
        # Windows answers the program's own path for an empty line and "" before leading blanks
        raise Inexact("parse_command_line() of an empty command line or one starting with a blank")
    args: list[str] = []
    if cmd[0] == '"':
        end = cmd.find('"', 1)
        end = len(cmd) if end < 0 else end
        args.append(cmd[1:end])
        if cmd[1:end].endswith("\\") or end + 1 < len(cmd) and cmd[end + 1] not in " \t":
            raise Inexact("parse_command_line() of a quoted program name ending in a backslash or glued to text")
        i = end + 1
    else:
        i = 0
        while i < len(cmd) and cmd[i] not in " \t":
            i += 1
        args.append(cmd[:i])
        if '"' in args[0]:
            raise Inexact("parse_command_line() of a program name holding a quote")
    n = len(cmd)
    while i < n:
        while i < n and cmd[i] in " \t":
            i += 1
        if i >= n:
            break
        arg: list[str] = []
        quoted = False
        backslashes = 0
        while i < n and (quoted or cmd[i] not in " \t"):
            ch = cmd[i]
            i += 1
            if ch == "\\":
                arg.append(ch)
                backslashes += 1
                continue
            if ch == '"':
                if i < n and cmd[i] == '"':
                    raise Inexact('parse_command_line() of `""` (Windows versions read it differently)')
                if backslashes % 2 == 0:
                    del arg[len(arg) - backslashes // 2:]
                    quoted = not quoted
                else:
                    del arg[len(arg) - backslashes // 2 - 1:]
                    arg.append('"')
            else:
                arg.append(ch)
            backslashes = 0
        args.append("".join(arg))
    return args


# ---------------------------------------------------------------- parse_xml

XML_MAX_BYTES = 1_048_576
_OPEN_CLOSE = re.compile(r"<([A-Za-z_][\w.:-]*)\s*></\1\s*>")
_NUMBERISH = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|true|false|True|False")


def _xml_text(value: str) -> str:
    # the docs print `<value>118.0</value>` as a JSON number; whether the engine converts is not stated
    if _NUMBERISH.fullmatch(value.strip()):
        raise Inexact("parse_xml() of a text node that looks like a number or a bool")
    if value != value.strip():
        raise Inexact("parse_xml() of a text node with leading or trailing white space")
    return value


def _xml_element(node: minidom.Element) -> Any:
    members: dict[str, Any] = {}
    for name, value in node.attributes.items():
        if name == "xmlns" or name.startswith("xmlns:"):
            raise Inexact("parse_xml() of XML namespace declarations")
        members["@" + name] = _xml_text(value)
    texts, children = [], False
    for child in node.childNodes:
        if child.nodeType == child.ELEMENT_NODE:
            children = True
            value = _xml_element(child)
            if child.tagName in members:
                if child.tagName.startswith("@") or child.tagName == "#text":
                    raise Inexact("parse_xml() of a name clash")
                prior = members[child.tagName]
                if isinstance(prior, _Repeated):
                    prior.append(value)
                else:
                    members[child.tagName] = _Repeated([prior, value])
            else:
                members[child.tagName] = value
        elif child.nodeType == child.TEXT_NODE:
            if child.data.strip():
                texts.append(child.data)
                if "#text" not in members:
                    members["#text"] = None  # keeps the text's place among the members
        elif child.nodeType == child.CDATA_SECTION_NODE:
            raise Inexact("parse_xml() of a CDATA section")
    if len(texts) > 1:
        raise Inexact("parse_xml() of an element with several separate text nodes")
    if texts:
        text = texts[0].strip() if children else texts[0]
        members["#text"] = _xml_text(text)
    if not members:
        if node.childNodes:
            raise Inexact("parse_xml() of an element holding only white space")
        return None  # documented: <e/> is null (<e></e> is refused before parsing)
    if list(members) == ["#text"]:
        return members["#text"]
    return {k: list(v) if isinstance(v, _Repeated) else v for k, v in members.items()}


class _Repeated(list):
    """Same-named sibling elements, gathered into an array (documented)."""


def _parse_xml(text: str | None) -> str | None:
    if not text or len(text.encode("utf-8")) > XML_MAX_BYTES:
        return None
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise Inexact("parse_xml() of a document type declaration")
    if _OPEN_CLOSE.search(text):
        raise Inexact("parse_xml() of <e></e> (null like <e/>, or an empty string?)")
    try:
        doc = minidom.parseString(text)
    except (ExpatError, ValueError):
        return None
    root = doc.documentElement
    value = {root.tagName: _xml_element(root)}
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- extract_json

def _extract_json(path: str | None, text: str | None) -> str:
    """The extracted value as text: a string's content, an integer's digits, "" when absent."""
    steps = json_path(path or "")
    if steps is None:
        raise Inexact(f"extract_json() with the path {path!r}")
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return ""
    for step in steps:
        found = (isinstance(step, int) and isinstance(value, list) and step < len(value)
                 or isinstance(step, str) and isinstance(value, dict) and step in value)
        if not found:
            return ""
        value = value[step]
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise Inexact("extract_json() of a value that is not a string or an integer (its text form is not "
                  "documented)")


# ---------------------------------------------------------------- format_bytes

_UNITS = ("Bytes", "KB", "MB", "GB", "TB", "PB", "EB")


def _format_bytes(size: float | None, precision: int | None, units: str | None) -> str:
    """format_bytes: size / 1024^k rounded to `precision` digits, then the unit's name (the documented
    examples: 10332 with precision 1 is "10.1 KB"). Refused where the readings of the docs part: values at
    (or within float noise of) a rounding midpoint (half to even or away from zero?), results whose last
    decimals are zeros ("10.0" or "10"?), more than 15 significant digits, negative or non-finite sizes."""
    if size is None or precision is None:
        return ""
    if not math.isfinite(size) or size < 0 or precision < 0:
        raise Inexact("format_bytes() of a negative or non-finite size, or with a negative precision")
    if units:
        k = _UNITS.index(units)
    else:
        k = 0
        while k < len(_UNITS) - 1 and size >= 1024.0 ** (k + 1):
            k += 1
    exact = Decimal(size / 1024.0 ** k)
    step = Decimal(1).scaleb(-precision)
    rounded = exact.quantize(step, rounding=ROUND_HALF_EVEN)
    if abs(abs(exact - rounded) * 2 - step) <= step * Decimal("1e-9"):
        raise Inexact("format_bytes() of a value at a rounding midpoint")
    if not units and k < len(_UNITS) - 1 and rounded >= 1024:
        raise Inexact("format_bytes() of a value that rounds up to the next unit")
    text = format(rounded, "f")
    if precision and text.endswith("0"):
        raise Inexact("format_bytes() of a value whose last decimals are zeros (printed or not?)")
    if len(text.replace(".", "").lstrip("0")) > 15:
        raise Inexact("format_bytes() of a value with more than 15 significant digits")
    return f"{text} {_UNITS[k]}"


# ---------------------------------------------------------------- arrays of integers


def _json_longs(text: str | None) -> list[int | None] | None:
    """A dynamic array of integers as BIGINT[] (nulls kept); any other dynamic value is refused."""
    value = None if text is None else json.loads(text)
    if value is None:
        return [None]
    if not isinstance(value, list):
        raise Inexact("unicode_codepoints_to_string() of a dynamic value that is not an array")
    for v in value:
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise Inexact("unicode_codepoints_to_string() of an array holding values that are not integers")
    return value


def _udfs() -> tuple[Udf, ...]:
    s, b, j = "VARCHAR", "BIGINT", "VARCHAR"
    text, longs, strings = pa.string(), pa.list_(pa.int64()), pa.list_(pa.string())
    return (
        Udf("kh_b64_to_array", _udf(_b64_to_array, 1, longs), (s,), "BIGINT[]"),
        Udf("kh_b64_to_guid", _udf(_b64_to_guid, 1, text), (s,), s),
        Udf("kh_b64_from_array", _udf(_b64_from_array, 1, text), (j,), s),
        Udf("kh_b64_from_guid", _udf(_b64_from_guid, 1, text), (s,), s),
        Udf("kh_gzip_compress", _udf(lambda t: _compress(t, True), 1, text), (s,), s),
        Udf("kh_zlib_compress", _udf(lambda t: _compress(t, False), 1, text), (s,), s),
        Udf("kh_gzip_decompress", _udf(_gzip_decompress, 1, text), (s,), s),
        Udf("kh_zlib_decompress", _udf(_zlib_decompress, 1, text), (s,), s),
        Udf("kh_xxhash64_string", _udf(_hash_string, 1, pa.int64()), (s,), b),
        Udf("kh_xxhash64_long", _udf(_hash_long, 1, pa.int64()), (b,), b),
        Udf("kh_indexof_window", _udf(_indexof, 5, pa.int64()), (s, s, b, b, b), b),
        Udf("kh_regex_nth", _udf(_regex_nth, 6, pa.int64()), ("VARCHAR[]",) * 4 + (b, b), b),
        Udf("kh_url_encode", _udf(_url_encode, 2, text), (s, "BOOLEAN"), s),
        Udf("kh_url_query_bag", _udf(_urlquery, 1, text), (s,), j),
        Udf("kh_punycode_encode", _udf(_puny_encode, 1, text), (s,), s),
        Udf("kh_punycode_decode", _udf(_puny_decode, 1, text), (s,), s),
        Udf("kh_punycode_domain_encode", _udf(_domain_to_puny, 1, text), (s,), s),
        Udf("kh_punycode_domain_decode", _udf(_domain_from_puny, 1, text), (s,), s),
        Udf("kh_regex_quote", _udf(_regex_quote, 1, text), (s,), s),
        Udf("kh_replace_strings", _udf(_replace_strings, 3, text), (s, j, j), s),
        Udf("kh_parse_csv", _udf(_parse_csv, 1, strings), (s,), "VARCHAR[]"),
        Udf("kh_parse_command_line", _udf(_parse_command_line, 1, strings), (s,), "VARCHAR[]"),
        Udf("kh_parse_xml", _udf(_parse_xml, 1, text), (s,), j),
        Udf("kh_extract_json", _udf(_extract_json, 2, text), (s, s), s),
        Udf("kh_format_bytes", _udf(_format_bytes, 3, text), ("DOUBLE", b, s), s),
        Udf("kh_json_longs", _udf(_json_longs, 1, longs), (j,), "BIGINT[]"),
    )


UDFS = _udfs()

__all__ = ["UDFS", "Inexact", "b64_bytes", "xxh64"]
