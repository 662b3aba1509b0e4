"""The feeds newswire publishes, read from the database: merged (one item per story), per outlet, per tag."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from feeds.build import FeedEntry, FeedMeta, SiteAssets, build_feed, feed_updated, summarize
from feeds.ids import feed_id, story_item_id, tag_item_id
from feeds.opml import Subscription
from storage.common.tags import tag_slug
from storage.models import Article, Outlet, Story
from storage.reader import latest_story_copies
from storage.repository import latest_articles

DEFAULT_ITEMS = 50
TAG_SCAN = 1000  # a tag's feed looks for the tag among this many of the newest articles


@dataclass(frozen=True)
class Feed:
    """One feed before serialization: its path under the feeds root (no extension), metadata and entries."""

    path: str
    meta: FeedMeta
    entries: list[FeedEntry]

    def render(self, kind: str, self_url: str, assets: SiteAssets | None = None) -> bytes:
        """The feed as an RSS, Atom or JSON Feed document that says it is served at `self_url`, with the
        site's icon, logo and stylesheet when it has them."""
        meta = replace(self.meta, self_url=self_url)
        if assets is not None:
            meta = replace(meta, icon=assets.icon, logo=assets.logo, stylesheet=assets.stylesheet)
        return build_feed(self.entries, kind, meta)

    @property
    def updated(self) -> datetime:
        """When the feed last changed (its newest entry's update time)."""
        return feed_updated(self.entries, self.meta)


def entry_from_article(article: Article) -> FeedEntry:
    """A feed entry for a stored article; its id is the canonical URL, stable across crawls."""
    # a date after our fetch is a misdated page (a wrong zone): never put the future in a feed
    published = min(article.published or article.fetched_at, article.fetched_at)
    return FeedEntry(
        id=article.canonical_url,
        title=article.title,
        link=article.canonical_url,
        published=published,
        updated=article.fetched_at,
        authors=list(article.authors or []),
        summary=article.description or summarize(article.text),
        content_html=article.html,
        source_name=article.outlet.name if article.outlet else None,
        source_url=article.outlet.homepage if article.outlet else None,
        tags=list(article.tags or []),
        language=article.language or (article.outlet.language if article.outlet else None),
        image=article.image,
    )


def entry_from_story(copies: list[Article]) -> FeedEntry:
    """One merged-feed item per story: the original's title, link and content, and the other copies listed.

    Its id is named by the original's canonical URL (feeds.ids), the same in every database; a copy that
    joins later keeps it. (Should an earlier copy turn up and become the original, the item is named anew.)
    """
    original = copies[0]
    others = [a for a in copies[1:] if a.outlet_id != original.outlet_id]
    entry = replace(entry_from_article(original), id=story_item_id(original.stable_uid))
    if not others:
        return entry
    links = ", ".join(
        f'<a href="{html.escape(a.canonical_url)}">{html.escape(a.outlet.name if a.outlet else a.canonical_url)}</a>'
        for a in others
    )
    names = ", ".join(a.outlet.name for a in others if a.outlet)
    latest = max([entry.updated, *(a.fetched_at for a in others)])
    return replace(
        entry,
        updated=latest,
        summary=f"{entry.summary} (Also reported by: {names})",
        content_html=f"{entry.content_html}<p>Also reported by: {links}</p>",
    )


def _newest_outlet(session: Session) -> datetime | None:
    return session.scalar(select(func.max(Outlet.created_at)))


def merged_feed(
    session: Session,
    site_url: str,
    items: int = DEFAULT_ITEMS,
    stories: list[tuple[Story, list[Article]]] | None = None,
) -> Feed:
    """The newest `items` stories across all outlets (or the `stories` already read), one item each."""
    stories = latest_story_copies(session, items) if stories is None else stories
    entries = [entry_from_story(copies) for _story, copies in stories]
    meta = FeedMeta(
        title="newswire: all outlets",
        self_url="",
        site_url=site_url,
        description="Latest articles from every outlet newswire crawls",
        feed_id=feed_id("all"),
        language="en",  # the feed's own texts; each item carries its article's language where it differs
        updated=_newest_outlet(session),
    )
    return Feed("all", meta, entries)


def outlet_feed(session: Session, outlet: Outlet, items: int = DEFAULT_ITEMS) -> Feed:
    """The newest `items` articles of one outlet, one item per article."""
    entries = [entry_from_article(a) for a in latest_articles(session, items, outlet_id=outlet.id)]
    meta = FeedMeta(
        title=f"newswire: {outlet.name}",
        self_url="",
        site_url=outlet.homepage,
        description=f"Latest articles from {outlet.name}",
        feed_id=feed_id(f"outlet/{outlet.slug}"),
        language=outlet.language or _main_language(entries) or "en",
        author=outlet.name,
        updated=outlet.created_at,
    )
    return Feed(f"outlet/{outlet.slug}", meta, entries)


def _main_language(entries: list[FeedEntry]) -> str | None:
    languages = Counter(e.language for e in entries if e.language)
    return languages.most_common(1)[0][0] if languages else None


def outlet_feeds(session: Session, items: int = DEFAULT_ITEMS) -> list[Feed]:
    """One feed per outlet, by outlet name."""
    return [outlet_feed(session, o, items) for o in session.scalars(select(Outlet).order_by(Outlet.name))]


def feed_subscriptions(session: Session, feeds_url: str, site_url: str, kind: str) -> list[Subscription]:
    """The merged feed and every outlet's, as an OPML list (feeds under `feeds_url`, files of `kind`)."""
    feeds = [Subscription("newswire: all outlets", f"{feeds_url}all.{kind}", site_url)]
    for outlet in session.scalars(select(Outlet).order_by(Outlet.name)):
        url = f"{feeds_url}outlet/{outlet.slug}.{kind}"
        feeds.append(Subscription(f"newswire: {outlet.name}", url, outlet.homepage))
    return feeds


def find_outlet(session: Session, slug: str) -> Outlet | None:
    """The outlet with this slug, if any."""
    return session.scalar(select(Outlet).where(Outlet.slug == slug))


def tag_path(slug: str) -> str:
    """The path of a tag's feed under the feeds root (no extension), percent-encoded."""
    return "tag/" + quote(slug, safe="")


def _recent_tags(session: Session) -> list[tuple[int, list[str]]]:
    """(article id, tags) of the newest TAG_SCAN articles, newest first: the tags only, not the texts."""
    newest = func.coalesce(Article.published, Article.fetched_at)
    stmt = select(Article.id, Article.tags).order_by(newest.desc(), Article.id.desc()).limit(TAG_SCAN)
    return [(article_id, list(tags or [])) for article_id, tags in session.execute(stmt)]


def recent_tags(session: Session, limit: int = 30) -> list[tuple[str, str, int]]:
    """The most used tags of the newest articles as (tag as first written, slug, articles), most used first."""
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    for _article_id, tags in _recent_tags(session):
        slugs = {tag_slug(tag): tag.strip() for tag in tags}
        slugs.pop("", None)
        counts.update(slugs.keys())
        for slug, name in slugs.items():
            names.setdefault(slug, name)
    return [(names[slug], slug, n) for slug, n in counts.most_common(limit)]


def tag_feed(session: Session, slug: str, site_url: str, items: int = DEFAULT_ITEMS) -> Feed | None:
    """The newest `items` articles tagged `slug` (tags compared by their slug), or None when none is."""
    slug = tag_slug(slug)
    if not slug:
        return None
    ids = [article_id for article_id, tags in _recent_tags(session) if slug in {tag_slug(t) for t in tags}][:items]
    if not ids:
        return None
    loaded = session.scalars(select(Article).options(joinedload(Article.outlet)).where(Article.id.in_(ids)))
    by_id = {a.id: a for a in loaded}
    articles = [by_id[i] for i in ids]
    name = next(t for t in articles[0].tags if tag_slug(t) == slug).strip()
    meta = FeedMeta(
        title=f"newswire: {name}",
        self_url="",
        site_url=site_url,
        description=f"Latest articles tagged {name}",
        feed_id=feed_id(f"tag/{slug}"),
        language="en",
        updated=_newest_outlet(session),
    )
    entries = [replace(entry_from_article(a), id=tag_item_id(slug, a.stable_uid)) for a in articles]
    return Feed(tag_path(slug), meta, entries)
