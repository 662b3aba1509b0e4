"""Scrapy's scheduler for a shared crawl: requests go to the Redis frontier and come back leased.

A request is acked when Scrapy is done with it — its callback or errback ran and what it yielded was
scheduled and stored (the scraper's `finish_response`, which runs after the item pipelines) — or when it was
replaced by a request made from it (a redirect, a retry), which is queued before the old lease is acked. So
a worker killed at any moment leaves every request it held leased, and the lease's expiry gives it to
another worker. A worker that stops cleanly hands its leases back. A heartbeat keeps this worker's leases
and its line in the worker list alive, and wakes the engine so requests other workers queued are taken up
within a second, not at Scrapy's 5-second heartbeat.

Retries that must wait (crawler/delaying_scheduler.py's NOT_BEFORE) wait in the frontier's `delayed` set, for every
worker to see.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from scrapy import Request, Spider, signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import task
from twisted.python.failure import Failure

from crawler import meta
from crawler import stats as counters
from crawler.delaying_scheduler import NOT_BEFORE
from crawler.extensions.coordination import crawl_coordination
from crawler.failures import classify_failure, worth_retrying
from crawler.frontier.config import FrontierConfig
from crawler.frontier.connection import FrontierKeys, frontier_of
from crawler.frontier.dupefilter import ExpiringDupeFilter
from crawler.frontier.health import FULL, frontier_health, refuses_writes
from crawler.frontier.leases import Lease, LeasedQueue
from crawler.frontier.ownership import ForeignFrontier, claim
from crawler.frontier.readback import ReadBackGate
from crawler.frontier.serializer import UnqueueableRequest, dumps
from crawler.frontier.workers import WorkerRoster

logger = logging.getLogger(__name__)

LEASE_META = "newswire_lease"  # request.meta: (request id, lease token) of the lease it came from
STAY_SETTING = "NEWSWIRE_FRONTIER_STAY"  # True: an idle worker waits for work; False: it ends when all is done


class FrontierScheduler(BaseScheduler):
    """Scrapy's scheduler over the shared frontier (see the module's docstring)."""

    def __init__(self, crawler: Crawler, queue: LeasedQueue, dupefilter: ExpiringDupeFilter, roster: WorkerRoster):
        self.crawler = crawler
        self.queue = queue
        self.keys: FrontierKeys = frontier_of(crawler.settings)[1]
        self.database: str | None = FrontierConfig.from_crawler(crawler).database or None  # whose frontier it stays
        self.foreign = False  # the frontier came to belong to another database: this process leases nothing
        self.df = dupefilter
        self.roster = roster
        self.stats = crawler.stats
        self.stay = FrontierConfig.from_crawler(crawler).stay
        self.held: dict[str, Lease] = {}  # leases of requests in this process, extended by the heartbeat
        self.unacked: dict[str, Lease] = {}  # requests done while Redis was away: acked once it answers
        self.spider: Spider | None = None
        self._heartbeat: task.LoopingCall | None = None
        self.health = frontier_health(crawler)  # unreachable or refusing writes, since when
        self.gate = ReadBackGate(crawler)  # what a request read back may carry
        self.cannot_ack = False  # set when the scraper cannot be hooked: this process leases nothing

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        client, keys = frontier_of(crawler.settings)
        queue = LeasedQueue(
            client,
            keys,
            lease_seconds=FrontierConfig.from_crawler(crawler).lease_seconds,
            max_tries=FrontierConfig.from_crawler(crawler).max_tries,
        )
        roster = WorkerRoster(client, keys, queue.lease_ms / 1000)
        scheduler = cls(crawler, queue, ExpiringDupeFilter.from_crawler(crawler), roster)
        crawler.signals.connect(scheduler._hook_scraper, signal=signals.spider_opened)
        crawler.signals.connect(scheduler._spider_idle, signal=signals.spider_idle)
        return scheduler

    # --- Scrapy's scheduler interface ------------------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        try:
            self.roster.join()
        except redis.RedisError as exc:  # the heartbeat writes the line once Redis takes it
            self._redis_failed(exc)
        self._heartbeat = task.LoopingCall(self.beat)
        self._heartbeat.start(min(1.0, self.queue.lease_ms / 3000), now=False)
        logger.info("worker %s joined the frontier (%s)", self.roster.worker_id, self.queue.sizes())

    def close(self, reason: str) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        try:
            self._tally()
            for lease in self.unacked.values():
                self.queue.ack(lease)
            handed_back = sum(self.queue.release(lease) for lease in self.held.values())
            self.roster.leave(self.crawler.stats.get_stats() if self.crawler.stats else {})
        except redis.RedisError as exc:
            logger.error(
                "frontier failed when closing: %d request(s) go back when their lease ends: %s",
                len(self.held),
                exc,
            )
        else:
            if handed_back:
                logger.info("handed %d unfinished request(s) back to the frontier", handed_back)
        self.held.clear()

    def has_pending_requests(self) -> bool:
        if self.cannot_ack or self.foreign or self.health.ended():
            return False
        try:
            sizes = self.queue.sizes()
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return bool(self.held)
        return bool(self.held) or sizes.queued > 0 or sizes.delayed > 0

    def enqueue_request(self, request: Request) -> bool:
        replaced = _pop_lease(request)  # a redirect or retry of a leased request: queued, then the lease acked
        try:
            queued = self._enqueue(request)
        except redis.RedisError as exc:
            self._redis_failed(exc)
            self._not_queued(request, exc)
            if not request.dont_filter:  # it may be marked seen already: then no later attempt could queue it
                self._forget(request)
            if replaced is not None:  # no longer extended: its lease ends and the request is fetched again
                self.held.pop(replaced[0], None)
            return False
        if replaced is not None:
            try:
                self._settle(replaced)
            except redis.RedisError as exc:  # queued; the old lease is acked by the heartbeat once Redis answers
                self._redis_failed(exc)
        return queued

    def _enqueue(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        try:
            payload = dumps(request, self.spider)  # type: ignore[arg-type]
        except UnqueueableRequest as exc:
            logger.error("cannot queue %s", exc)
            self._count("frontier/unqueueable")
            return False
        not_before = request.meta.get(NOT_BEFORE)  # this host's clock: sent as a delay, timed by Redis's
        delay = max(0.0, not_before - time.time()) if not_before else 0.0
        self.queue.push(payload, request.priority, delay=delay, host=urlparse_cached(request).hostname or "")
        self.health.wrote()
        self._count("scheduler/enqueued/redis")
        return True

    def _not_queued(self, request: Request, exc: redis.RedisError) -> None:
        """A request lost to this crawl (its listing is read in full by the next one): an error of the run when
        Redis refused it, since a full frontier is no passing outage."""
        if refuses_writes(exc) and self.stats is not None:
            counters.count_error(self.stats, "frontier_full", request.meta.get(meta.OUTLET), request.url)
        logger.info("frontier failed: %s not queued: %s", request.url, exc)

    def next_request(self) -> Request | None:
        requeued, dead = self.queue.requeued, self.queue.dead
        try:
            return self._next_leased()
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return None
        finally:  # what this lease call found of dead workers' requests
            self._count("frontier/requeued", self.queue.requeued - requeued)
            self._count("frontier/set_aside", self.queue.dead - dead)

    def _next_leased(self) -> Request | None:
        if self.cannot_ack or self.foreign or self.health.ended():
            return None
        while (lease := self.queue.lease(self.roster.worker_id)) is not None:
            request = self.gate.read(lease.payload, self.spider)  # type: ignore[arg-type]
            if request is None:
                self.queue.ack(lease)
                continue
            request.meta[LEASE_META] = (lease.request_id, lease.token)
            self.held[lease.request_id] = lease
            self._count("scheduler/dequeued/redis")
            self.health.reachable()  # not a write Redis accepted: a full Redis still leases (the script deletes first)
            return request
        self.health.reachable()
        return None

    # --- leases ---------------------------------------------------------------------------------------

    def finished(self, request: Request, result: Any) -> None:
        """Scrapy is done with `request` (its callback or errback ran, its output scheduled and stored). An
        article that failed in a way worth retrying is forgotten by the dupefilter, so the next crawl's
        listing queues it again (its listing was marked incomplete: crawler/extensions/fetch_state.py)."""
        lease_meta = request.meta.get(LEASE_META)
        if lease_meta is None:
            return
        if isinstance(result, Failure) and "hints" in request.cb_kwargs:
            kind, _detail, _is_error = classify_failure(result)
            if worth_retrying(kind):
                self._forget(request)
        try:
            self._settle(tuple(lease_meta))
        except redis.RedisError as exc:  # kept in unacked: the heartbeat acks it once Redis answers
            self._redis_failed(exc)

    def _forget(self, request: Request) -> None:
        """Let the next crawl queue `request` again (best effort: while Redis is away its fingerprint stays, and
        the listing, marked incomplete, is read in full next time anyway)."""
        try:
            self.df.forget(request)
        except redis.RedisError as exc:
            self._redis_failed(exc)

    def _tally(self) -> None:
        """Add this process's counts to the shared crawl's tally (before a lease is acked: the counts
        of a request are in Redis before the request leaves the frontier)."""
        if self.stats is not None:
            crawl_coordination(self.crawler).tally(self.roster.worker_id, self.stats.get_stats())

    def _settle(self, lease_meta: tuple[str, str]) -> None:
        request_id = lease_meta[0]
        lease = self.held.pop(request_id, None)
        if lease is None:
            return
        try:
            self._tally()
            acked = self.queue.ack(lease)
        except redis.RedisError:  # done, but not yet acked: the heartbeat acks it once Redis answers again
            self.unacked[request_id] = lease
            raise
        self._acked(acked, request_id)

    def _acked(self, acked: bool, request_id: str) -> None:
        if not acked:
            logger.warning("request %s was done after its lease expired: another worker may fetch it too", request_id)
            self._count("frontier/lease_lost")

    def beat(self) -> None:
        """Extend this worker's leases, refresh its line in the worker list, wake the engine. A Redis failure
        is one warning line; the heartbeat goes on."""
        try:
            for request_id, lease in list(self.unacked.items()):
                self._tally()
                self._acked(self.queue.ack(lease), request_id)
                del self.unacked[request_id]
            kept = self.queue.extend(list(self.held.values()))
            if kept < len(self.held):
                self._count("frontier/lease_lost", len(self.held) - kept)
            self.roster.beat(self.crawler.stats.get_stats() if self.crawler.stats else {}, len(self.held))
            if self.database is not None:  # a Redis restarted empty is claimed again for this database at once
                claim(self.queue.client, self.keys, self.database)
        except redis.RedisError as exc:
            self._redis_failed(exc)
        except ForeignFrontier as exc:
            if not self.foreign:
                logger.error("%s: this process leases nothing more", exc)
            self.foreign = True
        else:
            self.health.wrote()  # the worker's line was written: Redis takes writes
        # Scrapy polls its scheduler only every 5 s when idle (`_engine`: None before the crawl starts)
        slot = getattr(self.crawler._engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def _redis_failed(self, exc: Exception) -> None:
        """Count a Redis failure; log it once per outage or spell of refused writes, not once per call."""
        self._count("frontier/redis_errors")
        self.health.failed(exc)

    def _hook_scraper(self, spider: Spider) -> None:
        """Be told when the scraper is done with a response or failure (after the item pipelines). Without that
        hook (a Scrapy whose scraper changed) no lease would ever be acked and every request would be fetched
        again and again: this process then leases nothing and its crawl closes (an exception here would only be
        logged by Scrapy's signal dispatch)."""
        slot = self.crawler.engine.scraper.slot if self.crawler.engine else None
        if slot is None or not hasattr(slot, "finish_response"):
            logger.error("this Scrapy's scraper cannot tell when a request is done: the worker cannot ack its leases")
            self.cannot_ack = True
            return
        finish_response = slot.finish_response

        def finish_and_ack(result: Any, request: Request) -> None:
            finish_response(result, request)
            self.finished(request, result)

        slot.finish_response = finish_and_ack  # type: ignore[method-assign]

    def _spider_idle(self, spider: Spider) -> None:
        """Keep the crawl open while any worker still holds requests (they may queue more), or for good; a
        crawl whose frontier is unreachable, or refuses writes, for NEWSWIRE_FRONTIER_MAX_OUTAGE seconds ends
        (failed, for refused writes)."""
        if self.cannot_ack:
            raise CloseSpider("frontier_cannot_ack")
        if self.foreign:
            raise CloseSpider("frontier_foreign")
        ended = self.health.ended()
        if ended == FULL:
            logger.error("frontier refused writes for %.0f s: this crawl ends, failed", self.health.lasted())
            raise CloseSpider(FULL)
        if ended is not None:
            logger.error("frontier unreachable for %.0f s: this crawl ends", self.health.lasted())
            return
        if self.stay or self.health.troubled or self.unacked:
            raise DontCloseSpider
        try:
            leased = self.queue.sizes().leased
        except redis.RedisError as exc:
            self._redis_failed(exc)
            raise DontCloseSpider from None
        if leased > 0:
            raise DontCloseSpider

    def _count(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(key, count)


def _pop_lease(request: Request) -> tuple[str, str] | None:
    value = request.meta.pop(LEASE_META, None)
    return tuple(value) if value is not None else None
