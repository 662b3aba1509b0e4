"""`newswire reextract`: today's extractor over the kept raw pages; a new version where the text changed."""

from __future__ import annotations

import time

import click

from crawler.cli.errors import EXIT_OK, EXIT_PARTIAL, Locked, UsageProblem
from crawler.cli.options import db_option, log_options, parse_since, sources_option
from crawler.cli.render import said
from crawler.cli.store import open_store
from crawler.discovery.registry import RegistryError, load_registry, slugify


@click.command()
@db_option
@sources_option
@click.option("--outlet", "outlet_name", default=None, metavar="NAME", help="Only this outlet's articles.")
@click.option("--since", default=None, metavar="DATE", help="Only articles published (else fetched) since DATE.")
@click.option(
    "--workers", type=click.IntRange(min=0), default=None, metavar="N", help="Extraction processes [one per core]."
)
@log_options
def reextract(db_url: str, sources: str, outlet_name: str | None, since: str | None, workers: int | None) -> None:
    """Run today's extractor over the raw pages kept at crawl time; store a new version of each article whose
    text changed (its story, original and citations follow), and report how many changed.

    Takes the crawl lock (no crawl of this database runs meanwhile). Exit 0; 1 when some pages could not be
    re-extracted (their stored version stays); 75 when a crawl is running.

    Example: newswire reextract --outlet Reuters --since 2025-07-01
    """
    from crawler.processing.reextraction import reextract as run
    from scheduling.lock import CrawlLocked, crawl_lock
    from storage.models import Outlet

    try:
        registry = load_registry(sources)
    except RegistryError as exc:
        raise UsageProblem(str(exc)) from None
    since_dt = parse_since(since)
    started = time.monotonic()
    try:
        with crawl_lock(db_url), open_store(db_url) as store:
            slug = slugify(outlet_name) if outlet_name else None
            if slug is not None:
                from sqlalchemy import select

                with store.sessions() as session:
                    if session.scalar(select(Outlet.id).where(Outlet.slug == slug)) is None:
                        raise UsageProblem(f"--outlet: no outlet {slug!r} in this database")
            report = run(store, registry, outlet_slug=slug, since=since_dt, workers=workers)
    except CrawlLocked as exc:
        raise Locked(str(exc)) from None
    said.info(
        "reextracted %d articles: %d changed (new versions stored), %d unchanged, %d failed, %d without a kept page;"
        " in %.1f s",
        report.examined,
        report.changed,
        report.unchanged,
        report.failed,
        report.not_kept,
        time.monotonic() - started,
    )
    click.get_current_context().exit(EXIT_PARTIAL if report.failed else EXIT_OK)
