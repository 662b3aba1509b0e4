"""The safety net: story text the first pass lost, taken back where independent extractors agree."""

from __future__ import annotations

import logging

from lxml.html import HtmlElement

from crawler.extract.context import ExtractionContext

logger = logging.getLogger(__name__)


def recover_story(tree: HtmlElement, url: str, document, paragraphs: list[str], context: ExtractionContext):
    """(document, paragraphs), with lost story paragraphs added back (placeholder: unchanged)."""
    return document, paragraphs
