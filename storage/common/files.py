"""Writing files so that a reader never sees half of one (feeds, crontab files, exports): shared by every layer.

A new version of a file (or of a directory of parts) is written under a temporary name beside it, `.NAME.*.tmp`,
locked (flock) while it is written, synced, and renamed onto NAME only when complete: a crash or `kill -9` at any
point leaves the old version or the new one, never a part of either. A writer killed mid-way leaves its
temporary behind (nothing runs after SIGKILL); the next writer of NAME removes it — a temporary is stale when no
process holds its lock (the kernel drops a lock when its holder dies), so one being written now is never touched.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

logger = logging.getLogger(__name__)

TEMPORARY_SUFFIX = ".tmp"


def _umask_mode(directory: bool) -> int:
    """The permissions `open()` or `mkdir()` would give a new file or directory under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def temporaries(path: Path) -> list[Path]:
    """The temporaries of writers of `path`, live or dead: `.NAME.XXXXXXXX.tmp` beside it (the random part has no
    dot: those of `NAME.parquet` are not those of `NAME`)."""
    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return []
    return sorted(
        path.parent / name
        for name in names
        if name.startswith(prefix)
        and name.endswith(TEMPORARY_SUFFIX)
        and "." not in name[len(prefix) : -len(TEMPORARY_SUFFIX)]
    )


def remove_stale_temporaries(path: Path) -> int:
    """Remove the temporaries of `path` that no live writer holds (left by a killed one); return how many."""
    removed = 0
    for candidate in temporaries(path):
        try:
            handle = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue  # renamed into place or removed meanwhile
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its writer is alive
        else:
            if candidate.is_dir() and not candidate.is_symlink():
                shutil.rmtree(candidate, ignore_errors=True)
            else:
                candidate.unlink(missing_ok=True)
            removed += 1
        finally:
            os.close(handle)
    if removed:
        logger.info("removed %d temporary file(s) of %s left by an interrupted writer", removed, path)
    return removed


class Replacement:
    """A new version of `path` written under a locked temporary name beside it (`temporary`), renamed onto
    `path` by `commit()`, removed by `discard()`; as a `with` block, committed unless the block raises.

    `directory`: the new version is a directory (of parts); it can replace only a missing or empty one.
    `mode`: the permissions of the result; None keeps those of the file replaced (else the umask's).
    `sweep`: first remove the temporaries earlier writers of `path` left behind when they were killed.
    """

    def __init__(self, path: Path, *, directory: bool = False, mode: int | None = None, sweep: bool = True) -> None:
        self.path = path
        self.directory = directory
        path.parent.mkdir(parents=True, exist_ok=True)
        if sweep:
            remove_stale_temporaries(path)
        if mode is None:
            mode = path.stat().st_mode & 0o7777 if path.exists() and not directory else _umask_mode(directory)
        self.mode = mode
        self.temporary, self._lock = self._create()
        self._handles: list[IO[Any]] = []

    def open(self, mode: str = "wb", **options: Any) -> IO[Any]:
        """The temporary file opened for writing (closed by commit or discard)."""
        handle = open(self.temporary, mode, **options)  # noqa: SIM115 - closed by commit or discard
        self._handles.append(handle)
        return handle

    def _create(self) -> tuple[Path, int]:
        """A new temporary, locked: checked to be still ours once locked (a sweeper may have taken it first)."""
        prefix = f".{self.path.name}."
        while True:
            if self.directory:
                temporary = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=prefix, suffix=TEMPORARY_SUFFIX))
                handle = os.open(temporary, os.O_RDONLY)
            else:
                handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=prefix, suffix=TEMPORARY_SUFFIX)
                temporary = Path(name)
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                if os.stat(temporary).st_ino == os.fstat(handle).st_ino:
                    return temporary, handle
            except FileNotFoundError:
                pass
            os.close(handle)

    def commit(self) -> None:
        """Sync the new version to disk and rename it onto `path` (then sync the directory: the rename too); on
        failure (a directory onto a non-empty one) the temporary is removed and the error raised."""
        try:
            self._close()
            os.chmod(self.temporary, self.mode)
            if self.directory:
                for part in sorted(self.temporary.rglob("*")):
                    _sync(part)
            _sync(self.temporary)
            os.replace(self.temporary, self.path)
        except BaseException:
            self.discard()
            raise
        _sync(self.path.parent)
        self._release()

    def discard(self) -> None:
        """Remove the temporary (the old version of `path` stays as it was)."""
        self._close(quietly=True)  # a write that failed can fail again at close: the temporary goes anyway
        if self.directory:
            shutil.rmtree(self.temporary, ignore_errors=True)
        else:
            self.temporary.unlink(missing_ok=True)
        self._release()

    def _close(self, *, quietly: bool = False) -> None:
        while self._handles:
            handle = self._handles.pop()
            try:
                handle.close()
            except OSError:
                if not quietly:
                    raise

    def _release(self) -> None:
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1

    def __enter__(self) -> Replacement:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def _sync(path: Path) -> None:
    """fsync a file or a directory (so that a power loss after the rename cannot leave an empty file)."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_atomically(path: Path, data: bytes, mode: int | None = 0o644, *, sweep: bool = False) -> None:
    """Write `data` to `path` through a temporary file beside it and a rename. `mode`: the file's
    permissions, or None to keep those of the file being replaced; `sweep`: see Replacement."""
    with Replacement(path, mode=mode, sweep=sweep) as replacement:
        replacement.open().write(data)
