"""Downloader middlewares: retries with exponential back-off, and no discovered links into private networks."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.config import CrawlConfig
from crawler.errors import PrivateAddressRefused
from crawler.registry import origin_of
from crawler.scheduler import NOT_BEFORE

logger = logging.getLogger(__name__)


def is_internal_address(address: str) -> bool:
    """True for loopback, private, link-local, reserved, multicast and unspecified addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class PrivateAddressGuard:
    """Refuse every request to a host outside the registry that is, or resolves to, an internal address.

    Outlets named in the registry may live anywhere — at the scheme, host and port the registry gives
    (another port of that host is another server); anything else — links found in listings and
    pages, redirect targets, their robots.txt — may not reach loopback, private, link-local or
    reserved ranges unless NEWSWIRE_ALLOW_PRIVATE_ADDRESSES is set. Unresolvable hosts are refused
    too (fail closed). The address is checked before the download resolves it again, so a DNS
    rebinding attack is not stopped here.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        if CrawlConfig.from_crawler(crawler).allow_private_addresses:
            raise NotConfigured("NEWSWIRE_ALLOW_PRIVATE_ADDRESSES is set")
        return cls(crawler)

    async def _refusal(self, host: str) -> str | None:
        """Why a request to `host` is refused, or None."""
        if host not in self.verdicts:
            try:
                if _is_ip(host):
                    addresses = [host]
                else:
                    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
                    addresses = [str(info[4][0]) for info in infos]
            except OSError:
                addresses = []
            if not host or not addresses:
                self.verdicts[host] = f"unresolvable host {host!r} refused"
            elif host == "localhost" or any(is_internal_address(a) for a in addresses):
                self.verdicts[host] = f"internal address {host} refused (not a registry outlet)"
            else:
                self.verdicts[host] = None
        return self.verdicts[host]

    async def process_request(self, request: Request) -> None:
        try:
            origin = origin_of(request.url)
        except ValueError:
            raise PrivateAddressRefused(f"malformed URL refused: {request.url[:200]}") from None
        if origin in getattr(self.crawler.spider, "registry_origins", ()):
            return None  # the registry vouches for this scheme, host and port, and for nothing else there
        host = origin[1]
        if reason := await self._refusal(host):
            raise PrivateAddressRefused(reason)
        return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, each one sent base × 2^(attempt-1) seconds later (capped), or when Retry-After says.

    The retry waits in the scheduler (crawler/scheduler.py), not in the downloader: a throttling outlet
    never holds a download slot that other outlets need. Retry-After (seconds or an HTTP date) is honoured
    beyond the back-off cap, up to NEWSWIRE_RETRY_AFTER_MAX; an outlet asking for a longer wait is left
    for a later crawl (its 429/503 is counted, and adaptive polling keeps the Retry-After).
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        config = CrawlConfig.from_settings(settings)
        self.base = config.retry_backoff_base.total_seconds()
        self.cap = config.retry_backoff_max.total_seconds()
        self.retry_after_max = config.retry_after_max.total_seconds()

    def _delayed(self, retry: Request | Response | None, response: Response | None = None) -> Any:
        if not isinstance(retry, Request):
            return retry
        attempt = retry.meta.get("retry_times", 1)
        delay = min(self.cap, self.base * 2 ** (attempt - 1)) if self.base > 0 else 0.0
        asked = retry_after_seconds(response.headers.get(b"Retry-After")) if response is not None else None
        if asked is not None:
            if asked > self.retry_after_max:
                logger.info("%s asks to wait %.0f s (over %.0f s): left for a later crawl", retry.url, asked,
                            self.retry_after_max)  # fmt: skip
                return response
            delay = max(delay, asked)
        if delay > 0:
            retry.meta[NOT_BEFORE] = time.time() + delay
        return retry

    # Scrapy >= 2.13 calls these without the deprecated `spider` argument its stubs still declare
    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        return self._delayed(super().process_response(request, response), response)

    def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        return self._delayed(super().process_exception(request, exception))


def retry_after_seconds(value: bytes | None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
