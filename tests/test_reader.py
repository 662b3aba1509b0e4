"""The web reader over real HTTP: story pages with every copy and what each outlet changed, outlet pages,
search (SQLite FTS5 and PostgreSQL full-text) with its filters, pagination, and hostile input kept inert."""

from __future__ import annotations

import http.client
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import lxml.html
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.common.urls import article_uid
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Article, Outlet, OutletState
from storage.repository import OutletRow, sync_outlets
from storage.search import SearchQuery, search
from tests.support.db import PG_URL
from tests.support.serving import fetch, serving
from tests.test_serve import build_db, store

WIRE = "https://wire.example/floods"


@pytest.fixture(scope="module")
def reader_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The serve tests' small database, plus an error on one outlet and 25 articles on one subject."""
    url = build_db(tmp_path_factory.mktemp("reader") / "reader.db")
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        outlet = session.scalar(select(Outlet).where(Outlet.slug == "copier-daily"))
        session.add(OutletState(outlet_id=outlet.id, last_error="HTTP 503 on https://copier.example/feed",
                                consecutive_failures=2, last_attempt_at=datetime(2025, 7, 24, tzinfo=UTC),
                                last_error_at=datetime(2025, 7, 24, tzinfo=UTC), runs_with_errors=2))  # fmt: skip
        busy = sync_outlets(session, [OutletRow("Harbour Times", "harbour-times", "https://harbour.example/", "en")])
        for n in range(25):
            when = datetime(2025, 6, 1, 8, tzinfo=UTC) + timedelta(hours=n)
            text = f"Dockworkers number {n} met the harbour master about cranes and tides in week {n} of talks."
            store(session, busy["harbour-times"], f"https://harbour.example/{n}", f"Harbour talks, day {n}", text, when)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def reader(reader_db: str):
    with serving(reader_db) as root:
        yield root


def page(url: str) -> lxml.html.HtmlElement:
    status, headers, body = fetch(url)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8", (url, status)
    document = lxml.html.fromstring(body)
    assert not document.xpath("//script | //iframe | //*[@onclick] | //*[@onerror] | //*[@onload]"), url
    return document


def test_the_index_links_every_story_to_its_page_and_pages_through(reader: str):
    first = page(reader)
    links = first.xpath("//ul[@id='stories']/li/a[@class='title']/@href")
    assert len(links) == 20 and all(re.fullmatch(re.escape(reader) + r"stories/[0-9a-f]{16}", link) for link in links)
    assert first.xpath("//a[@rel='next']/@href") == [f"{reader}?page=2"] and not first.xpath("//a[@rel='prev']")
    second = page(reader + "?page=2")
    more = second.xpath("//ul[@id='stories']/li/a[@class='title']/@href")
    assert more and not set(more) & set(links) and second.xpath("//a[@rel='prev']/@href") == [reader]
    for link in links + more:
        assert fetch(link)[0] == 200, link  # every story page resolves
    times = first.xpath("//ul[@id='stories']//time/text()")
    assert times and not any(re.match(r"\d{4}-\d{2}-\d{2}T", t) for t in times)  # readable, not ISO
    for bad in ("?page=0", "?page=x", "?page=2&x=1", "?page=%C2%B2", "?page=99999"):
        assert fetch(reader + bad)[0] == 400, bad


def test_a_story_page_shows_every_copy_the_original_and_what_each_outlet_changed(reader: str):
    story = page(reader + "stories/" + article_uid(WIRE))
    copies = story.xpath("//section[contains(@class, 'copy')]")
    assert len(copies) == 2 and "original" in copies[0].get("class")
    assert copies[0].xpath(".//h2/a/text()") == ["Wire Service"] and "original" in copies[0].text_content()
    assert "published first" in story.xpath("string(//*[@class='why'])")
    copy = copies[1]
    assert copy.xpath(".//h3[@class='diff']/ins/text()") == ["(copy)"]  # the headline the copier rewrote
    assert "headline rewritten" in copy.xpath("string(.//p[@class='changes'])")
    assert [n.xpath("string(text)") for n in story.xpath("//svg[@class='citations']//g")] == [
        "Wire Service",
        "Copier Daily",
    ]
    assert len(story.xpath("//svg[@class='timeline']/circle")) == 2
    # a copy's id: a temporary redirect (the original can change again, and back: a cached 301 would loop)
    connection = http.client.HTTPConnection(urlsplit(reader).netloc, timeout=30)
    connection.request("GET", "/stories/" + article_uid("https://copier.example/floods"))
    moved = connection.getresponse()
    assert moved.status == 302 and moved.getheader("Location") == reader + "stories/" + article_uid(WIRE)
    assert moved.getheader("Cache-Control") == "no-cache"
    connection.close()
    assert fetch(reader + "stories/0000000000000000")[0] == 404 and fetch(reader + "stories/nope")[0] == 404


def test_hostile_text_stays_text_on_every_page(reader: str):
    uid = article_uid("https://copier.example/hostile")
    for url in (reader, reader + "stories/" + uid, reader + "search?q=floods", reader + "outlets/copier-daily"):
        document = page(url)
        assert any("pwned" in t for t in document.xpath("//text()")), url
        assert not document.xpath("//a[starts-with(@href, 'javascript:')] | //object | //embed | //form[@action!='"
                                  + reader + "search']"), url  # fmt: skip


def test_arabic_is_laid_out_right_to_left(reader: str):
    index = page(reader)
    arabic = index.xpath("//ul[@id='stories']/li[@lang='ar']")
    assert len(arabic) == 1 and arabic[0].get("dir") == "rtl"
    story = page(reader + "stories/" + article_uid("https://khabar.example/port"))
    assert story.xpath("//h1/@dir") == ["rtl"] and story.xpath("//section[@lang='ar']/@dir") == ["rtl"]


def test_an_outlet_page_tells_freshness_last_error_and_articles_per_day(reader: str):
    outlet = page(reader + "outlets/copier-daily")
    assert outlet.xpath("string(//*[@id='article-count'])") == "2"
    assert (
        outlet.xpath("string(//*[@id='last-error'])")
        == "HTTP 503 on https://copier.example/feed 2025-07-24 00:00 UTC (2 crawls in a row with errors)"
    )
    bars = outlet.xpath("//svg[@class='per-day']/rect")
    assert len(bars) == 30 and sum(int(b.xpath("string(title)").split(": ")[1]) for b in bars) == 2
    busy = page(reader + "outlets/harbour-times")
    assert busy.xpath("string(//*[@id='last-error'])") == "none" and len(busy.xpath("//ul[@class='stories']/li")) == 20
    assert fetch(reader + "outlets/nobody")[0] == 404


def test_search_finds_words_with_filters_and_pages(reader: str):
    def titles(query: str) -> list[str]:
        return page(reader + "search?" + query).xpath("//ul[@id='results']/li/a/text()")

    assert set(titles("q=coastal")) == {"Floods cut coast road", "Floods cut coast road (copy)"}
    assert titles("q=coastal&outlet=copier-daily") == ["Floods cut coast road (copy)"]
    assert titles("q=" + quote("السلطات")) == ["توسعة ميناء طنجة المتوسط"]
    assert titles("q=" + quote("السلطات") + "&lang=en") == []
    assert titles("q=floods&tag=LIBYA") and set(titles("q=floods&tag=weather")) == {"Floods cut coast road"}
    assert titles("q=coastal&from=2025-07-24") == [] and len(titles("q=coastal&from=2025-07-23&to=2025-07-23")) == 2
    first, second = titles("q=dockworkers+cranes"), titles("q=dockworkers+cranes&page=2")
    assert len(first) == 20 and len(second) == 5 and first[0] == "Harbour talks, day 24"
    assert titles("q=%22tides%22+OR+NOT+x") == []  # words only: no operator reaches FTS5 (no match for "or")
    assert titles("q=tides") and titles("q=TIDES") == titles("q=tides")
    for bad in ("from=yesterday", "to=9999-12-31", "lang=%25", "page=%C2%B2"):
        assert fetch(reader + "search?q=x&" + bad)[0] == 400, bad
    empty = page(reader + "search")
    assert empty.xpath("//form[@class='search']") and not empty.xpath("//ul[@id='results']")


def test_feeds_clicked_in_a_browser_are_pages_and_readers_still_get_xml(reader: str):
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"}
    status, headers, body = fetch(reader + "feeds/all.rss", headers=browser)
    assert status == 200 and headers["Content-Type"].startswith("text/html") and "Accept" in headers["Vary"]
    assert b"paste its address into a feed reader" in body
    readers = {"Accept": "application/atom+xml,application/rdf+xml,application/rss+xml,application/xml;q=0.9,*/*;q=0.1"}
    for accept in (readers, {"Accept": "*/*"}, {}):
        status, headers, body = fetch(reader + "feeds/all.rss", headers=accept)
        assert headers["Content-Type"].startswith("application/rss+xml") and body.startswith(b"<?xml"), accept


def test_search_on_postgresql(pg_schema: str):
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{pg_schema}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    day = datetime(2025, 7, 23, tzinfo=UTC)
    with sessions.begin() as session:
        ids = sync_outlets(
            session, [OutletRow("A", "a", "https://a.example/", "en"), OutletRow("B", "b", "https://b.example/", "ar")]
        )
        store(
            session, ids["a"], "https://a.example/1", "Port reopens", "The port reopened after the storm passed.", day
        )
        store(session, ids["a"], "https://a.example/2", "Straße", "Die Straße ist gesperrt.", day)
        store(session, ids["b"], "https://b.example/1", "ميناء", "أعلنت السلطات عن اكتمال المرحلة الأولى.", day,
              language="ar")  # fmt: skip
    with Session(engine) as session:
        assert [a.title for a in search(session, SearchQuery("STORM port")).articles] == ["Port reopens"]
        assert [a.title for a in search(session, SearchQuery("straße")).articles] == ["Straße"]
        assert [a.title for a in search(session, SearchQuery("السلطات")).articles] == ["ميناء"]
        assert search(session, SearchQuery("storm", outlet_slug="b")).articles == []
        connection = session.connection()
        connection.exec_driver_sql("SET enable_seqscan = off")  # two rows: else the planner rightly scans
        plan = connection.exec_driver_sql(
            "EXPLAIN SELECT 1 FROM articles WHERE to_tsvector('simple'::regconfig, coalesce(articles.title, '') || ' ' "
            "|| coalesce(articles.text, '')) @@ plainto_tsquery('simple'::regconfig, 'storm')"
        )  # fmt: skip
        assert any("ix_articles_search" in row[0] for row in plan)  # search's expression is the index's
    engine.dispose()


def test_revised_articles_are_found_by_their_new_words(tmp_path: Path):
    """The FTS5 index follows the articles table (triggers): a revision's words are found, the old ones not."""
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    with make_session_factory(engine).begin() as session:
        outlet = sync_outlets(session, [OutletRow("A", "a", "https://a.example/", "en")])["a"]
        article = store(
            session, outlet, "https://a.example/1", "Vote", "The council delayed the vote.", datetime.now(UTC)
        )
        row = session.get(Article, article)
        row.text = "The council approved the budget."
        session.flush()
        assert [a.id for a in search(session, SearchQuery("approved")).articles] == [article]
        assert search(session, SearchQuery("delayed")).articles == []
        session.delete(row)
        session.flush()
        assert search(session, SearchQuery("approved")).articles == []
        street = store(session, outlet, "https://a.example/2", "Straße", "Die Straße ist gesperrt.", datetime.now(UTC))
        assert [a.id for a in search(session, SearchQuery("STRAßE")).articles] == [street]  # not folded to "strasse"
    engine.dispose()
