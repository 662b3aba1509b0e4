"""Crawl throughput over real pages: a web of N article pages on loopback — the corpus's pages, each served
in as many editions as N needs (an edition adds "Edition k." to its paragraphs: another text, the same
markup), spread over 10 outlets — crawled by `newswire crawl` (extraction in-process and in worker
processes, each run a fresh process and database), by a plain Scrapy spider calling trafilatura.extract in
its callback (bench/plain_spider.py), and `extract_article` alone in a loop on one core.

Usage: python -m bench.crawl_throughput [--corpus ../shared/corpus] [--pages 2000 20000] [--workers 0 2]
       [--rounds 3]
At the first size, per configuration (median of interleaved rounds): wall seconds, pages/s, the ratio to
one core of extract_article, the ratio to the plain spider, CPU cores used, and the peak RSS and PSS of the
process tree (PSS shares the pages processes have in common among them; RSS counts them in each). Then
newswire with the most workers at every size, once: per-article time and peak RSS, their ratios to the
first size, and an unchanged re-crawl of the same web into the same database.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
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
from typing import Any

from crawler.demo.server import NewsWebServer, Resource

PROJECT = Path(__file__).resolve().parents[1]

FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "NEWSWIRE_PROGRESS_INTERVAL": "0",
}


OUTLETS = 10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PARAGRAPH = re.compile(rb"(<p(?:\s[^>]*)?>)", re.IGNORECASE)


def corpus_pages(corpus: Path) -> list[bytes]:
    """The corpus's pages, as served."""
    lines = (corpus / "index.jsonl").read_text(encoding="utf-8").splitlines()
    return [gzip.decompress((corpus / json.loads(line)["html"]).read_bytes()) for line in lines]


def edition(body: bytes, number: int) -> bytes:
    """Edition `number` of a page: its paragraphs begin with "Edition <number>." (edition 0: the page)."""
    return body if number == 0 else _PARAGRAPH.sub(rb"\1Edition %d. " % number, body)


class WebRoutes(dict):
    """One outlet's routes: robots.txt, a sitemap of its pages, and the pages, made when asked for (a web of
    20,000 pages would not fit in memory)."""

    def __init__(self, pages: list[bytes], outlet: int, total: int, base: str) -> None:
        super().__init__()
        self.pages, self.numbers = pages, range(outlet, total, OUTLETS)
        locs = "".join(f"<url><loc>{base}/page/{n}</loc></url>" for n in self.numbers)
        self["/robots.txt"] = Resource(b"User-agent: *\nDisallow:\n", "text/plain")
        self["/sitemap.xml"] = Resource(
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'.encode(), "application/xml"
        )

    def get(self, path: str, default: Any = None) -> Any:
        if path.startswith("/page/") and path[6:].isdigit() and int(path[6:]) in self.numbers:
            number = int(path[6:])
            return Resource(edition(self.pages[number % len(self.pages)], number // len(self.pages)))
        return super().get(path, default)


def serve_web(server: NewsWebServer, bases: dict[str, str], pages: list[bytes], total: int) -> None:
    """Give each outlet of `server` its share of a web of `total` pages."""
    for outlet, slug in enumerate(sorted(bases)):
        server.sites[slug].routes = WebRoutes(pages, outlet, total, bases[slug])


def _tree(root: int) -> set[int]:
    """A process and its descendants (Linux /proc)."""
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
    return tree


def _role(pid: int, root: int, parents: dict[int, int]) -> str:
    """What a process of the crawl's tree is: the crawl, the workers' fork server, a worker, the tracker."""
    if pid == root:
        return "crawl"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return "other"
    if b"resource_tracker" in command:
        return "resource tracker"
    if parents.get(pid) != root:
        return "worker"  # a child of the fork server (forked: it shows the server's command line)
    return "fork server" if b"forkserver" in command else "other"


def _tree_memory(root: int) -> tuple[int, int, dict[int, float], dict[str, int]]:
    """(RSS, PSS, CPU seconds by pid, PSS by role) of a process tree, memory in bytes: PSS divides each shared
    page among the processes sharing it; by role, the workers' figure is the largest one worker's. CPU is read
    here too because the extraction workers are the children of a fork server the crawl never waits for, so
    RUSAGE_CHILDREN misses them."""
    rss = pss = 0
    cpu: dict[int, float] = {}
    roles: dict[str, int] = {}
    parents: dict[int, int] = {}
    for pid in _tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            parents[pid] = int(fields[1])
            cpu[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
            own = 0
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith(("Rss:", "Pss:")):
                    kilobytes = int(line.split()[1]) * 1024
                    rss, pss = (rss + kilobytes, pss) if line.startswith("Rss:") else (rss, pss + kilobytes)
                    own += kilobytes if line.startswith("Pss:") else 0
        except (OSError, IndexError, ValueError):
            continue
        role = _role(pid, root, parents)
        roles[role] = max(roles.get(role, 0), own)
    return rss, pss, cpu, roles


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    peak_rss: int
    peak_pss: int
    summary: str
    pss_by_role: dict[str, int]  # at the moment the tree's PSS peaked


def measured(args: list[str], cwd: str) -> Run:
    """Run a command to its end: wall time, CPU time of it and its descendants (the larger of what the kernel
    counted for waited-for children and what was sampled from /proc), peak RSS and PSS of the tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=cwd)
    peak, sampled_cpu, done = [0, 0], dict[int, float](), threading.Event()
    roles_at_peak: dict[str, int] = {}

    def watch() -> None:
        while not done.is_set():
            rss, pss, cpu, roles = _tree_memory(process.pid)
            if pss > peak[1]:
                roles_at_peak.clear()
                roles_at_peak.update(roles)
            peak[:] = max(peak[0], rss), max(peak[1], pss)
            sampled_cpu.update(cpu)
            done.wait(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, _ = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = max((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), sum(sampled_cpu.values()))
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    return Run(seconds, cpu, peak[0], peak[1], summary, dict(roles_at_peak))


def crawl_once(registry: Path, workers: int, pages: int, recrawl: bool = False) -> tuple[Run, Run | None]:
    """A crawl of the web into a new database (and, with `recrawl`, a second crawl of it into the same)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "crawler", "crawl", "--sources", str(registry)]
        args += ["--limit", str(-(-pages // OUTLETS)), "--db", f"sqlite:///{tmp}/bench.db"]
        for key, value in {**FAST, "NEWSWIRE_EXTRACT_WORKERS": str(workers)}.items():
            args += ["-s", f"{key}={value}"]
        first = measured(args, tmp)
        return first, measured(args, tmp) if recrawl else None


def plain_spider_once(sitemaps: list[str]) -> Run:
    return measured([sys.executable, "-m", "bench.plain_spider", *sitemaps], str(PROJECT))


def extract_alone_once(corpus: Path) -> Run:
    """extract_article over every page in one process, one core (pages decoded as the crawl decodes them)."""
    code = (
        "from pathlib import Path\n"
        "from bench.crawl_throughput import corpus_pages\n"
        "from crawler.processing.encoding import page_text\n"
        "from crawler.extract import extract_article\n"
        f"pages = corpus_pages(Path({str(corpus)!r}))\n"
        "n = sum(1 for i, body in enumerate(pages) if extract_article(page_text(body, None)[0], f'http://x/{i}').text)\n"
        "print(n)\n"
    )
    return measured([sys.executable, "-c", code], str(PROJECT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--pages", type=int, nargs="+", default=[2000])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (args.corpus / "index.jsonl").exists():
        sys.exit(f"no corpus at {args.corpus} (pass --corpus)")
    pages = corpus_pages(args.corpus)
    server = NewsWebServer([f"outlet{n}" for n in range(OUTLETS)])
    bases = server.start()
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp) / "sources.toml"
        registry.write_text(
            "".join(
                f'[[outlet]]\nname = "{slug}"\nhomepage = "{base}/"\nsitemaps = ["{base}/sitemap.xml"]\n\n'
                for slug, base in sorted(bases.items())
            )
        )
        size = args.pages[0]
        serve_web(server, bases, pages, size)
        print(
            f"# crawl throughput, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
            f"{size} pages ({len(pages)} corpus pages in editions) on {OUTLETS} loopback outlets, "
            f"{args.rounds} interleaved rounds"
        )
        configs = {"extract_article alone": lambda: extract_alone_once(args.corpus)}
        sitemaps = [f"{base}/sitemap.xml" for _slug, base in sorted(bases.items())]
        configs["plain Scrapy + trafilatura"] = lambda: plain_spider_once(sitemaps)
        for workers in args.workers:
            configs[f"newswire, {workers} workers"] = lambda w=workers: crawl_once(registry, w, size)[0]
        runs: dict[str, list[Run]] = {name: [] for name in configs}
        for _ in range(args.rounds):
            for name, run in configs.items():
                runs[name].append(run())
        report(runs, {name: len(pages) if name.startswith("extract") else size for name in runs})
        scaling(server, bases, pages, registry, args.pages, max(args.workers))
    server.stop()


def report(runs: dict[str, list[Run]], counts: dict[str, int]) -> None:
    """The table of one size: medians, and the ratios to extraction alone and to the plain spider."""
    rates = {name: counts[name] / statistics.median(r.seconds for r in rs) for name, rs in runs.items()}
    alone, plain = rates["extract_article alone"], rates["plain Scrapy + trafilatura"]
    header = ("configuration", "seconds", "pages/s", "x alone", "x plain", "cores", "RSS MB", "PSS MB")
    print(f"{header[0]:<28} " + " ".join(f"{h:>8}" for h in header[1:]))
    for name, rs in runs.items():
        seconds = statistics.median(r.seconds for r in rs)
        cores = statistics.median(r.cpu_seconds / r.seconds for r in rs)
        rss = statistics.median(r.peak_rss for r in rs) / 2**20
        pss = statistics.median(r.peak_pss for r in rs) / 2**20
        print(
            f"{name:<28} {seconds:>8.2f} {rates[name]:>8.1f} {rates[name] / alone:>8.2f} {rates[name] / plain:>8.2f}"
            f" {cores:>8.2f} {rss:>8.0f} {pss:>8.0f}"
        )
    for name, rs in runs.items():
        if rs[-1].summary:
            print(f"# {name}: {rs[-1].summary[:200]}")
    for name, rs in runs.items():
        roles = rs[-1].pss_by_role
        if len(roles) > 1:  # a crawl with extraction workers: what each process holds when the tree peaked
            parts = ", ".join(f"{role} {size / 2**20:.0f}" for role, size in sorted(roles.items()))
            print(f"# {name}: PSS MB by process at the peak (workers: the largest one) — {parts}")


def scaling(
    server: NewsWebServer, bases: dict[str, str], pages: list[bytes], registry: Path, sizes: list[int], workers: int
) -> None:
    """newswire at each size, once, with an unchanged re-crawl: per-article time and peak memory."""
    print(f"# newswire, {workers} workers, by size (one run each; ratios to the first size)")
    header = ("pages", "seconds", "ms/page", "ratio", "RSS MB", "ratio", "PSS MB", "recrawl s")
    print(" ".join(f"{h:>9}" for h in header))
    first: tuple[float, int] | None = None
    for size in sizes:
        serve_web(server, bases, pages, size)
        run, again = crawl_once(registry, workers, size, recrawl=True)
        per_page = run.seconds / size * 1000
        first = first or (per_page, run.peak_rss)
        print(
            f"{size:>9} {run.seconds:>9.1f} {per_page:>9.2f} {per_page / first[0]:>9.2f} {run.peak_rss / 2**20:>9.0f}"
            f" {run.peak_rss / first[1]:>9.2f} {run.peak_pss / 2**20:>9.0f} {again.seconds if again else 0:>9.1f}"
        )
        print(f"#   crawl: {run.summary[:200]}")
        if again:
            print(f"#   re-crawl: {again.summary[:200]}")


if __name__ == "__main__":
    main()
