"""The shared per-host clock on the machine's real Redis: slots, Retry-After blocks, expiry, three OS processes
taking turns, and the SharedPoliteness middleware built from a real crawler and called directly."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.test import get_crawler

from crawler.delaying_scheduler import NOT_BEFORE
from crawler.frontier import clock as clock_module
from crawler.frontier.clock import GRACE_MS, HostClock, SharedPoliteness
from crawler.frontier.connection import FrontierKeys
from tests.support.db import REDIS_URL

ROOT = Path(__file__).resolve().parents[1]
SLACK = 0.4  # how late a sleeping coroutine may wake on a loaded 2-core machine (an upper bound only)
EPS = 0.002  # Redis's TIME has microseconds; the slack on a figure the clock itself computed


@pytest.fixture
def client(frontier_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def keys(frontier_prefix: str) -> FrontierKeys:
    return FrontierKeys(frontier_prefix)


@pytest.fixture
def clock(client: redis.Redis, keys: FrontierKeys) -> HostClock:
    return HostClock(client, keys)


def test_consecutive_reservations_are_one_interval_apart_and_hosts_independent(clock):
    started = time.monotonic()
    waits, elapsed = [], []
    for _ in range(3):
        waits.append(clock.reserve("example.com", 0.2))
        elapsed.append(time.monotonic() - started)
    for k, (wait, since) in enumerate(zip(waits, elapsed, strict=True)):
        # slot k lies k × 0.2 s after the first one; the wait is that, less the time gone since it was taken
        assert k * 0.2 - since - EPS <= wait <= k * 0.2 + EPS, (k, wait, since)
    assert waits[2] > 0.3  # really queued, not waived
    other = time.monotonic()
    assert clock.reserve("other.example", 0.2) == 0.0
    assert clock.reserve("Example.COM.", 0.2) >= 0.6 - (time.monotonic() - started) - EPS  # the same host
    assert clock.reserve("other.example", 0.2) >= 0.2 - (time.monotonic() - other) - EPS


def test_the_clock_key_is_under_the_frontier_prefix_and_bounded(clock, keys):
    assert clock.key("News.Example.org") == keys.key("clock:news.example.org")
    long_host = "a" * 1000
    assert clock.key(long_host) == clock.key("a" * 255)
    with pytest.raises(ValueError):
        clock.reserve("example.com", -1.0)
    with pytest.raises(ValueError):
        clock.block("example.com", float("inf"))


CHILD = """
import json, sys, time
import redis
from crawler.frontier.clock import HostClock
from crawler.frontier.connection import FrontierKeys

url, prefix = sys.argv[1:3]
workers, bursts, each, interval = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
client = redis.Redis.from_url(url)
clock = HostClock(client, FrontierKeys(prefix))
barrier = FrontierKeys(prefix).key("test:barrier")
client.incr(barrier)
deadline = time.time() + 20
while int(client.get(barrier)) < workers and time.time() < deadline:  # every worker starts together
    time.sleep(0.002)
for _ in range(bursts):  # as fast as it can: only atomic reservations keep every one of them
    clock.reserve("burst.example", 0.001)
sent = []
for _ in range(each):
    time.sleep(clock.reserve("shared.example", interval))
    sent.append(time.time())
print(json.dumps(sent))
"""


def test_three_worker_processes_share_one_host_clock(frontier_prefix, clock, client):
    workers, bursts, each, interval = 3, 200, 10, 0.05
    seconds, micros = client.time()
    burst_from = (seconds + 100) * 1_000_000 + micros  # a next slot far ahead: every burst slot follows it
    client.set(clock.key("burst.example"), burst_from, px=200_000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [REDIS_URL, frontier_prefix, str(workers), str(bursts), str(each), str(interval)]
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    sent: list[float] = []
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=30)
            assert proc.returncode == 0
            sent += json.loads(out)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # 600 reservations from three processes at once, none lost: the next slot moved by exactly 600 intervals
    assert int(client.get(clock.key("burst.example"))) == burst_from + workers * bursts * 1000

    sent.sort()
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert len(sent) == workers * each
    assert sent[-1] - sent[0] >= (workers * each - 1) * interval * 0.9  # uncoordinated: about a third of it
    # Slots are one interval apart; a send is late by however late its process wakes, which brings it nearer
    # the next one (gaps of 0.034 s were seen with a CPU benchmark running). Three uncoordinated workers
    # would leave about 20 of the 29 gaps under 0.035 s and a median near 0.017 s.
    assert statistics.median(gaps) >= interval - 0.005, sorted(gaps)[:8]
    assert sum(gap < interval - 0.015 for gap in gaps) <= 5, sorted(gaps)[:8]


def test_a_block_makes_every_client_wait_and_never_shortens_a_reservation(keys):
    one, two = redis.Redis.from_url(REDIS_URL), redis.Redis.from_url(REDIS_URL)
    try:
        first, second = HostClock(one, keys), HostClock(two, keys)
        started = time.monotonic()
        first.block("slow.example", 1.0)
        wait = second.reserve("slow.example", 0.1)
        assert 1.0 - (time.monotonic() - started) - EPS <= wait <= 1.0 + EPS
        assert second.reserve("slow.example", 0.1) >= 1.1 - (time.monotonic() - started) - EPS  # queued behind it
        assert second.reserve("fast.example", 0.1) == 0.0  # other hosts go on

        started = time.monotonic()
        first.reserve("busy.example", 2.0)
        first.reserve("busy.example", 2.0)  # next slot: 4 s from now
        second.block("busy.example", 0.5)  # shorter: changes nothing
        assert second.reserve("busy.example", 0.0) >= 4.0 - (time.monotonic() - started) - EPS
        second.block("busy.example", 6.0)  # longer: pushes the next slot out
        assert first.reserve("busy.example", 0.0) >= 6.0 - (time.monotonic() - started) - EPS
    finally:
        one.close()
        two.close()


def test_clock_keys_expire_shortly_after_their_time(clock, client):
    clock.reserve("example.com", 2.0)
    ttl = client.pttl(clock.key("example.com"))
    assert 2000 - 50 <= ttl <= 2000 + GRACE_MS
    clock.block("example.com", 5.0)
    assert 5000 - 50 <= client.pttl(clock.key("example.com")) <= 5000 + GRACE_MS

    started = time.monotonic()
    clock.reserve("brief.example", 0.1)
    while client.exists(clock.key("brief.example")) and time.monotonic() - started < 3.0:
        time.sleep(0.05)
    assert not client.exists(clock.key("brief.example"))  # gone within interval + grace
    assert time.monotonic() - started >= 0.1 + GRACE_MS / 1000 - 0.05


def _crawler(keys: FrontierKeys | None, **settings: Any):
    """A real crawler of the shared frontier with `keys` (none: a crawl of one process)."""
    frontier = {} if keys is None else {"NEWSWIRE_FRONTIER": REDIS_URL, "NEWSWIRE_FRONTIER_PREFIX": keys.prefix}
    return get_crawler(settings_dict={**frontier, **settings})


def _timed(middleware: SharedPoliteness, *urls: str) -> list[float]:
    """Seconds each process_request took, called one after another in one asyncio event loop."""

    async def run() -> list[float]:
        took = []
        for url in urls:
            started = time.monotonic()
            assert await middleware.process_request(Request(url)) is None
            took.append(time.monotonic() - started)
        return took

    return asyncio.run(run())


def test_the_middleware_needs_a_shared_frontier():
    with pytest.raises(NotConfigured, match="no shared frontier"):
        SharedPoliteness.from_crawler(_crawler(None))


def test_the_middleware_spaces_requests_to_a_host_by_download_delay(keys):
    middleware = SharedPoliteness.from_crawler(_crawler(keys, DOWNLOAD_DELAY=0.3))
    first, second = _timed(middleware, "http://example.com/a", "http://example.com/b")
    assert first < 0.1 + SLACK
    assert first + second >= 0.3 - EPS  # the second waited for its slot, 0.3 s after the first
    assert second <= 0.3 + SLACK
    assert _timed(middleware, "http://elsewhere.example/")[0] < 0.1 + SLACK


def test_a_request_woken_late_takes_the_next_slot_instead_of_bunching(keys, monkeypatch):
    """A busy reactor wakes a waiting request late: sent then, it would land in the next worker's slot (two
    requests bunched at the host, as the three-process test saw); it takes the next free slot instead. And this
    worker's own download slot does not delay it a second time."""
    crawler = _crawler(keys, DOWNLOAD_DELAY=0.3)
    middleware = SharedPoliteness.from_crawler(crawler)
    local = SimpleNamespace(delay=0.3, lastseen=time.time())  # this worker sent to the host just now
    crawler.engine = SimpleNamespace(
        downloader=SimpleNamespace(slots={"example.com": local}, get_slot_key=lambda request: "example.com")
    )
    oversleep = [0.25]  # the first wait ends 0.25 s late

    async def late_sleep(seconds: float) -> None:
        await asyncio.sleep(seconds + (oversleep.pop() if oversleep else 0.0))

    monkeypatch.setattr(clock_module, "sleep", late_sleep)
    first, second = _timed(middleware, "http://example.com/a", "http://example.com/b")
    # the second's slot was at 0.3; woken at 0.55, it took the next one, at 0.6 (not sent at 0.55, bunched)
    assert first + second >= 0.6 - EPS and second <= 0.6 + SLACK
    assert crawler.stats.get_value("frontier/host_slot_missed") == 1
    assert local.lastseen == 0.0  # the shared clock spaced it: Scrapy's slot sends it at once


def test_the_middleware_takes_the_larger_slot_delay_and_crawl_delay(keys):
    crawler = _crawler(keys, DOWNLOAD_DELAY=0.1)
    middleware = SharedPoliteness.from_crawler(crawler)
    slots = {"throttled.example": SimpleNamespace(delay=0.5)}  # AutoThrottle raised this slot's delay
    slot_key = lambda request: request.meta.get("download_slot") or urlparse_cached(request).hostname  # noqa: E731
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots=slots, get_slot_key=slot_key))
    assert middleware.interval(Request("http://throttled.example/"), "throttled.example") == 0.5
    first, second = _timed(middleware, "http://throttled.example/a", "http://throttled.example/b")
    assert first + second >= 0.5 - EPS
    assert second <= 0.5 + SLACK

    robots = ProtegoRobotParser.from_crawler(crawler, b"User-agent: *\nCrawl-delay: 0.4\n")
    crawler.signals.send_catch_log(signals.robots_parsed, robotparser=robots, request=Request("http://polite.example/"))
    assert middleware.crawl_delays == {"polite.example": 0.4}
    first, second = _timed(middleware, "http://polite.example/a", "http://polite.example/b")
    assert first + second >= 0.4 - EPS
    assert second <= 0.4 + SLACK


def test_a_429_with_retry_after_blocks_the_host_for_every_worker(keys, clock):
    middleware = SharedPoliteness.from_crawler(_crawler(keys, DOWNLOAD_DELAY=0.0))
    request = Request("http://busy.example/story")
    response = Response(request.url, status=429, headers={"Retry-After": "2"}, request=request)
    started = time.monotonic()
    assert middleware.process_response(request, response) is response
    wait = clock.reserve("busy.example", 0.0)
    assert 2.0 - (time.monotonic() - started) - EPS <= wait <= 2.0 + EPS

    ahead = formatdate(time.time() + 3, usegmt=True)  # an HTTP date: whole seconds
    request = Request("http://dated.example/")
    middleware.process_response(request, Response(request.url, status=503, headers={"Retry-After": ahead}))
    assert 1.5 <= clock.reserve("dated.example", 0.0) <= 3.0 + EPS

    for status, headers in [(200, {"Retry-After": "5"}), (429, {})]:
        request = Request(f"http://fine{status}.example/")
        middleware.process_response(request, Response(request.url, status=status, headers=headers))
        assert clock.reserve(f"fine{status}.example", 0.0) == 0.0


def test_waits_and_blocks_are_capped(keys, clock):
    settings = {"DOWNLOAD_DELAY": 0.0, "NEWSWIRE_RETRY_AFTER_MAX": 1.0, "NEWSWIRE_FRONTIER_MAX_WAIT": 0.2}
    middleware = SharedPoliteness.from_crawler(_crawler(keys, **settings))
    request = Request("http://greedy.example/")
    middleware.process_response(request, Response(request.url, status=429, headers={"Retry-After": "100"}))
    assert 0.9 <= clock.reserve("greedy.example", 0.0) <= 1.0 + EPS  # NEWSWIRE_RETRY_AFTER_MAX

    started = time.monotonic()
    clock.block("stuck.example", 3.0)
    later = asyncio.run(middleware.process_request(Request("http://stuck.example/")))
    assert time.monotonic() - started < SLACK  # no wait in a download slot: back to the frontier…
    assert later is not None and later.dont_filter and later.url == "http://stuck.example/"
    assert 0.2 - EPS <= later.meta[NOT_BEFORE] - time.time() <= 0.2 + EPS  # …asking again after the cap
    assert clock.reserve("stuck.example", 0.0) >= 3.0 - (time.monotonic() - started) - EPS  # the block stays


def test_a_request_that_took_its_slot_before_a_429_is_stopped_by_it_too(keys, clock):
    """Slots are taken ahead (one interval apart): a request already waiting for its slot when another worker's
    request is answered 429 must not go out at its slot, but wait in the frontier until the block ends."""
    middleware = SharedPoliteness.from_crawler(_crawler(keys, DOWNLOAD_DELAY=0.6))
    clock.reserve("queue.example", 0.6)  # someone else's slot now: ours is 0.6 s away
    waiting = threading.Timer(0.2, clock.block, args=("queue.example", 3.0))  # the 429 comes meanwhile
    waiting.start()
    started = time.monotonic()
    later = asyncio.run(middleware.process_request(Request("http://queue.example/story")))
    waiting.join()
    assert 0.5 <= time.monotonic() - started < 0.6 + SLACK  # it waited for its slot…
    assert later is not None and later.dont_filter  # …then went back to the frontier, not to the host
    assert 2.0 <= later.meta[NOT_BEFORE] - time.time() <= 3.0 + EPS
    assert 2.0 <= clock.blocked_for("queue.example") <= 3.0 and clock.blocked_for("calm.example") == 0.0


def test_a_blocked_host_sends_its_requests_back_to_the_frontier_until_its_time(keys, clock):
    """A Retry-After of 30 s must not hold a download slot for 30 s: the request returns to the frontier's
    delayed set with its time, and takes no slot on the clock meanwhile."""
    middleware = SharedPoliteness.from_crawler(_crawler(keys, DOWNLOAD_DELAY=0.0))
    clock.block("throttled.example", 30.0)
    started = time.monotonic()
    later = asyncio.run(middleware.process_request(Request("http://throttled.example/story")))
    assert time.monotonic() - started < SLACK
    assert later is not None and 29 <= later.meta[NOT_BEFORE] - time.time() <= 30 + EPS
    assert middleware.crawler.stats.get_value("frontier/deferred_by_host_clock") == 1
    assert _timed(middleware, "http://calm.example/")[0] < SLACK  # other hosts go on


def test_the_middleware_sends_on_when_redis_is_unreachable(keys, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    down = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    crawler = _crawler(keys, DOWNLOAD_DELAY=5.0)
    middleware = SharedPoliteness(crawler, HostClock(down, keys), max_wait=300.0, retry_after_max=600.0)
    with caplog.at_level(logging.WARNING, logger="crawler.frontier.clock"):
        assert _timed(middleware, "http://example.com/")[0] < 0.5 + SLACK
        request = Request("http://example.com/")
        response = Response(request.url, status=429, headers={"Retry-After": "2"})
        assert middleware.process_response(request, response) is response
    assert sum("host clock unreachable" in r.getMessage() for r in caplog.records) == 2
    down.close()
