"""The shared frontier's parts on the machine's real Redis: leased requests (a worker killed with kill -9
loses nothing), requests as JSON (never pickle), fingerprints that expire."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import pytest
import redis
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from crawler.extract.record import DiscoveryHints
from crawler.frontier.connection import FrontierKeys, FrontierUnavailable, connect
from crawler.frontier.dupefilter import ExpiringDupeFilter
from crawler.frontier.leases import LeasedQueue
from crawler.frontier.readback import address_refusal, loads, read_back
from crawler.frontier.serializer import MAX_PAYLOAD_BYTES, RefusedRequest, UnqueueableRequest, dumps
from tests.support.db import REDIS_URL
from tests.support.frontier import frontier_scheduler
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

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.registry = {"outlet": None}  # the slugs a request's outlet may name
        self.registry_origins = {("http", "127.0.0.1", 8080)}  # what the registry vouches for
        self.failures = []

    def parse_article(self, response, hints=None, follow_depth=0, listing=None):
        return None

    def on_error(self, failure):
        self.failures.append(failure)

    def record_error(self, *args):  # a method of its own that is no callback
        return None


# what the crawl itself writes on a request it queues: the spiders' meta, and Scrapy's redirect/retry/depth counts
CRAWL_META = {
    "outlet": "outlet",
    "conditional": True,
    "handle_httpstatus_list": [304],
    "redirect_urls": ["https://outlet.example/old"],
    "redirect_times": 1,
    "redirect_ttl": 19,
    "redirect_reasons": [301],
    "retry_times": 1,
    "depth": 2,
}


def test_what_the_crawl_writes_travels_as_json_and_what_a_worker_would_refuse_is_refused_when_queued():
    spider = _Spider()
    hints = DiscoveryHints("feed", "A title", "Mon, 07 Dec 2026 10:00:00 GMT")
    request = Request(
        "https://outlet.example/a?b=1",
        callback=spider.parse_article,
        errback=spider.on_error,
        headers={"Referer": "https://outlet.example/feed.xml"},
        meta=CRAWL_META,
        cb_kwargs={"hints": hints, "follow_depth": 1, "listing": "https://outlet.example/feed.xml"},
        priority=7,
        dont_filter=True,
    )
    payload = dumps(request, spider)
    assert payload.startswith(b"{") and b"pickle" not in payload
    back = loads(payload, spider)
    assert (back.url, back.callback, back.errback, back.priority, back.dont_filter) == (
        request.url,
        spider.parse_article,
        spider.on_error,
        7,
        True,
    )
    assert back.meta == CRAWL_META and back.cb_kwargs == request.cb_kwargs
    assert back.headers.get("Referer") == b"https://outlet.example/feed.xml"
    with pytest.raises(UnqueueableRequest, match=r"outlet\.example"):
        dumps(Request("https://outlet.example/x", callback=lambda r: None), spider)  # not a spider method
    with pytest.raises(UnqueueableRequest, match="set cannot be queued"):
        dumps(Request("https://outlet.example/x", callback=spider.parse_article, meta={"tags": {"a"}}), spider)
    with pytest.raises(UnqueueableRequest, match="not a parse method"):
        dumps(Request("https://outlet.example/x", callback=spider.record_error), spider)
    with pytest.raises(UnqueueableRequest, match="only a GET"):
        dumps(Request("https://outlet.example/x", callback=spider.parse_article, method="POST", body=b"x"), spider)


def _planted(spider, **changes):
    """A request as the crawl queues it, then changed the way whoever can write to Redis could change it."""
    request = Request(
        "https://outlet.example/a",
        callback=spider.parse_article,
        errback=spider.on_error,
        meta={"outlet": "outlet"},
        cb_kwargs={"hints": DiscoveryHints(), "listing": None},
    )
    data = json.loads(dumps(request, spider))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return json.dumps(data).encode()


# Scrapy's transport keys: each steers how and where a worker fetches, and the crawl never writes one
TRANSPORT_META = {
    "download_maxsize": 0,
    "download_warnsize": 0,
    "dont_obey_robotstxt": True,
    "handle_httpstatus_all": True,
    "bindaddress": ["10.0.0.1", 0],
    "dont_redirect": True,
    "dont_retry": True,
    "cookiejar": 1,
    "dont_merge_cookies": True,
    "max_retry_times": 1000,
    "download_fail_on_dataloss": False,
    "allow_offsite": True,
    "referrer_policy": "unsafe-url",
    "newswire_lease": ["1", "forged"],
}


def test_a_request_read_back_carries_only_what_the_crawl_writes():
    """Meta from Redis: an allow-list. A planted proxy (it made a worker fetch an internal address and store the
    answer as an outlet's article) and download_maxsize 0 (the 10 MiB cap gone) never come back, nor any other
    transport key; a download_timeout or proxy the crawl's own middlewares wrote is dropped quietly (set again
    by this worker), the rest is reported. Headers: Referer only."""
    spider = _Spider()
    quiet = {"proxy": "http://10.0.0.7:3128", "_auth_proxy": "http://10.0.0.7:3128", "download_timeout": 99999}
    payload = _planted(
        spider,
        meta={**CRAWL_META, **quiet, **TRANSPORT_META},
        headers={
            name: [{"__bytes__": base64.b64encode(b"x").decode()}]
            for name in ("Host", "Proxy-Authorization", "Referer")
        },
    )
    read = read_back(payload, spider, outlets=spider.registry)
    assert read.request.meta == CRAWL_META
    assert read.dropped == tuple(sorted(TRANSPORT_META))
    assert list(read.request.headers.keys()) == [b"Referer"]


@pytest.mark.parametrize(
    "changes",
    [
        {"callback": "start"},  # Scrapy's, or the spider's own but no callback
        {"callback": "close"},
        {"callback": "__init__"},
        {"callback": "crawler"},
        {"callback": "record_error"},
        {"errback": "parse_article"},  # an errback is an on_… method
        {"callback": None},
        {"method": "POST"},
        {"body": {"__bytes__": "eA=="}},
        {"cookies": {"session": "x"}},
        {"url": "file:///etc/passwd"},
        {"priority": 10**12},
        {"dont_filter": "yes"},
        {"meta": {"handle_httpstatus_list": [500]}},  # an error page would reach parse_article and be stored
        {"meta": {"outlet": "not-in-the-registry"}},
        {"meta": {"redirect_times": -5}},
        {"meta": {"conditional": "yes"}},
        {"cb_kwargs": {"follow_depth": -1000}},  # past the planner's --depth
        {"cb_kwargs": {"listing_depth": 10**9}},
        {"cb_kwargs": {"run_code": True}},
        {"cb_kwargs": {"hints": {"__record__": "DiscoveryHints", "fields": {"source": "x"}}}},
    ],
)
def test_a_request_the_crawl_would_never_queue_is_refused_when_read_back(changes):
    """A request planted in Redis cannot name a callback that is not one of the spider's own `parse…` methods,
    be anything but a plain GET, ask for statuses or depths the crawl never asks for, or name another outlet."""
    spider = _Spider()
    with pytest.raises(RefusedRequest):
        read_back(_planted(spider, **changes), spider, outlets=spider.registry)


def test_what_redis_holds_cannot_name_a_class_or_be_arbitrarily_large():
    spider = _Spider()
    planted = _planted(spider, _class="os.system")
    assert type(loads(planted, spider)) is Request
    with pytest.raises(UnqueueableRequest, match="bytes, over"):
        loads(b" " * (MAX_PAYLOAD_BYTES + 1), spider)


def test_the_address_guard_rule_applies_to_every_url_read_back():
    """Without a DNS lookup: an internal IP address or localhost is refused unless the registry vouches for its
    exact scheme, host and port (names are resolved by the guard itself before the request is sent)."""
    trusted = {("http", "127.0.0.1", 8080)}
    refused = [
        "http://127.0.0.1:8081/x",  # another port of a trusted host is another server
        "https://127.0.0.1:8080/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/",
        "http://10.1.2.3/",
        "http://localhost:8080/",
        "http://[::1]:8080/",
        "http://[fe80::1%25eth0]/",
        "http://127.0.0.1:99999/",
    ]
    for url in refused:
        assert address_refusal(url, trusted, allow_private=False), url
    for url in ("http://127.0.0.1:8080/news/1", "https://example.com/", "http://93.184.216.34/"):
        assert address_refusal(url, trusted, allow_private=False) is None, url
    assert address_refusal("http://10.1.2.3/", trusted, allow_private=True) is None


def test_the_scheduler_drops_and_counts_what_it_refuses_to_read_back(client, frontier_prefix):
    """Planted in the frontier: a request for the cloud metadata address (no registry origin), one naming a
    method that is no callback, and one with a proxy and no size cap. The worker gets only the third, without
    them; the first goes to its errback as the address guard's refusal would (so its listing settles), the
    second is an error of the run; both leave the frontier."""
    from crawler.failures import PrivateAddressRefused

    scheduler = frontier_scheduler(_Spider, REDIS_URL, frontier_prefix)
    spider = scheduler.spider
    scheduler.queue.push(_planted(spider, url="http://169.254.169.254/latest/meta-data/"), host="169.254.169.254")
    scheduler.queue.push(_planted(spider, callback="record_error"), host="outlet.example")
    scheduler.queue.push(_planted(spider, meta={"download_maxsize": 0, "proxy": "http://10.0.0.7:3128"}))
    request = scheduler.next_request()
    assert request is not None and request.url == "https://outlet.example/a"
    assert "download_maxsize" not in request.meta and "proxy" not in request.meta
    assert scheduler.next_request() is None
    stats = scheduler.crawler.stats.get_stats()
    assert (stats["frontier/refused/private_address"], stats["frontier/refused/not_allowed"]) == (1, 1)
    assert stats["frontier/meta_dropped"] == 1 and stats["newswire/errors/frontier_refused"] == 1
    (failure,) = spider.failures
    assert isinstance(failure.value, PrivateAddressRefused) and failure.request.url.startswith("http://169.254.")
    sizes = scheduler.queue.sizes()
    assert (sizes.queued, sizes.leased) == (0, 1)  # the refused two are gone; the third is this worker's


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


def test_an_articles_day_set_is_the_redis_servers_day_not_a_workers(client, frontier_prefix, monkeypatch):
    """Two workers whose clocks straddle midnight UTC, 20 s apart: the first (its clock 10 s past midnight)
    marks an article seen, the second (10 s before) must see it — the day set is chosen by the Redis server's
    clock (TIME), as every frontier time is, so the article is not queued twice."""
    from types import SimpleNamespace

    from crawler.frontier import dupefilter as module

    settings = {"NEWSWIRE_FRONTIER": REDIS_URL, "NEWSWIRE_FRONTIER_PREFIX": frontier_prefix}
    one, two = (ExpiringDupeFilter.from_crawler(get_crawler(settings_dict=settings)) for _ in range(2))
    article = Request("https://outlet.example/2026/12/story", cb_kwargs={"hints": None})
    midnight = (time.time() // 86400 + 1) * 86400
    server_days = {int(client.time()[0]) // 86400}
    monkeypatch.setattr(module, "time", SimpleNamespace(time=lambda: midnight + 10, monotonic=time.monotonic))
    assert not one.request_seen(article)
    monkeypatch.setattr(module, "time", SimpleNamespace(time=lambda: midnight - 10, monotonic=time.monotonic))
    assert two.request_seen(article)
    server_days.add(int(client.time()[0]) // 86400)
    fingerprint = one.fingerprinter.fingerprint(article)[:16]
    assert any(client.sismember(f"{one.prefix}{day}", fingerprint) for day in server_days)
    two.forget(article)  # forgotten from the server's day sets too
    assert not one.request_seen(article)


def test_an_unreachable_or_malformed_frontier_is_one_clear_error():
    with pytest.raises(FrontierUnavailable, match="redis:// URL"):
        connect("http://127.0.0.1:6379/0")
    with pytest.raises(FrontierUnavailable, match="does not answer"):
        connect("redis://127.0.0.1:1/0")


def test_the_planners_options_and_counts_reach_every_process_of_the_crawl(client, frontier_prefix):
    """What one crawl shares beyond its requests: the planner's --limit and --depth, the per-outlet article
    count against the limit, cited outlets followed once, and the outlets' counts tallied across processes."""
    from crawler.extensions.coordination import CrawlOptions
    from crawler.frontier.shared_coordination import SharedCoordination

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
    scheduler = frontier_scheduler(_Site, REDIS_URL, frontier_prefix)
    spider = scheduler.spider
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
    from crawler.extensions.coordination import CrawlOptions
    from crawler.frontier.shared_coordination import SharedCoordination

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
