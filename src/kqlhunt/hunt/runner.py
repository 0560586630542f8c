"""Run a set of rules over the same data and collect one result per rule.

A rule that fails (bad query, unsupported construct, engine error) becomes an `error` result carrying its
diagnostics; the other rules still run unless `stop_on_error` is set, so one broken rule never hides the
findings of the rest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from kqlhunt.diagnostics import Diagnostic, KqlError
from kqlhunt.report.values import format_datetime
from kqlhunt.report.writers import write_result
from kqlhunt.rules.model import Rule

RESULT_SUFFIX = {"parquet": ".parquet", "jsonl": ".jsonl", "csv": ".csv"}


@dataclass
class RuleResult:
    rule: Rule
    status: str  # "ok" | "error"
    seconds: float
    table: pa.Table | None = None
    sql: str = ""
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""  # the diagnostics rendered as text (line:col, caret, hints)
    output: Path | None = None

    @property
    def rows(self) -> int:
        return self.table.num_rows if self.table is not None else 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.rule.id, "title": self.rule.title, "status": self.status,
                               "rows": self.rows, "seconds": round(self.seconds, 3)}
        if self.output is not None:
            out["output"] = str(self.output)
        if not self.ok:
            out["diagnostics"] = self.diagnostics
            out["message"] = self.message
        return out


def run_rule(rule: Rule, *, lake: str | Path | None = None, tables: Mapping[str, Any] | None = None,
             now: datetime | str | None = None, memory_limit: str | None = None,
             threads: int | None = None, engine_options: Mapping[str, Any] | None = None) -> RuleResult:
    """`engine_options`: the engine keywords of kqlhunt.api.run (engine="spark", spark_master, ...)."""
    from kqlhunt.api import run

    start = time.perf_counter()
    try:
        table, compiled = run(rule.query, tables=tables, lake=lake, now=now, schema=rule.schema,
                              memory_limit=memory_limit, threads=threads, **dict(engine_options or {}))
    except KqlError as exc:
        source = exc.source or rule.query
        return RuleResult(rule, "error", time.perf_counter() - start,
                          diagnostics=[d.to_dict(source) for d in exc.diagnostics], message=exc.render())
    except Exception as exc:  # an engine bug must not take the other rules down with it
        d = Diagnostic("internal", f"internal error: {type(exc).__name__}: {exc}",
                       hints=("this is a bug in kqlhunt; please report it with the query",))
        return RuleResult(rule, "error", time.perf_counter() - start, diagnostics=[d.to_dict()],
                          message=KqlError(d).render())
    return RuleResult(rule, "ok", time.perf_counter() - start, table=table, sql=compiled.sql)


def run_rules(rules: Sequence[Rule], *, lake: str | Path | None = None, tables: Mapping[str, Any] | None = None,
              now: datetime | str | None = None, output_dir: str | Path | None = None,
              result_format: str = "parquet", stop_on_error: bool = False,
              memory_limit: str | None = None, threads: int | None = None,
              on_start: Callable[[Rule], None] | None = None,
              on_done: Callable[[RuleResult], None] | None = None,
              engine_options: Mapping[str, Any] | None = None) -> list[RuleResult]:
    """Run `rules` in order against the same data with one pinned `now` (default: the current time, taken
    once so every rule sees the same instant). With `output_dir`, each successful rule's rows are written
    to `<output_dir>/<rule id>.<parquet|jsonl|csv>` (also when there are none)."""
    pinned = now if now is not None else datetime.now(UTC)
    out_dir = Path(output_dir) if output_dir is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    results: list[RuleResult] = []
    for rule in rules:
        if on_start is not None:
            on_start(rule)
        result = run_rule(rule, lake=lake, tables=tables, now=pinned, memory_limit=memory_limit,
                          threads=threads, engine_options=engine_options)
        if out_dir is not None and result.ok and result.table is not None:
            result.output = write_result(result.table, out_dir / f"{rule.id}{RESULT_SUFFIX[result_format]}",
                                         result_format)
        results.append(result)
        if on_done is not None:
            on_done(result)
        if stop_on_error and not result.ok:
            break
    return results


def summary(results: Sequence[RuleResult], *, now: datetime | str | None = None,
            lake: str | Path | None = None) -> dict[str, Any]:
    """A JSON-ready summary of a hunt."""
    out: dict[str, Any] = {}
    if now is not None:
        out["now"] = now if isinstance(now, str) else _iso(now)
    if lake is not None:
        out["lake"] = str(lake)
    out["rules"] = [r.to_dict() for r in results]
    out["totals"] = {"rules": len(results), "ok": sum(r.ok for r in results),
                     "errors": sum(not r.ok for r in results),
                     "with_findings": sum(r.ok and r.rows > 0 for r in results),
                     "rows": sum(r.rows for r in results)}
    return out


def write_summary(results: Sequence[RuleResult], path: str | Path, **kwargs: Any) -> Path:
    path = Path(path)
    path.write_text(json.dumps(summary(results, **kwargs), indent=2, ensure_ascii=False) + "\n", "utf-8")
    return path


def _iso(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return format_datetime((value - datetime(1970, 1, 1)) // timedelta(microseconds=1))
