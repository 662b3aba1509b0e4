"""Conditional requests for discovery URLs: validators loaded per crawl, 304s answered from what we kept.

Feeds, sitemaps, robots.txt and homepages are fetched with If-None-Match / If-Modified-Since. A
listing's new validators are saved only when everything it led to was handled: if an article it
lists failed for a reason that may pass (timeout, 5xx) or was left over a limit, the next crawl
must see the listing again, so its old validators stay.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.misc import build_from_crawler, load_object

from crawler import meta
from crawler import stats as counters
from crawler.extensions.database import crawl_store
from crawler.extensions.registry import crawl_registry
from crawler.failures import retry_after_seconds
from storage.db import Store
from storage.validators import MAX_BODY_CHARS, Validators, load_validators, save_validators

logger = logging.getLogger(__name__)

MAX_WAIT_HINT = 7 * 86400  # a server's Cache-Control or Retry-After is believed up to a week
FETCH_STATE_SETTING = "NEWSWIRE_FETCH_STATE"  # the FetchState class of the crawl (a shared crawl's keeps it in Redis)


class FetchState:
    """One crawl's view of discovery URLs: stored validators, fresh ones, and listings not fully handled."""

    kept_elsewhere = False  # True: other processes fill it too, so it is saved even if this one fetched nothing

    def __init__(self, stored: dict[str, Validators] | None = None) -> None:
        self.stored = stored or {}
        self.fresh: dict[str, Validators] = {}
        self.parents: dict[str, str] = {}  # child sitemap → the index that listed it
        self.pending: Counter[str] = Counter()  # article requests still outstanding, per listing
        self.incomplete: set[str] = set()
        self.robots: dict[str, str] = {}  # netloc → robots.txt text as of this crawl

    @classmethod
    def load(cls, store: Store) -> FetchState:
        with store.sessions() as session:
            return cls(load_validators(session))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchState:
        return cls.load(crawl_store(crawler))

    def conditional_headers(self, url: str, need_body: bool = False) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for `url` from what was stored, if anything."""
        stored = self.stored.get(url)
        if stored is None or not stored.usable or (need_body and stored.body is None):
            return {}
        headers = {"If-None-Match": stored.etag} if stored.etag else {}
        if stored.last_modified:
            headers["If-Modified-Since"] = stored.last_modified
        return headers

    def record(self, url: str, response: Response, body: str | None = None) -> None:
        """Remember a 200 answer's validators (and, for robots.txt, its text)."""
        etag = response.headers.get(b"ETag")
        modified = response.headers.get(b"Last-Modified")
        self.fresh[url] = Validators(
            url,
            etag.decode("latin-1") if etag else None,
            modified.decode("latin-1") if modified else None,
            body,
        )

    def carry(self, url: str) -> Validators | None:
        """A 304: what was stored stays true."""
        stored = self.stored.get(url)
        if stored is not None:
            self.fresh[url] = stored
        return stored

    def set_links(self, url: str, links: list[str]) -> None:
        if url in self.fresh:
            self.fresh[url].links = list(links)

    def set_poll_hint(self, url: str, seconds: int | None) -> None:
        if url in self.fresh:
            self.fresh[url].poll_hint = seconds

    def child(self, child_url: str, parent_url: str) -> None:
        if child_url != parent_url:
            self.parents.setdefault(child_url, parent_url)

    def stored_robots(self, robots_url: str) -> str | None:
        """The robots.txt text kept from an earlier crawl, if any."""
        stored = self.stored.get(robots_url)
        return stored.body if stored else None

    def article_scheduled(self, listing: str | None) -> None:
        if listing:
            self.pending[listing] += 1

    def article_done(self, listing: str | None, retry_later: bool = False) -> None:
        if listing:
            self.pending[listing] -= 1
            if retry_later:
                self.incomplete.add(listing)

    def mark_incomplete(self, listing: str | None) -> None:
        if listing:
            self.incomplete.add(listing)

    def complete(self) -> list[Validators]:
        """Fresh validators of the listings whose articles were all handled (and of their parent indexes)."""
        unfinished = set(self.incomplete) | {url for url, n in self.pending.items() if n > 0}
        for url in list(unfinished):
            seen = set()
            while url in self.parents and url not in seen:
                seen.add(url)
                url = self.parents[url]
                unfinished.add(url)
        return [v for url, v in self.fresh.items() if url not in unfinished and v.usable]

    def save(self, store: Store) -> int:
        """Write the complete listings' validators; return how many."""
        complete = self.complete()
        logger.debug(
            "listings left for next crawl: incomplete %s, pending %s",
            sorted(self.incomplete),
            {u: n for u, n in self.pending.items() if n},
        )
        with store.sessions.begin() as session:
            return save_validators(session, complete)


class FetchStateKeeper:
    """Extension that owns the crawl's FetchState: loaded from the store when first asked for, told when
    articles are done (signals), saved when the spider closes. Components reach it with
    `crawl_fetch_state(crawler)`; nothing hangs it on the spider.

    Articles are settled once the pipelines stored or dropped them (a failed extraction or store, or a
    pipeline error, means "read the listing again"), or the scheduler dropped the request as a duplicate.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.state_class: type[FetchState] = load_object(crawler.settings.get(FETCH_STATE_SETTING) or FetchState)
        self._state: FetchState | None = None
        for handler, signal in (
            (self.item_scraped, signals.item_scraped),
            (self.item_dropped, signals.item_dropped),
            (self.item_error, signals.item_error),
            (self.request_dropped, signals.request_dropped),
            (self.spider_closed, signals.spider_closed),
        ):
            crawler.signals.connect(handler, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchStateKeeper:
        return cls(crawler)

    @property
    def state(self) -> FetchState:
        if self._state is None:
            self._state = build_from_crawler(self.state_class, self.crawler)
        return self._state

    def item_scraped(self, item: Any) -> None:
        self.state.article_done(listing_of(item))

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        self.state.article_done(listing_of(item), retry_later=getattr(exception, "retry_later", False))

    def item_error(self, item: Any) -> None:
        self.state.article_done(listing_of(item), retry_later=True)

    def request_dropped(self, request: Request) -> None:
        if "hints" in request.cb_kwargs:  # an article request
            self.state.article_done(request.cb_kwargs.get("listing"))

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._state is None and not self.state_class.kept_elsewhere:  # nothing was fetched here
            return
        try:
            saved = self.state.save(crawl_store(self.crawler))
            logger.debug("saved validators of %d discovery URLs", saved)
        except Exception as exc:  # noqa: BLE001 - losing validators costs one full fetch next time, not data
            logger.error("could not save fetch validators: %s", exc)


def crawl_fetch_state(crawler: Crawler) -> FetchState:
    """The crawl's FetchState (the FetchStateKeeper extension's)."""
    keeper = crawler.get_extension(FetchStateKeeper)
    if keeper is None:
        raise RuntimeError("the FetchStateKeeper extension is not enabled (EXTENSIONS)")
    return keeper.state


def listing_of(item: Any) -> str | None:
    """The listing an item's article came from (FetchedPage and ExtractedArticle carry it)."""
    return ItemAdapter(item).get("listing")


def is_robots(request: Request) -> bool:
    """True for a robots.txt request, or one redirected from a robots.txt URL."""
    return urlsplit(request.meta.get("redirect_urls", [request.url])[0]).path == "/robots.txt"


def first_netloc(request: Request) -> str:
    """The host:port a request was first made to, before any redirect."""
    return urlsplit(request.meta.get("redirect_urls", [request.url])[0]).netloc


def retry_after(response: Response) -> int | None:
    """Seconds a 429 or 503 asks us to stay away (Retry-After: seconds or an HTTP date), believed up to a week."""
    if response.status not in (429, 503):
        return None
    seconds = retry_after_seconds(response.headers.get(b"Retry-After"))
    return None if seconds is None else min(int(seconds), MAX_WAIT_HINT)


def max_age(response: Response) -> int | None:
    """Cache-Control max-age of a response, in seconds."""
    control = (response.headers.get(b"Cache-Control") or b"").decode("latin-1").lower()
    for part in control.split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age" and value.strip().isdigit():
            return min(int(value), MAX_WAIT_HINT)
    return None


class ConditionalRequestMiddleware:
    """Downloader middleware: conditional GETs for discovery requests, validators and 304s recorded.

    Works with the crawl's FetchState (FetchStateKeeper); a 304 for robots.txt is answered with the stored text so
    that Scrapy's RobotsTxtMiddleware keeps its rules. Also counts requests per outlet and keeps the
    longest Retry-After a server gave an outlet (429, 503) for adaptive polling.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    @property
    def state(self) -> FetchState:
        return crawl_fetch_state(self.crawler)

    def _outlet(self, request: Request) -> str | None:
        slug = request.meta.get(meta.OUTLET)
        if slug is None:
            slug = crawl_registry(self.crawler).outlet_for_netloc(urlsplit(request.url).netloc)
        return slug

    def process_request(self, request: Request) -> None:
        if slug := self._outlet(request):
            counters.count_outlet(self.crawler.stats, slug, "requests")
        if not (request.meta.get(meta.CONDITIONAL) or is_robots(request)):
            return None
        for name, value in self.state.conditional_headers(request.url, need_body=is_robots(request)).items():
            request.headers.setdefault(name, value)
        return None

    def process_response(self, request: Request, response: Response) -> Request | Response:
        wait = retry_after(response)
        if wait and (slug := self._outlet(request)):
            counters.retry_after(self.crawler.stats, slug, wait)
        if not (request.meta.get(meta.CONDITIONAL) or is_robots(request)):
            return response
        state = self.state
        if response.status == 304:
            counters.count(self.crawler.stats, counters.NOT_MODIFIED, outlet=self._outlet(request))
            stored = state.carry(request.url)
            request.meta[meta.NOT_MODIFIED] = True
            request.meta[meta.STORED_LINKS] = list(stored.links) if stored else []
            request.meta[meta.STORED_POLL_HINT] = stored.poll_hint if stored else None
            if is_robots(request) and stored is not None and stored.body is not None:
                state.robots[first_netloc(request)] = stored.body
                return response.replace(status=200, body=stored.body.encode("utf-8"))
            return response
        if response.status == 200:
            body = None
            if is_robots(request) and len(response.body) <= MAX_BODY_CHARS:
                body = response.body.decode("utf-8", "replace")
                state.robots[first_netloc(request)] = body  # where it was asked for, redirects or not
                first_url = request.meta.get("redirect_urls", [request.url])[0]
                if first_url != request.url:  # kept under both: a crawl that cannot fetch it falls back to it
                    state.record(first_url, response, body)
            state.record(request.url, response, body)
        return response
