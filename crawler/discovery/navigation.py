"""What to do with an answered listing, decided without Scrapy: a pure `plan_listing(...) -> ListingPlan`.

The spider's callback turns a plan into requests, counts and fetch-state updates; everything that
decides — a 304's stored links, a parse error, the sitemap-index depth, the sitemap window, the cap on
child sitemaps, the order of entries — lives here and is unit-tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from crawler.discovery.listings import ListingEntry, ListingError, parse_listing, recent_entries, recent_sitemaps
from crawler.extract.record import DiscoverySource

MAX_SITEMAP_DEPTH = 3  # sitemap indexes nested deeper than this are refused


@dataclass(frozen=True)
class ListingAnswer:
    """One listing's answer and what the crawl knows of it."""

    url: str
    status: int  # 200, or 304 (unchanged since our last complete reading)
    body: bytes
    depth: int = 0  # sitemap-index nesting: 0 for a listing the outlet names
    stored_links: tuple[str, ...] = ()  # on a 304: the child sitemaps it listed when last read
    stored_poll_hint: int | None = None  # on a 304: the refresh hint it carried then
    max_age: int | None = None  # Cache-Control max-age of the answer


@dataclass(frozen=True)
class ListingLimits:
    cutoff: datetime  # sitemap entries and child sitemaps last changed before this are skipped
    max_children: int  # newest child sitemaps followed from an index
    max_size: int  # a gzipped listing is not inflated beyond this


@dataclass(frozen=True)
class ListingPlan:
    """The verdict on one listing answer."""

    answered: bool  # it counts as the outlet answering (a 200 that parsed, or a 304)
    error: tuple[str, str] | None = None  # (kind, detail): listing_malformed, sitemap_too_deep
    kind: str | None = None  # "feed", "sitemap" or "sitemapindex" (None for a 304)
    poll_hint: int = 0  # seconds the listing asks readers to wait (0: no hint)
    listing_poll_hint: int | None = None  # the hint to keep with the listing's validators
    children: tuple[str, ...] = ()  # child sitemaps to request, at `child_depth`
    child_depth: int = 0
    remember_children: bool = False  # keep `children` as the listing's links (for the next 304)
    source: DiscoverySource = "feed"
    entries: tuple[ListingEntry, ...] = ()  # article entries to request, in this order
    skipped: dict[str, int] = field(default_factory=dict)  # why → how many (old_sitemap, old_sitemap_entry)


def plan_listing(answer: ListingAnswer, limits: ListingLimits) -> ListingPlan:
    """What to do with a listing's answer."""
    child_depth = answer.depth + 1
    if answer.status == 304:
        # a sitemap index's children may change while it does not: ask each of them (conditionally)
        children = answer.stored_links if child_depth <= MAX_SITEMAP_DEPTH else ()
        hint = max(answer.stored_poll_hint or 0, answer.max_age or 0)
        return ListingPlan(answered=True, poll_hint=hint, children=children, child_depth=child_depth)
    try:
        listing = parse_listing(answer.body, answer.url, max_size=limits.max_size)
    except ListingError as exc:
        return ListingPlan(answered=False, error=("listing_malformed", str(exc)))
    hint = max(listing.poll_hint or 0, answer.max_age or 0)
    read = ListingPlan(answered=True, kind=listing.kind, poll_hint=hint, listing_poll_hint=listing.poll_hint)
    if listing.kind == "sitemapindex":
        if child_depth > MAX_SITEMAP_DEPTH:
            return replace(
                read, error=("sitemap_too_deep", f"sitemap indexes nested more than {MAX_SITEMAP_DEPTH} deep")
            )
        recent = recent_sitemaps(listing.sitemaps, limits.cutoff)
        newest_first = sorted(recent, key=lambda s: s[1] or "", reverse=True)
        children = tuple(url for url, _lastmod in newest_first[: limits.max_children])
        skipped = _nonzero({"old_sitemap": len(listing.sitemaps) - len(recent)})
        return replace(read, children=children, child_depth=child_depth, remember_children=True, skipped=skipped)
    if listing.kind == "sitemap":
        entries = sorted(listing.entries, key=lambda e: e.published_raw or "", reverse=True)
        recent_ones = recent_entries(entries, limits.cutoff)
        skipped = _nonzero({"old_sitemap_entry": len(entries) - len(recent_ones)})
        return replace(read, source="sitemap", entries=tuple(recent_ones), skipped=skipped)
    return replace(read, source="feed", entries=tuple(listing.entries))


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}
