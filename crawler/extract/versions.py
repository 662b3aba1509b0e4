"""Which extractor made a text: newswire's and trafilatura's versions, stored with every article version so
a corpus says what produced each record (and `reextract` can tell what an older extractor made)."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


@functools.cache
def extractor_version() -> str:
    """E.g. "newswire 0.1.0; trafilatura 2.0.0"."""
    return f"newswire {_version('newswire')}; trafilatura {_version('trafilatura')}"
