"""Headlines: the displayed <h1> when it is one, else the metadata title without the site's name."""

from __future__ import annotations

import html
import re

from lxml.html import HtmlElement

_SEPARATORS = r"\s*(?:\s[|–—\-:·•»]|ㅣ|::|\|)\s*"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"\w+")


_MARKUP = re.compile(r"<[^<>]{0,500}>")
_SCRIPT = re.compile(r"<(script|style)\b[^<>]{0,500}>.{0,5000}?</\1\s*>", re.IGNORECASE | re.DOTALL)


def normalize_title(title: str | None) -> str:
    """Entities decoded, markup (scripts and styles with their content), soft hyphens and extra whitespace
    removed: a metadata field is text."""
    text = _SCRIPT.sub(" ", html.unescape(title or ""))
    return re.sub(r"\s+", " ", _MARKUP.sub(" ", text).replace("\u00ad", "")).strip()


_SEPARATOR = re.compile(_SEPARATORS)  # with .match(text, pos): a separator at pos
_TRAILING_SEPARATOR = re.compile(_SEPARATORS + r"\Z")


def clean_title(title: str, site_name: str | None = None) -> str:
    """The headline without soft hyphens, entities, extra spaces or a trailing/leading ' | Site Name' (the name
    compared case-insensitively; compared as text, not as a pattern: a pattern per site name was compiled anew
    on nearly every page)."""
    title = normalize_title(title)
    site = normalize_title(site_name) if site_name else ""
    if not site or len(site) >= len(title):
        return title
    size, folded = len(site), site.casefold()
    if title[-size:].casefold() == folded and (separator := _TRAILING_SEPARATOR.search(title[:-size])):
        stripped = title[: separator.start()].strip()
        if stripped:
            return stripped
    if title[:size].casefold() == folded and (separator := _SEPARATOR.match(title, size)):
        stripped = title[separator.end() :].strip()
        if stripped:
            return stripped
    return title


def headline_texts(tree: HtmlElement, limit: int = 5) -> list[str]:
    """Texts of the page's <h1> elements, in document order."""
    texts = []
    for h1 in tree.iter("h1"):
        text = normalize_title(h1.text_content())
        if text and text not in texts:
            texts.append(text)
        if len(texts) >= limit:
            break
    return texts


MAX_DECORATION_WORDS = 6  # a site name, section or kicker is short; a longer remainder is another headline
# A kicker before the headline ends in a colon, often right after a closing quote: '«Evnukkmakeren»: …'
_KICKER_END = re.compile(r"[:：]\s*$")


def _decorated(title: str, shorter: str) -> bool:
    """True when `title` is `shorter` plus a separator and a short suffix or prefix (section, site name, kicker)."""
    if title == shorter or len(shorter.split()) < 2:
        return False
    if title.startswith(shorter):
        rest = title[len(shorter) :]
        return bool(_SEPARATOR.match(rest)) and len(rest.split()) <= MAX_DECORATION_WORDS + 1
    if title.endswith(shorter):
        rest = title[: -len(shorter)]
        separated = _TRAILING_SEPARATOR.search(rest) or _KICKER_END.search(rest)
        return bool(separated) and len(rest.split()) <= MAX_DECORATION_WORDS
    return False


def choose_title(candidates: list[str | None], site_names: tuple[str, ...]) -> str:
    """The headline: the first candidate (most reliable first: JSON-LD headline, og:title, <h1>, …),
    with entities decoded and the site's name stripped, or a shorter candidate that is the same
    headline without a decoration such as ' | Sport'."""
    cleaned = []
    for candidate in candidates:
        title = normalize_title(candidate)
        for site in site_names:
            title = clean_title(title, site)
        if title and title not in cleaned:
            cleaned.append(title)
    if not cleaned:
        return ""
    best = cleaned[0]
    for other in cleaned[1:]:
        if _decorated(best, other):
            best = other
    return best
