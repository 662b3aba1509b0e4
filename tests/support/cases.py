"""The saved extraction cases (tests/cases/<name>/: input.html, url.txt, expected.json, output.json): run
one as the tests do, its full output as stable JSON, and a field-by-field comparison that reads as a diff.

expected.json holds the few facts a person checked (title, byline, paragraphs, junk that must be gone);
output.json the whole ArticleRecord, written by `python -m tests.support.regenerate_cases`, so that any
change to what extraction gives shows up as a reviewable diff of output.json.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.extract import ArticleRecord, ExtractionContext, extract_article
from tests.support.paths import PROJECT

CASES_DIR = PROJECT / "tests" / "cases"
OUTPUT = "output.json"
# the fetch time every case is extracted with: relative and year-less dates never depend on today
FETCHED = datetime(2025, 1, 1, tzinfo=UTC)


def case_dirs() -> list[Path]:
    """Every case's directory, by name."""
    return sorted(p for p in CASES_DIR.iterdir() if p.is_dir())


def extract_case(case: Path) -> ArticleRecord:
    """The extraction of the case's saved page, at its URL, fetched at FETCHED."""
    html = (case / "input.html").read_text(encoding="utf-8")
    url = (case / "url.txt").read_text(encoding="utf-8").strip()
    return extract_article(html, url, ExtractionContext(fetched_at=FETCHED))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in an ArticleRecord: say how output.json holds it")


def record_json(record: ArticleRecord) -> str:
    """Every field of the record as JSON: dates in ISO 8601, keys sorted, indented, UTF-8 text as is."""
    return json.dumps(asdict(record), default=_plain, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _lines(value: Any) -> list[str]:
    """A field's value as lines to compare: a string by its own lines (text, html), else as indented JSON."""
    if isinstance(value, str):
        return value.splitlines() or [""]
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False).splitlines()


def field_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """One line per field that differs: its name and its first differing line, saved against current."""
    differences = []
    for name in sorted(saved.keys() | current.keys()):
        if name not in current:
            differences.append(f"{name}: in {OUTPUT}, no longer a field of the record")
            continue
        if name not in saved:
            differences.append(f"{name}: a new field of the record, not in {OUTPUT}")
            continue
        if saved[name] == current[name]:
            continue
        before, after = _lines(saved[name]), _lines(current[name])
        line = next(
            (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), min(len(before), len(after))
        )
        was = before[line] if line < len(before) else "<no more lines>"
        now = after[line] if line < len(after) else "<no more lines>"
        column, was, now = _around(was, now)
        differences.append(
            f"{name}: line {line + 1} (of {len(before)} saved, {len(after)} now) differs at column {column + 1}\n"
            f"    saved: {was!r}\n    now:   {now!r}"
        )
    return differences


def _around(was: str, now: str, width: int = 60) -> tuple[int, str, str]:
    """Where two lines first differ, and both cut to `width` characters either side of it (html is one line)."""
    column = next((i for i, (a, b) in enumerate(zip(was, now, strict=False)) if a != b), min(len(was), len(now)))
    start = max(0, column - width)

    def cut(line: str) -> str:
        return ("…" if start else "") + line[start : column + width] + ("…" if len(line) > column + width else "")

    return column, cut(was), cut(now)
