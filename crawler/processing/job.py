"""What an extraction worker does with one fetched page: everything that is a function of the page.

Decoding the body, extracting the article, cutting a text over its cap, and the fingerprints the store
needs (the text hash, the MinHash signature of its shingles) all run here, in a worker process when
NEWSWIRE_EXTRACT_WORKERS > 0: the crawl's main process only decides and writes. A page travels to the
worker once, as the bytes that were downloaded; the citation directory travels once per worker.
"""

from __future__ import annotations

import html
import os
from dataclasses import asdict, dataclass, replace

from crawler.extract import ArticleRecord, ExtractionContext, extract_article
from crawler.extract.citations import OutletDirectory
from crawler.extract.kinds import is_stored
from crawler.items import FetchedPage
from crawler.processing.encoding import page_text
from crawler.processing.lifetime import die_with_parent
from storage.common.fingerprint import text_hash
from storage.near_duplicates import signature, to_bytes
from storage.raw import RawResponse, compress


@dataclass(frozen=True)
class Caps:
    """The largest text and clean HTML stored for one article, in characters (settings)."""

    text_chars: int
    html_chars: int


@dataclass
class Extraction:
    """A worker's answer for one page."""

    record: ArticleRecord
    stored: bool  # the page holds an article worth storing (crawler.extract.kinds.is_stored)
    text_hash: str | None = None  # fingerprints of the text as stored (after any cut)
    minhash: bytes | None = None  # its signature (storage.near_duplicates.to_bytes), None for short texts
    cut: str | None = None  # "text" or "html" when that was over its cap
    size_before: int = 0  # the text's length before a cut
    raw: RawResponse | None = None  # the response compressed, when the page is to be kept


_worker_directory: OutletDirectory | None = None  # set once per worker process by start_worker


def start_worker(crawl_pid: int, directory: OutletDirectory | None) -> None:
    """Initializer of an extraction worker: die with its parent (the crawl, or the crawl's fork server, which
    ends with the crawl) and with the crawl itself — the fork server may have died with the crawl before this
    worker told the kernel — and keep the citation directory."""
    global _worker_directory
    die_with_parent(os.getppid(), crawl_pid=crawl_pid)
    _worker_directory = directory


def extract_page(page: FetchedPage, context: ExtractionContext, caps: Caps) -> Extraction:
    """Decode, extract, bound and fingerprint one page."""
    if context.directory is None and _worker_directory is not None:
        context = replace(context, directory=_worker_directory)
    text, _encoding = page_text(page.body, page.content_type, page.url)  # decoded as browsers do
    record = extract_article(text, page.url, context)
    if not is_stored(record.page_kind, record.text, record.title):
        return Extraction(record, stored=False)
    cut, size_before = bound(record, caps)
    sig = signature(record.text)
    hints = asdict(page.hints) if page.hints else None
    raw = compress(page.url, page.status, page.headers, page.body, hints) if page.keep_raw else None
    return Extraction(record, True, text_hash(record.text), to_bytes(sig) if sig else None, cut, size_before, raw)


def bound(record: ArticleRecord, caps: Caps) -> tuple[str | None, int]:
    """Cut a text or HTML over its cap, at a paragraph; return what was cut (or None) and the text's size."""
    size = len(record.text)
    if size > caps.text_chars:
        record.text = cut_text(record.text, caps.text_chars)
        record.html = paragraphs_html(record.text)
        return "text", size
    if len(record.html) > caps.html_chars:
        record.html = paragraphs_html(record.text)
        return "html", size
    return None, size


def cut_text(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at the last paragraph break (else word) before it."""
    head = text[:limit]
    cut = head.rfind("\n\n")
    return head[:cut] if cut > limit // 2 else head.rsplit(" ", 1)[0]


def paragraphs_html(text: str) -> str:
    """Simple article HTML of a plain text: one <p> per paragraph, escaped."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    return f"<article>{paragraphs}</article>"
