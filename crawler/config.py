"""newswire's own settings, read once from Scrapy's settings into one typed, frozen value.

Components take `CrawlConfig.from_crawler(crawler)` instead of reading `NEWSWIRE_…` keys themselves:
one place knows each key, its type and its unit (durations are `timedelta`), and a command outside
the crawl (`newswire status`) reads the same value from the same settings.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from crawler import settings as defaults
from scheduling.polling import PollingPolicy

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

Config = TypeVar("Config")
_BUILT: weakref.WeakKeyDictionary[Any, dict[type, Any]] = weakref.WeakKeyDictionary()


def once_per_crawler(crawler: Crawler, kind: type[Config], build: Callable[[BaseSettings], Config]) -> Config:
    """The `kind` config of `crawler`, built from its settings the first time a component asks."""
    built = _BUILT.setdefault(crawler, {})
    if kind not in built:
        built[kind] = build(crawler.settings)
    return built[kind]


def setting(settings: BaseSettings, key: str, kind: type) -> Any:
    """`key` from `settings` as `kind`; a key they lack (a bare test crawler) takes crawler/settings.py's default."""
    default = getattr(defaults, key)
    if kind is bool:
        return settings.getbool(key, default)
    return kind(settings.get(key, default))


@dataclass(frozen=True)
class CrawlConfig:
    """The NEWSWIRE_* settings of one crawl or command (defaults and meanings: crawler/settings.py)."""

    db_url: str
    max_articles_per_outlet: int
    sitemap_max_children: int
    max_feeds_per_outlet: int
    max_sitemaps_per_outlet: int
    max_text_chars: int
    max_html_chars: int
    sitemap_window: timedelta
    extract_workers: int
    story_threshold: float
    store_batch_size: int
    store_batch_seconds: float
    keep_raw: bool
    allow_private_addresses: bool
    retry_backoff_base: timedelta
    retry_backoff_max: timedelta
    retry_after_max: timedelta
    poll_min: timedelta
    poll_max: timedelta
    failure_limit: int
    progress_interval: timedelta

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> CrawlConfig:
        """Read from `settings`; a key they lack (a bare test crawler) takes crawler/settings.py's default."""

        def get(key: str, kind: type) -> Any:
            return setting(settings, key, kind)

        def seconds(key: str) -> timedelta:
            return timedelta(seconds=get(key, float))

        return cls(
            db_url=get("NEWSWIRE_DB", str),
            max_articles_per_outlet=get("NEWSWIRE_MAX_ARTICLES_PER_OUTLET", int),
            sitemap_max_children=get("NEWSWIRE_SITEMAP_MAX_CHILDREN", int),
            max_feeds_per_outlet=get("NEWSWIRE_MAX_FEEDS_PER_OUTLET", int),
            max_sitemaps_per_outlet=get("NEWSWIRE_MAX_SITEMAPS_PER_OUTLET", int),
            max_text_chars=get("NEWSWIRE_MAX_TEXT_CHARS", int),
            max_html_chars=get("NEWSWIRE_MAX_HTML_CHARS", int),
            sitemap_window=timedelta(days=get("NEWSWIRE_SITEMAP_WINDOW_DAYS", float)),
            extract_workers=get("NEWSWIRE_EXTRACT_WORKERS", int),
            story_threshold=get("NEWSWIRE_STORY_THRESHOLD", float),
            store_batch_size=max(1, get("NEWSWIRE_STORE_BATCH_SIZE", int)),
            store_batch_seconds=max(0.0, get("NEWSWIRE_STORE_BATCH_SECONDS", float)),
            keep_raw=get("NEWSWIRE_KEEP_RAW", bool),
            allow_private_addresses=get("NEWSWIRE_ALLOW_PRIVATE_ADDRESSES", bool),
            retry_backoff_base=seconds("NEWSWIRE_RETRY_BACKOFF_BASE"),
            retry_backoff_max=seconds("NEWSWIRE_RETRY_BACKOFF_MAX"),
            retry_after_max=seconds("NEWSWIRE_RETRY_AFTER_MAX"),
            poll_min=seconds("NEWSWIRE_POLL_MIN_SECONDS"),
            poll_max=seconds("NEWSWIRE_POLL_MAX_SECONDS"),
            failure_limit=get("NEWSWIRE_FAILURE_LIMIT", int),
            progress_interval=seconds("NEWSWIRE_PROGRESS_INTERVAL"),
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlConfig:
        """The crawl's config, read once per crawler (its settings are frozen once the crawl starts)."""
        return once_per_crawler(crawler, cls, cls.from_settings)

    @property
    def polling(self) -> PollingPolicy:
        """The adaptive polling bounds."""
        return PollingPolicy(minimum=self.poll_min, maximum=self.poll_max, failure_limit=self.failure_limit)
