"""The exported corpus as researchers read it: Parquet through pyarrow, pandas, polars, DuckDB and HuggingFace
`datasets` (two files together), JSON Lines with each date's own offset, incremental exports by a state file,
and every option of every export mode either honoured or refused."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.demo.stories import Story
from storage.corpus.fields import CORPUS_FIELDS, article_uid
from tests.support.cli import newswire
from tests.support.newsweb import Crawl, LocalWeb


def _jsonl(*args: str) -> list[dict]:
    result = newswire("export", *args)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_record_has_the_provenance_fields_and_dates_keep_their_offset(first_crawl: Crawl):
    records = _jsonl("--db", first_crawl.db_url)
    assert len(records) == 11 and all(tuple(r) == CORPUS_FIELDS for r in records)
    by_url = {r["canonical_url"]: r for r in records}
    turkey = next(r for url, r in by_url.items() if "/news/turkey" in url)
    assert turkey["published"] == "2025-07-23T14:05:00+03:00" and turkey["published_offset"] == 180
    assert turkey["published_raw"] == "2025-07-23T14:05:00+03:00"
    for record in records:
        assert record["id"] == article_uid(record["canonical_url"]) and record["version"] == 1
        assert record["discovered_via"] in {"feed", "sitemap"} and record["listing"].startswith("http://127.0.0.1:")
        assert record["extractor"].startswith("newswire ") and "trafilatura " in record["extractor"]
        assert record["fetched_at"].endswith("+00:00") and isinstance(record["citations"], list)
    cited = {c["name"] for r in records for c in r["citations"]}
    assert {"Reuters", "Desert Wire"} <= cited


def test_parquet_has_one_schema_and_loads_everywhere_two_files_together(first_crawl: Crawl, tmp_path: Path):
    """Two per-outlet files whose null-only columns differ load together (HF `datasets` failed on JSON Lines:
    "Couldn't cast array of type string to null"), with the time zone kept."""
    import duckdb
    import pandas as pd
    import polars as pl
    import pyarrow.parquet as pq
    from datasets import load_dataset

    from storage.corpus.parquet import SCHEMA

    files = []
    for outlet in ("Al-Khabar", "Desert Wire"):
        path = tmp_path / f"{outlet}.parquet"
        result = newswire(
            "export", "--db", first_crawl.db_url, "--format", "parquet", "--outlet", outlet, "--out", str(path)
        )
        assert result.exit_code == 0, result.stderr
        assert pq.read_schema(path).remove_metadata() == SCHEMA
        files.append(str(path))
    tables = [pq.read_table(f) for f in files]
    assert all(t.num_rows > 0 for t in tables)
    frame = pd.concat([pd.read_parquet(f) for f in files])
    assert str(frame["published"].dtype) == "datetime64[us, UTC]" and len(frame) == sum(t.num_rows for t in tables)
    assert pl.read_parquet(files).height == len(frame)
    counted = duckdb.sql(f"SELECT count(*), count(DISTINCT outlet) FROM read_parquet({files!r})").fetchall()[0]
    assert counted == (len(frame), 2)
    dataset = load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    assert dataset.num_rows == len(frame)
    assert dataset.features["published"].dtype == "timestamp[us, tz=UTC]"
    assert dataset.features["authors"].feature.dtype == "string"
    row = next(r for r in dataset if r["published"] is not None)
    assert row["published"].tzinfo is not None
    # the same values as the JSON Lines export (Parquet is written from columns, JSON Lines from records)
    lines = {r["id"]: r for r in _jsonl("--db", first_crawl.db_url)}
    for parquet_row in pq.read_table(files[0]).to_pylist():
        line = lines[parquet_row["id"]]
        assert parquet_row["published"] == datetime.fromisoformat(line["published"])
        assert parquet_row["fetched_at"] == datetime.fromisoformat(line["fetched_at"])
        assert {k: parquet_row[k] for k in ("authors", "tags", "citations", "text", "image", "is_original")} == {
            k: line[k] for k in ("authors", "tags", "citations", "text", "image", "is_original")
        }


def test_a_partitioned_parquet_export_is_one_dataset(first_crawl: Crawl, tmp_path: Path):
    import pyarrow.dataset as ds

    out = tmp_path / "by-outlet"
    result = newswire(
        "export", "--db", first_crawl.db_url, "--format", "parquet", "--partition", "outlet", "--out", str(out)
    )
    assert result.exit_code == 0, result.stderr
    parts = sorted(p.parent.name for p in out.glob("*/part-0.parquet"))
    table = ds.dataset(out, format="parquet").to_table()
    assert table.num_rows == 11 and len(parts) == len(set(table.column("outlet").to_pylist())) >= 4
    assert table.schema.names == list(CORPUS_FIELDS)  # no second `outlet` column from the directory names
    again = newswire(
        "export", "--db", first_crawl.db_url, "--format", "parquet", "--partition", "outlet", "--out", str(out)
    )
    assert again.exit_code == 2 and "is not empty" in again.stderr  # its parts would be replaced


def test_a_parquet_export_of_nothing_new_is_a_valid_empty_file(first_crawl: Crawl, tmp_path: Path):
    """A nightly `--state` export on a night with nothing new (it raised "Row group size cannot be 0")."""
    import pyarrow.parquet as pq

    from storage.corpus.parquet import SCHEMA

    state, out = tmp_path / "state.json", tmp_path / "corpus.parquet"
    args = ("export", "--db", first_crawl.db_url, "--format", "parquet", "--state", str(state), "--out")
    assert newswire(*args, str(out)).exit_code == 0 and pq.read_table(out).num_rows == 11
    nothing = newswire(*args, str(tmp_path / "again.parquet"))
    assert nothing.exit_code == 0, nothing.stderr
    empty = pq.read_table(tmp_path / "again.parquet")
    assert empty.num_rows == 0 and empty.schema.remove_metadata() == SCHEMA
    assert json.loads(state.read_text())["records"] == 0


def test_an_incremental_export_holds_exactly_what_is_new_or_revised(fresh_web: LocalWeb, tmp_path: Path):
    state = tmp_path / "state.json"
    assert "11 new" in fresh_web.crawl().stdout
    first = _jsonl("--db", fresh_web.db_url, "--state", str(state))
    assert len(first) == 11 and json.loads(state.read_text())["records"] == 11
    assert _jsonl("--db", fresh_web.db_url, "--state", str(state)) == []  # nothing new since
    revised_url = fresh_web.web.revise_story((datetime.now(UTC) + timedelta(minutes=5)).isoformat())
    new_url = fresh_web.web.publish_story(
        Story(
            "/2025/07/25/port-strike/",
            "Port strike in Tangier ends after four days",
            (
                "Dockworkers in Tangier returned to work on Friday after a four-day strike over pay ended with an "
                "agreement between the port authority and the union, officials said.",
                "The strike had left dozens of container ships waiting offshore and delayed exports of fruit and "
                "vegetables to Europe at the height of the summer season.",
            ),
            published="2025-07-25T10:00:00+00:00",
        )
    )
    second_crawl = fresh_web.crawl()
    assert "1 new, 1 updated" in second_crawl.stdout, second_crawl.stdout
    second = _jsonl("--db", fresh_web.db_url, "--state", str(state))
    assert {r["canonical_url"] for r in second} == {revised_url, new_url}
    revised = next(r for r in second if r["canonical_url"] == revised_url)
    earlier = next(r for r in first if r["canonical_url"] == revised_url)
    assert (revised["id"], revised["version"], earlier["version"]) == (earlier["id"], 2, 1)
    assert "Correction" in revised["text"]
    runs = _jsonl("--db", fresh_web.db_url, "--run", "2")  # the same two, asked by run
    assert {r["canonical_url"] for r in runs} == {revised_url, new_url}
    assert _jsonl("--db", fresh_web.db_url, "--since-fetched", "2999-01-01") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stories", "--format", "csv"], "--stories is written as jsonl, not csv"),
        (["--stories", "--run", "1"], "--stories does not take --run"),
        (["--stories", "--state", "s.json"], "--stories does not take --state"),
        (["--citations", "--since-fetched", "2025-01-01"], "--citations does not take --since-fetched"),
        (["--citations", "--format", "parquet", "--out", "x.parquet"], "--citations is written as csv, jsonl"),
        (["--partition", "outlet"], "add --format parquet"),
        (["--format", "parquet"], "give --out FILE"),
        (["--outlet", "Nope"], "no outlet 'nope' in this database"),
        (["--run", "999"], "no crawl run #999"),
        (["--since-fetched", "not a date"], "--since-fetched: cannot read a date"),
        (["--stories", "--citations"], "choose one"),
    ],
)
def test_an_option_an_export_cannot_honour_is_refused(first_crawl: Crawl, tmp_path: Path, args, message):
    result = newswire("export", "--db", first_crawl.db_url, *args, cwd=tmp_path)
    assert result.exit_code == 2 and message in result.stderr and result.stdout == "", result.stderr
    assert not (tmp_path / "s.json").exists() and not (tmp_path / "x.parquet").exists()


def test_story_and_citation_exports_honour_their_filters(first_crawl: Crawl):
    every_story = _jsonl("--db", first_crawl.db_url, "--stories")
    khabar = _jsonl("--db", first_crawl.db_url, "--stories", "--outlet", "Al-Khabar")
    assert 0 < len(khabar) < len(every_story) and all("Al-Khabar" in s["outlets"] for s in khabar)
    graph = _jsonl("--db", first_crawl.db_url, "--citations")
    by_atlas = _jsonl("--db", first_crawl.db_url, "--citations", "--outlet", "Atlas Review")
    assert by_atlas and {r["citing"] for r in by_atlas} == {"Atlas Review"} and len(by_atlas) < len(graph)
    assert _jsonl("--db", first_crawl.db_url, "--citations", "--since", "2999-01-01") == []
    table = newswire("export", "--db", first_crawl.db_url, "--citations", "--format", "csv").stdout
    assert csv.DictReader(io.StringIO(table)).fieldnames == ["citing", "cited", "articles"]


def test_a_warc_export_holds_each_articles_fetch_metadata_and_text_and_passes_warcio(first_crawl: Crawl, tmp_path):
    """As CC-NEWS ships news: the raw response (kept at crawl time, status, headers, body), the record as JSON
    and the clean text, WARC/1.1 with payload digests, WARC-Date = the fetch time; `warcio check` passes."""
    import subprocess
    import sys

    from warcio.archiveiterator import ArchiveIterator

    path = tmp_path / "corpus.warc.gz"
    result = newswire("export", "--db", first_crawl.db_url, "--format", "warc", "--out", str(path))
    assert result.exit_code == 0, result.stderr
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    index = subprocess.run([sys.executable, "-m", "warcio.cli", "index", str(path)], capture_output=True, text=True)
    assert index.returncode == 0 and len(index.stdout.splitlines()) == 1 + 3 * 11, index.stderr
    records = list(_warc_records(path, ArchiveIterator))
    by_type: dict[str, list] = {}
    for kind, headers, payload in records:
        by_type.setdefault(kind, []).append((headers, payload))
    assert [len(by_type[k]) for k in ("warcinfo", "response", "metadata", "conversion")] == [1, 11, 11, 11]
    responses = {h["WARC-Record-ID"]: (h, body) for h, body in by_type["response"]}
    for headers, payload in by_type["metadata"]:
        record = json.loads(payload)
        response_headers, body = responses[headers["WARC-Refers-To"]]
        assert headers["WARC-Date"] == response_headers["WARC-Date"]
        assert datetime.fromisoformat(headers["WARC-Date"]) <= datetime.fromisoformat(record["fetched_at"])  # its last
        assert response_headers["WARC-Payload-Digest"].startswith("sha1:") and b"<html" in body.lower()
        assert record["title"].encode() in body or record["title"][:20].encode() in body
    texts = {json.loads(p)["text"] for _, p in by_type["metadata"]}
    assert {p.decode() for _, p in by_type["conversion"]} == texts


def _warc_records(path: Path, iterator):
    with open(path, "rb") as stream:
        for record in iterator(stream):
            headers = dict(record.rec_headers.headers)
            assert record.rec_headers.protocol == "WARC/1.1"
            yield record.rec_type, headers, record.content_stream().read()


def test_a_dataset_card_describes_the_selection_and_hf_reads_its_header(first_crawl: Crawl, tmp_path: Path):
    from huggingface_hub import DatasetCard

    card_path = tmp_path / "README.md"
    out = tmp_path / "corpus.parquet"
    args = ("--format", "parquet", "--out", str(out), "--card", str(card_path))
    result = newswire("export", "--db", first_crawl.db_url, *args)
    assert result.exit_code == 0, result.stderr
    card = DatasetCard.load(card_path)
    assert card.data.language == ["ar", "en"] and card.data.configs[0]["data_files"] == ["corpus.parquet"]
    text = card_path.read_text()
    assert "11 news articles from 4 outlet(s)" in text and "| Al-Khabar | 2 |" in text
    assert all(f"| `{name}` |" in text for name in CORPUS_FIELDS)
    assert "| 2025-07 | 11 |" in text and "newswire 0.1.0" in text
    one = newswire(
        "export",
        "--db",
        first_crawl.db_url,
        "--outlet",
        "Al-Khabar",
        "--out",
        str(tmp_path / "k.jsonl"),
        "--card",
        str(card_path),
    )
    assert one.exit_code == 0 and "2 news articles from 1 outlet(s)" in card_path.read_text()
    refused = newswire("export", "--db", first_crawl.db_url, "--stories", "--card", str(tmp_path / "s.md"))
    assert refused.exit_code == 2 and "--stories does not take --card" in refused.stderr


def test_the_first_incremental_export_holds_articles_stored_before_the_cursor_existed(first_crawl: Crawl, tmp_path):
    """Rows stored before migration 0010 have changed = 0: a state file that does not exist yet means all."""
    import shutil
    import sqlite3

    copy = tmp_path / "old.db"
    shutil.copy(first_crawl.db_path, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE articles SET changed = 0")
    state = tmp_path / "state.json"
    assert len(_jsonl("--db", f"sqlite:///{copy}", "--state", str(state))) == 11
    assert _jsonl("--db", f"sqlite:///{copy}", "--state", str(state)) == []
