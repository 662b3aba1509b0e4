"""The cursor of incremental exports (`newswire export --state FILE`): the last store batch exported.

A store batch gets the next number when it commits (Article.changed; batches commit one at a time), so
"changed > cursor" is exactly what was stored or revised since the export that wrote the cursor, revisions
included (they come again, as new versions of the same article id). The file is JSON, written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path


class StateUnreadable(ValueError):
    """The state file exists but is not one this command wrote (one line, naming the file)."""


@dataclass
class ExportState:
    changed: int = 0  # the newest store batch exported
    records: int = 0  # how many records the export that wrote it wrote
    exported_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @classmethod
    def read(cls, path: Path) -> ExportState:
        """The state in `path`; a fresh one (export everything) when the file does not exist yet."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            changed, records = int(data["changed"]), int(data.get("records", 0))
            return cls(changed=changed, records=records, exported_at=str(data["exported_at"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StateUnreadable(f"--state: {path} is not an export state file ({exc})") from None

    def write(self, path: Path) -> None:
        """Replace `path` with this state, atomically (a crash leaves the old cursor or the new one)."""
        handle, temporary = tempfile.mkstemp(dir=path.parent or Path("."), prefix=path.name, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(asdict(self), out, indent=2)
            out.write("\n")
        os.replace(temporary, path)
