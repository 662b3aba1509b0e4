"""The crawl's one database: a Scrapy extension that owns the `Store` every component of the crawl uses."""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.config import CrawlConfig
from storage.db import Store

STORE_SETTING = "NEWSWIRE_STORE"  # a Store the command opened (and migrated) for this crawl; else one is opened


class CrawlDatabase:
    """Owns the crawl's Store: the one the command passed in NEWSWIRE_STORE, or one it opens (migrating once)
    from NEWSWIRE_DB and closes when the engine stops. Components reach it with `crawl_store(crawler)`."""

    def __init__(self, crawler: Crawler) -> None:
        given = crawler.settings.get(STORE_SETTING)
        self.owned = given is None
        self.store: Store = Store(CrawlConfig.from_crawler(crawler).db_url, migrate=True) if self.owned else given
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDatabase:
        return cls(crawler)

    def engine_stopped(self) -> None:
        if self.owned:
            self.store.close()


def crawl_store(crawler: Crawler) -> Store:
    """The crawl's Store (the CrawlDatabase extension's)."""
    extension = crawler.get_extension(CrawlDatabase)
    if extension is None:
        raise RuntimeError("the CrawlDatabase extension is not enabled (EXTENSIONS)")
    return extension.store
