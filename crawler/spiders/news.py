"""The discovery spider: feeds, sitemaps and robots.txt of each outlet lead to article pages."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.conditional import FetchState, max_age, settle_articles
from crawler.errors import classify_failure, worth_retrying
from crawler.extract.record import DiscoveryHints
from crawler.listings import (
    ListingEntry,
    ListingError,
    changed_since,
    feed_links,
    parse_listing,
    prefer_news_sitemaps,
    recent_entries,
    recent_sitemaps,
    robots_sitemaps,
)
from crawler.registry import Outlet, load_registry, select_outlets
from storage.db import stored_urls
from storage.urls import canonical_url, strip_tracking

logger = logging.getLogger(__name__)

LISTING_PRIORITY = 10  # listings before articles, so limits see the newest entries first
MAX_SITEMAP_DEPTH = 3  # sitemap indexes nested deeper than this are refused


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


class NewsSpider(scrapy.Spider):
    """Discover article URLs per outlet and fetch them (`scrapy crawl news -a sources=sources.toml`)."""

    name = "news"

    def __init__(
        self,
        outlets: list[Outlet] | None = None,
        sources: str | None = None,
        outlet_names: str | list[str] | None = None,
        known: dict[str, tuple[int, datetime]] | None = None,
        limit: int | str | None = None,
        registry: list[Outlet] | None = None,
        follow_depth: int | str = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if outlets is None:
            names = outlet_names.split(",") if isinstance(outlet_names, str) else (outlet_names or [])
            registry = registry or load_registry(sources or "sources.toml")
            outlets = select_outlets(registry, names)
        self.outlets = {o.slug: o for o in outlets}
        self.registry = {o.slug: o for o in (registry or outlets)}
        self.follow_depth = int(follow_depth)
        self.started = set(self.outlets)
        self.followed: set[str] = set()
        self.known = known
        self.limit = int(limit) if limit is not None else None
        self.scheduled: Counter[str] = Counter()
        self.seen: set[str] = set()
        self.already_stored: set[int] = set()
        self.registry_hosts = set().union(*(o.hosts for o in self.registry.values())) if self.registry else set()
        self.fetch_state = FetchState()
        self.awaiting_robots: dict[str, list[tuple[str, int]]] = {}  # netloc → (outlet, depth) waiting for robots.txt

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        settle_articles(crawler, lambda: spider.fetch_state)
        return spider

    def outlet_for_netloc(self, netloc: str) -> str | None:
        """The slug of the crawl's outlet whose homepage is at `netloc` (for requests without an outlet)."""
        for outlet in self.outlets.values():
            if urlsplit(outlet.homepage).netloc == netloc:
                return outlet.slug
        return None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.limit is None:
            self.limit = self.settings.getint("NEWSWIRE_MAX_ARTICLES_PER_OUTLET")
        if self.known is None:
            slugs = list(self.registry if self.follow_depth else self.outlets)
            self.known = stored_urls(self.settings.get("NEWSWIRE_DB"), slugs)
        self.fetch_state = FetchState.load(self.settings.get("NEWSWIRE_DB"))
        for outlet in list(self.outlets.values()):
            for request in self._discovery(outlet, 0):
                yield request

    def _discovery(self, outlet: Outlet, depth: int) -> Iterator[scrapy.Request]:
        """The first requests of an outlet's discovery; `depth` counts citation hops from the crawl's outlets."""
        for url in (*outlet.feeds, *outlet.sitemaps):
            if request := self._listing_request(url, outlet, follow=depth):
                yield request
        if not outlet.feeds and not outlet.sitemaps:
            yield from self._robots_discovery(outlet, depth)
            yield scrapy.Request(
                outlet.homepage,
                callback=self.parse_homepage,
                errback=self.on_error,
                priority=LISTING_PRIORITY,
                meta={
                    "outlet": outlet.slug,
                    "follow_depth": depth,
                    "conditional": True,
                    "handle_httpstatus_list": [304],
                },
            )

    def _robots_discovery(self, outlet: Outlet, depth: int) -> Iterator[scrapy.Request]:
        """Sitemaps named by robots.txt: read from the copy Scrapy's robots.txt middleware fetches anyway
        (one request per host, conditional), or fetched here when robots.txt is not obeyed."""
        robots_url = urljoin(outlet.homepage, "/robots.txt")
        netloc = urlsplit(robots_url).netloc
        if not self.settings.getbool("ROBOTSTXT_OBEY"):
            yield scrapy.Request(
                robots_url,
                callback=self.parse_robots,
                errback=self.on_error,
                priority=LISTING_PRIORITY,
                meta={"outlet": outlet.slug, "handle_httpstatus_list": [404, 410], "follow_depth": depth},
            )
        elif netloc in self.fetch_state.robots:
            yield from self._robots_sitemaps(self.fetch_state.robots[netloc], outlet, depth)
        else:
            self.awaiting_robots.setdefault(netloc, []).append((outlet.slug, depth))

    def robots_parsed(self, robotparser: Any, request: scrapy.Request) -> None:
        """Scrapy parsed a host's robots.txt: queue the sitemaps it names for the outlets waiting on it."""
        self._robots_ready(urlsplit(request.url).netloc)

    def _robots_ready(self, netloc: str) -> None:
        """Queue the sitemaps of this host's robots.txt (this crawl's copy, else the one kept from the last)."""
        waiting = self.awaiting_robots.pop(netloc, [])
        for slug, depth in waiting:
            outlet = self.outlets[slug]
            robots_url = urljoin(outlet.homepage, "/robots.txt")
            text = self.fetch_state.robots.get(netloc) or self.fetch_state.stored_robots(robots_url) or ""
            for sitemap_request in self._robots_sitemaps(text, outlet, depth):
                self.crawler.engine.crawl(sitemap_request)

    def _robots_sitemaps(self, text: str, outlet: Outlet, depth: int) -> Iterator[scrapy.Request]:
        for url in prefer_news_sitemaps(robots_sitemaps(text)):
            if request := self._listing_request(url, outlet, follow=depth):
                yield request

    def follow_outlet(self, slug: str, depth: int) -> bool:
        """Run a cited registry outlet's discovery in this crawl (once per run, within the depth allowed)."""
        if depth > self.follow_depth or slug in self.started or slug in self.followed or slug not in self.registry:
            return False
        outlet = self.outlets[slug] = self.registry[slug]
        self.followed.add(slug)
        self.crawler.stats.inc_value("newswire/followed_outlets")
        logger.info("following cited outlet %s (depth %d)", outlet.name, depth)
        for request in self._discovery(outlet, depth):
            self.crawler.engine.crawl(request)
        return True

    def follow_link(self, url: str, slug: str, depth: int) -> bool:
        """Fetch a linked article page of a registry outlet directly, within the depth allowed."""
        if depth > self.follow_depth or slug not in self.registry:
            return False
        self.outlets.setdefault(slug, self.registry[slug])
        request = self._article_request(ListingEntry(url), self.outlets[slug], "link", follow=depth)
        if request is not None:
            self.crawler.stats.inc_value("newswire/followed_links")
            self.crawler.engine.crawl(request)
        return request is not None

    def _listing_request(
        self, url: str, outlet: Outlet, depth: int = 0, follow: int = 0, parent: str | None = None
    ) -> scrapy.Request | None:
        if not _is_web_url(url):
            self.record_error(outlet, url, "bad_url", "not an http(s) URL")
            return None
        if parent:
            self.fetch_state.child(url, parent)
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.on_error,
            priority=LISTING_PRIORITY,
            meta={
                "outlet": outlet.slug,
                "listing_depth": depth,
                "follow_depth": follow,
                "conditional": True,
                "handle_httpstatus_list": [304],
                "parent_listing": parent,
            },
        )

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        outlet = self.outlets[response.meta["outlet"]]
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        yield from self._robots_sitemaps(response.text, outlet, response.meta.get("follow_depth", 0))

    def parse_homepage(self, response: Response) -> Iterator[scrapy.Request]:
        outlet = self.outlets[response.meta["outlet"]]
        self._listing_ok(outlet)
        self._robots_ready(urlsplit(outlet.homepage).netloc)  # robots.txt could not be fetched: no signal came
        self._poll_hint(outlet, max_age(response) or 0)
        if response.status == 304:
            links = response.meta.get("stored_links", [])
        else:
            links = feed_links(response.body, response.url) if isinstance(response, TextResponse) else []
            self.fetch_state.set_links(response.url, links)
        self.crawler.stats.inc_value("newswire/discovery/autodiscovered_feeds", len(links))
        for url in links:
            if request := self._listing_request(url, outlet, follow=response.meta.get("follow_depth", 0)):
                yield request

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        outlet = self.outlets[response.meta["outlet"]]
        follow = response.meta.get("follow_depth", 0)
        if parent := response.meta.get("parent_listing"):
            self.fetch_state.child(response.url, parent)  # under its final URL too (redirects)
        if response.status == 304:  # unchanged since our last complete reading of it
            self._listing_ok(outlet)
            self._poll_hint(outlet, max(response.meta.get("stored_poll_hint") or 0, max_age(response) or 0))
            # a sitemap index's children may change while it does not: ask each of them (conditionally)
            for url in response.meta.get("stored_links", []):
                depth = response.meta.get("listing_depth", 0) + 1
                if depth <= MAX_SITEMAP_DEPTH and (
                    request := self._listing_request(url, outlet, depth, follow, response.url)
                ):
                    yield request
            return
        max_size = self.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            listing = parse_listing(response.body, response.url, max_size=max_size)
        except ListingError as exc:
            self.fetch_state.mark_incomplete(response.url)
            self.record_error(outlet, response.url, "listing_malformed", str(exc))
            return
        self._listing_ok(outlet)
        self.crawler.stats.inc_value(f"newswire/discovery/{listing.kind}")
        self.fetch_state.set_poll_hint(response.url, listing.poll_hint)
        self._poll_hint(outlet, max(listing.poll_hint or 0, max_age(response) or 0))
        cutoff = self._sitemap_cutoff(outlet)
        if listing.kind == "sitemapindex":
            depth = response.meta.get("listing_depth", 0) + 1
            if depth > MAX_SITEMAP_DEPTH:
                detail = f"sitemap indexes nested more than {MAX_SITEMAP_DEPTH} deep"
                self.record_error(outlet, response.url, "sitemap_too_deep", detail)
                return
            recent = recent_sitemaps(listing.sitemaps, cutoff)
            self._count_old(len(listing.sitemaps) - len(recent), "old_sitemap")
            newest_first = sorted(recent, key=lambda s: s[1] or "", reverse=True)
            cap = self.settings.getint("NEWSWIRE_SITEMAP_MAX_CHILDREN")
            children = [url for url, _lastmod in newest_first[:cap]]
            self.fetch_state.set_links(response.url, children)
            for url in children:
                if request := self._listing_request(url, outlet, depth, follow, response.url):
                    yield request
            return
        source = "sitemap" if listing.kind == "sitemap" else "feed"
        entries = (
            sorted(listing.entries, key=lambda e: e.published_raw or "", reverse=True)
            if source == "sitemap"
            else listing.entries
        )
        if source == "sitemap":
            recent = recent_entries(entries, cutoff)
            self._count_old(len(entries) - len(recent), "old_sitemap_entry")
            entries = recent
        for entry in entries:
            request = self._article_request(entry, outlet, source, follow=follow, listing=response.url)
            if request is not None:
                yield request

    def _poll_hint(self, outlet: Outlet, seconds: int) -> None:
        """One listing's hint (0: none); the outlet's is the smallest, since any listing may bring news."""
        self.crawler.stats.min_value(f"newswire/by_outlet/{outlet.slug}/poll_hint", seconds)

    def _listing_ok(self, outlet: Outlet) -> None:
        self.crawler.stats.inc_value(f"newswire/by_outlet/{outlet.slug}/listings_ok")

    def _sitemap_cutoff(self, outlet: Outlet) -> datetime:
        """Sitemap entries last changed before this are skipped (per outlet `sitemap_window`, default 7 days)."""
        window = getattr(outlet, "sitemap_window", None) or timedelta(
            days=self.settings.getfloat("NEWSWIRE_SITEMAP_WINDOW_DAYS")
        )
        return datetime.now(UTC) - window

    def _count_old(self, count: int, what: str) -> None:
        if count:
            self.crawler.stats.inc_value(f"newswire/skipped/{what}", count)

    def _article_request(
        self, entry: ListingEntry, outlet: Outlet, source: str, follow: int = 0, listing: str | None = None
    ) -> scrapy.Request | None:
        if not _is_web_url(entry.url):
            self.record_error(outlet, entry.url[:200], "bad_url", "not an http(s) URL")
            return None
        try:
            url = strip_tracking(entry.url)
            key = canonical_url(url)
        except ValueError as exc:  # malformed host or port
            self.record_error(outlet, entry.url[:200], "bad_url", f"malformed URL: {exc}")
            return None
        stats = self.crawler.stats
        if key in self.seen:
            return None
        self.seen.add(key)
        if key in self.known and not changed_since(entry, self.known[key][1]):
            article_id = self.known[key][0]
            if article_id not in self.already_stored:  # count articles, not their URLs
                self.already_stored.add(article_id)
                stats.inc_value("newswire/already_stored")
            return None
        if self.scheduled[outlet.slug] >= (self.limit or 0):
            stats.inc_value("newswire/skipped/over_limit")
            self.fetch_state.mark_incomplete(listing)  # the rest must be seen by the next crawl
            return None
        self.scheduled[outlet.slug] += 1
        self.fetch_state.article_scheduled(listing)
        hints = DiscoveryHints(source=source, title=entry.title, published_raw=entry.published_raw)
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta={"outlet": outlet.slug, "hints": hints, "follow_depth": follow, "listing": listing},
        )

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        outlet = self.outlets[response.meta["outlet"]]
        if not isinstance(response, TextResponse):
            self.fetch_state.article_done(response.meta.get("listing"))
            self.record_error(outlet, response.url, "not_html", "response is not text")
            return
        yield {
            "outlet": outlet.slug,
            "url": response.url,
            "html": response.text,
            "hints": response.meta.get("hints"),
            "language": outlet.language,
            "timezone": outlet.timezone,
            "follow_depth": response.meta.get("follow_depth", 0),
            "fetched_at": datetime.now(UTC),
            "listing": response.meta.get("listing"),  # the pipelines' verdict settles it (item signals)
        }

    def on_error(self, failure: Any) -> None:
        request = failure.request
        outlet = self.outlets.get(request.meta.get("outlet", ""))
        kind, detail, is_error = classify_failure(failure)
        if request.callback == self.parse_article:
            self.fetch_state.article_done(request.meta.get("listing"), retry_later=worth_retrying(kind))
        elif request.meta.get("conditional"):
            self.fetch_state.mark_incomplete(request.url)
        if request.callback == self.parse_homepage:
            self._robots_ready(urlsplit(request.url).netloc)
        if not is_error:
            self.crawler.stats.inc_value(f"newswire/skipped/{kind}")
            logger.info("%s: %s skipped: %s", outlet.name if outlet else "?", request.url, detail)
            return
        if isinstance(failure.value, HttpError) and request.callback == self.parse_robots:
            return
        self.record_error(outlet, request.url, kind, detail)

    def record_error(self, outlet: Outlet | None, url: str, kind: str, detail: str) -> None:
        """Count an expected failure in the run's stats and log it on one line."""
        self.crawler.stats.inc_value("newswire/errors")
        self.crawler.stats.inc_value(f"newswire/errors/{kind}")
        if outlet is not None:
            self.crawler.stats.inc_value(f"newswire/by_outlet/{outlet.slug}/errors")
            self.crawler.stats.set_value(f"newswire/by_outlet/{outlet.slug}/last_error", f"{kind}: {url}")
        logger.error("%s: %s: %s", outlet.name if outlet else "?", url, detail)
