"""Feed building: parsed back with feedparser, order, ids, dates, sanitized content."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from lxml import etree

from feeds.build import FeedEntry, FeedMeta, build_feed, summarize
from feeds.sanitize import sanitize_html, xml_safe
from feeds.write import write_atomically

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
    assert {a.get("name") for a in parsed.entries[0].authors} >= {"Jane Doe"}
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
    assert [c.text for c in item.findall("{http://purl.org/dc/elements/1.1/}creator")] == ["Jane Doe", "John Roe"]


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
