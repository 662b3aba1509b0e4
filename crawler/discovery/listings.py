"""Parse what discovery fetches: RSS/Atom feeds, XML sitemaps (indexes, gzip, Google News), robots.txt, feed links."""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree, html
from protego import Protego
from scrapy.utils.gz import gunzip

from crawler.extract.dates import parse_date
from storage.common.urls import is_web_url

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


class ListingError(ValueError):
    """A feed or sitemap that cannot be read (malformed, hostile or not a listing at all)."""


@dataclass(frozen=True)
class ListingEntry:
    """An article URL with what the listing says of it."""

    url: str
    title: str | None = None
    published_raw: str | None = None
    updated_raw: str | None = None  # when the listing says the entry last changed (Atom <updated>, lastmod)


@dataclass
class Listing:
    """What one feed or sitemap yields: article entries and, for sitemap indexes, child sitemaps."""

    kind: str  # "feed", "sitemap" or "sitemapindex"
    entries: list[ListingEntry] = field(default_factory=list)
    sitemaps: list[tuple[str, str | None]] = field(default_factory=list)  # (url, lastmod)
    poll_hint: int | None = None  # seconds the feed asks readers to wait between polls (<ttl>, sy:updatePeriod)


def decompress(body: bytes, max_size: int) -> bytes:
    """The body, gunzipped (up to `max_size` bytes) when it carries the gzip magic number."""
    if body[:2] == b"\x1f\x8b":
        try:
            return gunzip(body, max_size=max_size)
        except Exception as exc:  # noqa: BLE001 - scrapy raises a private exception type past max_size
            raise ListingError(f"gzip body unreadable or larger than {max_size} bytes: {exc}") from None
    return body


def _refuse_entities(body: bytes) -> None:
    if _ENTITY_DECL.search(body[:65536]):
        raise ListingError("XML entity declarations refused (possible entity-expansion attack)")


def _join(base_url: str, href: str) -> str | None:
    """`href` made absolute against `base_url`, or None for a malformed URL (a bad host, port or bracket)."""
    try:
        url = urljoin(base_url, href.strip())
        urlsplit(url).port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    return url


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(node: etree._Element, name: str) -> str | None:
    for child in node:
        if _local(child.tag) == name and child.text and child.text.strip():
            return child.text.strip()
    return None


def _parse_sitemap(root: etree._Element, base_url: str) -> Listing:
    if _local(root.tag) == "sitemapindex":
        listing = Listing("sitemapindex")
        for node in root:
            loc = _child_text(node, "loc")
            url = _join(base_url, loc) if _local(node.tag) == "sitemap" and loc else None
            if url:
                listing.sitemaps.append((url, _child_text(node, "lastmod")))
        return listing
    listing = Listing("sitemap")
    for node in root:
        loc = _child_text(node, "loc")
        if _local(node.tag) != "url" or not loc:
            continue
        title = published = None
        for news in node.iter(f"{{{NEWS_NS}}}news"):
            title = _child_text(news, "title")
            published = _child_text(news, "publication_date")
        lastmod = _child_text(node, "lastmod")
        if url := _join(base_url, loc):
            listing.entries.append(ListingEntry(url, title, published or lastmod, lastmod))
    return listing


def _entry_link(entry: dict, base_url: str) -> str | None:
    """The article URL of a feed entry: its alternate link, else any http(s) link (never a urn: id)."""
    links = sorted(entry.get("links", []), key=lambda lk: lk.get("rel", "alternate") != "alternate")
    for href in [lk.get("href") for lk in links] + [entry.get("link")]:
        url = _join(base_url, href) if isinstance(href, str) and href.strip() else None
        if url and is_web_url(url):
            return url
    return None


SY_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}


def poll_hint(feed: dict) -> int | None:
    """Seconds between polls that a feed asks for: RSS `<ttl>` (minutes) or `sy:updatePeriod`/`sy:updateFrequency`."""
    hints = []
    ttl = str(feed.get("ttl") or "").strip()
    if ttl.isdigit() and int(ttl) > 0:
        hints.append(int(ttl) * 60)
    period = SY_PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    if period:
        frequency = str(feed.get("sy_updatefrequency") or "1").strip()
        hints.append(period // max(1, int(frequency) if frequency.isdigit() else 1))
    return max(hints) if hints else None


def _parse_feed(body: bytes, base_url: str) -> Listing:
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    entries = []
    for entry in parsed.entries:
        link = _entry_link(entry, base_url)
        if not link:
            continue
        date = entry.get("published") or entry.get("updated") or entry.get("created")
        updated = dict.get(entry, "updated")  # not entry.get(): feedparser would map it to published, with a warning
        entries.append(ListingEntry(link, entry.get("title"), date, updated))
    if parsed.bozo and not entries:
        reason = getattr(parsed.get("bozo_exception"), "getMessage", lambda: None)() or parsed.get("bozo_exception")
        raise ListingError(f"malformed feed: {reason}")
    if not parsed.version and not entries:
        raise ListingError("not a feed or sitemap")
    return Listing("feed", entries, poll_hint=poll_hint(parsed.feed))


def _parse_json_feed(body: bytes, base_url: str) -> Listing:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ListingError(f"malformed JSON feed: {exc}") from None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ListingError("not a JSON Feed (no 'items' list)")
    entries = []
    for item in items:
        url = item.get("url") or item.get("external_url") if isinstance(item, dict) else None
        absolute = _join(base_url, url) if isinstance(url, str) else None
        if absolute:
            date = item.get("date_published") or item.get("date_modified")
            title = item.get("title") if isinstance(item.get("title"), str) else None
            entries.append(ListingEntry(absolute, title, date if isinstance(date, str) else None))
    return Listing("feed", entries)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_ENCODING = re.compile(rb"""^(<\?xml[^>]*?\sencoding=)(["'])[\w.:-]+\2""")


def as_utf8(body: bytes) -> bytes:
    """A UTF-16 or UTF-32 listing (byte-order mark first) as UTF-8, its XML declaration saying so; other
    bodies unchanged. The sniffing below looks for '<' and '<rss' in bytes, which UTF-16 hides."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            text = body[len(bom) :].decode(encoding, errors="replace").encode("utf-8")
            return _XML_ENCODING.sub(rb'\1"utf-8"', text, count=1)
    return body


def parse_listing(body: bytes, base_url: str, *, max_size: int = 50 * 1024 * 1024) -> Listing:
    """Parse a feed (RSS 0.9x/1.0/2.0, Atom, JSON Feed) or a sitemap (urlset, index; gzipped or not).

    XML with entity declarations is refused rather than expanded. Raises ListingError.
    """
    body = as_utf8(decompress(body, max_size))
    _refuse_entities(body)
    head = body[:2048].lstrip()
    if b"<urlset" in body[:4096] or b"<sitemapindex" in body[:4096]:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, remove_comments=True)
        try:
            root = etree.fromstring(body, parser=parser)
        except etree.XMLSyntaxError as exc:
            raise ListingError(f"malformed sitemap: {exc}") from None
        if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
            raise ListingError("malformed sitemap")
        return _parse_sitemap(root, base_url)
    if head.startswith(b"{"):
        return _parse_json_feed(body, base_url)
    if not head.startswith(b"<") and not head.startswith(b"\xef\xbb\xbf<"):
        raise ListingError("not a feed or sitemap (does not start with '<')")
    return _parse_feed(body, base_url)


def dated_before(raw: str | None, cutoff: datetime) -> bool:
    """True when a listing date is known and before `cutoff` (undated entries are kept)."""
    if not raw:
        return False
    dated = parse_date(raw, "sitemap")
    return dated is not None and dated.value < cutoff


def recent_entries(entries: list[ListingEntry], cutoff: datetime) -> list[ListingEntry]:
    """Sitemap entries not last changed (else published) before `cutoff`."""
    return [e for e in entries if not dated_before(e.updated_raw or e.published_raw, cutoff)]


def recent_sitemaps(sitemaps: list[tuple[str, str | None]], cutoff: datetime) -> list[tuple[str, str | None]]:
    """Child sitemaps of an index whose lastmod is not before `cutoff`."""
    return [(url, lastmod) for url, lastmod in sitemaps if not dated_before(lastmod, cutoff)]


def changed_since(entry: ListingEntry, fetched_at: datetime) -> bool:
    """True when the listing dates the entry after our last fetch of it: fetch again for a new version."""
    raw = entry.updated_raw or entry.published_raw
    if not raw:
        return False
    dated = parse_date(raw, "feed")
    return dated is not None and dated.value > fetched_at


def robots_sitemaps(robots_txt: str) -> list[str]:
    """The `Sitemap:` URLs of a robots.txt."""
    return list(Protego.parse(robots_txt).sitemaps)


def prefer_news_sitemaps(urls: list[str]) -> list[str]:
    """The sitemaps whose URL says 'news' when there are any (they list recent articles), else all."""
    news = [u for u in urls if "news" in u.lower()]
    return news or urls


def feed_links(page: str | bytes, base_url: str) -> list[str]:
    """Feed URLs advertised by a page's <link rel="alternate" type="application/rss+xml|atom+xml">."""
    try:
        tree = html.fromstring(page)
    except (etree.ParserError, ValueError):
        return []
    links = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().strip()
        if "alternate" in rel and kind in FEED_TYPES and link.get("href"):
            url = _join(base_url, link.get("href"))
            if url and url not in links and "/comments/" not in url:
                links.append(url)
    return links
