"""load_rules(): YAML rule files, `.kql` files with metadata in their leading comments, directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from kqlhunt.rules import Rule, RuleError, load_rule_file, load_rules, parse_kql_rule, parse_yaml_rule

YAML_RULE = """\
id: odd_ports
title: Odd outbound ports
description: >-
  Connections to ports nobody uses.
techniques:
  - {id: T1571, name: Non-Standard Port}
  - T1071 Application Layer Protocol
tactics: [Command and Control]
source:
  author: Someone
  url: https://example.org/post
  references: [https://example.org/more]
schema: defender
display: [RemotePort]
query: |
  // keep me<TRAILING>
  DeviceNetworkEvents
  | where RemotePort !in (80, 443)

  | summarize count() by RemotePort
""".replace("<TRAILING>", "  ")  # trailing spaces, spelt out so editors and linters leave them alone


def test_yaml_rule_fields() -> None:
    rule = parse_yaml_rule(YAML_RULE, origin="x.yaml")
    assert rule.id == "odd_ports" and rule.title == "Odd outbound ports"
    assert rule.description == "Connections to ports nobody uses."
    assert [(t.id, t.name) for t in rule.techniques] == [("T1571", "Non-Standard Port"),
                                                         ("T1071", "Application Layer Protocol")]
    assert rule.tactics == ("Command and Control",)
    assert rule.source.author == "Someone" and rule.source.url == "https://example.org/post"
    assert rule.source.references == ("https://example.org/more",)
    assert rule.schema == "defender" and rule.display == ("RemotePort",)
    # literal block: exact lines, trailing spaces and blank line kept, one final newline
    assert rule.query == ("// keep me  \nDeviceNetworkEvents\n| where RemotePort !in (80, 443)\n\n"
                          "| summarize count() by RemotePort\n")
    # tables absent from the file: inferred from the query
    assert rule.tables == ("DeviceNetworkEvents",)


@pytest.mark.parametrize(("text", "fragment"), [
    ("id: a\ntitle: t\n", "missing required field `query`"),
    ("id: a\nquery: x\n", "missing required field `title`"),
    ("id: a\ntitle: t\nquery: x\ntechinques: []\n", "unknown field"),
    ("id: 004\ntitle: t\nquery: x\n", "must be text"),
    ("id: a b\ntitle: t\nquery: x\n", "id"),
    ("id: a\ntitle: t\nquery: x\ntechniques: [T99]\n", "not an ATT&CK technique id"),
    ("id: a\ntitle: t\nquery: x\nschema: splunk\n", "schema"),
    ("id: a\ntitle: t\nquery: '  '\n", "empty"),
    ("- id: a\n", "one mapping"),
    ("id: [unclosed\n", "invalid YAML"),
])
def test_yaml_rule_errors(text: str, fragment: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_yaml_rule(text, origin="bad.yaml")
    assert fragment in str(info.value)
    assert "bad.yaml" in str(info.value)


def test_kql_header_metadata() -> None:
    text = ("// Title: Beacons to rare hosts\n"
            "// Author: A. Hunter (https://example.org/me)\n"
            "// Link: https://example.org/blog/beacons\n"
            "// MITRE ATT&CK: T1071.001, T1573\n"
            "// Tactics: Command and Control, Exfiltration\n"
            "\n"
            "DeviceNetworkEvents | take 1\n")
    rule = parse_kql_rule(text, origin="beacons.kql", default_id="beacons")
    assert rule.id == "beacons" and rule.title == "Beacons to rare hosts"
    assert rule.source.author == "A. Hunter (https://example.org/me)"
    assert rule.source.url == "https://example.org/blog/beacons"  # the post before the author's home page
    assert rule.source.references == ("https://example.org/me",)
    assert [t.id for t in rule.techniques] == ["T1071.001", "T1573"]
    assert rule.tactics == ("Command and Control", "Exfiltration")
    assert rule.tables == ("DeviceNetworkEvents",)
    assert rule.query == text


def test_kql_free_text_first_line_is_the_title_and_explicit_id_wins() -> None:
    rule = parse_kql_rule("// Rare parents of cmd.exe\n// id: rare_parents\nDeviceNetworkEvents | count\n",
                          default_id="file_name")
    assert rule.title == "Rare parents of cmd.exe" and rule.id == "rare_parents"


def test_kql_without_header_uses_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "my hunt.kql"
    path.write_text("DeviceNetworkEvents | take 1", "utf-8")
    rule = load_rule_file(path)
    assert rule.id == "my_hunt" and rule.title == "my hunt"
    assert rule.techniques == () and rule.source.url == ""


def test_kql_file_is_read_verbatim(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbf// t: x  \r\nDeviceNetworkEvents\r\n| take 1 \r\n"  # BOM, CRLF, trailing spaces
    path = tmp_path / "crlf.kql"
    path.write_bytes(raw)
    assert load_rule_file(path).query.encode("utf-8") == raw[3:]


def test_unknown_table_leaves_tables_empty() -> None:
    assert parse_kql_rule("MyCustomTable | take 1").tables == ()


def test_directory_loading_is_recursive_and_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.kql").write_text("DeviceNetworkEvents | count\n", "utf-8")
    (tmp_path / "a.yml").write_text("id: one\ntitle: One\nquery: DeviceNetworkEvents | take 1\n", "utf-8")
    (tmp_path / "notes.md").write_text("not a rule", "utf-8")
    rules = load_rules(tmp_path)
    assert [r.id for r in rules] == ["one", "two"]
    assert all(isinstance(r, Rule) for r in rules)
    assert [r.id for r in load_rules(tmp_path / "a.yml")] == ["one"]
    assert load_rules(str(tmp_path / "b"))[0].origin == str(tmp_path / "b" / "two.kql")


def test_duplicate_ids_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "x.kql").write_text("DeviceNetworkEvents | count\n", "utf-8")
    (tmp_path / "y.yaml").write_text("id: x\ntitle: X\nquery: DeviceNetworkEvents | count\n", "utf-8")
    with pytest.raises(RuleError, match="duplicate rule id 'x'"):
        load_rules(tmp_path)
    with pytest.raises(RuleError, match="no such rule file"):
        load_rules(tmp_path / "missing")
