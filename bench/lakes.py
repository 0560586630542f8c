"""Generated demo lakes for the benchmark, cached under bench/out/lake-<size>/.

Lakes come from `kqlhunt.demo.generator.generate_lake`. A lake is reused when its marker file records the
same row count, seed, `now` and generator sources (hash of `kqlhunt/demo/*.py`), so editing the generator
invalidates the cache.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
GENERATOR = REPO / "src" / "kqlhunt" / "demo" / "generator.py"
MARKER = ".bench-lake.json"


def parse_size(text: str) -> int:
    """'1M' → 1_000_000, '250k' → 250_000, '1000' → 1000."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not m:
        raise ValueError(f"bad size {text!r} (use e.g. 1M, 10M, 250k)")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def ensure_lake(out_dir: Path, label: str, rows: int, now: datetime,
                seed: int = 7) -> tuple[Path, dict, bool]:
    """Return (lake path, marker, reused?) for `rows` rows, generating it in a subprocess if needed."""
    marker = {"rows": rows, "seed": seed, "now": now.isoformat(), "generator": "kqlhunt.demo.generator",
              "generator_sha256": _sources_hash()}
    lake = out_dir / f"lake-{label}"
    marker_path = lake / MARKER
    if marker_path.exists() and json.loads(marker_path.read_text()) == marker:
        return lake, marker, True
    if lake.exists():
        shutil.rmtree(lake)
    lake.mkdir(parents=True)
    code = (
        "import sys; from pathlib import Path; from datetime import datetime\n"
        f"sys.path.insert(0, {str(REPO / 'src')!r})\n"
        "from kqlhunt.demo.generator import generate_lake\n"
        f"generate_lake(Path({str(lake)!r}), {rows}, seed={seed},\n"
        f"              now=datetime.fromisoformat({now.isoformat()!r}))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    marker_path.write_text(json.dumps(marker, indent=1))
    return lake, marker, False


def _sources_hash() -> str:
    """Hash of the generator package's sources: any change to them regenerates the lakes."""
    digest = hashlib.sha256()
    for path in sorted(GENERATOR.parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def lake_columns(lake: Path) -> set[str]:
    """Column names of the lake's DeviceNetworkEvents (to know whether the Sentinel variant can run)."""
    import pyarrow.parquet as pq

    first = next((lake / "DeviceNetworkEvents").rglob("*.parquet"))
    return set(pq.read_schema(first).names)
