"""A fetched page's text, decoded the way browsers do: BOM, HTTP header, <meta>, valid UTF-8, else guessed.

w3lib (2.6+) follows the WHATWG steps: a byte-order mark, the Content-Type charset, a <meta> or XML
declaration, then UTF-8 when the bytes are valid UTF-8, else the encoding a browser would guess from the
bytes and the URL's top-level domain (windows-1252 for undeclared Western pages, windows-1251 for
Cyrillic ones). Scrapy's older statistical guess read a windows-1252 page as cp775 or cp1250
("naïve" → "naďve"). One step more than a browser: a page whose header says UTF-8 while its bytes are
windows-1252 (an old CMS behind a new server) came out full of U+FFFD, so bytes that are not UTF-8 at
all — not one valid multi-byte sequence among them — are windows-1252 whatever the header claims.
"""

from __future__ import annotations

from w3lib.encoding import html_to_unicode

FALLBACK = "cp1252"  # the WHATWG default for undeclared pages in Western locales (a superset of Latin-1)


def _not_utf8_at_all(body: bytes) -> bool:
    """True when the bytes fail as UTF-8 and hold no valid multi-byte sequence (so no UTF-8 text is mixed in)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="replace")
        return not any(ord(c) > 0x7F and c != "\ufffd" for c in text)
    return False


def page_text(body: bytes, content_type: str | None, url: str | None = None) -> tuple[str, str]:
    """(text, encoding) of a page from its bytes, its Content-Type header and its URL (whose top-level
    domain guides the guess for an undeclared, non-UTF-8 page)."""
    encoding, text = html_to_unicode(content_type, body, url=url)
    if encoding.replace("-", "").lower() in ("utf8", "utf8sig") and _not_utf8_at_all(body):
        encoding, text = FALLBACK, body.decode(FALLBACK, errors="replace")
    return text, encoding
