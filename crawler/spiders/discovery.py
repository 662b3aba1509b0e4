"""Discovery: an outlet's feeds, sitemaps, robots.txt and homepage lead to article requests (a spider mixin)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from crawler import meta
from crawler import stats as counters
from crawler.config import CrawlConfig
from crawler.discovery.listings import feed_links, prefer_news_sitemaps, robots_sitemaps
from crawler.discovery.navigation import ListingAnswer, ListingLimits, plan_listing
from crawler.discovery.registry import Outlet
from crawler.extensions.coordination import CrawlCoordination
from crawler.extensions.fetch_state import FetchState, crawl_fetch_state, max_age
from storage.common.urls import is_web_url

logger = logging.getLogger(__name__)

LISTING_PRIORITY = 10  # listings before articles, so limits see the newest entries first


class ListingDiscovery:
    """Requests and callbacks for listings: feeds, sitemaps (indexes, the sitemap window), robots.txt
    `Sitemap:` lines and homepage autodiscovery, all conditional (crawler.extensions.fetch_state).

    Mixed into NewsSpider, which provides `outlets`, `config`, `coordination`, `awaiting_robots`, `settings`,
    `crawler`, `_article_request`, `on_error` and `record_error`.
    """

    outlets: dict[str, Outlet]
    config: CrawlConfig
    awaiting_robots: dict[str, list[tuple[str, int]]]
    settings: Any
    crawler: Any

    if TYPE_CHECKING:  # provided by NewsSpider (their signatures are its own)

        @property
        def coordination(self) -> CrawlCoordination: ...

        on_error: Callable[[Any], None]
        record_error: Callable[[Outlet | None, str, str, str], None]
        _article_request: Callable[..., scrapy.Request | None]

    @property
    def fetch_state(self) -> FetchState:
        """The crawl's FetchState, owned by the FetchStateKeeper extension."""
        return crawl_fetch_state(self.crawler)

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
                meta={meta.OUTLET: outlet.slug, meta.CONDITIONAL: True, "handle_httpstatus_list": [304]},
                cb_kwargs={"follow_depth": depth},
            )

    def _robots_discovery(self, outlet: Outlet, depth: int) -> Iterator[scrapy.Request]:
        """Sitemaps named by robots.txt: read from the copy Scrapy's robots.txt middleware fetches anyway
        (one request per host, conditional), or fetched here when robots.txt is not obeyed."""
        robots_url = urljoin(outlet.homepage, "/robots.txt")
        netloc = urlsplit(robots_url).netloc
        if not self.settings.getbool("ROBOTSTXT_OBEY") or not self.coordination.sees_every_response:
            # fetched here in a shared crawl too: the worker whose robots.txt middleware reads the host may
            # be another one, and its robots_parsed signal would never reach this process
            yield scrapy.Request(
                robots_url,
                callback=self.parse_robots,
                errback=self.on_error,
                priority=LISTING_PRIORITY,
                meta={meta.OUTLET: outlet.slug, "handle_httpstatus_list": [404, 410]},
                cb_kwargs={"follow_depth": depth},
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
        urls = self._capped(prefer_news_sitemaps(robots_sitemaps(text)), outlet, "sitemaps")
        for url in urls:
            if request := self._listing_request(url, outlet, follow=depth):
                yield request

    def _capped(self, urls: list[str], outlet: Outlet, kind: Literal["sitemaps", "feeds"]) -> list[str]:
        """The first listings of a kind an outlet names (robots.txt sitemaps, a homepage's feeds), up to the
        kind's cap; the rest are counted as skipped: a page naming 2,000 feeds must not cost 2,000 requests."""
        if kind == "sitemaps":
            cap, setting = self.config.max_sitemaps_per_outlet, "NEWSWIRE_MAX_SITEMAPS_PER_OUTLET"
        else:
            cap, setting = self.config.max_feeds_per_outlet, "NEWSWIRE_MAX_FEEDS_PER_OUTLET"
        if len(urls) > cap:
            counters.count_skipped(self.crawler.stats, f"too_many_{kind}", len(urls) - cap)
            logger.warning("%s: names %d %s; the first %d are read (%s)", outlet.name, len(urls), kind, cap, setting)
        return urls[:cap]

    def _listing_request(
        self, url: str, outlet: Outlet, depth: int = 0, follow: int = 0, parent: str | None = None
    ) -> scrapy.Request | None:
        if not is_web_url(url):
            self.record_error(outlet, url, "bad_url", "not an http(s) URL")
            return None
        if parent:
            self.fetch_state.child(url, parent)
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.on_error,
            priority=LISTING_PRIORITY,
            meta={meta.OUTLET: outlet.slug, meta.CONDITIONAL: True, "handle_httpstatus_list": [304]},
            cb_kwargs={"listing_depth": depth, "follow_depth": follow, "parent_listing": parent},
        )

    def parse_robots(self, response: Response, follow_depth: int = 0) -> Iterator[scrapy.Request]:
        outlet = self.outlets[response.meta[meta.OUTLET]]
        if response.status != 200 or not isinstance(response, TextResponse):
            return
        yield from self._robots_sitemaps(response.text, outlet, follow_depth)

    def parse_homepage(self, response: Response, follow_depth: int = 0) -> Iterator[scrapy.Request]:
        outlet = self.outlets[response.meta[meta.OUTLET]]
        self._listing_ok(outlet)
        self._robots_ready(urlsplit(outlet.homepage).netloc)  # robots.txt could not be fetched: no signal came
        self._poll_hint(outlet, max_age(response) or 0)
        if response.status == 304:
            links = response.meta.get(meta.STORED_LINKS, [])
        else:
            links = feed_links(response.body, response.url) if isinstance(response, TextResponse) else []
            self.fetch_state.set_links(response.url, links)
        links = self._capped(links, outlet, "feeds")
        counters.count_discovery(self.crawler.stats, "autodiscovered_feeds", len(links))
        for url in links:
            if request := self._listing_request(url, outlet, follow=follow_depth):
                yield request

    def parse_listing(
        self, response: Response, listing_depth: int = 0, follow_depth: int = 0, parent_listing: str | None = None
    ) -> Iterator[scrapy.Request]:
        """Turn the listing's plan (crawler.discovery.navigation) into counts, fetch-state updates and requests."""
        outlet = self.outlets[response.meta[meta.OUTLET]]
        if parent_listing:
            self.fetch_state.child(response.url, parent_listing)  # under its final URL too (redirects)
        answer = ListingAnswer(
            url=response.url,
            status=response.status,
            body=response.body,
            depth=listing_depth,
            stored_links=tuple(response.meta.get(meta.STORED_LINKS, ())),
            stored_poll_hint=response.meta.get(meta.STORED_POLL_HINT),
            max_age=max_age(response),
        )
        limits = ListingLimits(
            self._sitemap_cutoff(outlet), self.config.sitemap_max_children, self.settings.getint("DOWNLOAD_MAXSIZE")
        )
        plan = plan_listing(answer, limits)
        if plan.answered:
            self._listing_ok(outlet)
            self._poll_hint(outlet, plan.poll_hint)
        if plan.kind is not None:
            counters.count_discovery(self.crawler.stats, plan.kind)
            self.fetch_state.set_poll_hint(response.url, plan.listing_poll_hint)
        for why, count in plan.skipped.items():
            counters.count_skipped(self.crawler.stats, why, count)
        if plan.error is not None:
            self._listing_failed(outlet, response.url, *plan.error)
            return
        if plan.remember_children:
            self.fetch_state.set_links(response.url, list(plan.children))
        for url in plan.children:
            if request := self._listing_request(url, outlet, plan.child_depth, follow_depth, response.url):
                yield request
        for entry in plan.entries:
            if request := self._article_request(entry, outlet, plan.source, follow=follow_depth, listing=response.url):
                yield request

    def _listing_failed(self, outlet: Outlet, url: str, kind: str, detail: str) -> None:
        """A listing that could not be read (seen again next crawl), or an index nested too deep (one error
        line per outlet, the rest counted)."""
        if kind == "sitemap_too_deep":
            if counters.outlet_value(self.crawler.stats, outlet.slug, "sitemap_too_deep"):
                counters.count_skipped(self.crawler.stats, "sitemap_too_deep")
            else:
                self.record_error(outlet, url, kind, detail)
            counters.count_outlet(self.crawler.stats, outlet.slug, "sitemap_too_deep")
        else:
            self.fetch_state.mark_incomplete(url)
            self.record_error(outlet, url, kind, detail)

    def _poll_hint(self, outlet: Outlet, seconds: int) -> None:
        """One listing's hint (0: none); the outlet's is the smallest, since any listing may bring news."""
        counters.poll_hint(self.crawler.stats, outlet.slug, seconds)

    def _listing_ok(self, outlet: Outlet) -> None:
        counters.listing_answered(self.crawler.stats, outlet.slug)

    def _sitemap_cutoff(self, outlet: Outlet) -> datetime:
        """Sitemap entries last changed before this are skipped (per outlet `sitemap_window`, default 7 days)."""
        window = getattr(outlet, "sitemap_window", None) or self.config.sitemap_window
        return datetime.now(UTC) - window
