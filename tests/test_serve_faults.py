"""The feed server against hostile clients and hostile data, over real sockets on loopback: slow clients
(slowloris) never lock readers out, a story of many long or repetitive copies costs bounded time and bytes per
page and is cached until it changes, and a NUL byte in a path or query is a 400 on PostgreSQL too."""

from __future__ import annotations

import json
import logging
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import SimpleNamespace

import lxml.html
import pytest
from lxml import etree
from sqlalchemy import func, insert, select, update
from waitress.wasyncore import close_all

from feeds.web.app import make_app
from feeds.web.connections import ConnectionLimits, client_key, create_server
from feeds.web.pages import COPIES_PER_PAGE
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Article, Story
from storage.repository import OutletRow, sync_outlets
from tests.support.articles import article_values
from tests.support.db import PG_URL
from tests.support.heavy_story import edited, repetitive_text, store_heavy_story, varied_text
from tests.support.paths import PROJECT
from tests.support.serving import OPENER, copy_database, fetch, serving
from tests.test_serve import build_db, store

SLOW_SOCKETS = 200


@pytest.fixture(scope="module")
def served_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`newswire serve` itself, in its own process, on a free loopback port: its root URL."""
    db = build_db(tmp_path_factory.mktemp("slow") / "small.db")
    process = subprocess.Popen([sys.executable, "-m", "crawler", "serve", "--db", db, "--port", "0"], cwd=PROJECT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = process.stderr.readline()
        assert line.startswith("serving feeds on http://127.0.0.1:"), line
        yield line.split()[3]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()


class SlowClients:
    """Sockets that each send a request's first line, then one header line every `every` seconds, never the
    blank line that ends the headers (slowloris), from the loopback addresses given (cycled)."""

    def __init__(self, port: int, count: int, sources: list[str], every: float = 0.5) -> None:
        self.port, self.every = port, every
        self.sockets: list[socket.socket] = []
        for n in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sockets.append(sock)
            sock.bind((sources[n % len(sources)], 0))
            sock.settimeout(5)
            with suppress(OSError):  # refused (closed at once) past the per-client limit
                sock.connect(("127.0.0.1", port))
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self) -> None:
        n = 0
        while not self.stop.wait(self.every):
            n += 1
            for sock in self.sockets:
                with suppress(OSError):  # closed by the server: what it should do
                    sock.send(f"X-Slow-{n}: a\r\n".encode())

    def still_open(self) -> int:
        """How many of the sockets the server has not closed (a peek finds neither data, end nor reset)."""
        count = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                count += sock.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                count += 1
            except OSError:
                pass
        return count

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def timed_get(root: str) -> float:
    """Seconds for a whole GET of the index from 127.0.0.1 (a 200), given 5 s at most."""
    started = time.monotonic()
    with OPENER.open(root, timeout=5) as response:
        assert response.status == 200 and b"Latest stories" in response.read()
    return time.monotonic() - started


@pytest.mark.parametrize("sources", [["127.0.0.2"], [f"127.0.1.{n}" for n in range(1, SLOW_SOCKETS + 1)]],
                         ids=["one-address", "200-addresses"])  # fmt: skip
def test_a_reader_is_answered_within_a_second_while_200_slow_sockets_hold_on(served_cli: str, sources: list[str]):
    port = int(served_cli.rsplit(":", 1)[1].strip("/"))
    slow = SlowClients(port, SLOW_SOCKETS, sources)
    try:
        waits = []
        for _ in range(6):  # for 3 s, while the slow sockets keep dripping header lines
            waits.append(timed_get(served_cli))
            time.sleep(0.5)
        assert max(waits) < 1.0, waits
        # one address holds 20 connections at most (the rest are refused at once); 200 addresses, one each, all fit
        assert slow.still_open() == (20 if len(sources) == 1 else SLOW_SOCKETS)
    finally:
        slow.close()


@contextmanager
def guarded(db_url: str, limits: ConnectionLimits) -> Iterator[int]:
    """The app on feeds.web.connections' server (as `serve` runs it) in a thread, with `limits`; yields its port."""
    app = make_app(db_url)
    sockets: dict = {}
    server = create_server(app, "127.0.0.1", 0, 2, limits, socket_map=sockets)
    app.listening_at(f"http://127.0.0.1:{server.effective_port}/")
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        stopping.set()
        server.task_dispatcher.shutdown()
        server.trigger.pull_trigger(lambda: close_all(sockets, ignore_all=True))
        thread.join(timeout=10)
        app.close()


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (reading only), or None if it stayed open that long."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while chunk := sock.recv(4096):
            del chunk
    except TimeoutError:
        return None
    except OSError:
        pass
    return time.monotonic() - started


def response_status(sock: socket.socket) -> bytes:
    """The status line of the next whole response on `sock` (its headers and Content-Length bytes read)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head.split(b"\r\n")[0]


def test_a_request_must_arrive_whole_by_its_deadline_while_idle_keep_alive_is_left_alone(tmp_path, caplog):
    db = build_db(tmp_path / "deadline.db")
    limits = ConnectionLimits(header_timeout=1.0, request_timeout=2.0, idle_timeout=30)
    caplog.set_level(logging.WARNING, logger="feeds.web.connections")
    with guarded(db, limits) as port:
        silent, dripping, slow_body, kept = (socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(4))
        try:
            dripping.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            slow_body.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            kept.sendall(b"GET /feeds/all.json HTTP/1.1\r\nHost: x\r\n\r\n")
            assert response_status(kept) == b"HTTP/1.1 200 OK"
            started = time.monotonic()
            while time.monotonic() - started < 3.5:  # a header line, a byte of the body, every 0.2 s: never ending
                time.sleep(0.2)
                for sock, data in ((dripping, b"X-Slow: a\r\n"), (slow_body, b"x")):
                    with suppress(OSError):
                        sock.send(data)
            assert closed_within(silent, 0.1) is not None  # nothing sent: the header deadline runs from the opening
            assert closed_within(dripping, 0.1) is not None  # headers still coming after 1 s
            assert closed_within(slow_body, 1.0) is not None  # the whole request not there after 2 s
            # a kept-alive connection idle between its requests is not slow: it is answered again
            kept.sendall(b"GET /feeds/all.json HTTP/1.1\r\nHost: x\r\n\r\n")
            assert response_status(kept) == b"HTTP/1.1 200 OK"
        finally:
            for sock in (silent, dripping, slow_body, kept):
                sock.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "feeds.web.connections"]
    assert lines and "closed for not sending a whole request" in lines[0] and len(lines) <= 2, lines


def test_one_client_holds_at_most_its_share_of_connections(tmp_path):
    db = build_db(tmp_path / "share.db")
    with guarded(db, ConnectionLimits(per_client=5)) as port:
        held = [socket.socket() for _ in range(9)]
        try:
            for sock in held[:8]:
                sock.bind(("127.0.0.2", 0))
                sock.connect(("127.0.0.1", port))
            time.sleep(0.5)
            refused = [closed_within(sock, 0.2) is not None for sock in held[:8]]
            assert refused == [False] * 5 + [True] * 3  # the first five kept, the rest closed at once
            assert fetch(f"http://127.0.0.1:{port}/feeds/all.json")[0] == 200  # another address is served
            held[0].close()  # one of the five goes: room for one more from that address
            time.sleep(0.3)
            again = held[8]
            again.bind(("127.0.0.2", 0))
            again.connect(("127.0.0.1", port))
            again.sendall(b"GET /feeds/all.json HTTP/1.1\r\nHost: x\r\n\r\n")
            again.settimeout(5)
            assert response_status(again) == b"HTTP/1.1 200 OK"
        finally:
            for sock in held:
                sock.close()


def test_clients_are_addresses_and_ipv6_hosts_their_64():
    assert client_key(("203.0.113.7", 5000)) == "203.0.113.7"
    assert client_key(("2001:db8:1:2::1", 5000, 0, 0)) == client_key(("2001:db8:1:2:ffff::9", 1, 0, 0))
    assert client_key(("2001:db8:1:2::1", 5000, 0, 0)) != client_key(("2001:db8:1:3::1", 5000, 0, 0))
    assert client_key(("::ffff:203.0.113.7", 5000, 0, 0)) == "203.0.113.7"


# --- a story of many long or repetitive copies -------------------------------------------------------------------


def page_ms(app, path: str, query: str = "") -> tuple[float, object]:
    """The fastest of three uncached builds of a page (the app's caches emptied before each), in ms."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "x.test",
               "SERVER_PORT": "80", "HTTP_HOST": "x.test"}  # fmt: skip
    best, response = float("inf"), None
    for _ in range(3):
        app.cache.clear()
        app.cache_bytes = 0
        started = time.perf_counter()
        response = app.respond(environ)
        best = min(best, (time.perf_counter() - started) * 1000)
    return best, response


def test_a_story_of_repetitive_copies_pages_in_bounded_time(tmp_path):
    # 25 copies of 4,000 words of one word, each with one word in 7 changed: difflib took 813 s for one such diff
    db = f"sqlite:///{tmp_path / 'repetitive.db'}"
    upgrade(make_engine(db))
    text = repetitive_text(4000)
    uid = store_heavy_story(db, 25, text, [edited(text, n) for n in range(1, 25)])
    app = make_app(db)
    try:
        page_ms(app, "/")  # templates compiled
        pages = -(-24 // COPIES_PER_PAGE)
        for page in range(1, pages + 1):
            ms, response = page_ms(app, f"/stories/{uid}", f"page={page}")
            assert response.status == "200 OK" and ms < 300, (page, ms)
            document = lxml.html.fromstring(response.body)
            assert len(document.xpath("//section[contains(@class, 'copy')]")) == 1 + min(10, 24 - 10 * (page - 1))
            assert len(response.body) < 300_000
        assert "not compared" in lxml.html.fromstring(page_ms(app, f"/stories/{uid}")[1].body).text_content()
        assert page_ms(app, f"/stories/{uid}", f"page={pages + 1}")[1].status.startswith("404")
    finally:
        app.close()


def test_a_story_of_many_long_copies_is_paged_with_bounded_bytes(tmp_path):
    # 40 copies of 200 KB of text (the fault was 210 such copies: a 41 MB page that took 10.8 s)
    db = f"sqlite:///{tmp_path / 'long.db'}"
    upgrade(make_engine(db))
    text = varied_text(33_000)
    uid = store_heavy_story(db, 40, text, [edited(text, n, every=500) for n in range(1, 40)])
    app = make_app(db)
    try:
        page_ms(app, "/")
        sizes = []
        for page in range(1, 5):
            ms, response = page_ms(app, f"/stories/{uid}", f"page={page}")
            assert response.status == "200 OK" and ms < 1000, (page, ms)
            sizes.append(len(response.body))
            document = lxml.html.fromstring(response.body)
            changes = document.xpath("//p[@class='changes']/text()")
            assert len(changes) == min(10, 39 - 10 * (page - 1)) and all("words removed" in c for c in changes)
            assert document.xpath("//a[@rel='next']") if page < 4 else not document.xpath("//a[@rel='next']")
        assert max(sizes) < 600_000, sizes  # the original in full (~240 KB), each copy's changes in context
    finally:
        app.close()


def test_every_page_of_the_busiest_story_of_the_news_web_builds_within_300_ms(first_crawl, tmp_path):
    db = copy_database(first_crawl.db_path, tmp_path / "newswire.db")
    engine = make_engine(db)
    with make_session_factory(engine)() as session:
        story_id, copies = session.execute(
            select(Article.story_id, func.count()).where(Article.story_id.is_not(None))
            .group_by(Article.story_id).order_by(func.count().desc()).limit(1)
        ).one()  # fmt: skip
        original = session.scalar(select(Story.original_article_id).where(Story.id == story_id))
        uid = session.get(Article, original).stable_uid
    engine.dispose()
    assert copies >= 3
    app = make_app(db)
    try:
        page_ms(app, "/")
        for page in range(1, -(-(copies - 1) // COPIES_PER_PAGE) + 1):
            ms, response = page_ms(app, f"/stories/{uid}", f"page={page}")
            assert response.status == "200 OK" and ms < 300, (page, ms)
    finally:
        app.close()


def test_a_story_page_is_cached_until_that_story_changes(tmp_path, monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr("feeds.web.app.clock", SimpleNamespace(time=lambda: now[0]))  # the minute its dates are in
    db = build_db(tmp_path / "cached.db")
    uid_engine = make_engine(db)
    with make_session_factory(uid_engine).begin() as session:
        wire = session.scalar(select(Article).where(Article.canonical_url == "https://wire.example/floods"))
        uid, story_id = wire.stable_uid, wire.story_id
    app = make_app(db)
    builds = []
    original = app.build_story

    def counting(*args, **kwargs):
        builds.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(app, "build_story", counting)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/stories/{uid}", "SERVER_NAME": "x.test", "SERVER_PORT": "80",
               "HTTP_HOST": "x.test"}  # fmt: skip
    try:
        first = app.respond(environ)
        assert first.status == "200 OK" and app.respond(environ).body == first.body and len(builds) == 1
        with make_session_factory(uid_engine).begin() as session:  # another story arrives: this page stays
            outlet = sync_outlets(session, [OutletRow("Other", "other", "https://other.example/", "en")])["other"]
            store(session, outlet, "https://other.example/x", "Other news", "Nothing to do with floods.",
                  wire.published)  # fmt: skip
        assert app.respond(environ).body == first.body and len(builds) == 1
        with make_session_factory(uid_engine).begin() as session:  # a copy of this story is revised: built again
            copy = update(Article).where(Article.story_id == story_id, Article.id != wire.id)
            session.execute(copy.values(title="Floods cut the coast road, revised", changed=Article.changed + 1))
        assert b"revised" in app.respond(environ).body and len(builds) == 2
        now[0] += 60  # "3 hours ago" may read "4 hours ago" now: built again once a minute at most
        app.respond(environ)
        app.respond(environ)
        assert len(builds) == 3
    finally:
        app.close()
        uid_engine.dispose()


# --- a NUL byte on PostgreSQL ------------------------------------------------------------------------------------


def test_a_nul_byte_in_a_path_or_query_is_a_400_in_one_line_on_postgresql(pg_schema: str, caplog):
    url = f"{PG_URL}?options=-csearch_path%3D{pg_schema}"
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        sync_outlets(session, [OutletRow("A", "a", "https://a.example/", "en")])
    engine.dispose()
    caplog.set_level(logging.INFO)
    with serving(url) as root:
        assert fetch(root + "outlets/a")[0] == 200
        caplog.clear()
        bad = ["outlets/a%00b", "feeds/outlet/a%00b.rss", "search?q=port&outlet=a%00b", "feeds/tag/a%00b.atom",
               "feeds/all.rss?q=a%00b", "search?q=a%00", "outlets/a?x=%00"]  # fmt: skip
        for path in bad:
            status, _headers, body = fetch(root + path)
            assert status == 400 and b"NUL" in body, (path, status, body[:200])
        records = [r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith(("feeds", "waitress"))]
        assert len(records) == len(bad) and not any(r.exc_info for r in records), [r.getMessage() for r in records]
        assert all("\n" not in r.getMessage() for r in records)
        assert fetch(root + "outlets/a")[0] == 200  # and the server goes on


# --- a stored javascript: link -----------------------------------------------------------------------------------


def test_a_stored_javascript_link_reaches_no_feed_and_no_page(tmp_path):
    db = build_db(tmp_path / "links.db")
    engine = make_engine(db)
    with make_session_factory(engine).begin() as session:
        outlet = sync_outlets(session, [OutletRow("Evil", "evil", "https://evil.example/", "en")])["evil"]
        values = article_values(outlet, "https://evil.example/x", "Click me.", title="Click me",
                                canonical_url="javascript:alert(document.domain)//")  # fmt: skip
        session.execute(insert(Article), [values])
    engine.dispose()
    with serving(db) as root:
        stylesheet = etree.XSLT(etree.fromstring(fetch(root + "static/feed.xsl")[2]))
        for kind in ("rss", "atom"):
            document = etree.fromstring(fetch(f"{root}feeds/outlet/evil.{kind}")[2])
            links = document.xpath("//item/link/text() | //*[local-name()='link']/@href")
            assert links and all(str(link).startswith(("http://", "https://")) for link in links), links
            view = stylesheet(document)  # the page a browser makes of the feed: the item, as text only
            assert "Click me" in str(view) and view.xpath("//a/@href") == [], kind
        item = json.loads(fetch(root + "feeds/outlet/evil.json")[2])["items"][0]
        assert item["title"] == "Click me" and "url" not in item
        browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
        page = lxml.html.fromstring(fetch(root + "feeds/outlet/evil.rss", headers=browser)[2])
        assert "Click me" in page.text_content() and not page.xpath("//a[starts-with(@href, 'javascript')]")


def test_without_a_per_client_limit_one_address_may_hold_many_connections(tmp_path):
    db = build_db(tmp_path / "proxy.db")
    with guarded(db, ConnectionLimits(per_client=0)) as port:  # behind a reverse proxy: every peer is the proxy
        held = []
        try:
            held += [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(30)]
            time.sleep(0.3)
            assert [closed_within(sock, 0.05) for sock in held] == [None] * 30
        finally:
            for sock in held:
                sock.close()


def test_the_open_file_limit_is_raised_for_every_connection_or_connections_fit_it():
    script = """
import resource
from feeds.web.connections import ConnectionLimits, fit_descriptors
_soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (300, hard))
print(fit_descriptors(ConnectionLimits()).connection_limit, resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)
resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300))
print(fit_descriptors(ConnectionLimits()).connection_limit)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, timeout=60)
    raised, fitted = result.stdout.splitlines()
    connections, soft, hard = map(int, raised.split())
    if hard == resource.RLIM_INFINITY or hard >= 1256:
        assert (connections, soft) == (1000, 1256)  # room for every connection and 256 more descriptors
    else:
        assert (connections, soft) == (hard - 256, hard)
    assert fitted == "44" and "open-file limit 300" in result.stderr
