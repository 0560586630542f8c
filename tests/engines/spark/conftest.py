"""The Spark tests share one local Spark session (starting Spark takes seconds) and skip cleanly when
PySpark or a Java runtime is missing, or when KQLHUNT_SKIP_SPARK=1."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest


def spark_unavailable() -> str | None:
    if os.environ.get("KQLHUNT_SKIP_SPARK") == "1":
        return "KQLHUNT_SKIP_SPARK=1"
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (pip install 'kqlhunt[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime for Spark"
    return None


@pytest.fixture(scope="session", autouse=True)
def spark():
    reason = spark_unavailable()
    if reason:
        pytest.skip(reason)
    from kqlhunt.engines.spark import spark_session

    # two cores, as on the CI machine: the differential tests run many tiny queries
    return spark_session("local[2]")
