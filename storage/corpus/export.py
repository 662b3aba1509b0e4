"""`export_corpus`: the cleaned corpus written in one format by a writer chosen by the format's name, as Scrapy
chooses its item exporters (FEED_EXPORTERS); then the dataset card and the incremental cursor.

A writer (CorpusWriter) is started, given batches, and finished; it writes its output under a temporary name
and puts it in place only when finished (storage/common/files.py), so a failed or killed export leaves the earlier file
as it was. The card is written after the output, and the state last: a state that moved means everything before
it was written (an export killed between the two is exported again, never lost).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from importlib import import_module
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.corpus.card import write_card
from storage.corpus.fields import CorpusFilter, corpus_columns, corpus_row_batches
from storage.corpus.lines import ExportRefused
from storage.corpus.state import ExportState
from storage.identity import database_id
from storage.models import Article

logger = logging.getLogger(__name__)

ROW_BATCH = 2000  # records given to a record writer at once
COLUMN_BATCH = 500  # rows per database read of a columnar writer: peak RSS ≤ 250 MB at any size (bench/export.py)

WRITERS = {
    "jsonl": "storage.corpus.lines:JsonLinesWriter",
    "csv": "storage.corpus.lines:CsvWriter",
    "parquet": "storage.corpus.parquet:parquet_writer",  # one file, or a directory of parts with a partition
    "warc": "storage.corpus.warc:WarcCorpusWriter",
}
"""Format name → writer class or factory ("module:name", imported when chosen: JSON Lines never loads pyarrow)."""


class CorpusWriter(Protocol):
    """What writes one export format. `columnar` writers get batches of columns (storage.corpus.fields.corpus_columns:
    field → a list), the others lists of CorpusRow. Built as `Writer(session, out, partition)`: a refusal
    (ExportRefused) there, before anything is written."""

    columnar: bool

    def start(self) -> None:
        """Open the output (a temporary beside it)."""

    def write_batch(self, batch: Any) -> None:
        """Write these records."""

    def finish(self) -> None:
        """Complete the output and put it in place."""

    def abort(self) -> None:
        """Drop what was written: the earlier output stays as it was."""


def make_writer(fmt: str, session: Session, out: Path | IO[str], partition: str | None = None) -> CorpusWriter:
    """The writer of format `fmt` (WRITERS) for `out`; ExportRefused for an unknown format or what it cannot do."""
    if fmt not in WRITERS:
        raise ExportRefused(f"no export format {fmt!r} (formats: {', '.join(WRITERS)})")
    module, _, attribute = WRITERS[fmt].partition(":")
    writer: CorpusWriter = getattr(import_module(module), attribute)(session, out, partition)
    return writer


def export_corpus(
    session: Session,
    selection: CorpusFilter,
    fmt: str,
    out: Path | IO[str],
    state: Path | None = None,
    *,
    partition: str | None = None,
    card: Path | None = None,
) -> int:
    """Write the articles `selection` picks as `fmt` to `out` (a file, a directory with `partition`, or a text
    stream); with `state`, only those stored or revised since the export that last wrote that file, which is then
    moved on; with `card`, also the selection's dataset card. Return how many records were written.

    Refused before anything is written: StateUnreadable (a state file that is not one, or of another database),
    ExportRefused (an option the format cannot honour)."""
    previous, this_database = None, None
    if state is not None:
        this_database = database_id(session)
        previous = ExportState.read(state)
        if previous is not None:
            newest_batch = session.scalar(select(func.coalesce(func.max(Article.changed), 0))) or 0
            previous.check(state, this_database, newest_batch)
            selection = replace(selection, after_change=previous.changed)
    writer = make_writer(fmt, session, out, partition)
    count, newest = _write(writer, session, selection)
    if card is not None:
        write_card(session, selection, card, _data_files(out, partition))
    if state is not None:
        cursor = max(newest, previous.changed if previous is not None else 0)
        ExportState(changed=cursor, records=count, database=this_database).write(state)
    return count


def _write(writer: CorpusWriter, session: Session, selection: CorpusFilter) -> tuple[int, int]:
    """Run `writer` over the selection; (records written, the newest store batch among them)."""
    count = newest = 0
    try:
        writer.start()
        for batch in _batches(writer, session, selection):
            writer.write_batch(batch)
            changed = batch["changed"] if writer.columnar else [row.changed for row in batch]
            count += len(changed)
            newest = max([newest, *changed])
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    return count, newest


def _batches(writer: CorpusWriter, session: Session, selection: CorpusFilter) -> Iterator[Any]:
    if writer.columnar:
        return corpus_columns(session, selection, COLUMN_BATCH)
    return corpus_row_batches(session, selection, ROW_BATCH)


def _data_files(out: Path | IO[str], partition: str | None) -> str | None:
    """What the card's `configs` point at: the file, or the parts of the directory, beside the card."""
    if not isinstance(out, Path):
        return None
    return f"{out.name}/*/*.parquet" if partition else out.name
