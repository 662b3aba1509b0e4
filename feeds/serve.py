"""Serve the feeds and an index page straight from the database: a WSGI app, run by waitress."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from wsgiref.util import application_uri

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feeds.build import MEDIA_TYPES
from feeds.caching import Response, cached_response, plain_response
from feeds.catalog import (
    DEFAULT_ITEMS,
    Feed,
    find_outlet,
    merged_feed,
    outlet_feed,
    recent_tags,
    tag_feed,
    tag_path,
)
from feeds.site import FeedLink, StoryLine, index_page
from storage.db import Store
from storage.models import Article, CrawlRun, Outlet
from storage.repository import latest_stories

logger = logging.getLogger(__name__)

_FEED_PATH = re.compile(r"^/feeds/(?:(all)|outlet/([^/]+)|tag/([^/]+))\.(rss|atom|json)$")
_METHODS = ("GET", "HEAD")
SITE_TITLE = "newswire"
_QUOTE_SAFE = "/;=,"  # what wsgiref.util.request_uri leaves unescaped in a path


@dataclass(frozen=True)
class Document:
    """A served document before HTTP: its bytes, media type and when it last changed."""

    body: bytes
    media_type: str
    last_modified: datetime


Route = Callable[[Session, str, str], Document | None]  # (session, root URL, own URL) → document or None (404)
CACHE_SIZE = 256  # built documents kept, least recently used dropped (tag feeds are unbounded)


def data_version(session: Session) -> tuple:
    """A cheap token that changes whenever what the feeds show may have changed (a crawl, any article)."""
    runs = session.execute(select(func.max(CrawlRun.id), func.max(CrawlRun.finished_at))).one()
    articles = session.execute(select(func.max(Article.id), func.max(Article.fetched_at))).one()
    outlets = session.scalar(select(func.count(Outlet.id)))
    return (*runs, *articles, outlets)


class FeedApp:
    """The WSGI application: feeds by path, rebuilt from the database on each request, and the index page."""

    def __init__(self, store: Store, base_url: str | None, items: int) -> None:
        self.store = store
        self.sessions = store.sessions
        self.base_url = base_url if base_url is None or base_url.endswith("/") else base_url + "/"
        self.items = items
        self.cache: OrderedDict[tuple[str, str], tuple[tuple, Document | None]] = OrderedDict()
        self.cache_lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        response = self.respond(environ)
        start_response(response.status, response.headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()

    def respond(self, environ: dict) -> Response:
        """The response to one request: 404 for unknown paths, 405 for methods other than GET and HEAD."""
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace") or "/"
        route = self.route(path)
        if route is None:
            return plain_response("404 Not Found", "not found")
        if environ.get("REQUEST_METHOD") not in _METHODS:
            return plain_response("405 Method Not Allowed", "method not allowed", ("Allow", ", ".join(_METHODS)))
        root = self.base_url or application_uri(environ)
        own_url = root + quote(path.lstrip("/"), safe=_QUOTE_SAFE)
        with self.sessions() as session:
            document = self.cached(session, (path, own_url), lambda: route(session, root, own_url))
        if document is None:
            return plain_response("404 Not Found", "not found")
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
        match = _FEED_PATH.match(path)
        if match is None:
            return None
        merged, outlet_slug, tag, kind = match.groups()

        def feed(session: Session, root: str, own_url: str) -> Document | None:
            found = self.find_feed(session, root, merged, outlet_slug, tag)
            if found is None:
                return None
            media_type = MEDIA_TYPES[kind] + "; charset=utf-8"
            return Document(found.render(kind, own_url), media_type, found.updated)

        return feed

    def find_feed(
        self, session: Session, root: str, merged: str | None, outlet: str | None, tag: str | None
    ) -> Feed | None:
        """The merged, outlet or tag feed a path names, or None when no such outlet or tag exists."""
        base_url = root + "feeds/"
        if merged:
            return merged_feed(session, base_url, root, self.items)
        if outlet:
            found = find_outlet(session, outlet)
            return outlet_feed(session, found, base_url, self.items) if found else None
        return tag_feed(session, tag or "", base_url, root, self.items)

    def index(self, session: Session, root: str, own_url: str) -> Document:
        """The index page: every feed, the most used tags and the latest stories."""
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
        updated = merged_feed(session, base_url, root, stories=stories).updated
        return Document(index_page(SITE_TITLE, feeds, tags, lines), "text/html; charset=utf-8", updated)


def make_app(db_url: str | None, base_url: str | None = None, items: int = DEFAULT_ITEMS) -> FeedApp:
    """The WSGI app serving the database at `db_url` (None: $NEWSWIRE_DB, else ./newswire.db).

    `base_url` is the public URL of the app's root (feeds' self links and ids); by default each request's own
    scheme and host. Each request opens a session from the app's one session factory.
    """
    return FeedApp(Store(db_url, migrate=True), base_url, items)


def serve(
    db_url: str | None,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    base_url: str | None = None,
    items: int = DEFAULT_ITEMS,
    threads: int = 4,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the feeds and the index page on host:port with waitress until SIGTERM or Ctrl-C (then return).

    `on_ready` gets the root URL once the socket listens (port 0 picks a free port).
    """
    import signal

    import waitress

    app = make_app(db_url, base_url, items)
    # waitress warns "Task queue depth is N" on every request that waits for a thread: 13,872 lines in
    # 40 s of load say nothing a reader of the log can act on; its errors still show
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        server = waitress.create_server(app, host=host, port=port, threads=threads, ident="newswire")
    except BaseException:  # cannot listen (address in use, unknown host): the database is released too
        app.close()
        raise
    root = f"http://{server.effective_host}:{server.effective_port}/"
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
