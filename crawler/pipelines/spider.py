"""The crawl's spider as the pipelines see it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from scrapy.crawler import Crawler

if TYPE_CHECKING:
    from crawler.spiders.news import NewsSpider


def news_spider(crawler: Crawler) -> NewsSpider:
    """The crawl's spider, typed: the pipelines serve NewsSpider (its outlets, registry and directory)."""
    return cast("NewsSpider", crawler.spider)
