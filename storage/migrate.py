"""Schema migrations with Alembic: bring any database to the current schema (`upgrade`)."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for newswire's migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


MIGRATION_KEY = int.from_bytes(hashlib.sha256(b"newswire migrate").digest()[:8], "big", signed=True)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration the database lacks, all or nothing, one process at a time.

    One transaction holds every revision and the version stamp, so a process killed mid-upgrade leaves
    the schema as it was (on SQLite it left half the tables, and every later command failed with "table
    … already exists"). Commands started together on a new database all found it empty and all created
    its tables (six at once failed 10 times in 30): the first takes the migration lock — a file lock
    beside a SQLite file, a transaction advisory lock on PostgreSQL — and the others wait, then find the
    schema current.
    """
    config = alembic_config()
    with _file_lock(engine), _one_transaction(engine) as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def _one_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction that DDL joins too, committed when the block ends.

    PostgreSQL's DDL is transactional as it is. Python's sqlite3 begins a transaction only before INSERT,
    UPDATE, DELETE or REPLACE and runs CREATE, ALTER and DROP outside any: this connection takes
    transaction control from the driver (isolation_level None) and issues BEGIN IMMEDIATE itself, so SQLite's
    own transactional DDL covers the whole upgrade; the driver's setting is restored before the connection
    goes back to the pool.
    """
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        legacy = driver.isolation_level  # type: ignore[union-attr]
        driver.isolation_level = None  # type: ignore[union-attr]
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield connection
            connection.commit()  # the driver sends COMMIT: SQLite is inside the transaction this block began
        finally:
            if connection.in_transaction():
                connection.rollback()
            driver.isolation_level = legacy  # type: ignore[union-attr]


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """An exclusive flock on `<database>.migrate.lock` beside a SQLite file, held for the block."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    path = Path(database).resolve()
    with open(path.with_name(path.name + ".migrate.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
