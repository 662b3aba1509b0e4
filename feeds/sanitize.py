"""Make web content safe to republish: sanitize HTML, absolutize URLs, drop XML-illegal characters."""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin

import nh3

logger = logging.getLogger(__name__)

ALLOWED_TAGS = {
    "a", "abbr", "article", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p",
    "pre", "q", "s", "section", "small", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"colspan"},
    "th": {"colspan"},
}
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str | None) -> str:
    """`text` without characters that XML 1.0 forbids (control characters, lone surrogates)."""
    return _XML_ILLEGAL.sub("", text or "")


def sanitize_html(html: str, base_url: str) -> str:
    """Article HTML safe for a feed reader: whitelisted tags and attributes, http(s) links made absolute.

    Scripts, styles, iframes, objects, forms, event-handler attributes and javascript: URLs are removed.
    """

    def absolutize(element: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src"):
            try:
                url = urljoin(base_url, value.strip())
            except ValueError:  # a malformed host or port
                return None
            return url if url.startswith(("http://", "https://")) else None
        return value

    return xml_safe(  # after nh3 too: it turns &#1; back into a raw control character
        nh3.clean(
            xml_safe(html),
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https"},
            attribute_filter=absolutize,
            link_rel="noopener noreferrer",
            strip_comments=True,
        )
    )
