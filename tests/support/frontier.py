"""A shared crawl's Scrapy scheduler as component tests build it: a bare crawler of `spider_class` with the
settings `--frontier` gives a worker and the crawl's coordination, the scheduler opened on its spider."""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.utils.test import get_crawler

from crawler.frontier.scheduler import FrontierScheduler
from crawler.frontier.setup import frontier_settings


def frontier_scheduler(
    spider_class: type[Spider], frontier_url: str, prefix: str, *, join: bool = True, **options: Any
) -> FrontierScheduler:
    """A worker's FrontierScheduler on `frontier_url` under `prefix` (`options`: frontier_settings' `stay`
    and `database`, or settings such as NEWSWIRE_FRONTIER_MAX_OUTAGE); with `join`, in the worker list."""
    shape = {key: options.pop(key) for key in ("stay", "database") if key in options}
    settings = {
        **frontier_settings(frontier_url, plans=False, stay=shape.get("stay", False), database=shape.get("database")),
        "NEWSWIRE_FRONTIER_PREFIX": prefix,
        "EXTENSIONS": {"crawler.extensions.coordination.CoordinationKeeper": 0},
        **options,
    }
    crawler = get_crawler(spider_class, settings)
    crawler.spider = spider = spider_class()
    scheduler = FrontierScheduler.from_crawler(crawler)
    scheduler.spider = spider
    if join:
        scheduler.roster.join()
    return scheduler
