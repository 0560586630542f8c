"""Windows events (Sysmon 1/3, Security 5156) from EVTX, NXLog/OTRF, Winlogbeat and evtx_dump JSON, into
one staging table, then into DeviceNetworkEvents rows.

Stage 1 pulls the same canonical fields out of each shipping format (`DIALECTS`: where each field lives).
Stage 2 (`MAPPING_SQL`) is shared: Sysmon 3 and 5156 become connections, Sysmon 1 fills the process
details by ProcessGuid, and a 5156 event that reports the same connection as a Sysmon 3 event (same
device, protocol, local port, remote address and port, within a minute) is folded into it — it names the
process when Sysmon logged `<unknown process>` — instead of becoming a second row.
"""

from __future__ import annotations

from collections.abc import Iterator

from kqlhunt.ingest.schema import json_bag

# canonical field -> EventData names (several spellings: Security logs `ProcessID`, newer `ProcessId`)
EVENT_DATA: dict[str, tuple[str, ...]] = {
    "utc_time": ("UtcTime",), "image": ("Image",), "guid": ("ProcessGuid",),
    "pid": ("ProcessId", "ProcessID"), "user": ("User",), "proto": ("Protocol",), "initiated": ("Initiated",),
    "src_ip": ("SourceIp",), "src_host": ("SourceHostname",), "src_port": ("SourcePort",),
    "dst_ip": ("DestinationIp",), "dst_host": ("DestinationHostname",), "dst_port": ("DestinationPort",),
    "dst_port_name": ("DestinationPortName",), "application": ("Application",), "direction": ("Direction",),
    "w_src": ("SourceAddress",), "w_dst": ("DestAddress",), "w_dst_port": ("DestPort",),
    "layer": ("LayerName",), "filter_id": ("FilterRTID",), "cmdline": ("CommandLine",), "hashes": ("Hashes",),
    "parent_image": ("ParentImage",), "parent_pid": ("ParentProcessId",), "integrity": ("IntegrityLevel",),
    "company": ("Company",), "product": ("Product",), "version": ("FileVersion",),
    "description": ("Description",), "original_name": ("OriginalFileName",), "session": ("TerminalSessionId",),
    "rule": ("RuleName",),
}
STAGE_COLUMNS = ("rec", "channel", "event_id", "computer", "sys_time", "nx_time", "nx_received", "nx_ts",
                 *EVENT_DATA)

# dialect -> (prefix of EventData fields, system fields)
DIALECTS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "evtx": ("Event.EventData.", {
        "rec": ("Event.System.EventRecordID",), "channel": ("Event.System.Channel",),
        "event_id": ("Event.System.EventID.#text", "Event.System.EventID"),
        "computer": ("Event.System.Computer",),
        "sys_time": ("Event.System.TimeCreated.#attributes.SystemTime",)}),
    "nxlog": ("", {
        "rec": ("RecordNumber",), "channel": ("Channel",), "event_id": ("EventID",), "computer": ("Hostname",), "sys_time": ("TimeCreated",),
        "nx_time": ("EventTime",), "nx_received": ("EventReceivedTime",), "nx_ts": ("@timestamp",)}),
    "winlogbeat": ("winlog.event_data.", {
        "rec": ("winlog.record_id",), "channel": ("winlog.channel",), "event_id": ("winlog.event_id", "event.code"),
        "computer": ("winlog.computer_name", "host.name"), "sys_time": ("@timestamp",)}),
}


def _paths(dialect: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    prefix, system = DIALECTS[dialect]
    for name in STAGE_COLUMNS:
        if name in system:
            yield name, system[name]
        elif name in EVENT_DATA:
            yield name, tuple(prefix + key for key in EVENT_DATA[name])
        else:
            yield name, ()


def _json_path(dotted: str) -> str:
    return "$." + ".".join(f'"{part}"' for part in dotted.split("."))


def doc_query(dialect: str, source: str, column: str = "data", rec: str | None = None) -> str:
    """Stage SELECT over `source`, a table with one JSON text per record (EVTX) in `column`; `rec`
    replaces the record number taken from the document.

    All paths are extracted by one `json_extract_string(doc, [paths])`, which parses each document once
    (one call per path would parse it ~45 times).
    """
    paths: list[str] = []
    for _, candidates in _paths(dialect):
        paths.extend(p for p in candidates if p not in paths)
    listed = "[" + ", ".join(f"'{_json_path(p)}'" for p in paths) + "]"
    items = [] if rec is None else [f"{rec} AS rec"]
    for name, candidates in _paths(dialect):
        if rec is not None and name == "rec":
            continue
        exprs = [f"kh_v[{paths.index(p) + 1}]" for p in candidates]
        items.append(f"{_coalesce(exprs)} AS {name}")
    return (f"SELECT {', '.join(items)} FROM (SELECT *, json_extract_string({column}, {listed}) AS kh_v "
            f"FROM {source})")


def lines_columns(dialect: str) -> tuple[dict[str, str], str]:
    """read_json `columns` for JSON lines of this dialect, and the stage SELECT items over them.

    One-segment paths are read as VARCHAR columns; nested ones read their top key as JSON and extract.
    DuckDB matches keys case-insensitively, so `ProcessId`/`ProcessID` are one column here.
    """
    columns: dict[str, str] = {}
    items = []
    for name, paths in _paths(dialect):
        exprs = []
        for path in paths:
            top, _, rest = path.partition(".")
            if rest:
                columns[top] = "JSON"
                exprs.append(f"json_extract_string(\"{top}\", '{_json_path(rest)}')")
            else:
                if top.lower() not in {c.lower() for c in columns}:
                    columns[top] = "VARCHAR"
                key = next(c for c in columns if c.lower() == top.lower())
                exprs.append(f'CAST("{key}" AS VARCHAR)')
        items.append(f"{_coalesce(exprs)} AS {name}")
    return columns, ", ".join(items)


def _coalesce(exprs: list[str]) -> str:
    if not exprs:
        return "CAST(NULL AS VARCHAR)"
    unique = list(dict.fromkeys(exprs))
    return unique[0] if len(unique) == 1 else f"coalesce({', '.join(unique)})"


def dialect_of(sample: dict[str, object]) -> str:
    if "winlog" in sample:
        return "winlogbeat"
    if "Event" in sample:
        return "evtx"
    return "nxlog"


# ---------------------------------------------------------------- stage 2: connections

_BASENAME = "regexp_extract({0}, '[^\\\\/]*$')"


def _nz(expr: str) -> str:
    """Empty, '-' and null are all 'absent' in Windows event text."""
    return f"NULLIF(NULLIF(trim({expr}), '-'), '')"


# `stage` holds STAGE_COLUMNS; EV_SQL adds the device, event id, process guid and UTC time.
EV_SQL = """
  SELECT *, lower(computer) AS device, TRY_CAST(event_id AS INTEGER) AS eid,
    lower(trim(guid, '{} ')) AS g,
    coalesce(
      try_strptime(utc_time, ['%Y-%m-%d %H:%M:%S.%g', '%Y-%m-%d %H:%M:%S']),
      TRY_CAST(replace(replace(sys_time, 'Z', ''), 'T', ' ') AS TIMESTAMP),
      -- NXLog writes EventTime in the host's local time; its shipper's @timestamp (UTC) and
      -- EventReceivedTime (local) were taken moments apart, so their difference rounded to a quarter
      -- hour is the host's UTC offset
      TRY_CAST(nx_time AS TIMESTAMP) + to_seconds(CAST(round(date_diff('second',
        TRY_CAST(nx_received AS TIMESTAMP), TRY_CAST(replace(replace(nx_ts, 'Z', ''), 'T', ' ') AS TIMESTAMP))
        / 900.0) * 900 AS BIGINT)),
      -- last resort: the shipper's own timestamp (seconds after the event)
      TRY_CAST(replace(replace(nx_ts, 'Z', ''), 'T', ' ') AS TIMESTAMP)
    ) AS ts
  FROM stage
"""

# over `ev` (EV_SQL) and `proc_cache` (Sysmon 1 rows of `ev` kept from earlier files)
MAPPING_SQL = f"""
WITH p1 AS (
  SELECT device, g, arg_max(ts, rec_no) AS created, arg_max(cmdline, rec_no) AS cmdline,
    arg_max(hashes, rec_no) AS hashes, arg_max(parent_image, rec_no) AS parent_image,
    arg_max(parent_pid, rec_no) AS parent_pid, arg_max(integrity, rec_no) AS integrity,
    arg_max(company, rec_no) AS company, arg_max(product, rec_no) AS product,
    arg_max(version, rec_no) AS version, arg_max(description, rec_no) AS description,
    arg_max(original_name, rec_no) AS original_name, arg_max(user, rec_no) AS user,
    arg_max(session, rec_no) AS session, arg_max(image, rec_no) AS image
  FROM (SELECT *, TRY_CAST(rec AS BIGINT) AS rec_no FROM ev WHERE eid = 1 AND channel ILIKE '%sysmon%'
        UNION ALL BY NAME SELECT *, -1 AS rec_no FROM proc_cache)
  GROUP BY device, g),
s3 AS (
  SELECT *, lower(CAST(initiated AS VARCHAR)) IN ('true', '1') AS outbound,
    -- an inbound Sysmon 3 usually names the remote peer as Source; some versions put the local side
    -- there, which shows as a SourceHostname equal to the device's own name
    lower(CAST(initiated AS VARCHAR)) IN ('true', '1')
      OR split_part(lower(coalesce(src_host, '')), '.', 1) = split_part(device, '.', 1) AS src_local,
    CASE lower(proto) WHEN 'tcp' THEN 'Tcp' WHEN 'udp' THEN 'Udp' ELSE coalesce(proto, '') END AS protocol
  FROM ev WHERE eid = 3 AND channel ILIKE '%sysmon%'),
s3x AS (
  SELECT *, CASE WHEN src_local THEN src_ip ELSE dst_ip END AS local_ip,
    CASE WHEN src_local THEN src_port ELSE dst_port END AS local_port,
    CASE WHEN src_local THEN dst_ip ELSE src_ip END AS remote_ip,
    CASE WHEN src_local THEN dst_port ELSE src_port END AS remote_port,
    CASE WHEN src_local THEN dst_host ELSE src_host END AS remote_host
  FROM s3),
w AS (
  SELECT *, direction IN ('%%14593', 'Outbound') AS outbound,
    CASE TRY_CAST(proto AS INTEGER) WHEN 6 THEN 'Tcp' WHEN 17 THEN 'Udp' WHEN 1 THEN 'Icmp'
      WHEN 58 THEN 'Icmpv6' ELSE coalesce(proto, '') END AS protocol
  FROM ev WHERE eid = 5156 AND lower(channel) = 'security'),
wx AS (
  -- 5156 names the local side Source for outbound and Destination for inbound connections
  SELECT *, CASE WHEN outbound THEN w_src ELSE w_dst END AS local_ip,
    CASE WHEN outbound THEN src_port ELSE w_dst_port END AS local_port,
    CASE WHEN outbound THEN w_dst ELSE w_src END AS remote_ip,
    CASE WHEN outbound THEN w_dst_port ELSE src_port END AS remote_port
  FROM w),
pair AS (
  -- some shippers stamp 5156 with local time labelled UTC (OTRF 2022 even with a wrong date), so the
  -- window spans a day either way; the
  -- nearest event wins, and the offset the pairs show is applied to that device's unpaired 5156 events
  SELECT s.rec AS s_rec, w.rec AS w_rec, w.application, s.device,
    date_diff('second', w.ts, s.ts) AS lag,
    row_number() OVER (PARTITION BY s.rec ORDER BY abs(date_diff('millisecond', s.ts, w.ts))) AS k
  FROM s3x s JOIN wx w ON s.device = w.device AND s.protocol = w.protocol
    AND TRY_CAST(s.local_port AS INTEGER) = TRY_CAST(w.local_port AS INTEGER)
    AND s.remote_ip = w.remote_ip AND TRY_CAST(s.remote_port AS INTEGER) = TRY_CAST(w.remote_port AS INTEGER)
    AND abs(date_diff('second', s.ts, w.ts)) <= 26 * 3600),
shift AS (
  SELECT device, CAST(median(round(lag / 900.0) * 900) AS BIGINT) AS seconds FROM pair WHERE k = 1
  GROUP BY device),
conn AS (
  SELECT s.device, s.ts, s.rec, s.outbound, s.protocol, s.local_ip, s.local_port, s.remote_ip,
    s.remote_port, s.remote_host, s.g, s.pid, s.user,
    CASE WHEN s.image IS NULL OR s.image = '<unknown process>' THEN coalesce(m.application, s.image)
      ELSE s.image END AS image,
    {json_bag({"Source": "'Sysmon'", "EventID": "3", "ProcessGuid": "s.guid", "SourceHostname": _nz("s.src_host"),
               "DestinationHostname": _nz("s.dst_host"), "DestinationPortName": _nz("s.dst_port_name"),
               "RuleName": _nz("s.rule"), "SysmonImage": "s.image", "Security5156Record": "m.w_rec"})} AS extra
  FROM s3x s LEFT JOIN (SELECT * FROM pair WHERE k = 1) m ON m.s_rec = s.rec
  UNION ALL
  SELECT wx.device, wx.ts + to_seconds(coalesce(shift.seconds, 0)), rec, outbound, protocol, local_ip,
    local_port, remote_ip, remote_port, NULL, NULL, pid, NULL, application,
    {json_bag({"Source": "'Security'", "EventID": "5156", "Direction": "direction", "LayerName": "layer",
               "FilterRTID": "filter_id"})}
  FROM wx LEFT JOIN shift ON shift.device = wx.device WHERE rec NOT IN (SELECT w_rec FROM pair WHERE k = 1))
SELECT c.*, p.created, p.cmdline, p.hashes, p.parent_image, p.parent_pid, p.integrity, p.company, p.product,
  p.version, p.description, p.original_name, coalesce(c.user, p.user) AS account, p.session
FROM conn c LEFT JOIN p1 p ON c.g IS NOT NULL AND p.device = c.device AND p.g = c.g
"""


def _hash(kind: str) -> str:
    return f"lower(regexp_extract(hashes, '{kind}=([0-9A-Fa-f]+)', 1))"


# DeviceNetworkEvents column -> SQL over MAPPING_SQL's output (`src` is the SourceFile literal)
COLUMNS: dict[str, str] = {
    "Timestamp": "ts", "DeviceId": "sha1(device)", "DeviceName": "device",
    "ActionType": "CASE WHEN outbound THEN 'ConnectionSuccess' ELSE 'InboundConnectionAccepted' END",
    "RemoteIP": "remote_ip", "RemotePort": "remote_port", "RemoteUrl": _nz("remote_host"),
    "LocalIP": "local_ip", "LocalPort": "local_port", "Protocol": "protocol",
    "InitiatingProcessFileName": _BASENAME.format("image"),
    "InitiatingProcessFolderPath": "image", "InitiatingProcessId": "pid",
    "InitiatingProcessSHA1": _hash("SHA1"), "InitiatingProcessSHA256": _hash("SHA256"),
    "InitiatingProcessMD5": _hash("MD5"), "InitiatingProcessCommandLine": "cmdline",
    "InitiatingProcessCreationTime": "created",
    "InitiatingProcessParentFileName": _BASENAME.format("parent_image"),
    "InitiatingProcessParentId": "parent_pid", "InitiatingProcessIntegrityLevel": "integrity",
    "InitiatingProcessVersionInfoCompanyName": "company", "InitiatingProcessVersionInfoProductName": "product",
    "InitiatingProcessVersionInfoProductVersion": "version",
    "InitiatingProcessVersionInfoFileDescription": "description",
    "InitiatingProcessVersionInfoOriginalFileName": "original_name",
    "InitiatingProcessAccountDomain": "CASE WHEN contains(account, chr(92)) THEN split_part(account, chr(92), 1) END",
    "InitiatingProcessAccountName": "CASE WHEN contains(account, chr(92)) THEN split_part(account, chr(92), 2) "
                                    "ELSE account END",
    "InitiatingProcessSessionId": "session", "InitiatingProcessUniqueId": "g",
    "ReportId": "rec", # merge-patching onto {} drops the keys whose value is null
    "AdditionalFields": "CAST(json_merge_patch('{}', extra) AS VARCHAR)",
    "SourceRecord": "CAST(rec AS VARCHAR)",
}
