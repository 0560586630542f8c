"""`kqlhunt explain` on the command line: formats, exit codes, usage errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kqlhunt.cli import app

runner = CliRunner()


def test_explain_builtin_json_is_versioned() -> None:
    result = runner.invoke(app, ["explain", "seed004", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "kqlhunt.explain/1"
    assert doc["variants"][0]["anatomy"]["schema"] == "kqlhunt.explain/1"


def test_explain_text_shows_the_sections() -> None:
    result = runner.invoke(app, ["explain", "seed004"])
    assert result.exit_code == 0, result.output
    for heading in ("Parameters", "Let bindings", "Stages", "Exclusions", "Indicators", "Output fields",
                    "Time window", "Event coverage", "Lint"):
        assert heading in result.stdout


def test_explain_inline_query_that_does_not_compile_exits_1() -> None:
    result = runner.invoke(app, ["explain", "-q", "DeviceNetworkEvents | where Nope == 1", "-f", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["variants"][0]["error"]["code"] == "KH211"


def test_explain_html(tmp_path) -> None:
    out = tmp_path / "page.html"
    result = runner.invoke(app, ["explain", "-q", "DeviceNetworkEvents | where RemotePort == 4444 | take 5",
                                 "-f", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text("utf-8")
    assert "<h3>Indicators</h3>" in html and "RemotePort" in html


def test_explain_unknown_rule_is_a_usage_error() -> None:
    assert runner.invoke(app, ["explain", "no-such-rule"]).exit_code == 2


def test_catalog_command(tmp_path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a.kql").write_text("// title: A\nDeviceNetworkEvents | where RemotePort == 1\n", "utf-8")
    result = runner.invoke(app, ["catalog", str(tmp_path / "rules"), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    for name in ("index.html", "stats.html", "attack.html", "attack-layer.json", "catalog.json", "rules/a.html"):
        assert (tmp_path / "site" / name).is_file(), name
