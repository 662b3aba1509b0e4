"""`newswire export`: the cleaned corpus with its provenance (JSON Lines, CSV, Parquet, WARC), streamed; or
stories, or the citation graph. The command parses and checks options (each either narrows what is written or
is refused, exit 2) and prints; storage.corpus.export.export_corpus writes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

from crawler.cli.errors import Failed, UsageProblem
from crawler.cli.options import db_option, log_options, parse_since
from crawler.cli.render import noted
from crawler.cli.store import open_store
from crawler.discovery.registry import slugify

# what each export mode takes besides --db, --out and the logging options
ARTICLE_OPTIONS = {"format", "since", "since_fetched", "run", "state", "outlet", "partition"}
MODE_OPTIONS = {
    "stories": {"since", "outlet", "format:jsonl"},
    "citations": {"since", "outlet", "format:jsonl", "format:csv"},
}
OPTION_NAMES = {
    "since": "--since", "since_fetched": "--since-fetched", "run": "--run", "state": "--state",
    "outlet": "--outlet", "partition": "--partition", "card": "--card",
}  # fmt: skip


def _file_option(name: str, dest: str, help_text: str) -> Any:
    return click.option(
        name, dest, type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE", help=help_text
    )


@click.command()
@db_option
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet", "warc"]), default="jsonl", show_default=True
)
@click.option("--since", default=None, metavar="DATE", help="Only articles published since DATE ('2025-07-01').")
@click.option("--since-fetched", default=None, metavar="DATE", help="Only articles fetched since DATE.")
@click.option("--run", "run_id", type=int, default=None, metavar="N", help="Only articles stored or revised by run N.")
@_file_option(
    "--state", "state_path", "Only what was stored or revised since the export that wrote FILE; it is updated."
)
@click.option("--outlet", "outlet_name", default=None, metavar="NAME", help="Only this outlet's articles.")
@click.option("--partition", type=click.Choice(["outlet", "month"]), default=None, help="Parquet: a part per value.")
@click.option(
    "--out",
    "out_path",
    default="-",
    show_default=True,
    metavar="FILE|DIR|-",
    help="Output file (a directory with --partition), or - for stdout.",
)
@_file_option("--card", "card_path", "Also write a dataset card (Markdown, HF YAML header) of the same selection.")
@click.option("--stories", "by_story", is_flag=True, help="One record per story instead (JSON Lines).")
@click.option("--citations", "graph", is_flag=True, help="The citation graph: citing outlet, cited outlet, count.")
@log_options
def export(
    db_url: str,
    fmt: str,
    since: str | None,
    since_fetched: str | None,
    run_id: int | None,
    state_path: Path | None,
    outlet_name: str | None,
    partition: str | None,
    out_path: str,
    card_path: Path | None,
    by_story: bool,
    graph: bool,
) -> None:
    """Stream the cleaned corpus, one record per article with its provenance (constant memory); or stories,
    or citations.

    Fields, the same in every format: id (stable: from the canonical URL), version, story_id,
    is_original, url, canonical_url, outlet, title, authors, published (in the page's own offset),
    published_offset, published_raw, published_source, fetched_at, discovered_via, listing, language,
    license, citations, text, extractor, site_name, description, tags, image, text_hash, page_kind.
    Logs how many records it wrote on stderr (stdout carries the records). A file is replaced only once
    complete: a failed or killed export leaves the earlier one.

    Example: newswire export --format parquet --state nightly.json --out corpus-$(date +%F).parquet
    """
    given = {
        "since": since, "since_fetched": since_fetched, "run": run_id, "state": state_path,
        "outlet": outlet_name, "partition": partition, "card": card_path,
    }  # fmt: skip
    mode = "stories" if by_story else "citations" if graph else "articles"
    if by_story and graph:
        raise UsageProblem("--stories and --citations are separate exports; choose one")
    _refuse_what_the_mode_ignores(mode, fmt, given)
    if fmt in ("parquet", "warc") and out_path == "-":
        raise UsageProblem(
            f"--format {fmt} writes a file: give --out FILE"
            + (" (a directory with --partition)" if fmt == "parquet" else "")
        )
    for path in (out_path, state_path, card_path):
        if path is not None and str(path) != "-" and not Path(path).parent.resolve().is_dir():
            raise UsageProblem(f"{path}: the directory {Path(path).parent} does not exist")
    wanted = _filter(since, since_fetched, run_id, outlet_name)
    out: Path | IO[str] = sys.stdout if out_path == "-" else Path(out_path)
    with open_store(db_url) as store, store.sessions() as session, _refusals():
        _check_names(session, wanted)
        if mode == "articles":
            from storage.corpus.export import export_corpus

            count = export_corpus(session, wanted, fmt, out, state_path, partition=partition, card=card_path)
            if card_path is not None:
                noted.info("wrote the dataset card %s", card_path)
        else:
            count = _export_graph(session, mode, wanted, fmt, out)
    one, many = {"stories": ("story", "stories"), "citations": ("citation link", "citation links")}.get(
        mode, ("article", "articles")
    )
    noted.info("exported %d %s", count, one if count == 1 else many)


def _refuse_what_the_mode_ignores(mode: str, fmt: str, given: dict[str, Any]) -> None:
    if mode == "articles":
        if given["partition"] and fmt != "parquet":
            raise UsageProblem("--partition splits a Parquet export: add --format parquet")
        return
    takes = MODE_OPTIONS[mode]
    for name, value in given.items():
        if value not in (None, False) and name not in takes:
            raise UsageProblem(f"--{mode} does not take {OPTION_NAMES[name]}")
    if f"format:{fmt}" not in takes:
        formats = ", ".join(sorted(t.split(":")[1] for t in takes if t.startswith("format:")))
        raise UsageProblem(f"--{mode} is written as {formats}, not {fmt}")


def _filter(since: str | None, since_fetched: str | None, run_id: int | None, outlet: str | None) -> Any:
    from storage.corpus.fields import CorpusFilter

    return CorpusFilter(
        since=parse_since(since),
        since_fetched=parse_since(since_fetched, "--since-fetched"),
        run_id=run_id,
        outlet_slug=slugify(outlet) if outlet else None,
    )


@contextmanager
def _refusals() -> Iterator[None]:
    """The library's refusals as one error line: a state or an option it cannot use (exit 2), a database
    without its id (exit 3)."""
    from storage.corpus.lines import ExportRefused
    from storage.corpus.state import StateUnreadable
    from storage.identity import NoDatabaseId

    try:
        yield
    except (ExportRefused, StateUnreadable) as exc:
        raise UsageProblem(str(exc)) from None
    except NoDatabaseId as exc:
        raise Failed(str(exc)) from None


def _check_names(session: Any, wanted: Any) -> None:
    """An --outlet or --run the database does not know is an error, not an empty export."""
    from sqlalchemy import select

    from storage.models import CrawlRun, Outlet

    slug = wanted.outlet_slug
    if slug is not None and session.scalar(select(Outlet.id).where(Outlet.slug == slug)) is None:
        known = ", ".join(session.scalars(select(Outlet.name).order_by(Outlet.name))) or "none"
        raise UsageProblem(f"--outlet: no outlet {wanted.outlet_slug!r} in this database (outlets: {known})")
    if wanted.run_id is not None and session.get(CrawlRun, wanted.run_id) is None:
        raise UsageProblem(f"--run: no crawl run #{wanted.run_id} in this database (see newswire status)")


def _export_graph(session: Any, mode: str, wanted: Any, fmt: str, out: Path | IO[str]) -> int:
    from storage.corpus.lines import write_records
    from storage.corpus.stories import citation_graph, iter_story_records

    if mode == "stories":
        stories = iter_story_records(session, since=wanted.since, outlet_slug=wanted.outlet_slug)
        return write_records(stories, "jsonl", out, ())
    rows = citation_graph(session, since=wanted.since, outlet_slug=wanted.outlet_slug)
    return write_records(rows, fmt, out, ("citing", "cited", "articles"))
