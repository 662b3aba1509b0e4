"""No overlapping crawls: a second crawl of the same database exits at once; a killed crawl leaves no lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from scheduling.lock import EXIT_LOCKED, CrawlLocked, crawl_lock, lock_path
from tests.support.cli import newswire

HOLD = (
    "import sys, time\nfrom scheduling.lock import crawl_lock\n"
    "with crawl_lock(sys.argv[1]):\n    print('locked', flush=True)\n    time.sleep(60)\n"
)


def hold_lock(db_url: str) -> subprocess.Popen:
    """A process that holds the database's crawl lock (as a running crawl would) until killed."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, db_url], stdout=subprocess.PIPE, text=True)
    line = holder.stdout.readline().strip()
    holder.stdout.close()
    assert line == "locked"
    return holder


def test_second_crawl_exits_at_once_with_its_own_code(tmp_path, first_crawl):
    db_url = f"sqlite:///{tmp_path / 'locked.db'}"
    holder = hold_lock(db_url)
    try:
        started = time.monotonic()
        result = newswire("crawl", "--sources", str(first_crawl.registry), "--db", db_url)  # stops before crawling
        assert result.exit_code == EXIT_LOCKED and result.stdout == ""
        assert time.monotonic() - started < 30
        assert "another crawl of this database is running" in result.stderr
        assert f"pid {holder.pid}" in result.stderr and result.stderr.startswith("newswire: error:")
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_crawl_leaves_no_lock(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'killed.db'}"
    holder = hold_lock(db_url)
    with pytest.raises(CrawlLocked), crawl_lock(db_url):
        pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with crawl_lock(db_url) as path:  # taken at once after kill -9
        assert path == lock_path(db_url)


def test_lock_files_per_database(tmp_path):
    assert lock_path(f"sqlite:///{tmp_path / 'a.db'}") == (tmp_path / "a.db.crawl.lock")
    assert lock_path(f"sqlite:///{tmp_path / 'a.sqlite'}") != lock_path(f"sqlite:///{tmp_path / 'a.db'}")
    first, second = lock_path("postgresql+psycopg://u:secret@h/db1"), lock_path("postgresql+psycopg://u@h/db2")
    assert first != second and "secret" not in str(first)


def test_postgresql_crawls_exclude_each_other_across_hosts():
    """The file lock is per host; on PostgreSQL a session advisory lock covers other hosts too."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from scheduling.lock import ADVISORY_KEY
    from tests.support.db import PG_URL, postgres_absent

    # stands for a crawl on another machine: only the database is shared
    other_host = create_engine(PG_URL, poolclass=NullPool)
    try:
        connection = other_host.connect()
    except Exception as exc:  # noqa: BLE001 - any connection failure means the service is absent
        postgres_absent(exc)
    try:
        assert connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        with pytest.raises(CrawlLocked, match="advisory lock"), crawl_lock(PG_URL):
            pass
        connection.close()  # the other crawl's connection ends (it finished, or its host died)
        with crawl_lock(PG_URL):
            pass
    finally:
        connection.close()
        other_host.dispose()
