"""End to end: the real Scrapy engine crawls the local news web over HTTP into SQLite; feeds read back."""

from __future__ import annotations

import feedparser
import pytest
from sqlalchemy import func, select

from feeds.ids import story_item_id
from storage.models import Article, Outlet
from tests.support.cli import newswire
from tests.support.db import crawl_runs, session_on
from tests.support.newsweb import Crawl, LocalWeb


@pytest.fixture(scope="module")
def stored(first_crawl: Crawl) -> dict[str, list[Article]]:
    with session_on(first_crawl.db_url) as session:
        rows = session.execute(select(Outlet.slug, Article).join(Article.outlet)).all()
    by_outlet: dict[str, list[Article]] = {}
    for slug, article in rows:
        by_outlet.setdefault(slug, []).append(article)
    return by_outlet


def test_crawl_reports_partial_run_with_counted_errors(first_crawl: Crawl):
    result = first_crawl.result
    assert result.returncode == 1, result.stderr  # partial: a 404 and a malformed feed
    assert "crawl #1 partial" in result.stdout
    assert "11 new" in result.stdout
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 2, errors
    assert any("Maghreb Ledger:" in e and "/2025/07/21/deleted-story/" in e and "HTTP 404" in e for e in errors)
    assert any("Maghreb Ledger:" in e and "/feed/broken.xml" in e and "malformed" in e for e in errors)
    # the about page a sitemap lists is no failure of the crawl: a skip, said at INFO, counted as a skip
    assert not any("/about/" in e for e in errors)


def test_run_row_counts_outcomes(first_crawl: Crawl):
    [run] = crawl_runs(first_crawl.db_url)
    assert run.status == "partial"
    assert run.finish_reason == "finished"
    assert run.articles_new == 11
    assert run.errors == 2
    assert run.outcomes["errors/http_404"] == 1
    assert run.outcomes["errors/listing_malformed"] == 1
    assert run.outcomes["skipped/not_an_article"] == 1 and "errors/not_an_article" not in run.outcomes
    assert run.outcomes["skipped/robots_disallowed"] == 1
    assert run.outcomes["skipped/private_address"] == 1
    assert run.finished_at and run.finished_at >= run.started_at


def test_every_expected_article_stored_once(first_crawl: Crawl, stored):
    expected = first_crawl.web.article_urls()
    for slug, urls in expected.items():
        got = sorted(a.canonical_url for a in stored.get(slug, []))
        assert got == sorted(urls), slug


def test_disallowed_404_and_internal_pages_absent(first_crawl: Crawl, stored):
    urls = [a.url for articles in stored.values() for a in articles]
    assert not any("/private/" in u for u in urls)
    assert not any("deleted-story" in u or "/about/" in u or "127.0.0.2" in u for u in urls)
    ledger_paths = first_crawl.web.server.requests_for("maghreb-ledger")
    assert not any(p.startswith("/private/") for p in ledger_paths), "robots.txt disallow was not obeyed"


def test_utm_copy_merged_with_canonical_url(first_crawl: Crawl, stored):
    all_articles = [a for articles in stored.values() for a in articles]
    assert not any("utm_" in a.url or "utm_" in a.canonical_url for a in all_articles)
    turkey = [a for a in stored["desert-wire"] if "turkey-syria" in a.canonical_url]
    assert len(turkey) == 1
    reference = [a for a in stored["maghreb-ledger"] if "syria-requests-support" in a.canonical_url]
    assert len(reference) == 1


def test_amp_copy_stored_under_its_canonical_url(stored):
    markets = [a for a in stored["desert-wire"] if "gulf-markets" in a.canonical_url]
    assert len(markets) == 1
    assert "/amp/" not in markets[0].canonical_url


def test_republished_story_stored_twice_with_same_text_hash(stored):
    ledger = next(a for a in stored["maghreb-ledger"] if "libya-floods" in a.canonical_url)
    wire = next(a for a in stored["desert-wire"] if "libya-floods" in a.canonical_url)
    assert ledger.id != wire.id
    assert ledger.title != wire.title
    assert ledger.text_hash == wire.text_hash
    others = [a.text_hash for articles in stored.values() for a in articles if a.id not in (ledger.id, wire.id)]
    assert ledger.text_hash not in others


def test_stored_metadata(stored):
    turkey = next(a for a in stored["desert-wire"] if "turkey-syria" in a.canonical_url)
    assert turkey.published.isoformat() == "2025-07-23T11:05:00+00:00"
    assert turkey.published_source == "json-ld"
    assert turkey.authors == ["Kerem Aydin"]
    arabic = stored["al-khabar"]
    assert all(a.language == "ar" for a in arabic)
    assert all(a.published is not None and a.published.tzinfo is not None for a in arabic)


def test_feeds_parse_back_with_every_article(first_crawl: Crawl, stored, tmp_path):
    result = newswire("feeds", "--db", first_crawl.db_url, "--out", str(tmp_path), "--items", "50")
    assert result.exit_code == 0, result.stderr
    articles = {a.canonical_url: a for articles in stored.values() for a in articles}
    stories = {a.story_id for a in articles.values()}
    for name in ("all.rss", "all.atom"):
        parsed = feedparser.parse((tmp_path / name).read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert len(parsed.entries) == len(stories) == len(articles) - 2  # one item per story
        assert len({e.id for e in parsed.entries}) == len(stories)
        dates = [e.published_parsed for e in parsed.entries]
        assert dates == sorted(dates, reverse=True), "newest first"
        for entry in parsed.entries:
            article = articles[entry.link]
            assert entry.id == story_item_id(article.uid)  # named by the story's original, its link
            assert entry.title == article.title
            assert entry.get("author"), entry.link
            content = entry.content[0].value
            first_paragraph = article.text.split("\n\n")[0]
            assert first_paragraph[:60] in content.replace("&#x27;", "'").replace("&quot;", '"')
        wire_item = next(e for e in parsed.entries if "libya-floods" in e.link)
        copies = [a for a in articles.values() if a.story_id == articles[wire_item.link].story_id]
        other = next(a for a in copies if a.canonical_url != wire_item.link)
        assert "Also reported by" in wire_item.content[0].value and other.canonical_url in wire_item.content[0].value
    for slug, outlet_articles in stored.items():
        parsed = feedparser.parse((tmp_path / "outlet" / f"{slug}.atom").read_bytes())
        assert not parsed.bozo
        assert {e.link for e in parsed.entries} == {a.canonical_url for a in outlet_articles}
        assert {e.id for e in parsed.entries} == {a.canonical_url for a in outlet_articles}  # one item per article


def test_second_crawl_stores_nothing_new(first_crawl: Crawl, stored):
    before = sum(len(v) for v in stored.values())
    result = first_crawl.crawl()
    assert "0 new, 0 updated" in result.stdout, result.stdout + result.stderr
    with session_on(first_crawl.db_url) as session:
        assert len(session.scalars(select(Article.id)).all()) == before
    runs = crawl_runs(first_crawl.db_url)
    assert runs[-1].articles_new == 0
    assert runs[-1].not_modified >= 4  # unchanged listings answer 304 (tests/test_conditional.py counts them)


def test_in_process_extraction_gives_the_same_articles(first_crawl: Crawl, tmp_path):
    """The default crawl extracts in worker processes; NEWSWIRE_EXTRACT_WORKERS=0 must store the same."""
    db_url = f"sqlite:///{tmp_path / 'inproc.db'}"
    result = first_crawl.crawl("-s", "NEWSWIRE_EXTRACT_WORKERS=0", db_url=db_url)
    assert result.returncode == 1 and "11 new" in result.stdout, result.stderr
    with session_on(db_url) as session:
        in_process = dict(session.execute(select(Article.canonical_url, Article.text_hash)).all())
    with session_on(first_crawl.db_url) as session:
        pooled = dict(session.execute(select(Article.canonical_url, Article.text_hash)).all())
    assert in_process == pooled


def test_an_article_the_database_refuses_costs_only_itself_and_is_fetched_again(first_crawl: Crawl, tmp_path):
    """Articles are committed in batches. One the database refuses (a trigger here) fails the batch; its
    other articles are then stored one by one, the refused one is counted and named, and — never
    acknowledged — it is fetched and stored by the next crawl."""
    import sqlite3

    from storage.db import Store

    with session_on(first_crawl.db_url) as session:
        expected = dict(session.execute(select(Article.canonical_url, Article.text_hash)).all())
    refused = sorted(expected)[len(expected) // 2]
    db_path = tmp_path / "refusing.db"
    Store(f"sqlite:///{db_path}", migrate=True).close()
    with sqlite3.connect(db_path) as connection:
        connection.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.canonical_url = ? "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END".replace("?", f"'{refused}'")
        )
    batch = ("-s", "NEWSWIRE_STORE_BATCH_SIZE=1000", "-s", "NEWSWIRE_STORE_BATCH_SECONDS=2")
    result = first_crawl.crawl(*batch, db_url=f"sqlite:///{db_path}")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    refusals = [line for line in result.stderr.splitlines() if "not stored" in line]  # the page, or its AMP copy too
    path = refused.split("/", 3)[3]
    assert refusals and all(path in line and "refused by the test" in line for line in refusals), result.stderr
    with session_on(f"sqlite:///{db_path}") as session:
        names = set(session.scalars(select(Outlet.name)))
    assert all(line.split(" ERROR ")[1].split(": http")[0] in names for line in refusals)  # named by its outlet
    assert crawl_runs(f"sqlite:///{db_path}")[-1].outcomes["errors/store_failed"] == len(refusals)
    with session_on(f"sqlite:///{db_path}") as session:
        stored = dict(session.execute(select(Article.canonical_url, Article.text_hash)).all())
        assert session.scalar(select(func.count()).where(Article.story_id.is_(None))) == 0
    assert stored == {url: digest for url, digest in expected.items() if url != refused}
    with sqlite3.connect(db_path) as connection:
        connection.execute("DROP TRIGGER refuse")
    again = first_crawl.crawl(db_url=f"sqlite:///{db_path}")
    assert "1 new" in again.stdout, again.stdout + again.stderr
    with session_on(f"sqlite:///{db_path}") as session:
        assert dict(session.execute(select(Article.canonical_url, Article.text_hash)).all()) == expected


def test_citations_stored_and_resolved_to_registry_outlets(first_crawl: Crawl, stored):
    from storage.models import Citation

    with session_on(first_crawl.db_url) as session:
        outlet_ids = dict(session.execute(select(Outlet.name, Outlet.id)).all())
        rows = session.execute(
            select(Article.canonical_url, Citation).join(Citation, Citation.article_id == Article.id)
        ).all()
    by_article: dict[str, list[Citation]] = {}
    for url, citation in rows:
        by_article.setdefault(url, []).append(citation)
    reference = next(u for u in by_article if "syria-requests-support" in u)
    names = {c.name for c in by_article[reference]}
    assert {"Middle East Eye", "Reuters", "Associated Press"} <= names
    assert {c.kind for c in by_article[reference]} >= {"attribution", "source-line"}
    fishermen = next(u for u in by_article if "fishermen-protest" in u)
    [cited] = by_article[fishermen]
    assert (cited.name, cited.kind, cited.outlet_id) == ("Desert Wire", "attribution", outlet_ids["Desert Wire"])


def test_one_story_at_three_outlets_with_the_cited_copy_as_original(first_crawl: Crawl, stored):
    """The wire story runs at Maghreb Ledger (identical text), Desert Wire, and Atlas Review (other
    headline and lede, cut, crediting Desert Wire): one story, and Desert Wire's copy is the original
    although the Ledger published first."""
    from storage.models import Story

    ledger = next(a for a in stored["maghreb-ledger"] if "libya-floods" in a.canonical_url)
    wire = next(a for a in stored["desert-wire"] if "libya-floods" in a.canonical_url)
    atlas = next(a for a in stored["atlas-review"] if "libya-coast" in a.canonical_url)
    everything = [a for articles in stored.values() for a in articles]
    assert all(a.story_id is not None for a in everything)
    assert ledger.story_id == wire.story_id == atlas.story_id
    copies = (ledger.id, wire.id, atlas.id)
    others = {a.story_id for a in everything if a.id not in copies}
    assert ledger.story_id not in others and len(others) == len(everything) - 3  # every other article alone
    assert ledger.published < wire.published
    with session_on(first_crawl.db_url) as session:
        story = session.get(Story, ledger.story_id)
    assert story.original_article_id == wire.id


def test_changed_article_becomes_a_new_version(fresh_web: LocalWeb):
    """A correction announced by the feed's <updated> is fetched again and kept as version 2."""
    from datetime import UTC, datetime, timedelta

    from storage.repository import article_history

    first = fresh_web.crawl()
    assert "11 new" in first.stdout, first.stderr
    url = fresh_web.web.revise_story((datetime.now(UTC) + timedelta(minutes=5)).isoformat())
    second = fresh_web.crawl()
    assert "0 new, 1 updated" in second.stdout, second.stdout + second.stderr
    with session_on(fresh_web.db_url) as session:
        [article] = session.scalars(select(Article).where(Article.canonical_url == url)).all()
        versions = article_history(session, article.id)
        assert len(session.scalars(select(Article.id)).all()) == 11
    assert [v.version for v in versions] == [1, 2]
    assert "Correction" not in versions[0].text and "Correction" in versions[1].text
    assert article.text == versions[1].text and article.text_hash == versions[1].text_hash


def test_follow_citations_crawls_an_outlet_that_was_only_cited(first_crawl: Crawl, tmp_path):
    """Crawling Atlas Review alone stores Desert Wire's articles only when citations are followed."""
    alone, following = f"sqlite:///{tmp_path / 'alone.db'}", f"sqlite:///{tmp_path / 'follow.db'}"
    first_crawl.crawl("--outlet", "Atlas Review", db_url=alone)
    result = first_crawl.crawl("--outlet", "Atlas Review", "--follow-citations", "--depth", "1", db_url=following)
    assert "Traceback" not in result.stderr, result.stderr
    counts = {}
    for db_url in (alone, following):
        with session_on(db_url) as session:
            rows = session.execute(select(Outlet.slug, Article.id).join(Article.outlet)).all()
        [run] = crawl_runs(db_url)
        counts[db_url] = {slug for slug, _ in rows}, run
    assert counts[alone][0] == {"atlas-review"}
    outlets_followed, run = counts[following]
    assert outlets_followed == {"atlas-review", "desert-wire"}  # Atlas cites Desert Wire; Desert Wire cites no one
    assert run.outcomes["followed_outlets"] == 1
