"""Crawl throughput over real pages: the corpus served on loopback, crawled with extraction in-process
and in worker processes, each configuration a fresh `newswire crawl` process and database.

Usage: python -m bench.crawl_throughput [--corpus ../shared/corpus] [--workers 0 1 2] [--rounds 3]
Prints wall seconds and articles per second (median of the rounds) and the ratio to workers=0.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from crawler.newsweb.server import NewsWebServer, Resource

PROJECT = Path(__file__).resolve().parents[1]

FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "NEWSWIRE_PROGRESS_INTERVAL": "0",
}


def corpus_routes(corpus: Path, base: str) -> tuple[dict[str, Resource], int]:
    """Every corpus page at /page/<n>, listed in /sitemap.xml; robots.txt allows all."""
    routes: dict[str, Resource] = {"/robots.txt": Resource(b"User-agent: *\nDisallow:\n", "text/plain")}
    locs = []
    for n, line in enumerate((corpus / "index.jsonl").read_text(encoding="utf-8").splitlines()):
        entry = json.loads(line)
        routes[f"/page/{n}"] = Resource(gzip.decompress((corpus / entry["html"]).read_bytes()))
        locs.append(f"<url><loc>{base}/page/{n}</loc></url>")
    sitemap = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(locs) + "</urlset>"
    routes["/sitemap.xml"] = Resource(sitemap.encode(), "application/xml")
    return routes, len(locs)


def crawl_once(registry: Path, workers: int, pages: int) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "crawler", "crawl", "--sources", str(registry), "--limit", str(pages)]
        args += ["--db", f"sqlite:///{tmp}/bench.db"]
        for key, value in {**FAST, "NEWSWIRE_EXTRACT_WORKERS": str(workers)}.items():
            args += ["-s", f"{key}={value}"]
        start = time.perf_counter()
        result = subprocess.run(args, capture_output=True, text=True, cwd=tmp, env=os.environ.copy())
        return time.perf_counter() - start, result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (args.corpus / "index.jsonl").exists():
        sys.exit(f"no corpus at {args.corpus} (pass --corpus)")
    server = NewsWebServer(["bench"])
    base = server.start()["bench"]
    routes, pages = corpus_routes(args.corpus, base)
    server.sites["bench"].routes = routes
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp) / "sources.toml"
        registry.write_text(f'[[outlet]]\nname = "Bench"\nhomepage = "{base}/"\nsitemaps = ["{base}/sitemap.xml"]\n')
        print(
            f"# crawl throughput, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
            f"{pages} corpus pages on loopback, {args.rounds} rounds"
        )
        rows = {}
        for workers in args.workers:
            runs = [crawl_once(registry, workers, pages) for _ in range(args.rounds)]
            rows[workers] = (statistics.median(r[0] for r in runs), runs[-1][1])
    server.stop()
    base_seconds = rows[args.workers[0]][0]
    print(f"{'extract workers':<16} {'seconds':>8} {'pages/s':>8} {'speed-up':>9}  last summary")
    for workers, (seconds, summary) in rows.items():
        print(f"{workers:<16} {seconds:>8.2f} {pages / seconds:>8.1f} {base_seconds / seconds:>9.2f}  {summary}")


if __name__ == "__main__":
    main()
