"""Cron entries for scheduled crawls: one line per crawl interval, planned from the registry's outlets.

Each entry runs `crawl` and then `feeds` for the outlets sharing one interval and is tagged with a
trailing `# newswire:<workdir>` comment, by which scheduling.crontab_file finds its own lines.

Minutes are spread: each workdir's entries fire at an offset within their interval derived from a hash
of the workdir (so many installs do not all hit the outlets at :00), and entries of one workdir are
placed as far apart as their intervals allow (they share the database's crawl lock, exit code 75).
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from croniter import croniter
from crontab import CronSlices
from sqlalchemy.engine import make_url

from scheduling.commands import EXIT_PARTIAL, CrawlInvocation, crawl_command, feeds_command, parse_crawl
from scheduling.durations import format_duration

TAG = "newswire:"
DEFAULT_LOG = "newswire-cron.log"  # in the workdir, when the caller names no log file
WEEK_MINUTES = 7 * 24 * 60  # every interval cron can express divides a week
EXPRESSIBLE = (
    "a number of minutes dividing 60 (1m, 2m, 3m, 4m, 5m, 6m, 10m, 12m, 15m, 20m, 30m), "
    "of hours dividing 24 (1h, 2h, 3h, 4h, 6h, 8h, 12h), 1d or 1w"
)


@dataclass(frozen=True)
class CronEntry:
    """One newswire cron line: when (five cron fields), what (a /bin/sh command) and for which workdir."""

    schedule: str
    command: str
    workdir: Path

    def render(self) -> str:
        """The crontab line, `%` escaped (cron would turn it into a newline), tagged with the workdir."""
        return f"{self.schedule} {_escape(self.command)} # {TAG}{_escape(str(self.workdir))}"

    def next_run(self, after: datetime | None = None) -> datetime:
        """When cron next starts it, in local time (cron's clock) after `after` (default: now)."""
        return croniter(self.schedule, after or datetime.now()).get_next(datetime)


def _escape(text: str) -> str:
    return text.replace("%", "\\%")


def _unescape(text: str) -> str:
    return text.replace("\\%", "%")


def cron_schedule(every: timedelta, *, offset: timedelta = timedelta(0)) -> str:
    """The five cron time fields that fire once per `every`, `offset` into each interval.

    Minutes dividing 60 give `*/N * * * *` (`M-59/N` with an offset), whole hours dividing 24
    `M */N * * *` (`M H-23/N * * *`), one day `M H * * *`, one week `M H * * D` (offsets count from
    Sunday 00:00, cron's local time). Any other interval is a ValueError saying which cron can run.
    """
    minutes, at = every / timedelta(minutes=1), offset / timedelta(minutes=1)
    if minutes != int(minutes) or not _expressible(int(minutes)):
        raise ValueError(f"cron cannot run every {_describe(every)}: choose {EXPRESSIBLE}")
    period = int(minutes)
    if at != int(at) or not 0 <= at < period:
        raise ValueError(f"offset {offset} is not a whole number of minutes within {_describe(every)}")
    minute, hour, day = int(at) % 60, int(at) // 60 % 24, int(at) // 1440
    if period < 60:
        step = "*" if period == 1 else f"*/{period}" if minute == 0 else f"{minute}-59/{period}"
        fields = f"{step} * * * *"
    elif period < 1440:
        hours = period // 60
        step = "*" if hours == 1 else f"*/{hours}" if hour == 0 else f"{hour}-23/{hours}"
        fields = f"{minute} {step} * * *"
    else:
        fields = f"{minute} {hour} * * {'*' if period == 1440 else day}"
    return fields


def _expressible(period: int) -> bool:
    """Whether cron can fire every `period` minutes, evenly, without drifting at month or year ends."""
    return period > 0 and (60 % period == 0 or (period % 60 == 0 and 1440 % period == 0) or period == WEEK_MINUTES)


def _describe(every: timedelta) -> str:
    return format_duration(every) if every > timedelta(0) else str(every)


def spread_offsets(periods: Sequence[timedelta], workdir: Path) -> dict[timedelta, timedelta]:
    """An offset per interval: the shortest one's from a hash of `workdir`, each next as far from the rest as can be."""
    taken: list[int] = []
    offsets = {}
    for every in sorted(set(periods)):
        period = int(every / timedelta(minutes=1))
        digest = hashlib.sha256(f"{workdir}\n{period}".encode()).digest()
        preferred = int.from_bytes(digest[:8], "big") % period
        distance = _distances(taken)
        best, best_score = preferred, -1
        for step in range(period):
            candidate = (preferred + step) % period
            score = min(distance[m] for m in range(candidate, WEEK_MINUTES, period)) if taken else 0
            if score > best_score:
                best, best_score = candidate, score
        offsets[every] = timedelta(minutes=best)
        taken.extend(range(best, WEEK_MINUTES, period))
    return offsets


def _distances(taken: list[int]) -> list[int]:
    """For each minute of the week, how many minutes (around the week) to the nearest taken one."""
    distance = [WEEK_MINUTES] * WEEK_MINUTES
    for minute in taken:
        distance[minute] = 0
    for _ in range(2):  # two laps each way settle the wrap-around
        for m in range(WEEK_MINUTES):
            distance[m] = min(distance[m], distance[m - 1] + 1)
        for m in range(WEEK_MINUTES - 1, -1, -1):
            distance[m] = min(distance[m], distance[(m + 1) % WEEK_MINUTES] + 1)
    return distance


def outlet_intervals(
    outlets: Sequence[tuple[str, timedelta | None]], default: timedelta, *, whole_registry: bool = True
) -> dict[timedelta, list[str]]:
    """Outlet names by crawl interval, from (name, every) pairs: each outlet's `every`, else `default`.

    When the pairs are the whole registry and it shares one interval, the list is empty: the entry then
    has no --outlet flags, so outlets added to sources.toml later are crawled too.
    """
    groups: dict[timedelta, list[str]] = {}
    for name, every in dict.fromkeys(outlets):  # `--outlet A --outlet a` is one outlet
        groups.setdefault(every or default, []).append(name)
    if whole_registry and len(groups) == 1:
        return {every: [] for every in groups}
    return dict(sorted(groups.items()))


def plan_entries(
    outlets_by_interval: dict[timedelta, list[str]],
    *,
    python: str,
    workdir: Path,
    db_url: str,
    sources: Path,
    feeds_dir: Path,
    log_file: Path,
    base_url: str | None = None,
    crawl_args: Sequence[str] = (),
) -> list[CronEntry]:
    """One entry per interval, shortest first: `crawl` of its outlets (all, when the list is empty), then `feeds`.

    `python` is kept as given (a virtual environment's interpreter is a symlink that must not be
    resolved); relative paths and a relative SQLite file are taken from `workdir`. `feeds` runs after
    a complete or partial crawl (exit 0 or 1) only: not after a failed one (3), a crash (70) or one that found
    the database locked (75: the crawl holding it writes the feeds itself when it is a scheduled one).
    ValueError names a bad interval's outlets.
    `crawl_args` are added to every crawl (`--due`, say).
    """
    if not Path(python).is_absolute():
        raise ValueError(f"the interpreter must be an absolute path, got {python!r}")
    if not outlets_by_interval:
        raise ValueError("no outlets to schedule")
    for every, names in outlets_by_interval.items():
        try:
            cron_schedule(every)
        except ValueError as exc:
            raise ValueError(f"{exc} ({'outlets: ' + ', '.join(names) if names else 'all outlets'})") from None
    workdir = workdir.resolve()
    db_url = absolute_db_url(db_url, workdir)
    log = _quote(workdir / log_file)
    offsets = spread_offsets(list(outlets_by_interval), workdir)
    entries = []
    for every, names in sorted(outlets_by_interval.items()):
        crawl = crawl_command(python, sources=workdir / sources, db_url=db_url, outlets=names, extra=crawl_args)
        feeds = feeds_command(python, db_url=db_url, feeds_dir=workdir / feeds_dir, base_url=base_url)
        command = (
            f"cd {_quote(workdir)} && {{ {_join(crawl)} >> {log} 2>&1; "
            f"[ $? -le {EXIT_PARTIAL} ] && {_join(feeds)} >> {log} 2>&1; }}"
        )
        entries.append(CronEntry(cron_schedule(every, offset=offsets[every]), command, workdir))
    return entries


def _quote(value: str | Path) -> str:
    text = str(value)
    if "\n" in text or "\r" in text:
        raise ValueError(f"cannot put a line break in a cron entry: {text!r}")
    return shlex.quote(text)


def _join(args: list[str]) -> str:
    return " ".join(_quote(arg) for arg in args)


def absolute_db_url(db_url: str, workdir: Path) -> str:
    """The URL with a relative SQLite file made absolute under `workdir`; in-memory databases refused."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return db_url
    if not url.database or url.database == ":memory:" or "mode=memory" in db_url:
        raise ValueError(f"a scheduled crawl needs a database file, not an in-memory one: {db_url!r}")
    if Path(url.database).is_absolute() or url.database.startswith("file:"):
        return db_url
    return url.set(database=str(workdir / url.database)).render_as_string(hide_password=False)


def parse_line(line: str) -> CronEntry | None:
    """The newswire entry on a crontab line, or None for any other line (comments, the user's jobs, variables)."""
    body = line.strip()
    head, sep, tag = body.rpartition(f" # {TAG}")
    if not sep or body.startswith("#"):
        return None
    parts = head.split(None, 1 if head.startswith("@") else 5)
    schedule = " ".join(parts[:-1])
    if len(parts) < 2 or not CronSlices.is_valid(schedule):
        return None
    return CronEntry(schedule, _unescape(parts[-1]), Path(_unescape(tag)))


@dataclass(frozen=True)
class ScheduledCrawl:
    """An installed cron entry read back: when it fires and which crawl it starts."""

    entry: CronEntry
    crawl: CrawlInvocation

    def covers(self, outlet_name: str) -> bool:
        """Whether its crawl includes the outlet (an entry without --outlet crawls every outlet)."""
        return not self.crawl.outlets or outlet_name.casefold() in {n.casefold() for n in self.crawl.outlets}

    def next_crawl(self, now: datetime, due_at: datetime | None = None) -> datetime:
        """When it next crawls an outlet that adaptive polling makes due at `due_at` (aware UTC times):
        its next firing after now, or, with --due, its first firing once the outlet is due."""
        after = max(now, due_at) if self.crawl.due and due_at is not None else now
        fire = self.entry.next_run(after.astimezone().replace(tzinfo=None))  # cron's clock: local time
        return fire.astimezone(UTC)


def scheduled_crawls(entries: Sequence[CronEntry], db_url: str, workdir: Path) -> list[ScheduledCrawl]:
    """The entries whose crawl writes to `db_url` (a relative SQLite file taken from `workdir`)."""
    try:
        wanted = absolute_db_url(db_url, workdir)
    except ValueError:  # an in-memory database: no cron entry can crawl it
        return []
    found = [(entry, parse_crawl(entry.command)) for entry in entries]
    return [ScheduledCrawl(entry, crawl) for entry, crawl in found if crawl is not None and crawl.db_url == wanted]
