"""`newswire reextract`: run today's extractor over the kept raw pages (storage/raw.py) and store a new version
of each article whose text changed — its story signature, citations, metadata and story original with it.

Pages are extracted in worker processes (one per core by default), as in a crawl, PARTITION at a time;
the main process compares and writes, one transaction per partition. An article whose text is unchanged
keeps its version (its metadata is refreshed: a better date rule moves no text but fixes the date). An
article with no kept page (NEWSWIRE_KEEP_RAW=0, or stored by an older version) is counted and left alone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from scrapy.settings import Settings
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crawler.config import CrawlConfig
from crawler.discovery.registry import Outlet
from crawler.discovery.resolve import citation_rows, outlet_directory
from crawler.extract import ExtractionContext
from crawler.extract.citations import OutletDirectory
from crawler.extract.record import DiscoveryHints
from crawler.extract.versions import extractor_version
from crawler.items import FetchedPage
from crawler.processing.job import Caps, Extraction, extract_page
from crawler.processing.pool import extraction_pool
from storage.db import Store
from storage.models import Article, Citation, RawFetch
from storage.models import Outlet as OutletRow
from storage.raw import BodyUnreadable, KeptPage, kept_page
from storage.repository import add_citations, next_change, revise
from storage.stories import elect_original, load_index, lock_story_writers, refresh_signature

logger = logging.getLogger(__name__)

PARTITION = 200  # articles extracted, then written, at a time …
PARTITION_BYTES = 32 * 1024 * 1024  # … or fewer: no more than this many bytes of kept pages at a time
METADATA = ("published", "published_raw", "published_source", "published_offset", "language", "site_name", "tags",
            "image", "license")  # fmt: skip


@dataclass
class ReextractReport:
    """What a re-extraction did."""

    examined: int = 0
    changed: int = 0  # a new version stored
    unchanged: int = 0
    not_kept: int = 0  # no raw page to read
    failed: int = 0  # the extractor raised, or found no article any more (the stored version stays)


@dataclass(frozen=True)
class _Job:
    article_id: int
    version: int
    text_hash: str
    page: FetchedPage
    context: ExtractionContext
    caps: Caps


def reextract(
    store: Store,
    registry: list[Outlet],
    *,
    outlet_slug: str | None = None,
    since: datetime | None = None,
    workers: int | None = None,
    config: CrawlConfig | None = None,
) -> ReextractReport:
    """Re-extract the articles (of one outlet, published or fetched since `since`) from their kept pages, with
    the crawl's caps and story threshold (`config`: the crawl settings' defaults unless given)."""
    config = config or CrawlConfig.from_settings(Settings())
    caps = Caps(config.max_text_chars, config.max_html_chars)  # as a crawl stores them
    report = ReextractReport()
    outlets = {o.slug: o for o in registry}
    directory = outlet_directory(registry)
    with store.sessions() as session:
        ids = list(session.scalars(_articles(outlet_slug, since)))
    with _pool(workers if workers is not None else (os.cpu_count() or 1), directory) as pool:
        for jobs in _partitions(store, ids, outlets, caps, report):
            if pool is None:
                results = [_extract(replace(job, context=replace(job.context, directory=directory))) for job in jobs]
            else:  # a worker holds the directory already
                results = list(pool.map(_extract, jobs, chunksize=8))
            with store.sessions.begin() as session:
                lock_story_writers(session)
                _write(session, jobs, results, directory, config.story_threshold, report)
    return report


def _articles(outlet_slug: str | None, since: datetime | None) -> Any:
    stmt = select(Article.id).order_by(Article.id)
    if outlet_slug is not None:
        stmt = stmt.join(OutletRow, Article.outlet_id == OutletRow.id).where(OutletRow.slug == outlet_slug)
    if since is not None:
        stmt = stmt.where(func.coalesce(Article.published, Article.fetched_at) >= since)
    return stmt


@contextmanager
def _pool(workers: int, directory: OutletDirectory) -> Iterator[Executor | None]:
    """The crawl's extraction pool of `workers` processes (they die with this one: crawler/processing/pool.py), or None
    for extraction in this process."""
    if workers <= 1:
        yield None
        return
    with extraction_pool(workers, directory) as pool:
        yield pool


def _partitions(
    store: Store, ids: list[int], outlets: dict[str, Outlet], caps: Caps, report: ReextractReport
) -> Iterator[list[_Job]]:
    """The jobs of `ids`, PARTITION at a time or fewer when their pages pass PARTITION_BYTES (kept pages of
    5 MB took a re-extraction to 2 GB); each read outside any transaction, before it is extracted."""
    jobs: list[_Job] = []
    size = 0
    for first in range(0, len(ids), PARTITION):
        with store.sessions() as session:
            read = list(_jobs(session, ids[first : first + PARTITION], outlets, caps, report))
        for job in read:
            if jobs and (len(jobs) >= PARTITION or size + len(job.page.body) > PARTITION_BYTES):
                yield jobs
                jobs, size = [], 0
            jobs.append(job)
            size += len(job.page.body)
    if jobs:
        yield jobs


def _jobs(
    session: Session,
    ids: list[int],
    outlets: dict[str, Outlet],
    caps: Caps,
    report: ReextractReport,
) -> Iterator[_Job]:
    """A job for each article whose kept page can be read back; a page that cannot (a damaged or inflating
    body, hints of an unknown shape) is counted as failed and named in one line, and the rest go on."""
    rows = session.execute(
        select(Article.id, Article.version, Article.text_hash, Article.url, OutletRow.slug, OutletRow.name)
        .join(OutletRow, Article.outlet_id == OutletRow.id)
        .where(Article.id.in_(ids))
        .order_by(Article.id)
    ).all()
    for article_id, version, stored_hash, url, slug, name in rows:
        report.examined += 1
        try:
            page = kept_page(session, article_id, version)
            if page is None:
                report.not_kept += 1
                continue
            outlet = outlets.get(slug)
            fetched = _fetched(page, slug, outlet)
        except BodyUnreadable as exc:
            report.failed += 1
            logger.error("%s: %s: kept page unreadable, not re-extracted (article %d): %s", name, url, article_id, exc)
            continue
        context = ExtractionContext(
            fetched_at=page.fetched_at,
            hints=fetched.hints,
            language=fetched.language,
            timezone=fetched.timezone,
            directory=None,  # the worker's (set in reextract for in-process runs)
            outlet_names=(outlet.name, *outlet.aliases) if outlet else (name,),
        )
        yield _Job(article_id, version, stored_hash, fetched, context, caps)


def _fetched(page: KeptPage, slug: str, outlet: Outlet | None) -> FetchedPage:
    content_type = next((value for name, value in page.headers if name.lower() == "content-type"), None)
    return FetchedPage(
        outlet=slug,
        url=page.url,
        body=page.body,
        content_type=content_type,
        fetched_at=page.fetched_at,
        hints=_hints(page.hints),  # as the listing gave them at crawl time
        language=outlet.language if outlet else None,
        timezone=outlet.timezone if outlet else None,
    )


HINT_FIELDS = frozenset(f.name for f in fields(DiscoveryHints))


def _hints(kept: Any) -> DiscoveryHints | None:
    """The discovery hints kept with a page; keys this version does not know (a later one's) are left out."""
    if not isinstance(kept, dict) or not kept:
        return None
    return DiscoveryHints(**{key: value for key, value in kept.items() if key in HINT_FIELDS})


def _extract(job: _Job) -> Extraction | None:
    """Extract one kept page (in a worker, whose citation directory fills a context that has none)."""
    try:
        return extract_page(job.page, job.context, job.caps)
    except Exception as exc:  # noqa: BLE001 - one page that breaks the extractor is counted, not fatal
        logger.error("%s: re-extraction failed: %s: %s", job.page.url, type(exc).__name__, exc)
        return None


def _write(
    session: Session,
    jobs: list[_Job],
    results: list[Extraction | None],
    directory: OutletDirectory | None,
    story_threshold: float,
    report: ReextractReport,
) -> None:
    change = next_change(session)
    index = None
    for job, result in zip(jobs, results, strict=True):
        if result is None or not result.stored or result.text_hash is None:
            report.failed += 1
            continue
        article = session.get_one(Article, job.article_id)
        record = result.record
        moved = [field for field in METADATA if getattr(article, field) != getattr(record, field)]
        for field in moved:  # a better date or language rule changes no text but fixes the record
            setattr(article, field, getattr(record, field))
        if moved:
            article.changed = change
            if "published" in moved and article.story_id is not None:
                elect_original(session, article.story_id)
        if result.text_hash == job.text_hash:
            report.unchanged += 1
            continue
        values = {
            "title": record.title, "text": record.text, "html": record.html, "text_hash": result.text_hash,
            "authors": record.authors, "description": record.description, "page_kind": record.page_kind,
            "fetched_at": article.fetched_at, "license": record.license, "extractor": extractor_version(),
            "changed": change, "run_id": article.run_id,
        }  # fmt: skip
        if not revise(session, job.article_id, values):
            report.unchanged += 1  # another article of the outlet holds exactly this text: nothing to change
            continue
        fetch = session.scalars(
            select(RawFetch).where(RawFetch.article_id == job.article_id, RawFetch.version == job.version)
        ).first()
        if fetch is not None:  # the new version came from the same response
            session.add(
                RawFetch(
                    article_id=job.article_id, version=article.version, url=fetch.url, status=fetch.status,
                    headers=fetch.headers, hints=fetch.hints, fetched_at=fetch.fetched_at, digest=fetch.digest,
                )
            )  # fmt: skip
        _replace_citations(session, article, record, directory)
        if index is None:
            index = load_index(session, story_threshold)
        refresh_signature(session, article, index)
        if article.story_id is not None:
            elect_original(session, article.story_id)
        report.changed += 1


def _replace_citations(session: Session, article: Article, record: Any, directory: OutletDirectory | None) -> None:
    session.execute(delete(Citation).where(Citation.article_id == article.id))
    ids = {name: id_ for id_, name in session.execute(select(OutletRow.id, OutletRow.name))}
    add_citations(session, article.id, citation_rows(record.citations, directory, ids))
