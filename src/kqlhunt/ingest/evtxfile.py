"""Reading EVTX with the Rust-backed `evtx` parser, and accounting for what it could not read.

`evtx` skips a chunk it cannot parse (and a truncated last chunk) with at most an error message, so the
records lost there would vanish silently. Each 64 KB chunk header states its first and last record ids,
so the ids a chunk should hold minus the ids that came out are exactly the unreadable records.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import evtx

FILE_HEADER = 4096
CHUNK = 65536


@dataclass
class Chunk:
    index: int
    first_id: int | None  # None: the chunk header itself is unreadable or cut off
    last_id: int | None
    complete: bool


def chunks(path: Path) -> list[Chunk]:
    out = []
    size = path.stat().st_size
    with path.open("rb") as fh:
        offset, index = FILE_HEADER, 0
        while offset < size:
            fh.seek(offset)
            head = fh.read(40)
            complete = offset + CHUNK <= size
            if len(head) == 40 and head[:8] == b"ElfChnk\x00":
                first_id, last_id = struct.unpack_from("<QQ", head, 24)
                out.append(Chunk(index, first_id, last_id, complete))
            elif head.strip(b"\x00"):  # an all-zero tail is unused preallocated space, not a chunk
                out.append(Chunk(index, None, None, complete))
            offset += CHUNK
            index += 1
    return out


def records(path: Path, errors: list[str]) -> Iterator[tuple[int, str]]:
    """(record id, JSON text) of every readable record; parser messages are appended to `errors`."""
    iterator = evtx.PyEvtxParser(str(path)).records_json()
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return
        except (RuntimeError, OSError, ValueError) as exc:
            errors.append(str(exc))
            continue
        yield int(record["event_record_id"]), record["data"]


def unreadable(path: Path, seen: set[int]) -> Iterator[tuple[str, str]]:
    """(record id or chunk, reason) for every record the chunk headers promise but the parser did not give."""
    for chunk in chunks(path):
        state = "truncated" if not chunk.complete else "corrupt"
        if chunk.first_id is None or chunk.last_id is None or chunk.last_id < chunk.first_id:
            yield f"chunk {chunk.index}", f"{state} chunk {chunk.index}: header unreadable, record count unknown"
            continue
        for record_id in range(chunk.first_id, chunk.last_id + 1):
            if record_id not in seen:
                yield str(record_id), f"record in {state} chunk {chunk.index} could not be parsed"
