"""Zeek `conn.log`, TSV (with its `#fields` header) or JSON (dotted `id.orig_h` or underscore `id_orig_h`).

Zeek watches the wire, so there is no process: those columns stay empty and the sensor is the device.
The originator is the local side unless Zeek's `local_orig`/`local_resp` say the responder is the local
one (then the row is inbound). `conn_state` decides the ActionType: S0 (no reply) is a ConnectionAttempt,
REJ (rejected) a ConnectionFailed, anything else a ConnectionSuccess (or InboundConnectionAccepted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv

from kqlhunt.ingest.inputs import InputFile
from kqlhunt.ingest.report import FileReport
from kqlhunt.ingest.schema import json_bag

if TYPE_CHECKING:
    from kqlhunt.ingest.pipeline import Context

FIELDS = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
          "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
          "orig_pkts", "resp_pkts", "_system_name")
STAGE = tuple(f.replace(".", "_") for f in FIELDS)
BATCH = 1 << 22  # bytes per pyarrow block


def _header(inp: InputFile) -> tuple[list[str], int, str]:
    """(#fields names, number of header lines, separator) of a Zeek TSV log."""
    names: list[str] = []
    sep = "\t"
    count = 0
    with inp.path.open("rb") as fh:
        for raw in fh:
            if not raw.startswith(b"#"):
                break
            count += 1
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line.startswith("#separator"):
                sep = line.split(" ", 1)[1].encode().decode("unicode_escape")
            elif line.startswith("#fields"):
                names = line.split(sep)[1:]
    return names, count, sep


def stage(ctx: Context, inp: InputFile, report: FileReport, kind: str) -> str:
    con = ctx.con
    select = ", ".join(f'CAST("{f}" AS VARCHAR) AS {s}' for f, s in zip(FIELDS, STAGE, strict=True))
    if kind == "json":
        columns = {f: "VARCHAR" for f in FIELDS}
        columns |= {f.replace(".", "_"): "VARCHAR" for f in FIELDS if "." in f}
        select = ", ".join(
            (f'coalesce(CAST("{f}" AS VARCHAR), CAST("{s}" AS VARCHAR)) AS {s}' if "." in f
             else f'CAST("{f}" AS VARCHAR) AS {s}') for f, s in zip(FIELDS, STAGE, strict=True))
        ctx.json_lines(inp, report, columns, select, "zeek_stage")
        return _with_sides(ctx)
    names, header_lines, sep = _header(inp)
    if "ts" not in names or "id.orig_h" not in names:
        raise ValueError("no Zeek #fields header naming ts and id.orig_h (a headerless log cannot be mapped)")
    bad: list[tuple[int, str, str]] = []

    def invalid(row: pacsv.InvalidRow) -> str:
        text = row.text or ""
        if not text.startswith("#"):  # `#close` and other trailers are not records
            bad.append((row.number or -1, f"expected {row.expected_columns} fields, got {row.actual_columns}", text))
        return "skip"

    reader = pacsv.open_csv(
        inp.path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=header_lines, block_size=BATCH),
        parse_options=pacsv.ParseOptions(delimiter=sep, quote_char=False, escape_char=False,
                                         invalid_row_handler=invalid),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             null_values=["-"], strings_can_be_null=True,
                                             include_columns=[n for n in FIELDS if n in names]))
    present = [f for f in FIELDS if f in names]
    select = ", ".join((f'"{f}" AS {s}' if f in present else f"CAST(NULL AS VARCHAR) AS {s}")
                       for f, s in zip(FIELDS, STAGE, strict=True))
    # one statement pulls the whole stream (per-batch INSERTs were 5x slower under the memory limit);
    # rows are numbered in file order, rows skipped as invalid are accounted for below
    con.register("kh_zeek", reader)
    con.execute(f"CREATE OR REPLACE TEMP TABLE zeek_stage AS SELECT row_number() OVER () AS rec, {select} "
                "FROM kh_zeek")
    con.unregister("kh_zeek")
    row = con.execute("SELECT count(*) FROM zeek_stage").fetchall()[0][0]
    report.read += row + len(bad)
    lines = _bad_lines(inp, len(names), sep) if bad else []
    for i, (_, reason, text) in enumerate(bad):
        # pyarrow's multi-threaded reader does not know line numbers; a rescan (only when rows were bad) does
        ctx.quarantine.add(report, lines[i] if i < len(lines) else None, f"malformed Zeek row: {reason}", text)
    # line of the n-th good row = header lines + n + bad lines before it
    con.execute(f"UPDATE zeek_stage SET rec = rec + {header_lines}")
    for line in lines:
        con.execute(f"UPDATE zeek_stage SET rec = rec + 1 WHERE rec >= {line}")
    return _with_sides(ctx)


def _bad_lines(inp: InputFile, fields: int, sep: str) -> list[int]:
    out = []
    separator = sep.encode()
    with inp.path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.startswith(b"#") and raw.rstrip(b"\r\n").count(separator) != fields - 1:
                out.append(number)
    return out


# TSV writes T/F, JSON true/false
_INBOUND = "(upper(left(local_orig, 1)) = 'F' AND upper(left(local_resp, 1)) = 'T')"


def _with_sides(ctx: Context) -> str:
    ctx.con.execute(f"""CREATE OR REPLACE TEMP VIEW zeek_conn AS SELECT *,
        CASE WHEN {_INBOUND} THEN id_resp_h ELSE id_orig_h END AS local_ip,
        CASE WHEN {_INBOUND} THEN id_orig_h ELSE id_resp_h END AS remote_ip,
        {_INBOUND} AS inbound FROM zeek_stage""")
    return "zeek_conn"


def columns(sensor: str) -> dict[str, str]:
    inbound = "inbound"
    device = f"coalesce(_system_name, '{sensor.replace(chr(39), chr(39) * 2)}')"
    ts = ("CASE WHEN regexp_full_match(ts, '[0-9]+(\\.[0-9]*)?') "
          "THEN make_timestamp(CAST(round(CAST(ts AS DOUBLE) * 1000000) AS BIGINT)) "
          "ELSE TRY_CAST(replace(replace(ts, 'Z', ''), 'T', ' ') AS TIMESTAMP) END")
    return {
        "Timestamp": ts, "DeviceName": device, "DeviceId": f"sha1(lower({device}))",
        "ActionType": (f"CASE WHEN conn_state = 'S0' THEN 'ConnectionAttempt' WHEN conn_state = 'REJ' "
                       f"THEN 'ConnectionFailed' WHEN {inbound} THEN 'InboundConnectionAccepted' "
                       "ELSE 'ConnectionSuccess' END"),
        "LocalIP": "local_ip", "RemoteIP": "remote_ip",
        "LocalPort": f"CASE WHEN {inbound} THEN id_resp_p ELSE id_orig_p END",
        "RemotePort": f"CASE WHEN {inbound} THEN id_orig_p ELSE id_resp_p END",
        "Protocol": "CASE lower(proto) WHEN 'tcp' THEN 'Tcp' WHEN 'udp' THEN 'Udp' WHEN 'icmp' THEN 'Icmp' "
                    "ELSE coalesce(proto, '') END",
        "AdditionalFields": json_bag({
            "Source": "'Zeek'", "uid": "uid", "service": "service", "duration": "TRY_CAST(duration AS DOUBLE)",
            "orig_bytes": "TRY_CAST(orig_bytes AS BIGINT)", "resp_bytes": "TRY_CAST(resp_bytes AS BIGINT)",
            "conn_state": "conn_state", "history": "history", "orig_pkts": "TRY_CAST(orig_pkts AS BIGINT)",
            "resp_pkts": "TRY_CAST(resp_pkts AS BIGINT)", "missed_bytes": "TRY_CAST(missed_bytes AS BIGINT)"}),
        "SourceRecord": "CAST(rec AS VARCHAR)",
    }
