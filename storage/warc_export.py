"""Write the corpus as WARC/1.1 (warcio), as CC-NEWS ships news: per article a `response` record (the raw
fetch kept by storage/raw.py, with its payload digest and `WARC-Date` = the fetch time), a `metadata` record
(the export record: extraction result and provenance, as JSON) and a `conversion` record (the clean text),
the last two pointing at the first with `WARC-Refers-To`. Gzipped per record, so `warcio index` and any
WARC reader can seek to an article. An article whose response was not kept (NEWSWIRE_KEEP_RAW=0, or
stored before raw pages were kept) has its metadata and conversion records only.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from storage.corpus import CorpusRow
from storage.raw import KeptPage, kept_pages

CHUNK = 500  # articles whose kept responses are read in one query

WARC_VERSION = "WARC/1.1"


def _warc_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(record: dict[str, Any]) -> bytes:
    plain = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in record.items()}
    return json.dumps(plain, ensure_ascii=False).encode("utf-8")


def write_warc(session: Session, rows: Iterable[CorpusRow], path: Path) -> int:
    """One gzipped WARC file; return how many articles."""
    from warcio.warcwriter import WARCWriter

    count = 0
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
        writer.write_record(
            writer.create_warcinfo_record(path.name, {"software": "newswire", "format": "WARC File Format 1.1"})
        )
        for chunk in _chunks(rows, CHUNK):
            pages = kept_pages(session, [(row.article_id, row.record["version"]) for row in chunk])
            for row in chunk:
                _write_article(writer, row.record, pages.get((row.article_id, row.record["version"])))
                count += 1
    return count


def _chunks(rows: Iterable[CorpusRow], size: int) -> Iterator[list[CorpusRow]]:
    chunk: list[CorpusRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write_article(writer: Any, record: dict[str, Any], page: KeptPage | None) -> None:
    """The article's response (if kept), metadata and conversion records."""
    from warcio.statusandheaders import StatusAndHeaders

    refers: dict[str, str] = {}
    if page is not None:
        reason = "OK" if page.status == 200 else "-"
        http = StatusAndHeaders(f"{page.status} {reason}", page.headers, protocol="HTTP/1.1")
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
