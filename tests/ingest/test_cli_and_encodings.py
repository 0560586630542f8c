"""The CLI (summary, dry run, exit codes) and awkward text inputs: UTF-16, blank lines, a pretty-printed
streaming document, a zip of several inputs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from kqlhunt.cli import app
from kqlhunt.ingest import run

ROW = {"Timestamp": "2024-05-01T10:00:00Z", "DeviceName": "pc9", "ActionType": "ConnectionSuccess",
       "RemoteIP": "8.8.4.4", "RemotePort": 53, "Protocol": "Udp"}


def _count(lake: Path) -> int:
    return duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{lake}/DeviceNetworkEvents/**/*.parquet')").fetchone()[0]


def test_utf16_and_blank_lines(tmp_path: Path) -> None:
    text = json.dumps(ROW) + "\n\n" + json.dumps(ROW | {"RemotePort": 54}) + "\n"
    src = tmp_path / "rows.json"
    src.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    report = run([str(src)], tmp_path / "lake")
    f = report.files[0]
    assert (f.format, f.read, f.written, f.skipped["blank line"]) == ("defender-json", 3, 2, 1)
    lines = duckdb.connect().execute(f"SELECT list(SourceRecord ORDER BY SourceRecord) FROM "
                       f"read_parquet('{tmp_path}/lake/DeviceNetworkEvents/**/*.parquet')").fetchone()[0]
    assert lines == ["1", "3"]


def test_pretty_printed_event_hub_message(tmp_path: Path) -> None:
    record = {"time": "2024-05-01T10:00:00Z", "category": "AdvancedHunting-DeviceNetworkEvents",
              "properties": ROW}
    src = tmp_path / "eventhub.json"
    src.write_text(json.dumps({"records": [record, record]}, indent=2))
    report = run([str(src)], tmp_path / "lake")
    assert report.files[0].format == "defender-stream" and report.totals()["written"] == 2


def test_zip_members_and_cli_summary(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.json", json.dumps(ROW) + "\n")
        z.writestr("notes.md", "# not telemetry\n")
        z.writestr("junk.bin", b"\x00\x00\x01")
    runner = CliRunner()
    dry = runner.invoke(app, ["ingest", str(archive), "--lake", str(tmp_path / "lake"), "--dry-run"])
    assert dry.exit_code == 0 and "defender-json" in dry.output and not (tmp_path / "lake").exists()
    result = runner.invoke(app, ["ingest", str(archive), "--lake", str(tmp_path / "lake"), "--json"])
    assert result.exit_code == 1  # junk.bin is unreadable: named, and the rest still ingested
    summary = json.loads(result.output[result.output.index("{"):])
    by_name = {f["source"].split("!")[-1]: f for f in summary["files"]}
    assert by_name["a.json"]["written"] == 1 and by_name["junk.bin"]["error"].startswith("unknown format")
    assert by_name["notes.md"]["skipped"] and _count(tmp_path / "lake") == 1
    again = runner.invoke(app, ["ingest", str(archive), "--lake", str(tmp_path / "lake"), "--json"])
    assert json.loads(again.output[again.output.index("{"):])["totals"]["written"] == 0
    assert _count(tmp_path / "lake") == 1


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "nope*"), "--lake", str(tmp_path / "lake")])
    assert result.exit_code == 2


def test_whitespace_only_line_keeps_line_numbers(tmp_path: Path) -> None:
    src = tmp_path / "rows.json"
    src.write_text(json.dumps(ROW) + "\n   \n" + json.dumps(ROW | {"RemotePort": 54}) + "\n")
    report = run([str(src)], tmp_path / "lake")
    assert report.files[0].written == 2
    lines = duckdb.connect().execute(f"SELECT list(SourceRecord ORDER BY SourceRecord) FROM "
                                     f"read_parquet('{tmp_path}/lake/DeviceNetworkEvents/**/*.parquet')").fetchone()[0]
    assert lines == ["1", "3"]
