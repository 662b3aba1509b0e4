"""Build RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents from feed entries (rows in, bytes out)."""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.sanitize import cap_html, feed_url, language_tag, plain_text, sanitize_html, xml_safe
from storage.common.times import as_utc
from storage.common.urls import is_web_url

KINDS = ("rss", "atom", "json")
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
SUMMARY_CHARS = 400
MAX_CONTENT_CHARS = 100_000  # an item's HTML is cut (at a block) beyond this, with a link to the whole article
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ATOM_ENTRY = "{http://www.w3.org/2005/Atom}entry"
_ATOM_LINK = "{http://www.w3.org/2005/Atom}link"


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
    icon: str | None = None  # a square image (Atom icon, JSON Feed favicon)
    logo: str | None = None  # a larger one (Atom logo, RSS image, JSON Feed icon)
    stylesheet: str | None = None  # an XSL stylesheet a browser renders the RSS or Atom document with


@dataclass(frozen=True)
class SiteAssets:
    """The URLs of what a served feed shows beside its items: icon, logo, and the stylesheet for browsers."""

    icon: str
    logo: str
    stylesheet: str

    @classmethod
    def at(cls, root: str) -> SiteAssets:
        """The assets of the server at `root` (feeds/web/static)."""
        return cls(root + "static/icon.png", root + "static/logo.png", root + "static/feed.xsl")


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
    source_name: str | None = None  # the outlet: RSS and Atom <source>
    source_url: str | None = None  # its feed or home page
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
    """`entry` ready to publish: plain-text title, normalized URLs, sanitized HTML, clean text and language.

    Its link is an http(s) URL or none (a stored `javascript:` link reached the feeds, and the page feed.xsl makes
    of them, as a clickable link)."""
    link = _http_url(entry.link) or ""
    names = [plain_text(name) for name in entry.authors]
    tags = [plain_text(tag) for tag in entry.tags]
    return replace(
        entry,
        id=feed_url(entry.id),
        title=plain_text(entry.title) or link or feed_url(entry.id),
        link=link,
        published=as_utc(entry.published),
        updated=updated,
        authors=[name for name in dict.fromkeys(names) if name],
        summary=" ".join(xml_safe(entry.summary).split()) or plain_text(entry.title),
        content_html=cap_html(sanitize_html(entry.content_html, link), MAX_CONTENT_CHARS, link)
        if entry.content_html
        else "",
        source_name=plain_text(entry.source_name) or None,
        source_url=_http_url(entry.source_url),
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
        icon=_http_url(meta.icon),
        logo=_http_url(meta.logo),
        stylesheet=_http_url(meta.stylesheet),
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
    fg.load_extension("media", atom=True, rss=True)  # media:content: the image readers show with the item
    fg.id(meta.feed_id)
    fg.title(meta.title)
    fg.subtitle(meta.description)  # RSS <description>
    fg.link(href=meta.self_url, rel="self", type=MEDIA_TYPES[kind])
    fg.link(href=meta.site_url, rel="alternate")  # the last link() is RSS <link>
    if meta.language:
        fg.language(meta.language)
    if meta.icon:
        fg.icon(meta.icon)
    if meta.logo:
        fg.logo(meta.logo)
        fg.image(url=meta.logo, title=meta.title, link=meta.site_url)
    fg.author(name=meta.author)
    fg.generator("newswire")
    fg.updated(updated)
    fg.lastBuildDate(updated)
    for entry in entries:
        _add_entry(fg, entry, kind, meta.language)
    if kind == "rss":
        document = fg.rss_str(pretty=True)
    else:
        document = _atom_entries(fg.atom_str(pretty=True), entries, meta.language)
    return _with_stylesheet(document, meta.stylesheet)


def _add_entry(fg: FeedGenerator, entry: FeedEntry, kind: str, feed_language: str | None) -> None:
    fe = fg.add_entry(order="append")
    fe.id(entry.id)
    fe.guid(entry.id, permalink=bool(entry.link) and entry.id == entry.link)
    fe.title(entry.title)
    if entry.link:
        fe.link(href=entry.link, rel="alternate")
    fe.published(entry.published)
    fe.updated(entry.updated)
    for name in entry.authors:
        fe.author(name=name)
    if kind == "rss" and entry.authors:  # one line: newsboat shows only the last of several dc:creator
        fe.dc.dc_creator(", ".join(entry.authors))
    if kind == "rss" and entry.language and entry.language != feed_language:
        fe.dc.dc_language(entry.language)  # RSS has no per-item language of its own (Atom: xml:lang)
    fe.summary(html.escape(entry.summary, quote=False), type="html")  # RSS needs it before content:encoded
    if entry.content_html:
        fe.content(entry.content_html, type="html")
    if entry.source_name and entry.source_url:
        fe.source(url=entry.source_url, title=entry.source_name)
    for term in entry.tags:
        fe.category(term=term)
    if entry.image:
        media_type = image_type(entry.image)
        if kind == "rss":  # Atom's is added by _atom_entries: feedgen writes its links without rel or type
            fe.enclosure(entry.image, "0", media_type)  # length unknown: 0, as the RSS best practice allows
        fe.media.content(url=entry.image, medium="image", type=media_type, group=None)  # no media:group around


def image_type(url: str) -> str:
    """An image URL's media type by its extension (JPEG when it has none we know)."""
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed if guessed and guessed.startswith("image/") else "image/jpeg"


def _with_stylesheet(document: bytes, stylesheet: str | None) -> bytes:
    """The XML document with an xml-stylesheet instruction after its declaration (a browser renders it)."""
    if not stylesheet:
        return document
    declaration, _, rest = document.partition(b"?>")
    instruction = f'\n<?xml-stylesheet type="text/xsl" href="{html.escape(stylesheet, quote=True)}"?>'
    return declaration + b"?>" + instruction.encode("utf-8") + rest


def _atom_entries(atom: bytes, entries: list[FeedEntry], feed_language: str | None) -> bytes:
    """The Atom document with xml:lang on each entry whose language differs from the feed's, and the image
    as a link rel="enclosure" (feedgen drops the rel and type of every entry link it writes)."""
    if all(e.language in (None, feed_language) and not e.image for e in entries):
        return atom
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    root = etree.fromstring(atom, parser)
    for element, entry in zip(root.iter(_ATOM_ENTRY), entries, strict=True):
        if entry.language and entry.language != feed_language:
            element.set(_XML_LANG, entry.language)
        if entry.image:
            link = etree.Element(_ATOM_LINK, rel="enclosure", href=entry.image, type=image_type(entry.image))
            link.set("length", "0")
            element.find(_ATOM_LINK).addnext(link)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
