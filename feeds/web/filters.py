"""What a subscriber may ask of a served feed: `?limit=N`, `?lang=xx`, `?q=words` (as RSSHub's `limit` and
`filter`), parsed strictly: a malformed value is a 400, never silently ignored."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs

from feeds.build import FeedEntry
from feeds.sanitize import plain_text

MAX_LIMIT = 200  # items a served feed holds at most, whatever ?limit asks
SCAN = 500  # newest items a filtered feed looks through
MAX_WORDS = 8
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")
PARAMETERS = ("limit", "lang", "q")


class BadQuery(ValueError):
    """A query parameter with a value the feed cannot honour."""


@dataclass(frozen=True)
class FeedQuery:
    """A served feed's filters: at most `limit` items, in `language` (a prefix: "ar" matches "ar-MA"), holding
    every one of `words` (case-insensitive) in the title, summary or text."""

    limit: int | None = None
    language: str | None = None
    words: tuple[str, ...] = ()

    @property
    def filters(self) -> bool:
        """Whether items are chosen by content (then SCAN items are looked through)."""
        return bool(self.language or self.words)

    def apply(self, entries: Iterable[FeedEntry], default_limit: int) -> list[FeedEntry]:
        """The entries that pass, newest first, cut at the limit."""
        kept = [entry for entry in entries if self._passes(entry)]
        return kept[: self.limit or default_limit]

    def _passes(self, entry: FeedEntry) -> bool:
        if self.language:
            language = (entry.language or "").lower()
            if language != self.language and not language.startswith(self.language + "-"):
                return False
        if self.words:
            haystack = " ".join((entry.title, entry.summary, plain_text(entry.content_html))).casefold()
            return all(word in haystack for word in self.words)
        return True


def search_language(value: str) -> str | None:
    """A language filter as typed in a form ("" for none); BadQuery when it is no language code."""
    language = value.strip().lower().replace("_", "-")
    if language and not _LANGUAGE.match(language):
        raise BadQuery("lang must be a language code such as en, ar or pt-br")
    return language or None


def parse_query(query_string: str) -> FeedQuery:
    """The FeedQuery of a request's query string; BadQuery names what is wrong."""
    values = parse_qs(query_string, keep_blank_values=True)
    unknown = sorted(set(values) - set(PARAMETERS))
    if unknown:
        raise BadQuery(f"unknown parameter {unknown[0]!r}; feeds take {', '.join(PARAMETERS)}")
    if any(len(v) > 1 for v in values.values()):
        raise BadQuery("each parameter at most once")
    limit = None
    if "limit" in values:
        raw = values["limit"][0]
        if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
            raise BadQuery(f"limit must be a whole number from 1 to {MAX_LIMIT}")
        limit = int(raw)
    language = None
    if "lang" in values:
        language = search_language(values["lang"][0])
        if language is None:
            raise BadQuery("lang must be a language code such as en, ar or pt-br")
    words: tuple[str, ...] = ()
    if "q" in values:
        words = tuple(dict.fromkeys(word.casefold() for word in values["q"][0].split()))
        if not words or len(words) > MAX_WORDS or any(len(word) > 100 for word in words):
            raise BadQuery(f"q must hold 1 to {MAX_WORDS} words")
    return FeedQuery(limit, language, words)
