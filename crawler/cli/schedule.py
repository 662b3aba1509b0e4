"""`newswire schedule`: cron entries (install, list, remove) and a foreground scheduler (run)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from crawler.cli.errors import UsageProblem
from crawler.cli.options import (
    DEFAULT_FEEDS_DIR,
    base_url_option,
    crontab_option,
    current_log,
    feeds_dir_option,
    log_options,
    scheduled_db_option,
    settings_option,
    sources_option,
)
from crawler.discovery.registry import RegistryError, load_registry, select_outlets

logger = logging.getLogger(__name__)


@click.group()
def schedule() -> None:
    """Scheduled crawls: cron entries, or a foreground scheduler for hosts without cron.

    Example: newswire schedule install --every 30m
    """


@schedule.command()
@click.option("--every", default="30m", show_default=True, metavar="DURATION",
              help="Crawl interval for outlets without their own `every` in sources.toml.")  # fmt: skip
@click.option("--outlet", "outlet_names", multiple=True, metavar="NAME", help="Schedule only this outlet (repeatable).")
@sources_option
@scheduled_db_option
@feeds_dir_option(DEFAULT_FEEDS_DIR, "Where `feeds` writes after each crawl.")
@base_url_option
@click.option("--log", "cron_log", default=None, metavar="FILE",
              help="Where the entries append the crawls' output (default: ./newswire-cron.log).")  # fmt: skip
@click.option("--due", is_flag=True, help="Crawl with --due: each run crawls only the outlets polling says are due.")
@crontab_option
@log_options
def install(
    every: str,
    outlet_names: tuple[str, ...],
    sources: str,
    db_url: str,
    feeds_dir: str,
    base_url: str | None,
    cron_log: str | None,
    due: bool,
    crontab_file: Path | None,
) -> None:
    """Write cron entries that run `newswire crawl` and then `newswire feeds`, one per interval.

    Entries carry absolute paths (interpreter, working directory, registry, feeds, log) and the
    database URL, and a `# newswire:<workdir>` tag. Entries are keyed by what they crawl: installing for
    the whole registry replaces this directory's entries for the same database; installing with --outlet
    replaces only the entry of those outlets and keeps the others; the crontab's other lines stay byte for
    byte. The command says what it added, replaced and kept. Outlets with `every = "15m"` in
    sources.toml get their own entry. `feeds` runs after a complete or partial crawl (exit 0 or
    1), not after a failed one (3), a crash (70) or one that found another crawl running (75). With
    --due, every run crawls only the outlets that adaptive polling says are due (install a short
    --every, such as 5m, and let polling pick). `newswire status` shows the next crawl these entries make.

    Example: newswire schedule install --every 30m --crontab ./crontab.txt
    """
    from scheduling.cron import DEFAULT_LOG, outlet_intervals, plan_entries
    from scheduling.crontab_file import CronError
    from scheduling.crontab_file import install as install_entries
    from scheduling.durations import parse_duration

    try:
        registry = load_registry(sources)
        entries = plan_entries(
            outlet_intervals(
                [(o.name, o.every) for o in select_outlets(registry, list(outlet_names))],
                parse_duration(every),
                whole_registry=not outlet_names,
            ),
            python=sys.executable,
            workdir=Path.cwd(),
            db_url=db_url,
            sources=Path(sources).resolve(),
            feeds_dir=Path(feeds_dir),
            log_file=Path(cron_log or DEFAULT_LOG),
            base_url=base_url,
            crawl_args=["--due"] if due else [],
        )
        installed = install_entries(entries, crontab_file, whole_registry=not outlet_names)
    except (ValueError, RegistryError, CronError) as exc:
        raise UsageProblem(str(exc)) from None
    where = crontab_file or "the user's crontab"
    for verb, lines in (("added", installed.written), ("replaced", installed.replaced), ("kept", installed.kept)):
        if lines or verb == "added":
            click.echo(f"{verb} {len(lines)} newswire cron {'entry' if len(lines) == 1 else 'entries'} in {where}:")
        for line in lines:
            click.echo(f"  {line}")


@schedule.command(name="list")
@crontab_option
@log_options
def list_(crontab_file: Path | None) -> None:
    """Show newswire's cron entries (every working directory's), with their next run time.

    Example: newswire schedule list --crontab ./crontab.txt
    """
    from scheduling.crontab_file import CronError, list_entries

    try:
        entries = list_entries(crontab_file)
    except CronError as exc:
        raise UsageProblem(str(exc)) from None
    if not entries:
        click.echo("no newswire cron entries")
    for entry in entries:
        click.echo(f"{entry.schedule}  next {entry.next_run():%Y-%m-%d %H:%M}  in {entry.workdir}\n  {entry.command}")


@schedule.command()
@crontab_option
@click.option("--all", "all_dirs", is_flag=True, help="Remove every working directory's newswire entries.")
@log_options
def remove(crontab_file: Path | None, all_dirs: bool) -> None:
    """Delete this working directory's newswire cron entries (only ours; other lines are kept).

    Example: newswire schedule remove --crontab ./crontab.txt
    """
    from scheduling.crontab_file import CronError
    from scheduling.crontab_file import remove as remove_entries

    try:
        count = remove_entries(crontab_file, None if all_dirs else Path.cwd())
    except CronError as exc:
        raise UsageProblem(str(exc)) from None
    click.echo(f"removed {count} newswire cron entr{'y' if count == 1 else 'ies'}")


@schedule.command()
@sources_option
@scheduled_db_option
@feeds_dir_option(None, "Write feeds here after each crawl (default: none written).")
@base_url_option
@settings_option
@click.option("--max-runs", type=click.IntRange(min=1), default=None, help="Stop after N crawls (default: never).")
@log_options
def run(
    sources: str,
    db_url: str,
    feeds_dir: str | None,
    base_url: str | None,
    settings: tuple[str, ...],
    max_runs: int | None,
) -> None:
    """Foreground scheduler: crawl the outlets that are due, sleep until the next is due, repeat.

    For hosts without cron (containers, systemd services). Each crawl is its own process running
    `newswire crawl --due` (with this command's -s, -q, -v and --log-file), then `newswire feeds`
    when --feeds-dir is given; adaptive polling decides when each outlet is due. SIGTERM or Ctrl-C
    lets the running crawl close cleanly (recorded as interrupted) and exits 0 — or, when a crawl failed (3)
    or crashed (70) since it started, with that crawl's code.

    Example: newswire schedule run --feeds-dir /srv/feeds --base-url https://news.example.org/feeds/
    """
    from crawler import logs
    from scheduling.runner import Scheduler, SchedulerConfig

    try:
        load_registry(sources)
    except RegistryError as exc:
        raise UsageProblem(str(exc)) from None
    log = current_log()
    logs.configure(log, own=(logs.OWN, "scheduling"))  # the scheduler's INFO lines are this command's own
    config = SchedulerConfig(
        sources=Path(sources).resolve(),
        db_url=db_url,
        feeds_dir=Path(feeds_dir).resolve() if feeds_dir else None,
        base_url=base_url,
        crawl_args=[arg for pair in settings for arg in ("-s", pair)],
        log_args=log.as_args(),
        max_rounds=max_runs,
    )

    def slugs() -> list[str]:
        try:
            return [o.slug for o in load_registry(sources)]
        except RegistryError as exc:  # edited into a bad state while we run: keep going, say why
            logger.error("%s", exc)
            return []

    scheduler = Scheduler(config, slugs)
    scheduler.install_signal_handlers()
    click.get_current_context().exit(scheduler.run())
