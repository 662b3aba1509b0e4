"""The scheduling commands end to end: cron entries through the CLI, `crawl --due`, `status --json`, `schedule run`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from crawler.demo import NewsWeb
from storage.models import Article, Outlet, OutletState
from tests.support.cli import FAST_CRAWL, newswire, run_newswire
from tests.support.db import crawl_runs, session_on
from tests.support.newsweb import LocalWeb
from tests.support.paths import PROJECT

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4}"  # crawler.logs.LOG_DATEFORMAT


def test_schedule_install_list_remove_through_the_cli(tmp_path):
    crontab = tmp_path / "crontab.txt"
    mine = "MAILTO=ops@example.org\n# nightly backup\n0 3 * * * /usr/local/bin/backup --all\n"
    crontab.write_text(mine)
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\n'
        '[[outlet]]\nname = "B"\nhomepage = "https://b.example/"\nevery = "15m"\n'
    )
    args = ("--sources", str(sources), "--db", "sqlite:///news.db", "--crontab", str(crontab))
    for _ in range(2):  # installing again replaces, never duplicates
        result = newswire("schedule", "install", "--every", "1h", *args, cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
    text = crontab.read_text()
    assert text.startswith(mine)
    ours = [line for line in text.splitlines() if f"# newswire:{tmp_path}" in line]
    assert len(ours) == 2
    quarter = next(line for line in ours if "--outlet B" in line)
    assert quarter.split()[0].endswith("/15") and sys.executable in quarter
    assert f"sqlite:///{tmp_path}/news.db" in quarter and f"{tmp_path}/newswire-cron.log" in quarter
    hourly = next(line for line in ours if "--outlet A" in line)
    assert hourly.split()[1] == "*" and hourly.split()[0].isdigit()
    listed = newswire("schedule", "list", "--crontab", str(crontab), cwd=tmp_path)
    assert listed.exit_code == 0 and listed.stdout.count("next ") == 2
    removed = newswire("schedule", "remove", "--crontab", str(crontab), cwd=tmp_path)
    assert removed.exit_code == 0 and "removed 2" in removed.stdout
    assert crontab.read_text() == mine


def test_installing_one_outlet_keeps_the_entries_of_the_others_and_says_so(tmp_path):
    """Entries are keyed by what they crawl: `install --outlet B` replaces B's entry and nothing else."""
    crontab = tmp_path / "crontab.txt"
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\n'
        '[[outlet]]\nname = "B"\nhomepage = "https://b.example/"\n'
    )
    args = ("--sources", str(sources), "--db", "sqlite:///news.db", "--crontab", str(crontab))
    whole = newswire("schedule", "install", "--every", "30m", "--base-url", "https://n.example/", *args, cwd=tmp_path)
    assert whole.exit_code == 0 and "added 1 newswire cron entry" in whole.stdout, whole.stdout
    (everything,) = crontab.read_text().splitlines()
    one = newswire("schedule", "install", "--every", "15m", "--outlet", "B", *args, cwd=tmp_path)
    assert one.exit_code == 0, one.stderr
    assert "added 1" in one.stdout and "replaced" not in one.stdout and "kept 1" in one.stdout
    lines = crontab.read_text().splitlines()
    assert lines[0] == everything and "--base-url https://n.example/" in lines[0]  # kept, byte for byte
    assert len(lines) == 2 and "--outlet B" in lines[1]
    again = newswire("schedule", "install", "--every", "10m", "--outlet", "B", *args, cwd=tmp_path)
    assert "replaced 1" in again.stdout and "kept 1" in again.stdout
    assert crontab.read_text().splitlines()[0] == everything and len(crontab.read_text().splitlines()) == 2
    replan = newswire("schedule", "install", "--every", "1h", *args, cwd=tmp_path)  # the whole plan again
    assert "replaced 2" in replan.stdout and len(crontab.read_text().splitlines()) == 1


def test_a_mistyped_setting_is_refused_before_anything_runs(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[outlet]]\nname = "A"\nhomepage = "https://a.example/"\n')
    db = tmp_path / "news.db"
    result = newswire("crawl", "--sources", str(sources), "--db", f"sqlite:///{db}", "-s", "DOWNLOAD_DELAYY=0")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "newswire: error: -s DOWNLOAD_DELAYY: neither a Scrapy setting nor one of newswire's "
        "(did you mean DOWNLOAD_DELAY?)"
    )
    assert not db.exists()
    assert newswire("crawl", "--sources", str(sources), "-s", "NEWSWIRE_NO_SUCH=1").exit_code == 2


def test_schedule_install_refuses_an_interval_cron_cannot_express(tmp_path):
    crontab = tmp_path / "crontab.txt"
    result = newswire(
        "schedule", "install", "--every", "45m", "--crontab", str(crontab), "--sources", str(PROJECT / "sources.toml")
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("newswire: error: cron cannot run every 45m")
    assert len(result.stderr.strip().splitlines()) == 1


def test_crawl_due_and_status_json(local_web: LocalWeb, tmp_path):
    registry, db_url = local_web.registry, local_web.db_url
    progress = ["-s", "NEWSWIRE_PROGRESS_INTERVAL=0.1", "-s", "DOWNLOAD_DELAY=0.05"]
    first = local_web.crawl("--due", *progress)
    assert first.returncode == 1 and "11 new" in first.stdout, first.stderr  # all never crawled: all due
    # every line a cron log gets is dated: the summary (stdout), the progress and error lines (stderr)
    assert re.fullmatch(rf"{STAMP} INFO crawl #1 partial: .* in \d+\.\d s\n", first.stdout), first.stdout
    assert re.search(
        rf"^{STAMP} INFO progress: \d+ pages fetched, \d+ articles stored, \d+ errors$", first.stderr, re.M
    )
    assert first.stderr and all(re.match(STAMP, line) for line in first.stderr.splitlines()), first.stderr
    again = local_web.crawl("--due", "-q")
    assert again.returncode == 0 and again.stdout == ""  # -q: nothing to say when all is well
    again = local_web.crawl("--due")
    assert again.returncode == 0 and re.fullmatch(rf"{STAMP} INFO no outlet is due; nothing crawled\n", again.stdout)
    status = newswire("status", "--json", "--db", db_url, "--sources", str(registry))
    report = json.loads(status.stdout)
    outlets = {o["slug"]: o for o in report["outlets"]}
    assert set(outlets) == {"maghreb-ledger", "desert-wire", "atlas-review", "al-khabar"}
    for outlet in outlets.values():
        assert outlet["last_success_at"] and outlet["last_new_article_at"] and outlet["next_due_at"]
        assert outlet["consecutive_failures"] == 0 and not outlet["failing"]
        # the news web published nothing this week: the maximum (Al-Khabar's feed asks for 3.5 days,
        # sy:updatePeriod, but a feed's wish is capped at the maximum; only a Retry-After goes beyond)
        assert outlet["interval_seconds"] == 24 * 3600
    run = report["runs"][0]
    assert run["new"] == 11 and run["requests"] >= 11 and run["status"] == "partial"
    assert run["errors_by_kind"]["listing_malformed"] == 1
    # the outlet whose feed is malformed (its sitemap answers) and whose story is gone: named with kind, URL
    # and time from its first failing crawl on, in the JSON, the table and its page
    ledger = outlets["maghreb-ledger"]
    assert ledger["runs_with_errors"] == 1 and ledger["last_error"] and ledger["last_error_at"]
    failed = {f["kind"]: f["url"] for f in ledger["failures"]}
    assert failed.keys() == {"listing_malformed", "http_404"}, ledger["failures"]
    assert failed["listing_malformed"].endswith("/feed/broken.xml") and "deleted-story" in failed["http_404"]
    assert all(f["at"] for f in ledger["failures"])
    assert outlets["desert-wire"]["runs_with_errors"] == 0 and outlets["desert-wire"]["last_error"] is None
    table = newswire("status", "--db", db_url, "--sources", str(registry)).stdout
    ledger_line = next(line for line in table.splitlines() if line.startswith("Maghreb Ledger"))
    fails_and_error = r" ago +1  in .*  last error: http_404: \S+/deleted-story/ \(\d+s ago\)$"
    assert re.search(fails_and_error, ledger_line), ledger_line
    for outlet in outlets.values():  # no cron entry crawls this database: adaptive polling says when
        assert outlet["scheduled_by"] == "polling" and outlet["next_crawl_at"] == outlet["next_due_at"]
    crontab = tmp_path / "crontab"
    installed = newswire("schedule", "install", "--every", "5m", "--due", "--sources", str(registry), "--db", db_url,
                         "--outlet", "Al-Khabar", "--crontab", str(crontab), cwd=tmp_path)  # fmt: skip
    assert installed.exit_code == 0, installed.stderr
    cron = json.loads(
        newswire("status", "--json", "--db", db_url, "--crontab", str(crontab), "--sources", str(registry)).stdout
    )["outlets"]
    [khabar] = [o for o in cron if o["slug"] == "al-khabar"]
    assert khabar["scheduled_by"] == "cron" and khabar["next_due_at"] < khabar["next_crawl_at"]  # --due: waits
    assert datetime.fromisoformat(khabar["next_crawl_at"]) - datetime.fromisoformat(khabar["next_due_at"]) <= (
        timedelta(minutes=5)
    )
    assert {o["scheduled_by"] for o in cron if o["slug"] != "al-khabar"} == {"unscheduled"}
    table = newswire("status", "--db", db_url, "--crontab", str(crontab), "--sources", str(registry)).stdout
    assert re.search(r"^Al-Khabar .* in 2[34]h \(cron\)", table, re.M) and "not in cron" in table, table
    text = newswire("status", "--db", db_url, "--sources", str(registry)).stdout
    assert "Maghreb Ledger" in text and "not modified" in text
    # a crawl that gets 304 for Al-Khabar's feed still honours the sy:updatePeriod it stored
    forced = local_web.crawl("--outlet", "Al-Khabar")
    assert "2 not modified" in forced.stdout, forced.stdout + forced.stderr
    runs = crawl_runs(db_url)
    assert [r.by_outlet["al-khabar"]["poll_hint"] for r in (runs[0], runs[-1])] == [302400, 302400]


def test_an_unreachable_outlet_counts_failures_in_a_row(tmp_path):
    registry = tmp_path / "sources.toml"
    with NewsWeb() as gone:
        port = gone.urls["al-khabar"].rsplit(":", 1)[1]
    registry.write_text(f'[[outlet]]\nname = "Gone"\nhomepage = "http://127.0.0.1:{port}/"\n')
    db_url = f"sqlite:///{tmp_path / 'gone.db'}"
    for _ in range(2):
        result = run_newswire("crawl", "--sources", str(registry), "--db", db_url, *FAST_CRAWL, "-s", "RETRY_TIMES=0")
        assert result.returncode == 3, result.stdout + result.stderr
    outlet = json.loads(newswire("status", "--json", "--db", db_url).stdout)["outlets"][0]
    assert outlet["consecutive_failures"] == 2 and outlet["last_success_at"] is None
    assert "connection_refused" in outlet["last_error"]
    assert outlet["interval_seconds"] == 24 * 3600  # backed off (the maximum here)
    assert not outlet["failing"]  # 2 failures, under the default limit of 5
    text = newswire("status", "--db", db_url).stdout
    assert "last error: connection_refused" in text and "FAILING" not in text  # shown before it is FAILING
    lowered = newswire("status", "--json", "--db", db_url, "-s", "NEWSWIRE_FAILURE_LIMIT=2")
    assert json.loads(lowered.stdout)["outlets"][0]["failing"], lowered.stderr  # -s reaches status as it does crawl
    assert "FAILING: connection_refused" in newswire("status", "--db", db_url, "-s", "NEWSWIRE_FAILURE_LIMIT=2").stdout


def test_schedule_run_crawls_what_is_due_then_stops(local_web: LocalWeb, tmp_path):
    settings = [arg for pair in zip(FAST_CRAWL[::2], FAST_CRAWL[1::2], strict=True) for arg in pair]
    result = run_newswire(
        "schedule", "run", "--sources", str(local_web.registry), "--db", local_web.db_url, "--max-runs", "1",
        "--feeds-dir", str(tmp_path / "feeds"), *settings,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    runs = crawl_runs(local_web.db_url)
    assert len(runs) == 1 and runs[0].articles_new == 11
    assert (tmp_path / "feeds" / "all.rss").is_file()


def test_schedule_run_stops_cleanly_on_sigterm(local_web: LocalWeb):
    registry, db_url = local_web.registry, local_web.db_url
    slow = ["-s", "DOWNLOAD_DELAY=1", "-s", "DOWNLOAD_DELAY_JITTER=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "schedule", "run", "--sources", str(registry), "--db", db_url, *slow],
        cwd=PROJECT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (local_web.db_path.exists() and _running(db_url)):
            time.sleep(0.2)
        assert _running(db_url), "the scheduled crawl never started"
        time.sleep(1.5)  # some articles in flight
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    runs = crawl_runs(db_url)
    assert len(runs) == 1
    assert runs[0].status == "interrupted" and runs[0].finished_at is not None, err
    assert "SIGTERM received" in err
    assert "Traceback" not in err


def _running(db_url: str) -> bool:
    try:
        return any(r.status == "running" for r in crawl_runs(db_url))
    except Exception:  # noqa: BLE001 - the schema may not exist yet
        return False


def test_schedule_install_due_puts_due_in_every_crawl(tmp_path):
    crontab = tmp_path / "crontab.txt"
    args = ("--every", "5m", "--due", "--crontab", str(crontab), "--sources", str(PROJECT / "sources.toml"))
    result = newswire("schedule", "install", *args, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    (line,) = crontab.read_text().splitlines()
    assert line.startswith(("*/5 ", *(f"{m}-59/5 " for m in range(1, 5))))
    crawl_part = line.split(" >> ")[0]
    assert crawl_part.endswith(" --due") and " feeds " in line


def test_a_crawl_killed_mid_run_is_closed_by_the_next_and_nothing_is_lost(local_web: LocalWeb):
    import sqlite3

    registry, db_path, db_url = local_web.registry, local_web.db_path, local_web.db_url
    slow = ["-s", "DOWNLOAD_DELAY=0.5", "-s", "DOWNLOAD_DELAY_JITTER=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    victim = subprocess.Popen(
        [sys.executable, "-m", "crawler", "crawl", "--sources", str(registry), "--db", db_url, *slow],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (db_path.exists() and _running(db_url)):
            time.sleep(0.2)
        time.sleep(2)
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    result = local_web.crawl()
    assert result.returncode == 1, result.stderr  # the lock was free; the usual partial run
    runs = crawl_runs(db_url)
    assert runs[0].status == "failed" and runs[0].finish_reason.startswith("process died")
    assert runs[-1].status == "partial"
    with sqlite3.connect(db_path) as conn:
        stored_by_killed = conn.execute("SELECT count(*) FROM articles WHERE run_id = ?", (runs[0].id,)).fetchone()[0]
        assert runs[0].articles_new == stored_by_killed  # it was recorded as 0 however many it stored
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (11,)


def test_an_outlet_gone_from_the_registry_is_shown_so_and_can_be_pruned(local_web: LocalWeb, tmp_path):
    """status and outlets read the registry: an outlet stored but no longer named is `not in registry`,
    never due; `outlets --prune` forgets its state, keeps its articles, and removes an outlet with none."""
    assert local_web.crawl().returncode == 1
    db_url = local_web.db_url
    text = local_web.registry.read_text()
    stanzas = ["[[outlet]]" + part for part in text.split("[[outlet]]")[1:]]
    kept = [s for s in stanzas if "Desert Wire" not in s]
    assert len(kept) == len(stanzas) - 1
    smaller = tmp_path / "smaller.toml"
    smaller.write_text(text.split("[[outlet]]")[0] + "".join(kept))
    with session_on(db_url) as session:  # an outlet of an earlier registry that stored nothing
        session.add(Outlet(name="Old Gazette", slug="old-gazette", homepage="https://old.example/"))
        session.commit()
    report = json.loads(newswire("status", "--json", "--db", db_url, "--sources", str(smaller)).stdout)
    outlets = {o["slug"]: o for o in report["outlets"]}
    assert outlets["desert-wire"]["in_registry"] is False and outlets["maghreb-ledger"]["in_registry"] is True
    assert (
        outlets["desert-wire"]["scheduled_by"] == "not in registry" and outlets["desert-wire"]["next_crawl_at"] is None
    )
    table = newswire("status", "--db", db_url, "--sources", str(smaller)).stdout
    assert "not in registry" in next(line for line in table.splitlines() if line.startswith("Desert Wire"))
    listed = newswire("outlets", "--db", db_url, "--sources", str(smaller)).stdout
    assert "Desert Wire: " in listed and "(not in the registry)" in listed.split("Desert Wire: ")[1].splitlines()[0]
    pruned = newswire("outlets", "--prune", "--db", db_url, "--sources", str(smaller))
    assert pruned.exit_code == 0, pruned.stderr
    assert "forgot Desert Wire (its articles are kept)" in pruned.stderr
    assert "forgot Old Gazette (removed: no article)" in pruned.stderr and "pruned 2 outlets" in pruned.stderr
    with session_on(db_url) as session:
        assert session.scalar(select(Outlet).where(Outlet.slug == "old-gazette")) is None
        desert = session.scalar(select(Outlet).where(Outlet.slug == "desert-wire"))
        assert desert is not None and session.get(OutletState, desert.id) is None
        assert session.scalar(select(func.count(Article.id)).where(Article.outlet_id == desert.id))
    refused = newswire("outlets", "--prune", "--db", db_url, "--sources", str(tmp_path / "none.toml"))
    assert refused.exit_code == 2 and "--prune needs the registry" in refused.stderr
