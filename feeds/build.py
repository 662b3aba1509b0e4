"""Build RSS 2.0 and Atom 1.0 documents from feed entries with feedgen (rows in, bytes out)."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from feeds.sanitize import sanitize_html, xml_safe

logger = logging.getLogger(__name__)

KINDS = ("rss", "atom")
SUMMARY_CHARS = 400


@dataclass(frozen=True)
class FeedMeta:
    """Feed-level fields: identity, where it is served (self URL) and the site it describes."""

    title: str
    self_url: str
    site_url: str
    description: str
    feed_id: str
    language: str | None = None
    author: str = "newswire"  # feed-level author: Atom requires one where an entry names none


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed."""

    id: str
    title: str
    link: str
    published: datetime
    updated: datetime
    authors: list[str] = field(default_factory=list)
    summary: str = ""
    content_html: str = ""
    source_name: str | None = None


def summarize(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first paragraph(s) of `text`, cut at a word boundary near `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def build_feed(entries: Iterable[FeedEntry], kind: str, meta: FeedMeta) -> bytes:
    """Serialize `entries` (kept in the given order, newest first) as an RSS 2.0 or Atom 1.0 document."""
    if kind not in KINDS:
        raise ValueError(f"unknown feed kind {kind!r}; expected one of {KINDS}")
    entries = list(entries)
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.id(meta.feed_id)
    fg.title(xml_safe(meta.title))
    fg.subtitle(xml_safe(meta.description))  # RSS <description>
    fg.link(
        href=meta.self_url,
        rel="self",
        type="application/rss+xml" if kind == "rss" else "application/atom+xml",
    )
    fg.link(href=meta.site_url, rel="alternate")  # the last link() is RSS <link>
    if meta.language:
        fg.language(meta.language)
    fg.author(name=xml_safe(meta.author))
    fg.generator("newswire")
    newest = max((_aware(e.updated) for e in entries), default=datetime(1970, 1, 1, tzinfo=UTC))
    fg.updated(newest)
    fg.lastBuildDate(newest)
    for entry in entries:
        fe = fg.add_entry(order="append")
        fe.id(entry.id)
        fe.guid(entry.id, permalink=entry.id == entry.link)
        fe.title(xml_safe(entry.title) or entry.link)
        fe.link(href=entry.link, rel="alternate")
        fe.published(_aware(entry.published))
        fe.updated(_aware(entry.updated))
        for name in entry.authors:
            fe.author(name=xml_safe(name))
            fe.dc.dc_creator(xml_safe(name))
        summary = xml_safe(entry.summary)
        if summary:
            fe.summary(html.escape(summary, quote=False), type="html")  # summary() = description(isSummary=True)
        if entry.content_html:
            fe.content(sanitize_html(entry.content_html, entry.link), type="html")
        if entry.source_name:
            fe.category(term=xml_safe(entry.source_name))
    data = fg.rss_str(pretty=True) if kind == "rss" else fg.atom_str(pretty=True)
    return data
