"""Faults, hostile outlets and bad input (issue 10): one test per case, asserting the outcome — stored, refused,
counted or bounded — not merely that nothing crashed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawler.crawl import crawl_settings
from crawler.registry import Outlet
from crawler.spiders.news import NewsSpider
from tests.conftest import FAST_CRAWL, PROJECT, run_newswire


def test_remote_control_extension_is_off_unless_asked_for():
    """Scrapy 2.19 starts an HTTP endpoint that runs Python code in the crawl; newswire never does by default."""
    assert crawl_settings(None).getbool("REMOTE_CONTROL_ENABLED") is False


def test_one_outlet_that_cannot_start_never_stops_the_others(tmp_path):
    """An outlet whose discovery raises (here a URL that slipped past validation) is counted; the rest crawl."""
    import asyncio

    broken = Outlet("Broken", "http://127.0.0.1:8/", feeds=("http://127.0.0.1:99999/feed",))
    fine = Outlet("Fine", "http://127.0.0.1:9/", feeds=("http://127.0.0.1:9/feed.xml",))
    crawler = get_crawler(NewsSpider, {"NEWSWIRE_DB": f"sqlite:///{tmp_path / 'x.db'}"})
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
import sys, time, multiprocessing.resource_tracker as rt
from scrapy.utils.test import get_crawler
from crawler.pipelines import ExtractPipeline
pipeline = ExtractPipeline(get_crawler(), workers=2)
pipeline._start_pool()
list(pipeline.pool.map(abs, range(4)))  # workers up
pids = [*pipeline.pool._processes, rt._resource_tracker._pid]
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
    """kill -9 of the crawl (OOM killer, cron timeout) left its ~155 MB workers and the resource tracker behind."""
    parent = subprocess.Popen([sys.executable, "-c", POOL_SCRIPT], stdout=subprocess.PIPE, text=True, cwd=PROJECT)
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 3 and all(_alive(p) for p in pids)
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
    from crawler.newsweb.faults import FaultWeb

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
    from crawler.newsweb.faults import RETRY_AFTER_SECONDS

    result, db = _crawl(faultweb, tmp_path, ("throttled", "throttled-date", "steady"), "-s", "CONCURRENT_REQUESTS=1")
    assert result.returncode == 0, result.stderr
    assert len(_stored(db)) == 5
    refused = {key: at for key, at in faultweb.refused_at.items()}
    assert set(refused) == {"throttled /news/throttled/", "throttled-date /news/throttled-date/"}
    for key, at in refused.items():
        assert faultweb.first_answer[key] - at >= RETRY_AFTER_SECONDS - 1.0  # an HTTP date has 1 s resolution
    steady = [t for key, t in faultweb.first_answer.items() if key.startswith("steady ")]
    assert len(steady) == 3 and max(steady) < min(refused.values()) + RETRY_AFTER_SECONDS - 1
