"""Kusto's ``geo_info_from_ip_address()`` over an offline database.

The function returns a dynamic property bag with the keys ``country``, ``state``, ``city``, ``latitude``,
``longitude`` — in that order, as the docs print them (``{"country": "Australia", "state": "New South
Wales", "city": "Sydney", "latitude": -33.8715, "longitude": 151.2006}`` for ``20.53.203.50``). Kusto
reads MaxMind GeoLite2-City, which kqlhunt may not redistribute, so two sources are offered:

- :meth:`GeoDatabase.bundled`: a country-level table shipped in ``kqlhunt/data/geo`` (DB-IP "IP to
  Country Lite", CC BY 4.0; see the README there). Bags carry only ``country``.
- :meth:`GeoDatabase.from_mmdb`: any MaxMind-format file the user has (e.g. their own GeoLite2-City),
  read with the optional ``maxminddb`` package, giving state, city and coordinates too.

What comes back (a choice where the docs are silent, stated so the SQL side can rely on it):

- a string that is not an IPv4/IPv6 address (or null) -> ``None`` (Kusto null);
- a valid address the database does not know — private, loopback, reserved, unallocated -> ``{}``
  (the bag "contains the information ... if the information is available");
- otherwise a bag holding the keys that have values, in Kusto's key order. Either way
  ``tostring(geo.country)`` is ``""`` when nothing is known, which is what hunts test.

Like MaxMind databases, the bundled table resolves IPv4 embedded in IPv6 through the IPv4 ranges:
IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, 6to4 ``2002:aabb:ccdd::`` and Teredo
``2001:0:aabb:ccdd::`` (the Teredo server address, as MaxMind's alias does).
"""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from os import PathLike
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["GeoDatabase", "geo_info_arrow", "to_kusto_json"]

GEO_KEYS = ("country", "state", "city", "latitude", "longitude")
_DATA = resources.files("kqlhunt").joinpath("data", "geo")
_LOW64 = (1 << 64) - 1
_V4_SPACE = 1 << 32
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")


def to_kusto_json(value: dict[str, Any] | None) -> str | None:
    """Serialise a bag as Kusto prints dynamic values: compact, keys in insertion order, UTF-8."""
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _parse(text: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> int | None:
    """The IPv4 address a MaxMind-style lookup would use for this IPv6 address, if any."""
    value = int(address)
    if value < _V4_SPACE or address in _MAPPED:
        return value & 0xFFFFFFFF
    if address in _SIX_TO_FOUR:
        return (value >> 80) & 0xFFFFFFFF
    if address in _TEREDO:
        return (value >> 64) & 0xFFFFFFFF
    return None


_OCTET = "0|[1-9][0-9]{0,2}"
_QUAD = rf"^(?P<a>{_OCTET})\.(?P<b>{_OCTET})\.(?P<c>{_OCTET})\.(?P<d>{_OCTET})$"


def _dotted_quads(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(address as uint32, is-a-dotted-quad mask) for a string array, without a Python loop.

    Same acceptance as :func:`ipaddress.ip_address` for IPv4: four decimal octets 0–255, no leading zeros.
    """
    if pa.types.is_large_string(strings.type):
        strings = pc.cast(strings, pa.string())
    octets = pc.extract_regex(strings, _QUAD)
    matched = np.asarray(pc.fill_null(pc.is_valid(octets), False), dtype=bool)
    value = np.zeros(len(strings), dtype=np.int64)
    in_range = matched.copy()
    for k in range(4):
        field = pc.struct_field(octets, k)
        number = np.asarray(
            pc.fill_null(pc.cast(pc.if_else(matched, field, "0"), pa.int64()), 0), dtype=np.int64
        )
        in_range &= number <= 255
        value = (value << 8) | number
    return value.astype(np.uint32), in_range


@dataclass(frozen=True, eq=False)
class _CountryTable:
    """Sorted segment starts covering the whole IPv4 and IPv6 spaces, with a country index each.

    Index 0 means "no country known". IPv6 starts are (high, low) uint64 halves of the 128-bit value.
    """

    v4_starts: np.ndarray
    v4_country: np.ndarray
    v6_high: np.ndarray
    v6_low: np.ndarray
    v6_country: np.ndarray
    names: tuple[str | None, ...]

    def indices(self, strings: pa.Array) -> np.ndarray:
        """Country index per string (0 = valid address, nothing known; -1 = not an address).

        Plain dotted quads — nearly all telemetry — are parsed by Arrow kernels; only the rest (IPv6,
        junk) goes through :mod:`ipaddress` one by one.
        """
        result = np.full(len(strings), -1, dtype=np.int16)
        v4, is_v4 = _dotted_quads(strings)
        if is_v4.any():
            result[is_v4] = self._v4(v4[is_v4])
        rest = np.flatnonzero(~is_v4 & ~np.asarray(strings.is_null(), dtype=bool))
        v4_positions: list[int] = []
        v4_values: list[int] = []
        v6_positions: list[int] = []
        v6_values: list[int] = []
        for position, text in zip(rest.tolist(), strings.take(pa.array(rest)).to_pylist(), strict=True):
            address = _parse(text)
            if address is None:
                continue
            embedded = int(address) if address.version == 4 else _embedded_ipv4(address)
            if embedded is not None:
                v4_positions.append(position)
                v4_values.append(embedded)
            else:
                v6_positions.append(position)
                v6_values.append(int(address))
        if v4_values:
            result[v4_positions] = self._v4(np.array(v4_values, dtype=np.uint32))
        if v6_values:
            high = np.array([v >> 64 for v in v6_values], dtype=np.uint64)
            low = np.array([v & _LOW64 for v in v6_values], dtype=np.uint64)
            result[v6_positions] = self._v6(high, low)
        return result

    def _v4(self, values: np.ndarray) -> np.ndarray:
        return self.v4_country[np.searchsorted(self.v4_starts, values, side="right") - 1]

    def _v6(self, high: np.ndarray, low: np.ndarray) -> np.ndarray:
        # Rank by the high half, then step back over segments that start later within the same /64
        # (a few hundred source ranges split a /64; almost every query needs no step).
        segment = np.searchsorted(self.v6_high, high, side="right") - 1
        while True:
            late = (segment > 0) & (self.v6_high[segment] == high) & (self.v6_low[segment] > low)
            if not late.any():
                return self.v6_country[segment]
            segment = np.where(late, segment - 1, segment)


class GeoDatabase:
    """An IP -> location source; build it with :meth:`bundled` or :meth:`from_mmdb`."""

    def __init__(self, *, description: str, table: _CountryTable | None = None, reader: Any = None) -> None:
        if (table is None) == (reader is None):
            raise ValueError("GeoDatabase needs exactly one of a country table or an MMDB reader")
        self.description = description
        self._table = table
        self._reader = reader
        if table is not None:
            bags = [{} if name is None else {"country": name} for name in table.names]
            self._bags = bags
            self._texts = pa.array([to_kusto_json(bag) for bag in bags], type=pa.string())

    def __repr__(self) -> str:
        return f"GeoDatabase({self.description})"

    @classmethod
    def bundled(cls) -> GeoDatabase:
        """The country-level table shipped with kqlhunt (loaded once, then cached)."""
        return _load_bundled()

    @classmethod
    def from_mmdb(cls, path: str | PathLike[str]) -> GeoDatabase:
        """A user-supplied MaxMind DB file (GeoLite2/GeoIP2 City or Country, or a compatible layout)."""
        try:
            import maxminddb
        except ImportError as error:  # pragma: no cover - exercised only without the extra installed
            raise ImportError(
                "geo_info_from_ip_address() with an MMDB file needs the 'maxminddb' package: "
                "pip install 'kqlhunt[geo]' (or pip install maxminddb)"
            ) from error
        return cls(description=f"MaxMind DB {path}", reader=maxminddb.open_database(str(path)))

    def lookup(self, ip: str | None) -> dict[str, Any] | None:
        """The bag Kusto would return for *ip*: None if not an address, ``{}`` if unknown."""
        return self.lookup_many([ip])[0]

    def lookup_many(self, ips: Iterable[str | None]) -> list[dict[str, Any] | None]:
        """:meth:`lookup` for many values; the bundled table answers with one ``searchsorted`` per family."""
        ips = list(ips)
        if self._table is None:
            return [None if (address := _parse(ip)) is None else self._mmdb_bag(address) for ip in ips]
        indices = self._table.indices(pa.array(ips, type=pa.string()))
        return [None if i < 0 else dict(self._bags[i]) for i in indices.tolist()]

    def lookup_json_many(self, ips: Iterable[str | None] | pa.Array) -> pa.StringArray:
        """:meth:`lookup_many` as Kusto's JSON text, one string (or null) per input."""
        if self._table is None:
            values = ips.to_pylist() if isinstance(ips, pa.Array) else list(ips)
            return pa.array([to_kusto_json(bag) for bag in self.lookup_many(values)], type=pa.string())
        strings = ips if isinstance(ips, pa.Array) else pa.array(list(ips), type=pa.string())
        indices = self._table.indices(strings)
        return self._texts.take(pa.array(indices, mask=indices < 0))

    def _mmdb_bag(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> dict[str, Any]:
        try:
            record = self._reader.get(address)
        except ValueError:  # an IPv6 address asked of an IPv4-only database
            return {}
        return _bag_from_record(record) if isinstance(record, dict) else {}


def _english(node: Any) -> str | None:
    if isinstance(node, dict):
        names = node.get("names")
        if isinstance(names, dict) and isinstance(names.get("en"), str):
            return names["en"]
    return None


def _bag_from_record(record: dict[str, Any]) -> dict[str, Any]:
    """Map a MaxMind (GeoIP2/GeoLite2) record, or a flat ``country_code`` record, to Kusto's bag."""
    country = _english(record.get("country"))
    if country is None and isinstance(record.get("country_code"), str):
        country = _country_names().get(record["country_code"].upper())
    subdivisions = record.get("subdivisions")
    state = _english(subdivisions[0]) if isinstance(subdivisions, list) and subdivisions else None
    city = _english(record.get("city"))
    location = record.get("location") if isinstance(record.get("location"), dict) else {}
    values = {
        "country": country,
        "state": state,
        "city": city,
        "latitude": location.get("latitude"),
        "longitude": location.get("longitude"),
    }
    return {key: values[key] for key in GEO_KEYS if values[key] is not None}


@functools.cache
def _country_names() -> dict[str, str]:
    return json.loads(_DATA.joinpath("country_names.json").read_text(encoding="utf-8"))


@functools.cache
def _load_bundled() -> GeoDatabase:
    with resources.as_file(_DATA.joinpath("country.npz")) as path, np.load(path, allow_pickle=False) as data:
        names = _country_names()
        table = _CountryTable(
            v4_starts=np.cumsum(data["v4_start_delta"], dtype=np.uint32),
            v4_country=data["v4_country"],
            v6_high=np.cumsum(data["v6_high_delta"], dtype=np.uint64),
            v6_low=data["v6_low"],
            v6_country=data["v6_country"],
            names=tuple(names[str(code)] if code else None for code in data["codes"]),
        )
    return GeoDatabase(description="bundled DB-IP IP to Country Lite (CC BY 4.0)", table=table)


def geo_info_arrow(db: GeoDatabase, arr: pa.Array | pa.ChunkedArray) -> pa.StringArray:
    """Vectorised ``geo_info_from_ip_address()``: string array in, JSON text (or null) out.

    Each distinct address is parsed and looked up once, then the answers are gathered back per row.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], type=pa.string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    encoded = pc.dictionary_encode(arr)
    return db.lookup_json_many(encoded.dictionary).take(encoded.indices)


@functools.cache
def _database(mmdb: str | None) -> GeoDatabase:
    return GeoDatabase.from_mmdb(mmdb) if mmdb else GeoDatabase.bundled()


def _geo_udf(options: dict[str, Any], arr: pa.Array) -> pa.StringArray:
    return geo_info_arrow(_database(options.get("geo_mmdb")), arr)


def _udfs() -> tuple[Any, ...]:
    from kqlhunt.engines.runtime.udfs import Udf

    return (Udf("kh_geo_info", _geo_udf, ("VARCHAR",), "VARCHAR", needs_options=True),)


UDFS = _udfs()
