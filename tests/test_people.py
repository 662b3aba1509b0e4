"""Author extraction: byline forms in markup and text, cleaning, the outlet's own name, editors."""

from __future__ import annotations

import pytest
from lxml.html import fromstring

from crawler.extract.people import (
    byline_authors,
    byline_paragraph,
    choose_authors,
    clean_authors,
    is_organisation,
    split_authors,
)

HEAD = "<h1>Harbour board backs breakwater rebuild after three-year dispute</h1>"
BODY = "<p>" + "The harbour authority approved a plan to rebuild the northern breakwater. " * 6 + "</p>"


def page(byline: str) -> str:
    return f"<html><body><article>{HEAD}{byline}{BODY}</article></body></html>"


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ('<div class="byline">By Jane Doe and John Roe</div>', ["Jane Doe", "John Roe"]),
        (
            '<div class="meta">By Ana Lima, Ben Okafor and Chloé Martin · Dec. 1, 2026, 10:04 AM</div>',
            ["Ana Lima", "Ben Okafor", "Chloé Martin"],
        ),
        (
            '<div class="article-meta">By Mara Quinn and Tomas Berg · Dec. 1, 2026, 10:04 AM</div>',
            ["Mara Quinn", "Tomas Berg"],
        ),
        ("<address>By Mara Quinn and Tomas Berg · Dec. 1, 2026, 10:04 AM</address>", ["Mara Quinn", "Tomas Berg"]),
        ("<div><span>Sehra Kaya |</span> <span>05.04.2026 - Updated: 05.04.2026</span></div>", ["Sehra Kaya"]),
        ("<p>Von Lena Fischer, Redakteurin</p>", ["Lena Fischer"]),
        ('<p class="signature">Par Claire Dubois</p>', ["Claire Dubois"]),
        ("<p>Por Juan Pérez en Madrid</p>", ["Juan Pérez"]),
        ('<div class="info">بقلم يوسف العمراني</div>', ["يوسف العمراني"]),
        (
            '<p>By <a rel="author" href="/people/omar">Omar Haddad</a>, Staff Writer | Updated 3 hours ago</p>',
            ["Omar Haddad"],
        ),
        ('<span itemprop="author"><span itemprop="name">Priya Nair</span></span>', ["Priya Nair"]),
        ('<div class="author">Kai Larsen, Senior Correspondent</div>', ["Kai Larsen"]),
        ("<ul><li><strong>Autorin/Autor</strong> Roman Weiss</li></ul>", ["Roman Weiss"]),
        # two byline boxes side by side are one byline
        (
            '<div class="bylines"><div class="byline"><a rel="author">Ingrid Berg</a></div>'
            '<div class="byline"><a rel="author">Marlene Holm</a></div></div>',
            ["Ingrid Berg", "Marlene Holm"],
        ),
    ],
)
def test_byline_forms(byline, expected):
    assert byline_authors(fromstring(page(byline))) == expected


def test_byline_leaves_out_editors_and_role_parts():
    tree = fromstring(
        page(
            '<div class="author-name">Naufal Zuhdi</div><div class="author-role">Reporter</div>'
            '<div class="info-author">Editor : <a class="author">Heryadi</a></div>'
        )
    )
    found = byline_authors(tree)
    assert found == ["Naufal Zuhdi"]
    assert found.editors == {"heryadi"}


def test_related_articles_authors_are_not_the_byline():
    related = "".join(f'<li><a href="/author/p{i}">Person Number{i}</a></li>' for i in range(5))
    tree = fromstring(
        page('<div class="byline">By Jane Doe</div>').replace("</article>", f"</article><ul>{related}</ul>")
    )
    assert byline_authors(tree) == ["Jane Doe"]


@pytest.mark.parametrize(
    "text",
    ["Updated 3 hours ago", "Share on Twitter", "jane@example.org", "By Tuesday, officials had agreed.", "Published"],
)
def test_lines_that_are_no_byline(text):
    assert byline_authors(fromstring(page(f'<div class="meta">{text}</div>'))) == []


def test_clean_authors_strings():
    assert clean_authors(["By Jane Doe and John Roe, Staff Writer"]) == ["Jane Doe", "John Roe"]
    assert clean_authors(["By Jane Doe · Updated 3 hours ago"]) == ["Jane Doe"]
    assert clean_authors(["Jane Doe Published Dec. 1, 2026"]) == ["Jane Doe"]
    assert clean_authors(["Von Lena Fischer, Korrespondentin"]) == ["Lena Fischer"]
    assert clean_authors(["Mathatisi Sebusi/Mohalenyane Phakela"]) == ["Mathatisi Sebusi", "Mohalenyane Phakela"]
    assert clean_authors(["jane@example.org"]) == []
    assert clean_authors(["Updated 3 hours ago"]) == []
    assert clean_authors(["Share on Twitter"]) == []
    assert clean_authors(["Doe, Jane"]) == ["Jane Doe"]
    assert clean_authors(["Kai Larsen kai larsen test"]) == ["Kai Larsen"]


def test_outlet_is_no_person_when_people_are_named():
    sites = ("Harbour Ledger", "harbourledger")
    assert choose_authors([["Harbour Ledger"], ["By Jane Doe"]], sites) == ["Jane Doe"]
    assert choose_authors([["Harbour Ledger"]], sites) == ["Harbour Ledger"]
    assert is_organisation("Ilanga D", ("Ilanga News",))
    assert is_organisation("Deutsche Welle", ("DW.COM", "dw"))
    assert not is_organisation("Jane Doe", ("Harbour Ledger", "harbourledger"))


def test_visible_byline_completes_or_replaces_structured_authors():
    sites = ("Harbour Ledger",)
    assert choose_authors([["Marlene Holm"], [], [], ["Ingrid Berg", "Marlene Holm"]], sites) == [
        "Ingrid Berg",
        "Marlene Holm",
    ]
    tree = fromstring(
        page('<div class="author-name">Naufal Zuhdi</div><div class="info-author">Editor : Heryadi</div>')
    )
    assert choose_authors([["Heryadi"], [], [], lambda: byline_authors(tree)], sites) == ["Naufal Zuhdi"]


def test_byline_paragraph():
    sites = ("Lesotho Times",)
    paragraphs = ["…as villages cry foul", "…accuse chiefs", "Mathatisi Sebusi/Mohalenyane Phakela", "A long story."]
    assert byline_paragraph(paragraphs, sites) == (2, ["Mathatisi Sebusi", "Mohalenyane Phakela"])
    assert byline_paragraph(["By Jane Doe", "Story text goes on here."], sites) == (0, ["Jane Doe"])
    assert byline_paragraph(["Lesotho Times", "Story."], sites) is None
    assert byline_paragraph(["कॉपी लिंक", "Story."], sites) is None  # no capitals to tell a name


def test_split_authors():
    assert split_authors("Jane Doe; John Roe") == ["Jane Doe", "John Roe"]
    assert split_authors(None) == []
