"""Extraction on saved pages: tests/cases/<name>/ holds input.html, url.txt and expected.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.extract import extract_article

CASES = sorted(p for p in (Path(__file__).parent / "cases").iterdir() if p.is_dir())
FETCHED = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_saved_page(case: Path):
    html = (case / "input.html").read_text(encoding="utf-8")
    url = (case / "url.txt").read_text(encoding="utf-8").strip()
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    record = extract_article(html, url, fetched_at=FETCHED)
    for field in ("title", "canonical_url", "authors", "language", "site_name", "tags", "published_source"):
        if field in expected:
            assert getattr(record, field) == expected[field], field
    if "published" in expected:
        assert record.published.isoformat() == expected["published"]
    paragraphs = record.text.split("\n\n")
    assert len(paragraphs) == expected["paragraphs"], paragraphs
    assert record.text.startswith(expected["text_starts_with"])
    assert record.text.endswith(expected.get("text_ends_with", ""))
    for junk in expected["text_excludes"]:
        assert junk not in record.text, junk
