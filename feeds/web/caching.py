"""HTTP caching for served documents: strong ETags, Last-Modified, conditional requests and gzip."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

CACHE_CONTROL = "public, max-age=300"
GZIP_SUFFIX = "-gzip"  # a strong ETag names one representation: the gzipped bytes get their own


@dataclass(frozen=True)
class Response:
    """A status line, headers and body ready for a WSGI start_response."""

    status: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def strong_etag(body: bytes) -> str:
    """A strong entity tag for `body`: a hash of its bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def http_date(when: datetime) -> str:
    """`when` as an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT")."""
    return format_datetime(when.astimezone(UTC), usegmt=True)


def quality_weights(header: str) -> dict[str, float]:
    """An Accept or Accept-Encoding header's values (lower-cased) and their q weights (1 when none is given; 0
    when it is not a number)."""
    weights: dict[str, float] = {}
    for part in header.split(","):
        value, *params = part.strip().split(";")
        quality = 1.0
        for param in params:
            name, _, number = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(number)
                except ValueError:
                    quality = 0.0
        if value.strip():
            weights[value.strip().lower()] = quality
    return weights


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header admits gzip (q=0 refuses it; "*" stands for unnamed codings)."""
    weights = quality_weights(accept_encoding)
    if "gzip" in weights or "x-gzip" in weights:
        return max(weights.get("gzip", 0.0), weights.get("x-gzip", 0.0)) > 0
    return weights.get("*", 0.0) > 0


def _etag_matches(if_none_match: str, etags: set[str]) -> bool:
    """If-None-Match by weak comparison (RFC 9110 §13.1.2): "*" or any listed tag equal to one of `etags`."""
    if if_none_match.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return bool(tags & etags)


def _not_modified_since(if_modified_since: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


def cached_response(
    environ: dict, body: bytes, media_type: str, last_modified: datetime, vary: str = "Accept-Encoding"
) -> Response:
    """A 200 with validators, gzipped when the client accepts it, or a bodiless 304 when the client's copy
    is current (If-None-Match first; If-Modified-Since only without it). `vary` names the request headers
    the representation depends on."""
    etag = strong_etag(body)
    gzip_etag = etag[:-1] + GZIP_SUFFIX + '"'
    use_gzip = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
    headers = [
        ("ETag", gzip_etag if use_gzip else etag),
        ("Last-Modified", http_date(last_modified)),
        ("Cache-Control", CACHE_CONTROL),
        ("Vary", vary),
    ]
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        fresh = _etag_matches(if_none_match, {etag, gzip_etag})
    else:
        fresh = _not_modified_since(environ.get("HTTP_IF_MODIFIED_SINCE", ""), last_modified)
    if fresh:
        return Response("304 Not Modified", headers)
    if use_gzip:
        body = gzip.compress(body, mtime=0)  # no timestamp: the same feed gives the same bytes
        headers.append(("Content-Encoding", "gzip"))
    headers += [("Content-Type", media_type), ("Content-Length", str(len(body)))]
    return Response("200 OK", headers, body)


def plain_response(status: str, message: str, *extra: tuple[str, str]) -> Response:
    """A short text/plain response (errors)."""
    body = (message + "\n").encode("utf-8")
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *extra]
    return Response(status, headers, body)


_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/xml", "text/xml",
               "application/json", "application/rdf+xml"}  # fmt: skip


def prefers_html(accept: str) -> bool:
    """Whether an Accept header names HTML above every feed type: a browser's navigation ("text/html,…,
    application/xml;q=0.9"), not a feed reader (which names feed types, or only */*)."""
    weights = quality_weights(accept)
    html = max((weights.get(t, 0.0) for t in _HTML_TYPES), default=0.0)
    feed = max((weights.get(t, 0.0) for t in _FEED_TYPES), default=0.0)
    return html > 0 and html > feed
