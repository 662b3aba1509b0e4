"""The page's markup made parsable, and parsed once, into a tree every stage reads.

lxml gives up on the rest of a page at one stray control character, raw or as a character reference
("&#8;", "&#x1B;", "&#xFFFE;"): those become spaces first. The tree is parsed as trafilatura's `load_html`
does (its repairs, the same parser options), with one difference: elements get their class (HtmlElement)
from lxml in C. lxml.html's own parser asks a Python method for the class of every element it hands out —
five million calls over the DEV pages, a tenth of the extractor's time — only to give the few form elements
classes of their own that no stage uses.
"""

from __future__ import annotations

import logging
import re

import lxml.html
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction
from trafilatura.utils import is_dubious_html, repair_faulty_html

logger = logging.getLogger(__name__)

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Character references that may name a control character or a noncharacter: the short ones that do, and every
# long one (which `_unparsable` then decides), so that the ordinary "&#8217;" never costs a Python call.
_SUSPECT_REFERENCE = re.compile(
    r"&#(?:[xX]0*([0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF]|[0-9a-fA-F]{4,8})(?![0-9a-fA-F])"
    r"|0*([0-8]|1[124-9]|2[0-9]|3[01]|127|[0-9]{5,10})(?![0-9]));?"
)

PARSER = etree.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
                          remove_pis=True)  # fmt: skip  # trafilatura's HTML_PARSER options
PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)


def _unparsable(code: int) -> bool:
    control = (code < 0x20 and code not in (0x09, 0x0A, 0x0D)) or code == 0x7F
    return control or 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE or code > 0x10FFFF


def _drop_unparsable_reference(match: re.Match[str]) -> str:
    hex_digits, decimal = match.groups()
    code = int(hex_digits, 16) if hex_digits else int(decimal)
    return " " if _unparsable(code) else match.group(0)


def parsable(html: str) -> str:
    """`html` with the control characters and references to them that would make lxml drop the rest of the
    page turned into spaces."""
    return _SUSPECT_REFERENCE.sub(_drop_unparsable_reference, _CONTROL.sub(" ", html))


def parse_page(html: str) -> HtmlElement | None:
    """The parsed page (None when nothing parses, or when what parses is not HTML), as trafilatura's
    `load_html` gives it: its repairs first; a str holding an encoding declaration is parsed as bytes."""
    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    tree = None
    try:
        tree = lxml.html.fromstring(html, parser=PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        pass
    except Exception as exc:  # noqa: BLE001 - lxml's parser errors: the page is unreadable, not the crawl
        logger.debug("lxml could not parse the page: %s", exc)
    if tree is None or len(tree) < 1:
        try:
            tree = lxml.html.fromstring(html.encode("utf-8", "surrogatepass"), parser=PARSER)
        except Exception as exc:  # noqa: BLE001 - as above
            logger.debug("lxml could not parse the page's bytes: %s", exc)
            return None
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree
