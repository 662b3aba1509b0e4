"""The exported corpus: one record per article with its provenance, the same fields in every format, streamed.

Records are read with Core (columns, not ORM objects) in partitions of PARTITION rows, each partition's
citations in one query, so memory stays flat and a million rows stream at the writers' speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Select, String, func, select, type_coerce
from sqlalchemy.orm import Session

from storage.common.urls import article_uid, is_web_url
from storage.models import Article, Citation, Outlet, Story

PARTITION = 2000  # rows read at a time (and whose citations are read together)

CORPUS_FIELDS = (
    "id", "version", "story_id", "is_original", "url", "canonical_url", "outlet", "title", "authors",
    "published", "published_offset", "published_raw", "published_source", "fetched_at", "discovered_via",
    "listing", "language", "license", "citations", "text", "extractor", "site_name", "description", "tags",
    "image", "text_hash", "page_kind",
)  # fmt: skip
"""Every record's fields, in this order, in JSON Lines, CSV, Parquet and WARC metadata alike (README)."""


@dataclass(frozen=True)
class CorpusFilter:
    """Which articles an export holds; every field narrows it (None: no narrowing)."""

    since: datetime | None = None  # published since (or fetched since, for articles with no date)
    since_fetched: datetime | None = None  # fetched (first or again) since
    run_id: int | None = None  # stored or revised by this crawl run
    outlet_slug: str | None = None
    after_change: int | None = None  # stored or revised after this store batch (the --state cursor)


_COLUMNS = (
    Article.id, Article.version, Article.story_id, Story.original_article_id, Article.url, Article.canonical_url,
    Outlet.name, Article.title, Article.authors, Article.published, Article.published_offset,
    Article.published_raw, Article.published_source, Article.fetched_at, Article.discovered_via, Article.listing,
    Article.language, Article.license, Article.text, Article.extractor, Article.site_name, Article.description,
    Article.tags, Article.image, Article.text_hash, Article.page_kind, Article.changed,
)  # fmt: skip


def corpus_query(wanted: CorpusFilter) -> Select:
    """The SELECT of the export's rows, in publication order (then id)."""
    newest = func.coalesce(Article.published, Article.fetched_at)
    stmt = (
        select(*_COLUMNS)
        .join(Outlet, Article.outlet_id == Outlet.id)
        .outerjoin(Story, Article.story_id == Story.id)
        .order_by(newest, Article.id)
    )
    if wanted.since is not None:
        stmt = stmt.where(newest >= wanted.since)
    if wanted.since_fetched is not None:
        stmt = stmt.where(Article.fetched_at >= wanted.since_fetched)
    if wanted.run_id is not None:
        stmt = stmt.where(Article.run_id == wanted.run_id)
    if wanted.outlet_slug is not None:
        stmt = stmt.where(Outlet.slug == wanted.outlet_slug)
    if wanted.after_change is not None:
        stmt = stmt.where(Article.changed > wanted.after_change)
    return stmt


def local_time(published: datetime | None, offset: int | None) -> datetime | None:
    """The publication time in the offset the page wrote it in (UTC when that is not known)."""
    if published is None:
        return None
    published = published if published.tzinfo else published.replace(tzinfo=UTC)
    return published.astimezone(timezone(timedelta(minutes=offset))) if offset is not None else published


@dataclass
class CorpusRow:
    """One exported record (the CORPUS_FIELDS), the store batch that last changed it (the cursor) and its row
    id in this database (to find its kept response)."""

    record: dict[str, Any]
    changed: int
    article_id: int


def iter_corpus(session: Session, wanted: CorpusFilter) -> Iterator[CorpusRow]:
    """The export's records, streamed. Times are aware datetimes (each writer formats them); `published` in
    its own offset."""
    result = session.execute(corpus_query(wanted).execution_options(yield_per=PARTITION))
    for rows in result.partitions():
        cited = _citation_tuples(session.connection(), [row.id for row in rows])
        for row in rows:
            citations = [{"name": n, "kind": k, "domain": d} for n, k, d in cited.get(row.id, [])]
            yield CorpusRow(_record(row, citations), row.changed, row.id)


def corpus_row_batches(session: Session, wanted: CorpusFilter, size: int = PARTITION) -> Iterator[list[CorpusRow]]:
    """iter_corpus in lists of up to `size` rows: what a record writer is given."""
    batch: list[CorpusRow] = []
    for row in iter_corpus(session, wanted):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _record(row: Any, citations: list[dict[str, str | None]]) -> dict[str, Any]:
    return {
        "id": article_uid(row.canonical_url),
        "version": row.version,
        "story_id": row.story_id,
        "is_original": row.original_article_id == row.id,
        "url": row.url,
        "canonical_url": row.canonical_url,
        "outlet": row.name,
        "title": row.title,
        "authors": list(row.authors or []),
        "published": local_time(row.published, row.published_offset),
        "published_offset": row.published_offset,
        "published_raw": row.published_raw,
        "published_source": row.published_source,
        "fetched_at": row.fetched_at,
        "discovered_via": row.discovered_via,
        "listing": row.listing,
        "language": row.language,
        "license": row.license,
        "citations": citations,
        "text": row.text,
        "extractor": row.extractor,
        "site_name": row.site_name,
        "description": row.description,
        "tags": list(row.tags or []),
        "image": row.image if is_web_url(row.image or "") else None,
        "text_hash": row.text_hash,
        "page_kind": row.page_kind,
    }


# --- columns at a time: what Parquet is written from ------------------------------------------------------

_RAW = {"authors", "tags", "published", "fetched_at"}  # read as the driver gives them: converted by column


def corpus_columns(session: Session, wanted: CorpusFilter, rows: int = 5000) -> Iterator[dict[str, list[Any]]]:
    """The export's records as columns (CORPUS_FIELDS → a list each), `rows` records at a time, in the order
    they were stored, for a columnar writer: JSON lists arrive as their JSON text and times as the driver
    returns them (SQLite: text; PostgreSQL: datetimes), for the writer to convert a whole column at once.
    Rows are read on the session's Core connection and turned into columns with zip (no per-row Python work
    but the id's hash)."""
    columns = [type_coerce(column, String()).label(column.key) if column.key in _RAW else column for column in _COLUMNS]
    # in storage order: sorting a million rows by date makes the database sort every text too (5× slower at 1M)
    stmt = corpus_query(wanted).with_only_columns(*columns).order_by(None).order_by(Article.id)
    names = [column.key for column in _COLUMNS]
    names[names.index("name")] = "outlet"
    connection = session.connection()
    result = connection.execute(stmt.execution_options(yield_per=rows))
    for partition in result.partitions():
        batch = dict(zip(names, map(list, zip(*partition, strict=True)), strict=True))
        ids = batch["id"]
        cited = _citation_tuples(connection, ids)
        batch["citations"] = [cited.get(article_id, []) for article_id in ids]
        batch["is_original"] = [
            original == article_id for original, article_id in zip(batch["original_article_id"], ids, strict=True)
        ]
        batch["id"] = [article_uid(url) for url in batch["canonical_url"]]
        batch["image"] = [url if url and is_web_url(url) else None for url in batch["image"]]
        yield batch


def _citation_tuples(connection: Any, article_ids: list[int]) -> dict[int, list[tuple[str, str, str | None]]]:
    """Each article's citations as (name, kind, domain), in the order they were found: one query per partition."""
    found: dict[int, list[tuple[str, str, str | None]]] = {}
    stmt = (
        select(Citation.article_id, Citation.name, Citation.kind, Citation.domain)
        .where(Citation.article_id.in_(article_ids))
        .order_by(Citation.article_id, Citation.id)
    )
    for article_id, name, kind, domain in connection.execute(stmt).all():
        found.setdefault(article_id, []).append((name, kind, domain))
    return found
