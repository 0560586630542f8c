"""Ingest speed and peak memory per input format, on generated inputs (see docs/ingest.md).

    python bench/ingest.py [--records 1000000] [--formats evtx,zeek-tsv,sysmon-jsonl,sentinel-jsonl,defender-csv]
                           [--workdir DIR] [--out bench/out/ingest.json]

Each format's input is generated once under --workdir (kept for re-runs), then ingested into a fresh lake in
a child process, so records/s is end to end (detect, parse, map, write Parquet) and peak RSS is that of
the whole ingest. EVTX input is the real Security 5156 sample from ../shared/realdata with its chunk
repeated (record numbers renumbered), since no EVTX writer exists to generate one from scratch.
Targets on a 2-core machine: EVTX >= 80k records/s, Zeek TSV >= 1M rows/s, JSON lines >= 300k records/s,
peak RSS < 1 GB whatever the input size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVTX_SAMPLE = next((p for p in (Path("/work/shared/realdata"), REPO.parent / "shared" / "realdata")
                    if p.is_dir()), Path("/nonexistent")) / "evtx-samples" / "security-5156-rdp-tunnel.evtx"
START = datetime(2025, 3, 1, tzinfo=UTC)
CHILD = """
import json, sys, time
from kqlhunt.ingest import run
t = time.perf_counter()
report = run([sys.argv[1]], sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - t, **report.totals()}))
"""


def _ip(rng: random.Random, public: bool) -> str:
    if public:
        return f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def gen_zeek_tsv(path: Path, n: int) -> None:
    rng = random.Random(1)
    fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
              "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
              "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents"]
    hosts = [_ip(rng, False) for _ in range(500)]
    remotes = [_ip(rng, True) for _ in range(5000)]
    t0 = START.timestamp()
    with path.open("w") as out:
        out.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
                  "#open\t2025-03-01-00-00-00\n#fields\t" + "\t".join(fields) + "\n#types\t" +
                  "\t".join(["time", "string", "addr", "port", "addr", "port", "enum", "string", "interval",
                             "count", "count", "string", "bool", "bool", "count", "string", "count", "count",
                             "count", "count", "set[string]"]) + "\n")
        for i in range(n):
            out.write(f"{t0 + i * 0.01:.6f}\tC{i:x}\t{hosts[i % 500]}\t{40000 + i % 20000}\t"
                      f"{remotes[(i * 7) % 5000]}\t{(443, 80, 53, 8443)[i % 4]}\t{'udp' if i % 4 == 2 else 'tcp'}"
                      f"\t-\t0.{i % 1000:03d}\t{i % 5000}\t{i % 9000}\t{('SF', 'S0', 'REJ', 'SF')[i % 4]}\tT\tF\t0"
                      f"\tShAdDaf\t{i % 20}\t{i % 3000}\t{i % 17}\t{i % 4000}\t-\n")
        out.write("#close\t2025-03-02-00-00-00\n")


def _sysmon3(rng: random.Random, i: int, host: str, ts: datetime) -> dict[str, object]:
    local, remote = _ip(rng, False), _ip(rng, i % 3 != 0)
    utc = ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    guid = f"{{297bc33e-65d0-5f2d-{i % 4096:04x}-000000000400}}"
    message = (f"Network connection detected:\r\nRuleName: -\r\nUtcTime: {utc}\r\nProcessGuid: {guid}\r\n"
               f"ProcessId: {1000 + i % 5000}\r\nImage: C:\\Windows\\System32\\svchost.exe\r\nProtocol: tcp\r\n"
               f"SourceIp: {local}\r\nDestinationIp: {remote}\r\nDestinationPort: 443")
    return {"@version": "1", "EventType": "INFO", "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Hostname": host, "@timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "SourceIp": local, "ProcessId": str(1000 + i % 5000), "Initiated": "true",
            "DestinationHostname": "-", "Image": "C:\\Windows\\System32\\svchost.exe", "Version": 5,
            "DestinationPort": "443", "SourceName": "Microsoft-Windows-Sysmon", "Message": message,
            "UtcTime": utc, "User": "NT AUTHORITY\\SYSTEM", "DestinationIsIpv6": "false", "EventID": 3,
            "RecordNumber": i + 1, "ProcessGuid": guid, "Protocol": "tcp", "SourcePort": str(49152 + i % 16000),
            "DestinationIp": remote, "RuleName": "-", "SourceHostname": "-", "SourceIsIpv6": "false"}


def gen_sysmon_jsonl(path: Path, n: int) -> None:
    rng = random.Random(2)
    hosts = [f"WKS{k:04d}.corp.local" for k in range(300)]
    with path.open("w") as out:
        for i in range(n):
            event = _sysmon3(rng, i, hosts[i % 300], START + timedelta(milliseconds=37 * i))
            out.write(json.dumps(event, separators=(",", ":")) + "\n")


def gen_sentinel_jsonl(path: Path, n: int) -> None:
    rng = random.Random(3)
    with path.open("w") as out:
        for i in range(n):
            ts = (START + timedelta(milliseconds=37 * i)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
            out.write(json.dumps({
                "TimeGenerated": ts, "Timestamp": ts, "DeviceId": f"{i % 300:040x}", "DeviceName": f"wks{i % 300}",
                "ActionType": "ConnectionSuccess", "RemoteIP": _ip(rng, True), "RemotePort": 443,
                "LocalIP": _ip(rng, False), "LocalPort": 49152 + i % 16000, "Protocol": "Tcp",
                "InitiatingProcessFileName": "chrome.exe", "InitiatingProcessId": 4242,
                "InitiatingProcessCommandLine": "chrome.exe --type=utility", "ReportId": i,
                "AdditionalFields": None, "TenantId": "t", "Type": "DeviceNetworkEvents"},
                separators=(",", ":")) + "\n")


def gen_defender_csv(path: Path, n: int) -> None:
    rng = random.Random(4)
    with path.open("w") as out:
        out.write("Timestamp,DeviceId,DeviceName,ActionType,RemoteIP,RemotePort,RemoteUrl,LocalIP,LocalPort,"
                  "Protocol,InitiatingProcessFileName,InitiatingProcessCommandLine,ReportId\n")
        for i in range(n):
            ts = (START + timedelta(milliseconds=37 * i)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            out.write(f"{ts},{i % 300:040x},wks{i % 300},ConnectionSuccess,{_ip(rng, True)},443,example.com,"
                      f"{_ip(rng, False)},{49152 + i % 16000},Tcp,curl.exe,\"curl.exe -s https://example.com\",{i}\n")


def gen_evtx(path: Path, n: int) -> None:
    """The sample's chunk repeated until n records, each copy's record numbers shifted past the last."""
    data = EVTX_SAMPLE.read_bytes()
    header, chunk = bytearray(data[:4096]), data[4096:4096 + 65536]
    first, last = struct.unpack_from("<QQ", chunk, 24)
    per_chunk = last - first + 1
    copies = -(-n // per_chunk)
    with path.open("wb") as out:
        struct.pack_into("<H", header, 42, min(copies, 0xFFFF))  # chunk count (informational for readers)
        out.write(header)
        for k in range(copies):
            c = bytearray(chunk)
            shift = k * per_chunk
            for off in (8, 16, 24, 32):
                struct.pack_into("<Q", c, off, struct.unpack_from("<Q", c, off)[0] + shift)
            pos = 512
            while pos + 16 <= len(c) and c[pos:pos + 4] == b"\x2a\x2a\x00\x00":
                size = struct.unpack_from("<I", c, pos + 4)[0]
                struct.pack_into("<Q", c, pos + 8, struct.unpack_from("<Q", c, pos + 8)[0] + shift)
                pos += size
            out.write(c)


GENERATORS = {"evtx": (gen_evtx, "input.evtx"), "zeek-tsv": (gen_zeek_tsv, "conn.log"),
              "sysmon-jsonl": (gen_sysmon_jsonl, "sysmon.json"),
              "sentinel-jsonl": (gen_sentinel_jsonl, "sentinel.json"),
              "defender-csv": (gen_defender_csv, "export.csv")}


def measure(fmt: str, source: Path, lake: Path) -> dict[str, object]:
    shutil.rmtree(lake, ignore_errors=True)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(source), str(lake)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS (KB on Linux)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{fmt}: ingest failed (status {status})")
    result = json.loads(output.strip().splitlines()[-1])
    return {"format": fmt, "input_mb": round(source.stat().st_size / 2**20), "records": result["read"],
            "written": result["written"], "quarantined": result["quarantined"], "seconds": round(wall, 2),
            "records_per_s": round(result["read"] / wall), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--formats", default=",".join(GENERATORS))
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "out" / "ingest-inputs")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "ingest.json")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for fmt in args.formats.split(","):
        generate, name = GENERATORS[fmt]
        if fmt == "evtx" and not EVTX_SAMPLE.exists():
            print(f"{fmt}: skipped (no {EVTX_SAMPLE})", file=sys.stderr)
            continue
        source = args.workdir / f"{args.records}-{name}"
        if not source.exists():
            generate(source, args.records)
        row = measure(fmt, source, args.workdir / "lake")
        results.append(row)
        print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"at": datetime.now(UTC).isoformat(timespec="seconds"),
                                    "records": args.records, "results": results}, indent=1))


if __name__ == "__main__":
    main()
