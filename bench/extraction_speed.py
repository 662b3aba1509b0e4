"""Extraction speed on real pages: newswire's extract_article against trafilatura, same pages, one run.

Usage: python bench/extraction_speed.py [--corpus ../shared/corpus] [--rounds 3] [--limit N]
Prints pages per second (median of the rounds) for each row and the ratio to bare_extraction.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from crawler.extract import extract_article  # noqa: E402


def load_pages(corpus: Path, limit: int | None) -> list[tuple[str, str]]:
    """(html, url) of the article-extraction-benchmark pages listed in the corpus index."""
    pages = []
    for line in (corpus / "index.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["dataset"] == "aeb":
            html = gzip.decompress((corpus / entry["html"]).read_bytes()).decode("utf-8", errors="replace")
            pages.append((html, entry["url"]))
    return pages[:limit] if limit else pages


ROWS = {
    "newswire extract_article": lambda html, url: extract_article(html, url),
    "trafilatura bare_extraction(with_metadata)": lambda html, url: trafilatura.bare_extraction(
        html, url=url, with_metadata=True
    ),
    "trafilatura extract (defaults)": lambda html, url: trafilatura.extract(html, url=url),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    if not (args.corpus / "index.jsonl").exists():
        sys.exit(f"no corpus at {args.corpus} (pass --corpus)")
    pages = load_pages(args.corpus, args.limit)
    print(
        f"# extraction speed, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()} {platform.machine()}, "
        f"python {platform.python_version()}, trafilatura {version('trafilatura')}, {len(pages)} pages"
    )
    results = {}
    for name, run in ROWS.items():
        rates = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for html, url in pages:
                run(html, url)
            rates.append(len(pages) / (time.perf_counter() - start))
        results[name] = statistics.median(rates)
    base = results["trafilatura bare_extraction(with_metadata)"]
    print(f"{'row':<45} {'pages/s':>9} {'ratio':>7}")
    for name, rate in results.items():
        print(f"{name:<45} {rate:>9.1f} {rate / base:>7.2f}")


if __name__ == "__main__":
    main()
