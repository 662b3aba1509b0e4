"""The shared crawl's request dupefilter in Redis: a fingerprint is seen for a while, not forever.

scrapy-redis keeps every fingerprint in one set that never shrinks (its issues #84 and #144: a recurring
crawl cannot fetch its listings again, and Redis memory grows without end), and fingerprints requests its
own way, ignoring REQUEST_FINGERPRINTER_CLASS. Here each fingerprint is a key of its own set with
`SET NX EX`: one atomic round trip decides "first time" across every worker, and the key expires — after
NEWSWIRE_FRONTIER_SEEN_SECONDS for an article page (a week: the story window), after
NEWSWIRE_FRONTIER_LISTING_SEEN_SECONDS for a feed, sitemap, homepage or robots.txt, whose key also
carries the crawl's number (the planner counts crawls), so the next crawl reads it again at once — or
after the request's `newswire_seen_seconds` meta; memory is bounded by what was seen within that window.
"""

from __future__ import annotations

import logging
import time

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.dupefilters import BaseDupeFilter

from crawler.frontier.connection import FrontierKeys, frontier_of

logger = logging.getLogger(__name__)

SEEN_SECONDS_META = "newswire_seen_seconds"  # request.meta: how long this request's fingerprint is kept
CRAWL_ID_TTL = 1.0  # seconds a worker trusts the crawl number it read


class ExpiringDupeFilter(BaseDupeFilter):
    """Scrapy's dupefilter interface over Redis keys that expire (see the module's docstring)."""

    def __init__(
        self, client: redis.Redis, keys: FrontierKeys, crawler: Crawler, seen_seconds: float, listing_seconds: float
    ) -> None:
        self.client = client
        self.prefix = keys.key("seen:")
        self.fingerprinter = crawler.request_fingerprinter
        self.seen_seconds = max(1, round(seen_seconds))
        self.listing_seconds = max(1, round(listing_seconds))
        self.stats = crawler.stats
        self.crawl_key = keys.key("crawl")  # the current crawl's number: a listing is seen once per crawl
        self._crawl_id, self._crawl_read_at = 0, -CRAWL_ID_TTL - 1.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExpiringDupeFilter:
        client, keys = frontier_of(crawler.settings)
        settings = crawler.settings
        return cls(
            client,
            keys,
            crawler,
            settings.getfloat("NEWSWIRE_FRONTIER_SEEN_SECONDS", 7 * 86400),
            settings.getfloat("NEWSWIRE_FRONTIER_LISTING_SEEN_SECONDS", 300),
        )

    def _key(self, request: Request) -> str:
        """An article's key lives across crawls; a listing's is the current crawl's (see `new_crawl`)."""
        fingerprint = self.fingerprinter.fingerprint(request).hex()
        if "hints" in request.cb_kwargs:  # an article page
            return self.prefix + fingerprint
        now = time.monotonic()
        if now - self._crawl_read_at > CRAWL_ID_TTL:
            self._crawl_id = int(self.client.get(self.crawl_key) or 0)
            self._crawl_read_at = now
        return f"{self.prefix}{self._crawl_id}:{fingerprint}"

    def request_seen(self, request: Request) -> bool:
        """True when any worker saw this request's fingerprint within its lifetime; else mark it seen."""
        default = self.seen_seconds if "hints" in request.cb_kwargs else self.listing_seconds  # an article's
        seconds = request.meta.get(SEEN_SECONDS_META, default)
        return not self.client.set(self._key(request), 1, nx=True, ex=max(1, round(seconds)))

    def forget(self, request: Request) -> None:
        """Let this request be queued again (it was set aside, or its fetch must be retried from scratch)."""
        self.client.delete(self._key(request))

    @staticmethod
    def new_crawl(client: redis.Redis, keys: FrontierKeys) -> int:
        """A new crawl begins (the planner): listings seen by the last crawl may be read again at once."""
        return int(client.incr(keys.key("crawl")))

    def log(self, request: Request, spider: object) -> None:
        if self.stats is not None:
            self.stats.inc_value("dupefilter/filtered")
