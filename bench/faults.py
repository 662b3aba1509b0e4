"""Crawl under faults: a web of 2,000 articles on loopback where a tenth of all requests fail at random.

Usage: python -m bench.faults [--articles 2000] [--outlets 10] [--fault-rate 0.1] [--seed 7] [--crawls 3]
Faults (chosen per request by a seeded generator): 500, 503, 429 with Retry-After: 1, a reset connection
and a body cut short of its Content-Length. The same registry is crawled `--crawls` times into one SQLite
file; then a crawl is killed with SIGKILL mid-run and its process tree is checked for orphans. Prints one
table: faults injected, faults counted (errors and retries in the crawls' stats), articles stored after
each crawl, articles lost (must be 0), duplicate canonical URLs (0), peak RSS of the crawl's whole process
tree, wall time, orphans after kill -9 (0).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import socket
import sqlite3
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

from crawler.newsweb import pages
from crawler.newsweb.faults import send, story
from crawler.newsweb.server import Fault, NewsWebServer

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--outlets", type=int, default=10)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--crawls", type=int, default=3)
    args = parser.parse_args()
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
