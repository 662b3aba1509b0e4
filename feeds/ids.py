"""Ids that never change: feeds' and items' ids derived from what does not change, never from where or when
they were built.

A story's merged-feed item is named by its original's canonical URL (through its uid, storage.common.urls.article_uid),
an outlet feed's item by the article's canonical URL itself (a URL that resolves, at the outlet), a tag feed's
item by the tag and the article: three feeds, three ids, so a reader that keys items by id across its
subscriptions (newsboat) never moves an item from one feed to another. Row ids (which number stories per
database) and the server's address take no part: two databases crawled from the same web, a rebuilt database,
a static file and the served feed all give the same ids. Non-URL ids are tag: URIs (RFC 4151).
"""

from __future__ import annotations

from urllib.parse import quote

TAGGING_ENTITY = "newswire,2026"  # RFC 4151 authority and date: the scheme of these ids was minted in 2026


def _tag(specific: str) -> str:
    return f"tag:{TAGGING_ENTITY}:{specific}"


def feed_id(path: str) -> str:
    """A feed's id from its path under the feeds root ("all", "outlet/reuters", "tag/libya")."""
    return _tag("feeds/" + quote(path, safe="/"))


def story_item_id(original_uid: str) -> str:
    """The merged feed's item of a story, named by its original copy."""
    return _tag(f"story/{original_uid}")


def tag_item_id(tag_slug: str, article_uid: str) -> str:
    """A tag feed's item of an article (its outlet feed's item is the canonical URL)."""
    return _tag(f"tag/{quote(tag_slug, safe='')}/{article_uid}")
