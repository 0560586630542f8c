"""LocalIPType / RemoteIPType as Defender fills them, computed in SQL for IPv4 and in Python for IPv6.

The classification is :func:`kqlhunt.engines.runtime.ipv4.ip_type` (its rule table follows Defender's
documented vocabulary: Public, Private, Reserved, Loopback, LinkLocal, Multicast, Broadcast, Teredo,
FourToSixMapping). IPv4 is the bulk of any input, so its rules become one SQL CASE over the address as an
integer (no per-row Python); IPv6 addresses are few and distinct, so they are classified once each in
Python; both are computed once per distinct address and joined back.
"""

from __future__ import annotations

import ipaddress

import duckdb
import pyarrow as pa

from kqlhunt.engines.runtime.ipv4 import IP_TYPE_RULES, ip_type

_V4 = r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})"


def _v4_case(n: str) -> str:
    arms = []
    for network, kind in IP_TYPE_RULES:
        net = ipaddress.ip_network(network)
        if net.version == 4:
            arms.append(f"WHEN {n} BETWEEN {int(net.network_address)} AND {int(net.broadcast_address)} THEN '{kind}'")
    return f"CASE WHEN {n} IS NULL THEN '' " + " ".join(arms) + " ELSE 'Public' END"


def build_lookup(con: duckdb.DuckDBPyConnection, relation: str, columns: tuple[str, ...]) -> str:
    """Table `kh_iptypes(kh_ip, kh_kind)` with the type of every distinct address in `relation`'s columns.

    Classifying distinct addresses and joining back is far cheaper than classifying each row.
    """
    union = " UNION ".join(f'SELECT CAST("{c}" AS VARCHAR) AS kh_ip FROM {relation}' for c in columns)
    # each step in its own subquery: a value used in many CASE arms must be computed once, not per arm
    octet = [f"CAST(p[{i}] AS BIGINT)" for i in range(1, 5)]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE kh_iptypes AS
        WITH ips AS (SELECT kh_ip FROM ({union}) WHERE kh_ip IS NOT NULL),
        parts AS (SELECT kh_ip, contains(kh_ip, ':') AS v6,
            CASE WHEN regexp_full_match(kh_ip, '{_V4}') THEN string_split(kh_ip, '.') END AS p FROM ips),
        nums AS (SELECT kh_ip, v6, CASE WHEN greatest({', '.join(octet)}) <= 255 THEN
            {octet[0]} * 16777216 + {octet[1]} * 65536 + {octet[2]} * 256 + {octet[3]} END AS n FROM parts)
        SELECT kh_ip, CASE WHEN v6 THEN NULL ELSE {_v4_case('n')} END AS kh_kind FROM nums""")
    v6 = [r[0] for r in con.execute("SELECT kh_ip FROM kh_iptypes WHERE kh_kind IS NULL").fetchall()]
    if v6:
        con.register("kh_ip6_new", pa.table({"ip": v6, "kind": [ip_type(ip) for ip in v6]}))
        con.execute("UPDATE kh_iptypes SET kh_kind = n.kind FROM kh_ip6_new n WHERE kh_iptypes.kh_ip = n.ip")
        con.unregister("kh_ip6_new")
    return "kh_iptypes"
