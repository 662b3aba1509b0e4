"""The `newswire` console script: one thin command per job, expected errors as one line and an exit code."""

from __future__ import annotations

import logging
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import dateparser

from crawler.registry import (
    DEFAULT_SOURCES,
    RegistryError,
    follow_citations_depth,
    load_registry,
    select_outlets,
    slugify,
)

if TYPE_CHECKING:
    from storage.db import Store

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
DEMO_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_START_DELAY": 0,
    "NEWSWIRE_RETRY_BACKOFF_BASE": 0.2,
}


def _database(must_exist: bool):
    """A --db callback: the URL resolved ($NEWSWIRE_DB, else ./newswire.db) and checked, or one error line."""

    def check(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
        from storage.db import DatabaseUnusable, check_database, resolve_db_url

        try:
            return check_database(resolve_db_url(value), must_exist=must_exist)
        except DatabaseUnusable as exc:
            fail(f"--db: {exc}")

    return check


def _db_option(must_exist: bool):
    return click.option(
        "--db", "db_url", envvar="NEWSWIRE_DB", default=None, metavar="URL", callback=_database(must_exist),
        help="SQLAlchemy database URL (default: $NEWSWIRE_DB, else sqlite:///newswire.db).",
    )  # fmt: skip


db_option = _db_option(must_exist=True)  # commands that read what crawls stored
crawl_db_option = _db_option(must_exist=False)  # a crawl creates the database (not its directory)
sources_option = click.option(
    "--sources", "sources", default=DEFAULT_SOURCES, show_default=True, metavar="FILE",
    type=click.Path(dir_okay=False), help="Outlet registry (TOML).",
)  # fmt: skip


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print one error line and exit with `code`."""
    click.echo(f"newswire: error: {message}", err=True)
    sys.exit(code)


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    """KEY=VALUE pairs of `-s` options as a dict of Scrapy setting overrides, each checked against the type
    of the setting's default (a number, a flag): `-s DOWNLOAD_TIMEOUT=abc` is refused here, in one line,
    not deep inside the crawl."""
    from crawler.crawl import crawl_settings

    defaults = crawl_settings(None)
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            fail(f"-s expects KEY=VALUE, got {pair!r}")
        if problem := _setting_problem(defaults.get(key), value):
            fail(f"-s {key}={value}: {problem}")
        overrides[key] = value
    return overrides


def _setting_problem(default: object, value: str) -> str | None:
    """Why `value` cannot stand for a setting whose default is `default`, or None."""
    if isinstance(default, bool):
        ok = value.strip().lower() in ("0", "1", "true", "false", "yes", "no", "on", "off")
        return None if ok else "expected true or false (1 or 0)"
    if not isinstance(default, int | float):
        return None
    try:
        float(value)
    except ValueError:
        return "expected a number"
    return None


def describe_run(run, seconds: float) -> str:
    """The one-line summary of a finished crawl run."""
    errors = {k.removeprefix("errors/"): v for k, v in (run.outcomes or {}).items() if k.startswith("errors/")}
    error_text = f" ({', '.join(f'{k}: {v}' for k, v in sorted(errors.items()))})" if errors else ""
    return (
        f"crawl #{run.id} {run.status}: {run.pages_fetched} pages fetched, {run.articles_new} new, "
        f"{(run.outcomes or {}).get('updated', 0)} updated, "
        f"{run.already_stored} already stored, {run.duplicates} duplicates, {run.errors} errors{error_text}; "
        f"{run.requests} requests, {run.not_modified} not modified, in {seconds:.1f} s"
    )


def parse_since(since: str | None) -> datetime | None:
    """The --since option as an aware UTC datetime (anything dateparser reads), or a one-line error."""
    if not since:
        return None
    value = dateparser.parse(
        since, settings={"RETURN_AS_TIMEZONE_AWARE": True, "TIMEZONE": "UTC", "TO_TIMEZONE": "UTC"}
    )
    if value is None:
        fail(f"--since: cannot read a date in {since!r}")
    return value


def exit_code_for(status: str) -> int:
    """0 for a complete run, 1 for a partial or interrupted one, 3 for a failed one."""
    return {"complete": EXIT_OK, "partial": EXIT_PARTIAL, "interrupted": EXIT_PARTIAL}.get(status, EXIT_FAILED)


def open_store(db_url: str) -> Store:
    """The command's one database, brought to the current schema: the only place a command migrates."""
    from storage.db import Store

    return Store(db_url, migrate=True)


def close_abandoned_runs(store: Store) -> None:
    """Runs left 'running' by a crawl that died (kill -9, power loss) are marked failed; we hold the lock."""
    from storage import repository

    with store.sessions.begin() as session:
        if closed := repository.close_abandoned_runs(session):
            logger.warning("%d crawl run(s) left running by a crashed crawl marked failed", closed)


def due_outlets(outlets: list, store: Store) -> list:
    """The outlets whose next crawl time has come (or that were never crawled)."""
    from scheduling.freshness import due_slugs

    with store.sessions() as session:
        due = set(due_slugs(session, [o.slug for o in outlets], datetime.now(UTC)))
    return [o for o in outlets if o.slug in due]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newswire")
def cli() -> None:
    """newswire: crawl news outlets, clean and deduplicate articles, publish feeds, export the corpus.

    Example: newswire demo
    """


@cli.command()
@sources_option
@crawl_db_option
@click.option("--outlet", "outlet_names", multiple=True, metavar="NAME", help="Crawl only this outlet (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N new articles per outlet.")
@click.option("-s", "--set", "settings", multiple=True, metavar="KEY=VALUE", help="Override a Scrapy setting.")
@click.option("--follow-citations", is_flag=True, help="Also crawl registry outlets that crawled articles cite.")
@click.option(
    "--depth", type=click.IntRange(min=1), default=None, help="Citation hops to follow (default 1, or sources.toml's)."
)
@click.option(
    "--due", is_flag=True, help="Only outlets whose adaptive polling time has come (for frequent cron lines)."
)
@click.option("-v", "--verbose", is_flag=True, help="Log Scrapy's INFO messages too.")
def crawl(
    sources: str,
    db_url: str | None,
    outlet_names: tuple[str, ...],
    limit: int | None,
    settings: tuple[str, ...],
    follow_citations: bool,
    depth: int | None,
    due: bool,
    verbose: bool,
) -> None:
    """Discover and fetch new articles from the registry's outlets and store them.

    With --follow-citations, a registry outlet that a crawled article cites is crawled too, in the
    same run (once per outlet), and links to its article pages are fetched directly, up to --depth
    hops from the outlets the crawl started with.

    Exit code 0: complete; 1: partial (some URLs failed; see the error lines); 2: bad usage or
    registry; 3: the crawl failed; 75: another crawl of the same database is running (nothing done).
    A crawl stopped by SIGTERM or Ctrl-C closes cleanly, is recorded as interrupted and exits 1.

    With --due, only outlets whose next crawl time has come are crawled: each outlet's interval
    adapts to how often it publishes, what its feeds and server ask (<ttl>, Cache-Control,
    Retry-After) and its failures in a row (see `newswire status`).

    Example: newswire crawl --outlet Reuters --limit 20
    """
    from crawler.crawl import run_crawl

    try:
        registry = load_registry(sources)
        outlets = select_outlets(registry, list(outlet_names))
        configured = follow_citations_depth(sources)
    except RegistryError as exc:
        fail(str(exc))
    follow_depth = (depth or max(1, configured)) if follow_citations else configured
    overrides = parse_overrides(settings)  # before anything is created: a typo changes nothing
    from scheduling.lock import EXIT_LOCKED, CrawlLocked, crawl_lock

    started = time.monotonic()
    try:
        with crawl_lock(db_url), open_store(db_url) as store:
            close_abandoned_runs(store)
            if due:
                outlets = due_outlets(outlets, store)
                if not outlets:
                    click.echo("no outlet is due; nothing crawled")
                    sys.exit(EXIT_OK)
            run = run_crawl(
                outlets,
                registry=registry,
                follow_depth=follow_depth,
                store=store,
                limit=limit,
                overrides=overrides,
                log_level="INFO" if verbose else "WARNING",
            )
    except CrawlLocked as exc:
        fail(str(exc), EXIT_LOCKED)
    click.echo(describe_run(run, time.monotonic() - started))
    sys.exit(exit_code_for(run.status))


@cli.command()
@db_option
@click.option(
    "--out",
    "out_dir",
    default="feeds",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Directory to write into.",
)
@click.option(
    "--items", type=click.IntRange(min=1), default=50, show_default=True, help="Items per feed, newest first."
)
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Where the files will be served (for rel=self); default: their file:// URL.",
)
def feeds(db_url: str | None, out_dir: str, items: int, base_url: str | None) -> None:
    """Write the merged feed (all.rss, all.atom) and one pair per outlet (outlet/<slug>.rss|.atom).

    Example: newswire feeds --out public/feeds --items 100 --base-url https://news.example.org/feeds/
    """
    from feeds.write import write_feeds

    with open_store(db_url) as store, store.sessions() as session:
        written = write_feeds(session, out_dir, items=items, base_url=base_url)
    merged = next(w for w in written if w.path.name == "all.rss")
    click.echo(f"wrote {len(written)} feeds to {Path(out_dir).resolve()} ({merged.items} items in the merged feed)")


@cli.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "--since",
    default=None,
    metavar="DATE",
    help="Only articles published since DATE ('2025-07-01', '3 days ago').",
)
@click.option("--outlet", "outlet_name", default=None, metavar="NAME", help="Only this outlet's articles.")
@click.option(
    "--out",
    "out_path",
    default="-",
    show_default=True,
    metavar="FILE|-",
    help="Output file, or - for stdout.",
)
@click.option("--stories", "by_story", is_flag=True, help="One record per story instead (JSONL).")
@click.option("--citations", "graph", is_flag=True, help="The citation graph: citing outlet, cited outlet, count.")
def export(
    db_url: str | None, fmt: str, since: str | None, outlet_name: str | None, out_path: str, by_story: bool, graph: bool
) -> None:
    """Stream the cleaned corpus, one record per article (constant memory); or stories, or citations.

    Example: newswire export --format csv --since 2025-07-01 --outlet Reuters --out reuters.csv
    """
    from storage.export import iter_records, write_export
    from storage.story_export import citation_graph, iter_story_records

    if by_story and graph:
        fail("--stories and --citations are separate exports; choose one")
    since_dt = parse_since(since)
    with open_store(db_url) as store, store.sessions() as session:
        if by_story:
            records, fmt = iter_story_records(session, since=since_dt), "jsonl"
        elif graph:
            records = iter(citation_graph(session))
        else:
            records = iter_records(session, since=since_dt, outlet_slug=slugify(outlet_name) if outlet_name else None)
        if out_path == "-":
            count = write_export(records, sys.stdout, fmt)
        else:
            with open(out_path, "w", encoding="utf-8", newline="") as handle:
                count = write_export(records, handle, fmt)
    click.echo(f"exported {count} {'stories' if by_story else 'citation links' if graph else 'articles'}", err=True)


@cli.command()
@db_option
@click.option("--runs", type=click.IntRange(min=1), default=5, show_default=True, help="How many recent runs to show.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document (outlets and runs) for scripts.")
@click.option("-s", "--set", "settings", multiple=True, metavar="KEY=VALUE", help="Override a setting (as for crawl).")
def status(db_url: str | None, runs: int, as_json: bool, settings: tuple[str, ...]) -> None:
    """Show each outlet's articles and freshness, and the latest crawl runs.

    Freshness: the last new article, the last crawl that reached the outlet, failures in a row and
    when adaptive polling next crawls it. Outlets that failed NEWSWIRE_FAILURE_LIMIT crawls in a row
    are marked FAILING. Exit code 0 even when outlets fail (it reports; it does not judge).

    Example: newswire status --runs 10 --json
    """
    import json

    from crawler.config import CrawlConfig
    from crawler.crawl import crawl_settings
    from crawler.status import status_report, status_text

    policy = CrawlConfig.from_settings(crawl_settings(db_url, parse_overrides(settings))).polling
    with open_store(db_url) as store, store.sessions() as session:
        report = status_report(session, policy, runs)
    click.echo(json.dumps(report, indent=2, ensure_ascii=False) if as_json else status_text(report))


@cli.command()
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
def stories(db_url: str | None, since: str | None, min_outlets: int, limit: int) -> None:
    """List stories with the outlets that carry them and which copy is the original.

    Example: newswire stories --since "2 days ago" --min-outlets 2
    """
    from storage.story_export import iter_story_records

    with open_store(db_url) as store, store.sessions() as session:
        for story in iter_story_records(session, since=parse_since(since), min_outlets=min_outlets, limit=limit):
            original = story["original"]
            others = [c["outlet"] for c in story["copies"] if not c["is_original"]]
            when = (original["published"] or original["fetched_at"] or "")[:16]
            click.echo(f"#{story['story_id']:<5} {when:<16} {len(story['outlets'])} outlet(s)  {story['title']}")
            click.echo(f"       original: {original['outlet']} <{original['url']}>")
            if others:
                click.echo(f"       also: {', '.join(others)}")


@cli.command()
@db_option
@click.option("--suggest", is_flag=True, help="Outlets that articles cite but the registry lacks, with a stanza each.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N suggestions.")
def outlets(db_url: str | None, suggest: bool, limit: int) -> None:
    """List the registry's outlets in the database, or (--suggest) cited outlets missing from it.

    Example: newswire outlets --suggest --limit 10 >> sources.toml.new
    """
    from storage.repository import outlet_counts
    from storage.story_export import registry_stanza, suggested_outlets

    with open_store(db_url) as store, store.sessions() as session:
        if not suggest:
            for name, count, _last in outlet_counts(session):
                click.echo(f"{name}: {count} articles")
            return
        for entry in suggested_outlets(session, limit):
            domains = ", ".join(entry["domains"]) or "no links seen"
            click.echo(f"# cited in {entry['articles']} article(s); domains: {domains}")
            click.echo(registry_stanza(entry) + "\n")


@cli.command()
@click.option(
    "--dir",
    "work_dir",
    default="newswire-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to put the database, registry and feeds (recreated).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log Scrapy's INFO messages too.")
def demo(work_dir: str, verbose: bool) -> None:
    """Offline demo: serve the local news web on 127.0.0.1, crawl it into a fresh SQLite file, write feeds.

    The news web holds a 404 article, a malformed feed and a page with no article on purpose, so
    the crawl is reported partial; the demo exits 0 when the crawl itself finished.

    Example: newswire demo --dir /tmp/newswire-demo
    """
    from crawler.crawl import run_crawl
    from crawler.newsweb import NewsWeb
    from feeds.write import write_feeds

    root = Path(work_dir).resolve()
    marker = root / ".newswire-demo"
    if root.exists() and any(root.iterdir()) and not marker.exists():
        fail(f"--dir {root} is not empty and not an earlier demo's directory; choose another")
    for name in ("newswire.db", "newswire.db-wal", "newswire.db-shm", "sources.toml"):
        (root / name).unlink(missing_ok=True)
    shutil.rmtree(root / "feeds", ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    marker.touch()
    db_url = f"sqlite:///{root / 'newswire.db'}"
    started = time.monotonic()
    with open_store(db_url) as store:
        with NewsWeb() as web:
            click.echo(f"local news web: {', '.join(f'{k} {v}' for k, v in web.urls.items())}")
            registry = web.write_registry(root / "sources.toml")
            run = run_crawl(
                load_registry(registry),
                store=store,
                overrides=DEMO_SETTINGS,
                log_level="INFO" if verbose else "WARNING",
            )
        click.echo(describe_run(run, time.monotonic() - started))
        with store.sessions() as session:
            written = write_feeds(session, root / "feeds")
    click.echo(f"database: {root / 'newswire.db'}")
    click.echo(f"feeds:    {root / 'feeds' / 'all.rss'}, all.atom and all.json (+{len(written) - 3} per outlet)")
    click.echo(f"serve:    newswire serve --db {db_url}   (then open http://127.0.0.1:8080/)")
    click.echo(f"at {datetime.now(UTC).isoformat(timespec='seconds')}")
    sys.exit(EXIT_OK if run.status in ("complete", "partial") else EXIT_FAILED)


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port to listen on.")
@click.option("--base-url", default=None, metavar="URL", help="Public URL of the server's root, behind a proxy.")
@click.option("--items", type=click.IntRange(min=1), default=50, show_default=True, help="Items per feed.")
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True, help="Worker threads.")
def serve(db_url: str | None, host: str, port: int, base_url: str | None, items: int, threads: int) -> None:
    """Serve the feeds straight from the database (waitress), with an index page at /.

    /feeds/all.rss|.atom|.json (one item per story), /feeds/outlet/<slug>.rss|.atom|.json and
    /feeds/tag/<tag>.rss|.atom|.json; ETag and Last-Modified with 304 answers, gzip, Cache-Control.
    Runs until Ctrl-C or SIGTERM.

    Example: newswire serve --host 0.0.0.0 --port 8080 --base-url https://news.example.org/
    """
    from feeds.serve import serve as serve_feeds

    def ready(root: str) -> None:
        click.echo(f"serving feeds on {root} (Ctrl-C stops)", err=True)

    try:
        serve_feeds(db_url, host, port, base_url=base_url, items=items, threads=threads, on_ready=ready)
    except (ValueError, OSError) as exc:  # waitress: "Invalid host/port specified."; a port in use
        fail(f"cannot listen on {host}:{port}: {exc}", EXIT_FAILED)


from crawler.cli_schedule import schedule  # noqa: E402 - the group is defined above

cli.add_command(schedule)


def main() -> None:
    """Entry point of the console script: expected failures end in one line and exit code 3."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        cli(prog_name="newswire")
    except BrokenPipeError:  # `newswire export | head`
        sys.stderr.close()
        sys.exit(EXIT_OK)
    except SQLAlchemyError as exc:
        fail(f"database: {str(exc).splitlines()[0]}", EXIT_FAILED)
    except (OSError, RuntimeError) as exc:
        fail(f"{type(exc).__name__}: {exc}", EXIT_FAILED)


if __name__ == "__main__":
    main()
