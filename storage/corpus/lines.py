"""Write the corpus (storage/corpus/fields.py), or any records, as JSON Lines or CSV, streamed: one record
per line or row.

Times are ISO 8601 with their offset (`published` in the offset the page wrote it in); in CSV, lists and
citations are JSON arrays in their cell, a missing value is an empty cell, and a text cell that a spreadsheet
would run as a formula (one beginning with = + - @, a tab or a carriage return: OWASP's CSV-injection list) gets a
leading single quote. JSON Lines carries every text as it is. A file is written under a temporary name and put in
place only when complete (storage/common/files.py); a stream (stdout) is written as the records come.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from storage.common.files import Replacement
from storage.corpus.fields import CORPUS_FIELDS, CorpusRow

logger = logging.getLogger(__name__)

TEXT_FORMATS = ("jsonl", "csv")
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: cells beginning with these are run as formulas


class ExportRefused(ValueError):
    """An export asked for something its format or target cannot do (one line; nothing was written)."""


def file_target(out: Path | IO[str], fmt: str) -> Path:
    """`out` as the file a format writes, or ExportRefused: a stream, or a directory."""
    if not isinstance(out, Path):
        raise ExportRefused(f"--format {fmt} writes a file: give --out FILE")
    if out.is_dir():
        raise ExportRefused(f"--out {out} is a directory: give a file name (a directory is for --partition)")
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: lists and objects as JSON, times in ISO 8601, and a text a spreadsheet would take
    for a formula quoted with a leading `'` (numbers stay numbers: they cannot hold a formula)."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    value = _plain(value)
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """One JSON object per line; return how many."""
    count = 0
    for record in records:
        out.write(json.dumps({k: _plain(v) for k, v in record.items()}, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(records: Iterable[dict[str, Any]], out: IO[str], fields: tuple[str, ...] = CORPUS_FIELDS) -> int:
    """A header, then one row per record (csv_cell); return how many."""
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow({k: csv_cell(v) for k, v in record.items()})
        count += 1
    return count


def write_records(records: Iterable[dict[str, Any]], fmt: str, out: Path | IO[str], fields: tuple[str, ...]) -> int:
    """`records` as JSON Lines or CSV (with these `fields`) to a file, replaced only once complete, or to a
    stream; return how many (the stories and citation exports)."""
    if fmt not in TEXT_FORMATS:
        raise ExportRefused(f"records are written as {' or '.join(TEXT_FORMATS)}, not {fmt}")
    if not isinstance(out, Path):
        return write_jsonl(records, out) if fmt == "jsonl" else write_csv(records, out, fields)
    with Replacement(file_target(out, fmt)) as replacement:
        handle = replacement.open("w", encoding="utf-8", newline="")
        return write_jsonl(records, handle) if fmt == "jsonl" else write_csv(records, handle, fields)


class TextCorpusWriter:
    """The corpus as JSON Lines or CSV (a CorpusWriter, storage/corpus/export.py): to a file through a
    temporary, or to a stream."""

    columnar = False
    fmt = "jsonl"

    def __init__(self, session: Session, out: Path | IO[str], partition: str | None = None) -> None:
        if partition is not None:
            raise ExportRefused("--partition splits a Parquet export: add --format parquet")
        self.out = file_target(out, self.fmt) if isinstance(out, Path) else out
        self.replacement: Replacement | None = None
        self.handle: IO[str] | None = None
        self.csv: csv.DictWriter[str] | None = None

    def start(self) -> None:
        if isinstance(self.out, Path):
            self.replacement = Replacement(self.out)
            self.handle = self.replacement.open("w", encoding="utf-8", newline="")
        else:
            self.handle = self.out
        if self.fmt == "csv":
            self.csv = csv.DictWriter(self.handle, fieldnames=CORPUS_FIELDS, extrasaction="ignore")
            self.csv.writeheader()

    def write_batch(self, rows: list[CorpusRow]) -> None:
        assert self.handle is not None, "start() first"
        if self.csv is not None:
            self.csv.writerows({k: csv_cell(v) for k, v in row.record.items()} for row in rows)
        else:
            write_jsonl((row.record for row in rows), self.handle)

    def finish(self) -> None:
        if self.replacement is not None:
            self.replacement.commit()
        elif self.handle is not None:
            self.handle.flush()

    def abort(self) -> None:
        if self.replacement is not None:
            self.replacement.discard()


class JsonLinesWriter(TextCorpusWriter):
    fmt = "jsonl"


class CsvWriter(TextCorpusWriter):
    fmt = "csv"
