"""What the store costs a crawl: the near-duplicate index loads the days a copy can match, not the whole
store (the window around now when a crawl starts, older days when an older article comes; stories come
out the same); SQLite commits without an fsync each (WAL, synchronous=NORMAL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.demo.stories import ATOM_STORIES, WIRE_STORY
from storage.db import Store
from storage.models import Article
from storage.repository import OutletRow, sync_outlets
from storage.stories import assign_story, load_index
from tests.support.articles import store_article

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
STORY = "\n\n".join(WIRE_STORY)
OTHER = "\n\n".join(ATOM_STORIES[0].paragraphs)


def _store(session, outlet_id: int, url: str, text: str, published: datetime) -> Article:
    return store_article(session, outlet_id, url, text, published=published, fetched_at=published)


def test_the_index_loads_the_window_and_older_days_on_demand(tmp_path):
    with Store(f"sqlite:///{tmp_path / 'w.db'}", migrate=True) as store:
        with store.sessions.begin() as session:
            ids = sync_outlets(session, [OutletRow(n, n, f"https://{n}.example/") for n in ("a", "b", "c")])
            index = load_index(session, 0.5, now=NOW)
            # one story a month ago, one yesterday, each from outlet a
            old = _store(session, ids["a"], "https://a.example/old", STORY, NOW - timedelta(days=30))
            old_story = assign_story(session, old, index)
            recent = _store(session, ids["a"], "https://a.example/new", OTHER, NOW - timedelta(days=1))
            recent_story = assign_story(session, recent, index)
        with store.sessions.begin() as session:  # the next crawl
            index = load_index(session, 0.5, now=NOW)
            assert set(index.signatures) == {str(recent.id)}  # the month-old signature is not loaded
            copy = _store(session, ids["b"], "https://b.example/x", OTHER + "\n\nShare this.", NOW)
            assert assign_story(session, copy, index) == recent_story
            # an old story's copy, dated near it: its days are loaded when it comes, and it joins
            late = _store(session, ids["c"], "https://c.example/y", STORY + "\n\nShare this.", NOW - timedelta(days=29))
            assert assign_story(session, late, index) == old_story
            assert str(old.id) in index.signatures
            # outside every copy's window it is a new story, as before the window was loaded lazily
            far = _store(session, ids["b"], "https://b.example/z", STORY + "\n\nUpdated.", NOW - timedelta(days=60))
            assert assign_story(session, far, index) not in (old_story, recent_story)


def test_sqlite_runs_in_wal_with_normal_sync(tmp_path):
    """WAL + synchronous=NORMAL: no fsync per commit, and a committed row survives a crash of the process."""
    from sqlalchemy import text

    with Store(f"sqlite:///{tmp_path / 'p.db'}", migrate=True) as store, store.sessions() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_an_article_dated_at_the_edge_of_time_still_finds_its_story(tmp_path):
    """A CMS's empty date (0001-01-01, kept by an older version) made the window arithmetic overflow: the
    article was not stored (OverflowError). Dates at either end of the calendar are covered, not computed past."""
    with Store(f"sqlite:///{tmp_path / 'e.db'}", migrate=True) as store, store.sessions.begin() as session:
        ids = sync_outlets(session, [OutletRow(n, n, f"https://{n}.example/") for n in ("a", "b")])
        index = load_index(session, 0.5, now=NOW)
        year_one = datetime(1, 1, 1, tzinfo=UTC)
        first = _store(session, ids["a"], "https://a.example/1", STORY, year_one)
        story = assign_story(session, first, index)
        second = _store(session, ids["b"], "https://b.example/1", STORY + "\n\nShare this.", year_one)
        assert assign_story(session, second, index) == story
        far = _store(session, ids["b"], "https://b.example/2", OTHER, datetime(9999, 12, 31, tzinfo=UTC))
        assert assign_story(session, far, index) != story


def test_migration_0008_keeps_each_text_once_and_loses_no_version(tmp_path):
    """Before 0008 the current text was in articles and again as the last row of article_versions."""
    from sqlalchemy import text

    from storage.db import make_engine
    from storage.migrate import upgrade
    from storage.repository import article_history

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    upgrade(engine, "0007")
    with engine.begin() as conn:
        outlet = "INSERT INTO outlets VALUES (1, 'A', 'a', 'https://a/', NULL, '[]', '2026-12-01 10:00:00')"
        conn.execute(text(outlet))
        for article_id, texts in ((1, ["first", "second"]), (2, ["only"])):
            conn.execute(
                text(
                    "INSERT INTO articles (id, outlet_id, url, canonical_url, title, authors, tags, text, html,"
                    " text_hash, fetched_at) VALUES (:id, 1, :url, :url, 'T', '[]', '[]', :text, '', :hash,"
                    " '2026-12-01 10:00:00')"
                ),
                {"id": article_id, "url": f"https://a/{article_id}", "text": texts[-1], "hash": texts[-1]},
            )
            for version, body in enumerate(texts, 1):
                conn.execute(
                    text(
                        "INSERT INTO article_versions (article_id, version, title, text, html, text_hash, fetched_at)"
                        " VALUES (:id, :v, 'T', :text, '', :text, '2026-12-01 10:00:00')"
                    ),
                    {"id": article_id, "v": version, "text": body},
                )
    upgrade(engine)
    with Store(f"sqlite:///{tmp_path / 'old.db'}") as store, store.sessions() as session:
        assert [v.text for v in article_history(session, 1)] == ["first", "second"]
        assert [(v.version, v.text) for v in article_history(session, 2)] == [(1, "only")]
        assert session.execute(text("SELECT article_id, version FROM article_versions")).all() == [(1, 1)]
    engine.dispose()
