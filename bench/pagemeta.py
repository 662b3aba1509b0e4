"""What the bench reads from a page itself to judge newswire: declared language, own headlines, site name.

These are the bench's reference points (the lenient title rule, the language check); newswire's
extraction does not use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from trafilatura.utils import load_html

from bench.corpus import Page

_PRIMARY = re.compile(r"^[a-z]{2,3}$")
_NOT_LANGUAGES = {"utf", "iso"}  # charsets written where a language belongs ("utf-8")


@dataclass(frozen=True)
class PageFacts:
    """The page's declared language, its own headlines (`<h1>`s, then `og:title`) and its site name."""

    language: str | None = None
    headlines: list[str] = field(default_factory=list)
    site_name: str | None = None


def page_facts(page: Page) -> PageFacts:
    """Read the page once for its declared language, headlines and site name."""
    tree = load_html(page.html)
    if tree is None:
        return PageFacts(site_name=_domain_label(page.url))
    return PageFacts(declared_language(tree), headlines(tree), site_name(tree, page.url))


def primary_subtag(value: str | None) -> str | None:
    """'de-DE', 'en_GB', 'EN' → 'de', 'en', 'en'; None for anything that is not a language code."""
    if not value:
        return None
    head = re.split(r"[-_\s,;]", value.strip().lower(), maxsplit=1)[0]
    return head if _PRIMARY.match(head) and head not in _NOT_LANGUAGES else None


def _meta_content(tree, xpath: str) -> str | None:
    values = tree.xpath(xpath)
    return values[0] if values else None


def declared_language(tree) -> str | None:
    """The page's declared language: `<html lang>`, else `og:locale`, else http-equiv content-language."""
    candidates = (
        _meta_content(tree, "/html/@lang") or _meta_content(tree, "/html/@xml:lang"),
        _meta_content(tree, "//meta[@property='og:locale']/@content"),
        _meta_content(
            tree,
            "//meta[translate(@http-equiv,'CONTENTLAGU','contentlagu')='content-language']/@content",
        ),
    )
    for value in candidates:
        code = primary_subtag(value)
        if code:
            return code
    return None


def headlines(tree) -> list[str]:
    """The page's own `<h1>` texts and its `og:title`, whitespace-normalized, non-empty."""
    found = [" ".join(h.text_content().split()) for h in tree.iter("h1")]
    og = _meta_content(tree, "//meta[@property='og:title']/@content")
    if og:
        found.append(" ".join(og.split()))
    return [h for h in found if h]


@cache
def _extractor():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _domain_label(url: str) -> str | None:
    return _extractor()(url).domain or None


def site_name(tree, url: str) -> str | None:
    """`og:site_name`, else the first label of the URL's registrable domain ("spiegel" for spiegel.de)."""
    named = _meta_content(tree, "//meta[@property='og:site_name']/@content")
    if named and named.strip():
        return " ".join(named.split())
    return _domain_label(url)
