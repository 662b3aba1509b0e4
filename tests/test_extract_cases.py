"""Extraction on saved pages: tests/cases/<name>/ holds input.html, url.txt, expected.json (facts a person
checked) and output.json (the whole record, rewritten by `python -m tests.support.regenerate_cases`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cases import OUTPUT, case_dirs, extract_case, field_differences, record_json

CASES = case_dirs()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_saved_page(case: Path):
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    record = extract_case(case)
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


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_saved_page_gives_its_saved_output(case: Path):
    """The whole record equals output.json, field by field: an extraction change is a reviewed diff of it."""
    saved_path = case / OUTPUT
    regenerate = f"python -m tests.support.regenerate_cases {case.name}"
    assert saved_path.is_file(), f"{case.name}: no {OUTPUT}; write it with `{regenerate}` and review it"
    current = record_json(extract_case(case))
    saved = saved_path.read_text(encoding="utf-8")
    if current == saved:
        return
    differences = field_differences(json.loads(saved), json.loads(current))
    assert not differences, (
        f"case {case.name}: extraction differs from {OUTPUT} in {len(differences)} field(s):\n"
        + "\n".join(differences)
        + f"\nif the change is intended: `{regenerate}`, then review `git diff tests/cases/{case.name}`"
    )
    assert current == saved, f"case {case.name}: {OUTPUT} is not as regenerate_cases writes it: `{regenerate}`"
