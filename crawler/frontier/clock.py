"""The shared crawl's per-host clock in Redis: every worker takes a host's next send slot from it, so N workers
are never N times ruder to a host than one process.

One key per host holds the time (the Redis server's clock, in microseconds) before which no worker may send
the host another request. `reserve` takes the next slot atomically — slot = max(now, next allowed), next
allowed = slot + interval — and says how long to wait for it; `block` pushes the next allowed time out for a
Retry-After. Each key expires shortly after its time has passed, so Redis holds only the hosts being crawled.

`SharedPoliteness` is the downloader middleware that consults the clock before each request is sent, on the
frontier NEWSWIRE_FRONTIER names (the worker command enables it; it is not in crawler/settings.py). Its place:
after the HTTP cache, before the downloader (e.g. priority 950), so the slot is taken as late as possible and
a cached answer takes none.
"""

from __future__ import annotations

import logging
import math
import time

import redis
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached

from crawler.config import CrawlConfig
from crawler.delaying_scheduler import NOT_BEFORE
from crawler.failures import retry_after_seconds
from crawler.frontier.config import FrontierConfig
from crawler.frontier.connection import FrontierKeys, frontier_of

logger = logging.getLogger(__name__)

MAX_HOST_CHARS = 255  # the longest DNS name; a longer "host" is cut, so a key stays small
GRACE_MS = 1000  # a clock key outlives its next-allowed time by this much, then expires
LATE_SEND = 0.1  # seconds a request may leave after its slot; later, it takes a new slot
SLOT_ATTEMPTS = 3  # slots a request takes at most before it goes (woken late every time: a reactor that busy)
THROTTLED = frozenset({429, 503})

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
# Lua numbers are doubles: microseconds since 1970 (~1.8e15) are exact below 2^53; '%.0f' writes them whole.
_SET = (
    "local ttl = math.ceil((nxt - now) / 1000) + tonumber(ARGV[2])\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', string.format('%.0f', ttl))\n"
)

_RESERVE = (
    _NOW
    + """
-- KEYS clock; ARGV interval_us grace_ms limit_us. Returns {1, wait_us} for the slot taken, or {0, wait_us}
-- without taking it when the slot is more than limit_us away (limit_us < 0: no limit).
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or 0))
if tonumber(ARGV[3]) >= 0 and slot - now > tonumber(ARGV[3]) then return {0, string.format('%.0f', slot - now)} end
local nxt = slot + tonumber(ARGV[1])
"""
    + _SET
    + "return {1, string.format('%.0f', slot - now)}\n"
)

_BLOCK = (
    _NOW
    + """
-- KEYS clock block; ARGV seconds_us grace_ms. Never brings the next allowed time closer; the block key lives
-- exactly as long as the block, for requests that took their slot before it to see it.
local nxt = now + tonumber(ARGV[1])
local block_ms = math.ceil(tonumber(ARGV[1]) / 1000)
if block_ms > 0 and block_ms > redis.call('PTTL', KEYS[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', string.format('%.0f', block_ms))
end
if nxt > tonumber(redis.call('GET', KEYS[1]) or 0) then
"""
    + _SET
    + "end\nreturn 0\n"
)


def _micros(seconds: float, what: str) -> int:
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{what} must be a finite number of seconds ≥ 0, not {seconds!r}")
    return round(seconds * 1_000_000)


class HostClock:
    """When each host may next be sent a request, shared by every worker of one frontier (see the module)."""

    def __init__(self, client: redis.Redis, keys: FrontierKeys) -> None:
        self.client = client
        self.keys = keys
        self._reserve = client.register_script(_RESERVE)
        self._block = client.register_script(_BLOCK)
        self.last_wait = 0.0  # how far the last slot asked for was (taken or not)

    def key(self, host: str) -> str:
        """The clock key of `host` (lower-cased, trailing dot dropped, cut to MAX_HOST_CHARS)."""
        return self.keys.key("clock:" + host.lower().rstrip(".")[:MAX_HOST_CHARS])

    def reserve(self, host: str, interval: float) -> float:
        """Take `host`'s next send slot, keeping the next one `interval` seconds after it; seconds to wait (≥ 0).

        `interval` is the larger of DOWNLOAD_DELAY, the host's robots.txt Crawl-delay and AutoThrottle's
        current delay for it. The slot is taken even if the caller never sends: it only makes others wait.
        """
        wait = self.reserve_within(host, interval, None)
        assert wait is not None  # no limit: always taken
        return wait

    def reserve_within(self, host: str, interval: float, limit: float | None) -> float | None:
        """`reserve`, unless the host's next slot is more than `limit` seconds away: then nothing is taken
        and None is returned (the caller puts the request back in the frontier until then, see `waiting`)."""
        limit_us = -1 if limit is None else _micros(limit, "limit")
        taken, wait_us = self._reserve(keys=[self.key(host)], args=[_micros(interval, "interval"), GRACE_MS, limit_us])
        self.last_wait = int(wait_us) / 1_000_000
        return self.last_wait if int(taken) else None

    def block(self, host: str, seconds: float) -> None:
        """Let no worker send to `host` for `seconds` from now (a Retry-After); a later next slot is kept."""
        self._block(keys=[self.key(host), self._block_key(host)], args=[_micros(seconds, "seconds"), GRACE_MS])

    def blocked_for(self, host: str) -> float:
        """Seconds `host`'s block (a Retry-After) still lasts; 0 when it is not blocked. A request whose slot was
        taken before the block asks this once its wait is over, so the block stops it too."""
        remaining_ms = int(self.client.pttl(self._block_key(host)))
        return max(remaining_ms, 0) / 1000

    def _block_key(self, host: str) -> str:
        return self.key(host) + ":blocked"


class SharedPoliteness:
    """Downloader middleware: wait for the host's slot on the shared clock before a request is sent, and make
    every worker stay away from a host that answers 429 or 503 with Retry-After.

    The interval is the largest of DOWNLOAD_DELAY, the host's robots.txt Crawl-delay (read from Scrapy's
    `robots_parsed` signal) and its download slot's current delay (AutoThrottle adjusts it; a slot exists
    once this worker has sent the host a request). A short wait (up to NEWSWIRE_FRONTIER_DEFER_AFTER, 5 s)
    is waited here, counting against this worker's CONCURRENT_REQUESTS; a longer one (a Retry-After, a
    long Crawl-delay) takes no slot: the request goes back to the frontier's delayed set until then (at
    most NEWSWIRE_FRONTIER_MAX_WAIT, 300 s, then it asks again), so a blocked host holds up no other. When
    Redis fails (away, or full), requests go out on this worker's own Scrapy delay, with one warning until the
    clock answers again (the crawl itself ends after NEWSWIRE_FRONTIER_MAX_OUTAGE). A Retry-After is
    obeyed up to NEWSWIRE_RETRY_AFTER_MAX.
    """

    def __init__(
        self, crawler: Crawler, clock: HostClock, *, max_wait: float, retry_after_max: float, defer_after: float = 5.0
    ) -> None:
        self.crawler = crawler
        self.clock = clock
        self.max_wait = max_wait
        self.defer_after = defer_after
        self.retry_after_max = retry_after_max
        self.download_delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT") or "*"
        self.crawl_delays: dict[str, float] = {}  # host → its robots.txt Crawl-delay, capped by max_wait
        self.clock_failing = False  # the last slot could not be taken (Redis away or full)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPoliteness:
        client, keys = frontier_of(crawler.settings)  # NotConfigured without NEWSWIRE_FRONTIER
        middleware = cls(
            crawler,
            HostClock(client, keys),
            max_wait=FrontierConfig.from_crawler(crawler).max_wait,
            defer_after=FrontierConfig.from_crawler(crawler).defer_after,
            retry_after_max=CrawlConfig.from_crawler(crawler).retry_after_max.total_seconds(),
        )
        crawler.signals.connect(middleware.robots_parsed, signal=signals.robots_parsed)
        return middleware

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        """Keep the Crawl-delay a host's robots.txt gives our user agent."""
        host = urlparse_cached(request).hostname
        delay = robotparser.crawl_delay(self.user_agent)
        if host and delay:
            self.crawl_delays[host] = min(float(delay), self.max_wait)

    def interval(self, request: Request, host: str) -> float:
        """Seconds between two requests to `host`, across every worker."""
        delays = [self.download_delay, self.crawl_delays.get(host, 0.0)]
        engine = self.crawler._engine  # Scrapy's way to read it before the crawl starts (then it is None)
        if engine is not None:
            downloader = engine.downloader
            slot = downloader.slots.get(downloader.get_slot_key(request))
            if slot is not None:
                delays.append(slot.delay)
        return max(delays)

    async def process_request(self, request: Request) -> Request | None:
        host = urlparse_cached(request).hostname
        if not host:
            return None
        for attempt in range(1, SLOT_ATTEMPTS + 1):
            try:
                limit = min(self.defer_after, self.max_wait)
                wait = self.clock.reserve_within(host, self.interval(request, host), limit)
            except redis.RedisError as exc:
                self._clock_failed(request, exc)
                return None
            self._clock_back()
            if wait is None:  # a Retry-After or a long Crawl-delay: wait in the frontier, not in a download slot
                return self._deferred(request, self.clock.last_wait)
            if wait <= 0:
                break
            due = time.monotonic() + wait
            await sleep(wait)
            try:  # a 429 may have come while this request waited for its slot: the block holds for it too
                blocked = self.clock.blocked_for(host)
            except redis.RedisError:
                blocked = 0.0
            if blocked > 0:
                return self._deferred(request, blocked)
            if time.monotonic() - due <= LATE_SEND or attempt == SLOT_ATTEMPTS:
                break
            # woken late (a busy reactor): sent now, it would land in the next worker's slot, two requests
            # bunched at the host; a missed slot is a lost one, and the request takes the next free slot
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("frontier/host_slot_missed")
        self._no_second_delay(request)
        return None

    def _clock_failed(self, request: Request, exc: redis.RedisError) -> None:
        """Redis is unreachable or refuses the clock's write (full): requests go out on this worker's own delay,
        one warning per spell, not per request."""
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("frontier/host_clock_errors")
        if not self.clock_failing:
            self.clock_failing = True
            logger.warning(
                "host clock unreachable, %s and the next requests sent on this worker's delay alone: %s",
                request.url,
                str(exc).split(". script:")[0],
            )

    def _clock_back(self) -> None:
        if self.clock_failing:
            self.clock_failing = False
            logger.warning("host clock answers again")

    def _no_second_delay(self, request: Request) -> None:
        """Let this worker's own download slot send `request` now: its slot already spaced it from every worker's
        requests to the host. Scrapy's slot would otherwise also space it from this worker's last request (its
        DOWNLOAD_DELAY or AutoThrottle delay), sending it late, into the next worker's slot: two requests bunched."""
        engine = self.crawler._engine
        if engine is None:
            return
        slot = engine.downloader.slots.get(engine.downloader.get_slot_key(request))
        if slot is not None:
            slot.lastseen = 0.0

    def _deferred(self, request: Request, seconds: float) -> Request:
        """`request` again, to wait in the frontier's delayed set for `seconds` (at most max_wait)."""
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("frontier/deferred_by_host_clock")
        later = request.replace(dont_filter=True)
        later.meta[NOT_BEFORE] = time.time() + min(seconds, self.max_wait)
        return later

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in THROTTLED:
            return response
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        host = urlparse_cached(request).hostname
        if asked and host:
            seconds = min(asked, self.retry_after_max)
            try:
                self.clock.block(host, seconds)
            except redis.RedisError as exc:
                logger.warning("host clock unreachable, %s not blocked for %.0f s: %s", host, seconds, exc)
            else:
                logger.info("%s answered %d: every worker stays away for %.0f s", host, response.status, seconds)
        return response
