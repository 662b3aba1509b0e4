"""Serve the feeds and an index page straight from the database: a WSGI app, run by waitress."""

from __future__ import annotations

import logging
import re
import threading
import time as clock
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote_plus, urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from feeds.build import MEDIA_TYPES, NEVER_UPDATED, SiteAssets
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
from feeds.opml import opml
from feeds.web.access_log import AccessLog
from feeds.web.caching import Response, cached_response, plain_response, prefers_html
from feeds.web.connections import ConnectionLimits, create_server, fit_descriptors
from feeds.web.filters import MAX_LIMIT, SCAN, BadQuery, parse_query, search_language
from feeds.web.pages import (
    FeedChoice,
    SearchForm,
    feed_page,
    index_page,
    outlet_page,
    parse_day,
    search_page,
    story_card,
    story_page,
    story_pages,
)
from storage.common.tags import tag_slug
from storage.common.times import as_utc
from storage.db import Store
from storage.models import Article, CrawlRun, Outlet
from storage.reader import find_story, latest_story_copies, outlet_overview, story_version
from storage.search import SearchQuery, search

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
    vary: str = "Accept-Encoding"  # the request headers the representation depends on


@dataclass(frozen=True)
class Request:
    """What a route needs of a request: the public root URL, the document's own URL and the query string."""

    root: str
    own_url: str
    query: str
    html: bool = False  # a browser's navigation (feeds: an HTML view of the feed instead of its XML)


Route = Callable[[Session, Request], Document | None]  # → the document, or None (404)
CACHE_SIZE = 256  # built documents kept, least recently used dropped (tag feeds and searches are unbounded)
CACHE_BYTES = 64 * 2**20  # and their bytes at most (a story page can weigh a megabyte)


def data_version(session: Session) -> tuple:
    """A cheap token that changes whenever what the feeds show may have changed (a crawl, any article)."""
    runs = session.execute(select(func.max(CrawlRun.id), func.max(CrawlRun.finished_at))).one()
    # max(changed): the store batch that last wrote an article, a revision included. One subquery per aggregate,
    # each reading one end of an index: with three in one SELECT SQLite scanned the table, every text included
    latest = [
        select(func.max(column)).scalar_subquery() for column in (Article.id, Article.fetched_at, Article.changed)
    ]
    articles = session.execute(select(*latest)).one()
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
        self.cache_bytes = 0
        self.story_versions: OrderedDict[str, tuple[tuple, tuple | None]] = OrderedDict()  # uid → (data, story)
        self.cache_lock = threading.Lock()

    def listening_at(self, root: str) -> None:
        """The root URL of the socket the app is served on: its address when no other is configured."""
        self.local_root = root

    def listed(self, name: str, port: str | None) -> bool:
        """Whether Host `name[:port]` is one the server answers for under its own name: listed with that port,
        or listed as a bare name and given no port or the port this server listens on (a bare name never
        lets a client choose the port its links carry)."""
        if port is not None and not 0 < int(port) <= 65535:
            return False
        if f"{name}:{port}" in self.allowed_hosts:
            return True
        own_port = urlsplit(self.local_root).port if self.local_root else None
        return name in self.allowed_hosts and (port is None or int(port) == own_port)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        response = self.respond(environ)
        start_response(response.status, response.headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()

    def public_root(self, environ: dict) -> str | None:
        """The root URL ids and links are built on, or None when the request's Host is not allowed."""
        host = _HOST.fullmatch(environ.get("HTTP_HOST", "").strip().lower())  # a name and digits, nothing else
        listed = host is not None and self.listed(host["name"], host["port"])
        if self.allowed_hosts and not listed:
            return None
        if self.base_url:
            return self.base_url
        if listed and host is not None:  # built from the validated parts: no userinfo, path or query can ride along
            return f"http://{host['name']}{':' + host['port'] if host['port'] else ''}/"
        if self.local_root:
            return self.local_root
        return f"http://{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}/"

    def respond(self, environ: dict) -> Response:
        """The response to one request: 404 for unknown paths, 405 for methods other than GET and HEAD, 400 for
        an unlisted host or a query a route cannot honour."""
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace") or "/"
        if "\x00" in path or "\x00" in unquote_plus(environ.get("QUERY_STRING", "")):
            # PostgreSQL text cannot hold NUL: refused here, before any route could hand it to a query
            logger.info("400 for a request with a NUL byte in its path or query: %r", path[:200])
            return plain_response("400 Bad Request", "bad request: a NUL byte in the path or the query")
        route = self.route(path)
        if route is None:
            return plain_response("404 Not Found", "not found")
        if environ.get("REQUEST_METHOD") not in _METHODS:
            return plain_response("405 Method Not Allowed", "method not allowed", ("Allow", ", ".join(_METHODS)))
        root = self.public_root(environ)
        if root is None:
            return plain_response("400 Bad Request", "unknown host: this server answers for its configured names")
        own_url = root + quote(path.lstrip("/"), safe=_QUOTE_SAFE)
        request = Request(root, own_url, environ.get("QUERY_STRING", ""), prefers_html(environ.get("HTTP_ACCEPT", "")))
        try:
            with self.sessions() as session:
                # pages say "3 minutes ago", and filtered feeds are one per query: built each time, neither ages
                # nor evicts the cached feeds subscribers poll
                if path in _LIVE or path.startswith(_LIVE_PREFIXES) or request.html or request.query:
                    document = route(session, request)
                else:
                    key = (path, f"{own_url}?{request.query}#{'html' if request.html else ''}")
                    document = self.cached(session, key, lambda: route(session, request))
        except BadQuery as problem:
            return plain_response("400 Bad Request", str(problem))
        except DataError as problem:  # a value the database cannot take that no check caught: one line, no traceback
            logger.warning("400 for %r: the database refused a value of the request (%s)", path[:200],
                           str(problem.orig).splitlines()[0][:200] if problem.orig else "")  # fmt: skip
            return plain_response("400 Bad Request", "bad request: a value the database cannot take")
        if document is None:
            return plain_response("404 Not Found", "not found")
        if document.location is not None:
            # 302, not 301: a story's original can change again (and back), a cached permanent one would loop
            headers = ("Location", document.location), ("Cache-Control", "no-cache")
            return plain_response("302 Found", document.location, *headers)
        return cached_response(environ, document.body, document.media_type, document.last_modified, document.vary)

    def cached(
        self, session: Session, key: tuple[str, str], build: Callable[[], Document | None], version: tuple | None = None
    ) -> Document | None:
        """The document for `key`, built again only when the data changed since it was built (`version`, by
        default data_version): a feed reader's poll (200 or 304) then costs a few aggregate queries, not a feed
        build. At most CACHE_SIZE documents and CACHE_BYTES bytes are kept, the least recently used dropped."""
        version = data_version(session) if version is None else version
        with self.cache_lock:
            hit = self.cache.get(key)
            if hit is not None and hit[0] == version:
                self.cache.move_to_end(key)
                return hit[1]
        document = build()
        with self.cache_lock:
            previous = self.cache.pop(key, None)
            self.cache_bytes += _size(document) - (_size(previous[1]) if previous else 0)
            self.cache[key] = (version, document)
            while len(self.cache) > CACHE_SIZE or self.cache_bytes > CACHE_BYTES:
                _key, (_version, dropped) = self.cache.popitem(last=False)
                self.cache_bytes -= _size(dropped)
        return document

    def route(self, path: str) -> Route | None:
        """The handler of a path, or None."""
        if path == "/":
            return self.index
        if path == "/search":
            return self.search
        if story := _STORY_PATH.match(path):
            return partial(self.story, uid=story.group(1))
        if outlet := _OUTLET_PATH.match(path):
            return partial(self.outlet, slug=outlet.group(1))
        if path == "/feeds.opml":
            return self.opml
        if path.startswith("/static/"):
            return static_file(path.removeprefix("/static/"))
        if path == "/favicon.ico":  # asked by browsers on pages without an icon link (a feed's XML)
            return static_file("icon.png")
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
            if request.html:  # a feed clicked in a browser: readable, with how to subscribe
                body = feed_page(request.root, found.meta.title, request.own_url, found.entries)
                return Document(body, HTML, found.updated, vary=VARY_FEED)
            media_type = MEDIA_TYPES[kind] + "; charset=utf-8"
            body = found.render(kind, request.own_url, SiteAssets.at(request.root))
            return Document(body, media_type, found.updated, vary=VARY_FEED)

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
        page_number(parse_qs(request.query), allowed=set())  # takes no parameter: any is a 400
        subscriptions = feed_subscriptions(session, request.root + "feeds/", request.root, "rss")
        updated = merged_feed(session, request.root, 1).updated
        return Document(opml(f"{SITE_TITLE} feeds", subscriptions, updated), "text/x-opml; charset=utf-8", updated)

    def index(self, session: Session, request: Request) -> Document:
        """The index page: the latest stories (a page at a time, each linking to its story page), every feed
        (announced for autodiscovery) and the most used tags."""
        page = page_number(parse_qs(request.query), allowed={"page"})
        feeds_url = request.root + "feeds/"
        feeds = [FeedChoice("All outlets, one item per story", feeds_url + "all")]
        outlets = session.scalars(select(Outlet).order_by(Outlet.name))
        feeds += [FeedChoice(o.name, feeds_url + f"outlet/{o.slug}") for o in outlets]
        tags = [
            FeedChoice(f"{name} ({n})", feeds_url + tag_path(slug), False) for name, slug, n in recent_tags(session)
        ]
        stories = latest_story_copies(session, PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
        cards = [story_card(copies) for _story, copies in stories[:PAGE_SIZE]]
        updated = merged_feed(session, request.root, stories=stories).updated
        body = index_page(request.root, cards, feeds, tags, page, len(stories) > PAGE_SIZE)
        return Document(body, HTML, updated)

    def story(self, session: Session, request: Request, uid: str) -> Document | None:
        """A story's page (?page=N: its copies, COPIES_PER_PAGE at a time): every copy, what each outlet changed,
        who cites whom. Kept until the story changes (or, its relative dates moving, the minute ends). A copy's
        uid, or a former original's, redirects (302) to the story's page under its original's uid."""
        page = page_number(parse_qs(request.query), allowed={"page"})
        version = self.story_version(session, uid)
        if version is None or page > story_pages(version[0]):
            return None  # (not cached: pages past the last would evict the feeds subscribers poll)
        key = (f"/stories/{uid}", f"{request.own_url}?page={page}")
        minute = int(clock.time() // 60)
        return self.cached(session, key, partial(self.build_story, session, request, uid, page), (version, minute))

    def story_version(self, session: Session, uid: str) -> tuple | None:
        """storage.reader.story_version, read again only when data_version moved: it reads every copy's row,
        which on SQLite means walking past each copy's text (40 ms for 210 copies of 200 KB)."""
        data = data_version(session)
        with self.cache_lock:
            known = self.story_versions.get(uid)
        if known is not None and known[0] == data:
            return known[1]
        version = story_version(session, uid)
        with self.cache_lock:
            self.story_versions[uid] = (data, version)
            self.story_versions.move_to_end(uid)
            while len(self.story_versions) > CACHE_SIZE:
                self.story_versions.popitem(last=False)
        return version

    def build_story(self, session: Session, request: Request, uid: str, page: int) -> Document | None:
        """The story page `story` serves, built (None: no such story, or a page past its last)."""
        found = find_story(session, uid)
        if found is None:
            return None
        if found.story is None:
            return Document(b"", HTML, NEVER_UPDATED, location=f"{request.root}stories/{found.moved_to}")
        detail = found.story
        body = story_page(request.root, detail, page)
        if body is None:
            return None
        return Document(body, HTML, max(as_utc(a.fetched_at) for a in detail.copies))

    def outlet(self, session: Session, request: Request, slug: str) -> Document | None:
        """An outlet's page: freshness, last error, articles per day, newest articles."""
        page_number(parse_qs(request.query), allowed=set())
        overview = outlet_overview(session, slug)
        if overview is None:
            return None
        updated = as_utc(overview.newest_fetch) if overview.newest_fetch else NEVER_UPDATED
        return Document(outlet_page(request.root, overview), HTML, updated)

    def search(self, session: Session, request: Request) -> Document:
        """The search page: the form, and a page of results when words were given."""
        values = parse_qs(request.query)
        page = page_number(values, allowed={"page", "q", "outlet", "lang", "from", "to", "tag"})
        form = SearchForm(**{field: values.get(name, [""])[0].strip()[:200] for field, name in _SEARCH_FIELDS})
        outlets = [(o.name, o.slug) for o in session.scalars(select(Outlet).order_by(Outlet.name))]
        query = results = None
        if form.q:
            try:
                since, until = parse_day(form.since), parse_day(form.until)
            except ValueError:
                raise BadQuery("from and to are dates: YYYY-MM-DD, years 1900 to 2999") from None
            query = SearchQuery(
                form.q, form.outlet or None, search_language(form.lang),
                datetime.combine(since, time(), UTC) if since else None,
                datetime.combine(until, time(), UTC) + timedelta(days=1) if until else None,
                tag_slug(form.tag) or None if form.tag else None,
            )  # fmt: skip
            results = search(session, query, page, PAGE_SIZE)
        body = search_page(request.root, form, query, results, page, outlets)
        return Document(body, HTML, datetime.now(UTC).replace(microsecond=0))


PAGE_SIZE = 20
VARY_FEED = "Accept, Accept-Encoding"
MAX_PAGE = 1000
HTML = "text/html; charset=utf-8"
_HOST = re.compile(r"(?P<name>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")
_STORY_PATH = re.compile(r"^/stories/([0-9a-f]{16})$")
_OUTLET_PATH = re.compile(r"^/outlets/([^/]+)$")
_LIVE = {"/", "/search"}
_LIVE_PREFIXES = ("/stories/", "/outlets/")  # story pages cache themselves, by story (FeedApp.story)
_SEARCH_FIELDS = (  # SearchForm's field, the query parameter
    ("q", "q"), ("outlet", "outlet"), ("lang", "lang"), ("since", "from"), ("until", "to"), ("tag", "tag"),
)  # fmt: skip


def _size(document: Document | None) -> int:
    return len(document.body) if document is not None else 0


def page_number(values: dict[str, list[str]], allowed: set[str]) -> int:
    """The ?page= of a page's query (1 without one); BadQuery for another parameter or a bad number."""
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise BadQuery(f"unknown parameter {unknown[0]!r}")
    raw = values.get("page", ["1"])[-1]
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_PAGE:
        raise BadQuery(f"page must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def static_file(name: str) -> Route | None:
    """The route of one file of feeds/web/static (names only: no directories, no dot files)."""
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
    connections_per_client: int | None = None,
    limits: ConnectionLimits | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the feeds and the index page on host:port with waitress until SIGTERM or Ctrl-C (then return).

    Connections are bounded by `limits` (feeds.web.connections: header and request deadlines, connections per
    client, in all), of which `connections_per_client` (0: no limit) is the one a deployment may need to change.
    `on_ready` gets the root URL once the socket listens (port 0 picks a free port).
    """
    import signal

    limits = limits or ConnectionLimits()
    if connections_per_client is not None:
        limits = replace(limits, per_client=connections_per_client)
    limits = fit_descriptors(limits)
    app = make_app(db_url, base_url, items, allowed_hosts)
    # waitress warns "Task queue depth is N" on every request that waits for a thread: 13,872 lines in
    # 40 s of load say nothing a reader of the log can act on; its errors still show
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    logged = AccessLog(app, access_log) if access_log else None
    try:
        server = create_server(logged or app, host, port, threads, limits, ident="newswire")
    except BaseException:  # cannot listen (address in use, unknown host): the database is released too
        app.close()
        if logged:
            logged.close()
        raise
    bound_host, bound_port = getattr(server, "effective_listen", [(server.effective_host, server.effective_port)])[0]
    root = f"http://{_url_host(str(bound_host))}:{bound_port}/"
    app.listening_at(root)
    if not base_url and _url_host(str(bound_host)) in ("0.0.0.0", "[::]"):
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
