"""A shared crawl's scaling: 1, 2 and 4 processes on one Redis frontier and PostgreSQL, on a web where
latency, not our CPU, is the limit.

The web: OUTLETS outlets, each on its own loopback address (127.0.0.k: a host of its own for Scrapy's download
slots and for the shared host clock), each with a sitemap of ARTICLES article pages, every answer delayed
100–300 ms. Politeness: DOWNLOAD_DELAY = 1/RATE per host (AutoThrottle off, so the rate is the one set). Each
configuration crawls into a fresh PostgreSQL schema and a fresh frontier: a planner (`newswire crawl
--frontier`) plus N-1 workers (`newswire worker`, started first); the time is the planner's, from its start
to its exit. The servers record every request's host and time: the highest rate any host received over
10 s and the shortest gap between two requests to one host are printed against RATE. Also printed: Redis
memory per 100,000 seen fingerprints (keys as the dupefilter writes them) and the peak RSS of one crawl
process (its extraction runs in-process: the pages are small).

    python -m bench.distributed [--outlets 20] [--articles 50] [--rate 3] [--concurrency 2] [--workers 1 2 4]

Each process sends at most --concurrency requests at a time, so one process is bound by the answers'
latency (about concurrency / 0.2 s requests/s), well below what the hosts allow in all (outlets × rate):
the scaling is then the frontier's, up to the hosts' limit or the machine's cores.

Needs PostgreSQL and Redis (NEWSWIRE_TEST_PG_URL, NEWSWIRE_TEST_REDIS_URL; the test defaults).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("NEWSWIRE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("NEWSWIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORDS = [
    "council",
    "harbour",
    "budget",
    "minister",
    "drought",
    "river",
    "coalition",
    "tariff",
    "vaccine",
    "election",
    "court",
    "strike",
    "railway",
    "festival",
    "border",
    "refinery",
    "inflation",
    "satellite",
    "museum",
    "protest",
    "reform",
    "village",
    "glacier",
    "export",
    "school",
    "hospital",
    "election",
    "bridge",
    "treaty",
    "ceasefire",
    "pipeline",
    "wildfire",
    "vineyard",
    "mayor",
    "senate",
    "parliament",
    "union",
]


def article_page(outlet: int, number: int) -> bytes:
    """A small article page whose text is its own (seeded by outlet and number)."""
    rng = random.Random(outlet * 100_003 + number)
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(28, 45))).capitalize() + "." for _ in range(6)]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    title = f"Outlet {outlet} story {number}: {' '.join(rng.choice(WORDS) for _ in range(5))}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>{title}</title>'
        f'<meta property="article:published_time" content="{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"></head>'
        f"<body><article><h1>{title}</h1><p class='byline'>By Reporter {number % 17}</p>{body}</article>"
        "</body></html>"
    ).encode()


class LatencyWeb:
    """OUTLETS servers on 127.0.0.2… each answering after 100–300 ms, recording (host, time) per request."""

    def __init__(self, outlets: int, articles: int) -> None:
        self.outlets, self.articles = outlets, articles
        self.requests: list[tuple[str, float]] = []
        self.lock = threading.Lock()
        self.servers: list[ThreadingHTTPServer] = []

    def _handler(self, outlet: int, base: str) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with web.lock:
                    web.requests.append((base, time.monotonic()))
                time.sleep(random.uniform(0.1, 0.3))
                if self.path == "/robots.txt":
                    body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
                elif self.path == "/sitemap.xml":
                    today = f"{datetime.now(UTC):%Y-%m-%d}"
                    urls = "".join(
                        f"<url><loc>{base}/a/{n}</loc><lastmod>{today}</lastmod></url>" for n in range(web.articles)
                    )
                    body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
                    body, kind = body.encode(), "application/xml"
                elif self.path.startswith("/a/") and self.path[3:].isdigit():
                    body, kind = article_page(outlet, int(self.path[3:])), "text/html; charset=utf-8"
                elif self.path == "/":
                    body, kind = b"<html><body>home</body></html>", "text/html"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler

    def start(self) -> list[str]:
        bases = []
        for outlet in range(self.outlets):
            address = f"127.0.0.{outlet + 2}"
            server = ThreadingHTTPServer((address, 0), BaseHTTPRequestHandler)
            base = f"http://{address}:{server.server_address[1]}"
            server.RequestHandlerClass = self._handler(outlet, base)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
            bases.append(base)
        return bases

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def host_rates(self, since: float, window: float = 10.0) -> tuple[float, float]:
        """(the most requests per second any host received over `window` seconds, the shortest gap between two
        requests to one host), since `since`. A 1-s window is not used: at exactly 1/rate spacing it holds
        rate + 1 arrivals (a fencepost), which says nothing about the rate kept."""
        by_host: dict[str, list[float]] = defaultdict(list)
        with self.lock:
            for host, when in self.requests:
                if when >= since:
                    by_host[host].append(when)
        busiest, shortest = 0, float("inf")
        for times in by_host.values():
            times.sort()
            start = 0
            for end, when in enumerate(times):
                while when - times[start] >= window:
                    start += 1
                busiest = max(busiest, end - start + 1)
                if end:
                    shortest = min(shortest, when - times[end - 1])
        return busiest / window, shortest


def _rss_tree(pid: int) -> int:
    total = 0
    for task in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{task}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def _children(pid: int) -> list[int]:
    try:
        direct = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return [*direct, *(g for c in direct for g in _children(c))]


def crawl(processes: int, registry: Path, rate: float, articles: int, concurrency: int) -> tuple[float, int, int]:
    """One shared crawl with `processes` processes: (seconds, articles stored, peak RSS of one process)."""
    schema, prefix = f"nw_bench_{uuid.uuid4().hex[:8]}", f"nw_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    db = f"{PG_URL}?options=-csearch_path%3D{schema}"
    settings = {
        "DOWNLOAD_DELAY": 1 / rate,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": concurrency,
        "NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": True,
        "NEWSWIRE_EXTRACT_WORKERS": 0,
        "NEWSWIRE_MAX_ARTICLES_PER_OUTLET": articles,
        "NEWSWIRE_FRONTIER_PREFIX": prefix,
        "NEWSWIRE_PROGRESS_INTERVAL": 0,
    }
    args = [a for key, value in settings.items() for a in ("-s", f"{key}={value}")]
    common = ["--sources", str(registry), "--db", db, "--frontier", REDIS_URL, "-q", *args]
    peak = [0]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            launch = [sys.executable, "-m", "crawler"]
            workers = [
                subprocess.Popen([*launch, "worker", *common], cwd=tmp, stdout=subprocess.DEVNULL)
                for _ in range(processes - 1)
            ]
            time.sleep(4 if workers else 0)  # workers up (imports) before the planner queues
            started = time.monotonic()
            planner = subprocess.Popen([*launch, "crawl", *common], cwd=tmp, stdout=subprocess.DEVNULL)
            while planner.poll() is None:
                peak[0] = max(peak[0], *(_rss_tree(p.pid) for p in (planner, *workers)))
                time.sleep(0.5)
            seconds = time.monotonic() - started
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(120)
        with admin.begin() as connection:
            stored = connection.execute(text(f"SELECT count(*) FROM {schema}.articles")).scalar_one()
        return seconds, stored, peak[0]
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{{{prefix}}}:*", count=10_000))
        for start in range(0, len(keys), 10_000):
            client.delete(*keys[start : start + 10_000])


def fingerprint_bytes(count: int = 100_000) -> float:
    """Redis memory per seen article fingerprint, written by the dupefilter's own script (into a day's set)."""
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from crawler.frontier.dupefilter import ExpiringDupeFilter

    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"nw_bench_{uuid.uuid4().hex[:8]}"
    settings = {"NEWSWIRE_FRONTIER": REDIS_URL, "NEWSWIRE_FRONTIER_PREFIX": prefix}
    dupefilter = ExpiringDupeFilter.from_crawler(get_crawler(settings_dict=settings))
    before = int(client.info("memory")["used_memory"])
    with client.pipeline(transaction=False) as pipe:
        for n in range(count):
            request = Request(f"https://outlet{n % 50}.example/2026/12/story-{n}", cb_kwargs={"hints": None})
            script, keys, args = dupefilter.seen_call(request)
            script(keys=keys, args=args, client=pipe)
            if n % 5000 == 4999:
                pipe.execute()
        pipe.execute()
    after = int(client.info("memory")["used_memory"])
    keys = list(client.scan_iter(match=f"{{{prefix}}}:*", count=10_000))
    if keys:
        client.delete(*keys)
    return (after - before) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outlets", type=int, default=20)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--rate", type=float, default=3.0, help="requests per second per host")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--concurrency",
        type=int,
        default=2,
        help="CONCURRENT_REQUESTS of each process: low enough that one process is bound by latency, not by the "
        "hosts' rates (outlets × rate requests/s in all)",
    )
    args = parser.parse_args()
    web = LatencyWeb(args.outlets, args.articles)
    bases = web.start()
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp) / "sources.toml"
        registry.write_text(
            "".join(
                f'[[outlet]]\nname = "Outlet {n}"\nhomepage = "{base}/"\nsitemaps = ["{base}/sitemap.xml"]\n\n'
                for n, base in enumerate(bases)
            )
        )
        print(
            f"# shared crawl, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {args.outlets} outlets × "
            f"{args.articles} articles, answers after 100–300 ms, {args.rate:g} requests/s per host, "
            f"{args.concurrency} concurrent requests per process"
        )
        print(
            f"{'processes':>9} {'seconds':>8} {'stored':>7} {'articles/s':>10} {'x one':>6} {'host req/s':>10} "
            f"{'min gap s':>9} {'peak RSS MB':>11}"
        )
        one = None
        for processes in args.workers:
            mark = time.monotonic()
            seconds, stored, peak = crawl(processes, registry, args.rate, args.articles, args.concurrency)
            rate = stored / seconds
            one = one or rate
            host_rate, gap = web.host_rates(mark)
            print(
                f"{processes:>9} {seconds:>8.1f} {stored:>7} {rate:>10.1f} {rate / one:>6.2f} "
                f"{host_rate:>10.2f} {gap:>9.3f} {peak / 2**20:>11.0f}",
                flush=True,
            )
        print(f"# Redis: {fingerprint_bytes():.0f} bytes per seen article fingerprint (100,000 written)")
        print(
            f"# host req/s: the most requests any host got per second over 10 s (limit {args.rate:g}); min gap: the "
            f"shortest time between two requests to one host (limit {1 / args.rate:.3f} s, less the answers' jitter)"
        )
    web.stop()


if __name__ == "__main__":
    main()
