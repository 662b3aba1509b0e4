"""Make web content safe to republish: sanitize HTML, plain-text titles, normalized URLs and language tags."""

from __future__ import annotations

import html as html_lib
import logging
import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import lxml.html
import nh3

from storage.common.urls import is_web_url

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
# XML 1.0 forbids C0 controls and lone surrogates; feed validators also warn on C1 controls, noncharacters and
# U+FFFD (the mark of a broken decoding), and HTML parsers report them as errors: all of them go
_XML_ILLEGAL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffd\ufffe\uffff"
    "\U0001fffe\U0001ffff\U0010fffe\U0010ffff]"
)
_TAG_LIKE = re.compile(r"<[A-Za-z/!?]")
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_ESCAPE_OR_CHAR = re.compile(r"%[0-9A-Fa-f]{2}|.", re.DOTALL)
DEFAULT_PORTS = {"http": 80, "https": 443}


def xml_safe(text: str | None) -> str:
    """`text` without characters XML 1.0 forbids or feed validators flag (controls, surrogates, noncharacters)."""
    return _XML_ILLEGAL.sub("", text or "")


def plain_text(text: str | None) -> str:
    """`text` as one line of plain text for a title: leftover character references decoded, tags removed,
    whitespace collapsed.

    Feed titles are text and validators warn on HTML in them; ordinary text ("AT&T", "a < b") is kept as it is.
    """
    text = xml_safe(text)
    for _ in range(3):  # twice-escaped markup (&amp;lt;b&amp;gt;) needs more than one round
        decoded = _ENTITY.sub(lambda m: html_lib.unescape(m.group()), text)
        if _TAG_LIKE.search(decoded):
            decoded = html_lib.unescape(nh3.clean(decoded, tags=set()))
        if decoded == text:
            break
        text = xml_safe(decoded)
    return " ".join(text.split())


def language_tag(value: str | None) -> str | None:
    """`value` as a BCP 47 language tag ("en", "pt-br"), or None when it is not shaped like one."""
    tag = (value or "").strip().replace("_", "-").lower()
    return tag if _LANGUAGE_TAG.match(tag) else None


def _normalize_escapes(text: str, safe: frozenset[str]) -> str:
    out = []
    for token in _ESCAPE_OR_CHAR.findall(text):
        if len(token) == 3:  # %XX: needless escapes of unreserved characters undone, hex in upper case
            char = chr(int(token[1:], 16))
            out.append(char if char in _UNRESERVED else token.upper())
        else:
            out.append(token if token in safe else quote(token, safe=""))
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    segments: list[str] = []
    parts = path.split("/")
    for index, part in enumerate(parts):
        if part == "..":
            if len(segments) > 1:
                segments.pop()
        elif part != ".":
            segments.append(part)
        if part in (".", "..") and index == len(parts) - 1:
            segments.append("")
    return "/".join(segments)


def feed_url(url: str) -> str:
    """`url` in the RFC 3986 normal form feed validators compare ids in: lower-case scheme and host, no default
    port, no dot segments, ASCII only (IDNA host, UTF-8 escapes), upper-case escapes and none needless.

    A value that is not an absolute URL (a "urn:" or "tag:" id, say) is only stripped of spaces.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        host = quote(host, safe="")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if "@" in parts.netloc:
        netloc = _normalize_escapes(parts.netloc.rsplit("@", 1)[0], _PATH_SAFE - {"@", "/"}) + "@" + netloc
    path = _normalize_escapes(_remove_dot_segments(parts.path) or "/", _PATH_SAFE)
    query = _normalize_escapes(parts.query, _QUERY_SAFE)
    fragment = _normalize_escapes(parts.fragment, _QUERY_SAFE)
    normal = urlunsplit((scheme, netloc, path, query, fragment))
    if url.endswith("?") and not query:
        normal += "?"
    return normal


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
            return url if is_web_url(url) else None
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


def cap_html(html: str, limit: int, link: str) -> str:
    """Sanitized article HTML cut to about `limit` characters at a top-level block, ending with a link to the
    whole article (a 10 MB page made 20 MB feeds); unchanged when it is shorter."""
    if len(html) <= limit:
        return html
    kept, size = [], 0
    for block in lxml.html.fragments_fromstring(html):
        piece = block if isinstance(block, str) else lxml.html.tostring(block, encoding="unicode")
        if size + len(piece) > limit:
            break
        kept.append(piece)
        size += len(piece)
    logger.info("feed item %s: HTML of %d characters cut to %d", link, len(html), size)
    more = f'<p>… <a href="{html_lib.escape(link)}">Read the whole article</a></p>'
    return "".join(kept) + more
