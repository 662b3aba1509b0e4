"""The article body: trafilatura's precision mode first, its balanced mode when that finds too little.

Precision mode leaves out more boilerplate; when it yields fewer than MIN_PRECISE_WORDS words it has
usually lost the story, so the balanced mode runs and its blocks are cut to the span the precision
pass agrees with (boilerplate sits before and after a story far more often than inside it), grown
over neighbouring long paragraphs. Either way, wording rules then drop junk paragraphs, and short
blocks that are mostly links (related-story lists) go too. Table rows are lines of their cells.
"""

from __future__ import annotations

import logging
import re
from copy import deepcopy

from lxml import etree
from trafilatura import bare_extraction
from trafilatura.htmlprocessing import convert_to_html

from crawler.extract.boilerplate import filter_paragraphs, strip_shortcodes
from crawler.extract.context import (
    BALANCED_FALLBACK,
    LINK_LIST_DROP,
    PRECISION_FIRST,
    SPAN_CUT,
    WORDING_RULES,
    ExtractionContext,
)

logger = logging.getLogger(__name__)

BLOCKS = ("p", "head", "item", "quote", "row", "code")  # a table row is one line: its cells, spaced
MIN_PRECISE_WORDS = 150  # fewer words from precision mode: run the balanced mode as well
TRUST_PRECISION_SHARE = 0.4  # the precision pass must hold this share of the words to bound the story
LINK_DENSITY = 0.5  # a block with more of its text in links than this …
LINK_LIST_WORDS = 20  # … and fewer words than this is a cross-link, not story
STORY_WORDS = 20  # a paragraph this long next to the story is taken as story
SOFT_HYPHEN = "\u00ad"  # an invisible hyphenation hint inside words ("Mit\u00adtel\u00adal\u00adter"): not text
# Words, and each Chinese or Japanese character on its own: those scripts write no spaces, and a whole
# sentence as one "word" would make every comparison of texts in them all-or-nothing.
_IDEOGRAPHS = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_WORD = re.compile(f"[{_IDEOGRAPHS}]|[^\\W{_IDEOGRAPHS}]+")


def shingle_list(text: str) -> list[tuple[str, ...]]:
    """Case-folded 4-word windows of `text` (one window for shorter texts)."""
    words = _WORD.findall(text.casefold())
    return [tuple(words[i : i + 4]) for i in range(max(1, len(words) - 3))] if words else []


def extract_main(tree: etree._Element, url: str, context: ExtractionContext):
    """trafilatura's extracted document and, when the balanced mode had to run, the precision pass's text
    (None when the precision-mode document itself is returned, or when no precision pass ran)."""
    if not context.on(PRECISION_FIRST):
        return trafilatura_document(tree, url, mode="balanced"), None
    precise = trafilatura_document(tree, url, mode="precision")
    enough = precise is not None and len((precise.text or "").split()) >= MIN_PRECISE_WORDS
    if enough or not context.on(BALANCED_FALLBACK):
        return precise, None
    document = trafilatura_document(tree, url, mode="balanced")
    if document is None:
        return precise, None
    precise_text = precise.text if precise is not None else ""
    return document, precise_text if context.on(SPAN_CUT) else None


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


def _precision_agreement(texts: list[str], precise_text: str) -> list[bool] | None:
    """For each block, whether the precision pass has (most of) it; None if that pass can't be trusted."""
    total = sum(len(t.split()) for t in texts)
    if not precise_text or len(precise_text.split()) < TRUST_PRECISION_SHARE * total:
        return None
    found = set(shingle_list(precise_text))
    agreement = [covered(text, found) for text in texts]
    return agreement if any(agreement) else None


def covered(text: str, windows: set[tuple[str, ...]]) -> bool:
    """Whether most of `text`'s 4-word windows are among `windows` (another extraction has the text)."""
    own = shingle_list(text)
    return bool(own) and sum(1 for w in own if w in windows) >= 0.5 * len(own)


def _story_like(block: etree._Element, text: str) -> bool:
    return block.tag == "p" and len(text.split()) >= STORY_WORDS and not mostly_links(block, text)


def _extend_span(span: tuple[int, int], blocks: list, texts: list[str], keep: list[bool]) -> tuple[int, int]:
    """Grow the span over neighbouring story-like paragraphs the precision pass left out."""
    first, last = span
    while first > 0 and keep[first - 1] and _story_like(blocks[first - 1], texts[first - 1]):
        first -= 1
    while last < len(blocks) - 1 and keep[last + 1] and _story_like(blocks[last + 1], texts[last + 1]):
        last += 1
    return first, last


def mostly_links(block: etree._Element, text: str) -> bool:
    """A short block whose text is mostly links: a cross-link, not story."""
    linked = sum(len("".join(ref.itertext())) for ref in block.iter("ref"))
    return bool(text) and linked > LINK_DENSITY * len(text) and len(text.split()) < LINK_LIST_WORDS


def _block_text(block: etree._Element) -> str:
    if block.tag == "row":
        return " ".join("".join(cell.itertext()).strip() for cell in block.iter("cell"))
    return "".join(block.itertext())


def select_paragraphs(
    body: etree._Element, title: str, precise_text: str | None, context: ExtractionContext
) -> list[str]:
    """Drop every block of `body` that is not story (in place); return the kept paragraphs' texts."""
    blocks, texts = story_blocks(body)
    keep = wording_filter(texts, title, context)
    agreement = _precision_agreement(texts, precise_text) if precise_text is not None else None
    span = None
    if agreement:
        agreed = [i for i, ok in enumerate(agreement) if ok]
        span = _extend_span((agreed[0], agreed[-1]), blocks, texts, keep)
    for i, (block, text) in enumerate(zip(blocks, texts, strict=True)):
        if span and not span[0] <= i <= span[1] or context.on(LINK_LIST_DROP) and mostly_links(block, text):
            keep[i] = False
    return keep_blocks(blocks, texts, keep)


def wording_filter(texts: list[str], title: str, context: ExtractionContext) -> list[bool]:
    """For each block text, whether the wording rules keep it (all non-empty ones when the stage is off); the
    headline repeated among the first three blocks never."""
    keep = filter_paragraphs(texts) if context.on(WORDING_RULES) else [bool(t) for t in texts]
    folded_title = title.casefold()
    for i, text in enumerate(texts[:3]):
        if folded_title and text.casefold() == folded_title:
            keep[i] = False
    return keep


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
