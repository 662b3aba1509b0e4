"""Whose names a page's authors are: which source they come from (`page_authors`: JSON-LD, meta tags, the
visible byline, trafilatura's guess) and a byline written as a paragraph of the story (`split_byline`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lxml.html import HtmlElement

from crawler.extract.bylines import byline_authors, byline_naming, opens_as_dateline
from crawler.extract.citations import default_directory
from crawler.extract.names import (
    BYLINE_BEFORE_XPATH,
    OUTLET_CREDIT,
    PLACES,
    SAME_PERSON,
    SHOWN_MARKUP,
    XPATH_FALLBACK,
    clean_authors,
    deslugged,
    enabled,
    is_handle,
    is_organisation,
    looks_like_name,
    name_key,
    names_only,
    same_person,
    split_authors,
)


def choose_authors(sources: list, site_names: tuple[str, ...]) -> list[str]:
    """Authors from the first source that names any person (sources may be lists or callables giving lists,
    computed only when reached); the outlet's own name, from the first source giving it, if none does."""
    organisation: list[str] = []
    handles: list[str] = []  # a source naming only accounts ('jdoe'): a later one may name the person
    for source in sources:
        raw = source() if callable(source) else source
        names = clean_authors(raw or [], site_name=site_names[0] if site_names else None)
        people = [n for n in names if not is_organisation(n, site_names)]
        if people and enabled(SAME_PERSON) and all(is_handle(n) for n in people):
            handles = handles or people
        elif people:
            return people if organisation else names
        else:
            organisation = organisation or names
    return handles or organisation


def completed(chosen: list[str], byline: list[str], site_names: tuple[str, ...]) -> list[str]:
    """The visible byline's people instead of the chosen ones when it names all of them and more (markup
    listing one of two bylines), or when the chosen are those the page labels as editors ('Editor: …') and
    the byline names others; else the chosen. A person both name is written as the chosen wrote it, unless
    that is a handle ('jane-doe' in the markup, 'Jane Doe' on the page)."""
    names = clean_authors(byline, site_name=site_names[0] if site_names else None)
    people = [n for n in names if not is_organisation(n, site_names)]
    chosen_keys = {name_key(n) for n in chosen}
    shown = {c: next((p for p in people if same_person(c, p)), None) for c in chosen}
    added = [p for p in people if not any(same_person(p, c) for c in chosen)]
    if enabled(SAME_PERSON):  # a person the byline adds must read as a name ('Esta funcionalidad es sólo' does not)
        people = [p for p in people if p not in added or looks_like_name(p)]
        added = [p for p in added if looks_like_name(p)]
    edited = chosen_keys <= getattr(byline, "editors", frozenset()) and people and not any(shown.values())
    if edited or (not enabled(SAME_PERSON) and all(shown.values()) and added):
        return people
    if all(shown.values()) and added:
        return [next((c for c in chosen if same_person(c, p) and not is_handle(c)), p) for p in people]
    return [shown[c] or c if is_handle(c) else c for c in chosen] if enabled(SAME_PERSON) else chosen


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
    xpath_author: Callable[[], str | None],
    site_names: tuple[str, ...],
) -> list[str]:
    """The authors a page names: its JSON-LD, else its author meta tags, else the visible byline, else
    trafilatura's XPath guess (each computed only when the ones before name nobody but the outlet).

    Markup that names people is checked against the visible byline around where the page shows those names
    (`byline_naming`; see `completed`): the whole page is scanned only when the markup names nobody.
    """
    people = choose_authors([json_ld, meta_tags], site_names)
    if any(not is_organisation(n, site_names) and not (is_handle(n) and enabled(SAME_PERSON)) for n in people):
        byline = byline_naming(tree, people)
        if enabled(SHOWN_MARKUP) and not byline.shown and json_ld and meta_tags:  # JSON-LD's people nowhere on the page
            other = choose_authors([meta_tags], site_names)
            if other and {name_key(n) for n in other} != {name_key(n) for n in people}:
                shown = byline_naming(tree, other)
                people, byline = (other, shown) if shown.shown else (people, byline)
        people = completed(people, byline, site_names)
    elif not enabled(BYLINE_BEFORE_XPATH):  # the former order: trafilatura's guess, completed by the byline
        guess = choose_authors([people, lambda: split_authors(xpath_author())], site_names)
        if any(not is_organisation(n, site_names) for n in guess):
            people = completed(guess, byline_authors(tree), site_names)
        else:
            people = choose_authors([guess, lambda: byline_authors(tree)], site_names)
    else:
        credited = enabled(OUTLET_CREDIT) and any(is_organisation(n, site_names) for n in people)
        xpath: Callable[[], list[str]] | list[str] = []
        if enabled(XPATH_FALLBACK) and not credited:
            xpath = lambda: split_authors(xpath_author())  # noqa: E731 - computed only when reached
        people = choose_authors([people, lambda: byline_authors(tree), xpath], site_names)
    if enabled(PLACES):
        people = [n for n in people if not opens_as_dateline(tree, n)]
    return [deslugged(name) for name in people]


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
