"""How the frontier's Redis answers one crawl process: unreachable (an outage), or reachable but refusing
writes (at its `maxmemory` with the `noeviction` policy, a read-only replica, a failed save that stops
writes). Either ends the crawl once it has lasted NEWSWIRE_FRONTIER_MAX_OUTAGE seconds.

The two are told apart because they end differently. An outage is over when Redis answers again. Refused
writes are over only when a write succeeds: a full Redis still answers reads, and still runs the scripts
that delete before they add (leasing a request does), so every successful read would otherwise start the
count again and a full frontier would keep a crawl going forever, acking nothing. A crawl that ends on
refused writes ends failed (`frontier_full`); requests it could not queue meanwhile are counted as errors.
"""

from __future__ import annotations

import logging
import time
import weakref

import redis
from scrapy.crawler import Crawler

from crawler.frontier.config import FrontierConfig

logger = logging.getLogger(__name__)

DEFAULT_MAX_OUTAGE = 300.0  # seconds; a crawl's is FrontierConfig.max_outage
FULL, UNREACHABLE = "frontier_full", "frontier_unreachable"  # the finish reasons of a crawl this ends
_REFUSED_TYPES = (redis.exceptions.OutOfMemoryError, redis.exceptions.ReadOnlyError)
_REFUSED_CODES = ("MISCONF", "NOREPLICAS")  # stop-writes-on-bgsave-error, min-replicas-to-write


def refuses_writes(exc: BaseException) -> bool:
    """True when Redis answered but refused a write (OOM, READONLY, MISCONF, NOREPLICAS)."""
    if isinstance(exc, _REFUSED_TYPES):
        return True
    return isinstance(exc, redis.ResponseError) and str(exc).startswith(_REFUSED_CODES)


def reason(exc: BaseException) -> str:
    """A Redis error in a few words (without the script hash Redis adds to an error inside a script)."""
    return str(exc).splitlines()[0].split(". script:")[0][:200] if str(exc) else type(exc).__name__


class FrontierHealth:
    """Since when this process's frontier is unreachable, and since when it refuses writes (monotonic times)."""

    def __init__(self, max_outage: float = DEFAULT_MAX_OUTAGE) -> None:
        self.max_outage = max_outage
        self.down_since: float | None = None
        self.refused_since: float | None = None

    @property
    def troubled(self) -> bool:
        return self.down_since is not None or self.refused_since is not None

    def failed(self, exc: BaseException) -> None:
        """A Redis call failed; the first failure of each kind is logged, the rest are not."""
        if refuses_writes(exc):
            self.reachable()
            if self.refused_since is None:
                self.refused_since = time.monotonic()
                logger.error(
                    "frontier refuses writes (%s): Redis is full (maxmemory) or read-only; nothing can be queued or "
                    "acked; this crawl ends failed unless Redis accepts writes within %.0f s",
                    reason(exc),
                    self.max_outage,
                )
        elif self.down_since is None:
            self.down_since = time.monotonic()
            logger.error("frontier unreachable (%s); retrying", exc)

    def reachable(self) -> None:
        """Redis answered (a read, or a write it accepted)."""
        if self.down_since is not None:
            logger.warning("frontier reachable again after %.0f s", time.monotonic() - self.down_since)
            self.down_since = None

    def wrote(self) -> None:
        """Redis accepted a write (one a full Redis refuses: it adds to a key)."""
        self.reachable()
        if self.refused_since is not None:
            logger.warning("frontier accepts writes again after %.0f s", time.monotonic() - self.refused_since)
            self.refused_since = None

    def ended(self) -> str | None:
        """FULL or UNREACHABLE once either has lasted longer than max_outage, else None."""
        now = time.monotonic()
        if self.refused_since is not None and now - self.refused_since > self.max_outage:
            return FULL
        if self.down_since is not None and now - self.down_since > self.max_outage:
            return UNREACHABLE
        return None

    def lasted(self) -> float:
        """Seconds the longest current trouble has lasted (0 when none)."""
        since = [t for t in (self.down_since, self.refused_since) if t is not None]
        return time.monotonic() - min(since) if since else 0.0


_HEALTH: weakref.WeakKeyDictionary[Crawler, FrontierHealth] = weakref.WeakKeyDictionary()


def frontier_health(crawler: Crawler) -> FrontierHealth:
    """The crawl's one FrontierHealth, shared by its frontier components (scheduler, coordination)."""
    if crawler not in _HEALTH:
        _HEALTH[crawler] = FrontierHealth(FrontierConfig.from_crawler(crawler).max_outage)
    return _HEALTH[crawler]
