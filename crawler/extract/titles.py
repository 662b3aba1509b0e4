"""Headlines: the displayed <h1> when it is one, else the metadata title without the site's name."""

from __future__ import annotations

import html
import logging
import re

from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

_SEPARATORS = r"\s*(?:\s[|–—\-:·•»]|ㅣ|::|\|)\s*"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"\w+")


def normalize_title(title: str | None) -> str:
    """Entities decoded, soft hyphens and extra whitespace removed."""
    return re.sub(r"\s+", " ", html.unescape(title or "").replace("\u00ad", "")).strip()


def clean_title(title: str, site_name: str | None = None) -> str:
    """The headline without soft hyphens, entities, extra spaces or a trailing/leading ' | Site Name'."""
    title = normalize_title(title)
    if not site_name:
        return title
    site = re.escape(normalize_title(site_name))
    for pattern in (rf"{_SEPARATORS}{site}\s*$", rf"^\s*{site}{_SEPARATORS}"):
        stripped = re.sub(pattern, "", title, flags=re.IGNORECASE).strip()
        if stripped and stripped != title:
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


def _decorated(title: str, shorter: str) -> bool:
    """True when `title` is `shorter` plus a separator and a suffix or prefix (section, site name)."""
    if len(shorter) < 0.5 * len(title) or title == shorter:
        return False
    if title.startswith(shorter):
        return bool(re.match(_SEPARATORS, title[len(shorter) :]))
    if title.endswith(shorter):
        return bool(re.search(_SEPARATORS + "$", title[: -len(shorter)]))
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
