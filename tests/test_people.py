"""Author extraction: byline forms in markup and text, cleaning, the outlet's own name, editors."""

from __future__ import annotations

import pytest
from lxml.html import fromstring

from crawler.extract import names
from crawler.extract.bylines import byline_authors, byline_naming
from crawler.extract.names import clean_authors, deslugged, is_organisation, same_person, split_authors
from crawler.extract.people import byline_paragraph, choose_authors, completed, page_authors
from crawler.extract.structured import read_structured

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
    assert completed(["Marlene Holm"], ["Ingrid Berg", "Marlene Holm"], sites) == ["Ingrid Berg", "Marlene Holm"]
    assert completed(["Marlene Holm"], ["Marlene Holm Follow"], sites) == ["Marlene Holm"]  # no second person
    assert completed(["Marlene Holm"], ["Marlene Holm", "Esta funcionalidad es sólo"], sites) == ["Marlene Holm"]
    tree = fromstring(
        page('<div class="author-name">Naufal Zuhdi</div><div class="info-author">Editor : Heryadi</div>')
    )
    assert page_authors(tree, ["Heryadi"], [], lambda: None, sites) == ["Naufal Zuhdi"]


def no_xpath() -> str | None:
    raise AssertionError("trafilatura's XPath guess was not needed here")


def test_markup_is_checked_against_the_byline_around_its_names():
    sites = ("Harbour Ledger",)
    tree = fromstring(page('<div class="byline">By Jane Doe and John Roe</div>'))
    assert byline_naming(tree, ["Jane Doe"]) == ["Jane Doe", "John Roe"]
    assert page_authors(tree, ["Jane Doe"], [], no_xpath, sites) == ["Jane Doe", "John Roe"]
    # a teaser for another story by the same writer is not this page's byline
    teaser = '<div><a href="/b">Council approves the harbour budget after a long debate</a> By Jane Doe, Max Moe</div>'
    tree = fromstring(page(f"<p>{BODY}</p>{teaser}"))
    assert byline_naming(tree, ["Jane Doe"]) == []
    assert page_authors(tree, ["Jane Doe"], [], no_xpath, sites) == ["Jane Doe"]
    assert not byline_naming(fromstring(page("")), ["Jane Doe"]).shown


def test_markup_people_the_page_shows_win():
    tree = fromstring(page('<div class="byline">By Jessica Holly</div>'))
    assert page_authors(tree, ["Kathleen Ditton"], ["Jessica Holly"], no_xpath, ("WSVN",)) == ["Jessica Holly"]


def test_fallbacks_run_only_where_they_can_change_the_answer():
    sites = ("Harbour Ledger", "harbourledger")
    calls = []

    def xpath() -> str | None:
        calls.append(1)
        return "Jane Doe"

    assert page_authors(fromstring(page('<div class="byline">By Max Moe</div>')), [], [], xpath, sites) == ["Max Moe"]
    assert page_authors(fromstring(page("")), [], [], xpath, sites) == ["Jane Doe"]
    assert page_authors(fromstring(page("")), ["Harbour Ledger"], [], xpath, sites) == ["Harbour Ledger"]
    assert calls == [1]  # only where the markup and the byline name nobody, not even the outlet


def test_handles_and_slugs_are_the_person_they_name():
    assert (
        same_person("jane-doe", "Jane Doe") and same_person("@janedoe", "Jane Doe") and same_person("jdoe", "Jane Doe")
    )
    assert not same_person("jane-roe", "Jane Doe")
    assert clean_authors(["jane-doe", "Jane Doe"]) == ["Jane Doe"]
    assert clean_authors(["aligharib", "Nikita Mazurov"]) == ["Nikita Mazurov"]  # an account, never a second author
    assert clean_authors(["Williams Perdomo @wperdomod"]) == ["Williams Perdomo"]
    assert clean_authors(["dpa", "Jane Doe"]) == ["dpa", "Jane Doe"]  # an agency is no handle
    assert deslugged("jane-doe") == "Jane Doe" and deslugged("nieuwsblad.be") == "nieuwsblad.be"
    tree = fromstring(page('<div class="byline">By Jane Doe</div>'))
    assert page_authors(tree, ["jane-doe"], [], no_xpath, ("Harbour Ledger",)) == ["Jane Doe"]
    assert page_authors(fromstring(page("")), ["jane-doe"], [], lambda: None, ("Harbour Ledger",)) == ["Jane Doe"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Jane Doe, assistant managing editor"], ["Jane Doe"]),
        (["Redakteurin Lena Fischer"], ["Lena Fischer"]),
        (["Johannes Ritter Korrespondent für Politik"], ["Johannes Ritter"]),
        (["André Klein Redakteur"], ["André Klein"]),
        (["Sina Zehrfeld, landespolitische Korrespondentin"], ["Sina Zehrfeld"]),
        (["Corresponsal"], []),
        (["Auteur"], []),
        (["Victoria O’Regan Follow"], ["Victoria O’Regan"]),
        (["Mehr von Jane Doe"], ["Jane Doe"]),
        (["Folgen"], []),
        (["Name *"], []),
        (["Jörn Mecher am"], ["Jörn Mecher"]),
        (["Daily Mail"], ["Daily Mail"]),
        (["Kari Nordmann og Ola Nordmann"], ["Kari Nordmann", "Ola Nordmann"]),
        (["Anna Berg och Erik Lund"], ["Anna Berg", "Erik Lund"]),
        (["Jan Kowalski i Anna Nowak"], ["Jan Kowalski", "Anna Nowak"]),
        (["Иван Петров и Анна Смирнова"], ["Иван Петров", "Анна Смирнова"]),
        (["Glen Owen And Brendan Carlin"], ["Glen Owen", "Brendan Carlin"]),
        (["Bruce Y. Lee"], ["Bruce Y. Lee"]),  # an initial is no 'y'
        (["Jane E. Doe"], ["Jane E. Doe"]),
        (["Jane Doe, Berlin"], ["Jane Doe"]),
        (["Markus M. Haefliger, London, Beat Bumbacher"], ["Markus M. Haefliger", "Beat Bumbacher"]),
        (["순천·광양=구현모 기자"], ["구현모"]),
        (["SID Nachrichtenagentur"], ["SID"]),
        (["© dpa-infocom"], ["dpa"]),
        (["Quelle: sid"], ["sid"]),
        (["Felix Schröder, Jörg Soldwisch, dpa"], ["Felix Schröder", "Jörg Soldwisch", "dpa"]),
        (["BR24 Redaktion"], ["BR24 Redaktion"]),
    ],
)
def test_names_as_written(raw, expected):
    assert clean_authors(raw) == expected


def test_mechanisms_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(names, "DISABLED", frozenset({names.CONJUNCTIONS, names.AGENCIES}))
    assert clean_authors(["Kari Nordmann og Ola Nordmann"]) == ["Kari Nordmann og Ola Nordmann"]
    assert clean_authors(["Quelle: sid"]) == []
    assert set(names.MECHANISMS) >= {names.SAME_PERSON, names.ROLES, names.INTERFACE, names.PLACES}


def test_a_dateline_place_is_no_person():
    tree = fromstring(page("<p>KYIV, Ukraine (AP) — Officials said the harbour would reopen on Monday.</p>"))
    assert page_authors(tree, ["Kyiv"], [], lambda: None, ("Harbour Ledger",)) == []
    assert page_authors(tree, ["Jane Doe", "Kyiv"], [], lambda: None, ("Harbour Ledger",)) == ["Jane Doe"]


def test_structured_authors_as_trafilatura_reads_them():
    graph = (
        '{"@context": "https://schema.org", "@graph": [{"@type": "Article", "author": {"@id": "#/person/1"}},'
        '{"@type": "Person", "@id": "#/person/1", "name": "Evan Symon"}]}'
    )
    persons = (
        '{"@type": "NewsArticle", "author": [{"@type": "Person", "givenName": "Birgit", "familyName": "Baumann"}]}'
    )
    webpage = '{"@type": "WebPage", "author": {"@type": "Person", "name": "Viktoria Tolstych"}}'
    for script, expected in ((graph, ["Evan Symon"]), (persons, ["Birgit Baumann"]), (webpage, ["Viktoria Tolstych"])):
        tree = fromstring(
            f'<html><head><script type="application/ld+json">{script}</script></head><body></body></html>'
        )
        assert read_structured(tree).authors == expected
    tree = fromstring('<html><head><meta name="byl" content="By Jamelle Bouie"></head><body></body></html>')
    assert read_structured(tree).meta_authors == ["By Jamelle Bouie"]


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
