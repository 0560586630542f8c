"""Each format from small hand-made fixtures; expectations are the fixtures' known contents."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from kqlhunt.ingest import run

ZEEK_TSV = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#open\t2024-01-01-00-00-00\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\t"
    "resp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\t"
    "resp_pkts\tresp_ip_bytes\ttunnel_parents\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\t"
    "count\tstring\tcount\tcount\tcount\tcount\tset[string]\n"
    "1704067200.123456\tC1\t10.0.0.5\t50000\t8.8.8.8\t53\tudp\tdns\t0.01\t40\t80\tSF\tT\tF\t0\tDd\t1\t68\t1\t108\t-\n"
    "broken line\n"
    "1704067260.5\tC2\t203.0.113.9\t40000\t10.0.0.5\t22\ttcp\t-\t-\t-\t-\tS0\tF\tT\t0\tS\t1\t60\t0\t0\t-\n"
    "#close\t2024-01-01-01-00-00\n")


def rows(lake: Path, where: str = "true") -> list[dict[str, object]]:
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{lake}/DeviceNetworkEvents/**/*.parquet') WHERE {where} "
                     "ORDER BY SourceFile, TRY_CAST(SourceRecord AS BIGINT)")
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def quarantined(lake: Path) -> list[dict[str, object]]:
    out = []
    for path in sorted((lake / "_ingest" / "quarantine").glob("*.jsonl")):
        out += [json.loads(line) for line in path.read_text().splitlines()]
    return out


def test_zeek_tsv(tmp_path: Path) -> None:
    src = tmp_path / "conn.log"
    src.write_text(ZEEK_TSV)
    report = run([str(src)], tmp_path / "lake", sensor="sensor1")
    assert report.totals()["read"] == 3 and report.totals()["written"] == 2
    got = rows(tmp_path / "lake")
    assert [r["SourceRecord"] for r in got] == ["9", "11"]  # line numbers in the file
    first, second = got
    assert (first["LocalIP"], first["LocalPort"], first["RemoteIP"], first["RemotePort"]) == \
        ("10.0.0.5", 50000, "8.8.8.8", 53)
    assert first["Protocol"] == "Udp" and first["ActionType"] == "ConnectionSuccess"
    assert first["DeviceName"] == "sensor1" and first["InitiatingProcessFileName"] == ""
    assert str(first["Timestamp"]) == "2024-01-01 00:00:00.123456"
    assert json.loads(first["AdditionalFields"])["orig_bytes"] == 40
    # local_orig=F, local_resp=T: the responder is local; S0 = no answer
    assert (second["LocalIP"], second["RemoteIP"], second["ActionType"]) == \
        ("10.0.0.5", "203.0.113.9", "ConnectionAttempt")
    assert second["RemoteIPType"] == "Reserved"  # TEST-NET-3
    [bad] = quarantined(tmp_path / "lake")
    assert bad["record"] == 10 and bad["text"] == "broken line"


def test_zeek_missing_header_is_reported(tmp_path: Path) -> None:
    src = tmp_path / "conn.log"
    src.write_text("1704067200.1\tC1\t10.0.0.5\t5\t8.8.8.8\t53\tudp\n")
    report = run([str(src)], tmp_path / "lake", fmt="zeek-tsv")
    assert report.files[0].error and report.totals()["written"] == 0
    assert quarantined(tmp_path / "lake")[0]["file"] == str(src.resolve())


def test_zeek_json_underscore(tmp_path: Path) -> None:
    src = tmp_path / "conn.json"
    src.write_text(json.dumps({"ts": "2024-01-01T00:00:00.5Z", "uid": "C9", "id_orig_h": "192.168.1.2",
                               "id_orig_p": 5000, "id_resp_h": "2001:0:4136:e378::1", "id_resp_p": 443,
                               "proto": "tcp", "conn_state": "SF", "_system_name": "edge-1"}) + "\n")
    run([str(src)], tmp_path / "lake")
    [row] = rows(tmp_path / "lake")
    assert row["DeviceName"] == "edge-1" and row["RemotePort"] == 443
    assert row["RemoteIPType"] == "Teredo" and row["LocalIPType"] == "Private"


def _nx(**fields: object) -> str:
    base = {"Hostname": "HOST1.corp.local", "SourceName": "Microsoft-Windows-Sysmon",
            "Channel": "Microsoft-Windows-Sysmon/Operational"}
    return json.dumps(base | fields)


def test_sysmon_and_5156_json_lines(tmp_path: Path) -> None:
    guid = "{aaaa-1}"
    lines = [
        _nx(EventID=1, RecordNumber=1, UtcTime="2024-02-01 10:00:00.000", ProcessGuid=guid, ProcessId="42",
            Image="C:\\Tools\\beacon.exe", CommandLine="beacon.exe -c2", ParentImage="C:\\Windows\\explorer.exe",
            Hashes="SHA1=AB12,MD5=CD34,SHA256=EF56", User="CORP\\alice", IntegrityLevel="High"),
        _nx(EventID=3, RecordNumber=2, UtcTime="2024-02-01 10:00:05.250", ProcessGuid=guid, ProcessId="42",
            Image="C:\\Tools\\beacon.exe", User="CORP\\alice", Protocol="tcp", Initiated="true",
            SourceIp="10.1.1.1", SourcePort="50001", DestinationIp="93.184.216.34", DestinationPort="8443",
            DestinationHostname="example.org"),
        "{not json",
        _nx(EventID=3, RecordNumber=3, UtcTime="2024-02-01 10:01:00.000", ProcessGuid="{bbbb-2}", ProcessId="77",
            Image="<unknown process>", Protocol="tcp", Initiated="true", SourceIp="10.1.1.1",
            SourcePort="50002", DestinationIp="151.101.1.1", DestinationPort="443"),
        json.dumps({"Hostname": "HOST1.corp.local", "Channel": "Security", "EventID": 5156, "ProcessID": "77",
                    "TimeCreated": "2024-02-01T10:01:00.400Z", "RecordNumber": 9,
                    "Application": "\\device\\harddiskvolume2\\windows\\system32\\mshta.exe",
                    "Direction": "%%14593", "SourceAddress": "10.1.1.1", "SourcePort": "50002",
                    "DestAddress": "151.101.1.1", "DestPort": "443", "Protocol": "6"}),
        json.dumps({"Hostname": "HOST1.corp.local", "Channel": "Security", "EventID": 5156, "ProcessId": "4",
                    "TimeCreated": "2024-02-01T10:02:00Z", "RecordNumber": 10, "Application": "System",
                    "Direction": "%%14592", "SourceAddress": "10.9.9.9", "SourcePort": "61000",
                    "DestAddress": "10.1.1.1", "DestPort": "445", "Protocol": "6"}),
        _nx(EventID=4103, RecordNumber=11),
    ]
    src = tmp_path / "events.json"
    src.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe broken bytes\n")
    report = run([str(src)], tmp_path / "lake")
    f = report.files[0]
    assert f.read == 8 and f.written == 3 and f.quarantined == 2
    assert f.read == f.written + f.quarantined + sum(f.skipped.values())
    assert f.skipped["Security 5156 merged into the Sysmon 3 event of the same connection"] == 1
    got = {r["SourceRecord"]: r for r in rows(tmp_path / "lake")}
    assert set(got) == {"2", "4", "6"}  # line numbers; line 3 is the malformed one
    beacon = got["2"]
    assert beacon["InitiatingProcessFileName"] == "beacon.exe"
    assert beacon["InitiatingProcessCommandLine"] == "beacon.exe -c2"
    assert beacon["InitiatingProcessParentFileName"] == "explorer.exe"
    assert (beacon["InitiatingProcessSHA1"], beacon["InitiatingProcessMD5"]) == ("ab12", "cd34")
    assert (beacon["InitiatingProcessAccountDomain"], beacon["InitiatingProcessAccountName"]) == ("CORP", "alice")
    assert (beacon["LocalIP"], beacon["RemoteIP"], beacon["RemotePort"], beacon["RemoteUrl"]) == \
        ("10.1.1.1", "93.184.216.34", 8443, "example.org")
    assert beacon["ActionType"] == "ConnectionSuccess" and beacon["RemoteIPType"] == "Public"
    assert str(beacon["Timestamp"]) == "2024-02-01 10:00:05.250000"
    assert beacon["DeviceName"] == "host1.corp.local" and beacon["InitiatingProcessId"] == 42
    assert got["4"]["InitiatingProcessFileName"] == "mshta.exe"  # named by the matching 5156
    inbound = got["6"]
    assert (inbound["ActionType"], inbound["LocalPort"], inbound["RemoteIP"]) == \
        ("InboundConnectionAccepted", 445, "10.9.9.9")
    assert inbound["InitiatingProcessId"] == 4
    reasons = sorted(q["reason"].split(":")[0] for q in quarantined(tmp_path / "lake"))
    assert reasons == ["malformed JSON", "not UTF-8 (invalid start byte at byte 0)"]
    assert sorted(q["record"] for q in quarantined(tmp_path / "lake")) == [3, 8]


DEFENDER_COLS = "Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,LocalIP,LocalPort,Protocol," \
                "InitiatingProcessFileName,AdditionalFields"


def test_defender_csv_json_stream_sentinel(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(
        DEFENDER_COLS + "\n"
        '2024-03-01T01:02:03.456Z,dev1,pc1,ConnectionSuccess,1.1.1.1,443,10.0.0.2,50000,Tcp,curl.exe,'
        '"{""Bytes"":5}"\n'
        '2024-03-01T01:02:04Z,dev1,pc1,ListeningConnectionCreated,,,0.0.0.0,8080,Tcp,srv.exe,\n')
    (tmp_path / "export.json").write_text(json.dumps([
        {"Timestamp": "2024-03-02T00:00:00Z", "DeviceName": "pc2", "ActionType": "ConnectionFailed",
         "RemoteIP": "::1", "RemotePort": 80, "AdditionalFields": {"a": 1}}]))
    record = {"time": "2024-03-03T00:00:00Z", "tenantId": "t", "category": "AdvancedHunting-DeviceNetworkEvents",
              "properties": {"DeviceName": "pc3", "ActionType": "ConnectionSuccess", "RemoteIP": "10.0.0.9",
                             "RemotePort": 22, "Timestamp": "2024-03-03T00:00:01Z"}}
    other = dict(record, category="AdvancedHunting-DeviceProcessEvents")
    (tmp_path / "stream.json").write_text(json.dumps({"records": [record, other, record]}) + "\n")
    (tmp_path / "sentinel.jsonl").write_text(json.dumps(
        {"TimeGenerated": "2024-03-04T05:06:07Z", "DeviceName": "pc4", "ActionType": "ConnectionSuccess",
         "RemoteIP": "255.255.255.255", "RemotePort": "137", "Type": "DeviceNetworkEvents",
         "TenantId": "x"}) + "\n")
    report = run([str(tmp_path / "*.*")], tmp_path / "lake")
    formats = {Path(f.source).name: f.format for f in report.files}
    assert formats == {"export.csv": "defender-csv", "export.json": "defender-json",
                       "stream.json": "defender-stream", "sentinel.jsonl": "defender-json"}
    got = {(Path(r["SourceFile"]).name, r["SourceRecord"]): r for r in rows(tmp_path / "lake")}
    assert set(got) == {("export.csv", "1"), ("export.csv", "2"), ("export.json", "1"),
                        ("stream.json", "1#1"), ("stream.json", "1#3"), ("sentinel.jsonl", "1")}
    csv1 = got[("export.csv", "1")]
    assert str(csv1["Timestamp"]) == "2024-03-01 01:02:03.456000" and csv1["RemotePort"] == 443
    assert json.loads(csv1["AdditionalFields"]) == {"Bytes": 5}
    assert got[("export.csv", "2")]["RemotePort"] is None
    assert got[("export.json", "1")]["RemoteIPType"] == "Loopback"
    assert json.loads(got[("export.json", "1")]["AdditionalFields"]) == {"a": 1}
    assert str(got[("stream.json", "1#1")]["Timestamp"]) == "2024-03-03 00:00:01"
    assert got[("sentinel.jsonl", "1")]["RemoteIPType"] == "Broadcast"
    stream = next(f for f in report.files if f.source.endswith("stream.json"))
    assert stream.read == 3 and stream.skipped["other table (AdvancedHunting-DeviceProcessEvents)"] == 1


def test_reingest_adds_nothing_and_new_files_append(tmp_path: Path) -> None:
    src = tmp_path / "conn.log"
    src.write_text(ZEEK_TSV)
    lake = tmp_path / "lake"
    run([str(src)], lake)
    again = run([str(src)], lake)
    assert again.totals()["written"] == 0
    # the same file grown by one record: only the new record is written
    src.write_text(ZEEK_TSV.replace("#close", "1704067300\tC3\t10.0.0.5\t1\t9.9.9.9\t53\tudp\t-\t-\t-\t-\tSF\tT\tF"
                                    "\t0\tD\t1\t1\t1\t1\t-\n#close"))
    grown = run([str(src)], lake)
    assert grown.totals()["written"] == 1 and grown.files[0].skipped["already in the lake"] == 2
    assert len(rows(lake)) == 3


def test_unknown_file_reported_others_ingest(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"\x00\x01garbage")
    (tmp_path / "conn.log").write_text(ZEEK_TSV)
    report = run([str(tmp_path)], tmp_path / "lake")
    errors = {Path(f.source).name: f.error for f in report.files}
    assert errors["a.bin"].startswith("unknown format") and errors["conn.log"] == ""
    assert report.totals()["written"] == 2


def test_lake_reads_back_with_kusto_types(tmp_path: Path) -> None:
    import kqlhunt

    src = tmp_path / "conn.log"
    src.write_text(ZEEK_TSV)
    run([str(src)], tmp_path / "lake")
    table = kqlhunt.query("DeviceNetworkEvents | summarize n = count(), p = max(RemotePort), t = max(Timestamp)",
                          lake=str(tmp_path / "lake"))
    assert table.column("n").to_pylist() == [2] and table.column("p").to_pylist() == [40000]
    assert table.schema.field("p").metadata[b"kql_type"] == b"int"


@pytest.mark.parametrize("ip,kind", [("10.1.2.3", "Private"), ("127.0.0.1", "Loopback"), ("8.8.8.8", "Public"),
                                     ("169.254.1.1", "LinkLocal"), ("100.64.0.1", "Reserved"),
                                     ("::ffff:1.2.3.4", "FourToSixMapping"), ("fe80::1", "LinkLocal"),
                                     ("224.0.0.251", "Multicast")])
def test_ip_type_sql_matches_defender_vocabulary(ip: str, kind: str) -> None:
    from kqlhunt.ingest import iptype

    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT '{ip}' AS ip")
    lookup = iptype.build_lookup(con, "t", ("ip",))
    assert con.execute(f"SELECT kh_kind FROM {lookup} WHERE kh_ip = '{ip}'").fetchone()[0] == kind


def test_winlogbeat_and_evtx_dump_json(tmp_path: Path) -> None:
    data = {"UtcTime": "2024-06-01 08:00:00.500", "ProcessGuid": "{cc-3}", "ProcessId": 9, "User": "D\\bob",
            "Image": "C:\\x\\rat.exe", "Protocol": "udp", "Initiated": True, "SourceIp": "192.168.5.5",
            "SourcePort": 5353, "DestinationIp": "1.2.3.4", "DestinationPort": 4444}
    beat = {"@timestamp": "2024-06-01T08:00:01.000Z", "event": {"code": "3"},
            "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": "3",
                       "computer_name": "WS-7.dom", "record_id": 77, "event_data": data}}
    dump = {"Event": {"System": {"EventID": 3, "Channel": "Microsoft-Windows-Sysmon/Operational",
                                 "Computer": "WS-8", "EventRecordID": 5,
                                 "TimeCreated": {"#attributes": {"SystemTime": "2024-06-01T08:00:02Z"}}},
                      "EventData": data | {"UtcTime": "2024-06-01 08:00:01.250"}}}
    (tmp_path / "beat.json").write_text(json.dumps(beat) + "\n")
    (tmp_path / "dump.json").write_text(json.dumps(dump) + "\n")
    report = run([str(tmp_path / "beat.json"), str(tmp_path / "dump.json")], tmp_path / "lake")
    assert [f.format for f in report.files] == ["winevent-json (winlogbeat)", "winevent-json (evtx)"]
    got = {r["DeviceName"]: r for r in rows(tmp_path / "lake")}
    assert set(got) == {"ws-7.dom", "ws-8"}
    for row in got.values():
        assert (row["InitiatingProcessFileName"], row["RemoteIP"], row["RemotePort"], row["Protocol"]) == \
            ("rat.exe", "1.2.3.4", 4444, "Udp")
        assert row["InitiatingProcessAccountName"] == "bob" and row["SourceRecord"] == "1"
    assert str(got["ws-7.dom"]["Timestamp"]) == "2024-06-01 08:00:00.500000"
    assert str(got["ws-8"]["Timestamp"]) == "2024-06-01 08:00:01.250000"
