"""The hostile web: outlets on 127.0.0.1 that fail, stall, lie and attack, one fault per outlet or path.

Beside the friendly news web (crawler/newsweb/__init__.py) and built on the same servers. Every
fault is bounded in time and size, so a test that crawls it ends by itself. `FaultWeb.registry_toml`
names the outlets a test wants; each outlet has a feed (`/feed.xml`) unless its case says otherwise.

steady        a well-behaved outlet: a feed of three articles (the control: it must never be held up)
throttled     its one article answers 429 (Retry-After: 4 seconds) the first time, 200 after
throttled-date  the same, Retry-After as an HTTP date 4 seconds ahead
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from crawler.newsweb import pages
from crawler.newsweb.server import Fault, NewsWebServer, Resource
from crawler.newsweb.stories import Story

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 4
PARAGRAPHS = (
    "The harbour authority said on Tuesday that the new quay would open to cargo ships next spring, a year "
    "later than planned, after engineers found weaker ground than the surveys had shown.",
    "Shipping companies that had booked berths for the autumn were told to keep using the old docks, where "
    "queues of up to three days have become common since the grain season began.",
    "The delay will cost the port about four million dinars in lost fees, the authority's director told "
    "reporters, but he said the extra work would make the quay safe for the largest vessels.",
    "Dock workers' unions welcomed the decision, saying that safety had to come first, and asked for the "
    "temporary night shifts at the old docks to be made permanent until the new quay opens.",
)


def story(path: str, title: str, marker: str = "") -> Story:
    """A story of four plain paragraphs; `marker` makes its text unique (so it is never a duplicate)."""
    return Story(path, title, (f"{marker} {PARAGRAPHS[0]}".strip(), *PARAGRAPHS[1:]), author="Lina Haddad")


class FaultWeb:
    """Start, describe and stop the hostile web; count what each outlet was asked."""

    SLUGS = ("steady", "throttled", "throttled-date")

    def __init__(self) -> None:
        self.server = NewsWebServer(list(self.SLUGS))
        self.urls: dict[str, str] = {}
        self.hits: Counter[str] = Counter()  # "slug path" → requests answered by a fault
        self.first_answer: dict[str, float] = {}  # "slug path" → monotonic time of its first 200
        self.refused_at: dict[str, float] = {}  # "slug path" → monotonic time of its 429
        self._lock = threading.Lock()

    def __enter__(self) -> FaultWeb:
        self.urls = self.server.start()
        for slug in self.SLUGS:
            self.server.sites[slug].routes = getattr(self, "_" + slug.replace("-", "_"))(self.urls[slug], slug)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def registry_toml(self, slugs: list[str] | tuple[str, ...]) -> str:
        """A sources.toml naming these outlets at their loopback addresses (feeds at /feed.xml)."""
        entries = []
        for slug in slugs:
            base = self.urls[slug]
            entries.append(f'[[outlet]]\nname = "{slug}"\nhomepage = "{base}/"\nfeeds = ["{base}/feed.xml"]\n')
        return "\n".join(entries)

    def write_registry(self, path: Path, slugs: list[str] | tuple[str, ...]) -> Path:
        path.write_text(self.registry_toml(slugs), encoding="utf-8")
        return path

    # --- helpers ----------------------------------------------------------------------------------

    def _count(self, slug: str, path: str) -> int:
        with self._lock:
            self.hits[f"{slug} {path}"] += 1
            return self.hits[f"{slug} {path}"]

    def _outlet(self, base: str, stories: list[Story], extra: dict | None = None) -> dict:
        routes: dict = {"/robots.txt": Resource(b"User-agent: *\nAllow: /\n", "text/plain")}
        routes["/feed.xml"] = pages.rss2_feed(base, "Feed", [(base + s.path, s) for s in stories])
        for item in stories:
            routes[item.path] = pages.html_resource(pages.wordpress_article(item, base, shortcode_in_body=False))
        return routes | (extra or {})

    def _timed(self, slug: str, item: Story, base: str) -> Fault:
        """The article page, noting when it was first answered."""
        page = pages.html_resource(pages.wordpress_article(item, base, shortcode_in_body=False))

        def serve(handler: BaseHTTPRequestHandler) -> None:
            with self._lock:
                self.first_answer.setdefault(f"{slug} {item.path}", time.monotonic())
            _send(handler, 200, page.body, page.content_type)

        return Fault(serve)

    def _retry_after(self, slug: str, item: Story, base: str, *, as_date: bool) -> Fault:
        page = pages.html_resource(pages.wordpress_article(item, base, shortcode_in_body=False))

        def serve(handler: BaseHTTPRequestHandler) -> None:
            if self._count(slug, item.path) == 1:
                with self._lock:
                    self.refused_at[f"{slug} {item.path}"] = time.monotonic()
                after = formatdate(time.time() + RETRY_AFTER_SECONDS, usegmt=True) if as_date else RETRY_AFTER_SECONDS
                _send(handler, 429, b"slow down", "text/plain", {"Retry-After": str(after)})
                return
            with self._lock:
                self.first_answer.setdefault(f"{slug} {item.path}", time.monotonic())
            _send(handler, 200, page.body, page.content_type)

        return Fault(serve)

    # --- the outlets ------------------------------------------------------------------------------

    def _steady(self, base: str, slug: str) -> dict:
        stories = [story(f"/news/{i}/", f"Quay story {i}", f"Steady {i}.") for i in range(3)]
        routes = self._outlet(base, stories)
        for item in stories:
            routes[item.path] = self._timed(slug, item, base)
        return routes

    def _throttled(self, base: str, slug: str) -> dict:
        item = story("/news/throttled/", "A throttled story", "Throttled.")
        return self._outlet(base, [item], {item.path: self._retry_after(slug, item, base, as_date=False)})

    def _throttled_date(self, base: str, slug: str) -> dict:
        item = story("/news/throttled-date/", "A story throttled by date", "Throttled by date.")
        return self._outlet(base, [item], {item.path: self._retry_after(slug, item, base, as_date=True)})


def _send(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str, headers: dict | None = None
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)
