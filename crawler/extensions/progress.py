"""The crawl's progress line: one timestamped log line every NEWSWIRE_PROGRESS_INTERVAL seconds."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler import stats as counters
from crawler.config import CrawlConfig

logger = logging.getLogger("newswire.progress")  # one of the command's own lines (crawler.logs.OWN): -q hides it


class ProgressReporter:
    """Log one progress line (stderr, or the --log-file) every NEWSWIRE_PROGRESS_INTERVAL seconds (0 turns it off)."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressReporter:
        interval = CrawlConfig.from_crawler(crawler).progress_interval.total_seconds()
        if interval <= 0:
            raise NotConfigured("NEWSWIRE_PROGRESS_INTERVAL is 0")
        return cls(crawler, interval)

    def report(self) -> None:
        stats = self.crawler.stats.get_stats()
        logger.info(
            "progress: %d pages fetched, %d articles stored, %d errors",
            stats.get("response_received_count", 0),
            counters.total(stats, counters.NEW),
            stats.get(counters.ERRORS, 0),
        )

    def spider_opened(self, spider: Any) -> None:
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
