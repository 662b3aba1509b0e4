"""Discovery parsing: feeds, sitemaps, robots.txt and feed links, on hand-made and real-world files."""

from __future__ import annotations

import gzip

import pytest

from crawler.discovery.listings import ListingError, feed_links, parse_listing, prefer_news_sitemaps, robots_sitemaps
from tests.support.paths import require_shared

BASE = "https://news.example/"


def test_rss1_rdf_feed():
    body = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
    <channel rdf:about="https://news.example/rss"><title>T</title><link>https://news.example/</link></channel>
    <item rdf:about="https://news.example/a"><title>A</title><link>https://news.example/a</link>
    <dc:date>2025-07-23T14:30:00+00:00</dc:date></item></rdf:RDF>"""
    listing = parse_listing(body, BASE)
    assert listing.kind == "feed"
    assert [(e.url, e.title, e.published_raw) for e in listing.entries] == [
        ("https://news.example/a", "A", "2025-07-23T14:30:00+00:00")
    ]


def test_gzipped_google_news_sitemap_and_index():
    urlset = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
    xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>/a</loc><news:news>
    <news:publication_date>2025-07-23T10:00:00Z</news:publication_date><news:title>Alpha</news:title></news:news></url>
    </urlset>"""
    listing = parse_listing(gzip.compress(urlset), BASE)
    assert listing.kind == "sitemap"
    assert listing.entries[0].url == "https://news.example/a"
    assert listing.entries[0].title == "Alpha" and listing.entries[0].published_raw == "2025-07-23T10:00:00Z"
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://news.example/s1.xml.gz</loc>
    <lastmod>2025-07-01</lastmod></sitemap></sitemapindex>"""
    listing = parse_listing(index, BASE)
    assert listing.kind == "sitemapindex" and listing.sitemaps == [("https://news.example/s1.xml.gz", "2025-07-01")]


def test_entity_declarations_refused():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
    <rss version="2.0"><channel><item><title>&lol2;</title><link>https://x/</link></item></channel></rss>"""
    with pytest.raises(ListingError, match="entity"):
        parse_listing(bomb, BASE)


@pytest.mark.parametrize(
    "body", [b"<rss><channel><item><title>cut", b"not xml at all", b"<html><body>Hi</body></html>"]
)
def test_malformed_listing_raises(body):
    with pytest.raises(ListingError):
        parse_listing(body, BASE)


def test_gzip_bomb_capped():
    with pytest.raises(ListingError, match="larger than"):
        parse_listing(gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>"), BASE, max_size=1_000_000)


def test_robots_sitemaps_and_news_preference():
    robots = "User-agent: *\nDisallow: /search\nSitemap: https://w.example/sitemap.xml\nSitemap: https://w.example/news-sitemap.xml\n"
    urls = robots_sitemaps(robots)
    assert urls == ["https://w.example/sitemap.xml", "https://w.example/news-sitemap.xml"]
    assert prefer_news_sitemaps(urls) == ["https://w.example/news-sitemap.xml"]
    assert prefer_news_sitemaps(urls[:1]) == urls[:1]


def test_feed_autodiscovery():
    page = b"""<html><head><link rel="alternate" type="application/rss+xml" href="/feed/">
    <link rel="alternate" type="application/rss+xml" href="/comments/feed/">
    <link rel="alternate" type="application/atom+xml" href="https://n.example/atom.xml">
    <link rel="alternate" hreflang="fr" href="/fr/"></head><body></body></html>"""
    assert feed_links(page, "https://n.example/") == ["https://n.example/feed/", "https://n.example/atom.xml"]


@pytest.mark.parametrize(
    ("name", "kind", "count"),
    [
        ("trafilatura-feed1.atom", "feed", 2),
        ("trafilatura-feed2.rss", "feed", 1),
        ("trafilatura-feed.json", "feed", 25),
        ("trafilatura-sitemap.xml", "sitemap", 84),
        ("trafilatura-sitemap.xml.gz", "sitemap", 84),
        ("trafilatura-sitemap2.xml", "sitemapindex", 0),
        ("trafilatura-sitemap-hreflang.xml", "sitemap", 3),
        ("news-crawl-sitemap-news.xml", "sitemap", 1),
        ("news-crawl-feed-with-sitemap-namespace.xml", "feed", 2),
        ("rss-fetcher-real-cnn.rss", "feed", 69),
        ("rss-fetcher-real-korean-times.rss", "feed", 195),
    ],
)
def test_real_world_listings(name, kind, count):
    body = require_shared("feeds-and-sitemaps", name).read_bytes()
    listing = parse_listing(body, "https://example.org/")
    assert listing.kind == kind
    assert len(listing.entries) == count
    assert all(e.url.startswith(("http://", "https://")) for e in listing.entries)
    if kind == "sitemapindex":
        assert listing.sitemaps


def test_malformed_and_non_web_urls_do_not_break_a_listing():
    body = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://[bad</loc></url>
    <url><loc>http://n.example:99999/x</loc></url><url><loc>https://n.example/good</loc></url>
    <url><loc>file:///etc/passwd</loc></url></urlset>"""
    listing = parse_listing(body, BASE)
    assert [e.url for e in listing.entries] == [
        "https://n.example/good",
        "file:///etc/passwd",
    ]  # the spider drops file:


def test_spider_refuses_non_web_urls(tmp_path):
    from scrapy.utils.test import get_crawler

    from crawler.discovery.listings import ListingEntry
    from crawler.discovery.registry import Outlet
    from crawler.spiders.news import NewsSpider

    extensions = {
        "crawler.extensions.database.CrawlDatabase": 0,
        "crawler.extensions.fetch_state.FetchStateKeeper": 0,
        "crawler.extensions.coordination.CoordinationKeeper": 0,
    }
    crawler = get_crawler(NewsSpider, {"NEWSWIRE_DB": f"sqlite:///{tmp_path / 'x.db'}", "EXTENSIONS": extensions})
    spider = NewsSpider.from_crawler(crawler, outlets=[Outlet("Local", "http://127.0.0.1:8080/")], known={}, limit=10)
    outlet = spider.outlets["local"]
    for url in ("file:///etc/passwd", "data:text/html,<p>x</p>", "ftp://n.example/x", "http://n.example:99999/x"):
        assert spider._article_request(ListingEntry(url), outlet, "sitemap") is None
    assert crawler.stats.get_value("newswire/errors/bad_url") == 4
    assert spider._article_request(ListingEntry("https://n.example/ok"), outlet, "sitemap") is not None
