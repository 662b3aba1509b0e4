"""Crawl throughput over real pages: the corpus served on loopback and crawled by `newswire crawl` (extraction
in-process and in worker processes, each run a fresh process and database), by a plain Scrapy spider calling
trafilatura.extract in its callback (bench/plain_spider.py), and `extract_article` alone in a loop on one core.

Usage: python -m bench.crawl_throughput [--corpus ../shared/corpus] [--workers 0 2] [--rounds 3]
Prints, per configuration (median of interleaved rounds): wall seconds, pages/s, the ratio to one core of
extract_article, the ratio to the plain spider, CPU cores used and the peak RSS of the process tree.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
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


def _tree_rss(root: int) -> int:
    """Resident memory of a process and its descendants, in bytes (Linux /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    total = 0
    for pid in tree:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    peak_rss: int
    summary: str


def measured(args: list[str], cwd: str) -> Run:
    """Run a command to its end: wall time, CPU time of it and its descendants, peak RSS of the tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=cwd)
    peak, done = [0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(process.pid))
            done.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, _ = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(seconds, cpu, peak[0], out.strip().splitlines()[-1] if out.strip() else "")


def crawl_once(registry: Path, workers: int, pages: int) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "crawler", "crawl", "--sources", str(registry), "--limit", str(pages)]
        args += ["--db", f"sqlite:///{tmp}/bench.db"]
        for key, value in {**FAST, "NEWSWIRE_EXTRACT_WORKERS": str(workers)}.items():
            args += ["-s", f"{key}={value}"]
        return measured(args, tmp)


def plain_spider_once(sitemap: str) -> Run:
    return measured([sys.executable, "-m", "bench.plain_spider", sitemap], str(PROJECT))


def extract_alone_once(corpus: Path) -> Run:
    """extract_article over every page in one process, one core (pages decoded as the crawl decodes them)."""
    code = (
        "import gzip, json, sys, time\n"
        "from pathlib import Path\n"
        "from crawler.encoding import page_text\n"
        "from crawler.extract import extract_article\n"
        f"corpus = Path({str(corpus)!r})\n"
        "pages = [gzip.decompress((corpus / json.loads(l)['html']).read_bytes())"
        " for l in (corpus / 'index.jsonl').read_text().splitlines()]\n"
        "n = sum(1 for i, body in enumerate(pages) if extract_article(page_text(body, None)[0], f'http://x/{i}').text)\n"
        "print(n)\n"
    )
    return measured([sys.executable, "-c", code], str(PROJECT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
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
            f"{pages} corpus pages on loopback, {args.rounds} interleaved rounds"
        )
        configs = {"extract_article alone": lambda: extract_alone_once(args.corpus)}
        configs["plain Scrapy + trafilatura"] = lambda: plain_spider_once(f"{base}/sitemap.xml")
        for workers in args.workers:
            configs[f"newswire, {workers} workers"] = lambda w=workers: crawl_once(registry, w, pages)
        runs: dict[str, list[Run]] = {name: [] for name in configs}
        for _ in range(args.rounds):
            for name, run in configs.items():
                runs[name].append(run())
    server.stop()
    rates = {name: pages / statistics.median(r.seconds for r in rs) for name, rs in runs.items()}
    alone, plain = rates["extract_article alone"], rates["plain Scrapy + trafilatura"]
    header = ("configuration", "seconds", "pages/s", "x alone", "x plain", "cores", "peak MB")
    print(f"{header[0]:<28} " + " ".join(f"{h:>8}" for h in header[1:]))
    for name, rs in runs.items():
        seconds = statistics.median(r.seconds for r in rs)
        cores = statistics.median(r.cpu_seconds / r.seconds for r in rs)
        peak = statistics.median(r.peak_rss for r in rs) / 2**20
        print(
            f"{name:<28} {seconds:>8.2f} {rates[name]:>8.1f} {rates[name] / alone:>8.2f} {rates[name] / plain:>8.2f}"
            f" {cores:>8.2f} {peak:>8.0f}"
        )
    for name, rs in runs.items():
        if rs[-1].summary:
            print(f"# {name}: {rs[-1].summary[:160]}")


if __name__ == "__main__":
    main()
