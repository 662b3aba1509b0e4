"""The first item pipeline: a fetched page becomes an extracted article, here or in the extraction workers
(crawler/processing), with its fingerprints."""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler import stats as counters
from crawler.config import CrawlConfig
from crawler.discovery.registry import Outlet
from crawler.extract import ExtractionContext
from crawler.extract.citations import OutletDirectory
from crawler.items import ExtractedArticle, FetchedPage
from crawler.pipelines.spider import news_spider
from crawler.processing.job import Caps, Extraction, extract_page
from crawler.processing.pool import extraction_pool

if TYPE_CHECKING:
    from crawler.spiders.news import NewsSpider

logger = logging.getLogger(__name__)


class NotAnArticle(DropItem):
    """The page holds no article (index page, stub, consent wall)."""


class ExtractionFailed(DropItem):
    """Extraction raised on the page (a bug, or markup nothing could parse)."""

    retry_later = True  # the listing that led here must be read again next crawl


def _context(page: FetchedPage, outlet: Outlet, directory: OutletDirectory | None) -> ExtractionContext:
    """What the crawl knows of the page before it is read (a worker holds the directory already)."""
    return ExtractionContext(
        fetched_at=page.fetched_at,
        hints=page.hints,
        language=page.language,
        timezone=page.timezone,
        directory=directory,
        outlet_names=(outlet.name, *outlet.aliases),
    )


class ExtractPipeline:
    """Turn fetched pages into extracted articles with their fingerprints (crawler/processing/job.py);
    NEWSWIRE_EXTRACT_WORKERS > 0 runs that in worker processes."""

    def __init__(self, crawler: Crawler, workers: int) -> None:
        self.crawler = crawler
        self.workers = workers
        self.pool: Executor | None = None
        self.pool_started: asyncio.Future[int] | None = None  # its first worker, started off the reactor thread
        self.directory: OutletDirectory | None = None  # the spider's, from open_spider
        config = CrawlConfig.from_crawler(crawler)
        self.caps = Caps(config.max_text_chars, config.max_html_chars)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler, CrawlConfig.from_crawler(crawler).extract_workers)

    @property
    def spider(self) -> NewsSpider:
        return news_spider(self.crawler)

    def open_spider(self) -> None:
        self.directory = self.spider.directory  # the registry's outlets, built once by the spider
        self._start_pool()

    def _start_pool(self) -> None:
        if self.workers > 0:
            self.pool = extraction_pool(self.workers, self.directory)
            self.pool_started = None

    async def _started_pool(self) -> Executor | None:
        """The pool once its first worker runs. The first fork waits for the fork server to load and warm
        the extractor (seconds): a thread waits for it, never the reactor, which goes on downloading."""
        if self.pool is not None and self.pool_started is None:
            self.pool_started = asyncio.get_running_loop().run_in_executor(None, _first_worker, self.pool)
        if self.pool_started is not None:
            await self.pool_started
        return self.pool

    async def _extract_in_pool(self, page: FetchedPage, context: ExtractionContext) -> Extraction:
        """Extract in a worker; if a worker died (out of memory, a crash), start a new pool and retry once."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(await self._started_pool(), extract_page, page, context, self.caps)
        except BrokenProcessPool:
            logger.warning("an extraction worker died; starting a new pool")
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
            self._start_pool()
            return await loop.run_in_executor(await self._started_pool(), extract_page, page, context, self.caps)

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    async def process_item(self, page: FetchedPage) -> ExtractedArticle:
        outlet = self.spider.outlets[page.outlet]
        try:
            if self.pool is None:
                result = extract_page(page, _context(page, outlet, self.directory), self.caps)
            else:
                result = await self._extract_in_pool(page, _context(page, outlet, None))
        except Exception as exc:
            counters.count_error(self.crawler.stats, "extraction_failed", page.outlet, page.url)
            logger.error("%s: %s: extraction failed: %s: %s", outlet.name, page.url, type(exc).__name__, exc)
            logger.debug("extraction traceback", exc_info=True)
            raise ExtractionFailed(f"{page.url}: {exc}", log_level="DEBUG") from None
        record = result.record
        if not result.stored or result.text_hash is None:
            # a listing that names an about page or an index is no failure of the crawl: a skip, counted as one
            counters.count_skipped(self.crawler.stats, "not_an_article")
            counters.count_page_kind(self.crawler.stats, record.page_kind)
            logger.info(
                "%s: %s: skipped, not an article (%s, %d words of text)",
                outlet.name,
                page.url,
                record.page_kind,
                record.word_count,
            )
            raise NotAnArticle(f"{outlet.name}: {page.url}: not an article", log_level="DEBUG")
        if result.cut == "text":
            counters.count_truncated(self.crawler.stats, "text")
            logger.warning(
                "%s: %s: text of %d characters cut to %d", outlet.name, page.url, result.size_before, len(record.text)
            )
        elif result.cut == "html":
            counters.count_truncated(self.crawler.stats, "html")
            logger.warning(
                "%s: %s: HTML over %d characters rebuilt from the text", outlet.name, page.url, self.caps.html_chars
            )
        return ExtractedArticle(
            outlet=page.outlet,
            record=record,
            fetched_at=page.fetched_at,
            discovered_via=page.hints.source if page.hints else None,
            text_hash=result.text_hash,
            minhash=result.minhash,
            follow_depth=page.follow_depth,
            listing=page.listing,  # settled when the item is done (FetchStateKeeper)
            raw=result.raw,
        )


def _first_worker(pool: Executor) -> int:
    """Start the pool's first worker and wait for it (in a thread: see ExtractPipeline._started_pool)."""
    return pool.submit(os.getpid).result()
