"""Read rules: the built-ins shipped in the package, `.yaml` rule files and plain `.kql` files.

A YAML rule is one mapping per file:

    id: my_rule                 # required; letters, digits, '_', '.', '-' (it names output files)
    title: What it hunts        # required
    query: |                    # required; a literal block keeps the text exactly as written
      DeviceNetworkEvents | take 10
    description: ...            # optional from here on
    techniques: [{id: T1071, name: Application Layer Protocol}]   # or ["T1071", ...]
    tactics: [Command and Control]
    source: {author: ..., url: ..., references: [...], note: ...}
    tables: [DeviceNetworkEvents]   # inferred from the query when absent
    schema: auto | defender | sentinel
    display: [Col1, Col2]       # columns to show first when printing findings
    notes: ...

A Sentinel analytics-rule YAML (`name:`, `query:`, `relevantTechniques:`, `requiredDataConnectors:`, ...)
is read as such (`rules.sentinel`). A Markdown write-up (`.md`, or a `.txt` holding a ```kql block) gives a
rule whose KQL blocks are its variants (`rules.markdown`).

A `.kql` file is its query, verbatim. Metadata comes from its leading `//` comment block where it is
obvious: `// id:`, `// title:` (or `name:`), `// description:`, `// author:`, `// tactic(s):`,
`// tables:`, `// schema:` lines, ATT&CK ids (T1234, T1234.001) on a `mitre`/`technique` line, and any
URL in the block. Otherwise the id and title are the file name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kqlhunt.rules.model import Rule, RuleError, Source, Technique

RULE_SUFFIXES = (".yaml", ".yml", ".kql", ".md", ".markdown", ".txt")
_FIELDS = {"id", "title", "query", "description", "techniques", "tactics", "source", "tables", "schema",
           "display", "notes"}
_TECHNIQUE_ID = re.compile(r"\bT\d{4}(?:\.\d{3})?\b")
_URL = re.compile(r"https?://[^\s,;()<>\"']+")
_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z &/_-]{0,40}?)\s*:\s*(.*)$")


def load_rules(path: str | Path | None = None) -> list[Rule]:
    """Rules from `path`: None for the built-ins; a directory for every rule file under it (recursively,
    sorted by path); a single `.yaml`/`.yml`/`.kql` file for that rule. Raises `RuleError`."""
    if path is None:
        return _unique(builtin_rules())
    root = Path(path)
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in RULE_SUFFIXES)
        return _unique(_rules_in(files))
    if root.is_file():
        return [load_rule_file(root)]
    raise RuleError(f"no such rule file or directory: {root}")


def _rules_in(files: Iterable[Path]) -> Iterable[Rule]:
    from kqlhunt.rules.markdown import NotARule

    for p in files:
        try:
            yield load_rule_file(p, in_directory=True)
        except NotARule:
            continue  # a README or notes file next to the rules


def load_rules_lenient(path: str | Path) -> tuple[list[Rule], list[str]]:
    """Every rule under `path` that can be read, for catalogs of public repositories: files that are not
    rules are skipped, unreadable ones reported (second list) instead of stopping the load, and clashing
    ids made unique by their folder (then a counter)."""
    from kqlhunt.rules.markdown import NotARule

    root = Path(path)
    files = [root] if root.is_file() else \
        sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in RULE_SUFFIXES)
    rules: list[Rule] = []
    problems: list[str] = []
    taken: set[str] = set()
    for p in files:
        try:
            rule = load_rule_file(p, in_directory=root.is_dir())
        except NotARule:
            continue
        except RuleError as exc:
            problems.append(str(exc))
            continue
        rule_id = rule.id
        if rule_id in taken:
            rule_id = _safe_id(f"{p.parent.name}-{rule.id}")
            n = 2
            while rule_id in taken:
                rule_id = _safe_id(f"{p.parent.name}-{rule.id}-{n}")
                n += 1
            import dataclasses

            rule = dataclasses.replace(rule, id=rule_id)
        taken.add(rule_id)
        rules.append(rule)
    return rules, problems


def builtin_rules() -> list[Rule]:
    """The rules shipped in the package (kqlhunt/rules/builtin/*.yaml)."""
    folder = resources.files("kqlhunt.rules").joinpath("builtin")
    entries = sorted((e for e in folder.iterdir() if e.name.endswith((".yaml", ".yml"))), key=lambda e: e.name)
    return [parse_yaml_rule(e.read_text("utf-8"), origin=f"builtin:{e.name}") for e in entries]


def load_rule_file(path: str | Path, in_directory: bool = False) -> Rule:
    """One rule file. `in_directory`: found by scanning a folder, so a `.txt` that holds no KQL is a note
    next to the rules (`NotARule`), not a rule; a `.txt` named explicitly is read as KQL."""
    path = Path(path)
    try:
        text = read_text_verbatim(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read: {exc}") from None
    if path.suffix.lower() == ".kql":
        return parse_kql_rule(text, origin=str(path), default_id=path.stem)
    if path.suffix.lower() in (".yaml", ".yml"):
        return parse_yaml_rule(text, origin=str(path), default_id=path.stem)
    if path.suffix.lower() in (".md", ".markdown") or (path.suffix.lower() == ".txt" and "```" in text):
        from kqlhunt.rules.markdown import parse_markdown_rule

        return parse_markdown_rule(text, origin=str(path), default_id=path.stem)
    if path.suffix.lower() == ".txt":
        from kqlhunt.rules.markdown import NotARule, looks_like_kql
        from kqlhunt.rules.pages import is_catalog_page, parse_catalog_page

        if is_catalog_page(text):
            return parse_catalog_page(text, origin=str(path), default_id=path.stem)
        if in_directory and not looks_like_kql(text):
            raise NotARule(f"{path}: a text file without KQL (no `| where`/`| summarize`/... line)")
        return parse_kql_rule(text, origin=str(path), default_id=path.stem)
    raise RuleError(f"{path}: not a rule file (expected {', '.join(RULE_SUFFIXES)})")


def read_text_verbatim(path: str | Path) -> str:
    """File text exactly as stored (no newline translation), minus a UTF-8 byte-order mark."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return f.read()


# ------------------------------------------------------------------------------------------------ YAML

def parse_yaml_rule(text: str, origin: str = "<yaml>", default_id: str = "rule") -> Rule:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"{origin}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RuleError(f"{origin}: a rule file holds one mapping (id:, title:, query:, ...)")
    from kqlhunt.rules.sentinel import is_sentinel_rule, parse_sentinel_rule

    if is_sentinel_rule(data):
        return parse_sentinel_rule(data, origin, default_id)
    unknown = sorted(str(k) for k in data if k not in _FIELDS)
    if unknown:
        raise RuleError(f"{origin}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_FIELDS))}")
    for key in ("id", "title", "query"):
        if key not in data:
            raise RuleError(f"{origin}: missing required field `{key}`")
    query = _text(data, "query", origin)
    schema = _text(data, "schema", origin) or "auto"
    tables = _strings(data, "tables", origin)
    return Rule(
        id=_text(data, "id", origin), title=_text(data, "title", origin), query=query,
        description=_text(data, "description", origin).strip(),
        techniques=_techniques(data.get("techniques"), origin), tactics=_strings(data, "tactics", origin),
        source=_source(data.get("source"), origin),
        tables=tables if "tables" in data else infer_tables(query, schema),
        schema=schema, display=_strings(data, "display", origin), notes=_text(data, "notes", origin).strip(),
        origin=origin,
    )


def _text(data: dict, key: str, origin: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        # YAML reads `id: 004` as a number and `title: yes` as a bool: insist on quoting instead of guessing.
        raise RuleError(f"{origin}: `{key}` must be text, got {type(value).__name__} {value!r} (quote it)")
    return value


def _strings(data: dict, key: str, origin: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise RuleError(f"{origin}: `{key}` must be a list of text values")


def _techniques(value: Any, origin: str) -> tuple[Technique, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RuleError(f"{origin}: `techniques` must be a list")
    out = []
    for item in value:
        if isinstance(item, str):
            tid, _, name = item.strip().partition(" ")
            out.append(Technique(tid, name.strip(" -–:")))
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            name = item.get("name", "")
            if not isinstance(name, str) or set(item) - {"id", "name"}:
                raise RuleError(f"{origin}: a technique is {{id: T1234, name: ...}}, got {item!r}")
            out.append(Technique(item["id"], name))
        else:
            raise RuleError(f"{origin}: a technique is 'T1234' or {{id: T1234, name: ...}}, got {item!r}")
    for t in out:
        if not _TECHNIQUE_ID.fullmatch(t.id):
            raise RuleError(f"{origin}: {t.id!r} is not an ATT&CK technique id (T1234 or T1234.001)")
    return tuple(out)


def _source(value: Any, origin: str) -> Source:
    if value is None:
        return Source()
    if isinstance(value, str):
        return Source(url=value) if _URL.fullmatch(value.strip()) else Source(note=value)
    if not isinstance(value, dict) or set(value) - {"author", "url", "references", "note"}:
        raise RuleError(f"{origin}: `source` is a URL or {{author, url, references, note}}")
    return Source(author=_text(value, "author", origin), url=_text(value, "url", origin),
                  references=_strings(value, "references", origin), note=_text(value, "note", origin).strip())


# ------------------------------------------------------------------------------------------------ .kql

def parse_kql_rule(text: str, origin: str = "<kql>", default_id: str = "query") -> Rule:
    header = _leading_comments(text)
    fields: dict[str, str] = {}
    first_line_title = ""
    for i, line in enumerate(header):
        m = _KEY_VALUE.match(line)
        if m and not line.lower().startswith(("http://", "https://")):
            fields.setdefault(m.group(1).strip().lower(), m.group(2).strip())
        elif i == 0 and line and not _URL.match(line):
            first_line_title = line  # a free-text first comment line reads as the title
    techniques: list[Technique] = []
    tactics: tuple[str, ...] = ()
    for key, value in fields.items():
        if any(word in key for word in ("mitre", "att&ck", "attack", "technique")):
            techniques.extend(Technique(t) for t in _TECHNIQUE_ID.findall(value) if Technique(t) not in techniques)
        if key in ("tactic", "tactics"):
            tactics = tuple(t.strip() for t in value.split(",") if t.strip())
    urls: list[str] = []
    # Links on an author line usually point at the person; links elsewhere (post, walkthrough) at the source.
    for line in sorted(header, key=lambda h: h.lower().startswith("author")):
        for url in (u.rstrip(".") for u in _URL.findall(line)):
            if url not in urls:
                urls.append(url)
    schema = fields.get("schema", "auto").lower()
    tables = tuple(t.strip() for t in fields["tables"].split(",") if t.strip()) if "tables" in fields \
        else infer_tables(text, schema if schema in ("defender", "sentinel") else "auto")
    rule_id = fields.get("id") or _safe_id(default_id)
    return Rule(
        id=rule_id, title=fields.get("title") or fields.get("name") or first_line_title or default_id,
        query=text, description=fields.get("description", ""), techniques=tuple(techniques), tactics=tactics,
        source=Source(author=fields.get("author", ""), url=urls[0] if urls else "", references=tuple(urls[1:])),
        tables=tables, schema=schema, origin=origin,
    )


def _leading_comments(text: str) -> list[str]:
    """The text of the `//` lines before the first line of query (blank lines allowed in between)."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("//"):
            break
        out.append(line[2:].strip())
    return out


def _safe_id(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.-")
    return cleaned or "query"


# ------------------------------------------------------------------------------------------------ helpers

def infer_tables(query: str, schema: str = "auto") -> tuple[str, ...]:
    """The tables a query reads, by compiling it against the built-in schemas; () when that fails (e.g. the
    query reads a table kqlhunt has no schema for). Best effort: it only fills in metadata."""
    from kqlhunt.api import compile as compile_kql
    from kqlhunt.diagnostics import KqlError

    try:
        return tuple(compile_kql(query, schema=schema).tables)
    except (KqlError, ValueError, NotImplementedError):
        return ()


def _unique(rules: Iterable[Rule]) -> list[Rule]:
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"duplicate rule id {rule.id!r} in {seen[rule.id].origin} and {rule.origin}")
        seen[rule.id] = rule
    return list(seen.values())
