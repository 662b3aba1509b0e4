"""The raw responses kept at crawl time: every stored article version has its fetch, bodies are stored once
(content-addressed), and NEWSWIRE_KEEP_RAW=0 keeps none."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from storage.db import Store
from storage.models import RawBody, RawFetch
from storage.raw import compress, keep_raw, kept_page
from storage.repository import OutletRow, sync_outlets
from tests.support.articles import store_article
from tests.support.cli import FAST_CRAWL, run_newswire
from tests.support.db import session_on
from tests.support.newsweb import Crawl


def test_a_body_fetched_twice_is_stored_once_and_read_back_whole(tmp_path: Path):
    body = ("<html><body>" + "<p>The harbour authority said on Tuesday the quay opens next spring.</p>" * 300).encode()
    when = datetime(2026, 12, 6, 9, tzinfo=UTC)
    with Store(f"sqlite:///{tmp_path / 'raw.db'}", migrate=True) as store, store.sessions.begin() as session:
        [outlet_id] = sync_outlets(session, [OutletRow("Wire", "wire", "https://wire.example/")]).values()
        ids = [store_article(session, outlet_id, f"https://wire.example/{n}", f"Story {n}.").id for n in range(2)]
        for article_id in ids:
            raw = compress("https://wire.example/x", 200, (("Content-Type", "text/html"),), body)
            keep_raw(session, article_id, 1, raw, when)
        session.flush()
        assert session.scalar(select(func.count()).select_from(RawBody)) == 1
        assert session.scalar(select(func.count()).select_from(RawFetch)) == 2
        assert session.scalar(select(RawBody.size)) == len(body) > 8 * len(session.scalar(select(RawBody.data)))
        page = kept_page(session, ids[1])
        assert page is not None and page.body == body and page.headers == [("Content-Type", "text/html")]
        assert page.status == 200 and page.fetched_at == when and kept_page(session, ids[0], version=2) is None


def test_a_crawl_keeps_every_stored_articles_response_unless_told_not_to(first_crawl: Crawl, tmp_path: Path):
    with session_on(first_crawl.db_url) as session:
        fetches = session.scalars(select(RawFetch)).all()
        assert len(fetches) == 11 and {f.status for f in fetches} == {200} and {f.version for f in fetches} == {1}
        assert all(any(name.lower() == "content-type" for name, _ in f.headers) for f in fetches)
    off = f"sqlite:///{tmp_path / 'off.db'}"
    crawl = ["crawl", "--sources", str(first_crawl.registry), "--db", off, *FAST_CRAWL]
    result = run_newswire(*crawl, env={"NEWSWIRE_KEEP_RAW": "0"})
    assert " 11 new" in result.stdout, result.stdout + result.stderr
    with session_on(off) as session:
        assert session.scalar(select(func.count()).select_from(RawFetch)) == 0
        assert session.scalar(select(func.count()).select_from(RawBody)) == 0


def test_a_kept_body_is_read_back_within_the_crawls_size_cap_and_checked():
    """Decompression streams and stops at the crawl's DOWNLOAD_MAXSIZE: a 33 KB frame that inflates to 1 GiB
    is refused having held at most the cap; a body cut short (zstd alone passes it), of another codec, or not
    zstd at all is refused too, each as BodyUnreadable (a ValueError) with a one-line reason."""
    import tracemalloc

    import zstandard

    from crawler.settings import DOWNLOAD_MAXSIZE
    from storage.raw import MAX_BODY, BodyUnreadable, decompress

    assert MAX_BODY == DOWNLOAD_MAXSIZE
    body = b"<p>The quay opens next spring.</p>" * 2000
    raw = compress("https://wire.example/", 200, (), body)
    assert decompress(raw.data, digest=raw.digest, size=raw.size) == body
    stream, zeros = zstandard.ZstdCompressor(level=1).compressobj(), b"\0" * 2**24
    bomb = b"".join(stream.compress(zeros) for _ in range(64)) + stream.flush()
    assert len(bomb) < 40_000
    tracemalloc.start()
    try:
        with pytest.raises(BodyUnreadable, match="inflates past the 10,485,760-byte cap"):
            decompress(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * MAX_BODY, peak
    twelve = zstandard.ZstdCompressor().compress(b"\0" * (12 << 20))
    assert len(decompress(twelve, max_size=16 << 20)) == 12 << 20  # the cap is the only limit
    with pytest.raises(BodyUnreadable, match="over the"):
        decompress(raw.data, size=MAX_BODY + 1)  # refused before inflating anything
    cut = raw.data[: len(raw.data) // 2]
    with pytest.raises(BodyUnreadable, match="were kept"):
        decompress(cut, size=raw.size)
    with pytest.raises(BodyUnreadable, match="digest"):
        decompress(cut, digest=raw.digest)
    with pytest.raises(BodyUnreadable, match="damaged zstd"):
        decompress(b"not zstd at all")
    with pytest.raises(ValueError, match="unknown body codec 'brotli'"):
        decompress(raw.data, "brotli")


def test_a_damaged_kept_body_is_refused_by_kept_page(tmp_path: Path):
    from storage.raw import BodyUnreadable

    with Store(f"sqlite:///{tmp_path / 'raw.db'}", migrate=True) as store, store.sessions.begin() as session:
        [outlet_id] = sync_outlets(session, [OutletRow("Wire", "wire", "https://wire.example/")]).values()
        article_id = store_article(session, outlet_id, "https://wire.example/1", "Story.").id
        raw = compress("https://wire.example/1", 200, (), b"<p>Story.</p>" * 500)
        keep_raw(session, article_id, 1, raw, datetime(2026, 12, 6, 9, tzinfo=UTC))
        session.flush()
        session.execute(update(RawBody).values(data=raw.data[:-8]))
        with pytest.raises(BodyUnreadable):
            kept_page(session, article_id)
