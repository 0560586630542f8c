"""Markdown write-ups, Sentinel YAML and MITRE validation, on small files written for the test."""

from __future__ import annotations

from kqlhunt.rules import load_rule_file, load_rules
from kqlhunt.rules.explain import explain_rule, metadata
from kqlhunt.rules.mitre import lookup, tactic_name

MARKDOWN = """# Rare outbound ports

## Query Information

#### MITRE ATT&CK Technique(s)

| Technique ID | Title | Link |
| --- | --- | --- |
| T1571 | Non-Standard Port | https://attack.mitre.org/techniques/T1571/ |

#### Description
Finds processes talking to rare ports.

#### Author <Optional>
- **Name:** Jane Doe

#### References
- [Blog](https://example.org/post)
- https://example.org/second

## Defender XDR
```KQL
DeviceNetworkEvents
| where Timestamp > ago(7d)
| where RemotePort == 4444
```
## Sentinel
```KQL
DeviceNetworkEvents
| where TimeGenerated > ago(7d)
| where RemotePort == 4444
```
"""

SENTINEL = """id: 0b9ae89d-8cad-461c-808f-0494f70ad5c4
name: Beacon to rare port
description: |
  Connections to a rare port.
severity: Medium
requiredDataConnectors:
  - connectorId: MicrosoftThreatProtection
    dataTypes:
      - DeviceNetworkEvents
tactics:
  - CommandAndControl
relevantTechniques:
  - T1571
tags:
  - Beacon
query: |
  DeviceNetworkEvents
  | where TimeGenerated > ago(1d)
  | where RemotePort == 4444
"""


def test_markdown_variants_and_metadata(tmp_path) -> None:
    path = tmp_path / "rare-ports.md"
    path.write_text(MARKDOWN, "utf-8")
    rule = load_rule_file(path)
    assert rule.title == "Rare outbound ports"
    assert [v.name for v in rule.variants] == ["Defender XDR", "Sentinel"]
    assert rule.description == "Finds processes talking to rare ports."
    assert rule.source.author == "Jane Doe"
    assert (rule.source.url, rule.source.references) == ("https://example.org/post", ("https://example.org/second",))
    assert [t.id for t in rule.techniques] == ["T1571"]
    doc = explain_rule(rule)
    assert doc["rule"]["tactics"] == ["Command and Control"]
    assert [v["anatomy"]["time_windows"][0]["column"] for v in doc["variants"]] == ["Timestamp", "TimeGenerated"]


def test_directory_skips_markdown_without_kql(tmp_path) -> None:
    (tmp_path / "README.md").write_text("# Notes\nNo queries here.\n", "utf-8")
    (tmp_path / "hunt.md").write_text(MARKDOWN, "utf-8")
    assert [r.id for r in load_rules(tmp_path)] == ["hunt"]


def test_sentinel_yaml(tmp_path) -> None:
    path = tmp_path / "beacon.yaml"
    path.write_text(SENTINEL, "utf-8")
    rule = load_rule_file(path)
    assert rule.id == "0b9ae89d-8cad-461c-808f-0494f70ad5c4"
    assert (rule.title, rule.severity, rule.tags) == ("Beacon to rare port", "Medium", ("Beacon",))
    assert rule.data_sources == ("DeviceNetworkEvents",)
    meta = metadata(rule, [])
    assert meta["stated_tactics"] == [{"stated": "CommandAndControl", "tactic": "Command and Control"}]
    assert meta["techniques"][0]["name"] == "Non-Standard Port"


def test_mitre_lookup() -> None:
    assert lookup("T1071").name == "Application Layer Protocol"
    assert lookup("T1071").tactics == ("Command and Control",)
    assert lookup("T1568.002").name == "Domain Generation Algorithms"
    assert lookup("T9999").status == "unknown"
    assert tactic_name("Command & Control") == "Command and Control"
    assert tactic_name("lateral-movement") == "Lateral Movement"
    assert tactic_name("No specific technique") is None


def test_tables_from_parse_for_queries_that_do_not_bind() -> None:
    from kqlhunt.rules.anatomy import tables_from_parse
    from kqlhunt.syntax.parser import parse

    q = "let T = A | where x; union B, (C | take 1) | join (D) on k | lookup E on k | join T on k"
    assert tables_from_parse(parse(q)) == ["A", "B", "C", "D", "E"]


def test_directory_skips_text_notes_but_reads_text_queries(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("Remember to tune the thresholds.\n", "utf-8")
    (tmp_path / "query.txt").write_text("DeviceNetworkEvents\n| where RemotePort == 4444\n", "utf-8")
    assert [r.id for r in load_rules(tmp_path)] == ["query"]


def test_a_block_with_several_queries_gives_several_variants(tmp_path) -> None:
    md = ("# Two hunts\n## Query\n```kql\n// first\nDeviceNetworkEvents\n| where RemotePort == 1\n\n"
          "// second\nDeviceNetworkEvents\n\n| where RemotePort == 2\n```\n")
    (tmp_path / "two.md").write_text(md, "utf-8")
    rule = load_rule_file(tmp_path / "two.md")
    assert [v.name for v in rule.variants] == ["Query", "Query (2)"]
    assert rule.variants[0].query == "// first\nDeviceNetworkEvents\n| where RemotePort == 1\n"
    assert rule.variants[1].query == "// second\nDeviceNetworkEvents\n\n| where RemotePort == 2\n"


def test_a_parameter_block_goes_in_front_of_the_queries(tmp_path) -> None:
    md = "# Triage\n```kql\nlet Port = 4444;\n```\n## Network\n```kql\nDeviceNetworkEvents | where RemotePort == Port\n```\n"
    (tmp_path / "t.md").write_text(md, "utf-8")
    rule = load_rule_file(tmp_path / "t.md")
    assert [v.query for v in rule.variants] == ["let Port = 4444;\nDeviceNetworkEvents | where RemotePort == Port\n"]
