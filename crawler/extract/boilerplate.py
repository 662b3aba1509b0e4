"""Boilerplate removal by general rules of structure and wording, before and after trafilatura."""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

# class/id tokens of blocks that are never part of a story
BOILERPLATE_TOKENS = frozenset(
    [
        "share",
        "shares",
        "sharing",
        "sharedaddy",
        "social",
        "socials",
        "addtoany",
        "a2a",
        "sd-sharing",
        "share-buttons",
        "newsletter",
        "newsletters",
        "subscribe",
        "subscription",
        "subscriptions",
        "mc4wp",
        "signup",
        "sign-up",
        "optin",
        "respond",
        "comment-respond",
        "comments",
        "comment-form",
        "disqus",
        "related",
        "relatedposts",
        "jp-relatedposts",
        "popup",
        "modal",
        "overlay",
        "lightbox",
        "cookie",
        "cookies",
        "consent",
        "gdpr",
        "advert",
        "advertisement",
        "ads",
        "adsbygoogle",
        "promo",
        "promotion",
        "sponsored",
        "widget",
        "sidebar",
        "breadcrumbs",
        "breadcrumb",
        "paywall-prompt",
        "factbox",
        "infobox",
        "bio",
        "authorbio",
        "biography",
    ]
)
READER_CONTENT_TOKENS = frozenset({"comment", "comments", "respond", "comment-respond", "comment-form", "disqus"})
NEVER_REMOVE = frozenset({"html", "body", "main", "article"})
STORY_SHARE = 0.4  # a block with more of the page's unlinked text than this holds the story
_TOKEN_SPLIT = re.compile(r"[\s_]+|(?<=[a-z])-(?=[a-z])")
_DROP_TAGS = ("form", "button", "dialog", "noscript", "iframe", "svg", "select", "textarea", "figcaption")

_SHORTCODE = re.compile(r"\[/?[a-z][\w-]*(?:\s+[^\[\]]*)?\]", re.IGNORECASE)
_NO_LETTERS = re.compile(r"^[\W\d_]{0,12}$")
_JUNK_LINE = re.compile(
    r"^(share|shares|tweet|email|print|whatsapp|pin it|share (this|the|on)\b.*|follow us\b.*|"
    r"leave a (reply|comment)|post comment|cancel reply|reply|comments?( \(\d+\))?|"
    r"your email address will not be published.*|required fields are marked.*|"
    r"save my name, email,? and website.*|advertisement|sponsored( content)?|read more|order reprints|"
    r"print (this )?article|reprints?( & permissions)?|https?://\S+|\d{4}-\d{2}-\d{2}t[\d:.+z-]+|"
    r"click here to (subscribe|sign up).*|close|×)[\s.:!*]*$",
    re.IGNORECASE,
)
# Short lines that introduce or are promotions, credits and cross-links, in several languages.
_SHORT_PROMO = re.compile(
    r"^(\[?(related|read more|read also|see also|more on this|recommended|you may also like|"
    r"leggi anche|lesen sie auch|mehr zum thema|lire aussi|à lire aussi|lea también|leia também|"
    r"читайте также)\b.*|"
    r"follow (him|her|us|them|me)\b.* on (twitter|facebook|instagram|x)\b.*|"
    r"(like|enjoyed) this (story|article)\?.*|have a (news )?tip\?.*|"
    r"if you (buy|purchase) something (through|via) .*|this (post|article) (contains|may contain) affiliate.*|"
    r"get .* delivered .*|there'?s plenty more where that came from.*|.*click(ing)? here\b.*|"
    r"tell us what you think.*|send us your .*)$",
    re.IGNORECASE,
)
# A heading after which a page lists other stories, not this one.
_TAIL_HEADING = re.compile(
    r"^(you (may|might) (also )?(like|enjoy)|recommended( for you)?|more stories|related (stories|articles|posts)|"
    r"read next|most (popular|read|viewed)|trending now|también te puede interesar|te puede interesar|"
    r"você pode gostar|vous aimerez aussi|das könnte sie auch interessieren|ti potrebbe interessare)[\s.:…!]*$",
    re.IGNORECASE,
)
_CALL_TO_ACTION = re.compile(
    r"\b(subscribe|newsletter|sign[ -]?up|inbox|get (the|our) .* (delivered|free)|register now|join (us|our))\b",
    re.IGNORECASE,
)
_CTA_OPENING = re.compile(
    r"^(subscribe|sign[ -]?up|join|get|don'?t miss|never miss|stay (informed|updated|up to date)|register|"
    r"enter your email)\b",
    re.IGNORECASE,
)


def _literal_trie(words: list[str]) -> str:
    """A pattern matching any of `words` with their common prefixes factored out ('share|sharing' →
    'shar(?:e|ing)'): the regex engine then tries one branch per letter, not every word at every position."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for letter in word:
            node = node.setdefault(letter, {})
        node[""] = {}

    def pattern(node: dict[str, dict]) -> str:
        branches = [re.escape(letter) + pattern(child) for letter, child in sorted(node.items()) if letter]
        if not branches:
            return ""
        joined = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{joined})?" if "" in node else joined

    return pattern(trie)


# A cheap first look at class and id (their values, without making an element object for every element that
# has one): the roles' first words, none inside another ('share' finds 'shares' too); _tokens() then checks
# whole words.
_HINT_WORDS = sorted({token.split("-")[0] for token in BOILERPLATE_TOKENS})
_ROLE_HINT = re.compile(_literal_trie([w for w in _HINT_WORDS if not any(o != w and o in w for o in _HINT_WORDS)]))
_CLASS_AND_ID = etree.XPath("//body//*/@class | //body//*/@id")


def _role_hinted(tree: HtmlElement) -> list[HtmlElement]:
    """The elements under <body> whose class or id holds a role's first word, in document order."""
    found: dict[HtmlElement, None] = {}
    for value in _CLASS_AND_ID(tree):
        if _ROLE_HINT.search(value.lower()):
            found.setdefault(value.getparent(), None)
    return list(found)


def _tokens(node: HtmlElement) -> set[str]:
    attrs = f"{node.get('class') or ''} {node.get('id') or ''}".lower()
    tokens = set()
    for token in _TOKEN_SPLIT.split(attrs):
        tokens.add(token)
        tokens.update(token.split("-"))
    return tokens


def _holds_story(node: HtmlElement) -> bool:
    """True when a block holds two or more long paragraphs of plain (unlinked) text: story, not chrome."""
    long_paragraphs = 0
    for paragraph in node.iter("p"):
        text = paragraph.text_content()
        if len(text) > 120:
            linked = sum(len(a.text_content()) for a in paragraph.iter("a"))
            if linked < 0.3 * len(text):
                long_paragraphs += 1
                if long_paragraphs >= 2:
                    return True
    return False


def _plain_chars(node: HtmlElement) -> int:
    """Characters of the node's text outside links."""
    return len(node.text_content()) - sum(len(a.text_content()) for a in node.iter("a"))


def prune_boilerplate(tree: HtmlElement) -> int:
    """Remove forms, buttons and blocks whose class or id names a boilerplate role; return how many.

    A block that holds the story is kept whatever its name says: one with story-like paragraphs
    ('content-with-sidebar' wrappers), or with a large share of the page's text outside links
    (Blogger's `widget Blog` post wrapper, `<br>`-separated posts) — a share, newsletter or related
    box never holds most of a page's plain text. Comment sections go regardless: readers' words.
    """
    body = tree.find(".//body")
    page_plain = _plain_chars(body) if body is not None else 0

    def holds_story(node: HtmlElement) -> bool:
        return _holds_story(node) or _plain_chars(node) > STORY_SHARE * page_plain

    # ASP.NET and some CMSs wrap the whole page in one <form>: a form holding the story stays
    doomed = [n for n in tree.iter(*_DROP_TAGS) if n.tag != "form" or not holds_story(n)]
    for node in _role_hinted(tree):
        if node.tag in NEVER_REMOVE or not isinstance(node.tag, str):
            continue
        roles = _tokens(node) & BOILERPLATE_TOKENS
        if roles and (roles & READER_CONTENT_TOKENS or not holds_story(node)):
            doomed.append(node)
    removed = 0
    for node in doomed:
        parent = node.getparent()
        if parent is None:
            continue
        _drop_keep_tail(node, parent)
        removed += 1
    return removed


def _drop_keep_tail(node: HtmlElement, parent: HtmlElement) -> None:
    if node.tail and node.tail.strip():
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def strip_shortcodes(text: str) -> str:
    """Text without WordPress shortcodes such as [mc4wp_form id="206"] or [caption]…[/caption] tags."""
    return _SHORTCODE.sub("", text)


def is_junk_paragraph(text: str) -> bool:
    """True for a paragraph that is a share prompt, counter, close button, comment form or CTA."""
    text = re.sub(r"\s+", " ", strip_shortcodes(text)).strip()
    if not text or _NO_LETTERS.match(text) or _JUNK_LINE.match(text):
        return True
    words = len(text.split())
    if words <= 30 and _SHORT_PROMO.match(text):
        return True
    return words <= 20 and bool(_CTA_OPENING.match(text)) and bool(_CALL_TO_ACTION.search(text))


def is_promo_question(text: str) -> bool:
    """A short rhetorical question, the usual lead-in of a subscription box ('Want to …?')."""
    text = text.strip()
    return text.endswith("?") and len(text.split()) <= 12


def filter_paragraphs(paragraphs: list[str]) -> list[bool]:
    """For each paragraph, whether to keep it.

    Junk is dropped, and so is a short question right before a call to action, a second copy of a
    paragraph, and everything from a 'You may also like' heading in the second half to the end.
    """
    junk = [is_junk_paragraph(p) for p in paragraphs]
    keep = [not j for j in junk]
    for i in range(len(paragraphs) - 1):
        if keep[i] and junk[i + 1] and _CALL_TO_ACTION.search(paragraphs[i + 1]) and is_promo_question(paragraphs[i]):
            keep[i] = False
    seen: set[str] = set()
    for i, paragraph in enumerate(paragraphs):
        folded = paragraph.casefold()
        if folded in seen and len(folded) > 3:
            keep[i] = False
        seen.add(folded)
    for i in range(len(paragraphs) * 3 // 5, len(paragraphs)):
        if _TAIL_HEADING.match(paragraphs[i].strip()):
            keep[i:] = [False] * (len(paragraphs) - i)
            break
    return keep
