"""The outlets a crawl was started with — its registry — owned by one extension, read once from the spider's
arguments when the extension is built (Scrapy creates the spider first); the components that must know
which addresses the registry vouches for (the address guard, the shared crawl's read-back gate, the fetch
state's outlet of a bare request) read it from here, never from the spider."""

from __future__ import annotations

from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from scrapy.crawler import Crawler

from crawler.discovery.registry import Outlet


@runtime_checkable
class StartedWithRegistry(Protocol):
    """A spider started with a registry (crawler.spiders.news.NewsSpider): its outlets and the ones it crawls."""

    registry: dict[str, Outlet]
    outlets: dict[str, Outlet]


class CrawlRegistry:
    """The crawl's outlets by slug, the origins (scheme, host, port) they live at, and the crawled outlets'
    homepage hosts — read from the spider the first time a component asks (Scrapy may build extensions
    before or after the spider; the spider's registry never changes once it exists)."""

    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler
        self._slugs: frozenset[str] = frozenset()
        self._origins: frozenset[tuple[str, str, int]] = frozenset()
        self._homepages: dict[str, str] = {}  # the netloc of each crawled outlet's homepage → its slug
        self._loaded = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRegistry:
        return cls(crawler)

    def _load(self) -> None:
        spider = self.crawler.spider if self.crawler is not None else None
        if self._loaded or not isinstance(spider, StartedWithRegistry):
            return
        self._loaded = True
        self._slugs = frozenset(spider.registry)
        self._origins = frozenset(origin for o in spider.registry.values() for origin in o.origins)
        for outlet in spider.outlets.values():
            self._homepages.setdefault(urlsplit(outlet.homepage).netloc, outlet.slug)

    @property
    def slugs(self) -> frozenset[str]:
        self._load()
        return self._slugs

    @property
    def origins(self) -> frozenset[tuple[str, str, int]]:
        self._load()
        return self._origins

    def outlet_for_netloc(self, netloc: str) -> str | None:
        """The slug of the crawled outlet whose homepage is at `netloc` (for requests without an outlet)."""
        self._load()
        return self._homepages.get(netloc)


def crawl_registry(crawler: Crawler) -> CrawlRegistry:
    """The crawl's registry; an empty one where the extension is not enabled or not built yet (a bare test
    crawler), which vouches for no address — the guard then refuses more, never less."""
    try:
        return crawler.get_extension(CrawlRegistry) or CrawlRegistry()
    except RuntimeError:  # the extension manager is not built
        return CrawlRegistry()
