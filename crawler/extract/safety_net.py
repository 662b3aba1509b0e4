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

import logging

from lxml.html import HtmlElement
from resiliparse.extract.html2text import extract_plain_text

from crawler.extract.body import covered, keep_blocks, mostly_links, shingle_list, story_blocks, trafilatura_document
from crawler.extract.boilerplate import filter_paragraphs
from crawler.extract.context import LINK_LIST_DROP, WORDING_RULES, ExtractionContext
from crawler.extract.kinds import text_size

logger = logging.getLogger(__name__)

DOUBT_WORDS = 150  # a text shorter than this may have lost its story
LOST_RATIO = 2.0  # … and has, when the second opinion finds this many times as many words
MIN_GAIN_WORDS = 30  # … and at least this many more


def _words(texts: list[str]) -> int:
    return sum(text_size(t) for t in texts)


def independent_text(html: str) -> str:
    """The page's main text by resiliparse (empty when it cannot parse the page)."""
    try:
        return extract_plain_text(html, main_content=True, preserve_formatting=True, list_bullets=False, comments=False)
    except Exception:  # noqa: BLE001 - a second opinion must never fail an extraction
        logger.debug("resiliparse failed", exc_info=True)
        return ""


def recover_story(html: str, tree: HtmlElement, url: str, document, paragraphs: list[str], context: ExtractionContext):
    """(document, paragraphs): the first pass's, or — when it kept a short text and the second opinion finds
    far more — the second opinion's document cut to the blocks the first pass or the independent extractor
    also has."""
    ours = _words(paragraphs)
    if ours >= DOUBT_WORDS:
        return document, paragraphs
    independent = independent_text(html)
    # both second opinions must see far more than the first pass kept; the cheap one (~10 ms) is asked first,
    # so trafilatura's pass (~40 ms) runs only where the independent extractor agrees that text was lost
    if text_size(independent) < max(LOST_RATIO * ours, ours + MIN_GAIN_WORDS):
        return document, paragraphs
    second = trafilatura_document(tree, url, favor_precision=False)
    if second is None:
        return document, paragraphs
    blocks, texts = story_blocks(second.body)
    if _words(texts) < max(LOST_RATIO * ours, ours + MIN_GAIN_WORDS):  # trafilatura sees no more
        return document, paragraphs
    first = set(shingle_list(" ".join(paragraphs)))
    independent_windows = set(shingle_list(independent))
    keep = filter_paragraphs(texts) if context.on(WORDING_RULES) else [bool(t) for t in texts]
    for i, (block, text) in enumerate(zip(blocks, texts, strict=True)):
        agreed = covered(text, first) or covered(text, independent_windows)
        if not agreed or context.on(LINK_LIST_DROP) and mostly_links(block, text):
            keep[i] = False
    recovered = keep_blocks(blocks, texts, keep)
    if _words(recovered) <= ours:
        return document, paragraphs
    logger.debug("%s: safety net took %d words back (first pass: %d)", url, _words(recovered), ours)
    return second, recovered
