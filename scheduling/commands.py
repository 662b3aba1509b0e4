"""The command lines of scheduled jobs, spelled in one place: `crawl` and `feeds` as argument lists.

Cron entries (scheduling.cron) and the foreground scheduler (scheduling.runner) both start
`python -m crawler ...` processes (one crawl is one process); both build them here, and `newswire
status` reads the crawl's options back from an installed cron entry with `parse_crawl`.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ENTRY_POINT = ("-m", "crawler")  # `python -m crawler`: the interpreter's own copy, no PATH lookup

# What a crawl's exit code says (crawler/cli/errors.py raises them): feeds are published after a complete or
# a partial crawl, never after a failed one (3), a crash (70: a bug, with its traceback) or a locked one (75).
EXIT_COMPLETE, EXIT_PARTIAL, EXIT_USAGE, EXIT_FAILED, EXIT_CRASHED = 0, 1, 2, 3, 70


def publishes_after(code: int) -> bool:
    """Whether feeds are written after a crawl that exited `code`: only after a complete or partial one."""
    return code in (EXIT_COMPLETE, EXIT_PARTIAL)


def crawl_command(
    python: str,
    *,
    sources: str | Path,
    db_url: str,
    outlets: Sequence[str] = (),
    due: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """`newswire crawl` of `outlets` (every outlet when empty), with --due and any `extra` options."""
    command = [python, *ENTRY_POINT, "crawl", "--sources", str(sources), "--db", db_url]
    command += [arg for name in outlets for arg in ("--outlet", name)]
    return command + (["--due"] if due else []) + list(extra)


def feeds_command(
    python: str, *, db_url: str, feeds_dir: str | Path, base_url: str | None = None, extra: Sequence[str] = ()
) -> list[str]:
    """`newswire feeds` into `feeds_dir`, with the public `base_url` when one is given."""
    command = [python, *ENTRY_POINT, "feeds", "--db", db_url, "--feeds-dir", str(feeds_dir)]
    return command + (["--base-url", base_url] if base_url else []) + list(extra)


@dataclass(frozen=True)
class CrawlInvocation:
    """What a scheduled `crawl` command line asks for: its database, its outlets (empty: all), --due."""

    db_url: str
    outlets: tuple[str, ...]
    due: bool


def parse_crawl(shell_command: str) -> CrawlInvocation | None:
    """The `crawl` of a cron entry's shell command (as crawl_command spells it), or None when it has none."""
    try:
        words = shlex.split(shell_command)
    except ValueError:
        return None
    for start in range(len(words) - 2):
        if tuple(words[start + 1 : start + 3]) == ENTRY_POINT and words[start + 3 : start + 4] == ["crawl"]:
            break
    else:
        return None
    db_url, outlets, due = None, [], False
    args = iter(words[start + 4 :])
    for arg in args:
        if arg in (">>", ">", "2>&1", ";", "&&", "||") or arg.startswith(">"):
            break
        if arg == "--db":
            db_url = next(args, None)
        elif arg == "--outlet":
            outlets.append(next(args, ""))
        elif arg == "--due":
            due = True
    return CrawlInvocation(db_url, tuple(outlets), due) if db_url else None
