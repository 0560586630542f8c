#!/usr/bin/env python3
"""Rebuild kqlhunt's bundled country-level GeoIP table (``src/kqlhunt/data/geo/``).

Sources, both fetched with the ordinary npm client (``npm pack``), never bundled as-is:

- ``@ip-location-db/dbip-country``: DB-IP's "IP to Country Lite" ranges (IPv4 and IPv6) as CSV,
  packaged by the ip-location-db project. Licence: CC BY 4.0, attribution to DB-IP.com.
- ``countries-list`` (Annexare Studio, MIT): English country names for ISO 3166-1 alpha-2 codes.

Output:

- ``country.npz``: sorted range starts (delta-encoded) with a country index per segment. Gaps between
  source ranges become segments with country index 0 ("unknown"), so a lookup is one ``searchsorted``.
  IPv6 starts are split into high/low 64-bit halves.
- ``country_names.json``: ISO code -> English name, for the codes that occur.
- ``README.md`` and ``LICENSE``: source, versions, checksums and the attribution the licences require.

Usage: ``python scripts/build_geo_db.py [--dbip-version X] [--names-version Y] [--out DIR]``
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

DBIP_PACKAGE = "@ip-location-db/dbip-country"
NAMES_PACKAGE = "countries-list"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "kqlhunt" / "data" / "geo"
V4_MAX = (1 << 32) - 1
V6_MAX = (1 << 128) - 1
LOW64 = (1 << 64) - 1


def npm_pack(spec: str, workdir: Path) -> tuple[Path, str, str]:
    """``npm pack`` one package into *workdir*; returns (extracted dir, resolved version, sha256)."""
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout)[0]
    tarball = workdir / info["filename"]
    target = workdir / info["name"].replace("/", "+")
    with tarfile.open(tarball) as archive:
        archive.extractall(target, filter="data")
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    return target / "package", info["version"], digest


def read_ranges(path: Path) -> list[tuple[int, int, str]]:
    with path.open(newline="") as handle:
        rows = [(int(start), int(end), code) for start, end, code in csv.reader(handle)]
    rows.sort()
    for (_, end, _), (start, _, _) in zip(rows, rows[1:], strict=False):
        if start <= end:
            raise ValueError(f"{path.name}: overlapping ranges at {start}")
    return rows


def segments(rows: list[tuple[int, int, str]], top: int) -> tuple[list[int], list[str]]:
    """Contiguous segments covering [0, top]: merged same-country neighbours, gaps as ''."""
    starts: list[int] = []
    codes: list[str] = []
    next_free = 0
    for start, end, code in rows:
        if start > next_free:
            starts.append(next_free)
            codes.append("")
        if codes and codes[-1] == code and start == next_free:
            pass  # extends the previous segment
        else:
            starts.append(start)
            codes.append(code)
        next_free = end + 1
    if next_free <= top:
        starts.append(next_free)
        codes.append("")
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
        codes.insert(0, "")
    return starts, codes


def build(out: Path, dbip_version: str | None, names_version: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dbip_dir, dbip_ver, dbip_sha = npm_pack(f"{DBIP_PACKAGE}@{dbip_version or 'latest'}", work)
        names_dir, names_ver, names_sha = npm_pack(f"{NAMES_PACKAGE}@{names_version or 'latest'}", work)
        v4 = read_ranges(dbip_dir / "dbip-country-ipv4-num.csv")
        v6 = read_ranges(dbip_dir / "dbip-country-ipv6-num.csv")
        names_source = json.loads((names_dir / "countries.min.json").read_text(encoding="utf-8"))
        dbip_licence = (dbip_dir / "DBIP-LICENSE").read_text(encoding="utf-8").strip()
        names_licence = (names_dir / "LICENSE").read_text(encoding="utf-8").strip()

    v4_starts, v4_codes = segments(v4, V4_MAX)
    v6_starts, v6_codes = segments(v6, V6_MAX)
    codes = [""] + sorted({c for c in v4_codes + v6_codes if c})
    if len(codes) > 255:
        raise ValueError("more than 255 country codes do not fit uint8")
    missing = [c for c in codes[1:] if c not in names_source]
    if missing:
        raise ValueError(f"no English name for {missing}")
    index = {code: i for i, code in enumerate(codes)}

    v4_array = np.array(v4_starts, dtype=np.uint32)
    v6_high = np.array([s >> 64 for s in v6_starts], dtype=np.uint64)
    v6_low = np.array([s & LOW64 for s in v6_starts], dtype=np.uint64)
    out.mkdir(parents=True, exist_ok=True)
    # Deltas of sorted starts compress about twice as well as the starts themselves.
    np.savez_compressed(
        out / "country.npz",
        v4_start_delta=np.diff(v4_array, prepend=np.uint32(0)),
        v4_country=np.array([index[c] for c in v4_codes], dtype=np.uint8),
        v6_high_delta=np.diff(v6_high, prepend=np.uint64(0)),
        v6_low=v6_low,
        v6_country=np.array([index[c] for c in v6_codes], dtype=np.uint8),
        codes=np.array(codes, dtype="<U2"),
    )
    names = {code: names_source[code]["name"] for code in codes[1:]}
    (out / "country_names.json").write_text(
        json.dumps(names, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8"
    )
    size = (out / "country.npz").stat().st_size
    today = dt.date.today().isoformat()
    (out / "README.md").write_text(
        f"""# Bundled country-level GeoIP table

Used by `kqlhunt.engines.runtime.geoip.GeoDatabase.bundled()` for `geo_info_from_ip_address()`.
Built on {today} by `scripts/build_geo_db.py`; do not edit by hand.

| file | what |
|---|---|
| `country.npz` ({size:,} bytes) | {len(v4):,} IPv4 + {len(v6):,} IPv6 ranges as segment starts |
| `country_names.json` | English names of the {len(codes) - 1} ISO 3166-1 alpha-2 codes that occur |

## Sources

- IP ranges: **IP to Country Lite by DB-IP** (<https://db-ip.com>), as packaged in the npm package
  `{DBIP_PACKAGE}` version `{dbip_ver}` (ip-location-db project, <https://github.com/sapics/ip-location-db>),
  tarball sha256 `{dbip_sha}`. Licensed under Creative Commons Attribution 4.0 International
  (CC BY 4.0): <https://creativecommons.org/licenses/by/4.0/>. Changes: ranges converted to integer
  segment starts; gaps marked unknown.
- Country names: npm package `{NAMES_PACKAGE}` version `{names_ver}` (Annexare Studio, MIT licence),
  tarball sha256 `{names_sha}`.

IP Geolocation by DB-IP: <https://db-ip.com>. Country-level only: no state, city or coordinates.
Names follow the common English forms of `countries-list`; Kusto's own names come from MaxMind
GeoLite2 and may spell a few territories differently.
""",
        encoding="utf-8",
    )
    (out / "LICENSE").write_text(
        f"""country.npz — IP to Country Lite by DB-IP (https://db-ip.com), CC BY 4.0.
Licence text: https://creativecommons.org/licenses/by/4.0/legalcode
Notice shipped with the source package:

{dbip_licence}

country_names.json — derived from countries-list, whose licence follows:

{names_licence}
""",
        encoding="utf-8",
    )
    print(f"wrote {out} ({size:,} bytes; DB-IP {dbip_ver}, countries-list {names_ver})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dbip-version", help=f"version of {DBIP_PACKAGE} (default: latest)")
    parser.add_argument("--names-version", help=f"version of {NAMES_PACKAGE} (default: latest)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    build(args.out, args.dbip_version, args.names_version)


if __name__ == "__main__":
    main()
