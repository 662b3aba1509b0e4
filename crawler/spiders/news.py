"""The discovery spider: feeds, sitemaps and robots.txt of each outlet lead to article pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from crawler import meta
from crawler import stats as counters
from crawler.config import CrawlConfig
from crawler.discovery.listings import (
    ListingEntry,
    changed_since,
)
from crawler.discovery.registry import Outlet, load_registry, select_outlets
from crawler.discovery.resolve import outlet_directory
from crawler.extensions.coordination import CrawlCoordination, CrawlOptions, crawl_coordination
from crawler.extensions.database import crawl_store
from crawler.extract.citations import OutletDirectory, resolve
from crawler.extract.record import DiscoveryHints, DiscoverySource
from crawler.failures import classify_failure, worth_retrying
from crawler.items import ExtractedArticle, FetchedPage
from crawler.signals import article_stored
from crawler.spiders.discovery import ListingDiscovery
from storage.common.urls import canonical_url, is_web_url, strip_tracking
from storage.db import stored_urls

logger = logging.getLogger(__name__)


def response_headers(response: Response) -> tuple[tuple[str, str], ...]:
    """A response's headers as (name, value) text pairs, in order (Latin-1, as HTTP sends them)."""
    return tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        for value in values
    )


class NewsSpider(ListingDiscovery, scrapy.Spider):
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
        self.known = known
        self.limit = int(limit) if limit is not None else None
        self.already_stored: set[int] = set()
        self.awaiting_robots: dict[str, list[tuple[str, int]]] = {}  # netloc → (outlet, depth) waiting for robots.txt

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = CrawlConfig.from_crawler(crawler)
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider.article_stored, signal=article_stored)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.known is None:
            slugs = list(self.registry if self.follow_depth else self.outlets)
            self.known = stored_urls(crawl_store(self.crawler), slugs)
        if not self.coordination.plans:  # a shared crawl's worker: it fetches what the frontier holds
            return
        self.coordination.new_crawl(self.own_options, set(self.outlets))
        for outlet in list(self.outlets.values()):
            for request in self._discovery_of(outlet, 0):
                yield request

    def _discovery_of(self, outlet: Outlet, depth: int) -> list[scrapy.Request]:
        """The outlet's discovery requests; an outlet that cannot even start is counted and left out, never
        stopping the others."""
        try:
            return list(self._discovery(outlet, depth))
        except Exception as exc:
            logger.debug("discovery of %s failed", outlet.name, exc_info=True)
            self.record_error(outlet, outlet.homepage, "outlet_failed", f"cannot start: {type(exc).__name__}: {exc}")
            return []

    @cached_property
    def coordination(self) -> CrawlCoordination:
        """What this crawl's processes decide together (one process's, or a shared crawl's)."""
        return crawl_coordination(self.crawler)

    @property
    def own_options(self) -> CrawlOptions:
        """This process's --limit and --depth (a shared crawl's processes follow the planner's)."""
        limit = self.limit if self.limit is not None else self.config.max_articles_per_outlet
        return CrawlOptions(limit, self.follow_depth)

    @property
    def options(self) -> CrawlOptions:
        """The crawl's --limit and --depth, as its planner set them."""
        return self.coordination.options(self.own_options)

    @cached_property
    def directory(self) -> OutletDirectory:
        """Names and domains of the registry's outlets, to resolve citations."""
        return outlet_directory(list(self.registry.values()))

    def article_stored(self, item: ExtractedArticle) -> None:
        """--follow-citations: crawl the registry outlets a new article cites, and the articles it links of theirs."""
        depth = item.follow_depth + 1
        if depth > self.options.follow_depth:  # the planner's --depth, whichever process stored the article
            return
        slug_by_name = {o.name: o.slug for o in self.registry.values()}
        for citation in item.record.citations:
            slug = slug_by_name.get(resolve(citation.name, citation.domain, self.directory) or "")
            if slug is None or slug == item.outlet:
                continue
            self.follow_outlet(slug, depth)
            if citation.kind == "link" and citation.url:
                self.follow_link(citation.url, slug, depth)

    def follow_outlet(self, slug: str, depth: int) -> bool:
        """Run a cited registry outlet's discovery in this crawl (once per run, within the depth allowed)."""
        if depth > self.options.follow_depth or slug not in self.registry:
            return False
        if not self.coordination.first_to_follow(slug):  # once per crawl, by whichever process cites it first
            return False
        outlet = self.outlets[slug] = self.registry[slug]
        counters.count(self.crawler.stats, counters.FOLLOWED_OUTLETS)
        logger.info("following cited outlet %s (depth %d)", outlet.name, depth)
        for request in self._discovery_of(outlet, depth):
            self.crawler.engine.crawl(request)
        return True

    def follow_link(self, url: str, slug: str, depth: int) -> bool:
        """Fetch a linked article page of a registry outlet directly, within the depth allowed."""
        if depth > self.options.follow_depth or slug not in self.registry:
            return False
        self.outlets.setdefault(slug, self.registry[slug])
        request = self._article_request(ListingEntry(url), self.outlets[slug], "link", follow=depth)
        if request is not None:
            counters.count(self.crawler.stats, counters.FOLLOWED_LINKS)
            self.crawler.engine.crawl(request)
        return request is not None

    def _article_request(
        self,
        entry: ListingEntry,
        outlet: Outlet,
        source: DiscoverySource,
        follow: int = 0,
        listing: str | None = None,
    ) -> scrapy.Request | None:
        if not is_web_url(entry.url):
            self.record_error(outlet, entry.url[:200], "bad_url", "not an http(s) URL")
            return None
        try:
            url = strip_tracking(entry.url)
            key = canonical_url(url)
        except ValueError as exc:  # malformed host or port
            self.record_error(outlet, entry.url[:200], "bad_url", f"malformed URL: {exc}")
            return None
        if not self.coordination.first_to_queue(key):
            return None
        known = self.known or {}
        if key in known and not changed_since(entry, known[key][1]):
            article_id = known[key][0]
            if article_id not in self.already_stored:  # count articles, not their URLs
                self.already_stored.add(article_id)
                counters.count(self.crawler.stats, counters.ALREADY_STORED)
            return None
        if not self.coordination.within_limit(outlet.slug, self.options.limit):
            counters.count_skipped(self.crawler.stats, "over_limit")
            self.fetch_state.mark_incomplete(listing)  # the rest must be seen by the next crawl
            return None
        self.fetch_state.article_scheduled(listing)
        hints = DiscoveryHints(source=source, title=entry.title, published_raw=entry.published_raw)
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta={meta.OUTLET: outlet.slug},
            cb_kwargs={"hints": hints, "follow_depth": follow, "listing": listing},
        )

    def parse_article(
        self, response: Response, hints: DiscoveryHints, follow_depth: int = 0, listing: str | None = None
    ) -> Iterator[FetchedPage]:
        outlet = self.outlets[response.meta[meta.OUTLET]]
        if not isinstance(response, TextResponse):
            self.fetch_state.article_done(listing)
            self.record_error(outlet, response.url, "not_html", "response is not text")
            return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1") or None
        yield FetchedPage(
            outlet=outlet.slug,
            url=response.url,
            body=response.body,  # decoded by the extraction worker, as browsers do
            content_type=content_type,
            fetched_at=datetime.now(UTC),
            hints=hints,
            language=outlet.language,
            timezone=outlet.timezone,
            follow_depth=follow_depth,
            listing=listing,  # the pipelines' verdict settles it (item signals)
            status=response.status,
            headers=response_headers(response) if self.config.keep_raw else (),
            keep_raw=self.config.keep_raw,
        )

    def on_error(self, failure: Any) -> None:
        request = failure.request
        outlet = self.outlets.get(request.meta.get(meta.OUTLET, ""))
        kind, detail, is_error = classify_failure(failure)
        if request.callback == self.parse_article:
            self.fetch_state.article_done(request.cb_kwargs.get("listing"), retry_later=worth_retrying(kind))
        elif request.meta.get(meta.CONDITIONAL):
            self.fetch_state.mark_incomplete(request.url)
        if request.callback == self.parse_homepage:
            self._robots_ready(urlsplit(request.url).netloc)
        if not is_error:
            counters.count_skipped(self.crawler.stats, kind)
            logger.info("%s: %s skipped: %s", outlet.name if outlet else "?", request.url, detail)
            return
        if isinstance(failure.value, HttpError) and request.callback == self.parse_robots:
            return
        self.record_error(outlet, request.url, kind, detail)

    def request_dropped(self, request: scrapy.Request) -> None:
        """A redirect that comes back to a URL of its own chain is a loop: the duplicate filter drops it
        silently, so it is counted and named here."""
        chain = request.meta.get("redirect_urls", [])
        if request.url in chain:
            outlet = self.outlets.get(request.meta.get(meta.OUTLET, ""))
            self.record_error(outlet, chain[0], "redirect_loop", f"redirect loop: {' -> '.join([*chain, request.url])}")

    def record_error(self, outlet: Outlet | None, url: str, kind: str, detail: str) -> None:
        """Count an expected failure in the run's stats and log it on one line."""
        counters.count_error(self.crawler.stats, kind, outlet.slug if outlet else None, url)
        logger.error("%s: %s: %s", outlet.name if outlet else "?", url, detail)
