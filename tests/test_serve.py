"""The feed server over real HTTP on loopback: caching, gzip, errors, the index page, and real feed readers.

Two databases: a copy of the crawl of the local news web (`first_crawl`), read by feedparser and newsboat and
checked against the validator's rules; and a small one written here through the repository, with a hostile
article (script in the title and the body), tags in several cases and scripts, and one story at two outlets.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote

import feedparser
import lxml.html
import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from feeds.ids import feed_id, story_item_id
from feeds.web.app import make_app
from feeds.web.caching import CACHE_CONTROL
from storage.db import make_engine, make_session_factory
from storage.models import Article, Outlet, Story
from storage.repository import OutletRow, sync_outlets
from storage.stories import assign_story, load_index
from tests.feed_rules import assert_valid_feed
from tests.support.articles import store_article
from tests.support.newsweb import Crawl
from tests.support.serving import copy_database, fetch, newsboat, newsboat_items, serving

TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
ATOM = {"a": "http://www.w3.org/2005/Atom"}
HOSTILE_TITLE = '<script>alert("pwned")</script> Floods & <b>"quotes"</b>\x07'
HOSTILE_HTML = (
    '<p onclick="steal()">Floods hit the coast. <a href="/rel">rel</a> <a href="javascript:alert(1)">js</a>'
    "<script>alert(1)</script><iframe src='https://evil.example/'></iframe><form action='/x'><input name='q'>"
    '</form><img src="img.png" onerror="x()"><object data="x.swf"></object><embed src="x.swf"><style>p{}</style></p>'
)
WIRE_TEXT = "Floods cut the coastal road on Tuesday, officials said, and families left their homes."
ARTICLES = [  # outlet, URL, title, text, hours after the first, other columns
    ("wire-service", "https://wire.example/floods", "Floods cut coast road", WIRE_TEXT, 0,
     {"tags": ["Libya", "Weather"], "image": "https://wire.example/img/floods.png"}),
    ("copier-daily", "https://copier.example/floods", "Floods cut coast road (copy)", WIRE_TEXT, 2,
     {"tags": ["libya"]}),
    ("copier-daily", "https://copier.example/hostile", HOSTILE_TITLE, "Floods hit the coast and more.", 3,
     {"html": HOSTILE_HTML, "tags": ["LIBYA "]}),
    ("al-khabar", "https://khabar.example/port", "توسعة ميناء طنجة المتوسط",
     "أعلنت السلطات عن اكتمال المرحلة الأولى.", 4, {"language": "ar", "tags": ["اقتصاد"]}),
]  # fmt: skip


def store(session: Session, outlet_id: int, url: str, title: str, text: str, published: datetime, **extra) -> int:
    """An article fetched an hour after it was published, by "Desk", in English unless `extra` says
    otherwise, put in its story."""
    columns = {"title": title, "published": published, "fetched_at": published + timedelta(hours=1),
               "authors": ["Desk"], "language": "en", "tags": []} | extra  # fmt: skip
    article = store_article(session, outlet_id, url, text, **columns)
    assign_story(session, article, load_index(session, 0.5))
    return article.id


def build_db(path: Path) -> str:
    """A small database: a story at two outlets, a hostile article, an Arabic article; tags in mixed case."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    day = datetime(2025, 7, 23, 9, 0, tzinfo=UTC)
    with make_session_factory(engine).begin() as session:
        outlets = [
            OutletRow("Wire Service", "wire-service", "https://wire.example/", "en"),
            OutletRow("Copier Daily", "copier-daily", "https://copier.example/", "en"),
            OutletRow("Al Khabar", "al-khabar", "https://khabar.example/", "ar"),
        ]
        ids = sync_outlets(session, outlets)
        for slug, url_, title, text, hours, extra in ARTICLES:
            store(session, ids[slug], url_, title, text, day + timedelta(hours=hours), **extra)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_db(tmp_path_factory.mktemp("serve") / "small.db")


@pytest.fixture(scope="module")
def small_site(small_db: str) -> Iterator[str]:
    with serving(small_db) as root:
        yield root


@pytest.fixture(scope="module")
def crawl_db(first_crawl: Crawl, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the crawled database (the crawl's own file stays as the other tests expect it)."""
    return copy_database(first_crawl.db_path, tmp_path_factory.mktemp("served-crawl") / "newswire.db")


@pytest.fixture(scope="module")
def crawl_site(crawl_db: str) -> Iterator[str]:
    with serving(crawl_db) as root:
        yield root


@pytest.fixture(scope="module")
def crawl_rows(crawl_db: str) -> dict:
    """What the database says the feeds hold: each outlet's articles and each story's original."""
    engine = make_engine(crawl_db)
    with Session(engine) as session:
        articles = session.scalars(select(Article)).all()
        stories = session.scalars(select(Story)).all()
        slugs = {o.id: o.slug for o in session.scalars(select(Outlet))}
        rows = {
            "outlets": {slug: [a for a in articles if slugs[a.outlet_id] == slug] for slug in slugs.values()},
            "originals": {s.id: next(a for a in articles if a.id == s.original_article_id) for s in stories},
        }
    engine.dispose()
    assert len(articles) >= 10 and rows["originals"], "the crawl stored the news web's articles"
    return rows


def feed_paths(rows: dict) -> list[str]:
    return ["feeds/all", *(f"feeds/outlet/{slug}" for slug in rows["outlets"])]


def published(article: Article) -> datetime:
    return article.published or article.fetched_at


def test_feeds_have_content_types_and_cache_headers(crawl_site, crawl_rows):
    for path in feed_paths(crawl_rows):
        for kind, media_type in TYPES.items():
            status, headers, body = fetch(f"{crawl_site}{path}.{kind}")
            assert status == 200, path
            assert headers["Content-Type"] == media_type
            assert headers["Cache-Control"] == CACHE_CONTROL == "public, max-age=300"
            assert headers["Vary"] == "Accept, Accept-Encoding"
            assert headers["ETag"].startswith('"') and headers["ETag"].endswith('"')  # strong
            assert int(headers["Content-Length"]) == len(body)
            if kind == "atom":  # Last-Modified is the newest item's time
                updated = etree.fromstring(body).findtext("a:updated", namespaces=ATOM)
                newest = datetime.fromisoformat(updated).replace(microsecond=0)
                assert parsedate_to_datetime(headers["Last-Modified"]) == newest


def test_conditional_get(crawl_site):
    url = crawl_site + "feeds/all.rss"
    status, headers, body = fetch(url)
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and body
    for condition in ({"If-None-Match": etag}, {"If-None-Match": f'W/{etag}, "other"'}, {"If-None-Match": "*"}):
        status, headers304, body304 = fetch(url, headers=condition)
        assert (status, body304) == (304, b""), condition
        assert headers304["ETag"] == etag and headers304["Cache-Control"] == CACHE_CONTROL
    assert fetch(url, headers={"If-None-Match": '"stale"'})[0] == 200
    assert fetch(url, headers={"If-Modified-Since": last_modified})[0] == 304
    later = format_datetime(parsedate_to_datetime(last_modified) + timedelta(days=1), usegmt=True)
    assert fetch(url, headers={"If-Modified-Since": later})[0] == 304
    earlier = format_datetime(parsedate_to_datetime(last_modified) - timedelta(seconds=1), usegmt=True)
    assert fetch(url, headers={"If-Modified-Since": earlier})[0] == 200
    # If-None-Match wins over If-Modified-Since
    assert fetch(url, headers={"If-None-Match": '"stale"', "If-Modified-Since": later})[0] == 200
    assert fetch(url)[1]["ETag"] == etag  # the same content, the same ETag


def test_changed_content_gets_a_new_etag(tmp_path):
    url = build_db(tmp_path / "changing.db")
    with serving(url) as root:
        status, headers, _body = fetch(root + "feeds/all.atom")
        etag, last_modified = headers["ETag"], headers["Last-Modified"]
        engine = make_engine(url)
        with make_session_factory(engine).begin() as session:
            outlet_id = session.scalar(select(Outlet.id).where(Outlet.slug == "wire-service"))
            newer = datetime(2025, 7, 25, tzinfo=UTC)
            store(session, outlet_id, "https://wire.example/new", "A newer story", "Something else happened.", newer)
        engine.dispose()
        status, headers, body = fetch(root + "feeds/all.atom", headers={"If-None-Match": etag})
        assert status == 200 and headers["ETag"] != etag and b"A newer story" in body
        assert parsedate_to_datetime(headers["Last-Modified"]) > parsedate_to_datetime(last_modified)
        assert fetch(root + "feeds/all.atom", headers={"If-Modified-Since": last_modified})[0] == 200
        assert fetch(root + "feeds/outlet/wire-service.json", headers={"If-None-Match": etag})[0] == 200


def test_gzip_when_asked(crawl_site):
    url = crawl_site + "feeds/all.atom"
    _status, plain_headers, plain = fetch(url)
    status, headers, body = fetch(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == plain and len(body) < len(plain)
    assert headers["ETag"] != plain_headers["ETag"]  # another representation, another strong ETag
    assert headers["Content-Type"] == TYPES["atom"] and headers["Vary"] == "Accept, Accept-Encoding"
    assert fetch(url, headers={"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]})[0] == 304
    assert fetch(url, headers={"If-None-Match": headers["ETag"]})[0] == 304  # same content, identity asked
    for refused in ("gzip;q=0", "identity", "br", "*;q=0"):
        assert "Content-Encoding" not in fetch(url, headers={"Accept-Encoding": refused})[1], refused
    assert fetch(url, headers={"Accept-Encoding": "*"})[1]["Content-Encoding"] == "gzip"


def test_head_sends_the_headers_of_get(crawl_site):
    for path in ("feeds/all.json", "feeds/all.rss", ""):
        _status, get_headers, body = fetch(crawl_site + path)
        status, headers, head_body = fetch(crawl_site + path, method="HEAD")
        assert status == 200 and head_body == b""
        assert int(headers["Content-Length"]) == len(body)
        for name in ("Content-Type", "ETag", "Last-Modified", "Cache-Control"):
            assert headers[name] == get_headers[name], name


def test_unknown_paths_and_methods(crawl_site):
    for path in ("feeds/outlet/no-such-outlet.rss", "feeds/tag/no-such-tag.atom", "feeds/all.xml", "feeds/",
                 "feeds/outlet/.rss", "robots.txt", "feeds/all.rss/x"):  # fmt: skip
        assert fetch(crawl_site + path)[0] == 404, path
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _body = fetch(crawl_site + "feeds/all.rss", method=method)
        assert status == 405 and headers["Allow"] == "GET, HEAD", method
    assert fetch(crawl_site, method="POST")[0] == 405


def test_served_feeds_pass_the_validator_rules(crawl_site, crawl_rows, small_site):
    paths = [(crawl_site, p) for p in feed_paths(crawl_rows)]
    paths += [(small_site, p) for p in ("feeds/all", "feeds/outlet/copier-daily", "feeds/tag/libya")]
    for root, path in paths:
        for kind in ("rss", "atom"):
            url = f"{root}{path}.{kind}"
            _status, headers, body = fetch(url)
            assert_valid_feed(body, self_url=url, content_type=headers["Content-Type"])


def test_feedparser_reads_what_the_database_holds(crawl_site, crawl_rows):
    originals = crawl_rows["originals"]
    for kind in ("rss", "atom"):
        url = crawl_site + f"feeds/all.{kind}"
        parsed = feedparser.parse(fetch(url)[2])
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert {link.href for link in parsed.feed.links if link.rel == "self"} == {url}
        by_id = {story_item_id(original.uid): original for original in originals.values()}
        assert {e.id for e in parsed.entries} == set(by_id)  # named by the original, not by a row id
        for entry in parsed.entries:
            original = by_id[entry.id]
            assert (entry.link, entry.title) == (original.canonical_url, original.title)
            assert entry.published_parsed[:6] == published(original).utctimetuple()[:6]
        for slug, articles in crawl_rows["outlets"].items():
            parsed = feedparser.parse(fetch(crawl_site + f"feeds/outlet/{slug}.{kind}")[2])
            assert not parsed.bozo, parsed.get("bozo_exception")
            expected = {(a.canonical_url, a.title, published(a).utctimetuple()[:6]) for a in articles}
            assert {(e.id, e.title, e.published_parsed[:6]) for e in parsed.entries} == expected


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_newsboat_reads_what_the_database_holds(kind, crawl_site, crawl_rows, tmp_path):
    binary = newsboat()
    # one run per kind: newsboat keeps one item per guid, and the same article has the same id in both kinds
    merged = f"{crawl_site}feeds/all.{kind}"
    outlets = {slug: f"{crawl_site}feeds/outlet/{slug}.{kind}" for slug in crawl_rows["outlets"]}
    items = newsboat_items(binary, [merged, *outlets.values()], tmp_path)

    def expected(articles) -> set[tuple[str, str, int]]:
        return {(a.canonical_url, a.title, int(published(a).timestamp())) for a in articles}

    assert items[merged] == expected(crawl_rows["originals"].values())
    for slug, url in outlets.items():
        assert items[url] == expected(crawl_rows["outlets"][slug]), slug


def test_index_page_lists_feeds_and_escapes_hostile_titles(small_site):
    status, headers, body = fetch(small_site)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == CACHE_CONTROL and headers["ETag"]
    page = lxml.html.fromstring(body)
    alternates = {(link.get("type"), link.get("href")) for link in page.xpath("//head/link[@rel='alternate']")}
    for path in ("feeds/all", "feeds/outlet/wire-service", "feeds/outlet/copier-daily", "feeds/outlet/al-khabar"):
        for kind in ("rss", "atom", "json"):
            assert (TYPES[kind].split(";")[0], f"{small_site}{path}.{kind}") in alternates
    for media_type, href in alternates:  # every announced feed is there, with the announced type
        status, headers, _body = fetch(href)
        assert status == 200 and headers["Content-Type"].split(";")[0] == media_type, href
    assert not page.xpath("//script | //iframe | //*[@onclick] | //*[@onerror]")
    assert [form.get("action") for form in page.xpath("//form")] == [f"{small_site}search"]  # the search box only
    assert b'<script>alert("pwned")' not in body and b"&lt;script&gt;alert(&#34;pwned&#34;)" in body
    stories = [li.text_content().strip() for li in page.xpath("//ul[@id='stories']/li")]
    hostile = next(s for s in stories if "pwned" in s)
    assert '<script>alert("pwned")</script> Floods & <b>"quotes"</b>' in hostile and "\x07" not in hostile
    wire = next(s for s in stories if s.startswith("Floods cut coast road"))
    assert "Wire Service" in wire and "Copier Daily" in wire  # the story with the outlets that carry it
    tags = page.xpath("//ul[@id='tags']//a/@href")
    assert f"{small_site}feeds/tag/libya.rss" in tags and f"{small_site}feeds/tag/{quote('اقتصاد')}.rss" in tags


def test_hostile_article_is_clean_in_every_kind(small_site):
    for kind in ("rss", "atom"):
        parsed = feedparser.parse(fetch(f"{small_site}feeds/all.{kind}")[2])
        entry = next(e for e in parsed.entries if e.link == "https://copier.example/hostile")
        assert entry.title == 'Floods & "quotes"'
        content = entry.content[0].value
        assert "https://copier.example/rel" in content and "https://copier.example/img.png" in content
    feed = json.loads(fetch(f"{small_site}feeds/all.json")[2])
    item = next(i for i in feed["items"] if i["url"] == "https://copier.example/hostile")
    assert item["title"] == 'Floods & "quotes"'
    for bad in ("<script", "onclick", "javascript:", "<iframe", "<form", "<input", "onerror", "<object", "<embed",
                "<style", 'href="/rel"'):  # fmt: skip
        assert bad not in item["content_html"], bad


def test_json_feed_structure(small_site):
    url = f"{small_site}feeds/all.json"
    feed = json.loads(fetch(url)[2])
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == url and feed["home_page_url"] == small_site
    assert feed["title"] and feed["description"] and feed["language"] == "en"
    assert len(feed["items"]) == 3  # four articles, three stories
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["url"].startswith("https://")
        assert item["content_html"] and item["title"] and item["authors"] == [{"name": "Desk"}]
        for field in ("date_published", "date_modified"):
            assert datetime.fromisoformat(item[field]).tzinfo is not None
    dates = [item["date_published"] for item in feed["items"]]
    assert dates == sorted(dates, reverse=True)
    arabic = next(i for i in feed["items"] if i["url"] == "https://khabar.example/port")
    assert arabic["language"] == "ar" and "اقتصاد" in arabic["tags"]
    outlet = json.loads(fetch(f"{small_site}feeds/outlet/al-khabar.json")[2])
    assert outlet["language"] == "ar" and [i["id"] for i in outlet["items"]] == ["https://khabar.example/port"]


def test_tag_feeds_match_tags_in_any_case(small_site):
    wanted = {"https://wire.example/floods", "https://copier.example/floods", "https://copier.example/hostile"}
    for spelling in ("libya", "LIBYA", "Libya"):
        url = f"{small_site}feeds/tag/{spelling}.atom"
        status, headers, body = fetch(url)
        assert status == 200 and headers["Content-Type"] == TYPES["atom"]
        parsed = feedparser.parse(body)
        assert {e.link for e in parsed.entries} == wanted
        assert {link.href for link in parsed.feed.links if link.rel == "self"} == {url}  # its own URL
        assert parsed.feed.id == feed_id("tag/libya")  # one feed, however it is spelt
    arabic = f"{small_site}feeds/tag/{quote('اقتصاد')}.json"
    feed = json.loads(fetch(arabic)[2])
    assert feed["feed_url"] == arabic and [i["url"] for i in feed["items"]] == ["https://khabar.example/port"]
    weather = feedparser.parse(fetch(f"{small_site}feeds/tag/weather.rss")[2])
    assert [e.link for e in weather.entries] == ["https://wire.example/floods"]


def test_base_url_names_the_public_address(small_db):
    with serving(small_db, base_url="https://news.example.org/newswire") as root:
        root_element = etree.fromstring(fetch(root + "feeds/all.atom")[2])
        self_links = root_element.xpath("a:link[@rel='self']/@href", namespaces=ATOM)
        assert self_links == ["https://news.example.org/newswire/feeds/all.atom"]
        assert root_element.findtext("a:id", namespaces=ATOM) == feed_id("all")  # ids never name an address
        page = lxml.html.fromstring(fetch(root)[2])
        assert "https://news.example.org/newswire/feeds/all.rss" in page.xpath("//head/link/@href")


def test_built_feeds_are_reused_until_the_data_changes(tmp_path, monkeypatch):
    url = build_db(tmp_path / "cached.db")
    app = make_app(url)
    builds = []
    original = app.find_feed

    def counting(*args, **kwargs):
        builds.append(args[-3:])
        return original(*args, **kwargs)

    monkeypatch.setattr(app, "find_feed", counting)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/feeds/all.rss", "SERVER_NAME": "x.test", "SERVER_PORT": "80",
               "wsgi.url_scheme": "http", "HTTP_HOST": "x.test"}  # fmt: skip
    try:
        first = app.respond(environ)
        second = app.respond({**environ, "HTTP_IF_NONE_MATCH": dict(first.headers)["ETag"]})
        assert second.status.startswith("304") and len(builds) == 1  # a poll of unchanged data: no rebuild
        engine = make_engine(url)
        with make_session_factory(engine).begin() as session:
            article = session.scalars(select(Article).order_by(Article.id)).first()
            article.fetched_at = datetime.now(UTC)  # a new version stored by a crawl
        engine.dispose()
        third = app.respond(environ)
        assert len(builds) == 2 and third.status.startswith("200")
    finally:
        app.close()


def test_newswire_serve_command_serves_and_stops_cleanly_on_sigterm(small_db):
    import signal
    import sys

    from tests.support.paths import PROJECT

    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "serve", "--db", small_db, "--port", "0"],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stderr.readline()  # "serving feeds on http://127.0.0.1:<port>/ (Ctrl-C stops)"
        assert line.startswith("serving feeds on http://127.0.0.1:"), line
        root = line.split()[3]
        status, _headers, body = fetch(root + "feeds/all.json")
        assert status == 200 and json.loads(body)["version"] == "https://jsonfeed.org/version/1.1"
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and "Traceback" not in err, err


def test_an_empty_database_serves_stable_valid_feeds(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with serving(url) as root:
        status, first, body = fetch(root + "feeds/all.atom")
        assert status == 200 and not feedparser.parse(body).entries
        time_before = parsedate_to_datetime(first["Last-Modified"])
        assert time_before < datetime.now(UTC)  # never the future
        _status, second, _ = fetch(root + "feeds/all.atom")
        assert second["ETag"] == first["ETag"] and second["Last-Modified"] == first["Last-Modified"]
        assert fetch(root + "feeds/all.atom", headers={"If-None-Match": first["ETag"]})[0] == 304
