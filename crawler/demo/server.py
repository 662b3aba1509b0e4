"""A real HTTP server per fake outlet, bound to 127.0.0.1 on free ports, each in its own thread."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


@dataclass
class Resource:
    """What one path of a site answers."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """A path that misbehaves: `serve(handler)` writes what it likes to the connection (or resets it)."""

    serve: Callable[[BaseHTTPRequestHandler], None]


@dataclass
class SiteServer:
    """One outlet of the news web: its server, thread, base URL and routes."""

    slug: str
    server: ThreadingHTTPServer
    thread: threading.Thread
    routes: dict[str, Resource | Fault] = field(default_factory=dict)
    validators: tuple[str, ...] = ("etag", "last-modified")  # what the site sends and honours
    first_served: dict[str, str] = field(default_factory=dict)  # body hash → HTTP date (Last-Modified)

    def validators_for(self, body: bytes) -> dict[str, str]:
        """ETag and Last-Modified of a body, as this site sends them."""
        digest = hashlib.sha1(body).hexdigest()[:16]
        headers = {}
        if "etag" in self.validators:
            headers["ETag"] = f'"{digest}"'
        if "last-modified" in self.validators:
            headers["Last-Modified"] = self.first_served.setdefault(digest, formatdate(time.time(), usegmt=True))
        return headers

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"


NOT_FOUND = Resource(b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>", status=404)


def _handler(
    site: SiteServer,
    log: list[tuple[str, str, str]],
    status_log: list[tuple[str, str, int]],
    arrivals: list[tuple[str, str, float]],
    lock: threading.Lock,
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "newsweb/1.0"
        protocol_version = "HTTP/1.1"

        def _answer(self, with_body: bool) -> None:
            path = urlsplit(self.path).path
            with lock:
                log.append((site.slug, self.command, self.path))
                arrivals.append((site.slug, self.path, time.monotonic()))
            resource = site.routes.get(path, NOT_FOUND)
            if isinstance(resource, Fault):
                with lock:
                    status_log.append((site.slug, self.path, 0))
                resource.serve(self)
                return
            validators = site.validators_for(resource.body) if resource.status == 200 else {}
            if validators and self._not_modified(validators):
                with lock:
                    status_log.append((site.slug, self.path, 304))
                self.send_response(304)
                for key, value in validators.items():
                    self.send_header(key, value)
                self.end_headers()
                return
            with lock:
                status_log.append((site.slug, self.path, resource.status))
            self.send_response(resource.status)
            self.send_header("Content-Type", resource.content_type)
            self.send_header("Content-Length", str(len(resource.body)))
            for key, value in {**validators, **resource.headers}.items():
                self.send_header(key, value)
            self.end_headers()
            if with_body:
                self.wfile.write(resource.body)

        def _not_modified(self, validators: dict[str, str]) -> bool:
            """True when the request's If-None-Match or If-Modified-Since says the client has this body."""
            if_none_match = self.headers.get("If-None-Match")
            if if_none_match and "ETag" in validators:
                return validators["ETag"] in {t.strip() for t in if_none_match.split(",")} or if_none_match == "*"
            since = self.headers.get("If-Modified-Since")
            if since and "Last-Modified" in validators:
                try:
                    return parsedate_to_datetime(since) >= parsedate_to_datetime(validators["Last-Modified"])
                except (TypeError, ValueError):
                    return False
            return False

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            logger.debug("%s %s", site.slug, format % args)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    """A threaded server that logs a client's reset connection at debug level instead of printing a traceback."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: tuple) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class NewsWebServer:
    """Start one loopback HTTP server per outlet slug; routes are filled in once every port is known."""

    def __init__(self, slugs: list[str], host: str = "127.0.0.1") -> None:
        self.host = host
        self.slugs = slugs
        self.sites: dict[str, SiteServer] = {}
        self.requests: list[tuple[str, str, str]] = []
        self.answers: list[tuple[str, str, int]] = []  # (slug, path, status) of every GET/HEAD answered
        self.arrivals: list[tuple[str, str, float]] = []  # (slug, path, monotonic time) of every request
        self._lock = threading.Lock()

    def start(self) -> dict[str, str]:
        """Bind every site to a free port and serve it; return base URLs by slug."""
        for slug in self.slugs:
            server = _QuietServer((self.host, 0), BaseHTTPRequestHandler)
            thread = threading.Thread(target=server.serve_forever, name=f"newsweb-{slug}", daemon=True)
            site = SiteServer(slug, server, thread)
            server.RequestHandlerClass = _handler(site, self.requests, self.answers, self.arrivals, self._lock)
            self.sites[slug] = site
            thread.start()
        return {slug: site.base_url for slug, site in self.sites.items()}

    def stop(self) -> None:
        """Shut every server down and wait for its thread."""
        for site in self.sites.values():
            site.server.shutdown()
            site.server.server_close()
            site.thread.join(timeout=5)

    def answers_since(self, mark: int) -> list[tuple[str, str, int]]:
        """(slug, path, status) of the answers given after `mark` (a length of `answers` taken earlier)."""
        with self._lock:
            return list(self.answers[mark:])

    def requests_for(self, slug: str) -> list[str]:
        """Paths requested from one site so far."""
        with self._lock:
            return [path for s, _method, path in self.requests if s == slug]


def find_reference_article() -> Path | None:
    """The shared reference article (../shared/seed/reference-article.txt beside the project), if present."""
    import os

    env = os.environ.get("NEWSWIRE_REFERENCE_ARTICLE")
    candidates = [Path(env)] if env else []
    project = Path(__file__).resolve().parents[2]
    candidates += [
        project.parent / "shared/seed/reference-article.txt",
        Path.cwd().parent / "shared/seed/reference-article.txt",
    ]
    return next((p for p in candidates if p.is_file()), None)
