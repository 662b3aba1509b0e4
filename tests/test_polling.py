"""Adaptive polling: intervals from publishing frequency, server hints and failures; outlet state per run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from crawler.stats import OutletCounts as C
from scheduling.freshness import due_slugs, freshness, next_due, record_crawl
from scheduling.polling import PollingPolicy, next_interval, publishing_gap
from storage.db import make_engine
from storage.models import Article, Outlet
from tests.support.articles import article_values

POLICY = PollingPolicy(minimum=timedelta(minutes=15), maximum=timedelta(hours=24), failure_limit=3)
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_interval_follows_publishing_frequency_within_bounds():
    week = timedelta(days=7)
    assert next_interval(POLICY, gap=publishing_gap(7 * 24, week)) == timedelta(hours=1)  # hourly outlet
    assert next_interval(POLICY, gap=publishing_gap(10_000, week)) == POLICY.minimum  # never below the minimum
    assert next_interval(POLICY, gap=publishing_gap(0, week)) == POLICY.maximum  # silent outlet: once a day
    assert next_interval(POLICY, gap=timedelta(minutes=1), minimum=timedelta(minutes=5)) == timedelta(minutes=5)


def test_failures_back_off_and_server_hints_are_honoured():
    hourly = timedelta(hours=1)
    assert next_interval(POLICY, gap=hourly, failures=1) == 2 * hourly
    assert next_interval(POLICY, gap=hourly, failures=3) == 8 * hourly
    assert next_interval(POLICY, gap=hourly, failures=30) == POLICY.maximum  # capped, not hammered nor lost
    assert next_interval(POLICY, gap=hourly, poll_hint=3 * 3600) == 3 * hourly  # <ttl>, max-age
    assert next_interval(POLICY, gap=hourly, poll_hint=60) == hourly  # a short hint does not speed us up
    assert next_interval(POLICY, gap=hourly, poll_hint=3 * 86400) == POLICY.maximum  # a feed's wish: capped
    assert next_interval(POLICY, gap=hourly, retry_after=3 * 86400) == timedelta(days=3)  # a 429/503: honoured


def _db(tmp_path) -> Session:
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    session = Session(engine)
    for slug in ("busy", "quiet", "down"):
        session.add(Outlet(name=slug.title(), slug=slug, homepage=f"https://{slug}.test/", aliases=[]))
    session.flush()
    busy = session.query(Outlet).filter_by(slug="busy").one()
    for i in range(7 * 24):  # one article an hour over the last week
        when = NOW - timedelta(hours=i)
        session.add(
            Article(**article_values(busy.id, f"https://busy.test/{i}", f"Story {i}.", published=when, fetched_at=when))
        )
    session.flush()
    return session


def test_record_crawl_sets_freshness_and_next_due(tmp_path):
    session = _db(tmp_path)
    counts = {
        "busy": C(listings_ok=1, new=3),
        "quiet": C(listings_ok=1, poll_hint=6 * 3600),
        "down": C(errors=2, last_error="connection_refused: https://down.test/feed"),
    }
    record_crawl(session, counts, NOW, POLICY)
    rows = {f.slug: f for f in freshness(session, POLICY)}
    assert rows["busy"].next_due_at == NOW + timedelta(hours=1)
    assert rows["busy"].last_new_article_at == NOW and rows["busy"].last_success_at == NOW
    assert rows["quiet"].next_due_at == NOW + timedelta(hours=24)
    assert rows["down"].consecutive_failures == 1 and "connection_refused" in rows["down"].last_error
    assert rows["down"].last_success_at is None and not rows["down"].failing
    for _ in range(2):
        record_crawl(session, {"down": C(errors=1)}, NOW, POLICY)
    down = {f.slug: f for f in freshness(session, POLICY)}["down"]
    assert down.consecutive_failures == 3 and down.failing  # reported
    assert down.interval_seconds == 24 * 3600  # backed off to the maximum
    record_crawl(session, {"down": C(listings_ok=1)}, NOW, POLICY)
    assert {f.slug: f for f in freshness(session, POLICY)}["down"].consecutive_failures == 0
    before = {f.slug: f for f in freshness(session, POLICY)}["busy"]
    later = NOW + timedelta(hours=5)
    record_crawl(session, {"busy": C()}, later, POLICY, interrupted=True)  # stopped before reaching it
    after = {f.slug: f for f in freshness(session, POLICY)}["busy"]
    assert after.consecutive_failures == 0 and after.next_due_at == before.next_due_at  # not postponed


def test_due_outlets(tmp_path):
    session = _db(tmp_path)
    assert due_slugs(session, ["busy", "quiet"], NOW) == ["busy", "quiet"]  # never crawled
    assert next_due(session, ["busy", "quiet"]) is None
    record_crawl(session, {"busy": C(listings_ok=1), "quiet": C(listings_ok=1)}, NOW, POLICY)
    assert due_slugs(session, ["busy", "quiet"], NOW + timedelta(minutes=5)) == []
    assert due_slugs(session, ["busy", "quiet"], NOW + timedelta(hours=2)) == ["busy"]
    assert next_due(session, ["busy", "quiet"]) == NOW + timedelta(hours=1)
