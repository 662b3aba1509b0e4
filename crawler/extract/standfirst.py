"""The standfirst: the summary a news page shows between its headline and its story, found by two signals.

Extractors drop it more often than not (it sits in the page's header, outside the story's container),
yet it is the top of the story as the outlet shows it. A block is taken as the standfirst when the
page's own description (meta, og: or JSON-LD) and a displayed block agree word for word, and that
block stands after the headline and before the story's first paragraph. A description that is
only metadata (shown nowhere) or shown elsewhere (an image caption, a teaser further down) is not
taken, and neither is one the story already holds.
"""

from __future__ import annotations

from lxml.html import HtmlElement

from crawler.extract.kinds import text_size
from crawler.extract.overlap import covered, shingle_list

MIN_WORDS = 5  # a shorter description is a label, not a summary
MAX_CHARS = 1_000  # a longer one is not a standfirst either
OPENING_CHARS = 20  # how much of a block's own leading text is compared before its whole text is read
_CANDIDATES = frozenset({"p", "div", "h2", "h3", "span", "strong", "em", "b", "section", "header"})
_NOT_SHOWN_AS_STANDFIRST = frozenset({"figcaption", "figure", "a", "button", "nav", "aside", "footer"})


def _normal(text: str) -> str:
    return " ".join(text.split())


def _text_up_to(node: HtmlElement, limit: int) -> str | None:
    """The node's text, or None as soon as it grows past `limit` characters (a wrapper, not the block)."""
    parts, size = [], 0
    for piece in node.itertext():
        size += len(piece)
        if size > limit:
            return None
        parts.append(piece)
    return _normal("".join(parts))


def _prefix(node: HtmlElement, size: int) -> str:
    """The first `size` characters of the node's text, whitespace normalized, read no further than needed."""
    parts, seen = [], 0
    for piece in node.itertext():
        parts.append(piece)
        seen += len(piece.strip())
        if seen >= size:
            break
    return _normal("".join(parts))[:size]


def _opening(node: HtmlElement) -> str:
    """The first characters of the node's text (its first non-blank piece)."""
    for piece in node.itertext():
        if piece.strip():
            return _normal(piece)[:OPENING_CHARS]
    return ""


def find_standfirst(tree: HtmlElement, description: str | None, first_paragraph: str) -> str | None:
    """The page's standfirst, if its description is shown between the first <h1> and `first_paragraph`."""
    summary = _normal(description or "")
    if text_size(summary) < MIN_WORDS or len(summary) > MAX_CHARS:
        return None
    story_start = _normal(first_paragraph)[:60]
    headline_seen = False
    for node in tree.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag == "h1":
            headline_seen = True
            continue
        if not headline_seen or node.tag not in _CANDIDATES:
            continue
        # a block's own leading text must begin the summary or the story: a cheap look before reading it whole
        opening = _opening(node)
        if not opening:
            continue
        if story_start.startswith(opening) and _prefix(node, len(story_start)) == story_start:
            return None  # the story began without a standfirst before it
        if summary.startswith(opening) and _text_up_to(node, 2 * len(summary) + 200) == summary:
            if any(a.tag in _NOT_SHOWN_AS_STANDFIRST for a in node.iterancestors()):
                return None
            return summary
    return None


def already_told(summary: str, text: str) -> bool:
    """Whether the story's text already holds (most of) the summary: a description copied from the lead."""
    return covered(summary, set(shingle_list(text)))
