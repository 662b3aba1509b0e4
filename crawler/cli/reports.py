"""What is stored, for people and scripts: `newswire status`, `stories` and `outlets` (text, or --json)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crawler.cli.errors import Failed, UsageProblem, require_extra
from crawler.cli.options import (
    crontab_option,
    db_option,
    frontier_option,
    json_option,
    log_options,
    parse_overrides,
    parse_since,
    settings_option,
    sources_option,
)
from crawler.cli.render import echo_json, echo_text, noted, story_lines, suggestion_lines
from crawler.cli.store import open_store

if TYPE_CHECKING:
    from scheduling.cron import ScheduledCrawl

logger = logging.getLogger(__name__)


def installed_crawls(crontab_file: Path | None, db_url: str) -> list[ScheduledCrawl]:
    """The installed cron entries that crawl `db_url` (none when the crontab cannot be read)."""
    from scheduling.cron import scheduled_crawls
    from scheduling.crontab_file import CronError, list_entries

    try:
        entries = list_entries(crontab_file)
    except CronError as exc:  # no cron on this host: the next crawl is adaptive polling's
        logger.debug("no cron entries read: %s", exc)
        return []
    return scheduled_crawls(entries, db_url, Path.cwd())


def registry_slugs(sources: str) -> set[str] | None:
    """The slugs the registry at `sources` names; None when there is no such file (nothing is known)."""
    from crawler.discovery.registry import RegistryError, load_registry

    if not Path(sources).is_file():
        return None
    try:
        return {outlet.slug for outlet in load_registry(sources)}
    except RegistryError as exc:
        raise UsageProblem(str(exc)) from None


@click.command()
@db_option
@sources_option
@click.option("--runs", type=click.IntRange(min=1), default=5, show_default=True, help="How many recent runs to show.")
@json_option
@settings_option
@crontab_option
@frontier_option
@log_options
def status(
    db_url: str,
    sources: str,
    runs: int,
    as_json: bool,
    settings: tuple[str, ...],
    crontab_file: Path | None,
    frontier: str | None,
) -> None:
    """Show each outlet's articles, freshness, last error and next crawl, and the latest crawl runs.

    Freshness: the last new article, the last crawl that reached the outlet, failures in a row and
    the last error. Outlets that failed NEWSWIRE_FAILURE_LIMIT crawls in a row are marked FAILING.
    The next crawl is the installed cron entries' for this database (`schedule install`; an entry
    with --due waits until adaptive polling makes the outlet due), else adaptive polling's due time
    (`schedule run`, `crawl --due`). An outlet stored in the database that the registry (--sources) no
    longer names is shown as `not in registry`, never due (`newswire outlets --prune` forgets it).
    Exit code 0 even when outlets fail (it reports; it does not judge).
    With --frontier, a shared crawl's workers (host, pid, state, last heartbeat, pages, errors; a
    worker silent for longer than its lease is `gone`) and its frontier's size, under `workers` and `frontier` in JSON.

    Example: newswire status --runs 10 --json
    """
    from crawler.cli.status_report import status_report, status_text
    from crawler.config import CrawlConfig
    from crawler.run import crawl_settings

    crawl_config = crawl_settings(db_url, parse_overrides(settings))
    policy = CrawlConfig.from_settings(crawl_config).polling
    cron = installed_crawls(crontab_file, db_url)
    with open_store(db_url) as store, store.sessions() as session:
        report = status_report(session, policy, runs, cron=cron, registry=registry_slugs(sources))
    frontier_part = _frontier_report(frontier, crawl_config.get("NEWSWIRE_FRONTIER_PREFIX")) if frontier else {}
    if as_json:
        echo_json({**report, **frontier_part})
    else:
        echo_text(status_text(report) + (_frontier_text(frontier_part) if frontier_part else ""))


def _frontier_text(shared: dict[str, Any]) -> str:
    from crawler.frontier.report import frontier_text

    return frontier_text(shared)


def _frontier_report(url: str, prefix: str) -> dict[str, Any]:
    require_extra("redis", "distributed", "status --frontier")
    from crawler.frontier.connection import FrontierKeys, FrontierUnavailable, connect
    from crawler.frontier.report import frontier_report

    try:
        client = connect(url)
    except FrontierUnavailable as exc:
        raise Failed(str(exc)) from None
    try:
        return frontier_report(client, FrontierKeys(prefix))
    finally:
        client.close()


@click.command()
@db_option
@click.option("--since", default=None, metavar="DATE", help="Only stories with an article since DATE.")
@click.option(
    "--min-outlets",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Only stories carried by N+ outlets.",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most N stories, newest first."
)
@json_option
@log_options
def stories(db_url: str, since: str | None, min_outlets: int, limit: int, as_json: bool) -> None:
    """List stories, newest first, with the outlets that carry them and which copy is the original.

    Says so (on stderr) when no story matches. With --json: a list of story records, as
    `export --stories` writes them.

    Example: newswire stories --since "2 days ago" --min-outlets 2
    """
    from storage.corpus.stories import iter_story_records

    since_dt = parse_since(since)
    with open_store(db_url) as store, store.sessions() as session:
        found = list(iter_story_records(session, since=since_dt, min_outlets=min_outlets, limit=limit))
    if as_json:
        echo_json(found)
    else:
        for story in found:
            echo_text("\n".join(story_lines(story)))
    if not found:
        wanted = [f"--since {since!r}"] * bool(since) + [f"--min-outlets {min_outlets}"] * (min_outlets > 1)
        noted.info("no story matched%s", f" ({', '.join(wanted)})" if wanted else ": the database has none yet")


@click.command()
@db_option
@sources_option
@click.option("--suggest", is_flag=True, help="Outlets that articles cite but the registry lacks, with a stanza each.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N suggestions.")
@click.option(
    "--prune", is_flag=True, help="Forget stored outlets the registry no longer names (their articles are kept)."
)
@json_option
@log_options
def outlets(db_url: str, sources: str, suggest: bool, limit: int, prune: bool, as_json: bool) -> None:
    """List the outlets stored in the database with their article counts, and whether the registry
    (--sources) still names them; or (--suggest) the outlets that stored articles cite but the registry
    lacks, each with a ready sources.toml stanza. --prune forgets the outlets the registry no longer
    names: their polling and fetch state go (status stops showing them as due), and the outlet itself
    when it holds no article; articles are never deleted.

    Example: newswire outlets --suggest --limit 10 >> sources.toml.new
    """
    from storage.corpus.stories import suggested_outlets
    from storage.repository import forget_outlets, outlet_rows

    known = registry_slugs(sources)
    if prune and known is None:
        raise UsageProblem(f"--prune needs the registry: no file {sources} (give --sources)")
    with open_store(db_url) as store, store.sessions() as session:
        if prune:
            assert known is not None
            with session.begin():
                forgotten = forget_outlets(session, keep=known)
            for name, removed in forgotten:
                noted.info("forgot %s (%s)", name, "removed: no article" if removed else "its articles are kept")
            noted.info(
                "pruned %d outlet%s the registry no longer names", len(forgotten), "" if len(forgotten) == 1 else "s"
            )
            return
        if suggest:
            rows = suggested_outlets(session, limit)
        else:
            rows = [
                {
                    "name": name,
                    "articles": count,
                    "last_fetched_at": last.isoformat() if last else None,
                    "in_registry": None if known is None else slug in known,
                }
                for name, slug, count, last in outlet_rows(session)
            ]
    if as_json:
        echo_json(rows)
    elif suggest:
        for line in suggestion_lines(rows):
            echo_text(line)
    else:
        for row in rows:
            gone = " (not in the registry)" if row["in_registry"] is False else ""
            echo_text(f"{row['name']}: {row['articles']} article{'' if row['articles'] == 1 else 's'}{gone}")
