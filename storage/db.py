"""Engine and session factory from a database URL; schema creation."""

from __future__ import annotations

import logging
import os

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from storage.migrate import upgrade

logger = logging.getLogger(__name__)

DEFAULT_DB_URL = "sqlite:///newswire.db"


def resolve_db_url(url: str | None = None) -> str:
    """The database URL to use: the one given, else $NEWSWIRE_DB, else ./newswire.db."""
    return url or os.environ.get("NEWSWIRE_DB") or DEFAULT_DB_URL


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
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


def stored_urls(url: str | None, outlet_slugs: list[str]) -> dict:
    """Canonical forms of the URLs already stored for the outlets with these slugs → (article id, last fetch)."""
    from sqlalchemy import select

    from storage.models import Outlet
    from storage.repository import known_urls

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            ids = list(session.scalars(select(Outlet.id).where(Outlet.slug.in_(outlet_slugs))))
            return known_urls(session, ids)
    finally:
        engine.dispose()
