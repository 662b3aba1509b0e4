"""Scrapy's scheduler, holding back requests that must not be sent before a given time (delayed retries).

A retry that waits (a back-off, a Retry-After) used to sleep inside the downloader, holding one of the
crawl's CONCURRENT_REQUESTS slots: one outlet answering 429 with Retry-After: 30 held up every other
outlet. Here the retry waits outside the downloader, in a heap ordered by its not-before time; the
engine asks for the next request at least every few seconds (its heartbeat), and a waiting retry
counts as pending, so the crawl does not end before it is sent.
"""

from __future__ import annotations

import heapq
import itertools
import time

from scrapy import Request
from scrapy.core.scheduler import Scheduler

from crawler import stats as counters

NOT_BEFORE = "newswire_not_before"  # request.meta key: a time.time() before which the request is not sent


class DelayingScheduler(Scheduler):
    """Scrapy's Scheduler; a request whose meta holds a future NOT_BEFORE time waits until then."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: list[tuple[float, int, Request]] = []
        self._order = itertools.count()

    def enqueue_request(self, request: Request) -> bool:
        not_before = request.meta.get(NOT_BEFORE)
        if not_before is not None and not_before > time.time():
            heapq.heappush(self._waiting, (not_before, next(self._order), request))
            if self.stats is not None:
                counters.count(self.stats, counters.RETRIES_DELAYED)
            return True
        return super().enqueue_request(request)

    def next_request(self) -> Request | None:
        now = time.time()
        while self._waiting and self._waiting[0][0] <= now:
            request = heapq.heappop(self._waiting)[2]
            request.meta.pop(NOT_BEFORE, None)
            super().enqueue_request(request)
        return super().next_request()

    def __len__(self) -> int:
        return super().__len__() + len(self._waiting)
