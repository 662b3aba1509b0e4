"""Stories in storage: assignment by exact and near-duplicate text, the original, and the index rebuilt from the DB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.demo.stories import ATOM_STORIES, WIRE_STORY
from storage.common.urls import article_uid
from storage.db import make_engine, make_session_factory
from storage.models import Article, Story
from storage.repository import OutletRow, add_citations, sync_outlets
from storage.stories import assign_story, backfill_stories, load_index
from tests.support.articles import store_article

STORY = "\n\n".join(WIRE_STORY)
EDITED = "\n\n".join(["Flood update", *WIRE_STORY[1:], "Share this story with your friends and family today."])
OTHER = "\n\n".join(ATOM_STORIES[0].paragraphs)


def store(session, outlet_id, url, text, published=None, cites=None):
    """An article without a date (unless `published`), citing the outlet `cites`."""
    article = store_article(session, outlet_id, url, text, published=published)
    if cites:
        add_citations(session, article.id, [{"outlet_id": cites, "name": "x", "kind": "attribution", "evidence": "e"}])
    return article


def test_stories_original_and_rebuilt_index(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    sessions = make_session_factory(make_engine(url))
    early = datetime(2025, 7, 22, 18, 0, tzinfo=UTC)
    with sessions.begin() as session:
        ids = sync_outlets(session, [OutletRow(n, n, f"https://{n}.example/") for n in ("wire", "copier", "third")])
        index = load_index(session, 0.5)
        copy = store(session, ids["copier"], "https://copier.example/a", EDITED, early, cites=ids["wire"])
        first_story = assign_story(session, copy, index)
        wire = store(session, ids["wire"], "https://wire.example/a", STORY, early + timedelta(hours=2))
        assert assign_story(session, wire, index) == first_story  # near-duplicate: other headline, tail
        same = store(session, ids["third"], "https://third.example/a", STORY, early - timedelta(hours=5))
        assert assign_story(session, same, index) == first_story  # exact text
        other = store(session, ids["third"], "https://third.example/b", OTHER)
        assert assign_story(session, other, index) != first_story
        # the copy cites the wire, so the wire's copy is the original though published later than others
        assert session.get(Story, first_story).original_article_id == wire.id
    with sessions.begin() as session:  # a new process: the index comes back from stored signatures
        rebuilt = load_index(session, 0.5, now=early)  # the days around the stories, as a crawl then would
        assert len(rebuilt) == 4
        late = store(session, ids["third"], "https://third.example/c", EDITED.replace("Flood update", "Floods"))
        assert assign_story(session, late, rebuilt) == first_story


def test_backfill_puts_old_articles_in_stories(tmp_path):
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'b.db'}"))
    with sessions.begin() as session:
        outlet = sync_outlets(session, [OutletRow("a", "a", "https://a.example/")])["a"]
        store(session, outlet, "https://a.example/1", STORY)
        store(session, outlet, "https://a.example/2", OTHER)
        assert backfill_stories(session, load_index(session, 0.5)) == 2
        assert backfill_stories(session, load_index(session, 0.5)) == 0
        assert len({a.story_id for a in session.query(Article)}) == 2


def test_merged_feed_item_id_is_named_by_the_original_in_any_database(tmp_path):
    """The item's id comes from the original's canonical URL: a later copy joining keeps it, and the same
    articles in another database give the same id. An earlier copy that becomes the original renames it."""
    from feeds.catalog import entry_from_story
    from feeds.ids import story_item_id

    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'f.db'}"))
    with sessions.begin() as session:
        ids = sync_outlets(session, [OutletRow(n, n, f"https://{n}.example/") for n in ("a", "b", "c")])
        index = load_index(session, 0.5)
        first = store(session, ids["a"], "https://a.example/1", STORY, datetime(2025, 7, 22, tzinfo=UTC))
        assign_story(session, first, index)
        alone = entry_from_story([first])
        later = store(session, ids["c"], "https://c.example/1", EDITED, datetime(2025, 7, 23, tzinfo=UTC))
        assign_story(session, later, index)
        assert entry_from_story([first, later]).id == alone.id == story_item_id(first.uid)
        earlier = store(session, ids["b"], "https://b.example/1", EDITED, datetime(2025, 7, 21, tzinfo=UTC))
        assign_story(session, earlier, index)  # an earlier copy joins and becomes the original
        story = session.get(Story, first.story_id)
        assert story.original_article_id == earlier.id
        joined = entry_from_story([earlier, first, later])
    assert joined.id == story_item_id(earlier.uid) == "tag:newswire,2026:story/" + article_uid("https://b.example/1")
    assert joined.link == "https://b.example/1" and "Also reported by" in joined.content_html


def test_incremental_election_equals_the_full_one(tmp_path):
    """Copies join one story in a random order, with random dates and citations: after each join, the
    original chosen by comparing the new copy with the current one is the one a full election chooses."""
    import random

    from storage.stories import elect_original

    rng = random.Random(12)
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'e.db'}"))
    with sessions.begin() as session:
        ids = list(
            sync_outlets(session, [OutletRow(f"o{n}", f"o{n}", f"https://o{n}.example/") for n in range(6)]).values()
        )
        index = load_index(session, 0.5)
        base = datetime(2025, 7, 22, tzinfo=UTC)
        story_ids, changes = set(), 0
        for n in range(40):
            outlet = rng.choice(ids)
            published = rng.choice([None, base + timedelta(hours=rng.randint(-48, 48))])
            text = f"{STORY}\n\nCopy {n} of the story, as outlet {outlet} ran it."
            copy = store_article(session, outlet, f"https://x.example/{n}", text, published=published)
            cited = rng.sample(ids, rng.choice([0, 0, 1, 2]))
            if cited:
                add_citations(
                    session,
                    copy.id,
                    [{"outlet_id": o, "name": "x", "kind": "attribution", "evidence": "e"} for o in cited],
                )
            story_id = assign_story(session, copy, index)
            story_ids.add(story_id)
            chosen = session.get(Story, story_id).original_article_id
            changes += chosen == copy.id
            assert chosen == elect_original(session, story_id), n
    assert len(story_ids) == 1  # one story, 40 copies
    assert 1 < changes < 40  # the original did change hands, and not at every join
