"""Built-in table schemas (Defender / Sentinel) and the catalog the binder resolves table names in.

A table's schema is what the binder types against. For a built-in table name the documented schema
wins (so `AdditionalFields` is dynamic even when stored as JSON text); the engine fills columns that
a data file lacks (see `engines.duckdb`). The `sentinel` flavour adds TimeGenerated, TenantId, ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources

from kqlhunt.semantic.bound import Column, Schema
from kqlhunt.semantic.types import BY_NAME

FLAVOURS = ("defender", "sentinel")
SENTINEL_ONLY = frozenset({"TimeGenerated", "TenantId", "MachineGroup", "SourceSystem", "Type"})


@cache
def _builtin_raw() -> dict[str, dict[str, list[list[str]]]]:
    text = resources.files("kqlhunt.data").joinpath("schemas/builtin_tables.json").read_text("utf-8")
    return json.loads(text)


def builtin_schema(table: str, flavour: str = "defender") -> Schema | None:
    raw = _builtin_raw().get(table)
    if raw is None:
        return None
    return tuple(Column(name, BY_NAME[t]) for name, t in raw[flavour])


def builtin_tables() -> list[str]:
    return sorted(_builtin_raw())


def choose_flavour(query_text: str) -> str:
    """`auto` flavour: Sentinel when the query names a Sentinel-only column, else Defender."""
    import re

    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", query_text))
    return "sentinel" if words & SENTINEL_ONLY else "defender"


class Catalog:
    """Table name -> schema. Built-in tables are always known (empty when no data is attached)."""

    def __init__(self, tables: Mapping[str, Schema] | None = None, flavour: str = "defender"):
        self.flavour = flavour
        self.tables: dict[str, Schema] = dict(tables or {})

    def schema(self, name: str) -> Schema | None:
        builtin = builtin_schema(name, self.flavour)
        if builtin is not None:
            return builtin
        return self.tables.get(name)

    def names(self) -> list[str]:
        return sorted(set(self.tables) | set(builtin_tables()))
