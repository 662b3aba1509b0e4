"""The database's own id: random, given once by migration 0014, kept in `database_meta`; what names a database in
files written for it (an export's state), so that they are never used with another."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DatabaseMeta

logger = logging.getLogger(__name__)

DATABASE_ID = "database_id"


class NoDatabaseId(LookupError):
    """The database has no id (its `database_meta` row was deleted by hand)."""


def database_id(session: Session) -> str:
    """This database's id (32 hex digits). A copy of the file is the same database, with the same id."""
    value = session.scalar(select(DatabaseMeta.value).where(DatabaseMeta.key == DATABASE_ID))
    if value is None:
        raise NoDatabaseId("the database has no id (database_meta has no database_id row)")
    return value
