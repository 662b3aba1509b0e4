"""What the web reader's pages show, read from the store: a story with every copy, an outlet's overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, joinedload

from storage.common.times import as_utc
from storage.models import Article, Citation, Outlet, OutletState, Story


@dataclass(frozen=True)
class StoryDetail:
    """A story's copies (original first, then by date), their citations, and why the original is the one."""

    original: Article
    copies: list[Article]
    citations: dict[int, list[Citation]]  # article id → its citations, in the order found
    why: str


@dataclass(frozen=True)
class StoryLookup:
    """A story page's answer: the story, or the uid its original now has (an earlier copy took its place)."""

    story: StoryDetail | None = None
    moved_to: str | None = None


# a story page reads the texts of the copies it shows, one by one, when it shows them (a story of 210 copies of
# 200 KB read 42 MB of text, and as much HTML, for each view); HTML and signatures it never reads
_LIGHT = (joinedload(Article.outlet), defer(Article.text), defer(Article.html), defer(Article.minhash))


def find_story(session: Session, uid: str) -> StoryLookup | None:
    """The story whose original has article uid `uid`; for a copy's uid (or a former original's), where the
    story now is; None when no article has it. Texts are loaded when first read."""
    article = session.scalar(select(Article).options(*_LIGHT).where(Article.uid == uid))
    if article is None:
        return None
    if article.story_id is None:
        return StoryLookup(StoryDetail(article, [article], _citations(session, [article.id]), "the only copy"))
    story = session.get(Story, article.story_id)
    copies = list(
        session.scalars(
            select(Article)
            .options(*_LIGHT)
            .where(Article.story_id == article.story_id)
            .order_by(func.coalesce(Article.published, Article.fetched_at), Article.id)
        )
    )
    original = next((a for a in copies if story and a.id == story.original_article_id), copies[0])
    if original.stable_uid != uid:
        return StoryLookup(moved_to=original.stable_uid)
    copies.sort(key=lambda a: a.id != original.id)  # stable: the others stay in date order
    citations = _citations(session, [a.id for a in copies])
    return StoryLookup(StoryDetail(original, copies, citations, _why_original(original, copies, citations)))


def latest_story_copies(session: Session, limit: int, offset: int = 0) -> list[tuple[Story, list[Article]]]:
    """storage.repository.latest_stories (the stories with the newest articles, newest first, each with its copies,
    the original first) with every copy's text and HTML read only when used: the index and the merged feed show
    the originals' (a story of 210 copies of 200 KB made each view of the index read 84 MB)."""
    newest = func.max(func.coalesce(Article.published, Article.fetched_at))
    ids = (
        select(Article.story_id).where(Article.story_id.is_not(None)).group_by(Article.story_id)
        .order_by(newest.desc(), Article.story_id.desc()).offset(offset).limit(limit)
    )  # fmt: skip
    story_ids = [story_id for story_id in session.scalars(ids) if story_id is not None]
    stories = {story.id: story for story in session.scalars(select(Story).where(Story.id.in_(story_ids)))}
    copies: dict[int, list[Article]] = {story_id: [] for story_id in story_ids}
    members = select(Article).options(*_LIGHT).where(Article.story_id.in_(story_ids))
    for article in session.scalars(members.order_by(func.coalesce(Article.published, Article.fetched_at), Article.id)):
        copies[article.story_id or 0].append(article)
    for story_id in story_ids:  # stable: the other copies stay in date order
        original = stories[story_id].original_article_id
        copies[story_id].sort(key=lambda article: article.id != original)
    return [(stories[story_id], copies[story_id]) for story_id in story_ids]


def story_version(session: Session, uid: str) -> tuple | None:
    """A token that changes whenever the story page of article `uid` may change (a copy added, removed or revised,
    another original elected), its first element the number of copies; None when no article has that uid."""
    row = session.execute(
        select(Article.id, Article.story_id, Article.changed, Article.fetched_at).where(Article.uid == uid)
    ).first()
    if row is None:
        return None
    if row.story_id is None:
        return (1, *row)
    copies = select(
        func.count(Article.id), func.max(Article.id), func.max(Article.changed), func.max(Article.fetched_at)
    ).where(Article.story_id == row.story_id)
    count, *latest = session.execute(copies).one()
    original = session.scalar(select(Story.original_article_id).where(Story.id == row.story_id))
    return (count, row.story_id, original, *latest)


def _citations(session: Session, article_ids: list[int]) -> dict[int, list[Citation]]:
    found: dict[int, list[Citation]] = {article_id: [] for article_id in article_ids}
    stmt = select(Citation).where(Citation.article_id.in_(article_ids)).order_by(Citation.article_id, Citation.id)
    for citation in session.scalars(stmt):
        found[citation.article_id].append(citation)
    return found


def _why_original(original: Article, copies: list[Article], citations: dict[int, list[Citation]]) -> str:
    """The rule of storage.stories' election that chose `original`, in words."""
    if len(copies) == 1:
        return "the only copy"
    citing = [a.outlet.name for a in copies if any(c.outlet_id == original.outlet_id for c in citations[a.id])]
    if citing and original.outlet_id not in {a.outlet_id for a in copies if a.id != original.id}:
        return "cited as the source by " + ", ".join(dict.fromkeys(citing))
    if original.published is not None:
        return "published first"
    return "fetched first (no copy gives a publication date)"


@dataclass(frozen=True)
class OutletOverview:
    """An outlet's page: its freshness, its last error, articles per day and its newest articles."""

    outlet: Outlet
    state: OutletState | None
    articles: int
    newest_fetch: datetime | None
    per_day: list[tuple[date, int]]  # the last `days` days, oldest first, zeros included
    latest: list[Article]


def outlet_overview(session: Session, slug: str, days: int = 30, latest: int = 20) -> OutletOverview | None:
    """The overview of the outlet with this slug, or None."""
    outlet = session.scalar(select(Outlet).where(Outlet.slug == slug))
    if outlet is None:
        return None
    state = session.get(OutletState, outlet.id)
    count, newest_fetch = session.execute(
        select(func.count(Article.id), func.max(Article.fetched_at)).where(Article.outlet_id == outlet.id)
    ).one()
    newest = func.coalesce(Article.published, Article.fetched_at)
    of_outlet = select(Article).options(*_LIGHT).where(Article.outlet_id == outlet.id)
    recent = list(session.scalars(of_outlet.order_by(newest.desc(), Article.id.desc()).limit(latest)))
    end = as_utc(newest_fetch).date() if newest_fetch else datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    since = datetime.combine(start, datetime.min.time(), UTC)
    dated = session.scalars(select(newest).where(Article.outlet_id == outlet.id, newest >= since))
    counts = dict.fromkeys((start + timedelta(days=n) for n in range(days)), 0)
    for when in dated:
        day = as_utc(when).date()
        if day in counts:
            counts[day] += 1
    return OutletOverview(outlet, state, count, newest_fetch, list(counts.items()), recent)
