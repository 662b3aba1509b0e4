"""Where to keep the raw article responses: a blob table in the database, or rolling WARC files beside it.

Both keep the same responses — the corpus's real pages (../shared/corpus), each written as N fetches of
which a share are refetches of an unchanged page (a body seen before) — and are measured on:

- bytes per article on disk (the database file's growth; the WARC files' size),
- write cost per article (in batches of 50, as the store pipeline commits),
- read speed: every body read back in order, and one article's body found by its id (what `reextract`
  and `export --format warc` need).

1. **Database blob table**: bodies content-addressed (SHA-256) and compressed (zlib 6 or zstd 3) in
   `raw_bodies`, written once however often they are fetched; each fetch a row in `raw_fetches` (status,
   headers, body digest).
   SQLite here; PostgreSQL stores bytea the same way (TOAST compresses nothing already compressed).
2. **Rolling WARC files** (warcio, gzip per record, a new file every 1 GB), with a `(article → file,
   offset)` index, the way CC-NEWS ships them; an unchanged refetch is a `revisit` record (no body).

    python -m bench.raw_store [--articles 5000] [--refetch 0.3]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import random
import sqlite3
import tempfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import zstandard
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from bench.report import table

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Server", "nginx"), ("Cache-Control", "max-age=60")]
BATCH = 50
CODECS = {
    "zlib 6": (lambda data: zlib.compress(data, 6), zlib.decompress),
    "zstd 3": (zstandard.ZstdCompressor(level=3).compress, zstandard.ZstdDecompressor().decompress),
}


def corpus_pages() -> list[bytes]:
    pages = []
    for line in (CORPUS / "index.jsonl").read_text().splitlines():
        entry = json.loads(line)
        pages.append(gzip.decompress((CORPUS / entry["html"]).read_bytes()))
    return pages


def fetches(pages: list[bytes], articles: int, refetch: float) -> list[tuple[int, bytes]]:
    """(article id, body): `articles` fetches; a `refetch` share repeats an earlier article unchanged, the rest
    are new articles (a corpus page with the article's number in it, so every new body differs)."""
    rng = random.Random(1)
    out: list[tuple[int, bytes]] = []
    for number in range(articles):
        if out and rng.random() < refetch:
            out.append(rng.choice(out))
        else:
            page = pages[number % len(pages)]
            out.append((number, page.replace(b"</body>", f"<p>edition {number}</p></body>".encode(), 1)))
    return out


def database(work: Path, fetched: list[tuple[int, bytes]], codec: str) -> dict[str, float]:
    compress, decompress = CODECS[codec]
    path = work / f"raw-{codec}.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE raw_bodies (digest TEXT PRIMARY KEY, size INTEGER, data BLOB);"
        "CREATE TABLE raw_fetches (id INTEGER PRIMARY KEY, article_id INTEGER, status INTEGER, headers TEXT,"
        " fetched_at TEXT, digest TEXT REFERENCES raw_bodies(digest));"
        "CREATE INDEX raw_fetch_article ON raw_fetches (article_id);"
    )
    db.commit()
    empty = path.stat().st_size
    headers = json.dumps(HEADERS)
    started = time.perf_counter()
    for first in range(0, len(fetched), BATCH):
        for article_id, body in fetched[first : first + BATCH]:
            digest = hashlib.sha256(body).hexdigest()
            if db.execute("SELECT 1 FROM raw_bodies WHERE digest = ?", (digest,)).fetchone() is None:
                db.execute("INSERT INTO raw_bodies VALUES (?, ?, ?)", (digest, len(body), compress(body)))
            db.execute(
                "INSERT INTO raw_fetches (article_id, status, headers, fetched_at, digest) VALUES (?, 200, ?, ?, ?)",
                (article_id, headers, datetime.now(UTC).isoformat(), digest),
            )
        db.commit()
    write = time.perf_counter() - started
    size = path.stat().st_size - empty
    started = time.perf_counter()
    rows = db.execute("SELECT data FROM raw_fetches JOIN raw_bodies USING (digest) ORDER BY raw_fetches.id")
    read = sum(1 for (data,) in rows if decompress(data))
    sequential = read / (time.perf_counter() - started)
    started = time.perf_counter()
    for article_id, _ in fetched[:: max(1, len(fetched) // 500)]:
        (data,) = db.execute(
            "SELECT data FROM raw_fetches JOIN raw_bodies USING (digest) WHERE article_id = ? LIMIT 1", (article_id,)
        ).fetchone()
        decompress(data)
    lookups = len(fetched[:: max(1, len(fetched) // 500)]) / (time.perf_counter() - started)
    db.close()
    return {"bytes": size / len(fetched), "write_us": write / len(fetched) * 1e6, "read": sequential, "one": lookups}


def warc_files(work: Path, fetched: list[tuple[int, bytes]]) -> dict[str, float]:
    path = work / "raw-00000.warc.gz"
    index: dict[int, int] = {}
    seen: dict[str, str] = {}
    started = time.perf_counter()
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for first in range(0, len(fetched), BATCH):
            for article_id, body in fetched[first : first + BATCH]:
                url = f"https://example.org/article/{article_id}"
                digest = "sha256:" + hashlib.sha256(body).hexdigest()
                offset = out.tell()
                if digest in seen:
                    record = writer.create_revisit_record(url, digest, seen[digest], datetime.now(UTC).isoformat())
                else:
                    http = StatusAndHeaders("200 OK", HEADERS, protocol="HTTP/1.1")
                    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)
                    seen[digest] = url
                writer.write_record(record)
                index.setdefault(article_id, offset)
            out.flush()
            os.fsync(out.fileno())  # a batch is durable when it is committed, as the database's is
    write = time.perf_counter() - started
    size = path.stat().st_size
    started = time.perf_counter()
    with open(path, "rb") as stream:
        read = sum(1 for record in ArchiveIterator(stream) if record.content_stream().read() is not None)
    sequential = read / (time.perf_counter() - started)
    started = time.perf_counter()
    picks = fetched[:: max(1, len(fetched) // 500)]
    with open(path, "rb") as stream:
        for article_id, _ in picks:
            stream.seek(index[article_id])
            next(iter(ArchiveIterator(stream))).content_stream().read()
    lookups = len(picks) / (time.perf_counter() - started)
    return {"bytes": size / len(fetched), "write_us": write / len(fetched) * 1e6, "read": sequential, "one": lookups}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--refetch", type=float, default=0.3)
    args = parser.parse_args()
    pages = corpus_pages()
    fetched = fetches(pages, args.articles, args.refetch)
    raw = sum(len(body) for _, body in fetched) / len(fetched)
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for codec in CODECS:
            results[f"database blob table ({codec}, by SHA-256)"] = database(Path(work), fetched, codec)
        results["rolling WARC files (gzip records, revisits)"] = warc_files(Path(work), fetched)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"# raw responses, {when}, {os.cpu_count()} cores, Python {platform.python_version()}, {len(fetched):,} "
        f"fetches of {len(pages)} corpus pages ({args.refetch:.0%} unchanged refetches), {raw / 1024:.0f} KB a body"
    )
    base = results["database blob table (zstd 3, by SHA-256)"]
    rows = [
        [
            name,
            f"{r['bytes'] / 1024:.1f}",
            f"{r['bytes'] / raw:.3f}",
            f"{r['write_us']:.0f}",
            f"{r['write_us'] / base['write_us']:.2f}",
            f"{r['read']:,.0f}",
            f"{r['one']:,.0f}",
        ]
        for name, r in results.items()
    ]
    header = ["store", "KB/article", "× raw", "write µs/article", "× db", "bodies read/s", "one article/s"]
    print(table(header, rows))


if __name__ == "__main__":
    main()
