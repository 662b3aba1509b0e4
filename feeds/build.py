"""Build RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents from feed entries (rows in, bytes out)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.sanitize import cap_html, feed_url, language_tag, plain_text, sanitize_html, xml_safe
from storage.times import as_utc
from storage.urls import is_web_url

KINDS = ("rss", "atom", "json")
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
SUMMARY_CHARS = 400
MAX_CONTENT_CHARS = 100_000  # an item's HTML is cut (at a block) beyond this, with a link to the whole article
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ATOM_ENTRY = "{http://www.w3.org/2005/Atom}entry"


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
    updated: datetime | None = None  # when a feed without entries last changed (default: now)


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
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    image: str | None = None


def summarize(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first paragraph(s) of `text`, cut at a word boundary near `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def _distinct(times: Iterable[datetime]) -> list[datetime]:
    """The times, aware, with ties broken by a microsecond: Atom readers and the W3C validator expect every
    entry's `updated` to differ."""
    seen: set[datetime] = set()
    result = []
    for value in times:
        value = as_utc(value)
        while value in seen:
            value += timedelta(microseconds=1)
        seen.add(value)
        result.append(value)
    return result


NEVER_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)  # an empty feed of an empty database: a fixed date keeps its
# ETag and Last-Modified stable until the first crawl (validators flag dates before 1990, so not the epoch)


def feed_updated(entries: Iterable[FeedEntry], meta: FeedMeta) -> datetime:
    """When the feed last changed: its newest entry's update time, else `meta.updated`, else NEVER_UPDATED."""
    times = _distinct(e.updated for e in entries)
    if times:
        return max(times)
    return as_utc(meta.updated) if meta.updated else NEVER_UPDATED


def _http_url(value: str | None) -> str | None:
    return feed_url(value) if value and is_web_url(value) else None


def prepare_entry(entry: FeedEntry, updated: datetime) -> FeedEntry:
    """`entry` ready to publish: plain-text title, normalized URLs, sanitized HTML, clean text and language."""
    link = feed_url(entry.link)
    names = [plain_text(name) for name in entry.authors]
    tags = [plain_text(tag) for tag in entry.tags]
    return replace(
        entry,
        id=feed_url(entry.id),
        title=plain_text(entry.title) or link,
        link=link,
        published=as_utc(entry.published),
        updated=updated,
        authors=[name for name in dict.fromkeys(names) if name],
        summary=" ".join(xml_safe(entry.summary).split()) or plain_text(entry.title),
        content_html=cap_html(sanitize_html(entry.content_html, entry.link), MAX_CONTENT_CHARS, link)
        if entry.content_html
        else "",
        source_name=plain_text(entry.source_name) or None,
        tags=[tag for tag in dict.fromkeys(tags) if tag],
        language=language_tag(entry.language),
        image=_http_url(entry.image),
    )


def prepare_meta(meta: FeedMeta) -> FeedMeta:
    """`meta` with normalized URLs, plain-text title and description and a well-formed language tag."""
    return replace(
        meta,
        title=plain_text(meta.title),
        self_url=feed_url(meta.self_url),
        site_url=feed_url(meta.site_url),
        description=plain_text(meta.description),
        feed_id=feed_url(meta.feed_id),
        language=language_tag(meta.language),
        author=plain_text(meta.author) or "newswire",
    )


def build_feed(entries: Iterable[FeedEntry], kind: str, meta: FeedMeta) -> bytes:
    """Serialize `entries` (kept in the given order, newest first) as an RSS 2.0, Atom 1.0 or JSON Feed 1.1
    document."""
    if kind not in KINDS:
        raise ValueError(f"unknown feed kind {kind!r}; expected one of {KINDS}")
    entries = list(entries)
    prepared = [prepare_entry(e, t) for e, t in zip(entries, _distinct(e.updated for e in entries), strict=True)]
    meta, updated = prepare_meta(meta), feed_updated(entries, meta)
    if kind == "json":
        from feeds.jsonfeed import json_feed

        return json_feed(prepared, meta)
    return _xml_feed(prepared, kind, meta, updated)


def _xml_feed(entries: list[FeedEntry], kind: str, meta: FeedMeta, updated: datetime) -> bytes:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)  # dc:creator carries RSS authors; Atom has <author>
    fg.id(meta.feed_id)
    fg.title(meta.title)
    fg.subtitle(meta.description)  # RSS <description>
    fg.link(href=meta.self_url, rel="self", type=MEDIA_TYPES[kind])
    fg.link(href=meta.site_url, rel="alternate")  # the last link() is RSS <link>
    if meta.language:
        fg.language(meta.language)
    fg.author(name=meta.author)
    fg.generator("newswire")
    fg.updated(updated)
    fg.lastBuildDate(updated)
    for entry in entries:
        fe = fg.add_entry(order="append")
        fe.id(entry.id)
        fe.guid(entry.id, permalink=entry.id == entry.link)
        fe.title(entry.title)
        fe.link(href=entry.link, rel="alternate")
        fe.published(entry.published)
        fe.updated(entry.updated)
        for name in entry.authors:
            fe.author(name=name)
            if kind == "rss":
                fe.dc.dc_creator(name)
        fe.summary(html.escape(entry.summary, quote=False), type="html")  # RSS needs it before content:encoded
        if entry.content_html:
            fe.content(entry.content_html, type="html")
        for term in dict.fromkeys([entry.source_name, *entry.tags]):
            if term:
                fe.category(term=term)
    if kind == "rss":
        return fg.rss_str(pretty=True)
    return _entry_languages(fg.atom_str(pretty=True), [e.language for e in entries], meta.language)


def _entry_languages(atom: bytes, languages: list[str | None], feed_language: str | None) -> bytes:
    """The Atom document with xml:lang on each entry whose language differs from the feed's."""
    if all(lang in (None, feed_language) for lang in languages):
        return atom
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    root = etree.fromstring(atom, parser)
    for element, lang in zip(root.iter(_ATOM_ENTRY), languages, strict=True):
        if lang and lang != feed_language:
            element.set(_XML_LANG, lang)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
