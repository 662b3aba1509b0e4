"""Stories: each stored article joins the story of an identical or near-identical text, else starts one.

The original of a story is the copy from the outlet the other copies cite; else the earliest
published; else the earliest fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from types import EllipsisType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Article, Citation, Story, utcnow
from storage.near_duplicates import STORY_WINDOW, NearDuplicateIndex, Signature, from_bytes, signature, to_bytes
from storage.times import as_utc

logger = logging.getLogger(__name__)

_LATEST = datetime.max.replace(tzinfo=UTC)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def stored_signatures(
    session: Session, since: datetime | None = None, until: datetime | None = None, batch: int = 2000
) -> Iterator[tuple[int, bytes, datetime]]:
    """(article id, signature, date) of the stored articles that have a signature, dated in [since, until)
    when given (the date: published, else fetched), streamed."""
    when = func.coalesce(Article.published, Article.fetched_at)
    stmt = select(Article.id, Article.minhash, when).where(Article.minhash.is_not(None))
    if since is not None:
        stmt = stmt.where(when >= since)
    if until is not None:
        stmt = stmt.where(when < until)
    for article_id, data, dated in session.execute(stmt.execution_options(yield_per=batch)):
        if data is not None:
            yield article_id, data, dated


class StoryIndex(NearDuplicateIndex):
    """The near-duplicate index of one crawl, loaded by date as copies need it.

    A copy only joins a story whose copies are dated within STORY_WINDOW of it, so the signatures of
    those days are all it can match: a crawl loads the days around now when it starts — not the whole
    store, which grows without bound — and the days around an older article's date when one comes.
    """

    def __init__(self, threshold: float) -> None:
        super().__init__(threshold)
        self.loaded_days: set[date] = set()

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
        for article_id, data, stored_when in stored_signatures(session, since, until):
            if str(article_id) not in self.signatures:
                self.add(str(article_id), from_bytes(data), as_utc(stored_when))
                loaded += 1
        self.loaded_days |= {missing[0] + timedelta(days=n) for n in range((missing[-1] - missing[0]).days + 1)}
        return loaded


def load_index(session: Session, threshold: float, now: datetime | None = None) -> StoryIndex:
    """The near-duplicate index for a crawl at `now`: the stored signatures of the days a new copy can
    match (STORY_WINDOW around now); older days are loaded when an older article needs them."""
    index = StoryIndex(threshold)
    index.cover(session, now or utcnow())
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
    """Put a newly stored article in its story (exact text, then near-duplicate, else a new story).

    `sig` is the text's signature when the caller computed it (an extraction worker did), else `...`:
    computed here. Indexes the signature and re-elects the story's original. Returns the story id.
    """
    when = article.published or article.fetched_at
    index.cover(session, as_utc(when))  # before its own signature is written: a text never matches itself
    minhash = signature(article.text) if sig is ... else sig
    article.minhash = to_bytes(minhash) if minhash is not None else None
    story_id = session.scalar(
        select(Article.story_id).where(
            Article.text_hash == article.text_hash, Article.id != article.id, Article.story_id.is_not(None)
        )
    )
    if story_id is None and minhash is not None and (match := index.closest(minhash, when)):
        story_id = session.scalar(select(Article.story_id).where(Article.id == int(match.key)))
    if story_id is None:
        story = Story(created_at=utcnow())
        session.add(story)
        session.flush()
        story_id = story.id
    article.story_id = story_id
    session.flush()
    if minhash is not None:
        index.add(str(article.id), minhash, when)
    elect_original(session, story_id)
    return story_id


def elect_original(session: Session, story_id: int) -> int | None:
    """Choose the story's original: cited by the other copies' articles, else earliest published/fetched."""
    copies = list(session.scalars(select(Article).where(Article.story_id == story_id)))
    if not copies:
        return None
    outlet_of = {a.id: a.outlet_id for a in copies}
    citations = session.execute(
        select(Citation.article_id, Citation.outlet_id).where(
            Citation.article_id.in_(list(outlet_of)), Citation.outlet_id.in_(set(outlet_of.values()))
        )
    )
    cited_by_another = {cited for citing, cited in citations if outlet_of[citing] != cited}

    def rank(article: Article) -> tuple:
        return (article.outlet_id not in cited_by_another, article.published or _LATEST, article.fetched_at, article.id)

    original = min(copies, key=rank)
    story = session.get_one(Story, story_id)
    story.original_article_id = original.id
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
