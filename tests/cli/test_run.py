"""`kqlhunt run`: its output equals `kqlhunt.query` on the same input in every format, errors render with
line:col and a caret (never a traceback), and the exit codes are 0 / 1 (query error) / 2 (usage)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import kqlhunt
from kqlhunt.api import run as api_run
from kqlhunt.cli import app

NOW = "2025-03-14T12:00:00Z"
QUERY = ('Events | extend Age = datetime(2025-03-14 12:00) - Timestamp, Bag = bag_pack("port", Port, "host", Host)'
         ' | order by Timestamp asc')


def _timespan(text: str) -> timedelta:
    """Kusto timespan text [-][d.]hh:mm:ss[.fffffff] -> timedelta (parsed here, independently)."""
    m = re.fullmatch(r"(-)?(?:(\d+)\.)?(\d{2}):(\d{2}):(\d{2})(?:\.(\d{7}))?", text)
    assert m, text
    sign, days, h, mi, s, frac = m.groups()
    value = timedelta(days=int(days or 0), hours=int(h), minutes=int(mi), seconds=int(s),
                      microseconds=int(frac or 0) // 10)
    return -value if sign else value


def _datetime(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def _same(expected, got, kql_type: str) -> bool:
    if expected is None:
        return got is None
    if kql_type == "datetime":
        return _datetime(got) == expected
    if kql_type == "timespan":
        return _timespan(got) == expected
    if kql_type == "dynamic":
        return json.loads(expected) == got
    if kql_type == "real" and math.isnan(expected):
        return got == "NaN"
    return expected == got


def test_json_output_equals_the_api(runner, events_file: Path) -> None:
    result = runner.invoke(app, ["run", "-q", QUERY, "--table", f"Events={events_file}", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    got = [json.loads(line) for line in result.stdout.splitlines()]  # JSON Lines: one object per line
    table = kqlhunt.query(QUERY, tables={"Events": str(events_file)})
    expected = table.to_pylist()
    types = {f.name: f.metadata[b"kql_type"].decode() for f in table.schema}
    assert len(got) == len(expected) == 5
    for want_row, got_row in zip(expected, got, strict=True):
        assert list(got_row) == table.column_names
        for name, want in want_row.items():
            assert _same(want, got_row[name], types[name]), (name, want, got_row[name])


def test_json_text_forms() -> None:
    from typer.testing import CliRunner

    q = ("print a = 1d + 2h, b = -1500ms, c = 90s, d = datetime(2020-01-02 03:04:05), e = real(nan), "
         "f = real(+inf), g = dynamic({\"k\": [1, \"x\"]}), h = true, i = decimal(1.50)")
    result = CliRunner().invoke(app, ["run", "-q", q, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)
    # Kusto's own text forms (docs: timespan [d.]hh:mm:ss[.fffffff], datetime ISO 8601 UTC)
    assert row["a"] == "1.02:00:00" and row["b"] == "-00:00:01.5000000" and row["c"] == "00:01:30"
    assert row["d"] == "2020-01-02T03:04:05Z"
    assert row["e"] == "NaN" and row["f"] == "Infinity"
    assert row["g"] == {"k": [1, "x"]} and row["h"] is True and row["i"] == "1.5"


def test_csv_output_equals_the_api(runner, events_file: Path) -> None:
    result = runner.invoke(app, ["run", "-q", QUERY, "-t", f"Events={events_file}", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    table = kqlhunt.query(QUERY, tables={"Events": str(events_file)})
    assert list(rows[0]) == table.column_names and len(rows) == table.num_rows
    for want, got in zip(table.to_pylist(), rows, strict=True):
        assert got["Host"] == want["Host"]
        assert got["Port"] == ("" if want["Port"] is None else str(want["Port"]))
        assert got["Ok"] == {None: "", True: "true", False: "false"}[want["Ok"]]
        assert (got["Timestamp"] == "") if want["Timestamp"] is None else _datetime(got["Timestamp"]) == want[
            "Timestamp"]
        assert json.loads(got["Bag"]) == json.loads(want["Bag"])


@pytest.mark.parametrize("flags", [["-f", "parquet", "-o"], ["-o"]])  # explicit, or from the suffix
def test_parquet_output_equals_the_api(runner, events_file: Path, tmp_path: Path, flags: list[str]) -> None:
    out = tmp_path / "result.parquet"
    result = runner.invoke(app, ["run", "-q", QUERY, "-t", f"Events={events_file}", *flags, str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    expected = kqlhunt.query(QUERY, tables={"Events": str(events_file)})
    back = pq.read_table(out)
    assert back.schema.equals(expected.schema, check_metadata=True)  # Kusto types kept in the metadata
    assert _nan_free(back.to_pylist()) == _nan_free(expected.to_pylist())


def _nan_free(rows: list[dict]) -> list[dict]:
    # NaN != NaN: give it a comparable stand-in
    return [{k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows]


def test_json_to_file_and_stdin(runner, events_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    result = runner.invoke(app, ["run", "-", "-t", f"Events={events_file}", "-o", str(out)], input="Events | count")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(x) for x in out.read_text().splitlines()] == [{"Count": 5}]


def test_query_file_lake_and_now(runner, demo_lake: Path, tmp_path: Path) -> None:
    query = tmp_path / "recent.kql"
    query.write_text("// last six hours\nDeviceNetworkEvents\n| where Timestamp > ago(6h)\n| count\n", "utf-8")
    result = runner.invoke(app, ["run", str(query), "--lake", str(demo_lake), "--now", NOW, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    # Expectation computed from the Parquet files directly.
    ts = pq.read_table(demo_lake / "DeviceNetworkEvents", columns=["Timestamp"], partitioning=None)
    cutoff = datetime(2025, 3, 14, 6, 0, 0)
    expected = sum(1 for t in ts.column(0).to_pylist() if t is not None and t > cutoff)
    assert json.loads(result.stdout) == {"Count": expected}


def test_table_format_and_max_rows(runner, events_file: Path) -> None:
    result = runner.invoke(app, ["run", "-q", "Events | project Host, Port", "-t", f"Events={events_file}",
                                 "--max-rows", "2"])
    assert result.exit_code == 0, result.stderr
    assert "showing 2 of 5 rows" in result.stdout
    assert "a.example" in result.stdout and "b [bold]x[/bold]" in result.stdout  # data is not rich markup
    assert "e.example" not in result.stdout
    everything = runner.invoke(app, ["run", "-q", "Events | project Host", "-t", f"Events={events_file}",
                                     "--max-rows", "0"])
    assert "e.example" in everything.stdout and "5 rows" in everything.stdout


def test_show_sql(runner, events_file: Path) -> None:
    q = "Events | where Port == 443 | count"
    _, compiled = api_run(q, tables={"Events": str(events_file)})
    as_table = runner.invoke(app, ["run", "-q", q, "-t", f"Events={events_file}", "--show-sql"])
    assert as_table.exit_code == 0 and compiled.sql in as_table.stdout
    as_json = runner.invoke(app, ["run", "-q", q, "-t", f"Events={events_file}", "--show-sql", "-f", "json"])
    # stdout carries the data, so the SQL goes to stderr
    assert json.loads(as_json.stdout) == {"Count": 2}
    assert compiled.sql in as_json.stderr


BAD = "DeviceNetworkEvents\n| where Timestap > ago(1d)\n| take 3\n"


def test_query_error_renders_position_and_caret(runner, tmp_path: Path) -> None:
    path = tmp_path / "bad.kql"
    path.write_text(BAD, "utf-8")
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    col = BAD.splitlines()[1].index("Timestap") + 1
    lines = result.stderr.splitlines()
    head = next(i for i, line in enumerate(lines) if f"bad.kql:2:{col}: error[KH" in line)
    assert lines[head + 1].strip() == "| where Timestap > ago(1d)"
    caret = lines[head + 2]
    # the caret sits under the misspelt name in the echoed source line
    assert caret.index("^") - lines[head + 1].index("|") == col - 1
    assert any("hint:" in line and "Timestamp" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_query_error_as_json(runner) -> None:
    result = runner.invoke(app, ["run", "-q", BAD, "-f", "json"])
    assert result.exit_code == 1 and result.stdout == ""
    doc = json.loads(result.stderr)
    assert doc["ok"] is False
    d = doc["diagnostics"][0]
    assert d["code"].startswith("KH") and d["severity"] == "error"
    assert (d["line"], d["col"]) == (2, BAD.splitlines()[1].index("Timestap") + 1)
    assert BAD[d["start"]:d["end"]] == "Timestap"


def test_syntax_error(runner) -> None:
    result = runner.invoke(app, ["run", "-q", "print x = (1 +"])
    assert result.exit_code == 1
    assert re.search(r"^1:\d+: error\[KH1\d\d\]", result.stderr, re.MULTILINE), result.stderr


def test_engine_failure_is_reported_without_traceback(runner, monkeypatch) -> None:
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("kqlhunt.api.run", explode)
    result = runner.invoke(app, ["run", "-q", "print 1"])
    assert result.exit_code == 1
    assert "RuntimeError: boom" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [
    ["run"],                                               # no query at all
    ["run", "x.kql", "-q", "print 1"],                     # both
    ["run", "missing.kql"],
    ["run", "-q", "print 1", "--table", "Events"],         # not NAME=PATH
    ["run", "-q", "print 1", "--table", "Bad Name=x.parquet"],
    ["run", "-q", "print 1", "--table", "T=/no/such/file.parquet"],
    ["run", "-q", "print 1", "--lake", "/no/such/lake"],
    ["run", "-q", "print 1", "--now", "yesterday-ish"],
    ["run", "-q", "print 1", "--format", "parquet"],        # binary needs --output
    ["run", "-q", "print 1", "--format", "table", "-o", "x.csv"],
    ["run", "-q", "print 1", "-o", "result.xlsx"],          # cannot tell the format
    ["run", "-q", "print 1", "--format", "yaml"],
    ["run", "-q", "print 1", "--schema", "splunk"],
    ["run", "-q", "print 1", "--max-rows", "-1"],
    ["run", "-q", "print 1", "-o", "/no/such/dir/out.csv"],
    ["frobnicate"],
])
def test_usage_errors_exit_2(runner, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


def test_version(runner) -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"kqlhunt {version('kqlhunt')}" == f"kqlhunt {kqlhunt.__version__}"


def test_entry_point_process(tmp_path: Path, events_file: Path) -> None:
    """The real entry point in a child process: clean JSON on fd 1, diagnostics on fd 2."""
    main = [sys.executable, "-c", "from kqlhunt.cli import main; main()"]
    ok = subprocess.run([*main, "run", "-q", "Events | summarize n = count()", "-t", f"Events={events_file}",
                         "-f", "json"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and json.loads(ok.stdout) == {"n": 5}
    bad = subprocess.run([*main, "run", "-q", BAD], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "2:9: error[KH" in bad.stderr and "Traceback" not in bad.stderr
