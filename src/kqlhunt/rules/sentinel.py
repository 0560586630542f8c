"""Sentinel analytics / hunting rules in YAML (Azure-Sentinel's format): the query plus its metadata.

    id: 0b9ae89d-...            name: ...        description: ...      severity: Medium
    requiredDataConnectors: [{connectorId: MicrosoftThreatProtection, dataTypes: [DeviceNetworkEvents]}]
    tactics: [CommandAndControl]  relevantTechniques: [T1071]          tags: [...]   query: |
"""

from __future__ import annotations

import re
from typing import Any

from kqlhunt.rules.model import Rule, RuleError, Source, Technique

_MARKERS = ("relevantTechniques", "requiredDataConnectors", "queryFrequency", "entityMappings", "kind")


def is_sentinel_rule(data: dict[str, Any]) -> bool:
    return "query" in data and "title" not in data and ("name" in data or any(k in data for k in _MARKERS))


def parse_sentinel_rule(data: dict[str, Any], origin: str, default_id: str) -> Rule:
    query = data.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RuleError(f"{origin}: `query` must be KQL text")
    raw_id = str(data.get("id") or default_id)
    rule_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", raw_id).strip("_.-") or "rule"
    techniques = tuple(Technique(str(t).strip()) for t in _list(data.get("relevantTechniques")))
    sources = []
    for connector in _list(data.get("requiredDataConnectors")):
        if isinstance(connector, dict):
            sources.extend(str(t) for t in _list(connector.get("dataTypes")))
    tags = []
    for tag in _list(data.get("tags")):
        if isinstance(tag, str):
            tags.append(tag)
        elif isinstance(tag, dict):
            tags.extend(f"{k}:{v}" for k, v in tag.items())
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    author = metadata.get("author", {}).get("name", "") if isinstance(metadata.get("author"), dict) else ""
    return Rule(
        id=rule_id, title=str(data.get("name") or default_id), query=query,
        description=str(data.get("description") or "").strip(), techniques=techniques,
        tactics=tuple(str(t) for t in _list(data.get("tactics"))),
        source=Source(author=str(author)), origin=origin, platforms=("azure-sentinel",), tags=tuple(tags),
        data_sources=tuple(dict.fromkeys(sources)), severity=str(data.get("severity") or ""),
    )


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
