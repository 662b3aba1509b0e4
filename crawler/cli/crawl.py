"""`newswire crawl`: one crawl of the registry's outlets, under the database's crawl lock."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from crawler.cli.errors import EXIT_OK, Locked, UsageProblem, exit_code_for
from crawler.cli.options import (
    crawl_db_option,
    current_log,
    frontier_option,
    log_options,
    parse_overrides,
    settings_option,
    sources_option,
)
from crawler.cli.render import describe_run, said
from crawler.cli.store import open_store
from crawler.discovery.registry import Outlet, RegistryError, follow_citations_depth, load_registry, select_outlets

if TYPE_CHECKING:
    from storage.db import Store

logger = logging.getLogger(__name__)


def close_abandoned_runs(store: Store) -> None:
    """Runs left 'running' by a crawl that died (kill -9, power loss) are marked failed; we hold the lock."""
    from storage import repository

    with store.sessions.begin() as session:
        if closed := repository.close_abandoned_runs(session):
            logger.warning("%d crawl run(s) left running by a crashed crawl marked failed", closed)


def due_outlets(outlets: list[Outlet], store: Store) -> list[Outlet]:
    """The outlets whose next crawl time has come (or that were never crawled)."""
    from scheduling.freshness import due_slugs

    with store.sessions() as session:
        due = set(due_slugs(session, [o.slug for o in outlets], datetime.now(UTC)))
    return [o for o in outlets if o.slug in due]


@click.command()
@sources_option
@crawl_db_option
@click.option("--outlet", "outlet_names", multiple=True, metavar="NAME", help="Crawl only this outlet (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N new articles per outlet.")
@settings_option
@click.option("--follow-citations", is_flag=True, help="Also crawl registry outlets that crawled articles cite.")
@click.option(
    "--depth", type=click.IntRange(min=1), default=None, help="Citation hops to follow (default 1, or sources.toml's)."
)
@click.option(
    "--due", is_flag=True, help="Only outlets whose adaptive polling time has come (for frequent cron lines)."
)
@frontier_option
@log_options
def crawl(
    sources: str,
    db_url: str,
    outlet_names: tuple[str, ...],
    limit: int | None,
    settings: tuple[str, ...],
    follow_citations: bool,
    depth: int | None,
    due: bool,
    frontier: str | None,
) -> None:
    """Discover and fetch new articles from the registry's outlets and store them.

    Prints one summary line (on stdout) when the crawl ends, and a progress line every 10 s
    (NEWSWIRE_PROGRESS_INTERVAL) on long crawls; every line is timestamped.

    With --follow-citations, a registry outlet that a crawled article cites is crawled too, in the
    same run (once per outlet), and links to its article pages are fetched directly, up to --depth
    hops from the outlets the crawl started with.

    Exit code 0: complete; 1: partial (some URLs failed; see the error lines); 2: bad usage or
    registry; 3: the crawl failed; 75: another crawl of the same database is running (nothing done).
    A crawl stopped by SIGTERM or Ctrl-C closes cleanly, is recorded as interrupted and exits 1.

    With --due, only outlets whose next crawl time has come are crawled: each outlet's interval
    adapts to how often it publishes, what its feeds and server ask (<ttl>, Cache-Control,
    Retry-After) and its failures in a row (see `newswire status`).

    With --frontier (or NEWSWIRE_FRONTIER), the crawl is shared: its discovery requests go to the
    frontier's Redis, where any number of `newswire worker`s (and this process) fetch them; the
    database must be PostgreSQL. The command ends when the frontier holds nothing more.

    Example: newswire crawl --outlet Reuters --limit 20
    """
    from crawler.run import run_crawl
    from scheduling.lock import CrawlLocked, crawl_lock

    try:
        registry = load_registry(sources)
        outlets = select_outlets(registry, list(outlet_names))
        configured = follow_citations_depth(sources)
    except RegistryError as exc:
        raise UsageProblem(str(exc)) from None
    follow_depth = (depth or max(1, configured)) if follow_citations else configured
    overrides: dict[str, object] = {**parse_overrides(settings)}  # first: a typo changes nothing
    if frontier:
        from crawler.cli.worker import shared_crawl_settings

        overrides.update(shared_crawl_settings(frontier, db_url, overrides, plans=True, stay=False))
    log = current_log()
    ctx = click.get_current_context()
    started = time.monotonic()
    try:
        with crawl_lock(db_url), open_store(db_url) as store:
            close_abandoned_runs(store)  # a shared crawl's workers hold no run: every running one is a dead planner's
            if due:
                outlets = due_outlets(outlets, store)
                if not outlets:
                    said.info("no outlet is due; nothing crawled")
                    ctx.exit(EXIT_OK)
            run = run_crawl(
                outlets,
                registry=registry,
                follow_depth=follow_depth,
                store=store,
                limit=limit,
                overrides=overrides,
                log_level=log.level,
                log_file=log.log_file,
            )
    except CrawlLocked as exc:
        raise Locked(str(exc)) from None
    said.info("%s", describe_run(run, time.monotonic() - started))
    ctx.exit(exit_code_for(run.status))
