"""Extensions: record each crawl run in the database, and report progress during long crawls."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawler import stats as counters
from crawler.config import CrawlConfig
from crawler.extensions.coordination import crawl_coordination
from crawler.extensions.database import crawl_store
from crawler.stats import OutletCounts
from scheduling.freshness import record_crawl
from storage.models import CrawlRun, RunStatus, utcnow
from storage.repository import finish_run, start_run

logger = logging.getLogger(__name__)

INTERRUPT_REASONS = ("shutdown",)  # SIGTERM/SIGINT: Scrapy stopped the crawl cleanly


def _gained(stats: dict[str, Any], by_outlet: dict[str, OutletCounts]) -> bool:
    """Whether a crawl got anything: an article stored or updated, or a listing read (304 included)."""
    listings_ok = sum(c.listings_ok for c in by_outlet.values())
    return bool(counters.total(stats, counters.NEW) or counters.total(stats, counters.UPDATED) or listings_ok)


def run_counts(stats: dict[str, Any], reason: str) -> dict[str, Any]:
    """The CrawlRun columns for a finished crawl, from Scrapy's stats and the finish reason."""
    unexpected = sum(int(v) for k, v in stats.items() if k.startswith("spider_exceptions/"))
    errors = int(stats.get(counters.ERRORS, 0)) + unexpected
    by_outlet = counters.outlet_counts(stats)
    outcomes = counters.outcomes(stats)
    outcomes.update(
        {k: v for k, v in stats.items() if k.startswith(("item_dropped_reasons_count/", "robotstxt/", "retry/"))}
    )
    if unexpected:
        outcomes["errors/spider_exception"] = unexpected
    if reason in INTERRUPT_REASONS:
        status = RunStatus.INTERRUPTED
    elif reason != "finished" or (errors and not _gained(stats, by_outlet)):
        status = RunStatus.FAILED  # nothing stored, no listing read: a 404 or 429 on every listing is no success
    else:
        status = RunStatus.PARTIAL if errors else RunStatus.COMPLETE
    return {
        "status": status,
        "finish_reason": reason,
        "pages_fetched": int(stats.get("response_received_count", 0)),
        "articles_new": counters.total(stats, counters.NEW),
        "already_stored": counters.total(stats, counters.ALREADY_STORED),
        "duplicates": counters.total(stats, counters.DUPLICATE_TEXT),
        "errors": errors,
        "requests": int(stats.get("downloader/request_count", 0)),
        "not_modified": counters.total(stats, counters.NOT_MODIFIED),
        "articles_updated": counters.total(stats, counters.UPDATED),
        "outcomes": outcomes,
        "by_outlet": by_outlet,
    }


WORKER_COLUMNS = (
    "pages_fetched", "requests", "not_modified", "articles_new", "articles_updated", "already_stored", "duplicates",
    "errors",
)  # fmt: skip


def worker_counts(worker_id: str, stats: dict[str, Any]) -> dict[str, Any]:
    """One worker's line in a shared run's `by_worker`: where it ran and what it did in this run."""
    host, _, rest = worker_id.partition(":")
    pid = rest.partition(":")[0]
    counts = run_counts(stats, "finished")
    return {"host": host, "pid": int(pid) if pid.isdigit() else None} | {k: counts[k] for k in WORKER_COLUMNS}


def worker_summary(stats: dict[str, Any]) -> CrawlRun:
    """A worker's own counts as an unsaved run (for its one-line summary): a worker records no run, since the
    shared crawl's run is the planner's row."""
    return CrawlRun(outlets=[], **run_counts(stats, str(stats.get("finish_reason", "finished"))))


class RunRecorder:
    """A CrawlRun row per crawl: created when the spider opens, completed with counts when it closes.

    In a shared crawl the planner's row is the run: every process stores its articles under it, and the
    planner, which closes last, completes it from every process's counts in the frontier (totals, each
    outlet's and each worker's). A worker creates none.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        self.sessions = crawl_store(self.crawler).sessions
        coordination = crawl_coordination(self.crawler)
        if not coordination.records_run:  # a shared crawl's worker: the run is the planner's row
            return
        with self.sessions.begin() as session:
            run = start_run(session, [o.name for o in spider.outlets.values()])
        coordination.record_run(run.id)

    def spider_closed(self, spider: Any, reason: str) -> None:
        coordination = crawl_coordination(self.crawler)
        run_id = coordination.recorded_run
        if run_id is None:  # no run here (a worker), or the database refused it: nothing to finish
            return
        crawl = coordination.run_counts(self.crawler.stats.get_stats(), reason)  # every process's, if shared
        counts = run_counts(crawl.stats, crawl.reason)
        by_outlet: dict[str, OutletCounts] = counts.pop("by_outlet")
        if crawl.by_worker:
            counts["by_worker"] = {worker: worker_counts(worker, dump) for worker, dump in crawl.by_worker.items()}
        crawled = {slug: by_outlet.get(slug, OutletCounts()) for slug in spider.outlets}
        minimums = {o.slug: o.every for o in spider.outlets.values() if getattr(o, "every", None)}
        with self.sessions.begin() as session:
            finish_run(session, run_id, by_outlet={slug: c.as_json() for slug, c in by_outlet.items()}, **counts)
            record_crawl(
                session,
                crawled,
                utcnow(),
                CrawlConfig.from_crawler(self.crawler).polling,
                minimums,
                interrupted=counts["status"] == RunStatus.INTERRUPTED,
            )
