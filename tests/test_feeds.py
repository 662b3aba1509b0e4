"""Feed building: parsed back with feedparser, order, ids, dates, sanitized content, the validator's rules."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from lxml import etree

from feeds.build import FeedEntry, FeedMeta, build_feed, summarize
from feeds.sanitize import sanitize_html, xml_safe
from storage.common.files import write_atomically
from tests.feed_rules import assert_valid_feed, feed_problems

META = FeedMeta(
    title="Test feed",
    self_url="https://feeds.example/all.rss",
    site_url="https://feeds.example/",
    description="Latest",
    feed_id="https://feeds.example/all",
    language="en",
)
HOSTILE = (
    '<p onclick="steal()">Body <a href="javascript:alert(1)">x</a> <a href="/rel">rel</a>'
    "<script>alert(1)</script><style>p{}</style><iframe src='https://evil/'></iframe>"
    '<form action="/x"><input name="q"></form><img src="/i.png" onerror="x()"></p>\x07\x1b'
)


def entries(n: int = 3) -> list[FeedEntry]:
    base = datetime(2025, 7, 24, 9, 15, tzinfo=UTC)
    return [
        FeedEntry(
            id=f"https://news.example/{i}",
            title=f"Story {i} \x0b",
            link=f"https://news.example/{i}",
            published=base - timedelta(hours=i),
            updated=base - timedelta(hours=i),
            authors=["Jane Doe", "John Roe"] if i == 0 else [],
            summary="Summary & more <b>",
            content_html=HOSTILE,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_feed_parses_back_in_order(kind):
    data = build_feed(entries(), kind, META)
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.link for e in parsed.entries] == [f"https://news.example/{i}" for i in range(3)]
    assert [e.id for e in parsed.entries] == [f"https://news.example/{i}" for i in range(3)]
    assert parsed.entries[0].title == "Story 0"
    assert parsed.entries[0].published_parsed[:5] == (2025, 7, 24, 9, 15)
    names = [a.get("name") for a in parsed.entries[0].authors]
    # RSS: one dc:creator line (newsboat shows only the last of several); Atom: an <author> each
    assert names == (["Jane Doe, John Roe"] if kind == "rss" else ["Jane Doe", "John Roe"])
    assert html.unescape(parsed.entries[0].summary) == "Summary & more <b>"  # text, escaped as HTML
    content = parsed.entries[0].content[0].value
    assert "Body" in content and "https://news.example/rel" in content
    for bad in ("<script", "onclick", "javascript:", "<iframe", "<form", "<input", "onerror", "<style"):
        assert bad not in content, bad
    links = {link.get("rel"): link.get("href") for link in parsed.feed.links}
    if kind == "atom":
        assert links["self"] == META.self_url
    assert parsed.feed.get("language", "en") == "en"


def test_rss_details_for_validators():
    root = etree.fromstring(build_feed(entries(), "rss", META))
    channel = root.find("channel")
    assert channel.findtext("link") == META.site_url  # the last link() call is RSS <link>
    atom_self = channel.find("{http://www.w3.org/2005/Atom}link")
    assert atom_self.get("rel") == "self" and atom_self.get("href") == META.self_url
    item = channel.find("item")
    assert item.findtext("pubDate") == "Thu, 24 Jul 2025 09:15:00 +0000"  # RFC 822
    assert item.find("guid").text == "https://news.example/0"
    assert item.find("{http://purl.org/rss/1.0/modules/content/}encoded") is not None
    assert item.find("author") is None  # RSS <author> must be an e-mail; names go to dc:creator
    assert [c.text for c in item.findall("{http://purl.org/dc/elements/1.1/}creator")] == ["Jane Doe, John Roe"]


def test_atom_details_for_validators():
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = etree.fromstring(build_feed(entries(), "atom", META))
    entry = root.find("a:entry", ns)
    assert entry.find("a:content", ns).get("type") == "html"
    assert entry.find("a:summary", ns) is not None  # summary did not overwrite content
    assert entry.findtext("a:published", namespaces=ns) == "2025-07-24T09:15:00+00:00"  # RFC 3339
    assert root.find("a:author/a:name", ns).text == "newswire"  # entries without authors inherit it


def test_empty_feed_is_valid():
    for kind in ("rss", "atom"):
        assert not feedparser.parse(build_feed([], kind, META)).bozo


def test_sanitize_and_xml_safe():
    clean = sanitize_html(HOSTILE, "https://news.example/story")
    assert 'href="https://news.example/rel"' in clean and 'src="https://news.example/i.png"' in clean
    assert "\x07" not in clean and "javascript" not in clean
    assert xml_safe("a\x00b\x1fc\ud800d") == "abcd"


def test_summarize_cuts_at_word_boundary():
    text = "word " * 200
    summary = summarize(text, 50)
    assert len(summary) <= 52 and summary.endswith("…") and not summary.endswith("wor …")


def test_atomic_write_leaves_no_temp_files(tmp_path):
    path = tmp_path / "sub" / "all.rss"
    write_atomically(path, b"one")
    write_atomically(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in path.parent.iterdir()] == ["all.rss"]


def test_sanitizer_output_is_xml_safe_even_from_escaped_control_characters():
    clean = sanitize_html('<p>a&#1;b&#x1b;c <a href="http://[bad/">x</a></p>', "https://news.example/")
    assert "\x01" not in clean and "\x1b" not in clean
    entry = FeedEntry(
        "https://n.example/1",
        "T",
        "https://n.example/1",
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2025, 1, 1, tzinfo=UTC),
        content_html="<p>a&#1;b</p>",
    )
    assert not feedparser.parse(build_feed([entry], "atom", META)).bozo


def test_json_feed_1_1():
    data = build_feed(entries(), "json", META)
    feed = json.loads(data)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Test feed" and feed["home_page_url"] == META.site_url
    assert feed["feed_url"] == META.self_url and feed["language"] == "en"
    assert feed["authors"] == [{"name": "newswire"}]
    assert [item["id"] for item in feed["items"]] == [f"https://news.example/{i}" for i in range(3)]
    first = feed["items"][0]
    assert first["url"] == "https://news.example/0" and first["title"] == "Story 0"
    assert first["date_published"] == "2025-07-24T09:15:00+00:00" == first["date_modified"]
    assert first["authors"] == [{"name": "Jane Doe"}, {"name": "John Roe"}]
    assert first["summary"] == "Summary & more"  # plain text, without tags: some readers render it as HTML
    assert "https://news.example/rel" in first["content_html"]
    for bad in ("<script", "onclick", "javascript:", "<iframe", "<form", "onerror", "<style", "\x07"):
        assert bad not in first["content_html"], bad
    for item in feed["items"]:
        assert set(item) <= {"id", "url", "title", "content_html", "summary", "date_published", "date_modified",
                             "authors", "tags", "image", "language"}  # fmt: skip
        assert None not in item.values()


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_hostile_entries_pass_the_validator_rules(kind):
    meta = replace(META, self_url=f"https://feeds.example/all.{kind}")
    data = build_feed(entries(), kind, meta)
    assert_valid_feed(data, self_url=meta.self_url)


def tricky_entries() -> list[FeedEntry]:
    """Entries that break validator rules unless the builder repairs them."""
    same_time = datetime(2025, 7, 24, 9, 15, tzinfo=UTC)
    return [
        FeedEntry(
            id=f"HTTPS://News.Example:443/a/./b/../{i}?q=a b|c",  # not in normal form, illegal characters
            title="<b>Bold</b> &amp;lt;i&amp;gt;claim&amp;lt;/i&amp;gt; \x85 &amp; more",
            link=f"https://news.example/{i}/عربي",
            published=same_time,
            updated=same_time,  # the same update time for every entry
            authors=["  Jane Doe ", "Jane Doe", ""],
            summary="",  # RSS needs a description before content:encoded
            content_html='<p style="color:red">Text\ufffd <a href="../up">up</a></p><object data="x"></object>',
            tags=["Libya", "<i>Weather</i>", ""],
            language="AR_eg" if i else "en",
            image="javascript:alert(1)",
        )
        for i in range(3)
    ]


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_builder_repairs_what_validators_flag(kind):
    meta = replace(META, self_url=f"https://feeds.example/all.{kind}")
    data = build_feed(tricky_entries(), kind, meta)
    assert_valid_feed(data, self_url=meta.self_url)
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.id for e in parsed.entries] == [f"https://news.example/a/{i}?q=a%20b%7Cc" for i in range(3)]
    assert parsed.entries[0].title == "Bold claim & more"
    assert parsed.entries[0].link == "https://news.example/0/%D8%B9%D8%B1%D8%A8%D9%8A"
    assert "https://news.example/up" in parsed.entries[0].content[0].value


def test_atom_entries_carry_their_own_language_and_distinct_updates():
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = etree.fromstring(build_feed(tricky_entries(), "atom", META))
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    entries_ = root.findall("a:entry", ns)
    assert [e.get("{http://www.w3.org/XML/1998/namespace}lang") for e in entries_] == [None, "ar-eg", "ar-eg"]
    updates = [e.findtext("a:updated", namespaces=ns) for e in entries_]
    assert len(set(updates)) == 3 and updates[0] == "2025-07-24T09:15:00+00:00"
    item = json.loads(build_feed(tricky_entries(), "json", META))["items"][1]
    assert item["language"] == "ar-eg" and "image" not in item and item["tags"] == ["Libya", "Weather"]


@pytest.mark.parametrize("kind", ["rss", "atom", "json"])
def test_same_entries_give_the_same_bytes(kind):
    assert build_feed(entries(), kind, META) == build_feed(entries(), kind, META)  # stable ids, stable ETags


def test_empty_feeds_pass_the_rules_with_a_plausible_date():
    meta = replace(META, updated=datetime(2025, 7, 1, tzinfo=UTC))
    for kind in ("rss", "atom"):
        data = build_feed([], kind, replace(meta, self_url=f"https://feeds.example/all.{kind}"))
        assert_valid_feed(data, self_url=f"https://feeds.example/all.{kind}")
        assert b"2025" in data
    assert json.loads(build_feed([], "json", meta))["items"] == []


def test_rules_catch_what_the_validator_flags():
    """The rule checker is not vacuous: a feed with the classic mistakes fails each rule."""
    rss = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title><link>/relative</link><description>d</description>
<item><title>A &lt;b&gt;bold&lt;/b&gt; title</title><link>http://x.example/a</link>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&lt;p onclick="x()"&gt;&lt;a
 href="/rel"&gt;r&lt;/a&gt;&lt;script&gt;1&lt;/script&gt;&lt;/p&gt;</content:encoded>
<pubDate>2025-07-24T09:15:00Z</pubDate><author>Jane Doe</author></item>
<item><guid>http://x.example/a</guid><title>B</title>
<pubDate>Mon, 24 Jul 2025 09:15:00 +0000</pubDate></item>
</channel></rss>"""
    problems = feed_problems(rss, self_url="http://x.example/feed.rss", content_type="text/html; charset=latin-1")
    rules = {problem.split(":")[0] for problem in problems}
    assert rules >= {
        "InvalidFullLink", "MissingDCLanguage", "MissingSelf", "ContainsHTML", "MissingGuid",
        "NeedDescriptionBeforeContent", "SecurityRisk", "SecurityRiskAttr", "ContainsRelRef",
        "InvalidRFC2822Date", "InvalidContact", "IncorrectDOW", "UnexpectedContentType", "EncodingMismatch",
    }  # fmt: skip
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>HTTP://X.example:80/feed</id><title>T</title>
<updated>2999-01-01T00:00:00Z</updated><link rel="self" href="http://x.example/other.atom"/>
<entry><id>http://x.example/1</id><title>E</title><updated>2025-07-24T09:15:00Z</updated></entry>
<entry><id>http://x.example/1</id><title>F</title><updated>2025-07-24T09:15:00Z</updated>
<content type="html">&lt;iframe src="http://evil.example/"&gt;&lt;/iframe&gt;</content></entry></feed>"""
    rules = {problem.split(":")[0] for problem in feed_problems(atom, self_url="http://x.example/feed.atom")}
    assert rules >= {
        "MissingDCLanguage", "NonCanonicalURI", "ImplausibleDate", "SelfDoesntMatchLocation", "SelfNotAtom",
        "DuplicateEntries", "DuplicateUpdated", "MissingElement", "MissingTextualContent",
        "MissingContentOrAlternate", "SecurityRisk",
    }  # fmt: skip


HOSTILE_LINKS = ("javascript:alert(document.domain)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
                 "vbscript:msgbox(1)", "//evil.example/x", "/relative")  # fmt: skip


@pytest.mark.parametrize("kind", ["rss", "atom", "json"])
def test_feeds_link_only_to_http_urls(kind):
    hostile = [replace(entry, link=link, id=f"https://news.example/h{n}") for n, (entry, link) in
               enumerate(zip(entries(len(HOSTILE_LINKS)), HOSTILE_LINKS, strict=True))]  # fmt: skip
    data = build_feed([*hostile, entries(1)[0]], kind, META)
    if kind == "json":
        urls = [item.get("url") for item in json.loads(data)["items"]]
        assert urls == [None] * len(HOSTILE_LINKS) + ["https://news.example/0"]
        return
    document = etree.fromstring(data)
    links = document.xpath("//item/link/text() | //*[local-name()='entry']/*[local-name()='link']/@href")
    assert links == ["https://news.example/0"]
    assert document.xpath("//item/guid[@isPermaLink='true']/text()") in ([], ["https://news.example/0"])
    parsed = feedparser.parse(data)
    assert not parsed.bozo and len(parsed.entries) == len(HOSTILE_LINKS) + 1


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_the_feed_stylesheet_links_only_http_urls(kind):
    """feed.xsl, applied as a browser would, makes a link of an http(s) item link only (whatever the feed says)."""
    from feeds.web.app import STATIC

    document = etree.fromstring(build_feed(entries(2), kind, META))
    atom = {"a": "http://www.w3.org/2005/Atom"}
    links = document.xpath(
        "//item/link" if kind == "rss" else "//a:entry/a:link[not(@rel) or @rel='alternate']", namespaces=atom
    )
    if kind == "rss":  # the first item's link made hostile past the builder's own check
        links[0].text = "javascript:alert(document.domain)"
    else:
        links[0].set("href", "javascript:alert(document.domain)")
    page = etree.XSLT(etree.parse(str(STATIC / "feed.xsl")))(document)
    assert [str(href) for href in page.xpath("//a/@href")] == ["https://news.example/1"]
    assert [li.xpath("string()").split("·")[0].strip() for li in page.xpath("//li")] == ["Story 0", "Story 1"]
