"""Where extract_article's time goes, stage by stage, on the DEV pages (and, with --cprofile, function by function).

Usage: python -m bench.extraction_profile [--corpus ../shared/corpus] [--sets aeb,fundus,treval] [--limit N]
       [--cprofile 25]

Each page is read by a fresh ArticlePage whose fields are asked for one at a time, in the order they depend
on one another; each field's CPU time is what asking for it cost on top of the fields before it (so `title`
does not include the parse, which `tree` paid). Prints mean CPU ms per page for each stage and their sum;
--cprofile N adds the N functions with the most cumulative time (cProfile, over the same pages, once more).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.corpus import SETS, load
from crawler.extract.page import ArticlePage

PROJECT = Path(__file__).resolve().parents[1]

# ArticlePage's fields in an order where each needs only those before it (published reads the language,
# which reads the text; the record reads everything)
STAGES = (
    "tree", "structured", "canonical_url", "site_names", "title", "markup_authors", "body", "text", "authors",
    "language", "published", "citations", "page_kind",
)  # fmt: skip


def stage_times(html: str, url: str) -> dict[str, float]:
    """CPU seconds each stage of one page cost, and `record` for assembling the record from them."""
    start = time.process_time()
    page = ArticlePage(html, url)
    spent = {"pre-clean": time.process_time() - start}
    for stage in STAGES:
        start = time.process_time()
        getattr(page, stage)
        spent[stage] = time.process_time() - start
    start = time.process_time()
    page.to_record()
    spent["record"] = time.process_time() - start
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--limit", type=int, default=None, help="first N pages per set")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="also print the N costliest functions")
    args = parser.parse_args()
    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    if not (args.corpus / "index.jsonl").exists():
        sys.exit(f"no corpus at {args.corpus} (pass --corpus)")
    every = load(args.corpus, sets)
    pages = [(p.html, p.url) for dataset in sets for p in [q for q in every if q.dataset == dataset][: args.limit]]
    for html, url in pages[:3]:  # warm up: lazy loads are not what is measured
        stage_times(html, url)
    totals: dict[str, float] = defaultdict(float)
    for html, url in pages:
        for stage, seconds in stage_times(html, url).items():
            totals[stage] += seconds
    print(f"# extract_article by stage: mean CPU ms per page over {len(pages)} pages ({', '.join(sets)})\n")
    print(f"{'stage':<16} {'ms/page':>8} {'share':>6}")
    whole = sum(totals.values())
    for stage, seconds in totals.items():
        print(f"{stage:<16} {1000 * seconds / len(pages):>8.2f} {seconds / whole:>6.1%}")
    print(f"{'total':<16} {1000 * whole / len(pages):>8.2f}")
    if args.cprofile:
        profile = cProfile.Profile()
        profile.enable()
        for html, url in pages:
            ArticlePage(html, url).to_record()
        profile.disable()
        print(f"\n# the {args.cprofile} functions with the most cumulative time (cProfile adds its own overhead)\n")
        pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(args.cprofile)


if __name__ == "__main__":
    main()
