"""Write a query result as JSON Lines, CSV or Parquet (cell conversions in `values`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from kqlhunt.report.values import json_rows, text_columns

FORMATS = ("jsonl", "csv", "parquet")
SUFFIXES = {".json": "jsonl", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet",
            ".pq": "parquet"}


def write_jsonl(table: pa.Table, stream: TextIO) -> None:
    """One JSON object per row, one row per line (JSON Lines); nothing at all for an empty result."""
    for row in json_rows(table):
        stream.write(json.dumps(row, ensure_ascii=False))
        stream.write("\n")


def write_csv(table: pa.Table, stream: TextIO) -> None:
    """A header line, then the rows as display text (dynamic values as their JSON text)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(table.column_names)
    columns = text_columns(table)
    for r in range(table.num_rows):
        writer.writerow([col[r] for col in columns])


def write_parquet(table: pa.Table, path: str | Path) -> None:
    """The Arrow result as is: Kusto types stay in the fields' `kql_type` metadata."""
    pq.write_table(table, str(path))


def write_result(table: pa.Table, path: str | Path, fmt: str) -> Path:
    path = Path(path)
    if fmt == "parquet":
        write_parquet(table, path)
    elif fmt in ("jsonl", "csv"):
        with open(path, "w", encoding="utf-8", newline="") as f:
            (write_jsonl if fmt == "jsonl" else write_csv)(table, f)
    else:
        raise ValueError(f"unknown result format {fmt!r} (use {', '.join(FORMATS)})")
    return path
