"""A fetched page's text, decoded the way browsers do: BOM, HTTP header, <meta>, else UTF-8 or windows-1252.

Scrapy's own guess for an undeclared page is a statistical detector, which read a windows-1252 page as
cp775 or cp1250 ("naïve" → "naďve"), and a page whose header says UTF-8 while its bytes are
windows-1252 (an old CMS behind a new server) came out full of U+FFFD. Browsers fall back to
windows-1252 for undeclared Western pages; and bytes that are not UTF-8 at all — not one valid
multi-byte sequence among them — are windows-1252 whatever the header claims.
"""

from __future__ import annotations

from w3lib.encoding import html_to_unicode

FALLBACK = "cp1252"  # the WHATWG default for undeclared pages in Western locales (a superset of Latin-1)


def _utf8_or_fallback(body: bytes) -> str:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return FALLBACK
    return "utf-8"


def _not_utf8_at_all(body: bytes) -> bool:
    """True when the bytes fail as UTF-8 and hold no valid multi-byte sequence (so no UTF-8 text is mixed in)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="replace")
        return not any(ord(c) > 0x7F and c != "\ufffd" for c in text)
    return False


def page_text(body: bytes, content_type: str | None) -> tuple[str, str]:
    """(text, encoding) of a page from its bytes and Content-Type header."""
    encoding, text = html_to_unicode(content_type, body, default_encoding=FALLBACK, auto_detect_fun=_utf8_or_fallback)
    if encoding.replace("-", "").lower() in ("utf8", "utf8sig") and _not_utf8_at_all(body):
        encoding, text = FALLBACK, body.decode(FALLBACK, errors="replace")
    return text, encoding
