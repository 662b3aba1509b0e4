"""The safety net: story text the first pass lost, taken back where two independent extractors agree.

The first pass (our pruning, trafilatura's precision mode, our paragraph rules) is built for
precision, and on a page it misreads it can lose the whole story: a Blogger post inside a
'widget' wrapper, a short brief, a page whose story is in <br>-separated text. When the text it
keeps is short (the zone of doubt), a second opinion is asked on the raw page: trafilatura's
balanced mode, with none of our pruning. If that finds far more, each of its blocks is taken when
the first pass has it already, or when an independent extractor (resiliparse's main-content
heuristics: a different parser and different rules, ~10 ms a page) finds the same text too, and it
is no share prompt or cross-link. Agreement of two independent extractors is the strongest generic
signal of main text (Bevendorff et al., 2023); a page whose story really is short passes unchanged.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

from lxml.html import HtmlElement
from resiliparse.extract.html2text import extract_plain_text

from crawler.extract.body import select_paragraphs, trafilatura_document
from crawler.extract.context import ExtractionContext
from crawler.extract.kinds import STUB_WORDS, looks_like_wall, text_size
from crawler.extract.overlap import covered, shingle_list

logger = logging.getLogger(__name__)

DOUBT_WORDS = 150  # a text shorter than this may have lost its story
LOST_RATIO = 2.0  # … and has, when the second opinion finds this many times as many words
MIN_GAIN_WORDS = 30  # … and at least this many more
LINK_SHARE = 0.5  # a text with more of it in link anchors than this is an index of other stories


def _words(texts: list[str]) -> int:
    return sum(text_size(t) for t in texts)


def independent_text(html: str) -> str:
    """The page's main text by resiliparse (empty when it cannot parse the page)."""
    try:
        return extract_plain_text(html, main_content=True, preserve_formatting=True, list_bullets=False, comments=False)
    except Exception:
        logger.debug("resiliparse failed", exc_info=True)
        return ""


def recover_story(
    html: str,
    tree: HtmlElement,
    url: str,
    headlines: Sequence[str],
    document,
    paragraphs: list[str],
    context: ExtractionContext,
    declares_article: bool = False,
):
    """(document, paragraphs): the first pass's, unless it kept a short text and a second opinion finds far more.

    Then, in two bounded steps: (1) the blocks of trafilatura's balanced mode on the raw page that the first
    pass or the independent extractor also has; (2) only when that still leaves a stub (under STUB_WORDS)
    on a page that does not read as a bot check, consent wall or paywall, trafilatura's own answer (balanced,
    else recall mode) through our wording and link rules, unless it is mostly link anchors (a section page) —
    a page trafilatura finds 600 words on is not stored as an empty "no-text" page.
    """
    ours = _words(paragraphs)
    if ours >= DOUBT_WORDS:
        return document, paragraphs
    needed = max(LOST_RATIO * ours, ours + MIN_GAIN_WORDS)
    opinions = _SecondOpinions(tree, url)
    independent = independent_text(html)
    # both second opinions must see far more than the first pass kept; the cheap one (~10 ms) is asked first,
    # so trafilatura's pass (~40 ms) runs only where the independent extractor agrees that text was lost
    if text_size(independent) >= needed and (second := opinions.balanced()) is not None:
        agreeing = (set(shingle_list(" ".join(paragraphs))), set(shingle_list(independent)))
        agreed = lambda text: any(covered(text, w) for w in agreeing)  # noqa: E731 - a one-line test
        cut, recovered = _cut(second, headlines, context, agreed, declares_article)
        if _words(recovered) >= needed:
            logger.debug("%s: safety net took %d words back (first pass: %d)", url, _words(recovered), ours)
            return cut, recovered
    if ours >= STUB_WORDS or looks_like_wall(html):
        return document, paragraphs
    for opinion in (opinions.balanced, opinions.recall):  # the recall pass only when the balanced one fails
        second = opinion()
        if second is None:
            continue
        cut, recovered = _cut(second, headlines, context, lambda text: True, declares_article)
        if _words(recovered) >= max(needed, STUB_WORDS) and not _mostly_link_text(cut, recovered):
            logger.debug("%s: first pass and agreement left a stub; trafilatura's %d words kept", url, ours)
            return cut, recovered
    return document, paragraphs


class _SecondOpinions:
    """trafilatura's balanced and recall documents of the raw page, each computed once, when first asked for."""

    def __init__(self, tree: HtmlElement, url: str) -> None:
        self._tree, self._url = tree, url
        self._documents: dict[str, Any] = {}

    def _get(self, mode: str):
        if mode not in self._documents:
            self._documents[mode] = trafilatura_document(self._tree, self._url, mode=mode)
        return self._documents[mode]

    def balanced(self):
        return self._get("balanced")

    def recall(self):
        return self._get("recall")


def _cut(document, headlines: Sequence[str], context: ExtractionContext, agreed, declares_article: bool = False):
    """A copy of `document` keeping the blocks that are `agreed` story, no share prompt and no cross-link, and
    the kept blocks' texts."""
    document = copy.deepcopy(document)
    return document, select_paragraphs(document.body, headlines, context, agreed, declares_article)


def _mostly_link_text(document, texts: list[str]) -> bool:
    """Whether most of a text is link anchors: a section page's list of headlines, not a story."""
    linked = sum(len("".join(ref.itertext())) for ref in document.body.iter("ref"))
    return linked > LINK_SHARE * sum(len(t) for t in texts)
