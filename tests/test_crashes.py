"""`kill -9` at any moment leaves what was stored usable and nothing running: a schema migration, a
re-extraction.

The migration tests start the real migration (storage.migrate.upgrade) in a process of its own, kill it with
SIGKILL at points spread over the time a whole migration takes, and then run `newswire status` on the
database, which must work and find every stored article. A killed `newswire reextract` must take its
extraction workers with it and leave the crawl lock free.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text

from crawler.processing.lifetime import gone
from scheduling.lock import crawl_lock
from storage.migrate import alembic_config
from storage.models import Article
from tests.support.cli import newswire
from tests.support.db import PG_URL, session_on

KILLS = 6  # kill points per test, spread evenly over one whole migration's duration
_MIGRATE = """
import sys, time
from sqlalchemy import create_engine
from storage.migrate import upgrade
import alembic.command, storage.models  # loaded before the parent's clock starts
engine = create_engine(sys.argv[1])
print("ready", flush=True)
started = time.perf_counter()
upgrade(engine)
print(time.perf_counter() - started, flush=True)
"""


def _start_migration(db_url: str) -> subprocess.Popen[str]:
    """A process that migrates `db_url` to the current schema, once it printed that it is about to."""
    process = subprocess.Popen([sys.executable, "-c", _MIGRATE, db_url], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def _whole_migration_seconds(db_url: str) -> float:
    process = _start_migration(db_url)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    return float(out.strip())


def _kill_during_migration(db_url: str, after: float) -> None:
    process = _start_migration(db_url)
    time.sleep(after)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)  # reaped, its pipe closed


def _status_works(db_url: str) -> None:
    result = newswire("status", "--db", db_url)
    assert result.exit_code == 0, result.stderr


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _copy_sqlite(source: Path, target: Path) -> None:
    """A copy of a SQLite database, its write-ahead log included."""
    _remove_sqlite(target)
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")


def _descendants(pid: int) -> set[int]:
    """The processes below `pid` (children, grandchildren, …), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # ended while being read
            children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def test_a_migration_of_a_new_sqlite_file_killed_anywhere_leaves_a_usable_database(tmp_path):
    db = tmp_path / "new.db"
    duration = _whole_migration_seconds(f"sqlite:///{tmp_path / 'timed.db'}")
    for i in range(KILLS):
        _remove_sqlite(db)
        _kill_during_migration(f"sqlite:///{db}", duration * i / (KILLS - 1))
        if db.exists():  # killed before the file was made: nothing to check
            _status_works(f"sqlite:///{db}")


def test_an_upgrade_killed_anywhere_keeps_every_article(first_crawl, tmp_path):
    """A database of an older schema (0007) holding the first crawl's articles, upgraded and killed."""
    older = tmp_path / "older.db"
    _copy_sqlite(first_crawl.db_path, older)
    engine = create_engine(f"sqlite:///{older}")
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
        stored = connection.scalar(text("SELECT count(*) FROM articles"))
    engine.dispose()
    assert stored and stored > 5
    shutil.copy(older, tmp_path / "timed.db")
    duration = _whole_migration_seconds(f"sqlite:///{tmp_path / 'timed.db'}")
    for i in range(KILLS):
        db = tmp_path / "upgrading.db"
        _remove_sqlite(db)
        shutil.copy(older, db)
        _kill_during_migration(f"sqlite:///{db}", duration * i / (KILLS - 1))
        _status_works(f"sqlite:///{db}")
        with session_on(f"sqlite:///{db}") as session:
            assert session.scalar(select(func.count(Article.id))) == stored


def test_a_postgresql_migration_killed_anywhere_leaves_a_usable_database(pg_schema):
    schema_url = f"{PG_URL}?options=-csearch_path%3D{pg_schema}"
    admin = create_engine(PG_URL)
    try:
        duration = _whole_migration_seconds(schema_url)
        for i in range(KILLS):
            with admin.begin() as connection:  # start again from an empty schema
                connection.execute(text(f"DROP SCHEMA {pg_schema} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {pg_schema}"))
            _kill_during_migration(schema_url, duration * i / (KILLS - 1))
            _status_works(schema_url)
    finally:
        admin.dispose()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_a_killed_reextract_leaves_no_worker_and_no_lock(first_crawl, tmp_path):
    """Its forked workers lived on (1.2 GB each), holding the crawl lock: every later crawl exited 75."""
    db = tmp_path / "copy.db"
    _copy_sqlite(first_crawl.db_path, db)
    db_url = f"sqlite:///{db}"
    command = [sys.executable, "-m", "crawler", "reextract", "--db", db_url, "--sources", str(first_crawl.registry)]
    process = subprocess.Popen([*command, "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while process.poll() is None and len(workers) < 2 and time.monotonic() < deadline:
        workers = _descendants(process.pid)  # a fork server and its workers, or forked workers
        time.sleep(0.02)
    assert len(workers) >= 2, "reextract ended before its workers could be seen"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    deadline = time.monotonic() + 15
    while not all(gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in workers if not gone(pid)] == []
    with crawl_lock(db_url):  # free at once
        pass
