"""plan_listing: what the spider does with a listing's answer, decided without Scrapy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.discovery.navigation import MAX_SITEMAP_DEPTH, ListingAnswer, ListingLimits, plan_listing

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
LIMITS = ListingLimits(cutoff=NOW - timedelta(days=7), max_children=2, max_size=1 << 20)


def _day(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%d")


def _index(*lastmods: str) -> bytes:
    items = "".join(
        f"<sitemap><loc>https://x.test/s{i}.xml</loc><lastmod>{m}</lastmod></sitemap>" for i, m in enumerate(lastmods)
    )
    return f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode()


def test_a_304_asks_the_stored_children_again_within_the_depth_and_keeps_the_stored_hint():
    links = ("https://x.test/a.xml", "https://x.test/b.xml")
    plan = plan_listing(ListingAnswer("https://x.test/i.xml", 304, b"", 1, links, 3600, max_age=60), LIMITS)
    assert plan.answered and plan.kind is None and plan.error is None
    assert plan.children == links and plan.child_depth == 2 and plan.poll_hint == 3600
    deep = plan_listing(ListingAnswer("https://x.test/i.xml", 304, b"", MAX_SITEMAP_DEPTH, links), LIMITS)
    assert deep.children == () and deep.answered


def test_a_malformed_listing_is_an_error_and_not_an_answer():
    plan = plan_listing(ListingAnswer("https://x.test/feed", 200, b"<html><body>nothing here</body></html>"), LIMITS)
    assert not plan.answered and plan.error is not None and plan.error[0] == "listing_malformed"
    assert plan.entries == () and plan.children == ()


def test_an_index_follows_its_newest_recent_children_up_to_the_cap():
    plan = plan_listing(ListingAnswer("https://x.test/i.xml", 200, _index(_day(3), _day(30), _day(1), _day(2))), LIMITS)
    assert plan.kind == "sitemapindex" and plan.remember_children
    assert plan.children == ("https://x.test/s2.xml", "https://x.test/s3.xml")  # newest first, two of three recent
    assert plan.skipped == {"old_sitemap": 1} and plan.child_depth == 1
    too_deep = plan_listing(ListingAnswer("https://x.test/i.xml", 200, _index(_day(1)), MAX_SITEMAP_DEPTH), LIMITS)
    assert too_deep.answered and too_deep.error is not None and too_deep.error[0] == "sitemap_too_deep"


def test_sitemap_entries_newest_first_inside_the_window_and_feed_entries_in_feed_order():
    urls = "".join(
        f"<url><loc>https://x.test/{n}</loc><lastmod>{_day(d)}</lastmod></url>"
        for n, d in (("a", 2), ("b", 9), ("c", 1))
    )
    sitemap = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()
    plan = plan_listing(ListingAnswer("https://x.test/s.xml", 200, sitemap), LIMITS)
    assert plan.source == "sitemap" and [e.url for e in plan.entries] == ["https://x.test/c", "https://x.test/a"]
    assert plan.skipped == {"old_sitemap_entry": 1}
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://x.test/</link>'
        b"<description>d</description><ttl>90</ttl>"
        b"<item><title>Old</title><link>https://x.test/old</link></item>"
        b"<item><title>New</title><link>https://x.test/new</link></item></channel></rss>"
    )
    feed = plan_listing(ListingAnswer("https://x.test/feed", 200, rss, max_age=600), LIMITS)
    assert feed.source == "feed" and [e.url for e in feed.entries] == ["https://x.test/old", "https://x.test/new"]
    assert feed.poll_hint == 5400 and feed.listing_poll_hint == 5400  # <ttl> 90 minutes beats max-age 600 s
