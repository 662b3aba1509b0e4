"""The whole job on PostgreSQL: crawl the news web twice (the second all 304), status, feeds, served feeds."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from crawler.newsweb import NewsWeb
from tests.conftest import FAST_CRAWL, run_newswire
from tests.test_storage import PG_URL


@pytest.fixture
def pg_url():
    """The URL of a fresh schema on the machine's PostgreSQL; skipped (or failed in CI) when it is absent."""
    schema = f"nw_e2e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError as exc:
        if os.environ.get("NEWSWIRE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_crawl_recrawl_status_and_feeds_on_postgresql(pg_url: str, tmp_path: Path):
    with NewsWeb() as web:
        registry = web.write_registry(tmp_path / "sources.toml")
        first = run_newswire("crawl", "--sources", str(registry), "--db", pg_url, *FAST_CRAWL)
        assert first.returncode == 1 and "11 new" in first.stdout, first.stdout + first.stderr
        second = run_newswire("crawl", "--sources", str(registry), "--db", pg_url, *FAST_CRAWL)
        assert "0 new, 0 updated" in second.stdout and "12 not modified" in second.stdout, second.stdout
    report = json.loads(run_newswire("status", "--json", "--db", pg_url).stdout)
    assert report["articles"] == 11 and [r["not_modified"] for r in report["runs"]] == [12, 0]
    assert all(o["last_success_at"] and o["consecutive_failures"] == 0 for o in report["outlets"])
    written = run_newswire("feeds", "--db", pg_url, "--out", str(tmp_path / "feeds"))
    assert written.returncode == 0, written.stderr
    merged = feedparser.parse((tmp_path / "feeds" / "all.atom").read_bytes())
    assert not merged.bozo and len(merged.entries) == 9  # 11 articles in 9 stories
