"""The newswire lines of a crontab: installed, listed and removed, with every other line kept byte for byte.

python-crontab's writer would reformat the user's lines (spacing, comments, variables, lines it cannot
parse), so the text is spliced here; python-crontab checks the schedules of the lines we read back
(scheduling.cron.parse_line) and finds the `crontab` program for the user's table.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import crontab

from scheduling.commands import parse_crawl
from scheduling.cron import CronEntry, parse_line
from storage.common.files import write_atomically

logger = logging.getLogger(__name__)


class CronError(RuntimeError):
    """The user's crontab could not be read or written (no `crontab` program, or it refused the table)."""


@dataclass(frozen=True)
class Installed:
    """What an install did: the lines written (added or replacing earlier ones), the earlier lines replaced,
    and the newswire lines of the same working directory it kept (another selection of outlets)."""

    written: list[str]
    replaced: list[str]
    kept: list[str]


def crawl_key(entry: CronEntry) -> tuple[Path, str | None, tuple[str, ...]]:
    """What an entry crawls: its working directory, its database and its outlets (empty: the whole registry)."""
    invocation = parse_crawl(entry.command)
    if invocation is None:
        return entry.workdir, None, ()
    return entry.workdir, invocation.db_url, tuple(sorted(invocation.outlets))


def install(
    entries: Sequence[CronEntry], crontab_file: Path | None = None, *, whole_registry: bool = True
) -> Installed:
    """Write `entries` in place of the earlier newswire lines they supersede (else at the end).

    Entries are keyed by what they crawl (crawl_key): a plan for the whole registry replaces every earlier
    entry of its working directory and database (it is the whole plan); a plan for some outlets
    (`whole_registry` False) replaces only the entries that crawl the same outlets, and keeps the others.

    `crontab_file` None is the user's crontab (through the `crontab` program), else a file in the user
    crontab format (no user column), created if missing. Every other line is kept byte for byte.
    """
    new_keys = {crawl_key(entry) for entry in entries}
    plans = {key[:2] for key in new_keys}  # (workdir, database) of the new entries
    rendered = [entry.render() for entry in entries]
    kept: list[str] = []
    replaced: list[str] = []
    others: list[str] = []
    position: int | None = None
    for line in _split(_read(crontab_file)):
        entry = parse_line(line)
        key = crawl_key(entry) if entry is not None else None
        superseded = key is not None and (key in new_keys or (whole_registry and key[:2] in plans))
        if superseded:
            position = len(kept) if position is None else position
            replaced.append(line.rstrip("\n"))
            continue
        if key is not None and key[0] in {k[0] for k in plans}:
            others.append(line.rstrip("\n"))
        kept.append(line)
    if position is None:
        position = len(kept)
        if kept and not kept[-1].endswith("\n"):
            kept[-1] += "\n"  # cron needs the last line ended
    kept[position:position] = [line + "\n" for line in rendered]
    _write(crontab_file, "".join(kept))
    logger.info("installed %d cron entries in %s", len(rendered), crontab_file or "the user's crontab")
    return Installed(rendered, replaced, others)


def list_entries(crontab_file: Path | None = None, workdir: Path | None = None) -> list[CronEntry]:
    """The newswire entries of the crontab (of one workdir's, when given), in crontab order."""
    found = [parse_line(line) for line in _split(_read(crontab_file))]
    wanted = workdir.resolve() if workdir is not None else None
    return [e for e in found if e is not None and (wanted is None or e.workdir == wanted)]


def remove(crontab_file: Path | None = None, workdir: Path | None = None) -> int:
    """Delete the newswire entries of `workdir` (of every workdir when None); how many. Other lines stay as they are."""
    lines = _split(_read(crontab_file))
    wanted = workdir.resolve() if workdir is not None else None
    kept = [
        line
        for line in lines
        if (entry := parse_line(line)) is None or (wanted is not None and entry.workdir != wanted)
    ]
    if len(kept) != len(lines):
        _write(crontab_file, "".join(kept))
    return len(lines) - len(kept)


def _split(text: str) -> list[str]:
    """Lines with their endings; only newlines split (a user's carriage return or form feed stays in its line)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _read(crontab_file: Path | None) -> str:
    if crontab_file is not None:
        try:
            with open(crontab_file, encoding="utf-8", errors="surrogateescape", newline="") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""
    code, out, err = _run_crontab(["-l"])
    if code != 0:
        if "no crontab for" in err.lower():
            return ""
        raise CronError(f"cannot read the user's crontab: {_first_line(err)}")
    return out


def _write(crontab_file: Path | None, text: str) -> None:
    data = text.encode("utf-8", errors="surrogateescape")
    if crontab_file is not None:
        crontab_file = Path(crontab_file)
        if not crontab_file.exists():
            crontab_file.write_bytes(data)
            return
        write_atomically(crontab_file, data, mode=None)  # a reader never sees half a table; its mode kept
        return
    handle, temp = tempfile.mkstemp(prefix="newswire-crontab.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        code, _, err = _run_crontab([temp])
    finally:
        os.unlink(temp)
    if code != 0:
        raise CronError(f"crontab refused the new table: {_first_line(err)}")


def _run_crontab(args: list[str]) -> tuple[int, str, str]:
    """Exit code, output and errors of the `crontab` program python-crontab found (bytes decoded as they are)."""
    program = crontab.CRON_COMMAND
    try:
        result = subprocess.run([program, *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise CronError(f"no crontab program ({program}): install cron, or write a file with --crontab") from None
    return result.returncode, result.stdout.decode(errors="surrogateescape"), result.stderr.decode(errors="replace")


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["(no message)"])[0]
