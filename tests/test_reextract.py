"""`newswire reextract` after a change to an extraction rule: new versions exactly where the text changed,
with their stories, kept responses and incremental exports following."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

import crawler.extraction
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

    extract = crawler.extraction.extract_article

    def with_a_new_rule(text, url, context):  # a rule that now keeps a closing note on Al-Khabar's pages
        record = extract(text, url, context)
        if "/akhbar/" in url:
            record.text = f"{record.text}\n\n{NOTE}"
        return record

    monkeypatch.setattr(crawler.extraction, "extract_article", with_a_new_rule)
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
