"""`newswire reextract` after a change to an extraction rule: new versions exactly where the text changed,
with their stories, kept responses and incremental exports following."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

import crawler.processing.job
from storage.models import Article, Outlet, RawFetch
from tests.support.cli import newswire
from tests.support.db import session_on
from tests.support.newsweb import LocalWeb

NOTE = "Editor's note: this story was reviewed."


@pytest.fixture
def crawled(fresh_web: LocalWeb) -> LocalWeb:
    assert "11 new" in fresh_web.crawl().stdout
    return fresh_web


def _versions(db_url: str) -> dict[str, tuple[str, int, str]]:
    with session_on(db_url) as session:
        rows = session.execute(select(Article.canonical_url, Outlet.slug, Article.version, Article.text).join(Outlet))
        return {url: (slug, version, text) for url, slug, version, text in rows}


def test_a_changed_rule_makes_new_versions_only_where_the_text_changed(crawled: LocalWeb, monkeypatch, tmp_path):
    state = tmp_path / "state.json"
    assert (
        newswire(
            "export", "--db", crawled.db_url, "--state", str(state), "--out", str(tmp_path / "all.jsonl")
        ).exit_code
        == 0
    )
    before = _versions(crawled.db_url)
    unchanged = newswire("reextract", "--db", crawled.db_url, "--sources", str(crawled.registry), "--workers", "0")
    assert unchanged.exit_code == 0 and "0 changed" in unchanged.stderr + unchanged.stdout, unchanged.stderr

    extract = crawler.processing.job.extract_article

    def with_a_new_rule(text, url, context):  # a rule that now keeps a closing note on Al-Khabar's pages
        record = extract(text, url, context)
        if "/akhbar/" in url:
            record.text = f"{record.text}\n\n{NOTE}"
        return record

    monkeypatch.setattr(crawler.processing.job, "extract_article", with_a_new_rule)
    result = newswire("reextract", "--db", crawled.db_url, "--sources", str(crawled.registry), "--workers", "0")
    assert result.exit_code == 0, result.stderr
    khabar = {url for url, (slug, _, _) in before.items() if slug == "al-khabar"}
    assert f"{len(khabar)} changed" in result.stderr + result.stdout, result.stderr
    after = _versions(crawled.db_url)
    for url, (_slug, version, text) in after.items():
        if url in khabar:
            assert version == 2 and text.endswith(NOTE) and text.startswith(before[url][2][:50])
        else:
            assert (version, text) == before[url][1:]
    with session_on(crawled.db_url) as session:  # the new versions came from the kept responses
        kept = session.scalars(select(RawFetch.version).join(Article).where(Article.canonical_url.in_(khabar)))
        assert sorted(kept) == [1] * len(khabar) + [2] * len(khabar)
    again = newswire("reextract", "--db", crawled.db_url, "--sources", str(crawled.registry), "--workers", "0")
    assert "0 changed" in again.stderr + again.stdout  # the same rule twice: nothing more
    revised = [
        json.loads(line)
        for line in newswire("export", "--db", crawled.db_url, "--state", str(state)).stdout.splitlines()
    ]
    assert {r["canonical_url"] for r in revised} == khabar and {r["version"] for r in revised} == {2}


def test_reextract_in_worker_processes_finds_what_one_process_finds(crawled: LocalWeb):
    result = newswire("reextract", "--db", crawled.db_url, "--sources", str(crawled.registry), "--workers", "2")
    assert result.exit_code == 0 and "reextracted 11 articles: 0 changed" in result.stderr + result.stdout
    bad = newswire("reextract", "--db", crawled.db_url, "--sources", str(crawled.registry), "--outlet", "Nope")
    assert bad.exit_code == 2 and "no outlet 'nope'" in bad.stderr


def test_an_unreadable_kept_page_is_named_and_the_rest_reextracted(crawled: LocalWeb, tmp_path):
    """One kept body cut short and one that inflates to 1 GiB each aborted the whole run with a traceback (and
    the bomb took it to 6.4 GB); hints with a key this version does not know did too. Under a 1.5 GB memory
    limit: the two bodies are counted as failed and named in a line each, every other page is re-extracted."""
    import sqlite3
    import subprocess
    import sys

    import zstandard

    from tests.support.paths import PROJECT

    stream = zstandard.ZstdCompressor(level=1).compressobj()
    bomb = b"".join(stream.compress(b"\0" * 2**24) for _ in range(64)) + stream.flush()  # 1 GiB in ~33 KB
    with sqlite3.connect(crawled.db_path) as database:
        rows = database.execute(
            "SELECT f.article_id, f.digest, b.data FROM raw_fetches f JOIN raw_bodies b ON b.digest = f.digest "
            "ORDER BY f.article_id"
        ).fetchall()
        (cut_id, cut_digest, cut_data), (bomb_id, bomb_digest, _), (hinted_id, _, _) = rows[:3]
        database.execute("UPDATE raw_bodies SET data = ? WHERE digest = ?", (cut_data[:-20], cut_digest))
        database.execute("UPDATE raw_bodies SET data = ? WHERE digest = ?", (bomb, bomb_digest))
        database.execute(
            "UPDATE raw_fetches SET hints = ? WHERE article_id = ?",
            (
                json.dumps({"source": "feed", "title": None, "published_raw": None, "from_a_later_version": 1}),
                hinted_id,
            ),
        )
    database.close()
    command = [sys.executable, "-m", "crawler", "reextract", "--db", crawled.db_url, "--sources",
               str(crawled.registry), "--workers", "2"]  # fmt: skip
    result = subprocess.run(
        ["bash", "-c", 'ulimit -v 1500000 && exec "$@"', "bash", *command],
        capture_output=True, text=True, cwd=PROJECT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    named = [line for line in result.stderr.splitlines() if "kept page unreadable" in line]
    assert len(named) == 2 and f"(article {cut_id})" in named[0] and f"(article {bomb_id})" in named[1], named
    assert all(": http://127.0.0.1:" in line for line in named) and "cap" in named[1]
    summary = result.stdout + result.stderr
    assert "reextracted 11 articles: 0 changed" in summary and "9 unchanged, 2 failed" in summary
