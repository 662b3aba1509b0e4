"""The `newswire` console script: one click group, one thin command per job (crawler.cli.<group>), shared
options defined once (options), what commands print (render), errors that carry their exit code (errors)."""

from __future__ import annotations

import sys
import traceback

import click

from crawler.cli.crawl import crawl
from crawler.cli.demo import demo
from crawler.cli.errors import EXIT_CRASHED, EXIT_OK, NewswireGroup
from crawler.cli.export import export
from crawler.cli.publish import feeds, serve
from crawler.cli.reextract import reextract
from crawler.cli.reports import outlets, status, stories
from crawler.cli.schedule import schedule
from crawler.cli.worker import worker

__all__ = ["cli", "main"]


@click.group(cls=NewswireGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newswire")
def cli() -> None:
    """newswire: crawl news outlets, clean and deduplicate articles, publish feeds, export the corpus.

    Every command takes --db, -q/-v and --log-file; expected errors are one `newswire: error:` line
    with exit code 2 (usage), 3 (failed) or 75 (another crawl is running); a crawl that
    completed exits 0, a partial one 1; a crash (a bug, with its traceback) exits 70.

    Example: newswire demo
    """


for command in (crawl, worker, feeds, export, reextract, status, stories, outlets, demo, serve, schedule):
    cli.add_command(command)


def main() -> None:
    """Entry point of the console script."""
    try:
        cli(prog_name="newswire")
    except BrokenPipeError:  # `newswire export | head`
        sys.stderr.close()
        sys.exit(EXIT_OK)
    except Exception:  # noqa: BLE001 - not an expected failure (those are CommandErrors): a bug
        traceback.print_exc()
        click.echo(f"newswire: crashed: a bug, exit {EXIT_CRASHED}; the traceback above belongs in a report", err=True)
        sys.exit(EXIT_CRASHED)
