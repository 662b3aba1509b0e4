"""Crawl under faults: a web of 2,000 articles on loopback where a tenth of all requests fail at random; then
the web reader under slow clients and on the story page's worst case.

Usage: python -m bench.faults [--articles 2000] [--outlets 10] [--fault-rate 0.1] [--seed 7] [--crawls 3]
                              [--skip-crawl] [--slow-sockets 200] [--old-diff-words 1200]
Faults (chosen per request by a seeded generator): 500, 503, 429 with Retry-After: 1, a reset connection
and a body cut short of its Content-Length. The same registry is crawled `--crawls` times into one SQLite
file; then a crawl is killed with SIGKILL mid-run and its process tree is checked for orphans. Prints one
table: faults injected, faults counted (errors and retries in the crawls' stats), articles stored after
each crawl, articles lost (must be 0), duplicate canonical URLs (0), peak RSS of the crawl's whole process
tree, wall time, orphans after kill -9 (0).

The reader under slow clients: `newswire serve` (and, for comparison, the same app on waitress's defaults, as
it was served before) while `--slow-sockets` sockets each send a header line every 5 s and never finish (from
one address, then each from its own): a reader's GET of the index, its median and worst time (5 s: no answer),
and how many slow sockets the server still holds after 15 s. The story page's worst case: a story of 210
copies of 200 KB (one word in 97 changed) and one of 25 copies of 4,000 words of one word (one in 7 changed):
each page's build time (uncached, fastest of 3), its bytes, a cached answer, four views at once (wall time and
the server's peak RSS); and difflib's time on `--old-diff-words` words of the repetitive text, as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.demo import pages
from crawler.demo.server import Fault, NewsWebServer
from tests.support.faultweb import send, story
from tests.support.heavy_story import edited, repetitive_text, store_heavy_story, varied_text

if TYPE_CHECKING:
    from feeds.web.app import FeedApp

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "NEWSWIRE_RETRY_BACKOFF_BASE=0.5", "-s", "NEWSWIRE_PROGRESS_INTERVAL=0"]  # fmt: skip
KINDS = ("500", "503", "429", "reset", "cut")


class RandomFaults:
    """Answers each request with its resource, or (with probability `rate`) with a random fault."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.random = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.lock = threading.Lock()

    def wrap(self, body: bytes, content_type: str) -> Fault:
        def serve(handler: BaseHTTPRequestHandler) -> None:
            with self.lock:
                kind = self.random.choice(KINDS) if self.random.random() < self.rate else None
                if kind:
                    self.injected[kind] += 1
            if kind in ("500", "503", "429"):
                headers = {"Retry-After": "1"} if kind == "429" else {}
                send(handler, int(kind), b"fault", "text/plain", headers)
            elif kind == "reset":
                handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                handler.close_connection = True
            elif kind == "cut":
                handler.send_response(200)
                handler.send_header("Content-Type", content_type)
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body[: len(body) // 3])
                handler.close_connection = True
            else:
                send(handler, 200, body, content_type)

        return Fault(serve)


def build_web(outlets: int, articles: int, faults: RandomFaults) -> tuple[NewsWebServer, str]:
    """`outlets` sites sharing `articles` stories, each with a feed; every path goes through the faults."""
    slugs = [f"outlet-{i}" for i in range(outlets)]
    server = NewsWebServer(slugs)
    urls = server.start()
    registry = []
    for index, slug in enumerate(slugs):
        base = urls[slug]
        stories = [
            story(f"/news/{n}/", f"Story {n} of {slug}", f"Story {n} of outlet {index}.")
            for n in range(index, articles, outlets)
        ]
        feed = pages.rss2_feed(base, slug, [(base + s.path, s) for s in stories])
        routes = {"/robots.txt": faults.wrap(b"User-agent: *\nAllow: /\n", "text/plain")}
        routes["/feed.xml"] = faults.wrap(feed.body, feed.content_type)
        for item in stories:
            page = pages.html_resource(pages.wordpress_article(item, base, shortcode_in_body=False))
            routes[item.path] = faults.wrap(page.body, page.content_type)
        server.sites[slug].routes = routes
        registry.append(f'[[outlet]]\nname = "{slug}"\nhomepage = "{base}/"\nfeeds = ["{base}/feed.xml"]\n')
    return server, "\n".join(registry)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            rss[int(entry.name)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
            children.setdefault(int(stat[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo += children.get(current, [])
    return total / 1e6


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            kids = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            kids = []
        found += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def crawl(registry: Path, db: Path, limit: int) -> dict:
    """One crawl in its own process: wall time, peak RSS of its process tree, exit code, its run's outcomes."""
    args = [sys.executable, "-m", "crawler", "crawl", "--sources", str(registry), "--db", f"sqlite:///{db}"]
    args += ["--limit", str(limit), *FAST]
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=db.parent, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, tree_rss_mb(process.pid))
        time.sleep(0.2)
    summary = process.stdout.read().strip()
    process.stdout.close()
    with sqlite3.connect(db) as connection:
        (outcomes,) = connection.execute("SELECT outcomes FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
    return {"seconds": time.perf_counter() - start, "peak_mb": peak, "code": process.returncode,
            "outcomes": json.loads(outcomes or "{}"), "summary": summary}  # fmt: skip


def kill_mid_crawl(registry: Path, db: Path, limit: int, after: float = 6.0) -> tuple[int, int]:
    """Start a crawl, SIGKILL it after `after` seconds; (processes it had, processes left 5 s later)."""
    args = [sys.executable, "-m", "crawler", "crawl", "--sources", str(registry), "--db", f"sqlite:///{db}"]
    process = subprocess.Popen([*args, "--limit", str(limit), *FAST], cwd=db.parent,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(after)
    tree = descendants(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(5)
    return len(tree), sum(alive(pid) for pid in tree)


SLOW_LINE_EVERY = 5.0  # seconds between a slow socket's header lines (the attack as reported)
ATTACK_SECONDS = 15.0
OLD_SERVER = """import sys, waitress
from feeds.web.app import make_app
app = make_app(sys.argv[1])
server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
print(f"serving feeds on http://127.0.0.1:{server.effective_port}/", file=sys.stderr, flush=True)
server.run()
"""  # the app on waitress's defaults, as `serve` ran it before feeds/web/connections.py
ENVIRON = {"REQUEST_METHOD": "GET", "SERVER_NAME": "x", "SERVER_PORT": "80", "HTTP_HOST": "x"}


def start_server(db_url: str, old: bool) -> tuple[subprocess.Popen, int]:
    """`newswire serve` on a free port (`old`: the app on waitress's defaults); the process and its port."""
    command = ["-c", OLD_SERVER, db_url] if old else ["-m", "crawler", "serve", "--db", db_url, "--port", "0"]
    process = subprocess.Popen([sys.executable, *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()  # "serving feeds on http://127.0.0.1:<port>/ …"
    return process, int(line.split()[3].rsplit(":", 1)[1].strip("/"))


def stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def get_seconds(port: int, path: str = "/", limit: float = 5.0) -> float:
    """Seconds for one whole GET from 127.0.0.1 (`limit` when no answer came by then)."""
    started = time.perf_counter()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=limit)
        connection.request("GET", path)
        connection.getresponse().read()
        connection.close()
    except OSError:
        return limit
    return time.perf_counter() - started


def slowloris(port: int, sources: list[str]) -> tuple[list[float], int]:
    """One slow socket per source address for ATTACK_SECONDS, a header line each every SLOW_LINE_EVERY seconds,
    while a reader's GET is timed every half second: (the reader's times, slow sockets the server still holds)."""
    sockets = []
    for source in sources:
        sock = socket.socket()
        sock.bind((source, 0))
        sock.settimeout(5)
        with contextlib.suppress(OSError):
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sockets.append(sock)
    times: list[float] = []
    started = time.monotonic()
    lines_sent = 0
    while (elapsed := time.monotonic() - started) < ATTACK_SECONDS:
        if elapsed >= (lines_sent + 1) * SLOW_LINE_EVERY:
            lines_sent += 1
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.send(f"X-Slow-{lines_sent}: a\r\n".encode())
        times.append(get_seconds(port))
        time.sleep(0.5)
    held = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            held += sock.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            held += 1
        except OSError:
            pass
        sock.close()
    return times, held


def bench_slow_clients(db_url: str, count: int) -> None:
    """The reader's GET of the index under `count` slow sockets, on the old and the new server."""
    print(f"\n## The reader under {count} slow sockets (a header line every {SLOW_LINE_EVERY:g} s, never finished, "
          f"for {ATTACK_SECONDS:g} s)\n")  # fmt: skip
    print("| server | slow sockets from | reader alone (ms) | reader under attack: median (ms) | worst (s) "
          "| slow sockets still held |\n|---|---|---:|---:|---:|---:|")  # fmt: skip
    spread = [f"127.0.{2 + n // 250}.{1 + n % 250}" for n in range(count)]
    for old in (True, False):
        for label, sources in (("one address", ["127.0.0.2"] * count), ("one address each", spread)):
            process, port = start_server(db_url, old)
            try:
                alone = statistics.median(get_seconds(port) for _ in range(20))
                times, held = slowloris(port, sources)
            finally:
                stop_server(process)
            server = "waitress defaults (before)" if old else "newswire serve"
            print(f"| {server} | {label} | {alone * 1000:.1f} | {statistics.median(times) * 1000:.0f} "
                  f"| {max(times):.2f} | {held} |")  # fmt: skip


def build_ms(app: FeedApp, path: str, query: str, rounds: int = 3) -> tuple[float, int]:
    """The fastest of `rounds` uncached builds of a page by the app (its caches emptied first): ms and bytes."""
    best, size = float("inf"), 0
    for _ in range(rounds):
        app.cache.clear()
        app.cache_bytes = 0
        started = time.perf_counter()
        response = app.respond({**ENVIRON, "PATH_INFO": path, "QUERY_STRING": query})
        best = min(best, (time.perf_counter() - started) * 1000)
        assert response.status.startswith("200"), (path, query, response.status)
        size = len(response.body)
    return best, size


def old_diff_seconds(words: int) -> tuple[float, float]:
    """Seconds for one word diff of `words` repetitive words (one in 7 changed): difflib as the page used it
    (autojunk off), then feeds.web.diffs."""
    import difflib

    from feeds.web.diffs import word_diff

    original = repetitive_text(words)
    copy = edited(original, 3)
    started = time.perf_counter()
    difflib.SequenceMatcher(None, original.split(), copy.split(), autojunk=False).get_opcodes()
    middle = time.perf_counter()
    word_diff(original, copy)
    return middle - started, time.perf_counter() - middle


def bench_story_pages(tmp: Path, old_diff_words: int) -> None:
    """Each page of the two worst stories: build time, bytes, a cached answer; four views at once."""
    from feeds.web.app import make_app
    from storage.common.urls import article_uid
    from storage.db import Store

    print("\n## The story page's worst case\n")
    if old_diff_words:
        old, new = old_diff_seconds(old_diff_words)
        print(f"one word diff of {old_diff_words:,} repetitive words: difflib (before) {old:.1f} s, feeds.web.diffs "
              f"{new * 1000:.1f} ms\n")  # fmt: skip
    print("| story | page | build, uncached (ms) | bytes | cached answer (ms) |\n|---|---:|---:|---:|---:|")
    uid = article_uid("https://o0.example/story")  # tests.support.heavy_story's original
    cases = {"210 copies of 200 KB": (210, varied_text(33_000), 97),
             "25 copies of 4,000 words of one word": (25, repetitive_text(4000), 7)}  # fmt: skip
    for n, (name, (copies, text, every)) in enumerate(cases.items()):
        db_url = f"sqlite:///{tmp / f'story{n}.db'}"
        Store(db_url, migrate=True).close()
        store_heavy_story(db_url, copies, text, [edited(text, k, every) for k in range(1, 30)])
        app = make_app(db_url)
        build_ms(app, "/", "", 1)  # templates compiled
        index_ms, index_size = build_ms(app, "/", "")
        print(f"| {name}: the index | 1 | {index_ms:.0f} | {index_size:,} | (built each time) |")
        pages = -(-(copies - 1) // 10)
        for page in sorted({1, 2, 3, pages}):
            ms, size = build_ms(app, f"/stories/{uid}", f"page={page}")
            started = time.perf_counter()
            app.respond({**ENVIRON, "PATH_INFO": f"/stories/{uid}", "QUERY_STRING": f"page={page}"})
            print(
                f"| {name} | {page} of {pages} | {ms:.0f} | {size:,} | {(time.perf_counter() - started) * 1000:.1f} |"
            )
        app.close()
    process, port = start_server(f"sqlite:///{tmp / 'story0.db'}", old=False)
    try:
        seconds: list[float] = []
        get_seconds(port, "/", 60)  # the server warmed up: templates compiled, the story's version read
        paths = [f"/stories/{uid}?page={page}" for page in range(4, 8)]
        views = [threading.Thread(target=lambda p=path: seconds.append(get_seconds(port, p, 60))) for path in paths]
        peak = tree_rss_mb(process.pid)
        for view in views:
            view.start()
        while any(view.is_alive() for view in views):
            peak = max(peak, tree_rss_mb(process.pid))
            time.sleep(0.02)
        print(f"\n4 views at once of 4 uncached pages of the 210-copy story: the slowest answered in "
              f"{max(seconds):.2f} s; `newswire serve`'s peak RSS {peak:.0f} MB")  # fmt: skip
    finally:
        stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--outlets", type=int, default=10)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--crawls", type=int, default=3)
    parser.add_argument("--skip-crawl", action="store_true", help="only the web reader's benchmarks")
    parser.add_argument("--slow-sockets", type=int, default=200)
    parser.add_argument("--old-diff-words", type=int, default=1200, help="difflib's reference time; 0: skip it")
    args = parser.parse_args()
    if not args.skip_crawl:
        crawl_faults(args)
    from storage.db import Store

    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'reader.db'}"
        Store(db_url, migrate=True).close()
        store_heavy_story(db_url, 4, varied_text(800))
        bench_slow_clients(db_url, args.slow_sockets)
        bench_story_pages(Path(tmp), args.old_diff_words)


def crawl_faults(args: argparse.Namespace) -> None:
    faults = RandomFaults(args.fault_rate, args.seed)
    server, toml = build_web(args.outlets, args.articles, faults)
    print(
        f"# crawl under faults, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores: "
        f"{args.articles} articles on {args.outlets} loopback outlets, {args.fault_rate:.0%} of requests fail "
        f"(seed {args.seed})"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp) / "sources.toml"
        registry.write_text(toml)
        db = Path(tmp) / "faults.db"
        limit = args.articles
        for n in range(1, args.crawls + 1):
            before = sum(faults.injected.values())
            result = crawl(registry, db, limit)
            outcomes = result["outcomes"]
            with sqlite3.connect(db) as connection:
                stored = connection.execute("SELECT count(*) FROM articles").fetchone()[0]
                duplicates = connection.execute(
                    "SELECT count(*) - count(DISTINCT canonical_url) FROM articles"
                ).fetchone()[0]
            counted = int(outcomes.get("errors", 0)) + int(outcomes.get("retry/count", 0))
            rows.append((n, sum(faults.injected.values()) - before, counted, stored, args.articles - stored,
                         duplicates, result["peak_mb"], result["seconds"], result["code"]))  # fmt: skip
        had, left = kill_mid_crawl(registry, Path(tmp) / "killed.db", limit)
    server.stop()
    print(f"\nfaults injected by kind: {dict(faults.injected)}\n")
    print("| crawl | faults injected | errors + retries counted | articles stored | lost | duplicates "
          "| peak RSS, process tree (MB) | wall (s) | exit |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} | {row[4]} | {row[5]} | {row[6]:.0f} | {row[7]:.1f} "
              f"| {row[8]} |")  # fmt: skip
    print(f"\nkill -9 mid-crawl: {had} child processes (extraction workers, resource tracker); "
          f"{left} alive 5 s later (orphans)")  # fmt: skip


if __name__ == "__main__":
    main()
