"""The local news web: four fake outlets on 127.0.0.1, used by the tests and by `newswire demo`.

Each outlet is a real HTTP server on its own free port, with its own robots.txt. Every 200 answer
carries an ETag (a hash of the body) and a Last-Modified (when that body was first served), and a
conditional request that matches gets 304 — except Al-Khabar, which sends and honours Last-Modified
only. `NewsWebServer.answers` logs (slug, path, status) for tests that count requests.

maghreb-ledger (WordPress style; registry lists /feed/ and /feed/broken.xml)
  /robots.txt                 disallows /private/
  /feed/                      RSS 2.0: the reference article (link carries utm_ parameters), a solar story,
                              the wire story, a /private/ page (robots-disallowed), a 404 article, and a
                              link to 127.0.0.2 (an internal address off the registry: must be refused)
  /feed/broken.xml            a malformed feed (truncated XML)
  /2025/07/24/syria-…/        the reference article (../shared/seed, else a stand-in of the same shape)
                              with share buttons, a 0 counter, a promo box, comment form, newsletter
                              popup with a shortcode and a × close button
  /2025/07/22/…               the solar story; the wire story (same text as desert-wire's copy)
desert-wire (no feeds, no sitemaps in the registry: discovery through robots.txt)
  /robots.txt                 Sitemap: /sitemap_index.xml
  /                           homepage without feed links
  /sitemap_index.xml          → /sitemaps/news.xml.gz (gzipped Google News sitemap) and /sitemaps/pages.xml,
                              both with today's lastmod, and /sitemaps/2024.xml (lastmod 2024: outside the
                              sitemap window, must not be fetched)
  /news/turkey-…              JSON-LD NewsArticle (@graph) with datePublished 2025-07-23T14:05:00+03:00;
                              the sitemap lists it twice, once with utm_ parameters
  /news/libya-floods-…        the wire story with different boilerplate
  /news/gulf-markets-…        a story whose AMP copy /amp/news/gulf-markets-… (rel=canonical) is listed too
  /news/archive-…             listed in the news sitemap with a 2024 lastmod: outside the window, never fetched
  /about/                     a page with no article
atlas-review (homepage only: the feed is found by <link rel="alternate">)
  /                           links /atom.xml
  /atom.xml                   Atom 1.0
  /stories/fishermen-…        date only in the byline: "Published July 23rd" (no year)
  /stories/tunis-…            date in <time datetime>; revise_story() adds a paragraph and bumps its <updated>
  /stories/libya-coast-floods the wire story a third time: other headline and lede, cut, credits Desert Wire
al-khabar (Arabic; registry lists /rss.rdf)
  /rss.rdf                    RSS 1.0 (RDF) with dc:date; sy:updatePeriod weekly, frequency 2 (poll every 3.5 days)
  /akhbar/2025/…              Arabic pages dated "23 يوليو 2025 - 14:30"
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from crawler.demo import pages
from crawler.demo.server import Fault, NewsWebServer, Resource, find_reference_article
from crawler.demo.stories import (
    ARABIC_STORIES,
    ATLAS_WIRE_COPY,
    ATOM_STORIES,
    MAGHREB_STORIES,
    WIRE_STORIES,
    ReferenceParts,
    Story,
    reference_parts,
)

SLUGS = ("maghreb-ledger", "desert-wire", "atlas-review", "al-khabar")
# Politeness for outlets we serve ourselves on loopback (the demo, the tests, the benchmarks): no delays.
LOCAL_WEB_SETTINGS: dict[str, float] = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_START_DELAY": 0,
    "NEWSWIRE_RETRY_BACKOFF_BASE": 0.2,
}


def as_set_options(settings: dict[str, object]) -> list[str]:
    """Settings as `-s KEY=VALUE` options of `newswire crawl`."""
    return [arg for key, value in settings.items() for arg in ("-s", f"{key}={value}")]


TEXT = "text/plain; charset=utf-8"


class NewsWeb:
    """Start, describe and stop the local news web."""

    def __init__(self, reference: Path | None = None) -> None:
        self.reference: ReferenceParts = reference_parts(reference or find_reference_article())
        self.server = NewsWebServer(list(SLUGS))
        self.urls: dict[str, str] = {}
        self.started = datetime.now(UTC)
        self.published: list[Story] = []  # stories added to Maghreb Ledger's feed by publish_story()
        self.wire_published: list[Story] = []  # stories added to Desert Wire's news sitemap only

    def __enter__(self) -> NewsWeb:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> dict[str, str]:
        """Serve every outlet; return base URLs by slug."""
        self.urls = self.server.start()
        routes = {
            "maghreb-ledger": self._maghreb(self.urls["maghreb-ledger"]),
            "desert-wire": self._wire(self.urls["desert-wire"]),
            "atlas-review": self._atlas(self.urls["atlas-review"]),
            "al-khabar": self._khabar(self.urls["al-khabar"]),
        }
        for slug, site_routes in routes.items():
            self.server.sites[slug].routes = site_routes
        self.server.sites["al-khabar"].validators = ("last-modified",)
        return self.urls

    def stop(self) -> None:
        self.server.stop()

    def revise_story(self, when: str) -> str:
        """Publish a correction to Atlas Review's Tunis story (its Atom <updated> becomes `when`); return its URL."""
        story = ATOM_STORIES[1]
        revised = replace(
            story,
            paragraphs=(*story.paragraphs, "Correction: the line is seven kilometres long, not six as first reported."),
            updated=when,
        )
        self.server.sites["atlas-review"].routes = self._atlas(self.urls["atlas-review"], revised)
        return self.urls["atlas-review"] + story.path

    def publish_story(self, story: Story) -> str:
        """Publish a new story on Maghreb Ledger (top of its feed, and its page); return its URL."""
        self.published.insert(0, story)
        self.server.sites["maghreb-ledger"].routes = self._maghreb(self.urls["maghreb-ledger"])
        return self.urls["maghreb-ledger"] + story.path

    def publish_wire_story(self, story: Story) -> str:
        """Publish a story on Desert Wire: its page and its news sitemap change, the sitemap index does not."""
        self.wire_published.insert(0, story)
        self.server.sites["desert-wire"].routes = self._wire(self.urls["desert-wire"])
        return self.urls["desert-wire"] + story.path

    @property
    def reference_story(self) -> Story:
        return pages.reference_story(self.reference)

    def article_urls(self) -> dict[str, list[str]]:
        """Canonical URLs of the articles each outlet should end up with after a crawl."""
        return {
            "maghreb-ledger": [self.urls["maghreb-ledger"] + s.path for s in (self.reference_story, *MAGHREB_STORIES)],
            "desert-wire": [self.urls["desert-wire"] + s.path for s in WIRE_STORIES],
            "atlas-review": [self.urls["atlas-review"] + s.path for s in (*ATOM_STORIES, ATLAS_WIRE_COPY)],
            "al-khabar": [self.urls["al-khabar"] + s.path for s in ARABIC_STORIES],
        }

    def registry_toml(self) -> str:
        """A sources.toml that names the four outlets at their loopback addresses."""
        u = self.urls
        return f"""# The local news web (generated; ports change every run)
[[outlet]]
name = "Maghreb Ledger"
aliases = ["Maghreb Ledger", "the Ledger"]
homepage = "{u["maghreb-ledger"]}/"
feeds = ["{u["maghreb-ledger"]}/feed/", "{u["maghreb-ledger"]}/feed/broken.xml"]
language = "en"

[[outlet]]
name = "Desert Wire"
aliases = ["Desert Wire", "DW"]
homepage = "{u["desert-wire"]}/"
language = "en"

[[outlet]]
name = "Atlas Review"
homepage = "{u["atlas-review"]}/"
language = "en"

[[outlet]]
name = "Al-Khabar"
aliases = ["الخبر", "Al Khabar"]
homepage = "{u["al-khabar"]}/"
feeds = ["{u["al-khabar"]}/rss.rdf"]
language = "ar"
"""

    def write_registry(self, path: Path) -> Path:
        path.write_text(self.registry_toml(), encoding="utf-8")
        return path

    # --- routes of each outlet -------------------------------------------------------------------

    def _maghreb(self, base: str) -> dict[str, Resource | Fault]:
        reference = self.reference_story
        solar, wire = MAGHREB_STORIES
        private = Story("/private/internal-memo/", "Internal memo", ("Not for crawlers.",) * 3)
        gone = Story("/2025/07/21/deleted-story/", "A story that was deleted", ("Gone.",))
        outside = Story("/stolen-copy/", "A copy on an internal address", ("x",))
        port = base.rsplit(":", 1)[1]
        items = [
            *((base + story.path, story) for story in self.published),
            (f"{base}{reference.path}?utm_source=rss&utm_medium=rss&utm_campaign=syria", reference),
            (base + solar.path, solar),
            (base + wire.path, wire),
            (base + private.path, private),
            (base + gone.path, gone),
            (f"http://127.0.0.2:{port}{outside.path}", outside),
        ]
        routes: dict[str, Resource | Fault] = {
            "/robots.txt": Resource(b"User-agent: *\nDisallow: /private/\n", TEXT),
            "/": pages.html_resource(
                f'<html><head><title>Maghreb Ledger</title><link rel="alternate" type="application/rss+xml" '
                f'href="{base}/feed/"></head><body><h1>Maghreb Ledger</h1></body></html>'
            ),
            "/feed/": pages.rss2_feed(base, "Maghreb Ledger", items),
            "/feed/broken.xml": Resource(
                b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title><item><title>Cut o',
                "application/rss+xml",
            ),
            private.path: pages.html_resource(pages.wordpress_article(private, base)),
        }
        for story in (*self.published, reference, solar, wire):
            routes[story.path] = pages.html_resource(pages.wordpress_article(story, base))
        return routes

    def _wire(self, base: str) -> dict[str, Resource | Fault]:
        turkey, floods, markets = WIRE_STORIES
        today = self.started.isoformat(timespec="seconds")
        archived = Story("/news/archive-2024-oil-deal/", "An archived story", ("Old news.",), published="2024-03-01")
        news_entries = [
            *((base + story.path, story, today) for story in self.wire_published),
            (base + turkey.path, turkey, today),
            (base + turkey.path + "?utm_source=sitemap&utm_medium=news", turkey, today),
            (base + floods.path, floods, today),
            (base + markets.path, markets, today),
            (base + "/amp" + markets.path, markets, today),
            (base + archived.path, archived, "2024-03-01"),
        ]
        routes: dict[str, Resource | Fault] = {
            "/robots.txt": Resource(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap_index.xml\n".encode(), TEXT),
            "/": pages.html_resource(
                "<html><head><title>Desert Wire</title></head><body><h1>Desert Wire</h1></body></html>"
            ),
            "/sitemap_index.xml": pages.sitemap_index(
                [
                    (f"{base}/sitemaps/news.xml.gz", today),
                    (f"{base}/sitemaps/pages.xml", today),
                    (f"{base}/sitemaps/2024.xml", "2024-12-31"),
                ]
            ),
            "/sitemaps/news.xml.gz": Resource(pages.news_sitemap(base, news_entries), "application/x-gzip"),
            "/sitemaps/pages.xml": pages.urlset([(f"{base}/about/", today)]),
            "/sitemaps/2024.xml": pages.urlset([(f"{base}/news/archive-2024-oil-deal/", "2024-12-31")]),
            "/about/": pages.html_resource(pages.about_page()),
            "/amp" + markets.path: pages.html_resource(pages.jsonld_article(markets, base, amp=True)),
        }
        for story in (*self.wire_published, *WIRE_STORIES):
            routes[story.path] = pages.html_resource(pages.jsonld_article(story, base))
        return routes

    def _atlas(self, base: str, time_story: Story | None = None) -> dict[str, Resource | Fault]:
        byline_story, time_story = ATOM_STORIES[0], time_story or ATOM_STORIES[1]
        return {
            "/robots.txt": Resource(b"User-agent: *\nDisallow:\n", TEXT),
            "/": pages.html_resource(
                '<html><head><title>Atlas Review</title><link rel="alternate" type="application/atom+xml" '
                'title="Atlas Review" href="/atom.xml"></head><body><h1>Atlas Review</h1></body></html>'
            ),
            "/atom.xml": pages.atom_feed(base, (byline_story, time_story, ATLAS_WIRE_COPY)),
            ATLAS_WIRE_COPY.path: pages.html_resource(pages.atom_article(ATLAS_WIRE_COPY, byline_only=False)),
            byline_story.path: pages.html_resource(pages.atom_article(byline_story, byline_only=True)),
            time_story.path: pages.html_resource(pages.atom_article(time_story, byline_only=False)),
        }

    def _khabar(self, base: str) -> dict[str, Resource | Fault]:
        routes: dict[str, Resource | Fault] = {
            "/robots.txt": Resource(b"User-agent: *\nDisallow:\n", TEXT),
            "/rss.rdf": pages.rdf_feed(base, ARABIC_STORIES),
        }
        for story in ARABIC_STORIES:
            routes[story.path] = pages.html_resource(pages.arabic_article(story))
        return routes
