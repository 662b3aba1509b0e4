"""What kind of page this is: an article, or a consent wall, paywall stub, bot check or index page."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

ARTICLE = "article"
CONSENT_WALL, PAYWALL, BOT_CHECK, INDEX_PAGE, NO_TEXT = "consent-wall", "paywall", "bot-check", "index-page", "no-text"
# Kinds that are stored, with the kind recorded: a paywall teaser is still the outlet's article (its
# URL, headline, date, authors and lead); the other stubs hold no story at all.
STORED_KINDS = frozenset({ARTICLE, PAYWALL})
TEASER_WORDS = 20  # a paywall teaser is stored only with a headline and a lead this long
SHORT_TEXT_WORDS = 150  # pages with less text than this are checked for walls and stubs
STUB_WORDS = 40  # a text this short on a link-heavy page, or on a page without a headline, is no story

_BOT_CHECK = re.compile(
    r"checking (if the site connection is secure|your browser)|just a moment\.\.\.|verify (that )?you are (a )?human|"
    r"are you a robot|press (&|and) hold|enable javascript and cookies to continue|attention required!|"
    r"access to this page has been denied|request unsuccessful\. incapsula|ddos protection by",
    re.IGNORECASE,
)
_CONSENT = re.compile(
    r"(we|and our (\d+ )?partners) (use|store and/or access) (cookies|information)|before you continue|"
    r"we value your privacy|manage (your )?(cookie|consent|privacy) (settings|preferences)|"
    r"(accept|agree to) (all )?cookies|zustimmen und weiter|alle akzeptieren|tout accepter|aceptar todo|"
    r"consent to (the use of|our use of) (cookies|your data)",
    re.IGNORECASE,
)
_PAYWALL = re.compile(
    r"(subscribe|subscription) (now )?to (continue|keep) reading|already a subscriber\??|"
    r"this (article|content|story) is (only )?(available )?(for|to) (subscribers|members)|"
    r"to read (the full|this) (article|story)|(sign|log) in to (continue|read)|"
    r"exclusive(ly)? for subscribers|jetzt weiterlesen mit|abonnez-vous pour lire|"
    r"you have reached your (free )?(article )?limit",
    re.IGNORECASE,
)


_INVISIBLE = re.compile(r"<(script|style|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def text_size(text: str) -> int:
    """Words in `text`, counting two Chinese, Japanese or Korean characters as a word (they use no spaces)."""
    cjk = len(_CJK.findall(text))
    return len(text.split()) + cjk // 2 if cjk > len(text) / 4 else len(text.split())


def visible_text(html: str, limit: int = 300_000) -> str:
    """The page's text without scripts, styles and tags (rough, for wording checks only)."""
    html = _INVISIBLE.sub(" ", html[:limit])
    return " ".join(_TAG.sub(" ", html).split())


def is_stored(kind: str, text: str, title: str) -> bool:
    """Whether a page of this kind is kept: articles, and paywall teasers with a headline and a lead (an empty
    teaser would claim the outlet's empty-text slot and hide the next one as a duplicate)."""
    if kind == PAYWALL:
        return bool(title) and text_size(text) >= TEASER_WORDS
    return kind in STORED_KINDS


def looks_like_index(tree: HtmlElement, page_text: str) -> bool:
    """Whether the page is mostly links: 30 or more, holding over half of its visible text."""
    links = tree.xpath("//body//a[@href]")
    return len(links) >= 30 and sum(len(a.text_content()) for a in links) > 0.5 * max(1, len(page_text))


def looks_like_wall(html: str) -> bool:
    """Whether the page's own wording is that of a bot check, consent wall or paywall."""
    page_text = visible_text(html)
    return any(pattern.search(page_text) for pattern in (_BOT_CHECK, _CONSENT, _PAYWALL))


def page_kind(tree: HtmlElement, html: str, text: str, title: str, accessible_for_free: bool | None) -> str:
    """Classify a page by its extracted `text` and what the whole page (`html`, unpruned) says about itself.

    Conservative: a page with a story-length text is an article whatever else it contains (most carry
    a cookie banner, many a subscription box); only short texts are checked for bot checks, consent
    walls, paywalls (also JSON-LD isAccessibleForFree=false) and link-heavy index pages. A short text
    with a headline and no sign of a stub is an article too: a 60-word brief is news.
    """
    words = text_size(text)
    if words >= SHORT_TEXT_WORDS:
        return ARTICLE
    page_text = visible_text(html)
    if _BOT_CHECK.search(page_text):
        return BOT_CHECK
    if words < 60 and _CONSENT.search(page_text):
        return CONSENT_WALL
    if accessible_for_free is False or _PAYWALL.search(page_text):
        return PAYWALL
    if words < STUB_WORDS:
        return INDEX_PAGE if looks_like_index(tree, page_text) else NO_TEXT
    return ARTICLE if title else NO_TEXT
