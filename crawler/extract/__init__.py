"""Article extraction with no I/O: `extract_article(html, url) -> ArticleRecord`, by way of an `ArticlePage`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.extract.context import STAGES, ExtractionContext
from crawler.extract.record import ArticleRecord, DiscoveryHints

if TYPE_CHECKING:
    from crawler.extract.page import ArticlePage

__all__ = ["STAGES", "ArticlePage", "ArticleRecord", "DiscoveryHints", "ExtractionContext", "extract_article"]


def __getattr__(name: str) -> Any:
    """`ArticlePage` is imported when first used: it brings trafilatura, htmldate, resiliparse and the
    language model, which a process that only handles records (the crawl's main process, the
    feed server) never needs."""
    if name == "ArticlePage":
        from crawler.extract.page import ArticlePage

        return ArticlePage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def extract_article(html: str, url: str, context: ExtractionContext | None = None, **options: Any) -> ArticleRecord:
    """Extract one article: metadata from structured markup first, text by trafilatura, boilerplate out.

    `context` holds what the crawl knows of the page (see ExtractionContext); its fields may also be
    given as keywords (`fetched_at=…, language=…`) when no context is passed.
    """
    if context is None:
        context = ExtractionContext(**options)
    elif options:
        raise TypeError("pass either a context or its fields as keywords, not both")
    from crawler.extract.page import ArticlePage

    return ArticlePage(html, url, context).to_record()
