"""Citations: a hand-written set of positives and hard negatives, and the reference article."""

from __future__ import annotations

import pytest

from crawler.discovery.registry import load_registry
from crawler.discovery.resolve import outlet_directory
from crawler.extract.citations import ATTRIBUTION, DATELINE, LINK, SOURCE_LINE, find_citations
from tests.support.paths import PROJECT, require_shared

DIRECTORY = outlet_directory(load_registry(PROJECT / "sources.toml"))
PAGE = "https://news.example/2025/07/24/story/"  # a page of an outlet the directory does not know
MAGHREBI_PAGE = "https://maghrebi.org/2025/07/24/story/"

# (text, cited outlets expected). Sentences are ours, written in the styles news copy uses.
CASES: list[tuple[str, set[str]]] = [
    # attributions
    ("Turkish officials said on July 23rd, according to the Middle East Eye.", {"Middle East Eye"}),
    ("Turkey told Reuters in June that it has no intention of pulling its troops out.", {"Reuters"}),
    ("Barrack said to the Associated Press earlier this week that the US has no position.", {"Associated Press"}),
    ("Reuters reported on Monday that talks had stalled.", {"Reuters"}),
    ("The deal was first reported by Bloomberg News.", {"Bloomberg News"}),
    ("A senior official told AFP the convoy had been stopped.", {"AFP"}),
    ("According to The New York Times, the plan was drafted in March.", {"New York Times"}),
    ("The minister spoke in an interview with Al Jazeera on Sunday.", {"Al Jazeera"}),
    ("The Washington Post reported that the agency had ignored warnings.", {"Washington Post"}),
    ("As the Financial Times reported last week, the bank is cutting jobs.", {"Financial Times"}),
    ("Two diplomats confirmed the meeting to the BBC.", {"BBC"}),
    ("According to the Jerusalem Post, three soldiers were wounded.", {"Jerusalem Post"}),
    ("He told the Daily Telegraph that he would not resign.", {"Daily Telegraph"}),
    ("Officials quoted by the Times of Israel said the talks would resume.", {"Times of Israel"}),
    ("The Associated Press contributed to this report.", {"Associated Press"}),
    ("AFP contributed to this report.", {"AFP"}),
    ("Middle East Eye revealed the existence of the camp in May.", {"Middle East Eye"}),
    ("Speaking to Anadolu Agency, the governor said the fires were under control.", {"Anadolu Agency"}),
    ("The figures were published by the Wall Street Journal on Friday.", {"Wall Street Journal"}),
    ("The ministry said in a statement, according to Maghrebi.org.", {"Maghrebi.org"}),
    # datelines
    ("CAIRO (AP) — Egypt's president met Gulf leaders on Tuesday.", {"AP"}),
    ("(Reuters) - Oil prices rose on Wednesday.", {"Reuters"}),
    ("WASHINGTON, July 23 (Reuters) - The Senate passed the bill.", {"Reuters"}),
    ("PARIS (AFP) – France will send aid to Lebanon, the foreign ministry said.", {"AFP"}),
    # source lines
    (
        "Middle East Eye, Maghrebi.org, Associated Press, Reuters",
        {"Middle East Eye", "Maghrebi.org", "Associated Press", "Reuters"},
    ),
    ("Sources: Reuters, AFP", {"Reuters", "AFP"}),
    ("Source: Al Jazeera", {"Al Jazeera"}),
    # hard negatives: people, places, lone words, attributions to people or institutions
    ("According to Omer Celik, Turkey will stand by Syria.", set()),
    ("Erdogan told reporters that Israel wanted to set the region on fire.", set()),
    ("The Times are changing, he said.", set()),
    ("He told Times that he was leaving.", set()),
    ("According to the interior ministry, 40 people were arrested.", set()),
    ("Smith reported the incident to police on Monday.", set()),
    ("According to Turkish defence sources, Syria asked for help.", set()),
    ("The court heard that Reuters Street in the old town was closed.", set()),
    ("Jane Doe, John Roe", set()),
    ("Ahmed al-Sharaa told the assembly that elections would follow.", set()),
    ("Officials said, according to a statement, that the border would reopen.", set()),
    ("The reporter told the court she had been threatened.", set()),
    ("According to the World Health Organization, cases are rising.", set()),
    ("Tom Barrack, the US ambassador to Turkey, announced the ceasefire.", set()),
    ("She told Congress the budget was insufficient.", set()),
    ("The Associated Students union voted to strike.", set()),
    ("Press the button to continue.", set()),
    ("The minister explained to parliament why the plan was delayed.", set()),
    ("According to Sky News Arabia, the talks collapsed.", {"Sky News Arabia"}),
    ("The Guardian view on the crisis was published on Saturday.", set()),
    # names that run on into a title, a role or a person
    ("According to CBS Sports NFL Insider Jonathan Jones, the deal is done.", {"CBS Sports"}),
    ("The trade was first reported by CBS Sports NFL Insider Jonathan Jones.", {"CBS Sports"}),
    ("According to Middle East Eye Editor David Hearst, the camp was closed.", {"Middle East Eye"}),
    ("According to CNN's Jake Tapper, the vote failed.", {"CNN"}),
    ("NBC News Chief Foreign Correspondent Richard Engel reported that the city fell.", {"NBC News"}),
    ("She told Business Insider's Jane Doe that it was over.", {"Business Insider"}),
    ("He told Business Insider that he would retire early.", {"Business Insider"}),
    ("He told The Hollywood Reporter on Tuesday that he would return.", {"Hollywood Reporter"}),
    ("According to People's Daily, exports rose.", {"People's Daily"}),
    ("An op-ed published in the Jerusalem Post argued otherwise.", {"Jerusalem Post"}),
    # scientific journals are not news outlets
    ("A 2014 study published in the Turkish Journal of Surgery found that most patients recovered.", set()),
    ("A systematic review of research, published in the Nutrition Journal in 2023, found a link.", set()),
]


def names_found(text: str) -> set[str]:
    return {c.name for c in find_citations(text, [], PAGE, DIRECTORY)}


def test_citation_test_set_precision_and_recall():
    assert len(CASES) >= 40
    true_positives = false_positives = false_negatives = 0
    for text, expected in CASES:
        found = {n.removeprefix("the ").removeprefix("The ") for n in names_found(text)}
        true_positives += len(found & expected)
        false_positives += len(found - expected)
        false_negatives += len(expected - found)
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + false_negatives)
    assert precision >= 0.95, (precision, recall)
    assert recall >= 0.85, (precision, recall)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Middle East Eye, Maghrebi.org, Associated Press, Reuters", SOURCE_LINE),
        ("Turkey told Reuters in June that it would stay.", ATTRIBUTION),
        ("CAIRO (AP) — Egypt's president met Gulf leaders.", DATELINE),
    ],
)
def test_citation_kinds_and_evidence(text, kind):
    citations = find_citations(text, [], PAGE, DIRECTORY)
    assert citations and all(c.kind == kind for c in citations)
    assert all(c.evidence and c.evidence in text for c in citations)


def test_link_citations_only_to_other_outlets():
    links = [
        ("https://www.reuters.com/world/middle-east/story", "Reuters"),
        ("https://maghrebi.org/2025/07/20/other-story/", "earlier report"),  # the page's own site
        ("https://twitter.com/someone/status/1", "a post"),
        ("https://www.who.int/news/item/1", "WHO"),
        ("https://apnews.com/article/x", "reported"),
    ]
    citations = find_citations("Some text.", links, MAGHREBI_PAGE, DIRECTORY)
    assert [(c.name, c.kind, c.domain) for c in citations] == [
        ("Reuters", LINK, "reuters.com"),
        ("Associated Press", LINK, "apnews.com"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("According to CBS Sports NFL Insider Jonathan Jones, the deal is done.", ["CBS Sports"]),
        ("According to Middle East Eye Editor David Hearst, the camp was closed.", ["Middle East Eye"]),
        ("NBC News Chief Foreign Correspondent Richard Engel reported that the city fell.", ["NBC News"]),
        ("According to Washington Post Senior Reporter Jane Doe, the bill failed.", ["Washington Post"]),
        ("He told the BBC's Laura Kuenssberg that he would stay.", ["BBC"]),
        ("Turkish officials said on July 23rd, according to the Middle East Eye.", ["Middle East Eye"]),
        ("According to The New York Times, the plan was drafted in March.", ["New York Times"]),
        ("Officials quoted by the Times of Israel said the talks would resume.", ["Times of Israel"]),
        ("According to Sky News Arabia, the talks collapsed.", ["Sky News Arabia"]),
        ("He told The Hollywood Reporter Chief Critic Jane Doe that he liked it.", ["Hollywood Reporter"]),
    ],
)
def test_cited_name_stops_at_the_outlet(text, expected):
    assert [c.name for c in find_citations(text, [], PAGE, DIRECTORY)] == expected


LESOTHO = "China Geo told the Lesotho Times that it owes nothing."


@pytest.mark.parametrize(
    ("text", "page_url", "own_names", "expected"),
    [
        ("Sources told CNN the talks had stalled.", "https://www.cnn.com/2025/07/24/politics/x", (), set()),
        ("Sources told CNN the talks had stalled.", "https://edition.cnn.com/2025/07/24/politics/x", (), set()),
        ("Sources told CNN the talks had stalled.", PAGE, (), {"CNN"}),
        ("Sources told CNN the talks had stalled, Reuters reported.", "https://edition.cnn.com/x", (), {"Reuters"}),
        ("Raab told the BBC he would not resign.", "https://www.bbc.co.uk/news/uk-1", (), set()),
        ("Raab told the BBC he would not resign.", "https://www.bbc.com/news/uk-1", (), set()),
        ("BBC News reported that he would not resign.", "https://www.bbc.co.uk/news/uk-1", (), set()),
        ("LONDON (Reuters) - Oil prices rose on Wednesday.", "https://www.reuters.com/markets/x", (), set()),
        ("KATHMANDU, April 25 (Reuters) - Nepal said on Friday.", "https://uk.reuters.com/article/x", (), set()),
        ("CAIRO (AP) — Egypt's president met Gulf leaders.", "https://apnews.com/article/x", (), set()),
        ("CAIRO (AP) — Egypt's president met Gulf leaders.", "https://hosted.ap.org/paper/article/x", (), set()),
        ("Swift's rep told Fox News that this was not the whole truth.", "https://www.foxnews.com/x", (), set()),
        # the page's own names, on a domain the directory does not know
        (LESOTHO, "https://lestimes.com/x/", ("Lesotho Times",), set()),
        (LESOTHO, "https://lestimes.com/x/", ("LesothoTimes",), set()),
        (LESOTHO, "https://lestimes.com/x/", (), {"Lesotho Times"}),
        ("An official told AP the road was closed.", "https://mirror.example/x", ("The Associated Press",), set()),
        ("An official told AP the road was closed.", "https://mirror.example/x", ("Mirror Daily",), {"AP"}),
        ("According to Maghrebi.org, the ministry said.", PAGE, ("Maghrebi",), set()),
    ],
)
def test_an_outlet_never_cites_itself(text, page_url, own_names, expected):
    found = {c.name for c in find_citations(text, [], page_url, DIRECTORY, own_names=own_names)}
    assert found == expected


def _reference_text() -> str:
    from crawler.demo.stories import split_reference

    parts = split_reference(require_shared("seed", "reference-article.txt").read_text(encoding="utf-8"))
    return "\n\n".join([*parts.paragraphs, parts.source_line])


def test_reference_article_cites_exactly_the_four_outlets():
    citations = find_citations(_reference_text(), [], PAGE, DIRECTORY)
    resolved = {DIRECTORY.name(c.name) for c in citations}
    assert resolved == {"Middle East Eye", "Maghrebi.org", "Associated Press", "Reuters"}
    kinds = {(DIRECTORY.name(c.name), c.kind) for c in citations}
    assert ("Middle East Eye", ATTRIBUTION) in kinds and ("Reuters", ATTRIBUTION) in kinds
    assert ("Associated Press", ATTRIBUTION) in kinds and ("Maghrebi.org", SOURCE_LINE) in kinds


def test_reference_article_on_its_own_site_drops_its_own_credit():
    citations = find_citations(_reference_text(), [], MAGHREBI_PAGE, DIRECTORY, own_names=("Maghrebi.org",))
    assert {DIRECTORY.name(c.name) for c in citations} == {"Middle East Eye", "Associated Press", "Reuters"}
