"""Authors on the fundus DEV pages: F1 per site-grouped fold for newswire and with each authors mechanism
switched off (names.MECHANISMS, and the byline-in-body stage), the authors stage's CPU ms per page, misses.

A second table scores the same rows with the page's JSON-LD and meta authors hidden ("no markup"): the
visible byline, trafilatura's XPath guess and the byline paragraph alone, as on a site whose markup names
nobody. Most DEV pages name their authors in JSON-LD, so this is where the fallbacks are tested.

The stage timed is `ArticlePage.markup_authors` and `.authors` on a fresh page object whose tree, structured
fields, site names and body were computed beforehand (`.authors` reads the body for a byline paragraph). Rows
are run interleaved page by page, in a rotating order, for `--rounds` rounds; the ms column is the median.

Usage: python -m bench.authors [--corpus ../shared/corpus] [--misses FOLDS] [--rounds N] [--only ROWS]
       [--sets fundus,aeb,treval]  (F1 on the fundus pages; the other sets have no author truth: changes listed)
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

warnings.filterwarnings("ignore")

from bench.corpus import FOLDS, Page, load  # noqa: E402
from bench.peers import crawl_time  # noqa: E402
from bench.scoring import authors_f1  # noqa: E402
from crawler.extract import names as author_names  # noqa: E402
from crawler.extract import people  # noqa: E402
from crawler.extract.context import BYLINE_IN_BODY, ExtractionContext  # noqa: E402
from crawler.extract.fallback import xpath_author  # noqa: E402
from crawler.extract.page import ArticlePage  # noqa: E402
from crawler.extract.titles import normalize_title  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]
PRECOMPUTED = ("tree", "structured", "site_names", "body")  # fields other stages own: computed before timing


@dataclass
class Row:
    """One configuration: mechanisms of names.py off, and whether the byline-in-body stage runs."""

    name: str
    off: frozenset[str] = frozenset()
    stage_off: frozenset[str] = frozenset()
    times: list[list[float]] = field(default_factory=list)  # per round, per page (seconds)
    found: list[list[str]] = field(default_factory=list)
    bare: list[list[str]] = field(default_factory=list)  # found with the markup's authors hidden


def rows(only: Sequence[str] | None = None) -> list[Row]:
    """newswire, then each mechanism off in turn."""
    out = [Row("newswire")]
    out += [Row(f"-{name}", off=frozenset({name})) for name in author_names.MECHANISMS]
    out.append(Row(f"-{BYLINE_IN_BODY}", stage_off=frozenset({BYLINE_IN_BODY})))
    return [r for r in out if not only or r.name in only or r.name.lstrip("-") in only]


def prepare(page: Page) -> dict:
    """The fields the authors stage reads but does not own, computed once per page."""
    article = ArticlePage(page.html, page.url, ExtractionContext(fetched_at=crawl_time(page)))
    return {name: getattr(article, name) for name in PRECOMPUTED}


def authors_stage(page: Page, fields: dict, row: Row) -> tuple[list[str], float]:
    """The page's authors as the record stores them, and the CPU seconds the stage took."""
    context = ExtractionContext(fetched_at=crawl_time(page), disabled=row.stage_off)
    article = ArticlePage(page.html, page.url, context)
    article.__dict__.update(fields)  # the cached properties' values: not recomputed
    author_names.DISABLED = row.off
    try:
        start = time.process_time()
        article.markup_authors  # noqa: B018 - the stage's two fields, read as page.py reads them
        found = article.authors
        elapsed = time.process_time() - start
    finally:
        author_names.DISABLED = frozenset()
    return [n for n in map(normalize_title, found) if n], elapsed


def without_markup(page: Page, fields: dict, row: Row) -> list[str]:
    """The page's authors as if its JSON-LD and meta tags named nobody (fallbacks only)."""
    tree, site_names = fields["tree"], fields["site_names"]
    if tree is None:
        return []
    author_names.DISABLED = row.off
    try:
        markup = people.page_authors(tree, [], [], lambda: xpath_author(tree), site_names)
        if BYLINE_IN_BODY not in row.stage_off:
            markup = people.split_byline(fields["body"].paragraphs, markup, site_names)[1] or markup
    finally:
        author_names.DISABLED = frozenset()
    return [n for n in map(normalize_title, markup) if n]


def fold_f1(pages: Sequence[Page], found: Sequence[list[str]]) -> dict[str, float]:
    """Mean authors F1 over all scored pages and per fold."""
    scores: dict[str, list[float]] = {"all": [], **{str(f): [] for f in range(FOLDS)}}
    for page, names in zip(pages, found, strict=True):
        expected = page.truth.get("expected", {}) if page.dataset == "fundus" else {}
        if "authors" in expected:
            f1 = authors_f1(expected["authors"], names)
            scores["all"].append(f1)
            scores[str(page.fold)].append(f1)
    return {key: sum(v) / len(v) if v else float("nan") for key, v in scores.items()}


def run(pages: Sequence[Page], table: list[Row], rounds: int) -> None:
    """Every row on every page, interleaved page by page (the order rotates), `rounds` times each; a page's
    tree is dropped before the next is read."""
    for row in table:
        row.times = [[0.0] * len(pages) for _ in range(rounds)]
    for i, page in enumerate(pages):
        fields = prepare(page)
        for round_ in range(rounds):
            shift = (i + round_) % len(table)
            for row in table[shift:] + table[:shift]:
                names, row.times[round_][i] = authors_stage(page, fields, row)
                if round_ == 0:
                    row.found.append(names)
                    row.bare.append(without_markup(page, fields, row))
        if (i + 1) % 100 == 0:
            print(f"{i + 1}/{len(pages)} pages", file=sys.stderr, flush=True)


def report(pages: Sequence[Page], table: list[Row], misses: Sequence[int]) -> None:
    for kind in ("found", "bare"):
        title = "authors F1" if kind == "found" else "authors F1 with the markup's authors hidden (fallbacks only)"
        print(f"\n{title}\n\n| row | all | fold 0 | fold 1 | fold 2 | ms/page | changed pages |")
        print("|---|---|---|---|---|---|---|")
        base_found = getattr(table[0], kind)
        base = fold_f1(pages, base_found)
        for row in table:
            found = getattr(row, kind)
            f1 = fold_f1(pages, found)
            ms = statistics.median(sum(t) / len(t) * 1000 for t in row.times) if kind == "found" else float("nan")
            delta = row is not table[0]
            figures = " | ".join(_figure(f1[k], base[k] if delta else None) for k in f1)
            changed = sum(a != b for a, b in zip(found, base_found, strict=True))
            print(f"| {row.name} | {figures} | {'-' if math.isnan(ms) else f'{ms:.2f}'} | {changed} |")
        for row in table[1:]:
            diffs = [(p, a, b) for p, a, b in zip(pages, base_found, getattr(row, kind), strict=True) if a != b]
            if diffs:
                print(f"\n{row.name} changes ({kind}; with → without):")
                for page, a, b in diffs:
                    truth = page.truth["expected"].get("authors") if page.dataset == "fundus" else "-"
                    print(f"  [{page.dataset} {page.fold}] {page.id}: {a} → {b}  (truth {truth})")
        for fold in misses:
            print(f"\nnewswire misses on fold {fold} ({kind}):")
            for page, names in zip(pages, base_found, strict=True):
                truth = page.truth["expected"].get("authors") if page.dataset == "fundus" else None
                if page.fold == fold and truth is not None and authors_f1(truth, names) < 1:
                    print(f"  {page.id} ({page.site}): {names} != {truth}")


def _figure(value: float, base: float | None) -> str:
    if math.isnan(value):
        return "-"  # no author truth in the pages chosen
    return f"{value:.3f}" + (f" ({value - base:+.3f})" if base is not None else "")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--misses", default="", help="folds whose misses to list, e.g. 0,1")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="rows to run (comma-separated; newswire always runs)")
    parser.add_argument("--sets", default="fundus", help="aeb,treval too: no author truth, their changes are listed")
    args = parser.parse_args(argv)
    pages = load(args.corpus, tuple(args.sets.split(",")))
    only = [r for r in args.only.split(",") if r]
    table = rows(["newswire", *only] if only else None)
    run(pages, table, args.rounds)
    report(pages, table, [int(f) for f in args.misses.split(",") if f])


if __name__ == "__main__":
    main()
