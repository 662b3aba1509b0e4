"""Article extraction with no I/O: `extract_article(html, url) -> ArticleRecord`."""

from __future__ import annotations

import logging
import re
from copy import deepcopy
from datetime import UTC, datetime
from urllib.parse import urljoin

from lxml import etree
from trafilatura import bare_extraction
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.utils import load_html

from crawler.extract.boilerplate import filter_paragraphs, prune_boilerplate, strip_shortcodes
from crawler.extract.dates import byline_dates, choose_date
from crawler.extract.people import byline_authors, clean_authors
from crawler.extract.record import ARTICLE, NOT_ARTICLE, ArticleRecord, DiscoveryHints
from crawler.extract.structured import normalize_language, page_title, read_structured
from crawler.extract.titles import clean_title
from storage.urls import canonical_url, host_of

__all__ = ["ArticleRecord", "DiscoveryHints", "extract_article", "MIN_ARTICLE_WORDS"]

logger = logging.getLogger(__name__)

MIN_ARTICLE_WORDS = 40
_BLOCKS = ("p", "head", "item", "quote", "cell", "code")


def _canonical(url: str, declared: str | None) -> str:
    """The page's canonical URL: the declared one when it stays on the page's own site."""
    if declared:
        absolute = urljoin(url, declared)
        if absolute.startswith(("http://", "https://")) and host_of(absolute) == host_of(url):
            return canonical_url(absolute)
    return canonical_url(url)


def _clean_body(body: etree._Element, title: str) -> list[str]:
    """Drop junk blocks (and a leading repeat of the headline) from trafilatura's body tree in place.

    Returns the kept paragraphs' texts.
    """
    blocks = [b for b in body.iter(*_BLOCKS) if not any(True for _ in b.iterancestors(*_BLOCKS))]
    texts = [re.sub(r"\s+", " ", strip_shortcodes("".join(b.itertext()))).strip() for b in blocks]
    keep = filter_paragraphs(texts)
    if texts and title and texts[0].casefold() == title.casefold():
        keep[0] = False
    kept = []
    for block, text, ok in zip(blocks, texts, keep, strict=True):
        if ok and text:
            kept.append(text)
        elif block.getparent() is not None:
            block.getparent().remove(block)
    return kept


def _to_html(body: etree._Element) -> str:
    html = convert_to_html(deepcopy(body))
    inner = html.find("body")
    inner.tag = "article"
    return etree.tostring(inner, encoding="unicode", method="html")


def extract_article(
    html: str,
    url: str,
    *,
    hints: DiscoveryHints | None = None,
    fetched_at: datetime | None = None,
    language: str | None = None,
) -> ArticleRecord:
    """Extract one article: metadata from structured markup first, text by trafilatura, boilerplate out.

    `hints` is what the feed or sitemap said of the URL (its date is one candidate among the
    page's); `fetched_at` anchors relative and year-less dates (default: now); `language` is the
    outlet's language, used when the page does not declare one.
    """
    fetched_at = fetched_at or datetime.now(UTC)
    tree = load_html(html)
    record = ArticleRecord(url=url, canonical_url=canonical_url(url), page_kind=NOT_ARTICLE)
    if tree is None:
        return record
    meta = read_structured(tree)
    record.canonical_url = _canonical(url, meta.canonical)
    record.language = meta.language or normalize_language(language)
    raw_dates = list(meta.dates)
    if hints and hints.published_raw:
        raw_dates.append((hints.source, hints.published_raw))

    prune_boilerplate(tree)
    document = bare_extraction(tree, url=url, with_metadata=True, include_comments=False, include_tables=True)
    if document is not None and document.date:
        raw_dates.append(("htmldate", document.date))
    languages = [record.language] if record.language else None
    chosen = choose_date(raw_dates, url=url, languages=languages, now=fetched_at, more=lambda: byline_dates(tree))
    if chosen:
        record.published, record.published_raw, record.published_source = (
            chosen.value,
            chosen.raw,
            chosen.source,
        )

    record.site_name = meta.site_name or meta.publisher or (document.sitename if document else None)
    title = meta.title or meta.og_title or (document.title if document else None) or (hints and hints.title)
    record.title = clean_title(title or page_title(tree) or "", record.site_name)
    trafilatura_authors = (document.author or "").split(";") if document and document.author else []
    record.authors = clean_authors(
        meta.authors or meta.meta_authors or trafilatura_authors or byline_authors(tree),
        site_name=record.site_name,
    )
    record.description = meta.description or (document.description if document else None)
    record.image = urljoin(url, meta.image) if meta.image else (document.image if document else None)
    record.tags = list(dict.fromkeys(meta.tags or (document.tags if document and document.tags else [])))

    if document is not None and document.body is not None:
        paragraphs = _clean_body(document.body, record.title)
        record.text = "\n\n".join(paragraphs)
        record.html = _to_html(document.body) if paragraphs else ""
    record.page_kind = ARTICLE if record.word_count >= MIN_ARTICLE_WORDS and record.title else NOT_ARTICLE
    return record
