"""What commands print: the crawl summary, stories and outlets as text or JSON, and the loggers for
a command's own timestamped lines (stdout: `said`; stderr: `noted`)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any

import click

from crawler.logs import OWN, STDOUT

said = logging.getLogger(STDOUT)  # a command's own lines on stdout (the crawl summary, "wrote N feeds")
noted = logging.getLogger(OWN)  # a command's own lines on stderr (stdout carries its data)


def describe_run(run: Any, seconds: float) -> str:
    """The one-line summary of a finished crawl run."""
    errors = {k.removeprefix("errors/"): v for k, v in (run.outcomes or {}).items() if k.startswith("errors/")}
    error_text = f" ({', '.join(f'{k}: {v}' for k, v in sorted(errors.items()))})" if errors else ""
    name = f"crawl #{run.id}" if run.id is not None else "worker"  # a shared crawl's worker records no run
    return (
        f"{name} {run.status}: {run.pages_fetched} pages fetched, {run.articles_new} new, "
        f"{(run.outcomes or {}).get('updated', 0)} updated, "
        f"{run.already_stored} already stored, {run.duplicates} duplicates, {run.errors} errors{error_text}; "
        f"{run.requests} requests, {run.not_modified} not modified, in {seconds:.1f} s"
    )


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # every C0 and C1 control but tab and newline


def echo_text(text: str) -> None:
    """Lines of stored data on stdout, control characters shown as escapes: a title from a page's JSON-LD must
    not drive the reader's terminal (an ESC sequence can retitle the window, hide text, move the cursor)."""
    click.echo(_CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text))


def echo_json(data: Any) -> None:
    """One JSON document on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def story_lines(story: dict[str, Any]) -> list[str]:
    """A story as `newswire stories` lists it: number, time, outlets and title; its original; the others."""
    original = story["original"]
    others = [c["outlet"] for c in story["copies"] if not c["is_original"]]
    when = (original["published"] or original["fetched_at"] or "")[:16]
    lines = [
        f"#{story['story_id']:<5} {when:<16} {len(story['outlets'])} outlet(s)  {story['title']}",
        f"       original: {original['outlet']} <{original['url']}>",
    ]
    return lines + ([f"       also: {', '.join(others)}"] if others else [])


def suggestion_lines(entries: Iterable[dict[str, Any]]) -> list[str]:
    """Cited outlets missing from the registry, each as a comment and a ready [[outlet]] stanza."""
    from storage.corpus.stories import registry_stanza

    lines = []
    for entry in entries:
        domains = ", ".join(entry["domains"]) or "no links seen"
        lines += [f"# cited in {entry['articles']} article(s); domains: {domains}", registry_stanza(entry) + "\n"]
    return lines
