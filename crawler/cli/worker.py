"""`newswire worker`: one worker of a shared crawl — fetch, extract and store what the frontier holds."""

from __future__ import annotations

import logging
import time

import click

from crawler.cli.errors import Failed, UsageProblem, exit_code_for, require_extra
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
from crawler.discovery.registry import RegistryError, load_registry

logger = logging.getLogger(__name__)


def shared_crawl_settings(
    frontier: str, db_url: str, overrides: dict[str, object], *, plans: bool, stay: bool
) -> dict[str, object]:
    """The settings of a shared crawl's process (the planner's or a worker's), after checking its database and
    frontier — a server database, a frontier that answers, takes writes and is this database's — in one-line
    errors, before anything is queued. `overrides`: the command's `-s` settings (the frontier's prefix)."""
    require_extra("redis", "distributed", "a shared crawl (--frontier)")
    from crawler.frontier.connection import PREFIX_SETTING, FrontierUnavailable
    from crawler.frontier.ownership import ForeignFrontier
    from crawler.frontier.setup import NotShareable, frontier_settings, join_shared_crawl
    from crawler.run import crawl_settings

    prefix = crawl_settings(db_url, overrides).get(PREFIX_SETTING) or "newswire"
    try:
        database = join_shared_crawl(frontier, db_url, prefix)
    except (NotShareable, ForeignFrontier) as exc:
        raise UsageProblem(str(exc)) from None
    except FrontierUnavailable as exc:
        raise Failed(f"{exc} ({frontier})" if frontier not in str(exc) else str(exc)) from None
    return frontier_settings(frontier, plans=plans, stay=stay, database=database)


@click.command()
@sources_option
@crawl_db_option
@frontier_option
@click.option("--until-idle", is_flag=True, help="Stop once the frontier holds nothing (batch jobs, tests).")
@settings_option
@log_options
def worker(sources: str, db_url: str, frontier: str | None, until_idle: bool, settings: tuple[str, ...]) -> None:
    """Join a shared crawl: fetch, extract and store the requests the frontier holds, until stopped.

    Any number of workers on any hosts share one frontier (Redis) and one database (PostgreSQL);
    `newswire crawl --frontier URL` plans a crawl into it. A request is leased, not popped: a worker
    killed with kill -9 loses nothing, its requests go to another worker when the lease expires.
    SIGTERM or Ctrl-C: the requests in flight are handed back and the worker exits 0.

    Example: newswire worker --frontier redis://10.0.0.5:6379/0 --db postgresql+psycopg://crawler@10.0.0.6/news
    """
    from crawler.run import run_crawl

    if not frontier:
        raise UsageProblem("a worker needs --frontier redis://HOST:6379/0 (or NEWSWIRE_FRONTIER)")
    try:
        registry = load_registry(sources)
    except RegistryError as exc:
        raise UsageProblem(str(exc)) from None
    overrides: dict[str, object] = {**parse_overrides(settings)}
    overrides.update(shared_crawl_settings(frontier, db_url, overrides, plans=False, stay=not until_idle))
    log = current_log()
    started = time.monotonic()
    with open_store(db_url) as store:
        run = run_crawl(
            registry,
            registry=registry,
            store=store,
            overrides=overrides,
            log_level=log.level,
            log_file=log.log_file,
        )
    said.info("%s", describe_run(run, time.monotonic() - started))
    code = exit_code_for(run.status)
    click.get_current_context().exit(0 if run.status == "interrupted" else code)
