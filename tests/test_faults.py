"""Faults, hostile outlets and bad input (issue 10): one test per case, asserting the outcome — stored, refused,
counted or bounded — not merely that nothing crashed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawler.discovery.registry import Outlet
from crawler.run import crawl_settings
from crawler.spiders.news import NewsSpider
from storage.db import Store
from tests.support.cli import FAST_CRAWL, newswire, run_newswire
from tests.support.db import last_run
from tests.support.paths import PROJECT


def test_remote_control_extension_is_off_unless_asked_for():
    """Scrapy 2.19 starts an HTTP endpoint that runs Python code in the crawl; newswire never does by default."""
    assert crawl_settings(None).getbool("REMOTE_CONTROL_ENABLED") is False


def test_one_outlet_that_cannot_start_never_stops_the_others(tmp_path):
    """An outlet whose discovery raises (here a URL that slipped past validation) is counted; the rest crawl."""
    import asyncio

    broken = Outlet("Broken", "http://127.0.0.1:8/", feeds=("http://127.0.0.1:99999/feed",))
    fine = Outlet("Fine", "http://127.0.0.1:9/", feeds=("http://127.0.0.1:9/feed.xml",))
    crawler = get_crawler(
        NewsSpider,
        {
            "NEWSWIRE_DB": f"sqlite:///{tmp_path / 'x.db'}",
            "EXTENSIONS": {
                "crawler.extensions.database.CrawlDatabase": 0,
                "crawler.extensions.coordination.CoordinationKeeper": 0,
            },
        },
    )
    spider = NewsSpider.from_crawler(crawler, outlets=[broken, fine], known={})
    crawler.spider = spider

    async def first_requests():
        return [request async for request in spider.start()]

    requests = asyncio.run(first_requests())
    assert [r.url for r in requests] == ["http://127.0.0.1:9/feed.xml"]
    assert crawler.stats.get_value("newswire/errors/outlet_failed") == 1
    assert crawler.stats.get_value("newswire/by_outlet/broken/errors") == 1


STORY = " ".join(["The council approved the budget on Thursday after a debate about schools, roads and the pool."] * 6)


@pytest.mark.parametrize("reference", ["&#8;", "&#1;", "&#x1B;", "&#xFFFE;", "&#65535;", "&#x7F;"])
def test_one_character_reference_to_a_control_character_loses_nothing(reference):
    """lxml gives up on the rest of a page at '&#8;' as at a raw control character: the article was dropped."""
    from crawler.extract import extract_article

    html = (
        f"<html><head><title>Budget</title></head><body><article><h1>Budget</h1><p>{STORY}</p>"
        f"<p>The mayor {reference} said yes.</p><p>{STORY.replace('pool', 'library')}</p></article></body></html>"
    )
    record = extract_article(html, "https://herald.example/budget")
    assert record.page_kind == "article"
    assert "The mayor said yes." in " ".join(record.text.split()) and record.text.count("the library.") == 6


POOL_SCRIPT = """
import sys, time, multiprocessing.forkserver as fs, multiprocessing.resource_tracker as rt
from scrapy.utils.test import get_crawler
from crawler.pipelines.extract import ExtractPipeline
pipeline = ExtractPipeline(get_crawler(), workers=2)
pipeline._start_pool()
list(pipeline.pool.map(abs, range(4)))  # workers up
pids = [*pipeline.pool._processes, rt._resource_tracker._pid, fs._forkserver._forkserver_pid]
print(" ".join(str(p) for p in pids if p), flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the workers")
def test_extraction_workers_die_with_a_crawl_killed_by_sigkill():
    """kill -9 of the crawl (OOM killer, cron timeout) left its ~155 MB workers and the resource tracker behind;
    the workers' fork server goes too."""
    parent = subprocess.Popen([sys.executable, "-c", POOL_SCRIPT], stdout=subprocess.PIPE, text=True, cwd=PROJECT)
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 4 and all(_alive(p) for p in pids)
    finally:
        parent.kill()
        parent.wait(timeout=10)
        parent.stdout.close()
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in pids if _alive(p)], "orphans left after kill -9"


@pytest.fixture(scope="module")
def faultweb():
    from tests.support.faultweb import FaultWeb

    with FaultWeb() as web:
        yield web


def _crawl(faultweb, tmp_path: Path, slugs: tuple[str, ...], *settings: str):
    registry = faultweb.write_registry(tmp_path / "sources.toml", slugs)
    db = tmp_path / "x.db"
    result = run_newswire(
        "crawl", "--sources", str(registry), "--db", f"sqlite:///{db}", *FAST_CRAWL, *settings, cwd=tmp_path
    )
    return result, db


def _stored(db: Path) -> dict[str, str]:
    import sqlite3

    with sqlite3.connect(db) as connection:
        return dict(connection.execute("SELECT canonical_url, text FROM articles"))


def test_a_throttling_outlet_holds_up_no_other_and_its_retry_after_is_honoured(faultweb, tmp_path):
    """429 with Retry-After (seconds, or an HTTP date): the retry waits outside the downloader. With one download
    slot, the steady outlet's articles are fetched while the throttled ones wait; the waits are as asked."""
    from tests.support.faultweb import RETRY_AFTER_SECONDS

    result, db = _crawl(faultweb, tmp_path, ("throttled", "throttled-date", "steady"), "-s", "CONCURRENT_REQUESTS=1")
    assert result.returncode == 0, result.stderr
    assert len(_stored(db)) == 5
    refused = {key: at for key, at in faultweb.refused_at.items()}
    assert set(refused) == {"throttled /news/throttled/", "throttled-date /news/throttled-date/"}
    for key, at in refused.items():
        assert faultweb.first_answer[key] - at >= RETRY_AFTER_SECONDS - 1.0  # an HTTP date has 1 s resolution
    steady = [t for key, t in faultweb.first_answer.items() if key.startswith("steady ")]
    assert len(steady) == 3 and max(steady) < min(refused.values()) + RETRY_AFTER_SECONDS - 1


def _outcomes(db: Path) -> dict:
    return last_run(f"sqlite:///{db}").outcomes


def _paths(faultweb, slug: str) -> list[str]:
    return faultweb.server.requests_for(slug)


def test_a_giant_page_is_cut_counted_and_signed_in_bounded_memory(faultweb, tmp_path):
    """A 9.9 MB text under the download cap took the crawl to 1.74 GB and was published whole (20 MB feeds)."""
    import resource

    result, db = _crawl(faultweb, tmp_path, ("giant",), "-s", "NEWSWIRE_EXTRACT_WORKERS=0")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert result.returncode == 0, result.stderr
    texts = _stored(db)
    assert len(texts) == 2 and max(len(t) for t in texts.values()) <= 200_000
    assert _outcomes(db)["truncated/text"] == 1
    assert "giant: " in result.stderr and "cut to" in result.stderr  # one line naming the outlet and URL
    assert peak_mb < 900, f"crawl peak RSS {peak_mb:.0f} MB"  # the largest child of this test process so far
    out = tmp_path / "feeds"
    written = newswire("feeds", "--db", f"sqlite:///{db}", "--out", str(out), cwd=tmp_path)
    assert written.exit_code == 0, written.stderr
    assert max(p.stat().st_size for p in out.rglob("*.*")) < 1_000_000  # items are capped in feeds too


def test_listings_per_outlet_are_capped_and_the_rest_counted(faultweb, tmp_path):
    """2,000 feeds on a homepage or 2,000 sitemaps in robots.txt made 2,102 requests, every crawl."""
    result, db = _crawl(faultweb, tmp_path, ("many-feeds", "many-sitemaps"))
    assert result.returncode == 0, result.stderr
    assert len([p for p in _paths(faultweb, "many-feeds") if p.startswith("/feeds/")]) == 10
    assert len([p for p in _paths(faultweb, "many-sitemaps") if p.startswith("/sitemaps/")]) == 10
    outcomes = _outcomes(db)
    assert outcomes["skipped/too_many_feeds"] == 1990 and outcomes["skipped/too_many_sitemaps"] == 1990
    assert len(_stored(db)) == 2  # each outlet's one story, found through the first listings


def test_sitemap_indexes_nested_too_deep_give_one_error_line_per_outlet(faultweb, tmp_path):
    result, db = _crawl(faultweb, tmp_path, ("deep-index",))
    assert result.returncode == 1  # partial: the outlet's listings went too deep
    lines = [line for line in result.stderr.splitlines() if "nested more than" in line]
    assert len(lines) == 1 and lines[0].count("deep-index") == 1
    outcomes = _outcomes(db)
    assert outcomes["errors/sitemap_too_deep"] == 1 and outcomes["skipped/sitemap_too_deep"] >= 1
    assert len([p for p in _paths(faultweb, "deep-index") if p.startswith("/index/")]) <= 1 + 3 + 9 + 27


def test_markup_in_metadata_never_reaches_text_fields_feeds_or_exports(faultweb, tmp_path):
    """An author '<script>…</script>Eve' reached dc:creator and JSON Feed authors; a javascript: image the export."""
    import json
    import sqlite3

    result, db = _crawl(faultweb, tmp_path, ("hostile",))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as connection:
        authors, image, description = connection.execute("SELECT authors, image, description FROM articles").fetchone()
    assert json.loads(authors) and not any("<" in a or "alert" in a for a in json.loads(authors))
    assert image is None
    assert "<" not in description and "onerror" not in description
    exported = newswire("export", "--db", f"sqlite:///{db}", cwd=tmp_path)
    record = json.loads(exported.stdout.splitlines()[0])
    assert record["authors"] == json.loads(authors) and record["image"] is None
    out = tmp_path / "feeds"
    assert newswire("feeds", "--db", f"sqlite:///{db}", "--out", str(out), cwd=tmp_path).exit_code == 0
    for path in out.rglob("*.*"):
        body = path.read_text(encoding="utf-8")
        assert "<script" not in body and "javascript:" not in body and "onerror" not in body, path


def test_commands_started_together_on_a_new_database_all_succeed(tmp_path):
    """Six commands at once on a fresh SQLite file raced to create its tables (10 failures in 30)."""
    db = f"sqlite:///{tmp_path / 'new.db'}"
    script = "import sys\nfrom storage.db import make_engine\nmake_engine(sys.argv[1]).dispose()\n"
    for _round in range(3):
        (tmp_path / "new.db").unlink(missing_ok=True)
        procs = [
            subprocess.Popen([sys.executable, "-c", script, db], cwd=PROJECT, stderr=subprocess.PIPE, text=True)
            for _ in range(6)
        ]
        outcomes = [(p.communicate(timeout=60)[1], p.returncode) for p in procs]
        failures = [err for err, code in outcomes if code != 0]
        assert not failures, failures[0][-500:]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["status", "--db", "sqlite:///typo.db"], "no database at typo.db"),
        (["crawl", "--db", "sqlite:////no/such/dir/x.db"], "no directory /no/such/dir"),
        (["export", "--db", "mysql://u@h/db"], "SQLite or PostgreSQL"),
        (["export", "--db", "postgresql+psycopg2://u@h/db"], "pip install 'newswire[postgres]'"),
        (["crawl", "--sources", str(PROJECT / "sources.toml"), "-s", "DOWNLOAD_TIMEOUT=abc"], "expected a number"),
        (["serve", "--db", "sqlite:///x.db", "--host", "nonexistent.invalid", "--port", "0"], "cannot listen on"),
    ],
)
def test_bad_command_input_gives_one_line_and_creates_nothing(tmp_path, args, expected):
    if args[0] == "serve":  # a database to serve
        Store(f"sqlite:///{tmp_path / 'x.db'}", migrate=True).close()
    before = set(tmp_path.iterdir())
    if args[0] == "serve":  # a server's database stays open until its process ends: a process of its own
        process = run_newswire(*args, cwd=tmp_path)
        code, stderr = process.returncode, process.stderr
    else:  # each stops before crawling: in this process
        result = newswire(*args, cwd=tmp_path)
        code, stderr = result.exit_code, result.stderr
    assert code in (2, 3)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newswire: error:") and expected in lines[0], stderr
    assert set(tmp_path.iterdir()) == before and not Path("/no/such").exists()


ACCENTS = "A naïve café owner said the façade – “quite old” – needs a résumé of repairs."


def test_pages_are_decoded_as_browsers_do_and_a_utf16_feed_is_read(faultweb, tmp_path):
    """A windows-1252 page without a charset became 'naďve' (read as cp1250), one sent as UTF-8 got U+FFFD;
    a UTF-16 feed with a byte-order mark was refused as 'not a feed'."""
    result, db = _crawl(faultweb, tmp_path, ("charsets",))
    assert result.returncode == 0, result.stderr
    texts = _stored(db)
    assert len(texts) == 2  # both found through the UTF-16 feed
    for text in texts.values():
        assert ACCENTS in text and "\ufffd" not in text


def test_failures_that_hid_are_counted_and_named(faultweb, tmp_path):
    """A redirect loop (dropped by the duplicate filter), a gzip bomb and a page streamed past the size cap
    each get an error line naming the outlet and URL and an error count; the normal story is stored."""
    result, db = _crawl(faultweb, tmp_path, ("traps",), "-s", "REDIRECT_MAX_TIMES=5")
    assert result.returncode == 1  # partial
    assert len(_stored(db)) == 1
    outcomes = _outcomes(db)
    assert outcomes["errors/redirect_loop"] == 1 and outcomes["errors/too_large"] == 2
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 3 and all(line.count("traps: http://") == 1 for line in errors), errors


def test_broken_connections_are_counted_and_the_rest_stored(faultweb, tmp_path):
    """Reset, cut short, 500 and a page slower than the download timeout: counted, named, retried, never fatal."""
    result, db = _crawl(faultweb, tmp_path, ("broken",), "-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=1")
    assert result.returncode == 1
    assert len(_stored(db)) == 1
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 4 and all("broken: http://" in line for line in errors), errors
    assert _outcomes(db)["errors"] == 4


def test_a_crawl_whose_only_listing_fails_is_a_failed_crawl_not_a_partial_one(faultweb, tmp_path):
    """Every listing answering 404 (or 429) stores nothing and reads nothing: exit 3, status failed."""
    registry = tmp_path / "sources.toml"
    base = faultweb.urls["steady"]
    registry.write_text(f'[[outlet]]\nname = "gone"\nhomepage = "{base}/"\nfeeds = ["{base}/no-such-feed.xml"]\n')
    result = run_newswire("crawl", "--sources", str(registry), "--db", f"sqlite:///{tmp_path / 'x.db'}",
                          *FAST_CRAWL, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "failed" in result.stdout


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_strings_no_database_can_hold_are_cleaned_and_the_article_kept(faultweb, tmp_path, request, database):
    """A lone surrogate escape (\\ud800) in JSON-LD lost the article on both databases, a NUL (\\u0000) on
    PostgreSQL: the record's text fields are cleaned (a lone surrogate becomes U+FFFD; a NUL, an ESC go)."""
    import json

    from sqlalchemy import select

    from storage.models import Article
    from tests.support.db import PG_URL, session_on

    if database == "sqlite":
        db_url = f"sqlite:///{tmp_path / 'x.db'}"
    else:
        db_url = f"{PG_URL}?options=-csearch_path%3D{request.getfixturevalue('pg_schema')}"
    registry = faultweb.write_registry(tmp_path / "sources.toml", ("unstorable",))
    result = run_newswire("crawl", "--sources", str(registry), "--db", db_url, *FAST_CRAWL, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    with session_on(db_url) as session:
        article = session.scalars(select(Article)).one()
    assert article.title == "An unstorable page \ufffd" and article.authors == ["Lina\ufffd Haddad"]
    assert article.description == "Quay news today" and {"quay", "port"} <= set(article.tags)
    exported = newswire("export", "--db", db_url, cwd=tmp_path)
    assert exported.exit_code == 0 and json.loads(exported.stdout)["authors"] == ["Lina\ufffd Haddad"]
