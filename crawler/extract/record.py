"""The extraction result (`ArticleRecord`) and what discovery already knows of a URL (`DiscoveryHints`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from crawler.extract.citations import Citation
from crawler.extract.kinds import ARTICLE, NO_TEXT

NOT_ARTICLE = NO_TEXT  # the kind of a page nothing could be extracted from; see crawler.extract.kinds


DiscoverySource = Literal["feed", "sitemap", "link"]  # a link: a cited article followed (--follow-citations)


@dataclass(frozen=True)
class DiscoveryHints:
    """What a feed or sitemap said of a URL before it was fetched."""

    source: DiscoverySource = "feed"
    title: str | None = None
    published_raw: str | None = None


@dataclass
class ArticleRecord:
    """One extracted article: metadata, clean text (paragraphs split by blank lines) and clean HTML."""

    url: str
    canonical_url: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    published_raw: str | None = None
    published_source: str | None = None
    published_offset: int | None = None  # minutes east of UTC the page wrote its date in (`published` is UTC)
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    text: str = ""
    html: str = ""
    page_kind: str = ARTICLE
    license: str | None = None  # the licence the page declares (a URL or a name), as given
    citations: list[Citation] = field(default_factory=list)

    @property
    def word_count(self) -> int:
        """Number of whitespace-separated words in the text."""
        return len(self.text.split())
