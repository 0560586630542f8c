"""The Spark engine's own behaviour: sources, names, refusals, the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import kqlhunt
from kqlhunt.cli import app


def test_sources_files_frames_and_lakes(tmp_path: Path) -> None:
    t = pa.table({"Name": ["a", "b", "a"], "n": [1, 2, 3]})
    pq.write_table(t, tmp_path / "t.parquet")
    t.to_pandas().to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "lake" / "T" / "Day=2024-01-01").mkdir(parents=True)
    pq.write_table(t, tmp_path / "lake" / "T" / "Day=2024-01-01" / "part.parquet")
    query = "T | summarize total = sum(n) by Name | order by Name asc"
    want = [{"Name": "a", "total": 4}, {"Name": "b", "total": 2}]
    for source in (tmp_path / "t.parquet", str(tmp_path / "t.csv"), t, t.to_pandas()):
        assert kqlhunt.query(query, tables={"T": source}, engine="spark").to_pylist() == want
    assert kqlhunt.query(query, lake=tmp_path / "lake", engine="spark").to_pylist() == want


def test_column_names_are_case_sensitive() -> None:
    # KQL tells `a` from `A`; Spark does not unless told to
    frame = pd.DataFrame({"a": [1], "A": [2]})
    got = kqlhunt.query("T | where A > a | project A, a, b = a", tables={"T": frame}, engine="spark").to_pylist()
    assert got == [{"A": 2, "a": 1, "b": 1}]


def test_a_construct_spark_lacks_is_refused_by_name_and_position() -> None:
    with pytest.raises(kqlhunt.KqlError) as info:
        kqlhunt.query("print x = 1\n| extend y = series_periods_detect(dynamic([1,2,1,2]), 1, 2, 1)",
                      engine="spark")
    assert info.value.code in ("KH300", "KH302")
    assert "series_periods_detect" in str(info.value)


def test_compile_shows_spark_sql_without_a_session() -> None:
    sql = kqlhunt.compile("print a = 1 | extend b = a * 2", engine="spark").sql
    assert "`a`" in sql and "`b`" in sql  # Spark quoting


def test_cli_run_and_hunt_on_spark(tmp_path: Path) -> None:
    from kqlhunt.demo.generator import DEFAULT_NOW, generate_lake

    generate_lake(tmp_path / "lake", 3000, seed=3)
    when = DEFAULT_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    runner = CliRunner()
    r = runner.invoke(app, ["run", "--lake", str(tmp_path / "lake"), "--engine", "spark", "--now", when,
                            "-f", "json", "-q", "DeviceNetworkEvents | summarize n = count()"])
    assert r.exit_code == 0, r.output
    duck = kqlhunt.query("DeviceNetworkEvents | summarize n = count()", lake=tmp_path / "lake")
    assert f'"n": {duck.column("n")[0].as_py()}' in r.output.replace('"n":', '"n": ').replace("  ", " ")
    r = runner.invoke(app, ["hunt", "--lake", str(tmp_path / "lake"), "--engine", "spark", "--now", when,
                            "-r", "seed003", "-f", "json"])
    assert r.exit_code == 0, r.output


def test_spark_options_need_the_spark_engine() -> None:
    r = CliRunner().invoke(app, ["run", "-q", "print 1", "--spark-master", "local[1]"])
    assert r.exit_code == 2
    assert "--engine spark" in r.output


def test_shuffle_hints_become_partitioning_hints() -> None:
    summarize = ('datatable(a:string, b:long)["x",1,"y",2,"x",3] '
                 '| summarize hint.shufflekey=a c = count() by a | order by a asc')
    join = ('datatable(a:string, b:long)["x",1,"y",2] '
            '| join hint.strategy=shuffle (datatable(a:string, c:long)["x",5]) on a')
    assert "/*+ REPARTITION(`a`) */" in kqlhunt.compile(summarize, engine="spark").sql
    assert "/*+ SHUFFLE_HASH(" in kqlhunt.compile(join, engine="spark").sql
    for q in (summarize, join):  # advice only: the same rows as DuckDB, which ignores it
        assert kqlhunt.query(q, engine="spark").to_pylist() == kqlhunt.query(q).to_pylist()


def test_materialized_random_draws_are_refused() -> None:
    # materialize() promises one draw per row for every use; Spark may recompute a CTE per reference
    q = "let m = materialize(range i from 1 to 3 step 1 | extend r = rand()); m | join kind=inner m on i"
    with pytest.raises(kqlhunt.KqlError) as info:
        kqlhunt.query(q, engine="spark")
    assert info.value.code == "KH302" and "random" in str(info.value)


def test_spark_connect_runs_the_same_query(tmp_path: Path) -> None:
    """--spark-remote: through a Spark Connect server (here the local one PySpark starts for the remote
    `local`), in its own process since this one already holds a classic session."""
    pytest.importorskip("grpc")
    script = tmp_path / "connect.py"
    script.write_text(
        "import json, kqlhunt\n"
        "q = 'range x from 1 to 5 step 1 | extend e = erf(0.5) | summarize s = sum(x), e = any(e)'\n"
        "print(json.dumps(kqlhunt.query(q, engine='spark', spark_remote='local').to_pylist()))\n")
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    want = kqlhunt.query("range x from 1 to 5 step 1 | extend e = erf(0.5) | summarize s = sum(x), e = any(e)")
    assert got == want.to_pylist()
