"""Writing files so that a reader never sees half of one (feeds, crontab files): shared by every layer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, mode: int | None = 0o644) -> None:
    """Write `data` to `path` through a temporary file beside it and a rename. `mode`: the file's
    permissions, or None to keep those of the file being replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if mode is None and path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        elif mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
