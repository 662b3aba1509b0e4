"""Engine and session factory from a database URL; schema creation."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from storage.migrate import upgrade

DEFAULT_DB_URL = "sqlite:///newswire.db"


class DatabaseUnusable(ValueError):
    """A database URL that cannot be used as given; the message is one line saying why."""


def check_database(url: str, *, must_exist: bool) -> str:
    """`url` when newswire can use it; DatabaseUnusable otherwise.

    Refused: what is not a URL, databases other than SQLite and PostgreSQL, a missing driver (saying
    which extra installs it), a SQLite file in a directory that does not exist, and — with `must_exist`
    (every command but a crawl) — a SQLite file that does not exist: a typo must not create an empty
    database and report on it.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnusable(f"not a database URL: {url!r} (e.g. sqlite:///newswire.db)") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseUnusable(
            f"{backend}: newswire stores in SQLite or PostgreSQL (sqlite:///FILE, postgresql+psycopg://…)"
        )
    try:
        parsed.get_dialect().import_dbapi()
    except (ImportError, NoSuchModuleError) as exc:
        hint = (
            "newswire uses psycopg 3: postgresql+psycopg://…, after pip install 'newswire[postgres]'"
            if backend == "postgresql"
            else "install its DBAPI driver"
        )
        raise DatabaseUnusable(f"{parsed.drivername}: driver not available ({exc}); {hint}") from None
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.parent.is_dir():
            raise DatabaseUnusable(f"no directory {path.parent} for the database {path.name}")
        if must_exist and not path.is_file():
            raise DatabaseUnusable(f"no database at {path} (a crawl creates it: newswire crawl --db {url})")
    return url


def resolve_db_url(url: str | None = None) -> str:
    """The database URL to use: the one given, else $NEWSWIRE_DB, else ./newswire.db."""
    return url or os.environ.get("NEWSWIRE_DB") or DEFAULT_DB_URL


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # Under WAL, NORMAL syncs at checkpoints, not at every commit: a committed transaction survives a
    # process crash (kill -9); only a power loss or OS crash can take the last commits back.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """An engine for `url` (SQLite gets WAL, foreign keys and a busy timeout).

    With `migrate`, the database is first brought to the current schema by Alembic's migrations.
    """
    engine = create_engine(resolve_db_url(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to `engine`; objects stay usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


class Store:
    """One database for one command or one crawl: its engine and session factory, ended by close() or a
    with block. Migrations run only when asked (`migrate=True`): once per command, never as a side effect
    of a component opening the database inside a crawl."""

    def __init__(self, url: str | None = None, *, migrate: bool = False) -> None:
        self.url = resolve_db_url(url)
        self.engine = make_engine(self.url, migrate=migrate)
        self.sessions = make_session_factory(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __deepcopy__(self, memo: dict) -> Store:
        return self  # a handle on a shared resource, not a value: copies of settings that carry it share it

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stored_urls(store: Store, outlet_slugs: list[str]) -> dict:
    """Canonical forms of the URLs already stored for the outlets with these slugs → (article id, last fetch)."""
    from sqlalchemy import select

    from storage.models import Outlet
    from storage.repository import known_urls

    with store.sessions() as session:
        ids = list(session.scalars(select(Outlet.id).where(Outlet.slug.in_(outlet_slugs))))
        return known_urls(session, ids)
