"""Publishing: `newswire feeds` writes the feed files, `newswire serve` serves them from the database."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.errors import Failed
from crawler.cli.options import DEFAULT_FEEDS_DIR, base_url_option, db_option, feeds_dir_option, log_options
from crawler.cli.render import said
from crawler.cli.store import open_store

limit_option = click.option(
    "--limit", "--items", "limit", type=click.IntRange(min=1), default=50, show_default=True,
    help="Items per feed, newest first.",
)  # fmt: skip


@click.command()
@db_option
@feeds_dir_option(DEFAULT_FEEDS_DIR, "Directory to write into.", out_alias=True)
@limit_option
@base_url_option
@log_options
def feeds(db_url: str, feeds_dir: str, limit: int, base_url: str | None) -> None:
    """Write the feed files: the merged feed of the latest stories (all.rss, all.atom, all.json) and
    one set per outlet (outlet/<slug>.rss, .atom, .json), each file replaced atomically.

    Example: newswire feeds --feeds-dir public/feeds --limit 100 --base-url https://news.example.org/feeds/
    """
    from feeds.write import write_feeds

    with open_store(db_url) as store, store.sessions() as session:
        written = write_feeds(session, feeds_dir, items=limit, base_url=base_url)
    merged = next(w for w in written if w.path.name == "all.rss")
    said.info(
        "wrote %d feeds to %s (%d items in the merged feed)", len(written), Path(feeds_dir).resolve(), merged.items
    )


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port to listen on.")
@click.option("--base-url", default=None, metavar="URL", help="Public URL of the server's root, behind a proxy.")
@limit_option
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True, help="Worker threads.")
@log_options
def serve(db_url: str, host: str, port: int, base_url: str | None, limit: int, threads: int) -> None:
    """Serve the feeds straight from the database (waitress), with an index page at /.

    /feeds/all.rss|.atom|.json (one item per story), /feeds/outlet/<slug>.rss|.atom|.json and
    /feeds/tag/<tag>.rss|.atom|.json; ETag and Last-Modified with 304 answers, gzip, Cache-Control.
    Prints `serving feeds on <URL>` on stderr when it listens (a line for supervisors: not
    timestamped); runs until Ctrl-C or SIGTERM.

    Example: newswire serve --host 0.0.0.0 --port 8080 --base-url https://news.example.org/
    """
    from feeds.serve import serve as serve_feeds

    def ready(root: str) -> None:
        click.echo(f"serving feeds on {root} (Ctrl-C stops)", err=True)

    try:
        serve_feeds(db_url, host, port, base_url=base_url, items=limit, threads=threads, on_ready=ready)
    except (ValueError, OSError) as exc:  # waitress: "Invalid host/port specified."; a port in use
        raise Failed(f"cannot listen on {host}:{port}: {exc}") from None
