"""Rules from Markdown write-ups: KQL fenced blocks plus the sections around them.

Write-ups in public hunting repositories (and catalog pages exported from them) look like

    # Title
    ## Query Information / #### MITRE ATT&CK Technique(s) (a table or a list of T-ids)
    #### Description | ## Analysis
    #### Author (**Name:** ...) | #### References (links) | ## Data Sources (`Table` names)
    ## Defender XDR  ```KQL ...```   ## Sentinel  ```KQL ...```

Each KQL block becomes a `Variant` named after the heading above it, so "Defender XDR" and "Sentinel"
versions stay one rule. A catalog page export (seed 000) carries a header before "Raw Content" with
"Data Sources", "Platforms", "References" and "Tags" blocks; those are read too.
"""

from __future__ import annotations

import re
import unicodedata

from markdown_it import MarkdownIt

from kqlhunt.rules.model import Rule, RuleError, Source, Technique, Variant

KQL_LANGS = frozenset({"kql", "kusto", "csl"})
_TECHNIQUE = re.compile(r"\b(T\d{4}(?:\.\d{3})?)\b(?:\s*[-–—:|]\s*([^|\n*]+))?")
_URL = re.compile(r"https?://[^\s)<>\"'\]|]+")
_TABLE_NAME = re.compile(r"\b([A-Z][A-Za-z0-9]+(?:Events|Info|Logs?|Activity|Alerts?|Table|Beta)|SigninLogs|"
                         r"AuditLogs|SecurityEvent|Syslog|CommonSecurityLog|OfficeActivity)\b")
_CHROME_LABELS = ("Data Sources", "Platforms", "References", "Tags")
# Platform words catalog pages glue together ("windowsazure-sentinelmicrosoft-defender").
PLATFORMS = ("azure-sentinel", "microsoft-defender", "windows", "linux", "macos", "azure", "aws", "gcp",
             "office-365", "entra-id", "azure-ad", "kubernetes", "network")


class NotARule(RuleError):
    """A Markdown file without any KQL block (a README, notes): skipped when reading a directory."""


def parse_markdown_rule(text: str, origin: str = "<markdown>", default_id: str = "rule") -> Rule:
    chrome, body = _split_chrome(repair_mojibake(text))
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(body)
    lines = body.splitlines()
    headings: list[tuple[int, int, str]] = []  # (line, level, text)
    variants: list[Variant] = []
    preamble = ""
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            headings.append((tok.map[0], int(tok.tag[1]), _clean(tokens[i + 1].content)))
        elif tok.type in ("fence", "code_block") and tok.map:
            lang = (tok.info or "").strip().split(" ")[0].lower()
            # untagged blocks, and KQL some authors tag as sql, count when they read like KQL
            if lang in KQL_LANGS or (lang in ("", "sql") and looks_like_kql(tok.content)):
                if _only_lets(tok.content):
                    # a block of parameters the next blocks use ("let VictimDeviceId = ...;"): not a
                    # query of its own, so it goes in front of each following query
                    preamble += tok.content.rstrip("\n") + "\n"
                    continue
                name = headings[-1][2] if headings else "query"
                for query in split_block(tok.content):
                    variants.append(Variant(_variant_name(name, variants), preamble + query))
    if not variants:
        raise NotARule(f"{origin}: no KQL block (```kql ... ```) in this Markdown file")
    sections = _sections(lines, headings)
    titled = [(level, t) for _, level, t in headings if any(ch.isalpha() for ch in t)]
    title = next((t for level, t in titled if level == 1), "") or next((t for _, t in titled), "") or default_id
    description = _first(sections, ("description", "analysis", "hypothesis", "goal", "summary")) or \
        _first_paragraph(tokens)
    mitre_text = "\n".join(v for k, v in sections.items() if "mitre" in k or "att&ck" in k or "technique" in k)
    techniques = _techniques(mitre_text)
    author_text = _first(sections, ("author",))
    author = _author(author_text) or _comment_author(variants[0].query)
    references = tuple(dict.fromkeys(_URL.findall(_first(sections, ("references", "reference")) +
                                                  "\n" + chrome.get("References", ""))))
    data_sources = tuple(dict.fromkeys(
        _TABLE_NAME.findall(_first(sections, ("data sources", "data source")) + "\n" +
                            chrome.get("Data Sources", ""))))
    tactics = tuple(t.strip() for t in re.findall(r"(?im)^\s*[-*]?\s*\**tactics?\**\s*:\s*(.+)$", body))
    return Rule(
        id=_safe_id(default_id), title=title, query=variants[0].query, description=description,
        techniques=techniques, tactics=tactics,
        source=Source(author=author, url=references[0] if references else "", references=references[1:]),
        tables=(), schema="auto", origin=origin, variants=tuple(variants),
        platforms=_platforms(chrome.get("Platforms", "")), tags=_words(chrome.get("Tags", "")),
        data_sources=data_sources,
    )


def _split_chrome(text: str) -> tuple[dict[str, str], str]:
    """A catalog page export: the header before the "Raw Content" line, as label -> text, and the body."""
    m = re.search(r"(?m)^Raw Content\s*$", text)
    if m is None:
        return {}, text
    head, body = text[:m.start()], text[m.end():]
    chrome: dict[str, str] = {}
    current = None
    for line in head.splitlines():
        label = next((lab for lab in _CHROME_LABELS if line.rstrip().endswith(lab)), None)
        if label is not None:
            current = label
            chrome[label] = ""
        elif current is not None:
            chrome[current] += line.strip() + "\n"
    return {k: v.strip() for k, v in chrome.items()}, body


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Windows-1252 ("ðŸ“„" for 📄, "â€“" for "–"), run by run, where that decodes."""
    def fix(m: re.Match[str]) -> str:
        try:
            return m.group(0).encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return m.group(0)

    return re.sub(r"[\u0080-\u024f\u2013-\u203a\u20ac\u2122]{2,}", fix, text)


def _clean(heading: str) -> str:
    """Heading text without emphasis markers, emoji or '<Optional>' notes."""
    text = re.sub(r"<[^>]*>", "", heading).replace("*", "").replace("_", " ")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNZP" or ch in "&+")
    return " ".join(text.split()).strip(" -:")


def _variant_name(heading: str, existing: list[Variant]) -> str:
    name = heading or "query"
    n = 2
    while any(v.name == name for v in existing):
        name = f"{heading} ({n})"
        n += 1
    return name


def _parses(code: str) -> bool | None:
    """True: parses with a query; None: parses but holds no statement (comments only); False: no."""
    from kqlhunt.diagnostics import KqlError
    from kqlhunt.syntax.parser import parse

    try:
        return True if parse(code).statements else None
    except (KqlError, RecursionError):
        return False


def split_block(code: str) -> list[str]:
    """A fenced block, or the several queries some write-ups put in one block one after the other.

    Only a block that does not parse as a whole is split: at blank lines, closing a query where the text
    so far parses and the next paragraph does not continue it (does not start with `|`)."""
    code = code.rstrip("\n") + "\n"
    if _parses(code) is not False:
        return [code]
    paragraphs = re.split(r"\n[ \t]*\n", code)
    queries: list[str] = []
    current = ""
    for i, para in enumerate(paragraphs):
        current = f"{current}\n\n{para}" if current else para
        following = paragraphs[i + 1] if i + 1 < len(paragraphs) else ""
        if following.lstrip().startswith("|"):
            continue
        if _parses(current) is True:
            queries.append(current.rstrip("\n") + "\n")
            current = ""
    if current.strip():
        if queries and _parses(current) is None:
            queries[-1] += "\n" + current  # trailing comments
        else:
            queries.append(current.rstrip("\n") + "\n")
    return queries if len(queries) > 1 else [code]


def _only_lets(code: str) -> bool:
    """The block parses and holds nothing but `let` statements."""
    from kqlhunt.diagnostics import KqlError
    from kqlhunt.syntax.ast import Let
    from kqlhunt.syntax.parser import parse

    if "let" not in code:
        return False
    try:
        statements = parse(code).statements
    except (KqlError, RecursionError):
        return False
    return bool(statements) and all(isinstance(st, Let) for st in statements)


def looks_like_kql(code: str) -> bool:
    """Some line pipes into a common tabular operator (how untagged blocks and bare .txt files are told
    apart from prose)."""
    return bool(re.search(r"(?m)^\s*\|\s*(where|summarize|project|extend|join|take|top|sort|order|"
                          r"distinct|count|union|mv-expand|invoke|lookup|evaluate)\b", code))


def _sections(lines: list[str], headings: list[tuple[int, int, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, (start, _, text) in enumerate(headings):
        end = headings[i + 1][0] if i + 1 < len(headings) else len(lines)
        key = text.lower()
        out.setdefault(key, "\n".join(lines[start + 1:end]).strip())
    return out


def _first(sections: dict[str, str], names: tuple[str, ...]) -> str:
    for key, value in sections.items():
        if any(key == n or key.startswith(n) or key.endswith(n) for n in names) and value:
            return value
    return ""


def _first_paragraph(tokens: list) -> str:
    for i, tok in enumerate(tokens):
        if tok.type == "paragraph_open" and i + 1 < len(tokens):
            return tokens[i + 1].content.strip()
    return ""


def _techniques(text: str) -> tuple[Technique, ...]:
    out: dict[str, Technique] = {}
    for tid, name in _TECHNIQUE.findall(text):
        if tid not in out:
            out[tid] = Technique(tid, name.strip().strip("*").strip())
    return tuple(out.values())


def _author(text: str) -> str:
    m = re.search(r"\*\*Name:?\*\*:?\s*(.+)", text)
    if m:
        return m.group(1).strip()
    first = next((ln.strip("-* ").strip() for ln in text.splitlines() if ln.strip()), "")
    return first


def _comment_author(query: str) -> str:
    m = re.search(r"(?im)^\s*//\s*author\s*:\s*(.+)$", query)
    return m.group(1).strip() if m else ""


def _platforms(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for word in text.split():
        rest = word.lower()
        while rest:
            hit = next((p for p in PLATFORMS if rest.startswith(p)), None)
            if hit is None:
                out.append(rest)
                break
            out.append(hit)
            rest = rest[len(hit):]
    return tuple(dict.fromkeys(out))


def _words(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w.strip(",") for w in text.split() if w.strip(",")))


def _safe_id(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.-")
    return cleaned or "rule"
