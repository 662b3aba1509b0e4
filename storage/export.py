"""Write the corpus (storage/corpus.py) as JSON Lines or CSV, streamed: one record per line or row.

Times are ISO 8601 with their offset (`published` in the offset the page wrote it in); in CSV, lists and
citations are JSON arrays in their cell, and a missing value is an empty cell.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from storage.corpus import CORPUS_FIELDS

TEXT_FORMATS = ("jsonl", "csv")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """One JSON object per line; return how many."""
    count = 0
    for record in records:
        out.write(json.dumps({k: _plain(v) for k, v in record.items()}, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(records: Iterable[dict[str, Any]], out: IO[str], fields: tuple[str, ...] = CORPUS_FIELDS) -> int:
    """A header, then one row per record (lists and objects as JSON); return how many."""
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow(
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else _plain(v)
                for k, v in record.items()
            }
        )
        count += 1
    return count
