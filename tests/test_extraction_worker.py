"""crawler.processing.job: what a worker does with one page — decode the downloaded bytes, extract, cut to
the caps, and fingerprint the text as it will be stored (the main process only decides and writes)."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.extract import ExtractionContext
from crawler.items import FetchedPage
from crawler.processing.job import Caps, extract_page
from storage.common.fingerprint import text_hash
from storage.near_duplicates import from_bytes, signature

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
PARAGRAPH = "The harbour café reopened on Thursday after a winter of repairs to the quay and the old pier. "


def _page(body: bytes, content_type: str | None) -> FetchedPage:
    return FetchedPage("herald", "https://herald.example/cafe", body, content_type, NOW)


def _html(paragraphs: int) -> str:
    story = "".join(f"<p>{PARAGRAPH * 3}{n}</p>" for n in range(paragraphs))
    return f"<html><head><title>Café</title></head><body><article><h1>Café reopens</h1>{story}</article></body></html>"


def test_a_worker_decodes_extracts_and_fingerprints_the_stored_text():
    page = _page(_html(6).encode("windows-1252"), "text/html")  # no charset: decoded as browsers do
    result = extract_page(page, ExtractionContext(fetched_at=NOW), Caps(200_000, 500_000))
    assert result.stored and result.cut is None and "harbour café" in result.record.text
    assert result.text_hash == text_hash(result.record.text)
    stored, fresh = from_bytes(result.minhash), signature(result.record.text)
    assert fresh is not None and stored.jaccard(fresh) == 1.0 and stored.size == fresh.size


def test_a_text_over_its_cap_is_cut_before_it_is_fingerprinted():
    result = extract_page(
        _page(_html(60).encode(), "text/html; charset=utf-8"), ExtractionContext(), Caps(3_000, 500_000)
    )
    assert result.cut == "text" and len(result.record.text) <= 3_000 < result.size_before
    assert result.text_hash == text_hash(result.record.text) and result.record.html.startswith("<article><p>")


def test_a_page_without_an_article_is_not_fingerprinted():
    empty = b"<html><body><nav><a href='/'>Home</a></nav></body></html>"
    result = extract_page(_page(empty, "text/html"), ExtractionContext(), Caps(200_000, 500_000))
    assert not result.stored and result.text_hash is None and result.minhash is None
