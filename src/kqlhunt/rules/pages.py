"""Rule pages exported as text from a web detection catalog (seed 004's shape):

    Detection rules › Kusto
    <title>
    <description>
    MITRE ATT&CK coverage            | Tactic | Techniques | rows
    Event coverage                   | Provider | Event/ActionType | Title | rows
    Rule body kusto
    <the query, verbatim>
    Stages and Predicates            (the catalog's own analysis: ignored, kqlhunt derives its own)
"""

from __future__ import annotations

import re

from kqlhunt.rules.mitre import TECHNIQUE_ID, tactic_name
from kqlhunt.rules.model import Rule, Source, Technique

BODY_MARK = "Rule body kusto"
END_MARK = "Stages and Predicates"


def is_catalog_page(text: str) -> bool:
    return re.search(rf"(?m)^{BODY_MARK}\s*$", text) is not None


def parse_catalog_page(text: str, origin: str, default_id: str) -> Rule:
    start = re.search(rf"(?m)^{BODY_MARK}\s*\n", text)
    assert start is not None
    end = re.search(rf"(?m)^{END_MARK}\s*$", text[start.end():])
    query = text[start.end(): start.end() + end.start()] if end else text[start.end():]
    head = text[:start.start()].splitlines()
    lines = [ln.strip() for ln in head if ln.strip()]
    if lines and "›" in lines[0]:
        lines = lines[1:]  # breadcrumb
    title = lines[0] if lines else default_id
    description = lines[1] if len(lines) > 1 and not lines[1].startswith("MITRE") else ""
    tactics: list[str] = []
    techniques: list[Technique] = []
    in_mitre = False
    for line in lines:
        if line.startswith("MITRE ATT&CK"):
            in_mitre = True
            continue
        if line.startswith("Event coverage"):
            in_mitre = False
        if in_mitre and line.startswith("|") and not set(line) <= set("|- "):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[0] == "Tactic":
                continue
            name = tactic_name(cells[0])
            if name and name not in tactics:
                tactics.append(name)
            techniques.extend(Technique(t) for t in TECHNIQUE_ID.findall(" ".join(cells[1:])))
    author = re.search(r"(?im)^\s*//\s*author\s*:\s*(.+)$", query)
    # links on the author line point at the person; the others (the write-up) are the references
    lines_ = [ln for ln in query.splitlines() if ln.lstrip().startswith("//")]
    urls = [u for ln in lines_ if "author" not in ln.lower()
            for u in re.findall(r"https?://[^\s,;()<>\"']+", ln)]
    return Rule(id=default_id, title=title, query=query, description=description, techniques=tuple(techniques),
                tactics=tuple(tactics), source=Source(author=author.group(1).strip() if author else "",
                                                     url=urls[0] if urls else "", references=tuple(urls[1:])),
                origin=origin, platforms=("microsoft-defender",))
