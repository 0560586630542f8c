"""What an ingest run did, per input: read, written, skipped (with reasons) and quarantined records, and
the quarantine file itself (one JSON line per unreadable record: file, record or line, reason, text)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


@dataclass
class FileReport:
    source: str
    format: str = ""
    read: int = 0
    written: int = 0
    quarantined: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> records deliberately not written
    error: str = ""  # the whole file could not be read (it is named, the others still ingest)
    detected_by: str = ""  # why detection chose the format

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "format": self.format, "read": self.read, "written": self.written,
                "quarantined": self.quarantined, "skipped": dict(self.skipped), "error": self.error,
                "detected_by": self.detected_by}


class Quarantine:
    """Append-only JSON-lines file of unreadable records; opened lazily so a clean run leaves nothing."""

    def __init__(self, path: Path | None):
        self.path = path
        self._out: IO[str] | None = None
        self.count = 0

    def add(self, report: FileReport, record: str | int | None, reason: str, text: str | bytes = "") -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="backslashreplace")
        report.quarantined += 1
        self.count += 1
        if self.path is None:
            return
        if self._out is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out = self.path.open("a", encoding="utf-8")
        row = {"file": report.source, "record": record, "reason": reason, "text": text[:4000]}
        self._out.write(json.dumps(row, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


@dataclass
class RunReport:
    files: list[FileReport] = field(default_factory=list)
    quarantine_file: str = ""

    def totals(self) -> dict[str, int]:
        return {"files": len(self.files), "read": sum(f.read for f in self.files),
                "written": sum(f.written for f in self.files),
                "quarantined": sum(f.quarantined for f in self.files),
                "skipped": sum(sum(f.skipped.values()) for f in self.files),
                "unreadable_files": sum(1 for f in self.files if f.error)}

    def as_dict(self) -> dict[str, object]:
        return {"totals": self.totals(), "quarantine_file": self.quarantine_file,
                "files": [f.as_dict() for f in self.files]}
