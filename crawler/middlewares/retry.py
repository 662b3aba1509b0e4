"""Downloader middleware: Scrapy's retries, sent later with exponential back-off (or when Retry-After says)."""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response

from crawler.config import CrawlConfig
from crawler.delaying_scheduler import NOT_BEFORE
from crawler.failures import retry_after_seconds

logger = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, each one sent base × 2^(attempt-1) seconds later (capped), or when Retry-After says.

    The retry waits in the scheduler (crawler/delaying_scheduler.py), not in the downloader: a throttling outlet
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
