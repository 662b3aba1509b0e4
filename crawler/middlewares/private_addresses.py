"""Downloader middleware: no request a discovered link made reaches loopback or a private network."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.config import CrawlConfig
from crawler.discovery.registry import origin_of
from crawler.extensions.registry import crawl_registry
from crawler.failures import PrivateAddressRefused

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
        if origin in crawl_registry(self.crawler).origins:
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
