"""The cursor of incremental exports (`newswire export --state FILE`): the last store batch exported, and the
database it belongs to.

A store batch gets the next number when it commits (Article.changed; batches commit one at a time), so
"changed > cursor" is exactly what was stored or revised since the export that wrote the cursor, revisions
included (they come again, as new versions of the same article id). Those numbers mean something in one
database only: the file names it (storage/identity.py), and a state of another database is refused, as is a
cursor that is not a whole number a store batch can have. The file is JSON, written atomically.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.common.files import write_atomically

logger = logging.getLogger(__name__)

MAX_CURSOR = 2**63 - 1  # a store batch number is a 64-bit integer at most (SQLite's INTEGER, PostgreSQL's BIGINT)
MAX_STATE_BYTES = 64 * 1024  # a state file is a few lines


class StateUnreadable(ValueError):
    """The state file cannot be used: not one this command wrote, or not of this database (one line, naming the
    file)."""


def _count(data: dict[str, Any], key: str, path: Path) -> int:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CURSOR:
        shown = json.dumps(value) if isinstance(value, int | float | str | bool) or value is None else type(value)
        raise StateUnreadable(
            f"--state: {path}: {key!r} must be a whole number from 0 to {MAX_CURSOR}, not {str(shown)[:40]}"
        )
    return value


@dataclass
class ExportState:
    changed: int = 0  # the newest store batch exported
    records: int = 0  # how many records the export that wrote it wrote
    exported_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    database: str | None = None  # the id of the database exported (None: written before states named one)

    @classmethod
    def read(cls, path: Path) -> ExportState | None:
        """The state in `path`, or None when the file does not exist yet (export everything)."""
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_STATE_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateUnreadable(f"--state: cannot read {path} ({exc.strerror})") from None
        try:
            if len(raw) > MAX_STATE_BYTES:
                raise ValueError(f"over {MAX_STATE_BYTES:,} bytes")
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            database = data.get("database")
            if database is not None and not isinstance(database, str):
                raise ValueError("'database' is not a database id")
            exported_at = str(data["exported_at"])
        except (ValueError, KeyError, RecursionError) as exc:
            raise StateUnreadable(f"--state: {path} is not an export state file ({str(exc)[:80]})") from None
        return cls(_count(data, "changed", path), _count(data, "records", path), exported_at, database)

    def check(self, path: Path, database: str, newest_batch: int) -> None:
        """Refuse (StateUnreadable) a state of another database: one that names another, or an older one whose
        cursor is past this database's newest store batch."""
        if self.database is not None and self.database != database:
            raise StateUnreadable(
                f"--state: {path} is the cursor of another database ({self.database[:12]}…, this one is "
                f"{database[:12]}…): keep one state file per database"
            )
        if self.database is None:
            if self.changed > newest_batch:
                raise StateUnreadable(
                    f"--state: {path} is past this database's newest store batch ({self.changed} > {newest_batch}): "
                    "it is the cursor of another database"
                )
            logger.warning("--state: %s names no database (an older version wrote it): taken as this one's", path)

    def write(self, path: Path) -> None:
        """Replace `path` with this state, atomically (a crash leaves the old cursor or the new one)."""
        text = json.dumps(asdict(self), indent=2) + "\n"
        write_atomically(path, text.encode("utf-8"), mode=None, sweep=True)
