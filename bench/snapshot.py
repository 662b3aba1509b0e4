"""What newswire extracts from every DEV page, written down, to tell a change that should change nothing from
one that does.

Usage: python -m bench.snapshot OUT.jsonl [--corpus ../shared/corpus] [--sets aeb,fundus,treval]
       python -m bench.snapshot --diff BEFORE.jsonl AFTER.jsonl
       python -m bench.snapshot --score SNAPSHOT.jsonl [SNAPSHOT.jsonl ...]

A snapshot holds one JSON line per page: the record's text, a hash of its clean HTML, title, authors, date,
language, page kind and citations, extracted with a fixed fetch time (relative dates do not move between
runs). --diff prints which fields changed on how many pages, and the first pages where each did. --score
prints, for each snapshot side by side, body F1 (precision/recall) per set and site-grouped fold, and on the
fundus pages title, authors and date figures per fold: the quick A/B of a change (bench.extraction is the
full report).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
FETCHED_AT = datetime(2026, 12, 1, tzinfo=UTC)  # after every DEV page was published
FIELDS = ("text", "html", "title", "authors", "published", "language", "page_kind", "citations")


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
                "html": hashlib.sha256(record.html.encode()).hexdigest()[:16],  # the clean HTML, links and all
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


def score(corpus: Path, snapshots: list[Path]) -> None:
    """Body F1 per set and fold, and fundus metadata per fold, of each snapshot (columns in the given order)."""
    from bench import analysis
    from bench.corpus import load
    from bench.pagemeta import page_facts
    from bench.peers import Meta

    rows = [{r["id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())} for path in snapshots]
    pages = [p for p in load(corpus, ("aeb", "fundus", "treval")) if f"{p.dataset}/{p.id}" in rows[0]]
    print("  ".join(f"[{i}] {path}" for i, path in enumerate(snapshots)))
    for dataset in ("aeb", "fundus", "treval"):
        chosen = [p for p in pages if p.dataset == dataset]
        if not chosen:
            continue
        figures = []
        for snap in rows:
            scores = [analysis.score_output(p, snap[f"{dataset}/{p.id}"]["text"]) for p in chosen]
            figures.append(analysis.by_fold(chosen, scores))
        for key in analysis.FOLD_KEYS:
            cells = "  ".join(f"{f[key].f1:.3f} ({f[key].precision:.3f}/{f[key].recall:.3f})" for f in figures)
            print(f"{dataset:<7} {key:<7} F1 (P/R)  {cells}")
    fundus = [p for p in pages if p.dataset == "fundus"]
    if fundus:
        facts = [page_facts(p) for p in fundus]
        per_snapshot = []
        for snap in rows:
            metas = []
            for page in fundus:
                row = snap[f"fundus/{page.id}"]
                date = datetime.fromisoformat(row["published"]) if row["published"] else None
                metas.append(Meta(title=row["title"], authors=row["authors"], date=date, language=row["language"]))
            checks = [analysis.check_meta(p, f, m) for p, f, m in zip(fundus, facts, metas, strict=True)]
            per_snapshot.append(analysis.meta_by_fold(fundus, checks))
        for field in ("title_lenient", "authors", "date_day"):
            for key in analysis.FOLD_KEYS:
                cells = "  ".join(f"{(m[key][field] or 0):.3f}" for m in per_snapshot)
                print(f"fundus  {key:<7} {field:<13} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--sets", default="aeb,fundus,treval")
    parser.add_argument("--diff", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--score", nargs="+", type=Path, metavar="SNAPSHOT")
    args = parser.parse_args()
    if args.diff:
        sys.exit(1 if diff(*args.diff) else 0)
    if args.score:
        score(args.corpus, args.score)
        return
    if args.out is None:
        parser.error("give OUT.jsonl, or --diff BEFORE AFTER")
    if not (args.corpus / "index.jsonl").exists():
        parser.error(f"no corpus at {args.corpus} (pass --corpus)")
    snapshot(args.corpus, tuple(s.strip() for s in args.sets.split(",") if s.strip()), args.out)


if __name__ == "__main__":
    main()
