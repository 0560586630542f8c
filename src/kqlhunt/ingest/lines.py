"""JSON lines made safe for DuckDB's `read_json`, which is fast but gives no line numbers and stops at
the first bad line.

A cheap first pass reads 16 MB blocks: if there is no BOM and no blank line, DuckDB reads the
original file and row *n* is line *n*. Otherwise (or when DuckDB then finds malformed JSON) a second pass
goes line by line, quarantines what cannot be read (wrong encoding, not JSON, not an object) and writes a
clean copy plus the original line number of each kept line.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from kqlhunt.ingest.report import FileReport, Quarantine

_BLOCK = 1 << 24


@dataclass
class Lines:
    path: Path  # what read_json should read
    line_map: pa.Table | None  # (row, line): original line of each row, when path is a cleaned copy
    rows: int  # records (non-blank lines) read_json will return


def _utf16(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) in (b"\xff\xfe", b"\xfe\xff")


def quick_check(path: Path) -> int | None:
    """Number of lines when the file has no BOM and no blank lines, else None."""
    if _utf16(path):
        return None
    count = 0
    tail = b""
    with path.open("rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            return None
        fh.seek(0)
        while block := fh.read(_BLOCK):
            block = tail + block
            cut = block.rfind(b"\n") + 1
            body, tail = block[:cut], block[cut:]
            # UTF-8 validity is left to DuckDB's reader, which refuses invalid UTF-8 (then the
            # line-by-line pass finds and quarantines the lines); decoding here cost ~2 s per GB
            # blank lines would shift DuckDB's row numbers against line numbers (other whitespace-only
            # lines make DuckDB fail, which also leads to the line-by-line pass)
            if body.startswith((b"\n", b"\r\n")) or b"\n\n" in body or b"\n\r\n" in body:
                return None
            count += body.count(b"\n")
    if tail:
        try:
            tail.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if not tail.strip():
            return None
        count += 1
    return count


def clean_copy(path: Path, target: Path, report: FileReport, quarantine: Quarantine,
               validate_json: bool) -> Lines:
    """Line-by-line pass: quarantine unreadable lines, write the rest to `target` with a line map."""
    kept: list[int] = []
    utf16 = _utf16(path)
    with path.open("rb") as src, target.open("wb") as out:
        reader = codecs.getreader("utf-16")(src, errors="strict") if utf16 else None
        for number, raw in enumerate(reader if reader is not None else src, start=1):
            if isinstance(raw, str):
                text = raw
            else:
                try:
                    text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    quarantine.add(report, number, f"not UTF-8 ({exc.reason} at byte {exc.start})", raw)
                    continue
            text = text.strip()
            if not text:
                report.skipped["blank line"] += 1
                continue
            if validate_json:
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    quarantine.add(report, number, f"malformed JSON: {exc.msg} at column {exc.colno}", text)
                    continue
                if not isinstance(value, dict):
                    quarantine.add(report, number, f"JSON {type(value).__name__}, not an object", text)
                    continue
            out.write(text.encode("utf-8") + b"\n")
            kept.append(number)
    lines = np.asarray(kept, dtype=np.int64)
    table = pa.table({"row": np.arange(1, len(lines) + 1, dtype=np.int64), "line": lines})
    return Lines(target, table, len(kept))
