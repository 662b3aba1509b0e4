"""`newswire demo`: the local news web crawled into a fresh SQLite file in a directory the demo owns."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from crawler.cli.errors import EXIT_FAILED, EXIT_OK, UsageProblem
from crawler.cli.options import current_log, log_options
from crawler.cli.render import describe_run, said
from crawler.cli.store import open_store
from crawler.discovery.registry import load_registry

MARKER = ".newswire-demo"  # the directory is a demo's: it may be emptied and reused
OWNED = ("newswire.db", "newswire.db-wal", "newswire.db-shm", "sources.toml")


def prepare(root: Path) -> None:
    """Empty an earlier demo's directory (or make a new one); refuse any other non-empty directory."""
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
        raise UsageProblem(f"--dir {root} is not empty and not an earlier demo's directory; choose another")
    for name in OWNED:
        (root / name).unlink(missing_ok=True)
    shutil.rmtree(root / "feeds", ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).touch()


@click.command()
@click.option(
    "--dir", "work_dir", default="newswire-demo", show_default=True, type=click.Path(file_okay=False),
    help="Where to put the database, registry and feeds (recreated).",
)  # fmt: skip
@log_options
def demo(work_dir: str) -> None:
    """Offline demo: serve the local news web on 127.0.0.1, crawl it into a fresh SQLite file, write feeds.

    The news web holds a 404 article, a malformed feed and a page with no article on purpose, so
    the crawl is reported partial; the demo exits 0 when the crawl itself finished.

    Example: newswire demo --dir /tmp/newswire-demo
    """
    from crawler.demo import LOCAL_WEB_SETTINGS, NewsWeb
    from crawler.run import run_crawl
    from feeds.write import write_feeds

    root = Path(work_dir).resolve()
    prepare(root)
    db_url = f"sqlite:///{root / 'newswire.db'}"
    log = current_log()
    started = time.monotonic()
    with open_store(db_url) as store:
        with NewsWeb() as web:
            click.echo(f"local news web: {', '.join(f'{k} {v}' for k, v in web.urls.items())}")
            registry = web.write_registry(root / "sources.toml")
            run = run_crawl(
                load_registry(registry),
                store=store,
                overrides=LOCAL_WEB_SETTINGS,
                log_level=log.level,
                log_file=log.log_file,
            )
        said.info("%s", describe_run(run, time.monotonic() - started))
        with store.sessions() as session:
            written = write_feeds(session, root / "feeds")
    click.echo(f"database: {root / 'newswire.db'}")
    click.echo(f"feeds:    {root / 'feeds' / 'all.rss'}, all.atom and all.json (+{len(written) - 3} per outlet)")
    click.echo(f"serve:    newswire serve --db {db_url}   (then open http://127.0.0.1:8080/)")
    click.echo(f"at {datetime.now(UTC).isoformat(timespec='seconds')}")
    click.get_current_context().exit(EXIT_OK if run.status in ("complete", "partial") else EXIT_FAILED)
