"""Extraction on the news web's pages: the reference article, dates, canonical URLs, boilerplate rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.demo import pages
from crawler.demo.stories import (
    ARABIC_STORIES,
    ATOM_STORIES,
    STAND_IN_REFERENCE,
    WIRE_STORIES,
    reference_parts,
    split_reference,
)
from crawler.extract import extract_article
from crawler.extract.boilerplate import filter_paragraphs, is_junk_paragraph, strip_shortcodes
from crawler.extract.names import clean_authors
from crawler.extract.record import NOT_ARTICLE, DiscoveryHints
from crawler.extract.titles import clean_title
from tests.support.paths import require_shared

SITE = "https://ledger.example"
FETCHED = datetime(2025, 8, 1, 12, 0, tzinfo=UTC)
BOILERPLATE = (
    "Share",
    "Want to chase the pulse",
    "Subscribe to receive",
    "Leave a Reply",
    "Your email address will not be published",
    "Required fields are marked",
    "Subscribe To Our Newsletter",
    "mc4wp_form",
    "[",
    "×",
    "Post Comment",
    "Recent Posts",
    "All rights reserved",
)


def check_reference(parts) -> None:
    story = pages.reference_story(parts)
    html = pages.wordpress_article(story, SITE)
    record = extract_article(html, SITE + story.path + "?utm_source=rss", fetched_at=FETCHED)
    paragraphs = record.text.split("\n\n")
    assert paragraphs == [*parts.paragraphs, parts.source_line]
    for junk in BOILERPLATE:
        assert junk not in record.text, junk
    assert "0" not in paragraphs
    assert record.title == parts.title
    assert record.canonical_url == SITE + story.path
    assert record.published == datetime(2025, 7, 24, 9, 15, tzinfo=UTC)
    assert "<script" not in record.html and "mc4wp" not in record.html


def test_reference_article_from_shared_seed():
    path = require_shared("seed", "reference-article.txt")
    parts = split_reference(path.read_text(encoding="utf-8"))
    assert parts.source_line == "Middle East Eye, Maghrebi.org, Associated Press, Reuters"
    assert len(parts.paragraphs) >= 10
    check_reference(parts)


def test_reference_stand_in_has_same_shape():
    check_reference(STAND_IN_REFERENCE)


def test_reference_parts_falls_back_to_stand_in(tmp_path):
    assert reference_parts(None) is STAND_IN_REFERENCE
    broken = tmp_path / "ref.txt"
    broken.write_text("no share markers here", encoding="utf-8")
    assert reference_parts(broken) is STAND_IN_REFERENCE


def test_jsonld_date_becomes_utc():
    story = WIRE_STORIES[0]
    record = extract_article(pages.jsonld_article(story, SITE), SITE + story.path, fetched_at=FETCHED)
    assert record.published == datetime(2025, 7, 23, 11, 5, tzinfo=UTC)
    assert record.published_source == "json-ld"
    assert record.published_raw == "2025-07-23T14:05:00+03:00"
    assert record.authors == ["Kerem Aydin"]
    assert record.site_name == "Desert Wire"
    assert record.title == story.title
    assert "Related" not in record.text and "Sign up" not in record.text and "cookies" not in record.text


def test_arabic_date_becomes_utc():
    story = ARABIC_STORIES[0]
    record = extract_article(pages.arabic_article(story), SITE + story.path, fetched_at=FETCHED)
    assert record.language == "ar"
    assert record.published == datetime(2025, 7, 23, 14, 30, tzinfo=UTC)
    assert record.published_source == "byline"
    assert "يوليو" in record.published_raw
    assert "شارك" not in record.text


def test_byline_date_without_year_takes_year_of_fetch():
    story = ATOM_STORIES[0]
    html = pages.atom_article(story, byline_only=True)
    record = extract_article(html, SITE + story.path, fetched_at=FETCHED)
    assert record.published == datetime(2025, 7, 23, tzinfo=UTC)
    assert record.published_source == "byline"
    assert record.authors == ["Youssef Amrani"]
    # fetched in February, "July 23rd" is last year's July, never a future date
    early = extract_article(html, SITE + story.path, fetched_at=datetime(2026, 2, 1, tzinfo=UTC))
    assert early.published == datetime(2025, 7, 23, tzinfo=UTC)


def test_feed_date_supplies_time_of_day_for_day_only_page():
    story = ATOM_STORIES[0]
    html = pages.atom_article(story, byline_only=True)
    hints = DiscoveryHints(source="feed", published_raw="Wed, 23 Jul 2025 08:00:00 GMT")
    record = extract_article(html, SITE + story.path, hints=hints, fetched_at=FETCHED)
    assert record.published == datetime(2025, 7, 23, 8, 0, tzinfo=UTC)
    assert record.published_source == "feed"


def test_future_dates_rejected():
    html = (
        '<html><head><meta property="article:published_time" content="2031-01-01T00:00:00Z"></head><body>'
        + "<p>"
        + "word " * 60
        + "</p></body></html>"
    )
    record = extract_article(html, SITE + "/2025/07/20/x", fetched_at=FETCHED)
    assert record.published == datetime(2025, 7, 20, tzinfo=UTC)
    assert record.published_source in ("url", "htmldate")  # the future meta date is refused


@pytest.mark.parametrize("empty", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"])
def test_a_cms_empty_date_before_the_web_is_refused(empty):
    """JSON-LD datePublished 0001-01-01 (a CMS's empty date) was stored as the date, and then broke the
    story window's arithmetic; nothing on the web was published before the web."""
    html = (
        f'<html><head><script type="application/ld+json">{{"@type": "NewsArticle", "datePublished": "{empty}"}}'
        "</script></head><body><p>" + "word " * 60 + "</p></body></html>"
    )
    record = extract_article(html, SITE + "/2025/07/20/x", fetched_at=FETCHED)
    assert record.published == datetime(2025, 7, 20, tzinfo=UTC) and record.published_source != "json-ld"


def test_amp_page_canonical_and_cross_site_canonical_ignored():
    story = WIRE_STORIES[2]
    amp = extract_article(pages.jsonld_article(story, SITE, amp=True), SITE + "/amp" + story.path)
    assert amp.canonical_url == SITE + story.path
    hostile = (
        '<html><head><link rel="canonical" href="https://other.example/original"></head><body><p>x</p></body></html>'
    )
    record = extract_article(hostile, SITE + "/copy?utm_medium=x&id=3")
    assert record.canonical_url == SITE + "/copy?id=3"


def test_page_without_article_is_flagged():
    record = extract_article(pages.about_page(), SITE + "/about/")
    assert record.page_kind == NOT_ARTICLE


def test_broken_html_does_not_raise():
    for html in ("", "<<<>>>", "\x00\x01", "<html><body></body></html>"):
        assert extract_article(html, SITE + "/x").page_kind == NOT_ARTICLE


@pytest.mark.parametrize(
    "text",
    [
        "Share",
        "0",
        "×",
        "Leave a Reply",
        "Your email address will not be published. Required fields are marked *",
        "Subscribe To Our Newsletter",
        "Subscribe to receive our FREE weekly PDF magazine",
        '[mc4wp_form id="206"]',
        "Sign up for the daily briefing newsletter",
        "Follow us on Twitter",
    ],
)
def test_junk_paragraphs(text):
    assert is_junk_paragraph(text)


@pytest.mark.parametrize(
    "text",
    [
        "Middle East Eye, Maghrebi.org, Associated Press, Reuters",
        "Syrian officials have not yet commented.",
        "The newspaper said its subscribers had doubled since the war began, to 2 million.",
        "Share prices fell 3 percent in early trading on Monday after the announcement.",
        "Get out of the car, the officer shouted, according to witnesses.",
    ],
)
def test_story_paragraphs_kept(text):
    assert not is_junk_paragraph(text)


def test_promo_question_dropped_only_before_a_call_to_action():
    paragraphs = ["Want to chase the pulse of North Africa?", "Subscribe to receive our FREE weekly PDF magazine"]
    assert filter_paragraphs(paragraphs) == [False, False]
    story = ["What happens next?", "Officials will meet on Monday to decide."]
    assert filter_paragraphs(story) == [True, True]


def test_shortcodes_stripped_inside_text():
    assert strip_shortcodes('Before [caption id="1"]Photo[/caption] after') == "Before Photo after"


def test_authors_cleaned():
    assert clean_authors(["By Jane Doe and John Roe, Staff Writer"]) == ["Jane Doe", "John Roe"]
    assert clean_authors(["jane@example.org Jane Doe"]) == ["Jane Doe"]
    assert clean_authors(["Desert Wire", "Kerem Aydin"], site_name="Desert Wire") == ["Kerem Aydin"]
    assert clean_authors(["https://example.org/author/jane"]) == []


def test_title_cleaned():
    assert clean_title("Big\u00adstory  happens | Desert Wire", "Desert Wire") == "Bigstory happens"
    assert clean_title("Desert Wire - Big story", "Desert Wire") == "Big story"
    assert clean_title("Iran - Iraq talks resume", "Desert Wire") == "Iran - Iraq talks resume"


STORY = " ".join(["The council approved the budget after a long debate about schools and roads."] * 20)


def _page(body: str, head: str = "") -> str:
    return f"<html><head><title>Budget approved</title>{head}</head><body>{body}</body></html>"


@pytest.mark.parametrize(
    ("html", "kind"),
    [
        (_page("<h1>Just a moment...</h1><p>Checking your browser before accessing the site.</p>"), "bot-check"),
        (
            _page(
                "<div><h2>We value your privacy</h2><p>We and our partners store and/or access information "
                "on a device, such as cookies.</p><button>Accept all cookies</button></div>"
            ),
            "consent-wall",
        ),
        (
            _page(
                "<h1>Budget approved</h1><p>The council approved the budget on Monday after a debate.</p>"
                "<div class='wall'><p>Subscribe to continue reading. Already a subscriber? Log in.</p></div>"
            ),
            "paywall",
        ),
        (
            _page(
                "<h1>Budget approved</h1><p>The council approved the budget on Monday after a long debate.</p>",
                '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Budget approved", '
                '"isAccessibleForFree": "False"}</script>',
            ),
            "paywall",
        ),
        (
            _page(
                "<nav>" + "".join(f"<a href='/s/{i}'>Story number {i} headline here</a>" for i in range(40)) + "</nav>"
            ),
            "index-page",
        ),
        (
            _page(
                f"<article><h1>Budget approved</h1><p>{STORY}</p></article><div>We use cookies. Accept all cookies"
                "</div>"
            ),
            "article",
        ),
    ],
)
def test_page_kinds(html, kind):
    assert extract_article(html, "https://news.example/x").page_kind == kind


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Publié le 21 août 2023 à 18h05", "fr", datetime(2023, 8, 21, 18, 5, tzinfo=UTC)),
        ("Veröffentlicht am 12. März 2024, 09:30 Uhr", "de", datetime(2024, 3, 12, 9, 30, tzinfo=UTC)),
        ("Publicado el 5 de junio de 2024", "es", datetime(2024, 6, 5, tzinfo=UTC)),
        ("Publicado em 7 de maio de 2024", "pt", datetime(2024, 5, 7, tzinfo=UTC)),
        ("Pubblicato il 3 aprile 2024", "it", datetime(2024, 4, 3, tzinfo=UTC)),
        ("15 мая 2025, 10:20", "ru", datetime(2025, 5, 15, 10, 20, tzinfo=UTC)),
        ("20 Nisan 2025 14:05", "tr", datetime(2025, 4, 20, 14, 5, tzinfo=UTC)),
        ("23 يوليو 2025 - 14:30", "ar", datetime(2025, 7, 23, 14, 30, tzinfo=UTC)),
        ("٢٣ يوليو ٢٠٢٥", "ar", datetime(2025, 7, 23, tzinfo=UTC)),
        ("3 hours ago", "en", datetime(2025, 8, 1, 9, 0, tzinfo=UTC)),
        ("Nov. 19, 2019 5:30 PM EST", "en", datetime(2019, 11, 19, 22, 30, tzinfo=UTC)),
    ],
)
def test_byline_dates_in_many_languages(text, language, expected):
    from crawler.extract.dates import choose_date

    chosen = choose_date([("byline", text)], url="https://n.example/x", languages=[language], now=FETCHED)
    assert chosen is not None and chosen.value == expected, chosen


def test_dates_far_from_the_url_day_are_rejected():
    from crawler.extract.dates import choose_date

    raw = [("meta", "2025-07-01T10:00:00Z"), ("byline", "July 20, 2025 8:00 AM")]
    chosen = choose_date(raw, url="https://n.example/2025/07/20/story", languages=["en"], now=FETCHED)
    assert chosen.value == datetime(2025, 7, 20, 8, 0, tzinfo=UTC) and chosen.source == "byline"


def test_times_without_zone_read_in_the_outlets_zone():
    story = ARABIC_STORIES[0]  # "23 يوليو 2025 - 14:30" in the byline, no zone
    html = pages.arabic_article(story)
    record = extract_article(html, SITE + story.path, fetched_at=FETCHED, timezone="Africa/Cairo")
    assert record.published == datetime(2025, 7, 23, 11, 30, tzinfo=UTC)  # Cairo is UTC+3 in July 2025


def test_times_without_zone_read_in_the_pages_own_offset():
    from crawler.extract.dates import choose_date, page_zone

    raw = [("meta", "2025-07-23"), ("itemprop", "2025-07-22T09:00:00+02:00")]
    assert page_zone(raw).utcoffset(None).total_seconds() == 7200
    chosen = choose_date(
        [("meta", "2025-07-23")],
        url="https://n.example/x",
        languages=["en"],
        now=FETCHED,
        more=lambda: [("byline", "July 23, 2025 14:30")],
        zone=page_zone(raw),
    )
    assert chosen.value == datetime(2025, 7, 23, 12, 30, tzinfo=UTC)
    day_only = choose_date(
        [("meta", "2025-07-23")], url="https://n.example/x", languages=["en"], now=FETCHED, zone=page_zone(raw)
    )
    assert day_only.value == datetime(2025, 7, 23, tzinfo=UTC)  # a bare day is not shifted across midnight


def test_control_characters_and_impossible_dates_do_not_lose_the_page():
    html = _page(
        f"<article><h1>Budget approved</h1><p>\x1b{STORY}</p></article>",
        '<meta property="article:published_time" content="0001-01-01T00:00:00+05:00">',
    )
    record = extract_article(html, "https://news.example/x", fetched_at=FETCHED)
    assert record.page_kind == "article" and record.word_count > 100


def test_citation_search_stays_fast_on_long_capitalised_runs():
    import time

    from crawler.extract.citations import find_citations

    text = "ACCORDING TO " + " ".join(["WORD"] * 2000) + " VIA " + " ".join(["CAPS"] * 2000)
    started = time.perf_counter()
    find_citations(text, [], "https://n.example/")
    assert time.perf_counter() - started < 2.0  # was cubic: minutes
