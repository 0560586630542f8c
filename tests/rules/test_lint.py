"""Lint findings on small queries written for each check; expectations from the KQL semantics."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kqlhunt.cli import app
from kqlhunt.rules.lint import lint_query


def codes(query: str) -> list[str]:
    return [d.code for d in lint_query(query)]


BASE = "DeviceNetworkEvents | where Timestamp > ago(1d) "


def test_never_matching_action_type_with_suggestion() -> None:
    (d,) = lint_query(BASE + '| where ActionType == "ConnectionSucess"')
    assert d.code == "KHL101" and "ConnectionSuccess" in d.hints[0]
    q = BASE + '| where ActionType == "ConnectionSucess"'
    assert q[d.span.start:d.span.end] == '"ConnectionSucess"'


def test_case_only_difference_is_its_own_finding() -> None:
    assert codes(BASE + '| where RemoteIPType == "public"') == ["KHL102"]
    assert codes(BASE + '| where RemoteIPType =~ "public"') == []


def test_unused_let_and_missing_time_filter() -> None:
    assert codes('let x = 5; DeviceNetworkEvents | where RemotePort == 4444') == ["KHL201", "KHL202"]


def test_next_needs_serialized_input() -> None:
    assert codes(BASE + "| extend n = next(RemotePort)") == ["KHL203"]
    assert codes(BASE + "| sort by Timestamp asc | extend n = next(RemotePort)") == []
    assert codes(BASE + "| serialize | extend n = prev(RemotePort)") == []
    assert codes(BASE + "| sort by Timestamp asc | summarize count() by DeviceId | extend n = next(count_)") == \
        ["KHL203"]


def test_contains_where_has_would_do() -> None:
    assert codes(BASE + '| where InitiatingProcessCommandLine contains "powershell"') == ["KHL204"]
    assert codes(BASE + '| where InitiatingProcessCommandLine contains "-enc "') == []


def test_case_sensitive_file_names() -> None:
    assert codes(BASE + '| where InitiatingProcessFileName in ("cmd.exe", "powershell.exe")') == ["KHL205"]
    assert codes(BASE + '| where InitiatingProcessFileName in~ ("cmd.exe")') == []


def test_join_without_time_window() -> None:
    q = BASE + "| join kind=inner (DeviceNetworkEvents | project DeviceId, RemoteUrl) on DeviceId"
    assert codes(q) == ["KHL206"]


def test_make_timespan_fraction_is_a_note() -> None:
    found = lint_query("let t = make_timespan(0, 0, 0.001); " + BASE + "| where RemotePort > t / 1ms")
    assert [d.code for d in found] == ["KHL207"]
    assert "valid" in found[0].message and "wrongly" in found[0].message


def test_unknown_column_is_reported_with_its_position() -> None:
    q = BASE + "| where RemotePrt == 1"
    (d,) = lint_query(q)
    assert d.code == "KHL103" and q[d.span.start:d.span.end] == "RemotePrt"
    (d,) = lint_query("DeviceNetworkEvents | where Timestamp > ago(1d) | summarize by")
    assert d.code == "KHL100"  # a syntax error: the compiler's diagnostic


def test_suppression_comments() -> None:
    q = BASE + '| where ActionType == "ConnectionSucess" // kqlhunt-ignore: KHL101'
    assert codes(q) == []
    q = BASE + '// kqlhunt-ignore\n| where ActionType == "ConnectionSucess"'
    assert codes(q) == []
    q = BASE + '| where ActionType == "ConnectionSucess" // kqlhunt-ignore: KHL204'
    assert codes(q) == ["KHL101"]
    q = '// kqlhunt-ignore-file: KHL202\nlet x = 1; DeviceNetworkEvents | take 1'
    assert codes(q) == ["KHL201"]


def test_cli_sarif(tmp_path) -> None:
    rule = tmp_path / "r.kql"
    rule.write_text('// title: t\nDeviceNetworkEvents\n| where ActionType == "ConnectionSucess"\n', "utf-8")
    result = CliRunner().invoke(app, ["lint", str(rule), "-f", "sarif"])
    assert result.exit_code == 0, result.output  # warnings do not fail without --strict
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["KHL202", "KHL101"]
    region = results[1]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (3, 23)
    assert CliRunner().invoke(app, ["lint", str(rule), "--strict"]).exit_code == 1


def test_cli_lint_markdown_positions_are_in_the_file(tmp_path) -> None:
    md = tmp_path / "hunt.md"
    md.write_text("# Hunt\n\nSome text.\n\n## Query\n```kql\nDeviceNetworkEvents\n"
                  "| where Timestamp > ago(1d)\n| where RemoteIPType == \"Publik\"\n```\n", "utf-8")
    result = CliRunner().invoke(app, ["lint", str(md), "-f", "json"])
    (finding,) = json.loads(result.stdout)
    assert (finding["code"], finding["line"], finding["col"]) == ("KHL101", 9, 25)
