"""Extensions: record each crawl run in the database, and report progress during long crawls."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.config import CrawlConfig
from crawler.database import crawl_store
from scheduling.freshness import record_crawl
from storage.models import utcnow
from storage.repository import finish_run, start_run

logger = logging.getLogger(__name__)

COMPLETE, PARTIAL, FAILED, INTERRUPTED = "complete", "partial", "failed", "interrupted"
INTERRUPT_REASONS = ("shutdown",)  # SIGTERM/SIGINT: Scrapy stopped the crawl cleanly
BY_OUTLET = "newswire/by_outlet/"


def outlet_counts(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-outlet counts from the `newswire/by_outlet/<slug>/<what>` stats."""
    counts: dict[str, dict[str, Any]] = {}
    for key, value in stats.items():
        if key.startswith(BY_OUTLET):
            slug, _, what = key.removeprefix(BY_OUTLET).partition("/")
            counts.setdefault(slug, {})[what] = value
    return counts


def _gained(stats: dict[str, Any]) -> bool:
    """Whether a crawl got anything: an article stored or updated, or a listing read (304 included)."""
    listings_ok = sum(int(v) for k, v in stats.items() if k.startswith(BY_OUTLET) and k.endswith("/listings_ok"))
    return bool(stats.get("newswire/new") or stats.get("newswire/updated") or listings_ok)


def run_counts(stats: dict[str, Any], reason: str) -> dict[str, Any]:
    """The CrawlRun columns for a finished crawl, from Scrapy's stats and the finish reason."""
    unexpected = sum(int(v) for k, v in stats.items() if k.startswith("spider_exceptions/"))
    errors = int(stats.get("newswire/errors", 0)) + unexpected
    pages = int(stats.get("response_received_count", 0))
    outcomes = {
        k.removeprefix("newswire/"): v
        for k, v in stats.items()
        if k.startswith("newswire/") and k != "newswire/run_id" and not k.startswith(BY_OUTLET)
    }
    outcomes.update(
        {k: v for k, v in stats.items() if k.startswith(("item_dropped_reasons_count/", "robotstxt/", "retry/"))}
    )
    if unexpected:
        outcomes["errors/spider_exception"] = unexpected
    if reason in INTERRUPT_REASONS:
        status = INTERRUPTED
    elif reason != "finished" or (errors and not _gained(stats)):
        status = FAILED  # nothing stored and no listing read: a 404 or 429 on every listing is no partial success
    else:
        status = PARTIAL if errors else COMPLETE
    return {
        "status": status,
        "finish_reason": reason,
        "pages_fetched": pages,
        "articles_new": int(stats.get("newswire/new", 0)),
        "already_stored": int(stats.get("newswire/already_stored", 0)),
        "duplicates": int(stats.get("newswire/duplicate_text", 0)),
        "errors": errors,
        "requests": int(stats.get("downloader/request_count", 0)),
        "not_modified": int(stats.get("newswire/not_modified", 0)),
        "articles_updated": int(stats.get("newswire/updated", 0)),
        "outcomes": outcomes,
        "by_outlet": outlet_counts(stats),
    }


class RunRecorder:
    """A CrawlRun row per crawl: created when the spider opens, completed with counts when it closes."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        self.sessions = crawl_store(self.crawler).sessions
        with self.sessions.begin() as session:
            run = start_run(session, [o.name for o in spider.outlets.values()])
        self.crawler.stats.set_value("newswire/run_id", run.id)

    def spider_closed(self, spider: Any, reason: str) -> None:
        run_id = self.crawler.stats.get_value("newswire/run_id")
        counts = run_counts(self.crawler.stats.get_stats(), reason)
        by_outlet = {slug: dict(counts["by_outlet"].get(slug, {})) for slug in spider.outlets}
        minimums = {o.slug: o.every for o in spider.outlets.values() if getattr(o, "every", None)}
        with self.sessions.begin() as session:
            finish_run(session, run_id, **counts)
            record_crawl(
                session,
                by_outlet,
                utcnow(),
                CrawlConfig.from_crawler(self.crawler).polling,
                minimums,
                interrupted=counts["status"] == INTERRUPTED,
            )
