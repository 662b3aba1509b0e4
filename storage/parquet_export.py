"""Write the corpus as Parquet (pyarrow) with one fixed schema, streamed in row groups: memory stays flat.

The schema is the same whatever the rows hold — a column that is null in every row keeps its type — so
files of different outlets or exports load together (pandas, polars, DuckDB, HuggingFace `datasets`).
Times are `timestamp[us, tz=UTC]`; a Parquet column has one time zone, so `published_offset` (minutes east
of UTC) and `published_raw` keep what the page wrote. With a partition (outlet or month) the output is a
directory of parts (`reuters/part-0.parquet`, `2025-07/part-0.parquet`), one writer open per partition: plain
directory names, not Hive's `outlet=…`, which readers would add as a second `outlet` column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from storage.corpus import CORPUS_FIELDS

ROW_GROUP = 10_000  # rows per row group (a partition's writer flushes at this too)
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


def _batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows, schema=SCHEMA)


def write_parquet(records: Iterable[dict[str, Any]], path: Path) -> int:
    """One Parquet file (zstd), ROW_GROUP rows per row group; return how many records."""
    count = 0
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        rows: list[dict[str, Any]] = []
        for record in records:
            rows.append(record)
            if len(rows) == ROW_GROUP:
                writer.write_batch(_batch(rows))
                count, rows = count + len(rows), []
        if rows or count == 0:
            writer.write_batch(_batch(rows))  # an empty export is a valid file with the schema
            count += len(rows)
    return count


def partition_key(record: dict[str, Any], by: str) -> str:
    """The directory of a record's part: the outlet's name as a path part, or YYYY-MM (of publication, else
    of fetching)."""
    if by == "outlet":
        return re.sub(r"[^\w.-]+", "-", record["outlet"]).strip("-.") or "unnamed"
    when = record["published"] or record["fetched_at"]
    return f"{when:%Y-%m}"


def write_partitioned(records: Iterable[dict[str, Any]], directory: Path, by: str) -> int:
    """Parts under `directory`, one per partition value (see partition_key); return how many records."""
    if by not in PARTITIONS:
        raise ValueError(f"partition by one of {PARTITIONS}, not {by!r}")
    directory.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    pending: dict[str, list[dict[str, Any]]] = {}
    count = 0
    try:
        for record in records:
            key = partition_key(record, by)
            rows = pending.setdefault(key, [])
            rows.append(record)
            if len(rows) == ROW_GROUP:
                _writer(writers, directory, key).write_batch(_batch(rows))
                count, pending[key] = count + len(rows), []
        for key, rows in pending.items():
            if rows:
                _writer(writers, directory, key).write_batch(_batch(rows))
                count += len(rows)
    finally:
        for writer in writers.values():
            writer.close()
    return count


def _writer(writers: dict[str, pq.ParquetWriter], directory: Path, key: str) -> pq.ParquetWriter:
    if key not in writers:
        (directory / key).mkdir(exist_ok=True)
        writers[key] = pq.ParquetWriter(directory / key / "part-0.parquet", SCHEMA, compression="zstd")
    return writers[key]
