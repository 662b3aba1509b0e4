"""Author names: bylines split into people, prefixes, roles and e-mail addresses stripped; which source of
names a page's authors come from (`page_authors`), and a byline written as a paragraph of the story
(`split_byline`)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.citations import default_directory

_BY = r"by|von|vom|par|por|di|door|av|af|przez|من|بقلم"
_PREFIX = re.compile(
    rf"^\s*(?:(?:written\s+)?(?:{_BY})\s*[:\-]?|(quelle|source|fuente|fonte|text|texte|words)\s*:)\s+",
    re.IGNORECASE,
)
# A label naming the author ("Autorin/Autor Roman G.", "Author: Jane Doe"): a byline without a 'by'.
_LABEL_WORDS = (
    r"(?:authors?|autor(?:in|en)?(?:\s*/\s*autor(?:in)?)?|auteur(?:e|s)?|autore|autori|reporter|yazar|penulis|wartawan)"
)
_LABEL = re.compile(rf"^\s*{_LABEL_WORDS}\s*(?::\s*|\s+)(?=\S)", re.IGNORECASE)
_LABEL_WORD_START = re.compile(rf"^\s*{_LABEL_WORDS}\b", re.IGNORECASE)
_LABEL_ONLY = re.compile(rf"^\s*{_LABEL_WORDS}\s*:?\s*$", re.IGNORECASE)
# A label naming an editor: that person edited the story, so is not its author.
_EDITOR = re.compile(
    r"^\s*(?:editor|editors|edited by|redaktur|penyunting|editado por|bearbeitet von|redaktion|责编|编辑)\s*[:：]?\s*",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:,|;|&|、|(?<=\w)\s*/\s*(?=\w)|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bو\b)\s*", re.IGNORECASE)
_SEGMENT = re.compile(r"\s*[·•|]\s*|\s+[–—]\s+")
_NOT_A_NAME = re.compile(r"\d|\b(published|updated|posted|min read|minutes? ago)\b", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|januar|februar|märz|mai|juni|juli|okt|dez)[a-zé]*\.?"
# Where a byline's date or status tail begins: "Updated 3 hours ago", "on Dec. 1, 2026", "12.05.2024".
_TAIL = re.compile(
    rf"\s*(?:\b(?:updated|published|posted|last modified|aktualisiert|veröffentlicht|publié|mis à jour|publicado|"
    rf"actualizado|pubblicato|aggiornato)\b|\bon\s+(?={_MONTH}\s*\d|\d)|\b{_MONTH}\s+\d|\d{{1,4}}[./-]\d{{1,2}}|"
    r"\d{1,2}:\d{2}|\b\d+\s+(?:hours?|minutes?|mins?|days?)\s+ago\b).*$",
    re.IGNORECASE,
)
# "By TPN, in News, Business": the section or place after the name.
_PLACE_TAIL = re.compile(r",?\s+\b(?:in|im|dans|en)\s+[A-ZÀ-Ý].*$")
# "Capital Von Jemima Kelly": a brand or section before the 'by' word; the name after must have 2+ words.
_BRAND_PREFIX = re.compile(r"^(?:\S+\s){1,2}(?:by|von|par|por|door|av)\s+(?=\S+\s+\S+)", re.IGNORECASE)
_NOT_A_PERSON = re.compile(
    r"^(?i:(twitter|facebook|instagram|linkedin|whatsapp|email|e-mail|share|follow|print|more|read|view|see|all)\b.*|"
    r"by|von|par|por|staff|admin|administrator|anonymous|reporter|editor|author|autor|autorin|autoren|authors|"
    r"redaktion|news|home|article|artikel|comments?|menu|search|nachrichtenagentur|agency)$|"
    r"^(?!dpa$|epd$|kna$|sda$)[a-zäöüß]{1,3}$"
)
MAX_NAME_WORDS = 6  # longer 'names' are affiliations or sentences
MAX_AUTHOR_CHARS = 300  # an author string longer than this is no byline (and costs the patterns below)
_MARKUP = re.compile(r"<[^<>]{0,500}>")
_EMAIL = re.compile(r"\S+@\S+")
_URL = re.compile(r"https?://\S+")
_ROLE = re.compile(
    r"\s*(?:[,|–—-]\s*)?\b("
    r"(senior |chief |special |political |foreign |staff |news |contributing |online-?|leitender? )*"
    r"(staff (writer|reporter)|correspondent|reporter|editor|contributor|writer|columnist|journalist|"
    r"\w*redakteur(in)?|korrespondent(in)?|reporter(in)?|journalist(in)?|volontär(in)?|"
    r"corresponsal|periodista|redactora?|rédact(eur|rice)|journaliste|giornalista|inviato|correspondente|repórter)|"
    r"special to .*|for .*|für .*)\s*$",
    re.IGNORECASE,
)
_ROLE_SUFFIX = re.compile(r"\s*(기자|특파원|記者|特派員|编辑|記者)\s*$")
_PARENTHESES = re.compile(r"\s*[(\[][^)\]]*[)\]]")
_LAST_FIRST = re.compile(r"^\s*([^\s,]+(?:\s[^\s,]+)?),\s*([^\s,]+)\s*$")
_ORGANISATION = re.compile(r"\.(com|org|net|de|fr|uk|it|es|ch|at|nl|no|se|jp|kr|vn|in|info)\b|www\.", re.IGNORECASE)
# Lower-case words that may sit inside a person's name.
_PARTICLES = frozenset(
    re.findall(r"\w+", "van von der den de da del della di du dos das le la al el bin ibn ter ten zu af y e")
)
_NOT_NAME_WORDS = frozenset(
    [
        *re.findall(r"\w+", "monday tuesday wednesday thursday friday saturday sunday today yesterday the this that"),
        *["share", "news", "home"],
    ]
)


class Byline(list):
    """A byline's names, with the names the page labels as editors ('Editor: …') in `editors`."""

    editors: frozenset[str] = frozenset()


def byline_authors(tree: HtmlElement, limit: int = 5) -> list[str]:
    """Author names from the page's byline: marked nodes (rel/itemprop/class author, byline, author links),
    then 'By …', 'Author: …' and 'Name | date' lines in meta blocks, <address> or short blocks near the headline.

    The byline is the candidate nearest after the headline (else the first); candidates sharing a small
    container with it (several bylines side by side) join it. Names labelled as editors are left out.
    """
    near = set(_after_headline(tree))  # computed once: it walks the headline's following nodes
    candidates, editors = _candidates(tree, near)
    byline = Byline()
    byline.editors = frozenset(editors)
    if not candidates:
        return byline
    anchor = _anchor(candidates, near)
    for node, found in candidates:
        if node is anchor or _near(node, anchor):
            byline += [n for n in found if _key(n) not in {_key(m) for m in byline}]
    del byline[limit:]
    return byline


# What marks a node as naming the author (class tokens, author-page links), and the plain blocks a byline
# may stand in unmarked. Tested in Python while walking the tree once: EXSLT regular expressions in XPath
# cost ~4x as much.
_MARKED_CLASS = re.compile(r"(^|[\s_-])(author|authors|byline|bylines|signature|auteur|autor|autore)([\s_-]|$)", re.I)
_AUTHOR_HREF = re.compile(r"/(authors?|autor|autoren|auteurs?|autore|autori|journalists?|reporters?|redakteur)/", re.I)
_HINT_CLASS = re.compile(r"auth|byline|signature|auteur|autor|meta|info|detail|credit|dateline", re.I)  # cheap pre-test
_LABEL_INITIALS = frozenset("AaRrYyPpWw")  # author/autor/auteur, reporter, yazar, penulis, wartawan


_PLAIN_CLASS = re.compile(r"(^|[\s_-])(meta|metadata|info|details|credits?|dateline|byline)([\s_-]|$)", re.I)
_SKIP = frozenset({"script", "style", "noscript", "svg", "button", "select", "option", "form", "figure"})
_BLOCK = frozenset(
    [
        *re.findall(r"\w+", "div p li ul ol dl dt dd address section header footer br h1 h2 h3 h4 h5 h6 tr td th"),
        *["table", "article", "aside", "nav", "blockquote", "figcaption"],
    ]
)
_MARKED_SPAN = 200  # a marked node with more text is a page part (body class 'single-author', an author box)
_NEAR_HEADLINE = 60  # elements after the headline that may hold its byline


# A class naming a part of the byline box (the author's role, place, photo), not the name itself.
_PART_CLASS = re.compile(
    r"(author|byline)s?[_-]*(position|role|title|function|type|location|place|date|time|bio|description|image|"
    r"avatar|photo|img|pic|label|prefix|social|twitter|email|job|chip|follow|more|count|brand|source)",
    re.IGNORECASE,
)


def _part_of_byline(node: HtmlElement) -> bool:
    """True for a node marked only by a class such as 'author__role' or 'byline-date'."""
    if node.get("rel") == "author" or "author" in (node.get("itemprop") or ""):
        return False
    return bool(_PART_CLASS.search(node.get("class") or ""))


def _candidates(tree: HtmlElement, near: set[HtmlElement]) -> tuple[list[tuple[HtmlElement, list[str]]], set[str]]:
    """(node, names) for each byline-like node, in document order, editors' names removed; and those names.

    A marked node is read whole (its names and separators are one byline), unless marked nodes inside it
    name people: then those are the bylines (two 'byline' boxes in one container).
    """
    nodes, marked = _scan(tree, near)
    editors: set[str] = set()
    found: dict[HtmlElement, list[str]] = {}
    for node in reversed(nodes):  # inner nodes first
        if len(_text(node)) > (_MARKED_SPAN if node in marked else 300):
            continue
        lines = _lines(node)
        for line in lines:
            if _EDITOR.match(line) and len(line) <= 80:
                editors |= {_key(n) for n in clean_authors([_EDITOR.sub("", line)])}
        if node in marked:
            text = " ".join(lines)
            inner = any(found.get(d) for d in node.iterdescendants())
            names = [] if inner or len(text) > 80 or _EDITOR.match(text) else clean_authors([_LABEL.sub("", text)])
        else:
            names = [n for line in lines if not _EDITOR.match(line) for n in _written_byline(line)]
        found[node] = names
    ordered = [(node, names) for node, names in reversed(found.items()) if names]
    cleaned = [(node, [n for n in names if _key(n) not in editors]) for node, names in ordered]
    return [(node, names) for node, names in cleaned if names], editors


def _scan(tree: HtmlElement, near: set[HtmlElement]) -> tuple[list[HtmlElement], set[HtmlElement]]:
    """Byline-like nodes in document order, and which of them are marked as naming the author.

    Marked: rel=author, itemprop=author, an author/byline class token, a link to an author page (not a
    node naming only a part of the byline box). Plain: <address>, meta/info/credits blocks, the headline's
    neighbours, and elements whose text opens with an author label ('Author: Jane Doe'; a label alone in
    its element, '<li><b>Autor</b> Jane Doe</li>', stands for its parent). `near`: the headline's neighbours.
    """
    nodes: dict[HtmlElement, None] = {}
    marked: set[HtmlElement] = set()
    for node in tree.iter(etree.Element):
        css = node.get("class") or ""
        if css and not _HINT_CLASS.search(css):
            css = ""  # no class token of interest: spare the precise patterns
        if _is_marked(node, css) and not _part_of_byline(node):
            marked.add(node)
            nodes.setdefault(node, None)
        if node.tag == "address" or node in near or (css and _PLAIN_CLASS.search(css)):
            nodes.setdefault(node, None)
        text = (node.text or "").lstrip()
        if text[:1] in _LABEL_INITIALS and len(text) <= 100 and _LABEL_WORD_START.match(text):
            parent = node.getparent()
            nodes.setdefault(parent if _LABEL_ONLY.match(_text(node)) and parent is not None else node, None)
    return list(nodes), marked


def _is_marked(node: HtmlElement, css: str) -> bool:
    if node.get("rel") == "author" or "author" in (node.get("itemprop") or ""):
        return True
    if css and _MARKED_CLASS.search(css):
        return True
    return node.tag == "a" and bool(_AUTHOR_HREF.search(node.get("href") or ""))


def _text(node: HtmlElement) -> str:
    return " ".join(node.text_content().split())


def _written_byline(line: str) -> list[str]:
    """Names from a visible, unmarked line: 'By A and B · date', 'Author: A', or 'First Last | date'."""
    if len(line) > 160:
        return []
    if _PREFIX.match(line) or _LABEL.match(line):
        return names_only(_LABEL.sub("", line), min_words=1)
    head, *rest = _SEGMENT.split(line, maxsplit=1)
    if rest and _TAIL.match(rest[0]):  # "Sehernur Karsu | 05.04.2025"
        return names_only(head, min_words=2)
    return []


def names_only(text: str, *, min_words: int = 2, caseless: bool = True) -> list[str]:
    """The names of a text that is nothing but a byline (prefix, names, role, date tail), else []."""
    text = _SEGMENT.split(_TAIL.sub("", _PREFIX.sub("", text.strip())), maxsplit=1)[0]
    text = _ROLE.sub("", _PLACE_TAIL.sub("", text))
    parts = [p.strip(" .,:;-") for p in _SPLIT.split(text)]
    parts = [_ROLE.sub("", p).strip(" .,:;-") for p in parts if p.strip(" .,:;-")]
    if len(parts) > 1:  # "Von Anna Sleegers, Frankfurt": one word beside full names is a place or desk
        parts = [p for p in parts if len(p.split()) > 1] or parts
    if not parts or not all(looks_like_name(p, min_words=min_words, caseless=caseless) for p in parts):
        return []
    return clean_authors(parts)


def looks_like_name(text: str, *, min_words: int = 2, caseless: bool = True) -> bool:
    """A capitalised run of 1-5 words ('Jane van Doe', 'TPN'), or (`caseless`) a short name in a script
    without case, where capitals cannot tell a name from a phrase."""
    words = text.split()
    if not min_words <= len(words) <= 5 or any(w.casefold() in _NOT_NAME_WORDS for w in words):
        return False
    letters = [c for c in text if c.isalpha()]
    if letters and not any(c.isupper() or c.islower() for c in letters):
        return caseless and len(text) <= 40  # Arabic, CJK: no capitals to check
    first = words[0][:1]
    return first.isupper() and all(w[:1].isupper() or w in _PARTICLES for w in words) and not _NOT_A_NAME.search(text)


def _lines(node: HtmlElement) -> list[str]:
    """The node's visible text as lines: block elements and <br> break lines (the source's own line breaks
    do not); scripts, buttons, forms skipped."""
    parts: list[str] = []

    def walk(element: HtmlElement) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag not in _SKIP and tag:
            edge = "\n" if tag in _BLOCK else " "  # "<span>Jane Doe</span><span>Reporter</span>" is two words
            parts.extend((edge, _spaced(element.text)))
            for child in element:
                walk(child)
            parts.append(edge)
        if element is not node:
            parts.append(_spaced(element.tail))

    walk(node)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return [line for line in lines if line]


def _spaced(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "")


def _headline(tree: HtmlElement) -> HtmlElement | None:
    """The page's headline: its longest <h1> (logos are often short h1s too)."""
    headings = [(len(h.text_content().strip()), h) for h in tree.iter("h1") if len(h.text_content().strip()) <= 300]
    return max(headings, key=lambda pair: pair[0])[1] if headings else None


def _after_headline(tree: HtmlElement) -> list[HtmlElement]:
    """Short elements right after the headline, where a byline usually stands."""
    headline = _headline(tree)
    if headline is None:
        return []
    return [e for e in headline.xpath(f"following::*[position() <= {_NEAR_HEADLINE}]") if e.tag not in _SKIP]


def _anchor(candidates: list[tuple[HtmlElement, list[str]]], near: set[HtmlElement]) -> HtmlElement:
    """The candidate nearest after the headline; the first one when there is no headline or none follows it."""
    return next((node for node, _ in candidates if node in near), candidates[0][0])


def _near(node: HtmlElement, anchor: HtmlElement, span: int = 500) -> bool:
    """True when the two nodes share a container of at most `span` characters (one byline block)."""
    ancestors = {anchor, *anchor.iterancestors()}  # elements, not id()s: lxml proxies come and go
    for parent in [node, *node.iterancestors()]:
        if parent in ancestors:
            return len(parent.text_content()) <= span
    return False


def _key(name: str) -> str:
    """A name as compared: case-folded, accents and dots dropped."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return " ".join(plain.casefold().replace(".", " ").split())


def is_organisation(name: str, site_names: tuple[str, ...] = ()) -> bool:
    """True for the outlet's own name (or a domain-like name, or a desk named after it) posing as an author."""
    folded = name.casefold().strip()
    words = re.findall(r"\w+", folded)
    for site in (s.casefold().strip() for s in site_names if s):
        if folded == site or folded.replace(" ", "") == site.replace(" ", ""):
            return True
        if len(site) >= 3 and " " not in site and site in words:  # "MDR THÜRINGEN" at mdr.de
            return True
        if len(words) >= 2 and "".join(w[0] for w in words) == site.split(".")[0]:  # "Deutsche Welle" at DW.COM
            return True
        site_words = set(re.findall(r"\w+", site))
        # "Ilanga D" at Ilanga News: the outlet's own words plus initials, a house account
        if any(w in site_words and len(w) >= 3 for w in words) and all(w in site_words or len(w) == 1 for w in words):
            return True
    return bool(_ORGANISATION.search(name))


def _segment(value: str) -> str:
    """The first '|'/'·'-separated segment of a byline that is a name, date and status tails cut off."""
    for segment in _SEGMENT.split(value):
        segment = _TAIL.sub("", segment) if not _TAIL.match(segment) else ""
        if segment.strip() and not _NOT_A_NAME.search(segment):
            return _PLACE_TAIL.sub("", segment)
    return ""


def clean_authors(raw: list[str], *, site_name: str | None = None) -> list[str]:
    """Distinct person names from raw author strings; the outlet's own name only if nothing else.

    Strips 'By'-style prefixes, roles, e-mail addresses, URLs, dates and bracketed initials; splits on 'and',
    '&', commas, slashes; turns one 'Last, First' entry into 'First Last'.
    """
    names: list[str] = []
    for value in raw:
        # one line, no markup, bounded: hostile author strings must not reach the patterns below whole
        value = " ".join(_MARKUP.sub(" ", html.unescape(value or "")).split())[:MAX_AUTHOR_CHARS]
        value = _PARENTHESES.sub("", _URL.sub("", _EMAIL.sub("", _PREFIX.sub("", value))))
        value = _ROLE_SUFFIX.sub("", value)
        last_first = _LAST_FIRST.match(value)
        if (last_first and len(raw) > 1) or (last_first and " " not in last_first.group(1)):
            value = f"{last_first.group(2)} {last_first.group(1)}"
        value = _BRAND_PREFIX.sub("", _segment(value))
        for part in _SPLIT.split(value):
            part = _ROLE.sub("", _PREFIX.sub("", part)).strip(" .,:;-|")
            part = _trim_lowercase_tail(re.sub(r"\s+", " ", part))
            if not part or len(part) > 80 or len(part.split()) > MAX_NAME_WORDS or part in names:
                continue
            if any(c.isalpha() for c in part) and not _NOT_A_PERSON.match(part):
                names.append(part)
    if site_name and len(names) > 1:
        names = [n for n in names if n.casefold() != site_name.casefold()] or names
    return names


def _trim_lowercase_tail(name: str) -> str:
    """'Kai Larsen kai larsen test' (an e-mail address flattened into words) → 'Kai Larsen'."""
    words = name.split()
    cut = next((i for i, w in enumerate(words) if i and w[:1].islower() and w not in _PARTICLES), len(words))
    head, tail = words[:cut], words[cut:]
    # only when the tail spells the name again: a sentence's lower-case words are no address
    if head and head[0][:1].isupper() and {w.casefold() for w in head} & set(tail):
        return " ".join(head)
    return name


def split_authors(value: str | None) -> list[str]:
    """trafilatura's '; '-joined author string as a list."""
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def choose_authors(sources: list, site_names: tuple[str, ...]) -> list[str]:
    """Authors from the first source that names any (sources may be lists or callables giving lists).

    When a source names only the outlet itself, the later sources are searched for people first. When the
    last source (the visible byline) names all of the chosen people and more (markup listing one of two
    bylines), it is taken; sources between are not computed then (they may be costly). So it is when the
    chosen people are those the page labels as editors and the visible byline names others.
    """
    organisation: list[str] = []
    chosen: list[str] = []
    for index, source in enumerate(sources):
        if chosen and index < len(sources) - 1:
            continue
        raw = source() if callable(source) else source
        names = clean_authors(raw or [], site_name=site_names[0] if site_names else None)
        people = [n for n in names if not is_organisation(n, site_names)]
        if chosen:
            chosen_keys, byline_keys = {_key(n) for n in chosen}, {_key(n) for n in people}
            edited = chosen_keys <= getattr(raw, "editors", frozenset()) and people and not chosen_keys & byline_keys
            if chosen_keys < byline_keys or edited:
                chosen = people
            continue
        if people:
            chosen = people if organisation else names
        elif names:
            organisation = organisation or names
    return chosen or organisation


def byline_paragraph(paragraphs: list[str], site_names: tuple[str, ...]) -> tuple[int, list[str]] | None:
    """A byline written as one of the story's first three paragraphs or its last ('Mohloai Mpesi',
    'By Jane Doe', 'A Sebusi/B Phakela', a closing 'Lê Phương'), never a known outlet's name: its index and
    the names, or None."""
    known = default_directory()
    indices = dict.fromkeys(i for i in (0, 1, 2, len(paragraphs) - 1) if 0 <= i < len(paragraphs))
    for index in indices:
        paragraph = paragraphs[index].strip()
        if len(paragraph.split()) > 9:
            continue
        # story text in a script without capitals cannot be told from a name: only cased scripts here
        names = names_only(paragraph.rstrip("."), min_words=2, caseless=False)
        people = [n for n in names if not is_organisation(n, site_names) and not known.name(n)]
        if people and len(people) == len(names):
            return index, people
    return None


def page_authors(
    tree: HtmlElement,
    json_ld: list[str],
    meta_tags: list[str],
    trafilatura_author: Callable[[], str | None],
    site_names: tuple[str, ...],
) -> list[str]:
    """The authors a page's markup names: its JSON-LD, its author meta tags, trafilatura's guess, then the
    visible byline (see choose_authors for how one source is chosen over another)."""
    sources = [json_ld, meta_tags, lambda: split_authors(trafilatura_author()), lambda: byline_authors(tree)]
    return choose_authors(sources, site_names)


def split_byline(
    paragraphs: Sequence[str], markup: list[str], site_names: tuple[str, ...]
) -> tuple[tuple[str, ...], list[str]]:
    """The story's paragraphs without a byline paragraph, and the people that paragraph names (byline_paragraph);
    only when the markup names no person (nobody, or only the outlet itself)."""
    paragraphs = tuple(paragraphs)
    if any(not is_organisation(name, site_names) for name in markup):
        return paragraphs, []
    found = byline_paragraph(list(paragraphs), site_names)
    if not found:
        return paragraphs, []
    index, names = found
    return paragraphs[:index] + paragraphs[index + 1 :], names
