"""A hunting rule: a KQL query plus what an analyst needs to judge its findings (ATT&CK mapping, source,
the tables it reads). Rules are plain data; `loader` builds them from YAML or `.kql` files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # used as an output file name, so no separators
SCHEMAS = ("auto", "defender", "sentinel")


class RuleError(ValueError):
    """A rule file that cannot be used (bad YAML, missing or mistyped field, duplicate id)."""


@dataclass(frozen=True)
class Technique:
    id: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.id} {self.name}".strip()


@dataclass(frozen=True)
class Source:
    author: str = ""
    url: str = ""
    references: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Variant:
    """One of several queries a write-up gives for the same hunt ("Defender XDR", "Sentinel")."""

    name: str
    query: str


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    query: str
    description: str = ""
    techniques: tuple[Technique, ...] = ()
    tactics: tuple[str, ...] = ()
    source: Source = field(default_factory=Source)
    tables: tuple[str, ...] = ()
    schema: str = "auto"
    display: tuple[str, ...] = ()  # columns worth showing first when a finding is printed
    notes: str = ""
    origin: str = ""  # where the rule was read from: a path, or builtin:<file>
    variants: tuple[Variant, ...] = ()  # every query of a multi-query write-up; `query` is the first
    platforms: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    data_sources: tuple[str, ...] = ()  # as the write-up states them (`tables` is what the query reads)
    severity: str = ""

    def __post_init__(self) -> None:
        if not RULE_ID.match(self.id):
            raise RuleError(f"{self.origin or 'rule'}: id {self.id!r} must be letters, digits, '_', '.' or '-'")
        if self.schema not in SCHEMAS:
            raise RuleError(f"{self.origin or self.id}: schema must be one of {', '.join(SCHEMAS)}, "
                            f"not {self.schema!r}")
        if not self.query.strip():
            raise RuleError(f"{self.origin or self.id}: the query is empty")

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "title": self.title, "description": self.description,
            "techniques": [{"id": t.id, "name": t.name} for t in self.techniques],
            "tactics": list(self.tactics),
            "source": {"author": self.source.author, "url": self.source.url,
                       "references": list(self.source.references), "note": self.source.note},
            "tables": list(self.tables), "schema": self.schema, "display": list(self.display),
            "notes": self.notes, "origin": self.origin, "query": self.query,
            "variants": [{"name": v.name, "query": v.query} for v in self.variants],
            "platforms": list(self.platforms), "tags": list(self.tags), "data_sources": list(self.data_sources),
            "severity": self.severity,
        }

    def queries(self) -> tuple[Variant, ...]:
        """The rule's queries, each named (a single-query rule gives one, named "query")."""
        return self.variants or (Variant("query", self.query),)
