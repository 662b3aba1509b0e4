"""Headline cleaning: whitespace, soft hyphens, and the site name appended to <title>-style titles."""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

_SEPARATORS = r"\s+[|–—\-:·•»]\s+"


def clean_title(title: str, site_name: str | None = None) -> str:
    """The headline without soft hyphens, extra spaces or a trailing/leading ' | Site Name'."""
    title = re.sub(r"\s+", " ", title.replace("\u00ad", "")).strip()
    if not site_name:
        return title
    site = re.escape(site_name.strip())
    for pattern in (rf"{_SEPARATORS}{site}\s*$", rf"^\s*{site}{_SEPARATORS}"):
        stripped = re.sub(pattern, "", title, flags=re.IGNORECASE).strip()
        if stripped and stripped != title:
            return stripped
    return title
