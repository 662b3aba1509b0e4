"""The baseline crawl: a plain Scrapy spider that reads a sitemap and calls trafilatura.extract in its
callback — what a team without newswire would write. Used by bench.crawl_throughput.

Usage: python -m bench.plain_spider SITEMAP_URL...   (prints the number of texts extracted)
"""

from __future__ import annotations

import sys

import scrapy
import trafilatura
from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider


class PlainSpider(SitemapSpider):
    name = "plain"
    extracted = 0

    def parse(self, response: scrapy.http.Response):
        text = trafilatura.extract(response.text, url=response.url)
        if text:
            PlainSpider.extracted += 1
            yield {"url": response.url, "text": text}


def main() -> None:
    settings = {
        "LOG_LEVEL": "ERROR", "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "ROBOTSTXT_OBEY": True, "TELNETCONSOLE_ENABLED": False, "DOWNLOAD_WARNSIZE": 0,
    }  # fmt: skip
    process = CrawlerProcess(settings)
    process.crawl(PlainSpider, sitemap_urls=sys.argv[1:])
    process.start()
    print(PlainSpider.extracted)


if __name__ == "__main__":
    main()
