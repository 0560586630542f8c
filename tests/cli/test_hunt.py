"""`kqlhunt hunt`, `kqlhunt demo` and `kqlhunt rules list`."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import kqlhunt
from kqlhunt.cli import app
from kqlhunt.demo import DEFAULT_NOW
from kqlhunt.rules import load_rules

NOW = "2025-03-14T12:00:00Z"


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    d = tmp_path / "rules"
    d.mkdir()
    (d / "by_action.kql").write_text("// title: Events by action\n// mitre: T1071\n"
                                     "DeviceNetworkEvents\n| summarize n = count() by ActionType\n", "utf-8")
    (d / "broken.kql").write_text("DeviceNetworkEvents\n| where Timestap > ago(1d)\n", "utf-8")
    (d / "none.yaml").write_text("id: none\ntitle: Finds nothing\nquery: |\n"
                                 "  DeviceNetworkEvents | where RemotePort == -1\n", "utf-8")
    return d


def test_builtin_hunt_json_matches_the_api(runner, demo_lake: Path) -> None:
    result = runner.invoke(app, ["hunt", "--lake", str(demo_lake), "--now", NOW, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["now"] == NOW
    by_id = {r["id"]: r for r in doc["rules"]}
    rules = load_rules(None)
    assert sorted(by_id) == sorted(r.id for r in rules)
    for rule in rules:
        expected = kqlhunt.query(rule.query, lake=demo_lake, now=DEFAULT_NOW, schema=rule.schema)
        assert by_id[rule.id]["status"] == "ok"
        assert by_id[rule.id]["rows"] == expected.num_rows
        assert by_id[rule.id]["title"] == rule.title
    assert doc["totals"]["errors"] == 0 and doc["totals"]["rows"] == sum(r["rows"] for r in doc["rules"])


def test_errors_exit_1_and_the_rest_still_run(runner, demo_lake: Path, rules_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["hunt", "--rules", str(rules_dir), "--lake", str(demo_lake), "--now", NOW,
                                 "-o", str(out)])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    # the broken rule's diagnostic, located in its file
    assert "rule broken" in result.stderr
    assert f"{rules_dir / 'broken.kql'}:2:9: error[KH" in result.stderr and "^^^^^^^^" in result.stderr
    for rule_id in ("by_action", "broken", "none"):
        assert rule_id in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["by_action.parquet", "none.parquet", "summary.json"]
    expected = kqlhunt.query("DeviceNetworkEvents | summarize n = count() by ActionType", lake=demo_lake)
    got = pq.read_table(out / "by_action.parquet")
    assert sorted(got.to_pylist(), key=str) == sorted(expected.to_pylist(), key=str)
    summary = json.loads((out / "summary.json").read_text())
    assert {r["id"]: r["status"] for r in summary["rules"]} == {"broken": "error", "by_action": "ok", "none": "ok"}
    assert summary["rules"][0]["diagnostics"][0]["line"] == 2


def test_rule_filter_fail_fast_and_jsonl_results(runner, demo_lake: Path, rules_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok = runner.invoke(app, ["hunt", "--rules", str(rules_dir), "--rule", "by_*", "--rule", "none",
                             "--lake", str(demo_lake), "--format", "json", "-o", str(out), "--result-format", "jsonl"])
    assert ok.exit_code == 0, ok.stderr  # rows found are findings, not failures
    doc = json.loads(ok.stdout)
    assert [r["id"] for r in doc["rules"]] == ["by_action", "none"]
    lines = (out / "by_action.jsonl").read_text().splitlines()
    assert len(lines) == doc["rules"][0]["rows"] > 0
    fast = runner.invoke(app, ["hunt", "--rules", str(rules_dir), "--lake", str(demo_lake), "--fail-fast",
                               "--format", "json"])
    assert fast.exit_code == 1
    assert [r["id"] for r in json.loads(fast.stdout)["rules"]] == ["broken"]  # sorted: broken comes first


@pytest.mark.parametrize("args", [
    ["hunt", "--rules", "builtin"],                                   # no data
    ["hunt", "--lake", "/no/such/lake"],
    ["hunt", "--rules", "/no/such/rules", "--lake", "."],
    ["hunt", "--rule", "nothing_like_this*", "--lake", "."],
    ["hunt", "--lake", ".", "--now", "not a time"],
    ["hunt", "--lake", ".", "--format", "xml"],
    ["demo", "--rows", "10"],                                          # fewer rows than the planted activity
    ["rules"],
])
def test_usage_errors_exit_2(runner, args: list[str], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


def test_bad_rule_file_is_a_usage_error(runner, tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text("id: r\ntitle: no query\n", "utf-8")
    result = runner.invoke(app, ["hunt", "--rules", str(tmp_path), "--lake", str(tmp_path)])
    assert result.exit_code == 2
    assert "missing required field `query`" in result.stderr


def test_rules_list(runner) -> None:
    table = runner.invoke(app, ["rules", "list"])
    assert table.exit_code == 0
    for rule in load_rules(None):
        assert rule.id in table.stdout
    assert "T1568.002" in table.stdout and "DeviceNetworkEvents" in table.stdout
    as_json = runner.invoke(app, ["rules", "list", "--format", "json"])
    docs = json.loads(as_json.stdout)
    assert [d["id"] for d in docs] == [r.id for r in load_rules(None)]
    seed003 = next(d for d in docs if d["id"] == "seed003")
    assert [t["id"] for t in seed003["techniques"]] == ["T1105", "T1218", "T1071", "T1568.002"]
    assert "query" not in seed003


def test_rules_list_of_a_directory(runner, rules_dir: Path) -> None:
    result = runner.invoke(app, ["rules", "list", "--rules", str(rules_dir), "--format", "json"])
    docs = {d["id"]: d for d in json.loads(result.stdout)}
    assert docs["by_action"]["title"] == "Events by action"
    assert docs["by_action"]["techniques"] == [{"id": "T1071", "name": ""}]
    assert docs["by_action"]["tables"] == ["DeviceNetworkEvents"]


def test_demo(runner, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    result = runner.invoke(app, ["demo", "--rows", "4000", "--lake", str(lake), "--seed", "5", "--show", "1"])
    assert result.exit_code == 0, result.stderr
    files = list((lake / "DeviceNetworkEvents").rglob("*.parquet"))
    assert files and sum(pq.read_metadata(f).num_rows for f in files) == 4000
    # the summary's row counts agree with running each rule on the lake it wrote, at the generator's clock
    for rule in load_rules(None):
        expected = kqlhunt.query(rule.query, lake=lake, now=DEFAULT_NOW, schema=rule.schema)
        line = next(x for x in result.stdout.splitlines() if x.startswith(f"│ {rule.id} "))
        cells = [c.strip() for c in line.split("│")]
        assert cells[3] == str(expected.num_rows) and cells[5] == "ok", line
    assert f"--now {NOW}" in result.stdout
    # hunting the demo lake without --now: a hint names the demo's clock
    later = runner.invoke(app, ["hunt", "--lake", str(lake), "--rule", "seed003"])
    assert later.exit_code == 0 and f"add --now {NOW}" in later.stderr
    # running it again over its own lake is fine; over someone else's non-empty directory it is refused
    assert runner.invoke(app, ["demo", "--rows", "3000", "--lake", str(lake), "--show", "0"]).exit_code == 0
    other = tmp_path / "real-lake"
    (other / "DeviceNetworkEvents").mkdir(parents=True)
    refused = runner.invoke(app, ["demo", "--rows", "3000", "--lake", str(other)])
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert list((other / "DeviceNetworkEvents").iterdir()) == []
