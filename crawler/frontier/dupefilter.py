"""The shared crawl's request dupefilter in Redis: a fingerprint is seen for a while, not forever.

scrapy-redis keeps every fingerprint in one set that never shrinks (its issues #84 and #144: a recurring
crawl cannot fetch its listings again, and Redis memory grows without end), and fingerprints requests its
own way, ignoring REQUEST_FINGERPRINTER_CLASS. Here an article page's fingerprint (16 bytes of Scrapy's)
goes into the set of the current day (by the Redis server's clock, TIME, as every frontier time is: the
workers' clocks never matter); a day's set expires NEWSWIRE_FRONTIER_SEEN_SECONDS (a week: the
story window) after its last write, and a request is seen if any of the last week's sets holds it — one
Lua script, atomic across workers. A set member costs about a third of what a key of its own with a TTL
does (bench/distributed.py measures it). A feed, sitemap, homepage or robots.txt goes into the current
crawl's set (the planner counts crawls), so the next crawl reads it again at once; that set expires after
NEWSWIRE_FRONTIER_LISTING_SEEN_SECONDS.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import redis
from redis.commands.core import Script
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.dupefilters import BaseDupeFilter

from crawler.frontier.config import FrontierConfig
from crawler.frontier.connection import FrontierKeys, frontier_of

logger = logging.getLogger(__name__)

CRAWL_ID_TTL = 1.0  # seconds a worker trusts the crawl number it read
FINGERPRINT_BYTES = 16  # of Scrapy's 20-byte fingerprint: a collision in 2^64 pairs is not a concern
DAY = 86400

_SEEN = """
-- KEYS the set a fingerprint may be in; ARGV fingerprint ttl_seconds
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 0
"""
# An article's day sets, numbered by the Redis server's clock (TIME), never a worker's: two workers whose clocks
# straddle midnight would each check a different week of sets. KEYS[1] is the sets' common prefix (declared
# so that a Redis Cluster runs the script where the frontier lives: every key shares its hash tag).
_BUCKETS = """
local bucket_seconds, buckets = tonumber(ARGV[2]), tonumber(ARGV[3])
local current = math.floor(tonumber(redis.call('TIME')[1]) / bucket_seconds)
local function key(n) return KEYS[1] .. string.format('%d', current - n) end
"""
_SEEN_ARTICLE = (
    _BUCKETS
    + """
-- ARGV fingerprint bucket_seconds buckets ttl_seconds
for n = 0, buckets - 1 do
  if redis.call('SISMEMBER', key(n), ARGV[1]) == 1 then return 1 end
end
redis.call('SADD', key(0), ARGV[1])
redis.call('EXPIRE', key(0), ARGV[4])
return 0
"""
)
_FORGET_ARTICLE = (
    _BUCKETS
    + """
-- ARGV fingerprint bucket_seconds buckets
for n = 0, buckets - 1 do redis.call('SREM', key(n), ARGV[1]) end
return 0
"""
)


class ExpiringDupeFilter(BaseDupeFilter):
    """Scrapy's dupefilter interface over Redis sets that expire (see the module's docstring)."""

    def __init__(
        self, client: redis.Redis, keys: FrontierKeys, crawler: Crawler, seen_seconds: float, listing_seconds: float
    ) -> None:
        self.client = client
        self.prefix = keys.key("seen:")
        self.fingerprinter = crawler.request_fingerprinter
        self.seen_seconds = max(1, round(seen_seconds))
        self.bucket_seconds = min(DAY, self.seen_seconds)
        self.buckets = max(1, math.ceil(self.seen_seconds / self.bucket_seconds))
        self.listing_seconds = max(1, round(listing_seconds))
        self.stats = crawler.stats
        self.crawl_key = keys.key("crawl")  # the current crawl's number: a listing is seen once per crawl
        self._crawl_id, self._crawl_read_at = 0, -CRAWL_ID_TTL - 1.0
        self._seen = client.register_script(_SEEN)
        self._seen_article = client.register_script(_SEEN_ARTICLE)
        self._forget_article = client.register_script(_FORGET_ARTICLE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExpiringDupeFilter:
        client, keys = frontier_of(crawler.settings)
        config = FrontierConfig.from_crawler(crawler)
        return cls(client, keys, crawler, config.seen_seconds, config.listing_seen_seconds)

    def _listing_key(self) -> str:
        """The current crawl's set of listings (feeds, sitemaps, homepages, robots.txt)."""
        now = time.monotonic()
        if now - self._crawl_read_at > CRAWL_ID_TTL:
            self._crawl_id = int(self.client.get(self.crawl_key) or 0)
            self._crawl_read_at = now
        return f"{self.prefix}crawl:{self._crawl_id}"

    def _fingerprint(self, request: Request) -> bytes:
        return self.fingerprinter.fingerprint(request)[:FINGERPRINT_BYTES]

    def seen_call(self, request: Request) -> tuple[Script, list[str], list[Any]]:
        """The script that checks and marks `request`, with its keys and arguments: an article's sets are one per
        bucket of the server's time (a day) across crawls; a listing's, the current crawl's."""
        fingerprint = self._fingerprint(request)
        if "hints" in request.cb_kwargs:  # an article page
            ttl = self.seen_seconds + self.bucket_seconds
            return self._seen_article, [self.prefix], [fingerprint, self.bucket_seconds, self.buckets, ttl]
        return self._seen, [self._listing_key()], [fingerprint, self.listing_seconds]

    def request_seen(self, request: Request) -> bool:
        """True when any worker saw this request's fingerprint within its lifetime; else mark it seen."""
        script, keys, args = self.seen_call(request)
        return bool(script(keys=keys, args=args))

    def forget(self, request: Request) -> None:
        """Let this request be queued again (it was set aside, or its fetch must be retried from scratch)."""
        fingerprint = self._fingerprint(request)
        if "hints" in request.cb_kwargs:
            self._forget_article(keys=[self.prefix], args=[fingerprint, self.bucket_seconds, self.buckets])
        else:
            self.client.srem(self._listing_key(), fingerprint)

    @staticmethod
    def new_crawl(client: redis.Redis, keys: FrontierKeys) -> int:
        """A new crawl begins (the planner): listings seen by the last crawl may be read again at once."""
        return int(client.incr(keys.key("crawl")))

    def log(self, request: Request, spider: object) -> None:
        if self.stats is not None:
            self.stats.inc_value("dupefilter/filtered")
