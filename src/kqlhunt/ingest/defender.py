"""Defender advanced-hunting exports (CSV, JSON array, JSON lines), Sentinel / Log Analytics exports
(`TimeGenerated`), and the streaming API (`{"records": [{"time", "category", "properties": {...}}]}` from
Event Hub, or one record per line from a storage account), staged as rows of Defender's own columns.

The columns already are DeviceNetworkEvents; the work is reading them: every value as text, then cast
by `schema.select_list`. `AdditionalFields` may arrive as JSON text or as a JSON object; both are stored
as JSON text.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kqlhunt.ingest.inputs import InputFile
from kqlhunt.ingest.report import FileReport
from kqlhunt.ingest.schema import KUSTO_COLUMNS

if TYPE_CHECKING:
    from kqlhunt.ingest.pipeline import Context

SENTINEL_EXTRA = ("TimeGenerated", "TenantId", "MachineGroup", "SourceSystem", "Type")
NAMES = tuple(name for name, _ in KUSTO_COLUMNS) + SENTINEL_EXTRA

_AF = ("CASE WHEN AdditionalFields IS NULL OR json_type(AdditionalFields) = 'NULL' THEN '' "
       "WHEN json_type(AdditionalFields) = 'VARCHAR' THEN AdditionalFields->>'$' "
       "ELSE CAST(AdditionalFields AS VARCHAR) END")


def _time(expr: str) -> str:
    # ISO 8601 with T/Z, Kusto's `2024-01-02 03:04:05.1234567`, or the portal's `Jan 2, 2024 3:04:05 AM`
    return (f"coalesce(TRY_CAST(replace(replace({expr}, 'Z', ''), 'T', ' ') AS TIMESTAMP), "
            f"try_strptime({expr}, ['%b %d, %Y %I:%M:%S %p', '%m/%d/%Y, %I:%M:%S.%g %p', '%m/%d/%Y %H:%M:%S']))")


COLUMNS: dict[str, str] = {name: f'"{name}"' for name, _ in KUSTO_COLUMNS}
COLUMNS["Timestamp"] = _time('coalesce("Timestamp", "TimeGenerated")')
COLUMNS["InitiatingProcessCreationTime"] = _time('"InitiatingProcessCreationTime"')
COLUMNS["InitiatingProcessParentCreationTime"] = _time('"InitiatingProcessParentCreationTime"')
COLUMNS["AdditionalFields"] = "kh_af"
COLUMNS["SourceRecord"] = "CAST(rec AS VARCHAR)"
COLUMNS["IsInitiatingProcessRemoteSession"] = \
    "CASE lower(IsInitiatingProcessRemoteSession) WHEN 'true' THEN true WHEN 'false' THEN false END"


def _select(get: str) -> str:
    """Every Defender/Sentinel column as text; `get` formats the extraction of one name."""
    items = [f'{get.format(name=name)} AS "{name}"' for name in NAMES if name != "AdditionalFields"]
    return ", ".join(items)


def stage(ctx: Context, inp: InputFile, report: FileReport, kind: str) -> str:
    con = ctx.con
    if kind == "csv":
        source = (f"read_csv('{_esc(inp.path)}', header = true, all_varchar = true, auto_detect = true, "
                  "store_rejects = true, rejects_table = 'kh_rejects', rejects_scan = 'kh_rejects_scan')")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE defender_rows AS
            SELECT row_number() OVER () AS rec, * FROM {source}""")
        cols = {r[0] for r in con.execute("DESCRIBE defender_rows").fetchall()}
        for (line, message) in con.execute("SELECT line, error_message FROM kh_rejects").fetchall():
            report.read += 1
            ctx.quarantine.add(report, line, f"malformed CSV row: {message.splitlines()[0]}")
        report.read += con.execute("SELECT count(*) FROM defender_rows").fetchall()[0][0]
        select = ", ".join(f'"{n}"' if n in cols else f'CAST(NULL AS VARCHAR) AS "{n}"' for n in NAMES
                           if n != "AdditionalFields")
        af = "AdditionalFields" if "AdditionalFields" in cols else "CAST(NULL AS VARCHAR)"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE defender_stage AS SELECT rec, {select},
            CASE WHEN coalesce({af}, '') = '' THEN '' WHEN json_valid({af}) THEN {af} ELSE CAST(to_json({af}) AS VARCHAR) END
            AS kh_af FROM defender_rows""")
        return _keep_network(ctx, report, "defender_stage")
    if kind == "json" and _is_array(inp):
        columns = {n: "VARCHAR" for n in NAMES} | {"AdditionalFields": "JSON"}
        spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE defender_stage AS
            SELECT row_number() OVER () AS rec, {_select('"{name}"')}, {_AF} AS kh_af
            FROM read_json('{_esc(inp.path)}', format = 'array', columns = {spec})""")
        report.read += con.execute("SELECT count(*) FROM defender_stage").fetchall()[0][0]
        return _keep_network(ctx, report, "defender_stage")
    if kind == "json":
        columns = {n: "VARCHAR" for n in NAMES} | {"AdditionalFields": "JSON"}
        ctx.json_lines(inp, report, columns, f'{_select(chr(34) + "{name}" + chr(34))}, {_AF} AS kh_af',
                       "defender_stage")
        return _keep_network(ctx, report, "defender_stage")
    # streaming API: each line (or the whole file) holds `records` [...] or is one record itself
    columns = {"records": "JSON", "properties": "JSON", "category": "VARCHAR", "time": "VARCHAR",
               "tenantId": "VARCHAR"}
    if _one_line_json(inp):
        ctx.json_lines(inp, report, columns, "records, properties, category, time, tenantId", "stream_lines")
    else:  # a pretty-printed Event Hub message: one JSON document spread over many lines
        spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE stream_lines AS SELECT row_number() OVER () AS rec, *
            FROM read_json('{_esc(inp.path)}', format = 'unstructured', columns = {spec})""")
        report.read += con.execute("SELECT count(*) FROM stream_lines").fetchall()[0][0]
    con.execute("""CREATE OR REPLACE TEMP TABLE stream_items AS
        SELECT CAST(rec AS VARCHAR) AS rec, properties AS p, category, time FROM stream_lines WHERE records IS NULL
        UNION ALL
        SELECT rec || '#' || CAST(i AS VARCHAR), json_extract(records, '$[' || (i - 1) || '].properties'),
          json_extract_string(records, '$[' || (i - 1) || '].category'),
          json_extract_string(records, '$[' || (i - 1) || '].time')
        FROM stream_lines, range(1, CAST(json_array_length(records) AS BIGINT) + 1) t(i)
        WHERE records IS NOT NULL""")
    items = con.execute("SELECT count(*) FROM stream_items").fetchall()[0][0]
    lines = con.execute("SELECT count(*) FROM stream_lines WHERE records IS NOT NULL").fetchall()[0][0]
    report.read += items - lines  # a `records` envelope counts as the records inside it
    other = con.execute("SELECT category, count(*) FROM stream_items WHERE category IS DISTINCT FROM "
                        "'AdvancedHunting-DeviceNetworkEvents' GROUP BY 1").fetchall()
    for category, n in other:
        report.skipped[f"other table ({category})"] += n
    con.execute(f"""CREATE OR REPLACE TEMP TABLE defender_stage AS
        SELECT rec, {_select("coalesce(json_extract_string(p, '$.{name}'), " + "NULL)")} , {_AF.replace(
            'AdditionalFields', "json_extract(p, '$.AdditionalFields')")} AS kh_af, time AS stream_time
        FROM stream_items WHERE category = 'AdvancedHunting-DeviceNetworkEvents'""")
    con.execute("UPDATE defender_stage SET Timestamp = coalesce(Timestamp, stream_time)")
    return "defender_stage"


def _keep_network(ctx: Context, report: FileReport, table: str) -> str:
    # Sentinel exports name their table in `Type`; rows of other tables are counted, not written
    other = ctx.con.execute(f"SELECT \"Type\", count(*) FROM {table} WHERE coalesce(\"Type\", '') NOT IN "
                            "('', 'DeviceNetworkEvents') GROUP BY 1").fetchall()
    for kind, n in other:
        report.skipped[f"other table ({kind})"] += n
    if other:
        ctx.con.execute(f"DELETE FROM {table} WHERE coalesce(\"Type\", '') NOT IN ('', 'DeviceNetworkEvents')")
    return table


def _one_line_json(inp: InputFile) -> bool:
    with inp.path.open("rb") as fh:
        first = fh.readline().strip()
    try:
        json.loads(first.decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return True


def _is_array(inp: InputFile) -> bool:
    with inp.path.open("rb") as fh:
        return fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def _esc(path: object) -> str:
    return str(path).replace("'", "''")
