"""Serialize prepared feed entries as a JSON Feed 1.1 document (https://www.jsonfeed.org/version/1.1/)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from feeds.sanitize import plain_text

if TYPE_CHECKING:
    from feeds.build import FeedEntry, FeedMeta

VERSION = "https://jsonfeed.org/version/1.1"


def _item(entry: FeedEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.link or None,
        "title": entry.title,
        "content_html": entry.content_html or None,
        "summary": plain_text(entry.summary) or None,  # plain text by the spec; some readers render it as HTML
        "image": entry.image,
        "date_published": entry.published.isoformat(),
        "date_modified": entry.updated.isoformat(),
        "authors": [{"name": name} for name in entry.authors] or None,
        "tags": list(dict.fromkeys(entry.tags)) or None,
        "language": entry.language,  # every item's own (JSON Feed 1.1)
        "_source": {"title": entry.source_name, "url": entry.source_url} if entry.source_name else None,
    }
    if item["content_html"] is None:
        item["content_text"] = plain_text(entry.summary) or entry.title  # an item needs content_html or content_text
    return {key: value for key, value in item.items() if value is not None}


def json_feed(entries: list[FeedEntry], meta: FeedMeta) -> bytes:
    """The JSON Feed 1.1 document of entries and metadata already prepared by feeds.build (order kept)."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": meta.title,
        "home_page_url": meta.site_url,
        "feed_url": meta.self_url,
        "description": meta.description,
        "language": meta.language,
        "icon": meta.logo,
        "favicon": meta.icon,
        "authors": [{"name": meta.author}],
        "items": [_item(entry) for entry in entries],
    }
    feed = {key: value for key, value in feed.items() if value is not None}
    return json.dumps(feed, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
