"""Story-level views of the store: stories with their outlets and original, and the citation graph."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from storage.common.times import iso
from storage.models import Article, Citation, Outlet, Story


def iter_story_records(
    session: Session,
    *,
    since: datetime | None = None,
    min_outlets: int = 1,
    limit: int | None = None,
    outlet_slug: str | None = None,
) -> Iterator[dict[str, Any]]:
    """One record per story, newest first: its original, its outlets and every copy (with `outlet_slug`, the
    stories that outlet has a copy of)."""
    newest = func.max(func.coalesce(Article.published, Article.fetched_at))
    stmt = (
        select(Article.story_id, newest, func.count(func.distinct(Article.outlet_id)))
        .where(Article.story_id.is_not(None))
        .group_by(Article.story_id)
        .having(func.count(func.distinct(Article.outlet_id)) >= min_outlets)
        .order_by(newest.desc(), Article.story_id.desc())
    )
    if since is not None:
        stmt = stmt.having(newest >= since)
    if outlet_slug is not None:
        carried = select(Article.story_id).join(Outlet).where(Outlet.slug == outlet_slug)
        stmt = stmt.where(Article.story_id.in_(carried))
    if limit:
        stmt = stmt.limit(limit)
    for story_id, _newest, _count in session.execute(stmt).all():
        story = session.get_one(Story, story_id)
        rows = session.execute(
            select(Article, Outlet.name)
            .join(Outlet, Article.outlet_id == Outlet.id)
            .where(Article.story_id == story_id)
            .order_by(func.coalesce(Article.published, Article.fetched_at), Article.id)
        ).all()
        copies = [
            {
                "url": a.canonical_url,
                "outlet": name,
                "title": a.title,
                "published": iso(a.published),
                "fetched_at": iso(a.fetched_at),
                "is_original": a.id == story.original_article_id,
            }
            for a, name in rows
        ]
        original = next((c for c in copies if c["is_original"]), copies[0])
        yield {
            "story_id": story_id,
            "title": original["title"],
            "original": original,
            "outlets": sorted({c["outlet"] for c in copies}),
            "copies": copies,
        }


def citation_graph(
    session: Session, *, since: datetime | None = None, outlet_slug: str | None = None
) -> list[dict[str, Any]]:
    """(citing outlet, cited outlet or name, count) over the stored citations, most cited first: of articles
    published (else fetched) since `since`, by the outlet `outlet_slug`, when given."""
    citing = Outlet.__table__.alias("citing")
    stmt = (
        select(citing.c.name, Citation.name, func.count(func.distinct(Citation.article_id)))
        .select_from(Citation)
        .join(Article, Citation.article_id == Article.id)
        .join(citing, Article.outlet_id == citing.c.id)
        .where(
            func.coalesce(Article.published, Article.fetched_at) >= since if since is not None else true(),
            citing.c.slug == outlet_slug if outlet_slug is not None else true(),
        )
        .group_by(citing.c.name, Citation.name)
        .order_by(func.count(func.distinct(Citation.article_id)).desc(), citing.c.name, Citation.name)
    )
    return [{"citing": a, "cited": b, "articles": n} for a, b, n in session.execute(stmt)]


def suggested_outlets(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """Cited names that no registry outlet answers to, most cited first, with the domains seen for them."""
    rows = session.execute(
        select(Citation.name, Citation.domain, func.count(func.distinct(Citation.article_id)))
        .where(Citation.outlet_id.is_(None))
        .group_by(Citation.name, Citation.domain)
    ).all()
    by_name: dict[str, dict[str, Any]] = {}
    for name, domain, count in rows:
        entry = by_name.setdefault(name, {"name": name, "articles": 0, "domains": set()})
        entry["articles"] += count
        if domain:
            entry["domains"].add(domain)
    ranked = sorted(by_name.values(), key=lambda e: (-e["articles"], e["name"]))[:limit]
    for entry in ranked:
        entry["domains"] = sorted(entry["domains"])
    return ranked


def registry_stanza(entry: dict[str, Any]) -> str:
    """A ready [[outlet]] table for sources.toml (the homepage is a guess from the domain, if any was seen)."""
    name = entry["name"].replace('"', "'")
    lines = ["[[outlet]]", f'name = "{name}"', f'aliases = ["{name}"]']
    if entry["domains"]:
        lines.append(f'homepage = "https://{entry["domains"][0]}/"')
    else:
        lines.append('homepage = "https://"  # unknown: no link to this outlet was seen; fill in')
    return "\n".join(lines)
