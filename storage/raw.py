"""The raw responses of article fetches, kept so that a better extractor can run again over what was crawled
(`newswire reextract`) and the corpus can be exported as WARC.

Bodies are content-addressed (SHA-256) and zstd-compressed in `raw_bodies`: an unchanged page fetched
again, or the same body under two URLs, is stored once. Each stored version of an article has its fetch in
`raw_fetches` (URL, status, headers, time, body digest). Chosen over rolling WARC files by
bench/raw_store.py (README): the same bytes per article, a third of the write cost, and kept in the
article's own transaction, on SQLite and PostgreSQL alike, so a crash never leaves an article without its
page or a page without its article.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import RawBody, RawFetch

CODEC = "zstd"
LEVEL = 3  # zstd 3: zlib 6's ratio at a ninth of its time on news pages (bench/raw_store.py)
MAX_HEADERS = 100
MAX_HEADER_CHARS = 4000


@dataclass(frozen=True)
class RawResponse:
    """A fetched response as kept: its URL, status, headers, and the body compressed (made in the extraction
    worker, which has the body anyway: compression costs the crawl's main process nothing)."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    digest: str  # SHA-256 hex of the body as downloaded
    size: int
    data: bytes  # the body, zstd-compressed
    hints: dict[str, Any] | None = None  # what the listing said of the URL: re-extraction gets it again


def compress(
    url: str, status: int, headers: tuple[tuple[str, str], ...], body: bytes, hints: dict[str, Any] | None = None
) -> RawResponse:
    import zstandard

    kept = tuple((name[:200], value[:MAX_HEADER_CHARS]) for name, value in headers[:MAX_HEADERS])
    data = zstandard.ZstdCompressor(level=LEVEL).compress(body)
    return RawResponse(url, status, kept, hashlib.sha256(body).hexdigest(), len(body), data, hints)


def decompress(data: bytes, codec: str = CODEC) -> bytes:
    import zstandard

    if codec != CODEC:
        raise ValueError(f"unknown body codec {codec!r}")
    return zstandard.ZstdDecompressor().decompress(data)


def keep_raw(session: Session, article_id: int, version: int, raw: RawResponse, fetched_at: datetime) -> None:
    """Keep the response that gave an article's `version`, in the caller's transaction (the body once)."""
    from storage.repository import dialect_insert

    body = {"digest": raw.digest, "size": raw.size, "codec": CODEC, "data": raw.data}
    session.execute(dialect_insert(session, RawBody).values(**body).on_conflict_do_nothing())
    session.add(
        RawFetch(
            article_id=article_id,
            version=version,
            url=raw.url,
            status=raw.status,
            headers=[list(pair) for pair in raw.headers],
            hints=raw.hints,
            fetched_at=fetched_at,
            digest=raw.digest,
        )
    )


@dataclass(frozen=True)
class KeptPage:
    """A kept response, decompressed."""

    article_id: int
    version: int
    url: str
    status: int
    headers: list[tuple[str, str]]
    fetched_at: datetime
    digest: str
    body: bytes
    hints: dict[str, Any] | None = None


def kept_page(session: Session, article_id: int, version: int | None = None) -> KeptPage | None:
    """The response that gave the article's `version` (its newest kept one when None), or None."""
    stmt = select(RawFetch, RawBody.data, RawBody.codec).join(RawBody, RawFetch.digest == RawBody.digest)
    stmt = stmt.where(RawFetch.article_id == article_id)
    if version is not None:
        stmt = stmt.where(RawFetch.version == version)
    row: Any = session.execute(stmt.order_by(RawFetch.version.desc(), RawFetch.id.desc()).limit(1)).first()
    if row is None:
        return None
    return _kept(*row)


def _kept(fetch: RawFetch, data: bytes, codec: str) -> KeptPage:
    headers = [(str(name), str(value)) for name, value in fetch.headers]
    return KeptPage(
        fetch.article_id, fetch.version, fetch.url, fetch.status, headers, fetch.fetched_at, fetch.digest,
        decompress(data, codec), fetch.hints,
    )  # fmt: skip


def kept_pages(session: Session, versions: list[tuple[int, int]]) -> dict[tuple[int, int], KeptPage]:
    """The responses that gave these (article id, version)s, in one query; those not kept are absent."""
    if not versions:
        return {}
    ids = sorted({article_id for article_id, _ in versions})
    wanted = set(versions)
    stmt = (
        select(RawFetch, RawBody.data, RawBody.codec)
        .join(RawBody, RawFetch.digest == RawBody.digest)
        .where(RawFetch.article_id.in_(ids))
        .order_by(RawFetch.id)
    )
    found: dict[tuple[int, int], KeptPage] = {}
    for fetch, data, codec in session.execute(stmt):
        key = (fetch.article_id, fetch.version)
        if key in wanted:
            found[key] = _kept(fetch, data, codec)
    return found
