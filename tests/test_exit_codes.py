"""What an operator's scripts read: a complete crawl exits 0, a partial one 1, a crash (a bug) 70 — through
`newswire crawl`, through `schedule run`, and through the installed cron line run as cron runs it
(`env -i`, /bin/sh); feeds are published after a complete or partial crawl only."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from scheduling.cron import DEFAULT_LOG, plan_entries
from tests.support.cli import FAST_CRAWL, run_newswire
from tests.support.db import crawl_runs
from tests.support.newsweb import LocalWeb

# A coordination class with a bug, importable from the directory the crawl runs in (`python -m` puts the
# working directory on sys.path): the crawl's components are built, one of them raises.
CRASHING = """from crawler.extensions.coordination import CrawlCoordination


class Exploding(CrawlCoordination):
    def __init__(self, *args, **kwargs):
        raise RuntimeError("a bug in a component")
"""
CRASH = ("-s", "NEWSWIRE_COORDINATION=crashing.Exploding")


def _crash_here(directory: Path) -> None:
    (directory / "crashing.py").write_text(CRASHING)


def test_a_complete_crawl_exits_0_a_partial_one_1_and_a_crash_70(local_web: LocalWeb, tmp_path: Path):
    base = ("crawl", "--sources", str(local_web.registry), *FAST_CRAWL)
    complete = run_newswire(*base, "--outlet", "Desert Wire", "--db", local_web.db_url)
    assert complete.returncode == 0, complete.stderr  # its sitemap lists an about page: a skip, not an error
    assert "crawl #1 complete" in complete.stdout
    partial = run_newswire(*base, "--db", local_web.db_url)  # a 404 and a malformed feed elsewhere
    assert partial.returncode == 1, partial.stderr
    _crash_here(tmp_path)
    crashed = run_newswire(*base, *CRASH, "--db", f"sqlite:///{tmp_path / 'crash.db'}", cwd=tmp_path)
    assert crashed.returncode == 70, crashed.stderr
    assert "Traceback" in crashed.stderr and "a bug in a component" in crashed.stderr
    assert any(line.startswith("newswire: crashed: a bug, exit 70") for line in crashed.stderr.splitlines())
    assert [run.status for run in crawl_runs(local_web.db_url)] == ["complete", "partial"]


def test_schedule_run_reports_a_crash_returns_70_and_publishes_nothing(local_web: LocalWeb, tmp_path: Path):
    _crash_here(tmp_path)
    feeds = tmp_path / "feeds"
    result = run_newswire(
        "schedule", "run", "--sources", str(local_web.registry), "--db", local_web.db_url, "--max-runs", "1",
        "--feeds-dir", str(feeds), *FAST_CRAWL, *CRASH, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 70, result.stderr
    assert "crawl crashed" in result.stderr and "exit 70" in result.stderr
    assert not feeds.exists()


def _cron_line(web: LocalWeb, workdir: Path, crawl_args: tuple[str, ...]) -> str:
    (entry,) = plan_entries(
        {timedelta(hours=1): []},
        python=sys.executable,
        workdir=workdir,
        db_url=web.db_url,
        sources=web.registry,
        feeds_dir=Path("public"),
        log_file=Path(DEFAULT_LOG),
        crawl_args=list(crawl_args),
    )
    return entry.command


def test_the_cron_line_publishes_after_a_partial_crawl_and_not_after_a_crash(local_web: LocalWeb, tmp_path: Path):
    """The installed line, run as cron runs it: /bin/sh, an empty environment but PATH."""
    cron_env = ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={tmp_path}"]
    crashing, partial = tmp_path / "crashing-dir", tmp_path / "partial-dir"
    for workdir in (crashing, partial):
        workdir.mkdir()
    _crash_here(crashing)
    crashed = subprocess.run([*cron_env, "/bin/sh", "-c", _cron_line(local_web, crashing, (*FAST_CRAWL, *CRASH))])
    assert crashed.returncode != 0
    assert "newswire: crashed" in (crashing / DEFAULT_LOG).read_text()
    assert not (crashing / "public").exists()  # no feeds after a crash
    done = subprocess.run([*cron_env, "/bin/sh", "-c", _cron_line(local_web, partial, FAST_CRAWL)])
    assert done.returncode == 0, (partial / DEFAULT_LOG).read_text()
    assert (partial / "public" / "all.rss").is_file()  # a partial crawl publishes
    assert [run.status for run in crawl_runs(local_web.db_url)] == ["partial"]
