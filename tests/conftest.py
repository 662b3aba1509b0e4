"""Shared fixtures: the local news web, a crawl of it through the real CLI and Scrapy engine, paths."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.newsweb import NewsWeb

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
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
