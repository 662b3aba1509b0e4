"""File and directory names made from names of any script: readable, ASCII, unique, short enough for any file
system (a partition directory per outlet)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from urllib.parse import quote

from storage.common.tags import tag_slug

logger = logging.getLogger(__name__)

MAX_SEGMENT = 120  # characters of a name (NAME_MAX is 255 bytes; room for a suffix and a temporary's prefix)


def path_segment(name: str) -> str:
    """`name` as one path segment, the way the feeds name a tag's file: its slug (NFKC, case-folded, words joined
    by dashes: `Le Monde` → `le-monde`, as the registry's outlet slug for a Latin name), percent-encoded, so
    letters of any script stay distinct and readable again by URL-decoding (`Новости` → `%D0%BD%D0%BE…`). A long
    one is cut and given a digest of the whole name. '' for a name with no letter or digit."""
    slug = tag_slug(name)
    segment = quote(slug, safe="")
    if len(segment) <= MAX_SEGMENT:
        return segment
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    while len(quote(slug, safe="")) > MAX_SEGMENT - len(digest) - 1:
        slug = slug[:-1]
    return f"{quote(slug.rstrip('-'), safe='')}-{digest}"


def unique_segments(names: Iterable[str], fallback: str = "unnamed") -> dict[str, str]:
    """A distinct path segment per name (path_segment), given in order: a name whose segment is taken, or empty,
    gets the first free `SEGMENT-2`, `SEGMENT-3`, … (so with names in a stable order, the segments are stable)."""
    segments: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        if name in segments:
            continue
        base = path_segment(name) or fallback
        segment, n = base, 1
        while segment in taken:
            n += 1
            segment = f"{base}-{n}"
        segments[name] = segment
        taken.add(segment)
    return segments
