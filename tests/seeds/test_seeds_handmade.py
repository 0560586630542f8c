"""The seed hunts on small tables built by hand, with every expected value worked out in the comments
(not by running anything): the smallest cases that exercise each stage of the hunts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa

import kqlhunt
from kqlhunt.demo.schema import SCHEMA
from kqlhunt.rules import load_rules

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
RULES = {r.id: r.query for r in load_rules(None)}


def table(rows: list[dict]) -> pa.Table:
    """DeviceNetworkEvents rows: unspecified strings are "", numbers null."""
    cols: dict[str, list] = {f.name: [] for f in SCHEMA}
    for row in rows:
        for f in SCHEMA:
            default = "" if f.type == pa.string() else None
            cols[f.name].append(row.get(f.name, default))
    return pa.table(cols, schema=SCHEMA)


def event(ts: datetime, **kw: object) -> dict:
    base = {"Timestamp": ts.replace(tzinfo=None), "DeviceId": "d1", "DeviceName": "wks-1", "ActionType": "ConnectionSuccess",
            "RemoteIP": "8.8.8.8", "RemotePort": 443, "Protocol": "Tcp", "RemoteIPType": "Public",
            "InitiatingProcessFileName": "beacon.exe", "InitiatingProcessAccountName": "alice",
            "InitiatingProcessAccountDomain": "corp", "InitiatingProcessCommandLine": "beacon.exe -q",
            "InitiatingProcessMD5": "m1"}
    base.update(kw)
    return base


def test_seed004_regular_beacon() -> None:
    start = NOW - timedelta(hours=10)
    # a beacon every 60 s, 20 events; a burst of only 10 events elsewhere (below the 15-event floor);
    # a regular beacon to a private address (dropped by ipv4_is_private)
    rows = [event(start + timedelta(seconds=60 * i)) for i in range(20)]
    rows += [event(start + timedelta(seconds=60 * i), RemoteIP="1.1.1.1") for i in range(10)]
    rows += [event(start + timedelta(seconds=60 * i), RemoteIP="10.0.0.5") for i in range(20)]
    result = kqlhunt.query(RULES["seed004"], tables={"DeviceNetworkEvents": table(rows)}, now=NOW).to_pylist()
    assert len(result) == 1
    r = result[0]
    t0 = start.replace(tzinfo=UTC)
    # next() is null on the last of the 20 sorted timestamps, so that row fails `nextX == X`: 19 deltas
    assert r["count_"] == 19
    assert r["min_Timestamp"] == t0 and r["Timestamp"] == t0
    assert r["max_Timestamp"] == t0 + timedelta(seconds=60 * 18)  # the second-to-last event
    assert r["Duration"] == 18 * 60
    assert [r[f"percentile_TimeDeltaInSeconds_{p}"] for p in (5, 25, 50, 75, 95)] == [60] * 5
    assert json.loads(r["TimeDeltaList"]) == [60] * 19
    assert (r["TimeDeltaInSeconds_min"], r["TimeDeltaInSeconds_min_index"]) == (60.0, 0)
    assert (r["TimeDeltaInSeconds_max"], r["TimeDeltaInSeconds_max_index"]) == (60.0, 0)
    assert (r["TimeDeltaInSeconds_avg"], r["TimeDeltaInSeconds_stdev"], r["TimeDeltaInSeconds_variance"]) == (60.0, 0.0, 0.0)
    assert (r["Jitter"], r["BeaconSleepMin"], r["BeaconSleepMax"]) == (0.0, 60.0, 60.0)
    assert r["dcount_DeviceId"] == 1
    # no RemoteUrl: parse_url("http://").Host is "", so the only domain is ""
    assert json.loads(r["Domains"]) == [""]
    assert (r["RemoteIP"], r["RemoteIP2"], r["RemotePort"]) == ("8.8.8.8", "8.8.8.8", 443)
    assert (r["DeviceId"], r["InitiatingProcessAccountDomain"]) == ("d1", "corp")


def test_seed004_drops_beacons_with_many_outliers_and_wide_fleets() -> None:
    start = NOW - timedelta(hours=10)
    # deltas of 60 s with four 600 s gaps: the 600 s deltas lie far above the 90th-percentile fence, so
    # series_outliers scores them > 2; four of them exceed OutlierCountMax = 3 and the beacon is removed
    times, t = [], start
    for i in range(40):
        times.append(t)
        t += timedelta(seconds=600 if i in (5, 15, 25, 35) else 60)
    rows = [event(x) for x in times]
    # the same regular beacon on 11 devices: dcount_DeviceId = 11 > CompromisedDeviceCountMax = 10
    for d in range(11):
        rows += [event(start + timedelta(seconds=60 * i), DeviceId=f"f{d}", DeviceName=f"f{d}",
                       RemoteIP="9.9.9.9") for i in range(20)]
    result = kqlhunt.query(RULES["seed004"], tables={"DeviceNetworkEvents": table(rows)}, now=NOW)
    assert result.num_rows == 0


def test_seed000_rare_process_on_an_uncommon_port() -> None:
    t = NOW - timedelta(days=1)
    rows = [
        # rare.exe on one device, to 5.8.18.7:4444 and (twice) :8081 -> one row, DeviceCount 1, ports {4444, 8081}
        event(t, InitiatingProcessFileName="Rare.EXE", RemoteIP="5.8.18.7", RemotePort=4444, InitiatingProcessMD5="h1"),
        event(t, InitiatingProcessFileName="rare.exe", RemoteIP="5.8.18.7", RemotePort=8081, InitiatingProcessMD5="h1"),
        event(t, InitiatingProcessFileName="rare.exe", RemoteIP="5.8.18.7", RemotePort=8081, InitiatingProcessMD5="h2"),
        # port 443 is excluded; a URL excludes the row; 100.0.x.x is in the excluded networks
        event(t, InitiatingProcessFileName="rare.exe", RemotePort=443),
        event(t, InitiatingProcessFileName="rare.exe", RemotePort=9000, RemoteUrl="x.example"),
        event(t, InitiatingProcessFileName="rare.exe", RemotePort=9000, RemoteIP="100.0.3.4"),
        # browsers are excluded by the regex; UDP by the Protocol test; old rows by ago(30d)
        event(t, InitiatingProcessFileName="chrome.exe", RemotePort=9000),
        event(t, InitiatingProcessFileName="rare.exe", RemotePort=9000, Protocol="Udp"),
        event(NOW - timedelta(days=31), InitiatingProcessFileName="rare.exe", RemotePort=9000),
        # common.exe on 4 devices: DeviceCount 4 is not < 4
        *[event(t, InitiatingProcessFileName="common.exe", DeviceId=f"c{i}", RemotePort=5938) for i in range(4)],
    ]
    result = kqlhunt.query(RULES["seed000_defender"], tables={"DeviceNetworkEvents": table(rows)}, now=NOW)
    got = result.to_pylist()
    assert [r["InitiatingProcessFileName"] for r in got] == ["rare.exe"]
    r = got[0]
    assert r["DeviceCount"] == 1
    assert sorted(json.loads(r["Ports"])) == [4444, 8081]
    assert sorted(json.loads(r["Hashes"])) == ["h1", "h2"]
    assert r["SampleRemoteIP"] == "5.8.18.7" and r["SampleProcess"] == "beacon.exe -q"
    assert [f.name for f in result.schema] == ["InitiatingProcessFileName", "Hashes", "DeviceCount", "SampleProcess",
                                               "SampleRemoteIP", "Ports", "RemoteIP_country"]


def test_seed003_lolbins_with_exclusions() -> None:
    t = NOW - timedelta(days=1)
    rows = [
        event(t, InitiatingProcessFileName="CERTUTIL.exe", RemoteUrl="evil.example", DeviceName="a"),
        event(t, InitiatingProcessFileName="certutil.exe", RemoteUrl="evil.example", DeviceName="b"),
        event(t, InitiatingProcessFileName="certutil.exe", RemoteUrl="login.live.com"),       # ExclusionList
        event(t, InitiatingProcessFileName="mshta.exe", RemoteUrl="cdn.microsoft.com"),       # !endswith
        event(t, InitiatingProcessFileName="notepad.exe", RemoteUrl="evil.example"),          # not a LOLBin
        event(t, InitiatingProcessFileName="certutil.exe", RemoteUrl="pki.corp", RemoteIPType="Private"),
        event(t, InitiatingProcessFileName="certutil.exe", RemoteUrl="fail.example", ActionType="ConnectionFailed"),
    ]
    got = kqlhunt.query(RULES["seed003"], tables={"DeviceNetworkEvents": table(rows)}, now=NOW).to_pylist()
    assert [(r["RemoteUrl"], r["ConnectionCount"], r["DistinctHostCount"]) for r in got] == [("evil.example", 2, 2)]
    assert sorted(json.loads(got[0]["set_InitiatingProcessFileName"])) == ["CERTUTIL.exe", "certutil.exe"]
