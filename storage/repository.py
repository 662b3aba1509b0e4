"""Repository functions over a session: they read and write rows and never commit."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import Session, joinedload

from storage.common.urls import canonical_url
from storage.models import (
    Article,
    ArticleURL,
    ArticleVersion,
    Base,
    Citation,
    CrawlRun,
    Outlet,
    OutletState,
    RunStatus,
    Story,
    utcnow,
)

NEW, ALREADY_STORED, DUPLICATE_TEXT, UPDATED = "new", "already_stored", "duplicate_text", "updated"
CANONICAL_CONFLICT = "canonical_conflict"  # another URL claims a stored article's canonical URL with other text


@dataclass(frozen=True)
class OutletRow:
    """What storage needs to know of a registry outlet."""

    name: str
    slug: str
    homepage: str
    language: str | None = None
    aliases: tuple[str, ...] = ()


def dialect_insert(session: Session, model: type) -> Any:
    """An INSERT for `model` that supports ON CONFLICT on the session's backend (SQLite, PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _DIALECT_INSERTS:
        raise NotImplementedError(f"newswire supports SQLite and PostgreSQL, not {dialect}")
    return _DIALECT_INSERTS[dialect]()(model)


@functools.cache
def _insert_new_article(dialect: str) -> Any:
    """INSERT of one article unless it clashes with a stored one, RETURNING its id: built once per backend
    and executed with each article's values (no ORM layer, no statement built per article)."""
    table = Base.metadata.tables["articles"]
    insert_on_conflict = _DIALECT_INSERTS[dialect]()
    return insert_on_conflict(table).on_conflict_do_nothing().returning(table.c.id)


def _postgresql_insert() -> Any:
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert


def _sqlite_insert() -> Any:
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


_DIALECT_INSERTS = {"postgresql": _postgresql_insert, "sqlite": _sqlite_insert}


OUTLET_WRITERS_LOCK = 0x6F75746C  # PostgreSQL advisory lock key ("outl"): one registry sync at a time


def sync_outlets(session: Session, outlets: Iterable[OutletRow]) -> dict[str, int]:
    """Insert or update the registry's outlets; return their ids by slug.

    On PostgreSQL the sync holds a transaction lock: a shared crawl's planner and workers start together,
    and two inserts of one new outlet at once would otherwise meet on its unique name (ON CONFLICT
    arbitrates on the slug only) — a worker failed that way on a fresh database."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(OUTLET_WRITERS_LOCK)))
    ids: dict[str, int] = {}
    for outlet in outlets:
        values = {
            "name": outlet.name,
            "slug": outlet.slug,
            "homepage": outlet.homepage,
            "language": outlet.language,
            "aliases": list(outlet.aliases),
        }
        stmt = dialect_insert(session, Outlet).values(created_at=utcnow(), **values)
        stmt = stmt.on_conflict_do_update(index_elements=["slug"], set_=values).returning(Outlet.id)
        ids[outlet.slug] = session.execute(stmt).scalar_one()
    return ids


def insert_article(session: Session, values: dict[str, Any]) -> tuple[str, int | None]:
    """Store one article unless its canonical URL or (outlet, text hash) is already stored.

    Returns (outcome, id): NEW with the new id; UPDATED when the same URL now holds other text (a
    new version is kept and the article shows it); else ALREADY_STORED, DUPLICATE_TEXT or
    CANONICAL_CONFLICT (another URL declares this canonical URL but has other text) with the id of
    the row that holds it. Uses INSERT … ON CONFLICT DO NOTHING, so concurrent writers
    can never create duplicates.
    """
    new_id = session.execute(_insert_new_article(session.get_bind().dialect.name), values).scalar_one_or_none()
    if new_id is not None:
        add_url_alias(session, values["url"], new_id, values["canonical_url"])
        return NEW, new_id
    same_url = session.execute(
        select(Article.id, Article.text_hash).where(Article.canonical_url == values["canonical_url"])
    ).first()
    if same_url is not None:
        stored_id, stored_hash = same_url
        if stored_hash != values["text_hash"] and canonical_url(values["url"]) != values["canonical_url"]:
            return CANONICAL_CONFLICT, stored_id  # e.g. every page declaring the homepage canonical: no alias
        if stored_hash != values["text_hash"] and revise(session, stored_id, values):
            return UPDATED, stored_id
        if canonical_url(values["url"]) == values["canonical_url"]:  # fetched again, unchanged: note when
            session.execute(update(Article).where(Article.id == stored_id).values(fetched_at=values["fetched_at"]))
        add_url_alias(session, values["url"], stored_id, values["canonical_url"])
        return ALREADY_STORED, stored_id
    same_text = session.scalar(
        select(Article.id).where(Article.outlet_id == values["outlet_id"], Article.text_hash == values["text_hash"])
    )
    if same_text is not None:  # the same story under a second URL of the outlet: don't fetch that URL again
        stored_canonical = session.scalars(select(Article.canonical_url).where(Article.id == same_text)).one()
        for url in {values["url"], values["canonical_url"]}:
            add_url_alias(session, url, same_text, stored_canonical)
    return DUPLICATE_TEXT, same_text


@dataclass(frozen=True)
class TextVersion:
    """One version of an article's text."""

    version: int
    title: str
    text: str
    html: str
    text_hash: str
    fetched_at: datetime


def article_history(session: Session, article_id: int) -> list[TextVersion]:
    """Every version of the article's text, oldest first: the superseded ones kept in article_versions,
    then the article's current text."""
    fields = ("version", "title", "text", "html", "text_hash", "fetched_at")
    rows = session.scalars(
        select(ArticleVersion).where(ArticleVersion.article_id == article_id).order_by(ArticleVersion.version)
    )
    article = session.get_one(Article, article_id)
    return [TextVersion(*(getattr(row, f) for f in fields)) for row in [*rows, article]]


def revise(session: Session, article_id: int, values: dict[str, Any]) -> bool:
    """Make the changed text the article's current one; the text it replaces is kept as a version.

    False (nothing changed) when another article of the outlet already holds exactly this text.
    """
    article = session.get_one(Article, article_id)
    clash = session.scalar(
        select(Article.id).where(
            Article.outlet_id == article.outlet_id, Article.text_hash == values["text_hash"], Article.id != article_id
        )
    )
    if clash is not None:
        return False
    if values.get("page_kind", "article") != "article" and article.page_kind == "article":
        return False  # a paywall teaser fetched later never replaces the full story we have
    session.add(
        ArticleVersion(
            article_id=article_id,
            version=article.version,
            title=article.title,
            text=article.text,
            html=article.html,
            text_hash=article.text_hash,
            fetched_at=article.fetched_at,
        )
    )
    revised = ("title", "text", "html", "text_hash", "authors", "description", "page_kind", "fetched_at", "license")
    for field in (*revised, "extractor", "changed", "run_id"):  # the run that revised it last
        setattr(article, field, values[field] if field in values else getattr(article, field))
    article.version += 1
    return True


def next_change(session: Session) -> int:
    """The number of the store batch about to be written (see Article.changed): one more than the last. Call
    it in the batch's transaction, once the writers' lock is held (PostgreSQL; SQLite has one writer)."""
    return int(session.scalar(select(func.coalesce(func.max(Article.changed), 0))) or 0) + 1


def add_url_alias(session: Session, url: str, article_id: int, article_canonical: str) -> None:
    """Remember that `url` leads to the article, so later crawls need not fetch it again."""
    alias = canonical_url(url)
    if alias != article_canonical:
        stmt = dialect_insert(session, ArticleURL).values(url=alias, article_id=article_id).on_conflict_do_nothing()
        session.execute(stmt)


def known_urls(session: Session, outlet_ids: Iterable[int]) -> dict[str, tuple[int, datetime]]:
    """Canonical forms of every URL known to lead to a stored article of these outlets → (id, last fetch)."""
    ids = list(outlet_ids)
    canonical = select(Article.canonical_url, Article.id, Article.fetched_at).where(Article.outlet_id.in_(ids))
    aliases = (
        select(ArticleURL.url, Article.id, Article.fetched_at)
        .join(Article, ArticleURL.article_id == Article.id)
        .where(Article.outlet_id.in_(ids))
    )
    known = {url: (id_, fetched) for url, id_, fetched in session.execute(aliases)}
    known.update({url: (id_, fetched) for url, id_, fetched in session.execute(canonical)})
    return known


_INSERT_CITATION = insert(Base.metadata.tables["citations"])


def add_citations(session: Session, article_id: int, rows: Iterable[dict[str, Any]]) -> int:
    """Store an article's citations (name, kind, evidence, domain, outlet_id); return how many."""
    citations = [{"article_id": article_id, **row} for row in rows]
    if citations:
        session.execute(_INSERT_CITATION, citations)
    return len(citations)


def start_run(session: Session, outlet_names: list[str]) -> CrawlRun:
    """Record the start of a crawl run."""
    run = CrawlRun(started_at=utcnow(), outlets=outlet_names, status=RunStatus.RUNNING)
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run_id: int, **counts: Any) -> None:
    """Record the end of a crawl run with its counts by outcome."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    run.finished_at = utcnow()
    for key, value in counts.items():
        setattr(run, key, value)


def close_abandoned_runs(session: Session) -> int:
    """Mark runs still 'running' as failed (their process died: call only while holding the crawl lock),
    with the articles they did store counted: a crawl killed with SIGKILL had recorded none of them."""
    stored = select(func.count(Article.id)).where(Article.run_id == CrawlRun.id).correlate(CrawlRun).scalar_subquery()
    result = session.execute(
        update(CrawlRun)
        .where(CrawlRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.FAILED, finish_reason="process died before recording its end", articles_new=stored)
    )
    return getattr(result, "rowcount", 0) or 0  # a CursorResult for an UPDATE


def latest_articles(session: Session, limit: int, outlet_id: int | None = None) -> list[Article]:
    """The newest articles (by publication date, else fetch date), newest first."""
    newest = func.coalesce(Article.published, Article.fetched_at)
    stmt = select(Article).options(joinedload(Article.outlet)).order_by(newest.desc(), Article.id.desc())
    if outlet_id is not None:
        stmt = stmt.where(Article.outlet_id == outlet_id)
    return list(session.scalars(stmt.limit(limit)))


def latest_stories(session: Session, limit: int, offset: int = 0) -> list[tuple[Story, list[Article]]]:
    """The stories with the newest articles, newest first (skipping `offset`), each with its articles (original
    first)."""
    newest = func.max(func.coalesce(Article.published, Article.fetched_at))
    newest_stories = (
        select(Article.story_id)
        .where(Article.story_id.is_not(None))
        .group_by(Article.story_id)
        .order_by(newest.desc(), Article.story_id.desc())
        .offset(offset)
        .limit(limit)
    )
    story_ids = [story_id for story_id in session.scalars(newest_stories) if story_id is not None]
    stories = {s.id: s for s in session.scalars(select(Story).where(Story.id.in_(story_ids)))}
    copies: dict[int, list[Article]] = {story_id: [] for story_id in story_ids}
    articles = select(Article).options(joinedload(Article.outlet)).where(Article.story_id.in_(story_ids))
    for article in session.scalars(articles.order_by(func.coalesce(Article.published, Article.fetched_at), Article.id)):
        if article.story_id is not None:
            copies[article.story_id].append(article)
    result = []
    for story_id in story_ids:
        story, members = stories[story_id], copies[story_id]
        members.sort(key=lambda a: a.id != story.original_article_id)  # stable: the rest stay in date order
        result.append((story, members))
    return result


def articles_query(since: datetime | None = None, outlet_slug: str | None = None) -> Select:
    """A SELECT of (article, outlet name, the story's original article id) in publication order."""
    newest = func.coalesce(Article.published, Article.fetched_at)
    stmt = (
        select(Article, Outlet.name, Story.original_article_id)
        .join(Outlet, Article.outlet_id == Outlet.id)
        .outerjoin(Story, Article.story_id == Story.id)
        .order_by(newest, Article.id)
    )
    if since is not None:
        stmt = stmt.where(newest >= since)
    if outlet_slug is not None:
        stmt = stmt.where(Outlet.slug == outlet_slug)
    return stmt


def iter_articles(session: Session, stmt: Select, batch: int = 500) -> Iterator[tuple[Article, str, int | None]]:
    """Stream (article, outlet name, story's original id) rows in batches: memory stays flat, whatever the store."""
    for article, outlet_name, original_id in session.execute(stmt.execution_options(yield_per=batch)):
        yield article, outlet_name, original_id
        session.expunge(article)


def outlet_counts(session: Session) -> list[tuple[str, int, datetime | None]]:
    """Each outlet with its number of articles and the time of its latest fetch."""
    stmt = (
        select(Outlet.name, func.count(Article.id), func.max(Article.fetched_at))
        .outerjoin(Article)
        .group_by(Outlet.id)
        .order_by(Outlet.name)
    )
    return [(name, count, last) for name, count, last in session.execute(stmt)]


def outlet_rows(session: Session) -> list[tuple[str, str, int, datetime | None]]:
    """Each outlet's name and slug with its number of articles and the time of its latest fetch."""
    stmt = (
        select(Outlet.name, Outlet.slug, func.count(Article.id), func.max(Article.fetched_at))
        .outerjoin(Article)
        .group_by(Outlet.id)
        .order_by(Outlet.name)
    )
    return [(name, slug, count, last) for name, slug, count, last in session.execute(stmt)]


def forget_outlets(session: Session, keep: set[str]) -> list[tuple[str, bool]]:
    """Forget the stored outlets whose slug is not in `keep`: their polling state goes, and the outlet row
    itself when no article is its and no citation names it. Articles are never deleted. Returns (name,
    whether the row went) for each outlet forgotten."""
    forgotten = []
    for outlet in session.scalars(select(Outlet).where(Outlet.slug.not_in(keep)).order_by(Outlet.name)):
        session.execute(delete(OutletState).where(OutletState.outlet_id == outlet.id))
        used = session.scalar(select(func.count(Article.id)).where(Article.outlet_id == outlet.id)) or session.scalar(
            select(func.count(Citation.id)).where(Citation.outlet_id == outlet.id)
        )
        if not used:
            session.delete(outlet)
        forgotten.append((outlet.name, not used))
    return forgotten


def recent_runs(session: Session, limit: int = 5) -> list[CrawlRun]:
    """The latest crawl runs, newest first."""
    return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)))


def republished_count(session: Session) -> int:
    """How many stored articles share their exact text with an article of another outlet."""
    dup_hashes = (
        select(Article.text_hash)
        .group_by(Article.text_hash)
        .having(func.count(func.distinct(Article.outlet_id)) > 1)
        .subquery()
    )
    return (
        session.scalar(select(func.count()).select_from(Article).where(Article.text_hash.in_(select(dup_hashes)))) or 0
    )
