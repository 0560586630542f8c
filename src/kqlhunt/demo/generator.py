"""Deterministic demo `DeviceNetworkEvents` telemetry, streamed to a Parquet lake.

    generate_lake(lake, rows) -> GenerationSummary  # <lake>/DeviceNetworkEvents/date=YYYY-MM-DD/*.parquet
    generate_table(rows) -> pyarrow.Table           # the same rows in memory (for tests)

The output is a pure function of (rows, seed, now, days). Background rows are spread over hourly slots
with a working-day profile and drawn in batches of at most `BATCH_ROWS` rows from the lookup tables of
`model.TableModel` (which in turn come from `catalog` and `fleet`), so memory stays bounded by a couple of
batches whatever `rows` is. The planted activity of `plants` is appended to the day it falls on. Column
names, order and Parquet types are those of `schema` (docs/CONVENTIONS.md, the 45-column Defender table).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kqlhunt.demo.model import TableModel, allocate
from kqlhunt.demo.plants import HOUR, SECOND, Burst, plant_bursts
from kqlhunt.demo.schema import BATCH_SCHEMA, SCHEMA, TABLE, TEXT_COLUMNS

BATCH_ROWS = 250_000
MIN_BACKGROUND_ROWS = 1_000
DEFAULT_NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class GenerationSummary:
    """What generate_lake wrote: the table directory and its files, row counts (background + planted),
    fleet size, the covered window [start, now) in UTC, the seed and the wall time taken."""

    table_dir: Path
    files: tuple[Path, ...]
    rows: int
    background_rows: int
    planted_rows: int
    devices: int
    start: datetime
    now: datetime
    seed: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return DEFAULT_NOW
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def _us(dt: datetime) -> int:
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


# ----------------------------------------------------------------------------------------------------------
# Time layout: hourly slots weighted by a working-day profile, grouped by UTC day.

def _diurnal(hour: int, weekday: int) -> float:
    if weekday >= 5:
        return 0.3
    if 8 <= hour < 18:
        return 1.0
    if hour in (7, 18, 19):
        return 0.55
    return 0.25


def _slots(start_us: int, end_us: int) -> list[tuple[int, int, float]]:
    """(slot start, slot length, weight) for UTC-hour-aligned slots covering [start, end)."""
    out = []
    t = start_us
    while t < end_us:
        nxt = min(end_us, (t // HOUR + 1) * HOUR)
        dt = datetime.fromtimestamp(t / 1e6, UTC)
        out.append((t, nxt - t, (nxt - t) / HOUR * _diurnal(dt.hour, dt.weekday())))
        t = nxt
    return out


def _day_of(t_us: int) -> date:
    return datetime.fromtimestamp(t_us // SECOND, UTC).date()


@dataclass
class _Plan:
    """What to generate: lookup tables, background row counts per hourly slot, and the planted bursts."""

    model: TableModel
    seed: int
    background_rows: int
    planted_rows: int
    slots_by_day: dict[date, list[tuple[int, int, int]]]
    planted_by_day: dict[date, list[Burst]]

    def tasks(self) -> Iterator[tuple[date, Callable[[], pa.RecordBatch]]]:
        """(day, build) in time order, where build() makes one batch: background batches of at most
        BATCH_ROWS rows, then the day's plants. Each build is independent (own RNG stream, known first
        row), so builds may run concurrently and still give the same output."""
        row = 0
        for day, day_slots in self.slots_by_day.items():
            for k, piece in enumerate(_pieces(day_slots)):
                yield day, partial(self._background, day, k, piece, row)
                row += sum(c for _, _, c in piece)
            if day in self.planted_by_day:
                bursts = self.planted_by_day[day]
                yield day, partial(self.model.planted, bursts, row)
                row += sum(len(b.times) for b in bursts)

    def batches(self) -> Iterator[tuple[date, pa.RecordBatch]]:
        for day, build in self.tasks():
            yield day, build()

    def _background(self, day: date, k: int, piece: list[tuple[int, int, int]], first_row: int
                    ) -> pa.RecordBatch:
        rng = np.random.default_rng([self.seed, day.toordinal(), k, 0xBA7C4])
        counts = [c for _, _, c in piece]
        starts = np.repeat(np.array([s for s, _, _ in piece], np.int64), counts)
        lengths = np.repeat(np.array([ln for _, ln, _ in piece], np.int64), counts)
        ts = np.sort(starts + (rng.random(len(starts)) * lengths).astype(np.int64))
        return self.model.sample(rng, ts, first_row)


def _pieces(day_slots: list[tuple[int, int, int]]) -> list[list[tuple[int, int, int]]]:
    """Split a day's (slot start, length, count) into batches of at most BATCH_ROWS rows."""
    pieces: list[list[tuple[int, int, int]]] = [[]]
    room = BATCH_ROWS
    for s, length, c in day_slots:
        while c > 0:
            take = min(c, room)
            pieces[-1].append((s, length, take))
            c -= take
            room -= take
            if room == 0:
                pieces.append([])
                room = BATCH_ROWS
    return [p for p in pieces if p]


def _plan(rows: int, seed: int, now: datetime | None, days: int) -> _Plan:
    if rows <= 0:
        raise ValueError("rows must be positive")
    if days < 1:
        raise ValueError("days must be at least 1")
    end_us = _us(_utc(now))
    start_us = end_us - days * 24 * HOUR
    bursts = [b for b in plant_bursts(end_us, days, seed) if len(b.times)]
    for b in bursts:
        if b.times.min() < start_us or b.times.max() >= end_us:
            raise AssertionError(f"planted burst outside the window: {b.binary.file_name}")
    planted_rows = sum(len(b.times) for b in bursts)
    background = rows - planted_rows
    if background < MIN_BACKGROUND_ROWS:
        raise ValueError(f"rows must be at least {planted_rows + MIN_BACKGROUND_ROWS} "
                         f"({planted_rows} planted rows + background)")
    model = TableModel(rows, seed, [b.binary for b in bursts], [(b.remote_ip, b.url) for b in bursts])
    slots = _slots(start_us, end_us)
    counts = allocate(background, np.array([w for _, _, w in slots]))
    slots_by_day: dict[date, list[tuple[int, int, int]]] = {}
    for (s, length, _), c in zip(slots, counts, strict=True):
        slots_by_day.setdefault(_day_of(s), []).append((s, length, int(c)))
    planted_by_day: dict[date, list[Burst]] = {}
    for b in bursts:
        day_of_event = np.array([_day_of(int(t)) for t in b.times])
        for d in sorted(set(day_of_event)):
            planted_by_day.setdefault(d, []).append(replace(b, times=b.times[day_of_event == d]))
    return _Plan(model, seed, background, planted_rows, slots_by_day, planted_by_day)


def generate_table(rows: int, *, seed: int = 7, now: datetime | None = None, days: int = 7) -> pa.Table:
    """All rows in memory, with the lake's Arrow schema (plain strings)."""
    batches = [b for _, b in _plan(rows, seed, now, days).batches()]
    return pa.Table.from_batches(batches, schema=BATCH_SCHEMA).cast(SCHEMA)


# Parquet settings: dictionary pages for text and low-cardinality numbers; min/max statistics only for
# non-text columns (Timestamp pruning matters; string min/max costs a third of the write time).
_DICTIONARY_COLUMNS = [*TEXT_COLUMNS, "InitiatingProcessFileSize", "InitiatingProcessSessionId", "RemotePort",
                       "IsInitiatingProcessRemoteSession"]
_STATISTICS_COLUMNS = [f.name for f in SCHEMA if f.type != pa.string()]
_WORKERS = 2  # batches built concurrently ahead of the writer (bounds memory: ~_WORKERS + 1 in flight)


def generate_lake(lake: Path, rows: int, *, seed: int = 7, now: datetime | None = None,
                  days: int = 7) -> GenerationSummary:
    """Write `<lake>/DeviceNetworkEvents/date=YYYY-MM-DD/part-00000.parquet`, one file per UTC day, one row
    group per batch. Worker threads build the next batches while this one writes them in order (numpy and
    the Parquet writer release the GIL for their heavy work). Existing files of the table are replaced."""
    t0 = time.perf_counter()
    table_dir = Path(lake) / TABLE
    if table_dir.exists():
        for old in table_dir.glob("date=*/part-*.parquet"):
            old.unlink()
    plan = _plan(rows, seed, now, days)
    files: list[Path] = []
    writer: pq.ParquetWriter | None = None
    current: date | None = None
    tasks = plan.tasks()
    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="kqlhunt-demo") as pool:
        pending: deque[tuple[date, Future[pa.RecordBatch]]] = deque()

        def refill() -> None:
            while len(pending) < _WORKERS and (task := next(tasks, None)) is not None:
                pending.append((task[0], pool.submit(task[1])))

        try:
            refill()
            while pending:
                day, future = pending.popleft()
                batch = future.result()
                refill()  # keep the workers busy while this batch is written
                if day != current:
                    if writer is not None:
                        writer.close()
                    path = table_dir / f"date={day.isoformat()}" / "part-00000.parquet"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    # store_schema=False: readers see the Parquet logical types (string, timestamp[us])
                    # rather than the in-flight dictionary encoding.
                    writer = pq.ParquetWriter(path, BATCH_SCHEMA, compression="snappy", store_schema=False,
                                              use_dictionary=_DICTIONARY_COLUMNS,
                                              write_statistics=_STATISTICS_COLUMNS)
                    files.append(path)
                    current = day
                writer.write_batch(batch, row_group_size=batch.num_rows)
        finally:
            if writer is not None:
                writer.close()
            for _, future in pending:
                future.cancel()
    now_dt = _utc(now)
    return GenerationSummary(table_dir, tuple(files), plan.background_rows + plan.planted_rows,
                             plan.background_rows, plan.planted_rows, plan.model.n_dev,
                             now_dt - timedelta(days=days), now_dt, seed, time.perf_counter() - t0)
