"""The whole job on PostgreSQL: crawl the news web twice (the second all 304), status, feeds, served feeds."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from tests.support.cli import newswire
from tests.support.db import PG_URL
from tests.support.newsweb import LocalWeb


@pytest.fixture
def pg_url(pg_schema: str) -> str:
    """The URL of a fresh schema on the machine's PostgreSQL (skipped, or failed in CI, when absent)."""
    return f"{PG_URL}?options=-csearch_path%3D{pg_schema}"


def test_crawl_recrawl_status_and_feeds_on_postgresql(pg_url: str, local_web: LocalWeb, tmp_path: Path):
    first = local_web.crawl(db_url=pg_url)
    assert first.returncode == 1 and "11 new" in first.stdout, first.stdout + first.stderr
    second = local_web.crawl(db_url=pg_url)
    assert "0 new, 0 updated" in second.stdout and "12 not modified" in second.stdout, second.stdout
    report = json.loads(newswire("status", "--json", "--db", pg_url).stdout)
    assert report["articles"] == 11 and [r["not_modified"] for r in report["runs"]] == [12, 0]
    assert all(o["last_success_at"] and o["consecutive_failures"] == 0 for o in report["outlets"])
    written = newswire("feeds", "--db", pg_url, "--out", str(tmp_path / "feeds"))
    assert written.exit_code == 0, written.stderr
    merged = feedparser.parse((tmp_path / "feeds" / "all.atom").read_bytes())
    assert not merged.bozo and len(merged.entries) == 9  # 11 articles in 9 stories


def test_the_corpus_exports_the_same_from_postgresql(pg_url: str, local_web: LocalWeb, tmp_path: Path):
    """PostgreSQL's driver returns JSON and times as objects where SQLite returns text: the Parquet written
    from columns, the JSON Lines, the WARC (with the kept pages, bytea) and reextract agree with SQLite's."""
    import pyarrow.parquet as pq

    assert local_web.crawl(db_url=pg_url).returncode == 1
    sqlite_url = f"sqlite:///{tmp_path / 'same.db'}"
    assert local_web.crawl(db_url=sqlite_url).returncode == 1
    tables = {}
    for name, url in (("pg", pg_url), ("sqlite", sqlite_url)):
        out = tmp_path / f"{name}.parquet"
        assert newswire("export", "--db", url, "--format", "parquet", "--out", str(out)).exit_code == 0
        rows = pq.read_table(out).to_pylist()
        keep = ("id", "title", "authors", "tags", "citations", "published", "published_offset", "text", "license")
        tables[name] = sorted(({k: r[k] for k in keep} for r in rows), key=lambda r: r["id"])
        assert len(rows) == 11 and all(r["fetched_at"].tzinfo is not None for r in rows)
    assert tables["pg"] == tables["sqlite"]
    warc = newswire("export", "--db", pg_url, "--format", "warc", "--out", str(tmp_path / "pg.warc.gz"))
    assert warc.exit_code == 0 and (tmp_path / "pg.warc.gz").stat().st_size > 10_000, warc.stderr
    again = newswire("reextract", "--db", pg_url, "--sources", str(local_web.registry), "--workers", "0")
    assert again.exit_code == 0 and "11 articles: 0 changed" in again.stderr + again.stdout, again.stderr
