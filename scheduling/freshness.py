"""Outlet freshness after each crawl: last success, last new article, failures in a row, next due time."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduling.polling import PollingPolicy, is_due, next_interval, publishing_gap
from storage.models import Article, Outlet, OutletState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutletFreshness:
    """One outlet's state as `newswire status` shows it."""

    name: str
    slug: str
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_new_article_at: datetime | None
    consecutive_failures: int  # crawls in a row where none of its listings answered (polling backs off)
    last_error: str | None  # "<kind>: <url>", from its first failing crawl until a crawl without errors
    interval_seconds: int | None
    next_due_at: datetime | None
    failing: bool
    last_error_at: datetime | None = None
    runs_with_errors: int = 0  # crawls in a row in which a listing or a page of it failed

    def as_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in self.__dict__.items()}


def recent_article_count(session: Session, outlet_id: int, since: datetime) -> int:
    """Articles of an outlet published (else first fetched) since `since`."""
    when = func.coalesce(Article.published, Article.fetched_at)
    stmt = select(func.count(Article.id)).where(Article.outlet_id == outlet_id, when >= since)
    return int(session.scalar(stmt) or 0)


class CrawlOutcome(Protocol):
    """What adaptive polling needs of one outlet's counts in a crawl (crawler.stats.OutletCounts has it;
    scheduling never imports the crawler)."""

    listings_ok: int
    new: int
    errors: int
    last_error: str | None
    poll_hint: int | None
    retry_after: float | None


def record_crawl(
    session: Session,
    by_outlet: Mapping[str, CrawlOutcome],
    now: datetime,
    policy: PollingPolicy,
    minimums: dict[str, timedelta] | None = None,
    interrupted: bool = False,
) -> None:
    """Update the state of every outlet crawled, from its counts in this run.

    An outlet succeeded when at least one of its feeds, sitemaps or homepage answered (200 or 304);
    it failed when none did. An interrupted run counts no failures.
    """
    minimums = minimums or {}
    outlets = session.scalars(select(Outlet).where(Outlet.slug.in_(list(by_outlet)))).all()
    for outlet in outlets:
        counts = by_outlet[outlet.slug]
        if interrupted and not counts.listings_ok:
            continue  # stopped before it was reached: neither a failure nor a reason to postpone it
        state = session.get(OutletState, outlet.id) or OutletState(outlet_id=outlet.id, consecutive_failures=0)
        session.add(state)
        state.last_attempt_at = now
        if counts.listings_ok > 0:
            state.last_success_at = now
            state.consecutive_failures = 0
        elif not interrupted:
            state.consecutive_failures = (state.consecutive_failures or 0) + 1
        if counts.errors > 0 or counts.listings_ok == 0:  # a listing or a page of it failed: the operator sees it
            state.runs_with_errors = (state.runs_with_errors or 0) + 1
            state.last_error = (counts.last_error or "no feed, sitemap or homepage answered")[:1000]
            state.last_error_at = now
        else:
            state.runs_with_errors = 0
            state.last_error = state.last_error_at = None
        if counts.listings_ok == 0 and state.consecutive_failures >= policy.failure_limit:
            logger.warning(
                "%s has failed %d crawls in a row (last: %s); polling backs off to %s",
                outlet.name,
                state.consecutive_failures,
                state.last_error,
                policy.maximum,
            )
        if counts.new > 0:
            state.last_new_article_at = now
        gap = publishing_gap(recent_article_count(session, outlet.id, now - policy.window), policy.window)
        interval = next_interval(
            policy,
            gap=gap,
            failures=state.consecutive_failures,
            poll_hint=counts.poll_hint,
            retry_after=counts.retry_after,
            minimum=minimums.get(outlet.slug),
        )
        state.interval_seconds = int(interval.total_seconds())
        state.next_due_at = now + interval


def freshness(session: Session, policy: PollingPolicy) -> list[OutletFreshness]:
    """Every stored outlet's freshness, by name."""
    rows = session.execute(
        select(Outlet, OutletState).outerjoin(OutletState, OutletState.outlet_id == Outlet.id).order_by(Outlet.name)
    )
    result = []
    for outlet, state in rows:
        failures = state.consecutive_failures if state else 0
        result.append(
            OutletFreshness(
                outlet.name,
                outlet.slug,
                state.last_attempt_at if state else None,
                state.last_success_at if state else None,
                state.last_new_article_at if state else None,
                failures,
                state.last_error if state else None,
                state.interval_seconds if state else None,
                state.next_due_at if state else None,
                failures >= policy.failure_limit,
                state.last_error_at if state else None,
                (state.runs_with_errors or 0) if state else 0,
            )
        )
    return result


def _due_times(session: Session, slugs: list[str]) -> dict[str, datetime | None]:
    """The next due time of each of `slugs` that has a state."""
    rows = session.execute(
        select(Outlet.slug, OutletState.next_due_at)
        .join(OutletState, OutletState.outlet_id == Outlet.id)
        .where(Outlet.slug.in_(slugs))
    )
    return {slug: due for slug, due in rows}


def due_slugs(session: Session, slugs: list[str], now: datetime) -> list[str]:
    """The outlets among `slugs` that are due now (never crawled, or their next due time has come)."""
    states = _due_times(session, slugs)
    return [slug for slug in slugs if is_due(states.get(slug), now)]


def next_due(session: Session, slugs: list[str]) -> datetime | None:
    """The earliest next due time among `slugs`; None when one of them was never crawled (due now)."""
    states = _due_times(session, slugs)
    times = [states.get(slug) for slug in slugs]
    if not times or any(t is None for t in times):
        return None
    return min(t for t in times if t is not None)
