"""Extraction speed on real pages: newswire's extract_article against trafilatura, same pages, one run.

Usage: python -m bench.extraction_speed [--corpus ../shared/corpus] [--sets aeb,fundus,treval] [--rounds 3]
       [--limit N]

Rows are interleaved page by page (each page runs every row, in an order that rotates from page to page),
so a machine that slows down during the run slows every row alike; each call is timed in CPU time of this
process. Per set, prints pages per CPU-second (median of the rounds) for each row and the ratio to
bare_extraction(with_metadata=True). Then, from one more pass with counters on (not timed), what newswire
does per page: HTML parses, whole-tree copies and pruning passes (bench.work_counts).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import trafilatura

from bench.corpus import SETS, load
from bench.work_counts import WorkCounter
from crawler.extract import extract_article

PROJECT = Path(__file__).resolve().parents[1]
BASE = "trafilatura bare_extraction(with_metadata)"

ROWS: dict[str, Callable[[str, str], object]] = {
    "newswire extract_article": lambda html, url: extract_article(html, url),
    BASE: lambda html, url: trafilatura.bare_extraction(html, url=url, with_metadata=True),
    "trafilatura extract (defaults)": lambda html, url: trafilatura.extract(html, url=url),
}
WARM_UP = 3  # pages run once per row before the rounds: imports and lazy set-up are not what is measured


def load_pages(corpus: Path, sets: tuple[str, ...], limit: int | None) -> dict[str, list[tuple[str, str]]]:
    """(html, url) of the pages of each chosen set, the first `limit` of each when given."""
    pages = load(corpus, sets)
    return {s: [(p.html, p.url) for p in pages if p.dataset == s][:limit] for s in sets}


def interleaved_round(pages: list[tuple[str, str]]) -> dict[str, float]:
    """CPU seconds each row spent on all `pages`, the rows taking turns page by page."""
    names = list(ROWS)
    spent = dict.fromkeys(names, 0.0)
    for index, (html, url) in enumerate(pages):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.process_time()
            ROWS[name](html, url)
            spent[name] += time.process_time() - start
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: aeb,fundus,treval")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="first N pages per set")
    args = parser.parse_args()
    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    if unknown := set(sets) - set(SETS):
        parser.error(f"unknown sets: {', '.join(sorted(unknown))}")
    if not (args.corpus / "index.jsonl").exists():
        sys.exit(f"no corpus at {args.corpus} (pass --corpus)")
    by_set = load_pages(args.corpus, sets, args.limit)
    print(
        f"# extraction speed, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()} {platform.machine()}, "
        f"python {platform.python_version()}, trafilatura {version('trafilatura')}; rows interleaved page by page, "
        f"CPU time, median of {args.rounds} rounds"
    )
    for html, url in next(iter(by_set.values()))[:WARM_UP]:
        for run in ROWS.values():
            run(html, url)
    print(f"\n{'set':<7} {'pages':>5}  {'row':<45} {'pages/CPU-s':>11} {'ms/page':>8} {'× bare':>7}")
    for dataset, pages in by_set.items():
        rounds = [interleaved_round(pages) for _ in range(args.rounds)]
        rate = {name: len(pages) / statistics.median(r[name] for r in rounds) for name in ROWS}
        for name, value in rate.items():
            ratio = value / rate[BASE]
            print(f"{dataset:<7} {len(pages):>5}  {name:<45} {value:>11.1f} {1000 / value:>8.1f} {ratio:>7.2f}")
    print("\nwork per page of newswire extract_article (one pass with counters on, not timed)")
    print(f"{'set':<7} {'parses':>7} {'tree copies':>12} {'pruning passes':>15} {'trafilatura passes':>19}")
    for dataset, pages in by_set.items():
        counter = WorkCounter()
        with counter:
            for html, url in pages:
                extract_article(html, url)
        per_page = counter.per_page(len(pages))
        print(f"{dataset:<7} {per_page['parses']:>7.2f} {per_page['tree copies']:>12.2f} "
              f"{per_page['pruning passes']:>15.2f} {per_page['trafilatura passes']:>19.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
