"""What newswire extracts from every DEV page, written down, to tell a change that should change nothing from
one that does.

Usage: python -m bench.snapshot OUT.jsonl [--corpus ../shared/corpus] [--sets aeb,fundus,treval]
       python -m bench.snapshot --diff BEFORE.jsonl AFTER.jsonl

A snapshot holds one JSON line per page: the record's text, title, authors, date, language, page kind and
citations, extracted with a fixed fetch time (relative dates do not move between runs). --diff prints which
fields changed on how many pages, and the first pages where each did.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)
FIELDS = ("text", "title", "authors", "published", "language", "page_kind", "citations")


def snapshot(corpus: Path, sets: tuple[str, ...], out: Path) -> None:
    from bench.corpus import load
    from crawler.extract import ExtractionContext, extract_article

    context = ExtractionContext(fetched_at=FETCHED_AT)
    with out.open("w", encoding="utf-8") as handle:
        for page in load(corpus, sets):
            record = extract_article(page.html, page.url, context)
            row = {
                "id": f"{page.dataset}/{page.id}",
                "text": record.text,
                "title": record.title,
                "authors": record.authors,
                "published": record.published.isoformat() if record.published else None,
                "language": record.language,
                "page_kind": record.page_kind,
                "citations": sorted(f"{c.kind}:{c.name}" for c in record.citations),
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def diff(before: Path, after: Path, show: int = 3) -> int:
    """Print what changed; the number of pages with any change."""
    old = {row["id"]: row for row in map(json.loads, before.read_text(encoding="utf-8").splitlines())}
    new = {row["id"]: row for row in map(json.loads, after.read_text(encoding="utf-8").splitlines())}
    changed: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    pages = 0
    for key in sorted(old.keys() & new.keys()):
        moved = [f for f in FIELDS if old[key][f] != new[key][f]]
        pages += bool(moved)
        for field in moved:
            changed[field] += 1
            if len(examples.setdefault(field, [])) < show:
                examples[field].append(f"{key}: {str(old[key][field])[:150]!r} -> {str(new[key][field])[:150]!r}")
    print(f"{len(old.keys() & new.keys())} pages in both; {pages} changed")
    for field in FIELDS:
        print(f"  {field:<10} {changed[field]:>4} pages")
        for line in examples.get(field, []):
            print(f"      {line}")
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--sets", default="aeb,fundus,treval")
    parser.add_argument("--diff", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.diff:
        sys.exit(1 if diff(*args.diff) else 0)
    if args.out is None:
        parser.error("give OUT.jsonl, or --diff BEFORE AFTER")
    if not (args.corpus / "index.jsonl").exists():
        parser.error(f"no corpus at {args.corpus} (pass --corpus)")
    snapshot(args.corpus, tuple(s.strip() for s in args.sets.split(",") if s.strip()), args.out)


if __name__ == "__main__":
    main()
