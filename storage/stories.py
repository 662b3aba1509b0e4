"""Stories: each stored article joins the story of an identical or near-identical text, else starts one.

The original of a story is the copy from the outlet the other copies cite; else the earliest
published; else the earliest fetched. A copy that joins a story is compared with the story's current
original and with the copies its own citations promote — never with every copy of the story — so the
cost of joining does not grow with the story (`join_story`); `elect_original` is the full election.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import EllipsisType

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.common.times import as_utc
from storage.models import Article, Base, Citation, Story, utcnow
from storage.near_duplicates import STORY_WINDOW, NearDuplicateIndex, Signature, from_bytes, signature, to_bytes

logger = logging.getLogger(__name__)

_LATEST = datetime.max.replace(tzinfo=UTC)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class StoryCopy:
    """What choosing a story, and the story's original, needs to know of one stored article."""

    id: int
    outlet_id: int
    text_hash: str
    published: datetime | None
    fetched_at: datetime
    cited_outlets: frozenset[int] = frozenset()  # registry outlets its citations resolve to

    @property
    def when(self) -> datetime:
        """The date that places it among the story's copies: published, else fetched."""
        return as_utc(self.published or self.fetched_at)

    def rank(self, cited_by_another: set[int | None]) -> tuple:
        """Sort key of the election: cited by another copy's outlet, then earliest published, fetched, id."""
        published = as_utc(self.published) if self.published else _LATEST
        return (self.outlet_id not in cited_by_another, published, as_utc(self.fetched_at), self.id)

    @classmethod
    def of(cls, article: Article, cited_outlets: Iterable[int | None] = ()) -> StoryCopy:
        cited = frozenset(o for o in cited_outlets if o is not None)
        return cls(article.id, article.outlet_id, article.text_hash, article.published, article.fetched_at, cited)


_COPY_COLUMNS = (Article.id, Article.outlet_id, Article.text_hash, Article.published, Article.fetched_at)


def stored_signatures(
    session: Session, since: datetime | None = None, until: datetime | None = None, batch: int = 2000
) -> Iterator[tuple[int, bytes, datetime, int | None]]:
    """(article id, signature, date, story id) of the stored articles that have a signature, dated in
    [since, until) when given (the date: published, else fetched), streamed."""
    when = func.coalesce(Article.published, Article.fetched_at)
    stmt = select(Article.id, Article.minhash, when, Article.story_id).where(Article.minhash.is_not(None))
    if since is not None:
        stmt = stmt.where(when >= since)
    if until is not None:
        stmt = stmt.where(when < until)
    for article_id, data, dated, story_id in session.execute(stmt.execution_options(yield_per=batch)):
        if data is not None:
            yield article_id, data, dated, story_id


class StoryIndex(NearDuplicateIndex):
    """The near-duplicate index of one crawl, loaded by date as copies need it, with each text's story.

    A copy only joins a story whose copies are dated within STORY_WINDOW of it, so the signatures of
    those days are all it can match: a crawl loads the days around now when it starts — not the whole
    store, which grows without bound — and the days around an older article's date when one comes.
    """

    def __init__(self, threshold: float) -> None:
        super().__init__(threshold)
        self.loaded_days: set[date] = set()
        self.story_ids: dict[str, int] = {}
        self.newest_id = 0  # the highest article id indexed: other writers' articles are those above it

    def add(self, key: str, sig: Signature, when: datetime | None = None, story_id: int | None = None) -> None:
        super().add(key, sig, when)
        self.newest_id = max(self.newest_id, int(key)) if key.isdigit() else self.newest_id
        if story_id is not None:
            self.story_ids[key] = story_id

    def clear(self) -> None:
        """Drop everything loaded and added (after a rolled-back transaction): later copies reload it."""
        super().clear()
        self.loaded_days.clear()
        self.story_ids.clear()  # newest_id stays: what lies above it is still other writers' work

    def catch_up(self, session: Session) -> int:
        """Index the signatures other writers stored since this index last looked (the workers of a shared
        crawl: each has its own index over one database); return how many. Called under
        `lock_story_writers`, so no writer is between its insert and its commit."""
        if not self.loaded_days:
            return 0
        when = func.coalesce(Article.published, Article.fetched_at)
        newest = session.scalar(select(func.max(Article.id))) or 0
        since = datetime.combine(min(self.loaded_days), time.min, UTC)  # what no loaded day can match is left
        until = datetime.combine(max(self.loaded_days), time.min, UTC) + timedelta(days=1)
        stmt = select(Article.id, Article.minhash, when, Article.story_id).where(
            Article.id > self.newest_id, Article.id <= newest, Article.minhash.is_not(None), when >= since, when < until
        )
        added = 0
        for article_id, data, dated, story_id in session.execute(stmt.execution_options(yield_per=500)):
            if data is not None and str(article_id) not in self.signatures:
                self.add(str(article_id), from_bytes(data), as_utc(dated), story_id)
                added += 1
        self.newest_id = max(self.newest_id, newest)
        return added

    def cover(self, session: Session, when: datetime) -> int:
        """Load the stored signatures dated within STORY_WINDOW of `when` not loaded yet; return how many."""
        margin = STORY_WINDOW + timedelta(days=2)  # a year-1 or year-9999 date (stored by an older version)
        when = min(max(when, _EARLIEST + margin), _LATEST - margin)
        first, last = (when - STORY_WINDOW).date(), (when + STORY_WINDOW).date()
        days = {first + timedelta(days=n) for n in range((last - first).days + 1)}
        missing = sorted(days - self.loaded_days)
        if not missing:
            return 0
        since = datetime.combine(missing[0], time.min, UTC)
        until = datetime.combine(missing[-1], time.min, UTC) + timedelta(days=1)
        loaded = 0
        for article_id, data, stored_when, story_id in stored_signatures(session, since, until):
            if str(article_id) not in self.signatures:
                self.add(str(article_id), from_bytes(data), as_utc(stored_when), story_id)
                loaded += 1
        self.loaded_days |= {missing[0] + timedelta(days=n) for n in range((missing[-1] - missing[0]).days + 1)}
        return loaded


STORY_WRITERS_LOCK = 0x6E657773  # PostgreSQL advisory lock key ("news"): one writer of stories at a time


def lock_story_writers(session: Session) -> None:
    """On PostgreSQL, hold the story writers' lock until this transaction ends: writers sharing one database
    (a shared crawl's workers) place copies one transaction at a time, each seeing the others' commits, so
    two copies of one story stored at once end in one story. SQLite has one writer anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL lock_timeout = '60s'"))  # a stuck writer fails the batch, not the crawl
        session.execute(select(func.pg_advisory_xact_lock(STORY_WRITERS_LOCK)))


def load_index(session: Session, threshold: float, now: datetime | None = None) -> StoryIndex:
    """The near-duplicate index for a crawl at `now`: the stored signatures of the days a new copy can
    match (STORY_WINDOW around now); older days are loaded when an older article needs them."""
    index = StoryIndex(threshold)
    newest = session.scalar(select(func.max(Article.id))) or 0  # first: a row stored meanwhile is caught up
    index.cover(session, now or utcnow())
    index.newest_id = newest
    logger.info("near-duplicate index: %d signatures loaded", len(index))
    return index


def backfill_stories(session: Session, index: StoryIndex) -> int:
    """Put articles stored before stories existed into stories, oldest first; return how many."""
    ids = list(session.scalars(select(Article.id).where(Article.story_id.is_(None)).order_by(Article.id)))
    for article_id in ids:
        assign_story(session, session.get_one(Article, article_id), index)
    return len(ids)


def assign_story(
    session: Session, article: Article, index: StoryIndex, sig: Signature | EllipsisType | None = ...
) -> int:
    """`join_story` for a stored Article object (its citations read from the database); `sig` is the text's
    signature when the caller has it, `...` to compute it here."""
    session.flush()
    cited = session.scalars(select(Citation.outlet_id).where(Citation.article_id == article.id))
    minhash = signature(article.text) if sig is ... else sig
    story_id = join_story(session, StoryCopy.of(article, cited), index, minhash)
    # the rows changed under the session's objects: the article takes its new values, a loaded story reloads
    set_committed_value(article, "story_id", story_id)
    set_committed_value(article, "minhash", to_bytes(minhash) if minhash is not None else None)
    story = session.identity_map.get(identity_key(Story, story_id))
    if story is not None:
        session.expire(story, ["original_article_id"])
    return story_id


# The statements of joining a story, built once and executed with each copy's values: no ORM layer and no
# statement built per article. (Core statements skip the session's identity map: assign_story expires it.)
_ARTICLES, _STORIES, _CITATIONS = (Base.metadata.tables[name] for name in ("articles", "stories", "citations"))
_COPY = (_ARTICLES.c.id, _ARTICLES.c.outlet_id, _ARTICLES.c.text_hash, _ARTICLES.c.published, _ARTICLES.c.fetched_at)
_SAME_TEXT = (
    select(_ARTICLES.c.story_id)
    .where(
        _ARTICLES.c.text_hash == bindparam("text_hash"),
        _ARTICLES.c.id != bindparam("id"),
        _ARTICLES.c.story_id.is_not(None),
    )
    .limit(1)
)
_STORY_OF = select(_ARTICLES.c.story_id).where(_ARTICLES.c.id == bindparam("id"))
_NEW_STORY = insert(_STORIES).returning(_STORIES.c.id)
_PLACE = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("article_id"))
    .values(story_id=bindparam("story_id"), minhash=bindparam("minhash"))
)
_CURRENT_ORIGINAL = (
    select(*_COPY)
    .join(_STORIES, _STORIES.c.original_article_id == _ARTICLES.c.id)
    .where(_STORIES.c.id == bindparam("story_id"))
)
_COPIES_FROM = select(*_COPY).where(
    _ARTICLES.c.story_id == bindparam("story_id"), _ARTICLES.c.outlet_id.in_(bindparam("outlets", expanding=True))
)
_CITED_IN_STORY = (
    select(_ARTICLES.c.outlet_id, _CITATIONS.c.outlet_id)
    .join(_ARTICLES, _CITATIONS.c.article_id == _ARTICLES.c.id)
    .where(
        _ARTICLES.c.story_id == bindparam("story_id"), _CITATIONS.c.outlet_id.in_(bindparam("outlets", expanding=True))
    )
)
_SET_ORIGINAL = (
    update(_STORIES).where(_STORIES.c.id == bindparam("story_id")).values(original_article_id=bindparam("original"))
)


def join_story(session: Session, copy: StoryCopy, index: StoryIndex, sig: Signature | None) -> int:
    """Put a newly stored article in its story (exact text, then near-duplicate, else a new story), store its
    signature, index it, and re-elect the story's original. Returns the story id.

    Its citations must be stored already: they take part in the election.
    """
    index.cover(session, copy.when)  # before its own signature is indexed: a text never matches itself
    story_id = session.execute(_SAME_TEXT, {"text_hash": copy.text_hash, "id": copy.id}).scalar()
    if story_id is None and sig is not None and (match := index.closest(sig, copy.when)):
        story_id = index.story_ids.get(match.key) or session.execute(_STORY_OF, {"id": int(match.key)}).scalar()
    minhash = to_bytes(sig) if sig is not None else None
    if story_id is None:
        values = {"created_at": utcnow(), "original_article_id": copy.id}
        story_id = session.execute(_NEW_STORY, values).scalar_one()
        session.execute(_PLACE, {"article_id": copy.id, "story_id": story_id, "minhash": minhash})
    else:
        session.execute(_PLACE, {"article_id": copy.id, "story_id": story_id, "minhash": minhash})
        elect_after_join(session, story_id, copy)
    if sig is not None:
        index.add(str(copy.id), sig, copy.when, story_id)
    return story_id


def elect_after_join(session: Session, story_id: int, joined: StoryCopy) -> int | None:
    """Re-elect the original after `joined` came into the story, comparing only the copies whose rank can
    have changed: the current original, the new copy, and the copies from outlets the new copy cites
    (its citations can make them "cited by another"). Equal to `elect_original` at a bounded cost."""
    current = session.execute(_CURRENT_ORIGINAL, {"story_id": story_id}).first()
    if current is None:  # a story without an original (stored by an older version): the full election
        return elect_original(session, story_id)
    candidates = {joined.id: joined, current.id: StoryCopy(*current)}
    promoted = joined.cited_outlets - {joined.outlet_id}
    if promoted:
        rows = session.execute(_COPIES_FROM, {"story_id": story_id, "outlets": sorted(promoted)})
        candidates.update({row.id: StoryCopy(*row) for row in rows})
    outlets = sorted({c.outlet_id for c in candidates.values()})
    citations = session.execute(_CITED_IN_STORY, {"story_id": story_id, "outlets": outlets})
    cited_by_another = {cited for citing, cited in citations if citing != cited}
    original = min(candidates.values(), key=lambda c: c.rank(cited_by_another))
    if original.id != current.id:
        session.execute(_SET_ORIGINAL, {"story_id": story_id, "original": original.id})
    return original.id


def elect_original(session: Session, story_id: int) -> int | None:
    """Choose the story's original among all its copies (see the module's docstring)."""
    copies = [StoryCopy(*row) for row in session.execute(select(*_COPY_COLUMNS).where(Article.story_id == story_id))]
    if not copies:
        return None
    outlet_of = {c.id: c.outlet_id for c in copies}
    citations = session.execute(
        select(Citation.article_id, Citation.outlet_id).where(
            Citation.article_id.in_(list(outlet_of)), Citation.outlet_id.in_(set(outlet_of.values()))
        )
    )
    cited_by_another = {cited for citing, cited in citations if outlet_of[citing] != cited}
    original = min(copies, key=lambda c: c.rank(cited_by_another))
    session.execute(update(Story).where(Story.id == story_id).values(original_article_id=original.id))
    return original.id


def refresh_signature(
    session: Session, article: Article, index: StoryIndex, sig: Signature | EllipsisType | None = ...
) -> None:
    """After a revision: the article keeps its story, with its new signature (`...`: computed here) indexed."""
    index.cover(session, as_utc(article.published or article.fetched_at))  # its old signature, dated, is loaded
    if sig is ...:
        sig = signature(article.text)
    article.minhash = to_bytes(sig) if sig is not None else None
    index.replace(str(article.id), sig)
