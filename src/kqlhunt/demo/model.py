"""Lookup tables for one generated dataset, and the vectorised rows drawn from them.

`TableModel(rows, seed, ...)` turns the catalogue (binaries, destinations, flows) and the fleet (devices,
identities, addresses) into integer-indexed tables. A batch of rows is then a handful of integer index
arrays - device, binary, destination, port, action, ... - and every text column is an Arrow dictionary array
over the column's own string table, so no per-row Python runs and memory is a few bytes per cell.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa

from kqlhunt.demo import catalog as cat
from kqlhunt.demo.catalog import Binary
from kqlhunt.demo.fleet import Device, build_fleet
from kqlhunt.demo.plants import HOUR, SECOND, Burst
from kqlhunt.demo.schema import ACTIONS, BATCH_SCHEMA, PROTOCOLS, TEXT_COLUMNS

_DIRECTIONS = {"out": 0, "in": 1, "listen": 2}
_SESSION_US = 8 * HOUR  # processes "restart" every 8 h: stable PID and creation time within a session
_EPHEMERAL = (49152, 65536)
_DRAW_BITS = 16  # categorical draws use lookup tables of 2**16 cells (weights quantised to 1/65536)
_DRAW_MASK = (1 << _DRAW_BITS) - 1

# Per-binary text columns and how a Binary provides them.
_BINARY_TEXT: dict[str, Callable[[Binary], str]] = {
    "InitiatingProcessFileName": lambda b: b.file_name,
    "InitiatingProcessVersionInfoCompanyName": lambda b: b.company,
    "InitiatingProcessVersionInfoProductName": lambda b: b.product,
    "InitiatingProcessVersionInfoProductVersion": lambda b: b.version,
    "InitiatingProcessVersionInfoInternalFileName": lambda b: b.original_name.rsplit(".", 1)[0],
    "InitiatingProcessVersionInfoOriginalFileName": lambda b: b.original_name,
    "InitiatingProcessVersionInfoFileDescription": lambda b: b.description,
    "InitiatingProcessParentFileName": lambda b: b.parent,
    "InitiatingProcessIntegrityLevel": lambda b: b.integrity,
    "InitiatingProcessTokenElevation": lambda b: b.elevation,
}
_DIGEST_COLUMNS = ("InitiatingProcessMD5", "InitiatingProcessSHA1", "InitiatingProcessSHA256")
_IDENTITY_TEXT = {
    "InitiatingProcessAccountDomain": lambda i: i.domain,
    "InitiatingProcessAccountName": lambda i: i.name,
    "InitiatingProcessAccountSid": lambda i: i.sid,
    "InitiatingProcessAccountUpn": lambda i: i.upn,
    "InitiatingProcessAccountObjectId": lambda i: i.object_id,
}


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a fast, well-spread integer hash (uint64 in, uint64 out)."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder apportionment: integer counts proportional to `weights` summing to `total`."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(np.int64)
    rest = int(total - counts.sum())
    if rest:
        order = np.lexsort((np.arange(len(share)), -(share - counts)))
        counts[order[:rest]] += 1
    return counts


def _draw_table(weights: Iterable[float], values: Iterable[int] | None = None) -> np.ndarray:
    """2**_DRAW_BITS cells, each category filling a share proportional to its weight: a uniform random cell
    index then draws a category with one gather."""
    w = np.asarray(list(weights), dtype=np.float64)
    if w.sum() <= 0:
        return np.zeros(1 << _DRAW_BITS, np.int32)
    cells = allocate(1 << _DRAW_BITS, w)
    cells[(w > 0) & (cells == 0)] = 1  # never lose a rare category entirely
    cells[np.argmax(cells)] -= cells.sum() - (1 << _DRAW_BITS)
    codes = np.arange(len(w)) if values is None else np.asarray(list(values))
    return np.repeat(codes, cells).astype(np.int32)


def _digests(b: Binary) -> tuple[str, str, str]:
    """(MD5, SHA1, SHA256) of a binary: stable per file, whatever name it runs under."""
    key = f"{b.original_name}|{b.company}|{b.version}|{b.size}".encode()
    return hashlib.md5(key).hexdigest(), hashlib.sha1(key).hexdigest(), hashlib.sha256(key).hexdigest()


def _canonical_ip(address: str) -> str:
    """Compressed lowercase form; IPv4-mapped IPv6 keeps Defender's dotted tail (::ffff:a.b.c.d)."""
    if not address or address.startswith("::ffff:"):
        return address
    return str(ipaddress.ip_address(address))


class _Strings:
    """One deduplicated string table per text column (so each Parquet column chunk gets only its own
    dictionary): `code(column, value)` interns, `dictionary(column)` is the Arrow array."""

    def __init__(self) -> None:
        self.codes: dict[str, dict[str, int]] = {c: {} for c in TEXT_COLUMNS}

    def code(self, column: str, value: str) -> int:
        table = self.codes[column]
        return table.setdefault(value, len(table))

    def codes_of(self, column: str, values: Iterable[str]) -> np.ndarray:
        return np.array([self.code(column, v) for v in values], dtype=np.int32)

    def arrays(self) -> dict[str, pa.Array]:
        return {c: pa.array(list(t), pa.string()) for c, t in self.codes.items()}


class TableModel:
    """Everything a batch needs for one (rows, seed): devices, binaries, destinations and flow tables."""

    def __init__(self, rows: int, seed: int, extra_binaries: list[Binary],
                 extra_endpoints: list[tuple[str, str]]) -> None:
        self.seed = seed
        self.strings = _Strings()
        rng = np.random.default_rng([seed, 0x0DE1])
        self.devices: list[Device] = build_fleet(rows, seed)
        self._init_devices(rng)
        self._init_binaries(extra_binaries)
        pool_names = self._init_destinations(extra_endpoints)
        self._init_flows(pool_names)
        s = self.strings
        for column, value in (("AppGuardContainerId", ""), ("AdditionalFields", "{}")):
            s.code(column, value)
        self.action_code = {a: s.code("ActionType", a) for a in ACTIONS}
        self.protocol_code = {p: s.code("Protocol", p) for p in PROTOCOLS}
        self.dictionaries = s.arrays()

    @property
    def n_dev(self) -> int:
        return len(self.devices)

    def _init_devices(self, rng: np.random.Generator) -> None:
        s, devs = self.strings, self.devices
        self.dev_index = {d.name: i for i, d in enumerate(devs)}
        self.dev_role = np.array([cat.ROLES.index(d.role) for d in devs], dtype=np.int32)
        self.is_server = np.array([d.role != "wks" for d in devs])
        # Activity: workstations vary (lognormal), servers are busy.
        activity = rng.lognormal(0.0, 0.5, len(devs))
        server_load = {"dc": 8.0, "fs": 6.0, "web": 5.0, "sql": 4.0, "app": 3.0}
        for i, d in enumerate(devs):
            if d.role != "wks":
                activity[i] = server_load[d.role] * (1 + 0.2 * rng.random())
        self.dev_draw = _draw_table(activity)
        self.dev_name = s.codes_of("DeviceName", (d.name for d in devs))
        self.dev_id = s.codes_of("DeviceId", (d.device_id for d in devs))
        # Identities by (device, account kind).
        ident = [d.identities[k] for d in devs for k in range(cat.ACCOUNT_KINDS)]
        self.ident_cols = {c: s.codes_of(c, map(get, ident)) for c, get in _IDENTITY_TEXT.items()}
        self.ident_session = np.array([i.session_id for i in ident], dtype=np.int64)
        # Local addresses by (device, local kind).
        local = []
        for d in devs:
            kinds = {cat.LOCAL_V4: d.ipv4, cat.LOCAL_V6: d.ipv6, cat.LOCAL_LOOPBACK: "127.0.0.1",
                     cat.LOCAL_MAPPED: "::ffff:" + d.ipv4, cat.LOCAL_LINKLOCAL: d.link_local}
            local.extend(_canonical_ip(kinds[k]) for k in range(cat.LOCAL_KINDS))
        self.local_ip = s.codes_of("LocalIP", local)
        self.local_type = s.codes_of("LocalIPType", map(cat.ip_type, local))
        # Remote (RDP) sessions on servers come from a few admin workstations.
        wks = [d for d in devs if d.role == "wks"]
        admins = [wks[int(x)] for x in rng.choice(len(wks), size=min(6, len(wks)), replace=False)]
        origin = [admins[i % len(admins)] if d.role != "wks" else None for i, d in enumerate(devs)]
        self.rs_name = s.codes_of("InitiatingProcessRemoteSessionDeviceName",
                                  (o.name if o else "" for o in origin))
        self.rs_ip = s.codes_of("InitiatingProcessRemoteSessionIP", (o.ipv4 if o else "" for o in origin))
        self.rs_none = (s.code("InitiatingProcessRemoteSessionDeviceName", ""),
                        s.code("InitiatingProcessRemoteSessionIP", ""))

    def _init_binaries(self, extra: list[Binary]) -> None:
        s, devs = self.strings, self.devices
        self.binaries: list[Binary] = []
        self.bin_index: dict[Binary, int] = {}
        for b in (*cat.BINARIES.values(), *extra):  # background catalogue first, then planted binaries
            if b not in self.bin_index:
                self.bin_index[b] = len(self.binaries)
                self.binaries.append(b)
        bins = self.binaries
        self.bin_cols = {c: s.codes_of(c, map(get, bins)) for c, get in _BINARY_TEXT.items()}
        for column, values in zip(_DIGEST_COLUMNS, zip(*map(_digests, bins), strict=True), strict=True):
            self.bin_cols[column] = s.codes_of(column, values)
        self.bin_size = np.array([b.size for b in bins], dtype=np.int64)
        self.bin_account = np.array([b.account for b in bins], dtype=np.int32)
        parents = sorted({b.parent for b in bins})
        self.bin_parent = np.array([parents.index(b.parent) for b in bins], dtype=np.int32)
        # Folder path and command line may name the user: one entry per (binary, device).
        self.bin_folder = np.zeros((len(bins), len(devs)), dtype=np.int32)
        self.bin_cmd = np.zeros_like(self.bin_folder)
        for bi, b in enumerate(bins):
            per_user = "{user}" in b.folder or "{user}" in b.command_line
            for di, d in enumerate(devs if per_user else devs[:1]):
                user = d.identities[b.account].name
                path, cmd = b.path.replace("{user}", user), b.command_line.replace("{user}", user)
                self.bin_folder[bi, di] = s.code("InitiatingProcessFolderPath", path)
                self.bin_cmd[bi, di] = s.code("InitiatingProcessCommandLine", cmd)
            if not per_user:
                self.bin_folder[bi, :], self.bin_cmd[bi, :] = self.bin_folder[bi, 0], self.bin_cmd[bi, 0]

    def _init_destinations(self, extra: list[tuple[str, str]]) -> list[str]:
        s, devs = self.strings, self.devices

        def ips(roles: tuple[str, ...]) -> list[cat.Endpoint]:
            return [cat.Endpoint(d.ipv4) for d in devs if d.role in roles]

        fleet_pools = {"dns_internal": ips(("dc",)), "dc": ips(("dc",)), "fileserver": ips(("fs",)),
                       "sqlserver": ips(("sql",)), "servers": ips(("dc", "fs", "sql", "web", "app")),
                       "clients": ips(("wks",)), "appservers": ips(("app", "web"))}
        pools = {name: list(eps) or fleet_pools[name] for name, eps in cat.POOLS.items()}
        endpoints: list[tuple[str, str]] = []
        self.pool_off = np.zeros(len(pools), dtype=np.int32)
        self.pool_len = np.zeros(len(pools), dtype=np.int32)
        for k, eps in enumerate(pools.values()):
            self.pool_off[k], self.pool_len[k] = len(endpoints), len(eps)
            endpoints.extend((e.ip, e.url) for e in eps)
        self.ep_index: dict[tuple[str, str], int] = {}
        for ep in (*endpoints, *extra):
            self.ep_index.setdefault(ep, len(self.ep_index))
        self.pool_ep = np.array([self.ep_index[ep] for ep in endpoints], dtype=np.int32)
        ip_list = [_canonical_ip(ip) for ip, _ in self.ep_index]
        self.ep_ip = s.codes_of("RemoteIP", ip_list)
        self.ep_url = s.codes_of("RemoteUrl", (url for _, url in self.ep_index))
        self.ep_type = s.codes_of("RemoteIPType", map(cat.ip_type, ip_list))
        self.no_remote = s.code("RemoteIP", ""), s.code("RemoteIPType", "")
        return list(pools)

    def _init_flows(self, pool_names: list[str]) -> None:
        s, flows = self.strings, cat.FLOWS
        catalog_bin = {k: self.bin_index[b] for k, b in cat.BINARIES.items()}
        self.flow_bin = np.array([catalog_bin[f.binary] for f in flows], dtype=np.int32)
        self.flow_pool = np.array([pool_names.index(f.pool) for f in flows], dtype=np.int32)
        self.flow_dir = np.array([_DIRECTIONS[f.direction] for f in flows], dtype=np.int32)
        self.flow_proto = np.array([s.code("Protocol", f.protocol) for f in flows], dtype=np.int32)
        self.flow_local = np.array([f.local for f in flows], dtype=np.int32)
        # Flat lookup tables: port and action per flow, flow per device role.
        self.port_draw = np.concatenate([_draw_table((w for _, w in f.ports), (p for p, _ in f.ports))
                                         for f in flows])
        self.act_draw = np.concatenate([_draw_table((w for _, w in f.actions),
                                                    (s.code("ActionType", a) for a, _ in f.actions))
                                        for f in flows])
        self.flow_draw = np.concatenate([_draw_table(f.weights.get(role, 0.0) for f in flows)
                                         for role in cat.ROLES])

    # ------------------------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, ts: np.ndarray, first_row: int) -> pa.RecordBatch:
        """Background rows at the given (sorted, microsecond) timestamps."""
        n = len(ts)
        bits = rng.bit_generator.random_raw(n).view(np.int64)  # one 64-bit draw feeds four 16-bit choices
        dev = self.dev_draw[bits & _DRAW_MASK]
        flow = self.flow_draw[(self.dev_role[dev] << _DRAW_BITS) + ((bits >> _DRAW_BITS) & _DRAW_MASK)]
        # Store a batch grouped by (device, flow), in time order within a group: the many columns that
        # depend only on the device or the binary then form long runs, which Parquet's RLE/dictionary
        # encoding writes about twice as fast and much smaller. A batch still covers one time slice, so
        # row-group Timestamp statistics keep pruning.
        order = np.argsort(dev * len(cat.FLOWS) + flow, kind="stable")
        ts, dev, flow, bits = ts[order], dev[order], flow[order], bits[order]
        service = self.port_draw[(flow << _DRAW_BITS) + ((bits >> 2 * _DRAW_BITS) & _DRAW_MASK)]
        action = self.act_draw[(flow << _DRAW_BITS) + ((bits >> 3 * _DRAW_BITS) & _DRAW_MASK)]
        pool = self.flow_pool[flow]
        pick = (rng.random(n, dtype=np.float32) ** 2 * self.pool_len[pool]).astype(np.int32)  # popular first
        ep = self.pool_ep[self.pool_off[pool] + pick]
        ephemeral = rng.integers(*_EPHEMERAL, n, dtype=np.int32)
        direction = self.flow_dir[flow]
        remote_port = np.where(direction == 0, service, ephemeral)
        local_port = np.where(direction == 0, ephemeral, service)
        return self._rows(ts, dev, self.flow_bin[flow], ep, remote_port, direction != 2, local_port, action,
                          self.flow_proto[flow], self.flow_local[flow], first_row)

    def planted(self, bursts: list[Burst], first_row: int) -> pa.RecordBatch:
        """Rows for planted bursts (of one day), in time order."""
        parts = []
        for b in bursts:
            codes = (self.dev_index[b.device], self.bin_index[b.binary], self.ep_index[(b.remote_ip, b.url)],
                     b.remote_port, self.action_code[b.action], self.protocol_code[b.protocol], b.local)
            parts.append((b.times, *(np.full(len(b.times), c, dtype=np.int32) for c in codes)))
        columns = [np.concatenate(c) for c in zip(*parts, strict=True)]
        order = np.argsort(columns[0], kind="stable")
        ts, dev, binary, ep, rport, action, proto, local = (c[order] for c in columns)
        rng = np.random.default_rng([self.seed, int(ts[0]) & 0x7FFFFFFF, 0x9A])
        lport = rng.integers(*_EPHEMERAL, len(ts), dtype=np.int32)
        return self._rows(ts.astype(np.int64), dev, binary, ep, rport, np.ones(len(ts), bool), lport, action,
                          proto, local, first_row)

    def _rows(self, ts, dev, binary, ep, remote_port, has_remote, local_port, action, proto, local,
              first_row: int) -> pa.RecordBatch:
        n = len(ts)
        dictionaries = self.dictionaries
        cols: dict[str, pa.Array] = {}

        def text(column: str, codes: np.ndarray) -> None:
            cols[column] = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32, copy=False)),
                                                          dictionaries[column])

        account = self.bin_account[binary]
        ident = dev * cat.ACCOUNT_KINDS + account
        local_slot = dev * cat.LOCAL_KINDS + local
        # Process instances: a session per (device, binary) every 8 h with a stable PID and creation time.
        key = (dev.astype(np.uint64) * np.uint64(1_000_003) + binary.astype(np.uint64)) ^ np.uint64(self.seed)
        offset = (mix64(key) % np.uint64(_SESSION_US)).astype(np.int64)
        session = (ts - offset) // _SESSION_US
        created = session * _SESSION_US + offset
        instance = mix64(key * np.uint64(0x9E3779B97F4A7C15) + session.astype(np.uint64))
        parent = mix64((dev.astype(np.uint64) << np.uint64(20)) + self.bin_parent[binary].astype(np.uint64)
                       + session.astype(np.uint64))
        remote_session = self.is_server[dev] & (account == cat.USER)
        us = pa.timestamp("us")

        cols["Timestamp"] = pa.array(ts, us)
        text("DeviceId", self.dev_id[dev])
        text("DeviceName", self.dev_name[dev])
        text("ActionType", action)
        text("RemoteIP", np.where(has_remote, self.ep_ip[ep], self.no_remote[0]))
        cols["RemotePort"] = pa.array(remote_port.astype(np.int32), pa.int32(), mask=~has_remote)
        text("RemoteUrl", self.ep_url[ep])
        text("LocalIP", self.local_ip[local_slot])
        cols["LocalPort"] = pa.array(local_port.astype(np.int32), pa.int32())
        text("Protocol", proto)
        text("LocalIPType", self.local_type[local_slot])
        text("RemoteIPType", np.where(has_remote, self.ep_type[ep], self.no_remote[1]))
        for column, codes in self.bin_cols.items():
            text(column, codes[binary])
        cols["InitiatingProcessFileSize"] = pa.array(self.bin_size[binary], pa.int64())
        cols["InitiatingProcessId"] = pa.array((instance % np.uint64(12_000)).astype(np.int64) * 4 + 400)
        text("InitiatingProcessCommandLine", self.bin_cmd[binary, dev])
        cols["InitiatingProcessCreationTime"] = pa.array(created, us)
        text("InitiatingProcessFolderPath", self.bin_folder[binary, dev])
        cols["InitiatingProcessParentId"] = pa.array((parent % np.uint64(3_000)).astype(np.int64) * 4 + 100)
        cols["InitiatingProcessParentCreationTime"] = pa.array(
            created - (parent >> np.uint64(40)).astype(np.int64) % HOUR - SECOND, us)
        for column, codes in self.ident_cols.items():
            text(column, codes[ident])
        cols["ReportId"] = pa.array(np.arange(first_row, first_row + n, dtype=np.int64) * 3 + 10_007)
        text("AppGuardContainerId", np.zeros(n, np.int32))
        text("AdditionalFields", np.zeros(n, np.int32))
        cols["InitiatingProcessSessionId"] = pa.array(self.ident_session[ident])
        cols["IsInitiatingProcessRemoteSession"] = pa.array(remote_session)
        text("InitiatingProcessRemoteSessionDeviceName",
             np.where(remote_session, self.rs_name[dev], self.rs_none[0]))
        text("InitiatingProcessRemoteSessionIP", np.where(remote_session, self.rs_ip[dev], self.rs_none[1]))
        # One id per process instance: encode the distinct instances once, rows point at them.
        ids, per_row = np.unique(instance >> np.uint64(12), return_inverse=True)
        cols["InitiatingProcessUniqueId"] = pa.DictionaryArray.from_arrays(
            pa.array(per_row.astype(np.int32)), pa.array(ids.astype(np.int64)).cast(pa.string()))
        return pa.RecordBatch.from_arrays([cols[f.name] for f in BATCH_SCHEMA], schema=BATCH_SCHEMA)
