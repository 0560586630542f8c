"""The demo organisation: devices, their users and addresses.

Names are stable (`wks-0042.contoso.local`, `dc01.contoso.local`, ...) so the planted activity can name its
devices; identifiers (DeviceId, SIDs, object ids) and who uses which workstation derive from the seed.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import numpy as np

from kqlhunt.demo.catalog import ACCOUNT_KINDS, LOCAL_SERVICE, NETWORK_SERVICE, SYSTEM, USER

DOMAIN = "contoso"
DNS_SUFFIX = "contoso.local"
UPN_SUFFIX = "contoso.com"
MIN_WORKSTATIONS = 80
MAX_WORKSTATIONS = 2000

# Fixed server estate (role, short name, address); more application servers are added for large fleets.
_SERVERS = (
    ("dc", "dc01", "10.10.1.10"), ("dc", "dc02", "10.10.1.11"), ("fs", "fs01", "10.10.1.20"),
    ("fs", "fs02", "10.10.1.21"), ("sql", "sql01", "10.10.1.30"), ("web", "web01", "10.10.2.10"),
    ("web", "web02", "10.10.2.11"), ("app", "app01", "10.10.1.40"),
)

_FIRST = (
    "james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david", "elizabeth",
    "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "charles", "karen",
    "lukas", "emma", "noah", "mia", "elias", "hannah", "ahmed", "fatima", "wei", "yuki", "priya",
    "arjun", "sofia", "mateo", "chloe", "olivia", "liam", "ava", "lucas", "nora",
)
_LAST = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
    "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore",
    "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez",
    "lewis", "robinson", "mueller", "schmidt", "schneider", "fischer", "weber", "dubois", "moreau",
    "rossi", "tanaka", "kumar",
)
_DOMAIN_SID = "S-1-5-21-1004336348-1177238915-682003330"

_SERVICE_ACCOUNTS = {
    SYSTEM: ("nt authority", "system", "S-1-5-18"),
    LOCAL_SERVICE: ("nt authority", "local service", "S-1-5-19"),
    NETWORK_SERVICE: ("nt authority", "network service", "S-1-5-20"),
}


@dataclass(frozen=True)
class Identity:
    domain: str
    name: str
    sid: str
    upn: str
    object_id: str
    session_id: int


@dataclass(frozen=True)
class Device:
    name: str  # FQDN, as DeviceName shows it
    device_id: str
    role: str
    ipv4: str
    ipv6: str
    link_local: str
    identities: tuple[Identity, ...]  # indexed by account kind

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def user(self) -> str:
        return self.identities[USER].name


def _hex(seed: int, *parts: object, n: int = 40) -> str:
    return hashlib.sha1("|".join(map(str, (seed, *parts))).encode()).hexdigest()[:n]


def workstation_count(rows: int) -> int:
    """Fleet size grows with the data volume (roughly 25k events per workstation per generated window)."""
    return int(min(MAX_WORKSTATIONS, max(MIN_WORKSTATIONS, rows // 25_000)))


def workstation_name(i: int) -> str:
    return f"wks-{i:04d}.{DNS_SUFFIX}"


def build_fleet(rows: int, seed: int) -> list[Device]:
    """Workstations `wks-0001..wks-NNNN`, then servers. Each workstation has one primary user."""
    rng = np.random.default_rng([seed, 0xF1EE7])
    n_wks = workstation_count(rows)
    n_users = n_wks + 40  # admins and spares
    users: list[tuple[str, int]] = []
    seen: set[str] = set()
    for k in range(n_users):
        base = _FIRST[rng.integers(len(_FIRST))][0] + _LAST[rng.integers(len(_LAST))]
        sam = base if base not in seen else f"{base}{k % 97}"
        seen.add(sam)
        users.append((sam, 1100 + k))
    order = rng.permutation(n_wks)

    def user_identity(sam: str, rid: int, session: int) -> Identity:
        return Identity(DOMAIN, sam, f"{_DOMAIN_SID}-{rid}", f"{sam}@{UPN_SUFFIX}",
                        str(uuid.UUID(_hex(seed, "oid", sam, n=32))), session)

    def service_identities() -> list[Identity]:
        return [Identity(*_SERVICE_ACCOUNTS[k], "", "", 0) for k in (SYSTEM, LOCAL_SERVICE, NETWORK_SERVICE)]

    devices: list[Device] = []
    for i in range(1, n_wks + 1):
        name = workstation_name(i)
        sam, rid = users[int(order[i - 1])]
        ids = (*service_identities(), user_identity(sam, rid, 1 + int(rng.integers(0, 2))))
        third, fourth = divmod(i - 1, 250)
        devices.append(Device(
            name, _hex(seed, "device", name), "wks", f"10.20.{third}.{fourth + 5}",
            f"2a01:4b00:8a1f:{20 + third:x}::{fourth + 5:x}", f"fe80::{_hex(seed, 'll', name, n=4)}:"
            f"{_hex(seed, 'll2', name, n=4)}:{_hex(seed, 'll3', name, n=4)}:{_hex(seed, 'll4', name, n=4)}",
            ids))
    servers = list(_SERVERS)
    for k in range(max(0, n_wks // 40 - 2)):  # more application servers for bigger estates
        servers.append(("app", f"app{k + 2:02d}", f"10.10.3.{10 + k}"))
    admins = users[n_wks:]
    for k, (role, short, ip) in enumerate(servers):
        name = f"{short}.{DNS_SUFFIX}"
        sam, rid = admins[k % len(admins)]
        admin = user_identity(f"adm-{sam}", rid + 5000, 2 + k % 3)
        ids = (*service_identities(), admin)
        devices.append(Device(name, _hex(seed, "device", name), role, ip, f"2a01:4b00:8a1f:10::{k + 10:x}",
                              f"fe80::{_hex(seed, 'll', name, n=4)}:{_hex(seed, 'll2', name, n=4)}:"
                              f"{_hex(seed, 'll3', name, n=4)}:{_hex(seed, 'll4', name, n=4)}", ids))
    assert all(len(d.identities) == ACCOUNT_KINDS for d in devices)
    return devices
