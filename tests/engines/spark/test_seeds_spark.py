"""The three seed hunts, verbatim, on Spark: the same rows, column names and types as DuckDB, and the
same rows as the hand-written DuckDB SQL (tests/reference/seeds_sql.py) on the same generated lake."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from tests.reference import seeds_sql
from tests.seeds.test_seeds_e2e import RULES, SEEDS, _now, assert_same_rows, rows_of

import kqlhunt
from kqlhunt.demo.generator import generate_lake

ROWS = 20_000


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spark-seed-lake")
    generate_lake(path, ROWS, seed=7)
    return path


@pytest.fixture(scope="module")
def on_spark(lake: Path) -> dict[str, pa.Table]:
    return {rule_id: kqlhunt.query(RULES[rule_id].query, lake=lake, now=_now(), engine="spark")
            for rule_id in SEEDS}


@pytest.mark.parametrize("rule_id", list(SEEDS))
def test_schema_equals_duckdbs(on_spark: dict[str, pa.Table], lake: Path, rule_id: str) -> None:
    duck = kqlhunt.query(RULES[rule_id].query, lake=lake, now=_now())
    assert on_spark[rule_id].schema == duck.schema  # names, Arrow types and kql_type metadata


@pytest.mark.parametrize("rule_id", list(SEEDS))
def test_rows_equal_the_hand_written_sql(on_spark: dict[str, pa.Table], lake: Path, rule_id: str) -> None:
    seed = SEEDS[rule_id]
    base = seed.split("_")[0]
    types = [t for _, t in seeds_sql.RESULT_COLUMNS[seed]]
    want = seeds_sql.run_seed("000" if seed == "000_sentinel" else seed, duckdb.connect(), lake, _now())
    table = on_spark[rule_id]
    assert table.num_rows > 0, "the demo lake plants findings for every seed"
    assert_same_rows(rows_of(table, types), rows_of(want, types), table.column_names,
                     seeds_sql.SET_COLUMNS[base], seeds_sql.ARBITRARY_COLUMNS[base])


@pytest.mark.parametrize("rule_id", list(SEEDS))
def test_final_sort_order(on_spark: dict[str, pa.Table], rule_id: str) -> None:
    keys = seeds_sql.SORT_KEYS[SEEDS[rule_id]]
    values = list(zip(*(on_spark[rule_id].column(k).to_pylist() for k in keys), strict=True))
    assert values == sorted(values)
