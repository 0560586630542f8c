from __future__ import annotations

from pathlib import Path

import pytest

from kqlhunt.demo import generate_lake

ROWS = 6_000


@pytest.fixture(scope="session")
def small_lake(tmp_path_factory) -> Path:
    lake = tmp_path_factory.mktemp("hunt-lake")
    generate_lake(lake, ROWS, seed=11)
    return lake
