"""Write the corpus as Parquet (pyarrow) with one fixed schema, streamed in row groups: memory stays flat.

The schema is the same whatever the rows hold — a column that is null in every row keeps its type — so
files of different outlets or exports load together (pandas, polars, DuckDB, HuggingFace `datasets`).
Times are `timestamp[us, tz=UTC]`; a Parquet column has one time zone, so `published_offset` (minutes east
of UTC) and `published_raw` keep what the page wrote. With a partition (outlet or month) the output is a
directory of parts (`reuters/part-0.parquet`, `2025-07/part-0.parquet`), one writer open per partition: plain
directory names, not Hive's `outlet=…`, which readers would add as a second `outlet` column. Files and
directories are written under a temporary name and put in place only when complete (storage/common/files.py).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.common.files import Replacement
from storage.corpus.fields import CORPUS_FIELDS
from storage.corpus.lines import ExportRefused, file_target
from storage.corpus.partition_names import path_segment, unique_segments
from storage.models import Outlet

logger = logging.getLogger(__name__)

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
    """A batch in SCHEMA from storage.corpus.fields.corpus_columns: JSON lists parsed, times converted a
    column at once."""
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


def parquet_writer(
    session: Session, out: Path | IO[str], partition: str | None = None
) -> ParquetCorpusWriter | PartitionedParquetWriter:
    """The Parquet writer for `out`: one file, or with a `partition` a directory of parts."""
    if partition is None:
        return ParquetCorpusWriter(session, out)
    return PartitionedParquetWriter(session, out, partition)


class ParquetCorpusWriter:
    """The corpus as one Parquet file (zstd), a row group per GROUP_ROWS rows (a CorpusWriter, written from
    columns). Reading and converting run in the caller's thread, compressing and writing in another (pyarrow
    releases the GIL there), at most one row group apart: the two overlap, and memory stays bounded. The file
    is written under a temporary name and renamed onto `out` when complete. With no rows, a valid file of the
    schema and no row group (an incremental export of nothing new)."""

    columnar = True

    def __init__(self, session: Session, out: Path | IO[str], partition: str | None = None) -> None:
        if partition is not None:
            raise ExportRefused("a partitioned export is written by PartitionedParquetWriter")
        self.out = file_target(out, "parquet")
        self.group: list[pa.RecordBatch] = []
        self.replacement: Replacement | None = None
        self.writes: _BackgroundWrites | None = None

    def start(self) -> None:
        _use_system_allocator()
        self.replacement = Replacement(self.out)
        self.writes = _BackgroundWrites(_parquet_writer(self.replacement.temporary))

    def write_batch(self, columns: dict[str, list[Any]]) -> None:
        assert self.writes is not None, "start() first"
        self.group.append(record_batch(columns))
        if sum(batch.num_rows for batch in self.group) >= GROUP_ROWS:
            self.writes.put(pa.Table.from_batches(self.group))
            self.group = []

    def finish(self) -> None:
        assert self.writes is not None and self.replacement is not None, "start() first"
        if self.group:
            self.writes.put(pa.Table.from_batches(self.group))
            self.group = []
        self.writes.close()
        self.replacement.commit()

    def abort(self) -> None:
        if self.writes is not None:
            self.writes.close(failed=True)
        if self.replacement is not None:
            self.replacement.discard()


def _use_system_allocator() -> None:
    """Arrow's buffers from the C library's malloc: mimalloc (pyarrow's default) keeps what another thread
    freed, 295 MB peak where malloc needs 227 (bench/export.py, 200,000 rows)."""
    pa.set_memory_pool(pa.system_memory_pool())


class _BackgroundWrites:
    """A Parquet writer fed by a thread through a queue of at most one row group; its error is raised in the
    caller's thread. `close` ends the thread and the file."""

    def __init__(self, writer: pq.ParquetWriter) -> None:
        self.writer = writer
        self.queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="parquet-writer", daemon=True)
        self.thread.start()

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

    def close(self, *, failed: bool = False) -> None:
        """Wait for the writes queued, then close the file (its footer); raise the thread's error unless the
        export already `failed`."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        self.writer.close()
        if self.error is not None and not failed:
            raise self.error


def partition_keys(batch: pa.RecordBatch, by: str) -> pa.Array:
    """Each row's part: the outlet's name (mapped to its directory by the writer), or YYYY-MM (of publication,
    else of fetching)."""
    if by == "outlet":
        return batch.column("outlet")
    when = pc.coalesce(batch.column("published"), batch.column("fetched_at"))
    return pc.strftime(when, format="%Y-%m")


class PartitionedParquetWriter:
    """The corpus as a directory of parts, one per outlet or month (`reuters/part-0.parquet`,
    `2025-07/part-0.parquet`), one Parquet writer open per part (a CorpusWriter, written from columns). An
    outlet's directory is its name's path segment (storage/corpus/partition_names.py: the feeds' slug,
    percent-encoded), unique among the database's outlets. The directory is written under a temporary name
    and renamed onto `out` when complete: `out` must not exist, or be empty."""

    columnar = True

    def __init__(self, session: Session, out: Path | IO[str], partition: str | None = None) -> None:
        if partition not in PARTITIONS:
            raise ExportRefused(f"partition by one of {', '.join(PARTITIONS)}, not {partition!r}")
        if not isinstance(out, Path):
            raise ExportRefused("--partition writes a directory: give --out DIR")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            what = "is not empty (its parts would be replaced)" if out.is_dir() else "is a file, not a directory"
            raise ExportRefused(f"--partition writes a new directory: {out} {what}")
        self.session, self.out, self.by = session, out, partition
        self.directories: dict[str, str] = {}
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.replacement: Replacement | None = None

    def start(self) -> None:
        _use_system_allocator()
        if self.by == "outlet":
            names = self.session.scalars(select(Outlet.name).order_by(Outlet.id))
            self.directories = unique_segments(names)
        self.replacement = Replacement(self.out, directory=True)

    def write_batch(self, columns: dict[str, list[Any]]) -> None:
        batch = record_batch(columns)
        keys = partition_keys(batch, self.by)
        for key in pc.unique(keys).to_pylist():
            self._writer(key).write_batch(batch.filter(pc.equal(keys, key)))

    def _writer(self, key: str) -> pq.ParquetWriter:
        assert self.replacement is not None, "start() first"
        if key not in self.writers:
            directory = self.replacement.temporary / (self.directories.get(key) or path_segment(key) or "unnamed")
            directory.mkdir()
            self.writers[key] = _parquet_writer(directory / "part-0.parquet")
        return self.writers[key]

    def _close(self) -> None:
        while self.writers:
            self.writers.popitem()[1].close()

    def finish(self) -> None:
        assert self.replacement is not None, "start() first"
        self._close()
        self.replacement.commit()

    def abort(self) -> None:
        try:
            self._close()
        finally:
            if self.replacement is not None:
                self.replacement.discard()
