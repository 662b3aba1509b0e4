"""Shared fixtures: the local news web (shared, or fresh for a test that changes it), a crawl of it through
the real CLI and Scrapy engine, a fresh PostgreSQL schema, a Redis key prefix of the test's own. The helpers
they use live in tests/support."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from crawler.demo import NewsWeb
from tests.support.db import PG_DATABASE, PG_SERVER_URL, PG_URL, REDIS_URL, postgres_absent, redis_absent
from tests.support.newsweb import Crawl, LocalWeb, fresh_news_web


@pytest.fixture(scope="session", autouse=True)
def own_postgres_database() -> Iterator[None]:
    """The session's own PostgreSQL database (PG_URL), created on the server the tests may use and dropped at
    the end, the connections still open to it closed first. Where PostgreSQL is absent nothing happens: the
    tests that need it skip (or fail, under NEWSWIRE_REQUIRE_SERVICES=1) when they connect."""
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    except OperationalError:
        admin.dispose()
        yield
        return
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def frontier_prefix() -> Iterator[str]:
    """A key prefix of its own on the machine's Redis for one test's frontier; its keys deleted afterwards."""
    import redis

    prefix = f"nw_test_{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        redis_absent(exc)
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{{{prefix}}}:*"))
        if keys:
            client.delete(*keys)
        client.close()


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


@pytest.fixture(scope="session")
def newsweb() -> Iterator[NewsWeb]:
    """The news web shared by the session's tests: nobody publishes on it or changes its pages."""
    with NewsWeb() as web:
        yield web


@pytest.fixture
def local_web(newsweb: NewsWeb, tmp_path: Path) -> LocalWeb:
    """The shared news web, with a registry and a database path of this test's own."""
    return LocalWeb.beside(newsweb, tmp_path)


@pytest.fixture
def fresh_web(tmp_path: Path) -> Iterator[LocalWeb]:
    """A news web of this test's own (it publishes or changes pages), with its registry and database path."""
    with fresh_news_web(tmp_path) as web:
        yield web


@pytest.fixture(scope="session")
def first_crawl(newsweb: NewsWeb, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """One crawl of the whole news web into a fresh SQLite file, shared by the end-to-end tests."""
    root = tmp_path_factory.mktemp("crawl")
    web = LocalWeb.beside(newsweb, root)
    return Crawl(web.web, web.registry, web.db_path, web.crawl(cwd=root))
