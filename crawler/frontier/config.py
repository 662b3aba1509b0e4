"""The shared crawl's settings, read once per crawler into one typed, frozen value (defaults and meanings:
crawler/settings.py, the NEWSWIRE_FRONTIER_* keys). Frontier components take `FrontierConfig.from_crawler`
instead of reading keys themselves, as the rest of the crawl takes CrawlConfig."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.config import once_per_crawler, setting

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings


@dataclass(frozen=True)
class FrontierConfig:
    """One crawl's frontier settings."""

    url: str  # empty: a crawl of one process
    prefix: str
    database: str  # the identity of this process's database ('' until the shared crawl's setup sets it)
    stay: bool
    plans: bool
    lease_seconds: float
    max_tries: int
    seen_seconds: float
    listing_seen_seconds: float
    defer_after: float
    max_wait: float
    max_outage: float

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> FrontierConfig:
        return cls(
            url=setting(settings, "NEWSWIRE_FRONTIER", str) if settings.get("NEWSWIRE_FRONTIER") else "",
            prefix=setting(settings, "NEWSWIRE_FRONTIER_PREFIX", str) or "newswire",
            database=settings.get("NEWSWIRE_FRONTIER_DATABASE") or "",
            stay=setting(settings, "NEWSWIRE_FRONTIER_STAY", bool),
            plans=setting(settings, "NEWSWIRE_FRONTIER_PLANS", bool),
            lease_seconds=setting(settings, "NEWSWIRE_FRONTIER_LEASE_SECONDS", float),
            max_tries=setting(settings, "NEWSWIRE_FRONTIER_MAX_TRIES", int),
            seen_seconds=setting(settings, "NEWSWIRE_FRONTIER_SEEN_SECONDS", float),
            listing_seen_seconds=setting(settings, "NEWSWIRE_FRONTIER_LISTING_SEEN_SECONDS", float),
            defer_after=setting(settings, "NEWSWIRE_FRONTIER_DEFER_AFTER", float),
            max_wait=setting(settings, "NEWSWIRE_FRONTIER_MAX_WAIT", float),
            max_outage=setting(settings, "NEWSWIRE_FRONTIER_MAX_OUTAGE", float),
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierConfig:
        return once_per_crawler(crawler, cls, cls.from_settings)
