"""The shared crawl's request dupefilter in Redis: a fingerprint is seen for a while, not forever.

scrapy-redis keeps every fingerprint in one set that never shrinks (its issues #84 and #144: a recurring
crawl cannot fetch its listings again, and Redis memory grows without end), and fingerprints requests its
own way, ignoring REQUEST_FINGERPRINTER_CLASS. Here each fingerprint is a key of its own set with
`SET NX EX`: one atomic round trip decides "first time" across every worker, and the key expires after
NEWSWIRE_FRONTIER_SEEN_SECONDS (or the request's `newswire_seen_seconds` meta), so memory is bounded by
what was seen within that window.
"""

from __future__ import annotations

import logging

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.dupefilters import BaseDupeFilter

from crawler.frontier.connection import FrontierKeys, frontier_of

logger = logging.getLogger(__name__)

SEEN_SECONDS_META = "newswire_seen_seconds"  # request.meta: how long this request's fingerprint is kept


class ExpiringDupeFilter(BaseDupeFilter):
    """Scrapy's dupefilter interface over Redis keys that expire (see the module's docstring)."""

    def __init__(self, client: redis.Redis, keys: FrontierKeys, crawler: Crawler, seen_seconds: float) -> None:
        self.client = client
        self.prefix = keys.key("seen:")
        self.fingerprinter = crawler.request_fingerprinter
        self.seen_seconds = max(1, round(seen_seconds))
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExpiringDupeFilter:
        client, keys = frontier_of(crawler.settings)
        return cls(client, keys, crawler, crawler.settings.getfloat("NEWSWIRE_FRONTIER_SEEN_SECONDS", 7 * 86400))

    def request_seen(self, request: Request) -> bool:
        """True when any worker saw this request's fingerprint within its lifetime; else mark it seen."""
        seconds = request.meta.get(SEEN_SECONDS_META, self.seen_seconds)
        fingerprint = self.fingerprinter.fingerprint(request).hex()
        first = self.client.set(self.prefix + fingerprint, 1, nx=True, ex=max(1, round(seconds)))
        return not first

    def forget(self, request: Request) -> None:
        """Let this request be queued again (it was set aside, or its fetch must be retried from scratch)."""
        self.client.delete(self.prefix + self.fingerprinter.fingerprint(request).hex())

    def log(self, request: Request, spider: object) -> None:
        if self.stats is not None:
            self.stats.inc_value("dupefilter/filtered")
