"""Run one crawl in this process through Scrapy's engine and report its CrawlRun (one crawl per process)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.discovery.registry import Outlet
from crawler.extensions.coordination import crawl_coordination
from crawler.extensions.database import STORE_SETTING
from crawler.extensions.run_record import worker_summary
from crawler.logs import LOG_DATEFORMAT, LOG_FORMAT, hand_over_root, quiet_expected_tracebacks
from crawler.spiders.news import NewsSpider
from storage.db import Store, resolve_db_url, stored_urls
from storage.models import CrawlRun


def crawl_settings(
    db_url: str | None,
    overrides: dict[str, Any] | None = None,
    *,
    log_level: str = "WARNING",
    log_file: str | None = None,
) -> Settings:
    """newswire's Scrapy settings with the database URL, logging (level, file, timestamped format) and any
    overrides applied."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NEWSWIRE_DB", resolve_db_url(db_url), priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    settings.set("LOG_FORMAT", LOG_FORMAT, priority="cmdline")
    settings.set("LOG_DATEFORMAT", LOG_DATEFORMAT, priority="cmdline")
    if log_file:
        settings.set("LOG_FILE", log_file, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(
    outlets: list[Outlet],
    *,
    store: Store,
    limit: int | None = None,
    overrides: dict[str, Any] | None = None,
    log_level: str = "WARNING",
    log_file: str | None = None,
    registry: list[Outlet] | None = None,
    follow_depth: int = 0,
) -> CrawlRun:
    """Crawl `outlets` into the store's database and return the finished CrawlRun row.

    The crawl's components share `store` (the caller opened and migrated it: one engine, one migration
    check per command). Blocks until the crawl ends; Twisted's reactor cannot restart, so call this once
    per process. A shared crawl's worker (the overrides name a frontier and a process that does not plan)
    discovers nothing: it fetches what the frontier holds, and returns its own counts as an unsaved run.
    """
    settings = crawl_settings(store.url, overrides, log_level=log_level, log_file=log_file)
    settings.set(STORE_SETTING, store, priority="cmdline")
    registry = registry or outlets
    known = stored_urls(store, [o.slug for o in (registry if follow_depth else outlets)])
    hand_over_root()  # Scrapy installs its root handler from the LOG_* settings: one handler, not two
    process = CrawlerProcess(settings)
    quiet_expected_tracebacks()
    crawler = process.create_crawler(NewsSpider)
    process.crawl(crawler, outlets=outlets, known=known, limit=limit, registry=registry, follow_depth=follow_depth)
    process.start()
    coordination = crawl_coordination(crawler)
    if not coordination.records_run:  # a worker: the run is the planner's; its own counts make its summary
        return worker_summary(crawler.stats.get_stats())
    run_id = coordination.recorded_run
    with store.sessions() as session:
        run = session.get(CrawlRun, run_id) if run_id is not None else None
    if run is None:
        raise RuntimeError("the crawl ended before recording its run (see the log above)")
    return run
