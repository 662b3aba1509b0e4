"""The shared crawl's frontier as a hostile tester sees it (issue 25): a request planted in Redis cannot steer a
worker, a Redis at its maxmemory fails the crawl within a bound, and a frontier belongs to one database. Real
worker and planner processes against the machine's PostgreSQL and Redis, or a redis-server of the test's own."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from scrapy import Request, Spider
from scrapy.exceptions import CloseSpider, DontCloseSpider
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import ProgrammingError

from crawler.demo import NewsWeb, pages
from crawler.demo.server import NewsWebServer, Resource
from crawler.extract.record import DiscoveryHints
from crawler.frontier.connection import FrontierKeys
from crawler.frontier.leases import LeasedQueue, QueueSizes
from crawler.frontier.ownership import database_identity
from crawler.frontier.serializer import dumps
from storage.models import Article, CrawlRun
from tests.support.cli import FAST_CRAWL, run_newswire
from tests.support.db import PG_DATABASE, PG_URL, REDIS_URL, crawl_runs, postgres_absent, session_on
from tests.support.faultweb import story
from tests.support.frontier import frontier_scheduler
from tests.support.paths import PROJECT
from tests.support.private_redis import PrivateRedis

WAIT_SECONDS = 120


@pytest.fixture
def pg_url(pg_schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{pg_schema}"


@pytest.fixture
def other_pg_url() -> Iterator[str]:
    """A second database (a schema of its own) on the machine's PostgreSQL, dropped afterwards."""
    schema = f"nw_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # noqa: BLE001 - PostgreSQL absent: skipped like pg_schema
        postgres_absent(exc)
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _shared(command: str, registry: Path, db_url: str, frontier: str, prefix: str, *settings: str) -> list[str]:
    args = [sys.executable, "-m", "crawler", command, "--sources", str(registry), "--db", db_url, "--frontier"]
    args += [frontier, *FAST_CRAWL, "-s", f"NEWSWIRE_FRONTIER_PREFIX={prefix}", "-s", "NEWSWIRE_EXTRACT_WORKERS=0"]
    return args + [*settings] + (["--until-idle"] if command == "worker" else [])


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


# --- 6. a request planted in Redis --------------------------------------------------------------------------


class _Names(Spider):
    """Only its method names matter: they are what a queued request carries (NewsSpider's)."""

    name = "names"

    def parse_article(self, response):  # pragma: no cover - never called
        return None

    def on_error(self, failure):  # pragma: no cover - never called
        return None


class _Internal:
    """An internal server the worker must never reach: it answers anything (a proxy request too) with an
    article page, and records what it was asked."""

    def __init__(self) -> None:
        page = pages.wordpress_article(story("/x/", "Internal", "INTERNAL-SECRET"), "http://x", shortcode_in_body=False)
        asked: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                asked.append(self.path)
                body = page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.asked = asked
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _article_request(url: str, **meta: object) -> bytes:
    names = _Names()
    request = Request(
        url,
        callback=names.parse_article,
        errback=names.on_error,
        meta={"outlet": "wire", **meta},
        cb_kwargs={"hints": DiscoveryHints(), "follow_depth": 0, "listing": None},
        dont_filter=True,
    )
    return dumps(request, names)


def test_a_request_planted_in_redis_cannot_send_a_worker_through_a_proxy_or_past_the_size_cap(
    pg_url: str, frontier_prefix: str, tmp_path: Path
):
    """Planted in the frontier, as whoever can write to Redis could: an outlet's article with `meta.proxy` set to
    an internal server (a worker fetched through it and stored its answer as the outlet's article), an
    outlet's 200 KB page with `download_maxsize: 0` (the crawl's cap here: 40 KB), a request for the internal
    server itself, and one naming a method that is no callback. The worker fetches the article from the
    outlet, refuses the big page as too large, never reaches the internal server, and counts the two refusals."""
    server = NewsWebServer(["wire"])
    internal = _Internal()
    try:
        base = server.start()["wire"]
        real = story("/news/real/", "Real story", "OUTLET-TEXT")
        big = story("/news/big/", "Big story", "BIG-" + "x" * 200_000)
        server.sites["wire"].routes = {
            "/robots.txt": Resource(b"User-agent: *\nAllow: /\n", "text/plain"),
            "/feed.xml": pages.rss2_feed(base, "wire", []),
            real.path: pages.html_resource(pages.wordpress_article(real, base, shortcode_in_body=False)),
            big.path: pages.html_resource(pages.wordpress_article(big, base, shortcode_in_body=False)),
        }
        registry = tmp_path / "sources.toml"
        registry.write_text(f'[[outlet]]\nname = "wire"\nhomepage = "{base}/"\nfeeds = ["{base}/feed.xml"]\n')
        queue = LeasedQueue(redis.Redis.from_url(REDIS_URL), FrontierKeys(frontier_prefix))
        queue.push(_article_request(base + real.path, proxy=internal.url), host="127.0.0.1")
        queue.push(_article_request(base + big.path, download_maxsize=0, download_warnsize=0), host="127.0.0.1")
        queue.push(_article_request(internal.url + "/admin"), host="127.0.0.1")
        queue.push(_article_request(base + real.path).replace(b'"parse_article"', b'"follow_link"'))
        worker = subprocess.run(
            _shared("worker", registry, pg_url, REDIS_URL, frontier_prefix, "-s", "DOWNLOAD_MAXSIZE=40000"),
            capture_output=True,
            text=True,
            cwd=PROJECT,
            timeout=WAIT_SECONDS,
        )
        asked_internal = list(internal.asked)
    finally:
        internal.close()
        server.stop()
    assert worker.returncode == 1, worker.stderr  # partial: the refused request and the big page are errors
    assert asked_internal == [], asked_internal
    with session_on(pg_url) as session:
        stored = {a.canonical_url.removeprefix(base): a.text for a in session.scalars(select(Article))}
    assert list(stored) == ["/news/real/"] and "OUTLET-TEXT" in stored["/news/real/"], stored
    summary = worker.stdout
    assert "frontier_refused: 1" in summary and "too_large: 1" in summary, summary
    assert "dropped meta the crawl never writes: download_maxsize, download_warnsize" in worker.stderr
    assert "Traceback" not in worker.stderr
    assert queue.sizes() == QueueSizes(0, 0, 0, 0)


# --- 15. Redis at maxmemory ------------------------------------------------------------------------------


def test_a_full_redis_refuses_a_planner_and_a_worker_in_one_line_before_anything_is_queued(pg_url: str, tmp_path):
    """At its maxmemory (noeviction), Redis answers but refuses writes: a planner recorded a complete crawl with
    no articles and exit 0. Now each command says so in one line and exits 3; no run is recorded."""
    full = PrivateRedis(tmp_path, persistent=False, maxmemory=1)
    full.start()
    registry = tmp_path / "sources.toml"
    registry.write_text('[[outlet]]\nname = "A"\nhomepage = "http://127.0.0.1:1/"\n')
    try:
        for command in ("crawl", "worker"):
            result = subprocess.run(
                _shared(command, registry, pg_url, full.url, "full"),
                capture_output=True,
                text=True,
                cwd=PROJECT,
                timeout=WAIT_SECONDS,
            )
            assert result.returncode == 3, (command, result.stdout, result.stderr)
            (line,) = _error_lines(result.stderr)
            assert line.startswith("newswire: error: the frontier refuses writes") and "maxmemory" in line, line
        assert full.sizes("full") == QueueSizes(0, 0, 0, 0)
    finally:
        full.kill()
    engine = create_engine(pg_url)
    try:
        assert inspect(engine).get_table_names() == []  # refused before the database was even migrated
    finally:
        engine.dispose()


class _Site(Spider):
    name = "site"

    def parse(self, response):  # pragma: no cover - never fetched here
        return None


def test_refused_writes_are_not_cleared_by_reads_and_end_the_crawl_failed(tmp_path):
    """A full Redis still answers reads, and still leases (the lease script deletes before it adds): each lease
    had ended the "outage", so a crawl that could ack nothing kept itself open forever. Refused writes now last
    until a write succeeds, and once they have lasted NEWSWIRE_FRONTIER_MAX_OUTAGE the scheduler leases
    nothing more and the idle crawl closes with `frontier_full`."""

    server = PrivateRedis(tmp_path, persistent=False)
    server.start()
    try:
        scheduler = frontier_scheduler(_Site, server.url, "oom", NEWSWIRE_FRONTIER_MAX_OUTAGE=0.5)
        spider = scheduler.spider
        for n in range(3):
            assert scheduler.enqueue_request(Request(f"https://a.example/{n}", callback=spider.parse))
        server.set_maxmemory(1)
        assert not scheduler.enqueue_request(Request("https://a.example/new", callback=spider.parse))
        assert scheduler.health.refused_since is not None
        assert scheduler.next_request() is not None  # a full Redis still leases…
        assert scheduler.health.refused_since is not None  # …which is no write Redis accepted
        scheduler.beat()  # the heartbeat's write is refused too
        with pytest.raises(DontCloseSpider):
            scheduler._spider_idle(spider)
        time.sleep(0.6)
        assert scheduler.next_request() is None and not scheduler.has_pending_requests()
        with pytest.raises(CloseSpider) as closed:
            scheduler._spider_idle(spider)
        assert closed.value.reason == "frontier_full"
        assert scheduler.crawler.stats.get_value("newswire/errors/frontier_full") == 1  # the request it could not queue
        server.set_maxmemory(0)
        scheduler.beat()  # a write accepted again ends the spell
        assert scheduler.health.refused_since is None and scheduler.health.ended() is None
    finally:
        server.kill()


def _article_count(db_url: str) -> int:
    try:
        with session_on(db_url) as session:
            return len(session.scalars(select(Article.id)).all())
    except ProgrammingError:
        return 0


def test_a_redis_that_fills_up_mid_crawl_ends_the_crawl_failed_within_the_outage_bound(pg_url: str, tmp_path):
    """A planner crawls the local web through a redis-server of its own; once it stored 3 articles, Redis's
    maxmemory drops under what it holds. The crawl had looped forever (NEWSWIRE_FRONTIER_MAX_OUTAGE never
    fired); now it ends within the bound (3 s here, plus the requests in flight): run failed, finish reason
    `frontier_full`, exit 3, no traceback, what it stored kept and counted."""
    server = PrivateRedis(tmp_path, persistent=False)
    server.start()
    planner: subprocess.Popen[str] | None = None
    try:
        with NewsWeb() as web:
            registry = web.write_registry(tmp_path / "sources.toml")
            slow = ("-s", "DOWNLOAD_DELAY=0.3", "-s", "CONCURRENT_REQUESTS=1", "-s", "NEWSWIRE_FRONTIER_MAX_OUTAGE=3")
            command = _shared("crawl", registry, pg_url, server.url, "fills", *slow)
            planner = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 60
            while _article_count(pg_url) < 3 and time.monotonic() < deadline and planner.poll() is None:
                time.sleep(0.05)
            assert planner.poll() is None, "the crawl ended before Redis filled up"
            server.set_maxmemory(1)
            full_at = time.monotonic()
            out, err = planner.communicate(timeout=60)
            ended_after = time.monotonic() - full_at
    finally:
        if planner is not None and planner.poll() is None:
            planner.kill()
            planner.communicate()
        server.kill()
    assert planner.returncode == 3, (out, err)
    assert ended_after < 30, ended_after
    assert "frontier refuses writes" in err and "Traceback" not in err, err
    (run,) = crawl_runs(pg_url)
    assert (run.status, run.finish_reason) == ("failed", "frontier_full")
    assert _article_count(pg_url) >= 3
    assert run.articles_new == _article_count(pg_url)  # its counts after Redis refused them too (none in the tally)


# --- 16. one database per frontier ----------------------------------------------------------------------


def test_a_database_has_one_stable_identity_and_another_schema_is_another_database(pg_url: str, other_pg_url: str):
    first = database_identity(pg_url)
    assert first == database_identity(pg_url)  # stable across connections
    assert first != database_identity(other_pg_url)
    cluster, database, schema = first.split("/")
    assert cluster and database.startswith(f"{PG_DATABASE}#") and schema.startswith(pg_url.rsplit("%3D", 1)[1] + "#")


def test_a_planner_or_worker_of_another_database_is_refused_before_it_queues_anything(
    pg_url: str, other_pg_url: str, frontier_prefix: str, tmp_path: Path
):
    """Two planners on one prefix with different databases merged their counts (one stored 54 of its 150
    articles). The first process to use a frontier makes it its database's; a planner or worker of another
    database is refused in one line, exit 2, before it queues or migrates anything; the first database's
    processes go on using it."""
    registry = tmp_path / "sources.toml"
    registry.write_text('[[outlet]]\nname = "A"\nhomepage = "http://127.0.0.1:1/"\nfeeds = ["http://127.0.0.1:1/f"]\n')
    owner = run_newswire(*_shared("worker", registry, pg_url, REDIS_URL, frontier_prefix)[3:], timeout=WAIT_SECONDS)
    assert owner.returncode == 0, owner.stderr
    client = redis.Redis.from_url(REDIS_URL)
    keys = FrontierKeys(frontier_prefix)
    for command in ("crawl", "worker"):
        other = run_newswire(*_shared(command, registry, other_pg_url, REDIS_URL, frontier_prefix)[3:])
        assert other.returncode == 2, (command, other.stdout, other.stderr)
        (line,) = _error_lines(other.stderr)
        assert line.startswith("newswire: error: the frontier") and "belongs to another database" in line, line
        assert database_identity(pg_url) in line and database_identity(other_pg_url) in line
    assert LeasedQueue(client, keys).sizes() == QueueSizes(0, 0, 0, 0) and client.get(keys.key("crawl")) is None
    engine = create_engine(other_pg_url)
    try:
        assert inspect(engine).get_table_names() == []  # refused before its database was even migrated
    finally:
        engine.dispose()
    again = run_newswire(*_shared("crawl", registry, pg_url, REDIS_URL, frontier_prefix)[3:], timeout=WAIT_SECONDS)
    assert again.returncode in (1, 3), again.stderr  # the frontier's own database: crawled (its outlet is down)
    assert "belongs to another database" not in again.stderr
    with session_on(pg_url) as session:
        assert len(session.scalars(select(CrawlRun)).all()) == 1
    client.close()


def test_a_running_process_claims_a_redis_restarted_empty_and_stops_when_another_database_holds_it(
    frontier_prefix: str,
):
    """The identity is checked at every heartbeat, not only at start: a Redis restarted without persistence is
    claimed again at once by the processes still at work (so the next planner of another database is refused),
    and a process that finds its frontier another database's leases nothing more and ends (`frontier_foreign`)."""

    scheduler = frontier_scheduler(_Site, REDIS_URL, frontier_prefix, join=False, stay=True, database="db-a")
    spider = scheduler.spider
    client = redis.Redis.from_url(REDIS_URL)
    key = FrontierKeys(frontier_prefix).key("database")
    scheduler.beat()
    assert client.get(key) == b"db-a"
    client.delete(key)  # Redis restarted empty
    scheduler.beat()
    assert client.get(key) == b"db-a"
    assert scheduler.enqueue_request(Request("https://a.example/1", callback=spider.parse))
    client.set(key, "db-b")  # another database's planner holds it now
    scheduler.beat()
    assert scheduler.next_request() is None and not scheduler.has_pending_requests()
    with pytest.raises(CloseSpider) as closed:
        scheduler._spider_idle(spider)
    assert closed.value.reason == "frontier_foreign"
    client.close()


def test_the_identity_is_kept_under_the_frontier_prefix(pg_url: str, frontier_prefix: str):
    from crawler.frontier.ownership import ForeignFrontier, claim_frontier

    client = redis.Redis.from_url(REDIS_URL)
    keys = FrontierKeys(frontier_prefix)
    claim_frontier(client, keys, database_identity(pg_url))
    assert client.get(keys.key("database")) == database_identity(pg_url).encode()
    claim_frontier(client, keys, database_identity(pg_url))  # the same database: fine, any number of times
    with pytest.raises(ForeignFrontier, match=re.escape(keys.key("database"))):
        claim_frontier(client, keys, "another")
    client.close()
