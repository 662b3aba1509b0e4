"""Stories the web reader finds hard, written straight into a database: many copies of a long text, and texts so
repetitive that a naive word diff goes cubic (tests/test_serve_faults.py, bench.faults)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from storage.common.fingerprint import text_hash
from storage.common.urls import article_uid
from storage.db import make_engine, make_session_factory
from storage.models import Article, Story
from storage.repository import OutletRow, sync_outlets

DAY = datetime(2025, 7, 23, 9, 0, tzinfo=UTC)
_SYLLABLES = ("ka", "lo", "mi", "ra", "te", "su", "vo", "ne", "di", "pa", "ro", "zu", "fe", "gi", "ha", "yo")


def varied_text(words: int, seed: int = 1) -> str:
    """Prose-like text of `words` words: sentences of 8-24 words over a vocabulary of 3,000 words, paragraphs of
    5 sentences."""
    rnd = random.Random(seed)
    vocabulary = ["".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(1, 4))) for _ in range(3000)]
    out: list[str] = []
    sentence = 0
    while len(out) < words:
        length = rnd.randint(8, 24)
        out += [rnd.choice(vocabulary) for _ in range(length)]
        out[-1] += "."
        sentence += 1
        if sentence % 5 == 0:
            out[-1] += "\n\n"
    return " ".join(out[:words]).replace("\n\n ", "\n\n")


def repetitive_text(words: int) -> str:
    """One word again and again: every word matches every other, the case that made difflib cubic."""
    return " ".join(["news"] * words)


def edited(text: str, seed: int, every: int = 7) -> str:
    """`text` as a copier rewrote it: one word in `every` replaced (shifted by the seed), the rest kept."""
    words = text.split(" ")
    return " ".join("changed" if (i + seed) % every == 0 else w for i, w in enumerate(words))


def store_heavy_story(db_url: str, copies: int, original: str, copy_text: list[str] | None = None) -> str:
    """A story of `copies` copies (the original and copies - 1 others, each at an outlet of its own) whose
    original has text `original` and whose other copies have the texts `copy_text` (cycled; default: `edited`
    versions of the original). Rows are inserted directly (no near-duplicate signatures). The original's uid."""
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine).begin() as session:
            outlets = [OutletRow(f"Outlet {n}", f"outlet-{n}", f"https://o{n}.example/", "en") for n in range(copies)]
            ids = sync_outlets(session, outlets)
            story_id = session.scalar(insert(Story).returning(Story.id))
            rows = []
            for n in range(copies):
                text = original if n == 0 else (copy_text or [edited(original, n)])[(n - 1) % len(copy_text or [1])]
                url = f"https://o{n}.example/story"
                rows.append({
                    "outlet_id": ids[f"outlet-{n}"], "url": url, "canonical_url": url, "uid": article_uid(url),
                    "title": "Heavy story" if n == 0 else f"Heavy story, copy {n}", "text": text,
                    "html": f"<p>{text}</p>", "text_hash": text_hash(text), "language": "en", "story_id": story_id,
                    "published": DAY + timedelta(minutes=n), "fetched_at": DAY + timedelta(minutes=n, hours=1),
                })  # fmt: skip
            session.execute(insert(Article), rows)
            first = session.scalar(select(Article.id).where(Article.canonical_url == "https://o0.example/story"))
            session.execute(update(Story).where(Story.id == story_id).values(original_article_id=first))
    finally:
        engine.dispose()
    return article_uid("https://o0.example/story")
