"""Input discovery and format detection: files, folders, globs and zip archives become `InputFile`s, each
detected by content (the first bytes), never by extension alone."""

from __future__ import annotations

import glob
import hashlib
import json
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Format(StrEnum):
    auto = "auto"
    evtx = "evtx"  # binary Windows event log (Sysmon, Security)
    winevent_json = "winevent-json"  # Windows events as JSON lines: NXLog/OTRF, Winlogbeat, evtx_dump
    defender_csv = "defender-csv"  # advanced-hunting export (also Sentinel CSV with TimeGenerated)
    defender_json = "defender-json"  # JSON array or JSON lines of rows (Defender or Sentinel columns)
    defender_stream = "defender-stream"  # streaming API: {"records": [...]} or category/properties lines
    zeek_tsv = "zeek-tsv"
    zeek_json = "zeek-json"


@dataclass
class InputFile:
    name: str  # what provenance and reports call it: a path, or `archive.zip!member`
    path: Path  # a readable file on disk (zip members are copied out first)
    size: int
    zip_member: str = ""

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as fh:
            while block := fh.read(1 << 22):
                digest.update(block)
        return digest.hexdigest()


def expand(paths: list[str]) -> tuple[list[Path], list[str]]:
    """PATH arguments -> files (folders recursively, globs expanded); second item: arguments matching nothing."""
    files: list[Path] = []
    missing: list[str] = []
    for arg in paths:
        matches = [Path(p) for p in sorted(glob.glob(arg, recursive=True))] if any(c in arg for c in "*?[") \
            else ([Path(arg)] if Path(arg).exists() else [])
        if not matches:
            missing.append(arg)
        for match in matches:
            if match.is_dir():
                files.extend(sorted(p for p in match.rglob("*") if p.is_file() and not p.name.startswith(".")))
            else:
                files.append(match)
    return files, missing


def open_inputs(files: list[Path], workdir: Path) -> Iterator[InputFile]:
    """Each file, or each member of a zip, as an InputFile (members extracted one at a time to workdir)."""
    for path in files:
        if zipfile.is_zipfile(path) and path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.is_dir():
                        continue
                    target = workdir / "member"
                    with archive.open(info) as src, target.open("wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 22)
                    yield InputFile(f"{path.resolve()}!{info.filename}", target, info.file_size, info.filename)
                    target.unlink(missing_ok=True)
        else:
            yield InputFile(str(path.resolve()), path, path.stat().st_size)


_ZEEK_KEYS = ("id.orig_h", "id_orig_h")
_DEFENDER_KEYS = ("RemoteIP", "ActionType", "RemotePort", "DeviceName")


def _decode_head(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore")
    return head.decode("utf-8-sig", errors="ignore")


def detect(path: Path) -> tuple[Format | None, str]:
    """(format, why) from the first 64 KB; (None, reason) when no known shape matches."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if head.startswith(b"ElfFile\x00"):
        return Format.evtx, "EVTX file header"
    text = _decode_head(head).lstrip()
    if not text:
        return None, "empty file"
    if text.startswith("#separator") or text.startswith("#fields"):
        return Format.zeek_tsv, "Zeek #separator/#fields header"
    if text.startswith("["):
        return Format.defender_json, "JSON array"
    first = text.split("\n", 1)[0].strip()
    if first.startswith("{"):
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            obj = None
            if '"records"' in text[:200]:
                return Format.defender_stream, "JSON document with records"
        if isinstance(obj, dict):
            return _detect_object(obj)
        return None, "first line is not a JSON object"
    header = first.lstrip("\ufeff")
    if "," in header and any(k in header for k in _DEFENDER_KEYS) and (
            "Timestamp" in header or "TimeGenerated" in header):
        return Format.defender_csv, "CSV header with DeviceNetworkEvents columns"
    if "\t" in first and first.split("\t", 1)[0].replace(".", "", 1).isdigit():
        return None, "tab-separated rows without a Zeek #fields header"
    return None, "unknown shape"


def _detect_object(obj: dict[str, object]) -> tuple[Format | None, str]:
    if "records" in obj:
        return Format.defender_stream, "streaming API envelope (records)"
    if str(obj.get("category", "")).startswith("AdvancedHunting-") and "properties" in obj:
        return Format.defender_stream, "streaming API record (category/properties)"
    if any(k in obj for k in _ZEEK_KEYS):
        return Format.zeek_json, "Zeek JSON (id.orig_h)"
    if "winlog" in obj or ("EventID" in obj and ("Channel" in obj or "SourceName" in obj)) or "Event" in obj:
        return Format.winevent_json, "Windows event JSON"
    if any(k in obj for k in _DEFENDER_KEYS) and ("Timestamp" in obj or "TimeGenerated" in obj):
        return Format.defender_json, "JSON lines with DeviceNetworkEvents columns"
    return None, "JSON object of unknown shape"
