"""Diagnostics shared by every stage: source spans, structured messages, one renderer.

Stages collect `Diagnostic`s and raise a single `KqlError` at their boundary; the CLI and the API
render them once (a caret under the offending text), so a user never sees a Python traceback for a
bad query.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open character range [start, end) into the query text."""

    start: int
    end: int

    def cover(self, other: Span) -> Span:
        return Span(min(self.start, other.start), max(self.end, other.end))


NO_SPAN = Span(0, 0)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding. Codes: KH1xx syntax, KH2xx names/types, KH3xx unsupported, KH4xx runtime/data."""

    code: str
    message: str
    span: Span | None = None
    severity: Severity = Severity.ERROR
    hints: tuple[str, ...] = ()

    def to_dict(self, source: str | None = None) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "severity": self.severity.value, "message": self.message}
        if self.span is not None:
            out["start"] = self.span.start
            out["end"] = self.span.end
            if source is not None:
                line, col = line_col(source, self.span.start)
                out["line"], out["col"] = line, col
        if self.hints:
            out["hints"] = list(self.hints)
        return out


class KqlError(Exception):
    """The one exception type a caller sees for a bad query, an unsupported construct or bad data."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic, source: str | None = None):
        self.diagnostics: list[Diagnostic] = (
            [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        )
        self.source = source
        super().__init__(self.render())

    @property
    def code(self) -> str:
        return self.diagnostics[0].code if self.diagnostics else ""

    def with_source(self, source: str) -> KqlError:
        if self.source is None:
            self.source = source
            self.args = (self.render(),)
        return self

    def render(self) -> str:
        return render(self.diagnostics, self.source)

    def __str__(self) -> str:
        return self.render()


def error(code: str, message: str, span: Span | None = None, *hints: str) -> KqlError:
    return KqlError(Diagnostic(code, message, span, Severity.ERROR, tuple(hints)))


def runtime_refusal(what: str) -> str:
    """The text of a refusal that only the data can trigger (SQL error() or a UDF raising): the engine turns
    any error carrying it into a KH301 diagnostic."""
    return f"{RUNTIME_REFUSAL_MARK} {what} is not supported (Kusto's answer is not known)"


RUNTIME_REFUSAL_MARK = "kqlhunt:"


def unsupported(what: str, span: Span | None, detail: str = "") -> KqlError:
    """Refuse a construct by name: 'correct or refused', never a silently different answer."""
    message = f"{what} is not supported by kqlhunt yet"
    if detail:
        message += f" ({detail})"
    return KqlError(Diagnostic("KH300", message, span))


def unsupported_on(engine: str, what: str, span: Span | None, detail: str = "") -> KqlError:
    """Refuse a construct one engine cannot run the way the default engine does (KH302)."""
    message = f"{what} is not supported on the {engine} engine yet"
    if detail:
        message += f" ({detail})"
    return KqlError(Diagnostic("KH302", message, span))


def line_col(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    starts = [0]
    starts.extend(i + 1 for i, ch in enumerate(source) if ch == "\n")
    line = bisect.bisect_right(starts, offset) - 1
    return line + 1, offset - starts[line] + 1


def render(diagnostics: list[Diagnostic], source: str | None) -> str:
    """Human-readable text: `line:col: error[CODE]: message`, the source line and a caret."""
    parts: list[str] = []
    for d in diagnostics:
        if d.span is None or source is None:
            parts.append(f"{d.severity.value}[{d.code}]: {d.message}")
        else:
            line, col = line_col(source, d.span.start)
            text = source.splitlines()[line - 1] if source.splitlines() and line - 1 < len(
                source.splitlines()) else ""
            width = max(1, min(d.span.end, d.span.start + max(0, len(text) - col + 1)) - d.span.start)
            parts.append(f"{line}:{col}: {d.severity.value}[{d.code}]: {d.message}")
            parts.append(f"  {text}")
            parts.append("  " + " " * (col - 1) + "^" * width)
        parts.extend(f"  hint: {h}" for h in d.hints)
    return "\n".join(parts)
