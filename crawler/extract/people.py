"""Author names: bylines split into people, prefixes, roles and e-mail addresses stripped."""

from __future__ import annotations

import html
import logging
import re

from lxml.html import HtmlElement

from crawler.extract.citations import default_directory

logger = logging.getLogger(__name__)

_PREFIX = re.compile(
    r"^\s*(?:(by|von|par|por|di|door|av|من|بقلم)\s*[:\-]?|(quelle|source|fuente|fonte|text|texte|words)\s*:)\s+",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bو\b)\s*", re.IGNORECASE)
_SEGMENT = re.compile(r"\s*[·•|]\s*|\s+[–—]\s+")
_NOT_A_NAME = re.compile(r"\d|\b(published|updated|posted|min read|minutes? ago)\b", re.IGNORECASE)
# "Capital Von Jemima Kelly": a brand or section before the 'by' word; the name after must have 2+ words.
_BRAND_PREFIX = re.compile(r"^(?:\S+\s){1,2}(?:by|von|par|por|door|av)\s+(?=\S+\s+\S+)", re.IGNORECASE)
_NOT_A_PERSON = re.compile(
    r"^(?i:(twitter|facebook|instagram|linkedin|whatsapp|email|e-mail|share|follow|print|more)\b.*|"
    r"by|von|par|por|staff|admin|administrator|anonymous|reporter|editor|author|autor|autorin|redaktion)$|^(?!dpa$|epd$|kna$|sda$)[a-zäöüß]{1,3}$"
)
MAX_NAME_WORDS = 6  # longer 'names' are affiliations or sentences
_EMAIL = re.compile(r"\S+@\S+")
_ROLE = re.compile(
    r"\s*[,|–—-]?\s*\b(staff (writer|reporter)|correspondent|reporter|editor|contributor|"
    r"special to .*|for .*)\s*$",
    re.IGNORECASE,
)
_ROLE_SUFFIX = re.compile(r"\s*(기자|특파원|記者|特派員|编辑|記者)\s*$")
_PARENTHESES = re.compile(r"\s*[(\[][^)\]]*[)\]]")
_LAST_FIRST = re.compile(r"^\s*([^\s,]+(?:\s[^\s,]+)?),\s*([^\s,]+)\s*$")
_ORGANISATION = re.compile(r"\.(com|org|net|de|fr|uk|it|es|ch|at|nl|no|se|jp|kr|vn|in|info)\b|www\.", re.IGNORECASE)


_BYLINE_XPATH = (
    "//*[@rel='author' or contains(@itemprop, 'author') or "
    "re:test(@class, '(^|[\\s_-])(author|byline|signature|auteur|autor)([\\s_-]|$)', 'i')]"
    " | //a[re:test(@href, '/(authors?|autor|autoren|auteurs?|autore|autori|journalists?|reporters?|redakteur)/', 'i')]"
)
_NS = {"re": "http://exslt.org/regular-expressions"}


def byline_authors(tree: HtmlElement, limit: int = 5) -> list[str]:
    """Author texts from rel=author links, itemprop=author and author/byline/signature blocks."""
    found = []
    for node in tree.xpath(_BYLINE_XPATH, namespaces=_NS):
        text = re.sub(r"\s+", " ", node.text_content()).strip()
        if 2 < len(text) <= 80 and text not in found:
            found.append(text)
        if len(found) >= limit:
            break
    return found[:1]


def is_organisation(name: str, site_names: tuple[str, ...] = ()) -> bool:
    """True for the outlet's own name (or a domain-like name, or a desk named after it) posing as an author."""
    folded = name.casefold().strip()
    words = set(re.findall(r"\w+", folded))
    for site in (s.casefold().strip() for s in site_names if s):
        if folded == site or folded.replace(" ", "") == site.replace(" ", ""):
            return True
        if len(site) >= 3 and " " not in site and site in words:  # "MDR THÜRINGEN" at mdr.de
            return True
    return bool(_ORGANISATION.search(name))


def clean_authors(raw: list[str], *, site_name: str | None = None) -> list[str]:
    """Distinct person names from raw author strings; the outlet's own name only if nothing else.

    Strips 'By'-style prefixes, roles, e-mail addresses and bracketed initials; splits on 'and',
    '&', commas; turns one 'Last, First' entry into 'First Last'.
    """
    names: list[str] = []
    for value in raw:
        value = html.unescape(value or "")
        value = _PARENTHESES.sub("", _EMAIL.sub("", _PREFIX.sub("", value)))
        value = _ROLE_SUFFIX.sub("", value)
        last_first = _LAST_FIRST.match(value)
        if last_first and len(raw) > 1 or last_first and " " not in last_first.group(1):
            value = f"{last_first.group(2)} {last_first.group(1)}"
        value = next((seg for seg in _SEGMENT.split(value) if seg.strip() and not _NOT_A_NAME.search(seg)), "")
        value = _BRAND_PREFIX.sub("", value)
        for part in _SPLIT.split(value):
            part = _ROLE.sub("", _PREFIX.sub("", part)).strip(" .,:;-|")
            part = re.sub(r"\s+", " ", part)
            if not part or len(part) > 80 or len(part.split()) > MAX_NAME_WORDS or part in names:
                continue
            has_letter = any(c.isalpha() for c in part)
            if has_letter and not part.startswith(("http://", "https://")) and not _NOT_A_PERSON.match(part):
                names.append(part)
    if site_name and len(names) > 1:
        names = [n for n in names if n.casefold() != site_name.casefold()] or names
    return names


def split_authors(value: str | None) -> list[str]:
    """trafilatura's '; '-joined author string as a list."""
    return [part for part in (value or "").split(";") if part.strip()]


def choose_authors(sources: list, site_names: tuple[str, ...]) -> list[str]:
    """Authors from the first source that names any (sources may be lists or callables giving lists).

    When a source names only the outlet itself, the later sources are searched for people first.
    """
    organisation: list[str] = []
    for source in sources:
        raw = source() if callable(source) else source
        names = clean_authors(raw or [], site_name=site_names[0] if site_names else None)
        if not names:
            continue
        people = [n for n in names if not is_organisation(n, site_names)]
        if people:
            return people if organisation else names
        organisation = organisation or names
    return organisation


_NAME_LINE = re.compile(
    r"^(?:(?:by|von|par|por)\s+)?((?:[A-ZÀ-Ý][\w'’.-]+\s+){1,3}[A-ZÀ-Ý][\w'’-]+)(?:\s+(?:and|&|und|et)\s+((?:[A-ZÀ-Ý][\w'’.-]+\s+){1,3}[A-ZÀ-Ý][\w'’-]+))?\.?$",
    re.IGNORECASE,
)


def byline_paragraph(paragraphs: list[str], site_names: tuple[str, ...]) -> tuple[int, list[str]] | None:
    """A byline written as the story's first, second or last paragraph ('Mohloai Mpesi', 'By Jane Doe',
    a closing 'Lê Phương'), never a known outlet's name: its index and the names, or None."""
    known = default_directory()
    candidates = [(i, paragraphs[i]) for i in (0, 1, len(paragraphs) - 1) if 0 <= i < len(paragraphs)]
    for index, paragraph in candidates:
        match = _NAME_LINE.match(paragraph.strip())
        if not match or len(paragraph.split()) > 9:
            continue
        names = [n for n in match.groups() if n]
        if not all(word[:1].isupper() for name in names for word in name.split()):
            continue
        people = [n for n in clean_authors(names) if not is_organisation(n, site_names) and not known.name(n)]
        if people:
            return index, people
    return None
