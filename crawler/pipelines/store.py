"""The second item pipeline: store an extracted article with deduplication, its story, citations and raw page."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.orm import Session

from crawler import stats as counters
from crawler.config import CrawlConfig
from crawler.discovery.registry import Outlet
from crawler.discovery.resolve import citation_rows
from crawler.extensions.coordination import crawl_coordination
from crawler.extensions.database import crawl_store
from crawler.extract.versions import extractor_version
from crawler.items import ExtractedArticle
from crawler.pipelines.spider import news_spider
from crawler.signals import article_stored
from storage.models import EXTRACTED_FIELDS, Article
from storage.near_duplicates import from_bytes
from storage.raw import keep_raw
from storage.repository import (
    ALREADY_STORED,
    CANONICAL_CONFLICT,
    DUPLICATE_TEXT,
    NEW,
    UPDATED,
    OutletRow,
    add_citations,
    insert_article,
    next_change,
    sync_outlets,
)
from storage.stories import (
    StoryCopy,
    backfill_stories,
    join_story,
    load_index,
    lock_story_writers,
    refresh_signature,
)

if TYPE_CHECKING:
    from crawler.spiders.news import NewsSpider

logger = logging.getLogger(__name__)


class StoreFailed(DropItem):
    """The database refused the article."""

    retry_later = True


class CanonicalConflict(DropItem):
    """The page declares a canonical URL that a stored article with other text already holds."""


class AlreadyStored(DropItem):
    """The canonical URL is already in the store."""


class DuplicateText(DropItem):
    """The outlet already has an article with the same normalized text under another URL."""


@dataclass(frozen=True)
class StoreOutcome:
    """What one outcome of storing an article means for the crawl: the counter, whether the outlet's own
    count goes up too, and the DropItem raised when the item stops here (None: it went on)."""

    counter: str
    per_outlet: bool = False
    drop: type[DropItem] | None = None


OUTCOMES: dict[str, StoreOutcome] = {
    NEW: StoreOutcome(counters.NEW, per_outlet=True),
    UPDATED: StoreOutcome(counters.UPDATED, per_outlet=True),
    CANONICAL_CONFLICT: StoreOutcome(counters.CANONICAL_CONFLICT, drop=CanonicalConflict),
    ALREADY_STORED: StoreOutcome(counters.ALREADY_STORED, drop=AlreadyStored),
    DUPLICATE_TEXT: StoreOutcome(counters.DUPLICATE_TEXT, drop=DuplicateText),
}


def article_values(item: ExtractedArticle, outlet_id: int, run_id: int | None) -> dict[str, Any]:
    """The Article row of an extracted article."""
    record = item.record
    return {
        **{name: getattr(record, name) for name in EXTRACTED_FIELDS},
        "outlet_id": outlet_id,
        "text_hash": item.text_hash,
        "discovered_via": item.discovered_via,
        "listing": item.listing,
        "extractor": extractor_version(),
        "fetched_at": item.fetched_at,
        "run_id": run_id,
    }


class StorePipeline:
    """Write articles; uniqueness (canonical URL, outlet + text hash) is enforced by the schema.

    Articles are committed in batches (NEWSWIRE_STORE_BATCH_SIZE articles or NEWSWIRE_STORE_BATCH_SECONDS,
    whichever first): an item waits for its batch's commit, so nothing is counted, announced or settled
    before it is safely stored — a crash loses at most the open batch, whose pages the next crawl fetches
    again. When a batch fails, its articles are stored one transaction each, so one bad article costs only
    itself. A new article is announced with the `article_stored` signal (the spider follows its citations).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.outlet_ids: dict[str, int] = {}
        config = CrawlConfig.from_crawler(crawler)
        self.batch_size, self.batch_seconds = config.store_batch_size, config.store_batch_seconds
        self.pending: list[tuple[ExtractedArticle, asyncio.Future[str]]] = []
        self.timer: asyncio.TimerHandle | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    @property
    def spider(self) -> NewsSpider:
        return news_spider(self.crawler)

    def open_spider(self) -> None:
        self.sessions = crawl_store(self.crawler).sessions  # the crawl's one database (crawler/extensions/database.py)
        self.coordination = crawl_coordination(self.crawler)  # the run articles belong to (the planner's, if shared)
        outlets: list[Outlet] = list(self.spider.registry.values())  # followed outlets may join the crawl
        rows = [OutletRow(o.name, o.slug, o.homepage, o.language, o.aliases) for o in outlets]
        with self.sessions.begin() as session:
            self.outlet_ids = sync_outlets(session, rows)
        self.ids_by_name = {o.name: self.outlet_ids[o.slug] for o in outlets}
        self.directory = self.spider.directory
        with self.sessions.begin() as session:
            self.stories = load_index(session, CrawlConfig.from_crawler(self.crawler).story_threshold)
            backfilled = backfill_stories(session, self.stories)
        if backfilled:
            logger.info("%d stored articles put in stories", backfilled)

    def close_spider(self) -> None:
        self._commit_pending()  # nothing should be left: each item waits for its batch

    def _join_writers(self, session: Session) -> None:
        """Take the story writers' turn (PostgreSQL) and index what other writers stored meanwhile."""
        lock_story_writers(session)
        self.change = next_change(session)  # this batch's number: batches commit one at a time
        if caught_up := self.stories.catch_up(session):
            logger.debug("indexed %d article(s) other writers stored", caught_up)

    def _store(self, session: Session, item: ExtractedArticle) -> str:
        """Insert (or revise) the article, with its citations and its story, in the batch's transaction."""
        run_id = self.coordination.run_id()
        values = article_values(item, self.outlet_ids[item.outlet], run_id) | {"changed": self.change}
        outcome, article_id = insert_article(session, values)
        sig = from_bytes(item.minhash) if item.minhash else None  # signed by the worker
        if outcome == NEW and article_id is not None:
            citations = citation_rows(item.record.citations, self.directory, self.ids_by_name)
            add_citations(session, article_id, citations)
            copy = StoryCopy(
                article_id,
                values["outlet_id"],
                values["text_hash"],
                values["published"],
                values["fetched_at"],
                frozenset(row["outlet_id"] for row in citations if row["outlet_id"] is not None),
            )
            join_story(session, copy, self.stories, sig)
            if item.raw is not None:
                keep_raw(session, article_id, 1, item.raw, item.fetched_at)
        elif outcome == UPDATED and article_id is not None:
            article = session.get_one(Article, article_id)
            refresh_signature(session, article, self.stories, sig)
            if item.raw is not None:
                keep_raw(session, article_id, article.version, item.raw, item.fetched_at)
        return outcome

    def _commit_pending(self) -> None:
        """Store the open batch in one transaction; if that fails, each of its articles in its own."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            with self.sessions.begin() as session:
                self._join_writers(session)
                outcomes = [self._store(session, item) for item, _ in batch]
        except Exception as exc:  # noqa: BLE001 - handed to the waiting items, which log and count it
            self.stories.clear()  # it indexed texts the rollback took back: reload what is stored
            if len(batch) == 1:
                _settle(batch[0][1], exc)
            else:
                for item, future in batch:
                    self._commit_alone(item, future)
            return
        for (_item, future), outcome in zip(batch, outcomes, strict=True):
            _settle(future, outcome)

    def _commit_alone(self, item: ExtractedArticle, future: asyncio.Future[str]) -> None:
        try:
            with self.sessions.begin() as session:
                self._join_writers(session)
                outcome = self._store(session, item)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting item, which logs and counts it
            self.stories.clear()
            _settle(future, exc)
        else:
            _settle(future, outcome)

    async def _stored(self, item: ExtractedArticle) -> str:
        """The item's outcome once its batch is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        self.pending.append((item, future))
        if len(self.pending) >= self.batch_size:
            self._commit_pending()
        elif self.timer is None:
            self.timer = loop.call_later(self.batch_seconds, self._commit_pending)
        return await future

    async def process_item(self, item: ExtractedArticle) -> ExtractedArticle:
        record = item.record
        name = self.spider.outlets[item.outlet].name
        try:
            outcome = await self._stored(item)
        except Exception as exc:
            counters.count_error(self.crawler.stats, "store_failed", item.outlet, record.url)
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            logger.error("%s: %s: not stored: %s: %s", name, record.url, type(exc).__name__, first_line)
            logger.debug("store traceback", exc_info=exc)
            raise StoreFailed(f"{record.url}: {exc}", log_level="DEBUG") from None
        meaning = OUTCOMES[outcome]
        counters.count(self.crawler.stats, meaning.counter, outlet=item.outlet if meaning.per_outlet else None)
        if outcome == NEW:
            self.crawler.signals.send_catch_log(article_stored, item=item)
        elif outcome == UPDATED:
            logger.info("%s: %s changed: new version stored", name, record.url)
        elif outcome == CANONICAL_CONFLICT:
            logger.warning(
                "%s: %s declares canonical URL %s, stored with other text: not stored",
                name,
                record.url,
                record.canonical_url,
            )
        if meaning.drop is not None:
            raise meaning.drop(f"{record.url}: {outcome.replace('_', ' ')}", log_level="DEBUG")
        return item


def _settle(future: asyncio.Future[str], outcome: str | BaseException) -> None:
    """Give a waiting item its outcome (unless the wait was cancelled, as at shutdown)."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
