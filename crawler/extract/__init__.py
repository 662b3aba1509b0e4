"""Article extraction with no I/O: `extract_article(html, url) -> ArticleRecord`, by way of an `ArticlePage`."""

from __future__ import annotations

from typing import Any

from crawler.extract.context import STAGES, ExtractionContext
from crawler.extract.page import ArticlePage
from crawler.extract.record import ArticleRecord, DiscoveryHints

__all__ = ["STAGES", "ArticlePage", "ArticleRecord", "DiscoveryHints", "ExtractionContext", "extract_article"]


def extract_article(html: str, url: str, context: ExtractionContext | None = None, **options: Any) -> ArticleRecord:
    """Extract one article: metadata from structured markup first, text by trafilatura, boilerplate out.

    `context` holds what the crawl knows of the page (see ExtractionContext); its fields may also be
    given as keywords (`fetched_at=…, language=…`) when no context is passed.
    """
    if context is None:
        context = ExtractionContext(**options)
    elif options:
        raise TypeError("pass either a context or its fields as keywords, not both")
    return ArticlePage(html, url, context).to_record()
