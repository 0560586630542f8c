"""The pandas reference: its tricky scalar pieces against the Kusto docs / real-engine results, and the three
seeds against the demo generator's planted activity (kqlhunt.demo.PLANTED)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kqlhunt.demo import DEFAULT_NOW, PLANTED, generate_table

from .seeds_pandas import (
    SEED000_COLUMNS,
    SEED003_COLUMNS,
    SEED004_COLUMNS,
    _beacon_row,
    datetime_diff_seconds,
    has_term,
    ipv4_is_private,
    ipv4_lookup_match,
    make_set,
    percentile_nearest_rank,
    seed000,
    seed003,
    seed004,
    seed004_domain,
    series_outliers,
    series_stats,
    take_any,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CONFORMANCE = SHARED / "conformance" / "kusto-docs-dev.json"


def _dt(s: str) -> np.datetime64:
    return np.datetime64(s, "us")


# --- scalar semantics ---------------------------------------------------------------------------------------

def test_datetime_diff_counts_second_boundaries() -> None:
    # Docs example: datetime_diff('second', 23:00:10.100, 23:00:00.900) == 10 (truncating 9.2 s would give 9).
    assert datetime_diff_seconds(_dt("2017-10-30T23:00:10.100"), _dt("2017-10-30T23:00:00.900")) == 10
    assert datetime_diff_seconds(_dt("2017-10-30T23:00:01.000"), _dt("2017-10-30T23:00:00.999")) == 1
    assert datetime_diff_seconds(_dt("2017-10-30T23:00:00.999"), _dt("2017-10-30T23:00:00.001")) == 0
    assert datetime_diff_seconds(_dt("2017-10-30T23:00:00.900"), _dt("2017-10-30T23:00:10.100")) == -10


def test_series_stats_docs_example() -> None:
    # series_stats docs: [23, 46, ...] -> min 2 @8, max 87 @3, avg 32.8, sample stdev/variance.
    got = series_stats([23, 46, 23, 87, 4, 8, 3, 75, 2, 56, 13, 75, 32, 16, 29])
    assert got[:4] == (2.0, 8, 87.0, 3)
    assert got[4] == pytest.approx(32.8)
    assert got[5] == pytest.approx(28.503633853548269, rel=1e-12)
    assert got[6] == pytest.approx(812.45714285714291, rel=1e-12)


def test_percentile_is_nearest_rank() -> None:
    # percentilesw_array docs example (weights expanded): 50 -> 20, 75 -> 20, 99.9 -> 40.
    latency = [10] * 8 + [20] * 6 + [30] * 3 + [40]
    assert [percentile_nearest_rank(latency, p) for p in (50, 75, 99.9)] == [20, 20, 40]
    # invoke docs example: range 1..100, percentiles 5 and 99 are 5 and 99 (avg of 6..98 is 52).
    assert percentile_nearest_rank(range(1, 101), 5) == 5
    assert percentile_nearest_rank(range(1, 101), 99) == 99
    assert percentile_nearest_rank([1, 2, 3, 4], 50) == 2  # an interpolating median would give 2.5


@pytest.mark.skipif(not CONFORMANCE.exists(), reason="shared conformance corpus not available")
def test_series_outliers_matches_the_real_engine_on_the_docs_example() -> None:
    cases = json.loads(CONFORMANCE.read_text(encoding="utf-8"))["cases"]
    case = next(c for c in cases if c["id"] == "series-outliers-function-00")
    cols = case["expected"]["columns"]
    row = case["expected"]["rows"][0]
    series, expected = row[cols.index("series")], row[cols.index("outliers")]
    got = series_outliers(series)
    assert len(got) == len(expected) == 365
    # Same zero pattern: fences at the linearly interpolated P10/P90 ...
    assert [g == 0 for g in got] == [e == 0 for e in expected]
    # ... and the same scores (one scale for both sides, (P90 - P10) / 2.7726056...).
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_series_outliers_shape() -> None:
    values = [60] * 10 + [61, 59] * 5 + [300]
    scores = series_outliers(values)
    assert scores[-1] > 2  # the long gap is a rise outlier
    assert all(s == 0 for s in scores[:-1])


def test_has_is_whole_term_and_case_insensitive() -> None:
    assert has_term("North America", "america")  # docs example
    assert not has_term("North America", "amer")
    assert has_term("Tcp", "tcp")
    assert not has_term("TcpV6", "tcp")
    assert has_term("ConnectionSuccess", "connectionsuccess")
    assert has_term("a-public_b", "public")  # '-' and '_' are not alphanumeric


def test_ipv4_is_private_and_lookup() -> None:
    assert ipv4_is_private("10.1.2.3") is True
    assert ipv4_is_private("192.168.1.1/24") is True
    assert ipv4_is_private("172.31.0.1") is True
    assert ipv4_is_private("172.32.0.1") is False
    assert ipv4_is_private("127.0.0.1") is False  # loopback is not in the docs' private ranges
    assert ipv4_is_private("2a00:1450:4001:82b::2004") is None  # not IPv4 -> null
    assert ipv4_is_private("::ffff:10.1.2.3") is None
    # ipv4_lookup docs example: two matches, 192.165.12.17 unmatched.
    nets = ["111.68.128.0/17", "5.8.0.0/19", "223.255.254.0/24", "46.36.200.51/32", "2.20.183.0/24"]
    assert ipv4_lookup_match("2.20.183.12", nets) == "2.20.183.0/24"
    assert ipv4_lookup_match("5.8.1.2", nets) == "5.8.0.0/19"
    assert ipv4_lookup_match("192.165.12.17", nets) == ""
    assert ipv4_lookup_match("2a00:1450::1", ["100.0.0.0/16"]) == ""


def test_seed004_domain_expression() -> None:
    assert seed004_domain("login.microsoftonline.com") == "login.microsoftonline.com"
    assert seed004_domain("a.b.login.microsoftonline.com") == "login.microsoftonline.com"
    assert seed004_domain("https://x.y.cdn.example.org/path?q=1") == "cdn.example.org"
    assert seed004_domain("github.com") == "github.com"
    assert seed004_domain("") == ""


def test_aggregate_helpers() -> None:
    assert make_set(["b", "a", "b", "", None, float("nan")]) == ["b", "a", ""]
    assert make_set(np.array([443, 80, 443])) == [443, 80]
    assert take_any(["", "x", "y"]) == "x"
    assert take_any(["", ""]) == ""


def test_mv_apply_next_drops_the_last_timestamp() -> None:
    stamps = np.array([_dt("2025-01-01T00:00:00") + np.timedelta64(60 * i, "s") for i in range(17)])
    key = ("id", "dev", "acct", "dom", "p.exe", "1.2.3.4", 443)
    row = _beacon_row(key, stamps)
    assert row is not None
    assert row["count_"] == 16  # N - 1
    assert row["max_Timestamp"] == stamps[-2]  # the second-to-last event
    assert row["TimeDeltaList"] == [60] * 16
    assert row["Duration"] == 15 * 60
    assert row["Jitter"] == 0.0


# --- the seeds on generated telemetry -----------------------------------------------------------------------

def _geo(ip: str) -> str:
    return "ZZ" if ip else ""


@pytest.fixture(scope="module", params=[7, 11])
def events(request) -> tuple[int, pd.DataFrame]:
    return request.param, generate_table(30_000, seed=request.param).to_pandas()


@pytest.fixture(scope="module")
def results(events) -> dict[str, pd.DataFrame]:
    _, df = events
    return {"000": seed000(df, DEFAULT_NOW, geo_country=_geo), "003": seed003(df, DEFAULT_NOW),
            "004": seed004(df, DEFAULT_NOW)}


def _matches(out: pd.DataFrame, keys: dict) -> pd.DataFrame:
    m = pd.Series(True, index=out.index)
    for k, v in keys.items():
        if k in out.columns and not isinstance(v, tuple):
            m &= out[k] == v
    return out[m]


def test_output_columns(results) -> None:
    assert list(results["000"].columns) == SEED000_COLUMNS
    assert list(results["003"].columns) == SEED003_COLUMNS
    assert list(results["004"].columns) == SEED004_COLUMNS


@pytest.mark.parametrize("seed", ["000", "003", "004"])
def test_each_seed_finds_its_plants(results, seed: str) -> None:
    out = results[seed]
    for plant in PLANTED[seed].plants:
        hit = _matches(out, dict(plant.keys))
        assert len(hit) == 1, f"seed {seed}: plant {plant.name} not found"


@pytest.mark.parametrize("seed", ["000", "003", "004"])
def test_no_seed_reports_its_decoys(results, events, seed: str) -> None:
    _, df = events
    out = results[seed]
    for decoy in PLANTED[seed].decoys:
        assert _matches(out, dict(decoy.keys)).empty, f"seed {seed}: decoy {decoy.name} reported"
        # ... and the decoy is really in the data (it is the hunt's logic that drops it).
        in_data = _matches(df.assign(InitiatingProcessFileName=df["InitiatingProcessFileName"].str.lower()),
                           {k: (v.lower() if k == "InitiatingProcessFileName" else v)
                            for k, v in decoy.keys.items() if k in df.columns})
        assert not in_data.empty, f"seed {seed}: decoy {decoy.name} missing from the data"


def test_seed000_plant_details(results) -> None:
    out = results["000"]
    plant = PLANTED["000"].plants[0]
    row = out[out["InitiatingProcessFileName"] == plant.keys["InitiatingProcessFileName"]].iloc[0]
    assert row["DeviceCount"] == plant.keys["DeviceCount"]
    assert sorted(row["Ports"]) == sorted(plant.keys["Ports"])  # its port-443 traffic is not there
    assert row["SampleRemoteIP"] in plant.keys["RemoteIPs"]
    assert len(row["Hashes"]) == 1
    assert row["RemoteIP_country"] == "ZZ"


def test_seed003_plant_details(results) -> None:
    out = results["003"].set_index("RemoteUrl")
    for plant in PLANTED["003"].plants:
        row = out.loc[plant.keys["RemoteUrl"]]
        assert row["set_InitiatingProcessFileName"] == [plant.keys["InitiatingProcessFileName"]]
        assert row["set_DeviceName"] == [plant.keys["DeviceName"]]
        assert row["set_RemoteIP"] == [plant.keys["RemoteIP"]]
        assert row["set_RemotePort"] == [plant.keys["RemotePort"]]


def test_seed004_plant_details(results) -> None:
    out = results["004"]
    row = _matches(out, dict(PLANTED["004"].plants[0].keys)).iloc[0]
    assert row["count_"] > 200 and row["dcount_DeviceId"] == 1
    assert 54 <= row["percentile_TimeDeltaInSeconds_50"] <= 67
    assert row["Jitter"] < 50
    assert row["RemoteIP2"] == row["RemoteIP"]
    assert row["Domains"] == [""]  # the beacon never had a RemoteUrl
    assert row["Timestamp"] == row["min_Timestamp"]
    assert str(row["Timestamp"].tz) == "UTC"


def test_seed004_decoys_fail_for_the_intended_reason(events) -> None:
    """Each 004 decoy is beacon-like up to the stage meant to drop it."""
    _, df = events
    now = pd.Timestamp(DEFAULT_NOW).tz_localize(None)
    ts = df["Timestamp"]
    day = df[(ts >= now - pd.Timedelta(days=1)) & (ts <= now - pd.Timedelta(seconds=1))]

    def jitters(process: str, ip: str) -> dict[str, float]:
        out = {}
        for dev, g in day[(day["InitiatingProcessFileName"] == process) & (day["RemoteIP"] == ip)].groupby(
                "DeviceName"):
            stamps = np.unique(g["Timestamp"].to_numpy(dtype="datetime64[us]"))
            assert len(stamps) > 15
            row = _beacon_row(("", dev, "", "", process, ip, 443), stamps)
            out[dev] = row["Jitter"] if row else float("inf")
        return out

    decoys = {d.name: d.keys for d in PLANTED["004"].decoys}
    fleet = jitters(decoys["fleet_updater"]["InitiatingProcessFileName"], decoys["fleet_updater"]["RemoteIP"])
    assert sum(j < 50 for j in fleet.values()) > 10  # dropped only by CompromisedDeviceCountMax
    noisy = jitters(decoys["high_jitter"]["InitiatingProcessFileName"], decoys["high_jitter"]["RemoteIP"])
    assert all(j == float("inf") for j in noisy.values())  # fails the jitter filter
    for name in ("private_beacon", "ipv6_beacon", "outliers"):
        k = decoys[name]
        assert all(j < 50 for j in jitters(k["InitiatingProcessFileName"], k["RemoteIP"]).values()), name
    k = decoys["outliers"]
    g = day[(day["InitiatingProcessFileName"] == k["InitiatingProcessFileName"])
            & (day["RemoteIP"] == k["RemoteIP"])]
    stamps = np.unique(g["Timestamp"].to_numpy(dtype="datetime64[us]"))
    deltas = datetime_diff_seconds(stamps[1:], stamps[:-1])
    assert sum(s > 2 for s in series_outliers(deltas)) > 3


def test_naive_and_aware_now_agree(events) -> None:
    _, df = events
    aware = seed003(df, DEFAULT_NOW)
    naive = seed003(df, datetime(*DEFAULT_NOW.timetuple()[:6]))
    assert DEFAULT_NOW.tzinfo == UTC
    pd.testing.assert_frame_equal(aware, naive)


def test_empty_input_gives_typed_empty_output(events) -> None:
    _, df = events
    empty = df.iloc[:0]
    assert list(seed000(empty, DEFAULT_NOW, geo_country=_geo).columns) == SEED000_COLUMNS
    assert list(seed003(empty, DEFAULT_NOW).columns) == SEED003_COLUMNS
    out = seed004(empty, DEFAULT_NOW)
    assert list(out.columns) == SEED004_COLUMNS and out.empty
    # Beacons only from more than CompromisedDeviceCountMax devices: PotentialBeacons is empty.
    k = next(d for d in PLANTED["004"].decoys if d.name == "fleet_updater").keys
    only_fleet = df[(df["InitiatingProcessFileName"] == k["InitiatingProcessFileName"])
                    & (df["RemoteIP"] == k["RemoteIP"])]
    assert seed004(only_fleet, DEFAULT_NOW).empty
