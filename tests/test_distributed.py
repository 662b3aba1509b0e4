"""A shared crawl on the machine's real Redis and PostgreSQL: a planner and two workers, three processes,
against one process's crawl of the same local news web."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.exc import ProgrammingError

from crawler.demo import NewsWeb, pages
from crawler.demo.server import Fault, NewsWebServer, Resource
from crawler.frontier.connection import FrontierKeys
from crawler.frontier.leases import LeasedQueue, QueueSizes
from crawler.frontier.workers import WorkerRoster
from storage.models import Article, CrawlRun, Story
from tests.support.cli import FAST_CRAWL, newswire
from tests.support.db import PG_URL, REDIS_URL, crawl_runs, session_on
from tests.support.faultweb import send, story
from tests.support.newsweb import LocalWeb
from tests.support.private_redis import PrivateRedis

WAIT_SECONDS = 120  # every process of a shared crawl of the local web ends well within this


@pytest.fixture
def pg_url(pg_schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{pg_schema}"


def stored(db_url: str) -> tuple[dict[str, str], set[frozenset[str]], set[str]]:
    """What a crawl stored, by canonical URL: text hashes, stories (as sets of URLs), originals."""
    with session_on(db_url) as session:
        articles = session.scalars(select(Article)).all()
        by_id = {a.id: a.canonical_url for a in articles}
        stories: dict[int, set[str]] = {}
        for article in articles:
            stories.setdefault(article.story_id or -article.id, set()).add(article.canonical_url)
        originals = {by_id[s.original_article_id] for s in session.scalars(select(Story)) if s.original_article_id}
    return {a.canonical_url: a.text_hash for a in articles}, {frozenset(s) for s in stories.values()}, originals


def _shared(
    *args: str,
    db_url: str,
    registry: Path,
    prefix: str,
    cwd: Path,
    settings: tuple[str, ...] = (),
    frontier: str = REDIS_URL,
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "crawler", *args, "--sources", str(registry), "--db", db_url]
    command += ["--frontier", frontier, *FAST_CRAWL, "-s", f"NEWSWIRE_FRONTIER_PREFIX={prefix}"]
    # two requests at a time each, so that no process can lease the whole web at once; extraction in the
    # crawl process: three crawl processes are enough for two cores
    command += ["-s", "CONCURRENT_REQUESTS=2", "-s", "NEWSWIRE_EXTRACT_WORKERS=0", *settings]
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def one_process_crawl(web: NewsWeb, tmp_path: Path) -> tuple[Any, Path]:
    """What one process's crawl of the web stores (see `stored`), and a registry of the web for shared crawls."""
    (tmp_path / "single").mkdir()
    single = LocalWeb.beside(web, tmp_path / "single")
    assert single.crawl().returncode in (0, 1)
    return stored(single.db_url), web.write_registry(tmp_path / "sources.toml")


def _article_count(db_url: str) -> int:
    """Articles stored so far (0 before the first process made the tables)."""
    try:
        with session_on(db_url) as session:
            return len(session.scalars(select(Article.id)).all())
    except ProgrammingError:
        return 0


def _pages_fetched(output: str) -> int:
    found = re.search(r"(\d+) pages fetched", output)
    return int(found.group(1)) if found else -1


def test_a_planner_and_two_workers_store_what_one_process_stores_and_fetch_every_article_once(
    pg_url: str, frontier_prefix: str, tmp_path: Path
):
    """The workers run as services: started first, joined (the worker list shows them), stopped with SIGTERM
    once the planner's crawl is done. Every article page is fetched once across the three processes, and
    the store holds the same articles, texts, stories and originals as one process's crawl."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = FrontierKeys(frontier_prefix)
    roster = WorkerRoster(client, keys)
    with NewsWeb() as web:
        (tmp_path / "single").mkdir()
        single = LocalWeb.beside(web, tmp_path / "single")
        single_code = single.crawl().returncode
        expected = stored(single.db_url)
        mark = len(web.server.answers)
        single.crawl()  # its re-crawl: what the shared crawl's re-crawl must ask, and be answered
        recrawl = sorted((slug, path, status) for slug, path, status in web.server.answers_since(mark))
        mark = len(web.server.requests)
        registry = web.write_registry(tmp_path / "sources.toml")
        workers = [
            _shared("worker", db_url=pg_url, registry=registry, prefix=frontier_prefix, cwd=tmp_path) for _ in range(2)
        ]
        deadline = time.monotonic() + 60
        while len(roster.lines()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [line.state(time.time()) for line in roster.lines()] == ["working", "working"]
        planner = _shared("crawl", db_url=pg_url, registry=registry, prefix=frontier_prefix, cwd=tmp_path)
        planned = planner.communicate(timeout=WAIT_SECONDS)
        fetched = Counter((slug, path) for slug, _method, path in web.server.requests[mark:])
        again = len(web.server.answers)
        replanned = _shared("crawl", db_url=pg_url, registry=registry, prefix=frontier_prefix, cwd=tmp_path)
        second = replanned.communicate(timeout=WAIT_SECONDS)
        answers = web.server.answers_since(again)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=WAIT_SECONDS) for worker in workers]
        article_paths = {(slug, urlsplit(url).path) for slug, urls in web.article_urls().items() for url in urls}
    assert planner.returncode == single_code == 1, planned  # the web has a 404 and a broken feed
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert stored(pg_url) == expected
    # the outlets' polling state counts every process's work: no outlet looks unanswered
    report = json.loads(newswire("status", "--json", "--db", pg_url).stdout)
    assert all(o["last_success_at"] and o["consecutive_failures"] == 0 for o in report["outlets"]), report
    # a second crawl of the unchanged web, at once: the same requests and answers as one process's re-crawl —
    # only discovery requests, all 304 but the malformed feed's (it keeps no validators)
    assert " 0 new" in second[0], second
    robots = {(slug, status) for slug, path, status in answers if path == "/robots.txt"}  # each process reads it
    assert robots <= {(slug, 304) for slug, *_ in recrawl}
    assert sorted(a for a in answers if a[1] != "/robots.txt") == [a for a in recrawl if a[1] != "/robots.txt"], (
        sorted(answers),
        recrawl,
    )
    assert sum(status == 304 for *_, status in recrawl) >= 10
    assert {key: fetched[key] for key in article_paths} == dict.fromkeys(article_paths, 1)
    assert all(_pages_fetched(out) > 0 for out, _err in outputs), outputs  # each worker did its share
    # what the crawl itself queues comes back whole: no meta dropped, no request refused on reading it back
    for _out, err in [planned, second, *outputs]:
        assert "dropped meta" not in err and "refused a request read back" not in err, err
    assert LeasedQueue(client, keys).sizes() == QueueSizes(0, 0, 0, 0)
    assert [line.state(time.time()) for line in roster.lines()] == ["stopped"] * 4  # the two planners worked too
    # one run row per planned crawl, with every process's counts; every article points to the first one
    with session_on(pg_url) as session:
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        run_ids = {a.run_id for a in session.scalars(select(Article))}
    assert len(runs) == 2 and run_ids == {runs[0].id}, [(r.id, r.by_worker) for r in runs]
    first = runs[0]
    assert len(first.by_worker) == 3 and all(w["pages_fetched"] > 0 for w in first.by_worker.values()), first.by_worker
    assert sum(w["pages_fetched"] for w in first.by_worker.values()) == first.pages_fetched
    assert sum(w["articles_new"] for w in first.by_worker.values()) == first.articles_new == len(expected[0])
    assert {w["pid"] for w in first.by_worker.values()} == {planner.pid, *(worker.pid for worker in workers)}
    assert first.status == "partial" and first.errors > 0  # the web's 404 and broken feed, whoever met them


def test_a_worker_killed_with_sigkill_mid_crawl_loses_nothing_and_status_shows_it_gone(
    pg_url: str, frontier_prefix: str, tmp_path: Path
):
    """The victim is killed with kill -9 the moment it holds a leased request; the lease expires (2 s here),
    the planner's next lease call re-queues it, and the crawl stores every article once, as one process
    would. `status --frontier` shows the victim gone."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = FrontierKeys(frontier_prefix)
    quick = ("-s", "NEWSWIRE_FRONTIER_LEASE_SECONDS=2", "-s", "CONCURRENT_REQUESTS=1")
    with NewsWeb() as web:
        expected, registry = one_process_crawl(web, tmp_path)
        launch = {"db_url": pg_url, "registry": registry, "prefix": frontier_prefix, "cwd": tmp_path, "settings": quick}
        victim = _shared("worker", **launch)
        deadline = time.monotonic() + 60
        while not WorkerRoster(client, keys).lines() and time.monotonic() < deadline:
            time.sleep(0.05)
        victim_id = WorkerRoster(client, keys).lines()[0].worker_id
        planner = _shared("crawl", **launch)
        owners = keys.key("owner")
        while time.monotonic() < deadline and not any(
            token.decode().startswith(victim_id) for token in client.hvals(owners)
        ):
            time.sleep(0.01)
        assert any(token.decode().startswith(victim_id) for token in client.hvals(owners)), "never leased"
        victim.kill()  # SIGKILL while it holds a lease
        victim.communicate(timeout=10)
        planned = planner.communicate(timeout=WAIT_SECONDS)
    assert planner.returncode in (0, 1), planned
    assert stored(pg_url) == expected
    assert LeasedQueue(client, keys).sizes() == QueueSizes(0, 0, 0, 0)
    report = json.loads(
        newswire(
            "status",
            "--json",
            "--db",
            pg_url,
            "--frontier",
            REDIS_URL,
            "-s",
            f"NEWSWIRE_FRONTIER_PREFIX={frontier_prefix}",
        ).stdout
    )
    states = {worker["id"]: worker["state"] for worker in report["workers"]}
    assert states.pop(victim_id) == "gone" and list(states.values()) == ["stopped"]
    assert report["frontier"] == {"queued": 0, "delayed": 0, "leased": 0, "dead": 0}


def test_a_worker_refuses_sqlite_and_an_unreachable_frontier_in_one_line(tmp_path: Path):
    registry = tmp_path / "sources.toml"
    registry.write_text('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\n')
    sqlite_url = f"sqlite:///{tmp_path}/x.db"
    sqlite = newswire("worker", "--sources", str(registry), "--db", sqlite_url, "--frontier", REDIS_URL)
    assert sqlite.exit_code == 2 and "needs a server database" in sqlite.stderr
    assert len(sqlite.stderr.strip().splitlines()) == 1
    nowhere = newswire("worker", "--sources", str(registry), "--db", PG_URL, "--frontier", "redis://127.0.0.1:1/0")
    assert nowhere.exit_code == 3 and "does not answer" in nowhere.stderr
    missing = newswire("worker", "--sources", str(registry), "--db", PG_URL, env={"NEWSWIRE_FRONTIER": ""})
    assert missing.exit_code == 2 and "--frontier" in missing.stderr


def test_copies_of_one_story_stored_by_two_writers_at_once_end_in_one_story(pg_url: str):
    """Two workers, each with its own near-duplicate index, store copies of one wire story in transactions
    that overlap: the story writers' lock makes the second wait for the first's commit and index it
    first, so both copies are one story."""
    from datetime import UTC, datetime

    from crawler.demo.stories import WIRE_STORY
    from storage.db import Store
    from storage.repository import OutletRow, sync_outlets
    from storage.stories import assign_story, load_index, lock_story_writers
    from tests.support.articles import store_article

    text = "\n\n".join(WIRE_STORY)
    copy = "\n\n".join(["Floods: the latest", *WIRE_STORY[1:], "Follow us for more news from the region."])
    with Store(pg_url, migrate=True) as store:
        with store.sessions.begin() as session:
            ids = sync_outlets(session, [OutletRow(n, n, f"https://{n}.example/") for n in ("wire", "copier")])
        indexes = []
        for _ in range(2):
            with store.sessions() as session:
                indexes.append(load_index(session, 0.25))
        first_locked = threading.Event()

        errors: list[BaseException] = []

        def write(slug: str, body: str, index, hold: float) -> None:
            try:
                store_copy(slug, body, index, hold)
            except BaseException as exc:
                errors.append(exc)
                raise

        def store_copy(slug: str, body: str, index, hold: float) -> None:
            if slug == "copier":
                first_locked.wait(10)  # the wire's transaction is open and holds the lock
            with store.sessions.begin() as session:
                lock_story_writers(session)
                index.catch_up(session)
                if slug == "wire":
                    first_locked.set()
                when = datetime(2026, 12, 1, 9, tzinfo=UTC)
                article = store_article(session, ids[slug], f"https://{slug}.example/floods", body, published=when)
                assign_story(session, article, index)
                time.sleep(hold)  # still uncommitted while the other writer starts

        writers = [
            threading.Thread(target=write, args=("wire", text, indexes[0], 0.5)),
            threading.Thread(target=write, args=("copier", copy, indexes[1], 0.0)),
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(30)
        assert not errors and not any(writer.is_alive() for writer in writers)
        with store.sessions() as session:
            stories = {a.story_id for a in session.scalars(select(Article))}
            assert len(session.scalars(select(Article)).all()) == 2
    assert len(stories) == 1


RATE_INTERVAL = 0.5  # DOWNLOAD_DELAY of every process: 2 requests a second per host
RETRY_AFTER = 3


class PacedWeb:
    """Two outlets on two hosts (127.0.0.1 and 127.0.0.2: a host's clock is its name's), every request timed at
    the servers: `paced` (16 articles) and `throttled` (8; the first article request it gets is answered 429
    with Retry-After: 3, that article 200 afterwards)."""

    def __init__(self) -> None:
        self.servers = {"paced": NewsWebServer(["paced"]), "throttled": NewsWebServer(["throttled"], "127.0.0.2")}
        self.refused: dict[str, float] = {}  # article path → monotonic time of its 429
        self._lock = threading.Lock()

    def __enter__(self) -> PacedWeb:
        self.urls = {slug: server.start()[slug] for slug, server in self.servers.items()}
        for (slug, base), count in zip(self.urls.items(), (16, 8), strict=True):
            items = [story(f"/news/{n}/", f"{slug} story {n}", f"{slug.title()} {n}.") for n in range(count)]
            routes: dict[str, Resource | Fault] = {
                "/robots.txt": Resource(b"User-agent: *\nAllow: /\n", "text/plain"),
                "/feed.xml": pages.rss2_feed(base, slug, [(base + item.path, item) for item in items]),
            }
            for item in items:
                page = pages.html_resource(pages.wordpress_article(item, base, shortcode_in_body=False))
                routes[item.path] = self._first_refused(item.path, page) if slug == "throttled" else page
            self.servers[slug].sites[slug].routes = routes
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers.values():
            server.stop()

    def _first_refused(self, path: str, page: Resource) -> Fault:
        def serve(handler) -> None:
            with self._lock:
                refuse = not self.refused
                if refuse:
                    self.refused[path] = time.monotonic()
            if refuse:
                send(handler, 429, b"slow down", "text/plain", {"Retry-After": str(RETRY_AFTER)})
            else:
                send(handler, 200, page.body, page.content_type)

        return Fault(serve)

    def write_registry(self, path: Path) -> Path:
        path.write_text(
            "".join(
                f'[[outlet]]\nname = "{slug}"\nhomepage = "{base}/"\nfeeds = ["{base}/feed.xml"]\n'
                for slug, base in self.urls.items()
            )
        )
        return path

    def arrivals(self, slug: str) -> list[tuple[float, str]]:
        """(monotonic time, path) of every request the outlet's host got, in order."""
        return sorted((when, path) for _site, path, when in self.servers[slug].arrivals)


def test_three_processes_keep_each_hosts_rate_and_a_429_stops_every_one_of_them(
    pg_url: str, frontier_prefix: str, tmp_path: Path
):
    """Each process may send 8 requests at a time and would keep DOWNLOAD_DELAY on its own; together, through
    the shared host clock, no host gets more than its 2 requests a second (counted at the servers, in every
    2-second window), and once `throttled` answered 429 with Retry-After: 3, no process sent it anything for
    3 seconds — not even the requests that had taken their slots before the 429 came."""
    eager = ("-s", f"DOWNLOAD_DELAY={RATE_INTERVAL}", "-s", "CONCURRENT_REQUESTS=8")
    eager += ("-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8")
    with PacedWeb() as web:
        registry = web.write_registry(tmp_path / "sources.toml")
        launch = {"db_url": pg_url, "registry": registry, "prefix": frontier_prefix, "cwd": tmp_path, "settings": eager}
        workers = [_shared("worker", **launch) for _ in range(2)]
        roster = WorkerRoster(redis.Redis.from_url(REDIS_URL), FrontierKeys(frontier_prefix))
        deadline = time.monotonic() + 60
        while len(roster.lines()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        planner = _shared("crawl", **launch)
        planned = planner.communicate(timeout=WAIT_SECONDS)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=WAIT_SECONDS) for worker in workers]
        arrivals = {slug: web.arrivals(slug) for slug in web.urls}
        refused = dict(web.refused)
    assert planner.returncode == 0, planned
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    with session_on(pg_url) as session:
        assert len(session.scalars(select(Article)).all()) == 24  # the refused article too, once its time came
        run = session.scalars(select(CrawlRun)).one()
    assert sum(w["pages_fetched"] > 0 for w in run.by_worker.values()) >= 2, run.by_worker  # the work was shared
    window, most = 2.0, int(2.0 / RATE_INTERVAL) + 1  # one more for where a window's edge falls
    for slug, arrived in arrivals.items():
        busiest = max(sum(t <= later < t + window for later, _ in arrived) for t, _ in arrived)
        assert busiest <= most, (slug, busiest, " ".join(f"{t - arrived[0][0]:.2f}{p}" for t, p in arrived))
    (refused_at,) = refused.values()
    during = [(round(t - refused_at, 2), p) for t, p in arrivals["throttled"] if refused_at < t < refused_at + 2.9]
    assert during == [], during
    # the other host went on meanwhile: a block is one host's
    assert any(refused_at < t < refused_at + 2.9 for t, _ in arrivals["paced"]), (refused_at, arrivals["paced"])


@dataclass
class RestartedCrawl:
    """A planner's and a worker's crawl through a Redis restart: their exit codes and (stdout, stderr)."""

    expected: tuple[dict[str, str], set[frozenset[str]], set[str]]  # what one process's crawl stores
    codes: tuple[int | None, int | None]
    outputs: tuple[tuple[str, str], tuple[str, str]]
    launch: dict[str, Any]


@contextmanager
def crawl_through_a_redis_restart(pg_url: str, tmp_path: Path, *, persistent: bool) -> Iterator[RestartedCrawl]:
    """Kill -9 the frontier's Redis once the crawl stored 3 articles, start it again 3 s later, and wait for the
    planner (the worker is stopped with SIGTERM then); the local web is still up inside the block."""
    server = PrivateRedis(tmp_path, persistent=persistent)
    server.start()
    slow = ("-s", "DOWNLOAD_DELAY=0.4", "-s", "NEWSWIRE_FRONTIER_LEASE_SECONDS=3", "-s", "CONCURRENT_REQUESTS=1")
    processes: list[subprocess.Popen[str]] = []
    try:
        with NewsWeb() as web:
            expected, registry = one_process_crawl(web, tmp_path)
            launch = {"db_url": pg_url, "registry": registry, "prefix": "outage", "cwd": tmp_path, "settings": slow}
            launch["frontier"] = server.url
            processes += [_shared("worker", **launch), _shared("crawl", **launch)]
            worker, planner = processes
            deadline = time.monotonic() + 60
            while _article_count(pg_url) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert 3 <= _article_count(pg_url) < len(expected[0]), "the crawl ended before Redis could be stopped"
            server.kill()
            time.sleep(3)
            server.start()
            planned = planner.communicate(timeout=WAIT_SECONDS)
            worker.send_signal(signal.SIGTERM)
            worked = worker.communicate(timeout=WAIT_SECONDS)
            yield RestartedCrawl(expected, (planner.returncode, worker.returncode), (planned, worked), launch)
            assert server.sizes() == QueueSizes(0, 0, 0, 0)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
        server.kill()


def test_a_redis_restart_mid_crawl_loses_nothing_and_the_crawl_goes_on(pg_url: str, tmp_path: Path):
    """The frontier's Redis keeps an AOF, as the README advises: killed with kill -9 while a planner and a
    worker crawl, and started again 3 s later, both processes wait (one error line each, no traceback), take
    the crawl up where it was, and the store ends as one process's crawl of the same web."""
    with crawl_through_a_redis_restart(pg_url, tmp_path, persistent=True) as crawl:
        planner_code, worker_code = crawl.codes
        assert planner_code in (0, 1) and worker_code == 0, crawl.outputs
        assert stored(pg_url) == crawl.expected
    for _out, err in crawl.outputs:
        assert "Traceback" not in err, err
        assert "frontier reachable again" in err and 1 <= err.count("frontier unreachable") <= 3, err
    (run,) = crawl_runs(pg_url)
    assert run.finish_reason == "finished" and len(run.by_worker) == 2


def test_a_redis_restarted_empty_fails_the_crawl_clearly_and_the_next_crawl_gets_the_rest(pg_url: str, tmp_path: Path):
    """Without persistence a Redis restart empties the frontier: the crawl ends failed, saying so in one line;
    nothing stored is lost, and the next crawl (listings read in full again) stores what was missing."""
    with crawl_through_a_redis_restart(pg_url, tmp_path, persistent=False) as crawl:
        planner_code, worker_code = crawl.codes
        assert planner_code == 3 and worker_code == 0, crawl.outputs
        assert "the frontier lost this crawl" in crawl.outputs[0][1] and "Traceback" not in crawl.outputs[0][1]
        next_crawl = _shared("crawl", **crawl.launch)
        out, err = next_crawl.communicate(timeout=WAIT_SECONDS)
        assert next_crawl.returncode in (0, 1), (out, err)
        assert stored(pg_url) == crawl.expected
    first, second = crawl_runs(pg_url)
    assert (first.status, first.finish_reason) == ("failed", "frontier_lost") and second.finish_reason == "finished"
