"""Write the corpus as Parquet (pyarrow) with one fixed schema, streamed in row groups: memory stays flat.

The schema is the same whatever the rows hold — a column that is null in every row keeps its type — so
files of different outlets or exports load together (pandas, polars, DuckDB, HuggingFace `datasets`).
Times are `timestamp[us, tz=UTC]`; a Parquet column has one time zone, so `published_offset` (minutes east
of UTC) and `published_raw` keep what the page wrote. With a partition (outlet or month) the output is a
directory of parts (`reuters/part-0.parquet`, `2025-07/part-0.parquet`), one writer open per partition: plain
directory names, not Hive's `outlet=…`, which readers would add as a second `outlet` column.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from storage.corpus import CORPUS_FIELDS

GROUP_ROWS = 2000  # rows per row group: fewer keep the footer (metadata per row group) small, more cost memory
ROW_GROUP = 500  # rows per database read: with GROUP_ROWS, peak RSS ≤ 250 MB at any size (bench/export.py)
PARTITIONS = ("outlet", "month")

_TIME = pa.timestamp("us", tz="UTC")
CITATION = pa.struct([("name", pa.string()), ("kind", pa.string()), ("domain", pa.string())])
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("version", pa.int32()),
        ("story_id", pa.int64()),
        ("is_original", pa.bool_()),
        ("url", pa.string()),
        ("canonical_url", pa.string()),
        ("outlet", pa.string()),
        ("title", pa.string()),
        ("authors", pa.list_(pa.string())),
        ("published", _TIME),
        ("published_offset", pa.int16()),
        ("published_raw", pa.string()),
        ("published_source", pa.string()),
        ("fetched_at", _TIME),
        ("discovered_via", pa.string()),
        ("listing", pa.string()),
        ("language", pa.string()),
        ("license", pa.string()),
        ("citations", pa.list_(CITATION)),
        ("text", pa.string()),
        ("extractor", pa.string()),
        ("site_name", pa.string()),
        ("description", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("image", pa.string()),
        ("text_hash", pa.string()),
        ("page_kind", pa.string()),
    ]
)
assert tuple(SCHEMA.names) == CORPUS_FIELDS  # one list of fields for every format


# min/max statistics only where a reader filters with them: a text's would be kilobytes per row group
STATISTICS = ["version", "story_id", "is_original", "outlet", "published", "fetched_at", "language", "page_kind"]


def _parquet_writer(path: Path) -> pq.ParquetWriter:
    return pq.ParquetWriter(path, SCHEMA, compression="zstd", write_statistics=STATISTICS)


def record_batch(columns: dict[str, list[Any]]) -> pa.RecordBatch:
    """A batch in SCHEMA from storage.corpus.corpus_columns: JSON lists parsed, times converted a column at once."""
    arrays = []
    for field in SCHEMA:
        values = columns[field.name]
        if field.name in ("authors", "tags"):
            arrays.append(pa.array(_lists(values), type=field.type))
        elif field.type == _TIME:
            arrays.append(_times(values))
        else:
            arrays.append(pa.array(values, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def _lists(values: list[Any]) -> list[list[str]]:
    """A JSON column: SQLite gives each row's JSON text (the column is parsed in one call), PostgreSQL's driver
    the lists themselves."""
    if any(isinstance(value, list) for value in values):
        return [value or [] for value in values]
    return json.loads("[" + ",".join(value or "[]" for value in values) + "]")


def _times(values: list[Any]) -> pa.Array:
    """SQLite's UTC text ("2025-07-23 11:05:00.000000") or PostgreSQL's aware datetimes, as timestamps in UTC."""
    array = pa.array(values)
    if pa.types.is_null(array.type):
        return pa.nulls(len(values), _TIME)
    if pa.types.is_string(array.type):
        array = array.cast(pa.timestamp("us"))  # naive: the store's UTC
    return array.cast(_TIME)


def write_parquet(batches: Iterable[dict[str, list[Any]]], path: Path) -> int:
    """One Parquet file (zstd), a row group per batch; return how many records. Reading and converting run in
    this thread, compressing and writing in another (pyarrow releases the GIL there), at most one row group
    apart: the two overlap, and memory stays bounded."""
    _use_system_allocator()
    count = 0
    group: list[pa.RecordBatch] = []
    with _parquet_writer(path) as writer, _BackgroundWrites(writer) as writes:
        for columns in batches:
            group.append(record_batch(columns))
            count += group[-1].num_rows
            if sum(batch.num_rows for batch in group) >= GROUP_ROWS:
                writes.put(pa.Table.from_batches(group))
                group = []
        if group:
            writes.put(pa.Table.from_batches(group))
    return count  # with no rows, a valid file of the schema and no row group (an incremental export of nothing new)


def _use_system_allocator() -> None:
    """Arrow's buffers from the C library's malloc: mimalloc (pyarrow's default) keeps what another thread
    freed, 295 MB peak where malloc needs 227 (bench/export.py, 200,000 rows)."""
    pa.set_memory_pool(pa.system_memory_pool())


class _BackgroundWrites:
    """A writer thread fed through a queue of at most one row group; its error is raised in the caller."""

    def __init__(self, writer: pq.ParquetWriter) -> None:
        self.writer = writer
        self.queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="parquet-writer", daemon=True)

    def __enter__(self) -> _BackgroundWrites:
        self.thread.start()
        return self

    def put(self, table: pa.Table) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(table)

    def _run(self) -> None:
        while (table := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.writer.write_table(table, row_group_size=table.num_rows)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                    self.error = exc

    def __exit__(self, *exc: object) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error


def partition_keys(batch: pa.RecordBatch, by: str) -> pa.Array:
    """Each row's part: the outlet's name as a path part, or YYYY-MM (of publication, else of fetching)."""
    if by == "outlet":
        names = pc.replace_substring_regex(batch.column("outlet"), r"[^\w.-]+", "-")
        return pc.utf8_trim(names, "-.")
    when = pc.coalesce(batch.column("published"), batch.column("fetched_at"))
    return pc.strftime(when, format="%Y-%m")


def write_partitioned(batches: Iterable[dict[str, list[Any]]], directory: Path, by: str) -> int:
    """Parts under `directory`, one per partition value (see partition_keys); return how many records."""
    if by not in PARTITIONS:
        raise ValueError(f"partition by one of {PARTITIONS}, not {by!r}")
    directory.mkdir(parents=True, exist_ok=True)
    _use_system_allocator()
    writers: dict[str, pq.ParquetWriter] = {}
    count = 0
    try:
        for columns in batches:
            batch = record_batch(columns)
            keys = partition_keys(batch, by)
            for key in pc.unique(keys).to_pylist():
                part = batch.filter(pc.equal(keys, key))
                _writer(writers, directory, key or "unnamed").write_batch(part)
                count += part.num_rows
    finally:
        for writer in writers.values():
            writer.close()
    return count


def _writer(writers: dict[str, pq.ParquetWriter], directory: Path, key: str) -> pq.ParquetWriter:
    if key not in writers:
        (directory / key).mkdir(exist_ok=True)
        writers[key] = _parquet_writer(directory / key / "part-0.parquet")
    return writers[key]
