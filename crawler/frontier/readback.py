"""What a request read back from the frontier may carry: whoever can write to Redis must not steer a worker.

A request comes back with what the crawl itself writes, each value checked, and nothing else:

- meta: the keys of ALLOWED_META (crawler/meta.py's, the statuses the spiders let through, and Scrapy's
  redirect, retry and depth counters). Scrapy's transport keys — proxy, bindaddress, download_maxsize,
  download_warnsize, download_timeout, dont_obey_robotstxt, handle_httpstatus_all, dont_redirect, cookiejar,
  … — never come back: this worker's settings and middlewares decide them. The keys the crawl's own
  middlewares write on a request before it is redirected or retried (RESET_META) are dropped quietly; any
  other is dropped and counted.
- headers: Referer only. User-Agent, Accept*, and a listing's validators are set again by this worker's
  middlewares from its own settings and state.
- a GET without a body or cookies; a callback named `parse…` and an errback named `on_…` that the spider's
  own classes define (never Scrapy's methods or any other attribute); the callback's keyword arguments by
  name and type; the outlet one of the registry's.
- the URL: http(s), and — unless the registry vouches for its scheme, host and port — not a loopback,
  private, link-local or reserved address (`address_refusal`, the address guard's rule where no DNS lookup is
  needed; crawler/middlewares/private_addresses.py's PrivateAddressGuard still checks every request, names
  resolved, before it is sent, and nothing a request carries from Redis can route around it).

`ReadBackGate` is the scheduler's side: it reads each leased request through these rules, and counts and logs
what it cut, refused or dropped.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, fields
from typing import Any, get_args

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.utils.request import request_from_dict
from twisted.python.failure import Failure

from crawler import meta
from crawler import stats as counters
from crawler.config import CrawlConfig
from crawler.delaying_scheduler import NOT_BEFORE
from crawler.discovery.registry import origin_of
from crawler.extensions.registry import crawl_registry
from crawler.extract.record import DiscoveryHints, DiscoverySource
from crawler.failures import PrivateAddressRefused
from crawler.frontier.serializer import RefusedRequest, check_callbacks, decode
from crawler.middlewares.private_addresses import is_internal_address

logger = logging.getLogger(__name__)

MAX_COUNT = 1000  # a depth or a redirect/retry count beyond this was not written by the crawl
MAX_PRIORITY = 10_000
LISTED_STATUSES = frozenset({304, 404, 410})  # handle_httpstatus_list as the spiders write it (crawler/spiders)
HEADERS = frozenset({b"referer"})


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 8192


def _list_of(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, list) and len(value) <= MAX_COUNT and all(check(v) for v in value)


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


def _hints(value: Any) -> bool:
    return (
        isinstance(value, DiscoveryHints)
        and value.source in get_args(DiscoverySource)
        and all(_optional(_text)(getattr(value, f.name)) for f in fields(value) if f.name != "source")
    )


ALLOWED_META: dict[str, Callable[[Any], bool]] = {
    meta.OUTLET: _text,  # and one of the registry's (see `restrict`)
    meta.CONDITIONAL: lambda value: isinstance(value, bool),
    "handle_httpstatus_list": _list_of(lambda code: code in LISTED_STATUSES),
    "redirect_urls": _list_of(_text),
    "redirect_reasons": _list_of(lambda reason: _count(reason) or _text(reason)),
    "redirect_times": _count,
    "redirect_ttl": _count,
    "retry_times": _count,
    "depth": _count,
}
# written on a request by the crawl's middlewares before a redirect or retry copies it; set again here
RESET_META = frozenset(
    {"download_timeout", "download_slot", "download_latency", "proxy", "_auth_proxy", "_scheme_proxy"}
    | {"is_start_request", NOT_BEFORE}
)
CB_KWARGS: dict[str, Callable[[Any], bool]] = {
    "hints": _hints,
    "follow_depth": _count,
    "listing_depth": _count,
    "listing": _optional(_text),
    "parent_listing": _optional(_text),
}


@dataclass(frozen=True)
class ReadRequest:
    """A request read back from the frontier, and the meta keys dropped from it that the crawl never writes."""

    request: Request
    dropped: tuple[str, ...]


def read_back(payload: bytes, spider: Spider, outlets: Collection[str] | None = None) -> ReadRequest:
    """The request back from its JSON bytes with only what the crawl itself writes: always a plain
    scrapy.Request (a `_class` naming another is ignored, so nothing is imported by name). UnqueueableRequest
    when it cannot be read, RefusedRequest when it is something the crawl would never have queued."""
    data, dropped = restrict(decode(payload), spider, outlets)
    data["headers"] = {name.encode("latin-1"): values for name, values in data["headers"].items()}
    return ReadRequest(request_from_dict(data, spider=spider), dropped)


def loads(payload: bytes, spider: Spider) -> Request:
    """`read_back(payload, spider).request`."""
    return read_back(payload, spider).request


def restrict(
    data: dict[str, Any], spider: Spider, outlets: Collection[str] | None = None
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The decoded `to_dict()` of a request read back from Redis cut down to what the crawl writes (see the
    module), and the meta keys dropped from it that the crawl never writes (someone else wrote them);
    RefusedRequest when it is something the crawl would never have queued."""
    url = data.get("url")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise RefusedRequest(f"not an http(s) URL: {str(url)[:200]!r}")
    check_callbacks(spider, data.get("callback"), data.get("errback"))
    if data.get("method", "GET") != "GET" or data.get("body") or data.get("cookies"):
        raise RefusedRequest(f"{url[:200]}: not a GET without a body or cookies")
    priority, dont_filter = data.get("priority", 0), data.get("dont_filter", False)
    if not isinstance(priority, int) or isinstance(priority, bool) or abs(priority) > MAX_PRIORITY:
        raise RefusedRequest(f"{url[:200]}: priority {priority!r:.40}")
    if not isinstance(dont_filter, bool):
        raise RefusedRequest(f"{url[:200]}: dont_filter {dont_filter!r:.40}")
    kept_meta, dropped = _meta(data.get("meta") or {}, url, outlets)
    return (
        {
            "url": url,
            "callback": data["callback"],
            "errback": data.get("errback"),
            "method": "GET",
            "headers": _headers(data.get("headers") or {}),
            "meta": kept_meta,
            "priority": priority,
            "dont_filter": dont_filter,
            "cb_kwargs": _cb_kwargs(data.get("cb_kwargs") or {}, url),
        },
        dropped,
    )


def _meta(raw: Any, url: str, outlets: Collection[str] | None) -> tuple[dict[str, Any], tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise RefusedRequest(f"{url[:200]}: meta is not a mapping")
    kept = {}
    for key, value in raw.items():
        if key in ALLOWED_META:
            if not ALLOWED_META[key](value):
                raise RefusedRequest(f"{url[:200]}: meta {key}={value!r:.80} is not what the crawl writes")
            kept[key] = value
    if outlets is not None and kept.get(meta.OUTLET) not in outlets:
        raise RefusedRequest(f"{url[:200]}: outlet {kept.get(meta.OUTLET)!r:.80} is not in this registry")
    dropped = tuple(sorted(str(key)[:80] for key in raw if key not in ALLOWED_META and key not in RESET_META))
    return kept, dropped


def _headers(raw: Any) -> dict[str, list[bytes]]:
    if not isinstance(raw, dict):
        return {}
    kept = {}
    for name, values in raw.items():
        if isinstance(name, str) and name.lower().encode("latin-1") in HEADERS and _bytes_list(values):
            kept[name] = values
    return kept


def _bytes_list(values: Any) -> bool:
    return isinstance(values, list) and len(values) <= 4 and all(isinstance(v, bytes) and len(v) < 8192 for v in values)


def _cb_kwargs(raw: Any, url: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RefusedRequest(f"{url[:200]}: cb_kwargs is not a mapping")
    for name, value in raw.items():
        check = CB_KWARGS.get(name)
        if check is None or not check(value):
            raise RefusedRequest(f"{url[:200]}: cb_kwargs {str(name)[:80]}={value!r:.80} is not what the crawl writes")
    return dict(raw)


def address_refusal(url: str, trusted: Iterable[tuple[str, str, int]], allow_private: bool) -> str | None:
    """Why the address guard refuses `url` without a DNS lookup (malformed; an internal IP address or
    localhost outside the registry's trusted origins), or None (the guard still checks it, names resolved,
    before it is sent)."""
    try:
        origin = origin_of(url)
    except ValueError:
        return f"malformed URL refused: {url[:200]}"
    if allow_private or origin in trusted:
        return None
    host = origin[1]
    if host == "localhost" or host.endswith(".localhost"):
        return f"internal address {host} refused (not a registry outlet)"
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None  # a name: the guard resolves it
    if is_internal_address(host):
        return f"internal address {host} refused (not a registry outlet)"
    return None


class ReadBackGate:
    """How a worker reads its leased requests back: each cut down to what the crawl writes, or dropped —
    unreadable, something the crawl would never queue (an error of the run), or for an address the guard
    refuses (its errback is told, as the guard's refusal would tell it: the listing it came from settles) —
    counted in the crawl's stats and logged."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.allow_private = CrawlConfig.from_crawler(crawler).allow_private_addresses

    def read(self, payload: bytes, spider: Spider) -> Request | None:
        """The request to send, or None when it is dropped (the caller acks its lease)."""
        try:
            read = read_back(payload, spider, crawl_registry(self.crawler).slugs or None)
        except RefusedRequest as exc:
            logger.error("refused a request read back from the frontier: %s", str(exc)[:300])
            self._count(f"frontier/refused/{exc.reason}")
            if self.stats is not None:
                counters.count_error(self.stats, "frontier_refused")
            return None
        except Exception as exc:  # noqa: BLE001 - a request nobody can read is reported and dropped
            logger.error("dropped a request the frontier could not read back: %s", str(exc)[:200])
            self._count("frontier/unreadable")
            return None
        request = read.request
        if read.dropped:
            logger.warning("%s: dropped meta the crawl never writes: %s", request.url[:200], ", ".join(read.dropped))
            self._count("frontier/meta_dropped", len(read.dropped))
        if refusal := address_refusal(request.url, crawl_registry(self.crawler).origins, self.allow_private):
            self._count("frontier/refused/private_address")
            failure = Failure(PrivateAddressRefused(refusal))
            failure.request = request  # type: ignore[attr-defined]  # as Scrapy's scraper sets it
            try:
                if request.errback is not None:
                    request.errback(failure)
            except Exception:  # the spider's bookkeeping failed: the request is dropped all the same
                logger.exception("the errback of %s failed", request.url[:200])
            return None
        return request

    def _count(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, count)
