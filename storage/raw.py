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
MAX_BODY = 10 * 1024 * 1024  # the crawl's DOWNLOAD_MAXSIZE (crawler/settings.py): no page kept is longer
READ_CHUNK = 1 << 16


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


class BodyUnreadable(ValueError):
    """A kept body that cannot be given back as it was downloaded: damaged, cut short, of an unknown codec, or
    larger than the cap (the message says which, in one line)."""


def decompress(
    data: bytes, codec: str = CODEC, *, max_size: int = MAX_BODY, digest: str | None = None, size: int | None = None
) -> bytes:
    """A kept body, decompressed a chunk at a time and never past `max_size` bytes (a 33 KB zstd frame can
    inflate to 1 GiB), and checked against its stored `size` and SHA-256 `digest` when given (zstd alone passes
    a frame cut short). BodyUnreadable otherwise."""
    import zstandard

    if codec != CODEC:
        raise BodyUnreadable(f"unknown body codec {codec!r}")
    if size is not None and size > max_size:
        raise BodyUnreadable(f"body of {size:,} bytes is over the {max_size:,}-byte cap")
    chunks, total = [], 0
    try:
        with zstandard.ZstdDecompressor().stream_reader(data) as reader:
            while chunk := reader.read(READ_CHUNK):
                total += len(chunk)
                if total > max_size:
                    raise BodyUnreadable(f"body inflates past the {max_size:,}-byte cap")
                chunks.append(chunk)
    except zstandard.ZstdError as exc:
        raise BodyUnreadable(f"damaged zstd data ({exc})") from None
    body = b"".join(chunks)
    if size is not None and len(body) != size:
        raise BodyUnreadable(f"body is {len(body):,} bytes, {size:,} were kept")
    if digest is not None and hashlib.sha256(body).hexdigest() != digest:
        raise BodyUnreadable("body does not match its SHA-256 digest")
    return body


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


@dataclass(frozen=True)
class KeptFetch:
    """A kept response as stored, its body still compressed: `page()` reads it (BodyUnreadable when it cannot
    be), so a caller decompresses one page at a time and can go on past a damaged one."""

    article_id: int
    version: int
    url: str
    status: int
    headers: list[tuple[str, str]]
    fetched_at: datetime
    digest: str
    size: int
    codec: str
    data: bytes
    hints: dict[str, Any] | None = None

    def page(self, max_size: int = MAX_BODY) -> KeptPage:
        body = decompress(self.data, self.codec, max_size=max_size, digest=self.digest, size=self.size)
        return KeptPage(
            self.article_id, self.version, self.url, self.status, self.headers, self.fetched_at, self.digest, body,
            self.hints,
        )  # fmt: skip


_KEPT = select(RawFetch, RawBody.data, RawBody.codec, RawBody.size).join(RawBody, RawFetch.digest == RawBody.digest)


def kept_page(session: Session, article_id: int, version: int | None = None) -> KeptPage | None:
    """The response that gave the article's `version` (its newest kept one when None), or None; BodyUnreadable
    when its body cannot be read back (see decompress)."""
    stmt = _KEPT.where(RawFetch.article_id == article_id)
    if version is not None:
        stmt = stmt.where(RawFetch.version == version)
    row: Any = session.execute(stmt.order_by(RawFetch.version.desc(), RawFetch.id.desc()).limit(1)).first()
    if row is None:
        return None
    return _fetch(*row).page()


def _fetch(fetch: RawFetch, data: bytes, codec: str, size: int) -> KeptFetch:
    headers = [(str(name), str(value)) for name, value in fetch.headers]
    return KeptFetch(
        fetch.article_id, fetch.version, fetch.url, fetch.status, headers, fetch.fetched_at, fetch.digest, size,
        codec, data, fetch.hints,
    )  # fmt: skip


def kept_fetches(session: Session, versions: list[tuple[int, int]]) -> dict[tuple[int, int], KeptFetch]:
    """The responses that gave these (article id, version)s, bodies still compressed, in one query; those not
    kept are absent."""
    if not versions:
        return {}
    ids = sorted({article_id for article_id, _ in versions})
    wanted = set(versions)
    stmt = _KEPT.where(RawFetch.article_id.in_(ids)).order_by(RawFetch.id)
    found: dict[tuple[int, int], KeptFetch] = {}
    for fetch, data, codec, size in session.execute(stmt):
        key = (fetch.article_id, fetch.version)
        if key in wanted:
            found[key] = _fetch(fetch, data, codec, size)
    return found


def kept_pages(session: Session, versions: list[tuple[int, int]]) -> dict[tuple[int, int], KeptPage]:
    """kept_fetches, decompressed (BodyUnreadable at the first body that cannot be read back)."""
    return {key: fetch.page() for key, fetch in kept_fetches(session, versions).items()}
