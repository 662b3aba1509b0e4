"""Stream the cleaned corpus as JSON Lines or CSV, one record per article, in constant memory."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy.orm import Session

from storage.models import Article
from storage.repository import articles_query, iter_articles
from storage.times import iso
from storage.urls import is_web_url

FORMATS = ("jsonl", "csv")
FIELDS = (
    "story_id", "is_original", "url", "canonical_url", "outlet", "title", "authors", "published",
    "published_source", "language", "site_name", "description", "tags", "image", "text", "text_hash", "page_kind",
    "fetched_at",
)  # fmt: skip


def record_of(article: Article, outlet_name: str, original_id: int | None = None) -> dict[str, Any]:
    """The export record of one article: ISO 8601 dates with offsets, lists as lists."""
    return {
        "story_id": article.story_id,
        "is_original": original_id == article.id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "outlet": outlet_name,
        "title": article.title,
        "authors": list(article.authors or []),
        "published": iso(article.published),
        "published_source": article.published_source,
        "language": article.language,
        "site_name": article.site_name,
        "description": article.description,
        "tags": list(article.tags or []),
        "image": article.image if is_web_url(article.image or "") else None,
        "text": article.text,
        "text_hash": article.text_hash,
        "page_kind": article.page_kind,
        "fetched_at": iso(article.fetched_at),
    }


def iter_records(
    session: Session, *, since: datetime | None = None, outlet_slug: str | None = None
) -> Iterator[dict[str, Any]]:
    """Export records in publication order, streamed from the database."""
    for article, outlet_name, original_id in iter_articles(session, articles_query(since, outlet_slug)):
        yield record_of(article, outlet_name, original_id)


def write_export(records: Iterator[dict[str, Any]], out: IO[str], fmt: str) -> int:
    """Write records as JSONL (one object per line) or CSV (lists as JSON arrays); return the count."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {FORMATS}")
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
    first = next(records, None)
    fields = FIELDS if first is None or "canonical_url" in first else tuple(first)
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for record in itertools.chain([first] if first is not None else [], records):
        row = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for k, v in record.items()}
        writer.writerow(row)
        count += 1
    return count
