"""What the processes of one crawl decide together, behind one seam: the crawl's options, each outlet's
article limit, which URLs are queued and which cited outlets followed, the run its articles belong to, and
the counts its run row is made of.

A crawl of one process keeps all of it in memory (`CrawlCoordination`, this module); a shared crawl keeps it
in its Redis frontier (`crawler.frontier.shared_coordination.SharedCoordination`). NEWSWIRE_COORDINATION names the
class, as Scrapy's SCHEDULER and DUPEFILTER_CLASS do; the CoordinationKeeper extension builds it once per
crawl and components reach it with `crawl_coordination(crawler)`. No component asks whether the crawl is
shared: they ask the coordination.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.misc import build_from_crawler, load_object

logger = logging.getLogger(__name__)

COORDINATION_SETTING = "NEWSWIRE_COORDINATION"  # the class of the crawl's coordination (crawler/settings.py)


@dataclass(frozen=True)
class CrawlOptions:
    """What the process that plans a crawl decides for every process of it."""

    limit: int  # new articles per outlet (--limit)
    follow_depth: int  # citation hops followed (--follow-citations --depth)


@dataclass(frozen=True)
class RunCounts:
    """What a run's row is made of: the crawl's stats (every process's together), each process's own, and
    how the crawl finished."""

    stats: dict[str, Any]
    by_worker: dict[str, dict[str, Any]]
    reason: str


class CrawlCoordination:
    """A crawl of one process: it plans, fetches and records its own run, and keeps its decisions in memory.

    The shared crawl's coordination overrides every method; what a caller may rely on is said here.
    """

    plans = True  # this process discovers the crawl's listings (False: a shared crawl's worker)
    records_run = True  # this process records the crawl's run row
    sees_every_response = True  # every response of the crawl reaches this process (and its signals)

    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler
        self.recorded_run: int | None = None  # the run row this process recorded (RunRecorder)
        self._options: CrawlOptions | None = None
        self._taken: Counter[str] = Counter()  # article requests per outlet in this crawl
        self._queued: set[str] = set()  # canonical URLs of the article requests made
        self._followed: set[str] = set()  # outlets whose discovery runs in this crawl

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlCoordination:
        return cls(crawler)

    def record_run(self, run_id: int) -> None:
        """This process recorded the crawl's run row `run_id`."""
        self.recorded_run = run_id

    def new_crawl(self, options: CrawlOptions, planned: set[str]) -> None:
        """The planner starts a crawl: the last one's counts are forgotten, its options hold for every
        process, and the `planned` outlets are not followed again when cited."""
        self._options = options
        self._taken.clear()
        self._queued.clear()
        self._followed = set(planned)

    def options(self, own: CrawlOptions) -> CrawlOptions:
        """The planner's options for this crawl, else `own`."""
        return self._options or own

    def within_limit(self, slug: str, limit: int) -> bool:
        """Take one of the outlet's `limit` article requests in this crawl, if one is left (False also when
        the decision cannot be made now: the article is left to the next crawl)."""
        if self._taken[slug] >= limit:
            return False
        self._taken[slug] += 1
        return True

    def first_to_queue(self, url_key: str) -> bool:
        """True the first time this crawl asks to fetch the article at canonical URL `url_key` (a shared
        crawl leaves this to its frontier's dupefilter: always True)."""
        if url_key in self._queued:
            return False
        self._queued.add(url_key)
        return True

    def first_to_follow(self, slug: str) -> bool:
        """True for the one process that first follows this cited outlet in this crawl."""
        if slug in self._followed:
            return False
        self._followed.add(slug)
        return True

    def run_id(self) -> int | None:
        """The run an article stored now belongs to."""
        return self.recorded_run

    def tally(self, worker_id: str, stats: dict[str, Any]) -> None:
        """Add this process's counts so far to the crawl's, under `worker_id` (a crawl of one process has
        them already)."""

    def run_counts(self, stats: dict[str, Any], reason: str) -> RunCounts:
        """What the run row records when this process closes, from its own `stats` and finish `reason`."""
        return RunCounts(stats, {}, reason)


class CoordinationKeeper:
    """Extension that owns the crawl's coordination, built from NEWSWIRE_COORDINATION."""

    def __init__(self, crawler: Crawler) -> None:
        cls = load_object(crawler.settings.get(COORDINATION_SETTING) or CrawlCoordination)
        self.coordination: CrawlCoordination = build_from_crawler(cls, crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CoordinationKeeper:
        return cls(crawler)


def crawl_coordination(crawler: Crawler) -> CrawlCoordination:
    """The crawl's coordination (the CoordinationKeeper extension's)."""
    keeper = crawler.get_extension(CoordinationKeeper)
    if keeper is None:
        raise RuntimeError("the CoordinationKeeper extension is not enabled (EXTENSIONS)")
    return keeper.coordination
