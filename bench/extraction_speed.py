"""Extraction speed on real pages: newswire's extract_article against trafilatura, same pages, one run.

Usage: python -m bench.extraction_speed [--corpus ../shared/corpus] [--sets aeb,fundus,treval] [--rounds 3]
       [--limit N]
Each round runs every row over all pages of the chosen sets (default: aeb); prints pages per second
(median of the rounds) for each row and the ratio to bare_extraction.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import trafilatura

from bench.corpus import SETS, load
from crawler.extract import extract_article

PROJECT = Path(__file__).resolve().parents[1]

ROWS = {
    "newswire extract_article": lambda html, url: extract_article(html, url),
    "trafilatura bare_extraction(with_metadata)": lambda html, url: trafilatura.bare_extraction(
        html, url=url, with_metadata=True
    ),
    "trafilatura extract (defaults)": lambda html, url: trafilatura.extract(html, url=url),
}


def load_pages(corpus: Path, sets: tuple[str, ...], limit: int | None) -> list[tuple[str, str]]:
    """(html, url) of the pages of the chosen sets, the first `limit` of each set when given."""
    pages = load(corpus, sets)
    chosen = []
    for dataset in sets:
        chosen += [(p.html, p.url) for p in pages if p.dataset == dataset][:limit]
    return chosen


WARM_UP = 3  # pages run once per row before the rounds: imports and lazy set-up are not what is measured


def rate(run, pages: list[tuple[str, str]]) -> float:
    """Pages per second of one pass."""
    start = time.perf_counter()
    for html, url in pages:
        run(html, url)
    return len(pages) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--sets", default="aeb", help="comma-separated: aeb,fundus,treval")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="first N pages per set")
    args = parser.parse_args()
    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    if unknown := set(sets) - set(SETS):
        parser.error(f"unknown sets: {', '.join(sorted(unknown))}")
    if not (args.corpus / "index.jsonl").exists():
        sys.exit(f"no corpus at {args.corpus} (pass --corpus)")
    pages = load_pages(args.corpus, sets, args.limit)
    print(
        f"# extraction speed, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()} {platform.machine()}, "
        f"python {platform.python_version()}, trafilatura {version('trafilatura')}, {len(pages)} pages "
        f"({', '.join(sets)})"
    )
    results = {}
    for name, run in ROWS.items():
        rate(run, pages[:WARM_UP])
        results[name] = statistics.median(rate(run, pages) for _ in range(args.rounds))
    base = results["trafilatura bare_extraction(with_metadata)"]
    print(f"{'row':<45} {'pages/s':>9} {'ratio':>7}")
    for name, value in results.items():
        print(f"{name:<45} {value:>9.1f} {value / base:>7.2f}")


if __name__ == "__main__":
    main()
