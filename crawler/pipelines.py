"""Item pipelines: extract (possibly in worker processes) → store with deduplication."""

from __future__ import annotations

import asyncio
import html
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler import stats as counters
from crawler.config import CrawlConfig
from crawler.database import crawl_store
from crawler.extract import ArticleRecord, ExtractionContext, extract_article
from crawler.extract.citations import OutletDirectory, resolve
from crawler.extract.kinds import is_stored
from crawler.items import ExtractedArticle, FetchedPage
from crawler.registry import Outlet
from crawler.resolve import outlet_directory
from crawler.workers import die_with_parent
from storage.fingerprint import text_hash
from storage.models import Article
from storage.repository import (
    ALREADY_STORED,
    CANONICAL_CONFLICT,
    NEW,
    UPDATED,
    OutletRow,
    add_citations,
    insert_article,
    sync_outlets,
)
from storage.stories import assign_story, backfill_stories, load_index, refresh_signature

logger = logging.getLogger(__name__)


class NotAnArticle(DropItem):
    """The page holds no article (index page, stub, consent wall)."""


class ExtractionFailed(DropItem):
    """Extraction raised on the page (a bug, or markup nothing could parse)."""

    retry_later = True  # the listing that led here must be read again next crawl


class StoreFailed(DropItem):
    """The database refused the article."""

    retry_later = True


class CanonicalConflict(DropItem):
    """The page declares a canonical URL that a stored article with other text already holds."""


class AlreadyStored(DropItem):
    """The canonical URL is already in the store."""


class DuplicateText(DropItem):
    """The outlet already has an article with the same normalized text under another URL."""


def _extract(page: FetchedPage, context: ExtractionContext) -> ArticleRecord:
    return extract_article(page.html, page.url, context)


def _context(page: FetchedPage, outlet: Outlet, directory: OutletDirectory) -> ExtractionContext:
    """What the crawl knows of the page before it is read."""
    return ExtractionContext(
        fetched_at=page.fetched_at,
        hints=page.hints,
        language=page.language,
        timezone=page.timezone,
        directory=directory,
        outlet_names=(outlet.name, *outlet.aliases),
    )


class ExtractPipeline:
    """Turn fetched pages into ArticleRecords; NEWSWIRE_EXTRACT_WORKERS > 0 runs extraction in worker processes."""

    def __init__(self, crawler: Crawler, workers: int) -> None:
        self.crawler = crawler
        self.workers = workers
        self.pool: Executor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler, CrawlConfig.from_crawler(crawler).extract_workers)

    def open_spider(self) -> None:
        self.directory = outlet_directory(list(self.crawler.spider.registry.values()))
        self._start_pool()

    def _start_pool(self) -> None:
        if self.workers > 0:
            self.pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )

    async def _extract_in_pool(self, item: FetchedPage, context: ExtractionContext) -> ArticleRecord:
        """Extract in a worker; if a worker died (out of memory, a crash), start a new pool and retry once."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.pool, _extract, item, context)
        except BrokenProcessPool:
            logger.warning("an extraction worker died; starting a new pool")
            self.pool.shutdown(wait=False, cancel_futures=True)
            self._start_pool()
            return await loop.run_in_executor(self.pool, _extract, item, context)

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    async def process_item(self, page: FetchedPage) -> ExtractedArticle:
        outlet = self.crawler.spider.outlets[page.outlet]
        try:
            context = _context(page, outlet, self.directory)
            record = _extract(page, context) if self.pool is None else await self._extract_in_pool(page, context)
        except Exception as exc:  # noqa: BLE001 - one bad page must not end the crawl or vanish silently
            counters.count_error(self.crawler.stats, "extraction_failed", page.outlet, page.url)
            logger.error("%s: %s: extraction failed: %s: %s", outlet.name, page.url, type(exc).__name__, exc)
            logger.debug("extraction traceback", exc_info=True)
            raise ExtractionFailed(f"{page.url}: {exc}", log_level="DEBUG") from None
        if not is_stored(record.page_kind, record.text, record.title):
            counters.count_error(self.crawler.stats, "not_an_article", page.outlet)
            counters.count_page_kind(self.crawler.stats, record.page_kind)
            logger.error(
                "%s: %s: not an article (%s, %d words of text)",
                outlet.name,
                page.url,
                record.page_kind,
                record.word_count,
            )
            raise NotAnArticle(f"{outlet.name}: {page.url}: not an article", log_level="DEBUG")
        self._bound(record, outlet, page.url)
        return ExtractedArticle(
            outlet=page.outlet,
            record=record,
            fetched_at=page.fetched_at,
            discovered_via=page.hints.source if page.hints else None,
            follow_depth=page.follow_depth,
            listing=page.listing,  # settled when the item is done (FetchStateKeeper)
        )

    def _bound(self, record: ArticleRecord, outlet: Outlet, url: str) -> None:
        """Cut a text or HTML over its cap (settings), at a paragraph; count it and say so in one line."""
        config = CrawlConfig.from_crawler(self.crawler)
        text_cap, html_cap = config.max_text_chars, config.max_html_chars
        if len(record.text) > text_cap:
            size = len(record.text)
            record.text = cut_text(record.text, text_cap)
            record.html = paragraphs_html(record.text)
            counters.count_truncated(self.crawler.stats, "text")
            logger.warning("%s: %s: text of %d characters cut to %d", outlet.name, url, size, len(record.text))
        elif len(record.html) > html_cap:
            record.html = paragraphs_html(record.text)
            counters.count_truncated(self.crawler.stats, "html")
            logger.warning("%s: %s: HTML over %d characters rebuilt from the text", outlet.name, url, html_cap)


def cut_text(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at the last paragraph break (else word) before it."""
    head = text[:limit]
    cut = head.rfind("\n\n")
    return head[:cut] if cut > limit // 2 else head.rsplit(" ", 1)[0]


def paragraphs_html(text: str) -> str:
    """Simple article HTML of a plain text: one <p> per paragraph, escaped."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    return f"<article>{paragraphs}</article>"


class StorePipeline:
    """Write articles; uniqueness (canonical URL, outlet + text hash) is enforced by the schema."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.outlet_ids: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.sessions = crawl_store(self.crawler).sessions  # the crawl's one database (crawler/database.py)
        outlets: list[Outlet] = list(self.crawler.spider.registry.values())  # followed outlets may join the crawl
        rows = [OutletRow(o.name, o.slug, o.homepage, o.language, o.aliases) for o in outlets]
        with self.sessions.begin() as session:
            self.outlet_ids = sync_outlets(session, rows)
        self.ids_by_name = {o.name: self.outlet_ids[o.slug] for o in outlets}
        self.slug_by_name = {o.name: o.slug for o in outlets}
        self.directory = outlet_directory(outlets)
        with self.sessions.begin() as session:
            self.stories = load_index(session, CrawlConfig.from_crawler(self.crawler).story_threshold)
            backfilled = backfill_stories(session, self.stories)
        if backfilled:
            logger.info("%d stored articles put in stories", backfilled)

    def _follow_citations(self, record: ArticleRecord, item: ExtractedArticle) -> None:
        """With --follow-citations: crawl the registry outlets this article cites, and linked articles of theirs."""
        spider = self.crawler.spider
        depth = item.follow_depth + 1
        if depth > spider.follow_depth:
            return
        for citation in record.citations:
            slug = self.slug_by_name.get(resolve(citation.name, citation.domain, self.directory) or "")
            if slug is None or slug == item.outlet:
                continue
            spider.follow_outlet(slug, depth)
            if citation.kind == "link" and citation.url:
                spider.follow_link(citation.url, slug, depth)

    def _citation_rows(self, record: ArticleRecord) -> list[dict[str, Any]]:
        rows = []
        for citation in record.citations:
            canonical = resolve(citation.name, citation.domain, self.directory)
            rows.append(
                {
                    "outlet_id": self.ids_by_name.get(canonical or ""),
                    "name": (canonical or citation.name)[:200],
                    "kind": citation.kind,
                    "evidence": citation.evidence[:2000],
                    "domain": (citation.domain or "")[:255] or None,
                }
            )
        return rows

    def process_item(self, item: ExtractedArticle) -> ExtractedArticle:
        record = item.record
        values = {
            "outlet_id": self.outlet_ids[item.outlet],
            "url": record.url,
            "canonical_url": record.canonical_url,
            "title": record.title,
            "authors": record.authors,
            "published": record.published,
            "published_raw": record.published_raw,
            "published_source": record.published_source,
            "language": record.language,
            "site_name": record.site_name,
            "description": record.description,
            "tags": record.tags,
            "image": record.image,
            "text": record.text,
            "html": record.html,
            "text_hash": text_hash(record.text),
            "page_kind": record.page_kind,
            "discovered_via": item.discovered_via,
            "fetched_at": item.fetched_at,
            "run_id": counters.run_id(self.crawler.stats),
        }
        try:
            with self.sessions.begin() as session:
                outcome, article_id = insert_article(session, values)
                if outcome == NEW:
                    add_citations(session, article_id, self._citation_rows(record))
                    assign_story(session, session.get(Article, article_id), self.stories)
                elif outcome == UPDATED:
                    refresh_signature(session, session.get(Article, article_id), self.stories)
            if outcome == NEW:
                self._follow_citations(record, item)
        except Exception as exc:  # noqa: BLE001 - a database refusal or a bug: counted, one line, crawl goes on
            counters.count_error(self.crawler.stats, "store_failed", item.outlet, record.url)
            logger.error(
                "%s: %s: not stored: %s: %s",
                item.outlet,
                record.url,
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
            )
            logger.debug("store traceback", exc_info=True)
            raise StoreFailed(f"{record.url}: {exc}", log_level="DEBUG") from None
        stats = self.crawler.stats
        if outcome == NEW:
            counters.count(stats, counters.NEW, outlet=item.outlet)
            return item
        if outcome == UPDATED:
            counters.count(stats, counters.UPDATED, outlet=item.outlet)
            logger.info("%s: %s changed: new version stored", item.outlet, record.url)
            return item
        if outcome == CANONICAL_CONFLICT:
            counters.count(stats, counters.CANONICAL_CONFLICT)
            logger.warning(
                "%s: %s declares canonical URL %s, stored with other text: not stored",
                item.outlet,
                record.url,
                record.canonical_url,
            )
            raise CanonicalConflict(f"{record.url}: canonical URL taken by other text", log_level="DEBUG")
        if outcome == ALREADY_STORED:
            counters.count(stats, counters.ALREADY_STORED)
            raise AlreadyStored(f"{record.canonical_url} already stored", log_level="DEBUG")
        counters.count(stats, counters.DUPLICATE_TEXT)
        raise DuplicateText(f"{record.url}: same text as a stored article of this outlet", log_level="DEBUG")
