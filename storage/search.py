"""Full-text search over the stored articles: SQLite FTS5 or PostgreSQL's full-text search (migration 0013),
with filters by outlet, language, date range and tag, a page at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, literal_column, or_, select, text
from sqlalchemy.orm import Session, defer, joinedload

from storage.common.tags import tag_slug
from storage.models import Article, Outlet

MAX_TERMS = 8
TAG_SCAN = 2000  # with a tag filter: the newest matches looked through for the tag (tags are JSON lists)
_WORD = re.compile(r"\w+", re.UNICODE)


def is_search_object(name: str | None) -> bool:
    """Whether a database object belongs to the search index (migration 0013), not to the models."""
    return name is not None and (name.startswith("articles_fts") or name == "ix_articles_search")


@dataclass(frozen=True)
class SearchQuery:
    """What a reader searched for: words (all must occur) and optional filters."""

    words: str
    outlet_slug: str | None = None
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    tag_slug: str | None = None

    def terms(self) -> list[str]:
        """The query's words as search terms (letters and digits only: no operator reaches the engine)."""
        # lower(), not casefold(): neither index folds ß to ss
        return list(dict.fromkeys(_WORD.findall(self.words.lower())))[:MAX_TERMS]


@dataclass(frozen=True)
class SearchPage:
    """One page of results, newest first, and whether another follows."""

    articles: list[Article]
    has_more: bool


def search(session: Session, query: SearchQuery, page: int = 1, per_page: int = 20) -> SearchPage:
    """The articles matching every word of `query` and its filters, newest first, page `page`."""
    terms = query.terms()
    if not terms:
        return SearchPage([], False)
    stmt = _matching(session, terms)
    newest = func.coalesce(Article.published, Article.fetched_at)
    if query.outlet_slug:
        stmt = stmt.join(Outlet, Article.outlet_id == Outlet.id).where(Outlet.slug == query.outlet_slug)
    if query.language:  # "ar" matches "ar" and "ar-MA" (no LIKE: the value is data, not a pattern)
        language = func.lower(Article.language)
        wanted = query.language.lower()
        stmt = stmt.where(or_(language == wanted, func.substr(language, 1, len(wanted) + 1) == wanted + "-"))
    if query.since:
        stmt = stmt.where(newest >= query.since)
    if query.until:
        stmt = stmt.where(newest < query.until)
    # results show titles, dates and outlets: texts, HTML and signatures stay unread (a tag filter looks through
    # up to TAG_SCAN matches, which at 200 KB of text and as much HTML each came to 800 MB)
    light = (joinedload(Article.outlet), defer(Article.text), defer(Article.html), defer(Article.minhash))
    stmt = stmt.options(*light).order_by(newest.desc(), Article.id.desc())
    start = (page - 1) * per_page
    if query.tag_slug:  # tags are JSON lists, compared by slug: filtered here among the newest matches
        candidates = session.scalars(stmt.limit(TAG_SCAN))
        tagged = [a for a in candidates if query.tag_slug in {tag_slug(t) for t in a.tags or []}]
        return SearchPage(tagged[start : start + per_page], len(tagged) > start + per_page)
    found = list(session.scalars(stmt.offset(start).limit(per_page + 1)))
    return SearchPage(found[:per_page], len(found) > per_page)


def _matching(session: Session, terms: list[str]) -> Select:
    if session.get_bind().dialect.name == "sqlite":
        phrase = " ".join('"' + term.replace('"', "") + '"' for term in terms)  # each term quoted: no operators
        ids = text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :phrase").bindparams(phrase=phrase)
        return select(Article).where(Article.id.in_(ids.columns(literal_column("rowid"))))
    # the expression of the index ix_articles_search, written as the migration wrote it: the planner uses it
    matches = text(
        "to_tsvector('simple'::regconfig, coalesce(articles.title, '') || ' ' || coalesce(articles.text, ''))"
        " @@ plainto_tsquery('simple'::regconfig, :terms)"
    ).bindparams(terms=" ".join(terms))
    return select(Article).where(matches)
