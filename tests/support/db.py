"""Reading a test's database: a session on a URL, the crawl runs; PostgreSQL's and Redis's URLs and absence."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import Store
from storage.models import CrawlRun

PG_URL = os.environ.get("NEWSWIRE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def session_on(db_url: str) -> Iterator[Session]:
    """A session on the database at `db_url` (no migration), its engine disposed afterwards. Rows read
    stay usable after the block (their loaded attributes are kept)."""
    with Store(db_url) as store, store.sessions() as session:
        yield session


def crawl_runs(db_url: str) -> list[CrawlRun]:
    """Every crawl's CrawlRun row, oldest first."""
    with session_on(db_url) as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def last_run(db_url: str) -> CrawlRun:
    """The latest crawl's CrawlRun row."""
    return crawl_runs(db_url)[-1]


def postgres_absent(exc: Exception) -> NoReturn:
    """Skip a test that needs PostgreSQL, or fail it when NEWSWIRE_REQUIRE_SERVICES=1 (CI)."""
    if os.environ.get("NEWSWIRE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"PostgreSQL required but unreachable at {PG_URL}: {exc}")
    pytest.skip(f"PostgreSQL unreachable at {PG_URL}")


REDIS_URL = os.environ.get("NEWSWIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_absent(exc: Exception) -> NoReturn:
    """Skip a test that needs Redis, or fail it when NEWSWIRE_REQUIRE_SERVICES=1 (CI)."""
    if os.environ.get("NEWSWIRE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"Redis required but unreachable at {REDIS_URL}: {exc}")
    pytest.skip(f"Redis unreachable at {REDIS_URL}")
