"""The extraction result (`ArticleRecord`) and what discovery already knows of a URL (`DiscoveryHints`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Literal

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

    def make_storable(self) -> ArticleRecord:
        """Clean every text field (its citations' too) of what is not text (see `storable`); returns the
        record."""
        for name, value in _storable_fields(self).items():
            setattr(self, name, value)
        self.citations = [replace(c, **_storable_fields(c)) for c in self.citations]
        return self


# C0 and C1 control characters but tab and line breaks (a NUL: PostgreSQL's text and JSON refuse it; an ESC
# would drive a reader's terminal), and the halves of surrogate pairs, which only stand alone in a str (a JSON
# escape such as "\ud800"): UTF-8 cannot encode them, so SQLite and PostgreSQL both refuse them
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` as a text field holds it: control characters (but tab and line breaks) go, a lone surrogate
    becomes U+FFFD."""
    if _NOT_TEXT.search(text) is None:
        return text
    return _NOT_TEXT.sub(lambda found: "\ufffd" if "\ud800" <= found.group() <= "\udfff" else "", text)


def _storable_fields(record: Any) -> dict[str, Any]:
    """The str and list-of-str fields of a dataclass that `storable` changes, with their new values."""
    changed: dict[str, Any] = {}
    for name in (f.name for f in fields(record)):
        value = getattr(record, name)
        if isinstance(value, str) and (clean := storable(value)) != value:
            changed[name] = clean
        elif isinstance(value, list) and any(isinstance(item, str) and storable(item) != item for item in value):
            changed[name] = [storable(item) if isinstance(item, str) else item for item in value]
    return changed
