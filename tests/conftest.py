"""Shared fixtures: the local news web, a crawl of it through the real CLI and Scrapy engine, paths."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from crawler.newsweb import NewsWeb

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
PG_URL = os.environ.get("NEWSWIRE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FAST_CRAWL = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "NEWSWIRE_RETRY_BACKOFF_BASE=0"]


def require_shared(*parts: str) -> Path:
    """The path under ../shared, or skip the test when the shared data is absent (a user's clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} absent: shared test data is only beside the project in its own workspace")
    return path


def run_newswire(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 180):
    """Run the `newswire` CLI in a fresh process (one crawl per process: Twisted cannot restart)."""
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        capture_output=True,
        text=True,
        cwd=cwd or PROJECT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def postgres_absent(exc: Exception) -> NoReturn:
    """Skip a test that needs PostgreSQL, or fail it when NEWSWIRE_REQUIRE_SERVICES=1 (CI)."""
    if os.environ.get("NEWSWIRE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"PostgreSQL required but unreachable at {PG_URL}: {exc}")
    pytest.skip(f"PostgreSQL unreachable at {PG_URL}")


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh, empty schema on the machine's PostgreSQL (dropped afterwards); its name."""
    schema = f"nw_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError as exc:
        postgres_absent(exc)
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@dataclass
class Crawl:
    """A crawl of the news web: the web, its registry, database URL and the finished process."""

    web: NewsWeb
    registry: Path
    db_url: str
    db_path: Path
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def newsweb():
    with NewsWeb() as web:
        yield web


@pytest.fixture(scope="session")
def first_crawl(newsweb: NewsWeb, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """One crawl of the whole news web into a fresh SQLite file, shared by the end-to-end tests."""
    root = tmp_path_factory.mktemp("crawl")
    registry = newsweb.write_registry(root / "sources.toml")
    db_path = root / "newswire.db"
    db_url = f"sqlite:///{db_path}"
    result = run_newswire("crawl", "--sources", str(registry), "--db", db_url, *FAST_CRAWL, cwd=root)
    return Crawl(newsweb, registry, db_url, db_path, result)
