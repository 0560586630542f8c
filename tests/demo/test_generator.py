"""The demo generator: schema and Parquet types (docs/CONVENTIONS.md), determinism, the lake layout, internal
consistency of the telemetry, and the planted activity being present. Whether the seeds find the plants is
tested against the independent pandas reference in tests/reference/test_seeds_pandas.py."""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from kqlhunt.demo import DEFAULT_NOW, PLANTED, SCHEMA, generate_lake, generate_table
from kqlhunt.demo.catalog import ip_type

SHARED_SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "kql-oracle" / "schemas" / \
    "DeviceNetworkEvents.json"
KUSTO_TO_ARROW = {"datetime": pa.timestamp("us"), "string": pa.string(), "int": pa.int32(),
                  "long": pa.int64(), "bool": pa.bool_(), "dynamic": pa.string()}
ROWS = 12_000


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return generate_table(ROWS)


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("lake")
    return root, generate_lake(root, ROWS)


def _column_names() -> list[str]:
    return [f.name for f in SCHEMA]


def test_schema_is_the_defender_table_with_convention_types(table: pa.Table) -> None:
    assert len(table.schema) == 45
    assert table.schema == SCHEMA
    assert table.schema.field("Timestamp").type == pa.timestamp("us")  # no time zone: values are UTC
    assert table.schema.field("RemotePort").type == pa.int32()
    assert table.schema.field("LocalPort").type == pa.int32()
    assert table.schema.field("InitiatingProcessId").type == pa.int64()
    assert table.schema.field("AdditionalFields").type == pa.string()


@pytest.mark.skipif(not SHARED_SCHEMA.exists(), reason="shared oracle schema not available")
def test_columns_match_the_documented_schema() -> None:
    doc = json.loads(SHARED_SCHEMA.read_text(encoding="utf-8"))
    assert [(f.name, f.type) for f in SCHEMA] == [(n, KUSTO_TO_ARROW[t]) for n, t in doc["columns"]]


def test_strings_are_never_null_and_dynamic_is_json(table: pa.Table) -> None:
    for f in table.schema:
        if f.type == pa.string():
            assert table.column(f.name).null_count == 0, f.name
    for text in pc.unique(table.column("AdditionalFields")).to_pylist():
        json.loads(text)
    # Only RemotePort may be null (listening sockets have no remote end).
    for f in table.schema:
        if f.name != "RemotePort":
            assert table.column(f.name).null_count == 0, f.name


def test_row_count_and_time_window(table: pa.Table) -> None:
    assert table.num_rows == ROWS
    now = DEFAULT_NOW.replace(tzinfo=None)
    ts = table.column("Timestamp")
    assert pc.min(ts).as_py() >= now - timedelta(days=7)
    assert pc.max(ts).as_py() < now
    created = table.column("InitiatingProcessCreationTime")
    assert pc.all(pc.less_equal(created, ts)).as_py()
    assert pc.all(pc.less(table.column("InitiatingProcessParentCreationTime"), created)).as_py()


def test_deterministic_and_seeded() -> None:
    a = generate_table(6_000, seed=3)
    b = generate_table(6_000, seed=3)
    assert a.equals(b)
    c = generate_table(6_000, seed=4)
    assert not a.equals(c)
    assert c.num_rows == 6_000


def test_now_naive_or_aware_utc() -> None:
    naive = datetime(2024, 11, 5, 9, 30)
    a = generate_table(6_000, now=naive, days=2)
    b = generate_table(6_000, now=naive.replace(tzinfo=UTC), days=2)
    assert a.equals(b)
    ts = a.column("Timestamp")
    assert pc.min(ts).as_py() >= naive - timedelta(days=2)
    assert pc.max(ts).as_py() < naive


def test_too_few_rows_is_an_error() -> None:
    with pytest.raises(ValueError, match="rows must be at least"):
        generate_table(500)


def test_lake_layout_and_parquet_types(lake, table: pa.Table) -> None:
    root, summary = lake
    files = sorted((root / "DeviceNetworkEvents").glob("date=*/part-*.parquet"))
    assert files == sorted(summary.files)
    assert len(files) == 8  # 7 days ending at 12:00 touch 8 UTC dates
    for f in files:
        assert re.fullmatch(r"date=\d{4}-\d{2}-\d{2}", f.parent.name)
        schema = pq.read_schema(f)
        assert [(x.name, x.type) for x in schema] == [(x.name, x.type) for x in SCHEMA]
        day = pq.read_table(f).column("Timestamp")
        assert {d.isoformat() for d in pc.unique(pc.cast(day, pa.date32())).to_pylist()} == \
            {f.parent.name.removeprefix("date=")}
    # The lake holds exactly the in-memory table, in the same order.
    back = pa.concat_tables(pq.read_table(f) for f in files)
    assert back.equals(table)
    assert summary.rows == ROWS and summary.planted_rows + summary.background_rows == ROWS


def test_regenerating_replaces_the_table(tmp_path: Path) -> None:
    generate_lake(tmp_path, 6_000, days=3)
    summary = generate_lake(tmp_path, 6_000, days=1)
    assert sorted((tmp_path / "DeviceNetworkEvents").glob("date=*/*.parquet")) == sorted(summary.files)


def test_address_types_agree_with_addresses(table: pa.Table) -> None:
    for ip_col, type_col in (("RemoteIP", "RemoteIPType"), ("LocalIP", "LocalIPType")):
        pairs = table.group_by([ip_col, type_col]).aggregate([]).to_pylist()
        for p in pairs:
            assert p[type_col] == ip_type(p[ip_col]), p
    types = set(pc.unique(table.column("RemoteIPType")).to_pylist())
    assert {"Public", "Private", "Loopback", "LinkLocal", "FourToSixMapping"} <= types
    public = [p["RemoteIP"] for p in table.group_by(["RemoteIP", "RemoteIPType"]).aggregate([]).to_pylist()
              if p["RemoteIPType"] == "Public"]
    assert any(":" in ip for ip in public)  # some IPv6
    for ip in public:
        assert ipaddress.ip_address(ip).is_global, ip


def test_vocabulary_and_identifiers(table: pa.Table) -> None:
    actions = set(pc.unique(table.column("ActionType")).to_pylist())
    assert actions <= {"ConnectionSuccess", "ConnectionFailed", "ConnectionRequest", "ConnectionAttempt",
                       "InboundConnectionAccepted", "ListeningConnectionCreated"}
    assert {"ConnectionSuccess", "InboundConnectionAccepted", "ListeningConnectionCreated"} <= actions
    assert set(pc.unique(table.column("Protocol")).to_pylist()) == {"Tcp", "Udp"}
    names = pc.unique(table.column("DeviceName")).to_pylist()
    assert all(re.fullmatch(r"(wks-\d{4}|[a-z]+\d{2})\.contoso\.local", n) for n in names)
    assert all(re.fullmatch(r"[0-9a-f]{40}", d) for d in pc.unique(table.column("DeviceId")).to_pylist())
    digests = (("InitiatingProcessMD5", 32), ("InitiatingProcessSHA1", 40), ("InitiatingProcessSHA256", 64))
    for col, n in digests:
        assert all(re.fullmatch(rf"[0-9a-f]{{{n}}}", h) for h in pc.unique(table.column(col)).to_pylist())
    # One hash per binary, whatever device runs it.
    per_name = table.group_by("InitiatingProcessFolderPath").aggregate([("InitiatingProcessSHA256",
                                                                         "count_distinct")])
    assert max(per_name.column("InitiatingProcessSHA256_count_distinct").to_pylist()) == 1
    procs = set(pc.unique(table.column("InitiatingProcessFileName")).to_pylist())
    assert {"chrome.exe", "msedge.exe", "firefox.exe", "svchost.exe", "MsMpEng.exe", "OUTLOOK.EXE"} <= procs


def test_listening_sockets_have_no_remote_end(table: pa.Table) -> None:
    listen = table.filter(pc.equal(table.column("ActionType"), "ListeningConnectionCreated"))
    assert listen.num_rows > 0
    assert listen.column("RemotePort").null_count == listen.num_rows
    assert set(listen.column("RemoteIP").to_pylist()) == {""}


def test_planted_description_is_complete(table: pa.Table) -> None:
    assert set(PLANTED) == {"000", "003", "004"}
    devices = set(pc.unique(table.column("DeviceName")).to_pylist())
    for seed, plan in PLANTED.items():
        assert plan.plants and plan.decoys, seed
        for item in (*plan.plants, *plan.decoys):
            assert item.seed == seed and item.role in ("plant", "decoy")
            for dev in (item.keys.get("DeviceName"), *item.keys.get("DeviceNames", ())):
                assert dev is None or dev in devices, (item.name, dev)
            if "RemoteIP" in item.keys:
                hits = table.filter(pc.equal(table.column("RemoteIP"), item.keys["RemoteIP"]))
                assert hits.num_rows > 0, item.name


def test_planted_destinations_are_not_background(table: pa.Table) -> None:
    """Background traffic never reaches a planted IP, so it cannot blur a planted pattern."""
    planted_ips = {i.keys["RemoteIP"] for p in PLANTED.values() for i in (*p.plants, *p.decoys)
                   if "RemoteIP" in i.keys}
    planted_procs = {str(i.keys["InitiatingProcessFileName"]).lower()
                     for p in PLANTED.values() for i in (*p.plants, *p.decoys)}
    rows = table.filter(pc.is_in(table.column("RemoteIP"), pa.array(sorted(planted_ips))))
    procs = {p.lower() for p in rows.column("InitiatingProcessFileName").to_pylist()}
    assert procs <= planted_procs


def test_scales_with_bounded_batches() -> None:
    """Batches (row groups) stay at or below BATCH_ROWS, and the fleet grows with the volume."""
    from kqlhunt.demo import generator

    small = generator._plan(10_000, 7, None, 7)
    big = generator._plan(5_000_000, 7, None, 7)
    assert big.model.n_dev > small.model.n_dev >= 80
    assert all(sum(c for _, _, c in p) <= generator.BATCH_ROWS
               for day in big.slots_by_day.values() for p in generator._pieces(day))
