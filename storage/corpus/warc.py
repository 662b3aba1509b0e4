"""Write the corpus as WARC/1.1 (warcio), as CC-NEWS ships news: per article a `response` record (the raw
fetch kept by storage/raw.py, with its payload digest and `WARC-Date` = the fetch time), a `metadata` record
(the export record: extraction result and provenance, as JSON) and a `conversion` record (the clean text),
the last two pointing at the first with `WARC-Refers-To`. Gzipped per record, so `warcio index` and any
WARC reader can seek to an article. An article whose response was not kept (NEWSWIRE_KEEP_RAW=0, or
stored before raw pages were kept), or whose kept body cannot be read back, has its metadata and conversion
records only. The response's HTTP headers describe the body the record holds (see http_headers).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from storage.common.files import Replacement
from storage.corpus.fields import CorpusRow
from storage.corpus.lines import ExportRefused, file_target
from storage.raw import BodyUnreadable, KeptFetch, KeptPage, kept_fetches

logger = logging.getLogger(__name__)

CHUNK = 100  # articles whose kept responses are read in one query (compressed; decompressed one at a time)
SHOWN = 5  # unreadable responses named in the warning line

WARC_VERSION = "WARC/1.1"


def _warc_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(record: dict[str, Any]) -> bytes:
    plain = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in record.items()}
    return json.dumps(plain, ensure_ascii=False).encode("utf-8")


# The kept body is the one Scrapy gave the spider: de-chunked, and decompressed unless its coding was unknown
# (then Content-Encoding still names it). Headers that do not describe it are masked as CC-NEWS masks them
# (X-Crawler-…, commoncrawl/news-crawl#30) and Content-Length is the length of the body held, so a reader does not
# de-chunk or gunzip a plain body, nor stop at the compressed length.
MASK_PREFIX = "X-Crawler-"
MAGIC = {"gzip": b"\x1f\x8b", "x-gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}


def http_headers(headers: list[tuple[str, str]], body: bytes) -> list[tuple[str, str]]:
    """The kept headers, describing the body the record holds: Transfer-Encoding masked, Content-Encoding masked
    unless the body still carries that coding, a Content-Length of another length masked and the true one added."""
    length, described = str(len(body)), []
    for name, value in headers:
        key = name.lower()
        if key == "content-length" and value.strip() == length:
            continue  # added below
        coded = key == "content-encoding" and _coded(value, body)
        masked = key in ("transfer-encoding", "content-length") or (key == "content-encoding" and not coded)
        described.append((MASK_PREFIX + name if masked else name, value))
    return [*described, ("Content-Length", length)]


def _coded(encodings: str, body: bytes) -> bool:
    """Whether `body` still carries the outermost of these content codings (by its magic number, where it has one;
    a coding without one, Brotli, is trusted: Scrapy names only those it left)."""
    outer = encodings.split(",")[-1].strip().lower()
    if outer == "deflate":
        return len(body) > 1 and body[0] & 0x0F == 8 and int.from_bytes(body[:2], "big") % 31 == 0
    magic = MAGIC.get(outer)
    return body.startswith(magic) if magic is not None else outer not in ("", "identity")


class WarcCorpusWriter:
    """The corpus as one gzipped WARC file (a CorpusWriter, written from records: it reads each chunk's kept
    responses), under a temporary name renamed onto `out` when complete. A kept body that cannot be read back
    (damaged, or past the crawl's size cap: storage/raw.py) costs its article the response record only; the
    articles are named in one warning line at the end."""

    columnar = False

    def __init__(self, session: Session, out: Path | IO[str], partition: str | None = None) -> None:
        if partition is not None:
            raise ExportRefused("--partition splits a Parquet export: add --format parquet")
        self.session, self.out = session, file_target(out, "warc")
        self.replacement: Replacement | None = None
        self.writer: Any = None
        self.unreadable: list[str] = []

    def start(self) -> None:
        from warcio.warcwriter import WARCWriter

        self.replacement = Replacement(self.out)
        self.writer = WARCWriter(self.replacement.open("wb"), gzip=True, warc_version=WARC_VERSION)
        self.writer.write_record(
            self.writer.create_warcinfo_record(
                self.out.name, {"software": "newswire", "format": "WARC File Format 1.1"}
            )
        )

    def write_batch(self, rows: list[CorpusRow]) -> None:
        for chunk in _chunks(rows, CHUNK):
            fetches = kept_fetches(self.session, [(row.article_id, row.record["version"]) for row in chunk])
            for row in chunk:
                fetch = fetches.get((row.article_id, row.record["version"]))
                _write_article(self.writer, row.record, self._page(fetch))

    def _page(self, fetch: KeptFetch | None) -> KeptPage | None:
        if fetch is None:
            return None
        try:
            return fetch.page()
        except BodyUnreadable as exc:
            self.unreadable.append(f"article {fetch.article_id} <{fetch.url}> ({exc})")
            return None

    def finish(self) -> None:
        assert self.replacement is not None, "start() first"
        if self.unreadable:
            shown = "; ".join(self.unreadable[:SHOWN]) + (
                f"; and {len(self.unreadable) - SHOWN} more" if len(self.unreadable) > SHOWN else ""
            )
            logger.warning(
                "%d kept response(s) unreadable, their articles written without a response record: %s",
                len(self.unreadable),
                shown,
            )
        self.replacement.commit()

    def abort(self) -> None:
        if self.replacement is not None:
            self.replacement.discard()


def _chunks(rows: list[CorpusRow], size: int) -> Iterator[list[CorpusRow]]:
    for first in range(0, len(rows), size):
        yield rows[first : first + size]


def _write_article(writer: Any, record: dict[str, Any], page: KeptPage | None) -> None:
    """The article's response (if kept), metadata and conversion records."""
    from warcio.statusandheaders import StatusAndHeaders

    refers: dict[str, str] = {}
    if page is not None:
        reason = "OK" if page.status == 200 else "-"
        http = StatusAndHeaders(f"{page.status} {reason}", http_headers(page.headers, page.body), protocol="HTTP/1.1")
        response = writer.create_warc_record(
            page.url,
            "response",
            payload=io.BytesIO(page.body),
            length=len(page.body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": _warc_date(page.fetched_at)},
        )
        writer.write_record(response)
        refers = {"WARC-Refers-To": response.rec_headers.get_header("WARC-Record-ID")}
    when = page.fetched_at if page is not None else record["fetched_at"]  # the fetch that gave this text
    fetched = {"WARC-Date": _warc_date(when), **refers}
    target = page.url if page is not None else record["url"]
    for kind, content_type, payload in (
        ("metadata", "application/json", _json(record)),
        ("conversion", "text/plain; charset=utf-8", record["text"].encode("utf-8")),
    ):
        record_out = writer.create_warc_record(
            target,
            kind,
            payload=io.BytesIO(payload),
            length=len(payload),
            warc_content_type=content_type,
            warc_headers_dict=fetched,
        )
        writer.write_record(record_out)
