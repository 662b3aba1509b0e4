"""The article factory: the values of one `articles` row as the store pipeline hands them to
storage.repository.insert_article, with plain defaults a test overrides by column name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.common.fingerprint import text_hash
from storage.common.urls import canonical_url
from storage.models import Article
from storage.repository import insert_article

PUBLISHED = datetime(2025, 7, 23, 14, 5, tzinfo=UTC)
FETCHED = datetime(2025, 7, 23, 15, 0, tzinfo=UTC)


def article_values(outlet_id: int, url: str, text: str = "Story text.", **columns: Any) -> dict[str, Any]:
    """One article's column values: the canonical URL, HTML and text hash follow from `url` and `text`
    (unless given), title "T", published PUBLISHED, fetched FETCHED; any other column by keyword."""
    values = {
        "outlet_id": outlet_id,
        "url": url,
        "canonical_url": canonical_url(url),
        "title": "T",
        "text": text,
        "html": f"<p>{text}</p>",
        "text_hash": text_hash(text),
        "fetched_at": FETCHED,
        "published": PUBLISHED,
    }
    return values | columns


def store_article(session: Session, outlet_id: int, url: str, text: str = "Story text.", **columns: Any) -> Article:
    """Insert the article (article_values) through the repository; the row that holds it (new or not)."""
    _outcome, article_id = insert_article(session, article_values(outlet_id, url, text, **columns))
    return session.get(Article, article_id)
