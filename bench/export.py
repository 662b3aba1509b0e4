"""Export at scale: a synthetic store of N articles (default 1,000,000), generated directly in a SQLite database
(not crawled), exported as JSON Lines, CSV, Parquet and WARC by `newswire export`, each in a process of its
own.

Prints, per format: rows/s (the whole command, imports included), the process's peak RSS (wait4's ru_maxrss),
and the output's size; then Parquet's size against the JSON Lines gzipped (level 6). Targets (issue 14):
peak RSS ≤ 250 MB whatever the size, Parquet ≥ 100,000 rows/s.

The articles: 40 outlets, texts of 8–14 paragraphs drawn from a fixed vocabulary (about 2.4 KB each, with
the repetition of real news prose left out: gzip and zstd do better on real text), 2 authors, 3 tags, 2
citations, dates over two years with offsets, one story per 3 articles. No raw pages are kept (the WARC
export then writes metadata and conversion records only).

    python -m bench.export [--articles 1000000] [--formats jsonl csv parquet warc] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.report import table
from storage.db import Store
from storage.models import Article, Citation, Outlet, Story

OUTLETS = 40
BATCH = 10_000
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "said",
    "on",
    "for",
    "that",
    "with",
    "was",
    "is",
    "by",
    "at",
    "from",
    "as",
    "it",
    "government",
    "minister",
    "port",
    "city",
    "police",
    "officials",
    "report",
    "week",
    "year",
    "people",
    "country",
    "president",
    "talks",
    "water",
    "market",
    "price",
    "strike",
    "court",
    "election",
    "agency",
    "health",
    "region",
    "border",
    "trade",
    "ship",
    "workers",
    "union",
    "plan",
    "budget",
    "company",
    "schools",
    "farmers",
    "rain",
    "power",
]


def _text(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(rng.randint(8, 14)):
        words = rng.choices(WORDS, k=rng.randint(25, 45))
        paragraphs.append(" ".join(words).capitalize() + ".")
    return "\n\n".join(paragraphs)


def generate(db_path: Path, articles: int) -> float:
    """Fill a fresh database with `articles` synthetic articles; return the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(1)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with Store(f"sqlite:///{db_path}", migrate=True) as store, store.sessions.begin() as session:
        outlets = [
            {"name": f"Outlet {n}", "slug": f"outlet-{n}", "homepage": f"https://o{n}.example/"} for n in range(OUTLETS)
        ]
        session.execute(insert(Outlet), [{**o, "created_at": start, "aliases": []} for o in outlets])
        session.execute(insert(Story), [{"created_at": start} for _ in range(articles // 3 + 1)])
        for first in range(0, articles, BATCH):
            rows, citations = [], []
            for number in range(first, min(first + BATCH, articles)):
                outlet = number % OUTLETS + 1
                published = start + timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
                offset = rng.choice([0, 60, 120, 180, -300, None])
                rows.append(
                    {
                        "id": number + 1, "outlet_id": outlet, "url": f"https://o{outlet}.example/news/{number}",
                        "canonical_url": f"https://o{outlet}.example/news/{number}", "title": f"Story number {number}",
                        "authors": [f"Reporter {number % 97}", f"Editor {number % 13}"], "published": published,
                        "published_raw": published.isoformat(), "published_source": "json-ld",
                        "published_offset": offset, "language": "en", "site_name": f"Outlet {outlet}",
                        "description": None, "tags": ["politics", "economy", f"topic-{number % 50}"], "image": None,
                        "text": _text(rng), "html": "", "text_hash": f"{number:064x}", "page_kind": "article",
                        "version": 1, "discovered_via": "feed", "listing": f"https://o{outlet}.example/feed",
                        "license": None, "extractor": "newswire 0.1.0; trafilatura 2.0.0",
                        "changed": number // BATCH + 1, "fetched_at": published + timedelta(hours=1),
                        "story_id": number // 3 + 1,
                    }
                )  # fmt: skip
                citations += [
                    {"article_id": number + 1, "name": name, "kind": "attribution", "evidence": "…", "domain": None}
                    for name in ("Reuters", "Associated Press")
                ]
            session.execute(insert(Article), rows)
            session.execute(insert(Citation), citations)
    return time.perf_counter() - started


def export(db_path: Path, fmt: str, out: Path) -> tuple[float, int, int]:
    """(seconds, peak RSS in bytes, exported bytes) of `newswire export --format fmt` in a process of its own.

    The peak is the process's VmHWM after its exec, read from /proc while it runs: wait4's ru_maxrss would
    count the memory of this process (which holds the generator's data) that the child had before exec."""
    command = [sys.executable, "-m", "crawler", "export", "--db", f"sqlite:///{db_path}", "--format", fmt]
    command += ["--out", str(out), "-q"]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _high_water_mark(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"export --format {fmt} failed ({process.returncode})")
    return seconds, peak, out.stat().st_size


def _high_water_mark(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def gzipped_size(path: Path) -> int:
    with open(path, "rb") as source, tempfile.TemporaryFile() as target:
        with gzip.GzipFile(fileobj=target, mode="wb", compresslevel=6) as zipped:
            shutil.copyfileobj(source, zipped, 1 << 20)
        return target.tell()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--formats", nargs="+", default=["jsonl", "csv", "parquet", "warc"])
    parser.add_argument("--keep", type=Path, default=None, help="Work in DIR and keep the store and exports.")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="newswire-export-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "store.db"
    try:
        if not db_path.exists():
            generated = generate(db_path, args.articles)
            size = db_path.stat().st_size / 2**30
            print(f"# generated {args.articles:,} articles in {generated:.0f} s ({size:.2f} GiB)")
        rows, sizes = [], {}
        suffix = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet", "warc": "warc.gz"}
        for fmt in args.formats:
            out = work / f"corpus.{suffix[fmt]}"
            seconds, rss, size = export(db_path, fmt, out)
            sizes[fmt] = size
            rows.append(
                [fmt, f"{args.articles / seconds:,.0f}", f"{seconds:.1f}", f"{rss / 2**20:.0f}", f"{size / 2**20:,.0f}"]
            )
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        machine = f"{os.cpu_count()} cores, Python {platform.python_version()}"
        print(f"# export, {when}, {machine}, {args.articles:,} articles (SQLite)")
        print(table(["format", "rows/s", "seconds", "peak RSS MB", "output MB"], rows))
        if "parquet" in sizes and "jsonl" in sizes:
            zipped = gzipped_size(work / "corpus.jsonl")
            parquet = sizes["parquet"] / 2**20
            print(
                f"# Parquet (zstd) {parquet:,.0f} MB vs JSON Lines gzipped (6) {zipped / 2**20:,.0f} MB: "
                f"{sizes['parquet'] / zipped:.2f}×"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
