"""URL canonicalization for deduplication: tracking parameters out, w3lib canonical form."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

TRACKING_PARAM = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gclsrc|msclkid|yclid|mc_cid|mc_eid|_ga|_gl|igshid|"
    r"ocid|cmpid|icid|ref_src|ref_url|smid|s_cid|at_\w+|wt\.\w+)$",
    re.IGNORECASE,
)


def strip_tracking(url: str) -> str:
    """`url` without tracking query parameters (utm_*, fbclid, gclid, …) and without its fragment."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAM.match(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def canonical_url(url: str) -> str:
    """The dedup key of a URL: tracking stripped, then w3lib canonical form (sorted query, lower host)."""
    return canonicalize_url(strip_tracking(url.strip()))


def bare_host(host: str) -> str:
    """A host name without a leading 'www.'."""
    return host.removeprefix("www.")


def host_of(url: str) -> str:
    """The lower-cased host name of `url`, without port and a leading 'www.'."""
    return bare_host((urlsplit(url).hostname or "").lower())


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host (what newswire fetches, links to and republishes)."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def article_uid(canonical_url: str) -> str:
    """An article's stable id: the same canonical URL gives the same id in any database (16 hex digits of its
    SHA-256), unlike the row id, which numbers articles per database. Exports, feed ids and story pages use it."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]
