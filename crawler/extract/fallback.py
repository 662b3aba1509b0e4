"""trafilatura's and htmldate's metadata, computed only when the page's structured markup lacks a field."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata

logger = logging.getLogger(__name__)


class TrafilaturaMetadata:
    """Lazy access to trafilatura's metadata of a page (title, author, sitename, description, …).

    extract_metadata reads the tree without changing it; read every field before the tree is pruned.
    """

    def __init__(self, tree: HtmlElement, url: str) -> None:
        self._tree = tree
        self._url = url

    @cached_property
    def _document(self) -> Any:
        try:
            return extract_metadata(self._tree, self._url, extensive=False)
        except Exception:  # noqa: BLE001 - a metadata fallback must never fail an extraction
            logger.debug("trafilatura metadata failed on %s", self._url, exc_info=True)
            return None

    def get(self, field: str) -> Any:
        """One field of trafilatura's metadata, or None."""
        return getattr(self._document, field, None) if self._document is not None else None


def htmldate_candidate(tree: HtmlElement, url: str) -> list[tuple[str, str]]:
    """htmldate's publication date of the page as a (source, raw) date candidate, if it finds one."""
    try:
        found = find_date(tree, url=url, extensive_search=True, original_date=True, outputformat="%Y-%m-%d")
    except Exception:  # noqa: BLE001
        return []
    return [("htmldate", found)] if found else []
