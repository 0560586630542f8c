"""geo_info_from_ip_address over the bundled table and over a user MMDB file."""

from __future__ import annotations

import bisect
import functools
import ipaddress
import json
import struct
from importlib import resources

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kqlhunt.engines.runtime.geoip import GeoDatabase, geo_info_arrow, to_kusto_json

DATA = resources.files("kqlhunt").joinpath("data", "geo")


@pytest.fixture(scope="module")
def db() -> GeoDatabase:
    return GeoDatabase.bundled()


# -- the docs' examples and the null / {} rules --------------------------------------------------------------


def test_docs_examples_resolve_to_the_documented_countries(db):
    # Docs: 20.53.203.50 -> Australia (Sydney); 2a03:2880:f12c:83:face:b00c::25de -> United States.
    assert db.lookup("20.53.203.50") == {"country": "Australia"}
    assert db.lookup("2a03:2880:f12c:83:face:b00c::25de") == {"country": "United States"}


@pytest.mark.parametrize(
    "ip", ["10.0.0.1", "192.168.1.1", "172.16.5.4", "127.0.0.1", "169.254.1.1", "0.0.0.0", "255.255.255.255",
           "::1", "::", "fe80::1", "fd00::1", "::ffff:10.0.0.1"],
)  # fmt: skip
def test_valid_addresses_with_no_location_give_an_empty_bag(db, ip):
    assert db.lookup(ip) == {}


@pytest.mark.parametrize(
    "ip", [None, "", "bogus", "256.1.1.1", "1.2.3", "01.2.3.4", " 8.8.8.8", "8.8.8.8/32", "1::2::3"]
)
def test_non_addresses_give_null(db, ip):
    assert db.lookup(ip) is None


def test_ipv4_embedded_in_ipv6_resolves_like_maxmind(db):
    us = {"country": "United States"}
    assert db.lookup("8.8.8.8") == us
    assert db.lookup("::ffff:8.8.8.8") == us  # IPv4-mapped
    assert db.lookup("2002:808:808::1") == us  # 6to4
    assert db.lookup("2001:0:808:808::1") == us  # Teredo server


def test_country_names_are_english_names(db):
    assert db.lookup("81.2.69.142") == {"country": "United Kingdom"}
    assert db.lookup("2a00:1450:4001::1") == {"country": "Germany"}
    names = json.loads(DATA.joinpath("country_names.json").read_text(encoding="utf-8"))
    assert (names["US"], names["GB"], names["DE"], names["RU"], names["KR"]) == (
        "United States", "United Kingdom", "Germany", "Russia", "South Korea",
    )  # fmt: skip


# -- the Arrow form ----------------------------------------------------------------------------------------


def test_geo_info_arrow_returns_kusto_json_text(db):
    arr = pa.array(["20.53.203.50", None, "nope", "10.0.0.1", "20.53.203.50"])
    out = geo_info_arrow(db, arr)
    assert out.type == pa.string()
    assert out.to_pylist() == ['{"country":"Australia"}', None, None, "{}", '{"country":"Australia"}']


def test_geo_info_arrow_accepts_chunked_large_and_empty_input(db):
    chunked = pa.chunked_array([pa.array(["8.8.8.8"]), pa.array(["::1", None])])
    assert geo_info_arrow(db, chunked).to_pylist() == ['{"country":"United States"}', "{}", None]
    large = pa.array(["8.8.8.8"], pa.large_string())
    assert geo_info_arrow(db, large).to_pylist() == ['{"country":"United States"}']
    assert geo_info_arrow(db, pa.array([], pa.string())).to_pylist() == []


@functools.cache
def _oracle_tables() -> tuple[list[int], list[int], list[int], list[int], list[str], dict[str, str]]:
    with DATA.joinpath("country.npz").open("rb") as handle, np.load(handle) as data:
        v4 = np.cumsum(data["v4_start_delta"], dtype=np.uint32).tolist()
        high = np.cumsum(data["v6_high_delta"], dtype=np.uint64).tolist()
        v6 = [(h << 64) | lo for h, lo in zip(high, data["v6_low"].tolist(), strict=True)]
        tables = v4, data["v4_country"].tolist(), v6, data["v6_country"].tolist(), data["codes"].tolist()
    return (*tables, json.loads(DATA.joinpath("country_names.json").read_text(encoding="utf-8")))


def _oracle(ip: str) -> str | None:
    """Plain-Python bisect over the decoded table, independent of the numpy/Arrow paths."""
    v4, v4_country, v6, v6_country, codes, names = _oracle_tables()
    address = ipaddress.ip_address(ip)
    starts, countries = (v4, v4_country) if address.version == 4 else (v6, v6_country)
    code = codes[countries[bisect.bisect_right(starts, int(address)) - 1]]
    return to_kusto_json({"country": names[code]} if code else {})


_public_v4 = st.integers(0, 2**32 - 1).map(lambda v: str(ipaddress.IPv4Address(v)))
_global_v6 = st.integers(0x2400 << 112, (0x2C00 << 112) - 1).map(lambda v: str(ipaddress.IPv6Address(v)))


@settings(max_examples=60, deadline=None)
@given(st.lists(_public_v4 | _global_v6, min_size=1, max_size=30))
def test_vectorised_lookup_matches_a_plain_bisect(ips):
    database = GeoDatabase.bundled()
    assert geo_info_arrow(database, pa.array(ips)).to_pylist() == [_oracle(ip) for ip in ips]


def test_ipv6_ranges_that_split_a_slash_64_are_found(db):
    # A few hundred source ranges start inside a /64; the lookup must step back to the right one.
    with DATA.joinpath("country.npz").open("rb") as handle, np.load(handle) as data:
        high = np.cumsum(data["v6_high_delta"], dtype=np.uint64)
        low = data["v6_low"]
    inside = np.flatnonzero(low != 0)[:50]
    probes = []
    for i in inside.tolist():
        start = (int(high[i]) << 64) | int(low[i])
        probes += [str(ipaddress.IPv6Address(start)), str(ipaddress.IPv6Address(start - 1))]
    assert len(probes) > 10
    assert geo_info_arrow(db, pa.array(probes)).to_pylist() == [_oracle(ip) for ip in probes]


# -- the bundle itself -----------------------------------------------------------------------------------


def test_bundled_database_is_cached_small_and_attributed():
    assert GeoDatabase.bundled() is GeoDatabase.bundled()
    assert DATA.joinpath("country.npz").stat().st_size <= 3 * 1024 * 1024
    readme = DATA.joinpath("README.md").read_text(encoding="utf-8")
    licence = DATA.joinpath("LICENSE").read_text(encoding="utf-8")
    assert "DB-IP" in readme and "CC BY 4.0" in readme and "countries-list" in readme
    assert "db-ip.com" in licence and "MIT" in licence


# -- a user-supplied MMDB file ---------------------------------------------------------------------------


def _control(kind: int, size: int) -> bytes:
    assert size < 29
    if kind <= 7:
        return bytes([(kind << 5) | size])
    return bytes([size, kind - 7])  # extended type


def _encode(value: object) -> bytes:
    """Just enough of the MaxMind DB data format for a test fixture."""
    if isinstance(value, str):
        raw = value.encode()
        return _control(2, len(raw)) + raw
    if isinstance(value, float):
        return _control(3, 8) + struct.pack(">d", value)
    if isinstance(value, tuple):  # (type, int): uint16 = 5, uint32 = 6, uint64 = 9
        kind, number = value
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
        return _control(kind, len(raw)) + raw
    if isinstance(value, dict):
        return _control(7, len(value)) + b"".join(_encode(k) + _encode(v) for k, v in value.items())
    if isinstance(value, list):
        return _control(11, len(value)) + b"".join(_encode(v) for v in value)
    raise TypeError(value)


def _write_ipv4_mmdb(path, networks: dict[str, dict]) -> None:
    nodes: list[list[tuple[str, int] | None]] = [[None, None]]
    data = b""
    for cidr, record in networks.items():
        network = ipaddress.ip_network(cidr)
        bits, length = int(network.network_address), network.prefixlen
        offset, data = len(data), data + _encode(record)
        node = 0
        for depth in range(length):
            bit = (bits >> (31 - depth)) & 1
            if depth == length - 1:
                nodes[node][bit] = ("data", offset)
            else:
                if nodes[node][bit] is None:
                    nodes.append([None, None])
                    nodes[node][bit] = ("node", len(nodes) - 1)
                node = nodes[node][bit][1]
    count = len(nodes)

    def record(entry) -> bytes:
        value = count if entry is None else entry[1] if entry[0] == "node" else count + 16 + entry[1]
        return value.to_bytes(3, "big")

    tree = b"".join(record(left) + record(right) for left, right in nodes)
    metadata = {
        "node_count": (6, count), "record_size": (5, 24), "ip_version": (5, 4), "database_type": "Test-City",
        "languages": ["en"], "binary_format_major_version": (5, 2), "binary_format_minor_version": (5, 0),
        "build_epoch": (9, 1_700_000_000), "description": {"en": "kqlhunt test fixture"},
    }  # fmt: skip
    path.write_bytes(tree + bytes(16) + data + b"\xab\xcd\xefMaxMind.com" + _encode(metadata))


def test_from_mmdb_reads_city_level_bags_in_kusto_key_order(tmp_path):
    pytest.importorskip("maxminddb")
    path = tmp_path / "city.mmdb"
    _write_ipv4_mmdb(path, {
        "20.53.192.0/18": {
            "city": {"names": {"en": "Sydney"}},
            "country": {"iso_code": "AU", "names": {"en": "Australia", "de": "Australien"}},
            "location": {"latitude": -33.8715, "longitude": 151.2006},
            "subdivisions": [{"names": {"en": "New South Wales"}}],
        },
        "81.2.69.0/24": {"country": {"names": {"en": "United Kingdom"}}},
        "5.8.0.0/19": {"country_code": "RU"},
    })  # fmt: skip
    database = GeoDatabase.from_mmdb(path)
    sydney = database.lookup("20.53.203.50")
    assert list(sydney) == ["country", "state", "city", "latitude", "longitude"]
    # The docs' example, as Kusto serialises it.
    assert to_kusto_json(sydney) == (
        '{"country":"Australia","state":"New South Wales","city":"Sydney",'
        '"latitude":-33.8715,"longitude":151.2006}'
    )
    assert database.lookup("81.2.69.142") == {"country": "United Kingdom"}
    assert database.lookup("5.8.1.2") == {"country": "Russia"}  # flat country_code layouts
    assert database.lookup("10.0.0.1") == {}
    assert database.lookup("2a03:2880::1") == {}  # IPv6 asked of an IPv4-only file
    assert database.lookup("nope") is None
    out = geo_info_arrow(database, pa.array(["81.2.69.142", None, "1.1.1.1"]))
    assert out.to_pylist() == ['{"country":"United Kingdom"}', None, "{}"]
