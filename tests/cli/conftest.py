from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kqlhunt.demo import generate_lake

# A tiny table with every common type, nulls, NaN, a non-ASCII string and brackets (rich markup bait).
EVENTS = pa.table({
    "Timestamp": pa.array([datetime(2025, 3, 14, 11, 0, 0), datetime(2025, 3, 14, 11, 30, 0, 250000),
                           datetime(2025, 3, 13, 1, 2, 3), None, datetime(2025, 3, 10)], pa.timestamp("us")),
    "Host": ["a.example", "b [bold]x[/bold]", "", "ünï", "e.example"],
    "Port": pa.array([443, 8080, None, 22, 443], pa.int32()),
    "Bytes": pa.array([10, 2**40, 0, None, 7], pa.int64()),
    "Ratio": [0.5, None, float("nan"), 1e300, -2.25],
    "Ok": [True, False, None, True, False],
})


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def events_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("events") / "events.parquet"
    pq.write_table(EVENTS, path)
    return path


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory) -> Path:
    lake = tmp_path_factory.mktemp("cli-lake")
    generate_lake(lake, 5_000, seed=3)
    return lake
