"""Publishing: `newswire feeds` writes the feed files, `newswire serve` serves them from the database."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.errors import Failed
from crawler.cli.options import DEFAULT_FEEDS_DIR, base_url_option, db_option, feeds_dir_option, log_options
from crawler.cli.render import noted, said
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
    """Write the feed files: the merged feed of the latest stories (all.rss, all.atom, all.json),
    one set per outlet (outlet/<slug>.rss, .atom, .json) and feeds.opml listing them, each file
    replaced atomically. Without --base-url, $NEWSWIRE_BASE_URL/feeds/ when that is set (where
    `serve` serves them), else the files' own file:// URLs name them. Item ids are the same either way.

    Example: newswire feeds --feeds-dir public/feeds --limit 100 --base-url https://news.example.org/feeds/
    """
    import os

    from feeds.write import write_feeds

    if base_url is None and os.environ.get("NEWSWIRE_BASE_URL"):
        base_url = os.environ["NEWSWIRE_BASE_URL"].rstrip("/") + "/feeds/"
    if base_url is None:
        noted.warning(
            "no --base-url (or NEWSWIRE_BASE_URL): the feeds' self links are file:// URLs of %s, which a "
            "subscriber cannot follow; give the public URL the files are served at",
            Path(feeds_dir).resolve(),
        )
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
@click.option(
    "--base-url",
    envvar="NEWSWIRE_BASE_URL",
    default=None,
    metavar="URL",
    help="Public URL of the server's root (links, self links); default: the address it listens on.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="HOST[:PORT]",
    help="A Host name the server answers for (repeatable); other Host headers get 400. Without --base-url, "
    "links to a listed host use its name.",
)
@click.option("--access-log", type=click.Path(dir_okay=False), default=None, help="Append requests to FILE (CLF).")
@limit_option
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True, help="Worker threads.")
@click.option(
    "--connections-per-client", type=click.IntRange(min=0), default=20, show_default=True, metavar="N",
    help="Connections one client address (an IPv6 /64) may hold at once; more are refused. 0: no limit, for a "
    "server behind a reverse proxy (every connection then comes from the proxy's address).",
)  # fmt: skip
@log_options
def serve(
    db_url: str,
    host: str,
    port: int,
    base_url: str | None,
    allowed_hosts: tuple[str, ...],
    access_log: str | None,
    limit: int,
    threads: int,
    connections_per_client: int,
) -> None:
    """Serve the feeds and the web reader straight from the database (waitress).

    /feeds/all.rss|.atom|.json (one item per story), /feeds/outlet/<slug>.rss|.atom|.json and
    /feeds/tag/<tag>.rss|.atom|.json, each taking ?limit=N, ?lang=xx and ?q=words; /feeds.opml;
    the reader's pages at /, /stories/<id>, /outlets/<slug> and /search?q=…; ETag and
    Last-Modified with 304 answers, gzip, Cache-Control. Slow clients are cut off: a request's headers must
    arrive within 10 s, the whole request within 30 s. Prints `serving feeds on <URL>` on stderr
    when it listens (a line for supervisors: not timestamped); runs until Ctrl-C or SIGTERM.

    Example: newswire serve --host 0.0.0.0 --port 8080 --base-url https://news.example.org/
    --allowed-host news.example.org --access-log access.log
    """
    from feeds.web.app import serve as serve_feeds

    def ready(root: str) -> None:
        click.echo(f"serving feeds on {root} (Ctrl-C stops)", err=True)

    try:
        serve_feeds(
            db_url, host, port, base_url=base_url, allowed_hosts=allowed_hosts, access_log=access_log, items=limit,
            threads=threads, connections_per_client=connections_per_client, on_ready=ready,
        )  # fmt: skip
    except (ValueError, OSError) as exc:  # waitress: "Invalid host/port specified."; a port in use
        raise Failed(f"cannot listen on {host}:{port}: {exc}") from None
