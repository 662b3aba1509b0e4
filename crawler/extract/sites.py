"""Site names from a URL: the registrable domain (tldextract's bundled public-suffix list) and its label."""

from __future__ import annotations

from functools import lru_cache

import tldextract

# The snapshot of the public-suffix list that ships with tldextract: no download, no cache file, ever.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=4096)
def _parts(host: str) -> tuple[str, str]:
    parts = _EXTRACT(host)
    return parts.top_domain_under_public_suffix or host, parts.domain or host


def registrable_domain(host: str) -> str:
    """'cnn.com' for edition.cnn.com, 'bbc.co.uk' for www.bbc.co.uk; the host itself for an IP address."""
    return _parts(host.lower().strip("."))[0]


def domain_label(host: str) -> str:
    """The registrable domain's own label: 'cnn' for edition.cnn.com, 'dw' for amp.dw.com."""
    return _parts(host.lower().strip("."))[1]
