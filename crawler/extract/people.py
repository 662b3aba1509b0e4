"""Author names: bylines split into people, prefixes, roles and e-mail addresses stripped."""

from __future__ import annotations

import logging
import re

from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

_PREFIX = re.compile(r"^\s*(by|von|par|por|di|door|av|من|بقلم)\s*[:\-]?\s+", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bو\b)\s*", re.IGNORECASE)
_SEGMENT = re.compile(r"\s*[·•|]\s*|\s+[–—]\s+")
_NOT_A_NAME = re.compile(r"\d|\b(published|updated|posted|min read|minutes? ago)\b", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+")
_ROLE = re.compile(
    r"\s*[,|–—-]?\s*\b(staff (writer|reporter)|correspondent|reporter|editor|contributor|"
    r"special to .*|for .*)\s*$",
    re.IGNORECASE,
)


_BYLINE_XPATH = (
    "//*[@rel='author' or contains(@itemprop, 'author') or "
    "re:test(@class, '(^|[\\s_-])(author|byline|signature|auteur|autor)([\\s_-]|$)', 'i')]"
)
_NS = {"re": "http://exslt.org/regular-expressions"}


def byline_authors(tree: HtmlElement, limit: int = 5) -> list[str]:
    """Author texts from rel=author links, itemprop=author and author/byline/signature blocks."""
    found = []
    for node in tree.xpath(_BYLINE_XPATH, namespaces=_NS):
        text = re.sub(r"\s+", " ", node.text_content()).strip()
        if 2 < len(text) <= 80 and text not in found:
            found.append(text)
        if len(found) >= limit:
            break
    return found[:1] if found else []


def clean_authors(raw: list[str], *, site_name: str | None = None) -> list[str]:
    """Distinct person names from raw author strings; the outlet's own name only if nothing else."""
    names: list[str] = []
    for value in raw:
        value = _EMAIL.sub("", _PREFIX.sub("", value or ""))
        value = next((seg for seg in _SEGMENT.split(value) if seg.strip() and not _NOT_A_NAME.search(seg)), "")
        for part in _SPLIT.split(value):
            part = _ROLE.sub("", _PREFIX.sub("", part)).strip(" .,:;-|")
            part = re.sub(r"\s+", " ", part)
            if part and len(part) <= 80 and not part.startswith(("http://", "https://")) and part not in names:
                names.append(part)
    if site_name and len(names) > 1:
        names = [n for n in names if n.casefold() != site_name.casefold()] or names
    return names
