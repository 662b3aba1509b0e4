"""Reading a test's database: a session on a URL, the crawl runs; PostgreSQL's and Redis's URLs and absence."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from storage.db import Store
from storage.models import CrawlRun

# The PostgreSQL server the tests may use (its database part is only where they connect to create their own):
# a test session makes a database of its own, PG_URL, and drops it at the end (tests/conftest.py), so that a
# newcomer's `pytest` never writes into a database someone else uses.
PG_SERVER_URL = os.environ.get("NEWSWIRE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = f"newswire_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
PG_URL = str(make_url(PG_SERVER_URL).set(database=PG_DATABASE).render_as_string(hide_password=False))


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


# Redis: every test that uses it works under a key prefix of its own (conftest's frontier_prefix) and deletes
# only those keys; nothing flushes a database.
REDIS_URL = os.environ.get("NEWSWIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_absent(exc: Exception) -> NoReturn:
    """Skip a test that needs Redis, or fail it when NEWSWIRE_REQUIRE_SERVICES=1 (CI)."""
    if os.environ.get("NEWSWIRE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"Redis required but unreachable at {REDIS_URL}: {exc}")
    pytest.skip(f"Redis unreachable at {REDIS_URL}")
