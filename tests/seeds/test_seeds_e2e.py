"""The three seed hunts, verbatim, end to end: every row, column name, type and value kqlhunt returns
equals two independent expectations on the same generated data — a pandas implementation
(tests/reference/seeds_pandas.py) and the same logic hand-written in DuckDB SQL
(tests/reference/seeds_sql.py). Neither calls kqlhunt.

Where Kusto leaves the answer open the comparison says so: `make_set` order is unspecified (compared as
sets); `any()` returns any row's value (checked for membership in the group instead of equality).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

import kqlhunt
from kqlhunt.demo.generator import DEFAULT_NOW, generate_lake
from kqlhunt.engines.runtime.geoip import GeoDatabase
from kqlhunt.rules import load_rules
from tests.reference import seeds_pandas as ref
from tests.reference import seeds_sql

ROWS = 40_000
RULES = {r.id: r for r in load_rules(None)}
SEEDS = {"seed000_defender": "000", "seed000_sentinel": "000_sentinel", "seed003": "003", "seed004": "004"}


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seed-lake")
    generate_lake(path, ROWS, seed=5)
    return path


@pytest.fixture(scope="module")
def frame(lake: Path) -> pd.DataFrame:
    return pd.read_parquet(lake / "DeviceNetworkEvents")


def _now() -> datetime:
    return DEFAULT_NOW


def _country(ip: str) -> str:
    info = GeoDatabase.bundled().lookup(ip) or {}
    return str(info.get("country") or "")


def pandas_expected(seed: str, df: pd.DataFrame) -> pd.DataFrame:
    match seed:
        case "seed000_defender":
            return ref.seed000(df, _now(), geo_country=_country)
        case "seed000_sentinel":
            return ref.seed000(df.assign(TimeGenerated=df["Timestamp"]), _now(), time_column="TimeGenerated",
                               geo_country=_country)
        case "seed003":
            return ref.seed003(df, _now())
    return ref.seed004(df, _now())


# ---------------------------------------------------------------- value normalisation


def _cell(value: object, kql_type: str) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kql_type == "dynamic":
        if isinstance(value, str):
            value = json.loads(value)
        return list(value) if not isinstance(value, list | dict) else value
    if kql_type == "datetime":
        ts = pd.Timestamp(value)
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts
        return ts.to_pydatetime()
    if kql_type in ("int", "long"):
        return int(value)
    if kql_type == "real":
        return float(value)
    return value


def rows_of(data: pa.Table | pd.DataFrame, types: list[str]) -> list[list[object]]:
    frame = data.to_pandas() if isinstance(data, pa.Table) else data
    return [[_cell(v, t) for v, t in zip(row, types, strict=True)]
            for row in frame.itertuples(index=False, name=None)]


def _same(a: object, b: object, as_set: bool) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if as_set and isinstance(a, list) and isinstance(b, list):
        return sorted(map(json.dumps, a)) == sorted(map(json.dumps, b))
    return a == b


def assert_same_rows(got: list[list[object]], want: list[list[object]], columns: list[str],
                     set_cols: frozenset[str], open_cols: frozenset[str]) -> None:
    key_idx = [i for i, c in enumerate(columns) if c not in open_cols and c not in set_cols]

    def key(row: list[object]) -> str:
        return json.dumps([row[i] for i in key_idx], default=str)

    assert len(got) == len(want), f"{len(got)} rows, expected {len(want)}"
    for g, w in zip(sorted(got, key=key), sorted(want, key=key), strict=True):
        for i, c in enumerate(columns):
            if c in open_cols:
                continue
            assert _same(g[i], w[i], c in set_cols), f"column {c}: got {g[i]!r}, expected {w[i]!r}\nrow {g}"


# ---------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def results(lake: Path) -> dict[str, pa.Table]:
    return {rule_id: kqlhunt.query(RULES[rule_id].query, lake=lake, now=_now()) for rule_id in SEEDS}


@pytest.mark.parametrize("rule_id", list(SEEDS))
def test_names_and_types_are_kustos(results: dict[str, pa.Table], rule_id: str) -> None:
    # expected names and types: the Kusto.Language oracle's answers, recorded in tests/reference/seeds_sql.py
    expected = seeds_sql.RESULT_COLUMNS[SEEDS[rule_id]]
    table = results[rule_id]
    assert [(f.name, f.metadata[b"kql_type"].decode()) for f in table.schema] == expected


@pytest.mark.parametrize("rule_id", list(SEEDS))
def test_rows_equal_the_pandas_reference(results: dict[str, pa.Table], frame: pd.DataFrame, rule_id: str) -> None:
    seed = SEEDS[rule_id]
    base = seed.split("_")[0]
    types = [t for _, t in seeds_sql.RESULT_COLUMNS[seed]]
    table = results[rule_id]
    want = pandas_expected(rule_id, frame)
    assert list(want.columns) == table.column_names
    assert_same_rows(rows_of(table, types), rows_of(want, types), table.column_names,
                     seeds_sql.SET_COLUMNS[base], seeds_sql.ARBITRARY_COLUMNS[base])


@pytest.mark.parametrize("rule_id", list(SEEDS))
def test_rows_equal_the_hand_written_sql(results: dict[str, pa.Table], lake: Path, rule_id: str) -> None:
    seed = SEEDS[rule_id]
    base = seed.split("_")[0]
    types = [t for _, t in seeds_sql.RESULT_COLUMNS[seed]]
    # the demo lake has no TimeGenerated column; kqlhunt reads Timestamp in its place (documented), so the
    # Sentinel text must give what the Defender SQL gives
    want = seeds_sql.run_seed("000" if seed == "000_sentinel" else seed, duckdb.connect(), lake, _now())
    table = results[rule_id]
    assert_same_rows(rows_of(table, types), rows_of(want, types), table.column_names,
                     seeds_sql.SET_COLUMNS[base], seeds_sql.ARBITRARY_COLUMNS[base])


@pytest.mark.parametrize("rule_id", list(SEEDS))
def test_final_sort_order(results: dict[str, pa.Table], rule_id: str) -> None:
    keys = seeds_sql.SORT_KEYS[SEEDS[rule_id]]
    values = list(zip(*(results[rule_id].column(k).to_pylist() for k in keys), strict=True))
    assert values == sorted(values), "rows are not in the seed's `sort`/`order by` order (ascending)"


def test_seed000_open_columns_come_from_the_group(results: dict[str, pa.Table], frame: pd.DataFrame) -> None:
    """any() may pick any row of the group: SampleProcess and SampleRemoteIP must be values of the
    group's qualifying events, and RemoteIP_country the country of that SampleRemoteIP."""
    table = results["seed000_defender"].to_pylist()
    assert table, "the demo data plants rare processes for seed 000"
    for row in table:
        group = frame[frame["InitiatingProcessFileName"].str.lower() == row["InitiatingProcessFileName"]]
        assert row["SampleProcess"] in set(group["InitiatingProcessCommandLine"])
        assert row["SampleRemoteIP"] in set(group["RemoteIP"])
        assert row["RemoteIP_country"] == _country(row["SampleRemoteIP"])


def test_plants_found_and_decoys_not_reported(results: dict[str, pa.Table]) -> None:
    from kqlhunt.demo import PLANTED

    found000 = {r["InitiatingProcessFileName"] for r in results["seed000_defender"].to_pylist()}
    found003 = {r["RemoteUrl"] for r in results["seed003"].to_pylist()}
    found004 = {(r["InitiatingProcessFileName"], r["RemoteIP"]) for r in results["seed004"].to_pylist()}
    for seed, found, describe in (
        ("000", found000, lambda k: k.get("InitiatingProcessFileName", "").lower()),
        ("003", found003, lambda k: k.get("RemoteUrl")),
        ("004", found004, lambda k: (k.get("InitiatingProcessFileName"), k.get("RemoteIP"))),
    ):
        plan = PLANTED[seed]
        for item in plan.plants:
            value = describe(item.keys)
            if value and value != (None, None):
                assert value in found, f"seed {seed} missed its plant {item.name}"
        for item in plan.decoys:
            value = describe(item.keys)
            if value and value != (None, None):
                assert value not in found, f"seed {seed} reported the decoy {item.name}"
