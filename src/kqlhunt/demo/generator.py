"""Deterministic demo `DeviceNetworkEvents` telemetry, streamed to a Parquet lake.

    generate_lake(lake, rows) -> GenerationSummary      # <lake>/DeviceNetworkEvents/date=YYYY-MM-DD/part-00000.parquet
    generate_table(rows) -> pyarrow.Table               # the same rows in memory (for tests)

The output is a pure function of (rows, seed, now, days). Background traffic is drawn in batches of at most
`BATCH_ROWS` rows as integer indices into small lookup tables (devices, binaries, destinations, identities;
see `catalog` and `fleet`), and string columns are built as dictionary arrays over those tables, so memory
stays bounded by one batch and no per-row Python runs. The planted activity of `plants` is appended to the
day it falls on. Column names, order and Parquet types follow docs/CONVENTIONS.md and the 45-column
Defender schema.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kqlhunt.demo import catalog as cat
from kqlhunt.demo.catalog import Binary
from kqlhunt.demo.fleet import Device, build_fleet
from kqlhunt.demo.plants import HOUR, SECOND, Burst, plant_bursts

TABLE = "DeviceNetworkEvents"
BATCH_ROWS = 1_000_000
MIN_BACKGROUND_ROWS = 1_000
DEFAULT_NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC)

# The Defender schema (Kusto types), in order.
KUSTO_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Timestamp", "datetime"), ("DeviceId", "string"), ("DeviceName", "string"), ("ActionType", "string"),
    ("RemoteIP", "string"), ("RemotePort", "int"), ("RemoteUrl", "string"), ("LocalIP", "string"),
    ("LocalPort", "int"), ("Protocol", "string"), ("LocalIPType", "string"), ("RemoteIPType", "string"),
    ("InitiatingProcessSHA1", "string"), ("InitiatingProcessSHA256", "string"),
    ("InitiatingProcessMD5", "string"), ("InitiatingProcessFileName", "string"),
    ("InitiatingProcessFileSize", "long"), ("InitiatingProcessVersionInfoCompanyName", "string"),
    ("InitiatingProcessVersionInfoProductName", "string"),
    ("InitiatingProcessVersionInfoProductVersion", "string"),
    ("InitiatingProcessVersionInfoInternalFileName", "string"),
    ("InitiatingProcessVersionInfoOriginalFileName", "string"),
    ("InitiatingProcessVersionInfoFileDescription", "string"), ("InitiatingProcessId", "long"),
    ("InitiatingProcessCommandLine", "string"), ("InitiatingProcessCreationTime", "datetime"),
    ("InitiatingProcessFolderPath", "string"), ("InitiatingProcessParentFileName", "string"),
    ("InitiatingProcessParentId", "long"), ("InitiatingProcessParentCreationTime", "datetime"),
    ("InitiatingProcessAccountDomain", "string"), ("InitiatingProcessAccountName", "string"),
    ("InitiatingProcessAccountSid", "string"), ("InitiatingProcessAccountUpn", "string"),
    ("InitiatingProcessAccountObjectId", "string"), ("InitiatingProcessIntegrityLevel", "string"),
    ("InitiatingProcessTokenElevation", "string"), ("ReportId", "long"), ("AppGuardContainerId", "string"),
    ("AdditionalFields", "dynamic"), ("InitiatingProcessSessionId", "long"),
    ("IsInitiatingProcessRemoteSession", "bool"), ("InitiatingProcessRemoteSessionDeviceName", "string"),
    ("InitiatingProcessRemoteSessionIP", "string"), ("InitiatingProcessUniqueId", "string"),
)
_ARROW = {"datetime": pa.timestamp("us"), "string": pa.string(), "int": pa.int32(), "long": pa.int64(),
          "bool": pa.bool_(), "dynamic": pa.string()}
SCHEMA = pa.schema([pa.field(n, _ARROW[t]) for n, t in KUSTO_COLUMNS])
_DICT = pa.dictionary(pa.int32(), pa.string())
# In-flight batches keep text columns dictionary-encoded (cheap to build, written as Parquet dictionary
# pages); the files' logical type is plain UTF-8 string either way.
_PLAIN_TEXT = {"InitiatingProcessUniqueId"}  # (nearly) unique per row: no dictionary
_BATCH_SCHEMA = pa.schema([pa.field(f.name, _DICT if f.type == pa.string() and f.name not in _PLAIN_TEXT
                                    else f.type) for f in SCHEMA])

ACTIONS = ("ConnectionSuccess", "ConnectionFailed", "ConnectionRequest", "ConnectionAttempt",
           "InboundConnectionAccepted", "ListeningConnectionCreated")
PROTOCOLS = ("Tcp", "Udp")
_DIRECTIONS = {"out": 0, "in": 1, "listen": 2}
_SESSION_US = 8 * HOUR  # processes "restart" every 8 h: stable PID and creation time within a session
_EPHEMERAL = (49152, 65536)


@dataclass(frozen=True)
class GenerationSummary:
    table_dir: Path | None
    files: tuple[Path, ...]
    rows: int
    background_rows: int
    planted_rows: int
    devices: int
    start: datetime
    now: datetime
    seed: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return DEFAULT_NOW
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def _us(dt: datetime) -> int:
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a fast, well-spread integer hash (uint64 in, uint64 out)."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _digests(b: Binary) -> tuple[str, str, str]:
    """(MD5, SHA1, SHA256) of a binary: stable per file, whatever name it runs under."""
    key = f"{b.original_name}|{b.company}|{b.version}|{b.size}".encode()
    return hashlib.md5(key).hexdigest(), hashlib.sha1(key).hexdigest(), hashlib.sha256(key).hexdigest()


def _norm_ip(address: str) -> str:
    return str(ipaddress.ip_address(address)) if address else ""


class _Interner:
    """Deduplicating string table -> pyarrow dictionary."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, s: str) -> int:
        return self.index.setdefault(s, len(self.index))

    def array(self) -> pa.Array:
        return pa.array(list(self.index), pa.string())


_DRAW_BITS = 16  # categorical draws use lookup tables of 2**16 cells (weights quantised to 1/65536)


def _draw_table(weights, values=None) -> np.ndarray:
    """A table of 2**_DRAW_BITS cells in which each category fills a share of cells proportional to its
    weight (largest remainder), so a uniform random cell index draws a category in one gather."""
    w = np.asarray(weights, dtype=np.float64)
    cells = _allocate(1 << _DRAW_BITS, w)
    cells[(w > 0) & (cells == 0)] = 1  # never lose a rare category entirely
    cells[np.argmax(cells)] -= cells.sum() - (1 << _DRAW_BITS)
    codes = np.arange(len(w)) if values is None else np.asarray(values)
    return np.repeat(codes, cells).astype(np.int32)


class _Model:
    """Lookup tables for one (rows, seed): everything a batch needs, as numpy arrays and Arrow dictionaries."""

    def __init__(self, rows: int, seed: int, extra_binaries: list[Binary],
                 extra_endpoints: list[tuple[str, str]]) -> None:
        self.seed = seed
        self.devices: list[Device] = build_fleet(rows, seed)
        devs = self.devices
        self.n_dev = len(devs)
        self.dev_index = {d.name: i for i, d in enumerate(devs)}
        roles = cat.ROLES
        self.dev_role = np.array([roles.index(d.role) for d in devs], dtype=np.int64)
        rng = np.random.default_rng([seed, 0x0DE1])
        activity = rng.lognormal(0.0, 0.5, self.n_dev)
        server_load = {"dc": 8.0, "fs": 6.0, "web": 5.0, "sql": 4.0, "app": 3.0}
        for i, d in enumerate(devs):
            if d.role != "wks":
                activity[i] = server_load[d.role] * (1 + 0.2 * rng.random())
        self.dev_draw = _draw_table(activity)

        # --- binaries: background catalogue first, then the planted ones (deduplicated) ---------------
        self.binaries: list[Binary] = []
        self.bin_index: dict[Binary, int] = {}
        for b in (*cat.BINARIES.values(), *extra_binaries):
            if b not in self.bin_index:
                self.bin_index[b] = len(self.binaries)
                self.binaries.append(b)
        bins = self.binaries
        catalog_key = {k: self.bin_index[b] for k, b in cat.BINARIES.items()}
        # One string table per column, so each Parquet column chunk carries only its own dictionary.
        self.texts: dict[str, _Interner] = {f.name: _Interner() for f in SCHEMA if f.type == pa.string()}
        t = self.texts
        md5s, sha1s, sha256s = zip(*(_digests(b) for b in bins), strict=True)
        self.bin_cols = {
            "InitiatingProcessSHA1": np.array([t["InitiatingProcessSHA1"](x) for x in sha1s]),
            "InitiatingProcessSHA256": np.array([t["InitiatingProcessSHA256"](x) for x in sha256s]),
            "InitiatingProcessMD5": np.array([t["InitiatingProcessMD5"](x) for x in md5s]),
            "InitiatingProcessFileName": np.array([t["InitiatingProcessFileName"](b.file_name) for b in bins]),
            "InitiatingProcessVersionInfoCompanyName": np.array([t["InitiatingProcessVersionInfoCompanyName"](b.company) for b in bins]),
            "InitiatingProcessVersionInfoProductName": np.array([t["InitiatingProcessVersionInfoProductName"](b.product) for b in bins]),
            "InitiatingProcessVersionInfoProductVersion": np.array([t["InitiatingProcessVersionInfoProductVersion"](b.version) for b in bins]),
            "InitiatingProcessVersionInfoInternalFileName": np.array(
                [t["InitiatingProcessVersionInfoInternalFileName"](b.original_name.rsplit(".", 1)[0]) for b in bins]),
            "InitiatingProcessVersionInfoOriginalFileName": np.array([t["InitiatingProcessVersionInfoOriginalFileName"](b.original_name) for b in bins]),
            "InitiatingProcessVersionInfoFileDescription": np.array([t["InitiatingProcessVersionInfoFileDescription"](b.description) for b in bins]),
            "InitiatingProcessParentFileName": np.array([t["InitiatingProcessParentFileName"](b.parent) for b in bins]),
            "InitiatingProcessIntegrityLevel": np.array([t["InitiatingProcessIntegrityLevel"](b.integrity) for b in bins]),
            "InitiatingProcessTokenElevation": np.array([t["InitiatingProcessTokenElevation"](b.elevation) for b in bins]),
        }
        self.bin_size = np.array([b.size for b in bins], dtype=np.int64)
        self.bin_account = np.array([b.account for b in bins], dtype=np.int64)
        parent_names = sorted({b.parent for b in bins})
        self.bin_parent = np.array([parent_names.index(b.parent) for b in bins], dtype=np.int64)
        # Folder path and command line may name the user: one entry per (binary, device).
        folder = np.zeros((len(bins), self.n_dev), dtype=np.int64)
        cmd = np.zeros_like(folder)
        for bi, b in enumerate(bins):
            per_user = "{user}" in b.folder or "{user}" in b.command_line
            for di, d in enumerate(devs):
                if per_user or di == 0:
                    user = d.identities[b.account].name
                    folder[bi, di] = t["InitiatingProcessFolderPath"](b.path.replace("{user}", user))
                    cmd[bi, di] = t["InitiatingProcessCommandLine"](b.command_line.replace("{user}", user))
                else:
                    folder[bi, di], cmd[bi, di] = folder[bi, 0], cmd[bi, 0]
        self.bin_folder, self.bin_cmd = folder, cmd

        # --- devices: names, identities, local addresses, remote-session origin ----------------------
        self.dev_name = np.array([t["DeviceName"](d.name) for d in devs])
        self.dev_id = np.array([t["DeviceId"](d.device_id) for d in devs])
        ident = [d.identities[k] for d in devs for k in range(cat.ACCOUNT_KINDS)]
        self.ident_cols = {
            "InitiatingProcessAccountDomain": np.array([t["InitiatingProcessAccountDomain"](i.domain) for i in ident]),
            "InitiatingProcessAccountName": np.array([t["InitiatingProcessAccountName"](i.name) for i in ident]),
            "InitiatingProcessAccountSid": np.array([t["InitiatingProcessAccountSid"](i.sid) for i in ident]),
            "InitiatingProcessAccountUpn": np.array([t["InitiatingProcessAccountUpn"](i.upn) for i in ident]),
            "InitiatingProcessAccountObjectId": np.array([t["InitiatingProcessAccountObjectId"](i.object_id) for i in ident]),
        }
        self.ident_session = np.array([i.session_id for i in ident], dtype=np.int64)
        local = []
        for d in devs:
            kinds = {cat.LOCAL_V4: d.ipv4, cat.LOCAL_V6: d.ipv6, cat.LOCAL_LOOPBACK: "127.0.0.1",
                     cat.LOCAL_MAPPED: "::ffff:" + d.ipv4, cat.LOCAL_LINKLOCAL: d.link_local}
            local.extend(_norm_ip(kinds[k]) if k != cat.LOCAL_MAPPED else kinds[k] for k in range(cat.LOCAL_KINDS))
        self.local_ip = np.array([t["LocalIP"](a) for a in local])
        self.local_type = np.array([t["LocalIPType"](cat.ip_type(a)) for a in local])
        wks = [d for d in devs if d.role == "wks"]
        admins = [wks[int(x)] for x in rng.choice(len(wks), size=min(6, len(wks)), replace=False)]
        rs_name, rs_ip = t["InitiatingProcessRemoteSessionDeviceName"], t["InitiatingProcessRemoteSessionIP"]
        self.rs_empty = rs_name(""), rs_ip("")
        self.rs_name = np.array([rs_name(admins[i % len(admins)].name if d.role != "wks" else "")
                                 for i, d in enumerate(devs)])
        self.rs_ip = np.array([rs_ip(admins[i % len(admins)].ipv4 if d.role != "wks" else "")
                               for i, d in enumerate(devs)])
        self.is_server = np.array([d.role != "wks" for d in devs])

        # --- destinations --------------------------------------------------------------------------------
        by_role: dict[str, list[Device]] = {}
        for d in devs:
            by_role.setdefault(d.role, []).append(d)
        fleet_pools = {
            "dns_internal": [cat.Endpoint(d.ipv4) for d in by_role["dc"]],
            "dc": [cat.Endpoint(d.ipv4) for d in by_role["dc"]],
            "fileserver": [cat.Endpoint(d.ipv4) for d in by_role["fs"]],
            "sqlserver": [cat.Endpoint(d.ipv4) for d in by_role["sql"]],
            "servers": [cat.Endpoint(d.ipv4) for d in devs if d.role != "wks"],
            "clients": [cat.Endpoint(d.ipv4) for d in wks],
            "appservers": [cat.Endpoint(d.ipv4) for d in devs if d.role in ("app", "web")],
        }
        pools = {name: list(eps) or fleet_pools[name] for name, eps in cat.POOLS.items()}
        endpoints: list[cat.Endpoint] = []
        pool_names = list(pools)
        self.pool_off = np.zeros(len(pool_names), dtype=np.int64)
        self.pool_len = np.zeros(len(pool_names), dtype=np.int64)
        for k, name in enumerate(pool_names):
            self.pool_off[k], self.pool_len[k] = len(endpoints), len(pools[name])
            endpoints.extend(pools[name])
        self.ep_index: dict[tuple[str, str], int] = {}
        for e in endpoints:
            self.ep_index.setdefault((e.ip, e.url), len(self.ep_index))
        for ip_url in extra_endpoints:
            self.ep_index.setdefault(ip_url, len(self.ep_index))
        ep_list = list(self.ep_index)
        pool_ep = np.array([self.ep_index[(e.ip, e.url)] for e in endpoints], dtype=np.int64)
        self.pool_ep = pool_ep
        self.ep_ip = np.array([t["RemoteIP"](_norm_ip(ip) if not ip.startswith("::ffff:") else ip)
                               for ip, _ in ep_list])
        self.ep_url = np.array([t["RemoteUrl"](url) for _, url in ep_list])
        self.ep_type = np.array([t["RemoteIPType"](cat.ip_type(ip)) for ip, _ in ep_list])
        self.no_remote = t["RemoteIP"](""), t["RemoteIPType"]("")
        t["AppGuardContainerId"]("")
        t["AdditionalFields"]("{}")
        for a in ACTIONS:
            t["ActionType"](a)
        for p in PROTOCOLS:
            t["Protocol"](p)

        # --- flows ---------------------------------------------------------------------------------------
        flows = cat.FLOWS
        self.flow_bin = np.array([catalog_key[f.binary] for f in flows], dtype=np.int32)
        self.flow_pool = np.array([pool_names.index(f.pool) for f in flows], dtype=np.int32)
        self.flow_dir = np.array([_DIRECTIONS[f.direction] for f in flows], dtype=np.int32)
        self.flow_proto = np.array([t["Protocol"](f.protocol) for f in flows], dtype=np.int32)
        self.flow_local = np.array([f.local for f in flows], dtype=np.int32)
        # Per-flow port and action draws, and per-role flow draws, as flat lookup tables.
        self.port_draw = np.concatenate([_draw_table([w for _, w in f.ports], [p for p, _ in f.ports])
                                         for f in flows])
        self.act_draw = np.concatenate([_draw_table([w for _, w in f.actions],
                                                    [t["ActionType"](a) for a, _ in f.actions]) for f in flows])
        self.flow_draw = np.concatenate([_draw_table([f.weights.get(role, 0.0) for f in flows])
                                         if any(f.weights.get(role) for f in flows)
                                         else np.zeros(1 << _DRAW_BITS, np.int32) for role in roles])
        self.dictionaries = {name: interner.array() for name, interner in t.items()}
        self._compact()

    def _compact(self) -> None:
        """Index tables as int32: gathers then yield Arrow dictionary indices without a conversion pass."""
        def small(a):
            return a.astype(np.int32) if isinstance(a, np.ndarray) and a.dtype == np.int64 else a
        for name, value in list(vars(self).items()):
            if name in ("bin_size", "ident_session"):
                continue
            if isinstance(value, dict):
                setattr(self, name, {k: small(v) for k, v in value.items()})
            else:
                setattr(self, name, small(value))

    # ------------------------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, ts: np.ndarray, first_row: int) -> pa.RecordBatch:
        """Background rows at the given (sorted) timestamps."""
        n = len(ts)
        # One 64-bit draw per row feeds four 16-bit categorical choices.
        bits = rng.bit_generator.random_raw(n).view(np.int64)
        mask = (1 << _DRAW_BITS) - 1
        dev = self.dev_draw[bits & mask]
        cell = (bits >> _DRAW_BITS) & mask
        flow = self.flow_draw[self.dev_role[dev] * (1 << _DRAW_BITS) + cell]
        service = self.port_draw[(flow << _DRAW_BITS) + ((bits >> 2 * _DRAW_BITS) & mask)]
        action = self.act_draw[(flow << _DRAW_BITS) + ((bits >> 3 * _DRAW_BITS) & mask)]
        pool = self.flow_pool[flow]
        pick = (rng.random(n, dtype=np.float32) ** 2 * self.pool_len[pool]).astype(np.int32)  # popular first
        ep = self.pool_ep[self.pool_off[pool] + pick]
        ephemeral = rng.integers(*_EPHEMERAL, n, dtype=np.int32)
        direction = self.flow_dir[flow]
        remote_port = np.where(direction == 0, service, ephemeral)
        local_port = np.where(direction == 0, ephemeral, service)
        return self._materialize(ts, dev, self.flow_bin[flow], ep, remote_port, direction != 2, local_port,
                                 action, self.flow_proto[flow], self.flow_local[flow], first_row)

    def planted(self, bursts: list[Burst], first_row: int) -> pa.RecordBatch:
        """Rows for planted bursts (already restricted to one day), sorted by time."""
        parts = []
        for b in bursts:
            n = len(b.times)
            full = np.full
            parts.append((b.times, full(n, self.dev_index[b.device]), full(n, self.bin_index[b.binary]),
                          full(n, self.ep_index[(b.remote_ip, b.url)]), full(n, b.remote_port),
                          full(n, self.texts["ActionType"].index[b.action]),
                          full(n, self.texts["Protocol"].index[b.protocol]),
                          full(n, b.local)))
        ts, dev, binary, ep, rport, action, proto, local = (np.concatenate(c) for c in zip(*parts, strict=True))
        order = np.argsort(ts, kind="stable")
        ts, dev, binary, ep, rport, action, proto, local = (
            a[order] for a in (ts, dev, binary, ep, rport, action, proto, local))
        rng = np.random.default_rng([self.seed, int(ts[0]) & 0x7FFFFFFF, 0x9A])
        lport = rng.integers(*_EPHEMERAL, len(ts))
        return self._materialize(ts.astype(np.int64), dev, binary, ep, rport, np.ones(len(ts), bool), lport,
                                 action, proto, local, first_row)

    def _materialize(self, ts, dev, binary, ep, remote_port, has_remote_port, local_port, action, proto, local,
                     first_row: int) -> pa.RecordBatch:
        n = len(ts)
        dictionaries = self.dictionaries

        def text(column: str, idx: np.ndarray) -> pa.DictionaryArray:
            return pa.DictionaryArray.from_arrays(pa.array(idx.astype(np.int32, copy=False)),
                                                  dictionaries[column])

        def const(column: str, value: str) -> pa.DictionaryArray:
            return text(column, np.full(n, self.texts[column].index[value], dtype=np.int32))

        account = self.bin_account[binary]
        ident = dev * cat.ACCOUNT_KINDS + account
        # Process instances: a session per (device, binary) every 8 h, with a stable PID and creation time.
        key = (dev.astype(np.uint64) * np.uint64(1_000_003) + binary.astype(np.uint64)) ^ np.uint64(self.seed)
        offset = (_mix(key) % np.uint64(_SESSION_US)).astype(np.int64)
        session = (ts - offset) // _SESSION_US
        created = session * _SESSION_US + offset
        inst = _mix(key * np.uint64(0x9E3779B97F4A7C15) + session.astype(np.uint64))
        pid = (inst % np.uint64(12_000)).astype(np.int64) * 4 + 400
        pkey = _mix((dev.astype(np.uint64) << np.uint64(20)) + self.bin_parent[binary].astype(np.uint64)
                    + session.astype(np.uint64))
        ppid = (pkey % np.uint64(3_000)).astype(np.int64) * 4 + 100
        pcreated = created - (pkey >> np.uint64(40)).astype(np.int64) % HOUR - SECOND
        remote_session = self.is_server[dev] & (account == cat.USER)
        ts_type = pa.timestamp("us")
        cols = {
            "Timestamp": pa.array(ts, ts_type),
            "DeviceId": text("DeviceId", self.dev_id[dev]),
            "DeviceName": text("DeviceName", self.dev_name[dev]),
            "ActionType": text("ActionType", action),
            "RemoteIP": text("RemoteIP", np.where(has_remote_port, self.ep_ip[ep], self.no_remote[0])),
            "RemotePort": pa.array(remote_port.astype(np.int32), pa.int32(), mask=~has_remote_port),
            "RemoteUrl": text("RemoteUrl", self.ep_url[ep]),
            "LocalIP": text("LocalIP", self.local_ip[dev * cat.LOCAL_KINDS + local]),
            "LocalPort": pa.array(local_port.astype(np.int32), pa.int32()),
            "Protocol": text("Protocol", proto),
            "LocalIPType": text("LocalIPType", self.local_type[dev * cat.LOCAL_KINDS + local]),
            "RemoteIPType": text("RemoteIPType", np.where(has_remote_port, self.ep_type[ep], self.no_remote[1])),
        }
        for name in ("InitiatingProcessSHA1", "InitiatingProcessSHA256", "InitiatingProcessMD5",
                     "InitiatingProcessFileName"):
            cols[name] = text(name, self.bin_cols[name][binary])
        cols["InitiatingProcessFileSize"] = pa.array(self.bin_size[binary], pa.int64())
        for name in ("InitiatingProcessVersionInfoCompanyName", "InitiatingProcessVersionInfoProductName",
                     "InitiatingProcessVersionInfoProductVersion", "InitiatingProcessVersionInfoInternalFileName",
                     "InitiatingProcessVersionInfoOriginalFileName",
                     "InitiatingProcessVersionInfoFileDescription"):
            cols[name] = text(name, self.bin_cols[name][binary])
        cols["InitiatingProcessId"] = pa.array(pid, pa.int64())
        cols["InitiatingProcessCommandLine"] = text("InitiatingProcessCommandLine", self.bin_cmd[binary, dev])
        cols["InitiatingProcessCreationTime"] = pa.array(created, ts_type)
        cols["InitiatingProcessFolderPath"] = text("InitiatingProcessFolderPath", self.bin_folder[binary, dev])
        for name in ("InitiatingProcessParentFileName", "InitiatingProcessIntegrityLevel",
                     "InitiatingProcessTokenElevation"):
            cols[name] = text(name, self.bin_cols[name][binary])
        cols["InitiatingProcessParentId"] = pa.array(ppid, pa.int64())
        cols["InitiatingProcessParentCreationTime"] = pa.array(pcreated, ts_type)
        for name, table in self.ident_cols.items():
            cols[name] = text(name, table[ident])
        cols["ReportId"] = pa.array(np.arange(first_row, first_row + n, dtype=np.int64) * 3 + 10_007, pa.int64())
        cols["AppGuardContainerId"] = const("AppGuardContainerId", "")
        cols["AdditionalFields"] = const("AdditionalFields", "{}")
        cols["InitiatingProcessSessionId"] = pa.array(self.ident_session[ident], pa.int64())
        cols["IsInitiatingProcessRemoteSession"] = pa.array(remote_session, pa.bool_())
        cols["InitiatingProcessRemoteSessionDeviceName"] = text(
            "InitiatingProcessRemoteSessionDeviceName", np.where(remote_session, self.rs_name[dev], self.rs_empty[0]))
        cols["InitiatingProcessRemoteSessionIP"] = text(
            "InitiatingProcessRemoteSessionIP", np.where(remote_session, self.rs_ip[dev], self.rs_empty[1]))
        cols["InitiatingProcessUniqueId"] = pa.array((inst >> np.uint64(12)).astype(np.int64)).cast(pa.string())
        return pa.RecordBatch.from_arrays([cols[f.name] for f in _BATCH_SCHEMA], schema=_BATCH_SCHEMA)


# --------------------------------------------------------------------------------------------------------------
# Time layout: hourly slots weighted by a working-day profile, grouped by UTC day.

def _diurnal(hour: int, weekday: int) -> float:
    if weekday >= 5:
        return 0.3
    if 8 <= hour < 18:
        return 1.0
    if hour in (7, 18, 19):
        return 0.55
    return 0.25


def _slots(start_us: int, end_us: int) -> list[tuple[int, int, float]]:
    """(slot start, slot length, weight) for UTC-hour-aligned slots covering [start, end)."""
    out = []
    t = start_us
    while t < end_us:
        nxt = min(end_us, (t // HOUR + 1) * HOUR)
        dt = datetime.fromtimestamp(t / 1e6, UTC)
        out.append((t, nxt - t, (nxt - t) / HOUR * _diurnal(dt.hour, dt.weekday())))
        t = nxt
    return out


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder apportionment: integer counts summing to `total`, deterministic."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(np.int64)
    rest = total - counts.sum()
    if rest:
        order = np.lexsort((np.arange(len(share)), -(share - counts)))
        counts[order[:rest]] += 1
    return counts


def _day_of(t_us: int) -> date:
    return datetime.fromtimestamp(t_us // SECOND, UTC).date()


@dataclass
class _Plan:
    """What to generate: the lookup tables, the background row count per hourly slot and the planted bursts."""

    model: _Model
    seed: int
    background_rows: int
    planted_rows: int
    slots_by_day: dict[date, list[tuple[int, int, int]]]
    planted_by_day: dict[date, list[Burst]]

    def batches(self) -> Iterator[tuple[date, pa.RecordBatch]]:
        """(day, batch) in time order: background batches of at most BATCH_ROWS rows, then the day's plants."""
        row = 0
        for day, day_slots in self.slots_by_day.items():
            for k, piece in enumerate(_pieces(day_slots)):
                rng = np.random.default_rng([self.seed, day.toordinal(), k, 0xBA7C4])
                counts = [c for _, _, c in piece]
                starts = np.repeat(np.array([s for s, _, _ in piece], np.int64), counts)
                lengths = np.repeat(np.array([ln for _, ln, _ in piece], np.int64), counts)
                ts = np.sort(starts + (rng.random(len(starts)) * lengths).astype(np.int64))
                yield day, self.model.sample(rng, ts, row)
                row += len(ts)
            if day in self.planted_by_day:
                batch = self.model.planted(self.planted_by_day[day], row)
                yield day, batch
                row += batch.num_rows


def _pieces(day_slots: list[tuple[int, int, int]]) -> list[list[tuple[int, int, int]]]:
    """Split a day's (slot start, length, count) into batches of at most BATCH_ROWS rows."""
    pieces: list[list[tuple[int, int, int]]] = [[]]
    room = BATCH_ROWS
    for s, length, c in day_slots:
        while c > 0:
            take = min(c, room)
            pieces[-1].append((s, length, take))
            c -= take
            room -= take
            if room == 0:
                pieces.append([])
                room = BATCH_ROWS
    return [p for p in pieces if p]


def _plan(rows: int, seed: int, now: datetime | None, days: int) -> _Plan:
    if rows <= 0:
        raise ValueError("rows must be positive")
    if days < 1:
        raise ValueError("days must be at least 1")
    end_us = _us(_utc(now))
    start_us = end_us - days * 24 * HOUR
    bursts = [b for b in plant_bursts(end_us, days, seed) if len(b.times)]
    for b in bursts:
        if b.times.min() < start_us or b.times.max() >= end_us:
            raise AssertionError(f"planted burst outside the window: {b.binary.file_name}")
    planted_rows = sum(len(b.times) for b in bursts)
    background = rows - planted_rows
    if background < MIN_BACKGROUND_ROWS:
        raise ValueError(f"rows must be at least {planted_rows + MIN_BACKGROUND_ROWS} "
                         f"({planted_rows} planted rows + background)")
    model = _Model(rows, seed, [b.binary for b in bursts], [(b.remote_ip, b.url) for b in bursts])
    slots = _slots(start_us, end_us)
    counts = _allocate(background, np.array([w for _, _, w in slots]))
    slots_by_day: dict[date, list[tuple[int, int, int]]] = {}
    for (s, length, _), c in zip(slots, counts, strict=True):
        slots_by_day.setdefault(_day_of(s), []).append((s, length, int(c)))
    planted_by_day: dict[date, list[Burst]] = {}
    for b in bursts:
        day_of_event = np.array([_day_of(int(t)) for t in b.times])
        for d in sorted(set(day_of_event)):
            planted_by_day.setdefault(d, []).append(replace(b, times=b.times[day_of_event == d]))
    return _Plan(model, seed, background, planted_rows, slots_by_day, planted_by_day)


def generate_table(rows: int, *, seed: int = 7, now: datetime | None = None, days: int = 7) -> pa.Table:
    """All rows in memory, with the lake's Arrow schema (plain strings)."""
    batches = [b for _, b in _plan(rows, seed, now, days).batches()]
    return pa.Table.from_batches(batches, schema=_BATCH_SCHEMA).cast(SCHEMA)


# Parquet settings: dictionary pages for text and low-cardinality numbers; min/max statistics only for
# non-text columns (Timestamp pruning matters; string min/max costs half the write time and helps nobody).
_DICTIONARY_COLUMNS = [f.name for f in _BATCH_SCHEMA if pa.types.is_dictionary(f.type)] + [
    "InitiatingProcessFileSize", "InitiatingProcessSessionId", "RemotePort", "IsInitiatingProcessRemoteSession"]
_STATISTICS_COLUMNS = [f.name for f in SCHEMA if f.type != pa.string()]
_QUEUE_DEPTH = 2  # batches generated ahead of the writer (bounds memory)


def _produce(plan: _Plan, out: queue.Queue) -> None:
    try:
        for item in plan.batches():
            out.put(item)
        out.put(None)
    except BaseException as exc:  # surfaced by the writer thread
        out.put(exc)


def generate_lake(lake: Path, rows: int, *, seed: int = 7, now: datetime | None = None,
                  days: int = 7) -> GenerationSummary:
    """Write `<lake>/DeviceNetworkEvents/date=YYYY-MM-DD/part-00000.parquet`, one file per UTC day, one row
    group per batch. A producer thread generates the next batch while this one writes (numpy and the
    Parquet writer both release the GIL). Existing files of the table are replaced."""
    t0 = time.perf_counter()
    table_dir = Path(lake) / TABLE
    if table_dir.exists():
        for old in table_dir.glob("date=*/part-*.parquet"):
            old.unlink()
    plan = _plan(rows, seed, now, days)
    batches: queue.Queue = queue.Queue(maxsize=_QUEUE_DEPTH)
    producer = threading.Thread(target=_produce, args=(plan, batches), daemon=True)
    producer.start()
    files: list[Path] = []
    writer: pq.ParquetWriter | None = None
    current: date | None = None
    try:
        while (item := batches.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            day, batch = item
            if day != current:
                if writer is not None:
                    writer.close()
                path = table_dir / f"date={day.isoformat()}" / "part-00000.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                # store_schema=False: readers see the Parquet logical types (string, timestamp[us]) rather
                # than the in-flight dictionary encoding.
                writer = pq.ParquetWriter(path, _BATCH_SCHEMA, compression="snappy", store_schema=False,
                                          use_dictionary=_DICTIONARY_COLUMNS,
                                          write_statistics=_STATISTICS_COLUMNS)
                files.append(path)
                current = day
            writer.write_batch(batch, row_group_size=batch.num_rows)
    finally:
        if writer is not None:
            writer.close()
        while producer.is_alive():  # unblock a producer stuck on a full queue after an error
            with contextlib.suppress(queue.Empty):
                batches.get(timeout=0.1)
    now_dt = _utc(now)
    return GenerationSummary(table_dir, tuple(files), plan.background_rows + plan.planted_rows,
                             plan.background_rows, plan.planted_rows, plan.model.n_dev,
                             now_dt - timedelta(days=days), now_dt, seed, time.perf_counter() - t0)
