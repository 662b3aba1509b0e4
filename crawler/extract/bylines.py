"""The visible byline on the page: author names read from marked nodes (rel/itemprop/class author, byline,
author links), 'By …' and 'Author: …' lines near the headline, or, when the markup already names people,
only the small blocks where the page shows them (`byline_naming`)."""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.names import (
    AUTHOR_LABEL,
    BYLINE_NEAR_MARKUP,
    EDITOR_LABEL,
    LABEL_ONLY,
    LABEL_WORD_START,
    agency,
    clean_authors,
    enabled,
    name_key,
    written_byline,
)


class Byline(list):
    """A byline's names, with the names the page labels as editors ('Editor: …') in `editors`."""

    editors: frozenset[str] = frozenset()
    shown: bool = False  # (byline_naming) whether the page's text shows any of the names looked for


def byline_authors(tree: HtmlElement, limit: int = 5) -> Byline:
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
            byline += [n for n in found if name_key(n) not in {name_key(m) for m in byline}]
    del byline[limit:]
    return byline


_CODE = frozenset({"script", "style", "noscript"})
_MAX_SHOWN = 6  # places where the page shows the markup's names that byline_naming reads around
_BYLINE_BLOCK = 500  # characters of text in one byline block (see _near)


def byline_naming(tree: HtmlElement, names: list[str], limit: int = 5) -> Byline:
    """The visible byline that shows any of `names` (the markup's authors), read only in the blocks of up to
    500 characters around the first places the page's text shows their last names: the byline the whole-page
    scan would find when it names them, at a fraction of its cost. Empty when the page shows none of them.
    """
    if not enabled(BYLINE_NEAR_MARKUP):
        return _shown(byline_authors(tree, limit))
    last_names = [w for w in dict.fromkeys(n.split()[-1].strip(".,;:()") for n in names[:3] if n.split()) if w]
    hits, headline = [], _headline(tree)
    for words in (last_names, sorted({f for w in last_names for f in (w.upper(), w.capitalize())} - set(last_names))):
        hits = _showing(tree, words, headline)
        if hits:  # the names as written, else in capitals or title case: each search costs ~0.5 ms a word
            break
    regions: dict[HtmlElement, set[HtmlElement]] = {}  # each block, and the elements in it that show a name
    for hit in hits[:_MAX_SHOWN]:
        node = hit.getparent()
        node = node.getparent() if hit.is_tail and node.getparent() is not None else node
        chain = {node}
        while node is not None and (parent := node.getparent()) is not None:
            if len(parent.text_content()) > _BYLINE_BLOCK:
                break
            node = parent
            chain.add(node)
        known = next((r for r in regions if r is node or r in node.iterancestors() or node in r.iterancestors()), None)
        if known is not None:
            regions[known] |= chain
        elif node is not None and not _teaser(node):
            regions[node] = chain
    keys = {name_key(name) for name in names}
    candidates: list[tuple[HtmlElement, list[str]]] = []
    editors: set[str] = set()
    for region, showing in regions.items():  # lines are read where they show a name, as after a headline
        in_region, labelled = _candidates(region, showing)
        candidates += in_region
        editors |= labelled
    if keys <= editors:  # the markup names the page's editors: which byline names the authors, the whole page says
        return _shown(byline_authors(tree, limit))
    anchor = next((node for node, found in candidates if keys & {name_key(n) for n in found}), None)
    byline = Byline()
    byline.shown = bool(hits)
    if anchor is None:
        return byline
    for node, found in candidates:
        if node is anchor or _near(node, anchor):
            byline += [n for n in found if name_key(n) not in {name_key(m) for m in byline}]
    del byline[limit:]
    return byline


def _shown(byline: Byline) -> Byline:
    byline.shown = True  # a whole-page scan: whether the page shows the names was not asked
    return byline


def _showing(tree: HtmlElement, words: list[str], headline: HtmlElement | None) -> list:
    """The page's text nodes that show any of `words`, those after the headline first (where byline_authors
    anchors the byline); never a script's."""
    if not words or any("'" in w and '"' in w for w in words):
        return []
    shown = " or ".join(f"contains(., {_literal(w)})" for w in words)
    texts = [t for t in tree.xpath(f"//h1//text() | //body//text()[{shown}]") if _parent_tag(t) not in _CODE]
    hits = [t for t in texts if any(w in t for w in words)]
    after = [i for i, t in enumerate(texts) if headline is not None and t.getparent() is headline]
    if after:
        later = [t for t in texts[after[-1] + 1 :] if any(w in t for w in words)]
        hits = later + [t for t in hits if t not in later]
    return hits


def _parent_tag(text) -> str:
    parent = getattr(text, "getparent", lambda: None)()
    return "script" if parent is None else str(parent.tag)  # a text without its element: not read


def _literal(word: str) -> str:
    return f'"{word}"' if "'" in word else f"'{word}'"


def opens_as_dateline(tree: HtmlElement, name: str) -> bool:
    """Whether a one-word 'name' opens one of the page's paragraphs as its dateline ('KYIV, Ukraine (AP) —',
    'Medellín.-'): a place, not a person."""
    if " " in name.strip() or len(name) < 3 or not name.isalpha() or agency(name):
        return False
    forms = {name, name.upper()} | ({name.capitalize()} if name.islower() else set())  # 'AS' is no 'As,
    opening = " or ".join(f"starts-with(normalize-space(.), {_literal(f)})" for f in forms if "'" not in f)
    for paragraph in tree.xpath(f"//body//p[{opening}]")[:3] if opening else []:
        rest = " ".join(paragraph.text_content().split())[len(name) :]
        if rest[:1] in (",", ".", "-", "–", "—", "(", "/", ":") or rest[:2] in (" -", " –", " —", " ("):
            return True
    return False


def _teaser(block: HtmlElement) -> bool:
    """A block that links another story by its headline (a link of 5+ words, or a subheading): a teaser, whose
    byline is that story's."""
    long_link = any(len(a.text_content().split()) >= 5 for a in block.iter("a"))
    return long_link or next(block.iter("h2", "h3", "h4"), None) is not None


def _shown_forms(word: str) -> set[str]:
    """A last name as a page may show it: as written, in capitals, in title case."""
    word = word.strip(".,;:()")
    return {form for form in (word, word.upper(), word.capitalize()) if len(form) >= 2} if word else set()


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
            if EDITOR_LABEL.match(line) and len(line) <= 80:
                editors |= {name_key(n) for n in clean_authors([EDITOR_LABEL.sub("", line)])}
        if node in marked:
            text = " ".join(lines)
            inner = any(found.get(d) for d in node.iterdescendants())
            names = (
                []
                if inner or len(text) > 80 or EDITOR_LABEL.match(text)
                else clean_authors([AUTHOR_LABEL.sub("", text)])
            )
        else:
            names = [n for line in lines if not EDITOR_LABEL.match(line) for n in written_byline(line)]
        found[node] = names
    ordered = [(node, names) for node, names in reversed(found.items()) if names]
    cleaned = [(node, [n for n in names if name_key(n) not in editors]) for node, names in ordered]
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
        if text[:1] in _LABEL_INITIALS and len(text) <= 100 and LABEL_WORD_START.match(text):
            parent = node.getparent()
            nodes.setdefault(parent if LABEL_ONLY.match(_text(node)) and parent is not None else node, None)
    return list(nodes), marked


def _is_marked(node: HtmlElement, css: str) -> bool:
    if node.get("rel") == "author" or "author" in (node.get("itemprop") or ""):
        return True
    if css and _MARKED_CLASS.search(css):
        return True
    return node.tag == "a" and bool(_AUTHOR_HREF.search(node.get("href") or ""))


def _text(node: HtmlElement) -> str:
    return " ".join(node.text_content().split())


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
