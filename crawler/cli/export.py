"""`newswire export`: the cleaned corpus as JSON Lines or CSV, streamed; or stories, or the citation graph."""

from __future__ import annotations

import sys

import click

from crawler.cli.errors import UsageProblem
from crawler.cli.options import db_option, log_options, parse_since
from crawler.cli.render import noted
from crawler.cli.store import open_store
from crawler.registry import slugify


@click.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "--since", default=None, metavar="DATE", help="Only articles published since DATE ('2025-07-01', '3 days ago')."
)
@click.option("--outlet", "outlet_name", default=None, metavar="NAME", help="Only this outlet's articles.")
@click.option(
    "--out", "out_path", default="-", show_default=True, metavar="FILE|-", help="Output file, or - for stdout."
)
@click.option("--stories", "by_story", is_flag=True, help="One record per story instead (JSONL).")
@click.option("--citations", "graph", is_flag=True, help="The citation graph: citing outlet, cited outlet, count.")
@log_options
def export(
    db_url: str, fmt: str, since: str | None, outlet_name: str | None, out_path: str, by_story: bool, graph: bool
) -> None:
    """Stream the cleaned corpus, one record per article (constant memory); or stories, or citations.

    Logs how many records it wrote on stderr (stdout carries the records).

    Example: newswire export --format csv --since 2025-07-01 --outlet Reuters --out reuters.csv
    """
    from storage.export import iter_records, write_export
    from storage.story_export import citation_graph, iter_story_records

    if by_story and graph:
        raise UsageProblem("--stories and --citations are separate exports; choose one")
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
    noted.info("exported %d %s", count, "stories" if by_story else "citation links" if graph else "articles")
