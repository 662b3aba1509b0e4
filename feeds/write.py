"""Write the merged and per-outlet feeds from the database as static files, atomically."""

from __future__ import annotations

import html
import logging
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from feeds.build import KINDS, FeedEntry, FeedMeta, build_feed, summarize
from storage.models import Article, Outlet, Story
from storage.repository import latest_articles, latest_stories

logger = logging.getLogger(__name__)

DEFAULT_ITEMS = 50


def entry_from_article(article: Article) -> FeedEntry:
    """A feed entry for a stored article; its id is the canonical URL, stable across crawls."""
    published = article.published or article.fetched_at
    return FeedEntry(
        id=article.canonical_url,
        title=article.title,
        link=article.canonical_url,
        published=published,
        updated=max(published, article.fetched_at) if article.published else article.fetched_at,
        authors=list(article.authors or []),
        summary=article.description or summarize(article.text),
        content_html=article.html,
        source_name=article.outlet.name if article.outlet else None,
    )


def entry_from_story(story: Story, copies: list[Article], base_url: str) -> FeedEntry:
    """One merged-feed item per story: the original's title, link and content, and the other copies listed.

    Its id names the story, not the original's URL, so it stays the same when a copy joins later or
    another copy becomes the original: a subscriber's reader never shows the story twice.
    """
    original = copies[0]
    others = [a for a in copies[1:] if a.outlet_id != original.outlet_id]
    entry = entry_from_article(original)
    if not others:
        return replace(entry, id=f"{base_url}story/{story.id}")
    links = ", ".join(
        f'<a href="{html.escape(a.canonical_url)}">{html.escape(a.outlet.name if a.outlet else a.canonical_url)}</a>'
        for a in others
    )
    names = ", ".join(a.outlet.name for a in others if a.outlet)
    latest = max([entry.updated, *(a.fetched_at for a in others)])
    return replace(
        entry,
        id=f"{base_url}story/{story.id}",
        updated=latest,
        summary=f"{entry.summary} (Also reported by: {names})",
        content_html=f"{entry.content_html}<p>Also reported by: {links}</p>",
    )


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class WrittenFeed:
    """One feed file written: where, which kind, how many items."""

    path: Path
    kind: str
    items: int


def _write_pair(
    out_dir: Path, relative: str, entries: list[FeedEntry], base_url: str, meta: FeedMeta
) -> list[WrittenFeed]:
    written = []
    for kind in KINDS:
        name = f"{relative}.{kind}"
        kind_meta = FeedMeta(**{**meta.__dict__, "self_url": base_url + name})
        path = out_dir / name
        write_atomically(path, build_feed(entries, kind, kind_meta))
        written.append(WrittenFeed(path, kind, len(entries)))
    return written


def write_feeds(
    session: Session, out_dir: str | Path, *, items: int = DEFAULT_ITEMS, base_url: str | None = None
) -> list[WrittenFeed]:
    """Write all.rss/all.atom (one item per story, across outlets) and outlet/<slug>.rss|.atom (one item
    per article), newest `items` each."""
    out_dir = Path(out_dir).resolve()
    base_url = base_url or out_dir.as_uri() + "/"
    if not base_url.endswith("/"):
        base_url += "/"
    merged = [entry_from_story(story, copies, base_url) for story, copies in latest_stories(session, items)]
    meta = FeedMeta(
        title="newswire: all outlets",
        self_url="",
        site_url=base_url,
        description="Latest articles from every outlet newswire crawls",
        feed_id=base_url + "all",
    )
    written = _write_pair(out_dir, "all", merged, base_url, meta)
    for outlet in session.scalars(select(Outlet).order_by(Outlet.name)):
        entries = [entry_from_article(a) for a in latest_articles(session, items, outlet_id=outlet.id)]
        meta = FeedMeta(
            title=f"newswire: {outlet.name}",
            self_url="",
            site_url=outlet.homepage,
            description=f"Latest articles from {outlet.name}",
            feed_id=base_url + f"outlet/{outlet.slug}",
            language=outlet.language,
            author=outlet.name,
        )
        written += _write_pair(out_dir, f"outlet/{outlet.slug}", entries, base_url, meta)
    return written
