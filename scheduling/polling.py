"""Adaptive polling: when an outlet should next be crawled, from how often it publishes and what it asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PollingPolicy:
    """Bounds of adaptive polling (settings NEWSWIRE_POLL_MIN/MAX, NEWSWIRE_FAILURE_LIMIT)."""

    minimum: timedelta = timedelta(minutes=15)
    maximum: timedelta = timedelta(hours=24)
    failure_limit: int = 5  # consecutive failures after which an outlet is reported as failing
    window: timedelta = timedelta(days=7)  # how far back publishing frequency is measured


def publishing_gap(article_count: int, window: timedelta) -> timedelta | None:
    """The mean time between an outlet's articles over `window` (None when it published nothing)."""
    return window / article_count if article_count > 0 else None


def next_interval(
    policy: PollingPolicy,
    *,
    gap: timedelta | None,
    failures: int = 0,
    poll_hint: float | None = None,
    retry_after: float | None = None,
    minimum: timedelta | None = None,
) -> timedelta:
    """How long to wait before the next crawl of an outlet.

    About one poll per expected new article (the publishing gap), kept between the outlet's minimum
    (its `every` in sources.toml, else the policy's) and the policy's maximum; doubled for each
    consecutive failure up to the maximum; never shorter than what its listings ask readers
    (`poll_hint`: feed `<ttl>`/`sy:updatePeriod` or Cache-Control max-age, the smallest over its
    listings, up to the maximum) nor than a 429/503's Retry-After (which may exceed the maximum).
    """
    low = minimum or policy.minimum
    high = max(policy.maximum, low)
    interval = min(max(gap or high, low), high)
    if failures > 0:
        interval = min(high, interval * 2 ** min(failures, 20))
    if poll_hint:
        interval = max(interval, min(high, timedelta(seconds=poll_hint)))
    if retry_after:
        interval = max(interval, timedelta(seconds=retry_after))
    return interval


def is_due(next_due_at: datetime | None, now: datetime) -> bool:
    """True when an outlet has never been crawled or its next crawl time has come."""
    return next_due_at is None or next_due_at <= now
