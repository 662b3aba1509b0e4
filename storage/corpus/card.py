"""A dataset card for an exported corpus: a Markdown datasheet with a HuggingFace dataset-card YAML header.

Counted in one streamed pass over the same selection as the export (a CorpusFilter), in Python so SQLite
and PostgreSQL give the same months: articles per outlet, language and month, the crawl period, extractor
versions, licences declared, and the known limits (paywalled stubs, undated articles, copies of one story).
The card file is replaced atomically.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.common.files import write_atomically
from storage.corpus.fields import CorpusFilter, corpus_query
from storage.models import Article, CrawlRun, Outlet

logger = logging.getLogger(__name__)

FIELD_DESCRIPTIONS = {
    "id": "stable article id: 16 hex digits of the SHA-256 of the canonical URL (the same in any database)",
    "version": "version of the text; a revised article comes again with the same id and a higher version",
    "story_id": "the story (copies of one story across outlets) in the exporting database",
    "is_original": "whether this copy is its story's original (earliest, or cited by the others)",
    "url": "the URL fetched",
    "canonical_url": "the page's canonical URL",
    "outlet": "the outlet, as named in the crawler's registry",
    "title": "headline",
    "authors": "list of author names",
    "published": "publication time, in the offset the page wrote it in (Parquet: UTC, see published_offset)",
    "published_offset": "that offset, in minutes east of UTC (null: not given, or a date without time)",
    "published_raw": "the date as the page or listing wrote it",
    "published_source": "which markup gave the date (json-ld, meta, feed, sitemap, byline, url, …)",
    "fetched_at": "when the page was last fetched (UTC)",
    "discovered_via": "feed, sitemap, or link (an article another article cited)",
    "listing": "the feed, sitemap or page that led to the article",
    "language": "BCP 47 language tag of the text",
    "license": "the licence the page declares (link rel=license, JSON-LD, dc.rights), as given",
    "citations": "outlets the article cites: name, kind (how it was cited), domain",
    "text": "clean text, paragraphs separated by blank lines",
    "extractor": "versions of newswire and trafilatura that extracted this version",
    "site_name": "the outlet's name as the page gives it",
    "description": "the page's summary",
    "tags": "the page's keywords",
    "image": "the article's image URL",
    "text_hash": "SHA-256 of the normalized text",
    "page_kind": "article, or paywall for a paywalled story's teaser (kept, and marked)",
}


@dataclass
class CorpusCounts:
    articles: int = 0
    by_outlet: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    by_month: Counter[str] = field(default_factory=Counter)
    extractors: Counter[str] = field(default_factory=Counter)
    licenses: Counter[str] = field(default_factory=Counter)
    page_kinds: Counter[str] = field(default_factory=Counter)
    undated: int = 0
    copies: int = 0  # articles in a story with another outlet's copy
    first_fetch: datetime | None = None
    last_fetch: datetime | None = None
    first_published: datetime | None = None
    last_published: datetime | None = None


def count_corpus(session: Session, wanted: CorpusFilter) -> CorpusCounts:
    ids = corpus_query(wanted).with_only_columns(Article.id).order_by(None).subquery()
    shared_stories = (
        select(Article.story_id)
        .where(Article.story_id.is_not(None))
        .group_by(Article.story_id)
        .having(func.count(func.distinct(Article.outlet_id)) > 1)
    )
    stmt = (
        select(
            Outlet.name,
            Article.language,
            Article.published,
            Article.fetched_at,
            Article.extractor,
            Article.license,
            Article.page_kind,
            Article.story_id.in_(shared_stories),
        )
        .join(Outlet, Article.outlet_id == Outlet.id)
        .where(Article.id.in_(select(ids.c.id)))
    )
    counts = CorpusCounts()
    for outlet, language, published, fetched, extractor, license_, kind, shared in session.execute(
        stmt.execution_options(yield_per=5000)
    ):
        counts.articles += 1
        counts.by_outlet[outlet] += 1
        counts.by_language[language or "unknown"] += 1
        counts.by_month[f"{published or fetched:%Y-%m}"] += 1
        counts.extractors[extractor or "before versions were recorded"] += 1
        counts.licenses[license_ or "none declared"] += 1
        counts.page_kinds[kind] += 1
        counts.undated += published is None
        counts.copies += bool(shared)
        counts.first_fetch = min(filter(None, (counts.first_fetch, fetched)))
        counts.last_fetch = max(filter(None, (counts.last_fetch, fetched)))
        if published is not None:
            counts.first_published = min(filter(None, (counts.first_published, published)))
            counts.last_published = max(filter(None, (counts.last_published, published)))
    return counts


def _size_category(count: int) -> str:
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if count < bound:
            return name
    return "1M<n<10M"


def _table(header: tuple[str, str], counter: Counter[str], *, by_key: bool = False) -> list[str]:
    rows = sorted(counter.items()) if by_key else counter.most_common()
    return [f"| {header[0]} | {header[1]} |", "|---|---:|", *(f"| {_cell(k)} | {v:,} |" for k, v in rows)]


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _day(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d}" if value else "—"


def render_card(counts: CorpusCounts, *, name: str, data_files: str | None, runs: int, filters: str) -> str:
    """The card's Markdown, YAML header first."""
    languages = sorted({tag.split("-")[0] for tag in counts.by_language if tag != "unknown"})
    header = ["---", f"pretty_name: {name}", "license: other", "language:"]
    header += [f"- {code}" for code in languages] or ["- und"]
    header += ["size_categories:", f"- {_size_category(counts.articles)}", "task_categories:", "- text-generation"]
    header += ["tags:", "- news", "- newswire"]
    if data_files:
        header += ["configs:", "- config_name: default", "  data_files:", f'  - "{data_files}"']
    header.append("---")
    paywalled = sum(n for kind, n in counts.page_kinds.items() if kind != "article")
    body = [
        f"# {name}",
        "",
        f"{counts.articles:,} news articles from {len(counts.by_outlet)} outlet(s), crawled by newswire between "
        f"{_day(counts.first_fetch)} and {_day(counts.last_fetch)} ({runs} crawl run(s)), published between "
        f"{_day(counts.first_published)} and {_day(counts.last_published)}. Selection: {filters}.",
        "",
        "## Articles per outlet",
        "",
        *_table(("outlet", "articles"), counts.by_outlet),
        "",
        "## Articles per language",
        "",
        *_table(("language", "articles"), counts.by_language),
        "",
        "## Articles per month (of publication, else of fetching)",
        "",
        *_table(("month", "articles"), counts.by_month, by_key=True),
        "",
        "## Fields",
        "",
        "| field | description |",
        "|---|---|",
        *(f"| `{name}` | {text} |" for name, text in FIELD_DESCRIPTIONS.items()),
        "",
        "## Extractor versions",
        "",
        *_table(("extractor", "articles"), counts.extractors),
        "",
        "## Licences the pages declare",
        "",
        "The crawler keeps what a page declares and judges nothing: check each outlet's terms before reuse.",
        "",
        *_table(("licence", "articles"), counts.licenses),
        "",
        "## Known limits",
        "",
        f"- {paywalled:,} records are paywalled stubs (`page_kind` other than `article`): a teaser, not the story.",
        f"- {counts.undated:,} records have no publication date (`published` is null).",
        f"- {counts.copies:,} records are copies of a story another outlet also carries (`story_id`, "
        "`is_original`): deduplicate by story for counts of distinct stories.",
        "- Texts are cut at 200,000 characters (at a paragraph); boilerplate removal is automatic and can "
        "miss or overcut.",
        "- `story_id` numbers stories per database; `id` is stable across databases.",
        "",
    ]
    return "\n".join(header + body)


def write_card(session: Session, wanted: CorpusFilter, path: Path, data_files: str | None) -> None:
    """Count the selection `wanted` and write its card to `path` (atomically); `data_files`: the exported
    file(s) the card's `configs` point at, relative to the card (None: not a file)."""
    chosen = {k: v for k, v in vars(wanted).items() if v is not None}
    filters = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in chosen.items()) or "every stored article"
    runs = session.scalar(select(func.count(CrawlRun.id))) or 0
    card = render_card(count_corpus(session, wanted), name="newswire corpus", data_files=data_files, runs=runs,
                       filters=filters)  # fmt: skip
    write_atomically(path, card.encode("utf-8"), mode=None, sweep=True)
