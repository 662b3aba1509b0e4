"""Tags as URLs and comparisons use them: one slug per tag, however outlets spell it."""

from __future__ import annotations

import re
import unicodedata


def tag_slug(tag: str) -> str:
    """The URL form of a tag: case-folded, compatibility-normalized, runs of non-word characters as one dash."""
    return re.sub(r"[\W_]+", "-", unicodedata.normalize("NFKC", tag).casefold()).strip("-")
