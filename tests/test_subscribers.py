"""What subscribers meet: ids that survive a database rebuild in feedparser and newsboat, no Host header in any
id or link, OPML, icons, enclosures, <source>, per-item languages, filters on served feeds, the browser's
stylesheet and the access log."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest
from lxml import etree

from feeds.ids import feed_id, story_item_id, tag_item_id
from storage.common.urls import article_uid
from tests.support.cli import newswire
from tests.support.newsweb import Crawl
from tests.support.serving import copy_database, fetch, newsboat, serving
from tests.test_serve import ATOM, build_db

KINDS = ("rss", "atom", "json")
MEDIA = "{http://search.yahoo.com/mrss/}content"


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_db(tmp_path_factory.mktemp("subscribers") / "small.db")


@pytest.fixture(scope="module")
def small_site(small_db: str):
    with serving(small_db) as root:
        yield root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _feed_ids(root: str, paths: list[str]) -> dict[str, list[str]]:
    ids = {}
    for path in paths:
        for kind in KINDS:
            status, _headers, body = fetch(f"{root}{path}.{kind}")
            assert status == 200, path
            if kind == "json":
                ids[f"{path}.{kind}"] = [item["id"] for item in json.loads(body)["items"]]
            else:
                parsed = feedparser.parse(body)
                assert not parsed.bozo, parsed.get("bozo_exception")
                ids[f"{path}.{kind}"] = [entry.id for entry in parsed.entries]
    return ids


def _newsboat_guids(binary: str, urls: list[str], home: Path) -> list[tuple[str, str]]:
    """`newsboat -x reload` with a home kept between calls; every (feed, guid) of its cache."""
    from tests.support.serving import newsboat_items

    newsboat_items(binary, urls, home)
    connection = sqlite3.connect(home / "cache.db")
    try:
        return sorted(connection.execute("SELECT feedurl, guid FROM rss_item"))
    finally:
        connection.close()


def test_item_ids_survive_a_database_rebuild_in_feedparser_and_newsboat(first_crawl: Crawl, tmp_path: Path):
    """The same web crawled into a second database: every feed's ids are the same, so newsboat, subscribed
    before the rebuild, holds the same items after it (none twice); the static files carry the same ids."""
    binary = newsboat()
    first = copy_database(first_crawl.db_path, tmp_path / "first.db")
    rebuilt = tmp_path / "rebuilt.db"
    crawl = first_crawl.crawl(db_url=f"sqlite:///{rebuilt}")
    assert crawl.returncode in (0, 1) and " new" in crawl.stdout, crawl.stderr  # the web has broken pages: partial
    with sqlite3.connect(tmp_path / "first.db") as connection:
        slugs = [slug for (slug,) in connection.execute("SELECT slug FROM outlets ORDER BY slug")]
    paths = ["feeds/all", *(f"feeds/outlet/{slug}" for slug in slugs)]
    port, home = _free_port(), tmp_path / "newsboat"
    ids, guids = {}, {}
    for name, db_url in (("first", first), ("rebuilt", f"sqlite:///{rebuilt}")):
        with serving(db_url, port=port) as root:
            ids[name] = _feed_ids(root, paths)
            urls = [f"{root}{path}.{kind}" for path in paths for kind in ("rss", "atom")]
            guids[name] = _newsboat_guids(binary, urls, home)
    assert ids["first"] == ids["rebuilt"] and all(ids["first"].values())
    assert guids["first"] == guids["rebuilt"]  # the reload after the rebuild added no item
    # newsboat keeps one item per id: an RSS and an Atom file of one feed share theirs, no two feeds do
    feed_ids = [i for k, v in ids["first"].items() if not k.endswith(".json") for i in v]
    assert sorted(guid for _feed, guid in guids["first"]) == sorted(set(feed_ids))
    merged = ids["first"]["feeds/all.atom"]
    assert all(i.startswith("tag:newswire,2026:story/") for i in merged)
    written = tmp_path / "static"
    assert newswire("feeds", "--db", f"sqlite:///{rebuilt}", "--feeds-dir", str(written)).exit_code == 0
    static = feedparser.parse((written / "all.atom").read_bytes())
    assert [e.id for e in static.entries] == merged  # static and served: the same ids
    assert not any(e.id.startswith("file:") for e in static.entries) and static.feed.id == feed_id("all")


def test_no_host_header_reaches_an_id_a_link_or_a_page(small_db: str):
    paths = ["", "feeds/all.rss", "feeds/all.atom", "feeds/all.json", "feeds/outlet/wire-service.atom", "feeds.opml"]
    with serving(small_db) as root:
        for path in paths:
            status, _headers, body = fetch(root + path, headers={"Host": "evil.example"})
            assert status == 200 and b"evil.example" not in body, path
    with serving(small_db, allowed_hosts=["news.example.org"]) as root:
        for forged in ("evil.example", "news.example.org:@evil.com", "news.example.org:80/x", "news.example.org.evil"):
            for path in ("feeds/all.atom", "", "stories/" + article_uid("https://copier.example/floods")):
                status, _headers, body = fetch(root + path, headers={"Host": forged})
                assert status == 400 and b"unknown host" in body, (forged, path)
        port = urlsplit(root).port  # a bare listed name answers with the server's own port, and no other
        status, _headers, body = fetch(root + "feeds/all.atom", headers={"Host": f"News.Example.org:{port}"})
        assert status == 200 and f'href="http://news.example.org:{port}/feeds/all.atom"'.encode() in body
        for other in ("news.example.org:99999", "news.example.org:0", f"news.example.org:{port + 1}"):
            status, _headers, body = fetch(root + "feeds/all.atom", headers={"Host": other})
            assert status == 400 and other.encode() not in body, other
        status, _headers, body = fetch(root + "feeds/all.atom", headers={"Host": "news.example.org"})
        assert status == 200 and b'href="http://news.example.org/feeds/all.atom"' in body  # a listed name
    with serving(small_db, base_url="https://news.example.org/") as root:
        status, _headers, body = fetch(root + "feeds/all.rss", headers={"Host": "evil.example"})
        assert b"evil.example" not in body and b"https://news.example.org/feeds/all.rss" in body


def test_ids_differ_between_feeds_and_urls_among_them_resolve(small_site: str, first_crawl: Crawl, tmp_path: Path):
    """An article is one item in its outlet's feed (its canonical URL), another in a tag's, another (as its
    story's original) in the merged feed: newsboat, which keys items by id, never moves one between feeds."""
    outlet = feedparser.parse(fetch(small_site + "feeds/outlet/wire-service.atom")[2])
    tag = feedparser.parse(fetch(small_site + "feeds/tag/libya.atom")[2])
    merged = feedparser.parse(fetch(small_site + "feeds/all.atom")[2])
    floods = "https://wire.example/floods"
    uid = article_uid(floods)
    assert floods in {e.id for e in outlet.entries}
    assert tag_item_id("libya", uid) in {e.id for e in tag.entries}
    assert story_item_id(uid) in {e.id for e in merged.entries}
    # ids that are URLs resolve: every outlet feed item of the crawled local web
    with serving(copy_database(first_crawl.db_path, tmp_path / "resolve.db")) as root:
        outlines = etree.fromstring(fetch(root + "feeds.opml")[2]).findall("body/outline")
        outlet_feeds = [outline.get("xmlUrl") for outline in outlines[1:]]  # the first is the merged feed
        assert len(outlet_feeds) >= 3
        for feed in outlet_feeds:
            entries = feedparser.parse(fetch(feed)[2]).entries
            for entry in entries:
                assert entry.id.startswith("http://127.0.0.1:") and fetch(entry.id)[0] == 200, entry.id
        assert sum(len(feedparser.parse(fetch(feed)[2]).entries) for feed in outlet_feeds) >= 10


def test_opml_lists_every_feed_and_each_one_reads(small_site: str, small_db: str, tmp_path: Path):
    status, headers, body = fetch(small_site + "feeds.opml")
    assert status == 200 and headers["Content-Type"].startswith("text/x-opml")
    outlines = etree.fromstring(body).findall("body/outline")
    assert [o.get("title") for o in outlines][:1] == ["newswire: all outlets"] and len(outlines) == 4
    for outline in outlines:
        assert outline.get("type") == "rss"
        parsed = feedparser.parse(fetch(outline.get("xmlUrl"))[2])
        assert not parsed.bozo and parsed.entries, outline.get("xmlUrl")
    assert newswire("feeds", "--db", small_db, "--feeds-dir", str(tmp_path)).exit_code == 0
    written = etree.parse(str(tmp_path / "feeds.opml")).getroot().findall("body/outline")
    assert written[0].get("xmlUrl") == (tmp_path / "all.rss").resolve().as_uri()


def test_feeds_carry_icon_source_image_language_and_one_author_line(small_site: str):
    rss = etree.fromstring(fetch(small_site + "feeds/all.rss")[2])
    channel = rss.find("channel")
    assert channel.findtext("image/url") == small_site + "static/logo.png"
    assert fetch(small_site + "static/logo.png")[1]["Content-Type"] == "image/png"
    floods = next(i for i in channel.findall("item") if i.findtext("link") == "https://wire.example/floods")
    assert floods.findtext("source") == "Wire Service" and floods.find("source").get("url") == "https://wire.example/"
    assert "Wire Service" not in [c.text for c in floods.findall("category")]  # the outlet is no topic
    enclosure = floods.find("enclosure")
    assert enclosure.get("url") == "https://wire.example/img/floods.png" and enclosure.get("type") == "image/png"
    assert floods.find(MEDIA).get("url") == "https://wire.example/img/floods.png"
    assert len(floods.findall("{http://purl.org/dc/elements/1.1/}creator")) == 1
    arabic = next(i for i in channel.findall("item") if "khabar" in i.findtext("link"))
    assert arabic.findtext("{http://purl.org/dc/elements/1.1/}language") == "ar"
    atom = etree.fromstring(fetch(small_site + "feeds/all.atom")[2])
    assert atom.findtext("a:icon", namespaces=ATOM) == small_site + "static/icon.png"
    entry = next(e for e in atom.findall("a:entry", ATOM) if "khabar" in e.find("a:link", ATOM).get("href"))
    assert entry.get("{http://www.w3.org/XML/1998/namespace}lang") == "ar"
    assert entry.findtext("a:source/a:title", namespaces=ATOM) == "Al Khabar"
    items = json.loads(fetch(small_site + "feeds/all.json")[2])["items"]
    assert {i["language"] for i in items} == {"en", "ar"}
    assert next(i for i in items if "floods" in i["url"])["_source"]["title"] == "Wire Service"


def test_served_feeds_take_limit_lang_and_q_and_refuse_what_they_cannot(small_site: str):
    def links(query: str) -> list[str]:
        status, _headers, body = fetch(small_site + "feeds/all.atom" + query)
        assert status == 200, (query, body)
        return [e.link for e in feedparser.parse(body).entries]

    everything = links("")
    assert len(everything) >= 3
    assert links("?limit=1") == everything[:1]
    assert links("?lang=ar") == ["https://khabar.example/port"]
    assert set(links("?q=FLOODS+coast")) <= {u for u in everything if "khabar" not in u} and links("?q=floods")
    assert links("?q=nowhere-to-be-found") == []
    bad_values = ("?limit=0", "?limit=abc", "?limit=100000", "?limit=%C2%B2", "?lang=%3Cb%3E", "?lang=%25", "?filter=x",
                  "?limit=1&limit=2")  # fmt: skip
    for bad in bad_values:
        status, _headers, body = fetch(small_site + "feeds/all.rss" + bad)
        assert status == 400 and body.strip(), bad


def test_a_feed_opened_in_a_browser_has_a_stylesheet_that_keeps_text_as_text(small_site: str):
    body = fetch(small_site + "feeds/outlet/copier-daily.rss")[2]
    assert f'<?xml-stylesheet type="text/xsl" href="{small_site}static/feed.xsl"?>'.encode() in body
    status, headers, xsl = fetch(small_site + "static/feed.xsl")
    assert status == 200 and headers["Content-Type"].startswith("text/xsl")
    transform = etree.XSLT(etree.fromstring(xsl))
    page = str(transform(etree.fromstring(body)))
    assert "Floods cut coast road (copy)" in page and "Floods &amp; " in page and "<script" not in page
    for kind in ("rss", "atom"):  # every item links to its article (feedgen writes Atom links without rel)
        shown = lxml.html.fromstring(str(transform(etree.fromstring(fetch(small_site + f"feeds/all.{kind}")[2]))))
        links = shown.xpath("//ol/li/a/@href")
        assert links and all(link.startswith("https://") for link in links), (kind, links)


def test_serve_writes_an_access_log_and_takes_the_public_address_from_the_environment(small_db: str, tmp_path: Path):
    log = tmp_path / "access.log"
    env_base = "https://feeds.example.net/"
    command = [sys.executable, "-m", "crawler", "serve", "--db", small_db, "--port", "0", "--access-log", str(log)]
    environment = {**os.environ, "NEWSWIRE_BASE_URL": env_base}
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=environment) as process:
        try:
            root = re.search(r"serving feeds on (\S+)", process.stderr.readline()).group(1)
            assert fetch(root + "feeds/all.atom")[0] == 200 and fetch(root + "nope")[0] == 404
            assert env_base.encode() + b"feeds/all.atom" in fetch(root + "feeds/all.atom")[2]
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    lines = log.read_text().splitlines()
    common = re.compile(
        r'^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET (\S+) HTTP/1\.1" (\d{3}) (\d+|-)$'
    )
    parsed = [common.match(line).groups() for line in lines]
    assert parsed[0][:2] == ("/feeds/all.atom", "200") and int(parsed[0][2]) > 0
    assert ("/nope", "404") in [p[:2] for p in parsed]
