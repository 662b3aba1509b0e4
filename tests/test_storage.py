"""Storage on a fresh SQLite file per test, and the same code on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from storage.common.fingerprint import normalize_text, text_hash
from storage.common.urls import canonical_url, strip_tracking
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Article, ArticleVersion, Base
from storage.repository import (
    ALREADY_STORED,
    CANONICAL_CONFLICT,
    DUPLICATE_TEXT,
    NEW,
    UPDATED,
    OutletRow,
    article_history,
    insert_article,
    known_urls,
    latest_articles,
    republished_count,
    sync_outlets,
)
from storage.search import is_search_object
from tests.support.articles import article_values
from tests.support.db import PG_URL


def exercise_repository(session_factory) -> None:
    """The dedup contract, run identically on SQLite and PostgreSQL."""
    with session_factory.begin() as session:
        ids = sync_outlets(
            session, [OutletRow("A News", "a-news", "https://a.example/"), OutletRow("B", "b", "https://b/")]
        )
        again = sync_outlets(session, [OutletRow("A News", "a-news", "https://a.example/new", language="en")])
    assert again["a-news"] == ids["a-news"]
    a, b = ids["a-news"], ids["b"]
    with session_factory.begin() as session:
        outcome, first = insert_article(
            session, article_values(a, "https://a.example/s?utm_source=x", "Same story text.")
        )
        assert outcome == NEW
        assert (
            insert_article(session, article_values(a, "https://a.example/s", "Same story text."))[0] == ALREADY_STORED
        )
        assert (
            insert_article(session, article_values(a, "https://a.example/s2", "same  STORY text"))[0] == DUPLICATE_TEXT
        )
        assert insert_article(session, article_values(b, "https://b/s", "Same story text."))[0] == NEW
        # another page that declares this canonical URL but holds other text: not merged, no alias
        hijack = article_values(a, "https://a.example/other", "A different story.", canonical_url="https://a.example/s")
        assert insert_article(session, hijack)[0] == CANONICAL_CONFLICT
    with session_factory() as session:
        assert republished_count(session) == 2
        known = {url: article_id for url, (article_id, _fetched) in known_urls(session, [a]).items()}
        assert known == {"https://a.example/s": first, "https://a.example/s2": first}
    with session_factory.begin() as session:  # the same URL fetched again with changed text: a new version
        assert insert_article(session, article_values(a, "https://a.example/s", "Edited story text."))[0] == UPDATED
    with session_factory() as session:
        rows = session.scalars(select(Article).order_by(Article.id)).all()
        assert len(rows) == 2
        assert rows[0].text == "Edited story text."  # the article shows its latest version
        history = article_history(session, first)
        assert [(v.version, v.text) for v in history] == [(1, "Same story text."), (2, "Edited story text.")]
        kept = session.scalars(select(ArticleVersion.text).where(ArticleVersion.article_id == first)).all()
        assert kept == ["Same story text."]  # the current text is stored once: in the article
        assert rows[0].published == datetime(2025, 7, 23, 14, 5, tzinfo=UTC)
        assert rows[0].published.tzinfo is not None
        assert [x.id for x in latest_articles(session, 10, outlet_id=a)] == [first]


def test_repository_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    exercise_repository(make_session_factory(engine))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_naive_datetimes_refused(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with make_session_factory(engine).begin() as session:
        outlet = sync_outlets(session, [OutletRow("A", "a", "https://a/")])["a"]
    with pytest.raises(Exception, match="naive datetime"), make_session_factory(engine).begin() as session:
        insert_article(session, article_values(outlet, "https://a/x", "t", published=datetime(2025, 1, 1)))


@pytest.fixture
def pg_engine(pg_schema: str):
    """An engine on a fresh, migrated schema of the machine's PostgreSQL (skipped, or failed in CI, when absent)."""
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={pg_schema}"})
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def test_repository_on_postgresql(pg_engine):
    exercise_repository(make_session_factory(pg_engine))


def assert_migrations_match_models(engine) -> None:
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_object": lambda _o, name, *_: not is_search_object(name)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_migrations_match_models_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    assert_migrations_match_models(engine)
    upgrade(engine)  # idempotent: a second run finds nothing to do
    with engine.connect() as conn:  # a migration that rebuilds articles (batch mode) would drop the search's
        triggers = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"))
        assert [name for (name,) in triggers] == ["articles_fts_delete", "articles_fts_insert", "articles_fts_update"]


def test_migrations_match_models_on_postgresql(pg_engine):
    assert_migrations_match_models(pg_engine)


def test_canonical_urls():
    assert (
        strip_tracking("https://a.example/x?utm_source=rss&id=4&fbclid=abc&gclid=z#top") == "https://a.example/x?id=4"
    )
    assert canonical_url("https://A.example/x?b=2&a=1&utm_medium=email") == "https://a.example/x?a=1&b=2"
    assert canonical_url("https://a.example/x?id=4") == canonical_url("https://a.example/x?id=4&utm_campaign=y")


def test_text_fingerprint_ignores_case_spacing_and_punctuation():
    assert normalize_text("Hello,  World!\n\nSecond  para.") == "hello world second para"
    assert text_hash("Hello, World!") == text_hash("hello world")
    assert text_hash("Hello, World!") != text_hash("Hello, Word!")


def test_session_objects_usable_after_commit(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    factory = make_session_factory(engine)
    with factory.begin() as session:
        outlet = sync_outlets(session, [OutletRow("A", "a", "https://a/")])["a"]
        insert_article(
            session, article_values(outlet, "https://a/x", "t", fetched_at=datetime.now(UTC) - timedelta(days=1))
        )
    with Session(engine) as session:
        row = session.scalars(select(Article)).one()
    assert row.fetched_at.tzinfo is UTC


def test_unchanged_refetch_moves_fetched_at(tmp_path):
    factory = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'r.db'}"))
    early, later = datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 7, 2, tzinfo=UTC)
    with factory.begin() as session:
        outlet = sync_outlets(session, [OutletRow("A", "a", "https://a/")])["a"]
        insert_article(session, article_values(outlet, "https://a/x", "Same text here.", fetched_at=early))
        assert insert_article(session, article_values(outlet, "https://a/x", "Same text here.", fetched_at=later))[
            0
        ] == (ALREADY_STORED)
    with factory() as session:
        assert session.scalars(select(Article.fetched_at)).one() == later  # no endless refetch of unchanged pages


def test_paywall_teaser_never_replaces_the_full_story_but_a_full_fetch_replaces_a_teaser(tmp_path):
    factory = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'p.db'}"))
    full, teaser = "The whole story, every paragraph of it.", "The first lines only."
    with factory.begin() as session:
        outlet = sync_outlets(session, [OutletRow("A", "a", "https://a/")])["a"]
        insert_article(session, article_values(outlet, "https://a/full", full))
        insert_article(session, article_values(outlet, "https://a/metered", teaser, page_kind="paywall"))
    with factory.begin() as session:  # the full story fetched later behind a metered wall; the teaser, in full
        insert_article(
            session, article_values(outlet, "https://a/full", teaser + " Now behind a wall.", page_kind="paywall")
        )
        insert_article(session, article_values(outlet, "https://a/metered", full + " And more.", page_kind="article"))
    with factory() as session:
        kinds = dict(session.execute(select(Article.url, Article.page_kind)).all())
        texts = dict(session.execute(select(Article.url, Article.text)).all())
    assert kinds == {"https://a/full": "article", "https://a/metered": "article"}
    assert texts["https://a/full"] == full and texts["https://a/metered"] == full + " And more."


def test_the_extracted_fields_exist_on_both_sides_and_every_store_outcome_has_a_meaning():
    """One list of the columns an extraction fills (storage.models.EXTRACTED_FIELDS): the record has each,
    the table has a column for each; and the store pipeline's outcome table covers every outcome."""
    from dataclasses import fields

    from crawler.extract import ArticleRecord
    from crawler.pipelines.store import OUTCOMES
    from storage import repository
    from storage.models import EXTRACTED_FIELDS, Article

    record_fields = {f.name for f in fields(ArticleRecord)}
    assert set(EXTRACTED_FIELDS) <= record_fields
    assert set(EXTRACTED_FIELDS) <= set(Article.__table__.columns.keys())
    outcomes = {repository.NEW, repository.UPDATED, repository.ALREADY_STORED, repository.DUPLICATE_TEXT}
    assert outcomes | {repository.CANONICAL_CONFLICT} == set(OUTCOMES)


def test_outlets_synced_by_processes_starting_together_on_postgresql(pg_schema: str):
    """A shared crawl's planner and workers sync the registry at the same moment on a fresh database."""
    import threading

    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade
    from storage.repository import OutletRow, sync_outlets
    from tests.support.db import PG_URL

    url = f"{PG_URL}?options=-csearch_path%3D{pg_schema}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    rows = [OutletRow(f"Outlet {n}", f"outlet-{n}", f"https://o{n}.example/", "en") for n in range(200)]
    start, failures = threading.Barrier(8), []

    def sync() -> None:
        start.wait()
        try:
            with sessions.begin() as session:
                sync_outlets(session, rows)
        except Exception as exc:  # noqa: BLE001 - what the test counts
            failures.append(exc)

    threads = [threading.Thread(target=sync) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sessions() as session:
        ids = sync_outlets(session, rows)
    engine.dispose()
    assert failures == [] and len(set(ids.values())) == 200
