"""The article body: trafilatura's precision mode on the pruned page, then our paragraph rules.

Precision mode leaves out more boilerplate than the balanced mode; where it loses the story, the
safety net (safety_net.py) takes text back. Wording rules drop junk paragraphs, and short blocks
that are mostly links (related-story lists) go too. Table rows are lines of their cells.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from lxml import etree
from trafilatura import bare_extraction
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.utils import safe_relative_url

from crawler.extract.boilerplate import filter_paragraphs, strip_shortcodes
from crawler.extract.context import LINK_LIST_DROP, PRECISION_FIRST, WORDING_RULES, ExtractionContext
from crawler.extract.kinds import text_size

BLOCKS = ("p", "head", "item", "quote", "row", "code")  # a table row is one line: its cells, spaced
INLINE = frozenset({"hi", "ref", "lb", "del"})  # trafilatura's inline elements: part of the text around them
LOOSE = "newswire-loose"  # marks a paragraph made of text that sat loose between blocks
LINK_DENSITY = 0.5  # a block with more of its text in links than this …
LINK_LIST_WORDS = 20  # … and fewer words than this is a cross-link, not story …
LABEL_WORDS = 3  # … unless it is a sentence with more than this many words outside its links
LINK_POST_SHARE = 0.5  # cross-links holding more of the text than this are the post itself (see select_paragraphs)
_WORDS = re.compile(r"\w+")
SOFT_HYPHEN = "\u00ad"  # an invisible hyphenation hint inside words ("Mit\u00adtel\u00adal\u00adter"): not text


def extract_main(tree: etree._Element, url: str, context: ExtractionContext):
    """trafilatura's document of the (pruned) page: precision mode, or balanced with that stage off; or None."""
    return trafilatura_document(tree, url, mode="precision" if context.on(PRECISION_FIRST) else "balanced")


def trafilatura_document(tree: etree._Element, url: str, *, mode: str):
    """trafilatura's document of the page in `mode` ("precision", "balanced" or "recall"; with links and
    tables; the metadata is ours), or None; its links made absolute against `url`.

    trafilatura is not given the URL: it would resolve every link of the whole page (55k over the DEV pages,
    through courlan) where only the story's links are kept. They are resolved here, the same way."""
    document = bare_extraction(
        tree,
        favor_precision=mode == "precision",
        favor_recall=mode == "recall",
        include_comments=False,
        include_tables=True,
        include_links=True,
    )
    if document is None or isinstance(document, dict) or document.body is None:  # a dict only with as_dict=True
        return None
    for link in document.body.iter("ref"):
        if target := link.get("target"):
            link.set("target", safe_relative_url(url, target) or target)
    return document


def mostly_links(block: etree._Element, text: str) -> bool:
    """A short block whose text is mostly links, with at most a label around them ('Read more:'): a cross-link,
    not story. A sentence that carries a link ('In April, the couple <a>announced …</a>') is story."""
    anchors = ["".join(ref.itertext()) for ref in block.iter("ref")]
    if not text or sum(map(len, anchors)) <= LINK_DENSITY * len(text) or len(text.split()) >= LINK_LIST_WORDS:
        return False
    sentence = text.rstrip("\"'”»)").endswith((".", "!", "?", "…", "。"))
    return not sentence or text_size(text) - text_size(" ".join(anchors)) <= LABEL_WORDS


def _block_text(block: etree._Element) -> str:
    if block.tag == "row":
        return " ".join("".join(cell.itertext()).strip() for cell in block.iter("cell"))
    return "".join(block.itertext())


def select_paragraphs(
    body: etree._Element,
    headlines: Sequence[str],
    context: ExtractionContext,
    agreed: Callable[[str], bool] | None = None,
    declares_article: bool = False,
) -> list[str]:
    """Drop every block of `body` that is not story (in place); return the kept paragraphs' texts.

    Not story: what the wording rules drop, short link lists, blocks `agreed` refuses (when given), and text
    that sat loose between blocks before the first or after the last kept block (date lines, tags, credits:
    loose text inside the story is a subheading or a line of it). Short link lists stay when they are most of
    the text on a page that `declares_article` (og:type or JSON-LD): a blog's post of links is that post,
    where a section page's list of headlines (declared a website, or nothing) is no story."""
    blocks, texts = story_blocks(body)
    keep = wording_filter(texts, headlines, context)
    if agreed is not None:
        keep = [ok and agreed(text) for ok, text in zip(keep, texts, strict=True)]
    if context.on(LINK_LIST_DROP):
        links = [ok and mostly_links(b, t) for ok, b, t in zip(keep, blocks, texts, strict=True)]
        linked_words = sum(text_size(t) for t, is_link in zip(texts, links, strict=True) if is_link)
        kept_words = sum(text_size(t) for t, ok in zip(texts, keep, strict=True) if ok)
        if not declares_article or linked_words <= LINK_POST_SHARE * kept_words:
            keep = [ok and not is_link for ok, is_link in zip(keep, links, strict=True)]
    anchored = [i for i, (block, ok) in enumerate(zip(blocks, keep, strict=True)) if ok and block.get(LOOSE) is None]
    for i, block in enumerate(blocks):
        if block.get(LOOSE) is not None and (not anchored or not anchored[0] < i < anchored[-1]):
            keep[i] = False
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
    containers = [e for e in body.iter() if isinstance(e.tag, str) and e.tag not in BLOCKS and e.tag not in INLINE]
    for container in containers:
        if not any(True for _ in container.iterancestors(*BLOCKS)):
            _wrap_loose_text(container)
    blocks = [b for b in body.iter(*BLOCKS) if not any(True for _ in b.iterancestors(*BLOCKS))]
    texts = [strip_shortcodes(_block_text(b).replace(SOFT_HYPHEN, "")) for b in blocks]
    return blocks, [re.sub(r"\s+", " ", t).strip() for t in texts]


def _wrap_loose_text(container: etree._Element) -> None:
    """Put text that sits between blocks (a container's own text, a block's tail, inline elements such as a
    bold subheading set loose in a <div>) into paragraphs of its own, so that it is judged like any block and
    kept or dropped with the text and the HTML alike."""
    children, run = [], None

    def open_run() -> etree._Element:
        nonlocal run
        if run is None:
            run = etree.Element("p", {LOOSE: "1"})
            children.append(run)
        return run

    if container.text and container.text.strip():
        open_run().text = container.text
    container.text = None
    for child in list(container):
        tail, child.tail = child.tail, None
        if child.tag in INLINE:
            open_run().append(child)
            child.tail = tail
            continue
        run = None
        children.append(child)
        if tail and tail.strip():
            open_run().text = tail
    for child in children:
        container.append(child)


def keep_blocks(blocks: list[etree._Element], texts: list[str], keep: list[bool]) -> list[str]:
    """Remove the blocks not kept (in place); return the kept blocks' texts."""
    kept = []
    for block, text, ok in zip(blocks, texts, keep, strict=True):
        block.attrib.pop(LOOSE, None)
        if ok and text:
            kept.append(text)
        elif block.getparent() is not None:
            block.getparent().remove(block)
    return kept


def body_html(body: etree._Element) -> str:
    """The kept body as simple HTML (<article><p>…), links kept. Converts `body` in place: read nothing of it
    afterwards."""
    html = convert_to_html(body)
    inner = html.find("body")
    inner.tag = "article"
    return etree.tostring(inner, encoding="unicode", method="html")
