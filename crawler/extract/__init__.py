"""Article extraction with no I/O: `extract_article(html, url) -> ArticleRecord`."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from trafilatura.utils import load_html

from crawler.extract.body import body_html, extract_main, select_paragraphs
from crawler.extract.boilerplate import prune_boilerplate
from crawler.extract.citations import OutletDirectory, find_citations
from crawler.extract.dates import byline_dates, choose_date
from crawler.extract.fallback import TrafilaturaMetadata, htmldate_candidate
from crawler.extract.kinds import page_kind
from crawler.extract.people import byline_authors, byline_paragraph, choose_authors, is_organisation, split_authors
from crawler.extract.record import NOT_ARTICLE, ArticleRecord, DiscoveryHints
from crawler.extract.structured import Structured, normalize_language, page_title, read_structured
from crawler.extract.titles import choose_title, headline_texts, normalize_title
from storage.urls import canonical_url, host_label, host_of

__all__ = ["ArticleRecord", "DiscoveryHints", "extract_article"]

logger = logging.getLogger(__name__)

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _canonical(url: str, declared: str | None) -> str:
    """The page's canonical URL: the declared one when it stays on the page's own site."""
    if declared:
        absolute = urljoin(url, declared)
        if absolute.startswith(("http://", "https://")) and host_of(absolute) == host_of(url):
            return canonical_url(absolute)
    return canonical_url(url)


def extract_article(
    html: str,
    url: str,
    *,
    hints: DiscoveryHints | None = None,
    fetched_at: datetime | None = None,
    language: str | None = None,
    directory: OutletDirectory | None = None,
    timezone: str | None = None,
) -> ArticleRecord:
    """Extract one article: metadata from structured markup first, text by trafilatura, boilerplate out.

    `hints` is what the feed or sitemap said of the URL (its date is one candidate among the
    page's); `fetched_at` anchors relative and year-less dates (default: now); `language` is the
    outlet's language, used when the page does not declare one; `directory` names the outlets whose
    citations to recognize (default: the well-known wire services and outlets); `timezone` (IANA
    name, the outlet's) is how times written without a zone are read.
    """
    fetched_at = fetched_at or datetime.now(UTC)
    html = _CONTROL.sub(" ", html)  # one stray \x1b or \x00 makes lxml drop the rest of the page
    tree = load_html(html)
    record = ArticleRecord(url=url, canonical_url=canonical_url(url), page_kind=NOT_ARTICLE)
    if tree is None:
        return record
    meta = read_structured(tree)
    record.canonical_url = _canonical(url, meta.canonical)
    record.language = meta.language or normalize_language(language)
    _fill_date(record, meta, tree, hints, fetched_at, ZoneInfo(timezone) if timezone else None)
    _fill_metadata(record, meta, tree, hints)
    prune_boilerplate(tree)
    _fill_body(record, tree, directory)
    _byline_in_body(record, meta)
    record.page_kind = page_kind(tree, html, record.text, record.title, meta.accessible_for_free)
    return record


def _fill_date(
    record: ArticleRecord, meta: Structured, tree, hints: DiscoveryHints | None, fetched_at: datetime, zone
) -> None:
    raw_dates = list(meta.dates)
    if hints and hints.published_raw:
        raw_dates.append((hints.source, hints.published_raw))
    chosen = choose_date(
        raw_dates,
        url=record.url,
        languages=[record.language] if record.language else None,
        now=fetched_at,
        more=lambda: byline_dates(tree) + htmldate_candidate(tree, record.url),
        zone=zone,
    )
    if chosen:
        record.published, record.published_raw, record.published_source = chosen.value, chosen.raw, chosen.source


def _fill_metadata(record: ArticleRecord, meta: Structured, tree, hints: DiscoveryHints | None) -> None:
    """Title, authors, site name, description, image and tags; reads the tree before it is pruned."""
    fallback = TrafilaturaMetadata(tree, record.url)
    record.site_name = meta.site_name or meta.publisher
    site_names = tuple(n for n in (record.site_name, meta.publisher, host_label(record.url)) if n)
    titles = [meta.title, meta.og_title, *headline_texts(tree)[:1], meta.twitter_title, page_title(tree)]
    if not any(titles):
        titles += [fallback.get("title"), hints.title if hints else None]
    record.title = choose_title(titles, site_names)
    record.authors = choose_authors(
        [meta.authors, meta.meta_authors, lambda: split_authors(fallback.get("author")), lambda: byline_authors(tree)],
        site_names,
    )
    record.description = normalize_title(meta.description) or None
    record.image = urljoin(record.url, meta.image) if meta.image else None
    record.tags = list(dict.fromkeys(meta.tags))


def _byline_in_body(record: ArticleRecord, meta: Structured) -> None:
    """When only the outlet is named as author, a first-paragraph byline names the people (and leaves the text)."""
    site_names = tuple(n for n in (record.site_name, meta.publisher, host_label(record.url)) if n)
    if record.authors and not all(is_organisation(a, site_names) for a in record.authors):
        return
    paragraphs = record.text.split("\n\n")
    found = byline_paragraph(paragraphs, site_names)
    if found:
        index, record.authors = found
        record.text = "\n\n".join(paragraphs[:index] + paragraphs[index + 1 :])


def _fill_body(record: ArticleRecord, tree, directory: OutletDirectory | None) -> None:
    document, precise_text = extract_main(tree, record.url)
    if document is None or document.body is None:
        return
    paragraphs = select_paragraphs(document.body, record.title, precise_text)
    record.text = "\n\n".join(paragraphs)
    record.html = body_html(document.body) if paragraphs else ""
    links = [(ref.get("target", ""), "".join(ref.itertext())) for ref in document.body.iter("ref")]
    record.citations = find_citations(record.text, links, record.canonical_url, directory)
