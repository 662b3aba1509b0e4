"""The local news web as a test uses it: the web, a registry of its outlets and a database path, in a
directory of the test's own; a crawl of it in a process of its own."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crawler.demo import NewsWeb
from tests.support.cli import FAST_CRAWL, run_newswire


@dataclass
class LocalWeb:
    """A news web (`web`), its registry written to `registry` and a SQLite file path (`db_path`)."""

    web: NewsWeb
    registry: Path
    db_path: Path

    @classmethod
    def beside(cls, web: NewsWeb, root: Path, db_name: str = "newswire.db") -> LocalWeb:
        """`web` with its registry and a database in the directory `root`."""
        return cls(web, web.write_registry(root / "sources.toml"), root / db_name)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    def crawl(self, *args: str, db_url: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """`newswire crawl` of every outlet of the registry (or those `args` name) into this database (or
        `db_url`), fast (FAST_CRAWL), in a process of its own."""
        return run_newswire(
            "crawl", "--sources", str(self.registry), "--db", db_url or self.db_url, *FAST_CRAWL, *args, cwd=cwd
        )


@dataclass
class Crawl(LocalWeb):
    """A finished crawl of a news web: the web, registry and database, and the crawl process's result."""

    result: subprocess.CompletedProcess[str]


@contextmanager
def fresh_news_web(root: Path, db_name: str = "newswire.db") -> Iterator[LocalWeb]:
    """A news web of its own (for tests that publish or change pages on it), started and stopped here."""
    with NewsWeb() as web:
        yield LocalWeb.beside(web, root, db_name)
