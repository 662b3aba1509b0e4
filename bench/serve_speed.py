"""Feed server latency: `newswire serve`'s app on waitress over loopback, fed by the demo's database.

Usage: python -m bench.serve_speed [--requests 200]
Prints the median milliseconds of a full GET (200), a gzip GET and a conditional GET (304) of the
merged feed, an outlet feed and the web reader's pages (index, a story, an outlet, a search), with the
built-document cache and without it (every request rebuilds the feed from the database), and the ratio.
The reader's pages are built on every request either way (their relative dates move): their two columns
measure the same thing twice.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import waitress

from feeds.web import app as serve_module

PROJECT = Path(__file__).resolve().parents[1]

FEEDS = ("/feeds/all.rss", "/feeds/outlet/maghreb-ledger.atom")
PAGES = ("/", "/outlets/maghreb-ledger", "/search?q=floods")


def median_ms(port: int, path: str, headers: dict[str, str], count: int) -> tuple[float, int, dict]:
    times, status, answer = [], 0, {}
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port)
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
        status, answer = response.status, {k.lower(): v for k, v in response.getheaders()}
        connection.close()
    return statistics.median(times) * 1000, status, answer


def busiest_story(db_url: str) -> str:
    """The page of the story with the most copies in the database (the story page's worst case here)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from storage.db import make_engine
    from storage.models import Article, Story

    engine = make_engine(db_url)
    with Session(engine) as session:
        story_id = session.scalar(
            select(Article.story_id).group_by(Article.story_id).order_by(func.count().desc()).limit(1)
        )
        original = session.get(Article, session.get(Story, story_id).original_article_id)
        uid = original.stable_uid
    engine.dispose()
    return f"/stories/{uid}"


def measure(db_url: str, paths: list[str], count: int, cache: bool) -> dict[tuple[str, str], float]:
    original = serve_module.data_version
    if not cache:
        serve_module.data_version = lambda session: object()  # never equal: every request rebuilds
    app = serve_module.make_app(db_url)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    results = {}
    try:
        for path in paths:
            full, _, headers = median_ms(server.effective_port, path, {}, count)
            gz, _, _ = median_ms(server.effective_port, path, {"Accept-Encoding": "gzip"}, count)
            etag = {"If-None-Match": headers.get("etag", "")}
            conditional, status, _ = median_ms(server.effective_port, path, etag, count)
            assert status == 304, (path, status)
            results.update({(path, "200"): full, (path, "200 gzip"): gz, (path, "304"): conditional})
    finally:
        server.close()
        app.close()
        serve_module.data_version = original
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "crawler", "demo", "--dir", tmp], cwd=PROJECT, capture_output=True)
        db_url = f"sqlite:///{Path(tmp) / 'newswire.db'}"
        paths = [*FEEDS, *PAGES[:1], busiest_story(db_url), *PAGES[1:]]
        cached = measure(db_url, paths, args.requests, cache=True)
        uncached = measure(db_url, paths, args.requests, cache=False)
    print(f"feed server, median ms of {args.requests} requests (new connection each), demo database")
    print(f"{'path':<36}{'request':<10}{'cached':>9}{'rebuilt':>9}{'ratio':>8}")
    for (path, kind), ms in cached.items():
        print(f"{path:<36}{kind:<10}{ms:>9.2f}{uncached[(path, kind)]:>9.2f}{uncached[(path, kind)] / ms:>8.1f}")


if __name__ == "__main__":
    main()
