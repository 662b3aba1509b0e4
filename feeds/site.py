"""The served index page: the feeds (with autodiscovery links) and the latest stories with their outlets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from feeds.build import KINDS, MEDIA_TYPES
from feeds.sanitize import feed_url, xml_safe
from storage.urls import is_web_url

KIND_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


@dataclass(frozen=True)
class FeedLink:
    """A feed listed on the page: its name and URL without the kind's extension."""

    name: str
    url: str
    discoverable: bool = True  # also announced in <head> for feed readers' autodiscovery


@dataclass(frozen=True)
class StoryLine:
    """A story on the page: its title, the original's URL, when, and the outlets that carry it."""

    title: str
    url: str
    published: datetime
    outlets: list[str]


def _text(value: str) -> str:
    return escape(xml_safe(value), quote=True)


def _href(url: str) -> str | None:
    """An escaped http(s) URL fit for an href, or None (javascript: and the like are never linked)."""
    url = feed_url(xml_safe(url))
    return escape(url, quote=True) if is_web_url(url) else None


def _feed_item(feed: FeedLink) -> str:
    links = " · ".join(f'<a href="{_text(feed.url)}.{kind}">{KIND_NAMES[kind]}</a>' for kind in KINDS)
    return f"<li>{_text(feed.name)}: {links}</li>"


def _story_item(story: StoryLine) -> str:
    href = _href(story.url)
    title = f'<a href="{href}">{_text(story.title)}</a>' if href else _text(story.title)
    when = story.published.isoformat(timespec="minutes")
    return (
        f'<li dir="auto">{title} <small><time datetime="{_text(story.published.isoformat())}">{_text(when)}</time> — '
        f"{_text(', '.join(story.outlets))}</small></li>"
    )


def index_page(title: str, feeds: list[FeedLink], tags: list[FeedLink], stories: list[StoryLine]) -> bytes:
    """The HTML index page; every value from the database is escaped (titles and names are hostile input)."""
    alternates = "\n".join(
        f'<link rel="alternate" type="{MEDIA_TYPES[kind]}" title="{_text(f"{feed.name} ({KIND_NAMES[kind]})")}" '
        f'href="{_text(feed.url)}.{kind}">'
        for feed in feeds
        if feed.discoverable
        for kind in KINDS
    )
    feed_items = "\n".join(_feed_item(feed) for feed in feeds)
    tag_items = "\n".join(_feed_item(tag) for tag in tags) or "<li>No tags yet.</li>"
    story_items = "\n".join(_story_item(story) for story in stories) or "<li>No stories yet.</li>"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_text(title)}</title>
{alternates}
</head>
<body>
<h1>{_text(title)}</h1>
<h2>Feeds</h2>
<ul id="feeds">
{feed_items}
</ul>
<h2>Tags</h2>
<ul id="tags">
{tag_items}
</ul>
<h2>Latest stories</h2>
<ul id="stories">
{story_items}
</ul>
</body>
</html>
"""
    return page.encode("utf-8")
