"""The database of a command: opened once, migrated once (the only place a command migrates)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.db import Store


def open_store(db_url: str) -> Store:
    """The command's one database, brought to the current schema."""
    from storage.db import Store

    return Store(db_url, migrate=True)
