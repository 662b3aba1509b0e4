"""Serve the feeds and an index page straight from the database: a WSGI app, run by waitress."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feeds.access_log import AccessLog
from feeds.build import MEDIA_TYPES, SiteAssets
from feeds.caching import Response, cached_response, plain_response
from feeds.catalog import (
    DEFAULT_ITEMS,
    Feed,
    feed_subscriptions,
    find_outlet,
    merged_feed,
    outlet_feed,
    recent_tags,
    tag_feed,
    tag_path,
)
from feeds.filters import MAX_LIMIT, SCAN, BadQuery, parse_query
from feeds.opml import opml
from feeds.site import FeedLink, StoryLine, index_page
from storage.db import Store
from storage.models import Article, CrawlRun, Outlet
from storage.repository import latest_stories

logger = logging.getLogger(__name__)

_FEED_PATH = re.compile(r"^/feeds/(?:(all)|outlet/([^/]+)|tag/([^/]+))\.(rss|atom|json)$")
_METHODS = ("GET", "HEAD")
SITE_TITLE = "newswire"
_QUOTE_SAFE = "/;=,"  # what wsgiref.util.request_uri leaves unescaped in a path
STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".xsl": "text/xsl; charset=utf-8", ".png": "image/png",
                ".svg": "image/svg+xml"}  # fmt: skip


@dataclass(frozen=True)
class Document:
    """A served document before HTTP: its bytes, media type and when it last changed (or a redirect)."""

    body: bytes
    media_type: str
    last_modified: datetime
    location: str | None = None  # a 301 to this URL instead


@dataclass(frozen=True)
class Request:
    """What a route needs of a request: the public root URL, the document's own URL and the query string."""

    root: str
    own_url: str
    query: str


Route = Callable[[Session, Request], Document | None]  # → the document, or None (404)
CACHE_SIZE = 256  # built documents kept, least recently used dropped (tag feeds and searches are unbounded)


def data_version(session: Session) -> tuple:
    """A cheap token that changes whenever what the feeds show may have changed (a crawl, any article)."""
    runs = session.execute(select(func.max(CrawlRun.id), func.max(CrawlRun.finished_at))).one()
    articles = session.execute(select(func.max(Article.id), func.max(Article.fetched_at))).one()
    outlets = session.scalar(select(func.count(Outlet.id)))
    return (*runs, *articles, outlets)


class FeedApp:
    """The WSGI application: feeds by path, rebuilt from the database when it changed, and the web pages.

    Its public address is `base_url` when configured; else the Host of a request when that host is in
    `allowed_hosts`; else the address it listens on. A Host header that is not listed never reaches an id,
    a self link or a page (and with `allowed_hosts` given, such a request is answered 400)."""

    def __init__(self, store: Store, base_url: str | None, items: int, allowed_hosts: Iterable[str] = ()) -> None:
        self.store = store
        self.sessions = store.sessions
        self.base_url = base_url if base_url is None or base_url.endswith("/") else base_url + "/"
        self.allowed_hosts = {host.strip().lower() for host in allowed_hosts if host.strip()}
        self.local_root: str | None = None
        self.items = items
        self.cache: OrderedDict[tuple[str, str], tuple[tuple, Document | None]] = OrderedDict()
        self.cache_lock = threading.Lock()

    def listening_at(self, root: str) -> None:
        """The root URL of the socket the app is served on: its address when no other is configured."""
        self.local_root = root

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        response = self.respond(environ)
        start_response(response.status, response.headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()

    def public_root(self, environ: dict) -> str | None:
        """The root URL ids and links are built on, or None when the request's Host is not allowed."""
        host = environ.get("HTTP_HOST", "").strip().lower()
        listed = host in self.allowed_hosts or host.rsplit(":", 1)[0] in self.allowed_hosts
        if self.allowed_hosts and not listed:
            return None
        if self.base_url:
            return self.base_url
        if listed:
            return f"{environ.get('wsgi.url_scheme', 'http')}://{host}/"
        if self.local_root:
            return self.local_root
        return f"http://{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}/"

    def respond(self, environ: dict) -> Response:
        """The response to one request: 404 for unknown paths, 405 for methods other than GET and HEAD, 400 for
        an unlisted host or a query a route cannot honour."""
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace") or "/"
        route = self.route(path)
        if route is None:
            return plain_response("404 Not Found", "not found")
        if environ.get("REQUEST_METHOD") not in _METHODS:
            return plain_response("405 Method Not Allowed", "method not allowed", ("Allow", ", ".join(_METHODS)))
        root = self.public_root(environ)
        if root is None:
            return plain_response("400 Bad Request", "unknown host: this server answers for its configured names")
        own_url = root + quote(path.lstrip("/"), safe=_QUOTE_SAFE)
        request = Request(root, own_url, environ.get("QUERY_STRING", ""))
        try:
            with self.sessions() as session:
                document = self.cached(session, (path, own_url + "?" + request.query), lambda: route(session, request))
        except BadQuery as problem:
            return plain_response("400 Bad Request", str(problem))
        if document is None:
            return plain_response("404 Not Found", "not found")
        if document.location is not None:
            return plain_response("301 Moved Permanently", document.location, ("Location", document.location))
        return cached_response(environ, document.body, document.media_type, document.last_modified)

    def cached(self, session: Session, key: tuple[str, str], build: Callable[[], Document | None]) -> Document | None:
        """The document for `key`, built again only when the data changed since it was built: a feed reader's
        poll (200 or 304) then costs a few aggregate queries, not a feed build."""
        version = data_version(session)
        with self.cache_lock:
            hit = self.cache.get(key)
            if hit is not None and hit[0] == version:
                self.cache.move_to_end(key)
                return hit[1]
        document = build()
        with self.cache_lock:
            self.cache[key] = (version, document)
            self.cache.move_to_end(key)
            while len(self.cache) > CACHE_SIZE:
                self.cache.popitem(last=False)
        return document

    def route(self, path: str) -> Route | None:
        """The handler of a path, or None."""
        if path == "/":
            return self.index
        if path == "/feeds.opml":
            return self.opml
        if path.startswith("/static/"):
            return static_file(path.removeprefix("/static/"))
        match = _FEED_PATH.match(path)
        if match is None:
            return None
        merged, outlet_slug, tag, kind = match.groups()

        def feed(session: Session, request: Request) -> Document | None:
            query = parse_query(request.query)
            items = SCAN if query.filters else min(query.limit or self.items, MAX_LIMIT)
            found = self.find_feed(session, request.root, merged, outlet_slug, tag, items)
            if found is None:
                return None
            found = replace(found, entries=query.apply(found.entries, self.items))
            media_type = MEDIA_TYPES[kind] + "; charset=utf-8"
            return Document(found.render(kind, request.own_url, SiteAssets.at(request.root)), media_type, found.updated)

        return feed

    def find_feed(
        self, session: Session, root: str, merged: str | None, outlet: str | None, tag: str | None, items: int
    ) -> Feed | None:
        """The merged, outlet or tag feed a path names, or None when no such outlet or tag exists."""
        if merged:
            return merged_feed(session, root, items)
        if outlet:
            found = find_outlet(session, outlet)
            return outlet_feed(session, found, items) if found else None
        return tag_feed(session, tag or "", root, items)

    def opml(self, session: Session, request: Request) -> Document:
        """Every feed as OPML, to subscribe to all of them at once."""
        parse_query(request.query) if request.query else None
        subscriptions = feed_subscriptions(session, request.root + "feeds/", request.root, "rss")
        updated = merged_feed(session, request.root, 1).updated
        return Document(opml(f"{SITE_TITLE} feeds", subscriptions, updated), "text/x-opml; charset=utf-8", updated)

    def index(self, session: Session, request: Request) -> Document:
        """The index page: every feed, the most used tags and the latest stories."""
        root = request.root
        base_url = root + "feeds/"
        feeds = [FeedLink("All outlets, one item per story", base_url + "all")]
        outlets = session.scalars(select(Outlet).order_by(Outlet.name))
        feeds += [FeedLink(o.name, base_url + f"outlet/{o.slug}") for o in outlets]
        tags = [FeedLink(f"{name} ({n})", base_url + tag_path(slug), False) for name, slug, n in recent_tags(session)]
        stories = latest_stories(session, self.items)
        lines = [
            StoryLine(
                copies[0].title,
                copies[0].canonical_url,
                copies[0].published or copies[0].fetched_at,
                list(dict.fromkeys(a.outlet.name for a in copies if a.outlet)),
            )
            for _story, copies in stories
        ]
        updated = merged_feed(session, root, stories=stories).updated
        return Document(index_page(SITE_TITLE, feeds, tags, lines), "text/html; charset=utf-8", updated)


def static_file(name: str) -> Route | None:
    """The route of one file of feeds/static (names only: no directories, no dot files)."""
    path = STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        return None
    body = path.read_bytes()
    changed = datetime.fromtimestamp(path.stat().st_mtime, UTC)

    def serve_file(_session: Session, _request: Request) -> Document:
        return Document(body, STATIC_TYPES[path.suffix], changed)

    return serve_file


def make_app(
    db_url: str | None, base_url: str | None = None, items: int = DEFAULT_ITEMS, allowed_hosts: Iterable[str] = ()
) -> FeedApp:
    """The WSGI app serving the database at `db_url` (None: $NEWSWIRE_DB, else ./newswire.db).

    `base_url` is the public URL of the app's root (feeds' self links, pages' links); `allowed_hosts` the
    Host names it also answers for under their own name (FeedApp). Each request opens a session from the
    app's one session factory.
    """
    return FeedApp(Store(db_url, migrate=True), base_url, items, allowed_hosts)


def serve(
    db_url: str | None,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    base_url: str | None = None,
    allowed_hosts: Iterable[str] = (),
    access_log: str | None = None,
    items: int = DEFAULT_ITEMS,
    threads: int = 4,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the feeds and the index page on host:port with waitress until SIGTERM or Ctrl-C (then return).

    `on_ready` gets the root URL once the socket listens (port 0 picks a free port).
    """
    import signal

    import waitress

    app = make_app(db_url, base_url, items, allowed_hosts)
    # waitress warns "Task queue depth is N" on every request that waits for a thread: 13,872 lines in
    # 40 s of load say nothing a reader of the log can act on; its errors still show
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    logged = AccessLog(app, access_log) if access_log else None
    try:
        server = waitress.create_server(logged or app, host=host, port=port, threads=threads, ident="newswire")
    except BaseException:  # cannot listen (address in use, unknown host): the database is released too
        app.close()
        if logged:
            logged.close()
        raise
    root = f"http://{_url_host(str(server.effective_host))}:{server.effective_port}/"
    app.listening_at(root)
    if not base_url and _url_host(str(server.effective_host)) in ("0.0.0.0", "[::]"):
        logger.warning("listening on every interface without --base-url: links name %s", root)
    logger.info("serving feeds on %s", root)
    if on_ready is not None:
        on_ready(root)

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        logger.info("stopping the feed server")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        app.close()
        if logged:
            logged.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
