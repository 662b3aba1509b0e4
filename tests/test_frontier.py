"""The shared frontier's parts on the machine's real Redis: leased requests (a worker killed with kill -9
loses nothing), requests as JSON (never pickle), fingerprints that expire."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import redis
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from crawler.frontier.connection import FrontierKeys, FrontierUnavailable, connect
from crawler.frontier.dupefilter import ExpiringDupeFilter
from crawler.frontier.leases import LeasedQueue
from crawler.frontier.serializer import MAX_PAYLOAD_BYTES, UnqueueableRequest, dumps, loads
from tests.support.db import REDIS_URL
from tests.support.paths import PROJECT


@pytest.fixture
def client(frontier_prefix):
    connection = redis.Redis.from_url(REDIS_URL)
    yield connection
    connection.close()


def test_requests_come_out_by_priority_then_hosts_take_turns(client, frontier_prefix):
    """A sitemap lists one host's pages in a row; the frontier gives them out by priority, then host by host
    in turn (in the order each host's came), so no worker waits behind one host's politeness delay."""
    queue = LeasedQueue(client, FrontierKeys(frontier_prefix))
    pushed = [(b"a1", "a"), (b"a2", "a"), (b"a3", "a"), (b"urgent", "c"), (b"b1", "b"), (b"b2", "b"), (b"later", "b")]
    for payload, host in pushed:
        queue.push(payload, 5 if payload == b"urgent" else 0, delay=0.4 if payload == b"later" else 0.0, host=host)
    order = [lease.payload for lease in iter(lambda: queue.lease("w1"), None)]
    assert order[0] == b"urgent" and len(order) == 6  # "later" is not due yet
    assert [set(order[1:3]), set(order[3:5]), order[5:]] == [{b"a1", b"b1"}, {b"a2", b"b2"}, [b"a3"]]
    assert queue.sizes().delayed == 1 and queue.sizes().leased == 6
    time.sleep(0.45)
    due = queue.lease("w1")
    assert due is not None and due.payload == b"later"


def test_a_worker_killed_with_sigkill_loses_nothing_its_leases_go_back_to_the_queue(client, frontier_prefix):
    """A worker leases three requests and dies with kill -9 before acking any: once the leases expire, the
    next worker to ask for work gets all three back; the one it had acked is not fetched again."""
    keys = FrontierKeys(frontier_prefix)
    queue = LeasedQueue(client, keys, lease_seconds=0.5)
    for n in range(4):
        queue.push(f"page-{n}".encode())
    script = (
        "import sys, time, redis\n"
        "from crawler.frontier.connection import FrontierKeys\n"
        "from crawler.frontier.leases import LeasedQueue\n"
        f"queue = LeasedQueue(redis.Redis.from_url({REDIS_URL!r}), FrontierKeys({frontier_prefix!r}), "
        "lease_seconds=0.5)\n"
        "leases = [queue.lease('doomed') for _ in range(4)]\n"
        "queue.ack(leases[0])\n"
        "print(' '.join(lease.payload.decode() for lease in leases[1:]), flush=True)\n"
        "while True:\n"
        "    queue.extend(leases[1:]); time.sleep(0.1)  # a live worker's heartbeat keeps its leases\n"
    )
    doomed = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=PROJECT)
    try:
        held = doomed.stdout.readline().split()
        time.sleep(0.8)  # longer than a lease: the heartbeat kept them
        assert queue.lease("survivor") is None and queue.sizes().leased == 3
    finally:
        doomed.kill()
        doomed.wait(timeout=10)
        doomed.stdout.close()
    assert len(held) == 3
    time.sleep(0.6)  # the dead worker's leases expire
    recovered = [queue.lease("survivor") for _ in range(3)]
    assert sorted(lease.payload.decode() for lease in recovered if lease) == sorted(held)
    assert queue.requeued == 3 and queue.lease("survivor") is None
    assert all(queue.ack(lease) for lease in recovered if lease)
    assert queue.sizes() == type(queue.sizes())(0, 0, 0, 0)


def test_a_request_that_keeps_killing_workers_is_set_aside_after_max_tries(client, frontier_prefix):
    queue = LeasedQueue(client, FrontierKeys(frontier_prefix), lease_seconds=0.05, max_tries=2)
    queue.push(b"poison")
    queue.push(b"fine")
    for _ in range(2):  # leased, never acked: the worker "died" each time
        assert queue.lease("w") is not None and queue.lease("w") is not None
        time.sleep(0.08)
    assert queue.lease("w") is None  # both expired twice: set aside, none left to lease
    assert queue.dead == 2 and sorted(queue.dead_requests()) == [b"fine", b"poison"]
    assert queue.sizes().dead == 2


def test_a_stale_lease_cannot_ack_or_extend_what_another_worker_now_holds(client, frontier_prefix):
    queue = LeasedQueue(client, FrontierKeys(frontier_prefix), lease_seconds=0.05)
    queue.push(b"page")
    slow = queue.lease("slow")
    time.sleep(0.08)
    fast = queue.lease("fast")
    assert slow is not None and fast is not None and fast.payload == b"page"
    assert queue.extend([slow]) == 0 and not queue.ack(slow)  # the slow worker's token is stale
    assert queue.sizes().leased == 1
    assert queue.release(fast) and queue.sizes().queued == 1  # handed back, no try counted
    again = queue.lease("fast")
    assert again is not None and queue.ack(again) and queue.sizes().queued == 0


class _Spider(Spider):
    name = "frontier-test"

    def parse_article(self, response):
        return None


def test_requests_travel_as_json_and_what_json_cannot_carry_is_refused_when_queued():
    spider = _Spider()
    request = Request(
        "https://outlet.example/a?b=1",
        callback=spider.parse_article,
        errback=spider.parse_article,
        headers={"If-None-Match": '"v1"'},
        body=b"\x00\xff",
        meta={"newswire_outlet": "outlet", "handle_httpstatus_list": [304], "not_before": 1.5},
        priority=7,
        dont_filter=True,
    )
    payload = dumps(request, spider)
    assert payload.startswith(b"{") and b"pickle" not in payload
    back = loads(payload, spider)
    assert (back.url, back.callback, back.errback, back.body, back.priority, back.dont_filter) == (
        request.url,
        spider.parse_article,
        spider.parse_article,
        b"\x00\xff",
        7,
        True,
    )
    assert back.headers.get("If-None-Match") == b'"v1"' and back.meta == request.meta
    with pytest.raises(UnqueueableRequest, match=r"outlet\.example"):
        dumps(Request("https://outlet.example/x", callback=lambda r: None), spider)  # not a spider method
    with pytest.raises(UnqueueableRequest, match="set cannot be queued"):
        dumps(Request("https://outlet.example/x", meta={"tags": {"a"}}), spider)


def test_what_redis_holds_is_not_trusted_when_read_back():
    """A request planted in Redis cannot name a class to import, call a spider attribute that is not one of
    its own methods, or be arbitrarily large."""
    spider = _Spider()
    planted = json.loads(dumps(Request("https://outlet.example/a", callback=spider.parse_article), spider))
    assert type(loads(json.dumps({**planted, "_class": "os.system"}).encode(), spider)) is Request
    for callback in ("start", "close", "__init__", "crawler"):
        with pytest.raises(UnqueueableRequest, match="not a method of the spider"):
            loads(json.dumps({**planted, "callback": callback}).encode(), spider)
    with pytest.raises(UnqueueableRequest, match="bytes, over"):
        loads(b" " * (MAX_PAYLOAD_BYTES + 1), spider)


def test_a_fingerprint_is_seen_by_every_worker_until_it_expires(client, frontier_prefix):
    """An article page is seen by every worker for the story window, across crawls; a listing once per crawl.
    The fingerprints live in sets that expire (a day's for articles, a crawl's for listings)."""
    settings = {"NEWSWIRE_FRONTIER": REDIS_URL, "NEWSWIRE_FRONTIER_PREFIX": frontier_prefix}
    one, two = (ExpiringDupeFilter.from_crawler(get_crawler(settings_dict=settings)) for _ in range(2))
    listing = Request("https://outlet.example/feed.xml")
    article = Request("https://outlet.example/2026/story?utm_source=x", cb_kwargs={"hints": None})
    assert not one.request_seen(article) and two.request_seen(article)  # another worker saw it first
    assert not one.request_seen(listing) and two.request_seen(listing)
    today = int(time.time() // 86400)
    assert 7 * 86400 < client.ttl(f"{one.prefix}{today}") <= 8 * 86400  # a day's set outlives the window by a day
    assert 0 < client.ttl(f"{one.prefix}crawl:0") <= 300
    assert one.buckets == 7 and client.scard(f"{one.prefix}{today}") == 1  # 16 bytes a fingerprint
    ExpiringDupeFilter.new_crawl(client, FrontierKeys(frontier_prefix))
    time.sleep(1.1)  # the workers trust the crawl number they read for a second
    assert not two.request_seen(listing)  # the next crawl reads the listing again…
    assert one.request_seen(article)  # …but not the article
    client.rename(f"{one.prefix}{today}", f"{one.prefix}{today - 6}")  # written six days ago: still seen
    assert two.request_seen(article)
    client.rename(f"{one.prefix}{today - 6}", f"{one.prefix}{today - 7}")  # a week ago: past the window
    assert not two.request_seen(article)
    one.forget(article)
    assert not two.request_seen(article)


def test_an_unreachable_or_malformed_frontier_is_one_clear_error():
    with pytest.raises(FrontierUnavailable, match="redis:// URL"):
        connect("http://127.0.0.1:6379/0")
    with pytest.raises(FrontierUnavailable, match="does not answer"):
        connect("redis://127.0.0.1:1/0")


def test_the_planners_options_and_counts_reach_every_process_of_the_crawl(client, frontier_prefix):
    """What one crawl shares beyond its requests: the planner's --limit and --depth, the per-outlet article
    count against the limit, cited outlets followed once, and the outlets' counts tallied across processes."""
    from crawler.coordination import CrawlOptions
    from crawler.frontier.coordination import SharedCoordination

    planner = SharedCoordination(client, FrontierKeys(frontier_prefix))
    worker = SharedCoordination(client, FrontierKeys(frontier_prefix), plans=False)
    assert planner.records_run and not worker.records_run and not worker.plans
    planner.record_run(7)
    planner.new_crawl(CrawlOptions(limit=2, follow_depth=1), planned={"maghreb"})
    assert worker.options(CrawlOptions(100, 0)) == CrawlOptions(2, 1) and worker.run_id() == 7
    assert [worker.within_limit("wire", 2), planner.within_limit("wire", 2), worker.within_limit("wire", 2)] == [
        True,
        True,
        False,
    ]
    assert not worker.first_to_follow("maghreb")  # the planner crawls it anyway
    assert worker.first_to_follow("reuters") and not planner.first_to_follow("reuters")
    planner.tally("p:1:a", {"newswire/by_outlet/wire/requests": 3, "newswire/by_outlet/wire/poll_hint": 900})
    worker.tally("w:2:b", {"newswire/by_outlet/wire/requests": 2, "newswire/by_outlet/wire/poll_hint": 600})
    worker.tally(
        "w:2:b",
        {
            "newswire/by_outlet/wire/requests": 5,
            "newswire/by_outlet/wire/last_error": "http_404: https://w.example/x",
            "newswire/new": 4,
            "response_received_count": 6,
            "log_count/INFO": 9,  # not one of a run's counts
        },
    )  # a later call adds only what is new: 3 more requests
    assert planner.outlet_counts() == {
        "newswire/by_outlet/wire/requests": 8,
        "newswire/by_outlet/wire/poll_hint": 600,
        "newswire/by_outlet/wire/last_error": "http_404: https://w.example/x",
    }
    assert planner.counts_by_worker() == {
        "p:1:a": {"newswire/by_outlet/wire/requests": 3, "newswire/by_outlet/wire/poll_hint": 900},
        "w:2:b": {
            "newswire/by_outlet/wire/requests": 5,
            "newswire/by_outlet/wire/poll_hint": 600,
            "newswire/by_outlet/wire/last_error": "http_404: https://w.example/x",
            "newswire/new": 4,
            "response_received_count": 6,
        },
    }
    assert planner.run_counts({}, "finished").by_worker == planner.counts_by_worker()
    planner.new_crawl(CrawlOptions(limit=5, follow_depth=0), planned=set())  # the next crawl starts from nothing
    assert planner.outlet_counts() == {} and planner.within_limit("wire", 5) and worker.first_to_follow("reuters")


class _Site(Spider):
    name = "site"

    def parse(self, response):  # pragma: no cover - never fetched here
        return None


def test_a_retry_queued_while_its_ack_fails_is_acked_once_redis_answers(client, frontier_prefix, monkeypatch):
    """A retry (or redirect) of a leased request is queued, then the old lease acked; when that ack meets a
    Redis failure, the scheduler must not raise into Scrapy, and must not keep extending the old lease: it is
    acked by the next heartbeat once Redis answers."""
    from crawler.frontier.scheduler import FrontierScheduler
    from crawler.frontier.setup import frontier_settings

    settings = {
        **frontier_settings(REDIS_URL, plans=False, stay=False),
        "NEWSWIRE_FRONTIER_PREFIX": frontier_prefix,
        "EXTENSIONS": {"crawler.coordination.CoordinationKeeper": 0},
    }
    crawler = get_crawler(_Site, settings)
    crawler.spider = spider = _Site()
    scheduler = FrontierScheduler.from_crawler(crawler)
    scheduler.spider = spider
    scheduler.roster.join()
    assert scheduler.enqueue_request(Request("https://a.example/story", callback=spider.parse))
    leased = scheduler.next_request()
    assert leased is not None and len(scheduler.held) == 1
    retry = leased.replace(dont_filter=True)  # carries the lease of the request it retries

    def redis_down(*args, **kwargs):
        raise redis.ConnectionError("connection refused")

    monkeypatch.setattr(scheduler.queue, "ack", redis_down)
    assert scheduler.enqueue_request(retry) is True  # queued; no exception into Scrapy
    assert scheduler.held == {} and len(scheduler.unacked) == 1
    monkeypatch.undo()
    scheduler.beat()
    sizes = scheduler.queue.sizes()
    assert scheduler.unacked == {} and (sizes.queued, sizes.leased) == (1, 0)  # the retry waits; the old is gone


def test_counts_a_failed_merge_did_not_deliver_are_sent_again(client, frontier_prefix, monkeypatch):
    from crawler.coordination import CrawlOptions
    from crawler.frontier.coordination import SharedCoordination

    shared = SharedCoordination(client, FrontierKeys(frontier_prefix))
    shared.record_run(1)
    shared.new_crawl(CrawlOptions(limit=5, follow_depth=0), planned=set())
    shared.tally("w:1:a", {"newswire/new": 2})
    merge = shared._merge

    def redis_down(*args, **kwargs):
        raise redis.ConnectionError("connection refused")

    monkeypatch.setattr(shared, "_merge", redis_down)
    with pytest.raises(redis.ConnectionError):
        shared.tally("w:1:a", {"newswire/new": 5})
    monkeypatch.setattr(shared, "_merge", merge)
    shared.tally("w:1:a", {"newswire/new": 6})
    assert shared.counts_by_worker() == {"w:1:a": {"newswire/new": 6}}  # not 3: the failed 3 came again
