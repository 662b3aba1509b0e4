"""The items that flow from the spider through the pipelines (dataclasses: itemadapter supports them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crawler.extract.record import ArticleRecord, DiscoveryHints, DiscoverySource
from storage.raw import RawResponse


@dataclass
class FetchedPage:
    """An article page as fetched: the spider's item, read by the extract pipeline."""

    outlet: str  # the outlet's slug
    url: str
    body: bytes  # as downloaded: the extraction worker decodes it (crawler/processing/encoding.py)
    content_type: str | None
    fetched_at: datetime
    hints: DiscoveryHints | None = None  # what the listing said of the URL
    language: str | None = None  # the outlet's declared language and timezone, from the registry
    timezone: str | None = None
    follow_depth: int = 0  # citation hops from the crawl's own outlets
    listing: str | None = None  # the listing that led here: settled when the item is done (FetchStateKeeper)
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()  # the response's, as (name, value) pairs
    keep_raw: bool = False  # NEWSWIRE_KEEP_RAW: the extraction worker compresses the response to keep it


@dataclass
class ExtractedArticle:
    """A page's extracted article: the extract pipeline's item, stored by the store pipeline."""

    outlet: str
    record: ArticleRecord
    fetched_at: datetime
    discovered_via: DiscoverySource | None
    text_hash: str  # fingerprints computed by the extraction worker
    minhash: bytes | None = None  # storage.near_duplicates.to_bytes of the text's signature
    follow_depth: int = 0
    listing: str | None = None
    raw: RawResponse | None = None  # the response, compressed, when NEWSWIRE_KEEP_RAW
