"""Where a shared crawl's near-duplicate index should live: three designs measured on the same signatures.

1. **datasketch's MinHashLSH on Redis** (`storage_config={"type": "redis"}`): every worker inserts into and
   queries one index in Redis (28 bands × a Redis set per band value).
2. **A PostgreSQL table of band hashes** (article id, band, 64-bit hash of the band's values) with an index on
   (band, hash), filled with COPY, queried with one `(band, hash) IN (…)` per signature.
3. **What newswire does**: each worker keeps its own in-memory index (storage.near_duplicates.BandedLSH, the
   same banding) and, before each store batch, reads the signatures other workers stored since its last
   batch from `articles.minhash` (512 bytes each) — measured here as reading N such rows back from
   PostgreSQL and indexing them, plus the in-memory insert and query rates.

Per design and size: signatures inserted per second, queries per second (each query is a stored signature,
so every query finds at least itself), and bytes per signature where the index lives (Redis `used_memory`,
PostgreSQL `pg_total_relation_size`, the process's traced Python memory). Signatures are random (the cost of
storing and looking up does not depend on the texts); the banding is newswire's: `lsh_params(0.2, 128)`.

    python -m bench.shared_index [--sizes 20000 100000] [--queries 2000]

Needs PostgreSQL and Redis (NEWSWIRE_TEST_PG_URL, NEWSWIRE_TEST_REDIS_URL; the test defaults). Uses its own
schema and Redis key prefix, and removes both.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import psycopg
import redis

from bench.report import table
from storage.near_duplicates import LSH_THRESHOLD, NUM_PERM, BandedLSH, lsh_params

PG_URL = os.environ.get("NEWSWIRE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("NEWSWIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Figures:
    design: str
    size: int
    inserts_per_s: float
    queries_per_s: float
    bytes_per_signature: float
    where: str


def _rate(count: int, action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return count / (time.perf_counter() - started)


def _band_hash(band: np.ndarray) -> int:
    return int.from_bytes(hashlib.blake2b(band.tobytes(), digest_size=8).digest(), "big", signed=True)


def datasketch_redis(signatures: np.ndarray, queries: np.ndarray) -> Figures:
    from datasketch import LeanMinHash, MinHashLSH

    client = redis.Redis.from_url(REDIS_URL)
    url = client.connection_pool.connection_kwargs
    basename = f"nw_bench_{uuid.uuid4().hex[:8]}".encode()
    config = {"type": "redis", "basename": basename, "redis": {"host": url["host"], "port": url["port"]}}
    before = int(client.info("memory")["used_memory"])
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM, storage_config=config)
    hashes = [LeanMinHash(seed=1, hashvalues=values, scheme="affine32") for values in signatures]

    def insert() -> None:
        with lsh.insertion_session(buffer_size=5000) as session:
            for key, minhash in enumerate(hashes):
                session.insert(str(key), minhash, check_duplication=False)

    try:
        inserts = _rate(len(hashes), insert)
        used = int(client.info("memory")["used_memory"]) - before
        asked = [hashes[i] for i in queries]
        found = _rate(len(asked), lambda: [lsh.query(minhash) for minhash in asked])
    finally:
        for keys in _batched(client.scan_iter(match=basename + b"*", count=10_000), 10_000):
            client.unlink(*keys)
        client.close()
    return Figures("datasketch MinHashLSH on Redis", len(hashes), inserts, found, used / len(hashes), "Redis")


def _batched(items: object, size: int) -> list[list[bytes]]:
    batch: list[list[bytes]] = [[]]
    for item in items:  # type: ignore[attr-defined]
        if len(batch[-1]) == size:
            batch.append([])
        batch[-1].append(item)
    return [b for b in batch if b]


def _pg() -> psycopg.Connection:
    return psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def postgres_bands(signatures: np.ndarray, queries: np.ndarray, bands: int, rows: int) -> Figures:
    schema = f"nw_bench_{uuid.uuid4().hex[:8]}"
    band_hashes = [[_band_hash(values[b * rows : (b + 1) * rows]) for b in range(bands)] for values in signatures]
    with _pg() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            conn.execute(f"SET search_path TO {schema}")
            conn.execute("CREATE TABLE band_hashes (article_id integer NOT NULL, band smallint NOT NULL, hash bigint)")
            conn.execute("CREATE INDEX band_lookup ON band_hashes (band, hash)")

            def insert() -> None:
                with conn.cursor() as cursor, cursor.copy("COPY band_hashes FROM STDIN") as copy:
                    for key, hashes in enumerate(band_hashes):
                        for band, value in enumerate(hashes):
                            copy.write_row((key, band, value))

            inserts = _rate(len(band_hashes), insert)
            conn.execute("ANALYZE band_hashes")
            size = conn.execute("SELECT pg_total_relation_size('band_hashes')").fetchone()[0]  # type: ignore[index]
            lookup = (
                "SELECT DISTINCT article_id FROM band_hashes "
                "JOIN unnest(%s::smallint[], %s::bigint[]) AS asked(band, hash) USING (band, hash)"
            )
            band_numbers = list(range(bands))

            def query() -> None:
                for i in queries:
                    conn.execute(lookup, (band_numbers, band_hashes[i])).fetchall()

            found = _rate(len(queries), query)
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return Figures(
        "PostgreSQL band-hash table", len(band_hashes), inserts, found, size / len(band_hashes), "PostgreSQL"
    )


def local_index(signatures: np.ndarray, queries: np.ndarray, bands: int, rows: int) -> list[Figures]:
    """newswire's design: the catch-up read of stored signatures, and the in-memory index itself."""
    schema = f"nw_bench_{uuid.uuid4().hex[:8]}"
    with _pg() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            conn.execute(f"SET search_path TO {schema}")
            conn.execute("CREATE TABLE articles (id serial PRIMARY KEY, minhash bytea)")
            with conn.cursor() as cursor, cursor.copy("COPY articles (minhash) FROM STDIN") as copy:
                for values in signatures:
                    copy.write_row((values.tobytes(),))
            index = BandedLSH(bands, rows)

            def catch_up() -> None:
                with conn.cursor(name="catch_up") as cursor:  # server-side: rows streamed, as yield_per does
                    conn.autocommit = False
                    cursor.execute("SELECT id, minhash FROM articles")
                    for article_id, data in cursor:
                        index.insert(str(article_id), np.frombuffer(data, dtype=np.uint32))
                    conn.commit()
                    conn.autocommit = True

            caught_up = _rate(len(signatures), catch_up)
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    fresh = BandedLSH(bands, rows)
    inserts = _rate(len(signatures), lambda: [fresh.insert(str(k), v) for k, v in enumerate(signatures)])
    found = _rate(len(queries), lambda: [fresh.query(signatures[i]) for i in queries])
    tracemalloc.start()  # its memory, in a second build (tracing slows the first one's clock)
    traced_index = BandedLSH(bands, rows)
    for key, values in enumerate(signatures):
        traced_index.insert(str(key), values)
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return [
        Figures(
            "newswire: catch-up read + index",
            len(signatures),
            caught_up,
            found,
            traced / len(signatures),
            "each worker",
        ),
        Figures(
            "newswire: in-memory index alone", len(signatures), inserts, found, traced / len(signatures), "each worker"
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    bands, rows = lsh_params(LSH_THRESHOLD, NUM_PERM)
    rng = np.random.default_rng(1)
    results: list[Figures] = []
    for size in args.sizes:
        signatures = rng.integers(0, 2**32, size=(size, NUM_PERM), dtype=np.uint32)
        queries = rng.integers(0, size, size=min(args.queries, size))
        results += [
            datasketch_redis(signatures, queries),
            postgres_bands(signatures, queries, bands, rows),
            *local_index(signatures, queries, bands, rows),
        ]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"# shared near-duplicate index, {when}, {os.cpu_count()} cores, {platform.python_version()}, "
        f"{bands} bands × {rows} rows, {NUM_PERM} permutations"
    )
    print(
        table(
            ["design", "signatures", "inserts/s", "queries/s", "bytes/signature", "held by"],
            [
                [
                    r.design,
                    f"{r.size:,}",
                    f"{r.inserts_per_s:,.0f}",
                    f"{r.queries_per_s:,.0f}",
                    f"{r.bytes_per_signature:,.0f}",
                    r.where,
                ]
                for r in results
            ],
        )
    )


if __name__ == "__main__":
    main()
