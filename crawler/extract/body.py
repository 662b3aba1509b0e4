"""The article body: trafilatura's precision mode on the pruned page, then our paragraph rules.

Precision mode leaves out more boilerplate than the balanced mode; where it loses the story, the
safety net (safety_net.py) takes text back. Wording rules drop junk paragraphs, and short blocks
that are mostly links (related-story lists) go too. Table rows are lines of their cells.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from copy import deepcopy

from lxml import etree
from trafilatura import bare_extraction
from trafilatura.htmlprocessing import convert_to_html

from crawler.extract.boilerplate import filter_paragraphs, strip_shortcodes
from crawler.extract.context import LINK_LIST_DROP, PRECISION_FIRST, WORDING_RULES, ExtractionContext

logger = logging.getLogger(__name__)

BLOCKS = ("p", "head", "item", "quote", "row", "code")  # a table row is one line: its cells, spaced
LINK_DENSITY = 0.5  # a block with more of its text in links than this …
LINK_LIST_WORDS = 20  # … and fewer words than this is a cross-link, not story
_WORDS = re.compile(r"\w+")
SOFT_HYPHEN = "\u00ad"  # an invisible hyphenation hint inside words ("Mit\u00adtel\u00adal\u00adter"): not text


def extract_main(tree: etree._Element, url: str, context: ExtractionContext):
    """trafilatura's document of the (pruned) page: precision mode, or balanced with that stage off; or None."""
    return trafilatura_document(tree, url, mode="precision" if context.on(PRECISION_FIRST) else "balanced")


def trafilatura_document(tree: etree._Element, url: str, *, mode: str):
    """trafilatura's document of the page in `mode` ("precision", "balanced" or "recall"; with links and
    tables; the metadata is ours), or None."""
    document = bare_extraction(
        tree,
        url=url,
        favor_precision=mode == "precision",
        favor_recall=mode == "recall",
        include_comments=False,
        include_tables=True,
        include_links=True,
    )
    return document if document is not None and document.body is not None else None


def mostly_links(block: etree._Element, text: str) -> bool:
    """A short block whose text is mostly links: a cross-link, not story."""
    linked = sum(len("".join(ref.itertext())) for ref in block.iter("ref"))
    return bool(text) and linked > LINK_DENSITY * len(text) and len(text.split()) < LINK_LIST_WORDS


def _block_text(block: etree._Element) -> str:
    if block.tag == "row":
        return " ".join("".join(cell.itertext()).strip() for cell in block.iter("cell"))
    return "".join(block.itertext())


def select_paragraphs(body: etree._Element, headlines: Sequence[str], context: ExtractionContext) -> list[str]:
    """Drop every block of `body` that is not story (in place); return the kept paragraphs' texts."""
    blocks, texts = story_blocks(body)
    keep = wording_filter(texts, headlines, context)
    if context.on(LINK_LIST_DROP):
        keep = [ok and not mostly_links(b, t) for ok, b, t in zip(keep, blocks, texts, strict=True)]
    return keep_blocks(blocks, texts, keep)


def wording_filter(texts: list[str], headlines: Sequence[str], context: ExtractionContext) -> list[bool]:
    """For each block text, whether the wording rules keep it (all non-empty ones when the stage is off); a
    headline of the page (the title, an <h1>) repeated among the first three blocks never, whatever its
    spacing and punctuation ('Kicker: Headline' set in two spans reads 'Kicker:Headline')."""
    keep = filter_paragraphs(texts) if context.on(WORDING_RULES) else [bool(t) for t in texts]
    repeated = {words for words in map(_word_key, headlines) if words}
    for i, text in enumerate(texts[:3]):
        if _word_key(text) in repeated:
            keep[i] = False
    return keep


def _word_key(text: str) -> tuple[str, ...]:
    return tuple(_WORDS.findall(text.casefold()))


def story_blocks(body: etree._Element) -> tuple[list[etree._Element], list[str]]:
    """The outermost text blocks of a trafilatura body and their texts (whitespace and shortcodes out)."""
    for line_break in body.iter("lb"):  # "Amphitheatre<br>June 10" must not read "AmphitheatreJune 10"
        line_break.tail = " " + (line_break.tail or "")
    blocks = [b for b in body.iter(*BLOCKS) if not any(True for _ in b.iterancestors(*BLOCKS))]
    texts = [strip_shortcodes(_block_text(b).replace(SOFT_HYPHEN, "")) for b in blocks]
    return blocks, [re.sub(r"\s+", " ", t).strip() for t in texts]


def keep_blocks(blocks: list[etree._Element], texts: list[str], keep: list[bool]) -> list[str]:
    """Remove the blocks not kept (in place); return the kept blocks' texts."""
    kept = []
    for block, text, ok in zip(blocks, texts, keep, strict=True):
        if ok and text:
            kept.append(text)
        elif block.getparent() is not None:
            block.getparent().remove(block)
    return kept


def body_html(body: etree._Element) -> str:
    """The kept body as simple HTML (<article><p>…), links kept."""
    html = convert_to_html(deepcopy(body))
    inner = html.find("body")
    inner.tag = "article"
    return etree.tostring(inner, encoding="unicode", method="html")
