"""Components built from a real crawler and called directly: the private-address guard and retries."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.failures import PrivateAddressRefused
from crawler.middlewares.private_addresses import PrivateAddressGuard, is_internal_address
from crawler.spiders.news import NewsSpider


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("fc00::1", True),
        ("0.0.0.0", True),
        ("8.8.8.8", False),
        ("2606:4700::1111", False),
    ],
)
def test_internal_addresses(address, internal):
    assert is_internal_address(address) is internal


def _guard():
    from crawler.discovery.registry import Outlet

    registry = {"crawler.extensions.registry.CrawlRegistry": 0}  # it reads the spider's registry when asked
    crawler = get_crawler(NewsSpider, {"NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": False, "EXTENSIONS": registry})
    crawler.spider = NewsSpider(outlets=[Outlet("Local", "http://127.0.0.1:8080/")], known={})
    return PrivateAddressGuard.from_crawler(crawler)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:8080/copy",  # a discovered link to another loopback host
        "http://localhost/copy",
        "http://169.254.169.254/latest/meta-data/",  # a redirect target: cloud metadata
        "http://10.1.2.3/robots.txt",  # Scrapy's own robots.txt request for a discovered host
        "http://no-such-host.invalid/x",  # unresolvable: refused, not let through
        "http://127.0.0.1:8081/admin",  # another port of the registry's host is another server
        "https://127.0.0.1:8080/feed/",  # … and so is another scheme
    ],
)
def test_guard_refuses_every_internal_host_off_the_registry(url):
    with pytest.raises(PrivateAddressRefused):
        asyncio.run(_guard().process_request(Request(url)))


def test_guard_lets_registry_outlets_through_wherever_they_live():
    assert asyncio.run(_guard().process_request(Request("http://127.0.0.1:8080/feed/"))) is None


def test_guard_off_when_setting_allows():
    from scrapy.exceptions import NotConfigured

    crawler = get_crawler(NewsSpider, {"NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": True})
    with pytest.raises(NotConfigured):
        PrivateAddressGuard.from_crawler(crawler)


def test_extraction_failure_is_counted_not_lost():
    from scrapy.exceptions import DropItem

    from crawler.discovery.registry import Outlet
    from crawler.pipelines.extract import ExtractPipeline

    crawler = get_crawler(NewsSpider, {"NEWSWIRE_EXTRACT_WORKERS": 0})
    crawler._apply_settings()
    crawler.spider = NewsSpider(outlets=[Outlet("Local", "http://127.0.0.1:9/")], known={})
    pipeline = ExtractPipeline.from_crawler(crawler)
    pipeline.open_spider()
    from datetime import UTC, datetime

    from crawler.items import FetchedPage

    # a page that is not text at all (a bug upstream): extraction raises inside
    broken = FetchedPage("local", "http://127.0.0.1:9/x", None, "text/html", datetime.now(UTC))  # type: ignore[arg-type]
    with pytest.raises(DropItem):
        asyncio.run(pipeline.process_item(broken))
    assert crawler.stats.get_value("newswire/errors/extraction_failed") == 1
    assert crawler.stats.get_value("newswire/errors") == 1
