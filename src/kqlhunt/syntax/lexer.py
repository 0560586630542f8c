"""Lexer: KQL text -> list of `Token`s with spans.

Keywords stay identifiers (KQL keywords are contextual: `count`, `kind`, `in` are also column or
function names); the parser decides by position. A few forms are lexed whole because their contents
are not KQL tokens: `datetime(...)`, `timespan(...)`, `guid(...)` literals and timespan literals such
as `1.5h`. Hyphenated operator names (`project-away`, `mv-apply`) become one identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from kqlhunt.diagnostics import KqlError, Span, error


class T(StrEnum):
    IDENT = "identifier"
    STRING = "string"
    LONG = "integer"
    REAL = "real"
    TIMESPAN = "timespan"
    RAWLIT = "literal"  # datetime(...), timespan(...), guid(...): text is 'kind\x00content'
    PUNCT = "punctuation"
    EOF = "end of query"


@dataclass(frozen=True, slots=True)
class Token:
    kind: T
    text: str  # identifier name, decoded string value, number text, or punctuation
    span: Span
    value: object = None  # decoded literal value (int, float, timespan ticks)

    def is_(self, *texts: str) -> bool:
        return self.kind in (T.IDENT, T.PUNCT) and self.text in texts

    def describe(self) -> str:
        if self.kind is T.EOF:
            return "end of query"
        if self.kind is T.STRING:
            return "a string literal"
        return f"`{self.text}`" if self.kind in (T.IDENT, T.PUNCT) else f"{self.kind.value} `{self.text}`"


HYPHENATED = frozenset({
    "project-away", "project-keep", "project-rename", "project-reorder", "project-smart",
    "mv-expand", "mv-apply", "parse-where", "parse-kv", "top-nested", "top-hitters",
    "make-series", "make-graph", "graph-match", "partition-by", "assert-schema", "extend-schema",
    "summarize-to", "lookup-tables", "sample-distinct",
})

PUNCTUATION = sorted(
    ["==", "!=", "<>", "<=", ">=", "=~", "!~", "=>", "..", "<", ">", "=", "+", "-", "*", "/", "%", ".",
     ",", ";", ":", "(", ")", "[", "]", "{", "}", "|", "!", "~", "?"],
    key=len, reverse=True,
)

# Timespan units -> ticks (100 ns). Kusto accepts these spellings as literal suffixes.
TICKS_PER = {
    "d": 864_000_000_000, "day": 864_000_000_000, "days": 864_000_000_000,
    "h": 36_000_000_000, "hr": 36_000_000_000, "hrs": 36_000_000_000, "hour": 36_000_000_000,
    "hours": 36_000_000_000,
    "m": 600_000_000, "min": 600_000_000, "minute": 600_000_000, "minutes": 600_000_000,
    "s": 10_000_000, "sec": 10_000_000, "second": 10_000_000, "seconds": 10_000_000,
    "ms": 10_000, "milli": 10_000, "millis": 10_000, "millisec": 10_000, "millisecond": 10_000,
    "milliseconds": 10_000,
    "microsec": 10, "microsecond": 10, "microseconds": 10,
    "tick": 1, "ticks": 1,
}

RAW_LITERAL_KINDS = frozenset({"datetime", "date", "timespan", "time", "guid", "uuid", "uniqueid"})

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0", "b": "\b",
            "f": "\f", "v": "\v", "a": "\a", "/": "/"}

MAX_QUERY_CHARS = 2_000_000

# Hot paths as regular expressions: the lexer runs on every query and rule, so it should cost little.
# Kusto skips zero-width characters like whitespace (U+200B/C/D, U+2060, the BOM): pasted hunts carry them
_SKIP = re.compile(r"(?:\s|[\u200b\u200c\u200d\u2060\ufeff]|//[^\n]*)+")
_IDENT = re.compile(r"[^\W\d]\w*|\$\w*")
_PUNCT = re.compile("|".join(re.escape(p) for p in PUNCTUATION))


def _digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _is_ident_start(ch: str) -> bool:
    return ch.isalpha() or ch in "_$"


def _is_ident_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class Lexer:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []

    def fail(self, message: str, start: int, end: int | None = None) -> KqlError:
        return error("KH101", message, Span(start, end if end is not None else start + 1))

    def run(self) -> list[Token]:
        text = self.text
        if len(text) > MAX_QUERY_CHARS:
            raise self.fail(f"query is too long ({len(text)} characters)", 0)
        n = len(text)
        while True:
            self._skip_space_and_comments()
            if self.pos >= n:
                self.tokens.append(Token(T.EOF, "", Span(n, n)))
                return self.tokens
            ch = text[self.pos]
            start = self.pos
            # most frequent first: identifiers, then punctuation
            if ch.isalpha() or ch == "_" or ch == "$":
                if ch in "hH" and (self._peek(1) in "'\"" or (self._peek(1) == "@" and self._peek(2) in "'\"")):
                    self._string()
                else:
                    self._identifier()
            elif ch in "'\"" or (ch == "@" and self._peek(1) in "'\""):
                self._string()
            elif _digit(ch) or (ch == "." and _digit(self._peek(1)) and not self._prev_is_value()):
                self._number()
            elif ch == "`" and text.startswith("```", self.pos):
                end = text.find("```", self.pos + 3)
                if end < 0:
                    raise self.fail("unterminated ``` string", start, n)
                self.pos = end + 3
                self.tokens.append(Token(T.STRING, text[start + 3:end], Span(start, self.pos), text[start + 3:end]))
            else:
                m = _PUNCT.match(text, self.pos)
                if m is None:
                    what = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
                    raise self.fail(f"unexpected character {what}", start)
                self.pos = m.end()
                self.tokens.append(Token(T.PUNCT, m.group(), Span(start, self.pos)))

    def _peek(self, k: int) -> str:
        i = self.pos + k
        return self.text[i] if i < len(self.text) else "\x00"

    def _prev_is_value(self) -> bool:
        if not self.tokens:
            return False
        t = self.tokens[-1]
        return t.kind is not T.PUNCT or t.text in (")", "]")

    def _skip_space_and_comments(self) -> None:
        m = _SKIP.match(self.text, self.pos)
        if m:
            self.pos = m.end()

    def _string(self) -> None:
        text, start = self.text, self.pos
        if text[self.pos] in "hH":  # h'...' obfuscated string: same value, hidden in logs
            self.pos += 1
        verbatim = text[self.pos] == "@"
        if verbatim:
            self.pos += 1
        quote = text[self.pos]
        self.pos += 1
        out: list[str] = []
        n = len(text)
        while True:
            if self.pos >= n:
                raise self.fail("unterminated string literal", start, n)
            ch = text[self.pos]
            if ch == "\n" and not verbatim:
                raise self.fail("unterminated string literal (newline inside quotes)", start, self.pos)
            if ch == quote:
                if verbatim and self._peek(1) == quote:  # '' inside @'...' is one quote
                    out.append(quote)
                    self.pos += 2
                    continue
                self.pos += 1
                break
            if ch == "\\" and not verbatim:
                esc = self._peek(1)
                if esc in _ESCAPES:
                    out.append(_ESCAPES[esc])
                    self.pos += 2
                    continue
                if esc == "u" and all(c in "0123456789abcdefABCDEF" for c in text[self.pos + 2:self.pos + 6]) \
                        and len(text) >= self.pos + 6:
                    out.append(chr(int(text[self.pos + 2:self.pos + 6], 16)))
                    self.pos += 6
                    continue
                raise self.fail(f"unknown escape sequence \\{esc}", self.pos, self.pos + 2)
            out.append(ch)
            self.pos += 1
        value = "".join(out)
        self.tokens.append(Token(T.STRING, value, Span(start, self.pos), value))

    def _number(self) -> None:
        text, start, n = self.text, self.pos, len(self.text)
        if text.startswith(("0x", "0X"), self.pos):
            self.pos += 2
            while self.pos < n and text[self.pos] in "0123456789abcdefABCDEF":
                self.pos += 1
            raw = text[start:self.pos]
            if len(raw) == 2:
                raise self.fail("malformed hexadecimal literal", start, self.pos)
            self.tokens.append(Token(T.LONG, raw, Span(start, self.pos), int(raw, 16)))
            return
        while self.pos < n and _digit(text[self.pos]):
            self.pos += 1
        is_real = False
        if self.pos < n and text[self.pos] == "." and self._peek(1) != "." and (
                _digit(self._peek(1)) or not _is_ident_start(self._peek(1))):
            is_real = True
            self.pos += 1
            while self.pos < n and _digit(text[self.pos]):
                self.pos += 1
        if self.pos < n and text[self.pos] in "eE" and (
                _digit(self._peek(1)) or (self._peek(1) in "+-" and _digit(self._peek(2)))):
            is_real = True
            self.pos += 2
            while self.pos < n and _digit(text[self.pos]):
                self.pos += 1
        number = text[start:self.pos]
        # A unit suffix glued to the number makes a timespan literal: 30d, 1.5h, 100ms.
        if self.pos < n and (text[self.pos].isalpha() or text[self.pos] == '_'):
            unit_start = self.pos
            while self.pos < n and _is_ident_char(text[self.pos]):
                self.pos += 1
            unit = text[unit_start:self.pos].lower()
            if unit not in TICKS_PER:
                raise self.fail(f"unknown timespan unit `{text[unit_start:self.pos]}`", start, self.pos)
            # whole numbers in integer arithmetic: a float would lose ticks beyond 2**53
            ticks = int(number) * TICKS_PER[unit] if number.isdigit() else round(float(number) * TICKS_PER[unit])
            self.tokens.append(Token(T.TIMESPAN, text[start:self.pos], Span(start, self.pos), ticks))
            return
        if is_real:
            self.tokens.append(Token(T.REAL, number, Span(start, self.pos), float(number)))
        else:
            self.tokens.append(Token(T.LONG, number, Span(start, self.pos), int(number)))

    def _identifier(self) -> None:
        text, start, n = self.text, self.pos, len(self.text)
        m = _IDENT.match(text, self.pos)
        self.pos = m.end() if m else self.pos + 1
        # project-away & co: glue the hyphenated operator names into one token.
        while self.pos < n and text[self.pos] == "-":
            j = self.pos + 1
            while j < n and _is_ident_char(text[j]):
                j += 1
            if text[start:j].lower() not in HYPHENATED:
                break
            self.pos = j
        word = text[start:self.pos]
        if word in RAW_LITERAL_KINDS:
            save = self.pos
            self._skip_space_and_comments()
            if self.pos < n and text[self.pos] == "(":
                close = text.find(")", self.pos)
                if close < 0:
                    raise self.fail(f"unterminated {word}(...) literal", start, n)
                content = text[self.pos + 1:close].strip()
                self.pos = close + 1
                self.tokens.append(Token(T.RAWLIT, word, Span(start, self.pos), content))
                return
            self.pos = save
        self.tokens.append(Token(T.IDENT, word, Span(start, self.pos)))

def tokenize(text: str) -> list[Token]:
    return Lexer(text).run()
