"""Fetch only what changed: conditional requests counted at the local news web, over the real engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from crawler.demo.stories import Story
from crawler.extensions.fetch_state import FetchState
from crawler.failures import worth_retrying
from storage.models import Article, FetchValidator
from storage.validators import Validators
from tests.support.db import crawl_runs, last_run, session_on
from tests.support.newsweb import LocalWeb, fresh_news_web

DISCOVERY = {
    "maghreb-ledger": {"/robots.txt", "/feed/", "/feed/broken.xml"},
    "desert-wire": {"/robots.txt", "/", "/sitemap_index.xml", "/sitemaps/news.xml.gz", "/sitemaps/pages.xml"},
    "atlas-review": {"/robots.txt", "/", "/atom.xml"},
    "al-khabar": {"/robots.txt", "/rss.rdf"},
}
OUTSIDE_WINDOW = ("/news/archive-2024-oil-deal/", "/sitemaps/2024.xml")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWeb]:
    """A news web of its own, crawled once: these tests publish stories on it and crawl it again."""
    root = tmp_path_factory.mktemp("conditional")
    with fresh_news_web(root) as web:
        result = web.crawl(cwd=root)
        assert result.returncode == 1, result.stderr  # partial: the news web has deliberate errors
        yield web


def crawl_and_count(web: LocalWeb, *args: str) -> list[tuple[str, str, int]]:
    """The requests a crawl made, as the news web answered them: (outlet, path, status)."""
    mark = len(web.web.server.answers)
    result = web.crawl(*args)
    assert result.returncode in (0, 1), result.stderr
    return web.web.server.answers_since(mark)


def test_unchanged_web_gets_only_conditional_discovery_requests_answered_304(crawled):
    answers = crawl_and_count(crawled)
    requested = {(slug, path) for slug, path, _status in answers}
    expected = {(slug, path) for slug, paths in DISCOVERY.items() for path in paths}
    assert requested == expected  # no article page: only discovery (an index's children are asked too)
    statuses = {(slug, path): status for slug, path, status in answers}
    # a malformed feed keeps no validators (its error is reported every run): the one full answer
    assert statuses.pop(("maghreb-ledger", "/feed/broken.xml")) == 200
    assert set(statuses.values()) == {304}, statuses
    run = last_run(crawled.db_url)
    assert run.not_modified == len(statuses) and run.requests == len(answers)
    assert run.articles_new == 0
    assert run.by_outlet["al-khabar"]["not_modified"] == 2  # Last-Modified only: If-Modified-Since works too


def test_sitemap_entries_outside_the_window_are_never_fetched(crawled):
    requested = crawled.web.server.requests_for("desert-wire")
    assert not any(path.startswith(OUTSIDE_WINDOW) for path in requested)
    first = crawl_runs(crawled.db_url)[0]
    assert first.outcomes["skipped/old_sitemap"] == 1 and first.outcomes["skipped/old_sitemap_entry"] == 1


def test_a_changed_feed_brings_exactly_the_new_article(crawled):
    story = Story(
        "/2025/07/25/port-strike-ends/",
        "Port strike in Tangier ends after four days",
        (
            "Dockworkers in Tangier returned to work on Friday after a four-day strike over pay ended with an "
            "agreement between the port authority and the union, officials said.",
            "The strike had left dozens of container ships waiting offshore and delayed exports of fruit and "
            "vegetables to Europe at the height of the summer season.",
            "Under the agreement, wages rise by eight percent this year and a committee will review night-shift "
            "allowances before the end of the year, the union said in a statement.",
        ),
        published="2025-07-25T10:00:00+00:00",
    )
    url = crawled.web.publish_story(story)
    answers = crawl_and_count(crawled)
    articles = [(slug, path) for slug, path, _ in answers if (slug, path) not in _discovery_pairs()]
    # the new story, and the one URL of that feed that has never been stored (it answered 404 before: a
    # page that 404s while its feed entry is fresh is often just not live yet, so it gets another try)
    assert sorted(articles) == [("maghreb-ledger", "/2025/07/21/deleted-story/"), ("maghreb-ledger", story.path)]
    statuses = {(slug, path): status for slug, path, status in answers}
    assert statuses[("maghreb-ledger", "/feed/")] == 200
    assert statuses[("atlas-review", "/atom.xml")] == 304
    with session_on(crawled.db_url) as session:
        assert session.scalar(select(func.count()).where(Article.canonical_url == url)) == 1
    assert last_run(crawled.db_url).articles_new == 1
    # and once stored, the changed feed is quiet again
    again = crawl_and_count(crawled)
    assert dict(((s, p), st) for s, p, st in again)[("maghreb-ledger", "/feed/")] == 304


def test_a_changed_child_sitemap_under_an_unchanged_index_brings_its_new_article(crawled):
    story = Story(
        "/news/oil-output-rises/",
        "Libya's oil output rises to a ten-year high",
        (
            "Libya's crude output rose to its highest level in more than ten years last month, the national "
            "oil company said on Monday, as fields in the south returned to full production.",
            "The company said output averaged 1.4 million barrels a day, up from 1.2 million a year earlier, "
            "and that it aimed to reach two million barrels within five years.",
            "Analysts said the gains remained fragile because of the country's divided government and "
            "recurring blockades of oil terminals by armed groups.",
        ),
        published="2025-07-26T08:00:00+00:00",
    )
    url = crawled.web.publish_wire_story(story)
    answers = crawl_and_count(crawled)
    statuses = {(slug, path): status for slug, path, status in answers}
    assert statuses[("desert-wire", "/sitemap_index.xml")] == 304  # the index did not change...
    assert statuses[("desert-wire", "/sitemaps/news.xml.gz")] == 200  # ...its child did
    assert statuses[("desert-wire", story.path)] == 200
    with session_on(crawled.db_url) as session:
        assert session.scalar(select(func.count()).where(Article.canonical_url == url)) == 1


def test_robots_txt_behind_a_redirect_or_down_still_names_the_sitemaps(fresh_web: LocalWeb):
    from crawler.demo.server import Resource

    web = fresh_web.web
    wire, atlas = web.server.sites["desert-wire"], web.server.sites["atlas-review"]
    atlas.routes["/wire-robots.txt"] = wire.routes["/robots.txt"]  # robots.txt moved to another host
    wire.routes["/robots.txt"] = Resource(
        b"", status=301, headers={"Location": web.urls["atlas-review"] + "/wire-robots.txt"}
    )
    first = crawl_and_count(fresh_web, "--outlet", "Desert Wire")
    assert ("desert-wire", "/sitemap_index.xml", 200) in first
    assert last_run(fresh_web.db_url).articles_new == 3
    # robots.txt down (500 after retries): last crawl's copy names the sitemaps
    wire.routes["/robots.txt"] = Resource(b"down", status=500)
    second = crawl_and_count(fresh_web, "--outlet", "Desert Wire", "-s", "RETRY_TIMES=0")
    assert ("desert-wire", "/robots.txt", 500) in second
    assert ("desert-wire", "/sitemap_index.xml", 304) in second


def _discovery_pairs() -> set[tuple[str, str]]:
    return {(slug, path) for slug, paths in DISCOVERY.items() for path in paths}


def test_a_listing_cut_by_the_limit_is_fetched_in_full_next_time(local_web: LocalWeb):
    first = crawl_and_count(local_web, "--outlet", "Al-Khabar", "--limit", "1")
    assert sum(1 for s, p, _ in first if p.startswith("/akhbar/")) == 1
    second = crawl_and_count(local_web, "--outlet", "Al-Khabar")
    statuses = {p: st for _s, p, st in second}
    assert statuses["/rss.rdf"] == 200  # its validators were not kept: articles were left over
    assert sum(1 for p in statuses if p.startswith("/akhbar/")) >= 1
    with session_on(local_web.db_url) as session:
        kept = session.scalars(select(FetchValidator.url)).all()
    assert any(u.endswith("/rss.rdf") for u in kept)  # complete now: kept for the next crawl
    third = crawl_and_count(local_web, "--outlet", "Al-Khabar")
    assert {p: st for _s, p, st in third}["/rss.rdf"] == 304


def test_validators_of_an_unfinished_listing_or_its_index_are_not_saved():
    state = FetchState()
    for url in ("https://x.test/index.xml", "https://x.test/a.xml", "https://x.test/b.xml", "https://x.test/feed"):
        state.fresh[url] = Validators(url, etag='"1"')
    state.child("https://x.test/a.xml", "https://x.test/index.xml")
    state.child("https://x.test/b.xml", "https://x.test/index.xml")
    state.article_scheduled("https://x.test/a.xml")  # never answered (crawl interrupted)
    state.article_scheduled("https://x.test/feed")
    state.article_done("https://x.test/feed")
    saved = {v.url for v in state.complete()}
    assert saved == {"https://x.test/b.xml", "https://x.test/feed"}
    state.article_scheduled("https://x.test/feed")
    state.article_done("https://x.test/feed", retry_later=True)  # a timeout: see the listing again
    assert {v.url for v in state.complete()} == {"https://x.test/b.xml"}


def test_conditional_headers_need_stored_validators_and_robots_needs_its_text():
    state = FetchState(
        {
            "https://x.test/feed": Validators("https://x.test/feed", etag='"a"', last_modified="Mon, 01 Jan 2024"),
            "https://x.test/robots.txt": Validators("https://x.test/robots.txt", etag='"r"'),
        }
    )
    assert state.conditional_headers("https://x.test/feed") == {
        "If-None-Match": '"a"',
        "If-Modified-Since": "Mon, 01 Jan 2024",
    }
    assert state.conditional_headers("https://x.test/robots.txt", need_body=True) == {}
    assert state.conditional_headers("https://x.test/other") == {}


@pytest.mark.parametrize(
    ("kind", "retry"),
    [("timeout", True), ("http_503", True), ("http_429", True), ("http_404", False), ("private_address", False)],
)
def test_which_failures_are_worth_seeing_again(kind, retry):
    assert worth_retrying(kind) is retry


def test_poll_hints_from_feeds_and_servers():
    from scrapy.http import Response

    from crawler.discovery.listings import parse_listing
    from crawler.extensions.fetch_state import max_age, retry_after

    rss = (
        b'<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
        b"<channel><title>T</title><link>https://x.test/</link><description>d</description><ttl>90</ttl>"
        b"<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>"
        b"<item><title>A</title><link>https://x.test/a</link></item></channel></rss>"
    )
    assert parse_listing(rss, "https://x.test/feed").poll_hint == 6 * 3600  # the longer of 90 min and 24h/4
    plain = rss.replace(b"<ttl>90</ttl>", b"").replace(b"<sy:updatePeriod>daily</sy:updatePeriod>", b"")
    assert parse_listing(plain, "https://x.test/feed").poll_hint is None

    def response(status: int, **headers: str) -> Response:
        return Response("https://x.test/feed", status=status, headers=headers)

    assert retry_after(response(429, **{"Retry-After": "120"})) == 120
    assert retry_after(response(503, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0  # in the past
    assert retry_after(response(200, **{"Retry-After": "120"})) is None  # only 429 and 503 mean "go away"
    assert max_age(response(200, **{"Cache-Control": "public, max-age=1800"})) == 1800
    assert max_age(response(200, **{"Cache-Control": "max-age=99999999"})) == 7 * 86400  # capped
    assert max_age(response(200)) is None


def test_the_fetch_state_is_the_keeper_extensions_loaded_once_settled_by_signals_and_saved(tmp_path):
    """One owner: the FetchStateKeeper extension loads the state from the crawl's store when first asked,
    settles listings from item signals and saves the complete ones when the spider closes."""
    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from crawler.extensions.fetch_state import FetchStateKeeper, crawl_fetch_state
    from crawler.pipelines.store import StoreFailed
    from storage.db import Store

    db_url = f"sqlite:///{tmp_path / 'state.db'}"
    extensions = {"crawler.extensions.database.CrawlDatabase": 0, "crawler.extensions.fetch_state.FetchStateKeeper": 0}

    def crawl_with(listing_outcome):
        crawler = get_crawler(settings_dict={"NEWSWIRE_DB": db_url, "EXTENSIONS": extensions})
        state = crawl_fetch_state(crawler)
        assert state is crawler.get_extension(FetchStateKeeper).state  # the same object for every component
        state.fresh["https://x.test/feed"] = Validators("https://x.test/feed", etag='"2"')
        state.article_scheduled("https://x.test/feed")
        listing_outcome(crawler, {"listing": "https://x.test/feed"})
        crawler.signals.send_catch_log(signals.spider_closed, spider=None, reason="finished")
        with Store(db_url) as store:
            return FetchState.load(store).stored

    def failed_to_store(crawler, item):
        crawler.signals.send_catch_log(signals.item_dropped, item=item, exception=StoreFailed("x"), response=None)

    def stored(crawler, item):
        crawler.signals.send_catch_log(signals.item_scraped, item=item, response=None)

    assert crawl_with(failed_to_store) == {}  # an article to retry: the listing's validators are not saved
    assert crawl_with(stored)["https://x.test/feed"].etag == '"2"'
