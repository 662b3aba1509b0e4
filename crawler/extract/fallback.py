"""trafilatura's and htmldate's metadata, computed only when the page's structured markup lacks a field."""

from __future__ import annotations

import logging
from functools import cached_property

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_title
from trafilatura.settings import Document

logger = logging.getLogger(__name__)


class TrafilaturaMetadata:
    """trafilatura's title and author of a page, computed when first asked for.

    The title takes the same steps as trafilatura's `extract_metadata` (meta tags, then JSON-LD, then its
    XPath expressions), without the date search, URL and site-name steps it would also run (half of its
    time, and a public-suffix list load); the author only its XPath step. The tree is only read.
    """

    def __init__(self, tree: HtmlElement, url: str) -> None:
        self._tree = tree
        self._url = url

    @cached_property
    def _declared(self) -> Document:
        metadata = Document()
        try:
            metadata = examine_meta(self._tree)
            if metadata.author and " " not in metadata.author:  # a one-word author: a handle (trafilatura)
                metadata.author = None
            metadata = extract_meta_json(self._tree, metadata)
        except Exception:
            logger.debug("trafilatura metadata failed on %s", self._url, exc_info=True)
        return metadata

    @cached_property
    def title(self) -> str | None:
        return self._declared.title or _quietly(extract_title, self._tree)

    @cached_property
    def author(self) -> str | None:
        """trafilatura's XPath guess only: the authors its meta and JSON-LD steps would give, our structured
        reading gives (crawler.extract.structured reads the same names), so JSON-LD is parsed once."""
        return xpath_author(self._tree)


def xpath_author(tree: HtmlElement) -> str | None:
    """trafilatura's author found by its XPath expressions over the page's byline-like nodes (~9 ms a page)."""
    return _quietly(extract_author, tree)


def _quietly(step, tree: HtmlElement) -> str | None:
    try:
        return step(tree)
    except Exception:
        logger.debug("trafilatura %s failed", step.__name__, exc_info=True)
        return None


def htmldate_candidate(tree: HtmlElement, url: str) -> list[tuple[str, str]]:
    """htmldate's publication date of the page as a (source, raw) date candidate, if it finds one."""
    try:
        found = find_date(tree, url=url, extensive_search=True, original_date=True, outputformat="%Y-%m-%d")
    except Exception:  # noqa: BLE001
        return []
    return [("htmldate", found)] if found else []
