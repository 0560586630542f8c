"""One ingest run: discover inputs, detect each format, stage and map its records with DuckDB, write
them to the lake, and account for every record (written, skipped with a reason, or quarantined).

Memory stays bounded: DuckDB works under a memory limit with a spill directory, EVTX
records go in batches, and text formats are read by DuckDB/pyarrow readers straight from disk.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from kqlhunt.ingest import defender, evtxfile, iptype, winevent, zeek
from kqlhunt.ingest.inputs import Format, InputFile, detect, expand, open_inputs
from kqlhunt.ingest.lake import Lake
from kqlhunt.ingest.lines import Lines, clean_copy, quick_check
from kqlhunt.ingest.report import FileReport, Quarantine, RunReport
from kqlhunt.ingest.schema import select_list

Progress = Callable[[str, int], None]  # (input name, bytes done with)

EVTX_BATCH = 50_000


class Context:
    """What the format handlers share for one run."""

    def __init__(self, con: duckdb.DuckDBPyConnection, workdir: Path, quarantine: Quarantine, lake: Lake,
                 sensor: str):
        self.con = con
        self.workdir = workdir
        self.quarantine = quarantine
        self.lake = lake
        self.sensor = sensor

    def json_lines(self, inp: InputFile, report: FileReport, columns: dict[str, str], select: str,
                   target: str) -> None:
        """CREATE `target` AS SELECT rec (line number), <select> FROM the file's JSON lines.

        Fast path: DuckDB reads the original file. If the quick check or DuckDB itself finds a problem,
        the file is cleaned line by line first (bad lines quarantined) and read from the clean copy.
        """
        count = quick_check(inp.path)
        lines = Lines(inp.path, None, count) if count is not None else self._clean(inp, report)
        try:
            got = self._read_lines(lines, columns, select, target)
        except duckdb.Error:
            if lines.line_map is not None:
                raise
            got = None
        if got != lines.rows and lines.line_map is None:
            # DuckDB failed, or silently skipped whitespace-only lines (row n would no longer be line n)
            lines = self._clean(inp, report)
            got = self._read_lines(lines, columns, select, target)
        if got != lines.rows:
            raise RuntimeError(f"read {got} rows from {lines.rows} clean lines")
        report.read += lines.rows

    def _clean(self, inp: InputFile, report: FileReport) -> Lines:
        before = report.quarantined + report.skipped["blank line"]
        lines = clean_copy(inp.path, self.workdir / "clean.jsonl", report, self.quarantine, validate_json=True)
        # unreadable lines were read (and quarantined), blank ones read (and skipped)
        report.read += report.quarantined + report.skipped["blank line"] - before
        return lines

    def _read_lines(self, lines: Lines, columns: dict[str, str], select: str, target: str) -> int:
        spec = "{" + ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in columns.items()) + "}"
        source = (f"(SELECT row_number() OVER () AS kh_row, * FROM read_json({_lit(str(lines.path))}, "
                  f"format = 'newline_delimited', columns = {spec}))")
        if lines.line_map is not None:
            self.con.register("kh_line_map", lines.line_map)
            rec = "(SELECT line FROM kh_line_map WHERE kh_line_map.row = r.kh_row)"
        else:
            rec = "r.kh_row"
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT {rec} AS rec, {select} "
                         f"FROM {source} r")
        return int(self.con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0])


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------- Windows events


def _stage_evtx(ctx: Context, inp: InputFile, report: FileReport) -> None:
    con = ctx.con
    empty = "(SELECT CAST(NULL AS VARCHAR) AS data, CAST(NULL AS BIGINT) AS rec WHERE false)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE stage AS {winevent.doc_query('evtx', empty, rec='CAST(rec AS VARCHAR)')}")
    recs: list[int] = []
    docs: list[str] = []

    def flush() -> None:
        if docs:
            con.register("kh_batch", pa.table({"rec": pa.array(recs, pa.int64()), "data": docs}))
            # provenance is the record number of the file's record header, the one `evtxfile` accounts by
            query = winevent.doc_query("evtx", "kh_batch", rec="CAST(rec AS VARCHAR)")
            con.execute(f"INSERT INTO stage BY NAME {query}")
            con.unregister("kh_batch")
            recs.clear()
            docs.clear()

    errors: list[str] = []
    seen: set[int] = set()
    for record_id, data in evtxfile.records(inp.path, errors):
        report.read += 1
        seen.add(record_id)
        recs.append(record_id)
        docs.append(data)
        if len(docs) >= EVTX_BATCH:
            flush()
    flush()
    detail = f" (parser: {errors[0]})" if errors else ""
    for record, reason in evtxfile.unreadable(inp.path, seen):
        report.read += 1
        ctx.quarantine.add(report, record, reason + detail)


def _stage_winevent_json(ctx: Context, inp: InputFile, report: FileReport) -> None:
    with inp.path.open("rb") as fh:
        first = fh.readline()
    try:
        sample = json.loads(first.decode("utf-8-sig", errors="replace"))
    except json.JSONDecodeError:
        sample = {}
    dialect = winevent.dialect_of(sample if isinstance(sample, dict) else {})
    columns, select = winevent.lines_columns(dialect)
    select = select.replace(" AS rec,", " AS src_rec,", 1)
    # the line number is the provenance (rec); the shipper's RecordNumber stays in src_rec
    ctx.json_lines(inp, report, columns, select, "stage")
    report.format = f"{report.format} ({dialect})"


def _map_winevent(ctx: Context, inp: InputFile, report: FileReport) -> str:
    con = ctx.con
    counts = dict(con.execute("""SELECT CASE WHEN eid = 3 AND sysmon THEN 'sysmon3' WHEN eid = 5156 AND security
        THEN 'wfp' WHEN eid = 1 AND sysmon THEN 'sysmon1' WHEN eid = 5158 AND security THEN 'bind' ELSE 'other' END,
        count(*) FROM (SELECT TRY_CAST(event_id AS INTEGER) AS eid, channel ILIKE '%sysmon%' AS sysmon,
        lower(channel) = 'security' AS security FROM stage) GROUP BY 1""").fetchall())
    # only the events the mapping uses are carried on (the bulk of a Windows log is other events)
    con.execute(f"CREATE OR REPLACE TEMP TABLE ev AS {winevent.EV_SQL} "
                "WHERE TRY_CAST(event_id AS INTEGER) IN (1, 3, 5156)")
    con.execute("DROP TABLE stage")
    cache = ctx.lake.meta / "processes"
    cached = sorted(str(p) for p in cache.glob("*.pq")) if cache.is_dir() else []
    if cached:
        listed = "[" + ", ".join(_lit(p) for p in cached) + "]"
        con.execute(f"CREATE OR REPLACE TEMP TABLE proc_cache AS SELECT * FROM ev WHERE false "
                    f"UNION ALL BY NAME SELECT * FROM read_parquet({listed}, union_by_name = true)")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE proc_cache AS SELECT * FROM ev WHERE false")
    con.execute(f"CREATE OR REPLACE TEMP TABLE conn AS {winevent.MAPPING_SQL}")
    written_wfp = con.execute(
        "SELECT count(*) FROM conn WHERE json_extract_string(extra, '$.Source') = 'Security'").fetchall()[0][0]
    if counts.get("wfp", 0) - written_wfp:
        report.skipped["Security 5156 merged into the Sysmon 3 event of the same connection"] += \
            counts["wfp"] - written_wfp
    if counts.get("sysmon1"):
        report.skipped["Sysmon 1 (process creation: used to fill process details)"] += counts["sysmon1"]
        ctx.lake.meta.mkdir(parents=True, exist_ok=True)
        cache.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT * FROM ev WHERE eid = 1 AND channel ILIKE '%sysmon%') TO "
                    f"{_lit(str(cache / (datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f') + '.pq')))} "
                    "(FORMAT parquet)")
    con.execute("DROP TABLE ev")
    con.execute("DROP TABLE proc_cache")
    if counts.get("bind"):
        report.skipped["Security 5158 (port bind, not a connection)"] += counts["bind"]
    if counts.get("other"):
        report.skipped["other event (not a network connection)"] += counts["other"]
    return _finish(ctx, "conn", winevent.COLUMNS, inp, ("local_ip", "remote_ip"))


def _finish(ctx: Context, relation: str, columns: dict[str, str], inp: InputFile,
            ip_columns: tuple[str, str]) -> str:
    """Build table `mapped` (the lake's columns) from `relation` with the column expressions given."""
    con = ctx.con
    lookup = iptype.build_lookup(con, relation, ip_columns)
    mapped = dict(columns)
    mapped["LocalIPType"] = "coalesce(kh_l.kh_kind, '')"
    mapped["RemoteIPType"] = "coalesce(kh_r.kh_kind, '')"
    mapped["SourceFile"] = _lit(inp.name)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE mapped AS SELECT {select_list(mapped)} FROM {relation} kh_rows
        LEFT JOIN {lookup} kh_l ON kh_l.kh_ip = CAST(kh_rows.{ip_columns[0]} AS VARCHAR)
        LEFT JOIN {lookup} kh_r ON kh_r.kh_ip = CAST(kh_rows.{ip_columns[1]} AS VARCHAR)""")
    # free the staging tables before writing: memory is bounded, and they are no longer needed
    for name, kind in con.execute("""SELECT table_name, table_type FROM information_schema.tables
            WHERE table_schema = 'main' AND table_catalog = 'temp' AND table_name <> 'mapped'
            ORDER BY table_type DESC""").fetchall():
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {name}")
    return "mapped"


# ---------------------------------------------------------------- the run

Handler = Callable[[Context, InputFile, FileReport], str]


def _winevent(stage: Callable[[Context, InputFile, FileReport], None]) -> Handler:
    def handle(ctx: Context, inp: InputFile, report: FileReport) -> str:
        stage(ctx, inp, report)
        return _map_winevent(ctx, inp, report)
    return handle


def _defender(kind: str) -> Handler:
    def handle(ctx: Context, inp: InputFile, report: FileReport) -> str:
        relation = defender.stage(ctx, inp, report, kind)
        return _finish(ctx, relation, defender.COLUMNS, inp, ("LocalIP", "RemoteIP"))
    return handle


def _zeek(kind: str) -> Handler:
    def handle(ctx: Context, inp: InputFile, report: FileReport) -> str:
        relation = zeek.stage(ctx, inp, report, kind)
        return _finish(ctx, relation, zeek.columns(ctx.sensor), inp, ("local_ip", "remote_ip"))
    return handle


HANDLERS: dict[Format, Handler] = {
    Format.evtx: _winevent(_stage_evtx),
    Format.winevent_json: _winevent(_stage_winevent_json),
    Format.defender_csv: _defender("csv"),
    Format.defender_json: _defender("json"),
    Format.defender_stream: _defender("stream"),
    Format.zeek_tsv: _zeek("tsv"),
    Format.zeek_json: _zeek("json"),
}


def run(paths: list[str], lake: str | Path, fmt: Format = Format.auto, *, dry_run: bool = False,
        sensor: str = "zeek-sensor", progress: Progress | None = None, memory_limit: str = "400MB",
        threads: int = 2) -> RunReport:
    """Ingest every input under `paths` into `lake`; see RunReport for what happened to each record."""
    root = Path(lake)
    files, missing = expand(paths)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    quarantine = Quarantine(None if dry_run else root / "_ingest" / "quarantine" / f"{stamp}.jsonl")
    result = RunReport(quarantine_file="" if dry_run else str(quarantine.path))
    for arg in missing:
        result.files.append(FileReport(arg, error="no such file, folder or glob match"))
    with tempfile.TemporaryDirectory(prefix="kqlhunt-ingest-") as tmp:
        work = Path(tmp)
        # in-memory, but with a memory limit and a temp directory DuckDB spills to: bounded memory without
        # paying for an on-disk database (measured 1.5x slower)
        con = duckdb.connect()
        con.execute(f"SET memory_limit = {_lit(memory_limit)}")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET temp_directory = {_lit(str(work / 'spill'))}")
        ctx = Context(con, work, quarantine, Lake(root), sensor)
        try:
            for inp in open_inputs(files, work):
                report = FileReport(inp.name)
                result.files.append(report)
                _one(ctx, inp, report, fmt, dry_run)
                if progress is not None:
                    progress(inp.name, inp.size)
        finally:
            con.close()
            quarantine.close()
    if not dry_run and quarantine.count == 0:
        result.quarantine_file = ""
    if not dry_run:
        runs = root / "_ingest" / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        (runs / f"{stamp}.json").write_text(json.dumps(result.as_dict(), indent=1), encoding="utf-8")
    return result


def _metadata(inp: InputFile) -> bool:
    """Files that travel with telemetry but hold none: dataset descriptions, macOS resource forks."""
    name = inp.zip_member or inp.name
    return Path(name).suffix.lower() in (".yaml", ".yml", ".md", ".txt") or "__MACOSX/" in name \
        or Path(name).name.startswith("._")


def _one(ctx: Context, inp: InputFile, report: FileReport, fmt: Format, dry_run: bool) -> None:
    if fmt == Format.auto:
        detected, why = detect(inp.path)
        if detected is None and _metadata(inp):
            report.skipped[f"not telemetry ({why})"] += 1
            return
        if detected is None:
            report.error = f"unknown format: {why}"
            if not dry_run:
                ctx.quarantine.add(report, None, report.error)
            return
        report.format = str(detected)
        report.detected_by = why
    else:
        detected = fmt
        report.format = str(fmt)
    if dry_run:
        return
    fingerprint = inp.fingerprint()
    if fingerprint in ctx.lake.seen:
        report.skipped["file already ingested (same content)"] += 1
        return
    try:
        mapped = HANDLERS[detected](ctx, inp, report)
        ctx.lake.write(ctx.con, mapped, report, ctx.quarantine)
    except Exception as exc:  # a file that cannot be read at all is named; the others still ingest
        report.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        ctx.quarantine.add(report, None, f"file unreadable as {detected}: {report.error}")
        return
    ctx.lake.remember(fingerprint, report)
