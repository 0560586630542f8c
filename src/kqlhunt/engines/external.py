"""Reading `externaldata` sources: URIs resolved to local files, files read into Arrow by format.

Hunts use `externaldata` for threat-intel lists on GitHub and for allow-lists. kqlhunt never reaches the
network unless asked: a URI is first looked up in the caller's mapping (URI -> local file, for offline
runs and tests), then taken as a local path (`file://` or a plain path), and only fetched over http(s)
when fetching is enabled (`fetch=True`, CLI `--fetch-external`). Fetched files are cached by URL.

Every format yields the declared columns as text (or, for Parquet, as stored); the engine's typed view
then converts them to the declared Kusto types exactly as it does for any other text source. Kusto maps
delimited formats by position (extra fields ignored, missing fields null) and JSON by property name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from kqlhunt.diagnostics import error
from kqlhunt.semantic.bound import ExternalSource

DELIMITERS = {"csv": ",", "tsv": "\t", "tsve": "\t", "scsv": ";", "sohsv": "\x01", "psv": "|"}
FETCH_TIMEOUT_S = 60


@dataclass
class ExternalResolver:
    """Where an `externaldata` URI's bytes come from."""

    mapping: Mapping[str, str | os.PathLike[str]] = field(default_factory=dict)
    fetch: bool = False
    cache_dir: Path | None = None
    fetched: list[str] = field(default_factory=list)  # URLs fetched in this run (reported by the CLI)

    def resolve(self, uri: str, source: ExternalSource) -> Path:
        key = uri.split(";", 1)[0]  # Azure storage URIs carry `;<secret>` after the address
        for candidate in (uri, key):
            if candidate in self.mapping:
                return self._existing(Path(self.mapping[candidate]), uri, source)
        parsed = urllib.parse.urlparse(key)
        if parsed.scheme in ("http", "https"):
            if not self.fetch:
                raise error("KH420", f"externaldata wants {key!r} and fetching is off", source.span,
                            "map it to a local file (API: externaldata={url: path}; CLI: --external URL=PATH) "
                            "or allow fetching (API: fetch_external=True; CLI: --fetch-external)")
            return self._download(key, source)
        if parsed.scheme == "file":
            return self._existing(Path(urllib.request.url2pathname(parsed.path)), uri, source)
        if parsed.scheme and len(parsed.scheme) > 1:
            raise error("KH420", f"externaldata cannot read {parsed.scheme}:// URIs", source.span,
                        "map the URI to a local file (API: externaldata={uri: path}; CLI: --external URI=PATH)")
        return self._existing(Path(key), uri, source)

    @staticmethod
    def _existing(path: Path, uri: str, source: ExternalSource) -> Path:
        if not path.is_file():
            raise error("KH421", f"externaldata file {str(path)!r} (for {uri!r}) does not exist", source.span)
        return path

    def _download(self, url: str, source: ExternalSource) -> Path:
        cache = self.cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kqlhunt"
        cache.mkdir(parents=True, exist_ok=True)
        target = cache / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".data")
        if not target.exists():
            try:
                with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:  # noqa: S310 - http(s) only
                    data = response.read()
            except OSError as exc:
                raise error("KH422", f"externaldata could not fetch {url!r}: {exc}", source.span) from None
            partial = target.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(target)
        self.fetched.append(url)
        return target


def read_external(source: ExternalSource, resolver: ExternalResolver) -> pa.Table:
    """All of a source's URIs as one Arrow table with the declared column names."""
    parts = [_read_one(resolver.resolve(uri, source), source) for uri in source.uris]
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def _read_one(path: Path, source: ExternalSource) -> pa.Table:
    names = [c.name for c in source.schema]
    fmt = source.format
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        columns = [table.column(n) if n in table.column_names else pa.nulls(table.num_rows, pa.string())
                   for n in names]
        return pa.table(dict(zip(names, columns, strict=True)))
    text = _text(path, source)
    if fmt in DELIMITERS:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[fmt]))
        if source.ignore_first_record and rows:
            rows = rows[1:]
        rows = [r for r in rows if r]  # a blank line is no record
        return _by_position(names, rows)
    if fmt == "txt":
        lines = text.splitlines()
        if source.ignore_first_record and lines:
            lines = lines[1:]
        return _by_position(names, [[line] for line in lines])
    if fmt == "raw":
        return _by_position(names, [[text]])
    return _by_name(names, _json_records(text, path, source))


def _text(path: Path, source: ExternalSource) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error("KH423", f"externaldata file {str(path)!r} is not UTF-8 text (byte {exc.start})",
                    source.span) from None


def _by_position(names: list[str], rows: list[list[str]]) -> pa.Table:
    columns = {n: [r[i] if i < len(r) else None for r in rows] for i, n in enumerate(names)}
    return pa.table({n: pa.array(v, pa.string()) for n, v in columns.items()})


def _json_records(text: str, path: Path, source: ExternalSource) -> list[dict[str, object]]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise error("KH423", f"externaldata file {str(path)!r}: bad JSON at line {exc.lineno}", source.span) \
                from None
    else:
        records = []
        decoder = json.JSONDecoder()
        i = 0
        while True:  # JSON lines, or objects one after another (Kusto's multijson)
            while i < len(text) and text[i] in " \t\r\n":
                i += 1
            if i >= len(text):
                break
            try:
                value, i = decoder.raw_decode(text, i)
            except json.JSONDecodeError as exc:
                raise error("KH423", f"externaldata file {str(path)!r}: bad JSON at line {exc.lineno}",
                            source.span) from None
            records.append(value)
    return [r if isinstance(r, dict) else {} for r in records]


def _by_name(names: list[str], records: list[dict[str, object]]) -> pa.Table:
    def text(v: object) -> str | None:
        if v is None:
            return None
        return v if isinstance(v, str) else json.dumps(v)

    return pa.table({n: pa.array([text(r.get(n)) for r in records], pa.string()) for n in names})


__all__ = ["ExternalResolver", "read_external", "DELIMITERS"]
