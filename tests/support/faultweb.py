"""The hostile web: outlets on 127.0.0.1 that fail, stall, lie and attack, one fault per outlet or path.

Beside the friendly news web (crawler/demo/__init__.py) and built on the same servers. Every
fault is bounded in time and size, so a test that crawls it ends by itself. `FaultWeb.registry_toml`
names the outlets a test wants; each outlet has a feed (`/feed.xml`) unless its case says otherwise.

steady        a well-behaved outlet: a feed of three articles (the control: it must never be held up)
throttled     its one article answers 429 (Retry-After: 4 seconds) the first time, 200 after
throttled-date  the same, Retry-After as an HTTP date 4 seconds ahead
giant         one article of ~9.9 MB of text (under the download cap) beside a normal one
many-feeds    (no feed in the registry) a homepage naming 2,000 feeds with <link rel="alternate">
many-sitemaps (no feed in the registry) a robots.txt naming 2,000 sitemaps
deep-index    (no feed in the registry) robots.txt → a chain of sitemap indexes 30 deep, 3 children each
charsets      (feed in UTF-16 with a BOM) a windows-1252 page with no charset, and one sent as UTF-8
traps         a redirect loop, a gzip bomb (20 MB of zeros in 20 KB), a page streamed past the size cap
              without a Content-Length, and one normal story
broken        a reset connection, a body cut short of its Content-Length, a 500, a page that drips for
              5 s (past a short DOWNLOAD_TIMEOUT), and one normal story
hostile       an article whose metadata attacks: an author '<script>…</script>Eve', a javascript: image,
              a description carrying <img onerror=…>
unstorable    JSON-LD whose strings hold what no database stores: a lone surrogate escape (\ud800) in the
              headline and an author, a NUL escape (\u0000) in the description and a keyword, an ESC in a keyword
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from crawler.demo import pages
from crawler.demo.server import Fault, NewsWebServer, Resource
from crawler.demo.stories import Story

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

    SLUGS = (
        "steady",
        "throttled",
        "throttled-date",
        "giant",
        "many-feeds",
        "many-sitemaps",
        "deep-index",
        "hostile",
        "unstorable",
        "charsets",
        "traps",
        "broken",
    )
    FEEDLESS = frozenset({"many-feeds", "many-sitemaps", "deep-index"})  # discovery through homepage, robots

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
            feeds = "" if slug in self.FEEDLESS else f'feeds = ["{base}/feed.xml"]\n'
            entries.append(f'[[outlet]]\nname = "{slug}"\nhomepage = "{base}/"\n{feeds}')
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
        routes: dict = {
            "/robots.txt": Resource(b"User-agent: *\nAllow: /\n", "text/plain"),
            "/": pages.html_resource("<html><head><title>Outlet</title></head><body><h1>Outlet</h1></body></html>"),
        }
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
            send(handler, 200, page.body, page.content_type)

        return Fault(serve)

    def _retry_after(self, slug: str, item: Story, base: str, *, as_date: bool) -> Fault:
        page = pages.html_resource(pages.wordpress_article(item, base, shortcode_in_body=False))

        def serve(handler: BaseHTTPRequestHandler) -> None:
            if self._count(slug, item.path) == 1:
                with self._lock:
                    self.refused_at[f"{slug} {item.path}"] = time.monotonic()
                after = formatdate(time.time() + RETRY_AFTER_SECONDS, usegmt=True) if as_date else RETRY_AFTER_SECONDS
                send(handler, 429, b"slow down", "text/plain", {"Retry-After": str(after)})
                return
            with self._lock:
                self.first_answer.setdefault(f"{slug} {item.path}", time.monotonic())
            send(handler, 200, page.body, page.content_type)

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

    def _giant(self, base: str, slug: str) -> dict:
        normal = story("/news/normal/", "A normal story", "Giant outlet.")
        giant = story("/news/giant/", "A giant page", "Giant.")
        words = [f"w{i:x}" for i in range(50_000)]
        chunk = " ".join(words)  # ~350 KB of distinct words: the shingles do not repeat within a chunk
        paragraphs = "".join(f"<p>{chunk} part {i}.</p>" for i in range(28))  # ~9.9 MB in all
        page = pages.wordpress_article(giant, base, shortcode_in_body=False).replace(
            "</article>", paragraphs + "</article>"
        )
        return self._outlet(base, [normal, giant], {giant.path: pages.html_resource(page)})

    def _many_feeds(self, base: str, slug: str) -> dict:
        links = "".join(
            f'<link rel="alternate" type="application/rss+xml" href="{base}/feeds/{i}.xml">' for i in range(2000)
        )
        item = story("/news/one/", "The one story", "Many feeds.")
        feed = pages.rss2_feed(base, "Feed", [(base + item.path, item)])
        routes = self._outlet(
            base, [item], {"/": pages.html_resource(f"<html><head>{links}</head><body></body></html>")}
        )
        routes.update({f"/feeds/{i}.xml": feed for i in range(2000)})
        return routes

    def _many_sitemaps(self, base: str, slug: str) -> dict:
        lines = "".join(f"Sitemap: {base}/sitemaps/{i}.xml\n" for i in range(2000))
        item = story("/news/one/", "The one story", "Many sitemaps.")
        today = time.strftime("%Y-%m-%d")
        sitemap = pages.urlset([(base + item.path, today)])
        routes = self._outlet(base, [item], {"/robots.txt": Resource(f"User-agent: *\nAllow: /\n{lines}".encode())})
        routes.update({f"/sitemaps/{i}.xml": sitemap for i in range(2000)})
        return routes

    def _deep_index(self, base: str, slug: str) -> dict:
        today = time.strftime("%Y-%m-%d")
        routes = self._outlet(base, [], {"/robots.txt": Resource(f"Sitemap: {base}/index/0.xml\n".encode())})
        for depth in range(30):
            children = [(f"{base}/index/{depth + 1}.xml?c={c}", today) for c in range(3)]
            routes[f"/index/{depth}.xml"] = pages.sitemap_index(children)
        return routes

    def _hostile(self, base: str, slug: str) -> dict:
        item = story("/news/hostile/", "A hostile page", "Hostile.")
        page = pages.wordpress_article(item, base, shortcode_in_body=False)
        attack = (
            '<meta property="og:image" content="javascript:alert(1)">'
            '<meta name="description" content="Quay news &lt;img src=x onerror=alert(1)&gt; today">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "A hostile page", '
            '"author": {"@type": "Person", "name": "<script>alert(1)</script>Eve Hacker"}}</script>'
        )
        page = page.replace("</head>", attack + "</head>", 1)
        return self._outlet(base, [item], {item.path: pages.html_resource(page)})

    def _unstorable(self, base: str, slug: str) -> dict:
        item = story("/news/unstorable/", "An unstorable page", "Unstorable.")
        page = pages.wordpress_article(item, base, shortcode_in_body=False)
        json_ld = (  # escapes as JSON writes them: json.loads turns them into a lone surrogate and a NUL
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "An unstorable page \\ud800", '
            '"description": "Quay news\\u0000 today", "keywords": ["quay\\u0000", "port\\u001b"], '
            '"author": {"@type": "Person", "name": "Lina\\ud800 Haddad"}}</script>'
        )
        page = page.replace("</head>", json_ld + "</head>", 1)
        return self._outlet(base, [item], {item.path: pages.html_resource(page)})

    def _charsets(self, base: str, slug: str) -> dict:
        western = story("/news/undeclared/", "Café society", "Undeclared.")
        mislabelled = story("/news/mislabelled/", "Façade works", "Mislabelled.")
        accents = "A naïve café owner said the façade – “quite old” – needs a résumé of repairs."
        routes = {}
        for item, content_type in ((western, "text/html"), (mislabelled, "text/html; charset=utf-8")):
            page = pages.wordpress_article(item, base, shortcode_in_body=False)
            page = page.replace('<meta charset="UTF-8">', "").replace("</article>", f"<p>{accents}</p></article>")
            routes[item.path] = Resource(page.encode("cp1252", errors="replace"), content_type)
        feed = pages.rss2_feed(base, "Feed", [(base + s.path, s) for s in (western, mislabelled)])
        text = feed.body.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        routes["/feed.xml"] = Resource(text.encode("utf-16"), "application/rss+xml")  # BOM first
        return self._outlet(base, [western, mislabelled], routes)

    def _traps(self, base: str, slug: str) -> dict:
        normal = story("/news/normal/", "A normal story beside the traps", "Traps.")
        loop, bomb, streamed = (story(f"/news/{name}/", name, name) for name in ("loop", "bomb", "streamed"))
        bomb_body = gzip.compress(b"\0" * 20_000_000, compresslevel=9)

        def redirect(to: str) -> Fault:
            return Fault(lambda handler: send(handler, 302, b"", "text/html", {"Location": base + to}))

        def gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
            send(handler, 200, bomb_body, "text/html", {"Content-Encoding": "gzip"})

        def stream_past_cap(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.close_connection = True
            chunk = b"<p>" + b"x" * 65_536 + b"</p>"
            try:
                for _ in range(200):  # ~13 MB at most, then stop: over the test's 10 MB cap
                    handler.wfile.write(chunk)
            except OSError:  # the crawler hung up once over the cap
                return

        routes = {
            loop.path: redirect("/loop/b"),
            "/loop/b": redirect(loop.path),
            bomb.path: Fault(gzip_bomb),
            streamed.path: Fault(stream_past_cap),
        }
        return self._outlet(base, [normal, loop, bomb, streamed], routes)

    def _broken(self, base: str, slug: str) -> dict:
        normal = story("/news/normal/", "A normal story beside the broken ones", "Broken outlet.")
        reset, cut, error, slow = (story(f"/news/{name}/", name, name) for name in ("reset", "cut", "error", "slow"))

        def reset_connection(handler: BaseHTTPRequestHandler) -> None:
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True  # closing with linger 0 sends RST

        def cut_short(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            handler.wfile.write(b"<html><body><p>only the beginning")
            handler.close_connection = True

        def drip(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Content-Length", "1000")
            handler.end_headers()
            try:
                for _ in range(10):  # 5 s in all: bounded
                    handler.wfile.write(b"<")
                    handler.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            handler.close_connection = True

        routes = {
            reset.path: Fault(reset_connection),
            cut.path: Fault(cut_short),
            error.path: Fault(lambda handler: send(handler, 500, b"oops", "text/plain")),
            slow.path: Fault(drip),
        }
        return self._outlet(base, [normal, reset, cut, error, slow], routes)


def send(
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
