"""One crawl at a time per database: an OS record lock, released by the kernel even when the crawl is killed;
on PostgreSQL also a session advisory lock, so crawls on different hosts never overlap either."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

EXIT_LOCKED = 75  # EX_TEMPFAIL: another crawl holds the lock; try again later
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"newswire crawl").digest()[:8], "big", signed=True)


class CrawlLocked(RuntimeError):
    """Another crawl of the same database is running."""


def lock_path(db_url: str) -> Path:
    """The lock file of a database: beside a SQLite file, else in the temp directory, named by the URL."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database).resolve()
        return database.with_name(database.name + ".crawl.lock")  # x.db and x.sqlite: two locks
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"newswire-{digest}.crawl.lock"


@contextmanager
def crawl_lock(db_url: str) -> Iterator[Path]:
    """Hold the database's crawl lock for the block; raise CrawlLocked at once if another crawl has it.

    A POSIX record lock (lockf) belongs to the process that took it: it vanishes when that process exits,
    however it exits, and a process forked from it never holds it. flock() belonged to the open file, which
    forked children share: a killed `reextract` left its forked workers holding the lock, and every later
    crawl exited 75 naming a dead pid.
    """
    path = lock_path(db_url)  # beside the database (its directory is checked first) or in the temp directory
    handle = open(path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):  # not "another process holds it"
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise CrawlLocked(f"another crawl of this database is running ({holder}); lock: {path}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        with _advisory_lock(db_url):
            yield path
    finally:
        handle.close()


@contextmanager
def _advisory_lock(db_url: str) -> Iterator[None]:
    """On PostgreSQL, hold a session advisory lock on one connection for the block (the server drops it
    when that connection ends, however the process ends); elsewhere nothing."""
    if make_url(db_url).get_backend_name() != "postgresql":
        yield
        return
    engine = create_engine(db_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
            connection.commit()
            if not got:
                raise CrawlLocked("another crawl of this database is running (PostgreSQL advisory lock held)")
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                connection.commit()
    finally:
        engine.dispose()
