"""Pieces the commands share: consoles, input validation (usage errors exit 2), error output, tables.

Exit codes, for every command:
    0  success (for `hunt`/`demo`: every rule ran; findings are not failures)
    1  the work failed: a query diagnostic (KqlError), a rule that errored, an engine error, or a
       result that could not be written
    2  usage error: bad flags or values, missing query/rule/data files, unreadable rule files
"""

from __future__ import annotations

import glob
import json
import os
import re
import sys
import traceback
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_POSITION = re.compile(r"^(\d+:\d+: )", re.MULTILINE)


class EngineChoice(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def engine_options(engine: EngineChoice, spark_master: str | None, spark_remote: str | None,
                   spark_conf: Sequence[str] | None) -> dict[str, Any]:
    """The engine keywords of kqlhunt.api.run from the shared CLI options (checked here: usage errors)."""
    if engine is EngineChoice.duckdb:
        if spark_master or spark_remote or spark_conf:
            usage_error("--spark-master, --spark-remote and --spark-conf need --engine spark", "--engine")
        return {}
    if spark_master and spark_remote:
        usage_error("give --spark-master or --spark-remote, not both", "--spark-remote")
    conf: dict[str, str] = {}
    for item in spark_conf or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            usage_error(f"expected KEY=VALUE, got {item!r}", "--spark-conf")
        conf[key.strip()] = value
    return {"engine": "spark", "spark_master": spark_master, "spark_remote": spark_remote, "spark_conf": conf}


# the engine options `run` and `hunt` share
EngineOpt = Annotated[EngineChoice, typer.Option(
    "--engine", "-e", help="duckdb (in-process, the default) or spark (PySpark: local[*] unless "
    "--spark-master/--spark-remote; pip install 'kqlhunt[spark]').")]
SparkMasterOpt = Annotated[str | None, typer.Option(
    "--spark-master", help="Spark master URL for --engine spark (e.g. local[4], spark://host:7077, yarn).",
    show_default=False)]
SparkRemoteOpt = Annotated[str | None, typer.Option(
    "--spark-remote", help="Spark Connect endpoint for --engine spark (sc://host:15002).", show_default=False)]
SparkConfOpt = Annotated[list[str] | None, typer.Option(
    "--spark-conf", metavar="KEY=VALUE", help="A Spark setting for --engine spark. Repeatable.",
    show_default=False)]


class SchemaChoice(StrEnum):
    auto = "auto"
    defender = "defender"
    sentinel = "sentinel"


def stdout_console() -> Console:
    # Built per call so that a replaced sys.stdout (tests, redirection) is honoured. Off a terminal (pipes,
    # logs) rich would assume 80 columns and fold every result cell; use a roomier width unless COLUMNS says.
    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160
    return console


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False)


def usage_error(message: str, param: str | None = None) -> NoReturn:
    raise typer.BadParameter(message, param_hint=param)


def echo_err(text: str) -> None:
    """Plain text to stderr: diagnostics contain brackets that rich would read as markup."""
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()


def internal_error(exc: BaseException, what: str) -> str:
    text = f"error[internal]: {what} failed: {type(exc).__name__}: {exc}\n" \
           "  hint: this is a bug in kqlhunt; set KQLHUNT_DEBUG=1 to see the traceback"
    if os.environ.get("KQLHUNT_DEBUG"):
        text = "".join(traceback.format_exception(exc)) + text
    return text


def with_file_prefix(rendered: str, name: str | None) -> str:
    """`3:7: error[...]` -> `hunt.kql:3:7: error[...]` (the compiler-style location editors understand)."""
    return _POSITION.sub(lambda m: f"{name}:{m.group(1)}", rendered) if name else rendered


def json_error(diagnostics: list[dict[str, Any]], **extra: Any) -> str:
    return json.dumps({"ok": False, **extra, "diagnostics": diagnostics}, ensure_ascii=False)


# ------------------------------------------------------------------------------------------- validation

def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    from kqlhunt.syntax.literals import parse_datetime_text

    try:
        return parse_datetime_text(value)
    except ValueError:
        usage_error(f"{value!r} is not a date/time (try 2025-03-14T12:00:00Z)", "--now")


def parse_tables(specs: Sequence[str] | None) -> dict[str, str]:
    tables: dict[str, str] = {}
    for spec in specs or ():
        name, sep, path = spec.partition("=")
        name, path = name.strip(), path.strip()
        if not sep or not name or not path:
            usage_error(f"{spec!r}: expected NAME=PATH (a Parquet/CSV/JSON file, a folder or a glob)", "--table")
        if not _IDENT.match(name):
            usage_error(f"{name!r} is not a table name (letters, digits and '_')", "--table")
        if name in tables:
            usage_error(f"table {name!r} given twice", "--table")
        if any(ch in path for ch in "*?["):
            if not glob.glob(path, recursive=True):
                usage_error(f"no file matches {path!r} (table {name})", "--table")
        elif not Path(path).exists():
            usage_error(f"no such file or directory: {path} (table {name})", "--table")
        tables[name] = path
    return tables


def check_lake(lake: Path | None) -> Path | None:
    if lake is not None and not lake.is_dir():
        usage_error(f"no such directory: {lake}", "--lake")
    return lake


# ------------------------------------------------------------------------------------------- display

def result_table(table: Any, max_rows: int, title: str | None = None) -> Table:
    """A pyarrow result as a rich table: the first `max_rows` rows (0 = all), every cell as plain text."""
    from kqlhunt.report.values import text_columns

    shown = table if max_rows <= 0 or table.num_rows <= max_rows else table.slice(0, max_rows)
    rich_table = Table(title=Text(title) if title else None, show_lines=False, header_style="bold",
                       title_justify="left")
    for name in shown.column_names:
        rich_table.add_column(Text(name), overflow="fold")
    columns = text_columns(shown)
    for r in range(shown.num_rows):
        rich_table.add_row(*(Text(col[r]) for col in columns))
    total = table.num_rows
    rows = "row" if total == 1 else "rows"
    rich_table.caption = Text(f"{total} {rows}" if shown.num_rows == total
                              else f"showing {shown.num_rows} of {total} {rows}")
    rich_table.caption_justify = "left"
    return rich_table
