"""MITRE ATT&CK technique ids: validation, names and tactics.

The data file is generated from MITRE's STIX data by scripts/build_attack_data.py (Enterprise matrix);
a rule's technique is valid when the id exists there and is neither revoked nor deprecated, and its
tactics come from the technique, not from what the rule file claims.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

TECHNIQUE_ID = re.compile(r"\bT\d{4}(?:\.\d{3})?\b")
# The Enterprise matrix's columns, left to right (for coverage matrices).
TACTIC_ORDER = ("Reconnaissance", "Resource Development", "Initial Access", "Execution", "Persistence",
                "Privilege Escalation", "Defense Evasion", "Credential Access", "Discovery",
                "Lateral Movement", "Collection", "Command and Control", "Exfiltration", "Impact")
# Spellings rule authors use for tactics ("Command & Control", "command-and-control").
_TACTIC_ALIASES = {re.sub(r"[^a-z]", "", t.lower().replace("&", "and")): t for t in TACTIC_ORDER}


@dataclass(frozen=True)
class TechniqueInfo:
    id: str
    name: str
    tactics: tuple[str, ...]
    status: str  # ok | revoked | deprecated | unknown

    @property
    def valid(self) -> bool:
        return self.status == "ok"


@cache
def _data() -> dict[str, dict]:
    text = resources.files("kqlhunt.rules").joinpath("data/attack_techniques.json").read_text("utf-8")
    return json.loads(text)["techniques"]


def lookup(technique_id: str) -> TechniqueInfo:
    tid = technique_id.strip().upper()
    entry = _data().get(tid)
    if entry is None:
        return TechniqueInfo(tid, "", (), "unknown")
    status = "revoked" if entry.get("revoked") else "deprecated" if entry.get("deprecated") else "ok"
    return TechniqueInfo(tid, entry["name"], tuple(entry["tactics"]), status)


def parent(technique_id: str) -> str:
    return technique_id.split(".", 1)[0]


def tactic_name(text: str) -> str | None:
    """The canonical tactic for an author's spelling, or None when it is not an ATT&CK tactic."""
    return _TACTIC_ALIASES.get(re.sub(r"[^a-z]", "", text.lower().replace("&", "and")))


def navigator_layer(counts: dict[str, int], name: str) -> dict[str, object]:
    """An ATT&CK Navigator layer (format 4.5) scoring each technique by how many rules cover it."""
    top = max(counts.values(), default=1)
    return {
        "name": name, "domain": "enterprise-attack",
        "versions": {"layer": "4.5", "navigator": "5.1.0", "attack": "18"},
        "description": "Techniques covered by the rules of this catalog (score: number of rules).",
        "techniques": [{"techniqueID": tid, "score": n, "comment": f"{n} rule(s)"}
                       for tid, n in sorted(counts.items())],
        "gradient": {"colors": ["#ffe766", "#ff6666"], "minValue": 0, "maxValue": top},
    }
